//! Studies: a scientific question answered by many independent training jobs and one report.
//!
//! A study is one folder here and one line in [`STUDIES`]. It implements [`Study`]: it turns
//! its config into a plan of jobs ([`Plan`], written as `plan.json`), runs one job in this
//! process, and writes the report once every job is done. Everything else is shared and knows
//! jobs, not studies: [`exec::run_job`] runs a job idempotently with its markers,
//! [`local`] runs a plan's unfinished jobs on this machine, [`slurm`] submits them as a job
//! array, [`exec::collect`] checks that every job finished with the plan's engram version and
//! config and hands the results to the study's report. The same plan gives the same report
//! on a laptop and on a cluster.
//!
//! | study | question | module |
//! |---|---|---|
//! | `sweep` | a training config × grid axes × seeds | [`sweep`] |
//! | `curl-field` | preparatory activity across curl-field learning (Sun et al. 2022) | [`curl_field`] |
//! | `sim2real` | memory and dynamics randomization on the walker (Siekmann et al. 2020) | [`sim2real`] |
//! | `universality` | geometry vs topology of RNN dynamics (Maheswaranathan et al. 2019) | [`universality`] |
//! | `working-memory` | Clifford-torus memory of two orientations (Cueva et al. 2021) | [`working_memory`] |
//!
//! The word is *study* throughout: `engram study NAME` (alias `engram experiment NAME`), the
//! `study` field of `plan.json`, this module.

pub mod curl_field;
pub mod exec;
pub mod local;
mod markers;
mod plan;
pub mod sim2real;
pub mod slurm;
pub mod sweep;
pub mod universality;
pub mod universality_tasks;
pub mod working_memory;

pub use crate::run::Progress;
pub use markers::{JobState, Markers, DONE_MARKER, FAILED_MARKER, RUNNING_MARKER};
pub use plan::{config_hash, slug, Job, JobKind, Plan, PLAN_FILE, PLAN_SCHEMA};

use crate::error::AgentError;
use std::path::{Path, PathBuf};

/// One kind of study: how its config becomes jobs, how one job runs, how the report is made.
pub trait Study: Sync {
    /// The study's name on the command line and in `plan.json` (`curl-field`, ...).
    fn name(&self) -> &'static str;
    /// One line for `--help`.
    fn about(&self) -> &'static str;
    /// The kinds of job this study's plans hold (the executor hands a job to the study that
    /// declares its kind).
    fn job_kinds(&self) -> &'static [JobKind];
    /// The jobs of the study described by `config` (its TOML text).
    fn plan(&self, config: &str) -> Result<Vec<Job>, AgentError>;
    /// Lines worth printing when the plan is made (e.g. parameter counts); none by default.
    fn describe(&self, _config: &str) -> Result<Vec<String>, AgentError> {
        Ok(vec![])
    }
    /// Runs one job into `dir` (resuming from what is there) and returns its summary, which
    /// the executor writes into the job's done marker.
    fn run_job(&self, job: &Job, dir: &Path, progress: Progress) -> Result<serde_json::Value, AgentError>;
    /// Writes the report of a plan whose jobs are all done (`jobs` are the jobs with their
    /// done markers) and returns the path of its Markdown file.
    fn report(&self, plan: &Plan, dir: &Path, jobs: &[(&Job, serde_json::Value)]) -> Result<PathBuf, AgentError>;
}

/// Every study engram knows. A new study is a folder in this module and a line here.
pub static STUDIES: &[&dyn Study] = &[
    &sweep::Sweep,
    &curl_field::CurlField,
    &sim2real::Sim2Real,
    &universality::Universality,
    &universality_tasks::UniversalityTasks,
    &working_memory::WorkingMemory,
];

/// The study called `name`, or an error listing the known names.
pub fn find(name: &str) -> Result<&'static dyn Study, AgentError> {
    STUDIES
        .iter()
        .copied()
        .find(|s| s.name() == name)
        .ok_or_else(|| AgentError::Study(format!("unknown study `{name}`; the studies are: {}", names().join(", "))))
}

/// The study whose plans hold jobs of `kind`.
pub fn for_job(kind: JobKind) -> &'static dyn Study {
    STUDIES
        .iter()
        .copied()
        .find(|s| s.job_kinds().contains(&kind))
        .expect("every job kind belongs to a study in STUDIES (checked by a test)")
}

/// The names of [`STUDIES`], in order.
pub fn names() -> Vec<&'static str> {
    STUDIES.iter().map(|s| s.name()).collect()
}

/// Plans the study `name` from its config text and saves the plan into `out`; a plan already
/// there must be the same plan (a resumed study), otherwise nothing is written and the error
/// says so. Returns the plan and the path of `plan.json`.
pub fn plan_into(name: &str, config: &str, out: &Path) -> Result<(Plan, PathBuf), AgentError> {
    let study = find(name)?;
    let plan = Plan::new(study.name(), study.plan(config)?);
    let path = save_new_or_same(&plan, out)?;
    Ok((plan, path))
}

/// Saves `plan` into `out` unless a different plan is there already.
pub fn save_new_or_same(plan: &Plan, out: &Path) -> Result<PathBuf, AgentError> {
    if out.join(PLAN_FILE).exists() {
        let (old, _) = Plan::load(out)?;
        if old.config_hash != plan.config_hash {
            return Err(AgentError::Study(format!(
                "{} already holds a different plan (config hash {} vs {}); choose another --out",
                out.display(),
                old.config_hash,
                plan.config_hash
            )));
        }
    }
    plan.save(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_job_kind_has_exactly_one_study_and_names_are_unique() {
        for kind in [
            JobKind::Train,
            JobKind::CurlField,
            JobKind::Universality,
            JobKind::Sim2Real,
            JobKind::Probe,
            JobKind::UniversalityTasks,
            JobKind::WorkingMemory,
            JobKind::Probe,
        ] {
            let owners = STUDIES.iter().filter(|s| s.job_kinds().contains(&kind)).count();
            assert_eq!(owners, 1, "{kind:?}");
        }
        let mut n = names();
        n.sort_unstable();
        n.dedup();
        assert_eq!(n.len(), STUDIES.len());
        assert!(find("curl-field").is_ok());
        let e = find("curl").err().expect("no study is called curl").to_string();
        assert!(e.contains("unknown study `curl`") && e.contains("sim2real"), "{e}");
    }

    #[test]
    fn a_study_directory_takes_its_own_plan_again_and_refuses_another() {
        let dir = std::env::temp_dir().join(format!("engram-study-plan-{}", std::process::id()));
        let cfg = |seeds: u64| format!("seeds = {seeds}\n[train]\nenv = \"CartPole-v1\"\ntotal_timesteps = 1024\n");
        let (plan, path) = plan_into("sweep", &cfg(2), &dir).unwrap();
        assert_eq!((plan.study.as_str(), plan.jobs.len()), ("sweep", 2));
        assert_eq!(Plan::load(&path).unwrap().0, plan);
        // The same config again is the same study (a resume) ...
        assert_eq!(plan_into("sweep", &cfg(2), &dir).unwrap().0, plan);
        // ... another is refused and leaves the plan as it was.
        let e = plan_into("sweep", &cfg(3), &dir).unwrap_err().to_string();
        assert!(e.contains("already holds a different plan"), "{e}");
        assert_eq!(Plan::load(&path).unwrap().0, plan);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
