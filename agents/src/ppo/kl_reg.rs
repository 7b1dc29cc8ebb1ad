//! KL regularizers on the Gaussian action distribution, as PPO loss terms: "zeroness" (the
//! mean pulled toward no command) and "smoothness" (the mean pulled toward the previous
//! step's), the two terms the RL curl-field paper adds to PPO to make its agents' speed
//! profiles bell-shaped.
//!
//! For a policy `π(·|s) = N(μ(s), diag σ²)` with a state-independent `σ` (the
//! [`crate::policy::ActorCritic`] Gaussian head), per sample `i` of a minibatch of `N`:
//!
//! - zeroness: `Z_i = KL(π(·|s_i) ‖ N(0, diag σ̄²))`, with the reference standard deviation
//!   `σ̄ = sg[σ]`, the policy's own current one behind a stop-gradient. So `Z_i = Σ_d μ_d² / (2σ_d²)`:
//!   the command in units of the exploration noise, the same units as the smoothness term
//!   (whose reference is also the policy at `σ`), so the two weights compare directly; and its
//!   log-std gradient `−1 + σ²/σ̄²` is zero, so the term never acts as a hidden entropy
//!   bonus or penalty (a fixed `σ̄` would pull `σ` toward itself: exploration is `ent_coef`'s).
//! - smoothness: `S_i = KL(π(·|s_i) ‖ sg[π(·|s_{i−1})])` where `s_{i−1}` is the previous step
//!   of the same episode; `S_i = Σ_d (μ_d(s_i) − μ̄_d(s_{i−1}))² / (2σ_d²)` for a
//!   state-independent `σ`. No term (`S_i = 0`) at an episode's first step, nor where the
//!   previous step is not in the minibatch: the first step of a BPTT chunk (its previous
//!   step belongs to another minibatch, evaluated under other parameters) and the first step
//!   of a rollout (its previous step was collected by the last update).
//!
//! The loss adds `kl_zeroness · mean_i Z_i + kl_smoothness · (1/N) Σ_i S_i` (missing pairs
//! count as zero, so a minibatch cut into row blocks sums exactly, see
//! [`crate::ppo::loss::loss_and_grads_sharded`]). With both weights 0 nothing is computed and
//! the loss is bit-identical to PPO's.
//!
//! Gradients of `KL(N(μ, σ²) ‖ N(m, s²)) = ln s − ln σ + (σ² + (μ − m)²) / (2s²) − ½`:
//! `∂/∂μ = (μ − m) / s²`, `∂/∂ ln σ = σ²/s² − 1`, the reference `(m, s)` held fixed.

use crate::policy::actor_critic::SeqInput;

/// Where the smoothness term finds each sample's previous step.
#[derive(Clone, Copy, Debug)]
pub enum PrevStep<'a> {
    /// Step `t − 1` of the same sequence (recurrent chunks, `[time, batch]` order): sample
    /// `(t, b)` pairs with `(t − 1, b)` for `t ≥ 1` unless step `t` starts an episode
    /// (`seq.starts`).
    InSequence,
    /// Given: the current policy's means at each sample's previous step, `[N, dim]`, and
    /// whether that step exists in the same episode, `[N]` (memoryless policies, whose
    /// minibatches are shuffled single steps).
    Given {
        /// Means `μ(s_{i−1})`, `[N, dim]` (rows of invalid samples are ignored).
        means: &'a [f32],
        /// Whether sample `i` has a previous step, `[N]`.
        valid: &'a [bool],
    },
}

/// The regularizers' weights and the smoothness reference of one minibatch.
#[derive(Clone, Copy, Debug)]
pub struct KlReg<'a> {
    /// Weight of the zeroness term (`ppo.kl_zeroness`).
    pub zeroness: f32,
    /// Weight of the smoothness term (`ppo.kl_smoothness`).
    pub smoothness: f32,
    /// The previous steps of the smoothness term.
    pub prev: PrevStep<'a>,
}

