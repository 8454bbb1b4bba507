//! Process health: three rates with their formulas and goals, daily over 14 days, as inline SVG
//! charts and a table; and each store's compliance score over time.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use rusqlite::params;

use super::auth::scope_sql;
use super::pages::Names;
use super::{Ctx, day_bounds, day_of, day_string, esc, parse_day, tz_offset_ms};
use crate::error::ApiResult;
use crate::http::blocking;
use crate::now_ms;
use crate::store::Store;

pub const DAYS: i64 = 14;
/// Goals: key-action completion ≥ 92 %, exception resolution ≥ 80 %. On-time has none fixed.
pub const KAC_GOAL: f64 = 0.92;
pub const RESOLUTION_GOAL: f64 = 0.80;

/// Per day: (numerator, denominator).
#[derive(Debug, Default, Clone)]
pub struct Figures {
    pub kac: BTreeMap<i64, (i64, i64)>,
    pub ontime: BTreeMap<i64, (i64, i64)>,
    pub resolution: BTreeMap<i64, (i64, i64)>,
    /// store id → day → average score
    pub compliance: BTreeMap<String, BTreeMap<i64, f64>>,
}

pub fn figures(c: &rusqlite::Connection, scope: Option<&str>, first: i64, last: i64) -> ApiResult<Figures> {
    let (from, _) = day_bounds(first);
    let (_, to) = day_bounds(last);
    let off = tz_offset_ms();
    let mut f = Figures::default();
    for d in first..=last {
        f.kac.insert(d, (0, 0));
        f.ontime.insert(d, (0, 0));
        f.resolution.insert(d, (0, 0));
    }
    // Key actions: check-in inside the geofence (or its location exceptions all resolved:
    // explained), store check complete, a received photo, a report.
    let sql = format!(
        "SELECT (v.started_wall_ms + ?3) / 86400000 AS day, count(*),
                sum(CASE WHEN (v.geofence = 'verified'
                               OR (EXISTS (SELECT 1 FROM exceptions e WHERE e.visit_id = v.id
                                           AND e.code IN ('outside_geofence', 'no_fix', 'low_accuracy', 'stale_fix'))
                                   AND NOT EXISTS (SELECT 1 FROM exceptions e WHERE e.visit_id = v.id AND e.resolved_ms IS NULL
                                           AND e.code IN ('outside_geofence', 'no_fix', 'low_accuracy', 'stale_fix'))))
                          AND v.completed_wall_ms IS NOT NULL
                          AND EXISTS (SELECT 1 FROM photos p WHERE p.visit_id = v.id AND p.received = 1)
                          AND EXISTS (SELECT 1 FROM reports r WHERE r.visit_id = v.id)
                    THEN 1 ELSE 0 END)
         FROM visits v WHERE v.started_wall_ms >= ?1 AND v.started_wall_ms < ?2 AND {}
         GROUP BY day",
        scope_sql("v.user_id", 4)
    );
    let mut st = c.prepare(&sql)?;
    for r in st.query_map(params![from, to, off, scope], |r| {
        Ok((r.get::<_, i64>(0)?, r.get(1)?, r.get(2)?))
    })? {
        let (d, n, ok): (i64, i64, i64) = r?;
        f.kac.insert(d, (ok, n));
    }
    // Exceptions of each visit day (whenever the server received them), and how many of them
    // are closed (resolved or dismissed).
    let sql = format!(
        "SELECT visit_day, count(*), count(resolved_ms)
         FROM exceptions WHERE visit_day >= ?1 AND visit_day <= ?2 AND {} GROUP BY visit_day",
        scope_sql("user_id", 3)
    );
    let mut st = c.prepare(&sql)?;
    for r in st.query_map(params![first, last, scope], |r| {
        Ok((r.get::<_, i64>(0)?, r.get(1)?, r.get(2)?))
    })? {
        let (d, n, ok): (i64, i64, i64) = r?;
        f.resolution.insert(d, (ok, n));
    }
    // Planned visits of each day, and those done (completed or checked out) on that day.
    let sql = format!(
        "SELECT p.id, json_extract(p.body, '$.date') FROM plans p
         WHERE json_extract(p.body, '$.date') BETWEEN ?1 AND ?2 AND {}",
        scope_sql("p.rep_id", 3)
    );
    let mut st = c.prepare(&sql)?;
    let plans: Vec<(String, String)> = st
        .query_map(params![day_string(first), day_string(last), scope], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .collect::<Result<_, _>>()?;
    let mut done_on: HashMap<String, Vec<i64>> = HashMap::new();
    {
        let mut st = c.prepare(
            "SELECT plan_id, started_wall_ms FROM visits WHERE plan_id IS NOT NULL
             AND status IN ('completed', 'checked_out') AND started_wall_ms >= ?1 AND started_wall_ms < ?2",
        )?;
        for r in st.query_map(params![from, to], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
        })? {
            let (plan, started) = r?;
            done_on.entry(plan).or_default().push(day_of(started));
        }
    }
    for (plan, date) in plans {
        let Some(d) = parse_day(&date) else { continue };
        let on_time = done_on.get(&plan).is_some_and(|days| days.contains(&d));
        let e = f.ontime.entry(d).or_insert((0, 0));
        e.1 += 1;
        if on_time {
            e.0 += 1;
        }
    }
    let sql = format!(
        "SELECT store_id, (started_wall_ms + ?3) / 86400000 AS day, avg(score) FROM visits
         WHERE score IS NOT NULL AND started_wall_ms >= ?1 AND started_wall_ms < ?2 AND {}
         GROUP BY store_id, day",
        scope_sql("user_id", 4)
    );
    let mut st = c.prepare(&sql)?;
    for r in st.query_map(params![from, to, off, scope], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, f64>(2)?))
    })? {
        let (store, d, score) = r?;
        f.compliance.entry(store).or_default().insert(d, score);
    }
    Ok(f)
}

