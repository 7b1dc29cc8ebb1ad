//! `PlanarBipedConfig`: every setting of the PlanarBiped envs, with Walker2d-v5's defaults.

use crate::error::{EnvError, EnvResult};
use engram_sim::biped::{
    ActuationMode, DynamicsDistribution, DynamicsParams, PdGains, Range, RealVariant, SimSettings, SEVERITY_RANGE,
};
use serde::{Deserialize, Serialize};

/// Which held-out robots an env simulates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RealSelection {
    /// The five robots of family R1.
    R1,
    /// The five robots of family R2.
    R2,
    /// The five robots of family R3.
    R3,
    /// The five robots of family R4.
    R4,
    /// All twenty robots of R1–R4 (robot `r` is robot `r % 5` of family `r / 5`).
    All,
}

impl RealSelection {
    /// Number of robots selectable.
    pub fn n_robots(self) -> usize {
        match self {
            RealSelection::All => 4 * engram_sim::biped::ROBOTS_PER_FAMILY,
            _ => engram_sim::biped::ROBOTS_PER_FAMILY,
        }
    }

    /// Family and in-family index of robot `r` (`r < n_robots()`).
    pub fn robot(self, r: usize) -> (RealVariant, usize) {
        let per = engram_sim::biped::ROBOTS_PER_FAMILY;
        match self {
            RealSelection::R1 => (RealVariant::R1, r),
            RealSelection::R2 => (RealVariant::R2, r),
            RealSelection::R3 => (RealVariant::R3, r),
            RealSelection::R4 => (RealVariant::R4, r),
            RealSelection::All => (RealVariant::ALL[r / per], r % per),
        }
    }
}

/// Which dynamics parameters `info` carries every step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum InfoParams {
    /// Raw values of the 31 randomized parameters and the normalized values of the 23
    /// physical ones (61 keys in all with the task's own).
    #[default]
    Both,
    /// Raw values only.
    Raw,
    /// None: only the task's own keys.
    None,
}

/// Settings of [`super::PlanarBiped`]. Defaults are Walker2d-v5's where it has one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PlanarBipedConfig {
    /// Sample the dynamics from `distribution` at every reset (PlanarBipedDR-v0).
    pub randomize: bool,
    /// The randomization ranges; also the reference the normalized parameters in `info` and
    /// in the oracle observation are measured against.
    pub distribution: DynamicsDistribution,
    /// The dynamics when not randomizing (default Walker2d-v5's).
    pub params: DynamicsParams,
    /// Held-out robots to simulate instead (set by the `PlanarBipedReal-*` ids).
    pub real: Option<RealSelection>,
    /// Severity of the held-out robots' family changes, in [0, 1] (0: the robots' training
    /// draws; 1: the full families R1–R4); see `engram_sim::biped::real_robot_graded`.
    pub real_severity: f64,
    /// Torque (Walker2d) or PD position-target actuation.
    pub actuation: ActuationMode,
    /// Gains of the PD mode.
    pub pd_gains: PdGains,
    /// Physics steps of 2 ms per env step (Walker2d: 4, i.e. 125 Hz control; the PD mode is
    /// meant for 8–16, i.e. 62–31 Hz). A simulator with another step keeps the control period.
    pub frame_skip: usize,
    /// Physics engine settings (ignored for the held-out robots, which bring their own).
    pub sim: SimSettings,
    /// Weight of the forward-velocity reward.
    pub forward_reward_weight: f64,
    /// Reward per step while healthy.
    pub healthy_reward: f64,
    /// Weight of the control cost `‖a‖²`.
    pub ctrl_cost_weight: f64,
    /// End the episode when the walker is unhealthy.
    pub terminate_when_unhealthy: bool,
    /// Healthy torso heights, open interval, m.
    pub healthy_z_range: [f64; 2],
    /// Healthy torso pitch, open interval, rad.
    pub healthy_angle_range: [f64; 2],
    /// Half-width of the uniform noise on every initial coordinate and velocity.
    pub reset_noise_scale: f64,
    /// Bound on observed velocities (Walker2d clips them to ±10).
    pub velocity_clip: f64,
    /// Append the true dynamics parameters (normalized, 31 values) to the observation.
    pub oracle: bool,
    /// Append the previous action (6 values) to the observation.
    pub obs_previous_action: bool,
    /// Append a gait clock `(sin, cos)` of this period to the observation, s.
    pub gait_clock_period_s: Option<f64>,
    /// Sample a commanded forward speed per episode from this range (m/s), append it to the
    /// observation, and reward `-|v - v_cmd|` instead of `v`.
    pub commanded_speed_m_s: Option<Range>,
    /// Which parameters `info` reports.
    pub info_params: InfoParams,
}

