//! One-env controllers for the rollout engine and the figures: the built-in controllers
//! (zero, random, the scripted reacher) and an adapter for any trained
//! [`crate::policy::Policy`] (a checkpoint).

use crate::policy::{ActMode, ActOutput, HiddenState, Policy};
use engram_envs::info::Info;
use engram_envs::space::Space;
use engram_envs::tasks::reach::{CurlReachConfig, ScriptedGains, ScriptedReacher};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// One env's closed-loop controller, episode by episode: maps an observation (and, for
/// oracle controllers, the env's `info`) to an action. Trained networks come in through
/// [`PolicyController`], which runs a [`crate::policy::Policy`] at batch 1 and resets its
/// hidden state every episode.
pub trait Controller {
    /// Short name for figure titles.
    fn name(&self) -> &str;
    /// Called at the start of every episode.
    fn reset(&mut self);
    /// Writes the action for `obs` (`[obs_dim]`) into `action` (`[act_dim]`).
    fn act(&mut self, obs: &[f32], info: &Info, action: &mut [f32]);
}

/// Always zero: the passive arm.
#[derive(Debug, Clone, Default)]
pub struct ZeroController;

impl Controller for ZeroController {
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
pub struct RandomController {
    space: Space,
    rng: ChaCha8Rng,
}

impl RandomController {
    /// Samples of `space`, seeded with `seed`.
    pub fn new(space: Space, seed: u64) -> Self {
        Self { space, rng: ChaCha8Rng::seed_from_u64(seed) }
    }
}

impl Controller for RandomController {
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
pub struct ScriptedController(pub ScriptedReacher);

impl ScriptedController {
    /// A scripted reacher for envs built from `cfg`.
    pub fn new(cfg: &CurlReachConfig) -> Self {
        Self(ScriptedReacher::new(cfg, ScriptedGains::default()))
    }
}

impl Controller for ScriptedController {
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

/// A trained policy (for instance a loaded checkpoint) as a [`Controller`]: batch 1,
/// deterministic actions (the distribution's mode), hidden state zeroed every episode.
pub struct PolicyController<P: Policy> {
    policy: P,
    name: String,
    state: HiddenState,
    out: ActOutput,
    rng: ChaCha8Rng,
}

impl<P: Policy> PolicyController<P> {
    /// Wraps `policy`, shown as `name` in figures.
    pub fn new(policy: P, name: impl Into<String>) -> Self {
        let state = policy.initial_state(1);
        Self { policy, name: name.into(), state, out: ActOutput::default(), rng: ChaCha8Rng::seed_from_u64(0) }
    }
}

impl<P: Policy> Controller for PolicyController<P> {
    fn name(&self) -> &str {
        &self.name
    }
    fn reset(&mut self) {
        self.state = self.policy.initial_state(1);
    }
    fn act(&mut self, obs: &[f32], _info: &Info, action: &mut [f32]) {
        self.policy.act(obs, &mut self.state, ActMode::Deterministic, &mut self.rng, &mut self.out);
        action.copy_from_slice(&self.out.actions[..action.len()]);
    }
}
