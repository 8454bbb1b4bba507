//! Prometheus text metrics from plain atomics: no registry, no dependency. Route labels come
//! from the router's matched path (a fixed set), never from the raw URL, so a scanner cannot
//! blow up the label space. The route list is given ([`Metrics::new`]): a leaf under the router
//! and the store, which knows nothing of either.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crate::lock::lock;

const CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

#[derive(Debug)]
pub struct Metrics {
    /// The routes requests are labelled with, as (method, path template).
    routes: &'static [(&'static str, &'static str)],
    /// [route index (`routes`, then "other")][status class]
    requests: Vec<[AtomicU64; 5]>,
    ops_applied: AtomicU64,
    ops_duplicate: AtomicU64,
    ops_rejected: Mutex<BTreeMap<String, u64>>,
    photo_bytes: AtomicU64,
    photos_completed: AtomicU64,
    pull_changes: AtomicU64,
    exceptions: Mutex<BTreeMap<String, u64>>,
    connections_refused: AtomicU64,
}

impl Metrics {
    /// Counters for requests to `routes` (the server passes [`crate::ROUTES`]); any other path
    /// is counted as `route="other"`.
    pub fn new(routes: &'static [(&'static str, &'static str)]) -> Self {
        Metrics {
            routes,
            requests: (0..=routes.len()).map(|_| Default::default()).collect(),
            ops_applied: AtomicU64::new(0),
            ops_duplicate: AtomicU64::new(0),
            ops_rejected: Mutex::new(BTreeMap::new()),
            photo_bytes: AtomicU64::new(0),
            photos_completed: AtomicU64::new(0),
            pull_changes: AtomicU64::new(0),
            exceptions: Mutex::new(BTreeMap::new()),
            connections_refused: AtomicU64::new(0),
        }
    }
}

impl Metrics {
    pub(crate) fn record_refused_connection(&self) {
        self.connections_refused.fetch_add(1, Relaxed);
    }

    pub(crate) fn record_request(&self, method: &str, route: Option<&str>, status: u16) {
        let i = route
            .and_then(|r| self.routes.iter().position(|(m, p)| *m == method && *p == r))
            .unwrap_or(self.routes.len());
        let class = usize::from(status / 100).clamp(1, 5) - 1;
        self.requests[i][class].fetch_add(1, Relaxed);
    }

    pub(crate) fn record_push(
        &self,
        applied: u64,
        duplicate: u64,
        rejected: &HashMap<String, u64>,
        exceptions: &[String],
    ) {
        self.ops_applied.fetch_add(applied, Relaxed);
        self.ops_duplicate.fetch_add(duplicate, Relaxed);
        if !rejected.is_empty() {
            let mut m = lock(&self.ops_rejected);
            for (reason, n) in rejected {
                *m.entry(reason.clone()).or_default() += n;
            }
        }
        self.record_exceptions(exceptions);
    }

    pub(crate) fn record_exceptions(&self, codes: &[String]) {
        if codes.is_empty() {
            return;
        }
        let mut m = lock(&self.exceptions);
        for c in codes {
            *m.entry(c.clone()).or_default() += 1;
        }
    }

    pub(crate) fn record_photo_bytes(&self, n: u64) {
        self.photo_bytes.fetch_add(n, Relaxed);
    }

    pub(crate) fn record_photo_completed(&self) {
        self.photos_completed.fetch_add(1, Relaxed);
    }

    pub(crate) fn record_pull(&self, changes: u64) {
        self.pull_changes.fetch_add(changes, Relaxed);
    }

    /// Prometheus text exposition format 0.0.4.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP fieldproof_http_requests_total HTTP requests by route and status class."
        );
        let _ = writeln!(out, "# TYPE fieldproof_http_requests_total counter");
        for (i, counts) in self.requests.iter().enumerate() {
            let (method, route) = self.routes.get(i).copied().unwrap_or(("", "other"));
            for (c, n) in counts.iter().enumerate() {
                let n = n.load(Relaxed);
                if n > 0 || route != "other" {
                    let _ = writeln!(
                        out,
                        "fieldproof_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{}\"}} {n}",
                        CLASSES[c]
                    );
                }
            }
        }
        let _ = writeln!(out, "# HELP fieldproof_ops_total Pushed ops by outcome.");
        let _ = writeln!(out, "# TYPE fieldproof_ops_total counter");
        let _ = writeln!(
            out,
            "fieldproof_ops_total{{status=\"applied\"}} {}",
            self.ops_applied.load(Relaxed)
        );
        let _ = writeln!(
            out,
            "fieldproof_ops_total{{status=\"duplicate\"}} {}",
            self.ops_duplicate.load(Relaxed)
        );
        let rejected = lock(&self.ops_rejected).clone();
        let total_rejected: u64 = rejected.values().sum();
        let _ = writeln!(
            out,
            "fieldproof_ops_total{{status=\"rejected\"}} {total_rejected}"
        );
        let _ = writeln!(
            out,
            "# HELP fieldproof_ops_rejected_total Rejected ops by reason."
        );
        let _ = writeln!(out, "# TYPE fieldproof_ops_rejected_total counter");
        for (reason, n) in rejected {
            let _ = writeln!(out, "fieldproof_ops_rejected_total{{reason=\"{reason}\"}} {n}");
        }
        let _ = writeln!(
            out,
            "# HELP fieldproof_connections_refused_total Connections answered 503 at a connection cap."
        );
        let _ = writeln!(out, "# TYPE fieldproof_connections_refused_total counter");
        let _ = writeln!(
            out,
            "fieldproof_connections_refused_total {}",
            self.connections_refused.load(Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP fieldproof_photo_bytes_received_total Photo chunk bytes stored."
        );
        let _ = writeln!(out, "# TYPE fieldproof_photo_bytes_received_total counter");
        let _ = writeln!(
            out,
            "fieldproof_photo_bytes_received_total {}",
            self.photo_bytes.load(Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP fieldproof_photos_completed_total Photos whose bytes were completed and stored."
        );
        let _ = writeln!(out, "# TYPE fieldproof_photos_completed_total counter");
        let _ = writeln!(
            out,
            "fieldproof_photos_completed_total {}",
            self.photos_completed.load(Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP fieldproof_pull_changes_total Changes served by pulls."
        );
        let _ = writeln!(out, "# TYPE fieldproof_pull_changes_total counter");
        let _ = writeln!(
            out,
            "fieldproof_pull_changes_total {}",
            self.pull_changes.load(Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP fieldproof_exceptions_total Exceptions recorded, by code."
        );
        let _ = writeln!(out, "# TYPE fieldproof_exceptions_total counter");
        for (code, n) in lock(&self.exceptions).iter() {
            let _ = writeln!(out, "fieldproof_exceptions_total{{code=\"{code}\"}} {n}");
        }
        out
    }
}
