//! People and structure (issue #11, part 6): territories, teams, field users, web users,
//! enrolment codes and devices through `fieldproof_server::people`, and the import of reps,
//! supervisors, territories and teams, on a real store (real SQLite). What reaches phones is
//! read from the change feed here; `tests/e2e/people.rs` enrols a phone against the real server.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)]

#[path = "support/db.rs"]
mod test_db;

use std::collections::BTreeMap;

use calamine::{Data, Reader, Xlsx};
use fieldproof_core::model::Role;
use fieldproof_server::import::{ImportError, ImportKind, import_file, template_xlsx};
use fieldproof_server::people::{
    self, AccountRole, FieldUserInput, FirstSignIn, Manager, PeopleError, TeamInput, WebUserInput,
};
use fieldproof_server::{Store, now_ms};
use serde_json::Value;

const REFERENCE: &str = include_str!("../../tests/fixtures/reference.json");

const HEAD_OFFICE: Manager<'static> = Manager {
    id: "ho-zhang",
    role: AccountRole::HeadOffice,
};

fn seeded() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = test_db::store(dir.path());
    store.load_reference_json(REFERENCE, now_ms()).unwrap();
    (dir, store)
}

fn db(store: &Store) -> fieldproof_server::db::Connection {
    test_db::connect(store.data_dir())
}

/// The last `user` change of `id` in the feed (what a phone pulls), and how many there are.
fn user_changes(store: &Store, id: &str) -> (usize, Option<Value>) {
    let c = db(store);
    let mut st = c
        .prepare("SELECT body FROM changes WHERE kind = 'user' AND id = ?1 ORDER BY seq")
        .unwrap();
    let bodies: Vec<String> = st
        .query_map([id], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let last = bodies.last().map(|b| serde_json::from_str(b).unwrap());
    (bodies.len(), last)
}

/// Everything an import or a refused action must leave alone.
fn snapshot(
    store: &Store,
) -> (
    String,
    fieldproof_server::Stats,
    Vec<people::Territory>,
    Vec<people::Team>,
) {
    (
        format!("{:?}", store.reference_data().unwrap()),
        store.stats().unwrap(),
        people::territories(store).unwrap(),
        people::teams(store).unwrap(),
    )
}

fn rep(id: &str, name: &str, territory: &str, team: Option<&str>) -> FieldUserInput {
    FieldUserInput {
        id: id.into(),
        name: name.into(),
        role: Role::Rep,
        phone: Some("139 0000 0001".into()),
        territory: Some(territory.into()),
        team: team.map(str::to_string),
    }
}

#[test]
fn loaded_reference_data_gets_territories_and_a_team_per_supervisor() {
    let (_dir, store) = seeded();
    let territories: Vec<(String, String, u32, u32)> = people::territories(&store)
        .unwrap()
        .into_iter()
        .map(|t| (t.code, t.name, t.reps, t.stores))
        .collect();
    assert_eq!(
        territories,
        vec![
            ("shanghai-east".into(), "shanghai-east".into(), 2, 3),
            ("shanghai-west".into(), "shanghai-west".into(), 1, 1),
        ]
    );
    let teams: Vec<(String, String, String, u32)> = people::teams(&store)
        .unwrap()
        .into_iter()
        .map(|t| (t.code, t.name, t.supervisor_id, t.reps))
        .collect();
    assert_eq!(
        teams,
        vec![
            ("sup-liu".into(), "刘洋".into(), "sup-liu".into(), 1),
            ("sup-wang".into(), "王磊".into(), "sup-wang".into(), 2),
        ]
    );
    let li = people::field_user(&store, "rep-li").unwrap().unwrap();
    assert_eq!(
        (
            li.team_code.as_deref(),
            li.supervisor_name.as_deref(),
            li.territory_code.as_deref()
        ),
        (Some("sup-wang"), Some("王磊"), Some("shanghai-east"))
    );
}

#[test]
fn migration_backfills_territories_and_teams_from_data_already_held() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = fieldproof_server::Store::open(dir.path()).unwrap();
        store.load_reference_json(REFERENCE, now_ms()).unwrap();
    }
    // The database as it was before migration 007: no structure tables, no new columns, nor
    // 009's column and triggers, nor 011's and 012's tables, nor 014's columns (008, 010 and 013
    // run again: they are written to be idempotent).
    let c = rusqlite::Connection::open(dir.path().join("fieldproof.db")).unwrap();
    c.execute_batch(
        "DROP TABLE territories; DROP TABLE teams;
         ALTER TABLE users DROP COLUMN phone; ALTER TABLE users DROP COLUMN deactivated_ms;
         ALTER TABLE web_users DROP COLUMN deactivated_ms;
         DROP TRIGGER photos_received_on_insert; DROP TRIGGER photos_received_on_update;
         DROP TRIGGER visits_photo_received_on_insert; ALTER TABLE visits DROP COLUMN photo_received;
         DROP TABLE retake_requests; DROP TABLE photo_reviews;
         DROP TABLE alert_deliveries; DROP TABLE alert_rules; DROP TABLE alert_channels;
         DROP INDEX ops_receive_order; DROP INDEX rejected_ops_receive_order;
         ALTER TABLE ops DROP COLUMN recv_index; ALTER TABLE rejected_ops DROP COLUMN recv_index;
         ALTER TABLE rejected_ops DROP COLUMN signature; ALTER TABLE rejected_ops DROP COLUMN detail;
         ALTER TABLE devices DROP COLUMN recv_count; ALTER TABLE devices DROP COLUMN revoked_recorded_ms;
         ALTER TABLE exceptions DROP COLUMN rejected_op;
         ALTER TABLE devices DROP COLUMN certificate_pem;",
    )
    .unwrap();
    c.pragma_update(None, "user_version", 6).unwrap();
    drop(c);
    let store = fieldproof_server::Store::open(dir.path()).unwrap();
    let codes: Vec<String> = people::territories(&store)
        .unwrap()
        .into_iter()
        .map(|t| t.code)
        .collect();
    assert_eq!(codes, ["shanghai-east", "shanghai-west"]);
    let teams: Vec<(String, String)> = people::teams(&store)
        .unwrap()
        .into_iter()
        .map(|t| (t.code, t.name))
        .collect();
    assert_eq!(
        teams,
        [
            ("sup-liu".into(), "刘洋".into()),
            ("sup-wang".into(), "王磊".into())
        ]
    );
}

