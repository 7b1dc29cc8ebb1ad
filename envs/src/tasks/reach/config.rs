//! The configuration of the reaching task (every parameter, with its default).

use crate::error::{EnvError, EnvResult};
use engram_sim::arm::{ActuatorParams, ArmParams, PlantKind};
use serde::{Deserialize, Serialize};

/// Which force field the session runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    /// No field.
    Null,
    /// Velocity-dependent curl, strength [`FieldConfig::strength_ns_m`].
    #[default]
    Curl,
    /// The Shadmehr & Mussa-Ivaldi (1994) viscous matrix.
    ShadmehrMussaIvaldi,
    /// Error clamp along the start–target line.
    Channel,
}

impl FieldKind {
    /// The code used in reset options (`field`): 0 null, 1 curl, 2 SMI matrix, 3 channel.
    pub fn code(self) -> f64 {
        match self {
            FieldKind::Null => 0.0,
            FieldKind::Curl => 1.0,
            FieldKind::ShadmehrMussaIvaldi => 2.0,
            FieldKind::Channel => 3.0,
        }
    }

    /// Inverse of [`FieldKind::code`].
    pub fn from_code(code: f64) -> Option<Self> {
        [FieldKind::Null, FieldKind::Curl, FieldKind::ShadmehrMussaIvaldi, FieldKind::Channel]
            .into_iter()
            .find(|k| k.code() == code)
    }
}

/// Rotation sense of the curl field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CurlDirection {
    /// Force to the right of the motion (`b > 0`).
    #[default]
    Clockwise,
    /// Force to the left of the motion (`b < 0`).
    CounterClockwise,
}

/// The force field of the session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FieldConfig {
    /// Which field (default curl).
    pub kind: FieldKind,
    /// Curl sense (default clockwise).
    pub direction: CurlDirection,
    /// Curl strength |b|, N·s/m (in [0, 20], default 8).
    pub strength_ns_m: f64,
    /// If set, each trial draws a signed curl strength uniformly from this range, N·s/m
    /// (the pretraining variant; overrides `strength_ns_m` and `direction`).
    pub random_b_range_ns_m: Option<[f64; 2]>,
    /// Targets on which the field acts (`None`: all; Sun-style training: one index).
    pub targets: Option<Vec<usize>>,
    /// Lateral stiffness of the channel, N/m (default 2000).
    pub channel_stiffness_n_m: f64,
    /// Lateral damping of the channel, N·s/m (default 50).
    pub channel_damping_ns_m: f64,
    /// A sham curl field: trials on the field's targets show its strength on the `b` input
    /// (`observation.field_strength_input`) and in `info`, but no force acts. The control for
    /// an agent whose input changes with the schedule while nothing is there to learn.
    /// Default false.
    pub sham: bool,
}

impl Default for FieldConfig {
    fn default() -> Self {
        Self {
            kind: FieldKind::Curl,
            direction: CurlDirection::Clockwise,
            strength_ns_m: 8.0,
            random_b_range_ns_m: None,
            targets: None,
            channel_stiffness_n_m: engram_sim::field::CHANNEL_STIFFNESS_N_M,
            channel_damping_ns_m: engram_sim::field::CHANNEL_DAMPING_NS_M,
            sham: false,
        }
    }
}

impl FieldConfig {
    /// The signed curl strength (`> 0` clockwise), N·s/m.
    pub fn signed_b(&self) -> f64 {
        match self.direction {
            CurlDirection::Clockwise => self.strength_ns_m,
            CurlDirection::CounterClockwise => -self.strength_ns_m,
        }
    }
}

// Options added after the curl-field study's plans were hashed are written only when set, so
// the serialized defaults (and the plan hashes) stay as they were.
fn is_zero(x: &f64) -> bool {
    *x == 0.0
}

fn is_one(x: &f64) -> bool {
    *x == 1.0
}

fn is_true(b: &bool) -> bool {
    *b
}

