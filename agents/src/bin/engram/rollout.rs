//! `engram rollout`: a baseline policy for some episodes.

use crate::common::make_env;
use anyhow::{bail, Result};
use clap::{Args, ValueEnum};
use engram_envs::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
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
    let mut env = make_env(&a.env, a.config.as_deref())?;
    let space = env.action_space().clone();
    let mut rng = ChaCha8Rng::seed_from_u64(a.seed);
    let mut action = vec![0.0; space.flat_dim()];
    let mut obs = vec![0.0; env.observation_space().flat_dim()];
    let mut info = Info::new();
    let (mut returns, mut lengths) = (vec![], vec![]);
    for ep in 0..a.episodes {
        env.reset_into(Some(a.seed.wrapping_add(ep as u64)), &ResetOptions::default(), &mut obs, &mut info)?;
        let (mut ret, mut len) = (0.0, 0usize);
        loop {
            if let BaselinePolicy::Random = a.policy {
                space.sample_into(&mut rng, &mut action);
            }
            let o = env.step_into(&action, &mut obs, &mut info)?;
            ret += o.reward;
            len += 1;
            if o.done() || len >= a.max_steps {
                break;
            }
        }
        returns.push(ret);
        lengths.push(len as f64);
    }
    let stats = |v: &[f64]| {
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let min = v.iter().copied().fold(f64::INFINITY, f64::min);
        let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (mean, min, max)
    };
    let (rm, rmin, rmax) = stats(&returns);
    let (lm, lmin, lmax) = stats(&lengths);
    if a.json {
        let out = serde_json::json!({
            "env": a.env, "episodes": a.episodes, "seed": a.seed,
            "return": {"mean": rm, "min": rmin, "max": rmax},
            "length": {"mean": lm, "min": lmin, "max": lmax},
            "returns": returns,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!("{} episodes of {} (seed {}):", a.episodes, a.env, a.seed);
        println!("  return  mean {rm:10.3}  min {rmin:10.3}  max {rmax:10.3}");
        println!("  length  mean {lm:10.1}  min {lmin:10.0}  max {lmax:10.0}");
    }
    Ok(())
}
