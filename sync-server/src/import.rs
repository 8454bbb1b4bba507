//! Import of head office's data from XLSX or CSV, validated as a whole: territories,
//! supervisors, teams, reps, stores, products and plans.
//!
//! - XLSX: the kind of each sheet comes from its name, English or Chinese (`Stores` / `门店`,
//!   `Reps` / `业务员`, ...: [`ImportKind::parse`]); other sheets (notes) are ignored. A workbook
//!   with no sheet of a known name is read by its first sheet as the kind chosen on the form.
//! - CSV: one kind per file, chosen on the form (`kind`) or with `admin import --kind`; never
//!   from the file's name. UTF-8, a byte-order mark is fine.
//!
//! Row 1 is the header: each column by its English or Chinese header or its key, any order
//! (the leaf crate `fieldproof-sheets`, `sync-server/sheets/`, holds the table;
//! docs/HEAD-OFFICE.md describes every sheet and column, and [`template_xlsx`] writes the
//! template workbook from the same table). Blank rows are skipped.
//!
//! Every problem in the file is collected, each with its sheet, row (as Excel shows it, the
//! header is row 1), column (as the file writes it) and a code with parameters that the pages
//! render in the reader's language (the catalogue's `import_*` messages). Then the whole file
//! goes through [`crate::people::apply`]: the core's own validation, one transaction with the
//! territories and teams, change-feed rows for the phones. Nothing is written when anything
//! is wrong.
//!
//! Ids: a store's id is its `id` column when given, else the id of the store the server already
//! holds with that code (so re-importing updates it), else the code. Products likewise by SKU.
//! A plan's id is its `id` column, else `REP:DATE:STORE_ID` (one plan per rep, day and store).
//! A rep's team sets their supervisor (the team's); a team named again with another supervisor
//! takes its reps along (those the Reps sheet lists go where it says), as on the people pages.
//!
//! Limits: the file is read within [`ImportLimits`] (the store's `Limits::import`) by
//! [`parse_file`] / [`parse_csv`] (`fieldproof-sheets`, with no database or server code, so the
//! fuzz target builds that crate alone), the pure half of an import: an
//! XLSX's zip members are measured before calamine opens it, its sheets go through calamine's
//! streaming cell reader into sparse rows, CSV goes field by field through csv-core. A file
//! past a limit is a [`LimitError`]: a code and parameters, in words through the catalogue.

use std::collections::{HashMap, HashSet};

use fieldproof_core::model::{
    GeofenceMode, PlannedVisit, Product, ReferenceData, Role, Store as StoreRecord, TemplateKind, User,
};

pub use fieldproof_sheets::{
    Column, ImportKind, ImportLimits, LimitError, Parsed, ReadError, UnreadableFile,
};
use fieldproof_sheets::{Grid, Raw};

use crate::people::StructureChange;
use crate::store::{AdminError, Store};

mod pipeline;
mod template;
pub use pipeline::IMPORTED_BY;
pub use template::{pipeline_template_xlsx, template_xlsx};

/// One thing wrong with an imported file: where, and what as a code with parameters (the
/// catalogue's `import_*` messages; `Display` is the English).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CellProblem {
    pub sheet: String,
    /// 1-based as Excel shows it; the header is row 1. 0 when the problem is not one row's.
    pub row: u32,
    /// The column's header as the file writes it (a missing one: its header in the sheet's
    /// language); empty when the problem is the whole row's.
    pub column: String,
    pub code: &'static str,
    pub params: Vec<(&'static str, String)>,
}

impl CellProblem {
    /// The problem in words, in English (the CLI's); pages use `code` and `params`.
    pub fn message(&self) -> String {
        crate::i18n::Lang::En.message(self.code, &self.params)
    }
}

impl std::fmt::Display for CellProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} row {}", self.sheet, self.row)?;
        if !self.column.is_empty() {
            write!(f, " column {}", self.column)?;
        }
        write!(f, ": {}", self.message())
    }
}

/// What an import loaded (records in the file; unchanged ones send phones nothing).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportReport {
    pub territories: u32,
    pub supervisors: u32,
    pub teams: u32,
    pub reps: u32,
    pub stores: u32,
    pub products: u32,
    pub plans: u32,
    // A file holds the reference sheets or these (never both): left out of the JSON at zero,
    // so a reference import's report reads as it always has.
    #[serde(skip_serializing_if = "is_zero")]
    pub customers: u32,
    #[serde(skip_serializing_if = "is_zero")]
    pub activities: u32,
    #[serde(skip_serializing_if = "is_zero")]
    pub leads: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportError {
    /// The file was read but something in it is wrong: every problem found. Nothing imported.
    Refused(Vec<CellProblem>),
    /// Not an XLSX / CSV file this understands (or no sheet of a known name).
    Unreadable(UnreadableFile),
    /// The file is beyond one of the [`ImportLimits`]. Nothing imported.
    Limit(LimitError),
    Storage(String),
}

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ImportError::Refused(problems) => {
                write!(f, "file refused, nothing imported ({} problems)", problems.len())?;
                for p in problems {
                    write!(f, "\n  {p}")?;
                }
                Ok(())
            }
            ImportError::Unreadable(u) => {
                write!(f, "{}", crate::i18n::Lang::En.message(u.code, &[]))?;
                if !u.detail.is_empty() {
                    write!(f, " ({})", u.detail)?;
                }
                Ok(())
            }
            ImportError::Limit(e) => write!(
                f,
                "file refused, nothing imported: {}",
                crate::i18n::Lang::En.message(e.code(), &e.params())
            ),
            ImportError::Storage(m) => write!(f, "database: {m}"),
        }
    }
}

