//! Connecting to NATS: reconnect with capped backoff, a timeout on every request, and the
//! server's permission errors captured so an append can say "permission denied on subject
//! X" instead of timing out.
//!
//! Why the capture: a publish to a subject the user may not publish on is dropped by the
//! server, which reports it only as an asynchronous `-ERR 'Permissions Violation for Publish
//! to "X"'`. async-nats hands that to the connection's event callback, not to the publish,
//! so the publish would just time out. [`Violations`] records those errors and wakes every
//! request waiting on a matching subject.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::Notify;

use crate::error::LogError;

/// How to authenticate to NATS.
#[derive(Debug, Clone, Default)]
pub enum Auth {
    /// No credentials (a server without authorization, tests).
    #[default]
    None,
    /// A config-file user with a password.
    UserPassword { user: String, password: String },
    /// A token.
    Token(String),
    /// An nkey seed (`SU…`).
    NkeySeed(String),
    /// A `.creds` file (JWT + seed).
    CredentialsFile(PathBuf),
}

/// Connection settings. `Default` suits a local server; production sets `auth` and `name`.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// Connection name shown in the server's monitoring (`connz`).
    pub name: String,
    pub auth: Auth,
    /// Timeout of every request to the server (appends, API calls, lookups).
    pub request_timeout: Duration,
    /// Timeout of one attempt to establish the TCP + NATS handshake.
    pub connection_timeout: Duration,
    /// Reconnect delays grow from 50 ms by doubling up to this cap; reconnects never stop.
    pub max_reconnect_delay: Duration,
    /// When the first connect fails, keep retrying in the background (true) or fail (false).
    pub retry_on_initial_connect: bool,
    /// Inbox prefix for replies (`_INBOX` by default). A per-user prefix lets NATS
    /// permissions confine each user's replies (`_INBOX_<user>.>`).
    pub inbox_prefix: Option<String>,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            name: "samla-log".to_owned(),
            auth: Auth::None,
            request_timeout: Duration::from_secs(5),
            connection_timeout: Duration::from_secs(5),
            max_reconnect_delay: Duration::from_secs(2),
            retry_on_initial_connect: false,
            inbox_prefix: None,
        }
    }
}

/// One NATS connection, shared by every [`crate::Log`] opened on it. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Connection {
    pub(crate) client: async_nats::Client,
    pub(crate) violations: Arc<Violations>,
    pub(crate) request_timeout: Duration,
}

/// Connects to any of `urls` (e.g. `nats://127.0.0.1:4222`), with reconnect and backoff.
pub async fn connect<U: AsRef<str>>(
    urls: &[U],
    options: ConnectOptions,
) -> Result<Connection, LogError> {
    if urls.is_empty() {
        return Err(LogError::InvalidConfig {
            reason: "no NATS server URL given".to_owned(),
        });
    }
    let mut addresses = Vec::with_capacity(urls.len());
    for url in urls {
        let address: async_nats::ServerAddr =
            url.as_ref()
                .parse()
                .map_err(|error| LogError::InvalidConfig {
                    reason: format!("bad NATS server URL {:?}: {error}", url.as_ref()),
                })?;
        addresses.push(address);
    }

    let violations = Arc::new(Violations::default());
    let callback_violations = Arc::clone(&violations);
    let max_delay = options.max_reconnect_delay;
    let mut nats = async_nats::ConnectOptions::new()
        .name(&options.name)
        .request_timeout(Some(options.request_timeout))
        .connection_timeout(options.connection_timeout)
        .max_reconnects(None)
        .reconnect_delay_callback(move |attempts| reconnect_delay(attempts, max_delay))
        .event_callback(move |event| {
            let violations = Arc::clone(&callback_violations);
            async move { violations.observe(&event) }
        });
    if options.retry_on_initial_connect {
        nats = nats.retry_on_initial_connect();
    }
    if let Some(prefix) = &options.inbox_prefix {
        nats = nats.custom_inbox_prefix(prefix);
    }
    nats = match &options.auth {
        Auth::None => nats,
        Auth::UserPassword { user, password } => {
            nats.user_and_password(user.clone(), password.clone())
        }
        Auth::Token(token) => nats.token(token.clone()),
        Auth::NkeySeed(seed) => nats.nkey(seed.clone()),
        Auth::CredentialsFile(path) => {
            nats.credentials_file(path)
                .await
                .map_err(|error| LogError::InvalidConfig {
                    reason: format!("cannot read credentials file {}: {error}", path.display()),
                })?
        }
    };
    let client = nats
        .connect(addresses)
        .await
        .map_err(|error| match error.kind() {
            async_nats::ConnectErrorKind::AuthorizationViolation
            | async_nats::ConnectErrorKind::Authentication => LogError::PermissionDenied {
                operation: "connect".to_owned(),
                subject: String::new(),
            },
            _ => LogError::unavailable(format!("cannot connect to NATS: {error}")),
        })?;
    Ok(Connection {
        client,
        violations,
        request_timeout: options.request_timeout,
    })
}

/// 50 ms, 100 ms, 200 ms, … capped at `max`: quick after a blip, gentle during an outage.
fn reconnect_delay(attempts: usize, max: Duration) -> Duration {
    let exponent = u32::try_from(attempts.min(16)).unwrap_or(16);
    Duration::from_millis(50u64.saturating_mul(1u64 << exponent)).min(max)
}

