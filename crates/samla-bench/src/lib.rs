//! # samla-bench — what Samla costs, next to what the wire and the disk allow
//!
//! One run starts its own nats-servers (one with nats-server's default sync, one with
//! `sync_interval: always` as in production), generates the seeded crisis (samla-sim:
//! every kind of event mixed, a few hundred bytes each) and measures, each figure
//! repeated (median, min and max):
//!
//! - **baselines**, with no Samla code inside the timed loops: raw pipelined JetStream
//!   publish with `Nats-Msg-Id`, raw ordered-consumer read, the naive consume → decode →
//!   sled loop; with `sync_interval: always`, raw pipelined publish and raw atomic batches
//!   of 1,000 (16 in flight);
//! - **Samla**: the rebuild of every read model from the log by the projector running as
//!   its own process, its peak memory, and its sled size per million events;
//! - **ratios** of the rebuild to the baselines.
//!
//! What it is not: not a test (nothing is asserted about speed; targets are printed next to
//! the figures) and not a load generator for a running deployment (it owns its servers).
//! Ingest figures (NATS, HTTP, group commit) and replay wait for the code they measure;
//! they are listed as not measured, never faked.
//!
//! Layout:
//! - [`BenchOptions`] (here): what to measure, and how big.
//! - `run.rs`: [`run`] — servers, connections, the phases in order, the report.
//! - `workload.rs`: the generated events, encoded once.
//! - `publish.rs`: pipelined publish and the raw atomic-batch protocol.
//! - `read.rs`: the raw ordered read and the naive loop.
//! - [`rebuild`]: the projector process, its memory and its disk; [`ProjectorCommand`].
//! - [`child`]: the bench binary's `projector` subcommand (the same engine, for when no
//!   `samla-projector` binary is at hand).
//! - `stages.rs`: the rebuild taken apart — the engine's steps timed one by one.
//! - [`report`]: figures, ratios, the table and the JSON.
//! - `progress.rs`: progress lines on stderr.
//! - `src/bin/samla-bench.rs`: the command line.

pub mod child;
mod error;
mod progress;
mod publish;
mod read;
pub mod rebuild;
pub mod report;
mod run;
mod stages;
mod workload;

pub use error::BenchError;
pub use rebuild::{PerfRecord, ProjectorCommand};
pub use report::{Figure, Report, TableWrites, Workload};
pub use run::run;

/// Events in the log by default.
pub const DEFAULT_EVENTS: usize = 1_000_000;
/// Repeats of each figure by default.
pub const DEFAULT_REPEAT: u32 = 3;
/// `--quick`: events and repeats (a few minutes at most on two cores).
pub const QUICK_EVENTS: usize = 100_000;
pub const QUICK_REPEAT: u32 = 2;
/// Outstanding acks in the pipelined publishes (async-nats allows 5,000 by default).
pub const DEFAULT_PUBLISH_WINDOW: usize = 4096;
/// The crisis seed (the demo's).
pub const DEFAULT_SEED: u64 = 0x5a4d_4c41;

/// What to measure, and how big.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Events in the log.
    pub events: usize,
    /// Samples per figure.
    pub repeat: u32,
    /// Events per `sync_interval: always` sample; `None`: a tenth of `events`, between
    /// 1,000 and 100,000 (every write synced is slow; the rate, not the count, matters).
    pub durable_events: Option<usize>,
    pub seed: u64,
    pub publish_window: usize,
    /// Events per projector batch, also used by the naive loop (the projector's default).
    pub batch_max: usize,
    pub projector: ProjectorCommand,
    /// Record a perf profile of the projector during the last rebuild.
    pub perf: Option<PerfRecord>,
    /// Also take the rebuild apart into its steps (in this process).
    pub stages: bool,
}

impl BenchOptions {
    /// The full run: a million events, three repeats.
    pub fn new(projector: ProjectorCommand) -> Self {
        BenchOptions {
            events: DEFAULT_EVENTS,
            repeat: DEFAULT_REPEAT,
            durable_events: None,
            seed: DEFAULT_SEED,
            publish_window: DEFAULT_PUBLISH_WINDOW,
            batch_max: samla_projector::engine::EngineConfig::new("").batch_max,
            projector,
            perf: None,
            stages: true,
        }
    }

    /// The quick run: 100,000 events, two repeats.
    pub fn quick(mut self) -> Self {
        self.events = QUICK_EVENTS;
        self.repeat = QUICK_REPEAT;
        self
    }

    /// Events per `sync_interval: always` sample.
    pub fn durable_events(&self) -> usize {
        self.durable_events
            .unwrap_or_else(|| (self.events / 10).clamp(1_000, 100_000))
            .min(self.events)
    }

    pub(crate) fn validate(&self) -> Result<(), BenchError> {
        if self.events == 0 || self.repeat == 0 || self.durable_events() == 0 {
            return Err(BenchError::InvalidOptions(
                "events, repeat and durable events must be at least 1".to_owned(),
            ));
        }
        if self.batch_max == 0 || self.publish_window == 0 {
            return Err(BenchError::InvalidOptions(
                "batch size and publish window must be at least 1".to_owned(),
            ));
        }
        Ok(())
    }
}
