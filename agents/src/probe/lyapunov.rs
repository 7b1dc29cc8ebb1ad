//! Lyapunov spectra of input-driven recurrent dynamics by the QR (Benettin) method.
//!
//! Benettin, Galgani, Giorgilli & Strelcyn (1980), Meccanica 15:9–30; as used for RNNs by
//! Engelken, Wolf & Abbott (2023), "Lyapunov spectra of chaotic recurrent neural networks",
//! Phys. Rev. Research 5:043044. Along a trajectory driven by recorded inputs, the tangent
//! map is the sequence of Jacobians `J_t = ∂h_{t+1}/∂h_t`; an orthonormal frame `Q` is pushed
//! through it and re-orthonormalized by QR each step, `J_t Q_{t} = Q_{t+1} R_{t+1}`, and the
//! exponents are the time averages of `ln|diag R|` after a warm-up (natural log, per step;
//! divide by the step's duration for per-second units). Each QR is sign-fixed (positive `R`
//! diagonal) so the frame evolves continuously.

use faer::Mat;
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use super::Matrix;
use crate::error::AgentError;

/// A Lyapunov spectrum.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LyapunovSpectrum {
    /// Exponents, natural log per step, in decreasing order `[n_exponents]`.
    pub exponents: Vec<f64>,
    /// Steps averaged over (after warm-up).
    pub n_steps: usize,
}

impl LyapunovSpectrum {
    /// Kaplan–Yorke (Lyapunov) dimension: `k + Σ_{i≤k} λ_i / |λ_{k+1}|` with `k` the largest
    /// index whose partial sum is non-negative (0 if `λ_1 < 0`).
    pub fn kaplan_yorke_dimension(&self) -> f64 {
        let mut sum = 0.0;
        for (k, &l) in self.exponents.iter().enumerate() {
            if sum + l < 0.0 {
                return k as f64 + sum / l.abs();
            }
            sum += l;
        }
        self.exponents.len() as f64
    }
}

/// The `n_exponents` leading Lyapunov exponents of the tangent dynamics given by
/// `jacobians` (each `[n, n]`, in time order). The first `warmup` steps only align the frame
/// and are not averaged. The initial frame is a random orthonormal `[n, n_exponents]` drawn
/// from `rng`.
pub fn lyapunov_spectrum<R: Rng, I: IntoIterator<Item = Matrix>>(
    jacobians: I,
    n_exponents: usize,
    warmup: usize,
    rng: &mut R,
) -> Result<LyapunovSpectrum, AgentError> {
    let mut iter = jacobians.into_iter().peekable();
    let n = match iter.peek() {
        Some(j) if j.rows() == j.cols() => j.rows(),
        Some(j) => {
            return Err(AgentError::ShapeMismatch {
                context: "lyapunov_spectrum",
                expected: "square Jacobians".into(),
                actual: format!("{:?}", j.shape()),
            })
        }
        None => {
            return Err(AgentError::TooFew {
                context: "lyapunov_spectrum",
                what: "Jacobians",
                needed: warmup + 1,
                got: 0,
            })
        }
    };
    if n_exponents == 0 || n_exponents > n {
        return Err(AgentError::InvalidParameter {
            name: "n_exponents",
            value: n_exponents.to_string(),
            reason: "must be in 1..=hidden size",
        });
    }
    let init = Mat::<f64>::from_fn(n, n_exponents, |_, _| -> f64 { StandardNormal.sample(rng) });
    let mut q = init.qr().compute_thin_Q();
    let mut sums = vec![0.0; n_exponents];
    let mut t = 0usize;
    for j in iter {
        if j.shape() != (n, n) {
            return Err(AgentError::ShapeMismatch {
                context: "lyapunov_spectrum",
                expected: format!("[{n}, {n}] at step {t}"),
                actual: format!("{:?}", j.shape()),
            });
        }
        if let Some(index) = j.first_non_finite() {
            return Err(AgentError::NonFinite { context: "lyapunov_spectrum Jacobian", index });
        }
        let z = j.to_faer() * q.as_ref();
        let qr = z.qr();
        let r = qr.thin_R();
        if t >= warmup {
            for (k, s) in sums.iter_mut().enumerate() {
                *s += r[(k, k)].abs().ln();
            }
        }
        // Sign fixing: flip the columns of Q whose R diagonal is negative, so the frame is the
        // unique QR with positive diagonal and does not flip orientation from step to step.
        let signs: Vec<f64> = (0..n_exponents).map(|k| if r[(k, k)] < 0.0 { -1.0 } else { 1.0 }).collect();
        q = qr.compute_thin_Q();
        for (k, s) in signs.iter().enumerate() {
            if *s < 0.0 {
                q.col_mut(k).iter_mut().for_each(|v| *v = -*v);
            }
        }
        t += 1;
    }
    if t <= warmup {
        return Err(AgentError::TooFew {
            context: "lyapunov_spectrum",
            what: "Jacobians after warm-up",
            needed: warmup + 1,
            got: t,
        });
    }
    let n_steps = t - warmup;
    let mut exponents: Vec<f64> = sums.iter().map(|s| s / n_steps as f64).collect();
    exponents.sort_by(|a, b| b.total_cmp(a));
    Ok(LyapunovSpectrum { exponents, n_steps })
}

