//! Policies: the backend-independent [`Policy`] trait, the dfdx actor-critic, the hidden
//! state buffer and the action distributions.

pub mod actor_critic;
pub mod config;
pub mod dist;
pub mod fused;
pub mod state;

pub use actor_critic::ActorCritic;
pub use config::{Engine, PolicyConfig, PolicyKind};
pub use state::{HiddenState, StateSlot};

use rand::RngCore;

/// How [`Policy::act`] picks actions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActMode {
    /// Sample from the distribution (training, stochastic evaluation).
    Sample,
    /// The mode: the Gaussian mean or the most likely category.
    Deterministic,
}

/// Outputs of one batched [`Policy::act`] call; buffers are reused between calls.
#[derive(Clone, Debug, Default)]
pub struct ActOutput {
    /// Actions `[n_envs, action_len]` (a discrete action is one integral `f32`).
    pub actions: Vec<f32>,
    /// Log-probabilities of the actions, `[n_envs]`.
    pub log_probs: Vec<f32>,
    /// Value estimates, `[n_envs]`.
    pub values: Vec<f32>,
}

/// A policy as rollouts, evaluation, recording and rendering see it: `f32` slices in and
/// out, no backend type. Observations are what the env returns (a loaded policy applies its
/// own observation normalization).
pub trait Policy {
    /// Observation length.
    fn obs_dim(&self) -> usize;
    /// Length of one action in the env's flat layout.
    fn action_len(&self) -> usize;
    /// A zero hidden state for `n_envs` envs (`width == 0` for a memoryless policy).
    fn initial_state(&self, n_envs: usize) -> HiddenState;
    /// One batched step: `obs [n_envs, obs_dim]`; `state` is read and advanced in place.
    fn act(&self, obs: &[f32], state: &mut HiddenState, mode: ActMode, rng: &mut dyn RngCore, out: &mut ActOutput);
}
