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

#[test]
fn kl_regularizers_are_named_in_the_metrics_and_pull_the_policy_their_way() {
    // Each term appears by name once its weight is positive (and not at all at weight 0, so
    // existing metrics files are unchanged). A strong weight leaves a smaller value of its
    // own term after training than a negligible one, on every engine: the MLP on dfdx and on
    // the fused engine (previous steps given) and the GRU (previous steps in the chunk).
    let off = metrics(config(&[]));
    assert!(off.iter().all(|m| m.kl_zeroness.is_none() && m.kl_smoothness.is_none()));
    for policy in
        [&["policy.engine=\"dfdx\""][..], &["policy.engine=\"fused\""], &["policy.kind=\"gru\"", "ppo.bptt_len=16"]]
    {
        let run = |w: &str| {
            let mut sets = policy.to_vec();
            let (z, s) = (format!("ppo.kl_zeroness={w}"), format!("ppo.kl_smoothness={w}"));
            sets.extend([z.as_str(), s.as_str(), "ppo.learning_rate=0.003"]);
            let last = metrics(config(&sets)).pop().unwrap();
            (last.kl_zeroness.unwrap(), last.kl_smoothness.unwrap())
        };
        let (weak, strong) = (run("1e-9"), run("3.0"));
        assert!(strong.0 < weak.0 && strong.1 < weak.1, "{policy:?}: weight 3 {strong:?} vs 1e-9 {weak:?}");
    }
}

#[test]
fn kl_regularizers_need_a_gaussian_head() {
    let cfg = TrainConfig::from_toml_with("", &["env=\"CartPole-v1\"".into(), "ppo.kl_smoothness=0.1".into()]).unwrap();
    let Err(err) = Trainer::new(cfg) else { panic!("KL regularizers accepted on a discrete action space") };
    let err = err.to_string();
    assert!(err.contains("ppo.kl_smoothness = 0.1") && err.contains("discrete"), "{err}");
}
