//! Choosing a plant by name: the one enum the reaching task holds.

use super::{ActuatorParams, AnalyticArm, ArmParams, Plant, PlantState, PointMass, RapierArm};
use crate::field::ForceField;
use serde::{Deserialize, Serialize};

/// Which plant a reaching task runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlantKind {
    /// The closed-form arm with RK4 ([`AnalyticArm`]).
    #[default]
    Analytic,
    /// The rapier2d multibody arm ([`RapierArm`]).
    Rapier,
    /// The 1 kg point mass ([`PointMass`]).
    PointMass,
}

/// Any of the three plants, dispatched statically (no virtual call in the step loop).
#[derive(Debug)]
pub enum AnyPlant {
    /// Closed-form arm.
    Analytic(AnalyticArm),
    /// rapier2d arm (boxed: it owns a physics world).
    Rapier(Box<RapierArm>),
    /// Point mass.
    PointMass(PointMass),
}

macro_rules! dispatch {
    ($self:expr, $p:ident => $e:expr) => {
        match $self {
            AnyPlant::Analytic($p) => $e,
            AnyPlant::Rapier($p) => $e,
            AnyPlant::PointMass($p) => $e,
        }
    };
}

impl AnyPlant {
    /// Builds the plant `kind`. `substeps` is used by the rapier arm, `point_mass_viscosity_ns_m`
    /// by the point mass.
    pub fn new(
        kind: PlantKind,
        arm: ArmParams,
        actuator: ActuatorParams,
        dt_s: f64,
        substeps: usize,
        point_mass_viscosity_ns_m: f64,
    ) -> Self {
        match kind {
            PlantKind::Analytic => AnyPlant::Analytic(AnalyticArm::new(arm, actuator, dt_s)),
            PlantKind::Rapier => AnyPlant::Rapier(Box::new(RapierArm::new(arm, actuator, dt_s, substeps))),
            PlantKind::PointMass => AnyPlant::PointMass(PointMass::new(actuator, point_mass_viscosity_ns_m, dt_s)),
        }
    }
}

impl Plant for AnyPlant {
    fn name(&self) -> &'static str {
        dispatch!(self, p => p.name())
    }
    fn dt_s(&self) -> f64 {
        dispatch!(self, p => p.dt_s())
    }
    fn reset(&mut self, q: [f64; 2], qd: [f64; 2]) {
        dispatch!(self, p => p.reset(q, qd))
    }
    fn set_state(&mut self, state: &PlantState) {
        dispatch!(self, p => p.set_state(state))
    }
    fn state(&self) -> PlantState {
        dispatch!(self, p => p.state())
    }
    #[inline]
    fn step(&mut self, command: [f64; 2], field: &ForceField) {
        dispatch!(self, p => p.step(command, field))
    }
    #[inline]
    fn hand_position(&self) -> [f64; 2] {
        dispatch!(self, p => p.hand_position())
    }
    #[inline]
    fn hand_velocity(&self) -> [f64; 2] {
        dispatch!(self, p => p.hand_velocity())
    }
}
