//! `GET /v1/openapi.json`: an OpenAPI 3.x document that lists exactly the routes the
//! router serves, and whose schemas real answers satisfy.

use std::collections::BTreeSet;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt as _;
use proto_events::examples::example;
use proto_events::{EventId, IncidentId, Kind, Status, Timestamp};
use serde_json::{Value, json};
use tower::ServiceExt as _;

use crate::common::{Credential, call, fixture, gateway, json as to_json, org_id, test_config};
use crate::read_side::{joined, read_side, unloaded_router};

/// The routes the issue names, with their methods: the document must hold exactly these.
const ROUTES: &[(&str, &str)] = &[
    ("post", "/v1/events"),
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/metrics"),
    ("get", "/v1/digest"),
    ("get", "/v1/chain"),
    ("get", "/v1/picture"),
    ("get", "/v1/incidents"),
    ("get", "/v1/incidents/{incident}/picture"),
    ("get", "/v1/incidents/{incident}/sites"),
    ("get", "/v1/incidents/{incident}/offers"),
    ("get", "/v1/incidents/{incident}/needs"),
    ("get", "/v1/incidents/{incident}/resources"),
    ("get", "/v1/incidents/{incident}/issues"),
    ("get", "/v1/incidents/{incident}/reports"),
    ("get", "/v1/incidents/{incident}/network"),
    ("get", "/v1/incidents/{incident}/timeline"),
    ("get", "/v1/incidents/{incident}/quarantine"),
    ("get", "/v1/incidents/{incident}/live"),
    ("post", "/v1/session"),
    ("get", "/v1/session"),
    ("delete", "/v1/session"),
    ("get", "/v1/openapi.json"),
];

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Every `(method, path)` of the document.
fn operations(document: &Value) -> BTreeSet<(String, String)> {
    let paths = document["paths"].as_object().expect("paths");
    paths
        .iter()
        .flat_map(|(path, item)| {
            let item = item.as_object().expect("a path item");
            item.keys()
                .filter(|key| METHODS.contains(&key.as_str()))
                .map(move |method| (method.clone(), path.clone()))
        })
        .collect()
}

async fn document() -> Value {
    let gateway = gateway(test_config()).await;
    let (status, headers, document) = call(
        &gateway.router,
        "GET",
        "/v1/openapi.json",
        Credential::None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "application/json");
    document
}

#[tokio::test]
async fn the_document_is_openapi_3_and_lists_every_route_the_router_serves() {
    let document = document().await;
    let version = document["openapi"].as_str().expect("an openapi version");
    assert!(version.starts_with("3."), "{version}");
    assert_eq!(document["info"]["title"], "Samla API");

    let listed = operations(&document);
    let expected: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(method, path)| (method.to_string(), path.to_string()))
        .collect();
    assert_eq!(listed, expected);

    // Every documented operation is served: none answers 404 or 405. (The router and the
    // document are built from the same route lists; this checks the wiring.)
    let router = unloaded_router(Duration::from_millis(100)).await;
    let operator = fixture().operator_token.clone();
    for (method, path) in &listed {
        let concrete = path.replace("{incident}", "openapi");
        let (status, _, body) = call(
            &router,
            &method.to_uppercase(),
            &concrete,
            Credential::Bearer(&operator),
            None,
        )
        .await;
        assert!(
            !matches!(
                status,
                StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED
            ),
            "{method} {path}: {status} {body}"
        );
    }

    // Each operation documents its errors in the one shape, and every read its 401.
    for (method, path) in &listed {
        let responses = &document["paths"][path][method]["responses"];
        let public = document["paths"][path][method]["security"] == json!([{}]);
        if !public {
            assert_eq!(
                responses["401"]["content"]["application/json"]["schema"]["$ref"],
                "#/components/schemas/ErrorBody",
                "{method} {path}"
            );
        }
    }
    // Share-token views: small counts of people are a marked non-number.
    let people = document["components"]["schemas"]["PeopleCount"].to_string();
    assert!(
        people.contains("suppressed") && people.contains("below"),
        "{people}"
    );
}

/// A validator for the schema at `pointer` in the document (its references resolve
/// within the document).
fn validator(document: &Value, schema: &Value) -> jsonschema::Validator {
    let mut root = schema.clone();
    if let Value::Object(map) = &mut root {
        map.insert("components".to_owned(), document["components"].clone());
        map.insert(
            "$schema".to_owned(),
            json!("https://json-schema.org/draft/2020-12/schema"),
        );
    }
    jsonschema::options()
        .build(&root)
        .unwrap_or_else(|error| panic!("not a valid schema: {error}"))
}

