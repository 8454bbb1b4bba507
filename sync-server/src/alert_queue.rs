//! Alert messages written where they are decided: [`on_raise`] runs inside the transaction that
//! raises an exception (`store::raise`), matches the alert rules (code, the rep's team, the
//! store's territory, severity, quiet hours) and writes one delivery row per channel, its text
//! rendered in the channel's language and its idempotency key fixed now. If the raise rolls
//! back, so do its messages; once it commits, the worker (`crate::alerts::worker`) will send
//! them, however often the process dies in between.
//!
//! Quiet hours hold a message until they end (its `next_attempt_ms`), they never drop it: a
//! supervisor who turns the phone on at 07:00 sees the night's mock locations.
//!
//! A leaf under `store`: SQL on the caller's connection, `codes`, `messages`, `calendar`.

use crate::db::{Connection, OptionalExtension, params};

use crate::calendar::Calendar;
use crate::codes::{self, Severity};
use crate::i18n::Lang;
use crate::messages::{self, NameTable};

const DAY_MS: i64 = 86_400_000;

/// An exception just inserted (its row id and what the rules look at).
pub(crate) struct Raised<'a> {
    pub exception_id: i64,
    pub code: &'a str,
    pub user_id: Option<&'a str>,
    pub store_id: Option<&'a str>,
    pub visit_id: Option<&'a str>,
    /// The code's parameters as stored (JSON object).
    pub params: Option<&'a str>,
    pub event_ms: i64,
}

/// An enabled exception rule of an enabled channel.
struct Rule {
    id: i64,
    channel_id: i64,
    codes: String,
    team: Option<String>,
    territory: Option<String>,
    min_severity: i64,
    quiet: Option<(i64, i64)>,
    lang: Lang,
}

/// Quiet hours `from`..`to` (minutes after local midnight; `from > to` wraps midnight; equal:
/// none): when they end if `now_ms` is inside them, else `None`.
pub fn quiet_until(cal: Calendar, quiet: (i64, i64), now_ms: i64) -> Option<i64> {
    let (from, to) = quiet;
    if from == to {
        return None;
    }
    let (midnight, _) = cal.day_bounds(cal.day_of(now_ms));
    let minute = (now_ms - midnight) / 60_000;
    let inside = if from < to {
        minute >= from && minute < to
    } else {
        minute >= from || minute < to
    };
    if !inside {
        return None;
    }
    let mut end = midnight + to * 60_000;
    if end <= now_ms {
        end += DAY_MS;
    }
    Some(end)
}

/// The team (its code) a field user belongs to: a rep's supervisor's team, a supervisor's own.
pub(crate) fn team_of(c: &Connection, user_id: &str) -> crate::db::Result<Option<String>> {
    c.prepare_cached(
        "SELECT t.code FROM users u JOIN teams t
           ON t.supervisor_id = CASE WHEN u.role = 'supervisor' THEN u.id ELSE u.supervisor_id END
         WHERE u.id = ?1",
    )?
    .query_row([user_id], |r| r.get(0))
    .optional()
}

/// A field user's or a store's name from its reference record.
fn name_of(c: &Connection, table: &str, id: &str) -> crate::db::Result<Option<String>> {
    let sql = match table {
        "stores" => "SELECT json_extract(body, '$.name') FROM stores WHERE id = ?1",
        _ => "SELECT json_extract(body, '$.name') FROM users WHERE id = ?1",
    };
    Ok(c.prepare_cached(sql)?
        .query_row([id], |r| r.get::<_, Option<String>>(0))
        .optional()?
        .flatten())
}

/// A new delivery's idempotency key: what it is about, the channel, and 64 random bits (a new
/// database's exception 1 is not an old one's). Fixed from now on: every attempt carries it.
pub(crate) fn new_key(about: &str, channel_id: i64) -> String {
    let mut bytes = [0u8; 8];
    // The random part only keeps keys unique across reinstalls; the row's UNIQUE key and the
    // (about, channel) prefix already make it unique in this database.
    let _ = getrandom::fill(&mut bytes);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("fp-{about}-c{channel_id}-{hex}")
}

/// A message to write.
pub(crate) struct NewDelivery<'a> {
    pub key: &'a str,
    pub channel_id: i64,
    pub rule_id: Option<i64>,
    pub exception_id: Option<i64>,
    pub digest: Option<(&'a str, i64)>,
    pub subject: &'a str,
    pub body: &'a str,
    pub link_path: &'a str,
    /// When it may first be sent (now, or the end of quiet hours).
    pub due_ms: i64,
    pub held_quiet: bool,
}

