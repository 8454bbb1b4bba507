//! The exception queue head office and supervisors work: what it lists (filtered, searched,
//! sorted, paged, with totals) and what people do with it (assign, resolve, dismiss, reopen,
//! several at once), each change kept in the exception's history.
//!
//! States: `open` → `assigned` (to a web user) → `resolved` or `dismissed` ("closed"), and
//! `reopen` back. Resolved means the cause was dealt with; dismissed means it was looked at and
//! needs nothing (a false alarm). The server itself resolves findings whose cause went away
//! (`store::resolve`). See `migrations/006_visit_day_and_workflow.sql`.
//!
//! Everything is scoped like the pages: a supervisor lists and changes only their team's
//! exceptions. A batch is one transaction and all or nothing: if any id is outside the actor's
//! scope, unknown, or in a state the action does not apply to, nothing changes and the error
//! names the ids.
//!
//! Below the web layer: the pages turn a [`QueueFilter`] (an axum `Query`) and a form into
//! calls here, and render the named results and [`QueueError::code`] in the reader's language.

use crate::db::types::Value;
use crate::db::{Connection, OptionalExtension, TransactionBehavior, params, params_from_iter};
use serde::{Deserialize, Deserializer, Serialize};

use crate::calendar::{day_string, parse_day};
use crate::scope::scope_sql;
use crate::store::{Store, record_history};

/// Rows per page unless the filter asks for another size.
pub const DEFAULT_PAGE_SIZE: u32 = 50;
pub const MAX_PAGE_SIZE: u32 = 200;
/// Exceptions one bulk action may change.
pub const MAX_BATCH: usize = 500;
pub const MAX_COMMENT_CHARS: usize = 2000;
pub const MAX_SEARCH_CHARS: usize = 100;

/// Where an exception is in its workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Open,
    Assigned,
    Resolved,
    Dismissed,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Open,
        Status::Assigned,
        Status::Resolved,
        Status::Dismissed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Assigned => "assigned",
            Status::Resolved => "resolved",
            Status::Dismissed => "dismissed",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Resolved or dismissed: nobody needs to act on it.
    pub fn is_closed(self) -> bool {
        matches!(self, Status::Resolved | Status::Dismissed)
    }
}

/// Which states a listing shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusFilter {
    /// Open or assigned: what still needs someone.
    #[default]
    Active,
    Open,
    Assigned,
    Resolved,
    Dismissed,
    /// Resolved or dismissed.
    Closed,
    All,
}

impl StatusFilter {
    pub const ALL: [StatusFilter; 7] = [
        StatusFilter::Active,
        StatusFilter::Open,
        StatusFilter::Assigned,
        StatusFilter::Resolved,
        StatusFilter::Dismissed,
        StatusFilter::Closed,
        StatusFilter::All,
    ];

    /// As the query string spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            StatusFilter::Active => "active",
            StatusFilter::Open => "open",
            StatusFilter::Assigned => "assigned",
            StatusFilter::Resolved => "resolved",
            StatusFilter::Dismissed => "dismissed",
            StatusFilter::Closed => "closed",
            StatusFilter::All => "all",
        }
    }

    pub fn statuses(self) -> &'static [Status] {
        match self {
            StatusFilter::Active => &[Status::Open, Status::Assigned],
            StatusFilter::Open => &[Status::Open],
            StatusFilter::Assigned => &[Status::Assigned],
            StatusFilter::Resolved => &[Status::Resolved],
            StatusFilter::Dismissed => &[Status::Dismissed],
            StatusFilter::Closed => &[Status::Resolved, Status::Dismissed],
            StatusFilter::All => &Status::ALL,
        }
    }
}

/// What a listing is sorted by. Ties are broken by the exception's id (newest first when
/// descending), so paging is stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueSort {
    #[default]
    VisitDay,
    Code,
    Store,
    Rep,
    Status,
}

impl QueueSort {
    pub const ALL: [QueueSort; 5] = [
        QueueSort::VisitDay,
        QueueSort::Code,
        QueueSort::Store,
        QueueSort::Rep,
        QueueSort::Status,
    ];

    /// As the query string spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            QueueSort::VisitDay => "visit_day",
            QueueSort::Code => "code",
            QueueSort::Store => "store",
            QueueSort::Rep => "rep",
            QueueSort::Status => "status",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortDir {
    Asc,
    #[default]
    Desc,
}

impl SortDir {
    pub fn as_str(self) -> &'static str {
        match self {
            SortDir::Asc => "asc",
            SortDir::Desc => "desc",
        }
    }

