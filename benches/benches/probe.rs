//! Probe analyses at agent scale: fixed-point search on a 256-unit tanh network and CCA /
//! Procrustes between two 10k-state × 256-unit representations.

use criterion::{criterion_group, criterion_main, Criterion};
use engram_agents::probe::dynamics::{find_fixed_points, FixedPointConfig};
use engram_agents::probe::similarity::{cca, procrustes_angular_distance};
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

criterion_group!(benches, bench_fixed_points, bench_similarity);
criterion_main!(benches);
