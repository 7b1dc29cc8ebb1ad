//! The same arm in rapier2d: a multibody chain, for users who want an engine-backed plant
//! (and as an independent check of the closed-form model).
//!
//! Precision: rapier runs in `f32` here, the same build of rapier2d as the biped (the workspace
//! compiles rapier once). The plant's interface stays `f64`; values are rounded to `f32` on the
//! way in (torques, forces, state) and widened on the way out. Against the closed-form arm the
//! `f32` rounding is far below rapier's first-order integration error (see the tests).

use super::activation::Activation;
use super::model::{Trig, TwoLinkModel};
use super::params::{ActuatorParams, ArmParams};
use super::plant::{limit_torque, Plant, PlantState};
use crate::field::ForceField;
use rapier2d::prelude::*;

/// Default number of physics substeps per 10 ms control step (1 ms each). The hand force of a
/// velocity-dependent field is refreshed every substep; holding it for a whole control step
/// gives 0.2–0.7 rad of error over 2 s.
pub const DEFAULT_SUBSTEPS: usize = 10;

/// The two-link arm as a rapier2d multibody: a fixed root, two dynamic links without
/// colliders, two revolute multibody joints.
///
/// - Joint torques: multibody joints have no generalized-force input, so each joint torque is
///   applied as equal and opposite torques on the two bodies it connects (the root is fixed).
/// - Hand force: `add_force_at_point` at the hand, recomputed from the field every substep.
/// - Joint viscosity: set explicitly in the multibody's damping vector (rapier's default for
///   a multibody revolute joint is 0.1 N·m·s/rad).
/// - User forces persist in rapier, so `reset_forces` and `reset_torques` are called on both
///   links before every substep.
/// - No gravity (horizontal plane), no sleeping.
pub struct RapierArm {
    model: TwoLinkModel,
    params: ArmParams,
    max_torque_nm: f64,
    act: Activation,
    dt_s: f64,
    substeps: usize,
    world: PhysicsWorld,
    links: [RigidBodyHandle; 2],
    joint: MultibodyJointHandle,
    activation: [f64; 2],
}

impl std::fmt::Debug for RapierArm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RapierArm")
            .field("params", &self.params)
            .field("substeps", &self.substeps)
            .field("state", &self.state())
            .finish()
    }
}

impl RapierArm {
    /// An arm with `substeps` physics steps per control step of `dt_s`.
    pub fn new(params: ArmParams, actuator: ActuatorParams, dt_s: f64, substeps: usize) -> Self {
        let substeps = substeps.max(1);
        let h = dt_s / substeps as f64;
        // The actuator torque of substep k is the activation at its midpoint (second-order in
        // the substep); the last instant is the end of the step.
        let times: Vec<f64> =
            (0..=substeps).map(|k| if k < substeps { (k as f64 + 0.5) * h } else { k as f64 * h }).collect();
        let (world, links, joint) = Self::build(&params, h);
        let mut arm = Self {
            model: TwoLinkModel::new(&params),
            params,
            max_torque_nm: actuator.max_torque_nm,
            act: Activation::new(&actuator, &times),
            dt_s,
            substeps,
            world,
            links,
            joint,
            activation: [0.0; 2],
        };
        arm.reset([0.0; 2], [0.0; 2]);
        arm
    }

