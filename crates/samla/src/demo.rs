//! The demo crisis, sent through the HTTP ingest door with each organisation's own token.
//!
//! The generator (`samla-sim`) is the same one the tests and the benchmark use. The crisis
//! is placed so that it ends about now, so ages and "overdue" on the dashboard read like a
//! live crisis. Event ids come from the seed, not the clock: sending the demo twice stores
//! nothing twice.
//!
//! With a pace, event *i* is sent when the crisis clock reaches the latest `occurred_at`
//! among events 0..=i: the log order stays the generator's (late reports stay late) while
//! the recorded times spread out like a real crisis.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use proto_events::{Envelope, OrgId, Timestamp};
use samla_sim::{CrisisConfig, organisations};
use serde::Serialize;
use serde_json::Value;

use crate::client::{Api, ItemOutcome};
use crate::exit::{CliError, CliResult};
use crate::local::Credentials;

/// Events per request: one organisation's consecutive events.
const BATCH: usize = 100;

/// The demo crisis of `seed`, `scale` and `days`, ending about now.
pub fn crisis(seed: u64, scale: u32, days: u32) -> CrisisConfig {
    let days = days.max(1);
    let now = Timestamp::now().as_unix_seconds();
    // Whole hours, and an hour of margin so no event is in the future.
    let start = (now - i64::from(days) * 86_400 - 3_600).div_euclid(3_600) * 3_600;
    CrisisConfig {
        seed,
        scale: scale.max(1),
        days,
        start: Timestamp::from_unix_seconds(start).unwrap_or(CrisisConfig::demo().start),
        // It ends now and goes on: nobody has left, the incident is not closed.
        ongoing: true,
        ..CrisisConfig::demo()
    }
}

/// The demo crisis starting at `start` (ongoing at its end, like [`crisis`]).
pub fn crisis_starting(seed: u64, scale: u32, days: u32, start: Timestamp) -> CrisisConfig {
    CrisisConfig {
        start,
        ..crisis(seed, scale, days)
    }
}

/// The demo's organisations.
pub fn demo_orgs(config: &CrisisConfig) -> Vec<OrgId> {
    organisations(config)
        .into_iter()
        .map(|org| org.id)
        .collect()
}

/// What a demo load did.
#[derive(Debug, Default, Serialize)]
pub struct DemoSummary {
    pub incident: String,
    pub events: usize,
    pub stored: usize,
    pub duplicates: usize,
    pub refused: usize,
    /// The first refusals, for the report.
    pub refusals: Vec<String>,
    pub last_seq: u64,
}

/// Sends the crisis to the API at `base` as its organisations.
pub async fn send(
    base: &str,
    credentials: &Credentials,
    config: CrisisConfig,
    pace: Option<Duration>,
    show_progress: bool,
) -> CliResult<DemoSummary> {
    let start = config.start;
    let events: Vec<Envelope> = samla_sim::generate(config.clone());
    let mut summary = DemoSummary {
        incident: config.incident.to_string(),
        events: events.len(),
        ..DemoSummary::default()
    };
    let progress = if show_progress {
        let bar = ProgressBar::new(events.len() as u64);
        bar.set_style(
            ProgressStyle::with_template("demo {bar:40} {pos}/{len} events {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let mut clients = std::collections::BTreeMap::new();
    for org in demo_orgs(&config) {
        let token = credentials.org_token(org.as_str())?;
        clients.insert(org, Api::new(base, token)?);
    }
    let began = tokio::time::Instant::now();
    let mut crisis_clock = start;
    let mut batch: Vec<Value> = Vec::with_capacity(BATCH);
    let mut batch_org: Option<OrgId> = None;
    for event in events {
        if let Some(pace) = pace {
            if event.occurred_at > crisis_clock {
                crisis_clock = event.occurred_at;
            }
            let crisis_seconds = crisis_clock.seconds_since(start).max(0) as f64;
            let due = began + pace.mul_f64(crisis_seconds / 86_400.0);
            if due > tokio::time::Instant::now() {
                flush(
                    &clients,
                    &mut batch,
                    &mut batch_org,
                    &mut summary,
                    &progress,
                )
                .await?;
                tokio::time::sleep_until(due).await;
            }
        }
        if batch_org.as_ref() != Some(&event.org) || batch.len() >= BATCH {
            flush(
                &clients,
                &mut batch,
                &mut batch_org,
                &mut summary,
                &progress,
            )
            .await?;
            batch_org = Some(event.org.clone());
        }
        let json: Value = serde_json::from_str(&proto_events::encode_json(&event))
            .map_err(|error| CliError::Failed(anyhow::anyhow!("encoding a demo event: {error}")))?;
        batch.push(json);
    }
    flush(
        &clients,
        &mut batch,
        &mut batch_org,
        &mut summary,
        &progress,
    )
    .await?;
    progress.finish_and_clear();
    Ok(summary)
}

async fn flush(
    clients: &std::collections::BTreeMap<OrgId, Api>,
    batch: &mut Vec<Value>,
    org: &mut Option<OrgId>,
    summary: &mut DemoSummary,
    progress: &ProgressBar,
) -> CliResult {
    let Some(current) = org.as_ref() else {
        return Ok(());
    };
    if batch.is_empty() {
        return Ok(());
    }
    let api = clients.get(current).ok_or_else(|| {
        CliError::Failed(anyhow::anyhow!(
            "the demo has no token for organisation {current}"
        ))
    })?;
    let outcomes = api.post_events(batch).await?;
    for outcome in outcomes {
        match outcome {
            ItemOutcome::Stored { seq, duplicate, .. } => {
                summary.last_seq = summary.last_seq.max(seq);
                if duplicate {
                    summary.duplicates += 1;
                } else {
                    summary.stored += 1;
                }
            }
            ItemOutcome::Refused {
                id,
                code,
                field,
                reason,
            } => {
                summary.refused += 1;
                if summary.refusals.len() < 10 {
                    summary.refusals.push(format!(
                        "{}: {code}{}: {reason}",
                        id.unwrap_or_default(),
                        field.map(|field| format!(" ({field})")).unwrap_or_default()
                    ));
                }
            }
        }
    }
    progress.inc(batch.len() as u64);
    batch.clear();
    Ok(())
}

/// Waits until the API accepts every demo organisation's token (a running API rereads its
/// token file every few seconds).
pub async fn wait_for_tokens(base: &str, credentials: &Credentials, orgs: &[OrgId]) -> CliResult {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    for org in orgs {
        let api = Api::new(base, credentials.org_token(org.as_str())?)?;
        loop {
            match api.get_json("v1/incidents").await {
                Ok(_) => break,
                Err(CliError::NotAllowed(_)) if tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(error) => return Err(error),
            }
        }
    }
    Ok(())
}
