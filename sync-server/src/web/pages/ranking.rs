//! `GET /app/ranking`: scorecards (排行榜) per team and per rep over a period, sortable by any
//! column with plain links (`sort`, `dir`). Figures from [`read::scorecards`]; every column's
//! formula is stated under the table.

use std::cmp::Ordering;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;

use super::{WithNames, read_with_names};
use crate::clock::now_ms;
use crate::i18n::Lang;
use crate::store::Store;
use crate::web::extract::{PageQuery, SignedIn, Viewer};
use crate::web::i18n::PageText;
use crate::web::period::{PeriodQuery, num, pct, period_nav, period_qs, rep_href};
use crate::web::read::plans::PlanFilter;
use crate::web::read::scorecards::{Scorecard, roster, scorecards, sum_by};

/// A period's default length on the figures pages: 30 days to the latest day with visits.
pub const DEFAULT_DAYS: i64 = 30;

/// The ranking's columns, as `sort=` names them.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum Column {
    Name,
    Visits,
    #[default]
    Completion,
    KeyActions,
    OnTime,
    Score,
    Exceptions,
    Photos,
    Reuse,
    Mock,
    Minutes,
}

impl Column {
    pub const ALL: [Column; 11] = [
        Column::Name,
        Column::Visits,
        Column::Completion,
        Column::KeyActions,
        Column::OnTime,
        Column::Score,
        Column::Exceptions,
        Column::Photos,
        Column::Reuse,
        Column::Mock,
        Column::Minutes,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Column::Name => "name",
            Column::Visits => "visits",
            Column::Completion => "completion",
            Column::KeyActions => "key_actions",
            Column::OnTime => "on_time",
            Column::Score => "score",
            Column::Exceptions => "exceptions",
            Column::Photos => "photos",
            Column::Reuse => "reuse",
            Column::Mock => "mock",
            Column::Minutes => "minutes",
        }
    }

    /// The column's heading (`col_*`) and formula (`formula_col_*`) strings.
    fn title(self) -> String {
        format!("col_{}", self.key())
    }

    /// The column's value (None sorts last whichever way).
    pub fn value(self, c: &Scorecard) -> Option<f64> {
        match self {
            Column::Name => None,
            Column::Visits => Some(c.visits as f64),
            Column::Completion => c.completion(),
            Column::KeyActions => c.key_action_rate(),
            Column::OnTime => c.on_time_rate(),
            Column::Score => c.average_score(),
            Column::Exceptions => c.exceptions_per_visit(),
            Column::Photos => c.photos_per_visit(),
            Column::Reuse => Some(c.code_count("possible_reuse") as f64),
            Column::Mock => Some(c.code_count("mock_location") as f64),
            Column::Minutes => c.minutes_in_store(),
        }
    }

    /// Larger is better (the default direction puts the best first).
    fn higher_is_better(self) -> bool {
        !matches!(
            self,
            Column::Name | Column::Exceptions | Column::Reuse | Column::Mock
        )
    }
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "snake_case")]
pub enum Dir {
    Asc,
    Desc,
}

#[derive(Deserialize)]
pub struct RankingQuery {
    #[serde(flatten)]
    period: PeriodQuery,
    #[serde(default, deserialize_with = "opt_column")]
    sort: Option<Column>,
    #[serde(default)]
    dir: Option<Dir>,
}

/// `sort=<column>`; empty → the default; another word → `bad_ranking_sort` (the queue's
/// `bad_sort` names the queue's columns).
fn opt_column<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Column>, D::Error> {
    use serde::de::Error as _;
    let s = String::deserialize(d)?;
    match s.trim() {
        "" => Ok(None),
        s => Column::ALL
            .into_iter()
            .find(|c| c.key() == s)
            .map(Some)
            .ok_or_else(|| D::Error::custom("bad_ranking_sort")),
    }
}

/// One ranked row: its key (rep id or team code), name and figures.
struct Row {
    key: String,
    name: String,
    href: Option<String>,
    card: Scorecard,
}

