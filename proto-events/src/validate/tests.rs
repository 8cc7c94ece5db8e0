//! Tests of the guard over payloads: the quick string scan (`strings.rs`) says clean exactly
//! when the walk over the JSON value finds nothing, and the errors are the walk's. The scan
//! over shapes no payload has yet is tested in `strings/tests.rs`.

use proptest::prelude::*;
use proptest::sample::{Index, select};
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::Value;

use super::strings::{Scan, scan_strings};
use super::{ValidationError, guard_json_walk, guard_payload};
use crate::catalogue::{Kind, Payload};
use crate::codec::decode_json_value;
use crate::examples::{all_examples, example};
use crate::guard::PersonalDataKind;
use crate::ids::{AggregateId, Label, Text};

/// Personal data of each shape the guard knows, as it turns up in free text and ids.
const SAMPLES: [&str; 4] = [
    "19121212-1212",
    "need-191212121212",
    "anna.svensson@example.se",
    "070-123 45 67",
];

/// Every string value under `value`, as (JSON pointer, the walk's field path, text).
fn string_leaves(
    value: &Value,
    pointer: &str,
    path: &str,
    out: &mut Vec<(String, String, String)>,
) {
    match value {
        Value::String(text) => out.push((pointer.to_string(), path.to_string(), text.clone())),
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                string_leaves(
                    item,
                    &format!("{pointer}/{index}"),
                    &format!("{path}[{index}]"),
                    out,
                );
            }
        }
        Value::Object(fields) => {
            for (name, item) in fields {
                let escaped = name.replace('~', "~0").replace('/', "~1");
                string_leaves(
                    item,
                    &format!("{pointer}/{escaped}"),
                    &format!("{path}.{name}"),
                    out,
                );
            }
        }
        _ => {}
    }
}

/// The payload's string leaves in an envelope's JSON.
fn payload_leaves(envelope_json: &Value) -> Vec<(String, String, String)> {
    let mut leaves = Vec::new();
    string_leaves(
        &envelope_json["payload"],
        "/payload",
        "payload",
        &mut leaves,
    );
    leaves
}

/// The example of `kind` with the string at `pointer` replaced, if it still decodes (ids,
/// timestamps and vocabulary words refuse most texts).
fn with_text(kind: Kind, pointer: &str, text: &str) -> Option<Payload> {
    let mut json = serde_json::to_value(example(kind)).expect("an example serializes");
    *json.pointer_mut(pointer)? = Value::String(text.to_string());
    decode_json_value(json)
        .ok()
        .map(|envelope| envelope.payload)
}

/// The scan's answer must be the one the walk implies, and the guard's result the walk's.
fn assert_scan_agrees(payload: &Payload) -> Result<(), ValidationError> {
    let walk = guard_json_walk(payload);
    let expected = if walk.is_ok() {
        Scan::Clean
    } else {
        Scan::PersonalData
    };
    assert_eq!(
        scan_strings(payload),
        expected,
        "{payload:?}: the walk says {walk:?}"
    );
    assert_eq!(guard_payload(payload), walk, "{payload:?}");
    walk
}

#[test]
fn every_example_payload_is_clean_to_the_scan_and_the_walk() {
    for envelope in all_examples() {
        assert_eq!(
            scan_strings(&envelope.payload),
            Scan::Clean,
            "{}",
            envelope.kind()
        );
        assert_eq!(assert_scan_agrees(&envelope.payload), Ok(()));
    }
}

/// Every string of every example, replaced by (or followed by) each sample, wherever the
/// payload still decodes: the guard refuses it with the walk's error, naming that string.
#[test]
fn personal_data_in_any_string_of_any_example_is_refused_with_the_walks_error() {
    let mut refused_at = std::collections::BTreeSet::new();
    for kind in Kind::ALL {
        let json = serde_json::to_value(example(*kind)).expect("an example serializes");
        for (pointer, _, original) in payload_leaves(&json) {
            for sample in SAMPLES {
                for text in [sample.to_string(), format!("{original} {sample}")] {
                    let Some(payload) = with_text(*kind, &pointer, &text) else {
                        continue;
                    };
                    let error = assert_scan_agrees(&payload).expect_err("personal data is refused");
                    assert_eq!(error.code, "personal_data");
                    // A set may reorder its elements once one changes: find where the text went.
                    let json = serde_json::to_value(UnderPayload(&payload)).expect("serializes");
                    let holding: Vec<String> = payload_leaves(&json)
                        .into_iter()
                        .filter(|(_, _, leaf)| leaf.contains(sample))
                        .map(|(_, path, _)| path)
                        .collect();
                    assert_eq!(
                        holding,
                        vec![error.field.clone()],
                        "{kind}: {text:?} at {pointer}"
                    );
                    refused_at.insert(format!("{kind}:{}", error.field));
                }
            }
        }
    }
    // Each shape of position is among them: an optional text, an element of a list and of a
    // set, an id inside a set of structs, and a text nested in a correction's replacement.
    for expected in [
        "need_raised:payload.note",
        "information_requested:payload.questions[1]",
        "organisation_joined:payload.functions[0]",
        "issue_raised:payload.refs[0].id",
        "event_corrected:payload.replacement.payload.note",
        "event_corrected:payload.reason",
    ] {
        assert!(
            refused_at.contains(expected),
            "{expected} not covered: {refused_at:?}"
        );
    }
}

