//! A trained run seen by the probes: its loaded policy and the actor's recurrent layer as an
//! `f64` map.

use crate::checkpoint::{load_policy, LoadedPolicy};
use crate::error::AgentError;
use crate::policy::Policy;
use crate::probe::recurrent::RecurrentMap;
use crate::probe::Matrix;
use std::path::{Path, PathBuf};

/// Prefix of the probed layer's parameters: the actor's first recurrent layer, the one that
/// drives the action.
pub const PROBED_LAYER: &str = "actor.rnn0";

/// A run's policy with its recurrent map.
pub struct ProbedAgent {
    /// The run (or checkpoint) directory given.
    pub run: PathBuf,
    /// The policy (network, config, observation normalizer).
    pub policy: LoadedPolicy,
    /// [`PROBED_LAYER`] in `f64`.
    pub map: RecurrentMap,
}

impl ProbedAgent {
    /// Loads the latest checkpoint of `run`. Errors name the run when it is missing, when
    /// its policy is an MLP, or when it has more than one recurrent layer.
    pub fn load(run: &Path) -> Result<Self, AgentError> {
        if !run.exists() {
            return Err(AgentError::MissingRun(run.display().to_string()));
        }
        let policy = load_policy(run)?;
        let cfg = &policy.config.policy;
        let Some(kind) = cfg.kind.cell() else {
            return Err(AgentError::NotRecurrent {
                run: run.display().to_string(),
                kind: format!("{:?}", cfg.kind).to_lowercase(),
            });
        };
        if cfg.rnn_layers != 1 {
            return Err(AgentError::Probe(format!(
                "{}: policy.rnn_layers = {}; the probes handle one recurrent layer",
                run.display(),
                cfg.rnn_layers
            )));
        }
        let items = policy.net.params().items();
        let get = |suffix: &str| -> Result<Vec<f32>, AgentError> {
            let name = format!("{PROBED_LAYER}.{suffix}");
            items
                .iter()
                .find(|p| p.name == name)
                .map(|p| p.values())
                .ok_or_else(|| AgentError::Probe(format!("{}: parameter {name} not found", run.display())))
        };
        let gru = kind == crate::nn::cells::CellKind::Gru;
        let (b_ih, b_hh) = if gru { (get("bias_ih")?, Some(get("bias_hh")?)) } else { (get("bias")?, None) };
        let map = RecurrentMap::new(
            kind,
            policy.net.obs_dim(),
            cfg.rnn_hidden,
            &get("weight_ih")?,
            &get("weight_hh")?,
            &b_ih,
            b_hh.as_deref(),
        )?;
        Ok(Self { run: run.to_path_buf(), policy, map })
    }

    /// `rnn`, `gru` or `lstm`.
    pub fn architecture(&self) -> String {
        format!("{:?}", self.policy.config.policy.kind).to_lowercase()
    }

    /// The env id the run was trained on.
    pub fn env(&self) -> &str {
        &self.policy.config.env
    }

    /// A short name: the run directory's last component.
    pub fn name(&self) -> String {
        self.run.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| self.run.display().to_string())
    }

    /// Raw observations `[T, obs_dim]` as the cell sees them (the run's normalizer and clip
    /// applied in `f32`, exactly as the policy does), in `f64`.
    pub fn cell_inputs(&self, obs: &[f32], rows: usize) -> Matrix {
        let od = self.policy.net.obs_dim();
        let mut x = obs[..rows * od].to_vec();
        if let Some(rms) = &self.policy.obs_rms {
            for r in x.chunks_exact_mut(od) {
                rms.normalize_rows_clipped(r, self.policy.config.ppo.obs_clip);
            }
        }
        Matrix::from_fn(rows, od, |i, j| x[i * od + j] as f64)
    }

    /// Duration of one env step in seconds, when the env's config names it.
    pub fn dt_s(&self) -> Option<f64> {
        env_dt_s(&self.policy.config.env, &self.policy.config.env_config_json())
    }
}

/// Duration of one step of env `id` with config `config` (the `dt_s` / `tau_s` field of the
/// classic control and reaching configs), if known.
pub fn env_dt_s(id: &str, config: &serde_json::Value) -> Option<f64> {
    use engram_envs::registry::parse_config;
    use engram_envs::tasks;
    if id.starts_with("Pendulum") {
        parse_config::<tasks::pendulum::PendulumConfig>(id, config).ok().map(|c| c.dt_s)
    } else if id.starts_with("CartPole") {
        parse_config::<tasks::cartpole::CartPoleConfig>(id, config).ok().map(|c| c.tau_s)
    } else if id.starts_with("CurlReach") {
        parse_config::<tasks::reach::CurlReachConfig>(id, config).ok().map(|c| c.dt_s)
    } else {
        None
    }
}
