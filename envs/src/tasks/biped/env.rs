//! `PlanarBiped`: the Walker2d-v5 task on the rapier2d biped, with dynamics randomization and
//! held-out robots.

use super::config::{InfoParams, PlanarBipedConfig};
use super::keys::{self, NORMALIZED_KEYS};
use crate::env::{validate_action, validate_state, Env, EpisodeStatus, ResetOptions, StepOutcome};
use crate::error::{EnvError, EnvResult};
use crate::info::{Info, INFO_CAPACITY};
use crate::rng::NumpyPcg64;
use crate::space::Space;
use engram_sim::biped::{
    geometry::RESET_ROOT_Z_M, real_robot_graded, standing_state, ActuatorModel, Actuators, BipedBody, BodyState,
    DynamicsParams, LinkPose, SensorModel, Sensors, SimSettings, N_JOINTS, N_LINKS, N_PARAMS, N_QPOS, PARAMS,
};

/// Walker2d's observation: height, pitch, six joint angles, nine velocities.
pub const BASE_OBS_DIM: usize = 17;
/// Physics step the frame skip is counted in, s (Walker2d's `timestep`).
const NOMINAL_DT_S: f64 = 0.002;

/// The planar walker of Gymnasium's `Walker2d-v5`, simulated with rapier2d, with dynamics
/// randomization (Siekmann et al., RSS 2020) and held-out "real" robots.
///
/// ## Description
/// A 2-D biped of seven capsules (torso; thigh, shin and foot per leg) with six actuated
/// hinges walks forward along +x. Geometry, masses (23.68 kg in all), inertias, joint limits
/// (hip and knee [−150°, 0], ankle ±45°), damping, ±100 N·m motors and friction (feet 1.9,
/// MuJoCo's max rule) are Walker2d-v5's; physics runs at 2 ms with frame skip 4 (125 Hz).
///
/// ## Observation (`Box(17 + extras)`, f32)
/// | index | meaning | unit | range |
/// |---|---|---|---|
/// | 0 | torso centre height above the ground | m | ±inf |
/// | 1 | torso pitch from the gravity vertical, + leaning forward | rad | ±inf |
/// | 2–4 | right hip, knee, ankle angles | rad | ±inf |
/// | 5–7 | left hip, knee, ankle angles | rad | ±inf |
/// | 8, 9 | torso x and z velocity | m/s | ±`velocity_clip` |
/// | 10 | pitch rate | rad/s | ±`velocity_clip` |
/// | 11–16 | joint rates, same order | rad/s | ±`velocity_clip` |
///
/// Then, when configured: the previous action (6), the commanded speed (1), the gait clock
/// `(sin, cos)` (2), and with `oracle` the 31 randomized parameters normalized to [−1, 1]
/// over the training ranges (flat order of `PARAMS` without the two noise levels). Angles
/// carry the encoder biases and noise of the episode's parameters; rates carry noise.
///
/// ## Action (`Box(6)` in [−1, 1])
/// Right hip, knee, ankle, then left. Torque mode: torque = action × motor strength.
/// PD mode: the action maps linearly onto each joint's range as a position target.
///
/// ## Reward
/// `forward_reward_weight · ẋ + healthy_reward · healthy − ctrl_cost_weight · ‖a‖²`, with
/// ẋ the torso's displacement over the step divided by the control period. With a commanded
/// speed the first term is `−forward_reward_weight · |ẋ − v_cmd|`.
///
/// ## Starting state
/// Standing, torso centre at 1.25 m, every coordinate and velocity plus U(±0.005), drawn
/// with NumPy's PCG64 in Gymnasium's order (9 positions, then 9 velocities). The
/// randomized dynamics are drawn after them from the same generator.
///
/// ## Episode end
/// Terminates when z ∉ (0.8, 2.0), |pitch| ≥ 1 rad or the state is not finite; truncated
/// at 1000 steps by the registry.
///
/// ## Parameters
/// [`PlanarBipedConfig`]. Reset options: any parameter name of `PARAMS` pins that
/// parameter for the episode (after randomization), and `robot` pins the held-out robot.
/// `info` carries `x_position`, `z_distance_from_origin`, `x_velocity`, the three reward
/// terms, `robot`, the raw randomized parameters (under their `PARAMS` names) and the
/// normalized physical ones (`norm_*`).
///
/// ## Physical state
/// `qpos ++ qvel` in MuJoCo's order (18 values, see [`BodyState`]).
///
/// ## Version history
/// - v0: initial version (rapier2d 0.36, one solver iteration per 2 ms step).
pub struct PlanarBiped {
    cfg: PlanarBipedConfig,
    id: &'static str,
    obs_space: Space,
    act_space: Space,
    rng: NumpyPcg64,
    status: EpisodeStatus,
    body: Option<BipedBody>,
    actuators: Option<Actuators>,
    sensors: Option<Sensors>,
    params: DynamicsParams,
    normalized: [f64; N_PARAMS],
    settings: SimSettings,
    ticks_per_step: usize,
    robot: Option<usize>,
    next_robot: usize,
    state: BodyState,
    measured: BodyState,
    command: [f64; N_JOINTS],
    prev_action: [f32; N_JOINTS],
    commanded_speed: f64,
    steps: usize,
    /// The info keys this env writes, in order.
    info_keys: Vec<&'static str>,
}

