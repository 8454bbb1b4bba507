//! Export of visits, answers, exceptions and photos' metadata as one XLSX workbook (one sheet
//! per kind) or as CSV (one kind per file), with the filters of the head-office pages.
//!
//! Time zone: every date and time is local time at UTC+08:00 (China Standard Time, no daylight
//! saving). A visit's `date` is the local date of its `started_wall_ms`; the date filters select
//! visits by that date. Answers and photos follow their visit. An exception follows its visit
//! when it has one, else its own user, store and `created_ms`.
//!
//! Cells are typed: dates and times are real Excel date-times (numbers with a date format),
//! numbers are numbers, yes/no are booleans, the rest text. The header row is bold and frozen.
//! CSV has the same columns, UTF-8 with a byte-order mark (Excel then reads Chinese correctly),
//! dates as `YYYY-MM-DD` and times as `YYYY-MM-DD HH:MM:SS` (local).

use std::collections::HashMap;

use fieldproof_core::model::AnswerValue;
use rusqlite::types::Value;
use rusqlite::{Connection, params_from_iter};

use crate::Store;

/// Local time offset: UTC+08:00.
pub const LOCAL_OFFSET_MS: i64 = 8 * 3_600_000;
const DAY_MS: i64 = 86_400_000;

/// The filters of the head-office pages. All set filters apply together.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExportFilter {
    /// Local date `YYYY-MM-DD`, inclusive: the visit's `started_wall_ms` at UTC+08:00.
    pub from: Option<String>,
    /// Local date `YYYY-MM-DD`, inclusive.
    pub to: Option<String>,
    /// The visit's user (rep or supervisor).
    pub rep_id: Option<String>,
    /// The store's id.
    pub store_id: Option<String>,
    /// The store's territory.
    pub territory: Option<String>,
    /// Restricts everything to this supervisor's team (a supervisor's own view): visits of users
    /// whose `supervisor_id` is this user, and the supervisor's own visits. None = all.
    pub team_of: Option<String>,
}

/// What an export can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("bad filter: {0}")]
    BadFilter(String),
    #[error("unknown export kind {0:?} (visits, answers, exceptions, photos)")]
    UnknownKind(String),
    #[error("database: {0}")]
    Storage(String),
    #[error("cannot write the workbook: {0}")]
    Write(String),
}

impl From<rusqlite::Error> for ExportError {
    fn from(e: rusqlite::Error) -> Self {
        ExportError::Storage(e.to_string())
    }
}

impl From<crate::ApiError> for ExportError {
    fn from(e: crate::ApiError) -> Self {
        ExportError::Storage(e.to_string())
    }
}

impl From<rust_xlsxwriter::XlsxError> for ExportError {
    fn from(e: rust_xlsxwriter::XlsxError) -> Self {
        ExportError::Write(e.to_string())
    }
}

/// One sheet of the workbook, one CSV file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportKind {
    Visits,
    Answers,
    Exceptions,
    Photos,
}

impl ExportKind {
    pub const ALL: [ExportKind; 4] = [
        ExportKind::Visits,
        ExportKind::Answers,
        ExportKind::Exceptions,
        ExportKind::Photos,
    ];

