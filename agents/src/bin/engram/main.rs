//! The `engram` command line.

mod bench_train;
mod eval;
mod train;

use clap::{Parser, Subcommand};

/// engram: physics-backed RL environments and recurrent agents.
#[derive(Parser, Debug)]
#[command(name = "engram", version)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Train a policy with PPO.
    Train(train::TrainArgs),
    /// Evaluate a checkpoint (mean return ± 95% CI).
    Eval(eval::EvalArgs),
    /// Record rollouts of a checkpoint to .npy + manifest.
    Record(eval::RecordArgs),
    /// Benchmarks.
    Bench {
        #[command(subcommand)]
        which: BenchCmd,
    },
}

#[derive(Subcommand, Debug)]
enum BenchCmd {
    /// Training throughput (env steps/s including updates) and update FLOP rate.
    Train(bench_train::BenchTrainArgs),
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().cmd {
        Cmd::Train(a) => train::run(a),
        Cmd::Eval(a) => eval::run_eval(a),
        Cmd::Record(a) => eval::run_record(a),
        Cmd::Bench { which: BenchCmd::Train(a) } => bench_train::run(a),
    }
}
