//! The example emitters in `examples/` against a live `samla up --demo`: each publishes an
//! event that appears in the picture, and one organisation's NATS user cannot send on
//! another's ingest subject.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::common::{Up, get};

const INCIDENT: &str = "malmo-mottagning";
const ORG: &str = "radda-barnen";

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The Rust example, built beside this test binary by `cargo test --all-targets` (as
/// `examples/emit_nats`, or `examples/emit_nats-<hash>` when cargo did not uplift it).
fn rust_example() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let examples = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>")
        .join("examples");
    let plain = examples.join("emit_nats");
    if plain.is_file() {
        return plain;
    }
    let hashed = std::fs::read_dir(&examples)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            name.starts_with("emit_nats-") && !name.contains('.')
        })
        .max_by_key(|entry| entry.metadata().and_then(|m| m.modified()).ok());
    hashed.map(|entry| entry.path()).unwrap_or_else(|| {
        panic!(
            "no emit_nats example in {}: run the tests with `cargo test --all-targets` (deploy/test.sh does)",
            examples.display()
        )
    })
}

fn nats_password(data: &Path, org: &str) -> String {
    let text =
        std::fs::read_to_string(data.join("config/local-credentials.json")).expect("credentials");
    let credentials: Value = serde_json::from_str(&text).expect("JSON");
    credentials["orgs"][org]["nats_password"]
        .as_str()
        .expect("password")
        .to_owned()
}

/// Runs an emitter; returns its exit success and its one JSON answer line (if any).
fn run_emitter(
    mut command: Command,
    up: &Up,
    password: &str,
    org: &str,
) -> (bool, Option<Value>, String) {
    command
        .env("PYTHONPATH", repository().join(".tools/python"))
        .env("SAMLA_NATS_URL", &up.nats)
        .env("SAMLA_API", &up.api)
        .env("SAMLA_TOKEN", up.org_token(ORG))
        .env("SAMLA_ORG", org)
        .env("SAMLA_NATS_PASSWORD", password)
        .env("SAMLA_INCIDENT", INCIDENT);
    let output = command.output().expect("run the example");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let answer = stdout
        .lines()
        .last()
        .and_then(|line| serde_json::from_str(line).ok());
    (
        output.status.success(),
        answer,
        format!("stdout {stdout}\nstderr {stderr}"),
    )
}

#[test]
fn the_example_emitters_publish_events_that_appear_in_the_picture() {
    let python = repository().join(".tools/python");
    assert!(
        python.join("msgpack").is_dir() && python.join("nats").is_dir(),
        "the Python packages are missing: run deploy/install-python-deps.sh (deploy/test.sh does)"
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let mut up = Up::start(&data, &["--demo"]);
    up.wait_stderr(
        "demo crisis malmo-mottagning loaded",
        Duration::from_secs(120),
    );
    let password = nats_password(&data, ORG);

    let mut stored = Vec::new();
    for script in ["emit_nats.py", "emit_http.py"] {
        let mut command = Command::new("python3");
        command.arg(repository().join("examples/python").join(script));
        let (ok, answer, output) = run_emitter(command, &up, &password, ORG);
        assert!(ok, "{script}: {output}");
        stored.push(answer.unwrap_or_else(|| panic!("{script}: no answer: {output}")));
    }
    let (ok, answer, output) = run_emitter(Command::new(rust_example()), &up, &password, ORG);
    assert!(ok, "the Rust example: {output}");
    stored.push(answer.expect("the Rust example's answer"));

    let head = stored
        .iter()
        .filter_map(|a| a["seq"].as_u64())
        .max()
        .expect("sequences");
    let needs = get(
        &up.api,
        up.org_token(ORG),
        &format!("v1/incidents/{INCIDENT}/needs?min_seq={head}&org={ORG}&limit=1000"),
    );
    let seqs: Vec<u64> = needs["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|need| need["last_seq"].as_u64())
        .collect();
    for answer in &stored {
        let seq = answer["seq"].as_u64().expect("stored");
        assert!(
            seqs.contains(&seq),
            "the need stored at {seq} is in {ORG}'s needs: {needs}"
        );
    }

    // Speaking for another organisation over NATS: the server itself refuses it.
    let mut command = Command::new("python3");
    command
        .arg(repository().join("examples/python/emit_nats.py"))
        .env("SAMLA_NATS_USER", format!("org-{ORG}"));
    let (ok, _, output) = run_emitter(command, &up, &password, "polisen");
    assert!(
        !ok,
        "org-{ORG} must not send on polisen's subject: {output}"
    );
    assert!(
        output.contains("Permissions Violation") || output.contains("imeout"),
        "the refusal is the server's permission violation (or the request timing out): {output}"
    );
}
