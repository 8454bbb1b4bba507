//! The core object: opening, identity, reference data, diagnostics.

use std::sync::Arc;

use fieldproof_core::{AuditReport, LoadSummary, ReferenceData};

use crate::Result;
use crate::blocking::blocking;

/// One core per phone database (one per process). Every action is one SQLite transaction that
/// writes its rows, its outbox operation and its flags together; a refused action writes
/// nothing. Safe to call from any thread; calls are serialised inside, on a blocking pool.
#[derive(Debug, uniffi::Object)]
pub struct FieldproofCore {
    pub(crate) inner: fieldproof_core::Core,
}

impl FieldproofCore {
    /// Run `action` against the core on the blocking pool (see [`blocking`]). The `Arc` keeps the
    /// core alive until the action ends, even if the app drops its last reference meanwhile.
    pub(crate) async fn run<T, F>(self: Arc<Self>, action: F) -> Result<T>
    where
        F: FnOnce(&fieldproof_core::Core) -> fieldproof_core::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        blocking(move || Ok(action(&self.inner)?)).await
    }
}

/// Getters of what the core holds in memory: plain calls.
#[uniffi::export]
impl FieldproofCore {
    /// This installation's id, made on first open.
    pub fn device_id(&self) -> String {
        self.inner.device_id().to_string()
    }

    /// The device's Ed25519 public key (64 hex characters), for enrolment. The private key never
    /// leaves the device database.
    pub fn device_public_key(&self) -> String {
        self.inner.device_public_key()
    }

    /// The folder photo files are written to.
    pub fn photo_dir(&self) -> String {
        self.inner.photo_dir().to_string_lossy().into_owned()
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl FieldproofCore {
    /// Open (create, migrate) the database file at `path`. Photos are kept in `<path>.photos/`.
    /// Async: opening migrates the schema and makes the device key on first run.
    #[uniffi::constructor]
    pub async fn open(path: String) -> Result<Arc<Self>> {
        blocking(move || {
            Ok(Arc::new(FieldproofCore {
                inner: fieldproof_core::Core::open(path)?,
            }))
        })
        .await
    }

    /// Open a fresh in-memory database (tests, previews). Photos go to a new temporary folder,
    /// removed when the core is dropped.
    #[uniffi::constructor]
    pub async fn open_in_memory() -> Result<Arc<Self>> {
        blocking(|| {
            Ok(Arc::new(FieldproofCore {
                inner: fieldproof_core::Core::open_in_memory()?,
            }))
        })
        .await
    }

    /// Load head-office reference data. Validated as a whole; nothing is written if any record is bad.
    pub async fn load_reference_data(self: Arc<Self>, data: ReferenceData) -> Result<LoadSummary> {
        self.run(move |core| core.load_reference_data(&data)).await
    }

    /// The same from the JSON document the server sends.
    pub async fn load_reference_json(self: Arc<Self>, json: String) -> Result<LoadSummary> {
        self.run(move |core| core.load_reference_json(&json)).await
    }

    /// Remember the server's clock (every sync response carries it, Unix ms) for later clock checks.
    pub async fn record_server_time(self: Arc<Self>, server_wall_ms: i64) -> Result<()> {
        self.run(move |core| core.record_server_time(server_wall_ms))
            .await
    }

    /// SQLite's full consistency check of the database file: `["ok"]` when healthy.
    pub async fn integrity_check(self: Arc<Self>) -> Result<Vec<String>> {
        self.run(move |core| core.integrity_check()).await
    }

    /// Rows per table, by table name: for diagnostics screens, and for tests that prove a refused
    /// action wrote nothing.
    pub async fn table_row_counts(self: Arc<Self>) -> Result<Vec<TableRowCount>> {
        let counts = self.run(|core| core.table_row_counts()).await?;
        Ok(counts
            .into_iter()
            .map(|(table, rows)| TableRowCount { table, rows })
            .collect())
    }

    /// Check the invariants that make "nothing is lost" provable: contiguous outbox sequence,
    /// every action's rows with its operation and every operation with its rows. Clean when
    /// `problems` is empty.
    pub async fn audit(self: Arc<Self>) -> Result<AuditReport> {
        self.run(move |core| core.audit()).await
    }
}

/// One table's row count. An FFI-side record: the core returns `(String, i64)` tuples, which
/// uniffi cannot carry.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TableRowCount {
    pub table: String,
    pub rows: i64,
}
