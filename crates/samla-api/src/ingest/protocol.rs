//! The ingest protocol both doors speak, and the per-item checks they share.
//!
//! A request is one item or an array of items; an item is an envelope, or
//! `{"event": <envelope>, "expected_seq": N}` for optimistic concurrency. The reply is
//! always an array in request order: [`ItemReply::Stored`] `{"id", "seq", "duplicate"}` or
//! [`ItemReply::Refused`] `{"id", "error": {"code", "field", "reason", "current_seq"?}}`.
//!
//! The doors only frame bytes into items (JSON here, MessagePack in `msgpack.rs`); every
//! item is then decoded by the contract's own codec and checked by [`admit`], in one order:
//! decode (size cap, codec errors) → organisation → incident (NATS) → `validate_at`
//! (rules and the personal-data guard) → append. Field paths in errors are relative to the
//! envelope (`payload.note`), also when the item is a `{"event", …}` wrapper.

use std::collections::BTreeMap;

use proto_events::{DecodeError, Envelope, EventId, IncidentId, OrgId, Timestamp, codec};
use samla_log::{AppendItem, LogError};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::error::ApiError;

/// Stable item error codes (besides the contract's `too_large`, `malformed`,
/// `unknown_kind`, `unsupported_version`, `personal_data`, `out_of_range`, `inconsistent`
/// and `invalid`).
pub mod codes {
    /// The envelope names another organisation than the credential's.
    pub const FORBIDDEN: &str = "forbidden";
    /// Optimistic concurrency failed; `current_seq` is the aggregate's last sequence.
    pub const CONFLICT: &str = "conflict";
    /// The log could not be reached or did not answer in time: retry with the same id.
    pub const UNAVAILABLE: &str = "unavailable";
    /// The log is full and refuses new events until an operator grows it.
    pub const LOG_FULL: &str = "log_full";
    /// The log refused the event for a reason retrying will not change.
    pub const REJECTED: &str = "rejected";
    /// The organisation exceeded its rate (NATS door; HTTP answers 429 instead).
    pub const RATE_LIMITED: &str = "rate_limited";
    /// The service failed (for example its NATS user may not write the log).
    pub const INTERNAL: &str = "internal";
    /// An `{"event", "expected_seq"}` wrapper or a request shape that is not understood.
    pub const MALFORMED: &str = "malformed";
    /// The incident in the ingest subject differs from the envelope's.
    pub const INCONSISTENT: &str = "inconsistent";
    /// A request larger than the door accepts, or one item larger than an event may be.
    pub const TOO_LARGE: &str = "too_large";
}

/// The answer for one item, in request order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum ItemReply {
    /// The event is in the log (durably): at `seq`, or already was (`duplicate: true`,
    /// `seq` = where the first copy landed).
    Stored {
        id: String,
        seq: u64,
        duplicate: bool,
    },
    /// The event was not stored. `id` is the event id when it could be read.
    Refused {
        id: Option<String>,
        error: ItemError,
    },
}

impl ItemReply {
    pub(crate) fn refused(id: Option<String>, error: ItemError) -> Self {
        ItemReply::Refused { id, error }
    }

    /// The error, for a refused item.
    pub fn error(&self) -> Option<&ItemError> {
        match self {
            ItemReply::Stored { .. } => None,
            ItemReply::Refused { error, .. } => Some(error),
        }
    }

    /// Whether the event is in the log (new or duplicate).
    pub fn is_stored(&self) -> bool {
        matches!(self, ItemReply::Stored { .. })
    }
}

/// Why one item was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ItemError {
    /// A stable code (see [`codes`] and the contract's codes).
    pub code: String,
    /// The envelope field at fault (`payload.note`), empty for the whole item.
    pub field: String,
    pub reason: String,
    /// For `conflict`: the aggregate's last sequence, to re-read and decide again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_seq: Option<u64>,
}

impl ItemError {
    pub(crate) fn new(code: &str, field: &str, reason: impl Into<String>) -> Self {
        ItemError {
            code: code.to_owned(),
            field: field.to_owned(),
            reason: reason.into(),
            current_seq: None,
        }
    }

    fn from_decode(error: &DecodeError) -> Self {
        ItemError::new(error.code(), error.field(), error.to_string())
    }

    /// What a failed append means for the client.
    pub(crate) fn from_log(error: &LogError) -> Self {
        match error {
            LogError::Conflict { current_seq, .. } => ItemError {
                current_seq: Some(*current_seq),
                ..ItemError::new(codes::CONFLICT, "expected_seq", error.to_string())
            },
            LogError::LogFull { .. } => ItemError::new(codes::LOG_FULL, "", error.to_string()),
            LogError::Unavailable { .. } | LogError::Timeout { .. } => {
                ItemError::new(codes::UNAVAILABLE, "", error.to_string())
            }
            LogError::InvalidItem { .. } | LogError::Rejected { .. } => {
                ItemError::new(codes::REJECTED, "", error.to_string())
            }
            // Not `unavailable`, which tells the client to retry: the stream is gone until a
            // person restores it. `internal` answers 503 over HTTP too, with the reason.
            LogError::StreamMissing { .. } => {
                tracing::error!(%error, "the ingest service cannot append: the log's stream is gone");
                ItemError::new(
                    codes::INTERNAL,
                    "",
                    format!("the ingest service cannot append the event: {error}"),
                )
            }
            other => {
                tracing::error!(error = %other, "the ingest service could not append to the log");
                ItemError::new(
                    codes::INTERNAL,
                    "",
                    format!("the ingest service could not append the event: {other}"),
                )
            }
        }
    }
}

