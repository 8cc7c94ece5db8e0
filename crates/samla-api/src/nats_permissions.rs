//! The NATS side of security: the `authorization` block nats-server is started with, and
//! the connect options each kind of user connects with.
//!
//! Who may do what (everything not allowed is denied):
//!
//! | user | publish | subscribe |
//! |---|---|---|
//! | `org-<org>` (one per organisation) | `samla.ingest.*.<org>` | `_INBOX_<org>.>` |
//! | `samla-ingest` | `samla.evt.>`, `$JS.API.>`, replies to requests it received (`allow_responses`) | `samla.ingest.>`, `_INBOX_SVC_ingest.>` |
//! | `samla-projector`, `samla-api` | the read-only JetStream API of the log stream (info, message get, ephemeral consumers) | `_INBOX_SVC_<service>.>` |
//!
//! So an organisation can only ask the ingest service to append, and only for itself (the
//! subject names the organisation, and its user may publish on no other); it has no
//! `$JS.API` right at all, cannot read other organisations' requests or replies, and
//! reads the picture through the API as itself. The ingest service is the only writer of
//! `samla.evt.>`; the projector and the API read the log but may not append, purge or
//! delete. Every user's replies come to its own inbox prefix (`_INBOX_<org>`,
//! `_INBOX_SVC_<service>`; organisation ids are lower case, so the upper-case `SVC` can
//! never collide with one).
//!
//! Credentials: password users or nkey users. With passwords, the rendered block holds
//! them in plain text (nats-server also accepts bcrypt hashes, `$2a$…`, which this
//! renderer passes through): keep the config file mode 0600 and owned by the server's
//! user. Nkeys keep only public keys in the file and are preferred in production.
//! `samla org add` appends a user and reloads the server (`nats-server --signal reload`).

use std::fmt::Write as _;

use base64::Engine as _;
use proto_events::OrgId;
use proto_events::subject::{INGEST_PREFIX, inbox_prefix, ingest_permission};
use rand::RngCore as _;
use samla_log::{Auth, ConnectOptions};

use crate::error::ApiError;

/// How a user proves who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NatsCredential {
    /// A password (or a bcrypt hash of one, `$2a$…`).
    Password(String),
    /// An nkey user's public key (`U…`); the client holds the seed.
    Nkey(String),
}

/// One organisation's NATS user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgUser {
    pub org: OrgId,
    pub credential: NatsCredential,
}

/// The services that connect to NATS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceRole {
    /// Serves `samla.ingest.>` and appends to the log: the only writer.
    Ingest,
    /// Reads the log into read models.
    Projector,
    /// Reads the log for timelines and live streams.
    Api,
}

impl ServiceRole {
    /// The NATS user name.
    pub fn user(self) -> &'static str {
        match self {
            ServiceRole::Ingest => "samla-ingest",
            ServiceRole::Projector => "samla-projector",
            ServiceRole::Api => "samla-api",
        }
    }

    /// The reply inbox prefix its connection must use.
    pub fn inbox_prefix(self) -> &'static str {
        match self {
            ServiceRole::Ingest => "_INBOX_SVC_ingest",
            ServiceRole::Projector => "_INBOX_SVC_projector",
            ServiceRole::Api => "_INBOX_SVC_api",
        }
    }
}

/// Everything the `authorization` block is rendered from.
#[derive(Debug, Clone)]
pub struct NatsPermissions {
    /// The log stream (`SAMLA_LOG`).
    pub stream_name: String,
    /// The log's subject prefix (`samla.evt`).
    pub event_prefix: String,
    pub orgs: Vec<OrgUser>,
    pub ingest: NatsCredential,
    pub projector: Option<NatsCredential>,
    pub api: Option<NatsCredential>,
}

/// The NATS user name of an organisation.
pub fn org_user_name(org: &OrgId) -> String {
    format!("org-{org}")
}

/// Connect options for an organisation's password user: its user name and its inbox
/// prefix (without which its replies could not reach it).
pub fn org_connect_options(org: &OrgId, password: &str) -> ConnectOptions {
    ConnectOptions {
        name: format!("samla-org-{org}"),
        auth: Auth::UserPassword {
            user: org_user_name(org),
            password: password.to_owned(),
        },
        inbox_prefix: Some(inbox_prefix(org)),
        ..ConnectOptions::default()
    }
}

/// Connect options for a service's password user.
pub fn service_connect_options(role: ServiceRole, password: &str) -> ConnectOptions {
    ConnectOptions {
        name: role.user().to_owned(),
        auth: Auth::UserPassword {
            user: role.user().to_owned(),
            password: password.to_owned(),
        },
        inbox_prefix: Some(role.inbox_prefix().to_owned()),
        ..ConnectOptions::default()
    }
}