impl std::error::Error for ImportError {}

impl From<ReadError> for ImportError {
    fn from(e: ReadError) -> Self {
        match e {
            ReadError::Unreadable(u) => ImportError::Unreadable(u),
            ReadError::Limit(l) => ImportError::Limit(l),
        }
    }
}

/// Read an XLSX or CSV file within `limits` ([`fieldproof_sheets::parse_file`]): a workbook
/// is told by its content or an `.xlsx` name, the kind of data by its sheet names or `kind`.
pub fn parse_file(
    file_name: &str,
    bytes: &[u8],
    kind: Option<ImportKind>,
    limits: &ImportLimits,
) -> Result<Parsed, ImportError> {
    Ok(fieldproof_sheets::parse_file(file_name, bytes, kind, limits)?)
}

/// Read one CSV file of a known kind within `limits`.
pub fn parse_csv(kind: ImportKind, bytes: &[u8], limits: &ImportLimits) -> Result<Parsed, ImportError> {
    Ok(fieldproof_sheets::parse_csv(kind, bytes, limits)?)
}

/// Read a file for `admin import`, refusing it past `limits.max_file_bytes` without reading
/// more than that.
pub fn read_file(path: &std::path::Path, limits: &ImportLimits) -> Result<Vec<u8>, ImportError> {
    Ok(fieldproof_sheets::read_file(path, limits)?)
}

/// Import an XLSX or CSV file within the store's [`ImportLimits`]: [`parse_file`] with the
/// form's `kind`, then checked and loaded as a whole.
pub fn import_file(
    store: &Store,
    file_name: &str,
    bytes: &[u8],
    kind: Option<ImportKind>,
    now_ms: i64,
) -> Result<ImportReport, ImportError> {
    let parsed = parse_file(file_name, bytes, kind, &store.limits().import)?;
    import_grids(store, parsed.grids, now_ms)
}

/// Import one CSV file of a known kind within the store's [`ImportLimits`].
pub fn import_csv(
    store: &Store,
    kind: ImportKind,
    bytes: &[u8],
    now_ms: i64,
) -> Result<ImportReport, ImportError> {
    let parsed = parse_csv(kind, bytes, &store.limits().import)?;
    import_grids(store, parsed.grids, now_ms)
}

/// What the server holds that the file is checked against.
struct Known {
    territories: HashSet<String>,
    /// team code -> supervisor id
    teams: HashMap<String, String>,
    /// supervisor id -> team code
    team_of_supervisor: HashMap<String, String>,
    /// code -> id
    store_codes: HashMap<String, String>,
    /// sku -> id
    product_skus: HashMap<String, String>,
    user_roles: HashMap<String, Role>,
    /// template id -> kind
    templates: HashMap<String, TemplateKind>,
}

/// One sheet being checked: where its columns are, and the problems found.
struct Sheet<'a> {
    name: &'a str,
    kind: ImportKind,
    /// Problems name columns by their Chinese headers (a Chinese sheet name or headers).
    zh: bool,
    /// column key -> (index, header as the file writes it)
    columns: HashMap<&'static str, (usize, String)>,
    problems: &'a mut Vec<CellProblem>,
}

