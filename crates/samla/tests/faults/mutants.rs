//! The bad input of the bad-input test: broken-on-purpose items (each must be refused with
//! a named error), random mutations (stored if still valid, else refused), and whole
//! bodies that cannot be read, for JSON and for MessagePack. Seeded, so a failing case can
//! be repeated.

use proto_events::Kind;
use rand::Rng as _;
use rand::seq::IndexedRandom as _;
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use crate::common::{envelope, json_of};

pub const INCIDENT: &str = "bad-input-at-scale";
pub const ORG: &str = "alfa";

/// What an item must get back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// A valid event: stored.
    Stored,
    /// Broken on purpose: refused, with a code and a reason.
    Refused,
    /// A random mutation: stored if it happens to be valid, else refused with a reason.
    Either,
}

/// One item of a request, as JSON (both doors) or as raw MessagePack (NATS only).
pub struct Item {
    pub json: Option<Value>,
    pub msgpack: Vec<u8>,
    pub expect: Expect,
    pub what: String,
    /// The event id of a valid item.
    pub id: Option<String>,
}

impl Item {
    pub fn valid(n: usize) -> Item {
        let event = envelope(Kind::NeedRaised, INCIDENT, ORG, &format!("need-valid-{n}"));
        let value = json_of(&event);
        Item {
            msgpack: rmp_serde::to_vec_named(&value).expect("MessagePack"),
            json: Some(value),
            expect: Expect::Stored,
            what: "valid".into(),
            id: Some(event.id.to_string()),
        }
    }

    pub fn bad(value: Value, expect: Expect, what: impl Into<String>) -> Item {
        Item {
            msgpack: rmp_serde::to_vec_named(&value).expect("MessagePack"),
            json: Some(value),
            expect,
            what: what.into(),
            id: None,
        }
    }

    /// An item only MessagePack can express.
    pub fn raw(bytes: Vec<u8>, what: &str) -> Item {
        Item {
            json: None,
            msgpack: bytes,
            expect: Expect::Refused,
            what: what.into(),
            id: None,
        }
    }
}

