//! `samla-bench compare` on saved reports, and `--compare` on a real (tiny) run: what got
//! worse is named, `--fail-on-worse` fails on it, and bad input is refused naming the file
//! or the flag.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::{Value, json};

fn bench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_samla-bench"))
        .args(args)
        .output()
        .expect("run samla-bench")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A report as `--json` writes one (the fields a comparison reads, and some it ignores).
fn saved(commit: &str, rebuild_vs_naive: f64, rss: f64, rebuild_per_s: f64) -> Value {
    json!({
        "versions": {"samla": "0.1.0", "samla-commit": commit},
        "cores": 2,
        "workload": {"events": 100000, "repeat": 2, "projector": format!("/bin/{commit}")},
        "results": {
            "rebuild_events_per_s": {"median": rebuild_per_s, "min": 1.0, "max": 1.0,
                                     "unit": "events/s", "events": 100000, "samples": [1.0]},
            "projector_peak_rss_mb": {"median": rss, "min": 1.0, "max": 1.0,
                                      "unit": "MiB", "events": 100000, "samples": [1.0]}
        },
        "ratios": {"rebuild_vs_naive_loop": rebuild_vs_naive},
        "writes_by_table": {},
        "memory_by_model": {}
    })
}

fn write(path: &Path, value: &Value) {
    std::fs::write(path, serde_json::to_string_pretty(value).expect("json")).expect("write");
}

#[test]
fn compare_names_what_got_worse_and_fails_on_request() {
    let folder = tempfile::tempdir().expect("temp dir");
    let before = folder.path().join("before.json");
    let after = folder.path().join("after.json");
    write(&before, &saved("aaa", 0.60, 140.0, 70_000.0));
    // The rebuild's ratio fell 25 %, its memory rose 5 %, the machine ran at half speed.
    write(&after, &saved("bbb", 0.45, 147.0, 35_000.0));
    let (before, after) = (before.to_str().unwrap(), after.to_str().unwrap());

    let shown = bench(&["compare", before, after]);
    assert!(shown.status.success(), "{}", text(&shown.stderr));
    let table = text(&shown.stdout);
    assert!(
        table.contains("Compared with samla-commit aaa, 100000 events (this: samla-commit bbb")
    );
    let line = |name: &str| {
        table
            .lines()
            .find(|line| line.starts_with(name))
            .unwrap_or_else(|| panic!("{name} in {table}"))
            .to_owned()
    };
    assert!(line("rebuild_vs_naive_loop").contains("-25.0 %"), "{table}");
    assert!(line("rebuild_vs_naive_loop").ends_with("WORSE"), "{table}");
    assert!(line("projector_peak_rss_mb").ends_with("same"), "{table}");
    assert!(
        line("rebuild_events_per_s").ends_with("(context)"),
        "{table}"
    );
    assert!(!table.contains("not comparable"), "same workload: {table}");

    let failed = bench(&["compare", before, after, "--fail-on-worse"]);
    assert_eq!(failed.status.code(), Some(1));
    let message = text(&failed.stderr);
    assert!(
        message.contains("1 worse than samla-commit aaa, 100000 events beyond 10 %")
            && message.contains("rebuild_vs_naive_loop 0.6 → 0.45 (-25.0 %)"),
        "{message}"
    );
    // The comparison is still printed first.
    assert!(text(&failed.stdout).contains("WORSE"));

    // A tolerance of 30 % lets the ratio pass; 4 % catches the memory too.
    let lenient = bench(&[
        "compare",
        before,
        after,
        "--fail-on-worse",
        "--tolerance",
        "30",
    ]);
    assert!(lenient.status.success(), "{}", text(&lenient.stderr));
    let strict = bench(&["compare", before, after, "--json", "--tolerance", "4"]);
    assert!(strict.status.success());
    let comparison: Value = serde_json::from_slice(&strict.stdout).expect("JSON");
    assert_eq!(comparison["tolerance_percent"], 4.0);
    let verdicts: Vec<(String, String)> = comparison["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|change| {
            let field = |name: &str| change[name].as_str().unwrap_or_default().to_owned();
            (field("name"), field("verdict"))
        })
        .collect();
    assert_eq!(
        verdicts,
        [
            ("rebuild_vs_naive_loop".to_owned(), "worse".to_owned()),
            ("rebuild_events_per_s".to_owned(), "context".to_owned()),
            ("projector_peak_rss_mb".to_owned(), "worse".to_owned()),
        ]
    );
    assert_eq!(comparison["changes"][0]["change"], -0.25);
}

