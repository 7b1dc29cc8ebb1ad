//! The training envs: `n` envs stepped together, each episode reset with a seed derived
//! from (master seed, env index, episode index), so an env's state is fully described by
//! its episode index and the actions taken since the reset. That is what a checkpoint
//! stores, and how `--resume` rebuilds the envs exactly.

use engram_envs::{make_with, BoxEnv, EnvResult, Info, ResetOptions, StepOutcome};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// The seed of episode `episode` of env `env` under master seed `seed` (SplitMix64 of a mix).
pub fn episode_seed(seed: u64, env: usize, episode: u64) -> u64 {
    let mut z = seed ^ (env as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ episode.wrapping_mul(0xD1B5_4A32_D192_ED03);
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// What a checkpoint keeps of one env.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnvCursor {
    /// Episodes started so far (the current one is `episode`).
    pub episode: u64,
    /// Actions of the current episode, flat.
    pub actions: Vec<f32>,
    /// Undiscounted return of the current episode so far.
    pub ep_return: f64,
    /// Steps of the current episode so far.
    pub ep_len: u64,
}

struct Slot {
    env: BoxEnv,
    cursor: EnvCursor,
    outcome: StepOutcome,
    info: Info,
    finished: Option<(f64, u64)>,
}

/// `n` envs with SB3's same-step autoreset: after a done, `obs` holds the reset observation
/// and `final_obs` the last observation of the finished episode.
pub struct TrainEnvs {
    slots: Vec<Slot>,
    seed: u64,
    obs_dim: usize,
    act_len: usize,
    /// Current observations `[n, obs_dim]`.
    pub obs: Vec<f32>,
    /// Final observations of episodes that ended at the last step `[n, obs_dim]`.
    pub final_obs: Vec<f32>,
    pool: Option<rayon::ThreadPool>,
}

impl TrainEnvs {
    /// The envs of a training config (its env, env config, `ppo.n_envs`, seed and env
    /// threads); see [`TrainEnvs::new`] for `cursors`.
    pub fn for_config(cfg: &super::TrainConfig, cursors: Option<&[EnvCursor]>) -> EnvResult<Self> {
        Self::new(&cfg.env, &cfg.env_config_json(), cfg.ppo.n_envs, cfg.seed, cfg.env_threads, cursors)
    }

    /// Builds `n` envs of `id` and starts episode 0 of each (or, given `cursors`, rebuilds
    /// each env's current episode by replaying its actions).
    pub fn new(
        id: &str,
        config: &serde_json::Value,
        n: usize,
        seed: u64,
        threads: usize,
        cursors: Option<&[EnvCursor]>,
    ) -> EnvResult<Self> {
        let mut slots = Vec::with_capacity(n);
        for _ in 0..n {
            let env = make_with(id, config)?;
            slots.push(Slot {
                env,
                cursor: EnvCursor { episode: 0, actions: Vec::new(), ep_return: 0.0, ep_len: 0 },
                outcome: StepOutcome::default(),
                info: Info::new(),
                finished: None,
            });
        }
        let obs_dim = slots[0].env.observation_space().flat_dim();
        let act_len = slots[0].env.action_space().flat_dim();
        let pool = if threads > 1 {
            Some(rayon::ThreadPoolBuilder::new().num_threads(threads).build().map_err(|e| {
                engram_envs::EnvError::InvalidConfig {
                    env: id.into(),
                    field: "env_threads".into(),
                    value: threads.to_string(),
                    bound: format!("a thread count rayon can start ({e})"),
                }
            })?)
        } else {
            None
        };
        let mut me = Self {
            slots,
            seed,
            obs_dim,
            act_len,
            obs: vec![0.0; n * obs_dim],
            final_obs: vec![0.0; n * obs_dim],
            pool,
        };
        for i in 0..n {
            let cursor = cursors.map(|c| c[i].clone()).unwrap_or(EnvCursor {
                episode: 0,
                actions: Vec::new(),
                ep_return: 0.0,
                ep_len: 0,
            });
            me.restore(i, cursor)?;
        }
        Ok(me)
    }

    fn restore(&mut self, i: usize, cursor: EnvCursor) -> EnvResult<()> {
        let d = self.obs_dim;
        let s = &mut self.slots[i];
        let obs = &mut self.obs[i * d..(i + 1) * d];
        s.env.reset_into(
            Some(episode_seed(self.seed, i, cursor.episode)),
            &ResetOptions::default(),
            obs,
            &mut s.info,
        )?;
        for a in cursor.actions.chunks_exact(self.act_len) {
            s.env.step_into(a, obs, &mut s.info)?;
        }
        s.cursor = cursor;
        Ok(())
    }

    /// Number of envs.
    pub fn len(&self) -> usize {
        self.slots.len()
    }
    /// Whether there are no envs (never: construction needs one).
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }
    /// Observation length.
    pub fn obs_dim(&self) -> usize {
        self.obs_dim
    }
    /// The env's action space.
    pub fn action_space(&self) -> &engram_envs::Space {
        self.slots[0].env.action_space()
    }
    /// Outcome of env `i` at the last step.
    pub fn outcome(&self, i: usize) -> StepOutcome {
        self.slots[i].outcome
    }
    /// Return and length of the episode env `i` finished at the last step, if any.
    pub fn finished(&self, i: usize) -> Option<(f64, u64)> {
        self.slots[i].finished
    }
    /// Whether env `i`'s current observation starts an episode.
    pub fn at_start(&self, i: usize) -> bool {
        self.slots[i].cursor.ep_len == 0
    }
    /// The cursors, for a checkpoint.
    pub fn cursors(&self) -> Vec<EnvCursor> {
        self.slots.iter().map(|s| s.cursor.clone()).collect()
    }

    /// Steps every env with its row of `actions` (`[n, act_len]`); same-step autoreset.
    pub fn step(&mut self, actions: &[f32]) -> EnvResult<()> {
        let (d, a, seed) = (self.obs_dim, self.act_len, self.seed);
        type Item<'a> = (usize, ((&'a mut Slot, &'a mut [f32]), &'a mut [f32]));
        let work = |(i, ((s, obs), fin)): Item| -> EnvResult<()> {
            let act = &actions[i * a..(i + 1) * a];
            let o = s.env.step_into(act, obs, &mut s.info)?;
            s.outcome = o;
            s.cursor.actions.extend_from_slice(act);
            s.cursor.ep_return += o.reward;
            s.cursor.ep_len += 1;
            s.finished = None;
            if o.done() {
                fin.copy_from_slice(obs);
                s.finished = Some((s.cursor.ep_return, s.cursor.ep_len));
                s.cursor = EnvCursor { episode: s.cursor.episode + 1, actions: Vec::new(), ep_return: 0.0, ep_len: 0 };
                s.env.reset_into(
                    Some(episode_seed(seed, i, s.cursor.episode)),
                    &ResetOptions::default(),
                    obs,
                    &mut s.info,
                )?;
            }
            Ok(())
        };
        let results: Vec<EnvResult<()>> = match &self.pool {
            None => self
                .slots
                .iter_mut()
                .zip(self.obs.chunks_exact_mut(d))
                .zip(self.final_obs.chunks_exact_mut(d))
                .enumerate()
                .map(work)
                .collect(),
            Some(pool) => {
                let (slots, obs, fin) = (&mut self.slots, &mut self.obs, &mut self.final_obs);
                pool.install(|| {
                    slots
                        .par_iter_mut()
                        .zip(obs.par_chunks_exact_mut(d))
                        .zip(fin.par_chunks_exact_mut(d))
                        .enumerate()
                        .map(work)
                        .collect()
                })
            }
        };
        results.into_iter().collect()
    }
}
