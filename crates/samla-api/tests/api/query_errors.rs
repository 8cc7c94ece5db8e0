//! Every query route's errors through the router, without a socket, with their exact
//! bodies: 401 without a known credential, 403 for the operator's routes, 400 naming the
//! malformed parameter, 503 when `min_seq` is not reached in time or the log's stream is
//! gone, 404 and 405.

use std::time::Duration;

use axum::http::StatusCode;
use proto_events::vocab::{NeedCategory, Urgency};
use proto_events::{AggregateId, AreaCode, IncidentId, OrgId, Status, Timestamp};
use serde_json::Value;

use crate::common::{Credential, call, error_body, fixture, gateway_on_own_server};
use crate::read_side::{read_side, router_without_projector, unloaded_router};

/// The routes under `/v1/incidents/{incident}/` that read the models (live aside).
const INCIDENT_ROUTES: [&str; 10] = [
    "picture",
    "sites",
    "offers",
    "needs",
    "resources",
    "issues",
    "reports",
    "network",
    "timeline",
    "quarantine",
];

/// Every route that needs a credential, with a valid query.
fn authenticated_routes() -> Vec<String> {
    let mut routes = vec![
        "/v1/digest".to_owned(),
        "/v1/chain".to_owned(),
        "/v1/picture?area=1280".to_owned(),
        "/v1/incidents".to_owned(),
        "/v1/incidents/errors/live".to_owned(),
        "/v1/session".to_owned(),
    ];
    routes.extend(
        INCIDENT_ROUTES
            .iter()
            .map(|route| format!("/v1/incidents/errors/{route}")),
    );
    routes
}

/// The token a route's 400s are checked with: the operator's for its routes.
fn token_for(path: &str) -> String {
    if path.contains("/quarantine") || path.starts_with("/v1/digest") {
        fixture().operator_token.clone()
    } else {
        fixture().org_tokens["alfa"].clone()
    }
}

fn unauthorized() -> Value {
    error_body(
        "unauthorized",
        "a valid bearer token is required (Authorization: Bearer <token>)",
        Some("authorization"),
    )
}

#[tokio::test]
async fn every_route_is_401_without_a_known_credential() {
    let router = unloaded_router(Duration::from_millis(200)).await;
    for path in authenticated_routes() {
        for credential in [
            Credential::None,
            Credential::Bearer("samla_not-a-token"),
            Credential::Cookie("samla_not-a-token"),
            Credential::Bearer(""),
        ] {
            let (status, headers, body) = call(&router, "GET", &path, credential, None).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{path} {credential:?}");
            assert_eq!(body, unauthorized(), "{path} {credential:?}");
            assert_eq!(headers["www-authenticate"], "Bearer realm=\"samla\"");
        }
        // A malformed parameter does not change that: the credential is checked first.
        let malformed = if path.contains('?') {
            format!("{path}&status=bogus")
        } else {
            format!("{path}?status=bogus")
        };
        let (status, _, body) = call(&router, "GET", &malformed, Credential::None, None).await;
        assert_eq!((status, body), (StatusCode::UNAUTHORIZED, unauthorized()));
    }
    // Health, readiness and metrics are open: a probe holds no token.
    for path in ["/healthz", "/metrics"] {
        let (status, _, _) = call(&router, "GET", path, Credential::None, None).await;
        assert_eq!(status, StatusCode::OK, "{path}");
    }
    let (status, _, body) = call(&router, "GET", "/readyz", Credential::None, None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["state"], "catching_up", "{body}");
}

#[tokio::test]
async fn operator_routes_are_403_for_every_other_credential() {
    let router = unloaded_router(Duration::from_millis(200)).await;
    let expected = error_body("forbidden", "this route needs the operator token", None);
    let fixture = fixture();
    for token in [&fixture.org_tokens["bravo"], &fixture.share_token] {
        for path in [
            "/v1/digest",
            "/v1/incidents/errors/quarantine",
            // Refused before its parameters are looked at.
            "/v1/incidents/Not%20An%20Id/quarantine?status=bogus",
        ] {
            for credential in [Credential::Bearer(token), Credential::Cookie(token)] {
                let (status, _, body) = call(&router, "GET", path, credential, None).await;
                assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
                assert_eq!(body, expected, "{path}");
            }
        }
    }
}