#[test]
fn field_users_are_managed_and_every_change_reaches_the_feed() {
    let (_dir, store) = seeded();
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
    let report = people::create_field_user(
        &store,
        HEAD_OFFICE,
        &rep("rep-hz", "何珊", "hangzhou", Some("hz-1")),
        now_ms(),
    )
    .unwrap();
    assert_eq!(report.changes, 1);
    let (n, body) = user_changes(&store, "rep-hz");
    assert_eq!(n, 1);
    let body = body.unwrap();
    assert_eq!(
        (&body["territory"], &body["supervisor_id"], &body["role"]),
        (
            &Value::from("hangzhou"),
            &Value::from("sup-sun"),
            &Value::from("rep")
        )
    );
    let hz = people::field_user(&store, "rep-hz").unwrap().unwrap();
    assert_eq!(hz.phone.as_deref(), Some("139 0000 0001"));
    assert_eq!(hz.team_name.as_deref(), Some("杭州一组"));
    assert_eq!(hz.territory_name.as_deref(), Some("杭州"));

    // Only the phone changes: nothing for phones; the rep moves team: a change.
    let mut input = rep("rep-hz", "何珊", "hangzhou", Some("hz-1"));
    input.phone = Some("+86 571 0000 0000".into());
    assert_eq!(
        people::update_field_user(&store, HEAD_OFFICE, &input, now_ms())
            .unwrap()
            .changes,
        0
    );
    assert_eq!(user_changes(&store, "rep-hz").0, 1);
    input.team = Some("sup-wang".into());
    people::update_field_user(&store, HEAD_OFFICE, &input, now_ms()).unwrap();
    let (n, body) = user_changes(&store, "rep-hz");
    assert_eq!(
        (n, body.unwrap()["supervisor_id"].clone()),
        (2, Value::from("sup-wang"))
    );

    // A team given another supervisor takes its reps along (sup-sun's own team hz-1 has no
    // reps left, so they may lead another one; hz-1 goes).
    assert_eq!(
        people::teams(&store)
            .unwrap()
            .iter()
            .find(|t| t.code == "hz-1")
            .unwrap()
            .reps,
        0
    );
    let report = people::save_team(
        &store,
        HEAD_OFFICE,
        &TeamInput {
            code: "sup-wang".into(),
            name: "王磊组".into(),
            supervisor_id: "sup-sun".into(),
        },
        now_ms(),
    )
    .unwrap();
    assert_eq!(report.changes, 3, "rep-li, rep-zhao and rep-hz move");
    let teams = people::teams(&store).unwrap();
    let team = teams.iter().find(|t| t.code == "sup-wang").unwrap();
    assert_eq!(
        (team.name.as_str(), team.supervisor_id.as_str(), team.reps),
        ("王磊组", "sup-sun", 3)
    );
    assert!(!teams.iter().any(|t| t.code == "hz-1"));
    assert_eq!(
        user_changes(&store, "rep-li").1.unwrap()["supervisor_id"],
        "sup-sun"
    );

    // Refusals change nothing, each with its code.
    let before = snapshot(&store);
    let cases: Vec<(Result<_, PeopleError>, &str)> = vec![
        (
            people::create_field_user(
                &store,
                HEAD_OFFICE,
                &rep("rep-li", "重复", "hangzhou", None),
                now_ms(),
            ),
            "people_id_taken",
        ),
        (
            people::create_field_user(
                &store,
                HEAD_OFFICE,
                &rep("rep-x", "某人", "nowhere", None),
                now_ms(),
            ),
            "people_unknown_territory",
        ),
        (
            people::create_field_user(
                &store,
                HEAD_OFFICE,
                &rep("rep-x", "某人", "hangzhou", Some("nope")),
                now_ms(),
            ),
            "people_unknown_team",
        ),
        (
            people::create_field_user(
                &store,
                HEAD_OFFICE,
                &rep("rep x", "某人", "hangzhou", None),
                now_ms(),
            ),
            "people_invalid_id",
        ),
        (
            people::create_field_user(
                &store,
                HEAD_OFFICE,
                &FieldUserInput {
                    territory: None,
                    ..rep("rep-x", "某人", "hangzhou", None)
                },
                now_ms(),
            ),
            "people_rep_needs_territory",
        ),
        (
            people::create_field_user(
                &store,
                Manager {
                    id: "sup-wang",
                    role: AccountRole::Supervisor,
                },
                &rep("rep-x", "某人", "hangzhou", None),
                now_ms(),
            ),
            "people_not_allowed",
        ),
        (
            people::update_field_user(
                &store,
                HEAD_OFFICE,
                &FieldUserInput {
                    role: Role::Rep,
                    ..rep("sup-liu", "刘洋", "shanghai-east", None)
                },
                now_ms(),
            ),
            "people_leads_team",
        ),
    ];
    for (r, code) in cases {
        assert_eq!(r.unwrap_err().code(), code);
    }
    assert_eq!(
        people::deactivate_field_user(&store, HEAD_OFFICE, "sup-liu", now_ms())
            .unwrap_err()
            .code(),
        "people_has_reps"
    );
    assert_eq!(snapshot(&store), before);
}

