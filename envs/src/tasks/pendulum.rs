//! `Pendulum-v1`, a port of Gymnasium's classic-control inverted pendulum.

use crate::env::{validate_action, validate_state, Env, EpisodeStatus, ResetOptions, StepOutcome};
use crate::error::{EnvError, EnvResult};
use crate::info::Info;
use crate::rng::NumpyPcg64;
use crate::space::Space;
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;

/// Parameters of [`Pendulum`]. Defaults are Gymnasium's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PendulumConfig {
    /// Gravitational acceleration, m/s² (Gymnasium's `g`, > 0).
    pub gravity_m_s2: f64,
    /// Pendulum mass, kg (> 0).
    pub mass_kg: f64,
    /// Pendulum length, m (> 0).
    pub length_m: f64,
    /// Integration step, s (> 0).
    pub dt_s: f64,
    /// Maximum angular speed, rad/s (> 0).
    pub max_speed_rad_s: f64,
    /// Maximum torque, N·m (> 0, an f32 as in Gymnasium's action space).
    pub max_torque_nm: f32,
}

impl Default for PendulumConfig {
    fn default() -> Self {
        Self { gravity_m_s2: 10.0, mass_kg: 1.0, length_m: 1.0, dt_s: 0.05, max_speed_rad_s: 8.0, max_torque_nm: 2.0 }
    }
}

impl PendulumConfig {
    /// Checks every field against its bound.
    pub fn validate(&self, env: &str) -> EnvResult<()> {
        let fields = [
            ("gravity_m_s2", self.gravity_m_s2),
            ("mass_kg", self.mass_kg),
            ("length_m", self.length_m),
            ("dt_s", self.dt_s),
            ("max_speed_rad_s", self.max_speed_rad_s),
            ("max_torque_nm", self.max_torque_nm as f64),
        ];
        for (field, value) in fields {
            if !(value.is_finite() && value > 0.0) {
                return Err(EnvError::InvalidConfig {
                    env: env.into(),
                    field: field.into(),
                    value: value.to_string(),
                    bound: "finite and > 0".into(),
                });
            }
        }
        Ok(())
    }
}

/// NumPy's float `%` (`np.remainder`): the result has the sign of the divisor.
#[inline]
fn np_remainder(a: f64, b: f64) -> f64 {
    let m = a % b;
    if m != 0.0 {
        if (b < 0.0) != (m < 0.0) {
            m + b
        } else {
            m
        }
    } else {
        0.0f64.copysign(b)
    }
}

/// Gymnasium's `angle_normalize`: `((x + π) % (2π)) − π`.
#[inline]
pub fn angle_normalize(x: f64) -> f64 {
    np_remainder(x + PI, 2.0 * PI) - PI
}

/// The inverted pendulum swing-up, Gymnasium's `Pendulum-v1`.
///
/// ## Description
/// A pendulum hangs from a fixed pivot; a limited torque must swing it up and hold it
/// upright.
///
/// ## Observation (`Box(3)`, f32)
/// | index | meaning | unit | range |
/// |---|---|---|---|
/// | 0 | cos θ (θ = 0 upright) | – | [−1, 1] |
/// | 1 | sin θ | – | [−1, 1] |
/// | 2 | angular velocity θ̇ | rad/s | [−8, 8] |
///
/// ## Action (`Box(1)` in [−2, 2])
/// Torque at the pivot, N·m; clipped to the bounds.
///
/// ## Reward
/// `−(normalize(θ)² + 0.1 θ̇² + 0.001 u²)`, in [−16.27, 0]. As in Gymnasium under NumPy 2
/// promotion, `0.001 u²` and the torque term of the velocity update are computed in f32
/// (the action's type) and added to f64 terms; the golden test holds this bit for bit.
///
/// ## Starting state
/// θ uniform in [−π, π], θ̇ uniform in [−1, 1] (NumPy PCG64 draws, as Gymnasium).
///
/// ## Episode end
/// Never terminates; truncated at 200 steps by the registry's `TimeLimit`.
///
/// ## Parameters
/// [`PendulumConfig`]. No reset options.
///
/// ## Physical state
/// `[θ, θ̇]` in f64; θ is never wrapped (only the cost normalizes it).
///
/// ## Version history
/// - v1: Gymnasium 1.x semantics.
#[derive(Debug, Clone)]
pub struct Pendulum {
    cfg: PendulumConfig,
    state: [f64; 2],
    rng: NumpyPcg64,
    status: EpisodeStatus,
    id: &'static str,
    obs_space: Space,
    act_space: Space,
}

