//! One run, phase by phase: generate the crisis; on a server with nats-server's default
//! sync, publish it raw (each sample into a fresh log stream; the last one stays); on a
//! server with `sync_interval: always`, the two durable publishes; then, on the log left
//! by the last raw publish, the raw read, the naive loop, the rebuilds by the projector
//! process and the rebuild taken apart. Each phase runs `repeat` samples in a row.

use std::collections::BTreeMap;
use std::time::Duration;

use samla_log::{ConnectOptions, LogConfig};
use samla_testkit::NatsServer;

use crate::error::BenchError;
use crate::progress::say;
use crate::report::{self, Figure, Report, TableWrites, Workload, names};
use crate::workload::{GeneratedLog, WireEvent};
use crate::{BenchOptions, publish, read, rebuild, stages, workload};

/// The log's byte budget for `events` events: generous (events are well under 1 KiB with
/// subject and headers), at least 1 GiB. The server gets twice that.
fn log_budget(events: usize) -> u64 {
    (events as u64).saturating_mul(2048).max(1 << 30)
}

/// The figures measured so far.
#[derive(Debug, Default)]
struct Results {
    figures: BTreeMap<String, Figure>,
}

impl Results {
    fn add(&mut self, name: &str, samples: Vec<f64>, unit: &str, events: usize) {
        if let Some(figure) = Figure::from_samples(samples, unit, events as u64) {
            self.figures.insert(name.to_owned(), figure);
        }
    }
}

fn rate(events: usize, elapsed: Duration) -> f64 {
    events as f64 / elapsed.as_secs_f64().max(1e-9)
}

/// A server and the two connections the phases use: samla-log's for setup and checks, a
/// plain async-nats one for the timed loops.
struct Server {
    server: NatsServer,
    setup: samla_log::Connection,
    raw: async_nats::Client,
}

impl Server {
    /// Starts a nats-server off the async threads (it waits for readiness) and connects.
    async fn start(sync_always: bool, budget: u64, name: &str) -> Result<Server, BenchError> {
        let name = name.to_owned();
        let server = tokio::task::spawn_blocking(move || {
            NatsServer::builder()
                .server_name(&name)
                .sync_always(sync_always)
                .max_file_store(budget.saturating_mul(2))
                .start()
        })
        .await
        .map_err(|error| BenchError::InstallNatsServer(error.to_string()))?
        .map_err(|error| BenchError::InstallNatsServer(error.to_string()))?;
        let url = server.client_url();
        let setup = samla_log::connect(
            &[&url],
            ConnectOptions {
                name: "samla-bench setup".to_owned(),
                request_timeout: Duration::from_secs(60),
                ..ConnectOptions::default()
            },
        )
        .await
        .map_err(|error| BenchError::nats("connecting", error))?;
        let raw = async_nats::ConnectOptions::new()
            .name("samla-bench raw")
            .request_timeout(Some(Duration::from_secs(60)))
            .connect(url.as_str())
            .await
            .map_err(|error| BenchError::nats("connecting", error))?;
        Ok(Server { server, setup, raw })
    }

    /// Closes the connections, stops the server and removes its store (off the async
    /// threads).
    async fn stop(self) {
        self.setup.close().await;
        drop(self.raw);
        let server = self.server;
        let _ = tokio::task::spawn_blocking(move || drop(server)).await;
    }
}

/// Runs every measurement and returns the report. Needs tokio's multi-thread runtime.
/// Progress goes to stderr.
pub async fn run(options: &BenchOptions) -> Result<Report, BenchError> {
    options.validate()?;
    let events = options.events;
    let durable_events = options.durable_events();
    let mut results = Results::default();
    let mut versions = BTreeMap::new();
    versions.insert("samla".to_owned(), env!("CARGO_PKG_VERSION").to_owned());
    versions.insert("rustc".to_owned(), env!("SAMLA_BENCH_RUSTC").to_owned());
    // The commit checked out when the bench was built (local changes not detected).
    versions.insert(
        "samla-commit".to_owned(),
        env!("SAMLA_BENCH_COMMIT").to_owned(),
    );
    say(format!(
        "{events} events, {durable_events} per durable sample, {} repeats; projector: {}",
        options.repeat,
        options.projector.describe()
    ));

    let seed = options.seed;
    let generated = tokio::task::spawn_blocking(move || workload::generate(seed, events))
        .await
        .map_err(|error| BenchError::wrong("generating the crisis", error))?;
    let workload = describe_workload(options, &generated);
    let log_config = LogConfig::new(log_budget(events));

    say("starting a nats-server with the default sync");
    let fast = Server::start(false, log_config.max_bytes, "samla-bench-default-sync").await?;
    versions.insert("nats-server".to_owned(), fast.setup.server_version());
    measure_raw_publish(options, &fast, &log_config, &generated.events, &mut results).await?;

    say("starting a nats-server with sync_interval: always");
    let durable_config = LogConfig::new(log_budget(durable_events));
    let durable = Server::start(true, durable_config.max_bytes, "samla-bench-sync-always").await?;
    let durable_wire = &generated.events[..durable_events];
    measure_durable(
        options,
        &durable,
        &durable_config,
        durable_wire,
        &mut results,
    )
    .await?;
    durable.stop().await;
    // The events are in the log now; free their copy before the reading phases.
    drop(generated);

    measure_reads(options, &fast, &log_config, &mut results).await?;
    measure_rebuilds(options, &fast, &log_config, &mut results).await?;
    let writes_by_table = if options.stages {
        measure_stages(options, &fast, &log_config, &mut results).await?
    } else {
        BTreeMap::new()
    };
    fast.stop().await;

    let mut report = Report {
        versions,
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        workload,
        results: results.figures,
        ratios: BTreeMap::new(),
        writes_by_table,
    };
    report.compute_ratios();
    Ok(report)
}

