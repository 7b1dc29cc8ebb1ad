//! CurlReach throughput: the bare analytic plant step, and env steps per second for each
//! plant, single-threaded and through the rayon vector env.
//!
//! Run: `cargo bench -p engram-benches --bench reach`. Figures go to docs/benchmarks-reach.md.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use engram_envs::prelude::*;
use engram_envs::tasks::reach::{CurlReach, CurlReachConfig};
use engram_sim::arm::{ActuatorParams, AnalyticArm, ArmParams, Plant, PlantKind};
use engram_sim::field::ForceField;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::time::Duration;

/// Env steps per benchmark iteration of a single env.
const STEPS: usize = 1000;
/// Envs in the vector-env benchmark.
const N_ENVS: usize = 64;
/// Amplitude of the random commands: small, so trials run their course (about 130 steps)
/// instead of ending at once for early movement.
const ACTION_AMPLITUDE: f32 = 0.02;

fn actions(n: usize) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    (0..n).map(|_| rng.gen_range(-ACTION_AMPLITUDE..ACTION_AMPLITUDE)).collect()
}

fn config(plant: PlantKind) -> CurlReachConfig {
    CurlReachConfig { plant, ..CurlReachConfig::default() }
}

const PLANTS: [(PlantKind, &str); 3] =
    [(PlantKind::Analytic, "analytic"), (PlantKind::PointMass, "point_mass"), (PlantKind::Rapier, "rapier")];

fn plant_step(c: &mut Criterion) {
    let mut g = c.benchmark_group("reach/plant_step");
    g.throughput(Throughput::Elements(STEPS as u64));
    let mut arm = AnalyticArm::new(ArmParams::default(), ActuatorParams::default(), 0.01);
    let field = ForceField::curl(8.0);
    let start = [60f64.to_radians(), 90f64.to_radians()];
    g.bench_function("analytic_curl", |b| {
        b.iter(|| {
            arm.reset(start, [0.0; 2]);
            for k in 0..STEPS {
                let u = if k % 100 < 50 { [0.02, -0.01] } else { [-0.02, 0.01] };
                arm.step(black_box(u), &field);
            }
            black_box(arm.hand_position())
        })
    });
    g.finish();
}

fn env_step(c: &mut Criterion) {
    let mut g = c.benchmark_group("reach/env_step");
    g.throughput(Throughput::Elements(STEPS as u64));
    let acts = actions(2 * STEPS);
    for (plant, name) in PLANTS {
        let mut env = CurlReach::new(config(plant)).unwrap();
        let mut obs = vec![0.0; env.observation_space().flat_dim()];
        let mut info = Info::new();
        env.reset_into(Some(0), &ResetOptions::default(), &mut obs, &mut info).unwrap();
        g.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter(|| {
                for a in acts.chunks_exact(2) {
                    let o = env.step_into(a, &mut obs, &mut info).unwrap();
                    if o.done() {
                        env.reset_into(None, &ResetOptions::default(), &mut obs, &mut info).unwrap();
                    }
                }
                black_box(obs[0])
            })
        });
    }
    g.finish();
}

fn vector_step(c: &mut Criterion) {
    let mut g = c.benchmark_group("reach/vector_env_step");
    let steps = 100;
    g.throughput(Throughput::Elements((N_ENVS * steps) as u64));
    let acts = actions(2 * N_ENVS * steps);
    for (plant, name) in PLANTS {
        for (exec, ename) in [(Execution::Sequential, "seq"), (Execution::Parallel { min_chunk: N_ENVS / 2 }, "rayon")]
        {
            let mut venv =
                VectorEnv::from_fn(N_ENVS, Autoreset::SameStep, exec, |_| CurlReach::new(config(plant))).unwrap();
            venv.reset(Some(0)).unwrap();
            g.bench_function(BenchmarkId::new(name, ename), |b| {
                b.iter(|| {
                    for a in acts.chunks_exact(2 * N_ENVS) {
                        venv.step_in_place(a).unwrap();
                    }
                    black_box(venv.obs()[0])
                })
            });
        }
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = plant_step, env_step, vector_step
}
criterion_main!(benches);
