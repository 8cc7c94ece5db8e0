//! A leader can die: a 3-node nats cluster on loopback holds the log at R3 while clients
//! post through `samla serve`'s HTTP door without pause. The stream leader is SIGKILLed
//! mid-burst; posting goes on (a 503 or an `unavailable` item is sent again, same ids,
//! after `Retry-After`), and the killed node is started again while posting continues.
//! Then every event answered as stored is in the log exactly once, at the sequence it was
//! given; every node holds the same log; and the replica's digest equals a clean fold of
//! that log.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use proto_events::Kind;
use reqwest::StatusCode;
use samla_api::nats_permissions::{ServiceRole, service_connect_options};
use samla_log::{ConnectOptions, Log, LogConfig, ReadRange};
use samla_testkit::{NatsCluster, wait_for};
use serde_json::{Value, json};

use crate::common::{LOG_MAX_BYTES, Secrets, Serve, clean_digest_on, envelope, http, json_of};

const INCIDENT: &str = "leader-dies";
const ORG: &str = "alfa";
const POSTERS: usize = 3;
/// Events acknowledged before the kill, after it, and after the restart.
const BEFORE_KILL: u64 = 300;
const AFTER_KILL: u64 = 300;
const AFTER_RESTART: u64 = 100;
/// What `samla serve` and `samla projector` need to open an R3 log.
const R3: [&str; 2] = ["--log-replicas", "3"];
/// The longest a poster waits on a `Retry-After` (the service says 2 s).
const MAX_RETRY_AFTER: Duration = Duration::from_secs(2);

/// What the posters saw.
#[derive(Default)]
struct Ledger {
    /// Event id → the sequence its first "stored" answer gave.
    acknowledged: BTreeMap<String, u64>,
    /// Answers that break a promise, described.
    violations: Vec<String>,
    accepted_requests: u64,
    unavailable_requests: u64,
    /// Items sent again after a 503 or an `unavailable` item.
    resent_items: u64,
    /// Stored answers that said `duplicate` (a resend of an event that had landed).
    duplicates: u64,
}

