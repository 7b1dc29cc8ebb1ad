//! Checkpoints: safetensors weights and optimizer moments plus JSON metadata, written
//! atomically.
//!
//! Layout of `runs/NAME/checkpoints/`:
//! - `update_NNNNNN/weights.safetensors`: the parameters, keys as documented in
//!   [`crate::policy::actor_critic`], `F32`, row-major (`[in, out]` weights, `[1, n]`
//!   biases). In Python: `safetensors.numpy.load_file(path)`.
//! - `update_NNNNNN/optimizer.safetensors`: Adam moments `adam.m.{key}` and `adam.v.{key}`.
//! - `update_NNNNNN/meta.json`: `schema_version`, the resolved config, the trainer state
//!   (counters, observation normalizer, reward scaler, RNG position, hidden state, env
//!   cursors, Adam step) and the parameter list.
//! - `latest.json`: `{"dir": "update_NNNNNN"}`, replaced last.
//!
//! Loading the weights into PyTorch (an MLP actor, `hidden = [64, 64]`):
//!
//! ```text
//! from safetensors.numpy import load_file
//! import torch
//! w = load_file("runs/NAME/checkpoints/update_000098/weights.safetensors")
//! lin = torch.nn.Linear(3, 64)
//! lin.weight.data = torch.from_numpy(w["actor.mlp0.weight"].T.copy())   # [in, out] -> [out, in]
//! lin.bias.data = torch.from_numpy(w["actor.mlp0.bias"][0])
//! # LSTM layer l: weight_ih_l0 = weight_ih.T, weight_hh_l0 = weight_hh.T,
//! #               bias_ih_l0 = bias[0], bias_hh_l0 = 0 (gate order i, f, g, o)
//! # GRU layer l:  weight_ih_l0 = weight_ih.T, weight_hh_l0 = weight_hh.T,
//! #               bias_ih_l0 = bias_ih[0], bias_hh_l0 = bias_hh[0] (gate order r, z, n)
//! ```
//! Observations are normalized with `meta.json`'s `state.obs_rms` before the network:
//! `clip((x − mean) / sqrt(var + 1e-8), −obs_clip, obs_clip)`.
//!
//! Every file is written to a temporary name and renamed, and a checkpoint directory is
//! filled under a temporary name and renamed whole, so a kill leaves either the previous
//! checkpoint or the new one.

use crate::error::AgentError;
use crate::policy::ActorCritic;
use crate::ppo::{TrainConfig, Trainer, TrainerState};
use safetensors::{tensor::TensorView, Dtype, SafeTensors};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Version of the checkpoint layout.
pub const CHECKPOINT_SCHEMA_VERSION: u32 = 1;

/// Name and shape of one stored parameter.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ParamInfo {
    /// Safetensors key.
    pub name: String,
    /// Shape.
    pub shape: Vec<usize>,
}

/// `meta.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CheckpointMeta {
    /// Layout version.
    pub schema_version: u32,
    /// The resolved config.
    pub config: TrainConfig,
    /// Counters, normalizers, RNG, hidden state, env cursors, Adam step.
    pub state: TrainerState,
    /// The parameters in order.
    pub params: Vec<ParamInfo>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> AgentError + '_ {
    move |source| AgentError::Io { path: path.display().to_string(), source }
}

/// Writes `bytes` to `path` through a temporary file and a rename ([`crate::io::atomic_write`]),
/// with the error naming the file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), AgentError> {
    crate::io::atomic_write(path, bytes).map_err(io(path))
}

fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn serialize(named: &[(String, Vec<usize>, Vec<u8>)]) -> Result<Vec<u8>, AgentError> {
    let views: Vec<(String, TensorView)> = named
        .iter()
        .map(|(n, s, b)| TensorView::new(Dtype::F32, s.clone(), b).map(|v| (n.clone(), v)))
        .collect::<Result<_, _>>()
        .map_err(|e| AgentError::Checkpoint(format!("building tensors: {e}")))?;
    safetensors::serialize(views, &None).map_err(|e| AgentError::Checkpoint(format!("serializing: {e}")))
}

