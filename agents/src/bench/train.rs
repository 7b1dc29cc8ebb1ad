//! Training throughput (env steps/s including updates) and the FLOP rate of the update, for
//! any policy on SB3's default settings (8 envs × 128 steps, 10 epochs, minibatch 64 for the
//! MLP and 128 for recurrent policies, recurrent cells 256 wide).

use crate::error::AgentError;
use crate::policy::PolicyKind;
use crate::ppo::{TrainConfig, Trainer};
use serde::Serialize;

/// One policy's measurement.
#[derive(Debug, Clone, Serialize)]
pub struct TrainBenchRow {
    /// Policy kind.
    pub policy: String,
    /// Env steps per wall-clock second (rollout and update).
    pub steps_per_s: f64,
    /// Env steps per CPU-second of this process (NaN where /proc is unavailable).
    pub steps_per_cpu_s: f64,
    /// Mean rollout seconds per update.
    pub rollout_s: f64,
    /// Mean optimization seconds per update.
    pub update_s: f64,
    /// Update GFLOP/s (backward counted as twice the forward).
    pub update_gflops: f64,
    /// The same per CPU-second.
    pub update_gflops_cpu: f64,
    /// Trainable parameters.
    pub params: usize,
}

/// The SB3-default training config of `kind` on `env` (`bptt` 0: whole sequences), with
/// extra overrides.
pub fn sb3_config(env: &str, kind: PolicyKind, bptt: usize, set: &[String]) -> Result<TrainConfig, AgentError> {
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
            let k = kind.as_str();
            sets.extend([
                format!("policy.kind=\"{k}\""),
                "policy.rnn_hidden=256".into(),
                "ppo.minibatch_size=128".into(),
                format!("ppo.bptt_len={bptt}"),
            ]);
        }
    }
    sets.extend(set.iter().cloned());
    TrainConfig::from_toml_with("", &sets)
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
/// time of the training loop does not.
pub fn cpu_seconds() -> Option<f64> {
    /// Linux's USER_HZ.
    const TICKS_PER_S: f64 = 100.0;
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesized command name; utime and stime are fields 14 and 15.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let (u, s) = (f.get(11)?.parse::<f64>().ok()?, f.get(12)?.parse::<f64>().ok()?);
    Some((u + s) / TICKS_PER_S)
}

/// Times `updates` updates (after one warm-up update) of a trainer built from `cfg`.
pub fn measure(name: &str, cfg: TrainConfig, updates: usize) -> Result<TrainBenchRow, AgentError> {
    if updates == 0 {
        return Err(AgentError::Config("--updates must be >= 1 (got 0)".into()));
    }
    let mut t = Trainer::new(cfg)?;
    t.train_update()?; // warm-up
    let (mut roll, mut opt, mut samples, mut steps) = (0.0, 0.0, 0usize, 0u64);
    let start = std::time::Instant::now();
    let cpu0 = cpu_seconds();
    for _ in 0..updates {
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
    Ok(TrainBenchRow {
        policy: name.to_string(),
        steps_per_s: steps as f64 / wall,
        steps_per_cpu_s: cpu.map_or(f64::NAN, |c| steps as f64 / c),
        rollout_s: roll / updates as f64,
        update_s: opt / updates as f64,
        update_gflops: gflops,
        // Charging the update its wall-clock share of the CPU time (what an otherwise idle
        // core would deliver on a shared machine).
        update_gflops_cpu: cpu.map_or(f64::NAN, |c| gflops * (opt + roll) / c),
        params: t.policy.params().num_scalars(),
    })
}

/// The header `engram bench train` prints above its rows.
pub fn header(env: &str, bptt_len: usize) -> String {
    let bptt = if bptt_len == 0 { "128 (whole sequence)".to_string() } else { bptt_len.to_string() };
    format!(
        "engram bench train: {env} | 8 envs x 128 steps, 10 epochs, minibatch 64 (mlp) / 128 (recurrent), bptt_len {bptt} | policy on 1 thread\n{:<6} {:>12} {:>16} {:>12} {:>12} {:>14} {:>16} {:>10}",
        "policy", "env steps/s", "env steps/CPU-s", "rollout s", "update s", "update GFLOP/s", "GFLOP/CPU-s", "params"
    )
}

impl TrainBenchRow {
    /// The row as a line of the table under [`header`].
    pub fn line(&self) -> String {
        format!(
            "{:<6} {:>12.0} {:>16.0} {:>12.3} {:>12.3} {:>14.2} {:>16.2} {:>10}",
            self.policy,
            self.steps_per_s,
            self.steps_per_cpu_s,
            self.rollout_s,
            self.update_s,
            self.update_gflops,
            self.update_gflops_cpu,
            self.params
        )
    }
}
