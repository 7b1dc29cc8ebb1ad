//! `BipedBody`: the Walker2d body as a rapier2d world.
//!
//! Seven dynamic capsules joined by six impulse revolute joints with limits, on a fixed
//! half-space ground. Motor, damping and friction torques are applied as equal and opposite
//! torques on the two bodies of each joint (measured about 4x cheaper per step than a
//! multibody chain for this body). The robot does not collide with itself (interaction
//! groups: robot colliders only see the ground), as in MuJoCo's Walker2d where the robot's
//! geoms have `conaffinity="0"`. A slope tilts gravity instead of the ground, so the world
//! frame is the ground frame: `x` runs along the ground and `z` is the height above it.
//!
//! The world is rebuilt from its parameters on every reset (about 10 µs), so an episode never
//! inherits solver warm-starts or contact caches from the previous one and resets are
//! bit-reproducible.

use super::geometry::{GRAVITY_M_S2, JOINTS, N_JOINTS, N_LINKS, N_QPOS, SEGMENTS, TORSO};
use super::params::DynamicsParams;
use super::settings::{FrictionCombine, SimSettings};
use rapier2d::na::Unit;
use rapier2d::prelude::*;

/// Generalized state in MuJoCo's Walker2d order.
///
/// `qpos = [x, z, pitch, hip_r, knee_r, ankle_r, hip_l, knee_l, ankle_l]` (m, m, rad…) where
/// `x, z` is the torso's geometric centre (MuJoCo's root slide joints) and `pitch` is positive
/// leaning forward; `qvel` holds their time derivatives (m/s, rad/s).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct BodyState {
    /// Positions, `[N_QPOS]`.
    pub qpos: [f64; N_QPOS],
    /// Velocities, `[N_QPOS]`.
    pub qvel: [f64; N_QPOS],
}

impl BodyState {
    /// Whether every component is finite.
    pub fn is_finite(&self) -> bool {
        self.qpos.iter().chain(&self.qvel).all(|v| v.is_finite())
    }
}

/// Pose of one link: its frame origin (the capsule's centre) and its angle, counter-clockwise
/// in the walker plane (`[x_m, z_m, angle_rad]`).
pub type LinkPose = [f64; 3];

/// The Walker2d body in rapier2d.
pub struct BipedBody {
    world: PhysicsWorld,
    links: [RigidBodyHandle; N_LINKS],
    /// Centre of mass of each link in its own frame.
    com_local: [Vector; N_LINKS],
}

impl std::fmt::Debug for BipedBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BipedBody").field("state", &self.state()).finish()
    }
}

const ROBOT_GROUP: Group = Group::GROUP_1;
const GROUND_GROUP: Group = Group::GROUP_2;

fn combine_rule(c: FrictionCombine) -> CoefficientCombineRule {
    match c {
        FrictionCombine::Max => CoefficientCombineRule::Max,
        FrictionCombine::Average => CoefficientCombineRule::Average,
        FrictionCombine::Min => CoefficientCombineRule::Min,
        FrictionCombine::Multiply => CoefficientCombineRule::Multiply,
    }
}

#[inline]
fn rot(angle: f64, v: [f64; 2]) -> [f64; 2] {
    let (s, c) = angle.sin_cos();
    [c * v[0] - s * v[1], s * v[0] + c * v[1]]
}

/// `ω × r` in the plane.
#[inline]
fn cross(omega: f64, r: [f64; 2]) -> [f64; 2] {
    [-omega * r[1], omega * r[0]]
}

#[inline]
fn v2(v: [f64; 2]) -> Vector {
    Vector::new(v[0] as Real, v[1] as Real)
}

/// Height above the ground of the lowest point of link `i`'s capsule when its frame is at
/// `pose`, m (the world's ground is flat at z = 0; a slope tilts gravity instead).
pub fn link_lowest_point_m(i: usize, pose: &LinkPose) -> f64 {
    let seg = SEGMENTS[i];
    let axis =
        if seg.horizontal { rot(pose[2], [seg.half_length_m, 0.0]) } else { rot(pose[2], [0.0, seg.half_length_m]) };
    pose[1] - axis[1].abs() - seg.radius_m
}

