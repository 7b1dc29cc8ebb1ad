//! Fixed points and linearization of a recurrent map (issue 9).
//!
//! Follows Sussillo & Barak (2013), "Opening the black box: low-dimensional dynamics in
//! high-dimensional recurrent neural networks", Neural Computation 25:626–649, and Golub &
//! Sussillo (2018), FixedPointFinder (github.com/mattgolub/fixed-point-finder): minimize
//! `q(h) = ½‖F(h) − h‖²` from many initial states (here by Levenberg–Marquardt on the
//! residual `F(h) − h`), keep unique points (L2 tolerance 1e-3), drop points far from the
//! initial states (beyond 10× their mean distance to their centroid), and linearize: Jacobian
//! eigenvalues sorted by magnitude, unstable modes `|λ| > 1`, time constants `−dt / ln|λ|`.
//!
//! FixedPointFinder's own optimizer, Adam on `q` with an adaptive learning rate, is the
//! [`FixedPointMethod::Adam`] mode (for parity with its results); Levenberg–Marquardt is the
//! default because it reaches `q < 1e-12` in tens of iterations instead of thousands.
//!
//! The map is a closure `F(h) -> h'` for a fixed input (hidden size `n`); its Jacobian
//! `∂F/∂h` `[n, n]` is a second closure or central finite differences.

use faer::linalg::solvers::Solve;
use faer::{Mat, Side};
use serde::{Deserialize, Serialize};

use super::matrix::check_finite;
use super::Matrix;
use crate::error::AgentError;

/// The optimizer of the fixed-point search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum FixedPointMethod {
    /// Levenberg–Marquardt on the residual `F(h) − h` (default).
    #[value(name = "lm")]
    LevenbergMarquardt,
    /// Adam on `q(h)` (FixedPointFinder's method): the learning rate grows by
    /// [`ADAM_RATE_UP`] after a step that lowered `q` and halves after one that did not.
    Adam,
}

/// Adam's learning-rate growth after an improving step (FixedPointFinder's adaptive rate).
pub const ADAM_RATE_UP: f64 = 1.2;
/// Adam's learning-rate factor after a step that raised `q`.
pub const ADAM_RATE_DOWN: f64 = 0.5;
/// Adam's moment decay rates and epsilon (Kingma & Ba defaults).
const ADAM_BETAS: (f64, f64, f64) = (0.9, 0.999, 1e-12);

/// Settings of the fixed-point search (defaults from FixedPointFinder where it has them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FixedPointConfig {
    /// Stop when `q(h)` falls below this (FixedPointFinder `tol_q`).
    pub tol_q: f64,
    /// Points closer than this (L2) are the same point (FixedPointFinder `tol_unique`).
    pub tol_unique: f64,
    /// Drop points farther from the initial states' centroid than this many times the
    /// initial states' mean distance to it (FixedPointFinder `outlier_distance_scale`).
    pub outlier_distance_scale: f64,
    /// Points whose final `q` is above this are slow points, not fixed points, and dropped.
    pub max_q: f64,
    /// Levenberg–Marquardt iterations per initial state.
    pub max_iters: usize,
    /// Initial Levenberg–Marquardt damping `μ` (added to `JᵀJ` as `μ I`).
    pub initial_damping: f64,
    /// Time step of the map, for time constants (1 gives them in steps).
    pub dt: f64,
    /// Relative step of central finite differences when no Jacobian is given.
    pub fd_step: f64,
    /// The optimizer.
    pub method: FixedPointMethod,
    /// Adam mode: initial learning rate.
    pub adam_learning_rate: f64,
    /// Adam mode: iterations per initial state.
    pub adam_max_iters: usize,
}

