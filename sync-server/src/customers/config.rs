//! Head office's pipeline settings as everything below the settings pages reads them: the
//! `pipeline` row of `pipeline_settings`, else the defaults. A row that does not read as settings
//! (written by a newer server) is the defaults too, so the ingest, the import and the pages keep
//! working; the settings page (`crate::pipeline_jobs::settings`, which also checks versions on
//! save) says what is wrong with it.

use fieldproof_core::customers::PipelineConfig;

use crate::db::{Connection, OptionalExtension};

pub fn pipeline_config(c: &Connection) -> crate::db::Result<PipelineConfig> {
    let row: Option<(i64, String)> = c
        .prepare_cached("SELECT version, body FROM pipeline_settings WHERE name = 'pipeline'")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    Ok(match row {
        Some((version, body)) => {
            let mut cfg: PipelineConfig = serde_json::from_str(&body).unwrap_or_default();
            cfg.version = version;
            cfg
        }
        None => PipelineConfig::default(),
    })
}
