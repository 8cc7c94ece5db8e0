//! Replay: the picture as it was known, or as it happened, at any point — for after-action
//! review ("what did we know when we decided?") and stepping through a crisis.
//!
//! Two senses (see the as-of contract and design.md, "Bitemporal time"):
//! - **As known at T** ([`ReplayPoint::KnownAt`], [`ReplayPoint::KnownAtSeq`]): the log
//!   prefix up to the last sequence recorded at or before T. The sequence is found by
//!   binary search over `recorded_at` (one `get` per step, bounded by the snapshots'
//!   recorded times), assuming `recorded_at` does not decrease along the log — true while
//!   the servers' clocks do not step back, and the same rule as
//!   [`samla_log::ReadRange::recorded_until`]. The prefix is folded exactly as the engine
//!   folds it, so the read models equal [`crate::fold_in_memory`] of that prefix.
//! - **As happened at T** ([`ReplayPoint::HappenedAt`]): the events whose effective time is
//!   at or before T, folded in (effective time, sequence) order, where the effective time
//!   is `occurred_at`, or for a correction or retraction the effective time of the event
//!   it supersedes (it takes effect at that event's occurred position), or for an event
//!   that cannot be decoded its `recorded_at` (see `index.rs`). The fold is the engine's,
//!   except that events are applied in the order given ([`crate::Folder::apply_in_given_order`]).
//!   The read models keep their rules: a gauge still takes the latest value by sequence,
//!   so where a late report of an early observation meets a later observation reported
//!   earlier, the late report's value is the one shown.
//!
//! **Snapshots** (see `snapshot.rs`): the full folded state every
//! [`ReplayConfig::snapshot_every`] events along each line, under the replayer's folder;
//! the interval doubles as the log grows so that a line keeps at most
//! [`ReplayConfig::max_snapshots_per_line`] (each holds the whole state, which grows with
//! the log). They are written **lazily**: a replay that folds past a multiple of N with no snapshot
//! there writes one (so the first replay deep into a long log pays for the snapshots
//! before it; [`Replayer::warm`] pays that up front). A replay starts from the nearest
//! snapshot at or below its point and folds the rest. Snapshots are disposable and
//! verified: each names its format, fold version and log identity and carries a SHA-256
//! of its body; a mismatch or a corrupt body deletes the file and the replay falls back to
//! an earlier snapshot or to folding from the start. "As happened" snapshots also record
//! the log head their order was taken at, and are used only while nothing appended since
//! sorts before their last event.
//!
//! **Checkpoints in memory** (see `checkpoints.rs`): the folded state every
//! [`ReplayConfig::checkpoint_every`] events along each line (finer than the snapshots),
//! kept as they are folded past, at most [`ReplayConfig::max_checkpoints_per_line`] per
//! line (the interval doubles beyond). The read models and the folder's indexes are
//! persistent maps ([`imbl`]), so keeping a checkpoint and starting from one are O(1)
//! clones, and consecutive checkpoints share what did not change between them.
//!
//! **Cost**: a replay starts from the nearest checkpoint in memory, or from a snapshot on
//! disk when one is nearer (after a restart: read, verify, decode — the size of the
//! state; it then becomes a checkpoint), or from the start, and folds the rest: with
//! warm checkpoints, at most one checkpoint interval of events. [`Replayer::warm`] fills
//! a line's checkpoints and snapshots; otherwise replays fill them as they pass.
//! [`Replayer::at_shared`] keeps the last few pictures, so repeated queries at one point
//! pay once.
//!
//! `Replayed::at` is the time views must use as `now`: T, or for
//! [`ReplayPoint::KnownAtSeq`] the `recorded_at` of that sequence (the stream's creation
//! time for sequence 0).
//!
//! Layout: `mod.rs` (this API), `lines.rs` (the two replays, where to start, keeping
//! checkpoints, writing snapshots), `checkpoints.rs` (the states kept in memory),
//! `index.rs` (the occurred-time index), `snapshot.rs` (files, verification), `run.rs`
//! (the fold in progress), `source.rs` (reading events from the log).

