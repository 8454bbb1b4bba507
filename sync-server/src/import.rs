//! Import of stores, products and plans from XLSX or CSV, validated as a whole.
//!
//! - XLSX: sheets named `Stores`, `Products`, `Plans` (any subset, case-insensitive; `门店`,
//!   `产品`, `计划` too). Other sheets (instructions, notes) are ignored.
//! - CSV: one kind per file, from the file name (`stores*.csv`, `products*.csv`, `plans*.csv`)
//!   or given ([`import_csv`]); UTF-8, a byte-order mark is fine.
//!
//! Row 1 is the header (column names, case-insensitive, any order); blank rows are skipped.
//!
//! | sheet | columns (required in bold in the docs: all but the optional ones) |
//! |---|---|
//! | Stores | code, name, address (optional), latitude, longitude, geofence_radius_m, territory, geofence_mode (optional: off, flag, block), id (optional) |
//! | Products | sku, name, brand, is_competitor (optional: true/false, yes/no, 1/0, 是/否), reference_price (optional, yuan, at most 2 decimals), id (optional) |
//! | Plans | rep_id, store_code, date (YYYY-MM-DD or a date cell), template_id, sequence (optional, default 0), id (optional) |
//!
//! Ids: a store's id is its `id` column when given, else the id of the store the server already
//! holds with that code (so re-importing updates it), else the code. Products likewise by SKU.
//! A plan's id is its `id` column, else `REP:DATE:STORE_ID` (one plan per rep, day and store).
//!
//! Rules: every problem in the file is collected, each with its sheet, row (as Excel shows it,
//! the header is row 1) and column. Codes, SKUs and plan ids must be unique within the file.
//! Latitude is -90..90, longitude -180..180, the geofence radius 1..50000 m. **A store's
//! territory must already be known**: the territory of a user or a store the server holds (a
//! new territory comes with its rep, through `load-reference`). A plan's rep must be a known
//! rep, its store a store of the file or of the server (by code), its template a known store
//! check template. Then the whole file goes through [`Store::load_reference`]: the core's own
//! validation, one transaction, change-feed rows for the phones. Nothing is written when
//! anything is wrong.

use std::collections::{HashMap, HashSet};

use fieldproof_core::model::{
    GeofenceMode, PlannedVisit, Product, ReferenceData, Role, Store as StoreRecord, TemplateKind,
};

use crate::{AdminError, Store};

/// One thing wrong with an imported file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CellProblem {
    pub sheet: String,
    /// 1-based as Excel shows it; the header is row 1. 0 when the problem is not one row's.
    pub row: u32,
    /// Header name, e.g. "latitude"; empty when the problem is the whole row's.
    pub column: String,
    pub message: String,
}

impl std::fmt::Display for CellProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} row {}", self.sheet, self.row)?;
        if !self.column.is_empty() {
            write!(f, " column {}", self.column)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// What an import loaded (records in the file; unchanged ones send phones nothing).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportReport {
    pub stores: u32,
    pub products: u32,
    pub plans: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportError {
    /// The file was read but something in it is wrong: every problem found. Nothing imported.
    Refused(Vec<CellProblem>),
    /// Not an XLSX / CSV file this understands (or no sheet of a known name).
    Unreadable(String),
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
            ImportError::Unreadable(m) => write!(f, "cannot read the file: {m}"),
            ImportError::Storage(m) => write!(f, "database: {m}"),
        }
    }
}

impl std::error::Error for ImportError {}

/// Which table a CSV file (a sheet) holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImportKind {
    Stores,
    Products,
    Plans,
}

impl ImportKind {
    pub const ALL: [ImportKind; 3] = [ImportKind::Stores, ImportKind::Products, ImportKind::Plans];

