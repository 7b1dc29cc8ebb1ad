//! `engram bench train`: training throughput (env steps/s including updates) and the FLOP
//! rate of the update, for MLP, GRU and LSTM on Pendulum-v1 with SB3's default settings.

use anyhow::Result;
use clap::Args;
use engram_agents::policy::PolicyKind;
use engram_agents::ppo::{TrainConfig, Trainer};

/// Measure training throughput.
#[derive(Args, Debug)]
pub struct BenchTrainArgs {
    /// Env id.
    #[arg(long, default_value = "Pendulum-v1")]
    pub env: String,
    /// Policies to measure (comma-separated).
    #[arg(long, default_value = "mlp,gru,lstm")]
    pub policies: String,
    /// Updates to time per policy (after one warm-up update).
    #[arg(long, default_value_t = 3)]
    pub updates: usize,
    /// BPTT chunk length for recurrent policies (0: whole 128-step sequences, as
    /// RecurrentPPO's minibatch of 128 samples).
    #[arg(long, default_value_t = 0)]
    pub bptt_len: usize,
    /// Extra `key=value` overrides applied to every policy.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
}

/// SB3 defaults: 8 envs, n_steps 128, 10 epochs, minibatch 64 (PPO) / 128 (RecurrentPPO);
/// MLP 64×64; recurrent: 256-wide cell for actor and critic, then 64×64.
fn sb3_config(env: &str, kind: PolicyKind, bptt: usize, set: &[String]) -> Result<TrainConfig> {
    let mut sets = vec![
        format!("env=\"{env}\""),
        "ppo.n_envs=8".into(),
        "ppo.n_steps=128".into(),
        "ppo.n_epochs=10".into(),
        "total_timesteps=100000000".into(),
    ];
    match kind {
        PolicyKind::Mlp => sets.push("ppo.minibatch_size=64".into()),
        _ => {
            let k = format!("{kind:?}").to_lowercase();
            sets.extend([
                format!("policy.kind=\"{k}\""),
                "policy.rnn_hidden=256".into(),
                "ppo.minibatch_size=128".into(),
                format!("ppo.bptt_len={bptt}"),
            ]);
        }
    }
    sets.extend(set.iter().cloned());
    TrainConfig::from_toml_with("", &sets).map_err(anyhow::Error::msg)
}

/// Multiply-adds per sample of one forward pass (every weight matrix `[in, out]`).
fn forward_flops(t: &Trainer) -> f64 {
    t.policy
        .params()
        .items()
        .iter()
        .filter(|p| p.name.ends_with("weight") || p.name.ends_with("weight_ih") || p.name.ends_with("weight_hh"))
        .map(|p| 2.0 * p.len() as f64)
        .sum()
}

/// CPU seconds (user + system) of this process so far, from `/proc/self/stat` (Linux; 10 ms
/// resolution). On a shared machine wall-clock rates depend on the other processes; the CPU
/// time of the (single-threaded) training loop does not.
fn cpu_seconds() -> Option<f64> {
    /// Linux's USER_HZ.
    const TICKS_PER_S: f64 = 100.0;
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesized command name; utime and stime are fields 14 and 15.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let (u, s) = (f.get(11)?.parse::<f64>().ok()?, f.get(12)?.parse::<f64>().ok()?);
    Some((u + s) / TICKS_PER_S)
}

/// Runs `engram bench train`.
pub fn run(a: BenchTrainArgs) -> Result<()> {
    println!(
        "engram bench train: {} | 8 envs x 128 steps, 10 epochs, minibatch 64 (mlp) / 128 (recurrent), bptt_len {} | policy on 1 thread",
        a.env,
        if a.bptt_len == 0 { "128 (whole sequence)".to_string() } else { a.bptt_len.to_string() }
    );
    println!(
        "{:<6} {:>12} {:>16} {:>12} {:>12} {:>14} {:>16} {:>10}",
        "policy", "env steps/s", "env steps/CPU-s", "rollout s", "update s", "update GFLOP/s", "GFLOP/CPU-s", "params"
    );
    for name in a.policies.split(',') {
        let kind = PolicyKind::parse(name.trim()).ok_or_else(|| anyhow::anyhow!("unknown policy {name}"))?;
        let cfg = sb3_config(&a.env, kind, a.bptt_len, &a.set)?;
        let mut t = Trainer::new(cfg)?;
        t.train_update()?; // warm-up
        let (mut roll, mut opt, mut samples, mut steps) = (0.0, 0.0, 0usize, 0u64);
        let start = std::time::Instant::now();
        let cpu0 = cpu_seconds();
        for _ in 0..a.updates {
            let before = t.global_step;
            let m = t.train_update()?;
            roll += m.rollout_s;
            opt += m.optimize_s;
            samples += m.samples_trained;
            steps += t.global_step - before;
        }
        let wall = start.elapsed().as_secs_f64();
        let cpu = cpu_seconds().zip(cpu0).map(|(b, a)| b - a);
        // Backward costs about twice the forward.
        let gflops = 3.0 * forward_flops(&t) * samples as f64 / opt / 1e9;
        // The same per CPU-second, charging the update its wall-clock share of the CPU time
        // (what an otherwise idle core would deliver on a shared machine).
        let gflops_cpu = cpu.map_or(f64::NAN, |c| gflops * (opt + roll) / c);
        println!(
            "{:<6} {:>12.0} {:>16.0} {:>12.3} {:>12.3} {:>14.2} {:>16.2} {:>10}",
            name.trim(),
            steps as f64 / wall,
            cpu.map_or(f64::NAN, |c| steps as f64 / c),
            roll / a.updates as f64,
            opt / a.updates as f64,
            gflops,
            gflops_cpu,
            t.policy.params().num_scalars()
        );
    }
    Ok(())
}
