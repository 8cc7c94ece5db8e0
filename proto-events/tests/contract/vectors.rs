//! The golden vectors: one pair per kind that decodes the same from both encodings,
//! re-encodes byte for byte, validates against its JSON Schema; and the old-version vector
//! that must upcast.

use std::fs;

use proto_events::codec::encode_msgpack;
use proto_events::examples::{example, need_raised_v1};
use proto_events::payload::NeedRaised;
use proto_events::vocab::Urgency;
use proto_events::{Envelope, Kind, Payload, decode_json, decode_msgpack};
use serde_json::{Value, json};

use crate::support::{
    Encoding, Order, decode, encode_value, pretty, read, schema_dir, vectors_dir,
};

fn vector_pair(kind: Kind) -> (Vec<u8>, Vec<u8>) {
    let dir = vectors_dir();
    (
        read(&dir.join(format!("{}.json", kind.as_str()))),
        read(&dir.join(format!("{}.msgpack", kind.as_str()))),
    )
}

/// A validator for a schema file, checking formats (`date-time`) too.
pub fn validator(file: &str) -> jsonschema::Validator {
    let schema: Value = serde_json::from_slice(&read(&schema_dir().join(file)))
        .unwrap_or_else(|error| panic!("{file} is not JSON: {error}"));
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap_or_else(|error| panic!("{file} is not a valid JSON Schema: {error}"))
}

fn schema_errors(validator: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    validator
        .iter_errors(instance)
        .map(|error| format!("{} at {}", error, error.instance_path()))
        .collect()
}

#[test]
fn every_kind_has_a_vector_pair_that_decodes_to_the_same_event() {
    for kind in Kind::ALL {
        let (json, msgpack) = vector_pair(*kind);
        let from_json = decode_json(&json).unwrap_or_else(|error| panic!("{kind}.json: {error}"));
        let from_msgpack =
            decode_msgpack(&msgpack).unwrap_or_else(|error| panic!("{kind}.msgpack: {error}"));
        assert_eq!(from_json, from_msgpack, "{kind}: the two encodings differ");
        assert_eq!(
            from_json,
            example(*kind),
            "{kind}: the vector is not the example"
        );
        assert_eq!(from_json.kind(), *kind);
        from_json
            .validate()
            .unwrap_or_else(|error| panic!("{kind} vector does not validate: {error}"));
    }
}

#[test]
fn vectors_re_encode_byte_for_byte() {
    for kind in Kind::ALL {
        let (json, msgpack) = vector_pair(*kind);
        let from_msgpack = decode_msgpack(&msgpack).expect("decodes");
        assert_eq!(encode_msgpack(&from_msgpack), msgpack, "{kind}.msgpack");
        let from_json = decode_json(&json).expect("decodes");
        assert_eq!(pretty(&from_json).into_bytes(), json, "{kind}.json");
    }
}

/// Every vector, rewritten with `payload` first, still decodes to the same event: the
/// buffered path works for every payload type, in both encodings.
#[test]
fn vectors_decode_whatever_the_field_order() {
    for kind in Kind::ALL {
        let (json, _) = vector_pair(*kind);
        let value: Value = serde_json::from_slice(&json).expect("JSON");
        for encoding in [Encoding::Json, Encoding::Msgpack] {
            let bytes = encode_value(&value, encoding, Order::PayloadFirst);
            let decoded = decode(&bytes, encoding)
                .unwrap_or_else(|error| panic!("{kind}, {encoding:?}, payload first: {error}"));
            assert_eq!(
                decoded,
                example(*kind),
                "{kind}, {encoding:?}, payload first"
            );
        }
    }
}

#[test]
fn every_vector_file_belongs_to_a_kind() {
    for entry in fs::read_dir(vectors_dir())
        .expect("vectors exist")
        .flatten()
    {
        let path = entry.path();
        if path.is_dir() {
            continue;
        }
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let stem = name
            .strip_suffix(".json")
            .or_else(|| name.strip_suffix(".msgpack"))
            .unwrap_or_else(|| panic!("unexpected file {name} in vectors/"));
        assert!(
            Kind::from_name(stem).is_some(),
            "{name} is not a kind's vector"
        );
    }
}

#[test]
fn every_vector_validates_against_its_json_schema() {
    let any_kind = validator("envelope.schema.json");
    for kind in Kind::ALL {
        let (json, _) = vector_pair(*kind);
        let instance: Value = serde_json::from_slice(&json).expect("JSON");
        let own = validator(&format!("{}.schema.json", kind.as_str()));
        let errors = schema_errors(&own, &instance);
        assert!(
            errors.is_empty(),
            "{kind}.json against its schema: {errors:?}"
        );
        let errors = schema_errors(&any_kind, &instance);
        assert!(
            errors.is_empty(),
            "{kind}.json against the envelope schema: {errors:?}"
        );
        // And not against another kind's schema: the schemas are not vacuous.
        let other = if *kind == Kind::NeedRaised {
            Kind::NeedMet
        } else {
            Kind::NeedRaised
        };
        let other_schema = validator(&format!("{}.schema.json", other.as_str()));
        assert!(
            !other_schema.is_valid(&instance),
            "{kind}.json passes {other}'s schema"
        );
    }
}

