//! A full disk refuses, it does not drop: `samla serve` on a log with a tiny byte budget
//! is posted to until the log is full. Ingest then answers 503 naming the full log (and
//! keeps answering so), everything acknowledged before is in the log, and reads go on.

use std::collections::BTreeMap;
use std::time::Duration;

use proto_events::Kind;
use reqwest::StatusCode;
use samla_api::nats_permissions::{ServiceRole, service_connect_options};
use samla_log::ConnectOptions;
use serde_json::{Value, json};

use crate::common::{Env, Serve, envelope, http, json_of, open_log, stored};

const INCIDENT: &str = "full-log";
const ORG: &str = "alfa";
/// About four hundred events.
const TINY_LOG: u64 = 256 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_log_answers_503_naming_it_keeps_what_it_acknowledged_and_still_serves_reads() {
    let env = tokio::task::spawn_blocking(Env::start)
        .await
        .expect("start the server");
    let folder = tempfile::tempdir().expect("a read-model folder");
    // The replica creates the stream at the tiny size.
    let replica = Serve::start_with(&env, folder.path(), TINY_LOG).await;
    let http = http();
    let token = env.token(ORG);

    let mut acknowledged: BTreeMap<String, u64> = BTreeMap::new();
    // The incident and its first member (an organisation sees the network's events once
    // it joined).
    let network = json!([
        json_of(&envelope(Kind::IncidentDeclared, INCIDENT, ORG, INCIDENT)),
        json_of(&envelope(Kind::OrganisationJoined, INCIDENT, ORG, ORG)),
    ]);
    let (status, _, text) = replica
        .post_raw(&http, token, network.to_string().into_bytes())
        .await
        .expect("post the network");
    assert_eq!(status, StatusCode::ACCEPTED, "{text}");
    for reply in serde_json::from_str::<Value>(&text)
        .expect("replies")
        .as_array()
        .expect("an array")
    {
        let id = reply["id"].as_str().expect("an id").to_owned();
        acknowledged.insert(id, reply["seq"].as_u64().expect("a seq"));
    }
    let mut full_answers = 0;
    let mut request = 0u64;
    while full_answers < 5 {
        request += 1;
        assert!(
            request < 2_000,
            "the log never filled; stored {}",
            acknowledged.len()
        );
        let items: Vec<Value> = (0..20)
            .map(|i| {
                json_of(&envelope(
                    Kind::NeedRaised,
                    INCIDENT,
                    ORG,
                    &format!("need-r{request}-e{i}"),
                ))
            })
            .collect();
        let (status, headers, text) = replica
            .post_raw(&http, token, Value::Array(items).to_string().into_bytes())
            .await
            .expect("the replica answers");
        let replies: Value = serde_json::from_str(&text)
            .unwrap_or_else(|error| panic!("{status}: not JSON ({error}): {text}"));
        let replies = replies
            .as_array()
            .unwrap_or_else(|| panic!("{status}: no item array: {text}"));
        for reply in replies {
            if let (Some(id), Some(seq)) = (reply["id"].as_str(), reply["seq"].as_u64()) {
                acknowledged.insert(id.to_owned(), seq);
            }
        }
        match status {
            StatusCode::ACCEPTED => {
                assert_eq!(
                    full_answers, 0,
                    "a 202 after the log said it was full: {text}"
                );
            }
            StatusCode::SERVICE_UNAVAILABLE => {
                full_answers += 1;
                assert!(
                    headers.contains_key("retry-after"),
                    "a 503 without Retry-After"
                );
                for reply in replies {
                    let error = &reply["error"];
                    assert_eq!(error["code"], "log_full", "{reply}");
                    let reason = error["reason"].as_str().unwrap_or_default();
                    assert!(
                        reason.contains("full"),
                        "the reason names the full log: {reason}"
                    );
                }
            }
            other => panic!("unexpected {other}: {text}"),
        }
    }
    eprintln!(
        "full log: {} events acknowledged before it filled, after {request} requests",
        acknowledged.len()
    );
    assert!(acknowledged.len() > 50, "the log took almost nothing");

    // The NATS door says the same.
    let client = env.org_client(ORG).await;
    let refused = envelope(Kind::NeedRaised, INCIDENT, ORG, "need-over-nats");
    let reply = client
        .request(
            format!("samla.ingest.{INCIDENT}.{ORG}"),
            rmp_serde::to_vec_named(&json!([json_of(&refused)]))
                .expect("MessagePack")
                .into(),
        )
        .await
        .expect("the NATS door answers");
    let reply: Value = rmp_serde::from_slice(&reply.payload).expect("a MessagePack reply");
    assert_eq!(reply[0]["error"]["code"], "log_full", "{reply}");

    // Everything acknowledged is there, once, where it was acknowledged; nothing else is.
    let log = open_log(
        &env.url(),
        ConnectOptions {
            request_timeout: Duration::from_secs(10),
            ..service_connect_options(ServiceRole::Ingest, &env.ingest_password)
        },
        TINY_LOG,
    )
    .await;
    let in_log: Vec<(u64, String)> = stored(&log, INCIDENT).await;
    let in_log_map: BTreeMap<String, u64> =
        in_log.iter().map(|(seq, id)| (id.clone(), *seq)).collect();
    assert_eq!(
        in_log.len(),
        in_log_map.len(),
        "an event is in the log twice"
    );
    assert_eq!(
        in_log_map, acknowledged,
        "the log differs from what was acknowledged"
    );

    // Reads go on: the projector is at the head, queries answer with everything.
    let head = log.head().await.expect("the head").last_seq;
    replica
        .wait_ready_at(&http, head, Duration::from_secs(60))
        .await;
    let timeline = replica.timeline_seqs(&http, token, INCIDENT, head).await;
    let mut seqs: Vec<u64> = acknowledged.values().copied().collect();
    seqs.sort_unstable();
    assert_eq!(
        timeline,
        seqs,
        "the timeline ({} events) differs from what was acknowledged ({})",
        timeline.len(),
        seqs.len()
    );
    let (status, needs) = replica
        .get(
            &http,
            token,
            &format!("/v1/incidents/{INCIDENT}/needs?min_seq={head}&limit=1"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{needs}");
    assert_eq!(needs["total"], acknowledged.len() - 2, "{needs}");
    replica.kill().await;
}
