//! `engram rollout`: a baseline policy for some episodes.

use crate::common::make_env;
use anyhow::{bail, Result};
use clap::{Args, ValueEnum};
use engram_agents::controller::{Controller, RandomController, ZeroController};
use engram_agents::rollout::{self, ControllerActor, EpisodeSpec, StepView};
use engram_agents::stats::mean_min_max;
use engram_envs::Env;
use std::path::PathBuf;

/// A policy that needs no training.
#[derive(Clone, Copy, ValueEnum)]
pub enum BaselinePolicy {
    /// Uniform samples from the action space (seeded).
    Random,
    /// All-zero actions (action 0 for a Discrete space).
    Zero,
}

/// Arguments of `engram rollout`.
#[derive(Args)]
pub struct RolloutArgs {
    /// Registered env id (see `engram envs`).
    #[arg(long)]
    env: String,
    /// Which baseline policy to run.
    #[arg(long, value_enum, default_value_t = BaselinePolicy::Random)]
    policy: BaselinePolicy,
    /// Number of episodes (episode i is reset with seed + i).
    #[arg(long, default_value_t = 10)]
    episodes: usize,
    /// Base seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Env config file (.toml or .json).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Stop an episode after this many steps if the env has no time limit.
    #[arg(long, default_value_t = 100_000)]
    max_steps: usize,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Runs the episodes and prints return and length statistics.
pub fn run(a: RolloutArgs) -> Result<()> {
    if a.episodes == 0 {
        bail!("--episodes must be >= 1 (got 0)");
    }
    let env = make_env(&a.env, a.config.as_deref())?;
    let mut controller: Box<dyn Controller> = match a.policy {
        BaselinePolicy::Random => Box::new(RandomController::new(env.action_space().clone(), a.seed)),
        BaselinePolicy::Zero => Box::new(ZeroController),
    };
    let spec = EpisodeSpec::seeded(a.episodes, a.seed).with_max_steps(Some(a.max_steps)).with_lanes(1);
    let r = rollout::run(&mut [env], &mut ControllerActor(controller.as_mut()), &spec, &mut |_: &StepView<
        '_,
        dyn Env,
    >| {})?;
    let lengths: Vec<f64> = r.lengths.iter().map(|&l| l as f64).collect();
    let ((rm, rmin, rmax), (lm, lmin, lmax)) = (mean_min_max(&r.returns), mean_min_max(&lengths));
    if a.json {
        let out = serde_json::json!({
            "env": a.env, "episodes": a.episodes, "seed": a.seed,
            "return": {"mean": rm, "min": rmin, "max": rmax},
            "length": {"mean": lm, "min": lmin, "max": lmax},
            "returns": r.returns,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!("{} episodes of {} (seed {}):", a.episodes, a.env, a.seed);
        println!("  return  mean {rm:10.3}  min {rmin:10.3}  max {rmax:10.3}");
        println!("  length  mean {lm:10.1}  min {lmin:10.0}  max {lmax:10.0}");
    }
    Ok(())
}
