//! Evidence bundles (docs/evidence-bundle.md), acceptance 2 and 3 of issue 16: a day of real
//! phones (real cores, real JPEGs) on the real server; `admin export-evidence` and head
//! office's download write a bundle, and `fieldproof-server verify` (the real binary, with
//! nothing but the file) passes it, then finds each tampering as the document says.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use fieldproof_core::evidence::{EntryHeader, Signer, entry_bytes, read_entry, sha256_hex, verify_signature};
use fieldproof_core::sync::wire::PushOp;
use serde_json::Value;

use crate::common::*;
use crate::evidence::{badge_of, head_office, non_canonical};

const PW: &str = "correct horse battery";

/// rep-li (team of sup-wang): two store checks; rep-chen (team of sup-liu): one. Every op
/// pushed and every photo uploaded. The phones, and the visits (li's two, chen's one).
fn a_day(s: &Server) -> (Phone, Phone, Vec<VisitOutcome>) {
    let li = Phone::new();
    s.enrol_as(&li.device, "rep-li");
    let chen = Phone::new();
    s.enrol_as(&chen.device, "rep-chen");
    let mut visits = Vec::new();
    for (phone, user) in [(&li, "rep-li"), (&li, "rep-li"), (&chen, "rep-chen")] {
        visits.push(store_check(&phone.core, user, "st-001", None, fix_st001()));
    }
    for phone in [&li, &chen] {
        let r = phone.device.push(s.addr, &phone.ops());
        assert_eq!(r.status, 200, "{}", r.text());
        assert!(statuses(&r.json()).iter().all(|s| s == "applied"), "{}", r.text());
    }
    for (phone, v) in [(&li, &visits[0]), (&li, &visits[1]), (&chen, &visits[2])] {
        let done = phone.upload_photo(s.addr, &v.photo_id, 2);
        assert_eq!(done["complete"], true);
    }
    (li, chen, visits)
}

fn export(s: &Server, dir: &Path, name: &str, args: &[&str]) -> PathBuf {
    let out = dir.join(name);
    let mut all = vec!["export-evidence", "--out", out.to_str().unwrap()];
    all.extend_from_slice(args);
    let said = s.admin(&all);
    assert!(said.starts_with("wrote "), "{said}");
    out
}

/// `verify BUNDLE --json`: the exit code and the report.
fn verify(bundle: &Path) -> (i32, Value) {
    let out = Command::new(BIN)
        .args(["verify", bundle.to_str().unwrap(), "--json"])
        .output()
        .unwrap();
    let code = out.status.code().unwrap();
    let report = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (code, report)
}

fn codes(report: &Value) -> Vec<String> {
    let mut c: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect();
    c.sort();
    c.dedup();
    c
}

/// The members of a bundle, in order.
fn members(path: &Path) -> Vec<(String, Vec<u8>)> {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    (0..zip.len())
        .map(|i| {
            let mut f = zip.by_index(i).unwrap();
            let mut bytes = Vec::new();
            f.read_to_end(&mut bytes).unwrap();
            (f.name().unwrap().to_string(), bytes)
        })
        .collect()
}

fn write_zip(path: &Path, members: &[(String, Vec<u8>)]) {
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, bytes) in members {
        zip.start_file(name.as_str(), opts).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap();
}

fn bundle_json(m: &[(String, Vec<u8>)]) -> Value {
    let (_, b) = m.iter().find(|(n, _)| n == "bundle.json").unwrap();
    serde_json::from_slice(b).unwrap()
}

