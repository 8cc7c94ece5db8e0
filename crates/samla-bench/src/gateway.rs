//! The gateway under test, as `samla serve` assembles it, in this process: the ingest
//! service on its own NATS user, both doors (`samla_api::run` serves HTTP on a real
//! socket; the NATS door is bound before any request is sent, so none finds it missing),
//! and — for the live stream — a projector on the projector's user with the read side
//! over it.
//!
//! Security is on, as in production: the servers run with Samla's permission block
//! (rendered by `samla_api::nats_permissions`) for the crisis' organisations, each
//! organisation connects as its own user and may publish only on its own ingest subject,
//! and every HTTP request carries that organisation's bearer token. The block adds one
//! user for the bench itself, `samla-bench`, without restrictions, as `no_auth_user`: the
//! raw baselines and the projector process connect without credentials, exactly as on a
//! server without a permission block.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use proto_events::OrgId;
use samla_api::nats_permissions::{
    NatsCredential, NatsPermissions, OrgUser, ServiceRole, generate_password, org_connect_options,
    service_connect_options,
};
use samla_api::query::QueryState;
use samla_api::tokens::{SharedTokens, TokenKind, TokenStore};
use samla_api::{AppState, IngestConfig, IngestService, NatsDoor};
use samla_log::{Log, LogConfig};
use samla_projector::engine::{self, EngineConfig, Projector};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::error::BenchError;

/// How long a request to NATS may take before it is an error.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the projector may take to load its (empty) read models.
const LOAD_DEADLINE: Duration = Duration::from_secs(60);

/// The users, passwords and tokens of one run.
#[derive(Debug, Clone)]
pub(crate) struct Credentials {
    /// The server's `authorization` block (and `no_auth_user`).
    pub server_config: String,
    ingest_password: String,
    projector_password: String,
    org_passwords: BTreeMap<OrgId, String>,
    tokens: TokenStore,
    org_tokens: BTreeMap<OrgId, String>,
    pub operator_token: String,
}

impl Credentials {
    /// Users and tokens for every organisation of the generated crisis.
    pub(crate) fn generate() -> Result<Self, BenchError> {
        let orgs: Vec<OrgId> = samla_sim::organisations(&samla_sim::CrisisConfig::demo())
            .into_iter()
            .map(|org| org.id)
            .collect();
        let org_passwords: BTreeMap<OrgId, String> = orgs
            .iter()
            .map(|org| (org.clone(), generate_password()))
            .collect();
        let ingest_password = generate_password();
        let projector_password = generate_password();
        let mut permissions = NatsPermissions::new(
            org_passwords
                .iter()
                .map(|(org, password)| OrgUser {
                    org: org.clone(),
                    credential: NatsCredential::Password(password.clone()),
                })
                .collect(),
            NatsCredential::Password(ingest_password.clone()),
        );
        permissions.projector = Some(NatsCredential::Password(projector_password.clone()));
        let block = permissions
            .render()
            .map_err(|error| BenchError::InvalidOptions(format!("permission block: {error}")))?;
        let server_config = with_bench_user(&block, &generate_password())?;

        let mut tokens = TokenStore::empty();
        let mut org_tokens = BTreeMap::new();
        let token_failed =
            |error: samla_api::ApiError| BenchError::InvalidOptions(format!("tokens: {error}"));
        for org in &orgs {
            let token = tokens
                .create(TokenKind::Org, Some(org.clone()), None)
                .map_err(token_failed)?;
            org_tokens.insert(org.clone(), token.plaintext);
        }
        let operator_token = tokens
            .create(TokenKind::Operator, None, None)
            .map_err(token_failed)?
            .plaintext;
        Ok(Credentials {
            server_config,
            ingest_password,
            projector_password,
            org_passwords,
            tokens,
            org_tokens,
            operator_token,
        })
    }

    /// The bearer token of `org`.
    pub(crate) fn org_token(&self, org: &OrgId) -> Result<&str, BenchError> {
        self.org_tokens
            .get(org)
            .map(String::as_str)
            .ok_or_else(|| unknown_org(org))
    }

