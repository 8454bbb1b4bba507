//! Customers and leads end to end (issue 15): the real phone core on file databases, syncing
//! over real HTTP with the real `fieldproof-server` binary on loopback (SQLite in its data
//! folder, or its own PostgreSQL database when the test command runs under `tests/pg.sh`).
//! What the phones do offline is checked on the phones; what the server made of it is read
//! back from the server's own database.
//!
//! - the stage lock (acceptance 3): refused offline without the signed 技术参数确认单 photo,
//!   nothing written; with the photo the move succeeds, syncs, and the server holds the stage,
//!   the move with nothing missing, and the photo's bytes verified;
//! - duplicates across reps (acceptance 4): two phones enter the same customer offline, the
//!   number written differently; the server keeps one owner and links the other entry, both
//!   phones see the link after a pull, nothing is lost;
//! - leads imported by head office and routed by the server's scheduler under live routing
//!   rules (its pipeline clock moved by the test) reach the rep's phone, are claimed there, and
//!   the server records whether each claim came within the response deadline;
//! - QR check-in: the phone verifies the server's rotating store code offline, refuses an old,
//!   another store's or an altered one, and the server verifies the check-in's code again.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::time::{Duration, Instant};

use fieldproof_core::*;
use fieldproof_tests::day::{self, DayClock};
use fieldproof_tests::server::ServerProcess;
use fieldproof_tests::storage::fresh_database;

const MIN: i64 = 60_000;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// A server with the fixture's reference data loaded (plans on today, Shanghai time), which
/// issues every store its QR check-in key.
struct World {
    dir: tempfile::TempDir,
    server: ServerProcess,
    rt: tokio::runtime::Runtime,
}

fn world() -> World {
    world_with(None)
}

/// With `pipeline_clock_ms`, the server's pipeline jobs (routing, deadlines) read "now" from a
/// file the test moves (`World::set_pipeline_clock`), starting there.
fn world_with(pipeline_clock_ms: Option<i64>) -> World {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("server-data");
    let server = match pipeline_clock_ms {
        None => ServerProcess::start(&data),
        Some(ms) => {
            let clock = dir.path().join("pipeline-clock");
            set_clock(&clock, ms);
            let clock = clock.to_str().expect("utf-8").to_string();
            // As `ServerProcess::start` does: its own PostgreSQL database under tests/pg.sh.
            let url = fresh_database("customers_e2e").expect("database");
            let mut env = vec![("FIELDPROOF_PIPELINE_CLOCK_FILE", clock.as_str())];
            if let Some(url) = &url {
                env.push(("FIELDPROOF_DATABASE", url.as_str()));
            }
            ServerProcess::start_with(&data, "127.0.0.1:0", &env)
        }
    }
    .expect("server starts");
    let mut r: ReferenceData = serde_json::from_str(fieldproof_tests::REFERENCE_JSON).expect("fixture");
    let today = clock::civil_date(SystemClock.wall_ms(), 480);
    for p in &mut r.plans {
        p.date = today.clone();
    }
    let file = dir.path().join("reference.json");
    std::fs::write(&file, serde_json::to_string(&r).expect("json")).expect("write");
    server
        .admin(&["load-reference", file.to_str().expect("utf-8")])
        .expect("reference loads");
    World {
        dir,
        server,
        rt: runtime(),
    }
}

/// Move the pipeline's clock (write then rename: the server never reads half a number).
fn set_clock(path: &Path, ms: i64) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, ms.to_string()).expect("clock");
    std::fs::rename(&tmp, path).expect("clock");
}

impl World {
    fn set_pipeline_clock(&self, ms: i64) {
        set_clock(&self.dir.path().join("pipeline-clock"), ms);
    }

