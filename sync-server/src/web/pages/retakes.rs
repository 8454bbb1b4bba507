//! Photo review with retakes on the web: `POST /app/photo-reviews` (a decision on one photo,
//! from the form on a visit's page) and `GET /app/retakes` (the retake requests the viewer's
//! scope sees: waiting, overdue, done, withdrawn). The pieces a visit's page shows (a photo's
//! decision and its form, a retake with the old and the new photo side by side) are here too.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;

use super::{WithNames, read_with_names};
use crate::body::blocking;
use crate::clock::now_ms;
use crate::error::ApiError;
use crate::retakes::{MAX_REASON_CHARS, ReviewError};
use crate::store::Store;
use crate::web::actions::review_photo;
use crate::web::components::{tech_details, thumb_link, visit_href};
use crate::web::extract::{PageQuery, SignedForm, SignedIn, Viewer};
use crate::web::read::names::Names;
use crate::web::read::retakes::{PhotoReviewView, RetakeFilter, RetakeView, retake_list};
use crate::web::{day_string, fmt_datetime, redirect, safe_next, url_enc};

#[derive(Deserialize)]
pub struct ReviewForm {
    #[serde(default)]
    photo_id: String,
    #[serde(default)]
    verdict: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    back: String,
}

/// `POST /app/photo-reviews`: approve, reject (with a reason) or ask for a retake (with a
/// reason), then back to the page the form was on. A photo outside the viewer's scope is "not
/// found"; every other refusal is its message in the reader's language.
pub async fn review(State(store): State<Arc<Store>>, f: SignedForm<ReviewForm>) -> Response {
    let SignedForm { who, form } = f;
    let SignedIn { user, page } = who;
    let back = safe_next(&form.back).to_string();
    let (uid, scope) = (user.id.clone(), user.scope().map(str::to_string));
    let s = store.clone();
    let done = blocking(move || {
        let reason = Some(form.reason.as_str());
        Ok(review_photo(
            &s,
            &uid,
            scope.as_deref(),
            form.photo_id.trim(),
            &form.verdict,
            reason,
            now_ms(),
        ))
    })
    .await;
    match done {
        Ok(Ok(r)) => {
            tracing::info!(
                review = r.review_id,
                retake = r.retake_id.is_some(),
                "photo reviewed on the web"
            );
            redirect(&back)
        }
        Ok(Err(ReviewError::UnknownPhoto)) => page.not_found(),
        Ok(Err(ReviewError::Storage(e))) => page.error(&ApiError::Internal(e)),
        Ok(Err(e)) => {
            let status = if e == ReviewError::RetakeAlreadyOpen {
                StatusCode::CONFLICT
            } else {
                StatusCode::BAD_REQUEST
            };
            page.refused(status, &format!("refused.{}", e.code()), &e.params())
        }
        Err(e) => page.error(&e),
    }
}

/// The page string `prefix` + `value` (a verdict, a state) in the reader's language.
fn words(page: &Viewer, prefix: &str, value: &str) -> String {
    page.t(&format!("{prefix}{value}")).to_string()
}

/// A decision in words: "Retake asked by 王督导 at 2026-11-23 10:02: 货架不全".
pub fn review_line(page: &Viewer, r: &PhotoReviewView) -> Markup {
    let key = match r.verdict.as_str() {
        "approve" => "reviewed_approve",
        "reject" => "reviewed_reject",
        _ => "reviewed_retake",
    };
    let text = page
        .t(key)
        .replace("{by}", &r.by)
        .replace("{at}", &fmt_datetime(page.cal, r.at_ms))
        .replace("{reason}", r.reason.as_deref().unwrap_or(""));
    html! {
        p.review data-verdict=(r.verdict) {
            span class={ "state rv-" (r.verdict) } { (words(page, "verdict_", &r.verdict)) }
            " " (text)
            @if r.from_phone { " " span.muted { (page.t("from_phone")) } }
        }
    }
}

/// The decision form of one photo (no script: a choice, a reason, a button).
pub fn review_form(page: &Viewer, csrf: &str, photo_id: &str) -> Markup {
    html! {
        form.review method="post" action="/app/photo-reviews" {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="photo_id" value=(photo_id);
            input type="hidden" name="back" value=(page.here);
            label {
                span.sr { (page.t("review_photo")) }
                select name="verdict" {
                    @for v in ["approve", "reject", "retake"] {
                        option value=(v) { (words(page, "verdict_", v)) }
                    }
                }
            }
            input type="text" name="reason" maxlength=(MAX_REASON_CHARS)
                placeholder=(page.t("review_reason")) aria-label=(page.t("review_reason"));
            button { (page.t("review_save")) }
        }
    }
}

