//! `GET /app/customers?q=&owner=&stage=&grade=&state=&warning=&page=`: customers (客户) with
//! owner, stage, days in stage, health grade and its weekly trend, the red warning and their
//! duplicate links, those longest in their stage first, 50 a page; `GET /app/customers/{id}`:
//! one customer — details, health, stage moves with their evidence and anything flagged missing,
//! follow-ups, evidence photos, events, activities, duplicates. Another team's customer: 404.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use fieldproof_core::customers::PipelineConfig;
use maud::{Markup, html};
use serde::Deserialize;

use super::{WithNames, read_with_names};
use crate::clock::now_ms;
use crate::error::ApiError;
use crate::store::Store;
use crate::web::components::{Pager, pager, tech_details, thumb_link, visit_href};
use crate::web::extract::{PageQuery, SignedIn, Viewer, opt_page, trimmed};
use crate::web::pages::pipeline::{customer_href, grade_chip, requirement_label, stage_label};
use crate::web::read::customers::{CustomerFilter, CustomerRow, HealthPoint, customer_detail, customer_list};
use crate::web::read::names::Names;
use crate::web::read::pipeline::{Territories, pipeline_config};
use crate::web::{day_string, fmt_datetime, url_enc};

pub const PAGE: u64 = 50;

#[derive(Deserialize)]
pub struct CustomersQuery {
    #[serde(default, deserialize_with = "trimmed")]
    q: String,
    #[serde(default, deserialize_with = "trimmed")]
    owner: String,
    #[serde(default, deserialize_with = "trimmed")]
    stage: String,
    #[serde(default, deserialize_with = "trimmed")]
    grade: String,
    #[serde(default, deserialize_with = "trimmed")]
    state: String,
    #[serde(default, deserialize_with = "trimmed")]
    warning: String,
    #[serde(default, deserialize_with = "opt_page")]
    page: Option<u32>,
}

const STATES: [&str; 4] = ["owned", "pool", "duplicate", "closed"];
const GRADES: [&str; 4] = ["A", "B", "C", "none"];

/// A customer state in words.
pub fn customer_state(page: &Viewer, state: &str) -> String {
    let k = format!("cstate_{state}");
    let w = page.t(&k);
    if w == k {
        page.t("state_other").to_string()
    } else {
        w.to_string()
    }
}

/// The weekly grades, oldest first, and whether the score rose or fell over them.
pub fn trend(page: &Viewer, points: &[HealthPoint]) -> Markup {
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return html! { span.muted { "–" } };
    };
    let (arrow, class, key) = if points.len() < 2 || (last.score - first.score).abs() < 0.5 {
        ("→", "muted", "trend_flat")
    } else if last.score > first.score {
        ("↑", "ok", "trend_up")
    } else {
        ("↓", "bad", "trend_down")
    };
    let grades: Vec<&str> = points.iter().map(|p| p.grade.as_str()).collect();
    html! {
        span.trend title=(page.t(key)) {
            (grades.join(" · ")) " " span class=(class) { (arrow) } span.sr { (page.t(key)) }
        }
    }
}

/// The red warning: a health component at zero for the model's days.
pub fn warning(page: &Viewer, on: bool) -> Markup {
    html! { @if on { span.flag.warn { (page.t("health_warning")) } } }
}

fn row_html(
    page: &Viewer,
    names: &Names,
    terr: &Territories,
    cfg: &PipelineConfig,
    c: &CustomerRow,
    now: i64,
) -> Markup {
    let t = |k| page.t(k);
    html! {
        tr data-customer-state=(c.state) {
            td.name data-label=(t("customer")) {
                a href=(customer_href(&c.id)) { (c.name) }
                @if let Some(co) = &c.company { br; span.muted { (co) } }
            }
            td.name data-label=(t("owner")) {
                @match &c.owner_id {
                    Some(o) => (names.user(o)),
                    None => span.muted { (customer_state(page, &c.state)) },
                }
            }
            td data-label=(t("stage")) { (stage_label(page.lang, cfg, &c.stage)) }
            td data-label=(t("days_in_stage")) data-figure="days_in_stage" { (c.days_in_stage(now)) }
            td data-label=(t("customer_health")) {
                (grade_chip(page, c.health_grade.as_deref())) " " (warning(page, c.warning))
            }
            td data-label=(t("health_trend")) { (trend(page, &c.trend)) }
            td data-label=(t("region")) { (c.region.as_deref().map(|r| terr.name(r)).unwrap_or_default()) }
            td data-label=(t("duplicates")) {
                @if let (Some(of), Some(name)) = (&c.duplicate_of, &c.duplicate_of_name) {
                    span.flag { (t("duplicate_of")) } " " a href=(customer_href(of)) { (name) }
                }
                @if c.duplicates > 0 {
                    a href=(customer_href(&c.id)) { (t("has_duplicates").replace("{n}", &c.duplicates.to_string())) }
                }
            }
        }
    }
}

