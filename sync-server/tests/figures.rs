//! Planned versus done and the scorecards (issue 12, acceptance 2): a seeded month of plans with
//! windows and visits through the real ingest (signed ops: on time, late, missed, unplanned,
//! cancelled, outside the geofence, mock location), photos received and reuse findings added as
//! the photo pipeline leaves them; then every figure is computed here from the raw rows, with
//! its own implementation of the rules, and compared with the read model and with what the
//! pages show over HTTP from the real binary (their `data-*` attributes). The missed stops are
//! listed exactly. Scope (a supervisor's team only; another team's rep is 404) and bad query
//! input (the localized 400 page) are checked on the same data.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)]

#[path = "e2e/common.rs"]
mod common;
#[path = "support/phone.rs"]
mod phone;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use common::{Server, Session, admin_ok, reference_file};
use fieldproof_server::db::params;
use fieldproof_server::web::read::plans::{PlanFilter, StopOutcome, planned_vs_done};
use fieldproof_server::{Calendar, now_ms};
use phone::Phone;
use serde_json::json;

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;
const PW: &str = "a-long-password-1";
const WANG_PW: &str = "wang-password-1";
/// The seeded period: 2026-10-01 ... 2026-10-20.
const FIRST: &str = "2026-10-01";
const LAST: &str = "2026-10-20";
const DAYS: i64 = 20;

/// Days since 1970-01-01 of a date (Hinnant), independent of the code under test.
fn days(date: &str) -> i64 {
    let y: i64 = date[0..4].parse().unwrap();
    let m: i64 = date[5..7].parse().unwrap();
    let d: i64 = date[8..10].parse().unwrap();
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
}

fn date_of(day: i64) -> String {
    // Inverse of `days`, by search from the period's first day (the test's days are few).
    let base = days(FIRST);
    let mut d = day - base;
    let (mut y, mut m, mut dd) = (2026, 10, 1);
    while d > 0 {
        let len = match m {
            4 | 6 | 9 | 11 => 30,
            2 => 28,
            _ => 31,
        };
        dd += 1;
        if dd > len {
            dd = 1;
            m += 1;
            if m > 12 {
                m = 1;
                y += 1;
            }
        }
        d -= 1;
    }
    format!("{y:04}-{m:02}-{dd:02}")
}

/// Unix ms of a wall-clock time on `day` in Shanghai (UTC+08:00).
fn at(day: i64, hour: i64, minute: i64) -> i64 {
    day * DAY + (hour - 8) * HOUR + minute * 60_000
}

/// The Shanghai day of an instant.
fn day_of(ms: i64) -> i64 {
    (ms + 8 * HOUR).div_euclid(DAY)
}

/// Store coordinates (from the reference) and a point far from every store.
fn coords(store: &str) -> (f64, f64) {
    match store {
        "st-001" => (31.2304, 121.5200),
        "st-002" => (31.2360, 121.5050),
        "st-003" => (31.2280, 121.5290),
        _ => (31.1960, 121.3970),
    }
}
const FAR: (f64, f64) = (31.3500, 121.7000);

/// How a visit goes.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    /// Checked in at `start`, photo op, report, complete with `score`, checked out at `end`.
    Done {
        far: bool,
        mock: bool,
        score: f64,
        minutes: i64,
    },
    Cancelled,
}

impl Phone {
    fn store_visit(&mut self, visit: &str, store: &str, plan: Option<&str>, start: i64, kind: Kind) {
        let (far, mock) = match kind {
            Kind::Done { far, mock, .. } => (far, mock),
            Kind::Cancelled => (false, false),
        };
        let here = if far { FAR } else { coords(store) };
        self.check_in(visit, store, plan, start, here, mock);
        let Kind::Done { score, minutes, .. } = kind else {
            self.op(
                "visit.cancel",
                visit,
                start + 60_000,
                json!({"visit_id": visit, "reason": "门店关门"}),
            );
            return;
        };
        self.shelf_photo(visit, store, start);
        self.report_and_complete(visit, start, score);
        self.check_out(visit, start + minutes * 60_000 + 17_000, here, false);
    }
}

