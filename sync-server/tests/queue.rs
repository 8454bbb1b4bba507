//! The exception queue's read model and workflow (`fieldproof_server::queue`) on a real SQLite
//! database: every filter, search, sort, paging totals past 500 rows, bulk resolve / dismiss /
//! assign / reopen with their history, and the refusals that change nothing (another team's
//! exception, a closed one, a reopen that would duplicate an open finding).
//!
//! The exceptions are seeded straight into the database (ingest raises them in its own tests):
//! this is about listing and changing them.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    // Rows read back from SQLite are compared as plain tuples, column by column.
    clippy::type_complexity
)]

#[path = "support/db.rs"]
mod test_db;

use std::collections::BTreeSet;
use std::path::Path;

use axum::extract::Query;
use fieldproof_server::db::{Connection, params};
use fieldproof_server::queue::{
    self, Actor, QueueAction, QueueError, QueueFilter, QueueItem, QueueSort, SortDir, Status,
};
use fieldproof_server::{Store, now_ms};

const REFERENCE: &str = include_str!("../../tests/fixtures/reference.json");
const CODES: [&str; 5] = [
    "outside_geofence",
    "mock_location",
    "photo_missing",
    "possible_reuse",
    "clock_skew",
];
const REPS: [&str; 3] = ["rep-li", "rep-zhao", "rep-chen"];
/// 2026-11-20, days since 1970-01-01.
const DAY0: i64 = 20_777;
const N: i64 = 620;

fn db(dir: &Path) -> Connection {
    test_db::connect(dir)
}

/// The fixture's people and stores, three web users, and `N` exceptions over a week:
/// exception i has code CODES[i % 5], rep REPS[i % 3] (rep-li and rep-zhao are sup-wang's
/// team, rep-chen sup-liu's), a store of the rep's territory (rep-li: st-001 for even i, st-002
/// for odd), visit day DAY0 + i % 7, and was received the day after; its id is i + 1.
/// Exception i = 7 is about "100%_off" (for the search's wildcards).
fn seeded() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = test_db::store(dir.path());
    store.load_reference_json(REFERENCE, now_ms()).unwrap();
    for (id, name, role, sup) in [
        ("boss", "总部张", "head_office", None),
        ("wang", "王磊", "supervisor", Some("sup-wang")),
        ("liu", "刘洋", "supervisor", Some("sup-liu")),
    ] {
        fieldproof_server::web::auth::create_user(&store, id, name, role, sup, "a-long-password-1", now_ms())
            .unwrap();
    }
    let mut c = db(dir.path());
    let tx = c.transaction().unwrap();
    for i in 0..N {
        let rep = REPS[(i % 3) as usize];
        let store_id = match rep {
            "rep-zhao" => "st-101",
            "rep-chen" => "st-003",
            _ if i % 2 == 0 => "st-001",
            _ => "st-002",
        };
        let day = DAY0 + i % 7;
        let detail = if i == 7 {
            "price 100%_off on the shelf".to_string()
        } else {
            format!("finding number {i}")
        };
        let event = day * 86_400_000 + 2 * 3_600_000;
        tx.execute(
            "INSERT INTO exceptions (code, user_id, visit_id, store_id, subject, detail, created_ms, event_ms, visit_day)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                CODES[(i % 5) as usize],
                rep,
                format!("visit-{i}"),
                store_id,
                format!("subject-{i}"),
                detail,
                event + 86_400_000,
                event,
                day
            ],
        )
        .unwrap();
    }
    tx.commit().unwrap();
    (dir, store)
}

fn boss() -> Actor {
    Actor::head_office("boss")
}

fn wang() -> Actor {
    Actor::supervisor("wang", "sup-wang")
}

fn filter(q: &str) -> QueueFilter {
    let uri: axum::http::Uri = format!("/app/exceptions?{q}").parse().unwrap();
    Query::<QueueFilter>::try_from_uri(&uri).unwrap().0
}

