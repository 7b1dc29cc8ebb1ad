//! PlanarBiped throughput: env steps single-threaded (nominal, randomized, held-out), the
//! physics tick alone, the reset (world rebuild), and 16 envs sequential vs rayon.
//!
//! `cargo bench -p engram-benches --bench biped`. Per env step (criterion's
//! `Throughput::Elements`), random pre-generated actions, auto-reset included. Compare with
//! MuJoCo's Walker2d-v5 through Gymnasium measured on the same machine
//! (`/work/shared/anchors/gym_steps.py Walker2d-v5`).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use engram_envs::prelude::*;
use engram_sim::biped::{standing_state, BipedBody, DynamicsParams, SimSettings};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::hint::black_box;
use std::time::Duration;

const STEPS_PER_ITER: usize = 1_000;
const N_ENVS: usize = 16;
const IDS: [&str; 4] = ["PlanarBiped-v0", "PlanarBipedDR-v0", "PlanarBipedReal-v0", "PlanarBipedReal-R4-v0"];

fn random_actions(space: &Space, n: usize) -> Vec<f32> {
    space.sample_n(&mut ChaCha8Rng::seed_from_u64(0), n)
}

fn single(c: &mut Criterion) {
    let mut g = c.benchmark_group("biped/single");
    g.throughput(Throughput::Elements(STEPS_PER_ITER as u64)).measurement_time(Duration::from_secs(4));
    for id in IDS {
        let mut env = make(id).unwrap();
        let space = env.action_space().clone();
        let acts = random_actions(&space, STEPS_PER_ITER);
        let mut obs = vec![0.0; env.observation_space().flat_dim()];
        let mut info = Info::new();
        let opts = ResetOptions::default();
        env.reset_into(Some(0), &opts, &mut obs, &mut info).unwrap();
        g.bench_function(BenchmarkId::from_parameter(id), |b| {
            b.iter(|| {
                for a in acts.chunks_exact(6) {
                    if env.step_into(a, &mut obs, &mut info).unwrap().done() {
                        env.reset_into(None, &opts, &mut obs, &mut info).unwrap();
                    }
                }
                black_box(&obs);
            })
        });
    }
    // Zero actions: long episodes, so the step cost without resets (nominal vs randomized).
    for id in ["PlanarBiped-v0", "PlanarBipedDR-v0"] {
        let mut env = make(id).unwrap();
        let mut obs = vec![0.0; 17];
        let mut info = Info::new();
        let opts = ResetOptions::default();
        env.reset_into(Some(0), &opts, &mut obs, &mut info).unwrap();
        g.bench_function(BenchmarkId::new("zero_action", id), |b| {
            b.iter(|| {
                for _ in 0..STEPS_PER_ITER {
                    if env.step_into(&[0.0; 6], &mut obs, &mut info).unwrap().done() {
                        env.reset_into(None, &opts, &mut obs, &mut info).unwrap();
                    }
                }
                black_box(&obs);
            })
        });
    }
    g.finish();
}

fn physics(c: &mut Criterion) {
    let mut g = c.benchmark_group("biped/physics");
    g.measurement_time(Duration::from_secs(3));
    let (p, s) = (DynamicsParams::walker2d(), SimSettings::default());
    g.bench_function("world_rebuild", |b| b.iter(|| black_box(BipedBody::new(&p, &s, &standing_state()))));
    g.throughput(Throughput::Elements(1));
    let mut body = BipedBody::new(&p, &s, &standing_state());
    let mut k = 0usize;
    g.bench_function("tick_2ms", |b| {
        b.iter(|| {
            k += 1;
            if k.is_multiple_of(200) {
                body = BipedBody::new(&p, &s, &standing_state());
            }
            body.step(black_box(&[10.0, -20.0, 5.0, -10.0, 20.0, -5.0]));
        })
    });
    for id in ["PlanarBiped-v0", "PlanarBipedDR-v0"] {
        let mut env = make(id).unwrap();
        let mut obs = vec![0.0; 17];
        let mut info = Info::new();
        let opts = ResetOptions::default();
        let mut seed = 0;
        g.bench_function(BenchmarkId::new("reset", id), |b| {
            b.iter(|| {
                seed += 1;
                env.reset_into(Some(seed), &opts, &mut obs, &mut info).unwrap();
            })
        });
    }
    g.finish();
}

fn vector(c: &mut Criterion) {
    let mut g = c.benchmark_group("biped/vector16");
    g.throughput(Throughput::Elements((100 * N_ENVS) as u64)).measurement_time(Duration::from_secs(4));
    for id in ["PlanarBiped-v0", "PlanarBipedDR-v0"] {
        for (name, exec) in [("sequential", Execution::Sequential), ("rayon", Execution::Parallel { min_chunk: 1 })] {
            let mut v = VectorEnv::from_fn(N_ENVS, Autoreset::SameStep, exec, |_| make(id)).unwrap();
            let acts = random_actions(v.single_action_space(), N_ENVS);
            v.reset(Some(0)).unwrap();
            g.bench_function(BenchmarkId::new(name, id), |b| {
                b.iter(|| {
                    for _ in 0..100 {
                        v.step_in_place(&acts).unwrap();
                    }
                    black_box(v.obs());
                })
            });
        }
    }
    g.finish();
}

criterion_group!(benches, single, physics, vector);
criterion_main!(benches);
