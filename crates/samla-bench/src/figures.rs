//! The catalogue of figures and ratios: every figure's stable name (the key in the JSON's
//! `results`), its unit, its group, its target where the issue sets one, and a sentence
//! saying what it measures and what it is compared with. [`FIGURES`] is in the order the
//! table shows it; `--help` prints the same sentences. [`RATIOS`] are of medians, with
//! their targets.

use crate::groups::Group;

/// Names of the figures (keys of `results` in the JSON).
pub mod names {
    pub const RAW_PUBLISH_MSGID: &str = "raw_publish_msgid_events_per_s";
    pub const RAW_ATOMIC_BATCH: &str = "raw_atomic_batch_events_per_s";
    pub const RAW_ATOMIC_SMALL_BATCH: &str = "raw_atomic_batch_75_events_per_s";
    pub const RAW_ORDERED_READ: &str = "raw_ordered_read_events_per_s";
    pub const NAIVE_LOOP: &str = "naive_loop_events_per_s";
    pub const NAIVE_LOOP_CPU: &str = "naive_loop_cpu_us_per_event";
    pub const DECODE_LOOP_CPU: &str = "decode_loop_cpu_us_per_event";
    pub const DECODE_LOOP_SERVER_CPU: &str = "decode_loop_server_cpu_us_per_event";
    pub const DECODE_CEILING: &str = "decode_ceiling_events_per_s";
    pub const RAW_DURABLE_PIPELINED: &str = "raw_durable_pipelined_events_per_s";
    pub const RAW_DURABLE_ATOMIC_BATCH: &str = "raw_durable_atomic_batch_events_per_s";
    pub const RAW_DURABLE_CLIENT_BATCHES: &str = "raw_durable_client_batches_events_per_s";
    pub const REBUILD: &str = "rebuild_events_per_s";
    pub const PROJECTOR_PEAK_RSS: &str = "projector_peak_rss_mb";
    pub const SLED_BYTES_PER_MILLION: &str = "sled_bytes_per_million_events";
    pub const REBUILD_PROJECTOR_CPU: &str = "rebuild_projector_cpu_us_per_event";
    pub const REBUILD_SERVER_CPU: &str = "rebuild_server_cpu_us_per_event";

    pub const STAGE_READ: &str = "stage_read_ns_per_event";
    pub const STAGE_DECODE: &str = "stage_decode_ns_per_event";
    pub const STAGE_PREPARE: &str = "stage_prepare_ns_per_event";
    pub const STAGE_FETCH: &str = "stage_fetch_ns_per_event";
    pub const STAGE_FETCH_DIRECT: &str = "stage_fetch_direct_get_ns_per_event";
    pub const STAGE_FOLD: &str = "stage_fold_ns_per_event";
    pub const STAGE_ROW_READS: &str = "stage_fold_row_reads_ns_per_event";
    pub const STAGE_ENCODE: &str = "stage_encode_ns_per_event";
    pub const STAGE_WRITE: &str = "stage_write_ns_per_event";
    pub const SUPERSEDED_FETCHES: &str = "superseded_fetches";
    pub const ROWS_WRITTEN: &str = "rows_written_per_1000_events";
    pub const ROWS_READ: &str = "rows_read_per_1000_events";
    pub const BYTES_WRITTEN: &str = "bytes_written_per_event";
    pub const FOLD_STATE: &str = "fold_state_mb";

    pub const NATS_INGEST: &str = "nats_ingest_events_per_s";
    pub const HTTP_INGEST_BATCH: &str = "http_ingest_batch_events_per_s";
    pub const HTTP_INGEST_SINGLE: &str = "http_ingest_single_events_per_s";
    pub const DURABLE_INGEST_BATCH: &str = "durable_ingest_batch_events_per_s";
    pub const DURABLE_INGEST_SINGLE: &str = "durable_ingest_single_events_per_s";
    pub const LIVE_LATENCY_P50: &str = "live_latency_p50_ms";
    pub const LIVE_LATENCY_P99: &str = "live_latency_p99_ms";
    pub const LIVE_LATENCY_P999: &str = "live_latency_p999_ms";

