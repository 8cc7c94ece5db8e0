//! What a run produces: figures (median, min and max over the repeats), ratios between
//! them, the versions measured, and the two renderings — a table for people and JSON for
//! scripts (`{"versions", "cores", "workload", "results", "ratios"}`).
//!
//! The catalogue — every figure's name, unit, meaning and target, and the ratios — is in
//! `figures.rs` and re-exported here ([`FIGURES`], [`RATIOS`], [`names`]); the table prints
//! each target beside its figure and says whether it is met. A figure that was not measured
//! (its group not selected) is absent from both renderings, never a made-up number.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

pub use crate::compare::Comparison;
pub use crate::figures::{FIGURES, FigureInfo, RATIOS, RatioInfo, Target, names};

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
    /// The projector's budget of rows kept in memory after a write.
    pub resident_rows: u64,
    /// While behind the head, the most events the projector folds between two writes.
    pub write_every: u64,
    /// While behind the head, the most rows the projector changes between two writes.
    pub write_rows: u64,
    /// Which program ran as the projector process.
    pub projector: String,
    /// The groups measured (see `--only`, `--skip`).
    pub groups: Vec<String>,
    /// Events per batched ingest sample (NATS, HTTP, durable) and per request.
    pub ingest_events: u64,
    pub ingest_batch: u64,
    /// Events per single-event ingest sample (HTTP, durable).
    pub single_events: u64,
    /// Closed-loop clients sending batches, and single events.
    pub batch_clients: u64,
    pub single_clients: u64,
    /// The live-latency load: events per second, and events per sample.
    pub live_rate: u64,
    pub live_events: u64,
    /// Queries at random moments per sense and sample (their p50, p95 and max are the
    /// as-of figures), after one first query on a fresh replayer.
    pub as_of_queries: u64,
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
    /// MiB the fold state held at the end of the rebuild taken apart (its last sample), by
    /// read model; empty with `--no-stages` or without jemalloc.
    pub memory_by_model: BTreeMap<String, f64>,
    /// This run against an earlier report (`--compare`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comparison: Option<Comparison>,
}

impl Report {
    /// Fills `ratios` from the medians in `results` (skipping any whose inputs are missing
    /// or zero).
    pub(crate) fn compute_ratios(&mut self) {
        for ratio in RATIOS {
            let (Some(top), Some(bottom)) = (
                self.results.get(ratio.numerator),
                self.results.get(ratio.denominator),
            ) else {
                continue;
            };
            if bottom.median > 0.0 {
                self.ratios
                    .insert(ratio.name.to_owned(), round(top.median / bottom.median, 3));
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
             {} per durable sample; {} repeats; ack window {}; batches of {}; projector: {} \
             (resident rows {}, a write every {} events or {} changed rows behind the head)",
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
            workload.resident_rows,
            workload.write_every,
            workload.write_rows,
        );
        let _ = writeln!(
            out,
            "Ingest: {} events per batched sample in requests of {} ({} clients), {} per \
             single-event sample ({} clients); live: {} events/s, {} events per sample; \
             groups: {}",
            workload.ingest_events,
            workload.ingest_batch,
            workload.batch_clients,
            workload.single_events,
            workload.single_clients,
            workload.live_rate,
            workload.live_events,
            workload.groups.join(", "),
        );
        if workload.groups.iter().any(|group| group == "as-of") {
            let _ = writeln!(
                out,
                "As-of: per sample and sense, one first query on a fresh replayer at the end of \
                 the log, then {} queries at random moments (seed {}); as_of_*_p50/p95/max are \
                 over those {} queries, each figure's median/min/max over the {} samples",
                workload.as_of_queries, workload.seed, workload.as_of_queries, workload.repeat,
            );
        }
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{:<40} {:>14} {:>14} {:>14}  {:<9} target",
            "figure", "median", "min", "max", "unit"
        );
        let row = |out: &mut String, info: &FigureInfo| {
            if let Some(figure) = self.results.get(info.name) {
                let verdict = info
                    .target
                    .map(|target| target.verdict(figure.median))
                    .unwrap_or_default();
                let line = format!(
                    "{:<40} {:>14} {:>14} {:>14}  {:<9} {verdict}",
                    info.name,
                    show(figure.median),
                    show(figure.min),
                    show(figure.max),
                    figure.unit
                );
                let _ = writeln!(out, "{}", line.trim_end());
            }
        };
        for info in FIGURES.iter().filter(|info| !info.stage) {
            row(&mut out, info);
        }
        if FIGURES
            .iter()
            .any(|info| info.stage && self.results.contains_key(info.name))
        {
            let _ = writeln!(
                out,
                "\nrebuild taken apart (in this process, the engine's steps one after another):"
            );
            for info in FIGURES.iter().filter(|info| info.stage) {
                row(&mut out, info);
            }
        }
        if !self.memory_by_model.is_empty() {
            let _ = writeln!(
                out,
                "\nfold state in memory by model at the end of the log (in this process):"
            );
            let _ = writeln!(out, "{:<40} {:>14}", "model", "MiB");
            let mut models: Vec<_> = self.memory_by_model.iter().collect();
            models.sort_by(|a, b| b.1.total_cmp(a.1));
            for (model, mib) in models {
                let _ = writeln!(out, "{model:<40} {mib:>14.1}");
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
        for ratio in RATIOS {
            let Some(value) = self.ratios.get(ratio.name) else {
                continue;
            };
            let verdict = ratio
                .target
                .map_or_else(|| "no target".to_owned(), |target| target.verdict(*value));
            let _ = writeln!(
                out,
                "{:<40} {value:>14.3}  {verdict:<26} {}",
                ratio.name, ratio.meaning
            );
        }
        if let Some(comparison) = &self.comparison {
            let _ = writeln!(out);
            out.push_str(&comparison.to_table());
        }
        out
    }
}

/// The nearest-rank percentile of sorted values (0 for none).
pub(crate) fn percentile(sorted: &[f64], quantile: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (quantile * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Rounds to `digits` decimals (for ratios, so the JSON stays readable).
pub(crate) fn round(value: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (value * scale).round() / scale
}

/// A figure with thousands separators and no false precision.
pub(crate) fn show(value: f64) -> String {
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
    fn nearest_rank_percentiles() {
        let values: Vec<f64> = (1..=1000).map(f64::from).collect();
        assert_eq!(percentile(&values, 0.5), 500.0);
        assert_eq!(percentile(&values, 0.99), 990.0);
        assert_eq!(percentile(&values, 0.999), 999.0);
        assert_eq!(percentile(&[3.0], 0.999), 3.0);
        let forty: Vec<f64> = (1..=40).map(f64::from).collect();
        assert_eq!(percentile(&forty, 0.95), 38.0);
        assert_eq!(percentile(&[], 0.5), 0.0);
    }

    #[test]
    fn targets_say_met_or_missed() {
        assert_eq!(Target::AtLeast(2.0).verdict(2.5), "target >= 2: met");
        assert_eq!(Target::AtMost(10.0).verdict(12.0), "target <= 10: MISSED");
        assert_eq!(
            Target::HeadingFor(0.5).verdict(0.3),
            "heading for 0.5: not yet"
        );
    }

    #[test]
    fn numbers_are_grouped() {
        assert_eq!(show(1_234_567.4), "1,234,567");
        assert_eq!(show(100.0), "100");
        assert_eq!(show(42.25), "42.2");
    }
}
