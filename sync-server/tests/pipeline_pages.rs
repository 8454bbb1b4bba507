//! The routing rules and pipeline settings pages (issue 15) over real HTTP against the real
//! binary, driven as a browser drives them (forms with the session's CSRF token), in zh-CN and
//! en: a rule refused with its problem beside the field and nothing saved; rules saved by form
//! and as JSON; the dry run's report with the matched share against the 91 % goal; going live
//! refused below it and allowed past it; the pipeline's deadlines and the health model's weights
//! saved, or refused field by field; a supervisor refused everywhere.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "e2e/common.rs"]
mod common;

use std::path::Path;

use common::{Server, Session, admin_ok, form, h, reference_file};

const HO_PW: &str = "zhang-password-1";
const WANG_PW: &str = "wang-password-1";

fn seeded() -> (tempfile::TempDir, Server) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    admin_ok(d, &["init"]);
    admin_ok(d, &["load-reference", reference_file().to_str().unwrap()]);
    for (id, name, role, pw) in [
        ("ho-zhang", "张总部", "head_office", HO_PW),
        ("sup-wang", "王磊", "supervisor", WANG_PW),
    ] {
        admin_ok(
            d,
            &[
                "create-user",
                "--id",
                id,
                "--name",
                name,
                "--role",
                role,
                "--password",
                pw,
            ],
        );
    }
    let s = Server::start_with(d, &[], None);
    (dir, s)
}

fn submit(s: &Session, path: &str, lang: &str, fields: &[(&str, &str)]) -> common::Resp {
    let csrf = s.csrf();
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(fields);
    s.post(path, &form(&all), &[h("Accept-Language", lang)])
}

fn get(s: &Session, path: &str, lang: &str) -> common::Resp {
    common::http(
        s.addr,
        "GET",
        path,
        &[h("Cookie", &s.cookie), h("Accept-Language", lang)],
        b"",
    )
}