/// A retake request's state as a chip.
fn retake_chip(page: &Viewer, state: &str) -> Markup {
    html! { span class={ "state rt-" (state) } data-retake-state=(state) { (words(page, "retake_state_", state)) } }
}

/// One photo of a retake pair, or a line saying its bytes are not here yet.
fn pair_photo(page: &Viewer, caption: &str, sha: Option<&str>) -> Markup {
    html! {
        figure {
            @match sha {
                Some(sha) => { (thumb_link(sha, caption)) }
                None => { p.muted { (page.t("photo_not_here")) } }
            }
            figcaption { (caption) }
        }
    }
}

/// A retake's ids, folded away.
fn technical(page: &Viewer, r: &RetakeView) -> Vec<(String, String)> {
    let mut out = vec![
        (page.t("retake_id").to_string(), r.id.clone()),
        (page.t("old_photo").to_string(), r.old_photo_id.clone()),
    ];
    if let Some(p) = &r.new_photo_id {
        out.push((page.t("new_photo").to_string(), p.clone()));
    }
    out
}

/// A retake with its facts and, once taken, the old and the new photo side by side.
pub fn retake_block(page: &Viewer, names: &Names, r: &RetakeView, today: i64, show_visit: bool) -> Markup {
    let t = |k| page.t(k);
    let state = r.state_on(today);
    html! {
        div class={ "retake" @if state == "cancelled" { " closed" } } data-retake=(r.id) data-state=(state) {
            p { (retake_chip(page, state)) " " strong { (r.reason) } }
            dl {
                dt { (t("rep")) } dd { (names.user(&r.rep_id)) }
                dt { (t("store")) } dd { (names.store(&r.store_id)) }
                dt { (t("requested_by")) } dd { (r.requested_by) " · " (fmt_datetime(page.cal, r.requested_ms)) }
                dt { (t("due")) } dd { (day_string(r.due_day)) }
                @if let (Some(at), "done") = (r.closed_ms, state) {
                    dt { (t("retake_done_at")) } dd { (fmt_datetime(page.cal, at)) }
                }
            }
            div.msg-photos.pair {
                (pair_photo(page, t("old_photo"), r.old_sha.as_deref()))
                @if r.new_photo_id.is_some() {
                    (pair_photo(page, t("new_photo"), r.new_sha.as_deref()))
                }
            }
            (tech_details(page.lang, &technical(page, r)))
            @if show_visit {
                p {
                    a.visit-link href=(visit_href(&r.visit_id)) { (t("open_visit")) }
                    @if let Some(v) = r.new_visit_id.as_deref().filter(|v| *v != r.visit_id) {
                        " · " a href=(visit_href(v)) { (t("open_retake_visit")) }
                    }
                }
            }
        }
    }
}

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    state: RetakeFilter,
}

/// `GET /app/retakes`: the retakes the viewer's scope sees, newest first, by state.
pub async fn list(State(store): State<Arc<Store>>, who: SignedIn, q: PageQuery<ListQuery>) -> Response {
    let SignedIn { user, page } = who;
    let PageQuery(q) = q;
    let scope = user.scope().map(str::to_string);
    let today = page.cal.day_of(now_ms());
    let filter = q.state;
    let read = read_with_names(&store, move |c| retake_list(c, scope.as_deref(), filter, today)).await;
    let WithNames {
        names,
        data: (items, total),
    } = match read {
        Ok(d) => d,
        Err(e) => return page.error(&e),
    };
    let body = html! {
        nav.tabs aria-label=(page.t("status")) {
            @for f in RetakeFilter::ALL {
                @let link = format!("/app/retakes?state={}", url_enc(f.as_str()));
                @let label = words(&page, "retake_filter_", f.as_str());
                @if f == filter {
                    a.cur href=(link) aria-current="page" data-filter=(f.as_str()) { (label) }
                } @else {
                    a href=(link) data-filter=(f.as_str()) { (label) }
                }
            }
        }
        p.muted { (page.t("retakes_total").replace("{n}", &total.to_string())) }
        @if items.is_empty() {
            p.muted { (page.t("no_retakes")) }
        }
        div.retakes {
            @for r in &items { (retake_block(&page, &names, r, today, true)) }
        }
    };
    page.page(StatusCode::OK, page.t("retakes_page"), body)
}
