//! Exceptions count on their visit's day, not the day the server received them (issue 11,
//! acceptance 2), and that day is in the configured time zone.
//!
//! Two phones were offline: their signed ops go through the real ingest a day and two days
//! after the visits (the push's server time), one visit crossing midnight. The queue, the day
//! page, the export and the health figures, read over real HTTP from the real binary, all put
//! the exceptions on the visits' day.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)]

#[path = "e2e/common.rs"]
mod common;

#[path = "support/phone.rs"]
mod phone;

use std::path::Path;
use std::process::Command;

use common::{BIN, Server, Session, admin_ok};
use fieldproof_server::export::{Cell, ExportFilter, ExportKind};
use fieldproof_server::queue::{self, Actor, QueueFilter, StatusFilter};
use fieldproof_server::{Calendar, Limits, now_ms};
use phone::Phone;

const REFERENCE: &str = include_str!("../../tests/fixtures/reference.json");
const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;
const PASSWORD: &str = "boss-password-1";

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

/// Unix ms of a wall-clock time in Shanghai (UTC+08:00).
fn shanghai(date: &str, hour: i64, minute: i64) -> i64 {
    days(date) * DAY + (hour - 8) * HOUR + minute * 60_000
}

impl Phone {
    /// Check in at `start` from `check_in` (lat, lon), a photo op whose bytes never come (when
    /// `photo`), report, complete, and check out at `end` from `check_out` (`mock`: the location
    /// service said it was a mock location).
    #[allow(clippy::too_many_arguments)]
    fn visit(
        &mut self,
        visit: &str,
        store: &str,
        start: i64,
        check_in: (f64, f64),
        photo: bool,
        end: i64,
        check_out: (f64, f64),
        mock: bool,
    ) {
        self.check_in(visit, store, None, start, check_in, false);
        if photo {
            self.shelf_photo(visit, store, start);
        }
        self.report_and_complete(visit, start, 80.0);
        self.check_out(visit, end, check_out, mock);
    }
}

const ST_001: (f64, f64) = (31.2304, 121.5200);
const ST_002: (f64, f64) = (31.2360, 121.5050);
const FAR: (f64, f64) = (31.3000, 121.6000);

/// rep-li's visit at st-001 on 2026-11-20 10:00 (checked in far away; a photo that never
/// arrives), pushed the next morning; rep-chen's at st-002 from 23:50 that night to 00:20 on the
/// 21st (checked out far away on a mock location), pushed on the 22nd.
fn offline_visits(dir: &Path, calendar: Calendar) -> i64 {
    let store = common::test_db::store_with(
        dir,
        Limits {
            calendar,
            ..Limits::default()
        },
    );
    store.load_reference_json(REFERENCE, now_ms()).unwrap();
    let mut li = Phone::new(&store, "rep-li", "rep-li");
    li.visit(
        "v-li",
        "st-001",
        shanghai("2026-11-20", 10, 0),
        FAR,
        true,
        shanghai("2026-11-20", 10, 30),
        ST_001,
        false,
    );
    li.push(&store, shanghai("2026-11-21", 9, 0));
    let mut chen = Phone::new(&store, "rep-chen", "rep-chen");
    chen.visit(
        "v-chen",
        "st-002",
        shanghai("2026-11-20", 23, 50),
        ST_002,
        false,
        shanghai("2026-11-21", 0, 20),
        FAR,
        true,
    );
    chen.push(&store, shanghai("2026-11-22", 8, 0));
    let c = common::test_db::connect(dir);
    c.query_row("SELECT count(*) FROM exceptions", [], |r| r.get(0))
        .unwrap()
}

fn filter(q: &str) -> QueueFilter {
    let uri: axum::http::Uri = format!("/app/exceptions?{q}").parse().unwrap();
    axum::extract::Query::<QueueFilter>::try_from_uri(&uri).unwrap().0
}

/// The part of a page from the element with this id to the end of its section (the whole page
/// when there is no such element).
fn section<'a>(html: &'a str, id: &str) -> &'a str {
    match html.find(&format!("id=\"{id}\"")) {
        Some(start) => {
            let rest = &html[start..];
            &rest[..rest.find("</section>").unwrap_or(rest.len())]
        }
        None => html,
    }
}

