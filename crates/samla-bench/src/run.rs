//! One run, phase by phase (each group only when selected): generate the crisis (and,
//! for the gateway, the same crisis with this run's own ids); on a server with
//! nats-server's default sync, publish it raw (each sample into a fresh log stream; the
//! last one stays); on a server with `sync_interval: always`, the two durable publishes,
//! durable ingest through group commit and the live latency; then, on the log left by the
//! last raw publish, the raw read, the naive loop, the rebuilds by the projector process,
//! the rebuild taken apart and the as-of queries; last, NATS and HTTP ingest (they replace the log stream,
//! so they come after everything that reads it). Each phase runs `repeat` samples in a
//! row. Both servers carry Samla's permission block (see `gateway.rs`).

use std::collections::BTreeMap;
use std::time::Duration;

use samla_log::{CommitMode, ConnectOptions, LogConfig};
use samla_testkit::NatsServer;

use crate::error::BenchError;
use crate::gateway::Credentials;
use crate::groups::Group;
use crate::ingest_load::{self, IngestLoad};
use crate::ingest_phases::Phases;
use crate::progress::say;
use crate::report::{self, Figure, Report, TableWrites, Workload, names};
use crate::workload::{GeneratedLog, WireEvent};
use crate::{BenchOptions, as_of, publish, read, rebuild, stages, workload};

/// The log's byte budget for `events` events: generous (events are well under 1 KiB with
/// subject and headers), at least 1 GiB. The server gets twice that.
fn log_budget(events: usize) -> u64 {
    (events as u64).saturating_mul(2048).max(1 << 30)
}

/// The figures measured so far.
#[derive(Debug, Default)]
pub(crate) struct Results {
    figures: BTreeMap<String, Figure>,
}

impl Results {
    pub(crate) fn add(&mut self, name: &str, samples: Vec<f64>, unit: &str, events: usize) {
        if let Some(figure) = Figure::from_samples(samples, unit, events as u64) {
            self.figures.insert(name.to_owned(), figure);
        }
    }
}

pub(crate) fn rate(events: usize, elapsed: Duration) -> f64 {
    events as f64 / elapsed.as_secs_f64().max(1e-9)
}

/// Microseconds per event.
fn micros_per_event(events: usize, spent: Duration) -> f64 {
    spent.as_secs_f64() * 1e6 / events.max(1) as f64
}

/// A server and the two connections the phases use: samla-log's for setup and checks, a
/// plain async-nats one for the timed loops.
pub(crate) struct Server {
    pub(crate) server: NatsServer,
    pub(crate) setup: samla_log::Connection,
    raw: async_nats::Client,
}

