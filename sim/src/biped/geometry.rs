//! The Walker2d-v5 body plan: segments, masses, inertias, joints, limits.
//!
//! Coordinates are MuJoCo's walker plane mapped to the 2-D physics plane: MuJoCo `x` → `x`
//! (forward), MuJoCo `z` → `y` (up). MuJoCo's joints turn about `-y`, which is a positive
//! (counter-clockwise) rotation in this plane, so a joint angle here equals MuJoCo's `qpos`
//! for that joint. The torso pitch of MuJoCo (`rooty`, about `+y`, positive leaning forward)
//! is minus the torso's angle in this plane.
//!
//! Masses and inertias are stated explicitly (MuJoCo derives them from capsule volumes at
//! density 1000 kg/m³; the numbers below are those values, so the total is 23.68 kg).

/// Number of rigid links: torso, then thigh, shin, foot of the right leg, then of the left.
pub const N_LINKS: usize = 7;
/// Number of actuated hinge joints: hip, knee, ankle right, then left.
pub const N_JOINTS: usize = 6;
/// Generalized coordinates in MuJoCo order: `x, z, pitch`, then the six joint angles.
pub const N_QPOS: usize = 3 + N_JOINTS;

/// Index of the torso link.
pub const TORSO: usize = 0;

/// Link names, in link order.
pub const LINK_NAMES: [&str; N_LINKS] =
    ["torso", "thigh_right", "shin_right", "foot_right", "thigh_left", "shin_left", "foot_left"];

/// Joint names, in action order.
pub const JOINT_NAMES: [&str; N_JOINTS] =
    ["hip_right", "knee_right", "ankle_right", "hip_left", "knee_left", "ankle_left"];

/// One capsule link.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Segment {
    /// Half the length of the capsule's core segment (caps excluded), m.
    pub half_length_m: f64,
    /// Capsule radius, m.
    pub radius_m: f64,
    /// Whether the core segment lies along the link's x axis (the feet) instead of its y axis.
    pub horizontal: bool,
    /// Mass, kg.
    pub mass_kg: f64,
    /// Moment of inertia about the centre of mass, perpendicular to the plane, kg·m².
    pub inertia_kg_m2: f64,
    /// Whether this is a foot (its friction against the ground is a dynamics parameter).
    pub is_foot: bool,
}

const TORSO_SEGMENT: Segment = Segment {
    half_length_m: 0.20,
    radius_m: 0.05,
    horizontal: false,
    mass_kg: 3.665,
    inertia_kg_m2: 0.0693,
    is_foot: false,
};
const THIGH: Segment = Segment {
    half_length_m: 0.225,
    radius_m: 0.05,
    horizontal: false,
    mass_kg: 4.058,
    inertia_kg_m2: 0.0933,
    is_foot: false,
};
const SHIN: Segment = Segment {
    half_length_m: 0.25,
    radius_m: 0.04,
    horizontal: false,
    mass_kg: 2.781,
    inertia_kg_m2: 0.0723,
    is_foot: false,
};
const FOOT: Segment = Segment {
    half_length_m: 0.10,
    radius_m: 0.06,
    horizontal: true,
    mass_kg: 3.167,
    inertia_kg_m2: 0.0240,
    is_foot: true,
};

/// The seven links of Walker2d-v5, in link order.
pub const SEGMENTS: [Segment; N_LINKS] = [TORSO_SEGMENT, THIGH, SHIN, FOOT, THIGH, SHIN, FOOT];

/// Total nominal mass, kg (the sum of [`SEGMENTS`]).
pub const NOMINAL_TOTAL_MASS_KG: f64 = 3.665 + 2.0 * (4.058 + 2.781 + 3.167);

/// One hinge between a parent and a child link.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct JointSpec {
    /// Parent link index.
    pub parent: usize,
    /// Child link index.
    pub child: usize,
    /// Hinge position in the parent's frame (its geometric centre, unrotated), m.
    pub anchor_parent_m: [f64; 2],
    /// Hinge position in the child's frame, m.
    pub anchor_child_m: [f64; 2],
    /// Lower limit of the angle, rad.
    pub lower_rad: f64,
    /// Upper limit of the angle, rad.
    pub upper_rad: f64,
}

const DEG: f64 = std::f64::consts::PI / 180.0;
/// Hip and knee range in Walker2d: [-150°, 0].
const HIP_KNEE_LOWER_RAD: f64 = -150.0 * DEG;
/// Ankle range in Walker2d: ±45°.
const ANKLE_LIMIT_RAD: f64 = 45.0 * DEG;

