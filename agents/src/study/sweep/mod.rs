//! The sweep: one training config × a product grid of overrides × seeds, each job a PPO run
//! followed by a deterministic evaluation; the report gives the evaluation return per grid
//! point with a Student-t interval over seeds (the statistics convention of
//! [`crate::stats`]).
//!
//! `engram sweep --config base.toml --grid ppo.learning_rate=3e-4,1e-3 --seeds 5 --out DIR`
//! plans it from flags; `engram study sweep --config sweep.toml` from a file of this form:
//!
//! ```toml
//! seeds = 5
//! seed_base = 0
//! set = ["total_timesteps=50000"]
//! [train]            # the base training config, as for `engram train`
//! env = "CartPole-v1"
//! [[grid]]
//! key = "ppo.learning_rate"
//! values = ["3e-4", "1e-3"]
//! ```

mod report;

use super::plan::{slug, Job, JobKind};
use super::{Plan, Progress, Study};
use crate::checkpoint;
use crate::error::AgentError;
use crate::policy::ActMode;
use crate::ppo::TrainConfig;
use crate::rollout::{evaluate, EpisodeSpec};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Episodes of the deterministic evaluation that ends a training job.
pub const EVAL_EPISODES: usize = 10;
/// Offset of the evaluation seeds from the job's seed, so evaluation never reuses training
/// episodes' seeds.
pub const EVAL_SEED_OFFSET: u64 = 1_000_000;

/// One axis of the grid: a dotted config key and its values (TOML literals).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GridAxis {
    /// Dotted key, e.g. `ppo.learning_rate`.
    pub key: String,
    /// Values, as TOML literals (`3e-4`, `"gru"`).
    pub values: Vec<String>,
}

/// A sweep: a base training config, overrides, grid axes and seeds.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SweepConfig {
    /// The base training config (as for `engram train`).
    pub train: toml::Table,
    /// Overrides `key=value` applied to every job before the grid.
    pub set: Vec<String>,
    /// Grid axes; the jobs are their product (first axis slowest).
    pub grid: Vec<GridAxis>,
    /// Seeds per grid point.
    pub seeds: u64,
    /// First seed.
    pub seed_base: u64,
}

impl SweepConfig {
    /// A sweep over the training TOML `base`, with `--grid key=v1,v2` strings.
    pub fn from_flags(
        base: &str,
        grid: &[String],
        set: &[String],
        seeds: u64,
        seed_base: u64,
    ) -> Result<Self, AgentError> {
        let train: toml::Table =
            toml::from_str(base).map_err(|e| AgentError::Config(format!("base training config: {e}")))?;
        let grid = grid
            .iter()
            .map(|g| {
                let (key, values) = g
                    .split_once('=')
                    .ok_or_else(|| AgentError::Config(format!("--grid {g}: expected key=v1,v2,...")))?;
                let values: Vec<String> =
                    values.split(',').map(|v| v.trim().to_string()).filter(|v| !v.is_empty()).collect();
                Ok(GridAxis { key: key.trim().to_string(), values })
            })
            .collect::<Result<_, AgentError>>()?;
        Ok(Self { train, set: set.to_vec(), grid, seeds, seed_base })
    }

    /// The grid points, each as its list of `key=value` labels.
    pub fn points(&self) -> Vec<Vec<String>> {
        let mut points: Vec<Vec<String>> = vec![vec![]];
        for axis in &self.grid {
            points = points
                .iter()
                .flat_map(|p| axis.values.iter().map(move |v| [p.clone(), vec![format!("{}={v}", axis.key)]].concat()))
                .collect();
        }
        points
    }

    /// The jobs: grid points × seeds, each a fully resolved training config.
    pub fn jobs(&self) -> Result<Vec<Job>, AgentError> {
        if self.seeds == 0 {
            return Err(AgentError::Config("seeds must be >= 1 (got 0)".into()));
        }
        if let Some(a) = self.grid.iter().find(|a| a.values.is_empty()) {
            return Err(AgentError::Config(format!("grid axis {}: no values", a.key)));
        }
        let base = toml::to_string(&self.train).map_err(|e| AgentError::Config(e.to_string()))?;
        let mut jobs = vec![];
        for labels in &self.points() {
            for seed in self.seed_base..self.seed_base + self.seeds {
                let mut sets = self.set.clone();
                sets.extend(labels.iter().cloned());
                sets.push(format!("seed={seed}"));
                let cfg = TrainConfig::from_toml_with(&base, &sets)
                    .map_err(|e| AgentError::Config(format!("grid point {labels:?}, seed {seed}: {e}")))?;
                let config = cfg.to_toml();
                let n = jobs.len();
                let s = slug(labels);
                let id = if s.is_empty() { format!("{n:03}-seed{seed}") } else { format!("{n:03}-{s}-seed{seed}") };
                jobs.push(Job::new(id, JobKind::Train, seed, config, labels.clone()));
            }
        }
        Ok(jobs)
    }
}

