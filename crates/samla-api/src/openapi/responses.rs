//! The error responses of each kind of route, for the OpenAPI document.
//!
//! Each set is an `IntoResponses` type a route names in its `responses(...)`. Examples are
//! real [`ApiError`] values rendered by the same code that answers requests, so a message
//! in the document is the message a client gets.

use std::collections::BTreeMap;
use std::time::Duration;

use utoipa::IntoResponses;
use utoipa::openapi::example::ExampleBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Type};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};

use crate::IngestConfig;
use crate::error::ApiError;
use crate::query::MIN_SEQ_WAIT;
use crate::query::params::{LiveParams, ReadParams, parse_query};

/// A response whose body is the error shape, with one example per error.
fn error_response(description: &str, examples: &[(&str, ApiError)]) -> Response {
    let mut content = ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody")));
    content = content.examples_from_iter(examples.iter().map(|(name, error)| {
        let value = serde_json::to_value(error.body()).unwrap_or_default();
        (*name, ExampleBuilder::new().value(Some(value)).build())
    }));
    let mut response = ResponseBuilder::new()
        .description(description)
        .content("application/json", content.build());
    let retry_after = examples
        .iter()
        .any(|(_, error)| error.retry_after().is_some());
    if retry_after {
        response = response.header(
            "Retry-After",
            HeaderBuilder::new()
                .schema(Some(ObjectBuilder::new().schema_type(Type::Integer)))
                .description(Some("Seconds to wait before retrying."))
                .build(),
        );
    }
    if examples
        .iter()
        .any(|(_, error)| matches!(error, ApiError::Unauthorized))
    {
        response = response.header(
            "WWW-Authenticate",
            HeaderBuilder::new()
                .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                .description(Some("`Bearer realm=\"samla\"`"))
                .build(),
        );
    }
    response.build()
}

fn invalid_parameter<T: serde::de::DeserializeOwned>(query: &str) -> ApiError {
    match parse_query::<T>(query) {
        Err(error) => error,
        Ok(_) => ApiError::InvalidParameter {
            field: "query",
            message: format!("example {query:?} parsed"),
        },
    }
}

fn bad_parameter() -> Response {
    bad_parameter_with(&[
        ("status", invalid_parameter::<ReadParams>("status=bogus")),
        ("min_seq", invalid_parameter::<ReadParams>("min_seq=soon")),
    ])
}

fn bad_parameter_with(examples: &[(&str, ApiError)]) -> Response {
    error_response(
        "A parameter is malformed: `invalid_parameter`, `field` names it (a query \
         parameter, or `incident` for the path).",
        examples,
    )
}

fn unauthorized() -> Response {
    error_response(
        "No credential, or one this gateway does not know: `unauthorized`.",
        &[("unauthorized", ApiError::Unauthorized)],
    )
}

fn operator_only() -> Response {
    error_response(
        "The credential is not the operator's: `forbidden`.",
        &[(
            "forbidden",
            ApiError::Forbidden {
                message: "this route needs the operator token".into(),
            },
        )],
    )
}

fn loading() -> ApiError {
    ApiError::Unavailable {
        reason: "the read models are still loading".into(),
        retry_after: Duration::from_secs(1),
    }
}

fn not_ready() -> Response {
    error_response(
        "The read models did not reach `min_seq` in time (`not_yet_applied`, retry), or \
         are still loading after a start, or the log could not be read (`unavailable`, \
         retry), or the log's stream is gone (`log_missing`: retrying will not help until \
         an operator restores it).",
        &[
            (
                "not_yet_applied",
                ApiError::NotYetApplied {
                    applied: 41,
                    wanted: 42,
                    waited: MIN_SEQ_WAIT,
                },
            ),
            ("unavailable", loading()),
            (
                "log_missing",
                ApiError::LogMissing {
                    reason: samla_log::LogError::StreamMissing {
                        stream: "SAMLA_LOG".into(),
                    }
                    .to_string(),
                },
            ),
        ],
    )
}

fn set(responses: impl IntoIterator<Item = (u16, Response)>) -> BTreeMap<String, RefOr<Response>> {
    responses
        .into_iter()
        .map(|(status, response)| (status.to_string(), RefOr::T(response)))
        .collect()
}

/// A query: 400, 401, 503.
#[derive(Debug)]
pub struct ReadErrors;

impl IntoResponses for ReadErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        set([
            (400, bad_parameter()),
            (401, unauthorized()),
            (503, not_ready()),
        ])
    }
}

/// The live stream: 400, 401, 503.
#[derive(Debug)]
pub struct LiveErrors;

impl IntoResponses for LiveErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let bad = bad_parameter_with(&[
            ("status", invalid_parameter::<LiveParams>("status=bogus")),
            ("from_seq", invalid_parameter::<LiveParams>("from_seq=soon")),
        ]);
        let loading = error_response(
            "The read models are still loading after a start: `unavailable`, retry.",
            &[("unavailable", loading())],
        );
        set([(400, bad), (401, unauthorized()), (503, loading)])
    }
}

