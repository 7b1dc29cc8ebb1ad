//! Behaviour metrics of one reaching trial, computed from the env's `info` stream.

use super::info_keys as k;
use crate::info::Info;
use serde::{Deserialize, Serialize};

/// What one trial's hand path says about the reach. Lateral quantities are signed,
/// positive to the right of the start→target direction (the side a clockwise curl pushes
/// to).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrialMetrics {
    /// Target index.
    pub target: usize,
    /// Whether this was a catch trial.
    pub catch: bool,
    /// Whether the trial ended successfully.
    pub success: bool,
    /// Signed lateral deviation of largest magnitude after the go cue, m.
    #[serde(with = "crate::serde_nan::f64_or_null")]
    pub max_lateral_deviation_m: f64,
    /// Signed angle between the hand velocity at peak speed and the target direction, deg.
    #[serde(with = "crate::serde_nan::f64_or_null")]
    pub angular_error_at_peak_velocity_deg: f64,
    /// Distance from the hand to the target at the end of the trial, m.
    #[serde(with = "crate::serde_nan::f64_or_null")]
    pub endpoint_error_m: f64,
    /// Time from the go cue to the first step inside the target radius, s (NaN if never).
    #[serde(with = "crate::serde_nan::f64_or_null")]
    pub movement_time_s: f64,
    /// Peak hand speed after the go cue, m/s.
    #[serde(with = "crate::serde_nan::f64_or_null")]
    pub peak_speed_m_s: f64,
    /// Movement duration, s: from movement onset (speed first reaches
    /// [`SPEED_THRESHOLD_FRACTION`] of its peak after the go cue) to offset (speed first falls
    /// below it again after the peak, or the end of the trial). NaN without movement.
    #[serde(default = "nan", with = "crate::serde_nan::f64_or_null")]
    pub movement_duration_s: f64,
    /// Time of peak speed as a fraction of the movement duration (0.5 = symmetric), 0–1.
    #[serde(default = "nan", with = "crate::serde_nan::f64_or_null")]
    pub peak_time_fraction: f64,
    /// Local maxima of the speed after the go cue above [`SPEED_THRESHOLD_FRACTION`] of the
    /// peak, over the whole trial (movement and hold; 1 = single-peaked throughout).
    #[serde(default)]
    pub speed_peaks: usize,
    /// Local maxima above the threshold within the movement (onset to offset, the window of
    /// `movement_duration_s`): 1 = a single-peaked primary movement; 2 or more = overlapping
    /// sub-movements. Peaks after the offset (corrective sub-movements, drift in the target
    /// during the hold) are `speed_peaks − movement_speed_peaks`.
    #[serde(default)]
    pub movement_speed_peaks: usize,
    /// Path length after the go cue over the start–target distance (1 = straight).
    #[serde(default = "nan", with = "crate::serde_nan::f64_or_null")]
    pub path_ratio: f64,
}

/// Fraction of the peak speed that marks movement onset and offset, and below which a local
/// speed maximum is not counted as a peak (10 %).
pub const SPEED_THRESHOLD_FRACTION: f64 = 0.1;

fn nan() -> f64 {
    f64::NAN
}

/// Speed-profile measures of one trial, for speeds sampled at equal steps.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpeedProfile {
    /// Movement duration in samples (onset to offset); NaN without movement.
    pub duration: f64,
    /// Peak time as a fraction of the duration; NaN without movement.
    pub peak_fraction: f64,
    /// Local maxima above the threshold over the whole trace.
    pub peaks: usize,
    /// Local maxima above the threshold from onset to offset.
    pub movement_peaks: usize,
}