type Params = Vec<(&'static str, String)>;

impl Sheet<'_> {
    fn problem(&mut self, row: u32, key: &str, code: &'static str, params: Params) {
        let column = match self.columns.get(key) {
            Some((_, header)) => header.clone(),
            None => self
                .kind
                .columns()
                .iter()
                .find(|c| c.key == key)
                .map_or(String::new(), |c| c.header(self.zh).to_string()),
        };
        self.problems.push(CellProblem {
            sheet: self.name.to_string(),
            row,
            column,
            code,
            params,
        });
    }

    fn raw<'r>(&self, cells: &'r [Raw], key: &str) -> &'r Raw {
        self.columns
            .get(key)
            .and_then(|(i, _)| cells.get(*i))
            .unwrap_or(&Raw::Empty)
    }

    /// The cell as text, None when blank.
    fn text(&self, cells: &[Raw], key: &str) -> Option<String> {
        match self.raw(cells, key) {
            Raw::Empty => None,
            Raw::Text(s) => Some(s.clone()),
            Raw::Date(serial) => Some(excel_day(*serial)),
            Raw::Number(n) => Some(if n.fract() == 0.0 && n.abs() < 1e15 {
                format!("{}", *n as i64)
            } else {
                format!("{n}")
            }),
            Raw::Bool(b) => Some(b.to_string()),
        }
    }

    /// Required text.
    fn required(&mut self, row: u32, cells: &[Raw], key: &str) -> Option<String> {
        let v = self.text(cells, key);
        if v.is_none() {
            self.problem(row, key, "import_value_missing", vec![]);
        }
        v
    }

    /// An optional number; a problem when present and not a number.
    fn number(&mut self, row: u32, cells: &[Raw], key: &str) -> Option<Option<f64>> {
        match self.raw(cells, key) {
            Raw::Empty => Some(None),
            Raw::Number(n) if n.is_finite() => Some(Some(*n)),
            Raw::Text(s) => match s.replace(',', "").parse::<f64>() {
                Ok(n) if n.is_finite() => Some(Some(n)),
                _ => {
                    let value = s.clone();
                    self.problem(row, key, "import_not_number", vec![("value", value)]);
                    None
                }
            },
            other => {
                let value = show(other);
                self.problem(row, key, "import_not_number", vec![("value", value)]);
                None
            }
        }
    }

    /// A required number within `min..=max`.
    fn ranged(&mut self, row: u32, cells: &[Raw], key: &str, min: f64, max: f64) -> Option<f64> {
        match self.number(row, cells, key)? {
            None => {
                self.problem(row, key, "import_value_missing", vec![]);
                None
            }
            Some(n) if n < min || n > max => {
                self.problem(
                    row,
                    key,
                    "import_out_of_range",
                    vec![
                        ("value", n.to_string()),
                        ("min", min.to_string()),
                        ("max", max.to_string()),
                    ],
                );
                None
            }
            Some(n) => Some(n),
        }
    }

    /// A text that is an id of a store, product or plan: at most 128 bytes.
    fn id(&mut self, row: u32, key: &str, v: Option<String>) -> Option<String> {
        let v = v?;
        if v.len() > 128 {
            self.problem(row, key, "import_too_long", vec![("limit", "128".into())]);
            return None;
        }
        Some(v)
    }

    /// A required code of a person, territory or team, as the people pages take it.
    fn code(&mut self, row: u32, cells: &[Raw], key: &str) -> Option<String> {
        let v = self.required(row, cells, key)?;
        match crate::people::check_id(&v) {
            Ok(v) => Some(v),
            Err(_) => {
                self.problem(row, key, "import_bad_id", vec![("value", v)]);
                None
            }
        }
    }

    /// An optional code (blank is none; `Some(None)`), `None` when it is not one.
    fn optional_code(&mut self, row: u32, cells: &[Raw], key: &str) -> Option<Option<String>> {
        match self.text(cells, key) {
            None => Some(None),
            Some(v) => match crate::people::check_id(&v) {
                Ok(v) => Some(Some(v)),
                Err(_) => {
                    self.problem(row, key, "import_bad_id", vec![("value", v)]);
                    None
                }
            },
        }
    }

    fn name(&mut self, row: u32, cells: &[Raw], key: &str) -> Option<String> {
        let v = self.required(row, cells, key)?;
        match crate::people::check_name(&v) {
            Ok(v) => Some(v),
            Err(_) => {
                self.problem(row, key, "import_too_long", vec![("limit", "200".into())]);
                None
            }
        }
    }

    fn phone(&mut self, row: u32, cells: &[Raw], key: &str) -> Option<Option<String>> {
        let v = self.text(cells, key);
        match crate::people::check_phone(v.as_deref()) {
            Ok(p) => Some(p),
            Err(_) => {
                self.problem(
                    row,
                    key,
                    "import_bad_phone",
                    vec![("value", v.unwrap_or_default())],
                );
                None
            }
        }
    }

    /// A duplicate of a key value within the file: a problem naming the first row.
    fn unique(&mut self, row: u32, key: &str, value: &str, seen: &mut HashMap<String, u32>) -> bool {
        if let Some(first) = seen.get(value) {
            let first = *first;
            self.problem(
                row,
                key,
                "import_duplicate",
                vec![("value", value.to_string()), ("first_row", first.to_string())],
            );
            false
        } else {
            seen.insert(value.to_string(), row);
            true
        }
    }
}

/// An Excel date cell's day, `YYYY-MM-DD` (the serial counts days from 1899-12-30).
fn excel_day(serial: f64) -> String {
    crate::calendar::day_string(crate::calendar::day_of_excel_serial(serial))
}

/// A plan's window time in column `key`: `Some(None)` when blank, `Some(Some("HH:MM"))` for a
/// time (text `HH:MM` or a time cell, which Excel keeps as a fraction of a day), `None` after
/// recording a problem.
fn plan_time(sheet: &mut Sheet<'_>, row: u32, cells: &[Raw], key: &str) -> Option<Option<String>> {
    let minutes = match sheet.raw(cells, key).clone() {
        Raw::Empty => return Some(None),
        Raw::Text(t) => fieldproof_core::rules::time_of_day(t.trim()).ok(),
        // A time cell: a fraction of a day (24:00 is 1.0), to the nearest minute.
        Raw::Number(n) if (0.0..=1.0).contains(&n) => Some((n * 1440.0).round() as u32),
        _ => None,
    };
    match minutes {
        Some(m) => Some(Some(format!("{:02}:{:02}", m / 60, m % 60))),
        None => {
            let value = show(sheet.raw(cells, key));
            sheet.problem(row, key, "import_not_time", vec![("value", value)]);
            None
        }
    }
}

fn show(r: &Raw) -> String {
    match r {
        Raw::Empty => String::new(),
        Raw::Text(s) => s.clone(),
        Raw::Date(serial) => excel_day(*serial),
        Raw::Number(n) => n.to_string(),
        Raw::Bool(b) => b.to_string(),
    }
}