/// One bad item: broken on purpose (refused) or randomly mutated (either).
pub fn bad_item(rng: &mut ChaCha8Rng, over_nats: bool) -> Item {
    let base = json_of(&envelope(
        Kind::NeedRaised,
        INCIDENT,
        ORG,
        &format!("need-bad-{}", rng.random::<u32>()),
    ));
    let choice = rng.random_range(0..if over_nats { 13 } else { 12 });
    match choice {
        0 => {
            let field = *[
                "id",
                "kind",
                "v",
                "incident",
                "org",
                "aggregate",
                "occurred_at",
                "payload",
            ]
            .choose(rng)
            .expect("a field");
            let wrong = [json!(42), json!(true), json!([]), json!({}), json!(-1.5)]
                .choose(rng)
                .expect("a value")
                .clone();
            let wrong = match (field, &wrong) {
                // A number is the right type for `v`: use a string there.
                ("v", Value::Number(_)) => json!("one"),
                ("payload", Value::Object(_)) => json!("payload"),
                _ => wrong,
            };
            Item::bad(
                set(base, &[field], wrong),
                Expect::Refused,
                format!("wrong type of {field}"),
            )
        }
        1 => {
            let field = *[
                "kind",
                "v",
                "incident",
                "aggregate",
                "occurred_at",
                "payload",
                "id",
            ]
            .choose(rng)
            .expect("a field");
            let mut value = base;
            value.as_object_mut().expect("an object").remove(field);
            Item::bad(value, Expect::Refused, format!("missing {field}"))
        }
        2 => Item::bad(
            set(base, &["kind"], json!("need_exploded")),
            Expect::Refused,
            "unknown kind",
        ),
        3 => Item::bad(
            set(base, &["v"], json!(rng.random_range(2..10_000))),
            Expect::Refused,
            "a future version",
        ),
        4 => {
            let hostile = *[
                "a.b",
                "*",
                ">",
                "need x",
                "nöd",
                "../../etc",
                "samla.evt.>",
                "A-UPPER",
                "",
                "tab\there",
                "nul\u{0}byte",
            ]
            .choose(rng)
            .expect("an id");
            let long = "x".repeat(rng.random_range(200..2_000));
            let hostile = if rng.random_ratio(1, 5) {
                long.as_str()
            } else {
                hostile
            };
            let path: &[&str] = [
                &["aggregate", "id"][..],
                &["incident"][..],
                &["org"][..],
                &["area"][..],
            ]
            .choose(rng)
            .expect("a path");
            Item::bad(
                set(base, path, json!(hostile)),
                Expect::Refused,
                format!("hostile identifier {hostile:.40?} at {path:?}"),
            )
        }
        5 => {
            let personal = *[
                "Kontakta 19121212-1212 om tolken",
                "Personnummer 121212-1212",
                "ring 070-123 45 67",
                "mejla anna.svensson@example.se",
                "+46 70 123 45 67",
            ]
            .choose(rng)
            .expect("personal data");
            Item::bad(
                set(base, &["payload", "note"], json!(personal)),
                Expect::Refused,
                format!("personal data {personal:?}"),
            )
        }
        6 => {
            let huge = "å".repeat(rng.random_range(20_000..150_000));
            let path: &[&str] = [&["payload", "note"][..], &["function"][..], &["id"][..]]
                .choose(rng)
                .expect("a path");
            Item::bad(
                set(base, path, json!(huge)),
                Expect::Refused,
                format!("a huge string at {path:?}"),
            )
        }
        7 => Item::bad(
            set(base, &["org"], json!("bravo")),
            Expect::Refused,
            "another organisation's envelope",
        ),
        8 => {
            let value = [
                json!(42),
                json!("an event"),
                json!(null),
                json!([1, 2]),
                json!(true),
                json!({}),
            ]
            .choose(rng)
            .expect("a value")
            .clone();
            Item::bad(
                value.clone(),
                Expect::Refused,
                format!("not an envelope: {value}"),
            )
        }
        9 => {
            let (path, value): (&[&str], Value) = [
                (&["id"][..], json!("not-a-uuid")),
                (&["id"][..], json!("'; DROP TABLE events; --")),
                (&["occurred_at"][..], json!("yesterday")),
                (&["occurred_at"][..], json!("2026-03-03T07:45:00")),
                (&["occurred_at"][..], json!("9999-12-31T23:59:59Z")),
                (&["occurred_at"][..], json!("2026-13-45T99:00:00Z")),
                (&["payload", "quantity"][..], json!(-5)),
                (&["payload", "quantity"][..], json!(u64::MAX)),
                (&["payload", "category"][..], json!("unicorns")),
            ]
            .choose(rng)
            .expect("a case")
            .clone();
            Item::bad(
                set(base, path, value.clone()),
                Expect::Refused,
                format!("{value} at {path:?}"),
            )
        }
        10 => {
            // Nesting where a string belongs, within the contract's depth (deeper nesting
            // is a whole-request refusal on the NATS door: see the unreadable bodies).
            let mut nested = json!("deep");
            for _ in 0..rng.random_range(3..14) {
                nested = json!([nested]);
            }
            Item::bad(
                set(base, &["payload", "note"], nested),
                Expect::Refused,
                "nested arrays as a note",
            )
        }
        11 => {
            let mut value = base;
            let mutations = rng.random_range(1..=3);
            for _ in 0..mutations {
                mutate(&mut value, rng);
            }
            // Keep mutants in this incident and organisation, so the checks stay whole.
            value["incident"] = json!(INCIDENT);
            value["org"] = json!(ORG);
            Item::bad(value, Expect::Either, "a random mutation")
        }
        _ => {
            // What only MessagePack can say.
            let cases: [(&str, Vec<u8>); 5] = [
                ("a map with integer keys", vec![0x81, 0x01, 0xa1, b'x']),
                (
                    "a binary id",
                    vec![0x81, 0xa2, b'i', b'd', 0xc4, 0x03, 1, 2, 3],
                ),
                ("an ext value", vec![0xd4, 0x01, 0x00]),
                ("nil", vec![0xc0]),
                ("a NaN version", {
                    let mut bytes = vec![0x81, 0xa1, b'v', 0xcb];
                    bytes.extend_from_slice(&f64::NAN.to_be_bytes());
                    bytes
                }),
            ];
            let (what, bytes) = cases.choose(rng).expect("a case").clone();
            Item::raw(bytes, what)
        }
    }
}

/// `value` with the field at `path` set (objects created on the way as needed).
fn set(mut value: Value, path: &[&str], new: Value) -> Value {
    let mut slot = &mut value;
    for key in path {
        if !slot.is_object() {
            *slot = json!({});
        }
        slot = slot
            .as_object_mut()
            .expect("an object")
            .entry(key.to_string())
            .or_insert(Value::Null);
    }
    *slot = new;
    value
}