impl KlReg<'_> {
    /// Both terms off.
    pub const OFF: KlReg<'static> = KlReg { zeroness: 0.0, smoothness: 0.0, prev: PrevStep::InSequence };

    /// Whether any term is on.
    pub fn active(&self) -> bool {
        self.zeroness > 0.0 || self.smoothness > 0.0
    }
}

/// `KL(N(μ₁, e^{2ℓ₁}) ‖ N(μ₂, e^{2ℓ₂}))` of two diagonal Gaussians given by means and log
/// standard deviations, summed over the components.
pub fn gaussian_kl(mu1: &[f32], ls1: &[f32], mu2: &[f32], ls2: &[f32]) -> f32 {
    let mut kl = 0.0;
    for d in 0..mu1.len() {
        let inv_var2 = (-2.0 * ls2[d]).exp();
        let dm = mu1[d] - mu2[d];
        kl += ls2[d] - ls1[d] + 0.5 * ((2.0 * ls1[d]).exp() + dm * dm) * inv_var2 - 0.5;
    }
    kl
}

/// The smoothness reference of every sample: the previous step's means `[N, dim]` (zero rows
/// where there is none) and whether it exists `[N]`. `head` holds the current means
/// `[N, dim]` in the `[time, batch]` order of `seq`.
pub fn smoothness_reference(head: &[f32], dim: usize, seq: &SeqInput, prev: PrevStep) -> (Vec<f32>, Vec<bool>) {
    let n = seq.time * seq.batch;
    match prev {
        PrevStep::Given { means, valid } => (means[..n * dim].to_vec(), valid[..n].to_vec()),
        PrevStep::InSequence => {
            let mut means = vec![0.0; n * dim];
            let mut valid = vec![false; n];
            for i in seq.batch..n {
                if !seq.starts.is_some_and(|s| s[i]) {
                    valid[i] = true;
                    let j = i - seq.batch;
                    means[i * dim..(i + 1) * dim].copy_from_slice(&head[j * dim..(j + 1) * dim]);
                }
            }
            (means, valid)
        }
    }
}

/// Values of the two terms (weights not applied): `(mean_i Z_i, (1/N) Σ_i S_i)` for means
/// `head` `[N, dim]`, log-stds `log_std` `[dim]` and the smoothness reference.
pub fn values(head: &[f32], log_std: &[f32], reference: &(Vec<f32>, Vec<bool>)) -> (f32, f32) {
    let dim = log_std.len();
    let n = head.len() / dim;
    let zero = vec![0.0; dim];
    let (mut z, mut s) = (0.0f64, 0.0f64);
    for i in 0..n {
        let mu = &head[i * dim..(i + 1) * dim];
        z += gaussian_kl(mu, log_std, &zero, log_std) as f64;
        if reference.1[i] {
            s += gaussian_kl(mu, log_std, &reference.0[i * dim..(i + 1) * dim], log_std) as f64;
        }
    }
    ((z / n as f64) as f32, (s / n as f64) as f32)
}

