//! `engram replay`: a recorded action sequence through an engram env, step by step.

use crate::common::make_env;
use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use engram_agents::io::atomic_write;
use engram_envs::prelude::*;
use std::path::{Path, PathBuf};

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

/// Reads actions as rows of `act_dim` values.
fn read_actions(path: &Path, act_dim: usize) -> Result<Vec<Vec<f32>>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read actions file {}", path.display()))?;
    let (flat, shape): (Vec<f64>, Vec<u64>) = if path.extension().and_then(|e| e.to_str()) == Some("npy") {
        let npy =
            npyz::NpyFile::new(&bytes[..]).with_context(|| format!("{} is not a valid .npy file", path.display()))?;
        let shape = npy.shape().to_vec();
        let descr = npy.dtype().descr();
        // descr is a Python literal such as '<f4': drop the quotes and the byte-order mark.
        let kind = descr.trim_matches('\'').trim_start_matches(['<', '>', '=', '|']).to_string();
        let data: Vec<f64> = match kind.as_str() {
            "f4" => npy.into_vec::<f32>()?.into_iter().map(f64::from).collect(),
            "f8" => npy.into_vec::<f64>()?,
            "i8" => npy.into_vec::<i64>()?.into_iter().map(|v| v as f64).collect(),
            "i4" => npy.into_vec::<i32>()?.into_iter().map(f64::from).collect(),
            other => bail!("{}: unsupported dtype {other} (use float32, float64, int32 or int64)", path.display()),
        };
        (data, shape)
    } else {
        let v: serde_json::Value =
            serde_json::from_slice(&bytes).with_context(|| format!("{} is not valid JSON", path.display()))?;
        let rows = v.as_array().ok_or_else(|| anyhow!("{}: expected a JSON array of actions", path.display()))?;
        let mut flat = vec![];
        let mut width = None;
        for (t, r) in rows.iter().enumerate() {
            let row: Vec<f64> = match r {
                serde_json::Value::Array(xs) => xs.iter().map(|x| x.as_f64()).collect::<Option<_>>(),
                x => x.as_f64().map(|v| vec![v]),
            }
            .ok_or_else(|| anyhow!("{}: action {t} is not a number or an array of numbers", path.display()))?;
            if *width.get_or_insert(row.len()) != row.len() {
                bail!("{}: action {t} has {} values, earlier ones {}", path.display(), row.len(), width.unwrap_or(0));
            }
            flat.extend(row);
        }
        let n = rows.len() as u64;
        (flat, vec![n, width.unwrap_or(act_dim) as u64])
    };
    let width = match shape.as_slice() {
        [_] => 1,
        [_, w] => *w as usize,
        s => bail!("{}: actions must have shape [T] or [T, {act_dim}], got {s:?}", path.display()),
    };
    if width != act_dim {
        bail!("{}: each action has {width} values, the env's action space needs {act_dim}", path.display());
    }
    Ok(flat.chunks(width).map(|c| c.iter().map(|&v| v as f32).collect()).collect())
}

/// Replays the actions and writes the trajectory.
pub fn run(a: ReplayArgs) -> Result<()> {
    let mut env = make_env(&a.env, a.config.as_deref())?;
    let actions = read_actions(&a.actions, env.action_space().flat_dim())?;
    let (obs, _) = env.reset(Some(a.seed), &ResetOptions::default())?;
    let mut initial_obs = obs;
    if let Some(state) = &a.initial_state {
        env.set_state(state).context("--initial-state")?;
        env.observe(&mut initial_obs).context("observing the injected initial state")?;
    }
    let mut steps = Vec::with_capacity(actions.len());
    let mut episodes = 0;
    for (t, act) in actions.iter().enumerate() {
        let s = env.step(act).with_context(|| format!("step {t} (action {act:?})"))?;
        let mut row = serde_json::json!({
            "t": t, "action": act, "obs": s.obs, "reward": s.reward,
            "terminated": s.terminated, "truncated": s.truncated,
            "state": env.state(), "info": s.info.iter().collect::<std::collections::BTreeMap<_, _>>(),
            "reset_obs": null,
        });
        if s.terminated || s.truncated {
            episodes += 1;
            let (reset_obs, _) = env.reset(None, &ResetOptions::default())?;
            row["reset_obs"] = serde_json::json!(reset_obs);
            row["reset_state"] = serde_json::json!(env.state());
        }
        steps.push(row);
    }
    let out = serde_json::json!({
        "schema": "engram.replay/1",
        "engram_version": env!("CARGO_PKG_VERSION"),
        "env_id": a.env, "reset_seed": a.seed,
        "config": a.config.as_ref().map(|p| p.display().to_string()),
        "autoreset": "after a step with terminated or truncated: reset() without a seed; the new observation is in that step's reset_obs",
        "initial": {"obs": initial_obs, "state": env_initial_state(&a)},
        "n_steps": steps.len(),
        "steps": steps,
    });
    atomic_write(&a.out, serde_json::to_string_pretty(&out)?.as_bytes())
        .with_context(|| format!("writing {}", a.out.display()))?;
    println!("replayed {} steps ({} episode ends) of {} into {}", actions.len(), episodes, a.env, a.out.display());
    Ok(())
}

fn env_initial_state(a: &ReplayArgs) -> Option<Vec<f64>> {
    a.initial_state.clone().or_else(|| {
        let mut env = make_env(&a.env, a.config.as_deref()).ok()?;
        env.reset(Some(a.seed), &ResetOptions::default()).ok()?;
        env.state()
    })
}
