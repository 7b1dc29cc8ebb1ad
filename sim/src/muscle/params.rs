//! Parameters of the six-muscle arm: skeleton, muscles, moment-arm polynomials, activation.

use crate::arm::ArmParams;
use serde::{Deserialize, Serialize};

/// The six lumped muscles, in MotorNet's order: shoulder flexor and extensor, elbow flexor and
/// extensor, biarticular flexor and extensor.
pub const MUSCLE_NAMES: [&str; 6] = ["pectoralis", "deltoid", "brachioradialis", "tricepslat", "biceps", "tricepslong"];

/// One Hill-type muscle with a rigid tendon.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MuscleParams {
    /// Maximum isometric force, N (> 0).
    pub max_isometric_force_n: f64,
    /// Tendon (slack) length, m (≥ 0).
    pub tendon_length_m: f64,
    /// Optimal fibre length, m (> 0).
    pub optimal_fibre_length_m: f64,
    /// Musculotendon length at the reference posture (`a0` of the length polynomial), m (> 0).
    pub length_offset_m: f64,
    /// Moment arm at the reference posture, per joint (`a1`), m.
    pub moment_arm_m: [f64; 2],
    /// Moment-arm slope per joint (`a2`): `r_j = a1_j + 2 a2_j (q_j − q_ref_j)`, m/rad.
    pub moment_arm_slope_m_rad: [f64; 2],
}

/// The whole muscle arm: MotorNet's `RigidTendonArm26` by default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MuscleArmParams {
    /// The skeleton (its joint viscosity is not used: see `damping_nms_rad`).
    pub skeleton: ArmParams,
    /// The six muscles, in [`MUSCLE_NAMES`] order.
    pub muscles: [MuscleParams; 6],
    /// Reference posture of the moment-arm polynomials (`a3`), rad.
    pub reference_posture_rad: [f64; 2],
    /// Fibre length where passive force starts, in optimal fibre lengths (> 0; MotorNet 1.4).
    pub normalized_slack_length: f64,
    /// Activation time constant, s (> 0; scaled by `0.5 + 1.5 a`).
    pub tau_activation_s: f64,
    /// Deactivation time constant, s (> 0; scaled by `1 / (0.5 + 1.5 a)`).
    pub tau_deactivation_s: f64,
    /// Floor of excitation and activation (in [0, 1)).
    pub min_activation: f64,
    /// Joint damping, N·m·s/rad (≥ 0; MotorNet's effector default 0).
    pub damping_nms_rad: f64,
    /// Integration step, s (> 0; MotorNet 0.01, one Euler step per control step).
    pub dt_s: f64,
}

impl Default for MuscleArmParams {
    fn default() -> Self {
        Self::motornet_arm26()
    }
}

impl MuscleArmParams {
    /// MotorNet 0.3.0's `RigidTendonArm26` with `RigidTendonHillMuscle` (values from its source).
    pub fn motornet_arm26() -> Self {
        let f = [838.0, 1207.0, 1422.0, 1549.0, 414.0, 603.0];
        let ls = [0.039, 0.066, 0.172, 0.187, 0.204, 0.217];
        let lo = [0.134, 0.140, 0.092, 0.093, 0.137, 0.127];
        let a0 = [0.151, 0.2322, 0.2859, 0.2355, 0.3329, 0.2989];
        let a1 = [[-0.03, 0.0], [0.03, 0.0], [0.0, -0.014], [0.0, 0.025], [-0.03, -0.016], [0.03, 0.03]];
        let a2 = [[0.0, 0.0], [0.0, 0.0], [0.0, -4e-3], [0.0, -2.2e-3], [0.0, -5.7e-3], [0.0, -3.2e-3]];
        let muscles = std::array::from_fn(|i| MuscleParams {
            max_isometric_force_n: f[i],
            tendon_length_m: ls[i],
            optimal_fibre_length_m: lo[i],
            length_offset_m: a0[i],
            moment_arm_m: a1[i],
            moment_arm_slope_m_rad: a2[i],
        });
        Self {
            skeleton: ArmParams { joint_viscosity_nms_rad: 0.0, ..ArmParams::nijhof_kouwenhoven() },
            muscles,
            reference_posture_rad: [std::f64::consts::FRAC_PI_2, 0.0],
            normalized_slack_length: 1.4,
            tau_activation_s: 0.015,
            tau_deactivation_s: 0.05,
            min_activation: 0.001,
            damping_nms_rad: 0.0,
            dt_s: 0.01,
        }
    }