/// The [`SpeedProfile`] of `speed`. Onset is the first sample at or above
/// `SPEED_THRESHOLD_FRACTION × peak`, offset the first sample after the peak below it (the
/// last sample if none); a local maximum is a sample above both the threshold and its
/// predecessor and not below its successor.
pub fn speed_profile(speed: &[f64]) -> SpeedProfile {
    let none = SpeedProfile { duration: f64::NAN, peak_fraction: f64::NAN, peaks: 0, movement_peaks: 0 };
    let Some((i_peak, &peak)) = speed.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)) else {
        return none;
    };
    if peak.is_nan() || peak <= 0.0 {
        return none;
    }
    let thr = SPEED_THRESHOLD_FRACTION * peak;
    let onset = speed.iter().position(|&s| s >= thr).unwrap_or(0);
    let offset = speed[i_peak..].iter().position(|&s| s < thr).map_or(speed.len() - 1, |j| i_peak + j);
    let n = speed.len();
    let maxima: Vec<usize> = (0..n)
        .filter(|&i| {
            let left = if i == 0 { 0.0 } else { speed[i - 1] };
            let right = if i + 1 == n { f64::NEG_INFINITY } else { speed[i + 1] };
            speed[i] >= thr && speed[i] > left && speed[i] >= right
        })
        .collect();
    let dur = (offset - onset) as f64;
    SpeedProfile {
        duration: dur,
        peak_fraction: if dur > 0.0 { (i_peak - onset) as f64 / dur } else { f64::NAN },
        peaks: maxima.len(),
        movement_peaks: maxima.iter().filter(|&&i| i >= onset && i <= offset).count(),
    }
}

/// Collects a trial's hand path from `info` and summarises it.
#[derive(Debug, Clone, Default)]
pub struct TrialRecorder {
    dt_s: f64,
    radius_m: f64,
    start: Option<[f64; 2]>,
    target: [f64; 2],
    target_index: usize,
    catch: bool,
    success: bool,
    go_step: f64,
    /// Hand positions of every recorded step (absolute), m.
    pub path: Vec<[f64; 2]>,
    /// Hand velocities of every recorded step, m/s.
    pub velocity: Vec<[f64; 2]>,
    /// Step index of every recorded sample.
    pub steps: Vec<f64>,
    /// Lateral force against a force channel at every recorded sample, N.
    pub channel_force: Vec<f64>,
}

impl TrialRecorder {
    /// A recorder for a task with control step `dt_s` and target radius `radius_m`.
    pub fn new(dt_s: f64, radius_m: f64) -> Self {
        Self { dt_s, radius_m, ..Self::default() }
    }

    /// Starts a new trial.
    pub fn clear(&mut self) {
        *self = Self::new(self.dt_s, self.radius_m);
    }

    /// Records the state described by `info` (the reset info first, then every step's).
    pub fn push(&mut self, info: &Info) {
        let get = |key: &str| info.get(key).unwrap_or(0.0);
        let p = [get(k::HAND_X), get(k::HAND_Y)];
        self.start.get_or_insert(p);
        self.target = [get(k::TARGET_X), get(k::TARGET_Y)];
        self.target_index = get(k::TARGET_INDEX) as usize;
        self.catch = get(k::CATCH_TRIAL) == 1.0;
        self.success |= get(k::SUCCESS) == 1.0;
        self.go_step = get(k::GO_STEP);
        self.path.push(p);
        self.velocity.push([get(k::HAND_VX), get(k::HAND_VY)]);
        self.steps.push(get(k::STEP));
        self.channel_force.push(get(k::CHANNEL_FORCE));
    }

    /// Force-channel adaptation index for a curl of signed strength `b_ns_m`: the slope of
    /// the lateral force the hand exerted against the channel regressed (through the origin)
    /// on the lateral force that curl would produce, `b · v_parallel`, over the samples after
    /// the go cue. 1 = the expected curl fully compensated, 0 = no compensation. NaN if the
    /// hand never moved along the channel.
    pub fn adaptation_index(&self, b_ns_m: f64) -> f64 {
        let s = self.start();
        let dx = [self.target[0] - s[0], self.target[1] - s[1]];
        let n = dx[0].hypot(dx[1]).max(f64::MIN_POSITIVE);
        let d = [dx[0] / n, dx[1] / n];
        let (mut sxy, mut sxx) = (0.0, 0.0);
        for ((v, &t), &f) in self.velocity.iter().zip(&self.steps).zip(&self.channel_force) {
            if t < self.go_step {
                continue;
            }
            // A curl pushes with −b·v_par along the counter-clockwise normal; compensating it
            // means pushing +b·v_par against the wall.
            let x = b_ns_m * (v[0] * d[0] + v[1] * d[1]);
            sxy += x * f;
            sxx += x * x;
        }
        if sxx > 0.0 {
            sxy / sxx
        } else {
            f64::NAN
        }
    }

