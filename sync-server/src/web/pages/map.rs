//! `GET /app/map`: a day on a map, per team or rep: the stores coloured by plan status (planned,
//! visited, missed, visited without a plan) with their geofence circles, each rep's check-ins
//! joined in time order (one colour per rep), check-ins outside the fence and mock locations
//! drawn as their own symbols, every check-in a link to its visit with its words as a tooltip.
//! Under the map the same check-ins as a list (for a phone and for screen readers).
//!
//! No script: the server projects the points (Web Mercator, north up) into an inline SVG.
//! Without a tile server it is drawn from the data alone (works offline), with a scale bar;
//! with `--map-tiles` the tiles covering the view are positioned `<img>`s behind the SVG, and
//! the points are converted to GCJ-02 first when the tiles are (AMap, Tencent).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;

use super::{WithNames, read_with_names};
use crate::clock::now_ms;
use crate::geo::{Bounds, Datum, TileSource, Viewport};
use crate::store::Store;
use crate::values;
use crate::web::components::{DayNav, day_nav, visit_href};
use crate::web::extract::{PageQuery, SignedIn, Viewer, opt_day, trimmed};
use crate::web::layout::allow_images_from;
use crate::web::read::map::{MapChoices, MapDay, MapStore, MapVisit, StoreStatus, map_choices, map_day};
use crate::web::read::names::Names;
use crate::web::read::plans::PlanFilter;
use crate::web::read::visits::default_day;
use crate::web::{day_string, fmt_time};

#[derive(Deserialize)]
pub struct MapQuery {
    #[serde(default, deserialize_with = "opt_day")]
    date: Option<i64>,
    /// A team's code.
    #[serde(default, deserialize_with = "trimmed")]
    team: String,
    /// A rep's id.
    #[serde(default, deserialize_with = "trimmed")]
    rep: String,
}

/// The drawing's size in pixels (it scales with the page; the tiles scale with it).
const W: f64 = 960.0;
const H: f64 = 600.0;
/// Room kept free around the points (symbols, the scale bar).
const PAD: f64 = 56.0;
/// Zooms the map chooses from: a country at most, a street at least (tile servers serve up
/// to 18; 17 still shows a store's neighbourhood).
const MIN_ZOOM: u8 = 3;
const MAX_ZOOM: u8 = 17;

/// The most check-ins one map draws and lists. Head office's busiest day (3,344 visits of
/// ~200 reps) would be a 3 MB page of 200 tangled routes in eight colours; past this the page
/// gives the day's counts and asks for a team or a rep (the filter is beside the date).
const MAX_CHECKINS: usize = 600;

/// Route colours, one per rep in name order (a ninth rep shares the first's colour; the
/// legend and the list name the rep).
const REP_COLOURS: [&str; 8] = [
    "#2b6cb0", "#d53f8c", "#dd6b20", "#2c7a7b", "#6b46c1", "#744210", "#1a202c", "#0987a0",
];

fn status_colour(s: StoreStatus) -> &'static str {
    match s {
        StoreStatus::Planned => "#829ab1",
        StoreStatus::Visited => "#2f855a",
        StoreStatus::Missed => "#c53030",
        StoreStatus::Unplanned => "#d69e2e",
    }
}

fn status_key(s: StoreStatus) -> String {
    format!("map_status_{}", s.as_str())
}

/// A route stop's marks in words.
fn marks(page: &Viewer, v: &MapVisit) -> Vec<String> {
    let mut out = Vec::new();
    if v.outside {
        let mut w = page.t("map_outside").to_string();
        if let Some(d) = v.distance_m {
            w.push_str(&format!(
                " ({})",
                page.t("map_from_store")
                    .replace("{m}", &values::metres(page.lang, d))
            ));
        }
        out.push(w);
    }
    if v.mock {
        out.push(page.t("map_mock").to_string());
    }
    if v.late {
        out.push(page.t("map_late").to_string());
    }
    if !v.planned {
        out.push(page.t("map_status_unplanned").to_string());
    }
    if v.fix.is_none() {
        out.push(page.t("map_no_fix").to_string());
    }
    out
}

/// `data-marks`: the marks as stable words for tests and styles.
fn mark_codes(v: &MapVisit) -> String {
    let mut m: Vec<&str> = Vec::new();
    if v.outside {
        m.push("outside");
    }
    if v.mock {
        m.push("mock");
    }
    if v.late {
        m.push("late");
    }
    if !v.planned {
        m.push("unplanned");
    }
    if v.fix.is_none() {
        m.push("nofix");
    }
    m.join(" ")
}

