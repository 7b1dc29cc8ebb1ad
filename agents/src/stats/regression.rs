//! Ordinary least squares of one variable on another, with a t interval on the slope.

use serde::{Deserialize, Serialize};

use super::descriptive::mean;
use super::interval::Ci;
use super::student_t::{student_t_cdf, student_t_quantile};
use crate::error::AgentError;

/// Ordinary least-squares line `y = intercept + slope · x` with a t-based CI on the slope.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SlopeFit {
    /// Slope with its `level` confidence interval (`slope ± t_{(1+level)/2, n−2} · se`).
    pub slope: Ci,
    /// Intercept.
    #[serde(with = "engram_envs::serde_nan::f64_or_null")]
    pub intercept: f64,
    /// Standard error of the slope.
    #[serde(with = "engram_envs::serde_nan::f64_or_null")]
    pub se: f64,
    /// Two-sided p-value of slope = 0.
    #[serde(with = "engram_envs::serde_nan::f64_or_null")]
    pub p_value: f64,
}

/// OLS regression of `y` on `x` (at least three points, `x` not constant).
pub fn linear_regression(x: &[f64], y: &[f64], level: f64) -> Result<SlopeFit, AgentError> {
    let n = x.len();
    if n != y.len() {
        return Err(AgentError::ShapeMismatch {
            context: "linear_regression",
            expected: format!("{n} y values"),
            actual: format!("{}", y.len()),
        });
    }
    if n < 3 {
        return Err(AgentError::TooFew { context: "linear_regression", what: "points", needed: 3, got: n });
    }
    let (mx, my) = (mean(x), mean(y));
    let sxx: f64 = x.iter().map(|v| (v - mx) * (v - mx)).sum();
    if sxx <= 0.0 {
        return Err(AgentError::InvalidParameter { name: "x", value: format!("{mx}"), reason: "x is constant" });
    }
    let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let slope = sxy / sxx;
    let intercept = my - slope * mx;
    let sse: f64 = x.iter().zip(y).map(|(a, b)| (b - intercept - slope * a).powi(2)).sum();
    let dof = (n - 2) as f64;
    let se = (sse / dof / sxx).sqrt();
    let t = student_t_quantile((1.0 + level) / 2.0, dof);
    let p_value = if se > 0.0 { 2.0 * (1.0 - student_t_cdf((slope / se).abs(), dof)) } else { 0.0 };
    Ok(SlopeFit {
        slope: Ci { estimate: slope, lo: slope - t * se, hi: slope + t * se, level },
        intercept,
        se,
        p_value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn ols_matches_scipy_linregress() {
        // from scipy import stats
        // x = [0, .5, 1, 1.5, 2, 2.5, 3]; y = [2.1, 1.7, 1.4, 1.05, 0.5, 0.35, -0.1]
        // l = stats.linregress(x, y); t = stats.t.ppf(0.975, 5)
        // l.slope = -0.7285714285714284, l.intercept = 2.0928571428571425,
        // l.stderr = 0.028926366759023863, l.pvalue = 1.8412197282210327e-06,
        // l.slope ∓ t · l.stderr = (-0.8029290215331293, -0.6542138356097276)
        let x = [0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0];
        let y = [2.1, 1.7, 1.4, 1.05, 0.5, 0.35, -0.1];
        let f = linear_regression(&x, &y, 0.95).unwrap();
        assert!((f.slope.estimate + 0.728_571_428_571_428_4).abs() < 1e-12);
        assert!((f.intercept - 2.092_857_142_857_142_5).abs() < 1e-12);
        assert!((f.se - 0.028_926_366_759_023_863).abs() < 1e-12);
        assert!((f.p_value - 1.841_219_728_221_032_7e-6).abs() < 1e-12);
        assert!((f.slope.lo + 0.802_929_021_533_129_3).abs() < 1e-9);
        assert!((f.slope.hi + 0.654_213_835_609_727_6).abs() < 1e-9);
    }

    #[test]
    fn slope_ci_covers_planted_slope_and_excludes_zero() {
        let x: Vec<f64> = (0..50).map(|i| i as f64 / 10.0).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let y: Vec<f64> = x.iter().map(|v| 2.0 - 0.7 * v + rng.gen_range(-0.1..0.1)).collect();
        let fit = linear_regression(&x, &y, 0.95).unwrap();
        assert!(fit.slope.contains(-0.7));
        assert!(fit.slope.hi < 0.0 && fit.p_value < 1e-10);
        assert!((fit.intercept - 2.0).abs() < 0.05);
        assert!(matches!(linear_regression(&x[..2], &y[..2], 0.95), Err(AgentError::TooFew { needed: 3, .. })));
    }
}