    pub fn flipped(self) -> SortDir {
        match self {
            SortDir::Asc => SortDir::Desc,
            SortDir::Desc => SortDir::Asc,
        }
    }
}

/// A listing's filters, sort and page, as the queue page's query string carries them
/// (`?status=active&code=outside_geofence&from=2026-11-01&to=2026-11-30&q=联华&sort=store&dir=asc&page=2`).
/// Every field may be missing or empty (= no filter). All set filters apply together.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct QueueFilter {
    /// Exception code (`outside_geofence`).
    #[serde(deserialize_with = "non_empty")]
    pub code: Option<String>,
    /// Default: active (open or assigned).
    #[serde(deserialize_with = "non_empty_parsed")]
    pub status: Option<StatusFilter>,
    /// The field user (rep or supervisor) the exception is about.
    #[serde(deserialize_with = "non_empty")]
    pub rep: Option<String>,
    /// A supervisor's reference-data id: their reps' exceptions and their own.
    #[serde(deserialize_with = "non_empty")]
    pub team: Option<String>,
    /// The store's territory (the rep's when the exception names no store).
    #[serde(deserialize_with = "non_empty")]
    pub territory: Option<String>,
    /// Store id.
    #[serde(deserialize_with = "non_empty")]
    pub store: Option<String>,
    /// The web user it is assigned to.
    #[serde(deserialize_with = "non_empty")]
    pub assignee: Option<String>,
    /// One visit's exceptions (the visit page lists them with the queue's rows).
    #[serde(deserialize_with = "non_empty")]
    pub visit: Option<String>,
    /// One visit day `YYYY-MM-DD` (the same as `from` = `to`).
    #[serde(deserialize_with = "non_empty")]
    pub date: Option<String>,
    /// First visit day `YYYY-MM-DD`, inclusive.
    #[serde(deserialize_with = "non_empty")]
    pub from: Option<String>,
    /// Last visit day, inclusive.
    #[serde(deserialize_with = "non_empty")]
    pub to: Option<String>,
    /// Free text, matched within the store's name and code, the rep's name and id, the code and
    /// the exception's text and parameters.
    #[serde(deserialize_with = "non_empty")]
    pub q: Option<String>,
    #[serde(deserialize_with = "non_empty_parsed")]
    pub sort: Option<QueueSort>,
    #[serde(deserialize_with = "non_empty_parsed")]
    pub dir: Option<SortDir>,
    /// 1-based.
    #[serde(deserialize_with = "non_empty_number")]
    pub page: Option<u32>,
    #[serde(deserialize_with = "non_empty_number")]
    pub per_page: Option<u32>,
}

/// An HTML form sends an unset field as `name=`: that is no filter, not a value.
fn non_empty<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let s: Option<String> = Option::deserialize(d)?;
    Ok(s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()))
}

fn non_empty_parsed<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    use serde::de::IntoDeserializer;
    match non_empty(d)? {
        None => Ok(None),
        Some(s) => T::deserialize(s.into_deserializer()).map(Some),
    }
}

fn non_empty_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    match non_empty(d)? {
        None => Ok(None),
        Some(s) => s
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("{s:?} is not a page number"))),
    }
}

/// Who is acting or looking: a web user and the field users they see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The web user's id (recorded in the history).
    pub id: String,
    /// `None`: sees everything. `Some(sup)`: a supervisor's team (see [`crate::scope`]).
    pub scope: Option<String>,
}

impl Actor {
    /// Head office or an admin: every exception.
    pub fn head_office(id: &str) -> Actor {
        Actor {
            id: id.to_string(),
            scope: None,
        }
    }

    /// A supervisor seeing the team of reference-data supervisor `supervisor_id`.
    pub fn supervisor(id: &str, supervisor_id: &str) -> Actor {
        Actor {
            id: id.to_string(),
            scope: Some(supervisor_id.to_string()),
        }
    }
}

