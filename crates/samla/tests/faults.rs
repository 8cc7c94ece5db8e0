//! Fault tests of the production shape: `samla serve` as a child process against a real,
//! permissioned nats-server (or a 3-node cluster), broken on purpose (SIGKILLed, its NATS
//! stopped, its stream leader killed, its log filled, its read models damaged, its doors
//! fed garbage, its log attacked by its own clients), each test checking afterwards that
//! nothing acknowledged was lost and that the picture is the one a clean fold gives.
//! deploy/RELIABILITY.md names the promise each test backs.

#[path = "faults/badinput.rs"]
mod badinput;
#[path = "faults/cluster.rs"]
mod cluster;
#[path = "faults/common.rs"]
mod common;
#[path = "faults/crash.rs"]
mod crash;
#[path = "faults/full.rs"]
mod full;
#[path = "faults/impersonation.rs"]
mod impersonation;
#[path = "faults/mutants.rs"]
mod mutants;
#[path = "faults/outage.rs"]
mod outage;
#[path = "faults/rebuild.rs"]
mod rebuild;
#[path = "faults/tampering.rs"]
mod tampering;
