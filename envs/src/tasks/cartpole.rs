//! `CartPole-v1`, a port of Gymnasium's classic-control cart-pole.

use crate::env::{validate_action, validate_state, Env, EpisodeStatus, ResetOptions, StepOutcome};
use crate::error::{EnvError, EnvResult};
use crate::info::Info;
use crate::rng::NumpyPcg64;
use crate::space::Space;
use serde::{Deserialize, Serialize};

/// Physical parameters of [`CartPole`]. Defaults are Gymnasium's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CartPoleConfig {
    /// Gravitational acceleration, m/s² (> 0).
    pub gravity_m_s2: f64,
    /// Cart mass, kg (> 0).
    pub cart_mass_kg: f64,
    /// Pole mass, kg (> 0).
    pub pole_mass_kg: f64,
    /// Half the pole's length (Gymnasium's `length`), m (> 0).
    pub pole_half_length_m: f64,
    /// Magnitude of the push, N (> 0).
    pub force_mag_n: f64,
    /// Integration step, s (> 0).
    pub tau_s: f64,
    /// Cart position beyond which the episode terminates, m (> 0).
    pub x_threshold_m: f64,
    /// Pole angle beyond which the episode terminates, rad (> 0).
    pub theta_threshold_rad: f64,
    /// Sutton & Barto reward: 0 per step, −1 on termination (Gymnasium's `sutton_barto_reward`).
    pub sutton_barto_reward: bool,
}

impl Default for CartPoleConfig {
    fn default() -> Self {
        Self {
            gravity_m_s2: 9.8,
            cart_mass_kg: 1.0,
            pole_mass_kg: 0.1,
            pole_half_length_m: 0.5,
            force_mag_n: 10.0,
            tau_s: 0.02,
            x_threshold_m: 2.4,
            // Gymnasium: 12 * 2 * math.pi / 360
            theta_threshold_rad: 12.0 * 2.0 * std::f64::consts::PI / 360.0,
            sutton_barto_reward: false,
        }
    }
}