fn all_of(store: &Store, actor: &Actor, q: &str) -> Vec<QueueItem> {
    let mut out = Vec::new();
    let mut page = 1;
    loop {
        let p = queue::list(store, actor, &filter(&format!("{q}&per_page=200&page={page}"))).unwrap();
        let n = p.items.len();
        out.extend(p.items);
        if page >= p.pages {
            assert_eq!(out.len() as u64, p.total);
            return out;
        }
        assert_eq!(n, 200);
        page += 1;
    }
}

fn ids(items: &[QueueItem]) -> BTreeSet<i64> {
    items.iter().map(|i| i.id).collect()
}

/// Everything the workflow writes, to show a refused batch left it as it was.
fn snapshot(
    dir: &Path,
) -> (
    Vec<(i64, String, Option<String>, Option<i64>, Option<String>)>,
    i64,
) {
    let c = db(dir);
    let mut st = c
        .prepare(
            "SELECT id, status, assignee_id, resolved_ms, resolution_comment FROM exceptions ORDER BY id",
        )
        .unwrap();
    let rows = st
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let history: i64 = c
        .query_row("SELECT count(*) FROM exception_history", [], |r| r.get(0))
        .unwrap();
    (rows, history)
}

#[test]
fn paging_counts_every_exception_past_500() {
    let (_dir, store) = seeded();
    let p = queue::list(&store, &boss(), &QueueFilter::default()).unwrap();
    assert_eq!(p.total, N as u64);
    assert_eq!(p.counts.open, N as u64);
    assert_eq!(p.per_page, queue::DEFAULT_PAGE_SIZE);
    assert_eq!(p.items.len(), 50);
    assert_eq!(p.pages, 13);
    let mut seen = BTreeSet::new();
    for page in 1..=4 {
        let p = queue::list(&store, &boss(), &filter(&format!("per_page=200&page={page}"))).unwrap();
        assert_eq!((p.total, p.pages, p.page), (N as u64, 4, page));
        assert_eq!(p.items.len(), if page < 4 { 200 } else { 20 });
        for i in &p.items {
            assert!(seen.insert(i.id), "{} on two pages", i.id);
        }
    }
    assert_eq!(seen.len() as i64, N);
    // Past the end: nothing, and the totals still tell how many there are.
    let p = queue::list(&store, &boss(), &filter("per_page=200&page=5")).unwrap();
    assert!(p.items.is_empty());
    assert_eq!(p.total, N as u64);
    for bad in ["per_page=0", "per_page=201", "page=0"] {
        let e = queue::list(&store, &boss(), &filter(bad)).unwrap_err();
        assert!(
            matches!(e, QueueError::BadPageSize(_) | QueueError::BadPage),
            "{bad}: {e:?}"
        );
    }
}

#[test]
fn rows_carry_names_days_and_state() {
    let (_dir, store) = seeded();
    let items = all_of(&store, &boss(), "q=finding+number+13");
    let i = items.iter().find(|i| i.detail == "finding number 13").unwrap();
    assert_eq!(i.code, CODES[3]);
    assert_eq!(i.rep_id.as_deref(), Some("rep-zhao"));
    assert_eq!(i.rep_name.as_deref(), Some("赵强"));
    assert_eq!(i.store_code.as_deref(), Some("SH-W-101"));
    assert_eq!(i.store_name.as_deref(), Some("家乐福（古北店）"));
    assert_eq!(i.territory.as_deref(), Some("shanghai-west"));
    assert_eq!(i.visit_day, DAY0 + 6);
    assert_eq!(i.visit_date, "2026-11-26");
    assert_eq!(i.received_ms - i.event_ms, 86_400_000);
    assert_eq!(i.status, Status::Open);
    assert_eq!((i.assignee_id.as_deref(), i.closed_ms), (None, None));
}

