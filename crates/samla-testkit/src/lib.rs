//! Real nats-servers for Samla's tests and benchmarks: one server ([`NatsServer`]) or a
//! JetStream cluster on loopback ([`NatsCluster`]), each on free ports with a temp store
//! and `sync_interval: always`, ready (JetStream healthy) when start returns.
//!
//! Servers are killed and their folders removed on drop. A test process that dies without
//! destructors (abort, signal, `exit`) takes its servers with it: every server is forked
//! from one long-lived thread through `setpriv --pdeathsig KILL` (see `spawner.rs`).
//!
//! The server API is blocking: it waits on processes and polls the monitoring port. Async
//! tests call it directly (a start takes well under a second; a graceful stop a little
//! longer), or through `spawn_blocking` when other tasks must keep running meanwhile.
//!
//! What it is not: a production process manager (`samla up` manages its own nats-server),
//! nor a mock — there is no fake NATS here; tests talk to the real server Samla pins
//! (2.15.x, installed by `deploy/install-nats-server.sh`).
//!
//! Layout:
//! - `binary.rs`: finding the nats-server binary, and the install hint when there is none.
//! - `config.rs`: rendering the `deploy/nats/*.conf.template` files (embedded).
//! - `spawner.rs`: the spawner thread and the kill-on-crash watchdog.
//! - `server.rs`: [`NatsServer`] and [`NatsServerBuilder`]: start, readiness, kill, stop,
//!   restart, reload.
//! - `cluster.rs`: [`NatsCluster`].
//! - `probe.rs`: free ports, a minimal HTTP GET for `/healthz` and `/jsz`, process checks.
//! - `server_log.rs`: reading the server's log for errors and reload results.
//! - `relay.rs`: [`Relay`], a TCP relay that can go silent without closing, for tests of
//!   connections that die that way.
//! - `src/bin/samla-testkit-crash-helper.rs`: a process that starts a server and dies,
//!   used by the watchdog test.

mod binary;
mod cluster;
mod config;
mod error;
mod probe;
mod relay;
mod server;
mod server_log;
mod spawner;

use std::future::Future;
use std::time::Duration;

pub use binary::{
    BinaryLookup, MINIMUM_NATS_SERVER_VERSION, NATS_SERVER_ENV, PINNED_NATS_SERVER_VERSION,
    PathCandidate, missing_nats_server_message, nats_server_binary, nats_server_binary_version,
    read_version, repository_root, tool_binary,
};
pub use cluster::NatsCluster;
pub use config::{CLUSTER_NODE_TEMPLATE, SINGLE_TEMPLATE, render};
pub use error::TestkitError;
pub use probe::{port_is_open, process_is_gone};
pub use relay::Relay;
pub use server::{DEFAULT_MAX_FILE_STORE, NatsServer, NatsServerBuilder};

/// Polls `poll` every ~20 ms until it yields `Some`, and returns that value. Panics with
/// `what` if `deadline` passes first. Tests wait on conditions with this, never on bare
/// sleeps. Uses tokio's clock, so it follows `tokio::time::pause()`.
pub async fn wait_for<F, Fut, T>(what: &str, deadline: Duration, mut poll: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let give_up_at = tokio::time::Instant::now() + deadline;
    loop {
        if let Some(value) = poll().await {
            return value;
        }
        if tokio::time::Instant::now() >= give_up_at {
            panic!("timed out after {deadline:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
