//! Implicit system identification (issue 7): cross-validated ridge decoders of dynamics
//! parameters from hidden states.
//!
//! Protocol (design/probes.md): split train/test by episode, never by time step; standardize
//! with training-fold statistics only; choose the ridge penalty λ by an inner
//! cross-validation on the training episodes (one SVD per training fold gives the whole λ
//! path, as in scikit-learn's `RidgeCV`/`_RidgeGCV`); score R² on held-out episodes against
//! the held-out mean; compare with a shuffled-label baseline (R² ≤ 0.05 expected).

use std::collections::BTreeMap;

use rand::seq::SliceRandom;
use rand::Rng;
use serde::{Deserialize, Serialize};

use super::linalg::{column_means, thin_svd};
use super::matrix::check_finite;
use super::Matrix;
use crate::error::AgentError;
use crate::stats::{mean, r_squared};

/// Features with a training standard deviation below this are left unscaled (they are
/// constant on the training fold and become zero after centring).
pub const MIN_FEATURE_STD: f64 = 1e-12;

/// Settings of the ridge decoders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RidgeCvConfig {
    /// Candidate penalties λ (on standardized features; the loss is `‖y − Xβ‖² + λ‖β‖²`).
    pub lambdas: Vec<f64>,
    /// Outer folds (held-out R²).
    pub n_folds: usize,
    /// Inner folds on the outer training episodes (λ selection).
    pub n_inner_folds: usize,
    /// Shuffled-label repeats for the baseline (0 to skip).
    pub n_shuffles: usize,
}

impl Default for RidgeCvConfig {
    fn default() -> Self {
        // 1e-3 … 1e5, 4 per decade.
        let lambdas = (0..=32).map(|i| 10f64.powf(-3.0 + i as f64 * 0.25)).collect();
        Self { lambdas, n_folds: 5, n_inner_folds: 4, n_shuffles: 1 }
    }
}

/// Cross-validated decoding result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RidgeCvResult {
    /// Held-out R² per target, averaged over the outer folds `[n_targets]`.
    #[serde(with = "engram_envs::serde_nan::vec_f64_or_null")]
    pub r2_per_target: Vec<f64>,
    /// Held-out R² per outer fold and target `[n_folds, n_targets]`.
    pub r2_per_fold: Matrix,
    /// λ chosen by the inner CV per outer fold and target `[n_folds, n_targets]`.
    pub lambda_per_fold: Matrix,
    /// Held-out R² per target with shuffled labels, averaged over shuffles (empty if skipped).
    #[serde(with = "engram_envs::serde_nan::vec_f64_or_null")]
    pub shuffled_r2_per_target: Vec<f64>,
}

/// Assigns each sample a fold in `0..n_folds` so that all samples of a group (episode) share
/// a fold: the distinct groups are shuffled with `rng` and dealt round-robin.
pub fn group_folds<R: Rng>(groups: &[u64], n_folds: usize, rng: &mut R) -> Result<Vec<usize>, AgentError> {
    let mut distinct: Vec<u64> = groups.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    if n_folds < 2 || distinct.len() < n_folds {
        return Err(AgentError::TooFew {
            context: "group_folds",
            what: "groups (≥ n_folds ≥ 2)",
            needed: n_folds.max(2),
            got: distinct.len(),
        });
    }
    distinct.shuffle(rng);
    let fold_of: BTreeMap<u64, usize> = distinct.iter().enumerate().map(|(i, &g)| (g, i % n_folds)).collect();
    Ok(groups.iter().map(|g| fold_of[g]).collect())
}

/// Splits samples into training and test rows by group (episode): the distinct groups are
/// shuffled with `rng` and the first `round(test_fraction · groups)` (at least one) are held
/// out, so no group has samples on both sides. Returns `(train_rows, test_rows)`.
pub fn split_by_group<R: Rng>(
    groups: &[u64],
    test_fraction: f64,
    rng: &mut R,
) -> Result<(Vec<usize>, Vec<usize>), AgentError> {
    if !(test_fraction > 0.0 && test_fraction < 1.0) {
        return Err(AgentError::InvalidParameter {
            name: "test_fraction",
            value: test_fraction.to_string(),
            reason: "must be in (0, 1)",
        });
    }
    let mut distinct: Vec<u64> = groups.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < 2 {
        return Err(AgentError::TooFew { context: "split_by_group", what: "groups", needed: 2, got: distinct.len() });
    }
    distinct.shuffle(rng);
    let n_test = ((test_fraction * distinct.len() as f64).round() as usize).clamp(1, distinct.len() - 1);
    let test: std::collections::BTreeSet<u64> = distinct[..n_test].iter().copied().collect();
    Ok((0..groups.len()).partition(|&i| !test.contains(&groups[i])))
}

