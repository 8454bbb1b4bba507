//! `GET /app/pipeline`: the pipeline by stage (客户阶段): for each stage of head office's
//! settings, the customers in it now, the average days a stay lasts, the conversion from the
//! stage before, and how many are stalled (owned, more than the settings' days in the stage).
//! Also the words the customer pages share: stage and requirement labels in the reader's
//! language, health grades, percentages.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use fieldproof_core::customers::PipelineConfig;
use maud::{Markup, html};

use super::{WithNames, read_with_names};
use crate::clock::now_ms;
use crate::store::Store;
use crate::web::extract::{SignedIn, Viewer};
use crate::web::i18n::{Lang, PageText};
use crate::web::read::pipeline::{pipeline_config, pipeline_view};
use crate::web::url_enc;

/// A stage's name in the reader's language: the page string of a default stage whose label head
/// office kept, else the label head office gave it (their own words, shown as written).
pub fn stage_label(lang: Lang, cfg: &PipelineConfig, key: &str) -> String {
    let default = PipelineConfig::default();
    let kept = match (cfg.stage(key), default.stage(key)) {
        (Some(s), Some(d)) => s.label == d.label,
        (None, Some(_)) => true,
        _ => false,
    };
    if kept {
        let k = format!("stage_{key}");
        let t = lang.t(&k);
        if t != k {
            return t.to_string();
        }
    }
    match cfg.stage(key) {
        Some(s) => s.label.clone(),
        None => lang.t("stage_unknown").to_string(),
    }
}

/// A stage requirement's name (the evidence a stage needs), like [`stage_label`].
pub fn requirement_label(lang: Lang, cfg: &PipelineConfig, id: &str) -> String {
    let find = |c: &PipelineConfig| {
        c.stages
            .iter()
            .flat_map(|s| s.requirements.iter())
            .find(|r| r.id == id)
            .map(|r| r.label.clone())
    };
    let (ours, default) = (find(cfg), find(&PipelineConfig::default()));
    if ours.is_none() || ours == default {
        let k = format!("req_{id}");
        let t = lang.t(&k);
        if t != k {
            return t.to_string();
        }
    }
    ours.unwrap_or_else(|| lang.t("req_unknown").to_string())
}

/// A share as a percentage; "–" without one.
pub fn pct(r: Option<f64>) -> String {
    r.map_or("–".to_string(), |r| format!("{:.1} %", r * 100.0))
}

/// A health grade as a chip (A green, B amber, C red); "not graded yet" without one.
pub fn grade_chip(page: &Viewer, grade: Option<&str>) -> Markup {
    match grade {
        Some(g @ ("A" | "B" | "C")) => html! { span class={ "grade g-" (g) } { (g) } },
        _ => html! { span.muted { (page.t("grade_none")) } },
    }
}

/// The link to a customer's page.
pub fn customer_href(id: &str) -> String {
    format!("/app/customers/{}", url_enc(id))
}

pub async fn page(State(store): State<Arc<Store>>, who: SignedIn) -> Response {
    let SignedIn { user, page } = who;
    let scope = user.scope().map(str::to_string);
    let now = now_ms();
    let read = read_with_names(&store, move |c| {
        let cfg = pipeline_config(c)?;
        let view = pipeline_view(c, &cfg, scope.as_deref(), now)?;
        Ok((cfg, view))
    })
    .await;
    let WithNames {
        names: _,
        data: (cfg, view),
    } = match read {
        Ok(d) => d,
        Err(e) => return page.error(&e),
    };
    let t = |k| page.t(k);
    let stall = t("stalled_note").replace("{days}", &view.stall_days.to_string());
    let body = html! {
        p.muted { (t("pipeline_note")) " " (stall) }
        @if view.customers == 0 {
            p.muted id="pipeline-empty" { (t("no_customers")) }
        } @else {
            table.rows id="pipeline" {
                thead { tr {
                    th { (t("stage")) } th { (t("customers_now")) } th { (t("avg_days")) }
                    th { (t("conversion")) } th { (t("stalled")) }
                } }
                tbody {
                    @for s in &view.stages {
                        tr data-stage=(s.key) {
                            td.name data-label=(t("stage")) {
                                a href={ "/app/customers?stage=" (url_enc(&s.key)) } { (stage_label(page.lang, &cfg, &s.key)) }
                            }
                            td data-label=(t("customers_now")) data-figure="customers" { (s.customers) }
                            td data-label=(t("avg_days")) data-figure="avg_days" {
                                @match s.average_days {
                                    Some(d) => { (format!("{d:.1}")) " " span.muted { "(" (s.stays) ")" } },
                                    None => "–",
                                }
                            }
                            td data-label=(t("conversion")) data-figure="conversion" {
                                (pct(s.conversion)) " " span.muted { "(" (s.reached) ")" }
                            }
                            td data-label=(t("stalled")) data-figure="stalled" {
                                @if s.stalled > 0 { span.bad { (s.stalled) } } @else { "0" }
                            }
                        }
                    }
                }
            }
            p.muted { (t("pipeline_formulas")) }
        }
    };
    page.page(StatusCode::OK, t("pipeline_title"), body)
}
