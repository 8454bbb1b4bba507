//! The pipeline by stage (客户阶段): head office's settings as the pages read them, each stage's
//! customers now, the average days a stay in it lasts, the conversion from one stage to the
//! next and the customers stalled in it; and the customers' scope (whose customers a viewer
//! sees), which the customers, pool and lead pages share.
//!
//! Averages and conversions are computed here in Rust from the rows (one pass over the
//! customers and their stage moves), not with SQL aggregates: the same figures on SQLite and
//! PostgreSQL, whose `AVG` and integer division differ.

use std::collections::HashMap;

use fieldproof_core::customers::{PipelineConfig, STAGE_LOST};

use crate::db::{Connection, params};
use crate::error::ApiResult;

pub use crate::calendar::DAY_MS;

/// Head office's pipeline settings, else the defaults (`crate::customers::config`).
pub fn pipeline_config(c: &Connection) -> ApiResult<PipelineConfig> {
    Ok(crate::customers::config::pipeline_config(c)?)
}

/// SQL: may scope parameter `?N` see customer `c` (the alias)? Head office (NULL) sees every
/// customer; a supervisor their team's: owned by one of their reps (or themselves), entered by
/// one (a linked duplicate stays visible to the rep who entered it), or in the pool of a
/// territory one of them works in.
pub fn customer_scope_sql(c: &str, n: usize) -> String {
    format!(
        "(CAST(?{n} AS TEXT) IS NULL OR {c}.owner_id = ?{n}
          OR {c}.owner_id IN (SELECT id FROM users WHERE supervisor_id = ?{n})
          OR {c}.created_by IN (SELECT id FROM users WHERE supervisor_id = ?{n})
          OR ({c}.owner_id IS NULL AND {c}.region IN
              (SELECT territory FROM users WHERE (supervisor_id = ?{n} OR id = ?{n}) AND territory IS NOT NULL)))"
    )
}

/// Territories by their names (a lead's or customer's region is a territory code).
#[derive(Debug, Clone, Default)]
pub struct Territories(HashMap<String, String>);

impl Territories {
    pub fn load(c: &Connection) -> ApiResult<Territories> {
        let mut st = c.prepare("SELECT code, name FROM territories")?;
        let map = st
            .query_map(params![], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })?
            .collect::<Result<_, _>>()?;
        Ok(Territories(map))
    }

    /// The territory's name; a code the system does not know is shown as written.
    pub fn name(&self, code: &str) -> String {
        self.0.get(code).cloned().unwrap_or_else(|| code.to_string())
    }
}

/// One stage's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct StageFigures {
    pub key: String,
    pub terminal: bool,
    /// Customers in the stage now (owned or in the pool; duplicates and closed ones are not
    /// pipeline).
    pub customers: i64,
    /// The average length in days of a stay in the stage: stays that ended (a move out) and
    /// stays still running (until now). `None` without any.
    pub average_days: Option<f64>,
    /// Stays counted in the average.
    pub stays: i64,
    /// Customers that ever reached the stage (entered it, or started in it).
    pub reached: i64,
    /// Of those that reached the previous open stage, the share that reached this one (`None`
    /// for the first stage, or when none reached the previous one). Lost (流失) is not a step:
    /// its share is of all that reached any stage.
    pub conversion: Option<f64>,
    /// Customers owned and in the stage for more than the settings' `stall_days`.
    pub stalled: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PipelineView {
    pub stages: Vec<StageFigures>,
    pub stall_days: u32,
    /// Customers in the viewer's scope, every state.
    pub customers: i64,
}

/// A customer as the pipeline reads it.
struct PipelineCustomer {
    id: String,
    state: String,
    stage: String,
    stage_entered_ms: i64,
    created_ms: i64,
}

/// A stage move as the pipeline reads it.
struct Move {
    customer_id: String,
    from_stage: String,
    to_stage: String,
    at_ms: i64,
}

