//! Two reports side by side, so a change that makes Samla slower or bigger is seen before
//! it lands: `samla bench compare BEFORE AFTER` on two saved `--json` reports, or
//! `--compare BEFORE` on a run (the comparison is added to its table and JSON).
//!
//! What is judged, and how:
//! - **ratios with a target** (Samla against the baselines of the same run): higher is
//!   better. They are what to compare across runs and hours, since the machine's speed
//!   moves both sides of a ratio alike.
//! - **costs** (milliseconds, MiB, bytes, time or keys or reads per event): lower is
//!   better. Their absolute values depend on the machine, so compare runs on the same one.
//! - **throughputs** (`events/s`), **baselines** and ratios without a target are shown with
//!   their change but not judged: they say how fast the machine and the server were, and
//!   the ratios above already carry what Samla made of it.
//!
//! A judged change is `worse` or `better` beyond the tolerance (10 % by default: the spread
//! between identical runs on a quiet machine), else `same`. A report written by an older
//! Samla reads as long as it has `results` (and `ratios`); names only one side holds are
//! listed, not judged. Differing workloads (events, repeats, sizes) are named first: their
//! figures are not comparable.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::BenchError;
use crate::figures::{FIGURES, RATIOS, names};
use crate::report::Report;

/// The default tolerance, in percent.
pub const DEFAULT_TOLERANCE_PERCENT: f64 = 10.0;

/// What a saved report holds that a comparison needs (older reports lack some fields).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SavedReport {
    #[serde(default)]
    pub versions: BTreeMap<String, String>,
    #[serde(default)]
    pub workload: BTreeMap<String, serde_json::Value>,
    pub results: BTreeMap<String, SavedFigure>,
    #[serde(default)]
    pub ratios: BTreeMap<String, f64>,
}

/// A figure's median and unit.
#[derive(Debug, Clone, Deserialize)]
pub struct SavedFigure {
    pub median: f64,
    #[serde(default)]
    pub unit: String,
}

impl SavedReport {
    /// Reads a report written by `samla bench --json` (or `--json-out`).
    pub fn load(path: &Path) -> Result<SavedReport, BenchError> {
        let text = std::fs::read_to_string(path).map_err(|error| {
            BenchError::InvalidOptions(format!(
                "cannot read the report to compare with, {}: {error}",
                path.display()
            ))
        })?;
        serde_json::from_str(&text).map_err(|error| {
            BenchError::InvalidOptions(format!(
                "{} is not a report of `samla bench --json`: {error}",
                path.display()
            ))
        })
    }

    /// The same view of a report of this run.
    pub fn of(report: &Report) -> SavedReport {
        serde_json::to_value(report)
            .and_then(serde_json::from_value)
            .unwrap_or_default()
    }

    /// `samla-commit abc123, 100000 events`: which run this was, in a few words.
    fn label(&self) -> String {
        let commit = ["samla-commit", "samla"]
            .iter()
            .find_map(|name| Some(format!("{name} {}", self.versions.get(*name)?)))
            .unwrap_or_else(|| "an unknown version".to_owned());
        match self.workload.get("events") {
            Some(events) => format!("{commit}, {events} events"),
            None => commit,
        }
    }
}

/// Which way a figure should move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Better {
    Higher,
    Lower,
    /// Shown, not judged.
    Neither,
}

/// The outcome for one name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Better,
    Worse,
    Same,
    /// A throughput, a baseline or a ratio without a target: how the machine ran.
    Context,
}

impl Verdict {
    fn word(self) -> &'static str {
        match self {
            Verdict::Better => "better",
            Verdict::Worse => "WORSE",
            Verdict::Same => "same",
            Verdict::Context => "(context)",
        }
    }
}

/// One ratio or figure in both reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub name: String,
    /// `ratio`, or the figure's unit.
    pub unit: String,
    pub before: f64,
    pub after: f64,
    /// `(after - before) / before`; `None` when `before` is 0.
    pub change: Option<f64>,
    pub verdict: Verdict,
}

/// Two reports compared.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// Which runs: `samla-commit …, N events`.
    pub before: String,
    pub after: String,
    pub tolerance_percent: f64,
    /// `events: 100000 → 1000000`, for every workload setting that differs.
    pub workload_differences: Vec<String>,
    /// Ratios first (in the catalogue's order), then figures.
    pub changes: Vec<Change>,
    /// Names only one report holds (a group measured in one run only, a figure added or
    /// renamed since).
    pub only_before: Vec<String>,
    pub only_after: Vec<String>,
}