/// The schemas refuse what the decoder refuses, so a tool validating with the schema
/// alone catches the same mistakes (the personal-data guard aside).
#[test]
fn json_schemas_refuse_what_the_decoder_refuses() {
    let schema = validator("need_raised.schema.json");
    let (json, _) = vector_pair(Kind::NeedRaised);
    let valid: Value = serde_json::from_slice(&json).expect("JSON");
    type Change = fn(&mut Value);
    let changes: [(&str, Change); 8] = [
        ("negative quantity", |v| {
            v["payload"]["quantity"] = json!(-3)
        }),
        ("org with a dot", |v| v["org"] = json!("a.b")),
        ("upper-case incident", |v| v["incident"] = json!("Malmo")),
        ("time without zone", |v| {
            v["occurred_at"] = json!("2026-03-03T07:45:00")
        }),
        ("unknown envelope field", |v| v["supersedes"] = json!("x")),
        ("unknown payload field", |v| {
            v["payload"]["colour"] = json!("red")
        }),
        ("missing urgency", |v| {
            v["payload"].as_object_mut().map(|p| p.remove("urgency"));
        }),
        ("newer version", |v| v["v"] = json!(3)),
    ];
    assert!(schema.is_valid(&valid));
    for (what, change) in changes {
        let mut instance = valid.clone();
        change(&mut instance);
        assert!(!schema.is_valid(&instance), "the schema accepts a {what}");
        for encoding in [Encoding::Json, Encoding::Msgpack] {
            let bytes = encode_value(&instance, encoding, Order::Wire);
            assert!(
                decode(&bytes, encoding).is_err(),
                "the decoder accepts a {what}"
            );
        }
    }
}

#[test]
fn old_need_raised_upcasts_to_normal_urgency() {
    let dir = vectors_dir().join("upcast");
    let json = read(&dir.join("need_raised.v1.json"));
    let msgpack = read(&dir.join("need_raised.v1.msgpack"));
    let expected = decode_json(&read(&dir.join("need_raised.v1.upcast.json")))
        .expect("the upcast vector is a current event");

    let old: Value = serde_json::from_slice(&json).expect("JSON");
    assert_eq!(old["v"], json!(1));
    assert!(old["payload"].get("urgency").is_none(), "v1 has no urgency");

    for (what, decoded) in [
        ("json", decode_json(&json)),
        ("msgpack", decode_msgpack(&msgpack)),
    ] {
        let decoded = decoded.unwrap_or_else(|error| panic!("need_raised.v1.{what}: {error}"));
        assert_eq!(decoded, expected, "need_raised.v1.{what}");
        let Payload::NeedRaised(NeedRaised { urgency, .. }) = &decoded.payload else {
            panic!("need_raised.v1.{what} decoded to {:?}", decoded.kind());
        };
        assert_eq!(*urgency, Urgency::Normal);
        // Re-encoded, it is a current event.
        let current: Value = serde_json::to_value(&decoded).expect("JSON");
        assert_eq!(current["v"], json!(Kind::NeedRaised.current_version()));
        assert_eq!(current["payload"]["urgency"], json!("normal"));
        decoded.validate().expect("the upcast event is valid");
    }
    assert_eq!(expected, need_raised_v1().upcast);
    assert!(
        validator("need_raised.schema.json")
            .is_valid(&serde_json::to_value(&expected).expect("JSON"))
    );
    // Every other field came through unchanged.
    let mut upcast_value = serde_json::to_value(&expected).expect("JSON");
    upcast_value["v"] = json!(1);
    upcast_value["payload"]
        .as_object_mut()
        .map(|payload| payload.remove("urgency"));
    assert_eq!(upcast_value, old);
}

/// A decoded vector can be used as a fixture by other crates: it is a plain `Envelope`.
#[test]
fn vectors_are_ordinary_envelopes() {
    let envelopes: Vec<Envelope> = Kind::ALL
        .iter()
        .map(|kind| decode_msgpack(&vector_pair(*kind).1).expect("decodes"))
        .collect();
    let subjects: std::collections::BTreeSet<String> =
        envelopes.iter().map(|e| e.subject().to_string()).collect();
    assert!(
        subjects
            .iter()
            .all(|s| s.starts_with("samla.evt.malmo-reception-2026."))
    );
}
