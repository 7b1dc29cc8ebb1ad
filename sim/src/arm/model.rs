//! The closed-form dynamics of the planar two-link arm.
//!
//! With `q = [q1, q2]` (shoulder absolute, elbow relative) and inertias about the centres of
//! mass, the equations of motion are `M(q) q̈ + C(q, q̇) = τ + Jᵀ(q) F_hand` with
//!
//! ```text
//! a1 = I1 + I2 + m1 r1² + m2 (l1² + r2²),   a2 = m2 l1 r2,   a3 = I2 + m2 r2²
//! M  = [[a1 + 2 a2 cos q2, a3 + a2 cos q2], [a3 + a2 cos q2, a3]]
//! C  = [−a2 sin q2 (2 q̇1 q̇2 + q̇2²), a2 sin q2 q̇1²]
//! ```
//!
//! (e.g. Li & Todorov 2004; Shadmehr & Wise 2005, ch. 9).

use super::params::ArmParams;

/// Sines and cosines of one posture, computed once and shared by kinematics and dynamics.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Trig {
    /// sin q1.
    pub s1: f64,
    /// cos q1.
    pub c1: f64,
    /// sin q2.
    pub s2: f64,
    /// cos q2.
    pub c2: f64,
    /// sin(q1 + q2).
    pub s12: f64,
    /// cos(q1 + q2).
    pub c12: f64,
}

impl Trig {
    /// Two `sin_cos` calls; the sum angle by the addition formulas.
    #[inline]
    pub fn new(q: [f64; 2]) -> Self {
        let (s1, c1) = q[0].sin_cos();
        let (s2, c2) = q[1].sin_cos();
        Self { s1, c1, s2, c2, s12: s1 * c2 + c1 * s2, c12: c1 * c2 - s1 * s2 }
    }
}

/// Constants of the closed-form model, derived once from [`ArmParams`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TwoLinkModel {
    /// Upper-arm length, m.
    pub l1: f64,
    /// Forearm length (shoulder-free: elbow to hand), m.
    pub l2: f64,
    a1: f64,
    a2: f64,
    a3: f64,
}

impl TwoLinkModel {
    /// The model of `p`.
    pub fn new(p: &ArmParams) -> Self {
        let (u, f) = (&p.upper, &p.fore);
        Self {
            l1: u.length_m,
            l2: f.length_m,
            a1: u.inertia_kg_m2
                + f.inertia_kg_m2
                + u.mass_kg * u.com_m * u.com_m
                + f.mass_kg * (u.length_m * u.length_m + f.com_m * f.com_m),
            a2: f.mass_kg * u.length_m * f.com_m,
            a3: f.inertia_kg_m2 + f.mass_kg * f.com_m * f.com_m,
        }
    }

    /// Hand position, m.
    #[inline]
    pub fn hand_position(&self, t: &Trig) -> [f64; 2] {
        [self.l1 * t.c1 + self.l2 * t.c12, self.l1 * t.s1 + self.l2 * t.s12]
    }

    /// The hand Jacobian `∂x/∂q`, row-major `[[∂x/∂q1, ∂x/∂q2], [∂y/∂q1, ∂y/∂q2]]`.
    #[inline]
    pub fn jacobian(&self, t: &Trig) -> [[f64; 2]; 2] {
        [[-self.l1 * t.s1 - self.l2 * t.s12, -self.l2 * t.s12], [self.l1 * t.c1 + self.l2 * t.c12, self.l2 * t.c12]]
    }

    /// Hand velocity `J q̇`, m/s.
    #[inline]
    pub fn hand_velocity(&self, t: &Trig, qd: [f64; 2]) -> [f64; 2] {
        let j = self.jacobian(t);
        [j[0][0] * qd[0] + j[0][1] * qd[1], j[1][0] * qd[0] + j[1][1] * qd[1]]
    }

    /// Joint torques equivalent to a force on the hand, `Jᵀ F`, N·m.
    #[inline]
    pub fn jacobian_transpose(&self, t: &Trig, f: [f64; 2]) -> [f64; 2] {
        let j = self.jacobian(t);
        [j[0][0] * f[0] + j[1][0] * f[1], j[0][1] * f[0] + j[1][1] * f[1]]
    }

    /// The mass matrix `M(q)`, kg·m².
    #[inline]
    pub fn mass_matrix(&self, t: &Trig) -> [[f64; 2]; 2] {
        let off = self.a3 + self.a2 * t.c2;
        [[self.a1 + 2.0 * self.a2 * t.c2, off], [off, self.a3]]
    }

