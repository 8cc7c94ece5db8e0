//! The mapping file (TOML): which event kind each row becomes and where each envelope and
//! payload field comes from. The format is documented in the crate header (`lib.rs`).
//!
//! Everything that can be checked without the data file is checked here, once: kinds,
//! field names against the contract's schema, constants against the contract's types. A
//! mapping that loads cannot make every row fail for the same reason.

use std::collections::HashMap;
use std::str::FromStr;

use proto_events::{AreaCode, EventId, IncidentId, Kind, Label, LangTag, OrgId, Status};
use serde_json::Value;

use crate::convert::{self, Context};
use crate::error::ImportError;
use crate::fields::{FieldType, KindFields};
use crate::hxl::TagPattern;

/// The time zone local dates are read in when the mapping names none.
pub const DEFAULT_TIME_ZONE: &str = "Europe/Stockholm";

/// A parsed, checked mapping. Cheap to clone; shared by every file it imports.
#[derive(Debug, Clone)]
pub struct Mapping {
    pub(crate) kind: KindSpec,
    pub(crate) source: SourceOptions,
    pub(crate) envelope: Vec<(EnvelopeField, FieldSpec)>,
    pub(crate) payload: Vec<(Vec<String>, FieldSpec)>,
    pub(crate) context: Context,
}

#[derive(Debug, Clone)]
pub(crate) enum KindSpec {
    Constant(Kind),
    Cell(Box<CellSpec>),
}

#[derive(Debug, Clone)]
pub(crate) struct SourceOptions {
    pub sheet: Option<String>,
    pub delimiter: Option<u8>,
    pub key: Vec<ColumnRef>,
    pub aggregate_key: Vec<ColumnRef>,
}

/// Where a column is found: by its header text or by an HXL tag pattern.
#[derive(Debug, Clone)]
pub(crate) enum ColumnRef {
    Header(String),
    Tag(TagPattern),
}

impl std::fmt::Display for ColumnRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ColumnRef::Header(name) => write!(f, "{name:?}"),
            ColumnRef::Tag(pattern) => write!(f, "{pattern}"),
        }
    }
}

/// A field's value: a constant, or a cell read through an optional value map.
#[derive(Debug, Clone)]
pub(crate) enum FieldSpec {
    Constant(Value),
    Cell(CellSpec),
}

#[derive(Debug, Clone)]
pub(crate) struct CellSpec {
    pub column: ColumnRef,
    pub map: ValueMap,
    /// Used when the cell is empty (and not itself a key of the map).
    pub default: Option<Value>,
    pub separator: Option<String>,
}

/// A value map: the cell's trimmed text, matched exactly first and then ignoring case.
#[derive(Debug, Clone, Default)]
pub(crate) struct ValueMap {
    exact: HashMap<String, Value>,
    folded: HashMap<String, Value>,
}

impl ValueMap {
    pub(crate) fn get(&self, text: &str) -> Option<&Value> {
        self.exact
            .get(text)
            .or_else(|| self.folded.get(&text.to_lowercase()))
    }

    fn values(&self) -> impl Iterator<Item = &Value> {
        self.exact.values()
    }
}

/// The envelope fields a mapping may set. `kind`, `v` and `aggregate.type` come from the
/// kind; `aggregate.id` and `id` are derived when not mapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum EnvelopeField {
    Id,
    Incident,
    Org,
    Function,
    AggregateId,
    OccurredAt,
    Status,
    Audience,
    Correlation,
    Causation,
    Area,
    Lang,
}

impl EnvelopeField {
    const ALL: &'static [EnvelopeField] = &[
        EnvelopeField::Id,
        EnvelopeField::Incident,
        EnvelopeField::Org,
        EnvelopeField::Function,
        EnvelopeField::AggregateId,
        EnvelopeField::OccurredAt,
        EnvelopeField::Status,
        EnvelopeField::Audience,
        EnvelopeField::Correlation,
        EnvelopeField::Causation,
        EnvelopeField::Area,
        EnvelopeField::Lang,
    ];

    /// The key in the mapping file.
    pub(crate) fn key(self) -> &'static str {
        match self {
            EnvelopeField::Id => "id",
            EnvelopeField::Incident => "incident",
            EnvelopeField::Org => "org",
            EnvelopeField::Function => "function",
            EnvelopeField::AggregateId => "aggregate_id",
            EnvelopeField::OccurredAt => "occurred_at",
            EnvelopeField::Status => "status",
            EnvelopeField::Audience => "audience",
            EnvelopeField::Correlation => "correlation",
            EnvelopeField::Causation => "causation",
            EnvelopeField::Area => "area",
            EnvelopeField::Lang => "lang",
        }
    }

    /// The field's path in the envelope, as the contract's errors name it.
    pub(crate) fn path(self) -> &'static str {
        match self {
            EnvelopeField::AggregateId => "aggregate.id",
            other => other.key(),
        }
    }

    pub(crate) fn field_type(self) -> FieldType {
        match self {
            EnvelopeField::OccurredAt => FieldType::Timestamp,
            // A list of organisations, or the word "network".
            EnvelopeField::Audience => FieldType::List(Box::new(FieldType::Text)),
            _ => FieldType::Text,
        }
    }

    fn required(self) -> bool {
        matches!(
            self,
            EnvelopeField::Incident
                | EnvelopeField::Org
                | EnvelopeField::Function
                | EnvelopeField::OccurredAt
                | EnvelopeField::Area
        )
    }
}

