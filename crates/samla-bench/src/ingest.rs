//! Ingest through the gateway: closed-loop clients, each sending one request, waiting for
//! its answer, checking it and sending the next, until the requests run out.
//!
//! - **NATS**: a client sends MessagePack requests on `samla.ingest.<incident>.<org>` over
//!   its organisation's own connection (as its own user); the reply is checked item by
//!   item (MessagePack).
//! - **HTTP**: a client holds one keep-alive connection to the gateway's socket and posts
//!   JSON to `POST /v1/events` with the organisation's token; the answer must be 202 and
//!   every item stored.
//!
//! Every item of every reply must say stored, not duplicate (the stream is empty and the
//! ids are this run's own), so a figure can never count refused or de-duplicated events.
//! The time runs from the first request to the last answer; connections are opened before.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use async_nats::Subject;
use serde::Deserialize;
use tokio::task::JoinSet;

use crate::error::BenchError;
use crate::http1;
use crate::ingest_load::Request;
use crate::progress::Progress;

/// How often a running phase reports its progress.
const PROGRESS_EVERY: Duration = Duration::from_secs(1);

/// One item of a reply, as both doors write it.
#[derive(Debug, Deserialize)]
struct ReplyItem {
    #[serde(default)]
    seq: Option<u64>,
    #[serde(default)]
    duplicate: Option<bool>,
    #[serde(default)]
    error: Option<ReplyError>,
}

#[derive(Debug, Deserialize)]
struct ReplyError {
    #[serde(default)]
    code: String,
    #[serde(default)]
    field: String,
    #[serde(default)]
    reason: String,
}

/// Checks that a reply has `expected` items, each newly stored; returns their sequences.
fn stored_sequences(
    items: Vec<ReplyItem>,
    expected: usize,
    phase: &str,
) -> Result<Vec<u64>, BenchError> {
    if items.len() != expected {
        return Err(BenchError::gateway(
            phase,
            format!("{} reply items for {expected} events", items.len()),
        ));
    }
    let mut sequences = Vec::with_capacity(expected);
    for item in items {
        match item {
            ReplyItem {
                seq: Some(seq),
                duplicate: Some(false),
                error: None,
            } => sequences.push(seq),
            ReplyItem {
                error: Some(error), ..
            } => {
                return Err(BenchError::gateway(
                    phase,
                    format!(
                        "an event was refused: {} ({}): {}",
                        error.code, error.field, error.reason
                    ),
                ));
            }
            other => {
                return Err(BenchError::gateway(
                    phase,
                    format!("an event was not newly stored: {other:?}"),
                ));
            }
        }
    }
    Ok(sequences)
}

/// The requests of one phase, taken in order by whichever client is free.
#[derive(Debug)]
struct Queue {
    requests: Arc<Vec<Request>>,
    next: AtomicUsize,
    events_done: AtomicU64,
}

impl Queue {
    fn new(requests: Arc<Vec<Request>>) -> Arc<Self> {
        Arc::new(Queue {
            requests,
            next: AtomicUsize::new(0),
            events_done: AtomicU64::new(0),
        })
    }

    fn take(&self) -> Option<&Request> {
        self.requests.get(self.next.fetch_add(1, Ordering::Relaxed))
    }

    fn done(&self, events: usize) {
        self.events_done.fetch_add(events as u64, Ordering::Relaxed);
    }

    fn total_events(&self) -> u64 {
        self.requests
            .iter()
            .map(|request| request.events as u64)
            .sum()
    }
}

/// Waits for every client; the first failure ends the phase (the rest are aborted).
async fn drive(
    mut clients: JoinSet<Result<(), BenchError>>,
    queue: &Queue,
    started: Instant,
    phase: &str,
) -> Result<Duration, BenchError> {
    let total = queue.total_events();
    let mut progress = Progress::new(phase, total);
    let mut ticks = tokio::time::interval(PROGRESS_EVERY);
    loop {
        tokio::select! {
            finished = clients.join_next() => match finished {
                None => break,
                Some(Ok(Ok(()))) => {}
                Some(Ok(Err(error))) => return Err(error),
                Some(Err(error)) => return Err(BenchError::wrong(phase, format!("a client failed: {error}"))),
            },
            _ = ticks.tick() => progress.tick_now(queue.events_done.load(Ordering::Relaxed)),
        }
    }
    let elapsed = started.elapsed();
    progress.done();
    let done = queue.events_done.load(Ordering::Relaxed);
    if done != total {
        return Err(BenchError::wrong(
            phase,
            format!("{done} of {total} events were answered"),
        ));
    }
    Ok(elapsed)
}

