//! Points in time on the wire: RFC 3339 strings in UTC.
//!
//! Input must carry a zone (`Z` or an offset); it is normalised to UTC, so every encoding of
//! one instant is the same string: seconds always, fractional digits only when non-zero.

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An instant, written as an RFC 3339 UTC string such as `2026-03-01T09:30:00Z`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Timestamp(jiff::Timestamp);

impl Timestamp {
    /// The Unix epoch.
    pub const UNIX_EPOCH: Timestamp = Timestamp(jiff::Timestamp::UNIX_EPOCH);

    /// Parses RFC 3339 with a zone; refuses a time without `Z` or an offset.
    pub fn parse(text: &str) -> Result<Self, String> {
        jiff::Timestamp::from_str(text).map(Self).map_err(|error| {
            format!(
                "invalid timestamp {text:?}: expected RFC 3339 with a time zone, such as 2026-03-01T09:30:00Z ({error})"
            )
        })
    }

    pub fn from_unix_nanos(nanos: i128) -> Result<Self, String> {
        jiff::Timestamp::from_nanosecond(nanos)
            .map(Self)
            .map_err(|error| format!("timestamp out of range: {error}"))
    }

    pub fn from_unix_seconds(seconds: i64) -> Result<Self, String> {
        jiff::Timestamp::from_second(seconds)
            .map(Self)
            .map_err(|error| format!("timestamp out of range: {error}"))
    }

    pub fn as_unix_nanos(&self) -> i128 {
        self.0.as_nanosecond()
    }

    pub fn as_unix_seconds(&self) -> i64 {
        self.0.as_second()
    }

    /// The wall clock. Folds never call this; it is for emitters, ingest and queries.
    pub fn now() -> Self {
        Self(jiff::Timestamp::now())
    }

    /// This instant moved by a signed number of seconds (saturating at the range ends).
    pub fn plus_seconds(&self, seconds: i64) -> Self {
        let nanos = self.as_unix_nanos() + i128::from(seconds) * 1_000_000_000;
        Self::from_unix_nanos(nanos).unwrap_or(*self)
    }

    /// Whole seconds from `earlier` to `self` (negative when `earlier` is later).
    pub fn seconds_since(&self, earlier: Timestamp) -> i64 {
        self.as_unix_seconds() - earlier.as_unix_seconds()
    }

    /// The calendar year in UTC, for sanity checks.
    pub fn year(&self) -> i16 {
        self.0.to_zoned(jiff::tz::TimeZone::UTC).year()
    }

    pub fn as_jiff(&self) -> jiff::Timestamp {
        self.0
    }
}

impl From<jiff::Timestamp> for Timestamp {
    fn from(value: jiff::Timestamp) -> Self {
        Self(value)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // jiff prints UTC with `Z` and only the fractional digits that are needed.
        fmt::Display::fmt(&self.0, f)
    }
}

impl FromStr for Timestamp {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        Self::parse(text)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Timestamp {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Timestamp".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "format": "date-time",
            "description": "RFC 3339 with a time zone; normalised to UTC (`Z`) when encoded."
        })
    }
}