    /// `visits`, `answers`, `exceptions`, `photos`.
    pub fn as_str(self) -> &'static str {
        match self {
            ExportKind::Visits => "visits",
            ExportKind::Answers => "answers",
            ExportKind::Exceptions => "exceptions",
            ExportKind::Photos => "photos",
        }
    }

    /// The sheet's name: `Visits`, `Answers`, `Exceptions`, `Photos`.
    pub fn sheet_name(self) -> &'static str {
        match self {
            ExportKind::Visits => "Visits",
            ExportKind::Answers => "Answers",
            ExportKind::Exceptions => "Exceptions",
            ExportKind::Photos => "Photos",
        }
    }

    /// Case-insensitive [`ExportKind::as_str`].
    pub fn parse(s: &str) -> Result<ExportKind, ExportError> {
        ExportKind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| ExportError::UnknownKind(s.to_string()))
    }

    /// The column headers, in order (the sheet's row 1, the CSV's first line).
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            ExportKind::Visits => &[
                "visit_id",
                "date",
                "started",
                "ended",
                "duration_min",
                "rep_id",
                "rep_name",
                "store_code",
                "store_name",
                "territory",
                "kind",
                "status",
                "geofence",
                "distance_m",
                "score",
                "answers",
                "photos",
                "photos_verified",
                "open_exceptions",
            ],
            ExportKind::Answers => &[
                "visit_id",
                "date",
                "rep_id",
                "store_code",
                "item_id",
                "value",
                "note",
                "revision",
                "answered_at",
            ],
            ExportKind::Exceptions => &[
                "id",
                "code",
                "visit_id",
                "date",
                "rep_id",
                "store_code",
                "detail",
                "created_at",
                "resolved_by",
                "resolved_at",
                "resolution_comment",
            ],
            ExportKind::Photos => &[
                "photo_id",
                "visit_id",
                "date",
                "rep_id",
                "store_code",
                "kind",
                "sha256",
                "byte_len",
                "evidence_code",
                "received",
                "verified",
                "problems",
            ],
        }
    }
}

impl std::fmt::Display for ExportKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

const FILTER_KEYS: [&str; 6] = ["from", "to", "rep_id", "store_id", "territory", "team_of"];

impl ExportFilter {
    /// Parse `from=2026-11-01&to=2026-11-30&rep_id=...&store_id=...&territory=...&team_of=...`
    /// (a leading `?` is allowed; percent-encoded, `+` is a space). Empty values mean no
    /// filter; unknown keys and malformed dates are refused.
    pub fn from_query(query: &str) -> Result<ExportFilter, ExportError> {
        let mut f = ExportFilter::default();
        let query = query.strip_prefix('?').unwrap_or(query);
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let key = percent_decode(k)?;
            let value = percent_decode(v)?;
            let value = value.trim();
            let slot = match key.as_str() {
                "from" => &mut f.from,
                "to" => &mut f.to,
                "rep_id" => &mut f.rep_id,
                "store_id" => &mut f.store_id,
                "territory" => &mut f.territory,
                "team_of" => &mut f.team_of,
                other => return Err(ExportError::BadFilter(format!("unknown filter {other:?}"))),
            };
            *slot = (!value.is_empty()).then(|| value.to_string());
        }
        f.validate()?;
        Ok(f)
    }

    /// The inverse of [`ExportFilter::from_query`]: the set filters, percent-encoded, in a fixed
    /// order (`from`, `to`, `rep_id`, `store_id`, `territory`, `team_of`).
    pub fn to_query(&self) -> String {
        let values = [
            &self.from,
            &self.to,
            &self.rep_id,
            &self.store_id,
            &self.territory,
            &self.team_of,
        ];
        FILTER_KEYS
            .iter()
            .zip(values)
            .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", percent_encode(v))))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// Checks the dates (and that `from` is not after `to`).
    pub fn validate(&self) -> Result<(), ExportError> {
        let from = self.start_ms()?;
        let to = self.end_ms()?;
        if let (Some(a), Some(b)) = (from, to)
            && a >= b
        {
            return Err(ExportError::BadFilter("`from` is after `to`".into()));
        }
        Ok(())
    }

    fn start_ms(&self) -> Result<Option<i64>, ExportError> {
        self.from
            .as_deref()
            .map(|d| {
                parse_date(d)
                    .map(|days| days * DAY_MS - LOCAL_OFFSET_MS)
                    .ok_or_else(|| ExportError::BadFilter(format!("from: {d:?} is not a date YYYY-MM-DD")))
            })
            .transpose()
    }

    fn end_ms(&self) -> Result<Option<i64>, ExportError> {
        self.to
            .as_deref()
            .map(|d| {
                parse_date(d)
                    .map(|days| (days + 1) * DAY_MS - LOCAL_OFFSET_MS)
                    .ok_or_else(|| ExportError::BadFilter(format!("to: {d:?} is not a date YYYY-MM-DD")))
            })
            .transpose()
    }

    /// A SQL condition on the given expressions (visit start ms, user id, store id) and its
    /// parameters. The store's territory and the user's supervisor are looked up by id.
    fn sql(&self, time: &str, user: &str, store: &str) -> Result<(String, Vec<Value>), ExportError> {
        let mut cond = vec!["1".to_string()];
        let mut args: Vec<Value> = Vec::new();
        if let Some(ms) = self.start_ms()? {
            args.push(Value::Integer(ms));
            cond.push(format!("{time} >= ?{}", args.len()));
        }
        if let Some(ms) = self.end_ms()? {
            args.push(Value::Integer(ms));
            cond.push(format!("{time} < ?{}", args.len()));
        }
        if let Some(rep) = &self.rep_id {
            args.push(Value::Text(rep.clone()));
            cond.push(format!("{user} = ?{}", args.len()));
        }
        if let Some(s) = &self.store_id {
            args.push(Value::Text(s.clone()));
            cond.push(format!("{store} = ?{}", args.len()));
        }
        if let Some(t) = &self.territory {
            args.push(Value::Text(t.clone()));
            cond.push(format!(
                "EXISTS (SELECT 1 FROM stores fs WHERE fs.id = {store} AND fs.territory = ?{})",
                args.len()
            ));
        }
        if let Some(sup) = &self.team_of {
            args.push(Value::Text(sup.clone()));
            let n = args.len();
            cond.push(format!(
                "({user} = ?{n} OR EXISTS (SELECT 1 FROM users fu WHERE fu.id = {user} AND fu.supervisor_id = ?{n}))"
            ));
        }
        Ok((cond.join(" AND "), args))
    }
}

