//! `run` over real sockets with one shutdown signal, the token file, and the rendered
//! permission block.

use std::os::unix::fs::PermissionsExt as _;
use std::time::Duration;

use proto_events::{Kind, codec};
use samla_api::nats_permissions::{NatsCredential, NatsPermissions, OrgUser};
use samla_api::tokens::{Principal, SharedTokens, TokenKind, TokenStore, hash_token, tokens_path};
use samla_api::{AppState, run};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::common::*;

/// One HTTP/1.1 request over a fresh connection; returns the status and the body.
async fn http_post(address: std::net::SocketAddr, token: &str, body: &str) -> (u16, Value) {
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    let request = format!(
        "POST /v1/events HTTP/1.1\r\nhost: samla\r\nauthorization: Bearer {token}\r\n\
         content-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("receive");
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status in {response:?}"));
    let (_, body) = response.split_once("\r\n\r\n").expect("headers end");
    (status, serde_json::from_str(body).expect("JSON body"))
}

/// A live stream left open (a dashboard on a wall screen) does not hold the server up: on
/// the signal every live stream ends, so the HTTP door's graceful shutdown completes and
/// `run` returns. Before, `samla up` waited on Ctrl-C for as long as a dashboard was open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_stops_while_a_live_stream_is_open() {
    let folder = tempfile::tempdir().expect("tempdir");
    let side = crate::read_side::read_side(folder.path()).await;
    let projector = side.projector.clone();
    let state = side.state.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(run(state, Some(listener), None, async move {
        let _ = stopped.await;
    }));

    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    let request = format!(
        "GET /v1/incidents/t-live-open/live HTTP/1.1\r\nhost: samla\r\n\
         authorization: Bearer {}\r\n\r\n",
        fixture().org_tokens["alfa"]
    );
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut head = Vec::new();
    let mut buffer = [0u8; 1024];
    while !head.windows(4).any(|window| window == b"\r\n\r\n") {
        let read = tokio::time::timeout(Duration::from_secs(30), stream.read(&mut buffer))
            .await
            .expect("the stream answers")
            .expect("read");
        assert!(read > 0, "closed before answering: {head:?}");
        head.extend_from_slice(&buffer[..read]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    // The feed runs once it follows the notices.
    assert_eq!(
        crate::read_side::settled_subscribers(&projector, |count| count > 0).await,
        1,
        "the live feed is running"
    );

    stop.send(()).expect("run is running");
    tokio::time::timeout(Duration::from_secs(30), server)
        .await
        .expect("run returns with a live stream open")
        .expect("join")
        .expect("run ends cleanly");
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut rest))
        .await
        .expect("the live stream ended")
        .expect("read to the end");
    assert_eq!(projector.subscribers(), 0, "no feed is left behind");

    side.shut().await;
}

/// A live-stream client that reads nothing (`samla tail | less`, paused) fills its socket,
/// and the stream's end can never be written to it: the HTTP door's graceful stop would
/// wait for that connection for ever. The stop gives it a deadline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_stops_while_a_live_stream_client_reads_nothing() {
    let folder = tempfile::tempdir().expect("tempdir");
    let side = crate::read_side::read_side(folder.path()).await;
    let projector = side.projector.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(run(side.state.clone(), Some(listener), None, async move {
        let _ = stopped.await;
    }));

    let joined = crate::read_side::joined("t-live-stuck", "alfa");
    crate::read_side::post_one(&side.router, "alfa", &joined).await;
    // A small receive buffer, so that little fills it.
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("receive buffer");
    let mut stream = socket.connect(address).await.expect("connect");
    let token = fixture().org_tokens["alfa"].clone();
    let request = format!(
        "GET /v1/incidents/t-live-stuck/live HTTP/1.1\r\nhost: samla\r\n\
         authorization: Bearer {token}\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.expect("send");
    assert_eq!(
        crate::read_side::settled_subscribers(&projector, |count| count > 0).await,
        1,
        "the live feed is running"
    );
    // Far more than the socket, the server's buffers and the feed's queue hold: here
    // 3,386 events (3 MB) went in before the feed waited.
    let mut head = 0;
    for batch in 0..80 {
        let events: Vec<Value> = (0..100)
            .map(|n| {
                json(&crate::read_side::event(
                    Kind::NeedRaised,
                    "t-live-stuck",
                    "alfa",
                    &format!("need-{batch}-{n}"),
                    proto_events::Audience::Network,
                ))
            })
            .collect();
        let (status, reply) = http_post(address, &token, &Value::Array(events).to_string()).await;
        assert_eq!(status, 202, "{reply}");
        head = reply[99]["seq"].as_u64().expect("a sequence");
    }
    assert!(
        projector
            .wait_until_current(head, Duration::from_secs(60))
            .await
    );

    stop.send(()).expect("run is running");
    tokio::time::timeout(Duration::from_secs(60), server)
        .await
        .expect("run returns with a client that reads nothing")
        .expect("join")
        .expect("run ends cleanly");
    drop(stream);
    side.shut().await;
}