/// A check-in's symbol at (x, y): a circle, a triangle when outside the fence; a dashed red
/// ring around it for a mock location. `label`: the order number inside.
fn checkin_symbol(x: f64, y: f64, colour: &str, outside: bool, mock: bool, label: &str) -> Markup {
    let tri = format!(
        "{:.1},{:.1} {:.1},{:.1} {:.1},{:.1}",
        x,
        y - 13.0,
        x + 12.0,
        y + 8.0,
        x - 12.0,
        y + 8.0
    );
    html! {
        @if mock {
            circle.mock-ring cx=(f1(x)) cy=(f1(y)) r="15" fill="none" stroke="#c53030" stroke-width="3" stroke-dasharray="4 3" {}
        }
        @if outside {
            polygon.outside points=(tri) fill=(colour) stroke="#fff" stroke-width="2" {}
        } @else {
            circle cx=(f1(x)) cy=(f1(y)) r="9.5" fill=(colour) stroke="#fff" stroke-width="2" {}
        }
        @if !label.is_empty() {
            text x=(f1(x)) y=(f1(y + if outside { 5.5 } else { 3.5 })) text-anchor="middle" font-size="10"
                font-weight="700" fill="#fff" { (label) }
        }
    }
}

fn store_symbol(x: f64, y: f64, s: StoreStatus) -> Markup {
    html! {
        rect x=(f1(x - 5.5)) y=(f1(y - 5.5)) width="11" height="11" rx="2" fill=(status_colour(s)) stroke="#fff" stroke-width="1.5" {}
    }
}

/// One decimal is finer than a screen pixel.
fn f1(v: f64) -> String {
    format!("{v:.1}")
}

/// A round length (1, 2 or 5 × 10ⁿ m) at most `max_m` long.
fn round_length(max_m: f64) -> f64 {
    let p = 10f64.powf(max_m.log10().floor());
    [5.0, 2.0, 1.0]
        .into_iter()
        .map(|k| k * p)
        .find(|l| *l <= max_m)
        .unwrap_or(p)
}

/// The scale bar (bottom left) and the north arrow (top right).
fn scale_and_north(page: &Viewer, view: &Viewport) -> Markup {
    let m_per_px = view.metres_per_px();
    let metres = round_length(m_per_px * 140.0);
    let px = metres / m_per_px;
    let (x, y) = (16.0, H - 18.0);
    html! {
        g.scale data-metres=(metres) {
            rect x=(f1(x - 6.0)) y=(f1(y - 22.0)) width=(f1(px + 12.0)) height="30" fill="#fff" fill-opacity=".8" rx="3" {}
            path d=(format!("M{:.1} {:.1}v6h{:.1}v-6", x, y - 6.0, px)) fill="none" stroke="#1f2933" stroke-width="2" {}
            text x=(f1(x)) y=(f1(y - 10.0)) font-size="12" fill="#1f2933" { (values::metres(page.lang, metres)) }
        }
        g.north {
            circle cx=(f1(W - 28.0)) cy="30" r="18" fill="#fff" fill-opacity=".8" {}
            path d=(format!("M{:.1} 14l7 18h-14z", W - 28.0)) fill="#1f2933" {}
            text x=(f1(W - 28.0)) y="44" text-anchor="middle" font-size="11" font-weight="700" fill="#1f2933" { (page.t("map_north")) }
        }
    }
}

/// Where each thing is drawn: the viewport and every point in the tiles' datum.
struct Drawing<'a> {
    view: Viewport,
    datum: Datum,
    day: &'a MapDay,
}

