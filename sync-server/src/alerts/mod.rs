//! Alerts: exceptions pushed to the people who act on them, in a WeCom or DingTalk group (the
//! group robot's webhook) or by email, in the channel's language, with a link to the page.
//!
//! - This module: channels and rules as head office sets them up (validated, one transaction
//!   each), a test message, sending a failed message again.
//! - [`crate::alert_queue`] (below `store`): the rule match and the message rows, written in the
//!   transaction that raises the exception.
//! - [`worker`]: the task `serve` starts that claims due messages, sends them ([`send`]), and
//!   marks them sent or schedules a retry; [`digest`]: each team's daily summary.
//!
//! Delivery is at least once, deduplicated by key: every message's idempotency key is fixed when
//! its row is written and sent with every attempt (a header on webhooks, the `Message-ID` of a
//! mail). A process killed after the receiver accepted a message but before the row was marked
//! sent sends it again with the same key; one message at most is in flight per channel, so that
//! window is one message. docs/HEAD-OFFICE.md, "Alerts", says what receivers should do.

pub mod digest;
pub mod send;
pub mod worker;

use crate::db::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::codes::{self, Severity};
use crate::i18n::Lang;
use crate::store::Store;

/// Where messages go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelKind {
    /// 企业微信群机器人.
    WeCom,
    /// 钉钉自定义机器人.
    DingTalk,
    Email,
}

impl ChannelKind {
    pub const ALL: [ChannelKind; 3] = [ChannelKind::WeCom, ChannelKind::DingTalk, ChannelKind::Email];

    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::WeCom => "wecom",
            ChannelKind::DingTalk => "dingtalk",
            ChannelKind::Email => "email",
        }
    }

    pub fn parse(s: &str) -> Option<ChannelKind> {
        ChannelKind::ALL.into_iter().find(|k| k.as_str() == s.trim())
    }
}

/// How an email channel talks to its SMTP server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain SMTP (a relay on the same host or network).
    None,
    /// STARTTLS, usually port 587.
    StartTls,
    /// TLS from the first byte, usually port 465.
    Tls,
}

impl SmtpTls {
    pub const ALL: [SmtpTls; 3] = [SmtpTls::StartTls, SmtpTls::Tls, SmtpTls::None];

    pub fn as_str(self) -> &'static str {
        match self {
            SmtpTls::None => "none",
            SmtpTls::StartTls => "starttls",
            SmtpTls::Tls => "tls",
        }
    }

    pub fn parse(s: &str) -> Option<SmtpTls> {
        SmtpTls::ALL.into_iter().find(|k| k.as_str() == s.trim())
    }
}

/// A channel as stored (secrets included: only the worker and [`Channel::masked`] read them).
#[derive(Debug, Clone)]
pub struct Channel {
    pub id: i64,
    pub kind: ChannelKind,
    pub name: String,
    pub webhook_url: Option<String>,
    pub secret: Option<String>,
    pub smtp_host: Option<String>,
    pub smtp_port: Option<u16>,
    pub smtp_tls: SmtpTls,
    pub smtp_user: Option<String>,
    pub smtp_password: Option<String>,
    pub mail_from: Option<String>,
    pub mail_to: Option<String>,
    pub lang: Lang,
    pub enabled: bool,
}

/// A secret shown back: its last four characters only.
pub fn mask(secret: &str) -> String {
    let tail: String = secret
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("••••{tail}")
}

