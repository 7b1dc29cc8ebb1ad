//! Preparatory-subspace uniform shift (the CurlReach protocol, issue 6).
//!
//! Follows Sun, O'Shea, Golub, Trautmann, Vyas, Ryu, Shenoy (2022), "Cortical preparatory
//! activity indexes learned motor memories", Nature 602:274–279, and their analysis code
//! (xlsun79/TDRandUniformShiftAnalyses): a force-predictive subspace found by targeted
//! dimensionality reduction (TDR) on baseline preparatory states, and a "uniform shift" of
//! all targets' preparatory states along an axis orthogonal to it that indexes the learned
//! memory and persists through washout.
//!
//! Inputs are already condition-averaged: one preparatory state per target per checkpoint
//! (`[n_targets, hidden]`, e.g. the hidden state averaged over the last 5 steps before the go
//! cue and over K noisy repeats) and the initial hand force per target (`[n_targets, 2]`).
//! [`analyze`] gives the per-seed statistics; [`report`] gathers seeds into a
//! [`PrepShiftReport`] with Student-t CIs over seeds and shuffled-checkpoint nulls.

use std::f64::consts::PI;

use rand::seq::SliceRandom;
use rand::Rng;
use serde::{Deserialize, Serialize};

use super::linalg::{centre, least_squares, orthonormalize, principal_angles, project_out, pseudo_inverse};
use super::matrix::{angle_deg, check_finite, dot, norm, sub};
use super::Matrix;
use crate::error::AgentError;
use crate::stats::{
    coefficient_of_variation, linear_regression, mean, r_squared, t_interval, tost_welch, Ci, NullSummary, SlopeFit,
    Tost,
};

/// Version of the [`PrepShiftReport`] JSON layout. 2: `mean_ci` is a Student-t interval over
/// the seeds where the statistic is defined (was a percentile bootstrap over all seeds, `NaN`
/// if one was undefined), `n_seeds` counts them, and the config has no `n_bootstrap`.
pub const PREP_SHIFT_SCHEMA_VERSION: u32 = 2;

/// Below this norm the centroid shift outside the force subspace is taken as exactly zero and
/// the uniform-shift axis is undefined.
pub const MIN_SHIFT_NORM: f64 = 1e-12;

/// Settings of the preparatory-shift analysis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PrepShiftConfig {
    /// Targets at most this angular distance from the trained target are "near" (rad).
    pub near_max_rad: f64,
    /// Targets at least this angular distance from the trained target are "far" (rad).
    pub far_min_rad: f64,
    /// TOST equivalence margin for near vs far, as a fraction of the mean shift size.
    pub equivalence_margin_fraction: f64,
    /// Confidence level of all intervals.
    pub level: f64,
    /// Shuffled-checkpoint draws per seed for the nulls.
    pub n_shuffles: usize,
}

impl Default for PrepShiftConfig {
    fn default() -> Self {
        // With 8 targets 45° apart: near = {0°, ±45°}, far = {±135°, 180°}.
        Self {
            near_max_rad: PI / 4.0 + 1e-6,
            far_min_rad: 3.0 * PI / 4.0 - 1e-6,
            equivalence_margin_fraction: 0.25,
            level: 0.95,
            n_shuffles: 200,
        }
    }
}

/// Condition-averaged preparatory states of one checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhaseStates {
    /// Checkpoint name ("baseline", "learning_500", "washout_end", ...).
    pub label: String,
    /// Preparatory state per target `[n_targets, hidden]`.
    pub states: Matrix,
    /// Initial hand force (or early acceleration) per target `[n_targets, 2]`.
    pub forces: Matrix,
}

/// One seed's data for the analysis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrepShiftInput {
    /// Direction of each target (rad) `[n_targets]`.
    pub target_angles_rad: Vec<f64>,
    /// Direction of the trained target (rad).
    pub trained_target_rad: f64,
    /// Baseline (before learning); the force subspace is fitted here.
    pub baseline: PhaseStates,
    /// End of learning.
    pub end_learning: PhaseStates,
    /// End of washout.
    pub end_washout: PhaseStates,
    /// Further checkpoints for subspace stability and time courses (may be empty).
    pub checkpoints: Vec<PhaseStates>,
}

