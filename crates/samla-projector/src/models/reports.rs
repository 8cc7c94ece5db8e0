//! STUB (lead): the models helper fills this in.

use proto_events::{Envelope, Payload};

use super::{Effect, Position};
use crate::error::ProjectorError;
use crate::store::Change;
use crate::table::RowKey;

#[derive(Debug, Clone, Default)]
pub struct Reports {}

impl Reports {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn effect(
        &mut self,
        _key: &RowKey,
        _envelope: &Envelope,
        _payload: &Payload,
        _at: &Position,
        _effect: Effect,
    ) {
    }

    pub fn drain_changes(&mut self, _out: &mut Vec<Change>) {}

    /// Whether `table` (the name after `m/`) is one of this model's tables.
    pub fn owns(&self, _table: &str) -> bool {
        false
    }

    pub fn load(&mut self, _key: &[u8], _value: &[u8]) -> Result<(), ProjectorError> {
        Ok(())
    }
}