/// Each rep's route: (store, window) per sequence 1, 2.
fn route(rep: &str) -> [(&'static str, (i64, i64)); 2] {
    match rep {
        "rep-li" => [("st-001", (9, 11)), ("st-002", (14, 16))],
        "rep-zhao" => [("st-101", (9, 11)), ("st-003", (14, 16))],
        _ => [("st-002", (10, 12)), ("st-003", (15, 17))],
    }
}
const REPS: [&str; 3] = ["rep-li", "rep-zhao", "rep-chen"];

/// The month: plans through the import (with windows; every fifth day's without), visits
/// through the real ingest, received photos and reuse findings as the photo pipeline leaves
/// them. Head office `boss` and supervisor `sup-wang` (team rep-li, rep-zhao) sign in.
fn seeded(d: &Path) {
    admin_ok(d, &["init"]);
    admin_ok(d, &["load-reference", reference_file().to_str().unwrap()]);
    for (id, role, pw) in [("boss", "head_office", PW), ("sup-wang", "supervisor", WANG_PW)] {
        admin_ok(
            d,
            &[
                "create-user",
                "--id",
                id,
                "--name",
                id,
                "--role",
                role,
                "--password",
                pw,
            ],
        );
    }
    let store = common::test_db::store(d);
    let first = days(FIRST);
    let mut csv = String::from("rep_id,store_code,date,template_id,sequence,window_start,window_end,id\n");
    for day in first..first + DAYS {
        for rep in REPS {
            for (seq, (st, (from, to))) in route(rep).into_iter().enumerate() {
                let code = match st {
                    "st-001" => "SH-E-001",
                    "st-002" => "SH-E-002",
                    "st-003" => "SH-E-003",
                    _ => "SH-W-101",
                };
                let (ws, we) = if (day - first) % 5 == 4 {
                    (String::new(), String::new())
                } else {
                    (format!("{from:02}:00"), format!("{to:02}:00"))
                };
                csv.push_str(&format!(
                    "{rep},{code},{},tpl-store-check,{},{ws},{we},p-{rep}-{}-{}\n",
                    date_of(day),
                    seq + 1,
                    day - first,
                    seq + 1
                ));
            }
        }
    }
    let r = fieldproof_server::import::import_csv(
        &store,
        fieldproof_server::import::ImportKind::Plans,
        csv.as_bytes(),
        now_ms(),
    )
    .unwrap();
    assert_eq!(r.plans as i64, DAYS * 6);

    for (ri, rep) in REPS.into_iter().enumerate() {
        let mut phone = Phone::new(&store, rep, rep);
        for i in 0..DAYS {
            let day = first + i;
            for (seq, (st, (from, to))) in route(rep).into_iter().enumerate() {
                let plan = format!("p-{rep}-{i}-{}", seq + 1);
                let visit = format!("v-{rep}-{i}-{}", seq + 1);
                let k = (i + ri as i64 * 3 + seq as i64 * 2) % 9;
                let score = 60.0 + ((i * 7 + ri as i64 * 5 + seq as i64) % 40) as f64;
                let done = |far, mock| Kind::Done {
                    far,
                    mock,
                    score,
                    minutes: 10 + (i + seq as i64) % 25,
                };
                // The plan is named on the visit for most, not for some (matched by store and day).
                let named = (k % 2 == 0).then_some(plan.as_str());
                match k {
                    0 => {} // missed
                    1 => {
                        // Late: checked in 40 minutes after the window's end.
                        phone.store_visit(&visit, st, named, at(day, to, 40), done(false, false));
                    }
                    2 => {
                        // Cancelled: the stop stays missed.
                        phone.store_visit(&visit, st, Some(&plan), at(day, from, 10), Kind::Cancelled);
                    }
                    3 => phone.store_visit(&visit, st, named, at(day, from, 5), done(false, true)),
                    4 => phone.store_visit(&visit, st, named, at(day, from, 20), done(true, false)),
                    5 => {
                        // Visited on the next day: missed on its own day, unplanned on the next.
                        phone.store_visit(&visit, st, Some(&plan), at(day + 1, from, 0), done(false, false));
                    }
                    _ => phone.store_visit(&visit, st, named, at(day, from, 15), done(false, false)),
                }
            }
            // An unplanned visit every third day, and a second visit of a planned store.
            if i % 3 == ri as i64 % 3 {
                let st = if rep == "rep-zhao" { "st-101" } else { "st-001" };
                phone.store_visit(
                    &format!("u-{rep}-{i}"),
                    st,
                    None,
                    at(day, 18, 0),
                    Kind::Done {
                        far: false,
                        mock: false,
                        score: 75.0,
                        minutes: 12,
                    },
                );
            }
        }
        phone.push(&store, now_ms());
    }
    drop(store);
    let c = common::test_db::connect(d);
    // Photos: two of three received (bytes verified), the rest never arrived.
    c.execute(
        "UPDATE photos SET received = 1, verified = 1 WHERE rowid % 3 <> 0 OR photo_id LIKE 'ph-u-%'",
        [],
    )
    .unwrap();
    // Reuse findings on some visits (as photo_reuse raises them), one of them already closed.
    let visits: Vec<(String, String, String, i64)> = c
        .prepare("SELECT id, user_id, store_id, started_wall_ms FROM visits WHERE status <> 'cancelled' ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for (n, (v, u, s, started)) in visits.iter().enumerate().filter(|(n, _)| n % 11 == 0) {
        c.execute(
            "INSERT INTO exceptions (code, user_id, visit_id, store_id, subject, detail, created_ms, visit_day, event_ms)
             VALUES ('possible_reuse', ?1, ?2, ?3, ?4, 'seen before', ?5, ?6, ?5)",
            params![u, v, s, format!("sha-{n}"), started + 60_000, day_of(*started)],
        )
        .unwrap();
    }
    c.execute(
        "UPDATE exceptions SET status = 'resolved', resolved_ms = created_ms + 1, resolved_by = 'boss'
         WHERE id = (SELECT min(id) FROM exceptions WHERE code = 'possible_reuse')",
        [],
    )
    .unwrap();
}

// --- the figures, computed here from the raw rows ---------------------------------------------

struct RawVisit {
    id: String,
    rep: String,
    store: String,
    plan: Option<String>,
    status: String,
    kind: String,
    started: i64,
    ended: Option<i64>,
    completed: Option<i64>,
    geofence: String,
    score: Option<f64>,
}

struct RawPlan {
    id: String,
    rep: String,
    store: String,
    day: i64,
    sequence: i64,
    /// Window end, minutes after midnight.
    end: Option<i64>,
}

#[derive(Default, Debug, Clone, PartialEq)]
struct Expect {
    visits: i64,
    key_actions: i64,
    planned: i64,
    visited: i64,
    late: i64,
    unplanned: i64,
    score_sum: f64,
    scored: i64,
    exceptions: BTreeMap<String, i64>,
    photos: i64,
    minutes_sum: i64,
    timed: i64,
}

struct Truth {
    /// Rep → figures over the period.
    reps: BTreeMap<String, Expect>,
    /// Plan id → Some(visit id, late) or None (missed).
    outcome: BTreeMap<String, Option<(String, bool)>>,
    unplanned: BTreeSet<String>,
}

fn truth(d: &Path, first: i64, last: i64) -> Truth {
    let c = common::test_db::connect(d);
    let visits: Vec<RawVisit> = c
        .prepare(
            "SELECT id, user_id, store_id, plan_id, status, kind, started_wall_ms, ended_wall_ms, completed_wall_ms, geofence, score
             FROM visits",
        )
        .unwrap()
        .query_map([], |r| {
            Ok(RawVisit {
                id: r.get(0)?,
                rep: r.get(1)?,
                store: r.get(2)?,
                plan: r.get(3)?,
                status: r.get(4)?,
                kind: r.get(5)?,
                started: r.get(6)?,
                ended: r.get(7)?,
                completed: r.get(8)?,
                geofence: r.get(9)?,
                score: r.get(10)?,
            })
        })
        .unwrap()
        .map(Result::unwrap)
        .filter(|v: &RawVisit| (first..=last).contains(&day_of(v.started)))
        .collect();
    let plans: Vec<RawPlan> = c
        .prepare("SELECT id, rep_id, store_id, body FROM plans")
        .unwrap()
        .query_map([], |r| {
            let body: String = r.get(3)?;
            let b: serde_json::Value = serde_json::from_str(&body).unwrap();
            let end = b["window_end"]
                .as_str()
                .map(|s| s[0..2].parse::<i64>().unwrap() * 60 + s[3..5].parse::<i64>().unwrap());
            Ok(RawPlan {
                id: r.get(0)?,
                rep: r.get(1)?,
                store: r.get(2)?,
                day: days(b["date"].as_str().unwrap()),
                sequence: b["sequence"].as_i64().unwrap_or(0),
                end,
            })
        })
        .unwrap()
        .map(Result::unwrap)
        .filter(|p: &RawPlan| (first..=last).contains(&p.day))
        .collect();
    let mut exceptions: HashMap<String, Vec<(String, bool)>> = HashMap::new();
    for r in c
        .prepare("SELECT visit_id, code, resolved_ms IS NULL FROM exceptions WHERE visit_id IS NOT NULL")
        .unwrap()
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, bool>(2)?,
            ))
        })
        .unwrap()
    {
        let (v, code, open) = r.unwrap();
        exceptions.entry(v).or_default().push((code, open));
    }
    let mut photos: HashMap<String, i64> = HashMap::new();
    for r in c
        .prepare("SELECT visit_id FROM photos WHERE received = 1")
        .unwrap()
        .query_map([], |r| r.get::<_, String>(0))
        .unwrap()
    {
        *photos.entry(r.unwrap()).or_default() += 1;
    }
    let reported: BTreeSet<String> = c
        .prepare("SELECT DISTINCT visit_id FROM reports")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();

    // Plans: in route order per (rep, day), each takes the visit naming it, else the earliest
    // free one of its rep, store and day that is not cancelled.
    let mut sorted: Vec<&RawPlan> = plans.iter().collect();
    sorted.sort_by_key(|p| (p.day, p.rep.clone(), p.sequence, p.id.clone()));
    let mut taken: BTreeSet<String> = BTreeSet::new();
    let mut outcome = BTreeMap::new();
    for p in &sorted {
        let mut candidates: Vec<&RawVisit> = visits
            .iter()
            .filter(|v| {
                v.rep == p.rep
                    && v.store == p.store
                    && day_of(v.started) == p.day
                    && v.status != "cancelled"
                    && !taken.contains(&v.id)
            })
            .collect();
        candidates.sort_by_key(|v| (v.started, v.id.clone()));
        let chosen = candidates
            .iter()
            .find(|v| v.plan.as_deref() == Some(p.id.as_str()))
            .or(candidates.first())
            .copied();
        match chosen {
            Some(v) => {
                taken.insert(v.id.clone());
                let late = p.end.is_some_and(|e| v.started > at(p.day, 0, e));
                outcome.insert(p.id.clone(), Some((v.id.clone(), late)));
            }
            None => {
                outcome.insert(p.id.clone(), None);
            }
        }
    }
    let unplanned: BTreeSet<String> = visits
        .iter()
        .filter(|v| v.status != "cancelled" && v.kind != "inspection" && !taken.contains(&v.id))
        .map(|v| v.id.clone())
        .collect();

    let mut reps: BTreeMap<String, Expect> = BTreeMap::new();
    for v in visits.iter().filter(|v| v.kind != "inspection") {
        let e = reps.entry(v.rep.clone()).or_default();
        e.visits += 1;
        let exc = exceptions.get(&v.id).cloned().unwrap_or_default();
        let location = ["outside_geofence", "no_fix", "low_accuracy", "stale_fix"];
        let loc: Vec<&(String, bool)> = exc
            .iter()
            .filter(|(c, _)| location.contains(&c.as_str()))
            .collect();
        let place_ok = v.geofence == "verified" || (!loc.is_empty() && loc.iter().all(|(_, open)| !open));
        if v.completed.is_some() && place_ok && reported.contains(&v.id) && photos.contains_key(&v.id) {
            e.key_actions += 1;
        }
        if let Some(s) = v.score {
            e.score_sum += s;
            e.scored += 1;
        }
        for (code, _) in &exc {
            *e.exceptions.entry(code.clone()).or_default() += 1;
        }
        e.photos += photos.get(&v.id).copied().unwrap_or(0);
        if let Some(end) = v.ended.or(v.completed).filter(|e| *e >= v.started) {
            e.minutes_sum += (end - v.started) / 60_000;
            e.timed += 1;
        }
        if unplanned.contains(&v.id) {
            e.unplanned += 1;
        }
    }
    for p in &plans {
        let e = reps.entry(p.rep.clone()).or_default();
        e.planned += 1;
        if let Some(Some((_, late))) = outcome.get(&p.id) {
            e.visited += 1;
            e.late += i64::from(*late);
        }
    }
    Truth {
        reps,
        outcome,
        unplanned,
    }
}

