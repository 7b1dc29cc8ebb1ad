//! PPO hyperparameters and the full training configuration (one TOML file).

use crate::error::AgentError;
use crate::policy::{Engine, PolicyConfig, PolicyKind};
use serde::{Deserialize, Serialize};

/// Bytes a rollout keeps per env step besides the observation, action and hidden-state rows:
/// log-probability, value, reward, advantage, return and residual (`f32` each) and the done
/// and episode-start flags (one byte each).
const ROLLOUT_SCALAR_BYTES_PER_STEP: u128 = 6 * 4 + 2;

/// Largest `update_threads` accepted.
pub const MAX_UPDATE_THREADS: usize = 256;

/// PPO hyperparameters (Schulman et al. 2017, "Proximal Policy Optimization Algorithms";
/// semantics of CleanRL's `ppo_continuous_action.py` / `ppo_atari_lstm.py` and SB3's `PPO`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PpoConfig {
    /// Parallel envs. Default 8.
    pub n_envs: usize,
    /// Steps per env per rollout. Default 128.
    pub n_steps: usize,
    /// Optimization epochs per rollout. Default 10.
    pub n_epochs: usize,
    /// Samples per minibatch (recurrent: `minibatch_size / bptt_len` sequences). Default 64.
    pub minibatch_size: usize,
    /// Adam learning rate. Default 3e-4.
    pub learning_rate: f32,
    /// Anneal the learning rate linearly to 0 over training. Default true.
    pub anneal_lr: bool,
    /// Adam ε. Default 1e-5.
    pub adam_eps: f32,
    /// Discount γ. Default 0.99.
    pub gamma: f32,
    /// GAE λ. Default 0.95.
    pub gae_lambda: f32,
    /// Surrogate clipping coefficient. Default 0.2.
    pub clip_coef: f32,
    /// Value clipping range around the old value (`None`: no value clipping). Default none.
    pub clip_vloss: Option<f32>,
    /// Entropy bonus coefficient. Default 0.
    pub ent_coef: f32,
    /// Value loss coefficient; the value loss is `½ · mean((V − R)²)` as in CleanRL. Default 0.5.
    pub vf_coef: f32,
    /// Global gradient-norm clip. Default 0.5.
    pub max_grad_norm: f32,
    /// Stop the epochs of an update when the approximate KL exceeds `1.5 · target_kl`
    /// (SB3's rule). Default none.
    pub target_kl: Option<f32>,
    /// Normalize advantages per minibatch. Default true.
    pub norm_adv: bool,
    /// Normalize observations with running statistics. Default true.
    pub normalize_obs: bool,
    /// Clip of normalized observations. Default 10.
    pub obs_clip: f32,
    /// Observation components the normalizer passes through unchanged (still clipped at
    /// `obs_clip`): inputs that are constant through a phase of training and meaningful later,
    /// such as a context input that is 0 until a test phase. Saved with the normalizer's
    /// statistics ([`engram_envs::wrappers::RunningMeanStd::passthrough`]). Default none
    /// (Gymnasium's normalizer; omitted from written configs when empty).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub obs_norm_passthrough: Vec<usize>,
    /// Scale rewards by the running std of the discounted return. Default false.
    pub normalize_reward: bool,
    /// Clip of scaled rewards. Default 10.
    pub reward_clip: f32,
    /// Recurrent policies: length of the BPTT chunks (0: whole `n_steps` sequences). Must
    /// divide `n_steps`. Default 0.
    pub bptt_len: usize,
    /// Gradient shards per minibatch (fused MLP engine): the minibatch is cut into this many
    /// row blocks whose gradients are computed independently (on up to `update_threads`
    /// threads) and summed in shard order, weighted by their row counts, so the result
    /// depends on the shard count but never on the thread count. 1: one block (the unsharded
    /// computation). Default 1 (omitted from written configs when 1).
    #[serde(skip_serializing_if = "is_one")]
    pub grad_shards: usize,
    /// Weight of the zeroness regularizer `mean_i KL(π(·|s_i) ‖ N(0, σ̄²))`, σ̄ the policy's own
    /// std behind a stop-gradient ([`crate::ppo::kl_reg`]; Gaussian heads). Default 0 (omitted
    /// from written configs when 0).
    #[serde(skip_serializing_if = "is_zero_f32")]
    pub kl_zeroness: f32,
    /// Weight of the smoothness regularizer `KL(π(·|s_t) ‖ sg[π(·|s_{t−1})])` between
    /// successive steps of an episode ([`crate::ppo::kl_reg`]; Gaussian heads). Default 0
    /// (omitted from written configs when 0).
    #[serde(skip_serializing_if = "is_zero_f32")]
    pub kl_smoothness: f32,
    /// When the KL regularizers act, as fractions `[start, end]` of the run's updates: off
    /// before `start`, their weights rising linearly to full at `end`, full after (so the
    /// reach can be learned before its shape is regularized). Default `[0, 0]`: full from the
    /// first update (omitted from written configs when so).
    #[serde(skip_serializing_if = "is_no_ramp")]
    pub kl_ramp: [f32; 2],
}

