//! `CurlReach-v0`: delayed centre-out reaching under a curl force field.

use super::config::{CurlReachConfig, FieldKind};
use super::info_keys::INFO_KEYS;
use super::muscle::{MusclePart, MuscleReachConfig, MUSCLE_ID, MUSCLE_INFO_KEYS, PROPRIO_DIM};
use crate::env::{validate_action, validate_state, Env, EpisodeStatus, ResetOptions, StepOutcome};
use crate::error::{EnvError, EnvResult};
use crate::info::Info;
use crate::space::Space;
use engram_sim::arm::{AnyPlant, Plant, PlantKind, PlantState, Trig, TwoLinkModel};
use engram_sim::delay::DelayLine;
use engram_sim::field::ForceField;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

/// Reset options accepted by [`CurlReach`].
///
/// `field` and `field_b` set the session's field and persist across later resets (they are
/// the phase of an experiment); `target`, `catch` and `delay_s` apply to the next trial only.
pub const RESET_OPTIONS: &[&str] = &["field", "field_b", "target", "catch", "delay_s"];

/// Phase codes reported as `info["phase"]`.
pub mod phase {
    /// Holding at the start, no target shown.
    pub const PRE_TARGET: f64 = 0.0;
    /// Target shown, waiting for the go cue.
    pub const DELAY: f64 = 1.0;
    /// After the go cue, outside the target.
    pub const REACH: f64 = 2.0;
    /// After the go cue, inside the target (holding).
    pub const TARGET_HOLD: f64 = 3.0;
    /// Catch trial after its silent go time: stay still.
    pub const CATCH: f64 = 4.0;
}

/// Number of named reward terms (the first entries of the info schema).
const N_TERMS: usize = 11;

/// One trial's draws.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Trial {
    target: usize,
    catch: bool,
    onset_step: usize,
    go_step: usize,
    /// Signed curl strength of this trial, N·s/m.
    b: f64,
    /// Whether the field acts on this trial's target.
    field_on: bool,
}

