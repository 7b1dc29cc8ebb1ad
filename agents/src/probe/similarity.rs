//! Representational similarity between agents: CCA, SVCCA and the angular Procrustes
//! shape distance (issue 9).
//!
//! - CCA, computed stably (Björck & Golub 1973): QR of each centred data matrix, canonical
//!   correlations = singular values of `Q₁ᵀ Q₂`. Column-pivoted QR gives a rank-revealing
//!   basis, so dead or duplicated units do not break it.
//! - SVCCA (Raghu, Gilmer, Yosinski & Sohl-Dickstein 2017, NeurIPS): the top principal
//!   components of each representation, then CCA.
//! - Procrustes shape distance (Williams, Kunz, Kornblith & Linderman 2021, "Generalized
//!   shape metrics on neural representations", NeurIPS): after centring and scaling to unit
//!   Frobenius norm, `θ = arccos ‖XᵀY‖_*` (nuclear norm), the angle left after the best
//!   rotation; a metric in `[0, π/2]`. The generalized shape metric first partially whitens
//!   each representation with one parameter `α` (their `netrep` `LinearMetric(alpha)`):
//!   `α = 1` is the rotation-only Procrustes distance, `α = 0` whitens fully (invariant to any
//!   invertible linear map, like CCA).
//!
//! Rows are matched samples (same conditions / time steps) in both representations.

use serde::{Deserialize, Serialize};

use super::linalg::{centre, singular_values, Pca};
use super::matrix::check_finite;
use super::Matrix;
use crate::error::AgentError;

/// Relative tolerance on `|R_ii| / |R_00|` of the pivoted QR below which a direction is
/// numerically absent.
pub const QR_RANK_TOL: f64 = 1e-10;

/// Canonical correlations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cca {
    /// Canonical correlations in `[0, 1]`, decreasing `[min(rank_x, rank_y)]`.
    pub correlations: Vec<f64>,
    /// Numerical rank of the centred `x`.
    pub rank_x: usize,
    /// Numerical rank of the centred `y`.
    pub rank_y: usize,
}

impl Cca {
    /// Mean canonical correlation (the usual SVCCA similarity).
    pub fn mean(&self) -> f64 {
        crate::stats::mean(&self.correlations)
    }
}

fn check_pair(context: &'static str, x: &Matrix, y: &Matrix) -> Result<(), AgentError> {
    check_finite(x, context)?;
    check_finite(y, context)?;
    if x.rows() != y.rows() {
        return Err(AgentError::ShapeMismatch {
            context,
            expected: format!("{} rows (matched samples)", x.rows()),
            actual: format!("{} rows", y.rows()),
        });
    }
    if x.rows() < 2 {
        return Err(AgentError::TooFew { context, what: "samples", needed: 2, got: x.rows() });
    }
    Ok(())
}

/// Orthonormal basis `[n, rank]` of the column space of the centred `x`: blocked Householder
/// QR when its `R` diagonal shows full rank, else QR with column pivoting (rank revealing).
fn centred_basis(x: &Matrix) -> Matrix {
    let (xc, _) = centre(x);
    let xf = xc.to_faer();
    let qr = xf.qr();
    let r = qr.thin_R();
    let k = r.nrows().min(r.ncols());
    let rmax = (0..k).map(|i| r[(i, i)].abs()).fold(0.0, f64::max);
    if k == x.cols() && rmax > 0.0 && (0..k).all(|i| r[(i, i)].abs() > QR_RANK_TOL * rmax) {
        let q = qr.compute_thin_Q();
        return Matrix::from_fn(x.rows(), k, |i, j| q[(i, j)]);
    }
    let qr = xf.col_piv_qr();
    let r = qr.thin_R();
    let q = qr.compute_thin_Q();
    let r00 = if r.nrows() > 0 && r.ncols() > 0 { r[(0, 0)].abs() } else { 0.0 };
    let rank = (0..r.nrows().min(r.ncols())).take_while(|&i| r00 > 0.0 && r[(i, i)].abs() > QR_RANK_TOL * r00).count();
    Matrix::from_fn(x.rows(), rank, |i, j| q[(i, j)])
}

/// CCA of `x` `[n_samples, p]` and `y` `[n_samples, q]`.
///
/// ```
/// use engram_agents::probe::{similarity::cca, Matrix};
/// let x = Matrix::from_fn(50, 2, |i, j| ((i * (j + 3)) as f64).sin());
/// // An invertible linear map of x: every canonical correlation is 1.
/// let y = Matrix::from_fn(50, 2, |i, _| 2.0 * x.get(i, 0) - x.get(i, 1));
/// let y = Matrix::from_fn(50, 2, |i, j| if j == 0 { y.get(i, 0) } else { x.get(i, 1) + 1.0 });
/// let c = cca(&x, &y).unwrap();
/// assert!(c.correlations.iter().all(|r| (r - 1.0).abs() < 1e-9));
/// ```
pub fn cca(x: &Matrix, y: &Matrix) -> Result<Cca, AgentError> {
    check_pair("cca", x, y)?;
    let (qx, qy) = (centred_basis(x), centred_basis(y));
    let (rank_x, rank_y) = (qx.cols(), qy.cols());
    if rank_x == 0 || rank_y == 0 {
        return Ok(Cca { correlations: Vec::new(), rank_x, rank_y });
    }
    let s = singular_values(&qx.t_matmul(&qy)?, "cca")?;
    Ok(Cca { correlations: s.iter().map(|v| v.clamp(0.0, 1.0)).collect(), rank_x, rank_y })
}

