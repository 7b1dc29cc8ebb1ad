//! The interface every reaching plant implements.

use crate::field::ForceField;

/// The full state of a plant: joint angles and velocities (for the point mass, hand position
/// and velocity) and the actuator activations.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PlantState {
    /// Joint angles, rad (point mass: position, m).
    pub q: [f64; 2],
    /// Joint velocities, rad/s (point mass: velocity, m/s).
    pub qd: [f64; 2],
    /// Actuator activations in `[-1, 1]`.
    pub activation: [f64; 2],
}

/// A planar plant driven by two commands in `[-1, 1]` and pushed at the hand by a field.
///
/// Every plant advances by one control step of fixed length per [`Plant::step`], evaluating
/// the field at the hand as often as its integrator needs (each RK4 stage, each physics
/// substep), so a velocity-dependent field is followed within the step.
pub trait Plant: Send {
    /// Short name (`analytic`, `rapier`, `point_mass`).
    fn name(&self) -> &'static str;

    /// Control step, s.
    fn dt_s(&self) -> f64;

    /// Puts the plant at `q`, `qd` with zero activation.
    fn reset(&mut self, q: [f64; 2], qd: [f64; 2]);

    /// Overwrites the whole state (replay).
    fn set_state(&mut self, state: &PlantState);

    /// The current state.
    fn state(&self) -> PlantState;

    /// Advances one control step under `command` (each component clipped to `[-1, 1]` by the
    /// caller) and `field`.
    fn step(&mut self, command: [f64; 2], field: &ForceField);

    /// Hand position, m.
    fn hand_position(&self) -> [f64; 2];

    /// Hand velocity, m/s.
    fn hand_velocity(&self) -> [f64; 2];
}

/// Stiffness of the soft joint limits, N·m/rad: a wall that a full-torque push enters by
/// about 0.1 rad, and stiff enough to stop the arm, but soft enough for RK4 at 10 ms.
pub const LIMIT_STIFFNESS_NM_RAD: f64 = 200.0;
/// Damping of the soft joint limits, N·m·s/rad (only while inside the wall).
pub const LIMIT_DAMPING_NMS_RAD: f64 = 2.0;

/// The torque of a soft joint limit `[lo, hi]` at angle `q` and velocity `qd`: a
/// spring-damper that only ever pushes back into the range.
#[inline]
pub fn limit_torque(q: f64, qd: f64, lim: [f64; 2]) -> f64 {
    if q > lim[1] {
        (-LIMIT_STIFFNESS_NM_RAD * (q - lim[1]) - LIMIT_DAMPING_NMS_RAD * qd).min(0.0)
    } else if q < lim[0] {
        (-LIMIT_STIFFNESS_NM_RAD * (q - lim[0]) - LIMIT_DAMPING_NMS_RAD * qd).max(0.0)
    } else {
        0.0
    }
}