impl Server {
    /// Starts a nats-server off the async threads (it waits for readiness) and connects.
    async fn start(
        sync_always: bool,
        budget: u64,
        name: &str,
        extra_config: &str,
    ) -> Result<Server, BenchError> {
        let (name, extra_config) = (name.to_owned(), extra_config.to_owned());
        let server = tokio::task::spawn_blocking(move || {
            NatsServer::builder()
                .server_name(&name)
                .sync_always(sync_always)
                .max_file_store(budget.saturating_mul(2))
                .extra_config(&extra_config)
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
    let groups: Vec<String> = options.groups.iter().map(|g| g.name().to_owned()).collect();
    say(format!(
        "{events} events, {durable_events} per durable sample, {} repeats; groups: {}; projector: {}",
        options.repeat,
        groups.join(", "),
        options.projector.describe()
    ));
    let measures = |group| options.measures(group);
    let any = |wanted: &[Group]| wanted.iter().any(|group| options.measures(*group));

    let credentials = Credentials::generate()?;
    let seed = options.seed;
    let generated = if any(&[Group::Publish, Group::Durable]) {
        let generated = tokio::task::spawn_blocking(move || workload::generate(seed, events))
            .await
            .map_err(|error| BenchError::wrong("generating the crisis", error))?;
        Some(generated)
    } else {
        None
    };
    let load = if any(&[Group::Ingest, Group::GroupCommit, Group::Live]) {
        let count =
            options
                .ingest_events()
                .max(options.single_events())
                .max(if measures(Group::Live) {
                    options.live_events()
                } else {
                    0
                });
        // One random mask per run: no id of this run was ever sent before.
        let mask = ingest_load::mask_from(rand::random());
        let load = tokio::task::spawn_blocking(move || ingest_load::generate(seed, count, mask))
            .await
            .map_err(|error| BenchError::wrong("generating the ingest events", error))?;
        Some(load)
    } else {
        None
    };
    let workload = describe_workload(options, generated.as_ref(), load.as_ref());
    // On the server that syncs on its own interval, Samla appends pipelined (what
    // `samla serve --log-commit pipelined` does there); atomic batches are for
    // `sync_interval: always`, the durable server below.
    let log_config = LogConfig {
        commit: CommitMode::Pipelined,
        ..LogConfig::new(log_budget(events))
    };

    let fast = if any(&[Group::Publish, Group::Read, Group::Rebuild, Group::Ingest]) {
        say("starting a nats-server with the default sync");
        let server = Server::start(
            false,
            log_config.max_bytes,
            "samla-bench-default-sync",
            &credentials.server_config,
        )
        .await?;
        versions.insert("nats-server".to_owned(), server.setup.server_version());
        Some(server)
    } else {
        None
    };
    if let (Some(fast), Some(generated)) = (&fast, &generated)
        && measures(Group::Publish)
    {
        measure_raw_publish(options, fast, &log_config, &generated.events, &mut results).await?;
    }

    if any(&[Group::Durable, Group::GroupCommit, Group::Live]) {
        say("starting a nats-server with sync_interval: always");
        let durable_config = LogConfig::new(log_budget(
            durable_events.max(load.as_ref().map_or(0, |load| load.events.len())),
        ));
        let durable = Server::start(
            true,
            durable_config.max_bytes,
            "samla-bench-sync-always",
            &credentials.server_config,
        )
        .await?;
        versions
            .entry("nats-server".to_owned())
            .or_insert_with(|| durable.setup.server_version());
        if let Some(generated) = &generated
            && measures(Group::Durable)
        {
            let durable_wire = &generated.events[..durable_events];
            measure_durable(
                options,
                &durable,
                &durable_config,
                durable_wire,
                &mut results,
            )
            .await?;
        }
        if let Some(load) = &load {
            let phases = Phases {
                options,
                server: &durable,
                log: &durable_config,
                credentials: &credentials,
                load,
            };
            if measures(Group::GroupCommit) {
                phases.measure_group_commit(&mut results).await?;
            }
            if measures(Group::Live) {
                phases.measure_live(&mut results).await?;
            }
        }
        durable.stop().await;
    }
    // The events are in the log now; free their copy before the reading phases.
    let occurred = generated.as_ref().and_then(|generated| generated.occurred);
    drop(generated);

    let mut writes_by_table = BTreeMap::new();
    let mut memory_by_model = BTreeMap::new();
    if let Some(fast) = fast {
        if measures(Group::Read) {
            measure_reads(options, &fast, &log_config, &mut results).await?;
        }
        if measures(Group::Rebuild) {
            measure_rebuilds(options, &fast, &log_config, &mut results).await?;
            if options.stages {
                (writes_by_table, memory_by_model) =
                    measure_stages(options, &fast, &log_config, &mut results).await?;
            }
        }
        if measures(Group::AsOf) {
            as_of::measure_as_of(options, &fast.setup, &log_config, occurred, &mut results).await?;
        }
        // Last on this server: each sample replaces the log stream the reads use.
        if let Some(load) = &load
            && measures(Group::Ingest)
        {
            let phases = Phases {
                options,
                server: &fast,
                log: &log_config,
                credentials: &credentials,
                load,
            };
            phases.measure_ingest(&mut results).await?;
        }
        fast.stop().await;
    }

    let mut report = Report {
        versions,
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        workload,
        results: results.figures,
        ratios: BTreeMap::new(),
        writes_by_table,
        memory_by_model,
        comparison: None,
    };
    report.compute_ratios();
    Ok(report)
}

fn describe_workload(
    options: &BenchOptions,
    generated: Option<&GeneratedLog>,
    load: Option<&IngestLoad>,
) -> Workload {
    // Sizes and kinds of the raw workload; of the ingest events when no raw group runs.
    let (mean, min, max, kinds) = match (generated, load) {
        (Some(generated), _) => (
            generated.mean_bytes,
            generated.min_bytes,
            generated.max_bytes,
            generated.kinds,
        ),
        (None, Some(load)) => load.sizes(),
        (None, None) => (0, 0, 0, 0),
    };
    Workload {
        events: options.events as u64,
        durable_events: options.durable_events() as u64,
        repeat: options.repeat,
        seed: options.seed,
        mean_event_bytes: mean,
        min_event_bytes: min,
        max_event_bytes: max,
        kinds,
        publish_window: options.publish_window as u64,
        batch_max: options.batch_max as u64,
        resident_rows: options.resident_rows as u64,
        write_every: options.write_every as u64,
        write_rows: options.write_rows as u64,
        projector: options.projector.describe(),
        groups: options.groups.iter().map(|g| g.name().to_owned()).collect(),
        ingest_events: options.ingest_events() as u64,
        ingest_batch: options.ingest_batch as u64,
        single_events: options.single_events() as u64,
        batch_clients: options.batch_clients as u64,
        single_clients: options.single_clients as u64,
        live_rate: u64::from(options.live_rate),
        live_events: options.live_events() as u64,
        as_of_queries: options.as_of_queries as u64,
    }
}

/// Raw atomic batches (of 1,000, and small ones), then raw pipelined publish with
/// `Nats-Msg-Id`, default sync. The last pipelined sample's stream stays: it is the log
/// every later phase reads.
async fn measure_raw_publish(
    options: &BenchOptions,
    server: &Server,
    config: &LogConfig,
    wire: &[WireEvent],
    results: &mut Results,
) -> Result<(), BenchError> {
    let repeat = options.repeat;
    let batch_wire = &wire[..options.durable_events()];
    let small_wire = &wire[..options.durable_events().min(5_000)];
    let atomic_figures = [
        (
            names::RAW_ATOMIC_BATCH,
            publish::ATOMIC_BATCH_EVENTS,
            batch_wire,
        ),
        (
            names::RAW_ATOMIC_SMALL_BATCH,
            publish::SMALL_ATOMIC_BATCH_EVENTS,
            small_wire,
        ),
    ];
    for (name, size, events) in atomic_figures {
        let mut samples = Vec::new();
        for round in 1..=repeat {
            let phase = format!("raw atomic batches of {size} ({round}/{repeat})");
            let log = publish::fresh_log(&server.setup, config).await?;
            let elapsed = publish::publish_atomic_batches_of(
                &server.raw,
                events,
                size,
                publish::ATOMIC_BATCHES_IN_FLIGHT,
                &phase,
            )
            .await?;
            publish::expect_stored(&log, events.len(), &phase).await?;
            samples.push(rate(events.len(), elapsed));
        }
        results.add(name, samples, "events/s", events.len());
    }
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

/// Pipelined publish, atomic batches of 1,000, and atomic batches of one event per
/// single-event client, one at a time, all with `sync_interval: always`.
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
        let elapsed = publish::publish_atomic_batches(&server.raw, wire, &phase).await?;
        publish::expect_stored(&log, wire.len(), &phase).await?;
        samples.push(rate(wire.len(), elapsed));
    }
    results.add(
        names::RAW_DURABLE_ATOMIC_BATCH,
        samples,
        "events/s",
        wire.len(),
    );
    // What the single-event clients could reach at most: one event of each per commit,
    // commits back to back (an atomic batch holds at most 1,000).
    let clients = options.single_clients.min(publish::ATOMIC_BATCH_EVENTS);
    let mut samples = Vec::new();
    for round in 1..=repeat {
        let phase =
            format!("durable atomic batches of {clients}, one at a time ({round}/{repeat})");
        let log = publish::fresh_log(&server.setup, config).await?;
        let elapsed =
            publish::publish_atomic_batches_of(&server.raw, wire, clients, 1, &phase).await?;
        publish::expect_stored(&log, wire.len(), &phase).await?;
        samples.push(rate(wire.len(), elapsed));
    }
    results.add(
        names::RAW_DURABLE_CLIENT_BATCHES,
        samples,
        "events/s",
        wire.len(),
    );
    Ok(())
}

/// The raw ordered read, the naive loop and the decode loop over the whole log.
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

    let (mut samples, mut cpu) = (Vec::new(), Vec::new());
    for round in 1..=repeat {
        let phase = format!("naive loop ({round}/{repeat})");
        let folder = scratch_folder()?;
        let sled_folder = folder.path().join("sled");
        let cpu_since = rebuild::CpuSince::now(std::process::id());
        let elapsed = read::naive_loop(
            &server.raw,
            stream,
            events as u64,
            options.batch_max,
            &sled_folder,
            &phase,
        )
        .await?;
        let used = cpu_since.and_then(|since| since.used()).ok_or_else(|| {
            BenchError::wrong(&phase, "cannot read this process' CPU time from /proc")
        })?;
        samples.push(rate(events, elapsed));
        cpu.push(micros_per_event(events, used));
        remove_folder(folder).await;
    }
    results.add(names::NAIVE_LOOP, samples, "events/s", events);
    results.add(names::NAIVE_LOOP_CPU, cpu, "µs/event", events);

    let server_pid = server.server.pid().ok_or_else(|| {
        BenchError::wrong(
            "decode loop",
            "the nats-server for the reads is not running",
        )
    })?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let (mut ceilings, mut cpu, mut server_cpu) = (Vec::new(), Vec::new(), Vec::new());
    for round in 1..=repeat {
        let phase = format!("decode loop ({round}/{repeat})");
        let own_since = rebuild::CpuSince::now(std::process::id());
        let server_since = rebuild::CpuSince::now(server_pid);
        read::decode_loop(&server.raw, stream, events as u64, &phase).await?;
        let (Some(own), Some(served)) = (
            own_since.and_then(|since| since.used()),
            server_since.and_then(|since| since.used()),
        ) else {
            return Err(BenchError::wrong(
                &phase,
                "cannot read the CPU time of this process or the nats-server from /proc",
            ));
        };
        let (own, served) = (
            micros_per_event(events, own),
            micros_per_event(events, served),
        );
        cpu.push(own);
        server_cpu.push(served);
        ceilings.push(cores * 1e6 / (own + served).max(f64::MIN_POSITIVE));
    }
    results.add(names::DECODE_LOOP_CPU, cpu, "µs/event", events);
    results.add(
        names::DECODE_LOOP_SERVER_CPU,
        server_cpu,
        "µs/event",
        events,
    );
    results.add(names::DECODE_CEILING, ceilings, "events/s", events);
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
        server_pid: server.server.pid().ok_or_else(|| {
            BenchError::ProjectorFailed("the nats-server for the rebuild is not running".to_owned())
        })?,
    };
    let (mut rates, mut peaks, mut disk) = (Vec::new(), Vec::new(), Vec::new());
    let (mut projector_cpu, mut server_cpu) = (Vec::new(), Vec::new());
    for round in 1..=repeat {
        let phase = format!("rebuild by the projector process ({round}/{repeat})");
        let folder = scratch_folder()?;
        let perf = options.perf.as_ref().filter(|_| round == repeat);
        let data_dir = folder.path().join("data");
        let sample =
            rebuild::rebuild_once(&options.projector, &place, &data_dir, options, perf, &phase)
                .await?;
        let per_event = |spent| micros_per_event(events, spent);
        say(format!(
            "  {:.0} events/s, peak RSS {:.1} MiB, {} bytes on disk; CPU per event: projector {:.1} µs, nats-server {:.1} µs (wall {:.1} µs)",
            rate(events, sample.elapsed),
            sample.peak_rss_kib as f64 / 1024.0,
            sample.disk_bytes,
            per_event(sample.projector_cpu),
            per_event(sample.server_cpu),
            per_event(sample.elapsed),
        ));
        projector_cpu.push(per_event(sample.projector_cpu));
        server_cpu.push(per_event(sample.server_cpu));
        rates.push(rate(events, sample.elapsed));
        peaks.push(sample.peak_rss_kib as f64 / 1024.0);
        disk.push(sample.disk_bytes as f64 * 1_000_000.0 / events as f64);
        remove_folder(folder).await;
    }
    results.add(names::REBUILD, rates, "events/s", events);
    results.add(names::PROJECTOR_PEAK_RSS, peaks, "MiB", events);
    results.add(names::SLED_BYTES_PER_MILLION, disk, "bytes", events);
    results.add(
        names::REBUILD_PROJECTOR_CPU,
        projector_cpu,
        "µs/event",
        events,
    );
    results.add(names::REBUILD_SERVER_CPU, server_cpu, "µs/event", events);
    Ok(())
}