const fn leg(thigh: usize) -> [JointSpec; 3] {
    [
        JointSpec {
            parent: TORSO,
            child: thigh,
            anchor_parent_m: [0.0, -0.20],
            anchor_child_m: [0.0, 0.225],
            lower_rad: HIP_KNEE_LOWER_RAD,
            upper_rad: 0.0,
        },
        JointSpec {
            parent: thigh,
            child: thigh + 1,
            anchor_parent_m: [0.0, -0.225],
            anchor_child_m: [0.0, 0.25],
            lower_rad: HIP_KNEE_LOWER_RAD,
            upper_rad: 0.0,
        },
        JointSpec {
            parent: thigh + 1,
            child: thigh + 2,
            anchor_parent_m: [0.0, -0.25],
            // The foot extends forward from the ankle: MuJoCo's `fromto="0 0 0.1 0.2 0 0.1"`.
            anchor_child_m: [-0.10, 0.0],
            lower_rad: -ANKLE_LIMIT_RAD,
            upper_rad: ANKLE_LIMIT_RAD,
        },
    ]
}

const RIGHT: [JointSpec; 3] = leg(1);
const LEFT: [JointSpec; 3] = leg(4);

/// The six hinges, in action order. Parents always come before children.
pub const JOINTS: [JointSpec; N_JOINTS] = [RIGHT[0], RIGHT[1], RIGHT[2], LEFT[0], LEFT[1], LEFT[2]];

/// Height of the torso centre in the nominal standing pose (MuJoCo's `init_qpos[1]`), m.
pub const RESET_ROOT_Z_M: f64 = 1.25;

/// Walker2d's motor gear: a unit action is this torque, N·m.
pub const MOTOR_GEAR_NM: f64 = 100.0;

/// Walker2d's joint damping, N·m·s/rad.
pub const WALKER2D_JOINT_DAMPING: f64 = 0.1;

/// Walker2d-v5's foot friction (both feet), the effective foot–ground coefficient.
pub const WALKER2D_FOOT_FRICTION: f64 = 1.9;

/// Friction of every other link against the ground.
pub const BODY_FRICTION: f64 = 0.9;

/// Standard gravity, m/s².
pub const GRAVITY_M_S2: f64 = 9.81;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn total_mass_is_walker2d() {
        let total: f64 = SEGMENTS.iter().map(|s| s.mass_kg).sum();
        assert!((total - 23.68).abs() < 0.005, "total {total}");
        assert!((total - NOMINAL_TOTAL_MASS_KG).abs() < 1e-12);
    }

    #[test]
    fn inertias_match_capsules_at_density_1000() {
        // Solid capsule about a transverse axis through its centre: cylinder plus two
        // hemispheres shifted by the parallel-axis theorem (what MuJoCo computes).
        for s in SEGMENTS {
            let (r, l, rho) = (s.radius_m, 2.0 * s.half_length_m, 1000.0);
            let pi = std::f64::consts::PI;
            let m_cyl = rho * pi * r * r * l;
            let m_hemi = rho * 2.0 / 3.0 * pi * r.powi(3);
            assert!((m_cyl + 2.0 * m_hemi - s.mass_kg).abs() < 0.002, "mass {s:?}");
            let i_cyl = m_cyl * (r * r / 4.0 + l * l / 12.0);
            let d = l / 2.0 + 3.0 * r / 8.0;
            let i_hemi = m_hemi * (83.0 / 320.0 * r * r + d * d);
            let i = i_cyl + 2.0 * i_hemi;
            assert!((i - s.inertia_kg_m2).abs() < 2e-4, "inertia {s:?}: {i}");
        }
    }

    #[test]
    fn standing_pose_matches_walker2d_heights() {
        // Hip 1.05, knee 0.60, ankle 0.10 (MuJoCo's fromto values), torso centre 1.25.
        let mut y = [0.0; N_LINKS];
        y[TORSO] = RESET_ROOT_Z_M;
        for j in JOINTS {
            y[j.child] = y[j.parent] + j.anchor_parent_m[1] - j.anchor_child_m[1];
        }
        let hip = y[0] - 0.20;
        let knee = y[1] - 0.225;
        let ankle = y[2] - 0.25;
        for (got, want) in [(hip, 1.05), (knee, 0.60), (ankle, 0.10), (y[3], 0.10)] {
            assert!((got - want).abs() < 1e-12, "{got} vs {want}");
        }
    }
}