    /// Wait until `sql` counts `want` (the scheduler polls a few times a second).
    fn wait_for(&self, sql: &str, want: i64) {
        let db = self.server.records().expect("server db");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let n = db.count(sql);
            if n == want {
                return;
            }
            assert!(Instant::now() < deadline, "{sql}: {n}, waited for {want}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A phone enrolled for `user` with its first sync done.
    fn phone(&self, user: &str) -> (Core, DayClock) {
        let clock = DayClock::real_time();
        let core = day::open_core(&self.dir.path().join(format!("{user}.db")), &clock).expect("core");
        let code = self.server.enrol_code(user).expect("code");
        self.rt
            .block_on(core.enrol(&self.server.url(), &code))
            .expect("enrols");
        self.rt.block_on(core.sync()).expect("first sync");
        (core, clock)
    }

    /// Sync and require every op applied.
    fn sync(&self, core: &Core) -> SyncReport {
        let report = self.rt.block_on(core.sync()).expect("sync");
        assert!(report.rejected.is_empty(), "{:?}", report.rejected);
        assert_eq!(report.pending, 0, "{report:?}");
        report
    }
}

// --- acceptance 3: the stage lock ----------------------------------------------------------------

#[test]
fn a_stage_without_its_evidence_is_refused_offline_and_with_the_photo_it_syncs() {
    let w = world();
    let (li, _) = w.phone("rep-li");
    let pending = |c: &Core| c.outbox_summary().unwrap().pending;

    // Offline from here until the sync below.
    let customer = li
        .create_customer(
            "rep-li",
            &NewCustomer {
                name: "华东精密仪器".into(),
                company: Some("上海华东精密仪器有限公司".into()),
                phones: vec!["021-5888 1234".into()],
                contacts: vec![Contact {
                    name: "刘工".into(),
                    title: Some("技术主管".into()),
                    phones: vec!["139 1234 5678".into()],
                }],
                industry: Some("制造".into()),
                region: Some("shanghai-east".into()),
                budget_cents: Some(12_000_000),
                store_id: None,
                from_lead_id: None,
            },
        )
        .expect("customer entered offline");
    assert_eq!(
        (customer.stage.as_str(), customer.state),
        ("explore", CustomerState::Owned)
    );
    li.move_customer_stage("rep-li", &customer.id, "needs", None)
        .expect("explore → needs asks for nothing");
    li.move_customer_stage("rep-li", &customer.id, "demo", None)
        .expect("needs → demo asks for nothing");

    // 方案演示 → 报价谈判 without the signed 技术参数确认单: refused with the missing list, and
    // nothing written (no op, no stage change, the stage unchanged).
    let before = pending(&li);
    let refused = li
        .move_customer_stage("rep-li", &customer.id, "negotiation", None)
        .unwrap_err();
    assert_eq!(refused.code(), "stage_locked");
    let Error::StageLocked {
        customer_id,
        to,
        missing,
    } = refused
    else {
        unreachable!("stage_locked is Error::StageLocked")
    };
    assert_eq!(
        (customer_id.as_str(), to.as_str()),
        (customer.id.as_str(), "negotiation")
    );
    assert_eq!(missing.len(), 1, "{missing:?}");
    assert_eq!(missing[0].item_id.as_deref(), Some("tech_spec_form"));
    assert_eq!(missing[0].label, "签字的技术参数确认单");
    assert_eq!(pending(&li), before, "a refused move writes no op");
    let detail = li.customer_detail(&customer.id).unwrap();
    assert_eq!(detail.customer.stage, "demo");
    assert_eq!(detail.stage_changes.len(), 2);
    assert_eq!(detail.next_stage.as_deref(), Some("negotiation"));
    assert_eq!(
        detail.missing_for_next, missing,
        "the detail screen lists the same"
    );

    // The photo of the signed form, from a real camera JPEG, for the requirement.
    let jpeg = std::fs::read(fieldproof_tests::testdata("photo-1920x1080.jpg")).expect("test photo");
    let photo = li
        .capture_customer_photo(
            "rep-li",
            &CustomerPhotoRequest {
                customer_id: customer.id.clone(),
                requirement_id: "tech_spec_form".into(),
            },
            None,
            480,
            &jpeg,
        )
        .expect("the form's photo");
    assert!(
        li.customer_detail(&customer.id)
            .unwrap()
            .missing_for_next
            .is_empty(),
        "the photo unlocks the move"
    );
    let moved = li
        .move_customer_stage("rep-li", &customer.id, "negotiation", None)
        .expect("the move with its evidence");
    assert_eq!(
        moved.evidence,
        vec![EvidenceRef {
            requirement_id: "tech_spec_form".into(),
            photo_id: Some(photo.id.clone()),
            follow_up_id: None,
        }]
    );

    // --- sync: every op applied, the photo's bytes sent and confirmed, no exception
    let report = w.sync(&li);
    assert!(report.exceptions.is_empty(), "{:?}", report.exceptions);
    assert_eq!(report.photos_sent, 1, "{report:?}");
    assert_eq!(report.photos_not_uploaded, 0);

    let db = w.server.records().unwrap();
    let (stage, state, owner): (String, String, Option<String>) = db.one(
        "SELECT stage, state, owner_id FROM customers WHERE id = $1",
        &[(&customer.id).into()],
    );
    assert_eq!(
        (stage.as_str(), state.as_str(), owner.as_deref()),
        ("negotiation", "owned", Some("rep-li"))
    );
    let moves: Vec<(String, String, String, String)> = db.query(
        "SELECT from_stage, to_stage, missing, evidence FROM customer_stage_changes WHERE customer_id = $1
         ORDER BY at_ms, id",
        &[(&customer.id).into()],
    );
    let path: Vec<(&str, &str)> = moves.iter().map(|m| (m.0.as_str(), m.1.as_str())).collect();
    assert_eq!(
        path,
        [("explore", "needs"), ("needs", "demo"), ("demo", "negotiation")]
    );
    assert!(
        moves.iter().all(|m| m.2 == "[]"),
        "no move lacked evidence: {moves:?}"
    );
    let evidence: Vec<EvidenceRef> = serde_json::from_str(&moves[2].3).unwrap();
    assert_eq!(evidence, moved.evidence, "the server keeps what satisfied it");
    let (requirement, sha): (String, String) = db.one(
        "SELECT requirement_id, sha256 FROM customer_photos WHERE id = $1",
        &[(&photo.id).into()],
    );
    assert_eq!(
        (requirement.as_str(), sha.as_str()),
        ("tech_spec_form", photo.sha256.as_str())
    );
    let (verified, problems): (i64, Option<String>) = db.one(
        "SELECT verified, problems FROM blobs WHERE sha256 = $1",
        &[(&photo.sha256).into()],
    );
    assert_eq!(verified, 1, "problems: {problems:?}");
    assert!(problems.as_deref().unwrap_or("").is_empty(), "{problems:?}");
    assert!(
        w.server.stored_photos().unwrap().contains(&photo.sha256),
        "the bytes are stored and hash to their name"
    );
    // No exception about the customer, its moves or its photo (a missing stage, a photo
    // problem); whatever else a server raises on its own schedule is not this test's.
    let exceptions: Vec<(String, String, String, Option<String>)> =
        db.query("SELECT code, subject, detail, photo_sha256 FROM exceptions", &[]);
    let ours: Vec<_> = exceptions
        .iter()
        .filter(|(code, subject, detail, sha)| {
            code.starts_with("stage_")
                || sha.as_deref() == Some(photo.sha256.as_str())
                || [&customer.id, &photo.id, &photo.sha256, &moved.id]
                    .iter()
                    .any(|id| subject == *id || detail.contains(id.as_str()))
        })
        .collect();
    assert!(ours.is_empty(), "{ours:?}");

    // The server's copy comes back: the phone's customer is the server's, nothing pending.
    w.sync(&li);
    let back = li.customer_detail(&customer.id).unwrap().customer;
    assert_eq!((back.stage.as_str(), back.pending_sync), ("negotiation", false));
}

// --- acceptance 4: duplicates across reps ---------------------------------------------------------

#[test]
fn two_reps_enter_the_same_customer_offline_one_owner_and_a_linked_duplicate_both_see() {
    let w = world();
    let (li, _) = w.phone("rep-li");
    let (chen, _) = w.phone("rep-chen");

    // Both offline: neither phone can know of the other's entry.
    let a_entry = NewCustomer {
        name: "张伟".into(),
        company: Some("上海明辉贸易有限公司".into()),
        phones: vec!["+86 138-0013-8000".into()],
        contacts: vec![],
        industry: Some("零售".into()),
        region: Some("shanghai-east".into()),
        budget_cents: None,
        store_id: None,
        from_lead_id: None,
    };
    let b_entry = NewCustomer {
        name: "张总".into(),
        company: None,
        phones: vec!["13800138000".into()],
        contacts: vec![Contact {
            name: "张伟".into(),
            title: Some("老板".into()),
            phones: vec!["13800138000".into()],
        }],
        industry: Some("零售".into()),
        region: Some("shanghai-east".into()),
        budget_cents: Some(3_000_000),
        store_id: None,
        from_lead_id: None,
    };
    assert!(li.check_customer_duplicates(&a_entry).unwrap().is_empty());
    assert!(chen.check_customer_duplicates(&b_entry).unwrap().is_empty());
    let a = li.create_customer("rep-li", &a_entry).expect("li enters it");
    let b = chen
        .create_customer("rep-chen", &b_entry)
        .expect("chen enters it too");

    // li's phone syncs first: li keeps the customer. chen's entry is linked as its duplicate.
    let first = w.sync(&li);
    assert!(first.exceptions.is_empty(), "{:?}", first.exceptions);
    let second = w.sync(&chen);
    assert_eq!(
        second
            .exceptions
            .iter()
            .map(|e| (e.kind.as_str(), e.code.as_str()))
            .collect::<Vec<_>>(),
        [("customer.create", "customer_duplicate")],
        "the later entry is reported, not refused"
    );
    w.sync(&li);

    // --- the server: one owner, the other entry kept whole and linked, both creates applied
    let db = w.server.records().unwrap();
    // (id, state, owner, duplicate_of) and (created_by, phones), in the order the reps entered.
    let rows: Vec<(String, String, Option<String>, Option<String>)> = db.query(
        "SELECT id, state, owner_id, duplicate_of FROM customers ORDER BY created_by",
        &[],
    );
    let entered: Vec<(String, String)> = db.query(
        "SELECT created_by, phones FROM customers ORDER BY created_by",
        &[],
    );
    assert_eq!(rows.len(), 2, "both records exist: {rows:?}");
    let (a_row, b_row) = (&rows[1], &rows[0]);
    assert_eq!(
        (
            a_row.0.as_str(),
            a_row.1.as_str(),
            a_row.2.as_deref(),
            a_row.3.as_deref()
        ),
        (a.id.as_str(), "owned", Some("rep-li"), None)
    );
    assert_eq!(
        (
            b_row.0.as_str(),
            b_row.1.as_str(),
            b_row.3.as_deref(),
            entered[0].0.as_str()
        ),
        (b.id.as_str(), "duplicate", Some(a.id.as_str()), "rep-chen")
    );
    assert_ne!(
        b_row.2.as_deref(),
        Some("rep-chen"),
        "never handed to a second rep"
    );
    assert_eq!(
        serde_json::from_str::<Vec<String>>(&entered[0].1).unwrap(),
        b_entry.phones,
        "nothing chen typed is lost"
    );
    let (contacts, budget): (String, Option<i64>) = db.one(
        "SELECT contacts, budget_cents FROM customers WHERE id = $1",
        &[(&b.id).into()],
    );
    assert_eq!(
        serde_json::from_str::<Vec<Contact>>(&contacts).unwrap(),
        b_entry.contacts
    );
    assert_eq!(budget, b_entry.budget_cents);
    assert_eq!(
        db.count("SELECT count(*) FROM ops WHERE kind = 'customer.create'"),
        2,
        "both create ops applied"
    );
    assert_eq!(db.count("SELECT count(*) FROM rejected_ops"), 0);
    let flagged: Vec<(String, String)> = db.query(
        "SELECT code, coalesce(user_id, '') FROM exceptions WHERE subject IN ($1, $2) OR detail LIKE $3",
        &[
            (&a.id).into(),
            (&b.id).into(),
            format!("%{}%", a.id).as_str().into(),
        ],
    );
    assert_eq!(
        flagged,
        [("customer_duplicate".to_string(), "rep-chen".to_string())]
    );

    // --- both phones see the link
    let on_chen = chen.customer_detail(&b.id).unwrap().customer;
    assert_eq!(
        (on_chen.state, on_chen.duplicate_of.as_deref()),
        (CustomerState::Duplicate, Some(a.id.as_str()))
    );
    assert_eq!(on_chen.phones, b_entry.phones, "chen keeps the entry whole");
    let chen_dups = chen.customers("rep-chen", CustomerList::Duplicates).unwrap();
    assert_eq!(
        chen_dups.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        [b.id.as_str()],
        "chen's list of duplicates shows the entry"
    );
    assert!(
        chen.customers("rep-chen", CustomerList::Mine).unwrap().is_empty(),
        "not chen's customer"
    );
    // chen sees li's customer by status: owned by 李娜, without its numbers.
    let original = chen.customer_detail(&a.id).unwrap().customer;
    assert_eq!(
        (original.state, original.owner_name.as_deref()),
        (CustomerState::Owned, Some("李娜"))
    );
    assert!(
        original.phones.is_empty() && original.contacts.is_empty(),
        "{original:?}"
    );
    // And chen's phone now refuses a third entry offline, naming the owner.
    match chen.create_customer("rep-chen", &b_entry) {
        Err(Error::DuplicateCustomer { matched }) => {
            assert_eq!(matched.customer_id, a.id);
            assert_eq!(matched.owner_name.as_deref(), Some("李娜"));
        }
        other => panic!("a third entry must be refused offline, got {other:?}"),
    }

    let li_dups = li.customers("rep-li", CustomerList::Duplicates).unwrap();
    assert_eq!(
        li_dups
            .iter()
            .map(|c| (c.id.as_str(), c.duplicate_of.as_deref()))
            .collect::<Vec<_>>(),
        [(b.id.as_str(), Some(a.id.as_str()))],
        "li sees chen's entry linked to li's customer"
    );
    assert_eq!(
        li_dups[0].phones, b_entry.phones,
        "whole: the entry is of li's own customer"
    );
    let li_mine = li.customers("rep-li", CustomerList::Mine).unwrap();
    assert_eq!(
        li_mine.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        [a.id.as_str()]
    );
}

// --- a lead assigned on the server, claimed on the phone --------------------------------------------

#[test]
fn a_lead_assigned_on_the_server_reaches_the_phone_and_its_claim_is_timed() {
    // The pipeline's clock starts three hours back; the scheduler routes when it moves.
    let w = world_with(Some(SystemClock.wall_ms() - 180 * MIN));
    let (li, li_clock) = w.phone("rep-li");
    let window = i64::from(PipelineConfig::default().lead_response_minutes) * MIN;
    let import = |name: &str, row: &str| {
        let csv = w.dir.path().join(name);
        std::fs::write(
            &csv,
            format!("Lead name,Company,Phone,Industry,Territory,Budget (yuan),Source,ID\n{row}\n"),
        )
        .unwrap();
        w.server
            .admin(&["import", csv.to_str().unwrap(), "--kind", "leads"])
            .expect("leads import");
    };
    // Head office's import: the lead arrives `new`.
    import(
        "late.csv",
        "周杰,杭州远景科技有限公司,135 0000 4444,零售,shanghai-east,,官网,lead-late",
    );
    let db = w.server.records().unwrap();
    assert_eq!(
        db.count("SELECT count(*) FROM leads WHERE state = 'new' AND assigned_rep IS NULL"),
        1
    );

    // Head office's routing: one rule for the territory's leads, to reps with the 餐饮零售
    // qualification (rep-li has it, rep-chen of the same territory not); the dry run over the
    // last 30 days matches the lead (100 % ≥ 91 %), so the rules may go live.
    w.server
        .admin(&["pipeline", "rep-tags", "--user", "rep-li", "--tags", "餐饮零售"])
        .expect("tags");
    let rules = w.dir.path().join("rules.json");
    std::fs::write(
        &rules,
        r#"[{"position": 1, "name": "浦东 餐饮零售", "regions": ["shanghai-east"], "required_tags": ["餐饮零售"]}]"#,
    )
    .unwrap();
    w.server
        .admin(&["pipeline", "rules", rules.to_str().unwrap()])
        .expect("rules");
    let dry = w.server.admin(&["pipeline", "dry-run"]).expect("dry run");
    let dry: serde_json::Value = serde_json::from_str(&dry).expect("dry run JSON");
    assert_eq!(
        (dry["report"]["leads"].as_i64(), dry["report"]["matched"].as_i64()),
        (Some(1), Some(1)),
        "{dry}"
    );
    w.server
        .admin(&["pipeline", "go-live"])
        .expect("the rules go live");

    // The scheduler routes lead-late with its clock almost two hours back: its deadline is
    // three seconds from now, so the phone gets it in time and claims it after.
    let routed_late = SystemClock.wall_ms() - window + 3_000;
    w.set_pipeline_clock(routed_late);
    w.wait_for(
        "SELECT count(*) FROM leads WHERE id = 'lead-late' AND state = 'assigned'",
        1,
    );
    // Another lead, routed now.
    import(
        "fresh.csv",
        "孙悦,苏州新禾有限公司,136 0000 3333,餐饮,shanghai-east,20000,展会,lead-fresh",
    );
    let routed_fresh = SystemClock.wall_ms();
    w.set_pipeline_clock(routed_fresh);
    w.wait_for(
        "SELECT count(*) FROM leads WHERE id = 'lead-fresh' AND state = 'assigned'",
        1,
    );
    // (lead, rep, deadline, the rule that routed it)
    type Routed = (String, Option<String>, Option<i64>, Option<String>);
    let assigned: Vec<Routed> = db.query(
        "SELECT id, assigned_rep, deadline_ms, routed_by FROM leads ORDER BY id",
        &[],
    );
    assert_eq!(
        assigned,
        [
            (
                "lead-fresh".to_string(),
                Some("rep-li".to_string()),
                Some(routed_fresh + window),
                Some("浦东 餐饮零售".to_string())
            ),
            (
                "lead-late".to_string(),
                Some("rep-li".to_string()),
                Some(routed_late + window),
                Some("浦东 餐饮零售".to_string())
            ),
        ]
    );
    let late_deadline = routed_late + window;
    let now = routed_fresh;

    // --- the phone pulls them: waiting for the claim, soonest deadline first
    w.sync(&li);
    let mine = li.leads("rep-li", LeadList::Mine).unwrap();
    assert_eq!(
        mine.iter()
            .map(|l| (l.id.as_str(), l.state, l.deadline_ms))
            .collect::<Vec<_>>(),
        [
            ("lead-late", LeadState::Assigned, Some(late_deadline)),
            ("lead-fresh", LeadState::Assigned, Some(now + window)),
        ]
    );
    assert_eq!(mine[1].name, "孙悦");
    assert_eq!(mine[1].phones, ["136 0000 3333"]);
    let today = clock::civil_date(now, 480);
    let waiting = li.pipeline_day("rep-li", &today).unwrap().leads_waiting;
    assert_eq!(waiting.len(), 2, "{waiting:?}");
    // Another rep's phone got neither.
    let (chen, _) = w.phone("rep-chen");
    assert!(chen.leads("rep-chen", LeadList::Mine).unwrap().is_empty());
    assert_eq!(
        chen.claim_lead("rep-chen", "lead-fresh").unwrap_err().code(),
        "unknown_lead"
    );

    // --- the rep claims both (offline), then syncs. The phone's clock follows the real one
    // (the test's clock moves when told).
    li_clock.pass(0);
    let claimed = li.claim_lead("rep-li", "lead-fresh").expect("claims");
    assert_eq!(claimed.state, LeadState::Claimed);
    while SystemClock.wall_ms() <= late_deadline + 500 {
        std::thread::sleep(Duration::from_millis(100));
    }
    li_clock.pass(0);
    li.claim_lead("rep-li", "lead-late").expect("claims late");
    assert_eq!(
        li.claim_lead("rep-li", "lead-fresh").unwrap_err().code(),
        "lead_not_claimable",
        "claimed once"
    );
    let report = w.sync(&li);
    assert!(report.exceptions.is_empty(), "{:?}", report.exceptions);

    let rows: Vec<(String, String, Option<String>, Option<i64>)> = db.query(
        "SELECT id, state, assigned_rep, responded_in_time FROM leads ORDER BY id",
        &[],
    );
    assert_eq!(rows.len(), 2);
    let (fresh, late) = (&rows[0], &rows[1]);
    assert_eq!(
        (fresh.0.as_str(), fresh.1.as_str(), fresh.2.as_deref(), fresh.3),
        ("lead-fresh", "claimed", Some("rep-li"), Some(1)),
        "claimed within the two hours"
    );
    let (claimed_ms,): (Option<i64>,) = db.one("SELECT claimed_ms FROM leads WHERE id = 'lead-fresh'", &[]);
    // The claim's time as the server takes it: the phone's clock corrected by the offset it
    // measured from the server's answers (a few milliseconds on loopback).
    let off = claimed_ms.unwrap() - claimed.claimed_ms.unwrap();
    assert!(off.abs() < 5_000, "the phone's claim time, off by {off} ms");
    assert_eq!(
        (late.0.as_str(), late.1.as_str(), late.3),
        ("lead-late", "claimed", Some(0)),
        "claimed after its deadline: not in time"
    );
    let events = db.count("SELECT count(*) FROM customer_events WHERE kind = 'lead_claim'");
    assert_eq!(events, 2);

    // The server's record comes back to the phone.
    w.sync(&li);
    let after = li.leads("rep-li", LeadList::Mine).unwrap();
    assert!(after.iter().all(|l| l.state == LeadState::Claimed), "{after:?}");
    assert!(
        li.pipeline_day("rep-li", &today)
            .unwrap()
            .leads_waiting
            .is_empty()
    );
}

// --- QR check-in -------------------------------------------------------------------------------------

/// The parts of a store code: (store, kid, step).
fn code_parts(code: &str) -> (String, String, i64) {
    let parts: Vec<&str> = code.trim().split(':').collect();
    assert_eq!(parts.len(), 5, "{code}");
    assert_eq!(parts[0], "fpsc1");
    (parts[1].into(), parts[2].into(), parts[3].parse().unwrap())
}

#[test]
fn the_servers_store_code_verifies_offline_and_again_on_the_server() {
    let w = world();
    let (li, li_clock) = w.phone("rep-li");
    let st001 = li
        .stores(None)
        .unwrap()
        .into_iter()
        .find(|s| s.id == "st-001")
        .unwrap();
    let request = |clock: &DayClock| CheckInRequest {
        user_id: "rep-li".into(),
        store_id: "st-001".into(),
        plan_id: Some("plan-li-1".into()),
        template_id: None,
        fix: Some(day::fix_near(&st001, 15.0, false, clock.wall_ms())),
    };
    let pending = |c: &Core| c.outbox_summary().unwrap().pending;
    let refused = |code: &str| -> &'static str {
        let before = pending(&li);
        let e = li.check_in_scanned(&request(&li_clock), code).unwrap_err();
        assert_eq!(pending(&li), before, "a refused scan writes nothing");
        assert!(li.open_visit("rep-li").unwrap().is_none());
        e.code()
    };

    // The key the server issued st-001 on the reference load (what the store's screen signs
    // with), read from its database.
    let db = w.server.records().unwrap();
    let (kid, seed_hex): (String, String) = db.one(
        "SELECT kid, seed_hex FROM store_keys WHERE store_id = 'st-001' AND retired_ms IS NULL",
        &[],
    );
    assert_eq!(
        db.count("SELECT count(*) FROM store_keys WHERE retired_ms IS NULL"),
        4,
        "every store has a key"
    );
    let seed = fieldproof_core::hex::decode_array::<32>(&seed_hex).unwrap();
    let code_at = |step: i64| {
        let sig = customers::sign_store_code(&seed, "st-001", &kid, step);
        customers::format_store_code("st-001", &kid, step, &sig)
    };
    let step_now = customers::store_code_step(li_clock.wall_ms());

    // Refused offline, each with its own code: a photo of the screen two minutes old, another
    // store's current code, an altered one, and no code at all.
    assert_eq!(refused(&code_at(step_now - 4)), "store_code_expired");
    let other = w.server.admin(&["store-keys", "code", "st-002"]).unwrap();
    assert_eq!(refused(other.trim()), "store_code_wrong_store");
    let mut forged = code_at(step_now);
    let last = forged.pop().unwrap();
    forged.push(if last == '0' { '1' } else { '0' });
    assert_eq!(refused(&forged), "store_code_invalid");
    assert_eq!(refused("https://example.com/"), "store_code_malformed");

    // --- the store's screen now (the server's own command), scanned and verified offline
    let shown = w.server.admin(&["store-keys", "code", "st-001"]).unwrap();
    let shown = shown.trim().to_string();
    let (store, shown_kid, shown_step) = code_parts(&shown);
    assert_eq!((store.as_str(), shown_kid.as_str()), ("st-001", kid.as_str()));
    let visit = li
        .check_in_scanned(&request(&li_clock), &shown)
        .expect("the current code verifies offline");
    let report = w.sync(&li);
    assert!(report.exceptions.is_empty(), "{:?}", report.exceptions);

    // The server verified it again at the check-in's time and recorded it.
    let (store_id, rec_kid, step, verified): (String, String, i64, i64) = db.one(
        "SELECT store_id, kid, step, verified FROM visit_store_codes WHERE visit_id = $1",
        &[(&visit.id).into()],
    );
    assert_eq!(
        (store_id.as_str(), rec_kid.as_str(), step, verified),
        ("st-001", kid.as_str(), shown_step, 1)
    );
    let store_code_exceptions = db.count("SELECT count(*) FROM exceptions WHERE code LIKE 'store_code%'");
    assert_eq!(store_code_exceptions, 0);

    // The same code, photographed and scanned again two minutes later, is refused offline.
    li.cancel_visit(&visit.id, "扫码测试").unwrap();
    li_clock.clock.advance(2 * MIN);
    assert_eq!(refused(&shown), "store_code_expired");
}
