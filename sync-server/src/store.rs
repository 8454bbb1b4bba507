//! [`Store`]: the server's state (database, photo folders, limits, metrics) and the admin
//! operations. The protocol operations are in `auth`, `ingest`, `photos` and `pull`, as more
//! `impl Store` blocks.

pub(crate) use crate::change_feed::{NewChange, append_change, append_changes};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::db::{Connection, Database, OptionalExtension, Transaction, TransactionBehavior, params};
use fieldproof_core::model::{
    CheckTemplate, PlannedVisit, Product, ReferenceData, Role, Store as StoreRecord, User,
};
use fieldproof_core::reference_check::{ReferenceCheckError, validate_reference};
use fieldproof_core::sync::wire::{TeamVisit, TeamVisitPhoto};
use serde::Serialize;

use crate::blobs::{BlobStore, PhotoLocation};
use crate::error::{ApiError, ApiResult};
use crate::limits::Limits;
use crate::lock::lock;
use crate::metrics::Metrics;
use crate::photo_reuse::ReuseIndex;

/// Failures of the admin operations (and of opening the data directory).
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("{0}")]
    Invalid(String),
    #[error("reference data refused, nothing loaded: {0}")]
    BadReference(String),
    #[error("unknown user {0:?}: load reference data with this user first")]
    UnknownUser(String),
    #[error("unknown device {0:?}")]
    UnknownDevice(String),
    #[error("user {0:?} is deactivated")]
    DeactivatedUser(String),
    /// An admin command on a folder without a database: a mistyped `--data-dir` must not
    /// silently become a new, empty server.
    #[error(
        "no Fieldproof database in {0} (no {DB_FILE} there): check --data-dir / FIELDPROOF_DATA_DIR; \
         to start a new server there, run `fieldproof-server admin --data-dir {0} init` (or `serve`)"
    )]
    NoDatabase(String),
    /// The same for `--database postgres://…`.
    #[error(
        "no Fieldproof database at {0}: check --database / FIELDPROOF_DATABASE; to start a new \
         server there, run `fieldproof-server admin --database <address> init` (or `serve`)"
    )]
    NoPostgresDatabase(String),
    #[error("database: {0}")]
    Db(#[from] crate::db::Error),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Photos(#[from] crate::blobs::BlobError),
    #[error("{0}")]
    Api(#[from] ApiError),
}

/// `admin check-photos`: what the photo store holds, re-hashed.
#[derive(Debug, Default, Serialize)]
pub struct PhotoCheck {
    /// Photos whose bytes hash to their name, by hash.
    pub intact: Vec<String>,
    /// Photos whose bytes are missing or hash to something else.
    pub damaged: Vec<String>,
}

pub(crate) struct Writer {
    pub conn: Connection,
    /// Published template versions never change, so a parsed copy never goes stale.
    pub templates: HashMap<(String, u32), Arc<CheckTemplate>>,
    /// Stored photos' perceptual hashes, for the reuse check: the committed `blobs` rows up
    /// to row `reuse_seen`. Several server processes (replicas) store photos in one database,
    /// so this copy is never trusted to be whole: [`refresh_reuse`] first adds the rows stored
    /// since, by any process. Loaded on first use or by [`Store::load_reuse_index`] (the admin
    /// CLI never needs it).
    pub reuse: Option<ReuseIndex>,
    /// The highest `blobs` row already in `reuse`.
    pub reuse_seen: i64,
    pub last_nonce_prune_ms: i64,
}

impl Writer {
    /// The reuse index, brought up to date with the database.
    pub fn reuse_index(&mut self) -> crate::db::Result<&mut ReuseIndex> {
        let Writer {
            conn,
            reuse,
            reuse_seen,
            ..
        } = self;
        refresh_reuse(conn, reuse, reuse_seen)
    }
}

/// Add the `blobs` rows above `seen` to the reuse index (all of them the first time) and
/// return it. Rows are numbered in commit order: every photo is stored by a writer
/// transaction, which on PostgreSQL holds the one writer lock of all processes, and a `blobs`
/// row is never deleted; so everything at or below `seen` is already in. Called inside the
/// writer transaction that stores the next photo, it sees every photo stored before it.
pub(crate) fn refresh_reuse<'a>(
    c: &Connection,
    reuse: &'a mut Option<ReuseIndex>,
    seen: &mut i64,
) -> crate::db::Result<&'a mut ReuseIndex> {
    let first = reuse.is_none();
    let started = std::time::Instant::now();
    let index = reuse.get_or_insert_with(ReuseIndex::new);
    let mut st = c.prepare_cached(
        "SELECT rowid, phash, sha256, coalesce(visit_id, '') FROM blobs WHERE rowid > ?1 ORDER BY rowid",
    )?;
    let mut rows = st.query([*seen])?;
    while let Some(r) = rows.next()? {
        let row: i64 = r.get(0)?;
        let phash: Option<String> = r.get(1)?;
        let sha256: String = r.get(2)?;
        let visit_id: String = r.get(3)?;
        // Written by `finish` as 16 hex digits; anything else (or none) was never a hash.
        if let Some(phash) = phash.and_then(|p| u64::from_str_radix(&p, 16).ok()) {
            index.insert(phash, &sha256, &visit_id);
        }
        *seen = (*seen).max(row);
    }
    if first {
        tracing::info!(
            photos = index.len(),
            bytes = index.heap_bytes(),
            ms = started.elapsed().as_millis() as u64,
            "reuse index loaded"
        );
    }
    Ok(index)
}

/// The server: database, photo folders, limits, metrics. `Sync`: share it in an `Arc`.
pub struct Store {
    pub(crate) data_dir: PathBuf,
    /// Where the database is (SQLite in the data directory, or PostgreSQL).
    database: Database,
    /// Every photo byte: originals, uploads in progress, gallery previews (a cache, made again
    /// when missing). The data folder's, or a bucket's (`--photos`).
    pub(crate) blobs: Arc<dyn BlobStore>,
    pub(crate) limits: Limits,
    pub(crate) metrics: Arc<Metrics>,
    writer: Mutex<Writer>,
    readers: Mutex<Vec<Connection>>,
    /// One lock per photo being uploaded: two requests appending to the same partial file at
    /// once (a client retrying while its first attempt is still in flight) would interleave.
    upload_locks: Mutex<HashMap<String, Arc<Mutex<()>>>>,
    /// The web sign-in's password checks, started on first use (the admin CLI never signs in).
    passwords: std::sync::OnceLock<crate::password::Checker>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("data_dir", &self.data_dir)
            .finish_non_exhaustive()
    }
}