/// The sheet's header: where each column is, whether it reads Chinese, and problems for
/// unknown, repeated and missing columns.
fn header<'a>(grid: &'a Grid, problems: &'a mut Vec<CellProblem>) -> Option<Sheet<'a>> {
    let kind = grid.kind;
    let mut sheet = Sheet {
        name: &grid.sheet,
        kind,
        zh: grid.zh,
        columns: HashMap::new(),
        problems,
    };
    let Some((row, cells)) = grid.rows.first() else {
        sheet.problem(1, "", "import_sheet_empty", vec![]);
        return None;
    };
    let mut ok = true;
    let mut found = Vec::new();
    for (i, c) in cells.iter().enumerate() {
        let text = match c {
            Raw::Empty => continue,
            other => show(other),
        };
        let column = kind.column(&text);
        if column.is_some_and(|c| c.zh == text.trim()) {
            sheet.zh = true;
        }
        found.push((i, text, column));
    }
    for (i, text, column) in found {
        match column {
            None => {
                ok = false;
                let expected: Vec<&str> = kind.columns().iter().map(|c| c.header(sheet.zh)).collect();
                let problem = CellProblem {
                    sheet: grid.sheet.clone(),
                    row: *row,
                    column: text.clone(),
                    code: "import_unknown_column",
                    params: vec![
                        ("column", text),
                        ("expected", expected.join(if sheet.zh { "、" } else { ", " })),
                    ],
                };
                sheet.problems.push(problem);
            }
            Some(c) if sheet.columns.contains_key(c.key) => {
                ok = false;
                sheet.columns.insert(c.key, (i, text.clone()));
                sheet.problem(*row, c.key, "import_column_twice", vec![("column", text)]);
            }
            Some(c) => {
                sheet.columns.insert(c.key, (i, text));
            }
        }
    }
    for c in kind.columns().iter().filter(|c| c.required) {
        if !sheet.columns.contains_key(c.key) {
            ok = false;
            let label = c.header(sheet.zh).to_string();
            sheet.problem(*row, c.key, "import_column_missing", vec![("column", label)]);
        }
    }
    ok.then_some(sheet)
}

/// Where a record came from (by its list in the reference data: `users`, `stores`, ...), to
/// name the row of a problem the core's validation finds.
type Origins = HashMap<&'static str, Vec<(String, u32)>>;

