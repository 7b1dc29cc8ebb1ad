//! The sim-to-real study end to end on a tiny budget (plan → training → evaluation → sysid
//! probe → Siekmann's decoder → report and figures), resuming, and the CLI's errors.

mod common;

use common::{engram, engram_ok as ok};
use std::path::{Path, PathBuf};

fn fails(args: &[&str]) -> String {
    let out = engram(args);
    assert!(!out.status.success(), "engram {args:?} should fail");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("engram-sim2real-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A few thousand steps: 1 seed × DR on × {MLP, GRU}, tiny evaluation and probe.
const TINY: &str = r#"
seeds = 1
dr = [true]
total_timesteps = 1024
param_tolerance = 100.0
[[policies]]
policy = { kind = "mlp", hidden = [16] }
[[policies]]
policy = { kind = "gru", rnn_hidden = 8, hidden = [] }
ppo = { bptt_len = 16, minibatch_size = 64 }
[eval]
episodes = 2
real_episodes = 2
fixed_sets = 2
episodes_per_fixed_set = 1
severities = [0.5]
[probe]
episodes = 20
times = [5, 10]
window = 2
[probe.mlp]
epochs = 20
[siekmann]
episodes = 20
steps = [2, 8]
decoder = { hidden = [16, 16], activation = "relu", epochs = 30 }
[train.ppo]
n_envs = 2
n_steps = 256
n_epochs = 2
minibatch_size = 128
"#;

fn read_json(p: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))).unwrap()
}

#[test]
fn tiny_study_runs_end_to_end_and_resumes() {
    let d = tmp("tiny");
    let cfg = d.join("tiny.toml");
    std::fs::write(&cfg, TINY).unwrap();
    let out = d.join("study");
    let (c, o) = (cfg.to_str().unwrap(), out.to_str().unwrap());
    ok(&["experiment", "sim2real", "--config", c, "--out", o, "--jobs", "1"]);
    let plan = read_json(&out.join("plan.json"));
    assert_eq!(plan["study"], "sim2real");
    let jobs = plan["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 2);
    for j in jobs {
        let jd = out.join(j["out_dir"].as_str().unwrap());
        let eval = read_json(&jd.join("eval.json"));
        let conds: Vec<&str> =
            eval["conditions"].as_array().unwrap().iter().map(|c| c["condition"].as_str().unwrap()).collect();
        assert_eq!(
            conds,
            ["train", "fixed", "R1", "R2", "R3", "R4", "real", "R1@0.50", "R2@0.50", "R3@0.50", "R4@0.50"]
        );
        for c in eval["conditions"].as_array().unwrap() {
            let n = c["returns"].as_array().unwrap().len();
            let fall = c["fall_rate"].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&fall));
            // Every episode either fell or ran to the 1000-step limit.
            for (f, l) in c["fell"].as_array().unwrap().iter().zip(c["time_to_fall_steps"].as_array().unwrap()) {
                let l = l.as_u64().unwrap();
                assert!((1..=1000).contains(&l) && (f.as_bool().unwrap() || l == 1000), "{c}");
            }
            // 2 episodes in every condition (fixed: 2 sets × 1), each with its gait.
            assert_eq!(n, 2);
            assert_eq!(c["forward_speed_m_s"].as_array().unwrap().len(), 2);
            assert_eq!(c["cadence_hz"].as_array().unwrap().len(), 2);
            assert!(c["forward_speed_mean_m_s"].as_f64().unwrap().is_finite());
        }
        // The real robots are the families' robots: robots 0 and 1 of `real` are those of R1,
        // and the same policy, seeds and batch size give the same episodes (a different batch
        // size may change the policy's float rounding).
        let get = |name: &str| {
            eval["conditions"].as_array().unwrap().iter().find(|c| c["condition"] == name).unwrap().clone()
        };
        assert_eq!(get("real")["returns"], get("R1")["returns"]);
        let sysid = read_json(&jd.join("sysid.json"));
        assert_eq!(sysid["targets"].as_array().unwrap().len(), 31);
        assert_eq!(sysid["env"], "PlanarBipedDR-v0");
        assert_eq!(sysid["features"].as_array().unwrap().len(), 4);
        // Siekmann's decoder: the 23 physical parameters, memory and its baselines for the GRU,
        // the observation window alone for the memoryless MLP; every kept episode on one side.
        let s = read_json(&jd.join("siekmann.json"));
        assert_eq!((s["schema"].as_str(), s["env"].as_str()), (Some("engram.siekmann/1"), Some("PlanarBipedDR-v0")));
        assert_eq!(s["targets"].as_array().unwrap().len(), 23);
        let steps = s["sampled_steps"].as_array().unwrap();
        assert!(steps.len() == 20 && steps.iter().all(|t| (2..=8).contains(&t.as_u64().unwrap())));
        let n = s["n"].as_u64().unwrap();
        assert_eq!(n + s["dropped"].as_u64().unwrap(), 20);
        assert_eq!(s["n_train"].as_u64().unwrap() + s["n_test"].as_u64().unwrap(), n);
        let features: Vec<&str> =
            s["features"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
        let recurrent = j["id"].as_str().unwrap().starts_with("gru");
        assert_eq!(features, if recurrent { vec!["memory", "untrained", "window"] } else { vec!["window"] });
        for f in s["features"].as_array().unwrap() {
            assert!(f["percent_error"].as_array().unwrap().iter().all(|v| v.as_f64().is_some_and(|v| v >= 0.0)), "{f}");
        }
    }
    assert!(out.join("report.md").exists() && out.join("report.json").exists());
    for fig in ["returns", "sysid_r2", "learning_curves", "return_vs_severity", "strips_mlp_dr", "strips_gru_dr"] {
        for ext in ["png", "svg"] {
            assert!(out.join(format!("figures/{fig}.{ext}")).exists(), "{fig}.{ext}");
        }
    }
    let report = read_json(&out.join("report.json"));
    assert_eq!(report["table"].as_array().unwrap().len(), 2 * 7);
    assert_eq!(report["severity"].as_array().unwrap().len(), 2 * 4);
    assert_eq!(report["dr_effect"].as_array().unwrap().len(), 2 * 5);
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("RNN+DR > MLP+DR > no-DR") && md.contains("Return vs severity"), "{md}");
    assert!(md.contains("Siekmann Table II analogue") && md.contains("figures/strips_gru_dr.png"), "{md}");
    assert_eq!(report["siekmann"]["groups"].as_array().unwrap().len(), 2);
    // Running it again finds every job done and rewrites the same report.
    let before = std::fs::read_to_string(out.join("report.json")).unwrap();
    ok(&["experiment", "sim2real", "--config", c, "--out", o, "--jobs", "1"]);
    assert_eq!(std::fs::read_to_string(out.join("report.json")).unwrap(), before);
    // A job finished before the decoder existed (done, no siekmann.json) gets it on resume,
    // without retraining, and the same one (seeded).
    let gru_dir = out.join(jobs[1]["out_dir"].as_str().unwrap());
    let decoded = std::fs::read_to_string(gru_dir.join("siekmann.json")).unwrap();
    let done_time = |d: &Path| std::fs::metadata(d.join("done.json")).unwrap().modified().unwrap();
    let done_before = done_time(&gru_dir);
    std::fs::remove_file(gru_dir.join("siekmann.json")).unwrap();
    ok(&["experiment", "sim2real", "--config", c, "--out", o, "--jobs", "1"]);
    assert_eq!(std::fs::read_to_string(gru_dir.join("siekmann.json")).unwrap(), decoded);
    assert_eq!(done_time(&gru_dir), done_before, "the job was not rerun");
    assert_eq!(std::fs::read_to_string(out.join("report.json")).unwrap(), before);

    // The probe CLI on one run and on the study; its errors.
    let job_dir = out.join(jobs[1]["out_dir"].as_str().unwrap());
    let j = job_dir.to_str().unwrap();
    let text = ok(&["probe", "sysid", "--run", j, "--episodes", "20"]);
    assert!(text.contains("policy") && text.contains("norm_mass_torso"), "{text}");
    ok(&["probe", "sysid", "--run", o]);
    let err = fails(&["probe", "sysid", "--run", d.join("missing").to_str().unwrap()]);
    assert!(err.contains("does not exist"), "{err}");
    // A probe time the episodes never reach is refused, naming the value and the bound.
    let probe_cfg = d.join("probe.toml");
    std::fs::write(&probe_cfg, "episodes = 20\ntimes = [5, 1000]\n").unwrap();
    let err = fails(&["probe", "sysid", "--run", j, "--config", probe_cfg.to_str().unwrap()]);
    assert!(err.contains("time 1000 is beyond the episode length") && err.contains("< 1000"), "{err}");
    // engram eval on a walker reports falls and gait.
    let text = ok(&["eval", "--checkpoint", j, "--episodes", "2"]);
    assert!(text.contains("fall rate") && text.contains("forward speed") && text.contains("cadence"), "{text}");
    let err = fails(&["probe", "sysid", "--run", j, "--env", "CurlReach-v0"]);
    assert!(err.contains("does not fit a run trained on PlanarBipedDR-v0"), "{err}");
    // A plan whose widths violate the 10 % matching is refused before anything runs.
    std::fs::write(&cfg, TINY.replace("param_tolerance = 100.0", "param_tolerance = 0.1")).unwrap();
    let err =
        fails(&["experiment", "sim2real", "--config", c, "--out", d.join("bad").to_str().unwrap(), "--plan-only"]);
    assert!(err.contains("not matched within 10 %"), "{err}");
    assert!(!d.join("bad").join("plan.json").exists());
    let _ = std::fs::remove_dir_all(&d);
}

