//! What the people pages show: field users with their filters, one field user with their
//! devices and outstanding enrolment codes, web accounts, territories and teams with their reps,
//! devices. Built from [`crate::people`]'s lists (its one implementation of each query); only
//! admins and head office reach these pages, so there is no scope here.

use fieldproof_core::model::Role;

use crate::people::{self, Device, FieldUser, OutstandingCode, PeopleError, Team, Territory, WebAccount};
use crate::store::Store;

/// Active, deactivated or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activity {
    Active,
    Inactive,
    All,
}

impl Activity {
    pub fn as_str(self) -> &'static str {
        match self {
            Activity::Active => "active",
            Activity::Inactive => "inactive",
            Activity::All => "all",
        }
    }
}

/// The people list's filters; empty strings mean "all".
#[derive(Debug, Clone)]
pub struct PeopleFilter {
    pub role: Option<Role>,
    pub territory: String,
    pub team: String,
    pub activity: Activity,
}

/// The field users the filter keeps, and the choices of the filter and the forms.
pub struct PeopleList {
    pub users: Vec<FieldUser>,
    /// Field users in all, before filtering.
    pub total: usize,
    pub territories: Vec<Territory>,
    pub teams: Vec<Team>,
}

pub fn people_list(store: &Store, f: &PeopleFilter) -> Result<PeopleList, PeopleError> {
    let all = people::field_users(store)?;
    let total = all.len();
    let users = all
        .into_iter()
        .filter(|u| f.role.is_none_or(|r| u.role == r))
        .filter(|u| f.territory.is_empty() || u.territory_code.as_deref() == Some(f.territory.as_str()))
        .filter(|u| f.team.is_empty() || u.team_code.as_deref() == Some(f.team.as_str()))
        .filter(|u| match f.activity {
            Activity::Active => u.deactivated_ms.is_none(),
            Activity::Inactive => u.deactivated_ms.is_some(),
            Activity::All => true,
        })
        .collect();
    Ok(PeopleList {
        users,
        total,
        territories: people::territories(store)?,
        teams: people::teams(store)?,
    })
}

/// One field user's page.
pub struct Person {
    pub user: FieldUser,
    pub devices: Vec<Device>,
    pub codes: Vec<OutstandingCode>,
    pub territories: Vec<Territory>,
    pub teams: Vec<Team>,
}

/// `None` when there is no such field user.
pub fn person(store: &Store, id: &str, now_ms: i64) -> Result<Option<Person>, PeopleError> {
    let Some(user) = people::field_user(store, id)? else {
        return Ok(None);
    };
    let devices = people::devices(store)?
        .into_iter()
        .filter(|d| d.user_id == id)
        .collect();
    let codes = people::outstanding_enrol_codes(store, now_ms)?
        .into_iter()
        .filter(|c| c.user_id == id)
        .collect();
    Ok(Some(Person {
        user,
        devices,
        codes,
        territories: people::territories(store)?,
        teams: people::teams(store)?,
    }))
}

/// Web accounts, and the field supervisors a supervisor account may be tied to.
pub struct Accounts {
    pub accounts: Vec<WebAccount>,
    pub supervisors: Vec<FieldUser>,
}

pub fn accounts(store: &Store) -> Result<Accounts, PeopleError> {
    Ok(Accounts {
        accounts: people::web_users(store)?,
        supervisors: supervisors(store)?,
    })
}

/// Active field supervisors (the choices for a team's or a supervisor account's supervisor).
fn supervisors(store: &Store) -> Result<Vec<FieldUser>, PeopleError> {
    Ok(people::field_users(store)?
        .into_iter()
        .filter(|u| u.role == Role::Supervisor && u.deactivated_ms.is_none())
        .collect())
}

/// A team and its active reps.
pub struct TeamWithReps {
    pub team: Team,
    pub reps: Vec<FieldUser>,
}

pub struct Structure {
    pub territories: Vec<Territory>,
    pub teams: Vec<TeamWithReps>,
    pub supervisors: Vec<FieldUser>,
}

pub fn structure(store: &Store) -> Result<Structure, PeopleError> {
    let users = people::field_users(store)?;
    let teams = people::teams(store)?
        .into_iter()
        .map(|team| {
            let reps = users
                .iter()
                .filter(|u| {
                    u.role == Role::Rep
                        && u.deactivated_ms.is_none()
                        && u.supervisor_id.as_deref() == Some(team.supervisor_id.as_str())
                })
                .cloned()
                .collect();
            TeamWithReps { team, reps }
        })
        .collect();
    Ok(Structure {
        territories: people::territories(store)?,
        teams,
        supervisors: users
            .into_iter()
            .filter(|u| u.role == Role::Supervisor && u.deactivated_ms.is_none())
            .collect(),
    })
}

pub fn devices(store: &Store) -> Result<Vec<Device>, PeopleError> {
    people::devices(store)
}

/// One device (for the revoke confirmation); `None` when unknown.
pub fn device(store: &Store, id: &str) -> Result<Option<Device>, PeopleError> {
    Ok(people::devices(store)?.into_iter().find(|d| d.device_id == id))
}