/// A copy of `src` with bundle.json changed by `f` (the summary kept consistent by the tamperer).
fn tamper_json(src: &Path, dst: &Path, f: impl FnOnce(&mut Value)) -> PathBuf {
    let mut m = members(src);
    let mut b = bundle_json(&m);
    f(&mut b);
    let entries: usize = b["chains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["entries"].as_array().unwrap().len())
        .sum();
    b["summary"]["entries"] = entries.into();
    let selected = b["chains"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["entries"].as_array().unwrap())
        .filter(|e| e["selected"] == true)
        .count();
    b["summary"]["selected_entries"] = selected.into();
    b["summary"]["devices"] = b["devices"].as_array().unwrap().len().into();
    for (name, bytes) in &mut m {
        if name == "bundle.json" {
            *bytes = serde_json::to_vec_pretty(&b).unwrap();
        }
    }
    write_zip(dst, &m);
    dst.to_path_buf()
}

fn chain_of<'a>(b: &'a mut Value, device: &str) -> &'a mut Vec<Value> {
    b["chains"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|c| c["device_id"] == device)
        .unwrap()["entries"]
        .as_array_mut()
        .unwrap()
}

/// An entry following `last` in the device's chain, with an hlc below it, signed by `signer`.
fn backdated_after(last: &str, signer: &Signer, device_id: &str) -> Value {
    let prev = read_entry(last).unwrap();
    let mut time = prev.time;
    time.hlc -= 1_000_000;
    time.wall_ms -= 3_600_000;
    let op_id = format!("{device_id}-forged");
    let entry = entry_bytes(
        &EntryHeader {
            device_id,
            seq: prev.seq + 1,
            op_id: &op_id,
            kind: "visit.report",
            entity_id: &prev.entity_id,
            time,
            prev_hash: &sha256_hex(last.as_bytes()),
        },
        &serde_json::json!({"visit_id": prev.entity_id, "report": {"notes": "补记", "objections": [], "next_steps": [], "follow_up_date": null}}),
    );
    serde_json::json!({
        "signature_hex": signer.sign_hex(entry.as_bytes()), "entry_hash": sha256_hex(entry.as_bytes()),
        "entry": entry, "recv_index": null, "received_ms": fieldproof_server::now_ms(), "seq": prev.seq + 1,
        "status": "applied", "reason": null, "detail": null, "selected": true,
    })
}