/// One row of the queue: everything a row shows, names resolved.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueueItem {
    pub id: i64,
    pub code: String,
    /// The code's parameters (distance, radius, photo ids…), to render in the reader's language.
    pub params: Option<serde_json::Value>,
    /// The one-line text kept for the CLI and the export.
    pub detail: String,
    pub status: Status,
    pub visit_id: Option<String>,
    /// The store-local day of the visit (days since 1970-01-01) and as `YYYY-MM-DD`.
    pub visit_day: i64,
    pub visit_date: String,
    /// When what it is about happened (device time) and when the server received it, Unix ms.
    pub event_ms: i64,
    pub received_ms: i64,
    pub store_id: Option<String>,
    pub store_code: Option<String>,
    pub store_name: Option<String>,
    pub territory: Option<String>,
    pub rep_id: Option<String>,
    pub rep_name: Option<String>,
    pub device_id: Option<String>,
    pub photo_sha256: Option<String>,
    pub assignee_id: Option<String>,
    pub assignee_name: Option<String>,
    /// Who closed it (a web user, a field user, or `server`), when and why; None while active.
    pub closed_by: Option<String>,
    pub closed_by_name: Option<String>,
    pub closed_ms: Option<i64>,
    pub closing_comment: Option<String>,
}

/// How many exceptions under the filter (status aside) are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct StatusCounts {
    pub open: u64,
    pub assigned: u64,
    pub resolved: u64,
    pub dismissed: u64,
}

impl StatusCounts {
    pub fn get(&self, s: Status) -> u64 {
        match s {
            Status::Open => self.open,
            Status::Assigned => self.assigned,
            Status::Resolved => self.resolved,
            Status::Dismissed => self.dismissed,
        }
    }

    fn slot(&mut self, s: Status) -> &mut u64 {
        match s {
            Status::Open => &mut self.open,
            Status::Assigned => &mut self.assigned,
            Status::Resolved => &mut self.resolved,
            Status::Dismissed => &mut self.dismissed,
        }
    }
}

/// One page of a listing and where it stands in the whole.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueuePage {
    pub items: Vec<QueueItem>,
    /// Exceptions matching the whole filter (all pages).
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
    /// Pages in all (at least 1).
    pub pages: u32,
    /// Per state, under every filter but the status one (the status tabs' numbers).
    pub counts: StatusCounts,
    pub sort: QueueSort,
    pub dir: SortDir,
}

/// What a person does to one or more exceptions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum QueueAction {
    /// Give it to a web user to deal with (again, to another, while it is active).
    Assign {
        assignee: String,
    },
    Resolve,
    Dismiss,
    /// A closed one needs attention after all.
    Reopen,
}

impl QueueAction {
    pub fn as_str(&self) -> &'static str {
        match self {
            QueueAction::Assign { .. } => "assign",
            QueueAction::Resolve => "resolve",
            QueueAction::Dismiss => "dismiss",
            QueueAction::Reopen => "reopen",
        }
    }

    /// Closing or reopening needs a reason; handing over may go without.
    fn needs_comment(&self) -> bool {
        !matches!(self, QueueAction::Assign { .. })
    }
}

/// What [`act`] changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActOutcome {
    pub action: &'static str,
    /// The exceptions changed (every one asked for).
    pub ids: Vec<i64>,
}

/// One change in an exception's life, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryEntry {
    pub at_ms: i64,
    /// `raised`, `assign`, `resolve`, `dismiss` or `reopen`.
    pub action: String,
    /// A web user, a field user (the device's own correction), `server`; None for `raised`.
    pub actor_id: Option<String>,
    pub actor_name: Option<String>,
    pub comment: Option<String>,
    pub assignee_id: Option<String>,
    pub assignee_name: Option<String>,
}

/// Why a listing or an action was refused. Nothing changed. [`QueueError::code`] is the
/// message's code for the pages' catalogue; the fields are its parameters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueueError {
    #[error("{0:?} is not a date YYYY-MM-DD")]
    BadDate(String),
    #[error("the first day is after the last")]
    BadRange,
    #[error("page size {0} is not between 1 and {MAX_PAGE_SIZE}")]
    BadPageSize(u32),
    #[error("page numbers start at 1")]
    BadPage,
    #[error("the search text is longer than {MAX_SEARCH_CHARS} characters")]
    SearchTooLong,
    #[error("no exception was chosen")]
    NothingChosen,
    #[error("{0} exceptions chosen; at most {MAX_BATCH} at once")]
    TooMany(usize),
    #[error("a comment is required")]
    CommentRequired,
    #[error("the comment is longer than {MAX_COMMENT_CHARS} characters")]
    CommentTooLong,
    /// Unknown, or outside the actor's team: the same answer, so a supervisor learns nothing
    /// about other teams' exceptions.
    #[error("exceptions {0:?} do not exist or are outside your team")]
    NotVisible(Vec<i64>),
    #[error("exceptions {ids:?} are {status}: cannot {action}")]
    WrongState {
        action: &'static str,
        status: &'static str,
        ids: Vec<i64>,
    },
    #[error("there is no web user {0:?} to assign to")]
    UnknownAssignee(String),
    #[error("{assignee:?} cannot see exceptions {ids:?} (another team's)")]
    AssigneeCannotSee { assignee: String, ids: Vec<i64> },
    #[error("exceptions {0:?} cannot be reopened: the same finding is open again as a newer exception")]
    AlreadyOpen(Vec<i64>),
    #[error("database: {0}")]
    Storage(String),
}

