//! A point mass driven by a 2-D force: the plant of the RL curl-field study.

use super::activation::Activation;
use super::params::ActuatorParams;
use super::plant::{Plant, PlantState};
use crate::field::ForceField;

/// Mass of the point-mass plant, kg.
pub const POINT_MASS_KG: f64 = 1.0;

/// A 1 kg point mass: `m ẍ = max_force · activation − c ẋ + F_field`, RK4 per control
/// step. `q` is the position (m), `qd` the velocity (m/s); no workspace limits.
#[derive(Debug, Clone)]
pub struct PointMass {
    max_force_n: f64,
    viscosity_ns_m: f64,
    act: Activation,
    dt_s: f64,
    state: PlantState,
}

impl PointMass {
    /// A point mass with actuator `actuator`, viscous damping `viscosity_ns_m` (N·s/m) and
    /// control step `dt_s`.
    pub fn new(actuator: ActuatorParams, viscosity_ns_m: f64, dt_s: f64) -> Self {
        Self {
            max_force_n: actuator.max_force_n,
            viscosity_ns_m,
            act: Activation::new(&actuator, &[0.0, 0.5 * dt_s, dt_s]),
            dt_s,
            state: PlantState::default(),
        }
    }

    #[inline]
    fn accel(&self, p: [f64; 2], v: [f64; 2], f_act: [f64; 2], field: &ForceField) -> [f64; 2] {
        let f = field.force(p, v);
        let inv_m = 1.0 / POINT_MASS_KG;
        [(f_act[0] - self.viscosity_ns_m * v[0] + f[0]) * inv_m, (f_act[1] - self.viscosity_ns_m * v[1] + f[1]) * inv_m]
    }
}

impl Plant for PointMass {
    fn name(&self) -> &'static str {
        "point_mass"
    }
    fn dt_s(&self) -> f64 {
        self.dt_s
    }
    fn reset(&mut self, q: [f64; 2], qd: [f64; 2]) {
        self.state = PlantState { q, qd, activation: [0.0; 2] };
    }
    fn set_state(&mut self, state: &PlantState) {
        self.state = *state;
    }
    fn state(&self) -> PlantState {
        self.state
    }

    #[inline]
    fn step(&mut self, u: [f64; 2], field: &ForceField) {
        let PlantState { q: p, qd: v, activation: a0 } = self.state;
        let g = self.max_force_n;
        let f_at = |k: usize| [g * self.act.at(k, u[0], a0[0]), g * self.act.at(k, u[1], a0[1])];
        let (f0, fh, f1) = (f_at(0), f_at(1), f_at(2));
        (self.state.q, self.state.qd) =
            super::rk4::rk4_step(p, v, self.dt_s, [f0, fh, f1], |p, v, f| self.accel(p, v, f, field));
        self.state.activation = [self.act.at(2, u[0], a0[0]), self.act.at(2, u[1], a0[1])];
    }

    #[inline]
    fn hand_position(&self) -> [f64; 2] {
        self.state.q
    }
    #[inline]
    fn hand_velocity(&self) -> [f64; 2] {
        self.state.qd
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_force_gives_constant_acceleration_once_activated() {
        let act = ActuatorParams::default();
        let mut pm = PointMass::new(act, 0.0, 0.01);
        pm.reset([0.0, 0.0], [0.0, 0.0]);
        for _ in 0..100 {
            pm.step([0.5, 0.0], &ForceField::Null);
        }
        let v0 = pm.state().qd[0];
        pm.step([0.5, 0.0], &ForceField::Null);
        // Activation has converged after 1 s (τ = 15 ms): Δv = F/m · dt.
        let dv = pm.state().qd[0] - v0;
        assert!((dv - 0.5 * act.max_force_n / POINT_MASS_KG * 0.01).abs() < 1e-9, "{dv}");
        assert_eq!(pm.state().qd[1], 0.0);
    }
}
