//! The `samla` binary: parses the command line (with the config file and `SAMLA_*`
//! environment as defaults), sets up tracing, and hands over to [`samla::run`]. The exit
//! code says what happened (see `samla --help`).

use std::process::ExitCode;

// jemalloc with Samla's options (see `samla_projector::allocator`).
samla_projector::samla_allocator!();

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
