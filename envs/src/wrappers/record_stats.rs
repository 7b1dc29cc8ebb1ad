use super::forward_common;
use crate::env::{Env, ResetOptions, StepOutcome};
use crate::error::EnvResult;
use crate::info::Info;
use crate::space::Space;

/// Tracks the return and length of the running episode (Gymnasium's
/// `RecordEpisodeStatistics`).
///
/// Unlike Gymnasium, which adds `info["episode"]` only on the last step, the keys
/// `episode_return` and `episode_length` are set on every step (so the info schema is stable
/// and a vector env can copy it into a fixed buffer): on the step where `terminated` or
/// `truncated` is true they hold the finished episode's totals.
#[derive(Debug, Clone)]
pub struct RecordEpisodeStatistics<E> {
    inner: E,
    ret: f64,
    len: usize,
}

impl<E: Env> RecordEpisodeStatistics<E> {
    /// Info key of the return so far.
    pub const RETURN_KEY: &'static str = "episode_return";
    /// Info key of the length so far.
    pub const LENGTH_KEY: &'static str = "episode_length";

    /// Wraps `inner`.
    pub fn new(inner: E) -> Self {
        Self { inner, ret: 0.0, len: 0 }
    }
}

impl<E: Env> Env for RecordEpisodeStatistics<E> {
    forward_common!();
    fn observation_space(&self) -> &Space {
        self.inner.observation_space()
    }
    fn action_space(&self) -> &Space {
        self.inner.action_space()
    }
    fn reset_into(
        &mut self,
        seed: Option<u64>,
        options: &ResetOptions,
        obs: &mut [f32],
        info: &mut Info,
    ) -> EnvResult<()> {
        self.inner.reset_into(seed, options, obs, info)?;
        self.ret = 0.0;
        self.len = 0;
        info.set(Self::RETURN_KEY, 0.0);
        info.set(Self::LENGTH_KEY, 0.0);
        Ok(())
    }
    #[inline]
    fn step_into(&mut self, action: &[f32], obs: &mut [f32], info: &mut Info) -> EnvResult<StepOutcome> {
        let o = self.inner.step_into(action, obs, info)?;
        self.ret += o.reward;
        self.len += 1;
        info.set(Self::RETURN_KEY, self.ret);
        info.set(Self::LENGTH_KEY, self.len as f64);
        Ok(o)
    }
    fn observe(&self, obs: &mut [f32]) -> EnvResult<()> {
        self.inner.observe(obs)
    }
}