pub fn customer_table(
    page: &Viewer,
    names: &Names,
    terr: &Territories,
    cfg: &PipelineConfig,
    rows: &[CustomerRow],
    now: i64,
) -> Markup {
    let t = |k| page.t(k);
    html! {
        table.rows id="customers" {
            thead { tr {
                th { (t("customer")) } th { (t("owner")) } th { (t("stage")) } th { (t("days_in_stage")) }
                th { (t("customer_health")) } th { (t("health_trend")) } th { (t("region")) } th { (t("duplicates")) }
            } }
            tbody { @for c in rows { (row_html(page, names, terr, cfg, c, now)) } }
        }
    }
}

pub async fn list(
    State(store): State<Arc<Store>>,
    who: SignedIn,
    PageQuery(q): PageQuery<CustomersQuery>,
) -> Response {
    let SignedIn { user, page } = who;
    if !q.grade.is_empty() && !GRADES.contains(&q.grade.as_str()) {
        return page.bad_request(page.t("bad_grade"));
    }
    if !q.state.is_empty() && !STATES.contains(&q.state.as_str()) {
        return page.bad_request(page.t("bad_state"));
    }
    let filter = CustomerFilter {
        q: q.q.clone(),
        owner: q.owner.clone(),
        stage: q.stage.clone(),
        grade: q.grade.clone(),
        state: q.state.clone(),
        warning: !q.warning.is_empty(),
    };
    let scope = user.scope().map(str::to_string);
    let now = now_ms();
    let today = page.cal.day_of(now);
    let asked = u64::from(q.page.unwrap_or(1));
    let read = read_with_names(&store, move |c| {
        let mut list = customer_list(c, scope.as_deref(), &filter, today, (asked - 1) * PAGE, PAGE)?;
        let last = (list.total as u64).div_ceil(PAGE).max(1);
        let shown = asked.min(last);
        if shown != asked {
            list = customer_list(c, scope.as_deref(), &filter, today, (shown - 1) * PAGE, PAGE)?;
        }
        Ok((list, shown, pipeline_config(c)?, Territories::load(c)?))
    })
    .await;
    let WithNames {
        names,
        data: (list, shown_page, cfg, terr),
    } = match read {
        Ok(d) => d,
        Err(e) => return page.error(&e),
    };
    let t = |k| page.t(k);
    let mut parts = Vec::new();
    for (k, v) in [
        ("q", &q.q),
        ("owner", &q.owner),
        ("stage", &q.stage),
        ("grade", &q.grade),
        ("state", &q.state),
        ("warning", &q.warning),
    ] {
        if !v.is_empty() {
            parts.push(format!("{k}={}", url_enc(v)));
        }
    }
    let base = format!("/app/customers?{}", parts.join("&"));
    let href = |n: u64| format!("{base}&page={n}");
    let customers_pager = pager(
        page.lang,
        &Pager {
            range_key: "customers_range",
            page: shown_page,
            page_size: PAGE,
            shown: list.rows.len() as u64,
            total: list.total as u64,
            href: &href,
        },
    );
    let body = html! {
        p.muted { (t("customers_note")) }
        form.filters method="get" action="/app/customers" id="customer-filters" {
            label.search { (t("search")) " " input type="search" name="q" value=(q.q) placeholder=(t("customer_search_hint")); }
            label { (t("owner")) " "
                select name="owner" {
                    option value="" { (t("any")) }
                    @for o in &list.owners { option value=(o) selected[*o == q.owner] { (names.user(o)) } }
                }
            }
            label { (t("stage")) " "
                select name="stage" {
                    option value="" { (t("any")) }
                    @for s in &cfg.stages { option value=(s.key) selected[s.key == q.stage] { (stage_label(page.lang, &cfg, &s.key)) } }
                }
            }
            label { (t("customer_health")) " "
                select name="grade" {
                    option value="" { (t("any")) }
                    @for g in GRADES {
                        option value=(g) selected[g == q.grade] { @if g == "none" { (t("grade_none")) } @else { (g) } }
                    }
                }
            }
            label { (t("customer_state")) " "
                select name="state" {
                    option value="" { (t("state_open_all")) }
                    @for s in STATES { option value=(s) selected[s == q.state] { (customer_state(&page, s)) } }
                }
            }
            label { input type="checkbox" name="warning" value="1" checked[!q.warning.is_empty()]; " " (t("only_warnings")) }
            button { (t("filter")) }
        }
        @if list.rows.is_empty() {
            p.muted id="customers-empty" { (t("no_customers")) }
        } @else {
            (customers_pager)
            (customer_table(&page, &names, &terr, &cfg, &list.rows, now))
            @if list.rows.len() > 12 { (customers_pager) }
        }
    };
    page.page(StatusCode::OK, t("customers_title"), body)
}