/// Replaces one random leaf (or removes one random key) of `value`.
fn mutate(value: &mut Value, rng: &mut ChaCha8Rng) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            let keys: Vec<String> = map.keys().cloned().collect();
            let key = keys.choose(rng).expect("a key").clone();
            if rng.random_ratio(1, 6) {
                map.remove(&key);
            } else if let Some(child) = map.get_mut(&key) {
                if child.is_object() && rng.random_bool(0.7) {
                    mutate(child, rng);
                } else {
                    *child = random_value(rng);
                }
            }
        }
        other => *other = random_value(rng),
    }
}

fn random_value(rng: &mut ChaCha8Rng) -> Value {
    match rng.random_range(0..9) {
        0 => json!(null),
        1 => json!(rng.random::<bool>()),
        2 => json!(rng.random::<i64>()),
        3 => json!(rng.random::<f64>() * 1e6),
        4 => json!(u64::MAX),
        5 => json!(""),
        6 => {
            let length = rng.random_range(1..40);
            let text: String = (0..length)
                .map(|_| char::from_u32(rng.random_range(0x20..0x2fff)).unwrap_or('?'))
                .collect();
            json!(text)
        }
        7 => json!(["x", 1, null]),
        _ => json!({ "unexpected": true }),
    }
}

/// A JSON body that cannot be read as a request.
pub fn bad_json_body(rng: &mut ChaCha8Rng) -> (Vec<u8>, String) {
    let valid = json!([json_of(&envelope(
        Kind::NeedRaised,
        INCIDENT,
        ORG,
        "need-cut"
    ))])
    .to_string();
    match rng.random_range(0..8) {
        0 => {
            let cut = rng.random_range(1..valid.len() - 1);
            let mut bytes = valid.into_bytes();
            bytes.truncate(cut);
            (bytes, format!("JSON cut at byte {cut}"))
        }
        1 => {
            let bytes: Vec<u8> = (0..rng.random_range(1..2_000))
                .map(|_| rng.random())
                .collect();
            (bytes, "random bytes".into())
        }
        2 => {
            let depth = rng.random_range(200..100_000);
            (
                "[".repeat(depth).into_bytes(),
                format!("{depth} open brackets"),
            )
        }
        3 => (Vec::new(), "an empty body".into()),
        4 => (b"[]".to_vec(), "an empty array".into()),
        5 => (
            [b"[".as_slice(), &[0xff, 0xfe, 0xc3], b"]"].concat(),
            "invalid UTF-8".into(),
        ),
        6 => (
            format!("[{}]", vec!["1"; 1_001].join(",")).into_bytes(),
            "1,001 items".into(),
        ),
        _ => (
            format!("\"{}\"", "x".repeat(5 * 1024 * 1024)).into_bytes(),
            "a 5 MiB body".into(),
        ),
    }
}

/// A MessagePack body that cannot be read as a request.
pub fn bad_msgpack_body(rng: &mut ChaCha8Rng) -> (Vec<u8>, String) {
    let valid = rmp_serde::to_vec_named(&json!([json_of(&envelope(
        Kind::NeedRaised,
        INCIDENT,
        ORG,
        &format!("need-mut-{}", rng.random::<u32>())
    ))]))
    .expect("MessagePack");
    match rng.random_range(0..9) {
        0 => {
            let cut = rng.random_range(1..valid.len() - 1);
            (
                valid[..cut].to_vec(),
                format!("MessagePack cut at byte {cut}"),
            )
        }
        1 => {
            let bytes: Vec<u8> = (0..rng.random_range(1..2_000))
                .map(|_| rng.random())
                .collect();
            (bytes, "random bytes".into())
        }
        2 => {
            let depth = rng.random_range(200..100_000);
            (vec![0x91; depth], format!("{depth} nested arrays"))
        }
        3 => (
            vec![0xdd, 0xff, 0xff, 0xff, 0xff],
            "an array claiming 4 billion items".into(),
        ),
        4 => (
            vec![0x91, 0xdf, 0xff, 0xff, 0xff, 0xff],
            "a map claiming 4 billion entries".into(),
        ),
        5 => (
            vec![0x91, 0xdb, 0xff, 0xff, 0xff, 0xff, b'x'],
            "a string claiming 4 GiB".into(),
        ),
        6 => {
            let mut bytes = valid;
            bytes.extend_from_slice(&[0xc1, 0x00, 0xff]);
            (bytes, "trailing garbage".into())
        }
        7 => (Vec::new(), "an empty body".into()),
        _ => {
            // Flip a few bytes: it may still read, as events or not.
            let mut bytes = valid;
            for _ in 0..rng.random_range(1..4) {
                let at = rng.random_range(0..bytes.len());
                bytes[at] ^= 1 << rng.random_range(0..8);
            }
            (bytes, "flipped bits".into())
        }
    }
}
