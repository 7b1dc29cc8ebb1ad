//! Job plans end to end: the local executor, a killed job that resumes, and — where a Slurm
//! cluster is up (`SLURM_CONF` set, as `.ci/run` does with `scripts/slurm/cluster.sh`) — the
//! same plan as a job array with an identical report, and a failed job resubmitted.

mod common;

use common::{engram, ok};
use engram_agents::study::{config_hash, Job, JobKind, Plan};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Longest wait for a Slurm array to finish.
const SLURM_TIMEOUT: Duration = Duration::from_secs(300);

fn scratch(name: &str) -> PathBuf {
    common::scratch("study", name)
}

fn base_config() -> String {
    format!("{}/../scripts/configs/cartpole_mlp.toml", env!("CARGO_MANIFEST_DIR"))
}

/// A 4-job sweep of a few thousand steps each.
fn small_sweep(dir: &Path) {
    ok(engram(&[
        "sweep",
        "--config",
        &base_config(),
        "--set",
        "total_timesteps=2048",
        "--set",
        "checkpoint_every=2",
        "--grid",
        "ppo.learning_rate=3e-4,1e-3",
        "--seeds",
        "2",
        "--out",
        dir.to_str().unwrap(),
    ]));
}

fn states(dir: &Path) -> Vec<String> {
    let out = ok(engram(&["status", "--plan", dir.to_str().unwrap(), "--json"]));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    v["jobs"].as_array().unwrap().iter().map(|j| j["state"].as_str().unwrap().to_string()).collect()
}

