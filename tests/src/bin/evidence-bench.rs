//! The capture half of `bench/evidence.sh`: full evidence capture (decode → orient → stamp →
//! encode → hash → sign → store in SQLite + file + chain) of one JPEG, timed over N runs.
//!
//! `evidence-bench <jpeg> <runs> <max-long-edge|full>` prints `median_s <seconds>` and
//! `p90_s <seconds>` (bench/ffi-handoff/run.sh sets the latter beside the Kotlin figures).
//! Run with runs = 1 under `/usr/bin/time -f %M` for the peak memory of one capture.

use std::time::Instant;

use fieldproof_core::*;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(path), Some(runs), Some(edge)) = (args.first(), args.get(1), args.get(2)) else {
        eprintln!("usage: evidence-bench <jpeg> <runs> <max-long-edge|full>");
        std::process::exit(2);
    };
    if let Err(e) = run(path, runs.parse().unwrap_or(5), edge) {
        eprintln!("evidence-bench: [{}] {e}", e.code());
        std::process::exit(1);
    }
}

fn run(path: &str, runs: usize, edge: &str) -> Result<()> {
    let dir = std::env::temp_dir().join(format!("fieldproof-evidence-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let core = Core::open(dir.join("bench.db"))?;
    core.load_reference_json(fieldproof_tests::REFERENCE_JSON)?;
    if let Some(font) = fieldproof_tests::system_cjk_font() {
        core.set_cjk_font_file(&font, 0)?;
    }
    core.set_photo_max_long_edge(if edge == "full" { None } else { edge.parse().ok() })?;
    let fix = LocationFix {
        latitude: 31.2304,
        longitude: 121.52,
        accuracy_m: 8.0,
        provider: LocationProvider::Gps,
        is_mock: false,
        fix_time_ms: SystemClock.wall_ms(),
    };
    let visit = core.check_in(&CheckInRequest {
        user_id: "rep-li".into(),
        store_id: "st-001".into(),
        plan_id: None,
        template_id: None,
        fix: Some(fix.clone()),
    })?;
    let jpeg = std::fs::read(path)?;
    let mut times = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        let out = core.capture_photo(
            &CaptureRequest {
                visit_id: visit.id.clone(),
                item_id: None,
                kind: PhotoKind::ShelfOverview,
                fix: Some(fix.clone()),
                utc_offset_minutes: 480,
                retake_request_id: None,
            },
            &jpeg,
        )?;
        times.push(t.elapsed().as_secs_f64());
        last = Some(out.photo);
    }
    times.sort_by(f64::total_cmp);
    if let Some(p) = last {
        eprintln!(
            "captured {}x{} {} bytes, code {}",
            p.width.unwrap_or(0),
            p.height.unwrap_or(0),
            p.byte_len,
            p.evidence_code.unwrap_or_default()
        );
    }
    println!("median_s {:.4}", times[times.len() / 2]);
    println!("p90_s {:.4}", times[(times.len() - 1) * 9 / 10]);
    drop(core);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
