//! `fieldproof-server serve` runs the sync server; `fieldproof-server admin ...` works directly
//! on the data directory's database (safe while the server runs: WAL + busy timeout).
//!
//! Only `serve` and `admin init` create a database; every other admin command (and `migrate`)
//! refuses a folder without one, so a mistyped `--data-dir` is an error rather than a new, empty
//! server.
//!
//! `serve` still migrates the database when it starts (SQLite's zero-setup default: a new
//! release just starts). `migrate` does the same step alone and exits, for upgrades that run it
//! first (several replicas, a backup just before) — see docs/OPERATIONS.md.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use fieldproof_server::blobs::PhotoLocation;
use fieldproof_server::export::{ExportFilter, ExportKind};
use fieldproof_server::geo::{TileConfigError, TileSource};
use fieldproof_server::import::{ImportKind, import_file};
use fieldproof_server::org_ca::{OrgCa, OrgCaError};
use fieldproof_server::{AdminError, AlertLimits, Calendar, Config, Limits, Store, now_ms};

#[derive(Parser)]
#[command(name = "fieldproof-server", version, about = "Fieldproof sync server")]
struct Cli {
    /// Data directory: database, photos, uploads in progress. `serve` and `admin init` create
    /// it; the other admin commands need an existing one.
    #[arg(
        long,
        global = true,
        env = "FIELDPROOF_DATA_DIR",
        default_value = "./fieldproof-data"
    )]
    data_dir: PathBuf,
    /// Where photo bytes are kept: `data-dir` (the default: `photos/`, `uploads/`, `thumbs/`
    /// in the data directory) or `s3://bucket/prefix` in S3-compatible object storage, reached
    /// with FIELDPROOF_S3_ENDPOINT, FIELDPROOF_S3_REGION, FIELDPROOF_S3_ALLOW_HTTP,
    /// FIELDPROOF_S3_VIRTUAL_HOSTED and the AWS credentials (AWS_ACCESS_KEY_ID,
    /// AWS_SECRET_ACCESS_KEY, …).
    #[arg(long, global = true, env = "FIELDPROOF_PHOTOS", default_value = "data-dir",
          value_parser = PhotoLocation::parse)]
    photos: PhotoLocation,
    /// The database: a PostgreSQL address (`postgres://user:password@host:port/dbname`) for
    /// several servers on one database; left out, the SQLite file in the data directory.
    #[arg(long, global = true, env = "FIELDPROOF_DATABASE")]
    database: Option<String>,
    /// The field's time zone, a fixed offset from UTC (+08:00, -05:30, UTC or a name such as
    /// Asia/Shanghai): which day a visit and its exceptions are on, on pages and in exports.
    /// Zones with daylight saving time are not supported.
    #[arg(long, global = true, env = "FIELDPROOF_TIME_ZONE", default_value = "+08:00",
          allow_hyphen_values = true, value_parser = Calendar::parse)]
    time_zone: Calendar,
    /// The organisation CA's folder (its key and certificate, for the devices' Content
    /// Credentials certificates): made on first start when absent. Replicas must share it.
    /// Default: `org-ca/` in the data directory.
    #[arg(long, global = true, env = "FIELDPROOF_ORG_CA_DIR")]
    org_ca_dir: Option<PathBuf>,
    /// The organisation's name in the CA and device certificates: what a Content Credentials
    /// reader shows as a photo's signer.
    #[arg(
        long,
        global = true,
        env = "FIELDPROOF_ORG_NAME",
        default_value = "Fieldproof"
    )]
    org_name: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the sync API until SIGTERM/SIGINT (migrating the database first if it is older).
    Serve(ServeArgs),
    /// Apply the database migrations this release brings and exit; prints the schema versions
    /// before and after. Refuses a database a newer release migrated.
    Migrate,
    /// Check an evidence bundle (`admin export-evidence`, or head office's download) offline,
    /// with nothing but the file: prints every finding; exit code 0 when there is none, 1 when
    /// there are findings, 2 when the file cannot be read as a bundle.
    Verify(VerifyArgs),
    /// Head-office administration on the data directory.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Args)]
struct VerifyArgs {
    /// The bundle (a ZIP file).
    bundle: PathBuf,
    /// zh-CN or en; without it, LANG when it names English, else zh-CN.
    #[arg(long)]
    lang: Option<String>,
    /// Print the findings as JSON (for machines) instead of sentences.
    #[arg(long)]
    json: bool,
}

/// The verifier's language: `--lang`, else LANG when it is English, else Chinese (the readers
/// this is for read Chinese first).
fn verify_lang(flag: Option<&str>) -> Result<fieldproof_server::i18n::Lang, String> {
    use fieldproof_server::i18n::Lang;
    if let Some(l) = flag {
        return Lang::parse(l).ok_or_else(|| format!("--lang {l:?}: zh-CN or en"));
    }
    let env = std::env::var("LANG").unwrap_or_default().replace('_', "-");
    let env = env.split('.').next().unwrap_or("");
    Ok(match Lang::parse(env) {
        Some(Lang::En) => Lang::En,
        _ => Lang::Zh,
    })
}

fn verify(args: VerifyArgs) -> ExitCode {
    use fieldproof_server::evidence_bundle::{verify_file, words};
    let lang = match verify_lang(args.lang.as_deref()) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("fieldproof-server verify: {e}");
            return ExitCode::from(2);
        }
    };
    let shown = args.bundle.display().to_string();
    match verify_file(&args.bundle) {
        Ok(report) => {
            if args.json {
                match serde_json::to_string_pretty(&report) {
                    Ok(j) => println!("{j}"),
                    Err(e) => {
                        eprintln!("fieldproof-server verify: {e}");
                        return ExitCode::from(2);
                    }
                }
            } else {
                println!("{}", words::report_text(lang, &report));
            }
            if report.clean() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("{}", words::read_error(lang, &shown, &e));
            ExitCode::from(2)
        }
    }
}