#[test]
fn an_exported_bundle_verifies_offline_and_each_tampering_gives_its_finding() {
    let (_dir, s) = server();
    let (li, chen, visits) = a_day(&s);
    let work = tempfile::tempdir().unwrap();
    let bundle = export(&s, work.path(), "li.zip", &["--rep", "李娜"]);
    let (code, report) = verify(&bundle);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["photos"].as_array().unwrap().len(), 2, "{report:#}");
    for p in report["photos"].as_array().unwrap() {
        assert_eq!(p["outcome"], "verified", "{report:#}");
    }
    // Both of li's visits, their phone's chain from its first entry (seq 1: checked against
    // genesis); none of chen's.
    let m = members(&bundle);
    let b = bundle_json(&m);
    assert_eq!(b["summary"]["visits"], 2);
    assert_eq!(b["devices"].as_array().unwrap().len(), 1);
    assert_eq!(b["chains"][0]["device_id"], li.device.id());
    assert_eq!(b["chains"][0]["entries"].as_array().unwrap().len(), 18);
    assert_eq!(m[0].0, "README.txt");
    assert!(String::from_utf8_lossy(&m[0].1).contains("fieldproof-server verify"));
    // Readable in Chinese by default and in English, and exit 0.
    for (lang, says) in [(None, "结果：未发现问题"), (Some("en"), "Result: no findings")] {
        let mut cmd = Command::new(BIN);
        cmd.args(["verify", bundle.to_str().unwrap()]).env_remove("LANG");
        if let Some(l) = lang {
            cmd.args(["--lang", l]);
        }
        let out = cmd.output().unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(out.status.success() && text.contains(says), "{text}");
        assert!(
            !text.contains(&b["photos"][0]["image_sha256"].as_str().unwrap()[..20]),
            "{text}"
        );
    }

    let t = |name: &str| work.path().join(name);
    let li_id = li.device.id().to_string();

    // A photo byte flipped.
    let mut flipped = members(&bundle);
    let photo = flipped
        .iter_mut()
        .find(|(n, _)| n.starts_with("photos/"))
        .unwrap();
    let mid = photo.1.len() / 2;
    photo.1[mid] ^= 0x01;
    write_zip(&t("flipped.zip"), &flipped);
    let (code, r) = verify(&t("flipped.zip"));
    assert_eq!(
        (code, codes(&r)),
        (1, vec!["image_hash_mismatch".to_string()]),
        "{r:#}"
    );

    // A manifest field changed (the photo's size in its signed record).
    let changed = tamper_json(&bundle, &t("manifest.zip"), |b| {
        let e = chain_of(b, &li_id)
            .iter_mut()
            .find(|e| e["entry"].as_str().unwrap().contains("\"kind\":\"visit.photo\""))
            .unwrap();
        let text = e["entry"]
            .as_str()
            .unwrap()
            .replacen("\"byte_len\":", "\"byte_len\":1", 1);
        e["entry"] = text.into();
    });
    let (code, r) = verify(&changed);
    assert_eq!(code, 1);
    assert!(codes(&r).contains(&"bad_signature".to_string()), "{r:#}");
    assert!(!codes(&r).contains(&"image_hash_mismatch".to_string()), "{r:#}");

    // An entry removed (an answer of the first visit).
    let removed = tamper_json(&bundle, &t("removed.zip"), |b| {
        chain_of(b, &li_id).remove(3);
    });
    let (code, r) = verify(&removed);
    assert_eq!((code, codes(&r)), (1, vec!["chain_gap".to_string()]), "{r:#}");

    // Two entries reordered.
    let reordered = tamper_json(&bundle, &t("reordered.zip"), |b| {
        chain_of(b, &li_id).swap(4, 5);
    });
    let (code, r) = verify(&reordered);
    assert_eq!(code, 1);
    assert!(codes(&r).contains(&"reordered".to_string()), "{r:#}");

    // A backdated entry signed with another key: not the phone's, so not part of its chain.
    let other = Signer::from_seed(li_id.clone(), [9; 32]);
    let foreign = tamper_json(&bundle, &t("foreign.zip"), |b| {
        let chain = chain_of(b, &li_id);
        let last = chain.last().unwrap()["entry"].as_str().unwrap().to_string();
        chain.push(backdated_after(&last, &other, &li_id));
    });
    let (code, r) = verify(&foreign);
    assert_eq!((code, codes(&r)), (1, vec!["bad_signature".to_string()]), "{r:#}");

    // The same with the phone's own key (as if it leaked): it links, but its time goes back.
    let leaked = tamper_json(&bundle, &t("leaked.zip"), |b| {
        let chain = chain_of(b, &li_id);
        let last = chain.last().unwrap()["entry"].as_str().unwrap().to_string();
        chain.push(backdated_after(&last, &li.device.signer, &li_id));
    });
    let (code, r) = verify(&leaked);
    assert_eq!((code, codes(&r)), (1, vec!["backdated".to_string()]), "{r:#}");

    // Another phone's key in place of li's; and li's key left out.
    let chen_key = chen.device.signer.public_key_hex();
    let swapped = tamper_json(&bundle, &t("swapped.zip"), |b| {
        b["devices"][0]["public_key_hex"] = chen_key.clone().into();
    });
    let (code, r) = verify(&swapped);
    assert_eq!((code, codes(&r)), (1, vec!["bad_signature".to_string()]), "{r:#}");
    let keyless = tamper_json(&bundle, &t("keyless.zip"), |b| {
        b["devices"] = Value::Array(vec![]);
    });
    let (code, r) = verify(&keyless);
    assert_eq!((code, codes(&r)), (1, vec!["unknown_key".to_string()]), "{r:#}");

    // The summary's counts are checked against what the bundle holds.
    let mut m2 = members(&bundle);
    let mut b2 = bundle_json(&m2);
    b2["summary"]["photos"] = 3.into();
    m2.iter_mut().find(|(n, _)| n == "bundle.json").unwrap().1 = serde_json::to_vec(&b2).unwrap();
    write_zip(&t("summary.zip"), &m2);
    let (code, r) = verify(&t("summary.zip"));
    assert_eq!(
        (code, codes(&r)),
        (1, vec!["summary_mismatch".to_string()]),
        "{r:#}"
    );

    // A photo file missing.
    let without: Vec<_> = members(&bundle)
        .into_iter()
        .filter(|(n, _)| !n.starts_with("photos/"))
        .collect();
    write_zip(&t("without.zip"), &without);
    let (code, r) = verify(&t("without.zip"));
    assert_eq!((code, codes(&r)), (1, vec!["file_missing".to_string()]), "{r:#}");

    let _ = visits;
}