/// `(query or path, field, message)` cases and the routes each applies to.
struct Case {
    routes: Vec<String>,
    query: &'static str,
    field: &'static str,
    message: String,
}

fn with_query(route: &str, query: &str) -> String {
    if route.contains('?') {
        format!("{route}&{query}")
    } else {
        format!("{route}?{query}")
    }
}

fn incident_routes(names: &[&str]) -> Vec<String> {
    names
        .iter()
        .map(|name| format!("/v1/incidents/errors/{name}"))
        .collect()
}

fn cases() -> Vec<Case> {
    let reads: Vec<String> = ["/v1/picture?area=1280", "/v1/incidents"]
        .iter()
        .map(|route| route.to_string())
        .chain(incident_routes(&INCIDENT_ROUTES))
        .collect();
    let with_status: Vec<String> = reads
        .iter()
        .cloned()
        .chain(incident_routes(&["live"]))
        .collect();
    let paged = incident_routes(&["sites", "offers", "needs", "resources", "issues"]);
    let limited: Vec<String> = paged
        .iter()
        .cloned()
        .chain(incident_routes(&["timeline"]))
        .collect();
    let not_a_number = |text: &str| text.parse::<u64>().expect_err("not a number").to_string();
    let status_error = "bogus".parse::<Status>().expect_err("unknown status");
    let org_error = OrgId::new("Alfa").expect_err("upper case").to_string();
    vec![
        Case {
            routes: with_status,
            query: "status=bogus",
            field: "status",
            message: format!("status: {status_error}"),
        },
        Case {
            routes: reads.clone(),
            query: "min_seq=soon",
            field: "min_seq",
            message: format!("min_seq: {}", not_a_number("soon")),
        },
        Case {
            routes: reads.clone(),
            query: "min_seq=-1",
            field: "min_seq",
            message: format!("min_seq: {}", not_a_number("-1")),
        },
        Case {
            routes: reads.clone(),
            query: "min_seq=1&min_seq=2",
            field: "min_seq",
            message: "min_seq: given more than once".into(),
        },
        Case {
            routes: reads.clone(),
            query: "as_of=yesterday",
            field: "as_of",
            message: format!(
                "as_of: {}",
                Timestamp::parse("yesterday").expect_err("not a time")
            ),
        },
        Case {
            routes: reads.clone(),
            query: "as_of=2026-03-01T14:00:00",
            field: "as_of",
            message: format!(
                "as_of: {}",
                Timestamp::parse("2026-03-01T14:00:00").expect_err("no zone")
            ),
        },
        Case {
            routes: reads.clone(),
            query: "at_seq=first",
            field: "at_seq",
            message: format!("at_seq: {}", not_a_number("first")),
        },
        Case {
            routes: reads.clone(),
            query: "at_seq=5&as_of=2026-03-01T14:00:00Z",
            field: "at_seq",
            message: "at_seq: give either at_seq (a log position) or as_of (a time), not both"
                .into(),
        },
        Case {
            routes: reads.clone(),
            query: "at_seq=5&sense=happened",
            field: "sense",
            message: "sense: happened needs a time (as_of); at_seq is a position in the log \
                      as recorded, so it is always as known"
                .into(),
        },
        Case {
            routes: reads.clone(),
            query: "sense=known",
            field: "sense",
            message: "sense: applies to a replay; give as_of (a time) or at_seq (a log \
                      position) too"
                .into(),
        },
        Case {
            routes: reads,
            query: "as_of=2026-03-01T14:00:00Z&sense=sideways",
            field: "sense",
            message: "sense: unknown sense \"sideways\"; expected known (the log as recorded \
                      up to the moment) or happened (what had occurred by then, late reports \
                      included)"
                .into(),
        },
        Case {
            routes: limited.clone(),
            query: "limit=ten",
            field: "limit",
            message: format!("limit: {}", not_a_number("ten")),
        },
        Case {
            routes: limited,
            query: "limit=0",
            field: "limit",
            message: "limit: must be at least 1".into(),
        },
        Case {
            routes: paged,
            query: "cursor=Not%20An%20Id",
            field: "cursor",
            message: format!(
                "cursor: {}",
                AggregateId::new("Not An Id").expect_err("a space")
            ),
        },
        Case {
            routes: incident_routes(&["needs", "issues", "timeline"]),
            query: "org=Alfa",
            field: "org",
            message: format!("org: {org_error}"),
        },
        Case {
            routes: incident_routes(&["needs", "issues"]),
            query: "open=yes",
            field: "open",
            message: format!("open: {}", "yes".parse::<bool>().expect_err("not a bool")),
        },
        Case {
            routes: incident_routes(&["needs"]),
            query: "category=kittens",
            field: "category",
            message: format!(
                "category: {}",
                "kittens".parse::<NeedCategory>().expect_err("unknown")
            ),
        },
        Case {
            routes: incident_routes(&["needs"]),
            query: "urgency=now",
            field: "urgency",
            message: format!(
                "urgency: {}",
                "now".parse::<Urgency>().expect_err("unknown")
            ),
        },
        Case {
            routes: incident_routes(&["needs"]),
            query: "state=done",
            field: "state",
            message: "state: unknown need status \"done\"; expected open, claimed, met_partly, \
                      met, cancelled"
                .into(),
        },
        Case {
            routes: incident_routes(&["needs"]),
            query: "area=Sk%C3%A5ne",
            field: "area",
            message: format!("area: {}", AreaCode::new("Skåne").expect_err("å")),
        },
        Case {
            routes: incident_routes(&["timeline"]),
            query: "kind=nothing",
            field: "kind",
            message: "kind: unknown event kind \"nothing\"; expected one of the contract's \
                      kinds, e.g. need_raised"
                .into(),
        },
        Case {
            routes: incident_routes(&["timeline"]),
            query: "before=yesterday",
            field: "before",
            message: format!("before: {}", not_a_number("yesterday")),
        },
        Case {
            routes: incident_routes(&["live"]),
            query: "from_seq=start",
            field: "from_seq",
            message: format!("from_seq: {}", not_a_number("start")),
        },
    ]
}

