//! A scripted reacher: PD control of the hand along a minimum-jerk path, through the
//! Jacobian transpose. A reference point for the task, the figures and the tests.

use super::config::CurlReachConfig;
use super::info_keys as k;
use crate::info::Info;
use engram_sim::arm::point_mass::POINT_MASS_KG;
use engram_sim::arm::{PlantKind, Trig, TwoLinkModel};

/// Gains and timing of [`ScriptedReacher`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScriptedGains {
    /// Hand stiffness, N/m.
    pub kp_n_m: f64,
    /// Hand damping, N·s/m.
    pub kd_ns_m: f64,
    /// Duration of the minimum-jerk reference, s.
    pub movement_time_s: f64,
}

impl Default for ScriptedGains {
    fn default() -> Self {
        Self { kp_n_m: 300.0, kd_ns_m: 30.0, movement_time_s: 0.6 }
    }
}

/// Reaches with `F = Kp (x_ref − x) + Kd (v_ref − v)` on the hand, `τ = Jᵀ F + M J⁻¹ a_ref`
/// (the point mass takes `F + m a_ref` directly), where `x_ref` is a minimum-jerk path from the start to the
/// target launched at the go cue (the start before it, and on catch trials).
///
/// It reads the true hand state, joint angles, target and timing from the env's `info`
/// (no sensory delay): an oracle controller, not a model of a subject. In a curl field it
/// does not adapt, so its path bends in the field's direction, as a naive subject's does.
#[derive(Debug, Clone)]
pub struct ScriptedReacher {
    model: TwoLinkModel,
    plant: PlantKind,
    gain: f64,
    dt_s: f64,
    gains: ScriptedGains,
    start: Option<[f64; 2]>,
}

impl ScriptedReacher {
    /// A controller for envs built from `cfg`.
    pub fn new(cfg: &CurlReachConfig, gains: ScriptedGains) -> Self {
        let gain =
            if cfg.plant == PlantKind::PointMass { cfg.actuator.max_force_n } else { cfg.actuator.max_torque_nm };
        Self { model: TwoLinkModel::new(&cfg.arm), plant: cfg.plant, gain, dt_s: cfg.dt_s, gains, start: None }
    }

    /// Forgets the start position (call at every reset, before the first [`Self::act`]).
    pub fn reset(&mut self) {
        self.start = None;
    }

    /// The command for the state described by `info`, written into `action` (`[2]`).
    pub fn act(&mut self, info: &Info, action: &mut [f32]) {
        let get = |key: &str| info.get(key).unwrap_or(0.0);
        let x = [get(k::HAND_X), get(k::HAND_Y)];
        let v = [get(k::HAND_VX), get(k::HAND_VY)];
        let start = *self.start.get_or_insert(x);
        let target = [get(k::TARGET_X), get(k::TARGET_Y)];
        let t = get(k::STEP);
        let go = get(k::GO_STEP);
        let (mut xr, mut vr, mut ar) = (start, [0.0, 0.0], [0.0, 0.0]);
        if get(k::CATCH_TRIAL) == 0.0 && t >= go {
            let big_t = self.gains.movement_time_s;
            let s = ((t - go) * self.dt_s / big_t).clamp(0.0, 1.0);
            let pos = s * s * s * (10.0 - 15.0 * s + 6.0 * s * s);
            let vel = 30.0 * s * s * (1.0 - s) * (1.0 - s) / big_t;
            let acc = 60.0 * s * (1.0 - s) * (1.0 - 2.0 * s) / (big_t * big_t);
            for i in 0..2 {
                xr[i] = start[i] + (target[i] - start[i]) * pos;
                vr[i] = (target[i] - start[i]) * vel;
                ar[i] = (target[i] - start[i]) * acc;
            }
        }
        let g = &self.gains;
        let f = [
            g.kp_n_m * (xr[0] - x[0]) + g.kd_ns_m * (vr[0] - v[0]),
            g.kp_n_m * (xr[1] - x[1]) + g.kd_ns_m * (vr[1] - v[1]),
        ];
        let drive = match self.plant {
            PlantKind::PointMass => [f[0] + POINT_MASS_KG * ar[0], f[1] + POINT_MASS_KG * ar[1]],
            _ => {
                let trig = Trig::new([get(k::Q_SHOULDER), get(k::Q_ELBOW)]);
                let fb = self.model.jacobian_transpose(&trig, f);
                // Feedforward: τ = M J⁻¹ a_ref (the J̇ q̇ term is left to the feedback).
                let j = self.model.jacobian(&trig);
                let det = j[0][0] * j[1][1] - j[0][1] * j[1][0];
                let qdd = [(j[1][1] * ar[0] - j[0][1] * ar[1]) / det, (j[0][0] * ar[1] - j[1][0] * ar[0]) / det];
                let m = self.model.mass_matrix(&trig);
                [fb[0] + m[0][0] * qdd[0] + m[0][1] * qdd[1], fb[1] + m[1][0] * qdd[0] + m[1][1] * qdd[1]]
            }
        };
        for i in 0..2 {
            action[i] = (drive[i] / self.gain).clamp(-1.0, 1.0) as f32;
        }
    }
}
