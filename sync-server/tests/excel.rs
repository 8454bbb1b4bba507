//! XLSX / CSV export and import (issue #5): real signed ops pushed into a real store, the
//! workbook read back with calamine and compared with the server's SQLite rows; imports built
//! with rust_xlsxwriter; the admin commands through the real binary.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    // Rows read back from SQLite are compared as plain tuples, column by column.
    clippy::type_complexity
)]

#[path = "support/phone.rs"]
mod phone;

#[path = "support/db.rs"]
mod test_db;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use calamine::{Data, Reader, Xlsx};
use fieldproof_core::evidence::sha256_hex;
use fieldproof_server::export::{
    ExportFilter, ExportKind, export_csv, export_csv_in, export_xlsx, export_xlsx_in,
};
use fieldproof_server::i18n::Lang;
use fieldproof_server::import::{CellProblem, ImportError, ImportKind, import_csv, import_file};
use fieldproof_server::values;
use fieldproof_server::{Store, now_ms};
use phone::Phone;
use serde_json::{Value, json};

const REFERENCE: &str = include_str!("../../tests/fixtures/reference.json");
const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

/// Unix ms of a UTC date and hour.
fn utc(date: &str, hour: i64, minute: i64) -> i64 {
    let y: i64 = date[0..4].parse().unwrap();
    let m: i64 = date[5..7].parse().unwrap();
    let d: i64 = date[8..10].parse().unwrap();
    // Days from 1970-01-01 (Hinnant), independent of the code under test.
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    days * DAY + hour * HOUR + minute * 60_000
}

impl Phone {
    /// A store check: check-in (at the store or `far` away), answers, optional photo op
    /// (bytes never uploaded), report, complete with a score, check-out.
    #[allow(clippy::too_many_arguments)]
    fn visit(
        &mut self,
        visit: &str,
        store: &str,
        lat: f64,
        lon: f64,
        start: i64,
        answers: &[(&str, Value)],
        photo: bool,
        score: f64,
    ) {
        let user = self.user.clone();
        let fix = json!({"latitude": lat, "longitude": lon, "accuracy_m": 10.0, "provider": "gps",
                         "is_mock": false, "fix_time_ms": start});
        self.op(
            "visit.check_in",
            visit,
            start,
            json!({"visit_id": visit, "kind": "store_check", "user_id": user, "store_id": store,
                   "template_id": "tpl-store-check", "template_version": 1, "plan_id": null,
                   "fix": fix, "geofence": "verified", "distance_m": 5.0, "flags": []}),
        );
        let mut t = start;
        for (item, value) in answers {
            t += 60_000;
            self.op(
                "visit.answer",
                visit,
                t,
                json!({"visit_id": visit, "item_id": item, "value": value, "note": if *item == "remarks" { json!("备注：客户满意") } else { Value::Null },
                       "revision": 1, "raised": [], "cleared": []}),
            );
        }
        if photo {
            t += 60_000;
            let sha = sha256_hex(format!("photo-{visit}").as_bytes());
            self.op(
                "visit.photo",
                visit,
                t,
                json!({"photo_id": format!("ph-{visit}"), "visit_id": visit, "store_id": store, "user_id": user,
                       "item_id": "shelf_photo", "photo_kind": "shelf", "image_sha256": sha, "byte_len": 123_456,
                       "evidence_code": "FP-7Q2K"}),
            );
        }
        t += 60_000;
        self.op(
            "visit.report",
            visit,
            t,
            json!({"visit_id": visit, "report": {"notes": "货架整齐", "objections": [], "next_steps": [], "follow_up_date": null}}),
        );
        t += 60_000;
        self.op(
            "visit.complete",
            visit,
            t,
            json!({"visit_id": visit, "score": {"total": score, "sections": []}}),
        );
        t += 60_000;
        self.op(
            "visit.check_out",
            visit,
            t,
            json!({"visit_id": visit, "fix": fix}),
        );
    }
}

/// rep-li (sup-wang) on 2026-11-20 10:00 local at st-001 with a photo; rep-chen (sup-liu) at
/// 2026-11-21 00:30 local (16:30 UTC the day before) at st-002; rep-zhao (sup-wang) on
/// 2026-11-22 at st-101, checked in far away (outside_geofence).
fn seeded() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = test_db::store(dir.path());
    store.load_reference_json(REFERENCE, now_ms()).unwrap();
    let mut li = Phone::new(&store, "li", "rep-li");
    li.visit(
        "v-li-1",
        "st-001",
        31.2304,
        121.5200,
        utc("2026-11-20", 2, 0),
        &[
            ("shelf_ok", json!({"kind": "yes_no", "value": true})),
            ("facings", json!({"kind": "number", "value": 12.5})),
            ("own_price", json!({"kind": "price", "cents": 450})),
            ("comp_price", json!({"kind": "price", "cents": 399})),
            ("backroom", json!({"kind": "choice", "choice_id": "full"})),
            ("remarks", json!({"kind": "text", "value": "店长说下周补货"})),
        ],
        true,
        85.0,
    );
    li.push(&store, now_ms());
    let mut chen = Phone::new(&store, "chen", "rep-chen");
    chen.visit(
        "v-chen-1",
        "st-002",
        31.2360,
        121.5050,
        utc("2026-11-20", 16, 30),
        &[
            ("shelf_ok", json!({"kind": "yes_no", "value": false})),
            ("facings", json!({"kind": "number", "value": 3.0})),
        ],
        false,
        40.0,
    );
    chen.push(&store, now_ms());
    let mut zhao = Phone::new(&store, "zhao", "rep-zhao");
    zhao.visit(
        "v-zhao-1",
        "st-101",
        31.3000,
        121.6000,
        utc("2026-11-22", 3, 15),
        &[("facings", json!({"kind": "number", "value": 7.0}))],
        true,
        70.5,
    );
    zhao.push(&store, now_ms());
    (dir, store)
}

fn db(dir: &Path) -> fieldproof_server::db::Connection {
    test_db::connect(dir)
}

/// Excel serial of a Unix-ms instant at +08:00.
fn serial(ms: i64) -> f64 {
    (ms + 8 * HOUR) as f64 / DAY as f64 + 25_569.0
}
fn day_serial(ms: i64) -> f64 {
    ((ms + 8 * HOUR).div_euclid(DAY)) as f64 + 25_569.0
}

fn sheets(bytes: &[u8]) -> BTreeMap<String, Vec<Vec<Data>>> {
    sheets_in(bytes, Lang::En)
}

