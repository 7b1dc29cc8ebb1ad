//! The neuroscience task battery: trial-structured tasks for recurrent networks, each to its
//! paper's specification, with seeded batch generation for supervised training and an
//! [`Env`] view of the same trials for reinforcement learning (neurogym's convention).
//!
//! - [`flipflop::FlipFlop`]: the 3-bit flip-flop (Sussillo & Barak 2013; Maheswaranathan et
//!   al. 2019);
//! - [`cdi::ContextIntegration`]: context-dependent integration (Mante et al. 2013);
//! - [`sine::SineGen`]: sine-wave generation with the frequency set by a static input
//!   (Sussillo & Barak 2013).
//!
//! A task writes one trial at a time (`inputs [T, I]`, `targets [T, O]`, loss `mask [T, O]`,
//! row-major f32). [`TaskBatch::generate`] fills `[batch, time, channels]` buffers; trial `b`
//! of the batch seeded `seed` draws from its own stream (`episode_seed(seed, 0, b)`), so a
//! trial does not depend on the batch size or on the thread that drew it.
//!
//! As an env ([`TaskEnv`]): an episode is one trial; the observation at step `t` is the input
//! row `t`; the action is the network's output row `t`; the reward is
//! `−Σ_o mask[t, o] (action_o − target[t, o])²` (the negative masked squared error); the
//! episode terminates after the trial's last step. Actions are clipped to the action box.

pub mod cdi;
pub mod flipflop;
pub mod orientation_wm;
pub mod sine;

use crate::env::{validate_action, Env, EpisodeStatus, ResetOptions, StepOutcome};
use crate::error::{EnvError, EnvResult};
use crate::info::Info;
use crate::rng::episode_seed;
use crate::space::Space;
use crate::spec::{parse_config, BoxEnv, EnvSpec};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The random stream trials draw from.
pub type TrialRng = ChaCha8Rng;

/// Bound of every battery task's action box (the targets lie in [−1, 1]).
pub const ACTION_BOUND: f32 = 2.0;

/// A trial-structured task.
pub trait Task: Send + Sync + std::fmt::Debug {
    /// Registered env id.
    fn id(&self) -> &'static str;
    /// Input channels `I`.
    fn n_in(&self) -> usize;
    /// Output channels `O`.
    fn n_out(&self) -> usize;
    /// Steps per trial `T`.
    fn steps(&self) -> usize;
    /// Writes one trial: `inputs [T, I]`, `targets [T, O]`, `mask [T, O]` (each overwritten).
    fn trial(&self, rng: &mut TrialRng, inputs: &mut [f32], targets: &mut [f32], mask: &mut [f32]);
}

/// A batch of trials, `[batch, time, channels]`, row-major.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TaskBatch {
    /// Trials `B`.
    pub batch: usize,
    /// Steps `T`.
    pub time: usize,
    /// Input channels `I`.
    pub n_in: usize,
    /// Output channels `O`.
    pub n_out: usize,
    /// `[B, T, I]`.
    pub inputs: Vec<f32>,
    /// `[B, T, O]`.
    pub targets: Vec<f32>,
    /// `[B, T, O]`, 1 where the output enters the loss.
    pub mask: Vec<f32>,
}

impl TaskBatch {
    /// Trials `seed`'s stream numbers `first..first + batch` (trial `k` is drawn from
    /// `episode_seed(seed, 0, k)`).
    pub fn generate(task: &dyn Task, seed: u64, first: u64, batch: usize) -> Self {
        let mut b = TaskBatch::default();
        b.fill(task, seed, first, batch);
        b
    }

    /// [`TaskBatch::generate`] into `self`'s buffers.
    pub fn fill(&mut self, task: &dyn Task, seed: u64, first: u64, batch: usize) {
        let (t, i, o) = (task.steps(), task.n_in(), task.n_out());
        *self = TaskBatch {
            batch,
            time: t,
            n_in: i,
            n_out: o,
            inputs: std::mem::take(&mut self.inputs),
            targets: std::mem::take(&mut self.targets),
            mask: std::mem::take(&mut self.mask),
        };
        self.inputs.resize(batch * t * i, 0.0);
        self.targets.resize(batch * t * o, 0.0);
        self.mask.resize(batch * t * o, 0.0);
        for b in 0..batch {
            let mut rng = TrialRng::seed_from_u64(episode_seed(seed, 0, first + b as u64));
            task.trial(
                &mut rng,
                &mut self.inputs[b * t * i..(b + 1) * t * i],
                &mut self.targets[b * t * o..(b + 1) * t * o],
                &mut self.mask[b * t * o..(b + 1) * t * o],
            );
        }
    }

