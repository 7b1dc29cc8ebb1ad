//! The tasks: classic reference envs (calibrated against Gymnasium), the physics tasks and
//! the neuroscience task battery.

pub mod battery;
pub mod biped;
pub mod cartpole;
pub mod pendulum;
pub mod reach;

use crate::error::EnvResult;
use crate::spec::{parse_config, BoxEnv, EnvSpec};
use crate::wrappers::MaskObservation;
use cartpole::{CartPole, CartPoleConfig};
use pendulum::{Pendulum, PendulumConfig};
use reach::{CurlReach, CurlReachConfig};

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

/// A CurlReach variant: the id picks the plant unless the config names one.
fn curl_reach_with(id: &str, plant: engram_sim::arm::PlantKind, cfg: &serde_json::Value) -> EnvResult<BoxEnv> {
    let mut c = parse_config::<CurlReachConfig>(id, cfg)?;
    if cfg.get("plant").is_none() {
        c.plant = plant;
    }
    Ok(Box::new(CurlReach::new(c)?))
}

fn curl_reach(cfg: &serde_json::Value) -> EnvResult<BoxEnv> {
    curl_reach_with(CurlReach::ID, engram_sim::arm::PlantKind::Analytic, cfg)
}

fn curl_reach_rapier(cfg: &serde_json::Value) -> EnvResult<BoxEnv> {
    curl_reach_with(CurlReach::RAPIER_ID, engram_sim::arm::PlantKind::Rapier, cfg)
}

fn curl_reach_muscle(cfg: &serde_json::Value) -> EnvResult<BoxEnv> {
    Ok(Box::new(CurlReach::new_muscle(parse_config::<reach::MuscleReachConfig>(reach::MUSCLE_ID, cfg)?)?))
}

fn curl_reach_point_mass(cfg: &serde_json::Value) -> EnvResult<BoxEnv> {
    curl_reach_with(CurlReach::POINT_MASS_ID, engram_sim::arm::PlantKind::PointMass, cfg)
}

/// Time limit of the CurlReach ids: above the longest default trial (231 steps), so the
/// task ends its own trials.
pub const CURL_REACH_MAX_STEPS: usize = 300;

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
    EnvSpec {
        id: CurlReach::ID,
        description: "delayed centre-out reaching, 2-link arm (closed form, RK4), curl force field",
        max_episode_steps: Some(CURL_REACH_MAX_STEPS),
        build: curl_reach,
    },
    EnvSpec {
        id: CurlReach::RAPIER_ID,
        description: "CurlReach-v0 with the arm simulated in rapier2d (multibody)",
        max_episode_steps: Some(CURL_REACH_MAX_STEPS),
        build: curl_reach_rapier,
    },
    EnvSpec {
        id: CurlReach::POINT_MASS_ID,
        description: "CurlReach-v0 with a 1 kg point mass (the RL curl-field study's plant)",
        max_episode_steps: Some(CURL_REACH_MAX_STEPS),
        build: curl_reach_point_mass,
    },
    EnvSpec {
        id: reach::MUSCLE_ID,
        description: "CurlReach-v0 on MotorNet's six-muscle arm (RigidTendonArm26): six excitations in [0, 1]",
        max_episode_steps: Some(CURL_REACH_MAX_STEPS),
        build: curl_reach_muscle,
    },
    biped::SPECS[0],
    biped::SPECS[1],
    biped::SPECS[2],
    biped::SPECS[3],
    biped::SPECS[4],
    biped::SPECS[5],
    biped::SPECS[6],
    battery::SPECS[0],
    battery::SPECS[1],
    battery::SPECS[2],
    battery::SPECS[3],
];
