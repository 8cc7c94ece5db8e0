//! # samla-bench — what Samla costs, next to what the wire and the disk allow
//!
//! One run starts its own nats-servers (one with nats-server's default sync, one with
//! `sync_interval: always` as in production), both with Samla's permission block, generates
//! the seeded crisis (samla-sim: every kind of event mixed, a few hundred bytes each) and
//! measures, each figure repeated (median, min and max):
//!
//! - **baselines**, with no Samla code inside the timed loops: raw pipelined JetStream
//!   publish with `Nats-Msg-Id`, raw atomic batches (of 1,000 and of 75), raw
//!   ordered-consumer read, the naive consume → decode → sled loop; with `sync_interval:
//!   always`, raw pipelined publish and raw atomic batches of 1,000 (16 in flight);
//! - **Samla's ingest**, through the gateway (`samla_api`, in this process, as `samla
//!   serve` assembles it): batched MessagePack requests on `samla.ingest.<incident>.<org>`
//!   as each organisation's own NATS user; `POST /v1/events` on a real socket, batches and
//!   single events, with each organisation's token; durable ingest through group commit
//!   (many clients sending single events, and batches);
//! - **live latency**: from an ingest request to the event's arrival on a live-stream
//!   (SSE) client, at a steady rate, with the projector and the read side in the gateway;
//! - **Samla's rebuild** of every read model from the log by the projector running as its
//!   own process, its peak memory, and its sled size per million events;
//! - **as-of queries** on that same log: `samla_projector::Replayer` (in this process) and
//!   the incident's picture, as known and as happened at seeded random moments — the first
//!   (cold) query and the steady-state p50/p95/max over N queries;
//! - **ratios** of Samla's figures to the baselines; every target the issue sets is printed
//!   beside its figure or ratio.
//!
//! What it is not: not a test (nothing is asserted about speed; targets are printed next to
//! the figures) and not a load generator for a running deployment (it owns its servers).
//!
//! Layout:
//! - [`BenchOptions`] (here): what to measure, and how big; [`groups`]: which parts.
//! - [`cli`]: the flags `samla-bench` and `samla bench` share, and [`command`], which runs
//!   them; `src/bin/samla-bench.rs` is only its `main`.
//! - `run.rs`: [`run`] — servers, connections, the phases in order, the report.
//! - `workload.rs`: the generated events for the raw baselines, encoded once.
//! - `publish.rs`: pipelined publish and the raw atomic-batch protocol.
//! - `read.rs`: the raw ordered read and the naive loop.
//! - [`rebuild`]: the projector process, its memory and its disk; [`ProjectorCommand`].
//! - [`child`]: the hidden `projector` subcommand (the same engine, for when no
//!   `samla-projector` binary is used — always, under `samla bench`).
//! - `stages.rs`: the rebuild taken apart — the engine's steps timed one by one.
//! - `as_of.rs`: the as-of queries.
//! - `ingest_load.rs`: the events for the gateway, with this run's own ids, as requests.
//! - `gateway.rs`: credentials (permission block, tokens) and the gateway under test.
//! - `ingest.rs`: closed-loop NATS and HTTP clients; `live.rs`: the latency at a steady
//!   rate; `ingest_phases.rs`: those phases' samples; `http1.rs`: a minimal HTTP client.
//! - `figures.rs`: every figure's name, unit, meaning and target, and the ratios;
//!   [`report`]: figures over the repeats, the table and the JSON; [`compare`]: a run
//!   against an earlier report (`samla bench compare`, `--compare`).
//! - `progress.rs`: progress lines on stderr.

mod as_of;
pub mod child;
pub mod cli;
pub mod compare;
mod error;
mod figures;
mod gateway;
pub mod groups;
mod http1;
mod ingest;
mod ingest_load;
mod ingest_phases;
mod live;
mod memory;
mod progress;
mod publish;
mod read;
pub mod rebuild;
pub mod report;
mod run;
mod stages;
mod workload;

use std::collections::BTreeSet;

pub use cli::{BenchArgs, command, figures_help};
pub use error::BenchError;
pub use groups::Group;
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
/// Events per request in the batched ingest figures.
pub const DEFAULT_INGEST_BATCH: usize = 100;
/// Closed-loop clients sending batches: 40 requests of 100 in flight, about the raw
/// publish's ack window.
pub const DEFAULT_BATCH_CLIENTS: usize = 40;
/// Closed-loop clients sending single events.
pub const DEFAULT_SINGLE_CLIENTS: usize = 64;
/// The steady rate of the live-latency figure, in events per second.
pub const DEFAULT_LIVE_RATE: u32 = 1_000;
/// Seconds of steady load per live-latency sample (`--quick`: 10).
pub const DEFAULT_LIVE_SECONDS: u32 = 30;
pub const QUICK_LIVE_SECONDS: u32 = 10;
/// As-of queries at random moments per sense and sample (p95 is the 38th of 40;
/// `--quick`: the 19th of 20).
pub const DEFAULT_AS_OF_QUERIES: usize = 40;
pub const QUICK_AS_OF_QUERIES: usize = 20;
/// `--quick`: events per `sync_interval: always` and single-event sample, and per batched
/// ingest sample (every write synced is slow, and so is ingest today; the rate, not the
/// count, matters).
pub const QUICK_DURABLE_EVENTS: usize = 5_000;
pub const QUICK_INGEST_EVENTS: usize = 10_000;

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
    /// The projector's budget of rows kept in memory after a write, and the most events
    /// it folds and rows it changes between two writes while behind the head (the
    /// projector's defaults); the "taken apart" steps use them too.
    pub resident_rows: usize,
    pub write_every: usize,
    pub write_rows: usize,
    pub projector: ProjectorCommand,
    /// Record a perf profile of the projector during the last rebuild.
    pub perf: Option<PerfRecord>,
    /// Also take the rebuild apart into its steps (in this process).
    pub stages: bool,
    /// Which groups of figures to measure (see [`groups::select`]).
    pub groups: BTreeSet<Group>,
    /// Events per batched ingest sample (NATS, HTTP, durable); `None`: a fifth of
    /// `events`, between 1,000 and 100,000.
    pub ingest_events: Option<usize>,
    /// Events per single-event ingest sample (HTTP, durable); `None`: as many as a
    /// durable sample.
    pub single_events: Option<usize>,
    /// Events per request in the batched ingest figures.
    pub ingest_batch: usize,
    /// Closed-loop clients sending batches (NATS, HTTP, durable).
    pub batch_clients: usize,
    /// Closed-loop clients sending single events (HTTP, durable).
    pub single_clients: usize,
    /// The live-latency figure's steady rate (events per second) and length (seconds).
    pub live_rate: u32,
    pub live_seconds: u32,
    /// As-of queries at random moments per sense and sample, after the first query.
    pub as_of_queries: usize,
}