/// SVCCA: CCA between the top `k` principal-component scores of `x` and of `y`
/// (`k` is capped at each representation's number of components).
pub fn svcca(x: &Matrix, y: &Matrix, k: usize) -> Result<Cca, AgentError> {
    check_pair("svcca", x, y)?;
    if k == 0 {
        return Err(AgentError::InvalidParameter {
            name: "k",
            value: "0".into(),
            reason: "keep at least one component",
        });
    }
    let (px, py) = (Pca::fit(x)?, Pca::fit(y)?);
    let sx = px.transform(x, k.min(px.components.cols()))?;
    let sy = py.transform(y, k.min(py.components.cols()))?;
    cca(&sx, &sy)
}

/// SVCCA keeping, for each representation, the fewest components that explain `share` of
/// its variance (Raghu et al. use 0.99).
pub fn svcca_by_variance(x: &Matrix, y: &Matrix, share: f64) -> Result<Cca, AgentError> {
    check_pair("svcca_by_variance", x, y)?;
    let (px, py) = (Pca::fit(x)?, Pca::fit(y)?);
    let sx = px.transform(x, px.n_components_for(share))?;
    let sy = py.transform(y, py.n_components_for(share))?;
    cca(&sx, &sy)
}

/// Angular Procrustes shape distance (radians, `[0, π/2]`) between `x` `[n, p]` and `y`
/// `[n, q]`: invariant to translation, isotropic scaling and rotation/reflection.
pub fn procrustes_angular_distance(x: &Matrix, y: &Matrix) -> Result<f64, AgentError> {
    check_pair("procrustes_angular_distance", x, y)?;
    let (xc, _) = centre(x);
    let (yc, _) = centre(y);
    let (nx, ny) = (xc.frobenius_norm(), yc.frobenius_norm());
    if nx == 0.0 || ny == 0.0 {
        return Err(AgentError::InvalidParameter {
            name: "x/y",
            value: format!("norms {nx}/{ny}"),
            reason: "a representation is constant across samples",
        });
    }
    let nuclear: f64 = singular_values(&xc.t_matmul(&yc)?, "procrustes_angular_distance")?.iter().sum();
    Ok((nuclear / (nx * ny)).clamp(-1.0, 1.0).acos())
}

/// Eigenvalues of `XᵀX` below this (relative to the largest) are floored when whitening.
pub const WHITEN_EIG_TOL: f64 = 1e-10;

/// Partial whitening of the centred `x` `[n, p]` (Williams et al. 2021, `netrep`'s `whiten`):
/// `x Z` with `Z = V diag(α + (1 − α) λ̃^{-1/2}) Vᵀ` from `xᵀx = V diag(λ) Vᵀ`, `λ̃ = λ / mean(λ)`.
fn partial_whiten(x: &Matrix, alpha: f64) -> Result<Matrix, AgentError> {
    let (xc, _) = centre(x);
    if alpha >= 1.0 {
        return Ok(xc);
    }
    let evd = xc.t_matmul(&xc)?.to_faer().self_adjoint_eigen(faer::Side::Lower).map_err(|_| {
        AgentError::NoConvergence { context: "shape_distance", decomposition: "self-adjoint eigendecomposition" }
    })?;
    let s = evd.S().column_vector();
    let v = evd.U();
    let p = x.cols();
    let top = (0..p).map(|i| s[i]).fold(0.0, f64::max);
    // Eigenvalues relative to their mean, so `α` mixes the identity and the whitening in the
    // same units whatever the data's scale.
    let mean = (0..p).map(|i| s[i]).sum::<f64>() / p as f64;
    let d: Vec<f64> =
        (0..p).map(|i| alpha + (1.0 - alpha) * (s[i].max(WHITEN_EIG_TOL * top) / mean).powf(-0.5)).collect();
    let z = Matrix::from_fn(p, p, |i, j| (0..p).map(|k| v[(i, k)] * d[k] * v[(j, k)]).sum());
    xc.matmul(&z)
}

