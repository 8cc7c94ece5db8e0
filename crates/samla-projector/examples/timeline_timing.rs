//! Timeline page latency on a generated crisis, in memory (a measurement, not a test):
//! `cargo run --release -p samla-projector --example timeline_timing -- 300000`.
//!
//! Folds the first N events of the seeded crisis (the bench's seed), then times
//! `Timeline::latest` — one page of 50, as `GET /v1/incidents/{id}/timeline` asks — in
//! three facets (the whole timeline, one kind, one organisation), for every scope.

use bytes::Bytes;
use samla_projector::RawEvent;

fn main() -> Result<(), samla_projector::ProjectorError> {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(300_000);
    let raws: Vec<RawEvent> = samla_sim::generate_n(0x5a4d_4c41, n)
        .iter()
        .enumerate()
        .map(|(index, envelope)| RawEvent {
            seq: index as u64 + 1,
            recorded_at: envelope.occurred_at.plus_seconds(1),
            subject: envelope.subject().to_string(),
            bytes: Bytes::from(proto_events::codec::encode_msgpack(envelope)),
        })
        .collect();
    let (folder, _) = samla_projector::fold_in_memory(&raws, 2000)?;
    let scopes: Vec<_> = folder.models.picture.scopes().into_iter().collect();
    let m = &folder.models;
    println!("chunks {}, scopes {}", m.timeline.table.len(), scopes.len());
    for facet in ["all", "k.need_raised", "o.kommun"] {
        let started = std::time::Instant::now();
        let mut total = 0;
        for _ in 0..20 {
            for scope in &scopes {
                total += m
                    .timeline
                    .latest(scope, facet, |_| true, u64::MAX, 50)
                    .len();
            }
        }
        println!(
            "latest {facet}: {:?} per call ({total})",
            started.elapsed() / (20 * scopes.len() as u32)
        );
    }
    Ok(())
}
