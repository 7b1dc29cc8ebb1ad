//! Conformance, physics-sanity and randomization tests of the PlanarBiped envs.

use engram_envs::checker::{check_env_id, CheckOptions};
use engram_envs::env::{Env, ResetOptions};
use engram_envs::info::Info;
use engram_envs::registry::{make, make_with};
use engram_envs::space::Space;
use engram_envs::tasks::biped::keys::{self, NORMALIZED_KEYS};
use engram_envs::tasks::biped::*;
use engram_envs::vector::{Autoreset, Execution, VectorEnv};
use engram_sim::biped::{DynamicsDistribution, DynamicsParams, PARAMS};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

const ALL_IDS: [&str; 7] =
    [PlanarBiped::ID, DR_ID, REAL_FAMILY_IDS[0], REAL_FAMILY_IDS[1], REAL_FAMILY_IDS[2], REAL_FAMILY_IDS[3], REAL_ID];

/// Runs random (or zero) actions; returns every episode's length and return.
fn episodes(id: &str, n: usize, zero: bool, seed: u64) -> Vec<(usize, f64)> {
    let mut env = make(id).unwrap();
    let space = env.action_space().clone();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut action = vec![0.0; 6];
    let (mut obs, mut info) = env.reset(Some(seed), &ResetOptions::default()).unwrap();
    let mut out = vec![];
    let (mut len, mut ret) = (0, 0.0);
    while out.len() < n {
        if !zero {
            space.sample_into(&mut rng, &mut action);
        }
        let o = env.step_into(&action, &mut obs, &mut info).unwrap();
        len += 1;
        ret += o.reward;
        if o.done() {
            out.push((len, ret));
            (len, ret) = (0, 0.0);
            env.reset_into(None, &ResetOptions::default(), &mut obs, &mut info).unwrap();
        }
    }
    out
}

#[test]
fn checker_passes_on_every_biped_id() {
    let opts = CheckOptions { steps: 3000, determinism_steps: 1000, seed: 3 };
    for id in ALL_IDS {
        let report = check_env_id(id, &opts).unwrap_or_else(|e| panic!("{e}"));
        assert!(report.episodes > 10, "{id}: {} episodes", report.episodes);
        assert!(report.info_keys.len() <= 62, "{id}: {} info keys", report.info_keys.len());
    }
}

#[test]
fn same_seed_bit_identical_and_truncated_at_exactly_1000() {
    // Healthy checks off so the walker lives to the time limit.
    let cfg = serde_json::json!({ "terminate_when_unhealthy": false });
    let run = |id: &str| {
        let mut env = make_with(id, &cfg).unwrap();
        let space = env.action_space().clone();
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let (mut obs, mut info) = env.reset(Some(5), &ResetOptions::default()).unwrap();
        let mut action = vec![0.0; 6];
        let mut trace: Vec<u64> = obs.iter().map(|v| v.to_bits() as u64).collect();
        for t in 1..=1000 {
            space.sample_into(&mut rng, &mut action);
            let o = env.step_into(&action, &mut obs, &mut info).unwrap();
            trace.extend(obs.iter().map(|v| v.to_bits() as u64));
            trace.push(o.reward.to_bits());
            trace.extend(info.values().iter().map(|v| v.to_bits()));
            assert!(!o.terminated, "{id}: terminated at {t} with terminate_when_unhealthy off");
            assert_eq!(o.truncated, t == 1000, "{id}: step {t}");
        }
        assert!(env.step(&action).is_err(), "{id}: step after truncation");
        trace
    };
    for id in [PlanarBiped::ID, DR_ID, REAL_FAMILY_IDS[1]] {
        assert_eq!(run(id), run(id), "{id}");
    }
}

#[test]
fn no_nan_over_many_random_steps() {
    // The full 10^6 belongs in `engram check-env --steps 1000000`; this is the release-test share.
    let cfg = serde_json::json!({ "terminate_when_unhealthy": false });
    for id in [DR_ID, REAL_ID] {
        let mut env = make_with(id, &cfg).unwrap();
        let space = env.action_space().clone();
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let (mut obs, mut info) = env.reset(Some(2), &ResetOptions::default()).unwrap();
        let mut action = vec![0.0; 6];
        for _ in 0..20_000 {
            space.sample_into(&mut rng, &mut action);
            let o = env.step_into(&action, &mut obs, &mut info).unwrap();
            assert!(obs.iter().all(|v| v.is_finite()) && o.reward.is_finite());
            assert!(!o.terminated, "{id}: non-finite state");
            if o.done() {
                env.reset_into(None, &ResetOptions::default(), &mut obs, &mut info).unwrap();
            }
        }
    }
}