    /// Coriolis and centripetal terms `C(q, q̇)`, N·m.
    #[inline]
    pub fn coriolis(&self, t: &Trig, qd: [f64; 2]) -> [f64; 2] {
        let h = self.a2 * t.s2;
        [-h * (2.0 * qd[0] * qd[1] + qd[1] * qd[1]), h * qd[0] * qd[0]]
    }

    /// Joint accelerations `M⁻¹ (τ − C)` for the total joint torque `tau`.
    #[inline]
    pub fn accelerations(&self, t: &Trig, qd: [f64; 2], tau: [f64; 2]) -> [f64; 2] {
        let m = self.mass_matrix(t);
        let c = self.coriolis(t, qd);
        let (r0, r1) = (tau[0] - c[0], tau[1] - c[1]);
        let inv_det = 1.0 / (m[0][0] * m[1][1] - m[0][1] * m[1][0]);
        [(m[1][1] * r0 - m[0][1] * r1) * inv_det, (m[0][0] * r1 - m[1][0] * r0) * inv_det]
    }

    /// Kinetic energy `½ q̇ᵀ M q̇`, J.
    pub fn kinetic_energy(&self, q: [f64; 2], qd: [f64; 2]) -> f64 {
        let m = self.mass_matrix(&Trig::new(q));
        0.5 * (m[0][0] * qd[0] * qd[0] + 2.0 * m[0][1] * qd[0] * qd[1] + m[1][1] * qd[1] * qd[1])
    }

    /// Joint angles that put the hand at `p` with the elbow flexed (`q2 > 0`), if reachable.
    pub fn inverse_kinematics(&self, p: [f64; 2]) -> Option<[f64; 2]> {
        let r2 = p[0] * p[0] + p[1] * p[1];
        let c2 = (r2 - self.l1 * self.l1 - self.l2 * self.l2) / (2.0 * self.l1 * self.l2);
        if !(-1.0..=1.0).contains(&c2) {
            return None;
        }
        let q2 = c2.acos();
        let q1 = p[1].atan2(p[0]) - (self.l2 * q2.sin()).atan2(self.l1 + self.l2 * c2);
        Some([q1, q2])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tolerance of the forward-kinematics check against the spec's rounded values, m.
    const FK_TOL_M: f64 = 1e-3;

    #[test]
    fn forward_kinematics_at_the_start_posture() {
        let m = TwoLinkModel::new(&ArmParams::default());
        let p = m.hand_position(&Trig::new([60f64.to_radians(), 90f64.to_radians()]));
        assert!((p[0] + 0.134).abs() < FK_TOL_M && (p[1] - 0.434).abs() < FK_TOL_M, "{p:?}");
        // Exact: x = 0.309 cos 60° + 0.333 cos 150°.
        let x = 0.309 * 0.5 - 0.333 * 3f64.sqrt() / 2.0;
        assert!((p[0] - x).abs() < 1e-12);
    }

    #[test]
    fn mass_matrix_is_symmetric_positive_definite() {
        for params in [ArmParams::nijhof_kouwenhoven(), ArmParams::motornet_two_dof()] {
            let m = TwoLinkModel::new(&params);
            for i in 0..=100 {
                let q2 = -std::f64::consts::PI + i as f64 * 0.0628;
                let mm = m.mass_matrix(&Trig::new([0.3, q2]));
                assert_eq!(mm[0][1], mm[1][0]);
                let det = mm[0][0] * mm[1][1] - mm[0][1] * mm[1][0];
                assert!(mm[0][0] > 0.0 && det > 0.0, "q2 {q2}: {mm:?}");
            }
        }
    }

    #[test]
    fn jacobian_matches_finite_differences_and_ik_inverts_fk() {
        let m = TwoLinkModel::new(&ArmParams::default());
        let q = [0.7, 1.3];
        let j = m.jacobian(&Trig::new(q));
        let h = 1e-6;
        for k in 0..2 {
            let mut qp = q;
            qp[k] += h;
            let mut qm = q;
            qm[k] -= h;
            let (pp, pm) = (m.hand_position(&Trig::new(qp)), m.hand_position(&Trig::new(qm)));
            for r in 0..2 {
                assert!(((pp[r] - pm[r]) / (2.0 * h) - j[r][k]).abs() < 1e-8);
            }
        }
        let back = m.inverse_kinematics(m.hand_position(&Trig::new(q))).unwrap();
        assert!((back[0] - q[0]).abs() < 1e-12 && (back[1] - q[1]).abs() < 1e-12, "{back:?}");
    }
}
