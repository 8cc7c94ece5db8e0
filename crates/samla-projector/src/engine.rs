//! The projector service: pull, decode, fold, write — and rebuild when it must.
//!
//! One task tails the log from the checkpoint + 1 and prepares (decodes and checks) each
//! event into a bounded channel (so batching never cancels a read half-way, and decoding
//! runs on one core while the fold runs on the other). The engine takes what is there (up
//! to [`EngineConfig::batch_max`]), fetches any superseded events it needs, folds the
//! batch in memory under a short write lock, then writes the changed rows, the id index
//! and the checkpoint in one atomic sled batch, on a blocking thread while the next
//! batches fold (writes stay in order: each waits for the one before). At the head the
//! changes of [`EngineConfig::head_write_delay`] are written together; behind it
//! (catching up, rebuilding) writes are coalesced over [`EngineConfig::write_every`]
//! events or [`EngineConfig::write_rows`] changed rows, so a busy row is encoded and
//! written once, and a rebuild prepares the next batch on another thread while folding
//! this one (see `engine/rebuild.rs`). Change notices copy envelopes only when someone
//! listens.
//! Readers (the API) read the in-memory models through [`Projector::read`]; sled is what
//! a restart loads.
//!
//! On start the read models are rebuilt from the log — into a fresh folder beside the live
//! one, swapped in only at the head — when the fold version or the log identity changed,
//! the stored models cannot be read, or the checkpoint is ahead of the log's last sequence
//! (a log restored from an older backup). While that happens [`Projector::state`] says
//! `rebuilding`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use proto_events::{Envelope, Timestamp};
use samla_log::{Log, ReadFilter};
use tokio::sync::{broadcast, mpsc, watch};

use crate::error::ProjectorError;
use crate::folder::{BatchOutcome, Folder};
use crate::models::{FOLD_NAME, FOLD_VERSION, ReadModels};
use crate::prepare::{Prepared, RawEvent, prepare};
use crate::store::{KvStore, SledStore};
use crate::visibility::{SliceId, slice_of};

mod rebuild;
use rebuild::{Writing, fetch, finish, rebuild};

const CURRENT_FILE: &str = "CURRENT";
/// Locked by the engine using a data folder, for as long as it runs.
const LOCK_FILE: &str = "LOCK";
const FOLD_KEY: &[u8] = b"meta/fold";
const IDENTITY_KEY: &[u8] = b"meta/log_identity";

/// [`EngineConfig::write_every`] by default.
pub const WRITE_EVERY: usize = 50_000;
/// [`EngineConfig::write_rows`] by default: with [`RESIDENT_ROWS`], what holds a catch-up
/// of 1,000,000 generated events under 200 MiB (`BENCHMARKS.md`).
pub const WRITE_ROWS: usize = 4_000;
/// [`EngineConfig::resident_rows`] by default.
pub const RESIDENT_ROWS: usize = 25_000;

/// [`EngineConfig::catch_up_stall`] by default.
pub const CATCH_UP_STALL: Duration = Duration::from_secs(120);

/// Settings of one projector.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// The folder that holds the read models (`<data>/read-models`).
    pub data_dir: PathBuf,
    /// The most events folded in one batch.
    pub batch_max: usize,
    /// While behind the head (a rebuild, or catching up), the most events folded between
    /// two writes. Many events touch the same rows, so writing less often writes (and
    /// encodes) each row once for many events. At the head every batch is written.
    pub write_every: usize,
    /// While behind the head, the most rows changed between two writes. Rows changed
    /// since the last write stay in memory until it, and sled holds every tree node a
    /// write replaces until the write ends, so this bounds a catch-up's memory where
    /// events touch many rows each (a large crisis), while `write_every` bounds it where
    /// they touch the same few.
    pub write_rows: usize,
    /// While behind the head, the longest time between two writes.
    pub write_interval: Duration,
    /// At the head, how long folded changes may wait to be written, so that the events
    /// of that time share one write. Readers and live streams see an event as soon as it
    /// is folded; the delay only bounds what a crash makes the projector fold again from
    /// the log. Writing every event on its own wrote ~15 KB per event at 1,000 events/s
    /// (each write re-encodes its rows), and that disk traffic made the log server's syncs
    /// on the same disk wait (ext4 flushes other files' new data with a sync).
    pub head_write_delay: Duration,
    /// Rows of the backed tables the engine may hold in memory after a write before it
    /// lets go of those the store holds as they are (see [`ReadModels::evict_over`]).
    /// Rows changed since the last write stay whatever the budget. A crisis whose rows fit
    /// folds without reading rows back; a larger one holds about this many rows (~1 KB
    /// each at most) plus one write window, and reads the rows it touches again.
    pub resident_rows: usize,
    /// How long [`catch_up_and_digest`] waits with no event consumed (applied, quarantined
    /// or skipped; the log out of reach, say) before it gives up with
    /// [`ProjectorError::Stalled`]: it looks every this long, so it gives up between once
    /// and twice this after the last progress. A projector that follows
    /// the log waits for it however long it takes.
    pub catch_up_stall: Duration,
}

