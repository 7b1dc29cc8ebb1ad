//! Running one job of a plan in this process: idempotent, resumable, marked.

use super::job::{Job, JobKind, Plan};
use super::markers::Markers;
use crate::checkpoint;
use crate::error::AgentError;
use crate::policy::ActMode;
use crate::ppo::{TrainConfig, Trainer};
use crate::run::{curves, eval::run_episodes, MetricsLog};
use std::path::Path;

/// Episodes of the deterministic evaluation that ends a training job.
pub const EVAL_EPISODES: usize = 10;
/// Offset of the evaluation seeds from the job's seed, so evaluation never reuses training
/// episodes' seeds.
pub const EVAL_SEED_OFFSET: u64 = 1_000_000;

/// Progress callback: `(done_steps, total_steps, mean_return)`.
pub type Progress<'a> = &'a mut dyn FnMut(u64, u64, f64);

/// What running a job did.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// It had already finished; nothing was done.
    AlreadyDone,
    /// It ran (from scratch or from its last checkpoint) and finished with this summary.
    Finished(serde_json::Value),
}

/// Runs job `index` of `plan` (whose directory is `plan_dir`): nothing if it is done,
/// otherwise from its last checkpoint or from scratch, then writes the done marker; on an
/// error writes the failed marker and returns the error.
pub fn run_job(plan: &Plan, plan_dir: &Path, index: usize, progress: Progress) -> Result<Outcome, AgentError> {
    let job = plan.job(index).map_err(|e| AgentError::Config(e.to_string()))?;
    let dir = plan_dir.join(&job.out_dir);
    let markers = Markers::new(&dir);
    if markers.done().is_some() {
        return Ok(Outcome::AlreadyDone);
    }
    let io = |e: std::io::Error| AgentError::Io { path: dir.display().to_string(), source: e };
    markers.start().map_err(io)?;
    let result = match job.kind {
        JobKind::Train => train_job(job, &dir, progress),
        JobKind::CurlField => crate::experiment::curl_field::run_curl_field_job(job, &dir, progress),
        JobKind::Sim2Real => crate::experiment::sim2real::run_sim2real_job(job, &dir, progress),
        JobKind::Probe => probe_job(job),
        JobKind::Universality => crate::experiment::universality::run_universality_job(job, &dir, progress),
    };
    match result {
        Ok(mut summary) => {
            summary["job_id"] = job.id.clone().into();
            summary["seed"] = job.seed.into();
            summary["config_hash"] = job.config_hash.clone().into();
            summary["engram_version"] = env!("CARGO_PKG_VERSION").into();
            markers.finish(&summary).map_err(io)?;
            Ok(Outcome::Finished(summary))
        }
        Err(e) => {
            // A failure to record the failure must not hide the failure itself.
            let _ = markers.fail(&e.to_string());
            Err(e)
        }
    }
}

/// Trains a job's config (resuming from its last checkpoint) and evaluates it.
pub(crate) fn train_job(job: &Job, dir: &Path, progress: Progress) -> Result<serde_json::Value, AgentError> {
    let trainer = train_to_end(&job.config, dir, progress)?;
    let policy = checkpoint::load_policy(dir)?;
    let eval = run_episodes(
        &policy,
        &trainer.cfg.env,
        &trainer.cfg.env_config_json(),
        EVAL_EPISODES,
        trainer.cfg.seed + EVAL_SEED_OFFSET,
        ActMode::Deterministic,
        |_| {},
    )?;
    Ok(serde_json::json!({
        "env": trainer.cfg.env,
        "policy": format!("{:?}", trainer.cfg.policy.kind).to_lowercase(),
        "global_step": trainer.global_step,
        "updates": trainer.update,
        "train_return_mean": trainer.return_mean(),
        "eval_return_mean": eval.mean,
        "eval_return_ci95": eval.ci95,
        "eval_returns": eval.returns,
        "eval_success_rate": eval.success_rate,
    }))
}

/// Trains the run in `dir` to the end of its budget: from its last checkpoint if it has one,
/// otherwise a fresh run of `config` (a training TOML, written resolved to `config.toml`);
/// then draws its curves.
pub fn train_to_end(config: &str, dir: &Path, progress: Progress) -> Result<Trainer, AgentError> {
    let resumed = checkpoint::resolve(dir).is_ok();
    let mut trainer = if resumed {
        checkpoint::load_trainer(dir)?
    } else {
        let cfg = TrainConfig::from_toml_with(config, &[])?;
        std::fs::create_dir_all(dir).map_err(|e| AgentError::Io { path: dir.display().to_string(), source: e })?;
        checkpoint::write_atomic(&dir.join("config.toml"), cfg.to_toml().as_bytes())?;
        Trainer::new(cfg)?
    };
    let mut log = MetricsLog::open(dir, resumed.then_some(trainer.update))?;
    let total = trainer.cfg.num_updates() as u64 * (trainer.cfg.ppo.n_envs * trainer.cfg.ppo.n_steps) as u64;
    progress(trainer.global_step, total, f64::NAN);
    crate::run::train_loop(&mut trainer, dir, &mut log, None, &mut |m, _| {
        progress(m.global_step, total, m.return_mean)
    })?;
    // The figure is a convenience; a plotting failure must not fail the job.
    let _ = curves::write_curves(dir, &format!("{} {:?}", trainer.cfg.env, trainer.cfg.policy.kind));
    Ok(trainer)
}

/// The executors' testing aid: fails while a named file exists, otherwise reports its seed.
fn probe_job(job: &Job) -> Result<serde_json::Value, AgentError> {
    let cfg: serde_json::Value = serde_json::from_str(&job.config).map_err(|e| AgentError::Config(e.to_string()))?;
    if let Some(path) = cfg["fail_while_exists"].as_str() {
        if Path::new(path).exists() {
            return Err(AgentError::Config(format!("probe job {}: {path} exists, failing on purpose", job.id)));
        }
    }
    Ok(serde_json::json!({ "eval_return_mean": job.seed as f64 }))
}