fn import_grids(store: &Store, grids: Vec<Grid>, now_ms: i64) -> Result<ImportReport, ImportError> {
    // Customers and leads are imported on their own: a file of both would need the reference
    // data's transaction and theirs to be one.
    let (pipeline, grids): (Vec<Grid>, Vec<Grid>) = grids.into_iter().partition(|g| g.kind.is_pipeline());
    if let Some(first) = pipeline.first() {
        if let Some(other) = grids.first() {
            return Err(ImportError::Refused(vec![CellProblem {
                sheet: first.sheet.clone(),
                row: 0,
                column: String::new(),
                code: "import_pipeline_separate",
                params: vec![("sheet", other.sheet.clone())],
            }]));
        }
        return pipeline::import(store, pipeline, now_ms);
    }
    let storage = |e: &dyn std::fmt::Display| ImportError::Storage(e.to_string());
    let existing = store.reference_data().map_err(|e| storage(&e))?;
    let teams = crate::people::teams(store).map_err(|e| storage(&e))?;
    let known = Known {
        territories: crate::people::territories(store)
            .map_err(|e| storage(&e))?
            .into_iter()
            .map(|t| t.code)
            .collect(),
        teams: teams
            .iter()
            .map(|t| (t.code.clone(), t.supervisor_id.clone()))
            .collect(),
        team_of_supervisor: teams
            .iter()
            .map(|t| (t.supervisor_id.clone(), t.code.clone()))
            .collect(),
        store_codes: existing
            .stores
            .iter()
            .map(|s| (s.code.clone(), s.id.clone()))
            .collect(),
        product_skus: existing
            .products
            .iter()
            .map(|p| (p.sku.clone(), p.id.clone()))
            .collect(),
        user_roles: existing.users.iter().map(|u| (u.id.clone(), u.role)).collect(),
        templates: existing
            .templates
            .iter()
            .map(|t| (t.id.clone(), t.kind))
            .collect(),
    };

    let mut problems = Vec::new();
    let mut data = ReferenceData::default();
    let mut change = StructureChange::default();
    let mut report = ImportReport::default();
    let mut origins: Origins = HashMap::new();
    // Territories, supervisors and teams before the reps, stores and plans that name them.
    let mut ordered: Vec<&Grid> = grids.iter().collect();
    ordered.sort_by_key(|g| g.kind);
    let mut file_territories: HashMap<String, u32> = HashMap::new();
    let mut file_users: HashMap<String, u32> = HashMap::new();
    let mut file_roles: HashMap<String, Role> = HashMap::new();
    let mut file_teams: HashMap<String, u32> = HashMap::new();
    // team code -> supervisor; supervisor -> first row leading a team
    let mut file_team_supervisor: HashMap<String, String> = HashMap::new();
    let mut file_leaders: HashMap<String, u32> = HashMap::new();
    // team code -> (sheet, row, supervisor column's header), for problems found after the sheets
    let mut team_rows: HashMap<String, (String, u32, String)> = HashMap::new();
    let mut file_codes: HashMap<String, (String, u32)> = HashMap::new();
    let mut file_store_ids: HashMap<String, u32> = HashMap::new();
    let mut file_skus: HashMap<String, u32> = HashMap::new();
    let mut file_product_ids: HashMap<String, u32> = HashMap::new();
    let mut file_plan_ids: HashMap<String, u32> = HashMap::new();
    for grid in ordered {
        let Some(mut sheet) = header(grid, &mut problems) else {
            continue;
        };
        for (row, cells) in grid.rows.iter().skip(1) {
            let row = *row;
            if cells.iter().all(|c| *c == Raw::Empty) {
                continue;
            }
            let territory_known = |t: &str| known.territories.contains(t) || file_territories.contains_key(t);
            match grid.kind {
                ImportKind::Territories => {
                    let code = sheet.code(row, cells, "code");
                    let name = sheet.name(row, cells, "name");
                    let fresh = match &code {
                        Some(c) => sheet.unique(row, "code", c, &mut file_territories),
                        None => false,
                    };
                    if let (Some(code), Some(name), true) = (code, name, fresh) {
                        change.territories.push((code, name));
                        report.territories += 1;
                    }
                }
                ImportKind::Supervisors | ImportKind::Reps => {
                    let rep = grid.kind == ImportKind::Reps;
                    let id = sheet.code(row, cells, "id");
                    let name = sheet.name(row, cells, "name");
                    let phone = sheet.phone(row, cells, "phone");
                    let territory = if rep {
                        sheet.code(row, cells, "territory").map(Some)
                    } else {
                        sheet.optional_code(row, cells, "territory")
                    };
                    if let Some(Some(t)) = &territory
                        && !territory_known(t)
                    {
                        let value = t.clone();
                        sheet.problem(
                            row,
                            "territory",
                            "import_unknown_territory",
                            vec![("value", value)],
                        );
                    }
                    let fresh = match &id {
                        Some(id) => sheet.unique(row, "id", id, &mut file_users),
                        None => false,
                    };
                    let mut supervisor_id = Some(None);
                    if rep {
                        if let Some(id) = &id
                            && known.user_roles.get(id) == Some(&Role::Supervisor)
                            && let Some(team) = known.team_of_supervisor.get(id)
                            && file_team_supervisor.get(team).is_none_or(|s| s == id)
                        {
                            let (value, team) = (id.clone(), team.clone());
                            sheet.problem(
                                row,
                                "id",
                                "import_leads_team",
                                vec![("value", value), ("team", team)],
                            );
                        }
                        supervisor_id = match sheet.optional_code(row, cells, "team") {
                            None => None,
                            Some(None) => Some(None),
                            Some(Some(team)) => match file_team_supervisor
                                .get(&team)
                                .or_else(|| known.teams.get(&team))
                            {
                                Some(sup) => Some(Some(sup.clone())),
                                None => {
                                    sheet.problem(row, "team", "import_unknown_team", vec![("value", team)]);
                                    None
                                }
                            },
                        };
                    }
                    if let (Some(id), Some(name), Some(phone), Some(territory), Some(supervisor_id), true) =
                        (id, name, phone, territory, supervisor_id, fresh)
                    {
                        let role = if rep { Role::Rep } else { Role::Supervisor };
                        file_roles.insert(id.clone(), role);
                        change.phones.push((id.clone(), phone));
                        data.users.push(User {
                            id,
                            name,
                            role,
                            territory,
                            supervisor_id,
                        });
                        origins
                            .entry("users")
                            .or_default()
                            .push((grid.sheet.clone(), row));
                        if rep {
                            report.reps += 1;
                        } else {
                            report.supervisors += 1;
                        }
                    }
                }
                ImportKind::Teams => {
                    let code = sheet.code(row, cells, "code");
                    let name = sheet.name(row, cells, "name");
                    let supervisor = sheet.code(row, cells, "supervisor_id");
                    if let Some(s) = &supervisor {
                        let role = file_roles.get(s).or_else(|| known.user_roles.get(s));
                        match role {
                            Some(Role::Supervisor) => {
                                if let Some(first) = file_leaders.get(s) {
                                    let params = vec![("value", s.clone()), ("first_row", first.to_string())];
                                    sheet.problem(
                                        row,
                                        "supervisor_id",
                                        "import_supervisor_two_teams",
                                        params,
                                    );
                                } else {
                                    file_leaders.insert(s.clone(), row);
                                }
                            }
                            Some(Role::Rep) => {
                                let value = s.clone();
                                sheet.problem(
                                    row,
                                    "supervisor_id",
                                    "import_not_a_supervisor",
                                    vec![("value", value)],
                                );
                            }
                            None => {
                                let value = s.clone();
                                sheet.problem(
                                    row,
                                    "supervisor_id",
                                    "import_unknown_supervisor",
                                    vec![("value", value)],
                                );
                            }
                        }
                    }
                    let fresh = match &code {
                        Some(c) => sheet.unique(row, "code", c, &mut file_teams),
                        None => false,
                    };
                    if let (Some(code), Some(name), Some(supervisor), true) = (code, name, supervisor, fresh)
                    {
                        let column = sheet
                            .columns
                            .get("supervisor_id")
                            .map_or(String::new(), |(_, h)| h.clone());
                        team_rows.insert(code.clone(), (grid.sheet.clone(), row, column));
                        file_team_supervisor.insert(code.clone(), supervisor.clone());
                        change.teams.push((code, name, supervisor));
                        report.teams += 1;
                    }
                }
                ImportKind::Stores => {
                    let code = sheet.required(row, cells, "code");
                    let code = sheet.id(row, "code", code);
                    let name = sheet.required(row, cells, "name");
                    let address = sheet.text(cells, "address").unwrap_or_default();
                    let latitude = sheet.ranged(row, cells, "latitude", -90.0, 90.0);
                    let longitude = sheet.ranged(row, cells, "longitude", -180.0, 180.0);
                    let radius = sheet.ranged(row, cells, "geofence_radius_m", 1.0, 50_000.0);
                    let territory = sheet.required(row, cells, "territory");
                    let territory = sheet.id(row, "territory", territory);
                    if let Some(t) = &territory
                        && !territory_known(t)
                    {
                        let value = t.clone();
                        sheet.problem(
                            row,
                            "territory",
                            "import_unknown_territory",
                            vec![("value", value)],
                        );
                    }
                    let mode = match sheet
                        .text(cells, "geofence_mode")
                        .map(|m| m.trim().to_lowercase())
                    {
                        None => Some(None),
                        Some(m) => match m.as_str() {
                            "off" | "关闭" => Some(Some(GeofenceMode::Off)),
                            "flag" | "标记" => Some(Some(GeofenceMode::Flag)),
                            "block" | "禁止" => Some(Some(GeofenceMode::Block)),
                            _ => {
                                sheet.problem(
                                    row,
                                    "geofence_mode",
                                    "import_bad_geofence_mode",
                                    vec![("value", m)],
                                );
                                None
                            }
                        },
                    };
                    let id_col = sheet.text(cells, "id");
                    let id_col = sheet.id(row, "id", id_col);
                    let mut duplicate = false;
                    if let Some(code) = &code
                        && let Some((_, first)) = file_codes.get(code)
                    {
                        let params = vec![("value", code.clone()), ("first_row", first.to_string())];
                        sheet.problem(row, "code", "import_duplicate", params);
                        duplicate = true;
                    }
                    let id = id_col.or_else(|| {
                        code.as_ref()
                            .map(|c| known.store_codes.get(c).cloned().unwrap_or_else(|| c.clone()))
                    });
                    // An id made from a duplicate code is that duplicate again: said once.
                    if let Some(id) = id.as_ref().filter(|_| !duplicate) {
                        sheet.unique(row, "id", id, &mut file_store_ids);
                    }
                    if let (Some(code), Some(id)) = (&code, &id) {
                        file_codes.entry(code.clone()).or_insert((id.clone(), row));
                    }
                    if let (Some(id), Some(code), Some(name), Some(latitude), Some(longitude)) =
                        (id, code, name, latitude, longitude)
                        && let (Some(geofence_radius_m), Some(territory), Some(geofence_mode)) =
                            (radius, territory, mode)
                    {
                        data.stores.push(StoreRecord {
                            id,
                            code,
                            name,
                            address,
                            latitude,
                            longitude,
                            geofence_radius_m,
                            territory,
                            geofence_mode,
                        });
                        origins
                            .entry("stores")
                            .or_default()
                            .push((grid.sheet.clone(), row));
                    }
                }
                ImportKind::Products => {
                    let sku = sheet.required(row, cells, "sku");
                    let sku = sheet.id(row, "sku", sku);
                    let name = sheet.required(row, cells, "name");
                    let brand = sheet.required(row, cells, "brand");
                    let is_competitor = match sheet.raw(cells, "is_competitor").clone() {
                        Raw::Empty => Some(false),
                        Raw::Bool(b) => Some(b),
                        Raw::Number(n) if n == 0.0 || n == 1.0 => Some(n == 1.0),
                        other => match show(&other).trim().to_lowercase().as_str() {
                            "true" | "yes" | "y" | "1" | "是" => Some(true),
                            "false" | "no" | "n" | "0" | "否" => Some(false),
                            _ => {
                                sheet.problem(
                                    row,
                                    "is_competitor",
                                    "import_not_yes_no",
                                    vec![("value", show(&other))],
                                );
                                None
                            }
                        },
                    };
                    let price = match sheet.number(row, cells, "reference_price") {
                        None => None,
                        Some(None) => Some(None),
                        Some(Some(yuan)) => {
                            let cents = yuan * 100.0;
                            if yuan < 0.0 {
                                sheet.problem(
                                    row,
                                    "reference_price",
                                    "import_negative_price",
                                    vec![("value", yuan.to_string())],
                                );
                                None
                            } else if (cents - cents.round()).abs() > 1e-6 || cents > 1e15 {
                                sheet.problem(
                                    row,
                                    "reference_price",
                                    "import_price_decimals",
                                    vec![("value", yuan.to_string())],
                                );
                                None
                            } else {
                                Some(Some(cents.round() as i64))
                            }
                        }
                    };
                    let id_col = sheet.text(cells, "id");
                    let id_col = sheet.id(row, "id", id_col);
                    let duplicate = match &sku {
                        Some(sku) => !sheet.unique(row, "sku", sku, &mut file_skus),
                        None => false,
                    };
                    let id = id_col.or_else(|| {
                        sku.as_ref()
                            .map(|s| known.product_skus.get(s).cloned().unwrap_or_else(|| s.clone()))
                    });
                    if let Some(id) = id.as_ref().filter(|_| !duplicate) {
                        sheet.unique(row, "id", id, &mut file_product_ids);
                    }
                    if let (Some(id), Some(sku), Some(name), Some(brand), Some(is_competitor), Some(price)) =
                        (id, sku, name, brand, is_competitor, price)
                    {
                        data.products.push(Product {
                            id,
                            sku,
                            name,
                            brand,
                            is_competitor,
                            reference_price_cents: price,
                        });
                        origins
                            .entry("products")
                            .or_default()
                            .push((grid.sheet.clone(), row));
                    }
                }
                // Customers and leads went to `pipeline::import` above.
                ImportKind::Customers | ImportKind::Activities | ImportKind::Leads => {}
                ImportKind::Plans => {
                    let rep_id = sheet.required(row, cells, "rep_id");
                    if let Some(rep) = &rep_id {
                        match file_roles.get(rep).or_else(|| known.user_roles.get(rep)) {
                            Some(Role::Rep) => {}
                            Some(Role::Supervisor) => {
                                sheet.problem(
                                    row,
                                    "rep_id",
                                    "import_is_supervisor",
                                    vec![("value", rep.clone())],
                                );
                            }
                            None => sheet.problem(
                                row,
                                "rep_id",
                                "import_unknown_rep",
                                vec![("value", rep.clone())],
                            ),
                        }
                    }
                    let store_code = sheet.required(row, cells, "store_code");
                    let store_id = store_code.as_ref().and_then(|c| {
                        file_codes
                            .get(c)
                            .map(|(id, _)| id.clone())
                            .or_else(|| known.store_codes.get(c).cloned())
                    });
                    if let (Some(c), None) = (&store_code, &store_id) {
                        sheet.problem(
                            row,
                            "store_code",
                            "import_unknown_store_code",
                            vec![("value", c.clone())],
                        );
                    }
                    let date = match sheet.raw(cells, "date").clone() {
                        Raw::Empty => {
                            sheet.problem(row, "date", "import_value_missing", vec![]);
                            None
                        }
                        Raw::Date(serial) => Some(excel_day(serial)),
                        Raw::Text(t) if crate::calendar::parse_day(&t).is_some() => Some(t),
                        other => {
                            sheet.problem(row, "date", "import_not_date", vec![("value", show(&other))]);
                            None
                        }
                    };
                    let template_id = sheet.required(row, cells, "template_id");
                    if let Some(t) = &template_id {
                        match known.templates.get(t) {
                            Some(TemplateKind::StoreCheck) => {}
                            Some(TemplateKind::Inspection) => {
                                sheet.problem(
                                    row,
                                    "template_id",
                                    "import_inspection_template",
                                    vec![("value", t.clone())],
                                );
                            }
                            None => {
                                sheet.problem(
                                    row,
                                    "template_id",
                                    "import_unknown_template",
                                    vec![("value", t.clone())],
                                );
                            }
                        }
                    }
                    let sequence = match sheet.number(row, cells, "sequence") {
                        None => None,
                        Some(None) => Some(0),
                        Some(Some(n)) if n >= 0.0 && n.fract() == 0.0 && n <= f64::from(i32::MAX) => {
                            Some(n as i32)
                        }
                        Some(Some(n)) => {
                            sheet.problem(
                                row,
                                "sequence",
                                "import_not_whole",
                                vec![("value", n.to_string())],
                            );
                            None
                        }
                    };
                    let window_start = plan_time(&mut sheet, row, cells, "window_start");
                    let window_end = plan_time(&mut sheet, row, cells, "window_end");
                    let window = match (window_start, window_end) {
                        (Some(start), Some(end)) => {
                            match fieldproof_core::rules::plan_window(start.as_deref(), end.as_deref()) {
                                Ok(_) => Some((start, end)),
                                Err(_) => {
                                    // Both given: they are out of order; one given: the other is missing.
                                    let (column, code, value) = match (&start, &end) {
                                        (Some(_), Some(e)) => ("window_end", "import_window_order", e),
                                        (Some(s), None) => ("window_end", "import_window_half", s),
                                        (None, Some(e)) => ("window_start", "import_window_half", e),
                                        (None, None) => {
                                            ("window_start", "import_window_half", &String::new())
                                        }
                                    };
                                    sheet.problem(row, column, code, vec![("value", value.clone())]);
                                    None
                                }
                            }
                        }
                        _ => None,
                    };
                    let id_col = sheet.text(cells, "id");
                    let id = sheet
                        .id(row, "id", id_col)
                        .or_else(|| match (&rep_id, &date, &store_id) {
                            (Some(r), Some(d), Some(s)) => Some(format!("{r}:{d}:{s}")),
                            _ => None,
                        });
                    if let Some(id) = &id {
                        if let Some(first) = file_plan_ids.get(id) {
                            let params = vec![("value", id.clone()), ("first_row", first.to_string())];
                            sheet.problem(row, "id", "import_duplicate_plan", params);
                        } else {
                            file_plan_ids.insert(id.clone(), row);
                        }
                    }
                    if let (
                        Some(id),
                        Some(rep_id),
                        Some(store_id),
                        Some(date),
                        Some(template_id),
                        Some(sequence),
                        Some((window_start, window_end)),
                    ) = (id, rep_id, store_id, date, template_id, sequence, window)
                    {
                        data.plans.push(PlannedVisit {
                            id,
                            rep_id,
                            store_id,
                            date,
                            template_id,
                            sequence,
                            window_start,
                            window_end,
                        });
                        origins
                            .entry("plans")
                            .or_default()
                            .push((grid.sheet.clone(), row));
                    }
                }
            }
        }
    }
    // A team given another supervisor takes its reps along, as on the people pages (those the
    // Reps sheet lists go where it says). A supervisor leads one team, so their reps come with
    // them; when both teams have reps that would merge two teams, which is refused unless the
    // file gives the supervisor's old team someone else.
    for (code, _, new_sup) in &change.teams {
        let Some((sheet, row, column)) = team_rows.get(code) else {
            continue;
        };
        let takes_over = known.teams.get(code).is_some_and(|old| old != new_sup);
        // Only a merge is refused: a supervisor named on a new team code takes their reps to it.
        if let Some(other) = known
            .team_of_supervisor
            .get(new_sup)
            .filter(|o| *o != code && takes_over)
        {
            let reassigned = file_team_supervisor.get(other).is_some_and(|s| s != new_sup);
            let stranded = existing.users.iter().any(|u| {
                u.role == Role::Rep
                    && u.supervisor_id.as_deref() == Some(new_sup.as_str())
                    && !file_users.contains_key(&u.id)
            });
            if stranded && !reassigned {
                problems.push(CellProblem {
                    sheet: sheet.clone(),
                    row: *row,
                    column: column.clone(),
                    code: "import_supervisor_busy",
                    params: vec![("value", new_sup.clone()), ("team", other.clone())],
                });
            }
        }
        if let Some(old_sup) = known.teams.get(code).filter(|s| *s != new_sup) {
            for u in existing.users.iter().filter(|u| {
                u.supervisor_id.as_deref() == Some(old_sup.as_str()) && !file_users.contains_key(&u.id)
            }) {
                let mut moved = u.clone();
                moved.supervisor_id = Some(new_sup.clone());
                data.users.push(moved);
                origins.entry("users").or_default().push((sheet.clone(), *row));
            }
        }
    }
    if !problems.is_empty() {
        return Err(ImportError::Refused(problems));
    }
    report.stores = data.stores.len() as u32;
    report.products = data.products.len() as u32;
    report.plans = data.plans.len() as u32;
    match crate::people::apply(store, &change, &data, now_ms) {
        Ok(_) => Ok(report),
        Err(AdminError::BadReference(message)) => Err(ImportError::Refused(vec![locate(&message, &origins)])),
        Err(e) => Err(ImportError::Storage(e.to_string())),
    }
}

