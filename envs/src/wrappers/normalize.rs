use super::forward_common;
use crate::env::{Env, ResetOptions, StepOutcome};
use crate::error::EnvResult;
use crate::info::Info;
use crate::space::Space;
use serde::{Deserialize, Serialize};

/// Small constant under the square root of the variance (Gymnasium's `epsilon`).
pub const NORMALIZE_EPSILON: f64 = 1e-8;

/// Running mean and variance of a vector (Gymnasium's `RunningMeanStd`, parallel update of
/// Chan et al.), in f64. Serializable so a trained agent's normalizer travels with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunningMeanStd {
    /// Per-component mean, `[dim]`.
    pub mean: Vec<f64>,
    /// Per-component (population) variance, `[dim]`.
    pub var: Vec<f64>,
    /// Number of samples seen; starts at 1e-4 as in Gymnasium so the first update is stable.
    pub count: f64,
    /// Components passed through unnormalized (ascending indices): [`RunningMeanStd::normalize`]
    /// leaves them as they are (clipped like the others), while their statistics still update.
    /// For inputs that are constant over a phase of training but carry meaning later — a
    /// context such as a curl field's strength that is 0 through pretraining — where the
    /// running variance would be ≈ 0 and any later nonzero value would hit the clip. Empty by
    /// default (Gymnasium's behaviour); saved with the statistics, so every consumer of a
    /// trained agent (trainer, loaded policies, inspect, the Python bindings) applies it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub passthrough: Vec<usize>,
}

impl RunningMeanStd {
    /// Zero mean, unit variance, count 1e-4.
    pub fn new(dim: usize) -> Self {
        Self { mean: vec![0.0; dim], var: vec![1.0; dim], count: 1e-4, passthrough: Vec::new() }
    }

    /// These statistics with the components `indices` passed through unnormalized (see
    /// [`RunningMeanStd::passthrough`]). An index at or beyond the dimension is an error naming
    /// it and the bound.
    pub fn with_passthrough(mut self, indices: &[usize]) -> Result<Self, String> {
        let dim = self.mean.len();
        if let Some(&i) = indices.iter().find(|&&i| i >= dim) {
            return Err(format!("observation component {i} passed through the normalizer is out of range (the observation has {dim} components, 0..{dim})"));
        }
        let mut p = indices.to_vec();
        p.sort_unstable();
        p.dedup();
        self.passthrough = p;
        Ok(self)
    }

    /// The mean and standard deviation component `j` is normalized with: `(0, 1)` for a
    /// pass-through component, else `(mean, √(var + ε))`.
    #[inline]
    fn affine(&self, j: usize) -> (f64, f64) {
        if self.passthrough.binary_search(&j).is_ok() {
            (0.0, 1.0)
        } else {
            (self.mean[j], (self.var[j] + NORMALIZE_EPSILON).sqrt())
        }
    }

    /// Adds one sample `x` (`[dim]`).
    #[inline]
    pub fn update_one(&mut self, x: &[f32]) {
        let tot = self.count + 1.0;
        for ((m, v), &xi) in self.mean.iter_mut().zip(self.var.iter_mut()).zip(x) {
            let delta = xi as f64 - *m;
            let new_mean = *m + delta / tot;
            let m2 = *v * self.count + delta * delta * self.count / tot;
            *m = new_mean;
            *v = m2 / tot;
        }
        self.count = tot;
    }

    /// Adds a batch with the given mean, (population) variance and count.
    pub fn update_moments(&mut self, batch_mean: &[f64], batch_var: &[f64], batch_count: f64) {
        let tot = self.count + batch_count;
        for (i, (m, v)) in self.mean.iter_mut().zip(self.var.iter_mut()).enumerate() {
            let delta = batch_mean[i] - *m;
            let new_mean = *m + delta * batch_count / tot;
            let m2 = *v * self.count + batch_var[i] * batch_count + delta * delta * self.count * batch_count / tot;
            *m = new_mean;
            *v = m2 / tot;
        }
        self.count = tot;
    }

