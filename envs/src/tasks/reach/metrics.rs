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
        TrialMetrics {
            target: self.target_index,
            catch: self.catch,
            success: self.success,
            max_lateral_deviation_m: max_lat,
            angular_error_at_peak_velocity_deg: peak_angle,
            endpoint_error_m: (end[0] - self.target[0]).hypot(end[1] - self.target[1]),
            movement_time_s: entry,
            peak_speed_m_s: peak,
        }
    }
}
