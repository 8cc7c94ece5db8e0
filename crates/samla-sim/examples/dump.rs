//! Prints the first N events of a crisis sized for N as JSON lines (default 50), and the
//! count, time and mean MessagePack size on stderr:
//! `cargo run -p samla-sim --example dump -- 200 [seed]`.

use std::io::Write;
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(50);
    let seed: u64 = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(samla_sim::CrisisConfig::demo().seed);
    let config = samla_sim::CrisisConfig::sized_for(n).with_seed(seed);
    let started = Instant::now();
    let mut out = std::io::stdout().lock();
    let mut bytes = 0usize;
    let mut count = 0usize;
    for event in samla_sim::Crisis::new(config.clone()).take(n) {
        bytes += proto_events::encode_msgpack(&event).len();
        count += 1;
        if writeln!(out, "{}", proto_events::encode_json(&event)).is_err() {
            return;
        }
    }
    eprintln!(
        "{count} events (scale {}, {} days) in {:?}; mean MessagePack size {} bytes",
        config.scale,
        config.days,
        started.elapsed(),
        bytes / count.max(1)
    );
}
