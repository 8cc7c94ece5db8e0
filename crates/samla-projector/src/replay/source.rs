//! Reading what a replay needs from the log: scattered sequences (runs with one read
//! consumer, stragglers with one `get` each), single events, and the last sequence
//! recorded by a time.

use std::collections::HashMap;

use futures::{StreamExt, TryStreamExt};
use proto_events::Timestamp;
use samla_log::{Log, LogError, ReadRange};

use crate::error::ProjectorError;
use crate::prepare::RawEvent;

/// Concurrent single-event requests.
const GET_CONCURRENCY: usize = 32;
/// Sequences closer than this belong to one run, read with one consumer.
const RUN_GAP: u64 = 64;
/// A run with fewer wanted events than this is fetched event by event.
const RUN_MIN_EVENTS: usize = 16;

fn missing(seq: u64) -> ProjectorError {
    ProjectorError::Log(LogError::Unavailable {
        reason: format!("the log has no event at sequence {seq}"),
    })
}

/// Events by sequence, one request each, concurrently. Every sequence must exist.
pub(crate) async fn get_many(
    log: &Log,
    seqs: impl IntoIterator<Item = u64>,
) -> Result<Vec<RawEvent>, ProjectorError> {
    futures::stream::iter(seqs)
        .map(|seq| async move {
            match log.get(seq).await? {
                Some(event) => Ok(RawEvent::from(event)),
                None => Err(missing(seq)),
            }
        })
        .buffer_unordered(GET_CONCURRENCY)
        .try_collect()
        .await
}

/// The events at `seqs` (any order, no duplicates needed), keyed by sequence.
pub(crate) async fn read_seqs(
    log: &Log,
    seqs: &[u64],
) -> Result<HashMap<u64, RawEvent>, ProjectorError> {
    let mut sorted = seqs.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut found: HashMap<u64, RawEvent> = HashMap::with_capacity(sorted.len());
    let mut singles = Vec::new();
    let mut start = 0;
    while start < sorted.len() {
        let mut end = start + 1;
        while end < sorted.len() && sorted[end] - sorted[end - 1] <= RUN_GAP {
            end += 1;
        }
        let run = &sorted[start..end];
        if run.len() < RUN_MIN_EVENTS {
            singles.extend_from_slice(run);
        } else {
            let (first, last) = (run[0], run[run.len() - 1]);
            let mut records = log.read(ReadRange::span(first, last)).await?;
            let mut wanted = run.iter().copied().peekable();
            while let Some(record) = records.next().await {
                let record = record?;
                while wanted.next_if(|seq| *seq < record.seq()).is_some() {}
                if wanted.next_if_eq(&record.seq()).is_some() {
                    found.insert(record.seq(), RawEvent::from(record));
                }
            }
            if let Some(&seq) = run.iter().find(|seq| !found.contains_key(seq)) {
                return Err(missing(seq));
            }
        }
        start = end;
    }
    for raw in get_many(log, singles).await? {
        found.insert(raw.seq, raw);
    }
    Ok(found)
}

/// When event `seq` was recorded.
pub(crate) async fn recorded_at(log: &Log, seq: u64) -> Result<Timestamp, ProjectorError> {
    match log.get(seq).await? {
        Some(event) => Ok(event.recorded_at),
        None => Err(missing(seq)),
    }
}

/// The last sequence recorded at or before `time`, by binary search between `low` (0 or a
/// sequence recorded at or before `time`) and `high` (a sequence recorded after it).
/// Assumes `recorded_at` does not decrease along the log, which holds while the servers'
/// clocks do not step back; it then matches [`ReadRange::recorded_until`].
pub(crate) async fn last_recorded_by(
    log: &Log,
    time: Timestamp,
    mut low: u64,
    mut high: u64,
) -> Result<u64, ProjectorError> {
    while high - low > 1 {
        let middle = low + (high - low) / 2;
        if recorded_at(log, middle).await? <= time {
            low = middle;
        } else {
            high = middle;
        }
    }
    Ok(low)
}
