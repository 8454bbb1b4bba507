//! fieldproof-ffi: the thin uniffi facade the Android and iOS apps call.
//!
//! No business logic lives here. The core's model types cross the boundary as uniffi *remote
//! types* ([`types`]: the mirrors list exactly the fields of the core types, so a core change
//! that is not mirrored fails to compile), every core error becomes one [`FieldproofError`]
//! ([`error`]), and [`FieldproofCore`] forwards each public `Core` method, one domain per module.
//!
//! Threads: every call that touches the disk, the image pipeline or the network is async
//! (Kotlin `suspend`, Swift `async`, a Python coroutine) and runs on a blocking pool, never on
//! the caller's thread ([`blocking`]). Only in-memory getters and setters are plain calls.

mod blocking;
mod core;
mod customers;
mod error;
mod evidence;
mod key_sealer;
mod photo_bytes;
mod photos;
mod sync;
mod types;
mod visits;

pub use crate::core::{FieldproofCore, TableRowCount};
pub use crate::error::FieldproofError;
pub use crate::evidence::{verify_evidence_chain, verify_photo_evidence};
pub use crate::key_sealer::{KeySealer, KeySealerError};
pub use crate::photo_bytes::PhotoBytes;
pub use crate::sync::{SyncCancel, SyncListener};

uniffi::setup_scaffolding!();

type Result<T, E = FieldproofError> = std::result::Result<T, E>;
