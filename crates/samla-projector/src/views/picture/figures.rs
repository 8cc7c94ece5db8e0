//! The picture's figures, kept folded per audience slice so a picture costs in proportion
//! to the slices a viewer may see, not to the rows of the incident.
//!
//! Every aggregate the picture counts (a site, need, issue, arrivals series, situation
//! report series or alert) makes one [`Contribution`]: what its merged view adds to the
//! picture, minus what depends on `now`, which is kept as moments instead (a need's
//! deadline, a claim's expiry, an alert's end). An aggregate whose rows all sit in one
//! slice — nearly all of them: audiences are chosen per aggregate — adds its contribution
//! to that slice's [`SliceFigures`]; the fold replaces it (old out, new in) whenever the
//! aggregate changes. An aggregate with rows in several slices merges differently for
//! each viewer, so it is only listed, and its contribution is computed at query time from
//! the rows the viewer may see, exactly as the views merge them.
//!
//! What depends on `now` is a count of moments before `now` in an ordered map
//! ([`Moments`]), walked from both ends at once, so it costs the smaller side.
//!
//! The figures are derived, never stored: [`crate::models::ReadModels::load`] rebuilds
//! them row by row as the rows load, and they stay out of the digest. They live on
//! persistent maps like the tables, so cloning the read models for a replay checkpoint
//! stays O(1).

mod contribution;

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;
use std::sync::Arc;

use imbl::{OrdMap, OrdSet};
use proto_events::vocab::{NeedCategory, Urgency};
use proto_events::{Kind, OrgId, Timestamp};

use super::SitrepLine;
use crate::models::ReadModels;
use crate::table::{RowKey, Scope, Table};
use crate::views::VisibleSlices;
use crate::views::issues::OrgIssues;
use crate::views::sites::HousingTotals;
use crate::visibility::SliceId;
pub use contribution::Contribution;
use contribution::{Part, alert, arrivals, issue, need, site, sitrep};

/// The tables the picture counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Counted {
    Sites,
    Needs,
    Issues,
    Arrivals,
    Sitreps,
    Alerts,
}

impl Counted {
    pub const ALL: [Counted; 6] = [
        Counted::Sites,
        Counted::Needs,
        Counted::Issues,
        Counted::Arrivals,
        Counted::Sitreps,
        Counted::Alerts,
    ];

    /// The counted table an event of `kind` changes, if any. Every kind is named, so a new
    /// kind cannot be forgotten here: it must be placed before the crate compiles.
    pub fn of(kind: Kind) -> Option<Counted> {
        match kind {
            Kind::SiteRegistered
            | Kind::CapacityDeclared
            | Kind::OccupancyReported
            | Kind::SiteStatusChanged => Some(Counted::Sites),
            Kind::NeedRaised
            | Kind::NeedUpdated
            | Kind::NeedClaimed
            | Kind::NeedClaimReleased
            | Kind::NeedMet
            | Kind::NeedCancelled => Some(Counted::Needs),
            Kind::IssueRaised
            | Kind::IssueAcknowledged
            | Kind::IssueAssigned
            | Kind::IssueEscalated
            | Kind::IssueResolved
            | Kind::IssueReopened => Some(Counted::Issues),
            Kind::ArrivalsReported => Some(Counted::Arrivals),
            Kind::SituationReported => Some(Counted::Sitreps),
            Kind::AlertIssued => Some(Counted::Alerts),
            Kind::IncidentDeclared
            | Kind::IncidentPhaseChanged
            | Kind::OrganisationJoined
            | Kind::OrganisationLeft
            | Kind::ResponsibilityAssigned
            | Kind::OperationalPresenceDeclared
            | Kind::HousingOffered
            | Kind::HousingOfferWithdrawn
            | Kind::OfferAnswered
            | Kind::ResourceOffered
            | Kind::ResourceWithdrawn
            | Kind::ResourceCommitted
            | Kind::ResourceDelivered
            | Kind::ResourceReleased
            | Kind::ResourceReturnRequested
            | Kind::ServiceCapacityReported
            | Kind::HospitalStatusReported
            | Kind::InformationRequested
            | Kind::InformationProvided
            | Kind::MeetingScheduled
            | Kind::MeetingHeld
            | Kind::DecisionRecorded
            | Kind::ActionAssigned
            | Kind::ActionCompleted
            | Kind::EventCorrected
            | Kind::EventRetracted => None,
        }
    }

