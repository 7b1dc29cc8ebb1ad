//! `engram experiment`: the scientific studies, each planned as jobs, run, and reported.

use crate::study::run_plan_local;
use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use engram_agents::experiment::curl_field::CurlFieldConfig;
use engram_agents::experiment::universality::UniversalityConfig;
use engram_agents::plan::{Plan, PLAN_FILE};
use std::path::PathBuf;

/// Which experiment.
#[derive(Subcommand)]
pub enum ExperimentCmd {
    /// Curl-field learning: pretrain → baseline → learning → washout → relearning on
    /// CurlReach, recording preparatory states; ends with the prep-shift report.
    CurlField(ExperimentArgs),
    /// Universality: RNN / GRU / LSTM agents × seeds × widths trained and probed (fixed
    /// points, Lyapunov spectra); the report compares geometry and topology by architecture.
    Universality(ExperimentArgs),
    /// Sim-to-real on the walker: {MLP, GRU, LSTM} × {randomization on, off} × seeds,
    /// evaluated on in-range dynamics and the held-out robots R1–R4; sysid probe; report.
    Sim2real(ExperimentArgs),
}

/// Arguments shared by experiments.
#[derive(Args)]
pub struct ExperimentArgs {
    /// Experiment config (TOML; see `scripts/configs/curl_field_quick.toml`).
    #[arg(long)]
    pub config: PathBuf,
    /// Study directory (plan.json, one directory per job, the report).
    #[arg(long)]
    pub out: PathBuf,
    /// Jobs at once on this machine.
    #[arg(long, default_value_t = 2)]
    pub jobs: usize,
    /// Only write plan.json (to run it with `engram run` or `engram submit --slurm`).
    #[arg(long)]
    pub plan_only: bool,
}

/// Runs an experiment end to end.
pub fn run(cmd: ExperimentCmd) -> Result<()> {
    let read = |a: &ExperimentArgs| {
        std::fs::read_to_string(&a.config).with_context(|| format!("reading {}", a.config.display()))
    };
    match cmd {
        ExperimentCmd::CurlField(a) => {
            let cfg =
                CurlFieldConfig::from_toml(&read(&a)?).with_context(|| format!("config {}", a.config.display()))?;
            run_plan(&a, Plan::new("curl-field", cfg.jobs()?))
        }
        ExperimentCmd::Universality(a) => {
            let cfg =
                UniversalityConfig::from_toml(&read(&a)?).with_context(|| format!("config {}", a.config.display()))?;
            run_plan(&a, Plan::new("universality", cfg.jobs()?))
        }
        ExperimentCmd::Sim2real(a) => crate::sim2real_report::run_experiment(&a),
    }
}

/// Writes `plan` into `--out` (refusing a different plan already there), then unless
/// `--plan-only` runs its unfinished jobs and collects the report.
pub fn run_plan(a: &ExperimentArgs, plan: Plan) -> Result<()> {
    if a.out.join(PLAN_FILE).exists() {
        let (old, _) = Plan::load(&a.out)?;
        if old.config_hash != plan.config_hash {
            bail!(
                "{} already holds a different plan (config hash {} vs {}); choose another --out",
                a.out.display(),
                old.config_hash,
                plan.config_hash
            );
        }
        eprintln!("resuming the study in {}", a.out.display());
    }
    let path = plan.save(&a.out)?;
    eprintln!("{}: {} jobs (config hash {})", path.display(), plan.jobs.len(), plan.config_hash);
    if a.plan_only {
        println!("{}", path.display());
        return Ok(());
    }
    run_plan_local(&path, a.jobs)?;
    crate::study::collect_plan(&path)
}
