//! `GET /app/visits/{id}`: one visit whole: its facts, exceptions, answers (with the template's
//! labels), report and photos with their verification badges and manifests, each photo's review
//! (who decided what, when, why) with the form to decide, and the retakes asked of its photos
//! with the old and the new photo side by side; all in words; ids, hashes and devices only in
//! the folded technical sections.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use fieldproof_core::sync::wire::payload::{Entry, OpPayload};
use maud::{Markup, html};

use super::exceptions::actor_of;
use super::retakes::{retake_block, review_form, review_line};
use super::{WithNames, read_with_names};
use crate::clock::now_ms;
use crate::messages::photo_problems;
use crate::store::Store;
use crate::values::{self, AnswerView, ReportView, metres, number, photo_kind, visit_kind};
use crate::web::components::{badge_html, geofence, status_words, tech_details, thumb_link};
use crate::web::exception_view::{RowOptions, exception_table};
use crate::web::extract::{SignedIn, Viewer};
use crate::web::read::exceptions::{ExceptionsView, visit_exceptions};
use crate::web::read::names::Names;
use crate::web::read::retakes::{PhotoReviewView, RetakeView, latest_reviews, visit_retakes};
use crate::web::read::visits::{VisitDetail, VisitPhoto, visit_detail};
use crate::web::{fmt_datetime, url_enc};

/// A photo's manifest facts a person reads: (label, value) in the page's language. Its hash,
/// ids and device go to [`photo_technical`].
fn manifest(page: &Viewer, p: &VisitPhoto) -> Vec<(String, String)> {
    let t = |k: &str| page.t(k).to_string();
    let mut out = vec![
        (t("kind"), photo_kind(page.lang, &p.kind)),
        (t("evidence_code"), p.evidence_code.clone()),
    ];
    let problems = photo_problems(page.lang, p.problems.as_deref());
    if !problems.is_empty() {
        out.push((t("problems"), problems.join("、")));
    }
    if let Some(m) = p
        .entry
        .as_deref()
        .and_then(|e| serde_json::from_str::<Entry>(e).ok())
    {
        out.push((t("taken_at"), fmt_datetime(page.cal, m.time.wall_ms)));
        let location = match OpPayload::decode(&m.kind, m.payload) {
            Ok(OpPayload::Photo(manifest)) => manifest.location,
            _ => None,
        };
        if let Some(loc) = location
            && let (Some(lat), Some(lon)) = (loc.lat_e7, loc.lon_e7)
        {
            let acc = loc.accuracy_cm.map_or(String::new(), |a| {
                format!(" ±{}", metres(page.lang, a as f64 / 100.0))
            });
            let mock = if loc.is_mock {
                format!(" · {}", t("mock_location_word"))
            } else {
                String::new()
            };
            out.push((
                t("location"),
                format!("{:.5}, {:.5}{acc}{mock}", lat as f64 / 1e7, lon as f64 / 1e7),
            ));
        }
    }
    out
}

/// A photo's technical facts: its hash, id and the phone that took it.
fn photo_technical(page: &Viewer, p: &VisitPhoto) -> Vec<(String, String)> {
    let mut out = vec![
        ("SHA-256".to_string(), p.sha256.clone()),
        (page.t("photo_id").to_string(), p.photo_id.clone()),
    ];
    if let Some(d) = &p.device_id {
        out.push((page.t("device").to_string(), d.clone()));
    }
    out
}

fn facts(page: &Viewer, names: &Names, d: &VisitDetail) -> Markup {
    let t = |k| page.t(k);
    let v = &d.visit;
    let dash = || "–".to_string();
    let mut technical = vec![
        (t("visit_id").to_string(), v.id.clone()),
        (t("rep_id").to_string(), v.user_id.clone()),
        (t("store_id").to_string(), v.store_id.clone()),
    ];
    if let Some(l) = &d.labels {
        technical.push((
            t("template").to_string(),
            format!("{} ({})", l.name, d.template_id),
        ));
    }
    html! {
        dl.facts {
            dt { (t("rep")) } dd { (names.user(&v.user_id)) }
            dt { (t("store")) } dd { (names.store(&v.store_id)) }
            dt { (t("kind")) } dd { (visit_kind(page.lang, &d.kind)) }
            @if let Some(l) = &d.labels {
                dt { (t("template")) } dd { (l.name) }
            }
            dt { (t("status")) } dd { (status_words(page.lang, &v.status)) }
            dt { (t("started")) } dd { (fmt_datetime(page.cal, v.started)) }
            dt { (t("ended")) } dd { (v.ended.map_or_else(dash, |e| fmt_datetime(page.cal, e))) }
            dt { (t("duration")) } dd { (v.minutes().map_or_else(dash, |m| format!("{m} {}", t("min")))) }
            dt { (t("geofence")) } dd { (geofence(page.lang, &v.geofence)) }
            dt { (t("distance")) } dd { (d.distance_m.map_or_else(dash, |m| metres(page.lang, m))) }
            dt { (t("score")) } dd { (v.score.map_or_else(dash, number)) }
        }
        (tech_details(page.lang, &technical))
    }
}

/// The visit's exceptions, rendered and handled as in the queue; their forms come back here.
fn exceptions(page: &Viewer, names: &Names, csrf: &str, ex: &ExceptionsView) -> Markup {
    let opts = RowOptions {
        csrf,
        back: &page.here,
        bulk_form: None,
        all_picked: false,
        show_visit: false,
    };
    html! {
        h2 id="exceptions-section" { (page.t("flags")) }
        @if ex.items.is_empty() {
            p.muted { (page.t("none")) }
        } @else {
            (exception_table(page, names, ex, &opts, html! {}))
        }
    }
}

