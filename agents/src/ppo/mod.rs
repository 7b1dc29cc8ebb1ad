//! Proximal policy optimization with GAE, observation normalization and recurrent
//! training by sequences or BPTT chunks.

pub mod adam;
pub mod config;
pub mod envs;
pub mod gae;
pub mod normalize;
pub mod trainer;

pub use config::{PpoConfig, TrainConfig};
pub use trainer::{Trainer, TrainerState, UpdateMetrics};
