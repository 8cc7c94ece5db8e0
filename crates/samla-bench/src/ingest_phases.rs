//! The samples of the gateway's phases. Each sample starts from an empty log stream
//! (deleted and created again, outside the timing), starts a gateway on it, sends, stops
//! the gateway, and checks that the stream holds exactly the events sent.
//!
//! The throughput phases run the ingest service without its per-organisation rate limit
//! (otherwise they would measure the limit); the live phase runs it as configured by
//! default, limit included, as in production.

use std::sync::Arc;

use async_nats::Subject;
use samla_api::IngestConfig;
use samla_log::LogConfig;

use crate::error::BenchError;
use crate::gateway::{Credentials, Gateway, GatewaySetup, org_clients};
use crate::ingest_load::{IngestLoad, Request};
use crate::live::{LatencySample, LiveTarget};
use crate::progress::say;
use crate::report::names;
use crate::run::{Results, Server, rate, remove_folder, scratch_folder};
use crate::{BenchOptions, ingest, live, publish};

/// Which door a phase sends through.
#[derive(Debug, Clone, Copy)]
enum Door {
    Nats,
    Http,
}

/// What every phase on one server shares.
pub(crate) struct Phases<'a> {
    pub options: &'a BenchOptions,
    pub server: &'a Server,
    pub log: &'a LogConfig,
    pub credentials: &'a Credentials,
    pub load: &'a IngestLoad,
}

/// The organisations' NATS connections and subjects, and their HTTP tokens, in sender
/// order.
struct Senders {
    connections: Arc<Vec<async_nats::Client>>,
    subjects: Arc<Vec<Subject>>,
    tokens: Arc<Vec<String>>,
}