#[test]
fn exceptions_received_days_later_count_on_the_visit_day() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let n = offline_visits(d, Calendar::CHINA);
    let visit_day = days("2026-11-20");
    {
        let c = common::test_db::connect(d);
        let mut st = c
            .prepare("SELECT code, subject, visit_day, event_ms, created_ms FROM exceptions ORDER BY id")
            .unwrap();
        let rows: Vec<(String, String, i64, i64, i64)> = st
            .query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let found: Vec<(&str, &str)> = rows.iter().map(|r| (r.0.as_str(), r.1.as_str())).collect();
        for want in [
            ("outside_geofence", "check_in"),
            ("photo_missing", "ph-v-li"),
            ("mock_location", "check_out"),
            ("outside_geofence", "check_out"),
        ] {
            assert!(found.contains(&want), "{want:?} in {found:?}");
        }
        for (code, subject, day, event, created) in &rows {
            assert_eq!(*day, visit_day, "{code} {subject}");
            // Received a day or more later; the check-out even happened after midnight.
            assert!(created - event > 8 * HOUR, "{code} {subject}");
        }
        let checkout = rows.iter().find(|r| r.0 == "mock_location").unwrap();
        assert_eq!(
            checkout.3,
            shanghai("2026-11-21", 0, 20),
            "the event's own time is kept"
        );
    }

    // The read model and the export, in process.
    {
        let store = common::test_db::store(d);
        let boss = Actor::head_office("boss");
        let page = queue::list(&store, &boss, &filter("date=2026-11-20&status=all")).unwrap();
        assert_eq!(page.total, n as u64);
        assert!(page.items.iter().all(|i| i.visit_date == "2026-11-20"));
        for day in ["2026-11-21", "2026-11-22"] {
            let f = QueueFilter {
                date: Some(day.into()),
                status: Some(StatusFilter::All),
                ..QueueFilter::default()
            };
            assert_eq!(queue::list(&store, &boss, &f).unwrap().total, 0, "{day}");
        }
        let on = |day: &str| ExportFilter {
            from: Some(day.into()),
            to: Some(day.into()),
            ..ExportFilter::default()
        };
        let t = fieldproof_server::export::table(
            &store,
            ExportKind::Exceptions,
            &on("2026-11-20"),
            fieldproof_server::i18n::Lang::En,
        )
        .unwrap();
        assert_eq!(t.rows.len() as i64, n);
        assert!(t.rows.iter().all(|r| r[3] == Cell::Date(visit_day)));
        for day in ["2026-11-21", "2026-11-22"] {
            let t = fieldproof_server::export::table(
                &store,
                ExportKind::Exceptions,
                &on(day),
                fieldproof_server::i18n::Lang::En,
            )
            .unwrap();
            assert!(t.rows.is_empty(), "{day}");
        }
    }

    // The pages, over HTTP from the real binary.
    admin_ok(
        d,
        &[
            "create-user",
            "--id",
            "boss",
            "--name",
            "总部",
            "--role",
            "head_office",
            "--password",
            PASSWORD,
        ],
    );
    let server = Server::start(d);
    let s = Session::new(server.addr, "boss", PASSWORD);

    let queue_on = |day: &str| {
        let r = s.get(&format!("/app/exceptions?date={day}&status=all"));
        assert_eq!(r.status, 200);
        r.text()
    };
    let q = queue_on("2026-11-20");
    assert!(q.contains("/app/visits/v-li"), "{q}");
    assert!(q.contains("/app/visits/v-chen"), "{q}");
    for day in ["2026-11-21", "2026-11-22"] {
        let q = queue_on(day);
        assert!(
            !q.contains("/app/visits/v-li") && !q.contains("/app/visits/v-chen"),
            "{day}: {q}"
        );
    }

    let today = s.get("/app?date=2026-11-20");
    assert_eq!(today.status, 200);
    let html = today.text();
    assert!(html.contains("/app/visits/v-li") && html.contains("/app/visits/v-chen"));
    assert!(
        !s.get("/app?date=2026-11-21")
            .text()
            .contains("/app/visits/v-chen")
    );

    let csv_on = |day: &str| {
        let r = s.get(&format!("/app/export/exceptions.csv?from={day}&to={day}"));
        assert_eq!(r.status, 200);
        r.text()
            .lines()
            .skip(1)
            .filter(|l| !l.trim().is_empty())
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    let rows = csv_on("2026-11-20");
    assert_eq!(rows.len() as i64, n, "{rows:?}");
    assert!(rows.iter().all(|r| r.contains(",2026-11-20,")), "{rows:?}");
    assert!(csv_on("2026-11-21").is_empty());
    assert!(csv_on("2026-11-22").is_empty());

    // Health for the 14 days up to the 20th: the exceptions are there (none closed yet); up to
    // the 19th, none.
    let health = s.get("/app/health?date=2026-11-20").text();
    let resolution = section(&health, "metric-resolution");
    assert!(resolution.contains(&format!("(0 / {n})")), "{resolution}");
    let health = s.get("/app/health?date=2026-11-19").text();
    assert!(section(&health, "metric-resolution").contains("(0 / 0)"));

    // Resolving one through the queue's resolve route moves the figure on that same day.
    let id: i64 = {
        let c = common::test_db::connect(d);
        c.query_row("SELECT min(id) FROM exceptions", [], |r| r.get(0))
            .unwrap()
    };
    let csrf = s.csrf();
    let r = s.post(
        &format!("/app/exceptions/{id}/resolve"),
        &format!("csrf={csrf}&comment=%E5%B7%B2%E6%A0%B8%E5%AE%9E&back=%2Fapp%2Fexceptions"),
        &[],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    let health = s.get("/app/health?date=2026-11-20").text();
    let resolution = section(&health, "metric-resolution");
    assert!(resolution.contains(&format!("(1 / {n})")), "{resolution}");
    let history = {
        let c = common::test_db::connect(d);
        queue::history(&c, &Actor::head_office("boss"), id).unwrap()
    };
    assert_eq!(history.len(), 2);
    assert_eq!(history[1].action, "resolve");
    assert_eq!(history[1].comment.as_deref(), Some("已核实"));
    assert_eq!(history[1].actor_name.as_deref(), Some("总部"));
    // A second resolve of the same one is refused, not recorded twice.
    let r = s.post(
        &format!("/app/exceptions/{id}/resolve"),
        &format!("csrf={csrf}&comment=again&back=%2Fapp%2Fexceptions"),
        &[],
    );
    assert_eq!(r.status, 400);
}

#[test]
fn the_time_zone_is_configuration() {
    // In UTC, rep-chen's 23:50 Shanghai check-in is 15:50 on the 20th and rep-li's 10:00 is
    // 02:00: both still the 20th. Moving the zone to UTC-10:00 puts rep-li's visit on the 19th.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let n = offline_visits(d, Calendar::parse("-10:00").unwrap());
    let c = common::test_db::connect(d);
    let on = |visit: &str| -> Vec<i64> {
        let mut st = c
            .prepare("SELECT DISTINCT visit_day FROM exceptions WHERE visit_id = ?1")
            .unwrap();
        st.query_map([visit], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert_eq!(on("v-li"), [days("2026-11-19")]);
    assert_eq!(on("v-chen"), [days("2026-11-20")]);

    // Served in that zone, the pages and the export agree with it.
    admin_ok(
        d,
        &[
            "create-user",
            "--id",
            "boss",
            "--name",
            "Boss",
            "--role",
            "admin",
            "--password",
            PASSWORD,
        ],
    );
    let server = Server::start_with(d, &["--time-zone", "-10:00"], None);
    let s = Session::new(server.addr, "boss", PASSWORD);
    let day_page = s.get("/app?date=2026-11-19").text();
    assert!(day_page.contains("/app/visits/v-li") && !day_page.contains("/app/visits/v-chen"));
    let visits_csv = s
        .get("/app/export/visits.csv?from=2026-11-19&to=2026-11-19")
        .text();
    assert!(
        visits_csv.contains("v-li,2026-11-19,2026-11-19 16:00:00"),
        "{visits_csv}"
    );
    assert!(!visits_csv.contains("v-chen"));
    let ex = s.get("/app/exceptions?date=2026-11-20&status=all").text();
    assert!(ex.contains("/app/visits/v-chen") && !ex.contains("/app/visits/v-li"));
    drop(server);

    // The admin CLI takes the same setting (flag or FIELDPROOF_TIME_ZONE).
    let out = tempfile::tempdir().unwrap();
    let csv = out.path().join("visits.csv");
    let export = |zone: &str| {
        let o = Command::new(BIN)
            .args(["admin", "export-csv", "--kind", "visits", "--out"])
            .arg(&csv)
            .arg("--data-dir")
            .arg(d)
            .env("FIELDPROOF_DATABASE", common::test_db::database_env(d))
            .env("FIELDPROOF_TIME_ZONE", zone)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        std::fs::read_to_string(&csv).unwrap()
    };
    assert!(export("+08:00").contains("v-li,2026-11-20,2026-11-20 10:00:00"));
    assert!(export("Asia/Shanghai").contains("v-chen,2026-11-20,2026-11-20 23:50:00"));
    assert!(export("UTC").contains("v-chen,2026-11-20,2026-11-20 15:50:00"));
    assert!(n >= 4);

    // A zone with daylight saving time, or nonsense, is refused with the reason.
    for (zone, why) in [
        ("Europe/Berlin", "daylight saving time"),
        ("+25:00", "outside UTC-12:00"),
        ("eight", "not understood"),
    ] {
        let o = Command::new(BIN)
            .args(["admin", "stats", "--time-zone", zone, "--data-dir"])
            .arg(d)
            .output()
            .unwrap();
        assert!(!o.status.success(), "{zone}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(why), "{zone}: {err}");
        let o = Command::new(BIN)
            .args([
                "serve",
                "--addr",
                "127.0.0.1:0",
                "--time-zone",
                zone,
                "--data-dir",
            ])
            .arg(d)
            .output()
            .unwrap();
        assert!(!o.status.success(), "{zone}");
    }
}
