//! Statics of the six-muscle arm: the excitations that hold a posture.
//!
//! At rest (zero velocity) and in steady state (activation = excitation) each muscle's force
//! is `F_max (a f_l + f_pe)`, linear in its activation, so the joint torque is `A a + c`
//! with `A[j][m] = −r_jm F_max,m f_l,m` and `c_j = −Σ_m r_jm F_max,m f_pe,m`. The least-effort
//! holding excitation minimizes `Σ (a_m − floor)²` subject to `A a + c = 0` and
//! `floor ≤ a_m ≤ 1` (a two-constraint quadratic programme, solved exactly by an active set).
//! With `floor` above MotorNet's activation minimum it is the least-effort holding pattern
//! with that much co-contraction.

use super::arm26::{MuscleArm, N_MUSCLES};
use super::hill::hill_force;
use super::params::MuscleArmParams;

/// The torque map at rest at posture `q`: `(A, c)` with joint torque `A a + c` for
/// activations `a`, N·m.
pub fn static_torque_map(params: &MuscleArmParams, q: [f64; 2]) -> ([[f64; N_MUSCLES]; 2], [f64; 2]) {
    let mut arm = MuscleArm::new(params.clone());
    arm.reset(q, [0.0; 2]);
    let r = *arm.moment_arms();
    let len = *arm.musculotendon_lengths();
    let mut a_map = [[0.0; N_MUSCLES]; 2];
    let mut c = [0.0; 2];
    for (m, p) in params.muscles.iter().enumerate() {
        let h = hill_force(
            1.0,
            len[m],
            0.0,
            p.optimal_fibre_length_m,
            p.tendon_length_m,
            params.normalized_slack_length,
            p.max_isometric_force_n,
        );
        for j in 0..2 {
            a_map[j][m] = -r[j][m] * p.max_isometric_force_n * h.force_length;
            c[j] -= r[j][m] * p.max_isometric_force_n * h.passive;
        }
    }
    (a_map, c)
}

/// The least-effort excitations (steady-state activations) that hold posture `q` at rest:
/// minimize `Σ (a_m − floor)²` subject to zero net joint torque and `floor ≤ a ≤ 1`. `floor`
/// is clamped up to the arm's `min_activation`. `None` if no feasible pattern exists.
pub fn holding_excitation(params: &MuscleArmParams, q: [f64; 2], floor: f64) -> Option<[f64; N_MUSCLES]> {
    let lo = floor.max(params.min_activation);
    let (a_map, c) = static_torque_map(params, q);
    // Variables x = a − lo ≥ 0: A x = −c − A·lo =: b.
    let b = [0, 1].map(|j| -c[j] - a_map[j].iter().sum::<f64>() * lo);
    // Active set: muscles pinned at the floor (`Some(false)`) or at 1 (`Some(true)`).
    let mut pinned: [Option<bool>; N_MUSCLES] = [None; N_MUSCLES];
    for _ in 0..4 * N_MUSCLES {
        // Least-norm solution over the free muscles: x_free = A_fᵀ (A_f A_fᵀ)⁻¹ b', with b'
        // the target minus what the muscles pinned at 1 supply.
        let mut rhs = b;
        for m in 0..N_MUSCLES {
            if pinned[m] == Some(true) {
                for j in 0..2 {
                    rhs[j] -= a_map[j][m] * (1.0 - lo);
                }
            }
        }
        let mut g = [[0.0; 2]; 2];
        for m in (0..N_MUSCLES).filter(|&m| pinned[m].is_none()) {
            for i in 0..2 {
                for k in 0..2 {
                    g[i][k] += a_map[i][m] * a_map[k][m];
                }
            }
        }
        let det = g[0][0] * g[1][1] - g[0][1] * g[1][0];
        if det.abs() < 1e-12 {
            return None;
        }
        let y = [(g[1][1] * rhs[0] - g[0][1] * rhs[1]) / det, (g[0][0] * rhs[1] - g[1][0] * rhs[0]) / det];
        let mut x = [0.0; N_MUSCLES];
        for m in 0..N_MUSCLES {
            x[m] = match pinned[m] {
                Some(true) => 1.0 - lo,
                Some(false) => 0.0,
                None => a_map[0][m] * y[0] + a_map[1][m] * y[1],
            };
        }
        // Pin the worst violator; release a pinned muscle whose multiplier has the wrong sign.
        let worst = (0..N_MUSCLES)
            .filter(|&m| pinned[m].is_none())
            .map(|m| (m, (-x[m]).max(x[m] - (1.0 - lo))))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        match worst {
            Some((m, v)) if v > 1e-12 => pinned[m] = Some(x[m] > 0.0),
            _ => {
                // KKT: the gradient of ½|x|² is x; a muscle at the floor needs Aᵀy ≤ 0 there.
                let release = (0..N_MUSCLES).find(|&m| {
                    let grad = a_map[0][m] * y[0] + a_map[1][m] * y[1];
                    match pinned[m] {
                        Some(false) => grad > 1e-12,
                        Some(true) => grad < 1.0 - lo - 1e-12,
                        None => false,
                    }
                });
                match release {
                    Some(m) => pinned[m] = None,
                    None => return Some(x.map(|v| v + lo)),
                }
            }
        }
    }
    None
}

