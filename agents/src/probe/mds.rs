//! Embedding a population from its distance matrix and asking whether it clusters by a label.
//!
//! - Classical (Torgerson) multidimensional scaling: double-centre the squared distances,
//!   `B = −½ J D² J` with `J = I − 11ᵀ/n`, and keep the top eigenvectors scaled by
//!   `√λ`. For Euclidean distances it recovers the configuration up to rotation, reflection
//!   and translation.
//! - Silhouette (Rousseeuw 1987): per item `(b − a) / max(a, b)` with `a` its mean distance to
//!   its own group and `b` the smallest mean distance to another group; the mean over items,
//!   in `[−1, 1]` (higher: tighter groups).
//! - Nearest-neighbour label agreement: the fraction of items whose nearest other item has
//!   the same label, in `[0, 1]`.
//!
//! Both scores come with a permutation null (labels shuffled across items).

use faer::Side;
use rand::Rng;
use serde::{Deserialize, Serialize};

use super::Matrix;
use crate::error::AgentError;
use crate::stats::{enumerate_relabellings, group_sizes, partition_count, shuffled_null, NullSummary};

/// A low-dimensional embedding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Embedding {
    /// Coordinates `[n, k]`.
    pub coords: Matrix,
    /// Eigenvalues of the double-centred matrix, decreasing `[n]` (negative ones mean the
    /// distances are not Euclidean).
    pub eigenvalues: Vec<f64>,
}

fn check_distances(d: &Matrix, context: &'static str) -> Result<usize, AgentError> {
    super::matrix::check_finite(d, context)?;
    let n = d.rows();
    if d.cols() != n {
        return Err(AgentError::ShapeMismatch {
            context,
            expected: "a square distance matrix".into(),
            actual: format!("{:?}", d.shape()),
        });
    }
    Ok(n)
}

/// Classical MDS of the distance matrix `d` `[n, n]` into `k` dimensions.
pub fn classical_mds(d: &Matrix, k: usize) -> Result<Embedding, AgentError> {
    let n = check_distances(d, "classical_mds")?;
    if n < 2 {
        return Err(AgentError::TooFew { context: "classical_mds", what: "items", needed: 2, got: n });
    }
    let sq = Matrix::from_fn(n, n, |i, j| 0.5 * (d.get(i, j).powi(2) + d.get(j, i).powi(2)));
    let rows: Vec<f64> = (0..n).map(|i| sq.row(i).iter().sum::<f64>() / n as f64).collect();
    let all = rows.iter().sum::<f64>() / n as f64;
    let b = Matrix::from_fn(n, n, |i, j| -0.5 * (sq.get(i, j) - rows[i] - rows[j] + all));
    let evd = b.to_faer().self_adjoint_eigen(Side::Lower).map_err(|_| AgentError::NoConvergence {
        context: "classical_mds",
        decomposition: "self-adjoint eigendecomposition",
    })?;
    // faer sorts eigenvalues in nondecreasing order.
    let s = evd.S().column_vector();
    let u = evd.U();
    let eigenvalues: Vec<f64> = (0..n).rev().map(|i| s[i]).collect();
    let coords =
        Matrix::from_fn(n, k, |i, c| if c < n { u[(i, n - 1 - c)] * s[n - 1 - c].max(0.0).sqrt() } else { 0.0 });
    Ok(Embedding { coords, eigenvalues })
}

fn check_labels(n: usize, labels: &[usize], context: &'static str) -> Result<(), AgentError> {
    if labels.len() != n {
        return Err(AgentError::ShapeMismatch {
            context,
            expected: format!("{n} labels"),
            actual: labels.len().to_string(),
        });
    }
    Ok(())
}

