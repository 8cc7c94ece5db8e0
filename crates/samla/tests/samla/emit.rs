//! `samla org add`, `samla emit` and `samla tail` against a running `samla up`.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::common::{Up, get, lines, run, samla_binary};

const INCIDENT: &str = "emit-test";

/// A contract vector as JSON, re-addressed to `org` in the test incident.
fn vector(kind: &str, org: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../../proto-events/vectors/{kind}.json"));
    let mut event: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("vector")).expect("JSON");
    event["incident"] = INCIDENT.into();
    event["org"] = org.into();
    event["occurred_at"] = "2026-11-01T08:00:00Z".into();
    event.as_object_mut().expect("object").remove("id");
    event
}

#[test]
fn org_add_then_emit_reports_each_line_and_a_retry_stores_nothing_twice() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let data_arg = data.to_str().expect("utf-8");
    let up = Up::start(&data, &[]);
    assert!(
        up.org_tokens.is_empty(),
        "no organisations before `org add`"
    );

    let (code, stdout, stderr) = run(
        &["org", "add", "kommun", "--data-dir", data_arg, "--json"],
        "",
    );
    assert_eq!(code, 0, "{stderr}");
    let added: Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(added["added"], true);
    assert_eq!(added["nats_user"], "org-kommun");
    let (code, _, stderr) = run(&["org", "add", "Not An Id", "--data-dir", data_arg], "");
    assert_eq!(code, 2, "{stderr}");

    let mut joined = vector("organisation_joined", "kommun");
    joined["aggregate"]["id"] = "kommun".into();
    let mut need = vector("need_raised", "kommun");
    need["id"] = "019cb2a8-4c60-7a0d-b361-6d6c61aaaaaa".into();
    let mut personal = vector("need_raised", "kommun");
    personal["payload"]["note"] = "Kontakta 19121212-1212 om boendet".into();
    let lines = [
        vector("incident_declared", "kommun").to_string(),
        joined.to_string(),
        need.to_string(),
        "this is not JSON".to_owned(),
        personal.to_string(),
        vector("need_raised", "someone-else").to_string(),
    ]
    .join("\n");
    let emit_args = emit_as_kommun(data_arg);
    let (code, stdout, stderr) = emit_as_new_org(&emit_args, &lines);
    assert_eq!(
        code, 3,
        "some lines refused → exit 3; stdout {stdout} stderr {stderr}"
    );
    let answers: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    let by_line = |n: u64| {
        answers
            .iter()
            .find(|a| a["line"] == n)
            .unwrap_or_else(|| panic!("no answer for line {n}: {stdout}"))
    };
    for stored in [1, 2, 3] {
        assert!(
            by_line(stored)["seq"].as_u64().is_some(),
            "line {stored} stored: {stdout}"
        );
    }
    assert_eq!(by_line(4)["error"]["code"], "malformed");
    let guard = &by_line(5)["error"];
    assert_eq!(
        guard["field"], "payload.note",
        "the guard names the field: {guard}"
    );
    assert!(
        by_line(6)["error"]["code"].as_str().is_some(),
        "another organisation's envelope is refused"
    );

    // The same need again: a duplicate, not a second event.
    let (code, stdout, _) = run(&emit_args, &need.to_string());
    assert_eq!(code, 0);
    let answer: Value = serde_json::from_str(stdout.trim()).expect("JSON");
    assert_eq!(answer["duplicate"], true, "{answer}");
    assert_eq!(answer["seq"], by_line(3)["seq"]);

    // What was stored is what the organisation reads back, live stream included.
    let needs = get(
        &up.api,
        up_token(&data),
        &format!("v1/incidents/{INCIDENT}/needs?min_seq={}", answer["seq"]),
    );
    assert_eq!(needs["items"].as_array().map(Vec::len), Some(1), "{needs}");
    let (code, stdout, stderr) = run(
        &[
            "tail",
            "--org",
            "kommun",
            "--data-dir",
            data_arg,
            "--incident",
            INCIDENT,
            "--after",
            "0",
            "--limit",
            "3",
            "--json",
        ],
        "",
    );
    assert_eq!(code, 0, "{stderr}");
    let kinds: Vec<String> = stdout
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).expect("JSON")["kind"]
                .as_str()
                .unwrap_or("")
                .to_owned()
        })
        .collect();
    assert_eq!(
        kinds,
        ["incident_declared", "organisation_joined", "need_raised"]
    );

    // The hash chain: exported, then checked against the same log (and a grown one).
    let export = dir.path().join("chain.json");
    let export_arg = export.to_str().expect("utf-8");
    let (code, stdout, stderr) = run(
        &[
            "verify",
            "--data-dir",
            data_arg,
            "--every",
            "2",
            "--export-head",
            export_arg,
        ],
        "",
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("Chain head: seq 3 link "), "{stdout}");
    let (code, stdout, stderr) = run(
        &[
            "verify",
            "--data-dir",
            data_arg,
            "--against",
            export_arg,
            "--json",
        ],
        "",
    );
    assert_eq!(code, 0, "{stdout} {stderr}");
    let verdict: Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(verdict["intact"], true, "{verdict}");
    // A forged export (one link changed) is reported as a departure, exit 1.
    let mut forged: Value =
        serde_json::from_str(&std::fs::read_to_string(&export).expect("export")).expect("JSON");
    forged["points"][0]["content"] = "00".repeat(32).into();
    std::fs::write(&export, forged.to_string()).expect("write");
    let (code, stdout, _) = run(
        &["verify", "--data-dir", data_arg, "--against", export_arg],
        "",
    );
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("Content departs between seq 1 and 2"),
        "{stdout}"
    );
    drop(up);
}