impl Channel {
    /// Where it sends, as a page may show it: the webhook's host and path with its key or
    /// token masked, or the mail server and recipients.
    pub fn masked_target(&self) -> String {
        match self.kind {
            ChannelKind::WeCom | ChannelKind::DingTalk => {
                let raw = self.webhook_url.as_deref().unwrap_or("");
                // The query holds the robot's key or token: only its last characters show.
                match reqwest::Url::parse(raw) {
                    Ok(u) => {
                        let host = u.host_str().unwrap_or("");
                        let port = u.port().map(|p| format!(":{p}")).unwrap_or_default();
                        let token = u.query_pairs().last().map(|(_, v)| format!(" {}", mask(&v)));
                        format!(
                            "{}://{host}{port}{}{}",
                            u.scheme(),
                            u.path(),
                            token.unwrap_or_default()
                        )
                    }
                    Err(_) => mask(raw),
                }
            }
            ChannelKind::Email => format!(
                "{}:{} → {}",
                self.smtp_host.as_deref().unwrap_or(""),
                self.smtp_port.unwrap_or(0),
                self.mail_to.as_deref().unwrap_or("")
            ),
        }
    }
}

/// A channel as a form gives it. An empty secret or password on an edit keeps the stored one
/// (pages never show them back, so they cannot be sent back either).
#[derive(Debug, Clone, Default)]
pub struct ChannelInput {
    pub kind: String,
    pub name: String,
    pub webhook_url: String,
    pub secret: String,
    pub smtp_host: String,
    pub smtp_port: String,
    pub smtp_tls: String,
    pub smtp_user: String,
    pub smtp_password: String,
    pub mail_from: String,
    pub mail_to: String,
    pub lang: String,
    pub enabled: bool,
}

/// A rule as stored.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: i64,
    pub name: String,
    pub channel_id: i64,
    /// Empty: every code.
    pub codes: Vec<String>,
    pub team: Option<String>,
    pub territory: Option<String>,
    pub min_severity: Severity,
    /// Minutes after local midnight.
    pub quiet: Option<(i64, i64)>,
    pub digest: bool,
    pub enabled: bool,
}

/// A rule as a form gives it.
#[derive(Debug, Clone, Default)]
pub struct RuleInput {
    pub name: String,
    pub channel_id: String,
    pub codes: Vec<String>,
    pub team: String,
    pub territory: String,
    pub min_severity: String,
    /// `HH:MM` both, or both empty.
    pub quiet_from: String,
    pub quiet_to: String,
    pub digest: bool,
    pub enabled: bool,
}

/// Why a change was refused: a message code (`crate::i18n::MESSAGES`) and its parameters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AlertError {
    #[error("{code}")]
    Invalid {
        code: &'static str,
        params: Vec<(&'static str, String)>,
    },
    #[error("storage: {0}")]
    Storage(String),
}

impl From<crate::db::Error> for AlertError {
    fn from(e: crate::db::Error) -> Self {
        AlertError::Storage(e.to_string())
    }
}

impl AlertError {
    fn invalid(code: &'static str) -> AlertError {
        AlertError::Invalid { code, params: vec![] }
    }

    fn with(code: &'static str, name: &'static str, value: &str) -> AlertError {
        AlertError::Invalid {
            code,
            params: vec![(name, value.to_string())],
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            AlertError::Invalid { code, .. } => code,
            AlertError::Storage(_) => "alert_storage",
        }
    }

    /// In the reader's language.
    pub fn words(&self, lang: Lang) -> String {
        match self {
            AlertError::Invalid { code, params } => lang.message(code, params),
            AlertError::Storage(_) => lang.message("alert_storage", &[]),
        }
    }
}

fn check_name(name: &str) -> Result<String, AlertError> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > 100 || n.chars().any(char::is_control) {
        return Err(AlertError::invalid("alert_bad_name"));
    }
    Ok(n.to_string())
}