fn percent_decode(s: &str) -> Result<String, ExportError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| ExportError::BadFilter(format!("bad percent-encoding in {s:?}")))?;
                out.push(hex);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| ExportError::BadFilter(format!("{s:?} is not UTF-8")))
}

pub(crate) fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date, or None.
pub(crate) fn parse_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return None;
    }
    Some(fieldproof_core::clock::days_from_civil(y, m, d))
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `YYYY-MM-DD` of a day number (days since 1970-01-01).
pub(crate) fn date_string(days: i64) -> String {
    let (y, m, d) = fieldproof_core::clock::civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// `YYYY-MM-DD` local (UTC+08:00) date of a Unix-ms instant.
pub fn local_date(ms: i64) -> String {
    date_string((ms + LOCAL_OFFSET_MS).div_euclid(DAY_MS))
}

/// `YYYY-MM-DD HH:MM:SS` local (UTC+08:00) time of a Unix-ms instant.
pub fn local_datetime(ms: i64) -> String {
    let local = ms + LOCAL_OFFSET_MS;
    let secs = local.rem_euclid(DAY_MS) / 1000;
    format!(
        "{} {:02}:{:02}:{:02}",
        local_date(ms),
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// The Excel serial date-time (days since 1899-12-30) of a Unix-ms instant, local time.
pub fn excel_serial(ms: i64) -> f64 {
    (ms + LOCAL_OFFSET_MS) as f64 / DAY_MS as f64 + 25_569.0
}

/// One typed cell of an export.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
    Bool(bool),
    /// A local date (the instant's UTC+08:00 day), Unix ms.
    Date(i64),
    /// A local date-time, Unix ms.
    DateTime(i64),
}

impl Cell {
    fn text(s: Option<String>) -> Cell {
        s.map_or(Cell::Empty, Cell::Text)
    }
    fn num(v: Option<f64>) -> Cell {
        v.map_or(Cell::Empty, Cell::Number)
    }
    fn datetime(ms: Option<i64>) -> Cell {
        ms.map_or(Cell::Empty, Cell::DateTime)
    }

    /// How the cell reads in CSV.
    pub fn to_csv(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) => s.clone(),
            Cell::Number(n) => format_number(*n),
            Cell::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
            Cell::Date(ms) => local_date(*ms),
            Cell::DateTime(ms) => local_datetime(*ms),
        }
    }
}