#[test]
fn deactivating_a_field_user_revokes_devices_and_expires_codes_in_one_go() {
    let (_dir, store) = seeded();
    let pk = "11".repeat(32);
    store.enrol_device("rep-chen", "dev-chen", &pk, now_ms()).unwrap();
    let issued = people::issue_enrol_code(&store, HEAD_OFFICE, "rep-chen", 3_600_000, now_ms()).unwrap();
    assert_eq!(issued.code.len(), 14);
    let outstanding = people::outstanding_enrol_codes(&store, now_ms()).unwrap();
    assert_eq!(outstanding.len(), 1);
    assert_eq!(
        (outstanding[0].user_id.as_str(), outstanding[0].user_name.as_str()),
        ("rep-chen", "陈静")
    );

    people::deactivate_field_user(&store, HEAD_OFFICE, "rep-chen", now_ms()).unwrap();
    let devices = people::devices(&store).unwrap();
    let d = devices.iter().find(|d| d.device_id == "dev-chen").unwrap();
    assert!(d.revoked_ms.is_some());
    assert_eq!(d.user_name.as_deref(), Some("陈静"));
    assert!(
        people::outstanding_enrol_codes(&store, now_ms() + 1)
            .unwrap()
            .is_empty()
    );
    let chen = people::field_user(&store, "rep-chen").unwrap().unwrap();
    assert!(chen.deactivated_ms.is_some() && chen.active_devices == 0);
    assert_eq!(
        people::issue_enrol_code(&store, HEAD_OFFICE, "rep-chen", 3_600_000, now_ms())
            .unwrap_err()
            .code(),
        "people_deactivated"
    );
    // With rep-chen gone, sup-liu has no active reps and may go too; back again later.
    people::deactivate_field_user(&store, HEAD_OFFICE, "sup-liu", now_ms()).unwrap();
    people::reactivate_field_user(&store, HEAD_OFFICE, "rep-chen").unwrap();
    people::issue_enrol_code(&store, HEAD_OFFICE, "rep-chen", 3_600_000, now_ms()).unwrap();
    assert_eq!(
        people::revoke_device(&store, HEAD_OFFICE, "nope", now_ms())
            .unwrap_err()
            .code(),
        "people_unknown_device"
    );
}

