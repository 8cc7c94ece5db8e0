//! Send one event to Samla over NATS as your organisation (async-nats + rmp-serde).
//!
//! The event is a MessagePack map with the fields of proto-events/schema/need_raised.json.
//! Environment: SAMLA_NATS_URL, SAMLA_ORG, SAMLA_NATS_PASSWORD, SAMLA_INCIDENT.
//! Dependencies: tokio, async-nats, rmp-serde, serde_json, uuid (v7), jiff.

use std::env::var;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let org = var("SAMLA_ORG")?;
    let incident = var("SAMLA_INCIDENT").unwrap_or_else(|_| "malmo-mottagning".into());
    let now = jiff::Timestamp::now()
        .round(jiff::Unit::Second)?
        .to_string();
    let event = serde_json::json!({
        // Keep the id: a retry with the same id is never stored twice.
        "id": uuid::Uuid::now_v7().to_string(),
        "kind": "need_raised", "v": 2,
        "incident": incident, "org": org,
        "function": "samordnare", // a role, never a person's name
        "aggregate": {"type": "need", "id": format!("need-{}", &uuid::Uuid::now_v7().simple().to_string()[20..])},
        "occurred_at": now, "status": "actual", "audience": "network", "area": "1280",
        "payload": {"category": "other", "subcategory": "hygien", "quantity": 60, "unit": "items", "people": 60,
                    "urgency": "normal", "note": "Hygienpaket till nya ankomster."},
    });
    let client = async_nats::ConnectOptions::with_user_and_password(
        format!("org-{org}"),
        var("SAMLA_NATS_PASSWORD")?,
    )
    .custom_inbox_prefix(format!("_INBOX_{org}"))
    .connect(var("SAMLA_NATS_URL")?)
    .await?;
    let body = rmp_serde::to_vec_named(&serde_json::json!([event]))?;
    let reply = client
        .request(format!("samla.ingest.{incident}.{org}"), body.into())
        .await?;
    let answers: Vec<serde_json::Value> = rmp_serde::from_slice(&reply.payload)?;
    println!("{}", answers[0]);
    if answers[0].get("seq").is_none() {
        std::process::exit(1);
    }
    Ok(())
}