impl EngineConfig {
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            batch_max: 2000,
            write_every: WRITE_EVERY,
            write_rows: WRITE_ROWS,
            write_interval: Duration::from_secs(2),
            head_write_delay: Duration::from_millis(100),
            resident_rows: RESIDENT_ROWS,
            catch_up_stall: CATCH_UP_STALL,
        }
    }

    /// Behind the head: whether the changes folded since the last write are due to be
    /// written, after `events` events that changed `changed_rows` rows in `since`.
    fn coalesced_write_due(&self, events: usize, changed_rows: usize, since: Duration) -> bool {
        events >= self.write_every
            || changed_rows >= self.write_rows
            || since >= self.write_interval
    }
}

/// Whether the read models can be trusted as current.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadyState {
    /// At the head of the log (within the last batch).
    Ready,
    /// Behind the head, applying.
    CatchingUp,
    /// Building fresh read models from the log; what is served (if anything) is the old
    /// picture.
    Rebuilding,
}

impl ReadyState {
    pub fn as_str(self) -> &'static str {
        match self {
            ReadyState::Ready => "ready",
            ReadyState::CatchingUp => "catching_up",
            ReadyState::Rebuilding => "rebuilding",
        }
    }
}

/// What one applied event changed, for live streams.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangedEvent {
    pub seq: u64,
    pub recorded_at: Timestamp,
    pub slice: SliceId,
    /// Members of a restricted slice (empty for the network).
    pub members: Vec<proto_events::OrgId>,
    pub envelope: Arc<Envelope>,
}

/// Published after each batch is applied.
#[derive(Debug, Clone)]
pub struct ChangeNotice {
    /// The checkpoint after the batch.
    pub applied_seq: u64,
    pub events: Vec<ChangedEvent>,
}

/// Figures for metrics.
#[derive(Debug, Default)]
pub struct Metrics {
    pub applied_seq: AtomicU64,
    pub head_seq: AtomicU64,
    pub applied_events: AtomicU64,
    pub quarantined_events: AtomicU64,
    pub skipped_events: AtomicU64,
    pub batches: AtomicU64,
    /// Times a rebuild found the log out of reach and waited for it to go on.
    pub log_retries: AtomicU64,
    /// Read-model rows held in memory after the latest write: the rows changed since the
    /// write before it, the small tables kept whole and the timeline's chunks of the
    /// newest range. The rest are read from the store as needed.
    pub resident_rows: AtomicU64,
}

struct Shared {
    folder: Folder,
}

/// A handle on a running projector: readers, state, notices, metrics. Cheap to clone.
#[derive(Clone)]
pub struct Projector {
    shared: Arc<RwLock<Shared>>,
    notices: broadcast::Sender<ChangeNotice>,
    applied: watch::Sender<u64>,
    state: watch::Sender<ReadyState>,
    /// Whether read models were loaded (or a rebuild began) since start.
    loaded: watch::Sender<bool>,
    metrics: Arc<Metrics>,
    /// The store being written, for the operator's digest.
    store: Arc<RwLock<Option<SledStore>>>,
}

impl std::fmt::Debug for Projector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Projector")
            .field("applied_seq", &self.applied_seq())
            .field("state", &self.state())
            .finish()
    }
}

impl Default for Projector {
    fn default() -> Self {
        Self::new()
    }
}

