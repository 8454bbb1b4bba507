//! The import of customers, customer activities and leads (客户、客户活动、线索; issue 15):
//! the same all-or-nothing check as the reference sheets (every problem by sheet, row and
//! column; nothing written when anything is wrong), then one transaction.
//!
//! - Phones and company names are normalised by the core's rules
//!   (`fieldproof_core::customers::dedupe_keys`), so `+86 138-0013-8000` and `13800138000`,
//!   `上海启明科技有限公司` and `上海启明科技` are one customer.
//! - **Duplicates are refused, not linked**: a customer whose phone or company is on an earlier
//!   row, or that the system already holds (its keys in `customer_keys`), is a row problem
//!   naming the other row or customer. An import is head office cleaning its own list: a
//!   duplicate there is a mistake to fix in the file, unlike a rep's offline entry (which the
//!   server keeps as a linked duplicate so nothing the rep typed is lost). Leads likewise
//!   against the file and the open leads (new, assigned, claimed, in the pool).
//! - A customer with an owner is `owned` (claimed now, released after the settings'
//!   `release_days` without a real interaction); without one it goes to the pool. It starts in
//!   the stage given, else the settings' first. Each gets its keys, an `imported` event and its
//!   change-feed records (`customers::feed`).
//! - Leads are inserted `new`: the scheduler's routing job (every minute) routes them when the
//!   rules are live, else they wait for head office as new leads.
//! - Activities name their customer by system ID, phone or company (the file's Customers sheet
//!   or the system).

use std::collections::{HashMap, HashSet};

use fieldproof_core::customers::{MatchOn, NewCustomer, PipelineConfig, dedupe_keys, normalize_phone};
use fieldproof_sheets::{Grid, ImportKind, Raw};

use super::{CellProblem, ImportError, ImportReport, Sheet, excel_day, header, show};
use crate::db::{TransactionBehavior, params};
use crate::store::Store;

use crate::calendar::DAY_MS;

/// Who `created_by` names for an imported customer (no rep entered it).
pub const IMPORTED_BY: &str = "import";

fn new_id(prefix: &str) -> Result<String, ImportError> {
    let mut bytes = [0u8; 10];
    getrandom::fill(&mut bytes).map_err(|e| ImportError::Storage(format!("random: {e}")))?;
    Ok(format!("{prefix}-{}", fieldproof_core::hex::encode(&bytes)))
}

/// What the server holds that the rows are checked against.
struct Known {
    territories: HashSet<String>,
    /// user id → role (`rep`, `supervisor`)
    roles: HashMap<String, String>,
    /// store code → id
    store_codes: HashMap<String, String>,
    /// duplicate key → (customer id, name)
    customer_keys: HashMap<String, (String, String)>,
    customer_ids: HashSet<String>,
    /// duplicate key of an open lead → its name
    lead_keys: HashMap<String, String>,
    lead_ids: HashSet<String>,
    cfg: PipelineConfig,
}

