//! CurlReach: delayed centre-out reaching under a curl force field, on three plants.

pub mod config;
pub mod env;
pub mod info_keys;
pub mod metrics;
pub mod muscle;
pub mod schedule;
pub mod scripted;

pub use config::{CurlDirection, CurlReachConfig, FieldConfig, FieldKind};
pub use env::CurlReach;
pub use metrics::{KinematicsSummary, TrialMetrics, TrialRecorder};
pub use muscle::{MuscleReachConfig, MUSCLE_ID};
pub use schedule::{FieldPhase, FieldSchedule};
pub use scripted::{ScriptedGains, ScriptedReacher};

/// The reaching-task config of any CurlReach variant: the env's own config, or for
/// [`MUSCLE_ID`] its `task` (with CurlReach's top-level keys merged in).
pub fn task_config(env: &str, config: &serde_json::Value) -> crate::error::EnvResult<CurlReachConfig> {
    if env == MUSCLE_ID {
        Ok(crate::spec::parse_config::<MuscleReachConfig>(env, config)?.task)
    } else {
        crate::spec::parse_config(env, config)
    }
}
