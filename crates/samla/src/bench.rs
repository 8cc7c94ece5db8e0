//! `samla bench`: Samla measured against raw JetStream and sled in one run, through
//! `samla_bench` — the same flags, figures and report as the `samla-bench` binary. The
//! projector process of the rebuild figure is this binary's own hidden `samla bench
//! projector` (or `--projector-bin`), so the engine measured is the one this binary holds.

use samla_bench::BenchError;
use samla_bench::cli::ProjectorLaunch;

use crate::exit::{CliError, CliResult, unavailable, usage};

/// Runs `samla bench`.
pub async fn bench(args: samla_bench::BenchArgs) -> CliResult {
    let launch = ProjectorLaunch {
        self_subcommand: &["bench", "projector"],
        look_beside: false,
    };
    samla_bench::command(args, launch)
        .await
        .map_err(|error| match error {
            BenchError::InvalidOptions(_) => usage(error.to_string()),
            BenchError::InstallNatsServer(_) => unavailable(error.to_string()),
            other => CliError::Failed(anyhow::Error::new(other)),
        })
}
