//! API views (the JSON the query routes answer with) to CSV and HXL CSV.
//!
//! Each row is one JSON object of a view (`items` of `/v1/incidents/{i}/needs`, …). Nested
//! objects become dotted columns (`counts.arrivals_to_date`), lists of plain values are
//! joined with `"; "`, `null` is an empty cell. A suppressed count of people
//! (`{"suppressed": true, "below": 5}`) is written `<5`: a marked non-number that no
//! spreadsheet sums by mistake, never a fake integer. Columns come in order of first
//! appearance, `id` first. With HXL, a row of hashtags follows the header; the tag of each
//! column comes from [`hxl_tag`].

use std::collections::HashMap;
use std::io::Write;

use serde_json::{Map, Value};

use crate::error::ImportError;

/// How an export is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportOptions {
    /// Add the HXL hashtag row under the header.
    pub hxl: bool,
    /// `b','` by default; `b';'` is what Swedish Excel opens without asking.
    pub delimiter: u8,
    /// Start with a UTF-8 byte-order mark, so Excel reads å, ä, ö right.
    pub excel_bom: bool,
}

impl Default for ExportOptions {
    fn default() -> Self {
        Self {
            hxl: false,
            delimiter: b',',
            excel_bom: false,
        }
    }
}

/// Writes `rows` (JSON objects) as CSV, with an HXL hashtag row when `hxl`.
pub fn to_csv(rows: &[Value], hxl: bool, out: impl Write) -> Result<(), ImportError> {
    to_csv_with(
        rows,
        &ExportOptions {
            hxl,
            ..ExportOptions::default()
        },
        out,
    )
}

/// The rows of an API answer: the answer itself when it is a list, else its `key` field
/// (`items` when `None`: the paged views; `situation_reports`, `arrivals`, … for reports).
pub fn rows_of<'a>(answer: &'a Value, key: Option<&str>) -> Result<&'a [Value], ImportError> {
    if let Value::Array(rows) = answer {
        return Ok(rows);
    }
    let key = key.unwrap_or("items");
    match answer.get(key) {
        Some(Value::Array(rows)) => Ok(rows),
        _ => Err(ImportError::NotATable {
            reason: format!("the answer has no list {key:?}"),
        }),
    }
}

/// [`to_csv`] with every option.
pub fn to_csv_with(
    rows: &[Value],
    options: &ExportOptions,
    mut out: impl Write,
) -> Result<(), ImportError> {
    let mut flat: Vec<Vec<(String, String)>> = Vec::with_capacity(rows.len());
    for (index, row) in rows.iter().enumerate() {
        let Value::Object(fields) = row else {
            return Err(ImportError::NotATable {
                reason: format!("row {} is not a JSON object", index + 1),
            });
        };
        let mut cells = Vec::new();
        flatten_object("", fields, &mut cells);
        flat.push(cells);
    }
    let mut columns: Vec<String> = Vec::new();
    let mut position: HashMap<String, usize> = HashMap::new();
    for cells in &flat {
        for (name, _) in cells {
            if !position.contains_key(name) {
                position.insert(name.clone(), columns.len());
                columns.push(name.clone());
            }
        }
    }
    if let Some(id) = columns.iter().position(|c| c == "id") {
        let id = columns.remove(id);
        columns.insert(0, id);
        position = columns
            .iter()
            .enumerate()
            .map(|(i, c)| (c.clone(), i))
            .collect();
    }
    let failed = |error: &dyn std::fmt::Display| ImportError::WriteFailed {
        reason: error.to_string(),
    };
    if options.excel_bom {
        out.write_all(b"\xef\xbb\xbf").map_err(|e| failed(&e))?;
    }
    let mut writer = csv::WriterBuilder::new()
        .delimiter(options.delimiter)
        .from_writer(out);
    writer.write_record(&columns).map_err(|e| failed(&e))?;
    if options.hxl {
        writer
            .write_record(columns.iter().map(|c| hxl_tag(c)))
            .map_err(|e| failed(&e))?;
    }
    let mut record = vec![String::new(); columns.len()];
    for cells in flat {
        record.iter_mut().for_each(String::clear);
        for (name, text) in cells {
            if let Some(index) = position.get(&name) {
                record[*index] = text;
            }
        }
        writer.write_record(&record).map_err(|e| failed(&e))?;
    }
    writer.flush().map_err(|e| failed(&e))
}