/// Delayed centre-out reaching with a planar arm (or point mass) under a force field.
///
/// ## Description
/// The hand rests at the start (shoulder 60°, elbow 90°: (−0.134, 0.434) m). After a random
/// hold a target appears at 10 cm in one of 8 directions; after a random delay a go cue
/// follows; the hand must then enter the 1 cm target within 0.8 s and stay 0.2 s. On catch
/// trials no go cue comes and the hand must stay still. Moving before the go cue ends the
/// trial with a penalty. After the go cue a force field (by default a clockwise curl,
/// b = 8 N·s/m) pushes the hand. The field is never observed. Shadmehr & Mussa-Ivaldi 1994;
/// Sun et al. 2022; plant parameters of Nijhof & Kouwenhoven 2000 (MotorNet's arm26).
///
/// ## Observation (`Box(9 [+2] [+1])`, f32; positions relative to the start)
/// | index | meaning | unit | range |
/// |---|---|---|---|
/// | 0–1 | target x, y − start (0 before target onset) | m | ±target distance |
/// | 2 | go cue (1 after the go cue, never on catch trials) | – | {0, 1} |
/// | 3–4 | hand x, y − start, delayed 70 ms, + noise | m | ±inf |
/// | 5–6 | joint angles (point mass: position − start), delayed 20 ms, + noise | rad (m) | ±inf |
/// | 7–8 | joint velocities (point mass: velocity), delayed 20 ms, + noise | rad/s (m/s) | ±inf |
/// | 9–10 | previous action (if `observation.previous_action`) | – | [−1, 1] |
/// | last | signed curl strength / 10 N·s/m (if `observation.field_strength_input`) | – | [−2, 2] |
///
/// ## Action (`Box(2)` in [−1, 1])
/// Shoulder and elbow torque commands (point mass: x and y force), scaled by 20 N·m (10 N)
/// through first-order activation (15 ms rising, 50 ms falling); clipped to the bounds.
///
/// ## Reward
/// Sum of the named terms reported in `info`: `reward_distance` = −1·|hand − target| (m)
/// per step after the go cue; `reward_success` = +5 on completing the hold (or a still catch
/// trial); `reward_effort` = −0.01·Σu²; `reward_jerk` = −0.01·Σ(u − u_prev)²;
/// `reward_early_move` = −12 when the hand leaves the start by 1 cm before the go cue;
/// `reward_hold` = −`hold_weight`·|hand − start| per step before the go cue (weight 0 by
/// default, for training curricula); `reward_in_target` = +`in_target_reward` per step
/// inside the target after the go cue (0 by default); `reward_progress` =
/// 100·(d_prev − d) per step after the go cue, the approach to the target (potential-based
/// shaping: it sums to 100·(d_go − d_end) m⁻¹ over a trial; 100·(d_prev − γ·d) with
/// `reward.progress_gamma` = γ); `reward_speed` =
/// −`speed_weight`·|v_hand|² per step after the go cue (0 by default); `reward_hold_speed` =
/// −`hold_speed_weight`·|v_hand| per step inside the target after the go cue (0 by default);
/// `reward_hand_jerk` = −`hand_jerk_weight`·|j_hand|² per step after the go cue, the hand's
/// jerk from its last three velocities (0 by default).
///
/// ## Starting state
/// Start posture at rest, zero activation; target, catch flag, onset (0.2–0.5 s) and delay
/// (0.3–0.8 s) drawn from the env's ChaCha8 RNG.
///
/// ## Episode end
/// Terminates on success (200 ms inside the target; with `timing.hold_max_speed_m_s`, 200 ms
/// inside and slower than that; with `timing.post_success_s`, that long after the hold
/// completes; with `timing.end_on_success = false`, at the end of the reach window; the bonus
/// paid at completion and `success` reported on the last step), on early
/// movement, at the end of the reach window (go + 0.8 s + 0.2 s) and at the end of a catch trial (silent go + 0.5 s). The registry's time limit
/// (300 steps) is never reached with the default timing (≤ 231 steps).
///
/// ## Info
/// The reward terms, `phase` (see [`phase`]), `target_index`, `go_step`, `step`,
/// `catch_trial`, `field_active`, `field_b`, hand position and velocity (absolute, m, m/s),
/// field force on the hand (N), `channel_force` (lateral force against a channel, N), joint
/// angles and velocities, target position (absolute), `success`, `early_move`.
///
/// ## Parameters
/// [`CurlReachConfig`] (plant, arm, actuator, timing, field, observation, reward). Reset
/// options: [`RESET_OPTIONS`] — `field` (0 null, 1 curl, 2 Shadmehr–Mussa-Ivaldi matrix,
/// 3 channel) and `field_b` (signed curl strength, N·s/m, in [−20, 20]) persist; `target`
/// (index), `catch` (0/1) and `delay_s` (go cue delay after onset) apply to one trial.
///
/// ## Physical state
/// `[q1, q2, q̇1, q̇2, a1, a2]` in f64 (point mass: position, velocity, activation).
///
/// ## Version history
/// - v0: first version (analytic, rapier2d and point-mass plants).
///   The rapier2d plant (`CurlReach-rapier`) now runs rapier in f32 (it was f64): its
///   trajectories differ in the last digits; the analytic and point-mass plants are unchanged.
#[derive(Debug)]
pub struct CurlReach {
    id: &'static str,
    cfg: CurlReachConfig,
    plant: AnyPlant,
    rng: ChaCha8Rng,
    status: EpisodeStatus,
    obs_space: Space,
    act_space: Space,
    start_q: [f64; 2],
    start_hand: [f64; 2],
    targets: Vec<[f64; 2]>,
    field_kind: FieldKind,
    field_b: f64,
    trial: Trial,
    t: usize,
    hold_count: usize,
    hold_steps: usize,
    /// Step at which a trial whose hold has completed ends (`timing.post_success_s`,
    /// `timing.end_on_success`).
    success_end_step: Option<usize>,
    /// Steps the trial runs on after the hold completes (`timing.post_success_s`).
    post_success_steps: usize,
    reach_end_steps: usize,
    catch_steps: usize,
    hand_delay: DelayLine,
    joint_delay: DelayLine,
    prev_action: [f64; 2],
    /// Hand–target distance after the previous step, m (for the progress term).
    prev_distance: f64,
    /// Hand velocity after the previous two steps, newest first, m/s (for the hand-jerk term).
    prev_hand_v: [[f64; 2]; 2],
    field_now: ForceField,
    /// The six-muscle arm (`CurlReachMuscle-v0`); `None` for the torque-driven plants.
    muscle: Option<Box<MusclePart>>,
}

