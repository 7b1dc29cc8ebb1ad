//! Vector envs: `n` copies of an env stepped together into contiguous buffers, sequentially
//! or in parallel on rayon, with identical results either way. The same engine serves
//! evaluation (Gymnasium's seeding) and training (a seed per episode, per-env episode
//! bookkeeping, snapshot and restore of every env for an exact resume).

mod episodes;

pub use episodes::{EnvCursor, Seeding};

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
    /// Rayon only where it pays: the first [`AUTO_PROBE_STEPS`] steps alternate between the
    /// calling thread and one contiguous chunk per pool thread, timing each, and every later
    /// step runs the way whose fastest probe step was quicker (parallel only if it saved at
    /// least a fifth). A cheap env (CartPole: tens of nanoseconds per env) stays sequential,
    /// since handing work to a pool costs microseconds; an expensive one (a biped) goes
    /// parallel. Results are bit-identical whichever way is chosen.
    Auto,
}

/// Steps an [`Execution::Auto`] vector env times before it chooses (half each way).
pub const AUTO_PROBE_STEPS: usize = 16;

/// What [`Execution::Auto`] has measured: the fastest step of each way, in seconds.
#[derive(Debug, Clone, Copy, Default)]
struct AutoProbe {
    steps: usize,
    sequential: f64,
    parallel: f64,
}

impl AutoProbe {
    /// Whether the next step runs in parallel, and whether it is a timed probe step.
    fn next(&self) -> (bool, bool) {
        if self.steps < AUTO_PROBE_STEPS {
            (self.steps % 2 == 1, true)
        } else {
            (self.parallel < 0.8 * self.sequential, false)
        }
    }

    fn record(&mut self, parallel: bool, secs: f64) {
        let best = if parallel { &mut self.parallel } else { &mut self.sequential };
        *best = if self.steps < 2 { secs } else { best.min(secs) };
        self.steps += 1;
    }
}

/// Per-env results of the last step and episode bookkeeping.
#[derive(Debug, Clone, Default)]
struct Slot {
    reward: f64,
    terminated: bool,
    truncated: bool,
    /// NextStep: this env ended its episode on the previous step and resets on the next.
    pending_reset: bool,
    info: Info,
    final_info: Info,
    /// The current episode.
    cursor: EnvCursor,
    /// Return and length of the episode that ended at the last step.
    finished: Option<(f64, u64)>,
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
/// Seeds follow a [`Seeding`] schedule. By default per-env seeds derive from one base seed as
/// `base + i` (Gymnasium's rule), so env `i` of a vector env seeded with `s` behaves exactly
/// like a single env reset with `s + i`; under [`Seeding::PerEpisode`] every episode has its
/// own seed and [`VectorEnv::cursors`] / [`VectorEnv::restore`] snapshot and rebuild the envs.
/// Stepping
/// writes into buffers allocated once; the results are bit-identical for
/// [`Execution::Sequential`] and [`Execution::Parallel`] at any thread count, because every
/// env owns its RNG and touches only its own rows.
pub struct VectorEnv<E: Env> {
    envs: Vec<E>,
    mode: Autoreset,
    exec: Execution,
    seeding: Seeding,
    pool: Option<rayon::ThreadPool>,
    probe: AutoProbe,
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
        check_buffers::<E>(first.id(), n, obs_dim)?;
        Ok(Self {
            envs,
            mode,
            exec,
            seeding: Seeding::Gymnasium,
            pool: None,
            probe: AutoProbe::default(),
            obs_dim,
            act_dim,
            obs: vec![0.0; n * obs_dim],
            final_obs: vec![0.0; n * obs_dim],
            slots: vec![Slot::default(); n],
            errors: vec![None; n],
            started: false,
        })
    }

    /// Builds `n` envs with `make(i)`. A count whose buffers would not fit in memory is
    /// refused ([`EnvError::ResourceLimit`]) after building the first env, before the rest.
    pub fn from_fn(
        n: usize,
        mode: Autoreset,
        exec: Execution,
        mut make: impl FnMut(usize) -> EnvResult<E>,
    ) -> EnvResult<Self> {
        if n == 0 {
            return Self::new(Vec::new(), mode, exec);
        }
        let first = make(0)?;
        check_buffers::<E>(first.id(), n, first.observation_space().flat_dim())?;
        let mut envs = Vec::with_capacity(n);
        envs.push(first);
        for i in 1..n {
            envs.push(make(i)?);
        }
        Self::new(envs, mode, exec)
    }

    /// Sets the seeding schedule (default [`Seeding::Gymnasium`]); takes effect at the next
    /// reset.
    pub fn with_seeding(mut self, seeding: Seeding) -> Self {
        self.seeding = seeding;
        self
    }

