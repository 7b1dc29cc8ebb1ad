//! Multiple-comparison correction: Holm–Bonferroni.

/// Holm's step-down adjusted p-values (Holm 1979), in the order given.
///
/// With the `m` finite p-values sorted ascending, `p̃_(i) = max_{j ≤ i} min(1, (m − j + 1) ·
/// p_(j))`: monotone in the raw p-values, never below them, at most 1. Rejecting where
/// `p̃ < α` controls the family-wise error rate at `α`. Non-finite entries (a test that could
/// not be run) are not part of the family and stay `NaN`.
pub fn holm(p_values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..p_values.len()).filter(|&i| p_values[i].is_finite()).collect();
    order.sort_by(|&a, &b| p_values[a].total_cmp(&p_values[b]));
    let m = order.len();
    let mut adjusted = vec![f64::NAN; p_values.len()];
    let mut running = 0.0_f64;
    for (rank, &i) in order.iter().enumerate() {
        running = running.max(((m - rank) as f64 * p_values[i]).min(1.0));
        adjusted[i] = running;
    }
    adjusted
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOL: f64 = 1e-15;

    fn close(a: &[f64], b: &[f64]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < TOL || (x.is_nan() && y.is_nan()))
    }

    #[test]
    fn holm_matches_statsmodels() {
        // from statsmodels.stats.multitest import multipletests
        // multipletests([0.01, 0.04, 0.03, 0.005, 0.2], method='holm')[1]
        //   = [0.04, 0.09, 0.09, 0.025, 0.2]
        // multipletests([0.02, 0.02, 0.5], method='holm')[1] = [0.06, 0.06, 0.5]
        assert!(close(&holm(&[0.01, 0.04, 0.03, 0.005, 0.2]), &[0.04, 0.09, 0.09, 0.025, 0.2]));
        assert!(close(&holm(&[0.02, 0.02, 0.5]), &[0.06, 0.06, 0.5]));
    }

    #[test]
    fn holm_caps_at_one_skips_nan_and_handles_empty() {
        assert!(close(&holm(&[0.6, 0.7]), &[1.0, 1.0]));
        assert!(close(&holm(&[0.01, f64::NAN, 0.04]), &[0.02, f64::NAN, 0.04]));
        assert!(holm(&[]).is_empty());
    }
}
