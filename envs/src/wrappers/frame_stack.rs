use super::forward_common;
use crate::env::{Env, ResetOptions, StepOutcome};
use crate::error::EnvResult;
use crate::info::Info;
use crate::space::Space;

/// Concatenates the last `k` observations, oldest first (Gymnasium's `FrameStackObservation`
/// with padding by the first observation): `[k * obs_dim]`. With the last actions left out
/// this is the memoryless "window" baseline of the probes.
#[derive(Debug, Clone)]
pub struct FrameStack<E> {
    inner: E,
    k: usize,
    dim: usize,
    space: Space,
    /// `[k, dim]`, oldest first.
    frames: Vec<f32>,
}

impl<E: Env> FrameStack<E> {
    /// Wraps `inner`, stacking `k ≥ 1` frames.
    pub fn new(inner: E, k: usize) -> Self {
        assert!(k >= 1, "FrameStack: k must be >= 1");
        let (low, high) = match inner.observation_space() {
            Space::Box { low, high, .. } => (low.clone(), high.clone()),
            Space::Discrete { .. } => panic!("FrameStack needs a Box observation space"),
        };
        let dim = low.len();
        let space = Space::Box { low: low.repeat(k), high: high.repeat(k), shape: vec![k, dim] };
        Self { inner, k, dim, space, frames: vec![0.0; k * dim] }
    }
}

impl<E: Env> Env for FrameStack<E> {
    forward_common!();
    fn observation_space(&self) -> &Space {
        &self.space
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
        let d = self.dim;
        self.inner.reset_into(seed, options, &mut self.frames[..d], info)?;
        for i in 1..self.k {
            self.frames.copy_within(0..d, i * d);
        }
        obs.copy_from_slice(&self.frames);
        Ok(())
    }
    #[inline]
    fn step_into(&mut self, action: &[f32], obs: &mut [f32], info: &mut Info) -> EnvResult<StepOutcome> {
        let d = self.dim;
        let last = (self.k - 1) * d;
        // Step into the spare tail of `obs`, then shift the window left by one frame.
        let o = self.inner.step_into(action, &mut obs[last..], info)?;
        self.frames.copy_within(d.., 0);
        self.frames[last..].copy_from_slice(&obs[last..]);
        obs.copy_from_slice(&self.frames);
        Ok(o)
    }
}