/// The answers by the template's sections, in its order, with its labels; then the report.
fn answers_and_report(page: &Viewer, d: &VisitDetail) -> Markup {
    let t = |k| page.t(k);
    let answers = values::answers(page.lang, &d.answers, d.labels.as_ref());
    // Consecutive answers of one section (the template's order keeps them together).
    let mut sections: Vec<(Option<String>, Vec<&AnswerView>)> = Vec::new();
    for a in &answers {
        match sections.last_mut() {
            Some((s, list)) if *s == a.section => list.push(a),
            _ => sections.push((a.section.clone(), vec![a])),
        }
    }
    let report = d
        .report
        .as_deref()
        .and_then(|r| ReportView::from_body(page.lang, r))
        .map(|r| r.rows(page.lang))
        .unwrap_or_default();
    html! {
        h2 { (t("answers")) }
        @if answers.is_empty() {
            p.muted { (t("no_answers")) }
        }
        @for (section, list) in &sections {
            @if sections.len() > 1 || section.is_some() {
                h3 { (section.as_deref().unwrap_or(t("other_items"))) }
            }
            table.rows.answers {
                thead { tr { th { (t("item")) } th { (t("value")) } th { (t("note")) } } }
                tbody {
                    @for a in list {
                        tr {
                            td.name data-label=(t("item")) { (a.item) }
                            td data-label=(t("value")) { (a.value) }
                            td data-label=(t("note")) { (a.note.as_deref().unwrap_or("")) }
                        }
                    }
                }
            }
        }
        h2 { (t("report")) }
        @if report.is_empty() {
            p.muted { (t("no_report")) }
        } @else {
            dl.report {
                @for row in &report {
                    dt { (row.label) }
                    dd {
                        @if row.lines.len() == 1 {
                            (row.lines[0])
                        } @else {
                            ul { @for l in &row.lines { li { (l) } } }
                        }
                    }
                }
            }
        }
    }
}

/// What the photo cards show besides the photos: each photo's latest decision, and the form.
struct Reviews<'a> {
    csrf: &'a str,
    latest: &'a HashMap<String, PhotoReviewView>,
}

fn photos(page: &Viewer, d: &VisitDetail, ex: &ExceptionsView, reviews: &Reviews<'_>) -> Markup {
    let t = |k| page.t(k);
    html! {
        h2 { (t("photos")) }
        // The visit's evidence for someone outside: photos, signed records, keys (one file).
        p.evidence {
            a id="evidence-bundle" href={ "/app/evidence.zip?visit=" (url_enc(&d.visit.id)) } { (t("download_evidence_bundle")) }
            " "
            span.muted { (t("evidence_bundle_hint")) }
        }
        @if d.photos.is_empty() {
            p.muted { (t("no_photos")) }
        }
        div.cards {
            @for p in &d.photos {
                div.card.photo data-sha=(p.sha256) {
                    @if p.received { (thumb_link(&p.sha256, &photo_kind(page.lang, &p.kind))) }
                    p { (badge_html(page.lang, p.received, p.verified, p.problems.as_deref(), p.key_revoked_later, &ex.open_codes_of(&p.sha256))) }
                    @match reviews.latest.get(&p.photo_id) {
                        Some(r) => { (review_line(page, r)) }
                        None => { p.muted.review { (t("not_reviewed")) } }
                    }
                    (review_form(page, reviews.csrf, &p.photo_id))
                    details open {
                        summary { (t("manifest")) }
                        dl {
                            @for (k, v) in manifest(page, p) {
                                dt { (k) } dd { (v) }
                            }
                        }
                    }
                    (tech_details(page.lang, &photo_technical(page, p)))
                }
            }
        }
    }
}

/// The retakes asked of this visit's photos, or answered by them, with both photos.
fn retakes_section(page: &Viewer, names: &Names, retakes: &[RetakeView]) -> Markup {
    let today = page.cal.day_of(now_ms());
    html! {
        @if !retakes.is_empty() {
            section #retakes {
                h2 { (page.t("retakes")) }
                @for r in retakes { (retake_block(page, names, r, today, false)) }
            }
        }
    }
}

pub async fn page(
    State(store): State<Arc<Store>>,
    who: SignedIn,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    let SignedIn { user, page } = who;
    // An id that is not even text (`%FF`) names no visit.
    let Ok(Path(id)) = id else {
        return page.not_found();
    };
    let scope = user.scope().map(str::to_string);
    let (actor, cal, lang) = (actor_of(&user), page.cal, page.lang);
    let read = read_with_names(&store, move |c| {
        let d = visit_detail(c, scope.as_deref(), &id)?;
        Ok((
            d,
            visit_exceptions(c, &actor, &id, cal, lang)?,
            latest_reviews(c, &id)?,
            visit_retakes(c, &id)?,
        ))
    })
    .await;
    let WithNames {
        names,
        data: (d, ex, latest, retakes),
    } = match read {
        Ok(d) => d,
        Err(e) => return page.error(&e),
    };
    let body = html! {
        (facts(&page, &names, &d))
        section #visit-exceptions { (exceptions(&page, &names, &user.csrf, &ex)) }
        (answers_and_report(&page, &d))
        (photos(&page, &d, &ex, &Reviews { csrf: &user.csrf, latest: &latest }))
        (retakes_section(&page, &names, &retakes))
    };
    let title = format!("{} · {}", page.t("visit_page"), names.store(&d.visit.store_id));
    page.page(StatusCode::OK, &title, body)
}
