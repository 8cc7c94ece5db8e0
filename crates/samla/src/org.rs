//! `samla org add` and `samla org list` on a local stack: the organisation's API token
//! (hashed into the token file every replica rereads) and its NATS user (written into the
//! server's users file, then the running server is reloaded).

use proto_events::OrgId;
use serde_json::json;

use crate::cli::{DataDirArgs, OrgAddArgs};
use crate::exit::{CliResult, usage};
use crate::local::{Credentials, LocalStack};
use crate::nats_child;

/// Adds `org` to the stack (tokens, NATS users, reload); says whether it was new.
pub fn add_orgs(
    stack: &LocalStack,
    credentials: &mut Credentials,
    orgs: &[OrgId],
) -> CliResult<bool> {
    let mut added = false;
    for org in orgs {
        added |= credentials.ensure_org(org);
    }
    if added {
        credentials.save(stack)?;
        nats_child::write_auth(stack, credentials)?;
        nats_child::reload(stack)?;
    }
    Ok(added)
}

/// Runs `samla org add`, or `samla org rotate` (new credentials for an existing one).
pub fn add(args: OrgAddArgs, rotate: bool) -> CliResult {
    let org = OrgId::new(&args.name).map_err(|reason| {
        usage(format!(
            "`{}` cannot be an organisation id: {reason} (use lower case a-z, 0-9, `_` and `-`, e.g. malmo-stad)",
            args.name
        ))
    })?;
    let stack = LocalStack::at(&args.data.data_dir);
    let mut credentials = Credentials::load_or_create(&stack)?;
    if rotate && credentials.orgs.remove(&org).is_none() {
        return Err(usage(format!(
            "`{org}` is not an organisation of this stack; add it with `samla org add {org}`"
        )));
    }
    let added = add_orgs(&stack, &mut credentials, std::slice::from_ref(&org))?;
    let running = stack.running();
    let org_credentials = &credentials.orgs[&org];
    let nats_user = samla_api::nats_permissions::org_user_name(&org);
    let api = running.as_ref().map(|running| running.api.clone());
    let nats = running.as_ref().map(|running| running.nats.clone());
    if args.json {
        println!(
            "{}",
            json!({
                "org": org, "added": added, "token": org_credentials.token,
                "nats_user": nats_user, "nats_password": org_credentials.nats_password,
                "ingest_subject": format!("samla.ingest.<incident>.{org}"),
                "inbox_prefix": proto_events::subject::inbox_prefix(&org),
                "api": api, "nats": nats,
            })
        );
        return Ok(());
    }
    println!(
        "{} {org}.",
        if added {
            "Added organisation"
        } else {
            "Organisation exists:"
        }
    );
    println!("Token {org}: {}", org_credentials.token);
    println!("NATS user: {nats_user}");
    println!("NATS password: {}", org_credentials.nats_password);
    println!();
    println!(
        "Over HTTP: POST {}v1/events with `Authorization: Bearer <token>`.",
        api.as_deref().unwrap_or("http://HOST:PORT/")
    );
    println!(
        "Over NATS ({}): a request to samla.ingest.<incident>.{org} with MessagePack, as user {nats_user}, with inbox prefix {}.",
        nats.as_deref().unwrap_or("nats://HOST:PORT"),
        proto_events::subject::inbox_prefix(&org)
    );
    println!("Examples: examples/ in the Samla source tree.");
    Ok(())
}

/// Runs `samla org list`.
pub fn list(data: &DataDirArgs, json_output: bool) -> CliResult {
    let stack = LocalStack::at(&data.data_dir);
    let credentials = Credentials::load(&stack)?;
    if json_output {
        let orgs: Vec<_> = credentials
            .orgs
            .iter()
            .map(|(org, c)| {
                json!({"org": org, "token": c.token,
                       "nats_user": samla_api::nats_permissions::org_user_name(org),
                       "nats_password": c.nats_password})
            })
            .collect();
        println!("{}", json!({ "orgs": orgs }));
    } else {
        println!("{:<24} {:<28} NATS password", "ORGANISATION", "NATS USER");
        for (org, c) in &credentials.orgs {
            println!(
                "{:<24} {:<28} {}",
                org.as_str(),
                samla_api::nats_permissions::org_user_name(org),
                c.nats_password
            );
        }
    }
    Ok(())
}