    /// Masked mean squared error of `outputs [B, T, O]` and the masked variance of the
    /// targets: see [`masked_mse_and_variance`].
    pub fn mse_and_variance(&self, outputs: &[f32]) -> (f64, f64) {
        masked_mse_and_variance(outputs, &self.targets, &self.mask, self.n_out)
    }

    /// Normalized MSE of `outputs [B, T, O]`: see [`masked_nmse`].
    pub fn normalized_mse(&self, outputs: &[f32]) -> f64 {
        masked_nmse(outputs, &self.targets, &self.mask, self.n_out)
    }
}

/// Masked mean squared error of `outputs` against `targets` and the masked variance of the
/// targets about their masked mean per channel: `(mse, variance)`. The buffers hold rows of
/// `n_out` channels in any order of trials and steps (the same in all three).
pub fn masked_mse_and_variance(outputs: &[f32], targets: &[f32], mask: &[f32], n_out: usize) -> (f64, f64) {
    assert_eq!(outputs.len(), targets.len(), "outputs length");
    assert_eq!(mask.len(), targets.len(), "mask length");
    let o = n_out.max(1);
    let (mut se, mut n) = (0.0f64, 0.0f64);
    let (mut sum, mut cnt) = (vec![0.0f64; o], vec![0.0f64; o]);
    for (k, ((&y, &m), &p)) in targets.iter().zip(mask).zip(outputs).enumerate() {
        let d = (p - y) as f64;
        se += m as f64 * d * d;
        n += m as f64;
        sum[k % o] += m as f64 * y as f64;
        cnt[k % o] += m as f64;
    }
    if n == 0.0 {
        return (0.0, 0.0);
    }
    let mean: Vec<f64> = sum.iter().zip(&cnt).map(|(s, c)| if *c > 0.0 { s / c } else { 0.0 }).collect();
    let mut var = 0.0f64;
    for (k, (&y, &m)) in targets.iter().zip(mask).enumerate() {
        let d = y as f64 - mean[k % o];
        var += m as f64 * d * d;
    }
    (se / n, var / n)
}

/// Masked MSE divided by the masked target variance, the training criterion's measure
/// (0 for a perfect output; ∞ when the targets are constant and the error is not zero).
pub fn masked_nmse(outputs: &[f32], targets: &[f32], mask: &[f32], n_out: usize) -> f64 {
    let (mse, var) = masked_mse_and_variance(outputs, targets, mask, n_out);
    if var > 0.0 {
        mse / var
    } else if mse == 0.0 {
        0.0
    } else {
        f64::INFINITY
    }
}

/// Errors unless `value` is finite and `> 0`.
pub(crate) fn positive(env: &str, field: &str, value: f64) -> EnvResult<()> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(invalid(env, field, value, "finite and > 0"))
    }
}

/// Errors unless `value` is finite and `≥ 0`.
pub(crate) fn non_negative(env: &str, field: &str, value: f64) -> EnvResult<()> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(invalid(env, field, value, "finite and ≥ 0"))
    }
}

/// Errors unless `value` is in `[0, 1]`.
pub(crate) fn probability(env: &str, field: &str, value: f64) -> EnvResult<()> {
    if (0.0..=1.0).contains(&value) {
        Ok(())
    } else {
        Err(invalid(env, field, value, "in [0, 1]"))
    }
}

pub(crate) fn invalid(env: &str, field: &str, value: impl ToString, bound: &str) -> EnvError {
    EnvError::InvalidConfig { env: env.into(), field: field.into(), value: value.to_string(), bound: bound.into() }
}

/// A battery task as an [`Env`]: one trial per episode.
#[derive(Debug)]
pub struct TaskEnv<T: Task> {
    task: T,
    rng: ChaCha8Rng,
    inputs: Vec<f32>,
    targets: Vec<f32>,
    mask: Vec<f32>,
    t: usize,
    status: EpisodeStatus,
    obs_space: Space,
    act_space: Space,
}

