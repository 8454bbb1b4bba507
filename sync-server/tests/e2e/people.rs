//! Acceptance 5 of issue #11: reps, supervisors, territories and teams created through the
//! people module and through the import reach the phones through pull. The real server runs;
//! head office's actions go through `fieldproof_server::people` and `import` on the same data
//! directory (as the pages do, in another process here); phones enrol with a code issued for
//! the new rep and pull over HTTP.

use fieldproof_core::model::Role;
use fieldproof_server::import::{ImportKind, import_file};
use fieldproof_server::people::{self, AccountRole, FieldUserInput, Manager, TeamInput};
use serde_json::Value;

use crate::common::*;

const HEAD_OFFICE: Manager<'static> = Manager {
    id: "ho-zhang",
    role: AccountRole::HeadOffice,
};

fn users(changes: &[Value]) -> Vec<&Value> {
    changes
        .iter()
        .filter(|c| c["kind"] == "user")
        .map(|c| &c["body"])
        .collect()
}

fn enrol_new_phone(s: &Server, store: &fieldproof_server::Store, user: &str) -> Device {
    let issued = people::issue_enrol_code(store, HEAD_OFFICE, user, 3_600_000, now_ms()).unwrap();
    // What the phone scans carries this server and the code.
    let url = format!("http://{}", s.addr);
    let payload = people::enrol_payload(&url, &issued.code).unwrap();
    assert!(payload.ends_with(&format!("&code={}", issued.code)), "{payload}");
    assert!(people::enrol_qr_svg(&url, &issued.code).unwrap().contains("<svg"));
    let d = Device::random();
    let r = d.enrol(s.addr, &issued.code);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["user"]["id"], user);
    d
}

#[test]
fn a_rep_created_by_head_office_enrols_and_pulls_their_territory_and_team() {
    let (_dir, s) = server();
    let store = crate::common::test_db::store(&s.data_dir);
    people::save_territory(&store, HEAD_OFFICE, "hangzhou", "杭州", now_ms()).unwrap();
    people::create_field_user(
        &store,
        HEAD_OFFICE,
        &FieldUserInput {
            id: "sup-sun".into(),
            name: "孙悦".into(),
            role: Role::Supervisor,
            phone: None,
            territory: Some("hangzhou".into()),
            team: None,
        },
        now_ms(),
    )
    .unwrap();
    people::save_team(
        &store,
        HEAD_OFFICE,
        &TeamInput {
            code: "hz-1".into(),
            name: "杭州一组".into(),
            supervisor_id: "sup-sun".into(),
        },
        now_ms(),
    )
    .unwrap();
    people::create_field_user(
        &store,
        HEAD_OFFICE,
        &FieldUserInput {
            id: "rep-hz".into(),
            name: "何珊".into(),
            role: Role::Rep,
            phone: Some("139 0000 0001".into()),
            territory: Some("hangzhou".into()),
            team: Some("hz-1".into()),
        },
        now_ms(),
    )
    .unwrap();
    // A store in the new territory, by import (a CSV named in Chinese, the kind chosen).
    let csv =
        "门店编码,门店名称,纬度,经度,围栏半径（米）,区域\nHZ-001,杭州湖滨店,30.26,120.16,100,hangzhou\n";
    import_file(
        &store,
        "门店.csv",
        csv.as_bytes(),
        Some(ImportKind::Stores),
        now_ms(),
    )
    .unwrap();

    let rep = enrol_new_phone(&s, &store, "rep-hz");
    let changes = rep.pull_all(s.addr);
    let me: Vec<&Value> = users(&changes)
        .into_iter()
        .filter(|u| u["id"] == "rep-hz")
        .collect();
    assert_eq!(me.len(), 1, "{changes:#?}");
    assert_eq!(
        (&me[0]["territory"], &me[0]["supervisor_id"], &me[0]["name"]),
        (
            &Value::from("hangzhou"),
            &Value::from("sup-sun"),
            &Value::from("何珊")
        )
    );
    // Their supervisor's record and the territory's store come too; other territories' do not.
    assert!(users(&changes).iter().any(|u| u["id"] == "sup-sun"));
    let stores: Vec<&Value> = changes
        .iter()
        .filter(|c| c["kind"] == "store")
        .map(|c| &c["body"])
        .collect();
    assert_eq!(stores.len(), 1, "{stores:#?}");
    assert_eq!(stores[0]["code"], "HZ-001");

    // The supervisor's phone sees the rep on its team.
    let sup = enrol_new_phone(&s, &store, "sup-sun");
    assert!(users(&sup.pull_all(s.addr)).iter().any(|u| u["id"] == "rep-hz"));

    // Moving the rep to another team reaches the phone on its next pull.
    let cursor = {
        let r = rep.call(s.addr, "GET", "/v1/pull?cursor=0&limit=1000", b"");
        r.json()["cursor"].as_i64().unwrap()
    };
    people::update_field_user(
        &store,
        HEAD_OFFICE,
        &FieldUserInput {
            id: "rep-hz".into(),
            name: "何珊".into(),
            role: Role::Rep,
            phone: None,
            territory: Some("hangzhou".into()),
            team: Some("sup-wang".into()),
        },
        now_ms(),
    )
    .unwrap();
    let r = rep.call(
        s.addr,
        "GET",
        &format!("/v1/pull?cursor={cursor}&limit=1000"),
        b"",
    );
    let later = r.json()["changes"].as_array().unwrap().clone();
    let me: Vec<&Value> = users(&later)
        .into_iter()
        .filter(|u| u["id"] == "rep-hz")
        .collect();
    assert_eq!(me.len(), 1, "{later:#?}");
    assert_eq!(me[0]["supervisor_id"], "sup-wang");

    // Deactivated: the phone is refused from then on.
    people::deactivate_field_user(&store, HEAD_OFFICE, "rep-hz", now_ms()).unwrap();
    let r = rep.call(s.addr, "GET", "/v1/pull?cursor=0", b"");
    assert_eq!((r.status, r.code().as_str()), (403, "device_revoked"));
}

