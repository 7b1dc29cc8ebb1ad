//! Training throughput (env steps/s including updates), the FLOP rate of the update and its
//! fraction of the single-core GEMM peak, for any policy on SB3's default settings (8 envs ×
//! 128 steps, 10 epochs, minibatch 64 for the MLP and 128 for recurrent policies, recurrent
//! cells 256 wide) or PureJaxRL's ([`BenchSettings`]).

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
    /// `update_gflops` over the single-core GEMM peak measured in the same process
    /// ([`gemm_peak_gflops`]); NaN when not measured.
    pub peak_fraction: f64,
}

/// The PPO settings a benchmark trains with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
#[value(rename_all = "lowercase")]
pub enum BenchSettings {
    /// SB3's defaults: 8 envs × 128 steps, 10 epochs, minibatch 64 (MLP) / 128 (recurrent).
    Sb3,
    /// PureJaxRL's CartPole settings (`../shared/anchors/bench_purejaxrl.py`): 4 envs × 128
    /// steps, 4 epochs, 4 minibatches (128 samples), 64×64 tanh MLP.
    Purejaxrl,
}

/// The training config of the policy family `kind` (`mlp|rnn|gru|lstm`) on `env` under `settings` (`bptt` 0: whole sequences), the
/// MLP on the fused engine, with extra overrides applied last (`policy.engine="dfdx"` for
/// the reference engine).
pub fn bench_config(
    settings: BenchSettings,
    env: &str,
    kind: &str,
    bptt: usize,
    set: &[String],
) -> Result<TrainConfig, AgentError> {
    let kind = PolicyKind::parse(kind)
        .ok_or_else(|| AgentError::Config(format!("--policies: unknown policy {kind} (mlp, rnn, gru or lstm)")))?;
    let fused = "policy.engine=\"fused\"".to_string();
    let mut sets: Vec<String> = match settings {
        BenchSettings::Sb3 => return sb3_config(env, kind, bptt, &[&[fused], set].concat()),
        BenchSettings::Purejaxrl => vec![
            format!("env=\"{env}\""),
            "ppo.n_envs=4".into(),
            "ppo.n_steps=128".into(),
            "ppo.n_epochs=4".into(),
            "ppo.minibatch_size=128".into(),
            "total_timesteps=100000000".into(),
            fused,
        ],
    };
    if kind != PolicyKind::Mlp {
        sets.extend([
            format!("policy.kind=\"{}\"", kind.as_str()),
            "policy.rnn_hidden=128".into(),
            format!("ppo.bptt_len={bptt}"),
        ]);
    }
    sets.extend(set.iter().cloned());
    TrainConfig::from_toml_with("", &sets)
}

/// The best single-core FLOP rate (GFLOP/s) of a faer `f32` GEMM, `[256, 256] · [256, 256]`
/// through [`crate::nn::gemm`] (the products the engines use), best of several timed runs:
/// the machine's practical peak that the update rates are compared with.
pub fn gemm_peak_gflops() -> f64 {
    /// Matrix edge.
    const N: usize = 256;
    /// Products per timed run, and timed runs.
    const REPS: usize = 40;
    const RUNS: usize = 7;
    let a: Vec<f32> = (0..N * N).map(|i| ((i % 97) as f32 - 48.0) * 0.01).collect();
    let b: Vec<f32> = (0..N * N).map(|i| ((i % 89) as f32 - 44.0) * 0.01).collect();
    let mut c = vec![0.0f32; N * N];
    let mut best = f64::INFINITY;
    for _ in 0..RUNS {
        let t = std::time::Instant::now();
        for _ in 0..REPS {
            crate::nn::gemm::nn(&mut c, crate::nn::gemm::Acc::Set, &a, &b, N, N, N);
            std::hint::black_box(&mut c);
        }
        best = best.min(t.elapsed().as_secs_f64());
    }
    2.0 * (N * N * N * REPS) as f64 / best / 1e9
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
pub fn measure(name: &str, cfg: TrainConfig, updates: usize, peak_gflops: f64) -> Result<TrainBenchRow, AgentError> {
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
        peak_fraction: gflops / peak_gflops,
    })
}

/// The header `engram bench train` prints above its rows.
pub fn header(env: &str, settings: BenchSettings, bptt_len: usize, peak_gflops: f64) -> String {
    let bptt = if bptt_len == 0 { "128 (whole sequence)".to_string() } else { bptt_len.to_string() };
    let ppo = match settings {
        BenchSettings::Sb3 => {
            "SB3 settings: 8 envs x 128 steps, 10 epochs, minibatch 64 (mlp) / 128 (recurrent, 256 wide)"
        }
        BenchSettings::Purejaxrl => {
            "PureJaxRL settings: 4 envs x 128 steps, 4 epochs, 4 minibatches, 64x64 tanh (recurrent 128 wide)"
        }
    };
    format!(
        "engram bench train: {env} | {ppo}, bptt_len {bptt} | mlp engine fused unless --set policy.engine=\"dfdx\" | policy on 1 thread | single-core faer GEMM peak {peak_gflops:.1} GFLOP/s\n{:<6} {:>12} {:>16} {:>12} {:>12} {:>14} {:>16} {:>10} {:>8}",
        "policy", "env steps/s", "env steps/CPU-s", "rollout s", "update s", "update GFLOP/s", "GFLOP/CPU-s", "params", "of peak"
    )
}

impl TrainBenchRow {
    /// The row as a line of the table under [`header`].
    pub fn line(&self) -> String {
        format!(
            "{:<6} {:>12.0} {:>16.0} {:>12.4} {:>12.4} {:>14.2} {:>16.2} {:>10} {:>7.0}%",
            self.policy,
            self.steps_per_s,
            self.steps_per_cpu_s,
            self.rollout_s,
            self.update_s,
            self.update_gflops,
            self.update_gflops_cpu,
            self.params,
            100.0 * self.peak_fraction
        )
    }
}