/// Write one delivery; nothing when its key is already there (a digest written before a
/// restart). Whether a row was written.
pub(crate) fn insert_delivery(c: &Connection, d: &NewDelivery<'_>, now_ms: i64) -> crate::db::Result<bool> {
    let n = c
        .prepare_cached(
            "INSERT INTO alert_deliveries (idempotency_key, channel_id, rule_id, exception_id, digest_supervisor,
                digest_day, subject, body, link_path, next_attempt_ms, held_quiet, created_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
             ON CONFLICT (idempotency_key) DO NOTHING",
        )?
        .execute(params![
            d.key,
            d.channel_id,
            d.rule_id,
            d.exception_id,
            d.digest.map(|(s, _)| s),
            d.digest.map(|(_, day)| day),
            d.subject,
            d.body,
            d.link_path,
            d.due_ms,
            d.held_quiet,
            now_ms
        ])?;
    Ok(n == 1)
}

/// A page's path under `/app` with its segments and query values percent-encoded (ids may hold
/// any character a phone or an import gave them).
pub(crate) fn app_link(segments: &[&str], query: &[(&str, &str)]) -> String {
    let Ok(mut url) = reqwest::Url::parse("http://fieldproof.invalid/") else {
        return "/app".into();
    };
    if let Ok(mut seg) = url.path_segments_mut() {
        seg.clear().push("app").extend(segments);
    }
    if !query.is_empty() {
        url.query_pairs_mut().extend_pairs(query);
    }
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    }
}

/// The path of an exception's page: its visit, or the queue filtered to its code.
pub(crate) fn exception_link(visit_id: Option<&str>, code: &str) -> String {
    match visit_id.filter(|v| !v.is_empty()) {
        Some(v) => app_link(&["visits", v], &[]),
        None => app_link(&["exceptions"], &[("code", code)]),
    }
}

/// An exception as a message: the subject (severity, what, where) and the body (the sentence the
/// pages show, the store, the rep, the local time). The link is added when it is sent (the
/// server's public address).
#[allow(clippy::too_many_arguments)]
pub fn compose_exception(
    lang: Lang,
    cal: Calendar,
    code: &str,
    params: Option<&serde_json::Value>,
    names: &NameTable,
    store: Option<&str>,
    rep: Option<&str>,
    event_ms: i64,
) -> (String, String) {
    let rendered = messages::render(lang, code, params, names);
    let store_name = store.map_or_else(|| lang.message("alert_no_store", &[]), str::to_string);
    let rep_name = rep.map_or_else(|| lang.message("alert_no_rep", &[]), str::to_string);
    let severity = lang.message(codes::severity(code).words_code(), &[]);
    let subject = lang.message(
        "alert_subject",
        &[
            ("severity", severity),
            ("title", rendered.title.clone()),
            ("store", store_name.clone()),
        ],
    );
    let body = [
        rendered.sentence,
        lang.message("alert_line_store", &[("store", store_name)]),
        lang.message("alert_line_rep", &[("rep", rep_name)]),
        lang.message("alert_line_time", &[("time", cal.datetime(event_ms))]),
    ]
    .join("\n");
    (subject, body)
}

