//! Joint actuation: torque or PD position mode, joint damping, and the unmodelled actuator
//! effects of the held-out robots (latency, torque lag, backlash, Coulomb friction,
//! saturation). Everything here runs once per physics tick.

use super::geometry::{JOINTS, N_JOINTS};
use super::params::DynamicsParams;
use serde::{Deserialize, Serialize};

/// What an action means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ActuationMode {
    /// Walker2d's: action `a ∈ [-1, 1]` is a torque `a × motor strength` (±100 N·m nominal).
    #[default]
    Torque,
    /// Siekmann-style position targets: `a ∈ [-1, 1]` maps linearly onto the joint's range,
    /// and a PD law computed every physics tick drives the joint there, saturating at the
    /// motor strength.
    Pd,
}

/// Gains of the PD mode, action order.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PdGains {
    /// Proportional gains, N·m/rad.
    pub kp: [f64; N_JOINTS],
    /// Derivative gains, N·m·s/rad.
    pub kd: [f64; N_JOINTS],
}

impl Default for PdGains {
    fn default() -> Self {
        let kp = [100.0, 100.0, 50.0, 100.0, 100.0, 50.0];
        Self { kp, kd: kp.map(|k| k / 10.0) }
    }
}

/// Actuator effects that the training simulator does not model (variant R2). The default is
/// an ideal actuator.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct ActuatorModel {
    /// Delay between a command and the motor seeing it, s (rounded to physics ticks).
    pub command_latency_s: f64,
    /// Time constant of a first-order lag between commanded and produced torque, s (0: none).
    pub torque_lag_s: f64,
    /// Half-width of the dead band in each joint's gearing, rad (0: none).
    pub backlash_rad: [f64; N_JOINTS],
    /// Coulomb friction torque opposing joint motion, N·m.
    pub coulomb_friction_nm: f64,
    /// Largest torque the drive can produce, N·m (`None`: the motor strength alone limits).
    pub torque_limit_nm: Option<f64>,
}

/// Rotor inertia of the gearbox's motor side, kg·m² (MuJoCo's Walker2d armature): how fast a
/// free motor crosses its backlash.
const ROTOR_INERTIA_KG_M2: f64 = 0.01;
/// Joint speed below which Coulomb friction is scaled down linearly, rad/s (avoids chatter).
const COULOMB_SMOOTHING_RAD_S: f64 = 0.05;

/// Per-joint actuator state: command delay line, lagged torque, backlash gap.
#[derive(Debug, Clone)]
pub struct Actuators {
    mode: ActuationMode,
    gains: PdGains,
    model: ActuatorModel,
    strength: [f64; N_JOINTS],
    damping: [f64; N_JOINTS],
    encoder_bias: [f64; N_JOINTS],
    dt_s: f64,
    lag_alpha: f64,
    /// Commands in flight, oldest at `head`; `[delay_ticks]`.
    queue: Vec<[f64; N_JOINTS]>,
    head: usize,
    torque: [f64; N_JOINTS],
    /// Motor position minus joint position, within `±backlash`.
    gap: [f64; N_JOINTS],
    gap_rate: [f64; N_JOINTS],
}

impl Actuators {
    /// Actuators for one episode. `extra_delay_ticks` is the latency from
    /// `params.action_latency_steps` converted to physics ticks by the caller.
    pub fn new(
        mode: ActuationMode,
        gains: PdGains,
        model: ActuatorModel,
        params: &DynamicsParams,
        dt_s: f64,
        extra_delay_ticks: usize,
    ) -> Self {
        let delay = extra_delay_ticks + (model.command_latency_s / dt_s).round() as usize;
        let lag_alpha = if model.torque_lag_s > 0.0 { 1.0 - (-dt_s / model.torque_lag_s).exp() } else { 1.0 };
        Self {
            mode,
            gains,
            model,
            strength: params.motor_strength_nm,
            damping: params.joint_damping,
            encoder_bias: std::array::from_fn(|j| params.encoder_bias_rad[j]),
            dt_s,
            lag_alpha,
            queue: vec![[0.0; N_JOINTS]; delay],
            head: 0,
            torque: [0.0; N_JOINTS],
            // Gears start engaged on the side gravity loads them: arbitrary but fixed.
            gap: model.backlash_rad,
            gap_rate: [0.0; N_JOINTS],
        }
    }

    /// Whether [`Actuators::tick`] reads the joint angles (PD mode); in torque mode only the
    /// rates matter and the caller may pass anything as angles.
    pub fn needs_angles(&self) -> bool {
        self.mode == ActuationMode::Pd
    }

    /// Physics ticks between a command and its effect.
    pub fn delay_ticks(&self) -> usize {
        self.queue.len()
    }

    /// One physics tick: takes the policy's current command (`[-1, 1]` per joint), the joint
    /// angles and rates, and writes the net joint torques (motor, damping, friction), N·m.
    #[inline]
    pub fn tick(
        &mut self,
        command: &[f64; N_JOINTS],
        q: &[f64; N_JOINTS],
        qd: &[f64; N_JOINTS],
        out: &mut [f64; N_JOINTS],
    ) {
        // Delay line: read the oldest command, store the newest in its slot.
        let n = self.queue.len();
        let delayed = if n == 0 {
            *command
        } else {
            let old = self.queue[self.head];
            self.queue[self.head] = *command;
            self.head = (self.head + 1) % n;
            old
        };
        let limit = self.model.torque_limit_nm;
        for j in 0..N_JOINTS {
            let u = delayed[j];
            let s = self.strength[j];
            let desired = match self.mode {
                ActuationMode::Torque => s * u,
                ActuationMode::Pd => {
                    let spec = &JOINTS[j];
                    let target = spec.lower_rad + 0.5 * (u + 1.0) * (spec.upper_rad - spec.lower_rad);
                    let measured = q[j] + self.encoder_bias[j];
                    (self.gains.kp[j] * (target - measured) - self.gains.kd[j] * qd[j]).clamp(-s, s)
                }
            };
            let desired = match limit {
                Some(l) => desired.clamp(-l, l),
                None => desired,
            };
            self.torque[j] += self.lag_alpha * (desired - self.torque[j]);
            let mut tau = self.torque[j];
            let b = self.model.backlash_rad[j];
            if b > 0.0 {
                tau = self.backlash(j, tau, b);
            }
            let c = self.model.coulomb_friction_nm;
            let friction = if c > 0.0 { -c * (qd[j] / COULOMB_SMOOTHING_RAD_S).clamp(-1.0, 1.0) } else { 0.0 };
            out[j] = tau - self.damping[j] * qd[j] + friction;
        }
    }

