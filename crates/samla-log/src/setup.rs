//! Opening the log: refuse an old server, check the storage budget, create the stream with
//! a strict (pedantic) request when it is missing, and read the whole configuration back
//! and compare it field by field at every start.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Map, Value};
use tokio::sync::Semaphore;

use crate::api::{ApiError, codes, refused};
use crate::config::{LogConfig, MINIMUM_SERVER_VERSION, compare_stream_config};
use crate::connect::Connection;
use crate::error::LogError;
use crate::{Head, Log, LogIdentity, LogInner};

/// How many atomic batches one `Log` keeps in flight at once. The server allows 50 per
/// stream (all writers together) and 1,000 per server.
const BATCHES_IN_FLIGHT: usize = 8;

#[derive(Debug, Deserialize)]
pub(crate) struct StreamInfoAnswer {
    pub(crate) config: Map<String, Value>,
    pub(crate) created: String,
    pub(crate) state: StreamState,
    #[serde(default)]
    pub(crate) cluster: Option<ClusterInfo>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct StreamState {
    #[serde(default)]
    pub(crate) messages: u64,
    #[serde(default)]
    pub(crate) bytes: u64,
    #[serde(default)]
    pub(crate) first_seq: u64,
    #[serde(default)]
    pub(crate) last_seq: u64,
    #[serde(default)]
    pub(crate) last_ts: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ClusterInfo {
    #[serde(default)]
    pub(crate) leader: Option<String>,
}

#[derive(Debug, Deserialize)]
struct AccountInfoAnswer {
    #[serde(default)]
    limits: AccountLimits,
    #[serde(default)]
    tiers: std::collections::BTreeMap<String, AccountTier>,
}

#[derive(Debug, Default, Deserialize)]
struct AccountTier {
    #[serde(default)]
    limits: AccountLimits,
}

#[derive(Debug, Default, Deserialize)]
struct AccountLimits {
    #[serde(default = "unlimited")]
    max_storage: i64,
    #[serde(default = "unlimited")]
    storage_max_stream_bytes: i64,
}

fn unlimited() -> i64 {
    -1
}

/// Parses `2.15.1`, `2.15.1-RC.2`, `v2.16.0-dev` into numbers.
pub(crate) fn parse_version(version: &str) -> Option<(u64, u64, u64)> {
    let core = version.trim().trim_start_matches('v');
    let core = core.split(['-', '+']).next()?;
    let mut parts = core.split('.').map(|part| part.parse::<u64>().ok());
    let major = parts.next()??;
    let minor = parts.next()??;
    let patch = parts.next().flatten().unwrap_or(0);
    Some((major, minor, patch))
}

/// Refuses a server older than [`MINIMUM_SERVER_VERSION`].
pub(crate) fn check_server_version(version: &str) -> Result<(), LogError> {
    let (major, minor, patch) = MINIMUM_SERVER_VERSION;
    let required = format!("{major}.{minor}.{patch}");
    match parse_version(version) {
        Some(found) if found >= MINIMUM_SERVER_VERSION => Ok(()),
        _ => Err(LogError::ServerTooOld {
            found: version.to_owned(),
            required,
        }),
    }
}

impl Log {
    /// Opens the log on `connection`: checks the server version and storage budget,
    /// creates the stream if it is missing, and refuses to run if its configuration on the
    /// server differs from `config` in any field (see [`crate::config`] for the one
    /// exception).
    pub async fn open(connection: &Connection, config: LogConfig) -> Result<Log, LogError> {
        config.validate()?;
        check_server_version(&connection.server_version())?;
        let stream = config.stream_name.clone();
        let expected = config.expected_stream_config();

        let info = match stream_info(connection, &stream).await? {
            Some(info) => info,
            None => {
                check_account_budget(connection, &config).await?;
                create_stream(connection, &config, &expected).await?
            }
        };
        compare_stream_config(&stream, &expected, &info.config)?;
        let identity = identity_of(&stream, &info)?;

        let jetstream = async_nats::jetstream::ContextBuilder::new()
            .timeout(connection.request_timeout)
            .build(connection.client.clone());
        let batch_prefix = format!("{}-", uuid::Uuid::now_v7().simple());
        Ok(Log {
            inner: Arc::new(LogInner {
                connection: connection.clone(),
                jetstream,
                config,
                identity,
                batch_prefix,
                batch_counter: AtomicU64::new(0),
                batch_permits: Semaphore::new(BATCHES_IN_FLIGHT),
            }),
        })
    }

    /// Opens a log that exists already, as it is: for readers that do not own it (`samla
    /// verify`, `digest`, `report`), which cannot know how many replicas or what byte budget
    /// it was created with. Those two come from the server; every other field must still
    /// match `config`. A missing stream is [`LogError::StreamMissing`] (a reader never
    /// creates the log).
    pub async fn open_existing(
        connection: &Connection,
        config: LogConfig,
    ) -> Result<Log, LogError> {
        let stream = config.stream_name.clone();
        let info = stream_info(connection, &stream)
            .await?
            .ok_or_else(|| LogError::stream_missing(&stream))?;
        let number = |field: &str| info.config.get(field).and_then(Value::as_u64);
        let config = LogConfig {
            replicas: number("num_replicas")
                .and_then(|replicas| u8::try_from(replicas).ok())
                .unwrap_or(config.replicas),
            max_bytes: number("max_bytes").unwrap_or(config.max_bytes),
            ..config
        };
        Log::open(connection, config).await
    }

    /// The last sequence and the log's identity (stream name + creation time), for the
    /// projector's rebuild check, plus the stream's size and current leader. A stream that
    /// is gone is [`LogError::StreamMissing`], not an outage: nothing brings it back by
    /// waiting.
    pub async fn head(&self) -> Result<Head, LogError> {
        let stream = &self.inner.config.stream_name;
        let info = stream_info(&self.inner.connection, stream)
            .await?
            .ok_or_else(|| LogError::stream_missing(stream))?;
        let identity = identity_of(stream, &info)?;
        let last_recorded_at = match info.state.last_ts.as_deref() {
            Some(text) if info.state.last_seq > 0 => Some(
                proto_events::Timestamp::parse(text)
                    .map_err(|error| LogError::protocol("stream info last_ts", error))?,
            ),
            _ => None,
        };
        Ok(Head {
            last_seq: info.state.last_seq,
            first_seq: info.state.first_seq,
            messages: info.state.messages,
            bytes: info.state.bytes,
            last_recorded_at,
            identity,
            leader: info.cluster.and_then(|cluster| cluster.leader),
        })
    }
}

fn identity_of(stream: &str, info: &StreamInfoAnswer) -> Result<LogIdentity, LogError> {
    let created = proto_events::Timestamp::parse(&info.created)
        .map_err(|error| LogError::protocol("stream info created", error))?;
    Ok(LogIdentity {
        stream: stream.to_owned(),
        created,
    })
}

/// `STREAM.INFO`, or `None` when the stream does not exist.
pub(crate) async fn stream_info(
    connection: &Connection,
    stream: &str,
) -> Result<Option<StreamInfoAnswer>, LogError> {
    let answer = connection
        .api::<StreamInfoAnswer>(
            &format!("STREAM.INFO.{stream}"),
            Bytes::new(),
            "stream info",
        )
        .await?;
    match answer {
        Ok(info) => Ok(Some(info)),
        Err(error) if error.err_code == codes::STREAM_NOT_FOUND => Ok(None),
        Err(error) => Err(refused("stream info", error)),
    }
}

/// Refuses a `max_bytes` above the account's JetStream storage limits. The server's own
/// `max_file_store` is not visible to a normal account; the create request reports that
/// one (see [`create_stream`]).
async fn check_account_budget(connection: &Connection, config: &LogConfig) -> Result<(), LogError> {
    let answer = connection
        .api::<AccountInfoAnswer>("INFO", Bytes::new(), "account info")
        .await?
        .map_err(|error| refused("account info", error))?;
    let tier = answer.tiers.get(&format!("R{}", config.replicas));
    let limits = [Some(&answer.limits), tier.map(|tier| &tier.limits)];
    for limits in limits.into_iter().flatten() {
        for (name, limit) in [
            (
                "the account's JetStream storage limit (max_storage)",
                limits.max_storage,
            ),
            (
                "the account's per-stream limit (storage_max_stream_bytes)",
                limits.storage_max_stream_bytes,
            ),
        ] {
            if let Ok(limit) = u64::try_from(limit)
                && limit > 0
                && config.max_bytes > limit
            {
                return Err(LogError::StorageLimit {
                    stream: config.stream_name.clone(),
                    requested: config.max_bytes,
                    reason: format!("{name} is {limit} bytes; lower max_bytes or raise the limit"),
                });
            }
        }
    }
    Ok(())
}

/// Creates the stream with `"pedantic": true`, so the server refuses instead of silently
/// adjusting any field. A concurrent creator with the same config is fine; one with a
/// different config surfaces as drift at the comparison that follows.
async fn create_stream(
    connection: &Connection,
    config: &LogConfig,
    expected: &Map<String, Value>,
) -> Result<StreamInfoAnswer, LogError> {
    let stream = &config.stream_name;
    let mut body = expected.clone();
    body.insert("pedantic".to_owned(), Value::Bool(true));
    let body =
        serde_json::to_vec(&body).map_err(|error| LogError::protocol("stream create", error))?;
    let answer = connection
        .api::<StreamInfoAnswer>(
            &format!("STREAM.CREATE.{stream}"),
            Bytes::from(body),
            "stream create",
        )
        .await?;
    match answer {
        Ok(info) => {
            tracing::info!(stream = %stream, "created the log stream");
            Ok(info)
        }
        Err(error) if error.err_code == codes::STREAM_NAME_IN_USE => {
            stream_info(connection, stream).await?.ok_or_else(|| {
                LogError::unavailable(format!("log stream {stream} vanished while created"))
            })
        }
        Err(ApiError {
            err_code: codes::STORAGE_RESOURCES_EXCEEDED | codes::INSUFFICIENT_RESOURCES,
            description,
            ..
        }) => Err(LogError::StorageLimit {
            stream: stream.clone(),
            requested: config.max_bytes,
            reason: format!(
                "the server refused to reserve it ({description}): max_bytes must not exceed \
                 the server's jetstream max_file_store (minus what other streams reserve) nor \
                 the account's storage limit"
            ),
        }),
        Err(error) => Err(refused("stream create", error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(parse_version("2.15.1"), Some((2, 15, 1)));
        assert_eq!(parse_version("v2.16.0-dev"), Some((2, 16, 0)));
        assert!(check_server_version("2.15.0").is_ok());
        assert!(check_server_version("2.15.1-RC.1").is_ok());
        assert!(check_server_version("3.0.0").is_ok());
        assert!(matches!(
            check_server_version("2.14.6"),
            Err(LogError::ServerTooOld { .. })
        ));
        assert!(matches!(
            check_server_version("garbage"),
            Err(LogError::ServerTooOld { .. })
        ));
    }
}
