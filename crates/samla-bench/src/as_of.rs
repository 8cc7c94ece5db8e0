//! As-of queries: the crisis' picture as known, and as happened, at random moments, on the
//! log the rebuild reads.
//!
//! A query is what an after-action review asks for: `samla_projector::Replayer::at_shared`
//! at a point (the call a server answering as-of queries makes; it keeps the last few
//! pictures, which random moments never hit), then the incident's picture
//! (`views::picture::picture`) for one organisation of the network at that moment. The
//! replayer runs in this process with its default settings (a snapshot every 10,000 events
//! along each line, the interval doubling so that a line keeps at most 32), its snapshots
//! in a fresh folder per sample, reading the log over NATS.
//!
//! Each sample, for each sense in turn (as known, then as happened):
//! 1. **first query**: on a fresh replayer, at the end of the line (the last recorded time,
//!    or the latest occurred time) — the worst a cold query costs: it folds the whole log,
//!    writing every snapshot along the line, and for "as happened" first builds the
//!    occurred-time index. This is the replayer's full fold, beside the projector's.
//! 2. **steady state**: `queries` queries at moments drawn uniformly (seeded) between the
//!    first and the last recorded time (as known) or the earliest and the latest occurred
//!    time (as happened); p50, p95 and max over those queries (nearest rank).

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use proto_events::{Status, Timestamp};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use samla_log::{Log, ReadRange};
use samla_projector::replay::{ReplayConfig, ReplayPoint, Replayer, Sense};
use samla_projector::{Scope, Viewer};

use crate::error::BenchError;
use crate::progress::{Progress, say};
use crate::report::names;
use crate::report::percentile;
use crate::run::{remove_folder, scratch_folder};

/// The moments a sense's queries are drawn from: the whole line.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Span {
    pub earliest: Timestamp,
    pub latest: Timestamp,
}

/// What one sense measured in one sample, in milliseconds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AsOfSample {
    pub first_ms: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub max_ms: f64,
}

/// The recorded-time span of the log: its first and last event's `recorded_at`.
pub(crate) async fn recorded_span(log: &Log, phase: &str) -> Result<Span, BenchError> {
    let failed = |error: samla_log::LogError| BenchError::nats(phase, error);
    let head = log.head().await.map_err(failed)?;
    let first = log
        .read(ReadRange::span(1, 1))
        .await
        .map_err(failed)?
        .collect_all()
        .await
        .map_err(failed)?;
    let (Some(first), Some(latest)) = (first.first(), head.last_recorded_at) else {
        return Err(BenchError::wrong(phase, "the log is empty"));
    };
    Ok(Span {
        earliest: first.recorded_at(),
        latest,
    })
}

/// Who asks, about what: the first organisation of the network, on the crisis' incident.
fn asker() -> (Scope, Viewer) {
    let config = samla_sim::CrisisConfig::demo();
    let viewer = samla_sim::organisations(&config)
        .into_iter()
        .next()
        .map_or(Viewer::Operator, |org| Viewer::Org(org.id));
    let scope = Scope {
        incident: config.incident,
        status: Status::Actual,
    };
    (scope, viewer)
}

/// One query: the replay and the picture. Returns its duration and how long the picture
/// alone took.
async fn query(
    replayer: &Replayer,
    point: ReplayPoint,
    scope: &Scope,
    viewer: &Viewer,
    phase: &str,
) -> Result<(Duration, Duration), BenchError> {
    let started = Instant::now();
    let replayed = replayer
        .at_shared(point)
        .await
        .map_err(|error| BenchError::wrong(phase, error))?;
    let viewing = Instant::now();
    let picture =
        samla_projector::views::picture::picture(&replayed.models, scope, viewer, replayed.at);
    black_box(&picture);
    Ok((started.elapsed(), viewing.elapsed()))
}

fn point(sense: Sense, at: Timestamp) -> ReplayPoint {
    match sense {
        Sense::Known => ReplayPoint::KnownAt(at),
        Sense::Happened => ReplayPoint::HappenedAt(at),
    }
}

