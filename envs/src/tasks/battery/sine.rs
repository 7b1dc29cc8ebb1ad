//! Sine-wave generation with the frequency set by a static input (Sussillo & Barak 2013,
//! "Opening the black box", section on the sine-wave generator; the third task of
//! Maheswaranathan et al. 2019).
//!
//! ## Input (1 channel)
//! A trial draws a frequency index `j` uniformly from `0..n_freqs`; the input is the constant
//! `j / n_freqs + input_offset` for the whole trial (Sussillo & Barak: `j/51 + 0.25`), plus
//! Gaussian noise of standard deviation `input_noise_std` per sample.
//! ## Target (1 channel)
//! `sin(ω_j t)` at step `t = 0, 1, …`, with `ω_j` evenly spaced from `omega_min` to
//! `omega_max` rad/step (Sussillo & Barak: 51 frequencies in [0.1, 0.6]).
//! ## Loss mask
//! 1 everywhere.
//! ## Defaults
//! 51 frequencies in [0.1, 0.6] rad/step, offset 0.25, 100 steps (at least 1.6 periods of
//! the slowest wave), no input noise.

use super::{invalid, non_negative, positive, Task, TrialRng};
use crate::error::EnvResult;
use rand::Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

/// Parameters of [`SineGen`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SineGenConfig {
    /// Number of frequencies, ≥ 1.
    pub n_freqs: usize,
    /// Lowest angular frequency, rad/step (> 0).
    pub omega_min: f64,
    /// Highest angular frequency, rad/step (≥ `omega_min`, ≤ π).
    pub omega_max: f64,
    /// Added to `j / n_freqs` to form the static input.
    pub input_offset: f64,
    /// Steps per trial, ≥ 1.
    pub steps: usize,
    /// Standard deviation of the Gaussian noise on the input, ≥ 0.
    pub input_noise_std: f64,
}

impl Default for SineGenConfig {
    fn default() -> Self {
        Self { n_freqs: 51, omega_min: 0.1, omega_max: 0.6, input_offset: 0.25, steps: 100, input_noise_std: 0.0 }
    }
}

/// The sine generator.
#[derive(Debug, Clone)]
pub struct SineGen {
    cfg: SineGenConfig,
}

impl SineGen {
    /// Registered id.
    pub const ID: &'static str = "SineGen-v0";

    /// Validates `cfg`: each field against its bound.
    pub fn new(cfg: SineGenConfig) -> EnvResult<Self> {
        let id = Self::ID;
        positive(id, "n_freqs", cfg.n_freqs as f64)?;
        positive(id, "omega_min", cfg.omega_min)?;
        if !(cfg.omega_max.is_finite() && cfg.omega_max >= cfg.omega_min && cfg.omega_max <= std::f64::consts::PI) {
            return Err(invalid(id, "omega_max", cfg.omega_max, &format!("in [omega_min = {}, π]", cfg.omega_min)));
        }
        if !cfg.input_offset.is_finite() {
            return Err(invalid(id, "input_offset", cfg.input_offset, "finite"));
        }
        positive(id, "steps", cfg.steps as f64)?;
        non_negative(id, "input_noise_std", cfg.input_noise_std)?;
        Ok(Self { cfg })
    }

    /// Angular frequency of index `j`, rad/step.
    pub fn omega(&self, j: usize) -> f64 {
        let c = &self.cfg;
        if c.n_freqs == 1 {
            return c.omega_min;
        }
        c.omega_min + (c.omega_max - c.omega_min) * j as f64 / (c.n_freqs - 1) as f64
    }

    /// The static input of index `j`.
    pub fn input_level(&self, j: usize) -> f64 {
        j as f64 / self.cfg.n_freqs as f64 + self.cfg.input_offset
    }

    /// The parameters.
    pub fn config(&self) -> &SineGenConfig {
        &self.cfg
    }
}

impl Task for SineGen {
    fn id(&self) -> &'static str {
        Self::ID
    }
    fn n_in(&self) -> usize {
        1
    }
    fn n_out(&self) -> usize {
        1
    }
    fn steps(&self) -> usize {
        self.cfg.steps
    }

    fn trial(&self, rng: &mut TrialRng, inputs: &mut [f32], targets: &mut [f32], mask: &mut [f32]) {
        let j = rng.gen_range(0..self.cfg.n_freqs);
        let (w, level) = (self.omega(j), self.input_level(j));
        for t in 0..self.cfg.steps {
            let mut x = level;
            if self.cfg.input_noise_std > 0.0 {
                x += self.cfg.input_noise_std * rng.sample::<f64, _>(StandardNormal);
            }
            inputs[t] = x as f32;
            targets[t] = (w * t as f64).sin() as f32;
            mask[t] = 1.0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn input_sets_the_frequency() {
        let task = SineGen::new(SineGenConfig::default()).unwrap();
        assert_eq!(task.omega(0), 0.1);
        assert!((task.omega(50) - 0.6).abs() < 1e-15);
        let mut rng = TrialRng::seed_from_u64(3);
        let (mut x, mut y, mut m) = (vec![0.0; 100], vec![0.0; 100], vec![0.0; 100]);
        task.trial(&mut rng, &mut x, &mut y, &mut m);
        assert!(x.iter().all(|&v| v == x[0]));
        let j = ((x[0] as f64 - 0.25) * 51.0).round() as usize;
        for (t, &v) in y.iter().enumerate() {
            assert!((v as f64 - (task.omega(j) * t as f64).sin()).abs() < 1e-6);
        }
        let e = SineGen::new(SineGenConfig { omega_max: 0.05, ..Default::default() }).unwrap_err().to_string();
        assert!(e.contains("omega_max") && e.contains("0.05"), "{e}");
    }
}