fn one(dir: &Path, sql: &str) -> i64 {
    let c = common::test_db::connect(dir);
    c.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// 100 leads over the last 10 days: 50 in the food industry, 50 in retail.
fn seed_leads(dir: &Path) {
    let c = common::test_db::connect(dir);
    let now = fieldproof_server::now_ms();
    for i in 0..100i64 {
        let industry = if i % 2 == 0 { "food" } else { "retail" };
        c.execute(
            "INSERT INTO leads (id, name, phones, industry, region, state, created_ms, updated_ms)
             VALUES (?1, ?2, '[]', ?3, 'shanghai-east', 'converted', ?4, ?4)",
            fieldproof_server::db::params![
                format!("L{i}"),
                format!("线索{i}"),
                industry,
                now - (i + 1) * 8_640_000
            ],
        )
        .unwrap();
    }
}

#[test]
fn routing_rules_page_saves_refuses_dry_runs_and_goes_live_only_past_the_goal() {
    let (dir, s) = seeded();
    let d = dir.path();
    seed_leads(d);
    let ho = Session::new(s.addr, "ho-zhang", HO_PW);

    let page = get(&ho, "/app/routing", "zh-CN");
    assert_eq!(page.status, 200);
    let html = page.text();
    assert!(
        html.contains("线索分配规则") && html.contains("尚未试运行") && html.contains("还没有规则"),
        "{html}"
    );
    assert!(html.contains("name=\"viewport\""));
    let en = get(&ho, "/app/routing", "en").text();
    assert!(en.contains("Lead routing rules") && en.contains("No dry run yet."));

    // A rule whose budget range is empty: refused, the problem beside the budget, nothing saved.
    let r = submit(
        &ho,
        "/app/routing/rule",
        "zh-CN",
        &[
            ("position", "10"),
            ("name", "华东食品"),
            ("industries", "food"),
            ("budget_min", "500"),
            ("budget_max", "100"),
            ("enabled", "1"),
        ],
    );
    assert_eq!(r.status, 422, "{}", r.text());
    let html = r.text();
    assert!(html.contains("data-code=\"routing_empty_budget\""), "{html}");
    assert!(html.contains("第 10 条规则的预算范围为空"), "{html}");
    // The typed values stay in the form.
    assert!(html.contains("value=\"华东食品\""));
    assert_eq!(one(d, "SELECT count(*) FROM pipeline_settings"), 0);
    // Not a number: refused in words beside the field.
    let r = submit(
        &ho,
        "/app/routing/rule",
        "en",
        &[("position", "x"), ("name", "a")],
    );
    assert_eq!(r.status, 422);
    assert!(r.text().contains("Enter a number here."));

    // A good rule: saved, listed.
    let r = submit(
        &ho,
        "/app/routing/rule",
        "zh-CN",
        &[
            ("position", "10"),
            ("name", "华东食品"),
            ("industries", "food"),
            ("enabled", "1"),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    let html = get(&ho, "/app/routing?done=saved", "zh-CN").text();
    assert!(html.contains("id=\"rule-10\"") && html.contains("华东食品"));

    // JSON that does not parse, and two rules at one position: refused with their problems.
    let r = submit(
        &ho,
        "/app/routing/rules",
        "en",
        &[("rules_json", "[{\"position\": 1,")],
    );
    assert_eq!(r.status, 422);
    assert!(r.text().contains("data-code=\"pipeline_bad_json\""));
    let dup = r#"[{"position": 1, "name": "a"}, {"position": 1, "name": "b"}]"#;
    let r = submit(&ho, "/app/routing/rules", "en", &[("rules_json", dup)]);
    assert_eq!(r.status, 422);
    assert!(
        r.text().contains("Two rules have the order number 1."),
        "{}",
        r.text()
    );
    assert_eq!(
        one(d, "SELECT version FROM pipeline_settings WHERE name = 'routing'"),
        1
    );

    // Dry run: half the leads match; below the 91 % goal.
    let r = submit(&ho, "/app/routing/dry-run", "zh-CN", &[]);
    assert_eq!(r.status, 303);
    let html = get(&ho, "/app/routing", "zh-CN").text();
    assert!(html.contains("100 条线索中匹配 50 条：50%（目标 91%）"), "{html}");
    assert!(html.contains("data-passes=\"false\"") && html.contains("未达目标"));
    assert!(html.contains("id=\"per-rule\"") && html.contains("没有匹配的规则"));
    // Going live is refused, in words, and changes nothing.
    let r = submit(&ho, "/app/routing/go-live", "en", &[]);
    assert_eq!(r.status, 409);
    assert!(
        r.text().contains("matched 50% of leads, below the 91% needed"),
        "{}",
        r.text()
    );
    assert!(
        one(
            d,
            "SELECT count(*) FROM pipeline_settings WHERE name = 'routing' AND body LIKE '%\"live\":true%'"
        ) == 0
    );

    // A catch-all as JSON (both rules), a new dry run: 100 %, and live.
    let rules =
        r#"[{"position": 10, "name": "华东食品", "industries": ["food"]}, {"position": 20, "name": "其余"}]"#;
    let r = submit(&ho, "/app/routing/rules", "zh-CN", &[("rules_json", rules)]);
    assert_eq!(r.status, 303, "{}", r.text());
    // The old report is now marked stale.
    assert!(
        get(&ho, "/app/routing", "zh-CN")
            .text()
            .contains("id=\"report-stale\"")
    );
    submit(&ho, "/app/routing/dry-run", "zh-CN", &[]);
    let html = get(&ho, "/app/routing", "zh-CN").text();
    assert!(
        html.contains("100 条线索中匹配 100 条：100%（目标 91%）"),
        "{html}"
    );
    let r = submit(&ho, "/app/routing/go-live", "zh-CN", &[]);
    assert_eq!(r.status, 303, "{}", r.text());
    let html = get(&ho, "/app/routing?done=live", "zh-CN").text();
    assert!(html.contains("已上线") && html.contains("id=\"pause\""));

    // A supervisor is refused.
    let wang = Session::new(s.addr, "sup-wang", WANG_PW);
    assert_eq!(get(&wang, "/app/routing", "zh-CN").status, 403);
    assert_eq!(submit(&wang, "/app/routing/pause", "zh-CN", &[]).status, 403);
    assert_eq!(get(&wang, "/app/pipeline-settings", "zh-CN").status, 403);
}

#[test]
fn pipeline_settings_page_shows_stages_and_saves_deadlines_and_weights_field_by_field() {
    let (dir, s) = seeded();
    let d = dir.path();
    let ho = Session::new(s.addr, "ho-zhang", HO_PW);
    let html = get(&ho, "/app/pipeline-settings", "zh-CN").text();
    assert!(
        html.contains("报价谈判") && html.contains("照片：签字的技术参数确认单"),
        "{html}"
    );
    assert!(
        html.contains("近三个月采购") && html.contains("name=\"weight_0\" value=\"0.4\""),
        "{html}"
    );
    let en = get(&ho, "/app/pipeline-settings", "en").text();
    assert!(en.contains("Pipeline settings") && en.contains("Purchases, last 3 months"));

    let rules = |stall: &'static str, threshold: &'static str| {
        vec![
            ("lead_response_minutes", "90"),
            ("release_days", "7"),
            ("release_warning_days", "1"),
            ("stall_days", stall),
            ("escalate_follow_ups", "3"),
            ("escalate_window_days", "7"),
            ("reclaim_cooldown_days", "7"),
            ("routing_live_threshold", threshold),
            ("response_goal", "85"),
        ]
    };
    // A stall after 0 days and a goal of 120 %: refused beside each field, nothing saved.
    let r = submit(&ho, "/app/pipeline-settings/rules", "zh-CN", &rules("0", "120"));
    assert_eq!(r.status, 422, "{}", r.text());
    let html = r.text();
    assert!(html.contains("阶段停滞天数必须在 1 到 365 之间"), "{html}");
    assert!(html.contains("上线所需匹配率必须在 0% 到 100% 之间"), "{html}");
    assert_eq!(one(d, "SELECT count(*) FROM pipeline_settings"), 0);
    let r = submit(&ho, "/app/pipeline-settings/rules", "en", &rules("abc", "91"));
    assert_eq!(r.status, 422);
    assert!(r.text().contains("Enter a number here."));

    // Saved: version 1, and down the feed to every phone.
    let r = submit(&ho, "/app/pipeline-settings/rules", "zh-CN", &rules("4", "91"));
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(
        one(d, "SELECT version FROM pipeline_settings WHERE name = 'pipeline'"),
        1
    );
    assert_eq!(
        one(d, "SELECT count(*) FROM changes WHERE kind = 'pipeline_config'"),
        1
    );
    let html = get(&ho, "/app/pipeline-settings?done=saved", "zh-CN").text();
    assert!(
        html.contains("name=\"stall_days\" value=\"4\"")
            && html.contains("name=\"lead_response_minutes\" value=\"90\"")
    );

    // Stages as JSON: a stage without a name is refused in words.
    let r = submit(
        &ho,
        "/app/pipeline-settings/stages",
        "zh-CN",
        &[(
            "stages_json",
            r#"[{"key": "a", "label": ""}, {"key": "won", "label": "成交", "terminal": true}]"#,
        )],
    );
    assert_eq!(r.status, 422);
    assert!(r.text().contains("第 1 个阶段没有名称"), "{}", r.text());

    // Health weights: a zero weight is refused beside its component; a good change saved.
    let weights = |w0: &'static str| {
        vec![
            ("weight_0", w0),
            ("cap_0", "3"),
            ("window_0", "90"),
            ("weight_1", "0.1"),
            ("cap_1", "1"),
            ("window_1", "90"),
            ("weight_2", "0.1"),
            ("cap_2", "1"),
            ("window_2", "90"),
            ("grade_a", "70"),
            ("grade_b", "40"),
            ("zero_warning_days", "14"),
        ]
    };
    let r = submit(&ho, "/app/pipeline-settings/health", "en", &weights("0"));
    assert_eq!(r.status, 422);
    let html = r.text();
    assert!(
        html.contains("data-code=\"health_weight_not_positive\""),
        "{html}"
    );
    assert!(html.contains("weights must be above 0"));
    assert_eq!(
        one(d, "SELECT count(*) FROM pipeline_settings WHERE name = 'health'"),
        0
    );
    let r = submit(&ho, "/app/pipeline-settings/health", "en", &weights("0.8"));
    assert_eq!(r.status, 303, "{}", r.text());
    let html = get(&ho, "/app/pipeline-settings", "en").text();
    assert!(html.contains("name=\"weight_0\" value=\"0.8\""), "{html}");
}

#[test]
fn admin_pipeline_cli_sets_tags_and_rules_dry_runs_refuses_go_live_and_runs_jobs() {
    let (dir, _s) = seeded();
    let d = dir.path();
    seed_leads(d);
    let out = admin_ok(
        d,
        &[
            "pipeline",
            "rep-tags",
            "--user",
            "rep-li",
            "--tags",
            "food, drink,",
        ],
    );
    let tags: Vec<String> = serde_json::from_str(&out).unwrap();
    assert_eq!(tags, ["drink", "food"]);
    let refused = common::admin(d, &["pipeline", "rep-tags", "--user", "sup-wang", "--tags", "x"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("No field rep"));

    let rules = d.join("rules.json");
    std::fs::write(
        &rules,
        r#"[{"position": 10, "name": "华东食品", "industries": ["food"]}]"#,
    )
    .unwrap();
    assert!(admin_ok(d, &["pipeline", "rules", rules.to_str().unwrap()]).contains("version 1"));
    let report: serde_json::Value = serde_json::from_str(&admin_ok(d, &["pipeline", "dry-run"])).unwrap();
    assert_eq!(report["report"]["leads"], 100);
    assert_eq!(report["report"]["matched"], 50);
    let refused = common::admin(d, &["pipeline", "go-live"]);
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("50%") && err.contains("91%"), "{err}");

    // A document that is not JSON: refused with its line and column, nothing saved.
    let bad = d.join("bad.json");
    std::fs::write(&bad, "{\n  \"stall_days\": ,\n}").unwrap();
    let refused = common::admin(
        d,
        &["pipeline", "set", "--name", "pipeline", bad.to_str().unwrap()],
    );
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("line 2"));
    let good = d.join("pipeline.json");
    std::fs::write(&good, r#"{"stall_days": 3}"#).unwrap();
    assert!(
        admin_ok(
            d,
            &["pipeline", "set", "--name", "pipeline", good.to_str().unwrap()]
        )
        .contains("version 1")
    );

    let show: serde_json::Value = serde_json::from_str(&admin_ok(d, &["pipeline", "show"])).unwrap();
    assert_eq!(show["pipeline"]["body"]["stall_days"], 3);
    assert_eq!(show["pipeline"]["body"]["lead_response_minutes"], 120);
    assert_eq!(show["rep_tags"]["rep-li"], serde_json::json!(["drink", "food"]));
    assert_eq!(show["last_dry_run"]["report"]["matched"], 50);

    // The scheduler's runs for a given moment: each job once; again at the same minute, none.
    // Ten days ahead: the running server's own scheduler (wall clock) never takes these runs.
    let now = (fieldproof_server::now_ms() / 60_000 * 60_000 + 10 * 86_400_000 + 5_000).to_string();
    let runs: Vec<serde_json::Value> =
        serde_json::from_str(&admin_ok(d, &["pipeline", "run-jobs-now", "--now-ms", &now])).unwrap();
    assert_eq!(runs.len(), 6);
    assert!(runs.iter().all(|r| r["outcome"] == "ran"), "{runs:?}");
    let again: Vec<serde_json::Value> =
        serde_json::from_str(&admin_ok(d, &["pipeline", "run-jobs-now", "--now-ms", &now])).unwrap();
    assert!(again.iter().all(|r| r["outcome"] == "taken"), "{again:?}");
}