#[test]
fn falls_like_mujoco_walker2d() {
    // MuJoCo Walker2d-v5: random actions fall after about 22 steps, zero action after about
    // 117 steps (0.94 s).
    let random = episodes(PlanarBiped::ID, 200, false, 0);
    let mean = random.iter().map(|e| e.0 as f64).sum::<f64>() / random.len() as f64;
    assert!((10.0..=100.0).contains(&mean), "random actions: mean length {mean}");
    let zero = episodes(PlanarBiped::ID, 5, true, 0);
    for (len, ret) in zero {
        let seconds = len as f64 * 0.008;
        assert!((0.5..=2.0).contains(&seconds), "zero action fell after {seconds} s");
        assert!(ret > 40.0, "zero action return {ret}");
    }
}

#[test]
fn initial_state_is_walker2d_reset_with_numpy_noise() {
    let mut env = PlanarBiped::new(PlanarBipedConfig::default(), PlanarBiped::ID).unwrap();
    let (obs, info) = env.reset(Some(0), &ResetOptions::default()).unwrap();
    // Gymnasium: qpos = init_qpos + rng.uniform(-5e-3, 5e-3, 9), qvel likewise.
    let mut rng = engram_envs::rng::NumpyPcg64::from_seed(0);
    let qpos: Vec<f64> = (0..9).map(|_| rng.uniform(-5e-3, 5e-3)).collect();
    assert!((obs[0] as f64 - (1.25 + qpos[1])).abs() < 1e-5, "{} vs {}", obs[0], 1.25 + qpos[1]);
    for j in 0..6 {
        assert!((obs[2 + j] as f64 - qpos[3 + j]).abs() < 1e-5);
    }
    assert_eq!(info.get(keys::X_VELOCITY), Some(0.0));
    assert!((info.get(keys::X_POSITION).unwrap() - qpos[0]).abs() < 1e-6);
}

#[test]
fn feet_land_within_a_tenth_of_a_second() {
    let mut env = PlanarBiped::new(PlanarBipedConfig::default(), PlanarBiped::ID).unwrap();
    let cfg = serde_json::json!({ "reset_noise_scale": 0.0 });
    let mut env2 = make_with(PlanarBiped::ID, &cfg).unwrap();
    env2.reset(Some(0), &ResetOptions::default()).unwrap();
    env.reset(Some(0), &ResetOptions::default()).unwrap();
    let mut landed = None;
    for t in 1..=25 {
        env.step(&[0.0; 6]).unwrap();
        let poses = env.link_poses().unwrap();
        // Lowest point of the right foot's capsule: centre height minus radius (it is flat).
        let foot_bottom = poses[3][1] - 0.06 - 0.1 * poses[3][2].sin().abs();
        if landed.is_none() && foot_bottom < 0.005 {
            landed = Some(t as f64 * 0.008);
        }
    }
    let t = landed.expect("feet never reached the ground");
    // Free fall from 4 cm takes 0.09 s.
    assert!((0.06..=0.11).contains(&t), "landed after {t} s");
}

#[test]
fn nominal_info_reports_walker2d_parameters_and_mass() {
    let mut env = make(PlanarBiped::ID).unwrap();
    let (_, info) = env.reset(Some(1), &ResetOptions::default()).unwrap();
    let p = DynamicsParams::walker2d();
    let mass: f64 = (0..7).map(|i| info.get(PARAMS[i].0).unwrap()).sum();
    assert!((mass - 23.68).abs() < 0.005, "total mass {mass}");
    assert_eq!(info.get("foot_friction"), Some(p.foot_friction));
    assert_eq!(info.get("damping_knee_left"), Some(0.1));
    assert_eq!(info.get(keys::ROBOT), Some(-1.0));
    let step = env.step(&[0.1; 6]).unwrap();
    assert_eq!(step.info.keys(), info.keys());
    assert!(info.len() <= 62, "{} keys leaves no room for RecordEpisodeStatistics", info.len());
}

