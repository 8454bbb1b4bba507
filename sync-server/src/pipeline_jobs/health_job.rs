//! The nightly health score (健康度): for every customer (duplicates excepted) the counts of its
//! activities (`customer_activities`) in each component's window, scored by
//! `pipeline::health::score` under the saved model, kept as the day's `customer_health` row (the
//! trend) and as `customers.health_grade`/`health_score` (sent down the feed when they change);
//! a component at zero for `zero_warning_days` raises one red warning (`health_zero`) per run
//! of zeros, found by `pipeline::health::zero_warnings` over the stored days.
//!
//! The reads are one query per component (counts grouped by customer) plus the recent health
//! rows, not one per customer, so 100,000 customers take seconds (docs/PERFORMANCE.md).

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::calendar::Calendar;
use crate::db::{Connection, Dialect, TransactionBehavior, params};
use crate::pipeline::health::{Grade, HealthModel, Inputs, score, zero_warnings};
use crate::store::Store;

use super::settings::load_health;

/// One component as stored in `customer_health.components`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredComponent {
    pub key: String,
    pub value: u32,
    pub points: f64,
    /// A red warning stands for this component today.
    #[serde(default)]
    pub warning: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HealthRunSummary {
    pub day: i64,
    pub customers: u32,
    /// Customers whose grade or score changed (sent down the feed).
    pub changed: u32,
    pub warnings: u32,
}

fn grade_text(g: Grade) -> &'static str {
    match g {
        Grade::A => "A",
        Grade::B => "B",
        Grade::C => "C",
    }
}

/// Extra days of history read beyond the warning's length: a night the job did not run neither
/// breaks nor extends a run of zeros, and a week of them is still read through.
const HISTORY_SLACK_DAYS: i64 = 7;

/// Run the health score for the day of `now_ms` now, whatever the scheduler did (the admin's
/// `run-jobs-now` goes through the scheduler instead; this is for tests and benchmarks that time
/// the job itself): read and scored on a reader, written in transactions of [`CHUNK`]
/// customers.
pub fn run_health(store: &Store, now_ms: i64) -> crate::db::Result<HealthRunSummary> {
    let cal = store.calendar();
    let plan = {
        let r = store
            .reader()
            .map_err(|e| crate::db::Error::ToSqlConversionFailure(e.to_string().into()))?;
        plan(&r, cal, now_ms)?
    };
    for part in 0..plan.parts() {
        let mut w = store.writer();
        let tx = w.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        plan.apply(&tx, cal, part, now_ms)?;
        tx.commit()?;
    }
    Ok(plan.summary)
}

struct Row {
    id: String,
    name: String,
    owner: Option<String>,
    grade: Option<String>,
    score: Option<f64>,
}

/// A red warning to raise (the customer's, one component's run of zeros).
pub(crate) struct WarningOut {
    owner: Option<String>,
    customer_id: String,
    name: String,
    label_zh: String,
    label_en: String,
    key: String,
    zero_since: i64,
    days: u32,
}

/// Everything one night's run writes, computed from reads alone (so the writes can go in short
/// transactions: pushes do not wait seconds for the writer).
pub(crate) struct HealthPlan {
    pub summary: HealthRunSummary,
    rows: Vec<HealthOut>,
    /// (customer, grade, score) whose grade or score changed.
    changed: Vec<(String, &'static str, f64)>,
    warnings: Vec<WarningOut>,
}

/// Customers' rows written per transaction (a few hundred ms on PostgreSQL).
pub(crate) const CHUNK: usize = 5_000;

impl HealthPlan {
    /// How many write transactions [`HealthPlan::apply`] takes (`part` 0..parts).
    pub(crate) fn parts(&self) -> usize {
        self.rows
            .len()
            .div_ceil(CHUNK)
            .max(self.changed.len().div_ceil(CHUNK))
            .max(1)
    }

