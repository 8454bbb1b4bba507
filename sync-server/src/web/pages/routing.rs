//! `GET /app/routing`: the lead routing rules (线索分配规则) in order, whether they are live, the
//! last dry run's report (matched share against the goal, per rule, the largest unmatched
//! groups); a form that adds or replaces one rule, and the whole list as JSON, each refused
//! with its problems beside the fields (nothing saved); buttons for a dry run over the last 30
//! days, going live (refused below `routing_live_threshold`) and pausing. Admin and head office.
//!
//! Every change is one transaction in `crate::pipeline_jobs`; saving rules pauses routing until
//! a dry run of the new rules passes (the shared decision).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;

use crate::body::blocking;
use crate::clock::now_ms;
use crate::pipeline::routing::{Rule, Unrouted};
use crate::pipeline_jobs::settings::{SettingsError, SettingsProblem, parse_json, rule_problem};
use crate::pipeline_jobs::{self, RoutingSettings, StoredDryRun, Versioned};
use crate::store::Store;
use crate::web::extract::{PageQuery, SignedForm, SignedIn, Viewer};
use crate::web::{fmt_datetime, redirect};

/// What the page shows.
pub(crate) struct RoutingView {
    pub routing: Versioned<RoutingSettings>,
    pub last: Option<StoredDryRun>,
    pub threshold: f64,
}

/// The page's read model: the saved rules, the latest dry run, the live threshold.
pub(crate) fn read_view(c: &crate::db::Connection) -> crate::db::Result<RoutingView> {
    Ok(RoutingView {
        routing: pipeline_jobs::load_routing(c)?,
        last: pipeline_jobs::last_dry_run(c)?,
        threshold: pipeline_jobs::load_pipeline(c)?.body.routing_live_threshold,
    })
}

async fn view(store: &Arc<Store>) -> Result<RoutingView, crate::error::ApiError> {
    let s = store.clone();
    blocking(move || {
        let c = s.reader()?;
        Ok(read_view(&c)?)
    })
    .await
}

/// Run a change on the blocking pool.
async fn change<T: Send + 'static>(
    store: &Arc<Store>,
    f: impl FnOnce(&Store) -> T + Send + 'static,
) -> Result<T, crate::error::ApiError> {
    let s = store.clone();
    blocking(move || Ok(f(&s))).await
}

#[derive(Deserialize)]
pub struct RoutingQuery {
    #[serde(default)]
    done: String,
}

/// The one-rule form, as typed (numbers checked when saved).
#[derive(Deserialize, Default, Clone)]
pub struct RuleForm {
    #[serde(default)]
    position: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    industries: String,
    #[serde(default)]
    regions: String,
    #[serde(default)]
    sources: String,
    #[serde(default)]
    required_tags: String,
    #[serde(default)]
    team: String,
    #[serde(default)]
    budget_min: String,
    #[serde(default)]
    budget_max: String,
    #[serde(default)]
    max_load: String,
    #[serde(default)]
    enabled: String,
    #[serde(default)]
    version: String,
}

#[derive(Deserialize, Default, Clone)]
pub struct JsonForm {
    #[serde(default)]
    rules_json: String,
    #[serde(default)]
    version: String,
}

#[derive(Deserialize, Default)]
pub struct NoFields {}

/// A refused save: which form, what was typed, the problems by field.
enum Failed {
    None,
    Rule(Box<RuleForm>, Vec<SettingsProblem>),
    Json(JsonForm, Vec<SettingsProblem>),
    /// A refusal of a button (go live): its sentence.
    Action(String),
}

fn list(v: &[String]) -> String {
    v.join(", ")
}

fn split(s: &str) -> Vec<String> {
    s.split([',', '，', '、'])
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

fn yuan(cents: i64) -> String {
    crate::values::number(cents as f64 / 100.0)
}

/// The problems of `field`, as sentences beside it.
fn field_errors(page: &Viewer, problems: &[SettingsProblem], field: &str) -> Markup {
    html! {
        @for p in problems.iter().filter(|p| p.field == field) {
            span.bad.field-err data-code=(p.code) { (p.message(page.lang)) }
        }
    }
}

/// A rule problem's field on the one-rule form.
fn rule_field(code: &str) -> &'static str {
    match code {
        "routing_rule_no_name" => "name",
        "routing_negative_budget" | "routing_empty_budget" => "budget",
        "routing_zero_max_load" => "max_load",
        "pipeline_not_a_number_budget" => "budget",
        "pipeline_not_a_number_max_load" => "max_load",
        _ => "position",
    }
}