    /// The counted table stored under `name` (`m/<name>/…`), if any.
    pub fn of_table(name: &str) -> Option<Counted> {
        match name {
            "sites" => Some(Counted::Sites),
            "needs" => Some(Counted::Needs),
            "issues" => Some(Counted::Issues),
            "arrivals" => Some(Counted::Arrivals),
            "sitreps" => Some(Counted::Sitreps),
            "alerts" => Some(Counted::Alerts),
            _ => None,
        }
    }

    /// Brings the rows of the aggregate at `key` in this table into memory (for a backed
    /// table; see [`Table::load_aggregate`]): the fold places it before and after each
    /// effect.
    pub fn load(self, models: &mut ReadModels, key: &RowKey) {
        match self {
            Counted::Sites => models.sites.load_aggregate(key),
            Counted::Needs => models.needs.load_aggregate(key),
            Counted::Issues => models.issues.load_aggregate(key),
            Counted::Arrivals => models.reports.arrivals.load_aggregate(key),
            Counted::Sitreps => models.reports.sitreps.load_aggregate(key),
            Counted::Alerts => models.reports.alerts.load_aggregate(key),
        }
    }

    /// Where the aggregate at `key` stands in this table now.
    pub fn placement(self, models: &ReadModels, key: &RowKey) -> Placement {
        match self {
            Counted::Sites => place(&models.sites, key, site),
            Counted::Needs => place(&models.needs, key, need),
            Counted::Issues => place(&models.issues, key, issue),
            Counted::Arrivals => place(&models.reports.arrivals, key, arrivals),
            Counted::Sitreps => place(&models.reports.sitreps, key, sitrep),
            Counted::Alerts => place(&models.reports.alerts, key, alert),
        }
    }

    /// The contribution of one aggregate from the rows a viewer may see (for aggregates
    /// with rows in several slices).
    fn visible_contribution(
        self,
        models: &ReadModels,
        scope: &Scope,
        id: &str,
        visible: &VisibleSlices,
    ) -> Option<Contribution> {
        fn run<V>(
            table: &Table<RowKey, V>,
            scope: &Scope,
            id: &str,
            visible: &VisibleSlices,
            contribution: fn(&str, &[&V]) -> Option<Contribution>,
        ) -> Option<Contribution>
        where
            V: serde::Serialize + serde::de::DeserializeOwned + Default + Clone,
        {
            let group = crate::views::merged_one(table, scope, id, visible)?;
            let rows: Vec<&V> = group.rows.iter().map(|row| &**row).collect();
            contribution(&group.id, &rows)
        }
        match self {
            Counted::Sites => run(&models.sites, scope, id, visible, site),
            Counted::Needs => run(&models.needs, scope, id, visible, need),
            Counted::Issues => run(&models.issues, scope, id, visible, issue),
            Counted::Arrivals => run(&models.reports.arrivals, scope, id, visible, arrivals),
            Counted::Sitreps => run(&models.reports.sitreps, scope, id, visible, sitrep),
            Counted::Alerts => run(&models.reports.alerts, scope, id, visible, alert),
        }
    }
}

/// Where one aggregate's contribution goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// No rows, or one row whose view shows nothing (e.g. a need whose raise was
    /// retracted).
    Nowhere,
    /// All its rows are in one slice.
    Slice(SliceId, Contribution),
    /// Rows in several slices: merged per viewer at query time.
    Several,
}

