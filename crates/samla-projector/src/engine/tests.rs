//! The engine's rules, and its parts the public API cannot reach on their own (a rebuild,
//! the progress a catch-up's stall check compares), against a real nats-server.

use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use samla_log::{AppendItem, ConnectOptions, Log, LogConfig};
use samla_testkit::NatsServer;
use tokio::sync::watch;

use super::*;

async fn open_log(url: &str, options: ConnectOptions) -> Log {
    let connection = samla_log::connect(&[url], options).await.expect("connect");
    Log::open(&connection, LogConfig::new(1 << 30))
        .await
        .expect("open log")
}

#[test]
fn a_catch_up_writes_after_its_events_its_changed_rows_or_its_interval() {
    let mut config = EngineConfig::new("unused");
    config.write_every = 1_000;
    config.write_rows = 300;
    config.write_interval = Duration::from_secs(2);
    let soon = Duration::from_millis(10);
    assert!(!config.coalesced_write_due(999, 299, soon));
    assert!(config.coalesced_write_due(1_000, 10, soon), "events");
    assert!(config.coalesced_write_due(20, 300, soon), "changed rows");
    assert!(
        config.coalesced_write_due(1, 1, Duration::from_secs(2)),
        "interval"
    );
}

/// A rebuild over events that are all quarantined moves the progress a catch-up's stall
/// check compares ([`Projector::progress`]) by one per event at least, as applied events
/// do: a long run of malformed events is not taken for a log out of reach. (Through
/// [`catch_up_and_digest`] this would take a rebuild longer than twice the stall
/// deadline, and a race between the two.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebuild_of_quarantined_events_is_progress() {
    const MALFORMED: u64 = 500;
    let server = NatsServer::start().expect("nats-server");
    let log = open_log(&server.client_url(), ConnectOptions::default()).await;
    let prefix = log.config().subject_prefix.clone();
    let items = (0..MALFORMED)
        .map(|n| AppendItem {
            subject: format!("{prefix}.inc-1.org-a.need.n{n}"),
            id: format!("malformed-{n}"),
            payload: Bytes::from_static(b"not an event"),
            expected_seq: None,
        })
        .collect();
    for answer in log.append_batch(items).await {
        answer.expect("append");
    }
    let data = tempfile::tempdir().expect("tempdir");
    let config = EngineConfig::new(data.path());
    let projector = Projector::new();
    let (_stop, mut stopped) = watch::channel(false);

    let before = projector.progress();
    let (_store, built) = rebuild(
        &projector,
        &log,
        &config,
        &data.path().join("models-1"),
        &mut stopped,
    )
    .await
    .expect("rebuild");

    assert!(
        projector.progress() >= before + MALFORMED,
        "progress went from {before} to {} over {MALFORMED} quarantined events",
        projector.progress()
    );
    assert_eq!(
        built.applied_seq(),
        MALFORMED,
        "the rebuild reached the head"
    );
    let metrics = projector.metrics();
    assert_eq!(metrics.applied_events.load(Ordering::Relaxed), 0);
    assert_eq!(
        metrics.quarantined_events.load(Ordering::Relaxed),
        MALFORMED
    );
}

/// A stop asked for while a rebuild pass starts with the log out of reach (the connection
/// open, nothing coming back) ends the rebuild at once, cleanly, rather than after its
/// requests for the head and the read time out. Called directly: through [`run`], the
/// run's own request for the head comes first, and a log that goes away later reaches a
/// pass's start only by timing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_while_a_rebuild_pass_starts_is_prompt() {
    let server = NatsServer::start().expect("nats-server");
    let relay =
        samla_testkit::Relay::start(std::net::SocketAddr::from(([127, 0, 0, 1], server.port())));
    // Requests wait a minute for an answer: far longer than the stop may take.
    let options = ConnectOptions {
        request_timeout: Duration::from_secs(60),
        ..ConnectOptions::default()
    };
    let log = open_log(&format!("nats://{}", relay.address()), options).await;
    relay.silence_held();
    let data = tempfile::tempdir().expect("tempdir");
    let config = EngineConfig::new(data.path());
    let (stop, mut stopped) = watch::channel(false);
    let rebuilding = tokio::spawn(async move {
        let current = config.data_dir.join("models-1");
        rebuild(&Projector::new(), &log, &config, &current, &mut stopped)
            .await
            .map(drop)
    });
    let _ = stop.send(true);

    let ended = tokio::time::timeout(Duration::from_secs(10), rebuilding)
        .await
        .expect("still rebuilding 10 s after the stop");
    let ended = ended.expect("join");
    assert!(matches!(ended, Err(ProjectorError::Stopped)), "{ended:?}");
}