/// A problem the core's validation found (`stores[3] (code "X"): reason`), on its row.
fn locate(message: &str, origins: &Origins) -> CellProblem {
    let found = ["users", "stores", "products", "plans"]
        .into_iter()
        .find_map(|k| {
            let rest = message.strip_prefix(k)?.strip_prefix('[')?;
            let (index, _) = rest.split_once(']')?;
            let index: usize = index.parse().ok()?;
            origins.get(k)?.get(index).cloned()
        });
    let (sheet, row) = found.unwrap_or_default();
    CellProblem {
        sheet,
        row,
        column: String::new(),
        code: "import_invalid_record",
        params: vec![("detail", message.to_string())],
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use fieldproof_sheets::MIB;

    /// One of each refusal, so a new one cannot be added without its words.
    fn every_limit_error() -> Vec<LimitError> {
        let (sheet, cell) = ("Stores".to_string(), "Z300000".to_string());
        vec![
            LimitError::FileTooLarge { limit: 16 * MIB },
            LimitError::TooManyMembers { limit: 1000 },
            LimitError::MemberTooLarge {
                member: "xl/worksheets/sheet1.xml".into(),
                limit: 32 * MIB,
            },
            LimitError::UnpackedTooLarge { limit: 64 * MIB },
            LimitError::SharedStringsTooLarge { limit: 16 * MIB },
            LimitError::TooManySharedStrings { limit: 1_000_000 },
            LimitError::TooManySheets { limit: 6 },
            LimitError::SheetTooLarge {
                sheet: sheet.clone(),
                dimension: "A1:XFD1048576".into(),
                max_rows: 100_000,
                max_columns: 64,
            },
            LimitError::CellOutOfRange {
                sheet: sheet.clone(),
                cell: cell.clone(),
                max_rows: 100_000,
                max_columns: 64,
            },
            LimitError::TooManyRows {
                sheet: sheet.clone(),
                limit: 100_000,
            },
            LimitError::TooManyCells { limit: 1_000_000 },
            LimitError::CellTooLong {
                sheet,
                cell,
                limit: 4096,
            },
            LimitError::TooMuchText { limit: 32 * MIB },
        ]
    }

    #[test]
    fn every_limit_error_has_its_words_with_every_parameter_in_both_languages() {
        use crate::i18n::{Lang, MESSAGES};
        for e in every_limit_error() {
            assert!(
                MESSAGES.iter().any(|(k, _, _)| *k == e.code()),
                "{} has no words",
                e.code()
            );
            for lang in [Lang::En, Lang::Zh] {
                let text = lang.message(e.code(), &e.params());
                assert!(!text.contains('{') && !text.contains(e.code()), "{text}");
                for (name, value) in e.params() {
                    assert!(
                        text.contains(&value),
                        "{} {lang:?}: {{{name}}} missing in {text}",
                        e.code()
                    );
                }
            }
        }
        assert_eq!(
            ImportError::Limit(LimitError::CellOutOfRange {
                sheet: "Stores".into(),
                cell: "XFD1048576".into(),
                max_rows: 100_000,
                max_columns: 64
            })
            .to_string(),
            "file refused, nothing imported: Sheet Stores: cell XFD1048576 is beyond what an import reads (rows 1 to 100001, \
             columns A to BL). Delete it, or split the file."
        );
    }

    #[test]
    fn every_problem_code_the_import_raises_has_words_in_both_languages() {
        use crate::i18n::{Lang, MESSAGES};
        // This file's codes and the readers' (the leaf crate's), which the catalogue words.
        let source = [
            include_str!("import.rs"),
            include_str!("../sheets/src/read.rs"),
            include_str!("../sheets/src/limits.rs"),
        ];
        let mut codes: Vec<&str> = source
            .iter()
            .flat_map(|s| s.split('"'))
            .filter(|s| {
                s.len() > 7
                    && s.starts_with("import_")
                    && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
            })
            .collect();
        codes.sort_unstable();
        codes.dedup();
        assert!(codes.len() > 30, "{codes:?}");
        for code in codes {
            assert!(MESSAGES.iter().any(|(k, _, _)| *k == code), "{code} has no words");
            for lang in [Lang::En, Lang::Zh] {
                assert!(!lang.message(code, &[]).contains(code), "{code}");
            }
        }
    }
}