fn is_no_ramp(r: &[f32; 2]) -> bool {
    *r == [0.0, 0.0]
}

impl PpoConfig {
    /// The factor on the KL regularizers' weights at update `update` (0-based) of `updates`
    /// ([`PpoConfig::kl_ramp`]).
    pub fn kl_ramp_factor(&self, update: usize, updates: usize) -> f32 {
        let p = update as f32 / updates.max(1) as f32;
        let [a, b] = self.kl_ramp;
        if p >= b {
            1.0
        } else if p < a {
            0.0
        } else {
            (p - a) / (b - a)
        }
    }
}

fn is_zero_f32(v: &f32) -> bool {
    *v == 0.0
}

fn is_one(v: &usize) -> bool {
    *v == 1
}

fn is_zero(v: &usize) -> bool {
    *v == 0
}

impl Default for PpoConfig {
    fn default() -> Self {
        Self {
            n_envs: 8,
            n_steps: 128,
            n_epochs: 10,
            minibatch_size: 64,
            learning_rate: 3e-4,
            anneal_lr: true,
            adam_eps: 1e-5,
            gamma: 0.99,
            gae_lambda: 0.95,
            clip_coef: 0.2,
            clip_vloss: None,
            ent_coef: 0.0,
            vf_coef: 0.5,
            max_grad_norm: 0.5,
            target_kl: None,
            norm_adv: true,
            normalize_obs: true,
            obs_clip: 10.0,
            obs_norm_passthrough: Vec::new(),
            normalize_reward: false,
            reward_clip: 10.0,
            bptt_len: 0,
            grad_shards: 1,
            kl_zeroness: 0.0,
            kl_smoothness: 0.0,
            kl_ramp: [0.0, 0.0],
        }
    }
}

/// Everything a training run needs; written resolved to `config.toml` in the run directory.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    /// Registered env id. Default `CartPole-v1`.
    pub env: String,
    /// Env config (the env's documented fields), as a table. Default empty.
    pub env_config: toml::Table,
    /// Master seed: network init, env episode seeds, action sampling, minibatch order.
    /// Default 1.
    pub seed: u64,
    /// Env steps to train for (rounded up to whole rollouts). Default 100 000.
    pub total_timesteps: u64,
    /// Write a checkpoint every this many updates (0: only at the end). Default 50.
    pub checkpoint_every: usize,
    /// Threads stepping the envs (0 or 1: on the calling thread). Results do not depend on
    /// it. Default 1.
    pub env_threads: usize,
    /// End training early once the mean return of the last finished episodes (the train
    /// mean of the metrics, up to 100 episodes) reaches this value: "time to solve". The
    /// learning-rate schedule still runs over `total_timesteps`. Default none (omitted from
    /// written configs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_at_return: Option<f64>,
    /// Log the leading this-many Lyapunov exponents of the actor's recurrent layer at every
    /// checkpoint (driven by 4 deterministic episodes of the checkpoint's own policy) into
    /// `lyapunov.jsonl` and `lyapunov.png` of the run (`engram train` only). 0: off. Default 0
    /// (omitted from written configs).
    #[serde(skip_serializing_if = "is_zero")]
    pub lyapunov_exponents: usize,
    /// Threads computing the independent pieces of a minibatch's gradient: the shards of a
    /// fused MLP (`ppo.grad_shards`), or a recurrent policy's actor and critic backwards (2
    /// threads at most); used only where they are timed to pay, see
    /// [`crate::ppo::loss::ShardExec`]), 1 to
    /// [`MAX_UPDATE_THREADS`]. Results do not depend on it. Default 1 (omitted from written
    /// configs when 1).
    #[serde(skip_serializing_if = "is_one")]
    pub update_threads: usize,
    /// Architecture.
    pub policy: PolicyConfig,
    /// PPO hyperparameters.
    pub ppo: PpoConfig,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            env: "CartPole-v1".into(),
            env_config: toml::Table::new(),
            seed: 1,
            total_timesteps: 100_000,
            checkpoint_every: 50,
            env_threads: 1,
            update_threads: 1,
            stop_at_return: None,
            lyapunov_exponents: 0,
            policy: PolicyConfig::default(),
            ppo: PpoConfig::default(),
        }
    }
}