/// The static joint stiffness `∂τ/∂q` at posture `q` under fixed activations `u`, N·m/rad
/// (central differences of the torque map, step 1e-5 rad). A stable posture needs it negative
/// definite; positive entries are the moment arms and force–length curves pushing the joint
/// further the way it moved.
pub fn static_stiffness(params: &MuscleArmParams, q: [f64; 2], u: &[f64; N_MUSCLES]) -> [[f64; 2]; 2] {
    let tau = |q: [f64; 2]| {
        let (a, c) = static_torque_map(params, q);
        [0, 1].map(|j| c[j] + (0..N_MUSCLES).map(|m| a[j][m] * u[m]).sum::<f64>())
    };
    let h = 1e-5;
    let mut k = [[0.0; 2]; 2];
    for j in 0..2 {
        let (mut qp, mut qm) = (q, q);
        qp[j] += h;
        qm[j] -= h;
        let (tp, tm) = (tau(qp), tau(qm));
        for i in 0..2 {
            k[i][j] = (tp[i] - tm[i]) / (2.0 * h);
        }
    }
    k
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::ForceField;

    fn start() -> [f64; 2] {
        [60f64.to_radians(), 90f64.to_radians()]
    }

    #[test]
    fn the_holding_pattern_zeroes_the_torque_and_beats_other_feasible_patterns() {
        let p = MuscleArmParams::default();
        for floor in [0.0, 0.05] {
            let u = holding_excitation(&p, start(), floor).unwrap();
            let (a, c) = static_torque_map(&p, start());
            for j in 0..2 {
                let tau: f64 = c[j] + (0..N_MUSCLES).map(|m| a[j][m] * u[m]).sum::<f64>();
                assert!(tau.abs() < 1e-9, "floor {floor}: joint {j} torque {tau}");
            }
            let lo = floor.max(p.min_activation);
            assert!(u.iter().all(|&x| (lo - 1e-12..=1.0).contains(&x)), "{u:?}");
            // Moving along the null space of A (a feasible direction) never lowers the cost.
            let cost = |v: &[f64; N_MUSCLES]| v.iter().map(|x| (x - lo) * (x - lo)).sum::<f64>();
            let mut rng = 12345u64;
            for _ in 0..200 {
                let mut d = [0.0; N_MUSCLES];
                for x in d.iter_mut() {
                    rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    *x = ((rng >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 0.01;
                }
                // Project d onto the null space of A (2 constraints, Gram–Schmidt).
                let (r0, r1) = (a[0], a[1]);
                let dot = |x: &[f64; N_MUSCLES], y: &[f64; N_MUSCLES]| x.iter().zip(y).map(|(p, q)| p * q).sum::<f64>();
                let k = dot(&r1, &r0) / dot(&r0, &r0);
                let e1: [f64; N_MUSCLES] = std::array::from_fn(|m| r1[m] - k * r0[m]);
                let (k0, k1) = (dot(&d, &r0) / dot(&r0, &r0), dot(&d, &e1) / dot(&e1, &e1));
                let v: [f64; N_MUSCLES] = std::array::from_fn(|m| u[m] + d[m] - k0 * r0[m] - k1 * e1[m]);
                if v.iter().all(|&x| (lo..=1.0).contains(&x)) {
                    assert!(cost(&v) >= cost(&u) - 1e-12);
                }
            }
        }
    }

    #[test]
    fn co_contraction_does_not_stiffen_the_elbow_at_the_start_posture() {
        // MotorNet's arm26: the elbow moment arms grow with flexion, so co-contraction at the
        // start posture makes the elbow's static stiffness positive (a posture that drifts
        // unless fed back), more so the harder the co-contraction; the shoulder stays stable.
        let p = MuscleArmParams::default();
        let k = |floor: f64| static_stiffness(&p, start(), &holding_excitation(&p, start(), floor).unwrap());
        let (k5, k15) = (k(0.05), k(0.15));
        assert!((k5[1][1] - 0.6815).abs() < 1e-3 && (k5[0][0] + 0.2879).abs() < 1e-3, "{k5:?}");
        assert!(k15[1][1] > 2.0 * k5[1][1] && k15[0][0] < k5[0][0], "{k15:?}");
        assert!((k5[0][1] - k5[1][0]).abs() < 1e-6, "a conservative static field is symmetric: {k5:?}");
    }

    #[test]
    fn holding_excitation_keeps_the_arm_still() {
        let p = MuscleArmParams::default();
        let u = holding_excitation(&p, start(), 0.05).unwrap();
        let mut arm = MuscleArm::new(p.clone());
        arm.reset(start(), [0.0; 2]);
        arm.set_state(start(), [0.0; 2], u);
        let h0 = arm.hand_position();
        for _ in 0..150 {
            arm.step(&u, &ForceField::Null);
        }
        let h = arm.hand_position();
        let drift = (h[0] - h0[0]).hypot(h[1] - h0[1]);
        assert!(drift < 1e-6, "drift {drift} m");
    }
}
