//! Helpers shared by subcommands.

use anyhow::{bail, Context, Result};
use engram_envs::registry::{self, BoxEnv};
use std::path::Path;

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read config file {}", path.display()))
}

/// The text of a config file, empty without one.
pub fn config_text(path: Option<&Path>) -> Result<String> {
    path.map_or(Ok(String::new()), read)
}

/// The env config in a TOML or JSON file, as JSON (`{}` without a file).
pub fn env_config(path: Option<&Path>) -> Result<serde_json::Value> {
    let Some(path) = path else { return Ok(serde_json::json!({})) };
    let text = read(path)?;
    match path.extension().and_then(|e| e.to_str()) {
        Some("toml") => toml::from_str(&text).with_context(|| format!("cannot parse config file {}", path.display())),
        Some("json") => {
            serde_json::from_str(&text).with_context(|| format!("cannot parse config file {}", path.display()))
        }
        _ => bail!("config file {} must end in .toml or .json", path.display()),
    }
}

/// Builds env `id`, configured from a TOML or JSON file if given.
pub fn make_env(id: &str, config: Option<&Path>) -> Result<BoxEnv> {
    let Some(path) = config else {
        return Ok(registry::make(id)?);
    };
    let text = read(path)?;
    let env = match path.extension().and_then(|e| e.to_str()) {
        Some("toml") => registry::make_from_toml(id, &text),
        Some("json") => registry::make_from_json(id, &text),
        _ => bail!("config file {} must end in .toml or .json", path.display()),
    };
    env.with_context(|| format!("config file {}", path.display()))
}
