//! `samla report --sitrep`: the network's situation report (lägesrapport) for a period,
//! drafted from the log as plain Swedish text under the usual headings, ready to paste
//! into WIS, with the log range and the chain head at the foot.
//!
//! What it counts: the network's own picture — events addressed to the whole network,
//! status `actual` — so nothing restricted leaves the network through a national report;
//! counts of people below the suppression threshold are written as "färre än N".
//! Figures of state (beds, open needs, open issues) are the picture *as happened* at the
//! period's end (a replay); figures of flow (arrivals, needs raised and met, issues,
//! decisions) count the period's events by `occurred_at`, a retracted event not at all and
//! a corrected one with its replacement.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;

use proto_events::Payload;
use proto_events::{Audience, Envelope, EventId, IncidentId, Status, Timestamp};
use samla_projector::Viewer;
use samla_projector::views::PeopleCount;
use samla_projector::views::picture::Picture;
use serde::Serialize;

/// One event as the report reads it.
#[derive(Debug, Clone)]
pub struct LoggedEvent {
    pub seq: u64,
    pub envelope: Envelope,
}

/// What happened during the period.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Flows {
    /// Arrivals reported for periods ending inside the report's period, per reporter.
    pub arrivals_by_org: BTreeMap<String, u64>,
    pub needs_raised: u32,
    pub needs_met: u32,
    pub issues_raised: u32,
    pub issues_resolved: u32,
    pub issues_escalated: u32,
    pub actions_completed: u32,
    /// `body: text` of each decision, in log order.
    pub decisions: Vec<String>,
    /// Alert headlines.
    pub alerts: Vec<String>,
    /// Meetings that start in the 24 hours after the period: `(starts_at, forum)`.
    pub meetings_next_24h: Vec<(Timestamp, String)>,
    /// The period's events counted (network audience, actual, not retracted).
    pub events: u32,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Sitrep {
    pub incident: String,
    pub title: Option<String>,
    pub period_from: Timestamp,
    pub period_to: Timestamp,
    pub flows: Flows,
    pub picture: Picture,
    /// The log range read: `1..=last_seq`.
    pub last_seq: u64,
    pub chain_head: String,
}

/// Counts the period's flows from the log's events (all of them, in log order).
pub fn flows(
    events: &[LoggedEvent],
    incident: &IncidentId,
    from: Timestamp,
    to: Timestamp,
) -> Flows {
    // What supersedes what: retractions remove an event, corrections replace its payload.
    let mut retracted: BTreeSet<EventId> = BTreeSet::new();
    let mut replaced: HashMap<EventId, &Payload> = HashMap::new();
    for event in events {
        match &event.envelope.payload {
            Payload::EventRetracted(retraction) => {
                retracted.insert(retraction.supersedes);
            }
            Payload::EventCorrected(correction) => {
                replaced.insert(correction.supersedes, &correction.replacement.0);
            }
            _ => {}
        }
    }
    let mut flows = Flows::default();
    let day_after = to.plus_seconds(86_400);
    for event in events {
        let envelope = &event.envelope;
        if &envelope.incident != incident
            || envelope.status != Status::Actual
            || !matches!(envelope.audience, Audience::Network)
            || retracted.contains(&envelope.id)
        {
            continue;
        }
        let payload = replaced
            .get(&envelope.id)
            .copied()
            .unwrap_or(&envelope.payload);
        // A meeting scheduled for the coming day counts whenever it was announced.
        if let Payload::MeetingScheduled(meeting) = payload
            && meeting.starts_at > to
            && meeting.starts_at <= day_after
        {
            flows
                .meetings_next_24h
                .push((meeting.starts_at, meeting.forum.to_string()));
        }
        let inside = envelope.occurred_at > from && envelope.occurred_at <= to;
        if let Payload::ArrivalsReported(arrivals) = payload {
            if arrivals.period_to > from && arrivals.period_to <= to {
                *flows
                    .arrivals_by_org
                    .entry(envelope.org.to_string())
                    .or_default() += u64::from(arrivals.counts.arrivals_this_period.unwrap_or(0));
                flows.events += 1;
            }
            continue;
        }
        if !inside {
            continue;
        }
        let counted = match payload {
            Payload::NeedRaised(_) => {
                flows.needs_raised += 1;
                true
            }
            Payload::NeedMet(_) => {
                flows.needs_met += 1;
                true
            }
            Payload::IssueRaised(_) => {
                flows.issues_raised += 1;
                true
            }
            Payload::IssueResolved(_) => {
                flows.issues_resolved += 1;
                true
            }
            Payload::IssueEscalated(_) => {
                flows.issues_escalated += 1;
                true
            }
            Payload::ActionCompleted(_) => {
                flows.actions_completed += 1;
                true
            }
            Payload::DecisionRecorded(decision) => {
                flows
                    .decisions
                    .push(format!("{}: {}", decision.body, decision.text));
                true
            }
            Payload::AlertIssued(alert) => {
                flows.alerts.push(alert.headline.to_string());
                true
            }
            _ => false,
        };
        if counted {
            flows.events += 1;
        }
    }
    flows.meetings_next_24h.sort();
    flows
}

