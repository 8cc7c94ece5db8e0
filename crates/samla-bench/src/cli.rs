//! The command line both front ends share: `samla-bench` (this crate's binary) and `samla
//! bench`. [`BenchArgs`] holds every flag, [`figures_help`] the long help that says what
//! each figure means, and [`command`] turns the flags into [`BenchOptions`], runs
//! [`crate::run`] and writes the report (compared with an earlier one on `--compare`) — or,
//! for `compare`, compares two saved reports, and for the hidden `projector` subcommand,
//! runs the projector child the rebuild starts (see [`crate::rebuild`]).

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::child::{ProjectorArgs, run_projector};
use crate::compare::{Comparison, DEFAULT_TOLERANCE_PERCENT, SavedReport};
use crate::error::BenchError;
use crate::groups::{self, Group};
use crate::report::{FIGURES, RATIOS};
use crate::{BenchOptions, PerfRecord, ProjectorCommand};

// Plain comments, not doc comments: a doc comment here would become the `about` of
// whichever command flattens these arguments.
#[derive(Debug, Clone, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BenchArgs {
    /// Events in the log [default: 1,000,000; 100,000 with --quick].
    #[arg(long)]
    pub events: Option<usize>,
    /// Samples per figure; each figure is the median, min and max over them [default: 3;
    /// 2 with --quick].
    #[arg(long)]
    pub repeat: Option<u32>,
    /// A smaller run (100,000 events, 2 repeats, 5,000 events per durable or single-event
    /// sample, 10,000 per batched ingest sample, 10 s of live load and 20 as-of queries per
    /// sample): a few minutes, not tens of minutes.
    #[arg(long)]
    pub quick: bool,
    /// Measure only these groups (comma-separated: publish, durable, read, rebuild, as-of,
    /// ingest, group-commit, live); what they need, and the baselines of their ratios,
    /// come along.
    #[arg(long, value_name = "GROUPS")]
    pub only: Option<String>,
    /// Leave these groups out (comma-separated).
    #[arg(long, value_name = "GROUPS", default_value = "")]
    pub skip: String,
    /// Events per batched ingest sample (NATS, HTTP, durable) [default: a fifth of
    /// --events, 1,000..=100,000; 10,000 with --quick].
    #[arg(long)]
    pub ingest_events: Option<usize>,
    /// Events per single-event ingest sample (HTTP, durable) [default: as --durable-events].
    #[arg(long)]
    pub single_events: Option<usize>,
    /// Events per request in the batched ingest figures.
    #[arg(long, default_value_t = crate::DEFAULT_INGEST_BATCH)]
    pub ingest_batch: usize,
    /// Closed-loop clients sending batches.
    #[arg(long, default_value_t = crate::DEFAULT_BATCH_CLIENTS)]
    pub batch_clients: usize,
    /// Closed-loop clients sending single events.
    #[arg(long, default_value_t = crate::DEFAULT_SINGLE_CLIENTS)]
    pub single_clients: usize,
    /// The live-latency figure's steady rate, in events per second.
    #[arg(long, default_value_t = crate::DEFAULT_LIVE_RATE)]
    pub live_rate: u32,
    /// Seconds of steady load per live-latency sample [default: 30; 10 with --quick].
    #[arg(long)]
    pub live_seconds: Option<u32>,
    /// As-of queries at random moments per sense and sample; the as-of p50/p95/max are
    /// over these [default: 40; 20 with --quick].
    #[arg(long)]
    pub as_of_queries: Option<usize>,
    /// Events per `sync_interval: always` sample [default: a tenth of --events,
    /// 1,000..=100,000; 5,000 with --quick].
    #[arg(long)]
    pub durable_events: Option<usize>,
    /// Print the report as JSON: {"versions", "cores", "workload", "results": {NAME:
    /// {"median", "min", "max", "unit", "events", "samples"}}, "ratios": {NAME: x},
    /// "writes_by_table": {TABLE: {"keys_per_1000_events", "bytes_per_event"}},
    /// "memory_by_model": {MODEL: MiB}}, and with --compare "comparison" (as `compare
    /// --json` prints it).
    #[arg(long)]
    pub json: bool,
    /// Write the report to this file instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Also write the JSON report to this file (whatever --json and --out say), so one run
    /// gives both the table and the JSON.
    #[arg(long, value_name = "FILE")]
    pub json_out: Option<PathBuf>,
    /// The crisis seed (also seeds the as-of queries' moments).
    #[arg(long, default_value_t = crate::DEFAULT_SEED)]
    pub seed: u64,
    /// Outstanding acks in the pipelined publishes.
    #[arg(long, default_value_t = crate::DEFAULT_PUBLISH_WINDOW)]
    pub window: usize,
    /// Events per projector batch (passed to the projector, also used by the naive loop)
    /// [default: the projector's, 2,000].
    #[arg(long)]
    pub batch_max: Option<usize>,
    /// Rows the projector may keep in memory after a write (passed to the projector, also
    /// used by the "taken apart" steps) [default: the projector's, 100,000]. 0 keeps only
    /// the rows changed since the last write: the least memory, the most reads back.
    #[arg(long, value_name = "ROWS")]
    pub resident_rows: Option<usize>,
    /// While behind the head, the most events the projector folds between two writes
    /// (passed to the projector, also used by the "taken apart" steps) [default: the
    /// projector's, 50,000].
    #[arg(long, value_name = "EVENTS")]
    pub write_every: Option<usize>,
    /// While behind the head, the most rows the projector changes between two writes
    /// (passed to the projector, also used by the "taken apart" steps) [default: the
    /// projector's]. Lower holds less memory on a large crisis and writes busy rows more
    /// often.
    #[arg(long, value_name = "ROWS")]
    pub write_rows: Option<usize>,
    /// The projector binary [default: $SAMLA_PROJECTOR_BIN; for samla-bench,
    /// `samla-projector` beside it; else this binary's own hidden `projector` subcommand —
    /// the same engine].
    #[arg(long, value_name = "PATH")]
    pub projector_bin: Option<PathBuf>,
    /// Record a `perf` profile of the projector during the last rebuild into FILE
    /// (`perf report -i FILE`). Needs `perf` and kernel.perf_event_paranoid <= 2.
    #[arg(long, value_name = "FILE")]
    pub perf: Option<PathBuf>,
    /// Extra `perf record` arguments, whitespace-separated.
    #[arg(
        long,
        default_value = "-F 999 --call-graph dwarf,16384",
        allow_hyphen_values = true
    )]
    pub perf_args: String,
    /// Skip taking the rebuild apart into its steps (saves about as long as the rebuilds).
    #[arg(long)]
    pub no_stages: bool,
    /// Compare this run with an earlier report (the `--json` or `--json-out` of a run with
    /// the same flags, read before this run starts): the table and the JSON gain each
    /// ratio and figure before and after, its change, and whether it is better, worse or
    /// the same within --tolerance.
    #[arg(long, value_name = "FILE")]
    pub compare: Option<PathBuf>,
    /// How far a ratio or cost may move, in percent, before it counts as better or worse
    /// (with --compare).
    #[arg(long, value_name = "PERCENT", default_value_t = DEFAULT_TOLERANCE_PERCENT)]
    pub tolerance: f64,
    /// With --compare: after printing the report, fail (exit status 1) naming every ratio
    /// or figure worse than before beyond --tolerance.
    #[arg(long, requires = "compare")]
    pub fail_on_worse: bool,
    #[command(subcommand)]
    pub subcommand: Option<BenchSubcommand>,
}

