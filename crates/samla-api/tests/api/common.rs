//! The shared fixture: one nats-server per test binary with Samla's permission block (org
//! users, the ingest and projector service users), tokens for four organisations, and
//! helpers to build events and call both doors.
//!
//! Tests share the default log stream (`SAMLA_LOG`) and isolate themselves by incident:
//! each uses its own incident id, so sequences and aggregates never collide.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use proto_events::examples::example;
use proto_events::{AggregateId, Envelope, EventId, IncidentId, Kind, OrgId};
use samla_api::nats_permissions::{
    NatsCredential, NatsPermissions, OrgUser, ServiceRole, generate_password, org_connect_options,
    service_connect_options,
};
use samla_api::tokens::{SharedTokens, TokenKind, TokenStore};
use samla_api::{AppState, IngestConfig, IngestService, NatsDoor, app};
use samla_log::{ConnectOptions, Log, LogConfig, ReadRange};
use samla_testkit::NatsServer;
use serde_json::Value;
use tokio::sync::oneshot;
use tower::ServiceExt as _;

pub const ORGS: [&str; 4] = ["alfa", "bravo", "charlie", "delta"];
pub const MIB: u64 = 1024 * 1024;

pub struct Fixture {
    pub server: NatsServer,
    /// The rendered permission block, for tests that need a server of their own.
    pub permissions: String,
    pub ingest_password: String,
    pub projector_password: String,
    pub org_passwords: BTreeMap<&'static str, String>,
    pub org_tokens: BTreeMap<&'static str, String>,
    pub share_token: String,
    pub operator_token: String,
    pub tokens: TokenStore,
}

/// The binary's permissioned server, started on first use.
pub fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let org_passwords: BTreeMap<&'static str, String> =
            ORGS.iter().map(|org| (*org, generate_password())).collect();
        let ingest_password = generate_password();
        let projector_password = generate_password();
        let mut permissions = NatsPermissions::new(
            org_passwords
                .iter()
                .map(|(org, password)| OrgUser {
                    org: org_id(org),
                    credential: NatsCredential::Password(password.clone()),
                })
                .collect(),
            NatsCredential::Password(ingest_password.clone()),
        );
        permissions.projector = Some(NatsCredential::Password(projector_password.clone()));
        let block = permissions.render().expect("render permissions");
        let server = permissioned_server(&block);

        let mut tokens = TokenStore::empty();
        let mut org_tokens = BTreeMap::new();
        for org in ORGS {
            let token = tokens
                .create(TokenKind::Org, Some(org_id(org)), None)
                .expect("org token");
            org_tokens.insert(org, token.plaintext);
        }
        let share_token = tokens
            .create(TokenKind::Share, None, Some("wall screen".into()))
            .expect("share token")
            .plaintext;
        let operator_token = tokens
            .create(TokenKind::Operator, None, None)
            .expect("operator token")
            .plaintext;
        Fixture {
            server,
            permissions: block,
            ingest_password,
            projector_password,
            org_passwords,
            org_tokens,
            share_token,
            operator_token,
            tokens,
        }
    })
}

/// A nats-server with Samla's permission block.
pub fn permissioned_server(block: &str) -> NatsServer {
    NatsServer::builder()
        .extra_config(block)
        .start()
        .expect("start a permissioned nats-server")
}

pub fn org_id(org: &str) -> OrgId {
    OrgId::new(org).expect("valid org id")
}

/// Test defaults: no rate limit, a short request timeout on the log.
pub fn test_config() -> IngestConfig {
    IngestConfig {
        rate_limit: None,
        ..IngestConfig::default()
    }
}

/// An ingest service on the fixture's server, as the `samla-ingest` user, with its
/// router.
pub struct Gateway {
    pub service: IngestService,
    pub router: Router,
    pub log: Log,
}

pub async fn gateway(config: IngestConfig) -> Gateway {
    gateway_at(&fixture().server.client_url(), config).await
}

