//! The command line: every command, its options and the help that teaches it.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

use samla_log::CommitMode;

use crate::exit::CliResult;

const ABOUT: &str = "Samla: one shared situational picture for a crisis network.";

const LONG_ABOUT: &str = "\
Samla: one shared situational picture for a crisis network.

Organisations publish typed facts (housing offered, need raised, issue resolved, situation
reported, ...) onto an append-only log on NATS JetStream; Samla folds the log into read
models and serves the picture over an HTTP API and a live dashboard.

Start here:
  samla up --demo            a whole local stack with a demo crisis; prints the dashboard URL
  samla emit --org NAME F    send events (JSON lines) as an organisation
  samla tail --org NAME      follow what an organisation sees, live
  samla org add NAME         give a new organisation its credentials

Every long option can also come from a `SAMLA_<OPTION>` environment variable or a TOML
config file (`--config FILE`, keys named like the options, e.g. `data_dir = \"/srv/samla\"`,
optionally in a table per command such as `[up]`). The command line wins over the
environment, which wins over the file.";

const EXIT_CODES: &str = "\
Exit codes:
  0  done
  1  failure
  2  usage: a wrong flag, argument or config file
  3  bad input: some events or rows were refused (each one is reported)
  4  unavailable: NATS or the Samla API could not be reached
  5  not allowed: the token is missing, unknown or may not do this";

#[derive(Debug, Parser)]
#[command(name = "samla", version, about = ABOUT, long_about = LONG_ABOUT, after_help = EXIT_CODES)]
pub struct Cli {
    /// A TOML file with defaults for any long option (also `SAMLA_CONFIG`).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// More diagnostics on stderr: -v for progress, -vv for debugging (`RUST_LOG` wins).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the whole stack on this machine: NATS, ingest, projector, API and dashboard.
    #[command(long_about = UP_ABOUT)]
    Up(UpArgs),
    /// Run one production replica (ingest + projector + API) against an existing NATS.
    Serve(ServeArgs),
    /// Run the projector alone (headless), folding the log into read models on disk.
    Projector(ProjectorArgs),
    /// Send the demo crisis through the ingest door, at once or at a pace.
    #[command(long_about = DEMO_ABOUT)]
    Demo(DemoArgs),
    /// Send events (one JSON event, or JSON lines from a file or stdin) as an organisation.
    #[command(long_about = EMIT_ABOUT)]
    Emit(EmitArgs),
    /// Send the rows of a CSV, HXL CSV or spreadsheet as events, through a column mapping.
    #[command(long_about = IMPORT_ABOUT)]
    Import(ImportArgs),
    /// Write a read model as CSV or HXL CSV, as the caller sees it.
    Export(ExportArgs),
    /// Follow the live stream of an incident as the caller sees it.
    Tail(TailArgs),
    /// Print the replica's digest: SHA-256 over its read models, and the sequence it reflects.
    Digest(DigestArgs),
    /// Recompute the log's hash chain; export its head, or check the log against an export.
    #[command(long_about = VERIFY_ABOUT)]
    Verify(VerifyArgs),
    /// The picture as it was at a moment, or how it changed over a span (through the API).
    #[command(long_about = REPLAY_ABOUT)]
    Replay(ReplayArgs),
    /// The after-action report (HTML or Markdown, charts inline), or with --sitrep the
    /// network's situation report (lägesrapport) for a period, ready for WIS.
    #[command(long_about = REPORT_ABOUT)]
    Report(ReportArgs),
    /// Manage the organisations of a local stack.
    #[command(subcommand)]
    Org(OrgCommand),
    /// Measure Samla against raw JetStream and sled in one run (its own nats-servers).
    #[command(long_about = BENCH_ABOUT, after_long_help = samla_bench::figures_help())]
    // Boxed: the bench's flags are many, the other commands' few.
    Bench(Box<samla_bench::BenchArgs>),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

const BENCH_ABOUT: &str = "\
Measure Samla against raw JetStream and sled in one run: the log's baselines (raw publish,
raw atomic batches, raw ordered read, a naive consume-decode-sled loop, and with
`sync_interval: always` raw pipelined and batched publish), then Samla's ingest through the
gateway (NATS and HTTP doors, durable group commit), live latency to an SSE client, the
projector's rebuild (as its own process: speed, peak memory, disk) and as-of queries. Each
figure is measured --repeat times: median, min and max; ratios to the baselines are printed
beside their targets.