// --- reading the pages' figures -----------------------------------------------------------------

/// The attributes of every tag holding `marker`'s first occurrence at or after `from`.
fn tag_attrs(html: &str, at: usize) -> HashMap<String, String> {
    let start = html[..at].rfind('<').unwrap();
    let end = at + html[at..].find('>').unwrap();
    let tag = &html[start..end];
    let mut out = HashMap::new();
    let mut rest = tag;
    while let Some(eq) = rest.find("=\"") {
        let name = rest[..eq].rsplit(' ').next().unwrap().to_string();
        let after = &rest[eq + 2..];
        let close = after.find('"').unwrap();
        out.insert(name, after[..close].to_string());
        rest = &after[close + 1..];
    }
    out
}

/// The row `<tr data-key="key">` of table `table_id`: its html up to `</tr>`.
fn row<'a>(html: &'a str, table_id: &str, key: &str) -> Option<&'a str> {
    let t = html.find(&format!("id=\"{table_id}\""))?;
    let table = &html[t..t + html[t..].find("</table>").unwrap()];
    let r = table.find(&format!("<tr data-key=\"{key}\""))?;
    let rest = &table[r..];
    Some(&rest[..rest.find("</tr>").unwrap()])
}

/// The attributes of the cell `data-figure="fig"` in a row.
fn cell(row: &str, fig: &str) -> HashMap<String, String> {
    let at = row
        .find(&format!("data-figure=\"{fig}\""))
        .unwrap_or_else(|| panic!("{fig} in {row}"));
    tag_attrs(row, at)
}

