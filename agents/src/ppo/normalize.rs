//! Running observation and reward normalization (SB3's `VecNormalize`), saved with the
//! checkpoint.

use serde::{Deserialize, Serialize};

/// Running mean and variance (parallel Welford, Chan et al.), in `f64`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunningMeanStd {
    /// Mean per component.
    pub mean: Vec<f64>,
    /// Population variance per component.
    pub var: Vec<f64>,
    /// Number of samples (starts at 1e-4 as in SB3 so the first update is well defined).
    pub count: f64,
}

impl RunningMeanStd {
    /// Zero mean, unit variance.
    pub fn new(dim: usize) -> Self {
        Self { mean: vec![0.0; dim], var: vec![1.0; dim], count: 1e-4 }
    }

    /// Updates with a batch `[rows, dim]`.
    pub fn update(&mut self, batch: &[f32], rows: usize) {
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
        let (n, tot) = (rows as f64, self.count + rows as f64);
        for j in 0..dim {
            let delta = bm[j] - self.mean[j];
            let m2 = self.var[j] * self.count + bv[j] * n + delta * delta * self.count * n / tot;
            self.mean[j] += delta * n / tot;
            self.var[j] = m2 / tot;
        }
        self.count = tot;
    }

    /// `clip((x − mean) / √(var + ε), −clip, clip)` in place, row by row.
    pub fn normalize(&self, x: &mut [f32], clip: f32) {
        let dim = self.mean.len();
        for row in x.chunks_exact_mut(dim) {
            for (j, v) in row.iter_mut().enumerate() {
                let z = (*v as f64 - self.mean[j]) / (self.var[j] + 1e-8).sqrt();
                *v = (z as f32).clamp(-clip, clip);
            }
        }
    }
}

/// Reward scaling by the running standard deviation of the discounted return (Gymnasium's
/// `NormalizeReward`, SB3's `VecNormalize(norm_reward=True)`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RewardScaler {
    /// Discounted return so far, per env.
    pub returns: Vec<f64>,
    /// Statistics of those returns.
    pub rms: RunningMeanStd,
    /// Discount.
    pub gamma: f64,
}

impl RewardScaler {
    /// For `n_envs` envs.
    pub fn new(n_envs: usize, gamma: f64) -> Self {
        Self { returns: vec![0.0; n_envs], rms: RunningMeanStd::new(1), gamma }
    }

    /// Scales one step of rewards in place; `dones` restart the return accumulators.
    pub fn scale(&mut self, rewards: &mut [f32], raw: &[f64], dones: &[bool], clip: f32) {
        let rets: Vec<f32> = self
            .returns
            .iter_mut()
            .zip(raw)
            .map(|(g, &r)| {
                *g = *g * self.gamma + r;
                *g as f32
            })
            .collect();
        self.rms.update(&rets, rets.len());
        let std = (self.rms.var[0] + 1e-8).sqrt();
        for ((o, &r), (g, &d)) in rewards.iter_mut().zip(raw).zip(self.returns.iter_mut().zip(dones)) {
            *o = ((r / std) as f32).clamp(-clip, clip);
            if d {
                *g = 0.0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_stats_match_batch_stats() {
        let data: Vec<f32> = (0..100).map(|i| (i as f32 * 0.37).sin() * 3.0 + 1.0).collect();
        let mut rms = RunningMeanStd::new(1);
        for chunk in data.chunks(7) {
            rms.update(chunk, chunk.len());
        }
        let mean = data.iter().map(|&x| x as f64).sum::<f64>() / 100.0;
        let var = data.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / 100.0;
        assert!((rms.mean[0] - mean).abs() < 1e-5 && (rms.var[0] - var).abs() < 1e-4, "{rms:?} {mean} {var}");
    }
}
