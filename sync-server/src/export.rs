//! Export of visits, answers, exceptions and photos' metadata as one XLSX workbook (one sheet
//! per kind) or as CSV (one kind per file), with the filters of the head-office pages.
//!
//! Time zone: every date and time is local time in the store's calendar ([`crate::calendar`],
//! `--time-zone`, default UTC+08:00). A visit's `date` is the local date of its
//! `started_wall_ms`; the date filters select visits by that date. Answers and photos follow
//! their visit. An exception's `date` is its `visit_day` (its visit's day, or for a finding
//! without a visit the day of the event it is about), whenever the server received it; its
//! user and store are its visit's when it has one.
//!
//! Cells are typed: dates and times are real Excel date-times (numbers with a date format),
//! numbers are numbers, yes/no are booleans, the rest text. The header row is bold and frozen.
//! CSV has the same columns, UTF-8 with a byte-order mark (Excel then reads Chinese correctly),
//! dates as `YYYY-MM-DD` and times as `YYYY-MM-DD HH:MM:SS` (local).
//!
//! Language: sheet names, column headers and the values people read (visit kind, status,
//! geofence, exception codes and sentences, photo kinds and problems, template item and choice
//! labels) follow the reader's language; ids, codes of stores, numbers and dates do not.

use std::collections::HashMap;

use crate::db::types::Value;
use crate::db::{Connection, params_from_iter};
use fieldproof_core::model::AnswerValue;

use crate::calendar::{Calendar, day_string, excel_day_serial, parse_day};
use crate::i18n::Lang;
use crate::messages::{self, PhotoName};
use crate::store::Store;
use crate::values::{self, TemplateLabels};

/// The filters of the head-office pages. All set filters apply together.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExportFilter {
    /// Local date `YYYY-MM-DD`, inclusive: the day of the visit's `started_wall_ms` (an
    /// exception's `visit_day`).
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

impl From<crate::db::Error> for ExportError {
    fn from(e: crate::db::Error) -> Self {
        ExportError::Storage(e.to_string())
    }
}

impl From<crate::error::ApiError> for ExportError {
    fn from(e: crate::error::ApiError) -> Self {
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

    /// The sheet's English name: `Visits`, `Answers`, `Exceptions`, `Photos`.
    pub fn sheet_name(self) -> &'static str {
        self.sheet_title(Lang::En)
    }

    /// The sheet's name in `lang` (拜访, 检查项, 异常, 照片): also the CSV's name in links.
    pub fn sheet_title(self, lang: Lang) -> &'static str {
        let (en, zh) = match self {
            ExportKind::Visits => ("Visits", "拜访"),
            ExportKind::Answers => ("Answers", "检查项"),
            ExportKind::Exceptions => ("Exceptions", "异常"),
            ExportKind::Photos => ("Photos", "照片"),
        };
        match lang {
            Lang::En => en,
            Lang::Zh => zh,
        }
    }

    /// The column headers in `lang`, in the order of [`ExportKind::columns`].
    pub fn headers(self, lang: Lang) -> Vec<&'static str> {
        self.columns()
            .iter()
            .map(|c| {
                HEADERS
                    .iter()
                    .find(|(k, _, _)| k == c)
                    .map_or(*c, |(_, en, zh)| match lang {
                        Lang::En => en,
                        Lang::Zh => zh,
                    })
            })
            .collect()
    }

    /// Case-insensitive [`ExportKind::as_str`].
    pub fn parse(s: &str) -> Result<ExportKind, ExportError> {
        ExportKind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| ExportError::UnknownKind(s.to_string()))
    }

    /// The columns' stable keys, in order (the headers people see are [`ExportKind::headers`]).
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
                "status",
                "assignee_id",
                "event_at",
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