fn sort_rows(rows: &mut [Row], col: Column, dir: Dir) {
    rows.sort_by(|a, b| {
        let o = if col == Column::Name {
            a.name.cmp(&b.name)
        } else {
            match (col.value(&a.card), col.value(&b.card)) {
                (Some(x), Some(y)) => {
                    let o = x.total_cmp(&y);
                    if dir == Dir::Desc { o.reverse() } else { o }
                }
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            }
        };
        let o = if col == Column::Name && dir == Dir::Desc {
            o.reverse()
        } else {
            o
        };
        o.then_with(|| a.name.cmp(&b.name))
            .then_with(|| a.key.cmp(&b.key))
    });
}

/// The exceptions of a scorecard per visit, by code in words.
pub fn codes_per_visit(lang: Lang, c: &Scorecard) -> Markup {
    html! {
        @if !c.exceptions.is_empty() {
            details.codes {
                summary { (lang.t("by_code")) }
                ul {
                    @for (code, n) in &c.exceptions {
                        li data-code=(code) data-count=(n) {
                            (lang.code_words(code)) ": " (n)
                            " (" (num((c.visits > 0).then(|| *n as f64 / c.visits as f64), 2)) " " (lang.t("per_visit")) ")"
                        }
                    }
                }
            }
        }
    }
}

/// A scorecard's cells, one per column after the name (each with `data-figure`, the column's
/// key, and the exact value in `data-value`).
pub fn figure_cells(page: &Viewer, c: &Scorecard) -> Markup {
    let t = |k: &str| page.t(k).to_string();
    html! {
        td data-label=(t("col_visits")) data-figure="visits" data-value=(c.visits) { (c.visits) }
        td.nowrap data-label=(t("col_completion")) data-figure="completion" data-visited=(c.visited) data-planned=(c.planned) {
            (c.visited) " / " (c.planned) br; (pct(c.completion()))
        }
        td data-label=(t("col_key_actions")) data-figure="key_actions" data-num=(c.key_actions) data-den=(c.visits) { (pct(c.key_action_rate())) }
        td data-label=(t("col_on_time")) data-figure="on_time" data-num=(c.on_time()) data-den=(c.planned) { (pct(c.on_time_rate())) }
        td data-label=(t("col_score")) data-figure="score" data-value=(num(c.average_score(), 2)) { (num(c.average_score(), 1)) }
        td data-label=(t("col_exceptions")) data-figure="exceptions" data-num=(c.exception_count()) data-den=(c.visits) {
            (num(c.exceptions_per_visit(), 2)) (codes_per_visit(page.lang, c))
        }
        td data-label=(t("col_photos")) data-figure="photos" data-num=(c.photos) data-den=(c.visits) { (num(c.photos_per_visit(), 2)) }
        td data-label=(t("col_reuse")) data-figure="reuse" data-value=(c.code_count("possible_reuse")) { (c.code_count("possible_reuse")) }
        td data-label=(t("col_mock")) data-figure="mock" data-value=(c.code_count("mock_location")) { (c.code_count("mock_location")) }
        td data-label=(t("col_minutes")) data-figure="minutes" data-num=(c.minutes_sum) data-den=(c.timed) { (num(c.minutes_in_store(), 1)) }
    }
}

/// Every column's formula in words, folded.
pub fn score_formulas(page: &Viewer) -> Markup {
    html! {
        details.formulas {
            summary { (page.t("how_counted")) }
            ul {
                @for col in Column::ALL.iter().skip(1) {
                    li { strong { (page.t(&col.title())) } ": " (page.t(&format!("formula_{}", col.title()))) }
                }
            }
        }
    }
}

