//! `GET /app/gallery`: a day's photos by store (paged previews), and its possible-reuse pairs.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;

use super::{WithNames, read_with_names};
use crate::now_ms;
use crate::store::Store;
use crate::web::components::{Pager, badge_html, pager, thumb_link, visit_href};
use crate::web::exception_view::state_chip;
use crate::web::extract::{PageQuery, SignedIn, Viewer, opt_day, opt_page, trimmed};
use crate::web::read::gallery::{GALLERY_PAGE, GalleryPhoto, PairNote, ReusePair, gallery};
use crate::web::read::names::Names;
use crate::web::{day_bounds, day_of, day_string, fmt_time, url_enc};

#[derive(Deserialize)]
pub struct GalleryQuery {
    #[serde(default, deserialize_with = "opt_day")]
    date: Option<i64>,
    #[serde(default, deserialize_with = "opt_page")]
    page: Option<u32>,
    #[serde(default, deserialize_with = "trimmed")]
    store: String,
}

fn pair_html(page: &Viewer, names: &Names, p: &ReusePair) -> Markup {
    let t = |k| page.t(k);
    let side = |sha: &str, visit: Option<&str>, label: &str, visible: bool| {
        html! {
            div {
                strong { (label) }
                @if visible && crate::auth::is_lower_hex(sha, 64) {
                    (thumb_link(sha, sha))
                } @else {
                    p.muted { (t("other_team")) }
                }
                @if let Some(v) = visit {
                    a href=(visit_href(v)) { (t("visit")) }
                }
            }
        }
    };
    let note = match &p.note {
        PairNote::Match {
            distance,
            matches_total,
        } => format!(
            "{}: {distance} · {}: {matches_total}",
            t("reuse_distance"),
            t("reuse_total")
        ),
        PairNote::Legacy => page.t("reuse_legacy").to_string(),
    };
    let closed = p.status.is_closed();
    html! {
        div class={ "pair" @if closed { " closed" } } data-status=(p.status.as_str()) {
            (side(&p.this_sha256, p.visit_id.as_deref(), t("this_photo"), true))
            (side(&p.other_sha256, p.other_visit_id.as_deref(), t("looks_like"), p.other_visit_id.is_some()))
            div {
                p { (state_chip(page.lang, p.status)) }
                p { (p.user_id.as_deref().and_then(|r| names.user_name(r)).unwrap_or_default()) }
                p.muted { (note) }
            }
        }
    }
}

fn photo_card(page: &Viewer, names: &Names, p: &GalleryPhoto) -> Markup {
    html! {
        div.card {
            @if p.received { (thumb_link(&p.sha256, &p.sha256)) }
            p {
                a href=(visit_href(&p.visit_id)) { (fmt_time(p.visit_started)) }
                " · " (names.user(&p.user_id)) " "
                (badge_html(page.lang, p.received, p.verified, p.problems.as_deref(), &p.open_codes))
            }
        }
    }
}

pub async fn page(
    State(store): State<Arc<Store>>,
    who: SignedIn,
    PageQuery(q): PageQuery<GalleryQuery>,
) -> Response {
    let SignedIn { user, page } = who;
    let day = q.date.unwrap_or_else(|| day_of(now_ms()));
    let scope = user.scope().map(str::to_string);
    let store_filter = q.store.clone();
    let asked = u64::from(q.page.unwrap_or(1));
    let read = read_with_names(&store, move |c| {
        gallery(c, scope.as_deref(), day_bounds(day), &store_filter, asked)
    })
    .await;
    let WithNames { names, data: g } = match read {
        Ok(d) => d,
        Err(e) => return page.error(&e),
    };
    let t = |k| page.t(k);
    let mut by_store: BTreeMap<String, Vec<&GalleryPhoto>> = BTreeMap::new();
    for p in &g.photos {
        by_store.entry(names.store(&p.store_id)).or_default().push(p);
    }
    let href = |n: u64| {
        let store = if q.store.is_empty() {
            String::new()
        } else {
            format!("&store={}", url_enc(&q.store))
        };
        format!("/app/gallery?date={}{store}&page={n}", day_string(day))
    };
    let pages = pager(
        page.lang,
        &Pager {
            range_key: "photos_range",
            page: g.page,
            page_size: GALLERY_PAGE,
            shown: g.photos.len() as u64,
            total: g.total,
            href: &href,
        },
    );
    let body = html! {
        form.filters method="get" action="/app/gallery" {
            label { (t("date")) " " input type="date" name="date" value=(day_string(day)); }
            label { (t("store")) " "
                select name="store" {
                    option value="" { (t("all")) }
                    @for id in names.store_ids() {
                        option value=(id) selected[id == q.store] { (names.store(&id)) }
                    }
                }
            }
            button { (t("show")) }
        }
        h2 { (t("reuse_pairs")) }
        @if g.pairs.is_empty() {
            p.muted { (t("none")) }
        }
        @for p in &g.pairs {
            (pair_html(&page, &names, p))
        }
        h2 { (t("photos")) }
        (pages)
        @if by_store.is_empty() {
            p.muted { (t("no_photos")) }
        }
        @for (store_name, photos) in &by_store {
            h3 { (store_name) }
            div.cards {
                @for p in photos { (photo_card(&page, &names, p)) }
            }
        }
        // A long page repeats the links at its foot.
        @if g.photos.len() > 12 {
            (pages)
        }
    };
    page.page(StatusCode::OK, t("gallery"), body)
}
