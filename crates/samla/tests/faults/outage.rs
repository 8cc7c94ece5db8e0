//! NATS down is 503, never 202: the nats-server stopped for ten seconds while clients post
//! without pause through `samla serve`'s HTTP door. Every answer is an item array or a 503
//! with `Retry-After`; every event answered as stored is in the log afterwards; the
//! projector and a live stream opened before the outage carry on by themselves.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt as _;
use proto_events::Kind;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{Env, Serve, envelope, http, json_of, stored};

const INCIDENT: &str = "outage-drill";
const ORG: &str = "alfa";
const POSTERS: usize = 4;
const OUTAGE: Duration = Duration::from_secs(10);

/// What the posters saw.
#[derive(Default)]
struct Answers {
    /// Event ids answered as stored (new or duplicate), with their sequence.
    stored: Vec<(String, u64)>,
    /// Answers that break the promise, described.
    violations: Vec<String>,
    unavailable: u64,
    accepted: u64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ten_second_nats_outage_under_continuous_posting_loses_no_acknowledged_event() {
    let mut env = tokio::task::spawn_blocking(Env::start)
        .await
        .expect("start the server");
    let folder = tempfile::tempdir().expect("a read-model folder");
    let replica = Serve::start(&env, folder.path()).await;
    let http = http();
    let token = env.token(ORG).to_owned();

    // The incident and its first member, so the live stream has a network to show.
    let declared = envelope(Kind::IncidentDeclared, INCIDENT, ORG, INCIDENT);
    let joined = envelope(Kind::OrganisationJoined, INCIDENT, ORG, ORG);
    let body = json!([json_of(&declared), json_of(&joined)]).to_string();
    let (status, _, text) = replica
        .post_raw(&http, &token, body.into_bytes())
        .await
        .expect("post the network");
    assert_eq!(status, StatusCode::ACCEPTED, "{text}");

    // A live stream from the start of the log, read like an EventSource does.
    let live = Arc::new(Mutex::new(LiveSeen::default()));
    let live_task = tokio::spawn(follow_live(
        replica.url(&format!("/v1/incidents/{INCIDENT}/live")),
        token.clone(),
        Arc::clone(&live),
    ));

    let answers = Arc::new(Mutex::new(Answers::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let counter = Arc::new(AtomicU64::new(0));
    // Set while NATS is down; posters count the requests they start meanwhile.
    let down = Arc::new(AtomicBool::new(false));
    let started_while_down = Arc::new(AtomicU64::new(0));
    let mut posters = Vec::new();
    for poster in 0..POSTERS {
        let (http, token, url) = (http.clone(), token.clone(), replica.url("/v1/events"));
        let (answers, stop, counter) = (
            Arc::clone(&answers),
            Arc::clone(&stop),
            Arc::clone(&counter),
        );
        let (down, started_while_down) = (Arc::clone(&down), Arc::clone(&started_while_down));
        posters.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                if down.load(Ordering::Relaxed) {
                    started_while_down.fetch_add(1, Ordering::Relaxed);
                }
                // One, two or three events per request.
                let events: Vec<Value> = (0..=(n % 3))
                    .map(|i| {
                        json_of(&envelope(
                            Kind::NeedRaised,
                            INCIDENT,
                            ORG,
                            &format!("need-p{poster}-r{n}-e{i}"),
                        ))
                    })
                    .collect();
                let outcome = http
                    .post(&url)
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .timeout(Duration::from_secs(40))
                    .body(Value::Array(events).to_string())
                    .send()
                    .await;
                match outcome {
                    Ok(response) => {
                        let status = response.status();
                        let retry_after = response.headers().contains_key("retry-after");
                        let text = response.text().await.unwrap_or_default();
                        let mut answers = answers.lock().expect("answers");
                        judge(&mut answers, status, retry_after, &text);
                    }
                    Err(error) => answers
                        .lock()
                        .expect("answers")
                        .violations
                        .push(format!("the replica did not answer: {error}")),
                }
                // Continuous, but below the organisation's rate limit.
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }));
    }

