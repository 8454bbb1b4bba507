//! fieldproof-server: the head-office end of `docs/sync-protocol.md`.
//!
//! - [`Store`] is everything the server keeps, without HTTP: the database, the photo store,
//!   limits and the admin operations; the device requests' services take it ([`ingest`]: push
//!   (verify, store, project, flag), [`auth`]: enrolment and request signatures, [`photos`]:
//!   upload, [`pull`]: the scoped change feed). Benchmarks and end-to-end tests can drive them in process.
//! - [`app`] wraps a `Store` in the axum router (request signing, size limits, JSON errors,
//!   metrics); [`serve`] binds, prints `listening on http://IP:PORT` and runs until SIGTERM or
//!   SIGINT, finishing the requests in flight.
//!
//! One SQLite database in WAL mode holds everything but photo bytes, which live in a
//! content-addressed folder beside it. Writes go through one connection behind a mutex (SQLite
//! has one writer anyway) and are kept short: signatures, JSON and image work happen before the
//! lock is taken. Reads (pulls, authentication) use their own connections.

mod alert_queue;
pub mod alerts;
pub mod auth;
mod blob_paths;
pub mod blobs;
mod body;
pub mod calendar;
mod change_feed;
mod clock;
pub mod codes;
pub mod customers;
pub mod db;
mod entry;
mod error;
pub mod evidence_bundle;
pub mod export;
pub mod geo;
mod http;
pub mod i18n;
pub mod import;
pub mod ingest;
mod keys;
mod limits;
mod listen;
mod lock;
pub mod maintenance;
pub mod messages;
mod metrics;
pub mod move_to_postgres;
pub mod org_ca;
mod password;
pub mod people;
mod photo_reuse;
pub mod photo_verdict;
pub mod photos;
pub mod pipeline;
pub mod pipeline_jobs;
pub mod pull;
pub mod queue;
pub mod retakes;
mod routes;
pub mod scope;
mod store;
mod structure;
mod url_text;
pub mod values;
pub mod web;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

pub use auth::{Authenticated, SignedHeaders, check_fresh, parse_headers};
pub use calendar::Calendar;
pub use clock::now_ms;
pub use error::{ApiError, ApiResult};
pub use http::app;
pub use limits::{AlertLimits, BundleLimits, Limits};
pub use metrics::Metrics;
pub use routes::ROUTES;
pub use store::{AdminError, DeviceInfo, ExceptionRow, LoadReport, PhotoCheck, Stats, Store};

