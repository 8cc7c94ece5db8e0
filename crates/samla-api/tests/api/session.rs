//! The dashboard's session routes through the router: signing in sets the cookie, the
//! cookie reads, signing out clears it — and the cookie never posts events.

use std::time::Duration;

use axum::http::StatusCode;
use proto_events::Kind;
use serde_json::{Value, json};

use crate::common::{
    Credential, call, envelope, error_body, fixture, gateway, json as to_json, stored_ids,
    test_config,
};
use crate::read_side::unloaded_router;

const COOKIE_FLAGS: &str = "HttpOnly; SameSite=Strict; Path=/";

fn unauthorized() -> Value {
    error_body(
        "unauthorized",
        "a valid bearer token is required (Authorization: Bearer <token>)",
        Some("authorization"),
    )
}

#[tokio::test]
async fn signing_in_sets_the_cookie_and_names_the_principal() {
    let gateway = gateway(test_config()).await;
    let fixture = fixture();
    let cases = [
        (
            fixture.org_tokens["alfa"].clone(),
            json!({"principal": {"kind": "organisation", "org": "alfa"}}),
        ),
        (
            fixture.share_token.clone(),
            json!({"principal": {"kind": "share"}}),
        ),
        (
            fixture.operator_token.clone(),
            json!({"principal": {"kind": "operator"}}),
        ),
    ];
    for (token, principal) in cases {
        let (status, headers, body) = call(
            &gateway.router,
            "POST",
            "/v1/session",
            Credential::None,
            Some(&json!({ "token": token })),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body, principal);
        assert_eq!(
            headers["set-cookie"],
            format!("samla_session={token}; {COOKIE_FLAGS}").as_str()
        );
        assert_eq!(headers["cache-control"], "no-store");

        // The cookie (or the bearer token) says who it is.
        for credential in [Credential::Cookie(&token), Credential::Bearer(&token)] {
            let (status, _, body) =
                call(&gateway.router, "GET", "/v1/session", credential, None).await;
            assert_eq!((status, &body), (StatusCode::OK, &principal));
        }
    }
}

#[tokio::test]
async fn a_bad_token_or_body_signs_nobody_in() {
    let gateway = gateway(test_config()).await;
    let (status, headers, body) = call(
        &gateway.router,
        "POST",
        "/v1/session",
        Credential::None,
        Some(&json!({ "token": "samla_not-a-token" })),
    )
    .await;
    assert_eq!((status, body), (StatusCode::UNAUTHORIZED, unauthorized()));
    assert!(headers.get("set-cookie").is_none());

    let bodies = [
        json!({}),
        json!({"token": "x", "org": "alfa"}),
        json!({"token": 42}),
    ];
    for sent in bodies {
        let reason = serde_json::from_str::<samla_api::session::SessionRequest>(&sent.to_string())
            .expect_err("not a sign-in body");
        let (status, headers, body) = call(
            &gateway.router,
            "POST",
            "/v1/session",
            Credential::None,
            Some(&sent),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{sent}");
        let message = format!("the request body could not be read: {reason}");
        assert_eq!(body, error_body("bad_request", &message, None), "{sent}");
        assert!(headers.get("set-cookie").is_none());
    }

    // Without `Content-Type: application/json` (what a cross-site form sends): refused.
    let token = fixture().org_tokens["alfa"].clone();
    let request = axum::http::Request::post("/v1/session")
        .header("content-type", "text/plain")
        .body(axum::body::Body::from(
            json!({ "token": token }).to_string(),
        ))
        .expect("request");
    let response = tower::ServiceExt::oneshot(gateway.router.clone(), request)
        .await
        .expect("answer");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.headers().get("set-cookie").is_none());
}

#[tokio::test]
async fn without_a_known_credential_there_is_no_session() {
    let gateway = gateway(test_config()).await;
    for credential in [
        Credential::None,
        Credential::Cookie("samla_not-a-token"),
        Credential::Bearer("samla_not-a-token"),
    ] {
        let (status, _, body) = call(&gateway.router, "GET", "/v1/session", credential, None).await;
        assert_eq!((status, body), (StatusCode::UNAUTHORIZED, unauthorized()));
    }
}

#[tokio::test]
async fn signing_out_clears_the_cookie() {
    let gateway = gateway(test_config()).await;
    let token = fixture().org_tokens["alfa"].clone();
    for credential in [Credential::Cookie(&token), Credential::None] {
        let (status, headers, body) =
            call(&gateway.router, "DELETE", "/v1/session", credential, None).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        assert_eq!(body, Value::Null);
        assert_eq!(
            headers["set-cookie"],
            format!("samla_session=; Max-Age=0; {COOKIE_FLAGS}").as_str()
        );
    }
}

#[tokio::test]
async fn the_cookie_reads_but_never_posts_events() {
    let router = unloaded_router(Duration::from_millis(200)).await;
    let token = fixture().org_tokens["alfa"].clone();
    // A query with the cookie gets past the credential (to the read models, not loaded
    // here: 503 rather than 401).
    let (status, _, body) = call(
        &router,
        "GET",
        "/v1/incidents",
        Credential::Cookie(&token),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"]["code"], "unavailable");

    let gateway = gateway(test_config()).await;
    let event = envelope(Kind::NeedRaised, "t-cookie", "alfa", "need-1");
    let (status, _, body) = call(
        &gateway.router,
        "POST",
        "/v1/events",
        Credential::Cookie(&token),
        Some(&to_json(&event)),
    )
    .await;
    assert_eq!((status, body), (StatusCode::UNAUTHORIZED, unauthorized()));
    assert!(stored_ids(&gateway.log, "t-cookie").await.is_empty());
}
