//! `samla bench` at a tiny size: every group runs (its own nats-servers, the projector as
//! `samla bench projector`), and the JSON carries every result and ratio the benchmark
//! issue names, each result with a positive median, min <= median <= max and a unit. Not
//! timed: a benchmark is a benchmark, not a test.

use serde_json::Value;

use crate::common::run;

/// The results and ratios the issue names: an interface for scripts and BENCHMARKS.md.
const RESULTS: &[&str] = &[
    "live_latency_p99_ms",
    "as_of_known_p95_ms",
    "as_of_happened_p95_ms",
    "projector_peak_rss_mb",
];
const RATIOS: &[&str] = &[
    "rebuild_vs_raw_read",
    "rebuild_vs_naive_loop",
    "nats_ingest_vs_raw_publish",
    "http_ingest_vs_raw_publish",
    "durable_batch_vs_raw_durable",
    "durable_single_vs_raw_durable",
];

#[test]
fn a_tiny_bench_reports_every_named_figure() {
    let (code, stdout, stderr) = run(
        &[
            "bench",
            "--events",
            "3000",
            "--repeat",
            "1",
            "--durable-events",
            "400",
            "--ingest-events",
            "1000",
            "--single-events",
            "300",
            "--batch-clients",
            "4",
            "--single-clients",
            "8",
            "--live-rate",
            "200",
            "--live-seconds",
            "2",
            "--as-of-queries",
            "5",
            "--batch-max",
            "500",
            "--no-stages",
            "--json",
        ],
        "",
    );
    assert_eq!(code, 0, "samla bench failed: {stderr}");
    let report: Value = serde_json::from_str(&stdout).expect("the report is JSON");
    assert!(report["cores"].as_u64().unwrap_or(0) >= 1, "{report}");
    assert!(
        report["versions"]["nats-server"]
            .as_str()
            .is_some_and(|version| !version.is_empty())
    );
    assert!(
        report["workload"]["projector"]
            .as_str()
            .is_some_and(|projector| projector.ends_with("bench projector")),
        "the projector ran as `samla bench projector`: {}",
        report["workload"]
    );
    for name in RESULTS {
        let figure = &report["results"][name];
        let (median, min, max) = (
            figure["median"].as_f64().unwrap_or(0.0),
            figure["min"].as_f64().unwrap_or(0.0),
            figure["max"].as_f64().unwrap_or(0.0),
        );
        assert!(median > 0.0, "results.{name}: {figure}");
        assert!(
            min > 0.0 && min <= median && median <= max,
            "results.{name}: {figure}"
        );
        assert!(
            figure["unit"].as_str().is_some_and(|unit| !unit.is_empty()),
            "results.{name}: {figure}"
        );
    }
    for name in RATIOS {
        assert!(
            report["ratios"][name].as_f64().unwrap_or(0.0) > 0.0,
            "ratios.{name}: {}",
            report["ratios"]
        );
    }
}