fn known(store: &Store) -> Result<Known, ImportError> {
    let storage = |e: &dyn std::fmt::Display| ImportError::Storage(e.to_string());
    let c = store.reader().map_err(|e| storage(&e))?;
    let read = || -> crate::db::Result<Known> {
        let strings = |sql: &str| -> crate::db::Result<HashSet<String>> {
            let mut st = c.prepare(sql)?;
            let v = st.query_map(params![], |r| r.get(0))?.collect::<Result<_, _>>()?;
            Ok(v)
        };
        let pairs = |sql: &str| -> crate::db::Result<HashMap<String, String>> {
            let mut st = c.prepare(sql)?;
            let v = st
                .query_map(params![], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?;
            Ok(v)
        };
        let mut st = c.prepare(
            "SELECT k.key, c.id, c.name FROM customer_keys k JOIN customers c ON c.id = k.customer_id",
        )?;
        let customer_keys = st
            .query_map(params![], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))?
            .collect::<Result<_, _>>()?;
        // Open leads' keys, computed as the customers' are.
        let mut lead_keys = HashMap::new();
        let mut st = c.prepare(
            "SELECT name, company, phones FROM leads WHERE state IN ('new', 'assigned', 'claimed', 'pool')",
        )?;
        for r in st.query_map(params![], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, String>(2)?,
            ))
        })? {
            let (name, company, phones) = r?;
            let phones: Vec<String> = serde_json::from_str(&phones).unwrap_or_default();
            for (_, key) in keys_of(&phones, company.as_deref()) {
                lead_keys.entry(key).or_insert_with(|| name.clone());
            }
        }
        Ok(Known {
            territories: strings("SELECT code FROM territories")?,
            roles: pairs("SELECT id, role FROM users")?,
            store_codes: pairs("SELECT COALESCE(json_extract(body, '$.code'), id), id FROM stores")?,
            customer_keys,
            customer_ids: strings("SELECT id FROM customers")?,
            lead_keys,
            lead_ids: strings("SELECT id FROM leads")?,
            cfg: crate::customers::config::pipeline_config(&c)?,
        })
    };
    read().map_err(|e| storage(&e))
}

/// The duplicate keys of these phones and company (the core's rules).
fn keys_of(phones: &[String], company: Option<&str>) -> Vec<(MatchOn, String)> {
    dedupe_keys(&NewCustomer {
        name: String::new(),
        company: company.map(str::to_string),
        phones: phones.to_vec(),
        contacts: Vec::new(),
        industry: None,
        region: None,
        budget_cents: None,
        store_id: None,
        from_lead_id: None,
    })
}

/// A customer or lead row, checked.
struct Party {
    id: String,
    name: String,
    company: Option<String>,
    phones: Vec<String>,
    industry: Option<String>,
    region: Option<String>,
    budget_cents: Option<i64>,
    keys: Vec<(MatchOn, String)>,
}

struct CustomerRow {
    party: Party,
    owner: Option<String>,
    stage: String,
    store_id: Option<String>,
}

struct LeadRow {
    party: Party,
    source: Option<String>,
}

struct ActivityRow {
    customer_id: String,
    kind: &'static str,
    day: i64,
    note: Option<String>,
}

/// The phones of column `phone`: each a number (`normalize_phone` finds digits); `None` after
/// recording a problem.
fn phones(sheet: &mut Sheet<'_>, row: u32, cells: &[Raw]) -> Option<Vec<String>> {
    let Some(text) = sheet.text(cells, "phone") else {
        return Some(Vec::new());
    };
    let mut out = Vec::new();
    for part in text.split([';', '；', '、', ',', '，', '/']) {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let ok = part.chars().count() <= 32
            && part
                .chars()
                .all(|c| c.is_ascii_digit() || " +-()（）０１２３４５６７８９".contains(c))
            && normalize_phone(part).is_some_and(|d| d.len() >= 5);
        if !ok {
            sheet.problem(
                row,
                "phone",
                "import_bad_phone",
                vec![("value", part.to_string())],
            );
            return None;
        }
        out.push(part.to_string());
    }
    Some(out)
}

/// An optional amount in yuan as cents: `Some(None)` when blank, `None` after a problem.
fn budget(sheet: &mut Sheet<'_>, row: u32, cells: &[Raw]) -> Option<Option<i64>> {
    match sheet.number(row, cells, "budget")? {
        None => Some(None),
        Some(yuan) if yuan < 0.0 => {
            sheet.problem(
                row,
                "budget",
                "import_negative_price",
                vec![("value", yuan.to_string())],
            );
            None
        }
        Some(yuan) => {
            let cents = yuan * 100.0;
            if (cents - cents.round()).abs() > 1e-6 || cents > 1e15 {
                sheet.problem(
                    row,
                    "budget",
                    "import_price_decimals",
                    vec![("value", yuan.to_string())],
                );
                None
            } else {
                Some(Some(cents.round() as i64))
            }
        }
    }
}

