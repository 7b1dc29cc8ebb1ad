//! The hand-written recurrent layers (`nn::bptt`): forward with trace and backward through
//! time of one LSTM-256 layer over a PPO minibatch of 128 samples, as one whole sequence
//! (one row per step) and as 8 chunks of 16 steps.

use criterion::{criterion_group, criterion_main, Criterion};
use engram_agents::nn::bptt::{self, BackwardOut, BpttScratch, CellGrads, CellWeights, LayerTrace, SeqLayout};
use engram_agents::nn::cells::CellKind;
use rand::{Rng, SeedableRng};

fn bench_bptt(c: &mut Criterion) {
    let (inp, hd) = (3usize, 256usize);
    let g = 4 * hd;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let mut r = |n: usize, s: f32| -> Vec<f32> { (0..n).map(|_| rng.gen_range(-s..s)).collect() };
    let (w_ih, w_hh, b) = (r(inp * g, 0.5), r(hd * g, 0.06), r(g, 0.1));
    let w = CellWeights { kind: CellKind::Lstm, inp, hidden: hd, w_ih: &w_ih, w_hh: &w_hh, b_ih: &b, b_hh: None };
    let mut grp = c.benchmark_group("lstm256_minibatch128");
    grp.sample_size(20);
    for (name, time, batch) in [("whole_seq_128x1", 128usize, 1usize), ("chunks_16x8", 16, 8)] {
        let n = time * batch;
        let (x, h0, d_out) = (r(n * inp, 1.0), r(batch * hd, 0.5), r(n * hd, 0.01));
        let seq = SeqLayout { time, batch, starts: None, noise: None };
        let mut tr = LayerTrace::default();
        let (mut grads, mut ws) = (CellGrads::default(), BpttScratch::default());
        grp.bench_function(format!("{name}_forward"), |bch| {
            bch.iter(|| bptt::forward(&w, &x, seq, &h0, Some(&h0), &mut tr))
        });
        grp.bench_function(format!("{name}_forward_backward"), |bch| {
            bch.iter(|| {
                bptt::forward(&w, &x, seq, &h0, Some(&h0), &mut tr);
                let out = BackwardOut { grads: &mut grads, dx: None };
                bptt::backward(&w, &x, seq, &tr, &d_out, out, &mut ws);
            })
        });
    }
    grp.finish();
}

criterion_group!(benches, bench_bptt);
criterion_main!(benches);