/// The force-predictive subspace (TDR) and its baseline force decoder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForceSubspace {
    /// Orthonormal force axes `[hidden, 2]` (column 0 from force x, column 1 from force y).
    pub basis: Matrix,
    /// Centroid removed before projecting `[hidden]`.
    pub centroid: Vec<f64>,
    /// Linear decoder `[3, 2]`: `[score_0, score_1, 1] · decoder = [force_x, force_y]`.
    pub decoder: Matrix,
}

impl ForceSubspace {
    /// TDR fit: centre the states, regress them on `[force_x, force_y, 1]`
    /// (`X_c ≈ F · B`, `B` `[3, hidden]`), take `pinv(B)` `[hidden, 3]`, keep its force
    /// columns and orthonormalize them in Gram–Schmidt order (as `buildTDRSubspace.m` does
    /// with `gsog`); then fit the force decoder on the projections. The reference code centres
    /// with the mean over baseline and learning states together; with the intercept in the
    /// regression the axes do not depend on which constant is removed.
    pub fn fit(states: &Matrix, forces: &Matrix) -> Result<Self, AgentError> {
        check_shapes("ForceSubspace::fit", states, forces)?;
        let (xc, centroid) = centre(states);
        let design = with_intercept(forces);
        let coef = least_squares(&design, &xc)?;
        let axes = pseudo_inverse(&coef)?.first_cols(2);
        let basis = orthonormalize(&axes)?;
        let scores = xc.matmul(&basis)?;
        let decoder = least_squares(&with_intercept(&scores), forces)?;
        Ok(Self { basis, centroid, decoder })
    }

    /// Coordinates `[n, 2]` of states `[n, hidden]` in the force plane (baseline centroid
    /// removed): the "ring of targets" figure, one call per checkpoint.
    pub fn project(&self, states: &Matrix) -> Result<Matrix, AgentError> {
        if states.cols() != self.centroid.len() {
            return Err(AgentError::ShapeMismatch {
                context: "ForceSubspace::project",
                expected: format!("{} units", self.centroid.len()),
                actual: format!("{} units", states.cols()),
            });
        }
        let xc = Matrix::from_fn(states.rows(), states.cols(), |i, j| states.get(i, j) - self.centroid[j]);
        xc.matmul(&self.basis)
    }

    /// Forces `[n, 2]` decoded from states `[n, hidden]` with the fixed (baseline) axes,
    /// centroid and decoder.
    pub fn decode(&self, states: &Matrix) -> Result<Matrix, AgentError> {
        with_intercept(&self.project(states)?).matmul(&self.decoder)
    }

    /// Mean over the two force components of the decoding R² (against each component's own
    /// mean in `forces`).
    pub fn decoding_r2(&self, states: &Matrix, forces: &Matrix) -> Result<f64, AgentError> {
        check_shapes("ForceSubspace::decoding_r2", states, forces)?;
        let pred = self.decode(states)?;
        Ok(0.5 * (0..2).map(|j| r_squared(&forces.col(j), &pred.col(j))).sum::<f64>())
    }
}

/// Stability and time-course values of one extra checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointStats {
    /// The checkpoint's label.
    pub label: String,
    /// Force decoding R² of the baseline axes and decoder on this checkpoint.
    #[serde(with = "engram_envs::serde_nan::f64_or_null")]
    pub force_r2_baseline_axes: f64,
    /// Principal angles (degrees) between the baseline axes and axes refitted here.
    pub principal_angles_deg: Vec<f64>,
    /// `(centroid − baseline centroid) · u`.
    #[serde(with = "engram_envs::serde_nan::f64_or_null")]
    pub shift_along_u: f64,
    /// Angle (degrees) between `Δ_learn` and `centroid − end-learning centroid` (NaN, `null`
    /// in JSON, for the end-learning checkpoint itself).
    #[serde(with = "engram_envs::serde_nan::f64_or_null")]
    pub angle_to_learning_deg: f64,
}

