//! Permutation tests: p-values with the +1 correction, shuffled-label nulls, and exact
//! enumeration of the relabellings when they are few.

use rand::seq::SliceRandom;
use rand::Rng;
use serde::{Deserialize, Serialize};

use super::descriptive::{mean, quantile_sorted, sorted};
use super::DEFAULT_LEVEL;
use crate::error::AgentError;

/// Relative tolerance under which a relabelled statistic counts as a tie with the observed
/// one: the same value summed in another order may differ in the last bits, and a tie must
/// count as "at least as extreme".
pub const TIE_TOLERANCE: f64 = 1e-12;

/// One-sided Monte Carlo permutation p-value with the +1 correction:
/// `(1 + #{null ≥ observed}) / (1 + n)` over the finite null draws (`n` of them). Never 0:
/// the observed labelling is one of the possible relabellings.
pub fn permutation_p(observed: f64, null: &[f64]) -> f64 {
    let finite = null.iter().filter(|v| v.is_finite());
    let (n, ge) = finite.fold((0usize, 0usize), |(n, ge), &v| (n + 1, ge + usize::from(v >= observed)));
    (1 + ge) as f64 / (1 + n) as f64
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
    #[serde(with = "engram_envs::serde_nan::f64_or_null")]
    pub mean: f64,
    /// Central interval of the null at [`DEFAULT_LEVEL`].
    #[serde(with = "engram_envs::serde_nan::f64_or_null")]
    pub lo: f64,
    /// Upper end of that interval.
    #[serde(with = "engram_envs::serde_nan::f64_or_null")]
    pub hi: f64,
    /// One-sided p-value `(1 + #{null ≥ observed}) / (1 + n)`.
    #[serde(with = "engram_envs::serde_nan::f64_or_null")]
    pub p_upper: f64,
    /// Two-sided p-value by distance from the null mean,
    /// `(1 + #{|null − mean| ≥ |observed − mean|}) / (1 + n)`.
    #[serde(with = "engram_envs::serde_nan::f64_or_null")]
    pub p_two_sided: f64,
    /// Number of (finite) null draws.
    pub n: usize,
    /// Whether the null is every relabelling (exact p-values `#{≥ observed} / n`, the observed
    /// labelling among the `n`) rather than `n` random draws (written only when true).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub exact: bool,
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
            exact: false,
        }
    }

    /// Summarizes the complete null of every relabelling (the observed one included, e.g.
    /// from [`enumerate_relabellings`]) against `observed`: exact p-values `#{≥ observed} / n`,
    /// a relabelled value within [`TIE_TOLERANCE`] of the observed one counting as a tie
    /// (non-finite values are dropped).
    pub fn exact(observed: f64, null: &[f64]) -> Self {
        let s = sorted(null.iter().copied().filter(|v| v.is_finite()).collect());
        let n = s.len();
        let m = mean(&s);
        let ge = s.iter().filter(|&&v| v >= observed - tie_slack(observed)).count();
        let dist = (observed - m).abs();
        let far = s.iter().filter(|&&v| (v - m).abs() >= dist - tie_slack(dist)).count();
        Self {
            mean: m,
            lo: quantile_sorted(&s, (1.0 - DEFAULT_LEVEL) / 2.0),
            hi: quantile_sorted(&s, (1.0 + DEFAULT_LEVEL) / 2.0),
            p_upper: ge as f64 / n as f64,
            p_two_sided: far as f64 / n as f64,
            n,
            exact: true,
        }
    }

    /// Whether `observed` lies inside the null's central interval.
    pub fn contains_observed(&self, observed: f64) -> bool {
        self.lo <= observed && observed <= self.hi
    }
}

/// Number of distinct relabellings of items in groups of the given sizes, the multinomial
/// `(Σ sizes)! / Π sizes!`; `None` if it exceeds `u128`. (Groups are labelled: 9 items in 3
/// groups of 3 give 1,680 relabellings, 6 times the 280 unlabelled partitions, so a statistic
/// that ignores group names gets the same p-value either way.)
pub fn relabelling_count(sizes: &[usize]) -> Option<u128> {
    let mut count: u128 = 1;
    let mut total: u128 = 0;
    for &k in sizes {
        for i in 1..=k as u128 {
            total += 1;
            // count · total / i stays an integer at every step (it is a binomial product).
            count = count.checked_mul(total)? / i;
        }
    }
    Some(count)
}