    fn build(p: &ArmParams, h: f64) -> (PhysicsWorld, [RigidBodyHandle; 2], MultibodyJointHandle) {
        let mut world = PhysicsWorld::new();
        world.gravity = Vector::ZERO;
        world.integration_parameters.dt = h as Real;
        // Multibody joints are reduced coordinates: there are no constraints to iterate on, and
        // more solver iterations measured no gain in accuracy, only cost.
        world.integration_parameters.num_solver_iterations = 1;
        world.integration_parameters.max_ccd_substeps = 0;
        let link = |l: &super::params::LinkParams| {
            RigidBodyBuilder::dynamic().can_sleep(false).additional_mass_properties(MassProperties::new(
                Vector::new(l.com_m as Real, 0.0),
                l.mass_kg as Real,
                l.inertia_kg_m2 as Real,
            ))
        };
        let root = world.insert_body(RigidBodyBuilder::fixed());
        let upper = world.insert_body(link(&p.upper));
        let fore = world.insert_body(link(&p.fore));
        let shoulder = RevoluteJointBuilder::new().local_anchor1(Vector::ZERO).local_anchor2(Vector::ZERO);
        let elbow = RevoluteJointBuilder::new()
            .local_anchor1(Vector::new(p.upper.length_m as Real, 0.0))
            .local_anchor2(Vector::ZERO);
        world.multibody_joints.insert(root, upper, shoulder, true).expect("shoulder joint");
        let joint = world.multibody_joints.insert(upper, fore, elbow, true).expect("elbow joint");
        let (mb, _) = world.multibody_joints.get_mut(joint).expect("multibody");
        mb.damping_mut().fill(p.joint_viscosity_nms_rad as Real);
        (world, [upper, fore], joint)
    }

    /// Physics substeps per control step.
    pub fn substeps(&self) -> usize {
        self.substeps
    }

    #[inline]
    fn joints(&self) -> ([f64; 2], [f64; 2]) {
        let (mb, _) = self.world.multibody_joints.get(self.joint).expect("multibody");
        let q1 = mb.link(1).expect("upper link").joint().coords()[2];
        let q2 = mb.link(2).expect("fore link").joint().coords()[2];
        let v = mb.generalized_velocity();
        ([q1 as f64, q2 as f64], [v[0] as f64, v[1] as f64])
    }
}

impl Plant for RapierArm {
    fn name(&self) -> &'static str {
        "rapier"
    }

    fn dt_s(&self) -> f64 {
        self.dt_s
    }

    fn reset(&mut self, q: [f64; 2], qd: [f64; 2]) {
        self.set_state(&PlantState { q, qd, activation: [0.0; 2] });
    }

    fn set_state(&mut self, state: &PlantState) {
        // A fresh world: rapier keeps solver and island state that a pose edit would not clear.
        let (world, links, joint) = Self::build(&self.params, self.dt_s / self.substeps as f64);
        self.world = world;
        self.links = links;
        self.joint = joint;
        let PhysicsWorld { multibody_joints, bodies, .. } = &mut self.world;
        let (mb, _) = multibody_joints.get_mut(joint).expect("multibody");
        // Settle the root as a fixed joint (0 dofs) before addressing the two joint dofs.
        mb.forward_kinematics(bodies, true);
        mb.apply_displacements(&state.q.map(|x| x as Real));
        mb.generalized_velocity_mut().copy_from_slice(&state.qd.map(|x| x as Real));
        mb.forward_kinematics(bodies, true);
        mb.update_rigid_bodies(bodies, true);
        self.activation = state.activation;
    }

    fn state(&self) -> PlantState {
        let (q, qd) = self.joints();
        PlantState { q, qd, activation: self.activation }
    }

    fn step(&mut self, u: [f64; 2], field: &ForceField) {
        let a0 = self.activation;
        let g = self.max_torque_nm;
        for k in 0..self.substeps {
            let (q, qd) = self.joints();
            let tau = [
                g * self.act.at(k, u[0], a0[0]) + limit_torque(q[0], qd[0], self.params.shoulder_limits_rad),
                g * self.act.at(k, u[1], a0[1]) + limit_torque(q[1], qd[1], self.params.elbow_limits_rad),
            ];
            let t = Trig::new(q);
            let p = self.model.hand_position(&t);
            let f = field.force(p, self.model.hand_velocity(&t, qd));
            let [upper, fore] = self.links;
            let b = &mut self.world.bodies;
            b[upper].reset_forces(false);
            b[upper].reset_torques(false);
            b[upper].add_torque((tau[0] - tau[1]) as Real, false);
            b[fore].reset_forces(false);
            b[fore].reset_torques(false);
            b[fore].add_torque(tau[1] as Real, false);
            if f != [0.0, 0.0] {
                let (force, at) = (Vector::new(f[0] as Real, f[1] as Real), Vector::new(p[0] as Real, p[1] as Real));
                b[fore].add_force_at_point(force, at, false);
            }
            self.world.step();
        }
        let n = self.substeps;
        self.activation = [self.act.at(n, u[0], a0[0]), self.act.at(n, u[1], a0[1])];
    }

    fn hand_position(&self) -> [f64; 2] {
        let (q, _) = self.joints();
        self.model.hand_position(&Trig::new(q))
    }

    fn hand_velocity(&self) -> [f64; 2] {
        let (q, qd) = self.joints();
        self.model.hand_velocity(&Trig::new(q), qd)
    }
}

