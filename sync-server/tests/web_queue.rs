//! The exception queue page over real HTTP against the real binary (acceptance 3 of issue 11):
//! paging totals past 500 with no silent limit, counts per state, sort by every column both
//! ways, search, every filter, bulk resolve and dismiss, assign, reopen, the history on the page,
//! resolving from the visit page, a supervisor limited to their team (a crafted POST naming
//! another team's exception is refused and changes nothing), and a zh-CN page that shows no id
//! or hash outside its technical sections and no text of the English catalogues.
//!
//! The exceptions are seeded straight into SQLite (ingest raises them in its own tests), with
//! parameters as the server writes them and UUID visit ids, hex device ids and photo hashes, so
//! the page has every kind of id to hide.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)]

#[path = "e2e/common.rs"]
mod common;

use std::path::Path;

use common::{Server, Session, admin_ok, now_ms, reference_file};
use fieldproof_server::db::{Connection, params};
use serde_json::json;

const PW: &str = "a-long-password-1";
const CODES: [&str; 5] = [
    "outside_geofence",
    "mock_location",
    "photo_missing",
    "possible_reuse",
    "clock_skew",
];
const REPS: [&str; 3] = ["rep-li", "rep-zhao", "rep-chen"];
/// 2026-11-20, days since 1970-01-01.
const DAY0: i64 = 20_777;
const N: i64 = 620;

fn db(dir: &Path) -> Connection {
    common::test_db::connect(dir)
}

fn rep_of(i: i64) -> &'static str {
    REPS[(i % 3) as usize]
}

fn store_of(i: i64) -> &'static str {
    match rep_of(i) {
        "rep-zhao" => "st-101",
        "rep-chen" => "st-003",
        _ if i % 2 == 0 => "st-001",
        _ => "st-002",
    }
}

fn visit_of(i: i64) -> String {
    format!("0193a2b4-5c6d-7e8f-9012-{i:012x}")
}

fn photo_of(i: i64) -> String {
    format!("0193a2b4-5c6d-7e8f-aaaa-{i:012x}")
}

fn sha_of(i: i64) -> String {
    format!("{:064x}", 0xf555_0000 + i)
}

/// Exception i (id i + 1): code CODES[i % 5], rep REPS[i % 3] (rep-li and rep-zhao are
/// sup-wang's team, rep-chen sup-liu's), store as [`store_of`], visit day DAY0 + i % 7,
/// received a day later; its parameters as the server writes them. Exception 7's text holds
/// "100%_off". Visit 0 (rep-li at st-001) exists, for the visit page. Web users: boss (head
/// office, 总部张), wang (sup-wang's team, 王磊), liu (sup-liu's, 刘洋).
fn seeded() -> (tempfile::TempDir, Server) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    admin_ok(d, &["init"]);
    admin_ok(d, &["load-reference", reference_file().to_str().unwrap()]);
    for (id, name, role, sup) in [
        ("boss", "总部张", "head_office", None),
        ("wang", "王磊", "supervisor", Some("sup-wang")),
        ("liu", "刘洋", "supervisor", Some("sup-liu")),
    ] {
        let mut args = vec![
            "create-user",
            "--id",
            id,
            "--name",
            name,
            "--role",
            role,
            "--password",
            PW,
        ];
        if let Some(s) = sup {
            args.extend(["--supervisor-id", s]);
        }
        admin_ok(d, &args);
    }
    let mut c = db(d);
    let tx = c.transaction().unwrap();
    for i in 0..N {
        let (code, rep, store) = (CODES[(i % 5) as usize], rep_of(i), store_of(i));
        let day = DAY0 + i % 7;
        let event = day * 86_400_000 + 2 * 3_600_000;
        let (photo, sha) = (photo_of(i), sha_of(i));
        let params = match code {
            "outside_geofence" => {
                json!({"action": "check_out", "distance_m": 590.4, "radius_m": 150.0, "store_id": store})
            }
            "mock_location" => json!({"action": "photo", "photo_id": photo, "sha256": sha}),
            "photo_missing" => json!({"photo_id": photo, "sha256": sha}),
            "possible_reuse" => json!({"photo_id": photo, "sha256": sha, "threshold": 12, "matches_total": 2,
                "matches": [{"sha256": sha_of(i + 1), "distance": 3, "photo_id": photo_of(i + 1),
                             "visit_id": visit_of(i + 1), "device_id": format!("{:032x}", i + 1), "user_id": "rep-chen"}]}),
            _ => json!({"kind": "offset", "seconds": 1200, "seq": 4}),
        };
        // The one-line English text the CLI and older pages used: never shown on the pages.
        let detail = if i == 7 {
            "price 100%_off on the shelf".to_string()
        } else {
            format!(
                "photo {photo} (sha256 {sha}) of visit {} looks like another",
                visit_of(i)
            )
        };
        tx.execute(
            "INSERT INTO exceptions (code, user_id, device_id, visit_id, store_id, photo_sha256, subject, detail, params,
                created_ms, event_ms, visit_day)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![
                code,
                rep,
                format!("{i:032x}"),
                visit_of(i),
                store,
                (code != "outside_geofence" && code != "clock_skew").then_some(&sha),
                format!("subject-{i}"),
                detail,
                params.to_string(),
                event + 86_400_000,
                event,
                day
            ],
        )
        .unwrap();
    }
    let started = DAY0 * 86_400_000 + 3_600_000;
    tx.execute(
        "INSERT INTO visits (id, device_id, user_id, store_id, kind, template_id, template_version, status,
            started_wall_ms, completed_wall_ms, ended_wall_ms, geofence, score, check_in_op, updated_ms)
         VALUES (?1, ?2, 'rep-li', 'st-001', 'store_check', 'tpl-store-check', 1, 'checked_out', ?3, ?4, ?4, 'outside', 80.0, 'op', ?3)",
        params![visit_of(0), format!("{:032x}", 0), started, started + 1_800_000],
    )
    .unwrap();
    tx.commit().unwrap();
    drop(c);
    let server = Server::start(d);
    (dir, server)
}

