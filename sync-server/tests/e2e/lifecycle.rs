use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::json;

use crate::common::*;

#[test]
fn health_metrics_and_openapi_are_served() {
    let (_dir, s) = server();
    let r = get(s.addr, "/healthz");
    assert_eq!(r.status, 200);
    let h = r.json();
    assert_eq!(h["status"], "ok");
    assert!((h["server_time_ms"].as_i64().unwrap() - now_ms()).abs() < 60_000);
    let r = get(s.addr, "/openapi.json");
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["openapi"], "3.1.0");
    let r = get(s.addr, "/metrics");
    assert!(r.header("content-type").unwrap().starts_with("text/plain"));
    let m = r.text();
    assert!(
        m.contains("fieldproof_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"2xx\"} 1"),
        "{m}"
    );
    assert!(m.contains("fieldproof_ops_total{status=\"applied\"} 0"), "{m}");
    let log = s.log();
    assert!(
        log.contains("route=\"/healthz\"") || log.contains("route=/healthz"),
        "{log}"
    );
}

#[test]
fn acknowledged_data_survives_kill_9() {
    let (dir, mut s) = server();
    let phone = Phone::new();
    s.enrol_as(&phone.device, "rep-li");
    let v = store_check(&phone.core, "rep-li", "st-001", Some("plan-li-1"), fix_st001());
    phone.upload_photo(s.addr, &v.photo_id, 3);
    let ops = phone.ops();
    let r = phone.device.push(s.addr, &ops);
    assert_eq!(statuses(&r.json()), vec!["applied"; 9]);
    let before = s.stats();
    s.kill9();

    let s = Server::start(dir.path());
    assert_eq!(s.stats(), before);
    let r = phone.device.push(s.addr, &ops);
    assert_eq!(statuses(&r.json()), vec!["duplicate"; 9]);
    let devices: serde_json::Value = serde_json::from_str(&s.admin(&["devices"])).unwrap();
    assert_eq!(devices[0]["head_seq"], 9);
    assert_eq!(devices[0]["ops"], 9);
}

#[test]
fn sigterm_finishes_the_request_in_flight_then_exits() {
    let (_dir, mut s) = server();
    let dev = s.enrolled("rep-li");
    let body = json!({"ops": []}).to_string().into_bytes();
    let headers = dev.sign_headers("POST", "/v1/push", &body, now_ms(), &nonce());
    let mut conn = TcpStream::connect(s.addr).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut head = format!(
        "POST /v1/push HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in &headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    // Half the body, then SIGTERM while the request is in flight.
    conn.write_all(head.as_bytes()).unwrap();
    conn.write_all(&body[..body.len() / 2]).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    s.sigterm();
    std::thread::sleep(Duration::from_millis(300));
    conn.write_all(&body[body.len() / 2..]).unwrap();
    let mut raw = Vec::new();
    let _ = conn.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains("\"results\":[]"), "{text}");
    let status = s.wait_exit(Duration::from_secs(20));
    assert!(status.success(), "{status:?}");
    assert!(s.log().contains("shut down cleanly"));
    // New connections are refused once it is gone.
    assert!(TcpStream::connect(s.addr).is_err());
}
