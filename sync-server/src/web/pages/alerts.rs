//! `GET /app/alerts`: where exceptions are pushed (WeCom / DingTalk group robots, email), which
//! exceptions go where (rules: types, team, territory, severity, quiet hours, daily digest), and
//! every message with its state, attempts and last error in words; a failed one can be sent
//! again, a channel sent a test message. Channels and rules are created, edited and turned
//! off with the forms here (`/app/alerts/channels/{id}`, `/app/alerts/rules/{id}` edit one).
//! Admin and head office only. Secrets (a robot's key or token, DingTalk's signing secret, an
//! SMTP password) are never shown back: their last four characters at most.

use std::sync::Arc;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;

use crate::alerts::{
    self, AlertError, Channel, ChannelInput, ChannelKind, Rule, RuleInput, SmtpTls, clock, mask,
};
use crate::body::blocking;
use crate::clock::now_ms;
use crate::codes::{EXCEPTION_CODES, Severity};
use crate::i18n::Lang;
use crate::store::Store;
use crate::web::components::{Pager, pager, tech_details};
use crate::web::extract::{PageQuery, SignedForm, SignedIn, Viewer, opt_page, trimmed};
use crate::web::i18n::PageText;
use crate::web::read::alerts::{AlertsView, DELIVERIES_PAGE, DeliveryRow, alerts_view};
use crate::web::{fmt_datetime, redirect, url_enc};

#[derive(Deserialize)]
pub struct AlertsQuery {
    #[serde(default, deserialize_with = "trimmed")]
    state: String,
    #[serde(default, deserialize_with = "opt_page")]
    page: Option<u32>,
    #[serde(default)]
    done: String,
}

/// A form's fields as sent (a rule's `codes` repeat).
type Fields = Vec<(String, String)>;

fn field(f: &Fields, name: &str) -> String {
    f.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_default()
}

fn channel_input(f: &Fields) -> ChannelInput {
    ChannelInput {
        kind: field(f, "kind"),
        name: field(f, "name"),
        webhook_url: field(f, "webhook_url"),
        secret: field(f, "secret"),
        smtp_host: field(f, "smtp_host"),
        smtp_port: field(f, "smtp_port"),
        smtp_tls: field(f, "smtp_tls"),
        smtp_user: field(f, "smtp_user"),
        smtp_password: field(f, "smtp_password"),
        mail_from: field(f, "mail_from"),
        mail_to: field(f, "mail_to"),
        lang: field(f, "lang"),
        enabled: field(f, "enabled") == "1",
    }
}

fn rule_input(f: &Fields) -> RuleInput {
    RuleInput {
        name: field(f, "name"),
        channel_id: field(f, "channel_id"),
        codes: f
            .iter()
            .filter(|(k, _)| k == "codes")
            .map(|(_, v)| v.trim().to_string())
            .collect(),
        team: field(f, "team"),
        territory: field(f, "territory"),
        min_severity: field(f, "min_severity"),
        quiet_from: field(f, "quiet_from"),
        quiet_to: field(f, "quiet_to"),
        digest: field(f, "digest") == "1",
        enabled: field(f, "enabled") == "1",
    }
}

fn kind_words(lang: Lang, k: ChannelKind) -> &'static str {
    lang.t(match k {
        ChannelKind::WeCom => "kind_wecom",
        ChannelKind::DingTalk => "kind_dingtalk",
        ChannelKind::Email => "kind_email",
    })
}

fn tls_words(lang: Lang, t: SmtpTls) -> &'static str {
    lang.t(match t {
        SmtpTls::StartTls => "tls_starttls",
        SmtpTls::Tls => "tls_tls",
        SmtpTls::None => "tls_none",
    })
}

pub fn severity_words(lang: Lang, s: Severity) -> String {
    lang.message(s.words_code(), &[])
}

fn lang_words(lang: Lang, l: Lang) -> &'static str {
    lang.t(match l {
        Lang::Zh => "lang_zh",
        Lang::En => "lang_en",
    })
}

fn on_off(lang: Lang, on: bool) -> Markup {
    html! {
        @if on { span.ok { (lang.t("alert_on")) } } @else { span.muted { (lang.t("alert_off")) } }
    }
}