/// The workbook's sheets, checked to be in order and named in `lang`.
fn sheets_in(bytes: &[u8], lang: Lang) -> BTreeMap<String, Vec<Vec<Data>>> {
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let names = book.sheet_names();
    let expected = match lang {
        Lang::En => ["Visits", "Answers", "Exceptions", "Photos"],
        Lang::Zh => ["拜访", "检查项", "异常", "照片"],
    };
    assert_eq!(names, expected);
    names
        .iter()
        .map(|n| {
            let range = book.worksheet_range(n).unwrap();
            assert_eq!(range.start().unwrap_or((0, 0)), (0, 0));
            (n.clone(), range.rows().map(<[Data]>::to_vec).collect())
        })
        .collect()
}

fn text(d: &Data) -> Option<String> {
    match d {
        Data::Empty => None,
        Data::String(s) => Some(s.clone()),
        other => panic!("expected text, got {other:?}"),
    }
}
fn num(d: &Data) -> Option<f64> {
    match d {
        Data::Empty => None,
        Data::Float(f) => Some(*f),
        Data::Int(i) => Some(*i as f64),
        other => panic!("expected a number, got {other:?}"),
    }
}
fn datetime(d: &Data) -> Option<f64> {
    match d {
        Data::Empty => None,
        Data::DateTime(dt) => {
            assert!(dt.is_datetime(), "{dt:?}");
            Some(dt.as_f64())
        }
        other => panic!("expected a date-time cell, got {other:?}"),
    }
}
fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

fn header(kind: ExportKind) -> Vec<Data> {
    kind.headers(Lang::En)
        .iter()
        .map(|c| Data::String((*c).to_string()))
        .collect()
}

#[derive(Debug)]
struct VisitDb {
    id: String,
    user: String,
    store: String,
    started: i64,
    ended: Option<i64>,
    status: String,
    geofence: String,
    score: Option<f64>,
    answers: i64,
    photos: i64,
    open: Option<String>,
}