#[test]
fn what_cannot_be_read_or_exported_is_refused_with_the_reason() {
    let (_dir, s) = server();
    let (_li, _chen, visits) = a_day(&s);
    let work = tempfile::tempdir().unwrap();
    // Not a ZIP; a ZIP without a readable bundle.json: exit 2 and the reason, no panic.
    let junk = work.path().join("junk.zip");
    std::fs::write(&junk, b"this is not a zip file").unwrap();
    let bad_json = work.path().join("bad.zip");
    write_zip(&bad_json, &[("bundle.json".into(), b"{\"format\":".to_vec())]);
    let other = work.path().join("other.zip");
    write_zip(
        &other,
        &[("bundle.json".into(), b"{\"format\":\"x\",\"version\":1}".to_vec())],
    );
    for (file, says) in [
        (&junk, "不是 ZIP 文件"),
        (&bad_json, "bundle.json 不是有效的证据包说明"),
        (&other, "不是 Fieldproof 证据包"),
        (&work.path().join("absent.zip"), "文件无法打开"),
    ] {
        let out = Command::new(BIN)
            .args(["verify", file.to_str().unwrap()])
            .env_remove("LANG")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(says), "{err}");
    }
    // Over-large: refused, nothing written.
    let out_file = work.path().join("big.zip");
    let out = admin(
        &s.data_dir,
        &[
            "export-evidence",
            "--rep",
            "rep-li",
            "--max-photos",
            "1",
            "--out",
            out_file.to_str().unwrap(),
        ],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("Too much for one evidence bundle"),
        "{err}"
    );
    assert!(!out_file.exists());
    // Nothing asked, an unknown rep, dates the wrong way round.
    for (args, says) in [
        (vec![], "Choose what to export"),
        (vec!["--rep", "nobody"], "There is no rep nobody"),
        (
            vec!["--from", "2026-02-02", "--to", "2026-02-01"],
            "first date is after",
        ),
        (vec!["--visit", "no-such-visit"], "no visit no-such-visit"),
    ] {
        let mut a = vec!["export-evidence", "--out", out_file.to_str().unwrap()];
        a.extend(args);
        let out = admin(&s.data_dir, &a);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(says), "{a:?}: {err}");
        assert!(!out_file.exists());
    }
    // One visit, by its id, verifies.
    let one = export(&s, work.path(), "one.zip", &["--visit", &visits[1].visit_id]);
    let (code, r) = verify(&one);
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(r["photos"].as_array().unwrap().len(), 1);
    // The window starts at the entry before the visit's first one: a context entry.
    let b = bundle_json(&members(&one));
    assert_eq!(b["chains"][0]["entries"][0]["selected"], false);
    assert_eq!(b["chains"][0]["entries"][1]["selected"], true);
}

