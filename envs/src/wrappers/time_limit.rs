use crate::env::{Env, EpisodeStatus, ResetOptions, StepOutcome};
use crate::error::EnvResult;
use crate::info::Info;
use crate::space::Space;

/// Truncates the episode after `max_episode_steps` steps (Gymnasium's `TimeLimit`): the step
/// that reaches the limit returns `truncated = true` (and may also be `terminated`).
#[derive(Debug, Clone)]
pub struct TimeLimit<E> {
    inner: E,
    max_steps: usize,
    elapsed: usize,
    status: EpisodeStatus,
}

impl<E: Env> TimeLimit<E> {
    /// Wraps `inner` with a limit of `max_episode_steps` (must be ≥ 1).
    pub fn new(inner: E, max_episode_steps: usize) -> Self {
        assert!(max_episode_steps >= 1, "TimeLimit: max_episode_steps must be >= 1");
        Self { inner, max_steps: max_episode_steps, elapsed: 0, status: EpisodeStatus::NeverReset }
    }

    /// Steps taken in the current episode.
    pub fn elapsed_steps(&self) -> usize {
        self.elapsed
    }

    /// The wrapped env.
    pub fn inner(&self) -> &E {
        &self.inner
    }

    /// The wrapped env, mutably.
    pub fn inner_mut(&mut self) -> &mut E {
        &mut self.inner
    }
}

impl<E: Env> Env for TimeLimit<E> {
    fn id(&self) -> &str {
        self.inner.id()
    }
    fn observation_space(&self) -> &Space {
        self.inner.observation_space()
    }
    fn action_space(&self) -> &Space {
        self.inner.action_space()
    }
    fn max_episode_steps(&self) -> Option<usize> {
        Some(self.inner.max_episode_steps().map_or(self.max_steps, |m| m.min(self.max_steps)))
    }
    fn reset_into(
        &mut self,
        seed: Option<u64>,
        options: &ResetOptions,
        obs: &mut [f32],
        info: &mut Info,
    ) -> EnvResult<()> {
        self.inner.reset_into(seed, options, obs, info)?;
        self.elapsed = 0;
        self.status = EpisodeStatus::Running;
        Ok(())
    }
    #[inline]
    fn step_into(&mut self, action: &[f32], obs: &mut [f32], info: &mut Info) -> EnvResult<StepOutcome> {
        self.status.check_step(self.inner.id())?;
        let mut o = self.inner.step_into(action, obs, info)?;
        self.elapsed += 1;
        if self.elapsed >= self.max_steps {
            o.truncated = true;
        }
        self.status.record(&o);
        Ok(o)
    }
    fn state(&self) -> Option<Vec<f64>> {
        self.inner.state()
    }
    fn set_state(&mut self, state: &[f64]) -> EnvResult<()> {
        self.inner.set_state(state)?;
        if self.status == EpisodeStatus::NeverReset {
            self.status = EpisodeStatus::Running;
        }
        Ok(())
    }
    fn observe(&self, obs: &mut [f32]) -> EnvResult<()> {
        self.inner.observe(obs)
    }
}
