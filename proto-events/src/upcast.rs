//! Upcasting: events written at an older schema version are decoded with the type of that
//! version and converted to the current one, so folds only ever see current payloads.
//!
//! To change a payload incompatibly: keep the old struct as `<Name>V<n>`, bump the version
//! in `catalogue.rs`, add an arm below with a `From<Old> for New` conversion, add a golden
//! vector of the old version under `vectors/upcast/`, and test the conversion.

use serde::{Deserialize, Deserializer};

use crate::catalogue::{Kind, Payload};
use crate::payload::{NeedRaised, NeedRaisedV1};

pub fn deserialize_older<'de, D: Deserializer<'de>>(
    kind: Kind,
    v: u16,
    deserializer: D,
) -> Result<Payload, D::Error> {
    match (kind, v) {
        (Kind::NeedRaised, 1) => NeedRaisedV1::deserialize(deserializer)
            .map(|old| Payload::NeedRaised(NeedRaised::from(old))),
        _ => Err(serde::de::Error::custom(format_args!(
            "version {v} of {kind} is not known (current version is {})",
            kind.current_version()
        ))),
    }
}
