//! The day page's and process health's paged tables over real HTTP against the real binary: the
//! day's counts stay whole while the by-rep and by-store tables show 50 rows with the totals,
//! the store compliance table lists the lowest-scoring stores first, 50 a page, a page past the
//! end shows the last one, and every paging link keeps the day and the other table's page.
//!
//! Visits and stores are seeded straight into SQLite (ingest writes them in its own tests).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "e2e/common.rs"]
mod common;

use common::{Server, Session, admin_ok, reference_file};
use fieldproof_server::db::params;

const PW: &str = "a-long-password-1";
const REPS: [&str; 3] = ["rep-li", "rep-zhao", "rep-chen"];
/// 2026-11-20, days since 1970-01-01.
const DAY0: i64 = 20_777;
/// Visits on DAY0: 130, one per store (stores 门店 000 to 门店 129; store i scores 100 - i / 2).
const N: i64 = 130;

/// Head office `boss` and `N` visits on 2026-11-20, each at its own store (added to the
/// reference's), 3 minutes apart from 09:00 Shanghai time; visit i is rep REPS[i % 3]'s.
fn seeded() -> (tempfile::TempDir, Server) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    admin_ok(d, &["init"]);
    admin_ok(d, &["load-reference", reference_file().to_str().unwrap()]);
    admin_ok(
        d,
        &[
            "create-user",
            "--id",
            "boss",
            "--name",
            "总部张",
            "--role",
            "head_office",
            "--password",
            PW,
        ],
    );
    let mut c = common::test_db::connect(d);
    let tx = c.transaction().unwrap();
    for i in 0..N {
        let store = format!("pg-{i:03}");
        tx.execute(
            "INSERT INTO stores (id, territory, body) VALUES (?1, 'T-PAGING', ?2)",
            params![
                store,
                serde_json::json!({"id": store, "name": format!("门店 {i:03}")}).to_string()
            ],
        )
        .unwrap();
        let started = DAY0 * 86_400_000 + 3_600_000 + i * 180_000;
        tx.execute(
            "INSERT INTO visits (id, device_id, user_id, store_id, kind, template_id, template_version, status,
                started_wall_ms, completed_wall_ms, ended_wall_ms, geofence, score, check_in_op, updated_ms)
             VALUES (?1, 'dev', ?2, ?3, 'store_check', 'tpl-store-check', 1, 'checked_out', ?4, ?5, ?5, 'verified', ?6, 'op', ?4)",
            params![
                format!("visit-{i:03}"),
                REPS[(i % 3) as usize],
                store,
                started,
                started + 600_000,
                100.0 - (i / 2) as f64
            ],
        )
        .unwrap();
    }
    tx.commit().unwrap();
    drop(c);
    let server = Server::start(d);
    (dir, server)
}

fn page(s: &Session, pq: &str) -> String {
    let r = s.get(pq);
    assert_eq!(r.status, 200, "{pq}: {}", r.text());
    r.text()
}

/// The part of `html` from `<section id="{id}"` to its end.
fn section<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!("<section id=\"{id}\""))
        .unwrap_or_else(|| panic!("no section {id}"));
    let rest = &html[start..];
    &rest[..rest.find("</section>").unwrap_or(rest.len())]
}

/// Rows of a day page's table: each links its visit once.
fn visit_rows(html: &str) -> usize {
    html.matches("<a href=\"/app/visits/").count()
}

/// Rows of the compliance table: each has one store cell.
fn store_rows(html: &str) -> usize {
    html.matches("<td class=\"name\" data-label=\"门店\"").count()
        + html.matches("<td class=\"name\" data-label=\"Store\"").count()
}

