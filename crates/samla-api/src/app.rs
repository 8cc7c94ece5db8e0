//! The HTTP router: [`app`] builds it from an [`AppState`], so tests drive it without a
//! socket (`tower::ServiceExt::oneshot`) and `run` serves it on a listener.
//!
//! Authentication is an extractor: [`Principal`] from `Authorization: Bearer <token>`,
//! checked against the token store before any body is read. That one is ingest's and takes
//! only the header; reads also take the session cookie (`query::principal`).
//!
//! Every route is registered through `utoipa_axum` with its OpenAPI description, from two
//! lists: [`gateway_groups`] here and [`query_routes`]. The document (`crate::openapi`) is
//! built from the same two, so a route cannot be served without being described.

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts, Request, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::ingest::IngestService;
use crate::query::{QueryState, query_routes};
use crate::session::{self, MAX_SESSION_BODY};
use crate::tokens::{Principal, SharedTokens};

/// What every request handler shares. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    pub ingest: IngestService,
    pub tokens: SharedTokens,
    /// The read side (queries, live stream), when this process also runs a projector.
    pub query: Option<QueryState>,
}

/// The gateway's routes: `POST /v1/events` (ingest), the session routes, `GET
/// /v1/openapi.json` and, when the state has a read side, the queries and the live stream
/// (see [`crate::query`]). Unknown routes answer 404 `not_found`, a known route asked with
/// another method 405 `method_not_allowed`, both in the one error shape.
pub fn app(state: AppState) -> Router {
    let config = state.ingest.config();
    let mut gateway = Router::new();
    for (group, routes) in gateway_groups() {
        let (router, _) = routes.split_for_parts();
        gateway = gateway.merge(match group {
            // The timeout applies to ingest only: a live stream (SSE) must not be cut by it.
            Group::Ingest => router
                .layer(DefaultBodyLimit::max(config.max_body_bytes))
                .layer(middleware::from_fn_with_state(
                    state.clone(),
                    request_timeout,
                )),
            Group::Session => router.layer(DefaultBodyLimit::max(MAX_SESSION_BODY)),
            Group::Document => router,
        });
    }
    let read_side = match state.query.clone() {
        Some(query) => query_routes().split_for_parts().0.with_state(query),
        None => Router::new(),
    };
    gateway
        .with_state(state)
        .merge(read_side)
        // The coordination-room dashboard: the page at `/` and its embedded assets.
        .merge(samla_dashboard::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
}

/// The gateway's route groups besides the queries; each gets its own layers in [`app`].
#[derive(Debug, Clone, Copy)]
enum Group {
    Ingest,
    Session,
    Document,
}

/// Every route [`app`] serves besides the queries ([`query_routes`]), registered with its
/// OpenAPI description. [`app`] and the document are both built from this list.
fn gateway_groups() -> [(Group, OpenApiRouter<AppState>); 3] {
    [
        (
            Group::Ingest,
            OpenApiRouter::default().routes(routes!(crate::ingest::http::post_events)),
        ),
        (
            Group::Session,
            OpenApiRouter::default().routes(routes!(
                session::sign_in,
                session::current,
                session::sign_out
            )),
        ),
        (
            Group::Document,
            OpenApiRouter::default().routes(routes!(crate::openapi::document)),
        ),
    ]
}

/// The routes of [`gateway_groups`], merged, for the OpenAPI document.
pub(crate) fn gateway_routes() -> OpenApiRouter<AppState> {
    gateway_groups()
        .into_iter()
        .fold(OpenApiRouter::default(), |all, (_, routes)| {
            all.merge(routes)
        })
}

/// Answers 503 `timeout` when a request takes longer than `request_timeout`. The events
/// it carried may still be stored; the client retries with the same ids.
async fn request_timeout(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let after = state.ingest.config().request_timeout;
    match tokio::time::timeout(after, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::Timeout { after }.into_response(),
    }
}

async fn not_found(request: Request) -> ApiError {
    ApiError::NotFound {
        method: request.method().to_string(),
        path: request.uri().path().to_owned(),
    }
}

async fn method_not_allowed(request: Request) -> ApiError {
    ApiError::MethodNotAllowed {
        method: request.method().to_string(),
        path: request.uri().path().to_owned(),
    }
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let presented = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| {
                let (scheme, token) = value.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .ok_or(ApiError::Unauthorized)?;
        state.tokens.verify(presented).ok_or(ApiError::Unauthorized)
    }
}
