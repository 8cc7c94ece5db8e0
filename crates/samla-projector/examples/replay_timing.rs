//! Replay latency on a generated crisis against a real nats-server (a measurement, not a
//! test): `cargo run --release -p samla-projector --example replay_timing -- 100000`.
//!
//! Appends N events, then times: warming each line (keeping every checkpoint, writing
//! every snapshot), and 20 replays at random points in each sense, printing p50, p95 and
//! the worst, and the resident memory before and after the checkpoints were kept.
//! Optional arguments: `[snapshot_every] [checkpoint_every]` (0: no checkpoints).

use std::time::{Duration, Instant};

use proto_events::{Envelope, Timestamp};
use rand::{Rng, SeedableRng};
use samla_log::{ConnectOptions, Log, LogConfig, ReadRange};
use samla_projector::replay::{ReplayConfig, ReplayPoint, Replayer, Sense};

/// Resident memory of this process now (`VmRSS`), in MiB.
fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmRSS:"))
                .and_then(|rest| {
                    rest.trim()
                        .trim_end_matches("kB")
                        .trim()
                        .parse::<f64>()
                        .ok()
                })
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

fn summary(label: &str, mut times: Vec<Duration>) {
    times.sort();
    let at = |q: f64| times[((times.len() as f64 - 1.0) * q).round() as usize];
    println!(
        "{label}: p50 {:?}  p95 {:?}  max {:?}  ({} replays)",
        at(0.5),
        at(0.95),
        times[times.len() - 1],
        times.len()
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let events: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let every: u64 = std::env::args()
        .nth(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    let checkpoint_every: u64 = std::env::args()
        .nth(3)
        .and_then(|s| s.parse().ok())
        .unwrap_or(ReplayConfig::default().checkpoint_every);
    let server = samla_testkit::NatsServer::start()?;
    let connection = samla_log::connect(&[server.client_url()], ConnectOptions::default()).await?;
    let log = Log::open(&connection, LogConfig::new(1 << 30)).await?;
    let generated = samla_sim::generate_n(7, events);
    let started = Instant::now();
    for chunk in generated.chunks(10_000) {
        let items: Vec<(Envelope, Option<u64>)> = chunk.iter().map(|e| (e.clone(), None)).collect();
        for result in log.append_events(&items).await {
            result?;
        }
    }
    println!("appended {events} events in {:?}", started.elapsed());
    let head = log.head().await?;
    let first = log
        .read(ReadRange::span(1, 1))
        .await?
        .collect_all()
        .await?
        .remove(0)
        .recorded_at();
    let last = head.last_recorded_at.unwrap_or(first);
    let (earliest, latest) = generated.iter().fold((None, None), |(lo, hi), e| {
        let t = e.occurred_at;
        (
            Some(lo.map_or(t, |lo: Timestamp| lo.min(t))),
            Some(hi.map_or(t, |hi: Timestamp| hi.max(t))),
        )
    });
    let (earliest, latest) = (earliest.unwrap_or(first), latest.unwrap_or(last));

    let dir = tempfile::tempdir()?;
    let config = ReplayConfig {
        snapshot_every: every,
        checkpoint_every,
        ..ReplayConfig::default()
    };
    let replayer = Replayer::open(log.clone(), dir.path().to_path_buf(), config)?;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let between = |rng: &mut rand_chacha::ChaCha8Rng, a: Timestamp, b: Timestamp| {
        Timestamp::from_unix_nanos(rng.random_range(a.as_unix_nanos()..=b.as_unix_nanos()))
            .unwrap_or(a)
    };

    let started = Instant::now();
    let cold = replayer
        .at(ReplayPoint::KnownAtSeq(head.last_seq / 2))
        .await?;
    println!(
        "known, cold (no snapshots), {} events: {:?}",
        cold.folded,
        started.elapsed()
    );
    drop(cold);
    let rss_before = rss_mib();
    let started = Instant::now();
    replayer.warm(Sense::Known).await?;
    println!(
        "warm known line to {}: {:?}; resident memory {rss_before:.0} -> {:.0} MiB; {:?}",
        head.last_seq,
        started.elapsed(),
        rss_mib(),
        replayer.stats()
    );
    let mut known = Vec::new();
    let mut folded = 0;
    for _ in 0..20 {
        let point = ReplayPoint::KnownAt(between(&mut rng, first, last));
        let started = Instant::now();
        folded += replayer.at(point).await?.folded;
        known.push(started.elapsed());
    }
    summary("as known at T", known);
    println!("  (mean events folded per replay: {})", folded / 20);
    // The floor: a replay exactly at a snapshot folds nothing, it only loads.
    let mut loads = Vec::new();
    for snapshot in replayer
        .snapshots()
        .iter()
        .filter(|s| s.sense == Sense::Known)
    {
        let started = Instant::now();
        replayer
            .at(ReplayPoint::KnownAtSeq(snapshot.position))
            .await?;
        loads.push(started.elapsed());
    }
    summary("as known at a snapshot's position (nothing to fold)", loads);
    let point = ReplayPoint::KnownAtSeq(head.last_seq * 3 / 4);
    replayer.at_shared(point).await?;
    let started = Instant::now();
    replayer.at_shared(point).await?;
    println!(
        "at_shared, second query at one point: {:?}",
        started.elapsed()
    );

    let rss_before = rss_mib();
    let started = Instant::now();
    replayer.warm(Sense::Happened).await?;
    println!(
        "index + warm happened line: {:?}; resident memory {rss_before:.0} -> {:.0} MiB; {:?}",
        started.elapsed(),
        rss_mib(),
        replayer.stats()
    );
    let mut happened = Vec::new();
    let mut folded = 0;
    for _ in 0..20 {
        let point = ReplayPoint::HappenedAt(between(&mut rng, earliest, latest));
        let started = Instant::now();
        folded += replayer.at(point).await?.folded;
        happened.push(started.elapsed());
    }
    summary("as happened at T", happened);
    println!("  (mean events folded per replay: {})", folded / 20);
    let bytes: u64 = std::fs::read_dir(dir.path())?
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum();
    println!(
        "snapshots on disk: {} files, {} MB",
        replayer.snapshots().len(),
        bytes >> 20
    );
    Ok(())
}
