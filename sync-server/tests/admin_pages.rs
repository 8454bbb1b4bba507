//! The people and structure pages (issue #11, part 6) over real HTTP against the real binary,
//! driven as a browser drives them: forms POSTed with the session's CSRF token. A rep created
//! in these pages gets an enrolment code from their page, a phone enrols with it (the QR code on
//! the page scans back to the code) and pulls the rep's record; web users are created, change
//! role and are deactivated; territories and teams are created and renamed; devices are
//! revoked; a supervisor is refused on every route and changes nothing; bad input is refused in
//! the reader's language and changes nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "e2e/common.rs"]
mod common;

use std::path::Path;

use common::{BIN, Device, Server, Session, admin_ok, form, h, http, reference_file, sign_in};
use serde_json::Value;

const BOSS_PW: &str = "boss-password-1";
const HO_PW: &str = "zhang-password-1";
const WANG_PW: &str = "wang-password-1";

/// The fixture's reference data; an admin (boss), a head-office user (ho-zhang) and a
/// supervisor account (sup-wang) made with the CLI.
fn seeded_with(args: &[&str]) -> (tempfile::TempDir, Server) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    admin_ok(d, &["init"]);
    admin_ok(d, &["load-reference", reference_file().to_str().unwrap()]);
    for (id, name, role, pw) in [
        ("boss", "Boss", "admin", BOSS_PW),
        ("ho-zhang", "张总部", "head_office", HO_PW),
        ("sup-wang", "王磊", "supervisor", WANG_PW),
    ] {
        admin_ok(
            d,
            &[
                "create-user",
                "--id",
                id,
                "--name",
                name,
                "--role",
                role,
                "--password",
                pw,
            ],
        );
    }
    let s = Server::start_with(d, args, None);
    (dir, s)
}

fn seeded() -> (tempfile::TempDir, Server) {
    seeded_with(&[])
}

/// POST a form with the session's CSRF token, as the page's form would.
fn submit(s: &Session, path: &str, fields: &[(&str, &str)]) -> common::Resp {
    let csrf = s.csrf();
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(fields);
    s.post(path, &form(&all), &[h("Accept-Language", "zh-CN")])
}

fn location(r: &common::Resp) -> String {
    r.header("location").unwrap_or("").to_string()
}

/// The text of the element with `id="{id}"` (up to its closing tag; no nesting of the same tag).
fn by_id(html: &str, id: &str) -> String {
    let at = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id} in {html}"));
    let open = html[..at].rfind('<').unwrap();
    let tag: String = html[open + 1..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect();
    let start = at + html[at..].find('>').unwrap() + 1;
    let end = start + html[start..].find(&format!("</{tag}>")).unwrap();
    html[start..end].to_string()
}

