//! CurlReach: delayed centre-out reaching under a curl force field, on three plants.

pub mod config;
pub mod env;
pub mod info_keys;
pub mod metrics;
pub mod muscle;
pub mod schedule;
pub mod scripted;
#[cfg(test)]
mod tests;

pub use config::{CurlDirection, CurlReachConfig, FieldConfig, FieldKind};
pub use env::CurlReach;
pub use metrics::{KinematicsSummary, TrialMetrics, TrialRecorder};
pub use muscle::{MuscleReachConfig, MUSCLE_ID};
pub use schedule::{FieldPhase, FieldSchedule};
pub use scripted::{ScriptedGains, ScriptedReacher};