#[derive(Args)]
struct ServeArgs {
    /// Address to listen on; port 0 picks a free port (printed as `listening on http://IP:PORT`).
    #[arg(long, env = "FIELDPROOF_ADDR", default_value = "127.0.0.1:8787")]
    addr: SocketAddr,
    /// Largest `POST /v1/push` body, bytes.
    #[arg(long, env = "FIELDPROOF_MAX_PUSH_BYTES", default_value_t = Limits::default().max_push_bytes)]
    max_push_bytes: u64,
    /// Largest photo, bytes.
    #[arg(long, env = "FIELDPROOF_MAX_PHOTO_BYTES", default_value_t = Limits::default().max_photo_bytes)]
    max_photo_bytes: u64,
    /// Largest photo chunk body, bytes.
    #[arg(long, env = "FIELDPROOF_MAX_CHUNK_BYTES", default_value_t = Limits::default().max_chunk_bytes)]
    max_chunk_bytes: u64,
    /// Seconds a request's headers may take to arrive; also how long a kept-alive connection
    /// may sit idle between requests.
    #[arg(long, env = "FIELDPROOF_HEADER_TIMEOUT_SECS", default_value_t = Limits::default().header_timeout.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    header_timeout_secs: u64,
    /// Seconds a request body may take to arrive whole (every route).
    #[arg(long, env = "FIELDPROOF_BODY_TIMEOUT_SECS", default_value_t = Limits::default().body_timeout.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    body_timeout_secs: u64,
    /// Connections served at once (kept below the open-file limit); more are answered 503.
    #[arg(long, env = "FIELDPROOF_MAX_CONNECTIONS", default_value_t = Limits::default().max_connections as u32,
          value_parser = clap::value_parser!(u32).range(1..))]
    max_connections: u32,
    /// Connections served at once from one client address (IPv6: one /64). Behind a reverse
    /// proxy, set it to --max-connections.
    #[arg(long, env = "FIELDPROOF_MAX_CONNECTIONS_PER_IP", default_value_t = Limits::default().max_connections_per_ip as u32,
          value_parser = clap::value_parser!(u32).range(1..))]
    max_connections_per_ip: u32,
    /// Web sign-in password checks (Argon2id, ~19 MiB each) running at once. Default: cores.
    #[arg(long, env = "FIELDPROOF_PASSWORD_CHECKS", default_value_t = Limits::default().password_checks as u32,
          value_parser = clap::value_parser!(u32).range(1..=64))]
    password_checks: u32,
    /// Milliseconds a sign-in may wait for a password check before it is answered 429.
    #[arg(long, env = "FIELDPROOF_PASSWORD_WAIT_MS", default_value_t = Limits::default().password_wait.as_millis() as u64,
          value_parser = clap::value_parser!(u64).range(1..=60_000))]
    password_wait_ms: u64,
    /// Failed web sign-ins per user id within the window before the id is locked.
    #[arg(long, env = "FIELDPROOF_LOGIN_FAILURES_PER_USER", default_value_t = Limits::default().login_failures_per_user,
          value_parser = clap::value_parser!(u32).range(1..))]
    login_failures_per_user: u32,
    /// Failed web sign-ins per client address within the window before it is locked.
    #[arg(long, env = "FIELDPROOF_LOGIN_FAILURES_PER_IP", default_value_t = Limits::default().login_failures_per_ip,
          value_parser = clap::value_parser!(u32).range(1..))]
    login_failures_per_ip: u32,
    /// The sign-in throttle's window, minutes.
    #[arg(long, env = "FIELDPROOF_LOGIN_WINDOW_MINUTES", default_value_t = Limits::default().login_window.as_secs() / 60,
          value_parser = clap::value_parser!(u64).range(1..=1440))]
    login_window_minutes: u64,
    /// A photo upload started this many hours ago and never finished is abandoned: the server
    /// removes its partial bytes hourly (the phone sends the photo again from the start).
    #[arg(long, env = "FIELDPROOF_ABANDONED_UPLOAD_HOURS",
          default_value_t = Limits::default().abandoned_upload_after.as_secs() / 3600,
          value_parser = clap::value_parser!(u64).range(1..=8760))]
    abandoned_upload_hours: u64,
    /// Take the client address for throttling from the last X-Forwarded-For hop. Only behind a
    /// reverse proxy that sets it.
    #[arg(long, env = "FIELDPROOF_TRUST_FORWARDED_FOR")]
    trust_forwarded_for: bool,
    /// The address phones reach this server at (https://…), carried by enrolment QR codes.
    /// Default: the address head office's browser used (Host, X-Forwarded-Proto).
    #[arg(long, env = "FIELDPROOF_PUBLIC_URL", value_parser = public_url)]
    public_url: Option<String>,
    /// A tile server for the day's map (`/app/map`), an address template with {z}, {x}, {y}
    /// (or {-y}: rows counted from the south, Tencent) and {s} (a subdomain), e.g.
    /// https://tile.openstreetmap.org/{z}/{x}/{y}.png. Without it the map is drawn from the
    /// data alone (works offline).
    #[arg(long, env = "FIELDPROOF_MAP_TILES")]
    map_tiles: Option<String>,
    /// The subdomains {s} takes turns over, comma-separated (a,b,c or 1,2,3,4).
    #[arg(long, env = "FIELDPROOF_MAP_TILES_SUBDOMAINS", requires = "map_tiles")]
    map_tiles_subdomains: Option<String>,
    /// The tiles' datum: wgs84 (OpenStreetMap) or gcj02 (AMap 高德, Tencent 腾讯: points in
    /// mainland China are converted to it).
    #[arg(long, env = "FIELDPROOF_MAP_TILES_CRS", default_value = "wgs84", requires = "map_tiles",
          value_parser = ["wgs84", "gcj02"])]
    map_tiles_crs: String,
    /// The tile provider's credit line, shown under the map (© OpenStreetMap contributors).
    #[arg(long, env = "FIELDPROOF_MAP_TILES_ATTRIBUTION", requires = "map_tiles")]
    map_tiles_attribution: Option<String>,
    /// Alerts: milliseconds before a failed message's first retry; each later wait doubles (with
    /// jitter) up to --alert-retry-cap-secs.
    #[arg(long, env = "FIELDPROOF_ALERT_RETRY_BASE_MS", default_value_t = AlertLimits::default().retry_base.as_millis() as u64,
          value_parser = clap::value_parser!(u64).range(1..=86_400_000))]
    alert_retry_base_ms: u64,
    /// Alerts: the longest wait between two attempts, seconds.
    #[arg(long, env = "FIELDPROOF_ALERT_RETRY_CAP_SECS", default_value_t = AlertLimits::default().retry_cap.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    alert_retry_cap_secs: u64,
    /// Alerts: attempts in all before a message is marked failed.
    #[arg(long, env = "FIELDPROOF_ALERT_MAX_ATTEMPTS", default_value_t = AlertLimits::default().max_attempts,
          value_parser = clap::value_parser!(u32).range(1..=100))]
    alert_max_attempts: u32,
    /// Alerts: one send's time limit (connect and answer), seconds.
    #[arg(long, env = "FIELDPROOF_ALERT_SEND_TIMEOUT_SECS", default_value_t = AlertLimits::default().send_timeout.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..=300))]
    alert_send_timeout_secs: u64,
    /// Alerts: how long a claimed message stays this process's, milliseconds (more than a send
    /// takes). After a crash mid-send the message is sent again once it runs out.
    #[arg(long, env = "FIELDPROOF_ALERT_LEASE_MS", default_value_t = AlertLimits::default().lease.as_millis() as u64,
          value_parser = clap::value_parser!(u64).range(100..=3_600_000))]
    alert_lease_ms: u64,
    /// Alerts: how often the worker looks for due messages, milliseconds.
    #[arg(long, env = "FIELDPROOF_ALERT_POLL_MS", default_value_t = AlertLimits::default().poll.as_millis() as u64,
          value_parser = clap::value_parser!(u64).range(10..=60_000))]
    alert_poll_ms: u64,
    /// Alerts: the local hour (0–23, --time-zone) the supervisors' daily digests are written,
    /// or `off`.
    #[arg(long, env = "FIELDPROOF_ALERT_DIGEST_HOUR", default_value = "19", value_parser = digest_hour)]
    alert_digest_hour: DigestHour,
    /// Tests only: the pipeline jobs (lead deadlines, releases, stalls, the nightly health
    /// score) read "now" from this file (Unix ms) instead of the wall clock.
    #[arg(long, hide = true, env = "FIELDPROOF_PIPELINE_CLOCK_FILE")]
    pipeline_clock_file: Option<PathBuf>,
    /// Evidence bundles: the most photos one bundle may hold (head office's download); a
    /// larger selection is refused with the reason.
    #[arg(long, env = "FIELDPROOF_EVIDENCE_MAX_PHOTOS", default_value_t = Limits::default().evidence_bundle.max_photos as u32,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    evidence_max_photos: u32,
}