fn filters(page: &Viewer, r: &Rule) -> Markup {
    let t = |k| page.t(k);
    let any = t("rt_any");
    let or_any = |v: &[String]| if v.is_empty() { any.to_string() } else { list(v) };
    let budget = match (r.budget_min_cents, r.budget_max_cents) {
        (None, None) => any.to_string(),
        (Some(a), None) => format!("≥ {}", yuan(a)),
        (None, Some(b)) => format!("< {}", yuan(b)),
        (Some(a), Some(b)) => format!("{} – {}", yuan(a), yuan(b)),
    };
    html! {
        dl {
            dt { (t("rt_industries")) } dd { (or_any(&r.industries)) }
            dt { (t("rt_regions")) } dd { (or_any(&r.regions)) }
            dt { (t("rt_sources")) } dd { (or_any(&r.sources)) }
            dt { (t("rt_budget")) } dd { (budget) }
        }
    }
}

fn render(
    page: &Viewer,
    csrf: &str,
    v: &RoutingView,
    failed: Failed,
    notice: Markup,
    status: StatusCode,
) -> Response {
    let t = |k| page.t(k);
    let lang = page.lang;
    let rules = &v.routing.body.rules;
    let (rule_form, rule_problems, json_text, json_problems, action_err) = match failed {
        Failed::None => (RuleForm::default(), vec![], None, vec![], None),
        Failed::Rule(f, p) => (*f, p, None, vec![], None),
        Failed::Json(f, p) => (RuleForm::default(), vec![], Some(f.rules_json), p, None),
        Failed::Action(m) => (RuleForm::default(), vec![], None, vec![], Some(m)),
    };
    let json_text =
        json_text.unwrap_or_else(|| serde_json::to_string_pretty(rules).unwrap_or_else(|_| "[]".into()));
    let goal = crate::values::percent(v.threshold * 100.0);
    let version = v.routing.version.to_string();
    let body = html! {
        (notice)
        @if let Some(m) = &action_err { p.err id="refused" { (m) } }
        p id="routing-state" class=(if v.routing.body.live { "ok" } else { "muted" }) {
            @if v.routing.body.live { (t("rt_live")) } @else { (t("rt_paused")) }
            " · " (t("rt_version").replace("{v}", &version))
        }
        p.muted { (t("rt_first_match")) }
        div.actions {
            form.inline method="post" action="/app/routing/dry-run" {
                input type="hidden" name="csrf" value=(csrf);
                button id="dry-run" { (t("rt_dry_run")) }
            }
            " "
            @if v.routing.body.live {
                form.inline method="post" action="/app/routing/pause" {
                    input type="hidden" name="csrf" value=(csrf);
                    button.secondary id="pause" { (t("rt_pause")) }
                }
            } @else {
                form.inline method="post" action="/app/routing/go-live" {
                    input type="hidden" name="csrf" value=(csrf);
                    button id="go-live" { (t("rt_go_live")) }
                }
            }
        }
        h2 id="report" { (t("rt_report")) }
        @match &v.last {
            None => p.muted id="no-report" { (t("rt_report_none")) },
            Some(run) => {
                @let r = &run.report;
                @let passes = crate::pipeline::routing::passes_threshold(r, v.threshold);
                p.muted { (t("rt_run_at").replace("{time}", &fmt_datetime(page.cal, run.run_ms))) }
                @if run.rules_version != v.routing.version { p.bad id="report-stale" { (t("rt_report_stale")) } }
                p id="share" data-share=(format!("{:.4}", r.share)) data-passes=(passes) {
                    strong { (t("rt_matched")
                        .replace("{matched}", &r.matched.to_string())
                        .replace("{leads}", &r.leads.to_string())
                        .replace("{share}", &crate::values::percent(r.share * 100.0))
                        .replace("{goal}", &goal)) }
                    " "
                    @if r.by_owner > 0 { (t("rt_by_owner").replace("{n}", &r.by_owner.to_string())) " " }
                    @if passes { span.ok { (t("rt_meets_goal")) } } @else { span.bad { (t("rt_below_goal")) } }
                }
                table.rows id="per-rule" {
                    thead { tr { th { (t("rt_col_position")) } th { (t("rt_col_name")) } th { (t("rt_col_matched")) } th { (t("rt_col_assigned")) } th { (t("rt_col_no_capacity")) } } }
                    tbody {
                        @for s in &r.per_rule {
                            tr {
                                td data-label=(t("rt_col_position")) { (s.position) }
                                td.name data-label=(t("rt_col_name")) { (s.name) }
                                td data-label=(t("rt_col_matched")) { (s.matched) }
                                td data-label=(t("rt_col_assigned")) { (s.assigned) }
                                td data-label=(t("rt_col_no_capacity")) { (s.no_capacity) }
                            }
                        }
                    }
                }
                @if !r.unmatched_top.is_empty() {
                    h3 { (t("rt_unmatched")) }
                    table.rows id="unmatched" {
                        thead { tr { th { (t("rt_col_reason")) } th { (t("rt_col_industry")) } th { (t("rt_col_leads")) } } }
                        tbody {
                            @for g in &r.unmatched_top {
                                tr {
                                    td data-label=(t("rt_col_reason")) { (lang.message(reason_code(g.reason), &[])) }
                                    td data-label=(t("rt_col_industry")) { (g.industry.clone().unwrap_or_else(|| t("rt_no_industry").to_string())) }
                                    td data-label=(t("rt_col_leads")) { (g.leads) }
                                }
                            }
                        }
                    }
                }
            }
        }
        h2 id="rules" { (t("rt_title")) }
        @if rules.is_empty() {
            p.muted id="no-rules" { (t("rt_no_rules")) }
        } @else {
            table.rows id="rule-list" {
                thead { tr { th { (t("rt_col_position")) } th { (t("rt_col_name")) } th { (t("rt_col_filters")) } th { (t("rt_col_reps")) } th { (t("rt_col_enabled")) } } }
                tbody {
                    @for r in rules {
                        tr id={ "rule-" (r.position) } {
                            td data-label=(t("rt_col_position")) { (r.position) }
                            td.name data-label=(t("rt_col_name")) { (r.name) }
                            td data-label=(t("rt_col_filters")) { (filters(page, r)) }
                            td data-label=(t("rt_col_reps")) {
                                dl {
                                    dt { (t("rt_tags")) } dd { @if r.required_tags.is_empty() { (t("rt_any")) } @else { (list(&r.required_tags)) } }
                                    dt { (t("rt_team")) } dd { (r.team.clone().unwrap_or_else(|| t("rt_any").to_string())) }
                                    dt { (t("rt_max_load")) } dd { (r.max_load.map_or_else(|| t("rt_any").to_string(), |m| m.to_string())) }
                                }
                            }
                            td data-label=(t("rt_col_enabled")) { (crate::values::yes_no(lang, r.enabled)) }
                        }
                    }
                }
            }
        }
        h2 id="edit-rule" { (t("rt_edit_rule")) }
        p.muted { (t("rt_edit_rule_hint")) }
        @if !rule_problems.is_empty() { p.err id="rule-refused" { (t("rt_problems")) } }
        form.filters method="post" action="/app/routing/rule" id="rule-form" {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="version" value=(version);
            label { (t("rt_col_position")) " " input name="position" value=(rule_form.position) required inputmode="numeric" size="4"; (field_errors(page, &rule_problems, "position")) }
            label { (t("rt_col_name")) " " input name="name" value=(rule_form.name) maxlength="200"; (field_errors(page, &rule_problems, "name")) }
            label { (t("rt_industries")) " " input name="industries" value=(rule_form.industries); }
            label { (t("rt_regions")) " " input name="regions" value=(rule_form.regions); }
            label { (t("rt_sources")) " " input name="sources" value=(rule_form.sources); }
            label { (t("rt_budget_min")) " " input name="budget_min" value=(rule_form.budget_min) inputmode="decimal" size="10"; }
            label { (t("rt_budget_max")) " " input name="budget_max" value=(rule_form.budget_max) inputmode="decimal" size="10"; (field_errors(page, &rule_problems, "budget")) }
            label { (t("rt_tags")) " " input name="required_tags" value=(rule_form.required_tags); }
            label { (t("rt_team")) " " input name="team" value=(rule_form.team) maxlength="64"; }
            label { (t("rt_max_load")) " " input name="max_load" value=(rule_form.max_load) inputmode="numeric" size="5"; (field_errors(page, &rule_problems, "max_load")) }
            label { input type="checkbox" name="enabled" value="1" checked[rule_form.enabled == "1" || rule_form.position.is_empty()]; " " (t("rt_col_enabled")) }
            button id="save-rule" { (t("rt_save")) }
        }
        details.more open[!json_problems.is_empty()] id="json-edit" {
            summary { (t("rt_edit_json")) }
            @if !json_problems.is_empty() {
                div.err id="json-refused" {
                    (t("rt_problems"))
                    ul { @for p in &json_problems { li data-code=(p.code) data-field=(p.field) { (p.message(lang)) } } }
                }
            }
            form method="post" action="/app/routing/rules" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="version" value=(version);
                textarea.json name="rules_json" rows="16" aria-label=(t("rt_edit_json")) { (json_text) }
                button id="save-json" { (t("rt_save")) }
            }
        }
    };
    page.page(status, t("rt_title"), body)
}