/// `samla bench compare`, and the bench's own projector process.
#[derive(Debug, Clone, Subcommand)]
pub enum BenchSubcommand {
    /// The projector process (same options and output as `samla-projector` in follow mode
    /// with --progress); the rebuild starts it when no samla-projector binary is used.
    #[command(hide = true)]
    Projector(ProjectorArgs),
    /// Compare two saved reports: is AFTER worse than BEFORE?
    ///
    /// Reads two reports written by `--json` (or `--json-out`) and prints each ratio and
    /// figure both hold: before, after, the change and a verdict. Ratios with a target
    /// (Samla against the baselines of its own run) should rise; costs (ms, MiB, bytes,
    /// time per event) should fall; a move beyond --tolerance is better or WORSE, else the
    /// same. Throughputs and baselines are shown for context only: they follow the
    /// machine's speed, which the ratios cancel out. Settings of the workload that differ
    /// are named first (such figures are not comparable).
    ///
    /// Example: samla bench --quick --json-out before.json; (change the code, rebuild);
    /// samla bench --quick --compare before.json --fail-on-worse
    Compare(CompareArgs),
}

/// `samla bench compare BEFORE AFTER`.
#[derive(Debug, Clone, clap::Args)]
pub struct CompareArgs {
    /// The earlier report (`samla bench --json` output).
    pub before: PathBuf,
    /// The later report.
    pub after: PathBuf,
    /// How far a ratio or cost may move, in percent, before it counts as better or worse.
    #[arg(long, value_name = "PERCENT", default_value_t = DEFAULT_TOLERANCE_PERCENT)]
    pub tolerance: f64,
    /// Print the comparison as JSON: {"before", "after", "tolerance_percent",
    /// "workload_differences", "changes": [{"name", "unit", "before", "after", "change",
    /// "verdict"}], "only_before", "only_after"}.
    #[arg(long)]
    pub json: bool,
    /// Fail (exit status 1) naming every ratio or figure worse beyond --tolerance, after
    /// printing the comparison.
    #[arg(long)]
    pub fail_on_worse: bool,
}

