//! The generator: a discrete-event simulation over a priority queue of pending steps.
//!
//! Every open aggregate (a need, an issue, a site's reporting, a meeting) is one pending
//! step in the queue, keyed by the wall time it fires and a tie-breaking counter. Popping a
//! step emits at most one event and schedules the aggregate's next step, so memory grows
//! with the number of open aggregates, never with the number of events, and the emission
//! order is the order of the keys: `occurred_at` never decreases except for deliberate late
//! reports, whose `occurred_at` is set back before the time they are emitted.
//!
//! All randomness comes from one ChaCha8 stream seeded from the configuration and consumed
//! in emission order, and no hash map is iterated, so a configuration always yields the
//! same bytes.

mod coordination;
mod needs;
mod network;
mod periodic;
mod plan;
mod resources;
mod sites;
mod world;

use std::cmp::Ordering;
use std::collections::{BTreeSet, BinaryHeap};

use proto_events::payload::{EventCorrected, EventRetracted};
use proto_events::vocab::{AggregateType, RetractionReason, Status};
use proto_events::{
    AggregateId, AggregateRef, AreaCode, Audience, Envelope, EventId, Label, LangTag, Payload,
    TaggedPayload, Text,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::clock::{Clock, HOUR, MINUTE, timestamp, whole_second};
use crate::config::CrisisConfig;
use crate::mint::Mint;
use crate::orgs::Org;
use crate::text::{self, Phrase};

pub(crate) use world::World;

/// A seeded crisis: an iterator over its events in emission (append) order.
#[derive(Debug)]
pub struct Crisis {
    config: CrisisConfig,
    clock: Clock,
    rng: ChaCha8Rng,
    mint: Mint,
    queue: BinaryHeap<Pending>,
    ticket: u64,
    /// Events emitted so far: the stream sequence of the last one when the crisis is
    /// appended in order to an empty log.
    emitted: u64,
    /// The wall time of the step being run.
    now: i64,
    /// When each organisation joined (wall milliseconds), by [`Org::index`].
    joined_at: [i64; 10],
    /// From this time on only the closing steps run.
    closing_at: i64,
    world: World,
    finished: bool,
}

impl Crisis {
    pub fn new(config: CrisisConfig) -> Self {
        let config = config.normalised();
        let clock = Clock::new(config.start);
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        let mint = Mint::new(rng.random());
        let end = clock.day_start(config.days) - 7 * HOUR;
        let mut crisis = Crisis {
            world: World::default(),
            clock,
            rng,
            mint,
            queue: BinaryHeap::new(),
            ticket: 0,
            emitted: 0,
            now: clock.start,
            joined_at: [clock.start; 10],
            closing_at: end - 50 * MINUTE,
            finished: false,
            config,
        };
        crisis.plan();
        crisis
    }

    /// The day (from zero) on which an event occurred, counted from the crisis start.
    pub fn day_of(&self, event: &Envelope) -> u32 {
        let millis = event.occurred_at.as_unix_nanos() / 1_000_000;
        self.clock.day_of(i64::try_from(millis).unwrap_or(0))
    }

    /// The day (from zero) the generator has reached.
    pub fn current_day(&self) -> u32 {
        self.clock.day_of(self.now)
    }

    /// How many events have been emitted so far.
    pub fn emitted(&self) -> u64 {
        self.emitted
    }

    /// The configuration in use (normalised: at least one day and scale one).
    pub fn config(&self) -> &CrisisConfig {
        &self.config
    }

    fn schedule(&mut self, at: i64, step: Step) {
        self.ticket += 1;
        self.queue.push(Pending {
            at,
            ticket: self.ticket,
            step,
        });
    }

    /// `at`, or a minute after `org` joined if that is later: nobody speaks before joining.
    fn ready(&self, org: Org, at: i64) -> i64 {
        at.max(self.joined_at[org.index()] + MINUTE)
    }

    fn joined_by(&self, org: Org, at: i64) -> bool {
        self.joined_at[org.index()] < at
    }

    fn run(&mut self, at: i64, step: Step) -> Option<Envelope> {
        match step {
            Step::Network(step) => self.run_network(at, step),
            Step::Closing(stage) => self.run_closing(at, stage),
            Step::DayTick(day) => {
                self.run_day_tick(at, day);
                None
            }
            Step::Spawn(spawner) => self.run_spawner(at, spawner),
            Step::Need(need) => self.run_need(at, need),
            Step::Resource(resource) => self.run_resource(at, resource),
            Step::Offer(offer) => self.run_offer(at, offer),
            Step::Issue(issue) => self.run_issue(at, issue),
            Step::Info(request) => self.run_info(at, *request),
            Step::Meeting(meeting) => self.run_meeting(at, meeting),
            Step::Action(action) => self.run_action(at, action),
            Step::Periodic(step) => self.run_periodic(at, step),
            Step::Hygiene(hygiene) => Some(self.run_hygiene(at, *hygiene)),
        }
    }

    // ----- randomness -------------------------------------------------------------------

    /// True with probability `percent` / 100.
    fn chance(&mut self, percent: u32) -> bool {
        self.rng.random_range(0..100u32) < percent
    }

    fn between(&mut self, low: i64, high: i64) -> i64 {
        if high <= low {
            low
        } else {
            self.rng.random_range(low..=high)
        }
    }

    fn count(&mut self, low: u32, high: u32) -> u32 {
        if high <= low {
            low
        } else {
            self.rng.random_range(low..=high)
        }
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.rng.random_range(0..items.len())]
    }

    /// One item, by integer weights.
    fn weighted<T: Copy>(&mut self, items: &[(T, u32)]) -> T {
        let total: u32 = items.iter().map(|(_, weight)| weight).sum();
        let mut roll = self.rng.random_range(0..total.max(1));
        for &(item, weight) in items {
            if roll < weight {
                return item;
            }
            roll -= weight;
        }
        items[items.len() - 1].0
    }

    fn phrase(&mut self, phrases: &[Phrase], lang: Lang) -> &'static str {
        let (sv, en) = self.pick(phrases);
        match lang {
            Lang::Sv => sv,
            Lang::En => en,
        }
    }

    /// A wall time `low..=high` working milliseconds after `at`.
    fn later(&mut self, at: i64, low: i64, high: i64) -> i64 {
        let delay = self.between(low, high);
        self.clock.after_work(at, delay)
    }

    /// When a late report says it happened: hours before `at`, never before `floor`.
    fn set_back(&mut self, at: i64, floor: i64) -> i64 {
        let back = self.between(2 * HOUR, 6 * HOUR);
        (at - back).max(floor + MINUTE).min(at)
    }

    // ----- threads and emission ---------------------------------------------------------

    /// The shared envelope fields of a new aggregate's events: status and audience are
    /// drawn once, so an aggregate is either exercise or actual, network or restricted, for
    /// its whole life. `participants` are the organisations a restricted audience lists.
    fn open_thread(
        &mut self,
        kind: AggregateType,
        prefix: &str,
        area: AreaCode,
        participants: &[Org],
        bilingual: bool,
    ) -> Thread {
        let exercise = self.chance(u32::from(self.config.exercise_share_percent));
        let restricted = self.chance(u32::from(self.config.restricted_share_percent));
        let lang = if bilingual && self.chance(15) {
            Lang::En
        } else {
            Lang::Sv
        };
        Thread {
            aggregate: AggregateRef::new(kind, self.mint.aggregate(prefix)),
            status: if exercise {
                Status::Exercise
            } else {
                Status::Actual
            },
            audience: if restricted {
                audience_of(participants)
            } else {
                Audience::Network
            },
            area,
            lang,
            root: None,
            last_at: 0,
            threaded: true,
        }
    }

    /// Emits one event on `thread`: correlation is the thread's root (none for the root
    /// itself), causation the event it answers.
    fn emit(
        &mut self,
        thread: &mut Thread,
        (org, function): (Org, &str),
        occurred: i64,
        causation: Option<EventId>,
        with_lang: bool,
        payload: impl Into<Payload>,
    ) -> Envelope {
        let occurred = whole_second(occurred);
        let id = self.mint.event(occurred, self.rng.random());
        self.emitted += 1;
        let envelope = Envelope {
            id,
            incident: self.config.incident.clone(),
            org: org.org_id(),
            function: label(function),
            aggregate: thread.aggregate.clone(),
            occurred_at: timestamp(occurred),
            status: thread.status,
            audience: thread.audience.clone(),
            correlation: if thread.threaded { thread.root } else { None },
            causation,
            area: thread.area.clone(),
            lang: with_lang.then(|| thread.lang.tag()),
            payload: payload.into(),
        };
        if thread.root.is_none() {
            thread.root = Some(id);
        }
        thread.last_at = thread.last_at.max(occurred);
        envelope
    }

    /// Schedules a correction of `target` (same kind, same aggregate, by its emitter)
    /// `low..high` working milliseconds from now.
    fn correct_later(&mut self, target: &Envelope, replacement: Payload, low: i64, high: i64) {
        let reason = self.pick(text::CORRECTION_REASONS);
        let at = self.later(self.now, low, high);
        self.schedule(
            at,
            Step::Hygiene(Box::new(Hygiene {
                target: target.clone(),
                fix: Fix::Correct(Box::new(replacement), reason),
            })),
        );
    }

    /// Schedules a retraction of `target` by its emitter.
    fn retract_later(&mut self, target: &Envelope, reason: RetractionReason, low: i64, high: i64) {
        let note = self.pick(text::RETRACTION_NOTES);
        let at = self.later(self.now, low, high);
        self.schedule(
            at,
            Step::Hygiene(Box::new(Hygiene {
                target: target.clone(),
                fix: Fix::Retract(reason, note),
            })),
        );
    }

    fn run_hygiene(&mut self, at: i64, hygiene: Hygiene) -> Envelope {
        let target = hygiene.target;
        let payload: Payload = match hygiene.fix {
            Fix::Correct(replacement, reason) => EventCorrected {
                supersedes: target.id,
                replacement: TaggedPayload(replacement),
                reason: text(reason),
            }
            .into(),
            Fix::Retract(reason, note) => EventRetracted {
                supersedes: target.id,
                reason,
                note: Some(text(note)),
            }
            .into(),
        };
        let at = whole_second(at);
        let id = self.mint.event(at, self.rng.random());
        self.emitted += 1;
        Envelope {
            id,
            incident: target.incident,
            org: target.org,
            function: target.function,
            aggregate: target.aggregate,
            occurred_at: timestamp(at),
            status: target.status,
            audience: target.audience,
            correlation: Some(target.correlation.unwrap_or(target.id)),
            causation: Some(target.id),
            area: target.area,
            lang: Some(Lang::Sv.tag()),
            payload,
        }
    }
}

