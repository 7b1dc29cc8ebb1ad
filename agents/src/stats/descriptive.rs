//! Descriptive statistics: mean, sample standard deviation, coefficient of variation, R²,
//! quantiles.

/// Mean of `x` (`NaN` for an empty slice).
pub fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

/// Sample standard deviation (divisor `n − 1`); `NaN` for fewer than two values.
pub fn std_dev(x: &[f64]) -> f64 {
    let m = mean(x);
    (x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (x.len() as f64 - 1.0)).sqrt()
}

/// The finite values of `x`, in order (undefined per-seed statistics are `NaN`).
pub fn finite(x: &[f64]) -> Vec<f64> {
    x.iter().copied().filter(|v| v.is_finite()).collect()
}

/// Coefficient of variation `std / |mean|` (sample std), in `[0, ∞)`. Large when the mean is
/// near zero.
pub fn coefficient_of_variation(x: &[f64]) -> f64 {
    std_dev(x) / mean(x).abs()
}

/// R² of predictions against the mean of the (held-out) targets themselves:
/// `1 − Σ(y − ŷ)² / Σ(y − ȳ)²`, in `(−∞, 1]` (negative when the predictions do worse than
/// the targets' own mean); `NaN` if `y` is constant.
pub fn r_squared(y: &[f64], y_hat: &[f64]) -> f64 {
    let m = mean(y);
    let ss_res: f64 = y.iter().zip(y_hat).map(|(a, b)| (a - b) * (a - b)).sum();
    let ss_tot: f64 = y.iter().map(|a| (a - m) * (a - m)).sum();
    1.0 - ss_res / ss_tot
}

/// Linearly interpolated quantile `q ∈ [0, 1]` of already sorted values (numpy's default
/// "linear" method); `NaN` for an empty slice.
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

/// `v` sorted ascending (total order, `NaN`s last).
pub(crate) fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    v
}

/// Mean, minimum and maximum (NaN, +inf, -inf for an empty slice).
pub fn mean_min_max(x: &[f64]) -> (f64, f64, f64) {
    let (lo, hi) = x.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    (mean(x), lo, hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOL: f64 = 1e-12;

    #[test]
    fn mean_min_max_of_returns() {
        assert_eq!(mean_min_max(&[2.0, -1.0, 5.0]), (2.0, -1.0, 5.0));
        let (m, lo, hi) = mean_min_max(&[]);
        assert!(m.is_nan() && lo == f64::INFINITY && hi == f64::NEG_INFINITY);
    }

    #[test]
    fn mean_and_sample_std_match_numpy() {
        // import numpy as np; x = [2.5, 3.1, 4.7, 1.2, 3.3]
        // np.mean(x) = 2.96; np.std(x, ddof=1) = 1.2720062892926278
        let x = [2.5, 3.1, 4.7, 1.2, 3.3];
        assert!((mean(&x) - 2.96).abs() < TOL);
        assert!((std_dev(&x) - 1.272_006_289_292_627_8).abs() < TOL);
        assert!(mean(&[]).is_nan() && std_dev(&[1.0]).is_nan());
    }

    #[test]
    fn quantile_matches_numpy_linear() {
        // np.quantile([1, 2, 4, 8, 16], [0.025, 0.5, 0.975]) = [1.1, 4.0, 15.2]
        let s = [1.0, 2.0, 4.0, 8.0, 16.0];
        assert!((quantile_sorted(&s, 0.025) - 1.1).abs() < TOL);
        assert!((quantile_sorted(&s, 0.5) - 4.0).abs() < TOL);
        assert!((quantile_sorted(&s, 0.975) - 15.2).abs() < TOL);
        assert!(quantile_sorted(&[], 0.5).is_nan());
    }

    #[test]
    fn r_squared_and_cv_basics() {
        let y = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(r_squared(&y, &y), 1.0);
        assert_eq!(r_squared(&y, &[2.5; 4]), 0.0);
        assert!(r_squared(&y, &[4.0, 3.0, 2.0, 1.0]) < 0.0);
        assert!((coefficient_of_variation(&[2.0, 2.0, 2.0]) - 0.0).abs() < 1e-15);
        assert!((coefficient_of_variation(&[1.0, 3.0]) - 2f64.sqrt() / 2.0).abs() < TOL);
        assert_eq!(finite(&[1.0, f64::NAN, f64::INFINITY, 2.0]), vec![1.0, 2.0]);
    }
}
