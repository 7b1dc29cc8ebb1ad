//! `DynamicsParams`: the physical and sensor parameters of one biped, as data.

use super::geometry::{
    BODY_FRICTION, MOTOR_GEAR_NM, N_JOINTS, N_LINKS, SEGMENTS, WALKER2D_FOOT_FRICTION, WALKER2D_JOINT_DAMPING,
};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Number of scalar parameters in a [`DynamicsParams`].
pub const N_PARAMS: usize = 33;

/// Number of encoder biases: the six joints, then the torso pitch.
pub const N_ENCODERS: usize = N_JOINTS + 1;

/// What a parameter is, so a distribution knows how to draw and normalize it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamGroup {
    /// Mass of link `i`, kg (a factor on the nominal).
    LinkMass(usize),
    /// Torso centre-of-mass offset along the torso's x (0) or z (1) axis, m.
    TorsoComOffset(usize),
    /// Viscous damping of joint `i`, N·m·s/rad (a factor on the nominal).
    JointDamping(usize),
    /// Torque of joint `i`'s motor at a unit command, N·m (a factor on the nominal).
    MotorStrength(usize),
    /// Effective foot–ground friction coefficient.
    FootFriction,
    /// Ground slope, rad (positive: uphill in +x).
    Slope,
    /// Constant bias of encoder `i` (joints, then pitch), rad.
    EncoderBias(usize),
    /// Standard deviation of the Gaussian noise on measured angles, rad.
    AngleNoise,
    /// Standard deviation of the Gaussian noise on measured angular velocities, rad/s.
    VelocityNoise,
    /// Delay between an action and its effect, control steps.
    ActionLatency,
}

/// Name (the reset-option and info key), group and unit of each parameter, in flat order.
pub const PARAMS: [(&str, ParamGroup); N_PARAMS] = [
    ("mass_torso_kg", ParamGroup::LinkMass(0)),
    ("mass_thigh_right_kg", ParamGroup::LinkMass(1)),
    ("mass_shin_right_kg", ParamGroup::LinkMass(2)),
    ("mass_foot_right_kg", ParamGroup::LinkMass(3)),
    ("mass_thigh_left_kg", ParamGroup::LinkMass(4)),
    ("mass_shin_left_kg", ParamGroup::LinkMass(5)),
    ("mass_foot_left_kg", ParamGroup::LinkMass(6)),
    ("torso_com_x_m", ParamGroup::TorsoComOffset(0)),
    ("torso_com_z_m", ParamGroup::TorsoComOffset(1)),
    ("damping_hip_right", ParamGroup::JointDamping(0)),
    ("damping_knee_right", ParamGroup::JointDamping(1)),
    ("damping_ankle_right", ParamGroup::JointDamping(2)),
    ("damping_hip_left", ParamGroup::JointDamping(3)),
    ("damping_knee_left", ParamGroup::JointDamping(4)),
    ("damping_ankle_left", ParamGroup::JointDamping(5)),
    ("motor_hip_right_nm", ParamGroup::MotorStrength(0)),
    ("motor_knee_right_nm", ParamGroup::MotorStrength(1)),
    ("motor_ankle_right_nm", ParamGroup::MotorStrength(2)),
    ("motor_hip_left_nm", ParamGroup::MotorStrength(3)),
    ("motor_knee_left_nm", ParamGroup::MotorStrength(4)),
    ("motor_ankle_left_nm", ParamGroup::MotorStrength(5)),
    ("foot_friction", ParamGroup::FootFriction),
    ("slope_rad", ParamGroup::Slope),
    ("bias_hip_right_rad", ParamGroup::EncoderBias(0)),
    ("bias_knee_right_rad", ParamGroup::EncoderBias(1)),
    ("bias_ankle_right_rad", ParamGroup::EncoderBias(2)),
    ("bias_hip_left_rad", ParamGroup::EncoderBias(3)),
    ("bias_knee_left_rad", ParamGroup::EncoderBias(4)),
    ("bias_ankle_left_rad", ParamGroup::EncoderBias(5)),
    ("bias_pitch_rad", ParamGroup::EncoderBias(6)),
    ("noise_angle_rad", ParamGroup::AngleNoise),
    ("noise_velocity_rad_s", ParamGroup::VelocityNoise),
    ("action_latency_steps", ParamGroup::ActionLatency),
];

/// Longest action latency a parameter set may ask for, control steps.
pub const MAX_ACTION_LATENCY_STEPS: u32 = 8;
/// Largest torso centre-of-mass offset accepted, m (the torso is 0.5 m long with its caps).
pub const MAX_COM_OFFSET_M: f64 = 0.2;
/// Largest ground slope accepted, rad.
pub const MAX_SLOPE_RAD: f64 = 0.5;
/// Largest encoder bias accepted, rad.
pub const MAX_ENCODER_BIAS_RAD: f64 = 0.5;