fn place<V>(
    table: &Table<RowKey, V>,
    key: &RowKey,
    contribution: fn(&str, &[&V]) -> Option<Contribution>,
) -> Placement
where
    V: serde::Serialize + serde::de::DeserializeOwned + Default + Clone,
{
    let mut rows = table.aggregate(key);
    let Some((first_key, first)) = rows.next() else {
        return Placement::Nowhere;
    };
    if rows.next().is_some() {
        return Placement::Several;
    }
    match contribution(&key.id, &[&*first]) {
        Some(c) => Placement::Slice(first_key.slice.clone(), c),
        None => Placement::Nowhere,
    }
}

/// A multiset of moments, for "how many before `now`".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Moments {
    counts: OrdMap<Timestamp, u64>,
    total: u64,
}

impl Moments {
    fn add(&mut self, at: Timestamp, sign: i64) {
        if sign > 0 {
            *self.counts.entry(at).or_default() += 1;
            self.total += 1;
        } else if let Some(count) = self.counts.get_mut(&at) {
            *count -= 1;
            self.total -= 1;
            if *count == 0 {
                self.counts.remove(&at);
            }
        }
    }

    /// How many moments are before `now` (or at it too, with `inclusive`). Walks the
    /// moments below and above `now` side by side and stops when either side ends, so it
    /// costs the smaller side.
    pub fn count_before(&self, now: Timestamp, inclusive: bool) -> u64 {
        let (below_end, above_start) = if inclusive {
            (Bound::Included(now), Bound::Excluded(now))
        } else {
            (Bound::Excluded(now), Bound::Included(now))
        };
        let mut below = self.counts.range((Bound::Unbounded, below_end));
        let mut above = self.counts.range((above_start, Bound::Unbounded));
        let (mut below_sum, mut above_sum) = (0u64, 0u64);
        loop {
            match below.next() {
                Some((_, n)) => below_sum += n,
                None => return below_sum,
            }
            match above.next() {
                Some((_, n)) => above_sum += n,
                None => return self.total - above_sum,
            }
        }
    }

    fn earliest(&self) -> Option<Timestamp> {
        self.counts.get_min().map(|(at, _)| *at)
    }
}

/// A multiset of small values, for "the highest".
type Levels = OrdMap<u8, u64>;

fn count_in<K: Ord + Clone>(map: &mut OrdMap<K, u64>, key: K, sign: i64) {
    if sign > 0 {
        *map.entry(key).or_default() += 1;
    } else if let Some(count) = map.get_mut(&key) {
        *count -= 1;
        if *count == 0 {
            map.remove(&key);
        }
    }
}

fn add_signed(total: &mut u64, amount: u64, sign: i64) {
    if sign > 0 {
        *total += amount;
    } else {
        *total -= amount;
    }
}

/// Open issues of one responsible organisation in one slice.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct OrgSums {
    open: u64,
    unacknowledged: u64,
    escalated: u64,
    due: Moments,
    raised: Moments,
    highest: Levels,
}

impl OrgSums {
    fn add_to(&self, entry: &mut OrgIssues, now: Timestamp) {
        entry.open += small(self.open);
        entry.overdue += small(self.due.count_before(now, false));
        entry.unacknowledged += small(self.unacknowledged);
        entry.escalated += small(self.escalated);
        let oldest = self.raised.earliest().map(|at| now.seconds_since(at));
        entry.oldest_age_seconds = entry.oldest_age_seconds.max(oldest);
        let highest = self.highest.get_max().map_or(0, |(level, _)| *level);
        entry.highest_escalation = entry.highest_escalation.max(highest);
    }
}

/// One slice's sums over the aggregates whose rows all sit in it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SliceFigures {
    /// Every contributing aggregate's last event (sequences are unique per aggregate).
    last_seqs: OrdMap<u64, u64>,
    areas: OrdMap<String, u64>,
    beds: [u64; 7],
    needs_open: u64,
    needs_people: u64,
    needs_by_urgency: OrdMap<Urgency, u64>,
    needs_by_category: OrdMap<NeedCategory, u64>,
    needs_due: Moments,
    claims_expiring: Moments,
    issues_open: u64,
    issues_unacknowledged: u64,
    issues_due: Moments,
    issues_by_org: OrdMap<OrgId, OrgSums>,
    series: u64,
    arrivals_to_date: u64,
    awaiting_placement: u64,
    /// Per day: how many series report it, and their arrivals.
    per_day: OrdMap<String, (u64, u64)>,
    sitreps: OrdMap<(Timestamp, u64), SitrepLine>,
    alerts_live: u64,
    alerts_expiring: Moments,
}