fn rate(n: i64, d: i64) -> Option<f64> {
    (d > 0).then(|| n as f64 / d as f64)
}

fn total(m: &BTreeMap<i64, (i64, i64)>) -> (i64, i64) {
    m.values().fold((0, 0), |(a, b), (n, d)| (a + n, b + d))
}

fn pct(r: Option<f64>) -> String {
    r.map_or("–".to_string(), |r| format!("{:.1} %", r * 100.0))
}

const W: f64 = 680.0;
const H: f64 = 220.0;
const PAD_L: f64 = 40.0;
const PAD_B: f64 = 28.0;
const PAD_T: f64 = 14.0;

/// Daily rates as bars, the goal as a dashed line.
pub fn bar_chart(id: &str, days: &BTreeMap<i64, (i64, i64)>, goal: Option<f64>, no_data: &str) -> String {
    let n = days.len().max(1) as f64;
    let plot_w = W - PAD_L - 10.0;
    let plot_h = H - PAD_B - PAD_T;
    let slot = plot_w / n;
    let y = |v: f64| PAD_T + plot_h * (1.0 - v.clamp(0.0, 1.0));
    let mut s = format!(
        "<svg id=\"{}\" viewBox=\"0 0 {W} {H}\" width=\"{W}\" height=\"{H}\" role=\"img\" xmlns=\"http://www.w3.org/2000/svg\" \
         style=\"background:#fff;border:1px solid #e4e7eb;max-width:100%\">",
        esc(id)
    );
    for v in [0.0, 0.5, 1.0] {
        s.push_str(&format!(
            "<line x1=\"{PAD_L}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#e4e7eb\"/>\
             <text x=\"{}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"end\" fill=\"#7b8794\">{:.0}%</text>",
            W - 10.0,
            PAD_L - 4.0,
            y(v) + 3.0,
            v * 100.0,
            y = y(v)
        ));
    }
    for (i, (day, (num, den))) in days.iter().enumerate() {
        let x = PAD_L + slot * i as f64 + slot * 0.15;
        let bw = slot * 0.7;
        match rate(*num, *den) {
            Some(r) => {
                let color = match goal {
                    Some(g) if r < g => "#c53030",
                    Some(_) => "#2f855a",
                    None => "#3e7bfa",
                };
                s.push_str(&format!(
                    "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{bw:.1}\" height=\"{:.1}\" fill=\"{color}\"><title>{} {}/{}</title></rect>\
                     <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"9\" text-anchor=\"middle\" fill=\"#323f4b\">{:.0}</text>",
                    y(r),
                    (PAD_T + plot_h - y(r)).max(0.5),
                    day_string(*day),
                    num,
                    den,
                    x + bw / 2.0,
                    y(r) - 2.0,
                    r * 100.0
                ));
            }
            None => s.push_str(&format!(
                "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"9\" text-anchor=\"middle\" fill=\"#9aa5b1\"><title>{}</title>–</text>",
                x + bw / 2.0,
                PAD_T + plot_h - 3.0,
                esc(no_data)
            )),
        }
        if i % 2 == 0 || days.len() <= 7 {
            let label = day_string(*day);
            s.push_str(&format!(
                "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"middle\" fill=\"#52606d\">{}</text>",
                x + bw / 2.0,
                H - 10.0,
                esc(label.get(5..).unwrap_or(&label))
            ));
        }
    }
    if let Some(g) = goal {
        s.push_str(&format!(
            "<line x1=\"{PAD_L}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#f0b429\" stroke-width=\"2\" stroke-dasharray=\"6 4\"/>\
             <text x=\"{}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"end\" fill=\"#b7791f\">≥ {:.0}%</text>",
            W - 10.0,
            W - 12.0,
            y(g) - 3.0,
            g * 100.0,
            y = y(g)
        ));
    }
    s.push_str("</svg>");
    s
}