    /// Write part `part` of the plan: its day rows and its changed grades (each down the feed);
    /// the last part also raises the warnings. Re-running a part writes the same again.
    pub(crate) fn apply(
        &self,
        tx: &Connection,
        cal: Calendar,
        part: usize,
        now_ms: i64,
    ) -> crate::db::Result<()> {
        let slice = |n: usize| (part * CHUNK).min(n)..((part + 1) * CHUNK).min(n);
        write_health_rows(tx, &self.rows[slice(self.rows.len())])?;
        let changed = &self.changed[slice(self.changed.len())];
        match tx.dialect() {
            Dialect::Sqlite => {
                for (id, grade, score) in changed {
                    tx.prepare_cached(
                        "UPDATE customers SET health_grade = ?2, health_score = ?3 WHERE id = ?1",
                    )?
                    .execute(params![id, grade, score])?;
                }
            }
            // One statement for the part: 5,000 round trips fewer.
            Dialect::Postgres if !changed.is_empty() => {
                let json = serde_json::to_string(changed)
                    .map_err(|e| crate::db::Error::ToSqlConversionFailure(e.into()))?;
                tx.prepare_cached(
                    "UPDATE customers AS c SET health_grade = r.grade, health_score = r.score
                     FROM (SELECT x->>0 AS id, x->>1 AS grade, (x->>2)::double precision AS score
                           FROM json_array_elements(?1::json) AS x) AS r
                     WHERE c.id = r.id",
                )?
                .execute(params![json])?;
            }
            Dialect::Postgres => {}
        }
        for (id, _, _) in changed {
            crate::customers::feed::publish_customer(tx, id, now_ms)?;
        }
        if part + 1 == self.parts() {
            for w in &self.warnings {
                super::jobs::raise_health_zero(
                    tx,
                    cal,
                    w.owner.as_deref(),
                    &w.customer_id,
                    &w.name,
                    &w.label_zh,
                    &w.label_en,
                    &w.key,
                    w.zero_since,
                    w.days,
                    now_ms,
                )?;
            }
        }
        Ok(())
    }
}

/// Read and score: what the night's run will write.
pub(crate) fn plan(tx: &Connection, cal: Calendar, now_ms: i64) -> crate::db::Result<HealthPlan> {
    let today = cal.day_of(now_ms);
    let model: HealthModel = load_health(tx)?.body;
    let customers: Vec<Row> = {
        let mut st = tx.prepare_cached(
            "SELECT id, name, owner_id, health_grade, health_score FROM customers WHERE state <> 'duplicate' ORDER BY id",
        )?;
        let mut rows = st.query([])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(Row {
                id: r.get(0)?,
                name: r.get(1)?,
                owner: r.get(2)?,
                grade: r.get(3)?,
                score: r.get(4)?,
            });
        }
        out
    };
    // Each component's counts, by customer: one grouped query per component.
    let mut counts: Vec<HashMap<String, u32>> = Vec::with_capacity(model.components.len());
    for c in &model.components {
        let first = today - i64::from(c.window_days) + 1;
        let mut m = HashMap::new();
        let mut st = tx.prepare_cached(
            "SELECT customer_id, count(*) FROM customer_activities WHERE kind = ?1 AND day >= ?2 AND day <= ?3
             GROUP BY customer_id",
        )?;
        let mut rows = st.query(params![c.activity_kind, first, today])?;
        while let Some(r) = rows.next()? {
            let n: i64 = r.get(1)?;
            m.insert(r.get::<_, String>(0)?, u32::try_from(n).unwrap_or(u32::MAX));
        }
        counts.push(m);
    }
    // The stored days before today: which components were at zero, and the latest day's
    // warnings (a warning already standing is not raised again).
    let since = today - i64::from(model.zero_warning_days) - HISTORY_SLACK_DAYS;
    let mut history: HashMap<String, Vec<(i64, BTreeSet<String>)>> = HashMap::new();
    // Per customer: its latest earlier day, and that day's components when it had a warning.
    let mut latest: HashMap<String, (i64, Option<String>)> = HashMap::new();
    {
        let mut st = tx.prepare_cached(
            "SELECT customer_id, day, zero_keys, components, warning FROM customer_health
             WHERE day >= ?1 AND day < ?2",
        )?;
        let mut rows = st.query(params![since, today])?;
        while let Some(r) = rows.next()? {
            let id: String = r.get(0)?;
            let day: i64 = r.get(1)?;
            let zero: String = r.get(2)?;
            let warning: i64 = r.get(4)?;
            let zero: BTreeSet<String> = serde_json::from_str(&zero).unwrap_or_default();
            if latest.get(&id).is_none_or(|(d, _)| *d < day) {
                let comps = if warning != 0 { Some(r.get(3)?) } else { None };
                latest.insert(id.clone(), (day, comps));
            }
            history.entry(id).or_default().push((day, zero));
        }
    }
    let mut summary = HealthRunSummary {
        day: today,
        ..HealthRunSummary::default()
    };
    let mut out_rows: Vec<HealthOut> = Vec::with_capacity(customers.len());
    let mut changed: Vec<(String, &'static str, f64)> = Vec::new();
    let mut warnings_out: Vec<WarningOut> = Vec::new();
    for c in &customers {
        let inputs = Inputs {
            counts: model
                .components
                .iter()
                .zip(&counts)
                .map(|(comp, m)| (comp.key.clone(), m.get(&c.id).copied().unwrap_or(0)))
                .collect(),
        };
        let result = score(&model, &inputs);
        let zero_keys: Vec<String> = result
            .components
            .iter()
            .filter(|x| x.value == 0)
            .map(|x| x.key.clone())
            .collect();
        // History as the engine takes it: a stored zero is a zero, anything else counts one.
        let mut days: Vec<(i64, Inputs)> = history
            .get(&c.id)
            .map(|h| {
                h.iter()
                    .map(|(day, zero)| {
                        let counts = model
                            .components
                            .iter()
                            .map(|comp| (comp.key.clone(), u32::from(!zero.contains(&comp.key))))
                            .collect();
                        (*day, Inputs { counts })
                    })
                    .collect()
            })
            .unwrap_or_default();
        days.push((today, inputs.clone()));
        let warnings = zero_warnings(&model, &days, today);
        // Warnings standing on the latest earlier day (only read when there is one).
        let standing: BTreeSet<String> = match latest.get(&c.id) {
            Some((_, Some(comps))) => serde_json::from_str::<Vec<StoredComponent>>(comps)
                .unwrap_or_default()
                .into_iter()
                .filter(|x| x.warning)
                .map(|x| x.key)
                .collect(),
            _ => BTreeSet::new(),
        };
        let warned: BTreeSet<&str> = warnings.iter().map(|w| w.key.as_str()).collect();
        for w in &warnings {
            if standing.contains(&w.key) {
                continue;
            }
            summary.warnings += 1;
            let comp = model.components.iter().find(|x| x.key == w.key);
            warnings_out.push(WarningOut {
                owner: c.owner.clone(),
                customer_id: c.id.clone(),
                name: c.name.clone(),
                label_zh: comp.map_or(w.key.clone(), |x| x.label_zh.clone()),
                label_en: comp.map_or(w.key.clone(), |x| x.label_en.clone()),
                key: w.key.clone(),
                zero_since: w.zero_since,
                days: w.days,
            });
        }
        let stored: Vec<StoredComponent> = result
            .components
            .iter()
            .map(|x| StoredComponent {
                key: x.key.clone(),
                value: x.value,
                points: x.points,
                warning: warned.contains(x.key.as_str()),
            })
            .collect();
        let grade = grade_text(result.grade);
        if c.grade.as_deref() != Some(grade) || c.score != Some(result.score) {
            changed.push((c.id.clone(), grade, result.score));
        }
        out_rows.push(HealthOut {
            customer_id: c.id.clone(),
            day: today,
            score: result.score,
            grade: grade.to_string(),
            components: serde_json::to_string(&stored).unwrap_or_else(|_| "[]".into()),
            zero_keys: serde_json::to_string(&zero_keys).unwrap_or_else(|_| "[]".into()),
            warning: i64::from(!warnings.is_empty()),
        });
        summary.customers += 1;
    }
    summary.changed = changed.len() as u32;
    Ok(HealthPlan {
        summary,
        rows: out_rows,
        changed,
        warnings: warnings_out,
    })
}

#[derive(Serialize)]
struct HealthOut {
    customer_id: String,
    day: i64,
    score: f64,
    grade: String,
    components: String,
    zero_keys: String,
    warning: i64,
}

/// Upsert the day's rows (a second run of the same day replaces them): on PostgreSQL in chunks
/// of one statement each (rows as a JSON array), on SQLite one prepared call each.
fn write_health_rows(tx: &Connection, rows: &[HealthOut]) -> crate::db::Result<()> {
    const UPSERT: &str =
        "ON CONFLICT (customer_id, day) DO UPDATE SET score = excluded.score, grade = excluded.grade,
        components = excluded.components, zero_keys = excluded.zero_keys, warning = excluded.warning";
    match tx.dialect() {
        Dialect::Sqlite => {
            let sql = format!(
                "INSERT INTO customer_health (customer_id, day, score, grade, components, zero_keys, warning)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) {UPSERT}"
            );
            let mut st = tx.prepare_cached(&sql)?;
            for r in rows {
                st.execute(params![
                    r.customer_id,
                    r.day,
                    r.score,
                    r.grade,
                    r.components,
                    r.zero_keys,
                    r.warning
                ])?;
            }
        }
        Dialect::Postgres => {
            let sql = format!(
                "INSERT INTO customer_health (customer_id, day, score, grade, components, zero_keys, warning)
                 SELECT customer_id, day, score, grade, components, zero_keys, warning
                 FROM json_to_recordset(?1::json) AS r(customer_id text, day bigint, score double precision,
                    grade text, components text, zero_keys text, warning bigint) {UPSERT}"
            );
            for chunk in rows.chunks(5_000) {
                let json = serde_json::to_string(chunk)
                    .map_err(|e| crate::db::Error::ToSqlConversionFailure(e.into()))?;
                tx.prepare_cached(&sql)?.execute(params![json])?;
            }
        }
    }
    Ok(())
}
