//! What a push batch knows of the visits its ops are about, read once at the batch's start
//! (one statement) instead of once per op: on PostgreSQL every statement is a round trip under
//! the write lock, and a batch of 200 ops is ~20 visits.
//!
//! The answers must be exactly what one query per op would have found. They are: the batch runs
//! under the write lock (nothing else writes meanwhile), and what the batch itself writes is
//! added as it goes (`ApplyCtx` in `apply`). A visit the read did not cover is looked up as
//! before, and the two shortcuts taken (no exceptions to move, no photos awaited) fall back to
//! the statement whenever the batch ran code that could invalidate them.

use std::collections::{HashMap, HashSet};

use crate::db::{Connection, params};
use crate::error::ApiResult;

use super::parse::Candidate;

/// What never changes about a visit once the server has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct KnownVisit {
    pub(super) user_id: String,
    pub(super) store_id: String,
    pub(super) template_id: String,
    pub(super) template_version: u32,
}

#[derive(Default)]
pub(super) struct BatchVisits {
    /// Every visit id the read at the batch's start covered.
    covered: HashSet<String>,
    /// Visits the server has (before the batch, or stored by it).
    known: HashMap<String, KnownVisit>,
    /// Covered visits that had an exception when the batch started.
    with_exceptions: HashSet<String>,
    /// Visits with a photo whose bytes have not arrived (when the batch started, or a photo op
    /// of the batch).
    awaiting_photos: HashSet<String>,
}

impl BatchVisits {
    /// The batch's visits as the server has them now: one statement for all the entity ids.
    pub(super) fn read(c: &Connection, cands: &[Candidate<'_>]) -> ApiResult<BatchVisits> {
        let mut ids: Vec<&str> = cands
            .iter()
            .filter_map(|c| c.parsed.as_ref().ok())
            // Customer and lead ops are about no visit (`crate::customers::apply` reads theirs).
            .filter(|p| p.action.visit_id().is_some())
            .map(|p| p.fields.entity_id.as_str())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let mut out = BatchVisits::default();
        if ids.is_empty() {
            return Ok(out);
        }
        let list = c.dialect().text_list("?1");
        let mut st = c.prepare_cached(&format!(
            "SELECT 'visit', id, user_id, store_id, template_id, template_version FROM visits WHERE id IN {list}
             UNION ALL SELECT DISTINCT 'exception', visit_id, NULL, NULL, NULL, CAST(NULL AS BIGINT) FROM exceptions
               WHERE visit_id IN {list}
             UNION ALL SELECT DISTINCT 'photo', visit_id, NULL, NULL, NULL, CAST(NULL AS BIGINT) FROM photos
               WHERE visit_id IN {list} AND received = 0"
        ))?;
        let mut rows = st.query(params![serde_json::to_string(&ids)?])?;
        while let Some(r) = rows.next()? {
            let what: String = r.get(0)?;
            let id: String = r.get(1)?;
            match what.as_str() {
                "visit" => {
                    let v = KnownVisit {
                        user_id: r.get(2)?,
                        store_id: r.get(3)?,
                        template_id: r.get(4)?,
                        template_version: r.get(5)?,
                    };
                    out.known.insert(id, v);
                }
                "exception" => {
                    out.with_exceptions.insert(id);
                }
                _ => {
                    out.awaiting_photos.insert(id);
                }
            }
        }
        out.covered = ids.into_iter().map(str::to_string).collect();
        Ok(out)
    }

    /// `Some(None)`: the read covered the visit and the server does not have it; `None`: not
    /// covered, ask the database.
    pub(super) fn get(&self, visit_id: &str) -> Option<Option<&KnownVisit>> {
        match self.known.get(visit_id) {
            Some(v) => Some(Some(v)),
            None if self.covered.contains(visit_id) => Some(None),
            None => None,
        }
    }

    /// The visit is stored now (by this batch, or found by a lookup).
    pub(super) fn stored(&mut self, visit_id: &str, v: KnownVisit) {
        self.known.insert(visit_id.to_string(), v);
    }

    /// Whether the visit may have exceptions, unless the batch ran code that raises them.
    pub(super) fn had_exceptions(&self, visit_id: &str) -> bool {
        !self.covered.contains(visit_id) || self.with_exceptions.contains(visit_id)
    }

    /// Whether the visit may have a photo whose bytes have not arrived.
    pub(super) fn may_await_photos(&self, visit_id: &str) -> bool {
        !self.covered.contains(visit_id) || self.awaiting_photos.contains(visit_id)
    }

    /// A photo op of the batch named this visit.
    pub(super) fn photo_added(&mut self, visit_id: &str) {
        self.awaiting_photos.insert(visit_id.to_string());
    }
}