/// A robot's webhook: https, or http to this machine (a local relay or a test receiver).
fn check_webhook(url: &str) -> Result<String, AlertError> {
    let u = reqwest::Url::parse(url.trim()).map_err(|_| AlertError::invalid("alert_bad_url"))?;
    let local = matches!(u.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    let ok = u.host_str().is_some() && (u.scheme() == "https" || (u.scheme() == "http" && local));
    if !ok || url.len() > 2000 {
        return Err(AlertError::invalid("alert_bad_url"));
    }
    Ok(u.to_string())
}

fn check_email(s: &str) -> Result<String, AlertError> {
    let s = s.trim();
    s.parse::<lettre::Address>()
        .map(|_| s.to_string())
        .map_err(|_| AlertError::with("alert_bad_email", "value", s))
}

fn non_empty(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// `HH:MM` → minutes after midnight.
pub fn parse_clock(s: &str) -> Option<i64> {
    let (h, m) = s.trim().split_once(':')?;
    let digits =
        |p: &str, max: usize| !p.is_empty() && p.len() <= max && p.bytes().all(|b| b.is_ascii_digit());
    if !digits(h, 2) || !digits(m, 2) || m.len() != 2 {
        return None;
    }
    let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
    ((0..24).contains(&h) && (0..60).contains(&m)).then_some(h * 60 + m)
}

/// Minutes after midnight → `HH:MM`.
pub fn clock(minutes: i64) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

fn channel_of(row: &crate::db::Row<'_>) -> crate::db::Result<Channel> {
    let kind: String = row.get(1)?;
    let tls: Option<String> = row.get(7)?;
    let lang: String = row.get(12)?;
    Ok(Channel {
        id: row.get(0)?,
        kind: ChannelKind::parse(&kind).unwrap_or(ChannelKind::WeCom),
        name: row.get(2)?,
        webhook_url: row.get(3)?,
        secret: row.get(4)?,
        smtp_host: row.get(5)?,
        smtp_port: row.get::<_, Option<i64>>(6)?.and_then(|p| u16::try_from(p).ok()),
        smtp_tls: tls
            .as_deref()
            .and_then(SmtpTls::parse)
            .unwrap_or(SmtpTls::StartTls),
        smtp_user: row.get(8)?,
        smtp_password: row.get(9)?,
        mail_from: row.get(10)?,
        mail_to: row.get(11)?,
        lang: Lang::parse(&lang).unwrap_or(Lang::Zh),
        enabled: row.get(13)?,
    })
}

const CHANNEL_COLUMNS: &str =
    "id, kind, name, webhook_url, secret, smtp_host, smtp_port, smtp_tls, smtp_user,
    smtp_password, mail_from, mail_to, lang, enabled";

pub(crate) fn channel_in(c: &Connection, id: i64) -> crate::db::Result<Option<Channel>> {
    c.prepare_cached(&format!(
        "SELECT {CHANNEL_COLUMNS} FROM alert_channels WHERE id = ?1"
    ))?
    .query_row([id], channel_of)
    .optional()
}

pub(crate) fn channels_in(c: &Connection) -> crate::db::Result<Vec<Channel>> {
    let mut st = c.prepare_cached(&format!(
        "SELECT {CHANNEL_COLUMNS} FROM alert_channels ORDER BY id"
    ))?;
    let rows = st.query_map([], channel_of)?;
    rows.collect()
}

pub(crate) fn rules_in(c: &Connection) -> crate::db::Result<Vec<Rule>> {
    let mut st = c.prepare_cached(
        "SELECT id, name, channel_id, codes, team, territory, min_severity, quiet_from_min, quiet_to_min,
                digest, enabled
         FROM alert_rules ORDER BY id",
    )?;
    let rows = st.query_map([], |row| {
        let codes: String = row.get(3)?;
        let quiet = match (row.get::<_, Option<i64>>(7)?, row.get::<_, Option<i64>>(8)?) {
            (Some(f), Some(t)) => Some((f, t)),
            _ => None,
        };
        Ok(Rule {
            id: row.get(0)?,
            name: row.get(1)?,
            channel_id: row.get(2)?,
            codes: codes
                .split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .collect(),
            team: row.get(4)?,
            territory: row.get(5)?,
            min_severity: Severity::from_level(row.get(6)?).unwrap_or(Severity::Info),
            quiet,
            digest: row.get(9)?,
            enabled: row.get(10)?,
        })
    })?;
    rows.collect()
}

/// Every channel (secrets included: callers show [`Channel::masked_target`] only).
pub fn channels(store: &Store) -> Result<Vec<Channel>, AlertError> {
    let c = store.reader().map_err(|e| AlertError::Storage(e.to_string()))?;
    Ok(channels_in(&c)?)
}

pub fn rules(store: &Store) -> Result<Vec<Rule>, AlertError> {
    let c = store.reader().map_err(|e| AlertError::Storage(e.to_string()))?;
    Ok(rules_in(&c)?)
}

/// Create (`id` None) or change a channel; its id. One transaction.
pub fn save_channel(
    store: &Store,
    id: Option<i64>,
    f: &ChannelInput,
    now_ms: i64,
) -> Result<i64, AlertError> {
    let kind = ChannelKind::parse(&f.kind).ok_or_else(|| AlertError::invalid("alert_bad_choice"))?;
    let name = check_name(&f.name)?;
    let lang = Lang::parse(&f.lang)
        .filter(|_| !f.lang.trim().is_empty())
        .ok_or_else(|| AlertError::invalid("alert_bad_choice"))?;
    let mut w = store.writer();
    let tx = w.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let old = match id {
        Some(id) => Some(channel_in(&tx, id)?.ok_or_else(|| AlertError::invalid("alert_bad_channel"))?),
        None => None,
    };
    if old.as_ref().is_some_and(|o| o.kind != kind) {
        return Err(AlertError::invalid("alert_bad_choice"));
    }
    // Secrets: a blank field keeps what is stored.
    let keep = |new: &str, old: Option<&Option<String>>| non_empty(new).or_else(|| old.cloned().flatten());
    let (mut webhook, mut secret) = (None, None);
    let (mut host, mut port, mut tls, mut user, mut password, mut from, mut to) =
        (None, None, None, None, None, None, None);
    match kind {
        ChannelKind::WeCom | ChannelKind::DingTalk => {
            let url = keep(&f.webhook_url, old.as_ref().map(|o| &o.webhook_url))
                .ok_or_else(|| AlertError::invalid("alert_bad_url"))?;
            webhook = Some(check_webhook(&url)?);
            if kind == ChannelKind::DingTalk {
                secret = keep(&f.secret, old.as_ref().map(|o| &o.secret));
                if let Some(s) = &secret
                    && (!s.starts_with("SEC") || s.len() > 200 || s.chars().any(char::is_whitespace))
                {
                    return Err(AlertError::invalid("alert_bad_secret"));
                }
            }
        }
        ChannelKind::Email => {
            let h = non_empty(&f.smtp_host).ok_or_else(|| AlertError::invalid("alert_bad_smtp"))?;
            if h.len() > 253 || h.contains(char::is_whitespace) {
                return Err(AlertError::invalid("alert_bad_smtp"));
            }
            let p: u16 = f
                .smtp_port
                .trim()
                .parse()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| AlertError::invalid("alert_bad_smtp"))?;
            let t = SmtpTls::parse(&f.smtp_tls).ok_or_else(|| AlertError::invalid("alert_bad_choice"))?;
            host = Some(h);
            port = Some(i64::from(p));
            tls = Some(t.as_str());
            user = non_empty(&f.smtp_user);
            password = if user.is_some() {
                keep(&f.smtp_password, old.as_ref().map(|o| &o.smtp_password))
            } else {
                None
            };
            from = Some(check_email(&f.mail_from)?);
            let list: Vec<String> = f
                .mail_to
                .split([',', ';', '，', '\n'])
                .filter(|s| !s.trim().is_empty())
                .map(check_email)
                .collect::<Result<_, _>>()?;
            if list.is_empty() {
                return Err(AlertError::with("alert_bad_email", "value", ""));
            }
            to = Some(list.join(", "));
        }
    }
    let id = match id {
        Some(id) => {
            tx.execute(
                "UPDATE alert_channels SET name = ?1, webhook_url = ?2, secret = ?3, smtp_host = ?4, smtp_port = ?5,
                    smtp_tls = ?6, smtp_user = ?7, smtp_password = ?8, mail_from = ?9, mail_to = ?10, lang = ?11,
                    enabled = ?12, updated_ms = ?13
                 WHERE id = ?14",
                params![name, webhook, secret, host, port, tls, user, password, from, to, lang.code(), f.enabled, now_ms, id],
            )?;
            id
        }
        None => {
            tx.execute(
                "INSERT INTO alert_channels (kind, name, webhook_url, secret, smtp_host, smtp_port, smtp_tls, smtp_user,
                    smtp_password, mail_from, mail_to, lang, enabled, created_ms, updated_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14)",
                params![kind.as_str(), name, webhook, secret, host, port, tls, user, password, from, to, lang.code(), f.enabled, now_ms],
            )?;
            tx.last_insert_rowid()?
        }
    };
    tx.commit()?;
    tracing::info!(channel = id, kind = kind.as_str(), "alert channel saved");
    Ok(id)
}

