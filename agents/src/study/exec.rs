//! Running one job of a plan in this process (idempotent, resumable, marked), and collecting
//! a finished plan into its study's report.

use super::markers::Markers;
use super::plan::PLAN_FILE;
use super::plan::{Job, Plan};
use super::{find, for_job, Progress, STUDIES};
use crate::error::AgentError;
use crate::inspect::sysid_report;
use std::path::{Path, PathBuf};

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
    let job = plan.job(index)?;
    let dir = plan_dir.join(&job.out_dir);
    let markers = Markers::new(&dir);
    if markers.done().is_some() {
        return Ok(Outcome::AlreadyDone);
    }
    markers.start().map_err(|e| AgentError::io(&dir, e))?;
    match for_job(job.kind).run_job(job, &dir, progress) {
        Ok(mut summary) => {
            summary["job_id"] = job.id.clone().into();
            summary["seed"] = job.seed.into();
            summary["config_hash"] = job.config_hash.clone().into();
            summary["engram_version"] = env!("CARGO_PKG_VERSION").into();
            markers.finish(&summary).map_err(|e| AgentError::io(&dir, e))?;
            Ok(Outcome::Finished(summary))
        }
        Err(e) => {
            // A failure to record the failure must not hide the failure itself.
            let _ = markers.fail(&e.to_string());
            Err(e)
        }
    }
}

/// Every job of the plan with its done marker, once all are done with this plan's engram
/// version and config (otherwise an error naming the unfinished or mismatched jobs).
pub fn finished_jobs<'a>(plan: &'a Plan, dir: &Path) -> Result<Vec<(&'a Job, serde_json::Value)>, AgentError> {
    let mut rows = vec![];
    let mut missing = vec![];
    for j in &plan.jobs {
        let Some(done) = Markers::new(&dir.join(&j.out_dir)).done() else {
            missing.push(format!("{} ({})", j.index, j.id));
            continue;
        };
        let version = done["engram_version"].as_str().unwrap_or("?");
        let hash = done["config_hash"].as_str().unwrap_or("?");
        if version != plan.engram_version || hash != j.config_hash {
            return Err(AgentError::JobMismatch {
                job: j.id.clone(),
                found: format!("engram {version}, config {hash}"),
                expected: format!("engram {}, config {}", plan.engram_version, j.config_hash),
            });
        }
        rows.push((j, done));
    }
    if !missing.is_empty() {
        return Err(AgentError::Study(format!(
            "{} of {} jobs are not done: {}; run them first (`engram status --plan {}`)",
            missing.len(),
            plan.jobs.len(),
            missing.join(", "),
            dir.display()
        )));
    }
    Ok(rows)
}

/// Checks that every job of the plan at `plan_path` is done with this plan's version and
/// config, then writes its study's report; returns the report's path. Plans of a name no
/// study claims (hand-made plans of training jobs) get the sweep's report.
pub fn collect(plan_path: &Path) -> Result<PathBuf, AgentError> {
    let (plan, dir) = Plan::load(plan_path)?;
    let rows = finished_jobs(&plan, &dir)?;
    let study = find(&plan.study).unwrap_or(STUDIES[0]);
    study.report(&plan, &dir, &rows)
}

/// `engram probe sysid --run PATH`: probes one run (writing its `sysid.json`), or every job of
/// the study whose directory (or `plan.json`) `PATH` is (reusing reports already written
/// unless `force`); returns the text to print.
pub fn probe_sysid(
    path: &Path,
    env: Option<&str>,
    cfg: &sysid_report::SysidProbeConfig,
    force: bool,
) -> Result<String, AgentError> {
    if !path.is_dir() && !path.ends_with(PLAN_FILE) {
        return Err(AgentError::MissingRun(path.display().to_string()));
    }
    if !path.join(PLAN_FILE).exists() && !path.ends_with(PLAN_FILE) {
        let report = sysid_report::probe_and_write(path, env, cfg)?;
        return Ok(format!("{}{}\n", report.summary(path), path.join(sysid_report::SYSID_FILE).display()));
    }
    let (plan, dir) = Plan::load(path)?;
    let mut text = String::new();
    let mut done = 0;
    for job in &plan.jobs {
        let jd = dir.join(&job.out_dir);
        if crate::checkpoint::resolve(&jd).is_err() {
            text.push_str(&format!("{}: no checkpoint yet, skipped\n", job.id));
            continue;
        }
        let report = sysid_report::probe_or_reuse(&jd, env, cfg, force)
            .map_err(|e| AgentError::Probe(format!("job {}: {e}", job.id)))?;
        text.push_str(&report.summary(&jd));
        done += 1;
    }
    if done == 0 {
        return Err(AgentError::Study(format!("{}: no job of the study has a checkpoint yet", dir.display())));
    }
    Ok(text)
}
