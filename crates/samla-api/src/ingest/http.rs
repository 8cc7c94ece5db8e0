//! The HTTP door: `POST /v1/events`.
//!
//! Order: the token (before the body is read) → the body, at most `max_body_bytes` →
//! framing into items → the organisation's rate → [`IngestService::ingest`]. The reply is
//! always the item array in request order; the status sums it up:
//!
//! - 202 if any item is in the log (new or duplicate);
//! - otherwise 503 (with `Retry-After`) if any item failed on the log's side (unreachable,
//!   full, or the service's own fault): retrying can help, and nothing was stored;
//! - otherwise 409 if every failure is a conflict, 403 if every failure is `forbidden`,
//!   and 422 for everything else (the client must fix its events).
//!
//! Whole-request refusals (401, 403 for read-only tokens, 413, 422 for an empty array, 429,
//! 503 on timeout) use the [`ApiError`] shape instead, as no item was looked at.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use proto_events::OrgId;

use super::IngestConfig;
use super::protocol::{self, Caller, ItemReply, codes};
use crate::app::AppState;
use crate::error::{ApiError, retry_after_value};
use crate::openapi::responses::IngestResponses;
use crate::openapi::schemas::IngestRequest;
use crate::tokens::Principal;

/// The organisation an org token speaks for; read-only tokens are refused here.
#[derive(Debug, Clone)]
pub(crate) struct OrgCaller(pub(crate) OrgId);

impl FromRequestParts<AppState> for OrgCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match Principal::from_request_parts(parts, state).await? {
            Principal::Organisation(org) => Ok(OrgCaller(org)),
            Principal::Share { .. } => Err(ApiError::Forbidden {
                message: "a share token is read-only: it may not post events".to_owned(),
            }),
            Principal::Operator => Err(ApiError::Forbidden {
                message: "an operator token may not post events; an organisation posts with its own token".to_owned(),
            }),
        }
    }
}

/// Stores events: one or an array, each answered on its own, in request order.
///
/// The status sums the replies up: 202 if any item is in the log (new or a duplicate);
/// else 503 if the log failed (retry with the same ids), 409 if every failure is a
/// conflict, 403 if every one is `forbidden`, 422 otherwise. Only an organisation's bearer
/// token may post (never the session cookie).
#[utoipa::path(
    post,
    path = "/v1/events",
    tag = "ingest",
    request_body(content = IngestRequest, description = "One item or an array of items."),
    security(("bearer" = [])),
    responses(IngestResponses),
)]
pub(crate) async fn post_events(
    State(state): State<AppState>,
    OrgCaller(org): OrgCaller,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let service = &state.ingest;
    let config = service.config();
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge {
                limit_bytes: config.max_body_bytes,
            }
        } else {
            ApiError::BadRequest {
                reason: rejection.body_text(),
            }
        }
    })?;
    let items = protocol::frame_json(&body, config.max_items_per_request)?;
    service
        .check_rate(&org, items.len())
        .map_err(|retry_after| ApiError::RateLimited {
            org: org.to_string(),
            retry_after,
        })?;
    let caller = Caller {
        org,
        incident: None,
    };
    let replies = service.ingest(&caller, items).await;
    let (status, retry_after) = summarise(&replies, config);
    let mut response = (status, axum::Json(replies)).into_response();
    if let Some(after) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, retry_after_value(after));
    }
    Ok(response)
}

/// The status of a reply array (see the module docs), and `Retry-After` for a 503.
pub(crate) fn summarise(
    replies: &[ItemReply],
    config: &IngestConfig,
) -> (StatusCode, Option<Duration>) {
    if replies.iter().any(ItemReply::is_stored) {
        return (StatusCode::ACCEPTED, None);
    }
    let codes_seen: Vec<&str> = replies
        .iter()
        .filter_map(|reply| reply.error().map(|error| error.code.as_str()))
        .collect();
    if codes_seen.contains(&codes::LOG_FULL) {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Some(config.retry_after_full),
        );
    }
    if codes_seen
        .iter()
        .any(|code| matches!(*code, codes::UNAVAILABLE | codes::INTERNAL))
    {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Some(config.retry_after_unavailable),
        );
    }
    let all =
        |wanted: &str| !codes_seen.is_empty() && codes_seen.iter().all(|code| *code == wanted);
    if all(codes::CONFLICT) {
        (StatusCode::CONFLICT, None)
    } else if all(codes::FORBIDDEN) {
        (StatusCode::FORBIDDEN, None)
    } else {
        (StatusCode::UNPROCESSABLE_ENTITY, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::protocol::ItemError;

    fn refused(code: &str) -> ItemReply {
        ItemReply::Refused {
            id: None,
            error: ItemError::new(code, "", "x"),
        }
    }

    #[test]
    fn the_status_sums_up_the_items() {
        let config = IngestConfig::default();
        let stored = ItemReply::Stored {
            id: "x".to_owned(),
            seq: 1,
            duplicate: true,
        };
        let cases = [
            (
                vec![stored.clone(), refused("unavailable")],
                StatusCode::ACCEPTED,
            ),
            (
                vec![refused("conflict"), refused("conflict")],
                StatusCode::CONFLICT,
            ),
            (
                vec![refused("conflict"), refused("malformed")],
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (vec![refused("forbidden")], StatusCode::FORBIDDEN),
            (
                vec![refused("conflict"), refused("unavailable")],
                StatusCode::SERVICE_UNAVAILABLE,
            ),
            (
                vec![refused("personal_data")],
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
        ];
        for (replies, status) in cases {
            assert_eq!(summarise(&replies, &config).0, status, "{replies:?}");
        }
        assert_eq!(
            summarise(&[refused("log_full"), refused("unavailable")], &config),
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Some(config.retry_after_full)
            )
        );
    }
}
