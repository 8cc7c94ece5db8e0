//! Records, for the report's `versions`: the compiler's version (the one that built the
//! bench builds what it measures when both are built together) and the commit checked out
//! at build time. Uncommitted changes are not detected: a figure from a dirty tree is the
//! reader's to qualify.

use std::path::Path;
use std::process::Command;

fn output_of(program: &str, args: &[&str]) -> Option<String> {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|output| output.status.success())
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .map(|text| text.trim().to_owned())
        .filter(|text| !text.is_empty())
}

fn main() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let version = output_of(&rustc, &["--version"]).unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=SAMLA_BENCH_RUSTC={version}");

    let commit = output_of("git", &["rev-parse", "--short=12", "HEAD"])
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=SAMLA_BENCH_COMMIT={commit}");
    // Build again when another commit is checked out or the branch moves. In a linked
    // worktree HEAD is in the worktree's own git folder, the branches in the common one.
    let git_dirs = [
        output_of("git", &["rev-parse", "--absolute-git-dir"]),
        output_of(
            "git",
            &["rev-parse", "--path-format=absolute", "--git-common-dir"],
        ),
    ];
    for git_dir in git_dirs.iter().flatten() {
        for watched in ["HEAD", "refs/heads", "packed-refs"] {
            let path = Path::new(git_dir).join(watched);
            if path.exists() {
                println!("cargo:rerun-if-changed={}", path.display());
            }
        }
    }
    println!("cargo:rerun-if-env-changed=RUSTC");
    println!("cargo:rerun-if-changed=build.rs");
}
