//! What the fold state holds in memory, model by model: read from jemalloc's own count of
//! allocated bytes while the parts of a folded [`Folder`] are dropped one at a time. This
//! is where the projector's peak memory goes (the rest is sled, buffers and the
//! allocator's slack), so a memory target that is missed names the model to shrink.
//!
//! It needs jemalloc as the process's allocator, which every Samla binary sets. Under
//! another allocator (a test binary) the count does not move, and [`held_by_model`] says
//! so with `None` instead of reporting zeros.

use std::collections::BTreeMap;
use std::hint::black_box;

use samla_projector::{Folder, ReadModels};
use tikv_jemalloc_ctl::{Access, AsName};

/// Bytes the process has allocated, as jemalloc counts them now; `None` when its
/// statistics cannot be read.
fn allocated() -> Option<u64> {
    tikv_jemalloc_ctl::epoch::advance().ok()?;
    tikv_jemalloc_ctl::stats::allocated::read()
        .ok()
        .map(|bytes| bytes as u64)
}

/// Whether jemalloc's count follows this process's allocations: it grows by a fresh
/// 8 MiB buffer.
fn counting() -> bool {
    const PROBE: usize = 8 << 20;
    let Some(before) = allocated() else {
        return false;
    };
    let probe = black_box(vec![1u8; PROBE]);
    let after = allocated();
    drop(probe);
    after.is_some_and(|after| after >= before + PROBE as u64)
}

/// This thread's cache of freed blocks switched off while it lives: a block freed into the
/// cache still counts as allocated, and a small model could hide in it whole.
struct Uncached;

const THREAD_CACHE: &[u8] = b"thread.tcache.enabled\0";

impl Uncached {
    fn new() -> Self {
        // Switching the cache off flushes it; if jemalloc refuses, the counts stay within
        // the cache's size (well under a MiB), so measure anyway.
        let _ = THREAD_CACHE.name().write(false);
        Uncached
    }
}

impl Drop for Uncached {
    fn drop(&mut self) {
        let _ = THREAD_CACHE.name().write(true);
    }
}

/// The bytes released by dropping `part`.
fn released<T>(part: T) -> u64 {
    let before = allocated().unwrap_or(0);
    drop(part);
    before.saturating_sub(allocated().unwrap_or(before))
}

/// The bytes each part of `folder` held, by read model, with the engine's id and
/// correction indexes as `ids and corrections`; consumes the folder. `None` when the
/// process does not allocate with jemalloc.
pub(crate) fn held_by_model(mut folder: Folder) -> Option<BTreeMap<String, u64>> {
    if !counting() {
        return None;
    }
    let _uncached = Uncached::new();
    let mut models = std::mem::take(&mut folder.models);
    let empty = ReadModels::new();
    let mut held = BTreeMap::new();
    let mut note = |name: &str, bytes: u64| {
        held.insert(name.to_owned(), bytes);
    };
    // Each model, replaced by an empty one, in the order the fold's struct lists them.
    macro_rules! release {
        ($($model:ident),*) => {$(
            note(
                stringify!($model),
                released(std::mem::replace(&mut models.$model, empty.$model)),
            );
        )*};
    }
    release!(
        slices, sites, offers, needs, resources, issues, reports, network, timeline, quarantine,
        picture
    );
    note("ids and corrections", released(folder));
    Some(held)
}

#[cfg(test)]
mod tests {
    /// A test binary allocates with the system allocator, which jemalloc does not count:
    /// the breakdown is absent, not a table of zeros.
    #[test]
    fn without_jemalloc_there_is_no_breakdown() {
        assert_eq!(super::held_by_model(samla_projector::Folder::new()), None);
    }
}