impl SliceFigures {
    fn apply(&mut self, c: &Contribution, sign: i64) {
        count_in(&mut self.last_seqs, c.last_seq, sign);
        for area in &c.areas {
            count_in(&mut self.areas, area.clone(), sign);
        }
        match &c.part {
            Part::Site(t) => {
                let values = [
                    u64::from(t.sites),
                    u64::from(t.open_sites),
                    t.capacity,
                    t.occupied,
                    t.reserved,
                    t.free,
                    u64::from(t.over_capacity_sites),
                ];
                for (sum, value) in self.beds.iter_mut().zip(values) {
                    add_signed(sum, value, sign);
                }
            }
            Part::Need(None) => {}
            Part::Need(Some(open)) => {
                add_signed(&mut self.needs_open, 1, sign);
                add_signed(&mut self.needs_people, open.people, sign);
                if let Some(urgency) = open.urgency {
                    count_in(&mut self.needs_by_urgency, urgency, sign);
                }
                if let Some(category) = open.category {
                    count_in(&mut self.needs_by_category, category, sign);
                }
                if let Some(by) = open.needed_by {
                    self.needs_due.add(by, sign);
                }
                if let Some(at) = open.claim_expires_at {
                    self.claims_expiring.add(at, sign);
                }
            }
            Part::Issue(None) => {}
            Part::Issue(Some(open)) => {
                add_signed(&mut self.issues_open, 1, sign);
                add_signed(
                    &mut self.issues_unacknowledged,
                    u64::from(!open.acknowledged),
                    sign,
                );
                if let Some(by) = open.due_by {
                    self.issues_due.add(by, sign);
                }
                if let Some(org) = &open.responsible {
                    let sums = self.issues_by_org.entry(org.clone()).or_default();
                    add_signed(&mut sums.open, 1, sign);
                    add_signed(
                        &mut sums.unacknowledged,
                        u64::from(!open.acknowledged),
                        sign,
                    );
                    add_signed(&mut sums.escalated, u64::from(open.escalated), sign);
                    if let Some(by) = open.due_by {
                        sums.due.add(by, sign);
                    }
                    sums.raised.add(open.raised_at, sign);
                    count_in(&mut sums.highest, open.highest_escalation, sign);
                    if sums.open == 0 {
                        self.issues_by_org.remove(org);
                    }
                }
            }
            Part::Arrivals {
                to_date,
                awaiting_placement,
                per_day,
            } => {
                add_signed(&mut self.series, 1, sign);
                add_signed(&mut self.arrivals_to_date, *to_date, sign);
                add_signed(&mut self.awaiting_placement, *awaiting_placement, sign);
                for (day, n) in per_day {
                    let entry = self.per_day.entry(day.clone()).or_default();
                    add_signed(&mut entry.0, 1, sign);
                    add_signed(&mut entry.1, *n, sign);
                    if entry.0 == 0 {
                        self.per_day.remove(day);
                    }
                }
            }
            Part::Sitrep { report_seq, line } => {
                let key = (line.period_to, *report_seq);
                if sign > 0 {
                    self.sitreps.insert(key, line.clone());
                } else {
                    self.sitreps.remove(&key);
                }
            }
            Part::Alert {
                cancelled,
                expires_at,
            } => {
                if !cancelled {
                    add_signed(&mut self.alerts_live, 1, sign);
                    if let Some(at) = expires_at {
                        self.alerts_expiring.add(*at, sign);
                    }
                }
            }
        }
    }
}

/// Every slice's figures and the aggregates merged at query time.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct PictureFigures {
    slices: OrdMap<(Scope, SliceId), Arc<SliceFigures>>,
    several: OrdSet<(Scope, Counted, String)>,
}

