//! The publish baselines, with async-nats alone (no Samla code inside the timed loops):
//!
//! - **pipelined**: JetStream publishes with `Nats-Msg-Id`, at most `window` acks
//!   outstanding (the oldest is awaited when the window is full);
//! - **atomic batches**: the protocol `samla-log`'s `append_batch` speaks (ADR-50,
//!   nats-server ≥ 2.12; one sync per batch from 2.15), written out here with the core
//!   client: every message carries `Nats-Msg-Id`, `Nats-Batch-Id` and
//!   `Nats-Batch-Sequence` (1, 2, …); all but the last are plain publishes without a reply
//!   subject; the last adds `Nats-Batch-Commit: 1` and is a request whose answer is the
//!   pub ack of the whole batch (`{"seq", "batch", "count"}`) or an error. 16 batches are in
//!   flight at once (the server allows 50 per stream).
//!
//! Before each sample the log stream is deleted and created afresh through
//! `samla_log::Log::open` (setup, outside the timing), so every sample writes the same
//! events into an empty stream configured exactly like Samla's log; after it, the stream
//! must hold exactly the events sent.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use async_nats::header::{HeaderMap, HeaderName};
use futures::StreamExt;
use samla_log::{Connection, Log, LogConfig};
use serde::Deserialize;

use crate::error::BenchError;
use crate::progress::Progress;
use crate::workload::WireEvent;

const MSG_ID: HeaderName = HeaderName::from_static("Nats-Msg-Id");
const BATCH_ID: HeaderName = HeaderName::from_static("Nats-Batch-Id");
const BATCH_SEQUENCE: HeaderName = HeaderName::from_static("Nats-Batch-Sequence");
const BATCH_COMMIT: HeaderName = HeaderName::from_static("Nats-Batch-Commit");

/// Events per atomic batch: the server's limit, and what samla-log sends.
pub(crate) const ATOMIC_BATCH_EVENTS: usize = 1000;
/// Events per small atomic batch: about what samla-log cuts from a gathered batch of the
/// generated crisis, where a repeated aggregate starts the next batch (BENCHMARKS.md).
pub(crate) const SMALL_ATOMIC_BATCH_EVENTS: usize = 75;
/// Atomic batches in flight at once.
pub(crate) const ATOMIC_BATCHES_IN_FLIGHT: usize = 16;
/// How long one commit (or one ack) may take before the sample fails.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(60);

/// Deletes the log stream if it exists and creates it again, empty, as Samla configures
/// it. Returns the open log (for checking the outcome).
pub(crate) async fn fresh_log(
    connection: &Connection,
    config: &LogConfig,
) -> Result<Log, BenchError> {
    let jetstream = async_nats::jetstream::new(connection.nats_client().clone());
    if jetstream.get_stream(&config.stream_name).await.is_ok() {
        jetstream
            .delete_stream(&config.stream_name)
            .await
            .map_err(|error| BenchError::nats("deleting the previous log stream", error))?;
    }
    Log::open(connection, config.clone())
        .await
        .map_err(|error| BenchError::nats("creating the log stream", error))
}

/// Checks that the stream holds exactly `expected` events after a sample.
pub(crate) async fn expect_stored(
    log: &Log,
    expected: usize,
    phase: &str,
) -> Result<(), BenchError> {
    let head = log
        .head()
        .await
        .map_err(|error| BenchError::nats(phase, error))?;
    if head.messages != expected as u64 || head.last_seq != expected as u64 {
        return Err(BenchError::wrong(
            phase,
            format!(
                "the stream holds {} events (last sequence {}), {expected} were sent",
                head.messages, head.last_seq
            ),
        ));
    }
    Ok(())
}

/// Publishes every event with `Nats-Msg-Id`, keeping at most `window` acks outstanding.
/// Returns the time from the first publish to the last ack.
pub(crate) async fn publish_pipelined(
    client: &async_nats::Client,
    events: &[WireEvent],
    window: usize,
    phase: &str,
) -> Result<Duration, BenchError> {
    let mut jetstream = async_nats::jetstream::new(client.clone());
    jetstream.set_timeout(ANSWER_TIMEOUT);
    let window = window.max(1);
    let mut progress = Progress::new(phase, events.len() as u64);
    let mut outstanding = VecDeque::with_capacity(window);
    let mut duplicates = 0u64;
    let started = Instant::now();
    for (index, event) in events.iter().enumerate() {
        if outstanding.len() >= window
            && let Some(ack) = outstanding.pop_front()
        {
            duplicates += u64::from(settle(ack, phase).await?);
        }
        let mut headers = HeaderMap::new();
        headers.insert(MSG_ID, event.id.as_str());
        let ack = jetstream
            .publish_with_headers(event.subject.clone(), headers, event.payload.clone())
            .await
            .map_err(|error| BenchError::nats(phase, error))?;
        outstanding.push_back(ack);
        progress.tick(index as u64 + 1);
    }
    for ack in outstanding {
        duplicates += u64::from(settle(ack, phase).await?);
    }
    let elapsed = started.elapsed();
    progress.done();
    if duplicates > 0 {
        return Err(BenchError::wrong(
            phase,
            format!("{duplicates} events were reported as duplicates into an empty stream"),
        ));
    }
    Ok(elapsed)
}