/// The channel form: new (`existing` None) or an edit whose secrets show masked.
fn channel_form(
    page: &Viewer,
    csrf: &str,
    action: &str,
    v: &ChannelInput,
    existing: Option<&Channel>,
) -> Markup {
    let t = |k| page.t(k);
    let kept = |secret: Option<&str>| -> String {
        secret
            .filter(|s| !s.is_empty())
            .map(|s| t("secret_kept").replace("{mask}", &mask(s)))
            .unwrap_or_default()
    };
    let tls = if v.smtp_tls.is_empty() {
        "starttls"
    } else {
        v.smtp_tls.as_str()
    };
    html! {
        form.filters method="post" action=(action) id=(if existing.is_some() { "edit-channel" } else { "new-channel" }) {
            input type="hidden" name="csrf" value=(csrf);
            @if let Some(c) = existing {
                input type="hidden" name="kind" value=(c.kind.as_str());
            } @else {
                label { (t("ch_kind")) " "
                    select name="kind" required {
                        @for k in ChannelKind::ALL {
                            option value=(k.as_str()) selected[v.kind == k.as_str()] { (kind_words(page.lang, k)) }
                        }
                    }
                }
            }
            label { (t("ch_name")) " " input name="name" value=(v.name) required maxlength="100"; }
            label { (t("ch_lang")) " "
                select name="lang" {
                    @for l in [Lang::Zh, Lang::En] {
                        option value=(l.code()) selected[Lang::parse(&v.lang) == Some(l)] { (lang_words(page.lang, l)) }
                    }
                }
            }
            label { input type="checkbox" name="enabled" value="1" checked[v.enabled]; " " (t("alert_on")) }
            @if existing.is_none_or(|c| c.kind != ChannelKind::Email) {
                fieldset {
                    legend { (t("robot_fields")) }
                    label { (t("webhook_url")) " "
                        input name="webhook_url" type="url" maxlength="2000" value=(if existing.is_some() { "" } else { v.webhook_url.as_str() })
                            placeholder=(existing.map(|c| t("secret_kept").replace("{mask}", &c.masked_target())).unwrap_or_else(|| "https://oapi.dingtalk.com/robot/send?access_token=…".into()));
                    }
                    @if existing.is_none_or(|c| c.kind == ChannelKind::DingTalk) {
                        label { (t("ding_secret")) " "
                            input name="secret" type="password" autocomplete="off" maxlength="200" placeholder=(existing.map(|c| kept(c.secret.as_deref())).unwrap_or_else(|| "SEC…".into()));
                        }
                    }
                }
            }
            @if existing.is_none_or(|c| c.kind == ChannelKind::Email) {
                fieldset {
                    legend { (t("email_fields")) }
                    label { (t("smtp_host")) " " input name="smtp_host" value=(v.smtp_host) maxlength="253"; }
                    label { (t("smtp_port")) " " input name="smtp_port" inputmode="numeric" size="6" value=(if v.smtp_port.is_empty() { "587" } else { v.smtp_port.as_str() }); }
                    label { (t("smtp_tls")) " "
                        select name="smtp_tls" {
                            @for m in SmtpTls::ALL {
                                option value=(m.as_str()) selected[tls == m.as_str()] { (tls_words(page.lang, m)) }
                            }
                        }
                    }
                    label { (t("smtp_user")) " " input name="smtp_user" value=(v.smtp_user) autocomplete="off" maxlength="200"; }
                    label { (t("smtp_password")) " "
                        input name="smtp_password" type="password" autocomplete="off" maxlength="200" placeholder=(existing.map(|c| kept(c.smtp_password.as_deref())).unwrap_or_default());
                    }
                    label { (t("mail_from")) " " input name="mail_from" type="email" value=(v.mail_from) maxlength="200"; }
                    label { (t("mail_to")) " " input name="mail_to" value=(v.mail_to) maxlength="2000" placeholder="a@example.com, b@example.com"; }
                }
            }
            button { (if existing.is_some() { t("save") } else { t("create") }) }
        }
    }
}

