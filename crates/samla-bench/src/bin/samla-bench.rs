//! `samla-bench`: measures Samla against raw NATS and sled baselines in one run and prints
//! a table (or JSON). Thin: parses arguments and calls `samla_bench::run`.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use samla_bench::child::{ProjectorArgs, run_projector};
use samla_bench::report::{FIGURES, NOT_MEASURED_YET, RATIOS};
use samla_bench::{BenchOptions, PerfRecord, ProjectorCommand};

/// Benchmarks Samla: the log, the read baselines and the projector's rebuild, in one run.
///
/// Starts its own nats-servers (one with nats-server's default sync, one with
/// `sync_interval: always`), generates the seeded crisis (every kind of event mixed,
/// MessagePack of a few hundred bytes each) and measures every figure `--repeat` times,
/// reporting median, min and max. Progress goes to stderr; the report to stdout (or
/// `--out`). The machine should be otherwise idle: figures from a busy machine are
/// indicative only.
#[derive(Debug, Parser)]
#[command(version, after_long_help = figures_help(), args_conflicts_with_subcommands = true)]
struct Arguments {
    /// Events in the log [default: 1,000,000; 100,000 with --quick].
    #[arg(long)]
    events: Option<usize>,
    /// Samples per figure [default: 3; 2 with --quick].
    #[arg(long)]
    repeat: Option<u32>,
    /// A smaller run (100,000 events, 2 repeats): minutes, not tens of minutes.
    #[arg(long)]
    quick: bool,
    /// Events per `sync_interval: always` sample [default: a tenth of --events, 1,000..=100,000].
    #[arg(long)]
    durable_events: Option<usize>,
    /// Print the report as JSON: {"versions", "cores", "workload", "results": {NAME:
    /// {"median", "min", "max", "unit", "events", "samples"}}, "ratios": {NAME: x},
    /// "writes_by_table": {TABLE: {"keys_per_1000_events", "bytes_per_event"}}}.
    #[arg(long)]
    json: bool,
    /// Write the report to this file instead of stdout.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// The crisis seed.
    #[arg(long, default_value_t = samla_bench::DEFAULT_SEED)]
    seed: u64,
    /// Outstanding acks in the pipelined publishes.
    #[arg(long, default_value_t = samla_bench::DEFAULT_PUBLISH_WINDOW)]
    window: usize,
    /// Events per projector batch (passed to the projector, also used by the naive loop)
    /// [default: the projector's, 2,000].
    #[arg(long)]
    batch_max: Option<usize>,
    /// The projector binary [default: $SAMLA_PROJECTOR_BIN, else `samla-projector` beside
    /// this binary, else this binary's own `projector` subcommand — the same engine].
    #[arg(long, value_name = "PATH")]
    projector_bin: Option<PathBuf>,
    /// Record a `perf` profile of the projector during the last rebuild into FILE
    /// (`perf report -i FILE`). Needs `perf` and kernel.perf_event_paranoid <= 2.
    #[arg(long, value_name = "FILE")]
    perf: Option<PathBuf>,
    /// Skip taking the rebuild apart into its steps (saves about as long as the rebuilds).
    #[arg(long)]
    no_stages: bool,
    /// Extra `perf record` arguments, whitespace-separated.
    #[arg(
        long,
        default_value = "-F 999 --call-graph dwarf,16384",
        allow_hyphen_values = true
    )]
    perf_args: String,
    #[command(subcommand)]
    command: Option<Internal>,
}

#[derive(Debug, Subcommand)]
enum Internal {
    /// The projector process (same options and output as `samla-projector` in follow mode
    /// with --progress); used when no samla-projector binary is found.
    #[command(hide = true)]
    Projector {
        #[arg(long, default_value = "nats://127.0.0.1:4222")]
        nats_url: Vec<String>,
        #[arg(long)]
        data_dir: PathBuf,
        #[arg(long, default_value_t = 1 << 30)]
        log_max_bytes: u64,
        #[arg(long, default_value_t = 2000)]
        batch_max: usize,
        #[arg(long)]
        progress: bool,
    },
}

/// What each figure means, for `--help`.
fn figures_help() -> String {
    let mut text = String::from("Figures (results in the JSON):\n");
    for figure in FIGURES {
        text.push_str(&format!(
            "\n  {} [{}]\n      {}\n",
            figure.name, figure.unit, figure.meaning
        ));
    }
    text.push_str("\nRatios (of medians):\n");
    for (name, _, _, meaning) in RATIOS {
        text.push_str(&format!("\n  {name}\n      {meaning}\n"));
    }
    text.push_str("\nNot measured yet:\n");
    for item in NOT_MEASURED_YET {
        text.push_str(&format!("  - {item}\n"));
    }
    text.push_str(
        "\nBuild both binaries in release before measuring:\n  \
         cargo build --release -p samla-bench -p samla-projector\n  \
         target/release/samla-bench --quick\n",
    );
    text
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let arguments = Arguments::parse();
    if let Some(Internal::Projector {
        nats_url,
        data_dir,
        log_max_bytes,
        batch_max,
        progress,
    }) = arguments.command
    {
        run_projector(ProjectorArgs {
            nats_url,
            data_dir,
            log_max_bytes,
            batch_max,
            progress,
        })
        .await?;
        return Ok(());
    }

    let projector = ProjectorCommand::locate(arguments.projector_bin, Some("projector"))?;
    let mut options = BenchOptions::new(projector);
    if arguments.quick {
        options = options.quick();
    }
    if let Some(events) = arguments.events {
        options.events = events;
    }
    if let Some(repeat) = arguments.repeat {
        options.repeat = repeat;
    }
    options.durable_events = arguments.durable_events;
    options.seed = arguments.seed;
    options.publish_window = arguments.window;
    options.stages = !arguments.no_stages;
    if let Some(batch_max) = arguments.batch_max {
        options.batch_max = batch_max;
    }
    options.perf = arguments.perf.map(|output| PerfRecord {
        output,
        args: arguments
            .perf_args
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
    });

    let report = samla_bench::run(&options).await?;
    let text = if arguments.json {
        report.to_json() + "\n"
    } else {
        report.to_table()
    };
    match arguments.out {
        Some(path) => std::fs::write(&path, text)
            .with_context(|| format!("writing the report to {}", path.display()))?,
        None => print!("{text}"),
    }
    Ok(())
}