    pub fn as_str(self) -> &'static str {
        match self {
            ImportKind::Stores => "stores",
            ImportKind::Products => "products",
            ImportKind::Plans => "plans",
        }
    }

    /// The sheet name problems are reported under: `Stores`, `Products`, `Plans`.
    pub fn sheet_name(self) -> &'static str {
        match self {
            ImportKind::Stores => "Stores",
            ImportKind::Products => "Products",
            ImportKind::Plans => "Plans",
        }
    }

    /// `stores`, `products`, `plans` (case-insensitive), or `门店`, `产品`, `计划`.
    pub fn parse(s: &str) -> Option<ImportKind> {
        let s = s.trim().to_lowercase();
        match s.as_str() {
            "stores" | "门店" => Some(ImportKind::Stores),
            "products" | "产品" => Some(ImportKind::Products),
            "plans" | "计划" => Some(ImportKind::Plans),
            _ => None,
        }
    }

    fn columns(self) -> (&'static [&'static str], &'static [&'static str]) {
        match self {
            ImportKind::Stores => (
                &[
                    "code",
                    "name",
                    "latitude",
                    "longitude",
                    "geofence_radius_m",
                    "territory",
                ],
                &["address", "geofence_mode", "id"],
            ),
            ImportKind::Products => (
                &["sku", "name", "brand"],
                &["is_competitor", "reference_price", "id"],
            ),
            ImportKind::Plans => (
                &["rep_id", "store_code", "date", "template_id"],
                &["sequence", "id"],
            ),
        }
    }
}

/// A cell as read.
#[derive(Debug, Clone, PartialEq)]
enum Raw {
    Empty,
    Text(String),
    Number(f64),
    Bool(bool),
    /// A date cell, as `YYYY-MM-DD`.
    Date(String),
}

/// One sheet (or CSV file) as read: its rows with their Excel row numbers.
struct Grid {
    kind: ImportKind,
    sheet: String,
    /// (row number as Excel shows it, cells); the first is the header.
    rows: Vec<(u32, Vec<Raw>)>,
}

/// Import an `.xlsx` or `.csv` file. A CSV's kind comes from its name (`stores*.csv`,
/// `products*.csv`, `plans*.csv`, case-insensitive).
pub fn import_file(
    store: &Store,
    file_name: &str,
    bytes: &[u8],
    now_ms: i64,
) -> Result<ImportReport, ImportError> {
    let base = file_name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(file_name)
        .to_lowercase();
    if base.ends_with(".xlsx") {
        let grids = read_xlsx(bytes)?;
        import_grids(store, grids, now_ms)
    } else if base.ends_with(".csv") {
        let kind = ImportKind::ALL
            .into_iter()
            .find(|k| base.starts_with(k.as_str()))
            .ok_or_else(|| {
                ImportError::Unreadable(format!(
                    "{file_name:?}: a CSV file's name must start with stores, products or plans"
                ))
            })?;
        import_csv(store, kind, bytes, now_ms)
    } else {
        Err(ImportError::Unreadable(format!(
            "{file_name:?}: not an .xlsx or .csv file"
        )))
    }
}

/// Import one CSV file of a known kind.
pub fn import_csv(
    store: &Store,
    kind: ImportKind,
    bytes: &[u8],
    now_ms: i64,
) -> Result<ImportReport, ImportError> {
    let grid = read_csv(kind, bytes)?;
    import_grids(store, vec![grid], now_ms)
}

fn read_csv(kind: ImportKind, bytes: &[u8]) -> Result<Grid, ImportError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if std::str::from_utf8(bytes).is_err() {
        return Err(ImportError::Unreadable(
            "the CSV is not UTF-8 (in Excel, save as \"CSV UTF-8\")".into(),
        ));
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| ImportError::Unreadable(format!("CSV: {e}")))?;
        let row = u32::try_from(i + 1).map_err(|_| ImportError::Unreadable("too many rows".into()))?;
        let cells = record
            .iter()
            .map(|s| {
                let s = s.trim();
                if s.is_empty() {
                    Raw::Empty
                } else {
                    Raw::Text(s.to_string())
                }
            })
            .collect();
        rows.push((row, cells));
    }
    Ok(Grid {
        kind,
        sheet: kind.sheet_name().to_string(),
        rows,
    })
}

