//! Errors of the agents crate.

use thiserror::Error;

/// What went wrong in training, checkpointing or loading a policy.
#[derive(Debug, Error)]
pub enum AgentError {
    /// An invalid configuration value (the message names the field and value).
    #[error("invalid config: {0}")]
    Config(String),
    /// The env failed.
    #[error(transparent)]
    Env(#[from] engram_envs::EnvError),
    /// A checkpoint is missing, truncated or does not match.
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    /// File system error, with the path.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },

    // --- Training core (ppo, policy, checkpoint): resource limits. ---
    /// A size whose buffers would not fit in memory (the bound is the machine's
    /// `MemAvailable`, or a fixed ceiling where that is unknown; see `engram_envs::limits`).
    #[error("invalid config: {0}")]
    ResourceLimit(Box<engram_envs::limits::MemoryLimit>),
}
