//! `POST /v1/events` through the router, without a socket: every status and exact bodies.

use std::time::Duration;

use axum::http::StatusCode;
use proto_events::{Kind, Text, decode_json};
use samla_api::{IngestConfig, RateLimit};
use serde_json::{Value, json};

use crate::common::*;

/// The contract's own reason for refusing these bytes at decoding.
fn decode_reason(item: &Value) -> String {
    decode_json(item.to_string().as_bytes())
        .expect_err("the item must not decode")
        .to_string()
}

/// A need raised with `note` (a free text the personal-data guard reads).
fn with_note(incident: &str, aggregate: &str, note: &str) -> proto_events::Envelope {
    let mut envelope = envelope(Kind::NeedRaised, incident, "alfa", aggregate);
    if let proto_events::Payload::NeedRaised(payload) = &mut envelope.payload {
        payload.note = Some(Text::new(note).expect("note"));
    }
    envelope
}

const PERSONAL_NUMBER_NOTE: &str = "Kontakt: 19121212-1212";

fn personal_data_reason(envelope: &proto_events::Envelope) -> String {
    let error = envelope.validate().expect_err("the guard must refuse it");
    assert_eq!(
        (error.code, error.field.as_str()),
        ("personal_data", "payload.note")
    );
    error.reason
}

#[tokio::test]
async fn mixed_request_stores_the_valid_item_and_names_the_personal_data() {
    let gateway = gateway(test_config()).await;
    let valid = envelope(Kind::NeedRaised, "t-mixed", "alfa", "need-1");
    let personal = with_note("t-mixed", "need-2", PERSONAL_NUMBER_NOTE);
    let body = json!([json(&valid), json(&personal)]);
    let (status, _, reply) = post_json(&gateway.router, "alfa", &body).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let expected = json!([
        {"id": id_of(&valid), "seq": seq(&reply[0]), "duplicate": false},
        {"id": id_of(&personal), "error": {
            "code": "personal_data",
            "field": "payload.note",
            "reason": personal_data_reason(&personal),
        }},
    ]);
    assert_eq!(reply, expected);
    assert_eq!(
        stored_ids(&gateway.log, "t-mixed").await,
        vec![id_of(&valid)]
    );
}

#[tokio::test]
async fn missing_or_unknown_token_is_401() {
    let gateway = gateway(test_config()).await;
    let body = json(&envelope(Kind::NeedRaised, "t-401", "alfa", "need-1")).to_string();
    let expected = json!({"error": {
        "code": "unauthorized",
        "message": "a valid bearer token is required (Authorization: Bearer <token>)",
        "field": "authorization",
    }});
    for token in [None, Some("samla_not-a-token")] {
        let (status, headers, reply) = post(&gateway.router, token, body.clone()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(reply, expected);
        assert_eq!(headers["www-authenticate"], "Bearer realm=\"samla\"");
    }
    assert!(stored_ids(&gateway.log, "t-401").await.is_empty());
}

#[tokio::test]
async fn another_organisations_event_is_403_and_read_only_tokens_may_not_post() {
    let gateway = gateway(test_config()).await;
    let foreign = envelope(Kind::NeedRaised, "t-403", "bravo", "need-1");
    let (status, _, reply) = post_json(&gateway.router, "alfa", &json(&foreign)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        reply,
        json!([{"id": id_of(&foreign), "error": {
            "code": "forbidden",
            "field": "org",
            "reason": "this credential speaks for organisation alfa; the event names bravo (an organisation may only emit its own events)",
        }}])
    );

    let own = json(&envelope(Kind::NeedRaised, "t-403", "alfa", "need-2")).to_string();
    let fixture = fixture();
    for (token, message) in [
        (
            &fixture.share_token,
            "a share token is read-only: it may not post events",
        ),
        (
            &fixture.operator_token,
            "an operator token may not post events; an organisation posts with its own token",
        ),
    ] {
        let (status, _, reply) = post(&gateway.router, Some(token), own.clone()).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(
            reply,
            json!({"error": {"code": "forbidden", "message": message}})
        );
    }
    assert!(stored_ids(&gateway.log, "t-403").await.is_empty());
}

#[tokio::test]
async fn a_stale_expected_seq_is_409_with_the_current_sequence() {
    let gateway = gateway(test_config()).await;
    let raised = envelope(Kind::NeedRaised, "t-409", "alfa", "need-1");
    let (status, _, reply) = post_json(&gateway.router, "alfa", &json(&raised)).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let raised_seq = seq(&reply[0]);

    let claim = envelope(Kind::NeedClaimed, "t-409", "bravo", "need-1");
    let body = json!({"event": json(&claim), "expected_seq": 0});
    let (status, _, reply) = post_json(&gateway.router, "bravo", &body).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        reply,
        json!([{"id": id_of(&claim), "error": {
            "code": "conflict",
            "field": "expected_seq",
            "reason": format!("conflict: the aggregate's last event is at sequence {raised_seq}, not at the expected 0"),
            "current_seq": raised_seq,
        }}])
    );
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let gateway = gateway(IngestConfig {
        max_body_bytes: 16 * 1024,
        ..test_config()
    })
    .await;
    let items: Vec<Value> = (0..40)
        .map(|index| {
            json(&envelope(
                Kind::NeedRaised,
                "t-413",
                "alfa",
                &format!("need-{index}"),
            ))
        })
        .collect();
    let body = Value::Array(items);
    assert!(body.to_string().len() > 16 * 1024);
    let (status, _, reply) = post_json(&gateway.router, "alfa", &body).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        reply,
        json!({"error": {
            "code": "too_large",
            "message": "the request body exceeds 16384 bytes; send fewer events per request",
        }})
    );
    assert!(stored_ids(&gateway.log, "t-413").await.is_empty());
}

