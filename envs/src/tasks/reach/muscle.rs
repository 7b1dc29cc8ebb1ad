//! `CurlReachMuscle-v0`: CurlReach on MotorNet's six-muscle arm. The task (phases, targets,
//! fields, reward terms, metrics) is CurlReach's; this module holds what the muscles change:
//! the config, the plant part of the env, the observation frame and the extra `info` keys.
//!
//! ## Action map
//! By default the action is the six excitations (MotorNet's convention), clipped to
//! `[0.001, 1]`. [`MuscleActionConfig`] makes it `u = clip(offset + scale · action)`: with
//! `offset = "hold"` a zero action gives the least-effort excitations that hold the start
//! posture (with `cocontraction` as their floor; the arm starts in that steady state), and
//! `scale` is the excitation per unit of action; the action space is the set of actions whose
//! excitations lie in `[0, 1]`. The effort and jerk terms, `info` and the optional
//! previous-excitation input are always in excitations.

use super::config::CurlReachConfig;
use super::info_keys::INFO_KEYS;
use crate::error::{EnvError, EnvResult};
use crate::space::Space;
use engram_sim::delay::DelayLine;
use engram_sim::field::ForceField;
use engram_sim::muscle::{holding_excitation, MuscleArm, MuscleArmParams, MUSCLE_NAMES, N_MUSCLES};
use serde::{Deserialize, Serialize};

/// Id of the muscle-arm task.
pub const MUSCLE_ID: &str = "CurlReachMuscle-v0";

/// What a zero action means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionOffset {
    /// The action is the excitation (MotorNet's convention): a zero action leaves every muscle
    /// at the activation floor, where the arm drifts (1.7 cm in 1 s from the start posture).
    #[default]
    None,
    /// The action is added to the least-effort excitations that hold the start posture at rest
    /// with [`MuscleActionConfig::cocontraction`] (`engram_sim::muscle::holding_excitation`):
    /// a zero action holds still.
    Hold,
}

/// How the policy's action becomes the six excitations:
/// `u = clip(offset + scale · action, min_activation, 1)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MuscleActionConfig {
    /// The offset (default `none`: zero).
    pub offset: ActionOffset,
    /// Co-contraction of the `hold` offset: the floor of its excitations (in [0, 0.5],
    /// default 0: MotorNet's activation minimum).
    pub cocontraction: f64,
    /// Excitation per unit of action (in (0, 1], default 1).
    pub scale: f64,
}

impl Default for MuscleActionConfig {
    fn default() -> Self {
        Self { offset: ActionOffset::None, cocontraction: 0.0, scale: 1.0 }
    }
}

/// Config of `CurlReachMuscle-v0`: the reaching task and the muscle arm.
///
/// `task.plant`, `task.arm`, `task.actuator` are not used (the arm is `arm.skeleton`, the
/// actuators are the muscles); `task.dt_s` must equal `arm.dt_s`. The proprioceptive frame
/// (normalized fibre lengths and velocities) is delayed by `task.observation.joint_delay_s`
/// (20 ms, MotorNet's usual proprioceptive delay) and the hand by `hand_delay_s` (70 ms).
///
/// CurlReach's own keys are accepted at the top level too (`field`, `catch_probability`,
/// `timing`, `reward`, … — every key of [`CurlReachConfig`] but `arm`, which here is the
/// muscle arm): they are moved into `task` before parsing, merged key by key into any `task`
/// table given (nested tables recursively, the top-level value winning). So a config written
/// for `CurlReach-v0` (say, the curl-field study's per-phase `field` override) drives this
/// env unchanged.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MuscleReachConfig {
    /// The reaching task.
    pub task: CurlReachConfig,
    /// The muscle arm (MotorNet's `RigidTendonArm26` by default).
    pub arm: MuscleArmParams,
    /// Gaussian noise on normalized fibre lengths and velocities (sd, ≥ 0).
    pub proprioception_noise: f64,
    /// How actions map to excitations (default: the action is the excitation).
    pub action: MuscleActionConfig,
}

impl Default for MuscleReachConfig {
    fn default() -> Self {
        Self {
            task: CurlReachConfig::default(),
            arm: MuscleArmParams::default(),
            proprioception_noise: 0.0,
            action: MuscleActionConfig::default(),
        }
    }
}

/// The on-disk form of [`MuscleReachConfig`], after the task keys are moved into `task`.
#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
struct MuscleReachConfigRepr {
    task: CurlReachConfig,
    arm: MuscleArmParams,
    proprioception_noise: f64,
    action: MuscleActionConfig,
}

impl Default for MuscleReachConfigRepr {
    fn default() -> Self {
        let MuscleReachConfig { task, arm, proprioception_noise, action } = MuscleReachConfig::default();
        Self { task, arm, proprioception_noise, action }
    }
}