/// A gateway as the ingest user on a permissioned server at `url`.
pub async fn gateway_at(url: &str, config: IngestConfig) -> Gateway {
    let options = ConnectOptions {
        request_timeout: Duration::from_secs(5),
        ..service_connect_options(ServiceRole::Ingest, &fixture().ingest_password)
    };
    gateway_on(url, options, config).await
}

pub async fn gateway_on(url: &str, options: ConnectOptions, config: IngestConfig) -> Gateway {
    let connection = samla_log::connect(&[url], options)
        .await
        .expect("connect as the ingest service");
    let log = Log::open(&connection, LogConfig::new(256 * MIB))
        .await
        .expect("open the log");
    let service = IngestService::start(log.clone(), config);
    let state = AppState {
        ingest: service.clone(),
        tokens: SharedTokens::fixed(fixture().tokens.clone()),
        query: None,
    };
    Gateway {
        router: app(state),
        service,
        log,
    }
}

/// A gateway on a nats-server of its own, for a test that stops the server: requests
/// give up after 1 s.
pub async fn gateway_on_own_server() -> (NatsServer, Gateway) {
    let server = tokio::task::spawn_blocking(NatsServer::start)
        .await
        .expect("join")
        .expect("start a nats-server");
    let options = ConnectOptions {
        request_timeout: Duration::from_secs(1),
        ..ConnectOptions::default()
    };
    let gateway = gateway_on(&server.client_url(), options, test_config()).await;
    (server, gateway)
}

/// Stops `server` (off the runtime: it waits for the process) and hands it back stopped.
pub async fn stop_server(mut server: NatsServer) -> NatsServer {
    tokio::task::spawn_blocking(move || {
        server.stop();
        server
    })
    .await
    .expect("join")
}

/// The NATS door of a gateway, served until the returned sender fires (or drops).
///
/// Doors of concurrent tests on the shared server are one queue group, like replicas:
/// a request may be answered by any of them (all append to the same log). A test that
/// counts one gateway's batches uses a server of its own.
pub async fn open_nats_door(
    gateway: &Gateway,
) -> (oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
    let client = gateway.log.connection().nats_client().clone();
    let door = NatsDoor::bind(client, gateway.service.clone())
        .await
        .expect("bind the NATS door");
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(door.serve(async move {
        let _ = stopped.await;
    }));
    (stop, task)
}

/// An event of `kind` (the contract's example) by `org` on `need_id` in `incident`, with a
/// fresh id.
pub fn envelope(kind: Kind, incident: &str, org: &str, aggregate_id: &str) -> Envelope {
    let mut envelope = example(kind);
    envelope.id = EventId::new_v7();
    envelope.incident = IncidentId::new(incident).expect("incident id");
    envelope.org = org_id(org);
    envelope.aggregate.id = AggregateId::new(aggregate_id).expect("aggregate id");
    envelope
}

pub fn json(envelope: &Envelope) -> Value {
    serde_json::from_str(&proto_events::encode_json(envelope)).expect("envelope JSON")
}

pub fn id_of(envelope: &Envelope) -> String {
    envelope.id.to_string()
}

/// `POST /v1/events` through the router, without a socket.
pub async fn post(
    router: &Router,
    token: Option<&str>,
    body: impl Into<Body>,
) -> (StatusCode, HeaderMap, Value) {
    let mut request = Request::post("/v1/events").header("content-type", "application/json");
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let response = router
        .clone()
        .oneshot(request.body(body.into()).expect("request"))
        .await
        .expect("the router answers");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("read the body");
    let body = serde_json::from_slice(&bytes).unwrap_or_else(|error| {
        panic!(
            "body is not JSON ({error}): {}",
            String::from_utf8_lossy(&bytes)
        )
    });
    (status, headers, body)
}

pub async fn post_json(router: &Router, org: &str, body: &Value) -> (StatusCode, HeaderMap, Value) {
    let token = fixture().org_tokens[org].clone();
    post(router, Some(&token), body.to_string()).await
}

/// The `seq` of a stored reply item.
pub fn seq(item: &Value) -> u64 {
    item["seq"]
        .as_u64()
        .unwrap_or_else(|| panic!("not stored: {item}"))
}