fn count(f: impl Fn(i64) -> bool) -> u64 {
    (0..N).filter(|i| f(*i)).count() as u64
}

/// "共 N 条" of a zh-CN queue page.
fn total(html: &str) -> u64 {
    if html.contains("没有符合条件的异常") {
        return 0;
    }
    let at = html.find("，共 ").unwrap_or_else(|| panic!("no total in {html}")) + "，共 ".len();
    html[at..].split(' ').next().unwrap().parse().unwrap()
}

/// A listed row: its id, code and state.
#[derive(Debug)]
struct Row {
    id: i64,
    code: String,
    status: String,
    html: String,
}

fn rows(html: &str) -> Vec<Row> {
    html.split("<tr data-code=\"")
        .skip(1)
        .map(|r| {
            let r = r.split("</tr>").next().unwrap();
            let attr = |name: &str| {
                let k = format!("{name}=\"");
                let at = r.find(&k).unwrap() + k.len();
                r[at..at + r[at..].find('"').unwrap()].to_string()
            };
            Row {
                id: attr("id").trim_start_matches("ex-").parse().unwrap(),
                code: r[..r.find('"').unwrap()].to_string(),
                status: attr("data-status"),
                html: r.to_string(),
            }
        })
        .collect()
}

/// The text of the row's cell labelled `label`.
fn cell(row: &Row, label: &str) -> String {
    let k = format!("data-label=\"{label}\">");
    let at = row
        .html
        .find(&k)
        .unwrap_or_else(|| panic!("no {label} in {}", row.html))
        + k.len();
    let inner = &row.html[at..at + row.html[at..].find("</td>").unwrap()];
    strip_tags(inner)
}

