//! The rebuild: the projector as its own process, building every read model from the whole
//! log into an empty data folder — so its memory is its own and can be read from `/proc`.
//!
//! How the process is found ([`ProjectorCommand::locate`]): `--projector-bin` (or
//! `SAMLA_PROJECTOR_BIN`); else, for the `samla-bench` binary, `samla-projector` next to
//! the running executable (both land in `target/release/` with `cargo build --release -p
//! samla-bench -p samla-projector`), or one folder up (a test binary runs from
//! `target/*/deps/`); else the running executable itself with its hidden projector
//! subcommand (`samla-bench projector`, `samla bench projector`: [`crate::child`]), which
//! runs the same `samla_projector::engine::run` (so the figure then includes the running
//! binary's own code pages, a few MiB). `samla bench` goes straight to its own subcommand,
//! so a stale `samla-projector` lying beside it is never measured. The report names which
//! one ran.
//!
//! The process is started in follow mode with `--progress`; it prints `applied <seq>`
//! after every batch. The rebuild time runs from spawn to the line that reaches the log's
//! last sequence; the peak memory is `VmHWM` from `/proc/<pid>/status`, polled every
//! 100 ms and read once more at that moment, while the process is still alive. Then it gets
//! SIGINT (it flushes sled and exits), and the data folder is measured like `du` does.
//!
//! The CPU time the projector and the nats-server used from spawn to that line (every
//! thread, from `/proc`: [`cpu_time`]) says whether a rebuild is bound by work
//! or by waiting: on two cores, CPU time per event near twice the wall time per event means
//! both cores were busy.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::error::BenchError;
use crate::progress::{Progress, say};

/// The environment variable naming the projector binary.
pub const PROJECTOR_BIN_ENV: &str = "SAMLA_PROJECTOR_BIN";
/// The projector binary's name.
pub const PROJECTOR_BIN_NAME: &str = "samla-projector";
/// How long the projector may take to stop after SIGINT before it is killed.
const STOP_DEADLINE: Duration = Duration::from_secs(60);
const MEMORY_POLL: Duration = Duration::from_millis(100);

/// The program run as the projector process, and the arguments before its own options
/// (e.g. a subcommand).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectorCommand {
    pub program: PathBuf,
    pub leading_args: Vec<String>,
}

impl ProjectorCommand {
    /// A `samla-projector` binary (or anything taking its options).
    pub fn binary(program: impl Into<PathBuf>) -> Self {
        ProjectorCommand {
            program: program.into(),
            leading_args: Vec::new(),
        }
    }

    /// `program subcommand…` — e.g. the bench binary's own `projector` subcommand.
    pub fn subcommand(program: impl Into<PathBuf>, leading_args: &[&str]) -> Self {
        ProjectorCommand {
            program: program.into(),
            leading_args: leading_args.iter().map(|arg| (*arg).to_owned()).collect(),
        }
    }

    /// The projector process as documented at the top of this module: an explicit path,
    /// `SAMLA_PROJECTOR_BIN`, `samla-projector` beside (or one folder above) the running
    /// executable when `look_beside`, else the running executable with
    /// `self_subcommand` (e.g. `["projector"]` for the bench binary, `["bench",
    /// "projector"]` for `samla`), when given.
    pub fn locate(
        explicit: Option<PathBuf>,
        self_subcommand: Option<&[&str]>,
        look_beside: bool,
    ) -> Result<Self, BenchError> {
        if let Some(path) =
            explicit.or_else(|| std::env::var_os(PROJECTOR_BIN_ENV).map(PathBuf::from))
        {
            return Ok(ProjectorCommand::binary(path));
        }
        let current = std::env::current_exe().map_err(|error| BenchError::StartProjector {
            program: PathBuf::from(PROJECTOR_BIN_NAME),
            reason: format!("cannot tell where the running executable is: {error}"),
        })?;
        let beside = current
            .ancestors()
            .skip(1)
            .take(2)
            .map(|folder| folder.join(PROJECTOR_BIN_NAME))
            .find(|candidate| look_beside && candidate.is_file());
        if let Some(found) = beside {
            return Ok(ProjectorCommand::binary(found));
        }
        match self_subcommand {
            Some(subcommand) => Ok(ProjectorCommand::subcommand(current, subcommand)),
            None => Err(BenchError::StartProjector {
                program: PathBuf::from(PROJECTOR_BIN_NAME),
                reason: format!(
                    "not found beside {}; build it with `cargo build --release -p samla-projector` \
                     or name it with --projector-bin / {PROJECTOR_BIN_ENV}",
                    current.display()
                ),
            }),
        }
    }

