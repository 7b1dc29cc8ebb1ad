//! Figures of behaviour: the centre-out hand paths and the walker's stick figures, for any
//! [`crate::controller::Controller`] (scripted, zero, random, or a trained policy through
//! [`crate::controller::PolicyController`]), run on the rollout engine; [`request`] is
//! `engram render` as a library call; [`chart`] holds the pieces every report figure shares.
//!
//! ```no_run
//! use engram_agents::controller::ScriptedController;
//! use engram_agents::render::{draw_paths, run_centre_out};
//! use engram_envs::prelude::*;
//! use engram_envs::tasks::reach::CurlReachConfig;
//! let cfg = CurlReachConfig::default();
//! let env = make("CurlReach-v0").unwrap();
//! let mut controller = ScriptedController::new(&cfg);
//! let opts = ResetOptions::new().with("field", 1.0).with("field_b", 8.0);
//! let run = run_centre_out(env, &mut controller, &opts, 8, 0, cfg.dt_s, cfg.target_radius_m).unwrap();
//! draw_paths(&run, "CurlReach-v0 scripted", std::path::Path::new("paths.png")).unwrap();
//! ```

pub mod biped;
pub mod centre_out;
pub mod chart;
pub mod paths;
pub mod request;

pub use centre_out::{run_centre_out, CentreOutRun};
pub use paths::{draw_paths, register_font, COLOURS};
