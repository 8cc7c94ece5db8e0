//! Framing a MessagePack request into items without decoding them: a bounded walk over
//! the bytes finds each item's span, so every event is decoded by the contract's own
//! `decode_msgpack` (size cap, nesting limit, no trailing bytes) exactly as if it came
//! alone. The walk allocates nothing, never reads past the input and refuses nesting
//! deeper than the contract allows plus the request's own two levels.

use proto_events::codec;
use serde::Deserialize;

use super::protocol::{
    Decoded, EXPECTED_SEQ_SHAPE, ItemError, ItemReply, WRAPPER_SHAPE, canonical_id, codes,
};
use crate::error::ApiError;

/// The request array and the `{"event", …}` wrapper sit above the envelope.
const MAX_DEPTH: usize = codec::MAX_NESTING + 2;

/// Splits a MessagePack body into decoded items. `Err` only for whole-request refusals;
/// bytes that cannot be framed are one refused item.
pub(crate) fn frame_msgpack(body: &[u8], max_items: usize) -> Result<Vec<Decoded>, ApiError> {
    let mut reader = Reader::new(body);
    let spans = match reader.top_level_items() {
        Ok(spans) => spans,
        Err(reason) => {
            return Ok(vec![Decoded::unreadable(
                codes::MALFORMED,
                format!("the body is not a MessagePack item or array of items: {reason}"),
            )]);
        }
    };
    match spans {
        TopLevel::One(span) => Ok(vec![decode_item(&body[span])]),
        TopLevel::Many(0) => Err(ApiError::NoEvents),
        TopLevel::Many(count) if count > max_items => Err(ApiError::TooManyEvents {
            count,
            max: max_items,
        }),
        TopLevel::Many(count) => {
            let mut reader = Reader::new(body);
            reader.array_len().ok();
            let mut items = Vec::with_capacity(count);
            for _ in 0..count {
                let start = reader.position;
                // The first walk succeeded, so this one does too; stay defensive anyway.
                if let Err(reason) = reader.skip(1) {
                    return Ok(vec![Decoded::unreadable(codes::MALFORMED, reason)]);
                }
                items.push(decode_item(&body[start..reader.position]));
            }
            Ok(items)
        }
    }
}

enum TopLevel {
    One(std::ops::Range<usize>),
    Many(usize),
}

/// Decodes one item: an envelope map, or an `{"event", "expected_seq"}` wrapper map.
fn decode_item(bytes: &[u8]) -> Decoded {
    match wrapper_fields(bytes) {
        Some(Ok(Wrapper {
            event,
            expected_seq,
        })) => {
            let event = &bytes[event];
            Decoded::from_result(codec::decode_msgpack(event), expected_seq, || {
                probe_msgpack_id(event)
            })
        }
        Some(Err((event, error))) => {
            let id = event.and_then(|span| probe_msgpack_id(&bytes[span]));
            Decoded::Refused(ItemReply::refused(id, error))
        }
        None => Decoded::from_result(codec::decode_msgpack(bytes), None, || {
            probe_msgpack_id(bytes)
        }),
    }
}

struct Wrapper {
    event: std::ops::Range<usize>,
    expected_seq: Option<u64>,
}

type WrapperError = (Option<std::ops::Range<usize>>, ItemError);

/// `None` when the item is not a wrapper (not a map, or no `event` key): it is then
/// decoded as an envelope, which names its own errors.
fn wrapper_fields(bytes: &[u8]) -> Option<Result<Wrapper, WrapperError>> {
    let mut reader = Reader::new(bytes);
    let pairs = reader.map_len().ok()?;
    let mut event = None;
    let mut expected_seq = Ok(None);
    let mut stray = None;
    for _ in 0..pairs {
        let key = reader.str().ok()?;
        let start = reader.position;
        match key {
            "event" => {
                reader.skip(1).ok()?;
                event = Some(start..reader.position);
            }
            "expected_seq" => {
                expected_seq = reader.optional_u64();
                // Whatever it was, step over it to keep scanning.
                reader.position = start;
                reader.skip(1).ok()?;
            }
            other => {
                stray.get_or_insert_with(|| other.to_owned());
                reader.skip(1).ok()?;
            }
        }
    }
    let event = event?;
    if let Some(stray) = stray {
        let error = ItemError::new(
            codes::MALFORMED,
            &stray,
            format!("unknown field; {WRAPPER_SHAPE}"),
        );
        return Some(Err((Some(event), error)));
    }
    Some(match expected_seq {
        Ok(expected_seq) => Ok(Wrapper {
            event,
            expected_seq,
        }),
        Err(()) => Err((
            Some(event),
            ItemError::new(codes::MALFORMED, "expected_seq", EXPECTED_SEQ_SHAPE),
        )),
    })
}

