//! Recording rollouts to `.npy` files with a JSON manifest.
//!
//! Files (all rows in order of (episode, step); `episode.npy` and `t.npy` index them):
//! `obs.npy [N, obs_dim] f32`, `actions.npy [N, action_len] f32`, `rewards.npy [N] f64`,
//! `values.npy [N] f32`, `hidden.npy [N, state_width] f32` (state entering each step),
//! `terminated.npy`, `truncated.npy [N] u8`, `info.npy [N, n_keys] f64` (keys in the
//! manifest), `episode.npy`, `t.npy [N] u64`; `manifest.json` names shapes, keys, hidden
//! state slots, the checkpoint, the env, the seeds and the schema version.

use crate::checkpoint::LoadedPolicy;
use crate::error::AgentError;
use crate::policy::{ActMode, Policy};
use crate::rollout::{run_policy, EpisodeSpec, EvalResult, StepView};
use engram_envs::Env;
use npyz::WriterBuilder;
use std::path::Path;

/// Version of the recording layout.
pub const RECORD_SCHEMA_VERSION: u32 = 1;

/// Writes `data` (row-major, `shape`) as a `.npy` file (`numpy.load` opens it).
pub fn npy<T: npyz::Serialize + npyz::AutoSerialize + Copy>(
    path: &Path,
    shape: &[u64],
    data: &[T],
) -> Result<(), AgentError> {
    let io = |source| AgentError::Io { path: path.display().to_string(), source };
    let file = std::io::BufWriter::new(std::fs::File::create(path).map_err(io)?);
    let mut w = npyz::WriteOptions::<T>::new().default_dtype().shape(shape).writer(file).begin_nd().map_err(io)?;
    w.extend(data.iter().copied()).map_err(io)?;
    w.finish().map_err(io)
}

/// Records `n` episodes of `policy` (seeds `seed + i`) into `out_dir`.
pub fn record(
    policy: &LoadedPolicy,
    n: usize,
    seed: u64,
    mode: ActMode,
    out_dir: &Path,
) -> Result<EvalResult, AgentError> {
    std::fs::create_dir_all(out_dir)
        .map_err(|source| AgentError::Io { path: out_dir.display().to_string(), source })?;
    let (mut obs, mut act, mut rew, mut val, mut hid) = (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut term, mut trunc, mut info, mut ep, mut ts) = (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut keys: Vec<String> = Vec::new();
    let cfg = &policy.config;
    let spec = EpisodeSpec::seeded(n, seed);
    let res = run_policy(policy, &cfg.env, &cfg.env_config_json(), &spec, mode, &mut |s: &StepView<'_, dyn Env>| {
        obs.extend_from_slice(s.obs);
        act.extend_from_slice(s.action);
        rew.push(s.reward);
        val.push(s.value);
        hid.extend_from_slice(s.state);
        term.push(s.terminated as u8);
        trunc.push(s.truncated as u8);
        if keys.is_empty() {
            keys = s.info.keys().iter().map(|k| k.to_string()).collect();
        }
        info.extend(s.info.values().iter().copied());
        ep.push(s.episode as u64);
        ts.push(s.t as u64);
    })?;
    // Sort rows by (episode, t): the callback interleaves episodes step by step.
    let rows = ep.len() as u64;
    let mut order: Vec<usize> = (0..ep.len()).collect();
    order.sort_by_key(|&k| (ep[k], ts[k]));
    let pick = |v: &[f32], w: usize| -> Vec<f32> {
        order.iter().flat_map(|&k| v[k * w..(k + 1) * w].iter().copied()).collect()
    };
    let (od, al, hw, nk) = (policy.obs_dim(), policy.action_len(), policy.net.state_width(), keys.len());
    npy(&out_dir.join("obs.npy"), &[rows, od as u64], &pick(&obs, od))?;
    npy(&out_dir.join("actions.npy"), &[rows, al as u64], &pick(&act, al))?;
    npy(&out_dir.join("values.npy"), &[rows], &pick(&val, 1))?;
    npy(&out_dir.join("hidden.npy"), &[rows, hw as u64], &pick(&hid, hw))?;
    let pick64 = |v: &[f64], w: usize| -> Vec<f64> {
        order.iter().flat_map(|&k| v[k * w..(k + 1) * w].iter().copied()).collect()
    };
    npy(&out_dir.join("rewards.npy"), &[rows], &pick64(&rew, 1))?;
    npy(&out_dir.join("info.npy"), &[rows, nk as u64], &pick64(&info, nk))?;
    let pick_u8 = |v: &[u8]| -> Vec<u8> { order.iter().map(|&k| v[k]).collect() };
    npy(&out_dir.join("terminated.npy"), &[rows], &pick_u8(&term))?;
    npy(&out_dir.join("truncated.npy"), &[rows], &pick_u8(&trunc))?;
    let pick_u64 = |v: &[u64]| -> Vec<u64> { order.iter().map(|&k| v[k]).collect() };
    npy(&out_dir.join("episode.npy"), &[rows], &pick_u64(&ep))?;
    npy(&out_dir.join("t.npy"), &[rows], &pick_u64(&ts))?;
    let manifest = serde_json::json!({
        "schema_version": RECORD_SCHEMA_VERSION,
        "checkpoint": policy.dir.display().to_string(),
        "env": cfg.env,
        "env_config": cfg.env_config_json(),
        "policy": cfg.policy,
        "episodes": n,
        "seeds": (0..n as u64).map(|i| seed + i).collect::<Vec<_>>(),
        "deterministic": mode == ActMode::Deterministic,
        "rows": rows,
        "files": {
            "obs.npy": [rows, od], "actions.npy": [rows, al], "rewards.npy": [rows], "values.npy": [rows],
            "hidden.npy": [rows, hw], "terminated.npy": [rows], "truncated.npy": [rows],
            "info.npy": [rows, nk], "episode.npy": [rows], "t.npy": [rows]
        },
        "info_keys": keys,
        "hidden_slots": policy.initial_state(1).slots,
        "returns": res.returns,
        "lengths": res.lengths,
    });
    crate::checkpoint::write_atomic(
        &out_dir.join("manifest.json"),
        serde_json::to_string_pretty(&manifest).expect("manifest serializes").as_bytes(),
    )?;
    Ok(res)
}
