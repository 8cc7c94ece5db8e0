//! How long [`Envelope::validate`] takes per event, and decoding plus validating, over the
//! example event of every kind (a measurement, not a test):
//! `cargo run --release -p proto-events --example guard_timing -- [rounds]`.
//!
//! Why: the projector decodes and validates every event of the log on every rebuild, and
//! the personal-data guard over the payload is most of `validate`. Each measurement runs
//! over all examples `rounds` times (default 20,000), five times over, and prints the
//! per-event mean of each pass, so the spread between passes shows the noise. The last
//! line prints the slowest kind's mean per event.

use std::hint::black_box;
use std::time::{Duration, Instant};

use proto_events::examples::all_examples;
use proto_events::{Envelope, codec};

const PASSES: usize = 5;

fn per_event(elapsed: Duration, events: usize) -> String {
    format!("{:.0} ns", elapsed.as_nanos() as f64 / events as f64)
}

fn time_passes(label: &str, rounds: usize, count: usize, mut step: impl FnMut()) {
    let mut means = Vec::with_capacity(PASSES);
    for _pass in 0..PASSES {
        let started = Instant::now();
        for _round in 0..rounds {
            step();
        }
        means.push(per_event(started.elapsed(), rounds * count));
    }
    println!("{label}: {} per event", means.join(", "));
}

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000);
    let examples = all_examples();
    let encoded: Vec<Vec<u8>> = examples.iter().map(codec::encode_msgpack).collect();
    for envelope in &examples {
        if let Err(error) = envelope.validate() {
            panic!("the {} example is invalid: {error}", envelope.kind());
        }
    }
    println!(
        "{} examples (one per kind), {rounds} rounds, {PASSES} passes",
        examples.len()
    );

    time_passes("validate", rounds, examples.len(), || {
        for envelope in &examples {
            black_box(black_box(envelope).validate()).ok();
        }
    });
    time_passes("decode_msgpack + validate", rounds, encoded.len(), || {
        for bytes in &encoded {
            if let Ok(envelope) = codec::decode_msgpack(black_box(bytes)) {
                black_box(envelope.validate()).ok();
            }
        }
    });

    let slowest = examples
        .iter()
        .map(|envelope| (time_one(envelope, rounds), envelope.kind()))
        .max();
    if let Some((elapsed, kind)) = slowest {
        println!(
            "slowest kind to validate: {kind}, {}",
            per_event(elapsed, rounds)
        );
    }
}

fn time_one(envelope: &Envelope, rounds: usize) -> Duration {
    let started = Instant::now();
    for _round in 0..rounds {
        black_box(black_box(envelope).validate()).ok();
    }
    started.elapsed()
}