mod checkpoints;
mod index;
mod lines;
mod run;
mod snapshot;
mod source;

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use proto_events::Timestamp;
use samla_log::Log;

use crate::error::ProjectorError;
use crate::models::{FOLD_NAME, FOLD_VERSION, ReadModels};

use checkpoints::Checkpoints;
use index::{OccurredIndex, timestamp};
use snapshot::{Expected, Header};

/// Which time a replay follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Sense {
    /// Knowledge time: the log as recorded.
    Known,
    /// World time: the events as they occurred.
    Happened,
}

impl Sense {
    /// `known` or `happened`, as in the API's `sense` parameter.
    pub fn as_str(self) -> &'static str {
        match self {
            Sense::Known => "known",
            Sense::Happened => "happened",
        }
    }
}

/// Where to replay to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayPoint {
    /// After applying the log prefix `1..=n`.
    KnownAtSeq(u64),
    /// The log prefix up to the last sequence recorded at or before T.
    KnownAt(Timestamp),
    /// The events that occurred at or before T, in occurred order.
    HappenedAt(Timestamp),
}

impl ReplayPoint {
    pub fn sense(&self) -> Sense {
        match self {
            ReplayPoint::KnownAtSeq(_) | ReplayPoint::KnownAt(_) => Sense::Known,
            ReplayPoint::HappenedAt(_) => Sense::Happened,
        }
    }
}

/// A replayed picture.
#[derive(Debug)]
pub struct Replayed {
    /// What the views in [`crate::views`] take.
    pub models: ReadModels,
    pub sense: Sense,
    /// The `now` for time-based fields (ages, overdue): T, or the `recorded_at` of the
    /// sequence for [`ReplayPoint::KnownAtSeq`].
    pub at: Timestamp,
    /// The highest sequence folded (0 when nothing was).
    pub seq: u64,
    /// How many events of the log the picture folds.
    pub events: u64,
    /// How many of those this replay folded itself (the rest came from a checkpoint or a
    /// snapshot).
    pub folded: u64,
    /// The position of the checkpoint or snapshot it started from (0: from the start of
    /// the line).
    pub started_from: u64,
    /// Whether it started from a snapshot on disk (rather than a checkpoint in memory or
    /// the start of the line).
    pub from_snapshot: bool,
}

/// Settings of a replayer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayConfig {
    /// A snapshot every this many events along each line (N) — while the line is short
    /// enough; see `max_snapshots_per_line`.
    pub snapshot_every: u64,
    /// Bounds the disk a line's snapshots take (each holds the whole state, which grows
    /// with the log): when the line is longer than this many intervals, the interval
    /// doubles (N, 2N, 4N, …) and snapshots off the coarser grid are deleted.
    pub max_snapshots_per_line: u64,
    /// Events prepared and folded per step (as the engine's `batch_max`).
    pub batch_max: usize,
    /// Finished pictures kept in memory by [`Replayer::at_shared`] (0: none).
    pub cached_pictures: usize,
    /// A checkpoint in memory every this many events along each line (0: none): a replay
    /// folds at most this many events past the nearest one.
    pub checkpoint_every: u64,
    /// Bounds the memory checkpoints take: when a line is longer than this many
    /// intervals, the interval doubles and checkpoints off the coarser grid are dropped.
    pub max_checkpoints_per_line: u64,
}

impl Default for ReplayConfig {
    fn default() -> Self {
        Self {
            snapshot_every: 10_000,
            // Queries start from checkpoints in memory; snapshots only spare a restarted
            // replica the whole fold. At 32 per line a 1,000,000-event log wrote 3 GB of
            // them during the first deep query (most of its 2 min 42 s); 8 bound a
            // restart's fold to an eighth of the line.
            max_snapshots_per_line: 8,
            batch_max: 1_000,
            cached_pictures: 4,
            checkpoint_every: 1_000,
            max_checkpoints_per_line: 1_024,
        }
    }
}

