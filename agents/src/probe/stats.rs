//! Statistics for probe reports: R², coefficient of variation, a seeded percentile
//! bootstrap, shuffled-label nulls, OLS slope with a t interval and the two one-sided tests
//! (TOST) for equivalence.
//!
//! Student-t probabilities come from the regularized incomplete beta function (continued
//! fraction, Numerical Recipes §6.4), so no statistics crate is needed.

use rand::seq::SliceRandom;
use rand::Rng;
use serde::{Deserialize, Serialize};

use super::{ProbeError, ProbeResult};

/// Default confidence level of intervals.
pub const DEFAULT_LEVEL: f64 = 0.95;

/// Mean of `x` (`NaN` for an empty slice).
pub fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

/// Sample standard deviation (divisor `n − 1`); `NaN` for fewer than two values.
pub fn std_dev(x: &[f64]) -> f64 {
    let m = mean(x);
    (x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (x.len() as f64 - 1.0)).sqrt()
}

/// Coefficient of variation `std / |mean|` (sample std). Large when the mean is near zero.
pub fn coefficient_of_variation(x: &[f64]) -> f64 {
    std_dev(x) / mean(x).abs()
}

/// R² of predictions against the mean of the (held-out) targets themselves:
/// `1 − Σ(y − ŷ)² / Σ(y − ȳ)²`. Can be negative; `NaN` if `y` is constant.
pub fn r_squared(y: &[f64], y_hat: &[f64]) -> f64 {
    let m = mean(y);
    let ss_res: f64 = y.iter().zip(y_hat).map(|(a, b)| (a - b) * (a - b)).sum();
    let ss_tot: f64 = y.iter().map(|a| (a - m) * (a - m)).sum();
    1.0 - ss_res / ss_tot
}

/// A confidence interval around an estimate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Ci {
    /// The point estimate.
    #[serde(with = "crate::probe::json::f64_or_null")]
    pub estimate: f64,
    /// Lower bound.
    #[serde(with = "crate::probe::json::f64_or_null")]
    pub lo: f64,
    /// Upper bound.
    #[serde(with = "crate::probe::json::f64_or_null")]
    pub hi: f64,
    /// Confidence level (e.g. 0.95).
    pub level: f64,
}

impl Ci {
    /// Whether `v` lies inside `[lo, hi]`.
    pub fn contains(&self, v: f64) -> bool {
        self.lo <= v && v <= self.hi
    }
}

/// Linear-interpolated quantile `q ∈ [0, 1]` of already sorted values.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    let pos = q.clamp(0.0, 1.0) * (n - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    v
}

/// Percentile bootstrap CI of `stat(values)`: `n_resamples` resamples with replacement drawn
/// from `rng`, bounds at the `(1 ∓ level)/2` quantiles.
pub fn bootstrap_ci<R: Rng>(
    values: &[f64],
    n_resamples: usize,
    level: f64,
    rng: &mut R,
    stat: impl Fn(&[f64]) -> f64,
) -> ProbeResult<Ci> {
    if values.is_empty() {
        return Err(ProbeError::TooFew { context: "bootstrap_ci", what: "values", needed: 1, got: 0 });
    }
    if !(0.0..1.0).contains(&level) || n_resamples == 0 {
        return Err(ProbeError::InvalidParameter {
            name: "level/n_resamples",
            value: format!("{level}/{n_resamples}"),
            reason: "level must be in (0, 1) and n_resamples > 0",
        });
    }
    let n = values.len();
    let mut buf = vec![0.0; n];
    let mut boots = Vec::with_capacity(n_resamples);
    for _ in 0..n_resamples {
        for b in buf.iter_mut() {
            *b = values[rng.gen_range(0..n)];
        }
        boots.push(stat(&buf));
    }
    let s = sorted(boots);
    Ok(Ci {
        estimate: stat(values),
        lo: quantile_sorted(&s, (1.0 - level) / 2.0),
        hi: quantile_sorted(&s, (1.0 + level) / 2.0),
        level,
    })
}

/// Null distribution of a statistic under shuffled labels: `stat` is called on
/// `n_shuffles` random permutations of `labels` (drawn from `rng`).
pub fn shuffled_null<R: Rng>(
    labels: &[f64],
    n_shuffles: usize,
    rng: &mut R,
    mut stat: impl FnMut(&[f64]) -> f64,
) -> Vec<f64> {
    let mut perm = labels.to_vec();
    (0..n_shuffles)
        .map(|_| {
            perm.shuffle(rng);
            stat(&perm)
        })
        .collect()
}

