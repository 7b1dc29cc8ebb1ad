//! Equivalence: Welch's two one-sided tests (TOST) with a stated margin.

use serde::{Deserialize, Serialize};

use super::descriptive::{mean, std_dev};
use super::student_t::student_t_cdf;
use crate::error::AgentError;

/// Result of the two one-sided tests (Schuirmann 1987) for equivalence of two means.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Tost {
    /// `mean(a) − mean(b)`.
    #[serde(with = "engram_envs::serde_nan::f64_or_null")]
    pub difference: f64,
    /// The equivalence margin `δ` (the means count as equivalent within `±δ`).
    #[serde(with = "engram_envs::serde_nan::f64_or_null")]
    pub margin: f64,
    /// Welch degrees of freedom.
    #[serde(with = "engram_envs::serde_nan::f64_or_null")]
    pub dof: f64,
    /// `max` of the two one-sided p-values; equivalence is shown when `p < α`.
    #[serde(with = "engram_envs::serde_nan::f64_or_null")]
    pub p_value: f64,
}

/// Welch TOST: are the means of `a` and `b` within `±margin` of each other?
pub fn tost_welch(a: &[f64], b: &[f64], margin: f64) -> Result<Tost, AgentError> {
    for (v, name) in [(a, "a"), (b, "b")] {
        if v.len() < 2 {
            return Err(AgentError::TooFew { context: "tost_welch", what: name, needed: 2, got: v.len() });
        }
    }
    if margin.is_nan() || margin <= 0.0 {
        return Err(AgentError::InvalidParameter { name: "margin", value: format!("{margin}"), reason: "must be > 0" });
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

/// One-sample TOST: is the mean of `x` within `±margin` of `mu0`? (`difference` is
/// `mean(x) − mu0`, `dof` is `n − 1`.)
pub fn tost_one_sample(x: &[f64], mu0: f64, margin: f64) -> Result<Tost, AgentError> {
    if x.len() < 2 {
        return Err(AgentError::TooFew { context: "tost_one_sample", what: "x", needed: 2, got: x.len() });
    }
    if margin.is_nan() || margin <= 0.0 {
        return Err(AgentError::InvalidParameter { name: "margin", value: format!("{margin}"), reason: "must be > 0" });
    }
    let n = x.len() as f64;
    let difference = mean(x) - mu0;
    let se = std_dev(x) / n.sqrt();
    if se == 0.0 {
        let p = if difference.abs() < margin { 0.0 } else { 1.0 };
        return Ok(Tost { difference, margin, dof: n - 1.0, p_value: p });
    }
    let p_lower = 1.0 - student_t_cdf((difference + margin) / se, n - 1.0);
    let p_upper = student_t_cdf((difference - margin) / se, n - 1.0);
    Ok(Tost { difference, margin, dof: n - 1.0, p_value: p_lower.max(p_upper) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_sample_tost_matches_scipy() {
        // x = [0.02, -0.01, 0.03, 0.0, 0.01, -0.02], margin 0.05, t with 5 dof (scipy.stats.t):
        // max(1 - t.cdf((d + m) / se, 5), t.cdf((d - m) / se, 5)) = 0.0010011707205666337
        let x = [0.02, -0.01, 0.03, 0.0, 0.01, -0.02];
        let t = tost_one_sample(&x, 0.0, 0.05).unwrap();
        assert!((t.p_value - 0.0010011707205666337).abs() < 1e-9, "{t:?}");
        assert!((t.difference - 0.005).abs() < 1e-15);
        assert!(tost_one_sample(&x, 0.0, 0.001).unwrap().p_value > 0.5);
        assert!(tost_one_sample(&x, 0.0, -1.0).is_err());
        assert!(tost_one_sample(&x[..1], 0.0, 1.0).is_err());
    }

    #[test]
    fn tost_matches_statsmodels() {
        // from statsmodels.stats.weightstats import ttost_ind
        // a = [1.0, 1.1, 0.9, 1.05, 0.95, 1.0]; b = [1.02, 0.98, 1.0, 1.08, 0.92, 1.0]
        // ttost_ind(a, b, -0.1, 0.1, usevar='unequal')
        //   = (0.010353282402341351, (2.787.., 0.01035.., 9.19773815990913), ...)
        let a = [1.0, 1.1, 0.9, 1.05, 0.95, 1.0];
        let b = [1.02, 0.98, 1.0, 1.08, 0.92, 1.0];
        let t = tost_welch(&a, &b, 0.1).unwrap();
        assert!((t.p_value - 0.010_353_282_402_341_351).abs() < 1e-12);
        assert!((t.dof - 9.197_738_159_909_13).abs() < 1e-9);
    }

    #[test]
    fn tost_shows_equivalence_only_within_margin() {
        let a = [1.0, 1.1, 0.9, 1.05, 0.95, 1.0];
        let b = [1.02, 0.98, 1.0, 1.08, 0.92, 1.0];
        assert!(tost_welch(&a, &b, 0.2).unwrap().p_value < 0.05);
        let c: Vec<f64> = b.iter().map(|v| v + 1.0).collect();
        assert!(tost_welch(&a, &c, 0.2).unwrap().p_value > 0.5);
        assert!(matches!(tost_welch(&a, &b, 0.0), Err(AgentError::InvalidParameter { name: "margin", .. })));
    }
}