/// Awaits one ack; `true` if the server called it a duplicate.
async fn settle(
    ack: async_nats::jetstream::context::PublishAckFuture,
    phase: &str,
) -> Result<bool, BenchError> {
    let ack = ack.await.map_err(|error| BenchError::nats(phase, error))?;
    Ok(ack.duplicate)
}

/// The commit's answer: a pub ack for the batch, or an error.
#[derive(Debug, Deserialize)]
struct CommitAnswer {
    #[serde(default)]
    seq: u64,
    #[serde(default)]
    count: Option<u64>,
    #[serde(default)]
    error: Option<serde_json::Value>,
}

/// Publishes every event in atomic batches of [`ATOMIC_BATCH_EVENTS`], with
/// [`ATOMIC_BATCHES_IN_FLIGHT`] batches outstanding. Returns the time from the first
/// publish to the last commit's answer.
pub(crate) async fn publish_atomic_batches(
    client: &async_nats::Client,
    events: &[WireEvent],
    phase: &str,
) -> Result<Duration, BenchError> {
    publish_atomic_batches_of(
        client,
        events,
        ATOMIC_BATCH_EVENTS,
        ATOMIC_BATCHES_IN_FLIGHT,
        phase,
    )
    .await
}

/// [`publish_atomic_batches`] with another batch size and number in flight.
///
/// Batch ids are new in every call (as samla-log's are). When each sample numbered its
/// batches from `bench-1-0` again, one batch on the `sync_interval: always` server, the
/// first of a sample on a stream just deleted and created again, was refused once in CI as
/// holding duplicate message ids: the ids of the sample before, which had used the same
/// batch id. nats-server 2.15 stages such batches in a file store of its own, apparently
/// not always gone by the time the next sample starts.
pub(crate) async fn publish_atomic_batches_of(
    client: &async_nats::Client,
    events: &[WireEvent],
    batch_events: usize,
    in_flight: usize,
    phase: &str,
) -> Result<Duration, BenchError> {
    let prefix = uuid::Uuid::now_v7().simple();
    let mut progress = Progress::new(phase, events.len() as u64);
    let started = Instant::now();
    let mut commits = futures::stream::iter(events.chunks(batch_events.max(1)).enumerate())
        .map(|(number, batch)| commit_batch(client, format!("{prefix}-{number}"), batch, phase))
        .buffer_unordered(in_flight.max(1));
    let mut stored = 0u64;
    while let Some(count) = commits.next().await {
        stored += count?;
        progress.tick_now(stored);
    }
    let elapsed = started.elapsed();
    progress.done();
    if stored != events.len() as u64 {
        return Err(BenchError::wrong(
            phase,
            format!(
                "the commits stored {stored} events, {} were sent",
                events.len()
            ),
        ));
    }
    Ok(elapsed)
}

/// Sends one atomic batch and returns how many events its commit stored.
async fn commit_batch(
    client: &async_nats::Client,
    batch_id: String,
    batch: &[WireEvent],
    phase: &str,
) -> Result<u64, BenchError> {
    let Some((last, first)) = batch.split_last() else {
        return Ok(0);
    };
    for (position, event) in first.iter().enumerate() {
        let mut headers = HeaderMap::new();
        headers.insert(MSG_ID, event.id.as_str());
        headers.insert(BATCH_ID, batch_id.as_str());
        headers.insert(BATCH_SEQUENCE, (position + 1).to_string());
        client
            .publish_with_headers(event.subject.clone(), headers, event.payload.clone())
            .await
            .map_err(|error| BenchError::nats(phase, error))?;
    }
    let mut headers = HeaderMap::new();
    headers.insert(MSG_ID, last.id.as_str());
    headers.insert(BATCH_ID, batch_id.as_str());
    headers.insert(BATCH_SEQUENCE, batch.len().to_string());
    headers.insert(BATCH_COMMIT, "1");
    let request = async_nats::Request::new()
        .headers(headers)
        .payload(last.payload.clone())
        .timeout(Some(ANSWER_TIMEOUT));
    let answer = client
        .send_request(last.subject.clone(), request)
        .await
        .map_err(|error| BenchError::nats(phase, format!("batch {batch_id}: {error}")))?;
    let answer: CommitAnswer = serde_json::from_slice(&answer.payload).map_err(|error| {
        BenchError::nats(
            phase,
            format!(
                "batch {batch_id}: unreadable commit answer ({error}): {}",
                String::from_utf8_lossy(&answer.payload)
            ),
        )
    })?;
    if let Some(error) = answer.error {
        return Err(BenchError::nats(
            phase,
            format!("batch {batch_id} refused: {error}"),
        ));
    }
    match answer.count {
        Some(count) if count == batch.len() as u64 && answer.seq >= count => Ok(count),
        other => Err(BenchError::wrong(
            phase,
            format!(
                "batch {batch_id}: the commit says {other:?} events up to sequence {}, {} were sent",
                answer.seq,
                batch.len()
            ),
        )),
    }
}