/// Counters since the replayer was opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReplayStats {
    pub replays: u64,
    /// Events folded by all replays (not counting what snapshots held).
    pub events_folded: u64,
    pub snapshots_loaded: u64,
    pub snapshots_written: u64,
    /// Replays [`Replayer::at_shared`] answered from memory.
    pub cache_hits: u64,
    /// Snapshot files deleted as unusable: another fold or log, corrupt, or stale.
    pub snapshots_refused: u64,
    /// Events in the occurred-time index (0 until the first "as happened" replay).
    pub indexed_events: u64,
    /// Replays that started from a checkpoint in memory.
    pub checkpoints_used: u64,
    /// Checkpoints kept so far, and kept now (both lines).
    pub checkpoints_made: u64,
    pub checkpoints_kept: u64,
    /// "As happened" checkpoints dropped because an event appended later sorts before
    /// their last event.
    pub checkpoints_dropped: u64,
}

/// One snapshot on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotInfo {
    pub sense: Sense,
    /// Events folded along the line.
    pub position: u64,
    /// The highest sequence folded.
    pub last_seq: u64,
    pub path: PathBuf,
}

#[derive(Debug, Default)]
struct Counters {
    replays: AtomicU64,
    events_folded: AtomicU64,
    snapshots_loaded: AtomicU64,
    snapshots_written: AtomicU64,
    cache_hits: AtomicU64,
    snapshots_refused: AtomicU64,
    indexed_events: AtomicU64,
    checkpoints_used: AtomicU64,
    checkpoints_made: AtomicU64,
    checkpoints_kept: AtomicU64,
    checkpoints_dropped: AtomicU64,
    /// The highest log head seen: how long both lines are.
    log_head: AtomicU64,
}

type Catalogue = BTreeMap<(Sense, u64), (PathBuf, Header)>;

/// What makes two replays the same picture: the resolved point, and for "as happened"
/// the log head (a later append may sort before T).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PictureKey {
    KnownAtSeq(u64),
    KnownAt { seq: u64, at: Timestamp },
    HappenedAt { head: u64, at: Timestamp },
}

/// Replays the log to any point, with checkpoints in memory and snapshots under its
/// folder. Cheap to clone; clones share the checkpoints, the snapshots, the occurred-time
/// index and the counters.
#[derive(Clone)]
pub struct Replayer {
    inner: Arc<Inner>,
}

struct Inner {
    log: Log,
    dir: PathBuf,
    config: ReplayConfig,
    expected: Expected,
    catalogue: Mutex<Catalogue>,
    checkpoints: Mutex<Checkpoints>,
    index: tokio::sync::Mutex<OccurredIndex>,
    pictures: Mutex<VecDeque<(PictureKey, Arc<Replayed>)>>,
    /// Held while [`Replayer::at_shared`] builds a picture: concurrent requests for one
    /// point (a dashboard asks several routes at once) wait and take the first's picture
    /// instead of each folding it, and at most one shared picture is built at a time, which
    /// bounds the memory replays take.
    building: tokio::sync::Mutex<()>,
    counters: Counters,
}

impl std::fmt::Debug for Replayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replayer")
            .field("dir", &self.inner.dir)
            .field("config", &self.inner.config)
            .field("stats", &self.stats())
            .finish()
    }
}

impl Replayer {
    /// Opens (or creates) the snapshot folder `dir` for `log`. Snapshots of another fold
    /// version or log, and temporary files of interrupted writes, are deleted.
    pub fn open(log: Log, dir: PathBuf, config: ReplayConfig) -> Result<Replayer, ProjectorError> {
        std::fs::create_dir_all(&dir).map_err(|error| {
            ProjectorError::Storage(format!("cannot create {}: {error}", dir.display()))
        })?;
        let expected = Expected {
            fold: format!("{FOLD_NAME}/{FOLD_VERSION}"),
            log: log.identity().to_string(),
        };
        let (found, refused) = snapshot::scan(&dir, &expected)?;
        let mut catalogue = Catalogue::new();
        for (path, header) in found {
            if let Some(sense) = header.sense() {
                catalogue.insert((sense, header.position), (path, header));
            }
        }
        let counters = Counters::default();
        counters.snapshots_refused.store(refused, Ordering::Relaxed);
        let config = ReplayConfig {
            snapshot_every: config.snapshot_every.max(1),
            max_snapshots_per_line: config.max_snapshots_per_line.max(1),
            batch_max: config.batch_max.max(1),
            cached_pictures: config.cached_pictures,
            checkpoint_every: config.checkpoint_every,
            max_checkpoints_per_line: config.max_checkpoints_per_line.max(1),
        };
        Ok(Replayer {
            inner: Arc::new(Inner {
                log,
                dir,
                config,
                expected,
                catalogue: Mutex::new(catalogue),
                checkpoints: Mutex::new(Checkpoints::default()),
                index: tokio::sync::Mutex::new(OccurredIndex::default()),
                pictures: Mutex::new(VecDeque::new()),
                building: tokio::sync::Mutex::new(()),
                counters,
            }),
        })
    }

