//! `GET /app/pipeline-settings`: the pipeline's settings head office owns — the stages in order
//! with the evidence each needs to be entered, the deadlines and rules (lead response time,
//! release, stall, escalation, reclaim, the routing and response goals), and the health model
//! (components with their weights, full marks and windows, the grade lines, the zero warning).
//! The numbers are forms; the stages and the whole model can also be edited as JSON. A refused
//! save shows each problem beside its field and saves nothing. Admin and head office only.
//!
//! Saving the pipeline sends it to every phone (`pipeline_config` down the feed, same
//! transaction); the health model is used from the next nightly run.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use fieldproof_core::customers::{PipelineConfig, RequirementKind, StageDef};
use maud::{Markup, html};
use serde::Deserialize;

use crate::body::blocking;
use crate::clock::now_ms;
use crate::pipeline::health::HealthModel;
use crate::pipeline_jobs::settings::{SettingsError, SettingsProblem, parse_json};
use crate::pipeline_jobs::{self, Versioned};
use crate::store::Store;
use crate::web::extract::{PageQuery, SignedForm, SignedIn, Viewer};
use crate::web::redirect;

pub(crate) struct SettingsView {
    pub pipeline: Versioned<PipelineConfig>,
    pub health: Versioned<HealthModel>,
}

/// The page's read model.
pub(crate) fn read_view(c: &crate::db::Connection) -> crate::db::Result<SettingsView> {
    Ok(SettingsView {
        pipeline: pipeline_jobs::load_pipeline(c)?,
        health: pipeline_jobs::load_health(c)?,
    })
}

async fn view(store: &Arc<Store>) -> Result<SettingsView, crate::error::ApiError> {
    let s = store.clone();
    blocking(move || {
        let c = s.reader()?;
        Ok(read_view(&c)?)
    })
    .await
}

#[derive(Deserialize)]
pub struct SettingsQuery {
    #[serde(default)]
    done: String,
}

/// Whole-number settings on the rules form, in order (their words are
/// `pipeline_setting_<key>` in the message catalogue).
const WHOLE: [&str; 7] = [
    "lead_response_minutes",
    "release_days",
    "release_warning_days",
    "stall_days",
    "escalate_follow_ups",
    "escalate_window_days",
    "reclaim_cooldown_days",
];
/// Shares, typed as percentages.
const PERCENT: [&str; 2] = ["routing_live_threshold", "response_goal"];

fn whole(cfg: &PipelineConfig, key: &str) -> u32 {
    match key {
        "lead_response_minutes" => cfg.lead_response_minutes,
        "release_days" => cfg.release_days,
        "release_warning_days" => cfg.release_warning_days,
        "stall_days" => cfg.stall_days,
        "escalate_follow_ups" => cfg.escalate_follow_ups,
        "escalate_window_days" => cfg.escalate_window_days,
        _ => cfg.reclaim_cooldown_days,
    }
}

fn set_whole(cfg: &mut PipelineConfig, key: &str, v: u32) {
    match key {
        "lead_response_minutes" => cfg.lead_response_minutes = v,
        "release_days" => cfg.release_days = v,
        "release_warning_days" => cfg.release_warning_days = v,
        "stall_days" => cfg.stall_days = v,
        "escalate_follow_ups" => cfg.escalate_follow_ups = v,
        "escalate_window_days" => cfg.escalate_window_days = v,
        _ => cfg.reclaim_cooldown_days = v,
    }
}

/// Which form failed, with what was typed and the problems by field.
enum Failed {
    None,
    Rules(HashMap<String, String>, Vec<SettingsProblem>),
    Stages(String, Vec<SettingsProblem>),
    Health(HashMap<String, String>, Vec<SettingsProblem>),
}

fn errs(page: &Viewer, problems: &[SettingsProblem], field: &str) -> Markup {
    html! {
        @for p in problems.iter().filter(|p| p.field == field) {
            span.bad.field-err data-code=(p.code) { (p.message(page.lang)) }
        }
    }
}

fn problem_list(page: &Viewer, id: &str, problems: &[SettingsProblem]) -> Markup {
    html! {
        @if !problems.is_empty() {
            div.err id=(id) {
                (page.t("rt_problems"))
                ul { @for p in problems { li data-code=(p.code) data-field=(p.field) { (p.message(page.lang)) } } }
            }
        }
    }
}

