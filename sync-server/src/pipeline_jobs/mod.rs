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
pub(crate) use crate::calendar::DAY_MS;