/// Column headers: (key, English, 中文).
const HEADERS: &[(&str, &str, &str)] = &[
    ("visit_id", "Visit ID", "拜访编号"),
    ("date", "Date", "日期"),
    ("started", "Started", "开始时间"),
    ("ended", "Ended", "结束时间"),
    ("duration_min", "Duration (min)", "时长（分钟）"),
    ("rep_id", "Rep ID", "业务员编号"),
    ("rep_name", "Rep", "业务员"),
    ("store_code", "Store code", "门店编码"),
    ("store_name", "Store", "门店名称"),
    ("territory", "Territory", "区域"),
    ("kind", "Kind", "类型"),
    ("status", "Status", "状态"),
    ("geofence", "Geofence", "地理围栏"),
    ("distance_m", "Distance (m)", "距离（米）"),
    ("score", "Score", "得分"),
    ("answers", "Answers", "检查项数"),
    ("photos", "Photos", "照片数"),
    ("photos_verified", "Verified photos", "已验证照片数"),
    ("open_exceptions", "Open exceptions", "未处理异常"),
    ("item_id", "Item", "检查项"),
    ("value", "Value", "结果"),
    ("note", "Note", "备注"),
    ("revision", "Revision", "修改次数"),
    ("answered_at", "Answered at", "填写时间"),
    ("id", "No.", "序号"),
    ("code", "Exception", "异常类型"),
    ("detail", "Detail", "详情"),
    ("created_at", "Raised at", "发现时间"),
    ("resolved_by", "Resolved by", "处理人"),
    ("resolved_at", "Resolved at", "处理时间"),
    ("resolution_comment", "Resolution comment", "处理说明"),
    ("assignee_id", "Assigned to", "负责人"),
    ("event_at", "Happened at", "发生时间"),
    ("photo_id", "Photo ID", "照片编号"),
    ("sha256", "SHA-256", "SHA-256"),
    ("byte_len", "Size (bytes)", "大小（字节）"),
    ("evidence_code", "Evidence code", "防伪码"),
    ("received", "Received", "已收到"),
    ("verified", "Verified", "已验证"),
    ("problems", "Problems", "问题"),
];

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
            .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", crate::url_text::url_enc(v))))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// Checks the dates (and that `from` is not after `to`).
    pub fn validate(&self) -> Result<(), ExportError> {
        if let (Some(a), Some(b)) = (self.first_day()?, self.last_day()?)
            && a > b
        {
            return Err(ExportError::BadFilter("`from` is after `to`".into()));
        }
        Ok(())
    }

    /// The day of `from`.
    fn first_day(&self) -> Result<Option<i64>, ExportError> {
        self.from
            .as_deref()
            .map(|d| {
                parse_day(d)
                    .ok_or_else(|| ExportError::BadFilter(format!("from: {d:?} is not a date YYYY-MM-DD")))
            })
            .transpose()
    }

    /// The day of `to`.
    fn last_day(&self) -> Result<Option<i64>, ExportError> {
        self.to
            .as_deref()
            .map(|d| {
                parse_day(d)
                    .ok_or_else(|| ExportError::BadFilter(format!("to: {d:?} is not a date YYYY-MM-DD")))
            })
            .transpose()
    }

    /// A SQL condition on the given expressions (the row's time or day, user id, store id) and
    /// its parameters. The store's territory and the user's supervisor are looked up by id.
    fn sql(
        &self,
        cal: Calendar,
        when: When<'_>,
        user: &str,
        store: &str,
    ) -> Result<(String, Vec<Value>), ExportError> {
        let mut cond = vec!["1 = 1".to_string()];
        let mut args: Vec<Value> = Vec::new();
        if let Some(day) = self.first_day()? {
            let (expr, value) = match when {
                When::Instant(e) => (e, cal.day_bounds(day).0),
                When::Day(e) => (e, day),
            };
            args.push(Value::Integer(value));
            cond.push(format!("{expr} >= ?{}", args.len()));
        }
        if let Some(day) = self.last_day()? {
            let (expr, value) = match when {
                When::Instant(e) => (e, cal.day_bounds(day).1),
                When::Day(e) => (e, day + 1),
            };
            args.push(Value::Integer(value));
            cond.push(format!("{expr} < ?{}", args.len()));
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

/// What the date filters apply to: a Unix-ms column (a visit's start) or a day column (an
/// exception's `visit_day`).
#[derive(Debug, Clone, Copy)]
enum When<'a> {
    Instant(&'a str),
    Day(&'a str),
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

/// One typed cell of an export.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
    Bool(bool),
    /// A local date: a day number ([`crate::calendar`]).
    Date(i64),
    /// An instant, Unix ms, shown as local date and time.
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

    /// How the cell reads in CSV, times in this calendar.
    pub fn to_csv(&self, cal: Calendar) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) => s.clone(),
            Cell::Number(n) => format_number(*n),
            Cell::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
            Cell::Date(day) => day_string(*day),
            Cell::DateTime(ms) => cal.datetime_secs(*ms),
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
    /// The calendar its dates and times are local to.
    pub calendar: Calendar,
    /// The columns' stable keys.
    pub columns: &'static [&'static str],
    /// The headers in the table's language.
    pub headers: Vec<&'static str>,
    pub rows: Vec<Vec<Cell>>,
}

/// The rows of one kind under a filter, in a stable order (visit start, then id), with the
/// words people read in `lang`.
pub fn table(
    store: &Store,
    kind: ExportKind,
    filter: &ExportFilter,
    lang: Lang,
) -> Result<Table, ExportError> {
    filter.validate()?;
    let conn = store.reader()?;
    let lookups = Lookups::load(&conn, lang)?;
    let cal = store.calendar();
    let rows = match kind {
        ExportKind::Visits => visits(&conn, cal, &lookups, filter)?,
        ExportKind::Answers => answers(&conn, cal, &lookups, filter)?,
        ExportKind::Exceptions => exceptions(&conn, cal, &lookups, filter)?,
        ExportKind::Photos => photos(&conn, cal, &lookups, filter)?,
    };
    Ok(Table {
        kind,
        calendar: cal,
        columns: kind.columns(),
        headers: kind.headers(lang),
        rows,
    })
}

/// Names and codes from the reference data's JSON bodies, and the reader's language.
struct Lookups {
    lang: Lang,
    user_names: HashMap<String, String>,
    /// id -> (code, name, territory)
    stores: HashMap<String, (String, String, String)>,
    /// (template id, version) -> its labels
    templates: HashMap<(String, i64), TemplateLabels>,
}

/// What an exception's sentence names, for a sheet: stores and reps by name, items by the
/// visit's template; no photo links in a spreadsheet.
struct SheetNames<'a> {
    lk: &'a Lookups,
    labels: Option<&'a TemplateLabels>,
}

