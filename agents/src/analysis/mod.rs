//! Probes applied to trained runs: the dynamical-systems analyses of issue 9 on real agents.
//!
//! [`crate::probe`] holds the mathematics on plain arrays; this module loads runs, records (or
//! reuses) their rollouts, drives their recurrent cells with identical inputs, calls the
//! probes and writes reports (`report.json`, `report.md`, `.npy` arrays, figures).
//!
//! - [`agent`]: a run's policy as an `f64` recurrent map ([`agent::ProbedAgent`]);
//! - [`rollouts`]: recorded rollouts, reused when present, and the states an agent's cell
//!   reaches under a given input sequence;
//! - [`fixed_points`]: `engram probe fixed-points` (fixed points at a constant input);
//! - [`lyapunov`]: `engram probe lyapunov` (input-driven Lyapunov spectra);
//! - [`similarity`]: `engram probe similarity` (CCA / SVCCA / shape distances across agents,
//!   shuffled baselines, MDS, clustering by architecture);
//! - [`figures`]: the plotters figures of all three;
//! - [`output`]: `.npy` and JSON writers shared by the reports.

pub mod agent;
pub mod figures;
pub mod fixed_points;
pub mod lyapunov;
pub mod output;
pub mod rollouts;
pub mod similarity;

use thiserror::Error;

/// Version of the probe reports' JSON layout.
pub const REPORT_SCHEMA_VERSION: u32 = 1;

/// What can go wrong when probing a run.
#[derive(Debug, Error)]
pub enum AnalysisError {
    /// The run directory does not exist.
    #[error("run directory {0} does not exist")]
    MissingRun(String),
    /// The run's policy has no recurrent state.
    #[error("{run}: the policy is `{kind}`, which has no recurrent state to probe (use a rnn, gru or lstm run)")]
    NotRecurrent {
        /// The run.
        run: String,
        /// Its policy kind.
        kind: String,
    },
    /// A setting or combination of runs the probes do not handle.
    #[error("{0}")]
    Unsupported(String),
    /// Loading a policy or recording a rollout failed.
    #[error(transparent)]
    Agent(#[from] crate::error::AgentError),
    /// A file could not be read or written.
    #[error("{path}: {message}")]
    Io {
        /// The file.
        path: String,
        /// What failed.
        message: String,
    },
}

/// Results of the run-level probes.
pub type AnalysisResult<T> = Result<T, AnalysisError>;

pub(crate) fn io_err(path: &std::path::Path, e: impl std::fmt::Display) -> AnalysisError {
    AnalysisError::Io { path: path.display().to_string(), message: e.to_string() }
}
