//! One record → one envelope: read the cells the mapping names, turn them into the JSON
//! the contract expects, derive ids, then decode with the contract's own decoder and run
//! `Envelope::validate` (which runs the personal-data guard). Every rule an event must pass
//! is therefore the contract's, applied exactly as ingest applies it; this file only
//! translates cells and names the column behind a refused field.

use std::collections::HashMap;
use std::sync::Arc;

use proto_events::{Envelope, Kind};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::convert::{self, Context};
use crate::error::{ImportError, RowError};
use crate::fields::{FieldType, KindFields};
use crate::ids;
use crate::mapping::{CellSpec, EnvelopeField, FieldSpec, KindSpec, Mapping, constant_value};
use crate::source::{Columns, Record};

/// A field's source, resolved against one file's columns.
#[derive(Debug, Clone)]
enum Slot {
    Constant(Value),
    Cell { column: usize, spec: CellSpec },
}

impl Slot {
    fn resolve(spec: &FieldSpec, columns: &Columns) -> Result<Slot, ImportError> {
        Ok(match spec {
            FieldSpec::Constant(value) => Slot::Constant(value.clone()),
            FieldSpec::Cell(spec) => Slot::Cell {
                column: columns.find(&spec.column)?,
                spec: spec.clone(),
            },
        })
    }

    fn column(&self) -> Option<usize> {
        match self {
            Slot::Constant(_) => None,
            Slot::Cell { column, .. } => Some(*column),
        }
    }
}

/// The mapping resolved against one file's columns, and what the rows seen so far need
/// remembered (duplicate keys, identical rows).
#[derive(Debug)]
pub(crate) struct Builder {
    kind: Slot,
    constant_kind: Option<Kind>,
    envelope: Vec<(EnvelopeField, Slot)>,
    payload: Vec<(Vec<String>, Slot)>,
    key: Vec<usize>,
    aggregate_key: Vec<usize>,
    columns: Columns,
    context: Context,
    /// Per kind: which payload fields it has, and their types.
    kind_fields: HashMap<Kind, Arc<Vec<(usize, FieldType)>>>,
    /// Keys seen: (kind, key fingerprint) → line, to refuse a second row with the same key.
    keys_seen: HashMap<(Kind, u128), u64>,
    /// Content fingerprints seen → how many times, to number identical rows.
    contents_seen: HashMap<u128, u32>,
}

/// The envelope as JSON, in the contract's field order (so `kind` and `v` come before the
/// payload and the decoder takes its fast path).
#[derive(Serialize)]
struct Draft<'a> {
    id: &'a str,
    kind: &'a str,
    v: u16,
    #[serde(skip_serializing_if = "Value::is_null")]
    incident: &'a Value,
    #[serde(skip_serializing_if = "Value::is_null")]
    org: &'a Value,
    #[serde(skip_serializing_if = "Value::is_null")]
    function: &'a Value,
    aggregate: Value,
    #[serde(skip_serializing_if = "Value::is_null")]
    occurred_at: &'a Value,
    #[serde(skip_serializing_if = "Value::is_null")]
    status: &'a Value,
    #[serde(skip_serializing_if = "Value::is_null")]
    audience: &'a Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    correlation: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    causation: Option<&'a Value>,
    #[serde(skip_serializing_if = "Value::is_null")]
    area: &'a Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    lang: Option<&'a Value>,
    payload: &'a Value,
}