/// `--alert-digest-hour`: 0–23, or `off`.
#[derive(Debug, Clone, Copy)]
struct DigestHour(Option<u32>);

fn digest_hour(s: &str) -> Result<DigestHour, String> {
    if s.trim().eq_ignore_ascii_case("off") {
        return Ok(DigestHour(None));
    }
    match s.trim().parse::<u32>() {
        Ok(h) if h < 24 => Ok(DigestHour(Some(h))),
        _ => Err(format!("{s:?} is not an hour 0–23 or off")),
    }
}

/// `--public-url`: an address a phone connects to (checked as the phone checks it).
fn public_url(s: &str) -> Result<String, String> {
    fieldproof_server::people::enrol_payload(s, "check")
        .map(|_| s.trim().trim_end_matches('/').to_string())
        .map_err(|e| e.to_string())
}

impl ServeArgs {
    /// The map's tile server, checked: a bad template stops the server at start, not the page.
    fn map_tiles(&self) -> Result<Option<TileSource>, TileConfigError> {
        self.map_tiles
            .as_deref()
            .map(|t| {
                TileSource::new(
                    t,
                    self.map_tiles_subdomains.as_deref(),
                    Some(&self.map_tiles_crs),
                    self.map_tiles_attribution.as_deref(),
                )
            })
            .transpose()
    }

    fn limits(&self, calendar: Calendar, map_tiles: Option<TileSource>) -> Limits {
        Limits {
            calendar,
            max_push_bytes: self.max_push_bytes,
            max_photo_bytes: self.max_photo_bytes,
            max_chunk_bytes: self.max_chunk_bytes,
            header_timeout: Duration::from_secs(self.header_timeout_secs),
            body_timeout: Duration::from_secs(self.body_timeout_secs),
            max_connections: self.max_connections as usize,
            max_connections_per_ip: self.max_connections_per_ip as usize,
            password_checks: self.password_checks as usize,
            password_wait: Duration::from_millis(self.password_wait_ms),
            login_failures_per_user: self.login_failures_per_user,
            login_failures_per_ip: self.login_failures_per_ip,
            login_window: Duration::from_secs(self.login_window_minutes * 60),
            abandoned_upload_after: Duration::from_secs(self.abandoned_upload_hours * 3600),
            trust_forwarded_for: self.trust_forwarded_for,
            public_url: self.public_url.clone(),
            map_tiles,
            alerts: AlertLimits {
                retry_base: Duration::from_millis(self.alert_retry_base_ms),
                retry_cap: Duration::from_secs(self.alert_retry_cap_secs),
                max_attempts: self.alert_max_attempts,
                send_timeout: Duration::from_secs(self.alert_send_timeout_secs),
                lease: Duration::from_millis(self.alert_lease_ms),
                poll: Duration::from_millis(self.alert_poll_ms),
                digest_hour: self.alert_digest_hour.0,
            },
            pipeline_clock_file: self.pipeline_clock_file.clone(),
            evidence_bundle: fieldproof_server::BundleLimits {
                max_photos: self.evidence_max_photos as usize,
                ..Limits::default().evidence_bundle
            },
            ..Limits::default()
        }
    }
}