/// A null distribution summarized against an observed value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NullSummary {
    /// Mean of the null distribution.
    #[serde(with = "crate::probe::json::f64_or_null")]
    pub mean: f64,
    /// Central interval of the null at [`DEFAULT_LEVEL`].
    #[serde(with = "crate::probe::json::f64_or_null")]
    pub lo: f64,
    /// Upper end of that interval.
    #[serde(with = "crate::probe::json::f64_or_null")]
    pub hi: f64,
    /// One-sided p-value `(1 + #{null ≥ observed}) / (1 + n)`.
    #[serde(with = "crate::probe::json::f64_or_null")]
    pub p_upper: f64,
    /// Two-sided p-value by distance from the null mean.
    #[serde(with = "crate::probe::json::f64_or_null")]
    pub p_two_sided: f64,
    /// Number of null draws.
    pub n: usize,
}

impl NullSummary {
    /// Summarizes `null` draws against `observed` (non-finite draws are dropped).
    pub fn new(observed: f64, null: &[f64]) -> Self {
        let s = sorted(null.iter().copied().filter(|v| v.is_finite()).collect());
        let n = s.len();
        let m = mean(&s);
        let ge = s.iter().filter(|&&v| v >= observed).count();
        let far = s.iter().filter(|&&v| (v - m).abs() >= (observed - m).abs()).count();
        Self {
            mean: m,
            lo: quantile_sorted(&s, (1.0 - DEFAULT_LEVEL) / 2.0),
            hi: quantile_sorted(&s, (1.0 + DEFAULT_LEVEL) / 2.0),
            p_upper: (1 + ge) as f64 / (1 + n) as f64,
            p_two_sided: (1 + far) as f64 / (1 + n) as f64,
            n,
        }
    }

    /// Whether `observed` lies inside the null's central interval.
    pub fn contains_observed(&self, observed: f64) -> bool {
        self.lo <= observed && observed <= self.hi
    }
}

/// Ordinary least-squares line `y = intercept + slope · x` with a t-based CI on the slope.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SlopeFit {
    /// Slope with its `level` confidence interval (`slope ± t_{(1+level)/2, n−2} · se`).
    pub slope: Ci,
    /// Intercept.
    #[serde(with = "crate::probe::json::f64_or_null")]
    pub intercept: f64,
    /// Standard error of the slope.
    #[serde(with = "crate::probe::json::f64_or_null")]
    pub se: f64,
    /// Two-sided p-value of slope = 0.
    #[serde(with = "crate::probe::json::f64_or_null")]
    pub p_value: f64,
}

