//! What a run produces: figures (median, min and max over the repeats), ratios between
//! them, the versions measured, and the two renderings — a table for people and JSON for
//! scripts (`{"versions", "cores", "workload", "results", "ratios"}`).
//!
//! Every figure has a stable name, a unit and a sentence saying what it measures and what
//! it is compared with; [`FIGURES`] is that list, in the order the table shows it, and
//! `--help` prints the same sentences.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

/// Names of the figures (keys of `results` in the JSON).
pub mod names {
    pub const RAW_PUBLISH_MSGID: &str = "raw_publish_msgid_events_per_s";
    pub const RAW_ORDERED_READ: &str = "raw_ordered_read_events_per_s";
    pub const NAIVE_LOOP: &str = "naive_loop_events_per_s";
    pub const RAW_DURABLE_PIPELINED: &str = "raw_durable_pipelined_events_per_s";
    pub const RAW_DURABLE_ATOMIC_BATCH: &str = "raw_durable_atomic_batch_events_per_s";
    pub const REBUILD: &str = "rebuild_events_per_s";
    pub const PROJECTOR_PEAK_RSS: &str = "projector_peak_rss_mb";
    pub const SLED_BYTES_PER_MILLION: &str = "sled_bytes_per_million_events";

    pub const STAGE_READ: &str = "stage_read_ns_per_event";
    pub const STAGE_DECODE: &str = "stage_decode_ns_per_event";
    pub const STAGE_PREPARE: &str = "stage_prepare_ns_per_event";
    pub const STAGE_FETCH: &str = "stage_fetch_ns_per_event";
    pub const STAGE_FETCH_DIRECT: &str = "stage_fetch_direct_get_ns_per_event";
    pub const STAGE_FOLD: &str = "stage_fold_ns_per_event";
    pub const STAGE_ENCODE: &str = "stage_encode_ns_per_event";
    pub const STAGE_WRITE: &str = "stage_write_ns_per_event";
    pub const SUPERSEDED_FETCHES: &str = "superseded_fetches";
    pub const ROWS_WRITTEN: &str = "rows_written_per_1000_events";
    pub const BYTES_WRITTEN: &str = "bytes_written_per_event";

    pub const REBUILD_VS_RAW_READ: &str = "rebuild_vs_raw_read";
    pub const REBUILD_VS_NAIVE_LOOP: &str = "rebuild_vs_naive_loop";
    pub const DURABLE_ATOMIC_VS_PIPELINED: &str = "durable_atomic_batch_vs_pipelined";
}

/// One figure's description: name, unit, and what it means.
#[derive(Debug, Clone, Copy)]
pub struct FigureInfo {
    pub name: &'static str,
    /// Part of the rebuild taken apart (`--no-stages` leaves these out).
    pub stage: bool,
    pub unit: &'static str,
    pub meaning: &'static str,
}

