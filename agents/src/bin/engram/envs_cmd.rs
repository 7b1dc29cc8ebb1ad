//! `engram envs` and `engram check-env`.

use crate::common::make_env;
use anyhow::Result;
use clap::Args;
use engram_envs::checker::{check_env, CheckOptions};
use engram_envs::registry;
use std::path::PathBuf;

/// Arguments of `engram envs`.
#[derive(Args)]
pub struct EnvsArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// Prints the registry.
pub fn envs(a: EnvsArgs) -> Result<()> {
    let rows = registry::rows()?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        print!("{}", registry::table(&rows));
    }
    Ok(())
}

/// Arguments of `engram check-env`.
#[derive(Args)]
pub struct CheckArgs {
    /// Registered env id (see `engram envs`).
    id: String,
    /// Random-action steps for the NaN/inf, space and truncation checks.
    #[arg(long, default_value_t = 100_000)]
    steps: usize,
    /// Steps compared bit for bit between two envs with the same seed.
    #[arg(long, default_value_t = 1_000)]
    determinism_steps: usize,
    /// Base seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Env config file (.toml or .json) with any documented parameter.
    #[arg(long)]
    config: Option<PathBuf>,
}

/// Runs the checker and prints what passed.
pub fn check(a: CheckArgs) -> Result<()> {
    make_env(&a.id, a.config.as_deref())?;
    let opts = CheckOptions { steps: a.steps, determinism_steps: a.determinism_steps, seed: a.seed };
    let (id, config) = (a.id.clone(), a.config.clone());
    let make = move || {
        make_env(&id, config.as_deref())
            .map_err(|e| engram_envs::EnvError::ConfigParse { env: id.clone(), message: format!("{e:#}") })
    };
    let t0 = std::time::Instant::now();
    let report = check_env(&make, &opts)?;
    println!("{}: all checks passed in {:.2} s", a.id, t0.elapsed().as_secs_f64());
    for p in &report.passed {
        println!("  ok  {p}");
    }
    println!(
        "  {} random steps, {} episodes, mean length {:.1}, longest {}, info keys {:?}",
        report.steps, report.episodes, report.mean_episode_length, report.max_episode_length, report.info_keys
    );
    Ok(())
}