/// Writes the checkpoint directory `run_dir/checkpoints/NAME/` (parameters and Adam moments as
/// safetensors, `meta` as `meta.json`) into a temporary directory renamed into place, then
/// points `checkpoints/latest.json` at it: a kill never leaves a half-written checkpoint.
/// `params` are the `(name, shape)` of `weights`, `m` and `v`, in order.
pub(crate) fn write_dir(
    run_dir: &Path,
    name: &str,
    params: &[(String, Vec<usize>)],
    weights: &[Vec<f32>],
    (m, v): (&[Vec<f32>], &[Vec<f32>]),
    meta: &impl Serialize,
) -> Result<PathBuf, AgentError> {
    let root = run_dir.join("checkpoints");
    std::fs::create_dir_all(&root).map_err(io(&root))?;
    let tmp = root.join(format!("{name}.tmp{}", std::process::id()));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(io(&tmp))?;
    }
    std::fs::create_dir_all(&tmp).map_err(io(&tmp))?;
    let w: Vec<_> = params.iter().zip(weights).map(|((n, s), p)| (n.clone(), s.clone(), f32_bytes(p))).collect();
    write_atomic(&tmp.join("weights.safetensors"), &serialize(&w)?)?;
    let mut moments = Vec::new();
    for (k, (n, s)) in params.iter().enumerate() {
        moments.push((format!("adam.m.{n}"), s.clone(), f32_bytes(&m[k])));
        moments.push((format!("adam.v.{n}"), s.clone(), f32_bytes(&v[k])));
    }
    write_atomic(&tmp.join("optimizer.safetensors"), &serialize(&moments)?)?;
    let json = serde_json::to_vec_pretty(meta).map_err(|e| AgentError::Checkpoint(e.to_string()))?;
    write_atomic(&tmp.join("meta.json"), &json)?;
    let dst = root.join(name);
    if dst.exists() {
        std::fs::remove_dir_all(&dst).map_err(io(&dst))?;
    }
    std::fs::rename(&tmp, &dst).map_err(io(&dst))?;
    write_atomic(&root.join("latest.json"), format!("{{\"dir\": \"{name}\"}}\n").as_bytes())?;
    Ok(dst)
}

/// Saves a checkpoint of `trainer` under `dir/checkpoints/` and returns its directory.
pub fn save(trainer: &Trainer, run_dir: &Path) -> Result<PathBuf, AgentError> {
    let params = trainer.policy.params();
    let infos: Vec<ParamInfo> =
        params.items().iter().map(|p| ParamInfo { name: p.name.clone(), shape: p.shape().to_vec() }).collect();
    let named: Vec<(String, Vec<usize>)> = infos.iter().map(|i| (i.name.clone(), i.shape.clone())).collect();
    let weights: Vec<Vec<f32>> = params.items().iter().map(|p| p.values()).collect();
    let meta = CheckpointMeta {
        schema_version: CHECKPOINT_SCHEMA_VERSION,
        config: trainer.cfg.clone(),
        state: trainer.state(),
        params: infos,
    };
    write_dir(run_dir, &format!("update_{:06}", trainer.update), &named, &weights, trainer.moments(), &meta)
}

/// Finds the checkpoint directory for `path`: a checkpoint directory itself, a
/// `checkpoints/` directory or a run directory (both through `latest.json`).
pub fn resolve(path: &Path) -> Result<PathBuf, AgentError> {
    if path.join("meta.json").exists() {
        return Ok(path.to_path_buf());
    }
    for root in [path.join("checkpoints"), path.to_path_buf()] {
        let latest = root.join("latest.json");
        if latest.exists() {
            let text = std::fs::read_to_string(&latest).map_err(io(&latest))?;
            let v: serde_json::Value = serde_json::from_str(&text)
                .map_err(|e| AgentError::Checkpoint(format!("{}: {e}", latest.display())))?;
            let dir =
                v["dir"].as_str().ok_or_else(|| AgentError::Checkpoint(format!("{}: no \"dir\"", latest.display())))?;
            return Ok(root.join(dir));
        }
    }
    Err(AgentError::Checkpoint(format!(
        "no checkpoint at {} (expected meta.json, checkpoints/latest.json or latest.json)",
        path.display()
    )))
}

fn read_tensors(path: &Path, names: &[ParamInfo], prefix: &str) -> Result<Vec<Vec<f32>>, AgentError> {
    let bytes = std::fs::read(path).map_err(io(path))?;
    let st = SafeTensors::deserialize(&bytes)
        .map_err(|e| AgentError::Checkpoint(format!("{}: not a valid safetensors file ({e})", path.display())))?;
    names
        .iter()
        .map(|p| {
            let key = format!("{prefix}{}", p.name);
            let t = st
                .tensor(&key)
                .map_err(|_| AgentError::Checkpoint(format!("{}: tensor `{key}` missing", path.display())))?;
            if t.dtype() != Dtype::F32 || t.shape() != p.shape.as_slice() {
                return Err(AgentError::Checkpoint(format!(
                    "{}: tensor `{key}` is {:?} {:?}, expected F32 {:?}",
                    path.display(),
                    t.dtype(),
                    t.shape(),
                    p.shape
                )));
            }
            Ok(t.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect())
        })
        .collect()
}

