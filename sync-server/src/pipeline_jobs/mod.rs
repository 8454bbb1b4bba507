//! The pipeline's storage and scheduled work (issue 15, server part C2): head office's settings
//! (`pipeline_settings`: the pipeline, the health model, the routing rules), reps' qualification
//! tags, the routing admin (save rules, dry run over the last 30 days of leads, go live), lead
//! intake ([`route_new_leads`]) and the scheduler that runs the lead deadline, the 7-day release,
//! stall detection, escalation and the nightly health score.
//!
//! The decisions are the pure engines' (`crate::pipeline::{routing, health}`); this module only
//! reads their inputs from the database and writes their results, each user action or job run in
//! one transaction.
//!
//! Exactly once with several replicas: every due run is a `pipeline_jobs` row (job, run key)
//! taken by a conditional UPDATE (a lease); the run's effects and its `done_ms` commit together.
//! On top of that every effect is conditional on the row's state (a lead already in the pool is
//! not returned twice, a stall already raised for this stage entry is not raised again), so even
//! two runs of the same job change nothing twice.

pub mod health_job;
pub mod jobs;
pub mod routing_admin;
pub mod settings;

pub use health_job::{HealthRunSummary, run_health};
pub use jobs::{Clock, JobOutcome, JobReport, run_due_jobs, spawn_scheduler};
pub use routing_admin::{
    GoLiveRefusal, RouteSummary, StoredDryRun, dry_run_routing, go_live, last_dry_run, route_new_leads,
    set_routing_paused,
};
pub use settings::{
    RoutingSettings, SettingsError, SettingsProblem, Versioned, list_rep_tags, load_health, load_pipeline,
    load_routing, save_from_json, save_health, save_pipeline, save_routing_rules, set_rep_tags,
    settings_document,
};

pub(crate) const MINUTE_MS: i64 = 60_000;
pub(crate) const DAY_MS: i64 = 86_400_000;

/// The helper that sends a saved pipeline configuration down the change feed. It belongs to
/// `crate::customers::feed` (the ingest's branch adds it there); until that lands this local
/// shim stands in with the same name and signature, writing the same change kind, so the
/// lead's merge replaces the body of this one function by the call.
pub(crate) mod feed_shim {
    use fieldproof_core::customers::PipelineConfig;

    use crate::db::Connection;
    use crate::store::{NewChange, append_changes};

    /// `crate::customers::feed::publish_pipeline_config(tx, cfg, now_ms)`.
    pub(crate) fn publish_pipeline_config(
        tx: &Connection,
        cfg: &PipelineConfig,
        now_ms: i64,
    ) -> crate::db::Result<()> {
        let body =
            serde_json::to_string(cfg).map_err(|e| crate::db::Error::ToSqlConversionFailure(e.into()))?;
        // Every phone reads the same configuration: an unscoped change, like reference data.
        append_changes(
            tx,
            &[NewChange {
                kind: "pipeline_config",
                id: "pipeline".to_string(),
                scope_user: None,
                scope_territory: None,
                body,
            }],
            now_ms,
        )
    }
}