impl BenchSubcommand {
    /// The projector process' options, if this is the projector subcommand.
    pub fn projector_args(self) -> Option<ProjectorArgs> {
        match self {
            BenchSubcommand::Projector(args) => Some(args),
            BenchSubcommand::Compare(_) => None,
        }
    }
}

/// How the running executable starts the projector process.
#[derive(Debug, Clone, Copy)]
pub struct ProjectorLaunch<'a> {
    /// The arguments that reach [`BenchSubcommand::Projector`] in this executable, e.g.
    /// `["projector"]` (samla-bench) or `["bench", "projector"]` (samla).
    pub self_subcommand: &'a [&'a str],
    /// Prefer a `samla-projector` binary beside this executable.
    pub look_beside: bool,
}

/// What each figure means, for `--help`.
pub fn figures_help() -> String {
    let mut text = String::from("Groups (--only, --skip):\n");
    for group in Group::ALL {
        text.push_str(&format!("  {:<14} {}\n", group.name(), group.describe()));
    }
    text.push_str("\nFigures (results in the JSON; each the median, min and max over --repeat):\n");
    for figure in FIGURES {
        let target = figure
            .target
            .map(|target| format!("; {}", target.describe()))
            .unwrap_or_default();
        text.push_str(&format!(
            "\n  {} [{}, group {}{target}]\n      {}\n",
            figure.name, figure.unit, figure.group, figure.meaning
        ));
    }
    text.push_str("\nRatios (of medians, from the same run):\n");
    for ratio in RATIOS {
        let target = ratio
            .target
            .map(|target| format!("; {}", target.describe()))
            .unwrap_or_default();
        text.push_str(&format!(
            "\n  {}\n      {}{target}\n",
            ratio.name, ratio.meaning
        ));
    }
    text.push_str(
        "\nBuild in release before measuring, on an otherwise idle machine:\n  \
         cargo build --release -p samla-bench -p samla-projector\n  \
         target/release/samla-bench --quick\n",
    );
    text
}

