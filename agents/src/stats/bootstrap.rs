//! Seeded percentile bootstrap, only where a caller states it (intervals over seeds are
//! Student t by default, see [`super`]).

use rand::Rng;

use super::check_level;
use super::descriptive::{mean, quantile_sorted, sorted};
use super::interval::Ci;
use crate::error::AgentError;

/// Fewest units (seeds) a bootstrap accepts: with fewer, resamples take too few distinct
/// values for percentile bounds to be trusted (science.md: "not with fewer than ~8 units").
pub const MIN_BOOTSTRAP_UNITS: usize = 8;

fn check(
    context: &'static str,
    what: &'static str,
    n: usize,
    n_resamples: usize,
    level: f64,
) -> Result<(), AgentError> {
    check_level(context, level)?;
    if n < MIN_BOOTSTRAP_UNITS {
        return Err(AgentError::TooFew { context, what, needed: MIN_BOOTSTRAP_UNITS, got: n });
    }
    if n_resamples == 0 {
        return Err(AgentError::InvalidParameter {
            name: "n_resamples",
            value: format!("0 (in {context})"),
            reason: "a bootstrap needs at least one resample",
        });
    }
    Ok(())
}

/// Percentile bootstrap CI of `stat(values)`: `n_resamples` resamples with replacement drawn
/// from `rng`, bounds at the `(1 ∓ level)/2` quantiles. Refuses fewer than
/// [`MIN_BOOTSTRAP_UNITS`] values.
pub fn bootstrap_ci<R: Rng>(
    values: &[f64],
    n_resamples: usize,
    level: f64,
    rng: &mut R,
    stat: impl Fn(&[f64]) -> f64,
) -> Result<Ci, AgentError> {
    check("bootstrap_ci", "values", values.len(), n_resamples, level)?;
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

/// Percentile bootstrap CI of `mean(a) − mean(b)` for independent groups, resampling each
/// group's units separately (per resample: `a`'s draws, then `b`'s). Refuses groups of fewer
/// than [`MIN_BOOTSTRAP_UNITS`] values.
pub fn bootstrap_diff_ci<R: Rng>(
    a: &[f64],
    b: &[f64],
    n_resamples: usize,
    level: f64,
    rng: &mut R,
) -> Result<Ci, AgentError> {
    check("bootstrap_diff_ci", "values in group a", a.len(), n_resamples, level)?;
    check("bootstrap_diff_ci", "values in group b", b.len(), n_resamples, level)?;
    let resampled_mean =
        |v: &[f64], rng: &mut R| (0..v.len()).map(|_| v[rng.gen_range(0..v.len())]).sum::<f64>() / v.len() as f64;
    let boots: Vec<f64> = (0..n_resamples)
        .map(|_| {
            let ma = resampled_mean(a, rng);
            let mb = resampled_mean(b, rng);
            ma - mb
        })
        .collect();
    let s = sorted(boots);
    Ok(Ci {
        estimate: mean(a) - mean(b),
        lo: quantile_sorted(&s, (1.0 - level) / 2.0),
        hi: quantile_sorted(&s, (1.0 + level) / 2.0),
        level,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

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
    fn bootstrap_refuses_fewer_than_eight_units() {
        let rng = &mut ChaCha8Rng::seed_from_u64(0);
        let five = [1.0, 2.0, 3.0, 4.0, 5.0];
        let err = bootstrap_ci(&five, 100, 0.95, rng, mean).unwrap_err();
        assert!(matches!(err, AgentError::TooFew { needed: MIN_BOOTSTRAP_UNITS, got: 5, .. }));
        assert!(err.to_string().contains("at least 8"), "{err}");
        let eight = [1.0; 8];
        assert!(bootstrap_diff_ci(&eight, &five, 100, 0.95, rng).is_err());
        assert!(bootstrap_ci(&eight, 0, 0.95, rng, mean).is_err());
    }

    #[test]
    fn bootstrap_diff_covers_a_planted_difference() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let a: Vec<f64> = (0..12).map(|_| 2.0 + rng.gen_range(-0.5..0.5)).collect();
        let b: Vec<f64> = (0..10).map(|_| 1.0 + rng.gen_range(-0.5..0.5)).collect();
        let d = bootstrap_diff_ci(&a, &b, 2000, 0.95, &mut ChaCha8Rng::seed_from_u64(4)).unwrap();
        assert!(d.lo > 0.5 && d.hi < 1.5 && d.contains(d.estimate));
    }
}