#[tokio::test]
async fn unusable_items_are_422_naming_code_and_field() {
    let gateway = gateway(test_config()).await;

    // Not JSON at all: one unreadable item.
    let broken = "{\"id\": ";
    let (status, _, reply) =
        post(&gateway.router, Some(&fixture().org_tokens["alfa"]), broken).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let parse_error = serde_json::from_str::<Value>(broken).unwrap_err();
    assert_eq!(
        reply,
        json!([{"id": null, "error": {
            "code": "malformed",
            "field": "",
            "reason": format!("the body is not JSON: {parse_error}"),
        }}])
    );

    let base = envelope(Kind::NeedRaised, "t-422", "alfa", "need-1");
    let mut unknown_kind = json(&base);
    unknown_kind["kind"] = json!("need_teleported");
    let mut newer = json(&base);
    newer["v"] = json!(99);
    let mut negative = json(&base);
    negative["payload"]["quantity"] = json!(-5);
    let mut zoneless = json(&base);
    zoneless["occurred_at"] = json!("2026-03-03T07:45:00");
    let cases = [
        (unknown_kind, "unknown_kind", "kind"),
        (newer, "unsupported_version", "v"),
        (negative, "malformed", "payload.quantity"),
        (zoneless, "malformed", "occurred_at"),
    ];
    for (item, code, field) in cases {
        let (status, _, reply) = post_json(&gateway.router, "alfa", &item).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{code} {field}");
        assert_eq!(
            reply,
            json!([{"id": id_of(&base), "error": {
                "code": code,
                "field": field,
                "reason": decode_reason(&item),
            }}]),
            "{code} {field}"
        );
    }

    let personal = with_note("t-422", "need-2", PERSONAL_NUMBER_NOTE);
    let (status, _, reply) = post_json(&gateway.router, "alfa", &json(&personal)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        reply,
        json!([{"id": id_of(&personal), "error": {
            "code": "personal_data",
            "field": "payload.note",
            "reason": personal_data_reason(&personal),
        }}])
    );

    // A wrapper with a negative expected_seq, and an empty array.
    let wrapped = json!({"event": json(&base), "expected_seq": -1});
    let (status, _, reply) = post_json(&gateway.router, "alfa", &wrapped).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply[0]["error"]["field"], "expected_seq");
    assert_eq!(reply[0]["id"], json!(id_of(&base)));
    let (status, _, reply) = post_json(&gateway.router, "alfa", &json!([])).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply["error"]["code"], "no_events");
    assert!(stored_ids(&gateway.log, "t-422").await.is_empty());
}