/// Every figure, in table order.
pub const FIGURES: &[FigureInfo] = &[
    FigureInfo {
        name: names::RAW_PUBLISH_MSGID,
        unit: "events/s",
        stage: false,
        meaning: "Baseline. async-nats alone publishes the events to a stream configured like \
                  Samla's log, each with Nats-Msg-Id, a window of outstanding acks, on a server \
                  with nats-server's default sync (every 2 min). The ceiling for any ingest path.",
    },
    FigureInfo {
        name: names::RAW_ORDERED_READ,
        unit: "events/s",
        stage: false,
        meaning: "Baseline. async-nats' ordered consumer reads the whole log (receive, stream \
                  sequence, payload; nothing else). The ceiling for any reader.",
    },
    FigureInfo {
        name: names::NAIVE_LOOP,
        unit: "events/s",
        stage: false,
        meaning: "Baseline. The loop one would write first: ordered consumer -> \
                  proto_events::decode_msgpack -> one sled insert per event (latest event per \
                  aggregate) + the checkpoint in the same sled batch, per batch of the \
                  projector's size; sled flushed every second like the projector.",
    },
    FigureInfo {
        name: names::RAW_DURABLE_PIPELINED,
        unit: "events/s",
        stage: false,
        meaning: "Baseline with sync_interval: always (every write synced, as in production): \
                  async-nats publishes with Nats-Msg-Id and the same ack window. What \
                  durability costs without batching.",
    },
    FigureInfo {
        name: names::RAW_DURABLE_ATOMIC_BATCH,
        unit: "events/s",
        stage: false,
        meaning: "Baseline with sync_interval: always: async-nats sends atomic batches of 1,000 \
                  (Nats-Batch-Id/-Sequence/-Commit, as samla-log's append_batch does), 16 in \
                  flight; the server syncs once per batch. The ceiling for group commit.",
    },
    FigureInfo {
        name: names::REBUILD,
        unit: "events/s",
        stage: false,
        meaning: "Samla. The projector process builds every read model from the whole log into \
                  an empty data folder: from spawn until it reports the head applied. Compared \
                  with the raw read (how close to the wire) and the naive loop (what the fold \
                  in memory and coalesced writes buy).",
    },
    FigureInfo {
        name: names::PROJECTOR_PEAK_RSS,
        unit: "MiB",
        stage: false,
        meaning: "Samla. The projector process' peak resident memory (VmHWM) during that \
                  rebuild, read from /proc just as it reached the head. Target: <= 200 MiB.",
    },
    FigureInfo {
        name: names::SLED_BYTES_PER_MILLION,
        unit: "bytes",
        stage: false,
        meaning: "Samla. Disk used by the projector's data folder after the rebuild (allocated \
                  blocks, like du), scaled to one million events.",
    },
    FigureInfo {
        name: names::STAGE_READ,
        unit: "ns/event",
        stage: true,
        meaning: "Rebuild taken apart (the engine's steps, in this process, one after another): \
                  reading with samla-log's bounded read, the projector's reader.",
    },
    FigureInfo {
        name: names::STAGE_PREPARE,
        unit: "ns/event",
        stage: true,
        meaning: "samla_projector::prepare: decode + validate (with the personal-data guard) + \
                  subject check.",
    },
    FigureInfo {
        name: names::STAGE_DECODE,
        unit: "ns/event",
        stage: true,
        meaning: "proto_events::decode_msgpack alone, on the same bytes (the decoding part of \
                  prepare).",
    },
    FigureInfo {
        name: names::STAGE_FETCH,
        unit: "ns/event",
        stage: true,
        meaning: "Reading back the events corrections and retractions supersede, as the engine \
                  does (one bounded read per sequence), averaged over all events.",
    },
    FigureInfo {
        name: names::STAGE_FETCH_DIRECT,
        unit: "ns/event",
        stage: true,
        meaning: "For comparison: the same fetches by direct get (by sequence), which the \
                  engine does not use.",
    },
    FigureInfo {
        name: names::STAGE_FOLD,
        unit: "ns/event",
        stage: true,
        meaning: "Folder::apply_batch: the pure fold in memory.",
    },
    FigureInfo {
        name: names::STAGE_ENCODE,
        unit: "ns/event",
        stage: true,
        meaning: "Folder::drain_changes: encoding the changed rows, id index and checkpoint.",
    },
    FigureInfo {
        name: names::STAGE_WRITE,
        unit: "ns/event",
        stage: true,
        meaning: "SledStore::apply (one atomic batch per batch) and the final flush.",
    },
    FigureInfo {
        name: names::SUPERSEDED_FETCHES,
        unit: "events",
        stage: true,
        meaning: "How many superseded events were fetched from the log during the rebuild.",
    },
    FigureInfo {
        name: names::ROWS_WRITTEN,
        unit: "keys",
        stage: true,
        meaning: "Keys written to sled per 1,000 events (rows after coalescing, id-index \
                  chunks, checkpoints).",
    },
    FigureInfo {
        name: names::BYTES_WRITTEN,
        unit: "bytes",
        stage: true,
        meaning: "Bytes (keys + values) handed to sled per event: what coalescing saves and \
                  what sled's size grows from.",
    },
];

