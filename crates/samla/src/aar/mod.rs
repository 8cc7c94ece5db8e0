//! The after-action report: what the network knew and did, computed from the log.
//!
//! Every figure is recomputable from the log: the report counts the events addressed to
//! the whole network with status `actual` (a retracted event not at all, a corrected one
//! with its replacement) and states the log range it covers and the chain head. Durations
//! use `occurred_at` (when things happened, as reported), not when they were recorded.
//!
//! Layout: this file computes ([`figures`]); `svg.rs` draws charts as inline SVG;
//! `render.rs` writes self-contained HTML and Markdown in Swedish or English.

pub mod render;
pub mod svg;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use proto_events::{Audience, Envelope, EventId, IncidentId, Payload, Status, Timestamp};
use serde::Serialize;

use crate::sitrep::LoggedEvent;

/// Median and 90th percentile of durations, in seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Spread {
    pub count: usize,
    pub median_seconds: Option<i64>,
    pub p90_seconds: Option<i64>,
}

impl Spread {
    /// Nearest-rank percentiles (the median of an even count is the lower middle).
    pub fn of(mut samples: Vec<i64>) -> Spread {
        samples.sort_unstable();
        let rank = |p: f64| -> Option<i64> {
            if samples.is_empty() {
                return None;
            }
            let index = ((p * samples.len() as f64).ceil() as usize).clamp(1, samples.len()) - 1;
            Some(samples[index])
        };
        Spread {
            count: samples.len(),
            median_seconds: rank(0.5),
            p90_seconds: rank(0.9),
        }
    }
}

/// One day's needs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NeedsDay {
    pub raised: BTreeMap<String, u32>,
    pub met: BTreeMap<String, u32>,
}

/// One day's housing, at the end of the day (Europe/Stockholm).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct BedsDay {
    pub capacity: u64,
    pub occupied: u64,
}

/// A decision and the facts it relied on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Provenance {
    pub seq: u64,
    pub occurred_at: Timestamp,
    pub body: String,
    pub text: String,
    pub based_on_seq: u64,
    /// Events that arrived after `based_on_seq` on the aggregates the decision names
    /// (`refs`), up to the end of the log: facts that changed under the decision.
    pub changed_since: Vec<String>,
}

/// Everything the report shows.
#[derive(Debug, Clone, Serialize)]
pub struct Figures {
    pub incident: String,
    pub title: Option<String>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    /// Days (Europe/Stockholm, `YYYY-MM-DD`) from the first to the last event counted.
    pub days: Vec<String>,
    pub needs_per_day: BTreeMap<String, NeedsDay>,
    /// `org → category → spread`.
    pub time_to_claim: BTreeMap<String, BTreeMap<String, Spread>>,
    pub time_to_meet: BTreeMap<String, BTreeMap<String, Spread>>,
    /// Over all organisations, per category.
    pub time_to_meet_by_category: BTreeMap<String, Spread>,
    pub issue_time_to_acknowledge: Spread,
    pub issue_time_to_resolve: Spread,
    /// `addressed org → escalations`.
    pub escalations: BTreeMap<String, u32>,
    pub beds_per_day: BTreeMap<String, BedsDay>,
    /// `day → org → arrivals`.
    pub arrivals_per_day: BTreeMap<String, BTreeMap<String, u64>>,
    /// `org → spread of (reported − period end)`.
    pub sitrep_delay: BTreeMap<String, Spread>,
    /// `(occurred_at, kind, text)`.
    pub key_events: Vec<(Timestamp, String, String)>,
    pub decisions: Vec<Provenance>,
    pub events_counted: u64,
    pub last_seq: u64,
}

/// The Stockholm day of a moment.
pub fn day_of(at: Timestamp) -> String {
    at.as_jiff()
        .in_tz("Europe/Stockholm")
        .map(|zoned| zoned.date().to_string())
        .unwrap_or_else(|_| at.to_string()[..10].to_owned())
}

