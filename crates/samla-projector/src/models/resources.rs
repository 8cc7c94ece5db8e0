//! Resources: offered, committed against needs or housing offers, delivered, released,
//! asked back, withdrawn.
//!
//! The offer itself is a gauge (a new offer on the same aggregate replaces the quantity);
//! what flows against it adds up in counters (committed, delivered, released), with the
//! commitments per need and per housing offer kept apart so the needs board can show who
//! committed what. The state is the last step taken, a gauge, so slices merge to the
//! latest step the viewer may see.

use std::collections::BTreeMap;

use proto_events::vocab::{ResourceCategory, Unit};
use proto_events::{Envelope, OrgId, Payload, Timestamp};
use serde::{Deserialize, Serialize};

use super::{Common, Effect, Position, put};
use crate::gauge::{Counter, Gauge};
use crate::table::{RowKey, Table};

/// The last step taken with a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceState {
    Offered,
    Committed,
    Delivered,
    Released,
    ReturnRequested,
    Withdrawn,
}

impl ResourceState {
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceState::Offered => "offered",
            ResourceState::Committed => "committed",
            ResourceState::Delivered => "delivered",
            ResourceState::Released => "released",
            ResourceState::ReturnRequested => "return_requested",
            ResourceState::Withdrawn => "withdrawn",
        }
    }
}

/// One resource in one slice.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceRow {
    pub common: Common,
    pub offered_by: Gauge<OrgId>,
    pub offered_at: Gauge<Timestamp>,
    pub category: Gauge<ResourceCategory>,
    pub unit: Gauge<Unit>,
    /// The quantity offered.
    pub offered: Gauge<u32>,
    pub available_from: Gauge<Option<Timestamp>>,
    pub available_until: Gauge<Option<Timestamp>>,
    pub committed: Counter,
    /// Committed per need id.
    pub committed_to_needs: BTreeMap<String, Counter>,
    /// Committed per housing offer id.
    pub committed_to_offers: BTreeMap<String, Counter>,
    pub delivered: Counter,
    /// Released with a stated quantity.
    pub released: Counter,
    /// Whether the latest release gave back everything in use (no quantity stated).
    pub released_all: Gauge<bool>,
    pub return_by: Gauge<Timestamp>,
    pub withdrawn_at: Gauge<Timestamp>,
    pub state: Gauge<ResourceState>,
}

pub fn effect(
    table: &mut Table<RowKey, ResourceRow>,
    key: &RowKey,
    envelope: &Envelope,
    payload: &Payload,
    at: &Position,
    effect: Effect,
) {
    let sign = effect.sign();
    match payload {
        Payload::ResourceOffered(p) => {
            let row = table.row_mut(key.clone());
            row.common.touch(envelope, at, effect);
            put(&mut row.offered_by, at, effect, envelope.org.clone());
            put(&mut row.offered_at, at, effect, at.occurred_at);
            put(&mut row.category, at, effect, p.category);
            put(&mut row.unit, at, effect, p.unit);
            put(&mut row.offered, at, effect, p.quantity);
            put(&mut row.available_from, at, effect, p.available_from);
            put(&mut row.available_until, at, effect, p.available_until);
            put(&mut row.state, at, effect, ResourceState::Offered);
        }
        Payload::ResourceCommitted(p) => {
            let row = table.row_mut(key.clone());
            row.common.touch(envelope, at, effect);
            let quantity = u64::from(p.quantity);
            row.committed.add(quantity, sign);
            if let Some(need) = &p.need {
                add_to(&mut row.committed_to_needs, need.as_str(), quantity, effect);
            }
            if let Some(offer) = &p.offer {
                add_to(
                    &mut row.committed_to_offers,
                    offer.as_str(),
                    quantity,
                    effect,
                );
            }
            put(&mut row.state, at, effect, ResourceState::Committed);
        }
        Payload::ResourceDelivered(p) => {
            let row = table.row_mut(key.clone());
            row.common.touch(envelope, at, effect);
            row.delivered.add(u64::from(p.quantity), sign);
            put(&mut row.state, at, effect, ResourceState::Delivered);
        }
        Payload::ResourceReleased(p) => {
            let row = table.row_mut(key.clone());
            row.common.touch(envelope, at, effect);
            if let Some(quantity) = p.quantity {
                row.released.add(u64::from(quantity), sign);
            }
            put(&mut row.released_all, at, effect, p.quantity.is_none());
            put(&mut row.state, at, effect, ResourceState::Released);
        }
        Payload::ResourceReturnRequested(p) => {
            let row = table.row_mut(key.clone());
            row.common.touch(envelope, at, effect);
            put(&mut row.return_by, at, effect, p.return_by);
            put(&mut row.state, at, effect, ResourceState::ReturnRequested);
        }
        Payload::ResourceWithdrawn(_) => {
            let row = table.row_mut(key.clone());
            row.common.touch(envelope, at, effect);
            put(&mut row.withdrawn_at, at, effect, at.occurred_at);
            put(&mut row.state, at, effect, ResourceState::Withdrawn);
        }
        _ => {}
    }
}

/// Adds to (or, undoing, subtracts from) one entry of a per-target counter map, dropping
/// entries that fall back to zero so an undone commitment leaves no trace.
fn add_to(map: &mut BTreeMap<String, Counter>, target: &str, quantity: u64, effect: Effect) {
    let counter = map.entry(target.to_string()).or_default();
    counter.add(quantity, effect.sign());
    if effect == Effect::Undo && counter.get() == 0 {
        map.remove(target);
    }
}

#[cfg(test)]
mod tests;