const COLORS: [&str; 8] = [
    "#3e7bfa", "#c53030", "#2f855a", "#b7791f", "#805ad5", "#dd6b20", "#319795", "#d53f8c",
];

/// Compliance score (0–100) per store per day, a line per store.
pub fn line_chart(series: &[(String, BTreeMap<i64, f64>)], first: i64, last: i64) -> String {
    let n = (last - first).max(1) as f64;
    let plot_w = W - PAD_L - 10.0;
    let plot_h = H - PAD_B - PAD_T;
    let x = |d: i64| PAD_L + plot_w * ((d - first) as f64 / n);
    let y = |v: f64| PAD_T + plot_h * (1.0 - (v / 100.0).clamp(0.0, 1.0));
    let mut s = format!(
        "<svg id=\"compliance-chart\" viewBox=\"0 0 {W} {}\" width=\"{W}\" height=\"{}\" role=\"img\" xmlns=\"http://www.w3.org/2000/svg\" \
         style=\"background:#fff;border:1px solid #e4e7eb;max-width:100%\">",
        H + 20.0 * series.len().div_ceil(2) as f64,
        H + 20.0 * series.len().div_ceil(2) as f64
    );
    for v in [0.0, 50.0, 100.0] {
        s.push_str(&format!(
            "<line x1=\"{PAD_L}\" x2=\"{}\" y1=\"{yy:.1}\" y2=\"{yy:.1}\" stroke=\"#e4e7eb\"/>\
             <text x=\"{}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"end\" fill=\"#7b8794\">{v:.0}</text>",
            W - 10.0,
            PAD_L - 4.0,
            y(v) + 3.0,
            yy = y(v)
        ));
    }
    for d in (first..=last).step_by(2) {
        let label = day_string(d);
        s.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"middle\" fill=\"#52606d\">{}</text>",
            x(d),
            H - 10.0,
            esc(label.get(5..).unwrap_or(&label))
        ));
    }
    for (i, (name, points)) in series.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let pts: Vec<String> = points
            .iter()
            .map(|(d, v)| format!("{:.1},{:.1}", x(*d), y(*v)))
            .collect();
        if pts.len() > 1 {
            s.push_str(&format!(
                "<polyline points=\"{}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\"/>",
                pts.join(" ")
            ));
        }
        for (d, v) in points {
            s.push_str(&format!(
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3.5\" fill=\"{color}\"><title>{} {} {v:.1}</title></circle>",
                x(*d),
                y(*v),
                esc(name),
                day_string(*d)
            ));
        }
        let lx = PAD_L + (i % 2) as f64 * 320.0;
        let ly = H + 8.0 + 20.0 * (i / 2) as f64;
        s.push_str(&format!(
            "<rect x=\"{lx:.1}\" y=\"{ly:.1}\" width=\"12\" height=\"12\" fill=\"{color}\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" fill=\"#323f4b\">{}</text>",
            lx + 16.0,
            ly + 10.0,
            esc(name)
        ));
    }
    s.push_str("</svg>");
    s
}

/// (id, title key, formula key, daily figures, goal)
type Metric<'a> = (
    &'a str,
    &'a str,
    &'a str,
    &'a BTreeMap<i64, (i64, i64)>,
    Option<f64>,
);

