//! Needs: raised → claimed (until the claim expires) → met in part or fully, or
//! cancelled; a claim can be released, and the raiser can update quantity, urgency and
//! deadline.
//!
//! The row keeps the facts, not a status: gauges for what later events replace (quantity,
//! urgency, the current claim), a counter for the quantity met, and small maps keyed by
//! sequence for moments that durations need (every claim's and every full meeting's
//! `occurred_at`). The view derives the status from the merged facts and a `now`, so a
//! claim expires at query time and slices merge without contradiction.

use proto_events::vocab::{Fulfilment, NeedCategory, Unit, Urgency};
use proto_events::{Envelope, OrgId, Payload, Timestamp};
use serde::{Deserialize, Serialize};

use super::{Common, Effect, Marks, Position, mark, put};
use crate::gauge::{Counter, Gauge};
use crate::table::{RowKey, Table};

/// A claim on a need: who will meet it, until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    pub org: OrgId,
    pub expires_at: Timestamp,
    /// The part claimed; `None` is all of it.
    pub quantity: Option<u32>,
}

/// One need in one slice.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NeedRow {
    pub common: Common,
    /// The raising organisation (kept apart from `common.owner`: in a slice where the
    /// need's first event is a claim, that slice's owner is the claimer).
    pub raised_by: Gauge<OrgId>,
    /// When the need was raised (`occurred_at`).
    pub raised_at: Gauge<Timestamp>,
    pub category: Gauge<NeedCategory>,
    pub subcategory: Gauge<Option<String>>,
    pub quantity: Gauge<u32>,
    pub unit: Gauge<Unit>,
    pub people: Gauge<Option<u32>>,
    pub urgency: Gauge<Urgency>,
    pub needed_by: Gauge<Option<Timestamp>>,
    pub addressed_to: Gauge<Option<OrgId>>,
    pub language: Gauge<Option<String>>,
    /// The current claim; a release sets `None`.
    pub claim: Gauge<Option<Claim>>,
    /// Every claim's `occurred_at`, by the sequence that set it (time to first claim).
    pub claimed_at: Marks,
    /// The quantity met so far (partly and fully).
    pub met_quantity: Counter,
    /// Every `fully` meeting's `occurred_at`, by sequence (time to meet).
    pub fully_met_at: Marks,
    /// When the need was cancelled (`occurred_at`).
    pub cancelled_at: Gauge<Timestamp>,
}

pub fn effect(
    table: &mut Table<RowKey, NeedRow>,
    key: &RowKey,
    envelope: &Envelope,
    payload: &Payload,
    at: &Position,
    effect: Effect,
) {
    match payload {
        Payload::NeedRaised(p) => {
            let row = table.row_mut(key.clone());
            row.common.touch(envelope, at, effect);
            put(&mut row.raised_by, at, effect, envelope.org.clone());
            put(&mut row.raised_at, at, effect, at.occurred_at);
            put(&mut row.category, at, effect, p.category);
            put(
                &mut row.subcategory,
                at,
                effect,
                p.subcategory.as_ref().map(|s| s.as_str().to_string()),
            );
            put(&mut row.quantity, at, effect, p.quantity);
            put(&mut row.unit, at, effect, p.unit);
            put(&mut row.people, at, effect, p.people);
            put(&mut row.urgency, at, effect, p.urgency);
            put(&mut row.needed_by, at, effect, p.needed_by);
            put(&mut row.addressed_to, at, effect, p.addressed_to.clone());
            put(
                &mut row.language,
                at,
                effect,
                p.language.as_ref().map(|l| l.as_str().to_string()),
            );
        }
        Payload::NeedUpdated(p) => {
            let row = table.row_mut(key.clone());
            row.common.touch(envelope, at, effect);
            if let Some(quantity) = p.quantity {
                put(&mut row.quantity, at, effect, quantity);
            }
            if let Some(urgency) = p.urgency {
                put(&mut row.urgency, at, effect, urgency);
            }
            if let Some(needed_by) = p.needed_by {
                put(&mut row.needed_by, at, effect, Some(needed_by));
            }
        }
        Payload::NeedClaimed(p) => {
            let row = table.row_mut(key.clone());
            row.common.touch(envelope, at, effect);
            let claim = Claim {
                org: envelope.org.clone(),
                expires_at: p.claim_expires_at,
                quantity: p.quantity,
            };
            put(&mut row.claim, at, effect, Some(claim));
            mark(&mut row.claimed_at, at, effect);
        }
        Payload::NeedClaimReleased(_) => {
            let row = table.row_mut(key.clone());
            row.common.touch(envelope, at, effect);
            put(&mut row.claim, at, effect, None);
        }
        Payload::NeedMet(p) => {
            let row = table.row_mut(key.clone());
            row.common.touch(envelope, at, effect);
            row.met_quantity.add(u64::from(p.quantity), effect.sign());
            if p.fulfilment == Fulfilment::Fully {
                mark(&mut row.fully_met_at, at, effect);
            }
        }
        Payload::NeedCancelled(_) => {
            let row = table.row_mut(key.clone());
            row.common.touch(envelope, at, effect);
            put(&mut row.cancelled_at, at, effect, at.occurred_at);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests;
