//! Confidence intervals over seeds: Student t for one group, Welch for two independent
//! groups, paired t for two conditions measured on the same seeds.

use serde::{Deserialize, Serialize};

use super::check_level;
use super::descriptive::{mean, std_dev};
use super::student_t::{student_t_cdf, student_t_quantile};
use crate::error::AgentError;

/// A confidence interval around an estimate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Ci {
    /// The point estimate.
    #[serde(with = "engram_envs::serde_nan::f64_or_null")]
    pub estimate: f64,
    /// Lower bound.
    #[serde(with = "engram_envs::serde_nan::f64_or_null")]
    pub lo: f64,
    /// Upper bound.
    #[serde(with = "engram_envs::serde_nan::f64_or_null")]
    pub hi: f64,
    /// Confidence level (e.g. 0.95).
    pub level: f64,
}

impl Ci {
    /// An undefined interval (every bound `NaN`, written as `null`) at `level`.
    pub fn undefined(level: f64) -> Self {
        Self { estimate: f64::NAN, lo: f64::NAN, hi: f64::NAN, level }
    }

    /// Whether `v` lies inside `[lo, hi]`.
    pub fn contains(&self, v: f64) -> bool {
        self.lo <= v && v <= self.hi
    }
}

/// A mean over units (seeds) with its sample standard deviation and Student-t interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Number of units.
    pub n: usize,
    /// Mean.
    #[serde(with = "engram_envs::serde_nan::f64_or_null")]
    pub mean: f64,
    /// Sample standard deviation (divisor `n − 1`; `NaN` for one unit).
    #[serde(with = "engram_envs::serde_nan::f64_or_null")]
    pub std_dev: f64,
    /// Half-width `t_{(1+level)/2, n−1} · std_dev / √n` (`NaN` for one unit).
    #[serde(with = "engram_envs::serde_nan::f64_or_null")]
    pub half_width: f64,
    /// `mean ± half_width` at the requested level.
    pub ci: Ci,
}

/// Mean, sample standard deviation and Student-t interval of `values` (one value per seed).
///
/// Errors on an empty slice or a level outside `(0, 1)`. With one value the spread and the
/// interval are undefined (`NaN`). `NaN`s in `values` propagate: filter them with
/// [`super::finite`] first if they mean "no value".
pub fn summarize(values: &[f64], level: f64) -> Result<Summary, AgentError> {
    check_level("summarize", level)?;
    let n = values.len();
    if n == 0 {
        return Err(AgentError::TooFew { context: "summarize", what: "values", needed: 1, got: 0 });
    }
    let m = mean(values);
    let (sd, half_width) = if n < 2 {
        (f64::NAN, f64::NAN)
    } else {
        let sd = std_dev(values);
        (sd, student_t_quantile((1.0 + level) / 2.0, (n - 1) as f64) * sd / (n as f64).sqrt())
    };
    Ok(Summary {
        n,
        mean: m,
        std_dev: sd,
        half_width,
        ci: Ci { estimate: m, lo: m - half_width, hi: m + half_width, level },
    })
}

/// Student-t interval of the mean of `values`: `mean ± t_{(1+level)/2, n−1} · s / √n`.
/// See [`summarize`] for the errors and the one-value case.
pub fn t_interval(values: &[f64], level: f64) -> Result<Ci, AgentError> {
    summarize(values, level).map(|s| s.ci)
}

/// Paired difference `a_i − b_i` of two conditions measured on the same seeds, summarized
/// with a Student-t interval (`a` and `b` in seed order, equal lengths).
pub fn paired_diff(a: &[f64], b: &[f64], level: f64) -> Result<Summary, AgentError> {
    if a.len() != b.len() {
        return Err(AgentError::ShapeMismatch {
            context: "paired_diff",
            expected: format!("{} values in b (one per seed of a)", a.len()),
            actual: format!("{}", b.len()),
        });
    }
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    summarize(&d, level)
}

/// Welch's interval and test for the difference of two independent groups' means.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WelchDiff {
    /// `mean(a) − mean(b)` with its interval `± t_{(1+level)/2, dof} · se`.
    pub ci: Ci,
    /// Standard error `√(s_a²/n_a + s_b²/n_b)`.
    #[serde(with = "engram_envs::serde_nan::f64_or_null")]
    pub se: f64,
    /// Welch–Satterthwaite degrees of freedom.
    #[serde(with = "engram_envs::serde_nan::f64_or_null")]
    pub dof: f64,
    /// Two-sided p-value of "the means are equal".
    #[serde(with = "engram_envs::serde_nan::f64_or_null")]
    pub p_value: f64,
}