/// One seed's statistics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrepShiftSeed {
    /// The force subspace fitted on baseline.
    pub force_subspace: ForceSubspace,
    /// Uniform-shift axis `u` `[hidden]` (unit norm, orthogonal to the force axes).
    pub uniform_axis: Vec<f64>,
    /// Per-target shift along `u` from baseline to end of learning `[n_targets]`.
    #[serde(with = "engram_envs::serde_nan::vec_f64_or_null")]
    pub shift_per_target: Vec<f64>,
    /// Angular distance of each target to the trained target (rad, in `[0, π]`).
    pub angular_distance_rad: Vec<f64>,
    /// Mean of `shift_per_target`.
    #[serde(with = "engram_envs::serde_nan::f64_or_null")]
    pub mean_shift: f64,
    /// Coefficient of variation of `shift_per_target` (0 for a perfectly uniform shift).
    #[serde(with = "engram_envs::serde_nan::f64_or_null")]
    pub shift_cv: f64,
    /// OLS slope of shift against angular distance (per rad), with CI.
    pub shift_slope: SlopeFit,
    /// Welch TOST of near vs far shifts, margin `equivalence_margin_fraction · |mean shift|`.
    pub near_far_tost: Option<Tost>,
    /// Share of `‖Δ_learn‖²` outside the force subspace. Chance level for an isotropic
    /// (noise) shift is `1 − 2/hidden`; the shuffled-checkpoint null is not a fair null for
    /// this one (shuffling targets' checkpoints mixes force-related differences into the
    /// centroid shift and pulls the null towards 0), so compare it with the chance level.
    #[serde(with = "engram_envs::serde_nan::f64_or_null")]
    pub fraction_outside_force: f64,
    /// `‖Δ_learn‖` (centroid end learning − baseline).
    #[serde(with = "engram_envs::serde_nan::f64_or_null")]
    pub delta_learn_norm: f64,
    /// `‖Δ_wash‖` (centroid end washout − end learning).
    #[serde(with = "engram_envs::serde_nan::f64_or_null")]
    pub delta_wash_norm: f64,
    /// Angle between `Δ_learn` and `Δ_wash` in the full space (degrees). With pure noise
    /// it is near 120°, not 90° (both differences share the end-learning noise with opposite
    /// signs), which is why every statistic is reported against its shuffled null.
    #[serde(with = "engram_envs::serde_nan::f64_or_null")]
    pub learn_wash_angle_deg: f64,
    /// The same angle with the force dimensions projected out of both (degrees).
    #[serde(with = "engram_envs::serde_nan::f64_or_null")]
    pub learn_wash_angle_no_force_deg: f64,
    /// Projection on `u` of the end-washout centroid shift ÷ that of end learning.
    #[serde(with = "engram_envs::serde_nan::f64_or_null")]
    pub persistence: f64,
    /// Force R² of the baseline decoder on baseline itself (the ceiling for stability).
    #[serde(with = "engram_envs::serde_nan::f64_or_null")]
    pub force_r2_baseline: f64,
    /// Stability and time course of every extra checkpoint.
    pub checkpoints: Vec<CheckpointStats>,
}

/// Names of the scalar statistics gathered across seeds, in [`PrepShiftSeed::scalars`] order.
/// (A per-seed near/far TOST p-value is deliberately not among them: a mean of p-values is
/// not a p-value. Equivalence across seeds is tested on the per-seed slopes instead, see
/// [`slope_equivalence`].)
pub const SCALAR_NAMES: [&str; 7] = [
    "mean_shift",
    "shift_cv",
    "shift_slope_per_rad",
    "fraction_outside_force",
    "learn_wash_angle_deg",
    "learn_wash_angle_no_force_deg",
    "persistence",
];

impl PrepShiftSeed {
    /// The scalar statistics named in [`SCALAR_NAMES`].
    pub fn scalars(&self) -> [f64; 7] {
        [
            self.mean_shift,
            self.shift_cv,
            self.shift_slope.slope.estimate,
            self.fraction_outside_force,
            self.learn_wash_angle_deg,
            self.learn_wash_angle_no_force_deg,
            self.persistence,
        ]
    }
}

