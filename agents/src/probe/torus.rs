//! The geometry of a two-orientation memory manifold: is it a torus, and is it a Clifford
//! torus (both orientations stored equally, in orthogonal planes) or a standard one?
//! After Cueva, Ardalan, Tsodyks & Qian (2021), arXiv 2111.01275.
//!
//! Input: states on a grid of orientations, [`TorusGrid`] (`states [n1·n2, N]`, row
//! `i·n2 + j` for `θ1 = i·180°/n1`, `θ2 = j·180°/n2`). Orientation is 180°-periodic, so every
//! circle is taken in the doubled angle `2θ`.
//!
//! - PCA spectrum (an exact Clifford torus needs 4 dimensions; a standard torus fits in 3);
//! - the θ1 circle at each fixed θ2 (`j`): its first Fourier harmonic over `i`,
//!   `c_j = (2/n1) Σ_i x_ij e^{−2πi·i/n1}`, gives its plane (span of `Re c_j`, `Im c_j`),
//!   radius `√((|Re c_j|² + |Im c_j|²)/2)` and centre (mean over `i`); the θ2 circles likewise;
//! - principal angles between the θ1 plane at every θ2 and the θ2 plane at every θ1 (mean of
//!   the smaller and of the larger angle over all pairs): (90°, 90°) for a Clifford torus,
//!   (0°, 90°) for a standard torus, whose θ2 circle always contains the radial direction;
//! - the radius ratio `min(r̄1, r̄2) / max(r̄1, r̄2)` in (0, 1] (1: both stored equally);
//! - the **Clifford index** in [0, 1], the mean of four scores each 1 for an exact Clifford
//!   torus: radius constancy (`1 − CV` of the θ1 circle's radius over θ2 and of the θ2
//!   circle's over θ1, clamped at 0), plane constancy (mean `cos²` of the principal angles
//!   between each circle's plane and the mean plane of its family), orthogonality (mean
//!   `sin²` of the principal angles between θ1 and θ2 planes) and balance (the radius ratio).
//!   An exact standard torus with radii `R = 2`, `r = 1` scores 0.67 (see the tests); the
//!   centre of the θ1 circle moves with θ2 in both tori, orthogonally to its plane, so the
//!   centre enters through the plane and orthogonality scores.

use super::linalg::{principal_angles, Pca};
use super::matrix::{dot, norm, Matrix};
use crate::error::AgentError;
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;

/// Fewest grid values per orientation the analysis accepts (the first harmonic of a circle
/// sampled at fewer points aliases with the higher ones).
pub const MIN_GRID: usize = 8;
/// Share of the variance the reported dimensionality must reach.
pub const DIM_SHARE: f64 = 0.95;

/// States on an orientation grid.
#[derive(Debug, Clone)]
pub struct TorusGrid {
    /// θ1 values `n1` (θ1 = i·180°/n1).
    pub n1: usize,
    /// θ2 values `n2`.
    pub n2: usize,
    /// `[n1·n2, N]`, row `i·n2 + j`.
    pub states: Matrix,
}

impl TorusGrid {
    /// Checks the grid's sizes: each at least [`MIN_GRID`], rows `n1·n2`, finite states.
    pub fn new(n1: usize, n2: usize, states: Matrix) -> Result<Self, AgentError> {
        for (name, n) in [("n1 (θ1 values)", n1), ("n2 (θ2 values)", n2)] {
            if n < MIN_GRID {
                return Err(AgentError::Probe(format!(
                    "torus: the orientation grid has {name} = {n}; the analysis needs ≥ {MIN_GRID} per orientation"
                )));
            }
        }
        if states.rows() != n1 * n2 {
            return Err(AgentError::Probe(format!(
                "torus: {} state rows for a {n1} × {n2} grid (needs {})",
                states.rows(),
                n1 * n2
            )));
        }
        if states.cols() < 2 {
            return Err(AgentError::Probe(format!("torus: states have {} units (needs ≥ 2)", states.cols())));
        }
        if let Some(k) = states.first_non_finite() {
            return Err(AgentError::Probe(format!("torus: state entry {k} is not finite")));
        }
        Ok(Self { n1, n2, states })
    }

