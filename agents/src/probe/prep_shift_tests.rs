//! Synthetic preparatory states with planted structure: a known 2-D force subspace, a known
//! uniform shift and a known learning–washout angle, which [`analyze`] must recover.

use super::*;
use crate::error::AgentError;
use crate::probe::linalg::{orthonormalize, principal_angles};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

const HIDDEN: usize = 40;
const N_TARGETS: usize = 8;
/// Planted uniform shift along `v` (state units).
const SHIFT: f64 = 2.0;
/// Planted washout shift size, as a fraction of `SHIFT`.
const WASH_FRACTION: f64 = 0.8;
/// Planted angle between the learning and washout shifts (degrees).
const WASH_ANGLE_DEG: f64 = 100.0;
/// Rotation of the hand forces during learning (curl compensation), degrees.
const FORCE_ROTATION_DEG: f64 = 20.0;
/// Per-unit state noise (standard deviation).
const NOISE: f64 = 0.01;

/// Recovered shift size: relative tolerance.
const SHIFT_REL_TOL: f64 = 0.02;
/// Recovered angles: tolerance in degrees.
const ANGLE_TOL_DEG: f64 = 1.0;
/// Recovered subspaces: largest principal angle in degrees.
const SUBSPACE_TOL_DEG: f64 = 1.0;
/// Cosine between the recovered and planted shift axis.
const AXIS_COS_MIN: f64 = 0.999;
/// Coefficient of variation of a planted uniform shift.
const CV_MAX: f64 = 0.05;
/// Slope of shift vs angular distance for a uniform shift, relative to the shift (per rad).
const SLOPE_REL_MAX: f64 = 0.01;
/// Decoding R² of the baseline axes on later checkpoints.
const R2_MIN: f64 = 0.99;

struct Planted {
    input: PrepShiftInput,
    force_axes: Matrix,
    v: Vec<f64>,
}

fn ring(rot_deg: f64) -> Matrix {
    Matrix::from_fn(N_TARGETS, 2, |i, j| {
        let a = i as f64 * 2.0 * PI / N_TARGETS as f64 + rot_deg.to_radians();
        if j == 0 {
            a.cos()
        } else {
            a.sin()
        }
    })
}

/// `shift_of(angular distance)` gives each target's planted shift along `v`.
fn planted(seed: u64, shift_of: impl Fn(f64) -> f64, wash: f64) -> Planted {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut gauss = || -> f64 { StandardNormal.sample(&mut rng) };
    let a = Matrix::from_fn(HIDDEN, 2, |_, _| gauss());
    // Gram–Schmidt order: columns 2, 3 of the basis are orthogonal to span(a).
    let mixed = Matrix::from_fn(HIDDEN, 4, |i, j| if j < 2 { a.get(i, j) } else { gauss() });
    let q = orthonormalize(&mixed).unwrap();
    let (v, w) = (q.col(2), q.col(3));
    let x0: Vec<f64> = (0..HIDDEN).map(|_| gauss()).collect();
    let angles: Vec<f64> = (0..N_TARGETS).map(|i| i as f64 * 2.0 * PI / N_TARGETS as f64).collect();
    let phi = WASH_ANGLE_DEG.to_radians();
    let mut make = |label: &str, forces: &Matrix, shifts: &dyn Fn(usize) -> Vec<f64>| -> PhaseStates {
        let states = Matrix::from_fn(N_TARGETS, HIDDEN, |i, j| {
            x0[j] + a.get(j, 0) * forces.get(i, 0) + a.get(j, 1) * forces.get(i, 1) + shifts(i)[j]
        });
        let states = Matrix::from_fn(N_TARGETS, HIDDEN, |i, j| states.get(i, j) + NOISE * gauss());
        PhaseStates { label: label.into(), states, forces: forces.clone() }
    };
    let s_learn = |i: usize| -> Vec<f64> {
        let s = shift_of(angular_distance(angles[i], 0.0));
        v.iter().map(|x| s * x).collect()
    };
    let s_wash = |i: usize| -> Vec<f64> {
        let base = s_learn(i);
        base.iter().zip(&v).zip(&w).map(|((b, vv), ww)| b + wash * (phi.cos() * vv + phi.sin() * ww)).collect()
    };
    let zero = |_: usize| vec![0.0; HIDDEN];
    let baseline = make("baseline", &ring(0.0), &zero);
    let end_learning = make("end_learning", &ring(FORCE_ROTATION_DEG), &s_learn);
    let end_washout = make("end_washout", &ring(0.0), &s_wash);
    let checkpoints = vec![end_learning.clone(), end_washout.clone()];
    Planted {
        input: PrepShiftInput {
            target_angles_rad: angles,
            trained_target_rad: 0.0,
            baseline,
            end_learning,
            end_washout,
            checkpoints,
        },
        force_axes: orthonormalize(&a).unwrap(),
        v,
    }
}