#[test]
fn head_office_downloads_from_the_visit_page_and_a_supervisor_only_their_team() {
    let (_dir, s) = server();
    let (_li, _chen, visits) = a_day(&s);
    for (id, role, sup) in [
        ("ho", "head_office", None),
        ("liu", "supervisor", Some("sup-liu")),
    ] {
        let mut a = vec![
            "create-user",
            "--id",
            id,
            "--name",
            id,
            "--role",
            role,
            "--password",
            PW,
        ];
        if let Some(sup) = sup {
            a.extend(["--supervisor-id", sup]);
        }
        s.admin(&a);
    }
    let ho = Session::new(s.addr, "ho", PW);
    let li_visit = &visits[0].visit_id;
    let page = ho.get(&format!("/app/visits/{li_visit}?lang=zh-CN"));
    assert_eq!(page.status, 200);
    let link = format!("/app/evidence.zip?visit={li_visit}");
    assert!(
        page.text().contains(&link) && page.text().contains("下载证据包"),
        "{}",
        page.text()
    );
    let r = ho.get(&link);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/zip"));
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("visit.zip");
    std::fs::write(&file, &r.body).unwrap();
    let (code, report) = verify(&file);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["exported_by"]["role"], "head_office");

    // The form, in both languages.
    for (q, says) in [
        ("lang=zh-CN", "下载证据包"),
        ("lang=en", "Download evidence bundle"),
    ] {
        let r = ho.get(&format!("/app/evidence?{q}"));
        assert_eq!(r.status, 200);
        assert!(r.text().contains(says), "{}", r.text());
    }
    // A selection that matches nothing comes back as the form with the reason.
    let r = ho.get("/app/evidence.zip?from=2020-01-01&to=2020-01-02&lang=en");
    assert_eq!(r.status, 400);
    assert!(
        r.text().contains("No visit matches this selection"),
        "{}",
        r.text()
    );

    // sup-liu's team is rep-chen: li's visit does not exist for them; chen's does.
    let liu = Session::new(s.addr, "liu", PW);
    assert_eq!(liu.get(&link).status, 404);
    assert_eq!(liu.get("/app/evidence.zip?rep=rep-li").status, 400);
    let r = liu.get(&format!("/app/evidence.zip?visit={}", visits[2].visit_id));
    assert_eq!(r.status, 200, "{}", r.text());
    std::fs::write(&file, &r.body).unwrap();
    let (code, report) = verify(&file);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["exported_by"]["team_of"], "sup-liu");

    // Without a web account (a rep has none): the sign-in page, no bundle.
    let r = http(s.addr, "GET", &link, &[], b"");
    assert_eq!(r.status, 303);
    assert!(r.header("location").unwrap().starts_with("/app/login"));
}

/// `verify BUNDLE` in words, in `lang`: (exit code, what it printed).
fn verify_text(bundle: &Path, lang: &str) -> (i32, String) {
    let out = Command::new(BIN)
        .args(["verify", bundle.to_str().unwrap(), "--lang", lang])
        .output()
        .unwrap();
    (out.status.code().unwrap(), String::from_utf8(out.stdout).unwrap())
}