#[test]
fn web_users_are_created_with_a_password_or_a_link_and_roles_are_guarded() {
    let (_dir, store) = seeded();
    let admin = Manager {
        id: "root",
        role: AccountRole::Admin,
    };
    let account = |id: &str, role| WebUserInput {
        id: id.into(),
        name: "张三".into(),
        role,
        supervisor_id: None,
    };
    people::create_web_user(
        &store,
        admin,
        &account("ho-zhang", AccountRole::HeadOffice),
        &FirstSignIn::Password("correct horse battery".into()),
        false,
        now_ms(),
    )
    .unwrap();
    let link = people::create_web_user(
        &store,
        HEAD_OFFICE,
        &WebUserInput {
            supervisor_id: Some("sup-wang".into()),
            ..account("wang-web", AccountRole::Supervisor)
        },
        &FirstSignIn::Link { ttl_ms: 3_600_000 },
        false,
        now_ms(),
    )
    .unwrap()
    .unwrap();
    assert!(
        link.starts_with("/app/login/link?token=") && link.len() == 22 + 64,
        "{link}"
    );

    let refusals: Vec<(Result<Option<String>, PeopleError>, &str)> = vec![
        (
            people::create_web_user(
                &store,
                HEAD_OFFICE,
                &account("boss", AccountRole::Admin),
                &FirstSignIn::Password("long enough password".into()),
                false,
                now_ms(),
            ),
            "people_not_allowed",
        ),
        (
            people::create_web_user(
                &store,
                admin,
                &account("ho-zhang", AccountRole::HeadOffice),
                &FirstSignIn::Password("long enough password".into()),
                false,
                now_ms(),
            ),
            "people_id_taken",
        ),
        (
            people::create_web_user(
                &store,
                admin,
                &account("x", AccountRole::HeadOffice),
                &FirstSignIn::Password("short".into()),
                false,
                now_ms(),
            ),
            "people_password_too_short",
        ),
        (
            people::create_web_user(
                &store,
                admin,
                &WebUserInput {
                    supervisor_id: Some("rep-li".into()),
                    ..account("li-web", AccountRole::Supervisor)
                },
                &FirstSignIn::Link { ttl_ms: 3_600_000 },
                false,
                now_ms(),
            ),
            "people_not_a_supervisor",
        ),
    ];
    for (r, code) in refusals {
        assert_eq!(r.unwrap_err().code(), code);
    }

    people::change_web_role(&store, HEAD_OFFICE, "wang-web", AccountRole::HeadOffice, None).unwrap();
    assert_eq!(
        people::change_web_role(
            &store,
            HEAD_OFFICE,
            "ho-zhang",
            AccountRole::Supervisor,
            Some("sup-wang"),
        )
        .unwrap_err()
        .code(),
        "people_own_account"
    );
    assert_eq!(
        people::change_web_role(&store, HEAD_OFFICE, "wang-web", AccountRole::Admin, None,)
            .unwrap_err()
            .code(),
        "people_not_allowed"
    );
    // The account made with a link has no password until its user sets one.
    let has_password = |id: &str| {
        people::web_users(&store)
            .unwrap()
            .into_iter()
            .find(|a| a.id == id)
            .unwrap()
            .has_password
    };
    assert!(!has_password("wang-web") && has_password("ho-zhang"));
    let wang = Manager {
        id: "wang-web",
        role: AccountRole::HeadOffice,
    };
    assert_eq!(
        people::set_password(&store, wang, "wang-web", "short", None)
            .unwrap_err()
            .code(),
        "people_password_too_short"
    );
    people::set_password(&store, wang, "wang-web", "now a long password", None).unwrap();
    assert!(has_password("wang-web"));

    people::deactivate_web_user(&store, HEAD_OFFICE, "wang-web", now_ms()).unwrap();
    assert!(!has_password("wang-web"));
    let accounts: BTreeMap<String, (AccountRole, bool)> = people::web_users(&store)
        .unwrap()
        .into_iter()
        .map(|a| (a.id, (a.role, a.deactivated_ms.is_some())))
        .collect();
    assert_eq!(accounts["wang-web"], (AccountRole::HeadOffice, true));
    assert_eq!(accounts["ho-zhang"], (AccountRole::HeadOffice, false));
    // A deactivated account's links are gone and no new one is issued.
    let links: i64 = db(&store)
        .query_row(
            "SELECT count(*) FROM web_sign_in_links WHERE user_id = 'wang-web'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(links, 0);
    assert_eq!(
        people::issue_sign_in_link(&store, HEAD_OFFICE, "wang-web", 3_600_000, now_ms())
            .unwrap_err()
            .code(),
        "people_deactivated"
    );
}

// --- import ------------------------------------------------------------------------------------

fn workbook(sheets: &[(&str, &[&[&str]])]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    for (name, rows) in sheets {
        let ws = book.add_worksheet();
        ws.set_name(*name).unwrap();
        for (r, row) in rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                if !cell.is_empty() {
                    ws.write_string(r as u32, c as u16, *cell).unwrap();
                }
            }
        }
    }
    book.save_to_buffer().unwrap()
}