impl<T: Task> TaskEnv<T> {
    /// The env of `task`.
    pub fn new(task: T) -> Self {
        let (i, o) = (task.n_in(), task.n_out());
        Self {
            inputs: vec![0.0; task.steps() * i],
            targets: vec![0.0; task.steps() * o],
            mask: vec![0.0; task.steps() * o],
            obs_space: Space::uniform_box(i, f32::NEG_INFINITY, f32::INFINITY),
            act_space: Space::uniform_box(o, -ACTION_BOUND, ACTION_BOUND),
            rng: ChaCha8Rng::seed_from_u64(0),
            t: 0,
            status: EpisodeStatus::NeverReset,
            task,
        }
    }

    /// The task.
    pub fn task(&self) -> &T {
        &self.task
    }

    fn write_obs(&self, obs: &mut [f32]) {
        let i = self.task.n_in();
        let t = self.t.min(self.task.steps() - 1);
        obs.copy_from_slice(&self.inputs[t * i..(t + 1) * i]);
    }
}

impl<T: Task> Env for TaskEnv<T> {
    fn id(&self) -> &str {
        self.task.id()
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
        options.check(self.task.id(), &[])?;
        if let Some(s) = seed {
            self.rng = ChaCha8Rng::seed_from_u64(s);
        }
        self.task.trial(&mut self.rng, &mut self.inputs, &mut self.targets, &mut self.mask);
        self.t = 0;
        self.status = EpisodeStatus::Running;
        self.write_obs(obs);
        info.clear();
        Ok(())
    }

    fn step_into(&mut self, action: &[f32], obs: &mut [f32], info: &mut Info) -> EnvResult<StepOutcome> {
        self.status.check_step(self.task.id())?;
        validate_action(self.task.id(), &self.act_space, action)?;
        let o = self.task.n_out();
        let row = self.t * o..(self.t + 1) * o;
        let mut se = 0.0f64;
        for ((&a, &y), &m) in action.iter().zip(&self.targets[row.clone()]).zip(&self.mask[row]) {
            let d = (a.clamp(-ACTION_BOUND, ACTION_BOUND) - y) as f64;
            se += m as f64 * d * d;
        }
        self.t += 1;
        let outcome = StepOutcome { reward: -se, terminated: self.t >= self.task.steps(), truncated: false };
        self.write_obs(obs);
        info.clear();
        self.status.record(&outcome);
        Ok(outcome)
    }

    fn observe(&self, obs: &mut [f32]) -> EnvResult<()> {
        self.write_obs(obs);
        Ok(())
    }
}

fn flipflop_env(cfg: &serde_json::Value) -> EnvResult<BoxEnv> {
    let c = parse_config::<flipflop::FlipFlopConfig>(flipflop::FlipFlop::ID, cfg)?;
    Ok(Box::new(TaskEnv::new(flipflop::FlipFlop::new(c)?)))
}

fn cdi_env(cfg: &serde_json::Value) -> EnvResult<BoxEnv> {
    let c = parse_config::<cdi::ContextIntegrationConfig>(cdi::ContextIntegration::ID, cfg)?;
    Ok(Box::new(TaskEnv::new(cdi::ContextIntegration::new(c)?)))
}

fn sine_env(cfg: &serde_json::Value) -> EnvResult<BoxEnv> {
    let c = parse_config::<sine::SineGenConfig>(sine::SineGen::ID, cfg)?;
    Ok(Box::new(TaskEnv::new(sine::SineGen::new(c)?)))
}

fn orientation_wm_env(cfg: &serde_json::Value) -> EnvResult<BoxEnv> {
    let c = parse_config::<orientation_wm::OrientationWmConfig>(orientation_wm::OrientationWm::ID, cfg)?;
    Ok(Box::new(TaskEnv::new(orientation_wm::OrientationWm::new(c)?)))
}

/// Builds a battery task from its id and a JSON config (the supervised trainer's entry).
pub fn make_task(id: &str, cfg: &serde_json::Value) -> EnvResult<Box<dyn Task>> {
    Ok(match id {
        flipflop::FlipFlop::ID => Box::new(flipflop::FlipFlop::new(parse_config(id, cfg)?)?),
        cdi::ContextIntegration::ID => Box::new(cdi::ContextIntegration::new(parse_config(id, cfg)?)?),
        sine::SineGen::ID => Box::new(sine::SineGen::new(parse_config(id, cfg)?)?),
        orientation_wm::OrientationWm::ID => Box::new(orientation_wm::OrientationWm::new(parse_config(id, cfg)?)?),
        _ => {
            return Err(EnvError::UnknownId {
                id: id.into(),
                known: TASK_IDS.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(", "),
            })
        }
    })
}