impl Comparison {
    /// Compares `after` with `before`; a judged change beyond `tolerance_percent` is
    /// better or worse.
    pub fn between(before: &SavedReport, after: &SavedReport, tolerance_percent: f64) -> Self {
        let tolerance = tolerance_percent / 100.0;
        let mut changes = Vec::new();
        for name in ordered(RATIOS.iter().map(|ratio| ratio.name), &before.ratios) {
            if let (Some(&was), Some(&is)) = (before.ratios.get(&name), after.ratios.get(&name)) {
                changes.push(judge(
                    &name,
                    "ratio",
                    was,
                    is,
                    ratio_better(&name),
                    tolerance,
                ));
            }
        }
        for name in ordered(FIGURES.iter().map(|figure| figure.name), &before.results) {
            if let (Some(was), Some(is)) = (before.results.get(&name), after.results.get(&name)) {
                let unit = if is.unit.is_empty() {
                    &was.unit
                } else {
                    &is.unit
                };
                let better = figure_better(&name, unit);
                changes.push(judge(&name, unit, was.median, is.median, better, tolerance));
            }
        }
        let only = |of: &SavedReport, other: &SavedReport| -> Vec<String> {
            let ratios = of
                .ratios
                .keys()
                .filter(|name| !other.ratios.contains_key(*name));
            let results = of
                .results
                .keys()
                .filter(|name| !other.results.contains_key(*name));
            ratios.chain(results).cloned().collect()
        };
        let workload_differences = before
            .workload
            .iter()
            .filter(|(setting, _)| setting.as_str() != "projector")
            .filter_map(|(setting, was)| {
                let is = after.workload.get(setting)?;
                (is != was).then(|| format!("{setting}: {was} → {is}"))
            })
            .collect();
        Comparison {
            before: before.label(),
            after: after.label(),
            tolerance_percent,
            workload_differences,
            changes,
            only_before: only(before, after),
            only_after: only(after, before),
        }
    }

    /// The changes judged worse.
    pub fn worse(&self) -> impl Iterator<Item = &Change> {
        self.changes
            .iter()
            .filter(|change| change.verdict == Verdict::Worse)
    }

    /// `2 worse beyond 10 %: rebuild_vs_naive_loop 0.648 → 0.5 (-22.8 %), …`, or `None`.
    pub fn worse_summary(&self) -> Option<String> {
        let worse: Vec<String> = self
            .worse()
            .map(|change| {
                format!(
                    "{} {} → {} ({})",
                    change.name,
                    number(change.before),
                    number(change.after),
                    percent(change.change)
                )
            })
            .collect();
        (!worse.is_empty()).then(|| {
            format!(
                "{} worse than {} beyond {} %: {}",
                worse.len(),
                self.before,
                self.tolerance_percent,
                worse.join(", ")
            )
        })
    }

    /// The comparison for people.
    pub fn to_table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Compared with {} (this: {}); better or worse beyond ±{} %, throughputs and \
             baselines shown for context",
            self.before, self.after, self.tolerance_percent
        );
        if !self.workload_differences.is_empty() {
            let _ = writeln!(
                out,
                "The workloads differ, so the figures are not comparable: {}",
                self.workload_differences.join("; ")
            );
        }
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{:<40} {:>14} {:>14} {:>9}  {:<9} verdict",
            "ratio or figure", "before", "after", "change", "unit"
        );
        for change in &self.changes {
            let _ = writeln!(
                out,
                "{:<40} {:>14} {:>14} {:>9}  {:<9} {}",
                change.name,
                number(change.before),
                number(change.after),
                percent(change.change),
                change.unit,
                change.verdict.word()
            );
        }
        if !self.only_before.is_empty() {
            let _ = writeln!(out, "\nonly before: {}", self.only_before.join(", "));
        }
        if !self.only_after.is_empty() {
            let _ = writeln!(out, "\nonly after: {}", self.only_after.join(", "));
        }
        let _ = writeln!(out);
        match self.worse_summary() {
            Some(summary) => {
                let _ = writeln!(out, "{summary}");
            }
            None => {
                let _ = writeln!(out, "Nothing is worse beyond {} %.", self.tolerance_percent);
            }
        }
        out
    }
}

/// The catalogue's names first, in its order, then any other name `report` holds (a
/// figure of another version of the bench), in name order.
fn ordered<'a, V>(
    catalogue: impl Iterator<Item = &'a str>,
    report: &BTreeMap<String, V>,
) -> Vec<String> {
    let mut names: Vec<String> = catalogue.map(str::to_owned).collect();
    let known = names.clone();
    names.extend(report.keys().filter(|name| !known.contains(name)).cloned());
    names
}

/// Ratios with a target are Samla against a baseline; the others compare two baselines.
fn ratio_better(name: &str) -> Better {
    match RATIOS.iter().find(|ratio| ratio.name == name) {
        Some(ratio) if ratio.target.is_some() => Better::Higher,
        _ => Better::Neither,
    }
}

