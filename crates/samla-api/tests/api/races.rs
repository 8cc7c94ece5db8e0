//! Concurrency through both doors: racing claims, retries inside multi-item requests, and
//! group commit gathering concurrent requests into fewer batches.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use futures::future::join_all;
use proto_events::{Kind, codec};
use serde_json::{Value, json};

use crate::common::*;

const CLAIMANTS: usize = 32;

/// Raises a need and returns its sequence.
async fn raise(gateway: &Gateway, incident: &str, need: &str) -> u64 {
    let raised = envelope(Kind::NeedRaised, incident, "alfa", need);
    let (status, _, reply) = post_json(&gateway.router, "alfa", &json(&raised)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{reply}");
    seq(&reply[0])
}

/// Exactly one claim landed; every other one is a conflict naming the winner's sequence.
fn assert_one_winner(replies: &[Value]) -> u64 {
    let winners: Vec<&Value> = replies
        .iter()
        .filter(|reply| reply.get("seq").is_some())
        .collect();
    assert_eq!(winners.len(), 1, "{replies:#?}");
    let winner_seq = seq(winners[0]);
    assert_eq!(winners[0]["duplicate"], json!(false));
    for reply in replies.iter().filter(|reply| reply.get("seq").is_none()) {
        assert_eq!(reply["error"]["code"], "conflict", "{reply}");
        assert_eq!(reply["error"]["field"], "expected_seq");
        assert_eq!(reply["error"]["current_seq"], json!(winner_seq), "{reply}");
    }
    winner_seq
}

#[tokio::test]
async fn thirty_two_http_claims_on_one_need_one_wins() {
    let gateway = gateway(test_config()).await;
    let raised_seq = raise(&gateway, "t-race-http", "need-1").await;
    let claims: Vec<_> = (0..CLAIMANTS)
        .map(|index| {
            envelope(
                Kind::NeedClaimed,
                "t-race-http",
                ORGS[index % ORGS.len()],
                "need-1",
            )
        })
        .collect();
    let answers = join_all(claims.iter().map(|claim| {
        let body = json!({"event": json(claim), "expected_seq": raised_seq});
        let router = gateway.router.clone();
        let org = claim.org.to_string();
        async move { post_json(&router, &org, &body).await }
    }))
    .await;
    let mut replies = Vec::new();
    for (status, _, reply) in answers {
        let expected = if reply[0].get("seq").is_some() {
            StatusCode::ACCEPTED
        } else {
            StatusCode::CONFLICT
        };
        assert_eq!(status, expected, "{reply}");
        replies.push(reply[0].clone());
    }
    let winner_seq = assert_one_winner(&replies);
    let stored = stored_ids(&gateway.log, "t-race-http").await;
    assert_eq!(stored.len(), 2, "the raise and one claim: {stored:?}");
    assert!(winner_seq > raised_seq);
}

#[tokio::test]
async fn thirty_two_nats_claims_on_one_need_one_wins() {
    let gateway = gateway(test_config()).await;
    let (stop, door) = open_nats_door(&gateway).await;
    let raised_seq = raise(&gateway, "t-race-nats", "need-1").await;
    let mut clients = BTreeMap::new();
    for org in ORGS {
        clients.insert(org, org_client(org).await);
    }
    let claims: Vec<_> = (0..CLAIMANTS)
        .map(|index| {
            envelope(
                Kind::NeedClaimed,
                "t-race-nats",
                ORGS[index % ORGS.len()],
                "need-1",
            )
        })
        .collect();
    let replies =
        join_all(
            claims.iter().map(|claim| {
                let org = claim.org.to_string();
                let client = clients[org.as_str()].client.clone();
                let body = msgpack(&msgpack_claim(claim, raised_seq));
                async move {
                    nats_request(&client, format!("samla.ingest.t-race-nats.{org}"), body).await
                }
            }),
        )
        .await;
    let replies: Vec<Value> = replies.into_iter().map(|reply| reply[0].clone()).collect();
    assert_one_winner(&replies);
    assert_eq!(stored_ids(&gateway.log, "t-race-nats").await.len(), 2);
    stop.send(()).expect("door running");
    door.await.expect("door stops");
}

#[tokio::test]
async fn a_retried_id_inside_a_request_is_a_duplicate_and_the_rest_land_once() {
    let gateway = gateway(test_config()).await;
    let (stop, door) = open_nats_door(&gateway).await;
    let alfa = org_client("alfa").await;
    let incident = "t-retry";
    let events: Vec<_> = (0..6)
        .map(|index| envelope(Kind::NeedRaised, incident, "alfa", &format!("need-{index}")))
        .collect();

    // HTTP: the first event alone, then again amid two new ones.
    let (_, _, reply) = post_json(&gateway.router, "alfa", &json(&events[0])).await;
    let first_seq = seq(&reply[0]);
    let body = json!([json(&events[1]), json(&events[0]), json(&events[2])]);
    let (status, _, reply) = post_json(&gateway.router, "alfa", &body).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(
        reply[1],
        json!({"id": id_of(&events[0]), "seq": first_seq, "duplicate": true})
    );
    assert_eq!(reply[0]["duplicate"], json!(false));
    assert_eq!(reply[2]["duplicate"], json!(false));

    // NATS: the same with another event retried.
    let subject = format!("samla.ingest.{incident}.alfa");
    let reply = nats_request(
        &alfa.client,
        subject.clone(),
        codec::encode_msgpack(&events[3]),
    )
    .await;
    let third_seq = seq(&reply[0]);
    let body = json!([json(&events[4]), json(&events[3]), json(&events[5])]);
    let reply = nats_request(&alfa.client, subject, msgpack(&body)).await;
    assert_eq!(
        reply[1],
        json!({"id": id_of(&events[3]), "seq": third_seq, "duplicate": true})
    );
    assert_eq!(reply[0]["duplicate"], json!(false));
    assert_eq!(reply[2]["duplicate"], json!(false));

    let mut stored = stored_ids(&gateway.log, incident).await;
    stored.sort();
    let mut expected: Vec<String> = events.iter().map(id_of).collect();
    expected.sort();
    assert_eq!(stored, expected, "every event exactly once");
    stop.send(()).expect("door running");
    door.await.expect("door stops");
}

#[tokio::test]
async fn concurrent_requests_from_both_doors_share_batches() {
    // A server of its own: on the shared one, other tests' doors (the same queue group)
    // would take some of these requests, and their batches would not be counted here.
    let block = fixture().permissions.clone();
    let server = tokio::task::spawn_blocking(move || permissioned_server(&block))
        .await
        .expect("join");
    let gateway = gateway_at(&server.client_url(), test_config()).await;
    let (stop, door) = open_nats_door(&gateway).await;
    let bravo = org_client_at(&server.client_url(), "bravo").await;
    let incident = "t-group";
    const PER_DOOR: usize = 32;
    let http_events: Vec<_> = (0..PER_DOOR)
        .map(|index| envelope(Kind::NeedRaised, incident, "alfa", &format!("http-{index}")))
        .collect();
    let nats_events: Vec<_> = (0..PER_DOOR)
        .map(|index| {
            envelope(
                Kind::NeedRaised,
                incident,
                "bravo",
                &format!("nats-{index}"),
            )
        })
        .collect();
    let before = gateway.service.commit_stats();

    let http = join_all(http_events.iter().map(|event| {
        let router = gateway.router.clone();
        let body = json(event);
        async move { post_json(&router, "alfa", &body).await }
    }));
    let nats =
        join_all(
            nats_events.iter().map(|event| {
                let client = bravo.client.clone();
                let body = codec::encode_msgpack(event);
                async move {
                    nats_request(&client, format!("samla.ingest.{incident}.bravo"), body).await
                }
            }),
        );
    let (http, nats) = tokio::join!(http, nats);
    for (status, _, reply) in &http {
        assert_eq!(*status, StatusCode::ACCEPTED, "{reply}");
        assert_eq!(reply[0]["duplicate"], json!(false));
    }
    for reply in &nats {
        assert_eq!(reply[0]["duplicate"], json!(false), "{reply}");
    }

    let after = gateway.service.commit_stats();
    let requests = (2 * PER_DOOR) as u64;
    assert_eq!(after.submissions - before.submissions, requests);
    assert_eq!(after.items - before.items, requests);
    let batches = after.batches - before.batches;
    assert!(
        batches < requests,
        "{requests} concurrent requests took {batches} batches: nothing was gathered"
    );
    assert_eq!(stored_ids(&gateway.log, incident).await.len(), 2 * PER_DOOR);
    stop.send(()).expect("door running");
    door.await.expect("door stops");
}