/// Distinct partitions of items into unnamed groups of the given sizes: the multinomial
/// [`relabelling_count`] divided by `m!` for every `m` groups of equal size (9 items in 3
/// groups of 3: 280). `None` on overflow.
pub fn partition_count(sizes: &[usize]) -> Option<u128> {
    let mut count = relabelling_count(sizes)?;
    let mut by_size = std::collections::BTreeMap::<usize, u128>::new();
    for &k in sizes {
        let m = by_size.entry(k).or_insert(0);
        *m += 1;
        count /= *m;
    }
    Some(count)
}

/// Group sizes of `labels` (group ids `0..k`).
pub fn group_sizes(labels: &[usize]) -> Vec<usize> {
    let k = labels.iter().max().map_or(0, |m| m + 1);
    (0..k).map(|g| labels.iter().filter(|&&l| l == g).count()).collect()
}

/// Calls `visit` on every distinct relabelling of `labels` (group ids `0..k`), in
/// lexicographic order, the observed labelling among them. With `unnamed_groups` (for a
/// statistic that ignores group names, such as a silhouette) only one labelling per partition
/// is visited ([`partition_count`] of them): groups of equal size first appear in id order.
pub fn enumerate_relabellings(labels: &[usize], unnamed_groups: bool, mut visit: impl FnMut(&[usize])) {
    let sizes = group_sizes(labels);
    let mut perm = labels.to_vec();
    perm.sort_unstable();
    let mut first = vec![usize::MAX; sizes.len()];
    loop {
        let canonical = !unnamed_groups || {
            first.iter_mut().for_each(|f| *f = usize::MAX);
            for (i, &g) in perm.iter().enumerate().rev() {
                first[g] = i;
            }
            (0..sizes.len()).all(|g| (g + 1..sizes.len()).all(|h| sizes[g] != sizes[h] || first[g] < first[h]))
        };
        if canonical {
            visit(&perm);
        }
        if !next_permutation(&mut perm) {
            break;
        }
    }
}

fn tie_slack(v: f64) -> f64 {
    TIE_TOLERANCE * v.abs().max(1.0)
}

/// Paired (one-sample) sign-flip permutation test of `mean(d) > 0` (`two_sided`: of
/// `|mean(d)| > 0`) for per-unit differences `d` (non-finite values dropped). With at most
/// `max_exact_units` units every one of the `2^n` sign patterns is enumerated and the p-value
/// is exact (the observed pattern counts among them); otherwise `n_random` random patterns
/// are drawn from `rng` and p = (1 + #{≥ observed}) / (1 + n_random).
pub fn sign_flip_test<R: Rng>(
    d: &[f64],
    two_sided: bool,
    max_exact_units: usize,
    n_random: usize,
    rng: &mut R,
) -> Result<PermutationTest, AgentError> {
    let d: Vec<f64> = d.iter().copied().filter(|x| x.is_finite()).collect();
    if d.is_empty() {
        return Err(AgentError::TooFew { context: "sign_flip_test", what: "differences", needed: 1, got: 0 });
    }
    let n = d.len();
    let stat = |signs: &dyn Fn(usize) -> f64| {
        let m = d.iter().enumerate().map(|(i, x)| signs(i) * x).sum::<f64>() / n as f64;
        if two_sided {
            m.abs()
        } else {
            m
        }
    };
    let observed = stat(&|_| 1.0);
    let threshold = observed - tie_slack(observed);
    if n <= max_exact_units.min(24) {
        let total = 1usize << n;
        let hits =
            (0..total).filter(|&mask| stat(&|i| if mask >> i & 1 == 1 { -1.0 } else { 1.0 }) >= threshold).count();
        return Ok(PermutationTest {
            observed,
            p_value: hits as f64 / total as f64,
            n_relabellings: total,
            exact: true,
        });
    }
    if n_random == 0 {
        return Err(AgentError::InvalidParameter {
            name: "n_random",
            value: "0".into(),
            reason: "more units than max_exact_units need random sign patterns",
        });
    }
    let mut hits = 0usize;
    for _ in 0..n_random {
        let signs: Vec<f64> = (0..n).map(|_| if rng.gen::<bool>() { -1.0 } else { 1.0 }).collect();
        hits += usize::from(stat(&|i| signs[i]) >= threshold);
    }
    Ok(PermutationTest {
        observed,
        p_value: (1 + hits) as f64 / (1 + n_random) as f64,
        n_relabellings: n_random,
        exact: false,
    })
}

/// Result of [`permutation_test`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PermutationTest {
    /// The statistic under the observed labels.
    #[serde(with = "engram_envs::serde_nan::f64_or_null")]
    pub observed: f64,
    /// One-sided p-value of "a statistic at least this large under relabelling".
    #[serde(with = "engram_envs::serde_nan::f64_or_null")]
    pub p_value: f64,
    /// Relabellings evaluated (finite statistics only), the observed one included when exact.
    pub n_relabellings: usize,
    /// Whether every relabelling was enumerated (exact p = #{≥ observed} / all) or random
    /// relabellings were drawn (p = (1 + #{≥ observed}) / (1 + n)).
    pub exact: bool,
}