/// An optional text of at most `limit` characters.
fn short_text(
    sheet: &mut Sheet<'_>,
    row: u32,
    cells: &[Raw],
    key: &str,
    limit: usize,
) -> Option<Option<String>> {
    match sheet.text(cells, key).map(|v| v.trim().to_string()) {
        None => Some(None),
        Some(v) if v.is_empty() => Some(None),
        Some(v) if v.chars().count() > limit => {
            sheet.problem(row, key, "import_too_long", vec![("limit", limit.to_string())]);
            None
        }
        Some(v) => Some(Some(v)),
    }
}

/// The columns a customer and a lead share; `None` after recording the row's problems.
fn party(
    sheet: &mut Sheet<'_>,
    row: u32,
    cells: &[Raw],
    known: &Known,
    ids: &HashSet<String>,
    prefix: &str,
) -> Result<Option<Party>, ImportError> {
    let name = sheet.required(row, cells, "name").map(|n| n.trim().to_string());
    let name = match name {
        Some(n) if n.chars().count() > 200 => {
            sheet.problem(row, "name", "import_too_long", vec![("limit", "200".into())]);
            None
        }
        n => n,
    };
    let company = short_text(sheet, row, cells, "company", 200);
    let phones = phones(sheet, row, cells);
    let industry = short_text(sheet, row, cells, "industry", 100);
    let region = short_text(sheet, row, cells, "region", 128);
    if let Some(Some(r)) = &region
        && !known.territories.contains(r)
    {
        sheet.problem(
            row,
            "region",
            "import_unknown_territory",
            vec![("value", r.clone())],
        );
    }
    let budget = budget(sheet, row, cells);
    let id = short_text(sheet, row, cells, "id", 128);
    if let Some(Some(id)) = &id
        && ids.contains(id)
    {
        sheet.problem(row, "id", "import_id_exists", vec![("value", id.clone())]);
    }
    let (Some(name), Some(company), Some(phones), Some(industry), Some(region), Some(budget_cents), Some(id)) =
        (name, company, phones, industry, region, budget, id)
    else {
        return Ok(None);
    };
    let keys = keys_of(&phones, company.as_deref());
    if keys.is_empty() {
        sheet.problem(row, "phone", "import_needs_phone_or_company", vec![]);
        return Ok(None);
    }
    if region.as_ref().is_some_and(|r| !known.territories.contains(r)) {
        return Ok(None);
    }
    let id = match id {
        Some(id) if ids.contains(&id) => return Ok(None),
        Some(id) => id,
        None => new_id(prefix)?,
    };
    Ok(Some(Party {
        id,
        name,
        company,
        phones,
        industry,
        region,
        budget_cents,
        keys,
    }))
}

/// The column a key matched on, and the value the row wrote there (for the problem's words).
fn matched(p: &Party, on: MatchOn) -> (&'static str, String) {
    match on {
        MatchOn::Phone => ("phone", p.phones.join("、")),
        MatchOn::Company => ("company", p.company.clone().unwrap_or_default()),
    }
}

/// An activity's type in English or Chinese.
fn activity_kind(text: &str) -> Option<&'static str> {
    match text.trim().to_lowercase().as_str() {
        "purchase" | "采购" | "购买" => Some("purchase"),
        "trial" | "试用" | "新品试用" => Some("trial"),
        "event" | "活动" | "活动参与" => Some("event"),
        _ => None,
    }
}

/// A stage by its key or its label in the settings (or the default stage's page words).
fn stage_of(cfg: &PipelineConfig, text: &str) -> Option<String> {
    let t = text.trim();
    cfg.stages
        .iter()
        .find(|s| s.key == t || s.label == t || s.key.eq_ignore_ascii_case(t))
        .map(|s| s.key.clone())
}

