//! Rebuilding the read models from the whole log, and what catching up shares with it.
//!
//! Two things make a rebuild fast without changing what it builds:
//! - **a pipeline**: a reader task reads the log and prepares (decodes and checks) the
//!   next batch on a blocking thread while this task folds the previous one, so decoding
//!   overlaps folding and writing on a second core;
//! - **coalesced writes**: batches are folded in memory and written only every
//!   [`EngineConfig::write_every`] events, [`EngineConfig::write_rows`] changed rows or
//!   [`EngineConfig::write_interval`]: a row touched by many events is encoded and
//!   written once. The new folder is swapped in
//!   only once it reaches the head (a crash before that starts the rebuild over), so a
//!   write need not be atomic: it goes in sled batches of `WRITE_PART` changes, the
//!   checkpoint last, which bounds what sled holds while it applies one;
//! - **writes beside the fold**: a write's changes are encoded here, then handed to a
//!   blocking thread while the next batches fold; the next write waits for it first, so
//!   writes stay in order and at most one window of changes waits in memory.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use samla_log::{Log, LogError, ReadRange, Records};
use tokio::sync::{mpsc, watch};

use super::{
    EngineConfig, Projector, count_batch, mark_store, next_folder, set_current, unreadable,
};
use crate::error::ProjectorError;
use crate::folder::Folder;
use crate::prepare::{Prepared, RawEvent, prepare};
use crate::store::{Change, SledStore};

/// Prepared batches waiting for the fold: enough to keep the reader one step ahead.
const PREPARED_AHEAD: usize = 2;

/// Builds fresh read models from the whole log into a new folder beside `current`, and
/// swaps them in once they reach the head.
pub(super) async fn rebuild(
    projector: &Projector,
    log: &Log,
    config: &EngineConfig,
    current: &Path,
    shutdown: &mut watch::Receiver<bool>,
) -> Result<(SledStore, Folder), ProjectorError> {
    let fresh = next_folder(&config.data_dir, current);
    if fresh.exists() {
        std::fs::remove_dir_all(&fresh).map_err(|e| ProjectorError::Storage(e.to_string()))?;
    }
    let mut store = SledStore::open(&fresh)?;
    mark_store(&mut store, log)?;
    let mut building = Folder::new();
    building.attach(&store.backing());
    let mut unwritten = 0usize;
    let mut last_write = Instant::now();
    let mut writing: Option<Writing> = None;
    // Read to the head, then to the new head, until a pass finds nothing new: the swap
    // happens at the head, and following the tail covers the rest. A pass the log's
    // absence ends is taken up again where it stopped, once the log is back: what was
    // folded stays folded, and a rebuild of a large crisis is not thrown away because
    // NATS restarted in its middle. A stream that is gone (`LogError::StreamMissing`) is not
    // an absence to wait out: it ends the rebuild, naming the stream and what to do.
    let mut pause = RETRY_FIRST;
    loop {
        let from = building.applied_seq() + 1;
        let passed = async {
            // Asking for the head and starting the read are requests to a log that may be
            // out of reach, each waiting up to its timeout: a stop does not wait for them.
            let started = tokio::select! {
                started = start_pass(log, from) => started?,
                _ = shutdown.wait_for(|stop| *stop) => return Err(ProjectorError::Stopped),
            };
            let Some(records) = started else {
                return Ok(true);
            };
            let (sender, mut receiver) = mpsc::channel(PREPARED_AHEAD);
            let _reader = AbortOnDrop(tokio::spawn(read_and_prepare(
                records,
                config.batch_max,
                sender,
            )));
            loop {
                let prepared = tokio::select! {
                    prepared = receiver.recv() => match prepared {
                        Some(prepared) => prepared?,
                        None => return Ok(false),
                    },
                    _ = shutdown.wait_for(|stop| *stop) => return Err(ProjectorError::Stopped),
                };
                unwritten += prepared.len();
                let fetched = fetch(log, building.wanted(&prepared), shutdown).await?;
                let outcome = building.apply_batch(prepared, &fetched);
                if let Some(fault) = building.models.fault() {
                    return Err(unreadable(fault));
                }
                // Quarantined events count as progress as much as applied ones: a long
                // run of malformed events is not a stall.
                count_batch(&projector.metrics, &outcome);
                let changed_rows = building.models.changed_rows();
                if config.coalesced_write_due(unwritten, changed_rows, last_write.elapsed()) {
                    let changes = building.drain_changes();
                    finish(writing.take()).await?;
                    // Every write but this one landed: over the budget, rows the store
                    // holds as they are leave memory.
                    building.evict_over(config.resident_rows);
                    writing = Some(start_write(&store, changes));
                    unwritten = 0;
                    last_write = Instant::now();
                }
            }
        }
        .await;
        match passed {
            Ok(true) => break,
            Ok(false) => pause = RETRY_FIRST,
            Err(ProjectorError::Log(error)) if error.is_retryable() => {
                projector
                    .metrics
                    .log_retries
                    .fetch_add(1, Ordering::Relaxed);
                tracing::warn!(%error, applied = building.applied_seq(), retry_in = ?pause, "rebuilding: the log is out of reach; going on where it stopped once it is back");
                wait_to_retry(&mut pause, shutdown).await?;
            }
            Err(error) => return Err(error),
        }
    }
    finish(writing.take()).await?;
    let changes = building.drain_changes();
    tokio::task::block_in_place(|| store.apply_in_parts(changes, WRITE_PART))?;
    building.evict_over(config.resident_rows);
    store.flush()?;
    // The old folder is removed once the new one is served (see `run_returning_store`).
    set_current(&config.data_dir, &fresh)?;
    tracing::info!(applied = building.applied_seq(), folder = %fresh.display(), "rebuild reached the head; swapped in");
    Ok((store, building))
}

