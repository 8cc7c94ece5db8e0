//! `samla import`: rows of a CSV, HXL-tagged CSV or spreadsheet, through a TOML column
//! mapping, into events sent through the HTTP ingest door as the caller. A bad row never
//! stops the good ones: each is reported with its line, field and reason. Event ids come
//! from the rows (see `samla-import`), so importing the same file again adds nothing.

use std::io::Write as _;

use indicatif::{ProgressBar, ProgressStyle};
use samla_import::{Importer, Mapping, Row};
use serde_json::{Value, json};

use crate::cli::ImportArgs;
use crate::client::{self, ItemOutcome};
use crate::exit::{CliError, CliResult, usage};

/// Rows per request.
const BATCH: usize = 200;

/// One refused row.
struct Refusal {
    line: u64,
    field: String,
    column: Option<String>,
    reason: String,
}

/// Runs `samla import`.
pub async fn import(args: ImportArgs) -> CliResult {
    let text = std::fs::read_to_string(&args.mapping)
        .map_err(|error| usage(format!("--mapping {}: {error}", args.mapping.display())))?;
    let mapping = Mapping::from_toml(&text)
        .map_err(|error| usage(format!("--mapping {}: {error}", args.mapping.display())))?;
    let open = || -> CliResult<Importer> {
        if args.file.as_os_str() == "-" {
            Importer::from_csv_reader(std::io::stdin(), &mapping)
                .map_err(|error| CliError::BadInput(format!("stdin: {error}")))
        } else {
            Importer::open(&args.file, &mapping)
                .map_err(|error| CliError::BadInput(format!("{}: {error}", args.file.display())))
        }
    };
    let importer = open()?;
    if args.dry_run {
        let summary = importer.dry_run(usize::MAX);
        if args.json {
            let errors: Vec<Value> = summary.errors.iter().map(|e| json!({"line": e.line, "field": e.field, "column": e.column, "code": e.code, "reason": e.reason})).collect();
            println!(
                "{}",
                json!({"rows": summary.rows, "valid": summary.valid, "refused": summary.errors_total, "errors": errors})
            );
        } else {
            println!(
                "Dry run: {} rows, {} valid, {} refused (nothing was sent).",
                summary.rows, summary.valid, summary.errors_total
            );
            for error in &summary.errors {
                println!(
                    "  line {}: {}{}: {}",
                    error.line,
                    error.field,
                    error
                        .column
                        .as_deref()
                        .map(|c| format!(" (column {c})"))
                        .unwrap_or_default(),
                    error.reason
                );
            }
        }
        return if summary.errors_total == 0 {
            Ok(())
        } else {
            Err(CliError::BadInput(format!(
                "{} rows would be refused",
                summary.errors_total
            )))
        };
    }

    let api = client::from_args(&args.client)?;
    let progress = if !args.json && std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        let bar = ProgressBar::new(importer.rows_hint().unwrap_or(0));
        bar.set_style(
            ProgressStyle::with_template("import {bar:40} {pos}/{len} rows {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let (mut stored, mut duplicates, mut rows) = (0u64, 0u64, 0u64);
    let mut refused: Vec<Refusal> = Vec::new();
    let mut batch: Vec<(u64, Value)> = Vec::with_capacity(BATCH);
    let mut importer = importer;
    loop {
        let next: Option<Row> = importer.next();
        let done = next.is_none();
        if let Some(row) = next {
            rows += 1;
            match row.result {
                Ok(envelope) => {
                    let event: Value = serde_json::from_str(&proto_events::encode_json(&envelope))
                        .map_err(|error| {
                            CliError::Failed(anyhow::anyhow!("encoding line {}: {error}", row.line))
                        })?;
                    batch.push((row.line, event));
                }
                Err(error) => refused.push(Refusal {
                    line: error.line,
                    field: error.field.clone(),
                    column: error.column.clone(),
                    reason: error.reason.clone(),
                }),
            }
        }
        if batch.len() >= BATCH || (done && !batch.is_empty()) {
            let items: Vec<Value> = batch.iter().map(|(_, event)| event.clone()).collect();
            for ((line, _), outcome) in batch.iter().zip(api.post_events(&items).await?) {
                match outcome {
                    ItemOutcome::Stored {
                        duplicate: true, ..
                    } => duplicates += 1,
                    ItemOutcome::Stored { .. } => stored += 1,
                    ItemOutcome::Refused { field, reason, .. } => refused.push(Refusal {
                        line: *line,
                        field: field.unwrap_or_else(|| "-".into()),
                        column: None,
                        reason,
                    }),
                }
            }
            progress.inc(batch.len() as u64);
            batch.clear();
        }
        if done {
            break;
        }
    }
    progress.finish_and_clear();
    refused.sort_by_key(|refusal| refusal.line);
    if let Some(path) = &args.report {
        write_report(path, &refused)?;
    }
    if args.json {
        let errors: Vec<Value> = refused.iter().map(|r| json!({"line": r.line, "field": r.field, "column": r.column, "reason": r.reason})).collect();
        println!(
            "{}",
            json!({"rows": rows, "stored": stored, "duplicates": duplicates, "refused": refused.len(), "errors": errors})
        );
    } else {
        println!(
            "Imported {}: {rows} rows, {stored} events stored, {duplicates} already in the log, {} rows refused.",
            args.file.display(),
            refused.len()
        );
        for refusal in &refused {
            println!(
                "  line {}: {}{}: {}",
                refusal.line,
                refusal.field,
                refusal
                    .column
                    .as_deref()
                    .map(|c| format!(" (column {c})"))
                    .unwrap_or_default(),
                refusal.reason
            );
        }
    }
    if refused.is_empty() {
        Ok(())
    } else {
        Err(CliError::BadInput(format!(
            "{} rows refused",
            refused.len()
        )))
    }
}

/// The refused rows as CSV: line, field, column, reason.
fn write_report(path: &std::path::Path, refused: &[Refusal]) -> CliResult {
    let mut out = std::fs::File::create(path)
        .map_err(|error| usage(format!("--report {}: {error}", path.display())))?;
    let quote = |text: &str| format!("\"{}\"", text.replace('"', "\"\""));
    let mut text = String::from("line,field,column,reason\n");
    for refusal in refused {
        text.push_str(&format!(
            "{},{},{},{}\n",
            refusal.line,
            quote(&refusal.field),
            quote(refusal.column.as_deref().unwrap_or("")),
            quote(&refusal.reason)
        ));
    }
    out.write_all(text.as_bytes())
        .map_err(|error| CliError::Failed(anyhow::anyhow!("writing {}: {error}", path.display())))
}