/// Trains 256 steps (2 envs × 128) with `args` into `out`.
fn train_tiny(args: &[&str], out: &str) {
    let mut a = vec!["train", "--out", out, "--quiet"];
    a.extend_from_slice(args);
    a.extend_from_slice(&["--set", "total_timesteps=256", "--set", "ppo.n_envs=2", "--set", "ppo.n_steps=128"]);
    ok(&a);
}

#[test]
fn probe_refuses_a_run_of_another_env() {
    let d = tmp("cartpole");
    let run = d.join("run");
    let r = run.to_str().unwrap();
    train_tiny(&["--env", "CartPole-v1"], r);
    let err = fails(&["probe", "sysid", "--run", r]);
    assert!(err.contains("needs a run trained on a PlanarBiped or CurlReach env"), "{err}");
    // A reaching run: the probe decodes the curl strength b, drawn per episode.
    let reach = d.join("reach");
    let rr = reach.to_str().unwrap();
    train_tiny(&["--env", "CurlReach-v0", "--policy", "gru", "--set", "policy.rnn_hidden=8"], rr);
    ok(&["probe", "sysid", "--run", rr, "--episodes", "20"]);
    let report = read_json(&reach.join("sysid.json"));
    assert_eq!(report["targets"], serde_json::json!(["field_b"]));
    assert_eq!(report["env"], "CurlReach-v0");
    let err = fails(&["probe", "sysid", "--run", rr, "--env", "PlanarBipedDR-v0"]);
    assert!(err.contains("does not fit"), "{err}");
    let _ = std::fs::remove_dir_all(&d);
}
