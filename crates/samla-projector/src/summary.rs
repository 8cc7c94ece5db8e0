//! One-line summaries of events, for timelines and live streams: who did what to which
//! aggregate, with the one or two figures that matter. English; the dashboard translates
//! from the kind and fields, not from this text.

use proto_events::{Envelope, Payload};

/// "malmo-stad raised need need-kx7q: housing, 12 beds, urgency high".
pub fn summarise(envelope: &Envelope) -> String {
    let who = envelope.org.as_str();
    let what = format!("{} {}", envelope.aggregate.kind, envelope.aggregate.id);
    let detail = match &envelope.payload {
        Payload::NeedRaised(p) => format!(
            ": {}, {} {}, urgency {}",
            p.category, p.quantity, p.unit, p.urgency
        ),
        Payload::NeedMet(p) => format!(": {} met ({})", p.quantity, p.fulfilment),
        Payload::NeedClaimed(p) => format!(": claim until {}", p.claim_expires_at),
        Payload::CapacityDeclared(p) => format!(": {} beds", p.beds),
        Payload::OccupancyReported(p) => {
            format!(": {} occupied, {} reserved", p.occupied, p.reserved)
        }
        Payload::SiteStatusChanged(p) => format!(": {}", p.site_status),
        Payload::HousingOffered(p) => format!(": {} beds in {} units", p.beds, p.units),
        Payload::IssueRaised(p) => {
            format!(" with {}: {} ({})", p.addressed_to, p.category, p.severity)
        }
        Payload::IssueEscalated(p) => format!(" to level {}", p.level),
        Payload::SituationReported(p) => format!(": report no. {} ({})", p.number, p.version),
        Payload::ArrivalsReported(p) => p
            .counts
            .arrivals_this_period
            .map(|n| format!(": {n} arrivals this period"))
            .unwrap_or_default(),
        Payload::ResourceOffered(p) => format!(": {} {} {}", p.quantity, p.unit, p.category),
        Payload::ResourceCommitted(p) => format!(": {} committed", p.quantity),
        Payload::DecisionRecorded(p) => format!(" (based on the log up to {})", p.based_on_seq),
        Payload::EventCorrected(p) => format!(": corrects {}", p.supersedes),
        Payload::EventRetracted(p) => format!(": retracts {} ({})", p.supersedes, p.reason),
        _ => String::new(),
    };
    format!("{who} {} {what}{detail}", verb(envelope))
}

/// The kind as a past-tense phrase: `need_raised` → "need raised" reads badly after the
/// organisation, so the verb comes from the kind's last word.
fn verb(envelope: &Envelope) -> String {
    let kind = envelope.kind().as_str();
    let last = kind.rsplit('_').next().unwrap_or(kind);
    match last {
        "declared" | "raised" | "updated" | "claimed" | "met" | "cancelled" | "offered"
        | "withdrawn" | "committed" | "delivered" | "released" | "requested" | "acknowledged"
        | "assigned" | "escalated" | "resolved" | "reopened" | "reported" | "issued"
        | "provided" | "scheduled" | "held" | "recorded" | "completed" | "corrected"
        | "retracted" | "registered" | "changed" | "answered" | "joined" | "left" => {
            last.to_string()
        }
        _ => kind.replace('_', " "),
    }
}