fn read_xlsx(bytes: &[u8]) -> Result<Vec<Grid>, ImportError> {
    use calamine::{Data, Reader, Xlsx};
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes))
        .map_err(|e| ImportError::Unreadable(format!("not an XLSX workbook: {e}")))?;
    let mut grids = Vec::new();
    for name in book.sheet_names() {
        let Some(kind) = ImportKind::parse(&name) else {
            continue;
        };
        let range = book
            .worksheet_range(&name)
            .map_err(|e| ImportError::Unreadable(format!("sheet {name:?}: {e}")))?;
        let first_row = range.start().map_or(0, |(r, _)| r);
        let first_col = range.start().map_or(0, |(_, c)| c) as usize;
        let mut rows = Vec::new();
        for (i, row) in range.rows().enumerate() {
            let n = u32::try_from(i)
                .ok()
                .and_then(|i| first_row.checked_add(i)?.checked_add(1))
                .ok_or_else(|| ImportError::Unreadable("too many rows".into()))?;
            // Columns left of the range are empty: keep positions as the header's.
            let mut cells = vec![Raw::Empty; first_col];
            cells.extend(row.iter().map(|c| match c {
                Data::Empty => Raw::Empty,
                Data::String(s) if s.trim().is_empty() => Raw::Empty,
                Data::String(s) => Raw::Text(s.trim().to_string()),
                Data::Int(i) => Raw::Number(*i as f64),
                Data::Float(f) => Raw::Number(*f),
                Data::Bool(b) => Raw::Bool(*b),
                Data::DateTime(d) => {
                    let days = d.as_f64().floor() as i64 - 25_569;
                    Raw::Date(crate::export::date_string(days))
                }
                Data::DateTimeIso(s) => Raw::Text(s.get(..10).unwrap_or(s).to_string()),
                Data::DurationIso(s) => Raw::Text(s.clone()),
                Data::Error(e) => Raw::Text(format!("#{e:?}")),
            }));
            rows.push((n, cells));
        }
        grids.push(Grid {
            kind,
            sheet: name.clone(),
            rows,
        });
    }
    if grids.is_empty() {
        return Err(ImportError::Unreadable(
            "no sheet named Stores, Products or Plans (门店, 产品, 计划)".into(),
        ));
    }
    Ok(grids)
}

/// What the server holds that the file is checked against.
struct Known {
    territories: HashSet<String>,
    /// code -> id
    store_codes: HashMap<String, String>,
    /// sku -> id
    product_skus: HashMap<String, String>,
    user_roles: HashMap<String, Role>,
    /// template id -> kind
    templates: HashMap<String, TemplateKind>,
}

/// Collects the problems of one sheet.
struct Sheet<'a> {
    name: &'a str,
    columns: HashMap<String, usize>,
    problems: &'a mut Vec<CellProblem>,
}