/// One framed item: decoded and ready for the checks, or already refused.
#[derive(Debug)]
pub(crate) enum Decoded {
    Ready {
        envelope: Box<Envelope>,
        expected_seq: Option<u64>,
    },
    Refused(ItemReply),
}

impl Decoded {
    /// The event id, as far as it is known.
    pub(crate) fn id(&self) -> Option<String> {
        match self {
            Decoded::Ready { envelope, .. } => Some(envelope.id.to_string()),
            Decoded::Refused(ItemReply::Refused { id, .. }) => id.clone(),
            Decoded::Refused(ItemReply::Stored { id, .. }) => Some(id.clone()),
        }
    }

    /// A decode result, with the event id probed from the bytes when decoding failed.
    pub(crate) fn from_result(
        result: Result<Envelope, DecodeError>,
        expected_seq: Option<u64>,
        probe: impl FnOnce() -> Option<String>,
    ) -> Decoded {
        match result {
            Ok(envelope) => Decoded::Ready {
                envelope: Box::new(envelope),
                expected_seq,
            },
            Err(error) => {
                let id = error.event_id().map(|id| id.to_string()).or_else(probe);
                Decoded::Refused(ItemReply::refused(id, ItemError::from_decode(&error)))
            }
        }
    }

    /// A whole request that could not be split into items: one refused item.
    pub(crate) fn unreadable(code: &str, reason: impl Into<String>) -> Decoded {
        Decoded::Refused(ItemReply::refused(None, ItemError::new(code, "", reason)))
    }
}

/// The reason given for an `{"event", …}` wrapper with a stray key.
pub(crate) const WRAPPER_SHAPE: &str =
    "an item is an envelope, or {\"event\": <envelope>, \"expected_seq\": N}";

/// The reason given for a bad `expected_seq`.
pub(crate) const EXPECTED_SEQ_SHAPE: &str = "expected_seq must be a non-negative integer: the aggregate's last sequence as read (0 when it has no event yet)";

/// Who is sending, as the credential says: the organisation (token or subject) and, on
/// the NATS door, the incident named in the subject.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub(crate) org: OrgId,
    pub(crate) incident: Option<IncidentId>,
}

/// The checks after decoding, shared by both doors: the organisation, the incident, then
/// every rule of the contract (including the personal-data guard). Returns the item to
/// append on `subject_prefix`.
pub(crate) fn admit(
    caller: &Caller,
    envelope: &Envelope,
    expected_seq: Option<u64>,
    now: Timestamp,
    max_future_seconds: i64,
    subject_prefix: &str,
) -> Result<AppendItem, ItemError> {
    if envelope.org != caller.org {
        return Err(ItemError::new(
            codes::FORBIDDEN,
            "org",
            format!(
                "this credential speaks for organisation {}; the event names {} (an organisation may only emit its own events)",
                caller.org, envelope.org
            ),
        ));
    }
    if let Some(incident) = &caller.incident
        && envelope.incident != *incident
    {
        return Err(ItemError::new(
            codes::INCONSISTENT,
            "incident",
            format!(
                "the request was sent for incident {incident} but the event names incident {}",
                envelope.incident
            ),
        ));
    }
    envelope
        .validate_at(now, max_future_seconds)
        .map_err(|error| ItemError::new(error.code, &error.field, error.reason))?;
    let mut item = AppendItem::from_envelope(envelope, expected_seq);
    if let Some(rest) = item
        .subject
        .strip_prefix(proto_events::subject::EVENT_PREFIX)
        && subject_prefix != proto_events::subject::EVENT_PREFIX
    {
        item.subject = format!("{subject_prefix}{rest}");
    }
    Ok(item)
}