#[derive(Subcommand)]
enum AdminCommand {
    /// The organisation CA that certifies the devices' keys for Content Credentials (C2PA).
    OrgCa {
        #[command(subcommand)]
        command: OrgCaCommand,
    },
    /// Create the data directory and its database (a new, empty server); does nothing to one
    /// that already holds a database.
    Init,
    /// Copy the database, while the server runs, into FILE (SQLite's online backup: one
    /// consistent snapshot, one self-contained file). Photos are files: copy the data
    /// directory's `photos/` after it (docs/OPERATIONS.md).
    Backup {
        /// The backup file to create; an existing file is refused, never overwritten.
        #[arg(long)]
        to: PathBuf,
    },
    /// Move this data directory's SQLite database into a new, empty PostgreSQL database (and,
    /// with --to-photos, its photos into another data directory), then compare every table
    /// row for row; fails, committing nothing, on any difference. Stop the server first.
    MigrateToPostgres {
        /// The target: postgres://user:password@host:port/dbname, a new, empty database.
        #[arg(long)]
        to: String,
        /// Also copy every stored photo into this data directory's photo folder, or into a
        /// bucket (`s3://bucket/prefix`, with the S3 variables of `--photos`); each checked by
        /// hash, photos already there with the right bytes kept.
        #[arg(long)]
        to_photos: Option<String>,
    },
    /// Load reference data (the JSON the core loads): validated as a whole, all or nothing.
    LoadReference { file: PathBuf },
    /// Stores' QR check-in keys (扫码签到).
    #[command(subcommand)]
    StoreKeys(StoreKeysCommand),
    /// Issue a one-time enrolment code for a user; prints the code.
    EnrolCode {
        #[arg(long)]
        user: String,
        /// Hours the code stays valid.
        #[arg(long, env = "FIELDPROOF_ENROL_CODE_TTL_HOURS", default_value_t = 72)]
        ttl_hours: u32,
    },
    /// Revoke a device: its requests are refused from now on, and its key counts as revoked
    /// from now, or from --from (photos received before then stay verified, "key revoked
    /// later"; later ones are revoked_key).
    Revoke {
        #[arg(long)]
        device: String,
        /// When the key stopped being trustworthy, "YYYY-MM-DD HH:MM" in the field calendar's
        /// local time (--time-zone), not in the future: a phone lost yesterday afternoon.
        #[arg(long)]
        from: Option<String>,
    },
    /// List enrolled devices (JSON).
    Devices,
    /// Counts of what the server holds (JSON).
    Stats,
    /// Re-read and re-hash every stored photo (in the data directory or the bucket of
    /// --photos); prints the intact and the damaged ones.
    CheckPhotos,
    /// Remove photo uploads started more than --older-than-hours ago and never finished (their
    /// partial bytes and their record); the server does it hourly for uploads a week old. A
    /// phone that comes back sends the photo again from the start. Prints what was removed.
    SweepUploads {
        #[arg(long, default_value_t = 168)]
        older_than_hours: u32,
    },
    /// Export visits (with scores), answers, exceptions and photos' metadata as one XLSX
    /// workbook, one sheet per kind. Dates are local (--time-zone).
    Export {
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        filter: FilterArgs,
    },
    /// Export one kind as CSV (UTF-8 with a byte-order mark), the workbook's columns.
    ExportCsv {
        /// visits, answers, exceptions or photos.
        #[arg(long)]
        kind: String,
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        filter: FilterArgs,
    },
    /// Write an evidence bundle (docs/evidence-bundle.md): the selected visits' photos, their
    /// phones' signed records in receive order with the context a verifier needs, the phones'
    /// keys and a summary, as one ZIP that `fieldproof-server verify` checks offline. Give at
    /// least one of --visit, --store, --rep, --from/--to; all given apply together.
    ExportEvidence {
        /// One visit (its id).
        #[arg(long)]
        visit: Option<String>,
        /// A store: its id or its code.
        #[arg(long)]
        store: Option<String>,
        /// A rep: their id or their name.
        #[arg(long)]
        rep: Option<String>,
        /// First local date (YYYY-MM-DD, --time-zone) a visit started on, inclusive.
        #[arg(long)]
        from: Option<String>,
        /// Last local date, inclusive.
        #[arg(long)]
        to: Option<String>,
        /// The bundle file to create; an existing file is refused, never overwritten.
        #[arg(long)]
        out: PathBuf,
        /// The most photos the bundle may hold; a larger selection is refused.
        #[arg(long, default_value_t = Limits::default().evidence_bundle.max_photos as u32,
              value_parser = clap::value_parser!(u32).range(1..=100_000))]
        max_photos: u32,
    },
    /// Import territories, supervisors, teams, reps, stores, products and plans — or, in a file
    /// of their own, customers, customer activities and leads — from XLSX (one sheet per kind,
    /// named in English or Chinese) or CSV: validated as a whole, all or nothing; a bad file is
    /// refused with every problem listed.
    Import {
        file: PathBuf,
        /// What a CSV holds (a workbook's sheet names say it): territories, supervisors, teams,
        /// reps, stores, products, plans, customers, activities or leads.
        #[arg(long)]
        kind: Option<String>,
    },
    /// The exception queue, newest first (JSON).
    Exceptions {
        /// Only unresolved ones.
        #[arg(long)]
        open: bool,
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// Create (or replace the password, name and role of) a head-office web user.
    CreateUser(CreateUserArgs),
    /// Alert channels (WeCom / DingTalk robots, email).
    AlertChannel {
        #[command(subcommand)]
        command: AlertChannelCommand,
    },
    /// Alert rules (which exceptions go to which channel).
    AlertRule {
        #[command(subcommand)]
        command: AlertRuleCommand,
    },
    /// Customers and leads: the pipeline's settings, routing rules, reps' tags, the scheduler.
    Pipeline {
        #[command(subcommand)]
        command: PipelineCommand,
    },
    /// Print a one-time sign-in link path (`/app/login/link?token=...`) for a web user.
    SignInLink {
        #[arg(long)]
        user: String,
        /// Minutes the link stays valid (1 to 1440); it works once.
        #[arg(long, default_value_t = 60)]
        ttl_minutes: u32,
    },
}