It starts its own nats-servers (nats-server 2.15 from SAMLA_NATS_SERVER, the project's
tool folder or PATH) and touches no running stack. Build in release and run it on an
otherwise idle machine: `--quick` takes a few minutes, the full million-event run much
longer. Progress goes to stderr, the table (or --json) to stdout.

Examples:
  samla bench --quick                       100,000 events, 2 repeats
  samla bench --quick --json > bench.json   the same as JSON
  samla bench --only as-of,rebuild          only what replay and the projector cost
  samla bench --quick --compare bench.json  this run against the earlier one: what got worse
  samla bench compare before.json after.json   two saved runs side by side";

const UP_ABOUT: &str = "\
Run the whole stack on this machine: a managed nats-server (its own process group, stopped
last, `sync_interval: always`, the same per-organisation users as production), the ingest
service, the projector and the API with the dashboard, in one process, with all data under
--data-dir.

The first line on stdout is exactly `Dashboard: http://HOST:PORT/`, then `NATS: nats://...`,
then one line per credential (`Token <org>: ...`, `Share token: ...`, `Operator token: ...`).
The credentials are kept for this local stack in <data-dir>/config/local-credentials.json
(owner-only), so every start prints the same ones. Ctrl-C drains and stops everything;
a restart keeps all data.

The nats-server binary is taken from SAMLA_NATS_SERVER, then PATH (if it is 2.15 or newer),
then the project's tool folder (.tools/nats-server-2.15.1/), else installed there by
deploy/install-nats-server.sh.

Examples:
  samla up --demo                      the demo crisis on http://127.0.0.1:8080/
  samla up --http 127.0.0.1:0          any free port
  samla up --nats-url nats://n1:4222   use an existing NATS instead of a managed one";

const DEMO_ABOUT: &str = "\
Send the demo crisis through the ingest door of a running stack, each event with its own
organisation's token: a Swedish municipality receiving refugees at a reception site over
three weeks, with 10 organisations, sites and beds, arrivals, needs raised and met, offers,
issues between actors, network meetings with decisions, and situation reports.

The crisis is placed so that it ends now. Without --pace it loads at once; with --pace 10s
it plays one crisis day every ten seconds, so the dashboard moves and the log's recorded
times spread out like a real crisis. Organisations missing from the local stack are added
(their tokens and NATS users), so this works right after a plain `samla up`.

Examples:
  samla demo                    load at once into the stack of ./samla-data
  samla demo --pace 10s         a day every ten seconds
  samla demo --scale 4 --seed 7 a bigger, different crisis";

const EMIT_ABOUT: &str = "\
Send events as an organisation through the HTTP ingest door. Input is one JSON event, or
JSON lines (one event per line); from FILE, or stdin when FILE is `-` or missing.

Each event is an envelope as in proto-events/schema (kind, v, incident, aggregate, payload,
...). `id` and `org` may be left out: `id` becomes a fresh UUID v7 and `org` the token's
organisation. Give ids yourself when you may retry: an id already in the log comes back as
`duplicate`, never stored twice.

Every line gets its own answer (stored with its sequence, duplicate, or refused with the
field and the reason); one bad line never stops the others. Exit code 3 if any was refused.

Examples:
  samla emit --org kommun need.json
  some-tool | samla emit --org kommun --json -";

