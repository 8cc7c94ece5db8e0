//! The rebuild taken apart: the engine's steps run one after another in this process, with
//! the projector's own public pieces, each timed alone — so a slow rebuild says where its
//! time goes. Per batch of `batch_max` events, as `samla_projector::engine` does it behind
//! the head (steps 5 and 6 once per `EngineConfig::write_every` events or
//! `EngineConfig::write_rows` changed rows, as the engine coalesces its writes then):
//!
//! 1. **read**: the next events from `samla_log::Log::read` (the projector's reader);
//! 2. **prepare**: `samla_projector::prepare` — decode, validate (with the personal-data
//!    guard) and check the subject; `proto_events::decode_msgpack` alone is timed too, on
//!    the same bytes, to split decoding from the rest;
//! 3. **fetch**: the superseded events the batch's corrections and retractions need
//!    (`Folder::wanted`), read back the way the engine's `fetch` does — one bounded
//!    `Log::read` per sequence. For comparison only, the same sequences are then fetched
//!    by direct get (`$JS.API.DIRECT.GET`, the stream allows it), which the engine does not
//!    use;
//! 4. **fold**: `Folder::apply_batch`, pure, in memory;
//! 5. **encode**: `Folder::drain_changes` — the changed rows, ids and checkpoint encoded;
//! 6. **write**: `SledStore::apply` (one atomic sled batch), plus the final flush.
//!
//! In the engine, reading overlaps the rest (a reader task fills a channel); here nothing
//! overlaps, so the stages add up to more than the rebuild's wall time when the reader was
//! hidden behind the work.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use samla_log::{Log, ReadRange};
use samla_projector::{Folder, KvStore, Prepared, RawEvent, SledStore, prepare};

use crate::error::BenchError;
use crate::progress::Progress;

/// Time spent in each stage over the whole log, and what was written.
#[derive(Debug, Clone, Default)]
pub(crate) struct StageSample {
    pub read: Duration,
    pub decode: Duration,
    pub prepare: Duration,
    pub fetch: Duration,
    pub fetch_direct: Duration,
    pub fold: Duration,
    pub encode: Duration,
    pub write: Duration,
    /// Within the fold: reading rows back from sled (and decoding them).
    pub row_reads: Duration,
    /// Reads of rows (or of an aggregate's rows) back from sled.
    pub rows_read: u64,
    /// Superseded events fetched.
    pub fetches: u64,
    /// Keys written (rows, id-index chunks, checkpoints) and their bytes (key + value).
    pub rows_written: u64,
    pub bytes_written: u64,
    /// Keys and bytes written per table (`m/<table>`, `x/idb`, `x/corr`, `meta`).
    pub by_table: BTreeMap<String, (u64, u64)>,
    /// Bytes the fold state held at the end, by read model (`None` without jemalloc).
    pub held_by_model: Option<BTreeMap<String, u64>>,
}

/// The table a key belongs to: its first two `/`-separated parts.
fn table_of(key: &[u8]) -> String {
    let text = String::from_utf8_lossy(key);
    let mut parts = text.splitn(3, '/');
    match (parts.next(), parts.next()) {
        (Some("meta"), _) | (Some(_), None) => text.split('/').next().unwrap_or("").to_owned(),
        (Some(first), Some(second)) => format!("{first}/{second}"),
        _ => String::new(),
    }
}

fn project_error(phase: &str) -> impl Fn(samla_projector::ProjectorError) -> BenchError + '_ {
    move |error| BenchError::wrong(phase, error)
}