    pub const AS_OF_KNOWN_FIRST: &str = "as_of_known_first_ms";
    pub const AS_OF_KNOWN_P50: &str = "as_of_known_p50_ms";
    pub const AS_OF_KNOWN_P95: &str = "as_of_known_p95_ms";
    pub const AS_OF_KNOWN_MAX: &str = "as_of_known_max_ms";
    pub const AS_OF_HAPPENED_FIRST: &str = "as_of_happened_first_ms";
    pub const AS_OF_HAPPENED_P50: &str = "as_of_happened_p50_ms";
    pub const AS_OF_HAPPENED_P95: &str = "as_of_happened_p95_ms";
    pub const AS_OF_HAPPENED_MAX: &str = "as_of_happened_max_ms";

    pub const REBUILD_VS_RAW_READ: &str = "rebuild_vs_raw_read";
    pub const REBUILD_VS_NAIVE_LOOP: &str = "rebuild_vs_naive_loop";
    pub const DECODE_CEILING_VS_NAIVE_LOOP: &str = "decode_ceiling_vs_naive_loop";
    pub const DURABLE_ATOMIC_VS_PIPELINED: &str = "durable_atomic_batch_vs_pipelined";
    pub const DURABLE_CLIENT_BATCHES_VS_PIPELINED: &str = "durable_client_batches_vs_pipelined";
    pub const NATS_INGEST_VS_RAW_PUBLISH: &str = "nats_ingest_vs_raw_publish";
    pub const HTTP_INGEST_VS_RAW_PUBLISH: &str = "http_ingest_vs_raw_publish";
    pub const DURABLE_BATCH_VS_RAW_DURABLE: &str = "durable_batch_vs_raw_durable";
    pub const DURABLE_SINGLE_VS_RAW_DURABLE: &str = "durable_single_vs_raw_durable";
}

/// One figure's description: name, unit, and what it means.
#[derive(Debug, Clone, Copy)]
pub struct FigureInfo {
    pub name: &'static str,
    /// The group that measures it (`--only`, `--skip`).
    pub group: Group,
    /// Part of the rebuild taken apart (`--no-stages` leaves these out).
    pub stage: bool,
    pub unit: &'static str,
    pub meaning: &'static str,
    /// The target for this figure, if it sets one.
    pub target: Option<Target>,
}

/// A target the issue sets: a bound, or a direction to head in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    /// The figure should be at least this.
    AtLeast(f64),
    /// The figure should be at most this.
    AtMost(f64),
    /// Not yet a bound: where the figure should head (the issue: "heading for").
    HeadingFor(f64),
}

impl Target {
    /// `target >= 2`, `target <= 10`, `heading for 0.5`.
    pub fn describe(self) -> String {
        match self {
            Target::AtLeast(bound) => format!("target >= {bound}"),
            Target::AtMost(bound) => format!("target <= {bound}"),
            Target::HeadingFor(goal) => format!("heading for {goal}"),
        }
    }

    /// Whether `value` meets it (for a direction: whether it got there).
    pub fn met_by(self, value: f64) -> bool {
        match self {
            Target::AtLeast(bound) | Target::HeadingFor(bound) => value >= bound,
            Target::AtMost(bound) => value <= bound,
        }
    }

    /// `target >= 2: met`, `target <= 10: MISSED`, `heading for 0.5: not yet`.
    pub fn verdict(self, value: f64) -> String {
        let outcome = match (self, self.met_by(value)) {
            (_, true) => "met",
            (Target::HeadingFor(_), false) => "not yet",
            (_, false) => "MISSED",
        };
        format!("{}: {outcome}", self.describe())
    }
}

