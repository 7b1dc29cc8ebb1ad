use crate::env::{Env, ResetOptions, StepOutcome};
use crate::error::EnvResult;
use crate::info::Info;
use crate::space::Space;

/// Keeps only the observation components at `keep` (sb3-contrib's velocity masking: the
/// `NoVel` envs are the base envs with this wrapper, so memory is needed to infer velocity).
#[derive(Debug, Clone)]
pub struct MaskObservation<E> {
    inner: E,
    keep: Vec<usize>,
    space: Space,
    full: Vec<f32>,
    id: String,
}

impl<E: Env> MaskObservation<E> {
    /// Wraps `inner`, registering the result under `id`, keeping components `keep` in order.
    ///
    /// # Panics
    /// If an index is out of the inner observation's range (a registry bug, not user input).
    pub fn new(inner: E, id: &str, keep: &[usize]) -> Self {
        let (low, high) = match inner.observation_space() {
            Space::Box { low, high, .. } => (low.clone(), high.clone()),
            Space::Discrete { .. } => panic!("MaskObservation needs a Box observation space"),
        };
        assert!(keep.iter().all(|&i| i < low.len()), "MaskObservation: index out of range");
        let space = Space::boxed(keep.iter().map(|&i| low[i]).collect(), keep.iter().map(|&i| high[i]).collect());
        let full = vec![0.0; low.len()];
        Self { inner, keep: keep.to_vec(), space, full, id: id.to_string() }
    }

    #[inline]
    fn mask(&self, obs: &mut [f32]) {
        for (o, &i) in obs.iter_mut().zip(&self.keep) {
            *o = self.full[i];
        }
    }
}

impl<E: Env> Env for MaskObservation<E> {
    fn id(&self) -> &str {
        &self.id
    }
    fn max_episode_steps(&self) -> Option<usize> {
        self.inner.max_episode_steps()
    }
    fn state(&self) -> Option<Vec<f64>> {
        self.inner.state()
    }
    fn set_state(&mut self, state: &[f64]) -> EnvResult<()> {
        self.inner.set_state(state)
    }
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
        self.inner.reset_into(seed, options, &mut self.full, info)?;
        self.mask(obs);
        Ok(())
    }
    #[inline]
    fn step_into(&mut self, action: &[f32], obs: &mut [f32], info: &mut Info) -> EnvResult<StepOutcome> {
        let o = self.inner.step_into(action, &mut self.full, info)?;
        self.mask(obs);
        Ok(o)
    }
    fn observe(&self, obs: &mut [f32]) -> EnvResult<()> {
        let mut full = vec![0.0; self.full.len()];
        self.inner.observe(&mut full)?;
        for (o, &i) in obs.iter_mut().zip(&self.keep) {
            *o = full[i];
        }
        Ok(())
    }
}