/// Whole numbers without a fraction, others as Rust prints them (shortest round-trip form).
fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// The rows of one kind: what the sheet and the CSV hold, for the pages too.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub kind: ExportKind,
    pub columns: &'static [&'static str],
    pub rows: Vec<Vec<Cell>>,
}

/// The rows of one kind under a filter, in a stable order (visit start, then id).
pub fn table(store: &Store, kind: ExportKind, filter: &ExportFilter) -> Result<Table, ExportError> {
    filter.validate()?;
    let conn = store.reader()?;
    let lookups = Lookups::load(&conn)?;
    let rows = match kind {
        ExportKind::Visits => visits(&conn, &lookups, filter)?,
        ExportKind::Answers => answers(&conn, &lookups, filter)?,
        ExportKind::Exceptions => exceptions(&conn, &lookups, filter)?,
        ExportKind::Photos => photos(&conn, &lookups, filter)?,
    };
    Ok(Table {
        kind,
        columns: kind.columns(),
        rows,
    })
}

/// Names and codes from the reference data's JSON bodies.
struct Lookups {
    user_names: HashMap<String, String>,
    /// id -> (code, name, territory)
    stores: HashMap<String, (String, String, String)>,
}

impl Lookups {
    fn load(conn: &Connection) -> Result<Lookups, ExportError> {
        let mut user_names = HashMap::new();
        let mut st = conn.prepare("SELECT id, body FROM users")?;
        let rows = st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        for row in rows {
            let (id, body) = row?;
            let name = serde_json::from_str::<fieldproof_core::model::User>(&body)
                .map(|u| u.name)
                .unwrap_or_default();
            user_names.insert(id, name);
        }
        let mut stores = HashMap::new();
        let mut st = conn.prepare("SELECT id, territory, body FROM stores")?;
        let rows = st.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        for row in rows {
            let (id, territory, body) = row?;
            let (code, name) = serde_json::from_str::<fieldproof_core::model::Store>(&body)
                .map(|s| (s.code, s.name))
                .unwrap_or_else(|_| (id.clone(), String::new()));
            stores.insert(id, (code, name, territory));
        }
        Ok(Lookups { user_names, stores })
    }

    /// The store's code; the id when the store is unknown (an `unknown_store` visit).
    fn code(&self, store_id: &str) -> String {
        self.stores
            .get(store_id)
            .map_or_else(|| store_id.to_string(), |s| s.0.clone())
    }
}