impl Default for PlanarBipedConfig {
    fn default() -> Self {
        Self {
            randomize: false,
            distribution: DynamicsDistribution::default(),
            params: DynamicsParams::walker2d(),
            real: None,
            real_severity: 1.0,
            actuation: ActuationMode::Torque,
            pd_gains: PdGains::default(),
            frame_skip: 4,
            sim: SimSettings::default(),
            forward_reward_weight: 1.0,
            healthy_reward: 1.0,
            ctrl_cost_weight: 1e-3,
            terminate_when_unhealthy: true,
            healthy_z_range: [0.8, 2.0],
            healthy_angle_range: [-1.0, 1.0],
            reset_noise_scale: 5e-3,
            velocity_clip: 10.0,
            oracle: false,
            obs_previous_action: false,
            gait_clock_period_s: None,
            commanded_speed_m_s: None,
            info_params: InfoParams::Both,
        }
    }
}

impl PlanarBipedConfig {
    /// Checks every field against its bound.
    pub fn validate(&self, env: &str) -> EnvResult<()> {
        let bad = |field: &str, value: String, bound: &str| EnvError::InvalidConfig {
            env: env.into(),
            field: field.into(),
            value,
            bound: bound.into(),
        };
        self.distribution
            .validate()
            .map_err(|e| bad(&format!("distribution.{}", e.name), e.value.to_string(), &e.bound))?;
        self.params.validate().map_err(|e| bad(&format!("params.{}", e.name), e.value.to_string(), &e.bound))?;
        self.sim.validate().map_err(|(f, v, b)| bad(&format!("sim.{f}"), v, b))?;
        if !(1..=64).contains(&self.frame_skip) {
            return Err(bad("frame_skip", self.frame_skip.to_string(), "in [1, 64]"));
        }
        for (name, gains) in [("pd_gains.kp", self.pd_gains.kp), ("pd_gains.kd", self.pd_gains.kd)] {
            if let Some(g) = gains.iter().find(|g| !(g.is_finite() && **g >= 0.0)) {
                return Err(bad(name, g.to_string(), "finite and >= 0"));
            }
        }
        let finite = [
            ("forward_reward_weight", self.forward_reward_weight),
            ("healthy_reward", self.healthy_reward),
            ("ctrl_cost_weight", self.ctrl_cost_weight),
        ];
        for (name, v) in finite {
            if !v.is_finite() {
                return Err(bad(name, v.to_string(), "finite"));
            }
        }
        for (name, r) in [("healthy_z_range", self.healthy_z_range), ("healthy_angle_range", self.healthy_angle_range)]
        {
            if !(r[0].is_finite() && r[1].is_finite() && r[0] < r[1]) {
                return Err(bad(name, format!("{r:?}"), "finite with low < high"));
            }
        }
        if !(self.reset_noise_scale.is_finite() && (0.0..=0.5).contains(&self.reset_noise_scale)) {
            return Err(bad("reset_noise_scale", self.reset_noise_scale.to_string(), "in [0, 0.5]"));
        }
        if !(self.velocity_clip.is_finite() && self.velocity_clip > 0.0) {
            return Err(bad("velocity_clip", self.velocity_clip.to_string(), "finite and > 0"));
        }
        if let Some(p) = self.gait_clock_period_s {
            if !(p.is_finite() && p > 0.0) {
                return Err(bad("gait_clock_period_s", p.to_string(), "finite and > 0"));
            }
        }
        if let Some(r) = self.commanded_speed_m_s {
            if !(r.low.is_finite() && r.high.is_finite() && r.low <= r.high) {
                return Err(bad("commanded_speed_m_s", format!("{r:?}"), "finite with low <= high"));
            }
        }
        let [lo, hi] = SEVERITY_RANGE;
        if !(self.real_severity.is_finite() && (lo..=hi).contains(&self.real_severity)) {
            return Err(bad("real_severity", self.real_severity.to_string(), "in [0, 1]"));
        }
        if self.randomize && self.real.is_some() {
            return Err(bad("randomize", "true".into(), "false for the held-out robots (their dynamics are fixed)"));
        }
        Ok(())
    }
}
