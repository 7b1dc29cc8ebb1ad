//! engram-agents: dfdx policies (MLP, RNN, GRU, LSTM actor-critics) and PPO with
//! truncated backpropagation through time, checkpoints, run directories, study plans, and
//! the `engram` command-line program built on them.
//!
//! The backend (dfdx 0.13) stays inside [`nn`] and [`policy::actor_critic`]; the rest of the
//! crate and its users see the [`policy::Policy`] trait and `f32` slices.
//!
//! - [`policy`]: [`policy::Policy`], [`policy::ActorCritic`], [`policy::HiddenState`];
//! - [`ppo`]: [`ppo::TrainConfig`], [`ppo::Trainer`], GAE, Adam, normalizers;
//! - [`checkpoint`]: save / resume / [`checkpoint::load_policy`];
//! - [`run`]: run directories, metrics files, learning curves, evaluation and recording;
//! - [`probe`]: the probes' mathematics on plain arrays (fixed points, Lyapunov spectra,
//!   CCA and shape distances, MDS, decoders, the preparatory-shift analysis);
//! - [`inspect`]: the probes applied to runs (fixed points, Lyapunov, similarity across
//!   agents, system identification) with their reports;
//! - [`plan`]: studies as job plans for the local executor and Slurm job arrays;
//! - [`stats`]: the one statistics module (Student-t intervals over seeds, permutation
//!   p-values, Holm, TOST, OLS), with its conventions;
//! - [`render`]: figures of trajectories (centre-out hand paths);
//! - [`io`]: atomic file writes.

pub mod bench;
pub mod checkpoint;
pub mod controller;
pub mod error;
pub mod fit;
pub mod inspect;
pub mod io;
pub mod nn;
pub mod policy;
pub mod ppo;
pub mod probe;
pub mod render;
pub mod replay;
pub mod rollout;
pub mod run;
pub mod stats;
pub mod study;

pub use checkpoint::{load_policy, LoadedPolicy};
pub use error::AgentError;

/// The names most users need.
pub mod prelude {
    pub use crate::checkpoint::{load_policy, LoadedPolicy};
    pub use crate::error::AgentError;
    pub use crate::policy::{ActMode, ActOutput, ActorCritic, HiddenState, Policy, PolicyConfig, PolicyKind};
    pub use crate::ppo::{PpoConfig, TrainConfig, Trainer, UpdateMetrics};
}