/// Create (`id` None) or change a rule; its id. One transaction.
pub fn save_rule(store: &Store, id: Option<i64>, f: &RuleInput, now_ms: i64) -> Result<i64, AlertError> {
    let name = check_name(&f.name)?;
    let channel_id: i64 = f
        .channel_id
        .trim()
        .parse()
        .map_err(|_| AlertError::invalid("alert_bad_channel"))?;
    let mut codes_list: Vec<String> = Vec::new();
    for c in &f.codes {
        let c = c.trim();
        if c.is_empty() {
            continue;
        }
        if !codes::EXCEPTION_CODES.contains(&c) {
            return Err(AlertError::with("alert_bad_code", "value", c));
        }
        if !codes_list.iter().any(|x| x == c) {
            codes_list.push(c.to_string());
        }
    }
    let severity = f
        .min_severity
        .trim()
        .parse::<i64>()
        .ok()
        .and_then(Severity::from_level)
        .ok_or_else(|| AlertError::invalid("alert_bad_choice"))?;
    let quiet = match (non_empty(&f.quiet_from), non_empty(&f.quiet_to)) {
        (None, None) => None,
        (Some(a), Some(b)) => match (parse_clock(&a), parse_clock(&b)) {
            (Some(a), Some(b)) if a != b => Some((a, b)),
            _ => return Err(AlertError::invalid("alert_bad_quiet")),
        },
        _ => return Err(AlertError::invalid("alert_bad_quiet")),
    };
    let team = non_empty(&f.team);
    let territory = non_empty(&f.territory);
    let mut w = store.writer();
    let tx = w.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if channel_in(&tx, channel_id)?.is_none() {
        return Err(AlertError::invalid("alert_bad_channel"));
    }
    if let Some(t) = &team {
        let n: i64 = tx.query_row("SELECT count(*) FROM teams WHERE code = ?1", [t], |r| r.get(0))?;
        if n == 0 {
            return Err(AlertError::with("alert_bad_team", "value", t));
        }
    }
    if let Some(t) = &territory {
        let n: i64 = tx.query_row("SELECT count(*) FROM territories WHERE code = ?1", [t], |r| {
            r.get(0)
        })?;
        if n == 0 {
            return Err(AlertError::with("alert_bad_territory", "value", t));
        }
    }
    let codes_text = codes_list.join(",");
    let (qf, qt) = (quiet.map(|q| q.0), quiet.map(|q| q.1));
    let id = match id {
        Some(id) => {
            let n = tx.execute(
                "UPDATE alert_rules SET name = ?1, channel_id = ?2, codes = ?3, team = ?4, territory = ?5,
                    min_severity = ?6, quiet_from_min = ?7, quiet_to_min = ?8, digest = ?9, enabled = ?10,
                    updated_ms = ?11
                 WHERE id = ?12",
                params![
                    name,
                    channel_id,
                    codes_text,
                    team,
                    territory,
                    severity.level(),
                    qf,
                    qt,
                    f.digest,
                    f.enabled,
                    now_ms,
                    id
                ],
            )?;
            if n == 0 {
                return Err(AlertError::invalid("alert_bad_rule"));
            }
            id
        }
        None => {
            tx.execute(
                "INSERT INTO alert_rules (name, channel_id, codes, team, territory, min_severity, quiet_from_min,
                    quiet_to_min, digest, enabled, created_ms, updated_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11)",
                params![name, channel_id, codes_text, team, territory, severity.level(), qf, qt, f.digest, f.enabled, now_ms],
            )?;
            tx.last_insert_rowid()?
        }
    };
    tx.commit()?;
    tracing::info!(rule = id, channel = channel_id, "alert rule saved");
    Ok(id)
}

