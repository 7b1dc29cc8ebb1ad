//! Figures of behaviour: the centre-out hand paths, for any [`Controller`] (scripted, zero,
//! random, or a trained policy through [`PolicyController`]).
//!
//! ```no_run
//! use engram_agents::render::{draw_paths, run_centre_out, ScriptedController};
//! use engram_envs::prelude::*;
//! use engram_envs::tasks::reach::CurlReachConfig;
//! let cfg = CurlReachConfig::default();
//! let mut env = make("CurlReach-v0").unwrap();
//! let mut controller = ScriptedController::new(&cfg);
//! let opts = ResetOptions::new().with("field", 1.0).with("field_b", 8.0);
//! let run = run_centre_out(env.as_mut(), &mut controller, &opts, 8, 0, cfg.dt_s, cfg.target_radius_m).unwrap();
//! draw_paths(&run, "CurlReach-v0 scripted", std::path::Path::new("paths.png")).unwrap();
//! ```

pub mod biped;
pub mod centre_out;
pub mod chart;
pub mod controller;
pub mod paths;

pub use centre_out::{run_centre_out, CentreOutRun};
pub use controller::{Controller, PolicyController, RandomController, ScriptedController, ZeroController};
pub use paths::{draw_paths, register_font, RenderError, COLOURS};