/// Runs the stages over sequences `1..=last_seq` of `log`, writing into a fresh sled
/// folder at `folder`.
pub(crate) async fn rebuild_stages(
    log: &Log,
    last_seq: u64,
    options: &crate::BenchOptions,
    folder: &Path,
    phase: &str,
) -> Result<StageSample, BenchError> {
    let (batch_max, write_every) = (options.batch_max, options.write_every);
    let mut store = SledStore::open(folder).map_err(project_error(phase))?;
    let jetstream = async_nats::jetstream::new(log.connection().nats_client().clone());
    let stream = jetstream
        .get_stream(&log.config().stream_name)
        .await
        .map_err(|error| BenchError::nats(phase, error))?;
    // Backed by the store, as the engine keeps it: rows leave memory once written, and
    // the fold reads them back from sled when an event touches them again.
    let mut building = Folder::new();
    building.attach(&store.backing());
    let mut sample = StageSample::default();
    let mut progress = Progress::new(phase, last_seq);
    let mut records = log
        .read(ReadRange::span(1, last_seq))
        .await
        .map_err(|error| BenchError::nats(phase, error))?;
    let mut unwritten = 0usize;
    let mut done = 0u64;
    loop {
        let started = Instant::now();
        let mut raws: Vec<RawEvent> = Vec::with_capacity(batch_max);
        while raws.len() < batch_max {
            match records.next().await {
                Some(record) => {
                    raws.push(RawEvent::from(
                        record.map_err(|error| BenchError::nats(phase, error))?,
                    ));
                }
                None => break,
            }
        }
        sample.read += started.elapsed();
        if raws.is_empty() {
            break;
        }

        let started = Instant::now();
        for raw in &raws {
            let _ = black_box(proto_events::decode_msgpack(black_box(&raw.bytes)));
        }
        sample.decode += started.elapsed();

        let started = Instant::now();
        let prepared: Vec<Prepared> = raws.iter().map(prepare).collect();
        sample.prepare += started.elapsed();

        let started = Instant::now();
        let wanted = building.wanted(&prepared);
        let mut fetched = std::collections::HashMap::new();
        for &seq in &wanted {
            let records = log
                .read(ReadRange::span(seq, seq))
                .await
                .map_err(|error| BenchError::nats(phase, error))?
                .collect_all()
                .await
                .map_err(|error| BenchError::nats(phase, error))?;
            for record in records {
                let raw = RawEvent::from(record);
                fetched.insert(raw.seq, prepare(&raw));
            }
        }
        sample.fetch += started.elapsed();
        sample.fetches += wanted.len() as u64;

        let started = Instant::now();
        for &seq in &wanted {
            let message = stream
                .direct_get(seq)
                .await
                .map_err(|error| BenchError::nats(phase, error))?;
            black_box(message.payload.len());
        }
        sample.fetch_direct += started.elapsed();

        let started = Instant::now();
        building.apply_batch(prepared, &fetched);
        sample.fold += started.elapsed();
        done += raws.len() as u64;
        unwritten += raws.len();
        if unwritten < write_every
            && building.models.changed_rows() < options.write_rows
            && done < last_seq
        {
            progress.tick_now(done);
            continue;
        }
        unwritten = 0;

        let started = Instant::now();
        let changes = building.drain_changes();
        sample.encode += started.elapsed();
        for (key, value) in &changes {
            let bytes = (key.len() + value.as_ref().map_or(0, Vec::len)) as u64;
            sample.rows_written += 1;
            sample.bytes_written += bytes;
            let entry = sample.by_table.entry(table_of(key)).or_default();
            entry.0 += 1;
            entry.1 += bytes;
        }

        let started = Instant::now();
        store.apply(changes).map_err(project_error(phase))?;
        building.evict_over(options.resident_rows);
        sample.write += started.elapsed();
        progress.tick_now(done);
    }
    let started = Instant::now();
    store.flush().map_err(project_error(phase))?;
    sample.write += started.elapsed();
    progress.done();
    if building.applied_seq() != last_seq {
        return Err(BenchError::wrong(
            phase,
            format!(
                "folded up to {}, the log ends at {last_seq}",
                building.applied_seq()
            ),
        ));
    }
    (sample.rows_read, sample.row_reads) = building.models.store_reads();
    sample.held_by_model = crate::memory::held_by_model(building);
    Ok(sample)
}

#[cfg(test)]
mod tests {
    #[test]
    fn keys_map_to_tables() {
        assert_eq!(super::table_of(b"m/needs/inc/actual/n1/network"), "m/needs");
        assert_eq!(super::table_of(b"x/idb/0000000000000001"), "x/idb");
        assert_eq!(super::table_of(b"meta/checkpoint"), "meta");
    }
}
