//! People and structure: field users (reps, supervisors), territories, teams, web users and
//! their roles, enrolment codes (with the QR code a phone scans), devices. The domain under the
//! head-office pages and the import: no HTTP here, every action one transaction, every refusal
//! a [`PeopleError`] with a code and parameters the pages render in the reader's language.
//!
//! Who may do what: admins and head office manage everything here, except that only an admin
//! creates, changes or deactivates an admin account or makes someone admin; a supervisor
//! manages no people (their phone and pages show their team, head office keeps the roster).
//! Nobody deactivates or changes the role of their own account (no locking oneself out).
//!
//! Field users are reference data: a change goes through [`crate::store::write_reference`], the
//! one path `load-reference` and the import take, so phones get it through pull as a `user`
//! change. A rep's team is the team their supervisor leads (`migrations/007_people_and_structure.sql`);
//! moving a rep to a team sets their `supervisor_id`, giving a team another supervisor moves its
//! reps. Territories and team names are head office's: phones carry territory codes.

use crate::db::{Connection, OptionalExtension, TransactionBehavior, params};
use fieldproof_core::model::{ReferenceData, Role, User};
use serde::Serialize;

use crate::store::{AdminError, LoadReport, Store};

/// Whoever acts: a signed-in web user, or the admin CLI ([`Manager::CLI`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Manager<'a> {
    pub id: &'a str,
    pub role: AccountRole,
}

impl Manager<'_> {
    /// The admin CLI: whoever can run it owns the data directory.
    pub const CLI: Manager<'static> = Manager {
        id: "",
        role: AccountRole::Admin,
    };

    fn manages_people(&self) -> Result<(), PeopleError> {
        match self.role {
            AccountRole::Admin | AccountRole::HeadOffice => Ok(()),
            AccountRole::Supervisor => Err(PeopleError::NotAllowed),
        }
    }
}

/// A web user's role (`web_users.role`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountRole {
    Admin,
    HeadOffice,
    Supervisor,
}

impl AccountRole {
    pub fn parse(s: &str) -> Option<AccountRole> {
        match s {
            "admin" => Some(AccountRole::Admin),
            "head_office" => Some(AccountRole::HeadOffice),
            "supervisor" => Some(AccountRole::Supervisor),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AccountRole::Admin => "admin",
            AccountRole::HeadOffice => "head_office",
            AccountRole::Supervisor => "supervisor",
        }
    }
}

/// Why a people action was refused; nothing was changed. [`code`](Self::code) and
/// [`params`](Self::params) are what a page shows (the catalogue's `people_*` messages);
/// `Display` is the English rendering (the CLI's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeopleError {
    NotAllowed,
    /// An id or code: 1 to 64 characters, no spaces or control characters.
    InvalidId {
        value: String,
    },
    /// A name: 1 to 200 characters.
    InvalidName,
    /// Digits, spaces, `+`, `-`, `(`, `)`; at most 32 characters.
    InvalidPhone {
        value: String,
    },
    PasswordTooShort {
        min: usize,
    },
    IdTaken {
        id: String,
    },
    UnknownFieldUser {
        id: String,
    },
    UnknownWebUser {
        id: String,
    },
    UnknownTerritory {
        code: String,
    },
    UnknownTeam {
        code: String,
    },
    UnknownDevice {
        id: String,
    },
    RepNeedsTerritory,
    NotASupervisor {
        id: String,
    },
    /// The supervisor leads `team`: they cannot lead another, nor become a rep.
    LeadsTeam {
        id: String,
        team: String,
    },
    /// Reps still report to this supervisor: move them to another team first.
    HasReps {
        id: String,
        reps: u32,
    },
    Deactivated {
        id: String,
    },
    OwnAccount,
    /// Not an `https://` address (or `http://` to this machine): the phone refuses others.
    BadServerUrl {
        value: String,
    },
    /// A sign-in link lives 1 minute to 24 hours; an enrolment code 1 hour to 30 days.
    BadLifetime,
    /// The core's validation refused the record (its own words, in English).
    Rejected {
        detail: String,
    },
    Storage(String),
}

impl PeopleError {
    pub fn code(&self) -> &'static str {
        match self {
            PeopleError::NotAllowed => "people_not_allowed",
            PeopleError::InvalidId { .. } => "people_invalid_id",
            PeopleError::InvalidName => "people_invalid_name",
            PeopleError::InvalidPhone { .. } => "people_invalid_phone",
            PeopleError::PasswordTooShort { .. } => "people_password_too_short",
            PeopleError::IdTaken { .. } => "people_id_taken",
            PeopleError::UnknownFieldUser { .. } => "people_unknown_field_user",
            PeopleError::UnknownWebUser { .. } => "people_unknown_web_user",
            PeopleError::UnknownTerritory { .. } => "people_unknown_territory",
            PeopleError::UnknownTeam { .. } => "people_unknown_team",
            PeopleError::UnknownDevice { .. } => "people_unknown_device",
            PeopleError::RepNeedsTerritory => "people_rep_needs_territory",
            PeopleError::NotASupervisor { .. } => "people_not_a_supervisor",
            PeopleError::LeadsTeam { .. } => "people_leads_team",
            PeopleError::HasReps { .. } => "people_has_reps",
            PeopleError::Deactivated { .. } => "people_deactivated",
            PeopleError::OwnAccount => "people_own_account",
            PeopleError::BadServerUrl { .. } => "people_bad_server_url",
            PeopleError::BadLifetime => "people_bad_lifetime",
            PeopleError::Rejected { .. } => "people_rejected",
            PeopleError::Storage(_) => "people_storage",
        }
    }

    pub fn params(&self) -> Vec<(&'static str, String)> {
        match self {
            PeopleError::NotAllowed
            | PeopleError::InvalidName
            | PeopleError::RepNeedsTerritory
            | PeopleError::OwnAccount
            | PeopleError::BadLifetime => vec![],
            PeopleError::InvalidId { value }
            | PeopleError::InvalidPhone { value }
            | PeopleError::BadServerUrl { value } => vec![("value", value.clone())],
            PeopleError::PasswordTooShort { min } => vec![("min", min.to_string())],
            PeopleError::IdTaken { id }
            | PeopleError::UnknownFieldUser { id }
            | PeopleError::UnknownWebUser { id }
            | PeopleError::UnknownDevice { id }
            | PeopleError::NotASupervisor { id }
            | PeopleError::Deactivated { id } => vec![("id", id.clone())],
            PeopleError::UnknownTerritory { code } | PeopleError::UnknownTeam { code } => {
                vec![("code", code.clone())]
            }
            PeopleError::LeadsTeam { id, team } => vec![("id", id.clone()), ("team", team.clone())],
            PeopleError::HasReps { id, reps } => vec![("id", id.clone()), ("reps", reps.to_string())],
            PeopleError::Rejected { detail } => vec![("detail", detail.clone())],
            PeopleError::Storage(m) => vec![("detail", m.clone())],
        }
    }
}

