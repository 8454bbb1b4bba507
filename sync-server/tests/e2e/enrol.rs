use crate::common::*;

#[test]
fn enrolment_binds_a_key_once_per_code() {
    let (_dir, s) = server();
    let code = s.admin(&["enrol-code", "--user", "rep-li"]);
    let code = code.trim();
    let dev = Device::random();

    // Bad proof: the signature is not by the presented key.
    let mut req = dev.enrol_request(code);
    req["signature_hex"] = serde_json::Value::String(
        Device::random().enrol_request(code)["signature_hex"]
            .as_str()
            .unwrap()
            .into(),
    );
    let r = http(s.addr, "POST", "/v1/enrol", &[], req.to_string().as_bytes());
    assert_eq!((r.status, r.code().as_str()), (401, "bad_enrol_signature"));

    // Good.
    let r = dev.enrol(s.addr, code);
    assert_eq!(r.status, 200, "{}", r.text());
    let body = r.json();
    assert_eq!(body["user"]["id"], "rep-li");
    assert_eq!(body["user"]["territory"], "shanghai-east");
    assert!(body["server_time_ms"].as_i64().unwrap() > 0);

    // The same device retrying (its answer was lost) gets the same answer.
    let r = dev.enrol(s.addr, code);
    assert_eq!(r.status, 200, "{}", r.text());

    // Reused by another device.
    let r = Device::random().enrol(s.addr, code);
    assert_eq!((r.status, r.code().as_str()), (401, "enrol_code_used"));

    // Unknown code; codes are case and dash insensitive, so only a wrong one fails.
    let r = Device::random().enrol(s.addr, "0000-0000-0000");
    assert_eq!((r.status, r.code().as_str()), (401, "invalid_enrol_code"));

    // The device id bound to another key.
    let code2 = s.admin(&["enrol-code", "--user", "rep-li"]);
    let mut impostor = Device::random();
    impostor.signer = fieldproof_core::evidence::Signer::from_seed(
        dev.id().into(),
        fieldproof_core::evidence::Signer::generate_seed().unwrap(),
    );
    let r = impostor.enrol(s.addr, code2.trim());
    assert_eq!((r.status, r.code().as_str()), (409, "device_already_enrolled"));

    // Expired.
    let code3 = s.admin(&["enrol-code", "--user", "rep-zhao", "--ttl-hours", "0"]);
    let r = Device::random().enrol(s.addr, code3.trim());
    assert_eq!((r.status, r.code().as_str()), (401, "enrol_code_expired"));

    // The enrolled device can sign requests now.
    assert_eq!(dev.call(s.addr, "GET", "/v1/pull", b"").status, 200);
}

#[test]
fn admin_commands_fail_clearly() {
    let dir = tempfile::tempdir().unwrap();
    admin_ok(dir.path(), &["init"]);
    let out = admin(dir.path(), &["enrol-code", "--user", "nobody"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown user"));
    let out = admin(dir.path(), &["revoke", "--device", "nope"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown device"));
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"users": [{"id": "r", "name": "R", "role": "rep"}]}"#).unwrap();
    let out = admin(dir.path(), &["load-reference", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("users[0]") && err.contains("territory"), "{err}");
    // All or nothing: the good fixture loads after, and a reload changes nothing.
    let first: serde_json::Value = serde_json::from_str(&admin_ok(
        dir.path(),
        &["load-reference", reference_file().to_str().unwrap()],
    ))
    .unwrap();
    assert_eq!(first["users"], 5);
    assert!(first["changes"].as_u64().unwrap() >= 17);
    let again: serde_json::Value = serde_json::from_str(&admin_ok(
        dir.path(),
        &["load-reference", reference_file().to_str().unwrap()],
    ))
    .unwrap();
    assert_eq!(again["changes"], 0);
    let stats: serde_json::Value = serde_json::from_str(&admin_ok(dir.path(), &["stats"])).unwrap();
    assert_eq!(stats["users"], 5);
    assert_eq!(stats["stores"], 4);
}

/// A mistyped `--data-dir` is an error naming the folder and how to start a server there; it
/// creates nothing. `admin init` creates the database once and leaves an existing one alone.
#[test]
fn admin_on_a_folder_without_a_database_refuses_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("fieldproof-dat");
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let reference = reference_file();
    for folder in [&missing, &empty] {
        for args in [
            vec!["stats"],
            vec!["exceptions", "--open"],
            vec!["devices"],
            vec!["enrol-code", "--user", "rep-li"],
            vec!["load-reference", reference.to_str().unwrap()],
            vec!["sign-in-link", "--user", "boss"],
            vec![
                "create-user",
                "--id",
                "boss",
                "--name",
                "Boss",
                "--role",
                "admin",
                "--password",
                "a-long-password",
            ],
        ] {
            let out = admin(folder, &args);
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
            assert!(out.stdout.is_empty(), "{args:?}");
            let shown = folder.display().to_string();
            if crate::common::test_db::postgres_server().is_some() {
                // The folder has no database of its own: the one `--database` names is empty.
                assert!(
                    err.contains("no Fieldproof database at postgres://"),
                    "{args:?}: {err}"
                );
                continue;
            }
            assert!(
                err.contains(&format!("no Fieldproof database in {shown}")),
                "{args:?}: {err}"
            );
            assert!(
                err.contains(&format!("admin --data-dir {shown} init")),
                "{args:?}: {err}"
            );
        }
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, [std::ffi::OsString::from("empty")], "created {left:?}");
        assert_eq!(std::fs::read_dir(&empty).unwrap().count(), 0);
    }
    // The error's own advice works: init, then the command succeeds on an empty server.
    let said = admin_ok(&missing, &["init"]);
    let created = if crate::common::test_db::postgres_server().is_some() {
        "created a new Fieldproof database at postgres://"
    } else {
        "created a new Fieldproof database in"
    };
    assert!(said.starts_with(created), "{said}");
    let stats: serde_json::Value = serde_json::from_str(&admin_ok(&missing, &["stats"])).unwrap();
    assert_eq!(stats["users"], 0);
    admin_ok(&missing, &["load-reference", reference.to_str().unwrap()]);
    let again = admin_ok(&missing, &["init"]);
    assert!(again.contains("already holds a Fieldproof database"), "{again}");
    let stats: serde_json::Value = serde_json::from_str(&admin_ok(&missing, &["stats"])).unwrap();
    assert_eq!(stats["users"], 5, "init left the existing database alone");
}