impl Default for FixedPointConfig {
    fn default() -> Self {
        Self {
            tol_q: 1e-12,
            tol_unique: 1e-3,
            outlier_distance_scale: 10.0,
            max_q: 1e-8,
            max_iters: 200,
            initial_damping: 1e-3,
            dt: 1.0,
            fd_step: 1e-6,
            method: FixedPointMethod::LevenbergMarquardt,
            adam_learning_rate: 0.01,
            adam_max_iters: 20_000,
        }
    }
}

/// A complex eigenvalue.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Eigenvalue {
    /// Real part.
    pub re: f64,
    /// Imaginary part.
    pub im: f64,
}

impl Eigenvalue {
    /// `|λ|`.
    pub fn modulus(&self) -> f64 {
        self.re.hypot(self.im)
    }
}

/// One fixed point and its linearization.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FixedPoint {
    /// The state `h*` `[n]`.
    pub state: Vec<f64>,
    /// `q(h*) = ½‖F(h*) − h*‖²`.
    #[serde(with = "engram_envs::serde_nan::f64_or_null")]
    pub q: f64,
    /// Levenberg–Marquardt iterations used.
    pub iterations: usize,
    /// Eigenvalues of `∂F/∂h` at `h*`, by decreasing modulus.
    pub eigenvalues: Vec<Eigenvalue>,
    /// Number of eigenvalues with `|λ| > 1`.
    pub n_unstable: usize,
    /// `−dt / ln|λ|` per eigenvalue (same order): decay time for `|λ| < 1`, negative growth
    /// time for `|λ| > 1`, infinite for `|λ| = 1`.
    #[serde(with = "engram_envs::serde_nan::vec_f64_or_null")]
    pub time_constants: Vec<f64>,
}

impl FixedPoint {
    /// Whether all eigenvalues lie inside the unit circle.
    pub fn is_stable(&self) -> bool {
        self.n_unstable == 0
    }
}

/// The result of a fixed-point search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FixedPointSet {
    /// Unique fixed points, by increasing `q`.
    pub points: Vec<FixedPoint>,
    /// Number of initial states.
    pub n_initial: usize,
    /// Searches that ended with `q > max_q` (slow points, dropped).
    pub n_not_converged: usize,
    /// Duplicates merged (within `tol_unique`).
    pub n_duplicates: usize,
    /// Distance outliers dropped.
    pub n_outliers: usize,
}

/// A map `F(h) -> h'` (hidden size `n`).
pub type MapFn<'a> = &'a dyn Fn(&[f64]) -> Vec<f64>;
/// Its Jacobian `∂F/∂h` `[n, n]` (row `i`, column `j` = `∂F_i/∂h_j`).
pub type JacobianFn<'a> = &'a dyn Fn(&[f64]) -> Matrix;

/// Central finite-difference Jacobian of `map` at `h` `[n, n]`.
pub fn finite_difference_jacobian(map: MapFn<'_>, h: &[f64], rel_step: f64) -> Matrix {
    let n = h.len();
    let mut jac = Matrix::zeros(map(h).len(), n);
    let mut hp = h.to_vec();
    for j in 0..n {
        let step = rel_step * h[j].abs().max(1.0);
        hp[j] = h[j] + step;
        let fp = map(&hp);
        hp[j] = h[j] - step;
        let fm = map(&hp);
        hp[j] = h[j];
        for i in 0..fp.len() {
            jac.set(i, j, (fp[i] - fm[i]) / (2.0 * step));
        }
    }
    jac
}

/// `∂F/∂h` at `h`: the given Jacobian, else central finite differences.
fn jacobian_at(map: MapFn<'_>, jacobian: Option<JacobianFn<'_>>, h: &[f64], config: &FixedPointConfig) -> Matrix {
    match jacobian {
        Some(j) => j(h),
        None => finite_difference_jacobian(map, h, config.fd_step),
    }
}

fn q_of(map: MapFn<'_>, h: &[f64]) -> (Vec<f64>, f64) {
    let r: Vec<f64> = map(h).iter().zip(h).map(|(f, x)| f - x).collect();
    let q = 0.5 * r.iter().map(|v| v * v).sum::<f64>();
    (r, q)
}

