//! Linear-algebra building blocks: centring, PCA, least squares, pseudo-inverse,
//! orthonormalization and principal angles between subspaces.
//!
//! Every decomposition is faer's (thin SVD, QR with column pivoting); rank decisions use the
//! LAPACK convention `σ > max(m, n) · ε · σ_max`.

use faer::Mat;
use serde::{Deserialize, Serialize};

use super::matrix::check_finite;
use super::Matrix;
use crate::error::AgentError;

/// Relative tolerance factor for numerical rank: singular values below
/// `max(m, n) · RANK_EPS · σ_max` count as zero.
pub const RANK_EPS: f64 = f64::EPSILON;

/// A thin SVD `A = U · diag(s) · Vᵀ` in row-major form.
#[derive(Debug, Clone)]
pub struct ThinSvd {
    /// Left singular vectors `[m, k]`, `k = min(m, n)`.
    pub u: Matrix,
    /// Singular values `[k]`, non-increasing.
    pub s: Vec<f64>,
    /// Right singular vectors `[n, k]`.
    pub v: Matrix,
}

impl ThinSvd {
    /// Numerical rank (LAPACK tolerance).
    pub fn rank(&self) -> usize {
        let (m, n) = (self.u.rows(), self.v.rows());
        let smax = self.s.first().copied().unwrap_or(0.0);
        let tol = (m.max(n) as f64) * RANK_EPS * smax;
        self.s.iter().filter(|&&s| s > tol).count()
    }
}

/// Thin SVD of `a` `[m, n]` with faer.
pub fn thin_svd(a: &Matrix, context: &'static str) -> Result<ThinSvd, AgentError> {
    check_finite(a, context)?;
    let svd = a.to_faer().thin_svd().map_err(|_| AgentError::NoConvergence { context, decomposition: "thin SVD" })?;
    let s = svd.S().column_vector().iter().copied().collect();
    Ok(ThinSvd { u: Matrix::from_faer(svd.U()), s, v: Matrix::from_faer(svd.V()) })
}

/// Column means of `x` `[n, d]`, giving `[d]`.
pub fn column_means(x: &Matrix) -> Vec<f64> {
    let mut m = vec![0.0; x.cols()];
    for i in 0..x.rows() {
        for (mj, &v) in m.iter_mut().zip(x.row(i)) {
            *mj += v;
        }
    }
    let n = x.rows().max(1) as f64;
    m.iter_mut().for_each(|v| *v /= n);
    m
}

/// `x` `[n, d]` with its column means removed, and those means `[d]`.
pub fn centre(x: &Matrix) -> (Matrix, Vec<f64>) {
    let mean = column_means(x);
    let c = Matrix::from_fn(x.rows(), x.cols(), |i, j| x.get(i, j) - mean[j]);
    (c, mean)
}

/// Principal component analysis of samples `[n_samples, n_features]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pca {
    /// Feature means `[n_features]` removed before the SVD.
    pub mean: Vec<f64>,
    /// Principal axes as columns `[n_features, k]`, `k = min(n_samples, n_features)`.
    pub components: Matrix,
    /// Variance along each axis (`σ² / (n − 1)`) `[k]`, non-increasing.
    pub explained_variance: Vec<f64>,
    /// Share of the total variance per axis `[k]` (sums to 1 unless the data are constant).
    pub explained_variance_ratio: Vec<f64>,
}

impl Pca {
    /// Fits PCA by the thin SVD of the centred data.
    pub fn fit(x: &Matrix) -> Result<Self, AgentError> {
        if x.rows() < 2 {
            return Err(AgentError::TooFew { context: "Pca::fit", what: "samples", needed: 2, got: x.rows() });
        }
        let (xc, mean) = centre(x);
        let svd = thin_svd(&xc, "Pca::fit")?;
        let dof = (x.rows() - 1) as f64;
        let explained_variance: Vec<f64> = svd.s.iter().map(|s| s * s / dof).collect();
        let total: f64 = explained_variance.iter().sum();
        let explained_variance_ratio =
            explained_variance.iter().map(|v| if total > 0.0 { v / total } else { 0.0 }).collect();
        Ok(Self { mean, components: svd.v, explained_variance, explained_variance_ratio })
    }

    /// Scores of `x` `[n, n_features]` on the first `k` axes, `[n, k]`.
    pub fn transform(&self, x: &Matrix, k: usize) -> Result<Matrix, AgentError> {
        if x.cols() != self.mean.len() {
            return Err(AgentError::ShapeMismatch {
                context: "Pca::transform",
                expected: format!("{} features", self.mean.len()),
                actual: format!("{} features", x.cols()),
            });
        }
        let xc = Matrix::from_fn(x.rows(), x.cols(), |i, j| x.get(i, j) - self.mean[j]);
        xc.matmul(&self.components.first_cols(k))
    }

