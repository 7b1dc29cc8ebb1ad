//! A trained checkpoint as a [`crate::render::Policy`], so `engram render` can draw any run.

use crate::checkpoint::{load_policy, LoadedPolicy};
use crate::error::AgentError;
use crate::policy::{ActMode, ActOutput, HiddenState, Policy};
use engram_envs::info::Info;
use rand::SeedableRng;
use std::path::Path;

/// A loaded checkpoint driving one env with deterministic actions; the recurrent state is
/// zeroed at every episode start.
pub struct CheckpointPolicy {
    inner: LoadedPolicy,
    state: HiddenState,
    out: ActOutput,
    rng: rand_chacha::ChaCha8Rng,
    name: String,
}

impl CheckpointPolicy {
    /// Loads the policy of a run directory or checkpoint directory.
    pub fn load(path: &Path) -> Result<Self, AgentError> {
        let inner = load_policy(path)?;
        let state = inner.initial_state(1);
        let name = format!("{} {:?}", inner.config.env, inner.config.policy.kind).to_lowercase();
        Ok(Self { inner, state, out: ActOutput::default(), rng: rand_chacha::ChaCha8Rng::seed_from_u64(0), name })
    }

    /// The loaded policy (config, normalizer, network).
    pub fn loaded(&self) -> &LoadedPolicy {
        &self.inner
    }

    /// The hidden state after the last step (`[1, width]`), for probes.
    pub fn state(&self) -> &HiddenState {
        &self.state
    }
}

impl crate::render::Policy for CheckpointPolicy {
    fn name(&self) -> &str {
        &self.name
    }
    fn reset(&mut self) {
        self.state.reset_row(0);
    }
    fn act(&mut self, obs: &[f32], _info: &Info, action: &mut [f32]) {
        self.inner.act(obs, &mut self.state, ActMode::Deterministic, &mut self.rng, &mut self.out);
        action.copy_from_slice(&self.out.actions);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ppo::{TrainConfig, Trainer};
    use crate::render::Policy as RenderPolicy;

    #[test]
    fn a_checkpoint_drives_the_render_interface_like_eval() {
        let cfg = TrainConfig::from_toml_with(
            "env = \"PendulumNoVel-v1\"\ntotal_timesteps = 256\n[policy]\nkind = \"gru\"\nrnn_hidden = 4\nhidden = []\n[ppo]\nn_envs = 2\nn_steps = 64\n",
            &[],
        )
        .unwrap();
        let mut t = Trainer::new(cfg).unwrap();
        t.train_update().unwrap();
        let dir = std::env::temp_dir().join(format!("engram-render-policy-{}", std::process::id()));
        crate::checkpoint::save(&t, &dir).unwrap();
        let mut p = CheckpointPolicy::load(&dir).unwrap();
        let loaded = load_policy(&dir).unwrap();
        let (obs, info) = ([0.6f32, 0.8], Info::new());
        let mut a = [0.0f32];
        let mut state = loaded.initial_state(1);
        let mut out = ActOutput::default();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        for _ in 0..3 {
            p.act(&obs, &info, &mut a);
            loaded.act(&obs, &mut state, ActMode::Deterministic, &mut rng, &mut out);
            assert_eq!(a[0], out.actions[0]);
        }
        assert_eq!(p.state().data, state.data);
        p.reset();
        assert!(p.state().data.iter().all(|&v| v == 0.0));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