#[test]
fn the_day_page_shows_the_whole_days_counts_and_pages_its_tables() {
    let (_dir, s) = seeded();
    let boss = Session::new(s.addr, "boss", PW);
    let day = page(&boss, "/app?date=2026-11-20&lang=zh-CN");
    // The counts are the whole day's.
    assert!(day.contains("拜访数: <strong>130</strong>"), "{day}");
    for id in ["by-rep", "by-store"] {
        let sec = section(&day, id);
        assert_eq!(visit_rows(sec), 50, "{id}: the first 50 of 130");
        assert!(sec.contains("第 1–50 条，共 130 条"), "{id}: {sec}");
        assert!(!sec.contains("rel=\"prev\""), "{id}: no page before the first");
    }
    // Each table's link keeps the day and the other table's page.
    assert!(day.contains(r##"href="/app?date=2026-11-20&amp;rep_page=2&amp;store_page=1#by-rep""##));
    assert!(day.contains(r##"href="/app?date=2026-11-20&amp;rep_page=1&amp;store_page=2#by-store""##));
    // Paging one table leaves the other where it was.
    let later = page(&boss, "/app?date=2026-11-20&rep_page=3&store_page=2&lang=en");
    let by_rep = section(&later, "by-rep");
    assert_eq!(visit_rows(by_rep), 30, "the last 30 of 130");
    assert!(by_rep.contains("Visits 101–130 of 130"), "{by_rep}");
    assert!(!by_rep.contains("rel=\"next\""), "no page after the last");
    assert!(by_rep.contains(r##"href="/app?date=2026-11-20&amp;rep_page=2&amp;store_page=2#by-rep""##));
    let by_store = section(&later, "by-store");
    assert!(by_store.contains("Visits 51–100 of 130"), "{by_store}");
    // The by-store table is in store order: page 2 starts at the 51st store.
    assert!(by_store.contains("门店 050") && !by_store.contains("门店 049"));
    // A page past the end shows the last page (a link from a day that has since shrunk).
    let past = page(&boss, "/app?date=2026-11-20&rep_page=99&lang=en");
    assert!(section(&past, "by-rep").contains("Visits 101–130 of 130"));
    // Every row still links to its visit.
    assert!(by_rep.contains("href=\"/app/visits/visit-"));
    // The day navigator is there, and a bad page number is a clear error.
    assert!(later.contains(r#"<a class="day-prev" href="/app?date=2026-11-19">"#));
    let bad = boss.get("/app?date=2026-11-20&rep_page=0&lang=en");
    assert_eq!(bad.status, 400);
    assert!(
        bad.text()
            .contains("The page number must be a whole number from 1.")
    );
}

#[test]
fn health_lists_the_lowest_scoring_stores_first_and_pages_the_rest() {
    let (_dir, s) = seeded();
    let boss = Session::new(s.addr, "boss", PW);
    let health = page(&boss, "/app/health?date=2026-11-20&lang=zh-CN");
    let grid = section(&health, "compliance");
    assert_eq!(store_rows(grid), 50);
    assert!(grid.contains("第 1–50 家门店，共 130 家"), "{grid}");
    // Lowest first: store 129 scores 36, store 000 scores 100.
    let (worst, next) = (grid.find("门店 129").unwrap(), grid.find("门店 127").unwrap());
    assert!(worst < next, "lowest first");
    assert!(
        grid.contains("36.0 (1)"),
        "the period's score and its visits: {grid}"
    );
    assert!(!grid.contains("门店 000"), "the best stores are on later pages");
    assert!(grid.contains(r##"href="/app/health?date=2026-11-20&amp;page=2#compliance""##));
    // The last page and a page past the end: the best stores, 101–130.
    for q in ["page=3", "page=40"] {
        let last = page(&boss, &format!("/app/health?date=2026-11-20&{q}&lang=en"));
        let grid = section(&last, "compliance");
        assert_eq!(store_rows(grid), 30, "{q}");
        assert!(grid.contains("Stores 101–130 of 130"), "{q}");
        assert!(grid.contains("门店 000") && grid.contains("100.0 (1)"), "{q}");
        assert!(grid.contains(r##"href="/app/health?date=2026-11-20&amp;page=2#compliance""##));
    }
    // The rates still count every visit of the day, not a page of them: 130 completed,
    // none with a photo or report, so key actions 0 / 130.
    assert!(health.contains("(0 / 130)"), "{health}");
}

/// Migration 009's `visits.photo_received` (read by the key-action figure) follows every way a
/// photo becomes received: the op arriving with its bytes already there, the bytes arriving
/// later, and a visit row written after its photos.
#[test]
fn a_visits_received_photo_flag_follows_its_photos() {
    let (dir, s) = seeded();
    drop(s);
    let c = common::test_db::connect(dir.path());
    let photo = |id: &str, visit: &str, received: i64| {
        c.execute(
            "INSERT INTO photos (photo_id, op_id, visit_id, device_id, user_id, store_id, photo_kind, sha256,
                byte_len, evidence_code, received) VALUES (?1, ?1, ?2, 'dev', 'rep-li', 'pg-000', 'shelf', 'aa', 1, 'E', ?3)",
            params![id, visit, received],
        )
        .unwrap();
    };
    let flag = |visit: &str| -> i64 {
        c.query_row("SELECT photo_received FROM visits WHERE id = ?1", [visit], |r| {
            r.get(0)
        })
        .unwrap()
    };
    photo("p-0", "visit-000", 0);
    assert_eq!(flag("visit-000"), 0, "not received yet");
    c.execute("UPDATE photos SET received = 1 WHERE photo_id = 'p-0'", [])
        .unwrap();
    assert_eq!(flag("visit-000"), 1, "the bytes arrived");
    photo("p-1", "visit-001", 1);
    assert_eq!(flag("visit-001"), 1, "arrived with the op");
    photo("p-2", "visit-new", 1);
    c.execute(
        "INSERT INTO visits (id, device_id, user_id, store_id, kind, template_id, template_version, status,
            started_wall_ms, geofence, check_in_op, updated_ms)
         VALUES ('visit-new', 'dev', 'rep-li', 'pg-000', 'store_check', 'tpl-store-check', 1, 'checked_in', 0, 'verified', 'op', 0)",
        [],
    )
    .unwrap();
    assert_eq!(flag("visit-new"), 1, "a visit written after its photo");
    let wrong: i64 = c
        .query_row(
            "SELECT count(*) FROM visits v WHERE v.photo_received
                != CASE WHEN EXISTS (SELECT 1 FROM photos p WHERE p.visit_id = v.id AND p.received = 1)
                   THEN 1 ELSE 0 END",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(wrong, 0);
}
