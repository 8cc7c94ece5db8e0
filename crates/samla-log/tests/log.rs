//! samla-log against real nats-servers (2.15.1 unless a test says otherwise).
//!
//! Tests that only append and read share one server (`NatsServer::shared`) and each use
//! their own stream name and subject prefix (two streams may not cover the same subjects);
//! tests that restart, fill or kill a server start their own. One test binary; the
//! modules below are grouped by topic.

#[path = "log/append.rs"]
mod append;
#[path = "log/chain.rs"]
mod chain;
#[path = "log/cluster.rs"]
mod cluster;
#[path = "log/read.rs"]
mod read;
#[path = "log/setup.rs"]
mod setup;

pub(crate) use std::collections::{HashMap, HashSet};
pub(crate) use std::time::{Duration, Instant};

pub(crate) use bytes::Bytes;
pub(crate) use proto_events::Timestamp;
pub(crate) use samla_log::{
    AppendItem, Appended, CommitMode, ConnectOptions, Connection, Log, LogConfig, LogError,
    MIN_ATOMIC_BATCH_EVENTS, ReadFilter, ReadRange, connect,
};
pub(crate) use samla_testkit::{NatsCluster, NatsServer, nats_server_binary_version, wait_for};

pub(crate) const MIB: u64 = 1024 * 1024;

pub(crate) async fn connect_to(urls: &[String]) -> Connection {
    let options = ConnectOptions {
        request_timeout: Duration::from_secs(3),
        ..ConnectOptions::default()
    };
    connect(urls, options)
        .await
        .expect("connect to nats-server")
}

/// A log of its own on a shared server: stream `T_<NAME>` over `<name>.evt.>`.
pub(crate) fn own_config(name: &str, max_bytes: u64) -> LogConfig {
    LogConfig {
        stream_name: format!("T_{}", name.to_ascii_uppercase()),
        subject_prefix: format!("{name}.evt"),
        ..LogConfig::new(max_bytes)
    }
}

pub(crate) async fn open_shared(name: &str) -> Log {
    open_shared_with(name, CommitMode::Atomic).await
}

/// A log of its own on the shared server, appending with `commit`.
pub(crate) async fn open_shared_with(name: &str, commit: CommitMode) -> Log {
    let connection = connect_to(&[NatsServer::shared().client_url()]).await;
    let config = LogConfig {
        commit,
        ..own_config(name, 64 * MIB)
    };
    Log::open(&connection, config).await.expect("open log")
}

/// Events on aggregates of their own (`{tag}-0`, …) that bring `batch` up to
/// [`MIN_ATOMIC_BATCH_EVENTS`], so that with [`CommitMode::Atomic`] it goes out as an atomic
/// batch and not pipelined. Returns how many were added.
pub(crate) fn pad_to_atomic(log: &Log, batch: &mut Vec<AppendItem>, tag: &str) -> usize {
    let missing = MIN_ATOMIC_BATCH_EVENTS.saturating_sub(batch.len());
    for index in 0..missing {
        let name = format!("{tag}-{index}");
        batch.push(item(log, "org-pad", &name, &name, "padding", None));
    }
    missing
}

pub(crate) fn item(
    log: &Log,
    org: &str,
    aggregate: &str,
    id: &str,
    payload: &str,
    expected_seq: Option<u64>,
) -> AppendItem {
    AppendItem {
        subject: format!(
            "{}.inc-1.{org}.need.{aggregate}",
            log.config().subject_prefix
        ),
        id: id.to_owned(),
        payload: Bytes::from(payload.to_owned()),
        expected_seq,
    }
}

pub(crate) fn seq_of(result: &Result<Appended, LogError>) -> u64 {
    match result {
        Ok(appended) => appended.seq,
        Err(error) => panic!("append failed: {error}"),
    }
}

pub(crate) async fn read_all(log: &Log, filter: ReadFilter) -> Vec<samla_log::RawRecord> {
    log.read(ReadRange {
        from_seq: 1,
        filter,
        ..ReadRange::default()
    })
    .await
    .expect("start read")
    .collect_all()
    .await
    .expect("read")
}