/// The rule form (new, or an edit of `action`'s rule).
fn rule_form(
    page: &Viewer,
    csrf: &str,
    action: &str,
    v: &RuleInput,
    view: &AlertsView,
    edit: bool,
) -> Markup {
    let t = |k| page.t(k);
    let lang = page.lang;
    let mut codes: Vec<(&str, String)> = EXCEPTION_CODES.iter().map(|c| (*c, lang.code_words(c))).collect();
    codes.sort_by(|a, b| a.1.cmp(&b.1));
    html! {
        form.filters method="post" action=(action) id=(if edit { "edit-rule" } else { "new-rule" }) {
            input type="hidden" name="csrf" value=(csrf);
            label { (t("rule_name")) " " input name="name" value=(v.name) required maxlength="100"; }
            label { (t("rule_channel")) " "
                select name="channel_id" required {
                    @for c in &view.channels {
                        option value=(c.id) selected[v.channel_id == c.id.to_string()] { (c.name) " · " (kind_words(lang, c.kind)) }
                    }
                }
            }
            // Checkboxes by severity (a multiple select is as wide as its longest option and
            // awkward on a phone); none ticked: every type.
            fieldset.codes {
                legend { (t("rule_codes")) " (" (t("codes_none_all")) ")" }
                @for sev in [Severity::Critical, Severity::Warning, Severity::Info] {
                    p {
                        strong { (severity_words(lang, sev)) }
                        @for (code, words) in codes.iter().filter(|(c, _)| crate::codes::severity(c) == sev) {
                            " "
                            label {
                                input type="checkbox" name="codes" value=(code) checked[v.codes.iter().any(|c| c == code)];
                                " " (words)
                            }
                        }
                    }
                }
            }
            label { (t("rule_team")) " "
                select name="team" {
                    option value="" { (t("any_team")) }
                    @for (code, name) in &view.teams {
                        option value=(code) selected[v.team == *code] { (name) }
                    }
                }
            }
            label { (t("rule_territory")) " "
                select name="territory" {
                    option value="" { (t("any_territory")) }
                    @for (code, name) in &view.territories {
                        option value=(code) selected[v.territory == *code] { (name) }
                    }
                }
            }
            label { (t("min_severity")) " "
                select name="min_severity" {
                    @for s in [Severity::Info, Severity::Warning, Severity::Critical] {
                        option value=(s.level()) selected[v.min_severity == s.level().to_string()] { (severity_words(lang, s)) }
                    }
                }
            }
            label { (t("quiet_from")) " " input name="quiet_from" type="time" value=(v.quiet_from); }
            label { (t("quiet_to")) " " input name="quiet_to" type="time" value=(v.quiet_to); }
            label { input type="checkbox" name="digest" value="1" checked[v.digest]; " " (t("rule_digest")) }
            label { input type="checkbox" name="enabled" value="1" checked[v.enabled]; " " (t("alert_on")) }
            button { (if edit { t("save") } else { t("create") }) }
        }
    }
}

fn rule_summary(lang: Lang, r: &Rule, view: &AlertsView) -> (String, String, String) {
    let codes = if r.codes.is_empty() {
        lang.t("all_codes").to_string()
    } else {
        r.codes
            .iter()
            .map(|c| lang.code_words(c))
            .collect::<Vec<_>>()
            .join("、")
    };
    let name_of = |list: &[(String, String)], code: &Option<String>, any: &str| match code {
        Some(c) => list
            .iter()
            .find(|(k, _)| k == c)
            .map_or_else(|| c.clone(), |(_, n)| n.clone()),
        None => lang.t(any).to_string(),
    };
    let scope = format!(
        "{} · {}",
        name_of(&view.teams, &r.team, "any_team"),
        name_of(&view.territories, &r.territory, "any_territory")
    );
    let quiet = match r.quiet {
        Some((f, t)) => format!("{}–{}", clock(f), clock(t)),
        None => lang.t("no_quiet").to_string(),
    };
    (codes, scope, quiet)
}

fn state_words(lang: Lang, state: &str) -> Markup {
    match state {
        "sent" => html! { span.ok { (lang.t("msg_sent")) } },
        "failed" => html! { span.bad { (lang.t("msg_failed")) } },
        _ => html! { span.muted { (lang.t("msg_pending")) } },
    }
}

