//! `samla up`, `samla serve` and `samla projector`: assembling the services.
//!
//! One replica is the ingest service (both doors), a projector and the API in one process;
//! `up` adds a managed nats-server and the local stack's credentials around it. Every
//! part watches one stop signal; on Ctrl-C or SIGTERM the doors stop taking work and answer
//! what they took, the committer appends what is queued, the projector writes its last
//! batch, and only then is the managed nats-server stopped.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use samla_api::nats_permissions::{ServiceRole, service_connect_options};
use samla_api::query::QueryState;
use samla_api::tokens::SharedTokens;
use samla_api::{AppState, IngestConfig, IngestService};
use samla_log::{CommitMode, ConnectOptions, Log, LogConfig, ReadRange};
use samla_projector::engine::{self, EngineConfig, Projector};
use serde_json::json;
use tokio::sync::watch;

use crate::cli::{ProjectorArgs, ServeArgs, UpArgs};
use crate::demo;
use crate::exit::{CliError, CliResult, unavailable};
use crate::local::{Credentials, LocalStack, RunningStack};
use crate::nats_child::ManagedNats;

/// `samla up`.
pub async fn up(args: UpArgs) -> CliResult {
    if args.nats_url.is_empty() && args.log_replicas != 1 {
        return Err(CliError::Usage(format!(
            "--log-replicas {}: the managed nats-server is one node and keeps one copy; \
             give --nats-url of a cluster with at least {} nodes, or leave --log-replicas out",
            args.log_replicas, args.log_replicas
        )));
    }
    let stack = LocalStack::at(&args.data.data_dir);
    stack.create()?;
    let mut credentials = Credentials::load_or_create(&stack)?;
    let demo_config = demo::crisis(samla_sim::CrisisConfig::demo().seed, 1, 21);
    if args.demo {
        for org in demo::demo_orgs(&demo_config) {
            credentials.ensure_org(&org);
        }
    }
    credentials.save(&stack)?;

    let (mut managed, urls) = if args.nats_url.is_empty() {
        // The server may hold the log and more: twice the log's budget, at least 1 GiB.
        let max_file_store = args.log_max_bytes.saturating_mul(2).max(1 << 30);
        let managed =
            ManagedNats::start(&stack, &credentials, args.nats_port, max_file_store).await?;
        let url = managed.url().to_owned();
        (Some(managed), vec![url])
    } else {
        crate::nats_child::write_auth(&stack, &credentials)?;
        (None, args.nats_url.clone())
    };
    let outcome = run_up(
        &stack,
        &credentials,
        &urls,
        &args,
        demo_config,
        managed.as_mut(),
    )
    .await;
    let _ = std::fs::remove_file(stack.stack_file());
    if let Some(managed) = managed {
        let stopped = managed.stop().await;
        outcome?;
        stopped?;
        eprintln!(
            "samla: stopped; the data stays in {}",
            stack.root().display()
        );
        return Ok(());
    }
    outcome
}

async fn run_up(
    stack: &LocalStack,
    credentials: &Credentials,
    urls: &[String],
    args: &UpArgs,
    demo_config: samla_sim::CrisisConfig,
    managed: Option<&mut ManagedNats>,
) -> CliResult {
    let replica = Replica {
        urls: urls.to_vec(),
        ingest: service_connect_options(ServiceRole::Ingest, &credentials.ingest_password),
        projector: service_connect_options(ServiceRole::Projector, &credentials.projector_password),
        read_models: stack.read_models(),
        tokens: SharedTokens::from_file(&stack.tokens_file())
            .map_err(|error| CliError::Failed(anyhow::Error::new(error)))?,
        http: args.http,
        log_max_bytes: args.log_max_bytes,
        log_replicas: args.log_replicas,
        // The local stack's nats-server runs with `sync_interval: always`.
        log_commit: CommitMode::Atomic,
    };
    let started = replica.start().await?;
    let api = format!("http://{}/", display_addr(started.http));
    // Clients on this machine find the stack through stack.json: write it before saying
    // the stack is up.
    stack.write_running(&RunningStack {
        api: api.clone(),
        nats: urls.join(","),
        pid: std::process::id(),
    })?;
    // The first line is the contract scripts and tests read.
    println!("Dashboard: {api}");
    println!("NATS: {}", urls.join(","));
    for (org, org_credentials) in &credentials.orgs {
        println!("Token {org}: {}", org_credentials.token);
    }
    println!("Share token: {}", credentials.share_token);
    println!("Operator token: {}", credentials.operator_token);
    use std::io::Write as _;
    let _ = std::io::stdout().flush();

    let demo_task = if args.demo {
        let log = started.log.clone();
        let credentials = credentials.clone();
        let api = api.clone();
        Some(tokio::spawn(async move {
            load_demo_once(&log, &api, &credentials, demo_config).await
        }))
    } else {
        None
    };
    // The stack's own server gone is the stack gone: stop and say why, rather than serve
    // 503s and retry for ever with nobody to start it again.
    let server_gone = async {
        match managed {
            Some(managed) => managed.exited().await,
            None => std::future::pending().await,
        }
    };
    started.serve_until_signal(demo_task, server_gone).await
}