/// Timeline of a trial, in seconds (rounded to control steps).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TimingConfig {
    /// Target onset after the trial start, uniform in `[min, max]`, s (default [0.2, 0.5]).
    pub target_onset_s: [f64; 2],
    /// Delay from target onset to the go cue, uniform in `[min, max]`, s (default [0.3, 0.8]).
    pub delay_s: [f64; 2],
    /// Time allowed after the go cue to reach the target, s (default 0.8).
    pub reach_window_s: f64,
    /// Time the hand must stay inside the target, s (default 0.2).
    pub hold_s: f64,
    /// The hand counts as holding only while inside the target *and* slower than this, m/s
    /// (default none: inside is enough, and a hand gliding through the 1 cm target at a few
    /// cm/s completes the hold). Subjects stop in the target; this asks the agent to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hold_max_speed_m_s: Option<f64>,
    /// Time the trial runs on after the hold completes, s (default 0: it ends there). The
    /// success bonus is paid at completion; the per-step terms (in-target reward, hold-speed
    /// and speed costs) go on, so staying still in the target pays.
    #[serde(skip_serializing_if = "is_zero")]
    pub post_success_s: f64,
    /// Whether a completed hold ends the trial (default true). If false, the trial runs to
    /// the end of the reach window (go + `reach_window_s` + `hold_s`) or `post_success_s`
    /// after the hold, whichever is later: with `reward.in_target_reward`, every step in the
    /// target until then pays, so entering early and staying pay.
    #[serde(skip_serializing_if = "is_true")]
    pub end_on_success: bool,
    /// Length of the still period a catch trial asks for after its (silent) go time, s
    /// (default 0.5).
    pub catch_window_s: f64,
}

impl Default for TimingConfig {
    fn default() -> Self {
        Self {
            target_onset_s: [0.2, 0.5],
            delay_s: [0.3, 0.8],
            reach_window_s: 0.8,
            hold_s: 0.2,
            hold_max_speed_m_s: None,
            post_success_s: 0.0,
            end_on_success: true,
            catch_window_s: 0.5,
        }
    }
}

/// What the agent sees besides target, go cue, hand and joints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ObservationConfig {
    /// Visual delay of the hand position, s (default 0.07).
    pub hand_delay_s: f64,
    /// Proprioceptive delay of joint angles and velocities, s (default 0.02).
    pub joint_delay_s: f64,
    /// Gaussian noise on the hand position, m (default 0.001).
    pub hand_noise_m: f64,
    /// Gaussian noise on the joint angles, rad (default 0.001).
    pub joint_noise_rad: f64,
    /// Gaussian noise on the joint velocities, rad/s (default 0.01).
    pub joint_vel_noise_rad_s: f64,
    /// Append the previous action (2 values).
    pub previous_action: bool,
    /// Append the signed curl strength in units of 10 N·s/m (the pretraining ablation;
    /// off by default: the field is never observed).
    pub field_strength_input: bool,
}

impl Default for ObservationConfig {
    fn default() -> Self {
        Self {
            hand_delay_s: 0.07,
            joint_delay_s: 0.02,
            hand_noise_m: 0.001,
            joint_noise_rad: 0.001,
            joint_vel_noise_rad_s: 0.01,
            previous_action: false,
            field_strength_input: false,
        }
    }
}