#[test]
fn randomized_parameters_are_in_range_reported_and_vary() {
    let mut env = PlanarBiped::new(PlanarBipedConfig { randomize: true, ..Default::default() }, DR_ID).unwrap();
    let dist = DynamicsDistribution::default();
    let mut distinct = std::collections::BTreeSet::new();
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for seed in 0..300 {
        let (_, info) = env.reset(Some(seed), &ResetOptions::default()).unwrap();
        let p = env.params().clone();
        assert!(dist.contains(&p), "seed {seed}");
        let norm = dist.normalize(&p);
        for (i, (name, _)) in PARAMS.iter().enumerate() {
            if keys::reported(i) {
                assert_eq!(info.get(name), Some(p.get(i)), "{name}");
            }
        }
        for (k, key) in NORMALIZED_KEYS.iter().enumerate() {
            assert_eq!(info.get(key), Some(norm[k]), "{key}");
        }
        let step = env.step(&[0.0; 6]).unwrap();
        assert_eq!(step.info.get("mass_torso_kg"), Some(p.link_mass_kg[0]), "every step");
        lo = lo.min(norm[21]);
        hi = hi.max(norm[21]);
        distinct.insert(p.link_mass_kg[0].to_bits());
    }
    assert_eq!(distinct.len(), 300, "a new torso mass every episode");
    assert!(lo < -0.95 && hi > 0.95, "foot friction covers its range: [{lo}, {hi}]");
    // Same seed, same robot.
    env.reset(Some(42), &ResetOptions::default()).unwrap();
    let a = env.params().clone();
    env.reset(Some(42), &ResetOptions::default()).unwrap();
    assert_eq!(&a, env.params());
}

#[test]
fn pinned_parameters_are_honoured_and_leave_the_others_alone() {
    let mut env = make(DR_ID).unwrap();
    let (_, free) = env.reset(Some(9), &ResetOptions::default()).unwrap();
    let opts =
        ResetOptions::new().with("foot_friction", 0.25).with("slope_rad", -0.02).with("action_latency_steps", 1.0);
    let (_, pinned) = env.reset(Some(9), &opts).unwrap();
    assert_eq!(pinned.get("foot_friction"), Some(0.25));
    assert_eq!(pinned.get("slope_rad"), Some(-0.02));
    assert_eq!(pinned.get("action_latency_steps"), Some(1.0));
    assert!(pinned.get("norm_foot_friction").unwrap() < -1.0, "0.25 is below the training range");
    for k in ["mass_torso_kg", "damping_hip_left", "bias_pitch_rad", "motor_ankle_right_nm"] {
        assert_eq!(free.get(k), pinned.get(k), "{k}");
    }
    // Pins on the nominal env too; bad pins are refused with the bound.
    let mut nominal = make(PlanarBiped::ID).unwrap();
    let (_, info) = nominal.reset(Some(0), &ResetOptions::new().with("mass_torso_kg", 5.0)).unwrap();
    assert_eq!(info.get("mass_torso_kg"), Some(5.0));
    let err = nominal.reset(Some(0), &ResetOptions::new().with("mass_torso_kg", -1.0)).unwrap_err();
    assert!(err.to_string().contains("mass_torso_kg") && err.to_string().contains("> 0"), "{err}");
    assert!(nominal.reset(Some(0), &ResetOptions::new().with("robot", 1.0)).is_err());
    assert!(nominal.reset(Some(0), &ResetOptions::new().with("mass_of_the_moon", 1.0)).is_err());
}

#[test]
fn parameters_never_leak_into_the_observation_unless_oracle() {
    // Two robots that differ only in torso mass: identical first observations.
    let mut env = make(DR_ID).unwrap();
    let (a, _) = env.reset(Some(4), &ResetOptions::new().with("mass_torso_kg", 3.0)).unwrap();
    let (b, _) = env.reset(Some(4), &ResetOptions::new().with("mass_torso_kg", 4.5)).unwrap();
    assert_eq!(a, b);
    assert_eq!(env.observation_space().flat_dim(), 17);
    let mut oracle = make_with(DR_ID, &serde_json::json!({ "oracle": true })).unwrap();
    let (o, info) = oracle.reset(Some(4), &ResetOptions::default()).unwrap();
    assert_eq!(o.len(), 17 + keys::N_REPORTED);
    assert_eq!(o[17] as f64, info.get("norm_mass_torso").unwrap() as f32 as f64);
}