fn int(m: &HashMap<String, String>, k: &str) -> i64 {
    m.get(k)
        .unwrap_or_else(|| panic!("{k} in {m:?}"))
        .parse()
        .unwrap()
}

/// A scorecard row as the ranking shows it, in `Expect`'s terms.
fn shown(row: &str) -> Expect {
    let completion = cell(row, "completion");
    let key = cell(row, "key_actions");
    let on_time = cell(row, "on_time");
    let exc = cell(row, "exceptions");
    let photos = cell(row, "photos");
    let minutes = cell(row, "minutes");
    let mut exceptions = BTreeMap::new();
    let mut rest = row;
    while let Some(i) = rest.find("<li data-code=\"") {
        let a = tag_attrs(rest, i + 4);
        exceptions.insert(a["data-code"].clone(), int(&a, "data-count"));
        rest = &rest[i + 4..];
    }
    let e = Expect {
        visits: int(&cell(row, "visits"), "data-value"),
        key_actions: int(&key, "data-num"),
        planned: int(&completion, "data-planned"),
        visited: int(&completion, "data-visited"),
        late: int(&completion, "data-visited") - int(&on_time, "data-num"),
        unplanned: 0,
        score_sum: 0.0,
        scored: 0,
        exceptions,
        photos: int(&photos, "data-num"),
        minutes_sum: int(&minutes, "data-num"),
        timed: int(&minutes, "data-den"),
    };
    assert_eq!(int(&key, "data-den"), e.visits);
    assert_eq!(int(&on_time, "data-den"), e.planned);
    assert_eq!(int(&exc, "data-num"), e.exceptions.values().sum::<i64>());
    assert_eq!(int(&photos, "data-den"), e.visits);
    e
}

