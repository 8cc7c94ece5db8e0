//! # samla-api — Samla's gateway
//!
//! The **ingest service**, the only way events get into the log. One code path behind two
//! doors:
//!
//! - HTTP `POST /v1/events` (JSON), authenticated by a bearer token per organisation
//!   ([`tokens`]) — the header only, never the session cookie (a cookie rides along on
//!   cross-site requests);
//! - NATS requests on `samla.ingest.<incident>.<org>` (MessagePack) in the queue group
//!   `samla-ingest`, authenticated by nats-server itself: each organisation's user may
//!   publish only on its own subject ([`nats_permissions`]).
//!
//! Both frame the request into items and hand them to [`ingest::IngestService`], which
//! takes the organisation from the credential (never the payload), decodes each item with
//! the contract's codec, checks the organisation, the incident and every contract rule
//! including the personal-data guard, and only then appends — **group-committed**: one
//! committer gathers the items of concurrent requests from both doors for a short bounded
//! window and appends them with `samla_log::Log::append_requests`, several batches in flight.
//! Every item gets its own answer (`{id, seq, duplicate}` or an error naming the field and
//! the reason); one item's mistake, duplicate or conflict never fails another.
//!
//! The **read side**, when the process also runs a projector ([`query`], [`live`]):
//!
//! - `GET /healthz`, `/readyz`, `/metrics`; `GET /v1/digest` (operator);
//! - `GET /v1/incidents`, `GET /v1/picture?area=…`;
//! - `GET /v1/incidents/{incident}/` `picture`, `sites`, `offers`, `needs`, `resources`,
//!   `issues`, `reports`, `network`, `timeline`, `quarantine` (operator), taking `status`,
//!   `min_seq` (read your own write), `limit`/`cursor` and filters;
//! - `GET /v1/incidents/{incident}/live`: Server-Sent Events, resumable with
//!   `Last-Event-ID`.
//!
//! **Sessions** for the dashboard ([`session`]; an `EventSource` cannot send a header):
//! `POST /v1/session` `{"token"}` sets the `samla_session` cookie (HttpOnly,
//! SameSite=Strict), `GET /v1/session` says who it is, `DELETE /v1/session` clears it.
//!
//! **`GET /v1/openapi.json`** ([`openapi`]): the OpenAPI 3.1 document, generated from the
//! code — the router and the document are built from the same route lists, parameters
//! from the structs the handlers parse, errors from real [`ApiError`] values.
//!
//! What it is not: it does not fold events (the projector does), does not talk to
//! JetStream directly (`samla-log` does), defines no wire format (`proto-events` does) and
//! serves no page (`samla-dashboard` does).
//!
//! Layout:
//! - `app.rs`: [`app`] (the router), [`AppState`], bearer authentication for ingest.
//! - `ingest/`: the service ([`ingest::IngestService`], [`ingest::IngestConfig`]),
//!   `protocol.rs` (items, replies, shared checks), `msgpack.rs` (framing), `commit.rs`
//!   (group commit), `rate.rs` (per-organisation token buckets), `http.rs` and `nats.rs`
//!   (the doors).
//! - `query/`: `mod.rs` (state, caller, `min_seq` wait, answer frame, paging),
//!   `params.rs` (query parameters, parsed and documented by the same structs),
//!   `routes.rs` (the handlers). `live.rs`: the SSE stream.
//! - `session.rs`: the session routes.
//! - `openapi/`: the document (`mod.rs`), the answer shapes (`schemas.rs`), the error
//!   responses per kind of route (`responses.rs`).
//! - `tokens.rs`: hashed bearer tokens in `<config>/tokens.json`.
//! - `nats_permissions.rs`: the nats-server `authorization` block and connect options.
//! - `error.rs`: [`ApiError`], the crate's one error type and its JSON shape.
//! - [`run`]: serves both doors until one shutdown signal, then finishes in-flight work.

mod app;
mod error;
pub mod ingest;
pub mod live;
pub mod nats_permissions;
pub mod openapi;
pub mod query;
pub mod session;
pub mod tokens;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::serve::ListenerExt;
use tokio::sync::watch;

pub use app::{AppState, app};
pub use error::{ApiError, ERROR_CODES, ErrorBody};
pub use ingest::{
    CommitStats, IngestConfig, IngestService, ItemError, ItemReply, NatsDoor, RateLimit,
    serve_nats_ingest,
};

