//! The log stream's configuration: what Samla expects, the JSON it creates the stream with,
//! and the field-by-field comparison with what the server reports at every start.
//!
//! The comparison treats a field the server leaves out like its zero value (Go's
//! `omitempty`: `false`, `0`, `""`, `{}`, `[]`, `null`), so `allow_msg_schedules: false`
//! matches an absent field. Every other difference is drift, with exactly one exception:
//!
//! - `metadata` entries whose key starts with `_nats.` (`_nats.ver`, `_nats.level`,
//!   `_nats.req.level`): the server writes them and rewrites them when it is upgraded.
//!   Any other metadata key must match.
//!
//! A field a newer server adds with a non-zero default therefore stops Samla with a drift
//! error that names it, which is the point: the pinned server decides, not a surprise.

use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::error::LogError;

/// The stream name of Samla's log.
pub const DEFAULT_STREAM_NAME: &str = "SAMLA_LOG";
/// The subject prefix of every event: `samla.evt.<incident>.<org>.<type>.<id>`.
pub const DEFAULT_SUBJECT_PREFIX: &str = "samla.evt";
/// The oldest nats-server this crate accepts.
pub const MINIMUM_SERVER_VERSION: (u64, u64, u64) = (2, 15, 0);

/// Samla's log stream as it should be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogConfig {
    /// Stream name (`SAMLA_LOG`).
    pub stream_name: String,
    /// Subject prefix; the stream covers `<prefix>.>`. Only tests that run several logs on
    /// one server change it (JetStream forbids two streams over the same subjects).
    pub subject_prefix: String,
    /// 1 on one machine, 3 in a cluster.
    pub replicas: u8,
    /// The most the log may hold. With `discard: new` a full log refuses appends (and stays
    /// readable) instead of dropping history. Must fit in the server's `max_file_store`
    /// and the account's JetStream storage limit.
    pub max_bytes: u64,
    /// The largest single event (subject + headers + payload) the stream accepts.
    pub max_msg_size: u32,
    /// How long an event id is remembered for de-duplication (retries of offline tools).
    pub duplicate_window: Duration,
    /// How batches of appends reach the server (not part of the stream's configuration:
    /// it must suit the server's `sync_interval`).
    pub commit: CommitMode,
}

/// How [`crate::Log::append_requests`] sends many events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CommitMode {
    /// Atomic batches of up to 1,000 events: the server stores and syncs each batch once.
    /// For a server with `sync_interval: always` (production), where a plain publish is
    /// synced on its own.
    #[default]
    Atomic,
    /// Every event its own publish, all in flight at once on one connection, in order: the
    /// fastest way in on a server that syncs on an interval (`sync_interval: 2m`, the
    /// nats-server default), and slow on `sync_interval: always`.
    Pipelined,
}

impl CommitMode {
    pub fn as_str(self) -> &'static str {
        match self {
            CommitMode::Atomic => "atomic",
            CommitMode::Pipelined => "pipelined",
        }
    }
}

impl std::fmt::Display for CommitMode {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl std::str::FromStr for CommitMode {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "atomic" => Ok(CommitMode::Atomic),
            "pipelined" => Ok(CommitMode::Pipelined),
            other => Err(format!(
                "unknown commit mode {other:?}: atomic (a server with sync_interval: always) \
                 or pipelined (a server that syncs on an interval)"
            )),
        }
    }
}

/// The copies of the log Samla accepts: 1, 3 or 5. An even group survives no more lost
/// nodes than the odd one below it, and JetStream keeps at most 5 copies. The command
/// line checks its flags with this too.
pub fn check_replicas(replicas: u8) -> Result<(), String> {
    if matches!(replicas, 1 | 3 | 5) {
        Ok(())
    } else {
        Err(format!(
            "replicas must be 1, 3 or 5, not {replicas} (an even group survives no more lost \
             nodes than the odd one below it, and JetStream keeps at most 5 copies)"
        ))
    }
}

impl LogConfig {
    /// The production shape: `SAMLA_LOG` over `samla.evt.>`, one replica, 1 MiB events,
    /// a 24 h duplicate window, and the given byte budget.
    pub fn new(max_bytes: u64) -> Self {
        LogConfig {
            stream_name: DEFAULT_STREAM_NAME.to_owned(),
            subject_prefix: DEFAULT_SUBJECT_PREFIX.to_owned(),
            replicas: 1,
            max_bytes,
            max_msg_size: 1024 * 1024,
            duplicate_window: Duration::from_secs(24 * 60 * 60),
            commit: CommitMode::Atomic,
        }
    }