fn wait_until(dir: &Path, pred: impl Fn(&[String]) -> bool) -> Vec<String> {
    let t0 = Instant::now();
    loop {
        let s = states(dir);
        if pred(&s) {
            return s;
        }
        assert!(t0.elapsed() < SLURM_TIMEOUT, "timed out waiting; states {s:?}");
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn slurm_up() -> bool {
    let up = std::env::var_os("SLURM_CONF").is_some() && engram_agents::study::slurm::available();
    if !up {
        assert!(
            std::env::var_os("ENGRAM_REQUIRE_SLURM").is_none(),
            "ENGRAM_REQUIRE_SLURM is set but no Slurm cluster answers (SLURM_CONF unset or squeue missing)"
        );
        eprintln!(
            "skipped: no Slurm cluster (start one with scripts/slurm/cluster.sh start DIR and export SLURM_CONF)"
        );
    }
    up
}

#[test]
fn local_executor_runs_a_sweep_and_rerunning_is_a_no_op() {
    let dir = scratch("local");
    small_sweep(&dir);
    ok(engram(&["run", "--plan", dir.to_str().unwrap(), "--jobs", "2"]));
    assert_eq!(states(&dir), vec!["done"; 4]);
    ok(engram(&["collect", "--plan", dir.to_str().unwrap()]));
    let report = std::fs::read_to_string(dir.join("report.json")).unwrap();
    let marker = dir.join("jobs").join("000-ppo.learning_rate_3e-4-seed0").join("done.json");
    let before = std::fs::metadata(&marker).unwrap().modified().unwrap();
    let out = ok(engram(&["run-job", "--plan", dir.to_str().unwrap(), "--index", "0", "--quiet"]));
    assert!(out.contains("already done"), "{out}");
    assert_eq!(std::fs::metadata(&marker).unwrap().modified().unwrap(), before);
    ok(engram(&["collect", "--plan", dir.to_str().unwrap()]));
    assert_eq!(std::fs::read_to_string(dir.join("report.json")).unwrap(), report);
}

#[test]
fn collect_refuses_unfinished_and_foreign_results() {
    let dir = scratch("refuse");
    small_sweep(&dir);
    let out = engram(&["collect", "--plan", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("4 of 4 jobs are not done"));
    ok(engram(&["run-job", "--plan", dir.to_str().unwrap(), "--index", "1", "--quiet"]));
    // Results written by another version (or config) than the plan's are refused.
    let marker = dir.join("jobs").join("001-ppo.learning_rate_3e-4-seed1").join("done.json");
    let mut v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&marker).unwrap()).unwrap();
    v["engram_version"] = "0.0.9".into();
    std::fs::write(&marker, v.to_string()).unwrap();
    for i in ["0", "2", "3"] {
        ok(engram(&["run-job", "--plan", dir.to_str().unwrap(), "--index", i, "--quiet"]));
    }
    let out = engram(&["collect", "--plan", dir.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("engram 0.0.9") && err.contains("the plan expects engram"), "{err}");
    let out = engram(&["run-job", "--plan", dir.to_str().unwrap(), "--index", "9"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("job index 9 is out of range"));
}

#[test]
fn a_killed_job_resumes_and_ends_as_if_never_killed() {
    let dir = scratch("kill");
    ok(engram(&[
        "sweep",
        "--config",
        &base_config(),
        "--set",
        "total_timesteps=16384",
        "--set",
        "checkpoint_every=4",
        "--seeds",
        "2",
        "--out",
        dir.to_str().unwrap(),
    ]));
    // Job 1 runs uninterrupted; job 0 is killed after its first checkpoint, then rerun.
    let mut child = Command::new(env!("CARGO_BIN_EXE_engram"))
        .args(["run-job", "--plan", dir.to_str().unwrap(), "--index", "0", "--quiet"])
        .spawn()
        .unwrap();
    let ckpt = dir.join("jobs").join("000-seed0").join("checkpoints").join("latest.json");
    let t0 = Instant::now();
    while !ckpt.exists() {
        assert!(t0.elapsed() < Duration::from_secs(120), "no checkpoint appeared");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let killed_early = !dir.join("jobs").join("000-seed0").join("done.json").exists();
    assert_eq!(states(&dir)[0], if killed_early { "failed" } else { "done" });
    ok(engram(&["run-job", "--plan", dir.to_str().unwrap(), "--index", "0", "--quiet"]));
    // The same job from scratch in a second plan directory.
    let fresh = scratch("kill-fresh");
    std::fs::copy(dir.join("plan.json"), fresh.join("plan.json")).unwrap();
    ok(engram(&["run-job", "--plan", fresh.to_str().unwrap(), "--index", "0", "--quiet"]));
    let read = |d: &Path| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(d.join("jobs").join("000-seed0").join("done.json")).unwrap())
            .unwrap()
    };
    let (a, b) = (read(&dir), read(&fresh));
    assert_eq!(a["eval_returns"], b["eval_returns"]);
    assert_eq!(a["train_return_mean"], b["train_return_mean"]);
    assert_eq!(a["global_step"], b["global_step"]);
}

#[test]
fn slurm_array_gives_the_local_report_and_failed_jobs_resubmit() {
    if !slurm_up() {
        return;
    }
    let local = scratch("slurm-local");
    let remote = scratch("slurm-remote");
    small_sweep(&local);
    small_sweep(&remote);
    ok(engram(&["run", "--plan", local.to_str().unwrap(), "--jobs", "2"]));
    let job_id = ok(engram(&["submit", "--plan", remote.to_str().unwrap(), "--slurm", "--max-parallel", "2"]));
    assert!(job_id.trim().parse::<u64>().is_ok(), "sbatch job id: {job_id}");
    let s = wait_until(&remote, |s| s.iter().all(|x| x == "done" || x == "failed"));
    assert_eq!(s, vec!["done"; 4]);
    ok(engram(&["collect", "--plan", local.to_str().unwrap()]));
    ok(engram(&["collect", "--plan", remote.to_str().unwrap()]));
    assert_eq!(
        std::fs::read_to_string(local.join("report.json")).unwrap(),
        std::fs::read_to_string(remote.join("report.json")).unwrap(),
        "local and Slurm reports differ"
    );

    // A job that fails while a file exists: status reports it, --only-failed reruns only it.
    let dir = scratch("slurm-fail");
    let trap = dir.join("trap");
    std::fs::write(&trap, "fail").unwrap();
    let jobs: Vec<Job> = (0..2)
        .map(|i| {
            let config = if i == 1 { serde_json::json!({"fail_while_exists": trap}).to_string() } else { "{}".into() };
            Job {
                index: i,
                id: format!("probe{i}"),
                kind: JobKind::Probe,
                seed: i as u64,
                config_hash: config_hash(&config),
                config,
                out_dir: format!("jobs/probe{i}"),
                labels: vec![],
            }
        })
        .collect();
    Plan::new("probe", jobs).save(&dir).unwrap();
    ok(engram(&["submit", "--plan", dir.to_str().unwrap(), "--slurm"]));
    let s = wait_until(&dir, |s| s.iter().all(|x| x == "done" || x == "failed"));
    assert_eq!(s, vec!["done", "failed"]);
    let status = ok(engram(&["status", "--plan", dir.to_str().unwrap()]));
    assert!(status.contains("failing on purpose"), "{status}");
    std::fs::remove_file(&trap).unwrap();
    ok(engram(&["submit", "--plan", dir.to_str().unwrap(), "--slurm", "--only-failed"]));
    let subs = engram_agents::study::slurm::submissions(&dir);
    assert_eq!(subs.last().unwrap().indices, vec![1], "only the failed job is resubmitted");
    let s = wait_until(&dir, |s| s.iter().all(|x| x == "done" || x == "failed") && s[1] != "failed");
    assert_eq!(s, vec!["done", "done"]);
}