/// `admin alert-channel add`: a WeCom or DingTalk robot, or an email channel.
#[derive(Args)]
struct AlertChannelArgs {
    /// wecom, dingtalk or email.
    #[arg(long)]
    kind: String,
    #[arg(long)]
    name: String,
    /// zh-CN or en: the messages' language.
    #[arg(long, default_value = "zh-CN")]
    lang: String,
    /// wecom / dingtalk: the robot's webhook address.
    #[arg(long, default_value = "")]
    webhook: String,
    /// dingtalk: the robot's signing secret (SEC…).
    #[arg(long, default_value = "")]
    secret: String,
    #[arg(long, default_value = "")]
    smtp_host: String,
    #[arg(long, default_value = "587")]
    smtp_port: String,
    /// starttls, tls or none.
    #[arg(long, default_value = "starttls")]
    smtp_tls: String,
    #[arg(long, default_value = "")]
    smtp_user: String,
    #[arg(long, default_value = "")]
    smtp_password: String,
    #[arg(long, default_value = "")]
    mail_from: String,
    /// Recipients, comma-separated.
    #[arg(long, default_value = "")]
    mail_to: String,
}

/// `admin alert-rule add`.
#[derive(Args)]
struct AlertRuleArgs {
    #[arg(long)]
    name: String,
    /// The channel's number (`admin alert-channel list`).
    #[arg(long)]
    channel: String,
    /// Exception codes, comma-separated; none: every code.
    #[arg(long, default_value = "")]
    codes: String,
    /// Only this team (its code).
    #[arg(long, default_value = "")]
    team: String,
    /// Only this territory (its code).
    #[arg(long, default_value = "")]
    territory: String,
    /// 1 info, 2 warning, 3 critical: the least severe sent.
    #[arg(long, default_value = "1")]
    min_severity: String,
    /// Quiet hours, local: HH:MM-HH:MM (22:00-07:00); messages wait until they end.
    #[arg(long, default_value = "")]
    quiet: String,
    /// Also send the team's daily digest here.
    #[arg(long)]
    digest: bool,
}

#[derive(Subcommand)]
enum AlertChannelCommand {
    /// Add a channel; prints its number.
    Add(Box<AlertChannelArgs>),
    /// The channels (JSON; secrets masked).
    List,
}

#[derive(Subcommand)]
enum StoreKeysCommand {
    /// Retire the store's key and issue a new one; prints the new key id. Codes scanned with
    /// the old key before now still verify.
    Rotate { store_id: String },
    /// Print the store's current code (what its screen shows now).
    Code { store_id: String },
}

#[derive(Subcommand)]
enum PipelineCommand {
    /// Print the settings (pipeline, health model, routing), reps' tags and the last dry run.
    Show,
    /// Save one setting from a JSON file: checked whole, all or nothing; prints the version.
    Set {
        /// pipeline, health or routing.
        #[arg(long, value_parser = ["pipeline", "health", "routing"])]
        name: String,
        file: PathBuf,
    },
    /// Replace a rep's qualification tags (资质标签), comma-separated (empty: none).
    RepTags {
        #[arg(long)]
        user: String,
        #[arg(long, default_value = "")]
        tags: String,
    },
    /// Save the routing rules from a JSON file (a list of rules); routing pauses until go-live.
    Rules { file: PathBuf },
    /// Replay the last 30 days of leads through the saved rules; prints the report.
    DryRun,
    /// Route new leads by the rules: only when the last dry run matched enough of its leads.
    GoLive,
    /// Stop routing by the rules (new leads stay unassigned and go to the pool at the deadline).
    Pause,
    /// Run the scheduler's due jobs now (each run still once only, whoever takes it).
    RunJobsNow {
        /// "Now" for the jobs, Unix ms (default: the wall clock).
        #[arg(long)]
        now_ms: Option<i64>,
    },
}

fn pipeline_admin(store: &Store, c: PipelineCommand) -> Result<String, AdminError> {
    use fieldproof_server::pipeline_jobs as pj;
    let lang = fieldproof_server::i18n::Lang::En;
    let settings = |e: pj::SettingsError| AdminError::Invalid(e.messages(lang).join("\n"));
    let read = |path: &std::path::Path| {
        std::fs::read_to_string(path)
            .map_err(|e| AdminError::Invalid(format!("cannot read {}: {e}", path.display())))
    };
    let now = now_ms();
    match c {
        PipelineCommand::Show => json(&pj::settings_document(store)?),
        PipelineCommand::Set { name, file } => {
            let v = pj::save_from_json(store, &name, &read(&file)?, None, now).map_err(settings)?;
            Ok(format!("{name}: version {v}"))
        }
        PipelineCommand::RepTags { user, tags } => {
            let tags: Vec<String> = tags.split(',').map(str::to_string).collect();
            json(&pj::set_rep_tags(store, &user, &tags).map_err(settings)?)
        }
        PipelineCommand::Rules { file } => {
            let v = pj::save_from_json(store, "routing", &read(&file)?, None, now).map_err(settings)?;
            Ok(format!("routing: version {v} (paused until go-live)"))
        }
        PipelineCommand::DryRun => json(&pj::dry_run_routing(store, None, now)?),
        PipelineCommand::GoLive => {
            let v = pj::go_live(store, None, now).map_err(|e| AdminError::Invalid(e.message(lang)))?;
            Ok(format!("routing live: version {v}"))
        }
        PipelineCommand::Pause => {
            let v = pj::set_routing_paused(store, None, now).map_err(settings)?;
            Ok(format!("routing paused: version {v}"))
        }
        PipelineCommand::RunJobsNow { now_ms } => json(&pj::run_due_jobs(
            store,
            &pj::jobs::process_owner(),
            now_ms.unwrap_or(now),
        )?),
    }
}

