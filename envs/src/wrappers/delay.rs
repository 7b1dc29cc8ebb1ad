use super::forward_common;
use crate::env::{validate_action, Env, ResetOptions, StepOutcome};
use crate::error::EnvResult;
use crate::info::Info;
use crate::space::Space;
use engram_sim::delay::DelayLine;

/// Delays observations by a whole number of steps: the observation returned at step `t` is
/// the inner env's observation of step `t − delay`. At reset the line is primed with the
/// first observation (the sensor has "always" read it).
#[derive(Debug, Clone)]
pub struct ObservationDelay<E> {
    inner: E,
    line: DelayLine,
    fresh: Vec<f32>,
}

impl<E: Env> ObservationDelay<E> {
    /// Wraps `inner` with a delay of `delay_steps`.
    pub fn new(inner: E, delay_steps: usize) -> Self {
        let dim = inner.observation_space().flat_dim();
        Self { inner, line: DelayLine::new(dim, delay_steps), fresh: vec![0.0; dim] }
    }
}

impl<E: Env> Env for ObservationDelay<E> {
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
        self.line.fill(obs);
        Ok(())
    }
    #[inline]
    fn step_into(&mut self, action: &[f32], obs: &mut [f32], info: &mut Info) -> EnvResult<StepOutcome> {
        let o = self.inner.step_into(action, &mut self.fresh, info)?;
        self.line.push(&self.fresh, obs);
        Ok(o)
    }
}

/// Delays actions by a whole number of steps: the action applied at step `t` is the one given
/// at step `t − delay`; the first `delay` steps apply `initial` (zeros by default, which for a
/// `Discrete` space is action 0). Bad actions are refused when given, not when applied.
#[derive(Debug, Clone)]
pub struct ActionDelay<E> {
    inner: E,
    line: DelayLine,
    initial: Vec<f32>,
    applied: Vec<f32>,
}

impl<E: Env> ActionDelay<E> {
    /// Wraps `inner` with a delay of `delay_steps`, priming with zeros.
    pub fn new(inner: E, delay_steps: usize) -> Self {
        let dim = inner.action_space().flat_dim();
        Self { inner, line: DelayLine::new(dim, delay_steps), initial: vec![0.0; dim], applied: vec![0.0; dim] }
    }
}

impl<E: Env> Env for ActionDelay<E> {
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
        self.line.fill(&self.initial);
        Ok(())
    }
    #[inline]
    fn step_into(&mut self, action: &[f32], obs: &mut [f32], info: &mut Info) -> EnvResult<StepOutcome> {
        if self.line.delay() == 0 {
            return self.inner.step_into(action, obs, info);
        }
        validate_action(self.inner.id(), self.inner.action_space(), action)?;
        // Peek first so a refused step (before reset, after done) leaves the line untouched.
        self.applied.copy_from_slice(self.line.peek());
        let o = self.inner.step_into(&self.applied, obs, info)?;
        let mut discard = std::mem::take(&mut self.applied);
        self.line.push(action, &mut discard);
        self.applied = discard;
        Ok(o)
    }
}
