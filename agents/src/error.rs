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
    #[error("invalid config: `{field}` = {value} would need {bytes} bytes of {what}, more than the bound of {bound} bytes ({bound_source})")]
    ResourceLimit {
        /// The config field, for example `ppo.n_envs`.
        field: String,
        /// Its value.
        value: String,
        /// What the bytes are for (for example "rollout buffers").
        what: &'static str,
        /// Bytes it would need.
        bytes: u128,
        /// The bound.
        bound: u64,
        /// Where the bound comes from.
        bound_source: &'static str,
    },
}
