//! The six-muscle arm: a two-link skeleton pulled by six rigid-tendon Hill muscles whose
//! lengths and moment arms are polynomials of the joint angles, integrated as MotorNet 0.3.0
//! integrates `RigidTendonArm26` (one explicit Euler step per 10 ms control step).

use super::hill::{hill_force, VMAX_FIBRE_LENGTHS_S};
use super::params::MuscleArmParams;
use crate::arm::{Trig, TwoLinkModel};
use crate::field::ForceField;

/// Number of muscles.
pub const N_MUSCLES: usize = 6;

/// What each muscle reports.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MuscleState {
    /// Activation in `[min_activation, 1]`.
    pub activation: f64,
    /// Fibre length, m.
    pub length_m: f64,
    /// Fibre velocity (rigid tendon: musculotendon velocity), m/s.
    pub velocity_m_s: f64,
    /// Passive force, in maximum isometric forces.
    pub passive: f64,
    /// Active force, in maximum isometric forces.
    pub active: f64,
    /// Total force, N.
    pub force_n: f64,
}

/// The full state: joints and muscles.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MuscleArmState {
    /// Joint angles (shoulder absolute, elbow relative), rad.
    pub q: [f64; 2],
    /// Joint velocities, rad/s.
    pub qd: [f64; 2],
    /// The six muscles.
    pub muscles: [MuscleState; N_MUSCLES],
}

/// MotorNet's `RigidTendonArm26` in f64.
///
/// One [`MuscleArm::step`] is one explicit Euler step of `dt_s` with MotorNet's ordering:
/// the joint accelerations come from the muscle forces of the previous step; the new
/// activation `a + ȧ·dt` (clipped to `[min_activation, 1]`) sets the new forces at the
/// *previous* step's musculotendon lengths and velocities; positions advance with the old
/// velocities, velocities with the accelerations; then joints are clipped to their limits
/// (a velocity pushing out of a limit is zeroed). The hand force (field) is evaluated once per
/// step at the start-of-step hand state.
#[derive(Debug, Clone)]
pub struct MuscleArm {
    params: MuscleArmParams,
    model: TwoLinkModel,
    state: MuscleArmState,
    /// Moment arms `[joint][muscle]` at the current posture, m.
    moment: [[f64; N_MUSCLES]; 2],
    /// Musculotendon lengths and velocities at the current posture.
    mt_len: [f64; N_MUSCLES],
    mt_vel: [f64; N_MUSCLES],
    trig: Trig,
}

impl MuscleArm {
    /// The arm with `params` (checked by the caller with [`MuscleArmParams::check`]), at rest
    /// at shoulder 0, elbow 0 until [`Self::reset`].
    pub fn new(params: MuscleArmParams) -> Self {
        let mut arm = Self {
            model: TwoLinkModel::new(&params.skeleton),
            params,
            state: MuscleArmState::default(),
            moment: [[0.0; N_MUSCLES]; 2],
            mt_len: [0.0; N_MUSCLES],
            mt_vel: [0.0; N_MUSCLES],
            trig: Trig::new([0.0; 2]),
        };
        arm.reset([0.0; 2], [0.0; 2]);
        arm
    }

    /// The parameters.
    pub fn params(&self) -> &MuscleArmParams {
        &self.params
    }

    /// Control step, s.
    pub fn dt_s(&self) -> f64 {
        self.params.dt_s
    }

    /// The state.
    pub fn state(&self) -> &MuscleArmState {
        &self.state
    }

    /// Moment arms `[joint][muscle]` at the current posture, m (positive: the muscle's tension
    /// turns the joint clockwise, i.e. MotorNet's sign: torque = −Σ force × moment arm).
    pub fn moment_arms(&self) -> &[[f64; N_MUSCLES]; 2] {
        &self.moment
    }

    /// Musculotendon lengths at the current posture, m.
    pub fn musculotendon_lengths(&self) -> &[f64; N_MUSCLES] {
        &self.mt_len
    }

