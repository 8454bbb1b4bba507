//! `fieldproof-server serve` runs the sync server; `fieldproof-server admin ...` works directly
//! on the data directory's database (safe while the server runs: WAL + busy timeout).

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use fieldproof_server::{AdminError, Config, Limits, Store, now_ms};

#[derive(Parser)]
#[command(name = "fieldproof-server", version, about = "Fieldproof sync server")]
struct Cli {
    /// Data directory: database, photos, uploads in progress. Created if missing.
    #[arg(
        long,
        global = true,
        env = "FIELDPROOF_DATA_DIR",
        default_value = "./fieldproof-data"
    )]
    data_dir: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the sync API until SIGTERM/SIGINT.
    Serve(ServeArgs),
    /// Head-office administration on the data directory.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
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
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Load reference data (the JSON the core loads): validated as a whole, all or nothing.
    LoadReference { file: PathBuf },
    /// Issue a one-time enrolment code for a user; prints the code.
    EnrolCode {
        #[arg(long)]
        user: String,
        /// Hours the code stays valid.
        #[arg(long, env = "FIELDPROOF_ENROL_CODE_TTL_HOURS", default_value_t = 72)]
        ttl_hours: u32,
    },
    /// Revoke a device: its requests are refused from now on.
    Revoke {
        #[arg(long)]
        device: String,
    },
    /// List enrolled devices (JSON).
    Devices,
    /// Counts of what the server holds (JSON).
    Stats,
    /// The exception queue, newest first (JSON).
    Exceptions {
        /// Only unresolved ones.
        #[arg(long)]
        open: bool,
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
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
            let config = Config {
                addr: args.addr,
                data_dir: cli.data_dir,
                limits: Limits {
                    max_push_bytes: args.max_push_bytes,
                    max_photo_bytes: args.max_photo_bytes,
                    max_chunk_bytes: args.max_chunk_bytes,
                    ..Limits::default()
                },
            };
            let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
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
        Command::Admin { command } => {
            init_logging("warn");
            match admin(&cli.data_dir, command) {
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

fn admin(data_dir: &std::path::Path, command: AdminCommand) -> Result<String, AdminError> {
    let store = Store::open(data_dir)?;
    match command {
        AdminCommand::LoadReference { file } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| AdminError::Invalid(format!("cannot read {}: {e}", file.display())))?;
            json(&store.load_reference_json(&text, now_ms())?)
        }
        AdminCommand::EnrolCode { user, ttl_hours } => {
            store.issue_enrol_code(&user, i64::from(ttl_hours) * 3_600_000, now_ms())
        }
        AdminCommand::Revoke { device } => {
            store.revoke_device(&device, now_ms())?;
            Ok(format!("revoked {device}"))
        }
        AdminCommand::Devices => json(&store.devices()?),
        AdminCommand::Stats => json(&store.stats()?),
        AdminCommand::Exceptions { open, limit } => json(&store.exceptions(open, limit)?),
    }
}