/// Match the rules against a just-raised exception and write its messages (one per channel,
/// the lowest-numbered matching rule deciding quiet hours). The number written.
pub(crate) fn on_raise(
    tx: &Connection,
    cal: Calendar,
    r: &Raised<'_>,
    now_ms: i64,
) -> crate::db::Result<usize> {
    let rules: Vec<Rule> = {
        let mut st = tx.prepare_cached(
            "SELECT r.id, r.channel_id, r.codes, r.team, r.territory, r.min_severity, r.quiet_from_min,
                    r.quiet_to_min, c.lang
             FROM alert_rules r JOIN alert_channels c ON c.id = r.channel_id
             WHERE r.enabled = 1 AND c.enabled = 1 ORDER BY r.id",
        )?;
        let rows = st.query_map([], |row| {
            let quiet = match (row.get::<_, Option<i64>>(6)?, row.get::<_, Option<i64>>(7)?) {
                (Some(f), Some(t)) => Some((f, t)),
                _ => None,
            };
            Ok(Rule {
                id: row.get(0)?,
                channel_id: row.get(1)?,
                codes: row.get(2)?,
                team: row.get(3)?,
                territory: row.get(4)?,
                min_severity: row.get(5)?,
                quiet,
                lang: Lang::parse(&row.get::<_, String>(8)?).unwrap_or(Lang::Zh),
            })
        })?;
        rows.collect::<Result<_, _>>()?
    };
    if rules.is_empty() {
        return Ok(0);
    }
    let severity: Severity = codes::severity(r.code);
    let team = match r.user_id {
        Some(u) => team_of(tx, u)?,
        None => None,
    };
    // Where it happened: the store's territory, else the rep's.
    let territory: Option<String> = match r.store_id {
        Some(s) => tx
            .prepare_cached("SELECT territory FROM stores WHERE id = ?1")?
            .query_row([s], |row| row.get(0))
            .optional()?,
        None => None,
    };
    let territory = match (territory, r.user_id) {
        (Some(t), _) => Some(t),
        (None, Some(u)) => tx
            .prepare_cached("SELECT territory FROM users WHERE id = ?1")?
            .query_row([u], |row| row.get::<_, Option<String>>(0))
            .optional()?
            .flatten(),
        (None, None) => None,
    };
    let mut chosen: Vec<&Rule> = Vec::new();
    for rule in &rules {
        let code_ok = rule.codes.trim().is_empty() || rule.codes.split(',').any(|c| c.trim() == r.code);
        let team_ok = rule.team.as_ref().is_none_or(|t| team.as_ref() == Some(t));
        let terr_ok = rule
            .territory
            .as_ref()
            .is_none_or(|t| territory.as_ref() == Some(t));
        let sev_ok = severity.level() >= rule.min_severity;
        if code_ok && team_ok && terr_ok && sev_ok && !chosen.iter().any(|c| c.channel_id == rule.channel_id)
        {
            chosen.push(rule);
        }
    }
    if chosen.is_empty() {
        return Ok(0);
    }
    let store_name = match r.store_id {
        Some(s) => name_of(tx, "stores", s)?,
        None => None,
    };
    let rep_name = match r.user_id {
        Some(u) => name_of(tx, "users", u)?,
        None => None,
    };
    let mut names = NameTable::default();
    if let (Some(id), Some(n)) = (r.store_id, &store_name) {
        names.stores.insert(id.to_string(), n.clone());
    }
    if let (Some(id), Some(n)) = (r.user_id, &rep_name) {
        names.users.insert(id.to_string(), n.clone());
    }
    let params: Option<serde_json::Value> = r.params.and_then(|p| serde_json::from_str(p).ok());
    let link = exception_link(r.visit_id, r.code);
    let mut written = 0;
    for rule in chosen {
        let (subject, body) = compose_exception(
            rule.lang,
            cal,
            r.code,
            params.as_ref(),
            &names,
            store_name.as_deref(),
            rep_name.as_deref(),
            r.event_ms,
        );
        let held = rule.quiet.and_then(|q| quiet_until(cal, q, now_ms));
        let key = new_key(&format!("e{}", r.exception_id), rule.channel_id);
        let d = NewDelivery {
            key: &key,
            channel_id: rule.channel_id,
            rule_id: Some(rule.id),
            exception_id: Some(r.exception_id),
            digest: None,
            subject: &subject,
            body: &body,
            link_path: &link,
            due_ms: held.unwrap_or(now_ms),
            held_quiet: held.is_some(),
        };
        if insert_delivery(tx, &d, now_ms)? {
            written += 1;
        }
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn quiet_hours_hold_until_they_end() {
        let cal = Calendar::CHINA;
        // 2026-12-01 23:30 +08:00 = 15:30 UTC.
        let (midnight, _) = cal.day_bounds(crate::calendar::parse_day("2026-12-01").unwrap());
        let at = |h: i64, m: i64| midnight + (h * 60 + m) * 60_000;
        let night = (22 * 60, 7 * 60);
        assert_eq!(quiet_until(cal, night, at(23, 30)), Some(at(31, 0)));
        assert_eq!(quiet_until(cal, night, at(6, 59)), Some(at(7, 0)));
        assert_eq!(quiet_until(cal, night, at(7, 0)), None);
        assert_eq!(quiet_until(cal, night, at(12, 0)), None);
        let lunch = (12 * 60, 13 * 60);
        assert_eq!(quiet_until(cal, lunch, at(12, 10)), Some(at(13, 0)));
        assert_eq!(quiet_until(cal, lunch, at(13, 10)), None);
        assert_eq!(quiet_until(cal, (600, 600), at(10, 0)), None);
    }

    #[test]
    fn links_are_paths_with_encoded_ids() {
        assert_eq!(exception_link(Some("v 1/2"), "x"), "/app/visits/v%201%2F2");
        assert_eq!(
            exception_link(None, "chain_gap"),
            "/app/exceptions?code=chain_gap"
        );
    }
}
