//! `GET /v1/openapi.json`: the OpenAPI 3.1 document, generated from the code.
//!
//! Every route is registered through `utoipa_axum` (`routes!(handler)`), which takes the
//! path and method from the handler's `#[utoipa::path]` — so the router and the document
//! are made from one list and cannot drift. Parameters come from the structs the handlers
//! parse (`query::params`), request and reply shapes of ingest and sessions from their own
//! types, error examples from real [`crate::ApiError`] values. The query answers are built
//! as JSON from the projector's views; `schemas.rs` describes them by hand (a test checks
//! real answers against them). The envelope is the contract's own JSON Schema
//! (`proto_events::schema`), merged in when the document is assembled.
//!
//! Layout: `mod.rs` assembles and serves the document; `schemas.rs` the shared shapes
//! (frames, counts of people, ingest request, timeline events); `views.rs` the views;
//! `responses.rs` the error responses each kind of route names.

pub(crate) mod responses;
pub(crate) mod schemas;
pub(crate) mod views;

use std::sync::OnceLock;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi as Document, SecurityRequirement};
use utoipa::{Modify, OpenApi};

use crate::error::ErrorBody;
use crate::ingest::{ItemError, ItemReply};
use crate::query::SESSION_COOKIE;
use schemas::PeopleCount;

/// The description of a contract schema until the contract's own replaces it.
pub(crate) const CONTRACT_PLACEHOLDER: &str = "(the contract's JSON Schema)";

const DESCRIPTION: &str = "\
Samla's HTTP API: post events (`POST /v1/events`), read the picture and every read model \
as the credential may see it, follow an incident live (Server-Sent Events), and sign the \
dashboard in.

**Credentials.** A bearer token (`Authorization: Bearer samla_…`): an organisation's token \
reads and posts as that organisation; a share token reads only (wall screens); the operator \
token also reads the quarantine and the digest. Reads also accept the dashboard's session \
cookie (`samla_session`, set by `POST /v1/session`); `POST /v1/events` accepts only the \
bearer header.

**Errors.** Every whole-request error answers `{\"error\": {\"code\", \"message\", \
\"field\"?}}` with a stable `code` (see `ErrorBody`); 404 `not_found` for an unknown route \
and 405 `method_not_allowed` for a known route asked with another method. 429 and 503 carry \
`Retry-After`.

**Reading one's own write.** Every answer gives `applied_seq`, the last log sequence the \
read models applied. Pass an ingest reply's `seq` as `min_seq` to wait for it.

**Small counts of people.** Views for share tokens show a count of people between 1 and \
N - 1 as `{\"suppressed\": true, \"below\": N}` instead of a number (`PeopleCount`), never a \
fake integer.

The query routes exist where the process runs a read side (`samla serve`); an ingest-only \
gateway answers them 404.";

#[derive(OpenApi)]
#[openapi(
    info(title = "Samla API", description = DESCRIPTION, license(name = "EUPL-1.2")),
    components(schemas(ErrorBody, ItemReply, ItemError, PeopleCount)),
    modifiers(&Credentials),
    tags(
        (name = "ingest", description = "Events into the log."),
        (name = "queries", description = "The picture and the read models, as the credential may see them."),
        (name = "live", description = "Server-Sent Events."),
        (name = "session", description = "The dashboard's cookie session."),
        (name = "operations", description = "Health, readiness, metrics, operator routes."),
        (name = "meta", description = "This document."),
    ),
)]
struct ApiDoc;

/// The two ways to present a credential, and the default: either.
struct Credentials;

impl Modify for Credentials {
    fn modify(&self, document: &mut Document) {
        let components = document.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("samla_<43 characters>")
                    .description(Some(
                        "An organisation, share or operator token from `tokens.json`.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                SESSION_COOKIE,
                "The dashboard's session cookie, set by `POST /v1/session`. Not accepted by \
                 `POST /v1/events`.",
            ))),
        );
        document.security = Some(vec![
            SecurityRequirement::new("bearer", Vec::<String>::new()),
            SecurityRequirement::new("session", Vec::<String>::new()),
        ]);
    }
}

/// The document as utoipa builds it from the routes (before the contract's schemas are
/// merged in).
pub fn openapi() -> Document {
    let mut document = ApiDoc::openapi();
    document.info.version = env!("CARGO_PKG_VERSION").to_owned();
    document.merge(crate::app::gateway_routes().into_openapi());
    document.merge(crate::query::query_routes().into_openapi());
    document
}

/// The whole document as JSON, with the contract's envelope schema: what
/// `GET /v1/openapi.json` serves.
pub fn openapi_json() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let mut document = serde_json::to_value(openapi()).unwrap_or_default();
        merge_contract(&mut document);
        document
    })
}

/// Replaces the contract placeholders with the contract's JSON Schema: the envelope of any
/// kind, and its definitions (ids, timestamps, audience) as components, their references
/// rewritten from `#/$defs/…` to `#/components/schemas/…`.
fn merge_contract(document: &mut Value) {
    let mut envelope =
        serde_json::to_value(proto_events::schema::envelope_schema(None)).unwrap_or_default();
    rewrite_refs(&mut envelope);
    let Some(envelope) = envelope.as_object_mut() else {
        return;
    };
    envelope.remove("$schema");
    let definitions = match envelope.remove("$defs") {
        Some(Value::Object(definitions)) => definitions,
        _ => Map::new(),
    };
    let Some(schemas) = document
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    for (name, schema) in definitions {
        schemas.insert(name, schema);
    }
    schemas.insert("Envelope".to_owned(), Value::Object(envelope.clone()));
}

fn rewrite_refs(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                if key == "$ref"
                    && let Value::String(target) = item
                    && let Some(name) = target.strip_prefix("#/$defs/")
                {
                    *target = format!("#/components/schemas/{name}");
                } else {
                    rewrite_refs(item);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(rewrite_refs),
        _ => {}
    }
}

/// This document.
#[utoipa::path(
    get,
    path = "/v1/openapi.json",
    tag = "meta",
    security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document.", body = Object)),
)]
pub(crate) async fn document() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        axum::Json(openapi_json()),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
        match value {
            Value::Object(map) => {
                for (key, item) in map {
                    match (key.as_str(), item) {
                        ("$ref", Value::String(target)) => out.push(target),
                        _ => refs(item, out),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|item| refs(item, out)),
            _ => {}
        }
    }

    #[test]
    fn every_reference_resolves_and_no_placeholder_is_left() {
        let document = openapi_json();
        let mut targets = Vec::new();
        refs(document, &mut targets);
        assert!(!targets.is_empty());
        for target in targets {
            let pointer = target
                .strip_prefix('#')
                .unwrap_or_else(|| panic!("external reference {target}"));
            assert!(
                document.pointer(pointer).is_some(),
                "{target} does not resolve"
            );
        }
        let text = document.to_string();
        assert!(
            !text.contains(CONTRACT_PLACEHOLDER),
            "a placeholder is left"
        );
    }
}