    fn row(&self, i: usize, j: usize) -> &[f64] {
        self.states.row(i * self.n2 + j)
    }
}

/// One circle of the family: its first harmonic's plane, radius and centre.
#[derive(Debug, Clone)]
pub struct Circle {
    /// Orthonormal basis of its plane `[N, 2]` (`None` when the circle has zero radius).
    pub plane: Option<Matrix>,
    /// Radius of the first harmonic.
    pub radius: f64,
    /// Centre (mean over the circle's points) `[N]`.
    pub centre: Vec<f64>,
    /// Share of the circle's variance about its centre in the first harmonic, in [0, 1]
    /// (1 for an exact circle traversed once per 180°).
    pub harmonic_share: f64,
}

/// The first-harmonic circle through `points` (equally spaced in `2θ` over one period).
pub fn circle(points: &[&[f64]]) -> Circle {
    let n = points.len();
    let d = points[0].len();
    let mut centre = vec![0.0; d];
    for p in points {
        for (c, v) in centre.iter_mut().zip(*p) {
            *c += v / n as f64;
        }
    }
    let (mut re, mut im) = (vec![0.0; d], vec![0.0; d]);
    let mut var = 0.0;
    for (k, p) in points.iter().enumerate() {
        let a = 2.0 * PI * k as f64 / n as f64;
        for u in 0..d {
            let x = p[u] - centre[u];
            re[u] += 2.0 / n as f64 * x * a.cos();
            im[u] += 2.0 / n as f64 * x * a.sin();
            var += x * x / n as f64;
        }
    }
    let (nr, ni) = (dot(&re, &re), dot(&im, &im));
    let radius = ((nr + ni) / 2.0).sqrt();
    let harmonic_share = if var > 0.0 { ((nr + ni) / 2.0 / var).min(1.0) } else { 0.0 };
    let plane = plane_basis(&re, &im);
    Circle { plane, radius, centre, harmonic_share }
}

/// Orthonormal basis of span{a, b} `[N, 2]`, or `None` when they do not span a plane.
fn plane_basis(a: &[f64], b: &[f64]) -> Option<Matrix> {
    let na = norm(a);
    if na <= 1e-12 {
        return None;
    }
    let e1: Vec<f64> = a.iter().map(|v| v / na).collect();
    let p = dot(b, &e1);
    let r: Vec<f64> = b.iter().zip(&e1).map(|(v, e)| v - p * e).collect();
    let nr = norm(&r);
    if nr <= 1e-9 * na.max(norm(b)) {
        return None;
    }
    let d = a.len();
    Some(Matrix::from_fn(d, 2, |i, j| if j == 0 { e1[i] } else { r[i] / nr }))
}

/// Top-2 eigenvectors of the mean projector of a family of planes, and the mean `cos²` of
/// the principal angles between each plane and it (1 when every plane is the same).
fn plane_constancy(planes: &[&Matrix]) -> Result<f64, AgentError> {
    let d = planes[0].rows();
    let mut p = Matrix::zeros(d, d);
    for q in planes {
        let qq = q.matmul(&q.transpose())?;
        for (a, b) in p.data_mut().iter_mut().zip(qq.data()) {
            *a += b / planes.len() as f64;
        }
    }
    let pca_like = super::linalg::thin_svd(&p, "torus plane_constancy")?;
    let mean_plane = pca_like.u.first_cols(2);
    let mut s = 0.0;
    for q in planes {
        let ang = principal_angles(&mean_plane, q)?;
        s += ang.iter().map(|a| a.cos().powi(2)).sum::<f64>() / 2.0;
    }
    Ok(s / planes.len() as f64)
}

fn cv(v: &[f64]) -> f64 {
    let m = v.iter().sum::<f64>() / v.len() as f64;
    if m <= 0.0 {
        return f64::INFINITY;
    }
    let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / v.len() as f64;
    var.sqrt() / m
}