/// The sweep study (see the module docs).
pub struct Sweep;

impl Study for Sweep {
    fn name(&self) -> &'static str {
        "sweep"
    }
    fn about(&self) -> &'static str {
        "a training config x grid axes x seeds; report: eval return per grid point"
    }
    fn job_kinds(&self) -> &'static [JobKind] {
        &[JobKind::Train, JobKind::Probe]
    }
    fn plan(&self, config: &str) -> Result<Vec<Job>, AgentError> {
        let cfg: SweepConfig = toml::from_str(config).map_err(|e| AgentError::Config(e.to_string()))?;
        cfg.jobs()
    }
    fn run_job(&self, job: &Job, dir: &Path, progress: Progress) -> Result<serde_json::Value, AgentError> {
        match job.kind {
            JobKind::Probe => probe_job(job),
            _ => train_job(&job.config, dir, progress),
        }
    }
    fn report(&self, plan: &Plan, dir: &Path, jobs: &[(&Job, serde_json::Value)]) -> Result<PathBuf, AgentError> {
        report::write(plan, dir, jobs)
    }
}

/// Trains a training config into `dir` (resuming from its last checkpoint) and evaluates it
/// deterministically on [`EVAL_EPISODES`] episodes; the summary of a training job.
pub fn train_job(config: &str, dir: &Path, progress: Progress) -> Result<serde_json::Value, AgentError> {
    let trainer = crate::run::train_to_end(config, dir, progress)?;
    let policy = checkpoint::load_policy(dir)?;
    let cfg = &trainer.cfg;
    let eval = evaluate(
        &policy,
        &cfg.env,
        &cfg.env_config_json(),
        &EpisodeSpec::seeded(EVAL_EPISODES, cfg.seed + EVAL_SEED_OFFSET),
        ActMode::Deterministic,
    )?;
    Ok(serde_json::json!({
        "env": cfg.env,
        "policy": cfg.policy.kind.as_str(),
        "global_step": trainer.global_step,
        "updates": trainer.update,
        "train_return_mean": trainer.return_mean(),
        "eval_return_mean": eval.mean,
        "eval_return_ci95": eval.ci95,
        "eval_returns": eval.returns,
        "eval_success_rate": eval.success_rate,
    }))
}

/// The executors' testing aid: fails while a named file exists, otherwise reports its seed.
fn probe_job(job: &Job) -> Result<serde_json::Value, AgentError> {
    let cfg: serde_json::Value = serde_json::from_str(&job.config).map_err(|e| AgentError::Config(e.to_string()))?;
    if let Some(path) = cfg["fail_while_exists"].as_str() {
        if Path::new(path).exists() {
            return Err(AgentError::Study(format!("probe job {}: {path} exists, failing on purpose", job.id)));
        }
    }
    Ok(serde_json::json!({ "eval_return_mean": job.seed as f64 }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_is_a_product_with_seeds_and_labels() {
        let cfg = SweepConfig::from_flags(
            "env = \"CartPole-v1\"\ntotal_timesteps = 1024\n",
            &["ppo.learning_rate=3e-4,1e-3".into(), "policy.kind=\"mlp\",\"gru\"".into()],
            &[],
            2,
            5,
        )
        .unwrap();
        let jobs = cfg.jobs().unwrap();
        assert_eq!(jobs.len(), 8);
        assert_eq!(jobs[0].labels, vec!["ppo.learning_rate=3e-4".to_string(), "policy.kind=\"mlp\"".to_string()]);
        assert_eq!((jobs[0].seed, jobs[1].seed), (5, 6));
        assert!(jobs[7].id.starts_with("007-ppo.learning_rate_1e-3_policy.kind__gru"), "{}", jobs[7].id);
        // The same sweep written as a study config plans the same jobs.
        let text = toml::to_string(&cfg).unwrap();
        assert_eq!(Sweep.plan(&text).unwrap(), jobs);
    }

    #[test]
    fn zero_seeds_and_empty_axes_are_refused() {
        let e = SweepConfig::from_flags("", &[], &[], 0, 0).unwrap().jobs().unwrap_err().to_string();
        assert!(e.contains("seeds must be >= 1 (got 0)"), "{e}");
        let e = SweepConfig::from_flags("", &["ppo.learning_rate=".into()], &[], 1, 0).unwrap().jobs().unwrap_err();
        assert!(e.to_string().contains("no values"), "{e}");
    }
}
