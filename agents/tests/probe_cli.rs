//! `engram probe fixed-points / lyapunov / similarity` on tiny trained runs: outputs, the
//! recurrent map against the policy's own recorded hidden states, and the errors for a
//! missing run and a memoryless policy.

mod common;

use common::engram;
use engram_agents::inspect::agent::ProbedAgent;
use engram_agents::inspect::rollouts::{driven_states, Rollouts};
use std::path::{Path, PathBuf};

/// Agreement of the f64 map driven by recorded observations with the f32 policy's states.
const STATE_TOL: f64 = 1e-4;

fn ok(args: &[&str]) -> String {
    let out = engram(args);
    assert!(out.status.success(), "engram {args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn train(dir: &Path, kind: &str) {
    train_with(dir, &["--set", &format!("policy.kind=\"{kind}\"")]);
}

/// A tiny GRU run of `pendulum_novel_gru.toml` (512 steps), with `extra` arguments after the
/// defaults (a later `--set` wins).
fn train_with(dir: &Path, extra: &[&str]) {
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/configs/pendulum_novel_gru.toml");
    let mut args = vec![
        "train",
        "--config",
        config,
        "--out",
        dir.to_str().unwrap(),
        "--quiet",
        "--set",
        "total_timesteps=512",
        "--set",
        "ppo.n_envs=4",
        "--set",
        "ppo.n_steps=64",
        "--set",
        "ppo.n_epochs=1",
        "--set",
        "policy.rnn_hidden=6",
    ];
    args.extend_from_slice(extra);
    ok(&args);
}

fn json(path: PathBuf) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).unwrap()
}