/// The geometry of a torus grid (see the module docs for each number's definition).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TorusGeometry {
    /// Explained-variance ratios of the first 10 principal components.
    pub pca_ratio: Vec<f64>,
    /// Components needed for [`DIM_SHARE`] of the variance.
    pub dims_95: usize,
    /// Share of the variance in PC 4 (≈ 0.25 for a Clifford torus, ≈ 0 for a standard one).
    pub pc4_share: f64,
    /// Mean over all (θ1 plane, θ2 plane) pairs of the smaller principal angle, degrees.
    pub angle_small_deg: f64,
    /// Mean of the larger principal angle, degrees.
    pub angle_large_deg: f64,
    /// Mean radius of the θ1 circles (over θ2).
    pub radius1: f64,
    /// Mean radius of the θ2 circles (over θ1).
    pub radius2: f64,
    /// `min / max` of the two, in (0, 1].
    pub radius_ratio: f64,
    /// Coefficient of variation of the θ1 circle's radius over θ2.
    pub radius1_cv: f64,
    /// Coefficient of variation of the θ2 circle's radius over θ1.
    pub radius2_cv: f64,
    /// RMS displacement of the θ1 circle's centre over θ2, in units of `radius1`.
    pub centre1_shift: f64,
    /// Mean first-harmonic share of the θ1 and θ2 circles, in [0, 1].
    pub harmonic_share: f64,
    /// Sub-scores of the Clifford index, each in [0, 1].
    pub radius_constancy: f64,
    /// Plane constancy score.
    pub plane_constancy: f64,
    /// Orthogonality score.
    pub orthogonality: f64,
    /// The Clifford index in [0, 1] (1: exact Clifford torus).
    pub clifford_index: f64,
}

/// Analyses the geometry of `g` (see the module docs).
pub fn geometry(g: &TorusGrid) -> Result<TorusGeometry, AgentError> {
    let pca = Pca::fit(&g.states)?;
    let ratio = &pca.explained_variance_ratio;
    let c1: Vec<Circle> = (0..g.n2).map(|j| circle(&(0..g.n1).map(|i| g.row(i, j)).collect::<Vec<_>>())).collect();
    let c2: Vec<Circle> = (0..g.n1).map(|i| circle(&(0..g.n2).map(|j| g.row(i, j)).collect::<Vec<_>>())).collect();
    let p1: Vec<&Matrix> = c1.iter().filter_map(|c| c.plane.as_ref()).collect();
    let p2: Vec<&Matrix> = c2.iter().filter_map(|c| c.plane.as_ref()).collect();
    if p1.len() < c1.len() / 2 || p2.len() < c2.len() / 2 {
        return Err(AgentError::Probe(format!(
            "torus: the states do not vary with {} (planes found for {} of {} θ1 circles, {} of {} θ2 circles)",
            if p1.len() < c1.len() / 2 { "θ1" } else { "θ2" },
            p1.len(),
            c1.len(),
            p2.len(),
            c2.len()
        )));
    }
    let (mut small, mut large, mut orth, mut pairs) = (0.0, 0.0, 0.0, 0.0);
    for a in &p1 {
        for b in &p2 {
            let ang = principal_angles(a, b)?;
            small += ang[0];
            large += ang[1];
            orth += ang.iter().map(|x| x.sin().powi(2)).sum::<f64>() / 2.0;
            pairs += 1.0;
        }
    }
    let r1: Vec<f64> = c1.iter().map(|c| c.radius).collect();
    let r2: Vec<f64> = c2.iter().map(|c| c.radius).collect();
    let (m1, m2) = (r1.iter().sum::<f64>() / r1.len() as f64, r2.iter().sum::<f64>() / r2.len() as f64);
    let radius_ratio = if m1.max(m2) > 0.0 { m1.min(m2) / m1.max(m2) } else { 0.0 };
    let (cv1, cv2) = (cv(&r1), cv(&r2));
    let radius_constancy = ((1.0 - cv1).max(0.0) + (1.0 - cv2).max(0.0)) / 2.0;
    let plane_constancy = (plane_constancy(&p1)? + plane_constancy(&p2)?) / 2.0;
    let orthogonality = orth / pairs;
    let d = g.states.cols();
    let mut mc = vec![0.0; d];
    for c in &c1 {
        for (m, v) in mc.iter_mut().zip(&c.centre) {
            *m += v / c1.len() as f64;
        }
    }
    let shift = (c1.iter().map(|c| c.centre.iter().zip(&mc).map(|(a, b)| (a - b).powi(2)).sum::<f64>()).sum::<f64>()
        / c1.len() as f64)
        .sqrt();
    let harmonic_share = (c1.iter().chain(&c2).map(|c| c.harmonic_share).sum::<f64>()) / (c1.len() + c2.len()) as f64;
    Ok(TorusGeometry {
        pca_ratio: ratio.iter().take(10).copied().collect(),
        dims_95: pca.n_components_for(DIM_SHARE),
        pc4_share: ratio.get(3).copied().unwrap_or(0.0),
        angle_small_deg: (small / pairs).to_degrees(),
        angle_large_deg: (large / pairs).to_degrees(),
        radius1: m1,
        radius2: m2,
        radius_ratio,
        radius1_cv: cv1,
        radius2_cv: cv2,
        centre1_shift: if m1 > 0.0 { shift / m1 } else { f64::NAN },
        harmonic_share,
        radius_constancy,
        plane_constancy,
        orthogonality,
        clifford_index: (radius_constancy + plane_constancy + orthogonality + radius_ratio) / 4.0,
    })
}