impl Drawing<'_> {
    fn store_xy(&self, s: &MapStore) -> (f64, f64) {
        let (lat, lon) = self.datum.from_wgs84(s.lat, s.lon);
        self.view.project(lat, lon)
    }

    /// A check-in's place: its fix, else its store's.
    fn visit_xy(&self, v: &MapVisit) -> Option<(f64, f64)> {
        let (lat, lon) = match v.fix {
            Some(p) => p,
            None => {
                let s = self.day.stores.iter().find(|s| s.id == v.store_id)?;
                (s.lat, s.lon)
            }
        };
        let (lat, lon) = self.datum.from_wgs84(lat, lon);
        Some(self.view.project(lat, lon))
    }

    /// Every check-in's drawn place, by visit id. Check-ins on top of one another (a rep's
    /// two visits to one store, two reps at one door) are moved apart round the first, so
    /// each number can be read and clicked; the list and the tooltips keep the true order.
    fn checkin_places(&self) -> HashMap<&str, (f64, f64)> {
        const NEAR: f64 = 10.0;
        const STEP: f64 = 16.0;
        // Where each check-in really is: the crowd is counted there, not where it was drawn.
        let mut true_places: Vec<(f64, f64)> = Vec::new();
        let mut out = HashMap::new();
        for v in self.day.routes.iter().flat_map(|r| r.visits.iter()) {
            let Some((x, y)) = self.visit_xy(v) else { continue };
            let crowd = true_places
                .iter()
                .filter(|(px, py)| (px - x).hypot(py - y) < NEAR)
                .count();
            true_places.push((x, y));
            let (x, y) = if crowd == 0 {
                (x, y)
            } else {
                // Round the first, a sixth of a turn apart, further out after six.
                let k = crowd as f64;
                let angle = k * std::f64::consts::PI / 3.0 - std::f64::consts::FRAC_PI_2;
                let r = STEP * (1.0 + ((crowd - 1) / 6) as f64);
                (x + r * angle.cos(), y + r * angle.sin())
            };
            out.insert(v.id.as_str(), (x, y));
        }
        out
    }

    fn new(day: &MapDay, datum: Datum) -> Option<Drawing<'_>> {
        let stores = day.stores.iter().map(|s| (s.lat, s.lon));
        let fixes = day
            .routes
            .iter()
            .flat_map(|r| r.visits.iter())
            .filter_map(|v| v.fix);
        let b = Bounds::around(stores.chain(fixes).map(|(lat, lon)| datum.from_wgs84(lat, lon)))?;
        Some(Drawing {
            view: Viewport::fit(&b, W, H, PAD, MIN_ZOOM, MAX_ZOOM),
            datum,
            day,
        })
    }
}

/// The reps of the day's routes with their colours, in name order.
fn rep_colours<'a>(names: &Names, day: &'a MapDay) -> Vec<(&'a str, String, &'static str)> {
    let mut reps: Vec<(&str, String)> = day
        .routes
        .iter()
        .map(|r| (r.rep_id.as_str(), names.user(&r.rep_id)))
        .collect();
    reps.sort_by(|a, b| (&a.1, a.0).cmp(&(&b.1, b.0)));
    reps.into_iter()
        .enumerate()
        .map(|(i, (id, name))| (id, name, REP_COLOURS[i % REP_COLOURS.len()]))
        .collect()
}

fn tooltip_store(page: &Viewer, names: &Names, s: &MapStore) -> String {
    let reps: Vec<String> = s.reps.iter().map(|r| names.user(r)).collect();
    let mut t = format!("{} · {}", names.store(&s.id), page.t(&status_key(s.status)));
    if let Some(w) = &s.window {
        t.push_str(&format!(" · {}", page.t("map_window").replace("{w}", w)));
    }
    if s.late {
        t.push_str(&format!(" · {}", page.t("map_late")));
    }
    if !reps.is_empty() {
        t.push_str(&format!(" · {}", reps.join("、")));
    }
    t
}

fn tooltip_visit(page: &Viewer, names: &Names, v: &MapVisit, order: usize) -> String {
    let mut t = format!(
        "{}. {} · {} · {}",
        order,
        names.store(&v.store_id),
        names.user(&v.rep_id),
        fmt_time(page.cal, v.started)
    );
    for m in marks(page, v) {
        t.push_str(&format!(" · {m}"));
    }
    t
}

