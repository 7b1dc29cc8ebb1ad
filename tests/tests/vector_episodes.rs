//! Unit tests of the training schedule: per-episode seeds, bookkeeping, snapshot and restore,
//! thread-count independence.

use engram_envs::{
    episode_seed, make, Autoreset, BoxEnv, EnvCursor, EnvError, Execution, ResetOptions, Seeding, VectorEnv,
};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

const N: usize = 3;
const SEED: u64 = 77;

fn training(id: &str, exec: Execution, threads: Option<usize>) -> VectorEnv<BoxEnv> {
    let v = VectorEnv::from_fn(N, Autoreset::SameStep, exec, |_| make(id))
        .unwrap()
        .with_seeding(Seeding::PerEpisode { seed: SEED });
    match threads {
        Some(t) => v.with_threads(t).unwrap(),
        None => v,
    }
}

/// Seeded random actions for `steps` steps.
fn actions(v: &VectorEnv<BoxEnv>, steps: usize) -> Vec<Vec<f32>> {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let space = v.single_action_space().clone();
    (0..steps)
        .map(|_| {
            let mut a = vec![0.0; N * v.act_dim()];
            a.chunks_exact_mut(v.act_dim()).for_each(|row| space.sample_into(&mut rng, row));
            a
        })
        .collect()
}

/// Bits of observations, rewards and finished episodes over the given actions.
fn run(v: &mut VectorEnv<BoxEnv>, acts: &[Vec<f32>]) -> Vec<u64> {
    let mut out = Vec::new();
    for a in acts {
        v.step_in_place(a).unwrap();
        out.extend(v.obs().iter().map(|x| x.to_bits() as u64));
        for i in 0..N {
            out.push(v.outcome(i).reward.to_bits());
            if let Some((ret, len)) = v.finished(i) {
                out.extend([ret.to_bits(), len, v.cursor(i).episode]);
            }
        }
    }
    out
}

#[test]
fn each_episode_starts_like_a_single_env_reset_with_its_episode_seed() {
    let mut v = training("CartPole-v1", Execution::Sequential, None);
    let obs = v.reset(None).unwrap().to_vec();
    for i in 0..N {
        let (o, _) =
            make("CartPole-v1").unwrap().reset(Some(episode_seed(SEED, i, 0)), &ResetOptions::default()).unwrap();
        assert_eq!(&obs[i * 4..(i + 1) * 4], &o[..], "env {i} episode 0");
        assert!(v.at_start(i));
    }
    // Push left until env 0 falls; the autoreset starts episode 1 with its own seed.
    let (mut ret, mut len) = (0.0, 0);
    loop {
        v.step_in_place(&[0.0; N]).unwrap();
        ret += v.outcome(0).reward;
        len += 1;
        if let Some(fin) = v.finished(0) {
            assert_eq!(fin, (ret, len));
            break;
        }
        assert_eq!((v.cursor(0).ep_return, v.cursor(0).ep_len), (ret, len));
        assert_eq!(v.cursor(0).actions.len(), len as usize);
    }
    let (o, _) = make("CartPole-v1").unwrap().reset(Some(episode_seed(SEED, 0, 1)), &ResetOptions::default()).unwrap();
    assert_eq!(&v.obs()[..4], &o[..]);
    assert_eq!(v.cursor(0), &EnvCursor::start(1));
    assert!(v.at_start(0));
}

#[test]
fn restore_from_a_snapshot_continues_bit_identically() {
    const BEFORE: usize = 130;
    const AFTER: usize = 170;
    for id in ["CartPole-v1", "Pendulum-v1"] {
        let mut a = training(id, Execution::Sequential, None);
        a.reset(None).unwrap();
        let acts = actions(&a, BEFORE + AFTER);
        run(&mut a, &acts[..BEFORE]);
        let snapshot = a.cursors();
        let mut b = training(id, Execution::Sequential, None);
        b.restore(&snapshot).unwrap();
        assert_eq!(a.obs(), b.obs(), "{id}: restored observations");
        assert_eq!(run(&mut a, &acts[BEFORE..]), run(&mut b, &acts[BEFORE..]), "{id}: after restore");
        assert_eq!(a.cursors(), b.cursors());
    }
}

#[test]
fn training_schedule_is_independent_of_the_thread_count() {
    let mut one = training("Pendulum-v1", Execution::Sequential, None);
    let mut two = training("Pendulum-v1", Execution::Parallel { min_chunk: 0 }, Some(2));
    one.reset(None).unwrap();
    two.reset(None).unwrap();
    let acts = actions(&one, 450);
    assert_eq!(run(&mut one, &acts), run(&mut two, &acts));
    assert_eq!(one.cursors(), two.cursors());
}

#[test]
fn restore_needs_the_per_episode_schedule_and_one_cursor_per_env() {
    let mut g = VectorEnv::from_fn(N, Autoreset::SameStep, Execution::Sequential, |_| make("CartPole-v1")).unwrap();
    assert!(matches!(g.restore(&vec![EnvCursor::start(0); N]), Err(EnvError::Unsupported { .. })));
    let mut t = training("CartPole-v1", Execution::Sequential, None);
    assert!(matches!(t.restore(&[EnvCursor::start(0)]), Err(EnvError::InvalidState { .. })));
}

#[test]
fn absurd_env_counts_are_refused_before_building_them() {
    let mut built = 0;
    let err = VectorEnv::from_fn(usize::MAX / 2, Autoreset::SameStep, Execution::Sequential, |_| {
        built += 1;
        make("CartPole-v1")
    })
    .err()
    .unwrap();
    assert_eq!(built, 1);
    assert!(matches!(err, EnvError::ResourceLimit(ref m) if m.field == "n_envs" && m.bytes > m.bound as u128), "{err}");
}
