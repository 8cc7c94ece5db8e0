//! # samla-tests — end-to-end tests across Samla's crates
//!
//! The tests are in `tests/` (one binary per subject, e.g. `tests/dashboard.rs`); this
//! library holds what they share:
//!
//! - [`stack`]: a whole replica in the test process — a real nats-server (samla-testkit),
//!   the ingest service, a projector and the query API, with the dashboard merged into
//!   the router, served on a loopback port — and the seeded demo crisis loaded through
//!   the ingest door as each organisation.
//! - [`browser`]: headless Chromium driven over WebDriver (Debian's `chromium` and
//!   `chromium-driver`, installed by `deploy/install-chromium.sh`), each session with a
//!   fresh profile, screenshots, and waiting on the page with a deadline.
//!
//! What it is not: no mock of anything; every part is the real one.

pub mod browser;
pub mod stack;
