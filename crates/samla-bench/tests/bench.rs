//! Smoke test of the whole benchmark against real nats-servers, tiny: every group runs —
//! the baselines, ingest through the gateway's NATS and HTTP doors, group commit, the live
//! latency, the rebuild and the as-of queries — the projector runs as its own process
//! (this package's binary, `projector` subcommand), and the JSON has every figure with
//! positive medians and every ratio. Not timed: a benchmark is a benchmark, not a test.

use samla_bench::report::{FIGURES, RATIOS, names};
use samla_bench::{BenchOptions, ProjectorCommand};

// The allocator of Samla's binaries, which the fold's memory figures read their counts
// from.
samla_projector::samla_allocator!();

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tiny_run_reports_every_figure() {
    let projector = ProjectorCommand::subcommand(env!("CARGO_BIN_EXE_samla-bench"), &["projector"]);
    let mut options = BenchOptions::new(projector);
    options.events = 2_000;
    options.repeat = 1;
    options.durable_events = Some(500);
    options.batch_max = 300;
    options.ingest_events = Some(1_000);
    options.single_events = Some(300);
    options.batch_clients = 4;
    options.single_clients = 8;
    options.live_rate = 200;
    options.live_seconds = 2;
    options.as_of_queries = 5;

    let report = samla_bench::run(&options)
        .await
        .expect("the benchmark runs");
    let json: serde_json::Value =
        serde_json::from_str(&report.to_json()).expect("the report is JSON");

    for version in ["nats-server", "samla", "rustc"] {
        let text = json["versions"][version].as_str().unwrap_or_default();
        assert!(!text.is_empty(), "versions.{version} missing in {json}");
    }
    assert!(json["cores"].as_u64().unwrap_or(0) >= 1);
    assert_eq!(json["workload"]["events"], 2_000);
    assert!(
        json["workload"]["kinds"].as_u64().unwrap_or(0) > 10,
        "mixed kinds"
    );

    for figure in FIGURES {
        let entry = &json["results"][figure.name];
        for field in ["median", "min", "max"] {
            assert!(
                entry[field].as_f64().is_some(),
                "results.{}.{field} missing in {entry}",
                figure.name
            );
        }
        assert!(entry["unit"].as_str().is_some_and(|unit| !unit.is_empty()));
        // Counts may be zero on a tiny log (no correction reached across a batch; its rows
        // fit the projector's budget, so none is read back from sled); every other rate,
        // size and duration must be positive.
        let may_be_zero = [
            names::SUPERSEDED_FETCHES,
            names::ROWS_READ,
            names::STAGE_ROW_READS,
        ];
        if !may_be_zero.contains(&figure.name) {
            assert!(
                entry["median"].as_f64().unwrap_or(0.0) > 0.0,
                "results.{} has no positive median: {entry}",
                figure.name
            );
        }
        assert!(entry["min"].as_f64() <= entry["median"].as_f64());
        assert!(entry["median"].as_f64() <= entry["max"].as_f64());
    }
    for figure in [names::ROWS_READ, names::STAGE_ROW_READS] {
        assert_eq!(
            json["results"][figure]["median"].as_f64(),
            Some(0.0),
            "a tiny log's rows fit the budget: {figure} should be 0"
        );
    }
    for ratio in RATIOS {
        assert!(
            json["ratios"][ratio.name].as_f64().unwrap_or(0.0) > 0.0,
            "ratio {} missing in {}",
            ratio.name,
            json["ratios"]
        );
    }
    // Percentiles are ordered.
    let median = |name: &str| json["results"][name]["median"].as_f64().unwrap_or(0.0);
    assert!(median("live_latency_p50_ms") <= median("live_latency_p999_ms"));
    for sense in ["known", "happened"] {
        let name = |what: &str| format!("as_of_{sense}_{what}_ms");
        assert!(median(&name("p50")) <= median(&name("p95")));
        assert!(median(&name("p95")) <= median(&name("max")));
    }
    assert_eq!(json["workload"]["as_of_queries"], 5);
    assert!(
        json["writes_by_table"]
            .as_object()
            .is_some_and(|tables| !tables.is_empty()),
        "writes by table missing"
    );
    // The fold's memory, split by model: the parts kept whole in memory hold some, and the
    // parts add up to the figure.
    let memory = json["memory_by_model"]
        .as_object()
        .expect("memory by model in the JSON");
    for model in ["timeline", "picture", "ids and corrections"] {
        assert!(
            memory[model].as_f64().unwrap_or(0.0) > 0.0,
            "no memory for {model} in {memory:?}"
        );
    }
    let parts: f64 = memory.values().filter_map(serde_json::Value::as_f64).sum();
    let total = median("fold_state_mb");
    assert!(
        (parts - total).abs() <= 0.05 * memory.len() as f64,
        "the models' {parts} MiB against fold_state_mb {total}"
    );
    let table = report.to_table();
    assert!(table.contains("rebuild_events_per_s") && table.contains("nats_ingest_vs_raw_publish"));
    assert!(table.contains("as_of_known_p95_ms") && table.contains("target <= 100"));
}

/// The projector's memory budget and write window reach the projector process and the
/// "taken apart" steps: with no rows kept after a write and a write every 500 events, the
/// fold reads rows back from sled, which the default budget never does on a tiny log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_budget_and_write_window_reach_the_projector() {
    let projector = ProjectorCommand::subcommand(env!("CARGO_BIN_EXE_samla-bench"), &["projector"]);
    let mut options = BenchOptions::new(projector);
    options.events = 2_000;
    options.repeat = 1;
    options.batch_max = 100;
    options.groups = [samla_bench::Group::Rebuild].into_iter().collect();
    let refused = samla_bench::run(&options)
        .await
        .expect_err("the rebuild without the log's publish is refused");
    assert!(
        refused.to_string().contains("needs group publish"),
        "the error names the missing group: {refused}"
    );
    (options.groups, _) =
        samla_bench::groups::select(Some(&[samla_bench::Group::Rebuild]), &[]).expect("groups");
    options.write_every = 0;
    let refused = samla_bench::run(&options)
        .await
        .expect_err("a write window of 0 is refused");
    assert!(
        refused.to_string().contains("--write-every"),
        "the error names the flag: {refused}"
    );

    options.write_every = 500;
    options.write_rows = 0;
    let refused = samla_bench::run(&options)
        .await
        .expect_err("a row window of 0 is refused");
    assert!(
        refused.to_string().contains("--write-rows"),
        "the error names the flag: {refused}"
    );

    options.resident_rows = 0;
    options.write_rows = 700;
    let report = samla_bench::run(&options)
        .await
        .expect("the benchmark runs");
    let json: serde_json::Value =
        serde_json::from_str(&report.to_json()).expect("the report is JSON");
    assert_eq!(json["workload"]["resident_rows"], 0);
    assert_eq!(json["workload"]["write_every"], 500);
    assert_eq!(json["workload"]["write_rows"], 700);
    let median = |name: &str| json["results"][name]["median"].as_f64().unwrap_or(0.0);
    assert!(
        median(names::ROWS_READ) > 0.0,
        "no row read back with a budget of 0: {}",
        json["results"][names::ROWS_READ]
    );
    assert!(median("rebuild_events_per_s") > 0.0);
    assert!(
        report
            .to_table()
            .contains("resident rows 0, a write every 500 events")
    );
}