impl std::fmt::Debug for PlanarBiped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlanarBiped").field("id", &self.id).field("state", &self.state).finish()
    }
}

impl PlanarBiped {
    /// Id of the nominal env.
    pub const ID: &'static str = "PlanarBiped-v0";
    /// Length of the physical state.
    pub const STATE_DIM: usize = 2 * N_QPOS;

    /// An env with the given config, registered as `id`.
    pub fn new(cfg: PlanarBipedConfig, id: &'static str) -> EnvResult<Self> {
        cfg.validate(id)?;
        let obs_space = Self::observation_space_for(&cfg);
        Ok(Self {
            id,
            obs_space,
            act_space: Space::uniform_box(N_JOINTS, -1.0, 1.0),
            rng: NumpyPcg64::from_seed(0),
            status: EpisodeStatus::NeverReset,
            body: None,
            actuators: None,
            sensors: None,
            params: cfg.params.clone(),
            normalized: [0.0; N_PARAMS],
            settings: cfg.sim,
            ticks_per_step: cfg.frame_skip,
            robot: None,
            next_robot: 0,
            state: standing_state(),
            measured: standing_state(),
            command: [0.0; N_JOINTS],
            prev_action: [0.0; N_JOINTS],
            commanded_speed: 0.0,
            steps: 0,
            info_keys: Self::info_schema(&cfg),
            cfg,
        })
    }

    fn observation_space_for(cfg: &PlanarBipedConfig) -> Space {
        let inf = f32::INFINITY;
        let v = cfg.velocity_clip as f32;
        let mut lo = vec![-inf; 8];
        lo.extend([-v; 9]);
        let mut hi = vec![inf; 8];
        hi.extend([v; 9]);
        if cfg.obs_previous_action {
            lo.extend([-1.0; N_JOINTS]);
            hi.extend([1.0; N_JOINTS]);
        }
        if let Some(r) = cfg.commanded_speed_m_s {
            lo.push(r.low as f32);
            hi.push(r.high as f32);
        }
        if cfg.gait_clock_period_s.is_some() {
            lo.extend([-1.0; 2]);
            hi.extend([1.0; 2]);
        }
        if cfg.oracle {
            lo.extend([-inf; keys::N_REPORTED]);
            hi.extend([inf; keys::N_REPORTED]);
        }
        Space::boxed(lo, hi)
    }

    /// The config.
    pub fn config(&self) -> &PlanarBipedConfig {
        &self.cfg
    }

    /// The dynamics parameters of the current episode.
    pub fn params(&self) -> &DynamicsParams {
        &self.params
    }

    /// The held-out robot of the current episode, if any.
    pub fn robot(&self) -> Option<usize> {
        self.robot
    }

    /// The true generalized state (not what the robot measures).
    pub fn body_state(&self) -> &BodyState {
        &self.state
    }

    /// Pose of every link (for drawing), or `None` before the first reset.
    pub fn link_poses(&self) -> Option<[LinkPose; N_LINKS]> {
        self.body.as_ref().map(|b| b.link_poses())
    }

    /// Control period, s.
    pub fn control_dt_s(&self) -> f64 {
        self.cfg.frame_skip as f64 * NOMINAL_DT_S
    }