    /// `org`'s own NATS connection, as its own user.
    pub(crate) async fn org_client(
        &self,
        url: &str,
        org: &OrgId,
    ) -> Result<async_nats::Client, BenchError> {
        let password = self
            .org_passwords
            .get(org)
            .ok_or_else(|| unknown_org(org))?;
        let options = org_connect_options(org, password);
        let samla_log::Auth::UserPassword { user, password } = options.auth else {
            return Err(BenchError::wrong(
                "connecting an organisation",
                "organisation users are expected to be password users",
            ));
        };
        let mut connect = async_nats::ConnectOptions::with_user_and_password(user, password)
            .name(format!("samla-bench {org}"))
            .request_timeout(Some(REQUEST_TIMEOUT))
            // A refused publish shows up only as a timeout; say why in the log.
            .event_callback(|event| async move {
                if let async_nats::Event::ServerError(error) = event {
                    tracing::warn!(%error, "nats-server error on an organisation's connection");
                }
            });
        if let Some(prefix) = options.inbox_prefix {
            connect = connect.custom_inbox_prefix(prefix);
        }
        connect
            .connect(url)
            .await
            .map_err(|error| BenchError::nats(&format!("connecting as {org}"), error))
    }

    async fn service_log(
        &self,
        url: &str,
        role: ServiceRole,
        config: &LogConfig,
    ) -> Result<Log, BenchError> {
        let password = match role {
            ServiceRole::Projector => &self.projector_password,
            _ => &self.ingest_password,
        };
        let options = samla_log::ConnectOptions {
            request_timeout: REQUEST_TIMEOUT,
            ..service_connect_options(role, password)
        };
        let phase = format!("connecting as {}", role.user());
        let connection = samla_log::connect(&[url], options)
            .await
            .map_err(|error| BenchError::nats(&phase, error))?;
        Log::open(&connection, config.clone())
            .await
            .map_err(|error| BenchError::nats(&phase, error))
    }
}

fn unknown_org(org: &OrgId) -> BenchError {
    BenchError::wrong(
        "choosing credentials",
        format!("organisation {org} of the crisis has no user"),
    )
}

/// Adds the bench's own unrestricted user to the rendered block and makes it the user of
/// connections without credentials.
fn with_bench_user(block: &str, password: &str) -> Result<String, BenchError> {
    const END: &str = "  ]\n}\n";
    let Some(users) = block.strip_suffix(END) else {
        return Err(BenchError::InvalidOptions(
            "the permission block no longer ends its user list as expected".to_owned(),
        ));
    };
    Ok(format!(
        "{users}    # the benchmark's baselines and projector process: no restrictions\n    \
         {{ user: \"samla-bench\", password: \"{password}\" }}\n{END}\
         no_auth_user: \"samla-bench\"\n"
    ))
}

/// What to start.
#[derive(Debug, Clone)]
pub(crate) struct GatewaySetup<'a> {
    pub nats_url: &'a str,
    pub log: &'a LogConfig,
    pub ingest: IngestConfig,
    /// A projector and the read side over it, with read models in this (empty) folder.
    pub read_models: Option<&'a Path>,
}

/// A running gateway.
#[derive(Debug)]
pub(crate) struct Gateway {
    pub address: SocketAddr,
    service: IngestService,
    stop: watch::Sender<bool>,
    api: JoinHandle<Result<(), samla_api::ApiError>>,
    door: JoinHandle<()>,
    projector_task: Option<JoinHandle<Result<(), samla_projector::ProjectorError>>>,
}