impl Ledger {
    fn stored(&mut self, id: &str, seq: u64, duplicate: bool) {
        self.duplicates += u64::from(duplicate);
        match self.acknowledged.get(id) {
            Some(first) if *first != seq => self.violations.push(format!(
                "{id} was answered as stored at {first} and later at {seq}"
            )),
            Some(_) => {}
            None => {
                self.acknowledged.insert(id.to_owned(), seq);
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_r3_leader_under_api_traffic_loses_nothing_and_the_picture_is_a_clean_fold() {
    let started = Instant::now();
    let (mut cluster, secrets) = tokio::task::spawn_blocking(start_permissioned_cluster)
        .await
        .expect("start the cluster");
    let urls = cluster.client_urls();
    let mut options = secrets.serve_options(urls.clone());
    options.extra_args = R3.iter().map(|arg| (*arg).to_owned()).collect();
    let folder = tempfile::tempdir().expect("a read-model folder");
    // The replica creates the stream at R3.
    let replica = Serve::start_on(&options, folder.path()).await;
    let log = open_r3_log(&urls, &secrets).await;
    let http = http();
    let token = secrets.org_tokens[ORG].clone();

    let network = json!([
        json_of(&envelope(Kind::IncidentDeclared, INCIDENT, ORG, INCIDENT)),
        json_of(&envelope(Kind::OrganisationJoined, INCIDENT, ORG, ORG)),
    ]);
    let (status, _, text) = replica
        .post_raw(&http, &token, network.to_string().into_bytes())
        .await
        .expect("post the network");
    assert_eq!(status, StatusCode::ACCEPTED, "{text}");
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    for item in serde_json::from_str::<Value>(&text)
        .expect("a reply array")
        .as_array()
        .expect("an array")
    {
        let (id, seq) = (item["id"].as_str(), item["seq"].as_u64());
        ledger
            .lock()
            .expect("ledger")
            .stored(id.expect("an id"), seq.expect("a seq"), false);
    }

    let stop = Arc::new(AtomicBool::new(false));
    let counter = Arc::new(AtomicU64::new(0));
    let posters: Vec<_> = (0..POSTERS)
        .map(|poster| {
            tokio::spawn(post_until_stopped(
                poster,
                replica.url("/v1/events"),
                token.clone(),
                Arc::clone(&ledger),
                Arc::clone(&stop),
                Arc::clone(&counter),
            ))
        })
        .collect();
    let acknowledged = || ledger.lock().expect("ledger").acknowledged.len() as u64;
    let at_least = |n: u64, what: &'static str, deadline: Duration| {
        let ledger = Arc::clone(&ledger);
        wait_for(what, deadline, move || {
            let ledger = Arc::clone(&ledger);
            async move {
                let ledger = ledger.lock().expect("ledger");
                assert!(
                    ledger.violations.is_empty(),
                    "answers that break a promise: {:#?}",
                    ledger.violations
                );
                (ledger.acknowledged.len() as u64 >= n).then_some(())
            }
        })
    };

    at_least(
        BEFORE_KILL,
        "events acknowledged before the kill",
        SECONDS_30,
    )
    .await;
    let leader = wait_for("the stream leader", SECONDS_30, || async {
        log.head().await.ok()?.leader
    })
    .await;
    let index = cluster.node_by_name(&leader).expect("the leader's node");
    let acknowledged_at_kill = acknowledged();
    let killed_at = Instant::now();
    tokio::task::block_in_place(|| cluster.node_mut(index).kill());
    eprintln!("cluster: killed the stream leader {leader} after {acknowledged_at_kill} acks");

    at_least(
        acknowledged_at_kill + AFTER_KILL,
        "events acknowledged after the leader died",
        Duration::from_secs(40),
    )
    .await;
    let carried_on_after = killed_at.elapsed();
    let new_leader = wait_for("a new stream leader", SECONDS_30, || async {
        log.head().await.ok()?.leader.filter(|name| *name != leader)
    })
    .await;
    tokio::task::block_in_place(|| cluster.node_mut(index).start_again())
        .expect("start the killed node again");
    let acknowledged_at_restart = acknowledged();
    at_least(
        acknowledged_at_restart + AFTER_RESTART,
        "events acknowledged after the restart",
        SECONDS_30,
    )
    .await;
    stop.store(true, Ordering::Relaxed);
    for poster in posters {
        poster.await.expect("a poster");
    }
    let ledger = std::mem::take(&mut *ledger.lock().expect("ledger"));
    eprintln!(
        "cluster: {} events acknowledged ({} requests accepted, {} answered 503, {} items \
         sent again, {} answered as duplicates); {AFTER_KILL} acks took {carried_on_after:?} \
         after the kill, under the new leader {new_leader}",
        ledger.acknowledged.len(),
        ledger.accepted_requests,
        ledger.unavailable_requests,
        ledger.resent_items,
        ledger.duplicates
    );
    assert!(
        ledger.violations.is_empty(),
        "answers that break a promise: {:#?}",
        ledger.violations
    );

    // Every node, the restarted one included, holds the whole log.
    let head = wait_for("the log's head", SECONDS_30, || async {
        log.head().await.ok().map(|head| head.last_seq)
    })
    .await;
    for node in 0..cluster.len() {
        let name = cluster.node(node).server_name().to_owned();
        wait_for(
            &format!("node {name} to hold the log up to {head}"),
            SECONDS_30,
            || async {
                let state = tokio::task::block_in_place(|| stream_state(&cluster, node))?;
                (state == (head, head)).then_some(())
            },
        )
        .await;
    }

    // Every acknowledged event exactly once, where it was acknowledged; no event twice.
    let records = log
        .read(ReadRange::span(1, head))
        .await
        .expect("start reading the log")
        .collect_all()
        .await
        .expect("read the log");
    assert_eq!(records.len() as u64, head, "the log has a gap");
    let mut in_log: BTreeMap<String, u64> = BTreeMap::new();
    for record in &records {
        let id = record.msg_id().expect("every event has its id").to_owned();
        if let Some(first) = in_log.insert(id.clone(), record.seq()) {
            panic!("{id} is in the log twice: at {first} and {}", record.seq());
        }
    }
    for (id, seq) in &ledger.acknowledged {
        assert_eq!(
            in_log.get(id),
            Some(seq),
            "{id} was acknowledged at {seq}; the log has it at {:?}",
            in_log.get(id)
        );
    }
    let unacknowledged = in_log.len() - ledger.acknowledged.len();

    // The picture the API serves is the one a clean fold of the same log gives.
    replica.wait_ready_at(&http, head, SECONDS_60).await;
    let served = replica
        .digest_as_at(&http, &secrets.operator_token, head)
        .await;
    let (status, quarantine) = replica
        .get(
            &http,
            &secrets.operator_token,
            &format!("/v1/incidents/{INCIDENT}/quarantine"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{quarantine}");
    assert_eq!(quarantine["total"], 0, "{quarantine}");
    replica.kill().await;
    let clean = clean_digest_on(&urls, &secrets.projector_password, &R3).await;
    assert_eq!(
        served, clean,
        "the replica's picture differs from a clean fold of the log"
    );
    // An operator command reads the R3 log as it is (it never asks for a replica count).
    let verify = tokio::process::Command::new(env!("CARGO_BIN_EXE_samla"))
        .args(["verify", "--json", "--nats-url"])
        .arg(urls.join(","))
        .env("SAMLA_PROJECTOR_PASSWORD", &secrets.projector_password)
        .env_remove("SAMLA_CONFIG")
        .output()
        .await
        .expect("run samla verify");
    assert!(
        verify.status.success(),
        "samla verify on the R3 log: {}",
        String::from_utf8_lossy(&verify.stderr)
    );
    let verified: serde_json::Value = serde_json::from_slice(&verify.stdout).expect("JSON");
    assert_eq!(verified["head"]["seq"], head, "{verified}");
    eprintln!(
        "cluster: log head {head}, {unacknowledged} events stored without an answer saying \
         so, digests equal; {:?} in all",
        started.elapsed()
    );
}

const SECONDS_30: Duration = Duration::from_secs(30);
const SECONDS_60: Duration = Duration::from_secs(60);

/// Three nodes with Samla's permission block (added by a config reload, since the
/// cluster starts without it), and the credentials.
fn start_permissioned_cluster() -> (NatsCluster, Secrets) {
    let secrets = Secrets::generate();
    let mut cluster = NatsCluster::start(3).expect("start a 3-node cluster");
    for node in 0..cluster.len() {
        let node = cluster.node_mut(node);
        node.rewrite_config(&secrets.permission_block)
            .expect("write the permission block");
        node.reload().expect("reload with the permission block");
    }
    (cluster, secrets)
}

/// The log as the projector's user reads it, at R3 (waits for the stream to be there).
async fn open_r3_log(urls: &[String], secrets: &Secrets) -> Log {
    let options = ConnectOptions {
        request_timeout: Duration::from_secs(10),
        ..service_connect_options(ServiceRole::Projector, &secrets.projector_password)
    };
    let connection = samla_log::connect(urls, options)
        .await
        .expect("connect to the cluster");
    let config = LogConfig {
        replicas: 3,
        ..LogConfig::new(LOG_MAX_BYTES)
    };
    wait_for("the R3 log to open", SECONDS_30, || {
        let (connection, config) = (connection.clone(), config.clone());
        async move { Log::open(&connection, config).await.ok() }
    })
    .await
}

/// `(messages, last_seq)` of the log as node `node` holds it (`/jsz`), if it answers.
fn stream_state(cluster: &NatsCluster, node: usize) -> Option<(u64, u64)> {
    let jsz = cluster
        .node(node)
        .monitor_json("/jsz?accounts=true&streams=true")?;
    let stream = jsz["account_details"]
        .as_array()?
        .iter()
        .filter_map(|account| account["stream_detail"].as_array())
        .flatten()
        .find(|stream| stream["name"] == samla_log::DEFAULT_STREAM_NAME)?;
    Some((
        stream["state"]["messages"].as_u64()?,
        stream["state"]["last_seq"].as_u64()?,
    ))
}

/// Posts one to three new events per request until `stop`; an item the service could not
/// store now (a 503, or an `unavailable` item) is sent again with the same id.
async fn post_until_stopped(
    poster: usize,
    url: String,
    token: String,
    ledger: Arc<Mutex<Ledger>>,
    stop: Arc<AtomicBool>,
    counter: Arc<AtomicU64>,
) {
    let http = http();
    let mut pending: Vec<(String, Value)> = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        if pending.is_empty() {
            let n = counter.fetch_add(1, Ordering::Relaxed);
            pending = (0..=(n % 3))
                .map(|i| {
                    let event = envelope(
                        Kind::NeedRaised,
                        INCIDENT,
                        ORG,
                        &format!("need-p{poster}-r{n}-e{i}"),
                    );
                    (event.id.to_string(), json_of(&event))
                })
                .collect();
        }
        let body = Value::Array(pending.iter().map(|(_, event)| event.clone()).collect());
        let outcome = http
            .post(&url)
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .timeout(SECONDS_60)
            .body(body.to_string())
            .send()
            .await;
        let response = match outcome {
            Ok(response) => response,
            Err(error) => {
                let mut ledger = ledger.lock().expect("ledger");
                ledger
                    .violations
                    .push(format!("the replica did not answer: {error}"));
                return;
            }
        };
        let status = response.status();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse::<u64>().ok())
            .map(Duration::from_secs);
        let text = response.text().await.unwrap_or_default();
        let wait = {
            let mut ledger = ledger.lock().expect("ledger");
            judge(&mut ledger, &mut pending, status, retry_after, &text)
        };
        // Pacing, not synchronisation: continuous posting below the organisation's rate
        // limit, and the wait the service asked for before a resend.
        tokio::time::sleep(wait.unwrap_or(Duration::from_millis(10))).await;
    }
}

/// Records one answer and keeps in `pending` the items to send again; returns how long
/// to wait before that. Anything but a 202 item array, or a 503 with `Retry-After` whose
/// items are `unavailable`, is a violation.
fn judge(
    ledger: &mut Ledger,
    pending: &mut Vec<(String, Value)>,
    status: StatusCode,
    retry_after: Option<Duration>,
    text: &str,
) -> Option<Duration> {
    let sent = std::mem::take(pending);
    match status {
        StatusCode::ACCEPTED => ledger.accepted_requests += 1,
        StatusCode::SERVICE_UNAVAILABLE => {
            ledger.unavailable_requests += 1;
            if retry_after.is_none() {
                ledger
                    .violations
                    .push(format!("503 without Retry-After: {text}"));
            }
        }
        other => {
            ledger
                .violations
                .push(format!("unexpected status {other}: {text}"));
            return None;
        }
    }
    let body: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    let Some(items) = body.as_array() else {
        if status == StatusCode::SERVICE_UNAVAILABLE && body["error"]["code"].is_string() {
            // The whole request was refused before any item was looked at.
            ledger.resent_items += sent.len() as u64;
            *pending = sent;
            return Some(retry_after.unwrap_or(MAX_RETRY_AFTER).min(MAX_RETRY_AFTER));
        }
        ledger
            .violations
            .push(format!("{status} without an item array: {text}"));
        return None;
    };
    if items.len() != sent.len() {
        ledger.violations.push(format!(
            "{} items sent, {} answered: {text}",
            sent.len(),
            items.len()
        ));
        return None;
    }
    for ((id, event), item) in sent.into_iter().zip(items) {
        if let (Some(answered), Some(seq)) = (item["id"].as_str(), item["seq"].as_u64()) {
            if answered != id {
                ledger
                    .violations
                    .push(format!("{id} was answered as {answered}"));
            }
            let duplicate = item["duplicate"].as_bool().unwrap_or(false);
            ledger.stored(&id, seq, duplicate);
        } else if item["error"]["code"] == "unavailable" {
            ledger.resent_items += 1;
            pending.push((id, event));
        } else {
            ledger.violations.push(format!("{id} was refused: {item}"));
        }
    }
    (!pending.is_empty()).then(|| retry_after.unwrap_or(MAX_RETRY_AFTER).min(MAX_RETRY_AFTER))
}
