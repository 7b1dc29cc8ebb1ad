//! `engram eval` and `engram record`: run a trained policy on seeded episodes.

use anyhow::{Context, Result};
use clap::Args;
use engram_agents::policy::ActMode;
use engram_agents::rollout::{evaluate, EpisodeSpec};
use engram_agents::run::record::record;
use std::path::PathBuf;

/// Evaluate a checkpoint: mean return ± 95% CI over seeded episodes.
#[derive(Args, Debug)]
pub struct EvalArgs {
    /// Run directory or checkpoint directory.
    #[arg(long)]
    pub checkpoint: PathBuf,
    /// Number of episodes (episode `i` is reset with seed `seed + i`).
    #[arg(long, default_value_t = 20)]
    pub episodes: usize,
    /// First episode seed.
    #[arg(long, default_value_t = 10_000)]
    pub seed: u64,
    /// Sample actions instead of taking the distribution's mode.
    #[arg(long)]
    pub stochastic: bool,
    /// Print the result as JSON (for a walker: returns, falls, time to fall and gait per episode).
    #[arg(long)]
    pub json: bool,
}

/// Runs `engram eval`.
pub fn run_eval(a: EvalArgs) -> Result<()> {
    let p = engram_agents::load_policy(&a.checkpoint).with_context(|| format!("loading {}", a.checkpoint.display()))?;
    if p.config.env.starts_with("PlanarBiped") && !a.stochastic {
        let e = engram_agents::study::sim2real::walk_eval(
            &p,
            "eval",
            &p.config.env,
            &p.config.env_config_json(),
            a.episodes,
            a.seed,
            |_| Default::default(),
        )?;
        if a.json {
            println!("{}", serde_json::to_string_pretty(&e)?);
        } else {
            println!("{}", e.summary());
        }
        return Ok(());
    }
    let mode = if a.stochastic { ActMode::Sample } else { ActMode::Deterministic };
    let r = evaluate(&p, &p.config.env, &p.config.env_config_json(), &EpisodeSpec::seeded(a.episodes, a.seed), mode)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        print!("{}", r.summary(&format!("{} {}", p.config.env, p.config.policy.kind.as_str()), a.seed));
    }
    Ok(())
}

/// Record rollouts of a checkpoint to `.npy` files with a JSON manifest.
#[derive(Args, Debug)]
pub struct RecordArgs {
    /// Run directory or checkpoint directory.
    #[arg(long)]
    pub checkpoint: PathBuf,
    /// Output directory.
    #[arg(long)]
    pub out: PathBuf,
    /// Number of episodes.
    #[arg(long, default_value_t = 5)]
    pub episodes: usize,
    /// First episode seed.
    #[arg(long, default_value_t = 10_000)]
    pub seed: u64,
    /// Sample actions instead of taking the mode.
    #[arg(long)]
    pub stochastic: bool,
}

/// Runs `engram record`.
pub fn run_record(a: RecordArgs) -> Result<()> {
    let p = engram_agents::load_policy(&a.checkpoint).with_context(|| format!("loading {}", a.checkpoint.display()))?;
    let mode = if a.stochastic { ActMode::Sample } else { ActMode::Deterministic };
    let r = record(&p, a.episodes, a.seed, mode, &a.out)?;
    println!("{}: {} episodes, mean return {:.2}", a.out.display(), a.episodes, r.mean);
    Ok(())
}
