//! Alerts end to end (issue #12, part 5): the real server binary on loopback, a real phone core
//! pushing visits that raise exceptions, and receivers written here — an HTTP server that checks
//! DingTalk's signed timestamp and WeCom's payload and records every message's idempotency key,
//! and a minimal SMTP sink.
//!
//! - The server is SIGKILLed while a receiver holds a message it has accepted but not yet
//!   answered; after a restart every message arrives, and deduplicated by key (as receivers are
//!   told to) each exactly once; the raw duplicates are counted and printed.
//! - Rules filter by code, team, territory and severity (a rule that must not match writes no
//!   row) and quiet hours hold messages until they end.
//! - A receiver answering 500 gets every attempt (backoff configured small), then the failure
//!   shows on the admin page in words; its retry button sends it again.
//! - Email over SMTP carries the key as its Message-ID; the daily digest is written once per
//!   supervisor per day, a restart writes no second one.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "e2e/common.rs"]
mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use common::{Phone, Server, Session, admin_ok, fix_at, form, reference_file, store_check};
use fieldproof_server::db::Connection;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

const DING_SECRET: &str = "SECtest-secret-0123456789";
const BOSS_PW: &str = "boss-password-1";

// --- the webhook receiver ------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    Ok,
    /// Accept (record) at once, answer after this long: a kill lands between the two.
    Delay(Duration),
    Status500,
}

#[derive(Default)]
struct Seen {
    /// (path, key, body) in arrival order, duplicates included.
    messages: Vec<(String, String, Value)>,
    /// Requests being held by `Delay`.
    in_flight: usize,
    /// Anything a real robot would refuse.
    problems: Vec<String>,
}

struct Receiver {
    addr: SocketAddr,
    mode: Arc<Mutex<Mode>>,
    seen: Arc<Mutex<Seen>>,
}

fn url_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap()
}

/// What DingTalk checks: `timestamp` within an hour, `sign` = base64(HMAC-SHA256(secret,
/// "{timestamp}\n{secret}")), URL-encoded in the query.
fn check_dingtalk(query: &str, body: &Value) -> Result<(), String> {
    let pairs: BTreeMap<&str, String> = query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k, url_decode(v)))
        .collect();
    if pairs.get("access_token").map(String::as_str) != Some("tok") {
        return Err(format!("access_token missing: {query}"));
    }
    let ts: i64 = pairs
        .get("timestamp")
        .and_then(|t| t.parse().ok())
        .ok_or(format!("no timestamp: {query}"))?;
    if (common::now_ms() - ts).abs() > 3_600_000 {
        return Err(format!("timestamp {ts} more than an hour off"));
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(DING_SECRET.as_bytes()).unwrap();
    mac.update(format!("{ts}\n{DING_SECRET}").as_bytes());
    let want = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    if pairs.get("sign") != Some(&want) {
        return Err(format!("sign {:?} is not {want}", pairs.get("sign")));
    }
    let md = &body["markdown"];
    if body["msgtype"] != "markdown" || !md["title"].is_string() || !md["text"].is_string() {
        return Err(format!("not a DingTalk markdown message: {body}"));
    }
    Ok(())
}

/// What WeCom's group robot takes: markdown (or text) with `content` of at most 4096 bytes.
fn check_wecom(query: &str, body: &Value) -> Result<(), String> {
    if !query.starts_with("key=") {
        return Err(format!("no key: {query}"));
    }
    let kind = body["msgtype"].as_str().unwrap_or("");
    let content = body[kind]["content"].as_str();
    match (kind, content) {
        ("markdown" | "text", Some(c)) if c.len() <= 4096 && !c.is_empty() => Ok(()),
        _ => Err(format!("not a WeCom message: {body}")),
    }
}