#[tokio::test]
async fn malformed_parameters_are_400_naming_the_parameter() {
    let router = unloaded_router(Duration::from_millis(200)).await;
    let mut checked = 0;
    for case in cases() {
        let expected = error_body("invalid_parameter", &case.message, Some(case.field));
        for route in &case.routes {
            let path = with_query(route, case.query);
            let token = token_for(&path);
            let (status, _, body) =
                call(&router, "GET", &path, Credential::Bearer(&token), None).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
            assert_eq!(body, expected, "{path}");
            checked += 1;
        }
    }
    assert!(checked > 60, "only {checked} cases");
}

#[tokio::test]
async fn a_malformed_incident_or_area_is_400() {
    let router = unloaded_router(Duration::from_millis(200)).await;
    let incident_error = IncidentId::new("Not An Id").expect_err("spaces");
    let expected = error_body(
        "invalid_parameter",
        &format!("incident: {incident_error}"),
        Some("incident"),
    );
    for route in INCIDENT_ROUTES.iter().chain(&["live"]) {
        let path = format!("/v1/incidents/Not%20An%20Id/{route}");
        let token = token_for(&path);
        let (status, _, body) = call(&router, "GET", &path, Credential::Bearer(&token), None).await;
        assert_eq!(
            (status, &body),
            (StatusCode::BAD_REQUEST, &expected),
            "{path}"
        );
    }
    let alfa = fixture().org_tokens["alfa"].clone();
    let area_error = AreaCode::new("Sk åne").expect_err("a space");
    for (path, message) in [
        (
            "/v1/picture",
            "area: required; name the area, e.g. ?area=1280".to_owned(),
        ),
        (
            "/v1/picture?area=Sk%20%C3%A5ne",
            format!("area: {area_error}"),
        ),
    ] {
        let (status, _, body) = call(&router, "GET", path, Credential::Bearer(&alfa), None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(
            body,
            error_body("invalid_parameter", &message, Some("area"))
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_min_seq_beyond_the_head_is_503_not_yet_applied() {
    let folder = tempfile::tempdir().expect("tempdir");
    let side = read_side(folder.path()).await;
    let alfa = fixture().org_tokens["alfa"].clone();
    let operator = fixture().operator_token.clone();
    // Loaded first (the full wait), so the short wait below is spent on `min_seq` alone.
    let (status, _, body) = call(
        &side.router,
        "GET",
        "/v1/incidents",
        Credential::Bearer(&alfa),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let router = side
        .router
        .clone()
        .layer(axum::Extension(samla_api::query::MinSeqWait(
            Duration::from_millis(150),
        )));
    let wanted: u64 = 1 << 40;
    let mut routes = vec![
        "/v1/picture?area=1280".to_owned(),
        "/v1/incidents".to_owned(),
    ];
    routes.extend(incident_routes(&INCIDENT_ROUTES));
    for route in routes {
        let path = with_query(&route, &format!("min_seq={wanted}"));
        let token = if path.contains("quarantine") {
            &operator
        } else {
            &alfa
        };
        let (status, headers, body) =
            call(&router, "GET", &path, Credential::Bearer(token), None).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{path}: {body}");
        assert_eq!(headers["retry-after"], "1");
        // `applied` moves with the other tests' events: read it from the answer.
        let message = body["error"]["message"].as_str().expect("a message");
        let applied: u64 = message
            .strip_prefix("the read models have applied up to ")
            .and_then(|rest| rest.split(' ').next())
            .and_then(|number| number.parse().ok())
            .unwrap_or_else(|| panic!("{message}"));
        let expected = format!(
            "the read models have applied up to {applied} and did not reach {wanted} within \
             150 ms; retry"
        );
        assert_eq!(
            body,
            error_body("not_yet_applied", &expected, Some("min_seq")),
            "{path}"
        );
    }
    side.shut().await;
}

/// A log whose stream was deleted is not "unavailable, retry": a query that reads the log
/// answers 503 `log_missing`, naming the stream and what to do, without `Retry-After`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_log_stream_is_503_log_missing_without_retry_after() {
    // Its own server: this test deletes the stream.
    let (server, gateway) = gateway_on_own_server().await;
    let replay = tempfile::tempdir().expect("tempdir");
    let router = router_without_projector(&gateway, replay.path().join("replay"));
    let stream = gateway.log.config().stream_name.clone();
    let deleted = gateway
        .log
        .connection()
        .nats_client()
        .request(
            format!("$JS.API.STREAM.DELETE.{stream}"),
            bytes::Bytes::new(),
        )
        .await
        .expect("delete the stream");
    let answer = String::from_utf8_lossy(&deleted.payload);
    assert!(answer.contains(r#""success":true"#), "{answer}");

    let alfa = fixture().org_tokens["alfa"].clone();
    let (status, headers, body) =
        call(&router, "GET", "/v1/chain", Credential::Bearer(&alfa), None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let missing = samla_log::LogError::StreamMissing {
        stream: stream.clone(),
    };
    assert_eq!(
        body,
        error_body(
            "log_missing",
            &format!("the log cannot be read: {missing}"),
            None
        )
    );
    assert!(headers.get("retry-after").is_none(), "{headers:?}");
    drop(server);
}

#[tokio::test]
async fn unknown_routes_are_404_and_other_methods_405() {
    let router = unloaded_router(Duration::from_millis(200)).await;
    let alfa = fixture().org_tokens["alfa"].clone();
    for path in ["/v1/nothing", "/v1/incidents/x/nothing", "/v2/incidents"] {
        let (status, _, body) = call(&router, "GET", path, Credential::Bearer(&alfa), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let message = format!("no route GET {path}; GET /v1/openapi.json lists every route");
        assert_eq!(body, error_body("not_found", &message, None));
    }
    for (method, path) in [
        ("POST", "/v1/incidents"),
        ("DELETE", "/v1/incidents/x/needs"),
        ("GET", "/v1/events"),
        ("PUT", "/v1/session"),
    ] {
        let (status, _, body) = call(&router, method, path, Credential::Bearer(&alfa), None).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        let message = format!(
            "{path} does not answer {method}; GET /v1/openapi.json lists every route and its \
             methods"
        );
        assert_eq!(body, error_body("method_not_allowed", &message, None));
    }
}