#[tokio::test]
async fn run_serves_both_doors_and_stops_on_one_signal() {
    let gateway = gateway(test_config()).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    let state = AppState {
        ingest: gateway.service.clone(),
        tokens: SharedTokens::fixed(fixture().tokens.clone()),
        query: None,
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let nats = gateway.log.connection().nats_client().clone();
    let server = tokio::spawn(run(state, Some(listener), Some(nats), async move {
        let _ = stopped.await;
    }));

    let over_http = envelope(Kind::NeedRaised, "t-run", "alfa", "need-1");
    let (status, reply) = http_post(
        address,
        &fixture().org_tokens["alfa"],
        &json(&over_http).to_string(),
    )
    .await;
    assert_eq!(status, 202, "{reply}");

    // The NATS door is bound before `run` serves HTTP, so it is ready by now.
    let bravo = org_client("bravo").await;
    let over_nats = envelope(Kind::NeedRaised, "t-run", "bravo", "need-2");
    let reply = nats_request(
        &bravo.client,
        "samla.ingest.t-run.bravo".to_owned(),
        codec::encode_msgpack(&over_nats),
    )
    .await;
    assert_eq!(reply[0]["duplicate"], json!(false), "{reply}");

    stop.send(()).expect("run is running");
    tokio::time::timeout(Duration::from_secs(30), server)
        .await
        .expect("run returns after the signal")
        .expect("join")
        .expect("run ends cleanly");
    assert!(
        tokio::net::TcpStream::connect(address).await.is_err(),
        "still listening"
    );
    // The committer is closed: nothing more is appended.
    let (status, _, reply) = post_json(
        &gateway.router,
        "alfa",
        &json(&envelope(Kind::NeedRaised, "t-run", "alfa", "need-3")),
    )
    .await;
    assert_eq!(status, axum::http::StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(reply[0]["error"]["code"], "unavailable");
    assert_eq!(
        stored_ids(&gateway.log, "t-run").await,
        vec![id_of(&over_http), id_of(&over_nats)]
    );
}

/// A stop while the NATS server is away (systemd stopped it first, or it died) ends the
/// NATS door: its last flush would wait for a reconnect that never comes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_nats_door_stops_while_the_nats_server_is_away() {
    let (server, gateway) = gateway_on_own_server().await;
    let nats = gateway.log.connection().nats_client().clone();
    // Bound (subscribed, one round trip done) before the server goes.
    let door = samla_api::NatsDoor::bind(nats, gateway.service.clone())
        .await
        .expect("bind the NATS door");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(door.serve(async move {
        let _ = stopped.await;
    }));
    let server = stop_server(server).await;

    stop.send(()).expect("the door is serving");
    tokio::time::timeout(Duration::from_secs(30), serving)
        .await
        .expect("the door stops with the NATS server away")
        .expect("join");
    drop(server);
}

#[test]
fn token_file_round_trip_is_private_and_reloads_on_change() {
    let folder = tempfile::tempdir().expect("temp dir");
    let path = tokens_path(folder.path());
    let mut store = TokenStore::empty();
    let alfa = store
        .create(
            TokenKind::Org,
            Some(org_id("alfa")),
            Some("incident tool".into()),
        )
        .expect("create");
    assert!(alfa.plaintext.starts_with("samla_") && alfa.plaintext.len() == 49);
    assert_eq!(alfa.entry.sha256, hash_token(&alfa.plaintext));
    store.write(&path).expect("write");
    let mode = std::fs::metadata(&path)
        .expect("metadata")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let text = std::fs::read_to_string(&path).expect("read");
    assert!(
        !text.contains(&alfa.plaintext),
        "the plaintext must never be stored"
    );

    let shared = SharedTokens::from_file(&path).expect("load");
    assert_eq!(
        shared.verify(&alfa.plaintext),
        Some(Principal::Organisation(org_id("alfa")))
    );
    assert_eq!(shared.verify("samla_guess"), None);

    let wall = store.create(TokenKind::Share, None, None).expect("create");
    assert_eq!(shared.verify(&wall.plaintext), None);
    store.write(&path).expect("rewrite");
    assert!(shared.reload_if_changed().expect("reload"));
    assert_eq!(
        shared.verify(&wall.plaintext),
        Some(Principal::Share { org: None })
    );

    // A broken file keeps the tokens in force.
    std::fs::write(&path, "{ not json").expect("break it");
    std::fs::write(&path, "{ still not json").expect("break it again");
    assert!(shared.reload_if_changed().is_err());
    assert_eq!(
        shared.verify(&alfa.plaintext),
        Some(Principal::Organisation(org_id("alfa")))
    );

    for bad in [
        r#"{"tokens": [{"kind": "org", "sha256": "00"}]}"#,
        r#"{"tokens": [{"kind": "operator", "org": "alfa", "sha256": "00"}]}"#,
        r#"{"tokens": [{"kind": "share", "sha256": "ABCD"}]}"#,
    ] {
        assert!(TokenStore::from_json(bad).is_err(), "{bad}");
    }
}

#[test]
fn the_permission_block_confines_each_user() {
    let block = NatsPermissions::new(
        vec![OrgUser {
            org: org_id("alfa"),
            credential: NatsCredential::Password("pw-alfa".into()),
        }],
        NatsCredential::Password("pw-ingest".into()),
    )
    .render()
    .expect("render");
    let expected_lines = [
        "      user: \"org-alfa\"",
        "        publish: { allow: [\"samla.ingest.*.alfa\"], deny: [\"samla.evt.>\", \"$JS.>\"] }",
        "        subscribe: { allow: [\"_INBOX_alfa.>\"] }",
        "      user: \"samla-ingest\"",
        "        publish: { allow: [\"samla.evt.>\", \"$JS.API.>\"] }",
        "        subscribe: { allow: [\"samla.ingest.>\", \"_INBOX_SVC_ingest.>\"] }",
        "        allow_responses: true",
    ];
    for line in expected_lines {
        assert!(
            block.lines().any(|candidate| candidate == line),
            "missing {line:?} in\n{block}"
        );
    }
    assert_eq!(
        block.matches("allow_responses").count(),
        1,
        "only the ingest service answers"
    );

    let injected = NatsPermissions::new(
        vec![],
        NatsCredential::Password("pw\" } ] } users: [ { user: x".into()),
    );
    assert!(injected.render().is_err());
}