fn serve_conn(mut s: TcpStream, mode: Arc<Mutex<Mode>>, seen: Arc<Mutex<Seen>>) {
    let mut r = BufReader::new(s.try_clone().unwrap());
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let target = line.split(' ').nth(1).unwrap_or("").to_string();
        let mut len = 0usize;
        let mut key = String::new();
        loop {
            let mut h = String::new();
            if r.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    len = v.trim().parse().unwrap();
                }
                if k.eq_ignore_ascii_case("x-fieldproof-idempotency-key") {
                    key = v.trim().to_string();
                }
            }
        }
        let mut body = vec![0u8; len];
        r.read_exact(&mut body).unwrap();
        let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let (path, query) = target.split_once('?').unwrap_or((&target, ""));
        let check = match path {
            "/dingtalk" => check_dingtalk(query, &body),
            _ => check_wecom(query, &body),
        };
        let m = *mode.lock().unwrap();
        {
            let mut g = seen.lock().unwrap();
            if let Err(p) = check {
                g.problems.push(p);
            }
            if key.is_empty() {
                g.problems.push(format!("no idempotency key on {target}"));
            }
            g.messages.push((path.to_string(), key, body));
            if matches!(m, Mode::Delay(_)) {
                g.in_flight += 1;
            }
        }
        let (status, answer) = match m {
            Mode::Ok => ("200 OK", r#"{"errcode":0,"errmsg":"ok"}"#),
            Mode::Delay(d) => {
                std::thread::sleep(d);
                seen.lock().unwrap().in_flight -= 1;
                ("200 OK", r#"{"errcode":0,"errmsg":"ok"}"#)
            }
            Mode::Status500 => ("500 Internal Server Error", "busy"),
        };
        let resp = format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{answer}",
            answer.len()
        );
        if s.write_all(resp.as_bytes()).is_err() {
            return;
        }
    }
}

impl Receiver {
    fn start(mode: Mode) -> Receiver {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let mode = Arc::new(Mutex::new(mode));
        let seen = Arc::new(Mutex::new(Seen::default()));
        let (m, s) = (mode.clone(), seen.clone());
        std::thread::spawn(move || {
            for c in l.incoming().flatten() {
                let (m, s) = (m.clone(), s.clone());
                std::thread::spawn(move || serve_conn(c, m, s));
            }
        });
        Receiver { addr, mode, seen }
    }

    fn url(&self, path: &str, query: &str) -> String {
        format!("http://{}{path}?{query}", self.addr)
    }

    fn set(&self, m: Mode) {
        *self.mode.lock().unwrap() = m;
    }

    fn keys(&self) -> Vec<String> {
        self.seen
            .lock()
            .unwrap()
            .messages
            .iter()
            .map(|m| m.1.clone())
            .collect()
    }
}

// --- the SMTP sink -------------------------------------------------------------------------

/// Speaks just enough SMTP for one client at a time; keeps each message's raw text.
fn smtp_sink() -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let mails = Arc::new(Mutex::new(Vec::new()));
    let m = mails.clone();
    std::thread::spawn(move || {
        for c in l.incoming().flatten() {
            let m = m.clone();
            std::thread::spawn(move || {
                let mut w = c.try_clone().unwrap();
                let mut r = BufReader::new(c);
                let _ = w.write_all(b"220 sink ESMTP\r\n");
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let cmd = line.trim_end().to_ascii_uppercase();
                    let reply: &[u8] = if cmd.starts_with("EHLO") {
                        b"250-sink\r\n250 8BITMIME\r\n"
                    } else if cmd.starts_with("DATA") {
                        let _ = w.write_all(b"354 go on\r\n");
                        let mut text = String::new();
                        loop {
                            let mut l = String::new();
                            if r.read_line(&mut l).unwrap_or(0) == 0 {
                                return;
                            }
                            if l == ".\r\n" {
                                break;
                            }
                            text.push_str(&l);
                        }
                        m.lock().unwrap().push(text);
                        b"250 queued\r\n"
                    } else if cmd.starts_with("QUIT") {
                        let _ = w.write_all(b"221 bye\r\n");
                        return;
                    } else {
                        b"250 ok\r\n"
                    };
                    if w.write_all(reply).is_err() {
                        return;
                    }
                }
            });
        }
    });
    (addr, mails)
}