/// Permutation test of `stat` over group labels (`labels[i]` = group of item `i`).
///
/// If the distinct relabellings number at most `max_relabellings` they are all enumerated and
/// the p-value is exact (the observed labelling counts among them); otherwise
/// `max_relabellings` random relabellings are drawn from `rng` and the +1 correction applies.
/// A relabelled statistic within [`TIE_TOLERANCE`] (relative) of the observed one counts as
/// at least as large; non-finite statistics are left out of the count.
pub fn permutation_test<R: Rng>(
    labels: &[usize],
    max_relabellings: usize,
    rng: &mut R,
    mut stat: impl FnMut(&[usize]) -> f64,
) -> Result<PermutationTest, AgentError> {
    if max_relabellings == 0 {
        return Err(AgentError::InvalidParameter {
            name: "max_relabellings",
            value: "0".into(),
            reason: "a permutation test needs at least one relabelling",
        });
    }
    let observed = stat(labels);
    if !observed.is_finite() {
        return Err(AgentError::NonFinite { context: "permutation_test observed statistic", index: 0 });
    }
    let threshold = observed - tie_slack(observed);
    let mut counts = (0usize, 0usize);
    let mut tally = |v: f64| {
        if v.is_finite() {
            counts.0 += 1;
            counts.1 += usize::from(v >= threshold);
        }
    };
    let exact = relabelling_count(&group_sizes(labels)).is_some_and(|c| c <= max_relabellings as u128);
    if exact {
        enumerate_relabellings(labels, false, |p| tally(stat(p)));
    } else {
        let mut perm = labels.to_vec();
        for _ in 0..max_relabellings {
            perm.shuffle(rng);
            tally(stat(&perm));
        }
    }
    let (n, ge) = counts;
    let p_value = if exact { ge as f64 / n as f64 } else { (1 + ge) as f64 / (1 + n) as f64 };
    Ok(PermutationTest { observed, p_value, n_relabellings: n, exact })
}

