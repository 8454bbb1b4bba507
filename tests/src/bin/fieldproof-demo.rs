//! The demo: a rep's day (and her supervisor's) on a fresh local database, with the embedded
//! Shanghai reference data. No set-up, no network. Prints what happened: visits, flags, locked
//! completions, scores, the outbox.
//!
//! `cargo run --release --bin fieldproof-demo [-- --db PATH]`

use std::sync::Arc;

use fieldproof_core::*;

const HOUR: i64 = 3_600_000;
const MIN: i64 = 60_000;

fn main() {
    if let Err(e) = run() {
        eprintln!("demo failed: [{}] {e}", e.code());
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    let db = match std::env::args().skip_while(|a| a != "--db").nth(1) {
        Some(p) => std::path::PathBuf::from(p),
        None => std::env::temp_dir().join(format!("fieldproof-demo-{}.db", std::process::id())),
    };
    // The demo day starts today at 09:00 Shanghai time, on a clock the demo moves by hand.
    let now = SystemClock.wall_ms();
    let today_utc_midnight = now - now.rem_euclid(24 * HOUR);
    let clock = ManualClock::new(today_utc_midnight + HOUR, 2 * HOUR);
    let day = clock::civil_date(today_utc_midnight, 0);
    let core = Core::open_with(
        Some(&db),
        CoreOptions {
            clock: Arc::new(clock.clone()),
            photo_dir: None,
            cjk_font: None,
        },
    )?;

    let mut reference: ReferenceData = serde_json::from_str(fieldproof_tests::REFERENCE_JSON)
        .map_err(|e| Error::Internal(format!("embedded reference data: {e}")))?;
    for p in &mut reference.plans {
        p.date = day.clone();
    }
    let loaded = core.load_reference_data(&reference)?;
    println!("Fieldproof demo — database {}", db.display());
    println!(
        "Reference data loaded: {} users, {} stores, {} products, {} templates, {} plan lines\n",
        loaded.users, loaded.stores, loaded.products, loaded.templates, loaded.plans
    );

    println!("李娜 (rep-li), plan for {day}:");
    for stop in core.day_plan("rep-li", &day)? {
        println!(
            "  {}. {} {} — {:?}",
            stop.sequence, stop.store.code, stop.store.name, stop.status
        );
    }
    let photo = fieldproof_tests::demo_photo();
    // Chinese store names need a CJK font on the watermark; use the system's if it has one.
    if let Some(font) = fieldproof_tests::system_cjk_font() {
        core.set_cjk_font_file(&font, 0)?;
        println!("\nWatermark font for Chinese: {}", font.display());
    }
    let shot = |visit: &str, f: LocationFix| CaptureRequest {
        visit_id: visit.into(),
        item_id: Some("shelf_photo".into()),
        kind: PhotoKind::ShelfOverview,
        fix: Some(f),
        utc_offset_minutes: 480,
    };
    let fix = |lat: f64, lon: f64, north_m: f64, mock: bool| LocationFix {
        latitude: lat + north_m / 111_195.0,
        longitude: lon,
        accuracy_m: 12.0,
        provider: LocationProvider::Fused,
        is_mock: mock,
        fix_time_ms: clock.wall_ms(),
    };
    let planned = |plan: &str, store: &str, f: LocationFix| CheckInRequest {
        user_id: "rep-li".into(),
        store_id: store.into(),
        plan_id: Some(plan.into()),
        template_id: None,
        fix: Some(f),
    };

    // --- Stop 1: a clean visit, with a price gap that gets its negotiation note -----------------
    println!("\n[09:00] Stop 1 — 联华超市（浦东南路店）");
    let v1 = core.check_in(&planned("plan-li-1", "st-001", fix(31.2304, 121.52, 30.0, false)))?;
    println!(
        "  check-in: geofence {}, {:.0} m, flags {}",
        v1.geofence.as_str(),
        v1.distance_m.unwrap_or(0.0),
        flags(&v1.flags)
    );
    clock.advance(4 * MIN);
    core.answer(&v1.id, "shelf_ok", &AnswerValue::YesNo { value: true }, None)?;
    core.answer(&v1.id, "facings", &AnswerValue::Number { value: 5.0 }, None)?;
    core.answer(&v1.id, "own_price", &AnswerValue::Price { cents: 400 }, None)?;
    let out = core.answer(&v1.id, "comp_price", &AnswerValue::Price { cents: 300 }, None)?;
    println!("  competitor price 3.00 vs own 4.00 → {}", flags(&out.flags));
    match core.complete_visit(&v1.id) {
        Err(Error::CompletionLocked { missing, .. }) => {
            println!("  complete → locked, missing: {}", missing_list(&missing))
        }
        other => println!("  complete → unexpected: {other:?}"),
    }
    let out = core.answer(
        &v1.id,
        "comp_price",
        &AnswerValue::Price { cents: 300 },
        Some("竞品买一送一促销，已与店长议价"),
    )?;
    println!("  negotiation note added → open flags: {}", flags(&out.flags));
    core.answer(
        &v1.id,
        "backroom",
        &AnswerValue::Choice {
            choice_id: "low".into(),
        },
        None,
    )?;
    let shelf = core
        .capture_photo(&shot(&v1.id, fix(31.2304, 121.52, 25.0, false)), &photo)?
        .photo;
    let verdict = core.verify_photo(&shelf.id)?;
    println!(
        "  shelf photo stamped and signed: 防伪码 {}, {}x{}, {} bytes, verified {}",
        shelf.evidence_code.as_deref().unwrap_or("-"),
        shelf.width.unwrap_or(0),
        shelf.height.unwrap_or(0),
        shelf.byte_len,
        verdict.verified
    );
    println!("  photo file: {}", shelf.path);
    core.save_report(
        &v1.id,
        &VisitReport {
            notes: "店长同意下周增加一个端架陈列。".into(),
            objections: vec![Objection {
                kind: ObjectionKind::Price,
                detail: "竞品促销力度大".into(),
            }],
            next_steps: vec!["送端架物料".into()],
            follow_up_date: Some(day.clone()),
        },
    )?;
    clock.advance(20 * MIN);
    let done = core.complete_visit(&v1.id)?;
    println!("  complete → score {:.1}", done.score.unwrap_or(0.0));
    core.check_out(&v1.id, Some(&fix(31.2304, 121.52, 20.0, false)))?;

    // --- Stop 2: mock GPS from down the road, shelf not to plan, clock set back ------------------
    clock.advance(40 * MIN);
    println!("\n[10:05] Stop 2 — 全家便利店（世纪大道店）");
    let v2 = core.check_in(&planned(
        "plan-li-2",
        "st-002",
        fix(31.2360, 121.5050, 650.0, true),
    ))?;
    println!(
        "  check-in: geofence {}, {:.0} m, flags {}",
        v2.geofence.as_str(),
        v2.distance_m.unwrap_or(0.0),
        flags(&v2.flags)
    );
    let out = core.answer(&v2.id, "shelf_ok", &AnswerValue::YesNo { value: false }, None)?;
    println!(
        "  planogram not followed → still missing: {}",
        missing_list(&out.missing)
    );
    core.answer(
        &v2.id,
        "shelf_issue",
        &AnswerValue::Choice {
            choice_id: "out_of_stock".into(),
        },
        None,
    )?;
    core.answer(&v2.id, "facings", &AnswerValue::Number { value: 1.0 }, None)?;
    core.answer(&v2.id, "own_price", &AnswerValue::Price { cents: 420 }, None)?;
    core.answer(
        &v2.id,
        "backroom",
        &AnswerValue::Choice {
            choice_id: "none".into(),
        },
        None,
    )?;
    let reused = core.capture_photo(&shot(&v2.id, fix(31.2360, 121.5050, 650.0, true)), &photo)?;
    println!(
        "  the same shelf photo as stop 1 submitted again → {}",
        flags(&reused.flags)
    );
    clock.set_wall(clock.wall_ms() - 2 * HOUR);
    println!("  (the phone's clock is set back two hours)");
    core.save_report(
        &v2.id,
        &VisitReport {
            notes: "断货，门店要求补货。".into(),
            objections: vec![Objection {
                kind: ObjectionKind::Delivery,
                detail: "上次配送晚了三天".into(),
            }],
            next_steps: vec!["通知经销商补货".into()],
            follow_up_date: None,
        },
    )?;
    let done = core.complete_visit(&v2.id)?;
    println!(
        "  complete → score {:.1}, flags {}",
        done.score.unwrap_or(0.0),
        flags(&done.flags)
    );
    core.check_out(&v2.id, None)?;
    clock.set_wall(clock.wall_ms() + 2 * HOUR);
    println!("  (the clock is put right again: that move is flagged too, on the next visit)");

    // --- Stop 3: block-mode store refuses a check-in from outside; the store is closed ------------
    clock.advance(30 * MIN);
    println!("\n[11:00] Stop 3 — 好德便利（张杨路店）, geofence in block mode");
    match core.check_in(&planned(
        "plan-li-3",
        "st-003",
        fix(31.2280, 121.5290, 800.0, false),
    )) {
        Err(e) => println!("  check-in from 800 m → refused [{}]: {e}", e.code()),
        Ok(_) => println!("  check-in from 800 m → unexpectedly accepted"),
    }
    let v3 = core.check_in(&planned(
        "plan-li-3",
        "st-003",
        fix(31.2280, 121.5290, 15.0, false),
    ))?;
    println!("  check-in at the door: geofence {}", v3.geofence.as_str());
    match core.answer(
        &v3.id,
        "facings",
        &AnswerValue::Text { value: "six".into() },
        None,
    ) {
        Err(e) => println!("  a text answer to a number item → refused [{}]", e.code()),
        Ok(_) => println!("  wrong kind unexpectedly accepted"),
    }
    core.cancel_visit(&v3.id, "门店装修，暂停营业")?;
    println!("  cancelled: store closed for renovation");

    // --- The supervisor ---------------------------------------------------------------------------
    clock.advance(2 * HOUR);
    println!("\n[14:00] 王磊 (sup-wang), supervisor");
    core.review_visit(
        "sup-wang",
        &v2.id,
        ReviewVerdict::Flag,
        "虚拟定位 + 时间异常，请解释",
    )?;
    core.review_visit("sup-wang", &v1.id, ReviewVerdict::Accept, "")?;
    println!("  reviewed stop 1: accepted; stop 2: flagged");
    let insp = core.check_in(&CheckInRequest {
        user_id: "sup-wang".into(),
        store_id: "st-001".into(),
        plan_id: None,
        template_id: None,
        fix: Some(fix(31.2304, 121.52, 10.0, false)),
    })?;
    core.answer(
        &insp.id,
        "display_score",
        &AnswerValue::Choice {
            choice_id: "good".into(),
        },
        None,
    )?;
    core.answer(
        &insp.id,
        "pop_material",
        &AnswerValue::YesNo { value: false },
        None,
    )?;
    let insp = core.complete_visit(&insp.id)?;
    core.check_out(&insp.id, None)?;
    println!(
        "  own inspection of SH-E-001 → score {:.1}",
        insp.score.unwrap_or(0.0)
    );

    // --- What the phone now holds -------------------------------------------------------------------
    println!("\nPlan at the end of the day:");
    for stop in core.day_plan("rep-li", &day)? {
        println!("  {}. {} — {:?}", stop.sequence, stop.store.code, stop.status);
    }
    println!("\nVisits at SH-E-001 (store history):");
    for v in core.store_history("st-001", 10)? {
        println!(
            "  {:?} by {} — {} — score {} — flags [{}]",
            v.kind,
            v.user_id,
            v.status.as_str(),
            v.score.map_or("-".into(), |s| format!("{s:.1}")),
            v.flag_codes
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    println!("\nOpen exceptions (异常):");
    for e in core.open_exceptions(50)? {
        println!(
            "  {:<22} {} {} — {}",
            e.flag.code.as_str(),
            e.store_id,
            e.user_id,
            e.flag.detail
        );
    }
    let s = core.outbox_summary()?;
    let ops = core.pending_ops(1_000)?;
    let mut kinds: Vec<(String, usize)> = Vec::new();
    for op in &ops {
        match kinds.iter_mut().find(|(k, _)| *k == op.kind) {
            Some((_, n)) => *n += 1,
            None => kinds.push((op.kind.clone(), 1)),
        }
    }
    println!(
        "\nOutbox: {} ops pending for the server (seq 1..{}), {} rejected",
        s.pending, s.last_seq, s.rejected
    );
    for (k, n) in kinds {
        println!("  {k:<18} {n}");
    }
    let audit = core.audit()?;
    println!(
        "Audit: {} ops, {}",
        audit.ops,
        if audit.is_clean() {
            "every action complete, none partial".to_string()
        } else {
            format!("{:?}", audit.problems)
        }
    );
    println!(
        "\nThe database stays at {} for a closer look (sqlite3).",
        db.display()
    );
    Ok(())
}

fn flags(f: &[Flag]) -> String {
    if f.is_empty() {
        return "none".into();
    }
    f.iter().map(|f| f.code.as_str()).collect::<Vec<_>>().join(", ")
}

fn missing_list(m: &[MissingItem]) -> String {
    m.iter()
        .map(|m| match (&m.kind, &m.item_id) {
            (MissingKind::Report, _) => "report".to_string(),
            (MissingKind::Photo, id) => format!("photo {}", id.as_deref().unwrap_or("")),
            (MissingKind::Answer, id) => format!("answer {}", id.as_deref().unwrap_or("")),
        })
        .collect::<Vec<_>>()
        .join(", ")
}
