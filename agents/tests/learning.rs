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

/// Success the trained reacher must reach on seeded trials (an untrained policy: 0 %).
const REACH_SUCCESS: f64 = 0.3;

#[test]
fn mlp_ppo_learns_the_delayed_reach_of_curlreach() {
    // scripts/configs/curl_reach_gru.toml with an MLP, 600k steps and a 2 cm early-move
    // tolerance: the full delayed task (300–800 ms delay, 20 % catch trials, 1 cm targets
    // held 200 ms) on CurlReach-v0's reward, whose progress term is what makes it learnable
    // (docs/results.md: without it, 0 % at 1.5M steps). About 15 s in release; reaches 61 %.
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/configs/curl_reach_gru.toml"))
        .unwrap();
    let sets = [
        "policy.kind=\"mlp\"",
        "policy.hidden=[64, 64]",
        "total_timesteps=600000",
        "env_config.early_move_tolerance_m=0.02",
    ];
    let cfg = TrainConfig::from_toml_with(&text, &sets.map(String::from)).unwrap();
    let mut t = Trainer::new(cfg).unwrap();
    while !t.finished() {
        t.train_update().unwrap();
    }
    let dir = std::env::temp_dir().join(format!("engram-learning-reach-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    engram_agents::checkpoint::save(&t, &dir).unwrap();
    let p = load_policy(&dir).unwrap();
    let spec = engram_agents::rollout::EpisodeSpec::seeded(100, 10_000);
    let r =
        engram_agents::rollout::evaluate(&p, &p.config.env, &p.config.env_config_json(), &spec, ActMode::Deterministic)
            .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let success = r.success_rate.expect("CurlReach reports success");
    eprintln!("CurlReach: success {:.0} %, mean return {:.2} after {} steps", 100.0 * success, r.mean, t.global_step);
    assert!(success >= REACH_SUCCESS, "success {success} < {REACH_SUCCESS} after {} steps", t.global_step);
}

/// The fused MLP engine (`policy.engine = "fused"`) must learn what the dfdx engine learns:
/// CartPole with the same config, seed and budget as above.
#[test]
fn fused_mlp_ppo_learns_cartpole_within_60k_steps() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/configs/cartpole_mlp.toml")).unwrap();
    let sets = ["total_timesteps=60000".into(), "seed=3".into(), "policy.engine=\"fused\"".into()];
    let cfg = TrainConfig::from_toml_with(&text, &sets).unwrap();
    let mut t = Trainer::new(cfg).unwrap();
    let mut best = f64::NEG_INFINITY;
    while !t.finished() && best < SOLVED {
        let m = t.train_update().unwrap();
        if m.return_mean.is_finite() {
            best = best.max(m.return_mean);
        }
    }
    eprintln!("CartPole (fused): rolling mean return {best:.1} after {} steps", t.global_step);
    assert!(best >= SOLVED, "best rolling mean return {best} < {SOLVED} after {} steps", t.global_step);
}

#[test]
fn cartpole_fast_config_solves_and_stops_at_its_target() {
    // scripts/configs/cartpole_fast.toml (fused engine, stop_at_return = 475): the run ends
    // at the first update whose train mean reaches 475, well inside its 150k budget
    // (docs/benchmarks.md: 10/10 seeds solved at 63–101k steps).
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/configs/cartpole_fast.toml")).unwrap();
    let cfg = TrainConfig::from_toml_with(&text, &["seed=3".into()]).unwrap();
    let budget = cfg.num_updates();
    let mut t = Trainer::new(cfg).unwrap();
    let mut last = f64::NAN;
    while !t.finished() {
        let before = t.return_mean();
        assert!(before.is_nan() || before < 475.0, "training went on after the target was reached");
        last = t.train_update().unwrap().return_mean;
    }
    assert!(last >= 475.0, "ended at return {last} after {} steps", t.global_step);
    assert!(t.update < budget, "stopped at update {} of {budget}", t.update);
}