/// The regularizers by hand (the fused engine's loss): adds their gradient with respect to
/// the means into `d_head` `[N, dim]` and with respect to the log-stds into `d_log_std`
/// `[dim]`, and returns their values `(mean_i Z_i, (1/N) Σ_i S_i)` (weights not applied).
pub fn add_hand_grads(
    reg: &KlReg,
    head: &[f32],
    log_std: &[f32],
    reference: &(Vec<f32>, Vec<bool>),
    d_head: &mut [f32],
    d_log_std: &mut [f32],
) -> (f32, f32) {
    let dim = log_std.len();
    let n = head.len() / dim;
    let inv_n = 1.0 / n as f32;
    // The reference log-std is the policy's own (stop-gradient), so σ²/σ̄² − 1 = 0; written
    // out so that the code is the formula of the module docs.
    let ls_ref = log_std;
    let mut valid = 0usize;
    for i in 0..n {
        let has_prev = reference.1[i];
        valid += has_prev as usize;
        for d in 0..dim {
            let inv_var_ref = (-2.0 * ls_ref[d]).exp();
            let mu = head[i * dim + d];
            let mut g = reg.zeroness * inv_n * mu * inv_var_ref;
            if has_prev {
                g += reg.smoothness * inv_n * (mu - reference.0[i * dim + d]) * inv_var_ref;
            }
            d_head[i * dim + d] += g;
        }
    }
    let pairs = valid as f32 * inv_n;
    for d in 0..dim {
        let dls = (2.0 * (log_std[d] - ls_ref[d])).exp() - 1.0;
        d_log_std[d] += (reg.zeroness + reg.smoothness * pairs) * dls;
    }
    values(head, log_std, reference)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_form_kl_equals_numerical_integration() {
        // KL(p ‖ q) = ∫ p ln(p/q) by the trapezoid rule on ±12 σ of p, 1-D, against the closed
        // form; and the sum over components of a diagonal Gaussian. Tolerance 1e-4 (f32
        // closed form; the quadrature in f64 converges far below that).
        const TOL: f32 = 1e-4;
        let cases = [(0.3f32, -1.0f32, 0.0f32, -1.0f32), (0.1, -2.0, -0.2, -1.5), (-0.7, 0.2, 0.4, -0.3)];
        for (m1, l1, m2, l2) in cases {
            let (s1, s2) = ((l1 as f64).exp(), (l2 as f64).exp());
            let logpdf = |x: f64, m: f64, s: f64| {
                -0.5 * ((x - m) / s).powi(2) - s.ln() - 0.5 * (2.0 * std::f64::consts::PI).ln()
            };
            let steps = 200_000;
            let (a, b) = (m1 as f64 - 12.0 * s1, m1 as f64 + 12.0 * s1);
            let h = (b - a) / steps as f64;
            let mut integral = 0.0;
            for k in 0..=steps {
                let x = a + k as f64 * h;
                let lp = logpdf(x, m1 as f64, s1);
                let f = lp.exp() * (lp - logpdf(x, m2 as f64, s2));
                integral += if k == 0 || k == steps { 0.5 * f } else { f };
            }
            integral *= h;
            let kl = gaussian_kl(&[m1], &[l1], &[m2], &[l2]);
            assert!((kl - integral as f32).abs() < TOL, "KL({m1}, {l1} ‖ {m2}, {l2}) = {kl} vs quadrature {integral}");
        }
        let both = gaussian_kl(&[0.3, 0.1], &[-1.0, -2.0], &[0.0, -0.2], &[-1.0, -1.5]);
        let sum = gaussian_kl(&[0.3], &[-1.0], &[0.0], &[-1.0]) + gaussian_kl(&[0.1], &[-2.0], &[-0.2], &[-1.5]);
        assert!((both - sum).abs() < 1e-6);
    }

    #[test]
    fn smoothness_pairs_follow_episodes_within_the_sequence() {
        // time 3, batch 2: (t=1, b=1) starts an episode, so it has no previous step; t = 0
        // never has one (the chunk's first step).
        let head: Vec<f32> = (0..6).map(|k| k as f32).collect();
        let starts = [false, false, false, true, false, false];
        let seq = SeqInput { obs: &[], time: 3, batch: 2, state0: &[], starts: Some(&starts) };
        let (means, valid) = smoothness_reference(&head, 1, &seq, PrevStep::InSequence);
        assert_eq!(valid, vec![false, false, true, false, true, true]);
        assert_eq!(means, vec![0.0, 0.0, 0.0, 0.0, 2.0, 3.0]);
        // Values: Z = mean μ²/(2σ²), S = Σ over pairs (μ_t − μ_{t−1})²/(2σ²) / N.
        let ls = [-1.0f32];
        let inv2v = 0.5 * (2.0f32).exp();
        let (z, s) = values(&head, &ls, &(means, valid));
        let want_z = (0..6).map(|k| (k * k) as f32).sum::<f32>() * inv2v / 6.0;
        let want_s = (4.0 + 4.0 + 4.0) * inv2v / 6.0;
        assert!((z - want_z).abs() < 1e-5 * want_z && (s - want_s).abs() < 1e-5 * want_s, "{z} {s}");
    }
}