fn map_svg(
    page: &Viewer,
    names: &Names,
    d: &Drawing<'_>,
    colours: &[(&str, String, &str)],
    tiles: bool,
) -> Markup {
    let colour_of = |rep: &str| {
        colours
            .iter()
            .find(|(id, _, _)| *id == rep)
            .map_or(REP_COLOURS[0], |(_, _, c)| *c)
    };
    let z = d.view.z;
    let places = d.checkin_places();
    html! {
        svg viewBox=(format!("0 0 {W} {H}")) role="img" aria-label=(page.t("map_label")) data-zoom=(z)
            data-datum=(match d.datum { Datum::Wgs84 => "wgs84", Datum::Gcj02 => "gcj02" }) {
            @if !tiles {
                rect width=(W) height=(H) fill="#eef2f7" {}
            }
            // Geofences under everything: the store's radius at this zoom and latitude.
            @for s in &d.day.stores {
                @let (x, y) = d.store_xy(s);
                @let r = s.radius_m / crate::geo::metres_per_px(s.lat, z);
                circle.fence data-store=(s.id) cx=(f1(x)) cy=(f1(y)) r=(f1(r.max(1.0)))
                    fill=(status_colour(s.status)) fill-opacity=".12" stroke=(status_colour(s.status)) stroke-width="1.5" stroke-dasharray="5 4" {}
            }
            @for route in &d.day.routes {
                @let pts: Vec<String> = route.visits.iter().filter_map(|v| places.get(v.id.as_str())).map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
                @let ids: Vec<&str> = route.visits.iter().map(|v| v.id.as_str()).collect();
                @if pts.len() > 1 {
                    polyline.route data-rep=(route.rep_id) data-visits=(ids.join(" ")) points=(pts.join(" "))
                        fill="none" stroke=(colour_of(&route.rep_id)) stroke-width="3.5" stroke-opacity=".85"
                        stroke-linejoin="round" stroke-linecap="round" {}
                }
            }
            @for s in &d.day.stores {
                @let (x, y) = d.store_xy(s);
                @let tip = tooltip_store(page, names, s);
                @if let Some(v) = &s.visit_id {
                    a.store href=(visit_href(v)) data-store=(s.id) data-status=(s.status.as_str()) {
                        title { (tip) }
                        (store_symbol(x, y, s.status))
                    }
                } @else {
                    g.store data-store=(s.id) data-status=(s.status.as_str()) {
                        title { (tip) }
                        (store_symbol(x, y, s.status))
                    }
                }
            }
            @for route in &d.day.routes {
                @for (i, v) in route.visits.iter().enumerate() {
                    @if let Some(&(x, y)) = places.get(v.id.as_str()) {
                        a.visit href=(visit_href(&v.id)) data-visit=(v.id) data-rep=(v.rep_id) data-order=(i + 1)
                            data-marks=(mark_codes(v)) {
                            title { (tooltip_visit(page, names, v, i + 1)) }
                            (checkin_symbol(x, y, colour_of(&v.rep_id), v.outside, v.mock, &(i + 1).to_string()))
                        }
                    }
                }
            }
            (scale_and_north(page, &d.view))
        }
    }
}

/// A legend entry's small drawing.
fn swatch(inner: Markup) -> Markup {
    html! { svg width="30" height="30" viewBox="0 0 30 30" aria-hidden="true" { (inner) } }
}

fn legend(page: &Viewer, colours: &[(&str, String, &str)]) -> Markup {
    let t = |k| page.t(k);
    html! {
        div.map-legend aria-label=(t("map_legend")) {
            strong { (t("map_stores")) }
            @for s in StoreStatus::ALL {
                span data-legend=(s.as_str()) { (swatch(store_symbol(15.0, 15.0, s))) (page.t(&status_key(s))) }
            }
            span data-legend="fence" {
                (swatch(html! { circle cx="15" cy="15" r="12" fill="#829ab1" fill-opacity=".12" stroke="#829ab1" stroke-width="1.5" stroke-dasharray="5 4" {} }))
                (t("map_geofence"))
            }
        }
        div.map-legend {
            strong { (t("map_marks_legend")) }
            span data-legend="checkin" { (swatch(checkin_symbol(15.0, 15.0, "#52606d", false, false, ""))) (t("map_checkin")) }
            span data-legend="outside" { (swatch(checkin_symbol(15.0, 16.0, "#52606d", true, false, ""))) (t("map_outside")) }
            span data-legend="mock" { (swatch(checkin_symbol(15.0, 15.0, "#52606d", false, true, ""))) (t("map_mock")) }
        }
        @if !colours.is_empty() {
            div.map-legend {
                strong { (t("map_routes")) }
                @for (id, name, colour) in colours {
                    span data-legend-rep=(id) {
                        (swatch(html! { path d="M2 15h26" stroke=(colour) stroke-width="4" {} circle cx="15" cy="15" r="6" fill=(colour) {} }))
                        (name)
                    }
                }
            }
        }
    }
}