/// `{"suppressed": true, "below": N}`: the views' marked non-number.
fn suppressed_below(fields: &Map<String, Value>) -> Option<&Value> {
    (fields.len() == 2 && fields.get("suppressed") == Some(&Value::Bool(true)))
        .then(|| fields.get("below"))
        .flatten()
}

fn flatten_object(prefix: &str, fields: &Map<String, Value>, out: &mut Vec<(String, String)>) {
    for (name, value) in fields {
        let column = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        flatten(column, value, out);
    }
}

fn flatten(column: String, value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(fields) => match suppressed_below(fields) {
            Some(below) => out.push((column, format!("<{below}"))),
            None => flatten_object(&column, fields, out),
        },
        Value::Array(items) if items.iter().all(|i| !i.is_object() && !i.is_array()) => {
            let texts: Vec<String> = items.iter().map(scalar).collect();
            out.push((column, texts.join("; ")));
        }
        Value::Array(_) => out.push((column, value.to_string())),
        scalar_value => out.push((column, scalar(scalar_value))),
    }
}

fn scalar(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(text) => text.clone(),
        Value::Object(fields) => match suppressed_below(fields) {
            Some(below) => format!("<{below}"),
            None => value.to_string(),
        },
        other => other.to_string(),
    }
}

/// An HXL attribute from any name: lower case, `[a-z0-9_]`, starting with a letter.
fn attribute(name: &str) -> String {
    let mut out: String = name
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                c
            } else {
                '_'
            }
        })
        .collect();
    if !out.starts_with(|c: char| c.is_ascii_lowercase()) {
        out.insert(0, 'x');
    }
    out
}

