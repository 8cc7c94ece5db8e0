//! The bench binary's own `projector` subcommand: what the `samla-projector` binary does
//! in follow mode with `--progress` — connect, open the log, run
//! `samla_projector::engine::run` on a data folder, print `applied <seq>` after every
//! batch, stop on SIGINT — for when no `samla-projector` binary is at hand (a test run of
//! this crate alone). Same options, same output, same engine.

use std::io::Write as _;
use std::path::PathBuf;

use samla_log::{ConnectOptions, LogConfig};
use samla_projector::engine::{self, EngineConfig, Projector};
use tokio::sync::broadcast::error::RecvError;

use crate::error::BenchError;

/// The options `samla-projector` takes that the bench uses.
#[derive(Debug, Clone, clap::Args)]
pub struct ProjectorArgs {
    #[arg(long, default_value = "nats://127.0.0.1:4222")]
    pub nats_url: Vec<String>,
    #[arg(long)]
    pub data_dir: PathBuf,
    #[arg(long, default_value_t = 1 << 30)]
    pub log_max_bytes: u64,
    #[arg(long, default_value_t = 2000)]
    pub batch_max: usize,
    /// The engine's defaults where `None`.
    #[arg(long)]
    pub resident_rows: Option<usize>,
    #[arg(long)]
    pub write_every: Option<usize>,
    #[arg(long)]
    pub write_rows: Option<usize>,
    #[arg(long)]
    pub progress: bool,
}

/// The engine's configuration for these options (its defaults where they say nothing).
pub fn engine_config(args: &ProjectorArgs) -> EngineConfig {
    let mut config = EngineConfig::new(args.data_dir.clone());
    config.batch_max = args.batch_max.max(1);
    if let Some(resident_rows) = args.resident_rows {
        config.resident_rows = resident_rows;
    }
    if let Some(write_every) = args.write_every {
        config.write_every = write_every.max(1);
    }
    if let Some(write_rows) = args.write_rows {
        config.write_rows = write_rows.max(1);
    }
    config
}

/// Runs the projector until SIGINT.
pub async fn run_projector(args: ProjectorArgs) -> Result<(), BenchError> {
    let connection = samla_log::connect(&args.nats_url, ConnectOptions::default())
        .await
        .map_err(|error| BenchError::nats("projector: connecting", error))?;
    let log = samla_log::Log::open(&connection, LogConfig::new(args.log_max_bytes))
        .await
        .map_err(|error| BenchError::nats("projector: opening the log", error))?;
    let config = engine_config(&args);
    let projector = Projector::new();
    if args.progress {
        let mut notices = projector.subscribe();
        tokio::spawn(async move {
            loop {
                match notices.recv().await {
                    Ok(notice) => {
                        let mut stdout = std::io::stdout().lock();
                        let _ = writeln!(stdout, "applied {}", notice.applied_seq);
                        let _ = stdout.flush();
                    }
                    Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => return,
                }
            }
        });
    }
    engine::run_until(projector, log, config, engine::wait_for_signal())
        .await
        .map_err(|error| BenchError::ProjectorFailed(error.to_string()))
}