#[test]
fn bad_reports_and_tolerances_are_refused_naming_them() {
    let folder = tempfile::tempdir().expect("temp dir");
    let report = folder.path().join("report.json");
    write(&report, &saved("aaa", 0.6, 140.0, 70_000.0));
    let table = folder.path().join("table.txt");
    std::fs::write(&table, "figure median min max\n").expect("write");
    let (report, table) = (report.to_str().unwrap(), table.to_str().unwrap());

    let refused = bench(&["compare", report, table]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        text(&refused.stderr).contains("table.txt is not a report of `samla bench --json`"),
        "{}",
        text(&refused.stderr)
    );
    let refused = bench(&["compare", report, report, "--tolerance=-5"]);
    assert!(
        text(&refused.stderr).contains("--tolerance must be a percentage of 0 or more"),
        "{}",
        text(&refused.stderr)
    );
    // A run refuses a missing report before it starts measuring.
    let missing = folder.path().join("missing.json");
    let refused = bench(&["--quick", "--compare", missing.to_str().unwrap()]);
    let message = text(&refused.stderr);
    assert!(
        message.contains("cannot read the report to compare with")
            && message.contains("missing.json"),
        "{message}"
    );
    assert!(
        !message.contains("events"),
        "nothing was measured: {message}"
    );
    let refused = bench(&["--fail-on-worse"]);
    assert_eq!(
        refused.status.code(),
        Some(2),
        "clap: --compare is required"
    );
}

/// A real run compared with a report whose rebuild was far faster and smaller: the table
/// and the JSON carry the comparison, and `--fail-on-worse` fails naming both.
#[test]
fn a_run_is_compared_with_an_earlier_report() {
    let folder = tempfile::tempdir().expect("temp dir");
    let before = folder.path().join("before.json");
    let tiny = [
        "--events",
        "2000",
        "--repeat",
        "1",
        "--only",
        "rebuild",
        "--no-stages",
        "--batch-max",
        "300",
    ];
    let first = bench(&[&tiny[..], &["--json-out", before.to_str().unwrap()]].concat());
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert!(
        text(&first.stdout).contains("rebuild_vs_naive_loop"),
        "the table still goes to stdout"
    );
    let mut earlier: Value =
        serde_json::from_str(&std::fs::read_to_string(&before).expect("read")).expect("JSON");
    assert!(
        earlier.get("comparison").is_none(),
        "no comparison asked for"
    );
    earlier["ratios"]["rebuild_vs_naive_loop"] = json!(1000.0);
    earlier["results"]["projector_peak_rss_mb"]["median"] = json!(1.0);
    write(&before, &earlier);

    let after = folder.path().join("after.json");
    let second = bench(
        &[
            &tiny[..],
            &[
                "--compare",
                before.to_str().unwrap(),
                "--fail-on-worse",
                "--json-out",
                after.to_str().unwrap(),
            ],
        ]
        .concat(),
    );
    assert_eq!(second.status.code(), Some(1), "{}", text(&second.stderr));
    let message = text(&second.stderr);
    assert!(
        message.contains(" worse than samla-commit")
            && message.contains("rebuild_vs_naive_loop 1,000 → ")
            && message.contains("projector_peak_rss_mb 1 → "),
        "{message}"
    );
    let table = text(&second.stdout);
    assert!(table.contains("Compared with samla-commit"), "{table}");
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&after).expect("read")).expect("JSON");
    let changes = report["comparison"]["changes"].as_array().expect("changes");
    let verdict = |name: &str| {
        changes
            .iter()
            .find(|change| change["name"] == name)
            .map(|change| change["verdict"].clone())
    };
    assert_eq!(verdict("rebuild_vs_naive_loop"), Some(json!("worse")));
    assert_eq!(verdict("projector_peak_rss_mb"), Some(json!("worse")));
    assert_eq!(verdict("naive_loop_events_per_s"), Some(json!("context")));
    assert!(
        report["comparison"]["workload_differences"]
            .as_array()
            .is_some_and(Vec::is_empty)
    );
}