/// The HXL hashtag for a view column (`area` → `#adm2+code`, `people` → `#affected+ind`,
/// `raised_at` → `#date+raised_at`); columns no HXL tag fits get `#meta+<name>`.
pub fn hxl_tag(column: &str) -> String {
    let (parent, name) = match column.rsplit_once('.') {
        Some((parent, name)) => (parent.rsplit('.').next().unwrap_or(parent), name),
        None => ("", column),
    };
    // Map-like groups: the key is data (a day, a need id), the group says what it counts.
    match parent {
        "per_day" => return "#affected+arrived+ind".to_string(),
        "committed_to_needs" => return "#indicator+num+committed+need".to_string(),
        "committed_to_offers" => return "#indicator+num+committed+offer".to_string(),
        "beds_available" => return format!("#capacity+beds+available+{}", attribute(name)),
        "by_severity" => return format!("#indicator+num+{}", attribute(name)),
        _ => {}
    }
    let fixed = match name {
        "id" => "#meta+id",
        "last_seq" | "report_seq" => "#meta+seq",
        "name" => "#loc+name",
        "area" => "#adm2+code",
        "kind" | "site_kind" | "housing_type" => "#loc+type",
        "owner" | "owner_org" => "#org+owner",
        "offered_by" => "#org+provider",
        "raised_by" => "#org+requester",
        "reported_by" => "#org+reporter",
        "addressed_to" => "#org+addressee",
        "claimed_by" => "#org+claimant",
        "expired_claim_by" => "#org+claimant+expired",
        "offered_to" => "#org+recipient",
        "responsible" => "#org+responsible",
        "escalated_to_org" => "#org+escalated",
        "escalated_to_forum" => "#org+forum",
        "addressed_function" | "owner_function" => "#contact+function",
        "status" | "state" => "#status",
        "capacity" => "#capacity",
        "night_only_beds" => "#capacity+night",
        "occupied" => "#capacity+occupied",
        "reserved" => "#capacity+reserved",
        "free" => "#capacity+free",
        "units" => "#capacity+units",
        "beds" => "#capacity+beds",
        "beds_taken" => "#capacity+beds+taken",
        "category" | "service" => "#sector",
        "subcategory" => "#subsector",
        "people" => "#affected+ind",
        "arrivals_this_period" => "#affected+arrived+ind",
        "arrivals_to_date" => "#affected+arrived+ind+total",
        "placed_to_date" => "#affected+placed+ind+total",
        "awaiting_placement" => "#affected+awaiting+ind",
        "unaccompanied_minors_to_date" => "#affected+unaccompanied+children+total",
        "households_this_period" => "#affected+arrived+hh",
        "urgency" => "#severity+urgency",
        "severity" => "#severity",
        "escalation_level" => "#severity+escalation",
        "highest_escalation" => "#severity+escalation+max",
        "summary" => "#description",
        "met_quantity" => "#reached+num",
        "remaining" => "#inneed+num+remaining",
        _ => "",
    };
    if !fixed.is_empty() {
        return fixed.to_string();
    }
    let attribute = attribute(name);
    let is_date = name.ends_with("_at")
        || matches!(
            name,
            "needed_by"
                | "due_by"
                | "return_by"
                | "period_from"
                | "period_to"
                | "available_from"
                | "available_until"
        );
    if is_date {
        format!("#date+{attribute}")
    } else if matches!(
        name,
        "resolution" | "consequences" | "actions_taken" | "needs" | "outlook"
    ) {
        format!("#description+{attribute}")
    } else if name.ends_with("_seconds")
        || matches!(
            name,
            "quantity"
                | "offered"
                | "committed"
                | "delivered"
                | "released"
                | "in_use"
                | "available"
                | "used"
                | "reopened"
                | "claim_quantity"
        )
    {
        format!("#indicator+num+{attribute}")
    } else if matches!(
        name,
        "overdue" | "return_overdue" | "claim_expired" | "over_capacity" | "estimated"
    ) {
        format!("#status+{attribute}")
    } else {
        format!("#meta+{attribute}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn export(rows: &[Value], hxl: bool) -> String {
        let mut out = Vec::new();
        to_csv(rows, hxl, &mut out).expect("exports");
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn nested_objects_become_dotted_columns_and_suppressed_counts_a_marker() {
        let rows = vec![
            json!({"id": "a", "counts": {"arrivals_to_date": 40, "awaiting_placement": {"suppressed": true, "below": 5}}, "tags": ["x", "y"], "note": null}),
            json!({"id": "b", "counts": {"arrivals_to_date": {"suppressed": true, "below": 5}}, "extra": true}),
        ];
        let text = export(&rows, false);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "id,counts.arrivals_to_date,counts.awaiting_placement,note,tags,extra"
        );
        assert_eq!(lines[1], "a,40,<5,,x; y,");
        assert_eq!(lines[2], "b,<5,,,,true");
    }

    #[test]
    fn hxl_tags_follow_the_header() {
        let rows = vec![
            json!({"id": "s1", "name": "Hall", "area": "1280", "capacity": 40, "people": 3, "raised_at": "2026-03-01T08:00:00Z", "per_day": {"2026-03-01": 2}}),
        ];
        let text = export(&rows, true);
        let tags = text.lines().nth(1).expect("tag row");
        assert_eq!(
            tags,
            "#meta+id,#adm2+code,#capacity,#loc+name,#affected+ind,#affected+arrived+ind,#date+raised_at"
        );
        for tag in tags.split(',') {
            assert!(crate::hxl::parse_hashtag(tag).is_some(), "{tag}");
        }
        assert_eq!(
            hxl_tag("committed_to_needs.imp-abc"),
            "#indicator+num+committed+need"
        );
        assert_eq!(
            hxl_tag("beds_available.intensive_care"),
            "#capacity+beds+available+intensive_care"
        );
        assert_eq!(hxl_tag("weird-Name"), "#meta+weird_name");
        assert_eq!(hxl_tag("2x"), "#meta+x2x");
    }

    #[test]
    fn rows_are_found_in_api_answers() {
        let answer = json!({"total": 1, "items": [{"id": "n1"}], "next_cursor": null});
        assert_eq!(rows_of(&answer, None).expect("items").len(), 1);
        assert!(rows_of(&answer, Some("alerts")).is_err());
        assert!(to_csv(&[json!(3)], false, Vec::new()).is_err());
    }
}
