//! `GET /app/gallery`: a day's photos by store (paged previews), and its possible-reuse findings
//! in words with the photos side by side.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;

use super::{WithNames, read_with_names};
use crate::clock::now_ms;
use crate::messages::{NameTable, render};
use crate::store::Store;
use crate::values::photo_kind;
use crate::web::components::{
    DayNav, Pager, badge_html, day_nav, message_photos, pager, tech_details, thumb_link, visit_href,
};
use crate::web::exception_view::state_chip;
use crate::web::extract::{PageQuery, SignedIn, Viewer, opt_day, opt_page, trimmed};
use crate::web::read::gallery::{GALLERY_PAGE, GalleryPhoto, ReuseFinding, gallery};
use crate::web::read::names::Names;
use crate::web::read::visits::default_day;
use crate::web::{day_string, fmt_time, url_enc};

#[derive(Deserialize)]
pub struct GalleryQuery {
    #[serde(default, deserialize_with = "opt_day")]
    date: Option<i64>,
    #[serde(default, deserialize_with = "opt_page")]
    page: Option<u32>,
    #[serde(default, deserialize_with = "trimmed")]
    store: String,
}

/// A possible-reuse finding in words (`messages::render`): its sentence, this photo and the
/// similar ones as previews, a link to the visit, and its ids and hashes folded away.
fn reuse_html(page: &Viewer, names: &NameTable, f: &ReuseFinding) -> Markup {
    let m = render(page.lang, "possible_reuse", f.params.as_ref(), names);
    let closed = f.status.is_closed();
    html! {
        div class={ "reuse" @if closed { " closed" } } data-status=(f.status.as_str()) {
            p { (state_chip(page.lang, f.status)) " " strong { (m.title) } " " (m.sentence) }
            (message_photos(&m.photos))
            @for sha in &f.legacy_shas { (thumb_link(sha, page.t("this_photo"))) }
            @if f.hidden > 0 {
                p.muted { (page.t("other_team_photos")) }
            }
            @if let Some(v) = &f.visit_id {
                p { a href=(visit_href(v)) { (page.t("open_visit")) } }
            }
            (tech_details(page.lang, &m.technical))
        }
    }
}

fn photo_card(page: &Viewer, names: &Names, p: &GalleryPhoto) -> Markup {
    let kind = photo_kind(page.lang, &p.kind);
    html! {
        div.card {
            @if p.received { (thumb_link(&p.sha256, &kind)) }
            p {
                a href=(visit_href(&p.visit_id)) { (fmt_time(page.cal, p.visit_started)) }
                " · " (names.user(&p.user_id)) " · " (kind) " "
                (badge_html(page.lang, p.received, p.verified, p.problems.as_deref(), p.key_revoked_later, &p.open_codes))
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
    let (cal, lang) = (page.cal, page.lang);
    let today = cal.day_of(now_ms());
    let asked_day = q.date;
    let scope = user.scope().map(str::to_string);
    let store_filter = q.store.clone();
    let asked = u64::from(q.page.unwrap_or(1));
    let read = read_with_names(&store, move |c| {
        let day = match asked_day {
            Some(d) => d,
            None => default_day(c, cal, scope.as_deref(), today)?,
        };
        Ok((
            day,
            gallery(
                c,
                lang,
                scope.as_deref(),
                cal.day_bounds(day),
                &store_filter,
                asked,
            )?,
        ))
    })
    .await;
    let WithNames {
        names,
        data: (day, g),
    } = match read {
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
    let controls = html! {
        label { (t("store")) " "
            select name="store" {
                option value="" { (t("all")) }
                @for id in names.store_ids() {
                    option value=(id) selected[id == q.store] { (names.store(&id)) }
                }
            }
        }
    };
    let keep = [("store", q.store.as_str())];
    let nav = day_nav(
        page.lang,
        DayNav {
            path: "/app/gallery",
            day,
            today,
            keep: &keep,
            controls,
        },
    );
    let table = names.table(g.reuse_photos.clone(), HashMap::new());
    let body = html! {
        (nav)
        h2 { (t("reuse_pairs")) }
        @if g.reuse.is_empty() {
            p.muted { (t("none")) }
        }
        @for f in &g.reuse {
            (reuse_html(&page, &table, f))
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
