//! The `engram fit` command's flags and their one library call (the binary only dispatches).

use super::{fit_new_hooked, fit_resume_hooked, CheckpointHook, FitConfig, FitResult, MetricsRow};
use crate::error::AgentError;
use std::path::PathBuf;

/// Train a recurrent network on a battery task by supervised BPTT.
#[derive(clap::Args, Debug)]
pub struct FitArgs {
    /// TOML config (see `scripts/configs/fit_*.toml`).
    #[arg(long, required_unless_present = "resume")]
    pub config: Option<PathBuf>,
    /// Run directory to create.
    #[arg(long, required_unless_present = "resume")]
    pub dir: Option<PathBuf>,
    /// Continue the run in this directory from its latest checkpoint.
    #[arg(long, conflicts_with_all = ["config", "dir"])]
    pub resume: Option<PathBuf>,
    /// Stop after this many steps of this call (a checkpoint is written there).
    #[arg(long)]
    pub stop_after: Option<u64>,
    /// No per-evaluation lines on stderr.
    #[arg(long)]
    pub quiet: bool,
}

/// Runs `engram fit`: trains (or resumes) and prints the result as JSON on stdout; `hook`
/// runs after each checkpoint when the config asks for Lyapunov exponents.
pub fn run_cli(a: FitArgs, hook: Option<CheckpointHook>) -> Result<FitResult, AgentError> {
    let quiet = a.quiet;
    let mut progress = |r: &MetricsRow| {
        if !quiet {
            eprintln!(
                "step {:>6}  loss {:.5}  eval nmse {:.5}  |g| {:.3}  {:.0} seq-steps/s",
                r.step, r.loss, r.eval_nmse, r.grad_norm, r.seq_steps_per_s
            );
        }
    };
    let r = match (a.resume, a.config, a.dir) {
        (Some(dir), _, _) => fit_resume_hooked(&dir, &mut progress, a.stop_after, hook)?,
        (None, Some(cfg), Some(dir)) => {
            fit_new_hooked(FitConfig::load(&cfg)?, &dir, &mut progress, a.stop_after, hook)?
        }
        _ => return Err(AgentError::Config("fit needs --config and --dir, or --resume DIR".into())),
    };
    println!("{}", serde_json::to_string_pretty(&r).map_err(|e| AgentError::Data(e.to_string()))?);
    Ok(r)
}