fn visits_db(dir: &Path, filter_sql: &str) -> Vec<VisitDb> {
    let c = db(dir);
    let mut st = c
        .prepare(&format!(
            "SELECT v.id, v.user_id, v.store_id, v.started_wall_ms, coalesce(v.ended_wall_ms, v.completed_wall_ms),
                    v.status, v.geofence, v.score, v.answers,
                    (SELECT count(*) FROM photos p WHERE p.visit_id = v.id)
             FROM visits v WHERE {filter_sql} ORDER BY v.started_wall_ms"
        ))
        .unwrap();
    let rows: Vec<VisitDb> = st
        .query_map([], |r| {
            Ok(VisitDb {
                id: r.get(0)?,
                user: r.get(1)?,
                store: r.get(2)?,
                started: r.get(3)?,
                ended: r.get(4)?,
                status: r.get(5)?,
                geofence: r.get(6)?,
                score: r.get(7)?,
                answers: r.get(8)?,
                photos: r.get(9)?,
                open: None,
            })
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    rows.into_iter()
        .map(|mut v| {
            let mut codes: Vec<String> = c
                .prepare("SELECT DISTINCT code FROM exceptions WHERE visit_id = ?1 AND resolved_ms IS NULL")
                .unwrap()
                .query_map([&v.id], |r| r.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            codes.sort();
            v.open = (!codes.is_empty()).then(|| codes.join(","));
            v
        })
        .collect()
}

fn store_code(id: &str) -> &'static str {
    match id {
        "st-001" => "SH-E-001",
        "st-002" => "SH-E-002",
        "st-003" => "SH-E-003",
        "st-101" => "SH-W-101",
        other => panic!("unexpected store {other}"),
    }
}

#[test]
fn workbook_matches_the_database() {
    let (dir, store) = seeded();
    let bytes = export_xlsx(&store, &ExportFilter::default()).unwrap();
    let book = sheets(&bytes);

    // Visits.
    let rows = &book["Visits"];
    assert_eq!(rows[0], header(ExportKind::Visits));
    let expected = visits_db(dir.path(), "1 = 1");
    assert_eq!(expected.len(), 3);
    assert_eq!(rows.len(), 1 + expected.len());
    for (row, v) in rows[1..].iter().zip(&expected) {
        assert_eq!(text(&row[0]).unwrap(), v.id);
        assert!(
            close(datetime(&row[1]).unwrap(), day_serial(v.started)),
            "{row:?}"
        );
        assert!(close(datetime(&row[2]).unwrap(), serial(v.started)));
        let ended = v.ended.expect("checked out");
        assert!(close(datetime(&row[3]).unwrap(), serial(ended)));
        assert!(close(
            num(&row[4]).unwrap(),
            ((ended - v.started) as f64 / 60_000.0 * 10.0).round() / 10.0
        ));
        assert_eq!(text(&row[5]).unwrap(), v.user);
        let name = match v.user.as_str() {
            "rep-li" => "李娜",
            "rep-chen" => "陈静",
            "rep-zhao" => "赵强",
            other => panic!("{other}"),
        };
        assert_eq!(text(&row[6]).unwrap(), name);
        assert_eq!(text(&row[7]).unwrap(), store_code(&v.store));
        assert!(
            text(&row[8]).unwrap().contains('（'),
            "Chinese store name intact: {:?}",
            row[8]
        );
        assert_eq!(
            text(&row[9]).unwrap(),
            if v.store == "st-101" {
                "shanghai-west"
            } else {
                "shanghai-east"
            }
        );
        assert_eq!(text(&row[10]).unwrap(), "Store check");
        assert_eq!(text(&row[11]).unwrap(), values::visit_status(Lang::En, &v.status));
        assert_eq!(text(&row[12]).unwrap(), values::geofence(Lang::En, &v.geofence));
        assert_eq!(num(&row[14]), v.score);
        assert_eq!(num(&row[15]).unwrap(), v.answers as f64);
        assert_eq!(num(&row[16]).unwrap(), v.photos as f64);
        assert_eq!(num(&row[17]).unwrap(), 0.0);
        assert_eq!(text(&row[18]), in_words(v.open.as_deref()));
    }
    // The seed did what it says: the local date of chen's 16:30 UTC visit is the next day.
    assert_eq!(rows[2][0], Data::String("v-chen-1".into()));
    assert!(close(
        datetime(&rows[2][1]).unwrap(),
        day_serial(utc("2026-11-21", 0, 0) - 8 * HOUR)
    ));
    assert_eq!(num(&rows[1][14]), Some(85.0));
    let zhao = &rows[3];
    assert!(
        text(&zhao[18]).unwrap().contains("Outside the geofence"),
        "{zhao:?}"
    );
    assert!(
        text(&rows[1][18]).unwrap().contains("Photo not received"),
        "{:?}",
        rows[1]
    );

    // Answers: every answer row, typed.
    let c = db(dir.path());
    let mut st = c
        .prepare(
            "SELECT a.visit_id, v.started_wall_ms, v.user_id, v.store_id, a.item_id, a.value, a.note, a.revision, a.answered_ms
             FROM answers a JOIN visits v ON v.id = a.visit_id ORDER BY v.started_wall_ms, a.visit_id, a.item_id",
        )
        .unwrap();
    let answers: Vec<(
        String,
        i64,
        String,
        String,
        String,
        String,
        Option<String>,
        i64,
        i64,
    )> = st
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
                r.get(8)?,
            ))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let rows = &book["Answers"];
    assert_eq!(rows[0], header(ExportKind::Answers));
    assert_eq!(answers.len(), 9);
    assert_eq!(rows.len(), 1 + answers.len());
    for (row, a) in rows[1..].iter().zip(&answers) {
        assert_eq!(text(&row[0]).unwrap(), a.0);
        assert!(close(datetime(&row[1]).unwrap(), day_serial(a.1)));
        assert_eq!(text(&row[2]).unwrap(), a.2);
        assert_eq!(text(&row[3]).unwrap(), store_code(&a.3));
        assert_eq!(text(&row[4]).unwrap(), item_label(&a.4), "the template's label");
        let v: Value = serde_json::from_str(&a.5).unwrap();
        match v["kind"].as_str().unwrap() {
            "yes_no" => assert_eq!(row[5], Data::Bool(v["value"].as_bool().unwrap())),
            "number" => assert_eq!(num(&row[5]).unwrap(), v["value"].as_f64().unwrap()),
            "price" => assert!(close(num(&row[5]).unwrap(), v["cents"].as_f64().unwrap() / 100.0)),
            "choice" => {
                assert_eq!(v["choice_id"], "full");
                assert_eq!(
                    text(&row[5]).unwrap(),
                    "full",
                    "a choice the template lacks keeps its id"
                );
            }
            "text" => assert_eq!(text(&row[5]).unwrap(), v["value"].as_str().unwrap()),
            other => panic!("{other}"),
        }
        assert_eq!(text(&row[6]), a.6);
        assert_eq!(num(&row[7]).unwrap(), a.7 as f64);
        assert!(close(datetime(&row[8]).unwrap(), serial(a.8)));
    }
    let own_price = rows
        .iter()
        .find(|r| r[4] == Data::String("Shelf price FP-TEA-500".into()))
        .unwrap();
    assert_eq!(own_price[5], Data::Float(4.5));
    let remarks = rows
        .iter()
        .find(|r| r[4] == Data::String("Remarks".into()))
        .unwrap();
    assert_eq!(remarks[5], Data::String("店长说下周补货".into()));

    // Exceptions: every row.
    let mut st = c
        .prepare(
            "SELECT e.id, e.code, e.visit_id, e.user_id, e.detail, e.created_ms, e.resolved_by, e.resolved_ms
             FROM exceptions e ORDER BY e.id",
        )
        .unwrap();
    let exceptions: Vec<(
        i64,
        String,
        Option<String>,
        Option<String>,
        String,
        i64,
        Option<String>,
        Option<i64>,
    )> = st
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
            ))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(exceptions.len() >= 2, "{exceptions:?}");
    let rows = &book["Exceptions"];
    assert_eq!(rows[0], header(ExportKind::Exceptions));
    assert_eq!(rows.len(), 1 + exceptions.len());
    for (row, e) in rows[1..].iter().zip(&exceptions) {
        assert_eq!(num(&row[0]).unwrap(), e.0 as f64);
        // The exception in words, not its code nor the server's English line.
        let title = text(&row[1]).unwrap();
        assert!(!title.is_empty() && !title.contains('_'), "{title}");
        assert_eq!(text(&row[2]), e.2);
        assert_eq!(text(&row[4]), e.3);
        let sentence = text(&row[6]).unwrap();
        assert_ne!(sentence, e.4);
        assert!(
            !sentence.contains("ph-v-") && !sentence.contains('_'),
            "{sentence}"
        );
        assert!(close(datetime(&row[7]).unwrap(), serial(e.5)));
        assert_eq!(text(&row[8]), e.6);
        assert_eq!(datetime(&row[9]).is_some(), e.7.is_some());
    }

    // Photos.
    let mut st = c
        .prepare(
            "SELECT p.photo_id, p.visit_id, p.sha256, p.byte_len, p.evidence_code, p.received, p.verified
             FROM photos p JOIN visits v ON v.id = p.visit_id ORDER BY v.started_wall_ms, p.photo_id",
        )
        .unwrap();
    let photos: Vec<(String, String, String, i64, String, bool, bool)> = st
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(photos.len(), 2);
    let rows = &book["Photos"];
    assert_eq!(rows[0], header(ExportKind::Photos));
    assert_eq!(rows.len(), 3);
    for (row, p) in rows[1..].iter().zip(&photos) {
        assert_eq!(text(&row[0]).unwrap(), p.0);
        assert_eq!(text(&row[1]).unwrap(), p.1);
        assert!(datetime(&row[2]).is_some());
        // `shelf` is not a kind the core knows.
        assert_eq!(text(&row[5]).unwrap(), "Other photo");
        assert_eq!(text(&row[6]).unwrap(), p.2);
        assert_eq!(num(&row[7]).unwrap(), p.3 as f64);
        assert_eq!(text(&row[8]).unwrap(), p.4);
        assert_eq!(row[9], Data::Bool(p.5));
        assert_eq!(row[10], Data::Bool(p.6));
    }

    // Frozen, bold header on every sheet.
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    for i in 1..=4 {
        let mut xml = String::new();
        zip.by_name(&format!("xl/worksheets/sheet{i}.xml"))
            .unwrap()
            .read_to_string(&mut xml)
            .unwrap();
        assert!(
            xml.contains("ySplit=\"1\"") && xml.contains("state=\"frozen\""),
            "sheet{i}: {xml:.600}"
        );
        assert!(xml.contains("<cols>"), "column widths set");
    }
    let mut styles = String::new();
    zip.by_name("xl/styles.xml")
        .unwrap()
        .read_to_string(&mut styles)
        .unwrap();
    assert!(styles.contains("<b/>"));
}