impl BenchArgs {
    /// The options these flags ask for.
    pub fn options(&self, launch: ProjectorLaunch<'_>) -> Result<BenchOptions, BenchError> {
        let projector = ProjectorCommand::locate(
            self.projector_bin.clone(),
            Some(launch.self_subcommand),
            launch.look_beside,
        )?;
        let mut options = BenchOptions::new(projector);
        if self.quick {
            options = options.quick();
        }
        if let Some(events) = self.events {
            options.events = events;
        }
        if let Some(repeat) = self.repeat {
            options.repeat = repeat;
        }
        if self.durable_events.is_some() {
            options.durable_events = self.durable_events;
        }
        let only = self.only.as_deref().map(groups::parse_list).transpose()?;
        let skip = groups::parse_list(&self.skip)?;
        let (selected, notes) = groups::select(only.as_deref(), &skip)?;
        for note in notes {
            crate::progress::say(note);
        }
        options.groups = selected;
        if self.ingest_events.is_some() {
            options.ingest_events = self.ingest_events;
        }
        options.single_events = self.single_events;
        options.ingest_batch = self.ingest_batch;
        options.batch_clients = self.batch_clients;
        options.single_clients = self.single_clients;
        options.live_rate = self.live_rate;
        if let Some(seconds) = self.live_seconds {
            options.live_seconds = seconds;
        }
        if let Some(queries) = self.as_of_queries {
            options.as_of_queries = queries;
        }
        options.seed = self.seed;
        options.publish_window = self.window;
        options.stages = !self.no_stages;
        if let Some(batch_max) = self.batch_max {
            options.batch_max = batch_max;
        }
        if let Some(resident_rows) = self.resident_rows {
            options.resident_rows = resident_rows;
        }
        if let Some(write_every) = self.write_every {
            options.write_every = write_every;
        }
        if let Some(write_rows) = self.write_rows {
            options.write_rows = write_rows;
        }
        options.perf = self.perf.clone().map(|output| PerfRecord {
            output,
            args: self
                .perf_args
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
        });
        Ok(options)
    }
}

/// Runs what the flags ask for: the projector child, a comparison of two saved reports,
/// or a whole benchmark whose report goes to stdout (or `--out`, and `--json-out`). Needs
/// tokio's multi-thread runtime.
pub async fn command(args: BenchArgs, launch: ProjectorLaunch<'_>) -> Result<(), BenchError> {
    match args.subcommand {
        Some(BenchSubcommand::Projector(projector)) => return run_projector(projector).await,
        Some(BenchSubcommand::Compare(compare)) => return compare_reports(&compare),
        None => {}
    }
    let options = args.options(launch)?;
    let before = match &args.compare {
        Some(path) => Some(SavedReport::load(path)?),
        None => None,
    };
    let tolerance = check_tolerance(args.tolerance)?;
    let mut report = crate::run(&options).await?;
    if let Some(before) = &before {
        let after = SavedReport::of(&report);
        report.comparison = Some(Comparison::between(before, &after, tolerance));
    }
    let write = |path: &PathBuf, text: String| {
        std::fs::write(path, text)
            .map_err(|error| BenchError::storage(format!("writing {}: {error}", path.display())))
    };
    if let Some(path) = &args.json_out {
        write(path, report.to_json() + "\n")?;
    }
    let text = if args.json {
        report.to_json() + "\n"
    } else {
        report.to_table()
    };
    match &args.out {
        Some(path) => write(path, text)?,
        None => print!("{text}"),
    }
    match &report.comparison {
        Some(comparison) => comparison.fail_if_worse(args.fail_on_worse),
        None => Ok(()),
    }
}

/// `compare BEFORE AFTER`: the comparison on stdout.
fn compare_reports(args: &CompareArgs) -> Result<(), BenchError> {
    let tolerance = check_tolerance(args.tolerance)?;
    let before = SavedReport::load(&args.before)?;
    let after = SavedReport::load(&args.after)?;
    let comparison = Comparison::between(&before, &after, tolerance);
    if args.json {
        let json = serde_json::to_string_pretty(&comparison)
            .map_err(|error| BenchError::storage(format!("the comparison as JSON: {error}")))?;
        println!("{json}");
    } else {
        print!("{}", comparison.to_table());
    }
    comparison.fail_if_worse(args.fail_on_worse)
}

/// A tolerance is a percentage of 0 or more.
fn check_tolerance(percent: f64) -> Result<f64, BenchError> {
    if percent.is_finite() && percent >= 0.0 {
        Ok(percent)
    } else {
        Err(BenchError::InvalidOptions(format!(
            "--tolerance must be a percentage of 0 or more (10 allows a move of 10 %), not {percent}"
        )))
    }
}
