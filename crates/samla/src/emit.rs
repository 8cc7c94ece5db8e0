//! `samla emit`: events from a file or stdin, through the HTTP ingest door.

use std::io::{BufRead as _, BufReader, Read as _};

use anyhow::Context as _;
use serde_json::{Value, json};

use crate::cli::EmitArgs;
use crate::client::{self, ItemOutcome};
use crate::exit::{CliError, CliResult};

/// One input event and where it came from.
struct Line {
    number: usize,
    event: Value,
}

/// Runs `samla emit`.
pub async fn emit(args: EmitArgs) -> CliResult {
    let api = client::from_args(&args.client)?;
    let text = read_input(args.file.as_deref())?;
    let (lines, mut refused) = parse_lines(&text);
    let mut stored = 0usize;
    let mut duplicates = 0usize;
    for (number, reason) in &refused {
        report(
            args.json,
            *number,
            &json!({"error": {"code": "malformed", "reason": reason}}),
            &format!("refused: {reason}"),
        );
    }
    for chunk in lines.chunks(usize::from(args.batch)) {
        let items: Vec<Value> = chunk.iter().map(|line| line.event.clone()).collect();
        let outcomes = api.post_events(&items).await?;
        for (line, outcome) in chunk.iter().zip(outcomes) {
            match outcome {
                ItemOutcome::Stored { id, seq, duplicate } => {
                    if duplicate {
                        duplicates += 1;
                    } else {
                        stored += 1;
                    }
                    let human = if duplicate {
                        format!(
                            "{id} was already in the log at seq {seq} (duplicate, not stored again)"
                        )
                    } else {
                        format!("{id} stored at seq {seq}")
                    };
                    report(
                        args.json,
                        line.number,
                        &json!({"id": id, "seq": seq, "duplicate": duplicate}),
                        &human,
                    );
                }
                ItemOutcome::Refused {
                    id,
                    code,
                    field,
                    reason,
                } => {
                    let human = format!(
                        "refused ({code}){}: {reason}",
                        field
                            .as_deref()
                            .map(|field| format!(" field `{field}`"))
                            .unwrap_or_default()
                    );
                    report(
                        args.json,
                        line.number,
                        &json!({"id": id, "error": {"code": code, "field": field, "reason": reason}}),
                        &human,
                    );
                    refused.push((line.number, reason));
                }
            }
        }
    }
    if !args.json {
        eprintln!(
            "samla emit: {stored} stored, {duplicates} duplicates, {} refused",
            refused.len()
        );
    }
    if refused.is_empty() {
        Ok(())
    } else {
        Err(CliError::BadInput(format!(
            "{} event(s) refused (see above)",
            refused.len()
        )))
    }
}

fn report(json_output: bool, line: usize, answer: &Value, human: &str) {
    if json_output {
        let mut answer = answer.clone();
        answer["line"] = json!(line);
        println!("{answer}");
    } else {
        println!("line {line}: {human}");
    }
}

fn read_input(file: Option<&std::path::Path>) -> CliResult<String> {
    let mut text = String::new();
    match file {
        Some(path) if path != std::path::Path::new("-") => {
            let file = std::fs::File::open(path).map_err(|error| {
                crate::exit::usage(format!("cannot read {}: {error}", path.display()))
            })?;
            BufReader::new(file)
                .read_to_string(&mut text)
                .with_context(|| format!("reading {}", path.display()))?;
        }
        _ => {
            std::io::stdin()
                .lock()
                .read_to_string(&mut text)
                .context("reading stdin")?;
        }
    }
    Ok(text)
}

/// One JSON event (possibly pretty-printed over many lines), or JSON lines. Fills a
/// missing `id` with a fresh UUID v7; the server fills nothing.
fn parse_lines(text: &str) -> (Vec<Line>, Vec<(usize, String)>) {
    let mut lines = Vec::new();
    let mut refused = Vec::new();
    // A whole document that is one JSON object (or an array of them) is taken as such.
    if let Ok(value) = serde_json::from_str::<Value>(text) {
        let values = match value {
            Value::Array(values) => values,
            other => vec![other],
        };
        for (index, event) in values.into_iter().enumerate() {
            push(&mut lines, &mut refused, index + 1, event);
        }
        return (lines, refused);
    }
    for (index, line) in BufReader::new(text.as_bytes()).lines().enumerate() {
        let number = index + 1;
        let Ok(line) = line else { continue };
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        match serde_json::from_str::<Value>(&line) {
            Ok(event) => push(&mut lines, &mut refused, number, event),
            Err(error) => refused.push((number, format!("not JSON: {error}"))),
        }
    }
    (lines, refused)
}

fn push(
    lines: &mut Vec<Line>,
    refused: &mut Vec<(usize, String)>,
    number: usize,
    mut event: Value,
) {
    let Some(object) = event.as_object_mut() else {
        refused.push((number, "an event is a JSON object".into()));
        return;
    };
    // `{"event": ..., "expected_seq": N}` items pass through as they are.
    let envelope = match object.get_mut("event") {
        Some(Value::Object(inner)) => inner,
        _ => object,
    };
    if !envelope.contains_key("id") {
        envelope.insert("id".into(), json!(uuid::Uuid::now_v7().to_string()));
    }
    lines.push(Line { number, event });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lines_get_ids_and_bad_lines_are_reported_with_their_number() {
        let text = "{\"kind\":\"need_raised\"}\nnot json\n\n{\"id\":\"x\",\"kind\":\"a\"}\n[1]\n";
        let (lines, refused) = parse_lines(text);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].number, 1);
        assert!(
            lines[0].event["id"]
                .as_str()
                .is_some_and(|id| id.len() == 36)
        );
        assert_eq!(lines[1].event["id"], "x");
        assert_eq!(
            refused.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
            vec![2, 5]
        );
    }

    #[test]
    fn one_pretty_printed_event_is_one_event() {
        let text = "{\n  \"kind\": \"need_raised\",\n  \"v\": 2\n}\n";
        let (lines, refused) = parse_lines(text);
        assert_eq!(lines.len(), 1);
        assert!(refused.is_empty());
    }
}
