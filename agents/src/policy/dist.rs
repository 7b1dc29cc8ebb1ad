//! Action distributions on plain slices (sampling and log-probabilities at rollout time).
//!
//! The same quantities are computed on the dfdx tape for the loss (see
//! [`crate::policy::actor_critic`]); a unit test holds the two together.

use rand::{Rng, RngCore};
use rand_distr::StandardNormal;

/// `0.5 ln(2π)`.
pub const HALF_LN_2PI: f32 = 0.918_938_5;

/// The action distribution family, from the env's action space.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ActionDist {
    /// Diagonal Gaussian over `dim` components with a state-independent log-std.
    Gaussian {
        /// Action dimension.
        dim: usize,
    },
    /// Categorical over `n` actions (the action is one integral `f32`).
    Categorical {
        /// Number of actions.
        n: usize,
    },
}

/// The action distribution for an env's action space: a diagonal Gaussian for `Box`, a
/// categorical for `Discrete`.
pub fn dist_for(space: &engram_envs::Space) -> Result<ActionDist, crate::error::AgentError> {
    match space {
        engram_envs::Space::Box { low, .. } => Ok(ActionDist::Gaussian { dim: low.len() }),
        engram_envs::Space::Discrete { n } => Ok(ActionDist::Categorical { n: *n }),
    }
}

impl ActionDist {
    /// Width of the policy head output (mean or logits).
    pub fn head_width(self) -> usize {
        match self {
            ActionDist::Gaussian { dim } => dim,
            ActionDist::Categorical { n } => n,
        }
    }
    /// Length of one action in the env's flat layout.
    pub fn action_len(self) -> usize {
        match self {
            ActionDist::Gaussian { dim } => dim,
            ActionDist::Categorical { .. } => 1,
        }
    }
}

/// Diagonal Gaussian log-density of `a` given `mean` and `log_std`, summed over components.
pub fn gaussian_log_prob(a: &[f32], mean: &[f32], log_std: &[f32]) -> f32 {
    a.iter()
        .zip(mean)
        .zip(log_std)
        .map(|((&a, &m), &ls)| {
            let z = (a - m) * (-ls).exp();
            -0.5 * z * z - ls - HALF_LN_2PI
        })
        .sum()
}

/// Samples a Gaussian action into `a`, returns its log-probability.
pub fn gaussian_sample(rng: &mut dyn RngCore, mean: &[f32], log_std: &[f32], a: &mut [f32]) -> f32 {
    for ((a, &m), &ls) in a.iter_mut().zip(mean).zip(log_std) {
        let e: f32 = rng.sample(StandardNormal);
        *a = m + ls.exp() * e;
    }
    gaussian_log_prob(a, mean, log_std)
}

/// `log_softmax(logits)` into `out`.
pub fn log_softmax(logits: &[f32], out: &mut [f32]) {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let lse = max + logits.iter().map(|&l| (l - max).exp()).sum::<f32>().ln();
    for (o, &l) in out.iter_mut().zip(logits) {
        *o = l - lse;
    }
}

/// Samples a category by inverse CDF with one uniform draw; returns `(index, log_prob)`.
pub fn categorical_sample(rng: &mut dyn RngCore, logits: &[f32], scratch: &mut [f32]) -> (usize, f32) {
    log_softmax(logits, scratch);
    let u: f32 = rng.gen();
    let mut acc = 0.0;
    for (i, &lp) in scratch.iter().enumerate() {
        acc += lp.exp();
        if u < acc {
            return (i, lp);
        }
    }
    let last = scratch.len() - 1;
    (last, scratch[last])
}

/// Index of the largest logit (first on ties) and its log-probability.
pub fn categorical_mode(logits: &[f32], scratch: &mut [f32]) -> (usize, f32) {
    log_softmax(logits, scratch);
    let mut best = 0;
    for (i, &l) in logits.iter().enumerate() {
        if l > logits[best] {
            best = i;
        }
    }
    (best, scratch[best])
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn gaussian_log_prob_matches_closed_form() {
        // N(0, 1) at 0: -0.5 ln 2π; N(1, e) at 1 + e: -0.5 - 1 - 0.5 ln 2π.
        assert!((gaussian_log_prob(&[0.0], &[0.0], &[0.0]) + HALF_LN_2PI).abs() < 1e-6);
        let e = 1.0f32.exp();
        let lp = gaussian_log_prob(&[1.0 + e], &[1.0], &[1.0]);
        assert!((lp - (-0.5 - 1.0 - HALF_LN_2PI)).abs() < 1e-5, "{lp}");
    }

    #[test]
    fn categorical_sampling_frequencies_follow_softmax() {
        let logits = [0.0f32, 1.0, 2.0];
        let mut s = [0.0; 3];
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let mut counts = [0usize; 3];
        let n = 20_000;
        for _ in 0..n {
            counts[categorical_sample(&mut rng, &logits, &mut s).0] += 1;
        }
        log_softmax(&logits, &mut s);
        for i in 0..3 {
            let f = counts[i] as f32 / n as f32;
            assert!((f - s[i].exp()).abs() < 0.015, "category {i}: {f} vs {}", s[i].exp());
        }
    }
}