/// Loads the demo unless its incident is already in the log.
async fn load_demo_once(
    log: &Log,
    api: &str,
    credentials: &Credentials,
    config: samla_sim::CrisisConfig,
) -> CliResult {
    let incident = config.incident.to_string();
    let mut existing = log
        .read(ReadRange::incident(incident.clone(), 1))
        .await
        .map_err(|error| CliError::Failed(anyhow::Error::new(error)))?;
    if let Some(first) = existing.next().await {
        first.map_err(|error| CliError::Failed(anyhow::Error::new(error)))?;
        eprintln!(
            "samla: the demo crisis ({incident}) is already in the log; not loading it again"
        );
        return Ok(());
    }
    let summary = demo::send(api, credentials, config, None, false).await?;
    eprintln!(
        "samla: demo crisis {} loaded: {} events stored, {} duplicates, {} refused (log at {})",
        summary.incident, summary.stored, summary.duplicates, summary.refused, summary.last_seq
    );
    for refusal in &summary.refusals {
        eprintln!("samla:   refused {refusal}");
    }
    Ok(())
}

/// `samla serve`.
pub async fn serve(args: ServeArgs) -> CliResult {
    let auth = |role: ServiceRole, password: &Option<String>| match password {
        Some(password) => service_connect_options(role, password),
        None => ConnectOptions {
            name: role.user().to_owned(),
            ..ConnectOptions::default()
        },
    };
    let replica = Replica {
        urls: args.nats_url.clone(),
        ingest: auth(ServiceRole::Ingest, &args.ingest_password),
        projector: auth(ServiceRole::Projector, &args.projector_password),
        read_models: args.data_dir.clone(),
        tokens: SharedTokens::from_file(&args.tokens_file)
            .map_err(|error| crate::exit::usage(format!("--tokens-file: {error}")))?,
        http: args.http,
        log_max_bytes: args.log_max_bytes,
        log_replicas: args.log_replicas,
        log_commit: args.log_commit,
    };
    let started = replica.start().await?;
    println!("API: http://{}/", display_addr(started.http));
    crate::notify::notify(&format!(
        "READY=1\nSTATUS=serving on http://{}/",
        display_addr(started.http)
    ));
    let outcome = started
        .serve_until_signal(None, std::future::pending())
        .await;
    crate::notify::notify("STOPPING=1");
    outcome
}

/// `samla projector`.
pub async fn projector(args: ProjectorArgs) -> CliResult {
    let options = match &args.projector_password {
        Some(password) => service_connect_options(ServiceRole::Projector, password),
        None => ConnectOptions::default(),
    };
    let log = open_log(
        &args.nats_url,
        options,
        args.log_max_bytes,
        args.log_replicas,
    )
    .await?;
    let mut config = EngineConfig::new(&args.data_dir);
    config.resident_rows = args.resident_rows;
    config.write_rows = args.write_rows.max(1);
    if args.digest_at_head {
        let (digest, checkpoint) = engine::catch_up_and_digest(log, config)
            .await
            .map_err(projector_failed)?;
        if args.json {
            println!("{}", json!({ "digest": digest, "checkpoint": checkpoint }));
        } else {
            println!("digest {digest} checkpoint {checkpoint}");
        }
        return Ok(());
    }
    engine::run_until(Projector::new(), log, config, engine::wait_for_signal())
        .await
        .map_err(projector_failed)
}

/// A projector's error as the command's: the log out of reach is "unavailable" (exit 4);
/// a log whose stream is gone is a failure (exit 1), since trying again later will not
/// bring it back.
fn projector_failed(error: samla_projector::ProjectorError) -> CliError {
    use samla_projector::ProjectorError;
    match error {
        ProjectorError::Log(samla_log::LogError::StreamMissing { .. }) => {
            CliError::Failed(anyhow::Error::new(error))
        }
        ProjectorError::Log(ref log) if log.is_retryable() => {
            CliError::Unavailable(error.to_string())
        }
        ProjectorError::Stalled(_) => CliError::Unavailable(error.to_string()),
        error => CliError::Failed(anyhow::Error::new(error)),
    }
}

/// Everything one replica needs.
struct Replica {
    urls: Vec<String>,
    ingest: ConnectOptions,
    projector: ConnectOptions,
    read_models: PathBuf,
    tokens: SharedTokens,
    http: SocketAddr,
    log_max_bytes: u64,
    log_replicas: u8,
    log_commit: CommitMode,
}

/// A replica whose parts are connected and listening.
struct Started {
    http: SocketAddr,
    log: Log,
    state: AppState,
    listener: tokio::net::TcpListener,
    nats: async_nats::Client,
    projector: tokio::task::JoinHandle<Result<(), samla_projector::ProjectorError>>,
    stop: watch::Sender<bool>,
}

pub(crate) async fn open_log(
    urls: &[String],
    options: ConnectOptions,
    max_bytes: u64,
    replicas: u8,
) -> CliResult<Log> {
    open_log_committing(urls, options, max_bytes, replicas, CommitMode::default()).await
}

