//! Customers and leads as the server keeps them (客户与线索, issue 15): the rep's ops applied in
//! the push's transaction (`apply`), the records sent back down the change feed (`feed`),
//! duplicate keys across reps (`duplicates`), and the stores' QR check-in keys (`store_keys`).
//! The pure rules are the core's (`fieldproof_core::customers`) and the routing and health
//! engines `crate::pipeline`'s; the scheduled work (deadlines, releases, stalls, the nightly
//! score) is `crate::pipeline_jobs`.

pub(crate) mod apply;
pub mod config;
pub(crate) mod duplicates;
pub mod feed;
pub mod store_keys;
