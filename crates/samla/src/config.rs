//! The config file: TOML whose keys are the long options of any command (`data_dir` or
//! `data-dir`), at the top level for every command that has the option, or in a table
//! named after one command (`[up]`, `[serve]`, …) for that command only.
//!
//! Precedence, highest first: the command line, `SAMLA_*` environment variables, the
//! config file, the built-in default. The file's values become clap *defaults*, which is
//! exactly that order, and a key that no command knows is an error naming the key.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::Command;

use crate::exit::{CliResult, usage};

/// `--config FILE` (or `--config=FILE`) from the raw arguments, else `SAMLA_CONFIG`.
pub fn config_path(args: &[OsString]) -> Option<PathBuf> {
    let mut args = args.iter().skip(1);
    while let Some(arg) = args.next() {
        let text = arg.to_string_lossy();
        if text == "--" {
            break;
        }
        if text == "--config" {
            return args.next().map(PathBuf::from);
        }
        if let Some(path) = text.strip_prefix("--config=") {
            return Some(PathBuf::from(path));
        }
    }
    std::env::var_os("SAMLA_CONFIG").map(PathBuf::from)
}

/// Reads `path` and makes its values the defaults of `command`'s options.
pub fn apply_file(command: Command, path: &Path) -> CliResult<Command> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| usage(format!("config file {}: {error}", path.display())))?;
    apply_text(command, &text)
        .map_err(|message| usage(format!("config file {}: {message}", path.display())))
}

/// The same, from the file's text; errors name the key.
pub fn apply_text(mut command: Command, text: &str) -> Result<Command, String> {
    let table: toml::Table = text
        .parse()
        .map_err(|error: toml::de::Error| error.to_string())?;
    for (key, value) in &table {
        if let toml::Value::Table(section) = value {
            let name = key.replace('_', "-");
            let Some(sub) = command.find_subcommand_mut(&name) else {
                return Err(format!("[{key}] is not a samla command"));
            };
            for (option, value) in section {
                if !set_default(sub, option, value).map_err(|m| format!("[{key}] {option}: {m}"))? {
                    return Err(format!(
                        "[{key}] {option}: `samla {name}` has no option --{}",
                        option.replace('_', "-")
                    ));
                }
            }
        } else {
            let mut known = false;
            for sub in command.get_subcommands_mut() {
                known |= set_default(sub, key, value).map_err(|m| format!("{key}: {m}"))?;
            }
            if !known {
                return Err(format!(
                    "{key}: no samla command has an option --{}",
                    key.replace('_', "-")
                ));
            }
        }
    }
    Ok(command)
}

/// Sets the default of the option `key` on `command`, if it has one; says whether it did.
fn set_default(command: &mut Command, key: &str, value: &toml::Value) -> Result<bool, String> {
    let id = key.replace('-', "_");
    if !command
        .get_arguments()
        .any(|arg| arg.get_id() == id.as_str())
    {
        return Ok(false);
    }
    let text = match value {
        toml::Value::String(text) => text.clone(),
        toml::Value::Integer(number) => number.to_string(),
        toml::Value::Float(number) => number.to_string(),
        toml::Value::Boolean(flag) => flag.to_string(),
        toml::Value::Array(items) => items
            .iter()
            .map(|item| match item {
                toml::Value::String(text) => Ok(text.clone()),
                other => Err(format!("a list holds strings, not {}", other.type_str())),
            })
            .collect::<Result<Vec<_>, _>>()?
            .join(","),
        other => return Err(format!("a {} is not an option value", other.type_str())),
    };
    // clap keeps defaults as `&'static str`; a config file is read once per process.
    let text: &'static str = Box::leak(text.into_boxed_str());
    *command = std::mem::take(command).mut_arg(id.as_str(), |arg| arg.default_value(text));
    Ok(true)
}