/// Generalized shape distance (radians, `[0, π/2]`, lower = more similar) with partial
/// whitening `alpha` in `[0, 1]`: 1 = [`procrustes_angular_distance`], 0 = fully whitened.
pub fn shape_distance(x: &Matrix, y: &Matrix, alpha: f64) -> Result<f64, AgentError> {
    check_pair("shape_distance", x, y)?;
    if !(0.0..=1.0).contains(&alpha) {
        return Err(AgentError::InvalidParameter {
            name: "alpha",
            value: alpha.to_string(),
            reason: "the whitening parameter must be in [0, 1]",
        });
    }
    procrustes_angular_distance(&partial_whiten(x, alpha)?, &partial_whiten(y, alpha)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::linalg::orthonormalize;
    use crate::stats::{shuffled_null, NullSummary};
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, StandardNormal};

    const N: usize = 2000;
    const P: usize = 10;
    /// Correlation / distance tolerance for exact invariances.
    const EXACT_TOL: f64 = 1e-9;

    fn gaussian(rows: usize, cols: usize, rng: &mut ChaCha8Rng) -> Matrix {
        Matrix::from_fn(rows, cols, |_, _| StandardNormal.sample(rng))
    }

    #[test]
    fn rotated_copy_has_cca_one_and_procrustes_zero() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mix = gaussian(P, P, &mut rng);
        let x = gaussian(N, P, &mut rng).matmul(&mix).unwrap();
        let rot = orthonormalize(&gaussian(P, P, &mut rng)).unwrap();
        let xr = x.matmul(&rot).unwrap();
        let y = Matrix::from_fn(N, P, |i, j| 3.0 * xr.get(i, j) + 5.0);
        let c = cca(&x, &y).unwrap();
        assert_eq!(c.correlations.len(), P);
        assert!(c.correlations.iter().all(|&r| (r - 1.0).abs() < EXACT_TOL), "{:?}", c.correlations);
        assert!(procrustes_angular_distance(&x, &y).unwrap() < 1e-6);
        assert!((svcca(&x, &y, 4).unwrap().mean() - 1.0).abs() < EXACT_TOL);
        // A non-isotropic stretch keeps CCA at 1 (any invertible map) but not the shape.
        let stretch = Matrix::from_fn(N, P, |i, j| x.get(i, j) * (1.0 + 3.0 * j as f64));
        assert!((cca(&x, &stretch).unwrap().mean() - 1.0).abs() < EXACT_TOL);
        assert!(procrustes_angular_distance(&x, &stretch).unwrap() > 0.1);
        // The shape metric: α = 1 is Procrustes; α = 0 forgives any invertible linear map.
        let p = procrustes_angular_distance(&x, &stretch).unwrap();
        assert!((shape_distance(&x, &stretch, 1.0).unwrap() - p).abs() < EXACT_TOL);
        assert!(shape_distance(&x, &stretch, 0.0).unwrap() < 1e-6);
        let half = shape_distance(&x, &stretch, 0.5).unwrap();
        assert!(half > 1e-6 && half < p, "{half} vs {p}");
        assert!(shape_distance(&x, &y, 1.5).is_err());
    }

    #[test]
    fn independent_noise_sits_at_the_shuffled_baseline() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let x = gaussian(N, P, &mut rng);
        let y = gaussian(N, P, &mut rng);
        let observed = cca(&x, &y).unwrap().mean();
        let idx: Vec<f64> = (0..N).map(|i| i as f64).collect();
        let null = shuffled_null(&idx, 50, &mut rng, |perm| {
            let rows: Vec<usize> = perm.iter().map(|&v| v as usize).collect();
            cca(&x, &y.select_rows(&rows)).unwrap().mean()
        });
        let s = NullSummary::new(observed, &null);
        assert!(s.p_two_sided > 0.05, "{observed} vs {s:?}");
        assert!(observed < 0.1);
        // Procrustes distance of independent noise is near π/2, and so is its shuffled null.
        let observed = procrustes_angular_distance(&x, &y).unwrap();
        assert!(observed > 1.3);
        let null = shuffled_null(&idx, 20, &mut rng, |perm| {
            let rows: Vec<usize> = perm.iter().map(|&v| v as usize).collect();
            procrustes_angular_distance(&x, &y.select_rows(&rows)).unwrap()
        });
        assert!(NullSummary::new(observed, &null).p_two_sided > 0.05);
        assert!(shape_distance(&x, &y, 0.0).unwrap() > 1.3);
    }

    #[test]
    fn rank_deficient_inputs_are_handled() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let x = gaussian(100, 3, &mut rng);
        // Duplicate column and a dead unit.
        let xd = Matrix::from_fn(100, 5, |i, j| match j {
            0..=2 => x.get(i, j),
            3 => x.get(i, 0),
            _ => 0.7,
        });
        let c = cca(&xd, &x).unwrap();
        assert_eq!((c.rank_x, c.rank_y), (3, 3));
        assert!(c.correlations.iter().all(|&r| (r - 1.0).abs() < EXACT_TOL));
        assert!(cca(&x, &x.select_rows(&[0, 1])).is_err());
    }
}