#[cfg(test)]
mod tests {
    use super::super::analytic::AnalyticArm;
    use super::*;

    /// Joint-angle agreement with the analytic plant after 1 s of a fixed torque sequence
    /// (with a curl field), rad. Rapier integrates multibodies semi-implicitly (first order),
    /// so this is a statement of rapier's accuracy at 1 ms substeps, not of the model
    /// (measured: 2.73e-3 rad for this sequence in f32, 2.7e-3 in the former f64 build; 5.5e-3
    /// at 5 substeps, 1.4e-2 at 2).
    const RAPIER_VS_ANALYTIC_TOL_RAD: f64 = 0.01;
    /// A state written and read back through rapier's `f32`: one rounding of an angle of order
    /// 1 rad or a velocity of order 0.1 rad/s (f32 epsilon 1.2e-7, with margin).
    const F32_ROUND_TRIP_TOL: f64 = 1e-6;

    fn start() -> [f64; 2] {
        [60f64.to_radians(), 90f64.to_radians()]
    }

    #[test]
    fn reset_places_the_arm() {
        let mut arm = RapierArm::new(ArmParams::default(), ActuatorParams::default(), 0.01, DEFAULT_SUBSTEPS);
        arm.reset(start(), [0.1, -0.2]);
        let s = arm.state();
        let close = |a: f64, b: f64| (a - b).abs() < F32_ROUND_TRIP_TOL;
        assert!(close(s.q[0], start()[0]) && close(s.q[1], start()[1]), "{s:?}");
        assert!(close(s.qd[0], 0.1) && close(s.qd[1], -0.2), "{s:?}");
        let p = arm.hand_position();
        assert!((p[0] + 0.134).abs() < 1e-3 && (p[1] - 0.434).abs() < 1e-3);
    }

    #[test]
    fn rapier_arm_follows_the_analytic_arm() {
        let params = ArmParams::default();
        let act = ActuatorParams::default();
        let mut r = RapierArm::new(params, act, 0.01, DEFAULT_SUBSTEPS);
        let mut a = AnalyticArm::new(params, act, 0.01);
        r.reset(start(), [0.0; 2]);
        a.reset(start(), [0.0; 2]);
        let field = ForceField::curl(8.0);
        let mut max_err: f64 = 0.0;
        for k in 0..100 {
            let u = [0.05 * (k as f64 * 0.15).sin(), -0.05 * (k as f64 * 0.11).sin()];
            r.step(u, &field);
            a.step(u, &field);
            let (sr, sa) = (r.state(), a.state());
            max_err = max_err.max((sr.q[0] - sa.q[0]).abs()).max((sr.q[1] - sa.q[1]).abs());
        }
        let (sr, sa) = (r.state(), a.state());
        eprintln!("rapier vs analytic after 1 s: {sr:?} vs {sa:?}, max error {max_err:e} rad");
        assert!(max_err < RAPIER_VS_ANALYTIC_TOL_RAD, "max joint error {max_err} rad");
        assert!((sa.q[0] - start()[0]).abs() + (sa.q[1] - start()[1]).abs() > 0.1, "the arm barely moved");
    }
}