/// Where a command finds the local stack, or the services it talks to.
#[derive(Debug, Clone, Args)]
pub struct DataDirArgs {
    /// The local stack's folder: NATS store, read models, tokens, credentials.
    #[arg(
        long,
        env = "SAMLA_DATA_DIR",
        default_value = "samla-data",
        value_name = "DIR"
    )]
    pub data_dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct UpArgs {
    #[command(flatten)]
    pub data: DataDirArgs,
    /// Load the demo crisis (only if its incident is not in the log yet).
    #[arg(long, env = "SAMLA_DEMO")]
    pub demo: bool,
    /// Where the API and dashboard listen (port 0 picks a free one).
    #[arg(
        long,
        env = "SAMLA_HTTP",
        default_value = "127.0.0.1:8080",
        value_name = "ADDR:PORT"
    )]
    pub http: SocketAddr,
    /// Use an existing NATS (cluster) instead of a managed nats-server.
    #[arg(
        long,
        env = "SAMLA_NATS_URL",
        value_name = "URL",
        value_delimiter = ','
    )]
    pub nats_url: Vec<String>,
    /// The managed nats-server's client port (0 picks a free one).
    #[arg(
        long,
        env = "SAMLA_NATS_PORT",
        default_value_t = 0,
        value_name = "PORT"
    )]
    pub nats_port: u16,
    /// The log's byte budget: the stream refuses writes beyond it (never drops history).
    #[arg(long, env = "SAMLA_LOG_MAX_BYTES", default_value_t = 8 << 30, value_name = "BYTES")]
    pub log_max_bytes: u64,
    /// Copies of the log on the NATS cluster of --nats-url: 3 or 5 there (must equal the
    /// stream's `num_replicas`; the stream is created with it when missing). The managed
    /// nats-server is one node: 1.
    #[arg(long, env = "SAMLA_LOG_REPLICAS", default_value_t = 1, value_name = "N", value_parser = parse_replicas)]
    pub log_replicas: u8,
}

/// `--log-replicas`: the copies of the log samla-log accepts ([`samla_log::check_replicas`]).
fn parse_replicas(text: &str) -> Result<u8, String> {
    let replicas = text
        .trim()
        .parse::<u8>()
        .map_err(|_| format!("{text}: the log keeps 1, 3 or 5 copies"))?;
    samla_log::check_replicas(replicas).map(|()| replicas)
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// NATS server(s) holding the log (comma-separated or repeated).
    #[arg(
        long,
        env = "SAMLA_NATS_URL",
        default_value = "nats://127.0.0.1:4222",
        value_delimiter = ',',
        value_name = "URL"
    )]
    pub nats_url: Vec<String>,
    /// The folder for this replica's read models.
    #[arg(long, env = "SAMLA_DATA_DIR", value_name = "DIR")]
    pub data_dir: PathBuf,
    /// The token file every replica reads (hashed tokens; `samla org add` writes it).
    #[arg(long, env = "SAMLA_TOKENS_FILE", value_name = "FILE")]
    pub tokens_file: PathBuf,
    /// Where the API listens.
    #[arg(
        long,
        env = "SAMLA_HTTP",
        default_value = "127.0.0.1:8080",
        value_name = "ADDR:PORT"
    )]
    pub http: SocketAddr,
    /// Password of the NATS user `samla-ingest` (only this user may write the log).
    #[arg(
        long,
        env = "SAMLA_INGEST_PASSWORD",
        hide_env_values = true,
        value_name = "PASSWORD"
    )]
    pub ingest_password: Option<String>,
    /// Password of the NATS user `samla-projector`.
    #[arg(
        long,
        env = "SAMLA_PROJECTOR_PASSWORD",
        hide_env_values = true,
        value_name = "PASSWORD"
    )]
    pub projector_password: Option<String>,
    /// The log's byte budget (must equal the stream's `max_bytes`).
    #[arg(long, env = "SAMLA_LOG_MAX_BYTES", default_value_t = 8 << 30, value_name = "BYTES")]
    pub log_max_bytes: u64,
    /// Copies of the log: 1 on one server, 3 or 5 on a cluster (must equal the stream's
    /// `num_replicas`; the stream is created with it when missing).
    #[arg(long, env = "SAMLA_LOG_REPLICAS", default_value_t = 1, value_name = "N", value_parser = parse_replicas)]
    pub log_replicas: u8,
    /// How the ingest service sends batches of events to the log: `atomic` (batches the
    /// server stores and syncs once; for `sync_interval: always`, the production setting)
    /// or `pipelined` (each event its own publish, all in flight; several times faster on
    /// a server that syncs on an interval, and slow on `sync_interval: always`).
    #[arg(long, env = "SAMLA_LOG_COMMIT", default_value_t = CommitMode::Atomic, value_name = "MODE")]
    pub log_commit: CommitMode,
}

