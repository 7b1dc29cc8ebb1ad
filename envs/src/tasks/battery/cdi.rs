//! Context-dependent integration (Mante, Sussillo, Shenoy & Newsome 2013, "Context-dependent
//! computation by recurrent dynamics in prefrontal cortex"; the second task of Maheswaranathan
//! et al. 2019).
//!
//! ## Inputs (4 channels)
//! `[motion, colour, context_motion, context_colour]`. A trial draws a motion and a colour
//! coherence independently and uniformly from `coherences`, and a context (motion or colour,
//! equally likely). During the stimulus epoch each sensory channel carries its coherence plus
//! Gaussian noise of standard deviation `input_noise_std` per step; it is 0 during the
//! fixation and response epochs. The context channel of the trial's context is 1 for the
//! whole trial, the other 0 (Mante et al.: the contextual cue stays on).
//! ## Timing
//! `fixation_steps` (cue only), `stimulus_steps` (evidence), `response_steps` (report).
//! ## Target (1 channel) and loss mask
//! With `target = "integral"` (default; Maheswaranathan et al. 2019, Fig. 3a: the
//! contextually selected white-noise stream "is integrated as output of the network"): the
//! running integral of the relevant channel as presented (noise included), in units of the
//! stimulus epoch, `y_t = (1/stimulus_steps) Σ_{s ≤ t} x_rel(s)`: 0 in fixation, the running
//! sum during the stimulus, held through the response; mask 1 everywhere. The target is a
//! linear function of the inputs, so a perfect integrator reaches zero loss and a normalized
//! MSE criterion is reachable in principle.
//!
//! The two decision targets (Mante et al.'s report): fixation target 0, mask 1 (hold still);
//! stimulus mask 0 (free to integrate); response target ±1, mask 1. With `target =
//! "evidence"` the sign is that of the relevant channel summed over the stimulus as presented;
//! with `target = "coherence"` it is the sign of the relevant coherence, as in Mante et al.'s
//! training. A step target on the sign of a noisy sum is discontinuous in the inputs (at
//! coherence 0.05 the relevant sum's mean, 2.5, is 0.71 of its noise sd, 0.5·√50), so a
//! smooth network's normalized MSE stays well above 0.01 on many trials near the boundary.
//! ## Defaults
//! 10 + 50 + 10 steps; coherences ±{0.05, 0.1, 0.2, 0.4}; noise std 0.5; integral target.

use super::{invalid, non_negative, positive, Task, TrialRng};
use crate::error::EnvResult;
use rand::Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

/// What the response reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CdiTarget {
    /// Running integral of the relevant input (Maheswaranathan et al. 2019).
    Integral,
    /// Sign of the relevant input summed over the stimulus, as presented.
    Evidence,
    /// Sign of the relevant coherence (Mante et al.).
    Coherence,
}

/// Parameters of [`ContextIntegration`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ContextIntegrationConfig {
    /// Steps of fixation (context cue only), ≥ 0.
    pub fixation_steps: usize,
    /// Steps of evidence, ≥ 1.
    pub stimulus_steps: usize,
    /// Steps of the report, ≥ 1.
    pub response_steps: usize,
    /// Coherences drawn from (non-empty, finite, none zero).
    pub coherences: Vec<f64>,
    /// Standard deviation of the per-step sensory noise, ≥ 0.
    pub input_noise_std: f64,
    /// What the response reports.
    pub target: CdiTarget,
}

impl Default for ContextIntegrationConfig {
    fn default() -> Self {
        Self {
            fixation_steps: 10,
            stimulus_steps: 50,
            response_steps: 10,
            coherences: vec![-0.4, -0.2, -0.1, -0.05, 0.05, 0.1, 0.2, 0.4],
            input_noise_std: 0.5,
            target: CdiTarget::Integral,
        }
    }
}

/// The context-dependent integration task.
#[derive(Debug, Clone)]
pub struct ContextIntegration {
    cfg: ContextIntegrationConfig,
}

impl ContextIntegration {
    /// Registered id.
    pub const ID: &'static str = "ContextIntegration-v0";

    /// Validates `cfg`: each field against its bound.
    pub fn new(cfg: ContextIntegrationConfig) -> EnvResult<Self> {
        let id = Self::ID;
        positive(id, "stimulus_steps", cfg.stimulus_steps as f64)?;
        positive(id, "response_steps", cfg.response_steps as f64)?;
        if cfg.coherences.is_empty() {
            return Err(invalid(id, "coherences", "[]", "non-empty"));
        }
        for &c in &cfg.coherences {
            if !c.is_finite() || c == 0.0 {
                return Err(invalid(id, "coherences", c, "finite and ≠ 0"));
            }
        }
        non_negative(id, "input_noise_std", cfg.input_noise_std)?;
        Ok(Self { cfg })
    }

    /// The parameters.
    pub fn config(&self) -> &ContextIntegrationConfig {
        &self.cfg
    }
}