/// The viewer a network report is written for: network events only, small counts hidden.
pub fn report_viewer() -> Viewer {
    Viewer::Share
}

fn people(count: &PeopleCount) -> String {
    match count {
        PeopleCount::Count(count) => count.to_string(),
        PeopleCount::Suppressed { below } => format!("färre än {below}"),
    }
}

/// `YYYY-MM-DD HH:MM` in Europe/Stockholm.
pub fn stockholm(at: Timestamp) -> String {
    at.as_jiff()
        .in_tz("Europe/Stockholm")
        .map(|zoned| zoned.strftime("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|_| at.to_string())
}

/// The report as Swedish text under the headings of a lägesrapport.
pub fn render_sv(report: &Sitrep) -> String {
    let mut out = String::new();
    let flows = &report.flows;
    let picture = &report.picture;
    let _ = writeln!(
        out,
        "LÄGESRAPPORT — {}",
        report.title.as_deref().unwrap_or(&report.incident)
    );
    let _ = writeln!(
        out,
        "Period: {} – {} (svensk tid)\n",
        stockholm(report.period_from),
        stockholm(report.period_to)
    );

    let _ = writeln!(out, "1. Lägesbild");
    // Reporters' series may overlap (the Migration Agency and the municipality count the
    // same people): each is given as reported, never summed.
    if flows.arrivals_by_org.is_empty() {
        let _ = writeln!(out, "- Inga ankomster rapporterade för perioden.");
    } else {
        let _ = writeln!(out, "- Ankomster under perioden, enligt rapportörerna:");
        for (org, count) in &flows.arrivals_by_org {
            let _ = writeln!(out, "  - {org}: {count}");
        }
    }
    let _ = writeln!(
        out,
        "- Ankomna totalt: {}; väntar på placering: {}.",
        people(&picture.arrivals.to_date),
        people(&picture.arrivals.awaiting_placement)
    );
    let beds = serde_json::to_value(picture.beds).unwrap_or_default();
    let _ = writeln!(
        out,
        "- Boende: {} platser på {} öppna boenden, {} belagda, {} lediga.",
        beds["capacity"], beds["open_sites"], beds["occupied"], beds["free"]
    );
    if let Some(phase) = &picture.phase {
        let code = serde_json::to_value(phase).unwrap_or_default();
        let phase = match code.as_str().unwrap_or("-") {
            "alert" => "beredskap",
            "response" => "insats",
            "recovery" => "återhämtning",
            "closed" => "avslutad",
            other => other,
        };
        let _ = writeln!(out, "- Fas: {phase}.");
    }
    let _ = writeln!(out);

    let _ = writeln!(out, "2. Konsekvenser");
    let _ = writeln!(
        out,
        "- Öppna behov vid periodens slut: {} (varav {} försenade); berörda personer: {}.",
        picture.needs.open,
        picture.needs.overdue,
        people(&picture.needs.people)
    );
    let _ = writeln!(
        out,
        "- Öppna ärenden mellan aktörer: {} (varav {} försenade, {} ej kvitterade).",
        picture.issues.open, picture.issues.overdue, picture.issues.unacknowledged
    );
    if !flows.alerts.is_empty() {
        let _ = writeln!(out, "- Varningar: {}.", flows.alerts.join("; "));
    }
    let _ = writeln!(out);

    let _ = writeln!(out, "3. Vidtagna åtgärder");
    let _ = writeln!(
        out,
        "- Behov: {} nya, {} tillgodosedda. Ärenden: {} nya, {} lösta, {} eskalerade. Åtgärder slutförda: {}.",
        flows.needs_raised,
        flows.needs_met,
        flows.issues_raised,
        flows.issues_resolved,
        flows.issues_escalated,
        flows.actions_completed
    );
    for decision in &flows.decisions {
        let _ = writeln!(out, "- Beslut: {decision}");
    }
    let _ = writeln!(out);

    let _ = writeln!(out, "4. Behov");
    for (category, count) in &picture.needs.by_category {
        let code = serde_json::to_value(category).unwrap_or_default();
        let name = crate::aar::render::category_label(
            code.as_str().unwrap_or("-"),
            crate::aar::render::Lang::Sv,
        );
        let _ = writeln!(out, "- {name}: {count} öppna");
    }
    if picture.needs.by_category.is_empty() {
        let _ = writeln!(out, "- Inga öppna behov.");
    }
    let _ = writeln!(out);

    let _ = writeln!(out, "5. Kommande 24 timmar");
    for (at, forum) in &flows.meetings_next_24h {
        let _ = writeln!(out, "- {}: {forum}", stockholm(*at));
    }
    if flows.meetings_next_24h.is_empty() {
        let _ = writeln!(out, "- Inga möten inplanerade.");
    }
    let _ = writeln!(out);

    let _ = writeln!(out, "6. Nästa rapport");
    let _ = writeln!(
        out,
        "- {}",
        stockholm(report.period_to.plus_seconds(86_400))
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Underlag: Samlas logg, sekvens 1–{} ({} händelser under perioden). Kedjehuvud: {}.",
        report.last_seq, flows.events, report.chain_head
    );
    out
}

/// The whole log, decoded (undecodable events are skipped: they are in quarantine).
pub async fn read_events(log: &samla_log::Log) -> crate::exit::CliResult<Vec<LoggedEvent>> {
    let failed =
        |error: &dyn std::fmt::Display| crate::exit::CliError::Failed(anyhow::anyhow!("{error}"));
    let head = log.head().await.map_err(|e| failed(&e))?.last_seq;
    let mut events = Vec::new();
    if head > 0 {
        let mut records = log
            .read(samla_log::ReadRange::span(1, head))
            .await
            .map_err(|e| failed(&e))?;
        while let Some(record) = records.next().await {
            let record = record.map_err(|e| failed(&e))?;
            if let samla_log::Decoded::Event(event) = record.decode() {
                events.push(LoggedEvent {
                    seq: event.seq,
                    envelope: event.envelope,
                });
            }
        }
    }
    Ok(events)
}

/// `--incident`, or the only incident declared in the log.
pub fn incident_of(
    events: &[LoggedEvent],
    given: Option<&str>,
) -> crate::exit::CliResult<IncidentId> {
    use crate::exit::usage;
    if let Some(incident) = given {
        return IncidentId::new(incident).map_err(|reason| usage(format!("--incident: {reason}")));
    }
    let declared: BTreeSet<&IncidentId> = events
        .iter()
        .filter(|e| matches!(e.envelope.payload, Payload::IncidentDeclared(_)))
        .map(|e| &e.envelope.incident)
        .collect();
    match declared.into_iter().collect::<Vec<_>>().as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(usage("no incident is declared in the log yet")),
        many => {
            let names: Vec<String> = many.iter().map(ToString::to_string).collect();
            Err(usage(format!(
                "several incidents: give --incident ({})",
                names.join(", ")
            )))
        }
    }
}

/// `samla report`: the situation report (`--sitrep`) or the after-action report.
pub async fn command(args: crate::cli::ReportArgs) -> crate::exit::CliResult {
    use crate::exit::CliError;
    use samla_projector::replay::{ReplayConfig, ReplayPoint, Replayer};

    let log = crate::verify::open_as_projector(&args.connection).await?;
    let failed = |error: &dyn std::fmt::Display| CliError::Failed(anyhow::anyhow!("{error}"));
    let events = read_events(&log).await?;
    let incident = incident_of(&events, args.incident.as_deref())?;
    let replay_dir = std::env::temp_dir().join(format!("samla-report-{}", std::process::id()));
    let replayer = Replayer::open(log.clone(), replay_dir.clone(), ReplayConfig::default())
        .map_err(|e| failed(&e))?;
    let chain = samla_log::chain::compute(&log, u64::MAX, false, |_| {})
        .await
        .map_err(|e| failed(&e))?;
    let output = if args.sitrep {
        let (from, to) = period(&args)?;
        let flows = flows(&events, &incident, from, to);
        let replayed = replayer.at(ReplayPoint::HappenedAt(to)).await;
        let _ = std::fs::remove_dir_all(&replay_dir);
        let replayed = replayed.map_err(|e| failed(&e))?;
        let scope = samla_projector::Scope {
            incident: incident.clone(),
            status: Status::Actual,
        };
        let picture = samla_projector::views::picture::picture(
            &replayed.models,
            &scope,
            &report_viewer(),
            replayed.at,
        );
        let report = Sitrep {
            incident: incident.to_string(),
            title: picture.title.clone(),
            period_from: from,
            period_to: to,
            flows,
            picture,
            last_seq: chain.head.seq,
            chain_head: chain.head.link,
        };
        let text = render_sv(&report);
        if args.json {
            let mut value = serde_json::to_value(&report).map_err(|e| failed(&e))?;
            value["text"] = text.into();
            value.to_string()
        } else {
            text
        }
    } else {
        let (from, to) = optional_period(&args)?;
        let figures = crate::aar::figures(&events, &incident, from, to);
        // The digest a clean replica of this log prefix holds: recomputable by anyone.
        let digest = if chain.head.seq == 0 {
            String::from("-")
        } else {
            let outcome = replayer
                .at_with_digest(ReplayPoint::KnownAtSeq(chain.head.seq))
                .await;
            outcome.map_err(|e| failed(&e))?.1
        };
        let _ = std::fs::remove_dir_all(&replay_dir);
        let coverage = crate::aar::render::Coverage {
            last_seq: chain.head.seq,
            chain_head: chain.head.link,
            digest,
        };
        let lang = match args.lang {
            crate::cli::LangArg::Sv => crate::aar::render::Lang::Sv,
            crate::cli::LangArg::En => crate::aar::render::Lang::En,
        };
        let markdown = matches!(args.format, Some(crate::cli::ReportFormat::Md))
            || (args.format.is_none()
                && args
                    .out
                    .as_ref()
                    .is_none_or(|p| p.extension().is_some_and(|e| e == "md")));
        if args.json {
            serde_json::to_string(&figures).map_err(|e| failed(&e))?
        } else if markdown {
            crate::aar::render::markdown(&figures, &coverage, lang)
        } else {
            crate::aar::render::html(&figures, &coverage, lang)
        }
    };
    match &args.out {
        Some(path) => std::fs::write(path, output)
            .map_err(|e| failed(&format!("writing {}: {e}", path.display())))?,
        None => println!("{output}"),
    }
    Ok(())
}

/// `--from`/`--to` when given (either may be open), for the after-action report.
fn optional_period(
    args: &crate::cli::ReportArgs,
) -> crate::exit::CliResult<(Option<Timestamp>, Option<Timestamp>)> {
    use crate::exit::usage;
    let parse = |flag: &str, text: &Option<String>| {
        text.as_deref()
            .map(|text| {
                Timestamp::parse(text).map_err(|reason| usage(format!("--{flag} {text}: {reason}")))
            })
            .transpose()
    };
    Ok((parse("from", &args.from)?, parse("to", &args.to)?))
}

/// `--day` (a whole Stockholm day) or `--from`/`--to`.
fn period(args: &crate::cli::ReportArgs) -> crate::exit::CliResult<(Timestamp, Timestamp)> {
    use crate::exit::usage;
    let parse = |flag: &str, text: &str| {
        Timestamp::parse(text).map_err(|reason| {
            usage(format!(
                "--{flag} {text}: {reason} (write e.g. 2026-11-10T06:00:00Z)"
            ))
        })
    };
    if let Some(day) = &args.day {
        let date: jiff::civil::Date = day
            .parse()
            .map_err(|error| usage(format!("--day {day}: {error} (write e.g. 2026-11-10)")))?;
        let start = date
            .to_zoned(
                jiff::tz::TimeZone::get("Europe/Stockholm")
                    .map_err(|e| usage(format!("time zone: {e}")))?,
            )
            .map_err(|error| usage(format!("--day {day}: {error}")))?;
        let from = Timestamp::from_unix_seconds(start.timestamp().as_second()).map_err(usage)?;
        let end = start
            .tomorrow()
            .map_err(|error| usage(format!("--day {day}: {error}")))?;
        let to = Timestamp::from_unix_seconds(end.timestamp().as_second()).map_err(usage)?;
        return Ok((from, to));
    }
    match (&args.from, &args.to) {
        (Some(from), Some(to)) => {
            let (from, to) = (parse("from", from)?, parse("to", to)?);
            if from >= to {
                return Err(usage("--from must be before --to"));
            }
            Ok((from, to))
        }
        _ => Err(usage(
            "give the period: --day YYYY-MM-DD, or --from and --to (RFC 3339)",
        )),
    }
}