    /// The smallest number of axes whose cumulative explained-variance ratio reaches `share`.
    pub fn n_components_for(&self, share: f64) -> usize {
        let mut acc = 0.0;
        for (i, r) in self.explained_variance_ratio.iter().enumerate() {
            acc += r;
            if acc >= share {
                return i + 1;
            }
        }
        self.explained_variance_ratio.len()
    }
}

/// Moore–Penrose pseudo-inverse of `a` `[m, n]`, giving `[n, m]` (singular values below the
/// LAPACK rank tolerance are treated as zero).
pub fn pseudo_inverse(a: &Matrix) -> Result<Matrix, AgentError> {
    let svd = thin_svd(a, "pseudo_inverse")?;
    let r = svd.rank();
    Ok(Matrix::from_fn(a.cols(), a.rows(), |i, j| (0..r).map(|k| svd.v.get(i, k) * svd.u.get(j, k) / svd.s[k]).sum()))
}

/// Minimum-norm least-squares solution `X` `[p, q]` of `A X ≈ B` for `A` `[n, p]`, `B` `[n, q]`.
///
/// Uses the SVD, so rank-deficient designs give the minimum-norm solution rather than an error.
pub fn least_squares(a: &Matrix, b: &Matrix) -> Result<Matrix, AgentError> {
    if a.rows() != b.rows() {
        return Err(AgentError::ShapeMismatch {
            context: "least_squares",
            expected: format!("{} rows in B", a.rows()),
            actual: format!("{} rows", b.rows()),
        });
    }
    check_finite(b, "least_squares B")?;
    pseudo_inverse(a)?.matmul(b)
}

/// Orthonormal basis `[d, k]` of the column space of `m` `[d, k]` by QR.
///
/// Gram–Schmidt order is kept (column `j` of the result spans the part of column `j` of `m`
/// orthogonal to the columns before it) and signs are fixed so that `diag(R) > 0`; a
/// rank-deficient `m` is an error, since the caller asked for `k` directions.
pub fn orthonormalize(m: &Matrix) -> Result<Matrix, AgentError> {
    check_finite(m, "orthonormalize")?;
    let (d, k) = m.shape();
    if d < k {
        return Err(AgentError::RankDeficient { context: "orthonormalize", rank: d, needed: k });
    }
    let qr = m.to_faer().qr();
    let q = qr.compute_thin_Q();
    let r = qr.thin_R();
    let scale = (0..k).map(|j| m.col(j).iter().map(|x| x * x).sum::<f64>().sqrt()).fold(0.0, f64::max);
    let tol = (d as f64) * RANK_EPS * scale.max(f64::MIN_POSITIVE) * 16.0;
    let rank = (0..k).filter(|&j| r[(j, j)].abs() > tol).count();
    if rank < k {
        return Err(AgentError::RankDeficient { context: "orthonormalize", rank, needed: k });
    }
    Ok(Matrix::from_fn(d, k, |i, j| q[(i, j)] * r[(j, j)].signum()))
}

/// Orthonormal basis of the column space of `m` `[d, k]` by the SVD, keeping only the
/// numerically non-zero directions: `[d, rank]`.
pub fn range_basis(m: &Matrix) -> Result<Matrix, AgentError> {
    let svd = thin_svd(m, "range_basis")?;
    Ok(svd.u.first_cols(svd.rank()))
}

/// Removes from `v` `[d]` its component in the span of the orthonormal columns of `basis`
/// `[d, k]`.
pub fn project_out(v: &[f64], basis: &Matrix) -> Vec<f64> {
    let coef = basis.t_mat_vec(v);
    let inside = basis.mat_vec(&coef);
    v.iter().zip(&inside).map(|(a, b)| a - b).collect()
}

/// Principal angles (radians, ascending, in `[0, π/2]`) between the column spaces of two
/// orthonormal bases `a` `[d, k1]` and `b` `[d, k2]`: `acos` of the singular values of `aᵀ b`
/// (Björck & Golub 1973). Returns `min(k1, k2)` angles.
pub fn principal_angles(a: &Matrix, b: &Matrix) -> Result<Vec<f64>, AgentError> {
    if a.rows() != b.rows() {
        return Err(AgentError::ShapeMismatch {
            context: "principal_angles",
            expected: format!("{} rows", a.rows()),
            actual: format!("{} rows", b.rows()),
        });
    }
    let c = a.t_matmul(b)?;
    let s = singular_values(&c, "principal_angles")?;
    Ok(s.iter().map(|x| x.clamp(0.0, 1.0).acos()).collect())
}

