//! The core's public types as uniffi remote types, by domain. Nothing here is re-exported: the
//! mirrors only teach uniffi how the core's own types cross the boundary.

mod customers;
mod evidence;
mod outbox;
mod photos;
mod records;
mod reference;
mod sync;