/// Mean silhouette of the grouping `labels` `[n]` under the distances `d` `[n, n]`;
/// items alone in their group score 0. NaN with fewer than two groups.
pub fn silhouette(d: &Matrix, labels: &[usize]) -> Result<f64, AgentError> {
    let n = check_distances(d, "silhouette")?;
    check_labels(n, labels, "silhouette")?;
    let mut groups: Vec<usize> = labels.to_vec();
    groups.sort_unstable();
    groups.dedup();
    if groups.len() < 2 {
        return Ok(f64::NAN);
    }
    let mut total = 0.0;
    for i in 0..n {
        let mean_to = |g: usize| {
            let (sum, cnt) =
                (0..n).filter(|&j| j != i && labels[j] == g).fold((0.0, 0usize), |(s, c), j| (s + d.get(i, j), c + 1));
            (cnt > 0).then(|| sum / cnt as f64)
        };
        let Some(a) = mean_to(labels[i]) else { continue };
        let b = groups.iter().filter(|&&g| g != labels[i]).filter_map(|&g| mean_to(g)).fold(f64::INFINITY, f64::min);
        let m = a.max(b);
        if m > 0.0 {
            total += (b - a) / m;
        }
    }
    Ok(total / n as f64)
}

/// Fraction of items whose nearest other item (smallest distance, ties to the lower index)
/// carries the same label.
pub fn nearest_neighbour_agreement(d: &Matrix, labels: &[usize]) -> Result<f64, AgentError> {
    let n = check_distances(d, "nearest_neighbour_agreement")?;
    check_labels(n, labels, "nearest_neighbour_agreement")?;
    if n < 2 {
        return Err(AgentError::TooFew { context: "nearest_neighbour_agreement", what: "items", needed: 2, got: n });
    }
    let same = (0..n)
        .filter(|&i| {
            let nn = (0..n).filter(|&j| j != i).min_by(|&a, &b| d.get(i, a).total_cmp(&d.get(i, b))).expect("n >= 2");
            labels[nn] == labels[i]
        })
        .count();
    Ok(same as f64 / n as f64)
}

/// Whether a population clusters by label: silhouette and nearest-neighbour agreement, each
/// beside its label-permutation null.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Clustering {
    /// Mean silhouette in `[−1, 1]` (higher: items sit closer to their own label).
    #[serde(with = "engram_envs::serde_nan::f64_or_null")]
    pub silhouette: f64,
    /// Its null over shuffled labels.
    pub silhouette_null: NullSummary,
    /// Nearest-neighbour label agreement in `[0, 1]`.
    pub nn_agreement: f64,
    /// Its null over shuffled labels.
    pub nn_agreement_null: NullSummary,
}

/// [`silhouette`] and [`nearest_neighbour_agreement`] against their label-permutation nulls.
///
/// Both statistics ignore group names, so when the partitions of the items into groups of the
/// observed sizes number at most `n_perm` ([`partition_count`]; 9 agents in 3 architectures of
/// 3: 280) every partition is evaluated and the p-values are exact ([`NullSummary::exact`]);
/// otherwise `n_perm` random relabellings are drawn from `rng` ([`NullSummary::new`], +1
/// correction).
pub fn clustering<R: Rng>(d: &Matrix, labels: &[usize], n_perm: usize, rng: &mut R) -> Result<Clustering, AgentError> {
    let s = silhouette(d, labels)?;
    let nn = nearest_neighbour_agreement(d, labels)?;
    if partition_count(&group_sizes(labels)).is_some_and(|c| c <= n_perm as u128) {
        let (mut s_null, mut nn_null) = (vec![], vec![]);
        enumerate_relabellings(labels, true, |p| {
            s_null.push(silhouette(d, p).unwrap_or(f64::NAN));
            nn_null.push(nearest_neighbour_agreement(d, p).unwrap_or(f64::NAN));
        });
        return Ok(Clustering {
            silhouette: s,
            silhouette_null: NullSummary::exact(s, &s_null),
            nn_agreement: nn,
            nn_agreement_null: NullSummary::exact(nn, &nn_null),
        });
    }
    // The permutation helper shuffles f64 values; the labels are small integers.
    let as_f64: Vec<f64> = labels.iter().map(|&l| l as f64).collect();
    let back = |p: &[f64]| p.iter().map(|&v| v as usize).collect::<Vec<_>>();
    let s_null = shuffled_null(&as_f64, n_perm, rng, |p| silhouette(d, &back(p)).unwrap_or(f64::NAN));
    let nn_null = shuffled_null(&as_f64, n_perm, rng, |p| nearest_neighbour_agreement(d, &back(p)).unwrap_or(f64::NAN));
    Ok(Clustering {
        silhouette: s,
        silhouette_null: NullSummary::new(s, &s_null),
        nn_agreement: nn,
        nn_agreement_null: NullSummary::new(nn, &nn_null),
    })
}