/// `clients` closed-loop NATS clients send `requests`; `connections[request.sender]` and
/// `subjects[request.sender]` say how. Returns the time from the first request to the
/// last answer.
pub(crate) async fn over_nats(
    connections: Arc<Vec<async_nats::Client>>,
    subjects: Arc<Vec<Subject>>,
    requests: Arc<Vec<Request>>,
    clients: usize,
    phase: &str,
) -> Result<Duration, BenchError> {
    let queue = Queue::new(requests);
    let started = Instant::now();
    let mut set = JoinSet::new();
    for _ in 0..clients.max(1) {
        let (queue, connections, subjects) = (
            Arc::clone(&queue),
            Arc::clone(&connections),
            Arc::clone(&subjects),
        );
        let phase = phase.to_owned();
        set.spawn(async move {
            while let Some(request) = queue.take() {
                let reply = connections[request.sender]
                    .request(subjects[request.sender].clone(), request.msgpack.clone())
                    .await
                    .map_err(|error| BenchError::gateway(&phase, format!("request: {error}")))?;
                let items: Vec<ReplyItem> =
                    rmp_serde::from_slice(&reply.payload).map_err(|error| {
                        BenchError::gateway(&phase, format!("an unreadable reply: {error}"))
                    })?;
                stored_sequences(items, request.events, &phase)?;
                queue.done(request.events);
            }
            Ok(())
        });
    }
    drive(set, &queue, started, phase).await
}

/// `clients` closed-loop HTTP clients, one keep-alive connection each, post `requests`
/// to `address` with `tokens[request.sender]`.
pub(crate) async fn over_http(
    address: std::net::SocketAddr,
    tokens: Arc<Vec<String>>,
    requests: Arc<Vec<Request>>,
    clients: usize,
    phase: &str,
) -> Result<Duration, BenchError> {
    let mut connections = Vec::with_capacity(clients.max(1));
    for _ in 0..clients.max(1) {
        connections.push(
            http1::Connection::connect(address)
                .await
                .map_err(|error| BenchError::gateway(phase, format!("connecting: {error}")))?,
        );
    }
    let queue = Queue::new(requests);
    let started = Instant::now();
    let mut set = JoinSet::new();
    for mut connection in connections {
        let (queue, tokens) = (Arc::clone(&queue), Arc::clone(&tokens));
        let phase = phase.to_owned();
        set.spawn(async move {
            while let Some(request) = queue.take() {
                post_request(&mut connection, &tokens[request.sender], request, &phase).await?;
                queue.done(request.events);
            }
            Ok(())
        });
    }
    drive(set, &queue, started, phase).await
}

/// Posts one request and checks the answer; returns the sequences of its events.
pub(crate) async fn post_request(
    connection: &mut http1::Connection,
    token: &str,
    request: &Request,
    phase: &str,
) -> Result<Vec<u64>, BenchError> {
    let response = connection
        .post_json("/v1/events", token, &request.json)
        .await
        .map_err(|error| BenchError::gateway(phase, format!("POST /v1/events: {error}")))?;
    if response.status != 202 {
        return Err(BenchError::gateway(
            phase,
            format!(
                "POST /v1/events answered {}: {}",
                response.status,
                String::from_utf8_lossy(&response.body)
            ),
        ));
    }
    let items: Vec<ReplyItem> = serde_json::from_slice(&response.body)
        .map_err(|error| BenchError::gateway(phase, format!("an unreadable answer: {error}")))?;
    stored_sequences(items, request.events, phase)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_newly_stored_items_pass() {
        let items = |json: &str| serde_json::from_str::<Vec<ReplyItem>>(json).unwrap();
        assert_eq!(
            stored_sequences(
                items(
                    r#"[{"id":"a","seq":4,"duplicate":false},{"id":"b","seq":5,"duplicate":false}]"#
                ),
                2,
                "t"
            )
            .unwrap(),
            vec![4, 5]
        );
        assert!(
            stored_sequences(items(r#"[{"id":"a","seq":4,"duplicate":true}]"#), 1, "t").is_err()
        );
        assert!(
            stored_sequences(
                items(r#"[{"id":"a","error":{"code":"malformed","field":"x","reason":"y"}}]"#),
                1,
                "t"
            )
            .is_err()
        );
        assert!(stored_sequences(items(r#"[]"#), 1, "t").is_err());
    }
}