fn describe_workload(options: &BenchOptions, generated: &GeneratedLog) -> Workload {
    Workload {
        events: options.events as u64,
        durable_events: options.durable_events() as u64,
        repeat: options.repeat,
        seed: options.seed,
        mean_event_bytes: generated.mean_bytes,
        min_event_bytes: generated.min_bytes,
        max_event_bytes: generated.max_bytes,
        kinds: generated.kinds,
        publish_window: options.publish_window as u64,
        batch_max: options.batch_max as u64,
        projector: options.projector.describe(),
    }
}

/// Raw pipelined publish with `Nats-Msg-Id`, default sync. The last sample's stream stays:
/// it is the log every later phase reads.
async fn measure_raw_publish(
    options: &BenchOptions,
    server: &Server,
    config: &LogConfig,
    wire: &[WireEvent],
    results: &mut Results,
) -> Result<(), BenchError> {
    let repeat = options.repeat;
    let mut samples = Vec::new();
    for round in 1..=repeat {
        let phase = format!("raw publish with Nats-Msg-Id ({round}/{repeat})");
        let log = publish::fresh_log(&server.setup, config).await?;
        let elapsed =
            publish::publish_pipelined(&server.raw, wire, options.publish_window, &phase).await?;
        publish::expect_stored(&log, wire.len(), &phase).await?;
        samples.push(rate(wire.len(), elapsed));
    }
    results.add(names::RAW_PUBLISH_MSGID, samples, "events/s", wire.len());
    Ok(())
}

/// Pipelined publish and atomic batches with `sync_interval: always`.
async fn measure_durable(
    options: &BenchOptions,
    server: &Server,
    config: &LogConfig,
    wire: &[WireEvent],
    results: &mut Results,
) -> Result<(), BenchError> {
    let repeat = options.repeat;
    let mut samples = Vec::new();
    for round in 1..=repeat {
        let phase = format!("durable pipelined publish ({round}/{repeat})");
        let log = publish::fresh_log(&server.setup, config).await?;
        let elapsed =
            publish::publish_pipelined(&server.raw, wire, options.publish_window, &phase).await?;
        publish::expect_stored(&log, wire.len(), &phase).await?;
        samples.push(rate(wire.len(), elapsed));
    }
    results.add(
        names::RAW_DURABLE_PIPELINED,
        samples,
        "events/s",
        wire.len(),
    );
    let mut samples = Vec::new();
    for round in 1..=repeat {
        let phase = format!("durable atomic batches ({round}/{repeat})");
        let log = publish::fresh_log(&server.setup, config).await?;
        let elapsed = publish::publish_atomic_batches(&server.raw, wire, round, &phase).await?;
        publish::expect_stored(&log, wire.len(), &phase).await?;
        samples.push(rate(wire.len(), elapsed));
    }
    results.add(
        names::RAW_DURABLE_ATOMIC_BATCH,
        samples,
        "events/s",
        wire.len(),
    );
    Ok(())
}

/// The raw ordered read and the naive loop over the whole log.
async fn measure_reads(
    options: &BenchOptions,
    server: &Server,
    config: &LogConfig,
    results: &mut Results,
) -> Result<(), BenchError> {
    let (events, repeat) = (options.events, options.repeat);
    let stream = config.stream_name.as_str();
    let mut samples = Vec::new();
    for round in 1..=repeat {
        let phase = format!("raw ordered read ({round}/{repeat})");
        let elapsed = read::raw_ordered_read(&server.raw, stream, events as u64, &phase).await?;
        samples.push(rate(events, elapsed));
    }
    results.add(names::RAW_ORDERED_READ, samples, "events/s", events);

    let mut samples = Vec::new();
    for round in 1..=repeat {
        let phase = format!("naive loop ({round}/{repeat})");
        let folder = scratch_folder()?;
        let sled_folder = folder.path().join("sled");
        let elapsed = read::naive_loop(
            &server.raw,
            stream,
            events as u64,
            options.batch_max,
            &sled_folder,
            &phase,
        )
        .await?;
        samples.push(rate(events, elapsed));
        remove_folder(folder).await;
    }
    results.add(names::NAIVE_LOOP, samples, "events/s", events);
    Ok(())
}