fn reason_code(r: Unrouted) -> &'static str {
    r.code()
}

pub async fn page(
    State(store): State<Arc<Store>>,
    who: SignedIn,
    PageQuery(q): PageQuery<RoutingQuery>,
) -> Response {
    if let Err(r) = who.manager() {
        return r;
    }
    let key = match q.done.as_str() {
        "saved" => Some("rt_saved"),
        "dry_run" => Some("rt_dry_run_done"),
        "live" => Some("rt_went_live"),
        "paused" => Some("rt_paused_done"),
        _ => None,
    };
    let notice = match key {
        Some(k) => html! { p.notice id="done" { (who.page.t(k)) } },
        None => html! {},
    };
    match view(&store).await {
        Ok(v) => render(
            &who.page,
            &who.user.csrf,
            &v,
            Failed::None,
            notice,
            StatusCode::OK,
        ),
        Err(e) => who.page.error(&e),
    }
}

async fn refused(store: &Arc<Store>, who: &SignedIn, failed: Failed, status: StatusCode) -> Response {
    match view(store).await {
        Ok(v) => render(&who.page, &who.user.csrf, &v, failed, html! {}, status),
        Err(e) => who.page.error(&e),
    }
}

fn version(s: &str) -> Option<i64> {
    s.trim().parse().ok()
}