impl messages::Names for SheetNames<'_> {
    fn store(&self, store_id: &str) -> Option<String> {
        self.lk
            .stores
            .get(store_id)
            .map(|s| s.1.clone())
            .filter(|n| !n.is_empty())
    }
    fn user(&self, user_id: &str) -> Option<String> {
        self.lk.user_names.get(user_id).cloned().filter(|n| !n.is_empty())
    }
    fn photo(&self, _photo_id: &str) -> Option<PhotoName> {
        None
    }
    fn item(&self, item_id: &str) -> Option<String> {
        self.labels.and_then(|l| l.item(item_id)).map(str::to_string)
    }
}

impl Lookups {
    fn load(conn: &Connection, lang: Lang) -> Result<Lookups, ExportError> {
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
        let mut templates = HashMap::new();
        let mut st = conn.prepare("SELECT id, version, body FROM templates")?;
        let rows = st.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        for row in rows {
            let (id, version, body) = row?;
            if let Some(labels) = TemplateLabels::from_body(&body) {
                templates.insert((id, version), labels);
            }
        }
        Ok(Lookups {
            lang,
            user_names,
            stores,
            templates,
        })
    }

    fn labels(&self, template_id: Option<String>, version: Option<i64>) -> Option<&TemplateLabels> {
        self.templates.get(&(template_id?, version?))
    }

    /// Comma-separated codes (exceptions, photo problems) in words.
    fn code_list(&self, codes: Option<String>) -> Cell {
        let sep = match self.lang {
            Lang::En => ", ",
            Lang::Zh => "、",
        };
        Cell::text(codes.filter(|c| !c.is_empty()).map(|c| {
            c.split(',')
                .map(|code| self.lang.code_words(code))
                .collect::<Vec<_>>()
                .join(sep)
        }))
    }

    /// The store's code; the id when the store is unknown (an `unknown_store` visit).
    fn code(&self, store_id: &str) -> String {
        self.stores
            .get(store_id)
            .map_or_else(|| store_id.to_string(), |s| s.0.clone())
    }
}