    /// Adds a batch of samples `[rows, dim]` (row-major): the batch's mean and population
    /// variance are computed in f64 (two passes) and merged by [`RunningMeanStd::update_moments`].
    /// This is the update PPO's observation normalizer and reward scaler use.
    pub fn update_batch(&mut self, batch: &[f32], rows: usize) {
        let dim = self.mean.len();
        if rows == 0 {
            return;
        }
        let mut bm = vec![0.0f64; dim];
        let mut bv = vec![0.0f64; dim];
        for r in 0..rows {
            for j in 0..dim {
                bm[j] += batch[r * dim + j] as f64;
            }
        }
        bm.iter_mut().for_each(|m| *m /= rows as f64);
        for r in 0..rows {
            for j in 0..dim {
                let d = batch[r * dim + j] as f64 - bm[j];
                bv[j] += d * d;
            }
        }
        bv.iter_mut().for_each(|v| *v /= rows as f64);
        self.update_moments(&bm, &bv, rows as f64);
    }

    /// `clip((x − mean) / √(var + ε), −clip, clip)` in place for every row of `x`
    /// (`[rows, dim]`); the clip is applied after rounding to f32.
    pub fn normalize_rows_clipped(&self, x: &mut [f32], clip: f32) {
        for row in x.chunks_exact_mut(self.mean.len()) {
            for (j, v) in row.iter_mut().enumerate() {
                let (m, s) = self.affine(j);
                let z = (*v as f64 - m) / s;
                *v = (z as f32).clamp(-clip, clip);
            }
        }
    }

    /// Writes `(x - mean) / sqrt(var + eps)` into `x` (pass-through components unchanged).
    #[inline]
    pub fn normalize(&self, x: &mut [f32]) {
        for (j, xi) in x.iter_mut().enumerate() {
            let (m, s) = self.affine(j);
            *xi = ((*xi as f64 - m) / s) as f32;
        }
    }
}

/// Normalizes observations by a running mean and variance (Gymnasium's
/// `NormalizeObservation`). The statistics update on every reset and step unless frozen;
/// they can be read, saved (serde) and loaded, so evaluation uses the training statistics.
#[derive(Debug, Clone)]
pub struct NormalizeObservation<E> {
    inner: E,
    stats: RunningMeanStd,
    frozen: bool,
    space: Space,
}

impl<E: Env> NormalizeObservation<E> {
    /// Wraps `inner` with fresh statistics.
    pub fn new(inner: E) -> Self {
        let dim = inner.observation_space().flat_dim();
        Self {
            inner,
            stats: RunningMeanStd::new(dim),
            frozen: false,
            space: Space::uniform_box(dim, f32::NEG_INFINITY, f32::INFINITY),
        }
    }
    /// Stops (or resumes) updating the statistics.
    pub fn set_frozen(&mut self, frozen: bool) {
        self.frozen = frozen;
    }
    /// Whether the statistics are frozen.
    pub fn is_frozen(&self) -> bool {
        self.frozen
    }
    /// The current statistics.
    pub fn stats(&self) -> &RunningMeanStd {
        &self.stats
    }
    /// Replaces the statistics (for example with those saved in a checkpoint).
    pub fn set_stats(&mut self, stats: RunningMeanStd) {
        assert_eq!(stats.mean.len(), self.stats.mean.len(), "NormalizeObservation::set_stats: dimension");
        self.stats = stats;
    }
    #[inline]
    fn process(&mut self, obs: &mut [f32]) {
        if !self.frozen {
            self.stats.update_one(obs);
        }
        self.stats.normalize(obs);
    }
}

impl<E: Env> Env for NormalizeObservation<E> {
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
        self.inner.reset_into(seed, options, obs, info)?;
        self.process(obs);
        Ok(())
    }
    #[inline]
    fn step_into(&mut self, action: &[f32], obs: &mut [f32], info: &mut Info) -> EnvResult<StepOutcome> {
        let o = self.inner.step_into(action, obs, info)?;
        self.process(obs);
        Ok(o)
    }
    fn observe(&self, obs: &mut [f32]) -> EnvResult<()> {
        self.inner.observe(obs)?;
        self.stats.normalize(obs);
        Ok(())
    }
}

/// Scales rewards by the running standard deviation of the discounted return (Gymnasium's
/// `NormalizeReward`): `r / sqrt(var(G) + eps)` with `G ← γ G (1 − terminated) + r`.
#[derive(Debug, Clone)]
pub struct NormalizeReward<E> {
    inner: E,
    gamma: f64,
    discounted: f64,
    stats: RunningMeanStd,
    frozen: bool,
}