impl Iterator for Crisis {
    type Item = Envelope;

    fn next(&mut self) -> Option<Envelope> {
        if self.finished {
            return None;
        }
        while let Some(Pending { at, step, .. }) = self.queue.pop() {
            // Past the closing time only the closing sequence runs; whatever else is
            // pending stays open when the incident closes.
            if at >= self.closing_at && !matches!(step, Step::Closing(_)) {
                continue;
            }
            self.now = at;
            if let Some(envelope) = self.run(at, step) {
                return Some(envelope);
            }
        }
        self.finished = true;
        None
    }
}

/// A pending step; the queue pops the earliest, ties in scheduling order.
#[derive(Debug)]
struct Pending {
    at: i64,
    ticket: u64,
    step: Step,
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        self.at == other.at && self.ticket == other.ticket
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Pending {
    fn cmp(&self, other: &Self) -> Ordering {
        // BinaryHeap is a max-heap: the earliest time and ticket must compare greatest.
        (other.at, other.ticket).cmp(&(self.at, self.ticket))
    }
}

#[derive(Debug)]
enum Step {
    Network(network::NetworkStep),
    Closing(u8),
    DayTick(u32),
    Spawn(Spawner),
    Need(Box<needs::Need>),
    Resource(Box<resources::Resource>),
    Offer(Box<resources::HousingOffer>),
    Issue(Box<coordination::Issue>),
    Info(Box<coordination::InfoRequest>),
    Meeting(Box<coordination::Meeting>),
    Action(Box<coordination::Action>),
    Periodic(periodic::PeriodicStep),
    Hygiene(Box<Hygiene>),
}

/// A source of new aggregates in one cluster, firing at random working-time intervals.
#[derive(Debug, Clone, Copy)]
struct Spawner {
    what: Spawns,
    cluster: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Spawns {
    Need,
    Resource,
    HousingOffer,
    Issue,
    InfoRequest,
}

impl Spawns {
    /// New aggregates per working day and cluster at full intensity, in thousandths.
    fn rate_per_mille(self) -> i64 {
        match self {
            Spawns::Need => 14_000,
            Spawns::Resource => 4_000,
            Spawns::HousingOffer => 2_500,
            Spawns::Issue => 2_500,
            Spawns::InfoRequest => 1_500,
        }
    }
}

#[derive(Debug)]
struct Hygiene {
    target: Envelope,
    fix: Fix,
}

#[derive(Debug)]
enum Fix {
    Correct(Box<Payload>, &'static str),
    Retract(RetractionReason, &'static str),
}

/// The envelope fields an aggregate's events share, and its thread root.
#[derive(Debug, Clone)]
pub(crate) struct Thread {
    aggregate: AggregateRef,
    status: Status,
    audience: Audience,
    area: AreaCode,
    lang: Lang,
    root: Option<EventId>,
    /// The latest `occurred_at` on this aggregate, so a late report never predates it.
    last_at: i64,
    /// Whether its events carry the thread root as correlation. Measurement series
    /// (occupancy, arrivals, reports, capacity) are not conversations and carry none.
    threaded: bool,
}

impl Thread {
    fn is_public_actual(&self) -> bool {
        self.status == Status::Actual && self.audience == Audience::Network
    }

    /// Whether `org` may see this aggregate's events.
    fn admits(&self, org: Org) -> bool {
        match &self.audience {
            Audience::Network => true,
            Audience::Orgs(orgs) => orgs.contains(&org.org_id()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lang {
    Sv,
    En,
}

impl Lang {
    fn tag(self) -> LangTag {
        LangTag::new(match self {
            Lang::Sv => "sv",
            Lang::En => "en",
        })
        .expect("sv and en are valid language tags")
    }
}

fn audience_of(orgs: &[Org]) -> Audience {
    Audience::Orgs(orgs.iter().map(|org| org.org_id()).collect::<BTreeSet<_>>())
}

/// Wraps a generated label; generated labels are short by construction.
fn label(value: &str) -> Label {
    Label::new(value).expect("generated labels are short")
}

/// Wraps a generated text; generated texts are short by construction.
fn text(value: &str) -> Text {
    Text::new(value).expect("generated texts are short")
}

fn area(code: &str) -> AreaCode {
    AreaCode::new(code).expect("generated area codes are valid tokens")
}

/// The municipality code of Malmö, used for city-wide events.
const MALMO: &str = "1280";

/// A thread on an aggregate with a known id, visible to the network, actual.
fn fixed_thread(kind: AggregateType, id: AggregateId, area: AreaCode) -> Thread {
    Thread {
        aggregate: AggregateRef::new(kind, id),
        status: Status::Actual,
        audience: Audience::Network,
        area,
        lang: Lang::Sv,
        root: None,
        last_at: 0,
        threaded: true,
    }
}

/// A measurement series: like [`fixed_thread`], without correlation.
fn series_thread(kind: AggregateType, id: AggregateId, area: AreaCode) -> Thread {
    Thread {
        threaded: false,
        ..fixed_thread(kind, id, area)
    }
}
