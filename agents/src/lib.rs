//! engram-agents: dfdx policies (MLP, RNN, GRU, LSTM actor-critics) and PPO with
//! truncated backpropagation through time, the rollout engine, run directories, the probes,
//! the statistics module, the studies, and the `engram` command-line program built on them.
//!
//! The backend (dfdx 0.13) stays inside [`nn`] and [`policy::actor_critic`]; the rest of the
//! crate and its users see the [`policy::Policy`] trait and `f32` slices.
//!
//! Modules, from the bottom layer up (a module imports only modules of its own or a lower
//! layer; there are no import cycles):
//!
//! - base: [`error`] (the crate's one error type, [`AgentError`]), [`io`] (atomic writes),
//!   [`stats`] (the one statistics module and its interval convention), [`nn`] (cells, the
//!   hand-written BPTT, GEMMs);
//! - networks: [`policy`] ([`policy::Policy`], [`policy::ActorCritic`], which evaluates
//!   actions and loads its own weights; [`policy::HiddenState`]);
//! - training: [`ppo`] ([`ppo::TrainConfig`], [`ppo::Trainer`], the PPO loss, GAE, Adam,
//!   normalizers), [`checkpoint`] (save / resume / [`checkpoint::load_policy`]),
//!   [`controller`] (scripted, zero, random and policy controllers);
//! - runs: [`rollout`] (the one rollout engine: evaluation, recording, figures, preparatory
//!   recording and `engram rollout` all run on it), [`run`] (run directories, metrics files,
//!   the training loop, learning curves, `.npy` recordings), [`render`] (hand paths, walker
//!   stick figures, shared chart pieces), [`replay`] (action sequences through an env);
//! - probes: [`probe`] (the mathematics on plain arrays: fixed points, Lyapunov spectra, CCA
//!   and shape distances, MDS, decoders, the preparatory-shift analysis) and [`inspect`]
//!   (the probes applied to runs, with their reports);
//! - studies: [`study`] (the [`study::Study`] trait, the [`study::STUDIES`] table, plans,
//!   the job executor, the local and Slurm executors, and one folder per study), [`mod@bench`]
//!   (throughput measurements behind `engram bench`).

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