impl Builder {
    pub(crate) fn new(mapping: &Mapping, columns: Columns) -> Result<Builder, ImportError> {
        let (kind, constant_kind) = match &mapping.kind {
            KindSpec::Constant(kind) => (Slot::Constant(Value::from(kind.as_str())), Some(*kind)),
            KindSpec::Cell(spec) => (
                Slot::resolve(&FieldSpec::Cell((**spec).clone()), &columns)?,
                None,
            ),
        };
        let envelope = mapping
            .envelope
            .iter()
            .map(|(field, spec)| Ok((*field, Slot::resolve(spec, &columns)?)))
            .collect::<Result<Vec<_>, ImportError>>()?;
        let payload = mapping
            .payload
            .iter()
            .map(|(path, spec)| Ok((path.clone(), Slot::resolve(spec, &columns)?)))
            .collect::<Result<Vec<_>, ImportError>>()?;
        let find_all = |refs: &[crate::mapping::ColumnRef]| {
            refs.iter()
                .map(|r| columns.find(r))
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(Builder {
            kind,
            constant_kind,
            envelope,
            payload,
            key: find_all(&mapping.source.key)?,
            aggregate_key: find_all(&mapping.source.aggregate_key)?,
            context: mapping.context.clone(),
            columns,
            kind_fields: HashMap::new(),
            keys_seen: HashMap::new(),
            contents_seen: HashMap::new(),
        })
    }

    pub(crate) fn columns(&self) -> &Columns {
        &self.columns
    }

    fn error(
        &self,
        record: &Record,
        field: &str,
        column: Option<usize>,
    ) -> impl Fn(&'static str, String) -> RowError {
        let line = record.line;
        let field = field.to_string();
        let column = column.map(|c| self.columns.label(c));
        move |code, reason| RowError {
            line,
            field: field.clone(),
            column: column.clone(),
            code,
            reason,
        }
    }

    /// A slot's value as a field of type `ty`; `None` when the cell is empty and there is
    /// no default.
    fn value(
        &self,
        record: &Record,
        slot: &Slot,
        ty: &FieldType,
        field: &str,
    ) -> Result<Option<Value>, RowError> {
        let fail = self.error(record, field, slot.column());
        match slot {
            Slot::Constant(value) => constant_value(value, ty, &self.context)
                .map(Some)
                .map_err(|reason| fail("invalid", reason)),
            Slot::Cell { column, spec } => {
                if let Some((_, why)) = record.cell_errors.iter().find(|(c, _)| c == column) {
                    return Err(fail("unreadable_cell", format!("the cell {why}")));
                }
                let text = record.cells.get(*column).map_or("", |c| c.trim());
                let converted = match spec.map.get(text) {
                    Some(mapped) => constant_value(mapped, ty, &self.context).map(Some),
                    None if text.is_empty() => match &spec.default {
                        Some(default) => constant_value(default, ty, &self.context).map(Some),
                        None => Ok(None),
                    },
                    None => convert::convert(text, ty, spec.separator.as_deref(), &self.context)
                        .map(Some),
                };
                converted.map_err(|reason| fail("unreadable_cell", reason))
            }
        }
    }

    fn kind_of(&self, record: &Record) -> Result<Kind, RowError> {
        if let Some(kind) = self.constant_kind {
            return Ok(kind);
        }
        let fail = self.error(record, "kind", self.kind.column());
        let name = self
            .value(record, &self.kind, &FieldType::Text, "kind")?
            .and_then(|v| v.as_str().map(str::to_string))
            .ok_or_else(|| {
                fail(
                    "malformed",
                    "missing: the row names no event kind".to_string(),
                )
            })?;
        match Kind::from_name(&name) {
            Some(kind) if !kind.is_hygiene() => Ok(kind),
            Some(_) => Err(fail(
                "invalid",
                format!(
                    "{name:?}: corrections and retractions cannot be imported from a spreadsheet"
                ),
            )),
            None => Err(fail(
                "unknown_kind",
                format!(
                    "unknown kind {name:?}: not in the catalogue and not a value of the mapping's map"
                ),
            )),
        }
    }

    /// The payload fields `kind` has, with their types (cached per kind).
    fn fields_of(&mut self, kind: Kind) -> Arc<Vec<(usize, FieldType)>> {
        let payload = &self.payload;
        self.kind_fields
            .entry(kind)
            .or_insert_with(|| {
                let fields = KindFields::of(kind);
                Arc::new(
                    payload
                        .iter()
                        .enumerate()
                        .filter_map(|(index, (path, _))| {
                            fields.field_type(path).map(|ty| (index, ty))
                        })
                        .collect(),
                )
            })
            .clone()
    }

    /// One record as a checked envelope, or why not.
    pub(crate) fn build(&mut self, record: &Record) -> Result<Envelope, RowError> {
        if let Some(reason) = &record.unreadable {
            return Err(RowError {
                line: record.line,
                field: "row".to_string(),
                column: None,
                code: "unreadable_row",
                reason: reason.clone(),
            });
        }
        let kind = self.kind_of(record)?;
        let mut envelope: HashMap<EnvelopeField, Value> = HashMap::new();
        for (field, slot) in &self.envelope {
            if let Some(value) = self.value(record, slot, &field.field_type(), field.path())? {
                envelope.insert(*field, value);
            }
        }
        let mut payload = Value::Object(Map::new());
        for (index, ty) in self.fields_of(kind).iter() {
            let (path, slot) = &self.payload[*index];
            let name = format!("payload.{}", path.join("."));
            if let Some(value) = self.value(record, slot, ty, &name)? {
                insert_at(&mut payload, path, value);
            }
        }
        let text = |field| {
            envelope
                .get(&field)
                .and_then(Value::as_str)
                .unwrap_or_default()
        };
        let incident = text(EnvelopeField::Incident).to_string();
        let org = text(EnvelopeField::Org).to_string();
        let status = envelope
            .remove(&EnvelopeField::Status)
            .unwrap_or_else(|| Value::from("actual"));
        let audience = audience(envelope.remove(&EnvelopeField::Audience));
        let null = Value::Null;
        let get = |field| envelope.get(&field).unwrap_or(&null);

        // The row key: from key columns, or from the content (the event without its ids).
        let row_key = if self.key.is_empty() {
            let content = serde_json::to_vec(&(
                kind.as_str(),
                [get(EnvelopeField::Incident), get(EnvelopeField::Org)],
                [get(EnvelopeField::Function), get(EnvelopeField::OccurredAt)],
                [
                    &status,
                    &audience,
                    get(EnvelopeField::Area),
                    get(EnvelopeField::Lang),
                ],
                [
                    get(EnvelopeField::Correlation),
                    get(EnvelopeField::Causation),
                ],
                &payload,
            ))
            .unwrap_or_default();
            let seen = self
                .contents_seen
                .entry(ids::fingerprint_bytes(&content))
                .or_insert(0);
            let occurrence = *seen;
            *seen += 1;
            ids::key_of_content(&content, occurrence)
        } else {
            let cells = self.key_cells(record, &self.key, "key")?;
            let key = ids::key_of_cells(&cells);
            let line = record.line;
            if let Some(first) = self.keys_seen.insert((kind, ids::fingerprint(&key)), line) {
                self.keys_seen.insert((kind, ids::fingerprint(&key)), first);
                return Err(RowError {
                    line,
                    field: "key".to_string(),
                    column: Some(self.labels(&self.key)),
                    code: "duplicate_key",
                    reason: format!(
                        "the same key as line {first}: both rows would get the same event id, so this one would be dropped as a duplicate"
                    ),
                });
            }
            key
        };
        let event_id = match envelope.get(&EnvelopeField::Id) {
            Some(Value::String(id)) => id.clone(),
            _ => ids::event_id(&incident, &org, kind, &row_key).to_string(),
        };
        let aggregate_type = kind.aggregate_type();
        let aggregate_id = match envelope.get(&EnvelopeField::AggregateId) {
            Some(value) => value.clone(),
            None => {
                let aggregate_key = if self.aggregate_key.is_empty() {
                    row_key
                } else {
                    ids::key_of_cells(&self.key_cells(
                        record,
                        &self.aggregate_key,
                        "aggregate.id",
                    )?)
                };
                match aggregate_type {
                    Some(t) => Value::from(ids::aggregate_id(&incident, &org, t, &aggregate_key)),
                    None => Value::Null,
                }
            }
        };
        let draft = Draft {
            id: &event_id,
            kind: kind.as_str(),
            v: kind.current_version(),
            incident: get(EnvelopeField::Incident),
            org: get(EnvelopeField::Org),
            function: get(EnvelopeField::Function),
            aggregate: serde_json::json!({
                "type": aggregate_type.map(|t| t.as_str()),
                "id": aggregate_id,
            }),
            occurred_at: get(EnvelopeField::OccurredAt),
            status: &status,
            audience: &audience,
            correlation: envelope.get(&EnvelopeField::Correlation),
            causation: envelope.get(&EnvelopeField::Causation),
            area: get(EnvelopeField::Area),
            lang: envelope.get(&EnvelopeField::Lang),
            payload: &payload,
        };
        let bytes = serde_json::to_vec(&draft).map_err(|e| RowError {
            line: record.line,
            field: "row".to_string(),
            column: None,
            code: "invalid",
            reason: e.to_string(),
        })?;
        let decoded = proto_events::decode_json(&bytes).map_err(|error| {
            let (field, reason) = name_missing_field(&error);
            self.contract_error(record, field, error.code(), reason)
        })?;
        decoded.validate().map_err(|error| {
            self.contract_error(
                record,
                error.field.clone(),
                error.code,
                error.reason.clone(),
            )
        })?;
        Ok(decoded)
    }

    fn key_cells<'r>(
        &self,
        record: &'r Record,
        columns: &[usize],
        field: &str,
    ) -> Result<Vec<&'r str>, RowError> {
        let cells: Vec<&str> = columns
            .iter()
            .map(|c| record.cells.get(*c).map_or("", |t| t.trim()))
            .collect();
        // A key is hashed into ids, and a hash of a personal identity number is easily
        // reversed (there are few of them): refuse keys the guard would refuse as text.
        for (cell, column) in cells.iter().zip(columns) {
            if let Some(finding) = proto_events::guard::find_personal_data(cell) {
                return Err(RowError {
                    line: record.line,
                    field: field.to_string(),
                    column: Some(self.columns.label(*column)),
                    code: "personal_data",
                    reason: format!(
                        "the key {}; ids are derived from keys, so a key must not identify a person",
                        finding.kind.describe()
                    ),
                });
            }
        }
        if cells.iter().all(|c| c.is_empty()) {
            return Err(RowError {
                line: record.line,
                field: field.to_string(),
                column: Some(self.labels(columns)),
                code: "invalid",
                reason: "the key is empty; every row needs one so that a re-import adds nothing"
                    .to_string(),
            });
        }
        Ok(cells)
    }

    fn labels(&self, columns: &[usize]) -> String {
        columns
            .iter()
            .map(|c| self.columns.label(*c))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// A contract error, with the column its field was read from.
    fn contract_error(
        &self,
        record: &Record,
        field: String,
        code: &'static str,
        reason: String,
    ) -> RowError {
        RowError {
            line: record.line,
            column: self.column_of(&field).map(|c| self.columns.label(c)),
            field,
            code,
            reason,
        }
    }

    /// The column behind a field path (`payload.suitable_for[1]` → the `suitable_for`
    /// column), by the longest mapped prefix.
    fn column_of(&self, field: &str) -> Option<usize> {
        let field = field.split('[').next().unwrap_or(field);
        let covers = |mapped: &str| {
            field == mapped
                || (field.starts_with(mapped) && field.as_bytes().get(mapped.len()) == Some(&b'.'))
        };
        let envelope = self
            .envelope
            .iter()
            .map(|(f, slot)| (f.path().to_string(), slot));
        let payload = self
            .payload
            .iter()
            .map(|(path, slot)| (format!("payload.{}", path.join(".")), slot));
        let kind = std::iter::once(("kind".to_string(), &self.kind));
        envelope
            .chain(payload)
            .chain(kind)
            .filter(|(mapped, _)| covers(mapped))
            .max_by_key(|(mapped, _)| mapped.len())
            .and_then(|(_, slot)| slot.column())
    }
}