fn table(page: &Viewer, id: &str, head: &str, rows: &[Row], sort: Column, dir: Dir, qs: &str) -> Markup {
    let t = |k: &str| page.t(k).to_string();
    let th = |col: Column, label: String| {
        // The current column's link turns the order round; another column starts best first.
        let next = if col == sort {
            if dir == Dir::Desc { "asc" } else { "desc" }
        } else if col.higher_is_better() {
            "desc"
        } else {
            "asc"
        };
        let mark = if col == sort {
            if dir == Dir::Desc { " ▼" } else { " ▲" }
        } else {
            ""
        };
        html! {
            th { a.sort href={ "/app/ranking?" (qs) "&sort=" (col.key()) "&dir=" (next) "#" (id) } { (label) (mark) } }
        }
    };
    html! {
        table.rows.figures.ranking id=(id) data-sort=(sort.key()) data-dir=(if dir == Dir::Desc { "desc" } else { "asc" }) {
            thead { tr {
                th { "#" }
                (th(Column::Name, head.to_string()))
                @for col in Column::ALL.iter().skip(1) { (th(*col, t(&col.title()))) }
            } }
            tbody {
                @for (i, r) in rows.iter().enumerate() {
                    tr data-key=(r.key) {
                        td data-label="#" data-figure="rank" { (i + 1) }
                        td.name data-label=(head) {
                            @match &r.href { Some(h) => a href=(h) { (r.name) }, None => (r.name) }
                        }
                        (figure_cells(page, &r.card))
                    }
                }
            }
        }
    }
}

pub async fn page(
    State(store): State<Arc<Store>>,
    who: SignedIn,
    PageQuery(q): PageQuery<RankingQuery>,
) -> Response {
    let SignedIn { user, page } = who;
    let cal = page.cal;
    let today = cal.day_of(now_ms());
    let asked = match q.period.asked(today, DEFAULT_DAYS) {
        Ok(a) => a,
        Err(key) => return page.bad_request(page.t(key)),
    };
    let filter = q.period.filter();
    let scope = user.scope().map(str::to_string);
    let f = filter.clone();
    let read = read_with_names(&store, move |c| {
        let period = asked.period(c, cal, scope.as_deref(), today)?;
        let all = roster(c, scope.as_deref(), &PlanFilter::default())?;
        let shown = roster(c, scope.as_deref(), &f)?;
        let days = scorecards(c, cal, scope.as_deref(), period.first, period.last, &f)?;
        Ok((period, all, shown, days))
    })
    .await;
    let WithNames {
        names: _,
        data: (period, all, shown, days),
    } = match read {
        Ok(d) => d,
        Err(e) => return page.error(&e),
    };
    let t = |k| page.t(k);
    let sort = q.sort.unwrap_or_default();
    let dir = q.dir.unwrap_or(if sort.higher_is_better() {
        Dir::Desc
    } else {
        Dir::Asc
    });
    let per_rep = sum_by(&days, |rep, _| Some(rep.to_string()));
    // Every rep of the scope is ranked, those with nothing to count too (a rep with no visits
    // is the first thing a manager asks about).
    let mut reps: Vec<Row> = shown
        .reps
        .iter()
        .map(|r| Row {
            key: r.id.clone(),
            name: r.name.clone(),
            href: Some(rep_href(&r.id)),
            card: per_rep.get(&r.id).cloned().unwrap_or_default(),
        })
        .collect();
    let team_of = |rep: &str| shown.rep(rep).map(|r| r.team.clone().unwrap_or_default());
    let per_team = sum_by(&days, |rep, _| team_of(rep));
    let mut teams: Vec<Row> = per_team
        .into_iter()
        .map(|(code, card)| Row {
            name: if code.is_empty() {
                t("no_group").to_string()
            } else {
                all.team_name(&code)
            },
            key: code,
            href: None,
            card,
        })
        .collect();
    sort_rows(&mut reps, sort, dir);
    sort_rows(&mut teams, sort, dir);
    let qs = period_qs(period, &filter);
    let body = html! {
        (period_nav(&page, "/app/ranking", period, today, &filter, Some(&all)))
        (score_formulas(&page))
        section id="team-ranking" {
            h2 { (t("by_team")) }
            @if teams.is_empty() { p.muted { (t("no_data")) } }
            @else { (table(&page, "teams", t("team"), &teams, sort, dir, &qs)) }
        }
        section id="rep-ranking" {
            h2 { (t("by_rep")) }
            @if reps.is_empty() { p.muted { (t("no_data")) } }
            @else { (table(&page, "reps", t("rep"), &reps, sort, dir, &qs)) }
        }
    };
    page.page(StatusCode::OK, t("ranking_title"), body)
}