    let accepted_at_least = |n: u64| {
        let answers = Arc::clone(&answers);
        move || {
            let answers = Arc::clone(&answers);
            async move { (answers.lock().expect("answers").accepted >= n).then_some(()) }
        }
    };
    samla_testkit::wait_for(
        "posts accepted before the outage",
        Duration::from_secs(30),
        accepted_at_least(50),
    )
    .await;

    tokio::task::block_in_place(|| env.server.stop());
    down.store(true, Ordering::Relaxed);
    let before_outage = answers.lock().expect("answers").accepted;
    // The fault lasts this long: a duration of the outage, not a synchronisation.
    tokio::time::sleep(OUTAGE).await;
    let unavailable_during = answers.lock().expect("answers").unavailable;
    let accepted_during = answers.lock().expect("answers").accepted - before_outage;
    tokio::task::block_in_place(|| env.server.start_again()).expect("start NATS again");
    down.store(false, Ordering::Relaxed);

    samla_testkit::wait_for(
        "posts accepted after the outage",
        Duration::from_secs(60),
        accepted_at_least(before_outage + 100),
    )
    .await;
    stop.store(true, Ordering::Relaxed);
    for poster in posters {
        poster.await.expect("a poster");
    }

    // One more event after everything: it must reach the live stream.
    let marker = envelope(Kind::NeedRaised, INCIDENT, ORG, "need-after-the-outage");
    let (status, _, text) = replica
        .post_raw(&http, &token, json_of(&marker).to_string().into_bytes())
        .await
        .expect("post after the outage");
    assert_eq!(status, StatusCode::ACCEPTED, "{text}");
    let replies: Value = serde_json::from_str(&text).expect("a reply array");
    let marker_seq = replies[0]["seq"].as_u64().expect("the marker's seq");

    let answers = std::mem::take(&mut *answers.lock().expect("answers"));
    eprintln!(
        "outage: {} accepted ({accepted_during} answered while NATS was down), {} answered 503 \
         ({unavailable_during} while NATS was down), {} requests started while it was down, \
         {} events stored",
        answers.accepted,
        answers.unavailable,
        started_while_down.load(Ordering::Relaxed),
        answers.stored.len()
    );
    for violation in &answers.violations {
        eprintln!("outage: violation: {violation}");
    }
    assert!(
        answers.violations.is_empty(),
        "answers that break the promise: {:#?}",
        answers.violations
    );
    // Requests were made while NATS was down (each was answered: the posters finished).
    assert!(
        started_while_down.load(Ordering::Relaxed) >= POSTERS as u64,
        "the posters made no request while NATS was down"
    );

    // Every event answered as stored is in the log, at the sequence it was given.
    let log = env.ingest_log().await;
    let in_log: std::collections::BTreeMap<String, u64> = stored(&log, INCIDENT)
        .await
        .into_iter()
        .map(|(seq, id)| (id, seq))
        .collect();
    for (id, seq) in &answers.stored {
        assert_eq!(
            in_log.get(id),
            Some(seq),
            "event {id} was answered as stored at {seq} but the log has {:?}",
            in_log.get(id)
        );
    }
    let head = log.head().await.expect("the head").last_seq;
    assert_eq!(head, marker_seq, "nothing else writes this server's log");

    // The projector caught up by itself, and applied everything.
    replica
        .wait_ready_at(&http, head, Duration::from_secs(60))
        .await;
    let log_seqs: Vec<u64> = in_log
        .values()
        .copied()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let timeline = replica.timeline_seqs(&http, &token, INCIDENT, head).await;
    assert_eq!(timeline, log_seqs, "the timeline differs from the log");