fn visits(
    conn: &Connection,
    cal: Calendar,
    lk: &Lookups,
    filter: &ExportFilter,
) -> Result<Vec<Vec<Cell>>, ExportError> {
    let (cond, args) = filter.sql(cal, When::Instant("v.started_wall_ms"), "v.user_id", "v.store_id")?;
    let sql = format!(
        "SELECT v.id, v.started_wall_ms, coalesce(v.ended_wall_ms, v.completed_wall_ms), v.user_id,
                v.store_id, v.kind, v.status, v.geofence, v.distance_m, v.score, v.answers,
                (SELECT count(*) FROM photos p WHERE p.visit_id = v.id),
                (SELECT count(*) FROM photos p WHERE p.visit_id = v.id AND p.verified = 1 AND NOT {revoked}),
                (SELECT group_concat(code, ',') FROM
                   (SELECT DISTINCT e.code FROM exceptions e
                    WHERE e.visit_id = v.id AND e.resolved_ms IS NULL ORDER BY e.code) AS codes)
         FROM visits v WHERE {cond} ORDER BY v.started_wall_ms, v.id",
        revoked = crate::photo_verdict::REVOKED_SQL
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
            Cell::Date(cal.day_of(started)),
            Cell::DateTime(started),
            Cell::datetime(ended),
            Cell::num(ended.map(|e| ((e - started) as f64 / 60_000.0 * 10.0).round() / 10.0)),
            Cell::Text(user.clone()),
            Cell::text(lk.user_names.get(&user).cloned()),
            Cell::Text(lk.code(&store_id)),
            Cell::text(store.map(|s| s.1.clone())),
            Cell::text(store.map(|s| s.2.clone())),
            Cell::Text(values::visit_kind(lk.lang, &r.get::<_, String>(5)?)),
            Cell::Text(values::visit_status(lk.lang, &r.get::<_, String>(6)?)),
            Cell::Text(values::geofence(lk.lang, &r.get::<_, String>(7)?)),
            Cell::num(r.get::<_, Option<f64>>(8)?.map(|d| (d * 10.0).round() / 10.0)),
            Cell::num(r.get(9)?),
            Cell::Number(r.get::<_, i64>(10)? as f64),
            Cell::Number(r.get::<_, i64>(11)? as f64),
            Cell::Number(r.get::<_, i64>(12)? as f64),
            lk.code_list(r.get(13)?),
        ]);
    }
    Ok(out)
}

/// A stored answer value (the core's `AnswerValue` JSON) as a cell: numbers as numbers,
/// prices in yuan, yes/no as booleans, a choice as its template label (its id when the
/// template does not have it); anything unreadable as its text.
pub fn answer_cell(stored: &str, item_id: &str, labels: Option<&TemplateLabels>) -> Cell {
    match serde_json::from_str::<AnswerValue>(stored) {
        Ok(AnswerValue::YesNo { value }) => Cell::Bool(value),
        Ok(AnswerValue::Number { value }) => Cell::Number(value),
        Ok(AnswerValue::Price { cents }) => Cell::Number(cents as f64 / 100.0),
        Ok(AnswerValue::Choice { choice_id }) => Cell::Text(
            labels
                .and_then(|l| l.choice(item_id, &choice_id))
                .map_or(choice_id, str::to_string),
        ),
        Ok(AnswerValue::Text { value }) => Cell::Text(value),
        Err(_) => Cell::Text(stored.to_string()),
    }
}

fn answers(
    conn: &Connection,
    cal: Calendar,
    lk: &Lookups,
    filter: &ExportFilter,
) -> Result<Vec<Vec<Cell>>, ExportError> {
    let (cond, args) = filter.sql(cal, When::Instant("v.started_wall_ms"), "v.user_id", "v.store_id")?;
    let sql = format!(
        "SELECT a.visit_id, v.started_wall_ms, v.user_id, v.store_id, a.item_id, a.value, a.note,
                a.revision, a.answered_ms, v.template_id, v.template_version
         FROM answers a JOIN visits v ON v.id = a.visit_id
         WHERE {cond} ORDER BY v.started_wall_ms, a.visit_id, a.item_id"
    );
    let mut st = conn.prepare(&sql)?;
    let mut rows = st.query(params_from_iter(args))?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let store_id: String = r.get(3)?;
        let item_id: String = r.get(4)?;
        let value: String = r.get(5)?;
        let labels = lk.labels(r.get(9)?, r.get(10)?);
        // The template's label; the item's id when the template does not have it.
        let item = labels
            .and_then(|l| l.item(&item_id))
            .map_or_else(|| item_id.clone(), str::to_string);
        out.push(vec![
            Cell::Text(r.get(0)?),
            Cell::Date(cal.day_of(r.get(1)?)),
            Cell::Text(r.get(2)?),
            Cell::Text(lk.code(&store_id)),
            Cell::Text(item),
            answer_cell(&value, &item_id, labels),
            Cell::text(r.get(6)?),
            Cell::Number(r.get::<_, i64>(7)? as f64),
            Cell::DateTime(r.get(8)?),
        ]);
    }
    Ok(out)
}

