//! The checked-in schemas, vectors and README table are what the code generates today.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use proto_events::Kind;
use proto_events::examples::vector_files;
use proto_events::schema::all_schema_files;

use crate::support::{crate_dir, schema_dir, vectors_dir};

/// The files in `dir` (recursively) that differ from, are missing from, or are not in
/// `expected` (paths relative to `dir`).
fn stale_files(dir: &Path, expected: &[(String, Vec<u8>)]) -> Vec<String> {
    let mut stale: Vec<String> = expected
        .iter()
        .filter(|(name, bytes)| fs::read(dir.join(name)).ok().as_ref() != Some(bytes))
        .map(|(name, _)| name.clone())
        .collect();
    let names: BTreeSet<&str> = expected.iter().map(|(name, _)| name.as_str()).collect();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        let Ok(entries) = fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let relative = path
                .strip_prefix(dir)
                .map(|p| p.to_string_lossy().replace('\\', "/"))
                .unwrap_or_default();
            if !names.contains(relative.as_str()) {
                stale.push(format!("{relative} (left over)"));
            }
        }
    }
    stale
}

#[test]
fn schema_files_are_fresh() {
    let expected: Vec<(String, Vec<u8>)> = all_schema_files()
        .into_iter()
        .map(|(name, text)| (name, text.into_bytes()))
        .collect();
    let stale = stale_files(&schema_dir(), &expected);
    assert!(
        stale.is_empty(),
        "proto-events/schema is stale: run `cargo run -p proto-events --bin write-contract` (stale: {stale:?})"
    );
}

#[test]
fn vector_files_are_fresh() {
    let stale = stale_files(&vectors_dir(), &vector_files());
    assert!(
        stale.is_empty(),
        "proto-events/vectors is stale: run `cargo run -p proto-events --bin write-contract` (stale: {stale:?})"
    );
}

#[test]
fn there_is_a_schema_for_the_envelope_and_every_kind() {
    let count = fs::read_dir(schema_dir())
        .expect("proto-events/schema exists")
        .flatten()
        .filter(|entry| entry.path().extension().is_some_and(|e| e == "json"))
        .count();
    assert!(count >= 35, "only {count} schema files");
    assert_eq!(count, Kind::ALL.len() + 1, "one per kind plus the envelope");
    for kind in Kind::ALL {
        let path = schema_dir().join(format!("{}.schema.json", kind.as_str()));
        assert!(path.is_file(), "{} is missing", path.display());
    }
}

/// The README's table of kinds is generated too; `write-contract --check` compares all of it.
#[test]
fn write_contract_check_finds_everything_fresh() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_write-contract"))
        .arg("--check")
        .current_dir(crate_dir())
        .output()
        .expect("the write-contract binary runs");
    assert!(
        output.status.success(),
        "proto-events/README.md (or schema, vectors) is stale: run `cargo run -p proto-events --bin write-contract`\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn write_contract_refuses_unknown_arguments() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_write-contract"))
        .arg("--frobnicate")
        .output()
        .expect("the write-contract binary runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("usage"));
}
