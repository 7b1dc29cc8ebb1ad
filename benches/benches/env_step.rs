//! Env step throughput: every registered env, single and vectorised.
//!
//! `cargo bench -p engram-benches --bench env_step`. Reported per env step (criterion's
//! `Throughput::Elements`), random pre-generated actions, auto-reset included.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use engram_envs::prelude::*;
use engram_envs::registry;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::hint::black_box;
use std::time::Duration;

const STEPS_PER_ITER: usize = 1_000;
const N_ENVS: usize = 16;

fn random_actions(space: &Space, n: usize) -> Vec<f32> {
    space.sample_n(&mut ChaCha8Rng::seed_from_u64(0), n)
}

fn single(c: &mut Criterion) {
    let mut g = c.benchmark_group("env_step/single");
    g.throughput(Throughput::Elements(STEPS_PER_ITER as u64)).measurement_time(Duration::from_secs(3));
    for id in registry::list() {
        let mut env = make(id).unwrap();
        let space = env.action_space().clone();
        let d = space.flat_dim();
        let acts = random_actions(&space, STEPS_PER_ITER);
        let mut obs = vec![0.0; env.observation_space().flat_dim()];
        let mut info = Info::new();
        let opts = ResetOptions::default();
        env.reset_into(Some(0), &opts, &mut obs, &mut info).unwrap();
        g.bench_function(BenchmarkId::from_parameter(id), |b| {
            b.iter(|| {
                for a in acts.chunks_exact(d) {
                    if env.step_into(a, &mut obs, &mut info).unwrap().done() {
                        env.reset_into(None, &opts, &mut obs, &mut info).unwrap();
                    }
                }
                black_box(&obs);
            })
        });
    }
    g.finish();
}

fn vector(c: &mut Criterion) {
    let mut g = c.benchmark_group("env_step/vector16");
    g.throughput(Throughput::Elements((STEPS_PER_ITER * N_ENVS) as u64)).measurement_time(Duration::from_secs(3));
    for id in registry::list() {
        for (name, exec) in [("sequential", Execution::Sequential), ("rayon", Execution::Parallel { min_chunk: 0 })] {
            let mut v = VectorEnv::from_fn(N_ENVS, Autoreset::SameStep, exec, |_| make(id)).unwrap();
            let acts = random_actions(v.single_action_space(), N_ENVS);
            v.reset(Some(0)).unwrap();
            g.bench_function(BenchmarkId::new(name, id), |b| {
                b.iter(|| {
                    for _ in 0..STEPS_PER_ITER {
                        v.step_in_place(&acts).unwrap();
                    }
                    black_box(v.obs());
                })
            });
        }
    }
    g.finish();
}

criterion_group!(benches, single, vector);
criterion_main!(benches);