/// A parameter value out of its physical bounds.
#[derive(Debug, Clone, PartialEq, Error)]
#[error("dynamics parameter `{name}` = {value} must be {bound}")]
pub struct ParamError {
    /// Parameter name (a key of [`PARAMS`]).
    pub name: String,
    /// The value given.
    pub value: f64,
    /// The bound it broke.
    pub bound: String,
}

/// The true dynamics of one biped: what dynamics randomization samples per episode and what
/// an env reports in `info` (never in the observation unless its oracle flag is set).
///
/// The default is Walker2d-v5: its masses, damping 0.1 N·m·s/rad, motors ±100 N·m, foot
/// friction 1.9, flat ground, perfect sensors, no latency.
///
/// ```
/// use engram_sim::biped::{DynamicsParams, PARAMS};
/// let mut p = DynamicsParams::default();
/// assert_eq!(p.get(0), 3.665); // torso mass, kg
/// p.set_by_name("foot_friction", 0.8).unwrap();
/// assert_eq!(p.foot_friction, 0.8);
/// assert!(p.set_by_name("mass_torso_kg", -1.0).is_err());
/// assert_eq!(PARAMS.len(), 33);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DynamicsParams {
    /// Link masses in link order (torso, thigh/shin/foot right, then left), kg.
    pub link_mass_kg: [f64; N_LINKS],
    /// Offset of the torso's centre of mass from its geometric centre, along the torso's
    /// forward (x) and long (z) axes, m.
    pub torso_com_offset_m: [f64; 2],
    /// Viscous joint damping in action order, N·m·s/rad.
    pub joint_damping: [f64; N_JOINTS],
    /// Motor torque at a unit command in action order, N·m (Walker2d's gear).
    pub motor_strength_nm: [f64; N_JOINTS],
    /// Effective friction coefficient between the feet and the ground.
    pub foot_friction: f64,
    /// Ground slope, rad; positive is uphill in the walking direction.
    pub slope_rad: f64,
    /// Constant encoder biases (six joints in action order, then the torso pitch), rad.
    pub encoder_bias_rad: [f64; N_ENCODERS],
    /// Standard deviation of Gaussian noise on the measured joint angles and pitch, rad.
    pub angle_noise_std_rad: f64,
    /// Standard deviation of Gaussian noise on measured joint and pitch rates, rad/s.
    pub velocity_noise_std_rad_s: f64,
    /// Control steps between an action and its effect.
    pub action_latency_steps: u32,
}

impl Default for DynamicsParams {
    fn default() -> Self {
        Self::walker2d()
    }
}

impl DynamicsParams {
    /// Walker2d-v5's parameters.
    pub fn walker2d() -> Self {
        Self {
            link_mass_kg: SEGMENTS.map(|s| s.mass_kg),
            torso_com_offset_m: [0.0; 2],
            joint_damping: [WALKER2D_JOINT_DAMPING; N_JOINTS],
            motor_strength_nm: [MOTOR_GEAR_NM; N_JOINTS],
            foot_friction: WALKER2D_FOOT_FRICTION,
            slope_rad: 0.0,
            encoder_bias_rad: [0.0; N_ENCODERS],
            angle_noise_std_rad: 0.0,
            velocity_noise_std_rad_s: 0.0,
            action_latency_steps: 0,
        }
    }

    /// Friction of the links other than the feet (not a randomized parameter).
    pub fn body_friction(&self) -> f64 {
        BODY_FRICTION
    }

    /// Total mass, kg.
    pub fn total_mass_kg(&self) -> f64 {
        self.link_mass_kg.iter().sum()
    }

    /// Index of the parameter called `name` in [`PARAMS`].
    pub fn index_of(name: &str) -> Option<usize> {
        PARAMS.iter().position(|(n, _)| *n == name)
    }

    /// Value of parameter `i` (flat order of [`PARAMS`]).
    ///
    /// # Panics
    /// If `i >= N_PARAMS`.
    pub fn get(&self, i: usize) -> f64 {
        match PARAMS[i].1 {
            ParamGroup::LinkMass(k) => self.link_mass_kg[k],
            ParamGroup::TorsoComOffset(k) => self.torso_com_offset_m[k],
            ParamGroup::JointDamping(k) => self.joint_damping[k],
            ParamGroup::MotorStrength(k) => self.motor_strength_nm[k],
            ParamGroup::FootFriction => self.foot_friction,
            ParamGroup::Slope => self.slope_rad,
            ParamGroup::EncoderBias(k) => self.encoder_bias_rad[k],
            ParamGroup::AngleNoise => self.angle_noise_std_rad,
            ParamGroup::VelocityNoise => self.velocity_noise_std_rad_s,
            ParamGroup::ActionLatency => self.action_latency_steps as f64,
        }
    }