#[test]
fn each_filter_selects_what_it_names() {
    let (_dir, store) = seeded();
    let b = boss();
    let expect = |q: &str, pred: &dyn Fn(i64) -> bool| {
        let got = ids(&all_of(&store, &b, q));
        let all = all_of(&store, &b, "");
        let want: BTreeSet<i64> = all
            .iter()
            .filter(|it| {
                let i: i64 = it.detail.rsplit(' ').next().unwrap().parse().unwrap_or(7);
                pred(i)
            })
            .map(|it| it.id)
            .collect();
        assert!(!want.is_empty(), "{q}: the seed has rows for it");
        assert_eq!(got, want, "{q}");
    };
    expect("code=mock_location", &|i| i % 5 == 1);
    expect("rep=rep-chen", &|i| i % 3 == 2);
    expect("team=sup-wang", &|i| i % 3 != 2);
    expect("team=sup-liu", &|i| i % 3 == 2);
    expect("territory=shanghai-west", &|i| i % 3 == 1);
    expect("store=st-002", &|i| i % 3 == 0 && i % 2 == 1);
    expect("store=st-001", &|i| i % 3 == 0 && i % 2 == 0);
    expect("date=2026-11-22", &|i| i % 7 == 2);
    expect("from=2026-11-24&to=2026-11-25", &|i| i % 7 == 4 || i % 7 == 5);
    expect("from=2026-11-25", &|i| i % 7 >= 5);
    expect("to=2026-11-20", &|i| i % 7 == 0);
    expect("code=photo_missing&rep=rep-li&date=2026-11-23", &|i| {
        i % 5 == 2 && i % 3 == 0 && i % 7 == 3
    });
    // An empty form field is no filter.
    assert_eq!(
        all_of(&store, &b, "code=&rep=&date=&q=&sort=&status=").len() as i64,
        N
    );
    // Nothing matches: an empty page, not an error.
    let p = queue::list(&store, &b, &filter("code=no_such_code")).unwrap();
    assert_eq!((p.total, p.items.len(), p.pages), (0, 0, 1));
    // Bad input is refused by name.
    assert_eq!(
        queue::list(&store, &b, &filter("date=2026-02-30")).unwrap_err(),
        QueueError::BadDate("2026-02-30".into())
    );
    assert_eq!(
        queue::list(&store, &b, &filter("from=2026-11-25&to=2026-11-24")).unwrap_err(),
        QueueError::BadRange
    );
    let long = "字".repeat(queue::MAX_SEARCH_CHARS + 1);
    assert_eq!(
        queue::list(&store, &b, &filter(&format!("q={long}"))).unwrap_err(),
        QueueError::SearchTooLong
    );
    for bad in ["status=closedish", "sort=price", "dir=up", "page=x"] {
        let uri: axum::http::Uri = format!("/app/exceptions?{bad}").parse().unwrap();
        assert!(Query::<QueueFilter>::try_from_uri(&uri).is_err(), "{bad}");
    }
}

#[test]
fn search_finds_store_rep_and_text() {
    let (_dir, store) = seeded();
    let b = boss();
    // Store name (Chinese, part of it), store code, rep name, text.
    let by_store = all_of(&store, &b, "q=家乐福");
    assert_eq!(
        by_store.len() as i64,
        (0..N).filter(|i| i % 3 == 1).count() as i64
    );
    assert!(by_store.iter().all(|i| i.store_id.as_deref() == Some("st-101")));
    assert_eq!(
        ids(&all_of(&store, &b, "q=SH-E-001")),
        ids(&all_of(&store, &b, "store=st-001"))
    );
    assert_eq!(
        ids(&all_of(&store, &b, "q=陈静")),
        ids(&all_of(&store, &b, "rep=rep-chen"))
    );
    let one = all_of(&store, &b, "q=finding+number+613");
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].detail, "finding number 613");
    // LIKE's wildcards in the text are literal: "100%" is only the row that says it.
    let pct = all_of(&store, &b, "q=100%25");
    assert_eq!(pct.len(), 1, "{pct:?}");
    assert_eq!(pct[0].detail, "price 100%_off on the shelf");
    assert_eq!(all_of(&store, &b, "q=%25_").len(), 1);
    // Search and filters together.
    let both = all_of(&store, &b, "q=家乐福&code=outside_geofence");
    assert!(!both.is_empty());
    assert!(
        both.iter()
            .all(|i| i.code == "outside_geofence" && i.rep_id.as_deref() == Some("rep-zhao"))
    );
}

