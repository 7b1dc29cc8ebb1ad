//! The held-out "real" robots: four families of five fixed robots each, never sampled in
//! training. Each robot starts from a fixed draw of the training distribution (its
//! manufacturing spread) and adds what its family changes:
//!
//! - R1 extrapolation: torso mass ×1.45, foot friction 0.3, damping ×2.5, motors ×0.7,
//!   slope ±0.06 rad — every one beyond the training ranges;
//! - R2 unmodelled actuator: 16 ms command latency, 25 ms first-order torque lag, knee and
//!   ankle backlash ±0.02 rad, Coulomb joint friction 1.5 N·m, torque saturation 80 N·m;
//! - R3 sensors: 4096-count encoders, biases of 0.015–0.02 rad (twice the training range),
//!   velocities by finite differences with a one-step delay;
//! - R4 simulator mismatch: 1 ms step, 4 solver iterations, a softer ground contact, and
//!   friction averaged with a ground of coefficient 1 instead of MuJoCo's max rule.

use super::actuator::ActuatorModel;
use super::distribution::DynamicsDistribution;
use super::params::{DynamicsParams, N_ENCODERS};
use super::sensors::SensorModel;
use super::settings::{FrictionCombine, SimSettings};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Robots per family.
pub const ROBOTS_PER_FAMILY: usize = 5;

/// Seed of the families' fixed draws (changing it changes every held-out robot).
const FAMILY_SEED: u64 = 0x5eed_b1ed_0000;

/// A held-out family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RealVariant {
    /// Parameters beyond the training ranges.
    R1,
    /// Actuator effects the simulator does not model.
    R2,
    /// Sensor effects the simulator does not model.
    R3,
    /// A different simulator.
    R4,
}

impl RealVariant {
    /// All four, in order.
    pub const ALL: [RealVariant; 4] = [RealVariant::R1, RealVariant::R2, RealVariant::R3, RealVariant::R4];

    /// Position in [`RealVariant::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

/// One held-out robot: everything that differs from the training simulator.
#[derive(Debug, Clone, PartialEq)]
pub struct RealRobot {
    /// Its family.
    pub variant: RealVariant,
    /// Index within the family, `0..ROBOTS_PER_FAMILY`.
    pub index: usize,
    /// Its dynamics parameters.
    pub params: DynamicsParams,
    /// Its actuators.
    pub actuator: ActuatorModel,
    /// Its sensors.
    pub sensor: SensorModel,
    /// The simulator that stands in for reality.
    pub settings: SimSettings,
}

/// Robot `index` (taken modulo [`ROBOTS_PER_FAMILY`]) of `variant`, built around the
/// training distribution `dist`.
pub fn real_robot(variant: RealVariant, index: usize, dist: &DynamicsDistribution) -> RealRobot {
    let index = index % ROBOTS_PER_FAMILY;
    let mut rng = ChaCha8Rng::seed_from_u64(FAMILY_SEED + (variant.index() * ROBOTS_PER_FAMILY + index) as u64);
    let mut params = dist.sample(&mut rng);
    let mut actuator = ActuatorModel::default();
    let mut sensor = SensorModel::default();
    let mut settings = SimSettings::default();
    let n = &dist.nominal;
    match variant {
        RealVariant::R1 => {
            params.link_mass_kg[0] = 1.45 * n.link_mass_kg[0];
            params.foot_friction = 0.3;
            params.joint_damping = std::array::from_fn(|j| 2.5 * n.joint_damping[j]);
            params.motor_strength_nm = std::array::from_fn(|j| 0.7 * n.motor_strength_nm[j]);
            params.slope_rad = if index.is_multiple_of(2) { 0.06 } else { -0.06 };
        }
        RealVariant::R2 => {
            params.action_latency_steps = 0;
            actuator = ActuatorModel {
                command_latency_s: 0.016,
                torque_lag_s: 0.025,
                backlash_rad: [0.0, 0.02, 0.02, 0.0, 0.02, 0.02],
                coulomb_friction_nm: 1.5,
                torque_limit_nm: Some(80.0),
            };
        }
        RealVariant::R3 => {
            for k in 0..N_ENCODERS {
                let magnitude: f64 = rng.gen_range(0.015..=0.02);
                params.encoder_bias_rad[k] = if rng.gen::<bool>() { magnitude } else { -magnitude };
            }
            sensor = SensorModel { encoder_counts_per_rev: 4096, finite_difference_velocities: true };
        }
        RealVariant::R4 => {
            settings = SimSettings {
                dt_s: 0.001,
                solver_iterations: 4,
                contact_natural_frequency_hz: 30.0,
                contact_damping_ratio: 5.0,
                friction_combine: FrictionCombine::Average,
                ground_friction: 1.0,
            };
        }
    }
    RealRobot { variant, index, params, actuator, sensor, settings }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_robot_is_out_of_the_training_distribution() {
        let dist = DynamicsDistribution::default();
        let (ideal_a, ideal_s, train) = (ActuatorModel::default(), SensorModel::default(), SimSettings::default());
        let mut seen = vec![];
        for v in RealVariant::ALL {
            for i in 0..ROBOTS_PER_FAMILY {
                let r = real_robot(v, i, &dist);
                assert!(r.params.validate().is_ok());
                let outside = !dist.contains(&r.params);
                let unmodelled = r.actuator != ideal_a || r.sensor != ideal_s || r.settings != train;
                assert!(outside || unmodelled, "{v:?} robot {i} can be sampled in training");
                assert_eq!(r, real_robot(v, i, &dist), "fixed");
                assert_eq!(r, real_robot(v, i + ROBOTS_PER_FAMILY, &dist), "index modulo 5");
                seen.push(r.params.clone());
            }
        }
        // R1 is outside in parameters alone; the robots of a family differ from each other.
        assert!((0..5).all(|i| !dist.contains(&real_robot(RealVariant::R1, i, &dist).params)));
        for a in 0..seen.len() {
            for b in a + 1..seen.len() {
                assert_ne!(seen[a], seen[b]);
            }
        }
    }
}