/// Welch's interval for `mean(a) − mean(b)` (independent groups, unequal variances), at
/// least two values per group. When both groups are constant the interval is the point
/// difference and `p` is 1 for equal means, 0 otherwise.
pub fn welch_diff(a: &[f64], b: &[f64], level: f64) -> Result<WelchDiff, AgentError> {
    check_level("welch_diff", level)?;
    for (v, name) in [(a, "values in group a"), (b, "values in group b")] {
        if v.len() < 2 {
            return Err(AgentError::TooFew { context: "welch_diff", what: name, needed: 2, got: v.len() });
        }
    }
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let (va, vb) = (std_dev(a).powi(2) / na, std_dev(b).powi(2) / nb);
    let d = mean(a) - mean(b);
    let se = (va + vb).sqrt();
    if se == 0.0 {
        let p_value = if d == 0.0 { 1.0 } else { 0.0 };
        return Ok(WelchDiff { ci: Ci { estimate: d, lo: d, hi: d, level }, se, dof: na + nb - 2.0, p_value });
    }
    let dof = (va + vb).powi(2) / (va * va / (na - 1.0) + vb * vb / (nb - 1.0));
    let h = student_t_quantile((1.0 + level) / 2.0, dof) * se;
    let p_value = 2.0 * student_t_cdf(-(d / se).abs(), dof);
    Ok(WelchDiff { ci: Ci { estimate: d, lo: d - h, hi: d + h, level }, se, dof, p_value })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOL: f64 = 1e-9;

    #[test]
    fn t_interval_matches_scipy() {
        // import numpy as np; from scipy import stats
        // x = [2.5, 3.1, 4.7, 1.2, 3.3]
        // stats.t.interval(0.95, len(x)-1, loc=np.mean(x), scale=stats.sem(x))
        //   = (1.3805955850965819, 4.539404414903418)
        let x = [2.5, 3.1, 4.7, 1.2, 3.3];
        let s = summarize(&x, 0.95).unwrap();
        assert!((s.ci.lo - 1.380_595_585_096_581_9).abs() < TOL);
        assert!((s.ci.hi - 4.539_404_414_903_418).abs() < TOL);
        assert_eq!(s.n, 5);
        assert_eq!(t_interval(&x, 0.95).unwrap(), s.ci);
    }

    #[test]
    fn half_width_is_bit_identical_to_the_reports_formula() {
        // The curl-field and sweep reports computed t(0.975, n−1) · sd / √n by hand.
        let x = [0.31, 0.27, 0.35, 0.22, 0.30, 0.29, 0.33];
        let n = x.len();
        let m = x.iter().sum::<f64>() / n as f64;
        let sd = (x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt();
        let by_hand = student_t_quantile(0.975, (n - 1) as f64) * sd / (n as f64).sqrt();
        let s = summarize(&x, 0.95).unwrap();
        assert_eq!(s.half_width.to_bits(), by_hand.to_bits());
        assert_eq!(s.mean.to_bits(), m.to_bits());
    }

    #[test]
    fn one_value_gives_an_undefined_interval_and_none_is_refused() {
        let s = summarize(&[1.5], 0.95).unwrap();
        assert_eq!(s.mean, 1.5);
        assert!(s.half_width.is_nan() && s.ci.lo.is_nan() && s.std_dev.is_nan());
        assert!(matches!(summarize(&[], 0.95), Err(AgentError::TooFew { got: 0, .. })));
        assert!(matches!(summarize(&[1.0, 2.0], 1.0), Err(AgentError::InvalidParameter { name: "level", .. })));
    }

    #[test]
    fn welch_matches_scipy() {
        // a = [5.1, 4.9, 5.6, 5.8, 6.0, 5.2]; b = [4.2, 4.8, 4.4, 5.0, 4.1]
        // r = stats.ttest_ind(a, b, equal_var=False)
        //   r.pvalue = 0.004448311119290315, r.df = 8.921987907388289
        //   r.confidence_interval(0.95) = (0.37336686190108026, 1.493299804765587)
        let a = [5.1, 4.9, 5.6, 5.8, 6.0, 5.2];
        let b = [4.2, 4.8, 4.4, 5.0, 4.1];
        let w = welch_diff(&a, &b, 0.95).unwrap();
        assert!((w.p_value - 0.004_448_311_119_290_315).abs() < 1e-12);
        assert!((w.dof - 8.921_987_907_388_289).abs() < 1e-12);
        assert!((w.ci.lo - 0.373_366_861_901_080_26).abs() < TOL && (w.ci.hi - 1.493_299_804_765_587).abs() < TOL);
        assert!(matches!(welch_diff(&a, &[1.0], 0.95), Err(AgentError::TooFew { needed: 2, got: 1, .. })));
    }

    #[test]
    fn paired_matches_scipy() {
        // a = [1.2, 2.3, 3.1, 4.8, 5.0]; b = [1.0, 2.0, 3.3, 4.1, 4.2]
        // r = stats.ttest_rel(a, b); r.confidence_interval(0.95)
        //   = (-0.1413002154028693, 0.8613002154028693)
        let a = [1.2, 2.3, 3.1, 4.8, 5.0];
        let b = [1.0, 2.0, 3.3, 4.1, 4.2];
        let s = paired_diff(&a, &b, 0.95).unwrap();
        assert!((s.ci.lo - -0.141_300_215_402_869_3).abs() < TOL && (s.ci.hi - 0.861_300_215_402_869_3).abs() < TOL);
        assert!(matches!(paired_diff(&a, &b[..4], 0.95), Err(AgentError::ShapeMismatch { .. })));
    }
}
