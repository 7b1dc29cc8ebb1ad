//! Learning test: a small PPO run must actually learn (fails if PPO is broken).

use engram_agents::prelude::*;

/// Gymnasium's old "solved" threshold for CartPole-v1.
const SOLVED: f64 = 195.0;

#[test]
fn mlp_ppo_learns_cartpole_within_60k_steps() {
    // RL-zoo-like CartPole hyperparameters (scripts/configs/cartpole_mlp.toml), cut to a
    // CI-sized budget. Takes about 15 s in release.
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/configs/cartpole_mlp.toml")).unwrap();
    let cfg = TrainConfig::from_toml_with(&text, &["total_timesteps=60000".into(), "seed=3".into()]).unwrap();
    let mut t = Trainer::new(cfg).unwrap();
    let mut best = f64::NEG_INFINITY;
    while !t.finished() && best < SOLVED {
        let m = t.train_update().unwrap();
        if m.return_mean.is_finite() {
            best = best.max(m.return_mean);
        }
    }
    eprintln!("CartPole: rolling mean return {best:.1} after {} steps", t.global_step);
    assert!(best >= SOLVED, "best rolling mean return {best} < {SOLVED} after {} steps", t.global_step);
}