fn exceptions(
    conn: &Connection,
    cal: Calendar,
    lk: &Lookups,
    filter: &ExportFilter,
) -> Result<Vec<Vec<Cell>>, ExportError> {
    let (cond, args) = filter.sql(
        cal,
        When::Day("e.visit_day"),
        "coalesce(v.user_id, e.user_id)",
        "coalesce(v.store_id, e.store_id)",
    )?;
    let sql = format!(
        "SELECT e.id, e.code, e.visit_id, e.visit_day,
                coalesce(v.user_id, e.user_id), coalesce(v.store_id, e.store_id), e.params,
                e.created_ms, e.resolved_by, e.resolved_ms, e.resolution_comment,
                e.status, e.assignee_id, e.event_ms, v.template_id, v.template_version
         FROM exceptions e LEFT JOIN visits v ON v.id = e.visit_id
         WHERE {cond} ORDER BY e.id"
    );
    let mut st = conn.prepare(&sql)?;
    let mut rows = st.query(params_from_iter(args))?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let store_id: Option<String> = r.get(5)?;
        let code: String = r.get(1)?;
        let params: Option<serde_json::Value> = r
            .get::<_, Option<String>>(6)?
            .and_then(|p| serde_json::from_str(&p).ok());
        let names = SheetNames {
            lk,
            labels: lk.labels(r.get(14)?, r.get(15)?),
        };
        let said = messages::render(lk.lang, &code, params.as_ref(), &names);
        out.push(vec![
            Cell::Number(r.get::<_, i64>(0)? as f64),
            Cell::Text(said.title),
            Cell::text(r.get(2)?),
            Cell::Date(r.get(3)?),
            Cell::text(r.get(4)?),
            Cell::text(store_id.map(|s| lk.code(&s))),
            Cell::Text(said.sentence),
            Cell::DateTime(r.get(7)?),
            Cell::text(r.get(8)?),
            Cell::datetime(r.get(9)?),
            Cell::text(r.get(10)?),
            Cell::Text(values::exception_status(lk.lang, &r.get::<_, String>(11)?)),
            Cell::text(r.get(12)?),
            Cell::DateTime(r.get(13)?),
        ]);
    }
    Ok(out)
}

fn photos(
    conn: &Connection,
    cal: Calendar,
    lk: &Lookups,
    filter: &ExportFilter,
) -> Result<Vec<Vec<Cell>>, ExportError> {
    let (cond, args) = filter.sql(cal, When::Instant("v.started_wall_ms"), "v.user_id", "v.store_id")?;
    let sql = format!(
        "SELECT p.photo_id, p.visit_id, v.started_wall_ms, p.user_id, p.store_id, p.photo_kind,
                p.sha256, p.byte_len, p.evidence_code, p.received, p.verified, p.problems,
                (SELECT d.revoked_ms FROM devices d WHERE d.device_id = p.device_id),
                (SELECT o.received_ms FROM ops o WHERE o.op_id = p.op_id)
         FROM photos p JOIN visits v ON v.id = p.visit_id
         WHERE {cond} ORDER BY v.started_wall_ms, p.visit_id, p.photo_id"
    );
    let mut st = conn.prepare(&sql)?;
    let mut rows = st.query(params_from_iter(args))?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let store_id: String = r.get(4)?;
        // As shown: the device's revocation applied (`photo_verdict`).
        let problems: Option<String> = r.get(11)?;
        let shown = crate::photo_verdict::shown(
            r.get::<_, i64>(10)? != 0,
            problems.as_deref(),
            r.get(12)?,
            r.get(13)?,
        );
        out.push(vec![
            Cell::Text(r.get(0)?),
            Cell::Text(r.get(1)?),
            Cell::Date(cal.day_of(r.get(2)?)),
            Cell::Text(r.get(3)?),
            Cell::Text(lk.code(&store_id)),
            Cell::Text(values::photo_kind(lk.lang, &r.get::<_, String>(5)?)),
            Cell::Text(r.get(6)?),
            Cell::Number(r.get::<_, i64>(7)? as f64),
            Cell::Text(r.get(8)?),
            Cell::Bool(r.get::<_, i64>(9)? != 0),
            Cell::Bool(shown.verified),
            lk.code_list(shown.problems),
        ]);
    }
    Ok(out)
}

/// [`export_xlsx_in`] in English (the admin CLI's).
pub fn export_xlsx(store: &Store, filter: &ExportFilter) -> Result<Vec<u8>, ExportError> {
    export_xlsx_in(store, filter, Lang::En)
}