/// Wraps a payload so it serializes under a `payload` key, as in an envelope's JSON.
struct UnderPayload<'a>(&'a Payload);

impl Serialize for UnderPayload<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry("payload", self.0)?;
        map.end()
    }
}

fn text(text: &str) -> Text {
    Text::new(text).expect("a short text")
}

/// The errors, spelled out, for personal data in an optional text, a list element, a
/// nested correction and an identifier; and which field is named when two hold some.
#[test]
fn the_guard_names_the_same_field_and_reason_as_before() {
    let refusal = |field: &str, kind: PersonalDataKind, span: &str| ValidationError {
        field: field.to_string(),
        code: "personal_data",
        reason: format!(
            "{} at characters {span}; personal data about people must stay in your own systems, so the shared log refuses it",
            kind.describe()
        ),
        personal_data: Some(kind),
    };

    let mut need = example(Kind::NeedRaised);
    let Payload::NeedRaised(raised) = &mut need.payload else {
        unreachable!()
    };
    raised.note = Some(text("Tolk för barnet 19121212-1212"));
    let expected = refusal(
        "payload.note",
        PersonalDataKind::PersonalIdentityNumber,
        "16..29",
    );
    assert_eq!(need.validate(), Err(expected.clone()));

    let mut correction = example(Kind::EventCorrected);
    let Payload::EventCorrected(corrected) = &mut correction.payload else {
        unreachable!()
    };
    *corrected.replacement.0 = need.payload.clone();
    let nested = ValidationError {
        field: "payload.replacement.payload.note".into(),
        ..expected
    };
    assert_eq!(correction.validate(), Err(nested));

    let mut request = example(Kind::InformationRequested);
    let Payload::InformationRequested(requested) = &mut request.payload else {
        unreachable!()
    };
    requested.questions.push(text("Ring 070-123 45 67"));
    let field = format!("payload.questions[{}]", requested.questions.len() - 1);
    let phone = refusal(&field, PersonalDataKind::PhoneNumber, "5..18");
    assert_eq!(request.validate(), Err(phone));

    let mut commitment = example(Kind::ResourceCommitted);
    let Payload::ResourceCommitted(committed) = &mut commitment.payload else {
        unreachable!()
    };
    committed.need = Some(AggregateId::new("need-191212121212").expect("a valid id"));
    let id = refusal(
        "payload.need",
        PersonalDataKind::PersonalIdentityNumber,
        "5..17",
    );
    assert_eq!(commitment.validate(), Err(id));

    // Two fields hold personal data: the walk goes in sorted key order, so `consequences`
    // is named although `summary` comes first in the struct and on the wire.
    let mut report = example(Kind::SituationReported);
    let Payload::SituationReported(reported) = &mut report.payload else {
        unreachable!()
    };
    reported.summary = text("anna.svensson@example.se");
    reported.consequences = Some(text("19121212-1212"));
    let first = refusal(
        "payload.consequences",
        PersonalDataKind::PersonalIdentityNumber,
        "0..13",
    );
    assert_eq!(report.validate(), Err(first));

    // A label (set element) in a join.
    let mut joined = example(Kind::OrganisationJoined);
    let Payload::OrganisationJoined(organisation) = &mut joined.payload else {
        unreachable!()
    };
    organisation
        .functions
        .insert(Label::new("aaa 19121212-1212").expect("a short label"));
    let label = refusal(
        "payload.functions[0]",
        PersonalDataKind::PersonalIdentityNumber,
        "4..17",
    );
    assert_eq!(joined.validate(), Err(label));
}

proptest! {
    /// Any text in any string of any example: the scan says clean exactly when the walk
    /// finds nothing, and the guard returns what the walk returns.
    #[test]
    fn the_scan_is_clean_exactly_when_the_walk_finds_nothing(
        kind in select(Kind::ALL),
        leaf in any::<Index>(),
        text in prop_oneof![
            "[0-9a-zåö@+. \\-]{0,24}",
            ("[0-9a-z ]{0,6}", select(SAMPLES.to_vec()), "[0-9a-z ]{0,6}")
                .prop_map(|(before, sample, after)| format!("{before}{sample}{after}")),
        ],
    ) {
        let json = serde_json::to_value(example(kind)).expect("an example serializes");
        let leaves = payload_leaves(&json);
        if leaves.is_empty() {
            return Ok(());
        }
        let (pointer, _, _) = leaf.get(&leaves);
        if let Some(payload) = with_text(kind, pointer, &text) {
            assert_scan_agrees(&payload).ok();
        }
    }
}
