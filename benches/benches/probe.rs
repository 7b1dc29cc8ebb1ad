//! Probe analyses at agent scale: fixed-point search on a 256-unit tanh network and CCA /
//! Procrustes between two 10k-state × 256-unit representations; and the issue-9 probes as
//! `engram probe` runs them on a 256-unit GRU with 10k recorded states (fixed points from 64
//! initial states with the analytic Jacobian, the 16 leading Lyapunov exponents along the
//! 10k-step trajectory, the four similarity scores of one pair).

use criterion::{criterion_group, criterion_main, Criterion};
use engram_agents::nn::cells::CellKind;
use engram_agents::probe::dynamics::{find_fixed_points, FixedPointConfig};
use engram_agents::probe::lyapunov::{lyapunov_spectrum, trajectory_jacobians};
use engram_agents::probe::recurrent::RecurrentMap;
use engram_agents::probe::similarity::{cca, procrustes_angular_distance, shape_distance, svcca};
use engram_agents::probe::Matrix;
use rand::{Rng, SeedableRng};

const HIDDEN: usize = 256;
const N_STATES: usize = 10_000;
/// Recurrent gain of the random network (< 1: contracting, one stable fixed point).
const GAIN: f64 = 0.9;
const N_INITIAL: usize = 8;

fn bench_fixed_points(c: &mut Criterion) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let scale = GAIN * (3.0 / HIDDEN as f64).sqrt();
    let w = Matrix::from_fn(HIDDEN, HIDDEN, |_, _| rng.gen_range(-scale..scale));
    let b: Vec<f64> = (0..HIDDEN).map(|_| rng.gen_range(-0.1..0.1)).collect();
    let map = |h: &[f64]| -> Vec<f64> { w.mat_vec(h).iter().zip(&b).map(|(x, y)| (x + y).tanh()).collect() };
    let jac = |h: &[f64]| -> Matrix {
        let out = map(h);
        Matrix::from_fn(HIDDEN, HIDDEN, |i, j| (1.0 - out[i] * out[i]) * w.get(i, j))
    };
    let inits = Matrix::from_fn(N_INITIAL, HIDDEN, |_, _| rng.gen_range(-1.0..1.0));
    let config = FixedPointConfig::default();
    c.bench_function("fixed_points_tanh256_8inits", |bch| {
        bch.iter(|| find_fixed_points(&map, Some(&jac), &inits, &config).expect("fixed points"))
    });
}

fn bench_similarity(c: &mut Criterion) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let x = Matrix::from_fn(N_STATES, HIDDEN, |_, _| rng.gen_range(-1.0..1.0));
    let mix = Matrix::from_fn(HIDDEN, HIDDEN, |_, _| rng.gen_range(-1.0..1.0));
    let y = x.matmul(&mix).expect("shapes");
    let mut group = c.benchmark_group("similarity_10k_x_256");
    group.sample_size(10);
    group.bench_function("cca", |bch| bch.iter(|| cca(&x, &y).expect("cca")));
    group.bench_function("procrustes", |bch| bch.iter(|| procrustes_angular_distance(&x, &y).expect("procrustes")));
    group.finish();
}

/// Initial states of the fixed-point probe (its default).
const N_PROBE_INITIAL: usize = 64;
/// Lyapunov exponents computed along the trajectory.
const N_EXPONENTS: usize = 16;

/// A random 256-unit GRU (weights uniform in ±1/√H, as PyTorch initializes) and the 10k states
/// it reaches driven by random 3-D inputs.
fn gru_and_states(seed: u64) -> (RecurrentMap, Matrix, Matrix) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let (inp, g) = (3, 3 * HIDDEN);
    let k = 1.0 / (HIDDEN as f32).sqrt();
    let mut r = |n: usize| -> Vec<f32> { (0..n).map(|_| rng.gen_range(-k..k)).collect() };
    let (w_ih, w_hh, b_ih, b_hh) = (r(inp * g), r(HIDDEN * g), r(g), r(g));
    let map = RecurrentMap::new(CellKind::Gru, inp, HIDDEN, &w_ih, &w_hh, &b_ih, Some(&b_hh)).expect("shapes");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed + 1);
    let inputs =
        Matrix::from_fn(N_STATES, inp, |t, j| ((t as f64) * 0.05 * (j + 1) as f64).sin() + rng.gen_range(-0.3..0.3));
    let states = map.drive(&inputs);
    (map, inputs, states)
}

fn bench_agent_probes(c: &mut Criterion) {
    let (map, inputs, states) = gru_and_states(3);
    let xp = map.input_projection(&[0.0; 3]);
    let f = |h: &[f64]| map.step_projected(h, &xp);
    let jac = |h: &[f64]| map.jacobian_projected(h, &xp);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
    let inits = Matrix::from_fn(N_PROBE_INITIAL, HIDDEN, |i, j| states.get(i * 150, j) + rng.gen_range(-0.05..0.05));
    let config = FixedPointConfig::default();
    let mut group = c.benchmark_group("probe_gru256_10k");
    group.sample_size(10);
    group.bench_function("fixed_points_64inits", |bch| {
        bch.iter(|| find_fixed_points(&f, Some(&jac), &inits, &config).expect("fixed points"))
    });
    group.bench_function("lyapunov_16exponents_10k_steps", |bch| {
        bch.iter(|| {
            let jacs = trajectory_jacobians(
                |h: &[f64], u: &[f64]| map.step(h, u),
                |h: &[f64], u: &[f64]| map.jacobian(h, u),
                &vec![0.0; HIDDEN],
                &inputs,
            );
            lyapunov_spectrum(jacs, N_EXPONENTS, 20, &mut rand_chacha::ChaCha8Rng::seed_from_u64(5)).expect("spectrum")
        })
    });
    let (_, _, other) = gru_and_states(9);
    group.bench_function("similarity_pair_4scores", |bch| {
        bch.iter(|| {
            (
                cca(&states, &other).expect("cca").mean(),
                svcca(&states, &other, 10).expect("svcca").mean(),
                procrustes_angular_distance(&states, &other).expect("procrustes"),
                shape_distance(&states, &other, 0.5).expect("shape"),
            )
        })
    });
    group.finish();
}

criterion_group!(benches, bench_fixed_points, bench_similarity, bench_agent_probes);
criterion_main!(benches);
