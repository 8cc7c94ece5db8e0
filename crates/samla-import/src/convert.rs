//! Turning one cell's text into the JSON value a field takes: counts into numbers, local
//! dates into RFC 3339 UTC instants, "ja"/"nej" into booleans, lists split on a separator.
//! Only what a cell cannot say by itself is decided here; whether the value is *allowed*
//! (a negative count, an unknown category) is left to the contract's decoder.

use jiff::civil;
use jiff::tz::TimeZone;
use serde_json::Value;

use crate::fields::FieldType;

/// Separators a list cell is split on when the mapping does not name one.
pub(crate) const DEFAULT_LIST_SEPARATORS: &[char] = &[',', ';'];

/// What every conversion needs to know about the file.
#[derive(Debug, Clone)]
pub(crate) struct Context {
    /// Dates and times without a zone are local time here.
    pub time_zone: TimeZone,
}

/// The value of a non-empty cell as a field of type `ty`.
pub(crate) fn convert(
    text: &str,
    ty: &FieldType,
    separator: Option<&str>,
    context: &Context,
) -> Result<Value, String> {
    let text = text.trim();
    match ty {
        FieldType::Text | FieldType::Object => Ok(Value::String(text.to_string())),
        FieldType::Integer => integer(text),
        FieldType::Number => number(text),
        FieldType::Boolean => boolean(text),
        FieldType::Timestamp => timestamp(text, &context.time_zone).map(Value::String),
        FieldType::List(item) => {
            let parts: Vec<&str> = match separator {
                Some(separator) => text.split(separator).collect(),
                None => text.split(DEFAULT_LIST_SEPARATORS).collect(),
            };
            parts
                .into_iter()
                .map(str::trim)
                .filter(|part| !part.is_empty())
                .map(|part| convert(part, item, None, context))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array)
        }
    }
}

/// Spreadsheets and Swedish habits write `1 234`, `3,0` and `3.0` for whole numbers.
fn integer(text: &str) -> Result<Value, String> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if let Ok(whole) = compact.parse::<i64>() {
        return Ok(Value::from(whole));
    }
    match compact.replace(',', ".").parse::<f64>() {
        Ok(float) if float.is_finite() && float.fract() == 0.0 && float.abs() < 9.0e15 => {
            // Exact: a whole float below 2^53 converts without loss.
            Ok(Value::from(float as i64))
        }
        // A fraction goes on as a fraction: the contract refuses it for a count, naming it.
        Ok(float) if float.is_finite() => Ok(Value::from(float)),
        _ => Err(format!("{text:?} is not a whole number")),
    }
}

fn number(text: &str) -> Result<Value, String> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    match compact.replace(',', ".").parse::<f64>() {
        Ok(float) if float.is_finite() => Ok(Value::from(float)),
        _ => Err(format!("{text:?} is not a number")),
    }
}

fn boolean(text: &str) -> Result<Value, String> {
    match text.to_lowercase().as_str() {
        "true" | "yes" | "ja" | "sant" | "1" | "x" | "y" | "j" => Ok(Value::Bool(true)),
        "false" | "no" | "nej" | "falskt" | "0" | "n" => Ok(Value::Bool(false)),
        _ => Err(format!(
            "{text:?} is not yes or no (write ja/nej, yes/no, true/false, 1/0 or x)"
        )),
    }
}

/// An instant from RFC 3339 with a zone, or a local date / date and time in `zone`.
pub(crate) fn timestamp(text: &str, zone: &TimeZone) -> Result<String, String> {
    if let Ok(instant) = text.parse::<jiff::Timestamp>() {
        return Ok(instant.to_string());
    }
    let local = text.parse::<civil::DateTime>().or_else(|_| {
        text.parse::<civil::Date>()
            .map(|date| date.to_datetime(civil::Time::midnight()))
    });
    match local {
        Ok(local) => local
            .to_zoned(zone.clone())
            .map(|zoned| zoned.timestamp().to_string())
            .map_err(|error| format!("{text:?} cannot be placed in time: {error}")),
        Err(_) => Err(format!(
            "{text:?} is not a date: write 2026-03-01, 2026-03-01 09:30 (local time) or 2026-03-01T08:30:00Z"
        )),
    }
}

/// A time zone by IANA name (`Europe/Stockholm`, `UTC`).
pub(crate) fn time_zone(name: &str) -> Result<TimeZone, String> {
    TimeZone::get(name).map_err(|error| {
        format!("unknown time zone {name:?} (use an IANA name such as \"Europe/Stockholm\" or \"UTC\"): {error}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> Context {
        Context {
            time_zone: time_zone("Europe/Stockholm").expect("zone"),
        }
    }

    fn convert_ok(text: &str, ty: &FieldType) -> Value {
        convert(text, ty, None, &context()).expect("converts")
    }

    #[test]
    fn numbers_as_people_write_them() {
        assert_eq!(convert_ok("12", &FieldType::Integer), Value::from(12));
        assert_eq!(
            convert_ok(" 1 234 ", &FieldType::Integer),
            Value::from(1234)
        );
        assert_eq!(convert_ok("3,0", &FieldType::Integer), Value::from(3));
        assert_eq!(convert_ok("-3", &FieldType::Integer), Value::from(-3));
        assert_eq!(convert_ok("2.5", &FieldType::Integer), Value::from(2.5));
        assert!(convert("tre", &FieldType::Integer, None, &context()).is_err());
        assert!(convert("inf", &FieldType::Integer, None, &context()).is_err());
    }

    #[test]
    fn booleans_in_swedish_and_english() {
        assert_eq!(convert_ok("Ja", &FieldType::Boolean), Value::Bool(true));
        assert_eq!(convert_ok("nej", &FieldType::Boolean), Value::Bool(false));
        assert_eq!(convert_ok("x", &FieldType::Boolean), Value::Bool(true));
        assert!(convert("kanske", &FieldType::Boolean, None, &context()).is_err());
    }

    #[test]
    fn local_dates_are_placed_in_the_zone() {
        let ts = |text: &str| convert_ok(text, &FieldType::Timestamp);
        // Stockholm is UTC+1 in winter and UTC+2 in summer.
        assert_eq!(ts("2026-03-01"), Value::from("2026-02-28T23:00:00Z"));
        assert_eq!(ts("2026-03-01 09:30"), Value::from("2026-03-01T08:30:00Z"));
        assert_eq!(
            ts("2026-07-01T09:30:00"),
            Value::from("2026-07-01T07:30:00Z")
        );
        assert_eq!(
            ts("2026-03-01T09:30:00Z"),
            Value::from("2026-03-01T09:30:00Z")
        );
        assert_eq!(
            ts("2026-03-01T09:30:00+01:00"),
            Value::from("2026-03-01T08:30:00Z")
        );
        for bad in ["2026-02-30", "1/3/2026", "igår", "2026-13-01 10:00"] {
            assert!(
                convert(bad, &FieldType::Timestamp, None, &context()).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn lists_split_on_the_separator() {
        let list = FieldType::List(Box::new(FieldType::Text));
        assert_eq!(
            convert_ok("family, pets;", &list),
            serde_json::json!(["family", "pets"])
        );
        assert_eq!(
            convert("a, b | c", &list, Some("|"), &context()).expect("list"),
            serde_json::json!(["a, b", "c"])
        );
    }
}