    /// The picture at `point`.
    pub async fn at(&self, point: ReplayPoint) -> Result<Replayed, ProjectorError> {
        self.replay(point, None, false, false)
            .await
            .map(|(replayed, _)| replayed)
    }

    /// The picture at `point`, shared: the last few pictures are kept in memory, so
    /// several queries at one point (a dashboard's routes at one `as_of`) fold once.
    /// "As known" pictures stay valid for ever; "as happened" ones until the log grows.
    pub async fn at_shared(&self, point: ReplayPoint) -> Result<Arc<Replayed>, ProjectorError> {
        let head = self.inner.log.head().await?;
        let key = match point {
            ReplayPoint::KnownAtSeq(seq) => PictureKey::KnownAtSeq(seq),
            ReplayPoint::KnownAt(at) => PictureKey::KnownAt {
                seq: self.known_seq_at(at, &head).await?,
                at,
            },
            ReplayPoint::HappenedAt(at) => PictureKey::HappenedAt {
                head: head.last_seq,
                at,
            },
        };
        if let Some(picture) = self.cached(key) {
            return Ok(picture);
        }
        let _turn = self.inner.building.lock().await;
        // Another request may have built it while this one waited.
        if let Some(picture) = self.cached(key) {
            return Ok(picture);
        }
        // The sequence recorded by `at` is known now: the replay need not look it up again.
        let seq_at = match key {
            PictureKey::KnownAt { seq, .. } => Some(seq),
            _ => None,
        };
        let picture = Arc::new(self.replay(point, seq_at, false, false).await?.0);
        let capacity = self.inner.config.cached_pictures;
        if capacity > 0 {
            let evicted: Vec<_> = {
                let mut pictures = self.pictures();
                pictures.retain(|(cached, _)| *cached != key);
                pictures.push_front((key, picture.clone()));
                let keep = capacity.min(pictures.len());
                pictures.drain(keep..).collect()
            };
            // Freeing a picture's own copies of the rows it changed takes milliseconds:
            // not in this answer's time.
            if !evicted.is_empty() {
                tokio::task::spawn_blocking(move || drop(evicted));
            }
        }
        Ok(picture)
    }

    fn cached(&self, key: PictureKey) -> Option<Arc<Replayed>> {
        let found = self
            .pictures()
            .iter()
            .find(|(cached, _)| *cached == key)
            .map(|(_, picture)| picture.clone());
        if found.is_some() {
            self.inner
                .counters
                .cache_hits
                .fetch_add(1, Ordering::Relaxed);
        }
        found
    }

    /// The picture at `point` and the digest of its read models (as
    /// [`KvStore::digest`] of the fold's store): for tests and `samla replay --digest`.
    pub async fn at_with_digest(
        &self,
        point: ReplayPoint,
    ) -> Result<(Replayed, String), ProjectorError> {
        let (replayed, digest) = self.replay(point, None, true, false).await?;
        let digest = digest
            .ok_or_else(|| ProjectorError::Storage("the replay kept no state to digest".into()))?;
        Ok((replayed, digest))
    }

