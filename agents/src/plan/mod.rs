//! Studies as job plans: a list of independent, idempotent, resumable jobs that run the same
//! way on a laptop (the local executor) and on a cluster (Slurm job arrays).
//!
//! A plan directory holds `plan.json` and one output directory per job. A job is done when
//! its done marker exists (written atomically after its outputs); running it again does
//! nothing; a killed job continues from its last checkpoint. The markers on the shared
//! filesystem are the source of truth; Slurm's records only explain failures.

pub mod exec;
mod job;
mod markers;
pub mod slurm;

pub use job::{config_hash, slug, Job, JobKind, Plan, PlanError, PLAN_FILE, PLAN_SCHEMA};
pub use markers::{JobState, Markers, DONE_MARKER, FAILED_MARKER, RUNNING_MARKER};
