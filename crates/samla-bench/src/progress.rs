//! Progress on stderr: which phase, how far. A long run must never be silent, but a line
//! every event would cost more than what is measured, so a phase prints at most every two
//! seconds (one comparison of `Instant`s per tick).

use std::time::{Duration, Instant};

const EVERY: Duration = Duration::from_secs(2);

/// Prints one line to stderr, prefixed so it is told apart from the report.
pub(crate) fn say(message: impl std::fmt::Display) {
    eprintln!("[samla-bench] {message}");
}

/// The progress of one phase over `total` items.
#[derive(Debug)]
pub(crate) struct Progress {
    phase: String,
    total: u64,
    started: Instant,
    next_print: Instant,
}

impl Progress {
    pub(crate) fn new(phase: impl Into<String>, total: u64) -> Self {
        Progress::counting(phase, total, "events")
    }

    /// The progress of one phase over `total` things that are not events (`what`).
    pub(crate) fn counting(phase: impl Into<String>, total: u64, what: &str) -> Self {
        let phase = phase.into();
        let now = Instant::now();
        say(format!("{phase}: {total} {what}"));
        Progress {
            phase,
            total,
            started: now,
            next_print: now + EVERY,
        }
    }

    /// Records that `done` items are finished; prints if it has been a while.
    #[inline]
    pub(crate) fn tick(&mut self, done: u64) {
        if done & 0x3ff != 0 {
            return;
        }
        self.tick_now(done);
    }

    /// Like [`Progress::tick`], without the cheap every-1,024 pre-filter (for callers that
    /// tick once per batch).
    pub(crate) fn tick_now(&mut self, done: u64) {
        let now = Instant::now();
        if now < self.next_print {
            return;
        }
        self.next_print = now + EVERY;
        let percent = done.saturating_mul(100) / self.total.max(1);
        let elapsed = now.duration_since(self.started).as_secs_f64();
        say(format!(
            "  {}: {done}/{} ({percent}%) after {elapsed:.1} s",
            self.phase, self.total
        ));
    }

    pub(crate) fn done(&self) {
        say(format!(
            "  {}: done in {:.2} s",
            self.phase,
            self.started.elapsed().as_secs_f64()
        ));
    }
}
