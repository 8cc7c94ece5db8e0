//! The `samla` binary: parses the command line (with the config file and `SAMLA_*`
//! environment as defaults), sets up tracing, and hands over to [`samla::run`]. The exit
//! code says what happened (see `samla --help`).

use std::process::ExitCode;

/// jemalloc instead of the system allocator: the fold makes and drops many small rows on
/// several threads, and on the rebuild jemalloc took a quarter less CPU an event and less
/// peak memory than glibc's malloc (BENCHMARKS.md). Every Samla binary uses it, so the
/// bench's baselines and Samla's own code run on the same allocator.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let cli = match samla::cli::parse() {
        Ok(cli) => cli,
        Err(error) => return samla::exit::report(&error),
    };
    samla::logging::init(cli.verbose);
    match samla::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => samla::exit::report(&error),
    }
}
