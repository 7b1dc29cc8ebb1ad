//! `CurlReachMuscle-v0`: CurlReach on MotorNet's six-muscle arm. The task (phases, targets,
//! fields, reward terms, metrics) is CurlReach's; this module holds what the muscles change:
//! the config, the plant part of the env, the observation frame and the extra `info` keys.

use super::config::CurlReachConfig;
use super::info_keys::INFO_KEYS;
use crate::error::{EnvError, EnvResult};
use engram_sim::delay::DelayLine;
use engram_sim::field::ForceField;
use engram_sim::muscle::{MuscleArm, MuscleArmParams, MUSCLE_NAMES, N_MUSCLES};
use serde::{Deserialize, Serialize};

/// Id of the muscle-arm task.
pub const MUSCLE_ID: &str = "CurlReachMuscle-v0";

/// Config of `CurlReachMuscle-v0`: the reaching task and the muscle arm.
///
/// `task.plant`, `task.arm`, `task.actuator` are not used (the arm is `arm.skeleton`, the
/// actuators are the muscles); `task.dt_s` must equal `arm.dt_s`. The proprioceptive frame
/// (normalized fibre lengths and velocities) is delayed by `task.observation.joint_delay_s`
/// (20 ms, MotorNet's usual proprioceptive delay) and the hand by `hand_delay_s` (70 ms).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MuscleReachConfig {
    /// The reaching task.
    pub task: CurlReachConfig,
    /// The muscle arm (MotorNet's `RigidTendonArm26` by default).
    pub arm: MuscleArmParams,
    /// Gaussian noise on normalized fibre lengths and velocities (sd, ≥ 0).
    pub proprioception_noise: f64,
}

impl Default for MuscleReachConfig {
    fn default() -> Self {
        Self { task: CurlReachConfig::default(), arm: MuscleArmParams::default(), proprioception_noise: 0.0 }
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
        Ok(())
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
        }
    }

    /// Resets at joint angles `q`, at rest; primes the delay line.
    pub fn reset(&mut self, q: [f64; 2]) {
        self.arm.reset(q, [0.0; 2]);
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

    /// Checks `action` (NaN names the muscle), clips it as MotorNet does, steps the arm.
    /// Returns the clipped excitations.
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
            let a = action[i] as f64;
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