/// An organisation's NATS client, as its own user, with the server's errors captured.
pub struct OrgClient {
    pub client: async_nats::Client,
    pub server_errors: Arc<Mutex<Vec<String>>>,
}

pub async fn org_client(org: &str) -> OrgClient {
    org_client_at(&fixture().server.client_url(), org).await
}

/// An organisation's client on a permissioned server at `url`.
pub async fn org_client_at(url: &str, org: &str) -> OrgClient {
    let fixture = fixture();
    let options = org_connect_options(&org_id(org), &fixture.org_passwords[org]);
    let samla_log::Auth::UserPassword { user, password } = options.auth else {
        unreachable!("org users are password users");
    };
    let server_errors = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&server_errors);
    let client = async_nats::ConnectOptions::with_user_and_password(user, password)
        .custom_inbox_prefix(options.inbox_prefix.expect("org inbox prefix"))
        .request_timeout(Some(Duration::from_secs(10)))
        .event_callback(move |event| {
            let sink = Arc::clone(&sink);
            async move {
                if let async_nats::Event::ServerError(error) = event {
                    sink.lock().expect("lock").push(error.to_string());
                }
            }
        })
        .connect(url)
        .await
        .expect("connect as an organisation");
    OrgClient {
        client,
        server_errors,
    }
}

/// Sends a MessagePack request to the ingest service and decodes the reply array.
pub async fn nats_request(client: &async_nats::Client, subject: String, body: Vec<u8>) -> Value {
    let reply = client
        .request(subject, body.into())
        .await
        .expect("the ingest service answers");
    rmp_serde::from_slice(&reply.payload).expect("a MessagePack reply")
}

/// `{"event": <envelope>, "expected_seq": n}` as MessagePack.
pub fn msgpack_claim(envelope: &Envelope, expected_seq: u64) -> Value {
    serde_json::json!({ "event": json(envelope), "expected_seq": expected_seq })
}

pub fn msgpack(value: &Value) -> Vec<u8> {
    rmp_serde::to_vec_named(value).expect("encode MessagePack")
}

/// Every event id stored for `incident`, in log order.
pub async fn stored_ids(log: &Log, incident: &str) -> Vec<String> {
    log.read(ReadRange::incident(incident, 1))
        .await
        .expect("start reading")
        .collect_all()
        .await
        .expect("read the incident")
        .iter()
        .filter_map(|record| record.msg_id().map(str::to_owned))
        .collect()
}

/// A credential as a request presents it.
#[derive(Debug, Clone, Copy)]
pub enum Credential<'a> {
    None,
    Bearer(&'a str),
    Cookie(&'a str),
}

/// Sends `method path` (with `body` as JSON when given) through the router, without a
/// socket. Returns the status, the headers and the body (JSON, or the text as a string,
/// or null when empty).
pub async fn call(
    router: &Router,
    method: &str,
    path: &str,
    credential: Credential<'_>,
    body: Option<&Value>,
) -> (StatusCode, HeaderMap, Value) {
    let mut request = Request::builder().method(method).uri(path);
    request = match credential {
        Credential::None => request,
        Credential::Bearer(token) => request.header("authorization", format!("Bearer {token}")),
        Credential::Cookie(token) => request.header("cookie", format!("samla_session={token}")),
    };
    let body = match body {
        Some(body) => {
            request = request.header("content-type", "application/json");
            Body::from(body.to_string())
        }
        None => Body::empty(),
    };
    let response = router
        .clone()
        .oneshot(request.body(body).expect("request"))
        .await
        .expect("the router answers");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("read the body");
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    (status, headers, body)
}

/// The body of an [`samla_api::ApiError`].
pub fn error_body(code: &str, message: &str, field: Option<&str>) -> Value {
    let mut error = serde_json::json!({ "code": code, "message": message });
    if let Some(field) = field {
        error["field"] = Value::from(field);
    }
    serde_json::json!({ "error": error })
}