/// Weights of the named reward terms (each reported in `info`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RewardConfig {
    /// After the go cue: `−distance_weight · |hand − target|` per step (m⁻¹; default 1).
    pub distance_weight: f64,
    /// Bonus on completing the hold in the target (or a still catch trial) (default 5).
    pub success_bonus: f64,
    /// `−effort_weight · Σ u²` per step (default 0.01).
    pub effort_weight: f64,
    /// Penalty when the hand moves before the go cue, ending the trial (default 12).
    pub early_move_penalty: f64,
    /// `−jerk_weight · Σ (u_t − u_{t−1})²` per step, for smooth commands (default 0.01).
    pub jerk_weight: f64,
    /// Before the go cue (and through catch trials): `−hold_weight · |hand − start|` per
    /// step (m⁻¹; default 0). A dense cost of moving during the still period, for training
    /// curricula; the early-move penalty still ends the trial past the tolerance.
    pub hold_weight: f64,
    /// After the go cue: `+in_target_reward` per step with the hand inside the target
    /// (default 0): shapes the hold that the success bonus only pays at its end.
    pub in_target_reward: f64,
    /// After the go cue: `progress_weight · (d_{t−1} − d_t)` per step, where `d` is the
    /// hand's distance to the target (m⁻¹; default 100). A potential-based shaping term
    /// (Ng et al. 1999): it pays each step's approach and sums to `w · (d_go − d_end)` over
    /// a trial, so it gives no reason to end a trial early, unlike a large distance weight.
    /// With it PPO learns the delayed reach from scratch; without it agents settle on
    /// holding still or on moving early (docs/results.md).
    pub progress_weight: f64,
    /// Discount γ of the progress term, which pays `progress_weight · (d_{t−1} − γ · d_t)`
    /// (default 1, as before). With the agent's own discount the term is exactly
    /// potential-based (Ng et al. 1999: `γ Φ(s') − Φ(s)`, `Φ = −w d`); with 1 it is that shaping
    /// plus a running distance cost `w (1 − γ_agent) · d` (1 m⁻¹ per step at w = 100,
    /// γ = 0.99), which pays to cover distance early and front-loads the reach.
    #[serde(skip_serializing_if = "is_one")]
    pub progress_gamma: f64,
    /// After the go cue: `−speed_weight · |v_hand|²` per step (s²/m²; default 0). A cost on
    /// hand speed (kinetic energy per unit mass, up to a factor 2): with the effort and
    /// command-smoothness terms it sets how fast the reach is.
    pub speed_weight: f64,
    /// After the go cue, with the hand inside the target: `−hold_speed_weight · |v_hand|` per
    /// step (s/m; default 0). A graded cost of moving during the hold (summed over steps it is
    /// the path length inside the target over `dt`): asks the hand to stop in the target
    /// where `timing.hold_max_speed_m_s` only refuses to count the hold.
    #[serde(skip_serializing_if = "is_zero")]
    pub hold_speed_weight: f64,
    /// After the go cue: `−hand_jerk_weight · |j_hand|²` per step (s⁶/m²; default 0), where
    /// `j_hand = (v_t − 2 v_{t−1} + v_{t−2}) / dt²` is the hand's jerk from its velocity at the
    /// last three control steps (m/s³). The minimum-jerk cost of Flash & Hogan 1985, whose
    /// optimal point-to-point reach has a bell-shaped speed profile peaking at mid-movement.
    /// A 10 cm minimum-jerk reach of 0.5 s sums `|j|²` to about 2.3·10⁴ m²/s⁶ over its 50 steps
    /// (`720 D² / (T⁵ dt)`), one of 0.25 s to 32 times that.
    #[serde(skip_serializing_if = "is_zero")]
    pub hand_jerk_weight: f64,
}

impl Default for RewardConfig {
    fn default() -> Self {
        Self {
            distance_weight: 1.0,
            success_bonus: 5.0,
            effort_weight: 0.01,
            early_move_penalty: 12.0,
            jerk_weight: 0.01,
            hold_weight: 0.0,
            in_target_reward: 0.0,
            progress_weight: 100.0,
            progress_gamma: 1.0,
            speed_weight: 0.0,
            hold_speed_weight: 0.0,
            hand_jerk_weight: 0.0,
        }
    }
}