    /// The stream's one subject filter: `<prefix>.>`.
    pub fn subjects_filter(&self) -> String {
        format!("{}.>", self.subject_prefix)
    }

    pub(crate) fn validate(&self) -> Result<(), LogError> {
        let invalid = |reason: String| Err(LogError::InvalidConfig { reason });
        if self.stream_name.is_empty()
            || !self
                .stream_name
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-')
        {
            return invalid(format!(
                "stream name {:?} must be non-empty [A-Za-z0-9_-]",
                self.stream_name
            ));
        }
        if self.subject_prefix.is_empty()
            || self.subject_prefix.split('.').any(|token| {
                token.is_empty()
                    || token.contains(['*', '>'])
                    || token.contains(char::is_whitespace)
            })
        {
            return invalid(format!(
                "subject prefix {:?} must be dot-separated literal tokens",
                self.subject_prefix
            ));
        }
        if let Err(reason) = check_replicas(self.replicas) {
            return invalid(reason);
        }
        if self.max_bytes == 0 || i64::try_from(self.max_bytes).is_err() {
            return invalid(format!(
                "max_bytes must be positive and fit in i64, not {}",
                self.max_bytes
            ));
        }
        if self.max_msg_size == 0 || i32::try_from(self.max_msg_size).is_err() {
            return invalid(format!(
                "max_msg_size must be positive and fit in i32, not {}",
                self.max_msg_size
            ));
        }
        if self.duplicate_window.is_zero() {
            return invalid("duplicate_window must be positive".to_owned());
        }
        Ok(())
    }

    /// The full stream configuration, every field spelled out (including the ones equal to
    /// the server's defaults), as sent to `STREAM.CREATE` and compared at start.
    pub(crate) fn expected_stream_config(&self) -> Map<String, Value> {
        let duplicate_window_nanos =
            u64::try_from(self.duplicate_window.as_nanos()).unwrap_or(u64::MAX);
        let value = json!({
            "name": self.stream_name,
            "subjects": [self.subjects_filter()],
            "retention": "limits",
            "max_consumers": -1,
            "max_msgs": -1,
            "max_bytes": self.max_bytes,
            "max_age": 0,
            "max_msgs_per_subject": -1,
            "max_msg_size": self.max_msg_size,
            "discard": "new",
            "storage": "file",
            "num_replicas": self.replicas,
            "duplicate_window": duplicate_window_nanos,
            "compression": "none",
            "allow_direct": true,
            "mirror_direct": false,
            "sealed": false,
            "deny_delete": true,
            "deny_purge": true,
            "allow_rollup_hdrs": false,
            "consumer_limits": {},
            "allow_msg_ttl": false,
            "allow_msg_schedules": false,
            "allow_msg_counter": false,
            "allow_atomic": true,
            "allow_batched": false,
            "discard_new_per_subject": false,
            "no_ack": false,
            "subject_delete_marker_ttl": 0,
            "metadata": {},
        });
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }
}

/// Compares the configuration the server reports with the expected one. Returns the first
/// difference (fields in a stable, alphabetical order) as `ConfigDrift`.
pub(crate) fn compare_stream_config(
    stream: &str,
    expected: &Map<String, Value>,
    found: &Map<String, Value>,
) -> Result<(), LogError> {
    let mut fields: Vec<&String> = expected.keys().chain(found.keys()).collect();
    fields.sort();
    fields.dedup();
    for field in fields {
        let null = Value::Null;
        let want = expected.get(field.as_str()).unwrap_or(&null);
        let have = found.get(field.as_str()).unwrap_or(&null);
        if field == "metadata" {
            compare_metadata(stream, want, have)?;
            continue;
        }
        if !same_value(want, have) {
            return Err(drift(stream, field, want, have));
        }
    }
    Ok(())
}

fn compare_metadata(stream: &str, want: &Value, have: &Value) -> Result<(), LogError> {
    let empty = Map::new();
    let want_map = want.as_object().unwrap_or(&empty);
    let have_map = have.as_object().unwrap_or(&empty);
    let mut keys: Vec<&String> = want_map
        .keys()
        .chain(have_map.keys())
        .filter(|key| !key.starts_with("_nats."))
        .collect();
    keys.sort();
    keys.dedup();
    for key in keys {
        let null = Value::Null;
        let want_value = want_map.get(key.as_str()).unwrap_or(&null);
        let have_value = have_map.get(key.as_str()).unwrap_or(&null);
        if !same_value(want_value, have_value) {
            return Err(drift(
                stream,
                &format!("metadata.{key}"),
                want_value,
                have_value,
            ));
        }
    }
    Ok(())
}

