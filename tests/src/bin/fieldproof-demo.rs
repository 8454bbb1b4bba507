//! The demo: the sync server with its embedded defaults on loopback, a rep's day on her phone
//! (every rule of the visit flow on show), two more reps' days, all synced to the server in the
//! evening; then the supervisor's phone pulls the team's visits and head office's view of the
//! server is printed, with where to look. No set-up: the embedded Shanghai reference data, a
//! fresh folder under the system's temporary directory.
//!
//! `cargo run --bin fieldproof-demo [-- --dir PATH] [--serve | --no-serve]`, `-- --help` for usage.
//!
//! It ends with the head-office page's address and a demo account, and keeps serving until
//! Ctrl-C when run in a terminal (`--serve` / `--no-serve` decide explicitly; scripts and CI get
//! `--no-serve` by default because their output is not a terminal). Stopped, it prints no link
//! but the command that serves the data again on the same port.

use std::sync::Arc;

use fieldproof_core::customers;
use fieldproof_core::*;
use fieldproof_tests::day::{self, DayClock};
use fieldproof_tests::server::ServerProcess;

const HOUR: i64 = 3_600_000;
const MIN: i64 = 60_000;

const USAGE: &str = "\
Usage: fieldproof-demo [--dir PATH] [--serve | --no-serve]
       cargo run --bin fieldproof-demo [-- OPTIONS]

Starts the sync server (embedded SQLite, loopback, a free port) with the Shanghai reference
data; three reps work a day offline on their phones (check-ins with GPS, store checks, shelf
photos with the evidence watermark, a mock GPS fix, a clock set back, a photo reused) and sync in
the evening; the supervisor's phone pulls the team's visits; prints what the server caught and
where to look, and ends with a one-time link that opens head office's web page signed in.
Takes a few seconds once built; needs no set-up.