/// The baselines (no Samla code) say how the machine and the server ran.
const BASELINES: &[&str] = &[
    names::RAW_PUBLISH_MSGID,
    names::RAW_ATOMIC_BATCH,
    names::RAW_ATOMIC_SMALL_BATCH,
    names::RAW_ORDERED_READ,
    names::NAIVE_LOOP,
    names::NAIVE_LOOP_CPU,
    names::RAW_DURABLE_PIPELINED,
    names::RAW_DURABLE_ATOMIC_BATCH,
];

fn figure_better(name: &str, unit: &str) -> Better {
    if BASELINES.contains(&name) || unit.ends_with("/s") {
        Better::Neither
    } else {
        Better::Lower
    }
}

fn judge(
    name: &str,
    unit: &str,
    before: f64,
    after: f64,
    better: Better,
    tolerance: f64,
) -> Change {
    let change = (before != 0.0).then(|| (after - before) / before.abs());
    // From zero, any rise is beyond every tolerance.
    let moved = change.unwrap_or(if after > before {
        f64::INFINITY
    } else if after < before {
        f64::NEG_INFINITY
    } else {
        0.0
    });
    let verdict = match better {
        Better::Neither => Verdict::Context,
        _ if moved.abs() <= tolerance => Verdict::Same,
        Better::Higher if moved > 0.0 => Verdict::Better,
        Better::Lower if moved < 0.0 => Verdict::Better,
        _ => Verdict::Worse,
    };
    Change {
        name: name.to_owned(),
        unit: unit.to_owned(),
        before,
        after,
        change: change.map(|change| crate::report::round(change, 4)),
        verdict,
    }
}

fn number(value: f64) -> String {
    if value.abs() >= 100.0 {
        crate::report::show(value)
    } else {
        format!("{}", crate::report::round(value, 3))
    }
}

