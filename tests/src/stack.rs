//! One whole replica in the test process: nats-server, ingest, projector, query API and
//! dashboard on one loopback port, and the demo crisis loaded through the ingest door.

use std::collections::BTreeMap;
use std::time::Duration;

use proto_events::{Envelope, OrgId, Timestamp};
use samla_api::query::QueryState;
use samla_api::tokens::{SharedTokens, TokenKind, TokenStore};
use samla_api::{AppState, IngestConfig, IngestService};
use samla_log::{ConnectOptions, Log, LogConfig};
use samla_projector::engine::{self, EngineConfig, Projector};
use samla_sim::{CrisisConfig, organisations};
use samla_testkit::NatsServer;
use serde_json::Value;
use tokio::sync::watch;

const MIB: u64 = 1024 * 1024;
/// Events per ingest request: one organisation's consecutive events.
const BATCH: usize = 100;

/// A running replica. Stops its tasks and its server when dropped.
pub struct Stack {
    /// `http://127.0.0.1:<port>`, the API and the dashboard.
    pub base: String,
    /// The demo's incident.
    pub incident: String,
    /// Plaintext bearer tokens per organisation id.
    pub org_tokens: BTreeMap<String, String>,
    /// Organisation names as the demo declares them.
    pub org_names: BTreeMap<String, String>,
    pub share_token: String,
    /// The highest sequence the demo load stored.
    pub demo_last_seq: u64,
    pub projector: Projector,
    http: reqwest::Client,
    stop: watch::Sender<bool>,
    _data: tempfile::TempDir,
    // Last: the server outlives the tasks that talk to it.
    _server: NatsServer,
}

impl std::fmt::Debug for Stack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stack")
            .field("base", &self.base)
            .field("incident", &self.incident)
            .finish_non_exhaustive()
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// The demo crisis over `days` days, ending about an hour ago, so ages and "overdue" read
/// like a live crisis and no event lies in the future.
pub fn demo_crisis(days: u32) -> CrisisConfig {
    let now = Timestamp::now().as_unix_seconds();
    let start = (now - i64::from(days) * 86_400 - 3_600).div_euclid(3_600) * 3_600;
    CrisisConfig {
        days,
        start: Timestamp::from_unix_seconds(start).expect("a valid start"),
        ongoing: true,
        ..CrisisConfig::demo()
    }
}