/// Readers are kept for reuse up to this many; more are opened under load and dropped after.
const MAX_IDLE_READERS: usize = 8;

pub(crate) struct Reader<'a> {
    conn: Option<Connection>,
    pool: &'a Mutex<Vec<Connection>>,
}

impl std::ops::Deref for Reader<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        // Only `Drop` takes it out.
        match &self.conn {
            Some(c) => c,
            None => unreachable!("reader used after drop"),
        }
    }
}

impl std::ops::DerefMut for Reader<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        match &mut self.conn {
            Some(c) => c,
            None => unreachable!("reader used after drop"),
        }
    }
}

impl Reader<'_> {
    /// Close this connection instead of pooling it (it may hold a session lock it failed to
    /// release).
    fn discard(mut self) {
        self.conn = None;
    }
}

/// The first key of the upload locks' PostgreSQL advisory locks (two-key form): "fp", so they
/// never meet the writer lock (one-key form) or another application's.
const UPLOAD_LOCK_SPACE: i32 = 0x6670;

/// The second key: the hash's first 32 bits (two photos sharing them only wait for each other).
fn upload_lock_key(sha256: &str) -> i32 {
    sha256
        .get(..8)
        .and_then(|h| u32::from_str_radix(h, 16).ok())
        .map_or(0, |k| k as i32)
}

/// [`Store::upload_lock`]: derefs to the in-process mutex.
pub(crate) struct UploadLock<'a> {
    local: Arc<Mutex<()>>,
    shared: Option<(Reader<'a>, i32)>,
}

impl std::ops::Deref for UploadLock<'_> {
    type Target = Mutex<()>;
    fn deref(&self) -> &Mutex<()> {
        &self.local
    }
}

impl Drop for UploadLock<'_> {
    fn drop(&mut self) {
        if let Some((r, key)) = self.shared.take() {
            match r.query_row(
                "SELECT pg_advisory_unlock(?1, ?2)",
                params![UPLOAD_LOCK_SPACE, key],
                |row| row.get::<_, bool>(0),
            ) {
                Ok(_) => drop(r),
                Err(e) => {
                    tracing::warn!(error = %e, "releasing an upload lock failed; closing its connection");
                    r.discard();
                }
            }
        }
    }
}

impl Drop for Reader<'_> {
    fn drop(&mut self) {
        if let Some(c) = self.conn.take() {
            if c.is_broken() {
                // The database went away under this one, so under the idle ones too (they
                // only find out at their next statement): close them all now, so one request
                // meets the break instead of one per idle connection.
                lock(self.pool).clear();
                return;
            }
            let mut pool = lock(self.pool);
            if pool.len() < MAX_IDLE_READERS {
                pool.push(c);
            }
        }
    }
}

/// Whether the reference record `id` in `table` already has exactly this body: reloading the
/// same data must add nothing to the change feed (phones would pull it again for nothing).
fn body_unchanged(
    tx: &Transaction<'_>,
    table: &'static str,
    id: &str,
    body: &str,
) -> crate::db::Result<bool> {
    let old: Option<String> = tx
        .prepare_cached(&format!("SELECT body FROM {table} WHERE id = ?1"))?
        .query_row([id], |r| r.get(0))
        .optional()?;
    Ok(old.as_deref() == Some(body))
}

pub(crate) const DB_FILE: &str = "fieldproof.db";

impl Store {
    /// Open (create, migrate) the data directory with the default limits.
    pub fn open(data_dir: impl AsRef<Path>) -> Result<Store, AdminError> {
        Store::open_with(data_dir.as_ref(), Limits::default())
    }

    /// Open a data directory that already holds a database (the admin commands): refused with
    /// [`AdminError::NoDatabase`], creating nothing, when it does not.
    pub fn open_existing(data_dir: &Path, limits: Limits) -> Result<Store, AdminError> {
        Store::open_existing_in(
            data_dir,
            Store::database_for(data_dir, None)?,
            limits,
            &PhotoLocation::DataDir,
        )
    }

    /// [`Store::open_existing`] with the database and the photos where the flags say
    /// (`--database`, `--photos`).
    pub fn open_existing_in(
        data_dir: &Path,
        database: Database,
        limits: Limits,
        photos: &PhotoLocation,
    ) -> Result<Store, AdminError> {
        if !crate::db::exists(&database)? {
            return Err(match database {
                Database::Sqlite(_) => AdminError::NoDatabase(data_dir.display().to_string()),
                Database::Postgres(_) => AdminError::NoPostgresDatabase(database.to_string()),
            });
        }
        Store::open_in(data_dir, database, limits, photos)
    }

    /// Whether `data_dir` holds a server database (a file, not necessarily migrated yet).
    pub fn has_database(data_dir: &Path) -> bool {
        data_dir.join(DB_FILE).is_file()
    }

    /// Where the database of `data_dir` is: `url` (`--database` / `FIELDPROOF_DATABASE`, a
    /// `postgres://` address) when given, else the SQLite file in the data directory.
    pub fn database_for(data_dir: &Path, url: Option<&str>) -> Result<Database, AdminError> {
        Ok(Database::from_flag(url, data_dir, DB_FILE)?)
    }

    /// The database this store uses.
    pub fn database(&self) -> &Database {
        &self.database
    }

    /// Open (create, migrate) SQLite and photos in the data directory.
    pub fn open_with(data_dir: &Path, limits: Limits) -> Result<Store, AdminError> {
        Store::open_in(
            data_dir,
            Store::database_for(data_dir, None)?,
            limits,
            &PhotoLocation::DataDir,
        )
    }