fn invalid(reason: impl Into<String>) -> ImportError {
    ImportError::InvalidMapping {
        reason: reason.into(),
    }
}

impl Mapping {
    /// Parses and checks a mapping file.
    pub fn from_toml(text: &str) -> Result<Mapping, ImportError> {
        let table: toml::Table =
            toml::from_str(text).map_err(|error| invalid(error.to_string()))?;
        for key in table.keys() {
            if !matches!(key.as_str(), "kind" | "source" | "envelope" | "payload") {
                return Err(invalid(format!(
                    "unknown top-level key {key:?}; expected kind, [source], [envelope] and [payload]"
                )));
            }
        }
        let source_table = sub_table(&table, "source")?;
        let (source, context) = parse_source(&source_table)?;
        let kind = parse_kind(table.get("kind"))?;
        let envelope = parse_envelope(&sub_table(&table, "envelope")?, &context)?;
        let mut payload = Vec::new();
        flatten_payload(
            &sub_table(&table, "payload")?,
            &mut Vec::new(),
            &mut payload,
        )?;
        let mapping = Mapping {
            kind,
            source,
            envelope,
            payload,
            context,
        };
        mapping.check_payload_fields()?;
        Ok(mapping)
    }

    /// The kind every row becomes, when the mapping fixes it.
    pub fn constant_kind(&self) -> Option<Kind> {
        match &self.kind {
            KindSpec::Constant(kind) => Some(*kind),
            KindSpec::Cell(_) => None,
        }
    }

    /// Every payload field must exist in the kind (or, with a kind column, in at least one
    /// kind the map names), and constants must convert: typos fail here, not on every row.
    fn check_payload_fields(&self) -> Result<(), ImportError> {
        let kinds: Vec<Kind> = match &self.kind {
            KindSpec::Constant(kind) => vec![*kind],
            KindSpec::Cell(spec) => spec
                .map
                .values()
                .filter_map(Value::as_str)
                .filter_map(Kind::from_name)
                .collect(),
        };
        if kinds.is_empty() {
            // Kinds named by their wire names in the file: checked per row.
            return Ok(());
        }
        let fields: Vec<KindFields> = kinds.iter().map(|k| KindFields::of(*k)).collect();
        for (path, spec) in &self.payload {
            let types: Vec<FieldType> = fields.iter().filter_map(|f| f.field_type(path)).collect();
            let Some(ty) = types.first() else {
                let names = fields
                    .iter()
                    .flat_map(KindFields::field_names)
                    .collect::<std::collections::BTreeSet<_>>();
                return Err(invalid(format!(
                    "payload.{}: {} has no such field (its fields: {})",
                    path.join("."),
                    kinds
                        .iter()
                        .map(|k| k.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    names.into_iter().collect::<Vec<_>>().join(", ")
                )));
            };
            if let (FieldSpec::Constant(value), [_]) = (spec, kinds.as_slice()) {
                constant_value(value, ty, &self.context)
                    .map_err(|reason| invalid(format!("payload.{}: {reason}", path.join("."))))?;
            }
        }
        Ok(())
    }
}

fn sub_table(table: &toml::Table, key: &str) -> Result<toml::Table, ImportError> {
    match table.get(key) {
        None => Ok(toml::Table::new()),
        Some(toml::Value::Table(sub)) => Ok(sub.clone()),
        Some(_) => Err(invalid(format!("[{key}] must be a table"))),
    }
}

/// A TOML value as JSON (TOML dates become their text).
pub(crate) fn toml_to_json(value: &toml::Value) -> Value {
    match value {
        toml::Value::String(text) => Value::String(text.clone()),
        toml::Value::Integer(n) => Value::from(*n),
        toml::Value::Float(f) => Value::from(*f),
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(dt) => Value::String(dt.to_string()),
        toml::Value::Array(items) => Value::Array(items.iter().map(toml_to_json).collect()),
        toml::Value::Table(table) => Value::Object(
            table
                .iter()
                .map(|(k, v)| (k.clone(), toml_to_json(v)))
                .collect(),
        ),
    }
}

/// A constant or mapped value as the field's type: strings are read like a cell, other
/// JSON values are taken as they are.
pub(crate) fn constant_value(
    value: &Value,
    ty: &FieldType,
    context: &Context,
) -> Result<Value, String> {
    match value {
        Value::String(text) => convert::convert(text, ty, None, context),
        other => Ok(other.clone()),
    }
}

fn parse_source(table: &toml::Table) -> Result<(SourceOptions, Context), ImportError> {
    let mut source = SourceOptions {
        sheet: None,
        delimiter: None,
        key: Vec::new(),
        aggregate_key: Vec::new(),
    };
    let mut zone_name = DEFAULT_TIME_ZONE.to_string();
    for (key, value) in table {
        let text = || {
            value
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| invalid(format!("source.{key} must be a string")))
        };
        match key.as_str() {
            "sheet" => source.sheet = Some(text()?),
            "delimiter" => {
                let delimiter = text()?;
                source.delimiter = Some(match delimiter.as_str() {
                    "tab" | "\t" => b'\t',
                    d if d.len() == 1 && d.is_ascii() => d.as_bytes()[0],
                    d => {
                        return Err(invalid(format!(
                            "source.delimiter {d:?} must be one ASCII character (\",\", \";\" or \"tab\")"
                        )));
                    }
                });
            }
            "timezone" => zone_name = text()?,
            "key" => source.key = column_refs(value, "source.key")?,
            "aggregate_key" => source.aggregate_key = column_refs(value, "source.aggregate_key")?,
            other => {
                return Err(invalid(format!(
                    "unknown key source.{other}; expected sheet, delimiter, timezone, key, aggregate_key"
                )));
            }
        }
    }
    let time_zone = convert::time_zone(&zone_name).map_err(invalid)?;
    Ok((source, Context { time_zone }))
}