/// Levenberg–Marquardt on the residual `r(h) = F(h) − h` from one initial state; returns
/// `(h, q, iterations)`.
pub fn minimize_q(
    map: MapFn<'_>,
    jacobian: Option<JacobianFn<'_>>,
    h0: &[f64],
    config: &FixedPointConfig,
) -> (Vec<f64>, f64, usize) {
    const DAMPING_UP: f64 = 10.0;
    const DAMPING_DOWN: f64 = 0.3;
    const MAX_DAMPING: f64 = 1e16;
    let n = h0.len();
    let mut h = h0.to_vec();
    let (mut r, mut q) = q_of(map, &h);
    let mut mu = config.initial_damping;
    let mut it = 0;
    while it < config.max_iters && q > config.tol_q && q.is_finite() {
        it += 1;
        let jf = jacobian_at(map, jacobian, &h, config);
        // Jacobian of the residual: ∂F/∂h − I.
        let j = Mat::from_fn(n, n, |a, b| jf.get(a, b) - if a == b { 1.0 } else { 0.0 });
        let jtj = j.transpose() * j.as_ref();
        let rv = Mat::from_fn(n, 1, |a, _| r[a]);
        let g = j.transpose() * rv.as_ref();
        let mut improved = false;
        while mu < MAX_DAMPING {
            let a = Mat::from_fn(n, n, |x, y| jtj[(x, y)] + if x == y { mu } else { 0.0 });
            let Ok(llt) = a.llt(Side::Lower) else {
                mu *= DAMPING_UP;
                continue;
            };
            let mut step = Mat::from_fn(n, 1, |x, _| -g[(x, 0)]);
            llt.solve_in_place(step.as_mut());
            let cand: Vec<f64> = (0..n).map(|x| h[x] + step[(x, 0)]).collect();
            let (rc, qc) = q_of(map, &cand);
            if qc < q {
                h = cand;
                r = rc;
                q = qc;
                mu = (mu * DAMPING_DOWN).max(f64::MIN_POSITIVE);
                improved = true;
                break;
            }
            mu *= DAMPING_UP;
        }
        if !improved {
            break;
        }
    }
    (h, q, it)
}

/// Adam on `q(h)` from one initial state (gradient `(∂F/∂h − I)ᵀ r`); returns
/// `(h, q, iterations)` at the lowest `q` seen.
pub fn minimize_q_adam(
    map: MapFn<'_>,
    jacobian: Option<JacobianFn<'_>>,
    h0: &[f64],
    config: &FixedPointConfig,
) -> (Vec<f64>, f64, usize) {
    let (b1, b2, eps) = ADAM_BETAS;
    let n = h0.len();
    let mut h = h0.to_vec();
    let (mut r, mut q) = q_of(map, &h);
    let (mut best_h, mut best_q) = (h.clone(), q);
    let (mut m, mut v) = (vec![0.0; n], vec![0.0; n]);
    let mut lr = config.adam_learning_rate;
    let mut it = 0;
    while it < config.adam_max_iters && best_q > config.tol_q && q.is_finite() {
        it += 1;
        let jf = jacobian_at(map, jacobian, &h, config);
        // ∇q = (J − I)ᵀ r.
        let mut g = jf.t_mat_vec(&r);
        g.iter_mut().zip(&r).for_each(|(g, r)| *g -= r);
        let (c1, c2) = (1.0 - b1.powi(it as i32), 1.0 - b2.powi(it as i32));
        for k in 0..n {
            m[k] = b1 * m[k] + (1.0 - b1) * g[k];
            v[k] = b2 * v[k] + (1.0 - b2) * g[k] * g[k];
            h[k] -= lr * (m[k] / c1) / ((v[k] / c2).sqrt() + eps);
        }
        let (rn, qn) = q_of(map, &h);
        lr *= if qn < q { ADAM_RATE_UP } else { ADAM_RATE_DOWN };
        (r, q) = (rn, qn);
        if q < best_q {
            (best_h, best_q) = (h.clone(), q);
        }
    }
    (best_h, best_q, it)
}

