//! Rebuild speed and memory on a generated crisis against a real nats-server (a
//! measurement, not a test):
//!
//! ```text
//! cargo build --release -p samla-projector --bin samla-projector --example rebuild_timing
//! cargo run --release -p samla-projector --example rebuild_timing -- 100000 [repeats] [batch_max] [write_every]
//! ```
//!
//! Appends the first N events of the seeded crisis (the bench's seed), then runs the
//! `samla-projector` binary (beside this example's folder, or `$SAMLA_PROJECTOR_BIN`) as its
//! own process `repeats` times, each into an empty data folder, in follow mode with
//! `--progress`: the time from spawn to the line that reaches the head, and the peak
//! resident memory (`VmHWM`, polled from `/proc`). Then, in this process, the rebuild's
//! steps over the same events held in memory, each timed alone (prepare, fold, encode,
//! write), so a change to one step shows in its own figure, with the keys written (and
//! how many of them are timeline chunks).
//!
//! An empty data folder is caught up by the engine's follow loop (`engine.rs`, as
//! `samla bench` measures it), not by `engine/rebuild.rs`, which runs when stored read
//! models must be replaced (a fold version bump, another log).
//!
//! Peak RSS depends much on glibc's malloc arenas: `MALLOC_ARENA_MAX=2` in the
//! environment (inherited by the projector) shows how much of it is fragmentation.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use proto_events::Envelope;
use samla_log::{ConnectOptions, Log, LogConfig, ReadRange};
use samla_projector::{Folder, KvStore, Prepared, RawEvent, SledStore, prepare};

const SEED: u64 = 0x5a4d_4c41;

fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// CPU seconds (user + system) a process used so far, from `/proc/<pid>/stat` (100 Hz ticks).
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

/// Time this thread spent on a CPU, from `/proc/thread-self/schedstat`: steps timed this
/// way do not count time other processes took on a busy machine.
fn thread_cpu() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|n| n.parse().ok()))
        .map_or(Duration::ZERO, Duration::from_nanos)
}

fn folder_bytes(path: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| match entry.metadata() {
            Ok(meta) if meta.is_dir() => folder_bytes(&entry.path()),
            Ok(meta) => meta.len(),
            Err(_) => 0,
        })
        .sum()
}

fn projector_binary() -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os("SAMLA_PROJECTOR_BIN") {
        return Ok(PathBuf::from(path));
    }
    let exe = std::env::current_exe()?;
    exe.ancestors()
        .skip(1)
        .take(3)
        .map(|dir| dir.join("samla-projector"))
        .find(|path| path.exists())
        .ok_or_else(|| anyhow::anyhow!("build the samla-projector binary first (see the header)"))
}

