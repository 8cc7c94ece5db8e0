//! The allocator every Samla binary runs on: jemalloc, with one arena.
//!
//! jemalloc instead of the system allocator: the fold makes and drops many small rows on
//! several threads, and on the rebuild jemalloc took a quarter less CPU an event and less
//! peak memory than glibc's malloc (BENCHMARKS.md). Every Samla binary uses it, so the
//! bench's baselines and Samla's own code run on the same allocator.
//!
//! One arena (`narenas:1`) instead of jemalloc's four per core: the projector's store
//! writes run on whichever blocking thread is free, and sled has threads of its own, so
//! with many arenas the write's memory was spread over several of them, each keeping its
//! own free pages. On the rebuild of 1,000,000 events at `--resident-rows 0` one arena
//! peaked at 193–219 MiB against 232–248 MiB, at the same speed (BENCHMARKS.md). The
//! environment (`_RJEM_MALLOC_CONF`) still overrides it, for experiments.
//!
//! A binary sets both with [`crate::samla_allocator!`] at its top level.

pub use tikv_jemallocator::Jemalloc;

/// jemalloc's options, NUL-terminated, as its `malloc_conf` variable holds them.
pub const MALLOC_CONF: &[u8] = b"narenas:1\0";

/// Makes jemalloc, with [`MALLOC_CONF`], the binary's global allocator.
///
/// jemalloc reads its options before `main`, from a variable the binary defines: so this
/// is a macro the binary invokes, not a function it calls.
#[macro_export]
macro_rules! samla_allocator {
    () => {
        #[global_allocator]
        static ALLOCATOR: $crate::allocator::Jemalloc = $crate::allocator::Jemalloc;

        /// jemalloc's `malloc_conf` (prefixed as tikv-jemalloc-sys builds it).
        #[allow(non_upper_case_globals)]
        #[unsafe(export_name = "_rjem_malloc_conf")]
        static malloc_conf: Option<&'static u8> = Some(&$crate::allocator::MALLOC_CONF[0]);
    };
}