    /// For the report: the program and its leading arguments.
    pub fn describe(&self) -> String {
        let mut text = self.program.display().to_string();
        for arg in &self.leading_args {
            text.push(' ');
            text.push_str(arg);
        }
        text
    }
}

/// Recording a `perf` profile of the projector during a rebuild.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PerfRecord {
    /// Where perf writes its data (`perf report -i FILE`).
    pub output: PathBuf,
    /// Extra `perf record` arguments (sampling rate, call graphs).
    pub args: Vec<String>,
}

/// What one rebuild measured.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RebuildSample {
    pub elapsed: Duration,
    /// CPU time of the projector process from spawn to the head.
    pub projector_cpu: Duration,
    /// CPU time of the nats-server serving the log over the same span.
    pub server_cpu: Duration,
    pub peak_rss_kib: u64,
    pub disk_bytes: u64,
}

/// Where the projector finds the log.
#[derive(Debug, Clone)]
pub(crate) struct LogPlace {
    pub nats_url: String,
    pub log_max_bytes: u64,
    /// The log's last sequence: the rebuild is done when the projector applied it.
    pub last_seq: u64,
    /// The nats-server's process, for its CPU time.
    pub server_pid: u32,
}

/// The projector's flags for the batch size, the rows' budget and the write window the
/// options ask for (`samla-projector` and the bench's own `projector` take the same).
pub(crate) fn tuning_args(options: &crate::BenchOptions) -> Vec<String> {
    vec![
        "--batch-max".to_owned(),
        options.batch_max.to_string(),
        "--resident-rows".to_owned(),
        options.resident_rows.to_string(),
        "--write-every".to_owned(),
        options.write_every.to_string(),
        "--write-rows".to_owned(),
        options.write_rows.to_string(),
    ]
}

