//! Probes applied to trained runs: loading runs, recording (or reusing) their rollouts,
//! driving their recurrent cells, calling the mathematics of [`crate::probe`] and writing
//! reports (`report.json`, `report.md`, `.npy` arrays, figures).
//!
//! [`crate::probe`] holds the mathematics on plain arrays (no run directories, files or
//! envs); everything that touches a run lives here. One file per probe applied to runs:
//!
//! - [`agent`]: a run's policy as an `f64` recurrent map ([`agent::ProbedAgent`]);
//! - [`rollouts`]: recorded rollouts, reused when present, and the states an agent's cell
//!   reaches under a given input sequence;
//! - [`fixed_points_report`]: `engram probe fixed-points` (fixed points at a constant input,
//!   maths in [`crate::probe::dynamics`]);
//! - [`lyapunov_report`]: `engram probe lyapunov` (input-driven Lyapunov spectra, maths in
//!   [`crate::probe::lyapunov`]);
//! - [`similarity_report`]: `engram probe similarity` (CCA / SVCCA / shape distances across
//!   agents, shuffled baselines, MDS, clustering by architecture; maths in
//!   [`crate::probe::similarity`] and [`crate::probe::mds`]);
//! - [`sysid_report`]: `engram probe sysid` (implicit system identification on held-out
//!   episodes; maths in [`crate::probe::sysid`] and [`crate::probe::mlp_decoder`]);
//! - [`siekmann`]: Siekmann et al.'s decoder of the walker's dynamics parameters from its
//!   memory at a random early step (`siekmann.json`; maths in [`crate::probe::mlp_decoder`]);
//! - [`torus_report`]: the working-memory probe of an `engram fit` run on `OrientationWM-v0`
//!   (manifold geometry, homology, connectivity, dynamic code; maths in [`crate::probe::torus`],
//!   [`crate::probe::homology`], [`crate::probe::tuning`]);
//! - [`figures`]: the plotters figures of the fixed-point, Lyapunov and similarity probes;
//! - [`output`]: `.npy` and JSON writers shared by the reports.
//!
//! Errors are [`AgentError`]s: a run that is missing ([`AgentError::MissingRun`]) or has no
//! recurrent state ([`AgentError::NotRecurrent`]), a setting a probe does not handle
//! ([`AgentError::Probe`]), a file that cannot be written or parsed
//! ([`AgentError::ProbeFile`]), and the probe maths' own errors.

pub mod agent;
pub mod figures;
pub mod fixed_points_report;
pub mod lyapunov_report;
pub mod output;
pub mod rollouts;
pub mod siekmann;
pub mod similarity_report;
pub mod sysid_report;
pub mod torus_report;

use crate::error::AgentError;

/// Version of the fixed-point, Lyapunov and similarity reports' JSON layout.
pub const REPORT_SCHEMA_VERSION: u32 = 1;

/// An [`AgentError::Io`] naming `path` (an operating-system failure).
pub(crate) fn fs_err(path: &std::path::Path, source: std::io::Error) -> AgentError {
    AgentError::Io { path: path.display().to_string(), source }
}

/// An [`AgentError::ProbeFile`] naming `path` and what failed.
pub(crate) fn io_err(path: &std::path::Path, e: impl std::fmt::Display) -> AgentError {
    AgentError::ProbeFile { path: path.display().to_string(), message: e.to_string() }
}
