//! Vector envs: `n` copies of an env stepped together into contiguous buffers, sequentially
//! or in parallel on rayon, with identical results either way.

use crate::env::{Env, ResetOptions, StepOutcome};
use crate::error::{EnvError, EnvResult};
use crate::info::Info;
use crate::rng::env_seed;
use crate::space::Space;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// What a vector env does when one of its envs ends an episode.
///
/// Both modes are Gymnasium 1.x's (`gymnasium.vector.AutoresetMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Autoreset {
    /// Gymnasium 1.x's default. The step that ends an episode returns its final observation
    /// in [`VecStep::obs`]; the *next* call to `step` ignores that env's action, resets it
    /// (without a seed: its RNG stream continues) and returns the reset observation with
    /// reward 0 and both flags false.
    NextStep,
    /// SB3's convention, the one PPO wants. The step that ends an episode resets the env at
    /// once: [`VecStep::obs`] holds the reset observation, the final observation and info are
    /// kept in [`VecStep::final_obs`] / [`VecStep::final_infos`] for bootstrapping a
    /// truncated episode.
    SameStep,
}

/// How the envs are stepped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Execution {
    /// One after the other on the calling thread.
    Sequential,
    /// On rayon (the global pool unless [`VectorEnv::with_threads`] gave a pool); envs are
    /// handed out in chunks of at least `min_chunk` to amortise scheduling.
    Parallel {
        /// Smallest number of envs per rayon task; 0 means one contiguous chunk per thread,
        /// the right choice for cheap envs where scheduling costs more than a step.
        min_chunk: usize,
    },
}

/// Per-env scalar results of the last step.
#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    reward: f64,
    terminated: bool,
    truncated: bool,
    /// NextStep: this env ended its episode on the previous step and resets on the next.
    pending_reset: bool,
    info: Info,
    final_info: Info,
}

/// Borrowed results of one vector step. Shapes: `obs` and `final_obs` `[n_envs, obs_dim]`,
/// the rest `[n_envs]`.
#[derive(Debug)]
pub struct VecStep<'a> {
    /// Observations after the step (see [`Autoreset`] for what a done env returns).
    pub obs: &'a [f32],
    /// Rewards.
    pub rewards: Vec<f64>,
    /// Terminal-state flags.
    pub terminated: Vec<bool>,
    /// Truncation flags.
    pub truncated: Vec<bool>,
    /// `SameStep`: final observations of envs that just ended (other rows are stale).
    pub final_obs: &'a [f32],
    /// Infos after the step.
    pub infos: Vec<Info>,
    /// `SameStep`: infos of the final step of envs that just ended.
    pub final_infos: Vec<Info>,
}

/// `n` envs stepped together.
///
/// Per-env seeds derive from one base seed as `base + i` (Gymnasium's rule), so env `i` of a
/// vector env seeded with `s` behaves exactly like a single env reset with `s + i`. Stepping
/// writes into buffers allocated once; the results are bit-identical for
/// [`Execution::Sequential`] and [`Execution::Parallel`] at any thread count, because every
/// env owns its RNG and touches only its own rows.
pub struct VectorEnv<E: Env> {
    envs: Vec<E>,
    mode: Autoreset,
    exec: Execution,
    pool: Option<rayon::ThreadPool>,
    obs_dim: usize,
    act_dim: usize,
    obs: Vec<f32>,
    final_obs: Vec<f32>,
    slots: Vec<Slot>,
    errors: Vec<Option<EnvError>>,
    started: bool,
}

impl<E: Env> VectorEnv<E> {
    /// Wraps `envs` (at least one, all with the same spaces) with an explicit autoreset mode.
    pub fn new(envs: Vec<E>, mode: Autoreset, exec: Execution) -> EnvResult<Self> {
        let first = envs.first().ok_or_else(|| EnvError::InvalidConfig {
            env: "VectorEnv".into(),
            field: "n_envs".into(),
            value: "0".into(),
            bound: ">= 1".into(),
        })?;
        let (os, as_) = (first.observation_space().clone(), first.action_space().clone());
        if let Some(bad) = envs.iter().find(|e| e.observation_space() != &os || e.action_space() != &as_) {
            return Err(EnvError::InvalidConfig {
                env: bad.id().into(),
                field: "spaces".into(),
                value: format!("{} / {}", bad.observation_space(), bad.action_space()),
                bound: format!("equal to the first env's {os} / {as_}"),
            });
        }
        let n = envs.len();
        let (obs_dim, act_dim) = (os.flat_dim(), as_.flat_dim());
        Ok(Self {
            envs,
            mode,
            exec,
            pool: None,
            obs_dim,
            act_dim,
            obs: vec![0.0; n * obs_dim],
            final_obs: vec![0.0; n * obs_dim],
            slots: vec![Slot::default(); n],
            errors: vec![None; n],
            started: false,
        })
    }

