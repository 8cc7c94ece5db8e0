//! Payload types, one per event kind, grouped as in the catalogue. Every payload refuses
//! unknown fields and omits absent optional fields, so its encoding is deterministic.
//! The aggregate an event concerns is in the envelope (`aggregate`), never repeated here.

pub mod coordination;
pub mod housing;
pub mod hygiene;
pub mod issues;
pub mod needs;
pub mod network;
pub mod reports;
pub mod resources;

pub use coordination::*;
pub use housing::*;
pub use hygiene::*;
pub use issues::*;
pub use needs::*;
pub use network::*;
pub use reports::*;
pub use resources::*;