fn requirement_words(page: &Viewer, s: &StageDef) -> Markup {
    let t = |k| page.t(k);
    html! {
        @if s.requirements.is_empty() { span.muted { (t("ps_nothing")) } }
        @for (i, r) in s.requirements.iter().enumerate() {
            @if i > 0 { br; }
            @let key = match r.kind {
                RequirementKind::Photo => "ps_req_photo",
                RequirementKind::FollowUp => "ps_req_follow_up",
                RequirementKind::Field => "ps_req_field",
                RequirementKind::Reason => "ps_req_reason",
            };
            (t(key).replace("{label}", &r.label))
        }
    }
}

fn kind_words(page: &Viewer, kind: &str) -> String {
    match kind {
        "purchase" => page.t("ps_kind_purchase").to_string(),
        "trial" => page.t("ps_kind_trial").to_string(),
        "event" => page.t("ps_kind_event").to_string(),
        other => other.to_string(),
    }
}

fn render(
    page: &Viewer,
    csrf: &str,
    v: &SettingsView,
    failed: Failed,
    notice: Markup,
    status: StatusCode,
) -> Response {
    let t = |k| page.t(k);
    let lang = page.lang;
    let cfg = &v.pipeline.body;
    let model = &v.health.body;
    let empty = HashMap::new();
    let (rules_typed, rules_p, stages_typed, stages_p, health_typed, health_p) = match &failed {
        Failed::None => (&empty, &[][..], None, &[][..], &empty, &[][..]),
        Failed::Rules(f, p) => (f, &p[..], None, &[][..], &empty, &[][..]),
        Failed::Stages(s, p) => (&empty, &[][..], Some(s.clone()), &p[..], &empty, &[][..]),
        Failed::Health(f, p) => (&empty, &[][..], None, &[][..], f, &p[..]),
    };
    let typed = |f: &HashMap<String, String>, k: &str, dflt: String| f.get(k).cloned().unwrap_or(dflt);
    let stages_json =
        stages_typed.unwrap_or_else(|| serde_json::to_string_pretty(&cfg.stages).unwrap_or_default());
    let model_json = health_typed
        .get("model_json")
        .cloned()
        .unwrap_or_else(|| serde_json::to_string_pretty(model).unwrap_or_default());
    let pv = v.pipeline.version.to_string();
    let hv = v.health.version.to_string();
    let body = html! {
        (notice)
        h2 id="stages" { (t("ps_stages")) }
        table.rows id="stage-list" {
            thead { tr { th { (t("ps_col_stage")) } th { (t("ps_col_needs")) } th { (t("ps_col_final")) } } }
            tbody {
                @for s in &cfg.stages {
                    tr id={ "stage-" (s.key) } {
                        td.name data-label=(t("ps_col_stage")) { (s.label) }
                        td data-label=(t("ps_col_needs")) { (requirement_words(page, s)) }
                        td data-label=(t("ps_col_final")) { (crate::values::yes_no(lang, s.terminal)) }
                    }
                }
            }
        }
        details.more open[!stages_p.is_empty()] id="stages-edit" {
            summary { (t("ps_stages_json")) }
            (problem_list(page, "stages-refused", stages_p))
            form method="post" action="/app/pipeline-settings/stages" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="version" value=(pv);
                textarea.json name="stages_json" rows="16" aria-label=(t("ps_stages_json")) { (stages_json) }
                button id="save-stages" { (t("ps_save")) }
            }
        }
        h2 id="rules" { (t("ps_deadlines")) }
        (problem_list(page, "rules-refused", rules_p))
        form.filters method="post" action="/app/pipeline-settings/rules" id="rules-form" {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="version" value=(pv);
            @for k in WHOLE {
                label {
                    (lang.message(&format!("pipeline_setting_{k}"), &[])) " "
                    input name=(k) value=(typed(rules_typed, k, whole(cfg, k).to_string())) inputmode="numeric" size="6" required;
                    (errs(page, rules_p, k))
                }
            }
            @for k in PERCENT {
                @let now = if k == "response_goal" { cfg.response_goal } else { cfg.routing_live_threshold };
                label {
                    (lang.message(&format!("pipeline_setting_{k}"), &[])) " (%) "
                    input name=(k) value=(typed(rules_typed, k, crate::values::number(now * 100.0))) inputmode="decimal" size="6" required;
                    (errs(page, rules_p, k))
                }
            }
            button id="save-rules" { (t("ps_save")) }
        }
        h2 id="health" { (t("ps_health")) }
        p.muted { (t("ps_health_formula")) }
        (problem_list(page, "health-refused", health_p))
        form method="post" action="/app/pipeline-settings/health" id="health-form" {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="version" value=(hv);
            table.rows id="components" {
                thead { tr { th { (t("ps_col_component")) } th { (t("ps_col_kind")) } th { (t("ps_col_window")) } th { (t("ps_col_cap")) } th { (t("ps_col_weight")) } } }
                tbody {
                    @for (i, c) in model.components.iter().enumerate() {
                        @let field = format!("component[{}]", c.key);
                        tr id={ "component-" (c.key) } {
                            td.name data-label=(t("ps_col_component")) {
                                @match lang { crate::i18n::Lang::Zh => (c.label_zh), crate::i18n::Lang::En => (c.label_en) }
                                (errs(page, health_p, &field))
                            }
                            td data-label=(t("ps_col_kind")) { (kind_words(page, &c.activity_kind)) }
                            td data-label=(t("ps_col_window")) {
                                input name={ "window_" (i) } value=(typed(health_typed, &format!("window_{i}"), c.window_days.to_string())) inputmode="numeric" size="5" aria-label=(t("ps_col_window"));
                            }
                            td data-label=(t("ps_col_cap")) {
                                input name={ "cap_" (i) } value=(typed(health_typed, &format!("cap_{i}"), crate::values::number(c.cap))) inputmode="decimal" size="5" aria-label=(t("ps_col_cap"));
                            }
                            td data-label=(t("ps_col_weight")) {
                                input name={ "weight_" (i) } value=(typed(health_typed, &format!("weight_{i}"), crate::values::number(c.weight))) inputmode="decimal" size="5" aria-label=(t("ps_col_weight"));
                            }
                        }
                    }
                }
            }
            div.filters {
                label { (t("ps_grade_a")) " " input name="grade_a" value=(typed(health_typed, "grade_a", crate::values::number(model.grade_a))) inputmode="decimal" size="5"; }
                label { (t("ps_grade_b")) " " input name="grade_b" value=(typed(health_typed, "grade_b", crate::values::number(model.grade_b))) inputmode="decimal" size="5"; (errs(page, health_p, "grades")) }
                label { (t("ps_zero_days")) " " input name="zero_warning_days" value=(typed(health_typed, "zero_warning_days", model.zero_warning_days.to_string())) inputmode="numeric" size="5"; }
                button id="save-health" { (t("ps_save")) }
            }
        }
        details.more id="health-edit" {
            summary { (t("ps_health_json")) }
            form method="post" action="/app/pipeline-settings/health" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="version" value=(hv);
                textarea.json name="model_json" rows="16" aria-label=(t("ps_health_json")) { (model_json) }
                button id="save-health-json" { (t("ps_save")) }
            }
        }
    };
    page.page(status, t("ps_title"), body)
}