    /// Builds `n` envs with `make(i)`.
    pub fn from_fn(
        n: usize,
        mode: Autoreset,
        exec: Execution,
        make: impl FnMut(usize) -> EnvResult<E>,
    ) -> EnvResult<Self> {
        let envs = (0..n).map(make).collect::<EnvResult<Vec<_>>>()?;
        Self::new(envs, mode, exec)
    }

    /// Runs parallel steps on a private pool of `threads` threads instead of the global one.
    pub fn with_threads(mut self, threads: usize) -> EnvResult<Self> {
        let pool =
            rayon::ThreadPoolBuilder::new().num_threads(threads).build().map_err(|e| EnvError::InvalidConfig {
                env: "VectorEnv".into(),
                field: "threads".into(),
                value: threads.to_string(),
                bound: format!("a thread count rayon can start ({e})"),
            })?;
        self.pool = Some(pool);
        Ok(self)
    }

    /// Number of envs.
    pub fn num_envs(&self) -> usize {
        self.envs.len()
    }
    /// Observation length of one env.
    pub fn obs_dim(&self) -> usize {
        self.obs_dim
    }
    /// Action length of one env.
    pub fn act_dim(&self) -> usize {
        self.act_dim
    }
    /// Observation space of one env.
    pub fn single_observation_space(&self) -> &Space {
        self.envs[0].observation_space()
    }
    /// Action space of one env.
    pub fn single_action_space(&self) -> &Space {
        self.envs[0].action_space()
    }
    /// The autoreset mode.
    pub fn autoreset(&self) -> Autoreset {
        self.mode
    }
    /// The envs (read-only; for reading physical state or parameters).
    pub fn envs(&self) -> &[E] {
        &self.envs
    }
    /// Current observations, `[n_envs, obs_dim]`.
    pub fn obs(&self) -> &[f32] {
        &self.obs
    }
    /// Final observations of the last step, `[n_envs, obs_dim]` (SameStep).
    pub fn final_obs(&self) -> &[f32] {
        &self.final_obs
    }
    /// Rewards of the last step written into `out` (`[n_envs]`), allocation-free.
    pub fn rewards_into(&self, out: &mut [f64]) {
        for (o, s) in out.iter_mut().zip(&self.slots) {
            *o = s.reward;
        }
    }
    /// Reward, terminated and truncated of env `i` at the last step.
    pub fn outcome(&self, i: usize) -> StepOutcome {
        let s = &self.slots[i];
        StepOutcome { reward: s.reward, terminated: s.terminated, truncated: s.truncated }
    }
    /// Info of env `i` after the last step.
    pub fn info(&self, i: usize) -> &Info {
        &self.slots[i].info
    }
    /// Info of the final step of env `i`'s last episode (SameStep).
    pub fn final_info(&self, i: usize) -> &Info {
        &self.slots[i].final_info
    }

    /// Resets every env: with `Some(base)`, env `i` is seeded with `base + i`; with `None`
    /// each env's RNG stream continues. Returns the observations `[n_envs, obs_dim]`.
    pub fn reset(&mut self, seed: Option<u64>) -> EnvResult<&[f32]> {
        self.reset_with(seed, &ResetOptions::default())
    }

    /// [`VectorEnv::reset`] with the same options for every env.
    pub fn reset_with(&mut self, seed: Option<u64>, options: &ResetOptions) -> EnvResult<&[f32]> {
        let d = self.obs_dim;
        for (i, ((env, slot), obs)) in
            self.envs.iter_mut().zip(&mut self.slots).zip(self.obs.chunks_exact_mut(d)).enumerate()
        {
            env.reset_into(seed.map(|s| env_seed(s, i)), options, obs, &mut slot.info)?;
            *slot = Slot { info: slot.info, ..Slot::default() };
        }
        self.started = true;
        Ok(&self.obs)
    }

