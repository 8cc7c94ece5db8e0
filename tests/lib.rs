//! End-to-end tests across crates live in `tests/e2e.rs`; this library is empty on purpose.