/// Turn a channel or a rule on or off.
pub fn set_enabled(store: &Store, what: &str, id: i64, enabled: bool, now_ms: i64) -> Result<(), AlertError> {
    let (sql, missing) = match what {
        "channel" => (
            "UPDATE alert_channels SET enabled = ?1, updated_ms = ?2 WHERE id = ?3",
            "alert_bad_channel",
        ),
        _ => (
            "UPDATE alert_rules SET enabled = ?1, updated_ms = ?2 WHERE id = ?3",
            "alert_bad_rule",
        ),
    };
    let w = store.writer();
    if w.conn.execute(sql, params![enabled, now_ms, id])? == 0 {
        return Err(AlertError::invalid(missing));
    }
    Ok(())
}

/// Queue a test message to a channel (sent by the worker like any other); its key.
pub fn test_send(store: &Store, channel_id: i64, now_ms: i64) -> Result<String, AlertError> {
    let w = store.writer();
    let ch = channel_in(&w.conn, channel_id)?.ok_or_else(|| AlertError::invalid("alert_bad_channel"))?;
    let key = crate::alert_queue::new_key("test", channel_id);
    let subject = ch.lang.message("alert_test_subject", &[]);
    let body = ch.lang.message("alert_test_body", &[("name", ch.name.clone())]);
    let d = crate::alert_queue::NewDelivery {
        key: &key,
        channel_id,
        rule_id: None,
        exception_id: None,
        digest: None,
        subject: &subject,
        body: &body,
        link_path: "/app/alerts",
        due_ms: now_ms,
        held_quiet: false,
    };
    crate::alert_queue::insert_delivery(&w.conn, &d, now_ms)?;
    Ok(key)
}

