//! `GET /app/visits/{id}`: one visit whole: its facts, exceptions, answers, report and photos
//! with their verification badges and manifests.

use std::sync::Arc;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};

use super::exceptions::actor_of;
use super::{WithNames, read_with_names};
use crate::store::Store;
use crate::web::components::{badge_html, geofence, status_words, thumb_link};
use crate::web::exception_view::{RowOptions, exception_table};
use crate::web::extract::{SignedIn, Viewer};
use crate::web::fmt_datetime;
use crate::web::read::exceptions::{ExceptionsView, visit_exceptions};
use crate::web::read::names::Names;
use crate::web::read::visits::{VisitDetail, VisitPhoto, visit_detail};

fn json_value_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        serde_json::Value::Array(a) => a.iter().map(json_value_text).collect::<Vec<_>>().join("; "),
        serde_json::Value::Object(o) => o
            .iter()
            .map(|(k, v)| format!("{k}: {}", json_value_text(v)))
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

/// An answer value as the phone stored it (`{"kind":"price","cents":400}` …) in words.
fn answer_text(raw: &str) -> String {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(raw) else {
        return raw.to_string();
    };
    match v.get("kind").and_then(|k| k.as_str()) {
        Some("price") => v
            .get("cents")
            .and_then(serde_json::Value::as_i64)
            .map_or_else(|| raw.to_string(), |c| format!("¥{}.{:02}", c / 100, c % 100)),
        Some("choice") => v
            .get("choice_id")
            .map_or_else(|| raw.to_string(), json_value_text),
        Some(_) => v.get("value").map_or_else(|| raw.to_string(), json_value_text),
        None => json_value_text(&v),
    }
}

/// A photo's manifest facts: (label, value) in the page's language.
fn manifest(page: &Viewer, p: &VisitPhoto) -> Vec<(String, String)> {
    let t = |k: &str| page.t(k).to_string();
    let mut out = vec![
        (t("evidence_code"), p.evidence_code.clone()),
        ("sha256".to_string(), p.sha256.clone()),
        (t("kind"), p.kind.clone()),
        (t("device"), p.device_id.clone().unwrap_or_default()),
    ];
    if let Some(problems) = &p.problems {
        let words: Vec<String> = problems.split(',').map(|c| page.lang.code_words(c)).collect();
        out.push((t("problems"), words.join(", ")));
    }
    if let Some(m) = p
        .entry
        .as_deref()
        .and_then(|e| serde_json::from_str::<serde_json::Value>(e).ok())
    {
        if let Some(at) = m["time"]["wall_ms"].as_i64() {
            out.push((t("time"), fmt_datetime(at)));
        }
        let loc = &m["payload"]["location"];
        if let (Some(lat), Some(lon)) = (loc["lat_e7"].as_i64(), loc["lon_e7"].as_i64()) {
            let acc = loc["accuracy_cm"]
                .as_i64()
                .map_or(String::new(), |a| format!(" ±{} m", a / 100));
            let mock = if loc["is_mock"].as_bool() == Some(true) {
                " (mock)"
            } else {
                ""
            };
            out.push((
                t("location"),
                format!("{:.5}, {:.5}{acc}{mock}", lat as f64 / 1e7, lon as f64 / 1e7),
            ));
        }
    }
    out
}

fn facts(page: &Viewer, names: &Names, d: &VisitDetail) -> Markup {
    let t = |k| page.t(k);
    let v = &d.visit;
    let dash = || "–".to_string();
    html! {
        dl {
            dt { (t("rep")) } dd { (names.user(&v.user_id)) }
            dt { (t("store")) } dd { (names.store(&v.store_id)) }
            dt { (t("kind")) } dd { (d.kind) }
            dt { (t("status")) } dd { (status_words(page.lang, &v.status)) }
            dt { (t("started")) } dd { (fmt_datetime(v.started)) }
            dt { (t("ended")) } dd { (v.ended.map_or_else(dash, fmt_datetime)) }
            dt { (t("duration")) } dd { (v.minutes().map_or_else(dash, |m| format!("{m} {}", t("min")))) }
            dt { (t("geofence")) } dd { (geofence(page.lang, &v.geofence)) }
            dt { (t("distance")) } dd { (d.distance_m.map_or_else(dash, |m| format!("{m:.0} m"))) }
            dt { (t("score")) } dd { (v.score.map_or_else(dash, |s| format!("{s:.1}"))) }
        }
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

fn answers_and_report(page: &Viewer, d: &VisitDetail) -> Markup {
    let t = |k| page.t(k);
    let report = d
        .report
        .as_deref()
        .and_then(|r| serde_json::from_str::<serde_json::Value>(r).ok());
    html! {
        h2 { (t("answers")) }
        table.rows {
            thead { tr { th { (t("item")) } th { (t("value")) } th { (t("note")) } } }
            tbody {
                @for a in &d.answers {
                    tr {
                        td.name data-label=(t("item")) {
                            @if let Some(l) = d.item_labels.get(&a.item_id) { (l) " (" (a.item_id) ")" } @else { (a.item_id) }
                        }
                        td data-label=(t("value")) { (answer_text(&a.value)) }
                        td data-label=(t("note")) { (a.note.as_deref().unwrap_or("")) }
                    }
                }
            }
        }
        h2 { (t("report")) }
        @if let Some(serde_json::Value::Object(o)) = &report {
            dl {
                @for (k, v) in o {
                    dt { (k) } dd { (json_value_text(v)) }
                }
            }
        } @else {
            p.muted { (t("no_report")) }
        }
    }
}

fn photos(page: &Viewer, d: &VisitDetail, ex: &ExceptionsView) -> Markup {
    let t = |k| page.t(k);
    html! {
        h2 { (t("photos")) }
        @if d.photos.is_empty() {
            p.muted { (t("no_photos")) }
        }
        div.cards {
            @for p in &d.photos {
                div.card.photo data-sha=(p.sha256) {
                    @if p.received { (thumb_link(&p.sha256, &p.photo_id)) }
                    p { (badge_html(page.lang, p.received, p.verified, p.problems.as_deref(), &ex.open_codes_of(&p.sha256))) }
                    details open {
                        summary { (t("manifest")) }
                        dl {
                            @for (k, v) in manifest(page, p) {
                                dt { (k) } dd { (v) }
                            }
                        }
                    }
                }
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
    let (actor, lang) = (actor_of(&user), page.lang);
    let read = read_with_names(&store, move |c| {
        Ok((
            visit_detail(c, scope.as_deref(), &id)?,
            visit_exceptions(c, &actor, &id, lang)?,
        ))
    })
    .await;
    let WithNames { names, data: (d, ex) } = match read {
        Ok(d) => d,
        Err(e) => return page.error(&e),
    };
    let body = html! {
        (facts(&page, &names, &d))
        (exceptions(&page, &names, &user.csrf, &ex))
        (answers_and_report(&page, &d))
        (photos(&page, &d, &ex))
    };
    let title = format!("{} · {}", page.t("visit_page"), names.store(&d.visit.store_id));
    page.page(StatusCode::OK, &title, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_read_as_words() {
        assert_eq!(answer_text(r#"{"cents":405,"kind":"price"}"#), "¥4.05");
        assert_eq!(answer_text(r#"{"kind":"yes_no","value":true}"#), "true");
        assert_eq!(answer_text(r#"{"choice_id":"low","kind":"choice"}"#), "low");
        assert_eq!(answer_text("not json"), "not json");
    }
}
