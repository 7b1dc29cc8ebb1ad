//! `engram bench`: throughput measurements printed as a table and written to JSON.

use crate::common::{make_env, median};
use anyhow::{bail, Result};
use clap::{Args, Subcommand};
use engram_agents::io::atomic_write;
use engram_envs::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::path::PathBuf;
use std::time::Instant;

/// What to measure.
#[derive(Subcommand)]
pub enum BenchCmd {
    /// Env steps/s: one env, and a vector env sequentially and on 1 and 2 rayon threads.
    Env(BenchEnvArgs),
    /// Training throughput (env steps/s including updates) and update FLOP rate.
    Train(crate::bench_train::BenchTrainArgs),
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

/// Runs a benchmark.
pub fn run(cmd: BenchCmd) -> Result<()> {
    match cmd {
        BenchCmd::Env(a) => bench_env(a),
        BenchCmd::Train(a) => crate::bench_train::run(a),
    }
}

/// Pre-generated random actions, `[n, act_dim]`, so sampling is not timed.
fn actions(space: &Space, n: usize) -> Vec<f32> {
    space.sample_n(&mut ChaCha8Rng::seed_from_u64(0), n)
}

fn single(a: &BenchEnvArgs) -> Result<Vec<f64>> {
    let mut env = make_env(&a.env, a.config.as_deref())?;
    let space = env.action_space().clone();
    let d = space.flat_dim();
    let n_actions = 65_536;
    let acts = actions(&space, n_actions);
    let mut obs = vec![0.0; env.observation_space().flat_dim()];
    let mut info = Info::new();
    let opts = ResetOptions::default();
    let mut rates = vec![];
    for r in 0..=a.repeats {
        env.reset_into(Some(0), &opts, &mut obs, &mut info)?;
        let t0 = Instant::now();
        for t in 0..a.steps {
            let k = t % n_actions;
            let o = env.step_into(&acts[k * d..(k + 1) * d], &mut obs, &mut info)?;
            if o.done() {
                env.reset_into(None, &opts, &mut obs, &mut info)?;
            }
        }
        let rate = a.steps as f64 / t0.elapsed().as_secs_f64();
        if r > 0 {
            rates.push(rate); // run 0 warms caches and the branch predictor
        }
    }
    Ok(rates)
}

fn vector(a: &BenchEnvArgs, exec: Execution, threads: Option<usize>) -> Result<Vec<f64>> {
    let mut v = VectorEnv::from_fn(a.n_envs, Autoreset::SameStep, exec, |_| {
        make_env(&a.env, a.config.as_deref())
            .map_err(|e| EnvError::ConfigParse { env: a.env.clone(), message: e.to_string() })
    })?;
    if let Some(t) = threads {
        v = v.with_threads(t)?;
    }
    let space = v.single_action_space().clone();
    let batches = 256;
    let acts = actions(&space, batches * a.n_envs);
    let width = a.n_envs * space.flat_dim();
    let iters = (a.steps / a.n_envs).max(1);
    let mut rates = vec![];
    for r in 0..=a.repeats {
        v.reset(Some(0))?;
        let t0 = Instant::now();
        for t in 0..iters {
            let k = t % batches;
            v.step_in_place(&acts[k * width..(k + 1) * width])?;
        }
        let rate = (iters * a.n_envs) as f64 / t0.elapsed().as_secs_f64();
        if r > 0 {
            rates.push(rate);
        }
    }
    Ok(rates)
}

fn bench_env(a: BenchEnvArgs) -> Result<()> {
    if a.steps == 0 || a.n_envs == 0 || a.repeats == 0 {
        bail!("--steps, --n-envs and --repeats must all be >= 1");
    }
    let configs: Vec<(String, Vec<f64>)> = vec![
        ("single env".into(), single(&a)?),
        (format!("vector x{} sequential", a.n_envs), vector(&a, Execution::Sequential, None)?),
        (format!("vector x{} rayon 1 thread", a.n_envs), vector(&a, Execution::Parallel { min_chunk: 0 }, Some(1))?),
        (format!("vector x{} rayon 2 threads", a.n_envs), vector(&a, Execution::Parallel { min_chunk: 0 }, Some(2))?),
    ];
    println!("{} — env steps/s, median of {} runs of {} steps", a.env, a.repeats, a.steps);
    println!("{:<32} {:>14} {:>14} {:>14}", "configuration", "median", "min", "max");
    let mut rows = vec![];
    for (name, rates) in &configs {
        let (min, max) = rates.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), &r| (lo.min(r), hi.max(r)));
        println!("{:<32} {:>14.0} {:>14.0} {:>14.0}", name, median(rates), min, max);
        rows.push(serde_json::json!({"configuration": name, "median_steps_per_s": median(rates), "runs": rates}));
    }
    let out = serde_json::json!({
        "schema": "engram.bench.env/1",
        "engram_version": env!("CARGO_PKG_VERSION"),
        "env": a.env, "steps": a.steps, "n_envs": a.n_envs, "repeats": a.repeats,
        "available_parallelism": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        "results": rows,
    });
    atomic_write(&a.out, serde_json::to_string_pretty(&out)?.as_bytes())?;
    println!("written to {}", a.out.display());
    Ok(())
}