#[test]
fn reps_imported_from_a_workbook_enrol_and_pull_their_data() {
    let (_dir, s) = server();
    let store = crate::common::test_db::store(&s.data_dir);
    let mut book = rust_xlsxwriter::Workbook::new();
    let rows: &[(&str, &[&[&str]])] = &[
        ("区域", &[&["区域代码", "区域名称"], &["suzhou", "苏州"]]),
        (
            "团队",
            &[
                &["团队代码", "团队名称", "督导编号"],
                &["east", "东区组", "sup-wang"],
            ],
        ),
        (
            "业务员",
            &[
                &["业务员编号", "姓名", "区域", "团队"],
                &["rep-su", "苏明", "suzhou", "east"],
            ],
        ),
        (
            "门店",
            &[
                &["门店编码", "门店名称", "纬度", "经度", "围栏半径（米）", "区域"],
                &["SZ-001", "苏州观前街店", "31.31", "120.62", "120", "suzhou"],
            ],
        ),
    ];
    for (name, sheet) in rows {
        let ws = book.add_worksheet();
        ws.set_name(*name).unwrap();
        for (r, row) in sheet.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                ws.write_string(r as u32, c as u16, *v).unwrap();
            }
        }
    }
    let bytes = book.save_to_buffer().unwrap();
    let report = import_file(&store, "人员.xlsx", &bytes, None, now_ms()).unwrap();
    assert_eq!(
        (report.territories, report.teams, report.reps, report.stores),
        (1, 1, 1, 1)
    );

    let rep = enrol_new_phone(&s, &store, "rep-su");
    let changes = rep.pull_all(s.addr);
    let me: Vec<&Value> = users(&changes)
        .into_iter()
        .filter(|u| u["id"] == "rep-su")
        .collect();
    assert_eq!(me.len(), 1, "{changes:#?}");
    assert_eq!(
        (&me[0]["territory"], &me[0]["supervisor_id"]),
        (&Value::from("suzhou"), &Value::from("sup-wang"))
    );
    assert!(
        changes
            .iter()
            .any(|c| c["kind"] == "store" && c["body"]["code"] == "SZ-001")
    );
    // The supervisor already enrolled sees the imported rep join the team.
    let sup = s.enrolled("sup-wang");
    assert!(users(&sup.pull_all(s.addr)).iter().any(|u| u["id"] == "rep-su"));
}