#[derive(Subcommand)]
enum AlertRuleCommand {
    /// Add a rule; prints its number.
    Add(AlertRuleArgs),
}

fn alert_channel(store: &Store, c: AlertChannelCommand) -> Result<String, AdminError> {
    use fieldproof_server::alerts;
    let invalid = |e: alerts::AlertError| AdminError::Invalid(e.words(fieldproof_server::i18n::Lang::En));
    match c {
        AlertChannelCommand::Add(a) => {
            let a = *a;
            let input = alerts::ChannelInput {
                kind: a.kind,
                name: a.name,
                webhook_url: a.webhook,
                secret: a.secret,
                smtp_host: a.smtp_host,
                smtp_port: a.smtp_port,
                smtp_tls: a.smtp_tls,
                smtp_user: a.smtp_user,
                smtp_password: a.smtp_password,
                mail_from: a.mail_from,
                mail_to: a.mail_to,
                lang: a.lang,
                enabled: true,
            };
            alerts::save_channel(store, None, &input, now_ms())
                .map(|id| id.to_string())
                .map_err(invalid)
        }
        AlertChannelCommand::List => {
            let list: Vec<serde_json::Value> = alerts::channels(store)
                .map_err(invalid)?
                .iter()
                .map(|c| {
                    serde_json::json!({
                        "id": c.id, "kind": c.kind.as_str(), "name": c.name, "lang": c.lang.code(),
                        "enabled": c.enabled, "target": c.masked_target(),
                    })
                })
                .collect();
            json(&list)
        }
    }
}

fn alert_rule(store: &Store, c: AlertRuleCommand) -> Result<String, AdminError> {
    use fieldproof_server::alerts;
    let AlertRuleCommand::Add(a) = c;
    let (quiet_from, quiet_to) = match a.quiet.split_once('-') {
        Some((f, t)) => (f.to_string(), t.to_string()),
        None if a.quiet.trim().is_empty() => (String::new(), String::new()),
        None => (a.quiet.clone(), String::new()),
    };
    let input = alerts::RuleInput {
        name: a.name,
        channel_id: a.channel,
        codes: a.codes.split(',').map(str::to_string).collect(),
        team: a.team,
        territory: a.territory,
        min_severity: a.min_severity,
        quiet_from,
        quiet_to,
        digest: a.digest,
        enabled: true,
    };
    alerts::save_rule(store, None, &input, now_ms())
        .map(|id| id.to_string())
        .map_err(|e| AdminError::Invalid(e.words(fieldproof_server::i18n::Lang::En)))
}

/// `admin create-user` (the web pages' sign-in; see docs/HEAD-OFFICE.md).
#[derive(Args)]
struct CreateUserArgs {
    #[arg(long)]
    id: String,
    #[arg(long)]
    name: String,
    /// admin, head_office or supervisor.
    #[arg(long)]
    role: String,
    /// For a supervisor: the reference-data supervisor whose team they see (default: --id).
    #[arg(long)]
    supervisor_id: Option<String>,
    /// Read the password from the first line of stdin.
    #[arg(long, conflicts_with = "password")]
    password_stdin: bool,
    /// The password on the command line (visible in the process list: prefer --password-stdin).
    #[arg(long)]
    password: Option<String>,
}

fn create_user(store: &Store, a: CreateUserArgs) -> Result<String, AdminError> {
    let password = match (a.password_stdin, a.password) {
        (true, _) => {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            line.trim_end_matches(['\r', '\n']).to_string()
        }
        (false, Some(p)) => p,
        (false, None) => return Err(AdminError::Invalid("give --password-stdin or --password".into())),
    };
    let (id, name, role, sup) = (a.id, a.name, a.role, a.supervisor_id);
    fieldproof_server::web::auth::create_user(store, &id, &name, &role, sup.as_deref(), &password, now_ms())
}

/// The export filters (the head-office pages' filters).
#[derive(Args)]
struct FilterArgs {
    /// First local date (YYYY-MM-DD, --time-zone) of the visit's start, inclusive.
    #[arg(long)]
    from: Option<String>,
    /// Last local date, inclusive.
    #[arg(long)]
    to: Option<String>,
    #[arg(long)]
    rep: Option<String>,
    /// Store id.
    #[arg(long)]
    store: Option<String>,
    #[arg(long)]
    territory: Option<String>,
    /// Only this supervisor's team (and the supervisor's own visits).
    #[arg(long)]
    team_of: Option<String>,
}

impl FilterArgs {
    fn filter(self) -> Result<ExportFilter, AdminError> {
        let f = ExportFilter {
            from: self.from,
            to: self.to,
            rep_id: self.rep,
            store_id: self.store,
            territory: self.territory,
            team_of: self.team_of,
        };
        f.validate().map_err(|e| AdminError::Invalid(e.to_string()))?;
        Ok(f)
    }
}

