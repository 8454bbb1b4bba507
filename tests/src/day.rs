//! Simulated field days on real cores: a rep's store checks (check-in, every answer, shelf
//! photos, report, completion, check-out) and a supervisor's inspections, with the kinds of
//! trouble head office wants caught planted on purpose. Used by the sync tests, the sync
//! benchmark and the demo.

use std::sync::Arc;

use fieldproof_core::*;

pub const MIN: i64 = 60_000;
pub const HOUR: i64 = 60 * MIN;

/// What to plant in a visit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Trouble {
    /// Check in 600 m from the store (the fixture's stores flag, not block, except st-003).
    pub outside_geofence: bool,
    /// The OS says the fix came from a mock-location app.
    pub mock_location: bool,
    /// Competitor 25 % cheaper and no note.
    pub price_gap_unexplained: bool,
}

/// What a visit left in the outbox.
#[derive(Debug, Clone, Default)]
pub struct VisitRun {
    pub visit_id: String,
    pub photos: Vec<Photo>,
    pub trouble: Trouble,
}

/// The device clock of a simulated day. `simulated` moves by hand (a day passes in no time);
/// `real_time` follows the real clock, wall and boot together, which is what a phone syncing
/// with a server has: the server flags ops whose time is ahead of its own (`clock_skew`), so a
/// day simulated hours into the future would be all exceptions.
#[derive(Clone)]
pub struct DayClock {
    pub clock: ManualClock,
    follow_real_time: bool,
}

impl DayClock {
    pub fn simulated(start_wall_ms: i64) -> DayClock {
        DayClock {
            clock: ManualClock::new(start_wall_ms, 3 * HOUR),
            follow_real_time: false,
        }
    }

    pub fn real_time() -> DayClock {
        DayClock {
            clock: ManualClock::new(SystemClock.wall_ms(), 3 * HOUR),
            follow_real_time: true,
        }
    }

    /// Let `ms` of the day pass (simulated), or catch up with the real clock.
    pub fn pass(&self, ms: i64) {
        if self.follow_real_time {
            let behind = SystemClock.wall_ms() - self.clock.wall_ms();
            if behind > 0 {
                self.clock.advance(behind);
            }
        } else {
            self.clock.advance(ms);
        }
    }

    pub fn wall_ms(&self) -> i64 {
        self.pass(0);
        self.clock.wall_ms()
    }
}

/// A core on a file database with `clock`, the system's CJK font for the watermark if any.
pub fn open_core(db: &std::path::Path, clock: &DayClock) -> Result<Core> {
    Core::open_with(
        Some(db),
        CoreOptions {
            clock: Arc::new(clock.clock.clone()),
            photo_dir: None,
            cjk_font: crate::system_cjk_font().and_then(|p| std::fs::read(p).ok()),
            sealer: None,
        },
    )
}

pub fn fix_near(store: &Store, north_m: f64, mock: bool, now_ms: i64) -> LocationFix {
    LocationFix {
        latitude: store.latitude + north_m / 111_195.0,
        longitude: store.longitude,
        accuracy_m: 10.0,
        provider: LocationProvider::Fused,
        is_mock: mock,
        fix_time_ms: now_ms,
    }
}

/// A whole store check on `tpl-store-check`: check-in, all answers, `photos.len()` shelf photos,
/// report, completion, check-out. About 10 + photos ops.
pub fn store_check(
    core: &Core,
    clock: &DayClock,
    rep_id: &str,
    store: &Store,
    plan_id: Option<&str>,
    photos: &[Vec<u8>],
    trouble: Trouble,
) -> Result<VisitRun> {
    store_check_with_recounts(core, clock, rep_id, store, plan_id, photos, trouble, 0)
}

