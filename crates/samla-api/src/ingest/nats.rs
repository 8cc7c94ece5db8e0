//! The NATS door: requests on `samla.ingest.<incident>.<org>` in the queue group
//! `samla-ingest`, MessagePack in and out.
//!
//! The organisation is the subject's, never the payload's: NATS permissions let each
//! organisation's user publish only on `samla.ingest.*.<org>` (see
//! [`crate::nats_permissions`]), so the subject is the credential. The incident in the
//! subject must equal the envelope's. Everything after framing is the HTTP door's code.
//!
//! The reply is always a MessagePack array (`rmp_serde::to_vec_named`, maps with field
//! names) of the same reply objects as over HTTP; a request that cannot be read at all is
//! answered with a one-element array naming why, and a rate-limited request with
//! `rate_limited` for each item. A request without a reply subject is processed and its
//! answer dropped.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt as _;
use proto_events::IngestSubject;
use proto_events::subject::INGEST_PREFIX;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;

use super::IngestService;
use super::msgpack::frame_msgpack;
use super::protocol::{Caller, ItemError, ItemReply, codes};
use crate::error::ApiError;

/// How long a stopping door waits for the server to confirm its unsubscription (the
/// requests already delivered are answered meanwhile).
const DRAIN_DEADLINE: Duration = Duration::from_secs(5);

/// The NATS door, subscribed and ready: requests sent after [`NatsDoor::bind`] returns
/// reach it.
#[derive(Debug)]
pub struct NatsDoor {
    client: async_nats::Client,
    subscriber: async_nats::Subscriber,
    service: IngestService,
}

impl NatsDoor {
    /// Subscribes to `samla.ingest.>` in the configured queue group on `client` (the
    /// ingest service's user, which needs `allow_responses`).
    pub async fn bind(
        client: async_nats::Client,
        service: IngestService,
    ) -> Result<Self, ApiError> {
        let failed = |reason: String| ApiError::DoorFailed {
            door: "NATS",
            reason,
        };
        let subscriber = client
            .queue_subscribe(
                format!("{INGEST_PREFIX}.>"),
                service.config().nats_queue_group.clone(),
            )
            .await
            .map_err(|error| failed(format!("subscribe {INGEST_PREFIX}.>: {error}")))?;
        // A flush only writes the socket (async-nats 0.51 sends no PING with it), so a
        // request sent right after `bind` could still meet "no responders". One round trip
        // on this connection proves the server processed the subscription before it: it
        // handles a connection's operations in order. `$JS.API.INFO` is a request the
        // ingest user may make (it appends through the JetStream API).
        client
            .request("$JS.API.INFO", bytes::Bytes::new())
            .await
            .map_err(|error| {
                failed(format!(
                    "no round trip with the server after subscribing ({error}); is JetStream enabled and may this user use $JS.API?"
                ))
            })?;
        Ok(NatsDoor {
            client,
            subscriber,
            service,
        })
    }

    /// Answers requests until `shutdown` resolves; then unsubscribes (the queue group
    /// sends new requests to other replicas), answers what was already delivered, and
    /// returns once every reply is sent.
    pub async fn serve(self, shutdown: impl Future<Output = ()> + Send) {
        let NatsDoor {
            client,
            mut subscriber,
            service,
        } = self;
        let permits = Arc::new(Semaphore::new(
            service.config().nats_max_concurrent_requests.max(1),
        ));
        let mut handlers = JoinSet::new();
        let mut shutdown = pin!(shutdown);
        let mut drain_deadline = pin!(tokio::time::sleep(Duration::MAX));
        let mut draining = false;
        loop {
            tokio::select! {
                () = &mut shutdown, if !draining => {
                    draining = true;
                    if let Err(error) = subscriber.drain().await {
                        tracing::warn!(%error, "could not unsubscribe the NATS door");
                        break;
                    }
                    drain_deadline
                        .as_mut()
                        .reset(tokio::time::Instant::now() + DRAIN_DEADLINE);
                }
                () = &mut drain_deadline, if draining => break,
                Some(finished) = handlers.join_next() => {
                    if let Err(error) = finished {
                        tracing::error!(%error, "a NATS ingest handler failed");
                    }
                }
                message = subscriber.next() => {
                    let Some(message) = message else { break };
                    let Ok(permit) = Arc::clone(&permits).acquire_owned().await else { break };
                    handlers.spawn(handle(client.clone(), service.clone(), message, permit));
                }
            }
        }
        while let Some(finished) = handlers.join_next().await {
            if let Err(error) = finished {
                tracing::error!(%error, "a NATS ingest handler failed");
            }
        }
        // While the server is away the client buffers, and a flush waits for a reconnect
        // that may never come: a stop must not wait for it.
        match tokio::time::timeout(DRAIN_DEADLINE, client.flush()).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::warn!(%error, "could not flush the last NATS replies"),
            Err(_) => tracing::warn!(
                "the last NATS replies were not flushed within {DRAIN_DEADLINE:?}: is the server reachable?"
            ),
        }
    }
}

/// Binds the NATS door and serves it until `shutdown` (see [`NatsDoor`]).
pub async fn serve_nats_ingest(
    client: async_nats::Client,
    service: IngestService,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), ApiError> {
    NatsDoor::bind(client, service).await?.serve(shutdown).await;
    Ok(())
}

async fn handle(
    client: async_nats::Client,
    service: IngestService,
    message: async_nats::Message,
    _permit: OwnedSemaphorePermit,
) {
    let replies = answer(&service, &message).await;
    let Some(reply_to) = message.reply else {
        return;
    };
    match rmp_serde::to_vec_named(&replies) {
        Ok(bytes) => {
            if let Err(error) = client.publish(reply_to, bytes.into()).await {
                tracing::warn!(%error, "could not send an ingest reply");
            }
        }
        Err(error) => tracing::error!(%error, "could not encode an ingest reply"),
    }
}

/// The reply array for one request.
async fn answer(service: &IngestService, message: &async_nats::Message) -> Vec<ItemReply> {
    let whole = |code: &str, field: &str, reason: String| {
        vec![ItemReply::refused(
            None,
            ItemError::new(code, field, reason),
        )]
    };
    let subject: IngestSubject = match message.subject.parse() {
        Ok(subject) => subject,
        Err(error) => return whole(codes::MALFORMED, "subject", format!("{error}")),
    };
    let config = service.config();
    if message.payload.len() > config.max_body_bytes {
        return whole(
            codes::TOO_LARGE,
            "",
            format!(
                "the request is {} bytes; at most {} per request",
                message.payload.len(),
                config.max_body_bytes
            ),
        );
    }
    let items = match frame_msgpack(&message.payload, config.max_items_per_request) {
        Ok(items) => items,
        Err(error) => return whole(error.code(), "", error.to_string()),
    };
    if let Err(wait) = service.check_rate(&subject.org, items.len()) {
        let reason = format!(
            "rate limit exceeded for organisation {}; retry after {} ms",
            subject.org,
            wait.as_millis().max(1)
        );
        return items
            .iter()
            .map(|item| {
                ItemReply::refused(
                    item.id(),
                    ItemError::new(codes::RATE_LIMITED, "", reason.clone()),
                )
            })
            .collect();
    }
    let caller = Caller {
        org: subject.org,
        incident: Some(subject.incident),
    };
    service.ingest(&caller, items).await
}