impl Task for ContextIntegration {
    fn id(&self) -> &'static str {
        Self::ID
    }
    fn n_in(&self) -> usize {
        4
    }
    fn n_out(&self) -> usize {
        1
    }
    fn steps(&self) -> usize {
        self.cfg.fixation_steps + self.cfg.stimulus_steps + self.cfg.response_steps
    }

    fn trial(&self, rng: &mut TrialRng, inputs: &mut [f32], targets: &mut [f32], mask: &mut [f32]) {
        let c = &self.cfg;
        let coh =
            [c.coherences[rng.gen_range(0..c.coherences.len())], c.coherences[rng.gen_range(0..c.coherences.len())]];
        let ctx = usize::from(rng.gen::<bool>());
        let (f, s) = (c.fixation_steps, c.stimulus_steps);
        inputs.fill(0.0);
        let mut evidence = 0.0f64;
        for t in 0..self.steps() {
            inputs[t * 4 + 2 + ctx] = 1.0;
            if (f..f + s).contains(&t) {
                for (k, &ck) in coh.iter().enumerate() {
                    let v = (ck + c.input_noise_std * rng.sample::<f64, _>(StandardNormal)) as f32;
                    inputs[t * 4 + k] = v;
                    if k == ctx {
                        evidence += v as f64;
                    }
                }
            }
        }
        let sign = match c.target {
            CdiTarget::Integral => {
                self.write_integral(inputs, ctx, targets, mask);
                return;
            }
            CdiTarget::Evidence => evidence,
            CdiTarget::Coherence => coh[ctx],
        };
        let y = if sign >= 0.0 { 1.0 } else { -1.0 };
        for t in 0..self.steps() {
            let (target, m) = if t < f {
                (0.0, 1.0)
            } else if t < f + s {
                (0.0, 0.0)
            } else {
                (y, 1.0)
            };
            targets[t] = target;
            mask[t] = m;
        }
    }
}

impl ContextIntegration {
    /// The integral target: the running sum of the relevant channel `ctx` over the stimulus
    /// epoch divided by its length, held after it; mask 1 everywhere.
    fn write_integral(&self, inputs: &[f32], ctx: usize, targets: &mut [f32], mask: &mut [f32]) {
        let dt = 1.0 / self.cfg.stimulus_steps as f64;
        let mut acc = 0.0f64;
        for t in 0..self.steps() {
            acc += dt * inputs[t * 4 + ctx] as f64;
            targets[t] = acc as f32;
            mask[t] = 1.0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn response_reports_the_cued_channel() {
        let cfg = ContextIntegrationConfig { target: CdiTarget::Evidence, ..Default::default() };
        let task = ContextIntegration::new(cfg).unwrap();
        let t = task.steps();
        assert_eq!(t, 70);
        let (mut agree_other, n) = (0, 400);
        for seed in 0..n {
            let mut rng = TrialRng::seed_from_u64(seed);
            let (mut x, mut y, mut m) = (vec![0.0; t * 4], vec![0.0; t], vec![0.0; t]);
            task.trial(&mut rng, &mut x, &mut y, &mut m);
            let ctx = if x[2] == 1.0 { 0 } else { 1 };
            assert_eq!(x[2] + x[3], 1.0);
            let sum = |k: usize| (10..60).map(|s| x[s * 4 + k] as f64).sum::<f64>();
            let want = if sum(ctx) >= 0.0 { 1.0 } else { -1.0 };
            assert!(y[60..].iter().all(|&v| v == want));
            assert!(m[..10].iter().all(|&v| v == 1.0) && m[10..60].iter().all(|&v| v == 0.0));
            assert!(x[..40].iter().enumerate().all(|(i, &v)| i % 4 >= 2 || v == 0.0), "no evidence in fixation");
            if (sum(1 - ctx) >= 0.0) == (want > 0.0) {
                agree_other += 1;
            }
        }
        // The irrelevant channel is independent: it agrees with the answer about half the time.
        assert!((140..=260).contains(&agree_other), "{agree_other}/{n}");
        let e = ContextIntegration::new(ContextIntegrationConfig { stimulus_steps: 0, ..Default::default() })
            .unwrap_err()
            .to_string();
        assert!(e.contains("stimulus_steps") && e.contains("> 0"), "{e}");
    }

    #[test]
    fn integral_target_is_the_running_sum_of_the_cued_channel() {
        let task = ContextIntegration::new(ContextIntegrationConfig::default()).unwrap();
        let t = task.steps();
        for seed in 0..50 {
            let mut rng = TrialRng::seed_from_u64(seed);
            let (mut x, mut y, mut m) = (vec![0.0; t * 4], vec![0.0; t], vec![0.0; t]);
            task.trial(&mut rng, &mut x, &mut y, &mut m);
            let ctx = if x[2] == 1.0 { 0 } else { 1 };
            assert!(m.iter().all(|&v| v == 1.0));
            assert!(y[..10].iter().all(|&v| v == 0.0), "zero in fixation");
            let mut acc = 0.0f64;
            for s in 0..t {
                acc += x[s * 4 + ctx] as f64 / 50.0;
                assert!((y[s] as f64 - acc).abs() < 1e-6, "seed {seed} step {s}: {} vs {acc}", y[s]);
            }
            assert!(y[60..].iter().all(|&v| v == y[59]), "held through the response");
        }
    }
}
