//! Sessions for the dashboard: a browser's `EventSource` cannot send an `Authorization`
//! header, so the page signs in once with a token and the gateway keeps it in a cookie.
//!
//! - `POST /v1/session` `{"token": "…"}` → 200 `{"principal": {"kind", "org"?}}` and
//!   `Set-Cookie: samla_session=<token>; HttpOnly; SameSite=Strict; Path=/`; 401 for a token
//!   the gateway does not know.
//! - `GET /v1/session` → the same body for the cookie (or bearer token) presented; 401
//!   without one.
//! - `DELETE /v1/session` → 204, clearing the cookie (`Max-Age=0`).
//!
//! The cookie holds the token itself (stored hashed on the server like every token), so a
//! token revoked in `tokens.json` ends its sessions too. Queries and the live stream accept
//! the cookie; `POST /v1/events` does not (a cookie rides along on cross-site requests,
//! a bearer header does not), and `SameSite=Strict` keeps it off cross-site requests
//! anyway. Signing in needs `Content-Type: application/json`, which a cross-site form
//! cannot send.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::error::ApiError;
use crate::openapi::responses::{AuthErrors, SessionErrors};
use crate::query::{SESSION_COOKIE, principal};
use crate::tokens::Principal;

/// The body of `POST /v1/session`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionRequest {
    /// A bearer token (`samla_…`).
    pub token: String,
}

/// Who a session speaks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Session {
    pub principal: SessionPrincipal,
}

/// The principal of a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SessionPrincipal {
    pub kind: PrincipalKind,
    /// The organisation of an organisation token (or of a share token scoped to one);
    /// absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
}

/// What a credential may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    /// Reads (and posts) as its organisation.
    Organisation,
    /// Read-only (wall screens): small counts of people are suppressed.
    Share,
    /// Quarantine and digest besides every read.
    Operator,
}

impl From<&Principal> for Session {
    fn from(principal: &Principal) -> Self {
        let (kind, org) = match principal {
            Principal::Organisation(org) => (PrincipalKind::Organisation, Some(org)),
            Principal::Share { org } => (PrincipalKind::Share, org.as_ref()),
            Principal::Operator => (PrincipalKind::Operator, None),
        };
        Session {
            principal: SessionPrincipal {
                kind,
                org: org.map(ToString::to_string),
            },
        }
    }
}

/// The most a sign-in body may hold: a token is at most 256 characters.
pub(crate) const MAX_SESSION_BODY: usize = 4096;

/// Signs in: checks the token and keeps it in the session cookie.
#[utoipa::path(
    post,
    path = "/v1/session",
    tag = "session",
    request_body = SessionRequest,
    security(()),
    responses(
        (status = 200, description = "Signed in; the cookie is set.", body = Session,
            headers(("Set-Cookie" = String, description = "`samla_session=<token>; HttpOnly; SameSite=Strict; Path=/`"))),
        SessionErrors,
    ),
)]
pub(crate) async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"));
    if !json {
        return Err(ApiError::BadRequest {
            reason: "send {\"token\": \"…\"} with Content-Type: application/json".into(),
        });
    }
    let request: SessionRequest =
        serde_json::from_slice(&body).map_err(|error| ApiError::BadRequest {
            reason: error.to_string(),
        })?;
    let principal = state
        .tokens
        .verify(&request.token)
        .ok_or(ApiError::Unauthorized)?;
    // Only a token the store knows gets here, and every stored token is ours: a cookie
    // value. Checked anyway, so no header can ever be built from odd bytes.
    let cookie = session_cookie(&request.token).ok_or(ApiError::Unauthorized)?;
    let mut response = answer(&principal);
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(response)
}

/// Who the presented cookie (or bearer token) speaks for.
#[utoipa::path(
    get,
    path = "/v1/session",
    tag = "session",
    responses(
        (status = 200, description = "The session's principal.", body = Session),
        AuthErrors,
    ),
)]
pub(crate) async fn current(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let principal = principal(&headers, &state.tokens)?;
    Ok(answer(&principal))
}

/// Signs out: clears the cookie.
///
/// Needs no credential: clearing one's own cookie is always allowed.
#[utoipa::path(
    delete,
    path = "/v1/session",
    tag = "session",
    security(()),
    responses(
        (status = 204, description = "Signed out; the cookie is cleared.",
            headers(("Set-Cookie" = String, description = "`samla_session=; Max-Age=0; HttpOnly; SameSite=Strict; Path=/`"))),
    ),
)]
pub(crate) async fn sign_out() -> Response {
    let cleared =
        HeaderValue::from_static("samla_session=; Max-Age=0; HttpOnly; SameSite=Strict; Path=/");
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(header::SET_COOKIE, cleared);
    no_store(&mut response);
    response
}

fn answer(principal: &Principal) -> Response {
    let mut response = axum::Json(Session::from(principal)).into_response();
    no_store(&mut response);
    response
}

/// A session answer names a credential's holder: no cache may keep it.
fn no_store(response: &mut Response) {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// `samla_session=<token>; HttpOnly; SameSite=Strict; Path=/`, when the token is a valid
/// cookie value (RFC 6265 `cookie-octet`s).
fn session_cookie(token: &str) -> Option<HeaderValue> {
    let octets = token
        .bytes()
        .all(|byte| byte.is_ascii_graphic() && !matches!(byte, b'"' | b',' | b';' | b'\\'));
    if token.is_empty() || !octets {
        return None;
    }
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/"
    ))
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_cookie_octets_make_a_cookie() {
        assert_eq!(
            session_cookie("samla_abc-DEF_1").expect("cookie"),
            "samla_session=samla_abc-DEF_1; HttpOnly; SameSite=Strict; Path=/"
        );
        for bad in ["", "a b", "a;b", "a\"b", "a,b", "a\\b", "å"] {
            assert!(session_cookie(bad).is_none(), "{bad:?}");
        }
    }
}
