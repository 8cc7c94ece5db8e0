//! The one error type of this crate, [`ApiError`], and its HTTP shape.
//!
//! Per-item outcomes of an ingest request are not errors of the request: they travel in
//! the reply array ([`crate::ingest::ItemReply`]). `ApiError` is for what refuses or breaks
//! a whole request (no token, body too large, rate limited, timed out) and for what stops
//! the service from starting (an unreadable token file, a NATS subscription refused).
//!
//! Every variant renders as `{"error": {"code", "message", "field"?}}` with a stable code,
//! so a client can branch on the code and show the message.

use std::path::PathBuf;
use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// What went wrong with a whole request or with starting the service, phrased for the
/// caller's next move.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// No bearer token, or one this gateway does not know: send a valid token.
    #[error("a valid bearer token is required (Authorization: Bearer <token>)")]
    Unauthorized,

    /// The credential may not do this (a share or operator token posting events).
    #[error("{message}")]
    Forbidden { message: String },

    /// The body is larger than the gateway accepts: send fewer events per request.
    #[error("the request body exceeds {limit_bytes} bytes; send fewer events per request")]
    PayloadTooLarge { limit_bytes: usize },

    /// More items than one request may carry: split the request.
    #[error("the request carries {count} events; at most {max} per request")]
    TooManyEvents { count: usize, max: usize },

    /// The body holds no event (an empty array).
    #[error("the request holds no event; send one event or an array of events")]
    NoEvents,

    /// No such route.
    #[error("no route {method} {path}; events are posted to POST /v1/events")]
    NotFound { method: String, path: String },

    /// The body could not be read (the connection broke mid-body).
    #[error("the request body could not be read: {reason}")]
    BadRequest { reason: String },

    /// The organisation sent more events than its rate allows: retry after the delay.
    #[error("rate limit exceeded for organisation {org}; retry after {} s", whole_seconds(*retry_after))]
    RateLimited { org: String, retry_after: Duration },

    /// The request did not finish in time. Events may or may not have been stored: retry
    /// with the same event ids (the log de-duplicates them).
    #[error(
        "the request did not finish within {} ms; retry with the same event ids (duplicates are recognised)",
        after.as_millis()
    )]
    Timeout { after: Duration },

    /// The service cannot take requests right now (shutting down, log unreachable): retry.
    #[error("the ingest service is unavailable: {reason}; retry later with the same event ids")]
    Unavailable {
        reason: String,
        retry_after: Duration,
    },

    /// The token file cannot be read, parsed or written: fix the file (or the folder's
    /// permissions).
    #[error("token file {}: {reason}", path.display())]
    TokenFile { path: PathBuf, reason: String },

    /// A token cannot be created as asked (an org token without an org, an operator
    /// token naming one): fix the request.
    #[error("cannot create the token: {reason}")]
    InvalidToken { reason: String },

    /// The NATS permission template was asked for something it cannot render safely.
    #[error("cannot render NATS permissions: {reason}")]
    InvalidPermissions { reason: String },

    /// The NATS door could not subscribe or the HTTP listener failed: check the NATS user's
    /// permissions (subscribe `samla.ingest.>`) or the listening address.
    #[error("the {door} door could not start or serve: {reason}")]
    DoorFailed { door: &'static str, reason: String },

    /// A query parameter is malformed: fix it as the message says.
    #[error("{message}")]
    InvalidParameter {
        field: &'static str,
        message: String,
    },

    /// `min_seq` was not applied in time: retry (the read models are catching up).
    #[error(
        "the read models have applied up to {applied} and did not reach {wanted} within {} s; retry",
        waited.as_secs()
    )]
    NotYetApplied {
        applied: u64,
        wanted: u64,
        waited: Duration,
    },
}

impl ApiError {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthorized => "unauthorized",
            ApiError::Forbidden { .. } => "forbidden",
            ApiError::PayloadTooLarge { .. } => "too_large",
            ApiError::TooManyEvents { .. } => "too_many_events",
            ApiError::NoEvents => "no_events",
            ApiError::BadRequest { .. } => "bad_request",
            ApiError::NotFound { .. } => "not_found",
            ApiError::InvalidToken { .. } => "invalid",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::Timeout { .. } => "timeout",
            ApiError::Unavailable { .. } => "unavailable",
            ApiError::InvalidParameter { .. } => "invalid_parameter",
            ApiError::NotYetApplied { .. } => "not_yet_applied",
            ApiError::TokenFile { .. }
            | ApiError::InvalidPermissions { .. }
            | ApiError::DoorFailed { .. } => "internal",
        }
    }

    /// The HTTP status this error answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden { .. } => StatusCode::FORBIDDEN,
            ApiError::PayloadTooLarge { .. } | ApiError::TooManyEvents { .. } => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            ApiError::NoEvents => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::NotFound { .. } => StatusCode::NOT_FOUND,
            ApiError::BadRequest { .. }
            | ApiError::InvalidToken { .. }
            | ApiError::InvalidParameter { .. } => StatusCode::BAD_REQUEST,
            ApiError::NotYetApplied { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Timeout { .. } | ApiError::Unavailable { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::TokenFile { .. }
            | ApiError::InvalidPermissions { .. }
            | ApiError::DoorFailed { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The request field at fault, when one is.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            ApiError::Unauthorized => Some("authorization"),
            ApiError::InvalidParameter { field, .. } => Some(field),
            ApiError::NotYetApplied { .. } => Some("min_seq"),
            _ => None,
        }
    }

    /// How long a client should wait before retrying, when retrying can help.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ApiError::RateLimited { retry_after, .. }
            | ApiError::Unavailable { retry_after, .. } => Some(*retry_after),
            ApiError::Timeout { .. } | ApiError::NotYetApplied { .. } => {
                Some(Duration::from_secs(1))
            }
            _ => None,
        }
    }
}

/// The JSON body of a whole-request error.
#[derive(Debug, Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Debug, Serialize)]
struct ErrorDetail<'a> {
    code: &'a str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            // Logged once here, inside the request's span; the client gets the message.
            tracing::warn!(code = self.code(), error = %self, "request failed");
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code(),
                message: self.to_string(),
                field: self.field(),
            },
        };
        let mut response = (status, axum::Json(body)).into_response();
        if let Some(after) = self.retry_after() {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, retry_after_value(after));
        }
        if matches!(self, ApiError::Unauthorized) {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"samla\""),
            );
        }
        response
    }
}

/// `Retry-After` in whole seconds, at least 1 (0 would invite a tight retry loop).
pub(crate) fn retry_after_value(after: Duration) -> HeaderValue {
    HeaderValue::from(whole_seconds(after))
}

/// A delay rounded up to whole seconds, at least 1: what `Retry-After` and the messages say.
pub(crate) fn whole_seconds(after: Duration) -> u64 {
    (after.as_secs() + u64::from(after.subsec_nanos() > 0)).max(1)
}