impl QueueError {
    /// The message code (`queue_not_visible`…), for rendering in the reader's language.
    pub fn code(&self) -> &'static str {
        match self {
            QueueError::BadDate(_) => "queue_bad_date",
            QueueError::BadRange => "queue_bad_range",
            QueueError::BadPageSize(_) => "queue_bad_page_size",
            QueueError::BadPage => "queue_bad_page",
            QueueError::SearchTooLong => "queue_search_too_long",
            QueueError::NothingChosen => "queue_nothing_chosen",
            QueueError::TooMany(_) => "queue_too_many",
            QueueError::CommentRequired => "queue_comment_required",
            QueueError::CommentTooLong => "queue_comment_too_long",
            QueueError::NotVisible(_) => "queue_not_visible",
            QueueError::WrongState { .. } => "queue_wrong_state",
            QueueError::UnknownAssignee(_) => "queue_unknown_assignee",
            QueueError::AssigneeCannotSee { .. } => "queue_assignee_cannot_see",
            QueueError::AlreadyOpen(_) => "queue_already_open",
            QueueError::Storage(_) => "queue_storage",
        }
    }
}

impl From<crate::db::Error> for QueueError {
    fn from(e: crate::db::Error) -> Self {
        QueueError::Storage(e.to_string())
    }
}

impl From<crate::error::ApiError> for QueueError {
    fn from(e: crate::error::ApiError) -> Self {
        QueueError::Storage(e.to_string())
    }
}

impl From<QueueError> for crate::error::ApiError {
    fn from(e: QueueError) -> Self {
        match e {
            QueueError::NotVisible(_) => crate::error::ApiError::NotFound("exception".into()),
            QueueError::Storage(m) => crate::error::ApiError::Internal(m),
            other => crate::error::ApiError::InvalidInput(other.to_string()),
        }
    }
}

// --- listing -------------------------------------------------------------------------------------

/// The SQL joins every listing uses: the store and the rep (filters, search and sort use them).
const FROM: &str = "FROM exceptions e
    LEFT JOIN stores s ON s.id = e.store_id
    LEFT JOIN users u ON u.id = e.user_id";

/// A WHERE clause under construction, its `?N` placeholders numbered as they are added.
#[derive(Default)]
struct Conditions {
    sql: Vec<String>,
    args: Vec<Value>,
}

impl Conditions {
    fn push(&mut self, value: impl Into<Value>, clause: impl FnOnce(usize) -> String) {
        self.args.push(value.into());
        self.sql.push(clause(self.args.len()));
    }

    fn clause(&self) -> String {
        if self.sql.is_empty() {
            "1 = 1".to_string()
        } else {
            self.sql.join(" AND ")
        }
    }
}

/// A filter checked and reduced to what the SQL needs.
struct Checked {
    first_day: Option<i64>,
    last_day: Option<i64>,
    statuses: &'static [Status],
    page: u32,
    per_page: u32,
    sort: QueueSort,
    dir: SortDir,
}

impl QueueFilter {
    fn check(&self) -> Result<Checked, QueueError> {
        let day = |s: &Option<String>| -> Result<Option<i64>, QueueError> {
            s.as_deref()
                .map(|d| parse_day(d).ok_or_else(|| QueueError::BadDate(d.to_string())))
                .transpose()
        };
        let date = day(&self.date)?;
        let first_day = day(&self.from)?.or(date);
        let last_day = day(&self.to)?.or(date);
        if let (Some(a), Some(b)) = (first_day, last_day)
            && a > b
        {
            return Err(QueueError::BadRange);
        }
        let per_page = self.per_page.unwrap_or(DEFAULT_PAGE_SIZE);
        if !(1..=MAX_PAGE_SIZE).contains(&per_page) {
            return Err(QueueError::BadPageSize(per_page));
        }
        let page = self.page.unwrap_or(1);
        if page == 0 {
            return Err(QueueError::BadPage);
        }
        if self
            .q
            .as_deref()
            .is_some_and(|q| q.chars().count() > MAX_SEARCH_CHARS)
        {
            return Err(QueueError::SearchTooLong);
        }
        Ok(Checked {
            first_day,
            last_day,
            statuses: self.status.unwrap_or_default().statuses(),
            page,
            per_page,
            sort: self.sort.unwrap_or_default(),
            dir: self.dir.unwrap_or_default(),
        })
    }

