//! The policy interface the figure code drives, and the built-in policies.

use engram_envs::info::Info;
use engram_envs::space::Space;
use engram_envs::tasks::reach::{CurlReachConfig, ScriptedGains, ScriptedReacher};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Anything that maps an observation (and, for oracle controllers, the env's `info`) to an
/// action. A trained checkpoint plugs in by implementing this trait (a recurrent policy
/// resets its hidden state in [`Policy::reset`]).
pub trait Policy {
    /// Short name for figure titles.
    fn name(&self) -> &str;
    /// Called at the start of every episode.
    fn reset(&mut self);
    /// Writes the action for `obs` (`[obs_dim]`) into `action` (`[act_dim]`).
    fn act(&mut self, obs: &[f32], info: &Info, action: &mut [f32]);
}

/// Always zero: the passive arm.
#[derive(Debug, Clone, Default)]
pub struct ZeroPolicy;

impl Policy for ZeroPolicy {
    fn name(&self) -> &str {
        "zero"
    }
    fn reset(&mut self) {}
    fn act(&mut self, _obs: &[f32], _info: &Info, action: &mut [f32]) {
        action.fill(0.0);
    }
}

/// Uniform samples of the action space from a seeded RNG.
#[derive(Debug, Clone)]
pub struct RandomPolicy {
    space: Space,
    rng: ChaCha8Rng,
}

impl RandomPolicy {
    /// Samples of `space`, seeded with `seed`.
    pub fn new(space: Space, seed: u64) -> Self {
        Self { space, rng: ChaCha8Rng::seed_from_u64(seed) }
    }
}

impl Policy for RandomPolicy {
    fn name(&self) -> &str {
        "random"
    }
    fn reset(&mut self) {}
    fn act(&mut self, _obs: &[f32], _info: &Info, action: &mut [f32]) {
        self.space.sample_into(&mut self.rng, action);
    }
}

/// The scripted reacher of the reaching task (PD on the hand, minimum-jerk reference).
#[derive(Debug, Clone)]
pub struct ScriptedPolicy(pub ScriptedReacher);

impl ScriptedPolicy {
    /// A scripted reacher for envs built from `cfg`.
    pub fn new(cfg: &CurlReachConfig) -> Self {
        Self(ScriptedReacher::new(cfg, ScriptedGains::default()))
    }
}

impl Policy for ScriptedPolicy {
    fn name(&self) -> &str {
        "scripted"
    }
    fn reset(&mut self) {
        self.0.reset();
    }
    fn act(&mut self, _obs: &[f32], info: &Info, action: &mut [f32]) {
        self.0.act(info, action);
    }
}