    /// The first field that breaks its bound, as `(field, value, bound)`; muscle fields are
    /// named `muscles[i].field (name)`.
    pub fn check(&self) -> Result<(), (String, f64, &'static str)> {
        self.skeleton.check().map_err(|(f, v, b)| (format!("skeleton.{f}"), v, b))?;
        for (i, m) in self.muscles.iter().enumerate() {
            let name = |f: &str| format!("muscles[{i}].{f} ({})", MUSCLE_NAMES[i]);
            let positive = [
                ("max_isometric_force_n", m.max_isometric_force_n),
                ("optimal_fibre_length_m", m.optimal_fibre_length_m),
                ("length_offset_m", m.length_offset_m),
            ];
            for (f, v) in positive {
                if !(v.is_finite() && v > 0.0) {
                    return Err((name(f), v, "finite and > 0"));
                }
            }
            if !(m.tendon_length_m.is_finite() && m.tendon_length_m >= 0.0) {
                return Err((name("tendon_length_m"), m.tendon_length_m, "finite and >= 0"));
            }
            for j in 0..2 {
                if !m.moment_arm_m[j].is_finite() || m.moment_arm_m[j].abs() > 0.2 {
                    return Err((name(&format!("moment_arm_m[{j}]")), m.moment_arm_m[j], "finite with |r| <= 0.2 m"));
                }
                if !m.moment_arm_slope_m_rad[j].is_finite() {
                    return Err((name(&format!("moment_arm_slope_m_rad[{j}]")), m.moment_arm_slope_m_rad[j], "finite"));
                }
            }
        }
        let positive = [
            ("normalized_slack_length", self.normalized_slack_length),
            ("tau_activation_s", self.tau_activation_s),
            ("tau_deactivation_s", self.tau_deactivation_s),
            ("dt_s", self.dt_s),
        ];
        for (f, v) in positive {
            if !(v.is_finite() && v > 0.0) {
                return Err((f.to_string(), v, "finite and > 0"));
            }
        }
        // The passive-force gain 1 / (1.66 − slack)² needs slack < 1.66.
        if self.normalized_slack_length >= 1.66 {
            return Err(("normalized_slack_length".into(), self.normalized_slack_length, "< 1.66"));
        }
        if !(0.0..1.0).contains(&self.min_activation) {
            return Err(("min_activation".into(), self.min_activation, "in [0, 1)"));
        }
        if !(self.damping_nms_rad.is_finite() && self.damping_nms_rad >= 0.0) {
            return Err(("damping_nms_rad".into(), self.damping_nms_rad, "finite and >= 0"));
        }
        for (f, v) in [
            ("reference_posture_rad[0]", self.reference_posture_rad[0]),
            ("reference_posture_rad[1]", self.reference_posture_rad[1]),
        ] {
            if !v.is_finite() {
                return Err((f.into(), v, "finite"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_pass_and_non_physical_fields_are_named() {
        MuscleArmParams::default().check().unwrap();
        let mut p = MuscleArmParams::default();
        p.muscles[2].optimal_fibre_length_m = -0.05;
        let (f, v, _) = p.check().unwrap_err();
        assert_eq!(f, "muscles[2].optimal_fibre_length_m (brachioradialis)");
        assert_eq!(v, -0.05);
        let mut p = MuscleArmParams::default();
        p.muscles[4].max_isometric_force_n = 0.0;
        assert_eq!(p.check().unwrap_err().0, "muscles[4].max_isometric_force_n (biceps)");
    }
}