impl TrainConfig {
    /// Parses a TOML document and applies `key=value` overrides (dotted keys, TOML values;
    /// a value that is not valid TOML is taken as a string).
    pub fn from_toml_with(text: &str, overrides: &[String]) -> Result<Self, AgentError> {
        let mut doc: toml::Table = toml::from_str(text).map_err(|e| AgentError::Config(format!("config: {e}")))?;
        for o in overrides {
            let (key, raw) =
                o.split_once('=').ok_or_else(|| AgentError::Config(format!("--set {o}: expected key=value")))?;
            let value = match toml::from_str::<toml::Table>(&format!("v = {raw}")) {
                Ok(mut t) => t.remove("v").expect("parsed key v"),
                Err(_) => toml::Value::String(raw.to_string()),
            };
            let parts: Vec<&str> = key.trim().split('.').collect();
            let mut table = &mut doc;
            for part in &parts[..parts.len() - 1] {
                let entry = table.entry(part.to_string()).or_insert_with(|| toml::Value::Table(Default::default()));
                table = entry
                    .as_table_mut()
                    .ok_or_else(|| AgentError::Config(format!("--set {o}: `{part}` is not a table")))?;
            }
            table.insert(parts[parts.len() - 1].to_string(), value);
        }
        let cfg: TrainConfig =
            toml::Value::Table(doc).try_into().map_err(|e| AgentError::Config(format!("config: {e}")))?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// [`TrainConfig::from_toml_with`] with `engram train`'s `--env` and `--policy` applied
    /// before the overrides.
    pub fn from_toml_for(
        text: &str,
        env: Option<&str>,
        policy: Option<PolicyKind>,
        overrides: &[String],
    ) -> Result<Self, AgentError> {
        let mut sets: Vec<String> = env.map(|e| format!("env=\"{e}\"")).into_iter().collect();
        sets.extend(policy.map(|p| format!("policy.kind=\"{}\"", p.as_str())));
        sets.extend_from_slice(overrides);
        Self::from_toml_with(text, &sets)
    }

    /// The resolved config as TOML.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("config serializes")
    }

    /// Checks every bound, including that the rollout buffers fit in memory (a lower bound:
    /// one observation and action component, no hidden state; [`TrainConfig::check_rollout_memory`]
    /// checks the exact sizes once the env is known). The error names the field and value.
    pub fn validate(&self) -> Result<(), AgentError> {
        let p = &self.ppo;
        let bad = |msg: String| Err(AgentError::Config(msg));
        let pos = |name: &str, v: usize| if v == 0 { bad(format!("ppo.{name} = 0 (must be >= 1)")) } else { Ok(()) };
        pos("n_envs", p.n_envs)?;
        pos("n_steps", p.n_steps)?;
        pos("n_epochs", p.n_epochs)?;
        pos("minibatch_size", p.minibatch_size)?;
        if p.bptt_len > 0 && (p.n_steps / p.bptt_len) * p.bptt_len != p.n_steps {
            return bad(format!("ppo.bptt_len = {} does not divide ppo.n_steps = {}", p.bptt_len, p.n_steps));
        }
        if p.learning_rate.is_nan() || p.learning_rate <= 0.0 {
            return bad(format!("ppo.learning_rate = {} (must be > 0)", p.learning_rate));
        }
        if !(0.0..=1.0).contains(&p.gamma) || !(0.0..=1.0).contains(&p.gae_lambda) {
            return bad(format!("ppo.gamma = {}, ppo.gae_lambda = {} (must be in [0, 1])", p.gamma, p.gae_lambda));
        }
        pos("grad_shards", p.grad_shards)?;
        if !p.obs_norm_passthrough.is_empty() && !p.normalize_obs {
            return bad(format!(
                "ppo.obs_norm_passthrough = {:?} needs ppo.normalize_obs = true (without the normalizer every \
                 component is passed through)",
                p.obs_norm_passthrough
            ));
        }
        for (name, w) in [("kl_zeroness", p.kl_zeroness), ("kl_smoothness", p.kl_smoothness)] {
            if !(w.is_finite() && w >= 0.0) {
                return bad(format!("ppo.{name} = {w} (must be >= 0 and finite)"));
            }
        }
        let [a, b] = p.kl_ramp;
        if !(0.0 <= a && a <= b && b <= 1.0) {
            return bad(format!("ppo.kl_ramp = [{a}, {b}] (must be 0 <= start <= end <= 1)"));
        }
        if p.grad_shards > 1 {
            let fused = self.policy.kind == PolicyKind::Mlp && self.policy.engine == Engine::Fused;
            if !fused {
                return bad(format!(
                    "ppo.grad_shards = {} needs an MLP policy on policy.engine = \"fused\" (the dfdx and \
                     recurrent engines compute each minibatch as one shard; use grad_shards = 1)",
                    p.grad_shards
                ));
            }
            if p.grad_shards > p.minibatch_size {
                return bad(format!(
                    "ppo.grad_shards = {} (must be <= ppo.minibatch_size = {})",
                    p.grad_shards, p.minibatch_size
                ));
            }
        }
        if self.update_threads == 0 || self.update_threads > MAX_UPDATE_THREADS {
            return bad(format!("update_threads = {} (must be in 1..={MAX_UPDATE_THREADS})", self.update_threads));
        }
        if self.lyapunov_exponents > 0 && (self.policy.kind.cell().is_none() || self.policy.rnn_layers != 1) {
            return bad(format!(
                "lyapunov_exponents = {} needs a policy with one recurrent layer (policy.kind = {}, rnn_layers = {})",
                self.lyapunov_exponents,
                self.policy.kind.as_str(),
                self.policy.rnn_layers
            ));
        }
        if let Some(r) = self.stop_at_return.filter(|r| !r.is_finite()) {
            return bad(format!("stop_at_return = {r} (must be finite)"));
        }
        self.policy.validate()?;
        self.check_rollout_memory(1, 1, 0)
    }