/// A settings error as the problems a form shows (a conflict or bad JSON as one problem).
fn problems_of(e: &SettingsError) -> Vec<SettingsProblem> {
    match e {
        SettingsError::Invalid(p) => p.clone(),
        SettingsError::BadJson { line, column, .. } => vec![SettingsProblem {
            code: "pipeline_bad_json",
            field: "json".into(),
            params: vec![("line", line.to_string()), ("column", column.to_string())],
        }],
        other => vec![SettingsProblem {
            code: other.code(),
            field: String::new(),
            params: vec![],
        }],
    }
}

/// A number typed in the form; a problem for `field` when it is not one.
fn number(s: &str, field: &'static str, problems: &mut Vec<SettingsProblem>) -> Option<f64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    match s.parse::<f64>() {
        Ok(n) if n.is_finite() => Some(n),
        _ => {
            problems.push(SettingsProblem {
                code: "pipeline_not_a_number",
                field: field.into(),
                params: vec![],
            });
            None
        }
    }
}

/// `POST /app/routing/rule`: add the rule, or replace the one with its order number.
pub async fn save_rule(State(store): State<Arc<Store>>, f: SignedForm<RuleForm>) -> Response {
    let SignedForm { who, form } = f;
    let by = match who.manager() {
        Ok(m) => m.id.to_string(),
        Err(r) => return r,
    };
    let mut problems = Vec::new();
    let position = match form.position.trim().parse::<u32>() {
        Ok(p) => p,
        Err(_) => {
            problems.push(SettingsProblem {
                code: "pipeline_not_a_number",
                field: "position".into(),
                params: vec![],
            });
            0
        }
    };
    let fen = |n: Option<f64>| n.map(|y| (y * 100.0).round() as i64);
    let budget_min = fen(number(&form.budget_min, "budget", &mut problems));
    let budget_max = fen(number(&form.budget_max, "budget", &mut problems));
    let max_load = number(&form.max_load, "max_load", &mut problems).map(|n| n.max(0.0) as u32);
    let rule = Rule {
        position,
        name: form.name.trim().to_string(),
        industries: split(&form.industries),
        budget_min_cents: budget_min,
        budget_max_cents: budget_max,
        regions: split(&form.regions),
        sources: split(&form.sources),
        required_tags: split(&form.required_tags),
        team: Some(form.team.trim().to_string()).filter(|t| !t.is_empty()),
        max_load,
        enabled: form.enabled == "1",
    };
    if !problems.is_empty() {
        return refused(
            &store,
            &who,
            Failed::Rule(Box::new(form), problems),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    // This rule's own problems first, by field (the list's other rules were valid when saved).
    if let Err(ps) = crate::pipeline::routing::validate_rules(std::slice::from_ref(&rule)) {
        let problems = ps
            .iter()
            .map(|p| {
                let mut sp = rule_problem(p);
                sp.field = rule_field(p.code()).into();
                sp
            })
            .collect();
        return refused(
            &store,
            &who,
            Failed::Rule(Box::new(form), problems),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let expected = version(&form.version);
    let done = change(&store, move |s| {
        pipeline_jobs::settings::upsert_routing_rule(s, rule, expected, Some(&by), now_ms())
    })
    .await;
    match done {
        Ok(Ok(_)) => redirect("/app/routing?done=saved"),
        Ok(Err(e)) => {
            let problems = problems_of(&e)
                .into_iter()
                .map(|mut p| {
                    p.field = rule_field(p.code).into();
                    p
                })
                .collect();
            refused(
                &store,
                &who,
                Failed::Rule(Box::new(form), problems),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => who.page.error(&e),
    }
}

/// `POST /app/routing/rules`: the whole list from JSON (a list of rules).
pub async fn save_json(State(store): State<Arc<Store>>, f: SignedForm<JsonForm>) -> Response {
    let SignedForm { who, form } = f;
    let by = match who.manager() {
        Ok(m) => m.id.to_string(),
        Err(r) => return r,
    };
    let text = form.rules_json.clone();
    let expected = version(&form.version);
    let done = change(&store, move |s| {
        let rules: Vec<Rule> = match parse_json::<Vec<Rule>>(&text) {
            Ok(r) => r,
            Err(e) => match parse_json::<RoutingSettings>(&text) {
                Ok(r) => r.rules,
                Err(_) => return Err(e),
            },
        };
        pipeline_jobs::save_routing_rules(s, &rules, expected, Some(&by), now_ms())
    })
    .await;
    match done {
        Ok(Ok(_)) => redirect("/app/routing?done=saved"),
        Ok(Err(e)) => {
            let problems = problems_of(&e);
            refused(
                &store,
                &who,
                Failed::Json(form, problems),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => who.page.error(&e),
    }
}

/// `POST /app/routing/dry-run`.
pub async fn dry_run(State(store): State<Arc<Store>>, f: SignedForm<NoFields>) -> Response {
    let who = f.who;
    let by = match who.manager() {
        Ok(m) => m.id.to_string(),
        Err(r) => return r,
    };
    match change(&store, move |s| {
        pipeline_jobs::dry_run_routing(s, Some(&by), now_ms())
    })
    .await
    {
        Ok(Ok(_)) => redirect("/app/routing?done=dry_run#report"),
        Ok(Err(e)) => who.page.error(&crate::error::ApiError::from(e)),
        Err(e) => who.page.error(&e),
    }
}

/// `POST /app/routing/go-live`: refused (the page with the reason) below the threshold.
pub async fn go_live(State(store): State<Arc<Store>>, f: SignedForm<NoFields>) -> Response {
    let who = f.who;
    let by = match who.manager() {
        Ok(m) => m.id.to_string(),
        Err(r) => return r,
    };
    let lang = who.page.lang;
    match change(&store, move |s| {
        pipeline_jobs::go_live(s, Some(&by), now_ms()).map_err(|e| e.message(lang))
    })
    .await
    {
        Ok(Ok(_)) => redirect("/app/routing?done=live"),
        Ok(Err(m)) => refused(&store, &who, Failed::Action(m), StatusCode::CONFLICT).await,
        Err(e) => who.page.error(&e),
    }
}

/// `POST /app/routing/pause`.
pub async fn pause(State(store): State<Arc<Store>>, f: SignedForm<NoFields>) -> Response {
    let who = f.who;
    let by = match who.manager() {
        Ok(m) => m.id.to_string(),
        Err(r) => return r,
    };
    let lang = who.page.lang;
    match change(&store, move |s| {
        pipeline_jobs::set_routing_paused(s, Some(&by), now_ms()).map_err(|e| e.messages(lang).join(" "))
    })
    .await
    {
        Ok(Ok(_)) => redirect("/app/routing?done=paused"),
        Ok(Err(m)) => refused(&store, &who, Failed::Action(m), StatusCode::CONFLICT).await,
        Err(e) => who.page.error(&e),
    }
}
