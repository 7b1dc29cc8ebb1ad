//! Vector envs: thread-count independence, seeding rule, and both autoreset modes.

use engram_envs::prelude::*;
use engram_envs::rng::env_seed;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

const N_ENVS: usize = 7;
const STEPS: usize = 600;

fn vector(id: &str, mode: Autoreset, exec: Execution, threads: Option<usize>) -> VectorEnv<BoxEnv> {
    let v = VectorEnv::from_fn(N_ENVS, mode, exec, |_| make(id)).unwrap();
    match threads {
        Some(t) => v.with_threads(t).unwrap(),
        None => v,
    }
}

/// Bits of every observation, reward, flag and final observation over a seeded random run.
fn fingerprint(v: &mut VectorEnv<BoxEnv>) -> Vec<u64> {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let space = v.single_action_space().clone();
    let (act_dim, obs_dim) = (v.act_dim(), v.obs_dim());
    let mut actions = vec![0.0; N_ENVS * act_dim];
    let mut out: Vec<u64> = v.reset(Some(42)).unwrap().iter().map(|x| x.to_bits() as u64).collect();
    for _ in 0..STEPS {
        for row in actions.chunks_exact_mut(act_dim) {
            space.sample_into(&mut rng, row);
        }
        let s = v.step(&actions).unwrap();
        out.extend(s.obs.iter().map(|x| x.to_bits() as u64));
        out.extend(s.rewards.iter().map(|r| r.to_bits()));
        out.extend(s.terminated.iter().zip(&s.truncated).map(|(&a, &b)| a as u64 * 2 + b as u64));
        for i in 0..N_ENVS {
            if s.terminated[i] || s.truncated[i] {
                out.extend(s.final_obs[i * obs_dim..(i + 1) * obs_dim].iter().map(|x| x.to_bits() as u64));
            }
        }
    }
    out
}

#[test]
fn results_are_identical_for_any_thread_count() {
    for id in engram_envs::registry::list() {
        for mode in [Autoreset::SameStep, Autoreset::NextStep] {
            let seq = fingerprint(&mut vector(id, mode, Execution::Sequential, None));
            for threads in [1, 2, 3] {
                for min_chunk in [0, 1] {
                    let par = fingerprint(&mut vector(id, mode, Execution::Parallel { min_chunk }, Some(threads)));
                    assert!(seq == par, "{id} {mode:?}: {threads} threads, chunk {min_chunk} differ from sequential");
                }
                let auto = fingerprint(&mut vector(id, mode, Execution::Auto, Some(threads)));
                assert!(seq == auto, "{id} {mode:?}: automatic execution on {threads} threads differs from sequential");
            }
        }
    }
}

#[test]
fn auto_execution_chooses_after_its_probe_steps() {
    let mut v = vector("CartPole-v1", Autoreset::SameStep, Execution::Auto, Some(2));
    v.reset(Some(0)).unwrap();
    let actions = vec![0.0; N_ENVS];
    for _ in 0..AUTO_PROBE_STEPS {
        assert_eq!(v.auto_parallel(), None);
        v.step_in_place(&actions).unwrap();
    }
    assert!(v.auto_parallel().is_some());
}

#[test]
fn env_i_behaves_like_a_single_env_seeded_base_plus_i() {
    let mut v = vector("Pendulum-v1", Autoreset::SameStep, Execution::Sequential, None);
    let obs = v.reset(Some(100)).unwrap().to_vec();
    for i in 0..N_ENVS {
        let mut single = make("Pendulum-v1").unwrap();
        let (o, _) = single.reset(Some(env_seed(100, i)), &ResetOptions::default()).unwrap();
        assert_eq!(&obs[i * 3..(i + 1) * 3], &o[..], "env {i}");
    }
}

#[test]
fn same_step_autoreset_keeps_the_final_observation() {
    let mut v = vector("Pendulum-v1", Autoreset::SameStep, Execution::Sequential, None);
    let mut single = make("Pendulum-v1").unwrap();
    v.reset(Some(5)).unwrap();
    single.reset(Some(5), &ResetOptions::default()).unwrap();
    let actions = vec![0.5; N_ENVS];
    for t in 1..=200 {
        let s = single.step(&[0.5]).unwrap();
        let vs = v.step(&actions).unwrap();
        assert_eq!(vs.truncated[0], t == 200);
        if t == 200 {
            // The final observation is kept for bootstrapping; obs already holds the reset.
            assert_eq!(&vs.final_obs[..3], &s.obs[..]);
            let (reset_obs, _) = single.reset(None, &ResetOptions::default()).unwrap();
            assert_eq!(&vs.obs[..3], &reset_obs[..]);
        } else {
            assert_eq!(&vs.obs[..3], &s.obs[..]);
        }
    }
}

#[test]
fn next_step_autoreset_resets_on_the_following_call() {
    let mut v = vector("Pendulum-v1", Autoreset::NextStep, Execution::Sequential, None);
    let mut single = make("Pendulum-v1").unwrap();
    v.reset(Some(9)).unwrap();
    single.reset(Some(9), &ResetOptions::default()).unwrap();
    let actions = vec![-1.0; N_ENVS];
    for _ in 0..200 {
        let s = single.step(&[-1.0]).unwrap();
        let vs = v.step(&actions).unwrap();
        assert_eq!(&vs.obs[..3], &s.obs[..]);
    }
    let vs = v.step(&actions).unwrap();
    let (reset_obs, _) = single.reset(None, &ResetOptions::default()).unwrap();
    assert_eq!(&vs.obs[..3], &reset_obs[..]);
    assert_eq!(vs.rewards[0], 0.0);
    assert!(!vs.terminated[0] && !vs.truncated[0]);
}

#[test]
fn vector_errors() {
    let mut v = vector("CartPole-v1", Autoreset::SameStep, Execution::Sequential, None);
    assert!(matches!(v.step(&[0.0; N_ENVS]), Err(EnvError::StepBeforeReset { .. })));
    v.reset(Some(0)).unwrap();
    assert!(matches!(v.step(&[0.0; 3]), Err(EnvError::ActionLength { expected: N_ENVS, got: 3, .. })));
    let mut bad = vec![0.0; N_ENVS];
    bad[4] = 5.0;
    bad[6] = f32::NAN;
    // The lowest-index failure is reported, whatever the scheduling.
    let err = v.step(&bad).err().unwrap();
    assert!(matches!(err, EnvError::DiscreteActionOutOfRange { value, .. } if value == 5.0), "{err}");
    let mixed: Vec<BoxEnv> = vec![make("CartPole-v1").unwrap(), make("Pendulum-v1").unwrap()];
    assert!(VectorEnv::new(mixed, Autoreset::SameStep, Execution::Sequential).is_err());
    assert!(VectorEnv::<BoxEnv>::new(vec![], Autoreset::SameStep, Execution::Sequential).is_err());
}
