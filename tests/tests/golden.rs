//! Golden trajectories recorded from Gymnasium 1.4.0 (NumPy 2.4) replayed through engram.
//!
//! The recorder (see tests/data/golden/README.md) did, in Python:
//! ```python
//! env = gymnasium.make(env_id); obs, _ = env.reset(seed=0)
//! actions = numpy.random.default_rng(123).integers(0, 2, size=200)          # CartPole
//! actions = numpy.random.default_rng(123).uniform(-2, 2, (200, 1)).astype(np.float32)  # Pendulum
//! for a in actions:
//!     obs, r, term, trunc, _ = env.step(a)
//!     if term or trunc: reset_obs, _ = env.reset()
//! ```
//! Every float is stored with its IEEE bits, compared here without a JSON float parser.

use engram_envs::prelude::*;
use serde_json::Value;

/// Relative tolerance of the golden comparison (issue bar: 1e-5 relative).
const GOLDEN_RTOL: f64 = 1e-5;
/// Absolute floor of the comparison for values near zero.
const GOLDEN_ATOL: f64 = 1e-7;

fn load(id: &str) -> Value {
    let path = format!("{}/data/golden/{id}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).expect("golden file")).expect("golden json")
}

fn f32s(v: &Value) -> Vec<f32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|b| f32::from_bits(u32::from_str_radix(b.as_str().unwrap(), 16).unwrap()))
        .collect()
}

fn f64s(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|b| f64::from_bits(u64::from_str_radix(b.as_str().unwrap(), 16).unwrap()))
        .collect()
}

fn f64_bits(v: &Value) -> f64 {
    f64::from_bits(u64::from_str_radix(v.as_str().unwrap(), 16).unwrap())
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= GOLDEN_ATOL + GOLDEN_RTOL * b.abs()
}

fn action_of(step: &Value) -> Vec<f32> {
    match step.get("action_f32_bits") {
        Some(bits) => f32s(bits),
        None => vec![step["action"].as_i64().unwrap() as f32],
    }
}

/// How episode boundaries are crossed.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// `reset(Some(0))` then `reset(None)`: tests the NumPy PCG64 port too.
    Seeded,
    /// Inject the recorded state at the start and after every reset: dynamics only.
    InjectState,
}

struct Mismatches {
    within_tolerance: usize,
    bit_exact: usize,
    compared: usize,
}

fn replay(id: &str, mode: Mode) -> Mismatches {
    let g = load(id);
    let mut env = make(id).unwrap();
    let mut m = Mismatches { within_tolerance: 0, bit_exact: 0, compared: 0 };
    let mut check = |what: String, got: f64, want: f64| {
        m.compared += 1;
        if !close(got, want) {
            m.within_tolerance += 1;
            eprintln!("{id}: {what}: got {got:e}, want {want:e}");
        }
        if got.to_bits() != want.to_bits() && (got as f32).to_bits() != (want as f32).to_bits() {
            m.bit_exact += 1;
        }
    };
    let (obs, _) = env.reset(Some(g["reset_seed"].as_u64().unwrap()), &ResetOptions::default()).unwrap();
    if mode == Mode::InjectState {
        env.set_state(&f64s(&g["initial"]["state_f64_bits"])).unwrap();
    }
    let state = env.state().unwrap();
    for (i, (&s, want)) in state.iter().zip(f64s(&g["initial"]["state_f64_bits"])).enumerate() {
        check(format!("initial state[{i}]"), s, want);
    }
    if mode == Mode::Seeded {
        for (i, (&o, want)) in obs.iter().zip(f32s(&g["initial"]["obs_f32_bits"])).enumerate() {
            check(format!("initial obs[{i}]"), o as f64, want as f64);
        }
    }
    for step in g["steps"].as_array().unwrap() {
        let t = step["t"].as_u64().unwrap();
        let s = env.step(&action_of(step)).unwrap();
        for (i, (&o, want)) in s.obs.iter().zip(f32s(&step["obs_f32_bits"])).enumerate() {
            check(format!("t={t} obs[{i}]"), o as f64, want as f64);
        }
        check(format!("t={t} reward"), s.reward, f64_bits(&step["reward_f64_bits"]));
        assert_eq!(s.terminated, step["terminated"].as_bool().unwrap(), "{id} t={t} terminated");
        assert_eq!(s.truncated, step["truncated"].as_bool().unwrap(), "{id} t={t} truncated");
        for (i, (&x, want)) in env.state().unwrap().iter().zip(f64s(&step["state_f64_bits"])).enumerate() {
            check(format!("t={t} state[{i}]"), x, want);
        }
        if !step["reset_obs"].is_null() {
            let (obs, _) = env.reset(None, &ResetOptions::default()).unwrap();
            if mode == Mode::InjectState {
                env.set_state(&f64s(&step["reset_state_f64_bits"])).unwrap();
            } else {
                for (i, (&o, want)) in obs.iter().zip(f32s(&step["reset_obs_f32_bits"])).enumerate() {
                    check(format!("t={t} reset obs[{i}]"), o as f64, want as f64);
                }
            }
            for (i, (&x, want)) in env.state().unwrap().iter().zip(f64s(&step["reset_state_f64_bits"])).enumerate() {
                check(format!("t={t} reset state[{i}]"), x, want);
            }
        }
    }
    assert!(m.compared > 1000, "{id}: only {} values compared", m.compared);
    m
}