/// Analyses one seed.
pub fn analyze(input: &PrepShiftInput, config: &PrepShiftConfig) -> Result<PrepShiftSeed, AgentError> {
    let n = input.target_angles_rad.len();
    if n < 3 {
        return Err(AgentError::TooFew { context: "prep_shift::analyze", what: "targets", needed: 3, got: n });
    }
    for phase in [&input.baseline, &input.end_learning, &input.end_washout].into_iter().chain(&input.checkpoints) {
        check_shapes("prep_shift::analyze", &phase.states, &phase.forces)?;
        if phase.states.rows() != n || phase.states.cols() != input.baseline.states.cols() {
            return Err(AgentError::ShapeMismatch {
                context: "prep_shift::analyze",
                expected: format!("[{n}, {}] states", input.baseline.states.cols()),
                actual: format!("{:?} in phase {}", phase.states.shape(), phase.label),
            });
        }
    }
    let fs = ForceSubspace::fit(&input.baseline.states, &input.baseline.forces)?;
    let w = &fs.basis;
    let c_base = centroid(&input.baseline.states);
    let c_learn = centroid(&input.end_learning.states);
    let c_wash = centroid(&input.end_washout.states);
    let d_learn = sub(&c_learn, &c_base);
    let d_wash = sub(&c_wash, &c_learn);
    let d_learn_perp = project_out(&d_learn, w);
    let perp_norm = norm(&d_learn_perp);
    if perp_norm < MIN_SHIFT_NORM {
        return Err(AgentError::InvalidParameter {
            name: "end_learning.states",
            value: format!("{perp_norm:e}"),
            reason: "centroid shift outside the force subspace is zero: uniform axis undefined",
        });
    }
    let u: Vec<f64> = d_learn_perp.iter().map(|v| v / perp_norm).collect();

    let shift_per_target: Vec<f64> =
        (0..n).map(|i| dot(&sub(input.end_learning.states.row(i), input.baseline.states.row(i)), &u)).collect();
    let angular_distance_rad: Vec<f64> =
        input.target_angles_rad.iter().map(|&a| angular_distance(a, input.trained_target_rad)).collect();
    let mean_shift = mean(&shift_per_target);
    let shift_slope = linear_regression(&angular_distance_rad, &shift_per_target, config.level)?;
    let pick = |keep: &dyn Fn(f64) -> bool| -> Vec<f64> {
        shift_per_target.iter().zip(&angular_distance_rad).filter(|(_, &d)| keep(d)).map(|(&s, _)| s).collect()
    };
    let near = pick(&|d| d <= config.near_max_rad);
    let far = pick(&|d| d >= config.far_min_rad);
    let margin = config.equivalence_margin_fraction * mean_shift.abs();
    let near_far_tost =
        if near.len() >= 2 && far.len() >= 2 && margin > 0.0 { Some(tost_welch(&near, &far, margin)?) } else { None };
    let dl2 = dot(&d_learn, &d_learn);
    let fraction_outside_force = if dl2 > 0.0 { perp_norm * perp_norm / dl2 } else { f64::NAN };
    let proj_learn = dot(&d_learn, &u);
    let persistence = dot(&sub(&c_wash, &c_base), &u) / proj_learn;

    let mut checkpoints = Vec::with_capacity(input.checkpoints.len());
    for cp in &input.checkpoints {
        let refit = ForceSubspace::fit(&cp.states, &cp.forces)?;
        let c = centroid(&cp.states);
        checkpoints.push(CheckpointStats {
            label: cp.label.clone(),
            force_r2_baseline_axes: fs.decoding_r2(&cp.states, &cp.forces)?,
            principal_angles_deg: principal_angles(w, &refit.basis)?.iter().map(|a| a.to_degrees()).collect(),
            shift_along_u: dot(&sub(&c, &c_base), &u),
            angle_to_learning_deg: angle_deg(&d_learn, &sub(&c, &c_learn)),
        });
    }
    Ok(PrepShiftSeed {
        force_r2_baseline: fs.decoding_r2(&input.baseline.states, &input.baseline.forces)?,
        shift_cv: coefficient_of_variation(&shift_per_target),
        uniform_axis: u,
        learn_wash_angle_deg: angle_deg(&d_learn, &d_wash),
        learn_wash_angle_no_force_deg: angle_deg(&d_learn_perp, &project_out(&d_wash, w)),
        delta_learn_norm: dl2.sqrt(),
        delta_wash_norm: norm(&d_wash),
        force_subspace: fs,
        shift_per_target,
        angular_distance_rad,
        mean_shift,
        shift_slope,
        near_far_tost,
        fraction_outside_force,
        persistence,
        checkpoints,
    })
}