    /// Every condition but the status one.
    fn conditions(&self, checked: &Checked, actor: &Actor) -> Conditions {
        let mut c = Conditions::default();
        if let Some(scope) = &actor.scope {
            c.push(scope.clone(), |n| scope_sql("e.user_id", n));
        }
        if let Some(v) = &self.code {
            c.push(v.clone(), |n| format!("e.code = ?{n}"));
        }
        if let Some(v) = &self.rep {
            c.push(v.clone(), |n| format!("e.user_id = ?{n}"));
        }
        if let Some(v) = &self.team {
            c.push(v.clone(), |n| {
                format!("(e.user_id = ?{n} OR u.supervisor_id = ?{n})")
            });
        }
        if let Some(v) = &self.territory {
            c.push(v.clone(), |n| {
                format!("coalesce(s.territory, u.territory) = ?{n}")
            });
        }
        if let Some(v) = &self.store {
            c.push(v.clone(), |n| format!("e.store_id = ?{n}"));
        }
        if let Some(v) = &self.assignee {
            c.push(v.clone(), |n| format!("e.assignee_id = ?{n}"));
        }
        if let Some(v) = &self.visit {
            c.push(v.clone(), |n| format!("e.visit_id = ?{n}"));
        }
        if let Some(d) = checked.first_day {
            c.push(d, |n| format!("e.visit_day >= ?{n}"));
        }
        if let Some(d) = checked.last_day {
            c.push(d, |n| format!("e.visit_day <= ?{n}"));
        }
        if let Some(q) = &self.q {
            c.push(like_pattern(q), |n| {
                [
                    "json_extract(s.body, '$.name')",
                    "json_extract(s.body, '$.code')",
                    "e.store_id",
                    "json_extract(u.body, '$.name')",
                    "e.user_id",
                    "e.code",
                    "e.detail",
                    "e.params",
                ]
                .iter()
                // lower() on both sides: SQLite's LIKE ignores ASCII case, PostgreSQL's does not.
                .map(|col| format!("lower({col}) LIKE lower(?{n}) ESCAPE '\\'"))
                .collect::<Vec<_>>()
                .join(" OR ")
            });
            let last = c.sql.len() - 1;
            c.sql[last] = format!("({})", c.sql[last]);
        }
        c
    }
}

/// `%text%` with LIKE's own wildcards in the text taken literally.
fn like_pattern(q: &str) -> String {
    let mut p = String::with_capacity(q.len() + 2);
    p.push('%');
    for ch in q.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(ch);
    }
    p.push('%');
    p
}

fn order_by(sort: QueueSort, dir: SortDir) -> String {
    let d = match dir {
        SortDir::Asc => "ASC",
        SortDir::Desc => "DESC",
    };
    let key = match sort {
        QueueSort::VisitDay => "e.visit_day",
        QueueSort::Code => "e.code",
        QueueSort::Store => "coalesce(json_extract(s.body, '$.name'), e.store_id, '')",
        QueueSort::Rep => "coalesce(json_extract(u.body, '$.name'), e.user_id, '')",
        QueueSort::Status => {
            "CASE e.status WHEN 'open' THEN 0 WHEN 'assigned' THEN 1 WHEN 'resolved' THEN 2 ELSE 3 END"
        }
    };
    format!("{key} {d}, e.id {d}")
}

/// One page of the queue as `actor` sees it.
pub fn list(store: &Store, actor: &Actor, filter: &QueueFilter) -> Result<QueuePage, QueueError> {
    let c = store.reader()?;
    list_on(&c, store.calendar(), actor, filter)
}

