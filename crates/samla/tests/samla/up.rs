//! `samla up --demo`: the README's run command, end to end.

use std::time::Duration;

use serde_json::Value;

use crate::common::{Up, get, process_alive};

const DEMO_INCIDENT: &str = "malmo-mottagning";

/// The figures a coordinator reads first; equal across a restart.
/// `GET /v1/digest` until its checkpoint is `seq`: the stored read models may lag the
/// in-memory picture by the projector's head write delay and the write under way.
fn digest_at(api: &str, token: &str, seq: u64) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let digest = get(api, token, "v1/digest");
        if digest["checkpoint"] == seq {
            return digest;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the digest never reached checkpoint {seq}: {digest}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn headline(picture: &Value) -> Value {
    let picture = &picture["picture"];
    serde_json::json!({
        "arrivals_to_date": picture["arrivals"]["to_date"],
        "per_day": picture["arrivals"]["per_day"],
        "beds": picture["beds"],
        "needs_open": picture["needs"]["open"],
        "needs_by_category": picture["needs"]["by_category"],
        "issues_open": picture["issues"]["open"],
        "last_seq": picture["last_seq"],
    })
}

#[test]
fn up_demo_serves_the_picture_stops_cleanly_and_restarts_with_the_same_picture() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");

    // First start: the demo loads.
    let mut up = Up::start(&data, &["--demo"]);
    assert!(up.nats.starts_with("nats://127.0.0.1:"), "{}", up.nats);
    assert_eq!(up.org_tokens.len(), 10, "one token per demo organisation");
    let loaded = up.wait_stderr(
        "demo crisis malmo-mottagning loaded",
        Duration::from_secs(120),
    );
    assert!(loaded.contains(" 0 refused"), "{loaded}");
    let head: u64 = loaded
        .rsplit_once("(log at ")
        .and_then(|(_, rest)| rest.trim_end_matches(')').parse().ok())
        .expect("the log head in the demo line");
    assert!(head > 2000, "the demo is a few thousand events: {loaded}");

    let picture = get(
        &up.api,
        &up.operator_token,
        &format!("v1/incidents/{DEMO_INCIDENT}/picture?min_seq={head}"),
    );
    let first = headline(&picture);
    assert_eq!(picture["applied_seq"], head);
    assert!(
        first["arrivals_to_date"].as_u64().unwrap_or(0) > 100,
        "{first}"
    );
    assert!(
        picture["picture"]["beds"]["capacity"].as_u64().unwrap_or(0) > 0,
        "{first}"
    );
    let digest = digest_at(&up.api, &up.operator_token, head);
    // An organisation sees the incident too, through its own token.
    let as_org = get(&up.api, up.org_token("malmo-stad"), "v1/incidents");
    assert_eq!(as_org["items"][0]["id"], DEMO_INCIDENT);
    // A wall screen's share token reads the network's picture too.
    let shared = get(
        &up.api,
        &up.share_token,
        &format!("v1/incidents/{DEMO_INCIDENT}/picture"),
    );
    assert_eq!(
        shared["picture"]["beds"]["capacity"],
        picture["picture"]["beds"]["capacity"]
    );
    let nats_pid = up.nats_pid();
    assert!(process_alive(nats_pid));

    let (status, stderr) = up.interrupt();
    assert!(
        status.success(),
        "clean exit after SIGINT: {status:?}; stderr: {stderr:#?}"
    );
    assert!(
        !process_alive(nats_pid),
        "the managed nats-server is stopped with samla"
    );
    assert!(
        !data.join("stack.json").exists(),
        "stack.json is removed on a clean stop"
    );

    // Second start: the same data, the same credentials, no second demo.
    let mut again = Up::start(&data, &["--demo"]);
    again.wait_stderr(
        "already in the log; not loading it again",
        Duration::from_secs(60),
    );
    let picture = get(
        &again.api,
        &again.operator_token,
        &format!("v1/incidents/{DEMO_INCIDENT}/picture?min_seq={head}"),
    );
    assert_eq!(
        headline(&picture),
        first,
        "the same picture after a restart"
    );
    assert_eq!(
        picture["applied_seq"], head,
        "no event was added: no second demo"
    );
    let digest_again = digest_at(&again.api, &again.operator_token, head);
    assert_eq!(digest_again["digest"], digest["digest"]);
    let nats_pid = again.nats_pid();
    let (status, _) = again.interrupt();
    assert!(status.success());
    assert!(!process_alive(nats_pid));
}

/// The stack's own nats-server killed (out of memory, say): samla up stops and says why,
/// rather than live on answering 503 with nobody to start the server again.
#[test]
fn up_stops_and_says_why_when_its_nats_server_dies() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let up = Up::start(&data, &[]);
    let nats_pid = up.nats_pid();
    let pid = rustix::process::Pid::from_raw(nats_pid).expect("a pid");
    rustix::process::kill_process(pid, rustix::process::Signal::KILL).expect("kill nats-server");

    let (status, stderr) = up.wait_exit("after its nats-server was killed");
    assert_eq!(status.code(), Some(4), "unavailable: {stderr:#?}");
    let said = stderr.join("\n");
    assert!(
        said.contains("the managed nats-server stopped (signal: 9 (SIGKILL))"),
        "{said}"
    );
    assert!(said.contains("run samla up again"), "{said}");
    assert!(!process_alive(nats_pid));
}
