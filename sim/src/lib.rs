//! engram-sim: the physics under engram's environments.
//!
//! This crate knows nothing about reinforcement learning. It holds plants (the 2-link arm,
//! the planar biped), force fields, dynamics parameters and the sensor buffers (delay lines)
//! that the tasks in `engram-envs` are built from.

pub mod arm;
pub mod biped;
pub mod delay;
pub mod field;
pub mod muscle;

/// Everything most users of the crate need.
pub mod prelude {
    pub use crate::arm::{ActuatorParams, AnalyticArm, ArmParams, Plant, PlantState, PointMass, RapierArm};
    pub use crate::delay::DelayLine;
    pub use crate::field::ForceField;
}