#[tokio::test]
async fn over_the_rate_is_429_with_retry_after() {
    let gateway = gateway(IngestConfig {
        rate_limit: Some(RateLimit {
            // One event in 10,000 s: the wait, rounded up, stays 10,000 s for 10 s after
            // the first event's check (its append in between).
            events_per_second: 0.0001,
            burst: 1,
        }),
        ..test_config()
    })
    .await;
    let first = envelope(Kind::NeedRaised, "t-429", "alfa", "need-1");
    let (status, _, _) = post_json(&gateway.router, "alfa", &json(&first)).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let second = envelope(Kind::NeedRaised, "t-429", "alfa", "need-2");
    let (status, headers, reply) = post_json(&gateway.router, "alfa", &json(&second)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(headers["retry-after"], "10000");
    assert_eq!(
        reply,
        json!({"error": {
            "code": "rate_limited",
            "message": "rate limit exceeded for organisation alfa; retry after 10000 s",
        }})
    );
    // Another organisation has its own bucket.
    let other = envelope(Kind::NeedRaised, "t-429", "bravo", "need-3");
    let (status, _, _) = post_json(&gateway.router, "bravo", &json(&other)).await;
    assert_eq!(status, StatusCode::ACCEPTED);
}

#[tokio::test]
async fn a_slow_request_times_out_with_503_and_its_retry_is_a_duplicate() {
    // The committer waits a long window before appending a lone request, so the request
    // times out first; the event is still appended when the window closes.
    let gateway = gateway(IngestConfig {
        commit_window: Some(Duration::from_millis(400)),
        request_timeout: Duration::from_millis(50),
        ..test_config()
    })
    .await;
    let event = envelope(Kind::NeedRaised, "t-timeout", "alfa", "need-1");
    let (status, headers, reply) = post_json(&gateway.router, "alfa", &json(&event)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(headers["retry-after"], "1");
    assert_eq!(
        reply,
        json!({"error": {
            "code": "timeout",
            "message": "the request did not finish within 50 ms; retry with the same event ids (duplicates are recognised)",
        }})
    );
    let ids = samla_testkit::wait_for(
        "the timed-out event to land",
        Duration::from_secs(10),
        || async {
            let ids = stored_ids(&gateway.log, "t-timeout").await;
            (!ids.is_empty()).then_some(ids)
        },
    )
    .await;
    assert_eq!(ids, vec![id_of(&event)]);

    // The retry, on a gateway without the slow window, is recognised.
    let quick = crate::common::gateway(test_config()).await;
    let (status, _, reply) = post_json(&quick.router, "alfa", &json(&event)).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(reply[0]["duplicate"], json!(true));
}

#[tokio::test]
async fn nats_down_is_503_and_nothing_is_reported_stored() {
    // Its own server: this test stops it.
    let (server, gateway) = gateway_on_own_server().await;
    let before = envelope(Kind::NeedRaised, "t-503", "alfa", "need-1");
    let (status, _, _) = post_json(&gateway.router, "alfa", &json(&before)).await;
    assert_eq!(status, StatusCode::ACCEPTED);

    let server = stop_server(server).await;
    let events = [
        envelope(Kind::NeedRaised, "t-503", "alfa", "need-2"),
        envelope(Kind::NeedRaised, "t-503", "alfa", "need-3"),
    ];
    let body = json!([json(&events[0]), json(&events[1])]);
    let (status, headers, reply) = post_json(&gateway.router, "alfa", &body).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{reply}");
    assert_eq!(headers["retry-after"], "2");
    let items = reply.as_array().expect("an array");
    assert_eq!(items.len(), 2);
    for (item, event) in items.iter().zip(&events) {
        assert_eq!(item["id"], json!(id_of(event)));
        assert_eq!(item["error"]["code"], "unavailable", "{item}");
        assert_eq!(item["error"]["field"], "");
        assert!(item.get("seq").is_none(), "reported as stored: {item}");
    }
    drop(server);
}

#[tokio::test]
async fn unknown_routes_answer_json_404() {
    let gateway = gateway(test_config()).await;
    let response = tower::ServiceExt::oneshot(
        gateway.router.clone(),
        axum::http::Request::get("/v1/nothing")
            .body(axum::body::Body::empty())
            .expect("request"),
    )
    .await
    .expect("answer");
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    let body: Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(body["error"]["code"], "not_found");
}