pub async fn page(
    State(store): State<Arc<Store>>,
    who: SignedIn,
    PageQuery(q): PageQuery<SettingsQuery>,
) -> Response {
    if let Err(r) = who.manager() {
        return r;
    }
    let notice = if q.done == "saved" {
        html! { p.notice id="done" { (who.page.t("ps_saved")) } }
    } else {
        html! {}
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

async fn refused(store: &Arc<Store>, who: &SignedIn, failed: Failed) -> Response {
    match view(store).await {
        Ok(v) => render(
            &who.page,
            &who.user.csrf,
            &v,
            failed,
            html! {},
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => who.page.error(&e),
    }
}

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

fn not_a_number(field: &str) -> SettingsProblem {
    SettingsProblem {
        code: "pipeline_not_a_number",
        field: field.to_string(),
        params: vec![],
    }
}

fn version(f: &HashMap<String, String>) -> Option<i64> {
    f.get("version").and_then(|v| v.trim().parse().ok())
}

type Form = HashMap<String, String>;

/// Run a save on the blocking pool and answer: back to the page, or the form with its problems.
async fn finish(
    store: &Arc<Store>,
    who: &SignedIn,
    done: Result<Result<i64, SettingsError>, crate::error::ApiError>,
    failed: impl FnOnce(Vec<SettingsProblem>) -> Failed,
) -> Response {
    match done {
        Ok(Ok(_)) => redirect("/app/pipeline-settings?done=saved"),
        Ok(Err(e)) => refused(store, who, failed(problems_of(&e))).await,
        Err(e) => who.page.error(&e),
    }
}

/// `POST /app/pipeline-settings/rules`: the deadlines and goals.
pub async fn save_rules(State(store): State<Arc<Store>>, f: SignedForm<Form>) -> Response {
    let SignedForm { who, form } = f;
    let by = match who.manager() {
        Ok(m) => m.id.to_string(),
        Err(r) => return r,
    };
    let mut problems = Vec::new();
    let mut wholes = Vec::new();
    for k in WHOLE {
        match form.get(k).map(|v| v.trim().parse::<u32>()) {
            Some(Ok(n)) => wholes.push((k, n)),
            _ => problems.push(not_a_number(k)),
        }
    }
    let mut shares = Vec::new();
    for k in PERCENT {
        match form.get(k).map(|v| v.trim().trim_end_matches('%').parse::<f64>()) {
            Some(Ok(n)) if n.is_finite() => shares.push((k, n / 100.0)),
            _ => problems.push(not_a_number(k)),
        }
    }
    if !problems.is_empty() {
        return refused(&store, &who, Failed::Rules(form, problems)).await;
    }
    let expected = version(&form);
    let s = store.clone();
    let done = blocking(move || {
        let current = {
            let c = s.reader()?;
            pipeline_jobs::load_pipeline(&c)?.body
        };
        let mut cfg = current;
        for (k, n) in wholes {
            set_whole(&mut cfg, k, n);
        }
        for (k, n) in shares {
            if k == "response_goal" {
                cfg.response_goal = n;
            } else {
                cfg.routing_live_threshold = n;
            }
        }
        Ok(pipeline_jobs::save_pipeline(
            &s,
            &cfg,
            expected,
            Some(&by),
            now_ms(),
        ))
    })
    .await;
    finish(&store, &who, done, |p| Failed::Rules(form, p)).await
}

/// `POST /app/pipeline-settings/stages`: the stages from JSON.
pub async fn save_stages(State(store): State<Arc<Store>>, f: SignedForm<Form>) -> Response {
    let SignedForm { who, form } = f;
    let by = match who.manager() {
        Ok(m) => m.id.to_string(),
        Err(r) => return r,
    };
    let text = form.get("stages_json").cloned().unwrap_or_default();
    let expected = version(&form);
    let s = store.clone();
    let t2 = text.clone();
    let done = blocking(move || {
        let stages: Vec<StageDef> = match parse_json(&t2) {
            Ok(v) => v,
            Err(e) => return Ok(Err(e)),
        };
        let mut cfg = {
            let c = s.reader()?;
            pipeline_jobs::load_pipeline(&c)?.body
        };
        cfg.stages = stages;
        Ok(pipeline_jobs::save_pipeline(
            &s,
            &cfg,
            expected,
            Some(&by),
            now_ms(),
        ))
    })
    .await;
    finish(&store, &who, done, |p| Failed::Stages(text, p)).await
}

/// `POST /app/pipeline-settings/health`: the weights, full marks, windows and lines from the
/// form, or the whole model from JSON (`model_json`).
pub async fn save_health(State(store): State<Arc<Store>>, f: SignedForm<Form>) -> Response {
    let SignedForm { who, form } = f;
    let by = match who.manager() {
        Ok(m) => m.id.to_string(),
        Err(r) => return r,
    };
    let expected = version(&form);
    let s = store.clone();
    let f2 = form.clone();
    let done = blocking(move || {
        let model: HealthModel = match f2.get("model_json").filter(|j| !j.trim().is_empty()) {
            Some(j) => match parse_json(j) {
                Ok(m) => m,
                Err(e) => return Ok(Err(e)),
            },
            None => {
                let mut model = {
                    let c = s.reader()?;
                    pipeline_jobs::load_health(&c)?.body
                };
                let mut problems = Vec::new();
                let num = |k: &str, problems: &mut Vec<SettingsProblem>, field: &str| -> Option<f64> {
                    match f2.get(k).map(|v| v.trim().parse::<f64>()) {
                        Some(Ok(n)) if n.is_finite() => Some(n),
                        _ => {
                            problems.push(not_a_number(field));
                            None
                        }
                    }
                };
                for (i, c) in model.components.iter_mut().enumerate() {
                    let field = format!("component[{}]", c.key);
                    if let Some(w) = num(&format!("weight_{i}"), &mut problems, &field) {
                        c.weight = w;
                    }
                    if let Some(cap) = num(&format!("cap_{i}"), &mut problems, &field) {
                        c.cap = cap;
                    }
                    if let Some(d) = num(&format!("window_{i}"), &mut problems, &field) {
                        c.window_days = d.max(0.0) as u32;
                    }
                }
                if let Some(a) = num("grade_a", &mut problems, "grades") {
                    model.grade_a = a;
                }
                if let Some(b) = num("grade_b", &mut problems, "grades") {
                    model.grade_b = b;
                }
                if let Some(d) = num("zero_warning_days", &mut problems, "model") {
                    model.zero_warning_days = d.max(0.0) as u32;
                }
                if !problems.is_empty() {
                    return Ok(Err(SettingsError::Invalid(problems)));
                }
                model
            }
        };
        Ok(pipeline_jobs::save_health(
            &s,
            &model,
            expected,
            Some(&by),
            now_ms(),
        ))
    })
    .await;
    finish(&store, &who, done, |p| Failed::Health(form, p)).await
}