fn name<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|value| value.as_str().map(ToOwned::to_owned))
        .unwrap_or_else(|| "-".into())
}

/// The network's events of `incident`, retractions removed and corrections applied, in
/// log order, with their payload in force.
pub fn network_events<'a>(
    events: &'a [LoggedEvent],
    incident: &IncidentId,
) -> Vec<(&'a LoggedEvent, &'a Payload)> {
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
    events
        .iter()
        .filter(|event| {
            let envelope: &Envelope = &event.envelope;
            &envelope.incident == incident
                && envelope.status == Status::Actual
                && matches!(envelope.audience, Audience::Network)
                && !retracted.contains(&envelope.id)
                && !matches!(
                    envelope.payload,
                    Payload::EventRetracted(_) | Payload::EventCorrected(_)
                )
        })
        .map(|event| {
            (
                event,
                replaced
                    .get(&event.envelope.id)
                    .copied()
                    .unwrap_or(&event.envelope.payload),
            )
        })
        .collect()
}

/// Computes the report's figures over `events` (the whole log, decoded), for events that
/// occurred within `[from, to]` (either open).
pub fn figures(
    events: &[LoggedEvent],
    incident: &IncidentId,
    from: Option<Timestamp>,
    to: Option<Timestamp>,
) -> Figures {
    let within = |at: Timestamp| from.is_none_or(|from| at >= from) && to.is_none_or(|to| at <= to);
    let network = network_events(events, incident);
    let mut figures = Figures {
        incident: incident.to_string(),
        title: None,
        from,
        to,
        days: Vec::new(),
        needs_per_day: BTreeMap::new(),
        time_to_claim: BTreeMap::new(),
        time_to_meet: BTreeMap::new(),
        time_to_meet_by_category: BTreeMap::new(),
        issue_time_to_acknowledge: Spread::default(),
        issue_time_to_resolve: Spread::default(),
        escalations: BTreeMap::new(),
        beds_per_day: BTreeMap::new(),
        arrivals_per_day: BTreeMap::new(),
        sitrep_delay: BTreeMap::new(),
        key_events: Vec::new(),
        decisions: Vec::new(),
        events_counted: 0,
        last_seq: events.last().map_or(0, |e| e.seq),
    };
    // Needs: raised (time, category), first claim (time, org), fully met (time, org).
    let mut raised: HashMap<&str, (Timestamp, String)> = HashMap::new();
    let mut claimed: HashMap<&str, (Timestamp, String)> = HashMap::new();
    let mut met: HashMap<&str, (Timestamp, String)> = HashMap::new();
    let mut issue_raised: HashMap<&str, Timestamp> = HashMap::new();
    let mut issue_ack: HashMap<&str, Timestamp> = HashMap::new();
    let mut issue_resolved: HashMap<&str, Timestamp> = HashMap::new();
    // Housing: latest capacity and occupancy per site, by occurred time.
    let mut housing: Vec<(Timestamp, &str, Option<u32>, Option<u32>)> = Vec::new();
    let mut sitrep_delays: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    let mut first_day: Option<Timestamp> = None;
    let mut last_day: Option<Timestamp> = None;
    for (event, payload) in &network {
        let envelope = &event.envelope;
        let at = envelope.occurred_at;
        let aggregate = envelope.aggregate.id.as_str();
        let org = envelope.org.to_string();
        if !within(at) {
            continue;
        }
        figures.events_counted += 1;
        first_day = Some(first_day.map_or(at, |d| d.min(at)));
        last_day = Some(last_day.map_or(at, |d| d.max(at)));
        let day = day_of(at);
        match payload {
            Payload::IncidentDeclared(declared) => {
                figures
                    .title
                    .get_or_insert_with(|| declared.title.to_string());
                figures.key_events.push((
                    at,
                    "incident_declared".into(),
                    declared.title.to_string(),
                ));
            }
            Payload::IncidentPhaseChanged(change) => {
                figures
                    .key_events
                    .push((at, "incident_phase_changed".into(), name(&change.phase)));
            }
            Payload::AlertIssued(alert) => {
                figures
                    .key_events
                    .push((at, "alert_issued".into(), alert.headline.to_string()));
            }
            Payload::MeetingHeld(_) => {
                figures
                    .key_events
                    .push((at, "meeting_held".into(), org.clone()));
            }
            Payload::DecisionRecorded(decision) => {
                figures.key_events.push((
                    at,
                    "decision_recorded".into(),
                    format!("{}: {}", decision.body, decision.text),
                ));
                let refs: BTreeSet<(String, String)> = decision
                    .refs
                    .iter()
                    .map(|r| (name(&r.kind), r.id.to_string()))
                    .collect();
                let changed_since = network
                    .iter()
                    .filter(|(later, _)| {
                        later.seq > decision.based_on_seq && later.seq != event.seq
                    })
                    .filter(|(later, _)| {
                        let aggregate = &later.envelope.aggregate;
                        refs.contains(&(name(&aggregate.kind), aggregate.id.to_string()))
                    })
                    .take(20)
                    .map(|(later, _)| {
                        format!(
                            "seq {} {} {} {}",
                            later.seq,
                            later.envelope.kind().as_str(),
                            later.envelope.org,
                            samla_projector::summary::summarise(&later.envelope)
                        )
                    })
                    .collect();
                figures.decisions.push(Provenance {
                    seq: event.seq,
                    occurred_at: at,
                    body: decision.body.to_string(),
                    text: decision.text.to_string(),
                    based_on_seq: decision.based_on_seq,
                    changed_since,
                });
            }
            Payload::NeedRaised(need) => {
                let category = name(&need.category);
                *figures
                    .needs_per_day
                    .entry(day)
                    .or_default()
                    .raised
                    .entry(category.clone())
                    .or_default() += 1;
                raised.entry(aggregate).or_insert((at, category));
            }
            Payload::NeedClaimed(_) => {
                claimed.entry(aggregate).or_insert((at, org));
            }
            Payload::NeedMet(done) if done.fulfilment == proto_events::vocab::Fulfilment::Fully => {
                if let Some((_, category)) = raised.get(aggregate) {
                    *figures
                        .needs_per_day
                        .entry(day)
                        .or_default()
                        .met
                        .entry(category.clone())
                        .or_default() += 1;
                }
                met.entry(aggregate).or_insert((at, org));
            }
            Payload::IssueRaised(_) => {
                issue_raised.entry(aggregate).or_insert(at);
            }
            Payload::IssueAcknowledged(_) => {
                issue_ack.entry(aggregate).or_insert(at);
            }
            Payload::IssueResolved(_) => {
                issue_resolved.entry(aggregate).or_insert(at);
            }
            Payload::IssueEscalated(_) => {
                *figures.escalations.entry(org).or_default() += 1;
            }
            Payload::CapacityDeclared(capacity) => {
                housing.push((at, aggregate, Some(capacity.beds), None))
            }
            Payload::OccupancyReported(occupancy) => {
                housing.push((at, aggregate, occupancy.capacity, Some(occupancy.occupied)));
            }
            Payload::ArrivalsReported(arrivals) => {
                let day = day_of(arrivals.period_to);
                *figures
                    .arrivals_per_day
                    .entry(day)
                    .or_default()
                    .entry(org)
                    .or_default() += u64::from(arrivals.counts.arrivals_this_period.unwrap_or(0));
            }
            Payload::SituationReported(report) => {
                sitrep_delays
                    .entry(org)
                    .or_default()
                    .push(at.seconds_since(report.period_to));
            }
            _ => {}
        }
    }
    // Durations, grouped by who claimed / met and the need's category.
    let mut to_claim: BTreeMap<String, BTreeMap<String, Vec<i64>>> = BTreeMap::new();
    let mut to_meet: BTreeMap<String, BTreeMap<String, Vec<i64>>> = BTreeMap::new();
    let mut to_meet_category: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for (need, (raised_at, category)) in &raised {
        if let Some((at, org)) = claimed.get(need) {
            to_claim
                .entry(org.clone())
                .or_default()
                .entry(category.clone())
                .or_default()
                .push(at.seconds_since(*raised_at));
        }
        if let Some((at, org)) = met.get(need) {
            let seconds = at.seconds_since(*raised_at);
            to_meet
                .entry(org.clone())
                .or_default()
                .entry(category.clone())
                .or_default()
                .push(seconds);
            to_meet_category
                .entry(category.clone())
                .or_default()
                .push(seconds);
        }
    }
    let spread_map = |map: BTreeMap<String, BTreeMap<String, Vec<i64>>>| {
        map.into_iter()
            .map(|(org, by)| {
                (
                    org,
                    by.into_iter().map(|(c, v)| (c, Spread::of(v))).collect(),
                )
            })
            .collect()
    };
    figures.time_to_claim = spread_map(to_claim);
    figures.time_to_meet = spread_map(to_meet);
    figures.time_to_meet_by_category = to_meet_category
        .into_iter()
        .map(|(c, v)| (c, Spread::of(v)))
        .collect();
    figures.issue_time_to_acknowledge = Spread::of(
        issue_ack
            .iter()
            .filter_map(|(i, at)| issue_raised.get(i).map(|r| at.seconds_since(*r)))
            .collect(),
    );
    figures.issue_time_to_resolve = Spread::of(
        issue_resolved
            .iter()
            .filter_map(|(i, at)| issue_raised.get(i).map(|r| at.seconds_since(*r)))
            .collect(),
    );
    figures.sitrep_delay = sitrep_delays
        .into_iter()
        .map(|(org, v)| (org, Spread::of(v)))
        .collect();
    // Days, and housing at the end of each day.
    if let (Some(first), Some(last)) = (first_day, last_day) {
        let mut day = first;
        let mut days = BTreeSet::new();
        while day_of(day) <= day_of(last) {
            days.insert(day_of(day));
            day = day.plus_seconds(86_400);
        }
        days.insert(day_of(last));
        figures.days = days.into_iter().collect();
    }
    housing.sort_by_key(|(at, ..)| *at);
    let mut sites: BTreeMap<&str, (u32, u32)> = BTreeMap::new();
    let mut next = housing.iter().peekable();
    for day in &figures.days {
        while let Some((at, site, capacity, occupied)) = next.peek().copied() {
            if day_of(*at) > *day {
                break;
            }
            let entry = sites.entry(site).or_default();
            if let Some(capacity) = capacity {
                entry.0 = *capacity;
            }
            if let Some(occupied) = occupied {
                entry.1 = *occupied;
            }
            next.next();
        }
        let totals = sites
            .values()
            .fold(BedsDay::default(), |totals, (capacity, occupied)| BedsDay {
                capacity: totals.capacity + u64::from(*capacity),
                occupied: totals.occupied + u64::from(*occupied),
            });
        figures.beds_per_day.insert(day.clone(), totals);
    }
    figures.key_events.sort();
    figures
}

#[cfg(test)]
mod tests {
    use super::Spread;

    #[test]
    fn spreads_use_nearest_rank() {
        let spread = Spread::of(vec![5, 1, 4, 2, 3, 10, 9, 8, 7, 6]);
        assert_eq!(spread.count, 10);
        assert_eq!(spread.median_seconds, Some(5));
        assert_eq!(spread.p90_seconds, Some(9));
        assert_eq!(Spread::of(vec![]).median_seconds, None);
        assert_eq!(Spread::of(vec![7]).p90_seconds, Some(7));
    }
}