/// Singular values (non-increasing) of `a`.
pub fn singular_values(a: &Matrix, context: &'static str) -> Result<Vec<f64>, AgentError> {
    check_finite(a, context)?;
    let m: Mat<f64> = a.to_faer();
    m.singular_values().map_err(|_| AgentError::NoConvergence { context, decomposition: "SVD" })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Tolerance for exact-arithmetic identities computed in f64.
    const TOL: f64 = 1e-10;

    fn random(rows: usize, cols: usize, seed: u64) -> Matrix {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        Matrix::from_fn(rows, cols, |_, _| rng.gen_range(-1.0..1.0))
    }

    #[test]
    fn least_squares_recovers_exact_coefficients() {
        let a = random(20, 3, 1);
        let x = Matrix::new(3, 2, vec![1.0, -2.0, 0.5, 3.0, -1.5, 0.0]).unwrap();
        let b = a.matmul(&x).unwrap();
        let xh = least_squares(&a, &b).unwrap();
        for (u, v) in xh.data().iter().zip(x.data()) {
            assert!((u - v).abs() < TOL);
        }
    }

    #[test]
    fn pseudo_inverse_of_rank_deficient_matrix_satisfies_penrose() {
        // Third column = first + second: rank 2.
        let base = random(6, 2, 2);
        let a = Matrix::from_fn(6, 3, |i, j| if j < 2 { base.get(i, j) } else { base.get(i, 0) + base.get(i, 1) });
        let p = pseudo_inverse(&a).unwrap();
        let apa = a.matmul(&p).unwrap().matmul(&a).unwrap();
        for (u, v) in apa.data().iter().zip(a.data()) {
            assert!((u - v).abs() < 1e-9);
        }
        assert_eq!(range_basis(&a).unwrap().cols(), 2);
        assert!(matches!(orthonormalize(&a), Err(AgentError::RankDeficient { rank: 2, .. })));
    }

    #[test]
    fn orthonormalize_keeps_first_direction_and_sign() {
        let m = random(10, 3, 3);
        let q = orthonormalize(&m).unwrap();
        let qtq = q.t_matmul(&q).unwrap();
        for i in 0..3 {
            for j in 0..3 {
                let e = if i == j { 1.0 } else { 0.0 };
                assert!((qtq.get(i, j) - e).abs() < TOL);
            }
        }
        let c0 = m.col(0);
        let n0 = c0.iter().map(|x| x * x).sum::<f64>().sqrt();
        for (i, c) in c0.iter().enumerate() {
            assert!((q.get(i, 0) - c / n0).abs() < TOL);
        }
    }

    #[test]
    fn principal_angles_of_known_planes() {
        // Plane spanned by e1, e2 vs plane spanned by e1, cos(θ) e2 + sin(θ) e3.
        let theta: f64 = 0.3;
        let a = Matrix::from_fn(4, 2, |i, j| if i == j { 1.0 } else { 0.0 });
        let b = Matrix::new(4, 2, vec![1.0, 0.0, 0.0, theta.cos(), 0.0, theta.sin(), 0.0, 0.0]).unwrap();
        let ang = principal_angles(&a, &b).unwrap();
        assert!(ang[0].abs() < 1e-7);
        assert!((ang[1] - theta).abs() < TOL);
    }

    #[test]
    fn pca_finds_planted_axis_and_variance() {
        // Points along (3, 4)/5 with unit-variance coefficient, plus tiny orthogonal noise.
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let n = 2000;
        let x = Matrix::from_fn(n, 2, |_, _| 0.0);
        let mut x = x;
        for i in 0..n {
            let t: f64 = rng.gen_range(-3.0f64.sqrt()..3.0f64.sqrt());
            let e: f64 = rng.gen_range(-0.01..0.01);
            x.set(i, 0, 0.6 * t - 0.8 * e + 5.0);
            x.set(i, 1, 0.8 * t + 0.6 * e - 1.0);
        }
        let pca = Pca::fit(&x).unwrap();
        let c = pca.components.col(0);
        assert!((c[0].abs() - 0.6).abs() < 1e-3 && (c[1].abs() - 0.8).abs() < 1e-3);
        assert!((pca.explained_variance[0] - 1.0).abs() < 0.1);
        assert!(pca.explained_variance_ratio[0] > 0.999);
        assert_eq!(pca.n_components_for(0.99), 1);
        assert!((pca.mean[0] - 5.0).abs() < 0.1);
        let scores = pca.transform(&x, 1).unwrap();
        assert_eq!(scores.shape(), (n, 1));
    }
}
