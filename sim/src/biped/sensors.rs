//! What the robot measures: encoder bias, quantization, Gaussian noise, and velocities either
//! read directly or estimated by finite differences (variant R3).

use super::body::BodyState;
use super::geometry::N_QPOS;
use super::params::{DynamicsParams, N_ENCODERS};
use rand::Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

/// Sensor effects that the training simulator does not model (variant R3). The default is
/// the training sensor: continuous encoders and measured rates.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct SensorModel {
    /// Encoder resolution, counts per revolution (0: continuous).
    pub encoder_counts_per_rev: u32,
    /// Estimate joint and pitch rates by finite differences of the previous two measured
    /// angles (a one-step delay) instead of measuring them.
    pub finite_difference_velocities: bool,
}

/// `qpos` indices of the measured angles, in encoder order (six joints, then pitch).
const ANGLE_INDEX: [usize; N_ENCODERS] = [3, 4, 5, 6, 7, 8, 2];

/// Turns the true state into the measured one, keeping the history finite differences need.
#[derive(Debug, Clone)]
pub struct Sensors {
    model: SensorModel,
    bias: [f64; N_ENCODERS],
    angle_std: f64,
    rate_std: f64,
    dt_s: f64,
    /// Measured angles one and two control steps ago.
    history: [[f64; N_ENCODERS]; 2],
}

impl Sensors {
    /// Sensors for one episode with control period `dt_s`.
    pub fn new(model: SensorModel, params: &DynamicsParams, dt_s: f64) -> Self {
        Self {
            model,
            bias: params.encoder_bias_rad,
            angle_std: params.angle_noise_std_rad,
            rate_std: params.velocity_noise_std_rad_s,
            dt_s,
            history: [[0.0; N_ENCODERS]; 2],
        }
    }

    /// Measures `truth` into `out` (same layout). Height and linear velocities pass through;
    /// angles get bias, quantization and noise; rates get noise or are finite differences.
    /// Noise is drawn from `rng` only when its standard deviation is positive. `first` marks
    /// the first measurement of an episode (it primes the finite-difference history).
    pub fn measure<R: Rng + ?Sized>(&mut self, truth: &BodyState, rng: &mut R, first: bool, out: &mut BodyState) {
        *out = *truth;
        let mut angles = [0.0; N_ENCODERS];
        for (k, &i) in ANGLE_INDEX.iter().enumerate() {
            let mut a = truth.qpos[i] + self.bias[k];
            if self.model.encoder_counts_per_rev > 0 {
                let res = std::f64::consts::TAU / self.model.encoder_counts_per_rev as f64;
                a = (a / res).round() * res;
            }
            angles[k] = a;
        }
        if first {
            self.history = [angles; 2];
        }
        for (k, &i) in ANGLE_INDEX.iter().enumerate() {
            let noise = if self.angle_std > 0.0 { self.angle_std * rng.sample::<f64, _>(StandardNormal) } else { 0.0 };
            out.qpos[i] = angles[k] + noise;
            let rate = if self.model.finite_difference_velocities {
                (self.history[0][k] - self.history[1][k]) / self.dt_s
            } else {
                truth.qvel[i]
            };
            let noise = if self.rate_std > 0.0 { self.rate_std * rng.sample::<f64, _>(StandardNormal) } else { 0.0 };
            out.qvel[i] = rate + noise;
        }
        self.history[1] = self.history[0];
        self.history[0] = angles;
        debug_assert_eq!(out.qpos.len(), N_QPOS);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn perfect_sensors_pass_the_state_through_without_drawing() {
        let p = DynamicsParams::walker2d();
        let mut s = Sensors::new(SensorModel::default(), &p, 0.008);
        let truth = BodyState { qpos: [0.1, 1.2, 0.3, -0.1, -0.2, 0.1, -0.3, -0.4, 0.2], qvel: [1.0; N_QPOS] };
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let before = rng.clone();
        let mut out = BodyState::default();
        s.measure(&truth, &mut rng, true, &mut out);
        assert_eq!(out, truth);
        assert_eq!(rng, before);
    }

    #[test]
    fn bias_quantization_and_delayed_differences() {
        let mut p = DynamicsParams::walker2d();
        p.encoder_bias_rad = [0.02; N_ENCODERS];
        let model = SensorModel { encoder_counts_per_rev: 4096, finite_difference_velocities: true };
        let mut s = Sensors::new(model, &p, 0.008);
        let res = std::f64::consts::TAU / 4096.0;
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let mut out = BodyState::default();
        let mut truth = BodyState::default();
        let mut seen = vec![];
        for t in 0..4 {
            truth.qpos[3] = 0.01 * t as f64; // hip moving at 1.25 rad/s
            s.measure(&truth, &mut rng, t == 0, &mut out);
            let q = out.qpos[3];
            assert!(((q / res).round() * res - q).abs() < 1e-12, "quantized");
            assert!((q - truth.qpos[3] - 0.02).abs() <= res / 2.0 + 1e-12, "biased");
            seen.push(out.qvel[3]);
        }
        // Rates are differences of the two previous measurements: 0, 0, then ≈ 1.25 rad/s.
        assert_eq!(&seen[..2], &[0.0, 0.0]);
        assert!((seen[2] - 1.25).abs() < 2.0 * res / 0.008, "{seen:?}");
    }
}