/// Shuffled-checkpoint null draws for one seed: for every target the three checkpoint labels
/// (baseline, end learning, end washout) are randomly permuted, and the target directions are
/// permuted across targets; the scalars are recomputed on each draw (extra checkpoints are
/// left out). Draws where the shuffled shift is degenerate give `NaN`s.
pub fn null_draws<R: Rng>(input: &PrepShiftInput, config: &PrepShiftConfig, rng: &mut R) -> Vec<[f64; 7]> {
    let n = input.target_angles_rad.len();
    let mut order = [0usize, 1, 2];
    (0..config.n_shuffles)
        .map(|_| {
            let mut shuffled = input.clone();
            shuffled.checkpoints.clear();
            let src = [&input.baseline.states, &input.end_learning.states, &input.end_washout.states];
            for i in 0..n {
                order.shuffle(rng);
                for (k, dst) in
                    [&mut shuffled.baseline.states, &mut shuffled.end_learning.states, &mut shuffled.end_washout.states]
                        .into_iter()
                        .enumerate()
                {
                    let row = src[order[k]].row(i).to_vec();
                    for (j, v) in row.into_iter().enumerate() {
                        dst.set(i, j, v);
                    }
                }
            }
            shuffled.target_angles_rad.shuffle(rng);
            analyze(&shuffled, config).map_or([f64::NAN; 7], |s| s.scalars())
        })
        .collect()
}

/// One statistic across seeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatisticSummary {
    /// Statistic name (one of [`SCALAR_NAMES`]).
    pub name: String,
    /// The value per seed, in seed order.
    #[serde(with = "engram_envs::serde_nan::vec_f64_or_null")]
    pub per_seed: Vec<f64>,
    /// Seeds where the statistic is defined (finite); the summary and the null use these.
    pub n_seeds: usize,
    /// Mean across those seeds with its Student-t CI (undefined with fewer than two).
    pub mean_ci: Ci,
    /// Null of the across-seed mean under shuffled checkpoints.
    pub null: NullSummary,
}

/// The preparatory-shift report across seeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrepShiftReport {
    /// [`PREP_SHIFT_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The settings used.
    pub config: PrepShiftConfig,
    /// The agent seeds, in order.
    pub seeds: Vec<u64>,
    /// Full per-seed results.
    pub per_seed: Vec<PrepShiftSeed>,
    /// Scalar statistics with CIs and nulls.
    pub statistics: Vec<StatisticSummary>,
}

/// Analyses every seed, then summarizes each scalar across seeds: Student-t CI of the mean
/// and the null of the mean (draw `k` of every seed's shuffled null averaged across seeds).
pub fn report<R: Rng>(
    inputs: &[(u64, PrepShiftInput)],
    config: &PrepShiftConfig,
    rng: &mut R,
) -> Result<PrepShiftReport, AgentError> {
    if inputs.is_empty() {
        return Err(AgentError::TooFew { context: "prep_shift::report", what: "seeds", needed: 1, got: 0 });
    }
    let per_seed: Vec<PrepShiftSeed> = inputs.iter().map(|(_, inp)| analyze(inp, config)).collect::<Result<_, _>>()?;
    let nulls: Vec<Vec<[f64; 7]>> = inputs.iter().map(|(_, inp)| null_draws(inp, config, rng)).collect();
    let mut statistics = Vec::with_capacity(SCALAR_NAMES.len());
    for (k, name) in SCALAR_NAMES.iter().enumerate() {
        let values: Vec<f64> = per_seed.iter().map(|s| s.scalars()[k]).collect();
        // Seeds where the statistic is undefined (e.g. no TOST without near and far targets)
        // are left out of the summary and of its null, and counted in `n_seeds`.
        let defined: Vec<usize> = (0..values.len()).filter(|&i| values[i].is_finite()).collect();
        let observed: Vec<f64> = defined.iter().map(|&i| values[i]).collect();
        let mean_ci =
            if observed.is_empty() { Ci::undefined(config.level) } else { t_interval(&observed, config.level)? };
        let null_means: Vec<f64> = (0..config.n_shuffles)
            .map(|d| mean(&defined.iter().map(|&i| nulls[i][d][k]).collect::<Vec<_>>()))
            .collect();
        statistics.push(StatisticSummary {
            name: (*name).to_string(),
            null: NullSummary::new(mean_ci.estimate, &null_means),
            n_seeds: observed.len(),
            per_seed: values,
            mean_ci,
        });
    }
    Ok(PrepShiftReport {
        schema_version: PREP_SHIFT_SCHEMA_VERSION,
        config: config.clone(),
        seeds: inputs.iter().map(|(s, _)| *s).collect(),
        per_seed,
        statistics,
    })
}

