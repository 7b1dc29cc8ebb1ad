//! Learning tests: a small PPO run must actually learn (fails if PPO is broken).

use engram_agents::prelude::*;

/// RL-zoo-like CartPole hyperparameters, cut to a CI-sized budget.
fn cartpole_config(total: u64) -> TrainConfig {
    TrainConfig::from_toml_with(
        r#"
env = "CartPole-v1"
seed = 3
[ppo]
n_envs = 8
n_steps = 32
minibatch_size = 256
n_epochs = 20
gamma = 0.98
gae_lambda = 0.8
learning_rate = 1e-3
normalize_obs = false
"#,
        &[format!("total_timesteps={total}")],
    )
    .unwrap()
}

#[test]
fn mlp_ppo_learns_cartpole() {
    /// Gymnasium's old "solved" threshold for CartPole.
    const SOLVED: f64 = 195.0;
    let mut t = Trainer::new(cartpole_config(60_000)).unwrap();
    let mut best = f64::NEG_INFINITY;
    while !t.finished() {
        let m = t.train_update().unwrap();
        if m.update % 20 == 0 {
            eprintln!(
                "update {} step {} return {:.1} kl {:.4} ent {:.3}",
                m.update, m.global_step, m.return_mean, m.approx_kl, m.entropy
            );
        }
        if m.return_mean.is_finite() {
            best = best.max(m.return_mean);
        }
    }
    eprintln!("CartPole: best rolling mean return {best:.1} after {} steps", t.global_step);
    assert!(best >= SOLVED, "best rolling mean return {best} < {SOLVED}");
}