fn delivery_row(page: &Viewer, csrf: &str, d: &DeliveryRow, back: &str) -> Markup {
    let t = |k| page.t(k);
    let lang = page.lang;
    let error = d.last_error.as_ref().map(|(code, params)| {
        let p: Vec<(&str, String)> = params.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        lang.message(code, &p)
    });
    html! {
        tr id={ "delivery-" (d.id) } {
            td.name data-label=(t("msg_subject")) {
                (d.subject)
                @if d.digest { " " span.muted { "(" (t("rule_digest")) ")" } }
                (tech_details(lang, &[(t("alert_key").to_string(), d.key.clone())]))
            }
            td data-label=(t("rule_channel")) { (d.channel_name) }
            td data-label=(t("msg_state")) {
                (state_words(lang, &d.state))
                @if d.state == "pending" && d.held_quiet {
                    br; span.muted { (t("msg_held").replace("{time}", &fmt_datetime(page.cal, d.next_attempt_ms))) }
                } @else if d.state == "pending" && d.attempts > 0 {
                    br; span.muted { (t("msg_next").replace("{time}", &fmt_datetime(page.cal, d.next_attempt_ms))) }
                }
            }
            td data-label=(t("msg_attempts")) { (d.attempts) }
            td.name data-label=(t("msg_error")) {
                @if let Some(e) = &error { span.bad.last-error { (e) } } @else { span.muted { (t("none")) } }
            }
            td data-label=(t("msg_time")) {
                (fmt_datetime(page.cal, d.created_ms))
                @if let Some(s) = d.sent_ms { br; span.ok { (t("msg_sent_at").replace("{time}", &fmt_datetime(page.cal, s))) } }
            }
            td data-label=(t("msg_action")) {
                @if d.state == "failed" {
                    form.inline method="post" action={ "/app/alerts/deliveries/" (d.id) "/retry" } {
                        input type="hidden" name="csrf" value=(csrf);
                        input type="hidden" name="back" value=(back);
                        button { (t("retry_send")) }
                    }
                }
            }
        }
    }
}

/// A refused form: which one, its values and the refusal.
enum Failed {
    None,
    Channel(ChannelInput, String),
    Rule(RuleInput, String),
}

