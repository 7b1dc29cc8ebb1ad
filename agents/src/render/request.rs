//! What `engram render` draws, as a library call: a controller (scripted, zero, random or a
//! checkpoint) on a CurlReach variant (centre-out hand paths) or a PlanarBiped variant (a
//! stick-figure strip or GIF of one episode).

use super::biped::{record_biped, render_biped_strip, StandPolicy};
use super::{draw_paths, run_centre_out};
use crate::checkpoint::load_policy;
use crate::controller::{Controller, PolicyController, RandomController, ScriptedController, ZeroController};
use crate::error::AgentError;
use engram_envs::registry::make_with;
use engram_envs::space::Space;
use engram_envs::tasks::reach::{task_config, FieldKind};
use engram_envs::ResetOptions;
use std::path::PathBuf;

/// Longest walker episode drawn, steps (2 s at 125 Hz; every fall of a baseline policy fits).
pub const BIPED_MAX_STEPS: usize = 250;

/// Which controller drives the plant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ControllerChoice {
    /// Reaching: PD on the hand along a minimum-jerk path; walker: hold the standing pose.
    Scripted,
    /// No command: the passive plant.
    Zero,
    /// Uniform random commands.
    Random,
    /// A trained checkpoint (deterministic actions).
    Checkpoint,
}

/// Which field a reaching block runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FieldChoice {
    /// The env's configured field.
    Config,
    /// No field.
    Null,
    /// Curl of strength `b`.
    Curl,
    /// Shadmehr & Mussa-Ivaldi 1994 matrix.
    Smi,
    /// Force channel.
    Channel,
}

/// One figure to draw.
#[derive(Debug, Clone)]
pub struct RenderRequest {
    /// Env id (a CurlReach or PlanarBiped variant).
    pub env: String,
    /// The controller.
    pub controller: ControllerChoice,
    /// Run or checkpoint directory for [`ControllerChoice::Checkpoint`].
    pub checkpoint: Option<PathBuf>,
    /// Field of a reaching block.
    pub field: FieldChoice,
    /// Signed curl strength for [`FieldChoice::Curl`], N·s/m.
    pub b: f64,
    /// Env config (JSON object of the env's documented fields).
    pub config: serde_json::Value,
    /// Seed of the trials (trial `i` of a reaching block is seeded `seed + i`).
    pub seed: u64,
    /// Figure file (.png or .svg; .gif for the walker).
    pub out: PathBuf,
    /// Optional JSON file with the reaching block's paths and metrics.
    pub json: Option<PathBuf>,
}

impl RenderRequest {
    /// Draws the figure; returns the lines to print (per-trial metrics, the output path).
    pub fn run(&self) -> Result<Vec<String>, AgentError> {
        if self.env.starts_with("PlanarBiped") {
            return self.biped();
        }
        if !self.env.starts_with("CurlReach") {
            return Err(AgentError::Config(format!(
                "render draws CurlReach and PlanarBiped variants; `{}` is neither",
                self.env
            )));
        }
        self.reach()
    }

    fn checkpoint_controller(
        &self,
        fits: impl Fn(&str) -> bool,
        wanted: &str,
    ) -> Result<Box<dyn Controller>, AgentError> {
        let path = self
            .checkpoint
            .as_ref()
            .ok_or_else(|| AgentError::Config("--policy checkpoint needs --checkpoint PATH".into()))?;
        let loaded = load_policy(path)?;
        if !fits(&loaded.config.env) {
            return Err(AgentError::Config(format!("checkpoint was trained on {}, not {wanted}", loaded.config.env)));
        }
        Ok(Box::new(PolicyController::new(loaded, "checkpoint")))
    }

    fn reach(&self) -> Result<Vec<String>, AgentError> {
        let mut cfg = task_config(&self.env, &self.config)?;
        if self.config.get("plant").is_none() {
            cfg.plant = match self.env.as_str() {
                "CurlReachRapier-v0" => engram_sim::arm::PlantKind::Rapier,
                "CurlReachPointMass-v0" => engram_sim::arm::PlantKind::PointMass,
                _ => engram_sim::arm::PlantKind::Analytic,
            };
        }
        let env = make_with(&self.env, &self.config)?;
        let mut policy: Box<dyn Controller> = match self.controller {
            ControllerChoice::Scripted => Box::new(ScriptedController::new(&cfg)),
            ControllerChoice::Zero => Box::new(ZeroController),
            ControllerChoice::Random => Box::new(RandomController::new(env.action_space().clone(), self.seed)),
            ControllerChoice::Checkpoint => self.checkpoint_controller(|e| e == self.env, &self.env)?,
        };
        let kind = match self.field {
            FieldChoice::Config => None,
            FieldChoice::Null => Some(FieldKind::Null),
            FieldChoice::Curl => Some(FieldKind::Curl),
            FieldChoice::Smi => Some(FieldKind::ShadmehrMussaIvaldi),
            FieldChoice::Channel => Some(FieldKind::Channel),
        };
        let mut opts = ResetOptions::new();
        if let Some(k) = kind {
            opts = opts.with("field", k.code());
        }
        if self.field == FieldChoice::Curl {
            opts = opts.with("field_b", self.b);
        }
        let run = run_centre_out(env, policy.as_mut(), &opts, cfg.n_targets, self.seed, cfg.dt_s, cfg.target_radius_m)?;
        draw_paths(&run, &format!("{} · {}", self.env, policy.name()), &self.out)?;
        let mut lines: Vec<String> = run
            .metrics
            .iter()
            .map(|m| {
                format!(
                    "target {}: success {}, max lateral deviation {:+.1} mm, angle at peak velocity {:+.1}°, endpoint error {:.1} mm, movement time {:.2} s, peak speed {:.2} m/s",
                    m.target,
                    m.success,
                    m.max_lateral_deviation_m * 1e3,
                    m.angular_error_at_peak_velocity_deg,
                    m.endpoint_error_m * 1e3,
                    m.movement_time_s,
                    m.peak_speed_m_s
                )
            })
            .collect();
        if let Some(path) = &self.json {
            let doc = serde_json::json!({
                "schema_version": 1, "config": cfg, "seed": self.seed, "field_options": opts, "run": run,
            });
            crate::io::write_json(path, &doc)?;
        }
        lines.push(format!("wrote {}", self.out.display()));
        Ok(lines)
    }

    fn biped(&self) -> Result<Vec<String>, AgentError> {
        let pd = self.config.get("actuation").and_then(|v| v.as_str()) == Some("pd");
        let mut policy: Box<dyn Controller> = match self.controller {
            ControllerChoice::Scripted => Box::new(StandPolicy { pd }),
            ControllerChoice::Zero => Box::new(ZeroController),
            ControllerChoice::Random => Box::new(RandomController::new(Space::uniform_box(6, -1.0, 1.0), self.seed)),
            ControllerChoice::Checkpoint => {
                self.checkpoint_controller(|e| e.starts_with("PlanarBiped"), "a PlanarBiped env")?
            }
        };
        let frames = record_biped(&self.env, &self.config, self.seed, BIPED_MAX_STEPS, policy.as_mut())?;
        render_biped_strip(&frames, &self.out)?;
        let last = frames.last().map_or(0.0, |f| f.t_s);
        Ok(vec![format!(
            "{} · {}: {} frames over {:.2} s -> {}",
            self.env,
            policy.name(),
            frames.len(),
            last,
            self.out.display()
        )])
    }
}