/// The pipeline of the customers `scope` sees, at `now_ms`, by the stages of `cfg`.
pub fn pipeline_view(
    c: &Connection,
    cfg: &PipelineConfig,
    scope: Option<&str>,
    now_ms: i64,
) -> ApiResult<PipelineView> {
    let sql = format!(
        "SELECT c.id, c.state, c.stage, c.stage_entered_ms, c.created_ms FROM customers c WHERE {}",
        customer_scope_sql("c", 1)
    );
    let mut st = c.prepare(&sql)?;
    let customers: Vec<PipelineCustomer> = st
        .query_map(params![scope], |r| {
            Ok(PipelineCustomer {
                id: r.get(0)?,
                state: r.get(1)?,
                stage: r.get(2)?,
                stage_entered_ms: r.get(3)?,
                created_ms: r.get(4)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    let sql = format!(
        "SELECT m.customer_id, m.from_stage, m.to_stage, m.at_ms FROM customer_stage_changes m
         JOIN customers c ON c.id = m.customer_id WHERE {} ORDER BY m.customer_id, m.at_ms, m.id",
        customer_scope_sql("c", 1)
    );
    let mut st = c.prepare(&sql)?;
    let moves: Vec<Move> = st
        .query_map(params![scope], |r| {
            Ok(Move {
                customer_id: r.get(0)?,
                from_stage: r.get(1)?,
                to_stage: r.get(2)?,
                at_ms: r.get(3)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(figures(cfg, &customers, &moves, now_ms))
}

fn figures(
    cfg: &PipelineConfig,
    customers: &[PipelineCustomer],
    moves: &[Move],
    now_ms: i64,
) -> PipelineView {
    let index: HashMap<&str, usize> = cfg
        .stages
        .iter()
        .enumerate()
        .map(|(i, s)| (s.key.as_str(), i))
        .collect();
    let n = cfg.stages.len();
    let mut now_in = vec![0i64; n];
    let mut stalled = vec![0i64; n];
    // (sum of days, stays) per stage.
    let mut stays = vec![(0.0f64, 0i64); n];
    let mut reached = vec![0i64; n];
    let mut by_customer: HashMap<&str, Vec<&Move>> = HashMap::new();
    for m in moves {
        by_customer.entry(m.customer_id.as_str()).or_default().push(m);
    }
    let stall_ms = i64::from(cfg.stall_days) * DAY_MS;
    for cust in customers {
        let pipeline = cust.state == "owned" || cust.state == "pool";
        let current = index.get(cust.stage.as_str()).copied();
        if pipeline && let Some(i) = current {
            now_in[i] += 1;
            let terminal = cfg.stages.get(i).is_some_and(|s| s.terminal);
            if cust.state == "owned" && !terminal && now_ms - cust.stage_entered_ms > stall_ms {
                stalled[i] += 1;
            }
        }
        if cust.state == "duplicate" {
            continue;
        }
        // The stages it went through, each with when it entered: the first is where its first
        // move came from (or where it is), from its creation.
        let its = by_customer.get(cust.id.as_str()).map_or(&[][..], Vec::as_slice);
        let mut seen = vec![false; n];
        let mut at = (
            its.first().map_or(cust.stage.as_str(), |m| m.from_stage.as_str()),
            cust.created_ms,
        );
        for m in its {
            if let Some(&i) = index.get(at.0) {
                seen[i] = true;
                stays[i].0 += (m.at_ms - at.1).max(0) as f64 / DAY_MS as f64;
                stays[i].1 += 1;
            }
            at = (m.to_stage.as_str(), m.at_ms);
        }
        if let Some(&i) = index.get(at.0) {
            seen[i] = true;
            let terminal = cfg.stages.get(i).is_some_and(|s| s.terminal);
            // A stay in a closing stage (won, lost) has no end; it is not part of the average.
            if !terminal {
                stays[i].0 += (now_ms - at.1).max(0) as f64 / DAY_MS as f64;
                stays[i].1 += 1;
            }
        }
        for (i, s) in seen.iter().enumerate() {
            if *s {
                reached[i] += 1;
            }
        }
    }
    // A stage that was skipped (a move straight from 需求确认 to 报价谈判) still counts as
    // reached by those that went past it, so conversions stay ≤ 100 %: an open stage is reached
    // by every customer that reached a later open stage or won.
    let open_order: Vec<usize> = (0..n)
        .filter(|&i| cfg.stages.get(i).is_some_and(|s| s.key != STAGE_LOST))
        .collect();
    let mut cumulative = vec![0i64; n];
    let mut carried = 0i64;
    for &i in open_order.iter().rev() {
        carried = carried.max(reached[i]);
        cumulative[i] = carried;
    }
    let any_reached = customers.iter().filter(|c| c.state != "duplicate").count() as i64;
    let stages = cfg
        .stages
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let reached_i = if s.key == STAGE_LOST {
                reached[i]
            } else {
                cumulative[i]
            };
            let conversion = if s.key == STAGE_LOST {
                (any_reached > 0).then(|| reached[i] as f64 / any_reached as f64)
            } else {
                let pos = open_order.iter().position(|&j| j == i);
                match pos.and_then(|p| p.checked_sub(1)).and_then(|p| open_order.get(p)) {
                    Some(&prev) if cumulative[prev] > 0 => {
                        Some(cumulative[i] as f64 / cumulative[prev] as f64)
                    }
                    _ => None,
                }
            };
            StageFigures {
                key: s.key.clone(),
                terminal: s.terminal,
                customers: now_in[i],
                average_days: (stays[i].1 > 0).then(|| stays[i].0 / stays[i].1 as f64),
                stays: stays[i].1,
                reached: reached_i,
                conversion,
                stalled: stalled[i],
            }
        })
        .collect();
    PipelineView {
        stages,
        stall_days: cfg.stall_days,
        customers: customers.len() as i64,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn cust(id: &str, state: &str, stage: &str, entered: i64) -> PipelineCustomer {
        PipelineCustomer {
            id: id.into(),
            state: state.into(),
            stage: stage.into(),
            stage_entered_ms: entered,
            created_ms: 0,
        }
    }

    fn mv(id: &str, from: &str, to: &str, day: i64) -> Move {
        Move {
            customer_id: id.into(),
            from_stage: from.into(),
            to_stage: to.into(),
            at_ms: day * DAY_MS,
        }
    }

    #[test]
    fn averages_conversions_and_stalls_by_stage() {
        let cfg = PipelineConfig::default();
        let now = 20 * DAY_MS;
        let customers = [
            cust("a", "owned", "explore", 0),
            cust("b", "owned", "demo", 4 * DAY_MS),
            cust("c", "pool", "needs", 19 * DAY_MS),
            cust("d", "duplicate", "explore", 0),
        ];
        let moves = [
            mv("b", "explore", "needs", 2),
            mv("b", "needs", "demo", 4),
            mv("c", "explore", "needs", 19),
        ];
        let v = figures(&cfg, &customers, &moves, now);
        let s = |k: &str| v.stages.iter().find(|s| s.key == k).unwrap().clone();
        assert_eq!(s("explore").customers, 1);
        // a: 20 days running; b: 2 days; c: 19 days.
        assert_eq!(s("explore").stays, 3);
        assert!((s("explore").average_days.unwrap() - 41.0 / 3.0).abs() < 1e-9);
        // a in explore 20 days and b in demo 16 days: both stalled (> 5); c is in the pool.
        assert_eq!(s("explore").stalled, 1);
        assert_eq!(s("demo").stalled, 1);
        assert_eq!(s("needs").stalled, 0);
        assert_eq!(s("explore").reached, 3);
        assert_eq!(s("needs").reached, 2);
        assert_eq!(s("demo").reached, 1);
        assert_eq!(s("explore").conversion, None);
        assert!((s("needs").conversion.unwrap() - 2.0 / 3.0).abs() < 1e-9);
        assert!((s("demo").conversion.unwrap() - 0.5).abs() < 1e-9);
        assert_eq!(s("negotiation").conversion, Some(0.0));
    }
}
