//! The log cannot be rewritten by a client. With its own NATS user (the one `samla org
//! add` and the deploy configs give it), an organisation tries to purge the stream, delete
//! messages, update or delete the stream, read it through a consumer, and publish with
//! `Nats-Rollup` and `Nats-TTL` headers straight onto `samla.evt.>`: the server refuses
//! every attempt with a permissions violation and nothing answers it. The same headers on
//! a request to its own ingest subject do nothing: the event lands as a plain event,
//! without them, and history before it stays as it was. The projector's and the API's
//! service users may not write or rewrite the log either. Afterwards the log has the same
//! head, the same hash-chain head and the same stream configuration, and the replica the
//! same digest.
//!
//! Beside it: the system user of the deploy templates, left as shipped, cannot log in.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{FutureExt as _, StreamExt as _};
use proto_events::{Envelope, Kind, codec};
use reqwest::StatusCode;
use samla_api::ItemReply;
use samla_api::nats_permissions::{ServiceRole, org_connect_options, service_connect_options};
use samla_log::{Auth, ConnectOptions, Log, ReadRange, chain};
use samla_testkit::wait_for;
use serde_json::{Value, json};

use crate::common::{Env, Serve, envelope, http, json_of, org_id, shared};

const INCIDENT: &str = "tampering";
const ORG: &str = "alfa";
const STREAM: &str = samla_log::DEFAULT_STREAM_NAME;
const SECONDS_30: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_client_user_can_purge_delete_update_roll_up_or_expire_the_log() {
    let env = tokio::task::spawn_blocking(Env::start)
        .await
        .expect("start the server");
    let folder = tempfile::tempdir().expect("a read-model folder");
    let replica = Serve::start(&env, folder.path()).await;
    let http = http();
    let log = env.ingest_log().await;

    // History: the incident, alfa in its network, and a few needs.
    let mut history = vec![
        json_of(&envelope(Kind::IncidentDeclared, INCIDENT, ORG, INCIDENT)),
        json_of(&envelope(Kind::OrganisationJoined, INCIDENT, ORG, ORG)),
    ];
    history.extend((0..20).map(|n| json_of(&envelope(Kind::NeedRaised, INCIDENT, ORG, &need(n)))));
    let (status, _, text) = replica
        .post_raw(
            &http,
            env.token(ORG),
            Value::Array(history).to_string().into_bytes(),
        )
        .await
        .expect("post the history");
    assert_eq!(status, StatusCode::ACCEPTED, "{text}");

    // The headers on a request to its own ingest subject: the ingest service builds the
    // log's message itself, so they never reach the stream.
    let alfa = Spy::connect_org(&env, ORG).await;
    let before_ingest = chain_head(&log).await;
    let mut headered = Vec::new();
    for (header, value) in [
        ("Nats-Rollup", "sub"),
        ("Nats-Rollup", "all"),
        ("Nats-TTL", "1s"),
    ] {
        // On an aggregate that has history, so a roll-up would have erased it.
        let event = envelope(
            Kind::NeedUpdated,
            INCIDENT,
            ORG,
            &need(headered.len() as u64),
        );
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(header, value);
        let request = async_nats::Request::new()
            .headers(headers)
            .payload(codec::encode_msgpack(&event).into())
            .timeout(Some(Duration::from_secs(10)));
        let reply = alfa
            .client
            .send_request(format!("samla.ingest.{INCIDENT}.{ORG}"), request)
            .await
            .unwrap_or_else(|error| panic!("the ingest request with {header}: {error}"));
        let replies: Vec<ItemReply> =
            rmp_serde::from_slice(&reply.payload).expect("an ingest reply array");
        let [
            ItemReply::Stored {
                seq,
                duplicate: false,
                ..
            },
        ] = replies.as_slice()
        else {
            panic!("the event sent with {header} was not stored as new: {replies:?}");
        };
        headered.push((*seq, header, event));
    }
    for (seq, header, event) in &headered {
        let stored = log
            .read(ReadRange::span(*seq, *seq))
            .await
            .expect("read the stored event")
            .collect_all()
            .await
            .expect("read the stored event")
            .pop()
            .expect("the event is there");
        assert_eq!(stored.msg_id(), Some(event.id.to_string().as_str()));
        for name in ["Nats-Rollup", "Nats-TTL"] {
            assert_eq!(
                stored.header(name),
                None,
                "the event sent with {header} carries {name} in the log"
            );
        }
    }
    let after_ingest = chain_head(&log).await;
    let verdict = chain::compare(&before_ingest, &after_ingest);
    assert!(
        verdict.intact() && verdict.beyond_export == headered.len() as u64,
        "history changed under the headered requests: {verdict:?}"
    );

    // The picture before the direct attempts.
    let head = log.head().await.expect("the head").last_seq;
    replica
        .wait_ready_at(&http, head, Duration::from_secs(60))
        .await;
    let digest = replica.digest_at(&http, &env, head).await;

    // The organisation, straight at the JetStream API and the log's subjects.
    let raw = |event: &Envelope| -> Vec<u8> { codec::encode_msgpack(event) };
    let need_subject = format!("samla.evt.{INCIDENT}.{ORG}.need.{}", need(0));
    let mut attempts: Vec<Attempt> = vec![
        Attempt::api("STREAM.PURGE", json!({})),
        Attempt::api("STREAM.PURGE", json!({ "filter": need_subject })),
        Attempt::api("STREAM.PURGE", json!({ "keep": 1 })),
        Attempt::api("STREAM.MSG.DELETE", json!({ "seq": 1 })),
        Attempt::api("STREAM.MSG.DELETE", json!({ "seq": 2, "no_erase": true })),
        Attempt::api("STREAM.UPDATE", loosened_stream_config()),
        Attempt::api("STREAM.DELETE", json!({})),
        Attempt::api(
            "CONSUMER.CREATE",
            json!({ "stream_name": STREAM, "config": {} }),
        ),
    ];
    for (header, value) in [
        ("Nats-Rollup", "sub"),
        ("Nats-Rollup", "all"),
        ("Nats-TTL", "1s"),
    ] {
        let event = envelope(Kind::NeedUpdated, INCIDENT, ORG, &need(0));
        attempts.push(Attempt {
            subject: need_subject.clone(),
            headers: vec![
                ("Nats-Msg-Id", event.id.to_string()),
                (header, value.to_owned()),
            ],
            payload: raw(&event),
        });
    }
    alfa.refused(&attempts).await;

    // The services that read the log may not write or rewrite it either.
    for role in [ServiceRole::Projector, ServiceRole::Api] {
        let password = match role {
            ServiceRole::Projector => &env.projector_password,
            _ => &env.api_password,
        };
        let service = Spy::connect(&env, service_connect_options(role, password)).await;
        let event = envelope(Kind::NeedUpdated, INCIDENT, ORG, &need(1));
        service
            .refused(&[
                Attempt {
                    subject: format!("samla.evt.{INCIDENT}.{ORG}.need.{}", need(1)),
                    headers: vec![("Nats-Msg-Id", event.id.to_string())],
                    payload: raw(&event),
                },
                Attempt::api("STREAM.PURGE", json!({})),
                Attempt::api("STREAM.MSG.DELETE", json!({ "seq": 1 })),
                Attempt::api("STREAM.UPDATE", loosened_stream_config()),
            ])
            .await;
    }

    // Nothing changed: head, chain head, stream configuration, digest.
    assert_eq!(log.head().await.expect("the head").last_seq, head);
    let after = chain_head(&log).await;
    assert_eq!(
        after.head, after_ingest.head,
        "the log's hash-chain head changed"
    );
    let reopened = env.ingest_log().await;
    assert_eq!(
        reopened.head().await.expect("the head").identity,
        log.head().await.expect("the head").identity,
        "the stream was replaced"
    );
    let records = log
        .read(ReadRange::span(1, head))
        .await
        .expect("read the log")
        .collect_all()
        .await
        .expect("read the log");
    assert_eq!(records.len() as u64, head, "an event went missing");
    assert_eq!(replica.digest_at(&http, &env, head).await, digest);
    replica.kill().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_system_user_of_the_templates_as_shipped_cannot_log_in() {
    let env = tokio::task::spawn_blocking(shared)
        .await
        .expect("the shared server");
    let accounts = tokio::task::block_in_place(|| env.server.monitor_json("/accountz"))
        .expect("the server's accounts");
    assert_eq!(accounts["system_account"], "SYS", "{accounts}");
    // The template's placeholder is not a valid bcrypt hash: no password matches it, not
    // even its own text.
    let placeholder = system_password_placeholder();
    for password in [placeholder.as_str(), "", "samla-system"] {
        let outcome = async_nats::ConnectOptions::with_user_and_password(
            "samla-system".to_owned(),
            password.to_owned(),
        )
        .connect(env.url())
        .await;
        assert!(
            outcome.is_err(),
            "the system user logged in with {password:?}"
        );
    }
}

fn need(n: u64) -> String {
    format!("need-{n}")
}

/// The password text of the system user in `deploy/nats/single.conf.template`.
fn system_password_placeholder() -> String {
    let template = samla_testkit::SINGLE_TEMPLATE;
    let at = template
        .find("user: \"samla-system\", password: \"")
        .expect("the template's system user");
    let rest = &template[at..];
    let start = rest.find("password: \"").expect("a password") + "password: \"".len();
    let end = rest[start..].find('"').expect("a closing quote");
    rest[start..start + end].to_owned()
}

/// A stream configuration that would allow everything the log denies.
fn loosened_stream_config() -> Value {
    json!({
        "name": STREAM,
        "subjects": ["samla.evt.>"],
        "storage": "file",
        "num_replicas": 1,
        "deny_delete": false,
        "deny_purge": false,
        "allow_rollup_hdrs": true,
        "allow_msg_ttl": true,
    })
}

/// The whole log's hash chain as it is now.
async fn chain_head(log: &Log) -> chain::ChainExport {
    chain::compute(log, 1, false, |_| {})
        .await
        .expect("compute the chain")
}

/// One publish a client tries.
struct Attempt {
    subject: String,
    headers: Vec<(&'static str, String)>,
    payload: Vec<u8>,
}

impl Attempt {
    /// A request to the JetStream API on the log stream: `$JS.API.<action>.SAMLA_LOG`.
    fn api(action: &str, body: Value) -> Attempt {
        Attempt {
            subject: format!("$JS.API.{action}.{STREAM}"),
            headers: Vec::new(),
            payload: body.to_string().into_bytes(),
        }
    }
}

/// A NATS client that keeps the server's asynchronous errors (a refused publish shows up
/// only there).
struct Spy {
    client: async_nats::Client,
    errors: Arc<Mutex<Vec<String>>>,
    inbox_prefix: String,
}

impl Spy {
    async fn connect_org(env: &Env, org: &str) -> Spy {
        Spy::connect(
            env,
            org_connect_options(&org_id(org), &env.org_passwords[org]),
        )
        .await
    }

    async fn connect(env: &Env, options: ConnectOptions) -> Spy {
        let Auth::UserPassword { user, password } = options.auth else {
            unreachable!("the fault tests use password users");
        };
        let inbox_prefix = options.inbox_prefix.expect("an inbox prefix");
        let errors = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&errors);
        let client = async_nats::ConnectOptions::with_user_and_password(user, password)
            .custom_inbox_prefix(&inbox_prefix)
            .event_callback(move |event| {
                let sink = Arc::clone(&sink);
                async move {
                    if let async_nats::Event::ServerError(error) = event {
                        sink.lock().expect("errors").push(error.to_string());
                    }
                }
            })
            .connect(env.url())
            .await
            .expect("connect");
        Spy {
            client,
            errors,
            inbox_prefix,
        }
    }

    /// Sends every attempt with a reply subject this client listens on; returns once the
    /// server has reported a permissions violation for each attempt, and checks that
    /// nothing answered any of them.
    async fn refused(&self, attempts: &[Attempt]) {
        let inbox = format!("{}.tampering", self.inbox_prefix);
        let mut replies = self
            .client
            .subscribe(format!("{inbox}.>"))
            .await
            .expect("subscribe to the own inbox");
        let before = self.errors.lock().expect("errors").len();
        for (index, attempt) in attempts.iter().enumerate() {
            let mut headers = async_nats::HeaderMap::new();
            for (name, value) in &attempt.headers {
                headers.insert(*name, value.as_str());
            }
            self.client
                .publish_with_reply_and_headers(
                    attempt.subject.clone(),
                    format!("{inbox}.{index}"),
                    headers,
                    attempt.payload.clone().into(),
                )
                .await
                .expect("the publish is sent");
        }
        self.client.flush().await.expect("flush");
        wait_for(
            "a permissions violation for every attempt",
            SECONDS_30,
            || async {
                let errors = self.errors.lock().expect("errors");
                let new = &errors[before..];
                attempts
                    .iter()
                    .all(|attempt| {
                        let wanted = attempts
                            .iter()
                            .filter(|other| other.subject == attempt.subject)
                            .count();
                        let seen = new
                            .iter()
                            .filter(|error| {
                                error.contains("Permissions Violation for Publish")
                                    && error.contains(&format!("\"{}\"", attempt.subject))
                            })
                            .count();
                        seen >= wanted
                    })
                    .then_some(())
            },
        )
        .await;
        // A round trip after the violations: a reply, had there been one, came before.
        self.client.flush().await.expect("flush");
        assert!(
            replies.next().now_or_never().is_none(),
            "an attempt was answered"
        );
    }
}