// --- the server and its data ---------------------------------------------------------------

fn data_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    admin_ok(dir.path(), &["init"]);
    admin_ok(
        dir.path(),
        &["load-reference", reference_file().to_str().unwrap()],
    );
    dir
}

/// As [`data_dir`], with the fixture's plans (rep-li: st-001, st-002, st-003; rep-zhao: st-101,
/// all of Wang's team) moved to today (the server's default +08:00 calendar).
fn data_dir_with_plans_today() -> tempfile::TempDir {
    let dir = data_dir();
    let cal = fieldproof_server::Calendar::CHINA;
    let today = fieldproof_server::calendar::day_string(cal.day_of(common::now_ms()));
    let mut reference: Value =
        serde_json::from_str(&std::fs::read_to_string(reference_file()).unwrap()).unwrap();
    for p in reference["plans"].as_array_mut().unwrap() {
        p["date"] = Value::String(today.clone());
    }
    let file = dir.path().join("reference-today.json");
    std::fs::write(&file, reference.to_string()).unwrap();
    admin_ok(dir.path(), &["load-reference", file.to_str().unwrap()]);
    dir
}

fn db(d: &Path) -> Connection {
    // Waits for the server's write lock like the server's own connections (5 s).
    common::test_db::connect(d)
}

/// (state, count) of every delivery.
fn states(d: &Path) -> BTreeMap<String, i64> {
    let c = db(d);
    let mut st = c
        .prepare("SELECT state, count(*) FROM alert_deliveries GROUP BY state")
        .unwrap();
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// rep-li's phone: `visits` store checks at st-001 from 2 km away (outside the geofence, and
/// the photos stay on the phone: photo_missing), pushed.
fn push_far_visits(s: &Server, visits: usize) -> Phone {
    let phone = Phone::new();
    s.enrol_as(&phone.device, "rep-li");
    for _ in 0..visits {
        store_check(&phone.core, "rep-li", "st-001", None, fix_at(31.2484, 121.5200));
    }
    let r = phone.device.push(s.addr, &phone.ops());
    assert_eq!(r.status, 200, "{}", r.text());
    phone
}

fn local_hhmm(ms: i64) -> String {
    // The server's calendar is the default +08:00.
    let min = (ms / 60_000 + 8 * 60).rem_euclid(1440);
    format!("{:02}:{:02}", min / 60, min % 60)
}

#[test]
fn killed_mid_delivery_every_message_arrives_once_by_key_and_rules_filter() {
    let dir = data_dir();
    let d = dir.path();
    let rx = Receiver::start(Mode::Delay(Duration::from_millis(1200)));
    let add_channel = |args: &[&str]| -> String {
        let mut a = vec!["alert-channel", "add"];
        a.extend_from_slice(args);
        admin_ok(d, &a).trim().to_string()
    };
    let ding = add_channel(&[
        "--kind",
        "dingtalk",
        "--name",
        "督导群",
        "--lang",
        "zh-CN",
        "--webhook",
        &rx.url("/dingtalk", "access_token=tok"),
        "--secret",
        DING_SECRET,
    ]);
    let wecom = add_channel(&[
        "--kind",
        "wecom",
        "--name",
        "HQ group",
        "--lang",
        "en",
        "--webhook",
        &rx.url("/wecom", "key=k1"),
    ]);
    let other_team = add_channel(&[
        "--kind",
        "wecom",
        "--name",
        "Liu's team",
        "--webhook",
        &rx.url("/liu", "key=k2"),
    ]);
    let quiet = add_channel(&[
        "--kind",
        "wecom",
        "--name",
        "Night",
        "--webhook",
        &rx.url("/quiet", "key=k3"),
    ]);
    let rule = |args: &[&str]| {
        let mut a = vec!["alert-rule", "add"];
        a.extend_from_slice(args);
        admin_ok(d, &a);
    };
    // Wang's team's geofence problems, to DingTalk.
    rule(&[
        "--name",
        "geofence",
        "--channel",
        &ding,
        "--codes",
        "outside_geofence",
        "--team",
        "sup-wang",
    ]);
    // Warnings and worse in shanghai-east, to WeCom (photo_missing is only info: not sent).
    rule(&[
        "--name",
        "east",
        "--channel",
        &wecom,
        "--territory",
        "shanghai-east",
        "--min-severity",
        "2",
    ]);
    // Must not match: another team; critical only; another territory.
    rule(&["--name", "liu", "--channel", &other_team, "--team", "sup-liu"]);
    rule(&["--name", "crit", "--channel", &other_team, "--min-severity", "3"]);
    rule(&[
        "--name",
        "west",
        "--channel",
        &other_team,
        "--territory",
        "shanghai-west",
    ]);
    // Quiet hours around now: held, not dropped.
    let now = common::now_ms();
    let (from, to) = (local_hhmm(now - 3_600_000), local_hhmm(now + 2 * 3_600_000));
    rule(&[
        "--name",
        "night",
        "--channel",
        &quiet,
        "--quiet",
        &format!("{from}-{to}"),
    ]);

    let args = [
        "--public-url",
        "https://hq.example.com",
        "--alert-lease-ms",
        "1500",
        "--alert-poll-ms",
        "100",
        "--alert-retry-base-ms",
        "200",
        "--alert-send-timeout-secs",
        "10",
        "--alert-digest-hour",
        "off",
    ];
    let mut s = Server::start_with(d, &args, None);
    let _phone = push_far_visits(&s, 3);

    // Which exceptions were raised, and which messages the rules asked for.
    let c = db(d);
    let codes: Vec<String> = c
        .prepare("SELECT code FROM exceptions ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let geo = codes.iter().filter(|c| *c == "outside_geofence").count();
    let warn_or_worse = codes
        .iter()
        .filter(|c| fieldproof_server::codes::severity(c) >= fieldproof_server::codes::Severity::Warning)
        .count();
    assert!(geo >= 3, "{codes:?}");
    assert!(codes.iter().any(|c| c == "photo_missing"), "{codes:?}");
    let per_channel: BTreeMap<i64, (i64, i64)> = c
        .prepare("SELECT channel_id, count(*), sum(held_quiet) FROM alert_deliveries GROUP BY channel_id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let id = |s: &str| s.parse::<i64>().unwrap();
    assert_eq!(per_channel.get(&id(&ding)), Some(&(geo as i64, 0)));
    assert_eq!(per_channel.get(&id(&wecom)), Some(&(warn_or_worse as i64, 0)));
    assert_eq!(
        per_channel.get(&id(&other_team)),
        None,
        "rules that must not match wrote rows"
    );
    assert_eq!(
        per_channel.get(&id(&quiet)),
        Some(&(codes.len() as i64, codes.len() as i64))
    );
    let expected = (geo + warn_or_worse) as i64;

    // Kill the server while the receiver holds a message it has accepted.
    wait_until("a message in flight", Duration::from_secs(20), || {
        rx.seen.lock().unwrap().in_flight > 0
    });
    let accepted_before_kill = rx.keys();
    s.kill9();
    let sent_before: i64 = db(d)
        .query_row(
            "SELECT count(*) FROM alert_deliveries WHERE state = 'sent'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(sent_before < expected);
    // The key that was accepted but not marked sent.
    let unmarked: Vec<String> = {
        let c = db(d);
        let mut st = c
            .prepare("SELECT idempotency_key FROM alert_deliveries WHERE state = 'pending'")
            .unwrap();
        st.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert!(
        accepted_before_kill.iter().any(|k| unmarked.contains(k)),
        "the kill did not land between acceptance and commit"
    );

    rx.set(Mode::Ok);
    let _s = Server::start_with(d, &args, None);
    wait_until("every message sent", Duration::from_secs(60), || {
        states(d).get("sent").copied().unwrap_or(0) == expected
    });
    let c = db(d);
    let sent_keys: BTreeSet<String> = c
        .prepare("SELECT idempotency_key FROM alert_deliveries WHERE state = 'sent'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let raw = rx.keys();
    let unique: BTreeSet<String> = raw.iter().cloned().collect();
    let duplicates = raw.len() - unique.len();
    println!(
        "alerts after SIGKILL: {} messages, {} raw receipts, {} duplicate(s) removed by key",
        unique.len(),
        raw.len(),
        duplicates
    );
    assert_eq!(unique, sent_keys, "every message arrived exactly once by key");
    assert!(
        (1..=2).contains(&duplicates),
        "one message in flight per channel (two channels): {duplicates}"
    );
    let seen = rx.seen.lock().unwrap();
    assert!(seen.problems.is_empty(), "{:?}", seen.problems);
    assert!(
        seen.messages
            .iter()
            .all(|m| m.0 == "/dingtalk" || m.0 == "/wecom")
    );
    // The messages read as the pages do, in the channel's language, with names and the link.
    let ding_text = seen
        .messages
        .iter()
        .find(|m| m.0 == "/dingtalk")
        .map(|m| m.2["markdown"]["text"].as_str().unwrap().to_string())
        .unwrap();
    assert!(ding_text.contains("联华超市（浦东南路店）"), "{ding_text}");
    assert!(ding_text.contains("李娜"), "{ding_text}");
    assert!(
        ding_text.contains("不在地理围栏内") || ding_text.contains("地理围栏"),
        "{ding_text}"
    );
    assert!(
        ding_text.contains("https://hq.example.com/app/visits/"),
        "{ding_text}"
    );
    let wecom_text = seen
        .messages
        .iter()
        .find(|m| m.0 == "/wecom")
        .map(|m| m.2["markdown"]["content"].as_str().unwrap().to_string())
        .unwrap();
    assert!(
        wecom_text.contains("Store: 联华超市（浦东南路店）"),
        "{wecom_text}"
    );
    assert!(
        wecom_text.contains("https://hq.example.com/app/visits/"),
        "{wecom_text}"
    );
    // The held ones wait for the end of quiet hours.
    let held: Vec<(String, i64)> = c
        .prepare("SELECT state, next_attempt_ms FROM alert_deliveries WHERE held_quiet = 1")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(held.len(), codes.len());
    for (state, next) in held {
        assert_eq!(state, "pending");
        assert_eq!(local_hhmm(next), to);
        assert!(next > common::now_ms());
    }
}

/// An admin web user, signed in.
fn boss(s: &Server) -> Session {
    admin_ok(
        &s.data_dir,
        &[
            "create-user",
            "--id",
            "boss",
            "--name",
            "Boss",
            "--role",
            "admin",
            "--password",
            BOSS_PW,
        ],
    );
    Session::new(s.addr, "boss", BOSS_PW)
}

#[test]
fn a_receiver_answering_500_gets_every_retry_then_the_failure_shows_on_the_admin_page() {
    let dir = data_dir();
    let d = dir.path();
    let rx = Receiver::start(Mode::Status500);
    let s = Server::start_with(
        d,
        &[
            "--alert-retry-base-ms",
            "100",
            "--alert-retry-cap-secs",
            "1",
            "--alert-max-attempts",
            "4",
            "--alert-poll-ms",
            "50",
            "--alert-digest-hour",
            "off",
        ],
        None,
    );
    let web = boss(&s);
    let csrf = web.csrf();
    // The channel and the rule through the page's forms.
    let r = web.post(
        "/app/alerts/channels",
        &form(&[
            ("csrf", &csrf),
            ("kind", "wecom"),
            ("name", "HQ robot"),
            ("lang", "en"),
            ("webhook_url", &rx.url("/wecom", "key=secret-key-123456")),
            ("enabled", "1"),
        ]),
        &[],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    let channel: i64 = db(d)
        .query_row("SELECT max(id) FROM alert_channels", [], |r| r.get(0))
        .unwrap();
    let r = web.post(
        "/app/alerts/rules",
        &form(&[
            ("csrf", &csrf),
            ("name", "geofence"),
            ("channel_id", &channel.to_string()),
            ("codes", "outside_geofence"),
            ("min_severity", "1"),
            ("enabled", "1"),
        ]),
        &[],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    // A bad form is refused in words and changes nothing.
    let r = web.post(
        "/app/alerts/rules?lang=en",
        &form(&[
            ("csrf", &csrf),
            ("name", "bad"),
            ("channel_id", &channel.to_string()),
            ("codes", "no_such_code"),
            ("min_severity", "1"),
            ("quiet_from", "22:00"),
        ]),
        &[],
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(
        r.text().contains("no_such_code is not an exception type."),
        "{}",
        r.text()
    );
    assert_eq!(
        db(d)
            .query_row("SELECT count(*) FROM alert_rules", [], |r| r.get::<_, i64>(0))
            .unwrap(),
        1
    );
    // The page never shows the webhook's key in full.
    let page = web.get("/app/alerts?lang=en");
    assert_eq!(page.status, 200);
    assert!(!page.text().contains("secret-key-123456"), "{}", page.text());
    assert!(page.text().contains("••••3456"), "{}", page.text());

    let _phone = push_far_visits(&s, 1);
    let rows: i64 = db(d)
        .query_row("SELECT count(*) FROM alert_deliveries", [], |r| r.get(0))
        .unwrap();
    assert!(rows >= 1);
    wait_until("every message failed", Duration::from_secs(30), || {
        states(d).get("failed").copied().unwrap_or(0) == rows
    });
    let raw = rx.keys();
    let mut per_key: BTreeMap<String, usize> = BTreeMap::new();
    for k in &raw {
        *per_key.entry(k.clone()).or_default() += 1;
    }
    println!(
        "500 receiver: {} message(s), attempts per message {:?}",
        per_key.len(),
        per_key.values().collect::<Vec<_>>()
    );
    assert_eq!(per_key.len() as i64, rows);
    assert!(per_key.values().all(|n| *n == 4), "{per_key:?}");
    let attempts: Vec<i64> = db(d)
        .prepare("SELECT attempts FROM alert_deliveries")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(attempts.iter().all(|a| *a == 4));

    // The failure in words, on the admin page, in both languages.
    let en = web.get("/app/alerts?lang=en").text();
    assert!(en.contains("The receiver answered HTTP 500."), "{en}");
    let zh = web.get("/app/alerts?lang=zh-CN").text();
    assert!(zh.contains("接收方返回 HTTP 500。"), "{zh}");
    // A supervisor may not see or change alerts.
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
            "wang-password-1",
        ],
    );
    let sup = Session::new(s.addr, "sup-wang", "wang-password-1");
    assert_eq!(sup.get("/app/alerts").status, 403);
    // Retry: sent again with the same key once the receiver works.
    rx.set(Mode::Ok);
    let failed: i64 = db(d)
        .query_row(
            "SELECT min(id) FROM alert_deliveries WHERE state = 'failed'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let r = web.post(
        &format!("/app/alerts/deliveries/{failed}/retry"),
        &form(&[("csrf", &csrf)]),
        &[],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    wait_until("the retried message sent", Duration::from_secs(10), || {
        states(d).get("sent").copied().unwrap_or(0) == 1
    });
    let key: String = db(d)
        .query_row(
            "SELECT idempotency_key FROM alert_deliveries WHERE id = ?1",
            [failed],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(rx.keys().iter().filter(|k| **k == key).count(), 5);
}

#[test]
fn email_over_smtp_carries_the_key_and_the_digest_is_written_once_a_day() {
    let dir = data_dir_with_plans_today();
    let d = dir.path();
    let (smtp, mails) = smtp_sink();
    let ch = admin_ok(
        d,
        &[
            "alert-channel",
            "add",
            "--kind",
            "email",
            "--name",
            "Ops mail",
            "--lang",
            "en",
            "--smtp-host",
            "127.0.0.1",
            "--smtp-port",
            &smtp.port().to_string(),
            "--smtp-tls",
            "none",
            "--mail-from",
            "fieldproof@example.com",
            "--mail-to",
            "ops@example.com, wang@example.com",
        ],
    );
    let ch = ch.trim();
    admin_ok(
        d,
        &[
            "alert-rule",
            "add",
            "--name",
            "all",
            "--channel",
            ch,
            "--team",
            "sup-wang",
            "--digest",
        ],
    );
    let args = |digest: &'static str| {
        [
            "--alert-poll-ms",
            "100",
            "--alert-digest-hour",
            digest,
            "--public-url",
            "https://hq.example.com",
        ]
    };
    // The day's visits first (the digest is written at its hour, here: the next start).
    let mut s = Server::start_with(d, &args("off"), None);
    let _phone = push_far_visits(&s, 1);
    let rows: i64 = db(d)
        .query_row("SELECT count(*) FROM alert_deliveries", [], |r| r.get(0))
        .unwrap();
    assert!(rows >= 2);
    wait_until("every mail sent", Duration::from_secs(30), || {
        states(d).get("sent").copied().unwrap_or(0) == rows
    });
    let keys: BTreeSet<String> = db(d)
        .prepare("SELECT idempotency_key FROM alert_deliveries")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let sent = mails.lock().unwrap().clone();
    assert_eq!(sent.len() as i64, rows);
    let message_key = |m: &String| {
        m.lines()
            .find(|l| l.to_ascii_lowercase().starts_with("message-id:"))
            .map(|l| {
                l[11..]
                    .trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .trim_end_matches("@fieldproof")
                    .to_string()
            })
    };
    let ids: BTreeSet<String> = sent.iter().filter_map(message_key).collect();
    assert_eq!(ids, keys, "each mail's Message-ID is its key");
    assert!(
        sent.iter()
            .all(|m| m.contains("To: ops@example.com, wang@example.com"))
    );

    // The digest at its hour (0: at once): one for Wang's team, none for Liu's (the rule names
    // Wang's team), with the day's missed stops by the plan page's rule.
    s.kill9();
    let mut s = Server::start_with(d, &args("0"), None);
    wait_until("the digest mailed", Duration::from_secs(30), || {
        mails.lock().unwrap().len() as i64 == rows + 1
    });
    let digests: Vec<(String, String, String)> = db(d)
        .prepare(
            "SELECT digest_supervisor, body, idempotency_key FROM alert_deliveries WHERE digest_supervisor IS NOT NULL",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(digests.len(), 1, "{digests:?}");
    let (sup, body, key) = &digests[0];
    assert_eq!(sup, "sup-wang");
    assert!(body.contains("Planned stops not visited: 3"), "{body}");
    for line in [
        "- 全家便利店（世纪大道店） (李娜)",
        "- 好德便利（张杨路店） (李娜)",
        "- 家乐福（古北店） (赵强)",
    ] {
        assert!(body.contains(line), "{line} in {body}");
    }
    assert!(
        !body.contains("联华超市"),
        "the visited stop is not missed: {body}"
    );
    assert!(body.contains("Open exceptions: "), "{body}");
    let mail = mails.lock().unwrap().last().cloned().unwrap();
    assert_eq!(message_key(&mail).as_deref(), Some(key.as_str()));
    // A restart writes no second digest for the day.
    s.kill9();
    let _s = Server::start_with(d, &args("0"), None);
    std::thread::sleep(Duration::from_millis(1500));
    let n: i64 = db(d)
        .query_row(
            "SELECT count(*) FROM alert_deliveries WHERE digest_supervisor IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 1);
    assert_eq!(mails.lock().unwrap().len() as i64, rows + 1);
}
