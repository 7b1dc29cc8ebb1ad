//! Force fields applied to the hand.

use serde::{Deserialize, Serialize};

/// The viscous field of Shadmehr & Mussa-Ivaldi (1994), N·s/m: `F = B v`.
pub const SHADMEHR_MUSSA_IVALDI_B: [[f64; 2]; 2] = [[-10.1, -11.2], [-11.2, 11.1]];
/// Default lateral stiffness of the force channel, N/m.
pub const CHANNEL_STIFFNESS_N_M: f64 = 2000.0;
/// Default lateral damping of the force channel, N·s/m.
pub const CHANNEL_DAMPING_NS_M: f64 = 50.0;

/// A force on the hand as a function of hand position and velocity.
///
/// Curl: `F = b R v` with `R = [[0, 1], [−1, 0]]`, clockwise for `b > 0` (the force points to
/// the right of the motion), counter-clockwise for `b < 0`. A curl does no work (`F·v = 0`).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ForceField {
    /// No force.
    #[default]
    Null,
    /// Velocity-dependent curl; `b_ns_m` signed (> 0 clockwise), N·s/m.
    Curl {
        /// Signed strength, N·s/m.
        b_ns_m: f64,
    },
    /// A general viscous field `F = B v`, N·s/m (row-major).
    Viscous {
        /// The matrix `B`.
        b: [[f64; 2]; 2],
    },
    /// Error clamp: a lateral spring-damper holding the hand on the line through `origin_m`
    /// along the unit vector `direction`.
    Channel {
        /// A point of the line (the start), m.
        origin_m: [f64; 2],
        /// Unit vector along the line (start → target).
        direction: [f64; 2],
        /// Lateral stiffness, N/m.
        stiffness_n_m: f64,
        /// Lateral damping, N·s/m.
        damping_ns_m: f64,
    },
}

impl ForceField {
    /// A curl field of signed strength `b` (N·s/m, > 0 clockwise).
    pub fn curl(b_ns_m: f64) -> Self {
        ForceField::Curl { b_ns_m }
    }

    /// The Shadmehr & Mussa-Ivaldi (1994) field.
    pub fn shadmehr_mussa_ivaldi() -> Self {
        ForceField::Viscous { b: SHADMEHR_MUSSA_IVALDI_B }
    }

    /// A channel from `origin` towards `target` with the default stiffness and damping.
    pub fn channel(origin_m: [f64; 2], target_m: [f64; 2]) -> Self {
        let d = [target_m[0] - origin_m[0], target_m[1] - origin_m[1]];
        let n = d[0].hypot(d[1]).max(f64::MIN_POSITIVE);
        ForceField::Channel {
            origin_m,
            direction: [d[0] / n, d[1] / n],
            stiffness_n_m: CHANNEL_STIFFNESS_N_M,
            damping_ns_m: CHANNEL_DAMPING_NS_M,
        }
    }

    /// Whether the field never pushes.
    #[inline]
    pub fn is_null(&self) -> bool {
        matches!(self, ForceField::Null)
    }

    /// The force on the hand at position `p` (m) moving at `v` (m/s), N.
    #[inline]
    pub fn force(&self, p: [f64; 2], v: [f64; 2]) -> [f64; 2] {
        match *self {
            ForceField::Null => [0.0, 0.0],
            ForceField::Curl { b_ns_m: b } => [b * v[1], -b * v[0]],
            ForceField::Viscous { b } => [b[0][0] * v[0] + b[0][1] * v[1], b[1][0] * v[0] + b[1][1] * v[1]],
            ForceField::Channel { origin_m: o, direction: d, stiffness_n_m: k, damping_ns_m: c } => {
                // Lateral unit normal: the direction turned 90° counter-clockwise.
                let n = [-d[1], d[0]];
                let e = (p[0] - o[0]) * n[0] + (p[1] - o[1]) * n[1];
                let ed = v[0] * n[0] + v[1] * n[1];
                let f = -k * e - c * ed;
                [f * n[0], f * n[1]]
            }
        }
    }

    /// For a channel, the lateral force the hand exerts against the wall (along the
    /// counter-clockwise normal), N: the negative of the wall's force. Zero otherwise.
    #[inline]
    pub fn channel_lateral_force(&self, p: [f64; 2], v: [f64; 2]) -> f64 {
        match *self {
            ForceField::Channel { direction: d, .. } => {
                let f = self.force(p, v);
                -(f[0] * -d[1] + f[1] * d[0])
            }
            _ => 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curl_does_no_work_and_turns_clockwise_for_positive_b() {
        let f = ForceField::curl(8.0);
        for i in 0..64 {
            let a = i as f64 * 0.1;
            let v = [0.3 * a.cos(), 0.3 * a.sin()];
            let force = f.force([0.0, 0.0], v);
            assert!((force[0] * v[0] + force[1] * v[1]).abs() < 1e-15);
            // Clockwise: the cross product v × F is negative (F to the right of v).
            assert!(v[0] * force[1] - v[1] * force[0] < 0.0);
            let mirrored = ForceField::curl(-8.0).force([0.0, 0.0], v);
            assert_eq!(mirrored, [-force[0], -force[1]]);
        }
    }

    #[test]
    fn channel_pushes_back_to_the_line() {
        let ch = ForceField::channel([0.0, 0.0], [0.0, 0.1]);
        // Hand 1 cm to the right of a line pointing up: pushed left.
        let f = ch.force([0.01, 0.05], [0.0, 0.2]);
        assert!((f[0] + CHANNEL_STIFFNESS_N_M * 0.01).abs() < 1e-9 && f[1].abs() < 1e-12);
        // The hand pushes right (the clockwise side), so its lateral force on the CCW normal is negative.
        assert!(ch.channel_lateral_force([0.01, 0.05], [0.0, 0.2]) < 0.0);
    }

    #[test]
    fn field_serializes_with_a_kind_tag() {
        let s = serde_json::to_string(&ForceField::curl(8.0)).unwrap();
        assert_eq!(s, r#"{"kind":"curl","b_ns_m":8.0}"#);
    }
}
