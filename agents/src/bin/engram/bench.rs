//! `engram bench env|train`: flags in, `engram_agents::bench` out, a table printed.

use crate::common::env_config;
use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use engram_agents::bench::env::EnvBench;
use engram_agents::bench::train::{measure, sb3_config};
use engram_agents::io::write_json;
use engram_agents::policy::PolicyKind;
use std::path::PathBuf;

/// What to measure.
#[derive(Subcommand)]
pub enum BenchCmd {
    /// Env steps/s: one env, and a vector env sequentially and on 1 and 2 rayon threads.
    Env(BenchEnvArgs),
    /// Training throughput (env steps/s including updates) and update FLOP rate.
    Train(BenchTrainArgs),
}

/// Arguments of `engram bench env`.
#[derive(Args)]
pub struct BenchEnvArgs {
    /// Registered env id (see `engram envs`).
    #[arg(long)]
    env: String,
    /// Env steps per timed run.
    #[arg(long, default_value_t = 1_000_000)]
    steps: usize,
    /// Envs in the vector env.
    #[arg(long, default_value_t = 16)]
    n_envs: usize,
    /// Timed runs per configuration; the median is reported.
    #[arg(long, default_value_t = 5)]
    repeats: usize,
    /// Env config file (.toml or .json).
    #[arg(long)]
    config: Option<PathBuf>,
    /// JSON output file.
    #[arg(long, default_value = "bench-env.json")]
    out: PathBuf,
}

/// Arguments of `engram bench train`.
#[derive(Args, Debug)]
pub struct BenchTrainArgs {
    /// Env id.
    #[arg(long, default_value = "Pendulum-v1")]
    env: String,
    /// Policies to measure (comma-separated).
    #[arg(long, default_value = "mlp,gru,lstm")]
    policies: String,
    /// Updates to time per policy (after one warm-up update).
    #[arg(long, default_value_t = 3)]
    updates: usize,
    /// BPTT chunk length for recurrent policies (0: whole 128-step sequences, as
    /// RecurrentPPO's minibatch of 128 samples).
    #[arg(long, default_value_t = 0)]
    bptt_len: usize,
    /// Extra `key=value` overrides applied to every policy.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
}

/// Runs a benchmark.
pub fn run(cmd: BenchCmd) -> Result<()> {
    match cmd {
        BenchCmd::Env(a) => bench_env(a),
        BenchCmd::Train(a) => bench_train(a),
    }
}

fn bench_env(a: BenchEnvArgs) -> Result<()> {
    let b = EnvBench {
        env: a.env.clone(),
        config: env_config(a.config.as_deref())?,
        steps: a.steps,
        n_envs: a.n_envs,
        repeats: a.repeats,
    };
    let rows = b.run()?;
    println!("{} — env steps/s, median of {} runs of {} steps", a.env, a.repeats, a.steps);
    println!("{:<32} {:>14} {:>14} {:>14}", "configuration", "median", "min", "max");
    for r in &rows {
        let (min, max) = r.runs.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), &x| (lo.min(x), hi.max(x)));
        println!("{:<32} {:>14.0} {:>14.0} {:>14.0}", r.configuration, r.median_steps_per_s, min, max);
    }
    let out = serde_json::json!({
        "schema": "engram.bench.env/1",
        "engram_version": env!("CARGO_PKG_VERSION"),
        "env": a.env, "steps": a.steps, "n_envs": a.n_envs, "repeats": a.repeats,
        "available_parallelism": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        "results": rows,
    });
    write_json(&a.out, &out)?;
    println!("written to {}", a.out.display());
    Ok(())
}

fn bench_train(a: BenchTrainArgs) -> Result<()> {
    let bptt = if a.bptt_len == 0 { "128 (whole sequence)".to_string() } else { a.bptt_len.to_string() };
    println!(
        "engram bench train: {} | 8 envs x 128 steps, 10 epochs, minibatch 64 (mlp) / 128 (recurrent), bptt_len {bptt} | policy on 1 thread",
        a.env
    );
    println!(
        "{:<6} {:>12} {:>16} {:>12} {:>12} {:>14} {:>16} {:>10}",
        "policy", "env steps/s", "env steps/CPU-s", "rollout s", "update s", "update GFLOP/s", "GFLOP/CPU-s", "params"
    );
    for name in a.policies.split(',').map(str::trim) {
        let kind = PolicyKind::parse(name).with_context(|| format!("--policies: unknown policy {name}"))?;
        let r = measure(name, sb3_config(&a.env, kind, a.bptt_len, &a.set)?, a.updates)?;
        println!(
            "{:<6} {:>12.0} {:>16.0} {:>12.3} {:>12.3} {:>14.2} {:>16.2} {:>10}",
            r.policy,
            r.steps_per_s,
            r.steps_per_cpu_s,
            r.rollout_s,
            r.update_s,
            r.update_gflops,
            r.update_gflops_cpu,
            r.params
        );
    }
    Ok(())
}
