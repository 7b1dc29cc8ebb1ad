//! Working memory of two orientations (Cueva, Ardalan, Tsodyks & Qian 2021, "Recurrent neural
//! network models for working memory of continuous variables: activity manifolds,
//! connectivity patterns, and dynamic codes", arXiv 2111.01275).
//!
//! ## Trial (steps)
//! `stim_steps` of θ1, `delay1_steps` of nothing, `stim_steps` of θ2, `delay2_steps` of
//! nothing, then `report_steps` with the report cue on. θ1 and θ2 are drawn independently
//! and uniformly in [0°, 180°) (or from a grid of `grid` values when `grid > 0`).
//! ## Inputs (`n_orient_units + 1` channels)
//! A population of `n_orient_units` orientation-tuned input units with preferred
//! orientations `φ_k = k·180°/n` and von Mises tuning on the doubled angle,
//! `r_k(θ) = exp(κ (cos 2(θ − φ_k) − 1))` (peak 1, orientation being 180°-periodic), on while
//! a stimulus is shown and 0 otherwise; the last channel is the report cue (1 during the
//! report). Gaussian noise of standard deviation `input_noise_std` is added to every input
//! sample (the cue included).
//! ## Targets (4 channels, 5 with `ordinal_output`)
//! `(cos 2θ1, sin 2θ1, cos 2θ2, sin 2θ2)` during the report; with `ordinal_output`, a fifth
//! channel `sign(wrap(θ1 − θ2))` with the difference wrapped into (−90°, 90°] (+1 when θ1 is
//! counter-clockwise of θ2; 0 when they are equal), the paper's auxiliary ordinal report.
//! ## Loss mask
//! 1 during the report steps, 0 elsewhere.
//! ## Defaults (the paper's Methods were not available when this was written; these are
//! standard choices, stated in docs/working-memory/)
//! 32 input units, κ = 2, 1 step = 50 ms: 5-step (250 ms) stimuli, 10-step (500 ms) delays,
//! 5-step report, 35 steps per trial; input noise 0.1; no ordinal output.

use super::{invalid, non_negative, positive, Task, TrialRng};
use crate::error::EnvResult;
use rand::Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;
use std::ops::Range;

/// Fewest grid values when the orientations come from a grid (`grid > 0`).
pub const MIN_GRID: usize = 8;
/// Fewest input units that tile 180° (fewer leave gaps the tuning cannot cover).
pub const MIN_ORIENT_UNITS: usize = 4;

/// Parameters of [`OrientationWm`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OrientationWmConfig {
    /// Orientation-tuned input units, ≥ 4.
    pub n_orient_units: usize,
    /// Von Mises concentration κ of the input tuning (on 2θ), > 0.
    pub kappa: f64,
    /// Steps each stimulus is shown, ≥ 1.
    pub stim_steps: usize,
    /// Steps between θ1 and θ2, ≥ 1.
    pub delay1_steps: usize,
    /// Steps between θ2 and the report, ≥ 1.
    pub delay2_steps: usize,
    /// Report steps (the loss window), ≥ 1.
    pub report_steps: usize,
    /// Standard deviation of the Gaussian noise on every input sample, ≥ 0.
    pub input_noise_std: f64,
    /// Adds the ordinal output `sign(wrap(θ1 − θ2))` (the paper's auxiliary report).
    pub ordinal_output: bool,
    /// 0: orientations uniform in [0°, 180°); otherwise drawn from `grid` evenly spaced
    /// values `k·180°/grid`, ≥ 8.
    pub grid: usize,
}

impl Default for OrientationWmConfig {
    fn default() -> Self {
        Self {
            n_orient_units: 32,
            kappa: 2.0,
            stim_steps: 5,
            delay1_steps: 10,
            delay2_steps: 10,
            report_steps: 5,
            input_noise_std: 0.1,
            ordinal_output: false,
            grid: 0,
        }
    }
}

/// The phases of a trial, as step ranges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phases {
    /// θ1 shown.
    pub stim1: Range<usize>,
    /// First delay.
    pub delay1: Range<usize>,
    /// θ2 shown.
    pub stim2: Range<usize>,
    /// Second delay.
    pub delay2: Range<usize>,
    /// Report.
    pub report: Range<usize>,
}

/// The two-orientation working-memory task.
#[derive(Debug, Clone)]
pub struct OrientationWm {
    cfg: OrientationWmConfig,
}

/// `a − b` wrapped into (−90°, 90°], radians in and out (orientations are 180°-periodic).
pub fn wrap_orientation_diff(a: f64, b: f64) -> f64 {
    let mut d = (a - b).rem_euclid(PI);
    if d > PI / 2.0 {
        d -= PI;
    }
    d
}

impl OrientationWm {
    /// Registered id.
    pub const ID: &'static str = "OrientationWM-v0";

