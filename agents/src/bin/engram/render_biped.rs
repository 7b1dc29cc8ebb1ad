//! `engram render` for the PlanarBiped envs: a stick-figure strip (or GIF) of one episode.

use crate::render::{PolicyChoice, RenderArgs};
use anyhow::{bail, Context, Result};
use engram_agents::load_policy;
use engram_agents::render::biped::{record_biped, render_biped_strip, StandPolicy};
use engram_agents::render::{Controller, PolicyController, RandomController, ZeroController};
use engram_envs::space::Space;

/// Longest episode drawn, steps (2 s at 125 Hz; every fall of a baseline policy fits).
const MAX_STEPS: usize = 250;

/// Records one episode of `args.env` and draws it to `args.out` (.png or .svg strip, .gif
/// animation). `--policy scripted` holds the standing pose (PD mode) or is zero (torque).
pub fn run(args: &RenderArgs, cfg: &serde_json::Value) -> Result<()> {
    let pd = cfg.get("actuation").and_then(|v| v.as_str()) == Some("pd");
    let mut policy: Box<dyn Controller> = match args.policy {
        PolicyChoice::Scripted => Box::new(StandPolicy { pd }),
        PolicyChoice::Zero => Box::new(ZeroController),
        PolicyChoice::Random => Box::new(RandomController::new(Space::uniform_box(6, -1.0, 1.0), args.seed)),
        PolicyChoice::Checkpoint => {
            let path = args.checkpoint.as_ref().context("--policy checkpoint needs --checkpoint PATH")?;
            let loaded = load_policy(path).with_context(|| format!("loading {}", path.display()))?;
            if !loaded.config.env.starts_with("PlanarBiped") {
                bail!("checkpoint was trained on {}, not a PlanarBiped env", loaded.config.env);
            }
            Box::new(PolicyController::new(loaded, "checkpoint"))
        }
    };
    let frames = record_biped(&args.env, cfg, args.seed, MAX_STEPS, policy.as_mut())
        .with_context(|| format!("running {}", args.env))?;
    render_biped_strip(&frames, &args.out)?;
    let last = frames.last().map_or(0.0, |f| f.t_s);
    println!("{} · {}: {} frames over {:.2} s -> {}", args.env, policy.name(), frames.len(), last, args.out.display());
    Ok(())
}