impl Gateway {
    pub(crate) async fn start(
        setup: GatewaySetup<'_>,
        credentials: &Credentials,
    ) -> Result<Gateway, BenchError> {
        let log = credentials
            .service_log(setup.nats_url, ServiceRole::Ingest, setup.log)
            .await?;
        let (stop, _) = watch::channel(false);
        let until_stopped = {
            let stop = stop.clone();
            move || {
                let mut stopped = stop.subscribe();
                async move {
                    // An error means the sender is gone, which also means stop.
                    let _ = stopped.wait_for(|stop| *stop).await;
                }
            }
        };
        let (projector, projector_task) = match setup.read_models {
            Some(folder) => {
                let projector_log = credentials
                    .service_log(setup.nats_url, ServiceRole::Projector, setup.log)
                    .await?;
                let projector = Projector::new();
                let mut task = tokio::spawn(engine::run(
                    projector.clone(),
                    projector_log,
                    EngineConfig::new(folder),
                    stop.subscribe(),
                ));
                // A projector that fails to start (a folder in use, say) says why at once.
                let loaded = tokio::select! {
                    loaded = projector.wait_loaded(LOAD_DEADLINE) => loaded,
                    ended = &mut task => {
                        let why = match ended {
                            Ok(Err(error)) => error.to_string(),
                            Ok(Ok(())) => "it stopped before loading".to_string(),
                            Err(error) => error.to_string(),
                        };
                        return Err(BenchError::gateway("starting the gateway's projector", why));
                    }
                };
                if !loaded {
                    stop.send_replace(true);
                    return Err(BenchError::gateway(
                        "starting the gateway's projector",
                        format!("the read models did not load within {LOAD_DEADLINE:?}"),
                    ));
                }
                (Some(projector), Some(task))
            }
            None => (None, None),
        };
        let service = IngestService::start(log.clone(), setup.ingest);
        let tokens = SharedTokens::fixed(credentials.tokens.clone());
        let state = AppState {
            ingest: service.clone(),
            tokens: tokens.clone(),
            query: match (projector.clone(), setup.read_models) {
                // Replay snapshots beside the read models, as `samla serve` keeps them.
                (Some(projector), Some(folder)) => Some(
                    QueryState::new(projector, log.clone(), tokens, folder.join("replay"))
                        .map_err(|error| BenchError::gateway("opening the replayer", error))?,
                ),
                _ => None,
            },
        };
        let door = NatsDoor::bind(log.connection().nats_client().clone(), service.clone())
            .await
            .map_err(|error| BenchError::gateway("binding the NATS door", error))?;
        // `bind` flushes, but async-nats' flush only writes the socket: the server may not
        // have registered the subscription yet, and an organisation's first request would
        // find no responders. A round trip on the door's own connection settles it — the
        // server handles one connection's operations in order.
        log.head()
            .await
            .map_err(|error| BenchError::gateway("binding the NATS door", error))?;
        let door = tokio::spawn(door.serve(until_stopped()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(BenchError::storage)?;
        let address = listener.local_addr().map_err(BenchError::storage)?;
        let api = tokio::spawn(samla_api::run(state, Some(listener), None, until_stopped()));
        Ok(Gateway {
            address,
            service,
            stop,
            api,
            door,
            projector_task,
        })
    }

    /// What the ingest service's committer has done so far.
    pub(crate) fn commit_stats(&self) -> samla_api::CommitStats {
        self.service.commit_stats()
    }

    /// Stops every part: the doors answer what they took, the committer drains, the
    /// projector flushes.
    pub(crate) async fn stop(self) -> Result<(), BenchError> {
        let phase = "stopping the gateway";
        self.stop.send_replace(true);
        self.door
            .await
            .map_err(|error| BenchError::gateway(phase, error))?;
        self.api
            .await
            .map_err(|error| BenchError::gateway(phase, error))?
            .map_err(|error| BenchError::gateway(phase, error))?;
        // `run` closed the ingest service after HTTP; closing again is a no-op.
        self.service.close().await;
        if let Some(task) = self.projector_task {
            task.await
                .map_err(|error| BenchError::gateway(phase, error))?
                .map_err(|error| BenchError::gateway(phase, error))?;
        }
        Ok(())
    }
}

/// One NATS connection per sender of the load (organisations sending for several
/// incidents share theirs), in [`crate::ingest_load::IngestLoad::senders`] order.
pub(crate) async fn org_clients(
    url: &str,
    credentials: &Credentials,
    senders: &[crate::ingest_load::Sender],
) -> Result<Arc<Vec<async_nats::Client>>, BenchError> {
    let mut by_org: BTreeMap<OrgId, async_nats::Client> = BTreeMap::new();
    let mut clients = Vec::with_capacity(senders.len());
    for sender in senders {
        let client = match by_org.get(&sender.org) {
            Some(client) => client.clone(),
            None => {
                let client = credentials.org_client(url, &sender.org).await?;
                by_org.insert(sender.org.clone(), client.clone());
                client
            }
        };
        clients.push(client);
    }
    Ok(Arc::new(clients))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bench_user_joins_the_block() {
        let credentials = Credentials::generate().expect("credentials");
        let config = &credentials.server_config;
        assert!(config.contains("user: \"samla-ingest\""));
        assert!(config.contains("user: \"samla-bench\""));
        assert!(config.ends_with("no_auth_user: \"samla-bench\"\n"));
        assert!(credentials.org_tokens.len() >= 10);
    }
}
