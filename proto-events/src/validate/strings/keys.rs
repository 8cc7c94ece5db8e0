//! Map keys for the string scan: which keys `serde_json::to_value` accepts. The JSON walk
//! does not check keys, so neither does the scan; but where `to_value` refuses a key, the
//! walk reports that, so the scan must answer unsure there.

use std::fmt::{self, Display, Write as _};

use serde::Serialize;
use serde::ser::{self, Impossible};

use super::{Stop, UNSURE};

/// Accepts the map keys serde_json's `MapKeySerializer` turns into strings, and answers
/// unsure for the rest (which `to_value` refuses with "key must be a string").
pub(super) struct KeyProbe;

/// Swallows a key's `collect_str` output: only whether `Display` succeeds matters.
struct Discard;

impl fmt::Write for Discard {
    fn write_str(&mut self, _: &str) -> fmt::Result {
        Ok(())
    }
}

fn finite_key(finite: bool) -> Result<(), Stop> {
    if finite { Ok(()) } else { Err(UNSURE) }
}

impl ser::Serializer for KeyProbe {
    type Ok = ();
    type Error = Stop;
    type SerializeSeq = Impossible<(), Stop>;
    type SerializeTuple = Impossible<(), Stop>;
    type SerializeTupleStruct = Impossible<(), Stop>;
    type SerializeTupleVariant = Impossible<(), Stop>;
    type SerializeMap = Impossible<(), Stop>;
    type SerializeStruct = Impossible<(), Stop>;
    type SerializeStructVariant = Impossible<(), Stop>;

    accept!(
        serialize_bool: bool,
        serialize_i8: i8,
        serialize_i16: i16,
        serialize_i32: i32,
        serialize_i64: i64,
        serialize_i128: i128,
        serialize_u8: u8,
        serialize_u16: u16,
        serialize_u32: u32,
        serialize_u64: u64,
        serialize_u128: u128,
        serialize_char: char,
    );
    fn serialize_f32(self, value: f32) -> Result<(), Stop> {
        finite_key(value.is_finite())
    }
    fn serialize_f64(self, value: f64) -> Result<(), Stop> {
        finite_key(value.is_finite())
    }
    fn serialize_str(self, _: &str) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, _: &'static str) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Stop> {
        value.serialize(self)
    }
    fn collect_str<T: Display + ?Sized>(self, value: &T) -> Result<(), Stop> {
        write!(Discard, "{value}").map_err(|_| UNSURE)
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<(), Stop> {
        Err(UNSURE)
    }
    fn serialize_none(self) -> Result<(), Stop> {
        Err(UNSURE)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<(), Stop> {
        Err(UNSURE)
    }
    fn serialize_unit(self) -> Result<(), Stop> {
        Err(UNSURE)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Stop> {
        Err(UNSURE)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), Stop> {
        Err(UNSURE)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Stop> {
        Err(UNSURE)
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Stop> {
        Err(UNSURE)
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Stop> {
        Err(UNSURE)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Stop> {
        Err(UNSURE)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Stop> {
        Err(UNSURE)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Stop> {
        Err(UNSURE)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Stop> {
        Err(UNSURE)
    }
}
