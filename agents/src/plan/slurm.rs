//! Slurm job arrays: the sbatch script of a plan, submission, and the scheduler's view of
//! each array task.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// Directory (inside the plan directory) with sbatch scripts, task logs and submissions.
pub const SLURM_DIR: &str = "slurm";
/// One JSON line per submission: `{"job_id": "...", "indices": [...]}`.
pub const SUBMISSIONS_FILE: &str = "submissions.jsonl";

/// `sbatch` options of a submission.
#[derive(Debug, Clone, Default)]
pub struct SbatchOptions {
    /// `--job-name`.
    pub job_name: String,
    /// `--partition`.
    pub partition: Option<String>,
    /// `--time` (e.g. `02:00:00`).
    pub time: Option<String>,
    /// `--cpus-per-task`.
    pub cpus_per_task: Option<usize>,
    /// `--mem` (e.g. `4G`).
    pub mem: Option<String>,
    /// Most array tasks running at once (`%K`).
    pub max_parallel: Option<usize>,
    /// Extra `#SBATCH` arguments, verbatim (e.g. `--account=lab`).
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
pub fn submit(script: &Path) -> Result<String, String> {
    let out = Command::new("sbatch")
        .arg("--parsable")
        .arg(script)
        .output()
        .map_err(|e| format!("cannot run sbatch ({e}); is Slurm installed and SLURM_CONF set?"))?;
    if !out.status.success() {
        return Err(format!("sbatch failed: {}", String::from_utf8_lossy(&out.stderr).trim()));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let id = text.trim().split(';').next().unwrap_or("").to_string();
    if id.is_empty() {
        return Err("sbatch printed no job id".into());
    }
    Ok(id)
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
