//! One PPO update (rollout + 10 epochs) on Pendulum-v1 with SB3's default sizes.

use criterion::{criterion_group, criterion_main, Criterion};
use engram_agents::prelude::*;

fn bench_update(c: &mut Criterion) {
    let mut g = c.benchmark_group("ppo_update_pendulum_8x128");
    g.sample_size(10);
    for (name, sets) in [
        ("mlp64x64_mb64", vec!["ppo.minibatch_size=64"]),
        (
            "lstm256_mb128_whole_seq",
            vec!["policy.kind=\"lstm\"", "policy.rnn_hidden=256", "ppo.minibatch_size=128", "ppo.bptt_len=0"],
        ),
        (
            "lstm256_mb128_bptt16",
            vec!["policy.kind=\"lstm\"", "policy.rnn_hidden=256", "ppo.minibatch_size=128", "ppo.bptt_len=16"],
        ),
    ] {
        let mut sets: Vec<String> = sets.into_iter().map(String::from).collect();
        sets.extend(["env=\"Pendulum-v1\"".into(), "total_timesteps=1000000000".into()]);
        let mut t = Trainer::new(TrainConfig::from_toml_with("", &sets).unwrap()).unwrap();
        g.bench_function(name, |b| b.iter(|| t.train_update().unwrap()));
    }
    g.finish();
}

criterion_group!(benches, bench_update);
criterion_main!(benches);