fn alerts_page(
    page: &Viewer,
    csrf: &str,
    view: &AlertsView,
    q: &AlertsQuery,
    failed: Failed,
    status: StatusCode,
) -> Response {
    let t = |k| page.t(k);
    let lang = page.lang;
    let blank_channel = ChannelInput {
        kind: "wecom".into(),
        lang: lang.code().into(),
        enabled: true,
        ..ChannelInput::default()
    };
    let blank_rule = RuleInput {
        min_severity: "2".into(),
        enabled: true,
        ..RuleInput::default()
    };
    let (ch_v, ch_err, rule_v, rule_err) = match failed {
        Failed::None => (blank_channel, None, blank_rule, None),
        Failed::Channel(v, e) => (v, Some(e), blank_rule, None),
        Failed::Rule(v, e) => (blank_channel, None, v, Some(e)),
    };
    let notice = match q.done.as_str() {
        "saved" => Some(t("done_saved")),
        "test" => Some(t("done_test")),
        "retry" => Some(t("done_retry")),
        _ => None,
    };
    let state = q.state.as_str();
    let here = |p: u64| {
        let mut s = format!("/app/alerts?page={p}");
        if !state.is_empty() {
            s.push_str(&format!("&state={}", url_enc(state)));
        }
        s + "#messages"
    };
    let back = here(view.page);
    let channel_name = |id: i64| {
        view.channels
            .iter()
            .find(|c| c.id == id)
            .map_or("", |c| c.name.as_str())
    };
    let body = html! {
        @if let Some(n) = notice { p.ok id="done" { (n) } }
        p.muted { (t("alerts_intro")) }
        h2 id="channels" { (t("alert_channels")) }
        @if view.channels.is_empty() {
            p.muted { (t("no_channels")) }
        } @else {
            table.rows id="channel-list" {
                thead { tr { th { (t("ch_name")) } th { (t("ch_kind")) } th { (t("ch_target")) } th { (t("ch_lang")) } th { (t("ch_state")) } th { (t("msg_action")) } } }
                tbody {
                    @for c in &view.channels {
                        tr id={ "channel-" (c.id) } {
                            td.name data-label=(t("ch_name")) { a href={ "/app/alerts/channels/" (c.id) } { (c.name) } }
                            td data-label=(t("ch_kind")) { (kind_words(lang, c.kind)) }
                            td.long data-label=(t("ch_target")) { (c.masked_target()) }
                            td data-label=(t("ch_lang")) { (lang_words(lang, c.lang)) }
                            td data-label=(t("ch_state")) { (on_off(lang, c.enabled)) }
                            td data-label=(t("msg_action")) {
                                form.inline method="post" action={ "/app/alerts/channels/" (c.id) "/test" } {
                                    input type="hidden" name="csrf" value=(csrf);
                                    button { (t("test_send")) }
                                }
                                " "
                                form.inline method="post" action={ "/app/alerts/channels/" (c.id) "/enable" } {
                                    input type="hidden" name="csrf" value=(csrf);
                                    input type="hidden" name="enabled" value=(if c.enabled { "0" } else { "1" });
                                    button { (if c.enabled { t("disable") } else { t("enable") }) }
                                }
                            }
                        }
                    }
                }
            }
        }
        h3 { (t("new_channel")) }
        @if let Some(e) = &ch_err { p.err id="refusal" { (e) } }
        (channel_form(page, csrf, "/app/alerts/channels", &ch_v, None))
        h2 id="rules" { (t("alert_rules")) }
        @if view.rules.is_empty() {
            p.muted { (t("no_rules")) }
        } @else {
            table.rows id="rule-list" {
                thead { tr { th { (t("rule_name")) } th { (t("rule_channel")) } th { (t("rule_codes")) } th { (t("rule_scope")) } th { (t("min_severity")) } th { (t("quiet_hours")) } th { (t("ch_state")) } th { (t("msg_action")) } } }
                tbody {
                    @for r in &view.rules {
                        @let (codes, scope, quiet) = rule_summary(lang, r, view);
                        tr id={ "rule-" (r.id) } {
                            td.name data-label=(t("rule_name")) {
                                a href={ "/app/alerts/rules/" (r.id) } { (r.name) }
                                @if r.digest { br; span.muted { (t("rule_digest")) } }
                            }
                            td data-label=(t("rule_channel")) { (channel_name(r.channel_id)) }
                            td.name data-label=(t("rule_codes")) { (codes) }
                            td.name data-label=(t("rule_scope")) { (scope) }
                            td data-label=(t("min_severity")) { (severity_words(lang, r.min_severity)) }
                            td data-label=(t("quiet_hours")) { (quiet) }
                            td data-label=(t("ch_state")) { (on_off(lang, r.enabled)) }
                            td data-label=(t("msg_action")) {
                                form.inline method="post" action={ "/app/alerts/rules/" (r.id) "/enable" } {
                                    input type="hidden" name="csrf" value=(csrf);
                                    input type="hidden" name="enabled" value=(if r.enabled { "0" } else { "1" });
                                    button { (if r.enabled { t("disable") } else { t("enable") }) }
                                }
                            }
                        }
                    }
                }
            }
        }
        h3 { (t("new_rule")) }
        @if let Some(e) = &rule_err { p.err id="refusal" { (e) } }
        @if view.channels.is_empty() {
            p.muted { (t("rule_needs_channel")) }
        } @else {
            (rule_form(page, csrf, "/app/alerts/rules", &rule_v, view, false))
        }
        p.muted { (t("quiet_note")) }
        h2 id="messages" { (t("alert_messages")) }
        nav.daynav {
            @for (s, key, n) in [("", "all_states", view.counts.pending + view.counts.sent + view.counts.failed),
                                 ("pending", "msg_pending", view.counts.pending),
                                 ("failed", "msg_failed", view.counts.failed),
                                 ("sent", "msg_sent", view.counts.sent)] {
                @if s == state { strong { (t(key)) " (" (n) ")" } }
                @else { a href={ "/app/alerts" @if !s.is_empty() { "?state=" (s) } "#messages" } { (t(key)) " (" (n) ")" } }
            }
        }
        @if view.deliveries.is_empty() {
            p.muted { (t("no_messages")) }
        } @else {
            table.rows id="message-list" {
                thead { tr { th { (t("msg_subject")) } th { (t("rule_channel")) } th { (t("msg_state")) } th { (t("msg_attempts")) } th { (t("msg_error")) } th { (t("msg_time")) } th { (t("msg_action")) } } }
                tbody {
                    @for d in &view.deliveries { (delivery_row(page, csrf, d, &back)) }
                }
            }
        }
        (pager(lang, &Pager {
            range_key: "msgs_range",
            page: view.page,
            page_size: DELIVERIES_PAGE,
            shown: view.deliveries.len() as u64,
            total: view.total,
            href: &here,
        }))
    };
    page.page(status, t("alerts_title"), body)
}