impl std::fmt::Debug for PictureFigures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PictureFigures")
            .field("slices", &self.slices.len())
            .field("several", &self.several.len())
            .finish()
    }
}

impl PictureFigures {
    /// Replaces the aggregate at `key`'s placement `before` a change with the one after.
    pub fn replace(&mut self, counted: Counted, key: &RowKey, before: Placement, after: Placement) {
        if before == after {
            return;
        }
        self.place(counted, key, before, -1);
        self.place(counted, key, after, 1);
    }

    fn place(&mut self, counted: Counted, key: &RowKey, placement: Placement, sign: i64) {
        match placement {
            Placement::Nowhere => {}
            Placement::Slice(slice, contribution) => {
                let slice_key = (key.scope.clone(), slice);
                let figures = self.slices.entry(slice_key.clone()).or_default();
                let figures = Arc::make_mut(figures);
                figures.apply(&contribution, sign);
                // Every contribution holds a last sequence: none left, nothing left.
                if figures.last_seqs.is_empty() {
                    self.slices.remove(&slice_key);
                }
            }
            Placement::Several => {
                let entry = (key.scope.clone(), counted, key.id.clone());
                if sign > 0 {
                    self.several.insert(entry);
                } else {
                    self.several.remove(&entry);
                }
            }
        }
    }

    /// How many aggregates have rows in several slices (merged at query time).
    pub fn several_len(&self) -> usize {
        self.several.len()
    }

    /// Every scope with a counted aggregate.
    pub fn scopes(&self) -> BTreeSet<Scope> {
        let mut scopes: BTreeSet<Scope> = self.slices.keys().map(|(s, _)| s.clone()).collect();
        scopes.extend(self.several.iter().map(|(s, _, _)| s.clone()));
        scopes
    }

    /// The figures of `scope` over the slices a viewer may see, at `now`.
    /// `sitreps` is how many of the latest reports to keep; `with_areas` asks for the
    /// areas named (only the picture by area needs them).
    pub fn sum(
        &self,
        models: &ReadModels,
        scope: &Scope,
        visible: &VisibleSlices,
        now: Timestamp,
        sitreps: usize,
        with_areas: bool,
    ) -> Summed {
        // Aggregates with rows in several slices: merged from the rows this viewer sees,
        // then summed like one more slice.
        let mut merged = SliceFigures::default();
        let start = (scope.clone(), Counted::Sites, String::new());
        for (several_scope, counted, id) in self.several.range(start..) {
            if several_scope != scope {
                break;
            }
            if let Some(c) = counted.visible_contribution(models, scope, id, visible) {
                merged.apply(&c, 1);
            }
        }
        let start = (scope.clone(), SliceId::network());
        let slices = self
            .slices
            .range(start..)
            .take_while(|((slice_scope, _), _)| slice_scope == scope)
            .filter(|((_, slice), _)| visible.contains(slice))
            .map(|(_, figures)| &**figures)
            .chain([&merged]);
        let mut summed = Summed::default();
        let mut latest_reports: Vec<(&(Timestamp, u64), &SitrepLine)> = Vec::new();
        for figures in slices {
            summed.add(figures, now, with_areas);
            latest_reports.extend(figures.sitreps.iter().rev().take(sitreps));
        }
        latest_reports.sort_by_key(|(key, _)| std::cmp::Reverse(**key));
        summed.sitreps = latest_reports
            .into_iter()
            .take(sitreps)
            .map(|(_, line)| line.clone())
            .collect();
        summed
    }
}

/// The figures of one scope for one viewer at one `now`, before suppression.
#[derive(Debug, Clone, Default)]
pub struct Summed {
    pub last_seq: u64,
    pub areas: BTreeSet<String>,
    pub beds: HousingTotals,
    pub needs_open: u32,
    pub needs_overdue: u32,
    pub claims_expired: u32,
    pub needs_by_urgency: BTreeMap<Urgency, u32>,
    pub needs_by_category: BTreeMap<NeedCategory, u32>,
    pub people_open: u64,
    pub issues_open: u32,
    pub issues_overdue: u32,
    pub issues_unacknowledged: u32,
    pub issues_by_org: BTreeMap<OrgId, OrgIssues>,
    pub series: u32,
    pub arrivals_to_date: u64,
    pub awaiting_placement: u64,
    pub per_day: BTreeMap<String, u64>,
    /// The latest reports, latest first.
    pub sitreps: Vec<SitrepLine>,
    pub active_alerts: u32,
}

