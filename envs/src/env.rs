//! The `Env` trait and the values that flow through it.

use crate::error::{EnvError, EnvResult};
use crate::info::Info;
use crate::space::Space;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Reward type of every env: `f64`, as Gymnasium returns Python floats.
pub type Reward = f64;

/// What a step produced besides the observation and the info.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct StepOutcome {
    /// Reward of the transition.
    pub reward: Reward,
    /// The MDP reached a terminal state: do not bootstrap from the next observation.
    pub terminated: bool,
    /// The episode was cut by a limit (time, bounds of a study): bootstrap from the final
    /// observation.
    pub truncated: bool,
}

impl StepOutcome {
    /// `terminated || truncated`.
    #[inline]
    pub fn done(&self) -> bool {
        self.terminated || self.truncated
    }
}

/// An owned step result, Gymnasium's `(obs, reward, terminated, truncated, info)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// Observation after the step, `[obs_dim]`.
    pub obs: Vec<f32>,
    /// Reward of the transition.
    pub reward: Reward,
    /// Terminal state reached.
    pub terminated: bool,
    /// Cut by a limit.
    pub truncated: bool,
    /// Named diagnostics.
    pub info: Info,
}

/// Named values that pin parts of the next episode (`reset(options=...)` in Gymnasium): a
/// target index, a force-field strength, a dynamics parameter. Each env documents the keys it
/// accepts and refuses any other key with [`EnvError::InvalidOption`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ResetOptions {
    /// Key → value.
    pub values: BTreeMap<String, f64>,
}

impl ResetOptions {
    /// No options.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `key = value` (builder style).
    pub fn with(mut self, key: &str, value: f64) -> Self {
        self.values.insert(key.to_string(), value);
        self
    }

    /// The value of `key`, if given.
    pub fn get(&self, key: &str) -> Option<f64> {
        self.values.get(key).copied()
    }

    /// Whether no option is set.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Refuses any key not in `accepted` and any non-finite value.
    pub fn check(&self, env: &str, accepted: &[&str]) -> EnvResult<()> {
        for (key, &value) in &self.values {
            if !accepted.contains(&key.as_str()) {
                let reason = if accepted.is_empty() {
                    "this env accepts no reset options".to_string()
                } else {
                    format!("unknown option; accepted: {}", accepted.join(", "))
                };
                return Err(EnvError::InvalidOption { env: env.into(), key: key.clone(), value, reason });
            }
            if !value.is_finite() {
                return Err(EnvError::InvalidOption {
                    env: env.into(),
                    key: key.clone(),
                    value,
                    reason: "must be finite".into(),
                });
            }
        }
        Ok(())
    }
}

/// A Gymnasium-style environment.
///
/// The required methods write into caller-owned buffers (`obs` of length
/// `observation_space().flat_dim()`) and a caller-owned [`Info`], so stepping allocates
/// nothing; [`Env::reset`] and [`Env::step`] are the allocating conveniences with Gymnasium's
/// signatures.
///
/// Contract (checked by [`crate::checker::check_env`]):
/// - `reset` with `Some(seed)` reseeds the env's own RNG; `None` continues its stream;
/// - `step` before the first `reset`, or after a step that returned `terminated` or
///   `truncated`, is an error ([`EnvError::StepBeforeReset`], [`EnvError::StepAfterDone`]);
/// - actions of the wrong length, with NaN/inf, or out of a discrete range are errors;
///   out-of-bounds `Box` actions are clipped by the env (as Gymnasium's envs do);
/// - the same seed and actions give bit-identical observations, rewards and infos.
pub trait Env: Send {
    /// The registered id, for example `CartPole-v1`.
    fn id(&self) -> &str;

    /// The space observations live in.
    fn observation_space(&self) -> &Space;

    /// The space actions live in.
    fn action_space(&self) -> &Space;

    /// Starts an episode: writes the first observation into `obs` and its info into `info`.
    fn reset_into(
        &mut self,
        seed: Option<u64>,
        options: &ResetOptions,
        obs: &mut [f32],
        info: &mut Info,
    ) -> EnvResult<()>;

    /// Advances one step: writes the next observation into `obs` and its info into `info`.
    fn step_into(&mut self, action: &[f32], obs: &mut [f32], info: &mut Info) -> EnvResult<StepOutcome>;

    /// Steps after which the episode is truncated, if any (the `TimeLimit`).
    fn max_episode_steps(&self) -> Option<usize> {
        None
    }

    /// The underlying physical state (for CartPole `[x, ẋ, θ, θ̇]`), if the env exposes it.
    fn state(&self) -> Option<Vec<f64>> {
        None
    }

    /// Overwrites the physical state of a running episode (how a recorded trajectory is
    /// replayed from its recorded initial state). The next observation reflects it.
    fn set_state(&mut self, _state: &[f64]) -> EnvResult<()> {
        Err(EnvError::Unsupported { env: self.id().to_string(), operation: "set_state".into() })
    }