/// A ridge fit on one training set for every λ at once: `β(λ) = V diag(s/(s²+λ)) Uᵀ y`.
#[derive(Debug, Clone)]
pub struct RidgePath {
    x_mean: Vec<f64>,
    x_scale: Vec<f64>,
    y_mean: Vec<f64>,
    /// Right singular vectors `[n_features, r]`.
    v: Matrix,
    s: Vec<f64>,
    /// `Uᵀ (y − ȳ)` `[r, n_targets]`.
    uty: Matrix,
}

impl RidgePath {
    /// Standardizes `x` `[n, n_features]` with its own statistics, centres `y` `[n, n_targets]`
    /// and takes one thin SVD.
    pub fn fit(x: &Matrix, y: &Matrix) -> Result<Self, AgentError> {
        let x_mean = column_means(x);
        let n = x.rows() as f64;
        let x_scale: Vec<f64> = (0..x.cols())
            .map(|j| {
                let var = (0..x.rows()).map(|i| (x.get(i, j) - x_mean[j]).powi(2)).sum::<f64>() / n;
                if var.sqrt() < MIN_FEATURE_STD {
                    1.0
                } else {
                    var.sqrt()
                }
            })
            .collect();
        let xs = Matrix::from_fn(x.rows(), x.cols(), |i, j| (x.get(i, j) - x_mean[j]) / x_scale[j]);
        let y_mean = column_means(y);
        let yc = Matrix::from_fn(y.rows(), y.cols(), |i, j| y.get(i, j) - y_mean[j]);
        let svd = thin_svd(&xs, "RidgePath::fit")?;
        let r = svd.rank();
        let u = svd.u.first_cols(r);
        let uty = u.t_matmul(&yc)?;
        Ok(Self { x_mean, x_scale, y_mean, v: svd.v.first_cols(r), s: svd.s[..r].to_vec(), uty })
    }

    /// Projections of standardized `x` on the right singular vectors `[n, r]`.
    fn project(&self, x: &Matrix) -> Result<Matrix, AgentError> {
        let xs = Matrix::from_fn(x.rows(), x.cols(), |i, j| (x.get(i, j) - self.x_mean[j]) / self.x_scale[j]);
        xs.matmul(&self.v)
    }

    /// Predictions `[n, n_targets]` for `x`, with penalty `lambdas[t]` for target `t`.
    pub fn predict(&self, x: &Matrix, lambdas: &[f64]) -> Result<Matrix, AgentError> {
        let z = self.project(x)?;
        let t = self.uty.cols();
        Ok(Matrix::from_fn(x.rows(), t, |i, k| {
            let l = lambdas[k];
            self.y_mean[k]
                + (0..self.s.len())
                    .map(|r| z.get(i, r) * self.s[r] / (self.s[r].powi(2) + l) * self.uty.get(r, k))
                    .sum::<f64>()
        }))
    }

    /// Sum of squared errors on `(x, y)` for every λ: `[n_lambdas, n_targets]`.
    pub fn sse_path(&self, x: &Matrix, y: &Matrix, lambdas: &[f64]) -> Result<Matrix, AgentError> {
        let z = self.project(x)?;
        let (t, r) = (self.uty.cols(), self.s.len());
        let mut out = Matrix::zeros(lambdas.len(), t);
        let mut pred = vec![0.0; t];
        for (li, &l) in lambdas.iter().enumerate() {
            let f: Vec<f64> = self.s.iter().map(|s| s / (s * s + l)).collect();
            for i in 0..x.rows() {
                pred.copy_from_slice(&self.y_mean);
                for (k, fk) in f.iter().enumerate().take(r) {
                    let zf = z.get(i, k) * fk;
                    for (p, &c) in pred.iter_mut().zip(self.uty.row(k)) {
                        *p += zf * c;
                    }
                }
                for (k, p) in pred.iter().enumerate() {
                    let e = y.get(i, k) - p;
                    out.set(li, k, out.get(li, k) + e * e);
                }
            }
        }
        Ok(out)
    }
}