#[test]
fn people_and_structure_import_with_chinese_sheets_and_headers() {
    let (_dir, store) = seeded();
    let bytes = workbook(&[
        (
            "区域",
            &[
                &["区域代码", "区域名称"],
                &["hangzhou", "杭州"],
                &["shanghai-east", "上海东区"],
            ],
        ),
        (
            "督导",
            &[
                &["督导编号", "姓名", "电话", "区域"],
                &["sup-sun", "孙悦", "138 0000 0000", "hangzhou"],
            ],
        ),
        (
            "团队",
            &[
                &["团队代码", "团队名称", "督导编号"],
                &["hz-1", "杭州一组", "sup-sun"],
            ],
        ),
        (
            "业务员",
            &[
                &["业务员编号", "姓名", "电话", "区域", "团队"],
                &["rep-hz", "何珊", "139 0000 0001", "hangzhou", "hz-1"],
                &["rep-li", "李娜", "", "hangzhou", "hz-1"],
            ],
        ),
    ]);
    let report = import_file(&store, "人员.xlsx", &bytes, None, now_ms()).unwrap();
    assert_eq!(
        (report.territories, report.supervisors, report.teams, report.reps),
        (2, 1, 1, 2)
    );
    let territories: BTreeMap<String, String> = people::territories(&store)
        .unwrap()
        .into_iter()
        .map(|t| (t.code, t.name))
        .collect();
    assert_eq!(territories["hangzhou"], "杭州");
    assert_eq!(territories["shanghai-east"], "上海东区");
    let team = people::teams(&store)
        .unwrap()
        .into_iter()
        .find(|t| t.code == "hz-1")
        .unwrap();
    assert_eq!((team.supervisor_name.as_str(), team.reps), ("孙悦", 2));
    // No extra team was made up for sup-sun: the file gave them one.
    assert_eq!(
        people::teams(&store)
            .unwrap()
            .iter()
            .filter(|t| t.supervisor_id == "sup-sun")
            .count(),
        1
    );
    let (_, li) = user_changes(&store, "rep-li");
    let li = li.unwrap();
    assert_eq!(
        (&li["territory"], &li["supervisor_id"]),
        (&Value::from("hangzhou"), &Value::from("sup-sun"))
    );
    let hz = people::field_user(&store, "rep-hz").unwrap().unwrap();
    assert_eq!(hz.phone.as_deref(), Some("139 0000 0001"));
    assert!(user_changes(&store, "sup-sun").1.is_some());
}

