//! The HTTP router: [`app`] builds it from an [`AppState`], so tests drive it without a
//! socket (`tower::ServiceExt::oneshot`) and `run` serves it on a listener.
//!
//! Authentication is an extractor: [`Principal`] from `Authorization: Bearer <token>`,
//! checked against the token store before any body is read.

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts, Request, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use crate::error::ApiError;
use crate::ingest::IngestService;
use crate::ingest::http::post_events;
use crate::query::{QueryState, query_router};
use crate::tokens::{Principal, SharedTokens};

/// What every request handler shares. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    pub ingest: IngestService,
    pub tokens: SharedTokens,
    /// The read side (queries, live stream), when this process also runs a projector.
    pub query: Option<QueryState>,
}

/// The gateway's routes: `POST /v1/events` (ingest) and, when the state has a read side,
/// the queries and the live stream (see [`crate::query`]).
pub fn app(state: AppState) -> Router {
    let config = state.ingest.config();
    // The timeout applies to ingest only: a live stream (SSE) must not be cut by it.
    let ingest = Router::new()
        .route("/v1/events", post(post_events))
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            request_timeout,
        ));
    let read_side = state.query.clone().map(query_router).unwrap_or_default();
    Router::new()
        .merge(ingest)
        .fallback(not_found)
        .with_state(state)
        .merge(read_side)
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