#[test]
fn probes_run_on_tiny_runs_and_refuse_bad_ones() {
    let root = std::env::temp_dir().join(format!("engram-probe-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let (gru, lstm, mlp) = (root.join("gru"), root.join("lstm"), root.join("mlp"));
    train(&gru, "gru");
    train(&lstm, "lstm");
    train(&mlp, "mlp");
    let (g, l) = (gru.to_str().unwrap(), lstm.to_str().unwrap());

    ok(&["probe", "fixed-points", "--run", g, "--episodes", "2", "--n-initial", "16"]);
    let fp = gru.join("probe/fixed-points");
    for f in ["report.json", "report.md", "fixed_points.npy", "states.npy", "fixed_points.png", "fixed_points.svg"] {
        assert!(fp.join(f).exists(), "{f} missing");
    }
    let r = json(fp.join("report.json"));
    let points = r["result"]["points"].as_array().unwrap();
    assert!(!points.is_empty(), "a contracting tiny GRU has at least one fixed point");
    assert!(points.iter().all(|p| p["q"].as_f64().unwrap() <= 1e-8));
    assert_eq!(points[0]["eigenvalues"].as_array().unwrap().len(), 6);
    assert_eq!(r["n_states"].as_u64().unwrap(), 400, "2 Pendulum episodes of 200 steps");

    ok(&["probe", "lyapunov", "--run", l, "--episodes", "2"]);
    let ly = json(lstm.join("probe/lyapunov/report.json"));
    assert_eq!(ly["mean_per_step"].as_array().unwrap().len(), 12, "LSTM state [h, c]");
    assert!((ly["dt_s"].as_f64().unwrap() - 0.05).abs() < 1e-12);
    assert!(lstm.join("probe/lyapunov/spectrum.png").exists());

    let sim = root.join("sim");
    ok(&["probe", "similarity", "--runs", g, l, "--out", sim.to_str().unwrap(), "--episodes", "2", "--shuffles", "3"]);
    let s = json(sim.join("report.json"));
    assert_eq!(s["pairs"].as_array().unwrap().len(), 1);
    let cca = &s["pairs"][0]["values"][0];
    // Under identical inputs two agents share far more than their shuffled baseline.
    assert!(cca["value"].as_f64().unwrap() > cca["shuffled"]["hi"].as_f64().unwrap());
    for f in ["distance_procrustes.npy", "mds.npy", "distances.png", "mds.svg", "report.md"] {
        assert!(sim.join(f).exists(), "{f} missing");
    }

    // The f64 map driven by the recorded observations reproduces the policy's own states
    // (hidden.npy holds the state entering each step; the map gives the state after it).
    let agent = ProbedAgent::load(&gru).unwrap();
    let rec = Rollouts::load(&gru.join("probe/rollouts")).unwrap();
    let ranges = rec.episode_ranges();
    assert_eq!(ranges.len(), 2);
    let driven = driven_states(&agent, &rec.obs, rec.obs_dim, &ranges);
    let (shape, hidden) =
        engram_agents::inspect::output::read_npy::<f32>(&gru.join("probe/rollouts/hidden.npy")).unwrap();
    let w = shape[1] as usize;
    for r in &ranges {
        for t in r.start..r.end - 1 {
            for j in 0..6 {
                let d = (driven.get(t, j) - hidden[(t + 1) * w + j] as f64).abs();
                assert!(d < STATE_TOL, "row {t} unit {j}: {d}");
            }
        }
    }

    // Errors: a missing run directory and a memoryless policy.
    let missing = root.join("nope");
    let out = engram(&["probe", "fixed-points", "--run", missing.to_str().unwrap()]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("does not exist"));
    let out = engram(&["probe", "lyapunov", "--run", mlp.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("no recurrent state"), "{err}");
    let out = engram(&["probe", "fixed-points", "--run", g, "--input", "prep", "--episodes", "2"]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("reaching env"));
    std::fs::remove_dir_all(&root).unwrap();
}

/// A tiny universality study end to end: plan, train and probe every agent, collect.
#[test]
fn tiny_universality_study_runs_end_to_end() {
    let root = std::env::temp_dir().join(format!("engram-univ-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    let config = root.join("tiny.toml");
    std::fs::write(
        &config,
        "seeds = 2\narchitectures = [\"rnn\", \"gru\"]\nwidths = [6]\nepisodes = 2\n\
         [similarity]\nn_shuffles = 2\nn_permutations = 50\n\
         [[envs]]\nname = \"pendulum\"\n[envs.train]\nenv = \"PendulumNoVel-v1\"\ntotal_timesteps = 512\n\
         [envs.train.policy]\nhidden = [8]\n[envs.train.ppo]\nn_envs = 4\nn_steps = 64\nn_epochs = 1\n",
    )
    .unwrap();
    let out = root.join("study");
    let (c, o) = (config.to_str().unwrap(), out.to_str().unwrap());
    ok(&["experiment", "universality", "--config", c, "--out", o, "--jobs", "2"]);
    let report = json(out.join("report.json"));
    let env = &report["envs"][0];
    assert_eq!(env["agents"].as_array().unwrap().len(), 4);
    assert_eq!(env["geometry_procrustes"]["matrix"]["rows"].as_u64(), Some(4));
    assert!(env["topology"]["by_architecture"]["silhouette"].is_number());
    assert!(!env["conclusion"].as_str().unwrap().is_empty());
    for f in [
        "report.md",
        "pendulum/similarity/mds.png",
        "pendulum/topology_mds.svg",
        "jobs/pendulum-gru-h6-seed1/probe/lyapunov/report.json",
    ] {
        assert!(out.join(f).exists(), "{f} missing");
    }
    // `engram collect` rebuilds the same report from the finished jobs.
    ok(&["collect", "--plan", o]);
    assert_eq!(json(out.join("report.json"))["envs"][0]["conclusion"], env["conclusion"]);
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn train_logs_the_lyapunov_spectrum_at_every_checkpoint_once() {
    let dir = std::env::temp_dir().join(format!("engram-train-lyap-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let d = dir.to_str().unwrap();
    // Killed after two updates, then resumed: each of the 4 checkpoints logged once, in order.
    let sets = ["--set", "total_timesteps=1024", "--set", "checkpoint_every=1", "--set", "lyapunov_exponents=3"];
    train_with(&dir, &[&sets[..], &["--stop-after", "2"]].concat());
    ok(&["train", "--resume", d, "--quiet"]);
    let rows: Vec<serde_json::Value> = std::fs::read_to_string(dir.join("lyapunov.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let steps: Vec<u64> = rows.iter().map(|r| r["step"].as_u64().unwrap()).collect();
    assert_eq!(steps, [1, 2, 3, 4]);
    for r in &rows {
        let e: Vec<f64> = r["exponents"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        assert_eq!(e.len(), 3);
        assert!(e.windows(2).all(|w| w[0] >= w[1]) && e.iter().all(|v| v.is_finite()), "{e:?}");
    }
    assert!(dir.join("lyapunov.png").exists());
    // A memoryless policy has no spectrum: refused before anything is written.
    let mlp = dir.join("mlp");
    let out =
        engram(&["train", "--env", "Pendulum-v1", "--out", mlp.to_str().unwrap(), "--set", "lyapunov_exponents=2"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("lyapunov_exponents = 2") && err.contains("mlp"), "{err}");
    assert!(!mlp.exists());
    let _ = std::fs::remove_dir_all(&dir);
}