#[test]
fn every_sort_orders_the_whole_listing() {
    let (_dir, store) = seeded();
    let b = boss();
    // A few closed and assigned ones so the status sort has something to order.
    queue::act(&store, &b, &[1, 2, 3], &QueueAction::Resolve, "fixed", now_ms()).unwrap();
    queue::act(
        &store,
        &b,
        &[4, 5],
        &QueueAction::Dismiss,
        "false alarm",
        now_ms(),
    )
    .unwrap();
    queue::act(
        &store,
        &b,
        &[7],
        &QueueAction::Assign {
            assignee: "wang".into(),
        },
        "",
        now_ms(),
    )
    .unwrap();
    for (sort, key) in [
        (QueueSort::VisitDay, "visit_day"),
        (QueueSort::Code, "code"),
        (QueueSort::Store, "store"),
        (QueueSort::Rep, "rep"),
        (QueueSort::Status, "status"),
    ] {
        for (dir, d) in [(SortDir::Asc, "asc"), (SortDir::Desc, "desc")] {
            let items = all_of(&store, &b, &format!("status=all&sort={key}&dir={d}"));
            assert_eq!(items.len() as i64, N);
            let k = |i: &QueueItem| -> (String, i64) {
                let primary = match sort {
                    QueueSort::VisitDay => format!("{:012}", i.visit_day),
                    QueueSort::Code => i.code.clone(),
                    QueueSort::Store => i.store_name.clone().unwrap_or_default(),
                    QueueSort::Rep => i.rep_name.clone().unwrap_or_default(),
                    QueueSort::Status => (i.status as u8).to_string(),
                };
                (primary, i.id)
            };
            let keys: Vec<(String, i64)> = items.iter().map(k).collect();
            let mut sorted = keys.clone();
            sorted.sort();
            if dir == SortDir::Desc {
                sorted.reverse();
            }
            assert_eq!(keys, sorted, "sort={key}&dir={d}");
        }
    }
    // The default: newest visit day first.
    let p = queue::list(&store, &b, &QueueFilter::default()).unwrap();
    assert_eq!((p.sort, p.dir), (QueueSort::VisitDay, SortDir::Desc));
    assert_eq!(p.items[0].visit_day, DAY0 + 6);
}