impl Phases<'_> {
    async fn senders(&self) -> Result<Senders, BenchError> {
        let url = self.server.server.client_url();
        let senders = &self.load.senders;
        let tokens = senders
            .iter()
            .map(|sender| self.credentials.org_token(&sender.org).map(str::to_owned))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Senders {
            connections: org_clients(&url, self.credentials, senders).await?,
            subjects: Arc::new(senders.iter().map(|sender| sender.subject()).collect()),
            tokens: Arc::new(tokens),
        })
    }

    /// One throughput sample: fresh log, gateway, requests through `door`, checks.
    async fn sample(
        &self,
        senders: &Senders,
        requests: &Arc<Vec<Request>>,
        door: Door,
        clients: usize,
        phase: &str,
    ) -> Result<f64, BenchError> {
        let events: usize = requests.iter().map(|request| request.events).sum();
        let log = publish::fresh_log(&self.server.setup, self.log).await?;
        let gateway = Gateway::start(
            GatewaySetup {
                nats_url: &self.server.server.client_url(),
                log: self.log,
                ingest: IngestConfig {
                    rate_limit: None,
                    ..IngestConfig::default()
                },
                read_models: None,
            },
            self.credentials,
        )
        .await?;
        let sent = match door {
            Door::Nats => {
                ingest::over_nats(
                    Arc::clone(&senders.connections),
                    Arc::clone(&senders.subjects),
                    Arc::clone(requests),
                    clients,
                    phase,
                )
                .await
            }
            Door::Http => {
                ingest::over_http(
                    gateway.address,
                    Arc::clone(&senders.tokens),
                    Arc::clone(requests),
                    clients,
                    phase,
                )
                .await
            }
        };
        let commits = gateway.commit_stats();
        let stopped = gateway.stop().await;
        let elapsed = sent?;
        stopped?;
        publish::expect_stored(&log, events, phase).await?;
        if commits.batches > 0 {
            say(format!(
                "  {} commits of {:.1} events on average (the largest {})",
                commits.batches,
                commits.items as f64 / commits.batches as f64,
                commits.largest_batch
            ));
        }
        Ok(rate(events, elapsed))
    }

    /// `repeat` samples of one figure.
    async fn figure(
        &self,
        results: &mut Results,
        name: &str,
        label: &str,
        requests: Vec<Request>,
        door: Door,
        clients: usize,
    ) -> Result<(), BenchError> {
        let senders = self.senders().await?;
        let requests = Arc::new(requests);
        let events: usize = requests.iter().map(|request| request.events).sum();
        let repeat = self.options.repeat;
        let mut samples = Vec::new();
        for round in 1..=repeat {
            let phase = format!("{label} ({round}/{repeat})");
            let sample = self
                .sample(&senders, &requests, door, clients, &phase)
                .await?;
            say(format!("  {sample:.0} events/s"));
            samples.push(sample);
        }
        results.add(name, samples, "events/s", events);
        Ok(())
    }

    /// NATS and HTTP ingest with nats-server's default sync.
    pub(crate) async fn measure_ingest(&self, results: &mut Results) -> Result<(), BenchError> {
        let options = self.options;
        let (batched, single) = (options.ingest_events(), options.single_events());
        let batch = options.ingest_batch;
        self.figure(
            results,
            names::NATS_INGEST,
            &format!("NATS ingest, requests of {batch}"),
            self.load.requests(batched, batch),
            Door::Nats,
            options.batch_clients,
        )
        .await?;
        self.figure(
            results,
            names::HTTP_INGEST_BATCH,
            &format!("HTTP ingest, requests of {batch}"),
            self.load.requests(batched, batch),
            Door::Http,
            options.batch_clients,
        )
        .await?;
        self.figure(
            results,
            names::HTTP_INGEST_SINGLE,
            "HTTP ingest, single events",
            self.load.requests(single, 1),
            Door::Http,
            options.single_clients,
        )
        .await
    }

    /// Durable ingest through group commit (the server syncs every write).
    pub(crate) async fn measure_group_commit(
        &self,
        results: &mut Results,
    ) -> Result<(), BenchError> {
        let options = self.options;
        let batch = options.ingest_batch;
        self.figure(
            results,
            names::DURABLE_INGEST_BATCH,
            &format!("durable ingest, requests of {batch}"),
            self.load.requests(options.ingest_events(), batch),
            Door::Nats,
            options.batch_clients,
        )
        .await?;
        self.figure(
            results,
            names::DURABLE_INGEST_SINGLE,
            &format!(
                "durable ingest, {} clients of single events",
                options.single_clients
            ),
            self.load.requests(options.single_events(), 1),
            Door::Nats,
            options.single_clients,
        )
        .await
    }

    /// Live latency at a steady rate, through a gateway with a projector and read side.
    pub(crate) async fn measure_live(&self, results: &mut Results) -> Result<(), BenchError> {
        let options = self.options;
        let senders = self.senders().await?;
        let events = options.live_events().min(self.load.events.len());
        let repeat = options.repeat;
        let mut samples: Vec<LatencySample> = Vec::new();
        for round in 1..=repeat {
            let phase = format!(
                "live latency at {} events/s ({round}/{repeat})",
                options.live_rate
            );
            let _ = publish::fresh_log(&self.server.setup, self.log).await?;
            // Start from a settled disk: what the earlier phases left for the kernel to
            // write back would otherwise land in this sample's syncs (ext4 writes other
            // files' new data out with a sync).
            let _ = tokio::task::spawn_blocking(rustix::fs::sync).await;
            let folder = scratch_folder()?;
            let read_models = folder.path().join("read-models");
            let gateway = Gateway::start(
                GatewaySetup {
                    nats_url: &self.server.server.client_url(),
                    log: self.log,
                    ingest: IngestConfig::default(),
                    read_models: Some(&read_models),
                },
                self.credentials,
            )
            .await?;
            let measured = live::measure(
                LiveTarget {
                    address: gateway.address,
                    tokens: Arc::clone(&senders.tokens),
                    operator_token: &self.credentials.operator_token,
                },
                self.load,
                events,
                options.live_rate,
                &phase,
            )
            .await;
            let stopped = gateway.stop().await;
            remove_folder(folder).await;
            samples.push(measured?);
            stopped?;
        }
        let timed = samples.iter().map(|sample| sample.timed).min().unwrap_or(0);
        type Pick = fn(&LatencySample) -> f64;
        let figures: [(&str, Pick); 3] = [
            (names::LIVE_LATENCY_P50, |s| s.p50_ms),
            (names::LIVE_LATENCY_P99, |s| s.p99_ms),
            (names::LIVE_LATENCY_P999, |s| s.p999_ms),
        ];
        for (name, pick) in figures {
            results.add(name, samples.iter().map(pick).collect(), "ms", timed);
        }
        Ok(())
    }
}