/// Link frames (origin, angle) and their velocities (origin velocity, angular velocity) from
/// a generalized state: forward kinematics down the two legs.
pub fn forward_kinematics(state: &BodyState) -> ([LinkPose; N_LINKS], [[f64; 3]; N_LINKS]) {
    let (q, qd) = (&state.qpos, &state.qvel);
    let mut pose = [[0.0; 3]; N_LINKS];
    let mut vel = [[0.0; 3]; N_LINKS];
    pose[TORSO] = [q[0], q[1], -q[2]];
    vel[TORSO] = [qd[0], qd[1], -qd[2]];
    for (j, spec) in JOINTS.iter().enumerate() {
        let (p, c) = (spec.parent, spec.child);
        let theta_c = pose[p][2] + q[3 + j];
        let omega_c = vel[p][2] + qd[3 + j];
        let arm_p = rot(pose[p][2], spec.anchor_parent_m);
        let arm_c = rot(theta_c, spec.anchor_child_m);
        let hinge = [pose[p][0] + arm_p[0], pose[p][1] + arm_p[1]];
        let w_p = cross(vel[p][2], arm_p);
        let v_hinge = [vel[p][0] + w_p[0], vel[p][1] + w_p[1]];
        let w_c = cross(omega_c, arm_c);
        pose[c] = [hinge[0] - arm_c[0], hinge[1] - arm_c[1], theta_c];
        vel[c] = [v_hinge[0] - w_c[0], v_hinge[1] - w_c[1], omega_c];
    }
    (pose, vel)
}

impl BipedBody {
    /// Builds the world for `params` and `settings` with the body in `state`.
    pub fn new(params: &DynamicsParams, settings: &SimSettings, state: &BodyState) -> Self {
        let mut world = PhysicsWorld::new();
        let g = GRAVITY_M_S2;
        // Uphill slope s: gravity leans backwards by s in the ground frame.
        world.gravity = v2([-g * params.slope_rad.sin(), -g * params.slope_rad.cos()]);
        let ip = &mut world.integration_parameters;
        ip.dt = settings.dt_s as Real;
        ip.num_solver_iterations = settings.solver_iterations;
        // No continuous collision detection: at 2 ms no link moves more than a few cm per
        // step, well inside the contact prediction distance. Same trajectories, 4 % cheaper.
        ip.max_ccd_substeps = 0;
        ip.static_contact_softness = SpringCoefficients::new(
            settings.contact_natural_frequency_hz as Real,
            settings.contact_damping_ratio as Real,
        );
        let rule = combine_rule(settings.friction_combine);

        let ground = ColliderBuilder::halfspace(Unit::new_unchecked(Vector::Y))
            .friction(settings.ground_friction as Real)
            .friction_combine_rule(rule)
            .collision_groups(InteractionGroups::new(GROUND_GROUP, ROBOT_GROUP, InteractionTestMode::And));
        world.colliders.insert(ground);

        let (pose, vel) = forward_kinematics(state);
        let mut com_local = [Vector::ZERO; N_LINKS];
        let mut links = [RigidBodyHandle::invalid(); N_LINKS];
        for (i, seg) in SEGMENTS.iter().enumerate() {
            let mass = params.link_mass_kg[i];
            // Same geometry, different material: inertia scales with mass.
            let inertia = seg.inertia_kg_m2 * mass / seg.mass_kg;
            let com = if i == TORSO { params.torso_com_offset_m } else { [0.0, 0.0] };
            let com_world = rot(pose[i][2], com);
            let v_com = [vel[i][0] + cross(vel[i][2], com_world)[0], vel[i][1] + cross(vel[i][2], com_world)[1]];
            let body = RigidBodyBuilder::dynamic()
                .translation(v2([pose[i][0], pose[i][1]]))
                .rotation(pose[i][2] as Real)
                .linvel(v2(v_com))
                .angvel(vel[i][2] as Real)
                .additional_mass_properties(MassProperties::new(v2(com), mass as Real, inertia as Real))
                .can_sleep(false);
            let shape = if seg.horizontal {
                ColliderBuilder::capsule_x(seg.half_length_m as Real, seg.radius_m as Real)
            } else {
                ColliderBuilder::capsule_y(seg.half_length_m as Real, seg.radius_m as Real)
            };
            let friction = if seg.is_foot { params.foot_friction } else { params.body_friction() };
            let collider = shape
                .density(0.0)
                .friction(friction as Real)
                .friction_combine_rule(rule)
                .collision_groups(InteractionGroups::new(ROBOT_GROUP, GROUND_GROUP, InteractionTestMode::And));
            let (h, _) = world.insert(body, collider);
            // Mass properties are otherwise only computed on the first step.
            world.bodies[h].recompute_mass_properties_from_colliders(&world.colliders);
            links[i] = h;
            com_local[i] = v2(com);
        }
        for spec in JOINTS {
            let joint = RevoluteJointBuilder::new()
                .local_anchor1(v2(spec.anchor_parent_m))
                .local_anchor2(v2(spec.anchor_child_m))
                .limits([spec.lower_rad as Real, spec.upper_rad as Real])
                .contacts_enabled(false);
            world.insert_impulse_joint(links[spec.parent], links[spec.child], joint);
        }
        Self { world, links, com_local }
    }

