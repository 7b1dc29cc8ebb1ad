//! The 3-bit flip-flop (Sussillo & Barak 2013, "Opening the black box"; the first task of
//! Maheswaranathan et al. 2019).
//!
//! ## Inputs (`n_bits` channels)
//! Each channel is 0 except for brief pulses: at every step a channel not already pulsing
//! starts a pulse with probability `pulse_prob`, of sign ±1 (equally likely), lasting
//! `pulse_steps` steps. Gaussian noise of standard deviation `input_noise_std` is added to
//! every input sample.
//! ## Targets (`n_bits` channels)
//! Output `k` holds the sign of the last pulse on input `k` (switching at the pulse onset):
//! the network stores `n_bits` bits, 2^n_bits memory states.
//! ## Loss mask
//! 1 from the first pulse on a channel onward, 0 before it (the target is not defined until a
//! bit has been set, so an initial "unset" state does not enter the scaffold).
//! ## Defaults
//! 3 bits, 100 steps, `pulse_prob` 0.05 (five pulses per channel per trial on average),
//! 1-step pulses, no input noise.

use super::{invalid, non_negative, positive, probability, Task, TrialRng};
use crate::error::EnvResult;
use rand::Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

/// Parameters of [`FlipFlop`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FlipFlopConfig {
    /// Bits (input and output channels), ≥ 1.
    pub n_bits: usize,
    /// Steps per trial, ≥ 1.
    pub steps: usize,
    /// Probability per step and channel that a pulse starts, in [0, 1].
    pub pulse_prob: f64,
    /// Duration of a pulse in steps, in [1, steps].
    pub pulse_steps: usize,
    /// Standard deviation of the Gaussian noise on every input sample, ≥ 0.
    pub input_noise_std: f64,
}

impl Default for FlipFlopConfig {
    fn default() -> Self {
        Self { n_bits: 3, steps: 100, pulse_prob: 0.05, pulse_steps: 1, input_noise_std: 0.0 }
    }
}

/// The flip-flop task.
#[derive(Debug, Clone)]
pub struct FlipFlop {
    cfg: FlipFlopConfig,
}

impl FlipFlop {
    /// Registered id.
    pub const ID: &'static str = "FlipFlop-v0";

    /// Validates `cfg`: each field against its bound.
    pub fn new(cfg: FlipFlopConfig) -> EnvResult<Self> {
        let id = Self::ID;
        if cfg.n_bits == 0 || cfg.n_bits > 64 {
            return Err(invalid(id, "n_bits", cfg.n_bits, "in [1, 64]"));
        }
        positive(id, "steps", cfg.steps as f64)?;
        probability(id, "pulse_prob", cfg.pulse_prob)?;
        if cfg.pulse_steps == 0 || cfg.pulse_steps > cfg.steps {
            return Err(invalid(id, "pulse_steps", cfg.pulse_steps, &format!("in [1, steps = {}]", cfg.steps)));
        }
        non_negative(id, "input_noise_std", cfg.input_noise_std)?;
        Ok(Self { cfg })
    }

    /// The parameters.
    pub fn config(&self) -> &FlipFlopConfig {
        &self.cfg
    }
}

impl Task for FlipFlop {
    fn id(&self) -> &'static str {
        Self::ID
    }
    fn n_in(&self) -> usize {
        self.cfg.n_bits
    }
    fn n_out(&self) -> usize {
        self.cfg.n_bits
    }
    fn steps(&self) -> usize {
        self.cfg.steps
    }

    fn trial(&self, rng: &mut TrialRng, inputs: &mut [f32], targets: &mut [f32], mask: &mut [f32]) {
        let c = &self.cfg;
        let n = c.n_bits;
        let mut state = vec![0.0f32; n];
        let mut set = vec![false; n];
        let mut pulse_left = vec![0usize; n];
        let mut pulse_sign = vec![0.0f32; n];
        for t in 0..c.steps {
            for k in 0..n {
                if pulse_left[k] == 0 && rng.gen::<f64>() < c.pulse_prob {
                    pulse_left[k] = c.pulse_steps;
                    pulse_sign[k] = if rng.gen::<bool>() { 1.0 } else { -1.0 };
                    state[k] = pulse_sign[k];
                    set[k] = true;
                }
                let mut x = 0.0f32;
                if pulse_left[k] > 0 {
                    x = pulse_sign[k];
                    pulse_left[k] -= 1;
                }
                if c.input_noise_std > 0.0 {
                    x += (c.input_noise_std * rng.sample::<f64, _>(StandardNormal)) as f32;
                }
                inputs[t * n + k] = x;
                targets[t * n + k] = state[k];
                mask[t * n + k] = if set[k] { 1.0 } else { 0.0 };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn targets_hold_the_last_pulse_sign() {
        let task = FlipFlop::new(FlipFlopConfig { steps: 400, ..Default::default() }).unwrap();
        let mut rng = TrialRng::seed_from_u64(1);
        let (mut x, mut y, mut m) = (vec![0.0; 1200], vec![0.0; 1200], vec![0.0; 1200]);
        task.trial(&mut rng, &mut x, &mut y, &mut m);
        let mut pulses = 0;
        for k in 0..3 {
            let mut last = 0.0;
            for t in 0..400 {
                let v = x[t * 3 + k];
                assert!(v == 0.0 || v == 1.0 || v == -1.0);
                if v != 0.0 {
                    last = v;
                    pulses += 1;
                }
                assert_eq!(y[t * 3 + k], last);
                assert_eq!(m[t * 3 + k], if last != 0.0 { 1.0 } else { 0.0 });
            }
        }
        // 1200 channel-steps at p = 0.05: 60 expected; a 4σ band.
        assert!((30..=90).contains(&pulses), "{pulses} pulses");
    }

    #[test]
    fn bad_parameters_name_field_value_and_bound() {
        let e = FlipFlop::new(FlipFlopConfig { pulse_prob: 1.5, ..Default::default() }).unwrap_err().to_string();
        assert!(e.contains("pulse_prob") && e.contains("1.5") && e.contains("[0, 1]"), "{e}");
        let e = FlipFlop::new(FlipFlopConfig { steps: 0, ..Default::default() }).unwrap_err().to_string();
        assert!(e.contains("steps") && e.contains("> 0"), "{e}");
        let e = FlipFlop::new(FlipFlopConfig { pulse_steps: 200, ..Default::default() }).unwrap_err().to_string();
        assert!(e.contains("pulse_steps") && e.contains("200"), "{e}");
    }
}
