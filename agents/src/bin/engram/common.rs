//! Helpers shared by subcommands.

use anyhow::{bail, Context, Result};
use engram_envs::registry::{self, BoxEnv};
use std::path::Path;

/// Builds env `id`, configured from a TOML or JSON file if given.
pub fn make_env(id: &str, config: Option<&Path>) -> Result<BoxEnv> {
    let Some(path) = config else {
        return Ok(registry::make(id)?);
    };
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read config file {}", path.display()))?;
    let env = match path.extension().and_then(|e| e.to_str()) {
        Some("toml") => registry::make_from_toml(id, &text),
        Some("json") => registry::make_from_json(id, &text),
        _ => bail!("config file {} must end in .toml or .json", path.display()),
    };
    env.with_context(|| format!("config file {}", path.display()))
}

/// Median of a non-empty slice.
pub fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}