impl CurlReach {
    /// Id of the analytic-arm task.
    pub const ID: &'static str = "CurlReach-v0";
    /// Id of the rapier2d-arm task.
    pub const RAPIER_ID: &'static str = "CurlReachRapier-v0";
    /// Id of the point-mass task.
    pub const POINT_MASS_ID: &'static str = "CurlReachPointMass-v0";
    /// Length of the physical state.
    pub const STATE_DIM: usize = 6;
    /// Length of the physical state of `CurlReachMuscle-v0`: `[q1, q2, q̇1, q̇2, a1..a6]`.
    pub const MUSCLE_STATE_DIM: usize = 10;
    /// Scale of the optional field-strength input, N·s/m.
    pub const FIELD_INPUT_SCALE_NS_M: f64 = 10.0;

    /// A task with the given config, registered under the id matching its plant.
    pub fn new(cfg: CurlReachConfig) -> EnvResult<Self> {
        let id = match cfg.plant {
            PlantKind::Analytic => Self::ID,
            PlantKind::Rapier => Self::RAPIER_ID,
            PlantKind::PointMass => Self::POINT_MASS_ID,
        };
        cfg.validate(id)?;
        let model = TwoLinkModel::new(&cfg.arm);
        let start_arm = [cfg.start_posture_deg[0].to_radians(), cfg.start_posture_deg[1].to_radians()];
        let start_hand = model.hand_position(&Trig::new(start_arm));
        let start_q = if cfg.plant == PlantKind::PointMass { start_hand } else { start_arm };
        let targets = (0..cfg.n_targets)
            .map(|i| {
                let a = 2.0 * std::f64::consts::PI * i as f64 / cfg.n_targets as f64;
                [start_hand[0] + cfg.target_distance_m * a.cos(), start_hand[1] + cfg.target_distance_m * a.sin()]
            })
            .collect();
        let o = &cfg.observation;
        let mut dim = 9;
        if o.previous_action {
            dim += 2;
        }
        if o.field_strength_input {
            dim += 1;
        }
        let mut low = vec![f32::NEG_INFINITY; dim];
        let mut high = vec![f32::INFINITY; dim];
        let d = cfg.target_distance_m as f32;
        low[..2].copy_from_slice(&[-d, -d]);
        high[..2].copy_from_slice(&[d, d]);
        (low[2], high[2]) = (0.0, 1.0);
        if o.previous_action {
            low[9..11].copy_from_slice(&[-1.0, -1.0]);
            high[9..11].copy_from_slice(&[1.0, 1.0]);
        }
        if o.field_strength_input {
            (low[dim - 1], high[dim - 1]) = (-2.0, 2.0);
        }
        let plant = AnyPlant::new(
            cfg.plant,
            cfg.arm,
            cfg.actuator,
            cfg.dt_s,
            cfg.rapier_substeps,
            cfg.point_mass_viscosity_ns_m,
        );
        let t = &cfg.timing;
        let hold_steps = cfg.steps(t.hold_s).max(1);
        Ok(Self {
            id,
            obs_space: Space::boxed(low, high),
            act_space: Space::uniform_box(2, -1.0, 1.0),
            plant,
            rng: ChaCha8Rng::seed_from_u64(0),
            status: EpisodeStatus::NeverReset,
            start_q,
            start_hand,
            targets,
            field_kind: cfg.field.kind,
            field_b: cfg.field.signed_b(),
            trial: Trial::default(),
            t: 0,
            hold_count: 0,
            hold_steps,
            success_end_step: None,
            post_success_steps: cfg.steps(t.post_success_s),
            reach_end_steps: cfg.steps(t.reach_window_s) + hold_steps,
            catch_steps: cfg.steps(t.catch_window_s).max(1),
            hand_delay: DelayLine::new(2, cfg.steps(o.hand_delay_s)),
            joint_delay: DelayLine::new(4, cfg.steps(o.joint_delay_s)),
            prev_action: [0.0; 2],
            prev_distance: 0.0,
            prev_hand_v: [[0.0; 2]; 2],
            field_now: ForceField::Null,
            cfg,
            muscle: None,
        })
    }