impl Projector {
    pub fn new() -> Self {
        let (notices, _) = broadcast::channel(1024);
        let (applied, _) = watch::channel(0);
        let (state, _) = watch::channel(ReadyState::CatchingUp);
        let (loaded, _) = watch::channel(false);
        Self {
            shared: Arc::new(RwLock::new(Shared {
                folder: Folder::new(),
            })),
            notices,
            applied,
            state,
            loaded,
            metrics: Arc::new(Metrics::default()),
            store: Arc::new(RwLock::new(None)),
        }
    }

    /// Runs `f` on the current read models.
    pub fn read<T>(&self, f: impl FnOnce(&ReadModels) -> T) -> T {
        let shared = self
            .shared
            .read()
            .unwrap_or_else(|poison| poison.into_inner());
        f(&shared.folder.models)
    }

    pub fn state(&self) -> ReadyState {
        *self.state.borrow()
    }

    pub fn applied_seq(&self) -> u64 {
        *self.applied.borrow()
    }

    /// Change notices after each batch.
    pub fn subscribe(&self) -> broadcast::Receiver<ChangeNotice> {
        self.notices.subscribe()
    }

    /// How many receivers of change notices are open: one per live stream being served.
    pub fn subscribers(&self) -> usize {
        self.notices.receiver_count()
    }

    /// Waits until the read models applied `seq` (or `deadline` passes); returns whether
    /// they did. For "read your own write" without sleeping.
    pub async fn wait_for_seq(&self, seq: u64, deadline: Duration) -> bool {
        let mut applied = self.applied.subscribe();
        let wait = applied.wait_for(|applied| *applied >= seq);
        matches!(tokio::time::timeout(deadline, wait).await, Ok(Ok(_)))
    }

    /// Waits until the stored read models are loaded (right after start they are empty);
    /// returns whether they were within `deadline`.
    pub async fn wait_loaded(&self, deadline: Duration) -> bool {
        let mut loaded = self.loaded.subscribe();
        matches!(
            tokio::time::timeout(deadline, loaded.wait_for(|loaded| *loaded)).await,
            Ok(Ok(_))
        )
    }

    /// A count that grows with any work done: read models loaded, events applied,
    /// quarantined or skipped, batches written. Equal twice, nothing happened between.
    fn progress(&self) -> u64 {
        let metrics = &self.metrics;
        u64::from(*self.loaded.borrow())
            + metrics.applied_events.load(Ordering::Relaxed)
            + metrics.quarantined_events.load(Ordering::Relaxed)
            + metrics.skipped_events.load(Ordering::Relaxed)
            + metrics.batches.load(Ordering::Relaxed)
    }

    /// Waits until the read models are no longer being rebuilt and applied `seq`.
    pub async fn wait_until_current(&self, seq: u64, deadline: Duration) -> bool {
        let mut state = self.state.subscribe();
        let mut applied = self.applied.subscribe();
        let wait = async {
            loop {
                let rebuilding = *state.borrow_and_update() == ReadyState::Rebuilding;
                if !rebuilding && *applied.borrow_and_update() >= seq {
                    return true;
                }
                tokio::select! {
                    changed = state.changed() => if changed.is_err() { return false },
                    changed = applied.changed() => if changed.is_err() { return false },
                }
            }
        };
        tokio::time::timeout(deadline, wait).await.unwrap_or(false)
    }

    /// The digest of the stored read models and the checkpoint they reflect (`None`
    /// until the store is open). Read from sled while the projector runs, so it may lag the
    /// in-memory picture by [`EngineConfig::head_write_delay`] and the write under way:
    /// compare digests at equal checkpoints.
    pub fn digest(&self) -> Result<Option<(String, u64)>, ProjectorError> {
        let store = self.store.read().unwrap_or_else(|p| p.into_inner()).clone();
        match store {
            None => Ok(None),
            Some(store) => {
                let checkpoint = store.checkpoint()?;
                Ok(Some((store.digest()?, checkpoint)))
            }
        }
    }

    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }
}

