//! JSON Schemas generated from the types: one for the envelope (any kind) and one per
//! kind (the envelope with that kind's `kind`, `v` and payload). Checked in under
//! `proto-events/schema/`; `cargo run -p proto-events --bin write-contract` regenerates
//! them, and a test fails when the checked-in files are stale.

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde_json::{Map, Value, json};

use crate::catalogue::{Kind, payload_schema};
use crate::envelope::{AggregateRef, Audience, TaggedPayload};
use crate::ids::{AreaCode, EventId, IncidentId, Label, LangTag, OrgId};
use crate::time::Timestamp;
use crate::vocab::Status;

const ENVELOPE_REQUIRED: &[&str] = &[
    "id",
    "kind",
    "v",
    "incident",
    "org",
    "function",
    "aggregate",
    "occurred_at",
    "status",
    "audience",
    "area",
    "payload",
];

/// The file name of a kind's schema, e.g. `need_raised.schema.json`.
pub fn schema_file_name(kind: Option<Kind>) -> String {
    match kind {
        Some(kind) => format!("{}.schema.json", kind.as_str()),
        None => "envelope.schema.json".to_string(),
    }
}

/// The schema of an envelope of one kind, or of any kind (`None`).
pub fn envelope_schema(kind: Option<Kind>) -> Schema {
    let mut generator = schemars::generate::SchemaSettings::draft2020_12().into_generator();
    let (title, description, kind_schema, v_schema, payload) = match kind {
        Some(kind) => (
            kind.as_str().to_string(),
            format!(
                "A Samla `{}` event (schema version {}). Aggregate type: {}.",
                kind.as_str(),
                kind.current_version(),
                kind.aggregate_type()
                    .map_or("that of the superseded event".to_string(), |t| t
                        .as_str()
                        .to_string())
            ),
            json!({ "const": kind.as_str() }),
            json!({ "const": kind.current_version() }),
            payload_schema(kind, &mut generator).to_value(),
        ),
        None => (
            "envelope".to_string(),
            "A Samla event envelope of any kind; see <kind>.schema.json for each payload."
                .to_string(),
            json!({ "enum": Kind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>() }),
            json!({ "type": "integer", "minimum": 1 }),
            json!({ "type": "object" }),
        ),
    };
    let mut properties = Map::new();
    let mut add = |name: &str, schema: Value| {
        properties.insert(name.to_string(), schema);
    };
    add("id", generator.subschema_for::<EventId>().to_value());
    add("kind", kind_schema);
    add("v", v_schema);
    add(
        "incident",
        generator.subschema_for::<IncidentId>().to_value(),
    );
    add("org", generator.subschema_for::<OrgId>().to_value());
    add("function", generator.subschema_for::<Label>().to_value());
    add(
        "aggregate",
        generator.subschema_for::<AggregateRef>().to_value(),
    );
    add(
        "occurred_at",
        generator.subschema_for::<Timestamp>().to_value(),
    );
    add("status", generator.subschema_for::<Status>().to_value());
    add("audience", generator.subschema_for::<Audience>().to_value());
    add(
        "correlation",
        generator.subschema_for::<EventId>().to_value(),
    );
    add("causation", generator.subschema_for::<EventId>().to_value());
    add("area", generator.subschema_for::<AreaCode>().to_value());
    add("lang", generator.subschema_for::<LangTag>().to_value());
    add("payload", payload);
    let definitions = generator.take_definitions(true);
    let mut schema = json_schema!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": title,
        "description": description,
        "type": "object",
        "additionalProperties": false,
        "required": ENVELOPE_REQUIRED,
        "properties": properties,
    });
    if !definitions.is_empty() {
        schema.insert("$defs".to_string(), Value::Object(definitions));
    }
    schema
}

/// Every schema file: `(file name, pretty JSON with a final newline)`.
pub fn all_schema_files() -> Vec<(String, String)> {
    std::iter::once(None)
        .chain(Kind::ALL.iter().copied().map(Some))
        .map(|kind| {
            let text = serde_json::to_string_pretty(&envelope_schema(kind))
                .expect("a schema is always valid JSON");
            (schema_file_name(kind), format!("{text}\n"))
        })
        .collect()
}

impl JsonSchema for TaggedPayload {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "TaggedPayload".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let variants: Vec<Value> = Kind::ALL
            .iter()
            .filter(|kind| !kind.is_hygiene())
            .map(|kind| {
                json!({
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["kind", "v", "payload"],
                    "properties": {
                        "kind": { "const": kind.as_str() },
                        "v": { "const": kind.current_version() },
                        "payload": payload_schema(*kind, generator).to_value(),
                    }
                })
            })
            .collect();
        json_schema!({
            "description": "The replacement payload of a correction, with its kind and version.",
            "oneOf": variants,
        })
    }
}