    /// Open (create, migrate) with the database where `database` says (`--database`) and the
    /// photos where `photos` says (`--photos`).
    pub fn open_in(
        data_dir: &Path,
        database: Database,
        limits: Limits,
        photos: &PhotoLocation,
    ) -> Result<Store, AdminError> {
        std::fs::create_dir_all(data_dir)?;
        let blobs = photos.open(data_dir)?;
        let conn = crate::db::open(&database)?;
        let filled = fill_visit_days(&conn, limits.calendar)?;
        if filled > 0 {
            tracing::info!(exceptions = filled, calendar = %limits.calendar, "visit days filled in");
        }
        Ok(Store {
            data_dir: data_dir.to_path_buf(),
            database,
            blobs,
            limits,
            metrics: Arc::new(Metrics::new(crate::routes::ROUTES)),
            writer: Mutex::new(Writer {
                conn,
                templates: HashMap::new(),
                reuse: None,
                reuse_seen: 0,
                last_nonce_prune_ms: 0,
            }),
            readers: Mutex::new(Vec::new()),
            upload_locks: Mutex::new(HashMap::new()),
            passwords: std::sync::OnceLock::new(),
        })
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Where photo bytes are kept, for logs (`folder …`, `s3://bucket/prefix`).
    pub fn photo_store(&self) -> String {
        self.blobs.describe()
    }

    /// Readiness of the photo store (`/readyz`): the folder is readable, the bucket answers.
    pub fn photo_store_check(&self) -> Result<(), crate::blobs::BlobError> {
        self.blobs.check()
    }

    /// Every stored photo re-read and re-hashed (`admin check-photos`): the hashes of the
    /// photos whose bytes match their name, and the names of those that do not.
    pub fn check_photos(&self) -> Result<PhotoCheck, AdminError> {
        let mut report = PhotoCheck::default();
        for sha in self.blobs.photo_hashes()? {
            match crate::blobs::read_photo(&*self.blobs, &sha)? {
                Some(bytes) if fieldproof_core::evidence::sha256_hex(&bytes) == sha => {
                    report.intact.push(sha)
                }
                _ => report.damaged.push(sha),
            }
        }
        Ok(report)
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The field's calendar (time zone) this store's days are counted in.
    pub fn calendar(&self) -> crate::calendar::Calendar {
        self.limits.calendar
    }

    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// The bounded pool that verifies sign-in passwords.
    pub(crate) fn passwords(&self) -> &crate::password::Checker {
        self.passwords.get_or_init(|| {
            crate::password::Checker::start(self.limits.password_checks, self.limits.password_wait)
        })
    }

    pub(crate) fn reader(&self) -> ApiResult<Reader<'_>> {
        // A pooled connection may have broken while idle (the database restarted): skip it.
        let pooled = {
            let mut pool = lock(&self.readers);
            std::iter::from_fn(|| pool.pop()).find(|c| !c.is_broken())
        };
        let conn = match pooled {
            Some(c) => c,
            // Unreachable (the database restarting): 503, retried; anything else a bug, 500.
            None => crate::db::open_reader(&self.database).map_err(ApiError::from)?,
        };
        Ok(Reader {
            conn: Some(conn),
            pool: &self.readers,
        })
    }

    /// The one writer connection, reconnected first if the database dropped it (a PostgreSQL
    /// restart or failover): the request that met the break failed, the ones after it work.
    /// If the database is still away, the broken connection stays and the request fails as the
    /// database's error; the next one tries again.
    pub(crate) fn writer(&self) -> MutexGuard<'_, Writer> {
        let mut w = lock(&self.writer);
        if w.conn.is_broken() {
            match crate::db::open(&self.database) {
                Ok(conn) => {
                    tracing::warn!("the database connection was lost; writing through a new one");
                    w.conn = conn;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "the database connection was lost and reconnecting failed")
                }
            }
        }
        w
    }

    /// The lock of one photo's upload: lock the returned mutex. On PostgreSQL it also holds a
    /// session advisory lock on the hash (on a reader connection, until dropped), so requests
    /// for the same photo on other servers of the same database wait too; there a wait past the
    /// busy timeout fails as busy (503, the client retries).
    pub(crate) fn upload_lock(&self, sha256: &str) -> ApiResult<UploadLock<'_>> {
        let shared = match self.database.dialect() {
            crate::db::Dialect::Sqlite => None,
            crate::db::Dialect::Postgres => {
                let key = upload_lock_key(sha256);
                let r = self.reader()?;
                r.query_row(
                    "SELECT pg_advisory_lock(?1, ?2)",
                    params![UPLOAD_LOCK_SPACE, key],
                    |_| Ok(()),
                )?;
                Some((r, key))
            }
        };
        let mut locks = lock(&self.upload_locks);
        // Forget locks nobody holds any more, so the map stays as small as the uploads in flight.
        locks.retain(|_, l| Arc::strong_count(l) > 1);
        Ok(UploadLock {
            local: locks.entry(sha256.to_string()).or_default().clone(),
            shared,
        })
    }

    /// Load the reuse check's index of every stored photo's perceptual hash now, so the first
    /// photo uploaded after a start does not wait for it (about a second per million photos).
    /// Returns the number of photos in it.
    pub fn load_reuse_index(&self) -> Result<usize, AdminError> {
        let mut w = self.writer();
        Ok(w.reuse_index()?.len())
    }

    /// Fold the WAL into the database file (at shutdown; a crash without it loses nothing).
    pub fn checkpoint(&self) {
        let w = self.writer();
        if let Err(e) = w.conn.checkpoint() {
            tracing::warn!(error = %e, "WAL checkpoint at shutdown failed");
        }
    }

    // --- admin -----------------------------------------------------------------------------

    /// Load head-office reference data: validated as a whole by the core's own validation
    /// (against what the server already holds), then upserted in one transaction. Each new or
    /// changed record appends a change-feed row; an unchanged one does not, so reloading the
    /// same file sends phones nothing.
    pub fn load_reference(&self, data: &ReferenceData, now_ms: i64) -> Result<LoadReport, AdminError> {
        self.validate_reference(data)?;
        let mut w = self.writer();
        let tx = w.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let report = write_reference(&tx, data, now_ms)?;
        tx.commit()?;
        Ok(report)
    }

    /// The core's own validation of `data` against what the server holds
    /// (`fieldproof_core::reference_check`, the function phones run): `Ok` means a phone will
    /// accept it. Run before [`write_reference`], outside the write lock.
    pub(crate) fn validate_reference(&self, data: &ReferenceData) -> Result<(), AdminError> {
        let held = self.reference_data()?;
        validate_reference(&held, data).map_err(|e| match e {
            ReferenceCheckError::Bad { record, reason } => {
                AdminError::BadReference(format!("{record}: {reason}"))
            }
            ReferenceCheckError::Held(never) => match never {},
        })
    }

    /// `admin store-keys rotate STORE_ID`: retire the store's QR check-in key and issue a new
    /// one (codes already scanned with the old key still verify); returns the new key id.
    pub fn rotate_store_key(&self, store_id: &str, now_ms: i64) -> Result<String, AdminError> {
        let mut w = self.writer();
        let tx = w.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let kid = crate::customers::store_keys::rotate(&tx, store_id, now_ms)?;
        tx.commit()?;
        Ok(kid)
    }

    /// The store's current QR check-in code (what its screen shows at `now_ms`); `None` when
    /// the store has no key.
    pub fn store_code(&self, store_id: &str, now_ms: i64) -> Result<Option<String>, AdminError> {
        let r = self.reader()?;
        Ok(crate::customers::store_keys::current_code(&r, store_id, now_ms)?)
    }

    /// The same from the JSON document (`tests/fixtures/reference.json` format).
    pub fn load_reference_json(&self, json: &str, now_ms: i64) -> Result<LoadReport, AdminError> {
        if !json.trim_start().starts_with('{') {
            return Err(AdminError::BadReference("document: is not a JSON object".into()));
        }
        let data: ReferenceData =
            serde_json::from_str(json).map_err(|e| AdminError::BadReference(format!("document: {e}")))?;
        self.load_reference(&data, now_ms)
    }

    /// Everything the server holds, as one document.
    pub fn reference_data(&self) -> Result<ReferenceData, AdminError> {
        let r = self.reader()?;
        fn all<T: serde::de::DeserializeOwned>(c: &Connection, sql: &str) -> Result<Vec<T>, AdminError> {
            let mut st = c.prepare(sql)?;
            let rows = st.query_map([], |r| r.get::<_, String>(0))?;
            let mut out = Vec::new();
            for body in rows {
                out.push(
                    serde_json::from_str(&body?)
                        .map_err(|e| AdminError::Invalid(format!("stored record does not parse: {e}")))?,
                );
            }
            Ok(out)
        }
        Ok(ReferenceData {
            users: all::<User>(&r, "SELECT body FROM users ORDER BY role = 'rep', id")?,
            stores: all::<StoreRecord>(&r, "SELECT body FROM stores ORDER BY id")?,
            products: all::<Product>(&r, "SELECT body FROM products ORDER BY id")?,
            templates: all::<CheckTemplate>(&r, "SELECT body FROM templates ORDER BY id, version")?,
            plans: all::<PlannedVisit>(&r, "SELECT body FROM plans ORDER BY id")?,
        })
    }

    /// Issue a one-time enrolment code for a user. Only its SHA-256 is stored.
    pub fn issue_enrol_code(&self, user_id: &str, ttl_ms: i64, now_ms: i64) -> Result<String, AdminError> {
        if ttl_ms < 0 {
            return Err(AdminError::Invalid(
                "the code's lifetime cannot be negative".into(),
            ));
        }
        let code = crate::keys::new_enrol_code()?;
        let w = self.writer();
        let known: Option<Option<i64>> = w
            .conn
            .query_row("SELECT deactivated_ms FROM users WHERE id = ?1", [user_id], |r| {
                r.get(0)
            })
            .optional()?;
        match known {
            None => return Err(AdminError::UnknownUser(user_id.to_string())),
            Some(Some(_)) => return Err(AdminError::DeactivatedUser(user_id.to_string())),
            Some(None) => {}
        }
        w.conn.execute(
            "INSERT INTO enrol_codes (code_sha256, user_id, created_ms, expires_ms) VALUES (?1, ?2, ?3, ?4)",
            params![
                crate::keys::enrol_code_hash(&code),
                user_id,
                now_ms,
                now_ms.saturating_add(ttl_ms)
            ],
        )?;
        tracing::info!("enrolment code issued");
        Ok(code)
    }

    /// Revoke a device: every later request of it is refused with `403 device_revoked`, and its
    /// key counts as revoked from now on (`revoke_device_from`).
    pub fn revoke_device(&self, device_id: &str, now_ms: i64) -> Result<(), AdminError> {
        self.revoke_device_from(device_id, now_ms, now_ms)
    }

    /// Revoke a device with its key counting as revoked from `from_ms` (not after `now_ms`):
    /// photos whose manifests the server received before then stay verified ("key revoked
    /// later"), later ones are `revoked_key`. A phone lost yesterday afternoon is revoked from
    /// then. An earlier time than an existing revocation's moves it earlier; a later one
    /// changes nothing (it would make findings valid again).
    pub fn revoke_device_from(&self, device_id: &str, from_ms: i64, now_ms: i64) -> Result<(), AdminError> {
        if from_ms > now_ms {
            return Err(AdminError::Invalid(
                "the revocation time is in the future: a key counts as revoked from a time that has come"
                    .into(),
            ));
        }
        let w = self.writer();
        let n = revoke_from(&w.conn, device_id, from_ms, now_ms)?;
        if n == 0 {
            return Err(AdminError::UnknownDevice(device_id.to_string()));
        }
        tracing::info!("device revoked");
        Ok(())
    }

    /// Bind a device key to a user without an enrolment code (benchmarks, tests, migrations
    /// from another system). The HTTP route always goes through a code.
    pub fn enrol_device(
        &self,
        user_id: &str,
        device_id: &str,
        public_key_hex: &str,
        now_ms: i64,
    ) -> Result<(), AdminError> {
        if !crate::keys::is_lower_hex(public_key_hex, 64) {
            return Err(AdminError::Invalid(
                "public key must be 64 lowercase hex characters".into(),
            ));
        }
        let w = self.writer();
        let known: Option<i64> = w
            .conn
            .query_row("SELECT 1 FROM users WHERE id = ?1", [user_id], |r| r.get(0))
            .optional()?;
        if known.is_none() {
            return Err(AdminError::UnknownUser(user_id.to_string()));
        }
        let existing: Option<String> = w
            .conn
            .query_row(
                "SELECT public_key_hex FROM devices WHERE device_id = ?1",
                [device_id],
                |r| r.get(0),
            )
            .optional()?;
        match existing {
            Some(k) if k != public_key_hex => {
                return Err(AdminError::Api(ApiError::DeviceAlreadyEnrolled(
                    device_id.to_string(),
                )));
            }
            Some(_) => {
                w.conn.execute(
                    "UPDATE devices SET user_id = ?1 WHERE device_id = ?2",
                    params![user_id, device_id],
                )?;
            }
            None => {
                w.conn.execute(
                    "INSERT INTO devices (device_id, public_key_hex, user_id, enrolled_ms) VALUES (?1, ?2, ?3, ?4)",
                    params![device_id, public_key_hex, user_id, now_ms],
                )?;
            }
        }
        Ok(())
    }

    pub fn devices(&self) -> Result<Vec<DeviceInfo>, AdminError> {
        let r = self.reader()?;
        let mut st = r.prepare(
            "SELECT device_id, user_id, public_key_hex, enrolled_ms, revoked_ms, last_seen_ms, head_seq,
                    (SELECT count(*) FROM ops o WHERE o.device_id = d.device_id)
             FROM devices d ORDER BY enrolled_ms, device_id",
        )?;
        let rows = st.query_map([], |r| {
            Ok(DeviceInfo {
                device_id: r.get(0)?,
                user_id: r.get(1)?,
                public_key_hex: r.get(2)?,
                enrolled_ms: r.get(3)?,
                revoked_ms: r.get(4)?,
                last_seen_ms: r.get(5)?,
                head_seq: r.get(6)?,
                ops: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// Counts of what the server holds.
    pub fn stats(&self) -> Result<Stats, AdminError> {
        let r = self.reader()?;
        let count = |sql: &str| -> crate::db::Result<i64> { r.query_row(sql, [], |row| row.get(0)) };
        let mut exceptions_by_code = std::collections::BTreeMap::new();
        {
            let mut st = r.prepare("SELECT code, count(*) FROM exceptions GROUP BY code ORDER BY code")?;
            let rows = st.query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?)))?;
            for row in rows {
                let (code, n) = row?;
                exceptions_by_code.insert(code, n);
            }
        }
        Ok(Stats {
            ops: count("SELECT count(*) FROM ops")?,
            rejected_ops: count("SELECT count(*) FROM rejected_ops")?,
            visits: count("SELECT count(*) FROM visits")?,
            answers: count("SELECT count(*) FROM answer_history")?,
            photos: count("SELECT count(*) FROM photos")?,
            photos_received: count("SELECT count(*) FROM photos WHERE received = 1")?,
            photos_verified: count("SELECT count(*) FROM photos WHERE verified = 1")?,
            photo_blobs: count("SELECT count(*) FROM blobs")?,
            uploads_in_progress: count("SELECT count(*) FROM uploads")?,
            reviews: count("SELECT count(*) FROM reviews")?,
            exceptions: count("SELECT count(*) FROM exceptions")?,
            open_exceptions: count("SELECT count(*) FROM exceptions WHERE resolved_ms IS NULL")?,
            exceptions_by_code,
            devices: count("SELECT count(*) FROM devices")?,
            revoked_devices: count("SELECT count(*) FROM devices WHERE revoked_ms IS NOT NULL")?,
            users: count("SELECT count(*) FROM users")?,
            stores: count("SELECT count(*) FROM stores")?,
            changes: count("SELECT count(*) FROM changes")?,
        })
    }

    /// Head office's exception queue, newest first (the admin CLI; pages use [`crate::queue`]).
    pub fn exceptions(&self, only_open: bool, limit: u32) -> Result<Vec<ExceptionRow>, AdminError> {
        let r = self.reader()?;
        let mut st = r.prepare(
            "SELECT id, code, device_id, user_id, visit_id, store_id, op_id, photo_sha256, detail, created_ms,
                    resolved_by, resolved_ms, resolution_comment, params, event_ms, visit_day, status, assignee_id,
                    rejected_op
             FROM exceptions WHERE (?1 = 0 OR resolved_ms IS NULL) ORDER BY id DESC LIMIT ?2",
        )?;
        let rows = st.query_map(params![only_open, limit], |r| {
            Ok(ExceptionRow {
                id: r.get(0)?,
                code: r.get(1)?,
                device_id: r.get(2)?,
                user_id: r.get(3)?,
                visit_id: r.get(4)?,
                store_id: r.get(5)?,
                op_id: r.get(6)?,
                photo_sha256: r.get(7)?,
                detail: r.get(8)?,
                created_ms: r.get(9)?,
                resolved_by: r.get(10)?,
                resolved_ms: r.get(11)?,
                resolution_comment: r.get(12)?,
                params: r
                    .get::<_, Option<String>>(13)?
                    .and_then(|p| serde_json::from_str(&p).ok()),
                event_ms: r.get(14)?,
                visit_date: r.get::<_, Option<i64>>(15)?.map(crate::calendar::day_string),
                status: r.get(16)?,
                assignee_id: r.get(17)?,
                rejected_op: r.get(18)?,
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// The summary a supervisor's phone gets for one visit, as it stands.
    pub fn team_visit(&self, visit_id: &str) -> Result<Option<TeamVisit>, AdminError> {
        let r = self.reader()?;
        Ok(team_visit(&r, visit_id)?)
    }
}

/// Upsert validated reference data in the caller's transaction (one user action, one
/// transaction: `load-reference`, an import, a change made on the people pages). Each new or
/// changed record appends a change-feed row; an unchanged one does not. Every territory code
/// in use gets a territory row and every supervisor a team (`crate::structure`), so the named
/// structure never lags behind the data.
pub(crate) fn write_reference(
    tx: &Transaction<'_>,
    data: &ReferenceData,
    now_ms: i64,
) -> Result<LoadReport, AdminError> {
    let mut report = LoadReport {
        users: data.users.len() as u32,
        stores: data.stores.len() as u32,
        products: data.products.len() as u32,
        templates: data.templates.len() as u32,
        plans: data.plans.len() as u32,
        changes: 0,
    };
    // Supervisors first: a phone validates each pulled page on its own, and a rep's
    // supervisor must already be there.
    let mut users: Vec<&User> = data.users.iter().collect();
    users.sort_by_key(|u| u.role != Role::Supervisor);
    for u in users {
        let body = serde_json::to_string(u).map_err(ApiError::from)?;
        if body_unchanged(tx, "users", &u.id, &body)? {
            continue;
        }
        tx.execute(
            "INSERT INTO users (id, role, territory, supervisor_id, body) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (id) DO UPDATE SET role = excluded.role, territory = excluded.territory,
               supervisor_id = excluded.supervisor_id, body = excluded.body",
            params![u.id, role_str(u.role), u.territory, u.supervisor_id, body],
        )?;
        append_change(tx, "user", &u.id, Some(&u.id), None, &body, now_ms)?;
        report.changes += 1;
    }
    crate::structure::ensure_for_users(tx, &data.users, now_ms)?;
    for s in &data.stores {
        let body = serde_json::to_string(s).map_err(ApiError::from)?;
        if body_unchanged(tx, "stores", &s.id, &body)? {
            continue;
        }
        tx.execute(
            "INSERT INTO stores (id, territory, body) VALUES (?1, ?2, ?3)
             ON CONFLICT (id) DO UPDATE SET territory = excluded.territory, body = excluded.body",
            params![s.id, s.territory, body],
        )?;
        append_change(tx, "store", &s.id, None, Some(&s.territory), &body, now_ms)?;
        report.changes += 1;
    }
    crate::structure::ensure_territories(tx, data.stores.iter().map(|s| s.territory.as_str()), now_ms)?;
    // Every store gets its QR check-in key with the reference data that brings it (issue 15).
    crate::customers::store_keys::ensure_for_stores(tx, data.stores.iter().map(|s| s.id.as_str()), now_ms)?;
    for p in &data.products {
        let body = serde_json::to_string(p).map_err(ApiError::from)?;
        if body_unchanged(tx, "products", &p.id, &body)? {
            continue;
        }
        tx.execute(
            "INSERT INTO products (id, body) VALUES (?1, ?2)
             ON CONFLICT (id) DO UPDATE SET body = excluded.body",
            params![p.id, body],
        )?;
        append_change(tx, "product", &p.id, None, None, &body, now_ms)?;
        report.changes += 1;
    }
    for t in &data.templates {
        let body = serde_json::to_string(t).map_err(ApiError::from)?;
        // Validation refused a different body for a published version: present = same.
        let n = tx.execute(
            "INSERT INTO templates (id, version, body) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
            params![t.id, t.version, body],
        )?;
        if n == 1 {
            append_change(tx, "template", &t.id, None, None, &body, now_ms)?;
            report.changes += 1;
        }
    }
    for p in &data.plans {
        let body = serde_json::to_string(p).map_err(ApiError::from)?;
        if body_unchanged(tx, "plans", &p.id, &body)? {
            continue;
        }
        // A plan may send a rep outside their territory. The phone validates the plan
        // against its stores, so the store goes down the feed again just before the plan,
        // where this rep (and their supervisor) will see it.
        let store: Option<(String, String)> = tx
            .query_row(
                "SELECT s.territory, s.body FROM stores s WHERE s.id = ?1",
                [&p.store_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let rep_territory: Option<String> = tx
            .query_row("SELECT territory FROM users WHERE id = ?1", [&p.rep_id], |r| {
                r.get(0)
            })
            .optional()?
            .flatten();
        if let Some((territory, store_body)) = store
            && rep_territory.as_deref() != Some(territory.as_str())
        {
            append_change(
                tx,
                "store",
                &p.store_id,
                None,
                Some(&territory),
                &store_body,
                now_ms,
            )?;
            report.changes += 1;
        }
        tx.execute(
            "INSERT INTO plans (id, rep_id, store_id, body) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (id) DO UPDATE SET rep_id = excluded.rep_id, store_id = excluded.store_id,
               body = excluded.body",
            params![p.id, p.rep_id, p.store_id, body],
        )?;
        append_change(tx, "plan", &p.id, Some(&p.rep_id), None, &body, now_ms)?;
        report.changes += 1;
    }
    tracing::info!(
        users = report.users,
        stores = report.stores,
        products = report.products,
        templates = report.templates,
        plans = report.plans,
        changes = report.changes,
        "reference data loaded"
    );
    Ok(report)
}

/// Revoke one device in the caller's transaction (kept revoked at its first revocation time);
/// the number of devices of that id (0: unknown).
pub(crate) fn revoke(tx: &Connection, device_id: &str, now_ms: i64) -> crate::db::Result<usize> {
    revoke_from(tx, device_id, now_ms, now_ms)
}

/// `devices.revoked_ms`: from when the key counts as revoked (only ever moved earlier);
/// `revoked_recorded_ms`: when head office recorded that time.
fn revoke_from(tx: &Connection, device_id: &str, from_ms: i64, now_ms: i64) -> crate::db::Result<usize> {
    tx.prepare_cached(
        "UPDATE devices SET
            revoked_recorded_ms = CASE WHEN revoked_ms IS NULL OR revoked_ms > ?1 THEN ?2 ELSE revoked_recorded_ms END,
            revoked_ms = CASE WHEN revoked_ms IS NULL OR revoked_ms > ?1 THEN ?1 ELSE revoked_ms END
         WHERE device_id = ?3",
    )?
    .execute(params![from_ms, now_ms, device_id])
}

pub(crate) fn role_str(r: Role) -> &'static str {
    match r {
        Role::Rep => "rep",
        Role::Supervisor => "supervisor",
    }
}

/// An exception about to be recorded.
#[derive(Debug, Clone, Default)]
pub(crate) struct NewException<'a> {
    /// When what it is about happened (the op's device time, the photo's capture time).
    pub event_ms: i64,
    /// The store-local day of its visit ([`visit_day`]).
    pub visit_day: i64,
    pub code: &'a str,
    pub device_id: Option<&'a str>,
    pub user_id: Option<&'a str>,
    pub visit_id: Option<&'a str>,
    pub store_id: Option<&'a str>,
    /// The op it is about, when that op was applied (stored in `ops`).
    pub op_id: Option<&'a str>,
    /// The rejected entry it is about (`rejected_ops.id`), when the op was rejected: not its op
    /// id, which a valid op may take later.
    pub rejected_op: Option<i64>,
    pub photo_sha256: Option<&'a str>,
    pub subject: &'a str,
    pub detail: String,
    /// The code's parameters as a JSON object (see `migrations/004_exception_params.sql`).
    pub params: Option<String>,
}

/// Record an exception unless the same one (code, visit, subject) is already open, and in the
/// same transaction the alert messages its rules ask for (`crate::alert_queue`): both commit or
/// neither does. `calendar`: the rules' quiet hours and the messages' times are local.
pub(crate) fn raise(
    tx: &Connection,
    calendar: crate::calendar::Calendar,
    e: &NewException<'_>,
    now_ms: i64,
) -> crate::db::Result<bool> {
    let n = tx
        .prepare_cached(
            "INSERT INTO exceptions (code, device_id, user_id, visit_id, store_id, op_id, photo_sha256, subject,
                detail, created_ms, params, event_ms, visit_day, rejected_op)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) ON CONFLICT DO NOTHING",
        )?
        .execute(params![
            e.code,
            e.device_id,
            e.user_id,
            e.visit_id,
            e.store_id,
            e.op_id,
            e.photo_sha256,
            e.subject,
            e.detail,
            now_ms,
            e.params,
            e.event_ms,
            e.visit_day,
            e.rejected_op
        ])?;
    if n == 1 {
        let raised = crate::alert_queue::Raised {
            exception_id: tx.last_insert_rowid()?,
            code: e.code,
            user_id: e.user_id,
            store_id: e.store_id,
            visit_id: e.visit_id,
            params: e.params.as_deref(),
            event_ms: e.event_ms,
        };
        crate::alert_queue::on_raise(tx, calendar, &raised, now_ms)?;
    }
    Ok(n == 1)
}

/// The store-local day an exception about an event at `event_ms` counts on: its visit's day
/// (the day of the visit's check-in) when the server has the visit, else the event's own day.
pub(crate) fn visit_day(
    c: &Connection,
    calendar: crate::calendar::Calendar,
    visit_id: Option<&str>,
    event_ms: i64,
) -> crate::db::Result<i64> {
    let started: Option<i64> = match visit_id.filter(|v| !v.is_empty()) {
        Some(v) => c
            .prepare_cached("SELECT started_wall_ms FROM visits WHERE id = ?1")?
            .query_row([v], |r| r.get(0))
            .optional()?,
        None => None,
    };
    Ok(calendar.day_of(started.unwrap_or(event_ms)))
}

/// Give exceptions without a `visit_day` (rows from before schema v6, or written by a tool that
/// left it out) theirs, in this calendar; and a visit's exceptions raised before its check-in
/// arrived move to the visit's day once it is there (see [`settle_visit_day`]).
pub(crate) fn fill_visit_days(
    c: &Connection,
    calendar: crate::calendar::Calendar,
) -> crate::db::Result<usize> {
    let sql = format!(
        "UPDATE exceptions SET
            event_ms = coalesce(event_ms, created_ms),
            visit_day = {}
         WHERE visit_day IS NULL",
        crate::calendar::Calendar::sql_day(
            "coalesce((SELECT v.started_wall_ms FROM visits v WHERE v.id = exceptions.visit_id), event_ms, created_ms)",
            "?1"
        )
    );
    c.execute(&sql, [calendar.offset_ms()])
}

/// A visit's check-in has been stored: its exceptions raised before (ops that overtook the
/// check-in) count on its day from now on.
pub(crate) fn settle_visit_day(
    c: &Connection,
    calendar: crate::calendar::Calendar,
    visit_id: &str,
    started_ms: i64,
) -> crate::db::Result<usize> {
    c.prepare_cached("UPDATE exceptions SET visit_day = ?1 WHERE visit_id = ?2 AND visit_day <> ?1")?
        .execute(params![calendar.day_of(started_ms), visit_id])
}

/// Resolve open (or assigned) exceptions whose cause went away; the row stays with who resolved
/// it and why, and the change is in its history like a person's.
pub(crate) fn resolve(
    tx: &Connection,
    code: &str,
    visit_id: &str,
    subject: &str,
    by: &str,
    comment: &str,
    now_ms: i64,
) -> crate::db::Result<usize> {
    let ids: Vec<i64> = {
        let mut st = tx.prepare_cached(
            "UPDATE exceptions SET status = 'resolved', resolved_by = ?1, resolved_ms = ?2, resolution_comment = ?3
             WHERE code = ?4 AND visit_id = ?5 AND subject = ?6 AND resolved_ms IS NULL
             RETURNING id",
        )?;
        let rows = st.query_map(params![by, now_ms, comment, code, visit_id, subject], |r| {
            r.get(0)
        })?;
        rows.collect::<Result<_, _>>()?
    };
    for id in &ids {
        record_history(tx, *id, "resolve", by, now_ms, Some(comment), None)?;
    }
    Ok(ids.len())
}

/// One line of an exception's history (`exception_history`).
pub(crate) fn record_history(
    tx: &Connection,
    exception_id: i64,
    action: &str,
    actor_id: &str,
    at_ms: i64,
    comment: Option<&str>,
    assignee_id: Option<&str>,
) -> crate::db::Result<()> {
    tx.prepare_cached(
        "INSERT INTO exception_history (exception_id, action, actor_id, at_ms, comment, assignee_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        exception_id,
        action,
        actor_id,
        at_ms,
        comment,
        assignee_id
    ])?;
    Ok(())
}

pub(crate) fn team_visit(c: &Connection, visit_id: &str) -> crate::db::Result<Option<TeamVisit>> {
    Ok(team_visits(c, &[visit_id])?.pop())
}

/// The team-visit records of these visits (those the server has), in the order given: three
/// statements whatever their number (a push touches ~20 visits, and on PostgreSQL each
/// statement is a round trip under the write lock).
pub(crate) fn team_visits(c: &Connection, visit_ids: &[&str]) -> crate::db::Result<Vec<TeamVisit>> {
    if visit_ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids =
        serde_json::to_string(visit_ids).map_err(|e| crate::db::Error::ToSqlConversionFailure(e.into()))?;
    let list = c.dialect().text_list("?1");
    let mut visits: HashMap<String, TeamVisit> = HashMap::new();
    {
        let mut st = c.prepare_cached(&format!(
            "SELECT id, user_id, store_id, kind, status, started_wall_ms, coalesce(ended_wall_ms, completed_wall_ms),
                    geofence, answers, report_summary
             FROM visits WHERE id IN {list}"
        ))?;
        let mut rows = st.query([&ids])?;
        while let Some(r) = rows.next()? {
            let visit_id: String = r.get(0)?;
            visits.insert(
                visit_id.clone(),
                TeamVisit {
                    visit_id,
                    rep_id: r.get(1)?,
                    store_id: r.get(2)?,
                    kind: r.get(3)?,
                    status: r.get(4)?,
                    started_wall_ms: r.get(5)?,
                    ended_wall_ms: r.get(6)?,
                    geofence: r.get(7)?,
                    exceptions: Vec::new(),
                    photos: Vec::new(),
                    answers: r.get(8)?,
                    report_summary: r.get(9)?,
                },
            );
        }
    }
    if visits.is_empty() {
        return Ok(Vec::new());
    }
    {
        let mut st = c.prepare_cached(&format!(
            "SELECT DISTINCT visit_id, code FROM exceptions WHERE visit_id IN {list} AND resolved_ms IS NULL
             ORDER BY visit_id, code"
        ))?;
        let mut rows = st.query([&ids])?;
        while let Some(r) = rows.next()? {
            let visit_id: String = r.get(0)?;
            if let Some(v) = visits.get_mut(&visit_id) {
                v.exceptions.push(r.get(1)?);
            }
        }
    }
    {
        let mut st = c.prepare_cached(&format!(
            "SELECT visit_id, photo_id, sha256, evidence_code, photo_kind, verified,
                    (SELECT verdict FROM photo_reviews r WHERE r.photo_id = photos.photo_id
                     ORDER BY r.reviewed_ms DESC, r.id DESC LIMIT 1),
                    problems,
                    (SELECT d.revoked_ms FROM devices d WHERE d.device_id = photos.device_id),
                    (SELECT o.received_ms FROM ops o WHERE o.op_id = photos.op_id)
             FROM photos WHERE visit_id IN {list} ORDER BY rowid"
        ))?;
        let mut rows = st.query([&ids])?;
        while let Some(r) = rows.next()? {
            let visit_id: String = r.get(0)?;
            if let Some(v) = visits.get_mut(&visit_id) {
                v.photos.push(TeamVisitPhoto {
                    photo_id: r.get(1)?,
                    sha256: r.get(2)?,
                    evidence_code: r.get(3)?,
                    photo_kind: r.get(4)?,
                    // As shown, with the device's revocation applied.
                    verified: crate::photo_verdict::shown(
                        r.get(5)?,
                        r.get::<_, Option<String>>(7)?.as_deref(),
                        r.get(8)?,
                        r.get(9)?,
                    )
                    .verified,
                    review: r.get(6)?,
                });
            }
        }
    }
    Ok(visit_ids.iter().filter_map(|id| visits.remove(*id)).collect())
}

/// Visits whose summary changed in this transaction: bring their answer count up to date and
/// append their `team_visit` change (the supervisor's phone replaces its copy). A handful of
/// statements for any number of visits.
pub(crate) fn publish_team_visits<'a>(
    tx: &Transaction<'_>,
    visits: impl IntoIterator<Item = &'a String>,
    now_ms: i64,
) -> crate::db::Result<()> {
    let mut ids: Vec<&str> = visits.into_iter().map(String::as_str).collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(());
    }
    let json = serde_json::to_string(&ids).map_err(|e| crate::db::Error::ToSqlConversionFailure(e.into()))?;
    tx.prepare_cached(&format!(
        "UPDATE visits SET answers = (SELECT count(*) FROM answers a WHERE a.visit_id = visits.id), updated_ms = ?2
         WHERE id IN {}",
        tx.dialect().text_list("?1")
    ))?
    .execute(params![json, now_ms])?;
    let mut changes = Vec::new();
    for tv in team_visits(tx, &ids)? {
        let body =
            serde_json::to_string(&tv).map_err(|e| crate::db::Error::ToSqlConversionFailure(e.into()))?;
        changes.push(NewChange {
            kind: "team_visit",
            id: tv.visit_id,
            scope_user: Some(tv.rep_id),
            scope_territory: None,
            body,
        });
    }
    append_changes(tx, &changes, now_ms)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LoadReport {
    pub users: u32,
    pub stores: u32,
    pub products: u32,
    pub templates: u32,
    pub plans: u32,
    /// Change-feed rows appended (new or changed records).
    pub changes: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceInfo {
    pub device_id: String,
    pub user_id: String,
    pub public_key_hex: String,
    pub enrolled_ms: i64,
    pub revoked_ms: Option<i64>,
    pub last_seen_ms: Option<i64>,
    pub head_seq: i64,
    pub ops: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stats {
    pub ops: i64,
    pub rejected_ops: i64,
    pub visits: i64,
    pub answers: i64,
    /// `visit.photo` ops applied (photos expected).
    pub photos: i64,
    pub photos_received: i64,
    pub photos_verified: i64,
    /// Distinct photo files stored.
    pub photo_blobs: i64,
    pub uploads_in_progress: i64,
    pub reviews: i64,
    pub exceptions: i64,
    pub open_exceptions: i64,
    pub exceptions_by_code: std::collections::BTreeMap<String, i64>,
    pub devices: i64,
    pub revoked_devices: i64,
    pub users: i64,
    pub stores: i64,
    pub changes: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExceptionRow {
    pub id: i64,
    pub code: String,
    pub device_id: Option<String>,
    pub user_id: Option<String>,
    pub visit_id: Option<String>,
    pub store_id: Option<String>,
    /// The applied op it is about.
    pub op_id: Option<String>,
    /// The rejected entry it is about (`rejected_ops.id`), for a finding on a rejected op.
    pub rejected_op: Option<i64>,
    pub photo_sha256: Option<String>,
    pub detail: String,
    pub created_ms: i64,
    pub resolved_by: Option<String>,
    pub resolved_ms: Option<i64>,
    pub resolution_comment: Option<String>,
    /// The code's parameters (`migrations/004_exception_params.sql`), when it has any.
    pub params: Option<serde_json::Value>,
    /// When what it is about happened (device time), Unix ms.
    pub event_ms: Option<i64>,
    /// `YYYY-MM-DD`: the store-local day of its visit.
    pub visit_date: Option<String>,
    /// open, assigned, resolved or dismissed.
    pub status: String,
    pub assignee_id: Option<String>,
}
