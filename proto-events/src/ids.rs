//! Identifiers and bounded strings of the contract.
//!
//! Tokens (incident, organisation, aggregate ids, areas) become parts of NATS subjects, so
//! they are restricted to `[a-z0-9_-]`, 1 to 64 bytes: no `.`, `*`, `>` or space can ever be
//! injected into a subject. They are checked when they are decoded or constructed, never
//! later. Event ids are canonical lower-case UUIDs (UUIDv7 recommended, so they sort by
//! time); the personal-data guard exempts them because a UUID cannot carry one.

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Longest token (incident, organisation, aggregate id, area) in bytes.
pub const MAX_TOKEN_LEN: usize = 64;
/// Longest [`Label`] in characters: names, functions, headlines.
pub const MAX_LABEL_CHARS: usize = 200;
/// Longest [`Text`] in characters: summaries, reasons, free notes.
pub const MAX_TEXT_CHARS: usize = 4000;

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("must not be empty")]
    Empty,
    #[error("is {len} bytes long; at most {max} are allowed")]
    TooLong { len: usize, max: usize },
    #[error("contains {found:?}; only a-z, 0-9, '_' and '-' are allowed")]
    InvalidCharacter { found: char },
}

/// Checks a subject-safe token: 1–64 bytes of `[a-z0-9_-]`.
pub fn check_token(text: &str) -> Result<(), TokenError> {
    if text.is_empty() {
        return Err(TokenError::Empty);
    }
    if let Some(found) = text
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == '-'))
    {
        return Err(TokenError::InvalidCharacter { found });
    }
    if text.len() > MAX_TOKEN_LEN {
        return Err(TokenError::TooLong {
            len: text.len(),
            max: MAX_TOKEN_LEN,
        });
    }
    Ok(())
}

macro_rules! token_type {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// Checks and wraps a token.
            pub fn new(text: impl Into<String>) -> Result<Self, TokenError> {
                let text = text.into();
                check_token(&text)?;
                Ok(Self(text))
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl FromStr for $name {
            type Err = TokenError;
            fn from_str(text: &str) -> Result<Self, TokenError> {
                Self::new(text)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                check_token(&text).map_err(|error| {
                    serde::de::Error::custom(format_args!(
                        concat!("invalid ", $what, " {:?}: {}"),
                        text, error
                    ))
                })?;
                Ok(Self(text.into_owned()))
            }
        }

        impl JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({
                    "type": "string",
                    "pattern": "^[a-z0-9_-]{1,64}$",
                    "description": concat!("A ", $what, ": 1-64 characters of a-z, 0-9, '_' and '-'.")
                })
            }
        }
    };
}

token_type!(
    /// The incident (crisis) an event belongs to, e.g. `malmo-reception-2026`.
    IncidentId,
    "incident id"
);
token_type!(
    /// An organisation of the network, e.g. `migrationsverket` or `malmo-stad`.
    OrgId,
    "organisation id"
);
token_type!(
    /// The id of one aggregate (a need, a site, an issue, …) within its type.
    AggregateId,
    "aggregate id"
);
token_type!(
    /// Where: a municipality or county code (`1280`, `se-12`) or a named district
    /// (`rosengard`). Never a private address.
    AreaCode,
    "area code"
);

/// A globally unique event id: a canonical lower-case UUID, minted by the emitter
/// (UUIDv7 recommended). It is the NATS message id, so a retry is recognised as such.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventId(uuid::Uuid);

impl EventId {
    /// A new time-ordered id (UUIDv7) from the system clock.
    pub fn new_v7() -> Self {
        Self(uuid::Uuid::now_v7())
    }
    pub fn from_uuid(uuid: uuid::Uuid) -> Self {
        Self(uuid)
    }
    pub fn as_uuid(&self) -> uuid::Uuid {
        self.0
    }
    /// Parses only the canonical form: 36 characters, lower-case, hyphenated.
    pub fn parse(text: &str) -> Result<Self, String> {
        let canonical = text.len() == 36
            && text
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c) || c == '-');
        match uuid::Uuid::try_parse(text) {
            Ok(uuid) if canonical && uuid.hyphenated().to_string() == text => Ok(Self(uuid)),
            _ => Err(format!(
                "invalid event id {text:?}: expected a canonical lower-case UUID such as 0190f5a4-7c3e-7b21-9a4d-3f1e2d6c8b90"
            )),
        }
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.hyphenated(), f)
    }
}

impl FromStr for EventId {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        Self::parse(text)
    }
}

impl Serialize for EventId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut buffer = uuid::Uuid::encode_buffer();
        serializer.serialize_str(self.0.hyphenated().encode_lower(&mut buffer))
    }
}

impl<'de> Deserialize<'de> for EventId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for EventId {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "EventId".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
            "description": "A canonical lower-case UUID (UUIDv7 recommended)."
        })
    }
}

macro_rules! bounded_text {
    ($(#[$doc:meta])* $name:ident, $max:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
        pub struct $name(String);

        impl $name {
            /// Wraps text, refusing more than the allowed number of characters.
            pub fn new(text: impl Into<String>) -> Result<Self, String> {
                let text = text.into();
                let chars = text.chars().count();
                if chars > $max {
                    return Err(format!("is {chars} characters long; at most {} are allowed", $max));
                }
                Ok(Self(text))
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                Self::new(text).map_err(serde::de::Error::custom)
            }
        }

        impl JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({
                    "type": "string",
                    "maxLength": $max,
                    "description": concat!("Free text of at most ", stringify!($max), " characters, checked by the personal-data guard: no personal identity, coordination, case or LMA numbers, phone numbers or e-mail addresses.")
                })
            }
        }
    };
}

bounded_text!(
    /// A short free text: a name, a function ("duty officer, social services"), a headline.
    Label,
    MAX_LABEL_CHARS
);
bounded_text!(
    /// A longer free text: a summary, a reason, a note. Never a description of a person.
    Text,
    MAX_TEXT_CHARS
);

/// The language of an event's free text: a lower-case BCP 47 tag such as `sv`, `en`, `uk`
/// or `fa-af`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LangTag(String);

impl LangTag {
    pub fn new(text: impl Into<String>) -> Result<Self, String> {
        let text = text.into();
        let mut parts = text.split('-');
        let primary_ok = parts.next().is_some_and(|p| {
            (2..=3).contains(&p.len()) && p.chars().all(|c| c.is_ascii_lowercase())
        });
        let rest_ok = parts.all(|p| {
            (2..=8).contains(&p.len())
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        });
        if primary_ok && rest_ok && text.len() <= 35 {
            Ok(Self(text))
        } else {
            Err(format!(
                "invalid language tag {text:?}: expected a lower-case BCP 47 tag such as \"sv\", \"en\" or \"fa-af\""
            ))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LangTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for LangTag {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for LangTag {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::new(text).map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for LangTag {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "LangTag".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^[a-z]{2,3}(-[a-z0-9]{2,8})*$",
            "description": "A lower-case BCP 47 language tag, e.g. sv, en, uk, fa-af."
        })
    }
}