/// The rebuild by the projector process: rate, peak memory, disk.
async fn measure_rebuilds(
    options: &BenchOptions,
    server: &Server,
    config: &LogConfig,
    results: &mut Results,
) -> Result<(), BenchError> {
    let (events, repeat) = (options.events, options.repeat);
    let place = rebuild::LogPlace {
        nats_url: server.server.client_url(),
        log_max_bytes: config.max_bytes,
        last_seq: events as u64,
    };
    let (mut rates, mut peaks, mut disk) = (Vec::new(), Vec::new(), Vec::new());
    for round in 1..=repeat {
        let phase = format!("rebuild by the projector process ({round}/{repeat})");
        let folder = scratch_folder()?;
        let perf = options.perf.as_ref().filter(|_| round == repeat);
        let data_dir = folder.path().join("data");
        let sample = rebuild::rebuild_once(
            &options.projector,
            &place,
            &data_dir,
            options.batch_max,
            perf,
            &phase,
        )
        .await?;
        say(format!(
            "  {:.0} events/s, peak RSS {:.1} MiB, {} bytes on disk",
            rate(events, sample.elapsed),
            sample.peak_rss_kib as f64 / 1024.0,
            sample.disk_bytes
        ));
        rates.push(rate(events, sample.elapsed));
        peaks.push(sample.peak_rss_kib as f64 / 1024.0);
        disk.push(sample.disk_bytes as f64 * 1_000_000.0 / events as f64);
        remove_folder(folder).await;
    }
    results.add(names::REBUILD, rates, "events/s", events);
    results.add(names::PROJECTOR_PEAK_RSS, peaks, "MiB", events);
    results.add(names::SLED_BYTES_PER_MILLION, disk, "bytes", events);
    Ok(())
}

/// The rebuild taken apart; returns the writes per table of the last sample.
async fn measure_stages(
    options: &BenchOptions,
    server: &Server,
    config: &LogConfig,
    results: &mut Results,
) -> Result<BTreeMap<String, TableWrites>, BenchError> {
    let (events, repeat) = (options.events, options.repeat);
    let log = samla_log::Log::open(&server.setup, config.clone())
        .await
        .map_err(|error| BenchError::nats("opening the log", error))?;
    let mut samples = Vec::new();
    for round in 1..=repeat {
        let phase = format!("rebuild taken apart ({round}/{repeat})");
        let folder = scratch_folder()?;
        let sled_folder = folder.path().join("sled");
        let sample =
            stages::rebuild_stages(&log, events as u64, options.batch_max, &sled_folder, &phase)
                .await?;
        samples.push(sample);
        remove_folder(folder).await;
    }
    add_stages(results, &samples, events);
    let events_f = events.max(1) as f64;
    let mut writes = BTreeMap::new();
    if let Some(last) = samples.last() {
        for (table, (keys, bytes)) in &last.by_table {
            writes.insert(
                table.clone(),
                TableWrites {
                    keys_per_1000_events: report::round(*keys as f64 * 1000.0 / events_f, 1),
                    bytes_per_event: report::round(*bytes as f64 / events_f, 1),
                },
            );
        }
    }
    Ok(writes)
}

/// Turns stage samples into figures.
fn add_stages(results: &mut Results, samples: &[stages::StageSample], events: usize) {
    type Stage = fn(&stages::StageSample) -> Duration;
    let stage_figures: [(&str, Stage); 8] = [
        (names::STAGE_READ, |s| s.read),
        (names::STAGE_DECODE, |s| s.decode),
        (names::STAGE_PREPARE, |s| s.prepare),
        (names::STAGE_FETCH, |s| s.fetch),
        (names::STAGE_FETCH_DIRECT, |s| s.fetch_direct),
        (names::STAGE_FOLD, |s| s.fold),
        (names::STAGE_ENCODE, |s| s.encode),
        (names::STAGE_WRITE, |s| s.write),
    ];
    let events_f = events.max(1) as f64;
    for (name, stage) in stage_figures {
        let values = samples
            .iter()
            .map(|sample| stage(sample).as_nanos() as f64 / events_f)
            .collect();
        results.add(name, values, "ns/event", events);
    }
    type Count = fn(&stages::StageSample) -> f64;
    let count_figures: [(&str, &str, Count); 3] = [
        (names::SUPERSEDED_FETCHES, "events", |s| s.fetches as f64),
        (names::ROWS_WRITTEN, "keys", |s| s.rows_written as f64),
        (names::BYTES_WRITTEN, "bytes", |s| s.bytes_written as f64),
    ];
    for (name, unit, count) in count_figures {
        let scale = match name {
            names::ROWS_WRITTEN => 1000.0 / events_f,
            names::BYTES_WRITTEN => 1.0 / events_f,
            _ => 1.0,
        };
        let values = samples.iter().map(|sample| count(sample) * scale).collect();
        results.add(name, values, unit, events);
    }
}

fn scratch_folder() -> Result<tempfile::TempDir, BenchError> {
    tempfile::Builder::new()
        .prefix("samla-bench-")
        .tempdir()
        .map_err(BenchError::storage)
}

async fn remove_folder(folder: tempfile::TempDir) {
    let _ = tokio::task::spawn_blocking(move || drop(folder)).await;
}