/// `{ column = "…" }`, `{ tag = "#…" }`, or a list of them.
fn column_refs(value: &toml::Value, what: &str) -> Result<Vec<ColumnRef>, ImportError> {
    let items: Vec<&toml::Value> = match value {
        toml::Value::Array(items) => items.iter().collect(),
        single => vec![single],
    };
    items
        .into_iter()
        .map(|item| match item {
            toml::Value::Table(table) if table.len() == 1 => column_ref(table, what),
            _ => Err(invalid(format!(
                "{what} must be {{ column = \"…\" }}, {{ tag = \"#…\" }} or a list of them"
            ))),
        })
        .collect()
}

fn column_ref(table: &toml::Table, what: &str) -> Result<ColumnRef, ImportError> {
    match (table.get("column"), table.get("tag")) {
        (Some(toml::Value::String(name)), None) => Ok(ColumnRef::Header(name.trim().to_string())),
        (None, Some(toml::Value::String(tag))) => TagPattern::parse(tag)
            .map(ColumnRef::Tag)
            .map_err(|reason| invalid(format!("{what}: {reason}"))),
        _ => Err(invalid(format!(
            "{what}: name exactly one of column = \"header text\" or tag = \"#hxl+tag\""
        ))),
    }
}

/// Whether a table is a field spec (it names a source) rather than a group of fields.
fn is_spec(table: &toml::Table) -> bool {
    table.contains_key("column") || table.contains_key("tag") || table.contains_key("value")
}

