//! The health page's charts as inline SVG (no script, no image requests): daily rates as bars
//! with the goal as a dashed line, and compliance scores as a line per store. The SVG scales
//! down with the screen (`viewBox`, CSS `max-width:100%`).

use std::collections::BTreeMap;

use maud::{Markup, html};

use super::day_string;
use super::read::health::Ratio;

const W: f64 = 680.0;
const H: f64 = 220.0;
const PAD_L: f64 = 40.0;
const PAD_B: f64 = 28.0;
const PAD_T: f64 = 14.0;

/// A day as the axis shows it: `MM-DD`.
fn short_day(day: i64) -> String {
    let s = day_string(day);
    s.get(5..).unwrap_or(&s).to_string()
}

/// A coordinate with one decimal.
fn n1(v: f64) -> String {
    format!("{v:.1}")
}

/// Daily rates as bars, the goal as a dashed line.
pub fn bar_chart(id: &str, days: &BTreeMap<i64, Ratio>, goal: Option<f64>, no_data: &str) -> Markup {
    let n = days.len().max(1) as f64;
    let plot_w = W - PAD_L - 10.0;
    let plot_h = H - PAD_B - PAD_T;
    let slot = plot_w / n;
    let y = |v: f64| PAD_T + plot_h * (1.0 - v.clamp(0.0, 1.0));
    let bw = slot * 0.7;
    html! {
        svg id=(id) viewBox={ "0 0 " (W) " " (H) } width=(W) height=(H) role="img"
            xmlns="http://www.w3.org/2000/svg" style="background:#fff;border:1px solid #e4e7eb" {
            @for v in [0.0, 0.5, 1.0] {
                line x1=(PAD_L) x2=(W - 10.0) y1=(n1(y(v))) y2=(n1(y(v))) stroke="#e4e7eb" {}
                text x=(PAD_L - 4.0) y=(n1(y(v) + 3.0)) font-size="10" text-anchor="end" fill="#7b8794" {
                    (format!("{:.0}%", v * 100.0))
                }
            }
            @for (i, (day, r)) in days.iter().enumerate() {
                @let x = PAD_L + slot * i as f64 + slot * 0.15;
                @if let Some(rate) = r.rate() {
                    @let color = match goal {
                        Some(g) if rate < g => "#c53030",
                        Some(_) => "#2f855a",
                        None => "#3e7bfa",
                    };
                    rect x=(n1(x)) y=(n1(y(rate))) width=(n1(bw)) height=(n1((PAD_T + plot_h - y(rate)).max(0.5))) fill=(color) {
                        title { (day_string(*day)) " " (r.num) "/" (r.den) }
                    }
                    text x=(n1(x + bw / 2.0)) y=(n1(y(rate) - 2.0)) font-size="9" text-anchor="middle" fill="#323f4b" {
                        (format!("{:.0}", rate * 100.0))
                    }
                } @else {
                    text x=(n1(x + bw / 2.0)) y=(n1(PAD_T + plot_h - 3.0)) font-size="9" text-anchor="middle" fill="#9aa5b1" {
                        title { (no_data) } "–"
                    }
                }
                @if i % 2 == 0 || days.len() <= 7 {
                    text x=(n1(x + bw / 2.0)) y=(n1(H - 10.0)) font-size="10" text-anchor="middle" fill="#52606d" {
                        (short_day(*day))
                    }
                }
            }
            @if let Some(g) = goal {
                line x1=(PAD_L) x2=(W - 10.0) y1=(n1(y(g))) y2=(n1(y(g))) stroke="#f0b429" stroke-width="2" stroke-dasharray="6 4" {}
                text x=(W - 12.0) y=(n1(y(g) - 3.0)) font-size="10" text-anchor="end" fill="#b7791f" {
                    (format!("≥ {:.0}%", g * 100.0))
                }
            }
        }
    }
}

const COLORS: [&str; 8] = [
    "#3e7bfa", "#c53030", "#2f855a", "#b7791f", "#805ad5", "#dd6b20", "#319795", "#d53f8c",
];

/// A store's compliance score (0–100) on the days it has one.
pub struct Series {
    pub name: String,
    pub points: BTreeMap<i64, f64>,
}

/// Compliance score per store per day, a line per store, the legend below.
pub fn line_chart(series: &[Series], first: i64, last: i64) -> Markup {
    let n = (last - first).max(1) as f64;
    let plot_w = W - PAD_L - 10.0;
    let plot_h = H - PAD_B - PAD_T;
    let x = |d: i64| PAD_L + plot_w * ((d - first) as f64 / n);
    let y = |v: f64| PAD_T + plot_h * (1.0 - (v / 100.0).clamp(0.0, 1.0));
    let height = H + 20.0 * series.len().div_ceil(2) as f64;
    html! {
        svg id="compliance-chart" viewBox={ "0 0 " (W) " " (height) } width=(W) height=(height) role="img"
            xmlns="http://www.w3.org/2000/svg" style="background:#fff;border:1px solid #e4e7eb" {
            @for v in [0.0, 50.0, 100.0] {
                line x1=(PAD_L) x2=(W - 10.0) y1=(n1(y(v))) y2=(n1(y(v))) stroke="#e4e7eb" {}
                text x=(PAD_L - 4.0) y=(n1(y(v) + 3.0)) font-size="10" text-anchor="end" fill="#7b8794" { (v) }
            }
            @for d in (first..=last).step_by(2) {
                text x=(n1(x(d))) y=(n1(H - 10.0)) font-size="10" text-anchor="middle" fill="#52606d" { (short_day(d)) }
            }
            @for (i, s) in series.iter().enumerate() {
                @let color = COLORS[i % COLORS.len()];
                @if s.points.len() > 1 {
                    @let pts: Vec<String> = s.points.iter().map(|(d, v)| format!("{:.1},{:.1}", x(*d), y(*v))).collect();
                    polyline points=(pts.join(" ")) fill="none" stroke=(color) stroke-width="2" {}
                }
                @for (d, v) in &s.points {
                    circle cx=(n1(x(*d))) cy=(n1(y(*v))) r="3.5" fill=(color) {
                        title { (s.name) " " (day_string(*d)) " " (n1(*v)) }
                    }
                }
                @let lx = PAD_L + (i % 2) as f64 * 320.0;
                @let ly = H + 8.0 + 20.0 * (i / 2) as f64;
                rect x=(n1(lx)) y=(n1(ly)) width="12" height="12" fill=(color) {}
                text x=(n1(lx + 16.0)) y=(n1(ly + 10.0)) font-size="11" fill="#323f4b" { (s.name) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_svg_with_a_bar_per_day_and_the_goal() {
        let mut days = BTreeMap::new();
        days.insert(100, Ratio { num: 9, den: 10 });
        days.insert(101, Ratio::default());
        days.insert(102, Ratio { num: 10, den: 10 });
        let svg = bar_chart("c", &days, Some(0.92), "no data").into_string();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("<rect").count(), 2);
        assert!(svg.contains("stroke-dasharray"));
        assert!(svg.contains("#c53030"), "90 % is below the goal");
        let mut points = BTreeMap::new();
        points.insert(100, 80.0);
        points.insert(102, 90.0);
        let series = [Series {
            name: "<Store & Co>".into(),
            points,
        }];
        let svg = line_chart(&series, 100, 113).into_string();
        assert!(svg.contains("&lt;Store &amp; Co&gt;"));
        assert!(svg.contains("<polyline"));
    }
}
