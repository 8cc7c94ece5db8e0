//! Live latency: how long an event takes from its ingest request to a live-stream client.
//!
//! Open loop at a steady rate: event `i` is due at `start + i / rate` (a thread of its own
//! keeps the time, finer than tokio's millisecond timer); when it is due, it is posted alone (`POST /v1/events`, its organisation's token) on a free keep-alive
//! connection (a new one when all are busy), so a slow answer never delays the next
//! event. Meanwhile one client per incident holds `GET /v1/incidents/{i}/live?from_seq=1`
//! open with the operator's token (which sees every audience). The latency of an event is
//! from the moment it was due — not when it happened to be sent, so falling behind counts
//! — to the moment its `id:` (the stream sequence, known from the ingest reply) arrives
//! on the stream. The first second of events warms the path up and is not counted.
//!
//! The live stream shows `status: actual` events (its default); exercise events are sent
//! like the others but not timed.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use proto_events::IncidentId;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::error::BenchError;
use crate::http1;
use crate::ingest::post_request;
use crate::ingest_load::{IngestLoad, Request};
use crate::progress::{Progress, say};
use crate::report::percentile;

/// How long after the last answer every timed event may take to arrive.
const ARRIVAL_DEADLINE: Duration = Duration::from_secs(30);
/// The share of timed events that may fail to arrive before the sample is an error.
const MAX_MISSING_SHARE: f64 = 0.01;

/// What one sample measured.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LatencySample {
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub timed: usize,
}

/// What the stream readers saw: sequence → arrival.
type Arrivals = Arc<Mutex<HashMap<u64, Instant>>>;

/// One answered event.
struct Sent {
    seq: u64,
    due: Instant,
    /// When the ingest reply arrived (for the progress line's split of the latency).
    answered: Instant,
    timed: bool,
}

/// Where and as whom.
#[derive(Debug, Clone)]
pub(crate) struct LiveTarget<'a> {
    pub address: std::net::SocketAddr,
    /// Bearer tokens in [`IngestLoad::senders`] order.
    pub tokens: Arc<Vec<String>>,
    pub operator_token: &'a str,
}

/// Sends the first `events` events of `load` at `rate` per second and times them.
pub(crate) async fn measure(
    target: LiveTarget<'_>,
    load: &IngestLoad,
    events: usize,
    rate: u32,
    phase: &str,
) -> Result<LatencySample, BenchError> {
    let events = events.min(load.events.len());
    let rate = rate.max(1);
    let warmup = (rate as usize).min(events / 5);
    let requests = load.requests(events, 1);
    // With one event per request, requests are in emission order: request i is event i.
    let actual: Vec<bool> = load.events[..events].iter().map(|e| e.actual).collect();

    let arrivals: Arrivals = Arc::new(Mutex::new(HashMap::with_capacity(events)));
    let incidents: BTreeSet<IncidentId> = requests
        .iter()
        .map(|request| load.senders[request.sender].incident.clone())
        .collect();
    let mut readers = JoinSet::new();
    for incident in incidents {
        let path = format!("/v1/incidents/{incident}/live?from_seq=1");
        readers.spawn(read_stream(
            target.address,
            path,
            target.operator_token.to_owned(),
            Arc::clone(&arrivals),
        ));
    }

    let sent = send_paced(&target, requests, &actual, warmup, rate, phase).await?;
    let timed: Vec<&Sent> = sent.iter().filter(|sent| sent.timed).collect();
    let deadline = Instant::now() + ARRIVAL_DEADLINE;
    let missing = loop {
        let missing = {
            let arrived = arrivals.lock().map_err(|_| poisoned(phase))?;
            timed
                .iter()
                .filter(|sent| !arrived.contains_key(&sent.seq))
                .count()
        };
        if missing == 0 || Instant::now() >= deadline {
            break missing;
        }
        if let Some(Ok(Err(error))) = readers.try_join_next() {
            return Err(error);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    readers.abort_all();
    if timed.is_empty() || missing as f64 > timed.len() as f64 * MAX_MISSING_SHARE {
        return Err(BenchError::gateway(
            phase,
            format!(
                "{missing} of {} timed events never reached the live stream within {ARRIVAL_DEADLINE:?}",
                timed.len()
            ),
        ));
    }
    let mut latencies: Vec<f64> = {
        let arrived = arrivals.lock().map_err(|_| poisoned(phase))?;
        timed
            .iter()
            .filter_map(|sent| {
                let at = arrived.get(&sent.seq)?;
                Some(at.saturating_duration_since(sent.due).as_secs_f64() * 1000.0)
            })
            .collect()
    };
    latencies.sort_by(f64::total_cmp);
    // Not a figure: how much of the latency is the ingest reply (due → answer).
    let mut replies: Vec<f64> = timed
        .iter()
        .map(|sent| {
            sent.answered
                .saturating_duration_since(sent.due)
                .as_secs_f64()
                * 1000.0
        })
        .collect();
    replies.sort_by(f64::total_cmp);
    let sample = LatencySample {
        p50_ms: percentile(&latencies, 0.50),
        p99_ms: percentile(&latencies, 0.99),
        p999_ms: percentile(&latencies, 0.999),
        timed: latencies.len(),
    };
    say(format!(
        "  {} events timed ({missing} did not arrive): p50 {:.1} ms, p99 {:.1} ms, p99.9 {:.1} ms \
         (of which the ingest reply: p50 {:.1} ms, p99 {:.1} ms)",
        sample.timed,
        sample.p50_ms,
        sample.p99_ms,
        sample.p999_ms,
        percentile(&replies, 0.50),
        percentile(&replies, 0.99),
    ));
    Ok(sample)
}

/// Ticks once per event when it is due, from a thread of its own.
///
/// Tokio's timer has a resolution of one millisecond and rounds up, so `sleep_until`
/// would send each event up to a millisecond late — at 1,000 events/s that is the
/// harness's own lateness, charged to the latency measured from the due time. A thread's
/// sleep wakes within tens of microseconds. The thread ends when the receiver is dropped.
fn pacer(
    total: usize,
    due_at: impl Fn(usize) -> Instant + Send + 'static,
) -> mpsc::UnboundedReceiver<()> {
    let (tick, ticks) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for index in 0..total {
            let wait = due_at(index).saturating_duration_since(Instant::now());
            if !wait.is_zero() {
                std::thread::sleep(wait);
            }
            if tick.send(()).is_err() {
                return;
            }
        }
    });
    ticks
}

