//! What the server may be made to read, hold and wait for: the sync and web limits the store
//! carries and the bounds an import is read within. A leaf (plain values and their defaults),
//! so the store can hold them without reaching up into the import or the router.

pub use fieldproof_sheets::ImportLimits;
use std::time::Duration;

/// Size limits, timeouts and throttles, and the field's calendar. The defaults are the
/// protocol's (docs/sync-protocol.md, "Limits"); `serve` takes each from a flag or an
/// environment variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// `POST /v1/push` body.
    pub max_push_bytes: u64,
    /// One `PUT /v1/photos/{sha256}` chunk body.
    pub max_chunk_bytes: u64,
    /// Every other body (enrolment, photo offer).
    pub max_other_bytes: u64,
    /// A whole photo.
    pub max_photo_bytes: u64,
    /// A request's headers must arrive whole within this long; it is also how long a kept-alive
    /// connection may sit idle between requests (hyper starts the same timer when it waits for
    /// the next request). A slow-header client is cut off after it.
    pub header_timeout: Duration,
    /// A request body must arrive whole within this long (every route): a push of 8 MiB at
    /// 2G speeds (~70 kB/s) takes two minutes, a trickling attacker no longer.
    pub body_timeout: Duration,
    /// Connections served at once. More are answered `503` and closed at once, so a flood of
    /// idle or slow connections cannot use up the process's file descriptors (the cap is also
    /// kept below the descriptor limit, see `listen`).
    pub max_connections: usize,
    /// Connections served at once from one client address (IPv6: one /64): one client cannot
    /// take every connection. Behind a reverse proxy every connection comes from the proxy, so
    /// set this to `max_connections` there.
    pub max_connections_per_ip: usize,
    /// Password verifications (Argon2id, ~19 MiB and ~40 ms each) running at once; more wait
    /// in a short queue. Default: the number of cores.
    pub password_checks: usize,
    /// How long a sign-in may wait for a password check before it is answered `429`.
    pub password_wait: Duration,
    /// Failed sign-ins per user id within `login_window` before that id is locked (`429`).
    pub login_failures_per_user: u32,
    /// Sign-in attempts per client address within `login_window` that may fail.
    pub login_failures_per_ip: u32,
    pub login_window: Duration,
    /// Take the client address for throttling from the last `X-Forwarded-For` hop (only behind
    /// a reverse proxy that sets it; otherwise anyone could pick their own address).
    pub trust_forwarded_for: bool,
    /// Head-office imports (web upload and `admin import`): file size, upload time, and what a
    /// file may make the server hold. See [`ImportLimits`].
    pub import: ImportLimits,
    /// The field's time zone: which day a visit, an exception, a page's `?date=` or an
    /// export's date filter is on (`--time-zone`). See [`crate::calendar`].
    pub calendar: crate::calendar::Calendar,
    /// The address phones reach this server at (`--public-url`, e.g. `https://hq.example.com`):
    /// what an enrolment QR code carries. `None`: the people pages take the address head
    /// office's browser used (its `Host`, and `X-Forwarded-Proto` behind a proxy).
    pub public_url: Option<String>,
    /// The tile server the day's map draws over (`--map-tiles`, its subdomains, datum and
    /// attribution). `None`: the map is drawn from the data alone (works offline).
    pub map_tiles: Option<crate::geo::TileSource>,
    /// The alert worker's retries, lease and timeouts, and the daily digest's hour.
    pub alerts: AlertLimits,
    /// A photo upload started this long ago and not finished is abandoned: its partial bytes
    /// and its row are removed (hourly, `photos::sweep_abandoned_uploads`). A phone that comes
    /// back offers the photo again and sends it from the start. An honest upload of the
    /// largest photo takes minutes even on 2G.
    pub abandoned_upload_after: Duration,
    /// Tests only (`serve --pipeline-clock-file`): the pipeline jobs read "now" from this file
    /// (Unix ms) instead of the wall clock, so several server processes share a clock a test
    /// moves (`crate::pipeline_jobs::Clock`).
    pub pipeline_clock_file: Option<std::path::PathBuf>,
    /// How large an evidence bundle may be (`crate::evidence_bundle`).
    pub evidence_bundle: BundleLimits,
    /// The organisation CA's folder (`--org-ca-dir`); `None`: `org-ca/` in the data directory.
    /// See [`crate::org_ca`].
    pub org_ca_dir: Option<std::path::PathBuf>,
    /// The organisation's name in the CA and device certificates (`--org-name`): what a Content
    /// Credentials reader shows as the photo's signer.
    pub org_name: String,
}

/// An evidence bundle larger than this is refused before a byte is written: its photos are
/// streamed one at a time, but it must stay a file someone can download and verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BundleLimits {
    /// Photos (a day of a large team is a few hundred).
    pub max_photos: usize,
    /// Photo bytes, all files together.
    pub max_photo_bytes: u64,
}

impl Default for BundleLimits {
    fn default() -> Self {
        BundleLimits {
            max_photos: 2_000,
            max_photo_bytes: 2 * 1024 * 1024 * 1024,
        }
    }
}

/// How the alert worker (`crate::alerts::worker`) sends: `serve` takes each from a flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertLimits {
    /// The wait before the first retry; each later one doubles it, up to `retry_cap`, with
    /// jitter (a random half to whole of it) so many failed messages do not retry in step.
    pub retry_base: Duration,
    pub retry_cap: Duration,
    /// Attempts in all before a message is marked failed (shown on the alerts page).
    pub max_attempts: u32,
    /// One send's connect + answer time (HTTP and SMTP).
    pub send_timeout: Duration,
    /// How long a claimed message is this worker's: longer than a send may take. A process
    /// killed mid-send leaves its message claimed this long; then it is sent again.
    pub lease: Duration,
    /// How often the worker looks for due messages.
    pub poll: Duration,
    /// The local hour (0–23) the daily digests are written; `None`: no digests.
    pub digest_hour: Option<u32>,
}

impl Default for AlertLimits {
    fn default() -> Self {
        AlertLimits {
            retry_base: Duration::from_secs(30),
            retry_cap: Duration::from_secs(3600),
            max_attempts: 8,
            send_timeout: Duration::from_secs(15),
            lease: Duration::from_secs(60),
            poll: Duration::from_secs(2),
            digest_hour: Some(19),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_push_bytes: 8 * 1024 * 1024,
            // The chunk plus slack for a client that rounds its chunk size up.
            max_chunk_bytes: (fieldproof_core::sync::wire::MAX_PHOTO_CHUNK + 64 * 1024) as u64,
            max_other_bytes: 64 * 1024,
            max_photo_bytes: fieldproof_core::MAX_PHOTO_BYTES as u64,
            header_timeout: Duration::from_secs(15),
            body_timeout: Duration::from_secs(120),
            max_connections: 1024,
            max_connections_per_ip: 256,
            password_checks: std::thread::available_parallelism().map_or(2, |n| n.get()),
            password_wait: Duration::from_secs(2),
            login_failures_per_user: 10,
            login_failures_per_ip: 50,
            login_window: Duration::from_secs(15 * 60),
            trust_forwarded_for: false,
            import: ImportLimits::default(),
            calendar: crate::calendar::Calendar::default(),
            public_url: None,
            map_tiles: None,
            alerts: AlertLimits::default(),
            abandoned_upload_after: Duration::from_secs(7 * 24 * 3600),
            pipeline_clock_file: None,
            evidence_bundle: BundleLimits::default(),
            org_ca_dir: None,
            org_name: "Fieldproof".to_string(),
        }
    }
}