fn visits(conn: &Connection, lk: &Lookups, filter: &ExportFilter) -> Result<Vec<Vec<Cell>>, ExportError> {
    let (cond, args) = filter.sql("v.started_wall_ms", "v.user_id", "v.store_id")?;
    let sql = format!(
        "SELECT v.id, v.started_wall_ms, coalesce(v.ended_wall_ms, v.completed_wall_ms), v.user_id,
                v.store_id, v.kind, v.status, v.geofence, v.distance_m, v.score, v.answers,
                (SELECT count(*) FROM photos p WHERE p.visit_id = v.id),
                (SELECT count(*) FROM photos p WHERE p.visit_id = v.id AND p.verified = 1),
                (SELECT group_concat(code, ',') FROM
                   (SELECT DISTINCT e.code FROM exceptions e
                    WHERE e.visit_id = v.id AND e.resolved_ms IS NULL ORDER BY e.code))
         FROM visits v WHERE {cond} ORDER BY v.started_wall_ms, v.id"
    );
    let mut st = conn.prepare(&sql)?;
    let mut rows = st.query(params_from_iter(args))?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let started: i64 = r.get(1)?;
        let ended: Option<i64> = r.get(2)?;
        let user: String = r.get(3)?;
        let store_id: String = r.get(4)?;
        let store = lk.stores.get(&store_id);
        out.push(vec![
            Cell::Text(r.get(0)?),
            Cell::Date(started),
            Cell::DateTime(started),
            Cell::datetime(ended),
            Cell::num(ended.map(|e| ((e - started) as f64 / 60_000.0 * 10.0).round() / 10.0)),
            Cell::Text(user.clone()),
            Cell::text(lk.user_names.get(&user).cloned()),
            Cell::Text(lk.code(&store_id)),
            Cell::text(store.map(|s| s.1.clone())),
            Cell::text(store.map(|s| s.2.clone())),
            Cell::Text(r.get(5)?),
            Cell::Text(r.get(6)?),
            Cell::Text(r.get(7)?),
            Cell::num(r.get::<_, Option<f64>>(8)?.map(|d| (d * 10.0).round() / 10.0)),
            Cell::num(r.get(9)?),
            Cell::Number(r.get::<_, i64>(10)? as f64),
            Cell::Number(r.get::<_, i64>(11)? as f64),
            Cell::Number(r.get::<_, i64>(12)? as f64),
            Cell::text(r.get(13)?),
        ]);
    }
    Ok(out)
}

/// A stored answer value (the core's `AnswerValue` JSON) as a cell: numbers as numbers,
/// prices in yuan, yes/no as booleans, a choice as its id; anything unreadable as its text.
pub fn answer_cell(stored: &str) -> Cell {
    match serde_json::from_str::<AnswerValue>(stored) {
        Ok(AnswerValue::YesNo { value }) => Cell::Bool(value),
        Ok(AnswerValue::Number { value }) => Cell::Number(value),
        Ok(AnswerValue::Price { cents }) => Cell::Number(cents as f64 / 100.0),
        Ok(AnswerValue::Choice { choice_id }) => Cell::Text(choice_id),
        Ok(AnswerValue::Text { value }) => Cell::Text(value),
        Err(_) => Cell::Text(stored.to_string()),
    }
}

fn answers(conn: &Connection, lk: &Lookups, filter: &ExportFilter) -> Result<Vec<Vec<Cell>>, ExportError> {
    let (cond, args) = filter.sql("v.started_wall_ms", "v.user_id", "v.store_id")?;
    let sql = format!(
        "SELECT a.visit_id, v.started_wall_ms, v.user_id, v.store_id, a.item_id, a.value, a.note,
                a.revision, a.answered_ms
         FROM answers a JOIN visits v ON v.id = a.visit_id
         WHERE {cond} ORDER BY v.started_wall_ms, a.visit_id, a.item_id"
    );
    let mut st = conn.prepare(&sql)?;
    let mut rows = st.query(params_from_iter(args))?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let store_id: String = r.get(3)?;
        let value: String = r.get(5)?;
        out.push(vec![
            Cell::Text(r.get(0)?),
            Cell::Date(r.get(1)?),
            Cell::Text(r.get(2)?),
            Cell::Text(lk.code(&store_id)),
            Cell::Text(r.get(4)?),
            answer_cell(&value),
            Cell::text(r.get(6)?),
            Cell::Number(r.get::<_, i64>(7)? as f64),
            Cell::DateTime(r.get(8)?),
        ]);
    }
    Ok(out)
}