fn poisoned(phase: &str) -> BenchError {
    BenchError::wrong(phase, "a stream reader panicked")
}

/// Reads one live stream until aborted, recording when each sequence arrives.
async fn read_stream(
    address: std::net::SocketAddr,
    path: String,
    token: String,
    arrivals: Arrivals,
) -> Result<(), BenchError> {
    let phase = format!("reading {path}");
    let failed = |error: http1::HttpError| BenchError::gateway(&phase, error);
    let connection = http1::Connection::connect(address).await.map_err(failed)?;
    let mut stream = connection
        .open_events(&path, &token)
        .await
        .map_err(failed)?;
    while let Some(arrival) = stream.next().await.map_err(failed)? {
        if let Some(seq) = arrival.id {
            arrivals
                .lock()
                .map_err(|_| poisoned(&phase))?
                .insert(seq, arrival.at);
        }
    }
    Err(BenchError::gateway(&phase, "the live stream ended"))
}

/// Posts request `i` when it is due, each on a free connection; returns every answered
/// event with when it was due.
async fn send_paced(
    target: &LiveTarget<'_>,
    requests: Vec<Request>,
    actual: &[bool],
    warmup: usize,
    rate: u32,
    phase: &str,
) -> Result<Vec<Sent>, BenchError> {
    let total = requests.len();
    let period = Duration::from_secs_f64(1.0 / f64::from(rate));
    let idle: Arc<Mutex<Vec<http1::Connection>>> = Arc::new(Mutex::new(Vec::new()));
    let (answers, mut answered) = mpsc::unbounded_channel::<Sent>();
    let mut senders = JoinSet::new();
    let mut progress = Progress::new(phase, total as u64);
    let start = Instant::now() + Duration::from_millis(20);
    let due_at = move |index: usize| start + period.mul_f64(index as f64);
    let mut ticks = pacer(total, due_at);
    for (index, request) in requests.into_iter().enumerate() {
        let due = due_at(index);
        if ticks.recv().await.is_none() {
            return Err(BenchError::wrong(phase, "the pacer thread stopped"));
        }
        while let Some(finished) = senders.try_join_next() {
            finished.map_err(|error| BenchError::wrong(phase, error))??;
        }
        let idle = Arc::clone(&idle);
        let answers = answers.clone();
        let token = Arc::clone(&target.tokens);
        let address = target.address;
        let timed = index >= warmup && actual.get(index).copied().unwrap_or(false);
        let phase = phase.to_owned();
        senders.spawn(async move {
            let pooled = idle.lock().map_err(|_| poisoned(&phase))?.pop();
            let mut connection = match pooled {
                Some(connection) => connection,
                None => http1::Connection::connect(address)
                    .await
                    .map_err(|error| BenchError::gateway(&phase, format!("connecting: {error}")))?,
            };
            let sequences =
                post_request(&mut connection, &token[request.sender], &request, &phase).await?;
            idle.lock().map_err(|_| poisoned(&phase))?.push(connection);
            let answered = Instant::now();
            for seq in sequences {
                let _ = answers.send(Sent {
                    seq,
                    due,
                    answered,
                    timed,
                });
            }
            Ok::<(), BenchError>(())
        });
        progress.tick_now(index as u64 + 1);
    }
    drop(answers);
    while let Some(finished) = senders.join_next().await {
        finished.map_err(|error| BenchError::wrong(phase, error))??;
    }
    progress.done();
    let mut sent = Vec::with_capacity(total);
    while let Some(one) = answered.recv().await {
        sent.push(one);
    }
    let late = Instant::now().saturating_duration_since(start + period.mul_f64(total as f64));
    if late > Duration::from_secs(1) {
        say(format!(
            "  the sender finished {:.1} s behind schedule: the gateway did not keep up with {rate} events/s",
            late.as_secs_f64()
        ));
    }
    Ok(sent)
}
