//! # samla-sim — the one crisis generator
//!
//! A seeded, deterministic generator of a refugee-reception crisis in Malmö: ten
//! organisations join a network (the municipality, the Migration Agency, a site operator,
//! the police, Region Skåne, primary care, the Church of Sweden, Save the Children, a
//! volunteer centre, the county board) and for three weeks emit every kind of event in the
//! catalogue — arrivals and occupancy counts, needs raised, claimed and met, resources and
//! housing offered and used, issues raised and escalated, situation reports, meetings,
//! decisions and actions, alerts, corrections and retractions. Tests, `samla demo` and
//! `samla bench` all use it, so nobody writes a second one.
//!
//! What it is not: not a load tool (it sends nothing; `samla bench` does) and it does no
//! I/O at all: no clock, no files, no network. It yields [`proto_events::Envelope`]s.
//!
//! Guarantees:
//! - The same [`CrisisConfig`] gives byte-identical events: one ChaCha8 stream, consumed in
//!   emission order; no hash-map iteration; integer arithmetic only.
//! - [`Crisis`] is an iterator in emission (append) order, holding one pending step per
//!   open aggregate, never the events themselves.
//! - Every event passes [`proto_events::Envelope::validate`]; ids (aggregates, incident,
//!   organisations, districts) carry no run of more than three digits (the area code of
//!   Malmö, `1280`, is the only four-digit token: municipality codes are four digits by
//!   definition, and the guard lets them through); event ids are UUIDv7 from `occurred_at`.
//! - Each aggregate follows its lifecycle (see the module docs in `crisis/`); corrections
//!   and retractions come from the original emitter, on the same aggregate, after the event
//!   they supersede, and a correction's replacement has the superseded event's kind.
//! - `occurred_at` never decreases in emission order except for deliberate late reports
//!   (a need met or an action completed reported hours later, the police's night count and
//!   some evening occupancy sent the next morning), so "as happened" and "as known" differ.
//! - Correlation is the root event of the aggregate's thread (meetings, decisions and
//!   actions share the meeting's; joins and phase changes the incident declaration's);
//!   causation is the event answered (a claim answers the raise, a need met the claim, a
//!   commitment the need's raise or the offer's acceptance).
//! - `DecisionRecorded::based_on_seq` is the number of events generated before the
//!   decision, which equals the stream sequence of the last event before it when the crisis
//!   is appended in order to an empty log (sequences start at 1).
//! - Exercise events (status `exercise`) live on their own aggregates in the same incident:
//!   a share of needs, offers, issues, requests and resources, and a scripted evacuation
//!   drill mid-crisis. No actual aggregate ever receives an exercise event. Restricted
//!   events (audience: listed organisations) are whole aggregates too, plus the police's
//!   situation reports and safety issues; every organisation acting on a restricted
//!   aggregate is in its audience.
//!
//! Layout:
//! - `config.rs`: [`CrisisConfig`]; `orgs.rs`: [`Organisation`], [`organisations`].
//! - `crisis/mod.rs`: [`Crisis`], the queue, envelope building, corrections.
//! - `crisis/plan.rs`: everything scheduled at construction; `crisis/world.rs`: clusters,
//!   people counts, pools of recent aggregates, spawners.
//! - Lifecycles: `crisis/network.rs` (joins, phases, presence, alerts, drill, closing),
//!   `crisis/sites.rs`, `crisis/periodic.rs` (arrivals, reports, services, hospital,
//!   meetings), `crisis/needs.rs`, `crisis/resources.rs` (and housing offers),
//!   `crisis/coordination.rs` (issues, requests, meetings, decisions, actions).
//! - `mint.rs`: ids; `clock.rs`: simulated time; `text.rs`: phrase banks.
//! - `examples/dump.rs`: the first N events as JSON lines.

mod clock;
mod config;
mod crisis;
mod mint;
mod orgs;
mod text;

pub use config::CrisisConfig;
pub use crisis::Crisis;
pub use mint::longest_digit_run;
pub use orgs::{Organisation, organisations};

use proto_events::Envelope;

/// Every event of a crisis, in emission order. Convenient for tests; use [`Crisis`] as an
/// iterator for large crises.
pub fn generate(config: CrisisConfig) -> Vec<Envelope> {
    Crisis::new(config).collect()
}

/// Exactly `n` events: the first `n` of a demo-like crisis sized for `n` (fewer days below
/// the demo size, a larger scale above it), so that even a small `n` mixes kinds.
pub fn generate_n(seed: u64, n: usize) -> Vec<Envelope> {
    let mut config = CrisisConfig::sized_for(n).with_seed(seed);
    loop {
        let events: Vec<Envelope> = Crisis::new(config.clone()).take(n).collect();
        if events.len() == n {
            return events;
        }
        // Sizing is an estimate: grow until the crisis is long enough.
        if config.days < 21 {
            config.days = (config.days * 2).min(21);
        } else {
            config.scale = config.scale.saturating_mul(2);
        }
    }
}
