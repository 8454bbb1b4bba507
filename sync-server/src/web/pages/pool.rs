//! `GET /app/pool?region=&page=`: the pool (公海): customers nobody owns, any rep of the
//! territory may claim; when each was released, by whom and why (by its rep, by the 7-day rule
//! without a real interaction, or imported without an owner), the most recent first, 50 a
//! page. A supervisor sees the pool of their team's territories.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;
use serde::Deserialize;

use super::{WithNames, read_with_names};
use crate::store::Store;
use crate::web::components::{Pager, pager};
use crate::web::extract::{PageQuery, SignedIn, opt_page, trimmed};
use crate::web::pages::customers::{warning, words_or_text};
use crate::web::pages::pipeline::{customer_href, grade_chip, stage_label};
use crate::web::read::customers::pool_list;
use crate::web::read::pipeline::{Territories, pipeline_config};
use crate::web::{fmt_datetime, url_enc};

pub const PAGE: u64 = 50;

#[derive(Deserialize)]
pub struct PoolQuery {
    #[serde(default, deserialize_with = "trimmed")]
    region: String,
    #[serde(default, deserialize_with = "opt_page")]
    page: Option<u32>,
}

pub async fn page(
    State(store): State<Arc<Store>>,
    who: SignedIn,
    PageQuery(q): PageQuery<PoolQuery>,
) -> Response {
    let SignedIn { user, page } = who;
    let scope = user.scope().map(str::to_string);
    let asked = u64::from(q.page.unwrap_or(1));
    let region = q.region.clone();
    let read = read_with_names(&store, move |c| {
        let mut list = pool_list(c, scope.as_deref(), &region, (asked - 1) * PAGE, PAGE)?;
        let last = (list.total as u64).div_ceil(PAGE).max(1);
        let shown = asked.min(last);
        if shown != asked {
            list = pool_list(c, scope.as_deref(), &region, (shown - 1) * PAGE, PAGE)?;
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
    let base = if q.region.is_empty() {
        "/app/pool?".to_string()
    } else {
        format!("/app/pool?region={}&", url_enc(&q.region))
    };
    let href = |n: u64| format!("{base}page={n}");
    let pool_pager = pager(
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
        p.muted { (t("pool_note")) }
        form.filters method="get" action="/app/pool" id="pool-filters" {
            label { (t("region")) " "
                select name="region" {
                    option value="" { (t("any")) }
                    @for r in &list.regions { option value=(r) selected[*r == q.region] { (terr.name(r)) } }
                }
            }
            button { (t("filter")) }
        }
        @if list.rows.is_empty() {
            p.muted id="pool-empty" { (t("no_pool")) }
        } @else {
            (pool_pager)
            table.rows id="pool" {
                thead { tr {
                    th { (t("customer")) } th { (t("region")) } th { (t("stage")) } th { (t("customer_health")) }
                    th { (t("released")) } th { (t("released_by")) } th { (t("why")) }
                } }
                tbody {
                    @for p in &list.rows {
                        @let c = &p.customer;
                        tr {
                            td.name data-label=(t("customer")) {
                                a href=(customer_href(&c.id)) { (c.name) }
                                @if let Some(co) = &c.company { br; span.muted { (co) } }
                            }
                            td data-label=(t("region")) { (c.region.as_deref().map(|r| terr.name(r)).unwrap_or_default()) }
                            td data-label=(t("stage")) { (stage_label(page.lang, &cfg, &c.stage)) }
                            td data-label=(t("customer_health")) { (grade_chip(&page, c.health_grade.as_deref())) " " (warning(&page, c.warning)) }
                            td.nowrap data-label=(t("released")) {
                                @if let Some(at) = p.at_ms { (fmt_datetime(page.cal, at)) } @else { span.muted { "–" } }
                            }
                            td.name data-label=(t("released_by")) {
                                @match (&p.kind, &p.by) {
                                    (Some(k), _) if k == "auto_release" => span.muted { (t("by_rule")) },
                                    (_, Some(u)) => (names.user(u)),
                                    _ => span.muted { (t("by_head_office")) },
                                }
                            }
                            td data-label=(t("why")) {
                                @if let Some(k) = &p.kind {
                                    @let key = format!("event_{k}");
                                    @let w = page.t(&key);
                                    (if w == key { page.t("state_other") } else { w })
                                }
                                @if let Some(r) = &p.reason { br; span.muted.comment { (words_or_text(&page, r)) } }
                            }
                        }
                    }
                }
            }
            @if list.rows.len() > 12 { (pool_pager) }
        }
    };
    page.page(StatusCode::OK, t("pool_title"), body)
}
