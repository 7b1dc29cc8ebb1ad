//! The planar biped: Walker2d-v5's body in rapier2d, its dynamics parameters as data, their
//! randomization, the actuator and sensor models, and the held-out "real" robots.

pub mod actuator;
pub mod body;
pub mod distribution;
pub mod geometry;
pub mod params;
pub mod sensors;
pub mod settings;
pub mod variants;

pub use actuator::{ActuationMode, ActuatorModel, Actuators, PdGains};
pub use body::{forward_kinematics, link_lowest_point_m, standing_state, BipedBody, BodyState, LinkPose};
pub use distribution::{DynamicsDistribution, Range, Support};
pub use geometry::{JOINT_NAMES, LINK_NAMES, N_JOINTS, N_LINKS, N_QPOS};
pub use params::{DynamicsParams, ParamError, ParamGroup, N_ENCODERS, N_PARAMS, PARAMS};
pub use sensors::{SensorModel, Sensors};
pub use settings::{FrictionCombine, SimSettings};
pub use variants::{real_robot, real_robot_graded, RealRobot, RealVariant, ROBOTS_PER_FAMILY, SEVERITY_RANGE};
