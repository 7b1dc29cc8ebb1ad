//! Gait metrics of the walker: forward speed, step length and cadence per episode, from the
//! link poses after every step (foot touchdowns counted with hysteresis on the height of each
//! foot capsule's lowest point above the flat ground).

use engram_envs::tasks::biped::PlanarBiped;
use engram_envs::Info;
use engram_sim::biped::{link_lowest_point_m, LinkPose, N_LINKS};

/// Link indices of the right and left foot.
pub const FEET: [usize; 2] = [3, 6];
/// A foot touches down when its lowest point comes within this height of the ground, m.
pub const TOUCHDOWN_M: f64 = 0.01;
/// A foot is in the air again once its lowest point is above this height, m (hysteresis).
pub const LIFTOFF_M: f64 = 0.03;

/// Gait of one episode.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct EpisodeGait {
    /// Torso displacement along x from the reset to the last step, m.
    pub distance_m: f64,
    /// Episode duration, s.
    pub duration_s: f64,
    /// Foot touchdowns (both feet) after the reset.
    pub touchdowns: u32,
}

impl EpisodeGait {
    /// Mean forward speed, m/s (0 for an empty episode).
    pub fn forward_speed_m_s(&self) -> f64 {
        if self.duration_s > 0.0 {
            self.distance_m / self.duration_s
        } else {
            0.0
        }
    }

    /// Distance per touchdown, m (NaN without touchdowns).
    pub fn step_length_m(&self) -> f64 {
        if self.touchdowns > 0 {
            self.distance_m / self.touchdowns as f64
        } else {
            f64::NAN
        }
    }

    /// Touchdowns per second (0 for an empty episode).
    pub fn cadence_hz(&self) -> f64 {
        if self.duration_s > 0.0 {
            self.touchdowns as f64 / self.duration_s
        } else {
            0.0
        }
    }
}

/// Tracks the gait of one episode from its link poses.
#[derive(Debug, Clone, Copy)]
pub struct GaitTracker {
    x0: f64,
    gait: EpisodeGait,
    down: [bool; 2],
    /// Whether each foot has touched the ground since the reset (the reset pose holds the
    /// feet 4 cm up, as Walker2d's: the first landing is not a step).
    settled: [bool; 2],
}

impl GaitTracker {
    /// Starts at the reset pose.
    pub fn new(links: &[LinkPose; N_LINKS]) -> Self {
        Self { x0: links[0][0], gait: EpisodeGait::default(), down: [true; 2], settled: [false; 2] }
    }

    /// One step of `dt_s` ending at `links`.
    pub fn step(&mut self, links: &[LinkPose; N_LINKS], dt_s: f64) {
        for (k, &f) in FEET.iter().enumerate() {
            let h = link_lowest_point_m(f, &links[f]);
            if !self.settled[k] {
                self.settled[k] = h < TOUCHDOWN_M;
            } else if !self.down[k] && h < TOUCHDOWN_M {
                self.down[k] = true;
                self.gait.touchdowns += 1;
            } else if self.down[k] && h > LIFTOFF_M {
                self.down[k] = false;
            }
        }
        self.gait.duration_s += dt_s;
        self.gait.distance_m = links[0][0] - self.x0;
    }

    /// The gait so far.
    pub fn gait(&self) -> EpisodeGait {
        self.gait
    }
}

/// Observer recording the gait and the fall of every episode of a rollout on the walker.
#[derive(Debug, Clone)]
pub struct GaitObserver {
    trackers: Vec<Option<GaitTracker>>,
    /// Whether each episode ended by a fall (termination, not the time limit).
    pub fell: Vec<bool>,
    dt_s: f64,
}

impl GaitObserver {
    /// For `n` episodes with control period `dt_s`.
    pub fn new(n: usize, dt_s: f64) -> Self {
        Self { trackers: vec![None; n], fell: vec![false; n], dt_s }
    }

    /// The gait of every episode (default for an episode never reset).
    pub fn gaits(&self) -> Vec<EpisodeGait> {
        self.trackers.iter().map(|t| t.map(|t| t.gait()).unwrap_or_default()).collect()
    }
}

