//! `engram replay`: a recorded action sequence through an engram env, step by step.

use crate::common::make_env;
use anyhow::{Context, Result};
use clap::Args;
use engram_agents::io::write_json;
use engram_agents::replay::{read_actions, replay};
use std::path::PathBuf;

/// Arguments of `engram replay`.
#[derive(Args)]
pub struct ReplayArgs {
    /// Registered env id (see `engram envs`).
    #[arg(long)]
    env: String,
    /// Seed of the first reset (later resets continue the env's RNG, as Gymnasium's
    /// autoreset without a seed does).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Actions: a JSON array (`[0, 1, ...]` or `[[0.5], [-1.2], ...]`) or a .npy file of shape
    /// `[T]` or `[T, act_dim]` (float or integer).
    #[arg(long)]
    actions: PathBuf,
    /// Physical state to start from instead of the seeded reset's, comma-separated
    /// (for CartPole `x,x_dot,theta,theta_dot`).
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true)]
    initial_state: Option<Vec<f64>>,
    /// Env config file (.toml or .json).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Output JSON file.
    #[arg(long)]
    out: PathBuf,
}

/// Runs `engram replay`.
pub fn run(a: ReplayArgs) -> Result<()> {
    let mut env = make_env(&a.env, a.config.as_deref())?;
    let actions = read_actions(&a.actions, env.action_space().flat_dim())?;
    let (mut out, episodes) = replay(env.as_mut(), a.seed, a.initial_state.as_deref(), &actions)?;
    out["env_id"] = a.env.clone().into();
    out["config"] = serde_json::json!(a.config.as_ref().map(|p| p.display().to_string()));
    write_json(&a.out, &out).with_context(|| format!("writing {}", a.out.display()))?;
    println!("replayed {} steps ({} episode ends) of {} into {}", actions.len(), episodes, a.env, a.out.display());
    Ok(())
}
