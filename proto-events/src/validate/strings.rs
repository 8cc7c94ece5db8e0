//! A quick answer to "does any string in this value hold personal data?", for the guard
//! over an event's payload.
//!
//! Why it exists: the guard names the field at fault by walking the payload as a
//! `serde_json::Value`, and building, walking and dropping that tree was most of the cost
//! of [`crate::Envelope::validate`] — which the projector runs on every event of the log on
//! every rebuild, although almost every event is clean. This module is a
//! [`serde::Serializer`] that allocates no tree: it is handed the payload's values one by
//! one and asks [`find_personal_data`] about every string the JSON walk would check. When
//! it finds nothing the payload is clean; otherwise the caller runs the JSON walk, which
//! alone shapes the error (field path, reason), so errors stay exactly what they were.
//!
//! It must never say [`Scan::Clean`] where the walk would refuse, so it follows
//! `serde_json::to_value` (serde_json 1.0, `src/value/ser.rs`) call for call:
//! - strings, chars, unit-variant names and `collect_str` output become JSON strings, and
//!   are checked; numbers, bools, bytes (an array of numbers), units and `None` are not;
//! - struct fields, map values, sequence elements and the data of newtypes, `Some`, and
//!   newtype, tuple and struct variants are followed; map keys and variant names of variants
//!   with data become object keys, which the walk does not check, so neither does this;
//! - wherever `to_value` fails or panics (a map key that is not a string, number, bool,
//!   char or unit variant; a non-finite float key; a 128-bit integer beyond 64 bits; an
//!   error from a `Serialize` or `Display` impl; a value before its key) and at serde_json's
//!   private struct tokens (raw values, arbitrary-precision numbers), it answers
//!   [`Scan::Unsure`] and lets the walk decide.
//!
//! Where the two could differ — a map or struct with a key twice, whose earlier value the
//! JSON object drops — this scan checks more strings than the walk, never fewer; the walk
//! then has the last word.
//!
//! Layout: this file, the scanner over values; `strings/keys.rs`, which map keys
//! `to_value` accepts; `strings/tests.rs`, the scan over every shape of the serde data
//! model (the scan over real payloads is tested in `validate/tests.rs`).

use std::fmt::{self, Display, Write as _};

use serde::Serialize;
use serde::ser;

use crate::guard::find_personal_data;

#[cfg(test)]
mod tests;

/// What [`scan_strings`] saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scan {
    /// No string the JSON walk checks holds personal data, and `serde_json::to_value`
    /// succeeds: the walk would find nothing.
    Clean,
    /// A string holds personal data: the walk will say where.
    PersonalData,
    /// The value does something this scan does not follow exactly (see the module's
    /// comment): the walk must decide.
    Unsure,
}

/// Scans every string `value` serializes, stopping at the first that holds personal data.
pub(crate) fn scan_strings<T: Serialize + ?Sized>(value: &T) -> Scan {
    let mut scanner = Scanner {
        formatted: String::new(),
        key_pending: false,
    };
    match value.serialize(&mut scanner) {
        Ok(()) => Scan::Clean,
        Err(Stop(scan)) => scan,
    }
}

/// The "error" that ends a scan early, carrying the answer.
#[derive(Debug)]
struct Stop(Scan);

impl Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "string scan stopped: {:?}", self.0)
    }
}

impl std::error::Error for Stop {}

impl ser::Error for Stop {
    /// A `Serialize` impl failed: `to_value` fails too, and the walk reports it.
    fn custom<T: Display>(_message: T) -> Self {
        Stop(Scan::Unsure)
    }
}

const UNSURE: Stop = Stop(Scan::Unsure);

/// serde_json's private struct names, which `to_value` turns into a parsed raw value or a
/// number rather than an object (with its `raw_value` / `arbitrary_precision` features).
const SERDE_JSON_TOKENS: [&str; 2] = [
    "$serde_json::private::RawValue",
    "$serde_json::private::Number",
];

/// Serializer methods for values that hold no string: nothing to check.
macro_rules! accept {
    ($($method:ident: $type:ty),+ $(,)?) => {
        $(fn $method(self, _: $type) -> Result<(), Stop> {
            Ok(())
        })+
    };
}

// Declared after `accept!`, which it uses.
mod keys;

use keys::KeyProbe;

struct Scanner {
    /// Reused for `collect_str` (timestamps), so formatting allocates once per scan.
    formatted: String,
    /// A map key was given and its value not yet: `to_value` panics on a value without one.
    key_pending: bool,
}

fn check(text: &str) -> Result<(), Stop> {
    match find_personal_data(text) {
        None => Ok(()),
        Some(_) => Err(Stop(Scan::PersonalData)),
    }
}