    /// The start position (the first recorded hand position), m.
    pub fn start(&self) -> [f64; 2] {
        self.start.unwrap_or_default()
    }

    /// The target position, m.
    pub fn target(&self) -> [f64; 2] {
        self.target
    }

    /// The metrics of the recorded trial.
    pub fn metrics(&self) -> TrialMetrics {
        let s = self.start();
        let dx = [self.target[0] - s[0], self.target[1] - s[1]];
        let n = dx[0].hypot(dx[1]).max(f64::MIN_POSITIVE);
        let d = [dx[0] / n, dx[1] / n];
        let (mut max_lat, mut peak, mut peak_angle, mut entry) = (0.0f64, 0.0f64, 0.0f64, f64::NAN);
        for ((p, v), &t) in self.path.iter().zip(&self.velocity).zip(&self.steps) {
            if t < self.go_step {
                continue;
            }
            let rel = [p[0] - s[0], p[1] - s[1]];
            // Right of the direction: (d_y, −d_x).
            let lat = rel[0] * d[1] - rel[1] * d[0];
            if lat.abs() > max_lat.abs() {
                max_lat = lat;
            }
            let speed = v[0].hypot(v[1]);
            if speed > peak {
                peak = speed;
                let cross = d[0] * v[1] - d[1] * v[0];
                let dot = d[0] * v[0] + d[1] * v[1];
                peak_angle = (-cross).atan2(dot).to_degrees();
            }
            let e = (p[0] - self.target[0]).hypot(p[1] - self.target[1]);
            if entry.is_nan() && e <= self.radius_m {
                entry = (t - self.go_step) * self.dt_s;
            }
        }
        let end = self.path.last().copied().unwrap_or(s);
        let after_go = |i: &usize| self.steps[*i] >= self.go_step;
        let idx: Vec<usize> = (0..self.steps.len()).filter(after_go).collect();
        let speed: Vec<f64> = idx.iter().map(|&i| self.velocity[i][0].hypot(self.velocity[i][1])).collect();
        let prof = speed_profile(&speed);
        let length: f64 = idx
            .windows(2)
            .map(|w| {
                let (a, b) = (self.path[w[0]], self.path[w[1]]);
                (b[0] - a[0]).hypot(b[1] - a[1])
            })
            .sum();
        TrialMetrics {
            target: self.target_index,
            catch: self.catch,
            success: self.success,
            max_lateral_deviation_m: max_lat,
            angular_error_at_peak_velocity_deg: peak_angle,
            endpoint_error_m: (end[0] - self.target[0]).hypot(end[1] - self.target[1]),
            movement_time_s: entry,
            peak_speed_m_s: peak,
            movement_duration_s: prof.duration * self.dt_s,
            peak_time_fraction: prof.peak_fraction,
            speed_peaks: prof.peaks,
            movement_speed_peaks: prof.movement_peaks,
            path_ratio: length / n,
        }
    }
}

/// The kinematic targets of a subject-like 10 cm reach (issue 16; Flash & Hogan 1985,
/// Sun et al. 2022): success, peak speed, movement duration, a single speed peak near the
/// middle of the movement, a straight path.
pub mod targets {
    /// Minimum success rate in the null field.
    pub const SUCCESS_MIN: f64 = 0.95;
    /// Peak hand speed range, m/s.
    pub const PEAK_SPEED_M_S: [f64; 2] = [0.25, 0.5];
    /// Movement duration range, s.
    pub const DURATION_S: [f64; 2] = [0.3, 0.7];
    /// Range of the peak-speed time as a fraction of the movement.
    pub const PEAK_FRACTION: [f64; 2] = [0.35, 0.65];
    /// Share of trials whose movement (onset to offset) must be single-peaked with the peak
    /// inside [`PEAK_FRACTION`].
    pub const BELL_SHARE_MIN: f64 = 0.9;
    /// Maximum perpendicular deviation from the start–target line, m.
    pub const MAX_DEVIATION_M: f64 = 0.01;
    /// Maximum path length over straight distance.
    pub const PATH_RATIO_MAX: f64 = 1.1;
}