/// Send a failed message again (same key, attempts from zero).
pub fn retry(store: &Store, delivery_id: i64, now_ms: i64) -> Result<(), AlertError> {
    let w = store.writer();
    let n = w.conn.execute(
        "UPDATE alert_deliveries SET state = 'pending', attempts = 0, next_attempt_ms = ?1, lease_until_ms = NULL,
            held_quiet = 0
         WHERE id = ?2 AND state = 'failed'",
        params![now_ms, delivery_id],
    )?;
    if n == 0 {
        return Err(AlertError::invalid("alert_bad_delivery"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn clock_times_and_masks() {
        assert_eq!(parse_clock("22:00"), Some(1320));
        assert_eq!(parse_clock("7:05"), Some(425));
        for bad in ["24:00", "12:60", "7:5", "", "ab:cd", "12", "-1:00", "+1:00"] {
            assert_eq!(parse_clock(bad), None, "{bad}");
        }
        assert_eq!(clock(425), "07:05");
        assert_eq!(mask("SECabcdef1234"), "••••1234");
        assert_eq!(mask("中文密钥很长"), "••••密钥很长");
    }

    #[test]
    fn webhooks_are_https_or_this_machine() {
        assert!(check_webhook("https://oapi.dingtalk.com/robot/send?access_token=x").is_ok());
        assert!(check_webhook("http://127.0.0.1:9/x").is_ok());
        for bad in [
            "http://example.com/x",
            "ftp://example.com",
            "not a url",
            "https://",
        ] {
            assert!(check_webhook(bad).is_err(), "{bad}");
        }
    }
}