/// Check and load the customers, activities and leads sheets (`grids`: only those kinds).
pub(super) fn import(store: &Store, grids: Vec<Grid>, now_ms: i64) -> Result<ImportReport, ImportError> {
    let known = known(store)?;
    let mut problems: Vec<CellProblem> = Vec::new();
    let mut customers: Vec<CustomerRow> = Vec::new();
    let mut leads: Vec<LeadRow> = Vec::new();
    let mut activities: Vec<ActivityRow> = Vec::new();
    // Key → (sheet row, customer id) of the file's customers; likewise leads.
    let mut file_customer_keys: HashMap<String, (u32, String)> = HashMap::new();
    let mut file_lead_keys: HashMap<String, u32> = HashMap::new();
    let mut file_ids: HashMap<String, u32> = HashMap::new();
    let mut file_lead_ids: HashMap<String, u32> = HashMap::new();
    let mut ordered: Vec<&Grid> = grids.iter().collect();
    ordered.sort_by_key(|g| g.kind);
    for grid in ordered {
        let Some(mut sheet) = header(grid, &mut problems) else {
            continue;
        };
        for (row, cells) in grid.rows.iter().skip(1) {
            let row = *row;
            if cells.iter().all(|c| *c == Raw::Empty) {
                continue;
            }
            match grid.kind {
                ImportKind::Customers => {
                    let owner = short_text(&mut sheet, row, cells, "owner", 128);
                    if let Some(Some(o)) = &owner {
                        match known.roles.get(o).map(String::as_str) {
                            Some("rep") => {}
                            Some(_) => sheet.problem(
                                row,
                                "owner",
                                "import_is_supervisor",
                                vec![("value", o.clone())],
                            ),
                            None => {
                                sheet.problem(row, "owner", "import_unknown_rep", vec![("value", o.clone())])
                            }
                        }
                    }
                    let stage = match short_text(&mut sheet, row, cells, "stage", 128) {
                        None => None,
                        Some(None) => known.cfg.first_stage().map(|s| s.key.clone()),
                        Some(Some(s)) => match stage_of(&known.cfg, &s) {
                            Some(k) => Some(k),
                            None => {
                                let expected: Vec<&str> =
                                    known.cfg.stages.iter().map(|s| s.label.as_str()).collect();
                                sheet.problem(
                                    row,
                                    "stage",
                                    "import_unknown_stage",
                                    vec![("value", s), ("expected", expected.join("、"))],
                                );
                                None
                            }
                        },
                    };
                    let store_id = match short_text(&mut sheet, row, cells, "store_code", 128) {
                        None => None,
                        Some(None) => Some(None),
                        Some(Some(code)) => match known.store_codes.get(&code) {
                            Some(id) => Some(Some(id.clone())),
                            None => {
                                sheet.problem(
                                    row,
                                    "store_code",
                                    "import_unknown_store_code",
                                    vec![("value", code)],
                                );
                                None
                            }
                        },
                    };
                    let Some(p) = party(&mut sheet, row, cells, &known, &known.customer_ids, "cus")? else {
                        continue;
                    };
                    let mut ok = true;
                    if let Some(first) = file_ids.get(&p.id) {
                        sheet.problem(
                            row,
                            "id",
                            "import_duplicate",
                            vec![("value", p.id.clone()), ("first_row", first.to_string())],
                        );
                        ok = false;
                    }
                    for (on, key) in &p.keys {
                        let (column, value) = matched(&p, *on);
                        if let Some((first, _)) = file_customer_keys.get(key) {
                            sheet.problem(
                                row,
                                column,
                                "import_duplicate_customer",
                                vec![("value", value), ("first_row", first.to_string())],
                            );
                            ok = false;
                            break;
                        }
                        if let Some((_, name)) = known.customer_keys.get(key) {
                            sheet.problem(
                                row,
                                column,
                                "import_customer_exists",
                                vec![("value", value), ("name", name.clone())],
                            );
                            ok = false;
                            break;
                        }
                    }
                    let (Some(owner), Some(stage), Some(store_id), true) = (owner, stage, store_id, ok)
                    else {
                        continue;
                    };
                    if owner
                        .as_ref()
                        .is_some_and(|o| known.roles.get(o).map(String::as_str) != Some("rep"))
                    {
                        continue;
                    }
                    file_ids.insert(p.id.clone(), row);
                    for (_, key) in &p.keys {
                        file_customer_keys.insert(key.clone(), (row, p.id.clone()));
                    }
                    customers.push(CustomerRow {
                        party: p,
                        owner,
                        stage,
                        store_id,
                    });
                }
                ImportKind::Activities => {
                    let customer = sheet
                        .required(row, cells, "customer")
                        .map(|c| c.trim().to_string());
                    let customer_id = customer.as_ref().and_then(|c| {
                        if known.customer_ids.contains(c) || file_ids.contains_key(c) {
                            return Some(c.clone());
                        }
                        let phones: Vec<String> = normalize_phone(c)
                            .filter(|d| d.len() >= 5 && c.chars().all(|ch| !ch.is_alphabetic()))
                            .map(|_| vec![c.clone()])
                            .unwrap_or_default();
                        let company = phones.is_empty().then_some(c.as_str());
                        keys_of(&phones, company).into_iter().find_map(|(_, k)| {
                            file_customer_keys
                                .get(&k)
                                .map(|(_, id)| id.clone())
                                .or_else(|| known.customer_keys.get(&k).map(|(id, _)| id.clone()))
                        })
                    });
                    if let (Some(c), None) = (&customer, &customer_id) {
                        sheet.problem(
                            row,
                            "customer",
                            "import_unknown_customer",
                            vec![("value", c.clone())],
                        );
                    }
                    let kind = match sheet.text(cells, "kind") {
                        None => {
                            sheet.problem(row, "kind", "import_value_missing", vec![]);
                            None
                        }
                        Some(k) => match activity_kind(&k) {
                            Some(k) => Some(k),
                            None => {
                                sheet.problem(row, "kind", "import_bad_activity_kind", vec![("value", k)]);
                                None
                            }
                        },
                    };
                    let day = match sheet.raw(cells, "date").clone() {
                        Raw::Empty => {
                            sheet.problem(row, "date", "import_value_missing", vec![]);
                            None
                        }
                        Raw::Date(serial) => crate::calendar::parse_day(&excel_day(serial)),
                        Raw::Text(t) if crate::calendar::parse_day(t.trim()).is_some() => {
                            crate::calendar::parse_day(t.trim())
                        }
                        other => {
                            sheet.problem(row, "date", "import_not_date", vec![("value", show(&other))]);
                            None
                        }
                    };
                    let note = short_text(&mut sheet, row, cells, "note", 500);
                    if let (Some(customer_id), Some(kind), Some(day), Some(note)) =
                        (customer_id, kind, day, note)
                    {
                        activities.push(ActivityRow {
                            customer_id,
                            kind,
                            day,
                            note,
                        });
                    }
                }
                ImportKind::Leads => {
                    let source = short_text(&mut sheet, row, cells, "source", 100);
                    let Some(p) = party(&mut sheet, row, cells, &known, &known.lead_ids, "lead")? else {
                        continue;
                    };
                    let mut ok = true;
                    if let Some(first) = file_lead_ids.get(&p.id) {
                        sheet.problem(
                            row,
                            "id",
                            "import_duplicate",
                            vec![("value", p.id.clone()), ("first_row", first.to_string())],
                        );
                        ok = false;
                    }
                    for (on, key) in &p.keys {
                        let (column, value) = matched(&p, *on);
                        if let Some(first) = file_lead_keys.get(key) {
                            sheet.problem(
                                row,
                                column,
                                "import_duplicate_lead",
                                vec![("value", value), ("first_row", first.to_string())],
                            );
                            ok = false;
                            break;
                        }
                        if let Some(name) = known.lead_keys.get(key) {
                            sheet.problem(
                                row,
                                column,
                                "import_lead_exists",
                                vec![("value", value), ("name", name.clone())],
                            );
                            ok = false;
                            break;
                        }
                    }
                    let (Some(source), true) = (source, ok) else {
                        continue;
                    };
                    file_lead_ids.insert(p.id.clone(), row);
                    for (_, key) in &p.keys {
                        file_lead_keys.insert(key.clone(), row);
                    }
                    leads.push(LeadRow { party: p, source });
                }
                // The reference sheets never reach here (`import_grids` keeps them apart).
                _ => {}
            }
        }
    }
    if !problems.is_empty() {
        return Err(ImportError::Refused(problems));
    }
    write(store, &known.cfg, &customers, &activities, &leads, now_ms)
        .map_err(|e| ImportError::Storage(e.to_string()))?;
    Ok(ImportReport {
        customers: customers.len() as u32,
        activities: activities.len() as u32,
        leads: leads.len() as u32,
        ..ImportReport::default()
    })
}

