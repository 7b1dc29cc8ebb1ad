//! The rigid-tendon Hill muscle of Kistemaker, Wong & Gribble (2010) as MotorNet 0.3.0 uses
//! it (`RigidTendonHillMuscle`): force–length, force–velocity and a quadratic passive element.

/// Passive-element curvature constant: `k_pe = 1 / (1.66 − slack)²`.
const PE_LIMIT: f64 = 1.66;
/// Width of the active force–length parabola, squared: `f_l = 1 − (l − 1)² / 0.66²`.
const FL_WIDTH_SQ: f64 = 0.66 * 0.66;
/// Floor of the active force–length factor.
const MIN_FLCE: f64 = 0.01;
/// Slope of the eccentric branch at high velocity.
const S_AS: f64 = 0.001;
/// Activation below which the force–velocity curvature `b_rel` grows.
const Q_CRIT: f64 = 0.3;
/// Maximum shortening velocity, in optimal fibre lengths per second.
pub const VMAX_FIBRE_LENGTHS_S: f64 = 10.0;

/// The force and its factors for one muscle at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct HillForce {
    /// Fibre length, m.
    pub length_m: f64,
    /// Passive force, in maximum isometric forces.
    pub passive: f64,
    /// Active force–length factor.
    pub force_length: f64,
    /// Active force (activation × length × velocity), in maximum isometric forces.
    pub active: f64,
    /// Total force, N.
    pub force_n: f64,
}

/// The force of a rigid-tendon Hill muscle at activation `a`, musculotendon length `mt_len`
/// and (fibre = musculotendon) velocity `vel`; lengths in m, velocities in m/s.
#[inline]
pub fn hill_force(a: f64, mt_len: f64, vel: f64, l0_ce: f64, l0_se: f64, slack_n: f64, f_max: f64) -> HillForce {
    let l0_pe = slack_n * l0_ce;
    let k_pe = 1.0 / ((PE_LIMIT - slack_n) * (PE_LIMIT - slack_n));
    let len = (mt_len - l0_se).max(0.0);
    let strain = ((len - l0_pe) / l0_ce).max(0.0);
    let len_n = len / l0_ce;
    let vel_n = vel / (VMAX_FIBRE_LENGTHS_S * l0_ce);
    let passive = k_pe * strain * strain;
    let flce = (1.0 + (-len_n * len_n + 2.0 * len_n - 1.0) / FL_WIDTH_SQ).max(MIN_FLCE);
    let a_rel = if len_n > 1.0 { 0.41 * flce } else { 0.41 };
    let b_rel = if a < Q_CRIT {
        let s = 1.0 - 0.9 * ((a - Q_CRIT) / (5e-3 - Q_CRIT));
        5.2 * s * s
    } else {
        5.2
    };
    let f_x_a = flce * a;
    let active = if vel_n < 0.0 {
        // Concentric (shortening): Hill's hyperbola.
        (vel_n * a * a_rel + f_x_a * b_rel) / (b_rel - vel_n)
    } else {
        // Eccentric (lengthening): a hyperbola matched in slope at the isometric point.
        let dfdvcon0 = a * (flce + a_rel) / b_rel;
        let p_nom = f_x_a * 0.5;
        let p_den = S_AS - dfdvcon0 * 2.0;
        let p1 = -p_nom / p_den;
        let p2 = p_nom * p_nom / p_den;
        let p3 = -1.5 * f_x_a;
        (-p1 * p3 + p1 * S_AS * vel_n + p2 - p3 * vel_n + S_AS * vel_n * vel_n) / (p1 + vel_n)
    }
    .max(0.0);
    HillForce { length_m: len, passive, force_length: flce, active, force_n: (active + passive) * f_max }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isometric_force_at_optimal_length_is_activation_times_fmax() {
        // At l = l0 (mt_len = l0 + tendon), v = 0: f_l = 1, no passive force (slack 1.4 > 1).
        let f = hill_force(0.7, 0.1 + 0.05, 0.0, 0.1, 0.05, 1.4, 1000.0);
        assert!((f.force_n - 700.0).abs() < 1e-9, "{f:?}");
        // Shortening lowers the force, lengthening raises it (up to ~1.5 f_iso).
        let short = hill_force(0.7, 0.15, -0.2, 0.1, 0.05, 1.4, 1000.0).force_n;
        let long = hill_force(0.7, 0.15, 0.2, 0.1, 0.05, 1.4, 1000.0).force_n;
        assert!(short < 700.0 && long > 700.0 && long < 1.5 * 700.0 + 1e-9, "{short} {long}");
    }
}