    /// Folds the whole log along one line — from the first checkpoint missing — keeping
    /// every checkpoint and writing every snapshot on the way, so later replays start near
    /// their point. Returns the events folded along the line.
    pub async fn warm(&self, sense: Sense) -> Result<u64, ProjectorError> {
        let point = match sense {
            Sense::Known => ReplayPoint::KnownAtSeq(self.inner.log.head().await?.last_seq),
            Sense::Happened => ReplayPoint::HappenedAt(timestamp(i64::MAX)),
        };
        Ok(self.replay(point, None, false, true).await?.0.events)
    }

    pub fn config(&self) -> &ReplayConfig {
        &self.inner.config
    }

    pub fn stats(&self) -> ReplayStats {
        let c = &self.inner.counters;
        ReplayStats {
            replays: c.replays.load(Ordering::Relaxed),
            events_folded: c.events_folded.load(Ordering::Relaxed),
            snapshots_loaded: c.snapshots_loaded.load(Ordering::Relaxed),
            snapshots_written: c.snapshots_written.load(Ordering::Relaxed),
            cache_hits: c.cache_hits.load(Ordering::Relaxed),
            snapshots_refused: c.snapshots_refused.load(Ordering::Relaxed),
            indexed_events: c.indexed_events.load(Ordering::Relaxed),
            checkpoints_used: c.checkpoints_used.load(Ordering::Relaxed),
            checkpoints_made: c.checkpoints_made.load(Ordering::Relaxed),
            checkpoints_kept: c.checkpoints_kept.load(Ordering::Relaxed),
            checkpoints_dropped: c.checkpoints_dropped.load(Ordering::Relaxed),
        }
    }

    /// The snapshots on disk, by line and position.
    pub fn snapshots(&self) -> Vec<SnapshotInfo> {
        self.catalogue()
            .iter()
            .map(|((sense, position), (path, header))| SnapshotInfo {
                sense: *sense,
                position: *position,
                last_seq: header.last_seq,
                path: path.clone(),
            })
            .collect()
    }

    fn pictures(&self) -> std::sync::MutexGuard<'_, VecDeque<(PictureKey, Arc<Replayed>)>> {
        self.inner
            .pictures
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// The snapshot interval for a line of `length` events: N, doubled until the line
    /// holds at most `max_snapshots_per_line` intervals.
    fn interval(&self, length: u64) -> u64 {
        let config = &self.inner.config;
        grid(config.snapshot_every, config.max_snapshots_per_line, length)
    }

    /// The checkpoint interval for a line of `length` events (0: no checkpoints).
    fn checkpoint_interval(&self, length: u64) -> u64 {
        let config = &self.inner.config;
        match config.checkpoint_every {
            0 => 0,
            every => grid(every, config.max_checkpoints_per_line, length),
        }
    }

    fn catalogue(&self) -> std::sync::MutexGuard<'_, Catalogue> {
        self.inner
            .catalogue
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    fn checkpoints(&self) -> std::sync::MutexGuard<'_, Checkpoints> {
        self.inner
            .checkpoints
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// `seq_at`: for [`ReplayPoint::KnownAt`], the sequence recorded by its time if the
    /// caller already looked it up.
    async fn replay(
        &self,
        point: ReplayPoint,
        seq_at: Option<u64>,
        want_digest: bool,
        fill: bool,
    ) -> Result<(Replayed, Option<String>), ProjectorError> {
        self.inner.counters.replays.fetch_add(1, Ordering::Relaxed);
        let (replayed, digest) = match point {
            ReplayPoint::KnownAtSeq(seq) => self.known(Some(seq), None, want_digest, fill).await?,
            ReplayPoint::KnownAt(time) => self.known(seq_at, Some(time), want_digest, fill).await?,
            ReplayPoint::HappenedAt(time) => self.happened(time, want_digest, fill).await?,
        };
        self.prune();
        self.inner
            .counters
            .events_folded
            .fetch_add(replayed.folded, Ordering::Relaxed);
        Ok((replayed, digest))
    }
}

/// `every`, doubled until a line of `length` events holds at most `max` intervals.
fn grid(every: u64, max: u64, length: u64) -> u64 {
    let mut interval = every.max(1);
    while length / interval > max {
        interval = interval.saturating_mul(2);
    }
    interval
}
