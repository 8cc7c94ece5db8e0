//! The read baselines, with async-nats, proto-events and sled alone:
//!
//! - **raw ordered read**: async-nats' ordered pull consumer over the whole log; each
//!   message's stream sequence is parsed and its payload touched, nothing more;
//! - **naive loop**: the same consumer → `proto_events::decode_msgpack` → one sled insert
//!   per event (the latest event of each aggregate, keyed `agg/<incident>/<type>/<id>`)
//!   with the checkpoint in the same `apply_batch`, one batch per `batch_max` events; sled
//!   opened like the projector's (same cache, high-throughput mode) and flushed at most
//!   once a second, like the projector. No fold, no coalescing, no indexes: what one writes
//!   first, and what the projector must beat.
//! - **decode loop**: the same consumer → `proto_events::decode_msgpack`, nothing stored:
//!   the work every rebuild must do for each event before it can fold it. Its CPU per
//!   event (this process and the nats-server) says how fast any rebuild that reads and
//!   decodes every event could go on these cores.
//!
//! All three start timing before the consumer is created (the projector pays for that too) and
//! stop when the last event of the log has been handled.

use std::path::Path;
use std::time::{Duration, Instant};

use async_nats::jetstream::consumer::DeliverPolicy;
use async_nats::jetstream::consumer::pull::{Ordered, OrderedConfig};
use futures::StreamExt;

use crate::error::BenchError;
use crate::progress::Progress;

/// sled's cache, as the projector sets it (`samla_projector::store::SLED_CACHE_BYTES`).
const SLED_CACHE_BYTES: u64 = samla_projector::store::SLED_CACHE_BYTES;
const FLUSH_EVERY: Duration = Duration::from_secs(1);

async fn ordered_messages(
    client: &async_nats::Client,
    stream: &str,
    phase: &str,
) -> Result<Ordered, BenchError> {
    let jetstream = async_nats::jetstream::new(client.clone());
    let stream = jetstream
        .get_stream(stream)
        .await
        .map_err(|error| BenchError::nats(phase, error))?;
    let consumer = stream
        .create_consumer(OrderedConfig {
            deliver_policy: DeliverPolicy::All,
            ..OrderedConfig::default()
        })
        .await
        .map_err(|error| BenchError::nats(phase, error))?;
    consumer
        .messages()
        .await
        .map_err(|error| BenchError::nats(phase, error))
}

/// The next message and its stream sequence.
async fn next_message(
    messages: &mut Ordered,
    phase: &str,
) -> Result<(async_nats::jetstream::Message, u64), BenchError> {
    let message = messages
        .next()
        .await
        .ok_or_else(|| BenchError::nats(phase, "the ordered consumer ended"))?
        .map_err(|error| BenchError::nats(phase, error))?;
    let seq = message
        .info()
        .map_err(|error| BenchError::nats(phase, error))?
        .stream_sequence;
    Ok((message, seq))
}

/// Reads `events` events from the start of `stream` in order, handing each to `handle`.
/// Returns the elapsed time.
async fn read_in_order(
    client: &async_nats::Client,
    stream: &str,
    events: u64,
    phase: &str,
    mut handle: impl FnMut(&async_nats::jetstream::Message, u64) -> Result<(), BenchError>,
) -> Result<Duration, BenchError> {
    let mut progress = Progress::new(phase, events);
    let started = Instant::now();
    let mut messages = ordered_messages(client, stream, phase).await?;
    // The log was written into an empty stream: event `count` is at sequence `count`.
    for count in 1..=events {
        let (message, seq) = next_message(&mut messages, phase).await?;
        if seq != count {
            return Err(BenchError::wrong(
                phase,
                format!("expected sequence {count}, got {seq}"),
            ));
        }
        handle(&message, seq)?;
        progress.tick(count);
    }
    let elapsed = started.elapsed();
    progress.done();
    Ok(elapsed)
}

/// Reads `events` events from the start of `stream`. Returns the elapsed time.
pub(crate) async fn raw_ordered_read(
    client: &async_nats::Client,
    stream: &str,
    events: u64,
    phase: &str,
) -> Result<Duration, BenchError> {
    let mut bytes = 0u64;
    let elapsed = read_in_order(client, stream, events, phase, |message, _| {
        bytes += message.payload.len() as u64;
        Ok(())
    })
    .await?;
    if bytes == 0 && events > 0 {
        return Err(BenchError::wrong(phase, "every payload was empty"));
    }
    Ok(elapsed)
}

/// Reads and decodes `events` events from the start of `stream`; stores nothing. Returns
/// the elapsed time.
pub(crate) async fn decode_loop(
    client: &async_nats::Client,
    stream: &str,
    events: u64,
    phase: &str,
) -> Result<Duration, BenchError> {
    read_in_order(client, stream, events, phase, |message, seq| {
        let envelope = proto_events::decode_msgpack(&message.payload)
            .map_err(|error| BenchError::wrong(phase, format!("event {seq}: {error}")))?;
        // Nothing may optimise the decoding away.
        std::hint::black_box(envelope);
        Ok(())
    })
    .await
}

/// Runs the naive consume → decode → sled loop over `events` events into a fresh sled
/// folder at `folder`. Returns the elapsed time.
pub(crate) async fn naive_loop(
    client: &async_nats::Client,
    stream: &str,
    events: u64,
    batch_max: usize,
    folder: &Path,
    phase: &str,
) -> Result<Duration, BenchError> {
    let db = sled::Config::new()
        .path(folder)
        .cache_capacity(SLED_CACHE_BYTES)
        .mode(sled::Mode::HighThroughput)
        .open()
        .map_err(BenchError::storage)?;
    let tree = db.open_tree("naive").map_err(BenchError::storage)?;
    let batch_max = batch_max.max(1);
    let mut progress = Progress::new(phase, events);
    let started = Instant::now();
    let mut messages = ordered_messages(client, stream, phase).await?;
    let mut batch = sled::Batch::default();
    let mut in_batch = 0;
    let mut last_flush = Instant::now();
    for count in 1..=events {
        let (message, seq) = next_message(&mut messages, phase).await?;
        let envelope = proto_events::decode_msgpack(&message.payload)
            .map_err(|error| BenchError::wrong(phase, format!("event {seq}: {error}")))?;
        let key = format!(
            "agg/{}/{}/{}",
            envelope.incident, envelope.aggregate.kind, envelope.aggregate.id
        );
        batch.insert(key.as_bytes(), &message.payload[..]);
        in_batch += 1;
        if in_batch == batch_max || count == events {
            batch.insert(&b"meta/checkpoint"[..], &seq.to_be_bytes()[..]);
            tree.apply_batch(std::mem::take(&mut batch))
                .map_err(BenchError::storage)?;
            in_batch = 0;
            if last_flush.elapsed() >= FLUSH_EVERY {
                db.flush().map_err(BenchError::storage)?;
                last_flush = Instant::now();
            }
            progress.tick_now(count);
        }
    }
    let elapsed = started.elapsed();
    progress.done();
    let checkpoint = tree
        .get(b"meta/checkpoint")
        .map_err(BenchError::storage)?
        .and_then(|value| <[u8; 8]>::try_from(value.as_ref()).ok())
        .map(u64::from_be_bytes);
    if checkpoint != Some(events) {
        return Err(BenchError::wrong(
            phase,
            format!("the checkpoint is {checkpoint:?}, expected {events}"),
        ));
    }
    Ok(elapsed)
}