/// Every figure, in table order.
pub const FIGURES: &[FigureInfo] = &[
    FigureInfo {
        name: names::RAW_PUBLISH_MSGID,
        group: Group::Publish,
        unit: "events/s",
        stage: false,
        target: None,
        meaning: "Baseline. async-nats alone publishes the events to a stream configured like \
                  Samla's log, each with Nats-Msg-Id, a window of outstanding acks, on a server \
                  with nats-server's default sync (every 2 min). The ceiling for any ingest path.",
    },
    FigureInfo {
        name: names::RAW_ATOMIC_BATCH,
        group: Group::Publish,
        unit: "events/s",
        stage: false,
        target: None,
        meaning: "Baseline, default sync: async-nats sends atomic batches of 1,000 (as \
                  samla-log's atomic commits do), 16 in flight. What atomic group commit \
                  can reach on this server when every gathered batch stays whole.",
    },
    FigureInfo {
        name: names::RAW_ATOMIC_SMALL_BATCH,
        group: Group::Publish,
        unit: "events/s",
        stage: false,
        target: None,
        meaning: "Baseline, default sync: the same with atomic batches of 75, about what \
                  samla-log cut from the crisis' events before requests shared batches (a \
                  repeated aggregate started a new batch). Shows what a commit costs \
                  regardless of its size.",
    },
    FigureInfo {
        name: names::RAW_ORDERED_READ,
        group: Group::Read,
        unit: "events/s",
        stage: false,
        target: None,
        meaning: "Baseline. async-nats' ordered consumer reads the whole log (receive, stream \
                  sequence, payload; nothing else). The ceiling for any reader.",
    },
    FigureInfo {
        name: names::NAIVE_LOOP,
        group: Group::Read,
        unit: "events/s",
        stage: false,
        target: None,
        meaning: "Baseline. The loop one would write first: ordered consumer -> \
                  proto_events::decode_msgpack -> one sled insert per event (latest event per \
                  aggregate) + the checkpoint in the same sled batch, per batch of the \
                  projector's size; sled flushed every second like the projector.",
    },
    FigureInfo {
        name: names::NAIVE_LOOP_CPU,
        group: Group::Read,
        unit: "µs/event",
        stage: false,
        target: None,
        meaning: "The CPU time (user and system, every thread) the bench process used during \
                  that loop, per event: what the baseline spends, beside the projector's \
                  rebuild_projector_cpu_us_per_event.",
    },
    FigureInfo {
        name: names::DECODE_LOOP_CPU,
        group: Group::Read,
        unit: "µs/event",
        stage: false,
        target: None,
        meaning: "Baseline. The CPU time the bench process uses per event to read the whole \
                  log with the ordered consumer and decode every event \
                  (proto_events::decode_msgpack), storing nothing: the work any rebuild does \
                  for an event before it can fold it.",
    },
    FigureInfo {
        name: names::DECODE_LOOP_SERVER_CPU,
        group: Group::Read,
        unit: "µs/event",
        stage: false,
        target: None,
        meaning: "Baseline. The nats-server's CPU time per event while it serves that loop.",
    },
    FigureInfo {
        name: names::DECODE_CEILING,
        group: Group::Read,
        unit: "events/s",
        stage: false,
        target: None,
        meaning: "Derived from the two above, per sample: the cores divided by the CPU per \
                  event of reading, serving and decoding. The most a rebuild that reads every \
                  event with async-nats and decodes it could reach on this machine if folding \
                  and writing cost nothing and every core were busy.",
    },
    FigureInfo {
        name: names::RAW_DURABLE_PIPELINED,
        group: Group::Durable,
        unit: "events/s",
        stage: false,
        target: None,
        meaning: "Baseline with sync_interval: always (every write synced, as in production): \
                  async-nats publishes with Nats-Msg-Id and the same ack window. What \
                  durability costs without batching.",
    },
    FigureInfo {
        name: names::RAW_DURABLE_ATOMIC_BATCH,
        group: Group::Durable,
        unit: "events/s",
        stage: false,
        target: None,
        meaning: "Baseline with sync_interval: always: async-nats sends atomic batches of 1,000 \
                  (Nats-Batch-Id/-Sequence/-Commit, as samla-log's append_batch does), 16 in \
                  flight; the server syncs once per batch. The ceiling for group commit.",
    },
    FigureInfo {
        name: names::RAW_DURABLE_CLIENT_BATCHES,
        group: Group::Durable,
        unit: "events/s",
        stage: false,
        target: None,
        meaning: "Baseline with sync_interval: always: atomic batches of as many events as \
                  there are single-event clients (--single-clients, 64), one batch at a time. \
                  The ceiling for those clients: every commit holds one event of each, and no \
                  time passes between commits (a client must have its answer before it sends \
                  again). The server stores one atomic batch of a stream at a time.",
    },
    FigureInfo {
        name: names::REBUILD,
        group: Group::Rebuild,
        unit: "events/s",
        stage: false,
        target: None,
        meaning: "Samla. The projector process builds every read model from the whole log into \
                  an empty data folder: from spawn until it reports the head applied. Compared \
                  with the raw read (how close to the wire) and the naive loop (what the fold \
                  in memory and coalesced writes buy).",
    },
    FigureInfo {
        name: names::PROJECTOR_PEAK_RSS,
        group: Group::Rebuild,
        unit: "MiB",
        stage: false,
        target: Some(Target::AtMost(200.0)),
        meaning: "Samla. The projector process' peak resident memory (VmHWM) during that \
                  rebuild, read from /proc just as it reached the head.",
    },
    FigureInfo {
        name: names::SLED_BYTES_PER_MILLION,
        group: Group::Rebuild,
        unit: "bytes",
        stage: false,
        target: None,
        meaning: "Samla. Disk used by the projector's data folder after the rebuild (allocated \
                  blocks, like du), scaled to one million events.",
    },
    FigureInfo {
        name: names::REBUILD_PROJECTOR_CPU,
        group: Group::Rebuild,
        unit: "µs/event",
        stage: false,
        target: None,
        meaning: "Samla. CPU time (user and system, every thread) the projector process used \
                  during that rebuild, per event. Against the wall time per event it tells \
                  work from waiting: on N cores, a rebuild bound by work uses up to N times \
                  its wall time.",
    },
    FigureInfo {
        name: names::REBUILD_SERVER_CPU,
        group: Group::Rebuild,
        unit: "µs/event",
        stage: false,
        target: None,
        meaning: "The nats-server's CPU time over the same span, per event: what serving the \
                  log takes from the same cores.",
    },
    FigureInfo {
        name: names::AS_OF_KNOWN_FIRST,
        group: Group::AsOf,
        unit: "ms",
        stage: false,
        target: None,
        meaning: "Samla. The first as-of query on a fresh replayer (samla_projector::Replayer, \
                  in this process, default settings), as known at the log's last recorded \
                  time: it folds the whole log, writing every snapshot on the way. The \
                  worst a cold query costs; the replayer's full fold, beside the rebuild.",
    },
    FigureInfo {
        name: names::AS_OF_KNOWN_P50,
        group: Group::AsOf,
        unit: "ms",
        stage: false,
        target: None,
        meaning: "Samla. Then, per sample, N queries (the workload's as_of_queries) as known \
                  at moments drawn uniformly (seeded) between the first and the last \
                  recorded time: Replayer::at_shared (the nearest in-memory checkpoint or \
                  snapshot, then the events after it) and the incident's picture for one organisation. Median of the \
                  N queries.",
    },
    FigureInfo {
        name: names::AS_OF_KNOWN_P95,
        group: Group::AsOf,
        unit: "ms",
        stage: false,
        target: Some(Target::AtMost(100.0)),
        meaning: "The same, 95th percentile (nearest rank) of the N queries.",
    },
    FigureInfo {
        name: names::AS_OF_KNOWN_MAX,
        group: Group::AsOf,
        unit: "ms",
        stage: false,
        target: None,
        meaning: "The same, the slowest of the N queries.",
    },
    FigureInfo {
        name: names::AS_OF_HAPPENED_FIRST,
        group: Group::AsOf,
        unit: "ms",
        stage: false,
        target: None,
        meaning: "Samla. The first query as happened, at the latest occurred time: it reads \
                  and decodes the whole log into the occurred-time index, then folds every \
                  event in occurred order, writing every snapshot on the way.",
    },
    FigureInfo {
        name: names::AS_OF_HAPPENED_P50,
        group: Group::AsOf,
        unit: "ms",
        stage: false,
        target: None,
        meaning: "Samla. Then N queries as happened at moments drawn uniformly between the \
                  earliest and the latest occurred time (replay and picture, as above). \
                  Median of the N queries.",
    },
    FigureInfo {
        name: names::AS_OF_HAPPENED_P95,
        group: Group::AsOf,
        unit: "ms",
        stage: false,
        target: Some(Target::AtMost(1000.0)),
        meaning: "The same, 95th percentile (nearest rank) of the N queries.",
    },
    FigureInfo {
        name: names::AS_OF_HAPPENED_MAX,
        group: Group::AsOf,
        unit: "ms",
        stage: false,
        target: None,
        meaning: "The same, the slowest of the N queries.",
    },
    FigureInfo {
        name: names::NATS_INGEST,
        group: Group::Ingest,
        unit: "events/s",
        stage: false,
        target: None,
        meaning: "Samla. The gateway's NATS door (in this process, default sync): closed-loop \
                  clients send MessagePack requests of 100 events on \
                  samla.ingest.<incident>.<org>, each over its organisation's own connection \
                  as its own user; every event is checked (contract, personal-data guard) and \
                  group-committed (pipelined publishes, as on any server that syncs on an \
                  interval); every reply item must say stored. Compared with the raw \
                  publish.",
    },
    FigureInfo {
        name: names::HTTP_INGEST_BATCH,
        group: Group::Ingest,
        unit: "events/s",
        stage: false,
        target: None,
        meaning: "Samla. POST /v1/events on the gateway's socket (default sync): closed-loop \
                  clients, one keep-alive connection each, post JSON arrays of 100 events with \
                  their organisation's token; every answer 202, every item stored. Compared \
                  with the raw publish.",
    },
    FigureInfo {
        name: names::HTTP_INGEST_SINGLE,
        group: Group::Ingest,
        unit: "events/s",
        stage: false,
        target: None,
        meaning: "Samla. The same with one event per request and 64 connections: what a \
                  request costs.",
    },
    FigureInfo {
        name: names::DURABLE_INGEST_BATCH,
        group: Group::GroupCommit,
        unit: "events/s",
        stage: false,
        target: None,
        meaning: "Samla, sync_interval: always. The NATS door with closed-loop clients sending \
                  requests of 100 events; group commit gathers them into atomic batches. \
                  Compared with the raw durable pipelined publish.",
    },
    FigureInfo {
        name: names::DURABLE_INGEST_SINGLE,
        group: Group::GroupCommit,
        unit: "events/s",
        stage: false,
        target: None,
        meaning: "Samla, sync_interval: always. 64 closed-loop clients each sending one event \
                  per request over the NATS door; group commit turns concurrent requests into \
                  shared syncs. Compared with the raw durable pipelined publish.",
    },
    FigureInfo {
        name: names::LIVE_LATENCY_P50,
        group: Group::Live,
        unit: "ms",
        stage: false,
        target: None,
        meaning: "Samla, sync_interval: always, at a steady 1,000 events/s (open loop, single \
                  events posted over HTTP): from the moment a request is due to the arrival of \
                  its event on a live-stream (SSE) client of the gateway, whose projector and \
                  read side run in the same process. Median.",
    },
    FigureInfo {
        name: names::LIVE_LATENCY_P99,
        group: Group::Live,
        unit: "ms",
        stage: false,
        target: Some(Target::AtMost(10.0)),
        meaning: "The same, 99th percentile.",
    },
    FigureInfo {
        name: names::LIVE_LATENCY_P999,
        group: Group::Live,
        unit: "ms",
        stage: false,
        target: None,
        meaning: "The same, 99.9th percentile.",
    },
    FigureInfo {
        name: names::STAGE_READ,
        group: Group::Rebuild,
        unit: "ns/event",
        stage: true,
        target: None,
        meaning: "Rebuild taken apart (the engine's steps, in this process, one after another): \
                  reading with samla-log's bounded read, the projector's reader.",
    },
    FigureInfo {
        name: names::STAGE_PREPARE,
        group: Group::Rebuild,
        unit: "ns/event",
        stage: true,
        target: None,
        meaning: "samla_projector::prepare: decode + validate (with the personal-data guard) + \
                  subject check.",
    },
    FigureInfo {
        name: names::STAGE_DECODE,
        group: Group::Rebuild,
        unit: "ns/event",
        stage: true,
        target: None,
        meaning: "proto_events::decode_msgpack alone, on the same bytes (the decoding part of \
                  prepare).",
    },
    FigureInfo {
        name: names::STAGE_FETCH,
        group: Group::Rebuild,
        unit: "ns/event",
        stage: true,
        target: None,
        meaning: "Reading back the events corrections and retractions supersede, as the engine \
                  does (one bounded read per sequence), averaged over all events.",
    },
    FigureInfo {
        name: names::STAGE_FETCH_DIRECT,
        group: Group::Rebuild,
        unit: "ns/event",
        stage: true,
        target: None,
        meaning: "For comparison: the same fetches by direct get (by sequence), which the \
                  engine does not use.",
    },
    FigureInfo {
        name: names::STAGE_FOLD,
        group: Group::Rebuild,
        unit: "ns/event",
        stage: true,
        target: None,
        meaning: "Folder::apply_batch: the pure fold, over tables backed by sled as the \
                  engine keeps them.",
    },
    FigureInfo {
        name: names::STAGE_ROW_READS,
        group: Group::Rebuild,
        unit: "ns/event",
        stage: true,
        target: None,
        meaning: "Within the fold: reading rows the engine no longer holds back from sled, \
                  decoding included.",
    },
    FigureInfo {
        name: names::STAGE_ENCODE,
        group: Group::Rebuild,
        unit: "ns/event",
        stage: true,
        target: None,
        meaning: "Folder::drain_changes: encoding the changed rows, id index and checkpoint, once per EngineConfig::write_every events or EngineConfig::write_rows changed rows (as the engine behind the head).",
    },
    FigureInfo {
        name: names::STAGE_WRITE,
        group: Group::Rebuild,
        unit: "ns/event",
        stage: true,
        target: None,
        meaning: "SledStore::apply (one atomic batch per write, as the encode step) and the final flush.",
    },
    FigureInfo {
        name: names::SUPERSEDED_FETCHES,
        group: Group::Rebuild,
        unit: "events",
        stage: true,
        target: None,
        meaning: "How many superseded events were fetched from the log during the rebuild.",
    },
    FigureInfo {
        name: names::ROWS_WRITTEN,
        group: Group::Rebuild,
        unit: "keys",
        stage: true,
        target: None,
        meaning: "Keys written to sled per 1,000 events (rows after coalescing, id-index \
                  chunks, checkpoints).",
    },
    FigureInfo {
        name: names::ROWS_READ,
        group: Group::Rebuild,
        unit: "reads",
        stage: true,
        target: None,
        meaning: "Reads of rows back from sled per 1,000 events (a row, or every slice's \
                  row of an aggregate the picture counts): rows touched again after they \
                  were written and left memory.",
    },
    FigureInfo {
        name: names::BYTES_WRITTEN,
        group: Group::Rebuild,
        unit: "bytes",
        stage: true,
        target: None,
        meaning: "Bytes (keys + values) handed to sled per event: what coalescing saves and \
                  what sled's size grows from.",
    },
    FigureInfo {
        name: names::FOLD_STATE,
        group: Group::Rebuild,
        unit: "MiB",
        stage: true,
        target: None,
        meaning: "Memory the fold state holds at the end of the log, kept as the engine \
                  keeps it (tables backed by sled: the rows of the last write, the small \
                  tables, the timeline's chunks of the newest range, the picture's figures \
                  and the engine's indexes), as jemalloc counts it; the table below splits it by model.",
    },
];