/// OLS regression of `y` on `x` (at least three points, `x` not constant).
pub fn linear_regression(x: &[f64], y: &[f64], level: f64) -> ProbeResult<SlopeFit> {
    let n = x.len();
    if n != y.len() {
        return Err(ProbeError::ShapeMismatch {
            context: "linear_regression",
            expected: format!("{n} y values"),
            actual: format!("{}", y.len()),
        });
    }
    if n < 3 {
        return Err(ProbeError::TooFew { context: "linear_regression", what: "points", needed: 3, got: n });
    }
    let (mx, my) = (mean(x), mean(y));
    let sxx: f64 = x.iter().map(|v| (v - mx) * (v - mx)).sum();
    if sxx <= 0.0 {
        return Err(ProbeError::InvalidParameter { name: "x", value: format!("{mx}"), reason: "x is constant" });
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

/// Result of the two one-sided tests (Schuirmann 1987) for equivalence of two means.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Tost {
    /// `mean(a) − mean(b)`.
    #[serde(with = "crate::probe::json::f64_or_null")]
    pub difference: f64,
    /// The equivalence margin `δ` (the means count as equivalent within `±δ`).
    #[serde(with = "crate::probe::json::f64_or_null")]
    pub margin: f64,
    /// Welch degrees of freedom.
    #[serde(with = "crate::probe::json::f64_or_null")]
    pub dof: f64,
    /// `max` of the two one-sided p-values; equivalence is shown when `p < α`.
    #[serde(with = "crate::probe::json::f64_or_null")]
    pub p_value: f64,
}

/// Welch TOST: are the means of `a` and `b` within `±margin` of each other?
pub fn tost_welch(a: &[f64], b: &[f64], margin: f64) -> ProbeResult<Tost> {
    for (v, name) in [(a, "a"), (b, "b")] {
        if v.len() < 2 {
            return Err(ProbeError::TooFew { context: "tost_welch", what: name, needed: 2, got: v.len() });
        }
    }
    if margin.is_nan() || margin <= 0.0 {
        return Err(ProbeError::InvalidParameter { name: "margin", value: format!("{margin}"), reason: "must be > 0" });
    }
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let (va, vb) = (std_dev(a).powi(2) / na, std_dev(b).powi(2) / nb);
    let difference = mean(a) - mean(b);
    let se = (va + vb).sqrt();
    if se == 0.0 {
        let p = if difference.abs() < margin { 0.0 } else { 1.0 };
        return Ok(Tost { difference, margin, dof: na + nb - 2.0, p_value: p });
    }
    let dof = (va + vb).powi(2) / (va * va / (na - 1.0) + vb * vb / (nb - 1.0));
    let p_lower = 1.0 - student_t_cdf((difference + margin) / se, dof);
    let p_upper = student_t_cdf((difference - margin) / se, dof);
    Ok(Tost { difference, margin, dof, p_value: p_lower.max(p_upper) })
}

/// CDF of Student's t distribution with `dof` degrees of freedom.
pub fn student_t_cdf(t: f64, dof: f64) -> f64 {
    if t.is_nan() {
        return f64::NAN;
    }
    let x = dof / (dof + t * t);
    let tail = 0.5 * regularized_incomplete_beta(x, dof / 2.0, 0.5);
    if t > 0.0 {
        1.0 - tail
    } else {
        tail
    }
}

/// Quantile of Student's t distribution (bisection on the CDF to machine precision).
pub fn student_t_quantile(p: f64, dof: f64) -> f64 {
    if !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    let (mut lo, mut hi) = (-1e8, 1e8);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if student_t_cdf(mid, dof) < p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// `ln Γ(x)` for `x > 0` (Lanczos approximation, g = 7, 9 terms; ~1e-15 relative).
fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        return (std::f64::consts::PI / (std::f64::consts::PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + G + 0.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// Regularized incomplete beta `I_x(a, b)`.
fn regularized_incomplete_beta(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    let front = ln_front.exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_continued_fraction(x, a, b) / a
    } else {
        1.0 - front * beta_continued_fraction(1.0 - x, b, a) / b
    }
}

/// Continued fraction for the incomplete beta (modified Lentz).
fn beta_continued_fraction(x: f64, a: f64, b: f64) -> f64 {
    const TINY: f64 = 1e-300;
    const EPS: f64 = 1e-16;
    const MAX_ITER: usize = 10_000;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..=MAX_ITER {
        let m = m as f64;
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() < EPS {
            break;
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn student_t_matches_scipy_golden_values() {
        // scipy.stats.t.ppf(0.975, 10), t.ppf(0.975, 1), t.ppf(0.95, 5), t.cdf(1.0, 3)
        assert!((student_t_quantile(0.975, 10.0) - 2.228_138_851_986_274).abs() < 1e-9);
        assert!((student_t_quantile(0.975, 1.0) - 12.706_204_736_174_698).abs() < 1e-7);
        assert!((student_t_quantile(0.95, 5.0) - 2.015_048_372_669_157).abs() < 1e-9);
        assert!((student_t_cdf(1.0, 3.0) - 0.804_498_890_522_114_8).abs() < 1e-12);
        assert!((student_t_cdf(0.0, 7.0) - 0.5).abs() < 1e-15);
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
    }

    #[test]
    fn r_squared_and_cv_basics() {
        let y = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(r_squared(&y, &y), 1.0);
        assert_eq!(r_squared(&y, &[2.5; 4]), 0.0);
        assert!(r_squared(&y, &[4.0, 3.0, 2.0, 1.0]) < 0.0);
        assert!((coefficient_of_variation(&[2.0, 2.0, 2.0]) - 0.0).abs() < 1e-15);
        assert!((coefficient_of_variation(&[1.0, 3.0]) - 2f64.sqrt() / 2.0).abs() < 1e-12);
    }

    #[test]
    fn bootstrap_is_seeded_and_covers_the_mean() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let v: Vec<f64> = (0..200).map(|_| rng.gen_range(0.0..2.0)).collect();
        let a = bootstrap_ci(&v, 1000, 0.95, &mut ChaCha8Rng::seed_from_u64(5), mean).unwrap();
        let b = bootstrap_ci(&v, 1000, 0.95, &mut ChaCha8Rng::seed_from_u64(5), mean).unwrap();
        assert_eq!(a, b);
        assert!(a.contains(1.0) && a.hi - a.lo < 0.25);
    }

    #[test]
    fn shuffled_null_of_a_real_effect_has_small_p() {
        let x: Vec<f64> = (0..40).map(|i| i as f64).collect();
        let y: Vec<f64> = x.iter().map(|v| v * 0.5).collect();
        let corr = |lab: &[f64]| linear_regression(&x, lab, 0.95).unwrap().slope.estimate;
        let obs = corr(&y);
        let null = shuffled_null(&y, 500, &mut ChaCha8Rng::seed_from_u64(2), corr);
        let s = NullSummary::new(obs, &null);
        assert!(s.p_upper < 0.01 && s.mean.abs() < 0.1);
    }

    #[test]
    fn tost_shows_equivalence_only_within_margin() {
        let a = [1.0, 1.1, 0.9, 1.05, 0.95, 1.0];
        let b = [1.02, 0.98, 1.0, 1.08, 0.92, 1.0];
        assert!(tost_welch(&a, &b, 0.2).unwrap().p_value < 0.05);
        let c: Vec<f64> = b.iter().map(|v| v + 1.0).collect();
        assert!(tost_welch(&a, &c, 0.2).unwrap().p_value > 0.5);
    }
}