fn percent(change: Option<f64>) -> String {
    match change {
        Some(change) => format!("{:+.1} %", change * 100.0),
        None => "from 0".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(ratios: &[(&str, f64)], results: &[(&str, f64, &str)]) -> SavedReport {
        SavedReport {
            versions: BTreeMap::from([("samla-commit".to_owned(), "abc".to_owned())]),
            workload: BTreeMap::from([("events".to_owned(), 1000.into())]),
            results: results
                .iter()
                .map(|&(name, median, unit)| {
                    let unit = unit.to_owned();
                    (name.to_owned(), SavedFigure { median, unit })
                })
                .collect(),
            ratios: ratios
                .iter()
                .map(|&(name, value)| (name.to_owned(), value))
                .collect(),
        }
    }

    fn verdict_of(comparison: &Comparison, name: &str) -> Verdict {
        comparison
            .changes
            .iter()
            .find(|change| change.name == name)
            .unwrap_or_else(|| panic!("{name} compared"))
            .verdict
    }

    #[test]
    fn a_ratio_below_the_tolerance_is_worse_and_within_it_the_same() {
        let before = report(
            &[
                (names::REBUILD_VS_NAIVE_LOOP, 0.60),
                (names::NATS_INGEST_VS_RAW_PUBLISH, 0.80),
                (names::HTTP_INGEST_VS_RAW_PUBLISH, 0.50),
                (names::DURABLE_ATOMIC_VS_PIPELINED, 10.0),
            ],
            &[],
        );
        let after = report(
            &[
                (names::REBUILD_VS_NAIVE_LOOP, 0.50),
                (names::NATS_INGEST_VS_RAW_PUBLISH, 0.75),
                (names::HTTP_INGEST_VS_RAW_PUBLISH, 0.60),
                (names::DURABLE_ATOMIC_VS_PIPELINED, 5.0),
            ],
            &[],
        );
        let comparison = Comparison::between(&before, &after, 10.0);
        assert_eq!(
            verdict_of(&comparison, names::REBUILD_VS_NAIVE_LOOP),
            Verdict::Worse
        );
        assert_eq!(
            verdict_of(&comparison, names::NATS_INGEST_VS_RAW_PUBLISH),
            Verdict::Same
        );
        assert_eq!(
            verdict_of(&comparison, names::HTTP_INGEST_VS_RAW_PUBLISH),
            Verdict::Better
        );
        // Two baselines against each other: the server's business, not Samla's.
        assert_eq!(
            verdict_of(&comparison, names::DURABLE_ATOMIC_VS_PIPELINED),
            Verdict::Context
        );
        assert_eq!(comparison.changes[0].change, Some(-0.1667));
        let summary = comparison.worse_summary().expect("one worse");
        assert!(summary.starts_with("1 worse than samla-commit abc, 1000 events beyond 10 %"));
        assert!(
            summary.contains("rebuild_vs_naive_loop 0.6 → 0.5 (-16.7 %)"),
            "{summary}"
        );
        // A wider tolerance lets it pass.
        let lenient = Comparison::between(&before, &after, 20.0);
        assert_eq!(lenient.worse().count(), 0);
        assert_eq!(lenient.worse_summary(), None);
    }

    #[test]
    fn costs_should_fall_and_throughputs_and_baselines_are_context() {
        let before = report(
            &[],
            &[
                (names::PROJECTOR_PEAK_RSS, 200.0, "MiB"),
                (names::LIVE_LATENCY_P99, 4.0, "ms"),
                (names::REBUILD_PROJECTOR_CPU, 50.0, "µs/event"),
                (names::REBUILD, 20_000.0, "events/s"),
                (names::NAIVE_LOOP_CPU, 20.0, "µs/event"),
                (names::ROWS_READ, 0.0, "reads"),
            ],
        );
        let after = report(
            &[],
            &[
                (names::PROJECTOR_PEAK_RSS, 250.0, "MiB"),
                (names::LIVE_LATENCY_P99, 3.0, "ms"),
                (names::REBUILD_PROJECTOR_CPU, 52.0, "µs/event"),
                (names::REBUILD, 10_000.0, "events/s"),
                (names::NAIVE_LOOP_CPU, 40.0, "µs/event"),
                (names::ROWS_READ, 12.0, "reads"),
            ],
        );
        let comparison = Comparison::between(&before, &after, 10.0);
        assert_eq!(
            verdict_of(&comparison, names::PROJECTOR_PEAK_RSS),
            Verdict::Worse
        );
        assert_eq!(
            verdict_of(&comparison, names::LIVE_LATENCY_P99),
            Verdict::Better
        );
        assert_eq!(
            verdict_of(&comparison, names::REBUILD_PROJECTOR_CPU),
            Verdict::Same
        );
        assert_eq!(verdict_of(&comparison, names::REBUILD), Verdict::Context);
        assert_eq!(
            verdict_of(&comparison, names::NAIVE_LOOP_CPU),
            Verdict::Context
        );
        // From nothing to something: worse, whatever the tolerance.
        assert_eq!(verdict_of(&comparison, names::ROWS_READ), Verdict::Worse);
        let table = comparison.to_table();
        assert!(table.contains("from 0"), "{table}");
        assert!(table.contains("2 worse than"), "{table}");
    }

    #[test]
    fn names_in_one_report_only_and_differing_workloads_are_named() {
        let mut before = report(
            &[(names::REBUILD_VS_NAIVE_LOOP, 0.6)],
            &[("a_figure_since_renamed", 1.0, "ms")],
        );
        let mut after = report(
            &[(names::REBUILD_VS_NAIVE_LOOP, 0.6)],
            &[(names::LIVE_LATENCY_P99, 3.0, "ms")],
        );
        after.workload.insert("events".to_owned(), 100_000.into());
        for report in [&mut before, &mut after] {
            let path = format!("/somewhere/{}", report.results.len());
            report.workload.insert("projector".to_owned(), path.into());
        }
        let comparison = Comparison::between(&before, &after, 10.0);
        assert_eq!(comparison.changes.len(), 1);
        assert_eq!(comparison.only_before, ["a_figure_since_renamed"]);
        assert_eq!(comparison.only_after, [names::LIVE_LATENCY_P99]);
        // Where the projector ran from is not the workload.
        assert_eq!(comparison.workload_differences, ["events: 1000 → 100000"]);
        assert!(
            comparison
                .to_table()
                .contains("not comparable: events: 1000 → 100000")
        );
    }

    #[test]
    fn an_unknown_figure_is_compared_by_its_unit() {
        let before = report(&[], &[("a_new_latency_ms", 10.0, "ms")]);
        let after = report(&[], &[("a_new_latency_ms", 20.0, "ms")]);
        let comparison = Comparison::between(&before, &after, 10.0);
        assert_eq!(verdict_of(&comparison, "a_new_latency_ms"), Verdict::Worse);
    }

    #[test]
    fn a_report_that_is_not_one_is_refused_naming_the_file() {
        let folder = tempfile::tempdir().expect("temp dir");
        let path = folder.path().join("bench.json");
        std::fs::write(&path, "{\"ratios\": {}}").expect("write");
        let error = SavedReport::load(&path).expect_err("no results");
        let message = error.to_string();
        assert!(message.contains("bench.json is not a report of `samla bench --json`"));
        assert!(message.contains("missing field `results`"), "{message}");
        let missing = SavedReport::load(&folder.path().join("none.json")).expect_err("no file");
        assert!(
            missing
                .to_string()
                .contains("cannot read the report to compare with")
        );
    }
}
