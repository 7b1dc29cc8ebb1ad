//! Names of the PlanarBiped's info entries and reset options.

use engram_sim::biped::{ParamGroup, N_PARAMS, PARAMS};

/// Torso x position, m (Walker2d's `x_position`).
pub const X_POSITION: &str = "x_position";
/// Torso height change since the nominal reset height, m (Walker2d's `z_distance_from_origin`).
pub const Z_DISTANCE: &str = "z_distance_from_origin";
/// Torso forward velocity over the last step, m/s.
pub const X_VELOCITY: &str = "x_velocity";
/// Forward (or speed-tracking) reward term.
pub const REWARD_FORWARD: &str = "reward_forward";
/// Control cost term (≤ 0).
pub const REWARD_CTRL: &str = "reward_ctrl";
/// Healthy reward term.
pub const REWARD_SURVIVE: &str = "reward_survive";
/// Index of the held-out robot simulated this episode (−1 for the training envs); also the
/// reset option that pins it.
pub const ROBOT: &str = "robot";

/// Whether parameter `i` is randomized in training (and so reported in `info`); the sensor
/// noise levels are fixed and left out.
pub fn reported(i: usize) -> bool {
    !matches!(PARAMS[i].1, ParamGroup::AngleNoise | ParamGroup::VelocityNoise)
}

/// Whether parameter `i` is physical (masses to slope): these also get a normalized entry.
pub fn physical(i: usize) -> bool {
    !matches!(
        PARAMS[i].1,
        ParamGroup::AngleNoise | ParamGroup::VelocityNoise | ParamGroup::EncoderBias(_) | ParamGroup::ActionLatency
    )
}

/// Number of parameters reported raw.
pub const N_REPORTED: usize = N_PARAMS - 2;

/// Info keys of the normalized physical parameters, in [`PARAMS`] order.
pub const NORMALIZED_KEYS: [&str; 23] = [
    "norm_mass_torso",
    "norm_mass_thigh_right",
    "norm_mass_shin_right",
    "norm_mass_foot_right",
    "norm_mass_thigh_left",
    "norm_mass_shin_left",
    "norm_mass_foot_left",
    "norm_torso_com_x",
    "norm_torso_com_z",
    "norm_damping_hip_right",
    "norm_damping_knee_right",
    "norm_damping_ankle_right",
    "norm_damping_hip_left",
    "norm_damping_knee_left",
    "norm_damping_ankle_left",
    "norm_motor_hip_right",
    "norm_motor_knee_right",
    "norm_motor_ankle_right",
    "norm_motor_hip_left",
    "norm_motor_knee_left",
    "norm_motor_ankle_left",
    "norm_foot_friction",
    "norm_slope",
];

/// Reset options accepted: every parameter name, and `robot`.
pub fn option_keys() -> Vec<&'static str> {
    PARAMS.iter().map(|(n, _)| *n).chain([ROBOT]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalized_keys_follow_the_physical_parameters() {
        let physical: Vec<usize> = (0..N_PARAMS).filter(|&i| physical(i)).collect();
        assert_eq!(physical, (0..23).collect::<Vec<_>>());
        for (k, &i) in NORMALIZED_KEYS.iter().zip(&physical) {
            let raw = PARAMS[i].0;
            let stem =
                raw.trim_end_matches("_kg").trim_end_matches("_m").trim_end_matches("_nm").trim_end_matches("_rad");
            assert_eq!(*k, format!("norm_{stem}"), "{raw}");
        }
        assert_eq!((0..N_PARAMS).filter(|&i| reported(i)).count(), N_REPORTED);
    }
}
