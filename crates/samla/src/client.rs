//! The Samla API as a client sees it: where it is, which token to send, and the calls the
//! commands make (post events, get JSON, follow the live stream).
//!
//! Every reader goes through the API as its caller, so one visibility rule covers queries,
//! tail, export and replay; nothing here reads NATS or sled directly.

use std::time::Duration;

use anyhow::Context as _;
use reqwest::StatusCode;
use serde_json::Value;

use crate::cli::ClientArgs;
use crate::exit::{CliError, CliResult, unavailable, usage};
use crate::local::{Credentials, LocalStack};

/// How many times a request refused with 503 or 429 is retried before giving up.
const RETRIES: u32 = 8;

/// A client of one Samla API with one token.
#[derive(Debug, Clone)]
pub struct Api {
    base: reqwest::Url,
    http: reqwest::Client,
    token: String,
}

/// One item's answer from the ingest door.
#[derive(Debug, Clone)]
pub enum ItemOutcome {
    Stored {
        id: String,
        seq: u64,
        duplicate: bool,
    },
    Refused {
        id: Option<String>,
        code: String,
        field: Option<String>,
        reason: String,
    },
}

impl ItemOutcome {
    fn from_json(item: &Value) -> ItemOutcome {
        let id = item["id"].as_str().map(ToOwned::to_owned);
        if let Some(seq) = item["seq"].as_u64() {
            return ItemOutcome::Stored {
                id: id.unwrap_or_default(),
                seq,
                duplicate: item["duplicate"].as_bool().unwrap_or(false),
            };
        }
        let error = &item["error"];
        ItemOutcome::Refused {
            id,
            code: error["code"].as_str().unwrap_or("unknown").to_owned(),
            field: error["field"].as_str().map(ToOwned::to_owned),
            reason: error["reason"]
                .as_str()
                .or_else(|| error["message"].as_str())
                .unwrap_or("no reason given")
                .to_owned(),
        }
    }
}

impl Api {
    pub fn new(base: &str, token: impl Into<String>) -> CliResult<Api> {
        let mut base = reqwest::Url::parse(base).map_err(|error| {
            usage(format!(
                "--api {base}: {error} (write e.g. http://127.0.0.1:8080/)"
            ))
        })?;
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .build()
            .context("building the HTTP client")?;
        Ok(Api {
            base,
            http,
            token: token.into(),
        })
    }

    pub fn base(&self) -> &reqwest::Url {
        &self.base
    }

    fn url(&self, path: &str) -> CliResult<reqwest::Url> {
        self.base
            .join(path.trim_start_matches('/'))
            .map_err(|error| usage(format!("{path}: {error}")))
    }

    fn unreachable(&self, error: &reqwest::Error) -> CliError {
        unavailable(format!(
            "the Samla API at {} cannot be reached ({error}); is `samla up` (or `samla serve`) running?",
            self.base
        ))
    }