fn csv_rows(text: &str) -> Vec<Vec<String>> {
    let body = text.strip_prefix('\u{feff}').expect("CSV starts with a BOM");
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(body.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

#[test]
fn csv_matches_the_database_and_the_sheet() {
    let (dir, store) = seeded();
    let all = ExportFilter::default();
    let rows = csv_rows(&export_csv(&store, ExportKind::Visits, &all).unwrap());
    assert_eq!(rows[0], ExportKind::Visits.headers(Lang::En));
    let expected = visits_db(dir.path(), "1 = 1");
    assert_eq!(rows.len(), 1 + expected.len());
    let dates = ["2026-11-20", "2026-11-21", "2026-11-22"];
    let started = [
        "2026-11-20 10:00:00",
        "2026-11-21 00:30:00",
        "2026-11-22 11:15:00",
    ];
    for (i, (row, v)) in rows[1..].iter().zip(&expected).enumerate() {
        assert_eq!(row[0], v.id);
        assert_eq!(row[1], dates[i]);
        assert_eq!(row[2], started[i]);
        assert_eq!(row[5], v.user);
        assert_eq!(row[7], store_code(&v.store));
        assert_eq!(row[14].parse::<f64>().ok(), v.score);
        assert_eq!(row[15], v.answers.to_string());
        assert_eq!(row[16], v.photos.to_string());
        assert_eq!(
            Some(row[18].clone()).filter(|s| !s.is_empty()),
            in_words(v.open.as_deref())
        );
    }
    assert_eq!(rows[1][6], "李娜");
    assert_eq!(rows[1][8], "联华超市（浦东南路店）");

    // Every kind: the same rows and cells as the workbook (text as text, numbers printed).
    let book = sheets(&export_xlsx(&store, &all).unwrap());
    for kind in ExportKind::ALL {
        let csv = csv_rows(&export_csv(&store, kind, &all).unwrap());
        let sheet = &book[kind.sheet_name()];
        assert_eq!(csv.len(), sheet.len(), "{kind}");
        for (c, s) in csv.iter().zip(sheet) {
            assert_eq!(c.len(), kind.columns().len());
            for (cv, sv) in c.iter().zip(s) {
                match sv {
                    Data::String(t) => assert_eq!(cv, t),
                    Data::Float(f) => assert!(close(cv.parse::<f64>().unwrap(), *f), "{cv} vs {f}"),
                    Data::Bool(b) => assert_eq!(cv, if *b { "TRUE" } else { "FALSE" }),
                    Data::DateTime(_) => assert!(cv.len() == 10 || cv.len() == 19, "{cv}"),
                    Data::Empty => assert_eq!(cv, ""),
                    other => panic!("{other:?}"),
                }
            }
        }
    }
    let answers = csv_rows(&export_csv(&store, ExportKind::Answers, &all).unwrap());
    let own = answers.iter().find(|r| r[4] == "Shelf price FP-TEA-500").unwrap();
    assert_eq!(own[5], "4.5");
    let ok = answers
        .iter()
        .find(|r| r[4] == "Planogram followed?" && r[0] == "v-li-1")
        .unwrap();
    assert_eq!(ok[5], "TRUE");
}

/// Comma-separated exception codes as the English export shows them.
fn in_words(codes: Option<&str>) -> Option<String> {
    codes.map(|codes| {
        codes
            .split(',')
            .map(|c| Lang::En.code_words(c))
            .collect::<Vec<_>>()
            .join(", ")
    })
}

/// The fixture template's label of an item.
fn item_label(item_id: &str) -> &'static str {
    match item_id {
        "shelf_ok" => "Planogram followed?",
        "facings" => "Facings of FP-TEA-500",
        "own_price" => "Shelf price FP-TEA-500",
        "comp_price" => "Shelf price CP-TEA-500 (竞品)",
        "backroom" => "Back-room stock level",
        "remarks" => "Remarks",
        other => panic!("{other}"),
    }
}

/// The Chinese export: sheet names, headers and the words people read are Chinese; ids, store
/// codes, numbers and dates are the same as in English; no exception reads in English.
#[test]
fn chinese_export_names_sheets_columns_and_values_in_chinese() {
    let (_dir, store) = seeded();
    let all = ExportFilter::default();
    let zh = sheets_in(&export_xlsx_in(&store, &all, Lang::Zh).unwrap(), Lang::Zh);
    let en = sheets(&export_xlsx(&store, &all).unwrap());
    for kind in ExportKind::ALL {
        let rows = &zh[kind.sheet_title(Lang::Zh)];
        let headers: Vec<Data> = kind
            .headers(Lang::Zh)
            .iter()
            .map(|h| Data::String((*h).to_string()))
            .collect();
        assert_eq!(rows[0], headers, "{kind}");
        for h in kind.headers(Lang::Zh) {
            assert!(
                h == "SHA-256" || !h.chars().any(|c| c.is_ascii_alphabetic()),
                "{kind}: {h}"
            );
        }
        assert_eq!(rows.len(), en[kind.sheet_name()].len(), "{kind}: same rows");
    }
    assert_eq!(ExportKind::Visits.headers(Lang::Zh)[0], "拜访编号");

    let visits = &zh["拜访"];
    let zhao = visits
        .iter()
        .find(|r| r[0] == Data::String("v-zhao-1".into()))
        .unwrap();
    assert_eq!(text(&zhao[10]).unwrap(), "巡店");
    assert_eq!(text(&zhao[11]).unwrap(), "已签退");
    assert_eq!(text(&zhao[12]).unwrap(), "围栏外");
    assert_eq!(text(&zhao[18]).unwrap(), "不在地理围栏内、照片未上传");

    let answers = &zh["检查项"];
    let ok = answers
        .iter()
        .find(|r| r[0] == Data::String("v-li-1".into()) && r[4] == Data::String("Planogram followed?".into()))
        .unwrap();
    assert_eq!(ok[5], Data::Bool(true), "a yes/no stays a typed cell");

    // Zhao checked in and out far from 家乐福（古北店）: two exceptions that say which.
    let exceptions = &zh["异常"];
    let zhao_rows: Vec<(String, String)> = exceptions[1..]
        .iter()
        .filter(|r| text(&r[2]).as_deref() == Some("v-zhao-1"))
        .map(|r| (text(&r[1]).unwrap(), text(&r[6]).unwrap()))
        .collect();
    let titles: Vec<&str> = zhao_rows.iter().map(|(t, _)| t.as_str()).collect();
    assert!(titles.contains(&"在地理围栏外签到"), "{zhao_rows:?}");
    assert!(titles.contains(&"在地理围栏外签退"), "{zhao_rows:?}");
    for (title, sentence) in exceptions[1..]
        .iter()
        .map(|r| (text(&r[1]).unwrap(), text(&r[6]).unwrap()))
    {
        assert!(!title.chars().any(|c| c.is_ascii_alphabetic()), "{title}");
        assert!(!sentence.chars().any(|c| c.is_ascii_alphabetic()), "{sentence}");
    }
    let checked_out = &zhao_rows.iter().find(|(t, _)| t == "在地理围栏外签退").unwrap().1;
    assert!(
        checked_out.starts_with("在距家乐福（古北店） ")
            && checked_out.contains("米 处签退，地理围栏半径为 200 米"),
        "{checked_out}"
    );
    assert_eq!(text(&zh["照片"][1][5]).unwrap(), "其他照片");

    // CSV: the same headers and words, and its first line is Chinese.
    let csv = csv_rows(&export_csv_in(&store, ExportKind::Exceptions, &all, Lang::Zh).unwrap());
    assert_eq!(csv[0], ExportKind::Exceptions.headers(Lang::Zh));
    assert_eq!(csv.len(), exceptions.len());
    assert!(csv[1..].iter().any(|r| r[1] == "在地理围栏外签退"));
}

fn visit_ids(store: &Store, filter: &ExportFilter, kind: ExportKind) -> Vec<String> {
    let col = if kind == ExportKind::Photos { 1 } else { 0 };
    let mut ids: Vec<String> = csv_rows(&export_csv(store, kind, filter).unwrap())[1..]
        .iter()
        .map(|r| r[col].clone())
        .collect();
    ids.dedup();
    ids
}

#[test]
fn filters_restrict_rows() {
    let (_dir, store) = seeded();
    let by_rep = ExportFilter {
        rep_id: Some("rep-li".into()),
        ..Default::default()
    };
    assert_eq!(visit_ids(&store, &by_rep, ExportKind::Visits), ["v-li-1"]);
    assert_eq!(visit_ids(&store, &by_rep, ExportKind::Answers), ["v-li-1"]);
    assert_eq!(visit_ids(&store, &by_rep, ExportKind::Photos), ["v-li-1"]);
    let exc = csv_rows(&export_csv(&store, ExportKind::Exceptions, &by_rep).unwrap());
    assert!(
        exc.len() > 1 && exc[1..].iter().all(|r| r[4] == "rep-li"),
        "{exc:?}"
    );

    // Local dates: chen's visit at 16:30 UTC on the 20th is on the 21st in Shanghai.
    let day = ExportFilter::from_query("from=2026-11-21&to=2026-11-21").unwrap();
    assert_eq!(visit_ids(&store, &day, ExportKind::Visits), ["v-chen-1"]);
    let range = ExportFilter::from_query("from=2026-11-20&to=2026-11-21").unwrap();
    assert_eq!(
        visit_ids(&store, &range, ExportKind::Visits),
        ["v-li-1", "v-chen-1"]
    );
    let after = ExportFilter::from_query("from=2026-11-22").unwrap();
    assert_eq!(visit_ids(&store, &after, ExportKind::Visits), ["v-zhao-1"]);
    assert_eq!(visit_ids(&store, &after, ExportKind::Photos), ["v-zhao-1"]);

    // A supervisor's team: sup-wang has li and zhao, sup-liu has chen.
    let wang = ExportFilter::from_query("team_of=sup-wang").unwrap();
    assert_eq!(
        visit_ids(&store, &wang, ExportKind::Visits),
        ["v-li-1", "v-zhao-1"]
    );
    assert_eq!(
        visit_ids(&store, &wang, ExportKind::Answers),
        ["v-li-1", "v-zhao-1"]
    );
    let liu = ExportFilter::from_query("team_of=sup-liu").unwrap();
    assert_eq!(visit_ids(&store, &liu, ExportKind::Visits), ["v-chen-1"]);
    let exc = csv_rows(&export_csv(&store, ExportKind::Exceptions, &liu).unwrap());
    assert!(exc[1..].iter().all(|r| r[4] == "rep-chen"), "{exc:?}");

    let west = ExportFilter::from_query("territory=shanghai-west").unwrap();
    assert_eq!(visit_ids(&store, &west, ExportKind::Visits), ["v-zhao-1"]);
    let st2 = ExportFilter::from_query("store_id=st-002").unwrap();
    assert_eq!(visit_ids(&store, &st2, ExportKind::Visits), ["v-chen-1"]);
    let none = ExportFilter::from_query("team_of=sup-wang&territory=shanghai-east&from=2026-11-21").unwrap();
    assert!(visit_ids(&store, &none, ExportKind::Visits).is_empty());

    // The workbook honours the filter too.
    let book = sheets(&export_xlsx(&store, &wang).unwrap());
    assert_eq!(book["Visits"].len(), 3);
    assert_eq!(book["Photos"].len(), 3);

    // Bad filters are typed errors.
    assert!(ExportFilter::from_query("from=2026-02-30").is_err());
    assert!(ExportFilter::from_query("colour=red").is_err());
    let bad = ExportFilter {
        to: Some("tomorrow".into()),
        ..Default::default()
    };
    assert!(export_xlsx(&store, &bad).is_err());
    assert!(ExportKind::parse("reviews").is_err());
    assert_eq!(ExportKind::parse("Answers").unwrap(), ExportKind::Answers);
    assert_eq!(ExportFilter::from_query(&wang.to_query()).unwrap(), wang);
}

// --- import ------------------------------------------------------------------------------------

enum C {
    S(&'static str),
    N(f64),
    B(bool),
    D(&'static str),
    /// A time-of-day cell (Excel keeps it as a fraction of a day).
    T(f64),
}

fn workbook(sheets: &[(&str, &[&[C]])]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let date = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
    let time = rust_xlsxwriter::Format::new().set_num_format("hh:mm");
    for (name, rows) in sheets {
        let ws = book.add_worksheet();
        ws.set_name(*name).unwrap();
        for (r, row) in rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                let (r, c) = (r as u32, c as u16);
                match cell {
                    C::S("") => {}
                    C::S(s) => {
                        ws.write_string(r, c, *s).unwrap();
                    }
                    C::N(n) => {
                        ws.write_number(r, c, *n).unwrap();
                    }
                    C::B(b) => {
                        ws.write_boolean(r, c, *b).unwrap();
                    }
                    C::D(d) => {
                        let serial = utc(d, 0, 0) as f64 / DAY as f64 + 25_569.0;
                        ws.write_number_with_format(r, c, serial, &date).unwrap();
                    }
                    C::T(t) => {
                        ws.write_number_with_format(r, c, *t, &time).unwrap();
                    }
                }
            }
        }
    }
    book.save_to_buffer().unwrap()
}

use C::{B, D, N, S, T};

const STORE_HEADER: &[C] = &[
    S("code"),
    S("name"),
    S("address"),
    S("latitude"),
    S("longitude"),
    S("geofence_radius_m"),
    S("territory"),
    S("geofence_mode"),
];

fn good_workbook() -> Vec<u8> {
    workbook(&[
        ("说明", &[&[S("Fill in the sheets Stores, Products, Plans")]]),
        (
            "Stores",
            &[
                STORE_HEADER,
                &[
                    S("SH-E-004"),
                    S("罗森（陆家嘴店）"),
                    S("上海市浦东新区陆家嘴环路1号"),
                    N(31.2400),
                    N(121.5000),
                    N(120.0),
                    S("shanghai-east"),
                    S("block"),
                ],
                // Updates st-001 (same code): keeps its id.
                &[
                    S("SH-E-001"),
                    S("联华超市（浦东南路旗舰店）"),
                    S(""),
                    N(31.2304),
                    N(121.52),
                    N(150.0),
                    S("shanghai-east"),
                    S(""),
                ],
                &[S(""), S(""), S(""), S(""), S(""), S(""), S(""), S("")],
            ],
        ),
        (
            "products",
            &[
                &[
                    S("SKU"),
                    S("Name"),
                    S("brand"),
                    S("is_competitor"),
                    S("reference_price"),
                ],
                &[
                    S("FP-TEA-1L"),
                    S("清茶 1L"),
                    S("Fieldproof Drinks"),
                    B(false),
                    N(6.5),
                ],
                &[S("CP-TEA-1L"), S("竞品绿茶 1L"), S("Rival"), S("是"), S("5.90")],
            ],
        ),
        (
            "计划",
            &[
                &[
                    S("rep_id"),
                    S("store_code"),
                    S("date"),
                    S("template_id"),
                    S("sequence"),
                    S("开始时间"),
                    S("window_end"),
                ],
                &[
                    S("rep-li"),
                    S("SH-E-004"),
                    D("2026-11-24"),
                    S("tpl-store-check"),
                    N(4.0),
                    T(0.375),
                    S("11:30"),
                ],
                &[
                    S("rep-zhao"),
                    S("SH-W-101"),
                    S("2026-11-25"),
                    S("tpl-store-check"),
                    S(""),
                    S(""),
                    S(""),
                ],
            ],
        ),
    ])
}

#[test]
fn good_xlsx_imports_and_feeds_the_phones() {
    let dir = tempfile::tempdir().unwrap();
    let store = test_db::store(dir.path());
    store.load_reference_json(REFERENCE, now_ms()).unwrap();
    let changes_before = store.stats().unwrap().changes;
    let report = import_file(&store, "head-office.xlsx", &good_workbook(), None, now_ms()).unwrap();
    assert_eq!((report.stores, report.products, report.plans), (2, 2, 2));
    let data = store.reference_data().unwrap();
    let new = data.stores.iter().find(|s| s.code == "SH-E-004").unwrap();
    assert_eq!(new.id, "SH-E-004");
    assert_eq!(new.name, "罗森（陆家嘴店）");
    assert_eq!(
        new.geofence_mode,
        Some(fieldproof_core::model::GeofenceMode::Block)
    );
    assert_eq!(new.latitude, 31.24);
    let st1 = data.stores.iter().find(|s| s.id == "st-001").unwrap();
    assert_eq!(st1.name, "联华超市（浦东南路旗舰店）");
    assert_eq!(data.stores.iter().filter(|s| s.code == "SH-E-001").count(), 1);
    let p = data.products.iter().find(|p| p.sku == "FP-TEA-1L").unwrap();
    assert_eq!((p.reference_price_cents, p.is_competitor), (Some(650), false));
    let p = data.products.iter().find(|p| p.sku == "CP-TEA-1L").unwrap();
    assert_eq!((p.reference_price_cents, p.is_competitor), (Some(590), true));
    let plan = data.plans.iter().find(|p| p.store_id == "SH-E-004").unwrap();
    assert_eq!(
        (plan.rep_id.as_str(), plan.date.as_str(), plan.sequence),
        ("rep-li", "2026-11-24", 4)
    );
    // A time cell and a typed time both import as the plan's window.
    assert_eq!(
        (plan.window_start.as_deref(), plan.window_end.as_deref()),
        (Some("09:00"), Some("11:30"))
    );
    let plan = data
        .plans
        .iter()
        .find(|p| p.rep_id == "rep-zhao" && p.date == "2026-11-25")
        .unwrap();
    assert_eq!((plan.store_id.as_str(), plan.sequence), ("st-101", 0));
    assert_eq!(
        (plan.window_start.as_deref(), plan.window_end.as_deref()),
        (None, None)
    );

    // The change feed carries them to the phones.
    let c = db(dir.path());
    let n: i64 = c
        .query_row(
            "SELECT count(*) FROM changes WHERE (kind = 'store' AND id IN ('SH-E-004', 'st-001'))
               OR (kind = 'product' AND id IN ('FP-TEA-1L', 'CP-TEA-1L')) OR (kind = 'plan' AND id = ?1)",
            [&plan.id],
            |r| r.get(0),
        )
        .unwrap();
    assert!(n >= 5, "{n}");
    assert!(store.stats().unwrap().changes >= changes_before + 6);

    // Importing the same file again changes nothing.
    let changes = store.stats().unwrap().changes;
    import_file(&store, "head-office.xlsx", &good_workbook(), None, now_ms()).unwrap();
    assert_eq!(store.stats().unwrap().changes, changes);
}

#[test]
fn good_csv_imports() {
    let dir = tempfile::tempdir().unwrap();
    let store = test_db::store(dir.path());
    store.load_reference_json(REFERENCE, now_ms()).unwrap();
    let stores = "\u{feff}code,name,address,latitude,longitude,geofence_radius_m,territory\r\n\
                  SH-W-102,\"华联超市（虹桥店, 二楼）\",上海市长宁区,31.2,121.4,100,shanghai-west\r\n";
    let r = import_file(
        &store,
        "stores-2026-11.csv",
        stores.as_bytes(),
        Some(ImportKind::Stores),
        now_ms(),
    )
    .unwrap();
    assert_eq!(r.stores, 1);
    let plans =
        "rep_id,store_code,date,template_id,sequence\nrep-zhao,SH-W-102,2026-11-26,tpl-store-check,2\n";
    let r = import_csv(&store, ImportKind::Plans, plans.as_bytes(), now_ms()).unwrap();
    assert_eq!(r.plans, 1);
    let products = "sku,name,brand,is_competitor,reference_price\nFP-JUICE,橙汁,Fieldproof Drinks,no,3\n";
    assert_eq!(
        import_file(
            &store,
            "Products.CSV",
            products.as_bytes(),
            Some(ImportKind::Products),
            now_ms()
        )
        .unwrap()
        .products,
        1
    );
    let data = store.reference_data().unwrap();
    let s = data.stores.iter().find(|s| s.id == "SH-W-102").unwrap();
    assert_eq!(s.name, "华联超市（虹桥店, 二楼）");
    assert!(
        data.plans
            .iter()
            .any(|p| p.store_id == "SH-W-102" && p.sequence == 2)
    );
    assert_eq!(
        data.products
            .iter()
            .find(|p| p.sku == "FP-JUICE")
            .unwrap()
            .reference_price_cents,
        Some(300)
    );
    let n: i64 = db(dir.path())
        .query_row(
            "SELECT count(*) FROM changes WHERE kind = 'store' AND id = 'SH-W-102'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(n >= 1);
}

#[test]
fn bad_plan_windows_are_refused_by_cell() {
    let dir = tempfile::tempdir().unwrap();
    let store = test_db::store(dir.path());
    store.load_reference_json(REFERENCE, now_ms()).unwrap();
    let before = snapshot(&store);
    let plans = "rep_id,store_code,date,template_id,window_start,window_end\n\
                 rep-li,SH-E-001,2026-11-24,tpl-store-check,9h,10:00\n\
                 rep-li,SH-E-002,2026-11-24,tpl-store-check,11:00,10:00\n\
                 rep-li,SH-E-003,2026-11-24,tpl-store-check,,10:00\n\
                 rep-li,SH-E-001,2026-11-25,tpl-store-check,09:00,10:00\n";
    let Err(ImportError::Refused(problems)) =
        import_csv(&store, ImportKind::Plans, plans.as_bytes(), now_ms())
    else {
        panic!("bad windows accepted");
    };
    let codes: Vec<(u32, &str, &str)> = problems
        .iter()
        .map(|p| (p.row, p.column.as_str(), p.code))
        .collect();
    assert_eq!(
        codes,
        vec![
            (2, "window_start", "import_not_time"),
            (3, "window_end", "import_window_order"),
            (4, "window_start", "import_window_half"),
        ],
        "{problems:#?}"
    );
    assert_eq!(snapshot(&store), before, "nothing changed");
}

fn has(problems: &[CellProblem], sheet: &str, row: u32, column: &str) -> bool {
    problems
        .iter()
        .any(|p| p.sheet == sheet && p.row == row && p.column == column)
}

fn snapshot(store: &Store) -> (fieldproof_core::model::ReferenceData, fieldproof_server::Stats) {
    (store.reference_data().unwrap(), store.stats().unwrap())
}

#[test]
fn bad_xlsx_is_refused_whole_with_every_row_named() {
    let (_dir, store) = seeded();
    let before = snapshot(&store);
    let bytes = workbook(&[
        (
            "Stores",
            &[
                STORE_HEADER,
                &[
                    S("SH-E-010"),
                    S("好店"),
                    S(""),
                    N(31.2),
                    N(121.5),
                    N(100.0),
                    S("shanghai-east"),
                    S(""),
                ],
                &[
                    S(""),
                    S("无编码店"),
                    S(""),
                    N(31.2),
                    N(121.5),
                    N(100.0),
                    S("shanghai-east"),
                    S(""),
                ],
                &[
                    S("SH-E-011"),
                    S("纬度错"),
                    S(""),
                    N(200.0),
                    N(121.5),
                    N(100.0),
                    S("shanghai-east"),
                    S(""),
                ],
                &[
                    S("SH-E-010"),
                    S("重复"),
                    S(""),
                    N(31.2),
                    N(121.5),
                    N(100.0),
                    S("shanghai-east"),
                    S(""),
                ],
                &[
                    S("BJ-N-001"),
                    S("北京店"),
                    S(""),
                    N(39.9),
                    N(116.4),
                    N(100.0),
                    S("beijing-north"),
                    S(""),
                ],
                &[
                    S("SH-E-012"),
                    S("数字错"),
                    S(""),
                    S("thirty"),
                    N(121.5),
                    N(100.0),
                    S("shanghai-east"),
                    S("sometimes"),
                ],
            ],
        ),
        (
            "Products",
            &[
                &[S("sku"), S("name"), S("brand"), S("reference_price")],
                &[S("OK-1"), S("好"), S("B"), N(1.0)],
                &[S("BAD-1"), S("价格"), S("B"), S("abc")],
            ],
        ),
        (
            "Plans",
            &[
                &[S("rep_id"), S("store_code"), S("date"), S("template_id")],
                &[S("rep-nobody"), S("NOPE"), S("2026-13-01"), S("tpl-inspection")],
            ],
        ),
    ]);
    let Err(ImportError::Refused(problems)) = import_file(&store, "bad.xlsx", &bytes, None, now_ms()) else {
        panic!("bad file accepted");
    };
    assert!(has(&problems, "Stores", 3, "code"), "{problems:#?}");
    assert!(has(&problems, "Stores", 4, "latitude"), "{problems:#?}");
    assert!(has(&problems, "Stores", 5, "code"), "{problems:#?}");
    assert!(
        problems
            .iter()
            .any(|p| p.row == 5 && p.params.contains(&("first_row", "2".to_string())))
    );
    assert!(has(&problems, "Stores", 6, "territory"), "{problems:#?}");
    assert!(has(&problems, "Stores", 7, "latitude"), "{problems:#?}");
    assert!(has(&problems, "Stores", 7, "geofence_mode"), "{problems:#?}");
    assert!(has(&problems, "Products", 3, "reference_price"), "{problems:#?}");
    for col in ["rep_id", "store_code", "date", "template_id"] {
        assert!(has(&problems, "Plans", 2, col), "{col}: {problems:#?}");
    }
    assert!(
        !problems.iter().any(|p| p.row == 2 && p.sheet == "Stores"),
        "good row flagged: {problems:#?}"
    );
    assert_eq!(problems.len(), 11, "{problems:#?}");
    assert_eq!(snapshot(&store), before, "nothing changed");

    // A file only the core's validation can refuse (a code owned by another store id) is
    // refused too, on its row, and nothing changed.
    let bytes = workbook(&[(
        "Stores",
        &[
            &[
                S("id"),
                S("code"),
                S("name"),
                S("latitude"),
                S("longitude"),
                S("geofence_radius_m"),
                S("territory"),
            ],
            &[
                S("st-new"),
                S("SH-E-050"),
                S("新店"),
                N(31.2),
                N(121.5),
                N(100.0),
                S("shanghai-east"),
            ],
            &[
                S("st-999"),
                S("SH-E-001"),
                S("冒名"),
                N(31.2),
                N(121.5),
                N(100.0),
                S("shanghai-east"),
            ],
        ],
    )]);
    let Err(ImportError::Refused(problems)) = import_file(&store, "x.xlsx", &bytes, None, now_ms()) else {
        panic!("accepted");
    };
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_eq!(
        (problems[0].sheet.as_str(), problems[0].row),
        ("Stores", 3),
        "{problems:#?}"
    );
    assert_eq!(snapshot(&store), before);

    // Missing and unknown header columns.
    let bytes = workbook(&[("Stores", &[&[S("code"), S("nmae")], &[S("X"), S("Y")]])]);
    let Err(ImportError::Refused(problems)) = import_file(&store, "x.xlsx", &bytes, None, now_ms()) else {
        panic!("accepted");
    };
    assert!(
        // A missing column is named by its header in the sheet's language.
        has(&problems, "Stores", 1, "nmae") && has(&problems, "Stores", 1, "Latitude"),
        "{problems:#?}"
    );
    assert_eq!(snapshot(&store), before);
}

#[test]
fn bad_csv_and_unreadable_files_are_refused() {
    let (_dir, store) = seeded();
    let before = snapshot(&store);
    let csv = "code,name,latitude,longitude,geofence_radius_m,territory\n\
               SH-E-020,好店,31.2,121.5,100,shanghai-east\n\
               ,无编码,31.2,121.5,100,shanghai-east\n\
               SH-E-021,纬度,200,121.5,100,shanghai-east\n\
               SH-E-020,重复,31.2,121.5,100,shanghai-east\n\
               GZ-001,广州,23.1,113.3,100,guangzhou\n";
    let Err(ImportError::Refused(problems)) = import_file(
        &store,
        "stores.csv",
        csv.as_bytes(),
        Some(ImportKind::Stores),
        now_ms(),
    ) else {
        panic!("accepted");
    };
    assert!(has(&problems, "Stores", 3, "code"), "{problems:#?}");
    assert!(has(&problems, "Stores", 4, "latitude"), "{problems:#?}");
    assert!(has(&problems, "Stores", 5, "code"), "{problems:#?}");
    assert!(has(&problems, "Stores", 6, "territory"), "{problems:#?}");
    assert_eq!(problems.len(), 4, "{problems:#?}");
    assert_eq!(snapshot(&store), before);

    for (name, bytes) in [
        ("x.xlsx", b"PK\x03\x04 not really".to_vec()),
        ("x.xlsx", b"".to_vec()),
        ("notes.csv", b"a,b\n".to_vec()),
        ("stores.txt", b"a,b\n".to_vec()),
        ("stores.csv", b"code,name\n\xff\xfe\n".to_vec()),
        ("nosheets.xlsx", workbook(&[("Sheet1", &[&[S("code")]])])),
    ] {
        assert!(
            matches!(
                import_file(&store, name, &bytes, None, now_ms()),
                Err(ImportError::Unreadable(_))
            ),
            "{name}"
        );
    }
    assert_eq!(snapshot(&store), before);
}

// --- admin commands ------------------------------------------------------------------------------

fn admin(data: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_fieldproof-server"))
        .env("FIELDPROOF_DATABASE", test_db::database_env(data))
        .arg("--data-dir")
        .arg(data)
        .arg("admin")
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn admin_commands_export_and_import() {
    let (dir, store) = seeded();
    drop(store);
    let out = tempfile::tempdir().unwrap();
    let xlsx = out.path().join("export.xlsx");
    let o = admin(
        dir.path(),
        &[
            "export",
            "--out",
            xlsx.to_str().unwrap(),
            "--team-of",
            "sup-wang",
            "--from",
            "2026-11-20",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let book = sheets(&std::fs::read(&xlsx).unwrap());
    let ids: Vec<_> = book["Visits"][1..].iter().map(|r| r[0].clone()).collect();
    assert_eq!(
        ids,
        [Data::String("v-li-1".into()), Data::String("v-zhao-1".into())]
    );

    let csv_path = out.path().join("answers.csv");
    let o = admin(
        dir.path(),
        &[
            "export-csv",
            "--kind",
            "answers",
            "--out",
            csv_path.to_str().unwrap(),
            "--rep",
            "rep-chen",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let rows = csv_rows(&std::fs::read_to_string(&csv_path).unwrap());
    assert_eq!(rows.len(), 3);
    assert!(rows[1..].iter().all(|r| r[0] == "v-chen-1"));

    let o = admin(
        dir.path(),
        &[
            "export-csv",
            "--kind",
            "reviews",
            "--out",
            csv_path.to_str().unwrap(),
        ],
    );
    assert!(!o.status.success());
    let o = admin(
        dir.path(),
        &["export", "--out", xlsx.to_str().unwrap(), "--from", "20-11-2026"],
    );
    assert!(!o.status.success());

    let good = out.path().join("reference.xlsx");
    std::fs::write(&good, good_workbook()).unwrap();
    let o = admin(dir.path(), &["import", good.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        report,
        json!({"territories": 0, "supervisors": 0, "teams": 0, "reps": 0, "stores": 2, "products": 2, "plans": 2})
    );

    let bad = out.path().join("list.csv");
    std::fs::write(
        &bad,
        "code,name,latitude,longitude,geofence_radius_m,territory\n,x,200,1,100,mars\n",
    )
    .unwrap();
    let changes = test_db::store(dir.path()).stats().unwrap().changes;
    let o = admin(dir.path(), &["import", bad.to_str().unwrap(), "--kind", "stores"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("row 2 column code")
            && err.contains("row 2 column latitude")
            && err.contains("row 2 column territory"),
        "{err}"
    );
    assert_eq!(test_db::store(dir.path()).stats().unwrap().changes, changes);
    let o = admin(dir.path(), &["import", bad.to_str().unwrap()]);
    assert!(!o.status.success(), "a CSV whose name says no kind needs --kind");
}
