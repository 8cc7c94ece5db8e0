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
    let (code, stdout, _) = run(&["completions", "bash"], "");
    assert_eq!(code, 0);
    assert!(stdout.contains("_samla"), "a bash completion script");
}