    /// The observation of the current state (after [`Env::set_state`]).
    fn observe(&self, _obs: &mut [f32]) -> EnvResult<()> {
        Err(EnvError::Unsupported { env: self.id().to_string(), operation: "observe".into() })
    }

    /// Gymnasium's `reset(seed, options) -> (obs, info)`, allocating the observation.
    fn reset(&mut self, seed: Option<u64>, options: &ResetOptions) -> EnvResult<(Vec<f32>, Info)> {
        let mut obs = vec![0.0; self.observation_space().flat_dim()];
        let mut info = Info::new();
        self.reset_into(seed, options, &mut obs, &mut info)?;
        Ok((obs, info))
    }

    /// Gymnasium's `step(action)`, allocating the observation.
    fn step(&mut self, action: &[f32]) -> EnvResult<Step> {
        let mut obs = vec![0.0; self.observation_space().flat_dim()];
        let mut info = Info::new();
        let o = self.step_into(action, &mut obs, &mut info)?;
        Ok(Step { obs, reward: o.reward, terminated: o.terminated, truncated: o.truncated, info })
    }
}

impl<E: Env + ?Sized> Env for Box<E> {
    fn id(&self) -> &str {
        (**self).id()
    }
    fn observation_space(&self) -> &Space {
        (**self).observation_space()
    }
    fn action_space(&self) -> &Space {
        (**self).action_space()
    }
    fn reset_into(
        &mut self,
        seed: Option<u64>,
        options: &ResetOptions,
        obs: &mut [f32],
        info: &mut Info,
    ) -> EnvResult<()> {
        (**self).reset_into(seed, options, obs, info)
    }
    #[inline]
    fn step_into(&mut self, action: &[f32], obs: &mut [f32], info: &mut Info) -> EnvResult<StepOutcome> {
        (**self).step_into(action, obs, info)
    }
    fn max_episode_steps(&self) -> Option<usize> {
        (**self).max_episode_steps()
    }
    fn state(&self) -> Option<Vec<f64>> {
        (**self).state()
    }
    fn set_state(&mut self, state: &[f64]) -> EnvResult<()> {
        (**self).set_state(state)
    }
    fn observe(&self, obs: &mut [f32]) -> EnvResult<()> {
        (**self).observe(obs)
    }
}

/// Where an env is in its episode; every env and every stateful wrapper keeps one to refuse
/// stepping before a reset or after a done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EpisodeStatus {
    /// Never reset.
    #[default]
    NeverReset,
    /// Inside an episode.
    Running,
    /// The last step terminated or truncated.
    Done,
}

impl EpisodeStatus {
    /// Errors unless an episode is running.
    #[inline]
    pub fn check_step(&self, env: &str) -> EnvResult<()> {
        match self {
            EpisodeStatus::Running => Ok(()),
            EpisodeStatus::NeverReset => Err(EnvError::StepBeforeReset { env: env.to_string() }),
            EpisodeStatus::Done => Err(EnvError::StepAfterDone { env: env.to_string() }),
        }
    }

    /// Records the outcome of a step.
    #[inline]
    pub fn record(&mut self, outcome: &StepOutcome) {
        if outcome.done() {
            *self = EpisodeStatus::Done;
        }
    }
}

/// Checks an action against its space: length, finiteness, and for `Discrete` an integer in
/// range. `Box` bounds are not enforced (envs clip, as in Gymnasium).
#[inline]
pub fn validate_action(env: &str, space: &Space, action: &[f32]) -> EnvResult<()> {
    let expected = space.flat_dim();
    if action.len() != expected {
        return Err(EnvError::ActionLength {
            env: env.to_string(),
            expected,
            got: action.len(),
            space: space.to_string(),
        });
    }
    for (index, &value) in action.iter().enumerate() {
        if !value.is_finite() {
            return Err(EnvError::NonFiniteAction { env: env.to_string(), index, value });
        }
    }
    if let Space::Discrete { n } = *space {
        let v = action[0];
        if v.fract() != 0.0 || v < 0.0 || v >= n as f32 {
            return Err(EnvError::DiscreteActionOutOfRange { env: env.to_string(), value: v, n });
        }
    }
    Ok(())
}

/// Checks a state slice: length and finiteness.
pub fn validate_state(env: &str, expected: usize, state: &[f64]) -> EnvResult<()> {
    if state.len() != expected {
        return Err(EnvError::InvalidState {
            env: env.to_string(),
            reason: format!("length {} given, expected {expected}", state.len()),
        });
    }
    if let Some(i) = state.iter().position(|v| !v.is_finite()) {
        return Err(EnvError::InvalidState {
            env: env.to_string(),
            reason: format!("state[{i}] = {} is not finite", state[i]),
        });
    }
    Ok(())
}
