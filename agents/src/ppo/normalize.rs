//! Running observation and reward normalization (SB3's `VecNormalize`), saved with the
//! checkpoint. The running statistics are the envs crate's [`RunningMeanStd`], updated
//! batch-wise.

pub use engram_envs::wrappers::RunningMeanStd;
use serde::{Deserialize, Serialize};

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
        self.rms.update_batch(&rets, rets.len());
        let std = (self.rms.var[0] + engram_envs::wrappers::NORMALIZE_EPSILON).sqrt();
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
            rms.update_batch(chunk, chunk.len());
        }
        let mean = data.iter().map(|&x| x as f64).sum::<f64>() / 100.0;
        let var = data.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / 100.0;
        assert!((rms.mean[0] - mean).abs() < 1e-5 && (rms.var[0] - var).abs() < 1e-4, "{rms:?} {mean} {var}");
    }
}
