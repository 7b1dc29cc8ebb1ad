//! The closed-form arm integrated with RK4 in f64: the default plant.

use super::activation::Activation;
use super::model::{Trig, TwoLinkModel};
use super::params::{ActuatorParams, ArmParams};
use super::plant::{limit_torque, Plant, PlantState};
use super::rk4::rk4_step;
use crate::field::ForceField;

/// The two-link arm of [`TwoLinkModel`], one RK4 step per control step.
///
/// Joint torque = `max_torque · activation + limit torque − viscosity · q̇ + Jᵀ F_field`, the
/// activation following [`Activation`] exactly inside the step (it is evaluated at the RK4
/// stage times 0, h/2, h), the field evaluated at the hand at every stage.
#[derive(Debug, Clone)]
pub struct AnalyticArm {
    model: TwoLinkModel,
    params: ArmParams,
    max_torque_nm: f64,
    act: Activation,
    dt_s: f64,
    state: PlantState,
    /// Trig of the current posture, cached for the hand queries.
    trig: Trig,
}

impl AnalyticArm {
    /// An arm with parameters `params`, actuator `act` and control step `dt_s`.
    pub fn new(params: ArmParams, actuator: ActuatorParams, dt_s: f64) -> Self {
        let mut arm = Self {
            model: TwoLinkModel::new(&params),
            params,
            max_torque_nm: actuator.max_torque_nm,
            act: Activation::new(&actuator, &[0.0, 0.5 * dt_s, dt_s]),
            dt_s,
            state: PlantState::default(),
            trig: Trig::new([0.0, 0.0]),
        };
        arm.reset([0.0, 0.0], [0.0, 0.0]);
        arm
    }

    /// The closed-form model.
    pub fn model(&self) -> &TwoLinkModel {
        &self.model
    }

    /// The parameters.
    pub fn params(&self) -> &ArmParams {
        &self.params
    }

    /// `(q̇, q̈)` at `(q, q̇)` under actuator torque `tau_act`.
    #[inline]
    fn derivative(&self, q: [f64; 2], qd: [f64; 2], tau_act: [f64; 2], field: &ForceField) -> [f64; 2] {
        let t = Trig::new(q);
        let visc = self.params.joint_viscosity_nms_rad;
        let mut tau = [
            tau_act[0] - visc * qd[0] + limit_torque(q[0], qd[0], self.params.shoulder_limits_rad),
            tau_act[1] - visc * qd[1] + limit_torque(q[1], qd[1], self.params.elbow_limits_rad),
        ];
        if !field.is_null() {
            let p = self.model.hand_position(&t);
            let v = self.model.hand_velocity(&t, qd);
            let jt = self.model.jacobian_transpose(&t, field.force(p, v));
            tau[0] += jt[0];
            tau[1] += jt[1];
        }
        self.model.accelerations(&t, qd, tau)
    }
}