/// [`open_log`] for the one who appends: `commit` says how batches reach the server.
async fn open_log_committing(
    urls: &[String],
    options: ConnectOptions,
    max_bytes: u64,
    replicas: u8,
    commit: CommitMode,
) -> CliResult<Log> {
    let connection = samla_log::connect(urls, options).await.map_err(|error| {
        unavailable(format!(
            "cannot connect to NATS at {}: {error}",
            urls.join(",")
        ))
    })?;
    let config = LogConfig {
        replicas,
        commit,
        ..LogConfig::new(max_bytes)
    };
    Log::open(&connection, config)
        .await
        .map_err(|error| unavailable(format!("cannot open the log: {error}")))
}

impl Replica {
    async fn start(self) -> CliResult<Started> {
        let log = open_log_committing(
            &self.urls,
            self.ingest,
            self.log_max_bytes,
            self.log_replicas,
            self.log_commit,
        )
        .await?;
        let projector_log = open_log(
            &self.urls,
            self.projector,
            self.log_max_bytes,
            self.log_replicas,
        )
        .await?;
        let listener = tokio::net::TcpListener::bind(self.http).await.map_err(|error| {
            crate::exit::usage(format!(
                "cannot listen on {} ({error}); pick another address with --http, e.g. --http 127.0.0.1:0 for any free port",
                self.http
            ))
        })?;
        let http = listener
            .local_addr()
            .context("reading the listening address")?;
        let projector = Projector::new();
        let (stop, stopped) = watch::channel(false);
        let projector_task = tokio::spawn(engine::run(
            projector.clone(),
            projector_log,
            EngineConfig::new(&self.read_models),
            stopped,
        ));
        let ingest = IngestService::start(log.clone(), IngestConfig::default());
        let state = AppState {
            ingest,
            tokens: self.tokens.clone(),
            // Replay snapshots beside the read models: as disposable as they are.
            query: Some(
                QueryState::new(
                    projector,
                    log.clone(),
                    self.tokens,
                    self.read_models.join("replay"),
                )
                .map_err(|error| CliError::Failed(anyhow::Error::new(error)))?,
            ),
        };
        Ok(Started {
            http,
            nats: log.connection().nats_client().clone(),
            log,
            state,
            listener,
            projector: projector_task,
            stop,
        })
    }
}

impl Started {
    /// Serves until Ctrl-C / SIGTERM (or a part fails, or `gone` says a part outside
    /// it did), then stops every part in order.
    async fn serve_until_signal(
        self,
        side_task: Option<tokio::task::JoinHandle<CliResult>>,
        gone: impl std::future::Future<Output = CliError>,
    ) -> CliResult {
        let Started {
            state,
            listener,
            nats,
            mut projector,
            stop,
            ..
        } = self;
        let mut stopped = stop.subscribe();
        let api_shutdown = async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        };
        let mut api = tokio::spawn(samla_api::run(
            state,
            Some(listener),
            Some(nats),
            api_shutdown,
        ));
        let mut side_task = side_task;
        let mut failure: Option<CliError> = None;
        let mut api_done = None;
        let mut projector_done = None;
        let signal = engine::wait_for_signal();
        tokio::pin!(signal);
        tokio::pin!(gone);
        loop {
            tokio::select! {
                () = &mut signal => break,
                error = &mut gone => {
                    failure = Some(error);
                    break;
                }
                result = &mut api => {
                    api_done = Some(result);
                    break;
                }
                result = &mut projector => {
                    projector_done = Some(result);
                    break;
                }
                result = async { side_task.as_mut().expect("guarded").await }, if side_task.is_some() => {
                    side_task = None;
                    match result {
                        Ok(Ok(())) => {}
                        Ok(Err(error)) => eprintln!("samla: {error}"),
                        Err(error) => eprintln!("samla: the demo loader failed: {error}"),
                    }
                }
            }
        }
        eprintln!("samla: stopping (finishing requests in flight)...");
        let _ = stop.send(true);
        if let Some(task) = side_task {
            task.abort();
        }
        let api_result = match api_done {
            Some(result) => result,
            None => api.await,
        };
        match api_result {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                failure.get_or_insert(CliError::Failed(anyhow::Error::new(error)));
            }
            Err(error) => {
                failure.get_or_insert(CliError::Failed(anyhow::anyhow!("the API task: {error}")));
            }
        }
        let projector_result = match projector_done {
            Some(result) => result,
            None => projector.await,
        };
        match projector_result {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                failure.get_or_insert(CliError::Failed(anyhow::Error::new(error)));
            }
            Err(error) => {
                failure.get_or_insert(CliError::Failed(anyhow::anyhow!(
                    "the projector task: {error}"
                )));
            }
        }
        match failure {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
}

/// `127.0.0.1:8080`; an unspecified address is shown as loopback (what a browser can open).
fn display_addr(addr: SocketAddr) -> String {
    if addr.ip().is_unspecified() {
        format!("127.0.0.1:{}", addr.port())
    } else {
        addr.to_string()
    }
}
