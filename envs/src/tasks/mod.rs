//! The tasks: classic reference envs (calibrated against Gymnasium) and the physics tasks.

pub mod cartpole;
pub mod pendulum;

use crate::error::EnvResult;
use crate::registry::{parse_config, BoxEnv, EnvSpec};
use crate::wrappers::MaskObservation;
use cartpole::{CartPole, CartPoleConfig};
use pendulum::{Pendulum, PendulumConfig};

/// Id of the velocity-masked cart-pole.
pub const CARTPOLE_NOVEL_ID: &str = "CartPoleNoVel-v1";
/// Id of the velocity-masked pendulum.
pub const PENDULUM_NOVEL_ID: &str = "PendulumNoVel-v1";

fn cartpole(cfg: &serde_json::Value) -> EnvResult<BoxEnv> {
    Ok(Box::new(CartPole::new(parse_config::<CartPoleConfig>(CartPole::ID, cfg)?)?))
}

fn cartpole_novel(cfg: &serde_json::Value) -> EnvResult<BoxEnv> {
    let env = CartPole::new(parse_config::<CartPoleConfig>(CARTPOLE_NOVEL_ID, cfg)?)?.with_id(CARTPOLE_NOVEL_ID);
    // sb3-contrib's convention: keep x and θ.
    Ok(Box::new(MaskObservation::new(env, CARTPOLE_NOVEL_ID, &[0, 2])))
}

fn pendulum(cfg: &serde_json::Value) -> EnvResult<BoxEnv> {
    Ok(Box::new(Pendulum::new(parse_config::<PendulumConfig>(Pendulum::ID, cfg)?)?))
}

fn pendulum_novel(cfg: &serde_json::Value) -> EnvResult<BoxEnv> {
    let env = Pendulum::new(parse_config::<PendulumConfig>(PENDULUM_NOVEL_ID, cfg)?)?.with_id(PENDULUM_NOVEL_ID);
    // sb3-contrib's convention: keep cos θ and sin θ.
    Ok(Box::new(MaskObservation::new(env, PENDULUM_NOVEL_ID, &[0, 1])))
}

/// The registry table. Add a task by adding one entry here.
pub(crate) static SPECS: &[EnvSpec] = &[
    EnvSpec {
        id: CartPole::ID,
        description: "cart-pole balancing, Gymnasium's CartPole-v1",
        max_episode_steps: Some(500),
        build: cartpole,
    },
    EnvSpec {
        id: CARTPOLE_NOVEL_ID,
        description: "CartPole-v1 observing only x and θ (velocities masked)",
        max_episode_steps: Some(500),
        build: cartpole_novel,
    },
    EnvSpec {
        id: Pendulum::ID,
        description: "pendulum swing-up, Gymnasium's Pendulum-v1",
        max_episode_steps: Some(200),
        build: pendulum,
    },
    EnvSpec {
        id: PENDULUM_NOVEL_ID,
        description: "Pendulum-v1 observing only cos θ and sin θ (velocity masked)",
        max_episode_steps: Some(200),
        build: pendulum_novel,
    },
];
