//! Same seed, bit-identical training curves and weights, whatever the thread counts (env
//! stepping, the ambient rayon pool, gradient-shard workers, a recurrent critic's backward on
//! its own thread).

use engram_agents::prelude::*;

fn run(cfg: &TrainConfig, env_threads: usize, pool_threads: usize) -> (Vec<String>, Vec<u32>) {
    let mut cfg = cfg.clone();
    cfg.env_threads = env_threads;
    cfg.update_threads = env_threads;
    let pool = rayon::ThreadPoolBuilder::new().num_threads(pool_threads).build().unwrap();
    pool.install(|| {
        let mut t = Trainer::new(cfg).unwrap();
        let mut lines = Vec::new();
        while !t.finished() {
            lines.push(serde_json::to_string(&t.train_update().unwrap()).unwrap());
        }
        let w = t.policy.params().items().iter().flat_map(|p| p.values()).map(f32::to_bits).collect();
        (lines, w)
    })
}

#[test]
fn training_is_bit_identical_across_thread_counts() {
    for text in [
        "env = \"Pendulum-v1\"\nseed = 4\ntotal_timesteps = 2048\n[policy]\nhidden = [32, 32]\n[ppo]\nn_envs = 8\nn_steps = 64\nn_epochs = 2\n",
        "env = \"CartPole-v1\"\nseed = 4\ntotal_timesteps = 2048\n[policy]\nhidden = [32, 32]\nengine = \"fused\"\n[ppo]\nn_envs = 4\nn_steps = 128\nn_epochs = 2\nminibatch_size = 128\ngrad_shards = 3\n",
        "env = \"CartPoleNoVel-v1\"\nseed = 4\ntotal_timesteps = 1024\n[policy]\nkind = \"gru\"\nrnn_hidden = 16\nhidden = [16]\n[ppo]\nn_envs = 4\nn_steps = 64\nbptt_len = 32\nminibatch_size = 64\nn_epochs = 2\n",
        "env = \"PendulumNoVel-v1\"\nseed = 4\ntotal_timesteps = 1536\n[policy]\nkind = \"lstm\"\nrnn_hidden = 16\nhidden = []\n[ppo]\nn_envs = 6\nn_steps = 64\nbptt_len = 16\nminibatch_size = 64\nn_epochs = 2\n",
    ] {
        let cfg = TrainConfig::from_toml_with(text, &[]).unwrap();
        let reference = run(&cfg, 1, 1);
        for (env_threads, pool_threads) in [(2, 2), (3, 4), (8, 1)] {
            let other = run(&cfg, env_threads, pool_threads);
            assert_eq!(reference.0, other.0, "curves differ with {env_threads} env threads, pool of {pool_threads}");
            assert!(reference.1 == other.1, "weights differ with {env_threads} env threads, pool of {pool_threads}");
        }
        // A different seed gives a different run (the test can fail).
        let mut other_seed = cfg.clone();
        other_seed.seed += 1;
        assert_ne!(reference.0, run(&other_seed, 1, 1).0);
    }
}