fn strip_tags(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for ch in html.chars() {
        match ch {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn status_of(dir: &Path, id: i64) -> (String, Option<String>, Option<String>) {
    db(dir)
        .query_row(
            "SELECT status, assignee_id, resolution_comment FROM exceptions WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap()
}

/// Every exception's state and the history's length: a refused action leaves them as they were.
fn snapshot(dir: &Path) -> (Vec<(i64, String, Option<String>)>, i64) {
    let c = db(dir);
    let mut st = c
        .prepare("SELECT id, status, assignee_id FROM exceptions ORDER BY id")
        .unwrap();
    let rows = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let h = c
        .query_row("SELECT count(*) FROM exception_history", [], |r| r.get(0))
        .unwrap();
    (rows, h)
}

fn act(s: &Session, body: &str) -> common::Resp {
    let csrf = s.csrf();
    // The answer's language: the page's `?lang=` (the test's session keeps no cookie).
    s.post(
        "/app/exceptions/act?lang=zh-CN",
        &format!("csrf={csrf}&{body}"),
        &[],
    )
}

fn zh(s: &Session, q: &str) -> String {
    let sep = if q.contains('?') { '&' } else { '?' };
    let r = s.get(&format!("{q}{sep}lang=zh-CN"));
    assert_eq!(r.status, 200, "{q}: {}", r.text());
    r.text()
}

#[test]
fn paging_shows_totals_past_500_and_counts_per_state() {
    let (_dir, s) = seeded();
    let boss = Session::new(s.addr, "boss", PW);
    let first = zh(&boss, "/app/exceptions");
    assert!(first.contains("第 1–50 条，共 620 条"), "{first}");
    assert_eq!(rows(&first).len(), 50);
    assert!(
        first.contains("rel=\"next\" href=\"/app/exceptions?page=2\""),
        "{first}"
    );
    // Each state's tab with its count (all open).
    for (state, n) in [
        ("active", 620),
        ("open", 620),
        ("assigned", 0),
        ("resolved", 0),
        ("all", 620),
    ] {
        assert!(
            first.contains(&format!("data-status=\"{state}\">")) && {
                let tab = first.split(&format!("data-status=\"{state}\">")).nth(1).unwrap();
                tab.split("</a>")
                    .next()
                    .unwrap()
                    .contains(&format!("<span class=\"n\">{n}</span>"))
            },
            "{state}: {n}"
        );
    }
    let mut seen = std::collections::BTreeSet::new();
    for page in 1..=4 {
        let html = zh(&boss, &format!("/app/exceptions?per_page=200&page={page}"));
        let rs = rows(&html);
        assert_eq!(rs.len(), if page < 4 { 200 } else { 20 }, "page {page}");
        assert_eq!(total(&html), 620);
        for r in rs {
            assert!(seen.insert(r.id), "{} on two pages", r.id);
        }
    }
    assert_eq!(
        seen.len() as i64,
        N,
        "every exception is on a page: no silent limit"
    );
    let last = zh(&boss, "/app/exceptions?per_page=200&page=4");
    assert!(last.contains("第 601–620 条，共 620 条"), "{last}");
    // Past the end: none listed, the total still said, a way back.
    let past = zh(&boss, "/app/exceptions?page=99");
    assert!(
        rows(&past).is_empty() && past.contains("本页没有异常，共 620 条。"),
        "{past}"
    );
    for bad in [
        "page=0",
        "per_page=0",
        "per_page=500",
        "from=2026-11-22&to=2026-11-20",
        "date=2026-02-30",
    ] {
        let r = boss.get(&format!("/app/exceptions?{bad}&lang=zh-CN"));
        assert_eq!(r.status, 400, "{bad}");
    }
}

/// What a listing is sorted by, read off a row.
type RowKey<'a> = dyn Fn(&Row) -> String + 'a;

#[test]
fn every_column_sorts_both_ways() {
    let (dir, s) = seeded();
    let boss = Session::new(s.addr, "boss", PW);
    // Some states to sort by.
    assert_eq!(act(&boss, "ids=1&ids=2&action=resolve&comment=ok").status, 303);
    assert_eq!(act(&boss, "ids=3&action=dismiss&comment=no").status, 303);
    assert_eq!(act(&boss, "ids=4&action=assign&assignee=wang").status, 303);
    assert_eq!(status_of(dir.path(), 4).0, "assigned");
    let state_rank = |s: &str| {
        ["open", "assigned", "resolved", "dismissed"]
            .iter()
            .position(|x| *x == s)
            .unwrap()
    };
    let store_name = |r: &Row| {
        cell(r, "门店")
            .split_once(' ')
            .map(|(_, n)| n.to_string())
            .unwrap_or_default()
    };
    for dir in ["asc", "desc"] {
        // (sort, key of a row)
        let keys: [(&str, &RowKey); 5] = [
            ("code", &|r: &Row| r.code.clone()),
            ("status", &|r: &Row| state_rank(&r.status).to_string()),
            ("store", &store_name),
            ("rep", &|r: &Row| cell(r, "业务员")),
            ("visit_day", &|r: &Row| cell(r, "拜访日期")),
        ];
        for (sort, key) in keys {
            // The second page, where the first value's rows end (李娜's 207 fill the first); the
            // states' page is the first (the 4 closed or assigned, then the open ones).
            let page = if sort == "status" { 1 } else { 2 };
            let html = zh(
                &boss,
                &format!("/app/exceptions?status=all&sort={sort}&dir={dir}&per_page=200&page={page}"),
            );
            let ks: Vec<String> = rows(&html).iter().map(key).collect();
            assert_eq!(ks.len(), 200);
            let mut sorted = ks.clone();
            sorted.sort();
            if dir == "desc" {
                sorted.reverse();
            }
            assert_eq!(ks, sorted, "sort={sort}&dir={dir}");
            if sort != "status" || dir == "desc" {
                assert!(
                    ks.first() != ks.last(),
                    "sort={sort}&dir={dir}: more than one value on the page"
                );
            }
        }
    }
    // The columns' headers are the sort links (the current one links the other way round).
    let html = zh(&boss, "/app/exceptions?sort=store&dir=asc");
    assert!(
        html.contains("href=\"/app/exceptions?sort=store&amp;dir=desc\" data-sort=\"store\""),
        "{html}"
    );
    assert!(html.contains("data-sort=\"rep\"") && html.contains("data-sort=\"visit_day\""));
}

#[test]
fn search_and_every_filter() {
    let (_dir, s) = seeded();
    let boss = Session::new(s.addr, "boss", PW);
    let q = |query: &str| total(&zh(&boss, &format!("/app/exceptions?status=all&{query}")));
    let zhao = count(|i| rep_of(i) == "rep-zhao");
    // Search: a store's name, a rep's name, the store's code, the text.
    assert_eq!(q("q=%E5%AE%B6%E4%B9%90%E7%A6%8F"), zhao, "家乐福");
    assert_eq!(q("q=%E8%B5%B5%E5%BC%BA"), zhao, "赵强");
    assert_eq!(q("q=SH-W-101"), zhao);
    assert_eq!(q("q=100%25_off"), 1, "LIKE's wildcards are taken literally");
    assert_eq!(q("q=nothing-like-this"), 0);
    // Each filter.
    assert_eq!(q("code=mock_location"), count(|i| i % 5 == 1));
    assert_eq!(q("rep=rep-li"), count(|i| rep_of(i) == "rep-li"));
    assert_eq!(q("team=sup-liu"), count(|i| rep_of(i) == "rep-chen"));
    assert_eq!(q("territory=shanghai-west"), zhao);
    assert_eq!(q("store=st-001"), count(|i| store_of(i) == "st-001"));
    assert_eq!(
        q("from=2026-11-21&to=2026-11-22"),
        count(|i| (1..=2).contains(&(i % 7)))
    );
    assert_eq!(q("date=2026-11-20"), count(|i| i % 7 == 0));
    assert_eq!(
        q("code=outside_geofence&rep=rep-li&from=2026-11-20&to=2026-11-23"),
        count(|i| i % 5 == 0 && rep_of(i) == "rep-li" && i % 7 <= 3)
    );
    // The rows shown are the ones the filter names.
    let html = zh(&boss, "/app/exceptions?store=st-101&code=clock_skew");
    assert!(
        rows(&html)
            .iter()
            .all(|r| r.code == "clock_skew" && cell(r, "门店").contains("家乐福（古北店）"))
    );
    // State and assignee.
    assert_eq!(act(&boss, "ids=1&ids=2&action=assign&assignee=wang").status, 303);
    assert_eq!(act(&boss, "ids=5&action=resolve&comment=done").status, 303);
    assert_eq!(q("assignee=wang"), 2);
    assert_eq!(total(&zh(&boss, "/app/exceptions?status=assigned")), 2);
    assert_eq!(total(&zh(&boss, "/app/exceptions?status=resolved")), 1);
    assert_eq!(total(&zh(&boss, "/app/exceptions?status=closed")), 1);
    assert_eq!(
        total(&zh(&boss, "/app/exceptions")),
        619,
        "the default: not closed"
    );
    // The form keeps what was asked.
    let html = zh(
        &boss,
        "/app/exceptions?q=%E8%B5%B5&code=mock_location&from=2026-11-21",
    );
    assert!(html.contains("name=\"q\" value=\"赵\""), "{html}");
    assert!(
        html.contains("<option value=\"mock_location\" selected>"),
        "{html}"
    );
    assert!(html.contains("name=\"from\" value=\"2026-11-21\""), "{html}");
}

#[test]
fn bulk_resolve_and_dismiss_with_a_comment_and_the_history_shown() {
    let (dir, s) = seeded();
    let d = dir.path();
    let boss = Session::new(s.addr, "boss", PW);
    // The page's bulk form: checkboxes tied to it, its actions.
    let page = zh(&boss, "/app/exceptions");
    assert!(
        page.contains("<form class=\"bulk\" id=\"bulk\" method=\"post\" action=\"/app/exceptions/act\">")
    );
    assert_eq!(page.matches("type=\"checkbox\" name=\"ids\"").count(), 50);
    assert_eq!(page.matches("form=\"bulk\" aria-label").count(), 50, "{page}");
    let picked = zh(&boss, "/app/exceptions?pick=all");
    assert_eq!(picked.matches("form=\"bulk\" checked").count(), 50);

    let r = act(
        &boss,
        "ids=1&ids=2&ids=3&action=resolve&comment=%E5%B7%B2%E6%A0%B8%E5%AE%9E&back=%2Fapp%2Fexceptions%3Fcode%3Doutside_geofence",
    );
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(
        r.header("location"),
        Some("/app/exceptions?code=outside_geofence&done=resolve&n=3")
    );
    for id in 1..=3 {
        assert_eq!(status_of(d, id), ("resolved".into(), None, Some("已核实".into())));
    }
    let notice = zh(&boss, "/app/exceptions?done=resolve&n=3");
    assert!(notice.contains("已解决 3 条异常。"), "{notice}");
    let r = act(&boss, "ids=4&ids=5&action=dismiss&comment=%E8%AF%AF%E6%8A%A5");
    assert_eq!(r.status, 303);
    assert_eq!(status_of(d, 4).0, "dismissed");
    assert_eq!(status_of(d, 5).0, "dismissed");

    // Closed rows look closed: muted, struck title, the state in words; who, when and why; the
    // history (raised, then resolved by 总部张 with the comment).
    let closed = zh(&boss, "/app/exceptions?status=closed&sort=status&dir=asc");
    let rs = rows(&closed);
    assert_eq!(rs.len(), 5);
    let one = rs.iter().find(|r| r.id == 1).unwrap();
    assert!(one.html.contains("class=\"closed\""), "{}", one.html);
    assert!(one.html.contains("<span class=\"code closed\">"), "{}", one.html);
    assert!(
        one.html
            .contains("<span class=\"state st-resolved\">已解决</span>"),
        "{}",
        one.html
    );
    let history = one.html.split("<details class=\"history\">").nth(1).unwrap();
    let history = strip_tags(history);
    assert!(history.starts_with("处理记录 (2)"), "{history}");
    assert!(
        history.contains("发现") && history.contains("总部张 · 解决 : 已核实"),
        "{history}"
    );
    let four = rs.iter().find(|r| r.id == 4).unwrap();
    assert!(four.html.contains("st-dismissed\">已驳回") && four.html.contains("误报"));
    // A closed one offers reopen, not resolve.
    assert!(one.html.contains("value=\"reopen\"") && !one.html.contains("value=\"resolve\""));

    // A batch with a closed one in it is refused whole, in words, and changes nothing.
    let before = snapshot(d);
    let r = act(&boss, "ids=6&ids=1&action=dismiss&comment=x");
    assert_eq!(r.status, 400);
    let text = r.text();
    assert!(
        text.contains("所选异常中有 1 条状态为“已解决”，无法驳回，未做任何更改。"),
        "{text}"
    );
    assert_eq!(snapshot(d), before);
    // Nothing ticked, no comment: refused in words.
    let r = act(&boss, "action=resolve&comment=x");
    assert!(
        r.status == 400 && r.text().contains("没有选择任何异常"),
        "{}",
        r.text()
    );
    let r = act(&boss, "ids=6&action=resolve&comment=+");
    assert!(r.status == 400 && r.text().contains("处理说明"), "{}", r.text());
    assert_eq!(act(&boss, "ids=abc&action=resolve&comment=x").status, 400);
    assert_eq!(snapshot(d), before);

    // Reopen brings one back with its history.
    assert_eq!(
        act(&boss, "ids=1&action=reopen&comment=%E5%86%8D%E6%9F%A5").status,
        303
    );
    assert_eq!(status_of(d, 1).0, "open");
    let open = zh(
        &boss,
        "/app/exceptions?code=outside_geofence&sort=visit_day&dir=asc&per_page=200",
    );
    let again = rows(&open).into_iter().find(|r| r.id == 1).unwrap();
    assert!(strip_tags(&again.html).contains("处理记录 (3)"), "{}", again.html);
    assert!(
        strip_tags(&again.html).contains("重新打开 : 再查"),
        "{}",
        again.html
    );
    // Without the CSRF token nothing happens.
    assert_eq!(
        boss.post("/app/exceptions/act", "ids=6&action=resolve&comment=x", &[])
            .status,
        403
    );
    assert_eq!(status_of(d, 6).0, "open");
}

#[test]
fn assign_to_a_person_who_can_see_it() {
    let (dir, s) = seeded();
    let d = dir.path();
    let boss = Session::new(s.addr, "boss", PW);
    // A row of rep-li's offers the people who can see it: head office and her supervisor's
    // account, not the other team's.
    let page = zh(&boss, "/app/exceptions?rep=rep-li");
    let row = &rows(&page)[0];
    let assign = row.html.split("<form class=\"assign\"").nth(1).unwrap();
    assert!(
        assign.contains("value=\"wang\"")
            && assign.contains("value=\"boss\"")
            && !assign.contains("value=\"liu\"")
    );

    assert_eq!(act(&boss, "ids=1&action=assign&assignee=wang").status, 303);
    assert_eq!(status_of(d, 1), ("assigned".into(), Some("wang".into()), None));
    let html = zh(&boss, "/app/exceptions?status=assigned");
    let r = rows(&html).into_iter().find(|r| r.id == 1).unwrap();
    let text = strip_tags(&r.html);
    assert!(text.contains("已指派 指派给 王磊"), "{text}");
    assert!(text.contains("总部张 · 指派 → 王磊"), "{text}");
    // wang now finds it as theirs.
    let wang = Session::new(s.addr, "wang", PW);
    assert_eq!(total(&zh(&wang, "/app/exceptions?assignee=wang")), 1);

    // rep-chen's exception (id 3) to wang, who cannot see it: refused in words, unchanged.
    let before = snapshot(d);
    let r = act(&boss, "ids=3&action=assign&assignee=wang");
    assert_eq!(r.status, 400);
    assert!(
        r.text().contains("所选的指派对象无权查看所选异常中的 1 条"),
        "{}",
        r.text()
    );
    let r = act(&boss, "ids=2&action=assign&assignee=nobody");
    assert_eq!(r.status, 400);
    assert_eq!(snapshot(d), before);
}

#[test]
fn resolve_from_the_visit_page() {
    let (dir, s) = seeded();
    let boss = Session::new(s.addr, "boss", PW);
    let path = format!("/app/visits/{}", visit_of(0));
    let page = zh(&boss, &path);
    let section = page.split("id=\"exceptions-section\"").nth(1).unwrap();
    let rs = rows(section);
    assert_eq!(rs.len(), 1, "{section}");
    let text = strip_tags(&rs[0].html);
    assert!(text.contains("在地理围栏外签退"), "{text}");
    assert!(
        text.contains("在距联华超市（浦东南路店） 590 米 处签退，地理围栏半径为 150 米。"),
        "{text}"
    );
    assert!(
        rs[0].html.contains(&format!("name=\"back\" value=\"{path}")),
        "{}",
        rs[0].html
    );
    // The day page's chips: a closed code looks closed there too.
    let day_page = format!("/app?date={}", fieldproof_server::calendar::day_string(DAY0));
    let closed_chips = |html: &str| html.matches("class=\"code closed\"").count();
    let closed_before = closed_chips(&zh(&boss, &day_page));
    let r = act(
        &boss,
        &format!(
            "ids=1&action=resolve&comment=%E5%B7%B2%E6%A0%B8%E5%AE%9E&back={}",
            common_enc(&path)
        ),
    );
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some(path.as_str()));
    assert_eq!(status_of(dir.path(), 1).0, "resolved");
    let day_html = zh(&boss, &day_page);
    assert!(
        closed_chips(&day_html) > closed_before && day_html.contains("title=\"已关闭\""),
        "{day_html}"
    );
    let after = zh(&boss, &path);
    let row = &rows(after.split("id=\"exceptions-section\"").nth(1).unwrap())[0];
    assert!(
        row.html.contains("st-resolved\">已解决") && row.html.contains("已核实"),
        "{}",
        row.html
    );
    // Assign and dismiss from there too.
    assert_eq!(act(&boss, "ids=1&action=reopen&comment=x").status, 303);
    assert_eq!(act(&boss, "ids=1&action=assign&assignee=wang").status, 303);
    assert_eq!(act(&boss, "ids=1&action=dismiss&comment=y").status, 303);
    assert_eq!(status_of(dir.path(), 1).0, "dismissed");
}

fn common_enc(s: &str) -> String {
    fieldproof_server::web::url_enc(s)
}

#[test]
fn a_supervisor_sees_and_changes_only_their_team() {
    let (dir, s) = seeded();
    let d = dir.path();
    let wang = Session::new(s.addr, "wang", PW);
    let team = count(|i| rep_of(i) != "rep-chen");
    let html = zh(&wang, "/app/exceptions?per_page=200");
    assert_eq!(total(&html), team);
    assert!(rows(&html).iter().all(|r| cell(r, "业务员") != "陈静"));
    assert!(!html.contains("name=\"team\""), "one team: no team filter");
    // Asking for the other team by filter or search finds nothing.
    assert_eq!(total(&zh(&wang, "/app/exceptions?rep=rep-chen")), 0);
    assert_eq!(total(&zh(&wang, "/app/exceptions?q=%E9%99%88%E9%9D%99")), 0);
    // The bulk form offers no one of another team.
    let bulk = html.split("<form class=\"bulk\"").nth(1).unwrap();
    assert!(!bulk.contains("value=\"liu\"") && bulk.contains("value=\"wang\""));

    // A crafted POST naming rep-chen's exception (id 3), alone or among their own: the same
    // "not found" as for one that does not exist, and nothing changes.
    let before = snapshot(d);
    for body in [
        "ids=3&action=resolve&comment=x",
        "ids=1&ids=3&action=dismiss&comment=x",
        "ids=3&action=assign&assignee=wang",
        "ids=99999&action=resolve&comment=x",
    ] {
        assert_eq!(act(&wang, body).status, 404, "{body}");
    }
    assert_eq!(snapshot(d), before);
    // Their own team's they can change.
    assert_eq!(act(&wang, "ids=1&ids=2&action=resolve&comment=ok").status, 303);
    assert_eq!(status_of(d, 2).0, "resolved");
    // liu sees the other team only.
    let liu = Session::new(s.addr, "liu", PW);
    assert_eq!(
        total(&zh(&liu, "/app/exceptions")),
        count(|i| rep_of(i) == "rep-chen")
    );
}

/// Runs of hex digits (and dashes) long enough to be an id or a hash.
fn ids_in(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut run = String::new();
    for c in text.chars().chain([' ']) {
        if c.is_ascii_hexdigit() || c == '-' {
            run.push(c);
        } else {
            if run.chars().filter(char::is_ascii_hexdigit).count() >= 12 {
                out.push(run.clone());
            }
            run.clear();
        }
    }
    out
}

/// What a reader sees of a page outside its technical sections: its text, tags and attributes
/// removed.
fn visible_outside_tech(html: &str) -> String {
    let mut s = html.to_string();
    for (open, close) in [
        ("<style>", "</style>"),
        ("<details class=\"tech\">", "</details>"),
    ] {
        while let Some(a) = s.find(open) {
            let b = a + s[a..].find(close).unwrap() + close.len();
            s.replace_range(a..b, " ");
        }
    }
    strip_tags(&s)
}

#[test]
fn a_chinese_queue_shows_no_ids_and_no_english() {
    let (dir, s) = seeded();
    let boss = Session::new(s.addr, "boss", PW);
    // Some history and states on the page too.
    assert_eq!(
        act(
            &boss,
            "ids=1&ids=2&action=resolve&comment=%E5%B7%B2%E6%A0%B8%E5%AE%9E"
        )
        .status,
        303
    );
    assert_eq!(act(&boss, "ids=3&action=assign&assignee=liu").status, 303);
    // A finding the server closed itself (the photo arrived), with its English log line.
    {
        let c = db(dir.path());
        c.execute(
            "UPDATE exceptions SET status = 'resolved', resolved_by = 'server', resolved_ms = ?1,
                resolution_comment = 'the photo''s bytes arrived' WHERE id = 13",
            [now_ms()],
        )
        .unwrap();
        c.execute(
            "INSERT INTO exception_history (exception_id, action, actor_id, at_ms, comment)
             VALUES (13, 'resolve', 'server', ?1, 'the photo''s bytes arrived')",
            [now_ms()],
        )
        .unwrap();
    }
    let closed = zh(&boss, "/app/exceptions?status=resolved");
    let auto = rows(&closed).into_iter().find(|r| r.id == 13).unwrap();
    let text = visible_outside_tech(&auto.html);
    assert!(
        text.contains("服务器 · ") && text.contains("照片已补传。"),
        "{text}"
    );
    assert!(
        !text.contains("bytes arrived") && auto.html.contains("bytes arrived"),
        "in the technical facts only"
    );
    let en: Vec<&str> = fieldproof_server::messages::TEXTS
        .iter()
        .chain(fieldproof_server::i18n::CODES)
        .chain(fieldproof_server::i18n::MESSAGES)
        .chain(fieldproof_server::web::i18n::TABLE)
        .filter(|(_, en, zh)| en != zh)
        // A template's fixed parts between its placeholders.
        .flat_map(|(_, en, _)| en.split(['{', '}']).step_by(2).collect::<Vec<_>>())
        .map(str::trim)
        .filter(|part| part.chars().filter(char::is_ascii_alphabetic).count() >= 4)
        .collect();
    assert!(en.len() > 200, "{} English strings", en.len());
    let pages = [
        "/app/exceptions?status=all&per_page=200".to_string(),
        "/app/exceptions?status=all&per_page=200&page=2&sort=store".to_string(),
        "/app/exceptions?status=closed".to_string(),
        format!("/app/visits/{}", visit_of(0)),
    ];
    for p in &pages {
        let html = zh(&boss, p);
        assert!(
            html.contains("<details class=\"tech\">"),
            "{p}: technical sections"
        );
        let seen = visible_outside_tech(&html);
        let ids = ids_in(&seen);
        assert!(ids.is_empty(), "{p}: ids outside the technical sections: {ids:?}");
        for e in &en {
            assert!(!seen.contains(e), "{p}: English {e:?} on the Chinese page");
        }
        // The ids are there, folded away.
        assert!(html.contains("<summary>技术信息</summary>"), "{p}");
    }
    // Each code's title from the Chinese catalogue.
    let all = visible_outside_tech(&zh(&boss, "/app/exceptions?status=all"));
    for t in [
        "在地理围栏外签退",
        "拍照时虚拟定位",
        "照片未上传",
        "重复照片",
        "手机时间与服务器相差过大",
    ] {
        assert!(all.contains(t), "{t}");
    }
}

/// A verified photo with an open exception shows "verified" and what is wrong with it, on the
/// visit page and in the gallery; once the exception is resolved the badge is plain again.
#[test]
fn a_flagged_photo_badge_lists_what_is_wrong_until_resolved() {
    let (dir, s) = seeded();
    let sha = "ab".repeat(32);
    let photo = "0193a2b4-5c6d-7e8f-bbbb-000000000001";
    {
        let c = db(dir.path());
        c.execute(
            "INSERT INTO photos (photo_id, op_id, visit_id, device_id, user_id, store_id, photo_kind, sha256,
                byte_len, evidence_code, received, verified, problems)
             VALUES (?1, ?1, ?2, 'dev', 'rep-li', 'st-001', 'shelf_overview', ?3, 4, 'AAAA-BBBB', 1, 1, NULL)",
            params![photo, visit_of(0), sha],
        )
        .unwrap();
        let event = DAY0 * 86_400_000 + 3_600_000;
        c.execute(
            "INSERT INTO exceptions (code, user_id, visit_id, store_id, photo_sha256, subject, detail, params,
                created_ms, event_ms, visit_day)
             VALUES ('mock_location', 'rep-li', ?1, 'st-001', ?2, ?3, 'mock', ?4, ?5, ?5, ?6)",
            params![
                visit_of(0),
                sha,
                photo,
                json!({"action": "photo", "photo_id": photo, "sha256": sha}).to_string(),
                event,
                DAY0
            ],
        )
        .unwrap();
    }
    let boss = Session::new(s.addr, "boss", PW);
    let visit = format!("/app/visits/{}", visit_of(0));
    let badge = |html: &str| {
        let at = html
            .find("<span class=\"badges\">")
            .unwrap_or_else(|| panic!("no badge in {html}"));
        let end = at + html[at..].find("</p>").unwrap();
        html[at..end].to_string()
    };
    for page in [visit.clone(), "/app/gallery?date=2026-11-20".to_string()] {
        let b = badge(&zh(&boss, &page));
        assert!(
            b.contains("b-verified b-flagged") && b.contains("已验证"),
            "{page}: {b}"
        );
        assert!(b.contains("<span class=\"flag\">虚拟定位</span>"), "{page}: {b}");
    }
    // The photo is linked from the message as a preview, by its kind.
    let v = zh(&boss, &visit);
    let row = rows(&v).into_iter().find(|r| r.id == N + 1).unwrap();
    assert!(row.html.contains(&format!("src=\"/app/thumbs/{sha}\"")) && row.html.contains("货架全景"));
    assert_eq!(
        act(&boss, &format!("ids={}&action=resolve&comment=ok", N + 1)).status,
        303
    );
    for page in [visit, "/app/gallery?date=2026-11-20".to_string()] {
        let b = badge(&zh(&boss, &page));
        assert!(!b.contains("b-flagged") && !b.contains("flag"), "{page}: {b}");
    }
}
