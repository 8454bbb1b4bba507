//! Crash-test worker: performs real user actions on a database file in an endless loop and
//! prints `ack <last_seq>` after every committed action. The crash test kills it with SIGKILL
//! at random moments and checks what the file holds.

use fieldproof_core::customers;
use fieldproof_core::*;
use std::io::Write;

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(db), Some(seed)) = (args.next(), args.next()) else {
        eprintln!("usage: crash-worker <database> <seed>");
        std::process::exit(2);
    };
    let seed: u64 = seed.parse().unwrap_or(1);
    if let Err(e) = run(&db, seed) {
        eprintln!("crash-worker: {e}");
        std::process::exit(1);
    }
}

fn run(db: &str, seed: u64) -> Result<()> {
    let core = Core::open(db)?;
    if core.stores(None)?.is_empty() {
        core.load_reference_json(fieldproof_tests::REFERENCE_JSON)?;
        ack(&core)?;
    }
    let photo = std::fs::read(fieldproof_tests::testdata("photo-1920x1080.jpg"))?;
    let mut rng = fastrand(seed);
    let fix = |lat: f64, lon: f64| LocationFix {
        latitude: lat,
        longitude: lon,
        accuracy_m: 12.0,
        provider: LocationProvider::Gps,
        is_mock: false,
        fix_time_ms: SystemClock.wall_ms(),
    };
    loop {
        let (rep, store, lat, lon) = if rng().is_multiple_of(2) {
            ("rep-li", "st-001", 31.2304, 121.52)
        } else {
            ("rep-chen", "st-002", 31.2360, 121.5050)
        };
        let visit = match core.open_visit(rep)? {
            Some(v) => v,
            None => core.check_in(&CheckInRequest {
                user_id: rep.into(),
                store_id: store.into(),
                plan_id: None,
                template_id: None,
                fix: Some(fix(lat, lon)),
            })?,
        };
        ack(&core)?;
        if visit.status == VisitStatus::InProgress {
            // Answering can reveal show-if items, so ask again until nothing is missing.
            loop {
                let missing = core.visit_detail(&visit.id)?.missing;
                if missing.is_empty() {
                    break;
                }
                for m in missing {
                    let item = m.item_id.clone().unwrap_or_default();
                    match m.kind {
                        // This worker never syncs, so it never owes a retake; the arm is the
                        // same capture, naming the request.
                        MissingKind::Photo | MissingKind::RetakePhoto => {
                            core.capture_photo(
                                &CaptureRequest {
                                    visit_id: visit.id.clone(),
                                    item_id: m.item_id.clone(),
                                    kind: PhotoKind::ShelfOverview,
                                    fix: Some(fix(lat, lon)),
                                    utc_offset_minutes: 480,
                                    retake_request_id: m.retake_request_id.clone(),
                                },
                                &photo,
                            )?;
                        }
                        MissingKind::Report => core.save_report(
                            &visit.id,
                            &VisitReport {
                                notes: format!("巡店记录 {}", rng() % 1000),
                                objections: vec![],
                                next_steps: vec!["follow up".into()],
                                follow_up_date: None,
                            },
                        )?,
                        MissingKind::Answer => {
                            let value = match item.as_str() {
                                "shelf_ok" => AnswerValue::YesNo {
                                    value: !rng().is_multiple_of(3),
                                },
                                "shelf_issue" => AnswerValue::Choice {
                                    choice_id: "wrong_place".into(),
                                },
                                "facings" => AnswerValue::Number {
                                    value: (rng() % 8) as f64,
                                },
                                "own_price" => AnswerValue::Price { cents: 400 },
                                "backroom" => AnswerValue::Choice {
                                    choice_id: "low".into(),
                                },
                                _ => AnswerValue::Text { value: "ok".into() },
                            };
                            core.answer(&visit.id, &item, &value, None)?;
                        }
                        // Stage evidence is a customer's; a visit never misses it.
                        MissingKind::EvidencePhoto
                        | MissingKind::EvidenceFollowUp
                        | MissingKind::EvidenceField
                        | MissingKind::Reason => {
                            return Err(Error::Internal(format!("a visit misses {:?}", m.kind)));
                        }
                    }
                    ack(&core)?;
                }
            }
            // A competitor price, sometimes with a gap, sometimes corrected.
            core.answer(
                &visit.id,
                "comp_price",
                &AnswerValue::Price {
                    cents: 250 + (rng() % 200) as i64,
                },
                None,
            )?;
            ack(&core)?;
            core.complete_visit(&visit.id)?;
            ack(&core)?;
        }
        core.check_out(&visit.id, Some(&fix(lat, lon)))?;
        ack(&core)?;
        if rep == "rep-li" && rng().is_multiple_of(2) {
            core.review_visit("sup-wang", &visit.id, ReviewVerdict::Accept, "ok")?;
            ack(&core)?;
        }
        pipeline_round(&core, rep, &photo, fix(lat, lon), &mut rng)?;
    }
}

/// A customer through the pipeline: entered, a follow-up, three stage moves, the evidence photo
/// that unlocks 报价谈判, and the move: each one action (its rows, its op) that a kill must
/// leave whole or absent.
fn pipeline_round(
    core: &Core,
    rep: &str,
    photo: &[u8],
    at: LocationFix,
    rng: &mut impl FnMut() -> u64,
) -> Result<()> {
    let entered = core.create_customer(
        rep,
        &customers::NewCustomer {
            name: format!("客户 {}", rng() % 1_000_000),
            company: None,
            phones: vec![format!("139{:08}", rng() % 100_000_000)],
            contacts: Vec::new(),
            industry: Some("零售".into()),
            region: None,
            budget_cents: None,
            store_id: None,
            from_lead_id: None,
        },
    );
    let customer = match entered {
        Ok(c) => c,
        // A random phone number drawn twice: the phone refuses the second entry, as it should.
        Err(Error::DuplicateCustomer { .. }) => return Ok(()),
        Err(e) => return Err(e),
    };
    ack(core)?;
    core.log_follow_up(
        rep,
        &customers::FollowUpRequest {
            customer_id: Some(customer.id.clone()),
            lead_id: None,
            channel: customers::FollowUpChannel::Call,
            outcome: customers::FollowUpOutcome::Reached,
            note: "电话沟通".into(),
            next_step: None,
            next_date: None,
            visit_id: None,
        },
    )?;
    ack(core)?;
    for to in ["needs", "demo"] {
        core.move_customer_stage(rep, &customer.id, to, None)?;
        ack(core)?;
    }
    core.capture_customer_photo(
        rep,
        &customers::CustomerPhotoRequest {
            customer_id: customer.id.clone(),
            requirement_id: "tech_spec_form".into(),
        },
        Some(&at),
        480,
        photo,
    )?;
    ack(core)?;
    core.move_customer_stage(rep, &customer.id, "negotiation", None)?;
    ack(core)
}

fn ack(core: &Core) -> Result<()> {
    let seq = core.outbox_summary()?.last_seq;
    let mut out = std::io::stdout().lock();
    // The parent reads acks to check durability; a closed pipe just means it is done with us.
    let _ = writeln!(out, "ack {seq}");
    let _ = out.flush();
    Ok(())
}

/// xorshift: enough randomness for choosing actions, no dependency.
fn fastrand(seed: u64) -> impl FnMut() -> u64 {
    let mut s = seed.max(1);
    move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    }
}