fn exceptions(conn: &Connection, lk: &Lookups, filter: &ExportFilter) -> Result<Vec<Vec<Cell>>, ExportError> {
    let (cond, args) = filter.sql(
        "coalesce(v.started_wall_ms, e.created_ms)",
        "coalesce(v.user_id, e.user_id)",
        "coalesce(v.store_id, e.store_id)",
    )?;
    let sql = format!(
        "SELECT e.id, e.code, e.visit_id, coalesce(v.started_wall_ms, e.created_ms),
                coalesce(v.user_id, e.user_id), coalesce(v.store_id, e.store_id), e.detail,
                e.created_ms, e.resolved_by, e.resolved_ms, e.resolution_comment
         FROM exceptions e LEFT JOIN visits v ON v.id = e.visit_id
         WHERE {cond} ORDER BY e.id"
    );
    let mut st = conn.prepare(&sql)?;
    let mut rows = st.query(params_from_iter(args))?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let store_id: Option<String> = r.get(5)?;
        out.push(vec![
            Cell::Number(r.get::<_, i64>(0)? as f64),
            Cell::Text(r.get(1)?),
            Cell::text(r.get(2)?),
            Cell::Date(r.get(3)?),
            Cell::text(r.get(4)?),
            Cell::text(store_id.map(|s| lk.code(&s))),
            Cell::Text(r.get(6)?),
            Cell::DateTime(r.get(7)?),
            Cell::text(r.get(8)?),
            Cell::datetime(r.get(9)?),
            Cell::text(r.get(10)?),
        ]);
    }
    Ok(out)
}

fn photos(conn: &Connection, lk: &Lookups, filter: &ExportFilter) -> Result<Vec<Vec<Cell>>, ExportError> {
    let (cond, args) = filter.sql("v.started_wall_ms", "v.user_id", "v.store_id")?;
    let sql = format!(
        "SELECT p.photo_id, p.visit_id, v.started_wall_ms, p.user_id, p.store_id, p.photo_kind,
                p.sha256, p.byte_len, p.evidence_code, p.received, p.verified, p.problems
         FROM photos p JOIN visits v ON v.id = p.visit_id
         WHERE {cond} ORDER BY v.started_wall_ms, p.visit_id, p.photo_id"
    );
    let mut st = conn.prepare(&sql)?;
    let mut rows = st.query(params_from_iter(args))?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let store_id: String = r.get(4)?;
        out.push(vec![
            Cell::Text(r.get(0)?),
            Cell::Text(r.get(1)?),
            Cell::Date(r.get(2)?),
            Cell::Text(r.get(3)?),
            Cell::Text(lk.code(&store_id)),
            Cell::Text(r.get(5)?),
            Cell::Text(r.get(6)?),
            Cell::Number(r.get::<_, i64>(7)? as f64),
            Cell::Text(r.get(8)?),
            Cell::Bool(r.get::<_, i64>(9)? != 0),
            Cell::Bool(r.get::<_, i64>(10)? != 0),
            Cell::text(r.get(11)?),
        ]);
    }
    Ok(out)
}

/// The whole workbook: sheets Visits, Answers, Exceptions, Photos, in that order. Scores are
/// the Visits sheet's `score` column (the visit's total; the server keeps no per-section score).
pub fn export_xlsx(store: &Store, filter: &ExportFilter) -> Result<Vec<u8>, ExportError> {
    use rust_xlsxwriter::{Format, Workbook};
    filter.validate()?;
    let mut book = Workbook::new();
    let header = Format::new().set_bold();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let datetime = Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
    for kind in ExportKind::ALL {
        let t = table(store, kind, filter)?;
        let sheet = book.add_worksheet();
        sheet.set_name(kind.sheet_name())?;
        let mut widths: Vec<usize> = t.columns.iter().map(|c| c.len()).collect();
        for (c, name) in t.columns.iter().enumerate() {
            sheet.write_string_with_format(0, col(c)?, *name, &header)?;
        }
        for (i, row) in t.rows.iter().enumerate() {
            let r = u32::try_from(i + 1).map_err(|_| ExportError::Write("too many rows".into()))?;
            for (c, cell) in row.iter().enumerate() {
                let cc = col(c)?;
                let width = match cell {
                    Cell::Empty => 0,
                    Cell::Text(s) => {
                        sheet.write_string(r, cc, s)?;
                        // CJK characters are about two columns wide.
                        s.chars().map(|ch| if ch.is_ascii() { 1 } else { 2 }).sum()
                    }
                    Cell::Number(n) => {
                        sheet.write_number(r, cc, *n)?;
                        format_number(*n).len()
                    }
                    Cell::Bool(b) => {
                        sheet.write_boolean(r, cc, *b)?;
                        5
                    }
                    Cell::Date(ms) => {
                        let day = (ms + LOCAL_OFFSET_MS).div_euclid(DAY_MS) as f64 + 25_569.0;
                        sheet.write_number_with_format(r, cc, day, &date)?;
                        10
                    }
                    Cell::DateTime(ms) => {
                        sheet.write_number_with_format(r, cc, excel_serial(*ms), &datetime)?;
                        19
                    }
                };
                if let Some(w) = widths.get_mut(c) {
                    *w = (*w).max(width);
                }
            }
        }
        for (c, w) in widths.iter().enumerate() {
            sheet.set_column_width(col(c)?, (*w).clamp(6, 60) as f64 + 2.0)?;
        }
        sheet.set_freeze_panes(1, 0)?;
    }
    Ok(book.save_to_buffer()?)
}

