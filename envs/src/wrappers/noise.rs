use super::forward_common;
use crate::env::{Env, ResetOptions, StepOutcome};
use crate::error::{EnvError, EnvResult};
use crate::info::Info;
use crate::space::Space;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// Salt mixed into the reset seed so the noise stream differs from the env's own stream.
const NOISE_SEED_SALT: u64 = 0x6e6f_6973_6521_0001;

/// Adds independent Gaussian noise with per-channel standard deviations to every observation
/// (sensor noise). The noise RNG is reseeded from the reset seed, so seeded runs repeat.
#[derive(Debug, Clone)]
pub struct ObservationNoise<E> {
    inner: E,
    std: Vec<f32>,
    rng: ChaCha8Rng,
}

impl<E: Env> ObservationNoise<E> {
    /// Wraps `inner` with one standard deviation per observation component (each ≥ 0).
    pub fn new(inner: E, std: Vec<f32>) -> EnvResult<Self> {
        let dim = inner.observation_space().flat_dim();
        if std.len() != dim {
            return Err(EnvError::InvalidConfig {
                env: inner.id().into(),
                field: "observation_noise.std".into(),
                value: format!("{} values", std.len()),
                bound: format!("exactly {dim} values (one per observation component)"),
            });
        }
        if let Some(&bad) = std.iter().find(|s| !(s.is_finite() && **s >= 0.0)) {
            return Err(EnvError::InvalidConfig {
                env: inner.id().into(),
                field: "observation_noise.std".into(),
                value: bad.to_string(),
                bound: "finite and >= 0".into(),
            });
        }
        Ok(Self { inner, std, rng: ChaCha8Rng::seed_from_u64(NOISE_SEED_SALT) })
    }

    /// Same standard deviation on every channel.
    pub fn uniform(inner: E, std: f32) -> EnvResult<Self> {
        let dim = inner.observation_space().flat_dim();
        Self::new(inner, vec![std; dim])
    }

    #[inline]
    fn add_noise(&mut self, obs: &mut [f32]) {
        for (o, &s) in obs.iter_mut().zip(&self.std) {
            if s > 0.0 {
                let z: f32 = StandardNormal.sample(&mut self.rng);
                *o += s * z;
            }
        }
    }
}

impl<E: Env> Env for ObservationNoise<E> {
    forward_common!();
    fn observation_space(&self) -> &Space {
        self.inner.observation_space()
    }
    fn action_space(&self) -> &Space {
        self.inner.action_space()
    }
    fn reset_into(
        &mut self,
        seed: Option<u64>,
        options: &ResetOptions,
        obs: &mut [f32],
        info: &mut Info,
    ) -> EnvResult<()> {
        self.inner.reset_into(seed, options, obs, info)?;
        if let Some(s) = seed {
            self.rng = ChaCha8Rng::seed_from_u64(s ^ NOISE_SEED_SALT);
        }
        self.add_noise(obs);
        Ok(())
    }
    #[inline]
    fn step_into(&mut self, action: &[f32], obs: &mut [f32], info: &mut Info) -> EnvResult<StepOutcome> {
        let o = self.inner.step_into(action, obs, info)?;
        self.add_noise(obs);
        Ok(o)
    }
}