/// Synthetic tori for tests, controls and the report's reference figures.
pub mod synthetic {
    use super::*;
    use rand::Rng;
    use rand_distr::StandardNormal;

    /// A random orthonormal frame `[n, k]` (QR of a Gaussian matrix).
    pub fn random_frame<R: Rng>(n: usize, k: usize, rng: &mut R) -> Matrix {
        let g = Matrix::from_fn(n, k, |_, _| rng.sample::<f64, _>(StandardNormal));
        super::super::linalg::orthonormalize(&g).expect("a Gaussian matrix has full rank")
    }

    /// Points `[n1·n2, n]` of a torus on the grid, embedded by a random orthonormal frame in
    /// `R^n` with isotropic Gaussian noise `noise`: Clifford (`clifford = true`: radius-`r`
    /// circles in orthogonal planes, `(r cos a, r sin a, r cos b, r sin b)`) or standard
    /// (`((R + r cos b) cos a, (R + r cos b) sin a, r sin b)`), with `a = 2θ1`, `b = 2θ2`.
    #[allow(clippy::too_many_arguments)]
    pub fn torus<R: Rng>(
        clifford: bool,
        big_r: f64,
        r: f64,
        n1: usize,
        n2: usize,
        n: usize,
        noise: f64,
        rng: &mut R,
    ) -> TorusGrid {
        let frame = random_frame(n, 4, rng);
        let mut data = Vec::with_capacity(n1 * n2 * n);
        for i in 0..n1 {
            for j in 0..n2 {
                let a = 2.0 * PI * i as f64 / n1 as f64;
                let b = 2.0 * PI * j as f64 / n2 as f64;
                let low = if clifford {
                    [r * a.cos(), r * a.sin(), r * b.cos(), r * b.sin()]
                } else {
                    [(big_r + r * b.cos()) * a.cos(), (big_r + r * b.cos()) * a.sin(), r * b.sin(), 0.0]
                };
                for u in 0..n {
                    let x: f64 = (0..4).map(|k| frame.get(u, k) * low[k]).sum();
                    data.push(x + noise * rng.sample::<f64, _>(StandardNormal));
                }
            }
        }
        TorusGrid::new(n1, n2, Matrix::new(n1 * n2, n, data).expect("shape")).expect("valid grid")
    }
}

