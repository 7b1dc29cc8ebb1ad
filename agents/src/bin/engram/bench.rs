//! `engram bench env|train`: flags in, `engram_agents::bench` out, a table printed.

use crate::common::env_config;
use anyhow::Result;
use clap::{Args, Subcommand};
use engram_agents::bench::env::{table, EnvBench};
use engram_agents::bench::train::{bench_config, gemm_peak_gflops, header, measure, BenchSettings};
use engram_agents::io::write_json;
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
    /// BPTT chunk length for recurrent policies (0: whole 128-step sequences).
    #[arg(long, default_value_t = 0)]
    bptt_len: usize,
    /// PPO settings: SB3's defaults or PureJaxRL's (as ../shared/anchors/bench_purejaxrl.py).
    #[arg(long, value_enum, default_value = "sb3")]
    settings: BenchSettings,
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
    print!("{}", table(&a.env, a.repeats, a.steps, &rows));
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
    let peak = gemm_peak_gflops();
    println!("{}", header(&a.env, a.settings, a.bptt_len, peak));
    for name in a.policies.split(',').map(str::trim) {
        let cfg = bench_config(a.settings, &a.env, name, a.bptt_len, &a.set)?;
        println!("{}", measure(name, cfg, a.updates, peak)?.line());
    }
    Ok(())
}
