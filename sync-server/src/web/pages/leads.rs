//! `GET /app/leads?tab=&q=&rep=&region=&source=&page=`: leads (线索) by tab — new (not
//! routed), waiting for the assigned rep's claim (with the time left), overdue (the deadline
//! passed unclaimed), in the pool, all — with their counts, filters and 50 a page. Each row
//! says who it is with and what happened to it; ids only under 技术信息.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;

use super::{WithNames, read_with_names};
use crate::clock::now_ms;
use crate::store::Store;
use crate::web::components::{Pager, pager, tech_details};
use crate::web::extract::{PageQuery, SignedIn, Viewer, opt_page, trimmed};
use crate::web::pages::pipeline::customer_href;
use crate::web::read::leads::{LeadFilter, LeadRow, LeadTab, lead_list};
use crate::web::read::names::Names;
use crate::web::read::pipeline::Territories;
use crate::web::{fmt_datetime, url_enc};

pub const PAGE: u64 = 50;

#[derive(Deserialize)]
pub struct LeadsQuery {
    #[serde(default, deserialize_with = "trimmed")]
    tab: String,
    #[serde(default, deserialize_with = "trimmed")]
    q: String,
    #[serde(default, deserialize_with = "trimmed")]
    rep: String,
    #[serde(default, deserialize_with = "trimmed")]
    region: String,
    #[serde(default, deserialize_with = "trimmed")]
    source: String,
    #[serde(default, deserialize_with = "opt_page")]
    page: Option<u32>,
}

/// "2 h 05 min" / "2 小时 05 分".
fn duration_words(lang_t: &dyn Fn(&str) -> String, ms: i64) -> String {
    let minutes = (ms / 60_000).max(0);
    let (h, m) = (minutes / 60, minutes % 60);
    if h > 0 {
        lang_t("hours_minutes")
            .replace("{h}", &h.to_string())
            .replace("{m}", &format!("{m:02}"))
    } else {
        lang_t("minutes_only").replace("{m}", &m.to_string())
    }
}

/// Where the lead's response clock stands at `now`.
pub fn countdown(page: &Viewer, l: &LeadRow, now: i64) -> Markup {
    let t = |k: &str| page.t(k).to_string();
    match (l.state.as_str(), l.deadline_ms, l.claimed_ms) {
        (_, Some(d), Some(c)) => {
            if l.responded_in_time == Some(false) || c > d {
                html! { span.bad { (t("claimed_late")) } }
            } else {
                html! { span.ok { (t("claimed_in_time")) } }
            }
        }
        ("assigned", Some(d), None) if d >= now => {
            html! { span.nowrap data-left=((d - now) / 60_000) { (t("time_left").replace("{time}", &duration_words(&t, d - now))) } }
        }
        (_, Some(d), None) if d < now => {
            html! { span.bad.nowrap { (t("overdue_by").replace("{time}", &duration_words(&t, now - d))) } }
        }
        _ => html! { span.muted { "–" } },
    }
}

fn state_words(page: &Viewer, state: &str) -> String {
    let k = format!("lead_{state}");
    let w = page.t(&k);
    if w == k {
        page.t("state_other").to_string()
    } else {
        w.to_string()
    }
}

fn table(page: &Viewer, names: &Names, terr: &Territories, rows: &[LeadRow], now: i64) -> Markup {
    let t = |k| page.t(k);
    html! {
        table.rows id="leads" {
            thead { tr {
                th { (t("lead")) } th { (t("company")) } th { (t("region")) } th { (t("source")) }
                th { (t("lead_state")) } th { (t("with_rep")) } th { (t("deadline")) } th { (t("created")) }
            } }
            tbody {
                @for l in rows {
                    tr data-lead-state=(l.state) {
                        td.name data-label=(t("lead")) {
                            (l.name)
                            (tech_details(page.lang, &[(t("lead_id").to_string(), l.id.clone())]))
                        }
                        td.name data-label=(t("company")) { (l.company.clone().unwrap_or_default()) }
                        td data-label=(t("region")) { (l.region.as_deref().map(|r| terr.name(r)).unwrap_or_default()) }
                        td data-label=(t("source")) { (l.source.clone().unwrap_or_default()) }
                        td data-label=(t("lead_state")) {
                            (state_words(page, &l.state))
                            @if let Some(cid) = &l.customer_id {
                                " · " a href=(customer_href(cid)) { (t("open_customer")) }
                            }
                        }
                        td.name data-label=(t("with_rep")) {
                            @match &l.assigned_rep {
                                Some(r) => { (names.user(r)) @if let Some(a) = l.assigned_ms { br; span.muted { (t("assigned_at")) " " (fmt_datetime(page.cal, a)) } } },
                                None => span.muted { (t("nobody_yet")) },
                            }
                        }
                        td data-label=(t("deadline")) {
                            (countdown(page, l, now))
                            @if let Some(d) = l.deadline_ms { br; span.muted.nowrap { (fmt_datetime(page.cal, d)) } }
                        }
                        td.nowrap data-label=(t("created")) { (fmt_datetime(page.cal, l.created_ms)) }
                    }
                }
            }
        }
    }
}

