//! `samla export`: a read model as CSV or HXL CSV, read through the API as the caller, so
//! the same visibility and small-count rules apply as on screen.

use samla_import::export::{ExportOptions, rows_of, to_csv_with};
use serde_json::Value;

use crate::cli::ExportArgs;
use crate::client::{self, Api};
use crate::exit::{CliError, CliResult, usage};
use crate::tail::only_incident;

/// `view → (route, list key, paged)`.
const VIEWS: [(&str, &str, &str, bool); 16] = [
    ("sites", "sites", "items", true),
    ("offers", "offers", "items", true),
    ("needs", "needs", "items", true),
    ("resources", "resources", "items", true),
    ("issues", "issues", "items", true),
    ("situation-reports", "reports", "situation_reports", false),
    ("arrivals", "reports", "arrivals", false),
    ("services", "reports", "services", false),
    ("hospitals", "reports", "hospitals", false),
    ("alerts", "reports", "alerts", false),
    ("organisations", "network", "organisations", false),
    ("responsibilities", "network", "responsibilities", false),
    ("presence", "network", "presence", false),
    ("meetings", "network", "meetings", false),
    ("decisions", "network", "decisions", false),
    ("actions", "network", "actions", false),
];

/// The names `samla export` accepts.
pub fn view_names() -> Vec<&'static str> {
    VIEWS.iter().map(|(name, ..)| *name).collect()
}

/// Runs `samla export`.
pub async fn export(args: ExportArgs) -> CliResult {
    let Some((_, route, key, paged)) = VIEWS.iter().find(|(name, ..)| *name == args.view) else {
        return Err(usage(format!(
            "unknown view `{}`: one of {}",
            args.view,
            view_names().join(", ")
        )));
    };
    let api = client::from_args(&args.client)?;
    let incident = match &args.incident {
        Some(incident) => incident.clone(),
        None => only_incident(&api).await?,
    };
    let rows = fetch(&api, &incident, route, key, *paged).await?;
    let options = ExportOptions {
        hxl: args.hxl,
        delimiter: if args.semicolon { b';' } else { b',' },
        excel_bom: args.semicolon,
    };
    let mut buffer = Vec::new();
    to_csv_with(&rows, &options, &mut buffer)
        .map_err(|error| CliError::Failed(anyhow::anyhow!("{error}")))?;
    match &args.out {
        Some(path) => std::fs::write(path, &buffer).map_err(|error| {
            CliError::Failed(anyhow::anyhow!("writing {}: {error}", path.display()))
        })?,
        None => {
            use std::io::Write as _;
            std::io::stdout()
                .write_all(&buffer)
                .map_err(|error| CliError::Failed(anyhow::anyhow!("{error}")))?;
        }
    }
    if args.out.is_some() {
        eprintln!("samla export: {} rows of {} written", rows.len(), args.view);
    }
    Ok(())
}

async fn fetch(
    api: &Api,
    incident: &str,
    route: &str,
    key: &str,
    paged: bool,
) -> CliResult<Vec<Value>> {
    let mut rows = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("v1/incidents/{incident}/{route}");
        if paged {
            path.push_str("?limit=1000");
            if let Some(cursor) = &cursor {
                path.push_str(&format!("&cursor={cursor}"));
            }
        }
        let answer = api.get_json(&path).await?;
        let page = rows_of(&answer, Some(key))
            .map_err(|error| CliError::Failed(anyhow::anyhow!("{error}")))?;
        rows.extend(page.iter().cloned());
        cursor = answer["next_cursor"].as_str().map(ToOwned::to_owned);
        if !paged || cursor.is_none() {
            return Ok(rows);
        }
    }
}