/// The ratios and what they compare (numerator over denominator, both medians).
pub const RATIOS: &[(&str, &str, &str, &str)] = &[
    (
        names::REBUILD_VS_RAW_READ,
        names::REBUILD,
        names::RAW_ORDERED_READ,
        "rebuild / raw ordered read; heading for >= 0.5",
    ),
    (
        names::REBUILD_VS_NAIVE_LOOP,
        names::REBUILD,
        names::NAIVE_LOOP,
        "rebuild / naive loop; target >= 2",
    ),
    (
        names::DURABLE_ATOMIC_VS_PIPELINED,
        names::RAW_DURABLE_ATOMIC_BATCH,
        names::RAW_DURABLE_PIPELINED,
        "durable atomic batches / durable pipelined publish: what group commit can gain",
    ),
];

/// Measurements that need code that does not exist yet; named in the table's footer so
/// nobody mistakes their absence for an oversight. They are never faked.
pub const NOT_MEASURED_YET: &[&str] = &[
    "NATS ingest, HTTP ingest and durable ingest through group commit (need the ingest service)",
    "replay to a moment (needs replay)",
];

/// One figure over the repeats.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figure {
    pub median: f64,
    pub min: f64,
    pub max: f64,
    pub unit: String,
    /// How many events each sample covered.
    pub events: u64,
    /// Every sample, in the order measured.
    pub samples: Vec<f64>,
}

impl Figure {
    /// Median (the mean of the middle two for an even count), min and max of `samples`.
    /// `None` when there are no samples.
    pub fn from_samples(samples: Vec<f64>, unit: &str, events: u64) -> Option<Figure> {
        let mut sorted = samples.clone();
        sorted.sort_by(f64::total_cmp);
        let count = sorted.len();
        let median = match count {
            0 => return None,
            _ if count % 2 == 1 => sorted[count / 2],
            _ => (sorted[count / 2 - 1] + sorted[count / 2]) / 2.0,
        };
        Some(Figure {
            median,
            min: sorted[0],
            max: sorted[count - 1],
            unit: unit.to_owned(),
            events,
            samples,
        })
    }
}

/// What was measured on: the generated crisis and the sizes used.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Workload {
    /// Events in the log (publish, read, naive loop, rebuild).
    pub events: u64,
    /// Events per sample in the two `sync_interval: always` figures (fewer: they are slow).
    pub durable_events: u64,
    pub repeat: u32,
    pub seed: u64,
    /// MessagePack payload sizes of the generated events.
    pub mean_event_bytes: u64,
    pub min_event_bytes: u64,
    pub max_event_bytes: u64,
    /// How many distinct event kinds the log holds.
    pub kinds: u64,
    /// Outstanding acks allowed in the pipelined publishes.
    pub publish_window: u64,
    /// Events per projector / naive-loop batch.
    pub batch_max: u64,
    /// Which program ran as the projector process.
    pub projector: String,
}

/// What the rebuild wrote into one table (from the rebuild taken apart).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TableWrites {
    pub keys_per_1000_events: f64,
    pub bytes_per_event: f64,
}

/// The outcome of one run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// `nats-server`, `samla`, `samla-commit` (checked out at build time), `rustc`.
    pub versions: BTreeMap<String, String>,
    pub cores: usize,
    pub workload: Workload,
    pub results: BTreeMap<String, Figure>,
    pub ratios: BTreeMap<String, f64>,
    /// Writes per table during the rebuild taken apart (its last sample); empty with
    /// `--no-stages`.
    pub writes_by_table: BTreeMap<String, TableWrites>,
}

