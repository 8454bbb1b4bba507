//! Head office's pipeline settings (`pipeline_settings`): 'pipeline' (the core's
//! `PipelineConfig`, also sent to phones), 'health' (the health model) and 'routing' (the rule
//! list and whether it is live). A missing row reads as the default at version 0; a save is
//! checked whole first (every problem reported as a code with parameters, nothing saved), then
//! written with the version one higher, in one transaction.
//!
//! Reps' qualification tags (资质标签, `rep_tags`) are set here too: routing reads them.

use std::collections::BTreeSet;

use fieldproof_core::customers::{PipelineConfig, RequirementKind};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::db::{Connection, OptionalExtension, TransactionBehavior, params};
use crate::i18n::Lang;
use crate::pipeline::health::HealthModel;
use crate::pipeline::routing::{Rule, RuleProblem, validate_rules};
use crate::store::Store;

/// The 'routing' row: the rules in order and whether new leads are routed by them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutingSettings {
    #[serde(default)]
    pub rules: Vec<Rule>,
    #[serde(default)]
    pub live: bool,
}

/// A setting as stored, with its version (0: never saved, the default).
#[derive(Debug, Clone, PartialEq)]
pub struct Versioned<T> {
    pub version: i64,
    pub body: T,
    pub updated_by: Option<String>,
    pub updated_ms: Option<i64>,
}

/// One thing wrong with a submitted setting: a message code and its parameters (rendered by
/// [`SettingsProblem::message`]) and the form field it belongs to (for the page to put the
/// message beside; never shown).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SettingsProblem {
    pub code: &'static str,
    pub field: String,
    pub params: Vec<(&'static str, String)>,
}

impl SettingsProblem {
    fn new(code: &'static str, field: impl Into<String>, params: Vec<(&'static str, String)>) -> Self {
        SettingsProblem {
            code,
            field: field.into(),
            params,
        }
    }

    /// The problem in `lang`. A `setting` parameter holds a setting's key and is shown as the
    /// setting's name in words.
    pub fn message(&self, lang: Lang) -> String {
        let params: Vec<(&str, String)> = self
            .params
            .iter()
            .map(|(k, v)| {
                if *k == "setting" {
                    (*k, lang.message(&format!("pipeline_setting_{v}"), &[]))
                } else {
                    (*k, v.clone())
                }
            })
            .collect();
        lang.message(self.code, &params)
    }
}

/// Why a settings change was refused; nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("the settings have {} problem(s)", .0.len())]
    Invalid(Vec<SettingsProblem>),
    /// The document is not JSON of the expected shape (line and column of the first error).
    #[error("not a settings document: {message} (line {line}, column {column})")]
    BadJson {
        line: usize,
        column: usize,
        message: String,
    },
    /// Someone saved the setting since the form was opened.
    #[error("the setting changed meanwhile (now version {current}, the form had {expected})")]
    VersionConflict { expected: i64, current: i64 },
    #[error("no field rep {0}")]
    UnknownRep(String),
    #[error("storage: {0}")]
    Storage(#[from] crate::db::Error),
}

impl SettingsError {
    /// The message code.
    pub fn code(&self) -> &'static str {
        match self {
            SettingsError::Invalid(_) => "pipeline_settings_invalid",
            SettingsError::BadJson { .. } => "pipeline_bad_json",
            SettingsError::VersionConflict { .. } => "pipeline_version_conflict",
            SettingsError::UnknownRep(_) => "pipeline_unknown_rep",
            SettingsError::Storage(_) => "pipeline_storage",
        }
    }

    /// Every message in `lang`: each problem of an invalid setting, else the one message.
    pub fn messages(&self, lang: Lang) -> Vec<String> {
        match self {
            SettingsError::Invalid(problems) => problems.iter().map(|p| p.message(lang)).collect(),
            SettingsError::BadJson { line, column, .. } => vec![lang.message(
                self.code(),
                &[("line", line.to_string()), ("column", column.to_string())],
            )],
            SettingsError::VersionConflict { .. }
            | SettingsError::UnknownRep(_)
            | SettingsError::Storage(_) => {
                vec![lang.message(self.code(), &[])]
            }
        }
    }
}