impl Pendulum {
    /// Registered id.
    pub const ID: &'static str = "Pendulum-v1";
    /// Length of the physical state.
    pub const STATE_DIM: usize = 2;

    /// A pendulum with the given parameters.
    pub fn new(cfg: PendulumConfig) -> EnvResult<Self> {
        cfg.validate(Self::ID)?;
        let ms = cfg.max_speed_rad_s as f32;
        Ok(Self {
            obs_space: Space::boxed(vec![-1.0, -1.0, -ms], vec![1.0, 1.0, ms]),
            act_space: Space::boxed(vec![-cfg.max_torque_nm], vec![cfg.max_torque_nm]),
            cfg,
            state: [0.0; 2],
            rng: NumpyPcg64::from_seed(0),
            status: EpisodeStatus::NeverReset,
            id: Self::ID,
        })
    }

    /// The same env registered under another id (the `NoVel` variants), so errors name it.
    pub fn with_id(mut self, id: &'static str) -> Self {
        self.id = id;
        self
    }

    #[inline]
    fn write_obs(&self, obs: &mut [f32]) {
        let [th, thdot] = self.state;
        obs[0] = th.cos() as f32;
        obs[1] = th.sin() as f32;
        obs[2] = thdot as f32;
    }
}

impl Default for Pendulum {
    fn default() -> Self {
        Self::new(PendulumConfig::default()).expect("default config is valid")
    }
}

impl Env for Pendulum {
    fn id(&self) -> &str {
        self.id
    }
    fn observation_space(&self) -> &Space {
        &self.obs_space
    }
    fn action_space(&self) -> &Space {
        &self.act_space
    }

    fn reset_into(
        &mut self,
        seed: Option<u64>,
        options: &ResetOptions,
        obs: &mut [f32],
        info: &mut Info,
    ) -> EnvResult<()> {
        options.check(self.id, &[])?;
        if let Some(s) = seed {
            self.rng = NumpyPcg64::from_seed(s);
        }
        // Gymnasium: high = [pi, 1.0]; uniform(low=-high, high=high), drawn in order.
        self.state[0] = self.rng.uniform(-PI, PI);
        self.state[1] = self.rng.uniform(-1.0, 1.0);
        self.status = EpisodeStatus::Running;
        self.write_obs(obs);
        info.clear();
        Ok(())
    }

    #[inline]
    fn step_into(&mut self, action: &[f32], obs: &mut [f32], info: &mut Info) -> EnvResult<StepOutcome> {
        self.status.check_step(self.id)?;
        validate_action(self.id, &self.act_space, action)?;
        let c = &self.cfg;
        let [th, thdot] = self.state;
        let u: f32 = action[0].clamp(-c.max_torque_nm, c.max_torque_nm);
        // NEP 50: Python-float * float32 stays float32.
        let effort = 0.001f32 * (u * u);
        let costs = angle_normalize(th).powi(2) + 0.1 * (thdot * thdot) + effort as f64;
        let torque_term = (3.0 / (c.mass_kg * c.length_m * c.length_m)) as f32 * u;
        let newthdot = thdot + (3.0 * c.gravity_m_s2 / (2.0 * c.length_m) * th.sin() + torque_term as f64) * c.dt_s;
        let newthdot = newthdot.clamp(-c.max_speed_rad_s, c.max_speed_rad_s);
        self.state = [th + newthdot * c.dt_s, newthdot];
        self.write_obs(obs);
        info.clear();
        let outcome = StepOutcome { reward: -costs, terminated: false, truncated: false };
        self.status.record(&outcome);
        Ok(outcome)
    }

    fn state(&self) -> Option<Vec<f64>> {
        Some(self.state.to_vec())
    }

    fn set_state(&mut self, state: &[f64]) -> EnvResult<()> {
        validate_state(self.id, Self::STATE_DIM, state)?;
        self.state.copy_from_slice(state);
        self.status = EpisodeStatus::Running;
        Ok(())
    }

    fn observe(&self, obs: &mut [f32]) -> EnvResult<()> {
        self.write_obs(obs);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remainder_follows_numpy_sign_rules() {
        assert_eq!(np_remainder(-1.0, 3.0), 2.0);
        assert_eq!(np_remainder(1.0, -3.0), -2.0);
        assert_eq!(np_remainder(7.0, 3.0), 1.0);
        assert!(angle_normalize(3.0 * PI).abs() - PI < 1e-12);
        assert!((angle_normalize(0.5) - 0.5).abs() < 1e-15);
    }
}