#[cfg(test)]
mod tests {
    use super::synthetic::torus;
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn exact_clifford_torus_scores_one_and_standard_torus_does_not() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let c = geometry(&torus(true, 0.0, 1.0, 16, 16, 50, 0.0, &mut rng)).unwrap();
        assert_eq!(c.dims_95, 4);
        assert!((c.pc4_share - 0.25).abs() < 1e-9, "{c:?}");
        assert!((c.angle_small_deg - 90.0).abs() < 1e-6 && (c.angle_large_deg - 90.0).abs() < 1e-6);
        assert!((c.radius_ratio - 1.0).abs() < 1e-9 && (c.radius1 - 1.0).abs() < 1e-9);
        assert!((c.clifford_index - 1.0).abs() < 1e-9, "{}", c.clifford_index);
        assert!((c.harmonic_share - 1.0).abs() < 1e-9);
        // The θ1 circle's centre runs round the θ2 circle: RMS shift = r2 / r1 = 1.
        assert!((c.centre1_shift - 1.0).abs() < 1e-9);

        let s = geometry(&torus(false, 2.0, 1.0, 16, 16, 50, 0.0, &mut rng)).unwrap();
        assert_eq!(s.dims_95, 3);
        assert!(s.pc4_share < 1e-12);
        // The θ2 circle always contains the radial direction of the θ1 plane.
        assert!(s.angle_small_deg < 1e-6 && (s.angle_large_deg - 90.0).abs() < 1e-6, "{s:?}");
        assert!((s.radius1 - 2.0).abs() < 1e-9 && (s.radius2 - 1.0).abs() < 1e-9);
        assert!((s.radius_ratio - 0.5).abs() < 1e-9);
        // CV of R + r cos b = (r/√2)/R.
        assert!((s.radius1_cv - 0.5f64.sqrt() / 2.0).abs() < 1e-9 && s.radius2_cv < 1e-9);
        assert!((s.orthogonality - 0.5).abs() < 1e-9);
        // θ1 planes all equal; θ2 planes rotate: cos² overlap (1 + cos²)/2 averages 3/4.
        assert!((s.plane_constancy - (1.0 + 0.75) / 2.0).abs() < 1e-9, "{}", s.plane_constancy);
        let want = ((1.0 - 0.5f64.sqrt() / 2.0 + 1.0) / 2.0 + 0.875 + 0.5 + 0.5) / 4.0;
        assert!((s.clifford_index - want).abs() < 1e-9 && (s.clifford_index - 0.67).abs() < 0.01);
    }

    #[test]
    fn noisy_tori_in_high_dimension_are_still_told_apart() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        for seed in 0..3 {
            let _ = seed;
            let c = geometry(&torus(true, 0.0, 1.0, 12, 12, 100, 0.05, &mut rng)).unwrap();
            let s = geometry(&torus(false, 2.0, 1.0, 12, 12, 100, 0.05, &mut rng)).unwrap();
            assert!(c.clifford_index > 0.9 && s.clifford_index < 0.75, "{} {}", c.clifford_index, s.clifford_index);
            assert!(c.angle_small_deg > 75.0 && s.angle_small_deg < 20.0);
            assert!(c.pc4_share > 0.2 && s.pc4_share < 0.02);
        }
    }

    #[test]
    fn coarse_grids_and_flat_states_are_refused_by_name() {
        let e = TorusGrid::new(4, 16, Matrix::zeros(64, 3)).unwrap_err().to_string();
        assert!(e.contains("n1") && e.contains("= 4") && e.contains("≥ 8"), "{e}");
        let e = TorusGrid::new(8, 8, Matrix::zeros(60, 3)).unwrap_err().to_string();
        assert!(e.contains("60 state rows") && e.contains("64"), "{e}");
        // States that ignore θ2 have no θ2 circles.
        let g = TorusGrid::new(
            8,
            8,
            Matrix::from_fn(64, 3, |r, u| {
                let a = 2.0 * PI * (r / 8) as f64 / 8.0;
                [a.cos(), a.sin(), 0.0][u]
            }),
        )
        .unwrap();
        let e = geometry(&g).unwrap_err().to_string();
        assert!(e.contains("do not vary with θ2"), "{e}");
    }
}
