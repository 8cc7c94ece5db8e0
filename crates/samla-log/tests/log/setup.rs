//! Stream setup and refusals: forbidden operations, drift, old servers, permissions.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stream_refuses_purge_delete_rollup_and_ttl() {
    let log = open_shared("refusals").await;
    let kept = log
        .append(item(&log, "org-a", "n1", "kept", "kept", None))
        .await
        .expect("append");
    let client = log.connection().nats_client().clone();
    let jetstream = async_nats::jetstream::new(client);
    let stream = jetstream
        .get_stream(&log.config().stream_name)
        .await
        .expect("stream");

    assert!(stream.purge().await.is_err(), "purge must be refused");
    assert!(
        stream.delete_message(kept.seq).await.is_err(),
        "message delete must be refused"
    );
    let subject = format!("{}.inc-1.org-a.need.n1", log.config().subject_prefix);
    for (name, value) in [("Nats-Rollup", "sub"), ("Nats-TTL", "5s")] {
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(name, value);
        let ack = jetstream
            .publish_with_headers(subject.clone(), headers, Bytes::from_static(b"x"))
            .await
            .expect("publish");
        assert!(ack.await.is_err(), "{name} must be refused");
    }
    let records = read_all(&log, ReadFilter::All).await;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].msg_id(), Some("kept"));
}

/// A log whose stream was deleted says so, and not as an outage: the head, a lookup, a
/// bounded read already under way and a reader's open all answer `StreamMissing` at once
/// (a read does not first wait out its patience), and it is not retryable, so callers that
/// wait for the log to come back (the projector's rebuild) do not wait for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_stream_is_missing_not_unavailable() {
    let log = open_shared("deleted").await;
    let first = log
        .append(item(&log, "org-a", "n1", "first", "first", None))
        .await
        .expect("append");
    // Made before the stream goes; its consumer is made at the first `next`.
    let mut records = log
        .read(ReadRange::span(1, first.seq))
        .await
        .expect("start read");
    let jetstream = async_nats::jetstream::new(log.connection().nats_client().clone());
    jetstream
        .delete_stream(&log.config().stream_name)
        .await
        .expect("delete the stream");

    let missing = LogError::StreamMissing {
        stream: "T_DELETED".to_owned(),
    };
    let started = Instant::now();
    let head = log.head().await.expect_err("head of a deleted stream");
    assert_eq!(head, missing);
    assert!(!head.is_retryable());
    assert!(head.to_string().contains("deleted"), "{head}");
    assert_eq!(log.get(first.seq).await.expect_err("lookup"), missing);
    match records.next().await {
        Some(Err(error)) => assert_eq!(error, missing),
        other => panic!("a read of a deleted stream gave {other:?}"),
    }
    assert_eq!(
        log.read(ReadRange::span(1, first.seq))
            .await
            .expect_err("a new read"),
        missing
    );
    let reader = Log::open_existing(log.connection(), own_config("deleted", 64 * MIB))
        .await
        .expect_err("a reader's open");
    assert_eq!(reader, missing);
    // Well under a bounded read's 30 s patience: nothing waited for the stream.
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_stream_is_refused_at_start_naming_the_field() {
    let connection = connect_to(&[NatsServer::shared().client_url()]).await;
    let config = own_config("drift", 8 * MIB);
    Log::open(&connection, config.clone()).await.expect("open");

    // Somebody changes max_age behind Samla's back.
    let jetstream = async_nats::jetstream::new(connection.nats_client().clone());
    let mut stream = jetstream
        .get_stream(&config.stream_name)
        .await
        .expect("stream");
    let mut changed = stream.info().await.expect("info").config.clone();
    // (Longer than the 24 h duplicate window, which the server insists on.)
    changed.max_age = Duration::from_secs(48 * 3600);
    jetstream.update_stream(changed).await.expect("update");

    let error = Log::open(&connection, config).await.expect_err("drift");
    assert_eq!(
        error,
        LogError::ConfigDrift {
            stream: "T_DRIFT".to_owned(),
            field: "max_age".to_owned(),
            expected: "0".to_owned(),
            found: "172800000000000".to_owned(),
        }
    );
    assert!(error.to_string().contains("max_age"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_older_than_2_15_is_refused() {
    let binary = nats_server_binary_version("2.14.6").expect("nats-server 2.14.6 installed");
    let server = NatsServer::builder()
        .binary(binary)
        .start()
        .expect("start 2.14.6");
    let connection = connect_to(&[server.client_url()]).await;
    let error = Log::open(&connection, LogConfig::new(8 * MIB))
        .await
        .expect_err("2.14 refused");
    assert_eq!(
        error,
        LogError::ServerTooOld {
            found: "2.14.6".to_owned(),
            required: "2.15.0".to_owned()
        }
    );
    assert!(error.to_string().contains("2.15"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denied_publish_says_permission_denied_not_timeout() {
    let server = NatsServer::builder()
        .extra_config(
            r#"authorization {
                users = [
                    { user: admin, password: admin }
                    { user: reader, password: reader, permissions: {
                        publish: { allow: ["$JS.API.>"] }
                        subscribe: { allow: ["_INBOX.>"] } } }
                ]
            }"#,
        )
        .start()
        .expect("start server");
    let as_user = |user: &str| ConnectOptions {
        auth: samla_log::Auth::UserPassword {
            user: user.to_owned(),
            password: user.to_owned(),
        },
        request_timeout: Duration::from_secs(10),
        ..ConnectOptions::default()
    };
    let admin = connect(&[server.client_url()], as_user("admin"))
        .await
        .expect("admin");
    Log::open(&admin, LogConfig::new(8 * MIB))
        .await
        .expect("admin opens");
    let reader = connect(&[server.client_url()], as_user("reader"))
        .await
        .expect("reader");
    let log = Log::open(&reader, LogConfig::new(8 * MIB))
        .await
        .expect("reader opens");

    let started = Instant::now();
    let event = item(&log, "org-a", "n1", "ev-1", "x", None);
    let error = log.append(event.clone()).await.expect_err("denied");
    assert_eq!(
        error,
        LogError::PermissionDenied {
            operation: "publish".to_owned(),
            subject: event.subject.clone(),
        }
    );
    assert!(error.to_string().contains("permission denied on subject"));
    assert!(started.elapsed() < Duration::from_secs(5), "not a timeout");
    let results = log
        .append_batch(vec![event, item(&log, "org-a", "n2", "ev-2", "x", None)])
        .await;
    assert!(
        results
            .iter()
            .all(|result| matches!(result, Err(LogError::PermissionDenied { .. })))
    );
}
