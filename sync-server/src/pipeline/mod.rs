//! Customers and leads on the server (issue 15): which rep a new lead goes to, how well a set of
//! routing rules would have done on past leads, and each customer's health score.
//!
//! This layer is pure so far: [`routing`] and [`health`] take plain values and return plain
//! values (no database, no clock, no HTTP), so the rules, the dry run and the score formula are
//! tested and benchmarked exactly as the server runs them. Storage, the scheduler and the pages
//! build on them and come later; they sit above this module, never below it.

pub mod health;
pub mod routing;