/// [`list`] on a connection the caller holds (a page that reads more in the same snapshot), with
/// the store's calendar (the day of a row written without a visit day).
pub fn list_on(
    c: &Connection,
    calendar: crate::calendar::Calendar,
    actor: &Actor,
    filter: &QueueFilter,
) -> Result<QueuePage, QueueError> {
    let checked = filter.check()?;
    let cond = filter.conditions(&checked, actor);

    let mut counts = StatusCounts::default();
    {
        let sql = format!(
            "SELECT e.status, count(*) {FROM} WHERE {} GROUP BY e.status",
            cond.clause()
        );
        let mut st = c.prepare(&sql)?;
        let mut rows = st.query(params_from_iter(cond.args.iter()))?;
        while let Some(r) = rows.next()? {
            let status: String = r.get(0)?;
            let n: i64 = r.get(1)?;
            if let Some(s) = Status::parse(&status) {
                *counts.slot(s) += n.max(0) as u64;
            }
        }
    }
    let total: u64 = checked.statuses.iter().map(|s| counts.get(*s)).sum();

    let mut cond = cond;
    let list = checked
        .statuses
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    cond.sql.push(format!("e.status IN ({list})"));
    let offset = u64::from(checked.page - 1) * u64::from(checked.per_page);
    let limit_n = cond.args.len() + 1;
    let sql = format!(
        "SELECT e.id, e.code, e.params, e.detail, e.status, e.visit_id, e.visit_day, e.event_ms, e.created_ms,
                e.store_id, json_extract(s.body, '$.code'), json_extract(s.body, '$.name'),
                coalesce(s.territory, u.territory), e.user_id, json_extract(u.body, '$.name'),
                e.device_id, e.photo_sha256, e.assignee_id, (SELECT a.name FROM web_users a WHERE a.id = e.assignee_id),
                e.resolved_by, {closer}, e.resolved_ms, e.resolution_comment
         {FROM} WHERE {where_} ORDER BY {order} LIMIT ?{limit_n} OFFSET ?{offset_n}",
        closer = person_name_sql("e.resolved_by"),
        where_ = cond.clause(),
        order = order_by(checked.sort, checked.dir),
        offset_n = limit_n + 1,
    );
    let mut args = cond.args;
    args.push(Value::Integer(i64::from(checked.per_page)));
    args.push(Value::Integer(i64::try_from(offset).unwrap_or(i64::MAX)));
    let mut st = c.prepare(&sql)?;
    let mut rows = st.query(params_from_iter(args.iter()))?;
    let mut items = Vec::new();
    while let Some(r) = rows.next()? {
        let status: String = r.get(4)?;
        let created: i64 = r.get(8)?;
        let visit_day: Option<i64> = r.get(6)?;
        let event_ms: Option<i64> = r.get(7)?;
        // Filled when the database is opened; a row written since without one counts on the
        // day the server received it.
        let visit_day = visit_day.unwrap_or_else(|| calendar.day_of(created));
        items.push(QueueItem {
            id: r.get(0)?,
            code: r.get(1)?,
            params: r
                .get::<_, Option<String>>(2)?
                .and_then(|p| serde_json::from_str(&p).ok()),
            detail: r.get(3)?,
            status: Status::parse(&status).unwrap_or(Status::Open),
            visit_id: r.get(5)?,
            visit_day,
            visit_date: day_string(visit_day),
            event_ms: event_ms.unwrap_or(created),
            received_ms: created,
            store_id: r.get(9)?,
            store_code: r.get(10)?,
            store_name: r.get(11)?,
            territory: r.get(12)?,
            rep_id: r.get(13)?,
            rep_name: r.get(14)?,
            device_id: r.get(15)?,
            photo_sha256: r.get(16)?,
            assignee_id: r.get(17)?,
            assignee_name: r.get(18)?,
            closed_by: r.get(19)?,
            closed_by_name: r.get(20)?,
            closed_ms: r.get(21)?,
            closing_comment: r.get(22)?,
        });
    }
    let pages = u32::try_from(total.div_ceil(u64::from(checked.per_page)))
        .unwrap_or(u32::MAX)
        .max(1);
    Ok(QueuePage {
        items,
        total,
        page: checked.page,
        per_page: checked.per_page,
        pages,
        counts,
        sort: checked.sort,
        dir: checked.dir,
    })
}

/// SQL for the name of the person whose id is in `col`: a web user, else a field user, else
/// none (`server`).
fn person_name_sql(col: &str) -> String {
    format!(
        "coalesce((SELECT w.name FROM web_users w WHERE w.id = {col}),
                  (SELECT json_extract(p.body, '$.name') FROM users p WHERE p.id = {col}))"
    )
}

// --- acting --------------------------------------------------------------------------------------

