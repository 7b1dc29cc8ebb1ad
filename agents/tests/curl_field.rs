//! The curl-field experiment end to end on a tiny budget: curriculum, learning-rate
//! schedule, every phase, the recordings at phase starts and ends, idempotent re-runs, the
//! report with its figures.

mod common;

use common::{engram, ok};

fn scratch(name: &str) -> std::path::PathBuf {
    common::scratch("curl", name)
}

/// A JSON file of a study's output.
fn json(path: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Runs the tiny study with one seed and `settings` (top-level config lines) in a scratch
/// directory; returns the directory and the study's output in it.
fn one_seed_study(name: &str, settings: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let dir = scratch(name);
    let cfg = dir.join(format!("{name}.toml"));
    std::fs::write(&cfg, TINY.replace("seeds = 2\n", &format!("seeds = 1\n{settings}"))).unwrap();
    let out = dir.join("study");
    ok(engram(&["study", "curl-field", "--config", cfg.to_str().unwrap(), "--out", out.to_str().unwrap()]));
    (dir, out)
}

/// Two seeds, 2 curriculum stages, 1–3 updates per phase, 32 env steps per update.
const TINY: &str = r#"
seeds = 2
gate_min_success = 0.0
record_every = 2
record_repeats = 2
phase_learning_rate = 1e-4
[updates]
pretrain = 3
baseline = 1
learning = 3
washout = 2
relearning = 1
[[curriculum]]
updates = 1
[curriculum.env_config]
catch_probability = 0.0
timing = { target_onset_s = [0.0, 0.0], delay_s = [0.0, 0.0] }
[[curriculum]]
updates = 1
[curriculum.env_config]
target_radius_m = 0.02
[train]
env = "CurlReach-v0"
[train.policy]
kind = "gru"
rnn_hidden = 8
hidden = [8]
[train.ppo]
n_envs = 2
n_steps = 16
bptt_len = 8
minibatch_size = 16
n_epochs = 1
"#;

#[test]
fn tiny_study_runs_every_phase_records_and_reports() {
    let dir = scratch("tiny");
    let cfg = dir.join("tiny.toml");
    std::fs::write(&cfg, TINY).unwrap();
    let out = dir.join("study");
    let (cfg_s, out_s) = (cfg.to_str().unwrap(), out.to_str().unwrap());
    ok(engram(&["study", "curl-field", "--config", cfg_s, "--out", out_s, "--jobs", "2"]));

    for seed in 0..2 {
        let job = out.join(format!("jobs/null-seed{seed}"));
        let records = json(&job.join("prep_records.json"));
        let at: Vec<(u64, String)> = records
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["update"].as_u64().unwrap(), r["phase"].as_str().unwrap().to_string()))
            .collect();
        // Phase ends 3, 4, 7, 9, 10; first exposure at each phase start; every 2 updates
        // inside phases after pretraining.
        let expect: Vec<(u64, &str)> = vec![
            (3, "pretrain"),
            (3, "baseline"),
            (4, "baseline"),
            (4, "learning"),
            (6, "learning"),
            (7, "learning"),
            (7, "washout"),
            (8, "washout"),
            (9, "washout"),
            (9, "relearning"),
            (10, "relearning"),
        ];
        let expect: Vec<(u64, String)> = expect.into_iter().map(|(u, p)| (u, p.to_string())).collect();
        assert_eq!(at, expect, "seed {seed}");
        let first = &records[0];
        assert_eq!(first["targets"].as_array().unwrap().len(), 8);
        assert_eq!(first["hidden"].as_u64(), Some(8));
        let done = json(&job.join("done.json"));
        assert_eq!(done["updates"].as_u64(), Some(10), "{done}");
        assert!(done["seconds"]["train"].as_f64().unwrap() > 0.0, "{done}");
    }
    // A second run finds every job done and changes nothing.
    let before = std::fs::read(out.join("jobs/null-seed0/prep_records.json")).unwrap();
    ok(engram(&["run", "--plan", out_s, "--jobs", "1"]));
    assert_eq!(before, std::fs::read(out.join("jobs/null-seed0/prep_records.json")).unwrap());

    let report = json(&out.join("report.json"));
    assert_eq!(report["schema"], "engram.report.curl-field/1");
    let variant = &report["variants"]["null"];
    assert_eq!(variant["seeds"], serde_json::json!([0, 1]));
    assert_eq!(variant["checks"].as_array().unwrap().len(), 5);
    // An untrained agent barely moves, so its initial forces may not span a force plane:
    // the probe then reports why it could not run instead of failing the report.
    let prep = &variant["prep_shift"];
    assert!(
        prep["statistics"].as_array().is_some_and(|s| s.len() == 7)
            || prep["error"].as_str().is_some_and(|e| e.contains("rank")),
        "{prep}"
    );
    for fig in ["deviation_null", "paths_null_baseline", "paths_null_washout", "delay_pca_null"] {
        let png = out.join("figures").join(format!("{fig}.png"));
        assert!(std::fs::metadata(&png).map(|m| m.len() > 1000).unwrap_or(false), "{}", png.display());
    }
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("## Time") && md.contains("figures/deviation_null.png"), "{md}");

    // `engram probe prep-shift` rewrites the same report from the recordings.
    std::fs::remove_file(out.join("report.json")).unwrap();
    let printed = ok(engram(&["probe", "prep-shift", "--run", out_s]));
    assert_eq!(printed.trim(), out.join("report.md").display().to_string());
    let again = json(&out.join("report.json"));
    assert_eq!(again["variants"]["null"]["checks"], variant["checks"]);
    assert_eq!(again["excluded"], serde_json::json!([]));
    // Leaving out the seeds that did not learn: these untrained agents never succeed, so
    // `--min-success 1` leaves nothing, and says so; a fraction above 1 is refused.
    for (bound, expect) in [("1", "every seed"), ("1.5", "must be a fraction in [0, 1]")] {
        let out = engram(&["probe", "prep-shift", "--run", out_s, "--min-success", bound]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(expect), "--min-success {bound}: {err}");
    }
    // … and names the unfinished jobs instead of reporting on part of a study.
    std::fs::remove_file(out.join("jobs/null-seed1/done.json")).unwrap();
    let refused = engram(&["probe", "prep-shift", "--run", out_s]);
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success() && err.contains("1 of 2 jobs") && err.contains("null-seed1"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_curriculum_longer_than_pretraining_is_refused_with_the_numbers() {
    let dir = scratch("bad");
    let cfg = dir.join("bad.toml");
    std::fs::write(
        &cfg,
        TINY.replace("updates = 1\n[curriculum.env_config]\ntarget", "updates = 2\n[curriculum.env_config]\ntarget"),
    )
    .unwrap();
    let out = engram(&[
        "experiment",
        "curl-field",
        "--config",
        cfg.to_str().unwrap(),
        "--out",
        dir.join("o").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("curriculum stages take 3 updates") && err.contains("updates.pretrain = 3"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn with_a_zero_strength_field_the_learning_variant_equals_drift_so_no_learning_specific_shift() {
    // The drift control trains the same schedule in the null field. With b = 0 the `null`
    // variant's curl phases push with no force, so its recordings must equal drift's bit for
    // bit and every "variant − drift" difference of the report is exactly zero.
    let (dir, out) = one_seed_study("drift", "variants = [\"null\", \"drift\"]\nb_ns_m = 0.0\n");
    let read = |v: &str| json(&out.join(format!("jobs/{v}-seed0/prep_records.json")));
    let (null, drift) = (read("null"), read("drift"));
    let n = null.as_array().unwrap().len();
    assert_eq!(n, drift.as_array().unwrap().len());
    for i in 0..n {
        for key in ["prep_last", "init_force", "max_lateral_deviation_m", "speeds", "adaptation_index"] {
            assert_eq!(null[i][key], drift[i][key], "record {i}: {key}");
        }
    }
    let report = json(&out.join("report.json"));
    let tests = report["controls"]["tests"].as_array().unwrap();
    let vs_drift: Vec<&serde_json::Value> =
        tests.iter().filter(|t| t["name"].as_str().unwrap().contains("`null` − `drift`")).collect();
    // The probe may be undefined on untrained agents; whatever it defines differs by 0.
    for t in vs_drift {
        assert!(t["estimate"].is_null() || t["estimate"].as_f64() == Some(0.0), "{t}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_sham_field_drift_control_shares_pretraining_and_shows_the_input() {
    // `drift_input` reads the b input like `null_input` and steps it with the schedule, but its
    // field is a sham: the two share pretraining bit for bit and the sham's recordings show
    // the strength.
    let (dir, out) = one_seed_study("drift_input", "variants = [\"null_input\", \"drift_input\", \"drift\"]\n");
    let read = |v: &str| json(&out.join(format!("jobs/{v}-seed0/prep_records.json")));
    let (input, sham) = (read("null_input"), read("drift_input"));
    let (input, sham) = (input.as_array().unwrap(), sham.as_array().unwrap());
    let pre = |r: &serde_json::Value| r["phase"] == "pretrain" || r["phase"] == "baseline";
    let shared = input.iter().filter(|r| pre(r)).count();
    assert!(shared >= 2);
    for (a, b) in input.iter().zip(sham).take(shared) {
        assert_eq!(a["prep_last"], b["prep_last"], "{}", a["phase"]);
    }
    let learning: Vec<&serde_json::Value> = sham.iter().filter(|r| r["phase"] == "learning").collect();
    assert!(!learning.is_empty() && learning.iter().all(|r| r["field_b"] == 8.0));
    // A control has no savings test of its own (the pairing with `drift_input` is unit-tested
    // in `controls`; the tiny agents are too small for the preparatory-shift probe).
    let report = json(&out.join("report.json"));
    let names: Vec<&str> =
        report["controls"]["tests"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert!(names.iter().any(|n| n.contains("savings `null_input`")), "{names:?}");
    assert!(!names.iter().any(|n| n.contains("savings `drift_input`") || n.contains("savings `drift`")), "{names:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_study_configs_are_refused_naming_the_field_value_and_bound() {
    let dir = scratch("badcfg");
    for (edit, expect) in [
        (("seeds = 2\n", "seeds = 2\ntrained_target = 8\n"), "trained_target = 8 (must be < n_targets = 8)"),
        (("washout = 2", "washout = 0"), "updates.washout = 0 (must be >= 1)"),
        (("seeds = 2\n", "seeds = 2\nvariants = [\"null\", \"drift\", \"null\"]\n"), "variants[2] = null"),
        (("[train.ppo]", "[train.env_config.reward]\nspeed_weight = -1.0\n[train.ppo]"), "reward.speed_weight"),
        (("gate_min_success = 0.0", "gate_min_success = 1.5"), "gate_min_success = 1.5"),
    ] {
        let cfg = dir.join("bad.toml");
        std::fs::write(&cfg, TINY.replacen(edit.0, edit.1, 1)).unwrap();
        let out = engram(&[
            "study",
            "curl-field",
            "--config",
            cfg.to_str().unwrap(),
            "--out",
            dir.join("o").to_str().unwrap(),
        ]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(expect), "{expect}: {err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