fn drift(stream: &str, field: &str, want: &Value, have: &Value) -> LogError {
    let show = |value: &Value| {
        if is_zero(value) && value.is_null() {
            "absent".to_owned()
        } else {
            value.to_string()
        }
    };
    LogError::ConfigDrift {
        stream: stream.to_owned(),
        field: field.to_owned(),
        expected: show(want),
        found: show(have),
    }
}

/// Equal, where an absent field equals its zero value and numbers compare by value.
fn same_value(want: &Value, have: &Value) -> bool {
    if is_zero(want) && is_zero(have) {
        return true;
    }
    match (want, have) {
        (Value::Number(a), Value::Number(b)) => {
            a.as_i64().zip(b.as_i64()).is_some_and(|(a, b)| a == b)
                || a.as_u64().zip(b.as_u64()).is_some_and(|(a, b)| a == b)
                || a.as_f64().zip(b.as_f64()).is_some_and(|(a, b)| a == b)
        }
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter().all(|key| {
                let null = Value::Null;
                same_value(
                    a.get(key.as_str()).unwrap_or(&null),
                    b.get(key.as_str()).unwrap_or(&null),
                )
            })
        }
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(a, b)| same_value(a, b))
        }
        _ => want == have,
    }
}

fn is_zero(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(flag) => !flag,
        Value::Number(number) => number.as_f64() == Some(0.0),
        Value::String(text) => text.is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.values().all(is_zero),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expected() -> Map<String, Value> {
        LogConfig::new(1_000_000).expected_stream_config()
    }

    #[test]
    fn server_echo_with_omitted_false_fields_and_nats_metadata_matches() {
        let mut found = expected();
        found.remove("allow_msg_schedules");
        found.remove("allow_msg_counter");
        found.remove("subject_delete_marker_ttl");
        found.insert(
            "metadata".to_owned(),
            json!({"_nats.ver": "2.15.1", "_nats.level": "5", "_nats.req.level": "2"}),
        );
        assert_eq!(compare_stream_config("S", &expected(), &found), Ok(()));
    }

    #[test]
    fn changed_max_age_is_named() {
        let mut found = expected();
        found.insert("max_age".to_owned(), json!(3_600_000_000_000u64));
        let error = compare_stream_config("S", &expected(), &found).unwrap_err();
        assert_eq!(
            error,
            LogError::ConfigDrift {
                stream: "S".to_owned(),
                field: "max_age".to_owned(),
                expected: "0".to_owned(),
                found: "3600000000000".to_owned(),
            }
        );
    }

    #[test]
    fn unknown_non_zero_field_and_foreign_metadata_are_drift() {
        let mut found = expected();
        found.insert("allow_msg_ttl".to_owned(), json!(true));
        let error = compare_stream_config("S", &expected(), &found).unwrap_err();
        assert!(
            matches!(error, LogError::ConfigDrift { ref field, .. } if field == "allow_msg_ttl")
        );

        let mut found = expected();
        found.insert("placement".to_owned(), json!({"cluster": "c1"}));
        let error = compare_stream_config("S", &expected(), &found).unwrap_err();
        assert!(matches!(error, LogError::ConfigDrift { ref field, .. } if field == "placement"));

        let mut found = expected();
        found.insert("metadata".to_owned(), json!({"owner": "someone"}));
        let error = compare_stream_config("S", &expected(), &found).unwrap_err();
        assert!(
            matches!(error, LogError::ConfigDrift { ref field, .. } if field == "metadata.owner")
        );
    }

    #[test]
    fn config_validation() {
        let mut config = LogConfig::new(1);
        assert_eq!(config.validate(), Ok(()));
        for refused in [0, 2, 4, 6] {
            config.replicas = refused;
            assert!(config.validate().is_err(), "replicas {refused}");
        }
        config.replicas = 5;
        assert_eq!(config.validate(), Ok(()));
        config.replicas = 3;
        assert_eq!(config.validate(), Ok(()));
        config.max_bytes = 0;
        assert!(config.validate().is_err());
        config.max_bytes = 10;
        config.subject_prefix = "samla.*".to_owned();
        assert!(config.validate().is_err());
    }
}