/// Acceptance 3 of issue 16 through the real commands: `admin revoke` (from now) keeps the
/// photos received before it verified, saying so on the page, in the bundle and in `verify`;
/// `admin revoke --from` a time before they arrived makes them `revoked_key` everywhere.
#[test]
fn revocation_shows_on_the_page_in_the_bundle_and_in_verify() {
    let (_dir, s) = server();
    let before_any = fieldproof_server::now_ms();
    let (li, _chen, visits) = a_day(&s);
    let ho = head_office(&s);
    let work = tempfile::tempdir().unwrap();
    let li_visit = &visits[0].visit_id;
    let li_id = li.device.id().to_string();
    assert_eq!(badge_of(&ho, li_visit), "verified");

    // Lost today: revoked from now, after the server received everything the phone sent.
    s.admin(&["revoke", "--device", &li_id]);
    let revoked_at = fieldproof_server::now_ms();
    assert_eq!(badge_of(&ho, li_visit), "verified_revoked_later");
    let page = ho.get(&format!("/app/visits/{li_visit}?lang=zh-CN")).text();
    assert!(page.contains("已验证（设备密钥后来被吊销）"), "{page}");
    let later = export(&s, work.path(), "revoked-later.zip", &["--rep", "rep-li"]);
    let b = bundle_json(&members(&later));
    let device = &b["devices"][0];
    assert_eq!(device["device_id"], li_id.as_str());
    let (revoked_ms, recorded_ms) = (
        device["revoked_ms"].as_i64().unwrap(),
        device["revoked_recorded_ms"].as_i64().unwrap(),
    );
    assert!(before_any < revoked_ms && revoked_ms <= revoked_at, "{device}");
    assert_eq!(recorded_ms, revoked_ms, "{device}");
    let (code, r) = verify(&later);
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(r["photos"].as_array().unwrap().len(), 2, "{r:#}");
    for p in r["photos"].as_array().unwrap() {
        assert_eq!(p["outcome"], "verified_key_revoked_later", "{r:#}");
    }
    let (code, text) = verify_text(&later, "zh-CN");
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("已验证（设备密钥后来被吊销）") && text.contains("结果：未发现问题"),
        "{text}"
    );
    let (_, text) = verify_text(&later, "en");
    assert!(text.contains("verified, key revoked later"), "{text}");

    // Stolen yesterday, found out today: head office moves the revocation to before the phone
    // sent anything (the field's local time, to the minute).
    let from = fieldproof_server::calendar::Calendar::CHINA.datetime(before_any - 60_000);
    s.admin(&["revoke", "--device", &li_id, "--from", &from]);
    assert_eq!(badge_of(&ho, li_visit), "revoked_key");
    let page = ho.get(&format!("/app/visits/{li_visit}?lang=zh-CN")).text();
    assert!(page.contains("密钥已吊销"), "{page}");
    let before = export(&s, work.path(), "revoked-before.zip", &["--rep", "rep-li"]);
    let b = bundle_json(&members(&before));
    let device = &b["devices"][0];
    let moved = device["revoked_ms"].as_i64().unwrap();
    assert!(moved < before_any, "{device}");
    // When head office recorded it: now, not the time it counts from.
    assert!(
        device["revoked_recorded_ms"].as_i64().unwrap() >= revoked_at,
        "{device}"
    );
    let (code, r) = verify(&before);
    assert_eq!((code, codes(&r)), (1, vec!["revoked_key".to_string()]), "{r:#}");
    let on_photos = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["photo_id"].is_string())
        .count();
    assert_eq!(on_photos, 2, "{r:#}");
    // Every other entry of li's window is revoked_key too (the photos' manifests are on
    // their photos' lines).
    let entries = b["chains"][0]["entries"].as_array().unwrap().len();
    assert_eq!(r["findings"].as_array().unwrap().len(), entries, "{r:#}");
    let (code, text) = verify_text(&before, "zh-CN");
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("未通过：已吊销设备签名"), "{text}");
    // chen's phone is untouched.
    let chen = export(&s, work.path(), "chen.zip", &["--rep", "rep-chen"]);
    assert_eq!(verify(&chen).0, 0);
}