/// The page's data on the blocking pool.
async fn load(
    store: &Arc<Store>,
    state: Option<String>,
    page: u64,
) -> Result<AlertsView, crate::error::ApiError> {
    let s = store.clone();
    blocking(move || {
        let c = s.reader()?;
        Ok(alerts_view(&c, state.as_deref(), page)?)
    })
    .await
}

fn state_filter(s: &str) -> Option<String> {
    matches!(s, "pending" | "sent" | "failed").then(|| s.to_string())
}

pub async fn page(
    State(store): State<Arc<Store>>,
    who: SignedIn,
    PageQuery(q): PageQuery<AlertsQuery>,
) -> Response {
    if let Err(r) = who.manager() {
        return r;
    }
    match load(&store, state_filter(&q.state), u64::from(q.page.unwrap_or(1))).await {
        Ok(v) => alerts_page(&who.page, &who.user.csrf, &v, &q, Failed::None, StatusCode::OK),
        Err(e) => who.page.error(&e),
    }
}

/// Run a change on the blocking pool.
async fn change<T: Send + 'static>(
    store: &Arc<Store>,
    f: impl FnOnce(&Store) -> Result<T, AlertError> + Send + 'static,
) -> Result<Result<T, AlertError>, crate::error::ApiError> {
    let s = store.clone();
    blocking(move || Ok(f(&s))).await
}

/// A refusal: the page again with the message above the form, 400 (500 for storage).
async fn refused(
    store: &Arc<Store>,
    who: &SignedIn,
    e: &AlertError,
    failed: impl FnOnce(String) -> Failed,
) -> Response {
    let status = match e {
        AlertError::Storage(m) => {
            tracing::error!(error = %m, "alerts change failed");
            StatusCode::INTERNAL_SERVER_ERROR
        }
        AlertError::Invalid { .. } => StatusCode::BAD_REQUEST,
    };
    let q = AlertsQuery {
        state: String::new(),
        page: None,
        done: String::new(),
    };
    match load(store, None, 1).await {
        Ok(v) => alerts_page(
            &who.page,
            &who.user.csrf,
            &v,
            &q,
            failed(e.words(who.page.lang)),
            status,
        ),
        Err(e) => who.page.error(&e),
    }
}

fn done(
    r: Result<Result<(), AlertError>, crate::error::ApiError>,
    who: &SignedIn,
    to: &str,
) -> Result<Response, AlertError> {
    match r {
        Ok(Ok(())) => Ok(redirect(to)),
        Ok(Err(e)) => Err(e),
        Err(e) => Ok(who.page.error(&e)),
    }
}

/// `POST /app/alerts/channels`.
pub async fn create_channel(State(store): State<Arc<Store>>, f: SignedForm<Fields>) -> Response {
    let SignedForm { who, form } = f;
    if let Err(r) = who.manager() {
        return r;
    }
    let input = channel_input(&form);
    let i2 = input.clone();
    let r = change(&store, move |s| {
        alerts::save_channel(s, None, &i2, now_ms()).map(|_| ())
    })
    .await;
    match done(r, &who, "/app/alerts?done=saved#channels") {
        Ok(resp) => resp,
        Err(e) => refused(&store, &who, &e, |m| Failed::Channel(input, m)).await,
    }
}

/// `POST /app/alerts/rules`.
pub async fn create_rule(State(store): State<Arc<Store>>, f: SignedForm<Fields>) -> Response {
    let SignedForm { who, form } = f;
    if let Err(r) = who.manager() {
        return r;
    }
    let input = rule_input(&form);
    let i2 = input.clone();
    let r = change(&store, move |s| {
        alerts::save_rule(s, None, &i2, now_ms()).map(|_| ())
    })
    .await;
    match done(r, &who, "/app/alerts?done=saved#rules") {
        Ok(resp) => resp,
        Err(e) => refused(&store, &who, &e, |m| Failed::Rule(input, m)).await,
    }
}

type Id = Result<Path<i64>, PathRejection>;

