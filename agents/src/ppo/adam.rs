//! Adam (Kingma & Ba 2015) with PyTorch's update rule and a state that can be saved.
//!
//! dfdx's `Adam` keeps its moments private; exact resume needs them, so the optimizer is
//! ours and works on the flat gradients dfdx returns.

use serde::{Deserialize, Serialize};

/// Adam moments and step count.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Adam {
    /// β1. Default 0.9.
    pub beta1: f32,
    /// β2. Default 0.999.
    pub beta2: f32,
    /// ε. Default 1e-5 (CleanRL and SB3 PPO).
    pub eps: f32,
    /// Steps taken.
    pub step: u64,
    /// First moments, one per parameter.
    #[serde(skip)]
    pub m: Vec<Vec<f32>>,
    /// Second moments, one per parameter.
    #[serde(skip)]
    pub v: Vec<Vec<f32>>,
}

impl Adam {
    /// Zero moments for parameters of the given sizes.
    pub fn new(sizes: &[usize], eps: f32) -> Self {
        Self {
            beta1: 0.9,
            beta2: 0.999,
            eps,
            step: 0,
            m: sizes.iter().map(|&n| vec![0.0; n]).collect(),
            v: sizes.iter().map(|&n| vec![0.0; n]).collect(),
        }
    }

    /// One step: `params[i] -= lr · m̂ / (√v̂ + ε)` (PyTorch's `Adam`, `m̂ = m / (1 − β1ᵗ)`,
    /// `√v̂ = √v / √(1 − β2ᵗ)`).
    pub fn update(&mut self, params: &mut [Vec<f32>], grads: &[Vec<f32>], lr: f32) {
        self.step += 1;
        let bc1 = 1.0 - self.beta1.powi(self.step as i32);
        let bc2 = 1.0 - self.beta2.powi(self.step as i32);
        let (b1, b2, eps) = (self.beta1, self.beta2, self.eps);
        let (step_size, inv_sqrt_bc2) = (lr / bc1, 1.0 / bc2.sqrt());
        // AVX2 where available (same bits: no FMA contraction, sqrt and division exact),
        // which also spares the loop the SSE penalty after faer products (see
        // `crate::nn::act::simd`).
        crate::nn::act::simd(
            #[inline(always)]
            || {
                for (((p, g), m), v) in params.iter_mut().zip(grads).zip(&mut self.m).zip(&mut self.v) {
                    // Iterators (no bounds checks) so the loop vectorizes.
                    for (((p, &g), m), v) in p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
                        *m = b1 * *m + (1.0 - b1) * g;
                        *v = b2 * *v + (1.0 - b2) * g * g;
                        *p -= step_size * *m / (v.sqrt() * inv_sqrt_bc2 + eps);
                    }
                }
            },
        );
    }
}

/// Scales `grads` so their global L2 norm is at most `max_norm` (PyTorch's
/// `clip_grad_norm_`); returns the norm before clipping.
pub fn clip_grad_norm(grads: &mut [Vec<f32>], max_norm: f32) -> f32 {
    /// Partial sums per lane (so the loop vectorizes), added in f64 per chunk.
    const LANES: usize = 8;
    let mut total = 0.0f64;
    for g in grads.iter() {
        for block in g.chunks(4096) {
            let mut acc = [0.0f32; LANES];
            let mut it = block.chunks_exact(LANES);
            for c in &mut it {
                for (a, &v) in acc.iter_mut().zip(c) {
                    *a += v * v;
                }
            }
            let tail: f32 = it.remainder().iter().map(|v| v * v).sum();
            total += acc.iter().map(|&a| a as f64).sum::<f64>() + tail as f64;
        }
    }
    let norm = total.sqrt() as f32;
    let coef = max_norm / (norm + 1e-6);
    if coef < 1.0 {
        grads.iter_mut().flatten().for_each(|g| *g *= coef);
    }
    norm
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_adam_step_moves_by_lr_against_the_gradient_sign() {
        // After one step m̂ = g, v̂ = g², so the update is lr · g / (|g| + ε) ≈ lr · sign(g).
        let mut adam = Adam::new(&[2], 0.0);
        let mut p = vec![vec![1.0, 1.0]];
        adam.update(&mut p, &[vec![3.0, -0.5]], 0.1);
        assert!((p[0][0] - 0.9).abs() < 1e-6 && (p[0][1] - 1.1).abs() < 1e-6, "{p:?}");
    }

    #[test]
    fn clipping_rescales_to_the_max_norm() {
        let mut g = vec![vec![3.0], vec![4.0]];
        let n = clip_grad_norm(&mut g, 1.0);
        assert!((n - 5.0).abs() < 1e-6);
        assert!((g[0][0] - 0.6).abs() < 1e-5 && (g[1][0] - 0.8).abs() < 1e-5);
        let mut small = vec![vec![0.1]];
        clip_grad_norm(&mut small, 1.0);
        assert_eq!(small[0][0], 0.1);
    }
}