/// Eigenvalues of a square matrix `[n, n]` by decreasing modulus (faer's general EVD).
pub fn eigenvalues_by_modulus(m: &Matrix) -> Result<Vec<Eigenvalue>, AgentError> {
    check_finite(m, "eigenvalues_by_modulus")?;
    if m.rows() != m.cols() {
        return Err(AgentError::ShapeMismatch {
            context: "eigenvalues_by_modulus",
            expected: "a square matrix".into(),
            actual: format!("{:?}", m.shape()),
        });
    }
    let ev = m.to_faer().eigenvalues().map_err(|_| AgentError::NoConvergence {
        context: "eigenvalues_by_modulus",
        decomposition: "eigendecomposition",
    })?;
    let mut out: Vec<Eigenvalue> = ev.iter().map(|c| Eigenvalue { re: c.re, im: c.im }).collect();
    out.sort_by(|a, b| b.modulus().total_cmp(&a.modulus()).then(b.im.total_cmp(&a.im)));
    Ok(out)
}

/// Linearizes `map` at `h`: eigenvalues, unstable count and time constants.
pub fn linearize(
    map: MapFn<'_>,
    jacobian: Option<JacobianFn<'_>>,
    h: &[f64],
    config: &FixedPointConfig,
) -> Result<(Vec<Eigenvalue>, usize, Vec<f64>), AgentError> {
    let jf = jacobian_at(map, jacobian, h, config);
    let ev = eigenvalues_by_modulus(&jf)?;
    let n_unstable = ev.iter().filter(|e| e.modulus() > 1.0).count();
    let tau = ev.iter().map(|e| -config.dt / e.modulus().ln()).collect();
    Ok((ev, n_unstable, tau))
}

/// Searches for fixed points of `map` from every row of `initial_states` `[n_inits, n]`.
pub fn find_fixed_points(
    map: MapFn<'_>,
    jacobian: Option<JacobianFn<'_>>,
    initial_states: &Matrix,
    config: &FixedPointConfig,
) -> Result<FixedPointSet, AgentError> {
    check_finite(initial_states, "find_fixed_points initial_states")?;
    let (n_init, n) = initial_states.shape();
    if n_init == 0 {
        return Err(AgentError::TooFew { context: "find_fixed_points", what: "initial states", needed: 1, got: 0 });
    }
    let probe = map(initial_states.row(0));
    if probe.len() != n {
        return Err(AgentError::ShapeMismatch {
            context: "find_fixed_points map output",
            expected: format!("{n} values"),
            actual: format!("{}", probe.len()),
        });
    }
    let minimize = match config.method {
        FixedPointMethod::LevenbergMarquardt => minimize_q,
        FixedPointMethod::Adam => minimize_q_adam,
    };
    let mut found: Vec<(Vec<f64>, f64, usize)> =
        (0..n_init).map(|i| minimize(map, jacobian, initial_states.row(i), config)).collect();
    let before = found.len();
    found.retain(|(_, q, _)| q.is_finite() && *q <= config.max_q);
    let n_not_converged = before - found.len();
    found.sort_by(|a, b| a.1.total_cmp(&b.1));
    let mut unique: Vec<(Vec<f64>, f64, usize)> = Vec::new();
    for f in found {
        if unique.iter().all(|u| dist(&u.0, &f.0) > config.tol_unique) {
            unique.push(f);
        }
    }
    let n_duplicates = before - n_not_converged - unique.len();
    let centroid = super::linalg::column_means(initial_states);
    let spread = (0..n_init).map(|i| dist(initial_states.row(i), &centroid)).sum::<f64>() / n_init as f64;
    let kept_before = unique.len();
    if spread > 0.0 {
        unique.retain(|u| dist(&u.0, &centroid) <= config.outlier_distance_scale * spread);
    }
    let n_outliers = kept_before - unique.len();
    let points = unique
        .into_iter()
        .map(|(state, q, iterations)| {
            let (eigenvalues, n_unstable, time_constants) = linearize(map, jacobian, &state, config)?;
            Ok(FixedPoint { state, q, iterations, eigenvalues, n_unstable, time_constants })
        })
        .collect::<Result<Vec<_>, AgentError>>()?;
    Ok(FixedPointSet { points, n_initial: n_init, n_not_converged, n_duplicates, n_outliers })
}

