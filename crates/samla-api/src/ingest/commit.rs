//! Group commit: one committer gathers the admitted items of concurrent requests from both
//! doors and appends them together with `Log::append_requests`, so one sync covers many
//! events (with `sync_interval: always`, a plain publish is synced alone), and the requests
//! share atomic batches (each request's order kept, see samla-log's `batch.rs`).
//!
//! How a batch forms: the committer first waits for a free slot (at most
//! `max_batches_in_flight` batches are appended at once), then for a first submission, then
//! gathers more for at most `commit_window` or until `max_batch_items`, whichever comes
//! first. While every slot is busy, submissions wait in the queue, so batches grow with
//! load and stay small (low latency) when it is quiet. With atomic commits (a server that
//! syncs every write) the ingest service runs one slot and no window: classic group
//! commit, where everything that arrives while one batch is synced goes in the next.
//!
//! Guarantees:
//! - A request's items are never split across batches (a submission that does not fit
//!   waits for the next batch), so the log keeps a request's order even with several
//!   batches in flight; `append_requests` keeps each request's order inside a batch.
//! - A reply is sent only when `append_requests` has answered for the items, that is when the
//!   server has acknowledged them (durable with `sync_interval: always`).
//! - One item's duplicate, conflict or refusal never fails another: `append_requests`
//!   answers every item on its own (a failed atomic batch is re-sent event by event).
//! - On close, queued submissions are still committed; later ones are answered
//!   "unavailable" without touching the log.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use samla_log::{AppendItem, Appended, Log, LogError};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};
use tokio::task::JoinSet;
use tokio::time::Instant;

/// What one committed item got: where it landed, or why not.
pub(crate) type ItemOutcome = Result<Appended, LogError>;

/// How batches are formed.
#[derive(Debug, Clone)]
pub(crate) struct CommitSettings {
    pub(crate) window: Duration,
    pub(crate) max_batch_items: usize,
    pub(crate) max_batches_in_flight: usize,
    pub(crate) queue_capacity: usize,
}

/// Counters of the committer, for tests and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CommitStats {
    /// `append_requests` calls made (one per gathered batch).
    pub batches: u64,
    /// Items handed to `append_requests` in total.
    pub items: u64,
    /// Requests (submissions) committed in total.
    pub submissions: u64,
    /// The most items one batch held.
    pub largest_batch: u64,
}

#[derive(Debug, Default)]
struct Counters {
    batches: AtomicU64,
    items: AtomicU64,
    submissions: AtomicU64,
    largest_batch: AtomicU64,
}

#[derive(Debug)]
struct Submission {
    items: Vec<AppendItem>,
    reply: oneshot::Sender<Vec<ItemOutcome>>,
}

#[derive(Debug)]
enum Command {
    Submit(Submission),
    /// Commit what is queued, then stop.
    Close,
}

/// The way into the committer. Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct CommitHandle {
    sender: mpsc::Sender<Command>,
    counters: Arc<Counters>,
    task: Arc<tokio::sync::Mutex<Option<tokio::task::JoinHandle<()>>>>,
}

impl CommitHandle {
    /// Starts the committer on the current runtime.
    pub(crate) fn spawn(log: Log, settings: CommitSettings) -> CommitHandle {
        let (sender, receiver) = mpsc::channel(settings.queue_capacity.max(1));
        let counters = Arc::new(Counters::default());
        let task = tokio::spawn(run_committer(
            log,
            settings,
            receiver,
            Arc::clone(&counters),
        ));
        CommitHandle {
            sender,
            counters,
            task: Arc::new(tokio::sync::Mutex::new(Some(task))),
        }
    }

    /// Appends `items` with the next batch and answers each in order, once acknowledged.
    pub(crate) async fn submit(&self, items: Vec<AppendItem>) -> Vec<ItemOutcome> {
        let count = items.len();
        if count == 0 {
            return Vec::new();
        }
        let (reply, answer) = oneshot::channel();
        let command = Command::Submit(Submission { items, reply });
        if self.sender.send(command).await.is_err() {
            return unavailable(count, "the ingest service is shutting down");
        }
        match answer.await {
            Ok(outcomes) if outcomes.len() == count => outcomes,
            Ok(_) | Err(_) => unavailable(
                count,
                "the commit of this request was abandoned (outcome unknown)",
            ),
        }
    }

    pub(crate) fn stats(&self) -> CommitStats {
        CommitStats {
            batches: self.counters.batches.load(Ordering::Relaxed),
            items: self.counters.items.load(Ordering::Relaxed),
            submissions: self.counters.submissions.load(Ordering::Relaxed),
            largest_batch: self.counters.largest_batch.load(Ordering::Relaxed),
        }
    }

    /// Commits everything queued, then stops the committer and waits for it. Later
    /// submissions are answered "unavailable". Idempotent.
    pub(crate) async fn close(&self) {
        // If the committer is gone already, there is nothing to tell it.
        let _ = self.sender.send(Command::Close).await;
        let task = self.task.lock().await.take();
        if let Some(task) = task
            && let Err(error) = task.await
        {
            tracing::error!(%error, "the committer task failed");
        }
    }
}

