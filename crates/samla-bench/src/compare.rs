//! Two reports side by side, so a change that makes Samla slower or bigger is seen before
//! it lands: `samla bench compare BEFORE AFTER` on two saved `--json` reports, or
//! `--compare BEFORE` on a run (the comparison is added to its table and JSON).
//!
//! What is judged, and how:
//! - **ratios with a target** (Samla against the baselines of the same run): higher is
//!   better. They are what to compare across runs and hours, since the machine's speed
//!   moves both sides of a ratio alike.
//! - **costs** (MiB, bytes, keys or reads per event; milliseconds, time per event): lower
//!   is better. Times depend on the machine's speed, which drifts: two identical quick runs
//!   here differed by 32 % in the naive loop's CPU per event (a baseline, no Samla code)
//!   and Samla's CPU per event moved with it, while the as-of and live figures measured
//!   later in the run did not. So each time also shows its change at the naive loop's
//!   speed, as a hint, and the verdict stays on the figure itself: when times moved with
//!   the machine, run both again.
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
    /// For a time, when both runs have the naive loop: its change at the naive loop's
    /// speed (a hint whether the machine moved it; the verdict is on `change`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub for_the_machine: Option<f64>,
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
    /// How much more CPU the naive loop took per event in `after` than in `before` (0.32:
    /// the machine ran 32 % slower while it ran).
    pub machine_slowdown: Option<f64>,
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
        let machine_slowdown = match (
            before.results.get(names::NAIVE_LOOP_CPU),
            after.results.get(names::NAIVE_LOOP_CPU),
        ) {
            (Some(was), Some(is)) if was.median > 0.0 && is.median > 0.0 => {
                Some(crate::report::round(is.median / was.median - 1.0, 4))
            }
            _ => None,
        };
        let mut changes = Vec::new();
        for name in ordered(RATIOS.iter().map(|ratio| ratio.name), &before.ratios) {
            if let (Some(&was), Some(&is)) = (before.ratios.get(&name), after.ratios.get(&name)) {
                let better = ratio_better(&name);
                changes.push(judge(&name, "ratio", was, is, better, tolerance));
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
                let mut change = judge(&name, unit, was.median, is.median, better, tolerance);
                if is_time(unit) && better == Better::Lower && was.median > 0.0 {
                    change.for_the_machine = machine_slowdown.map(|slowdown| {
                        crate::report::round(is.median / (1.0 + slowdown) / was.median - 1.0, 4)
                    });
                }
                changes.push(change);
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
            machine_slowdown,
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

    /// `--fail-on-worse`: the error naming what got worse, if anything did.
    pub fn fail_if_worse(&self, fail_on_worse: bool) -> Result<(), BenchError> {
        match self.worse_summary() {
            Some(summary) if fail_on_worse => Err(BenchError::Worse(summary)),
            _ => Ok(()),
        }
    }

    /// `2 worse beyond 10 %: rebuild_vs_naive_loop 0.648 → 0.5 (-22.8 %), …`, or `None`.
    pub fn worse_summary(&self) -> Option<String> {
        let worse: Vec<String> = self
            .worse()
            .map(|change| {
                let machine = change
                    .for_the_machine
                    .map(|moved| format!(", {} for the machine", percent(Some(moved))))
                    .unwrap_or_default();
                format!(
                    "{} {} → {} ({}{machine})",
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
        if let Some(slowdown) = self.machine_slowdown {
            let _ = writeln!(
                out,
                "The naive loop's CPU per event (a baseline, no Samla code) moved {} between \
                 the runs; beside each time, its change at the naive loop's speed. Times that \
                 moved with the machine say little: run both again",
                percent(Some(slowdown))
            );
        }
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
                change.verdict.word(),
            );
            if let Some(moved) = change.for_the_machine {
                out.truncate(out.trim_end().len());
                let _ = writeln!(out, " ({} for the machine)", percent(Some(moved)));
            }
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
    names::DECODE_LOOP_CPU,
    names::DECODE_LOOP_SERVER_CPU,
    names::DECODE_CEILING,
    names::RAW_DURABLE_PIPELINED,
    names::RAW_DURABLE_ATOMIC_BATCH,
    names::RAW_DURABLE_CLIENT_BATCHES,
];

fn figure_better(name: &str, unit: &str) -> Better {
    if BASELINES.contains(&name) || unit.ends_with("/s") {
        Better::Neither
    } else {
        Better::Lower
    }
}

/// Milliseconds and time per event: they follow the machine's speed.
fn is_time(unit: &str) -> bool {
    matches!(unit, "ms" | "µs/event" | "ns/event")
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
    let moved = change.unwrap_or(match after.total_cmp(&before) {
        std::cmp::Ordering::Greater => f64::INFINITY,
        std::cmp::Ordering::Less => f64::NEG_INFINITY,
        std::cmp::Ordering::Equal => 0.0,
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
        for_the_machine: None,
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
                (names::BYTES_WRITTEN, 150.0, "bytes"),
                (names::LIVE_LATENCY_P99, 4.0, "ms"),
                (names::AS_OF_KNOWN_P95, 20.0, "ms"),
                (names::REBUILD_PROJECTOR_CPU, 50.0, "µs/event"),
                (names::REBUILD, 20_000.0, "events/s"),
                (names::NAIVE_LOOP_CPU, 20.0, "µs/event"),
                (names::ROWS_READ, 0.0, "reads"),
            ],
        );
        // The machine ran at half speed: the naive loop took twice the CPU an event.
        let after = report(
            &[],
            &[
                (names::PROJECTOR_PEAK_RSS, 250.0, "MiB"),
                (names::BYTES_WRITTEN, 120.0, "bytes"),
                (names::LIVE_LATENCY_P99, 10.0, "ms"),
                (names::AS_OF_KNOWN_P95, 30.0, "ms"),
                (names::REBUILD_PROJECTOR_CPU, 104.0, "µs/event"),
                (names::REBUILD, 10_000.0, "events/s"),
                (names::NAIVE_LOOP_CPU, 40.0, "µs/event"),
                (names::ROWS_READ, 12.0, "reads"),
            ],
        );
        let comparison = Comparison::between(&before, &after, 10.0);
        assert_eq!(comparison.machine_slowdown, Some(1.0));
        assert_eq!(
            verdict_of(&comparison, names::PROJECTOR_PEAK_RSS),
            Verdict::Worse
        );
        assert_eq!(
            verdict_of(&comparison, names::BYTES_WRITTEN),
            Verdict::Better
        );
        // Times are judged as they stand; beside them, their change at the naive loop's
        // speed: 10 ms at half speed is 5 ms (+25 %), 30 ms is 15 (-25 %), 104 µs is 52.
        let machine = |name: &str| {
            let change = comparison.changes.iter().find(|change| change.name == name);
            change.and_then(|change| change.for_the_machine)
        };
        for name in [
            names::LIVE_LATENCY_P99,
            names::AS_OF_KNOWN_P95,
            names::REBUILD_PROJECTOR_CPU,
        ] {
            assert_eq!(verdict_of(&comparison, name), Verdict::Worse, "{name}");
        }
        assert_eq!(machine(names::LIVE_LATENCY_P99), Some(0.25));
        assert_eq!(machine(names::AS_OF_KNOWN_P95), Some(-0.25));
        assert_eq!(machine(names::REBUILD_PROJECTOR_CPU), Some(0.04));
        assert_eq!(machine(names::PROJECTOR_PEAK_RSS), None, "not a time");
        assert_eq!(verdict_of(&comparison, names::REBUILD), Verdict::Context);
        let naive = verdict_of(&comparison, names::NAIVE_LOOP_CPU);
        assert_eq!(naive, Verdict::Context);
        // From nothing to something: worse, whatever the tolerance.
        assert_eq!(verdict_of(&comparison, names::ROWS_READ), Verdict::Worse);
        let table = comparison.to_table();
        let hint = "The naive loop's CPU per event (a baseline, no Samla code) moved +100.0 %";
        assert!(table.contains(hint), "{table}");
        assert!(table.contains("from 0"), "{table}");
        let summary = comparison.worse_summary().expect("worse");
        assert!(summary.starts_with("5 worse than"), "{summary}");
        assert!(
            summary.contains("live_latency_p99_ms 4 → 10 (+150.0 %, +25.0 % for the machine)"),
            "{summary}"
        );
        // Without the naive loop in both runs, no hint.
        let mut without = after.clone();
        without.results.remove(names::NAIVE_LOOP_CPU);
        let comparison = Comparison::between(&before, &without, 10.0);
        assert_eq!(comparison.machine_slowdown, None);
        assert_eq!(
            verdict_of(&comparison, names::LIVE_LATENCY_P99),
            Verdict::Worse
        );
        assert!(
            comparison
                .changes
                .iter()
                .all(|c| c.for_the_machine.is_none())
        );
        assert!(!comparison.to_table().contains("naive loop's CPU per event"));
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
        let before = report(
            &[],
            &[("a_new_size_mib", 10.0, "MiB"), ("a_new_rate", 1.0, "x/s")],
        );
        let after = report(
            &[],
            &[("a_new_size_mib", 20.0, "MiB"), ("a_new_rate", 9.0, "x/s")],
        );
        let comparison = Comparison::between(&before, &after, 10.0);
        assert_eq!(verdict_of(&comparison, "a_new_size_mib"), Verdict::Worse);
        assert_eq!(verdict_of(&comparison, "a_new_rate"), Verdict::Context);
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
