//! Leads (线索) for head office: by tab (new, waiting for the assigned rep's claim, overdue,
//! in the pool, all) with their counts, filters (search, rep, territory, source), paged; and
//! the lead-response rate (responded within the deadline / leads due) by day, team and rep for
//! the process-health page.
//!
//! Scope: a supervisor sees the leads routed to their team (`assigned_rep`); new and pooled
//! leads nobody was given are head office's.

use std::collections::BTreeMap;

use crate::db::{Connection, params};
use crate::error::ApiResult;
use crate::web::auth::scope_sql;
use crate::web::read::health::Ratio;

/// The tabs of the leads page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeadTab {
    /// Not routed yet (routing not live, or no rule matched).
    New,
    /// Routed to a rep, the response clock running.
    Waiting,
    /// The deadline passed without a claim (still assigned, or already back in the pool).
    Overdue,
    /// In the pool.
    Pool,
    All,
}

impl LeadTab {
    pub const ALL: [LeadTab; 5] = [
        LeadTab::New,
        LeadTab::Waiting,
        LeadTab::Overdue,
        LeadTab::Pool,
        LeadTab::All,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LeadTab::New => "new",
            LeadTab::Waiting => "waiting",
            LeadTab::Overdue => "overdue",
            LeadTab::Pool => "pool",
            LeadTab::All => "all",
        }
    }

    pub fn parse(s: &str) -> Option<LeadTab> {
        LeadTab::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// SQL over lead `l` at `?N` (now, ms). Every tab names `?N` (the tabs without a clock
    /// in a test that is always true), so one parameter list serves all of them.
    fn sql(self, n: usize) -> String {
        let bound = format!("CAST(?{n} AS BIGINT) IS NOT NULL");
        match self {
            LeadTab::New => format!("l.state = 'new' AND {bound}"),
            LeadTab::Waiting => {
                format!("(l.state = 'assigned' AND (l.deadline_ms IS NULL OR l.deadline_ms >= ?{n}))")
            }
            LeadTab::Overdue => format!(
                "((l.state = 'assigned' AND l.deadline_ms < ?{n}) OR (l.overdue_ms IS NOT NULL AND l.state IN ('assigned', 'pool')))"
            ),
            LeadTab::Pool => format!("l.state = 'pool' AND {bound}"),
            LeadTab::All => bound,
        }
    }
}