impl BenchOptions {
    /// The full run: a million events, three repeats.
    pub fn new(projector: ProjectorCommand) -> Self {
        let engine = samla_projector::engine::EngineConfig::new("");
        BenchOptions {
            events: DEFAULT_EVENTS,
            repeat: DEFAULT_REPEAT,
            durable_events: None,
            seed: DEFAULT_SEED,
            publish_window: DEFAULT_PUBLISH_WINDOW,
            batch_max: engine.batch_max,
            resident_rows: engine.resident_rows,
            write_every: engine.write_every,
            write_rows: engine.write_rows,
            projector,
            perf: None,
            stages: true,
            groups: Group::ALL.into_iter().collect(),
            ingest_events: None,
            single_events: None,
            ingest_batch: DEFAULT_INGEST_BATCH,
            batch_clients: DEFAULT_BATCH_CLIENTS,
            single_clients: DEFAULT_SINGLE_CLIENTS,
            live_rate: DEFAULT_LIVE_RATE,
            live_seconds: DEFAULT_LIVE_SECONDS,
            as_of_queries: DEFAULT_AS_OF_QUERIES,
        }
    }

    /// The quick run: 100,000 events, two repeats, 10 s of live load per sample, 5,000
    /// events per durable or single-event sample, 10,000 per batched ingest sample, 20
    /// as-of queries per sense and sample.
    pub fn quick(mut self) -> Self {
        self.events = QUICK_EVENTS;
        self.repeat = QUICK_REPEAT;
        self.live_seconds = QUICK_LIVE_SECONDS;
        self.durable_events = Some(QUICK_DURABLE_EVENTS);
        self.ingest_events = Some(QUICK_INGEST_EVENTS);
        self.as_of_queries = QUICK_AS_OF_QUERIES;
        self
    }

    /// Events per batched ingest sample.
    pub fn ingest_events(&self) -> usize {
        self.ingest_events
            .unwrap_or_else(|| (self.events / 5).clamp(1_000, 100_000))
            .min(self.events)
    }

    /// Events per single-event ingest sample.
    pub fn single_events(&self) -> usize {
        self.single_events
            .unwrap_or_else(|| self.durable_events())
            .min(self.events)
    }

    /// Events per live-latency sample.
    pub fn live_events(&self) -> usize {
        (self.live_rate as usize).saturating_mul(self.live_seconds as usize)
    }

    /// Whether `group` is measured.
    pub fn measures(&self, group: Group) -> bool {
        self.groups.contains(&group)
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
        if self.ingest_events() == 0
            || self.single_events() == 0
            || self.ingest_batch == 0
            || self.batch_clients == 0
            || self.single_clients == 0
            || self.live_rate == 0
            || self.live_seconds == 0
            || self.as_of_queries == 0
        {
            return Err(BenchError::InvalidOptions(
                "ingest sizes, clients, the live rate and its length, and as-of queries must be \
                 at least 1"
                    .to_owned(),
            ));
        }
        if self.ingest_batch > samla_log::MAX_BATCH_EVENTS {
            return Err(BenchError::InvalidOptions(format!(
                "at most {} events per ingest request",
                samla_log::MAX_BATCH_EVENTS
            )));
        }
        if self.groups.is_empty() {
            return Err(BenchError::InvalidOptions("no group to measure".to_owned()));
        }
        // Without them a group would wait for a log nobody writes.
        for group in &self.groups {
            if let Some(missing) = group
                .requires()
                .iter()
                .find(|required| !self.groups.contains(required))
            {
                return Err(BenchError::InvalidOptions(format!(
                    "group {group} needs group {missing} (groups::select adds it)"
                )));
            }
        }
        if self.batch_max == 0 || self.publish_window == 0 {
            return Err(BenchError::InvalidOptions(
                "batch size and publish window must be at least 1".to_owned(),
            ));
        }
        if self.write_every == 0 {
            return Err(BenchError::InvalidOptions(
                "--write-every must be at least 1 (events folded between two writes)".to_owned(),
            ));
        }
        if self.write_rows == 0 {
            return Err(BenchError::InvalidOptions(
                "--write-rows must be at least 1 (rows changed between two writes)".to_owned(),
            ));
        }
        Ok(())
    }
}