/// The organisation's token from the local stack's credentials.
fn up_token(data: &Path) -> &'static str {
    let text =
        std::fs::read_to_string(data.join("config/local-credentials.json")).expect("credentials");
    let credentials: Value = serde_json::from_str(&text).expect("JSON");
    Box::leak(
        credentials["orgs"]["kommun"]["token"]
            .as_str()
            .expect("token")
            .to_owned()
            .into_boxed_str(),
    )
}

/// `samla emit` as the organisation `kommun` of the local stack in `data_arg`, JSON lines
/// from stdin.
fn emit_as_kommun(data_arg: &str) -> [&str; 7] {
    [
        "emit",
        "--org",
        "kommun",
        "--data-dir",
        data_arg,
        "--json",
        "-",
    ]
}

/// `samla emit ARGS` with `lines` on stdin, for an organisation just added: the token file
/// is reread every few seconds, so the first emits may meet 401 (exit 5) until then.
fn emit_as_new_org(args: &[&str], lines: &str) -> (i32, String, String) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let outcome = run(args, lines);
        if outcome.0 != 5 || std::time::Instant::now() > deadline {
            return outcome;
        }
    }
}

/// A live stream whose connection dies without closing (a suspended laptop, a dropped VPN:
/// no FIN, nothing more arrives) is taken as dead after `--silence` seconds with nothing,
/// not even the server's keep-alive; `samla tail` then resumes after the last event shown.
#[test]
fn tail_resumes_when_its_connection_goes_silent() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let data_arg = data.to_str().expect("utf-8");
    let up = Up::start(&data, &[]);
    let (code, _, stderr) = run(&["org", "add", "kommun", "--data-dir", data_arg], "");
    assert_eq!(code, 0, "{stderr}");
    let emit = emit_as_kommun(data_arg);
    let mut joined = vector("organisation_joined", "kommun");
    joined["aggregate"]["id"] = "kommun".into();
    let first = [vector("incident_declared", "kommun"), joined].map(|e| e.to_string());
    let (code, stdout, stderr) = emit_as_new_org(&emit, &first.join("\n"));
    assert_eq!(code, 0, "{stdout} {stderr}");

    let api = reqwest::Url::parse(&up.api).expect("API URL");
    let relay = samla_testkit::Relay::start(api.socket_addrs(|| None).expect("address")[0]);
    let through_relay = format!("http://{}/", relay.address());
    let mut tail = Command::new(samla_binary())
        .args(["tail", "--org", "kommun", "--data-dir", data_arg])
        .args([
            "--api",
            &through_relay,
            "--incident",
            INCIDENT,
            "--after",
            "0",
        ])
        .args(["--limit", "3", "--json", "--silence", "2"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn samla tail");
    let shown = lines(tail.stdout.take().expect("stdout"));
    let said = lines(tail.stderr.take().expect("stderr"));
    let next = |what: &str| {
        let line = shown
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("samla tail showed no {what} within 60 s"));
        serde_json::from_str::<Value>(&line).expect("JSON")
    };
    assert_eq!(next("first event")["kind"], "incident_declared");
    assert_eq!(next("second event")["kind"], "organisation_joined");

    // The connection goes silent; the next event is stored meanwhile.
    relay.silence_held();
    let (code, stdout, stderr) = run(&emit, &vector("need_raised", "kommun").to_string());
    assert_eq!(code, 0, "{stdout} {stderr}");
    let third = next("event after its connection went silent");
    assert_eq!(third["kind"], "need_raised", "{third}");
    let (exited, waited) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = exited.send(tail.wait());
    });
    let status = waited
        .recv_timeout(Duration::from_secs(60))
        .expect("samla tail ran on past --limit")
        .expect("wait");
    assert!(status.success(), "{status}");
    let stderr: Vec<String> = said.iter().collect(); // to its end: tail has exited
    assert!(
        stderr
            .iter()
            .any(|line| line.contains("not even its keep-alive")),
        "{stderr:?}"
    );
    // One stream, then at least one resumed (more if an answer took over 2 s).
    assert!(relay.connections() >= 2, "{}", relay.connections());
}