/// One rebuild by the projector process: (seconds to the head, CPU seconds, peak RSS in
/// KiB, folder bytes).
fn rebuild_once(
    binary: &Path,
    url: &str,
    head: u64,
    batch_max: usize,
) -> anyhow::Result<(f64, f64, u64, u64)> {
    let dir = tempfile::tempdir()?;
    let started = Instant::now();
    let mut child = Command::new(binary)
        .args(["--nats-url", url, "--batch-max", &batch_max.to_string()])
        .arg("--data-dir")
        .arg(dir.path())
        .arg("--progress")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let pid = child.id();
    let peak = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let poller = {
        let (peak, done) = (peak.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                if let Some(kib) = peak_rss_kib(pid) {
                    peak.fetch_max(kib, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    };
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| anyhow::anyhow!("no stdout"))?;
    let mut elapsed = None;
    let mut cpu = 0.0;
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        let applied: u64 = line
            .strip_prefix("applied ")
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        if applied >= head {
            elapsed = Some(started.elapsed().as_secs_f64());
            cpu = cpu_seconds(pid).unwrap_or_default();
            if let Some(kib) = peak_rss_kib(pid) {
                peak.fetch_max(kib, Ordering::Relaxed);
            }
            break;
        }
    }
    done.store(true, Ordering::Relaxed);
    let _ = poller.join();
    Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()?;
    child.wait()?;
    let bytes = folder_bytes(dir.path());
    let elapsed = elapsed.ok_or_else(|| anyhow::anyhow!("the projector stopped early"))?;
    Ok((elapsed, cpu, peak.load(Ordering::Relaxed), bytes))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let events: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let repeats: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(2);
    let batch_max: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(2000);
    // Events folded between writes in the in-process steps (the engine's `write_every`).
    let write_every: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(50_000);
    let binary = projector_binary()?;
    let server = samla_testkit::NatsServer::builder()
        .sync_always(false)
        .start()?;
    let url = server.client_url();
    let connection =
        samla_log::connect(std::slice::from_ref(&url), ConnectOptions::default()).await?;
    let log = Log::open(&connection, LogConfig::new(1 << 30)).await?;
    let started = Instant::now();
    {
        let generated = samla_sim::generate_n(SEED, events);
        for chunk in generated.chunks(10_000) {
            let items: Vec<(Envelope, Option<u64>)> =
                chunk.iter().map(|e| (e.clone(), None)).collect();
            for result in log.append_events(&items).await {
                result?;
            }
        }
    }
    let head = log.head().await?.last_seq;
    println!("appended {head} events in {:?}", started.elapsed());

    for round in 1..=repeats {
        let (seconds, cpu, peak_kib, bytes) =
            tokio::task::block_in_place(|| rebuild_once(&binary, &url, head, batch_max))?;
        println!(
            "rebuild {round}: {seconds:.2} s = {:.0} events/s; {cpu:.2} CPU s = {:.0} events per CPU s; \
             peak RSS {:.0} MiB, folder {:.0} MiB",
            head as f64 / seconds,
            head as f64 / cpu,
            peak_kib as f64 / 1024.0,
            bytes as f64 / 1024.0 / 1024.0
        );
    }

    // The steps, in this process, over events read into memory first.
    let started = Instant::now();
    let raws: Vec<RawEvent> = log
        .read(ReadRange::span(1, head))
        .await?
        .collect_all()
        .await?
        .into_iter()
        .map(RawEvent::from)
        .collect();
    let read = started.elapsed();
    let by_seq: HashMap<u64, &RawEvent> = raws.iter().map(|raw| (raw.seq, raw)).collect();
    let dir = tempfile::tempdir()?;
    let mut store = SledStore::open(dir.path())?;
    let mut folder = Folder::new();
    let (mut t_prepare, mut t_fold, mut t_encode, mut t_write) = Default::default();
    let (mut keys, mut timeline_keys, mut bytes, mut unwritten) = (0u64, 0u64, 0u64, 0usize);
    for chunk in raws.chunks(batch_max) {
        let started = thread_cpu();
        let batch: Vec<Prepared> = chunk.iter().map(prepare).collect();
        let fetched: HashMap<u64, Prepared> = folder
            .wanted(&batch)
            .into_iter()
            .filter_map(|seq| by_seq.get(&seq).map(|raw| (seq, prepare(raw))))
            .collect();
        t_prepare += thread_cpu().saturating_sub(started);
        let started = thread_cpu();
        folder.apply_batch(batch, &fetched);
        t_fold += thread_cpu().saturating_sub(started);
        unwritten += chunk.len();
        if unwritten < write_every && folder.applied_seq() < head {
            continue;
        }
        unwritten = 0;
        let started = thread_cpu();
        let changes = folder.drain_changes();
        t_encode += thread_cpu().saturating_sub(started);
        keys += changes.len() as u64;
        timeline_keys += changes
            .iter()
            .filter(|(key, _)| key.starts_with(b"m/timeline/"))
            .count() as u64;
        bytes += changes
            .iter()
            .map(|(k, v)| (k.len() + v.as_ref().map_or(0, Vec::len)) as u64)
            .sum::<u64>();
        let started = thread_cpu();
        store.apply(changes)?;
        t_write += thread_cpu().saturating_sub(started);
    }
    let started = thread_cpu();
    store.flush()?;
    t_write += thread_cpu().saturating_sub(started);
    let per = |d: Duration| d.as_secs_f64() * 1e6 / head as f64;
    let total = t_prepare + t_fold + t_encode + t_write;
    println!(
        "steps per event (thread CPU time; read is wall): read {:.2} µs, prepare {:.2} µs, fold {:.2} µs, encode {:.2} µs, write {:.2} µs; \
         prepare..write {:.2} µs = {:.0} events/s; {keys} keys ({timeline_keys} timeline chunks), {:.1} MiB written",
        per(read),
        per(t_prepare),
        per(t_fold),
        per(t_encode),
        per(t_write),
        per(total),
        head as f64 / total.as_secs_f64(),
        bytes as f64 / 1024.0 / 1024.0
    );
    Ok(())
}
