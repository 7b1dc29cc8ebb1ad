//! `engram render`: the centre-out hand-path figure of a policy on a reaching env.

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use engram_agents::load_policy;
use engram_agents::render::{
    draw_paths, run_centre_out, Controller, PolicyController, RandomController, ScriptedController, ZeroController,
};
use engram_envs::env::ResetOptions;
use engram_envs::registry::{make_with, parse_config};
use engram_envs::tasks::reach::{CurlReachConfig, FieldKind};
use std::path::PathBuf;

/// Which controller drives the arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PolicyChoice {
    /// PD on the hand along a minimum-jerk path (reaches in the null field).
    Scripted,
    /// No command: the passive arm.
    Zero,
    /// Uniform random commands.
    Random,
    /// A trained checkpoint (`--checkpoint`), deterministic actions.
    Checkpoint,
}

/// Which field the block runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FieldChoice {
    /// The env's configured field.
    Config,
    /// No field.
    Null,
    /// Curl of strength `--b`.
    Curl,
    /// Shadmehr & Mussa-Ivaldi 1994 matrix.
    Smi,
    /// Force channel.
    Channel,
}

/// Arguments of `engram render`.
#[derive(Debug, Args)]
pub struct RenderArgs {
    /// Env id (a CurlReach variant).
    #[arg(long, default_value = "CurlReach-v0")]
    pub env: String,
    /// Controller: scripted, zero, random, or checkpoint (with `--checkpoint`).
    #[arg(long, value_enum, default_value = "scripted")]
    pub policy: PolicyChoice,
    /// Run directory, `checkpoints/` directory or checkpoint directory for `--policy checkpoint`.
    #[arg(long)]
    pub checkpoint: Option<PathBuf>,
    /// Field of the block.
    #[arg(long, value_enum, default_value = "config")]
    pub field: FieldChoice,
    /// Signed curl strength for `--field curl`, N·s/m (> 0 clockwise).
    #[arg(long, default_value_t = 8.0, allow_hyphen_values = true)]
    pub b: f64,
    /// Env config as a JSON object (the env's documented fields).
    #[arg(long, default_value = "{}")]
    pub config: String,
    /// Base seed (trial i uses seed + i).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output figure, .png or .svg.
    #[arg(long, default_value = "paths.png")]
    pub out: PathBuf,
    /// Also write the paths and metrics as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

/// Runs `engram render`.
pub fn run(args: &RenderArgs) -> Result<()> {
    let cfg_json: serde_json::Value = serde_json::from_str(&args.config).context("--config is not valid JSON")?;
    if args.env.starts_with("PlanarBiped") {
        return crate::render_biped::run(args, &cfg_json);
    }
    if !args.env.starts_with("CurlReach") {
        bail!("render draws reaching envs; `{}` is not a CurlReach variant", args.env);
    }
    let mut cfg: CurlReachConfig = parse_config(&args.env, &cfg_json)?;
    if cfg_json.get("plant").is_none() {
        cfg.plant = match args.env.as_str() {
            "CurlReachRapier-v0" => engram_sim::arm::PlantKind::Rapier,
            "CurlReachPointMass-v0" => engram_sim::arm::PlantKind::PointMass,
            _ => engram_sim::arm::PlantKind::Analytic,
        };
    }
    let mut env = make_with(&args.env, &cfg_json).with_context(|| format!("making {}", args.env))?;
    let mut policy: Box<dyn Controller> = match args.policy {
        PolicyChoice::Scripted => Box::new(ScriptedController::new(&cfg)),
        PolicyChoice::Zero => Box::new(ZeroController),
        PolicyChoice::Random => Box::new(RandomController::new(env.action_space().clone(), args.seed)),
        PolicyChoice::Checkpoint => {
            let path = args.checkpoint.as_ref().context("--policy checkpoint needs --checkpoint PATH")?;
            let loaded = load_policy(path).with_context(|| format!("loading {}", path.display()))?;
            if loaded.config.env != args.env {
                bail!("checkpoint was trained on {}, not {}", loaded.config.env, args.env);
            }
            Box::new(PolicyController::new(loaded, "checkpoint"))
        }
    };
    let mut opts = ResetOptions::new();
    let kind = match args.field {
        FieldChoice::Config => None,
        FieldChoice::Null => Some(FieldKind::Null),
        FieldChoice::Curl => Some(FieldKind::Curl),
        FieldChoice::Smi => Some(FieldKind::ShadmehrMussaIvaldi),
        FieldChoice::Channel => Some(FieldKind::Channel),
    };
    if let Some(k) = kind {
        opts = opts.with("field", k.code());
    }
    if args.field == FieldChoice::Curl {
        opts = opts.with("field_b", args.b);
    }
    let run =
        run_centre_out(env.as_mut(), policy.as_mut(), &opts, cfg.n_targets, args.seed, cfg.dt_s, cfg.target_radius_m)?;
    let title = format!("{} · {}", args.env, policy.name());
    draw_paths(&run, &title, &args.out)?;
    for m in &run.metrics {
        println!(
            "target {}: success {}, max lateral deviation {:+.1} mm, angle at peak velocity {:+.1}°, endpoint error {:.1} mm, movement time {:.2} s, peak speed {:.2} m/s",
            m.target,
            m.success,
            m.max_lateral_deviation_m * 1e3,
            m.angular_error_at_peak_velocity_deg,
            m.endpoint_error_m * 1e3,
            m.movement_time_s,
            m.peak_speed_m_s
        );
    }
    if let Some(path) = &args.json {
        let doc = serde_json::json!({
            "schema_version": 1,
            "config": cfg,
            "seed": args.seed,
            "field_options": opts,
            "run": run,
        });
        std::fs::write(path, serde_json::to_string_pretty(&doc)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    println!("wrote {}", args.out.display());
    Ok(())
}
