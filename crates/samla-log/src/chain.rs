//! Tamper evidence: a hash chain over the log.
//!
//! Link *n* = SHA-256(link *n−1* ‖ seq ‖ subject ‖ `recorded_at` ‖ the event's bytes), every
//! field length-prefixed, starting from SHA-256(`"samla log chain v1"`). A second chain over
//! the *content* only (seq ‖ subject ‖ bytes) tells a re-written log (every `recorded_at`
//! differs: the chain departs at once, the content chain does not) from a changed event
//! (the content chain departs where the event is).
//!
//! Heads are anchored outside the read models: [`ChainExport`] holds a link every N
//! sequences and the head, to be kept by other organisations; [`compare`] recomputes and
//! names the first exported interval where the log departs, and with per-event
//! fingerprints in the export, the first sequence.
//!
//! The chain is computed from the stream, never stored in it: nothing here writes.

use proto_events::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::{Log, LogError, ReadRange};

/// The export format's version.
pub const CHAIN_VERSION: u32 = 1;

/// The link before the first event.
pub fn genesis() -> [u8; 32] {
    Sha256::digest(b"samla log chain v1").into()
}

/// The next link of the full chain.
pub fn link(
    previous: &[u8; 32],
    seq: u64,
    subject: &str,
    recorded_at: Timestamp,
    bytes: &[u8],
) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(previous);
    hash.update(seq.to_be_bytes());
    hash.update((subject.len() as u64).to_be_bytes());
    hash.update(subject.as_bytes());
    hash.update(recorded_at.as_unix_nanos().to_be_bytes());
    hash.update((bytes.len() as u64).to_be_bytes());
    hash.update(bytes);
    hash.finalize().into()
}

/// The next link of the content chain (no `recorded_at`).
pub fn content_link(previous: &[u8; 32], seq: u64, subject: &str, bytes: &[u8]) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(previous);
    hash.update(seq.to_be_bytes());
    hash.update((subject.len() as u64).to_be_bytes());
    hash.update(subject.as_bytes());
    hash.update((bytes.len() as u64).to_be_bytes());
    hash.update(bytes);
    hash.finalize().into()
}

/// One exported point of the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainPoint {
    pub seq: u64,
    pub recorded_at: Option<Timestamp>,
    /// The full chain's link at `seq`, hex.
    pub link: String,
    /// The content chain's link at `seq`, hex.
    pub content: String,
}

/// What `samla verify --export-head` writes and `--against` reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainExport {
    pub version: u32,
    /// The stream the chain was computed from.
    pub stream: String,
    /// A point every this many sequences.
    pub every: u64,
    /// The points at multiples of `every`, in order.
    pub points: Vec<ChainPoint>,
    /// The head: the point at the last sequence.
    pub head: ChainPoint,
    /// Per-sequence content fingerprints (16 hex digits each, index = seq − 1), when asked
    /// for: they let a comparison name the first changed sequence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprints: Option<Vec<String>>,
}

/// The chain carried forward one record at a time: what [`compute`] folds, and what a
/// server keeps to show the head without recomputing from the start.
#[derive(Debug, Clone)]
pub struct Chain {
    full: [u8; 32],
    content: [u8; 32],
    head: ChainPoint,
}

impl Default for Chain {
    fn default() -> Self {
        Chain {
            full: genesis(),
            content: genesis(),
            head: ChainPoint {
                seq: 0,
                recorded_at: None,
                link: hex::encode(genesis()),
                content: hex::encode(genesis()),
            },
        }
    }
}

impl Chain {
    /// The point at the last record pushed (sequence 0: none yet).
    pub fn head(&self) -> &ChainPoint {
        &self.head
    }

    /// Extends the chain by the next record; a record out of order is refused (a gap must
    /// not pass: the log denies deletes, so one means another log).
    pub fn push(&mut self, record: &crate::RawRecord) -> Result<&ChainPoint, LogError> {
        let seq = record.seq();
        let expected = self.head.seq + 1;
        if seq != expected {
            return Err(LogError::protocol(
                "the chain",
                format!("sequence {expected} is missing from the log (next is {seq})"),
            ));
        }
        let bytes = record.payload();
        self.full = link(
            &self.full,
            seq,
            record.subject(),
            record.recorded_at(),
            bytes,
        );
        self.content = content_link(&self.content, seq, record.subject(), bytes);
        self.head = ChainPoint {
            seq,
            recorded_at: Some(record.recorded_at()),
            link: hex::encode(self.full),
            content: hex::encode(self.content),
        };
        Ok(&self.head)
    }