#[test]
fn english_sheets_and_headers_import_and_a_chinese_named_csv_imports_with_a_kind() {
    let (_dir, store) = seeded();
    let bytes = workbook(&[
        (
            "Territories",
            &[&["Territory code", "Territory name"], &["suzhou", "苏州"]],
        ),
        (
            "Teams",
            &[&["code", "name", "supervisor_id"], &["east", "East", "sup-wang"]],
        ),
        (
            "Reps",
            &[
                &["Rep ID", "Name", "Territory", "Team"],
                &["rep-su", "苏明", "suzhou", "east"],
            ],
        ),
    ]);
    let report = import_file(&store, "people.xlsx", &bytes, None, now_ms()).unwrap();
    assert_eq!((report.territories, report.teams, report.reps), (1, 1, 1));
    let su = people::field_user(&store, "rep-su").unwrap().unwrap();
    assert_eq!(
        (su.team_code.as_deref(), su.supervisor_id.as_deref()),
        (Some("east"), Some("sup-wang"))
    );
    // sup-wang now leads "east" (their old team row gave way), with all three reps.
    let teams = people::teams(&store).unwrap();
    assert!(!teams.iter().any(|t| t.code == "sup-wang"));
    assert_eq!(teams.iter().find(|t| t.code == "east").unwrap().reps, 3);

    // 门店.csv: the kind is the form's choice, not the name.
    let csv = "\u{feff}门店编码,门店名称,纬度,经度,围栏半径（米）,区域,围栏模式\n\
               SZ-001,苏州观前街店,31.31,120.62,120,suzhou,标记\n";
    assert!(matches!(
        import_file(&store, "门店.csv", csv.as_bytes(), None, now_ms()),
        Err(ImportError::Unreadable(u)) if u.code == "import_csv_needs_kind"
    ));
    let report = import_file(
        &store,
        "门店.csv",
        csv.as_bytes(),
        Some(ImportKind::Stores),
        now_ms(),
    )
    .unwrap();
    assert_eq!(report.stores, 1);
    let s = store
        .reference_data()
        .unwrap()
        .stores
        .into_iter()
        .find(|s| s.code == "SZ-001")
        .unwrap();
    assert_eq!(
        (s.territory.as_str(), s.name.as_str()),
        ("suzhou", "苏州观前街店")
    );
    // And the same CSV under a name that says "products" still imports as stores.
    let report = import_file(
        &store,
        "products.csv",
        csv.as_bytes(),
        Some(ImportKind::Stores),
        now_ms(),
    )
    .unwrap();
    assert_eq!((report.stores, report.products), (1, 0));
}

#[test]
fn a_bad_workbook_is_refused_whole_with_every_problem_by_sheet_row_and_column() {
    let (_dir, store) = seeded();
    let before = snapshot(&store);
    let bytes = workbook(&[
        (
            "区域",
            &[
                &["区域代码", "区域名称"],
                &["hangzhou", "杭州"],
                &["hangzhou", "重复"],
            ],
        ),
        (
            "Supervisors",
            &[&["id", "name", "phone"], &["sup-sun", "孙悦", "call me"]],
        ),
        (
            "团队",
            &[
                &["团队代码", "团队名称", "督导编号"],
                &["hz-1", "杭州一组", "rep-li"],
                &["hz-2", "杭州二组", "sup-nobody"],
            ],
        ),
        (
            "业务员",
            &[
                &["业务员编号", "姓名", "区域", "团队"],
                &["rep-a", "甲", "mars", "hz-1"],
                &["rep b", "", "hangzhou", "no-team"],
                &["rep-a", "乙", "hangzhou", ""],
            ],
        ),
        (
            "Stores",
            &[
                &[
                    "code",
                    "name",
                    "latitude",
                    "longitude",
                    "geofence_radius_m",
                    "territory",
                ],
                &["X-1", "店", "95", "121", "100", "hangzhou"],
            ],
        ),
    ]);
    let Err(ImportError::Refused(problems)) = import_file(&store, "bad.xlsx", &bytes, None, now_ms()) else {
        panic!("bad workbook accepted");
    };
    let found: Vec<(String, u32, String, &str)> = problems
        .iter()
        .map(|p| (p.sheet.clone(), p.row, p.column.clone(), p.code))
        .collect();
    let expected: Vec<(&str, u32, &str, &str)> = vec![
        ("区域", 3, "区域代码", "import_duplicate"),
        ("Supervisors", 2, "phone", "import_bad_phone"),
        ("团队", 2, "督导编号", "import_not_a_supervisor"),
        ("团队", 3, "督导编号", "import_unknown_supervisor"),
        ("业务员", 2, "区域", "import_unknown_territory"),
        // (hz-1 itself is in the file: its supervisor's problem is said once, on the team.)
        ("业务员", 3, "业务员编号", "import_bad_id"),
        ("业务员", 3, "姓名", "import_value_missing"),
        ("业务员", 3, "团队", "import_unknown_team"),
        ("业务员", 4, "业务员编号", "import_duplicate"),
        ("Stores", 2, "latitude", "import_out_of_range"),
    ];
    for e in &expected {
        assert!(
            found.iter().any(|f| (f.0.as_str(), f.1, f.2.as_str(), f.3) == *e),
            "missing {e:?} in {found:#?}"
        );
    }
    assert_eq!(found.len(), expected.len(), "{found:#?}");
    assert_eq!(snapshot(&store), before, "nothing changed");

    // Each problem reads in both languages, its parameters filled in.
    use fieldproof_server::web::i18n::Lang;
    for p in &problems {
        for lang in [Lang::En, Lang::Zh] {
            let text = lang.message(p.code, &p.params);
            assert!(!text.contains('{') && !text.contains(p.code), "{text}");
            for (_, v) in &p.params {
                assert!(text.contains(v.as_str()), "{text} lacks {v}");
            }
        }
    }
    let dup = problems
        .iter()
        .find(|p| p.sheet == "业务员" && p.row == 4)
        .unwrap();
    assert_eq!(
        Lang::Zh.message(dup.code, &dup.params),
        "“rep-a”重复（第 2 行也有）。"
    );

    // A header missing a required column names it in the sheet's language.
    let bytes = workbook(&[(
        "业务员",
        &[&["业务员编号", "姓名", "电话号码"], &["rep-a", "甲", "1"]],
    )]);
    let Err(ImportError::Refused(problems)) = import_file(&store, "bad.xlsx", &bytes, None, now_ms()) else {
        panic!("accepted");
    };
    let cols: Vec<(&str, &str)> = problems.iter().map(|p| (p.column.as_str(), p.code)).collect();
    assert_eq!(
        cols,
        [
            ("电话号码", "import_unknown_column"),
            ("区域", "import_column_missing")
        ]
    );
    assert_eq!(snapshot(&store), before);
}