fn json<T: serde::Serialize>(v: &T) -> crate::db::Result<String> {
    serde_json::to_string(v).map_err(|e| crate::db::Error::ToSqlConversionFailure(e.into()))
}

/// Everything in one transaction: one user action.
fn write(
    store: &Store,
    cfg: &PipelineConfig,
    customers: &[CustomerRow],
    activities: &[ActivityRow],
    leads: &[LeadRow],
    now_ms: i64,
) -> crate::db::Result<()> {
    let mut w = store.writer();
    let tx = w.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let release_ms = i64::from(cfg.release_days) * DAY_MS;
    for c in customers {
        let p = &c.party;
        let (state, claimed, release_due) = match &c.owner {
            Some(_) => ("owned", Some(now_ms), Some(now_ms + release_ms)),
            None => ("pool", None, None),
        };
        tx.execute(
            "INSERT INTO customers (id, name, company, phones, contacts, industry, region, budget_cents, store_id,
                owner_id, state, stage, stage_entered_ms, claimed_ms, release_due_ms, created_by, created_ms, updated_ms)
             VALUES (?1, ?2, ?3, ?4, '[]', ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?12, ?12)",
            params![
                p.id,
                p.name,
                p.company,
                json(&p.phones)?,
                p.industry,
                p.region,
                p.budget_cents,
                c.store_id,
                c.owner,
                state,
                c.stage,
                now_ms,
                claimed,
                release_due,
                IMPORTED_BY
            ],
        )?;
        for (on, key) in &p.keys {
            let on = match on {
                MatchOn::Phone => "phone",
                MatchOn::Company => "company",
            };
            tx.execute(
                "INSERT INTO customer_keys (key, customer_id, matched_on) VALUES (?1, ?2, ?3)",
                params![key, p.id, on],
            )?;
        }
        tx.execute(
            "INSERT INTO customer_events (customer_id, kind, at_ms) VALUES (?1, 'imported', ?2)",
            params![p.id, now_ms],
        )?;
        crate::customers::feed::publish_customer(&tx, &p.id, now_ms)?;
    }
    for a in activities {
        tx.execute(
            "INSERT INTO customer_activities (customer_id, kind, day, note, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![a.customer_id, a.kind, a.day, a.note, now_ms],
        )?;
    }
    for l in leads {
        let p = &l.party;
        tx.execute(
            "INSERT INTO leads (id, name, company, phones, industry, region, budget_cents, source, state, created_ms, updated_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'new', ?9, ?9)",
            params![
                p.id,
                p.name,
                p.company,
                json(&p.phones)?,
                p.industry,
                p.region,
                p.budget_cents,
                l.source,
                now_ms
            ],
        )?;
        crate::customers::feed::publish_lead(&tx, &p.id, now_ms)?;
    }
    tx.commit()
}