impl Plant for AnalyticArm {
    fn name(&self) -> &'static str {
        "analytic"
    }

    fn dt_s(&self) -> f64 {
        self.dt_s
    }

    fn reset(&mut self, q: [f64; 2], qd: [f64; 2]) {
        self.set_state(&PlantState { q, qd, activation: [0.0; 2] });
    }

    fn set_state(&mut self, state: &PlantState) {
        self.state = *state;
        self.trig = Trig::new(state.q);
    }

    fn state(&self) -> PlantState {
        self.state
    }

    #[inline]
    fn step(&mut self, u: [f64; 2], field: &ForceField) {
        let PlantState { q, qd, activation: a0 } = self.state;
        let g = self.max_torque_nm;
        let tau_at = |k: usize| [g * self.act.at(k, u[0], a0[0]), g * self.act.at(k, u[1], a0[1])];
        let (t0, th, t1) = (tau_at(0), tau_at(1), tau_at(2));
        (self.state.q, self.state.qd) =
            rk4_step(q, qd, self.dt_s, [t0, th, t1], |q, qd, tau| self.derivative(q, qd, tau, field));
        self.state.activation = [self.act.at(2, u[0], a0[0]), self.act.at(2, u[1], a0[1])];
        self.trig = Trig::new(self.state.q);
    }

    #[inline]
    fn hand_position(&self) -> [f64; 2] {
        self.model.hand_position(&self.trig)
    }

    #[inline]
    fn hand_velocity(&self) -> [f64; 2] {
        self.model.hand_velocity(&self.trig, self.state.qd)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Control step of the task, s.
    const DT_S: f64 = 0.01;
    /// Relative energy drift allowed over 2 s of free motion with RK4 at 10 ms.
    const ENERGY_REL_TOL: f64 = 1e-6;
    /// Joint-angle error allowed between RK4 at 10 ms and a 0.1 ms reference, rad.
    const RK4_REF_TOL_RAD: f64 = 1e-5;

    fn start() -> [f64; 2] {
        [60f64.to_radians(), 90f64.to_radians()]
    }

    #[test]
    fn energy_is_conserved_without_input_damping_or_field() {
        let params = ArmParams { joint_viscosity_nms_rad: 0.0, ..ArmParams::default() };
        let mut arm = AnalyticArm::new(params, ActuatorParams::default(), DT_S);
        // A free swing that stays inside the joint limits.
        arm.reset(start(), [0.4, 0.3]);
        let e0 = arm.model().kinetic_energy(arm.state().q, arm.state().qd);
        let (sh, el) = (params.shoulder_limits_rad, params.elbow_limits_rad);
        for _ in 0..150 {
            arm.step([0.0, 0.0], &ForceField::Null);
            let s = arm.state();
            let inside = s.q[0] > sh[0] && s.q[0] < sh[1] && s.q[1] > el[0] && s.q[1] < el[1];
            assert!(inside, "reached a joint limit: {s:?}");
        }
        let e1 = arm.model().kinetic_energy(arm.state().q, arm.state().qd);
        assert!(((e1 - e0) / e0).abs() < ENERGY_REL_TOL, "energy {e0} -> {e1}");
    }

    #[test]
    fn rk4_at_10ms_matches_a_fine_reference_under_a_curl_field() {
        let field = ForceField::curl(8.0);
        let act = ActuatorParams::default();
        let mut coarse = AnalyticArm::new(ArmParams::default(), act, DT_S);
        // The reference steps 100× finer; its activation follows the same exact solution,
        // so a command held for 10 ms is the same input to both.
        let mut fine = AnalyticArm::new(ArmParams::default(), act, DT_S / 100.0);
        coarse.reset(start(), [0.0; 2]);
        fine.reset(start(), [0.0; 2]);
        // A reach-like command: accelerate, brake, release (hand speed peaks near 0.5 m/s).
        for k in 0..60 {
            let u = match k {
                0..=14 => [0.05, -0.03],
                15..=29 => [-0.05, 0.03],
                _ => [0.0, 0.0],
            };
            coarse.step(u, &field);
            for _ in 0..100 {
                fine.step(u, &field);
            }
        }
        let (c, f) = (coarse.state(), fine.state());
        eprintln!("rk4 10 ms vs 0.1 ms: {:e} {:e} rad", c.q[0] - f.q[0], c.q[1] - f.q[1]);
        for i in 0..2 {
            assert!((c.q[i] - f.q[i]).abs() < RK4_REF_TOL_RAD, "joint {i}: {} vs {}", c.q[i], f.q[i]);
        }
        // The motion was real (not a trivially still arm).
        assert!((c.q[0] - start()[0]).abs() + (c.q[1] - start()[1]).abs() > 0.1);
    }

    #[test]
    fn joint_limits_stop_the_arm() {
        let mut arm = AnalyticArm::new(ArmParams::default(), ActuatorParams::default(), DT_S);
        arm.reset(start(), [0.0; 2]);
        for _ in 0..300 {
            arm.step([0.0, 1.0], &ForceField::Null);
        }
        let hi = ArmParams::default().elbow_limits_rad[1];
        assert!(arm.state().q[1] < hi + 0.15, "elbow {} beyond {hi}", arm.state().q[1]);
    }
}