/// Everything the people actions could change, to show that a refusal changed nothing.
fn snapshot(dir: &Path) -> Vec<String> {
    let c = common::test_db::connect(dir);
    let q = |sql: &str| -> String {
        let mut st = c.prepare(sql).unwrap();
        let rows: Vec<String> = st
            .query_map([], |r| r.get::<_, String>(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        rows.join("\n")
    };
    vec![
        q(
            "SELECT id || '|' || body || '|' || coalesce(phone, '') || '|' || coalesce(CAST(deactivated_ms AS TEXT), '') FROM users ORDER BY id",
        ),
        q("SELECT code || '|' || name FROM territories ORDER BY code"),
        q("SELECT code || '|' || name || '|' || supervisor_id FROM teams ORDER BY code"),
        q(
            "SELECT id || '|' || name || '|' || role || '|' || coalesce(supervisor_id, '') || '|' || password_hash || '|' || coalesce(CAST(deactivated_ms AS TEXT), '') FROM web_users ORDER BY id",
        ),
        q(
            "SELECT device_id || '|' || coalesce(CAST(revoked_ms AS TEXT), '') FROM devices ORDER BY device_id",
        ),
        q("SELECT code_sha256 || '|' || CAST(expires_ms AS TEXT) FROM enrol_codes ORDER BY code_sha256"),
        q("SELECT CAST(count(*) AS TEXT) FROM changes"),
        q("SELECT CAST(count(*) AS TEXT) FROM web_sign_in_links"),
    ]
}

/// Draw the page's inline SVG as a screen would (its `<path>` is rectangles
/// `M{x} {y}h{w}v{h}H{x}V{y}`) and scan it with a QR reader: what the phone's camera gets.
fn scan_svg(svg: &str) -> String {
    let attr = |name: &str| -> usize {
        let at = svg.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
        svg[at..at + svg[at..].find('"').unwrap()].parse().unwrap()
    };
    let (w, hgt) = (attr("width"), attr("height"));
    let mut dark = vec![false; w * hgt];
    let d_at = svg.find(" d=\"").unwrap() + 4;
    let d = &svg[d_at..d_at + svg[d_at..].find('"').unwrap()];
    for rect in d.split('M').filter(|r| !r.is_empty()) {
        let nums: Vec<usize> = rect
            .split(|c: char| !c.is_ascii_digit())
            .filter(|n| !n.is_empty())
            .map(|n| n.parse().unwrap())
            .collect();
        let (x, y, rw, rh) = (nums[0], nums[1], nums[2], nums[3]);
        for yy in y..y + rh {
            for xx in x..x + rw {
                dark[yy * w + xx] = true;
            }
        }
    }
    let mut img =
        rqrr::PreparedImage::prepare_from_greyscale(w, hgt, |x, y| if dark[y * w + x] { 0 } else { 255 });
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the picture");
    grids[0].decode().unwrap().1
}

/// The enrolment QR code's payload for `server` and `code` (docs/sync-protocol.md).
fn payload(server: &str, code: &str) -> String {
    fieldproof_server::people::enrol_payload(server, code).unwrap()
}

/// The code and the scanned QR of an "issue enrolment code" answer.
fn issued(page: &str) -> (String, String) {
    let code = by_id(page, "enrol-code").trim().to_string();
    let svg = by_id(page, "enrol-qr");
    (code, scan_svg(svg.trim()))
}

fn user_changes(changes: &[Value], id: &str) -> Vec<Value> {
    changes
        .iter()
        .filter(|c| c["kind"] == "user" && c["body"]["id"] == id)
        .map(|c| c["body"].clone())
        .collect()
}

/// Acceptance 5: a rep created in the browser pages reaches the phones through pull. Head
/// office creates a territory, a supervisor, a team and a rep with the pages' forms, issues the
/// rep a code on the rep's page (shown big, its QR code scanning back to this server and the
/// code), a phone enrols with it and pulls the rep's record; the rep's page then lists the
/// device and no unused code; revoking the device there (confirmation, POST) cuts the phone off.
#[test]
fn a_rep_created_in_the_pages_enrols_with_the_pages_code_and_pulls_their_record() {
    let (dir, s) = seeded();
    let ho = Session::new(s.addr, "ho-zhang", HO_PW);

    let r = submit(
        &ho,
        "/app/structure/territories",
        &[("new", "1"), ("code", "hangzhou"), ("name", "杭州")],
    );
    assert_eq!(
        (r.status, location(&r).as_str()),
        (303, "/app/structure?done=saved"),
        "{}",
        r.text()
    );
    let r = submit(
        &ho,
        "/app/people",
        &[
            ("id", "sup-sun"),
            ("name", "孙悦"),
            ("role", "supervisor"),
            ("territory", "hangzhou"),
        ],
    );
    assert_eq!(
        (r.status, location(&r).as_str()),
        (303, "/app/people/sup-sun?done=saved"),
        "{}",
        r.text()
    );
    let r = submit(
        &ho,
        "/app/structure/teams",
        &[
            ("new", "1"),
            ("code", "hz-1"),
            ("name", "杭州一组"),
            ("supervisor", "sup-sun"),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    let r = submit(
        &ho,
        "/app/people",
        &[
            ("id", "rep-hz"),
            ("name", "何珊"),
            ("phone", "139 0000 0001"),
            ("role", "rep"),
            ("territory", "hangzhou"),
            ("team", "hz-1"),
        ],
    );
    assert_eq!(
        (r.status, location(&r).as_str()),
        (303, "/app/people/rep-hz?done=saved"),
        "{}",
        r.text()
    );

    // The list and the structure page show them by name, filters narrowing.
    let list = ho.get("/app/people?territory=hangzhou&lang=zh-CN").text();
    let rows = by_id(&list, "people");
    assert!(
        rows.contains("何珊") && rows.contains("孙悦") && !rows.contains("李娜"),
        "{rows}"
    );
    assert!(by_id(&list, "people-count").contains("显示 2 人"), "{list}");
    let reps = by_id(&ho.get("/app/people?role=rep&team=hz-1").text(), "people");
    assert!(reps.contains("何珊") && !reps.contains("孙悦"), "{reps}");
    let structure = ho.get("/app/structure?lang=zh-CN").text();
    let team = by_id(&structure, "team-hz-1");
    assert!(
        team.contains("杭州一组") && team.contains("孙悦") && team.contains("何珊"),
        "{team}"
    );

    // The rep's page issues a code: big, with its expiry and a QR code of this server.
    let page = submit(&ho, "/app/people/rep-hz/enrol-code", &[("hours", "72")]);
    assert_eq!(page.status, 200, "{}", page.text());
    let page = page.text();
    let (code, scanned) = issued(&page);
    let server = format!("http://{}", s.addr);
    assert_eq!(scanned, payload(&server, &code));
    assert!(by_id(&page, "issued").contains("何珊 的激活码"), "{page}");
    assert!(page.contains("有效期至"), "{page}");
    let rep_page = ho.get("/app/people/rep-hz?lang=zh-CN").text();
    assert!(!rep_page.contains(&code), "the code is shown once");
    assert_eq!(
        by_id(&rep_page, "codes").matches("<tr>").count(),
        2,
        "header and one code"
    );

    // A phone enrols with the code and pulls the rep's record.
    let phone = Device::random();
    let r = phone.enrol(s.addr, &code);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["user"]["id"], "rep-hz");
    let changes = phone.pull_all(s.addr);
    let me = user_changes(&changes, "rep-hz");
    let last = me.last().unwrap();
    assert_eq!(
        (&last["name"], &last["territory"], &last["supervisor_id"]),
        (
            &Value::from("何珊"),
            &Value::from("hangzhou"),
            &Value::from("sup-sun")
        )
    );
    assert!(
        !user_changes(&changes, "sup-sun").is_empty(),
        "their supervisor comes too"
    );

    // The rep's page lists the phone and no unused code.
    let rep_page = ho.get("/app/people/rep-hz?lang=zh-CN").text();
    assert!(
        rep_page.contains(&format!("data-device=\"{}\"", phone.id())),
        "{rep_page}"
    );
    assert!(rep_page.contains("没有未使用的激活码"), "{rep_page}");

    // An edit in the page reaches the phone on its next pull.
    let r = submit(
        &ho,
        "/app/people/rep-hz",
        &[
            ("name", "何珊珊"),
            ("role", "rep"),
            ("territory", "hangzhou"),
            ("team", "hz-1"),
        ],
    );
    assert_eq!(
        (r.status, location(&r).as_str()),
        (303, "/app/people/rep-hz?done=saved"),
        "{}",
        r.text()
    );
    let me = user_changes(&phone.pull_all(s.addr), "rep-hz");
    assert_eq!(me.last().unwrap()["name"], "何珊珊");

    // Revoke it from the devices page: a confirmation naming the rep, then the POST.
    let devices = ho.get("/app/devices?lang=zh-CN").text();
    assert!(devices.contains("何珊珊"), "{devices}");
    let confirm_path = format!("/app/devices/{}/revoke", phone.id());
    assert!(devices.contains(&format!("href=\"{confirm_path}\"")), "{devices}");
    let confirm = ho.get(&format!("{confirm_path}?lang=zh-CN")).text();
    assert!(
        by_id(&confirm, "revoke-question").contains("确定吊销 何珊珊 的手机"),
        "{confirm}"
    );
    let before = snapshot(dir.path());
    // Without the token nothing happens.
    assert_eq!(ho.post(&confirm_path, "", &[]).status, 403);
    assert_eq!(snapshot(dir.path()), before);
    let r = submit(&ho, &confirm_path, &[]);
    assert_eq!(
        (r.status, location(&r).as_str()),
        (303, "/app/devices?done=revoked")
    );
    let cut = phone.call(s.addr, "GET", "/v1/pull?cursor=0&limit=10", b"");
    assert!(
        cut.status == 401 || cut.status == 403,
        "revoked phone answered {}",
        cut.status
    );
    let devices = ho.get("/app/devices?done=revoked&lang=zh-CN").text();
    assert!(by_id(&devices, "done").contains("设备已吊销"), "{devices}");
    assert!(by_id(&devices, "devices").contains("已吊销"), "{devices}");
}

/// With `--public-url` the QR code carries that address (not the one the browser used);
/// a `--public-url` a phone would refuse stops the server from starting.
#[test]
fn the_qr_code_carries_the_public_url_and_a_bad_one_is_refused_at_start() {
    let (_dir, s) = seeded_with(&["--public-url", "https://hq.example.com/fieldproof/"]);
    let ho = Session::new(s.addr, "ho-zhang", HO_PW);
    let page = submit(&ho, "/app/people/rep-li/enrol-code", &[("hours", "24")]).text();
    let (code, scanned) = issued(&page);
    assert_eq!(scanned, payload("https://hq.example.com/fieldproof", &code));
    assert_eq!(by_id(&page, "enrol-server"), "https://hq.example.com/fieldproof");

    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(BIN)
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--public-url",
            "http://hq.example.com",
            "--data-dir",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--public-url") && err.contains("https://"), "{err}");
}

/// Without `--public-url`, the address the browser used: behind a TLS proxy
/// (`X-Forwarded-Proto: https`) the QR code says https; a plain-http address other than this
/// machine cannot be scanned by a phone, so the page shows the code with why there is no QR.
#[test]
fn without_a_public_url_the_qr_code_follows_the_browsers_address() {
    let (_dir, s) = seeded();
    let ho = Session::new(s.addr, "ho-zhang", HO_PW);
    let post = |host: &str, proto: Option<&str>| {
        let csrf = ho.csrf();
        let mut headers = vec![
            h("Cookie", &ho.cookie),
            h("Content-Type", "application/x-www-form-urlencoded"),
            h("Accept-Language", "zh-CN"),
            h("Host", host),
        ];
        if let Some(p) = proto {
            headers.push(h("X-Forwarded-Proto", p));
        }
        http(
            s.addr,
            "POST",
            "/app/people/rep-li/enrol-code",
            &headers,
            form(&[("csrf", &csrf), ("hours", "24")]).as_bytes(),
        )
        .text()
    };
    let page = post("hq.example.com", Some("https"));
    let (code, scanned) = issued(&page);
    assert_eq!(scanned, payload("https://hq.example.com", &code));
    let page = post("192.168.1.20:8787", None);
    assert!(!by_id(&page, "enrol-code").is_empty());
    let why = by_id(&page, "qr-refused");
    assert!(
        why.contains("不是手机可以连接的地址") && why.contains("--public-url"),
        "{why}"
    );
    assert!(!page.contains("id=\"enrol-qr\""));
}

/// Web users: created with a password (signs in), role changed (their session ends; the new
/// role's menu), deactivated (cannot sign in); created with a one-time link (shown once) that
/// leads to setting a password. Head office cannot make an admin.
#[test]
fn web_users_are_created_change_role_and_are_deactivated_in_the_pages() {
    let (dir, s) = seeded();
    let boss = Session::new(s.addr, "boss", BOSS_PW);
    let r = submit(
        &boss,
        "/app/accounts",
        &[
            ("id", "ho-li"),
            ("name", "李总部"),
            ("role", "head_office"),
            ("first", "password"),
            ("password", "li-password-123"),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("李总部"));
    let li = Session::new(s.addr, "ho-li", "li-password-123");
    let menu = li.get("/app?lang=zh-CN").text();
    for item in ["人员", "账号", "区域与团队", "设备"] {
        assert!(menu.contains(&format!(">{item}</a>")), "{item}: {menu}");
    }

    // Made a supervisor of sup-wang's team: signed out, signs in to a supervisor's menu.
    let r = submit(
        &boss,
        "/app/accounts/ho-li/role",
        &[("role", "supervisor"), ("supervisor", "sup-wang")],
    );
    assert_eq!(
        (r.status, location(&r).as_str()),
        (303, "/app/accounts/ho-li?done=saved")
    );
    assert_eq!(li.get("/app").status, 303, "the old session ended");
    let li = Session::new(s.addr, "ho-li", "li-password-123");
    let menu = li.get("/app?lang=zh-CN").text();
    assert!(
        !menu.contains(">人员</a>") && !menu.contains(">账号</a>"),
        "{menu}"
    );
    let account = boss.get("/app/accounts/ho-li?lang=zh-CN").text();
    assert!(by_id(&account, "account").contains("王磊"), "{account}");

    // Deactivated: signed out and cannot sign in.
    let r = submit(&boss, "/app/accounts/ho-li/deactivate", &[]);
    assert_eq!(r.status, 303);
    assert_eq!(li.get("/app").status, 303);
    let (r, session) = sign_in(s.addr, "ho-li", "li-password-123");
    assert_eq!((r.status, session), (401, None));
    assert!(boss.get("/app/accounts?lang=zh-CN").text().contains("停用"));

    // A sign-in link, shown once, leads to setting a password.
    let r = submit(
        &boss,
        "/app/accounts",
        &[
            ("id", "ho-new"),
            ("name", "新同事"),
            ("role", "head_office"),
            ("first", "link"),
            ("hours", "24"),
        ],
    );
    let page = r.text();
    let link = by_id(&page, "link");
    let path = link
        .strip_prefix(&format!("http://{}", s.addr))
        .unwrap_or_else(|| panic!("{link}"));
    let path = path.replace("&amp;", "&");
    assert!(
        path.starts_with("/app/login/link?token=") && path.ends_with("&next=%2Fapp%2Fpassword"),
        "{path}"
    );
    assert!(
        !boss.get("/app/accounts").text().contains(&path[..40]),
        "shown once"
    );
    let r = http(s.addr, "GET", &path, &[], b"");
    assert_eq!(r.status, 200);
    let cookie = format!("fp_session={}", common::cookie_value(&r, "fp_session").unwrap());
    let new = Session { addr: s.addr, cookie };
    let form_page = new.get("/app/password?lang=zh-CN").text();
    assert!(form_page.contains("设置密码"), "{form_page}");
    let csrf = common::hidden(&form_page, "csrf");
    let r = new.post(
        "/app/password",
        &form(&[("csrf", &csrf), ("password", "short"), ("repeat", "short")]),
        &[h("Accept-Language", "zh-CN")],
    );
    assert_eq!(r.status, 400);
    assert!(r.text().contains("密码至少需要 10 个字符"), "{}", r.text());
    let r = new.post(
        "/app/password",
        &form(&[
            ("csrf", &csrf),
            ("password", "new-password-42"),
            ("repeat", "new-password-42"),
        ]),
        &[],
    );
    assert_eq!((r.status, location(&r).as_str()), (303, "/app"));
    assert_eq!(new.get("/app").status, 200, "the session that set it stays");
    Session::new(s.addr, "ho-new", "new-password-42");
    assert!(new.get("/app/password?lang=zh-CN").text().contains("已设置密码"));

    // Head office may not make an admin: refused in words, nothing changed.
    let ho = Session::new(s.addr, "ho-zhang", HO_PW);
    let before = snapshot(dir.path());
    let r = submit(
        &ho,
        "/app/accounts",
        &[
            ("id", "x-admin"),
            ("name", "X"),
            ("role", "admin"),
            ("first", "password"),
            ("password", "x-password-123"),
        ],
    );
    assert_eq!(r.status, 403);
    assert!(r.text().contains("只有管理员可以管理管理员账号"), "{}", r.text());
    let r = submit(&ho, "/app/accounts/boss/role", &[("role", "head_office")]);
    assert_eq!(r.status, 403);
    // Its page offers head office no forms for it.
    let boss_page = ho.get("/app/accounts/boss?lang=zh-CN").text();
    assert!(boss_page.contains("id=\"admin-only\"") && !boss_page.contains("change-role"));
    assert_eq!(snapshot(dir.path()), before);
}

/// Territories and teams: created, renamed, a team given another supervisor (its reps move).
#[test]
fn territories_and_teams_are_created_and_renamed_in_the_page() {
    let (_dir, s) = seeded();
    let ho = Session::new(s.addr, "ho-zhang", HO_PW);
    assert_eq!(
        submit(
            &ho,
            "/app/structure/territories",
            &[("new", "1"), ("code", "suzhou"), ("name", "苏州")]
        )
        .status,
        303
    );
    assert_eq!(
        submit(
            &ho,
            "/app/structure/territories",
            &[("code", "suzhou"), ("name", "苏州市")]
        )
        .status,
        303
    );
    let page = ho.get("/app/structure?lang=zh-CN").text();
    assert!(by_id(&page, "territory-suzhou").contains("苏州市"), "{page}");
    // sup-wang's team renamed; then led by sup-liu... which already leads a team with reps: refused.
    assert_eq!(
        submit(
            &ho,
            "/app/structure/teams",
            &[
                ("code", "sup-wang"),
                ("name", "浦东一组"),
                ("supervisor", "sup-wang")
            ]
        )
        .status,
        303
    );
    let page = ho.get("/app/structure?lang=zh-CN").text();
    assert!(by_id(&page, "team-sup-wang").contains("浦东一组"), "{page}");
    let r = submit(
        &ho,
        "/app/structure/teams",
        &[
            ("code", "sup-wang"),
            ("name", "浦东一组"),
            ("supervisor", "sup-liu"),
        ],
    );
    assert_eq!(r.status, 400);
    assert!(
        by_id(&r.text(), "refusal").contains("刘洋 (sup-liu) 是团队 刘洋 的督导"),
        "{}",
        r.text()
    );
    // A new supervisor takes the team and its reps.
    assert_eq!(
        submit(
            &ho,
            "/app/people",
            &[("id", "sup-new"), ("name", "牛新"), ("role", "supervisor")]
        )
        .status,
        303
    );
    assert_eq!(
        submit(
            &ho,
            "/app/structure/teams",
            &[
                ("code", "sup-wang"),
                ("name", "浦东一组"),
                ("supervisor", "sup-new")
            ]
        )
        .status,
        303
    );
    let team = by_id(&ho.get("/app/structure").text(), "team-sup-wang");
    assert!(team.contains("牛新") && team.contains("李娜"), "{team}");
}

/// A supervisor is refused on every people route, GET or POST (with their valid CSRF token),
/// with a 403 page in their language; nothing changes; their menu has none of these pages.
#[test]
fn a_supervisor_is_refused_on_every_people_route_and_changes_nothing() {
    let (dir, s) = seeded();
    let wang = Session::new(s.addr, "sup-wang", WANG_PW);
    let menu = wang.get("/app?lang=zh-CN").text();
    for item in ["人员", "账号", "区域与团队", "设备"] {
        assert!(!menu.contains(&format!(">{item}</a>")), "{item}: {menu}");
    }
    let ho = Session::new(s.addr, "ho-zhang", HO_PW);
    let code_page = submit(&ho, "/app/people/rep-li/enrol-code", &[("hours", "24")]).text();
    let phone = Device::random();
    assert_eq!(phone.enrol(s.addr, &by_id(&code_page, "enrol-code")).status, 200);
    let before = snapshot(dir.path());
    let csrf = wang.csrf();
    let mut seen = 0;
    for (method, path) in fieldproof_server::web::WEB_ROUTES {
        if !["/app/people", "/app/accounts", "/app/structure", "/app/devices"]
            .iter()
            .any(|p| path.starts_with(p))
        {
            continue;
        }
        let pq = path
            .replace(
                "{id}",
                if path.contains("accounts") {
                    "ho-zhang"
                } else {
                    "rep-li"
                },
            )
            .replace("/app/devices/rep-li", &format!("/app/devices/{}", phone.id()));
        let body = form(&[
            ("csrf", &csrf),
            ("id", "rep-x"),
            ("name", "X"),
            ("role", "rep"),
            ("territory", "shanghai-east"),
            ("code", "x"),
            ("supervisor", "sup-wang"),
            ("hours", "24"),
            ("first", "password"),
            ("password", "x-password-123"),
            ("new", "1"),
        ]);
        let headers = [
            h("Cookie", &wang.cookie),
            h("Accept-Language", "zh-CN"),
            h("Content-Type", "application/x-www-form-urlencoded"),
        ];
        let r = http(
            s.addr,
            method,
            &pq,
            &headers,
            if *method == "POST" { body.as_bytes() } else { b"" },
        );
        assert_eq!(r.status, 403, "{method} {pq}: {}", r.text());
        assert!(
            r.text().contains("只有总部和管理员可以管理人员"),
            "{method} {pq}: {}",
            r.text()
        );
        seen += 1;
    }
    assert!(seen >= 19, "{seen} routes");
    assert_eq!(snapshot(dir.path()), before);
}

/// Bad input is refused with the catalogue's words in the page's language, the form keeping
/// what was typed, and changes nothing: an empty name, an ID in use, an unknown territory (a
/// crafted form: the page offers only known ones), a rep without a territory, a bad phone, a
/// territory code in use, a password too short.
#[test]
fn bad_input_is_refused_in_the_readers_language_and_changes_nothing() {
    let (dir, s) = seeded();
    let ho = Session::new(s.addr, "ho-zhang", HO_PW);
    let before = snapshot(dir.path());
    let rep = |id: &'static str, name: &'static str, territory: &'static str, phone: &'static str| {
        vec![
            ("id", id),
            ("name", name),
            ("role", "rep"),
            ("territory", territory),
            ("phone", phone),
        ]
    };
    for (path, fields, code, zh) in [
        (
            "/app/people",
            rep("rep-new", "  ", "shanghai-east", ""),
            "people_invalid_name",
            "名称须为 1 至 200 个字符",
        ),
        (
            "/app/people",
            rep("rep-li", "李娜二", "shanghai-east", ""),
            "people_id_taken",
            "李娜 (rep-li) 已存在",
        ),
        (
            "/app/people",
            rep("rep-new", "新人", "mars", ""),
            "people_unknown_territory",
            "没有代码为 mars 的区域",
        ),
        (
            "/app/people",
            rep("rep-new", "新人", "", ""),
            "people_rep_needs_territory",
            "业务员必须属于一个区域",
        ),
        (
            "/app/people",
            rep("rep-new", "新人", "shanghai-east", "call me"),
            "people_invalid_phone",
            "不是有效的电话号码",
        ),
        (
            "/app/people",
            rep("a b", "新人", "shanghai-east", ""),
            "people_invalid_id",
            "不能作为编号或代码",
        ),
        (
            "/app/structure/territories",
            vec![("new", "1"), ("code", "shanghai-east"), ("name", "重复")],
            "people_id_taken",
            "已存在",
        ),
        (
            "/app/structure/teams",
            vec![
                ("new", "1"),
                ("code", "t-x"),
                ("name", "X 组"),
                ("supervisor", "rep-li"),
            ],
            "people_not_a_supervisor",
            "不是督导",
        ),
        (
            "/app/accounts",
            vec![
                ("id", "ho-x"),
                ("name", "X"),
                ("role", "head_office"),
                ("first", "password"),
                ("password", "short"),
            ],
            "people_password_too_short",
            "密码至少需要 10 个字符",
        ),
        (
            "/app/people/rep-li",
            rep("rep-li", "", "shanghai-east", ""),
            "people_invalid_name",
            "名称须为",
        ),
        (
            "/app/people/sup-wang/deactivate",
            vec![],
            "people_has_reps",
            "仍有 2 名业务员隶属 王磊 (sup-wang)",
        ),
    ] {
        let r = submit(&ho, path, &fields);
        assert_eq!(r.status, 400, "{path} {code}: {}", r.text());
        let page = r.text();
        assert!(
            page.contains(&format!("data-code=\"{code}\"")),
            "{path} {code}: {page}"
        );
        let said = by_id(&page, "refusal");
        assert!(said.contains(zh), "{path} {code}: {said}");
        assert!(!said.contains(code), "{said}");
        assert_eq!(snapshot(dir.path()), before, "{path} {code} changed something");
    }
    // A role the form does not offer (a crafted form) is a bad form, not a rep.
    let r = submit(
        &ho,
        "/app/people",
        &[
            ("id", "rep-x"),
            ("name", "X"),
            ("role", "boss"),
            ("territory", "shanghai-east"),
        ],
    );
    assert_eq!(r.status, 400);
    assert!(r.text().contains("表单不完整或无法读取"), "{}", r.text());
    assert_eq!(snapshot(dir.path()), before);
    // What was typed is kept; the English page says it in English.
    let r = ho.post(
        "/app/people?lang=en",
        &form(&[
            ("csrf", &ho.csrf()),
            ("id", "rep-new"),
            ("name", "新人"),
            ("role", "rep"),
            ("territory", "mars"),
        ]),
        &[],
    );
    let page = r.text();
    assert!(
        page.contains("value=\"rep-new\"") && page.contains("value=\"新人\""),
        "{page}"
    );
    assert!(
        by_id(&page, "refusal").contains("There is no territory mars"),
        "{page}"
    );
    assert_eq!(snapshot(dir.path()), before);
}

/// The people pages' tables turn into cards on a phone: every cell is labelled.
#[test]
fn people_tables_label_every_cell() {
    let (_dir, s) = seeded();
    let ho = Session::new(s.addr, "ho-zhang", HO_PW);
    let code_page = submit(&ho, "/app/people/rep-li/enrol-code", &[("hours", "24")]).text();
    assert_eq!(
        Device::random()
            .enrol(s.addr, &by_id(&code_page, "enrol-code"))
            .status,
        200
    );
    submit(&ho, "/app/people/rep-li/enrol-code", &[("hours", "24")]);
    let mut cells = 0;
    for pq in [
        "/app/people",
        "/app/people/rep-li",
        "/app/accounts",
        "/app/structure",
        "/app/devices",
    ] {
        let page = ho.get(pq).text();
        for table in page.split("<table class=\"rows\"").skip(1) {
            let table = table.split("</table>").next().unwrap_or("");
            for td in table.split("<td").skip(1) {
                let tag = td.split('>').next().unwrap_or("");
                assert!(tag.contains("data-label="), "{pq}: <td{tag}>");
                cells += 1;
            }
        }
    }
    assert!(cells > 60, "{cells} cells checked");
}
