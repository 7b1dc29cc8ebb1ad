//! One job of the curl-field study: one seed × one variant through every phase, recording
//! the preparatory states at every checkpoint; resumable at any checkpoint.

use super::record::{record_channel, record_prep, PrepRecord};
use super::{CurlFieldJob, Variant, PHASES};
use crate::checkpoint;
use crate::error::AgentError;
use crate::ppo::Trainer;
use crate::run::{MetricsLog, Progress};
use crate::study::Job;
use engram_envs::prelude::*;
use std::path::Path;
use std::time::Instant;

/// File (in the job directory) holding every recording, in update order.
pub const RECORDS_FILE: &str = "prep_records.json";

fn load_records(dir: &Path) -> Vec<PrepRecord> {
    std::fs::read_to_string(dir.join(RECORDS_FILE)).ok().and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default()
}

fn record(
    job: &CurlFieldJob,
    trainer: &Trainer,
    dir: &Path,
    phase: usize,
    records: &mut Vec<PrepRecord>,
) -> Result<(), AgentError> {
    // A recording redone on resume (killed between checkpoint and record) replaces its twin.
    records.retain(|r| r.update < trainer.update || (r.update == trainer.update && r.phase != PHASES[phase]));
    checkpoint::save(trainer, dir)?;
    let policy = checkpoint::load_policy(dir)?;
    let cfg = &trainer.cfg;
    let env_config = cfg.env_config_json();
    let env = make_with(&cfg.env, &env_config)?;
    let b = job.record_b(phase);
    let field = if b == 0.0 {
        ResetOptions::new().with("field", 0.0)
    } else {
        ResetOptions::new().with("field", 1.0).with("field_b", b)
    };
    let reach = engram_envs::tasks::reach::task_config(&cfg.env, &env_config)?;
    let mut rec = record_prep(
        &policy,
        env,
        &field,
        reach.n_targets,
        job.experiment.record_repeats,
        job.seed.wrapping_mul(7919).wrapping_add(123_456),
        reach.dt_s,
        reach.target_radius_m,
    )?;
    if job.experiment.channel_repeats > 0 {
        rec.adaptation_index = record_channel(
            &policy,
            make_with(&cfg.env, &env_config)?,
            job.experiment.trained_target,
            job.experiment.channel_repeats,
            job.seed.wrapping_mul(7919).wrapping_add(654_321),
            job.experiment.b_ns_m,
            reach.dt_s,
            reach.target_radius_m,
        )?;
    }
    rec.update = trainer.update;
    rec.phase = PHASES[phase].to_string();
    records.push(rec);
    let json = serde_json::to_string(records).map_err(|e| AgentError::Config(e.to_string()))?;
    checkpoint::write_atomic(&dir.join(RECORDS_FILE), json.as_bytes())
}

/// Puts the trainer on the env config and budget in force at its current update of `phase`
/// (nothing if it is already there).
fn switch_config(spec: &CurlFieldJob, trainer: &mut Trainer, phase: usize) -> Result<(), AgentError> {
    let cfg = spec.train_config_at(phase, trainer.update)?;
    if trainer.cfg.env_config != cfg.env_config || trainer.cfg.total_timesteps != cfg.total_timesteps {
        trainer.set_env_config(cfg.env_config, cfg.total_timesteps)?;
    }
    trainer.cfg.ppo.learning_rate = cfg.ppo.learning_rate;
    Ok(())
}

/// Runs (or resumes) one job of the experiment; returns its summary.
pub fn run_curl_field_job(job: &Job, dir: &Path, progress: Progress) -> Result<serde_json::Value, AgentError> {
    let spec: CurlFieldJob =
        toml::from_str(&job.config).map_err(|e| AgentError::Config(format!("job {}: {e}", job.id)))?;
    let ends = spec.experiment.updates.ends();
    let resumed = checkpoint::resolve(dir).is_ok();
    let mut trainer = if resumed {
        checkpoint::load_trainer(dir)?
    } else {
        std::fs::create_dir_all(dir).map_err(|e| AgentError::Io { path: dir.display().to_string(), source: e })?;
        let cfg = spec.train_config_at(0, 0)?;
        checkpoint::write_atomic(&dir.join("config.toml"), job.config.as_bytes())?;
        Trainer::new(cfg)?
    };
    let mut records = load_records(dir);
    let mut log = MetricsLog::open(dir, resumed.then_some(trainer.update))?;
    let batch = (trainer.cfg.ppo.n_envs * trainer.cfg.ppo.n_steps) as u64;
    let total = ends[4] as u64 * batch;
    let (start, start_step) = (Instant::now(), trainer.global_step);
    // Wall time spent recording (the rest of this invocation's time is training).
    let mut record_s = 0.0;
    let mut timed_record = |trainer: &Trainer, phase: usize, records: &mut Vec<PrepRecord>| {
        let t = Instant::now();
        let r = record(&spec, trainer, dir, phase, records);
        record_s += t.elapsed().as_secs_f64();
        r
    };
    for phase in 0..PHASES.len() {
        let has = |records: &[PrepRecord], update: usize| {
            records.iter().any(|r| r.update == update && r.phase == PHASES[phase])
        };
        if trainer.update >= ends[phase] && has(&records, ends[phase]) {
            continue;
        }
        let boundary = phase > 0 && trainer.update == ends[phase - 1];
        switch_config(&spec, &mut trainer, phase)?;
        let reset_here = spec.experiment.reset_optimizer
            || (spec.variant == Variant::ResetOptimizer && PHASES[phase] == "relearning");
        if boundary && reset_here {
            trainer.reset_optimizer();
        }
        // First exposure: the new phase's field, before any training in it.
        if phase > 0 && trainer.update == ends[phase - 1] && !has(&records, trainer.update) {
            timed_record(&trainer, phase, &mut records)?;
        }
        while trainer.update < ends[phase] {
            switch_config(&spec, &mut trainer, phase)?;
            let m = trainer.train_update()?;
            let sps = (trainer.global_step - start_step) as f64 / start.elapsed().as_secs_f64().max(1e-9);
            log.write(&m, sps)?;
            progress(trainer.global_step, total, m.return_mean);
            let every = spec.experiment.record_every;
            if phase > 0 && every > 0 && trainer.update % every == 0 && trainer.update < ends[phase] {
                timed_record(&trainer, phase, &mut records)?;
            }
        }
        timed_record(&trainer, phase, &mut records)?;
    }
    let wall_s = start.elapsed().as_secs_f64();
    let at = |name: &str| records.iter().rev().find(|r| r.phase == name);
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let summary = |name: &str| {
        at(name).map(|r| {
            serde_json::json!({
                "update": r.update,
                "max_lateral_deviation_m": mean(&r.max_lateral_deviation_m),
                "success_rate": mean(&r.success_rate),
            })
        })
    };
    Ok(serde_json::json!({
        "variant": spec.variant.name(),
        "global_step": trainer.global_step,
        "updates": trainer.update,
        "train_return_mean": trainer.return_mean(),
        "phases": PHASES.iter().map(|p| (p.to_string(), summary(p).unwrap_or_default())).collect::<serde_json::Map<_, _>>(),
        "records": records.len(),
        "seconds": {"train": wall_s - record_s, "record": record_s, "resumed": resumed},
    }))
}