fn check(document: &Value, schema: &Value, answer: &Value, what: &str) {
    let validator = validator(document, schema);
    let errors: Vec<String> = validator
        .iter_errors(answer)
        .map(|error| format!("{error} at {}", error.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{what}: {errors:#?}\n{answer:#}");
}

/// An example of every kind (but the network's own joins and leaves) by `alfa` in
/// `incident`, fresh ids.
fn every_kind(incident: &str) -> Vec<proto_events::Envelope> {
    Kind::ALL
        .iter()
        .filter(|kind| !matches!(kind, Kind::OrganisationJoined | Kind::OrganisationLeft))
        .map(|kind| {
            let mut event = example(*kind);
            event.id = EventId::new_v7();
            event.incident = IncidentId::new(incident).expect("incident");
            event.org = org_id("alfa");
            event.status = Status::Actual;
            // Small counts of people, which a share token must not see as numbers.
            if let proto_events::Payload::ArrivalsReported(arrivals) = &mut event.payload {
                arrivals.counts.arrivals_this_period = Some(3);
                arrivals.counts.households_this_period = Some(2);
            }
            event
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_answers_satisfy_the_documented_schemas() {
    let document = document().await;
    let folder = tempfile::tempdir().expect("tempdir");
    let side = read_side(folder.path()).await;
    let incident = "openapi-answers";
    let mut events = vec![joined(incident, "alfa")];
    events.extend(every_kind(incident));
    let area = events[1].area.to_string();
    let body = Value::Array(events.iter().map(to_json).collect());
    let fixture = fixture();
    let alfa = fixture.org_tokens["alfa"].clone();
    let (status, _, replies) = call(
        &side.router,
        "POST",
        "/v1/events",
        Credential::Bearer(&alfa),
        Some(&body),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{replies}");
    let stored: Vec<u64> = replies
        .as_array()
        .expect("replies")
        .iter()
        .filter_map(|reply| reply["seq"].as_u64())
        .collect();
    assert!(stored.len() > 20, "{replies:#}");
    let last = stored.iter().copied().max().expect("a stored event");
    // `/readyz` comes first and takes no `min_seq`: wait here until the read models hold
    // every stored event, so that it answers 200 (ready) as a rule. Other tests share the
    // stream, so it may still say 503 (catching up with their events): see below.
    let (status, _, answer) = call(
        &side.router,
        "GET",
        &format!("/v1/incidents?min_seq={last}"),
        Credential::Bearer(&alfa),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");

    let mut checked = 0;
    for (method, path) in operations(&document) {
        let responses = &document["paths"][&path][&method]["responses"];
        let Some(schema) = responses["200"]["content"]
            .get("application/json")
            .map(|content| &content["schema"])
        else {
            continue; // not JSON (metrics, the live stream) or no 200
        };
        if method != "get" {
            continue;
        }
        let concrete = match path.as_str() {
            "/v1/picture" => format!("/v1/picture?area={area}&min_seq={last}"),
            "/v1/incidents" => format!("/v1/incidents?min_seq={last}"),
            path if path.contains("{incident}") => {
                format!("{}?min_seq={last}", path.replace("{incident}", incident))
            }
            path => path.to_owned(),
        };
        // Reads answer for the live picture and for a replay, in both senses.
        let variants = if concrete.contains("min_seq") {
            vec![
                concrete.clone(),
                format!("{concrete}&at_seq={last}"),
                format!("{concrete}&as_of={}&sense=happened", Timestamp::now()),
            ]
        } else {
            vec![concrete]
        };
        for (concrete, token) in variants.iter().flat_map(|variant| {
            [&alfa, &fixture.share_token, &fixture.operator_token]
                .into_iter()
                .map(move |token| (variant, token))
        }) {
            let (status, _, answer) = call(
                &side.router,
                "GET",
                concrete,
                Credential::Bearer(token),
                None,
            )
            .await;
            if status == StatusCode::FORBIDDEN {
                continue; // the operator's routes, asked by another
            }
            let schema = if path == "/readyz" && status == StatusCode::SERVICE_UNAVAILABLE {
                // Catching up with another test's events: documented, with the same body.
                let documented = &responses["503"]["content"]["application/json"]["schema"];
                assert!(documented.is_object(), "/readyz documents no 503 body");
                documented
            } else {
                assert_eq!(status, StatusCode::OK, "{concrete}: {answer}");
                schema
            };
            if concrete.contains("at_seq") || concrete.contains("as_of") {
                assert!(
                    answer["as_of"]["seq"].as_u64() >= Some(last),
                    "{concrete}: {answer}"
                );
            }
            check(&document, schema, &answer, concrete);
            checked += 1;
        }
    }
    assert!(checked >= 115, "only {checked} answers checked");

    // A share token sees small counts of people as marked non-numbers, as documented.
    let arrivals = |token: &str| {
        let router = side.router.clone();
        let token = token.to_owned();
        async move {
            let (_, _, reports) = call(
                &router,
                "GET",
                &format!("/v1/incidents/{incident}/reports"),
                Credential::Bearer(&token),
                None,
            )
            .await;
            reports["arrivals"][0]["arrivals_this_period"].clone()
        }
    };
    assert_eq!(arrivals(&alfa).await, json!(3));
    assert_eq!(
        arrivals(&fixture.share_token).await,
        json!({"suppressed": true, "below": 5})
    );

    // The live stream's events are `TimelineEvent`s.
    let request = Request::get(format!("/v1/incidents/{incident}/live"))
        .header("authorization", format!("Bearer {alfa}"))
        .header("last-event-id", (stored[0] - 1).to_string())
        .body(Body::empty())
        .expect("request");
    let response = side.router.clone().oneshot(request).await.expect("answer");
    assert_eq!(response.status(), StatusCode::OK);
    let mut body = response.into_body();
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let data = loop {
        if let Some(line) = text.lines().find_map(|line| line.strip_prefix("data: "))
            && text.contains("\n\n")
        {
            break line.to_owned();
        }
        let frame = tokio::time::timeout_at(deadline, body.frame()).await;
        let Ok(Some(Ok(frame))) = frame else {
            panic!("no live event: {text}")
        };
        if let Ok(data) = frame.into_data() {
            text.push_str(&String::from_utf8_lossy(&data));
        }
    };
    let event: Value = serde_json::from_str(&data).expect("JSON data");
    check(
        &document,
        &json!({"$ref": "#/components/schemas/TimelineEvent"}),
        &event,
        "a live event",
    );
    drop(body);
    side.shut().await;
}
