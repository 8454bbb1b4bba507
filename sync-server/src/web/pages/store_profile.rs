//! `GET /app/stores/{id}`: a store's profile: its score trend over a period, its visit
//! history (paged, latest first), its latest photos (previews as the gallery shows them) and
//! its open exceptions, all within the viewer's scope (a supervisor sees their team's visits
//! of it). An unknown store: 404.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;
use serde::Deserialize;

use super::{WithNames, read_with_names};
use crate::clock::now_ms;
use crate::error::ApiError;
use crate::store::Store;
use crate::web::charts::{Series, line_chart};
use crate::web::components::{Pager, pager, thumb_link, visit_href};
use crate::web::extract::{PageQuery, SignedIn, opt_page};
use crate::web::pages::ranking::DEFAULT_DAYS;
use crate::web::pages::rep::{VisitsBy, open_table, visits_table};
use crate::web::period::{PeriodQuery, num, period_nav};
use crate::web::read::plans::PlanFilter;
use crate::web::read::scorecards::{latest_store_photos, open_exceptions, store_exists, store_scores};
use crate::web::read::visits::visits_of;
use crate::web::{day_string, fmt_datetime, url_enc};

#[derive(Deserialize)]
pub struct StoreQuery {
    #[serde(flatten)]
    period: PeriodQuery,
    /// The page of the visit history.
    #[serde(default, deserialize_with = "opt_page")]
    page: Option<u32>,
}

const HISTORY_PAGE: u64 = 20;
const PHOTOS_SHOWN: u64 = 12;
const OPEN_SHOWN: u64 = 50;

pub async fn page(
    State(store): State<Arc<Store>>,
    who: SignedIn,
    Path(id): Path<String>,
    PageQuery(q): PageQuery<StoreQuery>,
) -> Response {
    let SignedIn { user, page } = who;
    let cal = page.cal;
    let today = cal.day_of(now_ms());
    let asked = match q.period.asked(today, DEFAULT_DAYS) {
        Ok(a) => a,
        Err(key) => return page.bad_request(page.t(key)),
    };
    let scope = user.scope().map(str::to_string);
    let sid = id.clone();
    let asked_page = u64::from(q.page.unwrap_or(1));
    let read = read_with_names(&store, move |c| {
        if !store_exists(c, &sid)? {
            return Err(ApiError::NotFound("store".into()));
        }
        let period = asked.period(c, cal, scope.as_deref(), today)?;
        let scores = store_scores(c, cal, scope.as_deref(), &sid, period.first, period.last)?;
        let (_, total) = visits_of(c, scope.as_deref(), None, Some(&sid), 0, 0)?;
        // Past the end shows the last page.
        let last_page = total.div_ceil(HISTORY_PAGE).max(1);
        let shown_page = asked_page.clamp(1, last_page);
        let (visits, _) = visits_of(
            c,
            scope.as_deref(),
            None,
            Some(&sid),
            (shown_page - 1) * HISTORY_PAGE,
            HISTORY_PAGE,
        )?;
        let photos = latest_store_photos(c, scope.as_deref(), &sid, PHOTOS_SHOWN)?;
        let open = open_exceptions(c, scope.as_deref(), None, Some(&sid), OPEN_SHOWN)?;
        Ok((period, scores, total, shown_page, visits, photos, open))
    })
    .await;
    let WithNames {
        names,
        data: (period, scores, total, shown_page, visits, photos, open),
    } = match read {
        Ok(d) => d,
        Err(e) => return page.error(&e),
    };
    let t = |k| page.t(k);
    let path = format!("/app/stores/{}", url_enc(&id));
    let average = (!scores.is_empty()).then(|| scores.values().sum::<f64>() / scores.len() as f64);
    let qs = format!("from={}&to={}", day_string(period.first), day_string(period.last));
    let href = |n: u64| format!("{path}?{qs}&page={n}#history");
    let history_pager = pager(
        page.lang,
        &Pager {
            range_key: "visits_range",
            page: shown_page,
            page_size: HISTORY_PAGE,
            shown: visits.len() as u64,
            total,
            href: &href,
        },
    );
    let series = [Series {
        name: names.store(&id),
        points: scores.clone(),
    }];
    let body = html! {
        p { a id="store-code-link" href={ (path) "/code" } { (t("store_code_link")) } }
        (period_nav(&page, &path, period, today, &PlanFilter::default(), None))
        section id="score-trend" {
            h2 { (t("score_trend")) }
            p {
                (t("store_average_score")) ": " strong data-figure="average_score" { (num(average, 1)) }
                " · " (t("formula_store_score"))
            }
            @if scores.is_empty() { p.muted { (t("no_data")) } }
            @else { (line_chart(&series, period.first, period.last)) }
        }
        section id="latest-photos" {
            h2 { (t("latest_photos")) }
            @if photos.is_empty() { p.muted { (t("no_photos_store")) } }
            @else {
                div.thumbs {
                    @for p in &photos {
                        figure data-photo=(p.sha256) {
                            (thumb_link(&p.sha256, &names.store(&id)))
                            figcaption {
                                a href=(visit_href(&p.visit_id)) { (fmt_datetime(page.cal, p.started)) } " · " (names.user(&p.user_id))
                            }
                        }
                    }
                }
            }
        }
        section id="open-exceptions" {
            h2 { (t("open_exceptions")) }
            (open_table(&page, &names, &open))
        }
        section id="history" {
            h2 { (t("visit_history")) }
            @if visits.is_empty() { p.muted { (t("no_visits")) } }
            @else {
                (history_pager)
                (visits_table(&page, &names, &visits, VisitsBy::Rep))
                @if visits.len() > 12 { (history_pager) }
            }
        }
    };
    page.page(
        StatusCode::OK,
        &format!("{} · {}", names.store(&id), t("store_page")),
        body,
    )
}
