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

    // ---- probes and statistics (probe/, stats/, the probes applied to runs) ----------------
    /// Two arrays that must agree in one dimension do not.
    #[error("shape mismatch in {context}: expected {expected}, got {actual}")]
    ShapeMismatch {
        /// Which function and argument.
        context: &'static str,
        /// The expected size (e.g. "8 rows").
        expected: String,
        /// The size that was given.
        actual: String,
    },
    /// Too few samples (rows, targets, groups, seeds) for the statistic.
    #[error("{context}: need at least {needed} {what}, got {got}")]
    TooFew {
        /// Which function.
        context: &'static str,
        /// What is counted (samples, groups, ...).
        what: &'static str,
        /// The minimum.
        needed: usize,
        /// What was given.
        got: usize,
    },
    /// A matrix was (numerically) rank deficient where full rank is required.
    #[error("{context}: matrix is rank deficient (rank {rank} < {needed})")]
    RankDeficient {
        /// Which function and argument.
        context: &'static str,
        /// The numerical rank found.
        rank: usize,
        /// The rank needed.
        needed: usize,
    },
    /// A parameter of a probe or statistic is outside its valid range.
    #[error("invalid parameter {name} = {value}: {reason}")]
    InvalidParameter {
        /// The parameter name.
        name: &'static str,
        /// Its value, formatted.
        value: String,
        /// Why it is invalid (the bound).
        reason: &'static str,
    },
    /// A value in the input of a probe or statistic is NaN or infinite.
    #[error("{context}: non-finite value at index {index}")]
    NonFinite {
        /// Which function and argument.
        context: &'static str,
        /// Flat index of the first offending value.
        index: usize,
    },
    /// A run directory given to a probe does not exist.
    #[error("run directory {0} does not exist")]
    MissingRun(String),
    /// A probe of recurrent dynamics was given a run whose policy has no recurrent state.
    #[error("{run}: the policy is `{kind}`, which has no recurrent state to probe (use a rnn, gru or lstm run)")]
    NotRecurrent {
        /// The run.
        run: String,
        /// Its policy kind.
        kind: String,
    },
    /// A probe cannot run as asked (a setting or combination of runs it does not handle);
    /// the message names the value and what is accepted.
    #[error("probe: {0}")]
    Probe(String),
    /// A probe's input or output file could not be read, parsed or written.
    #[error("{path}: {message}")]
    ProbeFile {
        /// The file.
        path: String,
        /// What failed.
        message: String,
    },
    /// A decomposition in faer did not converge.
    #[error("{context}: {decomposition} did not converge")]
    NoConvergence {
        /// Which function.
        context: &'static str,
        /// Which decomposition (SVD, eigendecomposition).
        decomposition: &'static str,
    },
}