/// The whole workbook: sheets Visits, Answers, Exceptions, Photos (拜访, 检查项, 异常, 照片), in
/// that order, in `lang`. Scores are the Visits sheet's `score` column (the visit's total; the
/// server keeps no per-section score).
pub fn export_xlsx_in(store: &Store, filter: &ExportFilter, lang: Lang) -> Result<Vec<u8>, ExportError> {
    use rust_xlsxwriter::{Format, Workbook};
    filter.validate()?;
    let mut book = Workbook::new();
    let header = Format::new().set_bold();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let datetime = Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
    for kind in ExportKind::ALL {
        let t = table(store, kind, filter, lang)?;
        let sheet = book.add_worksheet();
        sheet.set_name(kind.sheet_title(lang))?;
        let mut widths: Vec<usize> = t.headers.iter().map(|h| text_width(h)).collect();
        for (c, name) in t.headers.iter().enumerate() {
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
                        text_width(s)
                    }
                    Cell::Number(n) => {
                        sheet.write_number(r, cc, *n)?;
                        format_number(*n).len()
                    }
                    Cell::Bool(b) => {
                        sheet.write_boolean(r, cc, *b)?;
                        5
                    }
                    Cell::Date(day) => {
                        sheet.write_number_with_format(r, cc, excel_day_serial(*day), &date)?;
                        10
                    }
                    Cell::DateTime(ms) => {
                        sheet.write_number_with_format(r, cc, t.calendar.excel_serial(*ms), &datetime)?;
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

/// How many columns a text takes: CJK characters are about two wide.
fn text_width(s: &str) -> usize {
    s.chars().map(|ch| if ch.is_ascii() { 1 } else { 2 }).sum()
}

fn col(c: usize) -> Result<u16, ExportError> {
    u16::try_from(c).map_err(|_| ExportError::Write("too many columns".into()))
}

/// [`export_csv_in`] in English (the admin CLI's).
pub fn export_csv(store: &Store, kind: ExportKind, filter: &ExportFilter) -> Result<String, ExportError> {
    export_csv_in(store, kind, filter, Lang::En)
}

/// One kind as CSV in `lang`: UTF-8 with a byte-order mark (so Excel reads Chinese correctly),
/// CRLF line ends, the sheet's columns; dates `YYYY-MM-DD`, times `YYYY-MM-DD HH:MM:SS`
/// (in the server's time zone), booleans `TRUE`/`FALSE`.
pub fn export_csv_in(
    store: &Store,
    kind: ExportKind,
    filter: &ExportFilter,
    lang: Lang,
) -> Result<String, ExportError> {
    let t = table(store, kind, filter, lang)?;
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let err = |e: csv::Error| ExportError::Write(e.to_string());
    w.write_record(&t.headers).map_err(err)?;
    for row in &t.rows {
        w.write_record(row.iter().map(|c| c.to_csv(t.calendar)))
            .map_err(err)?;
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
    fn cells_are_local_to_the_calendar() {
        // 2026-11-23T16:30:00Z is 2026-11-24 00:30 in Shanghai.
        let day = parse_day("2026-11-23").unwrap();
        let ms = day * crate::calendar::DAY_MS + 16 * 3_600_000 + 30 * 60_000;
        assert_eq!(Cell::DateTime(ms).to_csv(Calendar::CHINA), "2026-11-24 00:30:00");
        assert_eq!(Cell::DateTime(ms).to_csv(Calendar::UTC), "2026-11-23 16:30:00");
        assert_eq!(Cell::Date(day).to_csv(Calendar::UTC), "2026-11-23");
        assert!(ExportFilter::from_query("from=2026-11-23&to=2026-11-23").is_ok());
    }

    #[test]
    fn every_column_and_sheet_has_words_in_both_languages() {
        for kind in ExportKind::ALL {
            for lang in [Lang::En, Lang::Zh] {
                let headers = kind.headers(lang);
                assert_eq!(headers.len(), kind.columns().len());
                for (h, key) in headers.iter().zip(kind.columns()) {
                    assert_ne!(h, key, "{kind}: {key} has no header in {lang:?}");
                }
            }
            assert_ne!(kind.sheet_title(Lang::Zh), kind.sheet_title(Lang::En));
        }
        let mut keys: Vec<&str> = HEADERS.iter().map(|(k, _, _)| *k).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), HEADERS.len(), "a header key twice");
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