    /// Bytes of one update's rollout buffers for observations of `obs_dim`, actions of
    /// `action_len` and hidden-state rows of `state_width` values.
    pub fn rollout_bytes(&self, obs_dim: usize, action_len: usize, state_width: usize) -> u128 {
        let steps = self.ppo.n_envs as u128 * self.ppo.n_steps as u128;
        let row = 4 * (obs_dim as u128 + action_len as u128 + state_width as u128);
        steps * (row + ROLLOUT_SCALAR_BYTES_PER_STEP)
    }

    /// Refuses a config whose rollout buffers ([`TrainConfig::rollout_bytes`]) would not fit
    /// under the machine's memory bound ([`engram_envs::limits::memory_bound`]).
    pub fn check_rollout_memory(
        &self,
        obs_dim: usize,
        action_len: usize,
        state_width: usize,
    ) -> Result<(), AgentError> {
        let bytes = self.rollout_bytes(obs_dim, action_len, state_width);
        let value = format!("{} (with ppo.n_steps = {})", self.ppo.n_envs, self.ppo.n_steps);
        engram_envs::limits::require_memory("rollout buffers", "ppo.n_envs", &value, bytes)
            .map_err(AgentError::ResourceLimit)
    }

    /// Env config as the registry takes it.
    pub fn env_config_json(&self) -> serde_json::Value {
        serde_json::to_value(&self.env_config).unwrap_or(serde_json::Value::Null)
    }