fn read_sheets(bytes: &[u8]) -> BTreeMap<String, Vec<Vec<Data>>> {
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    book.sheet_names()
        .into_iter()
        .map(|n| {
            let range = book.worksheet_range(&n).unwrap();
            (n, range.rows().map(<[Data]>::to_vec).collect())
        })
        .collect()
}

#[test]
fn the_template_workbook_documents_every_column_and_imports_as_it_is() {
    for zh in [true, false] {
        let bytes = template_xlsx(zh).unwrap();
        let sheets = read_sheets(&bytes);
        let notes = &sheets[if zh { "说明" } else { "Notes" }];
        // The reference data's template; the customers-and-leads one is tests/web_pipeline.rs's.
        for kind in ImportKind::REFERENCE {
            let sheet = &sheets[kind.sheet_name_in(zh)];
            let headers: Vec<String> = sheet[0].iter().map(ToString::to_string).collect();
            let expected: Vec<&str> = kind.columns().iter().map(|c| c.header(zh)).collect();
            assert_eq!(headers, expected, "{kind:?}");
            assert_eq!(sheet.len(), 2, "{kind:?}: header and one example row");
            for c in kind.columns() {
                assert!(
                    notes
                        .iter()
                        .any(|r| matches!(r.get(1), Some(Data::String(s)) if s == c.header(zh))),
                    "{kind:?} {} not in the notes",
                    c.key
                );
            }
        }
        // The example rows are consistent: the template imports into the demo's data.
        let (_dir, store) = seeded();
        let report = import_file(&store, "template.xlsx", &bytes, None, now_ms())
            .unwrap_or_else(|e| panic!("template (zh {zh}) refused: {e}"));
        assert_eq!(
            (
                report.territories,
                report.supervisors,
                report.teams,
                report.reps,
                report.stores,
                report.products,
                report.plans
            ),
            (1, 1, 1, 1, 1, 1, 1)
        );
    }
}

#[test]
fn head_office_docs_describe_every_import_sheet_and_column() {
    let docs = include_str!("../../docs/HEAD-OFFICE.md");
    for kind in ImportKind::ALL {
        let title = format!("**{} / {}**", kind.sheet_name_in(true), kind.sheet_name_in(false));
        // At the start of a line: the pages' table names some sheets' titles too.
        let at = docs
            .find(&format!("\n{title}"))
            .map(|at| at + 1)
            .unwrap_or_else(|| panic!("docs/HEAD-OFFICE.md has no section {title}"));
        // The sheet's table: up to the next sheet's title or section.
        let rest = &docs[at + title.len()..];
        let end = rest
            .find("\n**")
            .or_else(|| rest.find("\n## "))
            .unwrap_or(rest.len());
        let table = &rest[..end];
        for c in kind.columns() {
            let row = format!(
                "| {} | {} | `{}` | {} |",
                c.zh,
                c.en,
                c.key,
                if c.required { "yes" } else { "no" }
            );
            assert!(table.contains(&row), "{kind:?}: no row {row}");
        }
    }
}