    /// Validates `cfg`: each field against its bound.
    pub fn new(cfg: OrientationWmConfig) -> EnvResult<Self> {
        let id = Self::ID;
        if cfg.n_orient_units < MIN_ORIENT_UNITS || cfg.n_orient_units > 1024 {
            return Err(invalid(id, "n_orient_units", cfg.n_orient_units, "in [4, 1024]"));
        }
        positive(id, "kappa", cfg.kappa)?;
        for (field, v) in [
            ("stim_steps", cfg.stim_steps),
            ("delay1_steps", cfg.delay1_steps),
            ("delay2_steps", cfg.delay2_steps),
            ("report_steps", cfg.report_steps),
        ] {
            if v == 0 {
                return Err(invalid(id, field, v, "≥ 1 (a phase of zero length)"));
            }
        }
        non_negative(id, "input_noise_std", cfg.input_noise_std)?;
        if cfg.grid != 0 && cfg.grid < MIN_GRID {
            return Err(invalid(id, "grid", cfg.grid, "0 (continuous) or ≥ 8 values over 180°"));
        }
        Ok(Self { cfg })
    }

    /// The parameters.
    pub fn config(&self) -> &OrientationWmConfig {
        &self.cfg
    }

    /// The phases of every trial.
    pub fn phases(&self) -> Phases {
        let c = &self.cfg;
        let a = c.stim_steps;
        let b = a + c.delay1_steps;
        let d = b + c.stim_steps;
        let e = d + c.delay2_steps;
        Phases { stim1: 0..a, delay1: a..b, stim2: b..d, delay2: d..e, report: e..e + c.report_steps }
    }

    /// Responses of the input population to orientation `theta` (radians), `[n_orient_units]`.
    pub fn population(&self, theta: f64, out: &mut [f32]) {
        let n = self.cfg.n_orient_units;
        for (k, o) in out.iter_mut().enumerate().take(n) {
            let phi = k as f64 * PI / n as f64;
            *o = (self.cfg.kappa * ((2.0 * (theta - phi)).cos() - 1.0)).exp() as f32;
        }
    }

    /// Writes the trial of orientations `theta1`, `theta2` (radians): `inputs [T, I]`,
    /// `targets [T, O]`, `mask [T, O]`. Input noise is drawn from `noise` when given (the
    /// recording of noise-free states passes `None`).
    pub fn write_trial(
        &self,
        theta1: f64,
        theta2: f64,
        noise: Option<&mut TrialRng>,
        inputs: &mut [f32],
        targets: &mut [f32],
        mask: &mut [f32],
    ) {
        let c = &self.cfg;
        let (ni, no) = (self.n_in(), self.n_out());
        let p = self.phases();
        inputs.fill(0.0);
        targets.fill(0.0);
        mask.fill(0.0);
        let mut pop = vec![0.0f32; c.n_orient_units];
        for (range, theta) in [(p.stim1.clone(), theta1), (p.stim2.clone(), theta2)] {
            self.population(theta, &mut pop);
            for t in range {
                inputs[t * ni..t * ni + c.n_orient_units].copy_from_slice(&pop);
            }
        }
        let mut y = vec![
            (2.0 * theta1).cos() as f32,
            (2.0 * theta1).sin() as f32,
            (2.0 * theta2).cos() as f32,
            (2.0 * theta2).sin() as f32,
        ];
        if c.ordinal_output {
            let d = wrap_orientation_diff(theta1, theta2);
            y.push(if d > 0.0 {
                1.0
            } else if d < 0.0 {
                -1.0
            } else {
                0.0
            });
        }
        for t in p.report {
            inputs[t * ni + ni - 1] = 1.0;
            targets[t * no..(t + 1) * no].copy_from_slice(&y);
            mask[t * no..(t + 1) * no].fill(1.0);
        }
        if let Some(rng) = noise {
            if c.input_noise_std > 0.0 {
                for x in inputs.iter_mut() {
                    *x += (c.input_noise_std * rng.sample::<f64, _>(StandardNormal)) as f32;
                }
            }
        }
    }

    fn draw(&self, rng: &mut TrialRng) -> f64 {
        if self.cfg.grid > 0 {
            rng.gen_range(0..self.cfg.grid) as f64 * PI / self.cfg.grid as f64
        } else {
            rng.gen::<f64>() * PI
        }
    }
}

/// Decodes an orientation (radians in [0, π)) from its `(cos 2θ, sin 2θ)` report.
pub fn decode_orientation(c: f64, s: f64) -> f64 {
    (s.atan2(c) / 2.0).rem_euclid(PI)
}