    /// All values in flat order.
    pub fn to_array(&self) -> [f64; N_PARAMS] {
        std::array::from_fn(|i| self.get(i))
    }

    /// Sets parameter `i` after checking its physical bound.
    ///
    /// # Panics
    /// If `i >= N_PARAMS`.
    pub fn set(&mut self, i: usize, value: f64) -> Result<(), ParamError> {
        let (name, group) = PARAMS[i];
        let err = |bound: &str| ParamError { name: name.to_string(), value, bound: bound.to_string() };
        if !value.is_finite() {
            return Err(err("finite"));
        }
        match group {
            ParamGroup::LinkMass(k) if value > 0.0 => self.link_mass_kg[k] = value,
            ParamGroup::LinkMass(_) => return Err(err("> 0")),
            ParamGroup::TorsoComOffset(k) if value.abs() <= MAX_COM_OFFSET_M => self.torso_com_offset_m[k] = value,
            ParamGroup::TorsoComOffset(_) => return Err(err("in [-0.2, 0.2]")),
            ParamGroup::JointDamping(k) if value >= 0.0 => self.joint_damping[k] = value,
            ParamGroup::MotorStrength(k) if value >= 0.0 => self.motor_strength_nm[k] = value,
            ParamGroup::FootFriction if value >= 0.0 => self.foot_friction = value,
            ParamGroup::AngleNoise if value >= 0.0 => self.angle_noise_std_rad = value,
            ParamGroup::VelocityNoise if value >= 0.0 => self.velocity_noise_std_rad_s = value,
            ParamGroup::JointDamping(_)
            | ParamGroup::MotorStrength(_)
            | ParamGroup::FootFriction
            | ParamGroup::AngleNoise
            | ParamGroup::VelocityNoise => return Err(err(">= 0")),
            ParamGroup::Slope if value.abs() <= MAX_SLOPE_RAD => self.slope_rad = value,
            ParamGroup::Slope => return Err(err("in [-0.5, 0.5]")),
            ParamGroup::EncoderBias(k) if value.abs() <= MAX_ENCODER_BIAS_RAD => self.encoder_bias_rad[k] = value,
            ParamGroup::EncoderBias(_) => return Err(err("in [-0.5, 0.5]")),
            ParamGroup::ActionLatency
                if value.fract() == 0.0 && (0.0..=MAX_ACTION_LATENCY_STEPS as f64).contains(&value) =>
            {
                self.action_latency_steps = value as u32
            }
            ParamGroup::ActionLatency => return Err(err("an integer in [0, 8]")),
        }
        Ok(())
    }

    /// Sets the parameter called `name` (a key of [`PARAMS`]).
    pub fn set_by_name(&mut self, name: &str, value: f64) -> Result<(), ParamError> {
        match Self::index_of(name) {
            Some(i) => self.set(i, value),
            None => Err(ParamError { name: name.to_string(), value, bound: "a known parameter name".into() }),
        }
    }

    /// Checks every value against its physical bound.
    pub fn validate(&self) -> Result<(), ParamError> {
        let mut probe = self.clone();
        for i in 0..N_PARAMS {
            probe.set(i, self.get(i))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_view_round_trips_and_names_are_unique() {
        let mut p = DynamicsParams::walker2d();
        let mut q = DynamicsParams::walker2d();
        for (i, (name, group)) in PARAMS.iter().enumerate() {
            let v = if matches!(group, ParamGroup::ActionLatency) { 3.0 } else { 0.01 * (i + 1) as f64 };
            q.set(i, v).unwrap();
            assert_eq!(q.get(i), v, "{name}");
        }
        assert_ne!(p, q);
        for i in 0..N_PARAMS {
            p.set(i, q.get(i)).unwrap();
        }
        assert_eq!(p, q);
        for (i, (a, _)) in PARAMS.iter().enumerate() {
            assert_eq!(DynamicsParams::index_of(a), Some(i));
        }
    }

    #[test]
    fn bounds_are_enforced_and_named() {
        let mut p = DynamicsParams::walker2d();
        let e = p.set_by_name("mass_shin_left_kg", 0.0).unwrap_err();
        assert_eq!(e.name, "mass_shin_left_kg");
        assert!(p.set_by_name("action_latency_steps", 0.5).is_err());
        assert!(p.set_by_name("slope_rad", f64::NAN).is_err());
        assert!(p.set_by_name("no_such_param", 1.0).is_err());
        assert_eq!(p, DynamicsParams::walker2d(), "a refused value changes nothing");
        assert!(p.validate().is_ok());
    }

    #[test]
    fn serde_round_trip() {
        let mut p = DynamicsParams::walker2d();
        p.slope_rad = 0.02;
        let s = serde_json::to_string(&p).unwrap();
        let back: DynamicsParams = serde_json::from_str(&s).unwrap();
        assert_eq!(p, back);
    }
}