/// Reads just the `id` of an event that did not decode, if it is a canonical event id.
fn probe_msgpack_id(bytes: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Probe {
        id: Option<String>,
    }
    let probe: Probe = rmp_serde::from_slice(bytes).ok()?;
    canonical_id(probe.id?)
}

/// A cursor over MessagePack bytes that only measures.
struct Reader<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, position: 0 }
    }

    fn top_level_items(&mut self) -> Result<TopLevel, String> {
        let top = match self.array_len() {
            Ok(count) => {
                for _ in 0..count {
                    self.skip(1)?;
                }
                TopLevel::Many(count)
            }
            Err(_) => {
                self.position = 0;
                self.skip(0)?;
                TopLevel::One(0..self.position)
            }
        };
        if self.position != self.bytes.len() {
            return Err(format!(
                "{} trailing bytes after the request",
                self.bytes.len() - self.position
            ));
        }
        Ok(top)
    }

    fn take(&mut self, count: usize) -> Result<&'a [u8], String> {
        let end = self
            .position
            .checked_add(count)
            .filter(|end| *end <= self.bytes.len())
            .ok_or_else(|| format!("truncated at byte {}", self.position))?;
        let slice = &self.bytes[self.position..end];
        self.position = end;
        Ok(slice)
    }

    fn byte(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }

    fn uint(&mut self, width: usize) -> Result<u64, String> {
        Ok(self
            .take(width)?
            .iter()
            .fold(0u64, |value, byte| (value << 8) | u64::from(*byte)))
    }

    fn length(&mut self, width: usize) -> Result<usize, String> {
        usize::try_from(self.uint(width)?).map_err(|_| "length does not fit".to_owned())
    }

    /// The length of an array at the cursor; `Err` (cursor unspecified) if it is none.
    fn array_len(&mut self) -> Result<usize, String> {
        match self.byte()? {
            marker @ 0x90..=0x9f => Ok(usize::from(marker & 0x0f)),
            0xdc => self.length(2),
            0xdd => self.length(4),
            _ => Err("not an array".to_owned()),
        }
    }

    /// The number of pairs of a map at the cursor.
    fn map_len(&mut self) -> Result<usize, String> {
        match self.byte()? {
            marker @ 0x80..=0x8f => Ok(usize::from(marker & 0x0f)),
            0xde => self.length(2),
            0xdf => self.length(4),
            _ => Err("not a map".to_owned()),
        }
    }

    /// A UTF-8 string at the cursor.
    fn str(&mut self) -> Result<&'a str, String> {
        let len = match self.byte()? {
            marker @ 0xa0..=0xbf => usize::from(marker & 0x1f),
            0xd9 => self.length(1)?,
            0xda => self.length(2)?,
            0xdb => self.length(4)?,
            _ => return Err("not a string".to_owned()),
        };
        std::str::from_utf8(self.take(len)?).map_err(|error| error.to_string())
    }

    /// `nil` or a non-negative integer; `Err(())` for anything else (negative, float,
    /// string…).
    fn optional_u64(&mut self) -> Result<Option<u64>, ()> {
        match self.byte().map_err(drop)? {
            0xc0 => Ok(None),
            marker @ 0x00..=0x7f => Ok(Some(u64::from(marker))),
            0xcc => self.uint(1).map(Some).map_err(drop),
            0xcd => self.uint(2).map(Some).map_err(drop),
            0xce => self.uint(4).map(Some).map_err(drop),
            0xcf => self.uint(8).map(Some).map_err(drop),
            // Signed encodings of a non-negative value are valid MessagePack too.
            width @ 0xd0..=0xd3 => {
                let width = 1usize << (width - 0xd0);
                let raw = self.uint(width).map_err(drop)?;
                let sign_bit = 1u64 << (width * 8 - 1);
                if raw & sign_bit == 0 {
                    Ok(Some(raw))
                } else {
                    Err(())
                }
            }
            _ => Err(()),
        }
    }

    /// Steps over one value at nesting `depth`.
    fn skip(&mut self, depth: usize) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err(format!("nested deeper than {MAX_DEPTH}"));
        }
        let marker = self.byte()?;
        let (scalar, children) = match marker {
            0x00..=0x7f | 0xe0..=0xff | 0xc0 | 0xc2 | 0xc3 => (0, 0),
            0x80..=0x8f => (0, 2 * usize::from(marker & 0x0f)),
            0x90..=0x9f => (0, usize::from(marker & 0x0f)),
            0xa0..=0xbf => (usize::from(marker & 0x1f), 0),
            0xc4 | 0xd9 => (self.length(1)?, 0),
            0xc5 | 0xda => (self.length(2)?, 0),
            0xc6 | 0xdb => (self.length(4)?, 0),
            0xc7 => (self.length(1)? + 1, 0),
            0xc8 => (self.length(2)? + 1, 0),
            0xc9 => (self.length(4)?.saturating_add(1), 0),
            0xca => (4, 0),
            0xcb => (8, 0),
            0xcc | 0xd0 => (1, 0),
            0xcd | 0xd1 => (2, 0),
            0xce | 0xd2 => (4, 0),
            0xcf | 0xd3 => (8, 0),
            0xd4 => (2, 0),
            0xd5 => (3, 0),
            0xd6 => (5, 0),
            0xd7 => (9, 0),
            0xd8 => (17, 0),
            0xdc => (0, self.length(2)?),
            0xdd => (0, self.length(4)?),
            0xde => (0, self.length(2)?.saturating_mul(2)),
            0xdf => (0, self.length(4)?.saturating_mul(2)),
            0xc1 => return Err(format!("invalid marker 0xc1 at byte {}", self.position - 1)),
        };
        self.take(scalar)?;
        for _ in 0..children {
            // Every child takes at least one byte, so a huge declared count ends at the
            // input's end instead of looping.
            self.skip(depth + 1)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_every_kind_of_value_and_refuses_truncation() {
        let value =
            serde_json::json!({"a": [1, -1, 300, -300, 70000, 1.5, "x", null, true, {"b": []}]});
        let bytes = rmp_serde::to_vec_named(&value).unwrap();
        let mut reader = Reader::new(&bytes);
        reader.skip(0).unwrap();
        assert_eq!(reader.position, bytes.len());
        let mut reader = Reader::new(&bytes[..bytes.len() - 1]);
        assert!(reader.skip(0).is_err());
    }

    #[test]
    fn frames_envelopes_and_wrappers_and_names_bad_wrappers() {
        use proto_events::Kind;
        use proto_events::examples::example;

        let envelope = example(Kind::NeedRaised);
        let event: serde_json::Value =
            serde_json::from_str(&proto_events::encode_json(&envelope)).unwrap();
        let body = serde_json::json!([
            event,
            {"event": event, "expected_seq": 12},
            {"event": event, "expected_seq": -1},
            {"expected_seq": 1, "event": event, "note": "x"},
        ]);
        let items = frame_msgpack(&rmp_serde::to_vec_named(&body).unwrap(), 10).unwrap();
        assert!(matches!(
            items[0],
            Decoded::Ready {
                expected_seq: None,
                ..
            }
        ));
        assert!(matches!(
            items[1],
            Decoded::Ready {
                expected_seq: Some(12),
                ..
            }
        ));
        for (item, field) in [(&items[2], "expected_seq"), (&items[3], "note")] {
            let Decoded::Refused(reply) = item else {
                panic!("admitted a bad wrapper")
            };
            assert_eq!(reply.error().unwrap().field, field);
            assert_eq!(item.id(), Some(envelope.id.to_string()));
        }
        let single = frame_msgpack(&proto_events::encode_msgpack(&envelope), 10).unwrap();
        assert!(matches!(single[..], [Decoded::Ready { .. }]));
        let mut trailing = proto_events::encode_msgpack(&envelope);
        trailing.push(0xc0);
        let refused = frame_msgpack(&trailing, 10).unwrap();
        assert!(matches!(refused[..], [Decoded::Refused(_)]));
        assert_eq!(frame_msgpack(&[0x90], 10).unwrap_err(), ApiError::NoEvents);
    }

    #[test]
    fn refuses_deep_nesting() {
        let mut bytes = vec![0x91; MAX_DEPTH + 2];
        bytes.push(0xc0);
        assert!(Reader::new(&bytes).skip(0).unwrap_err().contains("nested"));
    }

    #[test]
    fn reads_expected_seq_encodings() {
        for (bytes, expected) in [
            (vec![0x05], Ok(Some(5))),
            (vec![0xc0], Ok(None)),
            (vec![0xcd, 0x01, 0x00], Ok(Some(256))),
            (vec![0xd0, 0x05], Ok(Some(5))),
            (vec![0xff], Err(())),
            (vec![0xd1, 0xff, 0x00], Err(())),
        ] {
            assert_eq!(Reader::new(&bytes).optional_u64(), expected, "{bytes:?}");
        }
    }
}
