//! `samla tail`: the live stream of one incident as the caller sees it (Server-Sent
//! Events from the API), reconnecting with `Last-Event-ID` so nothing is missed or shown
//! twice when the connection or the server drops.

use std::time::Duration;

use futures::StreamExt as _;
use serde_json::Value;

use crate::cli::TailArgs;
use crate::client::{self, Api};
use crate::exit::{CliError, CliResult, usage};

/// Runs `samla tail`.
pub async fn tail(args: TailArgs) -> CliResult {
    let api = client::from_args(&args.client)?;
    let incident = match &args.incident {
        Some(incident) => incident.clone(),
        None => only_incident(&api).await?,
    };
    let path = format!("v1/incidents/{incident}/live");
    let silence = Duration::from_secs(args.silence);
    let mut last_id = args.after;
    let mut shown = 0u64;
    let mut failures = 0u32;
    loop {
        let answer = tokio::time::timeout(silence, api.get_stream(&path, last_id))
            .await
            .unwrap_or_else(|_| {
                Err(CliError::Unavailable(format!(
                    "the server did not answer within {} s",
                    args.silence
                )))
            });
        let response = match answer {
            Ok(response) => response,
            Err(CliError::Unavailable(message)) if failures < 30 => {
                failures += 1;
                eprintln!("samla tail: {message}; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
            Err(error) => return Err(error),
        };
        failures = 0;
        let mut body = response.bytes_stream();
        let mut buffer = String::new();
        let mut event = SseEvent::default();
        loop {
            let chunk = match tokio::time::timeout(silence, body.next()).await {
                Ok(Some(Ok(chunk))) => chunk,
                Ok(None | Some(Err(_))) => break,
                Err(_) => {
                    eprintln!(
                        "samla tail: nothing from the server for {} s, not even its keep-alive: \
                         the connection is taken as dead",
                        args.silence
                    );
                    break;
                }
            };
            buffer.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buffer.find('\n') {
                let line = buffer[..end].trim_end_matches('\r').to_owned();
                buffer.drain(..=end);
                if line.is_empty() {
                    if let Some(data) = event.data.take() {
                        if let Some(id) = event.id {
                            last_id = Some(id);
                        }
                        print_event(args.json, &data);
                        shown += 1;
                        if args.limit.is_some_and(|limit| shown >= limit) {
                            return Ok(());
                        }
                    }
                    event = SseEvent::default();
                } else {
                    event.line(&line);
                }
            }
        }
        // The stream ended (server restart, network): resume after the last event shown.
        eprintln!(
            "samla tail: the stream ended; reconnecting after seq {}",
            last_id.unwrap_or(0)
        );
    }
}

#[derive(Debug, Default)]
struct SseEvent {
    id: Option<u64>,
    data: Option<String>,
}

impl SseEvent {
    fn line(&mut self, line: &str) {
        if line.starts_with(':') {
            return; // a keep-alive comment
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "id" => self.id = value.parse().ok(),
            "data" => match &mut self.data {
                Some(data) => {
                    data.push('\n');
                    data.push_str(value);
                }
                None => self.data = Some(value.to_owned()),
            },
            _ => {}
        }
    }
}

fn print_event(json_output: bool, data: &str) {
    if json_output {
        println!("{data}");
        return;
    }
    let value: Value = serde_json::from_str(data).unwrap_or(Value::Null);
    println!(
        "{:>8}  {}  {:<18} {:<24} {}",
        value["seq"].as_u64().unwrap_or(0),
        value["recorded_at"].as_str().unwrap_or("-"),
        value["org"].as_str().unwrap_or("-"),
        value["kind"].as_str().unwrap_or("-"),
        value["summary"].as_str().unwrap_or("")
    );
}

/// The one incident the caller sees, or an error listing them.
pub async fn only_incident(api: &Api) -> CliResult<String> {
    let incidents = api.get_json("v1/incidents").await?;
    let ids: Vec<String> = incidents["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|item| item["id"].as_str().map(ToOwned::to_owned))
        .collect();
    match ids.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(usage(
            "no incident is visible to this credential yet; give --incident",
        )),
        many => Err(usage(format!(
            "several incidents: give --incident ({})",
            many.join(", ")
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::SseEvent;

    #[test]
    fn sse_fields_are_read_and_comments_ignored() {
        let mut event = SseEvent::default();
        event.line(": keep-alive");
        event.line("id: 42");
        event.line("event: applied");
        event.line("data: {\"a\":");
        event.line("data: 1}");
        assert_eq!(event.id, Some(42));
        assert_eq!(event.data.as_deref(), Some("{\"a\":\n1}"));
    }
}
