//! The contract's tests: one binary, a module per concern.
//!
//! - `freshness`: the checked-in schemas, vectors and README table match the code.
//! - `vectors`: every kind has a vector pair that decodes, re-encodes byte for byte and
//!   validates against its JSON Schema; the old-version vector upcasts.
//! - `examples`: the examples are valid and fill every field; the catalogue is consistent.
//! - `rejections`: bad input is refused with the right error code and field, never a panic.
//! - `subjects`: NATS subjects are built and parsed strictly.
//! - `properties`: property tests over generated events of every kind (strategies in
//!   `strategies` and `strategies_reports.rs`) and over arbitrary and mutated bytes.
//! - `support`: shared helpers.

#[path = "contract/examples.rs"]
mod examples;
#[path = "contract/freshness.rs"]
mod freshness;
#[path = "contract/properties.rs"]
mod properties;
#[path = "contract/rejections.rs"]
mod rejections;
#[path = "contract/strategies.rs"]
mod strategies;
#[path = "contract/subjects.rs"]
mod subjects;
#[path = "contract/support.rs"]
mod support;
#[path = "contract/vectors.rs"]
mod vectors;
