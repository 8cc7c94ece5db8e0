//! Bad input never stops anything: 300 seeded cases of broken, hostile and mutated input,
//! through both doors of one `samla serve` (MessagePack over NATS as the organisation's
//! own user, JSON over HTTP with its token), interleaved with valid events. The replica
//! never falls over, every bad item gets its own named error, every valid event around
//! the bad ones is stored and applied, and nothing bad reaches the log.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use proto_events::Kind;
use rand::{Rng as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;
use reqwest::StatusCode;
use serde_json::Value;

use crate::common::{Env, Serve, ServeOptions, envelope, http, json_of, seed, shared, stored};
use crate::mutants::{Expect, INCIDENT, Item, ORG, bad_item, bad_json_body, bad_msgpack_body};

const CASES: usize = 300;

/// What the replica owes us after everything.
#[derive(Default)]
struct Ledger {
    /// Every item answered as stored: id → seq.
    stored: BTreeMap<String, u64>,
    /// The sequences of the valid events.
    valid_seqs: BTreeSet<u64>,
    failures: Vec<String>,
    refused: usize,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_hundred_bad_requests_through_both_doors_stop_nothing_and_lose_no_valid_event() {
    let seed = seed("bad input", 7_340_129);
    let env = tokio::task::spawn_blocking(shared)
        .await
        .expect("the shared server");
    let folder = tempfile::tempdir().expect("a read-model folder");
    // Pipelined commits here (the other fault tests run the default, atomic batches), so
    // that mode too meets hostile input through both doors.
    let options = ServeOptions {
        extra_args: vec!["--log-commit".to_owned(), "pipelined".to_owned()],
        ..env.serve_options()
    };
    let mut replica = Serve::start_on(&options, folder.path()).await;
    let mut http = http();
    let nats = env.org_client(ORG).await;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut ledger = Ledger::default();
    let mut valid_count = 0;

    let network = vec![
        json_of(&envelope(Kind::IncidentDeclared, INCIDENT, ORG, INCIDENT)),
        json_of(&envelope(Kind::OrganisationJoined, INCIDENT, ORG, ORG)),
    ];
    let (status, _, text) = replica
        .post_raw(
            &http,
            env.token(ORG),
            Value::Array(network).to_string().into_bytes(),
        )
        .await
        .expect("post the network");
    assert_eq!(status, StatusCode::ACCEPTED, "{text}");
    for reply in serde_json::from_str::<Value>(&text)
        .expect("replies")
        .as_array()
        .expect("an array")
    {
        let (id, seq) = (
            reply["id"].as_str().expect("id"),
            reply["seq"].as_u64().expect("seq"),
        );
        ledger.stored.insert(id.to_owned(), seq);
        ledger.valid_seqs.insert(seq);
    }

    for case in 0..CASES {
        let over_nats = rng.random_bool(0.5);
        let label = format!("case {case} ({})", if over_nats { "NATS" } else { "HTTP" });
        if rng.random_ratio(1, 4) {
            // A whole request that cannot be read, then a valid one right after it.
            let (body, what) = if over_nats {
                bad_msgpack_body(&mut rng)
            } else {
                bad_json_body(&mut rng)
            };
            let label = format!("{label}, {what}");
            if over_nats {
                send_unreadable_nats(&nats, body, &label, &mut ledger).await;
            } else {
                let oversized = body.len() > 4 * 1024 * 1024;
                send_unreadable_http(&replica, &http, env, body, &label, &mut ledger).await;
                if oversized {
                    // The replica closes the connection after its 413 without saying
                    // `Connection: close` (see the test below), so a pooled client would
                    // fail its next request: start a fresh pool.
                    http = crate::common::http();
                }
            }
            valid_count += 1;
            let items = vec![Item::valid(valid_count)];
            send_items(
                &replica,
                &http,
                env,
                &nats,
                over_nats,
                items,
                &label,
                &mut ledger,
            )
            .await;
        } else {
            // Valid events around one bad item.
            let mut items = Vec::new();
            for _ in 0..rng.random_range(0..=2) {
                valid_count += 1;
                items.push(Item::valid(valid_count));
            }
            items.push(bad_item(&mut rng, over_nats));
            for _ in 0..rng.random_range(1..=2) {
                valid_count += 1;
                items.push(Item::valid(valid_count));
            }
            send_items(
                &replica,
                &http,
                env,
                &nats,
                over_nats,
                items,
                &label,
                &mut ledger,
            )
            .await;
        }
        if !replica.alive() {
            panic!(
                "seed {seed}: samla serve died at {label}; stderr:\n{}",
                replica.stderr_text()
            );
        }
    }
    eprintln!(
        "bad input: {} items refused, {} stored ({} valid events)",
        ledger.refused,
        ledger.stored.len(),
        ledger.valid_seqs.len()
    );
    assert!(
        ledger.failures.is_empty(),
        "seed {seed}: {} answers broke the promise:\n{}",
        ledger.failures.len(),
        ledger.failures.join("\n")
    );

    // Every stored event of the incident is in the log where it was acknowledged, and the
    // log holds nothing else for it.
    let log = env.ingest_log().await;
    let in_log: BTreeMap<String, u64> = stored(&log, INCIDENT)
        .await
        .into_iter()
        .map(|(seq, id)| (id, seq))
        .collect();
    let valid_ids: BTreeMap<&String, &u64> = ledger
        .stored
        .iter()
        .filter(|(_, seq)| ledger.valid_seqs.contains(seq))
        .collect();
    for (id, seq) in &valid_ids {
        assert_eq!(in_log.get(*id), Some(*seq), "seed {seed}: valid event {id}");
    }
    for (id, seq) in &in_log {
        assert_eq!(
            ledger.stored.get(id),
            Some(seq),
            "seed {seed}: the log holds {id} at {seq}, which no answer acknowledged"
        );
    }

    // All of it applied: on the timeline, and nothing quarantined.
    let max_seq = ledger
        .valid_seqs
        .iter()
        .max()
        .copied()
        .expect("valid events");
    let timeline: BTreeSet<u64> = replica
        .timeline_seqs(&http, env.token(ORG), INCIDENT, max_seq)
        .await
        .into_iter()
        .collect();
    let missing: Vec<&u64> = ledger.valid_seqs.difference(&timeline).collect();
    assert!(
        missing.is_empty(),
        "seed {seed}: valid events not applied: {missing:?}"
    );
    let (status, quarantine) = replica
        .get(
            &http,
            &env.operator_token,
            &format!("/v1/incidents/{INCIDENT}/quarantine?min_seq={max_seq}"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{quarantine}");
    assert_eq!(
        quarantine["total"], 0,
        "seed {seed}: something bad reached the log: {quarantine:#}"
    );
    let (status, _) = replica.get(&http, env.token(ORG), "/healthz").await;
    assert_eq!(status, StatusCode::OK);
    assert!(replica.alive(), "samla serve died");
    let stderr = replica.stderr_text();
    assert!(
        !stderr.contains("panicked"),
        "samla serve panicked:\n{stderr}"
    );
    replica.kill().await;
}

/// Sends items through one door and checks each answer against what it must be.
#[allow(clippy::too_many_arguments)]
async fn send_items(
    replica: &Serve,
    http: &reqwest::Client,
    env: &Env,
    nats: &async_nats::Client,
    over_nats: bool,
    items: Vec<Item>,
    label: &str,
    ledger: &mut Ledger,
) {
    let replies: Vec<Value> = if over_nats {
        // A MessagePack array header, then the items as they are.
        let count = u16::try_from(items.len()).expect("few items");
        let mut body = vec![0xdc];
        body.extend_from_slice(&count.to_be_bytes());
        for item in &items {
            body.extend_from_slice(&item.msgpack);
        }
        match nats_request(nats, body).await {
            Ok(Value::Array(replies)) => replies,
            Ok(other) => {
                ledger
                    .failures
                    .push(format!("{label}: the reply is not an array: {other}"));
                return;
            }
            Err(error) => {
                ledger.failures.push(format!("{label}: {error}"));
                return;
            }
        }
    } else {
        let json: Vec<String> = items
            .iter()
            .map(|item| item.json.as_ref().expect("HTTP items are JSON").to_string())
            .collect();
        let body = format!("[{}]", json.join(","));
        let (status, _, text) = match replica
            .post_raw(http, env.token(ORG), body.into_bytes())
            .await
        {
            Ok(answer) => answer,
            Err(error) => {
                ledger.failures.push(format!("{label}: no answer: {error}"));
                return;
            }
        };
        let replies = match serde_json::from_str::<Value>(&text) {
            Ok(Value::Array(replies)) => replies,
            _ => {
                ledger.failures.push(format!(
                    "{label}: {status} without an item array: {text:.300}"
                ));
                return;
            }
        };
        let any_stored = replies.iter().any(|reply| reply["seq"].is_u64());
        let expected_status = if any_stored {
            StatusCode::ACCEPTED
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        // 403 when every refusal is `forbidden` (another organisation's envelope).
        let forbidden_only = status == StatusCode::FORBIDDEN && !any_stored;
        if status != expected_status && !forbidden_only {
            ledger.failures.push(format!(
                "{label}: {status}, expected {expected_status}: {text:.300}"
            ));
        }
        replies
    };
    if replies.len() != items.len() {
        ledger.failures.push(format!(
            "{label}: {} items, {} replies: {replies:?}",
            items.len(),
            replies.len()
        ));
        return;
    }
    for (item, reply) in items.iter().zip(&replies) {
        let stored = reply["seq"].as_u64();
        let code = reply["error"]["code"].as_str().unwrap_or_default();
        let reason = reply["error"]["reason"].as_str().unwrap_or_default();
        let refused_clearly = stored.is_none() && !code.is_empty() && !reason.is_empty();
        let ok = match item.expect {
            Expect::Stored => stored.is_some() && reply["id"].as_str() == item.id.as_deref(),
            Expect::Refused => refused_clearly,
            Expect::Either => stored.is_some() || refused_clearly,
        };
        if !ok {
            ledger.failures.push(format!(
                "{label}: a {} item ({:?}) got {reply}",
                item.what, item.expect
            ));
        }
        if refused_clearly {
            ledger.refused += 1;
        }
        if let (Some(seq), Some(id)) = (stored, reply["id"].as_str()) {
            ledger.stored.insert(id.to_owned(), seq);
            if item.expect == Expect::Stored {
                ledger.valid_seqs.insert(seq);
            }
        }
    }
}

async fn nats_request(nats: &async_nats::Client, body: Vec<u8>) -> Result<Value, String> {
    let subject = format!("samla.ingest.{INCIDENT}.{ORG}");
    let reply = tokio::time::timeout(Duration::from_secs(30), nats.request(subject, body.into()))
        .await
        .map_err(|_| "the NATS door did not answer in 30 s".to_owned())?
        .map_err(|error| format!("the NATS request failed: {error}"))?;
    rmp_serde::from_slice(&reply.payload)
        .map_err(|error| format!("the reply is not MessagePack ({error})"))
}

/// An unreadable NATS request: the reply must still be an array of refused items.
async fn send_unreadable_nats(
    nats: &async_nats::Client,
    body: Vec<u8>,
    label: &str,
    ledger: &mut Ledger,
) {
    match nats_request(nats, body).await {
        Ok(Value::Array(replies)) if !replies.is_empty() => {
            for reply in replies {
                let clear = reply["error"]["code"]
                    .as_str()
                    .is_some_and(|c| !c.is_empty())
                    && reply["error"]["reason"]
                        .as_str()
                        .is_some_and(|r| !r.is_empty());
                if reply["seq"].is_u64() {
                    // A mutation that still reads as events: fine if stored properly.
                    if let (Some(id), Some(seq)) = (reply["id"].as_str(), reply["seq"].as_u64()) {
                        ledger.stored.insert(id.to_owned(), seq);
                    }
                } else if clear {
                    ledger.refused += 1;
                } else {
                    ledger
                        .failures
                        .push(format!("{label}: an unclear refusal {reply}"));
                }
            }
        }
        Ok(other) => ledger.failures.push(format!(
            "{label}: the reply is not a non-empty array: {other}"
        )),
        Err(error) => ledger.failures.push(format!("{label}: {error}")),
    }
}

/// An unreadable HTTP body: a 4xx with a named error (an item array or an error object).
async fn send_unreadable_http(
    replica: &Serve,
    http: &reqwest::Client,
    env: &Env,
    body: Vec<u8>,
    label: &str,
    ledger: &mut Ledger,
) {
    let oversized = body.len() > 4 * 1024 * 1024;
    let (status, _, text) = match replica.post_raw(http, env.token(ORG), body).await {
        Ok(answer) => answer,
        // Over the body limit the server answers 413 and closes the connection while the
        // client is still sending, so the client may see the close instead of the 413.
        Err(error) if oversized && (error.is_request() || error.is_body()) => {
            ledger.refused += 1;
            return;
        }
        Err(error) => {
            ledger
                .failures
                .push(format!("{label}: no answer: {error:?}"));
            return;
        }
    };
    let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    let named = match &body {
        Value::Array(replies) => {
            !replies.is_empty()
                && replies.iter().all(|reply| {
                    reply["seq"].is_u64()
                        || reply["error"]["code"]
                            .as_str()
                            .is_some_and(|c| !c.is_empty())
                })
        }
        Value::Object(_) => {
            body["error"]["code"]
                .as_str()
                .is_some_and(|c| !c.is_empty())
                && body["error"]["message"]
                    .as_str()
                    .is_some_and(|m| !m.is_empty())
        }
        _ => false,
    };
    if let Value::Array(replies) = &body {
        for reply in replies {
            if let (Some(id), Some(seq)) = (reply["id"].as_str(), reply["seq"].as_u64()) {
                ledger.stored.insert(id.to_owned(), seq);
            }
        }
    }
    let stored_any = body
        .as_array()
        .is_some_and(|replies| replies.iter().any(|reply| reply["seq"].is_u64()));
    if !named || !(status.is_client_error() || (stored_any && status == StatusCode::ACCEPTED)) {
        ledger.failures.push(format!(
            "{label}: {status} without a named error: {text:.300}"
        ));
    } else {
        ledger.refused += 1;
    }
}

/// A body over the limit is answered 413 and the connection is then closed: the answer
/// must say `Connection: close`, or a keep-alive client sends its next request into a
/// closed connection (which is what reqwest did in the test above).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_body_is_413_and_says_the_connection_closes() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    // Its own server: on the shared one this replica's NATS door would join the other
    // test's queue group and could take (and, stopped at the end of this test, never
    // answer) one of that test's NATS requests.
    let env = tokio::task::spawn_blocking(Env::start)
        .await
        .expect("a nats-server of its own");
    let env = &env;
    let folder = tempfile::tempdir().expect("a read-model folder");
    let replica = Serve::start(env, folder.path()).await;
    let address = replica
        .api
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address)
        .await
        .expect("connect to the replica");
    let length = 5 * 1024 * 1024;
    let head = format!(
        "POST /v1/events HTTP/1.1\r\nhost: {address}\r\nauthorization: Bearer {}\r\n\
         content-type: application/json\r\ncontent-length: {length}\r\n\r\n",
        env.token(ORG)
    );
    stream
        .write_all(head.as_bytes())
        .await
        .expect("send the head");
    // Part of the body; the server answers once it is past the limit or sees the length.
    let _ = stream.write_all(&vec![b' '; 4 * 1024 * 1024 + 1024]).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer).to_lowercase();
    replica.kill().await;
    let head = answer.split("\r\n\r\n").next().unwrap_or_default();
    assert!(head.starts_with("http/1.1 413"), "not a 413: {answer:.400}");
    assert!(
        head.contains("connection: close"),
        "the 413 does not say `Connection: close`, yet the connection is closed after it: {head}"
    );
}