impl CartPoleConfig {
    /// Checks every field against its bound.
    pub fn validate(&self, env: &str) -> EnvResult<()> {
        let positive = [
            ("gravity_m_s2", self.gravity_m_s2),
            ("cart_mass_kg", self.cart_mass_kg),
            ("pole_mass_kg", self.pole_mass_kg),
            ("pole_half_length_m", self.pole_half_length_m),
            ("force_mag_n", self.force_mag_n),
            ("tau_s", self.tau_s),
            ("x_threshold_m", self.x_threshold_m),
            ("theta_threshold_rad", self.theta_threshold_rad),
        ];
        for (field, value) in positive {
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

/// The cart-pole balancing task (Barto, Sutton & Anderson 1983), Gymnasium's `CartPole-v1`.
///
/// ## Description
/// A pole is hinged to a cart moving on a frictionless track; pushing the cart left or right
/// keeps the pole upright.
///
/// ## Observation (`Box(4)`, f32)
/// | index | meaning | unit | range |
/// |---|---|---|---|
/// | 0 | cart position x | m | ±4.8 |
/// | 1 | cart velocity ẋ | m/s | ±inf |
/// | 2 | pole angle θ (0 = upright) | rad | ±0.418 |
/// | 3 | pole angular velocity θ̇ | rad/s | ±inf |
///
/// ## Action (`Discrete(2)`)
/// 0 pushes left with `force_mag_n`, 1 pushes right.
///
/// ## Reward
/// +1 for every step, including the terminating one.
///
/// ## Starting state
/// Every state component uniform in [−0.05, 0.05], drawn with NumPy's PCG64 exactly as
/// Gymnasium does, so `reset(Some(seed))` gives Gymnasium's initial state for that seed.
///
/// ## Episode end
/// Terminates when |θ| > 12° or |x| > 2.4 m; truncated at 500 steps by the registry's
/// `TimeLimit`.
///
/// ## Parameters
/// [`CartPoleConfig`]. No reset options.
///
/// ## Physical state
/// `[x, ẋ, θ, θ̇]` in f64 ([`Env::state`], [`Env::set_state`]).
///
/// ## Version history
/// - v1: Gymnasium 1.x semantics (Euler integration, f64 dynamics, f32 observations).
#[derive(Debug, Clone)]
pub struct CartPole {
    cfg: CartPoleConfig,
    total_mass: f64,
    polemass_length: f64,
    state: [f64; 4],
    rng: NumpyPcg64,
    status: EpisodeStatus,
    id: &'static str,
    obs_space: Space,
    act_space: Space,
}

impl CartPole {
    /// Registered id.
    pub const ID: &'static str = "CartPole-v1";
    /// Length of the physical state.
    pub const STATE_DIM: usize = 4;

    /// A cart-pole with the given parameters.
    pub fn new(cfg: CartPoleConfig) -> EnvResult<Self> {
        cfg.validate(Self::ID)?;
        let hi = [cfg.x_threshold_m as f32 * 2.0, f32::INFINITY, cfg.theta_threshold_rad as f32 * 2.0, f32::INFINITY];
        let obs_space = Space::boxed(hi.iter().map(|h| -h).collect(), hi.to_vec());
        Ok(Self {
            total_mass: cfg.pole_mass_kg + cfg.cart_mass_kg,
            polemass_length: cfg.pole_mass_kg * cfg.pole_half_length_m,
            cfg,
            state: [0.0; 4],
            rng: NumpyPcg64::from_seed(0),
            status: EpisodeStatus::NeverReset,
            id: Self::ID,
            obs_space,
            act_space: Space::Discrete { n: 2 },
        })
    }

    /// The same env registered under another id (the `NoVel` variants), so errors name it.
    pub fn with_id(mut self, id: &'static str) -> Self {
        self.id = id;
        self
    }

    #[inline]
    fn write_obs(&self, obs: &mut [f32]) {
        for (o, s) in obs.iter_mut().zip(self.state) {
            *o = s as f32;
        }
    }

    fn terminal(&self) -> bool {
        let [x, _, theta, _] = self.state;
        let (xt, tt) = (self.cfg.x_threshold_m, self.cfg.theta_threshold_rad);
        x < -xt || x > xt || theta < -tt || theta > tt
    }
}

impl Default for CartPole {
    fn default() -> Self {
        Self::new(CartPoleConfig::default()).expect("default config is valid")
    }
}

impl Env for CartPole {
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
        for s in &mut self.state {
            *s = self.rng.uniform(-0.05, 0.05);
        }
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
        let [x, x_dot, theta, theta_dot] = self.state;
        let force = if action[0] == 1.0 { c.force_mag_n } else { -c.force_mag_n };
        let costheta = theta.cos();
        let sintheta = theta.sin();
        // Same operation order as Gymnasium so the f64 results agree bit for bit.
        let temp = (force + self.polemass_length * (theta_dot * theta_dot) * sintheta) / self.total_mass;
        let thetaacc = (c.gravity_m_s2 * sintheta - costheta * temp)
            / (c.pole_half_length_m * (4.0 / 3.0 - c.pole_mass_kg * (costheta * costheta) / self.total_mass));
        let xacc = temp - self.polemass_length * thetaacc * costheta / self.total_mass;
        self.state =
            [x + c.tau_s * x_dot, x_dot + c.tau_s * xacc, theta + c.tau_s * theta_dot, theta_dot + c.tau_s * thetaacc];
        let terminated = self.terminal();
        let reward = match (c.sutton_barto_reward, terminated) {
            (false, _) => 1.0,
            (true, false) => 0.0,
            (true, true) => -1.0,
        };
        self.write_obs(obs);
        info.clear();
        let outcome = StepOutcome { reward, terminated, truncated: false };
        self.status.record(&outcome);
        Ok(outcome)
    }

    fn state(&self) -> Option<Vec<f64>> {
        Some(self.state.to_vec())
    }

    fn set_state(&mut self, state: &[f64]) -> EnvResult<()> {
        validate_state(self.id, Self::STATE_DIM, state)?;
        self.state.copy_from_slice(state);
        self.status = if self.terminal() { EpisodeStatus::Done } else { EpisodeStatus::Running };
        Ok(())
    }

    fn observe(&self, obs: &mut [f32]) -> EnvResult<()> {
        self.write_obs(obs);
        Ok(())
    }
}
