//! Each supervisor's daily digest: the day's planned stops nobody visited, the team's open
//! exceptions by type, and the photo retakes gone overdue — one message per supervisor per
//! channel, written once a day at the digest hour (`--alert-digest-hour`, local time) to the
//! channels whose digest rules cover the supervisor's team (a rule without a team: every team).
//!
//! The people model has no email address for a supervisor, so digests go only where a rule sends
//! them. The idempotency key is the supervisor, the local day and the channel: a restart, or a
//! second server process, writing the day's digests again writes nothing new.

use crate::db::{Connection, TransactionBehavior};

use crate::alert_queue::{NewDelivery, app_link, insert_delivery};
use crate::calendar::{Calendar, day_string};
use crate::error::ApiResult;
use crate::i18n::Lang;
use crate::store::Store;

/// Lines listed per section before "and N more".
const MAX_LINES: usize = 15;

/// A planned stop of the day that has no visit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissedStop {
    pub store_name: String,
    pub rep_name: String,
}

/// A retake request past its due time (photo review with retakes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverdueRetake {
    pub store_name: String,
    pub rep_name: String,
}

/// Where the digest's figures that belong to other features come from. `serve` supplies them
/// (`web::read::alerts::digest_sources`): the plan-matching rule lives with the pages' read
/// models, above this module, and there must be one rule for "missed".
#[derive(Clone, Copy)]
pub struct DigestSources {
    /// A team's (its code) planned stops on a local day that nobody visited.
    pub missed_stops: fn(&Connection, Calendar, &str, i64) -> ApiResult<Vec<MissedStop>>,
    /// A team's (its code) photo retakes overdue on a local day.
    pub retakes_overdue: fn(&Connection, Calendar, &str, i64) -> ApiResult<Vec<OverdueRetake>>,
}

fn none_missed(_: &Connection, _: Calendar, _: &str, _: i64) -> ApiResult<Vec<MissedStop>> {
    Ok(Vec::new())
}

fn none_overdue(_: &Connection, _: Calendar, _: &str, _: i64) -> ApiResult<Vec<OverdueRetake>> {
    Ok(Vec::new())
}

impl DigestSources {
    /// Neither: a digest of open exceptions only (in-process tests, benchmarks).
    pub const NONE: DigestSources = DigestSources {
        missed_stops: none_missed,
        retakes_overdue: none_overdue,
    };
}