    /// Fibre lengths in optimal fibre lengths and velocities in maximum velocities (10 optimal
    /// lengths/s): MotorNet's proprioceptive feedback, before delay and noise.
    pub fn proprioception(&self) -> ([f64; N_MUSCLES], [f64; N_MUSCLES]) {
        let mut len = [0.0; N_MUSCLES];
        let mut vel = [0.0; N_MUSCLES];
        for (i, (m, p)) in self.state.muscles.iter().zip(&self.params.muscles).enumerate() {
            len[i] = m.length_m / p.optimal_fibre_length_m;
            vel[i] = m.velocity_m_s / (VMAX_FIBRE_LENGTHS_S * p.optimal_fibre_length_m);
        }
        (len, vel)
    }

    fn update_geometry(&mut self) {
        let q = self.state.q;
        let qd = self.state.qd;
        let dq = [q[0] - self.params.reference_posture_rad[0], q[1] - self.params.reference_posture_rad[1]];
        for (m, p) in self.params.muscles.iter().enumerate() {
            let mut len = p.length_offset_m;
            let mut vel = 0.0;
            for j in 0..2 {
                let r = p.moment_arm_m[j] + 2.0 * p.moment_arm_slope_m_rad[j] * dq[j];
                len += (p.moment_arm_m[j] + p.moment_arm_slope_m_rad[j] * dq[j]) * dq[j];
                vel += qd[j] * r;
                self.moment[j][m] = r;
            }
            self.mt_len[m] = len;
            self.mt_vel[m] = vel;
        }
        self.trig = Trig::new(q);
    }

    /// Muscle forces from `activation` at the current geometry, into the state.
    fn set_muscles(&mut self, activation: [f64; N_MUSCLES]) {
        let slack = self.params.normalized_slack_length;
        for (m, p) in self.params.muscles.iter().enumerate() {
            let a = activation[m];
            let h = hill_force(
                a,
                self.mt_len[m],
                self.mt_vel[m],
                p.optimal_fibre_length_m,
                p.tendon_length_m,
                slack,
                p.max_isometric_force_n,
            );
            self.state.muscles[m] = MuscleState {
                activation: a,
                length_m: h.length_m,
                velocity_m_s: self.mt_vel[m],
                passive: h.passive,
                active: h.active,
                force_n: h.force_n,
            };
        }
    }

    /// Puts the arm at `q`, `qd` with every activation at `min_activation` and the forces
    /// that go with it (MotorNet's reset).
    pub fn reset(&mut self, q: [f64; 2], qd: [f64; 2]) {
        self.state.q = q;
        self.state.qd = qd;
        self.update_geometry();
        self.set_muscles([self.params.min_activation; N_MUSCLES]);
    }

    /// Overwrites joints and activations; forces follow from the geometry.
    pub fn set_state(&mut self, q: [f64; 2], qd: [f64; 2], activation: [f64; N_MUSCLES]) {
        self.state.q = q;
        self.state.qd = qd;
        self.update_geometry();
        let lo = self.params.min_activation;
        self.set_muscles(activation.map(|a| a.clamp(lo, 1.0)));
    }

    /// Clips an excitation as MotorNet does: to `[min_activation, 1]`.
    #[inline]
    pub fn clip_excitation(&self, u: f64) -> f64 {
        u.clamp(self.params.min_activation, 1.0)
    }