/// The leads page's filters (empty: any).
#[derive(Debug, Clone, Default)]
pub struct LeadFilter {
    /// Name, company or source contains.
    pub q: String,
    pub rep: String,
    pub region: String,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LeadRow {
    pub id: String,
    pub name: String,
    pub company: Option<String>,
    pub region: Option<String>,
    pub industry: Option<String>,
    pub source: Option<String>,
    pub state: String,
    pub assigned_rep: Option<String>,
    pub assigned_ms: Option<i64>,
    pub routed_by: Option<String>,
    pub deadline_ms: Option<i64>,
    pub claimed_ms: Option<i64>,
    pub responded_in_time: Option<bool>,
    pub overdue_ms: Option<i64>,
    pub customer_id: Option<String>,
    pub created_ms: i64,
}

#[derive(Debug, Clone, Default)]
pub struct LeadList {
    /// Leads per tab under the filters.
    pub counts: Vec<(LeadTab, i64)>,
    pub rows: Vec<LeadRow>,
    /// Rows of the chosen tab.
    pub total: i64,
    /// Reps (with leads in scope), territories and sources to filter by.
    pub reps: Vec<String>,
    pub regions: Vec<String>,
    pub sources: Vec<String>,
}

/// The filters' SQL from `?first`: (clause, values in order).
fn filter_sql(f: &LeadFilter, first: usize) -> (String, Vec<String>) {
    let mut clause = String::new();
    let mut values = Vec::new();
    let mut n = first;
    if !f.q.is_empty() {
        clause.push_str(&format!(
            " AND (l.name LIKE ?{n} OR COALESCE(l.company, '') LIKE ?{n} OR COALESCE(l.source, '') LIKE ?{n})"
        ));
        values.push(format!("%{}%", f.q.replace(['%', '_'], "")));
        n += 1;
    }
    for (col, v) in [
        ("l.assigned_rep", &f.rep),
        ("l.region", &f.region),
        ("l.source", &f.source),
    ] {
        if !v.is_empty() {
            clause.push_str(&format!(" AND {col} = ?{n}"));
            values.push(v.clone());
            n += 1;
        }
    }
    (clause, values)
}

const COLUMNS: &str =
    "l.id, l.name, l.company, l.region, l.industry, l.source, l.state, l.assigned_rep, l.assigned_ms,
    l.routed_by, l.deadline_ms, l.claimed_ms, l.responded_in_time, l.overdue_ms, l.customer_id, l.created_ms";

fn lead_row(r: &crate::db::Row<'_>) -> crate::db::Result<LeadRow> {
    Ok(LeadRow {
        id: r.get(0)?,
        name: r.get(1)?,
        company: r.get(2)?,
        region: r.get(3)?,
        industry: r.get(4)?,
        source: r.get(5)?,
        state: r.get(6)?,
        assigned_rep: r.get(7)?,
        assigned_ms: r.get(8)?,
        routed_by: r.get(9)?,
        deadline_ms: r.get(10)?,
        claimed_ms: r.get(11)?,
        responded_in_time: r.get::<_, Option<i64>>(12)?.map(|v| v != 0),
        overdue_ms: r.get(13)?,
        customer_id: r.get(14)?,
        created_ms: r.get(15)?,
    })
}

/// Leads of `tab` under `filter` that `scope` sees at `now_ms`: the page `offset..offset+limit`
/// (the tab's order: the nearest deadline first while the clock runs, else the newest first),
/// with every tab's count.
pub fn lead_list(
    c: &Connection,
    scope: Option<&str>,
    tab: LeadTab,
    filter: &LeadFilter,
    now_ms: i64,
    offset: u64,
    limit: u64,
) -> ApiResult<LeadList> {
    // ?1 scope, ?2 now, filters from ?3.
    let scope_clause = format!(
        "(CAST(?1 AS TEXT) IS NULL OR (l.assigned_rep IS NOT NULL AND {}))",
        scope_sql("l.assigned_rep", 1)
    );
    let (fclause, fvalues) = filter_sql(filter, 3);
    let values = |extra: &[i64]| -> Vec<crate::db::Value> {
        let mut v: Vec<crate::db::Value> = vec![
            scope.map_or(crate::db::Value::Null, |s| crate::db::Value::Text(s.to_string())),
            crate::db::Value::Integer(now_ms),
        ];
        v.extend(fvalues.iter().map(|s| crate::db::Value::Text(s.clone())));
        v.extend(extra.iter().map(|n| crate::db::Value::Integer(*n)));
        v
    };
    let mut list = LeadList::default();
    for t in LeadTab::ALL {
        let sql = format!(
            "SELECT count(*) FROM leads l WHERE {scope_clause} AND {} {fclause}",
            t.sql(2)
        );
        let n: i64 = c.query_row(&sql, crate::db::params_from_iter(values(&[])), |r| r.get(0))?;
        list.counts.push((t, n));
        if t == tab {
            list.total = n;
        }
    }
    let order = match tab {
        LeadTab::Waiting => "l.deadline_ms, l.created_ms DESC, l.id",
        LeadTab::Overdue => "COALESCE(l.overdue_ms, l.deadline_ms) DESC, l.id",
        _ => "l.created_ms DESC, l.id",
    };
    let n = 3 + fvalues.len();
    let sql = format!(
        "SELECT {COLUMNS} FROM leads l WHERE {scope_clause} AND {} {fclause} ORDER BY {order} LIMIT ?{} OFFSET ?{}",
        tab.sql(2),
        n,
        n + 1
    );
    let mut st = c.prepare(&sql)?;
    list.rows = st
        .query_map(
            crate::db::params_from_iter(values(&[limit as i64, offset as i64])),
            lead_row,
        )?
        .collect::<Result<_, _>>()?;
    let distinct = |col: &str| -> ApiResult<Vec<String>> {
        let sql = format!(
            "SELECT DISTINCT {col} FROM leads l WHERE {scope_clause} AND {col} IS NOT NULL AND CAST(?2 AS BIGINT) IS NOT NULL ORDER BY {col}"
        );
        let mut st = c.prepare(&sql)?;
        let v: Vec<String> = st
            .query_map(params![scope, now_ms], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(v)
    };
    list.reps = distinct("l.assigned_rep")?;
    list.regions = distinct("l.region")?;
    list.sources = distinct("l.source")?;
    Ok(list)
}

/// The lead-response rate of a period: leads whose response was decided (claimed, or their
/// deadline passed) on each day, and those claimed within the deadline; and the same per team
/// (the assigned rep's supervisor) and per rep.
#[derive(Debug, Clone, Default)]
pub struct ResponseRate {
    pub days: BTreeMap<i64, Ratio>,
    /// Supervisor id (the team) → ratio; a rep without a supervisor under "".
    pub teams: BTreeMap<String, Ratio>,
    pub reps: BTreeMap<String, Ratio>,
}

/// A decided lead: the rep, their supervisor, when it was decided and whether in time.
struct Decided {
    rep: String,
    supervisor: Option<String>,
    at_ms: i64,
    in_time: bool,
}

/// The lead-response rate over `[from_ms, to_ms)` for `scope`, by the field calendar `day_of`.
/// A lead counts on the day of its deadline (a lead claimed early counts then too: the rate is
/// of the leads that fell due in the period).
pub fn response_rate(
    c: &Connection,
    scope: Option<&str>,
    from_ms: i64,
    to_ms: i64,
    day_of: impl Fn(i64) -> i64,
) -> ApiResult<ResponseRate> {
    let sql = format!(
        "SELECT l.assigned_rep, u.supervisor_id, l.deadline_ms, l.responded_in_time FROM leads l
         LEFT JOIN users u ON u.id = l.assigned_rep
         WHERE l.responded_in_time IS NOT NULL AND l.assigned_rep IS NOT NULL AND l.deadline_ms IS NOT NULL
           AND l.deadline_ms >= ?1 AND l.deadline_ms < ?2 AND {}",
        scope_sql("l.assigned_rep", 3)
    );
    let mut st = c.prepare(&sql)?;
    let mut out = ResponseRate::default();
    for r in st.query_map(params![from_ms, to_ms, scope], |r| {
        Ok(Decided {
            rep: r.get(0)?,
            supervisor: r.get(1)?,
            at_ms: r.get(2)?,
            in_time: r.get::<_, i64>(3)? != 0,
        })
    })? {
        let d = r?;
        let num = i64::from(d.in_time);
        for ratio in [
            out.days.entry(day_of(d.at_ms)).or_default(),
            out.teams.entry(d.supervisor.unwrap_or_default()).or_default(),
            out.reps.entry(d.rep).or_default(),
        ] {
            ratio.num += num;
            ratio.den += 1;
        }
    }
    Ok(out)
}