pub async fn page(
    State(store): State<Arc<Store>>,
    who: SignedIn,
    PageQuery(q): PageQuery<LeadsQuery>,
) -> Response {
    let SignedIn { user, page } = who;
    let tab = match q.tab.as_str() {
        "" => LeadTab::Waiting,
        s => match LeadTab::parse(s) {
            Some(t) => t,
            None => return page.bad_request(page.t("bad_tab")),
        },
    };
    let filter = LeadFilter {
        q: q.q.clone(),
        rep: q.rep.clone(),
        region: q.region.clone(),
        source: q.source.clone(),
    };
    let scope = user.scope().map(str::to_string);
    let now = now_ms();
    let asked = u64::from(q.page.unwrap_or(1));
    let f = filter.clone();
    let read = read_with_names(&store, move |c| {
        let first = lead_list(c, scope.as_deref(), tab, &f, now, (asked - 1) * PAGE, PAGE)?;
        // Past the end shows the last page.
        let last = (first.total as u64).div_ceil(PAGE).max(1);
        if asked > last {
            let again = lead_list(c, scope.as_deref(), tab, &f, now, (last - 1) * PAGE, PAGE)?;
            return Ok((again, last, Territories::load(c)?));
        }
        Ok((first, asked, Territories::load(c)?))
    })
    .await;
    let WithNames {
        names,
        data: (list, shown_page, terr),
    } = match read {
        Ok(d) => d,
        Err(e) => return page.error(&e),
    };
    let t = |k| page.t(k);
    let keep = |tab: LeadTab| {
        let mut parts = vec![format!("tab={}", tab.as_str())];
        for (k, v) in [
            ("q", &q.q),
            ("rep", &q.rep),
            ("region", &q.region),
            ("source", &q.source),
        ] {
            if !v.is_empty() {
                parts.push(format!("{k}={}", url_enc(v)));
            }
        }
        format!("/app/leads?{}", parts.join("&"))
    };
    let href = |n: u64| format!("{}&page={n}", keep(tab));
    let leads_pager = pager(
        page.lang,
        &Pager {
            range_key: "leads_range",
            page: shown_page,
            page_size: PAGE,
            shown: list.rows.len() as u64,
            total: list.total as u64,
            href: &href,
        },
    );
    let body = html! {
        p.muted { (t("leads_note")) }
        nav.tabs aria-label=(t("lead_state")) {
            @for (tb, n) in &list.counts {
                @let label = page.t(&format!("tab_{}", tb.as_str())).to_string();
                @if *tb == tab {
                    a.cur href=(keep(*tb)) aria-current="page" data-tab=(tb.as_str()) { (label) " " span.n { (n) } }
                } @else {
                    a href=(keep(*tb)) data-tab=(tb.as_str()) { (label) " " span.n { (n) } }
                }
            }
        }
        form.filters method="get" action="/app/leads" id="lead-filters" {
            input type="hidden" name="tab" value=(tab.as_str());
            label.search { (t("search")) " " input type="search" name="q" value=(q.q) placeholder=(t("lead_search_hint")); }
            label { (t("with_rep")) " "
                select name="rep" {
                    option value="" { (t("any")) }
                    @for r in &list.reps { option value=(r) selected[*r == q.rep] { (names.user(r)) } }
                }
            }
            label { (t("region")) " "
                select name="region" {
                    option value="" { (t("any")) }
                    @for r in &list.regions { option value=(r) selected[*r == q.region] { (terr.name(r)) } }
                }
            }
            label { (t("source")) " "
                select name="source" {
                    option value="" { (t("any")) }
                    @for s in &list.sources { option value=(s) selected[*s == q.source] { (s) } }
                }
            }
            button { (t("filter")) }
        }
        @if list.rows.is_empty() {
            p.muted id="leads-empty" { (t("no_leads")) }
        } @else {
            (leads_pager)
            (table(&page, &names, &terr, &list.rows, now))
            @if list.rows.len() > 12 { (leads_pager) }
        }
    };
    page.page(StatusCode::OK, t("leads_title"), body)
}
