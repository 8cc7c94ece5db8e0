//! `samla verify`: the log's hash chain, exported or checked against an export.

use anyhow::Context as _;
use samla_api::nats_permissions::{ServiceRole, service_connect_options};
use samla_log::ConnectOptions;
use samla_log::chain::{self, ChainExport};
use serde_json::json;

use crate::cli::VerifyArgs;
use crate::exit::{CliError, CliResult, unavailable, usage};
use crate::local::{Credentials, LocalStack};

/// Runs `samla verify`.
pub async fn verify(args: VerifyArgs) -> CliResult {
    let earlier = match &args.against {
        Some(path) => Some(read_export(path)?),
        None => None,
    };
    let every = earlier.as_ref().map_or(args.every, |export| export.every);
    let log = open_as_projector(&args.connection).await?;
    let show_progress = !args.json && std::io::IsTerminal::is_terminal(&std::io::stderr());
    let actual = chain::compute(
        &log,
        every,
        args.fingerprints || earlier.as_ref().is_some_and(|e| e.fingerprints.is_some()),
        |seq| {
            if show_progress {
                eprint!("\rsamla verify: chained {seq} events");
            }
        },
    )
    .await
    .map_err(|error| CliError::Failed(anyhow::Error::new(error)))?;
    if show_progress {
        eprintln!();
    }
    if let Some(path) = &args.export_head {
        let mut export = actual.clone();
        if !args.fingerprints {
            export.fingerprints = None;
        }
        let text = serde_json::to_string_pretty(&export).context("encoding the export")?;
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    let head = &actual.head;
    let Some(earlier) = earlier else {
        if args.json {
            println!(
                "{}",
                json!({"stream": actual.stream, "head": head, "points": actual.points.len(), "every": every})
            );
        } else {
            println!("Chain head: seq {} link {}", head.seq, head.link);
            if let Some(path) = &args.export_head {
                println!(
                    "Wrote {} ({} points, one every {every} sequences, and the head).",
                    path.display(),
                    actual.points.len()
                );
            }
        }
        return Ok(());
    };
    let verdict = chain::compare(&earlier, &actual);
    if args.json {
        println!(
            "{}",
            json!({"intact": verdict.intact(), "verdict": verdict, "head": head})
        );
    } else if verdict.intact() {
        println!(
            "Intact: the log matches the export up to seq {} ({} events beyond it). Head: seq {} link {}",
            verdict.compared_to, verdict.beyond_export, head.seq, head.link
        );
    } else {
        if let Some(after) = verdict.missing_after {
            println!(
                "The log ends at seq {after}, but the export covers up to seq {}: events are missing.",
                earlier.head.seq
            );
        }
        if let Some(interval) = verdict.content_departs {
            println!(
                "Content departs between seq {} and {}: an event was changed, added or removed there{}.",
                interval.after + 1,
                interval.up_to,
                verdict
                    .first_changed_seq
                    .map(|seq| format!(" (first: seq {seq})"))
                    .unwrap_or_default()
            );
        }
        if let Some(interval) = verdict.chain_departs {
            if verdict.content_departs.is_none() {
                println!(
                    "The chain departs between seq {} and {} while the content matches: the events were re-recorded (their recorded_at differ) — a re-written copy of the log.",
                    interval.after + 1,
                    interval.up_to
                );
            } else {
                println!(
                    "The chain departs between seq {} and {}.",
                    interval.after + 1,
                    interval.up_to
                );
            }
        }
    }
    if verdict.intact() {
        Ok(())
    } else {
        Err(CliError::Failed(anyhow::anyhow!(
            "the log departs from the export"
        )))
    }
}

fn read_export(path: &std::path::Path) -> CliResult<ChainExport> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| usage(format!("--against {}: {error}", path.display())))?;
    let export: ChainExport = serde_json::from_str(&text).map_err(|error| {
        usage(format!(
            "--against {}: not a chain export ({error})",
            path.display()
        ))
    })?;
    if export.version != chain::CHAIN_VERSION {
        return Err(usage(format!(
            "--against {}: chain export version {} (this samla reads {})",
            path.display(),
            export.version,
            chain::CHAIN_VERSION
        )));
    }
    Ok(export)
}

/// The log, read as the projector's NATS user.
pub async fn open_as_projector(args: &crate::cli::LogConnectionArgs) -> CliResult<samla_log::Log> {
    let (urls, options) = if args.nats_url.is_empty() {
        let stack = LocalStack::at(&args.data.data_dir);
        let running = stack.running().ok_or_else(|| {
            unavailable(format!(
                "no running local stack in {}: start it with `samla up`, or give --nats-url",
                stack.root().display()
            ))
        })?;
        let credentials = Credentials::load(&stack)?;
        (
            vec![running.nats],
            service_connect_options(ServiceRole::Projector, &credentials.projector_password),
        )
    } else {
        let options = match &args.nats_password {
            Some(password) => service_connect_options(ServiceRole::Projector, password),
            None => ConnectOptions::default(),
        };
        (args.nats_url.clone(), options)
    };
    let connection = samla_log::connect(&urls, options).await.map_err(|error| {
        unavailable(format!(
            "cannot connect to NATS at {}: {error}",
            urls.join(",")
        ))
    })?;
    // A stream that is not there is "unavailable" too, as a stack not started is: to a
    // reader it most often means the service that owns the log has not created it yet, or
    // this is another server. The message names both that and a deleted stream.
    samla_log::Log::open_existing(&connection, samla_log::LogConfig::new(0))
        .await
        .map_err(|error| unavailable(format!("cannot open the log: {error}")))
}