impl std::fmt::Display for PeopleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // The operator's log and the CLI want the cause; pages show the code's words only.
            PeopleError::Storage(m) => write!(f, "database: {m}"),
            _ => f.write_str(&crate::i18n::Lang::En.message(self.code(), &self.params())),
        }
    }
}

impl std::error::Error for PeopleError {}

impl From<crate::db::Error> for PeopleError {
    fn from(e: crate::db::Error) -> Self {
        PeopleError::Storage(e.to_string())
    }
}

impl From<crate::error::ApiError> for PeopleError {
    fn from(e: crate::error::ApiError) -> Self {
        PeopleError::Storage(e.to_string())
    }
}

impl From<AdminError> for PeopleError {
    fn from(e: AdminError) -> Self {
        match e {
            AdminError::BadReference(detail) | AdminError::Invalid(detail) => {
                PeopleError::Rejected { detail }
            }
            AdminError::UnknownUser(id) => PeopleError::UnknownFieldUser { id },
            AdminError::UnknownDevice(id) => PeopleError::UnknownDevice { id },
            AdminError::DeactivatedUser(id) => PeopleError::Deactivated { id },
            other => PeopleError::Storage(other.to_string()),
        }
    }
}

// --- checks -----------------------------------------------------------------------------------

const MAX_ID_CHARS: usize = 64;
const MAX_NAME_CHARS: usize = 200;
const MAX_PHONE_CHARS: usize = 32;
pub const MIN_PASSWORD_CHARS: usize = 10;

/// An id or code as typed: trimmed; 1 to 64 characters without spaces or control characters.
pub fn check_id(value: &str) -> Result<String, PeopleError> {
    let v = value.trim();
    if v.is_empty()
        || v.chars().count() > MAX_ID_CHARS
        || v.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(PeopleError::InvalidId { value: v.to_string() });
    }
    Ok(v.to_string())
}

pub fn check_name(value: &str) -> Result<String, PeopleError> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > MAX_NAME_CHARS || v.chars().any(char::is_control) {
        return Err(PeopleError::InvalidName);
    }
    Ok(v.to_string())
}

/// A phone number as people write it (`138 0013 8000`, `+86-21-5555-0100`); blank is none.
pub fn check_phone(value: Option<&str>) -> Result<Option<String>, PeopleError> {
    let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let ok = v.chars().count() <= MAX_PHONE_CHARS
        && v.chars().any(|c| c.is_ascii_digit())
        && v.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c));
    if !ok {
        return Err(PeopleError::InvalidPhone { value: v.to_string() });
    }
    Ok(Some(v.to_string()))
}

