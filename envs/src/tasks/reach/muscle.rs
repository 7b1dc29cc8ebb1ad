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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checker::{check_env_id, CheckOptions};
    use crate::env::{Env, ResetOptions};
    use crate::registry::{make, make_with};
    use crate::tasks::reach::CurlReach;

    #[test]
    fn passes_the_checker_and_has_the_muscle_spaces() {
        let opts = CheckOptions { steps: 3_000, determinism_steps: 300, seed: 0 };
        check_env_id(MUSCLE_ID, &opts).unwrap_or_else(|e| panic!("{e}"));
        let env = make(MUSCLE_ID).unwrap();
        assert_eq!(env.action_space().flat_dim(), 6);
        assert_eq!(env.observation_space().flat_dim(), 17);
    }

    #[test]
    fn nan_names_the_muscle_and_out_of_range_is_clipped_and_reported() {
        let mut env = make(MUSCLE_ID).unwrap();
        env.reset(Some(1), &ResetOptions::new()).unwrap();
        let err = env.step(&[0.1, 0.1, 0.1, f32::NAN, 0.1, 0.1]).err().unwrap().to_string();
        assert!(err.contains("tricepslat") && err.contains("muscle 3"), "{err}");
        let info = env.step(&[-0.5, 1.5, 0.2, 0.2, 0.0, 0.3]).unwrap().info;
        // -0.5 → 0.001, 1.5 → 1, 0.0 → 0.001 (MotorNet's floor): three clipped.
        assert_eq!(info.get("excitation_clipped"), Some(3.0));
        assert!(info.get("force_deltoid").unwrap() > 0.0);
    }

    #[test]
    fn non_physical_parameters_are_refused_naming_the_field() {
        let cfg = serde_json::json!({"arm": {"muscles": [
            {"max_isometric_force_n": 838.0, "tendon_length_m": 0.039, "optimal_fibre_length_m": -0.134,
             "length_offset_m": 0.151, "moment_arm_m": [-0.03, 0.0], "moment_arm_slope_m_rad": [0.0, 0.0]},
            {"max_isometric_force_n": 0.0, "tendon_length_m": 0.066, "optimal_fibre_length_m": 0.14,
             "length_offset_m": 0.2322, "moment_arm_m": [0.03, 0.0], "moment_arm_slope_m_rad": [0.0, 0.0]},
            {"max_isometric_force_n": 1422.0, "tendon_length_m": 0.172, "optimal_fibre_length_m": 0.092,
             "length_offset_m": 0.2859, "moment_arm_m": [0.0, -0.014], "moment_arm_slope_m_rad": [0.0, -0.004]},
            {"max_isometric_force_n": 1549.0, "tendon_length_m": 0.187, "optimal_fibre_length_m": 0.093,
             "length_offset_m": 0.2355, "moment_arm_m": [0.0, 0.025], "moment_arm_slope_m_rad": [0.0, -0.0022]},
            {"max_isometric_force_n": 414.0, "tendon_length_m": 0.204, "optimal_fibre_length_m": 0.137,
             "length_offset_m": 0.3329, "moment_arm_m": [-0.03, -0.016], "moment_arm_slope_m_rad": [0.0, -0.0057]},
            {"max_isometric_force_n": 603.0, "tendon_length_m": 0.217, "optimal_fibre_length_m": 0.127,
             "length_offset_m": 0.2989, "moment_arm_m": [0.03, 0.03], "moment_arm_slope_m_rad": [0.0, -0.0032]}
        ]}});
        match make_with(MUSCLE_ID, &cfg).err().unwrap() {
            EnvError::InvalidConfig { env, field, .. } => {
                assert_eq!(env, MUSCLE_ID);
                assert_eq!(field, "arm.muscles[0].optimal_fibre_length_m (pectoralis)");
            }
            other => panic!("{other:?}"),
        }
        let mut c = MuscleReachConfig::default();
        c.arm.muscles[1].max_isometric_force_n = 0.0;
        let err = CurlReach::new_muscle(c).err().unwrap().to_string();
        assert!(err.contains("arm.muscles[1].max_isometric_force_n (deltoid)"), "{err}");
    }

    #[test]
    fn curl_reach_keys_are_accepted_at_the_top_level() {
        // The curl-field study writes `field` (and curricula `catch_probability`, `timing`) at
        // the top level of the env config, as for CurlReach-v0.
        let top = serde_json::json!({
            "field": {"kind": "null"},
            "catch_probability": 0.0,
            "timing": {"hold_s": 0.1},
            "task": {"timing": {"reach_window_s": 0.6, "hold_s": 0.3}, "n_targets": 4},
            "proprioception_noise": 0.01
        });
        let c: MuscleReachConfig = serde_json::from_value(top).unwrap();
        assert_eq!(c.task.field.kind, crate::tasks::reach::FieldKind::Null);
        assert_eq!(c.task.catch_probability, 0.0);
        // Merged key by key: the top level wins, the rest of `task` stays.
        assert_eq!(c.task.timing.hold_s, 0.1);
        assert_eq!(c.task.timing.reach_window_s, 0.6);
        assert_eq!(c.task.n_targets, 4);
        assert_eq!(c.proprioception_noise, 0.01);
        // `arm` stays the muscle arm; unknown keys are still refused; TOML parses the same way.
        let c: MuscleReachConfig = toml::from_str(
            "arm = { damping_nms_rad = 0.1 }
field = { kind = \"channel\" }
",
        )
        .unwrap();
        assert_eq!(c.arm.damping_nms_rad, 0.1);
        assert_eq!(c.task.field.kind, crate::tasks::reach::FieldKind::Channel);
        let err = serde_json::from_value::<MuscleReachConfig>(serde_json::json!({"feild": {}})).unwrap_err();
        assert!(err.to_string().contains("feild"), "{err}");
        // The registry builds the env from the top-level form, and its session field is null.
        let env = make_with(MUSCLE_ID, &serde_json::json!({"field": {"kind": "null"}})).unwrap();
        assert_eq!(env.id(), MUSCLE_ID);
        let c = MuscleReachConfig::default();
        let round: MuscleReachConfig = serde_json::from_value(serde_json::to_value(&c).unwrap()).unwrap();
        assert_eq!(round, c);
    }

    #[test]
    fn the_hold_offset_makes_a_zero_action_hold_still() {
        let drift = |cfg: serde_json::Value| {
            let mut env = make_with(MUSCLE_ID, &cfg).unwrap();
            let opts = ResetOptions::new().with("catch", 1.0);
            env.reset(Some(5), &opts).unwrap();
            let mut early = 0.0;
            for _ in 0..100 {
                let out = env.step(&[0.0; 6]).unwrap();
                early = out.info.get("early_move").unwrap();
                if out.terminated {
                    break;
                }
            }
            early
        };
        // Zero excitation: the passive arm drifts out of the 1 cm tolerance within 1 s.
        assert_eq!(drift(serde_json::json!({})), 1.0);
        assert_eq!(drift(serde_json::json!({"action": {"offset": "hold"}})), 0.0);
        // The action space is the set whose excitations lie in [0, 1].
        let c: MuscleReachConfig = serde_json::from_value(
            serde_json::json!({"action": {"offset": "hold", "cocontraction": 0.05, "scale": 0.2}}),
        )
        .unwrap();
        let off = c.action_offset().unwrap();
        assert!(off.iter().all(|&b| b >= 0.05 - 1e-12), "{off:?}");
        let env = CurlReach::new_muscle(c).unwrap();
        match env.action_space() {
            crate::space::Space::Box { low, high, .. } => {
                for m in 0..N_MUSCLES {
                    assert!((low[m] as f64 + off[m] / 0.2).abs() < 1e-5);
                    assert!((high[m] as f64 - (1.0 - off[m]) / 0.2).abs() < 1e-5);
                }
            }
            other => panic!("{other:?}"),
        }
        // The env with the action map passes the checker (actions sampled from its space).
        let cfg = serde_json::json!({"action": {"offset": "hold", "cocontraction": 0.05, "scale": 0.2}});
        let opts = CheckOptions { steps: 2_000, determinism_steps: 200, seed: 1 };
        crate::checker::check_env(&|| make_with(MUSCLE_ID, &cfg), &opts).unwrap_or_else(|e| panic!("{e}"));
        let err = make_with(MUSCLE_ID, &serde_json::json!({"action": {"scale": 0.0}})).err().unwrap().to_string();
        assert!(err.contains("action.scale"), "{err}");
    }

    #[test]
    fn the_arm_holds_still_at_rest_and_moves_under_a_flexor_burst() {
        let mut env = make(MUSCLE_ID).unwrap();
        let opts = ResetOptions::new().with("catch", 1.0);
        env.reset(Some(3), &opts).unwrap();
        // Passive arm at MotorNet's floor activation: stays near the start for 0.3 s.
        let mut info = None;
        for _ in 0..30 {
            info = Some(env.step(&[0.0; 6]).unwrap().info);
        }
        let i = info.unwrap();
        assert_eq!(i.get("early_move"), Some(0.0));
        // Delayed proprioception: the 20 ms line reports the start posture for two steps.
        let mut env = make(MUSCLE_ID).unwrap();
        let (o0, _) = env.reset(Some(3), &ResetOptions::new()).unwrap();
        let o1 = env.step(&[0.0, 0.0, 0.1, 0.0, 0.0, 0.0]).unwrap().obs;
        let o2 = env.step(&[0.0, 0.0, 0.1, 0.0, 0.0, 0.0]).unwrap().obs;
        // MotorNet's Euler ordering: force after step 1, velocity after 2, position after 3;
        // seen through the 20 ms line after step 5.
        assert_eq!(o0[5..17], o1[5..17]);
        assert_eq!(o0[5..17], o2[5..17]);
        let mut o = o2;
        for _ in 0..3 {
            o = env.step(&[0.0, 0.0, 0.1, 0.0, 0.0, 0.0]).unwrap().obs;
        }
        assert_ne!(o0[5..17], o[5..17]);
    }
}
