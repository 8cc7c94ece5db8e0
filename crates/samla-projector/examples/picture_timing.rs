//! How long the incident picture takes on a large generated crisis (a measurement, not a
//! test; no nats-server needed):
//! `cargo run --release -p samla-projector --example picture_timing -- 300000 [rounds]`.
//!
//! Folds N generated events in memory (timing the fold), then times
//! [`samla_projector::views::picture::picture`] for three viewers (an organisation of the
//! network, a share token, the operator) at several `now`s, on the whole log and on the
//! state halfway through it, and [`samla_projector::views::picture::picture_by_area`] for
//! each viewer, `rounds` times over (default 3). Prints p50, p95 and the worst of each.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use proto_events::{Status, Timestamp, codec};
use samla_projector::views::picture::{picture, picture_by_area};
use samla_projector::{Folder, Prepared, RawEvent, Scope, Viewer, prepare};

fn summary(label: &str, mut times: Vec<Duration>) {
    times.sort();
    let at = |q: f64| times[((times.len() as f64 - 1.0) * q).round() as usize];
    println!(
        "{label}: p50 {:?}  p95 {:?}  max {:?}  ({} pictures)",
        at(0.5),
        at(0.95),
        times[times.len() - 1],
        times.len()
    );
}

fn time_pictures(
    label: &str,
    folder: &Folder,
    scope: &Scope,
    viewers: &[Viewer],
    nows: &[Timestamp],
    rounds: usize,
) {
    let mut times = Vec::new();
    let mut open_needs = 0;
    for _round in 0..rounds {
        for viewer in viewers {
            for now in nows {
                let started = Instant::now();
                let shown = picture(&folder.models, scope, viewer, *now);
                times.push(started.elapsed());
                open_needs = shown.needs.open;
            }
        }
    }
    summary(label, times);
    println!("  (open needs seen by the last viewer: {open_needs})");
}

fn main() -> anyhow::Result<()> {
    let events: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(300_000);
    let rounds: usize = std::env::args()
        .nth(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let started = Instant::now();
    let generated = samla_sim::generate_n(7, events);
    let raw: Vec<RawEvent> = generated
        .iter()
        .enumerate()
        .map(|(index, envelope)| RawEvent {
            seq: index as u64 + 1,
            // Recorded a second after it happened (late reports included): close enough
            // for a measurement of the views.
            recorded_at: envelope.occurred_at.plus_seconds(1),
            subject: envelope.subject().to_string(),
            bytes: Bytes::from(codec::encode_msgpack(envelope)),
        })
        .collect();
    println!("generated {events} events in {:?}", started.elapsed());

    let by_seq: HashMap<u64, &RawEvent> = raw.iter().map(|e| (e.seq, e)).collect();
    let mut folder = Folder::new();
    let mut halfway = None;
    let mut fold_time = Duration::ZERO;
    for chunk in raw.chunks(1_000) {
        let batch: Vec<Prepared> = chunk.iter().map(prepare).collect();
        let fetched: HashMap<u64, Prepared> = folder
            .wanted(&batch)
            .into_iter()
            .filter_map(|seq| by_seq.get(&seq).map(|event| (seq, prepare(event))))
            .collect();
        let started = Instant::now();
        folder.apply_batch(batch, &fetched);
        folder.discard_changes();
        fold_time += started.elapsed();
        if halfway.is_none() && folder.applied_seq() >= events as u64 / 2 {
            halfway = Some(folder.clone());
        }
    }
    println!("folded {events} events in memory in {fold_time:?} (prepare excluded)");
    println!(
        "restricted slices: {}; {:?}; needs rows: {}; issues rows: {}",
        folder.models.slices.len(),
        folder.models.picture,
        folder.models.needs.len(),
        folder.models.issues.len(),
    );

    let first = generated
        .first()
        .ok_or_else(|| anyhow::anyhow!("no events"))?;
    let scope = Scope {
        incident: first.incident.clone(),
        status: Status::Actual,
    };
    let (earliest, latest) = generated
        .iter()
        .fold((first.occurred_at, first.occurred_at), |(lo, hi), e| {
            (lo.min(e.occurred_at), hi.max(e.occurred_at))
        });
    let span = latest.seconds_since(earliest);
    let nows: Vec<Timestamp> = [1, 2, 3, 4]
        .iter()
        .map(|quarter| earliest.plus_seconds(span * quarter / 4))
        .chain([latest.plus_seconds(86_400)])
        .collect();
    let viewers = [
        Viewer::Org(first.org.clone()),
        Viewer::Share,
        Viewer::Operator,
    ];
    time_pictures(
        "picture, whole log",
        &folder,
        &scope,
        &viewers,
        &nows,
        rounds,
    );
    if let Some(halfway) = &halfway {
        time_pictures(
            "picture, state halfway",
            halfway,
            &scope,
            &viewers,
            &nows,
            rounds,
        );
    }
    let area = first.area.as_str().to_string();
    let mut times = Vec::new();
    for viewer in viewers.iter().cycle().take(viewers.len() * rounds) {
        let started = Instant::now();
        let rolled = picture_by_area(&folder.models, &area, Status::Actual, viewer, latest);
        times.push(started.elapsed());
        assert!(!rolled.incidents.is_empty(), "the area holds the incident");
    }
    summary("picture_by_area, whole log", times);
    Ok(())
}