    /// `CurlReachMuscle-v0`: the same task on MotorNet's six-muscle arm. Observation: target
    /// (2), go (1), hand delayed (2), normalized fibre lengths and velocities delayed (12)
    /// [+ previous excitations (6)] [+ field strength (1)]; action: six excitations in [0, 1].
    pub fn new_muscle(mut mc: MuscleReachConfig) -> EnvResult<Self> {
        mc.validate()?;
        mc.task.plant = PlantKind::Analytic;
        mc.task.arm = mc.arm.skeleton;
        let mut env = Self::new(mc.task.clone())?;
        let o = &mc.task.observation;
        let mut dim = 5 + PROPRIO_DIM;
        let prev = if o.previous_action { 6 } else { 0 };
        dim += prev;
        if o.field_strength_input {
            dim += 1;
        }
        let mut low = vec![f32::NEG_INFINITY; dim];
        let mut high = vec![f32::INFINITY; dim];
        let d = mc.task.target_distance_m as f32;
        low[..2].copy_from_slice(&[-d, -d]);
        high[..2].copy_from_slice(&[d, d]);
        (low[2], high[2]) = (0.0, 1.0);
        for i in 0..prev {
            (low[5 + PROPRIO_DIM + i], high[5 + PROPRIO_DIM + i]) = (0.0, 1.0);
        }
        if o.field_strength_input {
            (low[dim - 1], high[dim - 1]) = (-2.0, 2.0);
        }
        env.id = MUSCLE_ID;
        env.obs_space = Space::boxed(low, high);
        env.act_space = mc.action_space();
        env.muscle = Some(Box::new(MusclePart::new(&mc, mc.task.steps(o.joint_delay_s))));
        Ok(env)
    }

    /// The muscle arm, for `CurlReachMuscle-v0`.
    pub fn muscle_arm(&self) -> Option<&engram_sim::muscle::MuscleArm> {
        self.muscle.as_ref().map(|m| &m.arm)
    }

    #[inline]
    fn hand_position(&self) -> [f64; 2] {
        match &self.muscle {
            Some(m) => m.arm.hand_position(),
            None => self.plant.hand_position(),
        }
    }

    #[inline]
    fn hand_velocity(&self) -> [f64; 2] {
        match &self.muscle {
            Some(m) => m.arm.hand_velocity(),
            None => self.plant.hand_velocity(),
        }
    }

    /// Joint angles and velocities (point mass: position and velocity).
    #[inline]
    fn joints(&self) -> ([f64; 2], [f64; 2]) {
        match &self.muscle {
            Some(m) => (m.arm.state().q, m.arm.state().qd),
            None => {
                let s = self.plant.state();
                (s.q, s.qd)
            }
        }
    }

    /// The config.
    pub fn config(&self) -> &CurlReachConfig {
        &self.cfg
    }

    /// Hand position at the start posture, m.
    pub fn start_hand(&self) -> [f64; 2] {
        self.start_hand
    }

    /// Target positions (absolute), m.
    pub fn targets(&self) -> &[[f64; 2]] {
        &self.targets
    }

    /// The session's field and signed curl strength (what `field`/`field_b` options set).
    pub fn session_field(&self) -> (FieldKind, f64) {
        (self.field_kind, self.field_b)
    }

    /// The plant.
    pub fn plant(&self) -> &AnyPlant {
        &self.plant
    }

    fn option_err(&self, key: &str, value: f64, reason: &str) -> EnvError {
        EnvError::InvalidOption { env: self.id.into(), key: key.into(), value, reason: reason.into() }
    }

    /// The field acting on this trial once the go cue has come.
    fn trial_field(&self) -> ForceField {
        let f = &self.cfg.field;
        match self.field_kind {
            FieldKind::Null => ForceField::Null,
            FieldKind::Curl if f.sham => ForceField::Null,
            FieldKind::Curl => ForceField::curl(self.trial.b),
            FieldKind::ShadmehrMussaIvaldi => ForceField::shadmehr_mussa_ivaldi(),
            FieldKind::Channel => match ForceField::channel(self.start_hand, self.targets[self.trial.target]) {
                ForceField::Channel { origin_m, direction, .. } => ForceField::Channel {
                    origin_m,
                    direction,
                    stiffness_n_m: f.channel_stiffness_n_m,
                    damping_ns_m: f.channel_damping_ns_m,
                },
                other => other,
            },
        }
    }

