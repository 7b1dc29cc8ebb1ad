//! `engram render`: hand paths of a controller on a reaching env, or a stick-figure strip of
//! the walker (`engram_agents::render::request`).

use anyhow::{Context, Result};
use clap::Args;
use engram_agents::render::request::{ControllerChoice, FieldChoice, RenderRequest};
use std::path::PathBuf;

/// Arguments of `engram render`.
#[derive(Debug, Args)]
pub struct RenderArgs {
    /// Env id (a CurlReach or PlanarBiped variant).
    #[arg(long, default_value = "CurlReach-v0")]
    pub env: String,
    /// Controller: scripted, zero, random, or checkpoint (with `--checkpoint`).
    #[arg(long, value_enum, default_value = "scripted")]
    pub policy: ControllerChoice,
    /// Run directory, `checkpoints/` directory or checkpoint directory for `--policy checkpoint`.
    #[arg(long)]
    pub checkpoint: Option<PathBuf>,
    /// Field of the block (reaching envs).
    #[arg(long, value_enum, default_value = "config")]
    pub field: FieldChoice,
    /// Signed curl strength for `--field curl`, N·s/m (> 0 clockwise).
    #[arg(long, default_value_t = 8.0, allow_hyphen_values = true)]
    pub b: f64,
    /// Env config as a JSON object (the env's documented fields).
    #[arg(long, default_value = "{}")]
    pub config: String,
    /// Seed of the trials (trial i is seeded seed + i).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Figure file: .png or .svg (reaching, walker strip) or .gif (walker animation).
    #[arg(long, default_value = "paths.png")]
    pub out: PathBuf,
    /// Also write the paths and per-trial metrics as JSON (reaching envs).
    #[arg(long)]
    pub json: Option<PathBuf>,
}

/// Runs `engram render`.
pub fn run(a: RenderArgs) -> Result<()> {
    let config = serde_json::from_str(&a.config).context("--config is not valid JSON")?;
    let req = RenderRequest {
        env: a.env,
        controller: a.policy,
        checkpoint: a.checkpoint,
        field: a.field,
        b: a.b,
        config,
        seed: a.seed,
        out: a.out,
        json: a.json,
    };
    for line in req.run()? {
        println!("{line}");
    }
    Ok(())
}
