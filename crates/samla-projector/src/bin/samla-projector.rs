//! `samla-projector`: runs one projector against a log, headless.
//!
//! `--digest-at-head` catches up with the log's head (as it was at start), prints the
//! read models' digest and checkpoint, and exits: what the crash and determinism tests
//! compare. Without it, the projector follows the log until Ctrl-C or SIGTERM.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use samla_log::{ConnectOptions, LogConfig};
use samla_projector::engine::{self, EngineConfig, Projector};

// jemalloc with Samla's options (see `samla_projector::allocator`).
samla_projector::samla_allocator!();

/// Folds Samla's log into read models on disk.
#[derive(Debug, Parser)]
#[command(version, about, long_about = None)]
struct Arguments {
    /// NATS server(s) to read the log from.
    #[arg(long, env = "SAMLA_NATS_URL", default_value = "nats://127.0.0.1:4222")]
    nats_url: Vec<String>,
    /// Folder for the read models (created if missing).
    #[arg(long, env = "SAMLA_DATA_DIR")]
    data_dir: PathBuf,
    /// The log's byte budget (must match the stream's `max_bytes`).
    #[arg(long, env = "SAMLA_LOG_MAX_BYTES", default_value_t = 1 << 30)]
    log_max_bytes: u64,
    /// Catch up with the head, print `digest <sha256> checkpoint <seq>`, exit.
    #[arg(long)]
    digest_at_head: bool,
    /// The most events folded and written in one batch.
    #[arg(long, default_value_t = 2000)]
    batch_max: usize,
    /// While behind the head, the most events folded between two writes to disk.
    #[arg(long, default_value_t = engine::WRITE_EVERY)]
    write_every: usize,
    /// While behind the head, the most rows changed between two writes to disk: bounds
    /// the memory of a catch-up whose events touch many rows.
    #[arg(long, default_value_t = engine::WRITE_ROWS)]
    write_rows: usize,
    /// Rows the projector may keep in memory after a write (changed rows stay anyway);
    /// beyond it, rows already on disk leave memory and are read back when touched. Lower
    /// holds less memory on a large crisis and folds it slower.
    #[arg(long, default_value_t = engine::RESIDENT_ROWS)]
    resident_rows: usize,
    /// Print `applied <seq>` on stdout once the stored read models are loaded (the
    /// checkpoint they start from), then after every batch (for tests and scripts).
    #[arg(long)]
    progress: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let arguments = Arguments::parse();
    let connection = samla_log::connect(&arguments.nats_url, ConnectOptions::default())
        .await
        .context("connecting to NATS")?;
    let log = samla_log::Log::open(&connection, LogConfig::new(arguments.log_max_bytes))
        .await
        .context("opening the log")?;
    let mut config = EngineConfig::new(arguments.data_dir);
    config.batch_max = arguments.batch_max.max(1);
    config.write_every = arguments.write_every.max(1);
    config.write_rows = arguments.write_rows.max(1);
    config.resident_rows = arguments.resident_rows;
    if arguments.digest_at_head {
        let (digest, checkpoint) = engine::catch_up_and_digest(log, config).await?;
        println!("digest {digest} checkpoint {checkpoint}");
        return Ok(());
    }
    let projector = Projector::new();
    if arguments.progress {
        let mut notices = projector.subscribe();
        let loaded = projector.clone();
        tokio::spawn(async move {
            use std::io::Write;
            let print = |seq: u64| {
                let mut stdout = std::io::stdout().lock();
                let _ = writeln!(stdout, "applied {seq}");
                let _ = stdout.flush();
            };
            // A restart at the head applies nothing: the checkpoint is its progress.
            loaded.wait_loaded(Duration::MAX).await;
            let mut printed = loaded.applied_seq();
            print(printed);
            loop {
                match notices.recv().await {
                    Ok(notice) if notice.applied_seq > printed => {
                        printed = notice.applied_seq;
                        print(printed);
                    }
                    Ok(_) => continue, // applied before the checkpoint was printed
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                }
            }
        });
    }
    engine::run_until(projector, log, config, engine::wait_for_signal()).await?;
    Ok(())
}