    /// Advances one step under `excitation` (each finite; clipped here to
    /// `[min_activation, 1]`) with `field` pushing the hand.
    pub fn step(&mut self, excitation: &[f64; N_MUSCLES], field: &ForceField) {
        let p = &self.params;
        let dt = p.dt_s;
        let (q, qd) = (self.state.q, self.state.qd);
        // Joint torques from the current forces.
        let mut tau = [-p.damping_nms_rad * qd[0], -p.damping_nms_rad * qd[1]];
        for m in 0..N_MUSCLES {
            let f = self.state.muscles[m].force_n;
            tau[0] -= f * self.moment[0][m];
            tau[1] -= f * self.moment[1][m];
        }
        if !field.is_null() {
            let hp = self.model.hand_position(&self.trig);
            let hv = self.model.hand_velocity(&self.trig, qd);
            let jt = self.model.jacobian_transpose(&self.trig, field.force(hp, hv));
            tau[0] += jt[0];
            tau[1] += jt[1];
        }
        let acc = self.model.accelerations(&self.trig, qd, tau);
        // Activation dynamics (Thelen 2003, as MotorNet), explicit Euler.
        let lo = p.min_activation;
        let activation: [f64; N_MUSCLES] = std::array::from_fn(|m| {
            let u = excitation[m].clamp(lo, 1.0);
            let a = self.state.muscles[m].activation.clamp(lo, 1.0);
            let s = 0.5 + 1.5 * a;
            let tau = if u > a { p.tau_activation_s * s } else { p.tau_deactivation_s / s };
            (a + (u - a) / tau * dt).clamp(lo, 1.0)
        });
        let lims = [p.skeleton.shoulder_limits_rad, p.skeleton.elbow_limits_rad];
        // New forces at the old geometry (MotorNet's ordering).
        self.set_muscles(activation);
        // Skeleton: explicit Euler, then the joint limits.
        for j in 0..2 {
            let mut v = qd[j] + acc[j] * dt;
            let x = q[j] + qd[j] * dt;
            v = v.clamp(-1000.0, 1000.0);
            if (v < 0.0 && x <= lims[j][0]) || (v > 0.0 && x >= lims[j][1]) {
                v = 0.0;
            }
            self.state.q[j] = x.clamp(lims[j][0], lims[j][1]);
            self.state.qd[j] = v;
        }
        self.update_geometry();
    }

    /// Hand position, m.
    #[inline]
    pub fn hand_position(&self) -> [f64; 2] {
        self.model.hand_position(&self.trig)
    }

    /// Hand velocity, m/s.
    #[inline]
    pub fn hand_velocity(&self) -> [f64; 2] {
        self.model.hand_velocity(&self.trig, self.state.qd)
    }

    /// The closed-form skeleton.
    pub fn model(&self) -> &TwoLinkModel {
        &self.model
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moment_arms_are_the_length_gradient() {
        let mut arm = MuscleArm::new(MuscleArmParams::default());
        let q = [0.9, 1.4];
        arm.reset(q, [0.0; 2]);
        let r = *arm.moment_arms();
        let h = 1e-6;
        for j in 0..2 {
            let mut qp = q;
            qp[j] += h;
            arm.reset(qp, [0.0; 2]);
            let lp = *arm.musculotendon_lengths();
            let mut qm = q;
            qm[j] -= h;
            arm.reset(qm, [0.0; 2]);
            let lm = *arm.musculotendon_lengths();
            for m in 0..N_MUSCLES {
                assert!(((lp[m] - lm[m]) / (2.0 * h) - r[j][m]).abs() < 1e-8, "joint {j} muscle {m}");
            }
        }
    }

    #[test]
    fn flexors_flex_and_extensors_extend() {
        // Shoulder flexor (pectoralis, 0) raises q1; elbow flexor (brachioradialis, 2) raises q2.
        for (m, j, sign) in [(0usize, 0usize, 1.0), (1, 0, -1.0), (2, 1, 1.0), (3, 1, -1.0)] {
            let mut arm = MuscleArm::new(MuscleArmParams::default());
            let q0 = [60f64.to_radians(), 90f64.to_radians()];
            arm.reset(q0, [0.0; 2]);
            let mut u = [0.0; N_MUSCLES];
            u[m] = 0.5;
            for _ in 0..5 {
                arm.step(&u, &ForceField::Null);
            }
            let dq = arm.state().q[j] - q0[j];
            assert!(sign * dq > 1e-3, "muscle {m}: joint {j} moved {dq}");
        }
    }
}
