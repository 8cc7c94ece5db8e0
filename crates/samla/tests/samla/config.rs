//! The config file and the environment as defaults, the command line above both.

use crate::common::run;

#[test]
fn config_file_values_are_defaults_below_environment_and_flags() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("samla.toml");
    std::fs::write(
        &config,
        "api = \"http://127.0.0.1:9/\"\n[emit]\nbatch = 7\n",
    )
    .expect("write");
    // `samla emit` with no credential fails before any request, naming what is missing:
    // proof the file parsed and the command ran.
    let (code, _, stderr) = run(&["--config", config.to_str().expect("utf-8"), "emit"], "");
    assert_eq!(code, 5, "no credential is exit code 5: {stderr}");
    assert!(stderr.contains("--token"), "{stderr}");

    std::fs::write(&config, "no_such_option = 1\n").expect("write");
    let (code, _, stderr) = run(&["--config", config.to_str().expect("utf-8"), "emit"], "");
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("no_such_option"),
        "the error names the key: {stderr}"
    );

    std::fs::write(&config, "[emit]\nbatch = 0\n").expect("write");
    let (code, _, stderr) = run(
        &[
            "--config",
            config.to_str().expect("utf-8"),
            "emit",
            "--token",
            "x",
        ],
        "",
    );
    assert_eq!(
        code, 2,
        "a bad value from the file is a usage error: {stderr}"
    );
    assert!(stderr.contains("batch"), "{stderr}");
}

#[test]
fn help_teaches_and_usage_errors_exit_2() {
    let (code, stdout, _) = run(&["--help"], "");
    assert_eq!(code, 0);
    assert!(stdout.contains("samla up --demo"), "{stdout}");
    assert!(stdout.contains("Exit codes"), "{stdout}");
    let (code, stdout, _) = run(&["up", "--help"], "");
    assert_eq!(code, 0);
    assert!(stdout.contains("Dashboard: http://HOST:PORT/"), "{stdout}");
    let (code, _, stderr) = run(&["up", "--no-such-flag"], "");
    assert_eq!(code, 2, "{stderr}");
    let (code, _, stderr) = run(&["demo", "--pace", "10 parsecs"], "");
    assert_eq!(code, 2, "{stderr}");
    // The log keeps 1, 3 or 5 copies, and the managed nats-server is one node.
    let (code, _, stderr) = run(&["serve", "--log-replicas", "2"], "");
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("1, 3 or 5"), "{stderr}");
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let data_arg = data.to_str().expect("utf-8");
    let (code, _, stderr) = run(&["up", "--data-dir", data_arg, "--log-replicas", "3"], "");
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("--log-replicas 3") && stderr.contains("--nats-url"),
        "names the flag and what to do: {stderr}"
    );
    assert!(!data.exists(), "nothing was created: {stderr}");
    let (code, stdout, _) = run(&["completions", "bash"], "");
    assert_eq!(code, 0);
    assert!(stdout.contains("_samla"), "a bash completion script");
}

#[test]
fn up_on_a_nats_url_asks_the_server_for_the_copies_given() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let data_arg = data.to_str().expect("utf-8");
    let up = |url: &str| {
        run(
            &[
                "up",
                "--data-dir",
                data_arg,
                "--nats-url",
                url,
                "--log-replicas",
                "3",
                "--log-max-bytes",
                "1048576",
                "--http",
                "127.0.0.1:0",
            ],
            "",
        )
    };
    // First with no server there: `up` makes the stack's credentials and renders the NATS
    // users for the operator's server, then cannot connect.
    let (code, _, stderr) = up("nats://127.0.0.1:9");
    assert_eq!(code, 4, "{stderr}");
    let users = std::fs::read_to_string(data.join("nats").join("auth.conf"))
        .expect("samla up renders the NATS users for a server of one's own");
    // Then against a plain JetStream server with those users: it refuses three copies,
    // which shows the count reached the server (`samla up --nats-url` used to open the log
    // at one copy whatever it was told, so on a cluster it made an unreplicated log).
    let server = samla_testkit::NatsServer::builder()
        .extra_config(&users)
        .start()
        .expect("nats-server");
    let (code, _, stderr) = up(&server.client_url());
    assert_eq!(code, 4, "the log cannot be opened: {stderr}");
    assert!(
        stderr.contains("replicas > 1 not supported"),
        "the server's answer to three copies: {stderr}"
    );
}
