//! `engram`: environments, agents and probes from the command line.
//!
//! Every subcommand has `--help`. Errors are reported with their cause and exit code 1 (2 for
//! unparseable arguments, as clap does); nothing panics on bad input.

mod bench;
mod common;
mod envs_cmd;
mod eval;
mod probe;
mod render;
mod replay;
mod rollout;
mod study;
mod train;

use clap::{Parser, Subcommand};

/// engram: physics-backed RL environments and recurrent agents you can look inside.
#[derive(Parser)]
#[command(name = "engram", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List the registered environments with their spaces and time limits.
    Envs(envs_cmd::EnvsArgs),
    /// Run the env checker on one environment (spaces, determinism, bad input, NaN, truncation).
    CheckEnv(envs_cmd::CheckArgs),
    /// Run a random or zero policy for some episodes and print return and length statistics.
    Rollout(rollout::RolloutArgs),
    /// Replay a recorded action sequence and write every step (obs, reward, flags, state) to JSON.
    Replay(replay::ReplayArgs),
    /// Train a policy with PPO into a run directory (or resume one).
    Train(train::TrainArgs),
    /// Train a recurrent network on a battery task by supervised BPTT (or resume a run).
    Fit(engram_agents::fit::FitArgs),
    /// Evaluate a checkpoint: mean return ± 95% CI over seeded episodes.
    Eval(eval::EvalArgs),
    /// Record rollouts of a checkpoint (observations, actions, rewards, values, hidden states,
    /// info) to .npy files plus a JSON manifest.
    Record(eval::RecordArgs),
    /// Draw a policy's behaviour: centre-out hand paths on a reaching env, or a stick-figure
    /// strip of the walker.
    Render(render::RenderArgs),
    /// Run a study end to end: plan its jobs, run them here (resumable), write the report.
    /// `engram experiment NAME` is the same command (the old name, kept for one release).
    #[command(visible_alias = "experiment")]
    Study(study::StudyArgs),
    /// Look inside trained agents: fixed points, Lyapunov spectra, similarity, system
    /// identification.
    #[command(subcommand)]
    Probe(probe::ProbeCmd),
    /// Plan a sweep: a base config × grid axes × seeds, written as plan.json.
    Sweep(study::SweepArgs),
    /// Run a plan's unfinished jobs on this machine, N processes at a time.
    Run(study::RunArgs),
    /// Run one job of a plan in this process (what each Slurm array task runs).
    RunJob(study::RunJobArgs),
    /// Submit a plan's unfinished (or only failed) jobs to Slurm as a job array.
    Submit(study::SubmitArgs),
    /// Show done / running / failed / pending per job of a plan.
    Status(study::StatusArgs),
    /// Build a plan's report once every job is done.
    Collect(study::CollectArgs),
    /// Measure throughput: env steps/s, or training steps/s and update FLOP rate.
    #[command(subcommand)]
    Bench(bench::BenchCmd),
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Envs(a) => envs_cmd::envs(a),
        Command::CheckEnv(a) => envs_cmd::check(a),
        Command::Rollout(a) => rollout::run(a),
        Command::Replay(a) => replay::run(a),
        Command::Train(a) => train::run(a),
        Command::Fit(a) => {
            engram_agents::fit::run_cli(a, Some(engram_agents::inspect::lyapunov_report::fit_lyapunov_hook))
                .map(drop)
                .map_err(Into::into)
        }
        Command::Eval(a) => eval::run_eval(a),
        Command::Record(a) => eval::run_record(a),
        Command::Render(a) => render::run(a),
        Command::Study(a) => study::study(a),
        Command::Probe(c) => probe::run(c),
        Command::Sweep(a) => study::sweep(a),
        Command::Run(a) => study::run(a),
        Command::RunJob(a) => study::run_job(a),
        Command::Submit(a) => study::submit(a),
        Command::Status(a) => study::status(a),
        Command::Collect(a) => study::collect(a),
        Command::Bench(c) => bench::run(c),
    };
    if let Err(e) = result {
        // The cause chain, each cause once: library errors already end with their source.
        let mut msg = e.to_string();
        for cause in e.chain().skip(1).map(|c| c.to_string()) {
            if !msg.ends_with(&cause) {
                msg = format!("{msg}: {cause}");
            }
        }
        eprintln!("error: {msg}");
        std::process::exit(1);
    }
}
