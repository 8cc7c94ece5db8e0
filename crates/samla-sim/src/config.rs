//! What crisis to generate: seed, length, size, and the shares of exercise and restricted
//! events.

use proto_events::{IncidentId, Timestamp};

/// The demo crisis at scale 1 and 21 days yields about this many events (see the crate
/// tests, which print the figure); [`CrisisConfig::sized_for`] scales from it.
pub(crate) const EVENTS_PER_SCALE_21_DAYS: usize = 2_050;
/// Events that do not grow with scale (the network, global reports), over 21 days.
pub(crate) const FIXED_EVENTS_21_DAYS: usize = 470;

/// The parameters of one generated crisis. Equal configurations give byte-identical
/// events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrisisConfig {
    pub seed: u64,
    /// Length of the crisis in days (at least 1).
    pub days: u32,
    /// 1 = the demo (one reception cluster, about 2,500 events over 21 days); events grow
    /// about linearly with scale: every unit adds a district with its own sites, needs,
    /// offers, issues, reports and meetings.
    pub scale: u32,
    pub incident: IncidentId,
    /// When the incident is declared; each day's working window starts at this time of
    /// day and lasts eleven hours (06:00–17:00 UTC in the demo, 07–18 in Sweden).
    pub start: Timestamp,
    /// Share (per cent) of needs, offers, issues, requests and resources generated as
    /// exercise aggregates (status `exercise` on all their events); when above zero, one
    /// scripted evacuation drill is added mid-crisis.
    pub exercise_share_percent: u8,
    /// Share (per cent) of those aggregates whose events are addressed to listed
    /// organisations only; when above zero, the police's situation reports and safety
    /// issues are restricted too.
    pub restricted_share_percent: u8,
    /// Whether the crisis is still going at its end: no closing steps (no organisation
    /// leaves, the incident is not closed). A live demo wants this; the default closes.
    pub ongoing: bool,
}

impl CrisisConfig {
    /// The demo crisis: Malmö, 21 days from Monday 2 March 2026, scale 1.
    pub fn demo() -> Self {
        CrisisConfig {
            seed: 0x5a4d_4c41,
            days: 21,
            scale: 1,
            incident: IncidentId::new("malmo-mottagning").expect("a valid incident token"),
            start: Timestamp::parse("2026-03-02T06:00:00Z").expect("a valid timestamp"),
            exercise_share_percent: 2,
            restricted_share_percent: 8,
            ongoing: false,
        }
    }

    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// A demo-like configuration giving roughly `events` events (a little more, so that
    /// the first `events` of it are a full mix): fewer days below the demo size, a larger
    /// scale above it.
    pub fn sized_for(events: usize) -> Self {
        let demo = CrisisConfig::demo();
        let wanted = events + events / 10 + 50;
        let demo_events = FIXED_EVENTS_21_DAYS + EVENTS_PER_SCALE_21_DAYS;
        if wanted <= demo_events {
            // Per-day rates are highest early on, so a prefix of days covers more than
            // its share of events; round the day count up generously.
            let days = (wanted * 21).div_ceil(demo_events).clamp(2, 21);
            CrisisConfig {
                days: u32::try_from(days).unwrap_or(21),
                ..demo
            }
        } else {
            let scale = wanted
                .saturating_sub(FIXED_EVENTS_21_DAYS)
                .div_ceil(EVENTS_PER_SCALE_21_DAYS)
                .max(1);
            CrisisConfig {
                scale: u32::try_from(scale).unwrap_or(u32::MAX),
                ..demo
            }
        }
    }

    /// The configuration as the generator uses it: at least one day and scale one, shares
    /// at most 100 per cent.
    pub(crate) fn normalised(mut self) -> Self {
        self.days = self.days.max(1);
        self.scale = self.scale.max(1);
        self.exercise_share_percent = self.exercise_share_percent.min(100);
        self.restricted_share_percent = self.restricted_share_percent.min(100);
        self
    }
}

impl Default for CrisisConfig {
    fn default() -> Self {
        CrisisConfig::demo()
    }
}