const BOUNDARY: &str = "fieldproof-people-test-41c9";

fn upload(session: &Session, lang: &str, kind: &str, file_name: &str, bytes: &[u8]) -> Resp {
    let csrf = session.csrf();
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
         --{BOUNDARY}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\n{kind}\r\n\
         --{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    http(
        session.addr,
        "POST",
        &format!("/app/import?lang={lang}"),
        &[
            h("Cookie", &session.cookie),
            h(
                "Content-Type",
                &format!("multipart/form-data; boundary={BOUNDARY}"),
            ),
            h("Origin", &format!("http://{}", session.addr)),
        ],
        &body,
    )
}

#[test]
fn the_import_page_takes_the_kind_from_the_form_and_refuses_in_the_pages_language() {
    let (dir, s) = server();
    admin_ok(
        dir.path(),
        &[
            "create-user",
            "--id",
            "ho-zhang",
            "--name",
            "张总",
            "--role",
            "head_office",
            "--password",
            "a long enough password",
        ],
    );
    let session = Session::new(s.addr, "ho-zhang", "a long enough password");

    // 门店.csv imports as stores because the form says so.
    let csv =
        "门店编码,门店名称,纬度,经度,围栏半径（米）,区域\nSH-E-090,浦东新店,31.23,121.52,100,shanghai-east\n";
    let r = upload(&session, "zh-CN", "stores", "门店.csv", csv.as_bytes());
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("id=\"import-result\""), "{}", r.text());
    let data = crate::common::test_db::store(&s.data_dir)
        .reference_data()
        .unwrap();
    assert!(data.stores.iter().any(|st| st.code == "SH-E-090"));
    // Without the choice the page asks for it, in Chinese.
    let r = upload(&session, "zh-CN", "", "门店.csv", csv.as_bytes());
    assert_eq!(r.status, 422);
    assert!(r.text().contains("请选择 CSV 文件的数据类型"), "{}", r.text());

    // A bad rep sheet: every problem by sheet, row and column, in the page's language.
    let bad = "业务员编号,姓名,区域,团队\nrep-a,甲,mars,\nrep b,,shanghai-east,nope\n";
    for (lang, words) in [
        ("zh-CN", "没有区域“mars”"),
        ("en", "There is no territory \"mars\""),
    ] {
        let r = upload(&session, lang, "reps", "reps.csv", bad.as_bytes());
        assert_eq!(r.status, 422, "{}", r.text());
        let html = r.text();
        for code in [
            "import_unknown_territory",
            "import_bad_id",
            "import_value_missing",
            "import_unknown_team",
        ] {
            assert!(html.contains(&format!("data-code=\"{code}\"")), "{code}: {html}");
        }
        let words = words.replace('"', "&quot;");
        assert!(html.contains(&words), "{lang}: {html}");
    }
    assert!(
        fieldproof_server::people::field_user(&crate::common::test_db::store(&s.data_dir), "rep-a")
            .unwrap()
            .is_none()
    );

    // The template workbook, in each language.
    for (lang, sheet) in [("zh-CN", "业务员"), ("en", "Reps")] {
        let r = session.get(&format!("/app/import/template.xlsx?lang={lang}"));
        assert_eq!(r.status, 200);
        assert!(r.header("content-disposition").unwrap().contains("template"));
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(r.body)).unwrap();
        let mut book = String::new();
        std::io::Read::read_to_string(&mut zip.by_name("xl/workbook.xml").unwrap(), &mut book).unwrap();
        assert!(book.contains(&format!("name=\"{sheet}\"")), "{book}");
    }
}
