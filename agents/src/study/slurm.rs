//! Slurm job arrays: the sbatch script of a plan, submission, and the scheduler's view of
//! each array task.

use super::markers::{JobState, Markers};
use super::plan::{Plan, PLAN_FILE};
use crate::error::AgentError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Directory (inside the plan directory) with sbatch scripts, task logs and submissions.
pub const SLURM_DIR: &str = "slurm";
/// One JSON line per submission: `{"job_id": "...", "indices": [...]}`.
pub const SUBMISSIONS_FILE: &str = "submissions.jsonl";

/// `sbatch` options of a submission (also `engram submit`'s flags).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SbatchOptions {
    /// `--job-name` (set from the plan's study).
    #[arg(skip)]
    pub job_name: String,
    /// `--partition`.
    #[arg(long)]
    pub partition: Option<String>,
    /// `--time` limit per job (e.g. `02:00:00`).
    #[arg(long)]
    pub time: Option<String>,
    /// `--cpus-per-task`.
    #[arg(long)]
    pub cpus_per_task: Option<usize>,
    /// `--mem` per job (e.g. `4G`).
    #[arg(long)]
    pub mem: Option<String>,
    /// Most array tasks running at once (`%K`).
    #[arg(long)]
    pub max_parallel: Option<usize>,
    /// Extra `#SBATCH` argument, verbatim (repeatable), e.g. `--sbatch-arg=--account=lab`.
    #[arg(long = "sbatch-arg", allow_hyphen_values = true)]
    pub extra: Vec<String>,
}

/// A submission recorded in `submissions.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Submission {
    /// Slurm's array job id.
    pub job_id: String,
    /// Plan indices submitted (array task ids are the plan indices).
    pub indices: Vec<usize>,
}

