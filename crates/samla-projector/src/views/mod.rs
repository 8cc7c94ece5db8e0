//! Views: what a viewer sees, merged from the slices it may see at query time.
//!
//! Every view takes the [`ReadModels`], a [`Scope`] (incident and status), a [`Viewer`]
//! and, where time matters, a `now` (the wall clock live, T in a replay). Views are plain
//! data for the API to serialise; they compute ages, overdue flags and expired claims
//! from `now`, never from the clock.

pub mod issues;
pub mod needs;
pub mod network;
pub mod picture;
pub mod reports;
pub mod resources;
pub mod sites;

use std::borrow::Cow;
use std::collections::HashSet;
use std::ops::Deref;

use proto_events::{OrgId, Timestamp};

use crate::gauge::{Gauge, latest};

use crate::models::{Marks, ReadModels};
use crate::table::{RowKey, Scope, Table};
use crate::visibility::{SliceId, Viewer};

/// The slices one viewer may see in one scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisibleSlices {
    network: bool,
    restricted: HashSet<SliceId>,
}

impl VisibleSlices {
    /// Works out which slices `viewer` may see in `scope`.
    pub fn new(models: &ReadModels, scope: &Scope, viewer: &Viewer) -> Self {
        let network_member = match viewer {
            Viewer::Org(org) => models.network.is_member(scope, org),
            Viewer::Share | Viewer::Operator => true,
        };
        let restricted = models
            .slices
            .iter()
            .filter(|(key, _)| key.incident == scope.incident)
            .filter(|(key, row)| viewer.sees(&key.slice, Some(&row.members), network_member))
            .map(|(key, _)| key.slice.clone())
            .collect();
        Self {
            network: viewer.sees(&SliceId::network(), None, network_member),
            restricted,
        }
    }

    pub fn contains(&self, slice: &SliceId) -> bool {
        if slice.is_network() {
            self.network
        } else {
            self.restricted.contains(slice)
        }
    }
}

/// One aggregate's rows in the slices a viewer may see (borrowed from memory, or read
/// from the store).
#[derive(Debug)]
pub struct Merged<'a, V: Clone> {
    pub id: String,
    pub rows: Vec<Cow<'a, V>>,
}

/// Every aggregate of `table` in `scope` with at least one visible row, in id order, its
/// visible rows gathered (rows of one aggregate sort together by key).
pub fn merged<'a, V>(
    table: &'a Table<RowKey, V>,
    scope: &Scope,
    visible: &VisibleSlices,
) -> Vec<Merged<'a, V>>
where
    V: serde::de::DeserializeOwned + Clone,
{
    let start = RowKey {
        scope: scope.clone(),
        id: String::new(),
        slice: SliceId::network(),
    };
    let mut out: Vec<Merged<'a, V>> = Vec::new();
    for (key, row) in table.range(start..) {
        if key.scope != *scope {
            break;
        }
        if !visible.contains(&key.slice) {
            continue;
        }
        match out.last_mut() {
            Some(last) if last.id == key.id => last.rows.push(row),
            _ => out.push(Merged {
                id: key.into_owned().id,
                rows: vec![row],
            }),
        }
    }
    out
}

/// One aggregate's visible rows, if any.
pub fn merged_one<'a, V>(
    table: &'a Table<RowKey, V>,
    scope: &Scope,
    id: &str,
    visible: &VisibleSlices,
) -> Option<Merged<'a, V>>
where
    V: serde::de::DeserializeOwned + Clone,
{
    let start = RowKey {
        scope: scope.clone(),
        id: id.to_string(),
        slice: SliceId::network(),
    };
    let rows: Vec<Cow<'a, V>> = table
        .range(start..)
        .take_while(|(key, _)| key.scope == *scope && key.id == id)
        .filter(|(key, _)| visible.contains(&key.slice))
        .map(|(_, row)| row)
        .collect();
    (!rows.is_empty()).then(|| Merged {
        id: id.to_string(),
        rows,
    })
}

/// A count of people as shown to a viewer: a number, or — for views beyond the network —
/// suppressed when small (a marked non-number, never a fake integer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeopleCount {
    Count(u64),
    /// Fewer than the threshold; the true number is not shown.
    Suppressed {
        below: u64,
    },
}

/// On the wire: a number, or `{"suppressed": true, "below": 5}` — never a fake integer.
impl serde::Serialize for PeopleCount {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        match self {
            PeopleCount::Count(count) => serializer.serialize_u64(*count),
            PeopleCount::Suppressed { below } => {
                let mut s = serializer.serialize_struct("Suppressed", 2)?;
                s.serialize_field("suppressed", &true)?;
                s.serialize_field("below", below)?;
                s.end()
            }
        }
    }
}

/// Counts of people below this are suppressed in views beyond the network.
pub const DEFAULT_SUPPRESSION_THRESHOLD: u64 = 5;

impl PeopleCount {
    pub fn for_viewer(count: u64, viewer: &Viewer, threshold: u64) -> Self {
        if viewer.suppresses_small_counts() && count > 0 && count < threshold {
            PeopleCount::Suppressed { below: threshold }
        } else {
            PeopleCount::Count(count)
        }
    }
}

/// The organisations an org viewer is, for filters.
pub fn viewer_org(viewer: &Viewer) -> Option<&OrgId> {
    match viewer {
        Viewer::Org(org) => Some(org),
        _ => None,
    }
}

/// Summary of durations in whole seconds (integers: views stay exact and comparable).
#[derive(serde::Serialize, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DurationStats {
    pub count: u32,
    pub mean_seconds: Option<i64>,
    /// The lower median.
    pub median_seconds: Option<i64>,
    pub max_seconds: Option<i64>,
}

impl DurationStats {
    pub fn of(mut samples: Vec<i64>) -> Self {
        if samples.is_empty() {
            return Self::default();
        }
        samples.sort_unstable();
        let count = samples.len();
        let sum: i128 = samples.iter().map(|s| i128::from(*s)).sum();
        DurationStats {
            count: u32::try_from(count).unwrap_or(u32::MAX),
            mean_seconds: i64::try_from(sum / count as i128).ok(),
            median_seconds: Some(samples[(count - 1) / 2]),
            max_seconds: samples.last().copied(),
        }
    }
}

/// The latest value of one gauge over an aggregate's visible rows: the merge rule for
/// gauges, cloned out. Rows as borrowed (`&V`) or as read ([`Cow`]).
pub fn value<'a, V: 'a, R: Deref<Target = V>, T: Clone + 'a>(
    rows: &'a [R],
    gauge: impl Fn(&'a V) -> &'a Gauge<T>,
) -> Option<T> {
    latest(rows.iter().map(|row| gauge(row))).map(|(_, v)| v.clone())
}

/// The last event on an aggregate over its visible rows.
pub fn last_seq<V, R: Deref<Target = V>>(rows: &[R], seq: impl Fn(&V) -> u64) -> u64 {
    rows.iter().map(|row| seq(row)).max().unwrap_or(0)
}

/// The earliest moment over several slices' moment maps.
pub fn earliest<'a>(maps: impl IntoIterator<Item = &'a Marks>) -> Option<Timestamp> {
    maps.into_iter().flat_map(Marks::values).min()
}