/// What `shown` can compare: the score is checked separately (a rounded average on the page).
fn comparable(e: &Expect) -> Expect {
    Expect {
        unplanned: 0,
        score_sum: 0.0,
        scored: 0,
        ..e.clone()
    }
}

fn code_count(e: &Expect, code: &str) -> i64 {
    e.exceptions.get(code).copied().unwrap_or(0)
}

#[test]
fn a_seeded_month_shows_the_figures_computed_from_the_raw_rows() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    seeded(d);
    let (first, last) = (days(FIRST), days(LAST));
    let truth = truth(d, first, last);

    // The seed covers every case the figures count.
    let all: Expect = truth.reps.values().fold(Expect::default(), |mut a, e| {
        a.planned += e.planned;
        a.visited += e.visited;
        a.late += e.late;
        a.unplanned += e.unplanned;
        a.visits += e.visits;
        a
    });
    assert_eq!(all.planned, DAYS * 6);
    let missed: BTreeSet<String> = truth
        .outcome
        .iter()
        .filter(|(_, o)| o.is_none())
        .map(|(p, _)| p.clone())
        .collect();
    assert!(!missed.is_empty() && missed.len() < 50, "{}", missed.len());
    assert!(all.late > 0 && all.unplanned > 0 && all.visited > all.late);
    for code in ["possible_reuse", "mock_location", "outside_geofence"] {
        assert!(
            truth.reps.values().any(|e| code_count(e, code) > 0),
            "{code} seeded"
        );
    }

    // The read model.
    {
        let c = common::test_db::connect(d);
        let pvd = planned_vs_done(&c, Calendar::CHINA, None, first, last, &PlanFilter::default()).unwrap();
        let got: BTreeMap<String, Option<(String, bool)>> = pvd
            .stops
            .iter()
            .map(|s| {
                let o = match &s.outcome {
                    StopOutcome::Visited { visit_id, late, .. } => Some((visit_id.clone(), *late)),
                    StopOutcome::Missed => None,
                };
                (s.plan_id.clone(), o)
            })
            .collect();
        assert_eq!(got, truth.outcome);
        let unplanned: BTreeSet<String> = pvd.unplanned.iter().map(|u| u.visit_id.clone()).collect();
        assert_eq!(unplanned, truth.unplanned);
        // Windows come through from the import.
        assert!(pvd.stops.iter().any(|s| s.window.is_some()));
        assert!(pvd.stops.iter().any(|s| s.window.is_none()));
        // A team filter keeps that team's reps only.
        let f = PlanFilter {
            team: Some("sup-liu".into()),
            ..PlanFilter::default()
        };
        let liu = planned_vs_done(&c, Calendar::CHINA, None, first, last, &f).unwrap();
        assert!(!liu.stops.is_empty() && liu.stops.iter().all(|s| s.rep_id == "rep-chen"));
    }

    let server = Server::start(d);
    let boss = Session::new(server.addr, "boss", PW);
    let q = format!("from={FIRST}&to={LAST}");

    // Planned versus done.
    let plan = boss.get(&format!("/app/plan?{q}&lang=en"));
    assert_eq!(plan.status, 200);
    let plan = plan.text();
    let total = |k: &str| -> String {
        let at = plan.find(&format!("data-total=\"{k}\"")).unwrap();
        let v = &plan[at + plan[at..].find('>').unwrap() + 1..];
        v[..v.find('<').unwrap()].to_string()
    };
    assert_eq!(total("planned"), all.planned.to_string());
    assert_eq!(total("visited"), all.visited.to_string());
    assert_eq!(total("missed"), (all.planned - all.visited).to_string());
    assert_eq!(total("late"), all.late.to_string());
    assert_eq!(total("unplanned"), all.unplanned.to_string());
    assert_eq!(
        total("completion"),
        format!("{:.1} %", all.visited as f64 * 100.0 / all.planned as f64)
    );
    for (rep, e) in &truth.reps {
        let r = row(&plan, "reps", rep).unwrap();
        assert_eq!(r.matches("data-figure").count(), 6);
        for (fig, want) in [
            ("planned", e.planned),
            ("visited", e.visited),
            ("missed", e.planned - e.visited),
            ("late", e.late),
            ("unplanned", e.unplanned),
        ] {
            let at = r.find(&format!("data-figure=\"{fig}\"")).unwrap();
            let v = &r[at + r[at..].find('>').unwrap() + 1..];
            assert_eq!(v[..v.find('<').unwrap()], want.to_string(), "{rep} {fig}");
        }
    }
    // Team sup-wang = rep-li + rep-zhao.
    let wang_team = row(&plan, "teams", "sup-wang").unwrap();
    let planned_wang = truth.reps["rep-li"].planned + truth.reps["rep-zhao"].planned;
    assert!(wang_team.contains(&format!("data-figure=\"planned\">{planned_wang}<")));
    // The missed stops, exactly, with names (not ids) in the cells.
    let listed: BTreeSet<String> = plan
        .match_indices("<tr class=\"missed-stop\"")
        .map(|(i, _)| tag_attrs(&plan, i + 4)["data-plan"].clone())
        .collect();
    assert_eq!(listed, missed);
    let missed_section = &plan[plan.find("id=\"missed\"").unwrap()..];
    assert!(missed_section.contains("李娜") && missed_section.contains("联华超市"));
    assert!(missed_section.contains("href=\"/app/stores/st-"));

    // The ranking: every rep's and team's figures.
    let ranking = boss.get(&format!("/app/ranking?{q}&lang=en"));
    assert_eq!(ranking.status, 200);
    let ranking = ranking.text();
    for (rep, e) in &truth.reps {
        let r = row(&ranking, "reps", rep).unwrap();
        assert_eq!(shown(r), comparable(e), "{rep}");
        let score = cell(r, "score");
        assert_eq!(
            score["data-value"],
            format!("{:.2}", e.score_sum / e.scored as f64),
            "{rep}"
        );
        assert_eq!(
            int(&cell(r, "reuse"), "data-value"),
            code_count(e, "possible_reuse")
        );
        assert_eq!(
            int(&cell(r, "mock"), "data-value"),
            code_count(e, "mock_location")
        );
    }
    let mut team = comparable(&truth.reps["rep-li"]);
    let zhao = &truth.reps["rep-zhao"];
    for (k, v) in &zhao.exceptions {
        *team.exceptions.entry(k.clone()).or_default() += v;
    }
    team.visits += zhao.visits;
    team.key_actions += zhao.key_actions;
    team.planned += zhao.planned;
    team.visited += zhao.visited;
    team.late += zhao.late;
    team.photos += zhao.photos;
    team.minutes_sum += zhao.minutes_sum;
    team.timed += zhao.timed;
    assert_eq!(shown(row(&ranking, "teams", "sup-wang").unwrap()), team);
    // Exception codes in words.
    assert!(
        ranking.contains("Mock location") || ranking.contains("mock location"),
        "codes in words"
    );

    // Sorted by visits, most first; then fewest first.
    let order = |html: &str| -> Vec<String> {
        let t = html.find("id=\"reps\"").unwrap();
        html[t..]
            .match_indices("<tr data-key=\"")
            .map(|(i, _)| tag_attrs(&html[t..], i + 4)["data-key"].clone())
            .collect()
    };
    let mut by_visits: Vec<(i64, String, String)> = truth
        .reps
        .iter()
        .map(|(r, e)| {
            (
                e.visits,
                ["李娜", "赵强", "陈静"][REPS.iter().position(|x| x == r).unwrap()].to_string(),
                r.clone(),
            )
        })
        .collect();
    by_visits.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let desc = boss.get(&format!("/app/ranking?{q}&sort=visits&dir=desc")).text();
    assert_eq!(
        order(&desc),
        by_visits.iter().map(|v| v.2.clone()).collect::<Vec<_>>()
    );
    by_visits.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    let asc = boss.get(&format!("/app/ranking?{q}&sort=visits&dir=asc")).text();
    assert_eq!(
        order(&asc),
        by_visits.iter().map(|v| v.2.clone()).collect::<Vec<_>>()
    );
    // The headings are links that sort.
    let link = format!(
        "href=\"/app/ranking?{}&amp;sort=visits&amp;dir=asc#reps\"",
        q.replace('&', "&amp;")
    );
    assert!(
        desc.contains(&link),
        "{}",
        &desc[desc.find("id=\"reps\"").unwrap()..][..900]
    );

    // A rep's page: the same figures, trends, latest visits, open exceptions.
    let li = boss.get(&format!("/app/reps/rep-li?{q}&lang=en"));
    assert_eq!(li.status, 200);
    let li = li.text();
    let card = row(&li, "rep-figures", "rep-li").unwrap();
    assert_eq!(shown(card), comparable(&truth.reps["rep-li"]));
    assert!(li.contains("id=\"trend-completion\"") && li.contains("id=\"trend-key-actions\""));
    assert!(li.contains("data-visit=\""));
    let open_li: i64 = common::test_db::connect(d)
        .query_row(
            "SELECT count(*) FROM exceptions WHERE user_id = 'rep-li' AND resolved_ms IS NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(li.matches("<tr data-exception=").count() as i64, open_li.min(50));

    // A store's profile: history (paged), score trend, photos, open exceptions.
    let st = boss.get(&format!("/app/stores/st-001?{q}&lang=en"));
    assert_eq!(st.status, 200);
    let st = st.text();
    let c = common::test_db::connect(d);
    let n_visits: i64 = c
        .query_row("SELECT count(*) FROM visits WHERE store_id = 'st-001'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(st.contains(&format!("of {n_visits}")), "history total");
    assert_eq!(st.matches("<tr data-visit=").count() as i64, n_visits.min(20));
    let mut day_scores: BTreeMap<i64, (f64, i64)> = BTreeMap::new();
    for r in c
        .prepare("SELECT started_wall_ms, score FROM visits WHERE store_id = 'st-001' AND score IS NOT NULL")
        .unwrap()
        .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, f64>(1)?)))
        .unwrap()
    {
        let (ms, s) = r.unwrap();
        if (first..=last).contains(&day_of(ms)) {
            let e = day_scores.entry(day_of(ms)).or_default();
            e.0 += s;
            e.1 += 1;
        }
    }
    let avg = day_scores.values().map(|(s, n)| s / *n as f64).sum::<f64>() / day_scores.len() as f64;
    assert!(
        st.contains(&format!("data-figure=\"average_score\">{avg:.1}<")),
        "store score {avg}"
    );
    assert!(st.contains("src=\"/app/thumbs/"));
}

