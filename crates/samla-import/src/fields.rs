//! What type each payload field has, read from the contract's own JSON Schema
//! ([`proto_events::schema::envelope_schema`]), so a cell is turned into the JSON type the
//! contract's decoder expects (a count into a number, a date into an RFC 3339 string) without
//! this crate keeping a second copy of the catalogue.

use proto_events::Kind;
use serde_json::Value;

/// The JSON shape a field takes, as far as turning a cell into it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FieldType {
    /// Any string: free text, a token, a vocabulary value.
    Text,
    Integer,
    Number,
    Boolean,
    /// An RFC 3339 instant; cells may hold local dates and times.
    Timestamp,
    /// A list (or set): the cell is split on the separator.
    List(Box<FieldType>),
    /// A nested object: it is filled field by field (`counts.arrivals_to_date`), never from
    /// one cell.
    Object,
}

/// The types of one kind's payload fields.
#[derive(Debug, Clone)]
pub(crate) struct KindFields {
    schema: Value,
}

impl KindFields {
    pub(crate) fn of(kind: Kind) -> Self {
        Self {
            schema: proto_events::schema::envelope_schema(Some(kind)).to_value(),
        }
    }

    /// The type of the payload field at `path` (`["counts", "arrivals_to_date"]`), or
    /// `None` when the kind has no such field.
    pub(crate) fn field_type(&self, path: &[String]) -> Option<FieldType> {
        let defs = self.schema.get("$defs");
        let mut node = resolve(self.schema.get("properties")?.get("payload")?, defs);
        for segment in path {
            if node.get("type").and_then(Value::as_str) != Some("object")
                && !type_list_has(node, "object")
            {
                return None;
            }
            let next = node
                .get("properties")
                .and_then(|p| p.get(segment.as_str()))
                .or_else(|| node.get("additionalProperties").filter(|v| v.is_object()))?;
            node = resolve(next, defs);
        }
        Some(type_of(node, defs))
    }

    /// The payload's top-level field names, for error messages.
    pub(crate) fn field_names(&self) -> Vec<String> {
        let defs = self.schema.get("$defs");
        self.schema
            .get("properties")
            .and_then(|p| p.get("payload"))
            .map(|payload| resolve(payload, defs))
            .and_then(|node| node.get("properties"))
            .and_then(Value::as_object)
            .map(|props| props.keys().cloned().collect())
            .unwrap_or_default()
    }
}

fn type_list_has(node: &Value, name: &str) -> bool {
    node.get("type")
        .and_then(Value::as_array)
        .is_some_and(|types| types.iter().any(|t| t == name))
}

/// Follows `$ref`s and drops the `null` branch of optional fields.
fn resolve<'a>(mut node: &'a Value, defs: Option<&'a Value>) -> &'a Value {
    for _ in 0..16 {
        if let Some(reference) = node.get("$ref").and_then(Value::as_str) {
            match reference
                .strip_prefix("#/$defs/")
                .and_then(|name| defs?.get(name))
            {
                Some(target) => {
                    node = target;
                    continue;
                }
                None => return node,
            }
        }
        if let Some(branches) = node.get("anyOf").and_then(Value::as_array) {
            let non_null: Vec<&Value> = branches
                .iter()
                .filter(|b| b.get("type").and_then(Value::as_str) != Some("null"))
                .collect();
            if let [only] = non_null.as_slice() {
                node = only;
                continue;
            }
        }
        return node;
    }
    node
}

fn type_of(node: &Value, defs: Option<&Value>) -> FieldType {
    let names: Vec<&str> = match node.get("type") {
        Some(Value::String(name)) => vec![name.as_str()],
        Some(Value::Array(names)) => names
            .iter()
            .filter_map(Value::as_str)
            .filter(|n| *n != "null")
            .collect(),
        // A vocabulary (`oneOf` of string constants) or anything else: a string.
        _ => return FieldType::Text,
    };
    match names.first().copied() {
        Some("integer") => FieldType::Integer,
        Some("number") => FieldType::Number,
        Some("boolean") => FieldType::Boolean,
        Some("array") => {
            let item = node
                .get("items")
                .map(|items| type_of(resolve(items, defs), defs))
                .unwrap_or(FieldType::Text);
            FieldType::List(Box::new(item))
        }
        Some("object") => FieldType::Object,
        Some("string") if node.get("format").and_then(Value::as_str) == Some("date-time") => {
            FieldType::Timestamp
        }
        _ => FieldType::Text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(text: &str) -> Vec<String> {
        text.split('.').map(str::to_string).collect()
    }

    #[test]
    fn field_types_come_from_the_contract() {
        let need = KindFields::of(Kind::NeedRaised);
        assert_eq!(need.field_type(&path("quantity")), Some(FieldType::Integer));
        assert_eq!(need.field_type(&path("category")), Some(FieldType::Text));
        assert_eq!(
            need.field_type(&path("needed_by")),
            Some(FieldType::Timestamp)
        );
        assert_eq!(need.field_type(&path("note")), Some(FieldType::Text));
        assert_eq!(need.field_type(&path("nope")), None);
        assert_eq!(need.field_type(&path("quantity.x")), None);
        let offer = KindFields::of(Kind::HousingOffered);
        assert_eq!(
            offer.field_type(&path("suitable_for")),
            Some(FieldType::List(Box::new(FieldType::Text)))
        );
        let sitrep = KindFields::of(Kind::SituationReported);
        assert_eq!(sitrep.field_type(&path("counts")), Some(FieldType::Object));
        assert_eq!(
            sitrep.field_type(&path("counts.arrivals_to_date")),
            Some(FieldType::Integer)
        );
        let hospital = KindFields::of(Kind::HospitalStatusReported);
        assert_eq!(
            hospital.field_type(&path("beds_available.general")),
            Some(FieldType::Integer)
        );
        let site = KindFields::of(Kind::SiteRegistered);
        assert_eq!(
            site.field_type(&path("accessible")),
            Some(FieldType::Boolean)
        );
        assert!(need.field_names().contains(&"urgency".to_string()));
    }
}