    /// The seeding schedule.
    pub fn seeding(&self) -> Seeding {
        self.seeding
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

    /// Under [`Execution::Auto`], once the probe steps are done: whether steps run on the
    /// pool (`None` before the choice or under another execution).
    pub fn auto_parallel(&self) -> Option<bool> {
        match self.exec {
            Execution::Auto if self.probe.steps >= AUTO_PROBE_STEPS => Some(self.probe.next().0),
            _ => None,
        }
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
    /// Return and length of the episode env `i` ended at the last step, if it ended one.
    pub fn finished(&self, i: usize) -> Option<(f64, u64)> {
        self.slots[i].finished
    }
    /// Whether env `i`'s current observation is the first of an episode.
    pub fn at_start(&self, i: usize) -> bool {
        let s = &self.slots[i];
        s.cursor.ep_len == 0 && !s.pending_reset
    }
    /// Where env `i` stands: episode index, actions since its reset, return and length so far.
    pub fn cursor(&self, i: usize) -> &EnvCursor {
        &self.slots[i].cursor
    }
    /// Every env's cursor (a snapshot for [`VectorEnv::restore`]).
    pub fn cursors(&self) -> Vec<EnvCursor> {
        self.slots.iter().map(|s| s.cursor.clone()).collect()
    }

    /// Resets every env and returns the observations `[n_envs, obs_dim]`.
    ///
    /// Under [`Seeding::Gymnasium`]: with `Some(base)`, env `i` is seeded with `base + i`; with
    /// `None` each env's RNG stream continues. Under [`Seeding::PerEpisode`]: `Some(seed)`
    /// replaces the master seed and starts episode 0 of every env; `None` starts every env's
    /// next episode (episode 0 at the first reset). Either way each reset env is seeded with
    /// its episode seed.
    pub fn reset(&mut self, seed: Option<u64>) -> EnvResult<&[f32]> {
        self.reset_with(seed, &ResetOptions::default())
    }

    /// [`VectorEnv::reset`] with the same options for every env.
    pub fn reset_with(&mut self, seed: Option<u64>, options: &ResetOptions) -> EnvResult<&[f32]> {
        let d = self.obs_dim;
        if let (Seeding::PerEpisode { .. }, Some(s)) = (self.seeding, seed) {
            self.seeding = Seeding::PerEpisode { seed: s };
        }
        let (seeding, started) = (self.seeding, self.started);
        for (i, ((env, slot), obs)) in
            self.envs.iter_mut().zip(&mut self.slots).zip(self.obs.chunks_exact_mut(d)).enumerate()
        {
            let episode = match seeding {
                Seeding::PerEpisode { .. } if started && seed.is_none() => slot.cursor.episode + 1,
                Seeding::PerEpisode { .. } => 0,
                Seeding::Gymnasium if started => slot.cursor.episode + 1,
                Seeding::Gymnasium => 0,
            };
            let env_seed = match seeding {
                Seeding::Gymnasium => seed.map(|s| env_seed(s, i)),
                Seeding::PerEpisode { .. } => seeding.seed_of(i, episode),
            };
            env.reset_into(env_seed, options, obs, &mut slot.info)?;
            *slot = Slot { info: slot.info, cursor: EnvCursor::start(episode), ..Slot::default() };
        }
        self.started = true;
        Ok(&self.obs)
    }

    /// Rebuilds every env at its cursor (an exact resume): env `i` is reset with the seed of
    /// episode `cursors[i].episode` and replays `cursors[i].actions`; return and length are
    /// taken from the cursor. Needs [`Seeding::PerEpisode`].
    pub fn restore(&mut self, cursors: &[EnvCursor]) -> EnvResult<()> {
        let id = format!("VectorEnv<{}>", self.envs[0].id());
        if !matches!(self.seeding, Seeding::PerEpisode { .. }) {
            return Err(EnvError::Unsupported { env: id, operation: "restore without Seeding::PerEpisode".into() });
        }
        if cursors.len() != self.envs.len() {
            return Err(EnvError::InvalidState {
                env: id,
                reason: format!("{} cursors for {} envs", cursors.len(), self.envs.len()),
            });
        }
        if let Some((i, c)) = cursors.iter().enumerate().find(|(_, c)| c.actions.len() % self.act_dim != 0) {
            return Err(EnvError::InvalidState {
                env: id,
                reason: format!(
                    "cursor {i} holds {} action values, not a multiple of the action length {}",
                    c.actions.len(),
                    self.act_dim
                ),
            });
        }
        let (d, a, seeding) = (self.obs_dim, self.act_dim, self.seeding);
        for (i, ((env, slot), obs)) in
            self.envs.iter_mut().zip(&mut self.slots).zip(self.obs.chunks_exact_mut(d)).enumerate()
        {
            let cursor = &cursors[i];
            env.reset_into(seeding.seed_of(i, cursor.episode), &ResetOptions::default(), obs, &mut slot.info)?;
            for act in cursor.actions.chunks_exact(a) {
                env.step_into(act, obs, &mut slot.info)?;
            }
            *slot = Slot { info: slot.info, cursor: cursor.clone(), ..Slot::default() };
        }
        self.started = true;
        Ok(())
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
        let (d, a, mode, seeding) = (self.obs_dim, self.act_dim, self.mode, self.seeding);
        let work = |(i, (((((env, slot), obs), fin), act), err)): (usize, Lane<'_, E>)| {
            *err = step_one(env, slot, obs, fin, act, mode, seeding, i).err();
        };
        // A parallel step whose single chunk would hold every env runs inline: handing one
        // task to a pool costs microseconds, more than a whole step of a cheap env.
        let threads = self.pool.as_ref().map_or_else(rayon::current_num_threads, |p| p.current_num_threads());
        let (parallel, timed) = match self.exec {
            Execution::Auto if threads > 1 && n > 1 => self.probe.next(),
            Execution::Auto | Execution::Sequential => (false, false),
            Execution::Parallel { .. } => (true, false),
        };
        let chunk = match self.exec {
            Execution::Parallel { min_chunk } if min_chunk > 0 => min_chunk,
            _ if parallel => n.div_ceil(threads.max(1)),
            _ => n,
        };
        let t0 = timed.then(std::time::Instant::now);
        if chunk >= n || threads <= 1 {
            self.envs
                .iter_mut()
                .zip(self.slots.iter_mut())
                .zip(self.obs.chunks_exact_mut(d))
                .zip(self.final_obs.chunks_exact_mut(d))
                .zip(actions.chunks_exact(a))
                .zip(self.errors.iter_mut())
                .enumerate()
                .for_each(work)
        } else {
            let (envs, slots, obs, fin, errors) =
                (&mut self.envs, &mut self.slots, &mut self.obs, &mut self.final_obs, &mut self.errors);
            let mut run = move || {
                envs.par_iter_mut()
                    .zip(slots.par_iter_mut())
                    .zip(obs.par_chunks_exact_mut(d))
                    .zip(fin.par_chunks_exact_mut(d))
                    .zip(actions.par_chunks_exact(a))
                    .zip(errors.par_iter_mut())
                    .enumerate()
                    .with_min_len(chunk)
                    .for_each(work)
            };
            match &self.pool {
                Some(pool) => pool.install(run),
                None => run(),
            }
        }
        if let Some(t0) = t0 {
            self.probe.record(parallel, t0.elapsed().as_secs_f64());
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

/// Bytes of a vector env's own buffers for `n` envs of `obs_dim` (the envs, their slots,
/// observations and final observations), refused with [`EnvError::ResourceLimit`] above the
/// machine's memory bound ([`crate::limits`]).
fn check_buffers<E>(id: &str, n: usize, obs_dim: usize) -> EnvResult<()> {
    let per_env = std::mem::size_of::<E>()
        + std::mem::size_of::<Slot>()
        + std::mem::size_of::<Option<EnvError>>()
        + 2 * obs_dim * std::mem::size_of::<f32>();
    let bytes = n as u128 * per_env as u128;
    crate::limits::require_memory(&format!("VectorEnv<{id}>"), "n_envs", &n.to_string(), bytes)
        .map_err(EnvError::ResourceLimit)
}

#[inline]
#[allow(clippy::too_many_arguments)]
fn step_one<E: Env>(
    env: &mut E,
    slot: &mut Slot,
    obs: &mut [f32],
    fin: &mut [f32],
    act: &[f32],
    mode: Autoreset,
    seeding: Seeding,
    index: usize,
) -> EnvResult<()> {
    slot.finished = None;
    if slot.pending_reset {
        slot.cursor = EnvCursor::start(slot.cursor.episode + 1);
        env.reset_into(seeding.seed_of(index, slot.cursor.episode), &ResetOptions::default(), obs, &mut slot.info)?;
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
    if matches!(seeding, Seeding::PerEpisode { .. }) {
        slot.cursor.actions.extend_from_slice(act);
    }
    slot.cursor.ep_return += o.reward;
    slot.cursor.ep_len += 1;
    if o.done() {
        slot.finished = Some((slot.cursor.ep_return, slot.cursor.ep_len));
        match mode {
            Autoreset::NextStep => slot.pending_reset = true,
            Autoreset::SameStep => {
                fin.copy_from_slice(obs);
                slot.final_info = slot.info;
                slot.cursor = EnvCursor::start(slot.cursor.episode + 1);
                env.reset_into(
                    seeding.seed_of(index, slot.cursor.episode),
                    &ResetOptions::default(),
                    obs,
                    &mut slot.info,
                )?;
            }
        }
    }
    Ok(())
}