/// The Jacobians `∂h_{t+1}/∂h_t` along the trajectory of an input-driven map, lazily:
/// starting from `h0` `[n]`, step `t` evaluates `jacobian(h_t, u_t)` `[n, n]` and then
/// advances `h_{t+1} = step(h_t, u_t)`, for every row `u_t` of `inputs` `[n_steps, n_inputs]`
/// (e.g. recorded observations). Feed it to [`lyapunov_spectrum`].
pub fn trajectory_jacobians<'a, S, J>(
    step: S,
    jacobian: J,
    h0: &[f64],
    inputs: &'a Matrix,
) -> impl Iterator<Item = Matrix> + 'a
where
    S: Fn(&[f64], &[f64]) -> Vec<f64> + 'a,
    J: Fn(&[f64], &[f64]) -> Matrix + 'a,
{
    let mut h = h0.to_vec();
    (0..inputs.rows()).map(move |t| {
        let u = inputs.row(t);
        let j = jacobian(&h, u);
        h = step(&h, u);
        j
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Exponent tolerance after 2000 averaged steps.
    const EXP_TOL: f64 = 1e-3;

    #[test]
    fn constant_non_normal_linear_map_gives_log_eigenvalue_moduli() {
        let p = Matrix::new(3, 3, vec![1.0, 0.8, 0.0, 0.0, 1.0, 0.6, 0.3, 0.0, 1.0]).unwrap();
        let pinv = crate::probe::linalg::pseudo_inverse(&p).unwrap();
        let d = Matrix::from_fn(3, 3, |i, j| if i == j { [1.2, -0.8, 0.5][i] } else { 0.0 });
        let a = p.matmul(&d).unwrap().matmul(&pinv).unwrap();
        let spec = lyapunov_spectrum(std::iter::repeat_n(a, 2100), 3, 100, &mut ChaCha8Rng::seed_from_u64(1)).unwrap();
        for (e, x) in spec.exponents.iter().zip([1.2f64.ln(), 0.8f64.ln(), 0.5f64.ln()]) {
            assert!((e - x).abs() < EXP_TOL, "{:?}", spec.exponents);
        }
        assert_eq!(spec.n_steps, 2000);
        let top = lyapunov_spectrum(
            std::iter::repeat_n(p.matmul(&d).unwrap().matmul(&pinv).unwrap(), 2100),
            1,
            100,
            &mut ChaCha8Rng::seed_from_u64(1),
        )
        .unwrap();
        assert!((top.exponents[0] - 1.2f64.ln()).abs() < EXP_TOL);
    }

    #[test]
    fn input_driven_gain_gives_mean_log_gain() {
        // h' = (u_t · h_0, 0.5 · h_1 + u_t): the Jacobian is diag(u_t, 0.5), so the exponents
        // are mean(ln u_t) and ln 0.5.
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let inputs = Matrix::from_fn(3000, 1, |_, _| rng.gen_range(0.5..2.5));
        let step = |h: &[f64], u: &[f64]| vec![u[0] * h[0], 0.5 * h[1] + u[0]];
        let jac = |_: &[f64], u: &[f64]| Matrix::new(2, 2, vec![u[0], 0.0, 0.0, 0.5]).unwrap();
        let spec = lyapunov_spectrum(trajectory_jacobians(step, jac, &[1.0, 0.0], &inputs), 2, 100, &mut rng).unwrap();
        let mean_log: f64 = (100..3000).map(|t| inputs.get(t, 0).ln()).sum::<f64>() / 2900.0;
        assert!((spec.exponents[0] - mean_log).abs() < EXP_TOL, "{:?} vs {mean_log}", spec.exponents);
        assert!((spec.exponents[1] - 0.5f64.ln()).abs() < EXP_TOL);
    }

    #[test]
    fn input_driven_alternating_maps_average_their_logs() {
        // Inputs alternate between two diagonal Jacobians: exponents are the per-axis
        // averages (ln 2 + ln ½)/2 = 0 and (ln ¼ + ln 1)/2 = −ln 2.
        let a = Matrix::new(2, 2, vec![2.0, 0.0, 0.0, 0.25]).unwrap();
        let b = Matrix::new(2, 2, vec![0.5, 0.0, 0.0, 1.0]).unwrap();
        let seq = (0..2100).map(|t| if t % 2 == 0 { a.clone() } else { b.clone() });
        let spec = lyapunov_spectrum(seq, 2, 100, &mut ChaCha8Rng::seed_from_u64(2)).unwrap();
        assert!(
            spec.exponents[0].abs() < EXP_TOL && (spec.exponents[1] + 2f64.ln()).abs() < EXP_TOL,
            "{:?}",
            spec.exponents
        );
        let ky = LyapunovSpectrum { exponents: vec![0.5, -0.2, -0.6], n_steps: 1 };
        assert!((ky.kaplan_yorke_dimension() - 2.5).abs() < 1e-12);
        assert!(lyapunov_spectrum(Vec::<Matrix>::new(), 1, 0, &mut ChaCha8Rng::seed_from_u64(2)).is_err());
    }
}
