//! Behaviour tests of `CurlReachMuscle-v0` (integration tests: they use the checker and the
//! registry, which sit above the task in the crate).

use engram_envs::checker::{check_env_id, CheckOptions};
use engram_envs::env::{Env, ResetOptions};
use engram_envs::error::EnvError;
use engram_envs::registry::{make, make_with};
use engram_envs::tasks::reach::muscle::*;
use engram_envs::tasks::reach::CurlReach;
use engram_sim::muscle::N_MUSCLES;

#[test]
fn passes_the_checker_and_has_the_muscle_spaces() {
    let opts = CheckOptions { steps: 3_000, determinism_steps: 300, seed: 0 };
    check_env_id(MUSCLE_ID, &opts).unwrap_or_else(|e| panic!("{e}"));
    let env = make(MUSCLE_ID).unwrap();
    assert_eq!(env.action_space().flat_dim(), 6);
    assert_eq!(env.observation_space().flat_dim(), 17);
}

#[test]
fn nan_names_the_muscle_and_out_of_range_is_clipped_and_reported() {
    let mut env = make(MUSCLE_ID).unwrap();
    env.reset(Some(1), &ResetOptions::new()).unwrap();
    let err = env.step(&[0.1, 0.1, 0.1, f32::NAN, 0.1, 0.1]).err().unwrap().to_string();
    assert!(err.contains("tricepslat") && err.contains("muscle 3"), "{err}");
    let info = env.step(&[-0.5, 1.5, 0.2, 0.2, 0.0, 0.3]).unwrap().info;
    // -0.5 → 0.001, 1.5 → 1, 0.0 → 0.001 (MotorNet's floor): three clipped.
    assert_eq!(info.get("excitation_clipped"), Some(3.0));
    assert!(info.get("force_deltoid").unwrap() > 0.0);
}

#[test]
fn non_physical_parameters_are_refused_naming_the_field() {
    let cfg = serde_json::json!({"arm": {"muscles": [
        {"max_isometric_force_n": 838.0, "tendon_length_m": 0.039, "optimal_fibre_length_m": -0.134,
         "length_offset_m": 0.151, "moment_arm_m": [-0.03, 0.0], "moment_arm_slope_m_rad": [0.0, 0.0]},
        {"max_isometric_force_n": 0.0, "tendon_length_m": 0.066, "optimal_fibre_length_m": 0.14,
         "length_offset_m": 0.2322, "moment_arm_m": [0.03, 0.0], "moment_arm_slope_m_rad": [0.0, 0.0]},
        {"max_isometric_force_n": 1422.0, "tendon_length_m": 0.172, "optimal_fibre_length_m": 0.092,
         "length_offset_m": 0.2859, "moment_arm_m": [0.0, -0.014], "moment_arm_slope_m_rad": [0.0, -0.004]},
        {"max_isometric_force_n": 1549.0, "tendon_length_m": 0.187, "optimal_fibre_length_m": 0.093,
         "length_offset_m": 0.2355, "moment_arm_m": [0.0, 0.025], "moment_arm_slope_m_rad": [0.0, -0.0022]},
        {"max_isometric_force_n": 414.0, "tendon_length_m": 0.204, "optimal_fibre_length_m": 0.137,
         "length_offset_m": 0.3329, "moment_arm_m": [-0.03, -0.016], "moment_arm_slope_m_rad": [0.0, -0.0057]},
        {"max_isometric_force_n": 603.0, "tendon_length_m": 0.217, "optimal_fibre_length_m": 0.127,
         "length_offset_m": 0.2989, "moment_arm_m": [0.03, 0.03], "moment_arm_slope_m_rad": [0.0, -0.0032]}
    ]}});
    match make_with(MUSCLE_ID, &cfg).err().unwrap() {
        EnvError::InvalidConfig { env, field, .. } => {
            assert_eq!(env, MUSCLE_ID);
            assert_eq!(field, "arm.muscles[0].optimal_fibre_length_m (pectoralis)");
        }
        other => panic!("{other:?}"),
    }
    let mut c = MuscleReachConfig::default();
    c.arm.muscles[1].max_isometric_force_n = 0.0;
    let err = CurlReach::new_muscle(c).err().unwrap().to_string();
    assert!(err.contains("arm.muscles[1].max_isometric_force_n (deltoid)"), "{err}");
}