/// A route that needs any credential and nothing else: 401.
#[derive(Debug)]
pub struct AuthErrors;

impl IntoResponses for AuthErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        set([(401, unauthorized())])
    }
}

/// An operator's query: 400, 401, 403, 503.
#[derive(Debug)]
pub struct OperatorReadErrors;

impl IntoResponses for OperatorReadErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        set([
            (400, bad_parameter()),
            (401, unauthorized()),
            (403, operator_only()),
            (503, not_ready()),
        ])
    }
}

/// An operator's route without parameters: 401, 403, 503.
#[derive(Debug)]
pub struct OperatorErrors;

impl IntoResponses for OperatorErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let unavailable = error_response(
            "The read models are not open yet: `unavailable`, retry.",
            &[("unavailable", loading())],
        );
        set([
            (401, unauthorized()),
            (403, operator_only()),
            (503, unavailable),
        ])
    }
}

/// The session routes: 400 (body), 401.
#[derive(Debug)]
pub struct SessionErrors;

impl IntoResponses for SessionErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let bad_body = error_response(
            "The body is not `{\"token\": \"…\"}` sent as `application/json`: `bad_request`.",
            &[(
                "bad_request",
                ApiError::BadRequest {
                    reason: "missing field `token` at line 1 column 2".into(),
                },
            )],
        );
        set([(400, bad_body), (401, unauthorized())])
    }
}

/// `POST /v1/events`: the reply array, or a whole-request error.
#[derive(Debug)]
pub struct IngestResponses;

impl IngestResponses {
    fn replies(description: &str) -> Response {
        let array = ArrayBuilder::new()
            .items(Ref::from_schema_name("ItemReply"))
            .min_items(Some(1));
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new().schema(Some(array)).build(),
            )
            .build()
    }

    /// Statuses that sum up the items, or refuse the whole request.
    fn replies_or_error(description: &str, examples: &[(&str, ApiError)]) -> Response {
        let mut response = error_response(description, examples);
        let either = OneOfBuilder::new()
            .item(
                ArrayBuilder::new()
                    .items(Ref::from_schema_name("ItemReply"))
                    .min_items(Some(1)),
            )
            .item(Ref::from_schema_name("ErrorBody"));
        if let Some(RefOr::T(content)) = response.content.get_mut("application/json") {
            content.schema = Some(either.into());
        }
        response
    }
}

impl IntoResponses for IngestResponses {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        set([
            (
                202,
                Self::replies(
                    "At least one event is in the log (new or a duplicate). One reply per \
                     item, in request order: `{id, seq, duplicate}` or `{id, error}`.",
                ),
            ),
            (
                400,
                error_response(
                    "The body could not be read, or the array could not be split: `bad_request`.",
                    &[(
                        "bad_request",
                        ApiError::BadRequest {
                            reason: "the array could not be split: EOF while parsing a list".into(),
                        },
                    )],
                ),
            ),
            (401, unauthorized()),
            (
                403,
                Self::replies_or_error(
                    "A share or operator token (an error body), or every item names another \
                     organisation than the token's (a reply array, each `forbidden`).",
                    &[(
                        "forbidden",
                        ApiError::Forbidden {
                            message: "a share token is read-only: it may not post events".into(),
                        },
                    )],
                ),
            ),
            (
                409,
                Self::replies(
                    "Every item failed optimistic concurrency (`conflict`, with `current_seq`): \
                     re-read and decide again.",
                ),
            ),
            (
                413,
                error_response(
                    "The body or the number of items is over the limit: `too_large`, \
                     `too_many_events`.",
                    &[
                        (
                            "too_large",
                            ApiError::PayloadTooLarge {
                                limit_bytes: IngestConfig::default().max_body_bytes,
                            },
                        ),
                        (
                            "too_many_events",
                            ApiError::TooManyEvents {
                                count: IngestConfig::default().max_items_per_request + 1,
                                max: IngestConfig::default().max_items_per_request,
                            },
                        ),
                    ],
                ),
            ),
            (
                422,
                Self::replies_or_error(
                    "No item could be stored and the client must fix them (a reply array with \
                     each item's code and field), or the array is empty (`no_events`).",
                    &[("no_events", ApiError::NoEvents)],
                ),
            ),
            (
                429,
                error_response(
                    "The organisation is over its rate: `rate_limited`; retry after the delay.",
                    &[(
                        "rate_limited",
                        ApiError::RateLimited {
                            org: "malmo-stad".into(),
                            retry_after: Duration::from_secs(2),
                        },
                    )],
                ),
            ),
            (
                503,
                Self::replies_or_error(
                    "The log is unreachable or full (a reply array: nothing was stored, retry \
                     with the same ids), or the request timed out (`timeout`: it may be stored; \
                     a retry with the same ids is recognised as a duplicate).",
                    &[(
                        "timeout",
                        ApiError::Timeout {
                            after: Duration::from_secs(10),
                        },
                    )],
                ),
            ),
        ])
    }
}