    /// `POST /v1/events` with `items`; retries 429 and 503 (the same ids, so nothing is
    /// stored twice) and returns one outcome per item, in order.
    pub async fn post_events(&self, items: &[Value]) -> CliResult<Vec<ItemOutcome>> {
        let url = self.url("v1/events")?;
        let body = serde_json::to_vec(items).context("encoding the events")?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let response = self
                .http
                .post(url.clone())
                .bearer_auth(&self.token)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.clone())
                .send()
                .await;
            let response = match response {
                Ok(response) => response,
                Err(error) if attempt <= RETRIES && (error.is_connect() || error.is_timeout()) => {
                    backoff(attempt, None).await;
                    continue;
                }
                Err(error) => return Err(self.unreachable(&error)),
            };
            let status = response.status();
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.parse::<u64>().ok())
                .map(Duration::from_secs);
            let body: Value = response.json().await.unwrap_or(Value::Null);
            if let Value::Array(replies) = &body {
                // 503 with an item array: nothing was stored, retrying can help.
                if status == StatusCode::SERVICE_UNAVAILABLE && attempt <= RETRIES {
                    backoff(attempt, retry_after).await;
                    continue;
                }
                return Ok(replies.iter().map(ItemOutcome::from_json).collect());
            }
            match status {
                StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
                    if attempt <= RETRIES =>
                {
                    backoff(attempt, retry_after).await;
                }
                _ => return Err(refusal(status, &body)),
            }
        }
    }

    /// `GET path` as JSON; an error status becomes the matching [`CliError`].
    pub async fn get_json(&self, path: &str) -> CliResult<Value> {
        let url = self.url(path)?;
        let response = self
            .http
            .get(url)
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|error| self.unreachable(&error))?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if status.is_success() {
            Ok(body)
        } else {
            Err(refusal(status, &body))
        }
    }

    /// `GET path` as a streaming response (the live stream), with `Last-Event-ID`.
    pub async fn get_stream(
        &self,
        path: &str,
        last_event_id: Option<u64>,
    ) -> CliResult<reqwest::Response> {
        let url = self.url(path)?;
        let mut request = self
            .http
            .get(url)
            .bearer_auth(&self.token)
            .header(reqwest::header::ACCEPT, "text/event-stream");
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id.to_string());
        }
        let response = request
            .send()
            .await
            .map_err(|error| self.unreachable(&error))?;
        let status = response.status();
        if status.is_success() {
            Ok(response)
        } else {
            let body: Value = response.json().await.unwrap_or(Value::Null);
            Err(refusal(status, &body))
        }
    }
}

async fn backoff(attempt: u32, retry_after: Option<Duration>) {
    let wait = retry_after.unwrap_or_else(|| Duration::from_millis(100 << attempt.min(6)));
    tokio::time::sleep(wait.min(Duration::from_secs(10))).await;
}

/// An API error body (`{"code", "message", "field"?}`) as the matching [`CliError`].
fn refusal(status: StatusCode, body: &Value) -> CliError {
    let code = body["code"].as_str().unwrap_or("");
    let message = body["message"].as_str().unwrap_or("");
    let field = body["field"]
        .as_str()
        .map(|field| format!(" (field `{field}`)"))
        .unwrap_or_default();
    let text = if message.is_empty() {
        format!("the API answered {status}")
    } else {
        format!("the API answered {status}: {message}{field} [{code}]")
    };
    match status {
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => CliError::NotAllowed(text),
        StatusCode::SERVICE_UNAVAILABLE | StatusCode::BAD_GATEWAY | StatusCode::GATEWAY_TIMEOUT => {
            CliError::Unavailable(text)
        }
        status if status.is_client_error() => CliError::BadInput(text),
        _ => CliError::Failed(anyhow::anyhow!(text)),
    }
}

/// The API's base URL: `--api`, else the running local stack of `--data-dir`.
pub fn api_url(api: Option<&str>, stack: &LocalStack) -> CliResult<String> {
    if let Some(api) = api {
        return Ok(api.to_owned());
    }
    stack.running().map(|running| running.api).ok_or_else(|| {
        unavailable(format!(
            "no running local stack in {} (no stack.json): start one with `samla up`, or give --api URL",
            stack.root().display()
        ))
    })
}

/// The API client for a command's [`ClientArgs`]: `--token`, or `--org` from the local
/// stack's credentials.
pub fn from_args(args: &ClientArgs) -> CliResult<Api> {
    let stack = LocalStack::at(&args.data.data_dir);
    let url = api_url(args.api.as_deref(), &stack)?;
    let token = match (&args.token, &args.org) {
        (Some(token), _) => token.clone(),
        (None, Some(org)) => Credentials::load(&stack)?.org_token(org)?.to_owned(),
        (None, None) => {
            return Err(CliError::NotAllowed(
                "no credential: give --token TOKEN (or SAMLA_TOKEN), or --org NAME for an organisation of the local stack".into(),
            ));
        }
    };
    Api::new(&url, token)
}