/// How long the HTTP door's graceful stop may take. Requests in flight are answered, but a
/// client that stopped reading (a live stream piped into a paused pager) would hold the stop
/// up for ever: the end of its stream can never be written.
const HTTP_STOP_DEADLINE: Duration = Duration::from_secs(10);

/// How often the token file is checked for changes.
const TOKEN_RELOAD_INTERVAL: Duration = Duration::from_secs(2);

/// Serves the HTTP door on `listener` and the NATS door on `nats` (either may be absent)
/// until `shutdown` resolves or a door fails. Then every part stops taking work and
/// finishes what it has: HTTP requests in flight are answered, NATS requests already
/// delivered are answered, and the committer appends what is queued. Returns the first
/// door's error, if any.
pub async fn run(
    state: AppState,
    listener: Option<tokio::net::TcpListener>,
    nats: Option<async_nats::Client>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ApiError> {
    let (stop, stopped) = watch::channel(false);
    let stop = Arc::new(stop);
    let until_stopped = move || {
        let mut stopped = stopped.clone();
        async move {
            // An error means the sender is gone, which also means stop.
            let _ = stopped.wait_for(|stop| *stop).await;
        }
    };

    // Bind the NATS door first, so a refused subscription stops the start.
    let door = match nats {
        Some(client) => Some(NatsDoor::bind(client, state.ingest.clone()).await?),
        None => None,
    };
    let signal = {
        let stop = Arc::clone(&stop);
        let query = state.query.clone();
        tokio::spawn(async move {
            shutdown.await;
            stop.send_replace(true);
            // Live streams never end by themselves: the graceful shutdown would wait for
            // every open dashboard to go away.
            if let Some(query) = query {
                query.close_streams();
            }
        })
    };
    let http = listener.map(|listener| {
        let router = app(state.clone());
        let stop = Arc::clone(&stop);
        // TCP_NODELAY: the live stream writes one small event at a time, and with Nagle's
        // algorithm an event waits for the client's (delayed) acknowledgement of the one
        // before: 15–35 ms stalls at 1,000 events/s, measured by `samla bench --only live`.
        let listener = listener.tap_io(|stream| {
            if let Err(error) = stream.set_nodelay(true) {
                tracing::debug!(%error, "cannot set TCP_NODELAY on an HTTP connection");
            }
        });
        let serve = axum::serve(listener, router).with_graceful_shutdown(until_stopped());
        tokio::spawn(async move {
            let served = serve.await;
            // A failed HTTP door stops the others too.
            stop.send_replace(true);
            served.map_err(|error| ApiError::DoorFailed {
                door: "HTTP",
                reason: error.to_string(),
            })
        })
    });
    let nats = door.map(|door| tokio::spawn(door.serve(until_stopped())));
    let reload = tokio::spawn(reload_tokens(state.tokens.clone(), until_stopped()));

    let mut outcome = Ok(());
    if let Some(mut http) = http {
        let overdue = async {
            until_stopped().await;
            tokio::time::sleep(HTTP_STOP_DEADLINE).await;
        };
        outcome = tokio::select! {
            served = &mut http => match served {
                Ok(result) => result,
                Err(error) => Err(ApiError::DoorFailed {
                    door: "HTTP",
                    reason: error.to_string(),
                }),
            },
            () = overdue => {
                tracing::warn!(
                    "HTTP connections were still open {HTTP_STOP_DEADLINE:?} after the stop (a client that reads nothing?); closing the door without them"
                );
                http.abort();
                Ok(())
            }
        };
    }
    if let Some(nats) = nats
        && let Err(error) = nats.await
        && outcome.is_ok()
    {
        outcome = Err(ApiError::DoorFailed {
            door: "NATS",
            reason: error.to_string(),
        });
    }
    let _ = reload.await;
    signal.abort();
    // The doors have answered everything they took; now the committer drains.
    state.ingest.close().await;
    outcome
}

async fn reload_tokens(tokens: tokens::SharedTokens, stopped: impl Future<Output = ()>) {
    let mut stopped = std::pin::pin!(stopped);
    let mut ticks = tokio::time::interval(TOKEN_RELOAD_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = &mut stopped => return,
            _ = ticks.tick() => match tokens.reload_if_changed() {
                Ok(true) => tracing::info!("token file changed: tokens reloaded"),
                Ok(false) => {}
                Err(error) => tracing::warn!(%error, "token file changed but cannot be read; keeping the tokens in force"),
            },
        }
    }
}