impl Sheet<'_> {
    fn problem(&mut self, row: u32, column: &str, message: impl Into<String>) {
        self.problems.push(CellProblem {
            sheet: self.name.to_string(),
            row,
            column: column.to_string(),
            message: message.into(),
        });
    }

    fn raw<'r>(&self, cells: &'r [Raw], column: &str) -> &'r Raw {
        self.columns
            .get(column)
            .and_then(|&i| cells.get(i))
            .unwrap_or(&Raw::Empty)
    }

    /// The cell as text, None when blank.
    fn text(&self, cells: &[Raw], column: &str) -> Option<String> {
        match self.raw(cells, column) {
            Raw::Empty => None,
            Raw::Text(s) | Raw::Date(s) => Some(s.clone()),
            Raw::Number(n) => Some(if n.fract() == 0.0 && n.abs() < 1e15 {
                format!("{}", *n as i64)
            } else {
                format!("{n}")
            }),
            Raw::Bool(b) => Some(b.to_string()),
        }
    }

    /// Required text.
    fn required(&mut self, row: u32, cells: &[Raw], column: &str) -> Option<String> {
        let v = self.text(cells, column);
        if v.is_none() {
            self.problem(row, column, format!("{column} is missing"));
        }
        v
    }

    /// An optional number; a problem when present and not a number.
    fn number(&mut self, row: u32, cells: &[Raw], column: &str) -> Option<Option<f64>> {
        match self.raw(cells, column) {
            Raw::Empty => Some(None),
            Raw::Number(n) if n.is_finite() => Some(Some(*n)),
            Raw::Text(s) => match s.replace(',', "").parse::<f64>() {
                Ok(n) if n.is_finite() => Some(Some(n)),
                _ => {
                    self.problem(row, column, format!("{s:?} is not a number"));
                    None
                }
            },
            other => {
                self.problem(row, column, format!("{} is not a number", show(other)));
                None
            }
        }
    }

    /// A required number within `min..=max`.
    fn ranged(&mut self, row: u32, cells: &[Raw], column: &str, min: f64, max: f64) -> Option<f64> {
        match self.number(row, cells, column)? {
            None => {
                self.problem(row, column, format!("{column} is missing"));
                None
            }
            Some(n) if n < min || n > max => {
                self.problem(row, column, format!("{n} is out of range ({min} to {max})"));
                None
            }
            Some(n) => Some(n),
        }
    }

    /// A text that is an id: at most 128 bytes.
    fn id(&mut self, row: u32, column: &str, v: Option<String>) -> Option<String> {
        let v = v?;
        if v.len() > 128 {
            self.problem(row, column, "longer than 128 bytes");
            return None;
        }
        Some(v)
    }
}

fn show(r: &Raw) -> String {
    match r {
        Raw::Empty => "blank".into(),
        Raw::Text(s) | Raw::Date(s) => format!("{s:?}"),
        Raw::Number(n) => n.to_string(),
        Raw::Bool(b) => b.to_string(),
    }
}

