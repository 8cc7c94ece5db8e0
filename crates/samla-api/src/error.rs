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
use utoipa::ToSchema;

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
    #[error("no route {method} {path}; GET /v1/openapi.json lists every route")]
    NotFound { method: String, path: String },

    /// The route exists but not with this method.
    #[error(
        "{path} does not answer {method}; GET /v1/openapi.json lists every route and its methods"
    )]
    MethodNotAllowed { method: String, path: String },

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

    /// The log's stream is gone (deleted, or never created on this server): retrying will
    /// not help until a person restores it; the reason says how.
    #[error("the log cannot be read: {reason}")]
    LogMissing { reason: String },

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
        "the read models have applied up to {applied} and did not reach {wanted} within {}; retry",
        wait_text(*waited)
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
            ApiError::MethodNotAllowed { .. } => "method_not_allowed",
            ApiError::InvalidToken { .. } => "invalid",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::Timeout { .. } => "timeout",
            ApiError::Unavailable { .. } => "unavailable",
            ApiError::LogMissing { .. } => "log_missing",
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
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::BadRequest { .. }
            | ApiError::InvalidToken { .. }
            | ApiError::InvalidParameter { .. } => StatusCode::BAD_REQUEST,
            ApiError::NotYetApplied { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            // The service cannot answer without its log: 503, but without `Retry-After`.
            ApiError::Timeout { .. }
            | ApiError::Unavailable { .. }
            | ApiError::LogMissing { .. } => StatusCode::SERVICE_UNAVAILABLE,
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

/// Every code an [`ApiError`] answers with (a unit test keeps the list whole).
pub const ERROR_CODES: &[&str] = &[
    "unauthorized",
    "forbidden",
    "too_large",
    "too_many_events",
    "no_events",
    "bad_request",
    "not_found",
    "method_not_allowed",
    "invalid",
    "rate_limited",
    "timeout",
    "unavailable",
    "log_missing",
    "invalid_parameter",
    "not_yet_applied",
    "internal",
];

/// The JSON body of every whole-request error: `{"error": {"code", "message", "field"?}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

/// What went wrong: a stable code to branch on, a message to show, and the request field at
/// fault when one is (`authorization`, a query parameter, `min_seq`, `incident`).
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail<'a> {
    #[schema(schema_with = error_code_schema)]
    code: &'a str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

fn error_code_schema() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(ERROR_CODES.iter().copied()))
        .description(Some("A stable, machine-readable code."))
        .build()
}

impl ApiError {
    /// The body this error answers with.
    pub fn body(&self) -> ErrorBody<'_> {
        ErrorBody {
            error: ErrorDetail {
                code: self.code(),
                message: self.to_string(),
                field: self.field(),
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            // Logged once here, inside the request's span; the client gets the message.
            tracing::warn!(code = self.code(), error = %self, "request failed");
        }
        let mut response = (status, axum::Json(self.body())).into_response();
        if let Some(after) = self.retry_after() {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, retry_after_value(after));
        }
        if matches!(self, ApiError::PayloadTooLarge { .. }) {
            // The unread rest of the body is not drained: the server closes the
            // connection, so say so, or a keep-alive client sends its next request into it.
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
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

/// A wait as a message says it: whole seconds, or milliseconds when shorter or uneven.
fn wait_text(wait: Duration) -> String {
    if wait.subsec_nanos() == 0 {
        format!("{} s", wait.as_secs())
    } else {
        format!("{} ms", wait.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One of each variant; the match makes a new variant fail to compile until it is
    /// added here (and its code to [`ERROR_CODES`]).
    fn one_of_each() -> Vec<ApiError> {
        let samples = vec![
            ApiError::Unauthorized,
            ApiError::Forbidden {
                message: String::new(),
            },
            ApiError::PayloadTooLarge { limit_bytes: 1 },
            ApiError::TooManyEvents { count: 2, max: 1 },
            ApiError::NoEvents,
            ApiError::NotFound {
                method: String::new(),
                path: String::new(),
            },
            ApiError::MethodNotAllowed {
                method: String::new(),
                path: String::new(),
            },
            ApiError::BadRequest {
                reason: String::new(),
            },
            ApiError::RateLimited {
                org: String::new(),
                retry_after: Duration::ZERO,
            },
            ApiError::Timeout {
                after: Duration::ZERO,
            },
            ApiError::Unavailable {
                reason: String::new(),
                retry_after: Duration::ZERO,
            },
            ApiError::LogMissing {
                reason: String::new(),
            },
            ApiError::TokenFile {
                path: PathBuf::new(),
                reason: String::new(),
            },
            ApiError::InvalidToken {
                reason: String::new(),
            },
            ApiError::InvalidPermissions {
                reason: String::new(),
            },
            ApiError::DoorFailed {
                door: "HTTP",
                reason: String::new(),
            },
            ApiError::InvalidParameter {
                field: "x",
                message: String::new(),
            },
            ApiError::NotYetApplied {
                applied: 0,
                wanted: 1,
                waited: Duration::ZERO,
            },
        ];
        for sample in &samples {
            match sample {
                ApiError::Unauthorized
                | ApiError::Forbidden { .. }
                | ApiError::PayloadTooLarge { .. }
                | ApiError::TooManyEvents { .. }
                | ApiError::NoEvents
                | ApiError::NotFound { .. }
                | ApiError::MethodNotAllowed { .. }
                | ApiError::BadRequest { .. }
                | ApiError::RateLimited { .. }
                | ApiError::Timeout { .. }
                | ApiError::Unavailable { .. }
                | ApiError::LogMissing { .. }
                | ApiError::TokenFile { .. }
                | ApiError::InvalidToken { .. }
                | ApiError::InvalidPermissions { .. }
                | ApiError::DoorFailed { .. }
                | ApiError::InvalidParameter { .. }
                | ApiError::NotYetApplied { .. } => {}
            }
        }
        samples
    }

    #[test]
    fn every_code_is_listed_and_every_listed_code_is_used() {
        let used: std::collections::BTreeSet<&str> =
            one_of_each().iter().map(ApiError::code).collect();
        let listed: std::collections::BTreeSet<&str> = ERROR_CODES.iter().copied().collect();
        assert_eq!(used, listed);
    }

    #[test]
    fn waits_read_naturally() {
        assert_eq!(wait_text(Duration::from_secs(10)), "10 s");
        assert_eq!(wait_text(Duration::from_millis(250)), "250 ms");
    }
}
