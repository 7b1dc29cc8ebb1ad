//! Statistics for every engram report: one module, one convention.
//!
//! # Conventions
//!
//! - **Intervals over seeds are Student t.** A study's unit is the seed (one trained agent);
//!   a mean over `n` seeds is reported with `mean ± t_{(1+level)/2, n−1} · s / √n`
//!   ([`t_interval`], [`summarize`]), `s` the sample standard deviation (divisor `n − 1`).
//!   Differences between two groups use Welch's interval ([`welch_diff`]); differences within
//!   the same seeds use the paired interval ([`paired_diff`]). Callers keep and report the
//!   per-seed values beside every summary.
//! - **Bootstrap only where a caller states it** ([`bootstrap_ci`], [`bootstrap_diff_ci`]:
//!   seeded, percentile), and never with fewer than [`MIN_BOOTSTRAP_UNITS`] units: with fewer,
//!   the resamples take too few distinct values for the percentiles to mean anything, and the
//!   functions refuse with [`AgentError::TooFew`].
//! - **Permutation p-values carry the +1 correction**: `p = (1 + #{null ≥ observed}) /
//!   (1 + n_perm)` ([`permutation_p`], [`NullSummary::new`]); when the relabellings are few
//!   they are all enumerated and the p-value is exact, `#{null ≥ observed} / n` with the
//!   observed labelling among the `n` ([`permutation_test`], [`enumerate_relabellings`],
//!   [`NullSummary::exact`]; 9 items in 3 unnamed groups of 3: 280 partitions).
//! - **"No difference" is an equivalence test** with a stated margin: Welch's two one-sided
//!   tests ([`tost_welch`]), never `p > 0.05`.
//! - **Each report's family of tests is corrected** with Holm's step-down method ([`holm`]);
//!   reports show raw and adjusted p-values.
//! - Scores say their range: R² ([`r_squared`]) can be negative; the coefficient of variation
//!   ([`coefficient_of_variation`]) is unbounded when the mean is near zero.
//!
//! Undefined statistics are `NaN` and serialize as JSON `null`
//! ([`engram_envs::serde_nan`]). All randomness comes from an explicitly passed, seeded RNG.
//!
//! Student-t probabilities come from the regularized incomplete beta function (continued
//! fraction, Numerical Recipes §6.4), checked against scipy in the tests, so no statistics
//! crate is needed.
//!
//! - [`descriptive`]: mean, sample standard deviation, coefficient of variation, R²,
//!   quantiles;
//! - [`student_t`]: the Student t CDF and quantile;
//! - [`interval`]: [`Ci`], [`Summary`], t intervals, Welch and paired difference intervals;
//! - [`bootstrap`]: seeded percentile bootstrap (only where stated);
//! - [`permutation`]: permutation p-values, shuffled nulls, exact enumeration;
//! - [`multiple`]: Holm–Bonferroni adjustment;
//! - [`equivalence`]: Welch TOST;
//! - [`regression`]: OLS slope with a t interval.
//!
//! ```
//! use engram_agents::stats::{summarize, DEFAULT_LEVEL};
//! let per_seed = [0.91, 0.88, 0.95, 0.90, 0.93];
//! let s = summarize(&per_seed, DEFAULT_LEVEL).unwrap();
//! assert_eq!(s.n, 5);
//! assert!(s.ci.lo < s.mean && s.mean < s.ci.hi);
//! ```

pub mod bootstrap;
pub mod descriptive;
pub mod equivalence;
pub mod interval;
pub mod multiple;
pub mod permutation;
pub mod regression;
pub mod student_t;

pub use bootstrap::{bootstrap_ci, bootstrap_diff_ci, MIN_BOOTSTRAP_UNITS};
pub use descriptive::{coefficient_of_variation, finite, mean, mean_min_max, quantile_sorted, r_squared, std_dev};
pub use equivalence::{tost_one_sample, tost_welch, Tost};
pub use interval::{paired_diff, summarize, t_interval, welch_diff, Ci, Summary, WelchDiff};
pub use multiple::holm;
pub use permutation::{
    enumerate_relabellings, group_sizes, partition_count, permutation_p, permutation_test, relabelling_count,
    shuffled_null, sign_flip_test, NullSummary, PermutationTest,
};
pub use regression::{linear_regression, SlopeFit};
pub use student_t::{student_t_cdf, student_t_quantile};

/// Default confidence level of intervals.
pub const DEFAULT_LEVEL: f64 = 0.95;

use crate::error::AgentError;

/// Checks that `level` is a confidence level in `(0, 1)`.
pub(crate) fn check_level(context: &'static str, level: f64) -> Result<(), AgentError> {
    if level > 0.0 && level < 1.0 {
        Ok(())
    } else {
        Err(AgentError::InvalidParameter {
            name: "level",
            value: format!("{level} (in {context})"),
            reason: "a confidence level must lie in (0, 1)",
        })
    }
}