/// The tiles behind the drawing: positioned in percent of the drawing so they scale with it.
fn tile_images(src: &TileSource, view: &Viewport) -> Markup {
    html! {
        @for tile in view.tiles() {
            img.tile src=(src.url(tile.z, tile.x, tile.y)) alt="" data-tile=(format!("{}/{}/{}", tile.z, tile.x, tile.y))
                style=(format!("left:{:.4}%;top:{:.4}%", tile.left / W * 100.0, tile.top / H * 100.0));
        }
    }
}

/// The check-ins as a table, route by route.
fn point_list(page: &Viewer, names: &Names, day: &MapDay, colours: &[(&str, String, &str)]) -> Markup {
    let t = |k| page.t(k);
    html! {
        table.rows.map-list {
            thead { tr {
                th { (t("rep")) } th { (t("map_order")) } th { (t("time")) } th { (t("store")) } th { (t("map_marks")) } th {}
            } }
            tbody {
                @for (rep, name, _) in colours {
                    @if let Some(route) = day.routes.iter().find(|r| r.rep_id == *rep) {
                        @for (i, v) in route.visits.iter().enumerate() {
                            tr data-visit=(v.id) data-rep=(v.rep_id) data-order=(i + 1) data-marks=(mark_codes(v)) {
                                td.name data-label=(t("rep")) { (name) }
                                td data-label=(t("map_order")) { (i + 1) }
                                td.nowrap data-label=(t("time")) { (fmt_time(page.cal, v.started)) }
                                td.name data-label=(t("store")) { (names.store(&v.store_id)) }
                                td data-label=(t("map_marks")) {
                                    @for m in marks(page, v) { span.flag { (m) } " " }
                                }
                                td data-label="" { a href=(visit_href(&v.id)) { (t("open")) } }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn missed_list(page: &Viewer, names: &Names, day: &MapDay) -> Markup {
    let missed: Vec<&MapStore> = day
        .stores
        .iter()
        .filter(|s| s.status == StoreStatus::Missed)
        .collect();
    let t = |k| page.t(k);
    html! {
        @if !missed.is_empty() {
            h2 { (t("map_missed")) }
            table.rows.map-missed {
                thead { tr { th { (t("store")) } th { (t("map_planned_by")) } } }
                tbody {
                    @for s in missed {
                        tr data-store=(s.id) {
                            td.name data-label=(t("store")) { (names.store(&s.id)) }
                            td.name data-label=(t("map_planned_by")) {
                                (s.reps.iter().map(|r| names.user(r)).collect::<Vec<_>>().join("、"))
                            }
                        }
                    }
                }
            }
        }
    }
}

fn filter_controls(page: &Viewer, q: &MapQuery, c: &MapChoices) -> Markup {
    let t = |k| page.t(k);
    html! {
        @if !c.teams.is_empty() {
            label { (t("team")) " "
                select name="team" {
                    option value="" { (t("all")) }
                    @for (code, name) in &c.teams {
                        option value=(code) selected[*code == q.team] { (name) }
                    }
                }
            }
        }
        label { (t("rep")) " "
            select name="rep" {
                option value="" { (t("all")) }
                @for (id, name) in &c.reps {
                    option value=(id) selected[*id == q.rep] { (name) }
                }
            }
        }
    }
}

pub async fn page(
    State(store): State<Arc<Store>>,
    who: SignedIn,
    PageQuery(q): PageQuery<MapQuery>,
) -> Response {
    let SignedIn { user, page } = who;
    let cal = page.cal;
    let today = cal.day_of(now_ms());
    let asked = q.date;
    let scope = user.scope().map(str::to_string);
    let filter = PlanFilter {
        team: Some(q.team.clone()).filter(|s| !s.is_empty()),
        territory: None,
        rep: Some(q.rep.clone()).filter(|s| !s.is_empty()),
    };
    let read = read_with_names(&store, move |c| {
        let day = match asked {
            Some(d) => d,
            None => default_day(c, cal, scope.as_deref(), today)?,
        };
        let map = map_day(c, cal, scope.as_deref(), day, today, &filter)?;
        Ok((day, map, map_choices(c, scope.as_deref())?))
    })
    .await;
    let WithNames {
        names,
        data: (day, map, choices),
    } = match read {
        Ok(d) => d,
        Err(e) => return page.error(&e),
    };
    let t = |k| page.t(k);
    let tiles = store.limits().map_tiles.clone();
    let datum = tiles.as_ref().map_or(Datum::Wgs84, |t| t.datum);
    let colours = rep_colours(&names, &map);
    let keep = [("team", q.team.as_str()), ("rep", q.rep.as_str())];
    let nav = day_nav(
        page.lang,
        DayNav {
            path: "/app/map",
            day,
            today,
            keep: &keep,
            controls: filter_controls(&page, &q, &choices),
        },
    );
    let count = |s: StoreStatus| map.stores.iter().filter(|x| x.status == s).count();
    let checkins: usize = map.routes.iter().map(|r| r.visits.len()).sum();
    let unplanned_checkins: usize = map
        .routes
        .iter()
        .flat_map(|r| r.visits.iter())
        .filter(|v| !v.planned)
        .count();
    let drawing = Drawing::new(&map, datum);
    let cards = html! {
        div.cards {
            @for s in StoreStatus::ALL {
                // Stores by status; a store visited twice counts once.
                div.card data-count=(s.as_str()) {
                    (t("map_stores")) " · " (page.t(&status_key(s))) ": " strong { (count(s)) }
                }
            }
            div.card data-count="checkins" { (t("map_marks_legend")) ": " strong { (checkins) } }
            // Check-ins that fulfil no plan (a second visit of a planned store among them).
            div.card data-count="unplanned-checkins" {
                (t("map_unplanned_checkins")) ": " strong { (unplanned_checkins) }
            }
        }
    };
    let body = html! {
        (nav)
        @match &drawing {
            None => { p.muted { (t("map_no_data")) } }
            Some(_) if checkins > MAX_CHECKINS => {
                (cards)
                p.notice.map-too-many { (page.t("map_too_many").replace("{n}", &MAX_CHECKINS.to_string())) }
            }
            Some(d) => {
                (cards)
                div.map data-tiles=(if tiles.is_some() { "on" } else { "off" }) {
                    @if let Some(src) = &tiles { (tile_images(src, &d.view)) }
                    (map_svg(&page, &names, d, &colours, tiles.is_some()))
                }
                @match tiles.as_ref().map(|src| src.attribution.as_deref()) {
                    Some(Some(credit)) => { p.map-credit { (t("map_tiles_from")) " " (credit) } }
                    Some(None) => {}
                    None => { p.map-credit { (t("map_offline")) } }
                }
                (legend(&page, &colours))
                h2 { (t("map_points")) }
                (point_list(&page, &names, &map, &colours))
                (missed_list(&page, &names, &map))
            }
        }
    };
    let title = format!("{} {}", t("map_on"), day_string(day));
    let mut resp = page.page(StatusCode::OK, &title, body);
    if let Some(src) = &tiles {
        allow_images_from(&mut resp, &src.csp_sources());
    }
    resp
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn visit(id: &str, fix: (f64, f64)) -> MapVisit {
        MapVisit {
            id: id.into(),
            rep_id: "rep".into(),
            store_id: "st".into(),
            started: 0,
            fix: Some(fix),
            distance_m: None,
            outside: false,
            mock: false,
            planned: true,
            late: false,
        }
    }

    #[test]
    fn check_ins_at_one_place_are_drawn_apart() {
        let here = (31.2304, 121.52);
        let day = MapDay {
            stores: Vec::new(),
            routes: vec![crate::web::read::map::Route {
                rep_id: "rep".into(),
                visits: vec![
                    visit("a", here),
                    visit("b", here),
                    visit("c", here),
                    visit("far", (31.30, 121.60)),
                ],
            }],
        };
        let d = Drawing::new(&day, Datum::Wgs84).unwrap();
        let p = d.checkin_places();
        let true_a = d.visit_xy(&day.routes[0].visits[0]).unwrap();
        assert_eq!(p["a"], true_a, "the first stays where it is");
        assert_eq!(p["far"], d.visit_xy(&day.routes[0].visits[3]).unwrap());
        for (x, y) in [p["a"], p["b"], p["c"]] {
            for (u, v) in [p["a"], p["b"], p["c"]] {
                let gap = (x - u).hypot(y - v);
                assert!(gap == 0.0 || gap >= 15.0, "{gap}");
            }
            assert!((x - true_a.0).hypot(y - true_a.1) <= 16.0 + 1e-9);
        }
        assert_ne!(p["b"], p["c"]);
    }

    #[test]
    fn scale_bar_lengths_are_round() {
        assert_eq!(round_length(2_002.0), 2_000.0);
        assert_eq!(round_length(1_999.0), 1_000.0);
        assert_eq!(round_length(7.3), 5.0);
        assert_eq!(round_length(0.4), 0.2);
    }
}