/// The distance question across seeds: is the per-seed slope of shift on angular distance
/// from the trained target equivalent to zero? One-sample TOST on the per-seed slopes with
/// margin `±margin_fraction · |mean shift| / π` per rad, i.e. the shift may change by at most
/// that fraction of its mean between the trained target and the opposite one. Returns the
/// margin (per rad) and the test; `None` with fewer than two seeds or a zero mean shift.
pub fn slope_equivalence(seeds: &[PrepShiftSeed], margin_fraction: f64) -> Option<(f64, crate::stats::Tost)> {
    let slopes: Vec<f64> = seeds.iter().map(|s| s.shift_slope.slope.estimate).filter(|x| x.is_finite()).collect();
    let shift = mean(&seeds.iter().map(|s| s.mean_shift).filter(|x| x.is_finite()).collect::<Vec<_>>());
    let margin = margin_fraction * shift.abs() / PI;
    crate::stats::tost_one_sample(&slopes, 0.0, margin).ok().map(|t| (margin, t))
}

/// Number of updates until the error first stays at or below `criterion` for `consecutive`
/// updates in a row (the index of the first of those updates), or `None` if it never does.
/// Savings = fewer updates to criterion on relearning than on first learning.
pub fn updates_to_criterion(errors: &[f64], criterion: f64, consecutive: usize) -> Option<usize> {
    let need = consecutive.max(1);
    let mut run = 0;
    for (i, &e) in errors.iter().enumerate() {
        run = if e <= criterion { run + 1 } else { 0 };
        if run == need {
            return Some(i + 1 - need);
        }
    }
    None
}

/// Area under an error curve sampled every `step` updates (trapezoidal rule).
pub fn area_under_error_curve(errors: &[f64], step: f64) -> f64 {
    errors.windows(2).map(|w| 0.5 * (w[0] + w[1]) * step).sum()
}

/// Angular distance between two directions (rad, in `[0, π]`).
pub fn angular_distance(a_rad: f64, b_rad: f64) -> f64 {
    let d = (a_rad - b_rad).rem_euclid(2.0 * PI);
    d.min(2.0 * PI - d)
}

fn centroid(states: &Matrix) -> Vec<f64> {
    super::linalg::column_means(states)
}

fn with_intercept(m: &Matrix) -> Matrix {
    Matrix::from_fn(m.rows(), m.cols() + 1, |i, j| if j < m.cols() { m.get(i, j) } else { 1.0 })
}

fn check_shapes(context: &'static str, states: &Matrix, forces: &Matrix) -> Result<(), AgentError> {
    check_finite(states, context)?;
    check_finite(forces, context)?;
    if forces.cols() != 2 || forces.rows() != states.rows() {
        return Err(AgentError::ShapeMismatch {
            context,
            expected: format!("forces [{}, 2]", states.rows()),
            actual: format!("{:?}", forces.shape()),
        });
    }
    Ok(())
}

#[cfg(test)]
#[path = "prep_shift_tests.rs"]
mod tests;