pub async fn health(State(store): State<Arc<Store>>, req: Request) -> Response {
    let (parts, _) = req.into_parts();
    let (ctx, user) = match Ctx::signed_in(&store, &parts).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let last = match ctx.q("date") {
        "" => day_of(now_ms()),
        s => match parse_day(s) {
            Some(d) => d,
            None => return ctx.bad_request(ctx.t("bad_date")),
        },
    };
    let first = last - (DAYS - 1);
    let scope = user.scope().map(str::to_string);
    let s = store.clone();
    let data = blocking(move || {
        let c = s.reader()?;
        Ok((Names::load(&c)?, figures(&c, scope.as_deref(), first, last)?))
    })
    .await;
    let (names, f) = match data {
        Ok(d) => d,
        Err(e) => return ctx.error(&e),
    };
    let mut body = format!(
        "<form method=\"get\" action=\"/app/health\"><label>{} <input type=\"date\" name=\"date\" value=\"{}\"></label> \
         <button>{}</button></form>",
        esc(ctx.t("last_14_days")),
        esc(&day_string(last)),
        esc(ctx.t("show"))
    );
    let metrics: [Metric<'_>; 3] = [
        ("kac", "kac_rate", "kac_formula", &f.kac, Some(KAC_GOAL)),
        ("ontime", "ontime_rate", "ontime_formula", &f.ontime, None),
        (
            "resolution",
            "resolution_rate",
            "resolution_formula",
            &f.resolution,
            Some(RESOLUTION_GOAL),
        ),
    ];
    for (id, title, formula, days, goal) in metrics {
        let (n, d) = total(days);
        let r = rate(n, d);
        let verdict = match (goal, r) {
            (Some(g), Some(r)) if r >= g => format!("<span class=\"ok\">{}</span>", esc(ctx.t("meets_goal"))),
            (Some(_), Some(_)) => format!("<span class=\"bad\">{}</span>", esc(ctx.t("below_goal"))),
            _ => String::new(),
        };
        let goal_text = goal.map_or(ctx.t("no_goal").to_string(), |g| format!("≥ {:.0} %", g * 100.0));
        body.push_str(&format!(
            "<section id=\"metric-{id}\"><h2>{}</h2><p><strong>{}</strong> = {}</p>\
             <p>{}: {} · {}: <strong>{}</strong> ({n} / {d}) {}</p>{}",
            esc(ctx.t(title)),
            esc(ctx.t(title)),
            esc(ctx.t(formula)),
            esc(ctx.t("goal")),
            esc(&goal_text),
            esc(ctx.t("period_total")),
            esc(&pct(r)),
            verdict,
            bar_chart(&format!("chart-{id}"), days, goal, ctx.t("no_data"))
        ));
        body.push_str(&format!(
            "<details><summary>{}</summary><table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
            esc(ctx.t("daily_table")),
            esc(ctx.t("day")),
            esc(ctx.t("numerator")),
            esc(ctx.t("denominator")),
            esc(ctx.t("rate"))
        ));
        for (day, (n, d)) in days {
            body.push_str(&format!(
                "<tr><td>{}</td><td>{n}</td><td>{d}</td><td>{}</td></tr>",
                esc(&day_string(*day)),
                esc(&pct(rate(*n, *d)))
            ));
        }
        body.push_str("</table></details></section>");
    }
    body.push_str(&format!(
        "<section id=\"compliance\"><h2>{}</h2><p class=\"muted\">{}</p>",
        esc(ctx.t("compliance")),
        esc(ctx.t("compliance_note"))
    ));
    let series: Vec<(String, BTreeMap<i64, f64>)> = f
        .compliance
        .iter()
        .map(|(store, pts)| (names.store(store), pts.clone()))
        .collect();
    if series.is_empty() {
        body.push_str(&format!("<p class=\"muted\">{}</p>", esc(ctx.t("no_data"))));
    } else {
        body.push_str(&line_chart(&series, first, last));
        body.push_str(&format!(
            "<table><tr><th>{}</th><th>{}</th><th>{}</th></tr>",
            esc(ctx.t("store")),
            esc(ctx.t("day")),
            esc(ctx.t("score"))
        ));
        for (name, pts) in &series {
            for (d, v) in pts {
                body.push_str(&format!(
                    "<tr><td>{}</td><td>{}</td><td>{v:.1}</td></tr>",
                    esc(name),
                    esc(&day_string(*d))
                ));
            }
        }
        body.push_str("</table>");
    }
    body.push_str("</section>");
    ctx.page(StatusCode::OK, ctx.t("health"), &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_svg_with_a_bar_per_day_and_the_goal() {
        let mut days = BTreeMap::new();
        days.insert(100, (9, 10));
        days.insert(101, (0, 0));
        days.insert(102, (10, 10));
        let svg = bar_chart("c", &days, Some(0.92), "no data");
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("<rect").count(), 2);
        assert!(svg.contains("stroke-dasharray"));
        assert!(svg.contains("#c53030"), "90 % is below the goal");
        let mut pts = BTreeMap::new();
        pts.insert(100, 80.0);
        pts.insert(102, 90.0);
        let svg = line_chart(&[("<Store & Co>".into(), pts)], 100, 113);
        assert!(svg.contains("&lt;Store &amp; Co&gt;"));
        assert!(svg.contains("<polyline"));
    }
}