Options:
  --dir PATH    folder for the phones' databases and the server's data
                (default: a new folder under the system's temporary directory)
  --serve       keep serving head office's page until Ctrl-C (the default in a terminal)
  --no-serve    stop the server at the end and print how to serve the data again
                (the default when output is not a terminal)
  -h, --help    print this help and exit
";

struct Options {
    dir: Option<std::path::PathBuf>,
    serve: Option<bool>,
}

/// `Ok(None)`: help was asked for. `Err`: what is wrong with the arguments.
fn parse_args(args: impl IntoIterator<Item = String>) -> std::result::Result<Option<Options>, String> {
    let mut opts = Options {
        dir: None,
        serve: None,
    };
    let mut args = args.into_iter();
    while let Some(a) = args.next() {
        match a.as_str() {
            "-h" | "--help" => return Ok(None),
            "--dir" => match args.next() {
                Some(p) if !p.starts_with("--") => opts.dir = Some(p.into()),
                _ => return Err("--dir needs a folder".into()),
            },
            "--serve" | "--no-serve" => {
                let serve = a == "--serve";
                if opts.serve.is_some_and(|s| s != serve) {
                    return Err("--serve and --no-serve together".into());
                }
                opts.serve = Some(serve);
            }
            _ => return Err(format!("unknown argument {a:?}")),
        }
    }
    Ok(Some(opts))
}

fn main() {
    let opts = match parse_args(std::env::args().skip(1)) {
        Ok(Some(opts)) => opts,
        Ok(None) => {
            print!("{USAGE}");
            return;
        }
        Err(e) => {
            eprint!("fieldproof-demo: {e}\n\n{USAGE}");
            std::process::exit(2);
        }
    };
    if let Err(e) = run(opts) {
        eprintln!("demo failed: [{}] {e}", e.code());
        std::process::exit(1);
    }
}

fn run(opts: Options) -> Result<()> {
    let dir = opts
        .dir
        .unwrap_or_else(|| std::env::temp_dir().join(format!("fieldproof-demo-{}", std::process::id())));
    let keep_serving = opts
        .serve
        .unwrap_or_else(|| std::io::IsTerminal::is_terminal(&std::io::stdout()));
    std::fs::create_dir_all(&dir).map_err(|e| Error::Internal(format!("{}: {e}", dir.display())))?;
    let db = dir.join("li.db");

    // The reps' day ran offline earlier today: 09:00 Shanghai time, on a clock the demo moves by
    // hand. It must lie in the past, or the server would rightly call every op's time
    // impossible (`clock_skew`); before 17:00 Shanghai the demo replays yesterday.
    let now = SystemClock.wall_ms();
    let mut day_start = now - now.rem_euclid(24 * HOUR) + HOUR;
    if day_start + 8 * HOUR > now {
        day_start -= 24 * HOUR;
    }
    let clock = ManualClock::new(day_start, 2 * HOUR);
    let day = clock::civil_date(day_start, 480);

    let mut reference: ReferenceData = serde_json::from_str(fieldproof_tests::REFERENCE_JSON)
        .map_err(|e| Error::Internal(format!("embedded reference data: {e}")))?;
    for p in &mut reference.plans {
        p.date = day.clone();
    }

    // --- The server: embedded SQLite and a photo folder, loopback, a free port -------------------
    let server_dir = dir.join("server");
    // SQLite in the folder whatever the test command's switches: the printed hints serve and
    // administer the data folder as it is.
    let mut server = ServerProcess::start_with(&server_dir, "127.0.0.1:0", &[]).map_err(Error::Internal)?;
    let reference_file = dir.join("reference.json");
    std::fs::write(
        &reference_file,
        serde_json::to_string_pretty(&reference).map_err(|e| Error::Internal(e.to_string()))?,
    )
    .map_err(|e| Error::Internal(e.to_string()))?;
    server
        .admin(&["load-reference", &reference_file.to_string_lossy()])
        .map_err(Error::Internal)?;
    println!("Fieldproof demo — folder {}", dir.display());
    println!(
        "Sync server {} (data in {}), reference data loaded by head office.\n",
        server.url(),
        server_dir.display()
    );

    // Her phone was set up with the day's data (the same reference data) and works offline.
    let core = Core::open_with(
        Some(&db),
        CoreOptions {
            clock: Arc::new(clock.clone()),
            photo_dir: None,
            cjk_font: None,
            sealer: None,
        },
    )?;
    let loaded = core.load_reference_data(&reference)?;
    println!(
        "李娜's phone, offline: {} users, {} stores, {} products, {} templates, {} plan lines",
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
        retake_request_id: None,
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

    // --- Lunch: a customer in the pipeline (客户与线索), entered and moved offline ---------------
    println!("\n[12:30] Lunch meeting: 李娜 enters a new customer, offline");
    let prospect = |phone: &str| customers::NewCustomer {
        name: "王建国".into(),
        company: Some("上海禾丰餐饮管理有限公司".into()),
        phones: vec![phone.into()],
        contacts: Vec::new(),
        industry: Some("餐饮".into()),
        region: Some("shanghai-east".into()),
        budget_cents: Some(5_000_000),
        store_id: None,
        from_lead_id: None,
    };
    let customer = core.create_customer("rep-li", &prospect("+86 186-2100-7788"))?;
    println!(
        "  customer entered: 上海禾丰餐饮管理有限公司, stage {}",
        customer.stage
    );
    match core.create_customer("rep-li", &prospect("18621007788")) {
        Err(e) => println!(
            "  the same customer again as 18621007788 → refused [{}]",
            e.code()
        ),
        Ok(_) => println!("  a duplicate unexpectedly accepted"),
    }
    core.log_follow_up(
        "rep-li",
        &customers::FollowUpRequest {
            customer_id: Some(customer.id.clone()),
            lead_id: None,
            channel: customers::FollowUpChannel::Visit,
            outcome: customers::FollowUpOutcome::Meeting,
            note: "需要 20 家门店的冷柜方案".into(),
            next_step: Some("方案演示".into()),
            next_date: Some(day.clone()),
            visit_id: None,
        },
    )?;
    for to in ["needs", "demo"] {
        core.move_customer_stage("rep-li", &customer.id, to, None)?;
    }
    println!("  follow-up logged (meeting, next step 方案演示); moved 意向初探 → 需求确认 → 方案演示");
    match core.move_customer_stage("rep-li", &customer.id, "negotiation", None) {
        Err(e @ Error::StageLocked { .. }) => {
            let missing = match &e {
                Error::StageLocked { missing, .. } => missing_list(missing),
                _ => String::new(),
            };
            println!("  → 报价谈判 refused [{}]: missing {missing}", e.code());
        }
        Err(e) => return Err(e),
        Ok(_) => println!("  → 报价谈判 unexpectedly allowed without its evidence"),
    }
    core.capture_customer_photo(
        "rep-li",
        &customers::CustomerPhotoRequest {
            customer_id: customer.id.clone(),
            requirement_id: "tech_spec_form".into(),
        },
        Some(&fix(31.2304, 121.52, 200.0, false)),
        480,
        &photo,
    )?;
    core.move_customer_stage("rep-li", &customer.id, "negotiation", None)?;
    println!("  the signed 技术参数确认单 photographed (stamped, signed, chained) → 报价谈判 unlocked");

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
    // --- Evening: everyone syncs -----------------------------------------------------------------
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::Internal(e.to_string()))?;
    println!("\n[18:00] Back in signal: 李娜's phone enrols with head office's one-time code and syncs");
    let code = server.enrol_code("rep-li").map_err(Error::Internal)?;
    rt.block_on(core.enrol(&server.url(), &code))?;
    print_sync("李娜", &rt.block_on(core.sync())?);

    // Two more reps' days, also offline and earlier, synced the same way. 赵强 "documents" a
    // second visit with the photo 李娜 took at SH-E-001: only the server, which sees every rep's
    // photos, can catch that.
    let others = [
        ("rep-zhao", "赵强", "st-101", day::Trouble::default()),
        (
            "rep-chen",
            "陈静",
            "st-002",
            day::Trouble {
                outside_geofence: true,
                mock_location: false,
                price_gap_unexplained: false,
            },
        ),
    ];
    for (n, (rep, name, store_id, trouble)) in others.into_iter().enumerate() {
        let clock = DayClock::simulated(day_start + HOUR);
        let phone = day::open_core(&dir.join(format!("{rep}.db")), &clock)?;
        phone.load_reference_data(&reference)?;
        let store = phone
            .stores(None)?
            .into_iter()
            .find(|s| s.id == store_id)
            .ok_or_else(|| Error::Internal(format!("no store {store_id}")))?;
        let first = day::store_check(
            &phone,
            &clock,
            rep,
            &store,
            None,
            &[day::distinct_photo(10 + n as u32)],
            trouble,
        )?;
        let mut photos = first.photos.len();
        if rep == "rep-zhao" {
            let again = day::store_check(
                &phone,
                &clock,
                rep,
                &store,
                None,
                std::slice::from_ref(&photo),
                day::Trouble::default(),
            )?;
            photos += again.photos.len();
        }
        let code = server.enrol_code(rep).map_err(Error::Internal)?;
        rt.block_on(phone.enrol(&server.url(), &code))?;
        let visits = if rep == "rep-zhao" { 2 } else { 1 };
        println!(
            "{name} ({rep}): {visits} visit{} with {photos} photo{} done offline; enrolled",
            if visits == 1 { "" } else { "s" },
            if photos == 1 { "" } else { "s" }
        );
        print_sync(name, &rt.block_on(phone.sync())?);
    }

    // --- The supervisor's phone -------------------------------------------------------------------
    println!("\n王磊 (sup-wang), supervisor: enrols, syncs, and has his team's visits to review offline");
    let sup_clock = DayClock::real_time();
    let sup = day::open_core(&dir.join("sup-wang.db"), &sup_clock)?;
    let code = server.enrol_code("sup-wang").map_err(Error::Internal)?;
    rt.block_on(sup.enrol(&server.url(), &code))?;
    print_sync("王磊", &rt.block_on(sup.sync())?);
    let st001 = sup
        .stores(None)?
        .into_iter()
        .find(|s| s.id == "st-001")
        .ok_or_else(|| Error::Internal("no st-001".into()))?;
    let insp = day::inspection(
        &sup,
        &sup_clock,
        "sup-wang",
        &st001,
        Some(&day::distinct_photo(20)),
    )?;
    println!("  own inspection of SH-E-001 (visit {})", short(&insp.visit_id));
    print_sync("王磊", &rt.block_on(sup.sync())?);
    for v in sup.team_visits(None, 50)? {
        println!(
            "  team visit {} {:<8} {} {:<12} photos {}/{} verified, exceptions [{}]",
            short(&v.visit_id),
            v.rep_id,
            v.store_id,
            v.status,
            v.photos.iter().filter(|p| p.verified).count(),
            v.photos.len(),
            v.exceptions.join(", ")
        );
    }

    // --- A retake: the supervisor sends a photo back; the rep's next visit owes it ----------------
    let sent_back = sup
        .team_visits(Some("rep-zhao"), 50)?
        .into_iter()
        .flat_map(|v| v.photos)
        .next()
        .ok_or_else(|| Error::Internal("no photo of rep-zhao to review".into()))?;
    sup.review_photo(
        "sup-wang",
        &sent_back.photo_id,
        PhotoReviewVerdict::Retake,
        Some("价签被挡住，请重拍整组货架"),
    )?;
    println!(
        "
王磊 asks 赵强 for a retake of a shelf photo at SH-W-001 (a signed op from his phone)"
    );
    print_sync("王磊", &rt.block_on(sup.sync())?);
    // 赵强's phone of the next day (a new device, on the real clock): the request comes down
    // with the pull, and the store's next visit cannot complete without the photo.
    let zhao_clock = DayClock::real_time();
    let zhao = day::open_core(&dir.join("rep-zhao-next-day.db"), &zhao_clock)?;
    let code = server.enrol_code("rep-zhao").map_err(Error::Internal)?;
    rt.block_on(zhao.enrol(&server.url(), &code))?;
    print_sync("赵强", &rt.block_on(zhao.sync())?);
    let zhao_today = clock::civil_date(zhao_clock.wall_ms(), 480);
    let owed = zhao.retake_requests("rep-zhao", &zhao_today)?;
    let request = owed
        .first()
        .ok_or_else(|| Error::Internal("the retake request did not reach the rep".into()))?
        .clone();
    println!(
        "  赵强 owes a retake at {} by {}: “{}” (asked by {})",
        request.store_id, request.due_date, request.reason, request.requested_by
    );
    let st101 = zhao
        .stores(None)?
        .into_iter()
        .find(|s| s.id == request.store_id)
        .ok_or_else(|| Error::Internal("no store of the retake".into()))?;
    match day::store_check(
        &zhao,
        &zhao_clock,
        "rep-zhao",
        &st101,
        None,
        &[day::distinct_photo(30)],
        day::Trouble::default(),
    ) {
        Err(Error::CompletionLocked { missing, .. }) => {
            println!(
                "  next visit: complete → locked, missing: {}",
                missing_list(&missing)
            )
        }
        other => {
            return Err(Error::Internal(format!(
                "the retake did not lock the visit: {other:?}"
            )));
        }
    }
    let next_visit = zhao
        .open_visit("rep-zhao")?
        .ok_or_else(|| Error::Internal("the locked visit is not open".into()))?;
    zhao.capture_photo(
        &CaptureRequest {
            visit_id: next_visit.id.clone(),
            item_id: Some("shelf_photo".into()),
            kind: PhotoKind::ShelfOverview,
            fix: Some(day::fix_near(&st101, 15.0, false, zhao_clock.wall_ms())),
            utc_offset_minutes: 480,
            retake_request_id: Some(request.id.clone()),
        },
        &day::distinct_photo(31),
    )?;
    zhao.complete_visit(&next_visit.id)?;
    zhao.check_out(
        &next_visit.id,
        Some(&day::fix_near(&st101, 15.0, false, zhao_clock.wall_ms())),
    )?;
    println!("  retake photo taken for the request → the visit completes");
    print_sync("赵强", &rt.block_on(zhao.sync())?);

    // --- Head office: what the server holds ---------------------------------------------------------
    let stats = server.stats().map_err(Error::Internal)?;
    println!(
        "\nServer: {} ops from {} devices, {} visits, {} photos ({} verified), {} rejected ops",
        stats["ops"],
        stats["devices"],
        stats["visits"],
        stats["photos"],
        stats["photos_verified"],
        stats["rejected_ops"]
    );
    println!(
        "Exceptions for head office ({} still open; a price gap explained later resolves itself):",
        stats["open_exceptions"]
    );
    if let Some(by_code) = stats["exceptions_by_code"].as_object() {
        for (code, n) in by_code {
            println!("  {code:<24} {n}");
        }
    }
    // --- Evidence anyone can check: the day as one bundle, verified offline ---------------------
    // What a brand auditing its distributor gets: the photos, each entry's signed bytes, the
    // phones' keys; `fieldproof-server verify` needs nothing of the server's. The demo's data
    // has no evidence finding, so anything the check finds fails the demo (and the test command).
    let bundle = dir.join(format!("evidence-{day}.zip"));
    let _ = std::fs::remove_file(&bundle);
    let bundle_text = bundle.to_string_lossy().into_owned();
    server
        .admin(&[
            "export-evidence",
            "--from",
            &day,
            "--to",
            &day,
            "--out",
            &bundle_text,
        ])
        .map_err(Error::Internal)?;
    let verified = std::process::Command::new(server.binary())
        .args(["verify", &bundle_text])
        .output()
        .map_err(|e| Error::Internal(format!("verify: {e}")))?;
    let bytes = std::fs::metadata(&bundle).map(|m| m.len()).unwrap_or(0);
    println!(
        "\nEvidence bundle of the day for a third party ({:.1} MB): {}",
        bytes as f64 / 1_048_576.0,
        bundle.display()
    );
    let report = String::from_utf8_lossy(&verified.stdout);
    // verify's heading (what, when, how much) and its verdict, its last line.
    let lines: Vec<&str> = report.lines().filter(|l| !l.trim().is_empty()).collect();
    for line in lines
        .iter()
        .take(4)
        .chain(lines.last().filter(|_| lines.len() > 4))
    {
        println!("  {line}");
    }
    if !verified.status.success() {
        return Err(Error::Internal(format!(
            "fieldproof-server verify found something in the demo's bundle:\n{report}{}",
            String::from_utf8_lossy(&verified.stderr)
        )));
    }
    println!(
        "  check it yourself: {SERVER_CMD} verify {}",
        shell_word(&bundle_text)
    );

    // Head office's own account for the web pages (issue 5): a fresh password per demo run.
    let password = format!(
        "demo-{}",
        &fieldproof_core::evidence::sha256_hex(format!("{}-{now}", std::process::id()).as_bytes())[..12]
    );
    server
        .admin(&[
            "create-user",
            "--id",
            "demo",
            "--name",
            "总部 Head office (demo)",
            "--role",
            "head_office",
            "--password",
            &password,
        ])
        .map_err(Error::Internal)?;

    // Every command printed from here on works from the repository as printed; the "serve it
    // again" one binds the port of every link above it, so a saved link or bookmark still works.
    let data = shell_word(&server.data_dir().display().to_string());
    let port = server.addr().port();
    let serve_again = format!("{SERVER_CMD} serve --data-dir {data} --addr 127.0.0.1:{port}");
    println!("\nWhere to look:");
    if keep_serving {
        println!(
            "  {}/healthz   {}/metrics   {}/openapi.json",
            server.url(),
            server.url(),
            server.url()
        );
    }
    println!("  server database   {data}/fieldproof.db (sqlite3), photos in {data}/photos/");
    println!("  exception queue   {SERVER_CMD} admin --data-dir {data} exceptions --open");
    println!("  phones            {}/*.db", dir.display());
    println!("  serve it again    {serve_again}");
    if keep_serving {
        let link = server
            .admin(&["sign-in-link", "--user", "demo", "--ttl-minutes", "1440"])
            .map_err(Error::Internal)?;
        println!(
            "\nHead office's page, signed in as the demo user (the link works once, for 24 h):\n  {}{}&next=%2Fapp%2Fexceptions",
            server.url(),
            link.trim()
        );
        println!(
            "  later: {}/app/login   user demo   password {password}",
            server.url()
        );
        println!("Serving until Ctrl-C; afterwards `serve it again` serves the same data on the same port.");
        loop {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        }
    }
    server.terminate().map_err(Error::Internal)?;
    // No link here: nothing answers it once the server has stopped.
    println!("\nThe server has stopped (--no-serve). To see head office's page, serve the data again:");
    println!("  {serve_again}");
    println!(
        "and once it prints `listening on`, sign in at http://127.0.0.1:{port}/app/login   user demo   password {password}"
    );
    Ok(())
}

/// How the demo's hints run the server: from the repository, whatever is on PATH.
const SERVER_CMD: &str = "cargo run -p fieldproof-server --";

/// `s` as one shell word (the demo's folder may have spaces in it).
fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+:=@%,".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

fn short(id: &str) -> &str {
    &id[id.len().saturating_sub(8)..]
}

fn print_sync(who: &str, r: &SyncReport) {
    let mut codes: Vec<&str> = r.exceptions.iter().map(|e| e.code.as_str()).collect();
    codes.sort_unstable();
    codes.dedup();
    println!(
        "  {who} synced: {} ops sent, {} duplicates, {} rejected, {} photos ({} KiB), {} changes pulled; server flagged [{}]",
        r.pushed,
        r.duplicates,
        r.rejected.len(),
        r.photos_sent,
        r.photo_bytes_sent / 1024,
        r.pulled,
        codes.join(", ")
    );
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
            (MissingKind::RetakePhoto, _) => format!("retake photo ({})", m.label),
            (MissingKind::EvidencePhoto, _) => format!("evidence photo ({})", m.label),
            (MissingKind::EvidenceFollowUp, _) => format!("follow-up ({})", m.label),
            (MissingKind::EvidenceField, _) => format!("field ({})", m.label),
            (MissingKind::Reason, _) => "reason".to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}
