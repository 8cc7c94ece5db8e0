//! The NATS door with permissions on: organisations connect as their own users, the
//! server enforces who may publish where.

use std::time::Duration;

use proto_events::{Kind, codec};
use samla_api::nats_permissions::{ServiceRole, service_connect_options};
use samla_log::{Log, LogConfig, ReadFilter, ReadRange};
use samla_testkit::wait_for;
use serde_json::{Value, json};

use crate::common::*;

#[tokio::test]
async fn valid_invalid_duplicate_conflict_and_mismatches_over_nats() {
    let gateway = gateway(test_config()).await;
    let (stop, door) = open_nats_door(&gateway).await;
    let alfa = org_client("alfa").await;
    let subject = "samla.ingest.t-nats.alfa".to_owned();

    // Valid, one envelope (not an array), encoded by the contract's codec.
    let raised = envelope(Kind::NeedRaised, "t-nats", "alfa", "need-1");
    let reply = nats_request(
        &alfa.client,
        subject.clone(),
        codec::encode_msgpack(&raised),
    )
    .await;
    let raised_seq = seq(&reply[0]);
    assert_eq!(
        reply,
        json!([{"id": id_of(&raised), "seq": raised_seq, "duplicate": false}])
    );

    // The same event again: a duplicate with the first sequence.
    let reply = nats_request(
        &alfa.client,
        subject.clone(),
        codec::encode_msgpack(&raised),
    )
    .await;
    assert_eq!(
        reply,
        json!([{"id": id_of(&raised), "seq": raised_seq, "duplicate": true}])
    );

    // Invalid (personal data), a stale claim, another incident, another organisation.
    let mut personal = json(&envelope(Kind::NeedRaised, "t-nats", "alfa", "need-2"));
    personal["payload"]["note"] = json!("ring 070-123 45 67");
    let personal_reason = codec::decode_json(personal.to_string().as_bytes())
        .expect("decodes")
        .validate()
        .expect_err("guarded")
        .reason;
    let claim = envelope(Kind::NeedClaimed, "t-nats", "alfa", "need-1");
    let elsewhere = envelope(Kind::NeedRaised, "t-nats-other", "alfa", "need-3");
    let foreign = envelope(Kind::NeedRaised, "t-nats", "bravo", "need-4");
    let body = json!([
        personal,
        msgpack_claim(&claim, 0),
        json(&elsewhere),
        json(&foreign),
    ]);
    let reply = nats_request(&alfa.client, subject.clone(), msgpack(&body)).await;
    assert_eq!(
        reply,
        json!([
            {"id": personal["id"], "error": {
                "code": "personal_data", "field": "payload.note", "reason": personal_reason,
            }},
            {"id": id_of(&claim), "error": {
                "code": "conflict", "field": "expected_seq",
                "reason": format!("conflict: the aggregate's last event is at sequence {raised_seq}, not at the expected 0"),
                "current_seq": raised_seq,
            }},
            {"id": id_of(&elsewhere), "error": {
                "code": "inconsistent", "field": "incident",
                "reason": "the request was sent for incident t-nats but the event names incident t-nats-other",
            }},
            {"id": id_of(&foreign), "error": {
                "code": "forbidden", "field": "org",
                "reason": "this credential speaks for organisation alfa; the event names bravo (an organisation may only emit its own events)",
            }},
        ])
    );

    // The right claim lands; an unreadable request is answered, not dropped.
    let reply = nats_request(
        &alfa.client,
        subject.clone(),
        msgpack(&msgpack_claim(&claim, raised_seq)),
    )
    .await;
    assert_eq!(reply[0]["duplicate"], json!(false));
    let reply = nats_request(&alfa.client, subject.clone(), vec![0xc1]).await;
    assert_eq!(reply[0]["id"], Value::Null);
    assert_eq!(reply[0]["error"]["code"], "malformed");

    assert_eq!(
        stored_ids(&gateway.log, "t-nats").await,
        vec![id_of(&raised), id_of(&claim)]
    );
    assert!(stored_ids(&gateway.log, "t-nats-other").await.is_empty());
    stop.send(()).expect("door running");
    door.await.expect("door stops");
}

fn short_request(body: Vec<u8>) -> async_nats::Request {
    async_nats::Request::new()
        .payload(body.into())
        .timeout(Some(Duration::from_secs(2)))
}

