//! Rendering the nats-server configuration templates of `deploy/nats/`.
//!
//! The templates are embedded at compile time, so the test kit and the deployed configs
//! can never drift apart. Rendering is plain `{{name}}` substitution; a placeholder left
//! without a value is an error, not an empty string, so a template change cannot silently
//! produce a half-configured server.

use std::path::Path;

use crate::TestkitError;

/// `deploy/nats/single.conf.template`.
pub const SINGLE_TEMPLATE: &str = include_str!("../../../deploy/nats/single.conf.template");

/// `deploy/nats/cluster-node.conf.template`.
pub const CLUSTER_NODE_TEMPLATE: &str =
    include_str!("../../../deploy/nats/cluster-node.conf.template");

/// Interface every test server listens on.
pub(crate) const HOST: &str = "127.0.0.1";

/// 1 MiB, the nats-server default, written out so the config says what it means.
pub(crate) const MAX_PAYLOAD_BYTES: u64 = 1024 * 1024;

/// Memory storage is not used by Samla; a small bound keeps test servers light.
pub(crate) const MAX_MEMORY_STORE_BYTES: u64 = 64 * 1024 * 1024;

/// Fills every `{{name}}` in `template` from `values`. Fails on a placeholder without a
/// value. Values are inserted verbatim (no escaping) and are not scanned again.
pub fn render(template: &str, values: &[(&str, &str)]) -> Result<String, TestkitError> {
    let mut rendered = String::with_capacity(template.len() + 256);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        rendered.push_str(&rest[..start]);
        let after_open = &rest[start + 2..];
        let Some(end) = after_open.find("}}") else {
            // An unclosed `{{` is not a placeholder; keep it as text.
            rendered.push_str(&rest[start..]);
            return Ok(rendered);
        };
        let name = &after_open[..end];
        match values.iter().find(|(key, _)| *key == name) {
            Some((_, value)) => rendered.push_str(value),
            None => {
                return Err(TestkitError::FixTemplate {
                    placeholder: name.to_string(),
                });
            }
        }
        rest = &after_open[end + 2..];
    }
    rendered.push_str(rest);
    Ok(rendered)
}

/// Everything a test server's config needs.
#[derive(Debug, Clone)]
pub(crate) struct ServerConfig<'a> {
    pub server_name: &'a str,
    pub client_port: u16,
    pub monitor_port: u16,
    pub store_dir: &'a Path,
    pub max_file_store: u64,
    pub sync_always: bool,
    pub extra: &'a str,
    pub cluster: Option<ClusterConfig<'a>>,
}

/// The cluster part of a node's config.
#[derive(Debug, Clone)]
pub(crate) struct ClusterConfig<'a> {
    pub cluster_name: &'a str,
    pub cluster_port: u16,
    /// Every node's route port, this node's included.
    pub route_ports: &'a [u16],
}

impl ServerConfig<'_> {
    pub(crate) fn render(&self) -> Result<String, TestkitError> {
        let client_port = self.client_port.to_string();
        let monitor_port = self.monitor_port.to_string();
        let max_payload = MAX_PAYLOAD_BYTES.to_string();
        let store_dir = self.store_dir.display().to_string();
        let max_file_store = self.max_file_store.to_string();
        let max_memory_store = MAX_MEMORY_STORE_BYTES.to_string();
        // "2m" is nats-server's own default, written explicitly so the rendered file shows
        // it. The template quotes it: unquoted, the config parser reads `2m` as the number
        // 2,000,000 (a size suffix) and then as that many seconds.
        let sync_interval = if self.sync_always { "always" } else { "2m" };
        let mut values = vec![
            ("server_name", self.server_name),
            ("host", HOST),
            ("client_port", client_port.as_str()),
            ("monitor_port", monitor_port.as_str()),
            ("max_payload", max_payload.as_str()),
            ("store_dir", store_dir.as_str()),
            ("max_file_store", max_file_store.as_str()),
            ("max_memory_store", max_memory_store.as_str()),
            ("sync_interval", sync_interval),
            ("extra", self.extra),
        ];
        let Some(cluster) = &self.cluster else {
            return render(SINGLE_TEMPLATE, &values);
        };
        let cluster_port = cluster.cluster_port.to_string();
        let routes = cluster
            .route_ports
            .iter()
            .map(|port| format!("        \"nats-route://{HOST}:{port}\""))
            .collect::<Vec<_>>()
            .join("\n");
        values.push(("cluster_name", cluster.cluster_name));
        values.push(("cluster_port", cluster_port.as_str()));
        values.push(("routes", routes.as_str()));
        render(CLUSTER_NODE_TEMPLATE, &values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_every_placeholder_and_refuses_a_missing_one() {
        assert_eq!(
            render("a {{x}} b {{y}}{{x}}", &[("x", "1"), ("y", "2")]).unwrap(),
            "a 1 b 21"
        );
        let error = render("a {{x}} {{z}}", &[("x", "1")]).unwrap_err();
        assert!(error.to_string().contains("`{{z}}`"), "{error}");
    }

    #[test]
    fn both_templates_render_completely() {
        let store = Path::new("/tmp/store");
        let single = ServerConfig {
            server_name: "s",
            client_port: 1,
            monitor_port: 2,
            store_dir: store,
            max_file_store: 3,
            sync_always: true,
            extra: "# extra",
            cluster: None,
        };
        let text = single.render().unwrap();
        assert!(text.contains("sync_interval: \"always\""), "{text}");
        assert!(text.contains("# extra"), "{text}");
        assert!(!text.contains("{{"), "{text}");

        let node = ServerConfig {
            cluster: Some(ClusterConfig {
                cluster_name: "c",
                cluster_port: 4,
                route_ports: &[4, 5, 6],
            }),
            sync_always: false,
            ..single
        };
        let text = node.render().unwrap();
        assert!(text.contains("sync_interval: \"2m\""), "{text}");
        assert!(text.contains("nats-route://127.0.0.1:6"), "{text}");
        assert!(!text.contains("{{"), "{text}");
    }
}
