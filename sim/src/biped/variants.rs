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
use super::params::{DynamicsParams, ParamError, N_ENCODERS};
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

/// Valid range of a family's severity: 0 is the robot's training draw with nothing of the
/// family applied, 1 the full family (the held-out robots of [`real_robot`]).
pub const SEVERITY_RANGE: [f64; 2] = [0.0, 1.0];

/// Robot `index` (taken modulo [`ROBOTS_PER_FAMILY`]) of `variant`, built around the
/// training distribution `dist`: the full family (severity 1, see [`real_robot_graded`]).
pub fn real_robot(variant: RealVariant, index: usize, dist: &DynamicsDistribution) -> RealRobot {
    real_robot_graded(variant, index, dist, 1.0).expect("severity 1 is in range")
}

/// `(1 − s)·a + s·b`: exactly `a` at 0 and exactly `b` at 1.
fn lerp(a: f64, b: f64, s: f64) -> f64 {
    (1.0 - s) * a + s * b
}

/// Robot `index` of `variant` at `severity` in [`SEVERITY_RANGE`]: every continuous change of
/// the family interpolated linearly between the robot's training draw (0) and the family's
/// value (1); the discrete changes (R3's finite-difference velocities, R4's 1 ms step and
/// friction rule) switch on at severity ≥ 0.5. R2's torque limit goes from 120 N·m (the
/// strongest training motor, never binding) to 80 N·m; R3's quantum from 0 to 2π/4096 rad.
/// A severity outside the range (or not finite) is refused, naming the value and the bound.
pub fn real_robot_graded(
    variant: RealVariant,
    index: usize,
    dist: &DynamicsDistribution,
    severity: f64,
) -> Result<RealRobot, ParamError> {
    let s = severity;
    if !(s.is_finite() && (SEVERITY_RANGE[0]..=SEVERITY_RANGE[1]).contains(&s)) {
        return Err(ParamError { name: "severity".into(), value: s, bound: "in [0, 1]".into() });
    }
    let index = index % ROBOTS_PER_FAMILY;
    let mut rng = ChaCha8Rng::seed_from_u64(FAMILY_SEED + (variant.index() * ROBOTS_PER_FAMILY + index) as u64);
    let mut params = dist.sample(&mut rng);
    let mut actuator = ActuatorModel::default();
    let mut sensor = SensorModel::default();
    let mut settings = SimSettings::default();
    let n = &dist.nominal;
    let strong = s >= 0.5;
    match variant {
        RealVariant::R1 => {
            params.link_mass_kg[0] = lerp(params.link_mass_kg[0], 1.45 * n.link_mass_kg[0], s);
            params.foot_friction = lerp(params.foot_friction, 0.3, s);
            params.joint_damping = std::array::from_fn(|j| lerp(params.joint_damping[j], 2.5 * n.joint_damping[j], s));
            params.motor_strength_nm =
                std::array::from_fn(|j| lerp(params.motor_strength_nm[j], 0.7 * n.motor_strength_nm[j], s));
            let slope = if index.is_multiple_of(2) { 0.06 } else { -0.06 };
            params.slope_rad = lerp(params.slope_rad, slope, s);
        }
        RealVariant::R2 => {
            params.action_latency_steps = 0;
            actuator = ActuatorModel {
                command_latency_s: 0.016 * s,
                torque_lag_s: 0.025 * s,
                backlash_rad: [0.0, 0.02 * s, 0.02 * s, 0.0, 0.02 * s, 0.02 * s],
                coulomb_friction_nm: 1.5 * s,
                torque_limit_nm: Some(lerp(120.0, 80.0, s)),
            };
        }
        RealVariant::R3 => {
            for k in 0..N_ENCODERS {
                let magnitude: f64 = rng.gen_range(0.015..=0.02);
                let bias = if rng.gen::<bool>() { magnitude } else { -magnitude };
                params.encoder_bias_rad[k] = lerp(params.encoder_bias_rad[k], bias, s);
            }
            let counts = if s > 0.0 { (4096.0 / s).round().min(u32::MAX as f64) as u32 } else { 0 };
            sensor = SensorModel { encoder_counts_per_rev: counts, finite_difference_velocities: strong };
        }
        RealVariant::R4 => {
            let train = SimSettings::default();
            let (combine, ground) =
                if strong { (FrictionCombine::Average, 1.0) } else { (train.friction_combine, train.ground_friction) };
            settings = SimSettings {
                dt_s: if strong { 0.001 } else { train.dt_s },
                solver_iterations: lerp(train.solver_iterations as f64, 4.0, s).round() as usize,
                contact_natural_frequency_hz: lerp(train.contact_natural_frequency_hz, 30.0, s),
                contact_damping_ratio: lerp(train.contact_damping_ratio, 5.0, s),
                friction_combine: combine,
                ground_friction: ground,
            };
        }
    }
    Ok(RealRobot { variant, index, params, actuator, sensor, settings })
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

    #[test]
    fn severity_grades_each_family_from_a_training_robot_to_the_full_family() {
        let dist = DynamicsDistribution::default();
        let (ideal_a, ideal_s, train) = (ActuatorModel::default(), SensorModel::default(), SimSettings::default());
        for v in RealVariant::ALL {
            for i in 0..ROBOTS_PER_FAMILY {
                // Severity 1 is the held-out robot itself, bit for bit.
                assert_eq!(real_robot_graded(v, i, &dist, 1.0).unwrap(), real_robot(v, i, &dist));
                // Severity 0 is a robot of the training distribution with the ideal models
                // (R2's 120 N·m limit never binds: the strongest training motor is 120 N·m).
                let r0 = real_robot_graded(v, i, &dist, 0.0).unwrap();
                assert!(dist.contains(&r0.params), "{v:?} {i} at severity 0");
                assert_eq!(r0.sensor, ideal_s);
                assert_eq!(r0.settings, train);
                if v != RealVariant::R2 {
                    assert_eq!(r0.actuator, ideal_a);
                }
            }
        }
        // Monotone in between: R1's torso mass rises and friction falls; R2's latency rises.
        let r1 = |s| real_robot_graded(RealVariant::R1, 0, &dist, s).unwrap().params;
        let (a, b, c) = (r1(0.0), r1(0.5), r1(1.0));
        assert!(a.link_mass_kg[0] < b.link_mass_kg[0] && b.link_mass_kg[0] < c.link_mass_kg[0]);
        assert!(a.foot_friction > b.foot_friction && b.foot_friction > c.foot_friction);
        assert!((b.foot_friction - 0.5 * (a.foot_friction + 0.3)).abs() < 1e-12);
        let r2 = real_robot_graded(RealVariant::R2, 0, &dist, 0.5).unwrap().actuator;
        assert!((r2.command_latency_s - 0.008).abs() < 1e-15);
        assert_eq!(r2.torque_limit_nm, Some(100.0));
        let r3 = real_robot_graded(RealVariant::R3, 0, &dist, 0.5).unwrap().sensor;
        assert_eq!(r3, SensorModel { encoder_counts_per_rev: 8192, finite_difference_velocities: true });
    }

    #[test]
    fn severity_outside_its_range_is_refused_naming_value_and_bound() {
        let dist = DynamicsDistribution::default();
        for bad in [-0.1, 1.5, f64::NAN, f64::INFINITY] {
            let e = real_robot_graded(RealVariant::R1, 0, &dist, bad).unwrap_err();
            assert_eq!(e.name, "severity");
            assert_eq!(e.bound, "in [0, 1]");
            let msg = e.to_string();
            assert!(msg.contains("severity") && msg.contains("[0, 1]"), "{msg}");
        }
    }
}