/// [`store_check`] where the rep recounts the facings `recounts` more times (each a corrected
/// answer, so one more op): a busier visit for the volume tests.
#[allow(clippy::too_many_arguments)]
pub fn store_check_with_recounts(
    core: &Core,
    clock: &DayClock,
    rep_id: &str,
    store: &Store,
    plan_id: Option<&str>,
    photos: &[Vec<u8>],
    trouble: Trouble,
    recounts: u32,
) -> Result<VisitRun> {
    let away = if trouble.outside_geofence { 600.0 } else { 20.0 };
    let fix = |c: &DayClock| fix_near(store, away, trouble.mock_location, c.wall_ms());
    let visit = core.check_in(&CheckInRequest {
        user_id: rep_id.into(),
        store_id: store.id.clone(),
        plan_id: plan_id.map(str::to_string),
        template_id: if plan_id.is_some() {
            None
        } else {
            Some("tpl-store-check".into())
        },
        fix: Some(fix(clock)),
    })?;
    clock.pass(3 * MIN);
    core.answer(&visit.id, "shelf_ok", &AnswerValue::YesNo { value: true }, None)?;
    core.answer(&visit.id, "facings", &AnswerValue::Number { value: 6.0 }, None)?;
    for n in 0..recounts {
        let value = if n % 2 == 0 { 5.0 } else { 6.0 };
        core.answer(&visit.id, "facings", &AnswerValue::Number { value }, None)?;
    }
    core.answer(&visit.id, "own_price", &AnswerValue::Price { cents: 400 }, None)?;
    let (comp, note) = if trouble.price_gap_unexplained {
        (300, None)
    } else {
        (390, None)
    };
    core.answer(&visit.id, "comp_price", &AnswerValue::Price { cents: comp }, note)?;
    core.answer(
        &visit.id,
        "backroom",
        &AnswerValue::Choice {
            choice_id: "high".into(),
        },
        None,
    )?;
    core.answer(
        &visit.id,
        "remarks",
        &AnswerValue::Text {
            value: "货架整齐".into(),
        },
        None,
    )?;
    let mut taken = Vec::new();
    for bytes in photos {
        clock.pass(MIN);
        let out = core.capture_photo(
            &CaptureRequest {
                visit_id: visit.id.clone(),
                item_id: Some("shelf_photo".into()),
                kind: PhotoKind::ShelfOverview,
                fix: Some(fix(clock)),
                utc_offset_minutes: 480,
                retake_request_id: None,
            },
            bytes,
        )?;
        taken.push(out.photo);
    }
    core.save_report(
        &visit.id,
        &VisitReport {
            notes: "陈列良好，库存充足。".into(),
            objections: vec![],
            next_steps: vec![],
            follow_up_date: None,
        },
    )?;
    clock.pass(10 * MIN);
    match core.complete_visit(&visit.id) {
        Ok(_) => {
            core.check_out(&visit.id, Some(&fix(clock)))?;
        }
        // An unexplained price gap locks completion: the rep leaves it open and cancels, which
        // is also an op head office must see.
        Err(Error::CompletionLocked { .. }) if trouble.price_gap_unexplained => {
            core.cancel_visit(&visit.id, "店长不在，无法确认价格")?;
        }
        Err(e) => return Err(e),
    }
    clock.pass(20 * MIN);
    Ok(VisitRun {
        visit_id: visit.id,
        photos: taken,
        trouble,
    })
}

