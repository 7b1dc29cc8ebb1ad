//! The one error type of the agents crate.
//!
//! Every fallible public function of `engram-agents` returns [`AgentError`] (see
//! [`AgentResult`]). Each variant says what was wrong and names the value and the bound or
//! the file, so the `engram` binary can print it as it is.

use thiserror::Error;

/// Results of the agents crate.
pub type AgentResult<T> = Result<T, AgentError>;

/// What went wrong in training, checkpointing, probing, a study or a figure.
#[derive(Debug, Error)]
pub enum AgentError {
    // ---- configuration and input -------------------------------------------------------
    /// An invalid configuration value (the message names the field, the value and the bound).
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

    // ---- studies and plans ---------------------------------------------------------------
    /// A plan file that does not parse or has the wrong schema.
    #[error("{path}: not a valid engram plan: {message}")]
    InvalidPlan {
        /// The file.
        path: String,
        /// What was wrong.
        message: String,
    },
    /// A job index outside the plan.
    #[error("job index {index} is out of range: the plan has {n} jobs (0..={last})", last = n.saturating_sub(1))]
    JobIndex {
        /// Index asked for.
        index: usize,
        /// Number of jobs.
        n: usize,
    },
    /// Results from another engram version or another config than the plan's.
    #[error("job {job}: its results were produced by {found}, the plan expects {expected}; rerun the job or make a new plan")]
    JobMismatch {
        /// Job id.
        job: String,
        /// What the done marker says.
        found: String,
        /// What the plan says.
        expected: String,
    },
    /// A study that cannot go on as asked (unfinished jobs, a different plan in the
    /// directory, an unknown study name, jobs that failed); the message says what to do.
    #[error("{0}")]
    Study(String),
    /// Data a report or probe needs is missing or malformed (the message names the file or
    /// the job).
    #[error("{0}")]
    Data(String),

    // ---- figures ---------------------------------------------------------------------------
    /// A figure could not be drawn or written (the message names the file and the cause).
    #[error("figure {path}: {message}")]
    Figure {
        /// Output file.
        path: String,
        /// What failed.
        message: String,
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

    // --- Training core (ppo, policy, checkpoint): resource limits. ---
    /// A size whose buffers would not fit in memory (the bound is the machine's
    /// `MemAvailable`, or a fixed ceiling where that is unknown; see `engram_envs::limits`).
    #[error("invalid config: {0}")]
    ResourceLimit(Box<engram_envs::limits::MemoryLimit>),
}

impl AgentError {
    /// An [`AgentError::Io`] for `path`.
    pub fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        Self::Io { path: path.display().to_string(), source }
    }

    /// An [`AgentError::Figure`] for `path`.
    pub fn figure(path: &std::path::Path, message: impl std::fmt::Display) -> Self {
        Self::Figure { path: path.display().to_string(), message: message.to_string() }
    }
}

/// Adds what was being done to an error from another crate (or a lower layer), making it an
/// [`AgentError::Data`] that names the file or job: `.ctx(|| format!("reading {}", p.display()))`.
pub(crate) trait Context<T> {
    /// The error, prefixed with `what()`.
    fn ctx(self, what: impl FnOnce() -> String) -> Result<T, AgentError>;
}

impl<T, E: std::fmt::Display> Context<T> for Result<T, E> {
    fn ctx(self, what: impl FnOnce() -> String) -> Result<T, AgentError> {
        self.map_err(|e| AgentError::Data(format!("{}: {e}", what())))
    }
}

impl<T> Context<T> for Option<T> {
    fn ctx(self, what: impl FnOnce() -> String) -> Result<T, AgentError> {
        self.ok_or_else(|| AgentError::Data(what()))
    }
}