#[derive(Debug, Args)]
pub struct ProjectorArgs {
    /// NATS server(s) holding the log.
    #[arg(
        long,
        env = "SAMLA_NATS_URL",
        default_value = "nats://127.0.0.1:4222",
        value_delimiter = ',',
        value_name = "URL"
    )]
    pub nats_url: Vec<String>,
    /// The folder for the read models.
    #[arg(long, env = "SAMLA_DATA_DIR", value_name = "DIR")]
    pub data_dir: PathBuf,
    /// Password of the NATS user `samla-projector` (none: connect without a user).
    #[arg(
        long,
        env = "SAMLA_PROJECTOR_PASSWORD",
        hide_env_values = true,
        value_name = "PASSWORD"
    )]
    pub projector_password: Option<String>,
    /// The log's byte budget (must equal the stream's `max_bytes`).
    #[arg(long, env = "SAMLA_LOG_MAX_BYTES", default_value_t = 8 << 30, value_name = "BYTES")]
    pub log_max_bytes: u64,
    /// Copies of the log: 1 on one server, 3 or 5 on a cluster (must equal the stream's
    /// `num_replicas`; the stream is created with it when missing).
    #[arg(long, env = "SAMLA_LOG_REPLICAS", default_value_t = 1, value_name = "N", value_parser = parse_replicas)]
    pub log_replicas: u8,
    /// Catch up with the head, print the digest and the checkpoint, and exit.
    #[arg(long)]
    pub digest_at_head: bool,
    /// Read-model rows to keep in memory after a write (rows changed since stay anyway).
    /// Beyond it, rows already on disk leave memory and are read back from sled when an
    /// event or a view needs them: lower holds less memory on a large crisis and folds it
    /// slower.
    #[arg(
        long,
        env = "SAMLA_PROJECTOR_RESIDENT_ROWS",
        default_value_t = samla_projector::engine::RESIDENT_ROWS,
        value_name = "ROWS"
    )]
    pub resident_rows: usize,
    /// While catching up, the most rows changed between two writes to disk. They stay in
    /// memory until written, and sled holds what a write replaces until it ends: lower
    /// holds less memory on a large crisis and writes busy rows more often.
    #[arg(
        long,
        env = "SAMLA_PROJECTOR_WRITE_ROWS",
        default_value_t = samla_projector::engine::WRITE_ROWS,
        value_name = "ROWS"
    )]
    pub write_rows: usize,
    /// Print results as JSON.
    #[arg(long)]
    pub json: bool,
}

/// How a client command reaches the API, and as whom.
#[derive(Debug, Clone, Args)]
pub struct ClientArgs {
    /// The Samla API (default: the running local stack of --data-dir).
    #[arg(long, env = "SAMLA_API", value_name = "URL")]
    pub api: Option<String>,
    /// The bearer token to act with (`samla_...`).
    #[arg(
        long,
        env = "SAMLA_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub token: Option<String>,
    /// Act as this organisation of the local stack (its token from --data-dir).
    #[arg(long, env = "SAMLA_ORG", value_name = "ORG", conflicts_with = "token")]
    pub org: Option<String>,
    #[command(flatten)]
    pub data: DataDirArgs,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub client: DemoClientArgs,
    /// Play one crisis day per DURATION (e.g. 10s, 2m); without it, load at once.
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub pace: Option<Duration>,
    /// Crisis size: 1 is the demo (~2,500 events); events grow linearly.
    #[arg(long, default_value_t = 1)]
    pub scale: u32,
    /// The generator's seed (the same seed, the same crisis).
    #[arg(long, default_value_t = samla_sim::CrisisConfig::demo().seed)]
    pub seed: u64,
    /// Crisis days.
    #[arg(long, default_value_t = 21)]
    pub days: u32,
    /// Start the crisis at this time (RFC 3339) instead of placing it to end now.
    #[arg(long, value_name = "TIME")]
    pub start: Option<String>,
    /// Print a JSON summary instead of a human one.
    #[arg(long)]
    pub json: bool,
}

