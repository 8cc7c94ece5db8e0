//! What the fold state holds in memory, model by model: the bytes jemalloc counts this
//! thread freeing while the parts of a folded [`Folder`] are dropped one at a time (its
//! per-thread count: exact, whatever other threads allocate meanwhile). This is where the
//! projector's peak memory goes (the rest is sled, buffers and the allocator's slack), so a
//! memory target that is missed names the model to shrink.
//!
//! It needs jemalloc as the process's allocator, which every Samla binary sets. Under
//! another allocator (a test binary) the count does not move, and [`held_by_model`] says
//! so with `None` instead of reporting zeros.

use std::collections::BTreeMap;
use std::hint::black_box;

use samla_projector::{Folder, ReadModels};
use tikv_jemalloc_ctl::thread::{ThreadLocal, allocatedp, deallocatedp};

/// This thread's running totals of bytes allocated and freed, as jemalloc counts them.
struct ThreadCounts {
    allocated: ThreadLocal<u64>,
    freed: ThreadLocal<u64>,
}

impl ThreadCounts {
    /// This thread's counts, if jemalloc counts this process's allocations: its count
    /// grows by a fresh 1 MiB buffer.
    fn read() -> Option<Self> {
        const PROBE: usize = 1 << 20;
        let counts = ThreadCounts {
            allocated: allocatedp::read().ok()?,
            freed: deallocatedp::read().ok()?,
        };
        let before = counts.allocated.get();
        drop(black_box(vec![1u8; PROBE]));
        (counts.allocated.get() >= before + PROBE as u64).then_some(counts)
    }

    /// The bytes this thread freed dropping `part`.
    fn released<T>(&self, part: T) -> u64 {
        let before = self.freed.get();
        drop(part);
        self.freed.get() - before
    }
}

/// The bytes each part of `folder` held, by read model, with the engine's id and
/// correction indexes as `ids and corrections`; consumes the folder. `None` when the
/// process does not allocate with jemalloc.
pub(crate) fn held_by_model(mut folder: Folder) -> Option<BTreeMap<String, u64>> {
    let counts = ThreadCounts::read()?;
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
                counts.released(std::mem::replace(&mut models.$model, empty.$model)),
            );
        )*};
    }
    release!(
        slices, sites, offers, needs, resources, issues, reports, network, timeline, quarantine,
        picture
    );
    note("ids and corrections", counts.released(folder));
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