/// Why the read models must be rebuilt, if they must.
fn rebuild_reason(
    store: &SledStore,
    folder: &Folder,
    log: &Log,
    head_seq: u64,
) -> Result<Option<String>, ProjectorError> {
    let fold = store.get(FOLD_KEY)?;
    let expected_fold = format!("{FOLD_NAME}/{FOLD_VERSION}");
    let identity = log.identity().to_string();
    if folder.applied_seq() == 0 {
        // Every write carries the checkpoint with the rows, so rows without one were not
        // written by a projector (or sled lost the checkpoint): folding from the start over
        // them would count every event twice.
        if store.has_prefix(crate::store::MODEL_PREFIX)? {
            return Ok(Some(
                "the folder holds read-model rows but no checkpoint".into(),
            ));
        }
        if fold.is_none() {
            return Ok(None); // fresh folder
        }
    }
    if fold.as_deref() != Some(expected_fold.as_bytes()) {
        return Ok(Some(format!(
            "the fold changed ({} → {expected_fold})",
            fold.map_or("none".into(), |f| String::from_utf8_lossy(&f).into_owned())
        )));
    }
    let stored_identity = store.get(IDENTITY_KEY)?;
    if stored_identity.as_deref() != Some(identity.as_bytes()) {
        return Ok(Some(format!(
            "the log is another one ({} → {identity})",
            stored_identity.map_or("none".into(), |f| String::from_utf8_lossy(&f).into_owned())
        )));
    }
    if folder.applied_seq() > head_seq {
        return Ok(Some(format!(
            "the checkpoint {} is ahead of the log's last sequence {head_seq} (was the log restored from an older backup?)",
            folder.applied_seq()
        )));
    }
    Ok(None)
}

/// The folder currently in use, from `CURRENT` (`models-1` when none).
fn current_folder(data_dir: &Path) -> PathBuf {
    let name = std::fs::read_to_string(data_dir.join(CURRENT_FILE))
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty() && !s.contains('/'))
        .unwrap_or_else(|| "models-1".to_string());
    data_dir.join(name)
}

/// Points `CURRENT` at `folder` atomically (write a temporary file, rename it).
fn set_current(data_dir: &Path, folder: &Path) -> Result<(), ProjectorError> {
    let name = folder
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| ProjectorError::Storage(format!("bad folder {}", folder.display())))?;
    let temporary = data_dir.join(format!("{CURRENT_FILE}.tmp"));
    std::fs::write(&temporary, format!("{name}\n"))
        .map_err(|e| ProjectorError::Storage(e.to_string()))?;
    std::fs::rename(&temporary, data_dir.join(CURRENT_FILE))
        .map_err(|e| ProjectorError::Storage(e.to_string()))
}

/// A folder name not used yet: `models-<n+1>`.
fn next_folder(data_dir: &Path, current: &Path) -> PathBuf {
    let number = current
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_prefix("models-"))
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or(0);
    data_dir.join(format!("models-{}", number + 1))
}

/// Takes the data folder for this engine: one engine per data folder, for its whole run.
///
/// sled's own lock covers one read-model folder while it is open, but an engine also
/// creates, swaps and removes folders beside it (a rebuild), and between two folders it
/// holds neither: a second engine could then open the old folder and remove the one under
/// construction. The lock is the operating system's, so it goes with the process.
fn lock_data_dir(data_dir: &Path) -> Result<std::fs::File, ProjectorError> {
    let path = data_dir.join(LOCK_FILE);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| ProjectorError::Storage(format!("cannot open {}: {e}", path.display())))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(ProjectorError::InUse(format!(
            "another projector is using {}: stop it, or give this one a data folder of its own",
            data_dir.display()
        ))),
        Err(std::fs::TryLockError::Error(e)) => Err(ProjectorError::Storage(format!(
            "cannot lock {}: {e}",
            path.display()
        ))),
    }
}

/// The current folder opened and loaded, with why it must be rebuilt if it must.
type Opened = (SledStore, Folder, Option<String>);

/// Opens the current folder and loads it, and checks it against the log (see
/// [`rebuild_reason`]), or says why it cannot be used.
///
/// sled 0.34 panics on some damage rather than return an error (bytes overwritten in the
/// middle of its data file: `serialization.rs`), so a panic here is corruption too.
fn open_and_load(
    folder: &Path,
    resident_rows: usize,
    log: &Log,
    head_seq: u64,
) -> Result<Opened, ProjectorError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let store = SledStore::open(folder)?;
        let loaded = Folder::open(&store, resident_rows)?;
        let reason = rebuild_reason(&store, &loaded, log, head_seq)?;
        Ok((store, loaded, reason))
    }))
    .unwrap_or_else(|panic| {
        let why = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("no message");
        Err(ProjectorError::Corrupt(format!(
            "reading {} panicked: {why}",
            folder.display()
        )))
    })
}

