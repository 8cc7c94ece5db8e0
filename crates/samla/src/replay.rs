//! `samla replay`: the picture as it was, through the API as the caller (so the same
//! visibility rule applies as live), at one moment or stepping over a span.
//!
//! `--at T` prints the picture at T; `--from A --to B --step 1h` prints one row per step
//! with the headline figures, so an analyst sees how the picture changed. `--sense known`
//! (the default) is what the network knew at T (the log as recorded up to T); `--sense
//! happened` is what had happened by T, late reports included.

use std::time::Duration;

use proto_events::Timestamp;
use serde_json::{Value, json};

use crate::cli::{ReplayArgs, SenseArg};
use crate::client::{self, Api};
use crate::exit::{CliResult, usage};
use crate::tail::only_incident;

/// Runs `samla replay`.
pub async fn replay(args: ReplayArgs) -> CliResult {
    let api = client::from_args(&args.client)?;
    let incident = match &args.incident {
        Some(incident) => incident.clone(),
        None => only_incident(&api).await?,
    };
    let sense = match args.sense {
        SenseArg::Known => "known",
        SenseArg::Happened => "happened",
    };
    let parse = |flag: &str, text: &str| {
        Timestamp::parse(text).map_err(|reason| usage(format!("--{flag} {text}: {reason}")))
    };
    if let Some(at) = &args.at {
        let at = parse("at", at)?;
        let picture = picture_at(&api, &incident, at, sense).await?;
        if args.json {
            println!("{picture}");
        } else {
            print_picture(&picture, at, sense);
        }
        return Ok(());
    }
    let (Some(from), Some(to)) = (&args.from, &args.to) else {
        return Err(usage(
            "give --at TIME, or --from TIME --to TIME [--step 1h]",
        ));
    };
    let (from, to) = (parse("from", from)?, parse("to", to)?);
    if from > to {
        return Err(usage("--from must not be after --to"));
    }
    let step = args
        .step
        .unwrap_or(Duration::from_secs(3600))
        .as_secs()
        .max(1) as i64;
    let steps = (to.seconds_since(from) / step) + 1;
    if steps > 10_000 {
        return Err(usage(format!("{steps} steps: pick a longer --step")));
    }
    if !args.json {
        println!(
            "{:<22} {:>6} {:>9} {:>6} {:>6} {:>8} {:>6} {:>8}",
            "AT (UTC)", "SEQ", "ARRIVED", "BEDS", "FREE", "NEEDS", "ISSUES", "OVERDUE"
        );
    }
    let mut at = from;
    let mut previous: Option<Value> = None;
    while at <= to {
        let picture = picture_at(&api, &incident, at, sense).await?;
        let row = headline(&picture);
        if args.json {
            println!(
                "{}",
                json!({"at": at, "sense": sense, "figures": row, "as_of": picture["as_of"]})
            );
        } else if previous.as_ref() != Some(&row) || at == from {
            println!(
                "{:<22} {:>6} {:>9} {:>6} {:>6} {:>8} {:>6} {:>8}",
                at.to_string(),
                row["seq"],
                shown(&row["arrivals"]),
                row["beds"],
                row["free"],
                row["needs_open"],
                row["issues_open"],
                row["issues_overdue"]
            );
        }
        previous = Some(row);
        at = at.plus_seconds(step);
    }
    Ok(())
}

async fn picture_at(api: &Api, incident: &str, at: Timestamp, sense: &str) -> CliResult<Value> {
    api.get_json(&format!(
        "v1/incidents/{incident}/picture?as_of={at}&sense={sense}"
    ))
    .await
}

fn shown(value: &Value) -> String {
    match value {
        Value::Object(suppressed) => {
            format!("<{}", suppressed.get("below").cloned().unwrap_or(json!(5)))
        }
        other => other.to_string(),
    }
}

/// The figures a row shows.
fn headline(answer: &Value) -> Value {
    let picture = &answer["picture"];
    json!({
        "seq": answer["as_of"]["seq"],
        "arrivals": picture["arrivals"]["to_date"],
        "beds": picture["beds"]["capacity"],
        "free": picture["beds"]["free"],
        "needs_open": picture["needs"]["open"],
        "issues_open": picture["issues"]["open"],
        "issues_overdue": picture["issues"]["overdue"],
    })
}

fn print_picture(answer: &Value, at: Timestamp, sense: &str) {
    let picture = &answer["picture"];
    let as_of = &answer["as_of"];
    let meaning = if sense == "known" {
        "as known"
    } else {
        "as happened"
    };
    println!(
        "REPLAY — {} {meaning} at {at} (log up to seq {}, {} events)",
        picture["title"].as_str().unwrap_or("-"),
        as_of["seq"],
        as_of["events"]
    );
    println!(
        "  arrivals to date      {}",
        shown(&picture["arrivals"]["to_date"])
    );
    println!(
        "  awaiting placement    {}",
        shown(&picture["arrivals"]["awaiting_placement"])
    );
    println!(
        "  beds                  {} capacity, {} occupied, {} free",
        picture["beds"]["capacity"], picture["beds"]["occupied"], picture["beds"]["free"]
    );
    println!(
        "  open needs            {} ({} overdue)",
        picture["needs"]["open"], picture["needs"]["overdue"]
    );
    if let Some(urgency) = picture["needs"]["by_urgency"].as_object() {
        for (level, count) in urgency {
            println!("    {level:<18}  {count}");
        }
    }
    println!(
        "  open issues           {} ({} overdue, {} unacknowledged)",
        picture["issues"]["open"],
        picture["issues"]["overdue"],
        picture["issues"]["unacknowledged"]
    );
    if let Some(reports) = picture["situation_reports"].as_array() {
        for report in reports {
            println!(
                "  sitrep #{:<4} {} up to {}",
                report["number"],
                report["reported_by"].as_str().unwrap_or("-"),
                report["period_to"].as_str().unwrap_or("-")
            );
        }
    }
}
