//! Checkpoints: resume equals an uninterrupted run; bad checkpoints are clear errors.

use engram_agents::checkpoint;
use engram_agents::prelude::*;
use std::path::PathBuf;

fn tmp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("engram-agents-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Small configs that exercise every piece of saved state: recurrent hidden state, env
/// replay mid-episode, observation and reward normalizers, Adam moments, LR annealing.
fn configs() -> Vec<TrainConfig> {
    let gru = TrainConfig::from_toml_with(
        r#"
env = "PendulumNoVel-v1"
seed = 5
total_timesteps = 1200
[policy]
kind = "gru"
rnn_hidden = 8
hidden = [8]
[ppo]
n_envs = 3
n_steps = 50
minibatch_size = 50
bptt_len = 25
n_epochs = 2
normalize_reward = true
obs_norm_passthrough = [1]
"#,
        &[],
    )
    .unwrap();
    let mlp = TrainConfig::from_toml_with(
        "env = \"CartPole-v1\"\nseed = 9\ntotal_timesteps = 1600\n[policy]\nhidden = [16]\n[ppo]\nn_envs = 4\nn_steps = 64\nn_epochs = 2\n",
        &[],
    )
    .unwrap();
    vec![gru, mlp]
}

fn weights(t: &Trainer) -> Vec<Vec<u32>> {
    t.policy.params().items().iter().map(|p| p.values().iter().map(|v| v.to_bits()).collect()).collect()
}

#[test]
fn resumed_run_equals_uninterrupted_run() {
    for (k, cfg) in configs().into_iter().enumerate() {
        let mut straight = Trainer::new(cfg.clone()).unwrap();
        let mut metrics_a = Vec::new();
        while !straight.finished() {
            metrics_a.push(straight.train_update().unwrap());
        }
        let dir = tmp_dir(&format!("resume{k}"));
        let mut first = Trainer::new(cfg.clone()).unwrap();
        let mut metrics_b = Vec::new();
        for _ in 0..3 {
            metrics_b.push(first.train_update().unwrap());
        }
        checkpoint::save(&first, &dir).unwrap();
        drop(first);
        let mut resumed = checkpoint::load_trainer(&dir).unwrap();
        assert_eq!(resumed.update, 3);
        while !resumed.finished() {
            metrics_b.push(resumed.train_update().unwrap());
        }
        assert_eq!(metrics_a.len(), metrics_b.len());
        for (a, b) in metrics_a.iter().zip(&metrics_b) {
            assert_eq!(serde_json::to_string(a).unwrap(), serde_json::to_string(b).unwrap(), "config {k}");
        }
        assert!(weights(&straight) == weights(&resumed), "config {k}: final weights differ");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn normalizer_passthrough_travels_with_the_agent_and_bad_indices_are_refused() {
    let cfg = configs().remove(0);
    let mut t = Trainer::new(cfg.clone()).unwrap();
    t.train_update().unwrap();
    let rms = t.obs_rms().unwrap();
    assert_eq!(rms.passthrough, vec![1]);
    assert!(rms.var[1] > 0.0, "statistics of a pass-through component still update");
    let dir = tmp_dir("passthrough");
    checkpoint::save(&t, &dir).unwrap();
    let loaded = checkpoint::load_policy(&dir).unwrap();
    assert_eq!(loaded.obs_rms.as_ref().unwrap().passthrough, vec![1]);
    let _ = std::fs::remove_dir_all(&dir);
    // PendulumNoVel-v1 has 2 observation components.
    let mut bad = cfg.clone();
    bad.ppo.obs_norm_passthrough = vec![2];
    let e = Trainer::new(bad).err().unwrap().to_string();
    assert!(e.contains("obs_norm_passthrough") && e.contains("component 2") && e.contains("2 components"), "{e}");
    let mut bad = cfg;
    bad.ppo.normalize_obs = false;
    let e = Trainer::new(bad).err().unwrap().to_string();
    assert!(e.contains("obs_norm_passthrough") && e.contains("normalize_obs"), "{e}");
}

#[test]
fn missing_truncated_and_mismatched_checkpoints_are_clear_errors() {
    let dir = tmp_dir("bad");
    let err = checkpoint::load_trainer(&dir).err().expect("empty dir must fail").to_string();
    assert!(err.contains("no checkpoint"), "{err}");

    let cfg = configs().remove(1);
    let t = Trainer::new(cfg).unwrap();
    let ck = checkpoint::save(&t, &dir).unwrap();
    assert!(checkpoint::load_trainer(&dir).is_ok());
    assert!(engram_agents::load_policy(&dir).is_ok());

    // Truncated weights.
    let w = ck.join("weights.safetensors");
    let bytes = std::fs::read(&w).unwrap();
    std::fs::write(&w, &bytes[..bytes.len() / 2]).unwrap();
    let err = checkpoint::load_trainer(&dir).err().expect("truncated must fail").to_string();
    assert!(err.contains("weights.safetensors"), "{err}");
    std::fs::write(&w, &bytes).unwrap();

    // Truncated metadata.
    let m = ck.join("meta.json");
    let meta = std::fs::read_to_string(&m).unwrap();
    std::fs::write(&m, &meta[..meta.len() / 2]).unwrap();
    let err = checkpoint::load_trainer(&dir).err().expect("truncated meta must fail").to_string();
    assert!(err.contains("meta.json"), "{err}");

    // Metadata from a different architecture.
    let changed = meta.replacen("\"hidden\": [\n        16\n      ]", "\"hidden\": [\n        32\n      ]", 1);
    assert_ne!(changed, meta, "the edit must hit the policy widths");
    std::fs::write(&m, changed).unwrap();
    let err = checkpoint::load_trainer(&dir).err().expect("mismatch must fail").to_string();
    assert!(err.contains("actor.mlp0.weight") && err.contains("policy"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
