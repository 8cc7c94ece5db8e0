//! # samla-projector — the shared situational picture, folded from the log exactly once
//!
//! Reads Samla's log (NATS JetStream) from its checkpoint, folds each batch of events into
//! read models, and writes the changed rows, the id index and the checkpoint in one atomic
//! sled batch. The engine keeps in memory only the rows changed since its last completed
//! write (and a few small tables); the fold and the views read other rows back from sled
//! ([`table::Backing`]). Views merge what a viewer may see at query time.
//!
//! What it is not: it never writes the log, never trusts server-side ack state, and its
//! folds read nothing but their own rows, read no clock and draw no random numbers — so
//! every replica that applied the same log holds byte-identical read models (see
//! [`store::KvStore::digest`]).
//!
//! Layout:
//! - [`prepare`]: stored bytes → a usable event or a quarantine row (pure, per event).
//! - [`folder`]: [`folder::Folder`] — read models plus the id ([`ids`]) and correction indexes;
//!   resolves what a correction supersedes; drains changes for one atomic write.
//! - [`models`]: the read models and the one pure fold ([`models::ReadModels::apply`]).
//! - [`gauge`], [`table`], [`visibility`]: the building blocks — gauges and counters,
//!   in-memory tables with change tracking, audience slices and viewers.
//! - [`views`]: what a viewer sees, merged from the slices it may see, with `now`.
//! - [`store`]: the key-value trait, sled and memory implementations, the digest.
//! - [`engine`]: the service loop — pull, decode, fold, write; rebuild; change notices.
//! - [`allocator`]: jemalloc and its options, for every Samla binary.
//! - [`replay`]: the picture as known or as happened at any point (after-action review),
//!   with verified snapshots on disk and an occurred-time index.

pub mod allocator;
pub mod engine;
pub mod error;
pub mod folder;
pub mod gauge;
pub mod ids;
pub mod models;
pub mod prepare;
pub mod recorded;
pub mod replay;
pub mod store;
pub mod summary;
pub mod table;
pub mod views;
pub mod visibility;

pub use error::ProjectorError;
pub use folder::{BatchOutcome, Folder};
pub use models::ReadModels;
pub use prepare::{Prepared, RawEvent, prepare};
pub use recorded::{Recorded, Superseded};
pub use replay::{ReplayConfig, ReplayPoint, ReplayStats, Replayed, Replayer, Sense};
pub use store::{KvStore, MemoryStore, SledStore};
pub use table::Scope;
pub use visibility::{SliceId, Viewer};

use std::collections::HashMap;

/// Stored events by sequence: where [`apply_raw`] finds the events corrections supersede.
pub fn by_seq(events: &[RawEvent]) -> HashMap<u64, &RawEvent> {
    events.iter().map(|event| (event.seq, event)).collect()
}

/// Prepares `batch` and applies it to `folder` as the engine does, the events its
/// corrections and retractions supersede taken from `by_seq` (see [`Folder::wanted`]).
pub fn apply_raw(
    folder: &mut Folder,
    batch: &[RawEvent],
    by_seq: &HashMap<u64, &RawEvent>,
) -> BatchOutcome {
    let prepared: Vec<Prepared> = batch.iter().map(prepare).collect();
    let fetched: HashMap<u64, Prepared> = folder
        .wanted(&prepared)
        .into_iter()
        .filter_map(|seq| by_seq.get(&seq).map(|raw| (seq, prepare(raw))))
        .collect();
    folder.apply_batch(prepared, &fetched)
}

/// Folds stored events in memory, exactly as the engine would, batch by batch: the
/// reference the differential and crash tests compare the service with.
pub fn fold_in_memory(
    events: &[RawEvent],
    batch_size: usize,
) -> Result<(Folder, MemoryStore), ProjectorError> {
    let by_seq = by_seq(events);
    let mut folder = Folder::new();
    let mut store = MemoryStore::new();
    for chunk in events.chunks(batch_size.max(1)) {
        apply_raw(&mut folder, chunk, &by_seq);
        store.apply(folder.drain_changes())?;
    }
    Ok((folder, store))
}