/// The demo acts as every organisation, so it takes the local stack's credentials.
#[derive(Debug, Clone, Args)]
pub struct DemoClientArgs {
    /// The Samla API (default: the running local stack of --data-dir).
    #[arg(long, env = "SAMLA_API", value_name = "URL")]
    pub api: Option<String>,
    #[command(flatten)]
    pub data: DataDirArgs,
}

#[derive(Debug, Args)]
pub struct EmitArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    /// A JSON event or JSON-lines file; `-` or nothing for stdin.
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Events per request.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub batch: u16,
    /// One JSON answer per line on stdout instead of a human report.
    #[arg(long)]
    pub json: bool,
}

const IMPORT_ABOUT: &str = "\
Send the rows of a CSV, HXL-tagged CSV or spreadsheet (xlsx, ods) as events, as an
organisation, through a TOML column mapping that says which event kind a row becomes and
which column (by header or HXL tag) fills which field. Every row is checked by the contract
(the personal-data guard included); a bad row never stops the good ones and is reported
with its line, field and reason. Event ids come from the rows (a key column, or the row's
content), so importing the same file again adds nothing.

Mapping examples: crates/samla-import/examples/ (needs.toml with needs.csv, an HXL sheet
of housing offers). The format is documented in crates/samla-import/src/lib.rs.

Examples:
  samla import --org malmo-stad --mapping needs.toml --dry-run needs.csv
  samla import --org malmo-stad --mapping needs.toml needs.csv --report refused.csv";

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    /// The column mapping (TOML).
    #[arg(long, value_name = "FILE")]
    pub mapping: PathBuf,
    /// The sheet: .csv, .tsv, .hxl, .xlsx, .ods …; `-` for CSV on stdin.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Check every row, send nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Also write the refused rows (line, field, column, reason) to FILE as CSV.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// One JSON summary on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    /// What to export: sites, offers, needs, resources, issues, situation-reports,
    /// arrivals, services, hospitals, alerts, organisations, responsibilities, presence,
    /// meetings, decisions, actions.
    #[arg(value_name = "VIEW")]
    pub view: String,
    /// The incident (default: the only one the caller sees).
    #[arg(long, value_name = "INCIDENT")]
    pub incident: Option<String>,
    /// Add the HXL hashtag row under the header.
    #[arg(long)]
    pub hxl: bool,
    /// `;`-separated with a byte-order mark, as Swedish Excel opens without asking.
    #[arg(long)]
    pub semicolon: bool,
    /// Write to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct TailArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    /// The incident to follow (default: the only one the caller sees).
    #[arg(long, value_name = "INCIDENT")]
    pub incident: Option<String>,
    /// Start after this sequence (0: from the beginning); default: only new events.
    #[arg(long, value_name = "SEQ")]
    pub after: Option<u64>,
    /// Stop after this many events.
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,
    /// One JSON object per event on stdout.
    #[arg(long)]
    pub json: bool,
    /// Reconnect when the server sends nothing for this many seconds, not even the
    /// keep-alive it sends every 15: a connection that died without closing (a suspended
    /// laptop, a dropped VPN, a crashed proxy) would otherwise wait for ever.
    #[arg(long, value_name = "SECONDS", default_value_t = 45, value_parser = clap::value_parser!(u64).range(1..))]
    pub silence: u64,
}

#[derive(Debug, Args)]
pub struct DigestArgs {
    /// The Samla API (default: the running local stack of --data-dir).
    #[arg(long, env = "SAMLA_API", value_name = "URL")]
    pub api: Option<String>,
    /// The operator token (default: the local stack's).
    #[arg(
        long,
        env = "SAMLA_OPERATOR_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub token: Option<String>,
    #[command(flatten)]
    pub data: DataDirArgs,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

const VERIFY_ABOUT: &str = "\
Recompute the log's hash chain from the stream: each link covers the previous link, the
sequence, the subject, recorded_at and the event's bytes; a second chain covers the content
only (no recorded_at).

