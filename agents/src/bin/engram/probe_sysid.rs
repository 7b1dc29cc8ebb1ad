//! `engram probe sysid`: implicit system identification on a trained run or a sim2real study.

use anyhow::{bail, Context, Result};
use clap::Args;
use engram_agents::experiment::sysid_probe::{self, SysidProbeConfig, SysidReport};
use engram_agents::study::{Plan, PLAN_FILE};
use std::path::{Path, PathBuf};

/// Arguments of `engram probe sysid`.
#[derive(Args, Debug)]
pub struct SysidArgs {
    /// A run directory (one agent) or a study directory holding plan.json (every job).
    #[arg(long)]
    pub run: PathBuf,
    /// Env of the held-out episodes (default: PlanarBipedDR-v0 for a walker, the run's own
    /// CurlReach env with a random curl strength per episode for a reaching run).
    #[arg(long)]
    pub env: Option<String>,
    /// Held-out episodes (default 128).
    #[arg(long)]
    pub episodes: Option<usize>,
    /// Probe settings (TOML of `SysidProbeConfig`); --episodes overrides its `episodes`.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Recompute a study's probes even where sysid.json exists.
    #[arg(long)]
    pub force: bool,
}

/// The best ridge R² over time per target of one feature set, as `target: R²` text.
fn summary(r: &SysidReport, feature: &str) -> String {
    let Some(f) = r.feature(feature) else { return String::new() };
    let mut parts = vec![];
    for (k, name) in r.targets.iter().enumerate() {
        let best = f.times.iter().map(|t| t.ridge_r2.get(k).copied().unwrap_or(f64::NAN)).fold(f64::NAN, f64::max);
        parts.push(format!("{name} {best:.2}"));
    }
    parts.join(", ")
}

fn print_report(dir: &Path, r: &SysidReport) {
    println!(
        "{} ({} trained on {}, episodes on {}): best ridge R² over t",
        dir.display(),
        r.policy,
        r.train_env,
        r.env
    );
    for f in ["policy", "observation", "window", "untrained"] {
        println!("  {f:<12} {}", summary(r, f));
    }
}

/// Runs `engram probe sysid`.
pub fn run(a: SysidArgs) -> Result<()> {
    if !a.run.is_dir() {
        bail!("--run {}: no such run or study directory", a.run.display());
    }
    let mut cfg = match &a.config {
        Some(p) => toml::from_str::<SysidProbeConfig>(
            &std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?,
        )
        .with_context(|| format!("probe config {}", p.display()))?,
        None => SysidProbeConfig::default(),
    };
    if let Some(n) = a.episodes {
        cfg.episodes = n;
    }
    if a.run.join(PLAN_FILE).exists() {
        let (plan, dir) = Plan::load(&a.run)?;
        let mut done = 0;
        for job in &plan.jobs {
            let jd = dir.join(&job.out_dir);
            if engram_agents::checkpoint::resolve(&jd).is_err() {
                eprintln!("{}: no checkpoint yet, skipped", job.id);
                continue;
            }
            let report = match sysid_probe::read_report(&jd) {
                Some(r) if !a.force && a.env.is_none() => r,
                _ => sysid_probe::probe_and_write(&jd, a.env.as_deref(), &cfg)
                    .with_context(|| format!("job {}", job.id))?,
            };
            print_report(&jd, &report);
            done += 1;
        }
        if done == 0 {
            bail!("{}: no job of the study has a checkpoint yet", dir.display());
        }
        return Ok(());
    }
    let report = sysid_probe::probe_and_write(&a.run, a.env.as_deref(), &cfg)
        .with_context(|| format!("probing {}", a.run.display()))?;
    print_report(&a.run, &report);
    println!("{}", a.run.join(sysid_probe::SYSID_FILE).display());
    Ok(())
}