impl crate::rollout::Observer<PlanarBiped> for GaitObserver {
    fn reset(&mut self, episode: usize, _obs: &[f32], _info: &Info, env: &PlanarBiped) {
        if let Some(links) = env.link_poses() {
            self.trackers[episode] = Some(GaitTracker::new(&links));
        }
    }

    fn step(&mut self, s: &crate::rollout::StepView<'_, PlanarBiped>) {
        if let (Some(t), Some(links)) = (self.trackers[s.episode].as_mut(), s.env.link_poses()) {
            t.step(&links, self.dt_s);
        }
        if s.terminated && !s.truncated {
            self.fell[s.episode] = true;
        }
    }
}

/// Mean of the finite values (NaN when there are none).
pub fn finite_mean(v: &[f64]) -> f64 {
    let f: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    if f.is_empty() {
        f64::NAN
    } else {
        f.iter().sum::<f64>() / f.len() as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use engram_sim::biped::{forward_kinematics, standing_state};

    /// The reset pose lowered onto the ground.
    fn standing() -> [LinkPose; N_LINKS] {
        let mut links = forward_kinematics(&standing_state()).0;
        for l in &mut links {
            l[1] -= 0.04;
        }
        links
    }

    #[test]
    fn the_first_landing_after_the_reset_is_not_a_step() {
        // Walker2d's reset pose holds both feet 4 cm above the ground.
        let reset = forward_kinematics(&standing_state()).0;
        for f in FEET {
            let h = link_lowest_point_m(f, &reset[f]);
            assert!((h - 0.04).abs() < 1e-9, "foot {f} at {h}");
        }
        let mut t = GaitTracker::new(&reset);
        t.step(&reset, 0.008);
        t.step(&standing(), 0.008);
        assert_eq!(t.gait().touchdowns, 0);
        assert_eq!(t.settled, [true, true]);
    }

    #[test]
    fn counts_touchdowns_with_hysteresis_and_measures_speed() {
        let ground = standing();
        let lift = |links: &mut [LinkPose; N_LINKS], f: usize, dz: f64| {
            links[f][1] += dz;
        };
        let mut t = GaitTracker::new(&ground);
        t.step(&ground, 0.0);
        let dt = 0.008;
        // 10 strides: each foot lifts 5 cm and comes back down; the torso moves 0.1 m per
        // half cycle. A 2 cm wobble (below the lift-off height) is not a step.
        let mut x = 0.0;
        for _ in 0..10 {
            for f in FEET {
                let mut l = ground;
                lift(&mut l, f, 0.05);
                x += 0.05;
                l[0][0] += x;
                t.step(&l, dt);
                let mut l = ground;
                x += 0.05;
                l[0][0] += x;
                t.step(&l, dt);
                let mut l = ground;
                lift(&mut l, f, 0.02);
                l[0][0] += x;
                t.step(&l, dt);
                let mut l = ground;
                l[0][0] += x;
                t.step(&l, dt);
            }
        }
        let g = t.gait();
        assert_eq!(g.touchdowns, 20);
        assert!((g.distance_m - 2.0).abs() < 1e-12);
        assert!((g.duration_s - 80.0 * dt).abs() < 1e-12);
        assert!((g.step_length_m() - 0.1).abs() < 1e-12);
        assert!((g.cadence_hz() - 20.0 / (80.0 * dt)).abs() < 1e-9);
        assert!((g.forward_speed_m_s() - 2.0 / (80.0 * dt)).abs() < 1e-9);
    }

    #[test]
    fn no_touchdown_gives_nan_step_length_and_finite_mean_skips_it() {
        let g = EpisodeGait { distance_m: 1.0, duration_s: 2.0, touchdowns: 0 };
        assert!(g.step_length_m().is_nan());
        assert_eq!(g.cadence_hz(), 0.0);
        assert_eq!(finite_mean(&[f64::NAN, 1.0, 3.0]), 2.0);
        assert!(finite_mean(&[f64::NAN]).is_nan());
    }
}
