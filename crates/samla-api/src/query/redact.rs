//! Events as a viewer beyond the network may see them: a share token (a wall screen, a
//! press room) gets every count of people between 1 and the threshold as
//! `{"suppressed": true, "below": N}`, in the event and out of its summary, exactly as the
//! views suppress them. Without this the timeline and the live stream would hand out the
//! small counts the picture hides.

use proto_events::payload::PeopleCounts;
use proto_events::{Envelope, Payload};
use samla_projector::Viewer;
use samla_projector::views::{DEFAULT_SUPPRESSION_THRESHOLD, PeopleCount};
use serde_json::Value;

/// The envelope's JSON and summary for `viewer`.
pub(crate) fn event_for(envelope: &Envelope, viewer: &Viewer) -> (Value, String) {
    let mut json = serde_json::to_value(envelope).unwrap_or(Value::Null);
    if !viewer.suppresses_small_counts() || !has_counts(&envelope.payload) {
        return (json, samla_projector::summary::summarise(envelope));
    }
    suppress_counts(&mut json, viewer);
    // The summary is made from a copy without the small counts (a missing count is not
    // mentioned), so no figure the JSON hides reaches the text.
    let mut quiet = envelope.clone();
    quiet_payload(&mut quiet.payload);
    (json, samla_projector::summary::summarise(&quiet))
}

fn has_counts(payload: &Payload) -> bool {
    match payload {
        Payload::ArrivalsReported(_) | Payload::SituationReported(_) => true,
        Payload::EventCorrected(correction) => has_counts(&correction.replacement.0),
        _ => false,
    }
}

fn quiet_payload(payload: &mut Payload) {
    match payload {
        Payload::ArrivalsReported(p) => quiet(&mut p.counts),
        Payload::SituationReported(p) => quiet(&mut p.counts),
        Payload::EventCorrected(correction) => quiet_payload(&mut correction.replacement.0),
        _ => {}
    }
}

fn quiet(counts: &mut PeopleCounts) {
    for count in [
        &mut counts.arrivals_this_period,
        &mut counts.arrivals_to_date,
        &mut counts.placed_to_date,
        &mut counts.awaiting_placement,
        &mut counts.unaccompanied_minors_to_date,
        &mut counts.households_this_period,
    ] {
        if count.is_some_and(|n| n > 0 && u64::from(n) < DEFAULT_SUPPRESSION_THRESHOLD) {
            *count = None;
        }
    }
}

/// Every number under a `counts` key (the contract's `PeopleCounts`, wherever a payload or
/// a correction's replacement holds one), as the viewer may see it.
fn suppress_counts(value: &mut Value, viewer: &Viewer) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map.iter_mut() {
                if key == "counts"
                    && let Value::Object(counts) = inner
                {
                    for count in counts.values_mut() {
                        if let Some(n) = count.as_u64() {
                            *count = serde_json::to_value(PeopleCount::for_viewer(
                                n,
                                viewer,
                                DEFAULT_SUPPRESSION_THRESHOLD,
                            ))
                            .unwrap_or(Value::Null);
                        }
                    }
                } else {
                    suppress_counts(inner, viewer);
                }
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| suppress_counts(item, viewer)),
        _ => {}
    }
}