  samla verify                          print the chain head
  samla verify --export-head FILE       write a link every --every sequences and the head,
                                        for other organisations to keep
  samla verify --against FILE           check the log against an earlier export: names the
                                        first interval where it departs, whether only the
                                        recorded times differ (a re-written log) or the
                                        content too, and (with --fingerprints at export)
                                        the first changed sequence

Exit code 0 when the log matches, 1 when it departs. Reads the log as the projector's
NATS user: from the local stack of --data-dir, or --nats-url with --nats-password.";

const REPLAY_ABOUT: &str = "\
The picture as it was, read through the API as the caller (the same visibility as live).

  --sense known      what the network knew at T: the log as recorded up to T (default)
  --sense happened   what had happened by T: events that occurred by then, late reports
                     included, corrections applied where the corrected event occurred

Examples:
  samla replay --org malmo-stad --at 2026-11-10T14:00:00Z
  samla replay --org malmo-stad --from 2026-11-10T00:00:00Z --to 2026-11-11T00:00:00Z --step 1h
  samla replay --org malmo-stad --at 2026-11-10T14:00:00Z --sense happened --json";

/// Which time a replay follows.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SenseArg {
    Known,
    Happened,
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    /// The incident (default: the only one the caller sees).
    #[arg(long, value_name = "INCIDENT")]
    pub incident: Option<String>,
    /// One moment (RFC 3339).
    #[arg(long, value_name = "TIME", conflicts_with_all = ["from", "to"])]
    pub at: Option<String>,
    /// The span's start (RFC 3339).
    #[arg(long, value_name = "TIME", requires = "to")]
    pub from: Option<String>,
    /// The span's end (RFC 3339).
    #[arg(long, value_name = "TIME", requires = "from")]
    pub to: Option<String>,
    /// The step over a span (e.g. 1h, 15m, 1d is 24h).
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub step: Option<Duration>,
    /// Known (the log as recorded) or happened (as the events occurred).
    #[arg(long, value_enum, default_value = "known")]
    pub sense: SenseArg,
    /// JSON: the picture, or one object per step.
    #[arg(long)]
    pub json: bool,
}

const REPORT_ABOUT: &str = "\
The after-action report: needs raised and met over time, time to claim and to meet per
organisation and category (median and 90th percentile), issues' time to acknowledge and
resolve, escalations, beds and occupancy, arrivals per day, situation-report punctuality,
key events, and each decision with what changed under it afterwards — self-contained HTML
with inline SVG charts, or Markdown, in Swedish or English. Every figure comes from the log;
the report states the log range, the chain head and a clean replica's digest.

  samla report --out report.html --lang en
  samla report --from 2026-11-01T00:00:00Z --to 2026-11-08T00:00:00Z --format md

With --sitrep: the network's situation report (lägesrapport) for a period, as plain Swedish
text under the usual headings — 1. Lägesbild, 2. Konsekvenser, 3. Vidtagna åtgärder,
4. Behov, 5. Kommande 24 timmar, 6. Nästa rapport — filled from the log, with the log range
and the hash chain's head at the foot, ready to paste into WIS.

Only what the whole network may see counts (events addressed to the network, status
actual); counts of people below the suppression threshold read \"färre än 5\". State
figures (beds, open needs and issues) are the picture as it happened at the period's end.

  samla report --sitrep --day 2026-11-10
  samla report --sitrep --from 2026-11-10T06:00:00Z --to 2026-11-11T06:00:00Z --json";

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The situation report for a period (else: the after-action report).
    #[arg(long)]
    pub sitrep: bool,
    /// The after-action report's format (default: Markdown on stdout or for a `.md` file,
    /// HTML for any other file).
    #[arg(long, value_enum)]
    pub format: Option<ReportFormat>,
    /// The after-action report's language.
    #[arg(long, value_enum, default_value = "sv")]
    pub lang: LangArg,
    /// The incident (default: the only one declared).
    #[arg(long, value_name = "INCIDENT")]
    pub incident: Option<String>,
    /// One whole day in Europe/Stockholm, e.g. 2026-11-10.
    #[arg(long, value_name = "DATE", conflicts_with_all = ["from", "to"])]
    pub day: Option<String>,
    /// The period's start (RFC 3339).
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// The period's end (RFC 3339).
    #[arg(long, value_name = "TIME")]
    pub to: Option<String>,
    /// Write to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// JSON: the figures, and the text under `text`.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub connection: LogConnectionArgs,
}

