//! Batched policy inference (`Policy::act`, one forward for all envs) per architecture.

use criterion::{criterion_group, criterion_main, Criterion};
use engram_agents::policy::dist::ActionDist;
use engram_agents::prelude::*;
use rand::SeedableRng;

fn bench_act(c: &mut Criterion) {
    let n_envs = 8;
    for (name, kind, rnn) in
        [("mlp64", PolicyKind::Mlp, 64), ("gru64", PolicyKind::Gru, 64), ("lstm256", PolicyKind::Lstm, 256)]
    {
        let cfg = PolicyConfig { kind, rnn_hidden: rnn, ..PolicyConfig::default() };
        let net = ActorCritic::new(&cfg, 3, ActionDist::Gaussian { dim: 1 }, 0);
        let obs = vec![0.1f32; n_envs * 3];
        let mut state = net.initial_state(n_envs);
        let mut out = ActOutput::default();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
        c.bench_function(&format!("act_{name}_8envs"), |b| {
            b.iter(|| net.act(&obs, &mut state, ActMode::Sample, &mut rng, &mut out))
        });
    }
}

criterion_group!(benches, bench_act);
criterion_main!(benches);
