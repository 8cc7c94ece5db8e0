//! Diagnostics go to stderr through `tracing`, so stdout stays for what a script reads
//! (the `Dashboard:` line, tables, `--json`). `RUST_LOG` overrides the `-v` count.

use tracing_subscriber::EnvFilter;

pub fn init(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info,async_nats=warn",
        _ => "debug,async_nats=info,hyper=info,sled=info",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