    fn choose_robot(&mut self, seed: Option<u64>, options: &ResetOptions) -> EnvResult<Option<usize>> {
        let Some(sel) = self.cfg.real else {
            if let Some(v) = options.get(keys::ROBOT) {
                return Err(EnvError::InvalidOption {
                    env: self.id.into(),
                    key: keys::ROBOT.into(),
                    value: v,
                    reason: "only the PlanarBipedReal envs have robots".into(),
                });
            }
            return Ok(None);
        };
        let n = sel.n_robots();
        let r = match (options.get(keys::ROBOT), seed) {
            (Some(v), _) if v.fract() == 0.0 && v >= 0.0 && (v as usize) < n => v as usize,
            (Some(v), _) => {
                return Err(EnvError::InvalidOption {
                    env: self.id.into(),
                    key: keys::ROBOT.into(),
                    value: v,
                    reason: format!("must be an integer in [0, {n})"),
                })
            }
            (None, Some(s)) => (s % n as u64) as usize,
            (None, None) => self.next_robot,
        };
        self.next_robot = (r + 1) % n;
        Ok(Some(r))
    }

    fn write_obs(&self, m: &BodyState, obs: &mut [f32]) {
        let clip = self.cfg.velocity_clip;
        for (o, q) in obs[..8].iter_mut().zip(&m.qpos[1..]) {
            *o = *q as f32;
        }
        for (o, v) in obs[8..BASE_OBS_DIM].iter_mut().zip(&m.qvel) {
            *o = v.clamp(-clip, clip) as f32;
        }
        let mut k = BASE_OBS_DIM;
        if self.cfg.obs_previous_action {
            obs[k..k + N_JOINTS].copy_from_slice(&self.prev_action);
            k += N_JOINTS;
        }
        if self.cfg.commanded_speed_m_s.is_some() {
            obs[k] = self.commanded_speed as f32;
            k += 1;
        }
        if let Some(period) = self.cfg.gait_clock_period_s {
            let phase = std::f64::consts::TAU * self.steps as f64 * self.control_dt_s() / period;
            obs[k] = phase.sin() as f32;
            obs[k + 1] = phase.cos() as f32;
            k += 2;
        }
        if self.cfg.oracle {
            for i in (0..N_PARAMS).filter(|&i| keys::reported(i)) {
                obs[k] = self.normalized[i] as f32;
                k += 1;
            }
        }
        debug_assert_eq!(k, obs.len());
    }

    /// The info keys of `cfg`, in the order [`PlanarBiped::write_info`] writes them.
    fn info_schema(cfg: &PlanarBipedConfig) -> Vec<&'static str> {
        let mut k = vec![
            keys::X_POSITION,
            keys::Z_DISTANCE,
            keys::X_VELOCITY,
            keys::REWARD_FORWARD,
            keys::REWARD_CTRL,
            keys::REWARD_SURVIVE,
            keys::ROBOT,
        ];
        if cfg.info_params != InfoParams::None {
            k.extend(PARAMS.iter().enumerate().filter(|(i, _)| keys::reported(*i)).map(|(_, (n, _))| *n));
        }
        if cfg.info_params == InfoParams::Both {
            k.extend(NORMALIZED_KEYS);
        }
        k
    }

    fn write_info(&self, info: &mut Info, x_velocity: f64, forward: f64, ctrl: f64, survive: f64) {
        let mut values = [0.0; INFO_CAPACITY];
        values[..7].copy_from_slice(&[
            self.state.qpos[0],
            self.state.qpos[1] - RESET_ROOT_Z_M,
            x_velocity,
            forward,
            ctrl,
            survive,
            self.robot.map_or(-1.0, |r| r as f64),
        ]);
        let mut n = 7;
        if self.cfg.info_params != InfoParams::None {
            let raw = self.params.to_array();
            for (i, v) in raw.iter().enumerate() {
                if keys::reported(i) {
                    values[n] = *v;
                    n += 1;
                }
            }
        }
        if self.cfg.info_params == InfoParams::Both {
            values[n..n + NORMALIZED_KEYS.len()].copy_from_slice(&self.normalized[..NORMALIZED_KEYS.len()]);
            n += NORMALIZED_KEYS.len();
        }
        let ours = &self.info_keys;
        debug_assert_eq!(n, ours.len());
        // Same schema as the previous step (the usual case): overwrite the values in place.
        // Keys set after ours by wrappers are theirs to overwrite.
        let keys = info.keys();
        let same = keys.len() >= n
            && keys.iter().zip(ours).all(|(a, b)| std::ptr::eq(a.as_ptr(), b.as_ptr()) && a.len() == b.len());
        if same {
            info.values_mut()[..n].copy_from_slice(&values[..n]);
        } else {
            info.clear();
            for (k, v) in ours.iter().zip(&values[..n]) {
                info.set(k, *v);
            }
        }
    }

    /// The torso pitch from the gravity vertical: the world frame is the ground's, tilted by
    /// the slope.
    fn true_state(&self, body_state: BodyState) -> BodyState {
        let mut s = body_state;
        s.qpos[2] -= self.params.slope_rad;
        s
    }

    fn healthy(&self) -> bool {
        let (z, pitch) = (self.state.qpos[1], self.state.qpos[2]);
        let [zl, zh] = self.cfg.healthy_z_range;
        let [al, ah] = self.cfg.healthy_angle_range;
        self.state.is_finite() && zl < z && z < zh && al < pitch && pitch < ah
    }

    fn build(&mut self, initial: &BodyState) {
        let mut start = *initial;
        start.qpos[2] += self.params.slope_rad;
        let body = BipedBody::new(&self.params, &self.settings, &start);
        self.state = self.true_state(body.state());
        self.body = Some(body);
    }
}

