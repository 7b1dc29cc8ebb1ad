//! Reaching plants: the planar two-link arm (closed form and rapier2d) and the point mass,
//! behind the one [`Plant`] trait.

pub mod activation;
pub mod analytic;
pub mod any;
pub mod model;
pub mod params;
pub mod plant;
pub mod point_mass;
pub mod rapier;
pub mod rk4;

pub use activation::Activation;
pub use analytic::AnalyticArm;
pub use any::{AnyPlant, PlantKind};
pub use model::{Trig, TwoLinkModel};
pub use params::{ActuatorParams, ArmParams, LinkParams};
pub use plant::{Plant, PlantState};
pub use point_mass::PointMass;
pub use rapier::RapierArm;