/// A rejected entry travels in the bundle with its signature, reason and detail, in receive
/// order; `verify` finds exactly what the server found on receipt, says so, and the kept
/// signature checks again: the non-canonical entry is the phone's own (rejected for its form),
/// the forged one is not.
#[test]
fn rejected_entries_are_in_the_bundle_and_verify_finds_what_the_server_found() {
    let (_dir, s) = server();
    let phone = Phone::new();
    s.enrol_as(&phone.device, "rep-li");
    let v = store_check(&phone.core, "rep-li", "st-001", None, fix_st001());
    let ops = phone.ops();
    assert_eq!(ops.len(), 9);
    let push = |ops: &[PushOp]| {
        let r = phone.device.push(s.addr, ops);
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()
    };
    // Check-in and the first answer; then the second answer forged (a signature over other
    // bytes) and, validly signed, laid out with whitespace; then everything from the second
    // answer on, as the phone wrote it.
    assert_eq!(statuses(&push(&ops[..2])), vec!["applied"; 2]);
    let mut forged = ops[2].clone();
    forged.signature_hex = phone.device.signer.sign_hex(b"not this entry");
    assert_eq!(
        push(std::slice::from_ref(&forged))["results"][0]["reason"],
        "bad_signature"
    );
    let spaced = non_canonical(&phone, &ops[2]);
    assert_eq!(
        push(std::slice::from_ref(&spaced))["results"][0]["reason"],
        "malformed_entry"
    );
    assert_eq!(statuses(&push(&ops[2..])), vec!["applied"; 7]);
    assert_eq!(phone.upload_photo(s.addr, &v.photo_id, 2)["complete"], true);

    let work = tempfile::tempdir().unwrap();
    let bundle = export(&s, work.path(), "visit.zip", &["--visit", &v.visit_id]);
    let b = bundle_json(&members(&bundle));
    let key = b["devices"][0]["public_key_hex"].as_str().unwrap().to_string();
    assert_eq!(key, phone.device.signer.public_key_hex());
    let entries = b["chains"][0]["entries"].as_array().unwrap().clone();
    assert_eq!(entries.len(), 11);
    // In receive order, the two refused entries where they arrived, each whole.
    let recv: Vec<i64> = entries
        .iter()
        .map(|e| e["recv_index"].as_i64().unwrap())
        .collect();
    assert_eq!(recv, (1..=11).collect::<Vec<i64>>());
    let status: Vec<&str> = entries.iter().map(|e| e["status"].as_str().unwrap()).collect();
    let mut expected = vec!["applied"; 11];
    expected[2] = "rejected";
    expected[3] = "rejected";
    assert_eq!(status, expected);
    let (bad, malformed) = (&entries[2], &entries[3]);
    assert_eq!(bad["reason"], "bad_signature");
    assert_eq!(bad["entry"], forged.entry.as_str());
    assert_eq!(bad["signature_hex"], forged.signature_hex.as_str());
    assert_eq!(malformed["reason"], "malformed_entry");
    assert!(
        malformed["detail"].as_str().unwrap().starts_with("not_canonical"),
        "{malformed}"
    );
    assert_eq!(malformed["entry"], spaced.entry.as_str());
    // The kept signatures, checked again with nothing but the bundle: the spaced entry is the
    // phone's own signature over its exact bytes (refused for its form, not its origin); the
    // forged one is not.
    let sig_ok = |e: &Value| {
        verify_signature(
            e["entry"].as_str().unwrap().as_bytes(),
            e["signature_hex"].as_str().unwrap(),
            &key,
        )
    };
    assert!(sig_ok(malformed));
    assert!(!sig_ok(bad));
    assert!(entries.iter().filter(|e| e["status"] == "applied").all(sig_ok));
    assert_eq!(
        b["summary"]["server_findings"],
        serde_json::json!({"bad_signature": 1, "malformed_entry": 1}),
        "{b:#}"
    );

    // verify: exactly the server's findings, at those records, said to be the server's.
    let (code, r) = verify(&bundle);
    assert_eq!(code, 1, "{r:#}");
    let found: Vec<(i64, &str, &str)> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["position"].as_i64().unwrap(),
                f["code"].as_str().unwrap(),
                f["server_rejected"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        found,
        vec![
            (2, "bad_signature", "bad_signature"),
            (3, "malformed_entry", "malformed_entry")
        ],
        "{r:#}"
    );
    assert_eq!(r["found_on_receipt"], 2, "{r:#}");
    assert_eq!(r["photos"][0]["outcome"], "verified", "{r:#}");
    let (code, text) = verify_text(&bundle, "zh-CN");
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("第 3 条记录（拜访：")
            && text.contains("签名无效（服务器接收此记录时已发现同一问题并拒收，从未采用）"),
        "{text}"
    );
    assert!(
        text.contains("一条无法读出编号的记录（证据包中该手机的第 4 条）")
            && text.contains("记录格式错误（服务器接收此记录时已发现同一问题并拒收，从未采用）"),
        "{text}"
    );
    assert!(
        text.contains("其中 2 个是服务器在接收时已发现并拒收的记录"),
        "{text}"
    );
    let (_, text) = verify_text(&bundle, "en");
    assert!(
        text.contains("the server found this too when the record arrived")
            && text.contains("Of these, 2 are the server's own findings"),
        "{text}"
    );

    // The same entry marked applied by a tamperer: still found, no longer called the server's.
    let relabelled = tamper_json(&bundle, &work.path().join("relabelled.zip"), |b| {
        let e = &mut chain_of(b, phone.device.id())[2];
        e["status"] = "applied".into();
        e["reason"] = Value::Null;
    });
    let (code, r) = verify(&relabelled);
    assert_eq!(code, 1, "{r:#}");
    assert_eq!(r["found_on_receipt"], 1, "{r:#}");
    assert!(r["findings"][0]["server_rejected"].is_null(), "{r:#}");
}