/// Apply one action to every exception in `ids`, in one transaction, or to none: see
/// [`QueueError`] for what refuses the whole batch.
pub fn act(
    store: &Store,
    actor: &Actor,
    ids: &[i64],
    action: &QueueAction,
    comment: &str,
    now_ms: i64,
) -> Result<ActOutcome, QueueError> {
    let mut w = store.writer();
    let tx = w.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let outcome = act_in(&tx, actor, ids, action, comment, now_ms)?;
    tx.commit()?;
    tracing::info!(
        action = outcome.action,
        exceptions = outcome.ids.len(),
        "exceptions changed"
    );
    Ok(outcome)
}

/// [`act`] inside a transaction the caller commits (nothing is written when it fails, but
/// the caller must still roll back on an error from here).
pub fn act_in(
    tx: &Connection,
    actor: &Actor,
    ids: &[i64],
    action: &QueueAction,
    comment: &str,
    now_ms: i64,
) -> Result<ActOutcome, QueueError> {
    let mut ids: Vec<i64> = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Err(QueueError::NothingChosen);
    }
    if ids.len() > MAX_BATCH {
        return Err(QueueError::TooMany(ids.len()));
    }
    let comment = comment.trim();
    if comment.chars().count() > MAX_COMMENT_CHARS {
        return Err(QueueError::CommentTooLong);
    }
    if comment.is_empty() && action.needs_comment() {
        return Err(QueueError::CommentRequired);
    }
    let comment = (!comment.is_empty()).then_some(comment);

    // The chosen exceptions the actor may see, with what the checks need.
    struct Row {
        status: Status,
        user_id: Option<String>,
        code: String,
        visit_id: Option<String>,
        subject: String,
    }
    let mut rows: Vec<(i64, Row)> = Vec::with_capacity(ids.len());
    {
        let mut st = tx.prepare_cached(&format!(
            "SELECT e.status, e.user_id, e.code, e.visit_id, e.subject FROM exceptions e
             WHERE e.id = ?1 AND {}",
            scope_sql("e.user_id", 2)
        ))?;
        let mut missing = Vec::new();
        for id in &ids {
            let row = st
                .query_row(params![id, actor.scope], |r| {
                    let status: String = r.get(0)?;
                    Ok(Row {
                        status: Status::parse(&status).unwrap_or(Status::Open),
                        user_id: r.get(1)?,
                        code: r.get(2)?,
                        visit_id: r.get(3)?,
                        subject: r.get(4)?,
                    })
                })
                .optional()?;
            match row {
                Some(r) => rows.push((*id, r)),
                None => missing.push(*id),
            }
        }
        if !missing.is_empty() {
            return Err(QueueError::NotVisible(missing));
        }
    }

    // Every one must be in a state the action applies to.
    let allowed = |s: Status| match action {
        QueueAction::Assign { .. } | QueueAction::Resolve | QueueAction::Dismiss => !s.is_closed(),
        QueueAction::Reopen => s.is_closed(),
    };
    for s in Status::ALL {
        let wrong: Vec<i64> = rows
            .iter()
            .filter(|(_, r)| r.status == s && !allowed(s))
            .map(|(id, _)| *id)
            .collect();
        if !wrong.is_empty() {
            return Err(QueueError::WrongState {
                action: action.as_str(),
                status: s.as_str(),
                ids: wrong,
            });
        }
    }

    match action {
        QueueAction::Assign { assignee } => {
            // The assignee must be a web user who can see every one of them.
            let scope: Option<(String, Option<String>)> = tx
                .prepare_cached("SELECT role, supervisor_id FROM web_users WHERE id = ?1")?
                .query_row([assignee], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            let Some((role, sup)) = scope else {
                return Err(QueueError::UnknownAssignee(assignee.clone()));
            };
            if role == "supervisor" {
                let sup = sup.unwrap_or_default();
                let mut st = tx.prepare_cached(
                    "SELECT 1 FROM users WHERE id = ?1 AND (id = ?2 OR supervisor_id = ?2)",
                )?;
                let mut blind = Vec::new();
                for (id, r) in &rows {
                    let sees = match &r.user_id {
                        Some(u) => st.exists(params![u, sup])?,
                        None => false,
                    };
                    if !sees {
                        blind.push(*id);
                    }
                }
                if !blind.is_empty() {
                    return Err(QueueError::AssigneeCannotSee {
                        assignee: assignee.clone(),
                        ids: blind,
                    });
                }
            }
            let mut st = tx.prepare_cached(
                "UPDATE exceptions SET status = 'assigned', assignee_id = ?1 WHERE id = ?2",
            )?;
            for (id, _) in &rows {
                st.execute(params![assignee, id])?;
                record_history(tx, *id, "assign", &actor.id, now_ms, comment, Some(assignee))?;
            }
        }
        QueueAction::Resolve | QueueAction::Dismiss => {
            let (status, verb) = match action {
                QueueAction::Resolve => ("resolved", "resolve"),
                _ => ("dismissed", "dismiss"),
            };
            let mut st = tx.prepare_cached(
                "UPDATE exceptions SET status = ?1, resolved_by = ?2, resolved_ms = ?3, resolution_comment = ?4
                 WHERE id = ?5",
            )?;
            for (id, _) in &rows {
                st.execute(params![status, actor.id, now_ms, comment, id])?;
                record_history(tx, *id, verb, &actor.id, now_ms, comment, None)?;
            }
        }
        QueueAction::Reopen => {
            // At most one active exception per finding (`exceptions_open`): a finding raised
            // again since it was closed is already back in the queue as that newer one. The
            // visit is bound as text, '' for none (as the index keys it): a NULL parameter has no
            // type PostgreSQL could infer.
            let mut st = tx.prepare_cached(
                "SELECT 1 FROM exceptions WHERE code = ?1 AND coalesce(visit_id, '') = ?2
                   AND subject = ?3 AND resolved_ms IS NULL",
            )?;
            let mut keys = std::collections::HashSet::new();
            let mut taken = Vec::new();
            for (id, r) in &rows {
                let key = (
                    r.code.clone(),
                    r.visit_id.clone().unwrap_or_default(),
                    r.subject.clone(),
                );
                let open = st.exists(params![r.code, key.1, r.subject])?;
                if open || !keys.insert(key) {
                    taken.push(*id);
                }
            }
            if !taken.is_empty() {
                return Err(QueueError::AlreadyOpen(taken));
            }
            let mut st = tx.prepare_cached(
                "UPDATE exceptions SET status = CASE WHEN assignee_id IS NULL THEN 'open' ELSE 'assigned' END,
                    resolved_by = NULL, resolved_ms = NULL, resolution_comment = NULL
                 WHERE id = ?1",
            )?;
            for (id, _) in &rows {
                st.execute([id])?;
                record_history(tx, *id, "reopen", &actor.id, now_ms, comment, None)?;
            }
        }
    }
    Ok(ActOutcome {
        action: action.as_str(),
        ids: rows.into_iter().map(|(id, _)| id).collect(),
    })
}