/// Runs one rebuild into the empty folder `data_dir`.
pub(crate) async fn rebuild_once(
    projector: &ProjectorCommand,
    place: &LogPlace,
    data_dir: &Path,
    options: &crate::BenchOptions,
    perf: Option<&PerfRecord>,
    phase: &str,
) -> Result<RebuildSample, BenchError> {
    let stderr_path = data_dir.with_extension("stderr");
    let stderr = std::fs::File::create(&stderr_path).map_err(BenchError::storage)?;
    let mut command = Command::new(&projector.program);
    command
        .args(&projector.leading_args)
        .arg("--nats-url")
        .arg(&place.nats_url)
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--log-max-bytes")
        .arg(place.log_max_bytes.to_string())
        .args(tuning_args(options))
        .arg("--progress")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(stderr))
        .kill_on_drop(true);
    let mut progress = Progress::new(phase, place.last_seq);
    let server_cpu = CpuSince::now(place.server_pid);
    let started = Instant::now();
    let mut child = command
        .spawn()
        .map_err(|error| BenchError::StartProjector {
            program: projector.program.clone(),
            reason: error.to_string(),
        })?;
    let pid = child.id().ok_or_else(|| {
        BenchError::ProjectorFailed("the projector exited before it could be observed".to_owned())
    })?;
    let mut profiler = match perf {
        Some(perf) => Some(start_perf(perf, pid)?),
        None => None,
    };
    let stdout = child.stdout.take().ok_or_else(|| {
        BenchError::ProjectorFailed("the projector's output is not readable".to_owned())
    })?;
    let mut lines = BufReader::new(stdout).lines();
    let mut peak_kib = 0u64;
    let mut poll = tokio::time::interval(MEMORY_POLL);
    let elapsed = loop {
        tokio::select! {
            line = lines.next_line() => {
                let line = line.map_err(|error| BenchError::ProjectorFailed(error.to_string()))?;
                let Some(line) = line else {
                    let status = child.wait().await.map_err(|error| BenchError::ProjectorFailed(error.to_string()))?;
                    return Err(BenchError::ProjectorFailed(format!(
                        "it exited ({status}) before reaching the head; its stderr: {}",
                        tail_of(&stderr_path)
                    )));
                };
                let Some(applied) = line.strip_prefix("applied ").and_then(|seq| seq.trim().parse::<u64>().ok()) else {
                    continue;
                };
                progress.tick_now(applied);
                if applied >= place.last_seq {
                    break started.elapsed();
                }
            }
            _ = poll.tick() => peak_kib = peak_kib.max(peak_rss_kib(pid).unwrap_or(0)),
        }
    };
    peak_kib = peak_kib.max(peak_rss_kib(pid).unwrap_or(0));
    let projector_cpu = cpu_time(pid);
    let server_cpu = server_cpu.and_then(|since| since.used());
    progress.done();
    if let Some(profiler) = profiler.as_mut() {
        stop_gracefully(profiler, "perf").await?;
        say(format!("  perf data written (pid {pid})"));
    }
    stop_gracefully(&mut child, "the projector").await?;
    if peak_kib == 0 {
        return Err(BenchError::ProjectorFailed(format!(
            "could not read VmHWM of process {pid} from /proc"
        )));
    }
    let (Some(projector_cpu), Some(server_cpu)) = (projector_cpu, server_cpu) else {
        return Err(BenchError::ProjectorFailed(format!(
            "could not read the CPU time of process {pid} or of the nats-server ({}) from /proc",
            place.server_pid
        )));
    };
    let disk_bytes = disk_usage(data_dir).map_err(BenchError::storage)?;
    let _ = std::fs::remove_file(&stderr_path);
    Ok(RebuildSample {
        elapsed,
        projector_cpu,
        server_cpu,
        peak_rss_kib: peak_kib,
        disk_bytes,
    })
}

fn start_perf(perf: &PerfRecord, pid: u32) -> Result<Child, BenchError> {
    Command::new("perf")
        .arg("record")
        .arg("-o")
        .arg(&perf.output)
        .arg("-p")
        .arg(pid.to_string())
        .args(&perf.args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|error| BenchError::StartProjector {
            program: PathBuf::from("perf"),
            reason: error.to_string(),
        })
}

/// SIGINT, then wait (the projector flushes sled, perf writes its file); killed after
/// [`STOP_DEADLINE`].
async fn stop_gracefully(child: &mut Child, what: &str) -> Result<(), BenchError> {
    let Some(pid) = child.id() else {
        return Ok(()); // already reaped
    };
    if let Some(pid) = i32::try_from(pid).ok().and_then(Pid::from_raw) {
        let _ = rustix::process::kill_process(pid, Signal::INT);
    }
    match tokio::time::timeout(STOP_DEADLINE, child.wait()).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(error)) => Err(BenchError::ProjectorFailed(format!(
            "waiting for {what}: {error}"
        ))),
        Err(_) => {
            let _ = child.kill().await;
            Err(BenchError::ProjectorFailed(format!(
                "{what} did not stop within {STOP_DEADLINE:?} of SIGINT"
            )))
        }
    }
}

/// `VmHWM` (peak resident set) of a process, in KiB.
pub(crate) fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|line| {
        line.strip_prefix("VmHWM:")?
            .trim()
            .strip_suffix("kB")?
            .trim()
            .parse()
            .ok()
    })
}

/// The CPU time a process uses from a moment on.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CpuSince {
    pid: u32,
    start: Duration,
}

impl CpuSince {
    /// From now; `None` when the process' CPU time cannot be read.
    pub(crate) fn now(pid: u32) -> Option<Self> {
        Some(Self {
            pid,
            start: cpu_time(pid)?,
        })
    }