#[test]
fn bulk_resolve_dismiss_assign_reopen_with_history() {
    let (dir, store) = seeded();
    let b = boss();
    let t0 = now_ms();
    let out = queue::act(
        &store,
        &b,
        &[12, 10, 11, 10],
        &QueueAction::Resolve,
        "  补货完成 ",
        t0,
    )
    .unwrap();
    assert_eq!(out.ids, vec![10, 11, 12]);
    let resolved = all_of(&store, &b, "status=resolved");
    assert_eq!(ids(&resolved), BTreeSet::from([10, 11, 12]));
    for i in &resolved {
        assert_eq!(i.status, Status::Resolved);
        assert_eq!(i.closed_by.as_deref(), Some("boss"));
        assert_eq!(i.closed_by_name.as_deref(), Some("总部张"));
        assert_eq!(i.closed_ms, Some(t0));
        assert_eq!(i.closing_comment.as_deref(), Some("补货完成"));
    }
    queue::act(&store, &b, &[20, 21], &QueueAction::Dismiss, "误报", t0 + 1).unwrap();
    queue::act(
        &store,
        &b,
        &[31, 32],
        &QueueAction::Assign {
            assignee: "wang".into(),
        },
        "请核实",
        t0 + 2,
    )
    .unwrap();
    let p = queue::list(&store, &b, &filter("status=all")).unwrap();
    assert_eq!(p.counts.resolved, 3);
    assert_eq!(p.counts.dismissed, 2);
    assert_eq!(p.counts.assigned, 2);
    assert_eq!(p.counts.open, N as u64 - 7);
    // Active = open + assigned; closed = resolved + dismissed.
    assert_eq!(
        queue::list(&store, &b, &QueueFilter::default()).unwrap().total,
        N as u64 - 5
    );
    assert_eq!(
        queue::list(&store, &b, &filter("status=closed")).unwrap().total,
        5
    );
    let mine = all_of(&store, &b, "assignee=wang");
    assert_eq!(ids(&mine), BTreeSet::from([31, 32]));
    assert!(mine.iter().all(|i| i.assignee_name.as_deref() == Some("王磊")));

    // The assignee resolves one of them; it is reopened; the assignment comes back with it.
    queue::act(&store, &wang(), &[31], &QueueAction::Resolve, "已处理", t0 + 3).unwrap();
    queue::act(&store, &b, &[31, 20], &QueueAction::Reopen, "照片不清楚", t0 + 4).unwrap();
    let p = queue::list(&store, &b, &filter("status=all&q=finding+number+30")).unwrap();
    let item31 = p.items.iter().find(|i| i.id == 31).unwrap();
    assert_eq!(item31.status, Status::Assigned);
    assert_eq!(item31.assignee_id.as_deref(), Some("wang"));
    assert_eq!(
        (item31.closed_ms, item31.closing_comment.as_deref()),
        (None, None)
    );
    let item20 = all_of(&store, &b, "status=open&q=finding+number+19");
    assert_eq!(item20.iter().find(|i| i.id == 20).unwrap().status, Status::Open);

    let c = db(dir.path());
    let h = queue::history(&c, &b, 31).unwrap();
    let lines: Vec<(&str, Option<&str>, Option<&str>, Option<&str>)> = h
        .iter()
        .map(|e| {
            (
                e.action.as_str(),
                e.actor_name.as_deref(),
                e.comment.as_deref(),
                e.assignee_name.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        vec![
            ("raised", None, None, None),
            ("assign", Some("总部张"), Some("请核实"), Some("王磊")),
            ("resolve", Some("王磊"), Some("已处理"), None),
            ("reopen", Some("总部张"), Some("照片不清楚"), None),
        ]
    );
    assert_eq!(h[1].at_ms, t0 + 2);
    assert!(h[0].at_ms < h[1].at_ms);
    // A supervisor sees the history of their team's exceptions only (31 is rep-li's, 33 rep-chen's).
    assert_eq!(queue::history(&c, &wang(), 31).unwrap().len(), 4);
    assert_eq!(
        queue::history(&c, &wang(), 33).unwrap_err(),
        QueueError::NotVisible(vec![33])
    );
    assert_eq!(
        queue::history(&c, &b, 999_999).unwrap_err(),
        QueueError::NotVisible(vec![999_999])
    );
}

#[test]
fn a_supervisor_sees_and_changes_only_their_team() {
    let (dir, store) = seeded();
    let w = wang();
    let theirs = all_of(&store, &w, "status=all");
    assert_eq!(theirs.len() as i64, (0..N).filter(|i| i % 3 != 2).count() as i64);
    assert!(
        theirs
            .iter()
            .all(|i| matches!(i.rep_id.as_deref(), Some("rep-li" | "rep-zhao")))
    );
    // Filters cannot widen it.
    assert!(all_of(&store, &w, "rep=rep-chen").is_empty());
    assert!(all_of(&store, &w, "team=sup-liu").is_empty());
    let p = queue::list(&store, &w, &filter("status=all")).unwrap();
    assert_eq!(p.counts.open as usize, theirs.len());

    // 1 is rep-li's (wang's team), 3 is rep-chen's (liu's): the whole batch is refused.
    let before = snapshot(dir.path());
    let e = queue::act(&store, &w, &[1, 3, 4], &QueueAction::Resolve, "ok", now_ms()).unwrap_err();
    assert_eq!(e, QueueError::NotVisible(vec![3]));
    assert_eq!(e.code(), "queue_not_visible");
    assert_eq!(snapshot(dir.path()), before, "a refused batch changes nothing");
    // Unknown ids answer the same as another team's.
    assert_eq!(
        queue::act(&store, &w, &[1, 987_654], &QueueAction::Dismiss, "x", now_ms()).unwrap_err(),
        QueueError::NotVisible(vec![987_654])
    );
    assert_eq!(snapshot(dir.path()), before);
    // Their own team's: done.
    queue::act(&store, &w, &[1, 4], &QueueAction::Resolve, "ok", now_ms()).unwrap();
    assert_eq!(snapshot(dir.path()).1, before.1 + 2);
    // liu may not be given rep-li's exception; head office may.
    let e = queue::act(
        &store,
        &boss(),
        &[2, 3],
        &QueueAction::Assign {
            assignee: "liu".into(),
        },
        "",
        now_ms(),
    )
    .unwrap_err();
    assert_eq!(
        e,
        QueueError::AssigneeCannotSee {
            assignee: "liu".into(),
            ids: vec![2]
        }
    );
    queue::act(
        &store,
        &boss(),
        &[3],
        &QueueAction::Assign {
            assignee: "liu".into(),
        },
        "",
        now_ms(),
    )
    .unwrap();
}

#[test]
fn refused_batches_change_nothing() {
    let (dir, store) = seeded();
    let b = boss();
    queue::act(&store, &b, &[40], &QueueAction::Resolve, "done", now_ms()).unwrap();
    let before = snapshot(dir.path());
    let refuse = |ids: &[i64], action: QueueAction, comment: &str, want: QueueError| {
        let e = queue::act(&store, &b, ids, &action, comment, now_ms()).unwrap_err();
        assert_eq!(e, want, "{ids:?} {action:?}");
        assert_eq!(snapshot(dir.path()), before, "{ids:?} {action:?}");
    };
    // One of them is already closed.
    refuse(
        &[41, 40, 42],
        QueueAction::Dismiss,
        "no",
        QueueError::WrongState {
            action: "dismiss",
            status: "resolved",
            ids: vec![40],
        },
    );
    refuse(
        &[40, 41],
        QueueAction::Reopen,
        "again",
        QueueError::WrongState {
            action: "reopen",
            status: "open",
            ids: vec![41],
        },
    );
    refuse(
        &[41],
        QueueAction::Assign {
            assignee: "nobody".into(),
        },
        "",
        QueueError::UnknownAssignee("nobody".into()),
    );
    refuse(&[41], QueueAction::Resolve, "   ", QueueError::CommentRequired);
    refuse(
        &[41],
        QueueAction::Resolve,
        &"长".repeat(queue::MAX_COMMENT_CHARS + 1),
        QueueError::CommentTooLong,
    );
    refuse(&[], QueueAction::Resolve, "x", QueueError::NothingChosen);
    let many: Vec<i64> = (1..=(queue::MAX_BATCH as i64 + 1)).collect();
    refuse(
        &many,
        QueueAction::Resolve,
        "x",
        QueueError::TooMany(queue::MAX_BATCH + 1),
    );

    // The same finding raised again after it was closed: the old one cannot be reopened
    // beside it (one active exception per finding).
    let c = db(dir.path());
    let (code, visit, subject): (String, String, String) = c
        .query_row(
            "SELECT code, visit_id, subject FROM exceptions WHERE id = 40",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    c.execute(
        "INSERT INTO exceptions (code, user_id, visit_id, subject, detail, created_ms, event_ms, visit_day)
         VALUES (?1, 'rep-li', ?2, ?3, 'again', 1, 1, ?4)",
        params![code, visit, subject, DAY0],
    )
    .unwrap();
    let before = snapshot(dir.path());
    let e = queue::act(&store, &b, &[40], &QueueAction::Reopen, "again", now_ms()).unwrap_err();
    assert_eq!(e, QueueError::AlreadyOpen(vec![40]));
    assert_eq!(snapshot(dir.path()), before);
    // Bulk over 500 in one go works (one transaction).
    let all: Vec<i64> = all_of(&store, &b, "")
        .iter()
        .map(|i| i.id)
        .take(queue::MAX_BATCH)
        .collect();
    let out = queue::act(&store, &b, &all, &QueueAction::Dismiss, "bulk", now_ms()).unwrap();
    assert_eq!(out.ids.len(), queue::MAX_BATCH);
    assert_eq!(
        queue::list(&store, &b, &filter("status=dismissed"))
            .unwrap()
            .total,
        queue::MAX_BATCH as u64
    );
}

#[test]
fn a_finding_about_no_visit_reopens_and_a_second_one_is_refused() {
    // Findings about a device or a rep, with no visit (a NULL visit_id): reopening one looks
    // for an open duplicate with the visit bound as '' for none, on both back ends.
    let (dir, store) = seeded();
    let b = boss();
    let c = db(dir.path());
    let raise = |detail: &str| -> i64 {
        c.execute(
            "INSERT INTO exceptions (code, user_id, visit_id, subject, detail, created_ms, event_ms, visit_day)
             VALUES ('chain_gap', 'rep-li', NULL, 'device-1', ?1, 1, 1, ?2)",
            params![detail, DAY0],
        )
        .unwrap();
        c.query_row("SELECT max(id) FROM exceptions", [], |r| r.get(0))
            .unwrap()
    };
    let first = raise("seq 4 missing");
    queue::act(&store, &b, &[first], &QueueAction::Resolve, "补传了", now_ms()).unwrap();
    queue::act(&store, &b, &[first], &QueueAction::Reopen, "again", now_ms()).unwrap();
    let status: String = c
        .query_row("SELECT status FROM exceptions WHERE id = ?1", [first], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(status, "open");

    // Closed again, then the same finding is raised anew: the old one cannot come back beside it.
    queue::act(&store, &b, &[first], &QueueAction::Dismiss, "误报", now_ms()).unwrap();
    raise("seq 4 missing again");
    let before = snapshot(dir.path());
    assert_eq!(
        queue::act(&store, &b, &[first], &QueueAction::Reopen, "again", now_ms()).unwrap_err(),
        QueueError::AlreadyOpen(vec![first])
    );
    assert_eq!(snapshot(dir.path()), before);
}

#[test]
fn the_status_and_closing_columns_stay_in_step() {
    // Whoever writes the table: a closed status without a closing time (or the reverse), or an
    // assignment without an assignee, is refused by the database itself.
    let (dir, _store) = seeded();
    let c = db(dir.path());
    assert!(
        c.execute("UPDATE exceptions SET status = 'resolved' WHERE id = 1", [])
            .is_err()
    );
    assert!(
        c.execute("UPDATE exceptions SET resolved_ms = 5 WHERE id = 1", [])
            .is_err()
    );
    assert!(
        c.execute("UPDATE exceptions SET status = 'assigned' WHERE id = 1", [])
            .is_err()
    );
    assert!(
        c.execute("UPDATE exceptions SET status = 'lost' WHERE id = 1", [])
            .is_err()
    );
    c.execute(
        "UPDATE exceptions SET status = 'dismissed', resolved_ms = 5, resolved_by = 'x' WHERE id = 1",
        [],
    )
    .unwrap();
}

#[test]
fn a_database_from_before_v6_gets_days_states_and_history() {
    // Schema v5 with a visit, two exceptions (one resolved) and one about no visit, as an older
    // server left them; opening it with this server migrates and fills them in.
    let dir = tempfile::tempdir().unwrap();
    {
        // A SQLite file as an old server left it.
        let c = rusqlite::Connection::open(dir.path().join("fieldproof.db")).unwrap();
        for sql in [
            include_str!("../migrations/001_init.sql"),
            include_str!("../migrations/002_web.sql"),
            include_str!("../migrations/003_sign_in_links.sql"),
            include_str!("../migrations/004_exception_params.sql"),
            include_str!("../migrations/005_login_throttle.sql"),
        ] {
            c.execute_batch(sql).unwrap();
        }
        c.pragma_update(None, "user_version", 5).unwrap();
        // Checked in at 2026-11-20 23:30 in Shanghai (15:30 UTC), received two days later.
        let start = DAY0 * 86_400_000 + 15 * 3_600_000 + 30 * 60_000;
        c.execute(
            "INSERT INTO visits (id, device_id, user_id, store_id, kind, template_id, template_version, status,
                started_wall_ms, geofence, check_in_op, updated_ms)
             VALUES ('v1', 'dev', 'rep-li', 'st-001', 'store_check', 'tpl-store-check', 1, 'checked_out', ?1,
                'outside', 'op-1', ?1)",
            [start],
        )
        .unwrap();
        c.execute(
            "INSERT INTO ops (op_id, device_id, seq, kind, entity_id, user_id, wall_ms, hlc, entry, entry_hash,
                signature, received_ms)
             VALUES ('op-2', 'dev', 2, 'visit.check_out', 'v1', 'rep-li', ?1, 1, '{}', 'h', 's', ?2)",
            rusqlite::params![start + 3_600_000, start + 2 * 86_400_000],
        )
        .unwrap();
        let later = start + 2 * 86_400_000;
        c.execute_batch(&format!(
            "INSERT INTO exceptions (code, user_id, visit_id, op_id, subject, detail, created_ms)
               VALUES ('outside_geofence', 'rep-li', 'v1', 'op-2', 'check_out', 'far', {later});
             INSERT INTO exceptions (code, user_id, visit_id, subject, detail, created_ms, resolved_by, resolved_ms,
                 resolution_comment)
               VALUES ('photo_missing', 'rep-li', 'v1', 'ph', 'late', {later}, 'server', {}, 'arrived');
             INSERT INTO exceptions (code, user_id, subject, detail, created_ms)
               VALUES ('chain_gap', 'rep-li', 'op-9', 'gap', {later});",
            later + 1000
        ))
        .unwrap();
    }
    // A SQLite migration, so SQLite whatever back end the suite runs on (the PostgreSQL schema
    // starts at this release's, with nothing to migrate from).
    let store = Store::open(dir.path()).unwrap();
    let c = fieldproof_server::db::connect(store.database()).unwrap();
    let rows: Vec<(String, String, i64, i64)> = c
        .prepare("SELECT code, status, visit_day, event_ms FROM exceptions ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let start = DAY0 * 86_400_000 + 15 * 3_600_000 + 30 * 60_000;
    let later = start + 2 * 86_400_000;
    assert_eq!(
        rows,
        vec![
            // The op's time is the event; the visit's day (the 20th in Shanghai) is the day.
            ("outside_geofence".into(), "open".into(), DAY0, start + 3_600_000),
            ("photo_missing".into(), "resolved".into(), DAY0, start),
            // No visit: the day it was received, the only time known.
            ("chain_gap".into(), "open".into(), DAY0 + 2, later),
        ]
    );
    let h = queue::history(&c, &boss(), 2).unwrap();
    assert_eq!(h.len(), 2);
    assert_eq!(
        (
            h[1].action.as_str(),
            h[1].actor_id.as_deref(),
            h[1].comment.as_deref()
        ),
        ("resolve", Some("server"), Some("arrived"))
    );
    let p = queue::list(&store, &boss(), &filter("date=2026-11-20&status=all")).unwrap();
    assert_eq!((p.total, p.counts.open, p.counts.resolved), (2, 1, 1));
}
