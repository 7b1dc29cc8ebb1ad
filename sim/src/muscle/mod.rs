//! Muscle-driven plants: the rigid-tendon six-muscle planar arm of MotorNet's `RigidTendonArm26`
//! (Codol et al. 2024), after Kistemaker, Wong & Gribble (2010) and Nijhof & Kouwenhoven (2000).
//!
//! Reimplemented from the published equations; only the parameter values were read from
//! MotorNet 0.3.0 (GPL-3.0). The cross-check against MotorNet's own trajectories lives in
//! `tests/tests/motornet.rs` with its fixture in `tests/data/motornet/`.

pub mod arm26;
pub mod hill;
pub mod params;
pub mod statics;

pub use arm26::{MuscleArm, MuscleArmState, MuscleState, N_MUSCLES};
pub use hill::{hill_force, HillForce};
pub use params::{MuscleArmParams, MuscleParams, MUSCLE_NAMES};
pub use statics::{holding_excitation, static_stiffness, static_torque_map};