/// `to_value` keeps a 128-bit integer only when it fits in a `u64` or an `i64`.
fn fits_json_number(fits_u64: bool, fits_i64: bool) -> Result<(), Stop> {
    if fits_u64 || fits_i64 {
        Ok(())
    } else {
        Err(UNSURE)
    }
}

impl ser::Serializer for &mut Scanner {
    type Ok = ();
    type Error = Stop;
    type SerializeSeq = Self;
    type SerializeTuple = Self;
    type SerializeTupleStruct = Self;
    type SerializeTupleVariant = Self;
    type SerializeMap = Self;
    type SerializeStruct = Self;
    type SerializeStructVariant = Self;

    // Numbers and bools become JSON numbers and bools (a non-finite float `null`).
    accept!(
        serialize_bool: bool,
        serialize_i8: i8,
        serialize_i16: i16,
        serialize_i32: i32,
        serialize_i64: i64,
        serialize_u8: u8,
        serialize_u16: u16,
        serialize_u32: u32,
        serialize_u64: u64,
        serialize_f32: f32,
        serialize_f64: f64,
    );
    fn serialize_i128(self, value: i128) -> Result<(), Stop> {
        fits_json_number(u64::try_from(value).is_ok(), i64::try_from(value).is_ok())
    }
    fn serialize_u128(self, value: u128) -> Result<(), Stop> {
        fits_json_number(u64::try_from(value).is_ok(), false)
    }
    fn serialize_char(self, value: char) -> Result<(), Stop> {
        check(value.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, value: &str) -> Result<(), Stop> {
        check(value)
    }
    /// Bytes become an array of numbers.
    fn serialize_bytes(self, _: &[u8]) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_none(self) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Stop> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Stop> {
        Ok(())
    }
    /// A unit variant becomes the string of its name, which the walk checks.
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), Stop> {
        check(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Stop> {
        value.serialize(self)
    }
    /// `{variant: value}`: the name is a key, the value is followed.
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        value: &T,
    ) -> Result<(), Stop> {
        value.serialize(self)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self, Stop> {
        Ok(self)
    }
    fn serialize_tuple(self, _: usize) -> Result<Self, Stop> {
        Ok(self)
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self, Stop> {
        Ok(self)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self, Stop> {
        Ok(self)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self, Stop> {
        Ok(self)
    }
    fn serialize_struct(self, name: &'static str, _: usize) -> Result<Self, Stop> {
        if SERDE_JSON_TOKENS.contains(&name) {
            return Err(UNSURE);
        }
        Ok(self)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self, Stop> {
        Ok(self)
    }
    /// Timestamps come this way: formatted into a reused buffer, then checked. A failing
    /// `Display` makes `to_value` panic; the walk does that, not this scan.
    fn collect_str<T: Display + ?Sized>(self, value: &T) -> Result<(), Stop> {
        self.formatted.clear();
        write!(self.formatted, "{value}").map_err(|_| UNSURE)?;
        check(&self.formatted)
    }
}

/// The compound parts of a value: each element or field is scanned like a value.
macro_rules! scan_parts {
    ($($part:ident: $method:ident),* $(,)?) => {$(
        impl ser::$part for &mut Scanner {
            type Ok = ();
            type Error = Stop;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
                value.serialize(&mut **self)
            }
            fn end(self) -> Result<(), Stop> {
                Ok(())
            }
        }
    )*};
}

/// The same for fields with names (the walk reads only values).
macro_rules! scan_named_parts {
    ($($part:ident),* $(,)?) => {$(
        impl ser::$part for &mut Scanner {
            type Ok = ();
            type Error = Stop;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                _: &'static str,
                value: &T,
            ) -> Result<(), Stop> {
                value.serialize(&mut **self)
            }
            fn end(self) -> Result<(), Stop> {
                Ok(())
            }
        }
    )*};
}

scan_parts!(
    SerializeSeq: serialize_element,
    SerializeTuple: serialize_element,
    SerializeTupleStruct: serialize_field,
    SerializeTupleVariant: serialize_field,
);
scan_named_parts!(SerializeStruct, SerializeStructVariant);

impl ser::SerializeMap for &mut Scanner {
    type Ok = ();
    type Error = Stop;
    /// Keys are not checked (the walk reads only values), but one `to_value` refuses is
    /// reported as unsure, so that the walk reports the refusal.
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Stop> {
        key.serialize(KeyProbe)?;
        self.key_pending = true;
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
        if !std::mem::take(&mut self.key_pending) {
            return Err(UNSURE);
        }
        value.serialize(&mut **self)
    }
    fn end(self) -> Result<(), Stop> {
        Ok(())
    }
}