    /// Delayed, noisy sensor frames and the task inputs, into `obs`.
    fn write_obs(&mut self, obs: &mut [f32]) {
        if self.muscle.is_some() {
            return self.write_obs_muscle(obs);
        }
        let s = self.plant.state();
        let h = self.plant.hand_position();
        let hand = [(h[0] - self.start_hand[0]) as f32, (h[1] - self.start_hand[1]) as f32];
        let q = if self.cfg.plant == PlantKind::PointMass {
            [(s.q[0] - self.start_q[0]) as f32, (s.q[1] - self.start_q[1]) as f32]
        } else {
            [s.q[0] as f32, s.q[1] as f32]
        };
        let joints = [q[0], q[1], s.qd[0] as f32, s.qd[1] as f32];
        let (obs_hand, rest) = obs[3..].split_at_mut(2);
        self.hand_delay.push(&hand, obs_hand);
        self.joint_delay.push(&joints, &mut rest[..4]);
        let o = &self.cfg.observation;
        let noise = [
            o.hand_noise_m,
            o.hand_noise_m,
            o.joint_noise_rad,
            o.joint_noise_rad,
            o.joint_vel_noise_rad_s,
            o.joint_vel_noise_rad_s,
        ];
        for (x, &sd) in obs[3..9].iter_mut().zip(&noise) {
            if sd > 0.0 {
                let z: f64 = self.rng.sample(StandardNormal);
                *x += (sd * z) as f32;
            }
        }
        self.write_task_inputs(obs, 9);
    }

    /// The muscle task's sensor frames: hand (70 ms) and proprioception (20 ms), delayed.
    fn write_obs_muscle(&mut self, obs: &mut [f32]) {
        let h = self.hand_position();
        let hand = [(h[0] - self.start_hand[0]) as f32, (h[1] - self.start_hand[1]) as f32];
        self.hand_delay.push(&hand, &mut obs[3..5]);
        let hand_sd = self.cfg.observation.hand_noise_m;
        let Some(m) = self.muscle.as_mut() else { return };
        let frame = m.frame();
        m.delay.push(&frame, &mut obs[5..5 + PROPRIO_DIM]);
        let (sd, prev) = (m.noise, m.prev);
        for (i, x) in obs[3..5 + PROPRIO_DIM].iter_mut().enumerate() {
            let s = if i < 2 { hand_sd } else { sd };
            if s > 0.0 {
                let z: f64 = self.rng.sample(StandardNormal);
                *x += (s * z) as f32;
            }
        }
        let mut i = 5 + PROPRIO_DIM;
        if self.cfg.observation.previous_action {
            for (o, p) in obs[i..i + 6].iter_mut().zip(&prev) {
                *o = *p as f32;
            }
            i += 6;
        }
        self.write_task_inputs(obs, i);
    }

    /// Target, go cue, and (from index `i`) the optional previous action and field strength.
    fn write_task_inputs(&self, obs: &mut [f32], mut i: usize) {
        let o = &self.cfg.observation;
        let tr = self.trial;
        if self.t >= tr.onset_step {
            let p = self.targets[tr.target];
            obs[0] = (p[0] - self.start_hand[0]) as f32;
            obs[1] = (p[1] - self.start_hand[1]) as f32;
        } else {
            obs[0] = 0.0;
            obs[1] = 0.0;
        }
        obs[2] = if !tr.catch && self.t >= tr.go_step { 1.0 } else { 0.0 };
        if o.previous_action && self.muscle.is_none() {
            obs[9] = self.prev_action[0] as f32;
            obs[10] = self.prev_action[1] as f32;
            i = 11;
        }
        if o.field_strength_input {
            let b = if self.field_kind == FieldKind::Curl && tr.field_on { tr.b } else { 0.0 };
            obs[i] = (b / Self::FIELD_INPUT_SCALE_NS_M) as f32;
        }
    }

