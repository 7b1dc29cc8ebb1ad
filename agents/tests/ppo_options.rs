//! PPO options that change the update: KL early stop, LR annealing, value clipping.

use engram_agents::prelude::*;

fn config(sets: &[&str]) -> TrainConfig {
    let mut all =
        vec!["env=\"Pendulum-v1\"", "total_timesteps=1024", "ppo.n_envs=4", "ppo.n_steps=64", "ppo.n_epochs=4"];
    all.extend_from_slice(sets);
    TrainConfig::from_toml_with("", &all.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
}

fn metrics(cfg: TrainConfig) -> Vec<UpdateMetrics> {
    let mut t = Trainer::new(cfg).unwrap();
    let mut out = Vec::new();
    while !t.finished() {
        out.push(t.train_update().unwrap());
    }
    out
}

#[test]
fn kl_early_stop_ends_the_epochs() {
    // With a KL target of ~0 the first minibatch already exceeds 1.5 x target.
    let m = metrics(config(&["ppo.target_kl=1e-12"]));
    assert!(m.iter().all(|m| m.epochs == 1), "{:?}", m.iter().map(|m| m.epochs).collect::<Vec<_>>());
    let m = metrics(config(&[]));
    assert!(m.iter().all(|m| m.epochs == 4));
}

#[test]
fn learning_rate_anneals_linearly() {
    // 1024 steps / (4 x 64) = 4 updates: lr x (1, 3/4, 1/2, 1/4).
    let m = metrics(config(&["ppo.learning_rate=0.001"]));
    let lrs: Vec<f32> = m.iter().map(|m| m.learning_rate).collect();
    for (got, want) in lrs.iter().zip([1e-3, 7.5e-4, 5e-4, 2.5e-4]) {
        assert!((got - want).abs() < 1e-9, "{lrs:?}");
    }
    let m = metrics(config(&["ppo.learning_rate=0.001", "ppo.anneal_lr=false"]));
    assert!(m.iter().all(|m| m.learning_rate == 1e-3));
}

#[test]
fn value_clipping_changes_the_value_loss() {
    // Two epochs of one whole-rollout minibatch. Epoch 1 sees v = v_old, where clipping is
    // inert, so both runs take the same step; epoch 2 evaluates the same parameters, and the
    // clipped loss (elementwise max of clipped and unclipped terms) exceeds the unclipped one
    // once the values moved by more than the clip range.
    let one = ["ppo.n_epochs=2", "ppo.minibatch_size=256", "ppo.learning_rate=0.01"];
    let plain = metrics(config(&one));
    let mut sets = one.to_vec();
    sets.push("ppo.clip_vloss=0.001");
    let clipped = metrics(config(&sets));
    assert!(clipped[0].v_loss > plain[0].v_loss, "{} vs {}", clipped[0].v_loss, plain[0].v_loss);
}