/// A random password: 24 bytes from the thread's CSPRNG, base64url.
pub fn generate_password() -> String {
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

impl NatsPermissions {
    /// The usual shape: `SAMLA_LOG` over `samla.evt`.
    pub fn new(orgs: Vec<OrgUser>, ingest: NatsCredential) -> Self {
        NatsPermissions {
            stream_name: samla_log::DEFAULT_STREAM_NAME.to_owned(),
            event_prefix: samla_log::DEFAULT_SUBJECT_PREFIX.to_owned(),
            orgs,
            ingest,
            projector: None,
            api: None,
        }
    }

    /// Renders the `authorization { users: [...] }` block for nats-server's config.
    pub fn render(&self) -> Result<String, ApiError> {
        check_token("stream name", &self.stream_name)?;
        for token in self.event_prefix.split('.') {
            check_token("event prefix", token)?;
        }
        let events = format!("{}.>", self.event_prefix);
        let mut out = String::new();
        out.push_str(
            "# Samla's NATS users, rendered by samla-api (nats_permissions.rs).\n\
             # Organisations may only send requests to the ingest service, for themselves;\n\
             # only samla-ingest writes the log. Keep this file mode 0600.\n\
             authorization {\n  users: [\n",
        );
        for user in &self.orgs {
            let org = &user.org;
            UserBlock {
                comment: format!(
                    "organisation {org}: ingest requests for itself, replies on its own inbox"
                ),
                user: org_user_name(org),
                credential: &user.credential,
                publish: vec![ingest_permission(org)],
                deny_publish: vec![events.clone(), "$JS.>".to_owned()],
                subscribe: vec![format!("{}.>", inbox_prefix(org))],
                allow_responses: false,
            }
            .render(&mut out)?;
        }
        UserBlock {
            comment: "the ingest service: the only writer of the log".to_owned(),
            user: ServiceRole::Ingest.user().to_owned(),
            credential: &self.ingest,
            publish: vec![events.clone(), "$JS.API.>".to_owned()],
            deny_publish: Vec::new(),
            subscribe: vec![
                format!("{INGEST_PREFIX}.>"),
                format!("{}.>", ServiceRole::Ingest.inbox_prefix()),
            ],
            allow_responses: true,
        }
        .render(&mut out)?;
        for (role, credential) in [
            (ServiceRole::Projector, &self.projector),
            (ServiceRole::Api, &self.api),
        ] {
            if let Some(credential) = credential {
                UserBlock {
                    comment: format!(
                        "the {} service: reads the log, never writes it",
                        role.user()
                    ),
                    user: role.user().to_owned(),
                    credential,
                    publish: read_only_api(&self.stream_name),
                    deny_publish: vec![events.clone(), format!("{INGEST_PREFIX}.>")],
                    subscribe: vec![format!("{}.>", role.inbox_prefix())],
                    allow_responses: false,
                }
                .render(&mut out)?;
            }
        }
        out.push_str("  ]\n}\n");
        Ok(out)
    }
}

/// The JetStream API subjects a reader of the log needs: stream info, message get,
/// direct get, and ephemeral ack-less consumers (create, info, delete, next).
fn read_only_api(stream: &str) -> Vec<String> {
    [
        "$JS.API.INFO".to_owned(),
        format!("$JS.API.STREAM.INFO.{stream}"),
        format!("$JS.API.STREAM.MSG.GET.{stream}"),
        format!("$JS.API.DIRECT.GET.{stream}"),
        format!("$JS.API.DIRECT.GET.{stream}.>"),
        format!("$JS.API.CONSUMER.CREATE.{stream}"),
        format!("$JS.API.CONSUMER.CREATE.{stream}.>"),
        format!("$JS.API.CONSUMER.INFO.{stream}.>"),
        format!("$JS.API.CONSUMER.DELETE.{stream}.>"),
        format!("$JS.API.CONSUMER.MSG.NEXT.{stream}.>"),
    ]
    .into()
}

/// One user entry of the `users` list.
struct UserBlock<'a> {
    comment: String,
    user: String,
    credential: &'a NatsCredential,
    publish: Vec<String>,
    deny_publish: Vec<String>,
    subscribe: Vec<String>,
    allow_responses: bool,
}

impl UserBlock<'_> {
    fn render(&self, out: &mut String) -> Result<(), ApiError> {
        let list = |subjects: &[String]| -> Result<String, ApiError> {
            let mut quoted = Vec::with_capacity(subjects.len());
            for subject in subjects {
                check_quoted("subject", subject)?;
                quoted.push(format!("\"{subject}\""));
            }
            Ok(format!("[{}]", quoted.join(", ")))
        };
        let _ = writeln!(out, "    # {}", self.comment);
        out.push_str("    {\n");
        match self.credential {
            NatsCredential::Password(password) => {
                check_quoted("user", &self.user)?;
                check_quoted("password", password)?;
                if password.is_empty() {
                    return Err(invalid("an empty password"));
                }
                let _ = writeln!(
                    out,
                    "      user: \"{}\"\n      password: \"{password}\"",
                    self.user
                );
            }
            NatsCredential::Nkey(public) => {
                if !(public.starts_with('U') && public.bytes().all(|b| b.is_ascii_alphanumeric())) {
                    return Err(invalid("an nkey that is not a user public key (U…)"));
                }
                let _ = writeln!(out, "      nkey: \"{public}\"");
            }
        }
        out.push_str("      permissions: {\n");
        let _ = write!(out, "        publish: {{ allow: {}", list(&self.publish)?);
        if !self.deny_publish.is_empty() {
            let _ = write!(out, ", deny: {}", list(&self.deny_publish)?);
        }
        out.push_str(" }\n");
        let _ = writeln!(
            out,
            "        subscribe: {{ allow: {} }}",
            list(&self.subscribe)?
        );
        if self.allow_responses {
            out.push_str("        allow_responses: true\n");
        }
        out.push_str("      }\n    }\n");
        Ok(())
    }
}

fn check_token(what: &str, token: &str) -> Result<(), ApiError> {
    if token.is_empty()
        || !token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(invalid(&format!("{what} token {token:?}")));
    }
    Ok(())
}

/// Refuses what would break out of a quoted config string.
fn check_quoted(what: &str, text: &str) -> Result<(), ApiError> {
    if text
        .chars()
        .any(|c| c == '"' || c == '\\' || c.is_whitespace() || c.is_control())
    {
        return Err(invalid(&format!(
            "a {what} with a quote, backslash, space or control character"
        )));
    }
    Ok(())
}

fn invalid(what: &str) -> ApiError {
    ApiError::InvalidPermissions {
        reason: format!("refusing to render {what}"),
    }
}
