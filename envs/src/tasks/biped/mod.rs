//! PlanarBiped: Walker2d-v5's walker on rapier2d, with dynamics randomization and held-out
//! robots (Siekmann et al., RSS 2020).

pub mod config;
pub mod env;
pub mod keys;

pub use config::{InfoParams, PlanarBipedConfig, RealSelection};
pub use env::PlanarBiped;

use crate::error::{EnvError, EnvResult};
use crate::spec::{parse_config, BoxEnv, EnvSpec};

/// Id of the dynamics-randomized env.
pub const DR_ID: &str = "PlanarBipedDR-v0";
/// Id of the twenty held-out robots together.
pub const REAL_ID: &str = "PlanarBipedReal-v0";
/// Ids of the held-out families R1–R4.
pub const REAL_FAMILY_IDS: [&str; 4] =
    ["PlanarBipedReal-R1-v0", "PlanarBipedReal-R2-v0", "PlanarBipedReal-R3-v0", "PlanarBipedReal-R4-v0"];

/// Time limit of every biped env, steps (Walker2d's).
pub const MAX_EPISODE_STEPS: usize = 1000;

/// The concrete env behind a biped id (no time limit), for callers that need more than the
/// `Env` trait: [`PlanarBiped::link_poses`] for drawing, [`PlanarBiped::params`].
pub fn make_planar_biped(id: &str, cfg: &serde_json::Value) -> EnvResult<PlanarBiped> {
    let Some(spec) = SPECS.iter().find(|s| s.id == id) else {
        return Err(EnvError::UnknownId { id: id.into(), known: SPECS.map(|s| s.id).join(", ") });
    };
    let mut c = parse_config::<PlanarBipedConfig>(spec.id, cfg)?;
    patch_for(spec.id, &mut c);
    PlanarBiped::new(c, spec.id)
}

/// What an id sets in the config on top of the user's.
fn patch_for(id: &str, c: &mut PlanarBipedConfig) {
    let families = [RealSelection::R1, RealSelection::R2, RealSelection::R3, RealSelection::R4];
    if id == DR_ID {
        c.randomize = true;
    } else if id == REAL_ID {
        c.real = Some(RealSelection::All);
    } else if let Some(k) = REAL_FAMILY_IDS.iter().position(|f| *f == id) {
        c.real = Some(families[k]);
    }
}

fn nominal(cfg: &serde_json::Value) -> EnvResult<BoxEnv> {
    Ok(Box::new(make_planar_biped(PlanarBiped::ID, cfg)?))
}
fn randomized(cfg: &serde_json::Value) -> EnvResult<BoxEnv> {
    Ok(Box::new(make_planar_biped(DR_ID, cfg)?))
}
fn real_all(cfg: &serde_json::Value) -> EnvResult<BoxEnv> {
    Ok(Box::new(make_planar_biped(REAL_ID, cfg)?))
}
fn real_r1(cfg: &serde_json::Value) -> EnvResult<BoxEnv> {
    Ok(Box::new(make_planar_biped(REAL_FAMILY_IDS[0], cfg)?))
}
fn real_r2(cfg: &serde_json::Value) -> EnvResult<BoxEnv> {
    Ok(Box::new(make_planar_biped(REAL_FAMILY_IDS[1], cfg)?))
}
fn real_r3(cfg: &serde_json::Value) -> EnvResult<BoxEnv> {
    Ok(Box::new(make_planar_biped(REAL_FAMILY_IDS[2], cfg)?))
}
fn real_r4(cfg: &serde_json::Value) -> EnvResult<BoxEnv> {
    Ok(Box::new(make_planar_biped(REAL_FAMILY_IDS[3], cfg)?))
}

const fn spec(
    id: &'static str,
    description: &'static str,
    build: fn(&serde_json::Value) -> EnvResult<BoxEnv>,
) -> EnvSpec {
    EnvSpec { id, description, max_episode_steps: Some(MAX_EPISODE_STEPS), build }
}

/// The registry entries of the biped envs.
pub const SPECS: [EnvSpec; 7] = [
    spec(PlanarBiped::ID, "planar walker with Walker2d-v5's body, task and dynamics (rapier2d)", nominal),
    spec(DR_ID, "PlanarBiped with dynamics randomization per episode (Siekmann et al. 2020)", randomized),
    spec(REAL_FAMILY_IDS[0], "held-out robots R1: parameters beyond the training ranges (5 robots)", real_r1),
    spec(REAL_FAMILY_IDS[1], "held-out robots R2: latency, torque lag, backlash, friction, saturation (5)", real_r2),
    spec(REAL_FAMILY_IDS[2], "held-out robots R3: quantized biased encoders, delayed finite differences (5)", real_r3),
    spec(REAL_FAMILY_IDS[3], "held-out robots R4: another simulator step, solver, contact, friction rule (5)", real_r4),
    spec(REAL_ID, "all twenty held-out robots of R1-R4", real_all),
];