    fn phase(&self, in_target: bool) -> f64 {
        let tr = &self.trial;
        if self.t < tr.onset_step {
            phase::PRE_TARGET
        } else if self.t < tr.go_step {
            phase::DELAY
        } else if tr.catch {
            phase::CATCH
        } else if in_target {
            phase::TARGET_HOLD
        } else {
            phase::REACH
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn write_info(&self, info: &mut Info, terms: [f64; N_TERMS], in_target: bool, success: bool, early: bool) {
        let keys = info.keys();
        let schema: &[&'static str] = if self.muscle.is_some() { &MUSCLE_INFO_KEYS } else { &INFO_KEYS };
        // The schema is written once; afterwards the values are overwritten in place.
        let same = keys.len() == schema.len()
            && keys.iter().zip(schema.iter()).all(|(a, b)| std::ptr::eq(a.as_ptr(), b.as_ptr()));
        if !same {
            info.clear();
            for k in schema {
                info.set(k, 0.0);
            }
        }
        let (q, qd) = self.joints();
        let (p, v) = (self.hand_position(), self.hand_velocity());
        let f = self.field_now.force(p, v);
        let tr = &self.trial;
        let target = self.targets[tr.target];
        let values = [
            terms[0],
            terms[1],
            terms[2],
            terms[3],
            terms[4],
            terms[5],
            terms[6],
            terms[7],
            terms[8],
            terms[9],
            terms[10],
            self.phase(in_target),
            tr.target as f64,
            tr.go_step as f64,
            self.t as f64,
            tr.catch as u8 as f64,
            !self.field_now.is_null() as u8 as f64,
            if self.field_kind == FieldKind::Curl && tr.field_on { tr.b } else { 0.0 },
            p[0],
            p[1],
            v[0],
            v[1],
            f[0],
            f[1],
            self.field_now.channel_lateral_force(p, v),
            q[0],
            q[1],
            qd[0],
            qd[1],
            target[0],
            target[1],
            success as u8 as f64,
            early as u8 as f64,
        ];
        let out = info.values_mut();
        out[..values.len()].copy_from_slice(&values);
        if let Some(m) = &self.muscle {
            out[values.len()..].copy_from_slice(&m.info_values());
        }
    }
}

impl Env for CurlReach {
    fn id(&self) -> &str {
        self.id
    }
    fn observation_space(&self) -> &Space {
        &self.obs_space
    }
    fn action_space(&self) -> &Space {
        &self.act_space
    }

    fn reset_into(
        &mut self,
        seed: Option<u64>,
        options: &ResetOptions,
        obs: &mut [f32],
        info: &mut Info,
    ) -> EnvResult<()> {
        options.check(self.id, RESET_OPTIONS)?;
        // Validate every option before changing anything.
        let n = self.cfg.n_targets;
        let kind = match options.get("field") {
            Some(c) => {
                Some(FieldKind::from_code(c).ok_or_else(|| self.option_err("field", c, "must be 0, 1, 2 or 3"))?)
            }
            None => None,
        };
        if let Some(b) = options.get("field_b") {
            if !(-20.0..=20.0).contains(&b) {
                return Err(self.option_err("field_b", b, "must be in [-20, 20] N·s/m"));
            }
        }
        if let Some(t) = options.get("target") {
            if t.fract() != 0.0 || t < 0.0 || t >= n as f64 {
                return Err(self.option_err("target", t, &format!("must be an integer in [0, {n})")));
            }
        }
        if let Some(c) = options.get("catch") {
            if c != 0.0 && c != 1.0 {
                return Err(self.option_err("catch", c, "must be 0 or 1"));
            }
        }
        if let Some(d) = options.get("delay_s") {
            if !(0.0..=10.0).contains(&d) {
                return Err(self.option_err("delay_s", d, "must be in [0, 10] s"));
            }
        }
        if let Some(k) = kind {
            self.field_kind = k;
        }
        if let Some(b) = options.get("field_b") {
            self.field_b = b;
        }
        if let Some(s) = seed {
            self.rng = ChaCha8Rng::seed_from_u64(s);
        }
        // Every draw happens whatever the options, so options never shift the RNG stream.
        let cfg = &self.cfg;
        let t = &cfg.timing;
        let target = self.rng.gen_range(0..n);
        let catch = self.rng.gen::<f64>() < cfg.catch_probability;
        let onset = self.rng.gen_range(t.target_onset_s[0]..=t.target_onset_s[1]);
        let delay = self.rng.gen_range(t.delay_s[0]..=t.delay_s[1]);
        let random_b = cfg.field.random_b_range_ns_m.map(|r| r[0] + (r[1] - r[0]) * self.rng.gen::<f64>());
        let target = options.get("target").map_or(target, |v| v as usize);
        let catch = options.get("catch").map_or(catch, |v| v == 1.0);
        let delay = options.get("delay_s").unwrap_or(delay);
        let onset_step = cfg.steps(onset);
        let field_on = cfg.field.targets.as_ref().is_none_or(|ts| ts.contains(&target));
        // An explicit `field_b` option wins over the random range.
        let b = match (options.get("field_b"), random_b) {
            (None, Some(r)) => r,
            _ => self.field_b,
        };
        self.trial = Trial { target, catch, onset_step, go_step: onset_step + cfg.steps(delay), b, field_on };
        self.t = 0;
        self.hold_count = 0;
        self.success_end_step = None;
        self.prev_action = [0.0; 2];
        self.field_now = ForceField::Null;
        self.plant.reset(self.start_q, [0.0; 2]);
        if let Some(m) = self.muscle.as_mut() {
            m.reset(self.start_q);
        }
        self.prev_distance = self.cfg.target_distance_m;
        self.prev_hand_v = [[0.0; 2]; 2];
        let q0 = if cfg.plant == PlantKind::PointMass {
            [0.0f32; 2]
        } else {
            [self.start_q[0] as f32, self.start_q[1] as f32]
        };
        self.hand_delay.fill(&[0.0, 0.0]);
        self.joint_delay.fill(&[q0[0], q0[1], 0.0, 0.0]);
        self.status = EpisodeStatus::Running;
        self.write_obs(obs);
        self.write_info(info, [0.0; N_TERMS], false, false, false);
        Ok(())
    }

    #[inline]
    fn step_into(&mut self, action: &[f32], obs: &mut [f32], info: &mut Info) -> EnvResult<StepOutcome> {
        self.status.check_step(self.id)?;
        let tr = self.trial;
        let after_go = self.t >= tr.go_step;
        if self.muscle.is_none() || action.len() != 6 {
            validate_action(self.id, &self.act_space, action)?;
        }
        self.field_now = if after_go && !tr.catch && tr.field_on { self.trial_field() } else { ForceField::Null };
        let (effort, jerk) = if let Some(m) = self.muscle.as_mut() {
            let u = m.step(action, &self.field_now)?;
            m.effort_and_jerk(&u)
        } else {
            let u = [action[0].clamp(-1.0, 1.0) as f64, action[1].clamp(-1.0, 1.0) as f64];
            self.plant.step(u, &self.field_now);
            let (du0, du1) = (u[0] - self.prev_action[0], u[1] - self.prev_action[1]);
            self.prev_action = u;
            (u[0] * u[0] + u[1] * u[1], du0 * du0 + du1 * du1)
        };
        self.t += 1;

        let r = &self.cfg.reward;
        let p = self.hand_position();
        let effort = -r.effort_weight * effort;
        let jerk = -r.jerk_weight * jerk;
        let (mut distance, mut success_r, mut early_r, mut hold, mut inside_r, mut progress, mut speed) =
            (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
        let (mut hold_speed, mut hand_jerk) = (0.0, 0.0);
        let v = self.hand_velocity();
        let [v1, v2] = self.prev_hand_v;
        self.prev_hand_v = [v, v1];
        let target = self.targets[tr.target];
        let d = (p[0] - target[0]).hypot(p[1] - target[1]);
        let (mut success, mut early, mut terminated, mut in_target) = (false, false, false, false);
        let displacement = (p[0] - self.start_hand[0]).hypot(p[1] - self.start_hand[1]);
        let moved = displacement > self.cfg.early_move_tolerance_m;
        if self.t <= tr.go_step || tr.catch {
            hold = -r.hold_weight * displacement;
            if moved {
                early = true;
                terminated = true;
                early_r = -r.early_move_penalty;
            } else if tr.catch && self.t >= tr.go_step + self.catch_steps {
                success = true;
                terminated = true;
                success_r = r.success_bonus;
            }
        } else {
            distance = -r.distance_weight * d;
            progress = r.progress_weight * (self.prev_distance - r.progress_gamma * d);
            speed = -r.speed_weight * (v[0] * v[0] + v[1] * v[1]);
            if r.hand_jerk_weight > 0.0 {
                let dt2 = self.cfg.dt_s * self.cfg.dt_s;
                let j = [(v[0] - 2.0 * v1[0] + v2[0]) / dt2, (v[1] - 2.0 * v1[1] + v2[1]) / dt2];
                hand_jerk = -r.hand_jerk_weight * (j[0] * j[0] + j[1] * j[1]);
            }
            in_target = d <= self.cfg.target_radius_m;
            if in_target {
                inside_r = r.in_target_reward;
                hold_speed = -r.hold_speed_weight * v[0].hypot(v[1]);
            }
            let still = self.cfg.timing.hold_max_speed_m_s.is_none_or(|s| v[0].hypot(v[1]) <= s);
            let window_end = tr.go_step + self.reach_end_steps;
            if let Some(end) = self.success_end_step {
                // After a completed hold: the bonus is paid, the trial runs on to its end.
                success = self.t >= end;
                terminated = success;
            } else {
                self.hold_count = if in_target && still { self.hold_count + 1 } else { 0 };
                if self.hold_count >= self.hold_steps {
                    success_r = r.success_bonus;
                    let fixed_end = if self.cfg.timing.end_on_success { 0 } else { window_end };
                    let end = (self.t + self.post_success_steps).max(fixed_end);
                    if self.t >= end {
                        success = true;
                        terminated = true;
                    } else {
                        self.success_end_step = Some(end);
                    }
                } else if self.t >= window_end {
                    terminated = true;
                }
            }
        }
        self.prev_distance = d;
        self.write_obs(obs);
        let terms =
            [distance, success_r, effort, early_r, jerk, hold, inside_r, progress, speed, hold_speed, hand_jerk];
        self.write_info(info, terms, in_target, success, early);
        let reward: f64 = terms.iter().sum();
        let outcome = StepOutcome { reward, terminated, truncated: false };
        self.status.record(&outcome);
        Ok(outcome)
    }

    fn max_episode_steps(&self) -> Option<usize> {
        None
    }

    fn state(&self) -> Option<Vec<f64>> {
        if let Some(m) = &self.muscle {
            let s = m.arm.state();
            let mut v = vec![s.q[0], s.q[1], s.qd[0], s.qd[1]];
            v.extend(s.muscles.iter().map(|x| x.activation));
            return Some(v);
        }
        let s = self.plant.state();
        Some(vec![s.q[0], s.q[1], s.qd[0], s.qd[1], s.activation[0], s.activation[1]])
    }

    fn set_state(&mut self, state: &[f64]) -> EnvResult<()> {
        let dim = if self.muscle.is_some() { Self::MUSCLE_STATE_DIM } else { Self::STATE_DIM };
        validate_state(self.id, dim, state)?;
        if self.status == EpisodeStatus::NeverReset {
            return Err(EnvError::InvalidState { env: self.id.into(), reason: "reset() before set_state()".into() });
        }
        if let Some(m) = self.muscle.as_mut() {
            let a = std::array::from_fn(|i| state[4 + i]);
            m.arm.set_state([state[0], state[1]], [state[2], state[3]], a);
        }
        self.plant.set_state(&PlantState {
            q: [state[0], state[1]],
            qd: [state[2], state[3]],
            activation: [state[4].clamp(-1.0, 1.0), state[5].clamp(-1.0, 1.0)],
        });
        let (p, target) = (self.hand_position(), self.targets[self.trial.target]);
        self.prev_distance = (p[0] - target[0]).hypot(p[1] - target[1]);
        let v = self.hand_velocity();
        self.prev_hand_v = [v, v];
        self.status = EpisodeStatus::Running;
        Ok(())
    }
}