    /// Extends the chain to the log's head as it is now; returns the new head.
    pub async fn catch_up(&mut self, log: &Log) -> Result<&ChainPoint, LogError> {
        let head_seq = log.head().await?.last_seq;
        if head_seq > self.head.seq {
            let mut records = log
                .read(ReadRange::span(self.head.seq + 1, head_seq))
                .await?;
            while let Some(record) = records.next().await {
                self.push(&record?)?;
            }
        }
        Ok(&self.head)
    }
}

/// Computes the chain of the whole log (as it is when the call starts). `progress` is
/// called with each sequence every 10,000 events.
pub async fn compute(
    log: &Log,
    every: u64,
    fingerprints: bool,
    mut progress: impl FnMut(u64),
) -> Result<ChainExport, LogError> {
    let every = every.max(1);
    let head_seq = log.head().await?.last_seq;
    let mut chain = Chain::default();
    let mut points = Vec::new();
    let mut prints = fingerprints.then(Vec::new);
    if head_seq > 0 {
        let mut records = log.read(ReadRange::span(1, head_seq)).await?;
        while let Some(record) = records.next().await {
            let record = record?;
            let seq = record.seq();
            let point = chain.push(&record)?;
            if seq % every == 0 {
                points.push(point.clone());
            }
            if let Some(prints) = prints.as_mut() {
                prints.push(hex::encode(
                    &content_link(&genesis(), seq, record.subject(), record.payload())[..8],
                ));
            }
            if seq % 10_000 == 0 {
                progress(seq);
            }
        }
    }
    Ok(ChainExport {
        version: CHAIN_VERSION,
        stream: log.config().stream_name.clone(),
        every,
        points,
        head: chain.head().clone(),
        fingerprints: prints,
    })
}

/// An interval of sequences `(after, up_to]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Interval {
    pub after: u64,
    pub up_to: u64,
}

/// What a comparison found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// The last exported sequence compared (the export's head, or the log's if shorter).
    pub compared_to: u64,
    /// The log is shorter than the export: events the export saw are gone.
    pub missing_after: Option<u64>,
    /// The first exported interval where the full chain departs (content or time).
    pub chain_departs: Option<Interval>,
    /// The first exported interval where the content chain departs (an event changed,
    /// added or removed; not only re-recorded).
    pub content_departs: Option<Interval>,
    /// The first sequence whose content differs, when the export has fingerprints.
    pub first_changed_seq: Option<u64>,
    /// Events in the log beyond the export's head (not covered by it).
    pub beyond_export: u64,
}

impl Verdict {
    /// The log is the log that was exported (up to the export's head).
    pub fn intact(&self) -> bool {
        self.missing_after.is_none()
            && self.chain_departs.is_none()
            && self.content_departs.is_none()
    }
}

/// Compares the chain of the log now (`actual`, computed with the same `every`) with an
/// earlier export.
pub fn compare(earlier: &ChainExport, actual: &ChainExport) -> Verdict {
    let mut checkpoints: Vec<&ChainPoint> = earlier.points.iter().collect();
    if checkpoints.last().map(|p| p.seq) != Some(earlier.head.seq) && earlier.head.seq > 0 {
        checkpoints.push(&earlier.head);
    }
    let actual_at = |seq: u64| -> Option<&ChainPoint> {
        if actual.head.seq == seq {
            return Some(&actual.head);
        }
        actual.points.iter().find(|p| p.seq == seq)
    };
    let mut verdict = Verdict {
        compared_to: earlier.head.seq.min(actual.head.seq),
        missing_after: (actual.head.seq < earlier.head.seq).then_some(actual.head.seq),
        chain_departs: None,
        content_departs: None,
        first_changed_seq: None,
        beyond_export: actual.head.seq.saturating_sub(earlier.head.seq),
    };
    let mut previous = 0u64;
    for point in checkpoints {
        let Some(now) = actual_at(point.seq) else {
            // Past the log's end (missing_after says so) or not a shared point.
            if point.seq > actual.head.seq {
                let interval = Interval {
                    after: previous,
                    up_to: point.seq,
                };
                verdict.chain_departs.get_or_insert(interval);
                verdict.content_departs.get_or_insert(interval);
                break;
            }
            continue;
        };
        let interval = Interval {
            after: previous,
            up_to: point.seq,
        };
        if now.link != point.link {
            verdict.chain_departs.get_or_insert(interval);
        }
        if now.content != point.content {
            verdict.content_departs.get_or_insert(interval);
            break;
        }
        previous = point.seq;
    }
    if let (Some(interval), Some(before), Some(after)) = (
        verdict.content_departs,
        &earlier.fingerprints,
        &actual.fingerprints,
    ) {
        verdict.first_changed_seq = (interval.after + 1..=interval.up_to).find(|seq| {
            let index = (*seq - 1) as usize;
            before.get(index) != after.get(index)
        });
    }
    verdict
}