#[test]
fn curl_reach_keys_are_accepted_at_the_top_level() {
    // The curl-field study writes `field` (and curricula `catch_probability`, `timing`) at
    // the top level of the env config, as for CurlReach-v0.
    let top = serde_json::json!({
        "field": {"kind": "null"},
        "catch_probability": 0.0,
        "timing": {"hold_s": 0.1},
        "task": {"timing": {"reach_window_s": 0.6, "hold_s": 0.3}, "n_targets": 4},
        "proprioception_noise": 0.01
    });
    let c: MuscleReachConfig = serde_json::from_value(top).unwrap();
    assert_eq!(c.task.field.kind, engram_envs::tasks::reach::FieldKind::Null);
    assert_eq!(c.task.catch_probability, 0.0);
    // Merged key by key: the top level wins, the rest of `task` stays.
    assert_eq!(c.task.timing.hold_s, 0.1);
    assert_eq!(c.task.timing.reach_window_s, 0.6);
    assert_eq!(c.task.n_targets, 4);
    assert_eq!(c.proprioception_noise, 0.01);
    // `arm` stays the muscle arm; unknown keys are still refused; TOML parses the same way.
    let c: MuscleReachConfig = toml::from_str(
        "arm = { damping_nms_rad = 0.1 }
field = { kind = \"channel\" }
",
    )
    .unwrap();
    assert_eq!(c.arm.damping_nms_rad, 0.1);
    assert_eq!(c.task.field.kind, engram_envs::tasks::reach::FieldKind::Channel);
    let err = serde_json::from_value::<MuscleReachConfig>(serde_json::json!({"feild": {}})).unwrap_err();
    assert!(err.to_string().contains("feild"), "{err}");
    // The registry builds the env from the top-level form, and its session field is null.
    let env = make_with(MUSCLE_ID, &serde_json::json!({"field": {"kind": "null"}})).unwrap();
    assert_eq!(env.id(), MUSCLE_ID);
    let c = MuscleReachConfig::default();
    let round: MuscleReachConfig = serde_json::from_value(serde_json::to_value(&c).unwrap()).unwrap();
    assert_eq!(round, c);
}

#[test]
fn the_hold_offset_makes_a_zero_action_hold_still() {
    let drift = |cfg: serde_json::Value| {
        let mut env = make_with(MUSCLE_ID, &cfg).unwrap();
        let opts = ResetOptions::new().with("catch", 1.0);
        env.reset(Some(5), &opts).unwrap();
        let mut early = 0.0;
        for _ in 0..100 {
            let out = env.step(&[0.0; 6]).unwrap();
            early = out.info.get("early_move").unwrap();
            if out.terminated {
                break;
            }
        }
        early
    };
    // Zero excitation: the passive arm drifts out of the 1 cm tolerance within 1 s.
    assert_eq!(drift(serde_json::json!({})), 1.0);
    assert_eq!(drift(serde_json::json!({"action": {"offset": "hold"}})), 0.0);
    // The action space is the set whose excitations lie in [0, 1].
    let c: MuscleReachConfig =
        serde_json::from_value(serde_json::json!({"action": {"offset": "hold", "cocontraction": 0.05, "scale": 0.2}}))
            .unwrap();
    let off = c.action_offset().unwrap();
    assert!(off.iter().all(|&b| b >= 0.05 - 1e-12), "{off:?}");
    let env = CurlReach::new_muscle(c).unwrap();
    match env.action_space() {
        engram_envs::space::Space::Box { low, high, .. } => {
            for m in 0..N_MUSCLES {
                assert!((low[m] as f64 + off[m] / 0.2).abs() < 1e-5);
                assert!((high[m] as f64 - (1.0 - off[m]) / 0.2).abs() < 1e-5);
            }
        }
        other => panic!("{other:?}"),
    }
    // The env with the action map passes the checker (actions sampled from its space).
    let cfg = serde_json::json!({"action": {"offset": "hold", "cocontraction": 0.05, "scale": 0.2}});
    let opts = CheckOptions { steps: 2_000, determinism_steps: 200, seed: 1 };
    engram_envs::checker::check_env(&|| make_with(MUSCLE_ID, &cfg), &opts).unwrap_or_else(|e| panic!("{e}"));
    let err = make_with(MUSCLE_ID, &serde_json::json!({"action": {"scale": 0.0}})).err().unwrap().to_string();
    assert!(err.contains("action.scale"), "{err}");
}

#[test]
fn the_arm_holds_still_at_rest_and_moves_under_a_flexor_burst() {
    let mut env = make(MUSCLE_ID).unwrap();
    let opts = ResetOptions::new().with("catch", 1.0);
    env.reset(Some(3), &opts).unwrap();
    // Passive arm at MotorNet's floor activation: stays near the start for 0.3 s.
    let mut info = None;
    for _ in 0..30 {
        info = Some(env.step(&[0.0; 6]).unwrap().info);
    }
    let i = info.unwrap();
    assert_eq!(i.get("early_move"), Some(0.0));
    // Delayed proprioception: the 20 ms line reports the start posture for two steps.
    let mut env = make(MUSCLE_ID).unwrap();
    let (o0, _) = env.reset(Some(3), &ResetOptions::new()).unwrap();
    let o1 = env.step(&[0.0, 0.0, 0.1, 0.0, 0.0, 0.0]).unwrap().obs;
    let o2 = env.step(&[0.0, 0.0, 0.1, 0.0, 0.0, 0.0]).unwrap().obs;
    // MotorNet's Euler ordering: force after step 1, velocity after 2, position after 3;
    // seen through the 20 ms line after step 5.
    assert_eq!(o0[5..17], o1[5..17]);
    assert_eq!(o0[5..17], o2[5..17]);
    let mut o = o2;
    for _ in 0..3 {
        o = env.step(&[0.0, 0.0, 0.1, 0.0, 0.0, 0.0]).unwrap().obs;
    }
    assert_ne!(o0[5..17], o[5..17]);
}