impl Connection {
    /// The version the connected server announced (e.g. `2.15.1`).
    pub fn server_version(&self) -> String {
        self.client.server_info().version
    }

    /// The underlying async-nats client, for the same process' other NATS needs (the ingest
    /// service's request handler). Appends to the log must go through [`crate::Log`].
    pub fn nats_client(&self) -> &async_nats::Client {
        &self.client
    }

    /// Timeout applied to every request.
    pub fn request_timeout(&self) -> Duration {
        self.request_timeout
    }

    /// Flushes and closes the connection.
    pub async fn close(self) {
        if let Err(error) = self.client.drain().await {
            tracing::debug!(%error, "draining the NATS connection failed");
        }
    }
}

/// What kind of permission the server refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ViolationKind {
    Publish,
    Subscribe,
}

#[derive(Debug, Clone)]
pub(crate) struct Violation {
    pub(crate) generation: u64,
    pub(crate) kind: ViolationKind,
    pub(crate) subject: String,
}

/// Recent permission violations reported by the server, newest last.
#[derive(Debug, Default)]
pub(crate) struct Violations {
    generation: AtomicU64,
    recent: Mutex<VecDeque<Violation>>,
    notify: Notify,
}

/// How many violations to remember; a waiter only cares about ones after it started.
const REMEMBERED_VIOLATIONS: usize = 256;

impl Violations {
    /// The generation a waiter starts from: only later violations concern it.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    fn observe(&self, event: &async_nats::Event) {
        match event {
            async_nats::Event::ServerError(async_nats::ServerError::Other(text)) => {
                if let Some((kind, subject)) = parse_violation(text) {
                    tracing::warn!(?kind, %subject, "NATS permission violation");
                    self.record(kind, subject);
                } else {
                    tracing::warn!(error = %text, "NATS server error");
                }
            }
            async_nats::Event::ServerError(error) => tracing::warn!(%error, "NATS server error"),
            other => tracing::debug!(event = %other, "NATS connection event"),
        }
    }

    pub(crate) fn record(&self, kind: ViolationKind, subject: String) {
        let mut recent = self
            .recent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let generation = self.generation.fetch_add(1, Ordering::AcqRel) + 1;
        recent.push_back(Violation {
            generation,
            kind,
            subject,
        });
        while recent.len() > REMEMBERED_VIOLATIONS {
            recent.pop_front();
        }
        drop(recent);
        self.notify.notify_waiters();
    }

    fn find(&self, since: u64, concerns: &dyn Fn(&Violation) -> bool) -> Option<Violation> {
        let recent = self
            .recent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        recent
            .iter()
            .rev()
            .take_while(|violation| violation.generation > since)
            .find(|violation| concerns(violation))
            .cloned()
    }

    /// Resolves when a violation newer than `since` that `concerns` the caller arrives.
    /// Never resolves otherwise; race it against the answer being waited for.
    pub(crate) async fn wait(
        &self,
        since: u64,
        concerns: &(dyn Fn(&Violation) -> bool + Sync),
    ) -> LogError {
        loop {
            let notified = self.notify.notified();
            if self.generation() > since
                && let Some(violation) = self.find(since, concerns)
            {
                return LogError::PermissionDenied {
                    operation: match violation.kind {
                        ViolationKind::Publish => "publish".to_owned(),
                        ViolationKind::Subscribe => "subscribe".to_owned(),
                    },
                    subject: violation.subject,
                };
            }
            notified.await;
        }
    }
}

/// Parses `Permissions Violation for Publish to "X"` (and `… for Subscription to "X"`).
fn parse_violation(text: &str) -> Option<(ViolationKind, String)> {
    let lower = text.to_ascii_lowercase();
    let (kind, marker) = if let Some(at) = lower.find("permissions violation for publish to") {
        (
            ViolationKind::Publish,
            at + "permissions violation for publish to".len(),
        )
    } else if let Some(at) = lower.find("permissions violation for subscription to") {
        (
            ViolationKind::Subscribe,
            at + "permissions violation for subscription to".len(),
        )
    } else {
        return None;
    };
    let rest = text.get(marker..)?.trim_start();
    let subject = match rest.strip_prefix('"') {
        Some(quoted) => quoted.split('"').next().unwrap_or_default(),
        None => rest.split_whitespace().next().unwrap_or_default(),
    };
    Some((kind, subject.trim_matches('\'').to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_publish_and_subscription_violations() {
        assert_eq!(
            parse_violation("Permissions Violation for Publish to \"samla.evt.a.b.need.c\""),
            Some((ViolationKind::Publish, "samla.evt.a.b.need.c".to_owned()))
        );
        assert_eq!(
            parse_violation(
                "Permissions Violation for Subscription to \"_INBOX.x.*\" using queue \"q\""
            ),
            Some((ViolationKind::Subscribe, "_INBOX.x.*".to_owned()))
        );
        assert_eq!(parse_violation("Maximum Payload Violation"), None);
    }

    #[test]
    fn reconnect_delay_is_capped() {
        let cap = Duration::from_secs(2);
        assert_eq!(reconnect_delay(0, cap), Duration::from_millis(50));
        assert_eq!(reconnect_delay(2, cap), Duration::from_millis(200));
        assert_eq!(reconnect_delay(60, cap), cap);
    }
}
