//! The day's map (`/app/map`, issue 12, acceptance 1) over real HTTP from the real binary:
//! three reps' visits made by real cores (signed ops, pushed), plans for the day in the
//! server's reference data; the page's markup (its `data-*` attributes) must show each store's
//! status, each rep's route in check-in order, and the outside-geofence and mock-location marks.
//! Then the same day over configured tiles: tile images, the tile host allowed in the CSP and
//! nowhere else, the points converted to GCJ-02; and a bad tile template stops the server.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)]

#[path = "e2e/common.rs"]
mod common;

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use common::{BIN, Phone, Server, Session, admin_ok, fix_at, now_ms, reference_file, store_check};
use fieldproof_core::model::LocationFix;
use serde_json::{Value, json};

const PASSWORD: &str = "boss-password-1";
const DAY_MS: i64 = 86_400_000;

/// `YYYY-MM-DD` of day number `z` (days since 1970-01-01; Hinnant's civil-from-days), written
/// here independently of the server's calendar.
fn date_of(z: i64) -> String {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Today in Shanghai (the server's default zone, +08:00).
fn shanghai_today() -> i64 {
    (now_ms() + 8 * 3_600_000).div_euclid(DAY_MS)
}

/// The attributes of every element whose start tag begins with `start` (e.g. `<a class="visit"`).
fn elements(html: &str, start: &str) -> Vec<HashMap<String, String>> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find(start) {
        let tag = &rest[i + start.len()..];
        let end = tag.find('>').unwrap();
        let mut attrs = HashMap::new();
        let mut s = &tag[..end];
        while let Some(eq) = s.find("=\"") {
            let name = s[..eq].trim().to_string();
            let after = &s[eq + 2..];
            let close = after.find('"').unwrap();
            attrs.insert(name, after[..close].to_string());
            s = &after[close + 1..];
        }
        out.push(attrs);
        rest = &tag[end..];
    }
    out
}

/// The server's reference data: the fixture with plans for `today` and `yesterday` instead of
/// its own.
fn reference_with_plans(dir: &Path, today: &str, yesterday: &str) -> std::path::PathBuf {
    let mut r: Value = serde_json::from_str(&std::fs::read_to_string(reference_file()).unwrap()).unwrap();
    let plan = |id: &str, rep: &str, store: &str, date: &str, seq: u32| {
        json!({"id": id, "rep_id": rep, "store_id": store, "date": date,
               "template_id": "tpl-store-check", "sequence": seq})
    };
    r["plans"] = json!([
        plan("p-li-1", "rep-li", "st-001", today, 1),
        plan("p-li-2", "rep-li", "st-002", today, 2),
        plan("p-zhao-1", "rep-zhao", "st-101", today, 1),
        plan("p-zhao-y", "rep-zhao", "st-001", yesterday, 1),
    ]);
    let path = dir.join("reference-today.json");
    std::fs::write(&path, r.to_string()).unwrap();
    path
}

struct Seeded {
    dir: tempfile::TempDir,
    /// rep → visit ids in the order the rep made them.
    visits: HashMap<&'static str, Vec<String>>,
    today: String,
    yesterday: String,
}

/// Three reps' day: 李娜 (rep-li) visits her planned st-001 at the store, then her planned
/// st-002 from 8 km away (outside its fence); 赵强 (rep-zhao) visits his planned st-101 on a
/// mock location; 陈静 (rep-chen) has no plan and visits st-003, then st-001. 赵强 also had
/// st-001 planned yesterday and never went.
fn seeded_day() -> Seeded {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let today_n = shanghai_today();
    let (today, yesterday) = (date_of(today_n), date_of(today_n - 1));
    admin_ok(d, &["init"]);
    let reference = reference_with_plans(d, &today, &yesterday);
    admin_ok(d, &["load-reference", reference.to_str().unwrap()]);
    admin_ok(
        d,
        &[
            "create-user",
            "--id",
            "boss",
            "--name",
            "总部",
            "--role",
            "admin",
            "--password",
            PASSWORD,
        ],
    );
    admin_ok(
        d,
        &[
            "create-user",
            "--id",
            "sup-wang",
            "--name",
            "王磊",
            "--role",
            "supervisor",
            "--password",
            PASSWORD,
        ],
    );
    let server = Server::start(d);
    let mut visits: HashMap<&'static str, Vec<String>> = HashMap::new();
    let mut mock = fix_at(31.1962, 121.3972);
    mock.is_mock = true;
    let plan: [(&'static str, Vec<(&str, LocationFix)>); 3] = [
        (
            "rep-li",
            vec![
                ("st-001", fix_at(31.2304, 121.5200)),
                ("st-002", fix_at(31.3000, 121.6000)),
            ],
        ),
        ("rep-zhao", vec![("st-101", mock)]),
        (
            "rep-chen",
            vec![
                ("st-003", fix_at(31.2281, 121.5291)),
                ("st-001", fix_at(31.2305, 121.5201)),
            ],
        ),
    ];
    for (rep, stops) in plan {
        let phone = Phone::new();
        server.enrol_as(&phone.device, rep);
        for (store, fix) in stops {
            let v = store_check(&phone.core, rep, store, None, fix);
            visits.entry(rep).or_default().push(v.visit_id);
            // Check-ins a few milliseconds apart at least: the route's order is the clock's.
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let r = phone.device.push(server.addr, &phone.ops());
        assert_eq!(r.status, 200, "{}", r.text());
        assert!(
            common::statuses(&r.json()).iter().all(|s| s == "applied"),
            "{}",
            r.text()
        );
    }
    drop(server);
    Seeded {
        dir,
        visits,
        today,
        yesterday,
    }
}

fn statuses_of(html: &str) -> HashMap<String, String> {
    let mut by_store = HashMap::new();
    for start in ["<a class=\"store\"", "<g class=\"store\""] {
        for e in elements(html, start) {
            by_store.insert(e["data-store"].clone(), e["data-status"].clone());
        }
    }
    by_store
}

#[test]
fn the_day_on_the_map_shows_status_routes_and_marks() {
    let s = seeded_day();
    let d = s.dir.path();
    let server = Server::start(d);
    let boss = Session::new(server.addr, "boss", PASSWORD);

    let page = boss.get(&format!("/app/map?date={}&lang=zh-CN", s.today));
    assert_eq!(page.status, 200);
    let html = page.text();
    assert!(html.contains("地图"), "the menu names the map");
    assert!(html.contains("aria-current=\"page\""));

    // Stores: planned and visited, visited without a plan.
    let st = statuses_of(&html);
    let want: HashMap<String, String> = [
        ("st-001", "visited"),
        ("st-002", "visited"),
        ("st-101", "visited"),
        ("st-003", "unplanned"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(st, want);
    // Each store has its geofence circle.
    let fences = elements(&html, "<circle class=\"fence\"");
    assert_eq!(fences.len(), 4);

    // Check-ins: every visit a link to it, numbered in check-in order per rep, with its marks.
    let points = elements(&html, "<a class=\"visit\"");
    assert_eq!(points.len(), 5, "five check-ins");
    for (rep, ids) in &s.visits {
        let mut mine: Vec<&HashMap<String, String>> =
            points.iter().filter(|p| p["data-rep"] == *rep).collect();
        mine.sort_by_key(|p| p["data-order"].parse::<u32>().unwrap());
        let order: Vec<&str> = mine.iter().map(|p| p["data-visit"].as_str()).collect();
        assert_eq!(
            order,
            ids.iter().map(String::as_str).collect::<Vec<_>>(),
            "{rep}'s route"
        );
        for p in &mine {
            assert_eq!(p["href"], format!("/app/visits/{}", p["data-visit"]));
        }
    }
    let marks: HashMap<&str, &str> = points
        .iter()
        .map(|p| (p["data-visit"].as_str(), p["data-marks"].as_str()))
        .collect();
    let li = &s.visits["rep-li"];
    let zhao = &s.visits["rep-zhao"];
    let chen = &s.visits["rep-chen"];
    assert_eq!(marks[li[0].as_str()], "");
    assert_eq!(marks[li[1].as_str()], "outside", "8 km from st-002");
    assert_eq!(marks[zhao[0].as_str()], "mock");
    assert_eq!(marks[chen[0].as_str()], "unplanned");
    assert_eq!(marks[chen[1].as_str()], "unplanned");
    // The outside check-in is a triangle, the mock one has its ring: distinct symbols, and the
    // legend explains both.
    let li_outside = &html[html.find(&format!("data-visit=\"{}\"", li[1])).unwrap()..];
    assert!(li_outside[..li_outside.find("</a>").unwrap()].contains("<polygon class=\"outside\""));
    let zhao_mock = &html[html.find(&format!("data-visit=\"{}\"", zhao[0])).unwrap()..];
    assert!(zhao_mock[..zhao_mock.find("</a>").unwrap()].contains("class=\"mock-ring\""));
    for key in [
        "outside",
        "mock",
        "checkin",
        "visited",
        "missed",
        "planned",
        "unplanned",
        "fence",
    ] {
        assert!(html.contains(&format!("data-legend=\"{key}\"")), "legend {key}");
    }
    assert!(html.contains("围栏外签到") && html.contains("虚拟定位"));
    // Routes: one line per rep with two or more stops, through its visits in order; the legend
    // names each rep.
    let routes = elements(&html, "<polyline class=\"route\"");
    let by_rep: HashMap<&str, &str> = routes
        .iter()
        .map(|r| (r["data-rep"].as_str(), r["data-visits"].as_str()))
        .collect();
    assert_eq!(by_rep.len(), 2);
    assert_eq!(by_rep["rep-li"], li.join(" "));
    assert_eq!(by_rep["rep-chen"], chen.join(" "));
    for name in ["李娜", "赵强", "陈静"] {
        assert!(html.contains(name));
    }
    // A tooltip in words: store, rep, time.
    assert!(html.contains("<title>1. SH-W-101 家乐福（古北店） · 赵强 · "));
    // The list under the map: the same five, with their marks in words.
    let rows = elements(&html, "<tr data-visit=");
    assert_eq!(rows.len(), 5);
    // Drawn from the data alone: no tile, and the page's CSP allows only this site's images.
    assert!(!html.contains("class=\"tile\""));
    assert!(html.contains("data-tiles=\"off\""));
    assert!(html.contains("class=\"scale\"") && html.contains("class=\"north\""));
    let csp = page.header("content-security-policy").unwrap().to_string();
    assert!(csp.contains("img-src 'self';"), "{csp}");

    // A rep's own map, and a team's: 王磊's team is 李娜 and 赵强.
    let li_only = boss.get(&format!("/app/map?date={}&rep=rep-li", s.today)).text();
    let reps: Vec<String> = elements(&li_only, "<a class=\"visit\"")
        .into_iter()
        .map(|p| p["data-rep"].clone())
        .collect();
    assert_eq!(reps, ["rep-li", "rep-li"]);
    assert_eq!(statuses_of(&li_only).len(), 2);
    let team = boss
        .get(&format!("/app/map?date={}&team=sup-wang", s.today))
        .text();
    let mut reps: Vec<String> = elements(&team, "<a class=\"visit\"")
        .into_iter()
        .map(|p| p["data-rep"].clone())
        .collect();
    reps.dedup();
    assert_eq!(reps, ["rep-li", "rep-zhao"]);

    // A supervisor sees their team's map only (李娜 and 赵强), and no team to choose.
    let wang = Session::new(server.addr, "sup-wang", PASSWORD);
    let theirs = wang.get(&format!("/app/map?date={}", s.today)).text();
    let mut reps: Vec<String> = elements(&theirs, "<a class=\"visit\"")
        .into_iter()
        .map(|p| p["data-rep"].clone())
        .collect();
    reps.dedup();
    assert_eq!(reps, ["rep-li", "rep-zhao"]);
    assert!(!theirs.contains("name=\"team\"") && !theirs.contains("陈静"));
    let asked_other = wang
        .get(&format!("/app/map?date={}&rep=rep-chen", s.today))
        .text();
    assert!(elements(&asked_other, "<a class=\"visit\"").is_empty());

    // Yesterday: 赵强's planned st-001 was missed, drawn and listed as such.
    let y = boss.get(&format!("/app/map?date={}&lang=en", s.yesterday)).text();
    assert_eq!(
        statuses_of(&y),
        [("st-001".to_string(), "missed".to_string())]
            .into_iter()
            .collect()
    );
    assert!(y.contains("Missed stores") && y.contains("<tr data-store=\"st-001\""));
    assert!(elements(&y, "<a class=\"visit\"").is_empty());
    // A day with nothing says so.
    let empty = boss.get("/app/map?date=2020-01-01&lang=en").text();
    assert!(empty.contains("No planned stops or visits on this day."));
    // A bad date is a page in words, not a crash.
    assert_eq!(boss.get("/app/map?date=2026-13-45").status, 400);
    drop(server);

    // Over tiles in GCJ-02 (as AMap's): tile images behind the points, the tile host allowed
    // for images on this page only, and every point moved by the GCJ-02 offset.
    let tiled = Server::start_with(
        d,
        &[
            "--map-tiles",
            "http://{s}.tiles.example:8080/{z}/{x}/{-y}.png",
            "--map-tiles-subdomains",
            "a,b",
            "--map-tiles-crs",
            "gcj02",
            "--map-tiles-attribution",
            "© Example Tiles",
        ],
        None,
    );
    let boss = Session::new(tiled.addr, "boss", PASSWORD);
    let page = boss.get(&format!("/app/map?date={}", s.today));
    let tiled_html = page.text();
    let tiles = elements(&tiled_html, "<img class=\"tile\"");
    assert!(tiles.len() >= 12, "a 960 × 600 view needs at least 4 × 3 tiles");
    for t in &tiles {
        let (z, rest) = t["data-tile"].split_once('/').unwrap();
        let (x, y) = rest.split_once('/').unwrap();
        let (z, y): (u32, u32) = (z.parse().unwrap(), y.parse().unwrap());
        let flipped = (1u32 << z) - 1 - y;
        assert!(
            t["src"] == format!("http://a.tiles.example:8080/{z}/{x}/{flipped}.png")
                || t["src"] == format!("http://b.tiles.example:8080/{z}/{x}/{flipped}.png"),
            "{t:?}"
        );
    }
    assert!(tiled_html.contains("data-datum=\"gcj02\"") && tiled_html.contains("© Example Tiles"));
    let csp = page.header("content-security-policy").unwrap();
    assert!(
        csp.contains("img-src 'self' http://a.tiles.example:8080 http://b.tiles.example:8080;"),
        "{csp}"
    );
    assert!(!csp.contains("script-src"));
    let other = boss.get("/app");
    assert!(
        other
            .header("content-security-policy")
            .unwrap()
            .contains("img-src 'self';")
    );
    // Same zoom and points, but each check-in drawn elsewhere (the GCJ-02 offset is hundreds
    // of metres in Shanghai).
    let centre = |h: &str, visit: &str| -> (f64, f64) {
        let at = &h[h.find(&format!("data-visit=\"{visit}\"")).unwrap()..];
        let c = &elements(at, "<circle ")[0];
        (c["cx"].parse().unwrap(), c["cy"].parse().unwrap())
    };
    let plain = centre(&html, &li[0]);
    let shifted = centre(&tiled_html, &li[0]);
    assert!(plain != shifted, "{plain:?} vs {shifted:?}");
    drop(tiled);

    // Head office's whole field on a busy day is not drawn: the counts, and a request for a
    // team or a rep. (Rows written straight into the database: 601 visits of 2020-02-03.)
    {
        let c = common::test_db::connect(d);
        let noon = 18_295 * DAY_MS + 4 * 3_600_000;
        for i in 0..601 {
            c.execute(
                "INSERT INTO visits (id, device_id, user_id, store_id, kind, template_id, template_version, status,
                    started_wall_ms, geofence, check_in_op, updated_ms)
                 VALUES (?1, 'dev', 'rep-li', 'st-001', 'store_check', 'tpl-store-check', 1, 'completed', ?2,
                    'verified', 'op', ?2)",
                fieldproof_server::params![format!("busy-{i}"), noon + i64::from(i)],
            )
            .unwrap();
        }
    }
    let busy = Server::start(d);
    let boss = Session::new(busy.addr, "boss", PASSWORD);
    let page = boss.get("/app/map?date=2020-02-03&lang=en").text();
    assert!(
        page.contains("More than 600 check-ins: choose a team or a rep"),
        "{page}"
    );
    assert!(page.contains("data-count=\"checkins\"") && !page.contains("<a class=\"visit\""));
    drop(busy);

    // A template the page could not use stops the server at start, saying why.
    let out = Command::new(BIN)
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(d)
        .args(["--map-tiles", "https://tiles.example/{z}/{x}.png"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("{y}"));
}