impl Task for OrientationWm {
    fn id(&self) -> &'static str {
        Self::ID
    }
    fn n_in(&self) -> usize {
        self.cfg.n_orient_units + 1
    }
    fn n_out(&self) -> usize {
        4 + self.cfg.ordinal_output as usize
    }
    fn steps(&self) -> usize {
        let c = &self.cfg;
        2 * c.stim_steps + c.delay1_steps + c.delay2_steps + c.report_steps
    }

    fn trial(&self, rng: &mut TrialRng, inputs: &mut [f32], targets: &mut [f32], mask: &mut [f32]) {
        let theta1 = self.draw(rng);
        let theta2 = self.draw(rng);
        self.write_trial(theta1, theta2, Some(rng), inputs, targets, mask);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn task(cfg: OrientationWmConfig) -> OrientationWm {
        OrientationWm::new(cfg).unwrap()
    }

    #[test]
    fn inputs_follow_the_phases_and_targets_decode_to_the_orientations() {
        let t = task(OrientationWmConfig { input_noise_std: 0.0, ordinal_output: true, ..Default::default() });
        let (st, ni, no) = (t.steps(), t.n_in(), t.n_out());
        assert_eq!((st, ni, no), (35, 33, 5));
        let (mut x, mut y, mut m) = (vec![0.0; st * ni], vec![0.0; st * no], vec![0.0; st * no]);
        let (a, b) = (30f64.to_radians(), 170f64.to_radians());
        t.write_trial(a, b, None, &mut x, &mut y, &mut m);
        let p = t.phases();
        let peak = |row: &[f32]| (0..32).max_by(|&i, &j| row[i].total_cmp(&row[j])).unwrap();
        // θ1 = 30° peaks at unit 30/5.625 ≈ 5.3 → 5; θ2 = 170° at 30.2 → 30.
        assert_eq!(peak(&x[p.stim1.start * ni..]), 5);
        assert_eq!(peak(&x[p.stim2.start * ni..]), 30);
        for t_ in p.delay1.clone().chain(p.delay2.clone()) {
            assert!(x[t_ * ni..(t_ + 1) * ni].iter().all(|&v| v == 0.0), "silent delay at {t_}");
        }
        for t_ in 0..st {
            let on = p.report.contains(&t_);
            assert_eq!(x[t_ * ni + ni - 1], on as u8 as f32, "cue at {t_}");
            assert!(m[t_ * no..(t_ + 1) * no].iter().all(|&v| v == on as u8 as f32));
        }
        let r = p.report.start * no;
        assert!((decode_orientation(y[r] as f64, y[r + 1] as f64) - a).abs() < 1e-6);
        assert!((decode_orientation(y[r + 2] as f64, y[r + 3] as f64) - b).abs() < 1e-6);
        // 30° − 170° wraps to +40°: θ1 is counter-clockwise of θ2.
        assert_eq!(y[r + 4], 1.0);
        assert!((wrap_orientation_diff(a, b).to_degrees() - 40.0).abs() < 1e-9);
        // The tuning peaks at 1 and is 180°-periodic.
        let (mut u, mut v) = (vec![0.0; 32], vec![0.0; 32]);
        t.population(0.0, &mut u);
        t.population(PI, &mut v);
        assert_eq!(u[0], 1.0);
        for (p, q) in u.iter().zip(&v) {
            assert!((p - q).abs() < 1e-6);
        }
    }

    #[test]
    fn grid_trials_draw_grid_values_and_noise_is_seeded() {
        let t = task(OrientationWmConfig { grid: 8, input_noise_std: 0.0, ..Default::default() });
        let mut rng = TrialRng::seed_from_u64(3);
        for _ in 0..50 {
            let th = t.draw(&mut rng).to_degrees();
            assert!((th / 22.5 - (th / 22.5).round()).abs() < 1e-9 && (0.0..180.0).contains(&th), "{th}");
        }
        let t = task(OrientationWmConfig::default());
        let n = t.steps() * t.n_in();
        let (mut x1, mut x2, mut y, mut m) = (vec![0.0; n], vec![0.0; n], vec![0.0; 175], vec![0.0; 175]);
        t.trial(&mut TrialRng::seed_from_u64(9), &mut x1, &mut y, &mut m);
        t.trial(&mut TrialRng::seed_from_u64(9), &mut x2, &mut y, &mut m);
        assert_eq!(x1, x2);
        let delay: Vec<f64> =
            (t.phases().delay1).flat_map(|s| x1[s * 33..s * 33 + 32].to_vec()).map(f64::from).collect();
        let sd = (delay.iter().map(|v| v * v).sum::<f64>() / delay.len() as f64).sqrt();
        assert!((sd - 0.1).abs() < 0.02, "delay noise sd {sd}");
    }

    #[test]
    fn bad_parameters_name_field_value_and_bound() {
        let e =
            OrientationWm::new(OrientationWmConfig { delay1_steps: 0, ..Default::default() }).unwrap_err().to_string();
        assert!(e.contains("delay1_steps") && e.contains("zero length"), "{e}");
        let e =
            OrientationWm::new(OrientationWmConfig { delay2_steps: 0, ..Default::default() }).unwrap_err().to_string();
        assert!(e.contains("delay2_steps"), "{e}");
        let e = OrientationWm::new(OrientationWmConfig { grid: 4, ..Default::default() }).unwrap_err().to_string();
        assert!(e.contains("grid") && e.contains('4') && e.contains("≥ 8"), "{e}");
        let e = OrientationWm::new(OrientationWmConfig { n_orient_units: 2, ..Default::default() })
            .unwrap_err()
            .to_string();
        assert!(e.contains("n_orient_units") && e.contains("[4, 1024]"), "{e}");
        let e = OrientationWm::new(OrientationWmConfig { kappa: -1.0, ..Default::default() }).unwrap_err().to_string();
        assert!(e.contains("kappa") && e.contains("-1"), "{e}");
    }
}