    // The live stream reached the marker, without gap or duplicate.
    samla_testkit::wait_for(
        "the marker on the live stream",
        Duration::from_secs(30),
        || {
            let live = Arc::clone(&live);
            async move {
                live.lock()
                    .expect("live")
                    .seqs
                    .contains(&marker_seq)
                    .then_some(())
            }
        },
    )
    .await;
    live_task.abort();
    let live = std::mem::take(&mut *live.lock().expect("live"));
    eprintln!(
        "outage: the live stream delivered {} events over {} connection(s)",
        live.seqs.len(),
        live.connections
    );
    assert!(live.errors.is_empty(), "live stream: {:#?}", live.errors);
    assert_eq!(
        live.seqs, log_seqs,
        "the live stream has a gap or a duplicate (left: live, right: log)"
    );
    replica.kill().await;
}

/// Records one answer; anything but an item array, or a 503 with `Retry-After`, is a
/// violation, and so is a 503 that reports an item as stored.
fn judge(answers: &mut Answers, status: StatusCode, retry_after: bool, text: &str) {
    let body: Option<Value> = serde_json::from_str(text).ok();
    if status == StatusCode::SERVICE_UNAVAILABLE {
        answers.unavailable += 1;
        if !retry_after {
            answers
                .violations
                .push(format!("503 without Retry-After: {text}"));
        }
    } else if status == StatusCode::ACCEPTED {
        answers.accepted += 1;
    } else {
        answers
            .violations
            .push(format!("unexpected status {status}: {text}"));
        return;
    }
    let Some(body) = body else {
        answers
            .violations
            .push(format!("{status} with a body that is not JSON: {text}"));
        return;
    };
    match body.as_array() {
        Some(items) => {
            for item in items {
                match (item["id"].as_str(), item["seq"].as_u64()) {
                    (Some(id), Some(seq)) => answers.stored.push((id.to_owned(), seq)),
                    _ if item["error"]["code"].is_string() => {}
                    _ => answers
                        .violations
                        .push(format!("an item neither stored nor refused: {item}")),
                }
            }
        }
        None if status == StatusCode::SERVICE_UNAVAILABLE && body["error"]["code"].is_string() => {}
        None => answers
            .violations
            .push(format!("{status} without an item array: {text}")),
    }
}

/// What a live-stream reader received.
#[derive(Default)]
struct LiveSeen {
    seqs: Vec<u64>,
    connections: u32,
    errors: Vec<String>,
}

/// Follows the live stream like an `EventSource`: on an end or error it reconnects with
/// `Last-Event-ID`.
async fn follow_live(url: String, token: String, seen: Arc<Mutex<LiveSeen>>) {
    let client = http();
    loop {
        let last = seen.lock().expect("live").seqs.last().copied().unwrap_or(0);
        seen.lock().expect("live").connections += 1;
        let response = client
            .get(&url)
            .bearer_auth(&token)
            .header("last-event-id", last.to_string())
            .send()
            .await;
        let response = match response {
            Ok(response) if response.status().is_success() => response,
            Ok(response) => {
                let status = response.status();
                seen.lock()
                    .expect("live")
                    .errors
                    .push(format!("the live stream answered {status}"));
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
            Err(error) => {
                seen.lock()
                    .expect("live")
                    .errors
                    .push(format!("the live stream failed: {error}"));
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
        };
        let mut bytes = response.bytes_stream();
        let mut buffer = String::new();
        while let Some(chunk) = bytes.next().await {
            let Ok(chunk) = chunk else { break };
            buffer.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buffer.find("\n\n") {
                let frame: String = buffer.drain(..end + 2).collect();
                let id = frame
                    .lines()
                    .find_map(|line| line.strip_prefix("id:"))
                    .and_then(|id| id.trim().parse::<u64>().ok());
                if let Some(seq) = id {
                    let mut seen = seen.lock().expect("live");
                    if seen.seqs.last().is_some_and(|last| *last >= seq) {
                        let last = seen.seqs.last().copied();
                        seen.errors.push(format!(
                            "sequence {seq} after {last:?}: out of order or repeated"
                        ));
                    }
                    seen.seqs.push(seq);
                }
            }
        }
    }
}