/// The rebuild taken apart; returns the writes per table and the memory per read model
/// (MiB) of the last sample.
async fn measure_stages(
    options: &BenchOptions,
    server: &Server,
    config: &LogConfig,
    results: &mut Results,
) -> Result<(BTreeMap<String, TableWrites>, BTreeMap<String, f64>), BenchError> {
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
            stages::rebuild_stages(&log, events as u64, options, &sled_folder, &phase).await?;
        samples.push(sample);
        remove_folder(folder).await;
    }
    add_stages(results, &samples, events);
    let events_f = events.max(1) as f64;
    let mut writes = BTreeMap::new();
    let mut memory = BTreeMap::new();
    if let Some(last) = samples.last() {
        for (model, bytes) in last.held_by_model.iter().flatten() {
            memory.insert(model.clone(), report::round(mebibytes(*bytes), 1));
        }
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
    Ok((writes, memory))
}

/// Bytes in MiB.
pub(crate) fn mebibytes(bytes: u64) -> f64 {
    bytes as f64 / f64::from(1 << 20)
}

/// Turns stage samples into figures.
fn add_stages(results: &mut Results, samples: &[stages::StageSample], events: usize) {
    type Stage = fn(&stages::StageSample) -> Duration;
    let stage_figures: [(&str, Stage); 9] = [
        (names::STAGE_READ, |s| s.read),
        (names::STAGE_DECODE, |s| s.decode),
        (names::STAGE_PREPARE, |s| s.prepare),
        (names::STAGE_FETCH, |s| s.fetch),
        (names::STAGE_FETCH_DIRECT, |s| s.fetch_direct),
        (names::STAGE_FOLD, |s| s.fold),
        (names::STAGE_ROW_READS, |s| s.row_reads),
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
    let count_figures: [(&str, &str, Count); 4] = [
        (names::SUPERSEDED_FETCHES, "events", |s| s.fetches as f64),
        (names::ROWS_WRITTEN, "keys", |s| s.rows_written as f64),
        (names::ROWS_READ, "reads", |s| s.rows_read as f64),
        (names::BYTES_WRITTEN, "bytes", |s| s.bytes_written as f64),
    ];
    for (name, unit, count) in count_figures {
        let scale = match name {
            names::ROWS_WRITTEN | names::ROWS_READ => 1000.0 / events_f,
            names::BYTES_WRITTEN => 1.0 / events_f,
            _ => 1.0,
        };
        let values = samples.iter().map(|sample| count(sample) * scale).collect();
        results.add(name, values, unit, events);
    }
    let held: Vec<f64> = samples
        .iter()
        .filter_map(|sample| sample.held_by_model.as_ref())
        .map(|models| mebibytes(models.values().sum()))
        .collect();
    results.add(names::FOLD_STATE, held, "MiB", events);
}

pub(crate) fn scratch_folder() -> Result<tempfile::TempDir, BenchError> {
    tempfile::Builder::new()
        .prefix("samla-bench-")
        .tempdir()
        .map_err(BenchError::storage)
}

pub(crate) async fn remove_folder(folder: tempfile::TempDir) {
    let _ = tokio::task::spawn_blocking(move || drop(folder)).await;
}