#[test]
fn real_robots_are_selected_by_seed_and_are_held_out() {
    let dist = DynamicsDistribution::default();
    let mut env = make(REAL_ID).unwrap();
    let mut seen = std::collections::BTreeSet::new();
    for seed in 0..20 {
        let (_, info) = env.reset(Some(seed), &ResetOptions::default()).unwrap();
        assert_eq!(info.get(keys::ROBOT), Some((seed % 20) as f64));
        seen.insert(info.get("mass_torso_kg").unwrap().to_bits() ^ info.get("bias_pitch_rad").unwrap().to_bits());
    }
    assert_eq!(seen.len(), 20, "twenty distinct robots");
    let mut r1 = make(REAL_FAMILY_IDS[0]).unwrap();
    for seed in 0..5 {
        let (_, info) = r1.reset(Some(seed), &ResetOptions::default()).unwrap();
        assert_eq!(info.get("foot_friction"), Some(0.3));
        assert!(info.get("norm_foot_friction").unwrap() < -1.0);
        let mut p = DynamicsParams::default();
        for (i, (name, _)) in PARAMS.iter().enumerate() {
            if keys::reported(i) {
                p.set(i, info.get(name).unwrap()).unwrap();
            }
        }
        p.angle_noise_std_rad = dist.nominal.angle_noise_std_rad;
        assert!(!dist.contains(&p), "R1 robot {seed} inside the training distribution");
    }
    // Unseeded resets walk through the family.
    let (_, a) = r1.reset(Some(3), &ResetOptions::default()).unwrap();
    let (_, b) = r1.reset(None, &ResetOptions::default()).unwrap();
    assert_eq!((a.get(keys::ROBOT), b.get(keys::ROBOT)), (Some(3.0), Some(4.0)));
    let (_, c) = r1.reset(Some(0), &ResetOptions::new().with("robot", 2.0)).unwrap();
    assert_eq!(c.get(keys::ROBOT), Some(2.0));
    assert!(r1.reset(Some(0), &ResetOptions::new().with("robot", 5.0)).is_err());
}

#[test]
fn severity_grades_the_held_out_robots() {
    // R1 at severity 0 is its robots' training draw; at 0.5 half way to friction 0.3.
    let friction = |sev: f64, seed: u64| {
        let mut env = make_with(REAL_FAMILY_IDS[0], &serde_json::json!({ "real_severity": sev })).unwrap();
        env.reset(Some(seed), &ResetOptions::default()).unwrap().1.get("foot_friction").unwrap()
    };
    for seed in 0..5 {
        let (f0, f5, f1) = (friction(0.0, seed), friction(0.5, seed), friction(1.0, seed));
        assert!((0.4..=1.2).contains(&f0), "{f0}");
        assert_eq!(f1, 0.3);
        assert!((f5 - 0.5 * (f0 + 0.3)).abs() < 1e-12);
    }
}

#[test]
fn pd_mode_holds_a_crouch_longer_than_zero_torque() {
    // PD targets at the standing pose (hip/knee action 1 → 0 rad, ankle 0 → 0 rad) keep the
    // walker up far longer than limp joints do.
    let cfg = serde_json::json!({ "actuation": "pd", "frame_skip": 8 });
    let mut env = make_with(PlanarBiped::ID, &cfg).unwrap();
    env.reset(Some(0), &ResetOptions::default()).unwrap();
    let mut t = 0;
    loop {
        t += 1;
        let s = env.step(&[1.0, 1.0, 0.0, 1.0, 1.0, 0.0]).unwrap();
        if s.terminated || s.truncated {
            break;
        }
    }
    let limp = episodes(PlanarBiped::ID, 1, true, 0)[0].0 as f64 * 0.008;
    assert!(t as f64 * 0.016 > 1.5 * limp, "PD stood {} s, limp {} s", t as f64 * 0.016, limp);
}