fn parse_spec(value: &toml::Value, what: &str) -> Result<FieldSpec, ImportError> {
    let table = match value {
        toml::Value::Table(table) => table,
        constant => return Ok(FieldSpec::Constant(toml_to_json(constant))),
    };
    if !is_spec(table) {
        return Err(invalid(format!(
            "{what}: a field is a constant, {{ column = \"…\" }}, {{ tag = \"#…\" }} or {{ value = … }}"
        )));
    }
    for key in table.keys() {
        if !matches!(
            key.as_str(),
            "column" | "tag" | "value" | "map" | "default" | "separator"
        ) {
            return Err(invalid(format!(
                "{what}: unknown key {key:?}; expected column or tag (or value), map, default, separator"
            )));
        }
    }
    if let Some(constant) = table.get("value") {
        if table.len() != 1 {
            return Err(invalid(format!("{what}: value = … stands alone")));
        }
        return Ok(FieldSpec::Constant(toml_to_json(constant)));
    }
    let mut source = toml::Table::new();
    for key in ["column", "tag"] {
        if let Some(v) = table.get(key) {
            source.insert(key.to_string(), v.clone());
        }
    }
    let column = column_ref(&source, what)?;
    let mut map = ValueMap::default();
    match table.get("map") {
        None => {}
        Some(toml::Value::Table(entries)) => {
            for (from, to) in entries {
                let to = toml_to_json(to);
                map.exact.insert(from.trim().to_string(), to.clone());
                map.folded.insert(from.trim().to_lowercase(), to);
            }
        }
        Some(_) => {
            return Err(invalid(format!(
                "{what}: map must be a table such as {{ \"Hög\" = \"high\" }}"
            )));
        }
    }
    let separator = match table.get("separator") {
        None => None,
        Some(toml::Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(_) => {
            return Err(invalid(format!(
                "{what}: separator must be a non-empty string"
            )));
        }
    };
    Ok(FieldSpec::Cell(CellSpec {
        column,
        map,
        default: table.get("default").map(toml_to_json),
        separator,
    }))
}

fn parse_kind(value: Option<&toml::Value>) -> Result<KindSpec, ImportError> {
    let known = |name: &str| -> Result<Kind, ImportError> {
        match Kind::from_name(name) {
            Some(kind) if kind.is_hygiene() => Err(invalid(format!(
                "kind {name:?}: corrections and retractions name the event they supersede; send them with `samla emit`, not from a spreadsheet"
            ))),
            Some(kind) => Ok(kind),
            None => Err(invalid(format!(
                "unknown kind {name:?}; the catalogue's kinds are: {}",
                Kind::ALL
                    .iter()
                    .map(|k| k.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    };
    match value {
        None => Err(invalid(
            "name the event kind: kind = \"need_raised\", or kind = { column = \"…\", map = { … } }",
        )),
        Some(toml::Value::String(name)) => known(name).map(KindSpec::Constant),
        Some(other) => match parse_spec(other, "kind")? {
            FieldSpec::Constant(Value::String(name)) => known(&name).map(KindSpec::Constant),
            FieldSpec::Constant(_) => Err(invalid("kind must be a kind's name")),
            FieldSpec::Cell(spec) => {
                for value in spec.map.values() {
                    match value {
                        Value::String(name) => {
                            known(name)?;
                        }
                        _ => return Err(invalid("kind: map values must be kind names")),
                    }
                }
                if let Some(default) = &spec.default {
                    known(default.as_str().unwrap_or_default())?;
                }
                Ok(KindSpec::Cell(Box::new(spec)))
            }
        },
    }
}

fn parse_envelope(
    table: &toml::Table,
    context: &Context,
) -> Result<Vec<(EnvelopeField, FieldSpec)>, ImportError> {
    let mut fields = Vec::new();
    for (key, value) in table {
        let field = EnvelopeField::ALL
            .iter()
            .copied()
            .find(|f| f.key() == key)
            .ok_or_else(|| {
                invalid(format!(
                    "unknown key envelope.{key}; expected one of: {}",
                    EnvelopeField::ALL
                        .iter()
                        .map(|f| f.key())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?;
        let spec = parse_spec(value, &format!("envelope.{key}"))?;
        if let FieldSpec::Constant(constant) = &spec {
            check_envelope_constant(field, constant, context)
                .map_err(|reason| invalid(format!("envelope.{key}: {reason}")))?;
        }
        fields.push((field, spec));
    }
    for field in EnvelopeField::ALL {
        if field.required() && !fields.iter().any(|(f, _)| f == field) {
            return Err(invalid(format!(
                "envelope.{} is required (a constant or a column)",
                field.key()
            )));
        }
    }
    fields.sort_by_key(|(field, _)| *field);
    Ok(fields)
}

/// Checks a constant with the contract's own types, so a typo fails once, at load.
fn check_envelope_constant(
    field: EnvelopeField,
    value: &Value,
    context: &Context,
) -> Result<(), String> {
    let text = || value.as_str().ok_or_else(|| "must be a string".to_string());
    match field {
        EnvelopeField::Incident => IncidentId::new(text()?)
            .map(drop)
            .map_err(|e| e.to_string()),
        EnvelopeField::Org => OrgId::new(text()?).map(drop).map_err(|e| e.to_string()),
        EnvelopeField::Area => AreaCode::new(text()?).map(drop).map_err(|e| e.to_string()),
        EnvelopeField::AggregateId => proto_events::AggregateId::new(text()?)
            .map(drop)
            .map_err(|e| e.to_string()),
        EnvelopeField::Function => Label::new(text()?).map(drop),
        EnvelopeField::Lang => LangTag::new(text()?).map(drop),
        EnvelopeField::Status => Status::from_str(text()?).map(drop),
        EnvelopeField::Id | EnvelopeField::Correlation | EnvelopeField::Causation => {
            EventId::parse(text()?).map(drop)
        }
        EnvelopeField::OccurredAt => convert::timestamp(text()?, &context.time_zone).map(drop),
        EnvelopeField::Audience => match value {
            Value::String(word) if word == "network" => Ok(()),
            Value::Array(orgs) if !orgs.is_empty() => orgs.iter().try_for_each(|org| {
                OrgId::new(org.as_str().unwrap_or_default())
                    .map(drop)
                    .map_err(|e| format!("audience organisation {org}: {e}"))
            }),
            _ => Err("must be \"network\" or a list of organisation ids".to_string()),
        },
    }
}

fn flatten_payload(
    table: &toml::Table,
    prefix: &mut Vec<String>,
    out: &mut Vec<(Vec<String>, FieldSpec)>,
) -> Result<(), ImportError> {
    for (key, value) in table {
        let depth = prefix.len();
        // `"counts.arrivals_to_date" = …` and `[payload.counts]` mean the same.
        prefix.extend(key.split('.').map(|s| s.trim().to_string()));
        if prefix.iter().any(String::is_empty) {
            return Err(invalid(format!("payload key {key:?} has an empty part")));
        }
        match value {
            toml::Value::Table(sub) if !is_spec(sub) => flatten_payload(sub, prefix, out)?,
            _ => {
                let spec = parse_spec(value, &format!("payload.{}", prefix.join(".")))?;
                out.push((prefix.clone(), spec));
            }
        }
        prefix.truncate(depth);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r##"
kind = "need_raised"
[envelope]
incident = "demo-2026"
org = "malmo-stad"
function = "duty officer, social services"
occurred_at = { column = "Datum" }
area = { tag = "#adm2+code" }
"##;

    fn error_of(text: &str) -> String {
        Mapping::from_toml(text).expect_err("refused").to_string()
    }

    #[test]
    fn a_small_mapping_loads() {
        let text = format!(
            "{BASE}[payload]\nquantity = {{ column = \"Antal\" }}\nunit = \"beds\"\n[payload.counts_not_here]\n"
        );
        // An empty group is no field at all.
        let mapping = Mapping::from_toml(&text).expect("loads");
        assert_eq!(mapping.constant_kind(), Some(Kind::NeedRaised));
        assert_eq!(mapping.payload.len(), 2);
    }

    #[test]
    fn mistakes_are_named_at_load() {
        assert!(error_of(&format!("{BASE}[payload]\nquantiy = 3\n")).contains("payload.quantiy"));
        assert!(error_of(&BASE.replace("need_raised", "need_rased")).contains("unknown kind"));
        assert!(error_of(&BASE.replace("malmo-stad", "Malmö stad")).contains("envelope.org"));
        assert!(error_of(&BASE.replace("area =", "arae =")).contains("envelope.arae"));
        assert!(
            error_of(&BASE.replace("kind = \"need_raised\"", "kind = \"event_retracted\""))
                .contains("samla emit")
        );
        assert!(
            error_of(&format!("{BASE}[payload]\nneeded_by = \"soon\"\n")).contains("needed_by")
        );
        assert!(
            error_of(&format!("{BASE}[source]\ntimezone = \"Mars/Olympus\"\n"))
                .contains("time zone")
        );
        assert!(
            error_of(&format!(
                "{BASE}[payload]\nquantity = {{ column = \"A\", tag = \"#b\" }}\n"
            ))
            .contains("exactly one")
        );
        assert!(
            error_of(&BASE.replace("occurred_at", "#occurred_at"))
                .contains("occurred_at is required")
        );
    }

    #[test]
    fn a_kind_column_checks_fields_against_the_kinds_it_maps_to() {
        let text = BASE.replace(
            "kind = \"need_raised\"",
            "kind = { column = \"Typ\", map = { \"Behov\" = \"need_raised\", \"Erbjudande\" = \"housing_offered\" } }",
        );
        assert!(
            Mapping::from_toml(&format!(
                "{text}[payload]\nbeds = {{ column = \"Sängar\" }}\nquantity = 1\n"
            ))
            .is_ok()
        );
        assert!(error_of(&format!("{text}[payload]\nseats = 1\n")).contains("payload.seats"));
        assert!(
            error_of(&text.replace("housing_offered", "housing_offerd")).contains("unknown kind")
        );
    }
}