fn col(c: usize) -> Result<u16, ExportError> {
    u16::try_from(c).map_err(|_| ExportError::Write("too many columns".into()))
}

/// One kind as CSV: UTF-8 with a byte-order mark (so Excel reads Chinese correctly), CRLF line
/// ends, the sheet's columns; dates `YYYY-MM-DD`, times `YYYY-MM-DD HH:MM:SS` (UTC+08:00),
/// booleans `TRUE`/`FALSE`.
pub fn export_csv(store: &Store, kind: ExportKind, filter: &ExportFilter) -> Result<String, ExportError> {
    let t = table(store, kind, filter)?;
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let err = |e: csv::Error| ExportError::Write(e.to_string());
    w.write_record(t.columns).map_err(err)?;
    for row in &t.rows {
        w.write_record(row.iter().map(Cell::to_csv)).map_err(err)?;
    }
    let bytes = w.into_inner().map_err(|e| ExportError::Write(e.to_string()))?;
    let body = String::from_utf8(bytes).map_err(|e| ExportError::Write(e.to_string()))?;
    Ok(format!("\u{feff}{body}"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip() {
        for d in ["1970-01-01", "2000-02-29", "2026-11-23", "2026-12-31"] {
            let days = parse_date(d).unwrap();
            assert_eq!(local_date(days * DAY_MS - LOCAL_OFFSET_MS), d);
        }
        assert_eq!(parse_date("2026-02-29"), None);
        assert_eq!(parse_date("2026-13-01"), None);
        assert_eq!(parse_date("26-1-1"), None);
        // 2026-11-23T16:30:00Z is 2026-11-24 00:30 in Shanghai.
        let ms = (parse_date("2026-11-23").unwrap() * DAY_MS) + 16 * 3_600_000 + 30 * 60_000;
        assert_eq!(local_datetime(ms), "2026-11-24 00:30:00");
    }

    #[test]
    fn filter_query_round_trip() {
        let f = ExportFilter {
            from: Some("2026-11-01".into()),
            to: Some("2026-11-30".into()),
            rep_id: Some("rep-li".into()),
            store_id: None,
            territory: Some("上海 east&x".into()),
            team_of: Some("sup-wang".into()),
        };
        let q = f.to_query();
        assert_eq!(ExportFilter::from_query(&q).unwrap(), f);
        assert_eq!(
            ExportFilter::from_query("?from=&rep_id=a+b")
                .unwrap()
                .rep_id
                .as_deref(),
            Some("a b")
        );
        assert!(ExportFilter::from_query("from=2026-1-1").is_err());
        assert!(ExportFilter::from_query("evil=1").is_err());
        assert!(ExportFilter::from_query("from=2026-11-02&to=2026-11-01").is_err());
        assert!(ExportFilter::from_query("rep_id=%zz").is_err());
    }
}