impl Stack {
    /// Starts a replica (nats-server without auth: the credentials under test are the
    /// HTTP tokens) and loads `crisis` through `POST /v1/events` as its organisations.
    pub async fn start(crisis: CrisisConfig) -> Stack {
        let server = NatsServer::start()
            .expect("start nats-server (deploy/install-nats-server.sh installs it)");
        let url = server.client_url();
        let data = tempfile::tempdir().expect("a temp folder for the read models");

        let mut store = TokenStore::empty();
        let mut org_tokens = BTreeMap::new();
        let mut org_names = BTreeMap::new();
        for org in organisations(&crisis) {
            let token = store
                .create(TokenKind::Org, Some(org.id.clone()), None)
                .expect("an org token");
            org_tokens.insert(org.id.to_string(), token.plaintext);
            org_names.insert(org.id.to_string(), org.name.clone());
        }
        let share_token = store
            .create(TokenKind::Share, None, Some("wall screen".into()))
            .expect("a share token")
            .plaintext;
        let tokens = SharedTokens::fixed(store);

        let open_log = |name: &str| {
            let url = url.clone();
            let options = ConnectOptions {
                name: name.to_owned(),
                ..ConnectOptions::default()
            };
            async move {
                let connection = samla_log::connect(&[url], options)
                    .await
                    .expect("connect to NATS");
                Log::open(&connection, LogConfig::new(256 * MIB))
                    .await
                    .expect("open the log")
            }
        };
        let log = open_log("samla-ingest").await;
        let projector_log = open_log("samla-projector").await;

        let (stop, stopped) = watch::channel(false);
        let projector = Projector::new();
        tokio::spawn(engine::run(
            projector.clone(),
            projector_log,
            EngineConfig::new(data.path().join("read-models")),
            stopped.clone(),
        ));
        let ingest = IngestService::start(
            log.clone(),
            IngestConfig {
                rate_limit: None,
                ..IngestConfig::default()
            },
        );
        let state = AppState {
            ingest,
            tokens: tokens.clone(),
            query: Some(
                QueryState::new(projector.clone(), log, tokens, data.path().join("replay"))
                    .expect("open the replay folder"),
            ),
        };
        let router = samla_api::app(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let base = format!(
            "http://{}",
            listener.local_addr().expect("the bound address")
        );
        let mut until_stopped = stopped;
        tokio::spawn(async move {
            let shutdown = async move {
                let _ = until_stopped.wait_for(|stop| *stop).await;
            };
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(shutdown)
                .await;
        });

        let mut stack = Stack {
            base,
            incident: crisis.incident.to_string(),
            org_tokens,
            org_names,
            share_token,
            demo_last_seq: 0,
            projector,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("an HTTP client"),
            stop,
            _data: data,
            _server: server,
        };
        stack.load(samla_sim::generate(crisis)).await;
        stack
    }

    /// Sends events as their organisations, in order, in batches; waits until the
    /// projector applied them all.
    async fn load(&mut self, events: Vec<Envelope>) {
        let total = events.len();
        let mut stored = 0;
        let mut refused = Vec::new();
        let mut batch: Vec<Envelope> = Vec::new();
        let mut events = events.into_iter().peekable();
        while let Some(event) = events.next() {
            let org = event.org.clone();
            batch.push(event);
            let flush = batch.len() >= BATCH || events.peek().is_none_or(|next| next.org != org);
            if !flush {
                continue;
            }
            for reply in self.post(&org, &std::mem::take(&mut batch)).await {
                match reply["seq"].as_u64() {
                    Some(seq) => {
                        stored += 1;
                        self.demo_last_seq = self.demo_last_seq.max(seq);
                    }
                    None => refused.push(reply.to_string()),
                }
            }
        }
        // The generator's events are valid by construction; a refusal is a bug somewhere.
        assert!(refused.is_empty(), "demo events refused: {refused:?}");
        assert_eq!(stored, total);
        self.wait_applied(self.demo_last_seq).await;
        eprintln!(
            "stack: {total} demo events of {} loaded (log at {}), serving {}",
            self.incident, self.demo_last_seq, self.base
        );
    }

    /// `POST /v1/events` as `org`; the reply array.
    pub async fn post(&self, org: &OrgId, events: &[Envelope]) -> Vec<Value> {
        let body: Vec<Value> = events
            .iter()
            .map(|event| {
                serde_json::from_str(&proto_events::encode_json(event)).expect("envelope JSON")
            })
            .collect();
        let response = self
            .http
            .post(format!("{}/v1/events", self.base))
            .bearer_auth(&self.org_tokens[org.as_str()])
            .json(&body)
            .send()
            .await
            .expect("the ingest door answers");
        let status = response.status();
        let reply: Value = response.json().await.expect("a JSON reply");
        assert!(status.is_success(), "ingest answered {status}: {reply}");
        reply.as_array().cloned().expect("a reply array")
    }

    /// Posts one event as its organisation; its sequence, once the projector applied it.
    pub async fn post_one(&self, event: &Envelope) -> u64 {
        let reply = self.post(&event.org, std::slice::from_ref(event)).await;
        let seq = reply[0]["seq"]
            .as_u64()
            .unwrap_or_else(|| panic!("event refused: {}", reply[0]));
        self.wait_applied(seq).await;
        seq
    }

    pub async fn wait_applied(&self, seq: u64) {
        assert!(
            self.projector
                .wait_for_seq(seq, Duration::from_secs(30))
                .await,
            "the projector did not apply {seq} within 30 s"
        );
    }

    /// `GET <path>` with a bearer token: the status and the JSON body.
    pub async fn get(&self, token: &str, path: &str) -> (u16, Value) {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        let status = response.status().as_u16();
        let body = response.json().await.unwrap_or(Value::Null);
        (status, body)
    }

    /// The incident's picture for `token`, with extra query parameters.
    pub async fn picture(&self, token: &str, query: &str) -> Value {
        let path = format!("/v1/incidents/{}/picture?{query}", self.incident);
        let (status, body) = self.get(token, &path).await;
        assert_eq!(status, 200, "{path}: {body}");
        body
    }

    /// Whether the session routes (`POST /v1/session`) exist: a wrong token gets 401
    /// from them, 404 or 405 without them.
    pub async fn has_session_routes(&self) -> bool {
        let response = self
            .http
            .post(format!("{}/v1/session", self.base))
            .json(&serde_json::json!({ "token": "not-a-token" }))
            .send()
            .await
            .expect("the API answers");
        !matches!(response.status().as_u16(), 404 | 405)
    }
}