    /// Advances one physics step with `joint_torque_nm` (action order) applied at the joints.
    #[inline]
    pub fn step(&mut self, joint_torque_nm: &[f64; N_JOINTS]) {
        let bodies = &mut self.world.bodies;
        for &h in &self.links {
            bodies[h].reset_torques(false);
        }
        for (spec, &tau) in JOINTS.iter().zip(joint_torque_nm) {
            let tau = tau as Real;
            bodies[self.links[spec.child]].add_torque(tau, false);
            bodies[self.links[spec.parent]].add_torque(-tau, false);
        }
        self.world.step();
    }

    /// The generalized state (MuJoCo order).
    pub fn state(&self) -> BodyState {
        let b = &self.world.bodies;
        let torso = &b[self.links[TORSO]];
        let t = torso.translation();
        let omega_t = torso.angvel();
        let com = torso.rotation().transform_vector(self.com_local[TORSO]);
        // rapier's linvel is the centre of mass's; MuJoCo's root velocity is the frame's.
        let v = torso.linvel() - Vector::new(-omega_t * com.y, omega_t * com.x);
        let mut s = BodyState::default();
        s.qpos[0] = t.x as f64;
        s.qpos[1] = t.y as f64;
        s.qpos[2] = -(torso.rotation().angle() as f64);
        s.qvel[0] = v.x as f64;
        s.qvel[1] = v.y as f64;
        s.qvel[2] = -(omega_t as f64);
        for (j, spec) in JOINTS.iter().enumerate() {
            let (p, c) = (&b[self.links[spec.parent]], &b[self.links[spec.child]]);
            s.qpos[3 + j] = (p.rotation().inverse() * *c.rotation()).angle() as f64;
            s.qvel[3 + j] = (c.angvel() - p.angvel()) as f64;
        }
        s
    }

    /// Joint angles and rates only (action order), cheaper than [`BipedBody::state`].
    #[inline]
    pub fn joints(&self, q: &mut [f64; N_JOINTS], qd: &mut [f64; N_JOINTS]) {
        let b = &self.world.bodies;
        for (j, spec) in JOINTS.iter().enumerate() {
            let (p, c) = (&b[self.links[spec.parent]], &b[self.links[spec.child]]);
            q[j] = (p.rotation().inverse() * *c.rotation()).angle() as f64;
            qd[j] = (c.angvel() - p.angvel()) as f64;
        }
    }

    /// Joint rates only (action order): what torque-mode actuation needs each tick.
    #[inline]
    pub fn joint_rates(&self, qd: &mut [f64; N_JOINTS]) {
        let b = &self.world.bodies;
        for (j, spec) in JOINTS.iter().enumerate() {
            qd[j] = (b[self.links[spec.child]].angvel() - b[self.links[spec.parent]].angvel()) as f64;
        }
    }

    /// Frame pose of every link, for drawing.
    pub fn link_poses(&self) -> [LinkPose; N_LINKS] {
        std::array::from_fn(|i| {
            let rb = &self.world.bodies[self.links[i]];
            let t = rb.translation();
            [t.x as f64, t.y as f64, rb.rotation().angle() as f64]
        })
    }

    /// Height of the lowest point of link `i`'s capsule above the ground, m.
    pub fn lowest_point_m(&self, i: usize) -> f64 {
        link_lowest_point_m(i, &self.link_poses()[i])
    }