/// The changes of one exception, oldest first, starting with its raising; `NotVisible` when
/// it is unknown or outside the actor's team.
pub fn history(c: &Connection, actor: &Actor, id: i64) -> Result<Vec<HistoryEntry>, QueueError> {
    let raised: Option<i64> = c
        .prepare_cached(&format!(
            "SELECT e.created_ms FROM exceptions e WHERE e.id = ?1 AND {}",
            scope_sql("e.user_id", 2)
        ))?
        .query_row(params![id, actor.scope], |r| r.get(0))
        .optional()?;
    let Some(raised) = raised else {
        return Err(QueueError::NotVisible(vec![id]));
    };
    let mut out = vec![HistoryEntry {
        at_ms: raised,
        action: "raised".into(),
        actor_id: None,
        actor_name: None,
        comment: None,
        assignee_id: None,
        assignee_name: None,
    }];
    let sql = format!(
        "SELECT h.at_ms, h.action, h.actor_id, {actor}, h.comment, h.assignee_id,
                (SELECT a.name FROM web_users a WHERE a.id = h.assignee_id)
         FROM exception_history h WHERE h.exception_id = ?1 ORDER BY h.at_ms, h.id",
        actor = person_name_sql("h.actor_id")
    );
    let mut st = c.prepare_cached(&sql)?;
    let rows = st.query_map([id], |r| {
        Ok(HistoryEntry {
            at_ms: r.get(0)?,
            action: r.get(1)?,
            actor_id: r.get(2)?,
            actor_name: r.get(3)?,
            comment: r.get(4)?,
            assignee_id: r.get(5)?,
            assignee_name: r.get(6)?,
        })
    })?;
    for r in rows {
        out.push(r?);
    }
    Ok(out)
}

/// [`history`] with a connection of the store's.
pub fn history_of(store: &Store, actor: &Actor, id: i64) -> Result<Vec<HistoryEntry>, QueueError> {
    let c = store.reader()?;
    history(&c, actor, id)
}