/// Parse a settings document (a JSON file, a form's textarea) as `T`.
pub fn parse_json<T: DeserializeOwned>(text: &str) -> Result<T, SettingsError> {
    serde_json::from_str(text).map_err(|e| SettingsError::BadJson {
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })
}

fn load<T: DeserializeOwned + Default>(c: &Connection, name: &str) -> crate::db::Result<Versioned<T>> {
    let row: Option<(i64, String, Option<String>, i64)> = c
        .prepare_cached(
            "SELECT version, body, updated_by, updated_ms FROM pipeline_settings WHERE name = ?1",
        )?
        .query_row([name], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .optional()?;
    Ok(match row {
        // A stored body that no longer reads (written by a newer server) falls back to the
        // default rather than stopping the scheduler; saving again replaces it.
        Some((version, body, updated_by, updated_ms)) => Versioned {
            version,
            body: serde_json::from_str(&body).unwrap_or_default(),
            updated_by,
            updated_ms: Some(updated_ms),
        },
        None => Versioned {
            version: 0,
            body: T::default(),
            updated_by: None,
            updated_ms: None,
        },
    })
}

/// The pipeline configuration (its `version` is the row's).
pub fn load_pipeline(c: &Connection) -> crate::db::Result<Versioned<PipelineConfig>> {
    let mut v = load::<PipelineConfig>(c, "pipeline")?;
    if v.version > 0 {
        v.body.version = v.version;
    }
    Ok(v)
}

pub fn load_health(c: &Connection) -> crate::db::Result<Versioned<HealthModel>> {
    load(c, "health")
}

pub fn load_routing(c: &Connection) -> crate::db::Result<Versioned<RoutingSettings>> {
    load(c, "routing")
}

/// Write `body` as `name`'s next version; refused when `expected` is given and is not the
/// current version. Returns the new version.
fn write<T: Serialize>(
    tx: &Connection,
    name: &str,
    current: i64,
    expected: Option<i64>,
    body: &T,
    by: Option<&str>,
    now_ms: i64,
) -> Result<i64, SettingsError> {
    if let Some(expected) = expected
        && expected != current
    {
        return Err(SettingsError::VersionConflict { expected, current });
    }
    let version = current + 1;
    let text = serde_json::to_string(body).map_err(|e| crate::db::Error::ToSqlConversionFailure(e.into()))?;
    tx.prepare_cached(
        "INSERT INTO pipeline_settings (name, version, body, updated_by, updated_ms) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (name) DO UPDATE SET version = excluded.version, body = excluded.body,
            updated_by = excluded.updated_by, updated_ms = excluded.updated_ms",
    )?
    .execute(params![name, version, text, by, now_ms])?;
    Ok(version)
}

fn range(problems: &mut Vec<SettingsProblem>, setting: &'static str, value: f64, min: f64, max: f64) {
    if !(value.is_finite() && value >= min && value <= max) {
        problems.push(SettingsProblem::new(
            "pipeline_out_of_range",
            setting,
            vec![
                ("setting", setting.to_string()),
                ("min", crate::values::number(min)),
                ("max", crate::values::number(max)),
            ],
        ));
    }
}

/// A share (0–1), said as a percentage (what the page asks for).
fn share(problems: &mut Vec<SettingsProblem>, setting: &'static str, value: f64) {
    if !(value.is_finite() && (0.0..=1.0).contains(&value)) {
        problems.push(SettingsProblem::new(
            "pipeline_out_of_range",
            setting,
            vec![
                ("setting", setting.to_string()),
                ("min", "0%".to_string()),
                ("max", "100%".to_string()),
            ],
        ));
    }
}

/// Every problem of a pipeline configuration, stages first.
pub fn validate_pipeline(cfg: &PipelineConfig) -> Result<(), Vec<SettingsProblem>> {
    let mut p = Vec::new();
    if cfg.stages.is_empty() {
        p.push(SettingsProblem::new("pipeline_no_stages", "stages", vec![]));
    }
    let mut keys = BTreeSet::new();
    for (i, s) in cfg.stages.iter().enumerate() {
        let field = format!("stages[{i}]");
        let n = (i + 1).to_string();
        if s.key.trim().is_empty() {
            p.push(SettingsProblem::new(
                "pipeline_stage_no_key",
                &field,
                vec![("n", n.clone())],
            ));
        } else if !keys.insert(s.key.trim().to_string()) {
            p.push(SettingsProblem::new(
                "pipeline_duplicate_stage",
                &field,
                vec![("n", n.clone())],
            ));
        }
        if s.label.trim().is_empty() {
            p.push(SettingsProblem::new(
                "pipeline_stage_no_label",
                &field,
                vec![("n", n.clone())],
            ));
        }
        let mut ids = BTreeSet::new();
        for (j, r) in s.requirements.iter().enumerate() {
            let rf = format!("stages[{i}].requirements[{j}]");
            let stage = s.label.clone();
            if r.id.trim().is_empty() || !ids.insert(r.id.trim().to_string()) {
                p.push(SettingsProblem::new(
                    "pipeline_requirement_id",
                    &rf,
                    vec![("stage", stage.clone()), ("n", (j + 1).to_string())],
                ));
            }
            if r.label.trim().is_empty() {
                p.push(SettingsProblem::new(
                    "pipeline_requirement_no_label",
                    &rf,
                    vec![("stage", stage.clone()), ("n", (j + 1).to_string())],
                ));
            }
            if r.kind == RequirementKind::Field && r.field.as_deref().is_none_or(|f| f.trim().is_empty()) {
                p.push(SettingsProblem::new(
                    "pipeline_requirement_no_field",
                    &rf,
                    vec![("stage", stage), ("n", (j + 1).to_string())],
                ));
            }
        }
    }
    if !cfg.stages.iter().any(|s| !s.terminal) {
        p.push(SettingsProblem::new("pipeline_no_open_stage", "stages", vec![]));
    }
    range(
        &mut p,
        "lead_response_minutes",
        f64::from(cfg.lead_response_minutes),
        1.0,
        10_080.0,
    );
    range(&mut p, "release_days", f64::from(cfg.release_days), 1.0, 365.0);
    range(
        &mut p,
        "release_warning_days",
        f64::from(cfg.release_warning_days),
        0.0,
        f64::from(cfg.release_days.saturating_sub(1)),
    );
    range(&mut p, "stall_days", f64::from(cfg.stall_days), 1.0, 365.0);
    range(
        &mut p,
        "escalate_follow_ups",
        f64::from(cfg.escalate_follow_ups),
        1.0,
        100.0,
    );
    range(
        &mut p,
        "escalate_window_days",
        f64::from(cfg.escalate_window_days),
        1.0,
        365.0,
    );
    range(
        &mut p,
        "reclaim_cooldown_days",
        f64::from(cfg.reclaim_cooldown_days),
        0.0,
        365.0,
    );
    share(&mut p, "routing_live_threshold", cfg.routing_live_threshold);
    share(&mut p, "response_goal", cfg.response_goal);
    if p.is_empty() { Ok(()) } else { Err(p) }
}

/// A routing rule problem as a settings problem (the rule named by its position).
pub fn rule_problem(r: &RuleProblem) -> SettingsProblem {
    let (position, extra) = match r {
        RuleProblem::DuplicatePosition { position }
        | RuleProblem::NoName { position }
        | RuleProblem::NegativeBudget { position }
        | RuleProblem::ZeroMaxLoad { position } => (*position, vec![]),
        RuleProblem::EmptyBudget { position, min, max } => (
            *position,
            vec![
                ("min", crate::values::money(*min)),
                ("max", crate::values::money(*max)),
            ],
        ),
    };
    let mut params = vec![("position", position.to_string())];
    params.extend(extra);
    SettingsProblem::new(r.code(), format!("rule[{position}]"), params)
}

/// A health model problem as a settings problem (a component named by its key, as head office
/// wrote it).
pub fn model_problem(m: &crate::pipeline::health::ModelProblem) -> SettingsProblem {
    use crate::pipeline::health::ModelProblem as M;
    let (field, params): (String, Vec<(&'static str, String)>) = match m {
        M::NoComponents | M::NoWarningDays => ("model".into(), vec![]),
        M::NoKey { index } => (
            format!("components[{index}]"),
            vec![("n", (index + 1).to_string())],
        ),
        M::DuplicateKey { key } | M::NoLabel { key } | M::EmptyWindow { key } => {
            (format!("component[{key}]"), vec![("component", key.clone())])
        }
        M::UnknownKind { key, kind } => (
            format!("component[{key}]"),
            vec![("component", key.clone()), ("kind", kind.clone())],
        ),
        M::WeightNotPositive { key, weight } => (
            format!("component[{key}]"),
            vec![
                ("component", key.clone()),
                ("weight", crate::values::number(*weight)),
            ],
        ),
        M::CapNotPositive { key, cap } => (
            format!("component[{key}]"),
            vec![("component", key.clone()), ("cap", crate::values::number(*cap))],
        ),
        M::GradeLines { grade_a, grade_b } => (
            "grades".into(),
            vec![
                ("a", crate::values::number(*grade_a)),
                ("b", crate::values::number(*grade_b)),
            ],
        ),
    };
    SettingsProblem::new(m.code(), field, params)
}

/// Save the pipeline configuration and send it to phones (same transaction). Returns the new
/// version.
pub fn save_pipeline(
    store: &Store,
    cfg: &PipelineConfig,
    expected: Option<i64>,
    by: Option<&str>,
    now_ms: i64,
) -> Result<i64, SettingsError> {
    validate_pipeline(cfg).map_err(SettingsError::Invalid)?;
    let mut w = store.writer();
    let tx = w.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let current = load_pipeline(&tx)?.version;
    let mut cfg = cfg.clone();
    cfg.version = current + 1;
    let version = write(&tx, "pipeline", current, expected, &cfg, by, now_ms)?;
    crate::customers::feed::publish_pipeline_config(&tx, &cfg, now_ms)?;
    tx.commit()?;
    Ok(version)
}

/// Save the health model (used from the next nightly run on). Returns the new version.
pub fn save_health(
    store: &Store,
    model: &HealthModel,
    expected: Option<i64>,
    by: Option<&str>,
    now_ms: i64,
) -> Result<i64, SettingsError> {
    model
        .validate()
        .map_err(|ps| SettingsError::Invalid(ps.iter().map(model_problem).collect()))?;
    let mut w = store.writer();
    let tx = w.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let current = load_health(&tx)?.version;
    let version = write(&tx, "health", current, expected, model, by, now_ms)?;
    tx.commit()?;
    Ok(version)
}

/// Save the routing rules. Saving always leaves routing paused (`live: false`): a changed rule
/// set goes live only after its own dry run passes (the shared decision). Returns the version.
pub fn save_routing_rules(
    store: &Store,
    rules: &[Rule],
    expected: Option<i64>,
    by: Option<&str>,
    now_ms: i64,
) -> Result<i64, SettingsError> {
    validate_rules(rules).map_err(|ps| SettingsError::Invalid(ps.iter().map(rule_problem).collect()))?;
    let mut w = store.writer();
    let tx = w.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let current = load_routing(&tx)?.version;
    let mut sorted = rules.to_vec();
    sorted.sort_by_key(|r| r.position);
    let body = RoutingSettings {
        rules: sorted,
        live: false,
    };
    let version = write(&tx, "routing", current, expected, &body, by, now_ms)?;
    tx.commit()?;
    Ok(version)
}

/// Add `rule` to the saved list, or replace the rule with its position; the whole list checked
/// and saved as [`save_routing_rules`] does (routing pauses). One transaction.
pub fn upsert_routing_rule(
    store: &Store,
    rule: Rule,
    expected: Option<i64>,
    by: Option<&str>,
    now_ms: i64,
) -> Result<i64, SettingsError> {
    let mut w = store.writer();
    let tx = w.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let current = load_routing(&tx)?;
    let mut rules = current.body.rules;
    rules.retain(|r| r.position != rule.position);
    rules.push(rule);
    rules.sort_by_key(|r| r.position);
    validate_rules(&rules).map_err(|ps| SettingsError::Invalid(ps.iter().map(rule_problem).collect()))?;
    let body = RoutingSettings { rules, live: false };
    let version = write(&tx, "routing", current.version, expected, &body, by, now_ms)?;
    tx.commit()?;
    Ok(version)
}

/// Write the routing row with `live` set (the rules unchanged), inside the caller's transaction.
pub(crate) fn write_routing_live(
    tx: &Connection,
    live: bool,
    by: Option<&str>,
    now_ms: i64,
) -> Result<i64, SettingsError> {
    let current = load_routing(tx)?;
    let body = RoutingSettings {
        rules: current.body.rules,
        live,
    };
    write(tx, "routing", current.version, None, &body, by, now_ms)
}

/// Replace a field rep's qualification tags (trimmed, empty ones dropped, each once).
pub fn set_rep_tags(store: &Store, user_id: &str, tags: &[String]) -> Result<Vec<String>, SettingsError> {
    let tags: BTreeSet<String> = tags
        .iter()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect();
    let mut w = store.writer();
    let tx = w.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let is_rep: bool = tx
        .prepare_cached("SELECT 1 FROM users WHERE id = ?1 AND role = 'rep'")?
        .exists([user_id])?;
    if !is_rep {
        return Err(SettingsError::UnknownRep(user_id.to_string()));
    }
    tx.prepare_cached("DELETE FROM rep_tags WHERE user_id = ?1")?
        .execute([user_id])?;
    for t in &tags {
        tx.prepare_cached("INSERT INTO rep_tags (user_id, tag) VALUES (?1, ?2)")?
            .execute([user_id, t.as_str()])?;
    }
    tx.commit()?;
    Ok(tags.into_iter().collect())
}

/// Every rep's tags: (user id, tags in order), reps without tags left out.
pub fn list_rep_tags(c: &Connection) -> crate::db::Result<Vec<(String, Vec<String>)>> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    let mut st = c.prepare_cached("SELECT user_id, tag FROM rep_tags ORDER BY user_id, tag")?;
    let mut rows = st.query([])?;
    while let Some(r) = rows.next()? {
        let (u, t): (String, String) = (r.get(0)?, r.get(1)?);
        match out.last_mut() {
            Some((last, tags)) if *last == u => tags.push(t),
            _ => out.push((u, vec![t])),
        }
    }
    Ok(out)
}

/// Everything head office set, as one JSON document (`admin pipeline show`): each setting with
/// its version, the reps' tags and the latest dry run.
pub fn settings_document(store: &Store) -> crate::db::Result<serde_json::Value> {
    let w = store.writer();
    let c = &w.conn;
    let pipeline = load_pipeline(c)?;
    let health = load_health(c)?;
    let routing = load_routing(c)?;
    let tags: serde_json::Map<String, serde_json::Value> = list_rep_tags(c)?
        .into_iter()
        .map(|(u, t)| (u, serde_json::json!(t)))
        .collect();
    let last = super::routing_admin::last_dry_run(c)?;
    Ok(serde_json::json!({
        "pipeline": {"version": pipeline.version, "body": pipeline.body},
        "health": {"version": health.version, "body": health.body},
        "routing": {"version": routing.version, "body": routing.body},
        "rep_tags": tags,
        "last_dry_run": last,
    }))
}

/// Save one setting from a JSON document (`admin pipeline set`): `pipeline`, `health`, or
/// `routing` (a rule list, or `{"rules": [...]}`; saving rules always pauses routing).
pub fn save_from_json(
    store: &Store,
    name: &str,
    text: &str,
    by: Option<&str>,
    now_ms: i64,
) -> Result<i64, SettingsError> {
    match name {
        "pipeline" => save_pipeline(store, &parse_json(text)?, None, by, now_ms),
        "health" => save_health(store, &parse_json(text)?, None, by, now_ms),
        "routing" => {
            let rules: Vec<Rule> = match parse_json::<Vec<Rule>>(text) {
                Ok(rules) => rules,
                Err(_) => parse_json::<RoutingSettings>(text)?.rules,
            };
            save_routing_rules(store, &rules, None, by, now_ms)
        }
        _ => Err(SettingsError::BadJson {
            line: 0,
            column: 0,
            message: format!("no setting {name:?} (pipeline, health, routing)"),
        }),
    }
}