#[tokio::test]
async fn the_server_refuses_an_organisation_speaking_for_another_or_writing_the_log() {
    let gateway = gateway(test_config()).await;
    let (stop, door) = open_nats_door(&gateway).await;
    let alfa = org_client("alfa").await;

    // On bravo's ingest subject: the server drops it and says why.
    let posing = envelope(Kind::NeedRaised, "t-perm", "bravo", "need-1");
    // A refused publish is never answered: the request can only time out.
    let outcome = alfa
        .client
        .send_request(
            "samla.ingest.t-perm.bravo".to_owned(),
            short_request(codec::encode_msgpack(&posing)),
        )
        .await;
    assert!(
        outcome.is_err(),
        "a refused publish was answered: {outcome:?}"
    );
    wait_for(
        "the permission violation",
        Duration::from_secs(10),
        || async {
            let errors = alfa.server_errors.lock().expect("lock").clone();
            errors
                .iter()
                .any(|error| {
                    error.contains("Permissions Violation for Publish")
                        && error.contains("samla.ingest.t-perm.bravo")
                })
                .then_some(())
        },
    )
    .await;

    // Straight onto the log: refused too.
    let direct = envelope(Kind::NeedRaised, "t-perm", "alfa", "need-2");
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("Nats-Msg-Id", id_of(&direct).as_str());
    alfa.client
        .publish_with_headers(
            "samla.evt.t-perm.alfa.need.need-2".to_owned(),
            headers,
            codec::encode_msgpack(&direct).into(),
        )
        .await
        .expect("publish is sent");
    alfa.client.flush().await.expect("flush");
    wait_for(
        "the log permission violation",
        Duration::from_secs(10),
        || async {
            let errors = alfa.server_errors.lock().expect("lock").clone();
            errors
                .iter()
                .any(|error| error.contains("samla.evt.t-perm.alfa.need.need-2"))
                .then_some(())
        },
    )
    .await;

    // And no JetStream API at all.
    let outcome = alfa
        .client
        .send_request("$JS.API.INFO".to_owned(), short_request(Vec::new()))
        .await;
    assert!(
        outcome.is_err(),
        "an organisation reached the JetStream API: {outcome:?}"
    );
    wait_for(
        "the JetStream API violation",
        Duration::from_secs(10),
        || async {
            let errors = alfa.server_errors.lock().expect("lock").clone();
            errors
                .iter()
                .any(|error| error.contains("$JS.API.INFO"))
                .then_some(())
        },
    )
    .await;

    assert!(stored_ids(&gateway.log, "t-perm").await.is_empty());
    stop.send(()).expect("door running");
    door.await.expect("door stops");
}

#[tokio::test]
async fn the_projector_user_reads_the_log_but_may_not_append() {
    let gateway = gateway(test_config()).await;
    let raised = envelope(Kind::NeedRaised, "t-reader", "alfa", "need-1");
    let (_, _, reply) = post_json(&gateway.router, "alfa", &json(&raised)).await;
    let raised_seq = seq(&reply[0]);

    let fixture = fixture();
    let options = samla_log::ConnectOptions {
        request_timeout: Duration::from_secs(3),
        ..service_connect_options(ServiceRole::Projector, &fixture.projector_password)
    };
    let connection = samla_log::connect(&[fixture.server.client_url()], options)
        .await
        .expect("connect as the projector");
    let reader = Log::open(&connection, LogConfig::new(256 * MIB))
        .await
        .expect("the projector opens the existing log");
    let records = reader
        .read(ReadRange {
            from_seq: raised_seq,
            to_seq: Some(raised_seq),
            filter: ReadFilter::Incident("t-reader".to_owned()),
            ..ReadRange::default()
        })
        .await
        .expect("start reading")
        .collect_all()
        .await
        .expect("read");
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].msg_id(), Some(id_of(&raised).as_str()));

    let second = envelope(Kind::NeedRaised, "t-reader", "alfa", "need-2");
    let refused = reader.append_event(&second, None).await;
    assert!(
        matches!(refused, Err(samla_log::LogError::PermissionDenied { .. })),
        "{refused:?}"
    );
    assert_eq!(
        stored_ids(&gateway.log, "t-reader").await,
        vec![id_of(&raised)]
    );
}