/// Reads `meta.json` of a checkpoint directory.
pub fn read_meta(dir: &Path) -> Result<CheckpointMeta, AgentError> {
    let path = dir.join("meta.json");
    let text = std::fs::read_to_string(&path).map_err(io(&path))?;
    let meta: CheckpointMeta = serde_json::from_str(&text)
        .map_err(|e| AgentError::Checkpoint(format!("{}: invalid or truncated metadata ({e})", path.display())))?;
    if meta.schema_version != CHECKPOINT_SCHEMA_VERSION {
        return Err(AgentError::Checkpoint(format!(
            "{}: schema_version {} (this build reads {CHECKPOINT_SCHEMA_VERSION})",
            path.display(),
            meta.schema_version
        )));
    }
    Ok(meta)
}

/// Copies `weights` (in parameter order) into `policy`, checking their count and sizes
/// (the policy's own [`ActorCritic::load_weights`]).
pub fn load_weights_into(policy: &mut ActorCritic, weights: &[Vec<f32>]) -> Result<(), AgentError> {
    policy.load_weights(weights)
}

fn check_names(meta: &CheckpointMeta, policy: &ActorCritic) -> Result<(), AgentError> {
    let have: Vec<(&str, [usize; 2])> = policy.params().items().iter().map(|p| (p.name.as_str(), p.shape())).collect();
    let stored: Vec<(&str, [usize; 2])> = meta
        .params
        .iter()
        .map(|p| (p.name.as_str(), [p.shape.first().copied().unwrap_or(0), p.shape.get(1).copied().unwrap_or(0)]))
        .collect();
    if have != stored {
        return Err(AgentError::Checkpoint(format!(
            "parameters do not match the config's policy: stored {stored:?}, expected {have:?}"
        )));
    }
    Ok(())
}

/// Rebuilds a trainer from a checkpoint (`--resume`).
pub fn load_trainer(path: &Path) -> Result<Trainer, AgentError> {
    let dir = resolve(path)?;
    let meta = read_meta(&dir)?;
    let weights = read_tensors(&dir.join("weights.safetensors"), &meta.params, "")?;
    let m = read_tensors(&dir.join("optimizer.safetensors"), &meta.params, "adam.m.")?;
    let v = read_tensors(&dir.join("optimizer.safetensors"), &meta.params, "adam.v.")?;
    let trainer = Trainer::restore(meta.config.clone(), &weights, (m, v), meta.state.clone())?;
    check_names(&meta, &trainer.policy)?;
    Ok(trainer)
}

/// A trained policy with its observation normalizer: what `eval`, `record` and `render`
/// load. It implements [`crate::policy::Policy`] on raw env observations.
pub struct LoadedPolicy {
    /// The network.
    pub net: ActorCritic,
    /// The run's config.
    pub config: TrainConfig,
    /// Observation statistics (None when the run did not normalize).
    pub obs_rms: Option<crate::ppo::normalize::RunningMeanStd>,
    /// Which checkpoint.
    pub dir: PathBuf,
}

/// Loads the policy of a run directory, `checkpoints/` directory or checkpoint directory.
pub fn load_policy(path: &Path) -> Result<LoadedPolicy, AgentError> {
    let dir = resolve(path)?;
    let meta = read_meta(&dir)?;
    let weights = read_tensors(&dir.join("weights.safetensors"), &meta.params, "")?;
    let env = engram_envs::make_with(&meta.config.env, &meta.config.env_config_json())?;
    let dist = crate::policy::dist::dist_for(env.action_space())?;
    let mut net = ActorCritic::new(&meta.config.policy, env.observation_space().flat_dim(), dist, meta.config.seed);
    check_names(&meta, &net)?;
    net.load_weights(&weights)?;
    Ok(LoadedPolicy { net, obs_rms: meta.state.obs_rms, config: meta.config, dir })
}

impl crate::policy::Policy for LoadedPolicy {
    fn obs_dim(&self) -> usize {
        self.net.obs_dim()
    }
    fn action_len(&self) -> usize {
        self.net.action_len()
    }
    fn initial_state(&self, n_envs: usize) -> crate::policy::HiddenState {
        self.net.initial_state(n_envs)
    }
    fn act(
        &self,
        obs: &[f32],
        state: &mut crate::policy::HiddenState,
        mode: crate::policy::ActMode,
        rng: &mut dyn rand::RngCore,
        out: &mut crate::policy::ActOutput,
    ) {
        match &self.obs_rms {
            Some(rms) => {
                let mut x = obs.to_vec();
                rms.normalize_rows_clipped(&mut x, self.config.ppo.obs_clip);
                self.net.act(&x, state, mode, rng, out)
            }
            None => self.net.act(obs, state, mode, rng, out),
        }
    }
}