fn small(count: u64) -> u32 {
    u32::try_from(count).unwrap_or(u32::MAX)
}

impl Summed {
    fn add(&mut self, f: &SliceFigures, now: Timestamp, with_areas: bool) {
        if let Some((seq, _)) = f.last_seqs.get_max() {
            self.last_seq = self.last_seq.max(*seq);
        }
        if with_areas {
            self.areas.extend(f.areas.keys().cloned());
        }
        let [sites, open_sites, capacity, occupied, reserved, free, over] = f.beds;
        self.beds.sites += small(sites);
        self.beds.open_sites += small(open_sites);
        self.beds.capacity += capacity;
        self.beds.occupied += occupied;
        self.beds.reserved += reserved;
        self.beds.free += free;
        self.beds.over_capacity_sites += small(over);
        self.needs_open += small(f.needs_open);
        self.needs_overdue += small(f.needs_due.count_before(now, false));
        self.claims_expired += small(f.claims_expiring.count_before(now, false));
        for (urgency, n) in &f.needs_by_urgency {
            *self.needs_by_urgency.entry(*urgency).or_default() += small(*n);
        }
        for (category, n) in &f.needs_by_category {
            *self.needs_by_category.entry(*category).or_default() += small(*n);
        }
        self.people_open += f.needs_people;
        self.issues_open += small(f.issues_open);
        self.issues_overdue += small(f.issues_due.count_before(now, false));
        self.issues_unacknowledged += small(f.issues_unacknowledged);
        for (org, sums) in &f.issues_by_org {
            // Most organisations recur in every slice: clone the id only the first time.
            match self.issues_by_org.get_mut(org) {
                Some(entry) => sums.add_to(entry, now),
                None => {
                    let mut entry = OrgIssues::default();
                    sums.add_to(&mut entry, now);
                    self.issues_by_org.insert(org.clone(), entry);
                }
            }
        }
        self.series += small(f.series);
        self.arrivals_to_date += f.arrivals_to_date;
        self.awaiting_placement += f.awaiting_placement;
        for (day, (_, n)) in &f.per_day {
            match self.per_day.get_mut(day) {
                Some(sum) => *sum += n,
                None => {
                    self.per_day.insert(day.clone(), *n);
                }
            }
        }
        self.active_alerts += small(f.alerts_live - f.alerts_expiring.count_before(now, true));
    }
}

/// Works every figure out from the rows: what opening a store with backed tables does,
/// and what tests hold the fold's running figures to.
pub fn rebuilt(models: &ReadModels) -> PictureFigures {
    /// One key per aggregate (its first row's), in key order.
    fn aggregates<V>(table: &Table<RowKey, V>) -> Vec<RowKey>
    where
        V: serde::Serialize + serde::de::DeserializeOwned + Default + Clone,
    {
        let mut keys: Vec<RowKey> = Vec::new();
        for (key, _) in table.iter() {
            let same = keys
                .last()
                .is_some_and(|last| last.scope == key.scope && last.id == key.id);
            if !same {
                keys.push(key.into_owned());
            }
        }
        keys
    }
    let mut figures = PictureFigures::default();
    for counted in Counted::ALL {
        let keys = match counted {
            Counted::Sites => aggregates(&models.sites),
            Counted::Needs => aggregates(&models.needs),
            Counted::Issues => aggregates(&models.issues),
            Counted::Arrivals => aggregates(&models.reports.arrivals),
            Counted::Sitreps => aggregates(&models.reports.sitreps),
            Counted::Alerts => aggregates(&models.reports.alerts),
        };
        for key in keys {
            figures.place(counted, &key, counted.placement(models, &key), 1);
        }
    }
    figures
}