/// Everything of the CurlReach task. Defaults are those of `CurlReach-v0`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CurlReachConfig {
    /// Plant: `analytic` (default), `rapier` or `point_mass`.
    pub plant: PlantKind,
    /// Arm parameters (Nijhof & Kouwenhoven 2000 by default).
    pub arm: ArmParams,
    /// Actuator: max torque 20 N·m, max force 10 N, activation 15 ms / 50 ms.
    pub actuator: ActuatorParams,
    /// Viscous damping of the point mass, N·s/m (default 0).
    pub point_mass_viscosity_ns_m: f64,
    /// rapier2d substeps per control step (default 10, i.e. 1 ms).
    pub rapier_substeps: usize,
    /// Control step, s (default 0.01).
    pub dt_s: f64,
    /// Start posture `[shoulder, elbow]`, degrees (default [60, 90]: hand at (−0.134, 0.434) m).
    pub start_posture_deg: [f64; 2],
    /// Number of targets, evenly spaced from 0° counter-clockwise (default 8).
    pub n_targets: usize,
    /// Target distance from the start, m (default 0.10).
    pub target_distance_m: f64,
    /// Target radius, m (default 0.01).
    pub target_radius_m: f64,
    /// Hand displacement from the start that counts as moving before the go cue, m
    /// (default 0.01).
    pub early_move_tolerance_m: f64,
    /// Probability of a catch (no-go) trial (default 0.2).
    pub catch_probability: f64,
    /// Trial timeline.
    pub timing: TimingConfig,
    /// Force field.
    pub field: FieldConfig,
    /// Observation delays, noise and optional inputs.
    pub observation: ObservationConfig,
    /// Reward weights.
    pub reward: RewardConfig,
}

impl Default for CurlReachConfig {
    fn default() -> Self {
        Self {
            plant: PlantKind::Analytic,
            arm: ArmParams::default(),
            actuator: ActuatorParams::default(),
            point_mass_viscosity_ns_m: 0.0,
            rapier_substeps: engram_sim::arm::rapier::DEFAULT_SUBSTEPS,
            dt_s: 0.01,
            start_posture_deg: [60.0, 90.0],
            n_targets: 8,
            target_distance_m: 0.10,
            target_radius_m: 0.01,
            early_move_tolerance_m: 0.01,
            catch_probability: 0.2,
            timing: TimingConfig::default(),
            field: FieldConfig::default(),
            observation: ObservationConfig::default(),
            reward: RewardConfig::default(),
        }
    }
}

fn bad(env: &str, field: &str, value: impl ToString, bound: &str) -> EnvError {
    EnvError::InvalidConfig { env: env.into(), field: field.into(), value: value.to_string(), bound: bound.into() }
}