/// Ridge decoding of `y` `[n_samples, n_targets]` from `x` `[n_samples, n_features]` with
/// episode labels `groups` `[n_samples]`: nested group K-fold CV (λ chosen per target on
/// inner folds), held-out R² per target, and a shuffled-label baseline. Fold assignment and
/// shuffles draw from `rng`.
pub fn ridge_cv<R: Rng>(
    x: &Matrix,
    y: &Matrix,
    groups: &[u64],
    config: &RidgeCvConfig,
    rng: &mut R,
) -> Result<RidgeCvResult, AgentError> {
    check_finite(x, "ridge_cv x")?;
    check_finite(y, "ridge_cv y")?;
    if x.rows() != y.rows() || x.rows() != groups.len() {
        return Err(AgentError::ShapeMismatch {
            context: "ridge_cv",
            expected: format!("{} rows in x, y and groups", x.rows()),
            actual: format!("y {}, groups {}", y.rows(), groups.len()),
        });
    }
    if config.lambdas.is_empty() || config.lambdas.iter().any(|l| l.is_nan() || *l <= 0.0) {
        return Err(AgentError::InvalidParameter {
            name: "lambdas",
            value: format!("{:?}", config.lambdas),
            reason: "need at least one λ, all > 0",
        });
    }
    let folds = group_folds(groups, config.n_folds, rng)?;
    let inner_seeds: Vec<u64> = (0..config.n_folds).map(|_| rng.gen()).collect();
    let (r2_per_fold, lambda_per_fold) = nested_cv(x, y, groups, &folds, &inner_seeds, config)?;
    let r2_per_target = (0..y.cols()).map(|k| mean(&r2_per_fold.col(k))).collect();
    let mut shuffled_sum = vec![0.0; y.cols()];
    for _ in 0..config.n_shuffles {
        let mut perm: Vec<usize> = (0..y.rows()).collect();
        perm.shuffle(rng);
        let ys = y.select_rows(&perm);
        let (r2s, _) = nested_cv(x, &ys, groups, &folds, &inner_seeds, config)?;
        for (k, s) in shuffled_sum.iter_mut().enumerate() {
            *s += mean(&r2s.col(k));
        }
    }
    let shuffled_r2_per_target = if config.n_shuffles == 0 {
        Vec::new()
    } else {
        shuffled_sum.iter().map(|s| s / config.n_shuffles as f64).collect()
    };
    Ok(RidgeCvResult { r2_per_target, r2_per_fold, lambda_per_fold, shuffled_r2_per_target })
}