fn dist(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>().sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Fixed-point location tolerance (L2).
    const STATE_TOL: f64 = 1e-6;
    /// Eigenvalue tolerance (analytic Jacobian).
    const EIG_TOL: f64 = 1e-9;
    /// Fixed-point location tolerance of the Adam mode (q ≤ max_q = 1e-8).
    const ADAM_STATE_TOL: f64 = 1e-3;
    /// Eigenvalue tolerance with finite differences.
    const FD_EIG_TOL: f64 = 1e-6;

    /// `A = P diag(d) P⁻¹` with a fixed non-orthogonal `P`, and its inverse applied to `b`.
    fn linear_system(d: [f64; 3]) -> (Matrix, Vec<f64>) {
        let p = Matrix::new(3, 3, vec![1.0, 0.5, 0.0, 0.0, 1.0, 0.3, 0.2, 0.0, 1.0]).unwrap();
        let pinv = crate::probe::linalg::pseudo_inverse(&p).unwrap();
        let dm = Matrix::from_fn(3, 3, |i, j| if i == j { d[i] } else { 0.0 });
        (p.matmul(&dm).unwrap().matmul(&pinv).unwrap(), vec![0.3, -0.2, 0.5])
    }

    #[test]
    fn linear_map_fixed_point_and_spectrum() {
        let (a, b) = linear_system([0.9, -0.5, 0.2]);
        let map = |h: &[f64]| -> Vec<f64> { a.mat_vec(h).iter().zip(&b).map(|(x, y)| x + y).collect() };
        let jac = |_: &[f64]| a.clone();
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let inits = Matrix::from_fn(20, 3, |_, _| rng.gen_range(-2.0..2.0));
        let set = find_fixed_points(&map, Some(&jac), &inits, &FixedPointConfig::default()).unwrap();
        assert_eq!(set.points.len(), 1);
        assert_eq!(set.n_duplicates, 19);
        let p = &set.points[0];
        // h* = (I − A)⁻¹ b.
        let i_minus_a = Matrix::from_fn(3, 3, |i, j| if i == j { 1.0 } else { 0.0 } - a.get(i, j));
        let expected = crate::probe::linalg::least_squares(&i_minus_a, &Matrix::column(&b)).unwrap();
        for k in 0..3 {
            assert!((p.state[k] - expected.get(k, 0)).abs() < STATE_TOL);
        }
        assert!(p.q < 1e-12);
        let moduli: Vec<f64> = p.eigenvalues.iter().map(|e| e.modulus()).collect();
        for (m, e) in moduli.iter().zip([0.9, 0.5, 0.2]) {
            assert!((m - e).abs() < EIG_TOL, "{moduli:?}");
        }
        assert!((p.eigenvalues[1].re + 0.5).abs() < EIG_TOL);
        assert!(p.is_stable());
        assert!((p.time_constants[0] - (-1.0 / 0.9f64.ln())).abs() < 1e-6);

        let (a2, _) = linear_system([1.5, 0.5, 0.2]);
        let map2 = |h: &[f64]| -> Vec<f64> { a2.mat_vec(h).iter().zip(&b).map(|(x, y)| x + y).collect() };
        let set2 = find_fixed_points(&map2, None, &inits, &FixedPointConfig::default()).unwrap();
        assert_eq!(set2.points.len(), 1);
        assert_eq!(set2.points[0].n_unstable, 1);
        assert!((set2.points[0].eigenvalues[0].modulus() - 1.5).abs() < FD_EIG_TOL);
        assert!(set2.points[0].time_constants[0] < 0.0);
    }

    #[test]
    fn tanh_network_has_two_stable_points_and_a_saddle() {
        // h' = tanh(W h), W = diag(2, 0.5): x = tanh(2x) has roots 0 and ±x*, y = 0.
        let map = |h: &[f64]| vec![(2.0 * h[0]).tanh(), (0.5 * h[1]).tanh()];
        let mut xs = 1.0f64;
        for _ in 0..100 {
            let g = (2.0 * xs).tanh() - xs;
            let dg = 2.0 / (2.0 * xs).cosh().powi(2) - 1.0;
            xs -= g / dg;
        }
        let inits =
            Matrix::from_fn(49, 2, |i, j| if j == 0 { (i / 7) as f64 * 0.5 - 1.5 } else { (i % 7) as f64 * 0.5 - 1.5 });
        let set = find_fixed_points(&map, None, &inits, &FixedPointConfig::default()).unwrap();
        assert_eq!(set.points.len(), 3, "{:?}", set.points.iter().map(|p| &p.state).collect::<Vec<_>>());
        // FixedPointFinder's optimizer (Adam) finds the same three points.
        let adam = FixedPointConfig { method: FixedPointMethod::Adam, ..FixedPointConfig::default() };
        let set_adam = find_fixed_points(&map, None, &inits, &adam).unwrap();
        let mut a: Vec<f64> = set_adam.points.iter().map(|p| p.state[0]).collect();
        a.sort_by(f64::total_cmp);
        assert_eq!(a.len(), 3, "{a:?}");
        for (f, e) in a.iter().zip([-xs, 0.0, xs]) {
            assert!((f - e).abs() < ADAM_STATE_TOL, "{a:?}");
        }
        let mut xs_found: Vec<f64> = set.points.iter().map(|p| p.state[0]).collect();
        xs_found.sort_by(f64::total_cmp);
        for (f, e) in xs_found.iter().zip([-xs, 0.0, xs]) {
            assert!((f - e).abs() < STATE_TOL, "{xs_found:?}");
        }
        for p in &set.points {
            assert!(p.state[1].abs() < STATE_TOL);
            let mods: Vec<f64> = p.eigenvalues.iter().map(|e| e.modulus()).collect();
            if p.state[0].abs() < STATE_TOL {
                assert_eq!(p.n_unstable, 1);
                assert!((mods[0] - 2.0).abs() < FD_EIG_TOL && (mods[1] - 0.5).abs() < FD_EIG_TOL);
            } else {
                assert!(p.is_stable());
                let slope = 2.0 * (1.0 - xs * xs);
                assert!((mods[0] - 0.5).abs() < FD_EIG_TOL && (mods[1] - slope).abs() < FD_EIG_TOL, "{mods:?}");
            }
        }
    }

    #[test]
    fn outliers_and_slow_points_are_dropped() {
        // h' = h + 1 has no fixed point: every search stalls with q = ½·n.
        let map = |h: &[f64]| h.iter().map(|x| x + 1.0).collect::<Vec<_>>();
        let inits = Matrix::from_fn(4, 2, |i, j| (i + j) as f64);
        let set = find_fixed_points(&map, None, &inits, &FixedPointConfig::default()).unwrap();
        assert!(set.points.is_empty());
        assert_eq!(set.n_not_converged, 4);
        // A fixed point far outside the initial cloud is an outlier.
        let far = |h: &[f64]| h.iter().map(|x| 0.5 * x + 500.0).collect::<Vec<_>>();
        let set = find_fixed_points(&far, None, &inits, &FixedPointConfig::default()).unwrap();
        assert_eq!((set.points.len(), set.n_outliers), (0, 1));
    }
}