/// A ratio of two medians and its target.
#[derive(Debug, Clone, Copy)]
pub struct RatioInfo {
    pub name: &'static str,
    pub numerator: &'static str,
    pub denominator: &'static str,
    pub meaning: &'static str,
    pub target: Option<Target>,
}

/// The ratios, what they compare (numerator over denominator, both medians) and their
/// targets.
pub const RATIOS: &[RatioInfo] = &[
    RatioInfo {
        name: names::REBUILD_VS_RAW_READ,
        numerator: names::REBUILD,
        denominator: names::RAW_ORDERED_READ,
        meaning: "rebuild / raw ordered read",
        target: Some(Target::HeadingFor(0.5)),
    },
    RatioInfo {
        name: names::REBUILD_VS_NAIVE_LOOP,
        numerator: names::REBUILD,
        denominator: names::NAIVE_LOOP,
        meaning: "rebuild / naive loop",
        target: Some(Target::AtLeast(2.0)),
    },
    RatioInfo {
        name: names::DECODE_CEILING_VS_NAIVE_LOOP,
        numerator: names::DECODE_CEILING,
        denominator: names::NAIVE_LOOP,
        meaning: "decode ceiling / naive loop: the room rebuild_vs_naive_loop has here, \
                  before any fold or write",
        target: None,
    },
    RatioInfo {
        name: names::DURABLE_ATOMIC_VS_PIPELINED,
        numerator: names::RAW_DURABLE_ATOMIC_BATCH,
        denominator: names::RAW_DURABLE_PIPELINED,
        meaning: "durable atomic batches / durable pipelined publish: what group commit can gain",
        target: None,
    },
    RatioInfo {
        name: names::DURABLE_CLIENT_BATCHES_VS_PIPELINED,
        numerator: names::RAW_DURABLE_CLIENT_BATCHES,
        denominator: names::RAW_DURABLE_PIPELINED,
        meaning: "durable atomic batches of one event per single-event client, one at a time / \
                  durable pipelined publish: the most those clients could gain",
        target: None,
    },
    RatioInfo {
        name: names::NATS_INGEST_VS_RAW_PUBLISH,
        numerator: names::NATS_INGEST,
        denominator: names::RAW_PUBLISH_MSGID,
        meaning: "NATS ingest (batches of 100) / raw publish with Nats-Msg-Id",
        target: Some(Target::AtLeast(0.7)),
    },
    RatioInfo {
        name: names::HTTP_INGEST_VS_RAW_PUBLISH,
        numerator: names::HTTP_INGEST_BATCH,
        denominator: names::RAW_PUBLISH_MSGID,
        meaning: "HTTP ingest (batches of 100) / raw publish with Nats-Msg-Id",
        target: Some(Target::AtLeast(0.4)),
    },
    RatioInfo {
        name: names::DURABLE_BATCH_VS_RAW_DURABLE,
        numerator: names::DURABLE_INGEST_BATCH,
        denominator: names::RAW_DURABLE_PIPELINED,
        meaning: "durable ingest, batches of 100 / raw durable pipelined publish",
        target: Some(Target::AtLeast(12.0)),
    },
    RatioInfo {
        name: names::DURABLE_SINGLE_VS_RAW_DURABLE,
        numerator: names::DURABLE_INGEST_SINGLE,
        denominator: names::RAW_DURABLE_PIPELINED,
        meaning: "durable ingest, 64 clients of single events / raw durable pipelined publish",
        target: Some(Target::AtLeast(4.0)),
    },
];