/// Ids of the battery tasks.
pub const TASK_IDS: [&str; 4] =
    [flipflop::FlipFlop::ID, cdi::ContextIntegration::ID, sine::SineGen::ID, orientation_wm::OrientationWm::ID];

/// The battery's registry entries (the episode limit is the trial, which the task ends).
pub(crate) static SPECS: [EnvSpec; 4] = [
    EnvSpec {
        id: flipflop::FlipFlop::ID,
        description: "3-bit flip-flop (Sussillo & Barak 2013): hold the sign of each channel's last pulse",
        max_episode_steps: None,
        build: flipflop_env,
    },
    EnvSpec {
        id: cdi::ContextIntegration::ID,
        description: "context-dependent integration (Mante et al. 2013): report the cued input's sign",
        max_episode_steps: None,
        build: cdi_env,
    },
    EnvSpec {
        id: sine::SineGen::ID,
        description: "sine generation (Sussillo & Barak 2013): frequency set by a static input",
        max_episode_steps: None,
        build: sine_env,
    },
    EnvSpec {
        id: orientation_wm::OrientationWm::ID,
        description: "two-orientation working memory (Cueva et al. 2021): report θ1 and θ2 as (cos 2θ, sin 2θ)",
        max_episode_steps: None,
        build: orientation_wm_env,
    },
];

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    // Every registered id, these included, passes the env checker in tests/tests/checker.rs.

    #[test]
    fn batches_are_seeded_and_trials_independent_of_batch_size() {
        for id in TASK_IDS {
            let task = make_task(id, &serde_json::json!({})).unwrap();
            let a = TaskBatch::generate(task.as_ref(), 7, 0, 6);
            let b = TaskBatch::generate(task.as_ref(), 7, 0, 6);
            assert_eq!(a, b, "{id}: same seed, same batch");
            let c = TaskBatch::generate(task.as_ref(), 7, 4, 2);
            let (t, i) = (a.time, a.n_in);
            assert_eq!(&a.inputs[4 * t * i..], &c.inputs[..], "{id}: trial 4 is trial 4 in any batch");
            let d = TaskBatch::generate(task.as_ref(), 8, 0, 6);
            assert_ne!(a.inputs, d.inputs, "{id}: another seed, other trials");
            assert_eq!(a.normalized_mse(&a.targets), 0.0);
            assert!(a.inputs.iter().chain(&a.targets).all(|v| v.is_finite()));
        }
    }

    /// Playing the targets as actions earns reward 0; playing zeros earns `−Σ mask·y²`.
    #[test]
    fn env_reward_is_negative_masked_squared_error() {
        for id in TASK_IDS {
            let task = make_task(id, &serde_json::json!({})).unwrap();
            let spec = SPECS.iter().find(|s| s.id == id).expect("registered");
            let mut env = (spec.build)(&serde_json::json!({})).unwrap();
            // The env's trial under seed s is the batch trial drawn from the same stream.
            let mut rng = ChaCha8Rng::seed_from_u64(5);
            let (t, i, o) = (task.steps(), task.n_in(), task.n_out());
            let (mut x, mut y, mut m) = (vec![0.0; t * i], vec![0.0; t * o], vec![0.0; t * o]);
            task.trial(&mut rng, &mut x, &mut y, &mut m);
            let (obs, _) = env.reset(Some(5), &ResetOptions::new()).unwrap();
            assert_eq!(obs, x[..i]);
            let mut steps = 0;
            loop {
                let s = env.step(&y[steps * o..(steps + 1) * o]).unwrap();
                assert_eq!(s.reward, 0.0, "{id}");
                steps += 1;
                if s.terminated {
                    break;
                }
                assert_eq!(s.obs, x[steps * i..(steps + 1) * i]);
            }
            assert_eq!(steps, t, "{id}: one trial per episode");
            env.reset(Some(5), &ResetOptions::new()).unwrap();
            let mut total = 0.0;
            for _ in 0..t {
                total += env.step(&vec![0.0; o]).unwrap().reward;
            }
            let want: f64 = y.iter().zip(&m).map(|(&y, &m)| m as f64 * (y as f64).powi(2)).sum();
            assert!((total + want).abs() < 1e-9, "{id}: {total} vs −{want}");
        }
    }
}