/// Runs the projector until `shutdown` fires: opens (or rebuilds) the read models in
/// `config.data_dir`, then follows the log. Readers use `projector` meanwhile.
pub async fn run(
    projector: Projector,
    log: Log,
    config: EngineConfig,
    shutdown: watch::Receiver<bool>,
) -> Result<(), ProjectorError> {
    run_returning_store(projector, log, config, shutdown)
        .await
        .map(drop)
}

/// Ctrl-C or SIGTERM: how a service is asked to stop (by a terminal, by systemd or a
/// container runtime).
pub async fn wait_for_signal() {
    let mut terminate =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async {
            match terminate.as_mut() {
                Some(signal) => { signal.recv().await; }
                None => std::future::pending::<()>().await,
            }
        } => {}
    }
}

/// [`run`] until `signal` completes, then stops it cleanly. An engine that fails first
/// (a folder in use, a store that cannot be written) ends it with that error at once: a
/// process must not live on with its projector dead.
pub async fn run_until(
    projector: Projector,
    log: Log,
    config: EngineConfig,
    signal: impl std::future::Future<Output = ()>,
) -> Result<(), ProjectorError> {
    let (stop, stopped) = watch::channel(false);
    let service = tokio::spawn(run(projector, log, config, stopped));
    stop_when(service, stop, signal).await.1
}

/// Waits for `signal` or for the engine task `service` to end by itself, whichever comes
/// first, then stops it with `stop` and waits for it: the signal's output (`None` when
/// the engine ended first, which only an error makes it do) and the engine's result.
async fn stop_when<T, S: std::future::Future>(
    mut service: tokio::task::JoinHandle<Result<T, ProjectorError>>,
    stop: watch::Sender<bool>,
    signal: S,
) -> (Option<S::Output>, Result<T, ProjectorError>) {
    let (signalled, ended) = tokio::select! {
        signalled = signal => (Some(signalled), None),
        ended = &mut service => (None, Some(ended)),
    };
    let _ = stop.send(true);
    let ended = match ended {
        Some(ended) => ended,
        None => service.await,
    };
    let result = ended.unwrap_or_else(|error| {
        Err(ProjectorError::Storage(format!(
            "the projector task failed: {error}"
        )))
    });
    (signalled, result)
}

/// [`run`], handing back the read-model store once stopped (still open, flushed).
async fn run_returning_store(
    projector: Projector,
    log: Log,
    config: EngineConfig,
    mut shutdown: watch::Receiver<bool>,
) -> Result<Option<SledStore>, ProjectorError> {
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|e| ProjectorError::Storage(e.to_string()))?;
    let _data_dir_lock = lock_data_dir(&config.data_dir)?;
    // A request to a log that may be out of reach: a stop does not wait for its timeout.
    let head = tokio::select! {
        head = log.head() => head?,
        _ = shutdown.wait_for(|stop| *stop) => return Ok(None),
    };
    projector
        .metrics
        .head_seq
        .store(head.last_seq, Ordering::Relaxed);
    let current = current_folder(&config.data_dir);
    let opened = match open_and_load(&current, config.resident_rows, &log, head.last_seq) {
        Ok((store, folder, None)) => Ok((store, folder)),
        Ok((store, folder, Some(reason))) => {
            tracing::warn!(%reason, "rebuilding the read models from the log");
            // Serve the old picture while the new one is built.
            install(&projector, folder, ReadyState::Rebuilding);
            drop(store);
            rebuild(&projector, &log, &config, &current, &mut shutdown).await
        }
        Err(error @ ProjectorError::Corrupt(_)) => {
            tracing::warn!(%error, "the read models cannot be read; rebuilding them from the log");
            install(&projector, Folder::new(), ReadyState::Rebuilding);
            rebuild(&projector, &log, &config, &current, &mut shutdown).await
        }
        // Anything else (a folder in use, permissions, no space, too many open files) says
        // nothing against the folder: rebuilding beside it would take it over or throw it
        // away, and meet the same cause.
        Err(error) => return Err(error),
    };
    let (mut store, folder) = match opened {
        // A stop asked for during a rebuild is a stop, not a failure (the next start
        // rebuilds).
        Err(ProjectorError::Stopped) => return Ok(None),
        opened => opened?,
    };
    if *shutdown.borrow() {
        return Ok(None);
    }
    mark_store(&mut store, &log)?;
    *projector.store.write().unwrap_or_else(|p| p.into_inner()) = Some(store.clone());
    let state = if folder.applied_seq() >= head.last_seq {
        ReadyState::Ready
    } else {
        ReadyState::CatchingUp
    };
    install(&projector, folder, state);
    // After a rebuild, the folder it replaced is no longer pointed at, nor read: removing
    // it is tidy-up, not correctness.
    if current_folder(&config.data_dir) != current && current.exists() {
        let _ = std::fs::remove_dir_all(&current);
    }
    follow(&projector, &log, &mut store, &config, &mut shutdown).await?;
    store.flush()?;
    Ok(Some(store))
}

