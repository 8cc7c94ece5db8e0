//! The deployment files are valid: both nats-server templates, rendered with Samla's users,
//! pass `nats-server -t`; the systemd units pass `systemd-analyze verify`.

use std::path::Path;
use std::process::Command;

use samla::local::{Credentials, LocalStack};
use samla::nats_child::{CLUSTER_NODE_TEMPLATE, SINGLE_TEMPLATE, render};

fn repository() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn nats_server() -> std::path::PathBuf {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime
        .block_on(samla::nats_child::find_or_install_binary())
        .expect("a nats-server")
}

fn check_config(server: &Path, config: &Path) {
    let output = Command::new(server)
        .arg("-t")
        .arg("-c")
        .arg(config)
        .output()
        .expect("nats-server -t");
    assert!(
        output.status.success(),
        "nats-server -t refused {}: {}{}\n{}",
        config.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
        std::fs::read_to_string(config).unwrap_or_default()
    );
}

#[test]
fn the_nats_templates_with_samlas_users_pass_nats_server_t() {
    let dir = tempfile::tempdir().expect("temp dir");
    let stack = LocalStack::at(dir.path().join("stack"));
    let mut credentials = Credentials::load_or_create(&stack).expect("credentials");
    for org in ["malmo-stad", "polisen", "radda-barnen"] {
        credentials.ensure_org(&proto_events::OrgId::new(org).expect("org id"));
    }
    let users = credentials.nats_permissions().render().expect("users");
    let server = nats_server();
    let common = |name: &str, port: u16, store: &Path| -> Vec<(&'static str, String)> {
        vec![
            ("server_name", name.to_owned()),
            ("host", "127.0.0.1".to_owned()),
            ("client_port", port.to_string()),
            ("monitor_port", (port + 1000).to_string()),
            ("max_payload", "1048576".to_owned()),
            ("store_dir", store.display().to_string()),
            ("max_file_store", (10u64 << 30).to_string()),
            ("max_memory_store", (64u64 << 20).to_string()),
            ("sync_interval", "always".to_owned()),
            ("extra", users.clone()),
        ]
    };
    let single = render(
        SINGLE_TEMPLATE,
        &common("samla-1", 14222, &dir.path().join("single")),
    )
    .expect("render");
    assert!(single.contains("sync_interval: \"always\""));
    // The system account is there, its user locked until an operator sets a hash.
    assert!(single.contains("system_account: SYS"), "{single}");
    let path = dir.path().join("single.conf");
    std::fs::write(&path, single).expect("write");
    check_config(&server, &path);

    let routes: String = (0..3)
        .map(|n| format!("        \"nats-route://127.0.0.1:{}\"\n", 16222 + n))
        .collect();
    for node in 0..3u16 {
        let mut values = common(
            &format!("n{node}"),
            14300 + node,
            &dir.path().join(format!("n{node}")),
        );
        values.extend([
            ("cluster_name", "samla".to_owned()),
            ("cluster_port", (16222 + node).to_string()),
            ("routes", routes.clone()),
        ]);
        let config = render(CLUSTER_NODE_TEMPLATE, &values).expect("render");
        assert!(config.contains("system_account: SYS"), "{config}");
        let path = dir.path().join(format!("n{node}.conf"));
        std::fs::write(&path, config).expect("write");
        check_config(&server, &path);
    }
    // A placeholder left unfilled is an error, not an empty value.
    let missing = render(SINGLE_TEMPLATE, &common("x", 1, dir.path())[..3]).expect_err("unfilled");
    assert!(missing.to_string().contains("{{"), "{missing}");
}

#[test]
fn the_systemd_units_pass_systemd_analyze_verify() {
    let analyze = Path::new("/usr/bin/systemd-analyze");
    assert!(
        analyze.is_file(),
        "systemd-analyze (Debian's systemd package) is needed to check the units"
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let mut units = Vec::new();
    for unit in ["nats-server.service", "samla-serve.service"] {
        let text =
            std::fs::read_to_string(repository().join("deploy/systemd").join(unit)).expect("unit");
        // The binaries are not installed under /usr/local/bin here.
        let text = text
            .replace(
                "/usr/local/bin/nats-server -c /etc/samla/nats.conf",
                "/bin/true",
            )
            .replace("/usr/local/bin/samla serve", "/bin/true");
        let path = dir.path().join(unit);
        std::fs::write(&path, text).expect("write");
        units.push(path);
    }
    let output = Command::new(analyze)
        .arg("verify")
        .args(&units)
        .output()
        .expect("systemd-analyze");
    assert!(
        output.status.success(),
        "systemd-analyze verify: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
