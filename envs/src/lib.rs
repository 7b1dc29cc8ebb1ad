//! engram-envs: Gymnasium-style environments in Rust.
//!
//! - [`Env`]: `reset(seed, options) -> (obs, info)` and `step(&action) -> Step`, plus
//!   allocation-free `reset_into`/`step_into` for the hot path;
//! - [`Space`]: `Box` and `Discrete`, with `contains` and seeded `sample`;
//! - [`Info`]: named scalars, fixed size, no allocation;
//! - [`wrappers`]: TimeLimit, RecordEpisodeStatistics, NormalizeObservation, NormalizeReward,
//!   ClipAction, ObservationNoise, ObservationDelay, ActionDelay, FrameStack;
//! - [`VectorEnv`]: sequential or rayon-parallel, contiguous buffers, explicit autoreset;
//! - [`registry`]: `make`, `make_with`, `list`; [`checker`]: the env checker.
//!
//! ```
//! use engram_envs::prelude::*;
//! let mut env = make("CartPole-v1").unwrap();
//! let (obs, _info) = env.reset(Some(0), &ResetOptions::default()).unwrap();
//! assert_eq!(obs.len(), 4);
//! let step = env.step(&[1.0]).unwrap();
//! assert_eq!(step.reward, 1.0);
//! assert!(env.step(&[2.0]).is_err()); // out of Discrete(2)
//! ```

pub mod checker;
pub mod env;
pub mod error;
pub mod info;
pub mod limits;
pub mod registry;
pub mod rng;
pub mod serde_nan;
pub mod space;
pub mod spec;
pub mod tasks;
pub mod vector;
pub mod wrappers;

pub use env::{Env, EpisodeStatus, ResetOptions, Reward, Step, StepOutcome};
pub use error::{EnvError, EnvResult};
pub use info::Info;
pub use registry::{make, make_with, BoxEnv};
pub use rng::episode_seed;
pub use space::Space;
pub use vector::{Autoreset, EnvCursor, Execution, Seeding, VectorEnv, AUTO_PROBE_STEPS};

/// The names most users need.
pub mod prelude {
    pub use crate::env::{Env, ResetOptions, Step, StepOutcome};
    pub use crate::error::{EnvError, EnvResult};
    pub use crate::info::Info;
    pub use crate::registry::{make, make_with, BoxEnv};
    pub use crate::space::Space;
    pub use crate::vector::{Autoreset, EnvCursor, Execution, Seeding, VectorEnv, AUTO_PROBE_STEPS};
}