/// The team's open (or assigned) exceptions by code, most first.
pub fn open_by_code(c: &Connection, supervisor_id: &str) -> ApiResult<Vec<(String, i64)>> {
    let mut st = c.prepare_cached(
        "SELECT e.code, count(*) FROM exceptions e JOIN users u ON u.id = e.user_id
         WHERE e.status IN ('open', 'assigned') AND (u.supervisor_id = ?1 OR u.id = ?1)
         GROUP BY e.code ORDER BY count(*) DESC, e.code",
    )?;
    let rows = st.query_map([supervisor_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The digest's text in `lang`.
pub fn compose(
    lang: Lang,
    team_name: &str,
    day: i64,
    missed: &[MissedStop],
    open: &[(String, i64)],
    retakes: &[OverdueRetake],
) -> (String, String) {
    let subject = lang.message(
        "digest_subject",
        &[("team", team_name.to_string()), ("date", day_string(day))],
    );
    let mut lines = vec![lang.message("digest_missed", &[("n", missed.len().to_string())])];
    for m in missed.iter().take(MAX_LINES) {
        lines.push(lang.message(
            "digest_missed_line",
            &[("store", m.store_name.clone()), ("rep", m.rep_name.clone())],
        ));
    }
    if missed.len() > MAX_LINES {
        lines.push(lang.message("digest_more", &[("n", (missed.len() - MAX_LINES).to_string())]));
    }
    let total: i64 = open.iter().map(|(_, n)| n).sum();
    lines.push(lang.message("digest_open", &[("n", total.to_string())]));
    for (code, n) in open.iter().take(MAX_LINES) {
        lines.push(lang.message(
            "digest_open_line",
            &[("code", lang.code_words(code)), ("n", n.to_string())],
        ));
    }
    lines.push(lang.message("digest_retakes", &[("n", retakes.len().to_string())]));
    for r in retakes.iter().take(MAX_LINES) {
        lines.push(lang.message(
            "digest_missed_line",
            &[("store", r.store_name.clone()), ("rep", r.rep_name.clone())],
        ));
    }
    (subject, lines.join("\n"))
}

/// Write `day`'s digests (nothing for a supervisor and channel already written); how many new.
pub fn write_day(store: &Store, sources: DigestSources, day: i64, now_ms: i64) -> ApiResult<usize> {
    let cal = store.calendar();
    let mut w = store.writer();
    let tx = w.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // (rule, channel, team or every team, channel language)
    let targets: Vec<(i64, i64, Option<String>, String)> = {
        let mut st = tx.prepare_cached(
            "SELECT r.id, r.channel_id, r.team, c.lang FROM alert_rules r
             JOIN alert_channels c ON c.id = r.channel_id
             WHERE r.digest = 1 AND r.enabled = 1 AND c.enabled = 1 ORDER BY r.id",
        )?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
        rows.collect::<Result<_, _>>()?
    };
    if targets.is_empty() {
        return Ok(0);
    }
    let teams: Vec<(String, String, String)> = {
        let mut st = tx.prepare_cached("SELECT code, name, supervisor_id FROM teams ORDER BY code")?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        rows.collect::<Result<_, _>>()?
    };
    let mut written = 0;
    let mut done: Vec<(String, i64)> = Vec::new();
    for (rule_id, channel_id, team, lang) in &targets {
        let lang = Lang::parse(lang).unwrap_or(Lang::Zh);
        for (team_code, name, supervisor) in teams.iter().filter(|t| team.as_ref().is_none_or(|x| *x == t.0))
        {
            if done.iter().any(|(s, c)| s == supervisor && c == channel_id) {
                continue;
            }
            done.push((supervisor.clone(), *channel_id));
            let missed = (sources.missed_stops)(&tx, cal, team_code, day)?;
            let open = open_by_code(&tx, supervisor)?;
            let retakes = (sources.retakes_overdue)(&tx, cal, team_code, day)?;
            let (subject, body) = compose(lang, name, day, &missed, &open, &retakes);
            let key = format!("fp-digest-{supervisor}-{}-c{channel_id}", day_string(day));
            let link = app_link(&["exceptions"], &[("team", supervisor)]);
            let d = NewDelivery {
                key: &key,
                channel_id: *channel_id,
                rule_id: Some(*rule_id),
                exception_id: None,
                digest: Some((supervisor, day)),
                subject: &subject,
                body: &body,
                link_path: &link,
                due_ms: now_ms,
                held_quiet: false,
            };
            if insert_delivery(&tx, &d, now_ms)? {
                written += 1;
            }
        }
    }
    tx.commit()?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn the_digest_reads_in_the_channels_language() {
        let missed: Vec<MissedStop> = (0..17)
            .map(|i| MissedStop {
                store_name: format!("门店{i}"),
                rep_name: "李娜".into(),
            })
            .collect();
        let open = vec![
            ("mock_location".to_string(), 2),
            ("outside_geofence".to_string(), 3),
        ];
        let day = crate::calendar::parse_day("2026-12-01").unwrap();
        let (subject, body) = compose(Lang::Zh, "王磊团队", day, &missed, &open, &[]);
        assert_eq!(subject, "每日汇总 · 王磊团队 · 2026-12-01");
        assert!(body.contains("计划未拜访门店：17"), "{body}");
        assert!(body.contains("- 门店0（李娜）"), "{body}");
        assert!(body.contains("- 另有 2 项"), "{body}");
        assert!(body.contains("未处理异常：5"), "{body}");
        assert!(body.contains("- 虚拟定位：2"), "{body}");
        assert!(body.contains("逾期未补拍照片：0"), "{body}");
        let (subject, body) = compose(Lang::En, "Wang's team", day, &[], &open, &[]);
        assert_eq!(subject, "Daily summary · Wang's team · 2026-12-01");
        assert!(body.contains("Open exceptions: 5"), "{body}");
    }
}