/// Rearranges `v` into the next lexicographic permutation (distinct arrangements of a
/// multiset, each once); `false` when `v` was the last (it is left unchanged then).
fn next_permutation(v: &mut [usize]) -> bool {
    let Some(i) = v.windows(2).rposition(|w| w[0] < w[1]) else {
        return false;
    };
    let j = v.iter().rposition(|&x| x > v[i]).expect("v[i + 1] > v[i] exists");
    v.swap(i, j);
    v[i + 1..].reverse();
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_flip_test_enumerates_every_pattern_exactly() {
        // numpy: y = [1.2, 0.4, -0.3, 0.9, 1.5, 0.7, 0.2]; over the 128 sign patterns,
        // #{mean >= observed} = 3 and #{|mean| >= |observed|} = 6.
        let y = [1.2, 0.4, -0.3, 0.9, 1.5, 0.7, 0.2];
        let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(1);
        let one = sign_flip_test(&y, false, 16, 0, &mut rng).unwrap();
        assert!(one.exact && one.n_relabellings == 128);
        assert!((one.p_value - 3.0 / 128.0).abs() < 1e-15, "{one:?}");
        let two = sign_flip_test(&y, true, 16, 0, &mut rng).unwrap();
        assert!((two.p_value - 6.0 / 128.0).abs() < 1e-15, "{two:?}");
        // Random patterns carry the +1 correction and agree with the exact value.
        let r = sign_flip_test(&y, true, 3, 20_000, &mut rng).unwrap();
        assert!(!r.exact && (r.p_value - 6.0 / 128.0).abs() < 0.01, "{r:?}");
        assert!(sign_flip_test(&[f64::NAN], true, 16, 10, &mut rng).is_err());
    }
    use crate::stats::regression::linear_regression;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn plus_one_correction() {
        assert_eq!(permutation_p(5.0, &[1.0, 2.0, 3.0]), 0.25);
        assert_eq!(permutation_p(2.0, &[1.0, 2.0, 3.0, f64::NAN]), 0.75);
        let s = NullSummary::new(5.0, &[1.0, 2.0, 3.0]);
        assert_eq!(s.p_upper, 0.25);
        assert_eq!(s.n, 3);
    }

    #[test]
    fn relabelling_counts() {
        assert_eq!(relabelling_count(&[3, 3, 3]), Some(1680));
        assert_eq!(relabelling_count(&[4, 4]), Some(70));
        assert_eq!(relabelling_count(&[5, 5]), Some(252));
        assert_eq!(relabelling_count(&[]), Some(1));
        assert_eq!(relabelling_count(&[100, 100]), None);
    }

    #[test]
    fn partitions_of_unnamed_groups() {
        assert_eq!(partition_count(&[3, 3, 3]), Some(280));
        assert_eq!(partition_count(&[2, 1]), Some(3));
        assert_eq!(partition_count(&[2, 2, 1]), Some(15));
        for sizes in [vec![3, 3, 3], vec![2, 2, 1], vec![4, 2]] {
            let labels: Vec<usize> = sizes.iter().enumerate().flat_map(|(g, &k)| vec![g; k]).collect();
            let mut seen = std::collections::BTreeSet::new();
            enumerate_relabellings(&labels, true, |p| {
                // One labelling per partition: the partition as a set of item sets.
                let mut blocks: Vec<Vec<usize>> =
                    (0..sizes.len()).map(|g| (0..p.len()).filter(|&i| p[i] == g).collect()).collect();
                blocks.sort();
                assert!(seen.insert(blocks));
            });
            assert_eq!(seen.len() as u128, partition_count(&sizes).unwrap());
        }
    }

    #[test]
    fn exact_null_counts_the_observed_labelling() {
        let s = NullSummary::exact(3.0, &[1.0, 2.0, 3.0, 3.0 + 1e-15]);
        assert!(s.exact && s.n == 4);
        assert_eq!(s.p_upper, 0.5);
        let json = serde_json::to_string(&NullSummary::new(3.0, &[1.0])).unwrap();
        assert!(!json.contains("exact"), "{json}");
        assert!(serde_json::to_string(&s).unwrap().contains("\"exact\":true"));
    }

    #[test]
    fn enumeration_visits_every_relabelling_once() {
        let mut v = vec![0, 0, 1, 1, 2];
        let mut seen = std::collections::BTreeSet::new();
        seen.insert(v.clone());
        while next_permutation(&mut v) {
            assert!(seen.insert(v.clone()));
        }
        assert_eq!(seen.len() as u128, relabelling_count(&[2, 2, 1]).unwrap());
    }

    #[test]
    fn exact_two_sample_test_matches_scipy() {
        // from scipy import stats
        // a = [5.1, 4.9, 5.6, 5.8, 6.0]; b = [4.2, 4.8, 4.4, 5.0, 4.1]
        // stats.permutation_test((a, b),
        //     lambda x, y, axis: np.mean(x, axis=axis) - np.mean(y, axis=axis), vectorized=True,
        //     permutation_type='independent', alternative='greater', n_resamples=10**6).pvalue
        //   = 0.007936507936507936  (= 2/252, exact: all 252 splits; swapping 4.9 and 5.0
        //   gives a larger difference)
        let values = [5.1, 4.9, 5.6, 5.8, 6.0, 4.2, 4.8, 4.4, 5.0, 4.1];
        let labels = [0, 0, 0, 0, 0, 1, 1, 1, 1, 1];
        let diff = |l: &[usize]| {
            let pick = |g| values.iter().zip(l).filter(|(_, &x)| x == g).map(|(v, _)| *v).collect::<Vec<_>>();
            mean(&pick(0)) - mean(&pick(1))
        };
        let t = permutation_test(&labels, 1000, &mut ChaCha8Rng::seed_from_u64(0), diff).unwrap();
        assert!(t.exact && t.n_relabellings == 252);
        assert!((t.p_value - 0.007_936_507_936_507_936).abs() < 1e-15);
        // Too many relabellings for the budget: Monte Carlo with the +1 correction.
        let mc = permutation_test(&labels, 100, &mut ChaCha8Rng::seed_from_u64(0), diff).unwrap();
        assert!(!mc.exact && mc.n_relabellings == 100 && mc.p_value >= 1.0 / 101.0);
    }

    #[test]
    fn shuffled_null_of_a_real_effect_has_small_p() {
        let x: Vec<f64> = (0..40).map(|i| i as f64).collect();
        let y: Vec<f64> = x.iter().map(|v| v * 0.5).collect();
        let slope = |lab: &[f64]| linear_regression(&x, lab, 0.95).unwrap().slope.estimate;
        let obs = slope(&y);
        let null = shuffled_null(&y, 500, &mut ChaCha8Rng::seed_from_u64(2), slope);
        let s = NullSummary::new(obs, &null);
        assert!(s.p_upper < 0.01 && s.mean.abs() < 0.1);
    }
}
