//! `samla report --sitrep` for a day of the demo crisis: its figures equal a direct count
//! over the generated events, and the text carries every heading, the log range and the
//! chain head.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use proto_events::{Audience, Payload, Status, Timestamp};
use serde_json::Value;

use crate::common::{run, up_with_demo_at};

const START: &str = "2026-03-02T06:00:00Z";

#[test]
fn the_sitrep_for_a_demo_day_matches_the_generated_events() {
    let (_dir, data, up, loaded) = up_with_demo_at(START);
    let data_arg = data.to_str().expect("utf-8");

    // Day 5 of the crisis, a whole Stockholm day (UTC+1 in March).
    let (code, stdout, stderr) = run(
        &[
            "report",
            "--sitrep",
            "--day",
            "2026-03-06",
            "--json",
            "--data-dir",
            data_arg,
        ],
        "",
    );
    assert_eq!(code, 0, "{stderr}");
    let report: Value = serde_json::from_str(&stdout).expect("JSON");
    let from = Timestamp::parse("2026-03-05T23:00:00Z").expect("time");
    let to = Timestamp::parse("2026-03-06T23:00:00Z").expect("time");
    assert_eq!(report["period_from"], from.to_string());
    assert_eq!(report["period_to"], to.to_string());

    // The same figures, counted directly from the generator's events.
    let config = samla::demo::crisis_starting(
        samla_sim::CrisisConfig::demo().seed,
        1,
        21,
        Timestamp::parse(START).expect("time"),
    );
    let events = samla_sim::generate(config);
    let retracted: BTreeSet<_> = events
        .iter()
        .filter_map(|e| match &e.payload {
            Payload::EventRetracted(r) => Some(r.supersedes),
            _ => None,
        })
        .collect();
    let replaced: HashMap<_, _> = events
        .iter()
        .filter_map(|e| match &e.payload {
            Payload::EventCorrected(c) => Some((c.supersedes, (*c.replacement.0).clone())),
            _ => None,
        })
        .collect();
    let mut arrivals: BTreeMap<String, u64> = BTreeMap::new();
    let (mut raised, mut met, mut issues, mut resolved) = (0, 0, 0, 0);
    for event in &events {
        if event.status != Status::Actual
            || !matches!(event.audience, Audience::Network)
            || retracted.contains(&event.id)
        {
            continue;
        }
        let payload = replaced.get(&event.id).unwrap_or(&event.payload);
        let inside = event.occurred_at > from && event.occurred_at <= to;
        match payload {
            Payload::ArrivalsReported(a) if a.period_to > from && a.period_to <= to => {
                *arrivals.entry(event.org.to_string()).or_default() +=
                    u64::from(a.counts.arrivals_this_period.unwrap_or(0));
            }
            Payload::NeedRaised(_) if inside => raised += 1,
            Payload::NeedMet(_) if inside => met += 1,
            Payload::IssueRaised(_) if inside => issues += 1,
            Payload::IssueResolved(_) if inside => resolved += 1,
            _ => {}
        }
    }
    let flows = &report["flows"];
    assert!(arrivals.values().sum::<u64>() > 0, "the day has arrivals");
    assert_eq!(
        flows["arrivals_by_org"],
        serde_json::to_value(&arrivals).expect("JSON")
    );
    assert_eq!(flows["needs_raised"], raised);
    assert_eq!(flows["needs_met"], met);
    assert_eq!(flows["issues_raised"], issues);
    assert_eq!(flows["issues_resolved"], resolved);
    assert!(raised + met > 0, "a demo day raises and meets needs");

    let text = report["text"].as_str().expect("text");
    for heading in [
        "1. Lägesbild",
        "2. Konsekvenser",
        "3. Vidtagna åtgärder",
        "4. Behov",
        "5. Kommande 24 timmar",
        "6. Nästa rapport",
    ] {
        assert!(text.contains(heading), "missing {heading}: {text}");
    }
    for (org, count) in &arrivals {
        assert!(
            text.contains(&format!("  - {org}: {count}")),
            "{org}'s arrivals in the text: {text}"
        );
    }
    let head = report["last_seq"].as_u64().expect("last_seq");
    assert_eq!(head, loaded["last_seq"].as_u64().expect("demo head"));
    assert!(text.contains(&format!("sekvens 1–{head}")), "{text}");
    assert!(
        text.contains(report["chain_head"].as_str().expect("chain head")),
        "{text}"
    );
    drop(up);
}