#[test]
fn recovers_planted_force_subspace_uniform_shift_and_washout_angle() {
    let p = planted(11, |_| SHIFT, WASH_FRACTION * SHIFT);
    let s = analyze(&p.input, &PrepShiftConfig::default()).unwrap();
    let ang = principal_angles(&s.force_subspace.basis, &p.force_axes).unwrap();
    assert!(ang.iter().all(|a| a.to_degrees() < SUBSPACE_TOL_DEG), "{ang:?}");
    assert!(dot(&s.uniform_axis, &p.v) > AXIS_COS_MIN);
    assert!((s.mean_shift - SHIFT).abs() < SHIFT_REL_TOL * SHIFT, "{}", s.mean_shift);
    assert!(s.shift_cv < CV_MAX, "{}", s.shift_cv);
    assert!(s.shift_slope.slope.estimate.abs() < SLOPE_REL_MAX * SHIFT);
    assert!(s.near_far_tost.unwrap().p_value < 0.05);
    assert!(s.fraction_outside_force > 0.99);
    assert!((s.learn_wash_angle_deg - WASH_ANGLE_DEG).abs() < ANGLE_TOL_DEG, "{}", s.learn_wash_angle_deg);
    assert!((s.learn_wash_angle_no_force_deg - WASH_ANGLE_DEG).abs() < ANGLE_TOL_DEG);
    let expected_persistence = 1.0 + WASH_FRACTION * WASH_ANGLE_DEG.to_radians().cos();
    assert!((s.persistence - expected_persistence).abs() < 0.02, "{}", s.persistence);
    assert!(s.force_r2_baseline > R2_MIN);
    // In the force plane the baseline states are a linear image of the force ring (an
    // ellipse, since the planted encoding axes are not orthonormal): a 2×2 map fits exactly.
    let ring_xy = s.force_subspace.project(&p.input.baseline.states).unwrap();
    let forces = &p.input.baseline.forces;
    let map = crate::probe::linalg::least_squares(forces, &ring_xy).unwrap();
    let fitted = forces.matmul(&map).unwrap();
    for j in 0..2 {
        assert!(crate::stats::r_squared(&ring_xy.col(j), &fitted.col(j)) > R2_MIN);
    }
    for cp in &s.checkpoints {
        assert!(cp.force_r2_baseline_axes > R2_MIN, "{}: {}", cp.label, cp.force_r2_baseline_axes);
        assert!(cp.principal_angles_deg.iter().all(|&a| a < SUBSPACE_TOL_DEG), "{:?}", cp.principal_angles_deg);
    }
    assert!((s.checkpoints[0].shift_along_u - SHIFT).abs() < SHIFT_REL_TOL * SHIFT);
    assert!((s.checkpoints[1].angle_to_learning_deg - WASH_ANGLE_DEG).abs() < ANGLE_TOL_DEG);
}

#[test]
fn graded_shift_gives_negative_slope_and_fails_equivalence() {
    // Shift falls linearly from 2·SHIFT at the trained target to 0 at the opposite one.
    let p = planted(12, |d| SHIFT * 2.0 * (1.0 - d / PI), 0.0);
    let s = analyze(&p.input, &PrepShiftConfig::default()).unwrap();
    let expected = -2.0 * SHIFT / PI;
    assert!(s.shift_slope.slope.contains(expected), "{:?}", s.shift_slope);
    assert!(s.shift_slope.slope.hi < 0.0);
    assert!(s.shift_cv > 0.3);
    assert!(s.near_far_tost.unwrap().p_value > 0.5);
}