/// What `fieldproof-server serve` needs.
#[derive(Debug, Clone)]
pub struct Config {
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    /// Where photo bytes are kept (`--photos`): the data directory by default.
    pub photos: blobs::PhotoLocation,
    /// `--database` / `FIELDPROOF_DATABASE`: a `postgres://` address; `None`: SQLite in
    /// `data_dir`.
    pub database: Option<String>,
    pub limits: Limits,
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot open the data directory: {0}")]
    Open(#[from] AdminError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("server failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Open the data directory, bind, announce the address on stdout, and serve until SIGTERM or
/// SIGINT. Requests in flight are finished before it returns.
pub async fn serve(config: Config) -> Result<(), ServeError> {
    let fds = listen::raise_fd_limit();
    tracing::info!(open_file_limit = fds, "file descriptors");
    // Opening and the first queries block (the PostgreSQL client drives a runtime of its own,
    // which cannot run on this one's threads): on the blocking pool, like every request's.
    let (store, photos, started) = {
        let config = config.clone();
        tokio::task::spawn_blocking(move || -> Result<_, AdminError> {
            let database = Store::database_for(&config.data_dir, config.database.as_deref())?;
            let store = Arc::new(Store::open_in(
                &config.data_dir,
                database,
                config.limits.clone(),
                &config.photos,
            )?);
            // A bucket that does not answer yet is not fatal (it may come back; `/readyz` says
            // so meanwhile), but the operator hears of it at once.
            match store.photo_store_check() {
                Ok(()) => tracing::info!(photos = %store.photo_store(), "photo store answers"),
                Err(e) => {
                    tracing::warn!(photos = %store.photo_store(), error = %e, "photo store does not answer")
                }
            }
            // The organisation CA is made now if it has none, so the first enrolment does not
            // pay for it and the operator sees its fingerprint in the log. Not fatal: without it
            // devices enrol without a certificate and ask again later.
            match org_ca::OrgCa::load_or_create(&org_ca::store_dir(&store), &store.limits().org_name) {
                Ok(ca) => tracing::info!(fingerprint = %ca.fingerprint_sha256(), "organisation CA"),
                Err(e) => {
                    tracing::warn!(error = %e, "organisation CA not available: devices get no certificate")
                }
            }
            // The reuse index is loaded before the first connection, not by the first photo
            // after a restart (seconds at a million photos, under the write lock).
            let started = std::time::Instant::now();
            let photos = store.load_reuse_index()?;
            Ok((store, photos, started))
        })
        .await
        .map_err(|e| ServeError::Io(std::io::Error::other(e.to_string())))??
    };
    tracing::info!(
        photos,
        ms = started.elapsed().as_millis() as u64,
        "reuse index loaded"
    );
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|source| ServeError::Bind {
            addr: config.addr,
            source,
        })?;
    let local = listener.local_addr()?;
    let shutdown = shutdown_signal()?;
    {
        use std::io::Write;
        // Tests and supervisors parse this exact line to find the port of `--addr IP:0`.
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on http://{local}")?;
        out.flush()?;
    }
    tracing::info!(addr = %local, data_dir = %config.data_dir.display(), database = %store.database(), "serving");
    // The alert worker stops with the server: the shutdown signal also tells it, and it is
    // awaited (its sends in flight finish, or their leases make them due again after restart).
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let worker = alerts::worker::spawn(store.clone(), web::digest_sources(), stop_rx);
    spawn_upload_sweeper(store.clone());
    spawn_pipeline_scheduler(store.clone());
    let shutdown = async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    };
    let send_timeout = store.limits().alerts.send_timeout;
    serve_on(listener, store, shutdown).await?;
    if let Some(w) = worker
        && tokio::time::timeout(send_timeout * 2 + std::time::Duration::from_secs(5), w)
            .await
            .is_err()
    {
        tracing::warn!("alert worker still sending at shutdown; its messages are sent again after restart");
    }
    tracing::info!("shut down cleanly");
    Ok(())
}

/// Remove abandoned photo uploads (`Limits::abandoned_upload_after`) a minute after start and
/// then hourly. Safe beside other replicas doing the same (see the sweep); a sweep cut short by
/// shutdown leaves nothing half done that the next one does not finish.
fn spawn_upload_sweeper(store: Arc<Store>) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval_at(
            tokio::time::Instant::now() + std::time::Duration::from_secs(60),
            std::time::Duration::from_secs(3600),
        );
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            let store = store.clone();
            let before = clock::now_ms() - store.limits().abandoned_upload_after.as_millis() as i64;
            match tokio::task::spawn_blocking(move || photos::sweep_abandoned_uploads(&store, before)).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "sweeping abandoned photo uploads failed; tried again in an hour")
                }
                Err(e) => tracing::warn!(error = %e, "the abandoned upload sweep stopped"),
            }
        }
    });
}

/// The pipeline's scheduler (`pipeline_jobs`): a tick every 15 s on the wall clock, every 200 ms
/// on a test clock file (a test moves it and expects the jobs soon after). Several replicas run
/// it side by side; each due run is taken by one (see `pipeline_jobs::jobs`).
fn spawn_pipeline_scheduler(store: Arc<Store>) {
    let (clock, poll) = match store.limits().pipeline_clock_file.clone() {
        Some(p) => (
            pipeline_jobs::Clock::File(p),
            std::time::Duration::from_millis(200),
        ),
        None => (pipeline_jobs::Clock::Wall, std::time::Duration::from_secs(15)),
    };
    pipeline_jobs::spawn_scheduler(store, clock, poll);
}

/// Serve an already bound listener until `shutdown` resolves, then finish the requests in
/// flight. For in-process tests and benchmarks.
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    store: Arc<Store>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    listen::serve_connections(
        listener,
        app(store.clone()),
        &store.limits,
        store.metrics.clone(),
        shutdown,
    )
    .await?;
    store.checkpoint();
    Ok(())
}

/// SIGTERM (service managers, `kill`) or SIGINT (Ctrl-C). The handlers are installed now, not
/// when the future is first polled: a signal sent as soon as `listening on` is printed must shut
/// down cleanly, not kill the process with the default action.
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut int = signal(SignalKind::interrupt())?;
    let mut term = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = int.recv() => tracing::info!("SIGINT: finishing requests in flight"),
            _ = term.recv() => tracing::info!("SIGTERM: finishing requests in flight"),
        }
    })
}