    /// Largest distance between the two bodies' copies of a hinge point, m: how far the
    /// solver lets the joints come apart (0 for a perfect joint).
    pub fn joint_gap_m(&self) -> f64 {
        let b = &self.world.bodies;
        JOINTS
            .iter()
            .map(|spec| {
                let (p, c) = (&b[self.links[spec.parent]], &b[self.links[spec.child]]);
                let hp = p.position().transform_point(v2(spec.anchor_parent_m));
                let hc = c.position().transform_point(v2(spec.anchor_child_m));
                (hp - hc).length() as f64
            })
            .fold(0.0, f64::max)
    }

    /// Sum of the bodies' masses as rapier sees them, kg.
    pub fn total_mass_kg(&self) -> f64 {
        self.links.iter().map(|&h| self.world.bodies[h].mass() as f64).sum()
    }

    /// rapier's integration parameters, for experiments with the solver (the env sets them
    /// from [`SimSettings`]; changing them mid-episode is the caller's responsibility).
    pub fn integration_parameters_mut(&mut self) -> &mut IntegrationParameters {
        &mut self.world.integration_parameters
    }

    /// Physics step, s.
    pub fn dt_s(&self) -> f64 {
        self.world.integration_parameters.dt as f64
    }
}

/// The standing pose of Walker2d's reset: torso centre at 1.25 m, every angle 0, at rest.
pub fn standing_state() -> BodyState {
    let mut s = BodyState::default();
    s.qpos[1] = super::geometry::RESET_ROOT_Z_M;
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nominal(state: &BodyState) -> BipedBody {
        BipedBody::new(&DynamicsParams::walker2d(), &SimSettings::default(), state)
    }

    #[test]
    fn state_round_trips_through_the_world() {
        let mut s = standing_state();
        let q = [0.3, 1.3, 0.2, -0.4, -0.7, 0.3, -0.1, -1.2, -0.2];
        let qd = [0.5, -0.2, 0.7, 1.0, -2.0, 0.5, -1.5, 3.0, 0.1];
        s.qpos = q;
        s.qvel = qd;
        let mut p = DynamicsParams::walker2d();
        p.torso_com_offset_m = [0.03, -0.04];
        let body = BipedBody::new(&p, &SimSettings::default(), &s);
        let back = body.state();
        for i in 0..N_QPOS {
            assert!((back.qpos[i] - q[i]).abs() < 1e-5, "qpos[{i}] {} vs {}", back.qpos[i], q[i]);
            assert!((back.qvel[i] - qd[i]).abs() < 1e-4, "qvel[{i}] {} vs {}", back.qvel[i], qd[i]);
        }
    }

    #[test]
    fn total_mass_is_23_68_kg() {
        let body = nominal(&standing_state());
        assert!((body.total_mass_kg() - 23.68).abs() < 0.005, "{}", body.total_mass_kg());
    }

    #[test]
    fn positive_torque_increases_the_joint_angle() {
        // Hang nothing on gravity: lift the walker high and push the right ankle.
        let mut s = standing_state();
        s.qpos[1] = 5.0;
        let mut body = nominal(&s);
        let mut tau = [0.0; N_JOINTS];
        tau[2] = 5.0;
        for _ in 0..10 {
            body.step(&tau);
        }
        let st = body.state();
        assert!(st.qvel[5] > 0.1 && st.qpos[5] > 0.0, "{st:?}");
    }

    #[test]
    fn joint_limits_hold() {
        // Push every hip and knee the wrong way (positive) with full torque while airborne.
        let mut s = standing_state();
        s.qpos[1] = 50.0;
        let mut body = nominal(&s);
        for _ in 0..200 {
            body.step(&[100.0, 100.0, 100.0, 100.0, 100.0, -100.0]);
        }
        let st = body.state();
        // Limits are soft constraints (as MuJoCo's are): with one solver iteration a 100 N·m
        // motor pushes the light foot about 3° past its limit, and the hip and knee barely.
        let tol = 0.1;
        for j in [0, 1, 3, 4] {
            assert!(st.qpos[3 + j] < tol / 2.0, "joint {j}: {}", st.qpos[3 + j]);
        }
        assert!(st.qpos[5] < 45f64.to_radians() + tol && st.qpos[8] > -45f64.to_radians() - tol, "{:?}", st.qpos);
    }
}
