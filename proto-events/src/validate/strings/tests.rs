//! Tests of the string scan over the whole serde data model, beyond what today's payloads
//! use: it checks every string `serde_json::to_value` makes and the JSON walk reads, no
//! other, and is unsure wherever `to_value` fails.

use std::collections::BTreeMap;
use std::fmt;

use serde::ser::{Error as _, SerializeMap, SerializeStruct};
use serde::{Serialize, Serializer};

use super::super::guard_json_walk;
use super::{Scan, scan_strings};
use crate::vocab::BedType;

/// Personal data for the shapes below.
const PNR: &str = "19121212-1212";

#[derive(Serialize)]
struct Nested {
    inner: Inner,
}

#[derive(Serialize)]
struct Inner {
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<String>,
}

#[derive(Serialize)]
struct Wrapper(String);

#[derive(Serialize)]
struct UnitStruct;

#[derive(Serialize)]
enum Shape {
    /// serde_json writes a unit variant as the string of its name, which the walk checks.
    #[serde(rename = "anna.svensson@example.se")]
    NamedLikeAnEmail,
    /// A variant with data is written `{name: data}`: the name is a key, not checked.
    #[serde(rename = "19121212-1212")]
    NewtypeNamedLikeANumber(u8),
    Newtype(String),
    Tuple(u8, String),
    Struct {
        text: String,
    },
}

/// Serializes as `collect_str` of its text, as timestamps do.
struct Displayed(&'static str);

impl Serialize for Displayed {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self.0)
    }
}

/// Serializes as bytes: an array of numbers in JSON, never a string.
struct Bytes(&'static [u8]);

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(self.0)
    }
}

/// A map with one float key.
struct FloatKey(f64);

impl Serialize for FloatKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry(&self.0, "x")?;
        map.end()
    }
}

/// A `Serialize` impl that fails.
struct Failing;

impl Serialize for Failing {
    fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        Err(S::Error::custom("cannot"))
    }
}

/// A value serde_json's `raw_value` feature parses as JSON.
struct RawValueToken;

impl Serialize for RawValueToken {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut raw = serializer.serialize_struct("$serde_json::private::RawValue", 1)?;
        raw.serialize_field("$serde_json::private::RawValue", "\"19121212-1212\"")?;
        raw.end()
    }
}

/// Fails to format.
struct BrokenDisplay;

impl fmt::Display for BrokenDisplay {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        Err(fmt::Error)
    }
}

impl Serialize for BrokenDisplay {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Checks the scan's answer for `value`, and that the walk agrees: nothing when clean, a
/// personal-data refusal when the scan found some, `walk_code` when the scan is unsure.
fn check<T: Serialize>(name: &str, value: T, scan: Scan, walk_code: Option<&str>) {
    assert_eq!(scan_strings(&value), scan, "{name}");
    let walk = guard_json_walk(&value).map_err(|error| error.code);
    match scan {
        Scan::Clean => assert_eq!(walk, Ok(()), "{name}"),
        Scan::PersonalData => assert_eq!(walk, Err("personal_data"), "{name}"),
        Scan::Unsure => assert_eq!(walk.err(), walk_code, "{name}"),
    }
}

#[test]
fn the_scan_checks_every_string_the_walk_checks_and_no_other() {
    use Scan::*;
    let pnr = || PNR.to_string();
    // Strings in every position are checked.
    check("a string", pnr(), PersonalData, None);
    check("Some", Some(pnr()), PersonalData, None);
    check(
        "a list element",
        vec!["ok".to_string(), pnr()],
        PersonalData,
        None,
    );
    check(
        "a map value",
        BTreeMap::from([("k", pnr())]),
        PersonalData,
        None,
    );
    check("a tuple", (1u8, pnr()), PersonalData, None);
    check("a newtype", Wrapper(pnr()), PersonalData, None);
    let nested = Nested {
        inner: Inner { text: Some(pnr()) },
    };
    check("a nested field", nested, PersonalData, None);
    check(
        "a unit variant's name",
        Shape::NamedLikeAnEmail,
        PersonalData,
        None,
    );
    check(
        "a newtype variant",
        Shape::Newtype(pnr()),
        PersonalData,
        None,
    );
    check(
        "a tuple variant",
        Shape::Tuple(1, pnr()),
        PersonalData,
        None,
    );
    check(
        "a struct variant",
        Shape::Struct { text: pnr() },
        PersonalData,
        None,
    );
    check("collect_str", Displayed(PNR), PersonalData, None);
    check("a box", Box::new(pnr()), PersonalData, None);
    // What the walk never sees as a string is not checked.
    check("a map key", BTreeMap::from([(PNR, 1)]), Clean, None);
    check(
        "a variant's name as key",
        Shape::NewtypeNamedLikeANumber(1),
        Clean,
        None,
    );
    check("bytes", Bytes(PNR.as_bytes()), Clean, None);
    check("a large number", 191_212_121_212u64, Clean, None);
    check(
        "clean text",
        vec!["vecka 10", "tolk, 2026-03-02"],
        Clean,
        None,
    );
    check("a char", 'x', Clean, None);
    check(
        "nothing",
        (None::<String>, (), UnitStruct, f64::NAN),
        Clean,
        None,
    );
    check(
        "an empty nested field",
        Nested {
            inner: Inner { text: None },
        },
        Clean,
        None,
    );
    let by_bed_type = BTreeMap::from([(BedType::General, PNR)]);
    check(
        "a value under a unit-variant key",
        by_bed_type,
        PersonalData,
        None,
    );
    check("a 64-bit i128", i128::from(i64::MIN), Clean, None);
    check("a 64-bit u128", u128::from(u64::MAX), Clean, None);
    check("a finite float key", FloatKey(1.5), Clean, None);
    // Where `to_value` fails, the scan is unsure and the walk reports the failure.
    check("a u128 beyond 64 bits", u128::MAX, Unsure, Some("invalid"));
    check("an i128 beyond 64 bits", i128::MIN, Unsure, Some("invalid"));
    check(
        "a tuple key",
        BTreeMap::from([((1u8, 2u8), 3u8)]),
        Unsure,
        Some("invalid"),
    );
    check("a NaN key", FloatKey(f64::NAN), Unsure, Some("invalid"));
    check(
        "a failing Serialize",
        vec![Failing],
        Unsure,
        Some("invalid"),
    );
    // serde_json's `raw_value` feature (on in the workspace, off for this crate alone)
    // parses a raw value; either way its string is refused. The scan leaves it to the walk.
    check("a raw value", RawValueToken, Unsure, Some("personal_data"));
    // `to_value` panics on a failing Display; the scan leaves that to the walk, too.
    assert_eq!(scan_strings(&BrokenDisplay), Unsure);
    let walk = std::panic::catch_unwind(|| guard_json_walk(&BrokenDisplay));
    assert!(walk.is_err(), "to_value panics on a Display that fails");
}