/// Header → column positions; problems for missing and unknown columns.
fn header(grid: &Grid, problems: &mut Vec<CellProblem>) -> Option<HashMap<String, usize>> {
    let (required, optional) = grid.kind.columns();
    let Some((row, cells)) = grid.rows.first() else {
        problems.push(CellProblem {
            sheet: grid.sheet.clone(),
            row: 1,
            column: String::new(),
            message: "the sheet is empty (row 1 must be the header)".into(),
        });
        return None;
    };
    let mut columns = HashMap::new();
    let mut ok = true;
    for (i, c) in cells.iter().enumerate() {
        let name = match c {
            Raw::Empty => continue,
            Raw::Text(s) => s.trim().to_lowercase(),
            other => show(other),
        };
        let problem = if !required.contains(&name.as_str()) && !optional.contains(&name.as_str()) {
            Some(format!(
                "unknown column {name:?} (expected {})",
                required
                    .iter()
                    .chain(optional)
                    .copied()
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        } else if columns.insert(name.clone(), i).is_some() {
            Some("column appears twice".to_string())
        } else {
            None
        };
        if let Some(message) = problem {
            ok = false;
            problems.push(CellProblem {
                sheet: grid.sheet.clone(),
                row: *row,
                column: name,
                message,
            });
        }
    }
    for r in required {
        if !columns.contains_key(*r) {
            ok = false;
            problems.push(CellProblem {
                sheet: grid.sheet.clone(),
                row: *row,
                column: (*r).to_string(),
                message: "required column is missing from the header".into(),
            });
        }
    }
    ok.then_some(columns)
}

/// Where a record came from, to name the row of a problem the core finds.
type Origins = HashMap<ImportKind, Vec<(String, u32)>>;

fn import_grids(store: &Store, grids: Vec<Grid>, now_ms: i64) -> Result<ImportReport, ImportError> {
    let existing = store
        .reference_data()
        .map_err(|e| ImportError::Storage(e.to_string()))?;
    let known = Known {
        territories: existing
            .users
            .iter()
            .filter_map(|u| u.territory.clone())
            .chain(existing.stores.iter().map(|s| s.territory.clone()))
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
    let mut origins: Origins = HashMap::new();
    // Stores before plans: a plan may name a store of the same file.
    let mut ordered: Vec<&Grid> = grids.iter().collect();
    ordered.sort_by_key(|g| match g.kind {
        ImportKind::Stores => 0,
        ImportKind::Products => 1,
        ImportKind::Plans => 2,
    });
    let mut file_codes: HashMap<String, (String, u32)> = HashMap::new();
    let mut file_store_ids: HashMap<String, u32> = HashMap::new();
    let mut file_skus: HashMap<String, u32> = HashMap::new();
    let mut file_product_ids: HashMap<String, u32> = HashMap::new();
    let mut file_plan_ids: HashMap<String, u32> = HashMap::new();
    for grid in ordered {
        let Some(columns) = header(grid, &mut problems) else {
            continue;
        };
        let mut sheet = Sheet {
            name: &grid.sheet,
            columns,
            problems: &mut problems,
        };
        for (row, cells) in grid.rows.iter().skip(1) {
            let row = *row;
            if cells.iter().all(|c| *c == Raw::Empty) {
                continue;
            }
            match grid.kind {
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
                        && !known.territories.contains(t)
                    {
                        sheet.problem(
                            row,
                            "territory",
                            format!("unknown territory {t:?} (not the territory of any user or store)"),
                        );
                    }
                    let mode = match sheet.text(cells, "geofence_mode").map(|m| m.to_lowercase()) {
                        None => Some(None),
                        Some(m) => match m.as_str() {
                            "off" => Some(Some(GeofenceMode::Off)),
                            "flag" => Some(Some(GeofenceMode::Flag)),
                            "block" => Some(Some(GeofenceMode::Block)),
                            _ => {
                                sheet.problem(
                                    row,
                                    "geofence_mode",
                                    format!("{m:?} is not off, flag or block"),
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
                        let first = *first;
                        sheet.problem(
                            row,
                            "code",
                            format!("duplicate code {code:?} (also on row {first})"),
                        );
                        duplicate = true;
                    }
                    let id = id_col.or_else(|| {
                        code.as_ref()
                            .map(|c| known.store_codes.get(c).cloned().unwrap_or_else(|| c.clone()))
                    });
                    // An id made from a duplicate code is that duplicate again: said once.
                    if let Some(id) = id.as_ref().filter(|_| !duplicate) {
                        if let Some(first) = file_store_ids.get(id) {
                            let first = *first;
                            sheet.problem(row, "id", format!("duplicate id {id:?} (also on row {first})"));
                        } else {
                            file_store_ids.insert(id.clone(), row);
                        }
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
                            .entry(ImportKind::Stores)
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
                        other => match show(&other).trim_matches('"').to_lowercase().as_str() {
                            "true" | "yes" | "y" | "1" | "是" => Some(true),
                            "false" | "no" | "n" | "0" | "否" => Some(false),
                            _ => {
                                sheet.problem(
                                    row,
                                    "is_competitor",
                                    format!("{} is not true or false", show(&other)),
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
                                sheet.problem(row, "reference_price", "negative price");
                                None
                            } else if (cents - cents.round()).abs() > 1e-6 || cents > 1e15 {
                                sheet.problem(
                                    row,
                                    "reference_price",
                                    format!("{yuan} has more than 2 decimals"),
                                );
                                None
                            } else {
                                Some(Some(cents.round() as i64))
                            }
                        }
                    };
                    let id_col = sheet.text(cells, "id");
                    let id_col = sheet.id(row, "id", id_col);
                    let mut duplicate = false;
                    if let Some(sku) = &sku {
                        if let Some(first) = file_skus.get(sku) {
                            let first = *first;
                            sheet.problem(row, "sku", format!("duplicate sku {sku:?} (also on row {first})"));
                            duplicate = true;
                        } else {
                            file_skus.insert(sku.clone(), row);
                        }
                    }
                    let id = id_col.or_else(|| {
                        sku.as_ref()
                            .map(|s| known.product_skus.get(s).cloned().unwrap_or_else(|| s.clone()))
                    });
                    if let Some(id) = id.as_ref().filter(|_| !duplicate) {
                        if let Some(first) = file_product_ids.get(id) {
                            let first = *first;
                            sheet.problem(row, "id", format!("duplicate id {id:?} (also on row {first})"));
                        } else {
                            file_product_ids.insert(id.clone(), row);
                        }
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
                            .entry(ImportKind::Products)
                            .or_default()
                            .push((grid.sheet.clone(), row));
                    }
                }
                ImportKind::Plans => {
                    let rep_id = sheet.required(row, cells, "rep_id");
                    if let Some(rep) = &rep_id {
                        match known.user_roles.get(rep) {
                            Some(Role::Rep) => {}
                            Some(Role::Supervisor) => {
                                sheet.problem(row, "rep_id", format!("{rep:?} is a supervisor, not a rep"));
                            }
                            None => sheet.problem(row, "rep_id", format!("unknown rep {rep:?}")),
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
                        sheet.problem(row, "store_code", format!("unknown store code {c:?}"));
                    }
                    let date = match sheet.raw(cells, "date").clone() {
                        Raw::Empty => {
                            sheet.problem(row, "date", "date is missing");
                            None
                        }
                        Raw::Date(d) => Some(d),
                        Raw::Text(t) if crate::export::parse_date(&t).is_some() => Some(t),
                        other => {
                            sheet.problem(row, "date", format!("{} is not a date YYYY-MM-DD", show(&other)));
                            None
                        }
                    };
                    let template_id = sheet.required(row, cells, "template_id");
                    if let Some(t) = &template_id {
                        match known.templates.get(t) {
                            Some(TemplateKind::StoreCheck) => {}
                            Some(TemplateKind::Inspection) => {
                                sheet.problem(row, "template_id", format!("{t:?} is an inspection template"));
                            }
                            None => sheet.problem(row, "template_id", format!("unknown template {t:?}")),
                        }
                    }
                    let sequence = match sheet.number(row, cells, "sequence") {
                        None => None,
                        Some(None) => Some(0),
                        Some(Some(n)) if n >= 0.0 && n.fract() == 0.0 && n <= f64::from(u32::MAX) => {
                            Some(n as u32)
                        }
                        Some(Some(n)) => {
                            sheet.problem(row, "sequence", format!("{n} is not a whole number 0 or more"));
                            None
                        }
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
                            let first = *first;
                            sheet.problem(
                                row,
                                "id",
                                format!(
                                    "duplicate plan {id:?} (also on row {first}; one per rep, day and store)"
                                ),
                            );
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
                    ) = (id, rep_id, store_id, date, template_id, sequence)
                    {
                        data.plans.push(PlannedVisit {
                            id,
                            rep_id,
                            store_id,
                            date,
                            template_id,
                            sequence,
                        });
                        origins
                            .entry(ImportKind::Plans)
                            .or_default()
                            .push((grid.sheet.clone(), row));
                    }
                }
            }
        }
    }
    if !problems.is_empty() {
        return Err(ImportError::Refused(problems));
    }
    let report = ImportReport {
        stores: data.stores.len() as u32,
        products: data.products.len() as u32,
        plans: data.plans.len() as u32,
    };
    match store.load_reference(&data, now_ms) {
        Ok(_) => Ok(report),
        Err(AdminError::BadReference(message)) => Err(ImportError::Refused(vec![locate(&message, &origins)])),
        Err(e) => Err(ImportError::Storage(e.to_string())),
    }
}

/// A problem the core's validation found (`stores[3] (code "X"): reason`), on its row.
fn locate(message: &str, origins: &Origins) -> CellProblem {
    let found = ImportKind::ALL.into_iter().find_map(|k| {
        let rest = message.strip_prefix(k.as_str())?.strip_prefix('[')?;
        let (index, _) = rest.split_once(']')?;
        let index: usize = index.parse().ok()?;
        origins.get(&k)?.get(index).cloned()
    });
    let (sheet, row) = found.unwrap_or_default();
    CellProblem {
        sheet,
        row,
        column: String::new(),
        message: message.to_string(),
    }
}
