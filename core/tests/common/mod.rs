#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]
//! Shared by the core's integration tests: the fixture, a core on either backend, fixes.

use std::path::PathBuf;
use std::sync::Arc;

use fieldproof_core::*;

pub const REFERENCE_JSON: &str = include_str!("../../../tests/fixtures/reference.json");
pub const DAY: &str = "2026-11-23";
/// 2026-11-23 09:00 Shanghai time.
pub const T0: i64 = 1_795_395_600_000;

pub struct Harness {
    pub core: Core,
    pub clock: ManualClock,
    /// Keeps the file database's folder alive.
    pub dir: Option<tempfile::TempDir>,
}

impl Harness {
    pub fn db_path(&self) -> Option<PathBuf> {
        self.dir.as_ref().map(|d| d.path().join("fieldproof.db"))
    }
}

#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Memory,
    File,
}

pub fn harness(backend: Backend) -> Harness {
    let clock = ManualClock::new(T0, 3_600_000);
    let (core, dir) = match backend {
        Backend::Memory => {
            let dir = tempfile::tempdir().unwrap();
            let core = Core::open_with(
                None,
                CoreOptions {
                    clock: Arc::new(clock.clone()),
                    photo_dir: Some(dir.path().join("photos")),
                    cjk_font: None,
                    sealer: None,
                },
            )
            .unwrap();
            (core, Some(dir))
        }
        Backend::File => {
            let dir = tempfile::tempdir().unwrap();
            let core = Core::open_with(
                Some(&dir.path().join("fieldproof.db")),
                CoreOptions {
                    clock: Arc::new(clock.clone()),
                    photo_dir: None,
                    cjk_font: None,
                    sealer: None,
                },
            )
            .unwrap();
            (core, Some(dir))
        }
    };
    core.load_reference_json(REFERENCE_JSON).unwrap();
    Harness { core, clock, dir }
}

pub fn reference() -> ReferenceData {
    serde_json::from_str(REFERENCE_JSON).unwrap()
}

/// A fix `north_m` metres north of the given point.
pub fn fix_near(lat: f64, lon: f64, north_m: f64, accuracy_m: f64) -> LocationFix {
    LocationFix {
        latitude: lat + north_m / 111_195.0,
        longitude: lon,
        accuracy_m,
        provider: LocationProvider::Gps,
        is_mock: false,
        fix_time_ms: T0,
    }
}

/// A good fix at store st-001 (联华超市).
pub fn fix_st001() -> LocationFix {
    fix_near(31.2304, 121.5200, 0.0, 10.0)
}

pub fn check_in(core: &Core, user: &str, store: &str, fix: Option<LocationFix>) -> Result<Visit> {
    core.check_in(&CheckInRequest {
        user_id: user.into(),
        store_id: store.into(),
        plan_id: None,
        template_id: None,
        fix,
    })
}

pub fn yes_no(v: bool) -> AnswerValue {
    AnswerValue::YesNo { value: v }
}
pub fn number(v: f64) -> AnswerValue {
    AnswerValue::Number { value: v }
}
pub fn price(c: i64) -> AnswerValue {
    AnswerValue::Price { cents: c }
}
pub fn choice(c: &str) -> AnswerValue {
    AnswerValue::Choice { choice_id: c.into() }
}

/// The real 1920x1080 camera photo from the repository's `tests/data/`.
pub fn photo_bytes() -> Vec<u8> {
    static PHOTO: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    PHOTO
        .get_or_init(|| {
            let p = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/photo-1920x1080.jpg");
            std::fs::read(p).expect("tests/data/photo-1920x1080.jpg in the repository")
        })
        .clone()
}

pub fn capture_request(visit: &str, item: Option<&str>, kind: PhotoKind) -> CaptureRequest {
    CaptureRequest {
        visit_id: visit.into(),
        item_id: item.map(str::to_string),
        kind,
        fix: Some(fix_st001()),
        utc_offset_minutes: 480,
        retake_request_id: None,
    }
}

/// `add_photo` in the tests' words: a capture at st-001 in Shanghai time.
pub trait CaptureExt {
    fn add_photo(&self, visit: &str, item: Option<&str>, kind: PhotoKind, jpeg: &[u8]) -> Result<Photo>;
}

impl CaptureExt for Core {
    fn add_photo(&self, visit: &str, item: Option<&str>, kind: PhotoKind, jpeg: &[u8]) -> Result<Photo> {
        Ok(self
            .capture_photo(&capture_request(visit, item, kind), jpeg)?
            .photo)
    }
}

pub fn report() -> VisitReport {
    VisitReport {
        notes: "店长同意增加一个端架陈列。".into(),
        objections: vec![Objection {
            kind: ObjectionKind::Price,
            detail: "competitor runs a 2-for-1".into(),
        }],
        next_steps: vec!["deliver end-cap display".into()],
        follow_up_date: Some("2026-11-30".into()),
    }
}

/// Answer every required item of the standard store check (planogram followed).
pub fn fill_store_check(core: &Core, visit: &str) {
    core.answer(visit, "shelf_ok", &yes_no(true), None).unwrap();
    core.answer(visit, "facings", &number(6.0), None).unwrap();
    core.answer(visit, "own_price", &price(400), None).unwrap();
    core.answer(visit, "backroom", &choice("high"), None).unwrap();
    core.add_photo(
        visit,
        Some("shelf_photo"),
        PhotoKind::ShelfOverview,
        &photo_bytes(),
    )
    .unwrap();
    core.save_report(visit, &report()).unwrap();
}

/// Row counts of every table, the outbox summary and the open flags: equal before and after a
/// refused action.
pub fn fingerprint(core: &Core) -> (Vec<(String, i64)>, OutboxSummary, usize) {
    (
        core.table_row_counts().unwrap(),
        core.outbox_summary().unwrap(),
        core.open_exceptions(100_000).unwrap().len(),
    )
}

/// Expands one test body into a memory-database and a file-database test.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, |$h:ident| $body:block) => {
        mod $name {
            use super::*;
            fn run($h: common::Harness) $body
            #[test]
            fn memory() {
                run(common::harness(common::Backend::Memory))
            }
            #[test]
            fn file() {
                run(common::harness(common::Backend::File))
            }
        }
    };
}