// --- what the pages list ----------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Territory {
    pub code: String,
    pub name: String,
    /// Active reps whose territory this is.
    pub reps: u32,
    pub stores: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Team {
    pub code: String,
    pub name: String,
    pub supervisor_id: String,
    pub supervisor_name: String,
    /// Active reps on the team.
    pub reps: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldUser {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub phone: Option<String>,
    pub territory_code: Option<String>,
    pub territory_name: Option<String>,
    /// A rep's team (their supervisor's); a supervisor's own team.
    pub team_code: Option<String>,
    pub team_name: Option<String>,
    pub supervisor_id: Option<String>,
    pub supervisor_name: Option<String>,
    pub deactivated_ms: Option<i64>,
    /// Enrolled devices not revoked.
    pub active_devices: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WebAccount {
    pub id: String,
    pub name: String,
    pub role: AccountRole,
    /// A supervisor account's field supervisor (whose team it sees).
    pub supervisor_id: Option<String>,
    pub created_ms: i64,
    pub deactivated_ms: Option<i64>,
    /// False for an account made with a sign-in link that has not set a password yet.
    pub has_password: bool,
}

/// An enrolment code not yet used nor expired. The code itself is not kept (only its hash):
/// it is shown once, when issued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutstandingCode {
    pub user_id: String,
    pub user_name: String,
    pub created_ms: i64,
    pub expires_ms: i64,
    /// Tells codes apart (technical section only).
    pub code_sha256: String,
}

/// A code just issued, with what the phone scans.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IssuedCode {
    pub user_id: String,
    pub code: String,
    pub expires_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Device {
    pub device_id: String,
    pub user_id: String,
    pub user_name: Option<String>,
    pub enrolled_ms: i64,
    pub last_seen_ms: Option<i64>,
    pub revoked_ms: Option<i64>,
}

pub fn territories(store: &Store) -> Result<Vec<Territory>, PeopleError> {
    let r = store.reader()?;
    let mut st = r.prepare(
        "SELECT t.code, t.name,
                (SELECT count(*) FROM users u WHERE u.territory = t.code AND u.role = 'rep'
                   AND u.deactivated_ms IS NULL),
                (SELECT count(*) FROM stores s WHERE s.territory = t.code)
         FROM territories t ORDER BY t.code",
    )?;
    let rows = st.query_map([], |r| {
        Ok(Territory {
            code: r.get(0)?,
            name: r.get(1)?,
            reps: r.get(2)?,
            stores: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn teams(store: &Store) -> Result<Vec<Team>, PeopleError> {
    let r = store.reader()?;
    let mut st = r.prepare(
        "SELECT t.code, t.name, t.supervisor_id,
                coalesce(json_extract(s.body, '$.name'), t.supervisor_id),
                (SELECT count(*) FROM users u WHERE u.supervisor_id = t.supervisor_id AND u.role = 'rep'
                   AND u.deactivated_ms IS NULL)
         FROM teams t LEFT JOIN users s ON s.id = t.supervisor_id ORDER BY t.code",
    )?;
    let rows = st.query_map([], |r| {
        Ok(Team {
            code: r.get(0)?,
            name: r.get(1)?,
            supervisor_id: r.get(2)?,
            supervisor_name: r.get(3)?,
            reps: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

const FIELD_USER_SELECT: &str = "SELECT u.id, json_extract(u.body, '$.name'), u.role, u.phone, u.territory, t.name,
        tm.code, tm.name, u.supervisor_id, json_extract(s.body, '$.name'), u.deactivated_ms,
        (SELECT count(*) FROM devices d WHERE d.user_id = u.id AND d.revoked_ms IS NULL)
     FROM users u
     LEFT JOIN territories t ON t.code = u.territory
     LEFT JOIN teams tm ON tm.supervisor_id = (CASE u.role WHEN 'supervisor' THEN u.id ELSE u.supervisor_id END)
     LEFT JOIN users s ON s.id = u.supervisor_id";

fn field_user_row(r: &crate::db::Row<'_>) -> crate::db::Result<FieldUser> {
    let role: String = r.get(2)?;
    Ok(FieldUser {
        id: r.get(0)?,
        name: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
        role: if role == "supervisor" {
            Role::Supervisor
        } else {
            Role::Rep
        },
        phone: r.get(3)?,
        territory_code: r.get(4)?,
        territory_name: r.get(5)?,
        team_code: r.get(6)?,
        team_name: r.get(7)?,
        supervisor_id: r.get(8)?,
        supervisor_name: r.get(9)?,
        deactivated_ms: r.get(10)?,
        active_devices: r.get(11)?,
    })
}

/// Every field user, supervisors first, then by id.
pub fn field_users(store: &Store) -> Result<Vec<FieldUser>, PeopleError> {
    let r = store.reader()?;
    let mut st = r.prepare(&format!("{FIELD_USER_SELECT} ORDER BY u.role = 'rep', u.id"))?;
    let rows = st.query_map([], field_user_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn field_user(store: &Store, id: &str) -> Result<Option<FieldUser>, PeopleError> {
    let r = store.reader()?;
    Ok(r.prepare(&format!("{FIELD_USER_SELECT} WHERE u.id = ?1"))?
        .query_row([id], field_user_row)
        .optional()?)
}

pub fn web_users(store: &Store) -> Result<Vec<WebAccount>, PeopleError> {
    let r = store.reader()?;
    let mut st = r.prepare(
        "SELECT id, name, role, supervisor_id, created_ms, deactivated_ms, password_hash <> ?1
         FROM web_users ORDER BY id",
    )?;
    let rows = st.query_map([NO_PASSWORD], |r| {
        let role: String = r.get(2)?;
        Ok(WebAccount {
            id: r.get(0)?,
            name: r.get(1)?,
            // The table's CHECK allows only these three.
            role: AccountRole::parse(&role).unwrap_or(AccountRole::Supervisor),
            supervisor_id: r.get(3)?,
            created_ms: r.get(4)?,
            deactivated_ms: r.get(5)?,
            has_password: r.get(6)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Codes issued and neither used nor expired at `now_ms`, soonest to expire first.
pub fn outstanding_enrol_codes(store: &Store, now_ms: i64) -> Result<Vec<OutstandingCode>, PeopleError> {
    let r = store.reader()?;
    let mut st = r.prepare(
        "SELECT c.user_id, coalesce(json_extract(u.body, '$.name'), c.user_id), c.created_ms, c.expires_ms,
                c.code_sha256
         FROM enrol_codes c LEFT JOIN users u ON u.id = c.user_id
         WHERE c.used_ms IS NULL AND c.expires_ms > ?1 ORDER BY c.expires_ms, c.user_id",
    )?;
    let rows = st.query_map([now_ms], |r| {
        Ok(OutstandingCode {
            user_id: r.get(0)?,
            user_name: r.get(1)?,
            created_ms: r.get(2)?,
            expires_ms: r.get(3)?,
            code_sha256: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Every device, the most recently seen first.
pub fn devices(store: &Store) -> Result<Vec<Device>, PeopleError> {
    let r = store.reader()?;
    let mut st = r.prepare(
        "SELECT d.device_id, d.user_id, json_extract(u.body, '$.name'), d.enrolled_ms, d.last_seen_ms, d.revoked_ms
         FROM devices d LEFT JOIN users u ON u.id = d.user_id
         ORDER BY d.revoked_ms IS NOT NULL, coalesce(d.last_seen_ms, d.enrolled_ms) DESC, d.device_id",
    )?;
    let rows = st.query_map([], |r| {
        Ok(Device {
            device_id: r.get(0)?,
            user_id: r.get(1)?,
            user_name: r.get(2)?,
            enrolled_ms: r.get(3)?,
            last_seen_ms: r.get(4)?,
            revoked_ms: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

// --- structure changes, in one transaction with the reference data ----------------------------

/// Territories, teams and field users' server-only fields to write along with reference data.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct StructureChange {
    /// (code, name): created or renamed.
    pub territories: Vec<(String, String)>,
    /// (code, name, supervisor id): created, renamed or given a supervisor.
    pub teams: Vec<(String, String, String)>,
    /// (user id, phone).
    pub phones: Vec<(String, Option<String>)>,
}

/// Validate `data` as the core does, then write the structure and the data in one transaction
/// (the data through [`crate::store::write_reference`]: change-feed rows for phones).
pub(crate) fn apply(
    store: &Store,
    change: &StructureChange,
    data: &ReferenceData,
    now_ms: i64,
) -> Result<LoadReport, AdminError> {
    // The core's validation loads everything the server holds: only when there is a record
    // to check (a territory's rename has none).
    let empty = data.users.is_empty()
        && data.stores.is_empty()
        && data.products.is_empty()
        && data.templates.is_empty()
        && data.plans.is_empty();
    if !empty {
        store.validate_reference(data)?;
    }
    let mut w = store.writer();
    let tx = w.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    write_structure(&tx, change, now_ms)?;
    let report = crate::store::write_reference(&tx, data, now_ms)?;
    for (id, phone) in &change.phones {
        tx.execute("UPDATE users SET phone = ?2 WHERE id = ?1", params![id, phone])?;
    }
    tx.commit()?;
    Ok(report)
}

fn write_structure(tx: &Connection, change: &StructureChange, now_ms: i64) -> crate::db::Result<()> {
    for (code, name) in &change.territories {
        tx.execute(
            "INSERT INTO territories (code, name, created_ms, updated_ms) VALUES (?1, ?2, ?3, ?3)
             ON CONFLICT (code) DO UPDATE SET name = excluded.name, updated_ms = excluded.updated_ms
             WHERE territories.name <> excluded.name",
            params![code, name, now_ms],
        )?;
    }
    for (code, name, supervisor) in &change.teams {
        // A supervisor leads one team: the team named here takes them from any other (whose
        // row goes; `ensure_for_users` would otherwise keep giving them one back).
        tx.execute(
            "DELETE FROM teams WHERE supervisor_id = ?1 AND code <> ?2",
            params![supervisor, code],
        )?;
        tx.execute(
            "INSERT INTO teams (code, name, supervisor_id, created_ms, updated_ms) VALUES (?1, ?2, ?3, ?4, ?4)
             ON CONFLICT (code) DO UPDATE SET name = excluded.name, supervisor_id = excluded.supervisor_id,
               updated_ms = excluded.updated_ms",
            params![code, name, supervisor, now_ms],
        )?;
    }
    Ok(())
}

/// What a refusal of [`apply`] means for a person.
fn applied(r: Result<LoadReport, AdminError>) -> Result<LoadReport, PeopleError> {
    r.map_err(PeopleError::from)
}

struct UserRow {
    user: User,
    deactivated: bool,
}

fn stored_user(c: &Connection, id: &str) -> Result<Option<UserRow>, PeopleError> {
    let row: Option<(String, Option<i64>)> = c
        .prepare_cached("SELECT body, deactivated_ms FROM users WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((body, deactivated)) = row else {
        return Ok(None);
    };
    let user: User = serde_json::from_str(&body)
        .map_err(|e| PeopleError::Storage(format!("stored user {id:?} does not parse: {e}")))?;
    Ok(Some(UserRow {
        user,
        deactivated: deactivated.is_some(),
    }))
}

/// The team's supervisor, or `UnknownTeam`.
fn team_supervisor(c: &Connection, code: &str) -> Result<String, PeopleError> {
    c.prepare_cached("SELECT supervisor_id FROM teams WHERE code = ?1")?
        .query_row([code], |r| r.get(0))
        .optional()?
        .ok_or_else(|| PeopleError::UnknownTeam {
            code: code.to_string(),
        })
}

fn team_of(c: &Connection, supervisor: &str) -> Result<Option<String>, PeopleError> {
    Ok(
        c.prepare_cached("SELECT code FROM teams WHERE supervisor_id = ?1")?
            .query_row([supervisor], |r| r.get(0))
            .optional()?,
    )
}

fn territory_known(c: &Connection, code: &str) -> Result<bool, PeopleError> {
    Ok(c.prepare_cached("SELECT 1 FROM territories WHERE code = ?1")?
        .query_row([code], |_| Ok(()))
        .optional()?
        .is_some())
}

fn active_reps_of(c: &Connection, supervisor: &str) -> Result<u32, PeopleError> {
    Ok(c.query_row(
        "SELECT count(*) FROM users WHERE supervisor_id = ?1 AND deactivated_ms IS NULL",
        [supervisor],
        |r| r.get(0),
    )?)
}

// --- territories and teams --------------------------------------------------------------------

/// Create a territory, or rename one. Phones carry only the code: a rename sends them nothing.
pub fn save_territory(
    store: &Store,
    by: Manager<'_>,
    code: &str,
    name: &str,
    now_ms: i64,
) -> Result<(), PeopleError> {
    by.manages_people()?;
    let change = StructureChange {
        territories: vec![(check_id(code)?, check_name(name)?)],
        ..StructureChange::default()
    };
    applied(apply(store, &change, &ReferenceData::default(), now_ms))?;
    Ok(())
}

/// What a team should be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamInput {
    pub code: String,
    pub name: String,
    pub supervisor_id: String,
}

/// Create a team, rename it or give it another supervisor. With another supervisor the reps
/// move along (their `supervisor_id` changes: `user` changes in the feed). The supervisor
/// leaves any team they led: a new team code recodes their team (their reps come along); a
/// team with another supervisor's reps is refused while the supervisor's own team has reps
/// (that would merge two teams).
pub fn save_team(
    store: &Store,
    by: Manager<'_>,
    input: &TeamInput,
    now_ms: i64,
) -> Result<LoadReport, PeopleError> {
    by.manages_people()?;
    let code = check_id(&input.code)?;
    let name = check_name(&input.name)?;
    let supervisor = check_id(&input.supervisor_id)?;
    let mut data = ReferenceData::default();
    {
        let r = store.reader()?;
        match stored_user(&r, &supervisor)? {
            None => return Err(PeopleError::UnknownFieldUser { id: supervisor }),
            Some(u) if u.user.role != Role::Supervisor => {
                return Err(PeopleError::NotASupervisor { id: supervisor });
            }
            Some(u) if u.deactivated => return Err(PeopleError::Deactivated { id: supervisor }),
            Some(_) => {}
        }
        let previous: Option<String> = r
            .query_row("SELECT supervisor_id FROM teams WHERE code = ?1", [&code], |r| {
                r.get(0)
            })
            .optional()?;
        // A supervisor leads one team and their reps come with them: named on a new team code
        // their team is recoded; named on a team that has another supervisor's reps, the two
        // teams would merge, which is refused while the supervisor's own team has reps.
        if let Some(led) = team_of(&r, &supervisor)?
            && led != code
            && previous.as_ref().is_some_and(|p| *p != supervisor)
            && active_reps_of(&r, &supervisor)? > 0
        {
            return Err(PeopleError::LeadsTeam {
                id: supervisor,
                team: led,
            });
        }
        if let Some(previous) = previous.filter(|p| *p != supervisor) {
            let mut st = r.prepare("SELECT body FROM users WHERE supervisor_id = ?1 ORDER BY id")?;
            let rows = st.query_map([&previous], |r| r.get::<_, String>(0))?;
            for body in rows {
                let mut u: User =
                    serde_json::from_str(&body?).map_err(|e| PeopleError::Storage(e.to_string()))?;
                u.supervisor_id = Some(supervisor.clone());
                data.users.push(u);
            }
        }
    }
    let change = StructureChange {
        teams: vec![(code, name, supervisor)],
        ..StructureChange::default()
    };
    applied(apply(store, &change, &data, now_ms))
}

// --- field users ------------------------------------------------------------------------------

/// What a field user should be. `team` is a rep's team (a supervisor leads theirs: see
/// [`save_team`]); `territory` is required for a rep, optional for a supervisor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldUserInput {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub phone: Option<String>,
    pub territory: Option<String>,
    pub team: Option<String>,
}

/// Create a rep or a supervisor. A new supervisor leads a new team coded by their id.
pub fn create_field_user(
    store: &Store,
    by: Manager<'_>,
    input: &FieldUserInput,
    now_ms: i64,
) -> Result<LoadReport, PeopleError> {
    put_field_user(store, by, input, true, now_ms)
}

/// Change a field user's name, phone, role, territory or team.
pub fn update_field_user(
    store: &Store,
    by: Manager<'_>,
    input: &FieldUserInput,
    now_ms: i64,
) -> Result<LoadReport, PeopleError> {
    put_field_user(store, by, input, false, now_ms)
}

fn put_field_user(
    store: &Store,
    by: Manager<'_>,
    input: &FieldUserInput,
    create: bool,
    now_ms: i64,
) -> Result<LoadReport, PeopleError> {
    by.manages_people()?;
    let id = check_id(&input.id)?;
    let name = check_name(&input.name)?;
    let phone = check_phone(input.phone.as_deref())?;
    let territory = input
        .territory
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(check_id)
        .transpose()?;
    let team = input
        .team
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(check_id)
        .transpose()?;
    let user = {
        let r = store.reader()?;
        let existing = stored_user(&r, &id)?;
        match (&existing, create) {
            (Some(_), true) => return Err(PeopleError::IdTaken { id }),
            (None, false) => return Err(PeopleError::UnknownFieldUser { id }),
            (Some(u), false) if u.deactivated => return Err(PeopleError::Deactivated { id }),
            _ => {}
        }
        if let Some(t) = &territory
            && !territory_known(&r, t)?
        {
            return Err(PeopleError::UnknownTerritory { code: t.clone() });
        }
        let supervisor_id = match (input.role, &team) {
            (Role::Rep, Some(team)) => {
                let sup = team_supervisor(&r, team)?;
                if stored_user(&r, &sup)?.is_some_and(|s| s.deactivated) {
                    return Err(PeopleError::Deactivated { id: sup });
                }
                Some(sup)
            }
            (Role::Rep, None) => None,
            // A supervisor reports to nobody here; their own team is theirs.
            (Role::Supervisor, _) => None,
        };
        if input.role == Role::Rep {
            if territory.is_none() {
                return Err(PeopleError::RepNeedsTerritory);
            }
            // A supervisor becoming a rep leaves their team without a leader: refused while
            // they lead one.
            if existing.as_ref().is_some_and(|u| u.user.role == Role::Supervisor)
                && let Some(led) = team_of(&r, &id)?
            {
                return Err(PeopleError::LeadsTeam { id, team: led });
            }
        }
        User {
            id: id.clone(),
            name,
            role: input.role,
            territory,
            supervisor_id,
        }
    };
    let change = StructureChange {
        phones: vec![(id, phone)],
        ..StructureChange::default()
    };
    let data = ReferenceData {
        users: vec![user],
        ..ReferenceData::default()
    };
    applied(apply(store, &change, &data, now_ms))
}

/// Deactivate a field user: their devices are revoked and their unused enrolment codes
/// expire, in one transaction. The record stays (visits name it). A supervisor with active
/// reps is refused: move the reps to another team first.
pub fn deactivate_field_user(
    store: &Store,
    by: Manager<'_>,
    id: &str,
    now_ms: i64,
) -> Result<(), PeopleError> {
    by.manages_people()?;
    let mut w = store.writer();
    let tx = w.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let Some(u) = stored_user(&tx, id)? else {
        return Err(PeopleError::UnknownFieldUser { id: id.to_string() });
    };
    if u.deactivated {
        return Ok(());
    }
    if u.user.role == Role::Supervisor {
        let reps = active_reps_of(&tx, id)?;
        if reps > 0 {
            return Err(PeopleError::HasReps {
                id: id.to_string(),
                reps,
            });
        }
    }
    tx.execute(
        "UPDATE users SET deactivated_ms = ?2 WHERE id = ?1",
        params![id, now_ms],
    )?;
    let devices: Vec<String> = {
        let mut st = tx.prepare("SELECT device_id FROM devices WHERE user_id = ?1 AND revoked_ms IS NULL")?;
        st.query_map([id], |r| r.get(0))?.collect::<Result<_, _>>()?
    };
    for d in &devices {
        crate::store::revoke(&tx, d, now_ms)?;
    }
    tx.execute(
        "UPDATE enrol_codes SET expires_ms = ?2 WHERE user_id = ?1 AND used_ms IS NULL AND expires_ms > ?2",
        params![id, now_ms],
    )?;
    tx.commit()?;
    tracing::info!(devices = devices.len(), "field user deactivated");
    Ok(())
}

/// Make a deactivated field user active again. Their old devices stay revoked: the phone
/// enrols again with a new code.
pub fn reactivate_field_user(store: &Store, by: Manager<'_>, id: &str) -> Result<(), PeopleError> {
    by.manages_people()?;
    let w = store.writer();
    let n = w
        .conn
        .execute("UPDATE users SET deactivated_ms = NULL WHERE id = ?1", [id])?;
    if n == 0 {
        return Err(PeopleError::UnknownFieldUser { id: id.to_string() });
    }
    Ok(())
}

// --- web users --------------------------------------------------------------------------------

/// How a new web user signs in the first time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FirstSignIn {
    Password(String),
    /// A one-time sign-in link valid this long (1 minute to 24 hours); the account has no
    /// password until it sets one.
    Link {
        ttl_ms: i64,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebUserInput {
    pub id: String,
    pub name: String,
    pub role: AccountRole,
    /// For a supervisor account: the field supervisor whose team it sees.
    pub supervisor_id: Option<String>,
}

/// A password hash no password matches: an account without a password (yet, or any more).
const NO_PASSWORD: &str = "!";

/// The longest a sign-in link lives.
pub const MAX_SIGN_IN_LINK_TTL_MS: i64 = 24 * 3_600_000;

fn check_account(
    c: &Connection,
    by: Manager<'_>,
    input: &WebUserInput,
) -> Result<(String, String, Option<String>), PeopleError> {
    by.manages_people()?;
    if input.role == AccountRole::Admin && by.role != AccountRole::Admin {
        return Err(PeopleError::NotAllowed);
    }
    let id = check_id(&input.id)?;
    let name = check_name(&input.name)?;
    let sup = match input.role {
        AccountRole::Supervisor => {
            let sup = check_id(input.supervisor_id.as_deref().unwrap_or(&id))?;
            match stored_user(c, &sup)? {
                None => return Err(PeopleError::UnknownFieldUser { id: sup }),
                Some(u) if u.user.role != Role::Supervisor => {
                    return Err(PeopleError::NotASupervisor { id: sup });
                }
                Some(_) => Some(sup),
            }
        }
        _ => None,
    };
    Ok((id, name, sup))
}

/// Create a web user, or with `replace` (the CLI's `create-user`) replace the name, role and
/// password of an existing one and end its sessions. With [`FirstSignIn::Link`] returns the
/// link's path (`/app/login/link?token=...`), shown once.
pub fn create_web_user(
    store: &Store,
    by: Manager<'_>,
    input: &WebUserInput,
    first: &FirstSignIn,
    replace: bool,
    now_ms: i64,
) -> Result<Option<String>, PeopleError> {
    let hash = match first {
        FirstSignIn::Password(p) => {
            if p.chars().count() < MIN_PASSWORD_CHARS {
                return Err(PeopleError::PasswordTooShort {
                    min: MIN_PASSWORD_CHARS,
                });
            }
            // Argon2 (~40 ms) before the write lock is taken.
            crate::password::hash_password(p).map_err(PeopleError::Storage)?
        }
        FirstSignIn::Link { ttl_ms } => {
            if !(60_000..=MAX_SIGN_IN_LINK_TTL_MS).contains(ttl_ms) {
                return Err(PeopleError::BadLifetime);
            }
            NO_PASSWORD.to_string()
        }
    };
    let token = match first {
        FirstSignIn::Link { .. } => Some(random_token()?),
        FirstSignIn::Password(_) => None,
    };
    let mut w = store.writer();
    let tx = w.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let (id, name, sup) = check_account(&tx, by, input)?;
    let existing: Option<String> = tx
        .query_row("SELECT role FROM web_users WHERE id = ?1", [&id], |r| r.get(0))
        .optional()?;
    if let Some(role) = existing {
        if !replace {
            return Err(PeopleError::IdTaken { id });
        }
        if role == "admin" && by.role != AccountRole::Admin {
            return Err(PeopleError::NotAllowed);
        }
    }
    tx.execute(
        "INSERT INTO web_users (id, name, role, supervisor_id, password_hash, created_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (id) DO UPDATE SET name = ?2, role = ?3, supervisor_id = ?4, password_hash = ?5,
           deactivated_ms = NULL",
        params![id, name, input.role.as_str(), sup, hash, now_ms],
    )?;
    tx.execute("DELETE FROM web_sessions WHERE user_id = ?1", [&id])?;
    let link = match (first, token) {
        (FirstSignIn::Link { ttl_ms }, Some(token)) => {
            Some(insert_sign_in_link(&tx, &id, &token, *ttl_ms, now_ms)?)
        }
        _ => None,
    };
    tx.commit()?;
    tracing::info!(role = input.role.as_str(), "web user saved");
    Ok(link)
}

/// Change a web user's role (and, for a supervisor account, whose team it sees). Their
/// sessions end: the next page they open asks them to sign in with the new role.
pub fn change_web_role(
    store: &Store,
    by: Manager<'_>,
    id: &str,
    role: AccountRole,
    supervisor_id: Option<&str>,
) -> Result<(), PeopleError> {
    if by.id == id {
        return Err(PeopleError::OwnAccount);
    }
    let mut w = store.writer();
    let tx = w.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let found: Option<(String, String)> = tx
        .query_row("SELECT name, role FROM web_users WHERE id = ?1", [id], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    let Some((name, old_role)) = found else {
        return Err(PeopleError::UnknownWebUser { id: id.to_string() });
    };
    if old_role == "admin" && by.role != AccountRole::Admin {
        return Err(PeopleError::NotAllowed);
    }
    let input = WebUserInput {
        id: id.to_string(),
        name,
        role,
        supervisor_id: supervisor_id.map(str::to_string),
    };
    let (_, _, sup) = check_account(&tx, by, &input)?;
    tx.execute(
        "UPDATE web_users SET role = ?2, supervisor_id = ?3 WHERE id = ?1",
        params![id, role.as_str(), sup],
    )?;
    tx.execute("DELETE FROM web_sessions WHERE user_id = ?1", [id])?;
    tx.commit()?;
    Ok(())
}

/// Set a web user's password: their own (after signing in with a link), or anyone's but an
/// admin's by head office (an admin's by an admin). Their other sessions end.
pub fn set_password(
    store: &Store,
    by: Manager<'_>,
    id: &str,
    password: &str,
    keep_session: Option<&str>,
) -> Result<(), PeopleError> {
    if by.id != id {
        by.manages_people()?;
    }
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(PeopleError::PasswordTooShort {
            min: MIN_PASSWORD_CHARS,
        });
    }
    let hash = crate::password::hash_password(password).map_err(PeopleError::Storage)?;
    let mut w = store.writer();
    let tx = w.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let found: Option<(String, Option<i64>)> = tx
        .query_row(
            "SELECT role, deactivated_ms FROM web_users WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    match found {
        None => return Err(PeopleError::UnknownWebUser { id: id.to_string() }),
        Some((_, Some(_))) => return Err(PeopleError::Deactivated { id: id.to_string() }),
        Some((role, None)) if role == "admin" && by.id != id && by.role != AccountRole::Admin => {
            return Err(PeopleError::NotAllowed);
        }
        Some(_) => {}
    }
    tx.execute(
        "UPDATE web_users SET password_hash = ?2 WHERE id = ?1",
        params![id, hash],
    )?;
    // `keep_session`: the SHA-256 of the session that made the change stays signed in.
    tx.execute(
        "DELETE FROM web_sessions WHERE user_id = ?1 AND token_sha256 IS DISTINCT FROM ?2",
        params![id, keep_session],
    )?;
    tx.commit()?;
    Ok(())
}

/// Deactivate a web user: sessions and sign-in links end, the password stops working. Signing
/// in again takes a new account setup ([`create_web_user`] with `replace`).
pub fn deactivate_web_user(store: &Store, by: Manager<'_>, id: &str, now_ms: i64) -> Result<(), PeopleError> {
    by.manages_people()?;
    if by.id == id {
        return Err(PeopleError::OwnAccount);
    }
    let mut w = store.writer();
    let tx = w.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let role: Option<String> = tx
        .query_row("SELECT role FROM web_users WHERE id = ?1", [id], |r| r.get(0))
        .optional()?;
    match role.as_deref() {
        None => return Err(PeopleError::UnknownWebUser { id: id.to_string() }),
        Some("admin") if by.role != AccountRole::Admin => return Err(PeopleError::NotAllowed),
        Some(_) => {}
    }
    tx.execute(
        "UPDATE web_users SET deactivated_ms = coalesce(deactivated_ms, ?2), password_hash = ?3 WHERE id = ?1",
        params![id, now_ms, NO_PASSWORD],
    )?;
    tx.execute("DELETE FROM web_sessions WHERE user_id = ?1", [id])?;
    tx.execute("DELETE FROM web_sign_in_links WHERE user_id = ?1", [id])?;
    tx.commit()?;
    Ok(())
}

/// A one-time sign-in link's path for an active web user (`admin sign-in-link`, the people
/// pages). Only the token's SHA-256 is stored.
pub fn issue_sign_in_link(
    store: &Store,
    by: Manager<'_>,
    id: &str,
    ttl_ms: i64,
    now_ms: i64,
) -> Result<String, PeopleError> {
    by.manages_people()?;
    if !(60_000..=MAX_SIGN_IN_LINK_TTL_MS).contains(&ttl_ms) {
        return Err(PeopleError::BadLifetime);
    }
    let token = random_token()?;
    let mut w = store.writer();
    let tx = w.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let found: Option<(String, Option<i64>)> = tx
        .query_row(
            "SELECT role, deactivated_ms FROM web_users WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    match found {
        None => return Err(PeopleError::UnknownWebUser { id: id.to_string() }),
        Some((_, Some(_))) => return Err(PeopleError::Deactivated { id: id.to_string() }),
        Some((role, None)) if role == "admin" && by.role != AccountRole::Admin => {
            return Err(PeopleError::NotAllowed);
        }
        Some(_) => {}
    }
    let link = insert_sign_in_link(&tx, id, &token, ttl_ms, now_ms)?;
    tx.commit()?;
    Ok(link)
}

fn random_token() -> Result<String, PeopleError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| PeopleError::Storage(format!("random: {e}")))?;
    Ok(fieldproof_core::hex::encode(&bytes))
}

fn insert_sign_in_link(
    tx: &Connection,
    id: &str,
    token: &str,
    ttl_ms: i64,
    now_ms: i64,
) -> crate::db::Result<String> {
    tx.execute("DELETE FROM web_sign_in_links WHERE expires_ms <= ?1", [now_ms])?;
    tx.execute(
        "INSERT INTO web_sign_in_links (token_sha256, user_id, created_ms, expires_ms) VALUES (?1, ?2, ?3, ?4)",
        params![
            fieldproof_core::evidence::sha256_hex(token.as_bytes()),
            id,
            now_ms,
            now_ms.saturating_add(ttl_ms)
        ],
    )?;
    Ok(format!("/app/login/link?token={token}"))
}

// --- enrolment codes and devices --------------------------------------------------------------

/// An enrolment code lives 1 hour to 30 days.
const ENROL_CODE_TTL_MS: std::ops::RangeInclusive<i64> = 3_600_000..=30 * 24 * 3_600_000;

/// Issue a one-time enrolment code for an active field user ([`Store::issue_enrol_code`]).
pub fn issue_enrol_code(
    store: &Store,
    by: Manager<'_>,
    user_id: &str,
    ttl_ms: i64,
    now_ms: i64,
) -> Result<IssuedCode, PeopleError> {
    by.manages_people()?;
    if !ENROL_CODE_TTL_MS.contains(&ttl_ms) {
        return Err(PeopleError::BadLifetime);
    }
    let code = store.issue_enrol_code(user_id, ttl_ms, now_ms)?;
    Ok(IssuedCode {
        user_id: user_id.to_string(),
        code,
        expires_ms: now_ms.saturating_add(ttl_ms),
    })
}

/// What the phone scans to enrol: `fieldproof://enrol?server=<URL>&code=<CODE>`, the server's
/// address and the code percent-encoded (docs/sync-protocol.md, "Enrolment by QR code"). The
/// app passes both to `Core::enrol(server_url, code)`; a system camera opens the app by the
/// scheme. The server URL is checked as the phone checks it: `https://`, or `http://` only to
/// this machine (a developer's server).
pub fn enrol_payload(server_url: &str, code: &str) -> Result<String, PeopleError> {
    let url = server_url.trim().trim_end_matches('/');
    let bad = || PeopleError::BadServerUrl {
        value: url.to_string(),
    };
    let rest = if let Some(rest) = url.strip_prefix("https://") {
        rest
    } else if let Some(rest) = url.strip_prefix("http://") {
        let host = rest.split(['/', '?', '#']).next().unwrap_or("");
        let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
        let bare = match host.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or(""),
            None => host.split(':').next().unwrap_or(""),
        };
        let loopback = bare.eq_ignore_ascii_case("localhost")
            || bare.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
        if !loopback {
            return Err(bad());
        }
        rest
    } else {
        return Err(bad());
    };
    if rest.is_empty()
        || rest.contains(['?', '#', '@'])
        || url.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(bad());
    }
    let code = code.trim();
    Ok(format!(
        "fieldproof://enrol?server={}&code={}",
        crate::url_text::url_enc(url),
        crate::url_text::url_enc(code)
    ))
}

/// [`enrol_payload`] as an SVG QR code (medium error correction: readable off a phone screen
/// held to another phone's camera, or printed): one `<svg>` element, without an XML
/// declaration, to put inline in a page. Sized by its `viewBox`; a page sets the width.
pub fn enrol_qr_svg(server_url: &str, code: &str) -> Result<String, PeopleError> {
    let payload = enrol_payload(server_url, code)?;
    let qr = qrcode::QrCode::with_error_correction_level(payload.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| PeopleError::Storage(format!("QR code: {e}")))?;
    let svg = qr
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    Ok(match svg.find("<svg") {
        Some(at) => svg[at..].to_string(),
        None => svg,
    })
}

/// Revoke a device ([`Store::revoke_device`]).
pub fn revoke_device(
    store: &Store,
    by: Manager<'_>,
    device_id: &str,
    now_ms: i64,
) -> Result<(), PeopleError> {
    by.manages_people()?;
    Ok(store.revoke_device(device_id, now_ms)?)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn payload_carries_server_and_code_and_refuses_what_a_phone_refuses() {
        assert_eq!(
            enrol_payload("https://hq.example.com/", "ABCD-EFGH-JKMN").unwrap(),
            "fieldproof://enrol?server=https%3A%2F%2Fhq.example.com&code=ABCD-EFGH-JKMN"
        );
        assert!(enrol_payload("http://127.0.0.1:8787", "X").is_ok());
        assert!(enrol_payload("http://localhost:8787", "X").is_ok());
        assert!(enrol_payload("http://[::1]:8787", "X").is_ok());
        for bad in [
            "http://hq.example.com",
            "ftp://x",
            "https://",
            "https://a?b",
            "https://u@h",
            "hq.example.com",
            "http://127.0.0.1.evil.com",
        ] {
            assert!(
                matches!(enrol_payload(bad, "X"), Err(PeopleError::BadServerUrl { .. })),
                "{bad}"
            );
        }
        let svg = enrol_qr_svg("https://hq.example.com", "ABCD-EFGH-JKMN").unwrap();
        assert!(
            svg.starts_with("<svg") && svg.contains("<path") && svg.ends_with("</svg>"),
            "{svg}"
        );
    }

    #[test]
    fn every_refusal_has_words_with_every_parameter_in_both_languages() {
        use crate::i18n::{Lang, MESSAGES};
        let id = || "rep-li".to_string();
        let all = [
            PeopleError::NotAllowed,
            PeopleError::InvalidId { value: "a b".into() },
            PeopleError::InvalidName,
            PeopleError::InvalidPhone { value: "x".into() },
            PeopleError::PasswordTooShort { min: 10 },
            PeopleError::IdTaken { id: id() },
            PeopleError::UnknownFieldUser { id: id() },
            PeopleError::UnknownWebUser { id: id() },
            PeopleError::UnknownTerritory { code: "mars".into() },
            PeopleError::UnknownTeam { code: "t9".into() },
            PeopleError::UnknownDevice { id: id() },
            PeopleError::RepNeedsTerritory,
            PeopleError::NotASupervisor { id: id() },
            PeopleError::LeadsTeam {
                id: id(),
                team: "t1".into(),
            },
            PeopleError::HasReps { id: id(), reps: 3 },
            PeopleError::Deactivated { id: id() },
            PeopleError::OwnAccount,
            PeopleError::BadServerUrl {
                value: "ftp://x".into(),
            },
            PeopleError::BadLifetime,
            PeopleError::Rejected {
                detail: "users[0]: bad".into(),
            },
        ];
        for e in all {
            assert!(
                MESSAGES.iter().any(|(k, _, _)| *k == e.code()),
                "{} has no words",
                e.code()
            );
            for lang in [Lang::En, Lang::Zh] {
                let text = lang.message(e.code(), &e.params());
                assert!(!text.contains('{'), "{text}");
                for (_, v) in e.params() {
                    assert!(text.contains(&v), "{} {lang:?}: {v} missing in {text}", e.code());
                }
            }
        }
        assert!(MESSAGES.iter().any(|(k, _, _)| *k == "people_storage"));
    }

    #[test]
    fn ids_names_and_phones_are_checked_as_typed() {
        assert_eq!(check_id("  rep-li ").unwrap(), "rep-li");
        assert!(check_id("").is_err() && check_id("a b").is_err() && check_id(&"x".repeat(65)).is_err());
        assert_eq!(check_id("华东一区").unwrap(), "华东一区");
        assert!(check_name(" ").is_err());
        assert_eq!(
            check_phone(Some(" +86 138-0013-8000 ")).unwrap().as_deref(),
            Some("+86 138-0013-8000")
        );
        assert_eq!(check_phone(Some("  ")).unwrap(), None);
        assert!(check_phone(Some("call me")).is_err());
    }
}