impl Env for PlanarBiped {
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
        options.check(self.id, &keys::option_keys())?;
        if let Some(s) = seed {
            self.rng = NumpyPcg64::from_seed(s);
        }
        // Gymnasium's MujocoEnv.reset_model: qpos noise, then qvel noise.
        let scale = self.cfg.reset_noise_scale;
        let mut initial = standing_state();
        for q in &mut initial.qpos {
            *q += self.rng.uniform(-scale, scale);
        }
        for v in &mut initial.qvel {
            *v += self.rng.uniform(-scale, scale);
        }
        self.robot = self.choose_robot(seed, options)?;
        let (mut actuator, mut sensor) = (ActuatorModel::default(), SensorModel::default());
        self.settings = self.cfg.sim;
        self.params = if let (Some(sel), Some(r)) = (self.cfg.real, self.robot) {
            let (variant, index) = sel.robot(r);
            let robot =
                real_robot_graded(variant, index, &self.cfg.distribution, self.cfg.real_severity).map_err(|e| {
                    EnvError::InvalidConfig {
                        env: self.id.into(),
                        field: "real_severity".into(),
                        value: e.value.to_string(),
                        bound: e.bound,
                    }
                })?;
            actuator = robot.actuator;
            sensor = robot.sensor;
            self.settings = robot.settings;
            robot.params
        } else if self.cfg.randomize {
            self.cfg.distribution.sample(&mut self.rng)
        } else {
            self.cfg.params.clone()
        };
        for (key, &value) in &options.values {
            if key == keys::ROBOT {
                continue;
            }
            self.params.set_by_name(key, value).map_err(|e| EnvError::InvalidOption {
                env: self.id.into(),
                key: key.clone(),
                value,
                reason: format!("must be {}", e.bound),
            })?;
        }
        self.normalized = self.cfg.distribution.normalize(&self.params);
        if let Some(r) = self.cfg.commanded_speed_m_s {
            self.commanded_speed = self.rng.uniform(r.low, r.high);
        }
        let control_dt = self.control_dt_s();
        self.ticks_per_step = ((control_dt / self.settings.dt_s).round() as usize).max(1);
        let latency_ticks = self.params.action_latency_steps as usize * self.ticks_per_step;
        self.actuators = Some(Actuators::new(
            self.cfg.actuation,
            self.cfg.pd_gains,
            actuator,
            &self.params,
            self.settings.dt_s,
            latency_ticks,
        ));
        let mut sensors = Sensors::new(sensor, &self.params, control_dt);
        self.build(&initial);
        sensors.measure(&self.state, &mut self.rng, true, &mut self.measured);
        self.sensors = Some(sensors);
        self.command = [0.0; N_JOINTS];
        self.prev_action = [0.0; N_JOINTS];
        self.steps = 0;
        self.status = EpisodeStatus::Running;
        self.write_obs(&self.measured, obs);
        self.write_info(info, 0.0, 0.0, 0.0, 0.0);
        Ok(())
    }

    fn step_into(&mut self, action: &[f32], obs: &mut [f32], info: &mut Info) -> EnvResult<StepOutcome> {
        self.status.check_step(self.id)?;
        validate_action(self.id, &self.act_space, action)?;
        let mut ctrl = 0.0;
        for (j, &a) in action.iter().enumerate() {
            let a = a.clamp(-1.0, 1.0);
            self.command[j] = a as f64;
            self.prev_action[j] = a;
            ctrl += (a as f64) * (a as f64);
        }
        let x_before = self.state.qpos[0];
        let (body, act) = match (self.body.as_mut(), self.actuators.as_mut()) {
            (Some(b), Some(a)) => (b, a),
            _ => return Err(EnvError::StepBeforeReset { env: self.id.into() }),
        };
        let (mut q, mut qd, mut tau) = ([0.0; N_JOINTS], [0.0; N_JOINTS], [0.0; N_JOINTS]);
        let angles = act.needs_angles();
        for _ in 0..self.ticks_per_step {
            if angles {
                body.joints(&mut q, &mut qd);
            } else {
                body.joint_rates(&mut qd);
            }
            act.tick(&self.command, &q, &qd, &mut tau);
            body.step(&tau);
        }
        let raw = body.state();
        self.state = self.true_state(raw);
        self.steps += 1;
        let finite = self.state.is_finite();
        if !finite {
            // Keep what the agent sees finite; the episode ends here.
            for v in self.state.qpos.iter_mut().chain(self.state.qvel.iter_mut()) {
                if !v.is_finite() {
                    *v = 0.0;
                }
            }
        }
        let x_velocity = (self.state.qpos[0] - x_before) / self.control_dt_s();
        let healthy = finite && self.healthy();
        let forward = if self.cfg.commanded_speed_m_s.is_some() {
            -self.cfg.forward_reward_weight * (x_velocity - self.commanded_speed).abs()
        } else {
            self.cfg.forward_reward_weight * x_velocity
        };
        let ctrl_cost = -self.cfg.ctrl_cost_weight * ctrl;
        let survive = if healthy { self.cfg.healthy_reward } else { 0.0 };
        let terminated = !finite || (self.cfg.terminate_when_unhealthy && !healthy);
        if let Some(s) = self.sensors.as_mut() {
            s.measure(&self.state, &mut self.rng, false, &mut self.measured);
        }
        self.write_obs(&self.measured, obs);
        self.write_info(info, x_velocity, forward, ctrl_cost, survive);
        let outcome = StepOutcome { reward: forward + ctrl_cost + survive, terminated, truncated: false };
        self.status.record(&outcome);
        Ok(outcome)
    }

    fn state(&self) -> Option<Vec<f64>> {
        Some(self.state.qpos.iter().chain(&self.state.qvel).copied().collect())
    }

    fn set_state(&mut self, state: &[f64]) -> EnvResult<()> {
        validate_state(self.id, Self::STATE_DIM, state)?;
        if self.actuators.is_none() {
            return Err(EnvError::StepBeforeReset { env: self.id.into() });
        }
        let mut s = BodyState::default();
        s.qpos.copy_from_slice(&state[..N_QPOS]);
        s.qvel.copy_from_slice(&state[N_QPOS..]);
        self.build(&s);
        self.measured = self.state;
        self.status = if self.healthy() || !self.cfg.terminate_when_unhealthy {
            EpisodeStatus::Running
        } else {
            EpisodeStatus::Done
        };
        Ok(())
    }

    /// The observation of the current state as perfect sensors would see it plus the
    /// episode's encoder biases (no noise is drawn: observing must not change the RNG).
    fn observe(&self, obs: &mut [f32]) -> EnvResult<()> {
        let mut m = self.state;
        for (k, &i) in [3usize, 4, 5, 6, 7, 8, 2].iter().enumerate() {
            m.qpos[i] += self.params.encoder_bias_rad[k];
        }
        self.write_obs(&m, obs);
        Ok(())
    }
}
