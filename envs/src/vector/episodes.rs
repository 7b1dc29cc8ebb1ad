//! Episode bookkeeping of a vector env: the seeding schedule and each env's cursor (episode
//! index, actions since its reset, return and length so far), which is what a checkpoint
//! stores to rebuild the envs exactly.

use crate::rng::episode_seed;
use serde::{Deserialize, Serialize};

/// Where the seeds of a vector env's resets come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Seeding {
    /// Gymnasium's rule: `reset(Some(base))` seeds env `i` with `base + i`
    /// ([`crate::rng::env_seed`]); every later reset (autoreset, `reset(None)`) continues the
    /// env's own RNG stream.
    Gymnasium,
    /// The training schedule: episode `k` of env `i` always starts with
    /// `episode_seed(seed, i, k)` ([`crate::rng::episode_seed`]), autoresets included. An env is
    /// then fully described by its [`EnvCursor`], so [`super::VectorEnv::restore`] can rebuild it.
    PerEpisode {
        /// The master seed.
        seed: u64,
    },
}

impl Seeding {
    /// The reset seed of episode `episode` of env `env` (`None`: continue the RNG stream).
    pub fn seed_of(self, env: usize, episode: u64) -> Option<u64> {
        match self {
            Seeding::Gymnasium => None,
            Seeding::PerEpisode { seed } => Some(episode_seed(seed, env, episode)),
        }
    }
}

/// Where one env of a vector env stands: what a checkpoint keeps of it. The field names are
/// those of the checkpoints' `state.envs` entries; do not rename them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EnvCursor {
    /// Episodes started before the current one (the current one is `episode`).
    pub episode: u64,
    /// Actions of the current episode, flat `[ep_len, act_dim]` (recorded only under
    /// [`Seeding::PerEpisode`]; empty otherwise).
    pub actions: Vec<f32>,
    /// Undiscounted return of the current episode so far.
    pub ep_return: f64,
    /// Steps of the current episode so far.
    pub ep_len: u64,
}

impl EnvCursor {
    /// The start of episode `episode`: no actions, return 0, length 0.
    pub fn start(episode: u64) -> Self {
        Self { episode, actions: Vec::new(), ep_return: 0.0, ep_len: 0 }
    }
}