    /// Number of updates the run performs.
    pub fn num_updates(&self) -> usize {
        let batch = (self.ppo.n_envs * self.ppo.n_steps) as u64;
        self.total_timesteps.div_ceil(batch).max(1) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_apply_and_typos_are_refused() {
        let c = TrainConfig::from_toml_with(
            "env = \"Pendulum-v1\"\n[ppo]\nn_envs = 4\n",
            &["ppo.learning_rate=1e-3".into(), "policy.hidden=[32]".into(), "policy.kind=gru".into()],
        )
        .unwrap();
        assert_eq!(c.ppo.n_envs, 4);
        assert_eq!(c.ppo.learning_rate, 1e-3);
        assert_eq!(c.policy.hidden, vec![32]);
        assert_eq!(c.policy.kind, crate::policy::PolicyKind::Gru);
        let err = TrainConfig::from_toml_with("", &["ppo.learning_rat=1".into()]).unwrap_err().to_string();
        assert!(err.contains("learning_rat"), "{err}");
        let err = TrainConfig::from_toml_with("", &["ppo.bptt_len=7".into()]).unwrap_err().to_string();
        assert!(err.contains("bptt_len"), "{err}");
        // Round trip of the resolved config.
        assert_eq!(TrainConfig::from_toml_with(&c.to_toml(), &[]).unwrap(), c);
    }

    #[test]
    fn absurd_env_counts_are_refused_with_the_bytes_and_the_bound() {
        // `engram train --set ppo.n_envs=100000000` used to abort on an allocation failure.
        let err = TrainConfig::from_toml_with("", &["ppo.n_envs=100000000".into()]).unwrap_err();
        match &err {
            AgentError::ResourceLimit(m) => {
                assert_eq!(m.field, "ppo.n_envs");
                assert!(m.value.starts_with("100000000"), "{}", m.value);
                assert!(m.bytes > m.bound as u128, "{err}");
            }
            other => panic!("expected a resource limit, got {other}"),
        }
        let text = err.to_string();
        assert!(text.contains("100000000") && text.contains("bytes"), "{text}");
        TrainConfig::from_toml_with("", &["ppo.n_envs=64".into()]).unwrap();
    }

    #[test]
    fn gradient_shards_and_update_threads_are_checked() {
        let e = |sets: &[&str]| {
            let v: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
            TrainConfig::from_toml_with("", &v).unwrap_err().to_string()
        };
        let err = e(&["ppo.grad_shards=2"]);
        assert!(err.contains("ppo.grad_shards = 2") && err.contains("fused"), "{err}");
        let err = e(&["ppo.grad_shards=0"]);
        assert!(err.contains("ppo.grad_shards = 0") && err.contains(">= 1"), "{err}");
        let err = e(&["policy.engine=\"fused\"", "ppo.grad_shards=65"]);
        assert!(err.contains("grad_shards = 65") && err.contains("minibatch_size = 64"), "{err}");
        let err = e(&["ppo.kl_zeroness=-0.5"]);
        assert!(err.contains("ppo.kl_zeroness = -0.5 (must be >= 0 and finite)"), "{err}");
        let err = e(&["ppo.kl_smoothness=-1e-3"]);
        assert!(err.contains("ppo.kl_smoothness = -0.001 (must be >= 0"), "{err}");
        let err = e(&["ppo.kl_smoothness=nan"]);
        assert!(err.contains("ppo.kl_smoothness = NaN"), "{err}");
        let err = e(&["ppo.kl_ramp=[0.6, 0.4]"]);
        assert!(err.contains("ppo.kl_ramp = [0.6, 0.4] (must be 0 <= start <= end <= 1)"), "{err}");
        let err = e(&["ppo.kl_ramp=[0.2, 1.5]"]);
        assert!(err.contains("ppo.kl_ramp = [0.2, 1.5]"), "{err}");
        let err = e(&["stop_at_return=nan"]);
        assert!(err.contains("stop_at_return = NaN (must be finite)"), "{err}");
        let err = e(&["update_threads=0"]);
        assert!(err.contains("update_threads = 0") && err.contains("1..=256"), "{err}");
        let ok =
            TrainConfig::from_toml_with("", &["policy.engine=\"fused\"".into(), "ppo.grad_shards=2".into()]).unwrap();
        assert_eq!(TrainConfig::from_toml_with(&ok.to_toml(), &[]).unwrap(), ok);
        // Defaults are not written, so configs written before these fields existed are unchanged.
        let plain = TrainConfig::default().to_toml();
        assert!(!plain.contains("grad_shards") && !plain.contains("update_threads"), "{plain}");
        assert!(!plain.contains("kl_zeroness") && !plain.contains("kl_smoothness"), "{plain}");
        let kl =
            TrainConfig::from_toml_with("", &["ppo.kl_zeroness=0.01".into(), "ppo.kl_smoothness=0.1".into()]).unwrap();
        assert_eq!(TrainConfig::from_toml_with(&kl.to_toml(), &[]).unwrap(), kl);
        // The ramp: full from the start by default; else off, rising linearly, full.
        assert_eq!(kl.ppo.kl_ramp_factor(0, 100), 1.0);
        let ramp = TrainConfig::from_toml_with("", &["ppo.kl_ramp=[0.4, 0.6]".into()]).unwrap();
        let f: Vec<f32> = [0, 39, 40, 50, 60, 99].iter().map(|&u| ramp.ppo.kl_ramp_factor(u, 100)).collect();
        assert_eq!(f[..3], [0.0, 0.0, 0.0]);
        assert!((f[3] - 0.5).abs() < 1e-6 && f[4] == 1.0 && f[5] == 1.0, "{f:?}");
        let step = TrainConfig::from_toml_with("", &["ppo.kl_ramp=[0.5, 0.5]".into()]).unwrap();
        assert_eq!((step.ppo.kl_ramp_factor(49, 100), step.ppo.kl_ramp_factor(50, 100)), (0.0, 1.0));
        assert_eq!(TrainConfig::from_toml_with(&ramp.to_toml(), &[]).unwrap(), ramp);
    }
}
