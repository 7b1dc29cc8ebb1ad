//! The env checker over every registered env, and the registry's error paths.

use engram_envs::checker::{check_env_id, CheckOptions};
use engram_envs::prelude::*;
use engram_envs::registry;

/// Random steps per env in the test suite (`engram check-env --steps` runs more).
const CHECK_STEPS: usize = 5_000;

#[test]
fn every_registered_env_passes_the_checker() {
    let ids = registry::list();
    assert!(ids.len() >= 4, "registry lists {ids:?}");
    for id in ids {
        let opts = CheckOptions { steps: CHECK_STEPS, determinism_steps: 500, seed: 0 };
        let report = check_env_id(id, &opts).unwrap_or_else(|e| panic!("{e}"));
        assert!(report.passed.contains(&"same seed, same trajectory"), "{id}: {:?}", report.passed);
        assert!(report.passed.contains(&"bad actions refused"), "{id}");
    }
}

#[test]
fn unknown_id_names_the_id_and_the_alternatives() {
    let err = make("CartPole-v9").err().unwrap();
    let msg = err.to_string();
    assert!(matches!(err, EnvError::UnknownId { .. }));
    assert!(msg.contains("CartPole-v9") && msg.contains("CartPole-v1"), "{msg}");
}

#[test]
fn invalid_config_values_name_field_value_and_bound() {
    let err = make_with("CartPole-v1", &serde_json::json!({"pole_mass_kg": -1.0})).err().unwrap();
    match &err {
        EnvError::InvalidConfig { env, field, value, bound } => {
            assert_eq!(env, "CartPole-v1");
            assert_eq!(field, "pole_mass_kg");
            assert_eq!(value, "-1");
            assert!(bound.contains("> 0"));
        }
        other => panic!("{other:?}"),
    }
    let err = make_with("Pendulum-v1", &serde_json::json!({"max_episode_steps": 0})).err().unwrap();
    assert!(matches!(err, EnvError::InvalidConfig { ref field, .. } if field == "max_episode_steps"), "{err}");
}

#[test]
fn malformed_configs_are_parse_errors_not_panics() {
    let unknown = make_with("Pendulum-v1", &serde_json::json!({"gravity": 9.8})).err().unwrap();
    assert!(matches!(unknown, EnvError::ConfigParse { .. }) && unknown.to_string().contains("gravity"), "{unknown}");
    let wrong_type = make_with("Pendulum-v1", &serde_json::json!({"mass_kg": "heavy"})).err().unwrap();
    assert!(matches!(wrong_type, EnvError::ConfigParse { .. }), "{wrong_type}");
    let bad_toml = registry::make_from_toml("Pendulum-v1", "mass_kg = = 2").err().unwrap();
    assert!(matches!(bad_toml, EnvError::ConfigParse { .. }), "{bad_toml}");
    let bad_json = registry::make_from_json("Pendulum-v1", "{\"mass_kg\": ").err().unwrap();
    assert!(matches!(bad_json, EnvError::ConfigParse { .. }), "{bad_json}");
}

#[test]
fn configs_from_toml_change_the_dynamics() {
    let mut heavy = registry::make_from_toml("Pendulum-v1", "mass_kg = 2.0\nmax_episode_steps = 7").unwrap();
    let mut nominal = make("Pendulum-v1").unwrap();
    assert_eq!(heavy.max_episode_steps(), Some(7));
    heavy.reset(Some(1), &ResetOptions::default()).unwrap();
    nominal.reset(Some(1), &ResetOptions::default()).unwrap();
    let a = heavy.step(&[2.0]).unwrap();
    let b = nominal.step(&[2.0]).unwrap();
    assert_ne!(a.obs, b.obs);
    for t in 1..7 {
        let s = heavy.step(&[0.0]).unwrap();
        assert_eq!(s.truncated, t == 6, "step {t}");
    }
}

#[test]
fn cartpole_truncates_at_exactly_500_steps_under_a_balancing_controller() {
    let mut env = make("CartPole-v1").unwrap();
    env.reset(Some(0), &ResetOptions::default()).unwrap();
    let mut obs = env.state().unwrap();
    for t in 1..=500 {
        // A linear state-feedback controller that balances the pole indefinitely.
        let u = obs[0] * 1.0 + obs[1] * 1.5 + obs[2] * 18.0 + obs[3] * 3.0;
        let s = env.step(&[if u > 0.0 { 1.0 } else { 0.0 }]).unwrap();
        assert!(!s.terminated, "pole fell at step {t}");
        assert_eq!(s.truncated, t == 500, "step {t}");
        obs = env.state().unwrap();
    }
    assert!(matches!(env.step(&[0.0]), Err(EnvError::StepAfterDone { .. })));
}

#[test]
fn reset_options_are_checked() {
    let mut env = make("CartPole-v1").unwrap();
    let err = env.reset(Some(0), &ResetOptions::new().with("target", 1.0)).err().unwrap();
    assert!(matches!(err, EnvError::InvalidOption { ref key, .. } if key == "target"), "{err}");
}
