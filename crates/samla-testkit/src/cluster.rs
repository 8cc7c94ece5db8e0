//! A JetStream cluster of nats-servers on loopback: [`NatsCluster`].
//!
//! Every node gets free client, cluster and monitoring ports, its own temp store,
//! `sync_interval: always` and a distinct server name `n1`, `n2`, …; every node's route
//! list names all nodes. Start returns once every node's `/healthz` answers 200 (which in
//! a cluster means the node is current with the JetStream meta leader) and a meta leader
//! is known.

use std::time::Instant;

use crate::probe::free_ports;
use crate::server::{ClusterPlacement, NatsServer, NatsServerBuilder, READY_DEADLINE};
use crate::{TestkitError, server_log};

/// The cluster name in every node's config.
const CLUSTER_NAME: &str = "samla-test";

/// A running cluster; dropping it kills every node and removes their temp folders.
#[derive(Debug)]
pub struct NatsCluster {
    nodes: Vec<NatsServer>,
}

impl NatsCluster {
    /// Starts `nodes` nodes (3 for R3 streams) and waits until JetStream has a meta
    /// leader. Retries once with fresh ports if a chosen port was taken meanwhile.
    pub fn start(nodes: usize) -> Result<NatsCluster, TestkitError> {
        if nodes == 0 {
            return Err(TestkitError::environment(
                "start a cluster",
                std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "a cluster needs at least one node",
                ),
            ));
        }
        let settings = NatsServerBuilder::default().into_settings()?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let ports = free_ports(nodes * 3)?;
            let (client_ports, rest) = ports.split_at(nodes);
            let (monitor_ports, cluster_ports) = rest.split_at(nodes);
            let mut cluster = NatsCluster {
                nodes: Vec::with_capacity(nodes),
            };
            for index in 0..nodes {
                let mut node_settings = settings.clone();
                node_settings.server_name = format!("n{}", index + 1);
                node_settings.cluster = Some(ClusterPlacement {
                    cluster_name: CLUSTER_NAME.to_string(),
                    cluster_port: cluster_ports[index],
                    route_ports: cluster_ports.to_vec(),
                });
                cluster.nodes.push(NatsServer::prepare(
                    node_settings,
                    client_ports[index],
                    monitor_ports[index],
                )?);
            }
            match cluster.spawn_all_and_wait() {
                Ok(()) => return Ok(cluster),
                Err(error) if attempt < 2 && cluster.any_log_says_address_in_use() => {
                    drop(error);
                }
                Err(error) => return Err(error),
            }
        }
    }

    fn spawn_all_and_wait(&mut self) -> Result<(), TestkitError> {
        // No node becomes healthy alone, so start them all before waiting on any.
        for node in &mut self.nodes {
            node.spawn()?;
        }
        let deadline = Instant::now() + READY_DEADLINE;
        for node in &mut self.nodes {
            node.wait_until_ready(deadline)?;
        }
        // Healthy nodes imply a meta leader; ask for it explicitly all the same, since
        // tests that create replicated streams right away depend on it.
        loop {
            if self
                .nodes
                .iter()
                .all(|node| node.jetstream_meta_leader().is_some())
            {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(TestkitError::CheckServerLog {
                    what: format!(
                        "the cluster elected no JetStream meta leader within {} s",
                        READY_DEADLINE.as_secs()
                    ),
                    log_path: self.nodes[0].log_path().to_path_buf(),
                    log_tail: server_log::tail(&server_log::read_log(self.nodes[0].log_path())),
                });
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    fn any_log_says_address_in_use(&self) -> bool {
        self.nodes
            .iter()
            .any(|node| node.log_says_address_in_use(0))
    }

    /// Every node's `nats://127.0.0.1:PORT`, in node order (pass all to a client so it
    /// fails over when a node dies).
    pub fn client_urls(&self) -> Vec<String> {
        self.nodes.iter().map(NatsServer::client_url).collect()
    }

    /// The number of nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the cluster has no nodes (never true for a started cluster).
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Node `i` (0-based; its server name is `n{i+1}`). Panics if out of range.
    pub fn node(&self, i: usize) -> &NatsServer {
        &self.nodes[i]
    }

    /// Node `i`, mutable (to kill, stop, restart it). Panics if out of range.
    pub fn node_mut(&mut self, i: usize) -> &mut NatsServer {
        &mut self.nodes[i]
    }

    /// The index of the node with this server name (`"n1"` → 0), e.g. to kill the stream
    /// leader a stream info names.
    pub fn node_by_name(&self, name: &str) -> Option<usize> {
        self.nodes
            .iter()
            .position(|node| node.server_name() == name)
    }
}
