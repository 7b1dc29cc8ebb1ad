//! The `info` schema of the reaching task: one constant per key, in order.

/// Distance term of the reward.
pub const REWARD_DISTANCE: &str = "reward_distance";
/// Success bonus term.
pub const REWARD_SUCCESS: &str = "reward_success";
/// Effort term.
pub const REWARD_EFFORT: &str = "reward_effort";
/// Early-movement penalty term.
pub const REWARD_EARLY_MOVE: &str = "reward_early_move";
/// Jerk (command smoothness) term.
pub const REWARD_JERK: &str = "reward_jerk";
/// Hold term: displacement from the start before the go cue.
pub const REWARD_HOLD: &str = "reward_hold";
/// In-target term: per step with the hand inside the target after the go cue.
pub const REWARD_IN_TARGET: &str = "reward_in_target";
/// Progress term: approach to the target this step, after the go cue.
pub const REWARD_PROGRESS: &str = "reward_progress";
/// Speed term: hand speed squared after the go cue.
pub const REWARD_SPEED: &str = "reward_speed";
/// Hold-speed term: hand speed while inside the target after the go cue.
pub const REWARD_HOLD_SPEED: &str = "reward_hold_speed";
/// Hand-jerk term: squared jerk of the hand after the go cue.
pub const REWARD_HAND_JERK: &str = "reward_hand_jerk";
/// Trial phase (see `env::phase`).
pub const PHASE: &str = "phase";
/// Target index.
pub const TARGET_INDEX: &str = "target_index";
/// Step at which the go cue appears.
pub const GO_STEP: &str = "go_step";
/// Steps taken in this trial.
pub const STEP: &str = "step";
/// 1 on catch trials.
pub const CATCH_TRIAL: &str = "catch_trial";
/// 1 while the field pushed during the last step.
pub const FIELD_ACTIVE: &str = "field_active";
/// Signed curl strength of this trial (0 without a curl), N·s/m.
pub const FIELD_B: &str = "field_b";
/// Hand x, m.
pub const HAND_X: &str = "hand_x";
/// Hand y, m.
pub const HAND_Y: &str = "hand_y";
/// Hand x velocity, m/s.
pub const HAND_VX: &str = "hand_vx";
/// Hand y velocity, m/s.
pub const HAND_VY: &str = "hand_vy";
/// Field force on the hand, x, N.
pub const FIELD_FX: &str = "field_fx";
/// Field force on the hand, y, N.
pub const FIELD_FY: &str = "field_fy";
/// Lateral force the hand exerts against a force channel, N.
pub const CHANNEL_FORCE: &str = "channel_force";
/// Shoulder angle (point mass: x), rad (m).
pub const Q_SHOULDER: &str = "q_shoulder";
/// Elbow angle (point mass: y), rad (m).
pub const Q_ELBOW: &str = "q_elbow";
/// Shoulder velocity, rad/s.
pub const QD_SHOULDER: &str = "qd_shoulder";
/// Elbow velocity, rad/s.
pub const QD_ELBOW: &str = "qd_elbow";
/// Target x, m.
pub const TARGET_X: &str = "target_x";
/// Target y, m.
pub const TARGET_Y: &str = "target_y";
/// 1 on the step that completed the trial successfully.
pub const SUCCESS: &str = "success";
/// 1 on the step that ended the trial for moving before the go cue.
pub const EARLY_MOVE: &str = "early_move";

/// Every key, in the order the env writes them.
pub static INFO_KEYS: [&str; 33] = [
    REWARD_DISTANCE,
    REWARD_SUCCESS,
    REWARD_EFFORT,
    REWARD_EARLY_MOVE,
    REWARD_JERK,
    REWARD_HOLD,
    REWARD_IN_TARGET,
    REWARD_PROGRESS,
    REWARD_SPEED,
    REWARD_HOLD_SPEED,
    REWARD_HAND_JERK,
    PHASE,
    TARGET_INDEX,
    GO_STEP,
    STEP,
    CATCH_TRIAL,
    FIELD_ACTIVE,
    FIELD_B,
    HAND_X,
    HAND_Y,
    HAND_VX,
    HAND_VY,
    FIELD_FX,
    FIELD_FY,
    CHANNEL_FORCE,
    Q_SHOULDER,
    Q_ELBOW,
    QD_SHOULDER,
    QD_ELBOW,
    TARGET_X,
    TARGET_Y,
    SUCCESS,
    EARLY_MOVE,
];