#[test]
fn vector_env_is_identical_at_any_thread_count() {
    let run = |exec: Execution, threads: usize| {
        let mut v = VectorEnv::from_fn(6, Autoreset::SameStep, exec, |_| make(DR_ID)).unwrap();
        if threads > 0 {
            v = v.with_threads(threads).unwrap();
        }
        v.reset(Some(100)).unwrap();
        let space = Space::uniform_box(6, -1.0, 1.0);
        let mut rng = ChaCha8Rng::seed_from_u64(8);
        let mut actions = vec![0.0f32; 6 * 6];
        let mut trace = vec![];
        for _ in 0..150 {
            for a in actions.chunks_mut(6) {
                space.sample_into(&mut rng, a);
            }
            v.step_in_place(&actions).unwrap();
            trace.extend(v.obs().iter().map(|x| x.to_bits()));
            for i in 0..6 {
                let info: &Info = v.info(i);
                trace.push(info.get("mass_torso_kg").unwrap().to_bits() as u32);
            }
        }
        trace
    };
    let reference = run(Execution::Sequential, 0);
    for threads in [1, 2, 3] {
        assert!(run(Execution::Parallel { min_chunk: 1 }, threads) == reference, "{threads} threads");
    }
}

#[test]
fn set_state_replays_and_state_round_trips() {
    let mut env = make(PlanarBiped::ID).unwrap();
    env.reset(Some(3), &ResetOptions::default()).unwrap();
    for _ in 0..5 {
        env.step(&[0.2, -0.3, 0.1, 0.0, 0.5, -0.2]).unwrap();
    }
    let s = env.state().unwrap();
    env.set_state(&s).unwrap();
    let back = env.state().unwrap();
    for (a, b) in s.iter().zip(&back) {
        assert!((a - b).abs() < 1e-4, "{a} vs {b}");
    }
    let mut obs = vec![0.0; 17];
    env.observe(&mut obs).unwrap();
    assert!((obs[0] as f64 - s[1]).abs() < 1e-5);
    assert!(env.set_state(&[0.0; 3]).is_err());
}

#[test]
fn invalid_configs_are_refused_with_the_field() {
    for (cfg, field) in [
        (serde_json::json!({ "frame_skip": 0 }), "frame_skip"),
        (serde_json::json!({ "healthy_z_range": [2.0, 0.8] }), "healthy_z_range"),
        (serde_json::json!({ "sim": { "dt_s": -1.0 } }), "dt_s"),
        (serde_json::json!({ "distribution": { "foot_friction": { "low": 1.0, "high": 0.5 } } }), "foot_friction"),
        (serde_json::json!({ "real_severity": 1.5 }), "`real_severity` = 1.5"),
        (serde_json::json!({ "real_severity": -0.5 }), "in [0, 1]"),
    ] {
        let err = make_with(PlanarBiped::ID, &cfg).err().expect("refused").to_string();
        assert!(err.contains(field), "{err}");
    }
    assert!(make_with(PlanarBiped::ID, &serde_json::json!({ "no_such_field": 1 })).is_err());
}

#[test]
fn a_shared_info_always_carries_the_stepping_envs_values() {
    // The in-place fast path must not leave another env's parameters behind.
    let mut a = make(DR_ID).unwrap();
    let mut b = make(DR_ID).unwrap();
    let mut obs = vec![0.0; 17];
    let mut info = Info::new();
    a.reset_into(Some(1), &ResetOptions::default(), &mut obs, &mut info).unwrap();
    let mass_a = info.get("mass_torso_kg").unwrap();
    b.reset_into(Some(2), &ResetOptions::default(), &mut obs, &mut info).unwrap();
    let mass_b = info.get("mass_torso_kg").unwrap();
    assert_ne!(mass_a, mass_b);
    for _ in 0..3 {
        a.step_into(&[0.0; 6], &mut obs, &mut info).unwrap();
        assert_eq!(info.get("mass_torso_kg"), Some(mass_a));
        b.step_into(&[0.0; 6], &mut obs, &mut info).unwrap();
        assert_eq!(info.get("mass_torso_kg"), Some(mass_b));
    }
    // A foreign schema is replaced, not extended.
    let mut foreign = Info::new();
    foreign.set("something_else", 1.0);
    a.step_into(&[0.0; 6], &mut obs, &mut foreign).unwrap();
    assert_eq!(foreign.get("something_else"), None);
    assert_eq!(foreign.keys(), info.keys());
}
