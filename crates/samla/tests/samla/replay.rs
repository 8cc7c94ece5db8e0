//! `samla replay` against `samla up` with the demo crisis loaded at once (so every event
//! is recorded now, while its `occurred_at` spreads over three weeks in March): as it
//! happened the picture grows day by day and ends at the live one; as known, nothing was
//! known an hour ago; the command's figures are the API's; bad input names the flag.

use proto_events::Timestamp;
use serde_json::Value;

use crate::common::{get, run, up_with_demo_at};

const START: &str = "2026-03-02T06:00:00Z";

#[test]
fn replay_steps_through_the_demo_as_it_happened_and_as_it_was_known() {
    let (_dir, data, up, loaded) = up_with_demo_at(START);
    let data_arg = data.to_str().expect("utf-8");
    let last_seq = loaded["last_seq"].as_u64().unwrap_or(0);
    let token = up.operator_token.clone();
    let replay = |extra: &[&str]| {
        let mut args = vec!["replay", "--data-dir", data_arg, "--token", &token];
        args.extend_from_slice(extra);
        run(&args, "")
    };

    // As it happened, a row a day from before the first event to after the last.
    let (code, stdout, stderr) = replay(&[
        "--from",
        "2026-03-02T00:00:00Z",
        "--to",
        "2026-03-24T00:00:00Z",
        "--step",
        "24h",
        "--sense",
        "happened",
        "--json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let rows: Vec<Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON row"))
        .collect();
    assert_eq!(rows.len(), 23, "{stdout}");
    let arrivals: Vec<u64> = rows
        .iter()
        .map(|row| {
            assert_eq!(row["sense"], "happened", "{row}");
            assert_eq!(row["as_of"]["sense"], "happened", "{row}");
            row["figures"]["arrivals"].as_u64().expect("a count")
        })
        .collect();
    assert_eq!(arrivals[0], 0, "nothing had happened before the start");
    assert!(
        arrivals.windows(2).all(|pair| pair[0] <= pair[1]),
        "arrivals to date never fall: {arrivals:?}"
    );
    assert!(
        arrivals[10] > 0 && arrivals[10] < arrivals[22],
        "{arrivals:?}"
    );
    let live = get(&up.api, &token, "v1/incidents");
    let incident = live["items"][0]["id"].as_str().expect("the demo incident");
    let picture = get(
        &up.api,
        &token,
        &format!("v1/incidents/{incident}/picture?min_seq={last_seq}"),
    );
    assert_eq!(
        arrivals[22],
        picture["picture"]["arrivals"]["to_date"]
            .as_u64()
            .expect("a count"),
        "after the last event, as it happened is the live picture"
    );

    // One moment: the command prints the API's picture at it.
    let day_ten = "2026-03-11T12:00:00Z";
    let (code, stdout, stderr) = replay(&["--at", day_ten, "--sense", "happened", "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let printed: Value = serde_json::from_str(&stdout).expect("JSON");
    let direct = get(
        &up.api,
        &token,
        &format!("v1/incidents/{incident}/picture?as_of={day_ten}&sense=happened"),
    );
    assert_eq!(printed["picture"], direct["picture"]);
    assert_eq!(printed["as_of"], direct["as_of"]);
    assert_eq!(
        printed["as_of"]["at"],
        Timestamp::parse(day_ten).expect("time").to_string()
    );

    // As known an hour ago: the log was empty then.
    let hour_ago = Timestamp::now().plus_seconds(-3600).to_string();
    let (code, stdout, stderr) = replay(&["--at", &hour_ago, "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let known: Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(known["as_of"]["sense"], "known");
    assert_eq!(known["as_of"]["events"], 0, "{known}");
    // The human table says which sense it shows.
    let (code, stdout, _) = replay(&["--at", day_ten, "--sense", "happened"]);
    assert_eq!(code, 0);
    assert!(stdout.starts_with("REPLAY — "), "{stdout}");
    assert!(
        stdout.contains("as happened at 2026-03-11T12:00:00Z"),
        "{stdout}"
    );

    // Bad input names the flag and what to write.
    let (code, _, stderr) = replay(&["--at", "yesterday"]);
    assert_eq!(code, 2, "a usage error: {stderr}");
    assert!(stderr.contains("--at yesterday"), "{stderr}");
    assert!(stderr.contains("such as 2026-03-01T09:30:00Z"), "{stderr}");
}
