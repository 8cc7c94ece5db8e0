//! Sites and housing: capacity declared vs occupied vs reserved vs free per site, site
//! status, and housing offers (open, answered, withdrawn).

use proto_events::vocab::{HousingType, OfferAnswer, SiteKind, SiteStatus};
use proto_events::{Envelope, OrgId, Payload};
use serde::{Deserialize, Serialize};

use super::{Common, Effect, Position, put};
use crate::gauge::{Counter, Gauge};
use crate::table::{RowKey, Table};

/// One site in one slice.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteRow {
    pub common: Common,
    pub name: Gauge<String>,
    pub kind: Gauge<SiteKind>,
    pub capacity: Gauge<u32>,
    pub night_only_beds: Gauge<u32>,
    pub occupied: Gauge<u32>,
    pub reserved: Gauge<u32>,
    pub status: Gauge<SiteStatus>,
}

/// Where a housing offer stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OfferState {
    Open,
    Accepted,
    Declined,
    Withdrawn,
}

/// One housing offer in one slice.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferRow {
    pub common: Common,
    pub housing_type: Gauge<HousingType>,
    pub units: Gauge<u32>,
    pub beds: Gauge<u32>,
    pub available_from: Gauge<String>,
    pub available_until: Gauge<String>,
    pub offered_to: Gauge<OrgId>,
    pub state: Gauge<OfferState>,
    /// Beds taken by accepting answers.
    pub beds_taken: Counter,
}

pub fn effect(
    sites: &mut Table<RowKey, SiteRow>,
    offers: &mut Table<RowKey, OfferRow>,
    key: &RowKey,
    envelope: &Envelope,
    payload: &Payload,
    at: &Position,
    effect: Effect,
) {
    match payload {
        Payload::SiteRegistered(p) => {
            let row = sites.row_mut(key.clone());
            row.common.touch(envelope, at, effect);
            put(&mut row.name, at, effect, p.name.as_str().to_string());
            put(&mut row.kind, at, effect, p.site_kind);
            if row.status.is_empty() || effect == Effect::Undo {
                put(&mut row.status, at, effect, SiteStatus::Open);
            }
        }
        Payload::CapacityDeclared(p) => {
            let row = sites.row_mut(key.clone());
            row.common.touch(envelope, at, effect);
            put(&mut row.capacity, at, effect, p.beds);
            put(
                &mut row.night_only_beds,
                at,
                effect,
                p.night_only_beds.unwrap_or(0),
            );
        }
        Payload::OccupancyReported(p) => {
            let row = sites.row_mut(key.clone());
            row.common.touch(envelope, at, effect);
            put(&mut row.occupied, at, effect, p.occupied);
            put(&mut row.reserved, at, effect, p.reserved);
            if let Some(capacity) = p.capacity {
                put(&mut row.capacity, at, effect, capacity);
            }
        }
        Payload::SiteStatusChanged(p) => {
            let row = sites.row_mut(key.clone());
            row.common.touch(envelope, at, effect);
            put(&mut row.status, at, effect, p.site_status);
        }
        Payload::HousingOffered(p) => {
            let row = offers.row_mut(key.clone());
            row.common.touch(envelope, at, effect);
            put(&mut row.housing_type, at, effect, p.housing_type);
            put(&mut row.units, at, effect, p.units);
            put(&mut row.beds, at, effect, p.beds);
            put(
                &mut row.available_from,
                at,
                effect,
                p.available_from.to_string(),
            );
            if let Some(until) = p.available_until {
                put(&mut row.available_until, at, effect, until.to_string());
            }
            if let Some(to) = &p.offered_to {
                put(&mut row.offered_to, at, effect, to.clone());
            }
            put(&mut row.state, at, effect, OfferState::Open);
        }
        Payload::HousingOfferWithdrawn(_) => {
            let row = offers.row_mut(key.clone());
            row.common.touch(envelope, at, effect);
            put(&mut row.state, at, effect, OfferState::Withdrawn);
        }
        Payload::OfferAnswered(p) => {
            let row = offers.row_mut(key.clone());
            row.common.touch(envelope, at, effect);
            let state = match p.answer {
                OfferAnswer::Accepted => OfferState::Accepted,
                OfferAnswer::Declined => OfferState::Declined,
            };
            put(&mut row.state, at, effect, state);
            if p.answer == OfferAnswer::Accepted {
                let taken = p
                    .quantity
                    .or_else(|| row.beds.value().copied())
                    .unwrap_or(0);
                row.beds_taken.add(u64::from(taken), effect.sign());
            }
        }
        _ => {}
    }
}