    /// Steps every env with its row of `actions` (`[n_envs, act_dim]`) and returns the results.
    pub fn step(&mut self, actions: &[f32]) -> EnvResult<VecStep<'_>> {
        self.step_in_place(actions)?;
        Ok(VecStep {
            obs: &self.obs,
            rewards: self.slots.iter().map(|s| s.reward).collect(),
            terminated: self.slots.iter().map(|s| s.terminated).collect(),
            truncated: self.slots.iter().map(|s| s.truncated).collect(),
            final_obs: &self.final_obs,
            infos: self.slots.iter().map(|s| s.info).collect(),
            final_infos: self.slots.iter().map(|s| s.final_info).collect(),
        })
    }

    /// Steps every env without building a [`VecStep`] (no allocation); read the results with
    /// [`VectorEnv::obs`], [`VectorEnv::outcome`], [`VectorEnv::info`] and friends.
    pub fn step_in_place(&mut self, actions: &[f32]) -> EnvResult<()> {
        let n = self.envs.len();
        if actions.len() != n * self.act_dim {
            return Err(EnvError::ActionLength {
                env: format!("VectorEnv<{}>", self.envs[0].id()),
                expected: n * self.act_dim,
                got: actions.len(),
                space: format!("[{n} envs, {}]", self.envs[0].action_space()),
            });
        }
        if !self.started {
            return Err(EnvError::StepBeforeReset { env: format!("VectorEnv<{}>", self.envs[0].id()) });
        }
        let (d, a, mode) = (self.obs_dim, self.act_dim, self.mode);
        let work = |(((((env, slot), obs), fin), act), err): Lane<'_, E>| {
            *err = step_one(env, slot, obs, fin, act, mode).err();
        };
        // A parallel step whose single chunk would hold every env runs inline: handing one
        // task to a pool costs microseconds, more than a whole step of a cheap env.
        let threads = self.pool.as_ref().map_or_else(rayon::current_num_threads, |p| p.current_num_threads());
        let chunk = match self.exec {
            Execution::Sequential => n,
            Execution::Parallel { min_chunk: 0 } => n.div_ceil(threads.max(1)),
            Execution::Parallel { min_chunk } => min_chunk,
        };
        match self.exec {
            _ if chunk >= n || threads <= 1 => self
                .envs
                .iter_mut()
                .zip(self.slots.iter_mut())
                .zip(self.obs.chunks_exact_mut(d))
                .zip(self.final_obs.chunks_exact_mut(d))
                .zip(actions.chunks_exact(a))
                .zip(self.errors.iter_mut())
                .for_each(work),
            _ => {
                let (envs, slots, obs, fin, errors) =
                    (&mut self.envs, &mut self.slots, &mut self.obs, &mut self.final_obs, &mut self.errors);
                let mut run = move || {
                    envs.par_iter_mut()
                        .zip(slots.par_iter_mut())
                        .zip(obs.par_chunks_exact_mut(d))
                        .zip(fin.par_chunks_exact_mut(d))
                        .zip(actions.par_chunks_exact(a))
                        .zip(errors.par_iter_mut())
                        .with_min_len(chunk)
                        .for_each(work)
                };
                match &self.pool {
                    Some(pool) => pool.install(run),
                    None => run(),
                }
            }
        }
        // Report the lowest-index failure, so the error does not depend on scheduling.
        match self.errors.iter_mut().find_map(|e| e.take()) {
            Some(e) => {
                self.errors.iter_mut().for_each(|e| *e = None);
                Err(e)
            }
            None => Ok(()),
        }
    }
}

/// One env's share of a vector step: the env, its slot, its observation and final-observation
/// rows, its action row and its error cell.
type Lane<'a, E> = (((((&'a mut E, &'a mut Slot), &'a mut [f32]), &'a mut [f32]), &'a [f32]), &'a mut Option<EnvError>);

#[inline]
fn step_one<E: Env>(
    env: &mut E,
    slot: &mut Slot,
    obs: &mut [f32],
    fin: &mut [f32],
    act: &[f32],
    mode: Autoreset,
) -> EnvResult<()> {
    if slot.pending_reset {
        env.reset_into(None, &ResetOptions::default(), obs, &mut slot.info)?;
        slot.pending_reset = false;
        slot.reward = 0.0;
        slot.terminated = false;
        slot.truncated = false;
        return Ok(());
    }
    let o = env.step_into(act, obs, &mut slot.info)?;
    slot.reward = o.reward;
    slot.terminated = o.terminated;
    slot.truncated = o.truncated;
    if o.done() {
        match mode {
            Autoreset::NextStep => slot.pending_reset = true,
            Autoreset::SameStep => {
                fin.copy_from_slice(obs);
                slot.final_info = slot.info;
                env.reset_into(None, &ResetOptions::default(), obs, &mut slot.info)?;
            }
        }
    }
    Ok(())
}