/// `GET /app/alerts/channels/{id}`: the edit form.
pub async fn edit_channel(State(store): State<Arc<Store>>, id: Id, who: SignedIn) -> Response {
    if let Err(r) = who.manager() {
        return r;
    }
    let Ok(Path(id)) = id else {
        return who.page.not_found();
    };
    let v = match load(&store, None, 1).await {
        Ok(v) => v,
        Err(e) => return who.page.error(&e),
    };
    let Some(c) = v.channels.iter().find(|c| c.id == id) else {
        return who.page.not_found();
    };
    channel_edit_page(&who, c, None, StatusCode::OK)
}

fn channel_edit_page(who: &SignedIn, c: &Channel, error: Option<String>, status: StatusCode) -> Response {
    let page = &who.page;
    let values = ChannelInput {
        kind: c.kind.as_str().into(),
        name: c.name.clone(),
        smtp_host: c.smtp_host.clone().unwrap_or_default(),
        smtp_port: c.smtp_port.map(|p| p.to_string()).unwrap_or_default(),
        smtp_tls: c.smtp_tls.as_str().into(),
        smtp_user: c.smtp_user.clone().unwrap_or_default(),
        mail_from: c.mail_from.clone().unwrap_or_default(),
        mail_to: c.mail_to.clone().unwrap_or_default(),
        lang: c.lang.code().into(),
        enabled: c.enabled,
        ..ChannelInput::default()
    };
    let body = html! {
        p.muted { (kind_words(page.lang, c.kind)) " · " (c.masked_target()) }
        @if let Some(e) = &error { p.err id="refusal" { (e) } }
        (channel_form(page, &who.user.csrf, &format!("/app/alerts/channels/{}", c.id), &values, Some(c)))
        p { a href="/app/alerts#channels" { (page.t("cancel")) } }
    };
    page.page(status, page.t("edit_channel_title"), body)
}

/// `POST /app/alerts/channels/{id}`.
pub async fn update_channel(State(store): State<Arc<Store>>, id: Id, f: SignedForm<Fields>) -> Response {
    let SignedForm { who, form } = f;
    if let Err(r) = who.manager() {
        return r;
    }
    let Ok(Path(id)) = id else {
        return who.page.not_found();
    };
    let input = channel_input(&form);
    let r = change(&store, move |s| {
        alerts::save_channel(s, Some(id), &input, now_ms()).map(|_| ())
    })
    .await;
    match done(r, &who, "/app/alerts?done=saved#channels") {
        Ok(resp) => resp,
        Err(e) => {
            let v = match load(&store, None, 1).await {
                Ok(v) => v,
                Err(e) => return who.page.error(&e),
            };
            match v.channels.iter().find(|c| c.id == id) {
                Some(c) => channel_edit_page(&who, c, Some(e.words(who.page.lang)), StatusCode::BAD_REQUEST),
                None => who.page.not_found(),
            }
        }
    }
}

/// `GET /app/alerts/rules/{id}`: the edit form.
pub async fn edit_rule(State(store): State<Arc<Store>>, id: Id, who: SignedIn) -> Response {
    if let Err(r) = who.manager() {
        return r;
    }
    let Ok(Path(id)) = id else {
        return who.page.not_found();
    };
    rule_edit_page(&store, &who, id, None).await
}

async fn rule_edit_page(
    store: &Arc<Store>,
    who: &SignedIn,
    id: i64,
    failed: Option<(RuleInput, String)>,
) -> Response {
    let v = match load(store, None, 1).await {
        Ok(v) => v,
        Err(e) => return who.page.error(&e),
    };
    let Some(r) = v.rules.iter().find(|r| r.id == id) else {
        return who.page.not_found();
    };
    let stored = RuleInput {
        name: r.name.clone(),
        channel_id: r.channel_id.to_string(),
        codes: r.codes.clone(),
        team: r.team.clone().unwrap_or_default(),
        territory: r.territory.clone().unwrap_or_default(),
        min_severity: r.min_severity.level().to_string(),
        quiet_from: r.quiet.map(|q| clock(q.0)).unwrap_or_default(),
        quiet_to: r.quiet.map(|q| clock(q.1)).unwrap_or_default(),
        digest: r.digest,
        enabled: r.enabled,
    };
    let (values, error, status) = match failed {
        Some((v, e)) => (v, Some(e), StatusCode::BAD_REQUEST),
        None => (stored, None, StatusCode::OK),
    };
    let page = &who.page;
    let body = html! {
        @if let Some(e) = &error { p.err id="refusal" { (e) } }
        (rule_form(page, &who.user.csrf, &format!("/app/alerts/rules/{id}"), &values, &v, true))
        p.muted { (page.t("quiet_note")) }
        p { a href="/app/alerts#rules" { (page.t("cancel")) } }
    };
    page.page(status, page.t("edit_rule_title"), body)
}

