//! Smoke tests of `engram train / eval / record`, and `--resume` through the binary.

mod common;

use common::engram_ok as engram;
use std::path::{Path, PathBuf};
use std::process::Command;

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("engram-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// `metrics.jsonl` without the wall-clock column.
fn curve(dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            v.as_object_mut().unwrap().remove("steps_per_s");
            v
        })
        .collect()
}

const SETS: &[&str] = &[
    "--set",
    "total_timesteps=1536",
    "--set",
    "ppo.n_envs=4",
    "--set",
    "ppo.n_steps=64",
    "--set",
    "ppo.n_epochs=2",
    "--set",
    "policy.rnn_hidden=8",
    "--set",
    "checkpoint_every=2",
];

#[test]
fn train_resume_eval_record_round_trip() {
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/configs/pendulum_novel_gru.toml");
    let (a, b) = (tmp("straight"), tmp("killed"));
    let (a_s, b_s) = (a.to_str().unwrap(), b.to_str().unwrap());
    let mut args = vec!["train", "--config", config, "--out", a_s, "--quiet"];
    args.extend_from_slice(SETS);
    args.extend_from_slice(&["--set", "ppo.bptt_len=16"]);
    engram(&args);
    for f in ["config.toml", "metrics.jsonl", "metrics.csv", "checkpoints/latest.json"] {
        assert!(a.join(f).exists(), "{f} missing");
    }
    // The same run stopped after 3 updates (as a kill after the checkpoint would) and resumed.
    let mut args = vec!["train", "--config", config, "--out", b_s, "--quiet", "--stop-after", "3"];
    args.extend_from_slice(SETS);
    args.extend_from_slice(&["--set", "ppo.bptt_len=16"]);
    engram(&args);
    assert_eq!(curve(&b).len(), 3);
    engram(&["train", "--resume", b_s, "--quiet"]);
    assert_eq!(curve(&a), curve(&b), "resumed run differs from the uninterrupted one");
    // Training into an existing run is refused.
    let out = common::engram(&["train", "--config", config, "--out", a_s, "--quiet"]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("--resume"));

    let text = engram(&["eval", "--checkpoint", a_s, "--episodes", "3", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["returns"].as_array().unwrap().len(), 3);

    let rec = a.join("rec");
    engram(&["record", "--checkpoint", a_s, "--episodes", "2", "--out", rec.to_str().unwrap()]);
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(rec.join("manifest.json")).unwrap()).unwrap();
    // PendulumNoVel episodes last 200 steps; GRU state width 8 for actor + 8 for critic.
    assert_eq!(manifest["rows"], 400);
    assert_eq!(manifest["files"]["hidden.npy"], serde_json::json!([400, 16]));
    let hidden = std::fs::read(rec.join("hidden.npy")).unwrap();
    assert!(hidden.starts_with(b"\x93NUMPY"));
    let _ = std::fs::remove_dir_all(&a);
    let _ = std::fs::remove_dir_all(&b);
}

#[test]
fn a_killed_run_resumes_to_the_uninterrupted_result() {
    // SIGKILL at an arbitrary moment after the first checkpoint (possibly mid-update or
    // mid-save), then `--resume`: the curve and the final weights equal those of a run that
    // was never interrupted.
    let (a, b) = (tmp("nokill"), tmp("kill"));
    let (a_s, b_s) = (a.to_str().unwrap(), b.to_str().unwrap());
    let base = [
        "train",
        "--env",
        "CartPole-v1",
        "--quiet",
        "--set",
        "total_timesteps=20480",
        "--set",
        "ppo.n_envs=4",
        "--set",
        "ppo.n_steps=64",
        "--set",
        "ppo.n_epochs=4",
        "--set",
        "checkpoint_every=1",
    ];
    let mut args = base.to_vec();
    args.extend_from_slice(&["--out", a_s]);
    engram(&args);
    let mut args = base.to_vec();
    args.extend_from_slice(&["--out", b_s]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_engram")).args(&args).spawn().unwrap();
    let latest = b.join("checkpoints/latest.json");
    let t0 = std::time::Instant::now();
    while !latest.exists() && t0.elapsed().as_secs() < 60 {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    std::thread::sleep(std::time::Duration::from_millis(150));
    child.kill().unwrap();
    child.wait().unwrap();
    engram(&["train", "--resume", b_s, "--quiet"]);
    assert_eq!(curve(&a), curve(&b), "resumed run differs from the uninterrupted one");
    let weights = |d: &Path| {
        let dir = std::fs::read_to_string(d.join("checkpoints/latest.json")).unwrap();
        let v: serde_json::Value = serde_json::from_str(&dir).unwrap();
        std::fs::read(d.join("checkpoints").join(v["dir"].as_str().unwrap()).join("weights.safetensors")).unwrap()
    };
    assert!(weights(&a) == weights(&b), "final weights differ");
    let _ = std::fs::remove_dir_all(&a);
    let _ = std::fs::remove_dir_all(&b);
}

#[test]
fn seeds_train_exactly_as_each_seed_alone_and_bad_counts_are_refused() {
    let (pop, alone) = (tmp("seeds"), tmp("seed-alone"));
    let sets = ["--set", "total_timesteps=1024", "--set", "ppo.n_envs=4", "--set", "ppo.n_steps=64"];
    let mut args = vec!["train", "--env", "CartPole-v1", "--out", pop.to_str().unwrap(), "--quiet", "--seeds", "2"];
    args.extend_from_slice(&sets);
    args.extend_from_slice(&["--threads", "2"]);
    engram(&args);
    let mut args =
        vec!["train", "--env", "CartPole-v1", "--out", alone.to_str().unwrap(), "--quiet", "--set", "seed=2"];
    args.extend_from_slice(&sets);
    engram(&args);
    assert_eq!(curve(&pop.join("seed-2")), curve(&alone));
    let w = "checkpoints/update_000004/weights.safetensors";
    assert_eq!(std::fs::read(pop.join("seed-2").join(w)).unwrap(), std::fs::read(alone.join(w)).unwrap());
    assert!(pop.join("seed-1/metrics.jsonl").exists());
    for (extra, msg) in [(["--seeds", "0"], "--seeds 0"), (["--threads", "0"], "--threads 0")] {
        let seeds = if extra[0] == "--seeds" { "0" } else { "2" };
        let mut a = vec!["train", "--env", "CartPole-v1", "--out", "/tmp/engram-never", "--seeds", seeds];
        if extra[0] == "--threads" {
            a.extend_from_slice(&extra);
        }
        let out = Command::new(env!("CARGO_BIN_EXE_engram")).args(&a).output().unwrap();
        assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains(msg), "{msg}");
    }
    // A setting --seeds cannot honour is refused before any seed's directory exists.
    let never = tmp("seeds-lyapunov");
    let a = ["train", "--env", "CartPole-v1", "--policy", "gru", "--out", never.to_str().unwrap(), "--seeds", "2"];
    let out =
        Command::new(env!("CARGO_BIN_EXE_engram")).args(a).args(["--set", "lyapunov_exponents=2"]).output().unwrap();
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("lyapunov_exponents = 2"));
    assert!(!never.exists(), "nothing is written for a refused --seeds run");
}
