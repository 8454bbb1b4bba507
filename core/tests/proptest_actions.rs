#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Random sequences of user actions, valid and invalid, against the invariants:
//! - the outbox sequence is contiguous from 1 and every op has its rows and every row its op
//!   (`Core::audit`);
//! - a successful action adds at most one op; a refused one changes no row at all;
//! - a rep never has two open visits.

mod common;

use common::*;
use fieldproof_core::*;
use proptest::prelude::*;

const USERS: [&str; 4] = ["rep-li", "rep-chen", "rep-zhao", "sup-wang"];
const STORES: [&str; 4] = ["st-001", "st-002", "st-003", "st-101"];
const ITEMS: [&str; 9] = [
    "shelf_ok",
    "shelf_issue",
    "facings",
    "shelf_photo",
    "own_price",
    "comp_price",
    "backroom",
    "remarks",
    "display_score",
];

#[derive(Debug, Clone)]
enum Step {
    CheckIn {
        user: usize,
        store: usize,
        fix: u8,
    },
    Answer {
        visit: usize,
        item: usize,
        value: u8,
        note: bool,
    },
    Photo {
        visit: usize,
        item: Option<usize>,
        good: bool,
    },
    Report {
        visit: usize,
        good: bool,
    },
    Complete {
        visit: usize,
    },
    CheckOut {
        visit: usize,
    },
    Cancel {
        visit: usize,
        reason: bool,
    },
    Review {
        visit: usize,
        flag: bool,
    },
    Time {
        ms: i64,
        tamper: bool,
    },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (0..4usize, 0..4usize, 0..4u8).prop_map(|(user, store, fix)| Step::CheckIn { user, store, fix }),
        8 => (0..8usize, 0..ITEMS.len(), 0..8u8, any::<bool>())
            .prop_map(|(visit, item, value, note)| Step::Answer { visit, item, value, note }),
        2 => (0..8usize, proptest::option::of(0..ITEMS.len()), any::<bool>())
            .prop_map(|(visit, item, good)| Step::Photo { visit, item, good }),
        2 => (0..8usize, any::<bool>()).prop_map(|(visit, good)| Step::Report { visit, good }),
        2 => (0..8usize).prop_map(|visit| Step::Complete { visit }),
        1 => (0..8usize).prop_map(|visit| Step::CheckOut { visit }),
        1 => (0..8usize, any::<bool>()).prop_map(|(visit, reason)| Step::Cancel { visit, reason }),
        1 => (0..8usize, any::<bool>()).prop_map(|(visit, flag)| Step::Review { visit, flag }),
        1 => (0..600_000i64, any::<bool>()).prop_map(|(ms, tamper)| Step::Time { ms, tamper }),
    ]
}

fn value(v: u8) -> AnswerValue {
    match v {
        0 => yes_no(true),
        1 => yes_no(false),
        2 => number(4.0),
        3 => number(f64::NAN),
        4 => price(300),
        5 => price(400),
        6 => choice("high"),
        _ => choice("out_of_stock"),
    }
}

fn run(h: &Harness, steps: &[Step]) -> std::result::Result<(), TestCaseError> {
    let core = &h.core;
    let store_pos = [
        (31.2304, 121.52),
        (31.2360, 121.5050),
        (31.2280, 121.5290),
        (31.1960, 121.3970),
    ];
    let mut visits: Vec<String> = Vec::new();
    let pick =
        |visits: &Vec<String>, i: usize| visits.get(i % visits.len().max(1)).cloned().unwrap_or_default();
    for s in steps {
        let before = fingerprint(core);
        let result: Result<()> = match s {
            Step::CheckIn { user, store, fix } => {
                let (lat, lon) = store_pos[*store];
                let fix = match fix {
                    0 => Some(fix_near(lat, lon, 20.0, 10.0)),
                    1 => Some(fix_near(lat, lon, 2_000.0, 10.0)),
                    2 => None,
                    _ => Some(fix_near(f64::NAN, lon, 0.0, 10.0)),
                };
                check_in(core, USERS[*user], STORES[*store], fix).map(|v| visits.push(v.id))
            }
            Step::Answer {
                visit,
                item,
                value: v,
                note,
            } => core
                .answer(
                    &pick(&visits, *visit),
                    ITEMS[*item],
                    &value(*v),
                    note.then_some("议价说明"),
                )
                .map(drop),
            Step::Photo { visit, item, good } => {
                let bytes = if *good { photo_bytes() } else { b"GIF89a".to_vec() };
                core.add_photo(
                    &pick(&visits, *visit),
                    item.map(|i| ITEMS[i]),
                    PhotoKind::ShelfOverview,
                    &bytes,
                )
                .map(drop)
            }
            Step::Report { visit, good } => {
                let mut r = report();
                if !good {
                    r.follow_up_date = Some("2026-02-30".into());
                }
                core.save_report(&pick(&visits, *visit), &r)
            }
            Step::Complete { visit } => core.complete_visit(&pick(&visits, *visit)).map(drop),
            Step::CheckOut { visit } => core.check_out(&pick(&visits, *visit), None).map(drop),
            Step::Cancel { visit, reason } => core
                .cancel_visit(&pick(&visits, *visit), if *reason { "closed" } else { "" })
                .map(drop),
            Step::Review { visit, flag } => {
                let verdict = if *flag {
                    ReviewVerdict::Flag
                } else {
                    ReviewVerdict::Accept
                };
                core.review_visit("sup-wang", &pick(&visits, *visit), verdict, "looked at it")
                    .map(drop)
            }
            Step::Time { ms, tamper } => {
                if *tamper {
                    h.clock.set_wall(h.clock.wall_ms() - ms * 20);
                } else {
                    h.clock.advance(*ms);
                }
                Ok(())
            }
        };
        let after = fingerprint(core);
        match &result {
            Err(e) => {
                prop_assert_eq!(&after, &before, "refused {:?} ({}) changed rows", s, e);
                prop_assert_ne!(e.code(), "internal", "{:?}: {}", s, e);
                prop_assert_ne!(e.code(), "storage", "{:?}: {}", s, e);
            }
            Ok(()) => {
                let added = after.1.last_seq - before.1.last_seq;
                prop_assert!((0..=1).contains(&added), "{:?} added {} ops", s, added);
            }
        }
        let audit = core.audit().unwrap();
        prop_assert!(audit.is_clean(), "after {:?}: {:?}", s, audit.problems);
        for u in USERS {
            let open = core.open_visit(u).unwrap();
            let n = visits
                .iter()
                .filter(|v| {
                    let v = core.visit(v).unwrap();
                    v.user_id == u && v.status.is_open()
                })
                .count();
            prop_assert!(
                n <= 1 && (n == 1) == open.is_some(),
                "{} has {} open visits",
                u,
                n
            );
        }
    }
    let ops = core.pending_ops(100_000).unwrap();
    prop_assert_eq!(
        ops.iter().map(|o| o.seq).collect::<Vec<_>>(),
        (1..=ops.len() as i64).collect::<Vec<_>>()
    );
    prop_assert!(
        ops.windows(2).all(|w| w[0].time.hlc < w[1].time.hlc),
        "HLC strictly increases"
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn random_action_sequences_keep_the_invariants(steps in proptest::collection::vec(step(), 1..60)) {
        let h = harness(Backend::Memory);
        run(&h, &steps)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]

    #[test]
    fn the_same_holds_on_a_file_database(steps in proptest::collection::vec(step(), 1..40)) {
        let h = harness(Backend::File);
        run(&h, &steps)?;
    }
}