#[test]
fn report_finds_planted_shift_beyond_null_and_no_shift_at_null() {
    let config = PrepShiftConfig { n_shuffles: 100, ..PrepShiftConfig::default() };
    let seeds = [1u64, 2, 3, 4];
    let get = |r: &PrepShiftReport, name: &str| r.statistics.iter().find(|s| s.name == name).unwrap().clone();

    let shifted: Vec<_> =
        seeds.iter().map(|&s| (s, planted(100 + s, |_| SHIFT, WASH_FRACTION * SHIFT).input)).collect();
    let r = report(&shifted, &config, &mut ChaCha8Rng::seed_from_u64(7)).unwrap();
    let m = get(&r, "mean_shift");
    assert!(m.mean_ci.contains(SHIFT) || (m.mean_ci.estimate - SHIFT).abs() < SHIFT_REL_TOL * SHIFT);
    assert!(m.null.p_upper < 0.02 && m.null.hi < m.mean_ci.lo, "{:?}", m.null);
    let cv = get(&r, "shift_cv");
    assert!(cv.mean_ci.hi < cv.null.lo, "cv {:?} null {:?}", cv.mean_ci, cv.null);
    assert_eq!(r.schema_version, PREP_SHIFT_SCHEMA_VERSION);
    let json = serde_json::to_string(&r).unwrap();
    let back: PrepShiftReport = serde_json::from_str(&json).unwrap();
    assert_eq!(back.seeds, r.seeds);
    assert!(back.per_seed[0].checkpoints[0].angle_to_learning_deg.is_nan());
    assert_eq!(back.statistics[0].per_seed, r.statistics[0].per_seed);
    assert!(r.statistics.iter().all(|s| s.n_seeds <= seeds.len()));

    let flat: Vec<_> = seeds.iter().map(|&s| (s, planted(200 + s, |_| 0.0, 0.0).input)).collect();
    let r0 = report(&flat, &config, &mut ChaCha8Rng::seed_from_u64(7)).unwrap();
    let m0 = get(&r0, "mean_shift");
    assert!(m0.null.p_upper > 0.05, "mean shift {} vs null p {}", m0.mean_ci.estimate, m0.null.p_upper);
    assert!(m0.null.contains_observed(m0.mean_ci.estimate));
    let cv0 = get(&r0, "shift_cv");
    assert!(cv0.null.p_two_sided > 0.05, "cv {} vs null p {}", cv0.mean_ci.estimate, cv0.null.p_two_sided);
    // Pure noise: Δ_learn and Δ_wash share the end-learning noise with opposite signs, so
    // their angle sits near 120° and persistence near 0.5; the null reproduces both.
    for name in ["learn_wash_angle_no_force_deg", "persistence"] {
        let st = get(&r0, name);
        assert!(st.null.p_two_sided > 0.05, "{name}: {} vs null p {}", st.mean_ci.estimate, st.null.p_two_sided);
    }
    // Determinism: same seed, same report.
    let again = report(&flat, &config, &mut ChaCha8Rng::seed_from_u64(7)).unwrap();
    // (NaN fields make `==` false, so compare the JSON.)
    assert_eq!(serde_json::to_string(&again).unwrap(), serde_json::to_string(&r0).unwrap());
}

#[test]
fn savings_helpers() {
    let e = [1.0, 0.8, 0.4, 0.6, 0.3, 0.2, 0.25];
    assert_eq!(updates_to_criterion(&e, 0.5, 1), Some(2));
    assert_eq!(updates_to_criterion(&e, 0.5, 3), Some(4));
    assert_eq!(updates_to_criterion(&e, 0.1, 1), None);
    assert!((area_under_error_curve(&[1.0, 0.0, 1.0], 2.0) - 2.0).abs() < 1e-15);
    assert!((angular_distance(0.1, 2.0 * PI - 0.1) - 0.2).abs() < 1e-12);
    assert!((angular_distance(PI, 0.0) - PI).abs() < 1e-12);
}

#[test]
fn rejects_bad_shapes() {
    let mut p = planted(13, |_| SHIFT, 0.0).input;
    p.end_washout.forces = Matrix::zeros(N_TARGETS, 3);
    assert!(matches!(analyze(&p, &PrepShiftConfig::default()), Err(AgentError::ShapeMismatch { .. })));
}
