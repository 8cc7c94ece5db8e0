//! Reads at a past moment through the router: `at_seq`, and `as_of` in both senses, under
//! the live rules of visibility, each answer saying which moment it shows.
//!
//! The stream is shared with the binary's other tests, so positions are compared with
//! this test's own sequences (`>=`, `<`), never with absolute numbers.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use proto_events::{Audience, Envelope, Kind, Timestamp};
use serde_json::Value;

use crate::common::org_id;
use crate::read_side::{event, get, joined, post_one, read_side};

fn occurred(mut event: Envelope, at: Timestamp) -> Envelope {
    event.occurred_at = at;
    event
}

fn ids(answer: &Value) -> BTreeSet<String> {
    answer["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items in {answer}"))
        .iter()
        .map(|item| item["id"].as_str().expect("an id").to_owned())
        .collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|name| name.to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replays_answer_as_known_and_as_happened_with_the_live_visibility() {
    let folder = tempfile::tempdir().expect("tempdir");
    let side = read_side(folder.path()).await;
    let router = &side.router;
    let incident = "as-of-api";
    let start = Timestamp::now();
    let early = start.plus_seconds(-3 * 3600);
    for org in ["alfa", "bravo"] {
        post_one(router, org, &occurred(joined(incident, org), early)).await;
    }
    let need = |org: &str, id: &str, audience: Audience, at: Timestamp| {
        occurred(event(Kind::NeedRaised, incident, org, id, audience), at)
    };
    let first = post_one(
        router,
        "bravo",
        &need("bravo", "need-first", Audience::Network, start),
    )
    .await;
    let only_alfa = Audience::Orgs([org_id("alfa")].into());
    let restricted = post_one(
        router,
        "alfa",
        &need("alfa", "need-alfa-only", only_alfa, start),
    )
    .await;
    // T1 in real time between two appends; the next event is recorded after it.
    let mid = Timestamp::now();
    while Timestamp::now() <= mid {
        std::hint::spin_loop();
    }
    // A late report: it occurred two hours before T1 but is recorded after it.
    let late = post_one(
        router,
        "bravo",
        &need(
            "bravo",
            "need-late",
            Audience::Network,
            start.plus_seconds(-2 * 3600),
        ),
    )
    .await;

    let needs = async |org: &str, query: String| {
        let path = format!("/v1/incidents/{incident}/needs?{query}");
        let (status, answer) = get(router, org, &path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {answer}");
        answer
    };

    // Live: everything, and no `as_of`.
    let live = needs("alfa", format!("min_seq={late}")).await;
    assert_eq!(
        ids(&live),
        set(&["need-alfa-only", "need-first", "need-late"])
    );
    assert!(live["as_of"].is_null(), "{live}");

    // By sequence: the log prefix, with the restricted need for its audience only.
    let at_first = needs("alfa", format!("at_seq={first}")).await;
    assert_eq!(ids(&at_first), set(&["need-first"]));
    assert_eq!(at_first["as_of"]["sense"], "known");
    assert_eq!(at_first["as_of"]["seq"], first);
    assert!(
        at_first["as_of"]["events"].as_u64() >= Some(3),
        "{at_first}"
    );
    // Ages are computed at the moment shown: that event's recorded time.
    assert_eq!(at_first["now"], at_first["as_of"]["at"]);
    let recorded = Timestamp::parse(at_first["now"].as_str().expect("now")).expect("a time");
    assert!(recorded >= start && recorded <= mid, "{recorded}");
    for (org, expected) in [
        ("alfa", set(&["need-alfa-only", "need-first"])),
        ("bravo", set(&["need-first"])),
    ] {
        let answer = needs(org, format!("at_seq={restricted}")).await;
        assert_eq!(ids(&answer), expected, "{org} at {restricted}");
    }

    // As known at T1: the late report is not in it; as happened at T1, it is.
    let known = needs("alfa", format!("as_of={mid}")).await;
    assert_eq!(ids(&known), set(&["need-alfa-only", "need-first"]));
    assert_eq!(known["as_of"]["sense"], "known");
    assert_eq!(known["as_of"]["at"], Value::String(mid.to_string()));
    let seq = known["as_of"]["seq"].as_u64().expect("seq");
    assert!(seq >= restricted && seq < late, "{known}");
    let explicit = needs("alfa", format!("as_of={mid}&sense=known")).await;
    assert_eq!(explicit["as_of"], known["as_of"]);
    for (org, expected) in [
        ("alfa", set(&["need-alfa-only", "need-first", "need-late"])),
        ("bravo", set(&["need-first", "need-late"])),
    ] {
        let answer = needs(org, format!("as_of={mid}&sense=happened")).await;
        assert_eq!(ids(&answer), expected, "{org} as happened at T1");
        assert_eq!(answer["as_of"]["sense"], "happened");
        assert_eq!(answer["now"], Value::String(mid.to_string()));
    }
    // As happened one hour before the start: only the late report had occurred.
    let hour_before = start.plus_seconds(-3600);
    let answer = needs("bravo", format!("as_of={hour_before}&sense=happened")).await;
    assert_eq!(ids(&answer), set(&["need-late"]));
    // ... and before it, nothing; as known then, nothing either (nothing was recorded).
    let before_late = start.plus_seconds(-2 * 3600 - 60);
    let answer = needs("bravo", format!("as_of={before_late}&sense=happened")).await;
    assert_eq!(ids(&answer), set(&[]));
    let answer = needs("bravo", format!("as_of={hour_before}")).await;
    assert_eq!(ids(&answer), set(&[]));

    // Every read route takes the moment; the picture at the head is the live one.
    for route in [
        "picture",
        "sites",
        "offers",
        "needs",
        "resources",
        "issues",
        "reports",
        "network",
        "timeline",
    ] {
        let path = format!("/v1/incidents/{incident}/{route}?at_seq={late}");
        let (status, answer) = get(router, "bravo", &path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {answer}");
        assert_eq!(answer["as_of"]["seq"], late, "{path}");
    }
    let timeline = |answer: &Value| -> Vec<u64> {
        answer["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|item| item["seq"].as_u64().expect("seq"))
            .collect()
    };
    let (_, replayed) = get(
        router,
        "bravo",
        &format!("/v1/incidents/{incident}/timeline?at_seq={restricted}"),
    )
    .await;
    let (_, live) = get(
        router,
        "bravo",
        &format!("/v1/incidents/{incident}/timeline"),
    )
    .await;
    assert_eq!(timeline(&live)[0], late);
    assert_eq!(
        timeline(&replayed)[0],
        first,
        "bravo never sees {restricted}"
    );
    let (_, incidents) = get(router, "bravo", &format!("/v1/incidents?at_seq={late}")).await;
    assert_eq!(incidents["as_of"]["seq"], late, "{incidents}");

    // A position beyond the log names the parameter.
    let (status, answer) = get(
        router,
        "alfa",
        &format!("/v1/incidents/{incident}/needs?at_seq=999999999999"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(answer["error"]["field"], "at_seq");
    let message = answer["error"]["message"].as_str().expect("a message");
    assert!(
        message.starts_with("at_seq: 999999999999 is beyond the log's last sequence"),
        "{message}"
    );
    side.shut().await;
}

/// `GET /v1/chain` is the chain of the stream up to the sequence it names, and moves on
/// as the log grows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chain_head_is_the_chain_of_the_log_up_to_its_sequence() {
    let folder = tempfile::tempdir().expect("tempdir");
    let side = read_side(folder.path()).await;
    let incident = "chain-head";
    let first = post_one(&side.router, "alfa", &joined(incident, "alfa")).await;
    let (status, head) = get(&side.router, "alfa", "/v1/chain").await;
    assert_eq!(status, StatusCode::OK, "{head}");
    let seq = head["seq"].as_u64().expect("seq");
    assert!(seq >= first, "{head}");

    // Recompute from the stream, independently of the route.
    let log = crate::common::gateway(crate::common::test_config())
        .await
        .log;
    let mut chain = samla_log::chain::Chain::default();
    let mut records = log
        .read(samla_log::ReadRange::span(1, seq))
        .await
        .expect("read the log");
    while let Some(record) = records.next().await {
        chain.push(&record.expect("a record")).expect("in order");
    }
    assert_eq!(chain.head().seq, seq);
    assert_eq!(head["link"], chain.head().link);
    assert_eq!(head["content"], chain.head().content);
    assert_eq!(head["stream"], log.config().stream_name);

    // The share token may see it too; after an append it covers the new event.
    let later = post_one(&side.router, "bravo", &joined(incident, "bravo")).await;
    let share = crate::common::fixture().share_token.clone();
    let (status, _, moved) = crate::common::call(
        &side.router,
        "GET",
        "/v1/chain",
        crate::common::Credential::Bearer(&share),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    assert!(moved["seq"].as_u64() >= Some(later), "{moved}");
    assert_ne!(moved["link"], head["link"]);
    side.shut().await;
}