fn words(page: &Viewer, prefix: &str, key: &str) -> String {
    let k = format!("{prefix}{key}");
    let w = page.t(&k);
    if w == k {
        page.t("state_other").to_string()
    } else {
        w.to_string()
    }
}

pub async fn show(State(store): State<Arc<Store>>, who: SignedIn, Path(id): Path<String>) -> Response {
    let SignedIn { user, page } = who;
    let scope = user.scope().map(str::to_string);
    let now = now_ms();
    let today = page.cal.day_of(now);
    let cid = id.clone();
    let read = read_with_names(&store, move |c| {
        let Some(d) = customer_detail(c, scope.as_deref(), &cid, today)? else {
            return Err(ApiError::NotFound("customer".into()));
        };
        Ok((d, pipeline_config(c)?, Territories::load(c)?))
    })
    .await;
    let WithNames {
        names,
        data: (d, cfg, terr),
    } = match read {
        Ok(d) => d,
        Err(e) => return page.error(&e),
    };
    let t = |k| page.t(k);
    let c = &d.row;
    let stage = |k: &str| stage_label(page.lang, &cfg, k);
    let req = |k: &str| requirement_label(page.lang, &cfg, k);
    let body = html! {
        p { a href="/app/customers" { (t("back_to_customers")) } }
        section id="details" {
            dl {
                dt { (t("company")) } dd { (c.company.clone().unwrap_or_default()) }
                dt { (t("customer_state")) } dd { (customer_state(&page, &c.state)) }
                dt { (t("owner")) } dd { @match &c.owner_id { Some(o) => (names.user(o)), None => span.muted { (t("nobody_yet")) } } }
                dt { (t("entered_by")) } dd { (entered_by(&page, &names, &c.created_by)) " · " (fmt_datetime(page.cal, d.created_ms)) }
                dt { (t("stage")) } dd { (stage(&c.stage)) " · " (t("days_n").replace("{n}", &c.days_in_stage(now).to_string())) }
                dt { (t("region")) } dd { (c.region.as_deref().map(|r| terr.name(r)).unwrap_or_default()) }
                dt { (t("industry")) } dd { (d.industry.clone().unwrap_or_default()) }
                dt { (t("phone")) } dd { (d.phones.join("、")) }
                dt { (t("budget")) } dd { @if let Some(b) = d.budget_cents { "¥" (format!("{:.0}", b as f64 / 100.0)) } }
                @if let Some(s) = &d.store_id { dt { (t("store")) } dd { a href={ "/app/stores/" (url_enc(s)) } { (names.store(s)) } } }
                dt { (t("last_interaction")) } dd { @if let Some(l) = c.last_interaction_ms { (fmt_datetime(page.cal, l)) } @else { span.muted { "–" } } }
                @if c.state == "owned" { @if let Some(r) = c.release_due_ms { dt { (t("release_due")) } dd { (fmt_datetime(page.cal, r)) } } }
                @if let (Some(of), Some(name)) = (&c.duplicate_of, &c.duplicate_of_name) {
                    dt { (t("duplicate_of")) } dd { a href=(customer_href(of)) { (name) } }
                }
            }
            (tech_details(page.lang, &[(t("customer_id").to_string(), c.id.clone())]))
        }
        section id="health" {
            h2 { (t("customer_health")) }
            p { (grade_chip(&page, c.health_grade.as_deref())) " "
                @if let Some(s) = c.health_score { (t("score")) " " (format!("{s:.1}")) " " }
                (warning(&page, c.warning)) }
            @if d.health.is_empty() { p.muted { (t("no_health")) } }
            @else {
                p { (t("health_trend")) ": " (trend(&page, &c.trend)) }
                details { summary { (t("daily_table")) }
                    ul.daily { @for h in &d.health { li { (day_string(h.day)) " · " (h.grade) " · " (format!("{:.1}", h.score)) @if h.warning { " · " (t("health_warning")) } } } }
                }
            }
        }
        @if !d.duplicates.is_empty() {
            section id="duplicates" {
                h2 { (t("duplicates")) }
                ul { @for (did, name, by) in &d.duplicates { li { a href=(customer_href(did)) { (name) } " · " (t("entered_by")) " " (entered_by(&page, &names, by)) } } }
            }
        }
        section id="stage-moves" {
            h2 { (t("stage_moves")) }
            @if d.moves.is_empty() { p.muted { (t("no_stage_moves")) } }
            @else {
                table.rows { thead { tr { th { (t("when")) } th { (t("stage_move")) } th { (t("evidence")) } th { (t("by")) } } }
                    tbody { @for m in &d.moves {
                        tr {
                            td.nowrap data-label=(t("when")) { (fmt_datetime(page.cal, m.at_ms)) }
                            td.name data-label=(t("stage_move")) { (stage(&m.from_stage)) " → " (stage(&m.to_stage))
                                @if let Some(r) = &m.reason { br; span.muted.comment { (r) } } }
                            td data-label=(t("evidence")) {
                                @for e in &m.evidence { span.state.rt-done { (req(e)) } " " }
                                @for e in &m.missing { span.flag.missing { (t("missing_evidence").replace("{what}", &req(e))) } " " }
                                @if m.evidence.is_empty() && m.missing.is_empty() { span.muted { (t("no_evidence_needed")) } }
                            }
                            td.name data-label=(t("by")) { (names.user(&m.user_id)) }
                        }
                    } }
                }
            }
        }
        section id="follow-ups" {
            h2 { (t("follow_ups")) }
            @if d.follow_ups.is_empty() { p.muted { (t("no_follow_ups")) } }
            @else {
                table.rows { thead { tr { th { (t("when")) } th { (t("channel")) } th { (t("outcome")) } th { (t("note")) } th { (t("next_step")) } th { (t("by")) } } }
                    tbody { @for f in &d.follow_ups {
                        tr {
                            td.nowrap data-label=(t("when")) { (fmt_datetime(page.cal, f.at_ms))
                                @if let Some(v) = &f.visit_id { br; a href=(visit_href(v)) { (t("open_visit")) } } }
                            td data-label=(t("channel")) { (words(&page, "channel_", &f.channel)) }
                            td data-label=(t("outcome")) { (words(&page, "outcome_", &f.outcome)) }
                            td.long data-label=(t("note")) { (f.note) }
                            td data-label=(t("next_step")) { (f.next_step.clone().unwrap_or_default())
                                @if let Some(nd) = &f.next_date { " · " (nd) } }
                            td.name data-label=(t("by")) { (names.user(&f.user_id)) }
                        }
                    } }
                }
            }
        }
        section id="customer-photos" {
            h2 { (t("evidence_photos")) }
            @if d.photos.is_empty() { p.muted { (t("no_photos_customer")) } }
            @else {
                div.thumbs { @for p in &d.photos {
                    figure {
                        @if p.received { (thumb_link(&p.sha256, &req(&p.requirement_id))) } @else { span.muted { (t("badge_not_received")) } }
                        figcaption { (req(&p.requirement_id)) " · " (fmt_datetime(page.cal, p.taken_at_ms)) " · " (names.user(&p.user_id))
                            @if let Some(code) = &p.evidence_code { " · " (t("evidence_code")) " " (code) } }
                        (tech_details(page.lang, &[("SHA-256".to_string(), p.sha256.clone())]))
                    }
                } }
            }
        }
        section id="events" {
            h2 { (t("customer_events")) }
            @if d.events.is_empty() { p.muted { (t("no_events")) } }
            @else {
                ul { @for e in &d.events {
                    li { (fmt_datetime(page.cal, e.at_ms)) " · " (words(&page, "event_", &e.kind))
                        @if let Some(u) = &e.user_id { " · " (names.user(u)) }
                        @if let Some(r) = &e.reason { " · " span.comment { (words_or_text(&page, r)) } } }
                } }
            }
        }
        section id="activities" {
            h2 { (t("activities")) }
            @if d.activities.is_empty() { p.muted { (t("no_activities")) } }
            @else {
                ul { @for a in &d.activities {
                    li { (day_string(a.day)) " · " (words(&page, "activity_", &a.kind)) @if let Some(n) = &a.note { " · " (n) } }
                } }
            }
        }
    };
    page.page(StatusCode::OK, &c.name, body)
}

/// An event's reason: a reason code the pages know (`reason_*`) in words, else the text a
/// person wrote.
pub fn words_or_text(page: &Viewer, reason: &str) -> String {
    let k = format!("reason_{reason}");
    let w = page.t(&k);
    if w == k { reason.to_string() } else { w.to_string() }
}

/// Who entered a customer: a rep, or head office's import.
fn entered_by(page: &Viewer, names: &Names, who: &str) -> String {
    if who == crate::import::IMPORTED_BY {
        page.t("imported_by_head_office").to_string()
    } else {
        names.user(who)
    }
}