fn between(rng: &mut StdRng, span: Span) -> Timestamp {
    let (low, high) = (span.earliest.as_unix_nanos(), span.latest.as_unix_nanos());
    if high <= low {
        return span.earliest;
    }
    Timestamp::from_unix_nanos(rng.random_range(low..=high)).unwrap_or(span.earliest)
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// One sample of one sense: a fresh replayer with its snapshots under `folder`, the first
/// query at the end of `span`, then `queries` at random moments from `seed`.
pub(crate) async fn measure(
    log: &Log,
    sense: Sense,
    span: Span,
    queries: usize,
    seed: u64,
    folder: &Path,
    phase: &str,
) -> Result<AsOfSample, BenchError> {
    let replayer = Replayer::open(log.clone(), folder.to_path_buf(), ReplayConfig::default())
        .map_err(|error| BenchError::wrong(phase, error))?;
    let (scope, viewer) = asker();
    let (first, first_view) =
        query(&replayer, point(sense, span.latest), &scope, &viewer, phase).await?;
    let cold = replayer.stats();
    let mut rng = StdRng::seed_from_u64(seed);
    let mut times = Vec::with_capacity(queries);
    let mut views = Vec::with_capacity(queries);
    let mut progress = Progress::counting(phase, queries as u64, "queries after the first");
    for done in 1..=queries {
        let at = between(&mut rng, span);
        let (took, view) = query(&replayer, point(sense, at), &scope, &viewer, phase).await?;
        times.push(ms(took));
        views.push(ms(view));
        progress.tick_now(done as u64);
    }
    progress.done();
    let stats = replayer.stats();
    times.sort_by(f64::total_cmp);
    views.sort_by(f64::total_cmp);
    let sample = AsOfSample {
        first_ms: ms(first),
        p50_ms: percentile(&times, 0.50),
        p95_ms: percentile(&times, 0.95),
        max_ms: times.last().copied().unwrap_or(0.0),
    };
    let steady_folded = stats.events_folded.saturating_sub(cold.events_folded);
    say(format!(
        "  first query {:.0} ms (of which the picture {:.0} ms; {} events folded, {} snapshots \
         written{}); then {queries} queries: p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms \
         (the picture alone: p50 {:.1} ms, p95 {:.1} ms; {} events folded per query on \
         average, {} snapshots loaded, {} answered from memory; snapshots on disk: {:.1} MiB)",
        sample.first_ms,
        ms(first_view),
        cold.events_folded,
        cold.snapshots_written,
        match sense {
            Sense::Happened => format!(", {} events indexed", cold.indexed_events),
            Sense::Known => String::new(),
        },
        sample.p50_ms,
        sample.p95_ms,
        sample.max_ms,
        percentile(&views, 0.50),
        percentile(&views, 0.95),
        steady_folded / (queries.max(1) as u64),
        stats.snapshots_loaded - cold.snapshots_loaded,
        stats.cache_hits - cold.cache_hits,
        crate::run::mebibytes(crate::rebuild::disk_usage(folder).unwrap_or(0)),
    ));
    Ok(sample)
}

/// The as-of figures: `repeat` samples, each of both senses on fresh replayers, on the log
/// the raw publish left (`config`'s stream on `connection`). `occurred` is the span of the
/// generated events' `occurred_at`. Every sample asks at the same moments (seeded by
/// `options.seed`), so the repeats vary the machine, not the question.
pub(crate) async fn measure_as_of(
    options: &crate::BenchOptions,
    connection: &samla_log::Connection,
    config: &samla_log::LogConfig,
    occurred: Option<Span>,
    results: &mut crate::run::Results,
) -> Result<(), BenchError> {
    let phase = "as-of queries";
    let log = Log::open(connection, config.clone())
        .await
        .map_err(|error| BenchError::nats(phase, error))?;
    let known_span = recorded_span(&log, phase).await?;
    let happened_span =
        occurred.ok_or_else(|| BenchError::wrong(phase, "no occurred times were recorded"))?;
    let (events, repeat, queries) = (options.events, options.repeat, options.as_of_queries);
    type Figures = [(&'static str, fn(&AsOfSample) -> f64); 4];
    let senses: [(Sense, Span, Figures); 2] = [
        (
            Sense::Known,
            known_span,
            [
                (names::AS_OF_KNOWN_FIRST, |s| s.first_ms),
                (names::AS_OF_KNOWN_P50, |s| s.p50_ms),
                (names::AS_OF_KNOWN_P95, |s| s.p95_ms),
                (names::AS_OF_KNOWN_MAX, |s| s.max_ms),
            ],
        ),
        (
            Sense::Happened,
            happened_span,
            [
                (names::AS_OF_HAPPENED_FIRST, |s| s.first_ms),
                (names::AS_OF_HAPPENED_P50, |s| s.p50_ms),
                (names::AS_OF_HAPPENED_P95, |s| s.p95_ms),
                (names::AS_OF_HAPPENED_MAX, |s| s.max_ms),
            ],
        ),
    ];
    for (index, (sense, span, figures)) in senses.into_iter().enumerate() {
        let mut samples = Vec::new();
        for round in 1..=repeat {
            let phase = format!("as-of queries as {} ({round}/{repeat})", sense.as_str());
            let folder = scratch_folder()?;
            let seed = options.seed.wrapping_add(index as u64);
            let sample = measure(
                &log,
                sense,
                span,
                queries,
                seed,
                &folder.path().join("snapshots"),
                &phase,
            )
            .await;
            remove_folder(folder).await;
            samples.push(sample?);
        }
        for (name, pick) in figures {
            results.add(name, samples.iter().map(pick).collect(), "ms", events);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_stay_in_the_span() {
        let span = Span {
            earliest: Timestamp::parse("2026-03-02T06:00:00Z").unwrap(),
            latest: Timestamp::parse("2026-03-23T17:00:00Z").unwrap(),
        };
        let mut rng = StdRng::seed_from_u64(1);
        for _ in 0..100 {
            let at = between(&mut rng, span);
            assert!(span.earliest <= at && at <= span.latest);
        }
        let mut again = StdRng::seed_from_u64(1);
        let mut rng = StdRng::seed_from_u64(1);
        assert_eq!(between(&mut rng, span), between(&mut again, span));
    }
}