/// The read of one pass: from `from` to the log's head now, or `None` when the head is
/// below `from` (nothing new since the last pass).
async fn start_pass(log: &Log, from: u64) -> Result<Option<Records>, LogError> {
    let target = log.head().await?.last_seq;
    if target < from {
        return Ok(None);
    }
    log.read(ReadRange::span(from, target)).await.map(Some)
}

/// The first wait before a pass, or a lookup, the log's absence ended is tried again.
const RETRY_FIRST: Duration = Duration::from_millis(100);
/// The longest wait between two tries; each waits twice the one before.
const RETRY_MOST: Duration = Duration::from_secs(5);

/// Waits `pause` before the log is tried again, and doubles it (up to [`RETRY_MOST`]);
/// [`ProjectorError::Stopped`] if asked to stop meanwhile.
async fn wait_to_retry(
    pause: &mut Duration,
    shutdown: &mut watch::Receiver<bool>,
) -> Result<(), ProjectorError> {
    tokio::select! {
        () = tokio::time::sleep(*pause) => {}
        _ = shutdown.wait_for(|stop| *stop) => return Err(ProjectorError::Stopped),
    }
    *pause = (*pause * 2).min(RETRY_MOST);
    Ok(())
}

/// A task aborted when this is dropped: a pass's reader ends with the pass, however it
/// ends.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A write under way on a blocking thread.
pub(super) type Writing = tokio::task::JoinHandle<Result<(), ProjectorError>>;

/// sled batches of a rebuild's writes: the folder is swapped in only once complete (a
/// crash before that rebuilds it again), so its writes need not be atomic, and smaller
/// sled batches hold less memory.
const WRITE_PART: usize = 4096;

/// Writes `changes` (the checkpoint last) on a blocking thread.
fn start_write(store: &SledStore, changes: Vec<Change>) -> Writing {
    // A clone of the store is a handle on the same sled tree.
    let store = store.clone();
    tokio::task::spawn_blocking(move || store.apply_in_parts(changes, WRITE_PART))
}

/// Waits for the write under way, if any.
pub(super) async fn finish(writing: Option<Writing>) -> Result<(), ProjectorError> {
    match writing {
        Some(writing) => writing
            .await
            .map_err(|error| ProjectorError::Storage(format!("a write failed: {error}")))?,
        None => Ok(()),
    }
}

/// Reads `records` in batches of `batch_max` and prepares each on a blocking thread,
/// handing them on in order; stops at the end, at the first error (handed on), or when
/// the receiver is gone.
async fn read_and_prepare(
    mut records: Records,
    batch_max: usize,
    sender: mpsc::Sender<Result<Vec<Prepared>, ProjectorError>>,
) {
    let mut raws: Vec<RawEvent> = Vec::with_capacity(batch_max);
    loop {
        let next = records.next().await;
        let done = next.is_none();
        match next {
            Some(Ok(record)) => raws.push(RawEvent::from(record)),
            Some(Err(error)) => {
                let _ = sender.send(Err(error.into())).await;
                return;
            }
            None => {}
        }
        if raws.len() >= batch_max || (done && !raws.is_empty()) {
            let batch = std::mem::replace(&mut raws, Vec::with_capacity(batch_max));
            let prepared =
                tokio::task::spawn_blocking(move || batch.iter().map(prepare).collect()).await;
            let prepared = prepared.map_err(|error| {
                ProjectorError::Storage(format!("preparing a batch failed: {error}"))
            });
            let failed = prepared.is_err();
            if sender.send(prepared).await.is_err() || failed {
                return;
            }
        }
        if done {
            return;
        }
    }
}

/// Stored events by sequence (the ones a batch's corrections supersede), prepared:
/// fetched one request each, concurrently.
///
/// A log out of reach is waited for, as the log's reads wait for it, until `shutdown`
/// (then [`ProjectorError::Stopped`]): a NATS restart must not end a projector because a
/// batch it held when the server went away carried a correction. A stream that is gone is
/// not waited for.
pub(super) async fn fetch(
    log: &Log,
    seqs: Vec<u64>,
    shutdown: &watch::Receiver<bool>,
) -> Result<HashMap<u64, Prepared>, ProjectorError> {
    if seqs.is_empty() {
        return Ok(HashMap::new());
    }
    let mut shutdown = shutdown.clone();
    let mut pause = RETRY_FIRST;
    let stored = loop {
        let lookups = futures::future::try_join_all(seqs.iter().map(|&seq| log.get(seq)));
        let error = tokio::select! {
            looked_up = lookups => match looked_up {
                Ok(stored) => break stored,
                Err(error) if error.is_retryable() => error,
                Err(error) => return Err(error.into()),
            },
            _ = shutdown.wait_for(|stop| *stop) => return Err(ProjectorError::Stopped),
        };
        tracing::warn!(%error, retry_in = ?pause, "looking up the events a batch supersedes");
        wait_to_retry(&mut pause, &mut shutdown).await?;
    };
    Ok(stored
        .into_iter()
        .flatten()
        .map(|event| {
            let raw = RawEvent::from(event);
            (raw.seq, prepare(&raw))
        })
        .collect())
}
