//! End-to-end tests of the `samla` binary: each runs the real command as a child process
//! (a real managed nats-server, real sled files, the real HTTP API) and talks to it as a
//! user or a script would.

#[path = "samla/bench.rs"]
mod bench;
#[path = "samla/common.rs"]
mod common;
#[path = "samla/config.rs"]
mod config;
#[path = "samla/deploy.rs"]
mod deploy;
#[path = "samla/emit.rs"]
mod emit;
#[path = "samla/examples.rs"]
mod examples;
#[path = "samla/import.rs"]
mod import;
#[path = "samla/replay.rs"]
mod replay;
#[path = "samla/sitrep.rs"]
mod sitrep;
#[path = "samla/up.rs"]
mod up;
