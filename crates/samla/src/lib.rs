//! # samla — the command line
//!
//! One binary for everyone who runs or feeds Samla: `samla up` brings the whole stack up
//! on one machine (a managed nats-server, ingest, projector, API and dashboard); `serve`
//! and `projector` are the production services; `demo`, `emit` send events through the
//! ingest door with an organisation's own credential; `tail` and `digest` read through
//! the API as the caller; `org add` gives an organisation its credentials.
//!
//! What it is not: it holds no domain logic. It assembles the library crates
//! (`samla-log`, `samla-projector`, `samla-api`, `samla-sim`) and talks to the API like
//! any other client, so the visibility rule and the ingest checks apply to it as to
//! everyone.
//!
//! Layout:
//! - `cli.rs`: every command and option, with the help text; `config.rs`: the TOML config
//!   file as defaults; `exit.rs`: [`exit::CliError`] and the exit codes.
//! - `stack.rs`: `up`, `serve`, `projector`; `nats_child.rs`: the managed nats-server;
//!   `local.rs`: the local stack's folder and credentials.
//! - `client.rs`: the API client; `demo.rs`, `emit.rs`, `tail.rs`, `org.rs`, `verify.rs`:
//!   the commands; `bench.rs`: `samla bench`, which hands over to `samla-bench`.

pub mod aar;
pub mod bench;
pub mod cli;
pub mod client;
pub mod config;
pub mod demo;
pub mod emit;
pub mod exit;
pub mod export;
pub mod import;
pub mod local;
pub mod logging;
pub mod nats_child;
pub mod notify;
pub mod org;
pub mod replay;
pub mod sitrep;
pub mod stack;
pub mod tail;
pub mod verify;

use clap::CommandFactory as _;
use serde_json::json;

use crate::cli::{Cli, Command, DemoArgs, DigestArgs, OrgCommand};
use crate::exit::{CliError, CliResult};
use crate::local::{Credentials, LocalStack};

/// Runs one command to completion.
pub fn run(cli: Cli) -> CliResult {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|error| {
            CliError::Failed(anyhow::Error::new(error).context("starting the runtime"))
        })?;
    runtime.block_on(dispatch(cli))
}

async fn dispatch(cli: Cli) -> CliResult {
    match cli.command {
        Command::Up(args) => stack::up(args).await,
        Command::Serve(args) => stack::serve(args).await,
        Command::Projector(args) => stack::projector(args).await,
        Command::Demo(args) => demo_command(args).await,
        Command::Emit(args) => emit::emit(args).await,
        Command::Tail(args) => tail::tail(args).await,
        Command::Import(args) => import::import(args).await,
        Command::Export(args) => export::export(args).await,
        Command::Digest(args) => digest(args).await,
        Command::Verify(args) => verify::verify(args).await,
        Command::Report(args) => sitrep::command(args).await,
        Command::Replay(args) => replay::replay(args).await,
        Command::Org(OrgCommand::Add(args)) => org::add(args, false),
        Command::Org(OrgCommand::Rotate(args)) => org::add(args, true),
        Command::Org(OrgCommand::List { data, json }) => org::list(&data, json),
        Command::Bench(args) => bench::bench(*args).await,
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "samla", &mut std::io::stdout());
            Ok(())
        }
    }
}

async fn demo_command(args: DemoArgs) -> CliResult {
    let stack = LocalStack::at(&args.client.data.data_dir);
    let base = client::api_url(args.client.api.as_deref(), &stack)?;
    let mut credentials = Credentials::load(&stack)?;
    let config = match &args.start {
        Some(text) => {
            let start = proto_events::Timestamp::parse(text)
                .map_err(|reason| exit::usage(format!("--start {text}: {reason}")))?;
            if start.plus_seconds(i64::from(args.days) * 86_400) > proto_events::Timestamp::now() {
                return Err(exit::usage(format!(
                    "--start {text}: the crisis would end in the future, and events may not occur in the future"
                )));
            }
            demo::crisis_starting(args.seed, args.scale, args.days, start)
        }
        None => demo::crisis(args.seed, args.scale, args.days),
    };
    let orgs = demo::demo_orgs(&config);
    if org::add_orgs(&stack, &mut credentials, &orgs)? {
        demo::wait_for_tokens(&base, &credentials, &orgs).await?;
    }
    let show_progress = !args.json && std::io::IsTerminal::is_terminal(&std::io::stderr());
    let summary = demo::send(&base, &credentials, config, args.pace, show_progress).await?;
    if args.json {
        println!("{}", serde_json::to_string(&summary).unwrap_or_default());
    } else {
        println!(
            "Demo crisis {}: {} events, {} stored, {} already in the log, {} refused; log at seq {}.",
            summary.incident,
            summary.events,
            summary.stored,
            summary.duplicates,
            summary.refused,
            summary.last_seq
        );
        for refusal in &summary.refusals {
            println!("  refused {refusal}");
        }
    }
    if summary.refused > 0 {
        return Err(CliError::BadInput(format!(
            "{} demo events were refused",
            summary.refused
        )));
    }
    Ok(())
}

async fn digest(args: DigestArgs) -> CliResult {
    let stack = LocalStack::at(&args.data.data_dir);
    let base = client::api_url(args.api.as_deref(), &stack)?;
    let token = match args.token {
        Some(token) => token,
        None => Credentials::load(&stack)?.operator_token,
    };
    let api = client::Api::new(&base, token)?;
    let answer = api.get_json("v1/digest").await?;
    if args.json {
        println!(
            "{}",
            json!({"digest": answer["digest"], "checkpoint": answer["checkpoint"]})
        );
    } else {
        println!(
            "digest {} checkpoint {}",
            answer["digest"].as_str().unwrap_or("?"),
            answer["checkpoint"]
        );
    }
    Ok(())
}