fn unavailable(count: usize, reason: &str) -> Vec<ItemOutcome> {
    (0..count)
        .map(|_| {
            Err(LogError::Unavailable {
                reason: reason.to_owned(),
            })
        })
        .collect()
}

async fn run_committer(
    log: Log,
    settings: CommitSettings,
    mut receiver: mpsc::Receiver<Command>,
    counters: Arc<Counters>,
) {
    let max_items = settings.max_batch_items.max(1);
    let slots = Arc::new(Semaphore::new(settings.max_batches_in_flight.max(1)));
    let mut in_flight = JoinSet::new();
    let mut held: Option<Submission> = None;
    loop {
        // A free slot first: while all are busy, the queue fills and the next batch grows.
        let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
            break;
        };
        while let Some(finished) = in_flight.try_join_next() {
            report_panic(finished);
        }
        let first = match held.take() {
            Some(submission) => submission,
            None => match receiver.recv().await {
                Some(Command::Submit(submission)) => submission,
                Some(Command::Close) | None => break,
            },
        };
        let mut count = first.items.len();
        let mut batch = vec![first];
        let deadline = Instant::now() + settings.window;
        let mut closing = false;
        while count < max_items {
            let next = if settings.window.is_zero() {
                // No window: what is queued now, without waiting for the timer.
                match receiver.try_recv() {
                    Ok(command) => Some(command),
                    Err(mpsc::error::TryRecvError::Empty) => break,
                    Err(mpsc::error::TryRecvError::Disconnected) => None,
                }
            } else {
                tokio::select! {
                    biased;
                    next = receiver.recv() => next,
                    () = tokio::time::sleep_until(deadline) => break,
                }
            };
            match next {
                Some(Command::Submit(submission)) => {
                    if count + submission.items.len() > max_items {
                        held = Some(submission);
                        break;
                    }
                    count += submission.items.len();
                    batch.push(submission);
                }
                Some(Command::Close) | None => {
                    closing = true;
                    break;
                }
            }
        }
        in_flight.spawn(commit(log.clone(), batch, Arc::clone(&counters), slot));
        if closing {
            break;
        }
    }

    // Closing: nothing new gets in; what was queued before is still committed.
    receiver.close();
    let mut rest: Vec<Submission> = held.into_iter().collect();
    while let Some(command) = receiver.recv().await {
        if let Command::Submit(submission) = command {
            rest.push(submission);
        }
    }
    let mut batch = Vec::new();
    let mut count = 0;
    for submission in rest {
        if count > 0 && count + submission.items.len() > max_items {
            spawn_with_slot(
                &mut in_flight,
                &slots,
                &log,
                std::mem::take(&mut batch),
                &counters,
            )
            .await;
            count = 0;
        }
        count += submission.items.len();
        batch.push(submission);
    }
    if !batch.is_empty() {
        spawn_with_slot(&mut in_flight, &slots, &log, batch, &counters).await;
    }
    while let Some(finished) = in_flight.join_next().await {
        report_panic(finished);
    }
}

async fn spawn_with_slot(
    in_flight: &mut JoinSet<()>,
    slots: &Arc<Semaphore>,
    log: &Log,
    batch: Vec<Submission>,
    counters: &Arc<Counters>,
) {
    if let Ok(slot) = Arc::clone(slots).acquire_owned().await {
        in_flight.spawn(commit(log.clone(), batch, Arc::clone(counters), slot));
    }
}

fn report_panic(finished: Result<(), tokio::task::JoinError>) {
    if let Err(error) = finished {
        // The submissions' senders were dropped with the task: their requests answer
        // "abandoned (outcome unknown)", and a retry with the same ids is safe.
        tracing::error!(%error, "a commit task failed");
    }
}

/// Appends one gathered batch and answers every submission in it.
async fn commit(
    log: Log,
    batch: Vec<Submission>,
    counters: Arc<Counters>,
    _slot: OwnedSemaphorePermit,
) {
    let mut replies = Vec::with_capacity(batch.len());
    let mut requests = Vec::with_capacity(batch.len());
    for submission in batch {
        replies.push(submission.reply);
        requests.push(submission.items);
    }
    let total: u64 = requests.iter().map(|items| items.len() as u64).sum();
    counters.batches.fetch_add(1, Ordering::Relaxed);
    counters.items.fetch_add(total, Ordering::Relaxed);
    counters
        .submissions
        .fetch_add(requests.len() as u64, Ordering::Relaxed);
    counters.largest_batch.fetch_max(total, Ordering::Relaxed);

    let outcomes = log.append_requests(requests).await;
    for (mine, reply) in outcomes.into_iter().zip(replies) {
        // The requester may have given up (timeout); its events are stored all the same,
        // and a retry with the same ids is answered as duplicates.
        let _ = reply.send(mine);
    }
}
