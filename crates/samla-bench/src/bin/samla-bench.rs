//! `samla-bench`: measures Samla against raw NATS and sled baselines in one run and prints
//! a table (or JSON). Thin: parses arguments, sets up tracing and calls
//! `samla_bench::command` (which `samla bench` calls too).

use clap::Parser;
use samla_bench::BenchArgs;
use samla_bench::cli::ProjectorLaunch;

// jemalloc with Samla's options (see `samla_projector::allocator`).
samla_projector::samla_allocator!();

/// Benchmarks Samla: the log's baselines, ingest through the gateway (NATS, HTTP, group
/// commit), live latency, the projector's rebuild and as-of queries, in one run.
///
/// Starts its own nats-servers (one with nats-server's default sync, one with
/// `sync_interval: always`, both with Samla's permission block), generates the seeded
/// crisis (every kind of event mixed, MessagePack of a few hundred bytes each) and
/// measures every figure `--repeat` times, reporting median, min and max. The gateway and
/// the replayer run in this process, the projector as its own. Progress goes to stderr;
/// the report to stdout (or `--out`). The machine should be otherwise idle: figures from a
/// busy machine are indicative only.
#[derive(Debug, Parser)]
#[command(name = "samla-bench", version, after_long_help = samla_bench::figures_help())]
struct Arguments {
    #[command(flatten)]
    bench: BenchArgs,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let arguments = Arguments::parse();
    samla_bench::command(
        arguments.bench,
        ProjectorLaunch {
            self_subcommand: &["projector"],
            look_beside: true,
        },
    )
    .await?;
    Ok(())
}
