//! `samla import` of a 10,000-row CSV with 37 bad rows: 9,963 events land, the 37 are
//! reported with line and reason, and importing the same file again adds nothing.

use serde_json::Value;

use crate::common::{Up, run};

const MAPPING: &str = r#"
kind = "need_raised"
[source]
delimiter = ";"
timezone = "Europe/Stockholm"
key = { column = "Ärende" }
[envelope]
incident = "import-test"
org = "kommun"
function = "socialjour"
occurred_at = { column = "Datum" }
area = "1280"
[payload]
category = { column = "Kategori", map = { "Boende" = "housing", "Mat" = "food" } }
quantity = { column = "Antal" }
unit = "items"
urgency = "normal"
"#;

#[test]
fn a_ten_thousand_row_csv_with_37_bad_rows_lands_9963_and_a_second_import_adds_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let data_arg = data.to_str().expect("utf-8");
    let _up = Up::start(&data, &[]);
    let (code, _, stderr) = run(&["org", "add", "kommun", "--data-dir", data_arg], "");
    assert_eq!(code, 0, "{stderr}");

    let mapping = dir.path().join("needs.toml");
    std::fs::write(&mapping, MAPPING).expect("mapping");
    let mut csv = String::from("Ärende;Datum;Kategori;Antal\n");
    let mut bad_lines = Vec::new();
    for row in 0..10_000u32 {
        let line = row + 2; // the header is line 1
        let (category, quantity) = if row % 270 == 7 && bad_lines.len() < 37 {
            bad_lines.push(line);
            if bad_lines.len() % 2 == 0 {
                ("Okänd", "3")
            } else {
                ("Mat", "-3")
            }
        } else {
            (if row % 2 == 0 { "Boende" } else { "Mat" }, "4")
        };
        csv.push_str(&format!(
            "B-{row:05};2026-03-01 09:30;{category};{quantity}\n"
        ));
    }
    assert_eq!(bad_lines.len(), 37);
    let file = dir.path().join("needs.csv");
    std::fs::write(&file, csv).expect("csv");
    let args = [
        "import",
        "--org",
        "kommun",
        "--data-dir",
        data_arg,
        "--mapping",
        mapping.to_str().expect("utf-8"),
        file.to_str().expect("utf-8"),
        "--json",
    ];

    // The token file is reread every few seconds: retry while the new token is unknown.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let (code, stdout, stderr) = loop {
        let outcome = run(&args, "");
        if outcome.0 != 5 || std::time::Instant::now() > deadline {
            break outcome;
        }
    };
    assert_eq!(code, 3, "refused rows → exit 3: {stderr}");
    let summary: Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(summary["rows"], 10_000);
    assert_eq!(
        summary["stored"],
        9_963,
        "{}",
        &stdout[..300.min(stdout.len())]
    );
    assert_eq!(summary["refused"], 37);
    let lines: Vec<u64> = summary["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["line"].as_u64().expect("line"))
        .collect();
    assert_eq!(
        lines,
        bad_lines.iter().map(|l| u64::from(*l)).collect::<Vec<_>>()
    );
    for error in summary["errors"].as_array().expect("errors") {
        assert!(
            error["field"]
                .as_str()
                .is_some_and(|f| f.starts_with("payload.")),
            "{error}"
        );
        assert!(
            !error["reason"].as_str().unwrap_or("").is_empty(),
            "{error}"
        );
    }

    let (code, stdout, _) = run(&args, "");
    assert_eq!(code, 3);
    let again: Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(again["stored"], 0, "a second import adds nothing");
    assert_eq!(again["duplicates"], 9_963);

    // What landed exports as CSV (as the operator: kommun has not joined the incident's
    // network, and an organisation outside it sees no network events, its own included).
    let credentials: Value = serde_json::from_str(
        &std::fs::read_to_string(data.join("config/local-credentials.json")).expect("credentials"),
    )
    .expect("JSON");
    let operator = credentials["operator_token"]
        .as_str()
        .expect("operator token");
    let (code, csv, stderr) = run(
        &[
            "export",
            "needs",
            "--token",
            operator,
            "--data-dir",
            data_arg,
            "--incident",
            "import-test",
            "--hxl",
        ],
        "",
    );
    assert_eq!(code, 0, "{stderr}");
    let mut rows = csv.lines();
    let header = rows.next().unwrap_or_default();
    assert!(
        header.contains("category"),
        "{}",
        &csv[..400.min(csv.len())]
    );
    assert!(
        rows.next().is_some_and(|tags| tags.starts_with('#')),
        "an HXL tag row"
    );
}