/// Kinematics of a block of (non-catch) trials against [`targets`]: medians over trials, the
/// share of bell-shaped trials, and whether each target is met.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct KinematicsSummary {
    /// Number of trials.
    pub trials: usize,
    /// Success rate, 0–1.
    pub success_rate: f64,
    /// Median peak speed, m/s.
    #[serde(with = "crate::serde_nan::f64_or_null")]
    pub peak_speed_m_s: f64,
    /// Median movement duration (onset to offset at 10 % of peak speed), s.
    #[serde(with = "crate::serde_nan::f64_or_null")]
    pub duration_s: f64,
    /// Median peak-speed time as a fraction of the movement, 0–1.
    #[serde(with = "crate::serde_nan::f64_or_null")]
    pub peak_time_fraction: f64,
    /// Share of trials whose movement (onset to offset) has exactly one speed peak, 0–1.
    #[serde(default)]
    pub movement_single_peak_share: f64,
    /// Share of trials with exactly one speed peak over the whole trial, hold included, 0–1.
    pub single_peak_share: f64,
    /// Share of trials whose movement has one speed peak, inside [`targets::PEAK_FRACTION`], 0–1.
    pub bell_share: f64,
    /// Median |max perpendicular deviation|, m.
    #[serde(with = "crate::serde_nan::f64_or_null")]
    pub max_deviation_m: f64,
    /// Median path ratio (path length / straight distance, ≥ 1).
    #[serde(with = "crate::serde_nan::f64_or_null")]
    pub path_ratio: f64,
    /// Success target met.
    pub ok_success: bool,
    /// Peak-speed target met.
    pub ok_peak_speed: bool,
    /// Duration target met.
    pub ok_duration: bool,
    /// Single-peaked movement, peak in the middle (share ≥ [`targets::BELL_SHARE_MIN`]).
    pub ok_bell: bool,
    /// Straight: median deviation ≤ 1 cm or median path ratio ≤ 1.1.
    pub ok_straight: bool,
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => 0.5 * (v[n / 2 - 1] + v[n / 2]),
    }
}

impl KinematicsSummary {
    /// The summary of `trials` (catch trials skipped; medians over finite values).
    pub fn of(trials: &[TrialMetrics]) -> Self {
        let t: Vec<&TrialMetrics> = trials.iter().filter(|m| !m.catch).collect();
        let n = t.len().max(1) as f64;
        let med = |f: &dyn Fn(&TrialMetrics) -> f64| {
            let mut v: Vec<f64> = t.iter().map(|m| f(m)).filter(|x| x.is_finite()).collect();
            median(&mut v)
        };
        let share = |f: &dyn Fn(&TrialMetrics) -> bool| t.iter().filter(|m| f(m)).count() as f64 / n;
        let within = |x: f64, r: [f64; 2]| x >= r[0] && x <= r[1];
        let success_rate = share(&|m| m.success);
        let peak_speed_m_s = med(&|m| m.peak_speed_m_s);
        let duration_s = med(&|m| m.movement_duration_s);
        let bell_share =
            share(&|m| m.movement_speed_peaks == 1 && within(m.peak_time_fraction, targets::PEAK_FRACTION));
        let max_deviation_m = med(&|m| m.max_lateral_deviation_m.abs());
        let path_ratio = med(&|m| m.path_ratio);
        Self {
            trials: t.len(),
            success_rate,
            peak_speed_m_s,
            duration_s,
            peak_time_fraction: med(&|m| m.peak_time_fraction),
            movement_single_peak_share: share(&|m| m.movement_speed_peaks == 1),
            single_peak_share: share(&|m| m.speed_peaks == 1),
            bell_share,
            max_deviation_m,
            path_ratio,
            ok_success: success_rate >= targets::SUCCESS_MIN,
            ok_peak_speed: within(peak_speed_m_s, targets::PEAK_SPEED_M_S),
            ok_duration: within(duration_s, targets::DURATION_S),
            ok_bell: bell_share >= targets::BELL_SHARE_MIN,
            ok_straight: max_deviation_m <= targets::MAX_DEVIATION_M || path_ratio <= targets::PATH_RATIO_MAX,
        }
    }

    /// Every target met.
    pub fn all_ok(&self) -> bool {
        self.ok_success && self.ok_peak_speed && self.ok_duration && self.ok_bell && self.ok_straight
    }
}