/// After-action report formats.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ReportFormat {
    Html,
    Md,
}

/// Report languages.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LangArg {
    Sv,
    En,
}

/// How an operator command reads the log: as the projector's NATS user, and as the log is
/// (its replicas and byte budget read from the server; it never creates the log).
#[derive(Debug, Args)]
pub struct LogConnectionArgs {
    /// NATS server(s) holding the log (default: the local stack of --data-dir).
    #[arg(
        long,
        env = "SAMLA_NATS_URL",
        value_delimiter = ',',
        value_name = "URL"
    )]
    pub nats_url: Vec<String>,
    /// Password of the NATS user `samla-projector` (with --nats-url).
    #[arg(
        long,
        env = "SAMLA_PROJECTOR_PASSWORD",
        hide_env_values = true,
        value_name = "PASSWORD"
    )]
    pub nats_password: Option<String>,
    #[command(flatten)]
    pub data: DataDirArgs,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Write the chain's points and head to FILE (JSON).
    #[arg(long, value_name = "FILE")]
    pub export_head: Option<PathBuf>,
    /// Check the log against an earlier export.
    #[arg(long, value_name = "FILE", conflicts_with = "export_head")]
    pub against: Option<PathBuf>,
    /// A point every N sequences in an export.
    #[arg(long, default_value_t = 1000, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub every: u64,
    /// Also export a 64-bit fingerprint per event (names the first changed sequence later).
    #[arg(long)]
    pub fingerprints: bool,
    #[command(flatten)]
    pub connection: LogConnectionArgs,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Create an organisation's API token and NATS user, and reload the running server.
    #[command(long_about = ORG_ADD_ABOUT)]
    Add(OrgAddArgs),
    /// Replace an organisation's API token and NATS password (the old ones stop working).
    Rotate(OrgAddArgs),
    /// List the organisations of the local stack.
    List {
        #[command(flatten)]
        data: DataDirArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

const ORG_ADD_ABOUT: &str = "\
Create an organisation's API token and its NATS user (allowed to publish only on
`samla.ingest.*.<org>` and to subscribe only on `_INBOX_<org>.>`), write them into the
local stack's token file and NATS config, and reload the running nats-server. Prints what
the organisation needs to connect its tools. Adding an organisation that exists prints its
credentials again.

The name is the organisation's id in events: lower case a-z, 0-9, `_` and `-`, at most 64.";

#[derive(Debug, Args)]
pub struct OrgAddArgs {
    /// The organisation's id, e.g. `malmo-stad`.
    pub name: String,
    #[command(flatten)]
    pub data: DataDirArgs,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Output formats where a command offers more than one.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Table,
    Json,
}

/// `10s`, `500ms`, `2m`, `1h`: a positive duration.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(|| format!("`{text}` has no unit: write e.g. 10s, 500ms, 2m, 1h or 1d"))?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("`{text}`: `{number}` is not a number"))?;
    let seconds = match unit {
        "ms" => number / 1000.0,
        "s" => number,
        "m" | "min" => number * 60.0,
        "h" => number * 3600.0,
        "d" => number * 86_400.0,
        other => {
            return Err(format!(
                "`{text}`: unknown unit `{other}` (use ms, s, m, h or d)"
            ));
        }
    };
    if seconds.is_nan() || seconds <= 0.0 || seconds > 86_400.0 * 365.0 {
        return Err(format!("`{text}` must be positive and at most a year"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// Parses the process's arguments with the config file's values as defaults.
pub fn parse() -> CliResult<Cli> {
    let args: Vec<OsString> = std::env::args_os().collect();
    parse_from(args)
}

/// [`parse`] over given arguments (tests).
pub fn parse_from(args: Vec<OsString>) -> CliResult<Cli> {
    let mut command = Cli::command();
    if let Some(path) = crate::config::config_path(&args) {
        command = crate::config::apply_file(command, &path)?;
    }
    let matches = command.try_get_matches_from(args)?;
    Ok(Cli::from_arg_matches(&matches)?)
}