#[test]
fn scope_and_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    seeded(d);
    let server = Server::start(d);
    let wang = Session::new(server.addr, "sup-wang", WANG_PW);
    let q = format!("from={FIRST}&to={LAST}");
    // A supervisor sees their team: their reps' pages, not another team's rep.
    assert_eq!(wang.get(&format!("/app/reps/rep-li?{q}")).status, 200);
    assert_eq!(wang.get(&format!("/app/reps/rep-chen?{q}")).status, 404);
    assert_eq!(wang.get("/app/reps/sup-wang").status, 404);
    assert_eq!(wang.get("/app/reps/nobody").status, 404);
    assert_eq!(wang.get("/app/stores/nowhere").status, 404);
    let ranking = wang.get(&format!("/app/ranking?{q}")).text();
    assert!(row(&ranking, "reps", "rep-li").is_some() && row(&ranking, "reps", "rep-zhao").is_some());
    assert!(row(&ranking, "reps", "rep-chen").is_none());
    let plan = wang.get(&format!("/app/plan?{q}")).text();
    assert!(!plan.contains("data-rep=\"rep-chen\""));
    assert!(row(&plan, "reps", "rep-chen").is_none());
    // The store page shows the team's visits of a shared store only.
    let st = wang.get(&format!("/app/stores/st-002?{q}")).text();
    assert!(!st.contains("陈静"), "another team's rep named on the store page");

    // Bad input: the localized 400 page, nothing else.
    let boss = Session::new(server.addr, "boss", PW);
    for (pq, zh) in [
        (
            "/app/plan?from=2026-10-10&to=2026-10-01&lang=zh-CN",
            "开始日期晚于结束日期",
        ),
        (
            "/app/ranking?from=2026-01-01&to=2026-10-01&lang=zh-CN",
            "最长 92 天",
        ),
        ("/app/ranking?sort=nope&lang=zh-CN", "排行榜只能按"),
        ("/app/reps/rep-li?date=2026-02-30&lang=zh-CN", "日期"),
        ("/app/stores/st-001?page=0&lang=zh-CN", "页"),
    ] {
        let r = boss.get(pq);
        assert_eq!(r.status, 400, "{pq}");
        assert!(r.text().contains(zh), "{pq}: {}", r.text());
    }
    let r = boss.get("/app/plan?from=2026-10-10&to=2026-10-01&lang=en");
    assert!(r.text().contains("start date is after its end date"));
}
