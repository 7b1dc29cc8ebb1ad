use super::forward_common;
use crate::env::{validate_action, Env, ResetOptions, StepOutcome};
use crate::error::EnvResult;
use crate::info::Info;
use crate::space::Space;

/// Clips `Box` actions to the inner action space's bounds (Gymnasium's `ClipAction`). The
/// outer action space is unbounded with the same shape; NaN and inf are still refused.
#[derive(Debug, Clone)]
pub struct ClipAction<E> {
    inner: E,
    space: Space,
    low: Vec<f32>,
    high: Vec<f32>,
    clipped: Vec<f32>,
}

impl<E: Env> ClipAction<E> {
    /// Wraps `inner`; a `Discrete` action space is passed through unchanged.
    pub fn new(inner: E) -> Self {
        let (space, low, high) = match inner.action_space() {
            Space::Box { low, high, shape } => (
                Space::Box {
                    low: vec![f32::NEG_INFINITY; low.len()],
                    high: vec![f32::INFINITY; low.len()],
                    shape: shape.clone(),
                },
                low.clone(),
                high.clone(),
            ),
            s @ Space::Discrete { .. } => (s.clone(), vec![], vec![]),
        };
        let clipped = vec![0.0; space.flat_dim()];
        Self { inner, space, low, high, clipped }
    }
}

impl<E: Env> Env for ClipAction<E> {
    forward_common!();
    fn observation_space(&self) -> &Space {
        self.inner.observation_space()
    }
    fn action_space(&self) -> &Space {
        &self.space
    }
    fn reset_into(
        &mut self,
        seed: Option<u64>,
        options: &ResetOptions,
        obs: &mut [f32],
        info: &mut Info,
    ) -> EnvResult<()> {
        self.inner.reset_into(seed, options, obs, info)
    }
    #[inline]
    fn step_into(&mut self, action: &[f32], obs: &mut [f32], info: &mut Info) -> EnvResult<StepOutcome> {
        if self.low.is_empty() {
            return self.inner.step_into(action, obs, info);
        }
        validate_action(self.inner.id(), &self.space, action)?;
        for (((c, &a), &lo), &hi) in self.clipped.iter_mut().zip(action).zip(&self.low).zip(&self.high) {
            *c = a.clamp(lo, hi);
        }
        self.inner.step_into(&self.clipped, obs, info)
    }
    fn observe(&self, obs: &mut [f32]) -> EnvResult<()> {
        self.inner.observe(obs)
    }
}
