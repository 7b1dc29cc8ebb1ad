//! `engram train`: PPO from a TOML config with overrides, into a run directory.

use anyhow::{Context, Result};
use clap::Args;
use engram_agents::policy::PolicyKind;
use engram_agents::ppo::TrainConfig;
use engram_agents::run::{self, curves, progress::StepProgress};
use std::path::PathBuf;

/// Train a policy with PPO.
#[derive(Args, Debug)]
pub struct TrainArgs {
    /// Env id (overrides `env` of the config).
    #[arg(long)]
    pub env: Option<String>,
    /// Policy family (overrides `policy.kind`).
    #[arg(long, value_enum)]
    pub policy: Option<PolicyKind>,
    /// TOML config file (every field optional; see `scripts/configs/`).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Overrides `key=value` (dotted keys, TOML values), e.g. `--set ppo.learning_rate=1e-3`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Run directory to create (e.g. `runs/cartpole`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Continue the run in this directory from its latest checkpoint.
    #[arg(long, conflicts_with_all = ["env", "policy", "config", "set", "out"])]
    pub resume: Option<PathBuf>,
    /// Stop after this many updates (for tests of resume; the config is unchanged).
    #[arg(long, hide = true)]
    pub stop_after: Option<usize>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Train N seeds (seed, seed+1, …) in this process, each into `<out>/seed-K`.
    #[arg(long, conflicts_with = "resume")]
    pub seeds: Option<usize>,
    /// Worker threads for `--seeds` (default: the machine's cores).
    #[arg(long, requires = "seeds")]
    pub threads: Option<usize>,
}

/// Runs `engram train`.
pub fn run(args: TrainArgs) -> Result<()> {
    let (mut trainer, dir, mut log) = match &args.resume {
        Some(dir) => {
            let (t, log) = run::resume(dir).with_context(|| format!("resuming {}", dir.display()))?;
            (t, dir.clone(), log)
        }
        None => {
            let text = crate::common::config_text(args.config.as_deref())?;
            let cfg = TrainConfig::from_toml_for(&text, args.env.as_deref(), args.policy, &args.set)?;
            let dir = args.out.clone().context("--out runs/NAME is required (or --resume)")?;
            if let Some(n) = args.seeds {
                let threads =
                    args.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |t| t.get()));
                println!(
                    "{}",
                    run::seeds_summary(&run::train_seeds(&cfg, &dir, n, threads, args.stop_after, args.quiet)?)
                );
                return Ok(());
            }
            let (t, log) = run::create(cfg, &dir)?;
            (t, dir, log)
        }
    };
    let total = trainer.cfg.num_updates() as u64 * (trainer.cfg.ppo.n_envs * trainer.cfg.ppo.n_steps) as u64;
    let mut bar = StepProgress::new(&dir.display().to_string(), total, trainer.global_step, args.quiet, false);
    let hook = Some(engram_agents::inspect::lyapunov_report::train_lyapunov_hook as run::TrainHook);
    let (ckpt, finished) = run::train_loop(&mut trainer, &dir, &mut log, args.stop_after, hook, &mut |m, sps| {
        bar.update(m.global_step, sps, m.return_mean)
    })?;
    bar.finish(finished);
    if !finished {
        return Ok(());
    }
    if let Err(e) = curves::write_curves(&dir, &format!("{} {}", trainer.cfg.env, trainer.cfg.policy.kind.as_str())) {
        eprintln!("warning: no learning-curve figure: {e}");
    }
    println!("{}", run::run_summary(&trainer, &dir, &ckpt));
    Ok(())
}
