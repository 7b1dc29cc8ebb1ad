//! Physical parameters of the planar two-link arm.

use serde::{Deserialize, Serialize};

/// Mass and geometry of one link of the arm.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkParams {
    /// Mass, kg (> 0).
    pub mass_kg: f64,
    /// Length from the proximal joint to the distal joint (or hand), m (> 0).
    pub length_m: f64,
    /// Distance from the proximal joint to the centre of mass, m (in [0, length]).
    pub com_m: f64,
    /// Moment of inertia about the centre of mass, kg·m² (> 0).
    pub inertia_kg_m2: f64,
}

/// The planar two-link arm in the horizontal plane (no gravity), shoulder fixed at the
/// origin. Angles: `q[0]` the shoulder angle from the +x axis, `q[1]` the elbow angle
/// relative to the upper arm (0 = straight arm), both counter-clockwise positive.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ArmParams {
    /// Upper arm.
    pub upper: LinkParams,
    /// Forearm and hand.
    pub fore: LinkParams,
    /// Shoulder range `[min, max]`, rad.
    pub shoulder_limits_rad: [f64; 2],
    /// Elbow range `[min, max]`, rad.
    pub elbow_limits_rad: [f64; 2],
    /// Viscosity of each joint, N·m·s/rad (in [0, 0.5]).
    pub joint_viscosity_nms_rad: f64,
}

impl Default for ArmParams {
    fn default() -> Self {
        Self::nijhof_kouwenhoven()
    }
}

impl ArmParams {
    /// Nijhof & Kouwenhoven (2000), as used by MotorNet's arm26: the default.
    pub fn nijhof_kouwenhoven() -> Self {
        Self {
            upper: LinkParams { mass_kg: 1.82, length_m: 0.309, com_m: 0.135, inertia_kg_m2: 0.051 },
            fore: LinkParams { mass_kg: 1.43, length_m: 0.333, com_m: 0.165, inertia_kg_m2: 0.057 },
            shoulder_limits_rad: [0.0, 135f64.to_radians()],
            elbow_limits_rad: [0.0, 155f64.to_radians()],
            joint_viscosity_nms_rad: 0.05,
        }
    }

    /// MotorNet's `TwoDofArm` preset.
    pub fn motornet_two_dof() -> Self {
        Self {
            upper: LinkParams { mass_kg: 1.864572, length_m: 0.309, com_m: 0.180496, inertia_kg_m2: 0.013193 },
            fore: LinkParams { mass_kg: 1.534315, length_m: 0.26, com_m: 0.181479, inertia_kg_m2: 0.020062 },
            ..Self::nijhof_kouwenhoven()
        }
    }

    /// The limits of joint `i` (0 shoulder, 1 elbow).
    #[inline]
    pub fn limits(&self, i: usize) -> [f64; 2] {
        if i == 0 {
            self.shoulder_limits_rad
        } else {
            self.elbow_limits_rad
        }
    }

    /// The first field that breaks its bound, as `(field, value, bound)`.
    pub fn check(&self) -> Result<(), (&'static str, f64, &'static str)> {
        let links = [("upper", &self.upper), ("fore", &self.fore)];
        for (name, l) in links {
            let positive = [("mass_kg", l.mass_kg), ("length_m", l.length_m), ("inertia_kg_m2", l.inertia_kg_m2)];
            for (field, v) in positive {
                if !(v.is_finite() && v > 0.0) {
                    let f = if name == "upper" { upper_name(field) } else { fore_name(field) };
                    return Err((f, v, "finite and > 0"));
                }
            }
            if !(l.com_m >= 0.0 && l.com_m <= l.length_m) {
                let f = if name == "upper" { "upper.com_m" } else { "fore.com_m" };
                return Err((f, l.com_m, "in [0, length_m]"));
            }
        }
        for (field, lim) in
            [("shoulder_limits_rad", self.shoulder_limits_rad), ("elbow_limits_rad", self.elbow_limits_rad)]
        {
            if !(lim[0].is_finite() && lim[1].is_finite() && lim[0] < lim[1]) {
                return Err((field, lim[0], "finite with min < max"));
            }
        }
        if !(0.0..=0.5).contains(&self.joint_viscosity_nms_rad) {
            return Err(("joint_viscosity_nms_rad", self.joint_viscosity_nms_rad, "in [0, 0.5]"));
        }
        Ok(())
    }
}

fn upper_name(field: &str) -> &'static str {
    match field {
        "mass_kg" => "upper.mass_kg",
        "length_m" => "upper.length_m",
        _ => "upper.inertia_kg_m2",
    }
}

fn fore_name(field: &str) -> &'static str {
    match field {
        "mass_kg" => "fore.mass_kg",
        "length_m" => "fore.length_m",
        _ => "fore.inertia_kg_m2",
    }
}

/// The actuator: commands in `[-1, 1]` scaled to a maximum torque (or force, for the point
/// mass) through first-order activation dynamics.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ActuatorParams {
    /// Torque at command 1 for the arm, N·m (> 0).
    pub max_torque_nm: f64,
    /// Force at command 1 for the point mass, N (> 0).
    pub max_force_n: f64,
    /// Activation time constant (|command| rising above |activation|), s (> 0).
    pub tau_activation_s: f64,
    /// Deactivation time constant, s (> 0).
    pub tau_deactivation_s: f64,
}

impl Default for ActuatorParams {
    fn default() -> Self {
        Self { max_torque_nm: 20.0, max_force_n: 10.0, tau_activation_s: 0.015, tau_deactivation_s: 0.05 }
    }
}

impl ActuatorParams {
    /// The first field that breaks its bound, as `(field, value, bound)`.
    pub fn check(&self) -> Result<(), (&'static str, f64, &'static str)> {
        let fields = [
            ("max_torque_nm", self.max_torque_nm),
            ("max_force_n", self.max_force_n),
            ("tau_activation_s", self.tau_activation_s),
            ("tau_deactivation_s", self.tau_deactivation_s),
        ];
        for (f, v) in fields {
            if !(v.is_finite() && v > 0.0) {
                return Err((f, v, "finite and > 0"));
            }
        }
        Ok(())
    }
}