/// Splits a JSON body into decoded items. `Err` only for whole-request refusals (too
/// many items, none at all); a body that is not JSON is one refused item.
pub(crate) fn frame_json(body: &[u8], max_items: usize) -> Result<Vec<Decoded>, ApiError> {
    let text = match std::str::from_utf8(body) {
        Ok(text) => text,
        Err(error) => {
            return Ok(vec![Decoded::unreadable(
                codes::MALFORMED,
                format!("the body is not UTF-8 JSON: {error}"),
            )]);
        }
    };
    let top: &RawValue = match serde_json::from_str(text) {
        Ok(top) => top,
        Err(error) => {
            return Ok(vec![Decoded::unreadable(
                codes::MALFORMED,
                format!("the body is not JSON: {error}"),
            )]);
        }
    };
    if !top.get().starts_with('[') {
        return Ok(vec![decode_json_item(top)]);
    }
    let items: Vec<&RawValue> =
        serde_json::from_str(top.get()).map_err(|error| ApiError::BadRequest {
            reason: format!("the array could not be split: {error}"),
        })?;
    if items.is_empty() {
        return Err(ApiError::NoEvents);
    }
    if items.len() > max_items {
        return Err(ApiError::TooManyEvents {
            count: items.len(),
            max: max_items,
        });
    }
    Ok(items.into_iter().map(decode_json_item).collect())
}

/// Decodes one JSON item: an envelope or an `{"event", "expected_seq"}` wrapper.
fn decode_json_item(raw: &RawValue) -> Decoded {
    let text = raw.get();
    if text.starts_with('{')
        && let Ok(fields) = serde_json::from_str::<BTreeMap<String, &RawValue>>(text)
        && let Some(event) = fields.get("event")
    {
        let event = event.get();
        let probe = || probe_json_id(event);
        if let Some(stray) = fields
            .keys()
            .find(|key| !matches!(key.as_str(), "event" | "expected_seq"))
        {
            return Decoded::Refused(ItemReply::refused(
                probe(),
                ItemError::new(
                    codes::MALFORMED,
                    stray,
                    format!("unknown field; {WRAPPER_SHAPE}"),
                ),
            ));
        }
        let expected_seq = match fields.get("expected_seq") {
            None => None,
            Some(raw) => match serde_json::from_str::<Option<u64>>(raw.get()) {
                Ok(expected_seq) => expected_seq,
                Err(_) => {
                    return Decoded::Refused(ItemReply::refused(
                        probe(),
                        ItemError::new(codes::MALFORMED, "expected_seq", EXPECTED_SEQ_SHAPE),
                    ));
                }
            },
        };
        return Decoded::from_result(codec::decode_json(event.as_bytes()), expected_seq, probe);
    }
    Decoded::from_result(codec::decode_json(text.as_bytes()), None, || {
        probe_json_id(text)
    })
}

/// Reads just the `id` of an event that did not decode, if it is a canonical event id.
fn probe_json_id(text: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Probe {
        id: Option<String>,
    }
    let probe: Probe = serde_json::from_str(text).ok()?;
    canonical_id(probe.id?)
}

/// The id as the reply carries it: only a valid event id, never arbitrary text.
pub(crate) fn canonical_id(id: String) -> Option<String> {
    EventId::parse(&id).ok().map(|id| id.to_string())
}

#[cfg(test)]
mod tests {
    use proto_events::examples::example;
    use proto_events::{Kind, encode_json};

    use super::*;

    fn reply_of(decoded: &Decoded) -> Option<&ItemError> {
        match decoded {
            Decoded::Refused(reply) => reply.error(),
            Decoded::Ready { .. } => None,
        }
    }

    #[test]
    fn frames_one_item_an_array_and_wrappers() {
        let event = encode_json(&example(Kind::NeedRaised));
        let body = format!(
            " \n[ {event} , {{\"expected_seq\": null, \"event\": {event}}}, {{\"event\": {event}, \"expected_seq\": 7}} ]\n"
        );
        let items = frame_json(body.as_bytes(), 10).unwrap();
        let seqs: Vec<Option<u64>> = items
            .iter()
            .map(|item| match item {
                Decoded::Ready { expected_seq, .. } => *expected_seq,
                Decoded::Refused(reply) => panic!("refused: {reply:?}"),
            })
            .collect();
        assert_eq!(seqs, vec![None, None, Some(7)]);
        assert_eq!(
            frame_json(format!("  {event}  ").as_bytes(), 10)
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn refuses_stray_wrapper_keys_and_too_many_items() {
        let event = encode_json(&example(Kind::NeedRaised));
        let body = format!("{{\"event\": {event}, \"expected\": 3}}");
        let items = frame_json(body.as_bytes(), 10).unwrap();
        let error = reply_of(&items[0]).expect("refused");
        assert_eq!(
            (error.code.as_str(), error.field.as_str()),
            ("malformed", "expected")
        );
        assert_eq!(
            items[0].id(),
            Some(example(Kind::NeedRaised).id.to_string())
        );

        let body = format!("[{event}, {event}, {event}]");
        assert_eq!(
            frame_json(body.as_bytes(), 2).unwrap_err(),
            ApiError::TooManyEvents { count: 3, max: 2 }
        );
        assert_eq!(frame_json(b"[]", 2).unwrap_err(), ApiError::NoEvents);
        let items = frame_json(b"\"just a string\"", 2).unwrap();
        assert_eq!(reply_of(&items[0]).expect("refused").code, "malformed");
    }
}
