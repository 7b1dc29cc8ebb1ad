//! Replaying an action sequence through an env step by step (`engram replay`), for
//! cross-checking engram's envs against Gymnasium's trajectories.

use crate::error::{AgentError, Context};
use engram_envs::prelude::*;
use std::path::Path;

/// Reads an action sequence `[T]` or `[T, act_dim]` from a `.npy` (float32/64, int32/64) or
/// a JSON array of numbers or arrays of numbers.
pub fn read_actions(path: &Path, act_dim: usize) -> Result<Vec<Vec<f32>>, AgentError> {
    let bytes = std::fs::read(path).ctx(|| format!("cannot read actions file {}", path.display()))?;
    let (flat, shape): (Vec<f64>, Vec<u64>) = if path.extension().and_then(|e| e.to_str()) == Some("npy") {
        let npy = npyz::NpyFile::new(&bytes[..]).ctx(|| format!("{} is not a valid .npy file", path.display()))?;
        let shape = npy.shape().to_vec();
        let descr = npy.dtype().descr();
        // descr is a Python literal such as '<f4': drop the quotes and the byte-order mark.
        let kind = descr.trim_matches('\'').trim_start_matches(['<', '>', '=', '|']).to_string();
        let data: Vec<f64> = match kind.as_str() {
            "f4" => npy.into_vec::<f32>().ctx(|| path.display().to_string())?.into_iter().map(f64::from).collect(),
            "f8" => npy.into_vec::<f64>().ctx(|| path.display().to_string())?,
            "i8" => npy.into_vec::<i64>().ctx(|| path.display().to_string())?.into_iter().map(|v| v as f64).collect(),
            "i4" => npy.into_vec::<i32>().ctx(|| path.display().to_string())?.into_iter().map(f64::from).collect(),
            other => {
                return Err(AgentError::Data(format!(
                    "{}: unsupported dtype {other} (use float32, float64, int32 or int64)",
                    path.display()
                )))
            }
        };
        (data, shape)
    } else {
        let v: serde_json::Value =
            serde_json::from_slice(&bytes).ctx(|| format!("{} is not valid JSON", path.display()))?;
        let rows = v
            .as_array()
            .ok_or_else(|| AgentError::Data(format!("{}: expected a JSON array of actions", path.display())))?;
        let mut flat = vec![];
        let mut width = None;
        for (t, r) in rows.iter().enumerate() {
            let row: Vec<f64> = match r {
                serde_json::Value::Array(xs) => xs.iter().map(|x| x.as_f64()).collect::<Option<_>>(),
                x => x.as_f64().map(|v| vec![v]),
            }
            .ok_or_else(|| {
                AgentError::Data(format!("{}: action {t} is not a number or an array of numbers", path.display()))
            })?;
            if *width.get_or_insert(row.len()) != row.len() {
                return Err(AgentError::Data(format!(
                    "{}: action {t} has {} values, earlier ones {}",
                    path.display(),
                    row.len(),
                    width.unwrap_or(0)
                )));
            }
            flat.extend(row);
        }
        let n = rows.len() as u64;
        (flat, vec![n, width.unwrap_or(act_dim) as u64])
    };
    let width = match shape.as_slice() {
        [_] => 1,
        [_, w] => *w as usize,
        s => {
            return Err(AgentError::Data(format!(
                "{}: actions must have shape [T] or [T, {act_dim}], got {s:?}",
                path.display()
            )))
        }
    };
    if width != act_dim {
        return Err(AgentError::Data(format!(
            "{}: each action has {width} values, the env's action space needs {act_dim}",
            path.display()
        )));
    }
    Ok(flat.chunks(width).map(|c| c.iter().map(|&v| v as f32).collect()).collect())
}

/// Replays the actions and writes the trajectory.
/// Replays `actions` through `env` after `reset(seed)` (and, given `initial_state`, after
/// injecting it); every step's observation, reward, flags, physical state and info, with
/// reset observations after episode ends (reset without a seed), as the `engram.replay/1`
/// JSON document. Returns it with the number of episode ends.
pub fn replay(
    env: &mut dyn Env,
    seed: u64,
    initial_state: Option<&[f64]>,
    actions: &[Vec<f32>],
) -> Result<(serde_json::Value, usize), AgentError> {
    let (obs, _) = env.reset(Some(seed), &ResetOptions::default())?;
    let mut initial_obs = obs;
    let start_state = match initial_state {
        Some(state) => {
            env.set_state(state).ctx(|| "--initial-state".to_string())?;
            env.observe(&mut initial_obs).ctx(|| "observing the injected initial state".to_string())?;
            Some(state.to_vec())
        }
        None => env.state(),
    };
    let mut steps = Vec::with_capacity(actions.len());
    let mut episodes = 0;
    for (t, act) in actions.iter().enumerate() {
        let s = env.step(act).ctx(|| format!("step {t} (action {act:?})"))?;
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
        "env_id": env.id(), "reset_seed": seed,
        "autoreset": "after a step with terminated or truncated: reset() without a seed; the new observation is in that step's reset_obs",
        "initial": {"obs": initial_obs, "state": start_state},
        "n_steps": steps.len(),
        "steps": steps,
    });
    Ok((out, episodes))
}