impl CurlReachConfig {
    /// Checks every field against its bound.
    pub fn validate(&self, env: &str) -> EnvResult<()> {
        self.arm.check().map_err(|(f, v, b)| bad(env, &format!("arm.{f}"), v, b))?;
        self.actuator.check().map_err(|(f, v, b)| bad(env, &format!("actuator.{f}"), v, b))?;
        let nonneg = [
            ("point_mass_viscosity_ns_m", self.point_mass_viscosity_ns_m),
            ("timing.reach_window_s", self.timing.reach_window_s),
            ("timing.hold_s", self.timing.hold_s),
            ("timing.post_success_s", self.timing.post_success_s),
            ("timing.catch_window_s", self.timing.catch_window_s),
            ("observation.hand_delay_s", self.observation.hand_delay_s),
            ("observation.joint_delay_s", self.observation.joint_delay_s),
            ("observation.hand_noise_m", self.observation.hand_noise_m),
            ("observation.joint_noise_rad", self.observation.joint_noise_rad),
            ("observation.joint_vel_noise_rad_s", self.observation.joint_vel_noise_rad_s),
            ("reward.distance_weight", self.reward.distance_weight),
            ("reward.success_bonus", self.reward.success_bonus),
            ("reward.effort_weight", self.reward.effort_weight),
            ("reward.early_move_penalty", self.reward.early_move_penalty),
            ("reward.jerk_weight", self.reward.jerk_weight),
            ("reward.hold_weight", self.reward.hold_weight),
            ("reward.in_target_reward", self.reward.in_target_reward),
            ("reward.progress_weight", self.reward.progress_weight),
            ("reward.speed_weight", self.reward.speed_weight),
            ("reward.hold_speed_weight", self.reward.hold_speed_weight),
            ("reward.hand_jerk_weight", self.reward.hand_jerk_weight),
            ("field.channel_stiffness_n_m", self.field.channel_stiffness_n_m),
            ("field.channel_damping_ns_m", self.field.channel_damping_ns_m),
        ];
        for (f, v) in nonneg {
            if !(v.is_finite() && v >= 0.0) {
                return Err(bad(env, f, v, "finite and >= 0"));
            }
        }
        if !(0.0..=1.0).contains(&self.reward.progress_gamma) {
            return Err(bad(env, "reward.progress_gamma", self.reward.progress_gamma, "in [0, 1]"));
        }
        if let Some(v) = self.timing.hold_max_speed_m_s.filter(|v| !(v.is_finite() && *v > 0.0)) {
            return Err(bad(env, "timing.hold_max_speed_m_s", v, "finite and > 0"));
        }
        let positive = [
            ("dt_s", self.dt_s),
            ("target_distance_m", self.target_distance_m),
            ("target_radius_m", self.target_radius_m),
            ("early_move_tolerance_m", self.early_move_tolerance_m),
        ];
        for (f, v) in positive {
            if !(v.is_finite() && v > 0.0) {
                return Err(bad(env, f, v, "finite and > 0"));
            }
        }
        if self.dt_s > 0.1 {
            return Err(bad(env, "dt_s", self.dt_s, "<= 0.1"));
        }
        if !(0.0..=1.0).contains(&self.catch_probability) {
            return Err(bad(env, "catch_probability", self.catch_probability, "in [0, 1]"));
        }
        if !(1..=64).contains(&self.n_targets) {
            return Err(bad(env, "n_targets", self.n_targets, "in [1, 64]"));
        }
        if !(1..=100).contains(&self.rapier_substeps) {
            return Err(bad(env, "rapier_substeps", self.rapier_substeps, "in [1, 100]"));
        }
        for (f, r) in [("timing.target_onset_s", self.timing.target_onset_s), ("timing.delay_s", self.timing.delay_s)] {
            if !(r[0].is_finite() && r[1].is_finite() && 0.0 <= r[0] && r[0] <= r[1]) {
                return Err(bad(env, f, format!("{r:?}"), "finite with 0 <= min <= max"));
            }
        }
        if !(0.0..=20.0).contains(&self.field.strength_ns_m) {
            return Err(bad(env, "field.strength_ns_m", self.field.strength_ns_m, "in [0, 20]"));
        }
        if let Some(r) = self.field.random_b_range_ns_m {
            if !(r[0].is_finite() && r[1].is_finite() && r[0] <= r[1] && r[0] >= -20.0 && r[1] <= 20.0) {
                return Err(bad(env, "field.random_b_range_ns_m", format!("{r:?}"), "min <= max within [-20, 20]"));
            }
        }
        if let Some(t) = &self.field.targets {
            if let Some(&i) = t.iter().find(|&&i| i >= self.n_targets) {
                return Err(bad(env, "field.targets", i, &format!("< n_targets = {}", self.n_targets)));
            }
        }
        let start = [self.start_posture_deg[0].to_radians(), self.start_posture_deg[1].to_radians()];
        for (i, name) in [(0, "start_posture_deg[0]"), (1, "start_posture_deg[1]")] {
            let lim = self.arm.limits(i);
            if !(start[i] >= lim[0] && start[i] <= lim[1]) {
                return Err(bad(env, name, self.start_posture_deg[i], "inside the joint limits"));
            }
        }
        Ok(())
    }

    /// Number of control steps in `s` seconds.
    pub fn steps(&self, s: f64) -> usize {
        (s / self.dt_s).round() as usize
    }

    /// The longest possible trial, in steps.
    pub fn max_trial_steps(&self) -> usize {
        let t = &self.timing;
        let after_go = (t.reach_window_s + t.hold_s + t.post_success_s).max(t.catch_window_s);
        self.steps(t.target_onset_s[1]) + self.steps(t.delay_s[1]) + self.steps(after_go) + 1
    }
}