    /// Used since then.
    pub(crate) fn used(&self) -> Option<Duration> {
        Some(cpu_time(self.pid)?.saturating_sub(self.start))
    }
}

/// CPU time of a process so far, all its threads: the larger of two readings. The clock
/// ticks of `/proc/<pid>/stat` (user and system) count threads that have exited too but
/// only in steps of 10 ms; the nanoseconds of each live thread's `schedstat` are exact. A
/// short run needs the second, a run whose threads came and went the first.
pub(crate) fn cpu_time(pid: u32) -> Option<Duration> {
    let ticks = cpu_ticks(pid)?;
    let exact = live_threads_cpu(pid).unwrap_or_default();
    Some(ticks.max(exact))
}

fn cpu_ticks(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces; the fields after it are plain. utime and
    // stime are fields 14 and 15, the 12th and 13th after the name.
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_ascii_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    let per_second = rustix::param::clock_ticks_per_second();
    if per_second == 0 {
        return None;
    }
    Some(Duration::from_secs_f64(
        (user + system) as f64 / per_second as f64,
    ))
}

fn live_threads_cpu(pid: u32) -> Option<Duration> {
    let mut total = 0u64;
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).ok()? {
        // A thread may end between the listing and the read: it then counts in the ticks.
        let Ok(text) = std::fs::read_to_string(task.ok()?.path().join("schedstat")) else {
            continue;
        };
        total += text.split_ascii_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(Duration::from_nanos(total))
}

/// Bytes allocated on disk under `path` (512-byte blocks, as `du` counts them).
pub(crate) fn disk_usage(path: &Path) -> std::io::Result<u64> {
    use std::os::unix::fs::MetadataExt;
    let metadata = std::fs::symlink_metadata(path)?;
    let mut total = metadata.blocks() * 512;
    if metadata.is_dir() {
        for entry in std::fs::read_dir(path)? {
            total += disk_usage(&entry?.path())?;
        }
    }
    Ok(total)
}

/// The last lines of a file, for error messages.
fn tail_of(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(20);
    let tail = lines[start..].join("\n");
    if tail.is_empty() {
        "(empty)".to_owned()
    } else {
        tail
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_counts_what_this_process_does() {
        let pid = std::process::id();
        let before = cpu_time(pid).expect("this process' CPU time");
        let started = Instant::now();
        let mut x = 1u64;
        while started.elapsed() < Duration::from_millis(30) {
            x = std::hint::black_box(x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1));
        }
        let after = cpu_time(pid).expect("this process' CPU time");
        assert!(after > before, "{before:?} → {after:?} after 30 ms of work");
    }

    /// What the bench asks of the projector process reaches its engine: the flags it
    /// passes, parsed as the projector subcommand parses them.
    #[test]
    fn the_projector_process_gets_the_options_tuning() {
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            bench: crate::BenchArgs,
        }
        let mut options = crate::BenchOptions::new(ProjectorCommand::subcommand("x", &[]));
        options.batch_max = 123;
        options.resident_rows = 0;
        options.write_every = 4_567;
        options.write_rows = 8_901;
        let mut argv: Vec<String> = ["samla-bench", "projector", "--data-dir", "d"]
            .map(str::to_owned)
            .to_vec();
        argv.extend(tuning_args(&options));
        let cli = <Cli as clap::Parser>::try_parse_from(argv).expect("the projector's flags");
        let args = cli
            .bench
            .subcommand
            .and_then(crate::cli::BenchSubcommand::projector_args)
            .expect("the projector subcommand");
        let config = crate::child::engine_config(&args);
        assert_eq!(
            (
                config.batch_max,
                config.resident_rows,
                config.write_every,
                config.write_rows
            ),
            (123, 0, 4_567, 8_901)
        );
    }

    #[test]
    fn cpu_time_of_no_process_is_none() {
        // Above the kernel's largest pid (2^22).
        assert_eq!(cpu_time(u32::MAX - 1), None);
    }
}