impl Report {
    /// Fills `ratios` from the medians in `results` (skipping any whose inputs are missing
    /// or zero).
    pub(crate) fn compute_ratios(&mut self) {
        for (name, numerator, denominator, _) in RATIOS {
            let (Some(top), Some(bottom)) =
                (self.results.get(*numerator), self.results.get(*denominator))
            else {
                continue;
            };
            if bottom.median > 0.0 {
                self.ratios
                    .insert((*name).to_owned(), round(top.median / bottom.median, 3));
            }
        }
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self)
            .unwrap_or_else(|error| format!("{{\"error\": \"{error}\"}}"))
    }

    /// The table for people.
    pub fn to_table(&self) -> String {
        let mut out = String::new();
        let versions: Vec<String> = self
            .versions
            .iter()
            .map(|(name, version)| format!("{name} {version}"))
            .collect();
        let workload = &self.workload;
        let _ = writeln!(
            out,
            "Samla benchmark — {}; {} cores",
            versions.join(", "),
            self.cores
        );
        let _ = writeln!(
            out,
            "Workload: {} events of the generated crisis ({} kinds, MessagePack {}..{} bytes, mean {}); \
             {} per durable sample; {} repeats; ack window {}; batches of {}; projector: {}",
            workload.events,
            workload.kinds,
            workload.min_event_bytes,
            workload.max_event_bytes,
            workload.mean_event_bytes,
            workload.durable_events,
            workload.repeat,
            workload.publish_window,
            workload.batch_max,
            workload.projector,
        );
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{:<40} {:>14} {:>14} {:>14}  unit",
            "figure", "median", "min", "max"
        );
        let mut stage_header = false;
        for info in FIGURES {
            if let Some(figure) = self.results.get(info.name) {
                if info.stage && !stage_header {
                    stage_header = true;
                    let _ = writeln!(
                        out,
                        "\nrebuild taken apart (in this process, the engine's steps one after another):"
                    );
                }
                let _ = writeln!(
                    out,
                    "{:<40} {:>14} {:>14} {:>14}  {}",
                    info.name,
                    show(figure.median),
                    show(figure.min),
                    show(figure.max),
                    figure.unit
                );
            }
        }
        if !self.writes_by_table.is_empty() {
            let _ = writeln!(out, "\nwrites by table during the rebuild:");
            let _ = writeln!(
                out,
                "{:<40} {:>14} {:>14}",
                "table", "keys/1000 ev", "bytes/event"
            );
            for (table, writes) in &self.writes_by_table {
                let _ = writeln!(
                    out,
                    "{table:<40} {:>14.1} {:>14.1}",
                    writes.keys_per_1000_events, writes.bytes_per_event
                );
            }
        }
        let _ = writeln!(out);
        for (name, _, _, meaning) in RATIOS {
            if let Some(ratio) = self.ratios.get(*name) {
                let _ = writeln!(out, "{name:<40} {ratio:>14.3}  ({meaning})");
            }
        }
        let _ = writeln!(out);
        let _ = writeln!(out, "Not measured yet: {}.", NOT_MEASURED_YET.join("; "));
        out
    }
}

/// Rounds to `digits` decimals (for ratios, so the JSON stays readable).
pub(crate) fn round(value: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (value * scale).round() / scale
}

/// A figure with thousands separators and no false precision.
fn show(value: f64) -> String {
    if value.abs() >= 100.0 {
        let whole = value.round() as i64;
        let digits = whole.unsigned_abs().to_string();
        let mut grouped = String::new();
        for (index, digit) in digits.chars().enumerate() {
            if index > 0 && (digits.len() - index).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(digit);
        }
        if whole < 0 {
            grouped.insert(0, '-');
        }
        grouped
    } else {
        format!("{value:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_min_max() {
        let figure = Figure::from_samples(vec![3.0, 1.0, 2.0], "x", 1).unwrap();
        assert_eq!((figure.median, figure.min, figure.max), (2.0, 1.0, 3.0));
        let figure = Figure::from_samples(vec![4.0, 1.0, 2.0, 3.0], "x", 1).unwrap();
        assert_eq!(figure.median, 2.5);
        assert!(Figure::from_samples(vec![], "x", 1).is_none());
    }

    #[test]
    fn numbers_are_grouped() {
        assert_eq!(show(1_234_567.4), "1,234,567");
        assert_eq!(show(100.0), "100");
        assert_eq!(show(42.25), "42.2");
    }
}
