//! samla-api against a real nats-server with Samla's permission block: the HTTP door
//! through the router (no socket), the NATS door as organisation users, races and group
//! commit through both, `run` over real sockets, the read side's answers and errors,
//! sessions, and the OpenAPI document against the router and real answers.
//!
//! One permissioned server serves the whole binary (`common::fixture`); tests isolate
//! themselves by incident id. Tests that stop a server start their own.

#[path = "api/as_of.rs"]
mod as_of;
#[path = "api/common.rs"]
mod common;
#[path = "api/lifecycle.rs"]
mod lifecycle;
#[path = "api/nats_door.rs"]
mod nats_door;
#[path = "api/openapi.rs"]
mod openapi;
#[path = "api/query_errors.rs"]
mod query_errors;
#[path = "api/races.rs"]
mod races;
#[path = "api/read_side.rs"]
mod read_side;
#[path = "api/router.rs"]
mod router;
#[path = "api/session.rs"]
mod session;