/// `POST /app/alerts/rules/{id}`.
pub async fn update_rule(State(store): State<Arc<Store>>, id: Id, f: SignedForm<Fields>) -> Response {
    let SignedForm { who, form } = f;
    if let Err(r) = who.manager() {
        return r;
    }
    let Ok(Path(id)) = id else {
        return who.page.not_found();
    };
    let input = rule_input(&form);
    let i2 = input.clone();
    let r = change(&store, move |s| {
        alerts::save_rule(s, Some(id), &i2, now_ms()).map(|_| ())
    })
    .await;
    match done(r, &who, "/app/alerts?done=saved#rules") {
        Ok(resp) => resp,
        Err(e) => {
            let m = e.words(who.page.lang);
            rule_edit_page(&store, &who, id, Some((input, m))).await
        }
    }
}

/// The enable / disable buttons' field.
#[derive(Deserialize)]
pub struct EnableForm {
    #[serde(default)]
    enabled: String,
}

async fn toggle(store: Arc<Store>, what: &'static str, id: Id, f: SignedForm<EnableForm>) -> Response {
    let SignedForm { who, form } = f;
    if let Err(r) = who.manager() {
        return r;
    }
    let Ok(Path(id)) = id else {
        return who.page.not_found();
    };
    let on = form.enabled == "1";
    let r = change(&store, move |s| alerts::set_enabled(s, what, id, on, now_ms())).await;
    let to = if what == "channel" {
        "/app/alerts?done=saved#channels"
    } else {
        "/app/alerts?done=saved#rules"
    };
    match done(r, &who, to) {
        Ok(resp) => resp,
        Err(e) => who.page.refused(StatusCode::NOT_FOUND, e.code(), &[]),
    }
}

/// `POST /app/alerts/channels/{id}/enable`.
pub async fn toggle_channel(State(store): State<Arc<Store>>, id: Id, f: SignedForm<EnableForm>) -> Response {
    toggle(store, "channel", id, f).await
}

/// `POST /app/alerts/rules/{id}/enable`.
pub async fn toggle_rule(State(store): State<Arc<Store>>, id: Id, f: SignedForm<EnableForm>) -> Response {
    toggle(store, "rule", id, f).await
}

/// `POST /app/alerts/channels/{id}/test`: a test message, sent by the worker like any other.
pub async fn test_channel(State(store): State<Arc<Store>>, id: Id, f: SignedForm<EnableForm>) -> Response {
    let who = f.who;
    if let Err(r) = who.manager() {
        return r;
    }
    let Ok(Path(id)) = id else {
        return who.page.not_found();
    };
    let r = change(&store, move |s| alerts::test_send(s, id, now_ms()).map(|_| ())).await;
    match done(r, &who, "/app/alerts?done=test#messages") {
        Ok(resp) => resp,
        Err(e) => who.page.refused(StatusCode::NOT_FOUND, e.code(), &[]),
    }
}

#[derive(Deserialize)]
pub struct RetryForm {
    #[serde(default)]
    back: String,
}

/// `POST /app/alerts/deliveries/{id}/retry`: a failed message, sent again with its key.
pub async fn retry(State(store): State<Arc<Store>>, id: Id, f: SignedForm<RetryForm>) -> Response {
    let SignedForm { who, form } = f;
    if let Err(r) = who.manager() {
        return r;
    }
    let Ok(Path(id)) = id else {
        return who.page.not_found();
    };
    let r = change(&store, move |s| alerts::retry(s, id, now_ms())).await;
    let back = if form.back.starts_with("/app/alerts") && !form.back.contains("//") {
        form.back.replace("#messages", "")
    } else {
        "/app/alerts".to_string()
    };
    let sep = if back.contains('?') { '&' } else { '?' };
    match done(r, &who, &format!("{back}{sep}done=retry#messages")) {
        Ok(resp) => resp,
        Err(e) => who.page.refused(StatusCode::CONFLICT, e.code(), &[]),
    }
}