/// A supervisor's inspection on `tpl-inspection` (no report required).
pub fn inspection(
    core: &Core,
    clock: &DayClock,
    supervisor_id: &str,
    store: &Store,
    photo: Option<&[u8]>,
) -> Result<VisitRun> {
    let visit = core.check_in(&CheckInRequest {
        user_id: supervisor_id.into(),
        store_id: store.id.clone(),
        plan_id: None,
        template_id: Some("tpl-inspection".into()),
        fix: Some(fix_near(store, 15.0, false, clock.wall_ms())),
    })?;
    clock.pass(5 * MIN);
    core.answer(
        &visit.id,
        "display_score",
        &AnswerValue::Choice {
            choice_id: "good".into(),
        },
        None,
    )?;
    core.answer(
        &visit.id,
        "pop_material",
        &AnswerValue::YesNo { value: true },
        None,
    )?;
    let mut taken = Vec::new();
    if let Some(bytes) = photo {
        let out = core.capture_photo(
            &CaptureRequest {
                visit_id: visit.id.clone(),
                item_id: None,
                kind: PhotoKind::DisplayMeasurement,
                fix: Some(fix_near(store, 15.0, false, clock.wall_ms())),
                utc_offset_minutes: 480,
                retake_request_id: None,
            },
            bytes,
        )?;
        taken.push(out.photo);
    }
    core.complete_visit(&visit.id)?;
    core.check_out(&visit.id, Some(&fix_near(store, 15.0, false, clock.wall_ms())))?;
    clock.pass(15 * MIN);
    Ok(VisitRun {
        visit_id: visit.id,
        photos: taken,
        trouble: Trouble::default(),
    })
}

/// The `n`-th of a series of shelf photos that the reuse check tells apart: the shared 1080p
/// camera photo (or the demo's synthetic shelf) under a 6x6 grid of light and dark blocks from a
/// seeded pattern, re-encoded. Patterns are picked greedily so every two photos of the series
/// are at least [`MIN_SERIES_DISTANCE`] apart in perceptual hash; the series is computed once
/// per process.
pub fn distinct_photo(n: u32) -> Vec<u8> {
    static SERIES: std::sync::Mutex<Vec<(u64, u64)>> = std::sync::Mutex::new(Vec::new());
    let base = crate::demo_photo();
    let Ok(mut series) = SERIES.lock() else {
        return base;
    };
    let mut seed = series.last().map_or(0, |(s, _)| s + 1);
    while series.len() <= n as usize {
        let candidate = patterned(&base, seed);
        if let Ok(h) = fieldproof_core::imaging::phash_of_jpeg(&candidate)
            && series
                .iter()
                .all(|(_, o)| fieldproof_core::imaging::hamming(*o, h) >= MIN_SERIES_DISTANCE)
        {
            series.push((seed, h));
        }
        seed += 1;
    }
    patterned(&base, series[n as usize].0)
}

/// Above the reuse threshold (12) with a margin for the watermark bar, which moves every photo's
/// hash the same way (a greedy series of 100 is found in ~15 s at 20; at 24 it takes minutes).
pub const MIN_SERIES_DISTANCE: u32 = 20;

fn patterned(base: &[u8], seed: u64) -> Vec<u8> {
    let Ok(img) = turbojpeg::decompress(base, turbojpeg::PixelFormat::RGB) else {
        return base.to_vec();
    };
    let (w, h) = (img.width, img.height);
    let mut px = img.pixels;
    let mut bits = splitmix64(seed);
    let cells = 6usize;
    // Above the bottom seventh, where the watermark bar goes.
    let top = h * 6 / 7;
    for cy in 0..cells {
        for cx in 0..cells {
            let colour: u16 = if bits & 1 == 1 { 250 } else { 5 };
            bits >>= 1;
            for y in cy * top / cells..(cy + 1) * top / cells {
                for x in cx * w / cells..(cx + 1) * w / cells {
                    // 3/4 block, 1/4 photo: the shelf stays visible.
                    let i = (y * w + x) * 3;
                    for k in 0..3 {
                        px[i + k] = ((colour * 3 + u16::from(px[i + k])) / 4) as u8;
                    }
                }
            }
        }
    }
    let image = turbojpeg::Image {
        pixels: px.as_slice(),
        width: w,
        pitch: w * 3,
        height: h,
        format: turbojpeg::PixelFormat::RGB,
    };
    turbojpeg::compress(image, 88, turbojpeg::Subsamp::Sub2x2)
        .map(|b| b.to_vec())
        .unwrap_or_else(|_| base.to_vec())
}

fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