impl<E: Env> NormalizeReward<E> {
    /// Wraps `inner` with discount `gamma` in [0, 1].
    pub fn new(inner: E, gamma: f64) -> Self {
        assert!((0.0..=1.0).contains(&gamma), "NormalizeReward: gamma must be in [0, 1]");
        Self { inner, gamma, discounted: 0.0, stats: RunningMeanStd::new(1), frozen: false }
    }
    /// Stops (or resumes) updating the statistics.
    pub fn set_frozen(&mut self, frozen: bool) {
        self.frozen = frozen;
    }
    /// The return statistics.
    pub fn stats(&self) -> &RunningMeanStd {
        &self.stats
    }
    /// Replaces the return statistics.
    pub fn set_stats(&mut self, stats: RunningMeanStd) {
        self.stats = stats;
    }
}

impl<E: Env> Env for NormalizeReward<E> {
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
        self.inner.reset_into(seed, options, obs, info)
    }
    #[inline]
    fn step_into(&mut self, action: &[f32], obs: &mut [f32], info: &mut Info) -> EnvResult<StepOutcome> {
        let mut o = self.inner.step_into(action, obs, info)?;
        let keep = if o.terminated { 0.0 } else { 1.0 };
        self.discounted = self.discounted * self.gamma * keep + o.reward;
        if !self.frozen {
            self.stats.update_one(&[self.discounted as f32]);
        }
        o.reward /= (self.stats.var[0] + NORMALIZE_EPSILON).sqrt();
        Ok(o)
    }
    fn observe(&self, obs: &mut [f32]) -> EnvResult<()> {
        self.inner.observe(obs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_stats_match_batch_moments() {
        let data: Vec<[f32; 2]> = (0..100).map(|i| [i as f32, (i as f32).sin() * 3.0]).collect();
        let mut rms = RunningMeanStd::new(2);
        for x in &data {
            rms.update_one(x);
        }
        for d in 0..2 {
            let n = data.len() as f64;
            let mean = data.iter().map(|x| x[d] as f64).sum::<f64>() / n;
            let var = data.iter().map(|x| (x[d] as f64 - mean).powi(2)).sum::<f64>() / n;
            // The 1e-4 prior count biases the result by about 1e-6 relative.
            assert!((rms.mean[d] - mean).abs() < 1e-4 * (1.0 + mean.abs()), "{} vs {}", rms.mean[d], mean);
            assert!((rms.var[d] - var).abs() < 1e-4 * (1.0 + var), "{} vs {}", rms.var[d], var);
        }
        let mut batch = RunningMeanStd::new(2);
        let m = [rms.mean[0], rms.mean[1]];
        let v = [rms.var[0], rms.var[1]];
        batch.update_moments(&m, &v, 100.0);
        assert!((batch.mean[0] - rms.mean[0]).abs() < 1e-4);
    }

    #[test]
    fn passthrough_keeps_a_constant_context_input_usable() {
        // Component 1 is 0 through training (a curl field's strength during null-field
        // pretraining): its running variance is ~0, so a later 0.8 normalizes to the clip.
        let mut rms = RunningMeanStd::new(2);
        for i in 0..1000 {
            rms.update_one(&[(i % 7) as f32, 0.0]);
        }
        let mut x = [3.0f32, 0.8];
        rms.normalize_rows_clipped(&mut x, 10.0);
        assert_eq!(x[1], 10.0, "without pass-through the context input saturates");
        let z0 = x[0];
        let rms = rms.with_passthrough(&[1]).unwrap();
        let mut x = [3.0f32, 0.8, 3.0, -20.0];
        rms.normalize_rows_clipped(&mut x, 10.0);
        assert_eq!(x, [z0, 0.8, z0, -10.0], "pass-through is the identity (then the clip); others unchanged");
        let mut y = [3.0f32, 0.8];
        rms.normalize(&mut y);
        assert_eq!(y[1], 0.8);
        assert!((y[0] - z0).abs() < 1e-6);
        // Saved with the statistics; older files without the field still load.
        let back: RunningMeanStd = serde_json::from_str(&serde_json::to_string(&rms).unwrap()).unwrap();
        assert_eq!(back, rms);
        let old: RunningMeanStd = serde_json::from_str(r#"{"mean":[0.0],"var":[1.0],"count":1.0}"#).unwrap();
        assert!(old.passthrough.is_empty());
        let e = RunningMeanStd::new(2).with_passthrough(&[2]).unwrap_err();
        assert!(e.contains("component 2") && e.contains("2 components"), "{e}");
    }
}