/// serde says "missing field `quantity`" at the enclosing path; name the field itself.
fn name_missing_field(error: &proto_events::DecodeError) -> (String, String) {
    let field = error.field();
    let reason = match error {
        proto_events::DecodeError::Malformed { reason, .. } => without_json_position(reason),
        other => other.to_string(),
    };
    if let Some(name) = reason
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next())
    {
        let path = if field.is_empty() {
            name.to_string()
        } else {
            format!("{field}.{name}")
        };
        return (path, "missing: the field is required".to_string());
    }
    (field.to_string(), reason)
}

/// serde_json ends its messages with " at line 1 column 352": a place in the envelope
/// JSON this crate wrote, which a reader would take for a place in their file.
fn without_json_position(reason: &str) -> String {
    if let Some((head, tail)) = reason.rsplit_once(" at line ")
        && let Some((line, column)) = tail.split_once(" column ")
        && !line.is_empty()
        && line.bytes().all(|b| b.is_ascii_digit())
        && !column.is_empty()
        && column.bytes().all(|b| b.is_ascii_digit())
    {
        return head.to_string();
    }
    reason.to_string()
}

/// An audience cell or constant as the contract writes it: `"network"` or `{"orgs": […]}`.
fn audience(value: Option<Value>) -> Value {
    match value {
        None => Value::from("network"),
        Some(Value::Array(items)) if items.len() == 1 && items[0] == "network" => {
            Value::from("network")
        }
        Some(Value::Array(items)) => serde_json::json!({ "orgs": items }),
        Some(other) => other,
    }
}

/// Sets `value` at a dotted path inside `root`, creating objects on the way.
fn insert_at(root: &mut Value, path: &[String], value: Value) {
    let mut node = root;
    for (depth, segment) in path.iter().enumerate() {
        if !node.is_object() {
            *node = Value::Object(Map::new());
        }
        let Value::Object(map) = node else { return };
        if depth + 1 == path.len() {
            map.insert(segment.clone(), value);
            return;
        }
        node = map
            .entry(segment.clone())
            .or_insert_with(|| Value::Object(Map::new()));
    }
}