fn init_logging(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("FIELDPROOF_LOG")
        .or_else(|_| tracing_subscriber::EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => {
            init_logging("info");
            let map_tiles = match args.map_tiles() {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("fieldproof-server: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let mut limits = args.limits(cli.time_zone, map_tiles);
            limits.org_ca_dir = cli.org_ca_dir;
            limits.org_name = cli.org_name;
            let config = Config {
                addr: args.addr,
                data_dir: cli.data_dir,
                photos: cli.photos,
                database: cli.database,
                limits,
            };
            // Blocking work (SQLite, files, images) is bounded: each blocking thread may hold a
            // database connection and buffers, so an unbounded pool (tokio's default is 512)
            // lets a request storm grow memory without limit.
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .max_blocking_threads(64)
                .enable_all()
                .build()
            {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("fieldproof-server: cannot start the runtime: {e}");
                    return ExitCode::FAILURE;
                }
            };
            match runtime.block_on(fieldproof_server::serve(config)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("fieldproof-server: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Migrate => {
            init_logging("warn");
            match fieldproof_server::maintenance::migrate(&cli.data_dir, cli.database.as_deref()) {
                Ok(m) if m.from == m.to => {
                    println!("database schema version {}: already current, nothing to do", m.to);
                    ExitCode::SUCCESS
                }
                Ok(m) => {
                    println!("database schema version {} -> {}: migrated", m.from, m.to);
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("fieldproof-server migrate: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Verify(args) => verify(args),
        Command::Admin {
            command: AdminCommand::OrgCa { command },
        } => {
            init_logging("warn");
            let dir = fieldproof_server::org_ca::dir_for(&cli.data_dir, cli.org_ca_dir.as_deref());
            match org_ca_admin(&dir, &cli.org_name, command) {
                Ok(out) => {
                    println!("{out}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("fieldproof-server admin org-ca: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Admin { command } => {
            init_logging("warn");
            match admin(
                &cli.data_dir,
                cli.database.as_deref(),
                &cli.photos,
                cli.time_zone,
                command,
            ) {
                Ok(out) => {
                    println!("{out}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("fieldproof-server admin: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

fn json(v: &impl serde::Serialize) -> Result<String, AdminError> {
    serde_json::to_string_pretty(v).map_err(|e| AdminError::Invalid(e.to_string()))
}

fn write_out(out: &std::path::Path, bytes: &[u8]) -> Result<String, AdminError> {
    std::fs::write(out, bytes)
        .map_err(|e| AdminError::Invalid(format!("cannot write {}: {e}", out.display())))?;
    Ok(format!("wrote {} ({} bytes)", out.display(), bytes.len()))
}

/// `admin export-evidence`: planned (and refused) before the file is created; a bundle that
/// fails while being written leaves no file behind.
fn export_evidence(
    store: &Store,
    request: &fieldproof_server::evidence_bundle::Request,
    out: &std::path::Path,
) -> Result<String, AdminError> {
    use fieldproof_server::evidence_bundle::{Exporter, plan};
    let lang = fieldproof_server::i18n::Lang::En;
    let started = std::time::Instant::now();
    let plan = plan(store, &Exporter::AdminCli, request, now_ms())
        .map_err(|e| AdminError::Invalid(e.words(lang)))?;
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(out)
        .map_err(|e| AdminError::Invalid(format!("cannot create {}: {e}", out.display())))?;
    let written = plan
        .write(store, std::io::BufWriter::new(file))
        .and_then(|w| {
            w.into_inner()
                .map_err(|e| fieldproof_server::evidence_bundle::BundleError::Write(e.to_string()))
        })
        .and_then(|f| {
            f.sync_all()
                .map_err(|e| fieldproof_server::evidence_bundle::BundleError::Write(e.to_string()))
        });
    if let Err(e) = written {
        let _ = std::fs::remove_file(out);
        return Err(AdminError::Invalid(e.words(lang)));
    }
    let bytes = std::fs::metadata(out).map(|m| m.len()).unwrap_or(0);
    let b = &plan.bundle;
    Ok(format!(
        "wrote {} ({bytes} bytes in {} ms): {} visits, {} photos, {} records, {} phones",
        out.display(),
        started.elapsed().as_millis(),
        b.summary.visits,
        b.summary.photos,
        b.summary.entries,
        b.summary.devices
    ))
}

#[derive(Subcommand)]
enum OrgCaCommand {
    /// Print the CA certificate (PEM), the trust anchor for reading the photos' Content
    /// Credentials, and its SHA-256 fingerprint.
    Show,
    /// Make the CA if the folder has none (`serve` does this on its first start), then show it.
    Init,
}

/// `admin org-ca show|init`: works on the CA folder alone (no database needed).
fn org_ca_admin(dir: &std::path::Path, org_name: &str, command: OrgCaCommand) -> Result<String, OrgCaError> {
    let ca = match command {
        OrgCaCommand::Show => OrgCa::load(dir)?,
        OrgCaCommand::Init => OrgCa::load_or_create(dir, org_name)?,
    };
    Ok(format!(
        "{}SHA-256 fingerprint: {}\nfolder: {}",
        ca.cert_pem(),
        ca.fingerprint_sha256(),
        dir.display()
    ))
}

/// `admin init`: the one admin command that may create a database.
fn init(
    data_dir: &std::path::Path,
    database: Option<&str>,
    photos: &PhotoLocation,
) -> Result<String, AdminError> {
    let db = Store::database_for(data_dir, database)?;
    let existed = fieldproof_server::db::exists(&db)?;
    let (place, at) = match &db {
        fieldproof_server::db::Database::Sqlite(_) => (data_dir.display().to_string(), "in"),
        fieldproof_server::db::Database::Postgres(_) => (db.to_string(), "at"),
    };
    Store::open_in(data_dir, db, Limits::default(), photos)?;
    let version = fieldproof_server::db::SCHEMA_VERSION;
    Ok(if existed {
        format!("{place} already holds a Fieldproof database (schema version {version}); nothing changed")
    } else {
        format!("created a new Fieldproof database {at} {place} (schema version {version})")
    })
}

fn admin(
    data_dir: &std::path::Path,
    database: Option<&str>,
    photos: &PhotoLocation,
    calendar: Calendar,
    command: AdminCommand,
) -> Result<String, AdminError> {
    match command {
        AdminCommand::Init => return init(data_dir, database, photos),
        // Before the store is opened: a backup never migrates what it copies.
        AdminCommand::Backup { to } => {
            if database.is_some() {
                return Err(AdminError::Invalid(
                    "admin backup copies the SQLite database; back up PostgreSQL with pg_dump (docs/OPERATIONS.md)"
                        .into(),
                ));
            }
            let r = fieldproof_server::maintenance::backup(data_dir, &to)?;
            return Ok(format!(
                "wrote {} ({} bytes, schema version {}); copy the photos/ folder after it",
                r.path.display(),
                r.bytes,
                r.schema_version
            ));
        }
        // Reads the SQLite database itself; --database is the source's, so none here.
        AdminCommand::MigrateToPostgres { to, to_photos } => {
            if database.is_some() {
                return Err(AdminError::Invalid(
                    "migrate-to-postgres moves the data directory's SQLite database: leave --database out, give the target as --to".into(),
                ));
            }
            let r = fieldproof_server::move_to_postgres::migrate_to_postgres(
                data_dir,
                &to,
                to_photos.as_deref(),
            )?;
            return json(&r);
        }
        _ => {}
    }
    let evidence_bundle = match &command {
        AdminCommand::ExportEvidence { max_photos, .. } => fieldproof_server::BundleLimits {
            max_photos: *max_photos as usize,
            ..Limits::default().evidence_bundle
        },
        _ => Limits::default().evidence_bundle,
    };
    let store = Store::open_existing_in(
        data_dir,
        Store::database_for(data_dir, database)?,
        Limits {
            calendar,
            evidence_bundle,
            ..Limits::default()
        },
        photos,
    )?;
    match command {
        AdminCommand::Init => init(data_dir, database, photos),
        AdminCommand::Backup { .. } | AdminCommand::MigrateToPostgres { .. } | AdminCommand::OrgCa { .. } => {
            Err(AdminError::Invalid("handled before the store is opened".into()))
        }
        AdminCommand::LoadReference { file } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| AdminError::Invalid(format!("cannot read {}: {e}", file.display())))?;
            json(&store.load_reference_json(&text, now_ms())?)
        }
        AdminCommand::StoreKeys(StoreKeysCommand::Rotate { store_id }) => {
            store.rotate_store_key(&store_id, now_ms())
        }
        AdminCommand::StoreKeys(StoreKeysCommand::Code { store_id }) => store
            .store_code(&store_id, now_ms())?
            .ok_or_else(|| AdminError::Invalid(format!("store {store_id:?} has no check-in key"))),
        AdminCommand::EnrolCode { user, ttl_hours } => {
            store.issue_enrol_code(&user, i64::from(ttl_hours) * 3_600_000, now_ms())
        }
        AdminCommand::Revoke { device, from } => {
            let now = now_ms();
            let from_ms = match &from {
                None => now,
                Some(text) => calendar.parse_datetime(text).ok_or_else(|| {
                    AdminError::Invalid(format!("--from {text:?} is not a time \"YYYY-MM-DD HH:MM\""))
                })?,
            };
            store.revoke_device_from(&device, from_ms, now)?;
            // Revoked from now: the answer scripts have always read ("revoked DEVICE").
            Ok(match from {
                None => format!("revoked {device}"),
                Some(_) => format!("revoked {device} from {}", calendar.datetime(from_ms)),
            })
        }
        AdminCommand::Devices => json(&store.devices()?),
        AdminCommand::Stats => json(&store.stats()?),
        AdminCommand::CheckPhotos => json(&store.check_photos()?),
        AdminCommand::SweepUploads { older_than_hours } => {
            let before = now_ms() - i64::from(older_than_hours) * 3_600_000;
            json(&fieldproof_server::photos::sweep_abandoned_uploads(
                &store, before,
            )?)
        }
        AdminCommand::Export { out, filter } => {
            let bytes = fieldproof_server::export::export_xlsx(&store, &filter.filter()?)
                .map_err(|e| AdminError::Invalid(e.to_string()))?;
            write_out(&out, &bytes)
        }
        AdminCommand::ExportCsv { kind, out, filter } => {
            let kind = ExportKind::parse(&kind).map_err(|e| AdminError::Invalid(e.to_string()))?;
            let text = fieldproof_server::export::export_csv(&store, kind, &filter.filter()?)
                .map_err(|e| AdminError::Invalid(e.to_string()))?;
            write_out(&out, text.as_bytes())
        }
        AdminCommand::ExportEvidence {
            visit,
            store: store_sel,
            rep,
            from,
            to,
            out,
            // In the store's limits (opened above).
            max_photos: _,
        } => {
            let request = fieldproof_server::evidence_bundle::Request {
                visit,
                store: store_sel,
                rep,
                from,
                to,
            };
            export_evidence(&store, &request, &out)
        }
        AdminCommand::Import { file, kind } => {
            // Within the import's file limit: never a whole huge file (or device) in memory.
            let bytes = fieldproof_server::import::read_file(&file, &store.limits().import)
                .map_err(|e| AdminError::Invalid(e.to_string()))?;
            let kind = kind
                .map(|k| {
                    ImportKind::parse(&k).ok_or_else(|| {
                        AdminError::Invalid(format!(
                            "unknown kind {k:?} (territories, supervisors, teams, reps, stores, products, plans, customers, activities, leads)"
                        ))
                    })
                })
                .transpose()?;
            let report = import_file(&store, &file.to_string_lossy(), &bytes, kind, now_ms())
                .map_err(|e| AdminError::Invalid(e.to_string()))?;
            json(&report)
        }
        AdminCommand::Exceptions { open, limit } => json(&store.exceptions(open, limit)?),
        AdminCommand::CreateUser(args) => create_user(&store, args),
        AdminCommand::AlertChannel { command } => alert_channel(&store, command),
        AdminCommand::AlertRule { command } => alert_rule(&store, command),
        AdminCommand::Pipeline { command } => pipeline_admin(&store, command),
        AdminCommand::SignInLink { user, ttl_minutes } => fieldproof_server::web::auth::issue_sign_in_link(
            &store,
            &user,
            i64::from(ttl_minutes) * 60_000,
            now_ms(),
        ),
    }
}