#[test]
fn cartpole_matches_gymnasium_from_recorded_states() {
    let m = replay("CartPole-v1", Mode::InjectState);
    assert_eq!(m.within_tolerance, 0, "values outside {GOLDEN_RTOL:e} relative");
}

#[test]
fn pendulum_matches_gymnasium_from_recorded_states() {
    let m = replay("Pendulum-v1", Mode::InjectState);
    assert_eq!(m.within_tolerance, 0, "values outside {GOLDEN_RTOL:e} relative");
}

#[test]
fn seeded_resets_match_gymnasium_pcg64_draws() {
    for id in ["CartPole-v1", "Pendulum-v1"] {
        let m = replay(id, Mode::Seeded);
        assert_eq!(m.within_tolerance, 0, "{id}: values outside {GOLDEN_RTOL:e} relative");
    }
}

/// glibc's libm is what both Gymnasium (through NumPy) and Rust call for sin/cos here, so the
/// port is exact, not merely close.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn replay_is_bit_exact_on_glibc() {
    for id in ["CartPole-v1", "Pendulum-v1"] {
        for mode in [Mode::Seeded, Mode::InjectState] {
            let m = replay(id, mode);
            assert_eq!(m.bit_exact, 0, "{id}: {} of {} values differ in their bits", m.bit_exact, m.compared);
        }
    }
}

#[test]
fn novel_variants_mask_velocities_of_the_same_dynamics() {
    for (full, novel, keep) in
        [("CartPole-v1", "CartPoleNoVel-v1", &[0usize, 2][..]), ("Pendulum-v1", "PendulumNoVel-v1", &[0, 1])]
    {
        let mut a = make(full).unwrap();
        let mut b = make(novel).unwrap();
        assert_eq!(b.observation_space().flat_dim(), keep.len());
        let (oa, _) = a.reset(Some(3), &ResetOptions::default()).unwrap();
        let (ob, _) = b.reset(Some(3), &ResetOptions::default()).unwrap();
        assert_eq!(keep.iter().map(|&i| oa[i]).collect::<Vec<_>>(), ob);
        for t in 0..100 {
            let act = if a.action_space().flat_dim() == 1 && matches!(a.action_space(), Space::Discrete { .. }) {
                vec![(t % 2) as f32]
            } else {
                vec![((t as f32) * 0.1).sin()]
            };
            let sa = a.step(&act).unwrap();
            let sb = b.step(&act).unwrap();
            assert_eq!(keep.iter().map(|&i| sa.obs[i]).collect::<Vec<_>>(), sb.obs);
            assert_eq!(sa.reward.to_bits(), sb.reward.to_bits());
            if sa.terminated || sa.truncated {
                break;
            }
        }
    }
}