fn nested_cv(
    x: &Matrix,
    y: &Matrix,
    groups: &[u64],
    folds: &[usize],
    inner_seeds: &[u64],
    config: &RidgeCvConfig,
) -> Result<(Matrix, Matrix), AgentError> {
    use rand::SeedableRng;
    let t = y.cols();
    let mut r2 = Matrix::zeros(config.n_folds, t);
    let mut lam = Matrix::zeros(config.n_folds, t);
    for (f, &inner_seed) in inner_seeds.iter().enumerate().take(config.n_folds) {
        let train: Vec<usize> = (0..x.rows()).filter(|&i| folds[i] != f).collect();
        let test: Vec<usize> = (0..x.rows()).filter(|&i| folds[i] == f).collect();
        let (xtr, ytr) = (x.select_rows(&train), y.select_rows(&train));
        let gtr: Vec<u64> = train.iter().map(|&i| groups[i]).collect();
        // Inner CV on the training episodes picks λ per target.
        let mut inner_rng = rand_chacha::ChaCha8Rng::seed_from_u64(inner_seed);
        let inner = group_folds(&gtr, config.n_inner_folds, &mut inner_rng)?;
        let mut sse = Matrix::zeros(config.lambdas.len(), t);
        for g in 0..config.n_inner_folds {
            let itr: Vec<usize> = (0..train.len()).filter(|&i| inner[i] != g).collect();
            let ite: Vec<usize> = (0..train.len()).filter(|&i| inner[i] == g).collect();
            let path = RidgePath::fit(&xtr.select_rows(&itr), &ytr.select_rows(&itr))?;
            let s = path.sse_path(&xtr.select_rows(&ite), &ytr.select_rows(&ite), &config.lambdas)?;
            for (o, v) in sse.data_mut().iter_mut().zip(s.data()) {
                *o += v;
            }
        }
        let best: Vec<f64> = (0..t)
            .map(|k| {
                let col = sse.col(k);
                let i = (0..col.len()).min_by(|&a, &b| col[a].total_cmp(&col[b])).unwrap_or(0);
                config.lambdas[i]
            })
            .collect();
        let path = RidgePath::fit(&xtr, &ytr)?;
        let pred = path.predict(&x.select_rows(&test), &best)?;
        let yte = y.select_rows(&test);
        for (k, &l) in best.iter().enumerate() {
            r2.set(f, k, r_squared(&yte.col(k), &pred.col(k)));
            lam.set(f, k, l);
        }
    }
    Ok((r2, lam))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, StandardNormal};

    #[test]
    fn split_by_group_never_mixes_groups_and_is_seeded() {
        // 50 episodes of 3 samples each.
        let groups: Vec<u64> = (0..150).map(|i| i / 3).collect();
        let (train, test) = split_by_group(&groups, 0.2, &mut ChaCha8Rng::seed_from_u64(1)).unwrap();
        assert_eq!(train.len() + test.len(), 150);
        let held: std::collections::BTreeSet<u64> = test.iter().map(|&i| groups[i]).collect();
        assert_eq!(held.len(), 10, "20 % of 50 episodes");
        assert!(train.iter().all(|&i| !held.contains(&groups[i])), "an episode on both sides");
        let again = split_by_group(&groups, 0.2, &mut ChaCha8Rng::seed_from_u64(1)).unwrap();
        assert_eq!(again, (train.clone(), test.clone()));
        assert_ne!(split_by_group(&groups, 0.2, &mut ChaCha8Rng::seed_from_u64(2)).unwrap().1, test);
        let e = split_by_group(&groups, 1.0, &mut ChaCha8Rng::seed_from_u64(1)).unwrap_err().to_string();
        assert!(e.contains("test_fraction") && e.contains("(0, 1)"), "{e}");
        let e = split_by_group(&[7, 7], 0.2, &mut ChaCha8Rng::seed_from_u64(1)).unwrap_err().to_string();
        assert!(e.contains("groups") && e.contains('2'), "{e}");
    }

    const EPISODES: usize = 40;
    const STEPS: usize = 20;
    const FEATURES: usize = 24;
    /// R² of a planted linear code with 5% noise.
    const PLANTED_R2_MIN: f64 = 0.95;
    /// R² expected when the states carry nothing about the target (design/probes.md).
    const NULL_R2_MAX: f64 = 0.05;

    /// Hidden states per episode carry the episode's parameter `p` along a fixed direction
    /// (if `planted`), plus per-step noise; features have very different scales.
    fn data(planted: bool, seed: u64) -> (Matrix, Matrix, Vec<u64>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut g = || -> f64 { StandardNormal.sample(&mut rng) };
        let dir: Vec<f64> = (0..FEATURES).map(|_| g()).collect();
        let scale: Vec<f64> = (0..FEATURES).map(|j| 10f64.powi(j as i32 % 4 - 1)).collect();
        let n = EPISODES * STEPS;
        let mut x = Matrix::zeros(n, FEATURES);
        let mut y = Matrix::zeros(n, 2);
        let mut groups = Vec::with_capacity(n);
        for e in 0..EPISODES {
            let p = g();
            let q = g();
            for s in 0..STEPS {
                let i = e * STEPS + s;
                groups.push(e as u64 * 7 + 3);
                for j in 0..FEATURES {
                    let signal = if planted { dir[j] * p } else { 0.0 };
                    x.set(
                        i,
                        j,
                        scale[j] * (signal + 0.05 * g() * dir[j].abs().max(0.2) + if planted { 0.0 } else { g() }),
                    );
                }
                y.set(i, 0, p);
                y.set(i, 1, q);
            }
        }
        (x, y, groups)
    }

    #[test]
    fn folds_never_split_an_episode() {
        let groups: Vec<u64> = (0..100).map(|i| i / 10).collect();
        let f = group_folds(&groups, 5, &mut ChaCha8Rng::seed_from_u64(0)).unwrap();
        for w in groups.iter().zip(&f).collect::<Vec<_>>().windows(2) {
            if w[0].0 == w[1].0 {
                assert_eq!(w[0].1, w[1].1);
            }
        }
        assert!((0..5).all(|k| f.iter().filter(|&&v| v == k).count() == 20));
        assert!(group_folds(&groups, 11, &mut ChaCha8Rng::seed_from_u64(0)).is_err());
    }

    #[test]
    fn ridge_path_matches_normal_equations() {
        let (x, y, _) = data(true, 5);
        let (x, y) = (x.select_rows(&(0..60).collect::<Vec<_>>()), y.select_rows(&(0..60).collect::<Vec<_>>()));
        let path = RidgePath::fit(&x, &y).unwrap();
        let lambda = 3.0;
        let pred = path.predict(&x, &[lambda, lambda]).unwrap();
        // Reference: (XsᵀXs + λI) β = Xsᵀ yc solved directly.
        let xs = Matrix::from_fn(x.rows(), x.cols(), |i, j| (x.get(i, j) - path.x_mean[j]) / path.x_scale[j]);
        let mut a = xs.t_matmul(&xs).unwrap();
        for j in 0..a.rows() {
            a.set(j, j, a.get(j, j) + lambda);
        }
        let yc = Matrix::from_fn(y.rows(), 2, |i, k| y.get(i, k) - path.y_mean[k]);
        let beta = crate::probe::linalg::least_squares(&a, &xs.t_matmul(&yc).unwrap()).unwrap();
        let reference = xs.matmul(&beta).unwrap();
        for i in 0..x.rows() {
            for k in 0..2 {
                assert!((pred.get(i, k) - path.y_mean[k] - reference.get(i, k)).abs() < 1e-8);
            }
        }
        let sse = path.sse_path(&x, &y, &[lambda]).unwrap();
        let direct: f64 = (0..x.rows()).map(|i| (y.get(i, 0) - pred.get(i, 0)).powi(2)).sum();
        assert!((sse.get(0, 0) - direct).abs() < 1e-9 * direct.max(1.0));
    }

    #[test]
    fn planted_code_is_decoded_and_shuffled_is_not() {
        let (x, y, groups) = data(true, 1);
        let r = ridge_cv(&x, &y, &groups, &RidgeCvConfig::default(), &mut ChaCha8Rng::seed_from_u64(3)).unwrap();
        assert!(r.r2_per_target[0] > PLANTED_R2_MIN, "{:?}", r.r2_per_target);
        // Target 1 is independent of the states.
        assert!(r.r2_per_target[1] < NULL_R2_MAX, "{:?}", r.r2_per_target);
        assert!(r.shuffled_r2_per_target.iter().all(|&v| v <= NULL_R2_MAX), "{:?}", r.shuffled_r2_per_target);
        let again = ridge_cv(&x, &y, &groups, &RidgeCvConfig::default(), &mut ChaCha8Rng::seed_from_u64(3)).unwrap();
        assert_eq!(r, again);
    }

    #[test]
    fn no_code_gives_r2_near_zero() {
        let (x, y, groups) = data(false, 2);
        let r = ridge_cv(&x, &y, &groups, &RidgeCvConfig::default(), &mut ChaCha8Rng::seed_from_u64(4)).unwrap();
        for (k, &v) in r.r2_per_target.iter().enumerate() {
            assert!(v < NULL_R2_MAX && v > -0.5, "target {k}: {v}");
        }
        assert!(r.shuffled_r2_per_target.iter().all(|&v| v <= NULL_R2_MAX));
    }
}