/// Euclidean distances between the rows of `x` `[n, p]` `[n, n]`.
pub fn euclidean_distances(x: &Matrix) -> Matrix {
    let n = x.rows();
    Matrix::from_fn(n, n, |i, j| super::matrix::norm(&super::matrix::sub(x.row(i), x.row(j))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::similarity::procrustes_angular_distance;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn mds_recovers_a_planar_configuration_up_to_rotation() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let x = Matrix::from_fn(7, 2, |_, _| rng.gen_range(-3.0..3.0));
        let d = euclidean_distances(&x);
        let e = classical_mds(&d, 2).unwrap();
        // Same pairwise distances, and the same shape (Procrustes angle 0).
        let d2 = euclidean_distances(&e.coords);
        for (a, b) in d.data().iter().zip(d2.data()) {
            assert!((a - b).abs() < 1e-9, "{a} vs {b}");
        }
        assert!(procrustes_angular_distance(&x, &e.coords).unwrap() < 1e-6);
        // A planar configuration has two positive eigenvalues; the rest vanish.
        assert!(e.eigenvalues[1] > 1.0 && e.eigenvalues[2..].iter().all(|v| v.abs() < 1e-9), "{:?}", e.eigenvalues);
    }

    #[test]
    fn separated_groups_cluster_and_shuffled_labels_do_not() {
        // Three tight groups far apart: silhouette near 1, agreement 1, both far above null.
        let mut rng = ChaCha8Rng::seed_from_u64(6);
        let centres = [[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]];
        let labels: Vec<usize> = (0..12).map(|i| i % 3).collect();
        let x = Matrix::from_fn(12, 2, |i, j| centres[labels[i]][j] + rng.gen_range(-0.5..0.5));
        let d = euclidean_distances(&x);
        let c = clustering(&d, &labels, 200, &mut rng).unwrap();
        assert!(c.silhouette > 0.8 && c.nn_agreement == 1.0, "{c:?}");
        assert!(!c.silhouette_null.exact, "12 items in 3 groups of 4: 5,775 partitions > 200");
        // 9 items in 3 groups of 3: all 280 partitions; only the true one scores this high.
        let (d9, l9) = (Matrix::from_fn(9, 9, |i, j| d.get(i, j)), &labels[..9]);
        let c9 = clustering(&d9, l9, 1000, &mut rng).unwrap();
        assert!(c9.silhouette_null.exact && c9.silhouette_null.n == 280);
        assert!((c9.silhouette_null.p_upper - 1.0 / 280.0).abs() < 1e-15, "{:?}", c9.silhouette_null);
        assert!(c.silhouette_null.p_two_sided < 0.05 && c.nn_agreement_null.p_two_sided < 0.05);
        // Labels that ignore the groups: inside the null.
        let mixed: Vec<usize> = (0..12).map(|i| (i / 3) % 3).collect();
        let c = clustering(&d, &mixed, 200, &mut rng).unwrap();
        assert!(c.silhouette < 0.1, "{c:?}");
        // A hand-checked silhouette: items 0,1 in group 0 at distance 1, item 2 at 3 and 4.
        let d3 = Matrix::new(3, 3, vec![0.0, 1.0, 3.0, 1.0, 0.0, 4.0, 3.0, 4.0, 0.0]).unwrap();
        // s0 = (3 − 1)/3, s1 = (4 − 1)/4, s2 = 0 (alone): mean = (2/3 + 3/4) / 3.
        let s = silhouette(&d3, &[0, 0, 1]).unwrap();
        assert!((s - (2.0 / 3.0 + 0.75) / 3.0).abs() < 1e-12);
        assert!(silhouette(&d3, &[0, 0]).is_err());
    }
}