/// The keys of [`CurlReachConfig`] accepted at the top level of the muscle config (all but
/// `arm`).
static TASK_KEYS: std::sync::LazyLock<Vec<String>> =
    std::sync::LazyLock::new(|| match serde_json::to_value(CurlReachConfig::default()) {
        Ok(serde_json::Value::Object(m)) => m.keys().filter(|k| *k != "arm").cloned().collect(),
        _ => Vec::new(),
    });

/// Merges `over` into `base`: objects key by key (recursively), anything else replaced.
fn merge_json(base: &mut serde_json::Value, over: serde_json::Value) {
    match (base, over) {
        (serde_json::Value::Object(b), serde_json::Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(slot) => merge_json(slot, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (slot, v) => *slot = v,
    }
}

/// Moves CurlReach's keys found at the top level of `v` into `v.task`.
fn lift_task_keys(v: &mut serde_json::Value) {
    let Some(top) = v.as_object_mut() else { return };
    let mut lifted = serde_json::Map::new();
    for k in TASK_KEYS.iter() {
        if let Some(x) = top.remove(k) {
            lifted.insert(k.clone(), x);
        }
    }
    if lifted.is_empty() {
        return;
    }
    let task = top.entry("task").or_insert_with(|| serde_json::Value::Object(Default::default()));
    merge_json(task, serde_json::Value::Object(lifted));
}

impl<'de> Deserialize<'de> for MuscleReachConfig {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut v = serde_json::Value::deserialize(d)?;
        lift_task_keys(&mut v);
        let r: MuscleReachConfigRepr = serde_json::from_value(v).map_err(serde::de::Error::custom)?;
        Ok(Self { task: r.task, arm: r.arm, proprioception_noise: r.proprioception_noise, action: r.action })
    }
}

impl MuscleReachConfig {
    /// Checks every field; a non-physical muscle parameter is refused naming the field.
    pub fn validate(&self) -> EnvResult<()> {
        self.task.validate(MUSCLE_ID)?;
        let bad = |field: String, value: f64, bound: &str| EnvError::InvalidConfig {
            env: MUSCLE_ID.into(),
            field,
            value: value.to_string(),
            bound: bound.into(),
        };
        self.arm.check().map_err(|(f, v, b)| bad(format!("arm.{f}"), v, b))?;
        if (self.arm.dt_s - self.task.dt_s).abs() > 1e-12 {
            return Err(bad("arm.dt_s".into(), self.arm.dt_s, "equal to task.dt_s"));
        }
        if !(self.proprioception_noise.is_finite() && self.proprioception_noise >= 0.0) {
            return Err(bad("proprioception_noise".into(), self.proprioception_noise, "finite and >= 0"));
        }
        let a = &self.action;
        if !(0.0..=0.5).contains(&a.cocontraction) {
            return Err(bad("action.cocontraction".into(), a.cocontraction, "in [0, 0.5]"));
        }
        if !(a.scale > 0.0 && a.scale <= 1.0) {
            return Err(bad("action.scale".into(), a.scale, "in (0, 1]"));
        }
        if a.offset == ActionOffset::Hold && self.action_offset().is_none() {
            return Err(bad(
                "action.cocontraction".into(),
                a.cocontraction,
                "low enough that some excitations in [floor, 1] hold the start posture",
            ));
        }
        Ok(())
    }

    /// The start posture, rad.
    fn start_q(&self) -> [f64; 2] {
        self.task.start_posture_deg.map(f64::to_radians)
    }

    /// The excitation offset of [`MuscleActionConfig::offset`] (`None` if `hold` has no
    /// feasible pattern).
    pub fn action_offset(&self) -> Option<[f64; N_MUSCLES]> {
        match self.action.offset {
            ActionOffset::None => Some([0.0; N_MUSCLES]),
            ActionOffset::Hold => holding_excitation(&self.arm, self.start_q(), self.action.cocontraction),
        }
    }

    /// The action space: the actions whose excitations `offset + scale · action` lie in
    /// [0, 1] (with the defaults, `[0, 1]⁶`).
    pub fn action_space(&self) -> Space {
        let off = self.action_offset().unwrap_or([0.0; N_MUSCLES]);
        let s = self.action.scale;
        Space::boxed(
            off.iter().map(|b| (-b / s) as f32).collect(),
            off.iter().map(|b| ((1.0 - b) / s) as f32).collect(),
        )
    }
}

/// `info` keys of the muscle task: CurlReach's, then these.
pub const MUSCLE_EXTRA_KEYS: [&str; 13] = [
    "excitation_clipped",
    "force_pectoralis",
    "force_deltoid",
    "force_brachioradialis",
    "force_tricepslat",
    "force_biceps",
    "force_tricepslong",
    "activation_pectoralis",
    "activation_deltoid",
    "activation_brachioradialis",
    "activation_tricepslat",
    "activation_biceps",
    "activation_tricepslong",
];

/// Every `info` key of `CurlReachMuscle-v0`, in order.
pub static MUSCLE_INFO_KEYS: std::sync::LazyLock<Vec<&'static str>> =
    std::sync::LazyLock::new(|| INFO_KEYS.iter().chain(MUSCLE_EXTRA_KEYS.iter()).copied().collect());

/// Width of the proprioceptive frame: six lengths, six velocities.
pub const PROPRIO_DIM: usize = 2 * N_MUSCLES;

/// The plant part of the muscle env.
#[derive(Debug, Clone)]
pub struct MusclePart {
    /// The arm.
    pub arm: MuscleArm,
    /// Delayed proprioception.
    pub delay: DelayLine,
    /// Excitations of the last step, after clipping.
    pub prev: [f64; N_MUSCLES],
    /// Components clipped on the last step.
    pub clipped: usize,
    /// Proprioceptive noise sd.
    pub noise: f64,
    /// Excitation offset and scale of the action map.
    pub offset: [f64; N_MUSCLES],
    /// Excitation per unit of action.
    pub scale: f64,
}

impl MusclePart {
    /// The arm of `cfg`, with a delay of `delay_steps`.
    pub fn new(cfg: &MuscleReachConfig, delay_steps: usize) -> Self {
        Self {
            arm: MuscleArm::new(cfg.arm.clone()),
            delay: DelayLine::new(PROPRIO_DIM, delay_steps),
            prev: [0.0; N_MUSCLES],
            clipped: 0,
            noise: cfg.proprioception_noise,
            offset: cfg.action_offset().unwrap_or([0.0; N_MUSCLES]),
            scale: cfg.action.scale,
        }
    }

    /// Resets at joint angles `q`, at rest, with the activations of a zero action held (the
    /// floor, or the `hold` offset); primes the delay line.
    pub fn reset(&mut self, q: [f64; 2]) {
        if self.offset.iter().all(|&b| b == 0.0) {
            self.arm.reset(q, [0.0; 2]);
        } else {
            self.arm.set_state(q, [0.0; 2], self.offset);
        }
        self.prev = [0.0; N_MUSCLES];
        self.clipped = 0;
        let f = self.frame();
        self.delay.fill(&f);
    }

    /// The current (undelayed) proprioceptive frame.
    pub fn frame(&self) -> [f32; PROPRIO_DIM] {
        let (l, v) = self.arm.proprioception();
        std::array::from_fn(|i| if i < N_MUSCLES { l[i] as f32 } else { v[i - N_MUSCLES] as f32 })
    }

    /// Checks `action` (NaN names the muscle), maps it to excitations (`offset + scale ·
    /// action`), clips them as MotorNet does, steps the arm. Returns the clipped excitations.
    pub fn step(&mut self, action: &[f32], field: &ForceField) -> EnvResult<[f64; N_MUSCLES]> {
        for (i, &a) in action.iter().enumerate() {
            if !a.is_finite() {
                return Err(EnvError::InvalidAction {
                    env: MUSCLE_ID.into(),
                    reason: format!("excitation of muscle {i} ({}) is {a}", MUSCLE_NAMES[i]),
                });
            }
        }
        let mut u = [0.0; N_MUSCLES];
        self.clipped = 0;
        for (i, x) in u.iter_mut().enumerate() {
            let a = self.offset[i] + self.scale * action[i] as f64;
            *x = self.arm.clip_excitation(a);
            if *x != a {
                self.clipped += 1;
            }
        }
        self.arm.step(&u, field);
        Ok(u)
    }

    /// `(effort, jerk)` sums: Σu² and Σ(u − u_prev)²; remembers `u`.
    pub fn effort_and_jerk(&mut self, u: &[f64; N_MUSCLES]) -> (f64, f64) {
        let mut e = 0.0;
        let mut j = 0.0;
        for (x, p) in u.iter().zip(&self.prev) {
            e += x * x;
            j += (x - p) * (x - p);
        }
        self.prev = *u;
        (e, j)
    }

    /// The extra `info` values, in [`MUSCLE_EXTRA_KEYS`] order.
    pub fn info_values(&self) -> [f64; 13] {
        let s = self.arm.state();
        let mut v = [0.0; 13];
        v[0] = self.clipped as f64;
        for m in 0..N_MUSCLES {
            v[1 + m] = s.muscles[m].force_n;
            v[7 + m] = s.muscles[m].activation;
        }
        v
    }
}