    /// Torque transmitted through a gear with play `±b`: while the motor is crossing the dead
    /// band (or pushing away from the side it touches) nothing reaches the joint; the motor's
    /// own inertia sets how long a crossing takes.
    #[inline]
    fn backlash(&mut self, j: usize, tau: f64, b: f64) -> f64 {
        let engaged = (self.gap[j] >= b && tau > 0.0) || (self.gap[j] <= -b && tau < 0.0);
        if engaged {
            self.gap_rate[j] = 0.0;
            return tau;
        }
        self.gap_rate[j] += tau / ROTOR_INERTIA_KG_M2 * self.dt_s;
        self.gap[j] += self.gap_rate[j] * self.dt_s;
        if self.gap[j].abs() >= b {
            self.gap[j] = self.gap[j].clamp(-b, b);
            self.gap_rate[j] = 0.0;
        }
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn torques(a: &mut Actuators, cmd: [f64; 6], ticks: usize) -> Vec<f64> {
        let mut out = [0.0; 6];
        (0..ticks)
            .map(|_| {
                a.tick(&cmd, &[0.0; 6], &[0.0; 6], &mut out);
                out[0]
            })
            .collect()
    }

    #[test]
    fn ideal_torque_mode_is_gear_times_action() {
        let p = DynamicsParams::walker2d();
        let mut a = Actuators::new(ActuationMode::Torque, PdGains::default(), ActuatorModel::default(), &p, 0.002, 0);
        let mut out = [0.0; 6];
        a.tick(&[0.5, -1.0, 0.25, 0.0, 1.0, -0.1], &[0.0; 6], &[1.0, 0.0, 0.0, 0.0, 0.0, 0.0], &mut out);
        // 50 N·m minus damping 0.1 × 1 rad/s.
        assert_eq!(out, [50.0 - 0.1, -100.0, 25.0, 0.0, 100.0, -10.0]);
    }

    #[test]
    fn latency_shifts_the_command_by_whole_ticks() {
        let p = DynamicsParams::walker2d();
        let model = ActuatorModel { command_latency_s: 0.016, ..Default::default() };
        let mut a = Actuators::new(ActuationMode::Torque, PdGains::default(), model, &p, 0.002, 4);
        assert_eq!(a.delay_ticks(), 12);
        let t = torques(&mut a, [1.0; 6], 14);
        assert!(t[..12].iter().all(|&v| v == 0.0) && t[12] == 100.0, "{t:?}");
    }

    #[test]
    fn torque_lag_reaches_63_percent_after_one_time_constant() {
        let p = DynamicsParams::walker2d();
        let model = ActuatorModel { torque_lag_s: 0.025, torque_limit_nm: Some(80.0), ..Default::default() };
        let mut a = Actuators::new(ActuationMode::Torque, PdGains::default(), model, &p, 0.001, 0);
        let t = torques(&mut a, [1.0; 6], 25);
        // 80 N·m saturation, 1 - e^-1 after 25 ms.
        assert!((t[24] / 80.0 - (1.0 - (-1.0f64).exp())).abs() < 1e-9, "{}", t[24]);
    }

    #[test]
    fn backlash_blocks_torque_while_crossing_the_gap() {
        let p = DynamicsParams::walker2d();
        let model = ActuatorModel { backlash_rad: [0.02; 6], ..Default::default() };
        let mut a = Actuators::new(ActuationMode::Torque, PdGains::default(), model, &p, 0.002, 0);
        // Starts engaged on the positive side: positive torque passes at once.
        assert_eq!(torques(&mut a, [0.5; 6], 1)[0], 50.0);
        // Reversing: 0.04 rad at 50 N·m / 0.01 kg·m² takes 4 ms, i.e. a few ticks of nothing.
        let t = torques(&mut a, [-0.5; 6], 6);
        assert!(t[0] == 0.0 && t[1] == 0.0 && t[5] == -50.0, "{t:?}");
    }

    #[test]
    fn pd_mode_drives_towards_the_mapped_target_and_saturates() {
        let p = DynamicsParams::walker2d();
        let mut a = Actuators::new(ActuationMode::Pd, PdGains::default(), ActuatorModel::default(), &p, 0.002, 0);
        let mut out = [0.0; 6];
        // Action 1 → upper limit 0 for the hip; joint at -0.5 rad: 100 × 0.5 = 50 N·m.
        // Ankle action 0 → 0 rad; joint at 0.1: -5 N·m. Knee action -1 → -150°: saturates.
        a.tick(&[1.0, -1.0, 0.0, 1.0, 1.0, 1.0], &[-0.5, 0.0, 0.1, 0.0, 0.0, 0.0], &[0.0; 6], &mut out);
        assert!((out[0] - 50.0).abs() < 1e-12 && out[1] == -100.0 && (out[2] + 5.0).abs() < 1e-12, "{out:?}");
    }
}
