//! Proximal policy optimization with GAE, observation normalization and recurrent
//! training by sequences or BPTT chunks.

pub mod adam;
pub mod config;
pub mod gae;
pub mod kl_reg;
pub mod loss;
pub mod normalize;
pub mod trainer;

pub use config::{PpoConfig, TrainConfig};
pub use trainer::{train_envs, Trainer, TrainerState, UpdateMetrics};
