//! Customers and leads as the server keeps them (客户与线索, issue 15): the rep's ops applied in
//! the push's transaction, the records sent back down the change feed, duplicate keys across
//! reps, and the stores' QR check-in keys. The pure rules are the core's
//! (`fieldproof_core::customers`) and the routing and health engines `crate::pipeline`'s; the
//! scheduled work (deadlines, releases, stalls, the nightly score) is `crate::pipeline_jobs`.

// Until the ingest and the scheduler call it (this session's merges remove the allow).
#[allow(dead_code)]
pub mod feed;