fn install(projector: &Projector, folder: Folder, state: ReadyState) {
    let applied = folder.applied_seq();
    {
        let mut shared = projector.shared.write().unwrap_or_else(|p| p.into_inner());
        shared.folder = folder;
    }
    projector.state.send_replace(state);
    projector.loaded.send_replace(true);
    projector
        .metrics
        .applied_seq
        .store(applied, Ordering::Relaxed);
    projector.applied.send_replace(applied);
}

fn mark_store(store: &mut SledStore, log: &Log) -> Result<(), ProjectorError> {
    store.apply(vec![
        (
            FOLD_KEY.to_vec(),
            Some(format!("{FOLD_NAME}/{FOLD_VERSION}").into_bytes()),
        ),
        (
            IDENTITY_KEY.to_vec(),
            Some(log.identity().to_string().into_bytes()),
        ),
    ])
}

/// Follows the log from the checkpoint, batch by batch, until shutdown.
async fn follow(
    projector: &Projector,
    log: &Log,
    store: &mut SledStore,
    config: &EngineConfig,
    shutdown: &mut watch::Receiver<bool>,
) -> Result<(), ProjectorError> {
    let start = projector.applied_seq() + 1;
    // The reader also prepares (decodes and checks) each event, so that catching up
    // decodes on one core while the fold runs on the other.
    let (sender, mut receiver) = mpsc::channel::<Prepared>(config.batch_max * 4);
    let mut tail = log.tail(start, ReadFilter::All)?;
    let reader = tokio::spawn(async move {
        loop {
            match tail.next().await {
                Ok(record) => {
                    if sender.send(prepare(&RawEvent::from(record))).await.is_err() {
                        return;
                    }
                }
                Err(error) => tracing::warn!(%error, "reading the log"),
            }
        }
    });
    let head_watch = {
        let log = log.clone();
        let metrics = projector.metrics.clone();
        tokio::spawn(async move {
            loop {
                if let Ok(head) = log.head().await {
                    metrics.head_seq.store(head.last_seq, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        })
    };
    let mut last_write = Instant::now();
    let mut unwritten = 0usize;
    let mut writing: Option<Writing> = None;
    let result = loop {
        // Folded but unwritten changes are written when the head delay is up, also when
        // nothing more arrives.
        let write_due = last_write + config.head_write_delay;
        let first = tokio::select! {
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() { break Ok(()); }
                continue;
            }
            () = tokio::time::sleep_until(write_due.into()), if unwritten > 0 => {
                if let Err(error) = write_pending(projector, store, config.resident_rows, &mut writing).await {
                    break Err(error);
                }
                unwritten = 0;
                last_write = Instant::now();
                continue;
            }
            raw = receiver.recv() => match raw {
                Some(raw) => raw,
                None => break Err(ProjectorError::Stopped),
            },
        };
        let mut prepared = vec![first];
        while prepared.len() < config.batch_max {
            match receiver.try_recv() {
                Ok(one) => prepared.push(one),
                Err(_) => break,
            }
        }
        unwritten += prepared.len();
        let changed_rows = match apply_prepared(projector, log, prepared, shutdown).await {
            Ok(changed_rows) => changed_rows,
            // Asked to stop while waiting for the log: the batch was not folded.
            Err(ProjectorError::Stopped) => break Ok(()),
            Err(error) => break Err(error),
        };
        // At the head, writes wait at most the head delay; behind it, they are coalesced
        // over more events, up to a bound on the rows they change (see `rebuild`). Each is
        // one atomic batch with its checkpoint.
        // Behind means more than a batch behind the last head seen (refreshed every 500
        // ms), not an empty channel: a fold faster than the reader empties the channel
        // many times a second while catching up, and wrote (and encoded) its rows every
        // 100 ms. Under live load the head seen is a few events ahead: that is the head.
        let since_write = last_write.elapsed();
        let at_head = projector.metrics.head_seq.load(Ordering::Relaxed)
            <= projector.applied_seq() + config.batch_max as u64;
        if (at_head && receiver.is_empty() && since_write >= config.head_write_delay)
            || config.coalesced_write_due(unwritten, changed_rows, since_write)
        {
            if let Err(error) =
                write_pending(projector, store, config.resident_rows, &mut writing).await
            {
                break Err(error);
            }
            unwritten = 0;
            last_write = Instant::now();
        }
        // No sync to disk here: sled's own flusher writes and syncs what was applied every
        // 500 ms (`flush_every_ms`). A second flush every second from this loop held the
        // fold up to 0.3 s at a time during a catch-up, for nothing sled did not do anyway.
    };
    reader.abort();
    head_watch.abort();
    if result.is_ok() && unwritten > 0 {
        write_pending(projector, store, config.resident_rows, &mut writing).await?;
    }
    finish(writing).await?;
    result
}

/// Writes what was folded since the last write, with its checkpoint, in one atomic batch,
/// on a blocking thread while the fold goes on. The write before it is awaited first, so
/// writes land in order and at most one waits in memory.
async fn write_pending(
    projector: &Projector,
    store: &SledStore,
    resident_rows: usize,
    writing: &mut Option<Writing>,
) -> Result<(), ProjectorError> {
    finish(writing.take()).await?;
    let changes = {
        let mut shared = projector.shared.write().unwrap_or_else(|p| p.into_inner());
        // Every write landed: over the budget, rows the store holds as they are leave
        // memory.
        shared.folder.evict_over(resident_rows);
        let resident = shared.folder.models.resident_rows();
        projector
            .metrics
            .resident_rows
            .store(resident as u64, Ordering::Relaxed);
        shared.folder.drain_changes()
    };
    let mut store = store.clone();
    *writing = Some(tokio::task::spawn_blocking(move || store.apply(changes)));
    Ok(())
}

/// Folds one prepared batch, then publishes its notice; the caller writes it. Returns the
/// rows changed since the last write.
async fn apply_prepared(
    projector: &Projector,
    log: &Log,
    prepared: Vec<Prepared>,
    shutdown: &watch::Receiver<bool>,
) -> Result<usize, ProjectorError> {
    let wanted = {
        let shared = projector.shared.read().unwrap_or_else(|p| p.into_inner());
        shared.folder.wanted(&prepared)
    };
    let fetched = fetch(log, wanted, shutdown).await?;
    // Nobody listening (a rebuild, a headless projector): no copies for nobody.
    let listening = projector.subscribers() > 0;
    let events: Vec<ChangedEvent> = prepared
        .iter()
        .filter(|_| listening)
        .filter_map(|p| match p {
            Prepared::Usable(usable) => {
                let (slice, members) = slice_of(&usable.envelope);
                Some(ChangedEvent {
                    seq: usable.seq,
                    recorded_at: usable.recorded_at,
                    slice,
                    members: members.map(|m| m.into_iter().collect()).unwrap_or_default(),
                    envelope: Arc::new(usable.envelope.clone()),
                })
            }
            Prepared::Quarantined(_) => None,
        })
        .collect();
    let (outcome, head, changed_rows) = {
        let mut shared = projector.shared.write().unwrap_or_else(|p| p.into_inner());
        let outcome = shared.folder.apply_batch(prepared, &fetched);
        if let Some(fault) = shared.folder.models.fault() {
            return Err(unreadable(fault));
        }
        let head = projector.metrics.head_seq.load(Ordering::Relaxed);
        (outcome, head, shared.folder.models.changed_rows())
    };
    let state = if outcome.last_seq >= head {
        ReadyState::Ready
    } else {
        ReadyState::CatchingUp
    };
    projector.state.send_if_modified(|current| {
        let change = *current != ReadyState::Rebuilding && *current != state;
        if change {
            *current = state;
        }
        change
    });
    let metrics = &projector.metrics;
    count_batch(metrics, &outcome);
    if outcome.last_seq > 0 {
        metrics
            .applied_seq
            .store(outcome.last_seq, Ordering::Relaxed);
        let head = metrics.head_seq.load(Ordering::Relaxed);
        if outcome.last_seq > head {
            metrics.head_seq.store(outcome.last_seq, Ordering::Relaxed);
        }
        projector.applied.send_replace(outcome.last_seq);
    }
    // Nobody listening is fine: live streams subscribe when they connect.
    let _ = projector.notices.send(ChangeNotice {
        applied_seq: outcome.last_seq,
        events,
    });
    Ok(changed_rows)
}

/// Counts one folded batch: every event it consumed, applied, quarantined or skipped, and
/// the batch. Following the log and rebuilding count alike, so that a long run of events
/// that are all quarantined is progress to [`catch_up_and_digest`]'s stall check, not a
/// stall.
fn count_batch(metrics: &Metrics, outcome: &BatchOutcome) {
    metrics
        .applied_events
        .fetch_add(outcome.applied, Ordering::Relaxed);
    metrics
        .quarantined_events
        .fetch_add(outcome.quarantined, Ordering::Relaxed);
    metrics
        .skipped_events
        .fetch_add(outcome.skipped, Ordering::Relaxed);
    metrics.batches.fetch_add(1, Ordering::Relaxed);
}

/// A backed row could not be read while folding: the fold may have taken it as missing,
/// so the engine stops before writing anything; started again, it reopens the store.
fn unreadable(fault: crate::table::Fault) -> ProjectorError {
    ProjectorError::Storage(format!(
        "a read-model row could not be read ({fault}); stopped before writing what was \
         folded from it"
    ))
}

/// Runs the projector headless until it has applied the log's head as it was at start,
/// stops it, and returns the digest of its read models and its checkpoint. For the crash
/// tests and `--digest-at-head`. Gives up with [`ProjectorError::Stalled`] when no event is
/// consumed (applied, quarantined or skipped) for [`EngineConfig::catch_up_stall`].
pub async fn catch_up_and_digest(
    log: Log,
    config: EngineConfig,
) -> Result<(String, u64), ProjectorError> {
    let projector = Projector::new();
    let head = log.head().await?.last_seq;
    let stall = config.catch_up_stall;
    let (stop, stopped) = watch::channel(false);
    let service = tokio::spawn(run_returning_store(projector.clone(), log, config, stopped));
    // Loaded first: before the read models are opened the projector says it applied 0,
    // which is "current" for an empty log, and stopping it then would leave no answer.
    let current = async {
        let mut seen = projector.progress();
        loop {
            if projector.wait_loaded(stall).await && projector.wait_until_current(head, stall).await
            {
                return Ok(());
            }
            let now = projector.progress();
            if now == seen {
                return Err(ProjectorError::Stalled(format!(
                    "no event was applied or quarantined for over {stall:?} (applied up to {} of the log's {head}): \
                     the log may be out of reach; check that its NATS server runs and can be \
                     reached from here, then start again",
                    projector.applied_seq()
                )));
            }
            seen = now;
        }
    };
    // An engine that ends first failed (a folder it cannot use, the log gone): its error
    // is the answer, not a wait for a head it will never reach.
    let (reached, store) = stop_when(service, stop, current).await;
    let store = store?;
    match (reached, store) {
        (Some(Ok(())), Some(store)) => Ok((store.digest()?, store.checkpoint()?)),
        (Some(Err(stalled)), _) => Err(stalled),
        _ => Err(ProjectorError::Stopped),
    }
}

#[cfg(test)]
mod tests;