/// Draw the SVG the way a screen would (its `<path>` is rectangles `M{x} {y}h{w}v{h}H{x}V{y}`)
/// and scan it with a QR reader: what the phone's camera would get.
fn scan_svg(svg: &str) -> String {
    let attr = |name: &str| -> usize {
        let at = svg.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
        svg[at..at + svg[at..].find('"').unwrap()].parse().unwrap()
    };
    let (w, h) = (attr("width"), attr("height"));
    let mut dark = vec![false; w * h];
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
        rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| if dark[y * w + x] { 0 } else { 255 });
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the picture");
    grids[0].decode().unwrap().1
}

#[test]
fn the_enrolment_qr_code_scans_back_to_the_server_and_the_code() {
    let (_dir, store) = seeded();
    let issued = people::issue_enrol_code(&store, HEAD_OFFICE, "rep-li", 72 * 3_600_000, now_ms()).unwrap();
    let svg = people::enrol_qr_svg("https://hq.example.com/fieldproof/", &issued.code).unwrap();
    let scanned = scan_svg(&svg);
    assert_eq!(
        scanned,
        format!(
            "fieldproof://enrol?server=https%3A%2F%2Fhq.example.com%2Ffieldproof&code={}",
            issued.code
        )
    );
    assert_eq!(
        scanned,
        people::enrol_payload("https://hq.example.com/fieldproof", &issued.code).unwrap()
    );
    assert_eq!(
        people::enrol_qr_svg("http://hq.example.com", &issued.code)
            .unwrap_err()
            .code(),
        "people_bad_server_url"
    );
}

#[test]
fn a_team_given_another_supervisor_takes_its_reps_and_two_teams_never_merge_silently() {
    let (_dir, store) = seeded();
    let before = snapshot(&store);
    // sup-wang (rep-li, rep-zhao) named on sup-liu's team (rep-chen): a merge, refused.
    let merge = workbook(&[(
        "Teams",
        &[
            &["code", "name", "supervisor_id"],
            &["sup-liu", "刘洋组", "sup-wang"],
        ],
    )]);
    let Err(ImportError::Refused(problems)) = import_file(&store, "t.xlsx", &merge, None, now_ms()) else {
        panic!("merge accepted");
    };
    let found: Vec<(&str, u32, &str, &str)> = problems
        .iter()
        .map(|p| (p.sheet.as_str(), p.row, p.column.as_str(), p.code))
        .collect();
    assert_eq!(found, [("Teams", 2, "supervisor_id", "import_supervisor_busy")]);
    assert_eq!(snapshot(&store), before);

    // A new supervisor for sup-liu's team: rep-chen goes along, in the feed.
    let handover = workbook(&[
        ("督导", &[&["督导编号", "姓名"], &["sup-new", "牛新"]]),
        (
            "团队",
            &[
                &["团队代码", "团队名称", "督导编号"],
                &["sup-liu", "浦东组", "sup-new"],
            ],
        ),
    ]);
    import_file(&store, "t.xlsx", &handover, None, now_ms()).unwrap();
    assert_eq!(
        user_changes(&store, "rep-chen").1.unwrap()["supervisor_id"],
        "sup-new"
    );
    let team = people::teams(&store)
        .unwrap()
        .into_iter()
        .find(|t| t.code == "sup-liu")
        .unwrap();
    assert_eq!(
        (team.name.as_str(), team.supervisor_id.as_str(), team.reps),
        ("浦东组", "sup-new", 1)
    );

    // On the pages: a supervisor named on a new team code recodes their team (no phone change);
    // on a team with another supervisor's reps, refused.
    let changes = store.stats().unwrap().changes;
    let report = people::save_team(
        &store,
        HEAD_OFFICE,
        &TeamInput {
            code: "pudong-1".into(),
            name: "浦东一组".into(),
            supervisor_id: "sup-wang".into(),
        },
        now_ms(),
    )
    .unwrap();
    assert_eq!((report.changes, store.stats().unwrap().changes), (0, changes));
    let teams = people::teams(&store).unwrap();
    assert!(!teams.iter().any(|t| t.code == "sup-wang"));
    assert_eq!(teams.iter().find(|t| t.code == "pudong-1").unwrap().reps, 2);
    let err = people::save_team(
        &store,
        HEAD_OFFICE,
        &TeamInput {
            code: "sup-liu".into(),
            name: "浦东组".into(),
            supervisor_id: "sup-wang".into(),
        },
        now_ms(),
    )
    .unwrap_err();
    assert_eq!(
        err,
        PeopleError::LeadsTeam {
            id: "sup-wang".into(),
            team: "pudong-1".into()
        }
    );
}