/// Slurm's `--array` value for these indices: ranges compressed (`0-3,7,9-10`), `%K` appended.
pub fn array_spec(indices: &[usize], max_parallel: Option<usize>) -> String {
    let mut sorted = indices.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut parts = vec![];
    let mut i = 0;
    while i < sorted.len() {
        let mut j = i;
        while j + 1 < sorted.len() && sorted[j + 1] == sorted[j] + 1 {
            j += 1;
        }
        parts.push(if i == j { sorted[i].to_string() } else { format!("{}-{}", sorted[i], sorted[j]) });
        i = j + 1;
    }
    let mut s = parts.join(",");
    if let Some(k) = max_parallel {
        s.push_str(&format!("%{k}"));
    }
    s
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The sbatch script that runs `engram run-job --plan PLAN --index $SLURM_ARRAY_TASK_ID` for
/// each of `indices`. Paths must be absolute (the tasks start in Slurm's working directory).
pub fn sbatch_script(
    engram: &Path,
    plan_file: &Path,
    log_dir: &Path,
    indices: &[usize],
    opts: &SbatchOptions,
) -> String {
    let mut s = String::from("#!/bin/bash\n");
    s.push_str(&format!("#SBATCH --job-name={}\n", opts.job_name));
    s.push_str(&format!("#SBATCH --array={}\n", array_spec(indices, opts.max_parallel)));
    s.push_str(&format!("#SBATCH --output={}/%A_%a.out\n", log_dir.display()));
    s.push_str(&format!("#SBATCH --error={}/%A_%a.err\n", log_dir.display()));
    if let Some(p) = &opts.partition {
        s.push_str(&format!("#SBATCH --partition={p}\n"));
    }
    if let Some(t) = &opts.time {
        s.push_str(&format!("#SBATCH --time={t}\n"));
    }
    if let Some(c) = opts.cpus_per_task {
        s.push_str(&format!("#SBATCH --cpus-per-task={c}\n"));
    }
    if let Some(m) = &opts.mem {
        s.push_str(&format!("#SBATCH --mem={m}\n"));
    }
    for e in &opts.extra {
        s.push_str(&format!("#SBATCH {e}\n"));
    }
    s.push_str("# Written by `engram submit`; each array task is one job of the plan.\n");
    s.push_str("set -euo pipefail\n");
    s.push_str(&format!(
        "exec {} run-job --plan {} --index \"$SLURM_ARRAY_TASK_ID\" --quiet\n",
        quote(&engram.display().to_string()),
        quote(&plan_file.display().to_string())
    ));
    s
}

/// Submits `script` with `sbatch --parsable` and returns the job id.
pub fn submit(script: &Path) -> Result<String, AgentError> {
    let out =
        Command::new("sbatch").arg("--parsable").arg(script).output().map_err(|e| {
            AgentError::Study(format!("cannot run sbatch ({e}); is Slurm installed and SLURM_CONF set?"))
        })?;
    if !out.status.success() {
        return Err(AgentError::Study(format!("sbatch failed: {}", String::from_utf8_lossy(&out.stderr).trim())));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let id = text.trim().split(';').next().unwrap_or("").to_string();
    if id.is_empty() {
        return Err(AgentError::Study("sbatch printed no job id".into()));
    }
    Ok(id)
}

/// What [`submit_plan`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum Submitted {
    /// Nothing to submit (every job done, or with `only_failed` none failed).
    Nothing,
    /// The script was written but not submitted (`dry_run`).
    Script(PathBuf),
    /// Submitted as this array job.
    Array {
        /// Slurm's job id.
        job_id: String,
        /// Plan indices submitted.
        indices: Vec<usize>,
        /// The sbatch script.
        script: PathBuf,
    },
}

/// Writes the sbatch script for the plan at `plan_path` (its unfinished jobs, or with
/// `only_failed` those that failed or were lost) and submits it with `engram` = `exe`.
pub fn submit_plan(
    exe: &Path,
    plan_path: &Path,
    only_failed: bool,
    mut opts: SbatchOptions,
    dry_run: bool,
) -> Result<Submitted, AgentError> {
    let (plan, dir) = Plan::load(plan_path)?;
    let dir = std::fs::canonicalize(&dir).map_err(|e| AgentError::io(&dir, e))?;
    let indices: Vec<usize> = if only_failed {
        job_states(&plan, &dir)
            .iter()
            .enumerate()
            .filter(|(_, (s, _))| *s == JobState::Failed)
            .map(|(i, _)| i)
            .collect()
    } else {
        plan.jobs
            .iter()
            .filter(|j| Markers::new(&dir.join(&j.out_dir)).state() != JobState::Done)
            .map(|j| j.index)
            .collect()
    };
    if indices.is_empty() {
        return Ok(Submitted::Nothing);
    }
    let log_dir = dir.join(SLURM_DIR);
    std::fs::create_dir_all(&log_dir).map_err(|e| AgentError::io(&log_dir, e))?;
    opts.job_name = format!("engram-{}", plan.study);
    let script = sbatch_script(exe, &dir.join(PLAN_FILE), &log_dir, &indices, &opts);
    let n = submissions(&dir).len();
    let script_path = log_dir.join(format!("submit-{n:03}.sbatch"));
    crate::io::write_text(&script_path, &script)?;
    if dry_run {
        return Ok(Submitted::Script(script_path));
    }
    let job_id = submit(&script_path)?;
    record_submission(&dir, &Submission { job_id: job_id.clone(), indices: indices.clone() })
        .map_err(|e| AgentError::io(&dir, e))?;
    Ok(Submitted::Array { job_id, indices, script: script_path })
}

/// Per-job state of a plan, combining the markers with the scheduler's view of submitted
/// array tasks, each with a detail line (the failure, the Slurm task and its state).
pub fn job_states(plan: &Plan, dir: &Path) -> Vec<(JobState, String)> {
    let subs = submissions(dir);
    let mut sched: BTreeMap<String, BTreeMap<usize, String>> = BTreeMap::new();
    if !subs.is_empty() && available() {
        for s in &subs {
            sched.insert(s.job_id.clone(), task_states(&s.job_id));
        }
    }
    plan.jobs
        .iter()
        .map(|j| {
            let m = Markers::new(&dir.join(&j.out_dir));
            let state = m.state();
            let last = subs.iter().rev().find(|s| s.indices.contains(&j.index));
            match (state, last) {
                (JobState::Done, _) => (JobState::Done, String::new()),
                (JobState::Failed, _) => (JobState::Failed, m.failure().unwrap_or_else(|| "killed".into())),
                (s, None) => (s, String::new()),
                (s, Some(sub)) => match sched.get(&sub.job_id).and_then(|t| t.get(&j.index)) {
                    Some(st) if ["PENDING", "CONFIGURING"].contains(&st.as_str()) => {
                        (JobState::Pending, format!("slurm {}_{} {st}", sub.job_id, j.index))
                    }
                    Some(st) if ["RUNNING", "COMPLETING"].contains(&st.as_str()) => {
                        (JobState::Running, format!("slurm {}_{} {st}", sub.job_id, j.index))
                    }
                    Some(st) => {
                        (JobState::Failed, format!("slurm {}_{} {st} without a done marker", sub.job_id, j.index))
                    }
                    None if s == JobState::Running => (s, String::new()),
                    None => (
                        JobState::Failed,
                        format!("lost: submitted as {}_{}, no record and no done marker", sub.job_id, j.index),
                    ),
                },
            }
        })
        .collect()
}

/// Whether the Slurm client commands are available.
pub fn available() -> bool {
    Command::new("squeue").arg("--version").output().map(|o| o.status.success()).unwrap_or(false)
}

/// Scheduler states of the array tasks of `job_id`, by array index (`squeue -t all`, which
/// keeps finished tasks for `MinJobAge` seconds). Unknown or failing queries give an empty map.
pub fn task_states(job_id: &str) -> BTreeMap<usize, String> {
    let out = Command::new("squeue").args(["-h", "-t", "all", "-j", job_id, "-o", "%K %T"]).output();
    let mut map = BTreeMap::new();
    if let Ok(o) = out {
        for line in String::from_utf8_lossy(&o.stdout).lines() {
            let mut it = line.split_whitespace();
            if let (Some(idx), Some(state)) = (it.next(), it.next()) {
                // A pending array shows as a range (`0-3%2`): expand it.
                for part in idx.split('%').next().unwrap_or("").split(',') {
                    let bounds: Vec<&str> = part.trim_matches(['[', ']']).split('-').collect();
                    if let (Some(a), Some(b)) = (bounds.first(), bounds.last()) {
                        if let (Ok(a), Ok(b)) = (a.parse::<usize>(), b.parse::<usize>()) {
                            for k in a..=b {
                                map.insert(k, state.to_string());
                            }
                        }
                    }
                }
            }
        }
    }
    map
}

/// The recorded submissions of a plan directory, oldest first.
pub fn submissions(plan_dir: &Path) -> Vec<Submission> {
    std::fs::read_to_string(plan_dir.join(SLURM_DIR).join(SUBMISSIONS_FILE))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// Appends a submission record.
pub fn record_submission(plan_dir: &Path, sub: &Submission) -> std::io::Result<()> {
    use std::io::Write;
    let dir = plan_dir.join(SLURM_DIR);
    std::fs::create_dir_all(&dir)?;
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(dir.join(SUBMISSIONS_FILE))?;
    writeln!(f, "{}", serde_json::to_string(sub).expect("serializes"))
}

/// `engram status`: one line per job (index, state, id, detail) and a count by state.
pub fn status_text(plan: &Plan, states: &[(JobState, String)]) -> String {
    let mut s = String::new();
    for (j, (st, why)) in plan.jobs.iter().zip(states) {
        s.push_str(&format!("{:>5}  {:<8} {}  {}\n", j.index, st.as_str(), j.id, why));
    }
    let count = |x: JobState| states.iter().filter(|(y, _)| *y == x).count();
    s.push_str(&format!(
        "{} jobs: {} done, {} running, {} failed, {} pending\n",
        plan.jobs.len(),
        count(JobState::Done),
        count(JobState::Running),
        count(JobState::Failed),
        count(JobState::Pending)
    ));
    s
}

/// `engram status --json`: the same as a JSON document.
pub fn status_json(plan: &Plan, dir: &Path, states: &[(JobState, String)]) -> serde_json::Value {
    let rows: Vec<_> = plan
        .jobs
        .iter()
        .zip(states)
        .map(|(j, (s, why))| serde_json::json!({"index": j.index, "id": j.id, "state": s, "detail": why}))
        .collect();
    serde_json::json!({"plan": dir.display().to_string(), "jobs": rows})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn array_specs_compress_ranges() {
        assert_eq!(array_spec(&[0, 1, 2, 3], Some(2)), "0-3%2");
        assert_eq!(array_spec(&[7, 0, 1, 9, 10], None), "0-1,7,9-10");
        assert_eq!(array_spec(&[5], Some(1)), "5%1");
    }

    #[test]
    fn script_runs_the_task_index() {
        let s = sbatch_script(
            Path::new("/opt/engram"),
            Path::new("/data/study/plan.json"),
            Path::new("/data/study/slurm"),
            &[0, 1, 2],
            &SbatchOptions {
                job_name: "engram-sweep".into(),
                max_parallel: Some(2),
                mem: Some("2G".into()),
                ..Default::default()
            },
        );
        assert!(s.contains("#SBATCH --array=0-2%2\n"));
        assert!(s.contains("#SBATCH --mem=2G\n"));
        assert!(
            s.contains("exec '/opt/engram' run-job --plan '/data/study/plan.json' --index \"$SLURM_ARRAY_TASK_ID\"")
        );
    }
}
