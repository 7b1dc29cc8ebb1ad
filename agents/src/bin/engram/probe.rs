//! `engram probe ...`: the probes of trained runs (fixed points, Lyapunov spectra, similarity
//! across agents, system identification, the curl-field preparatory shift). Each subcommand
//! parses its flags and calls `engram_agents::inspect`, which records (or reuses) the runs'
//! rollouts, runs the probe and writes `report.json`, `report.md`, `.npy` arrays and figures.
//!
//! Adding a probe: write its args struct with `impl ProbeCommand`, then add one line to
//! `probe_commands!` below.

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use engram_agents::inspect::agent::ProbedAgent;
use engram_agents::inspect::fixed_points_report::{probe_fixed_points, FixedPointProbeConfig, ProbeInput};
use engram_agents::inspect::lyapunov_report::{probe_lyapunov, LyapunovProbeConfig};
use engram_agents::inspect::rollouts::Rollouts;
use engram_agents::inspect::similarity_report::{probe_similarity, SimilarityConfig};
use engram_agents::inspect::sysid_report::SysidProbeConfig;
use engram_agents::probe::dynamics::FixedPointMethod;
use std::path::{Path, PathBuf};

/// A probe subcommand.
pub trait ProbeCommand {
    /// Runs it.
    fn run(self) -> Result<()>;
}

/// Declares the `probe` subcommands and their dispatch: one line per probe.
macro_rules! probe_commands {
    ($($(#[$doc:meta])* $name:ident($args:ty)),* $(,)?) => {
        /// Which probe.
        #[derive(Subcommand)]
        pub enum ProbeCmd {
            $($(#[$doc])* $name($args),)*
        }
        /// Runs a probe subcommand.
        pub fn run(cmd: ProbeCmd) -> Result<()> {
            match cmd {
                $(ProbeCmd::$name(a) => a.run(),)*
            }
        }
    };
}

probe_commands! {
    /// Fixed points of a run's recurrent cell at a constant input, their eigenvalues,
    /// stability and time constants, over the PCA of recorded states.
    FixedPoints(FixedPointsArgs),
    /// Lyapunov spectrum of a run's cell driven by its recorded observation sequences.
    Lyapunov(LyapunovArgs),
    /// CCA, SVCCA and shape distances between runs under identical inputs, with shuffled
    /// baselines, a distance matrix, an MDS embedding and clustering by architecture.
    Similarity(SimilarityArgs),
    /// Implicit system identification: decode the dynamics parameters (or CurlReach's field
    /// strength b) from the policy's memory at t = 5 … 250 control steps, against baselines.
    Sysid(SysidArgs),
    /// The curl-field study's report from its recordings: behaviour across phases and the
    /// preparatory-subspace shift analysis (report.json, report.md, figures).
    PrepShift(PrepShiftArgs),
}

/// Arguments of `engram probe prep-shift`.
#[derive(Args, Debug)]
pub struct PrepShiftArgs {
    /// Curl-field study directory (or its plan.json), e.g. `runs/curl-field-quick`.
    #[arg(long)]
    pub run: PathBuf,
    /// Leave out seeds whose mean null-field success over the baseline recordings is below
    /// this fraction (agents that did not learn the task); they are listed in the report.
    #[arg(long)]
    pub min_success: Option<f64>,
}

impl ProbeCommand for PrepShiftArgs {
    fn run(self) -> Result<()> {
        println!("{}", engram_agents::study::curl_field::prep_shift(&self.run, self.min_success)?.display());
        Ok(())
    }
}

/// Arguments of `engram probe sysid`.
#[derive(Args, Debug)]
pub struct SysidArgs {
    /// A run directory (one agent) or a study directory holding plan.json (every job).
    #[arg(long)]
    pub run: PathBuf,
    /// Env of the held-out episodes (default: PlanarBipedDR-v0 for a walker, the run's own
    /// CurlReach env with a random curl strength per episode for a reaching run).
    #[arg(long)]
    pub env: Option<String>,
    /// Held-out episodes (default 128).
    #[arg(long)]
    pub episodes: Option<usize>,
    /// Probe settings (TOML of `SysidProbeConfig`); --episodes overrides its `episodes`.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Recompute a study's probes even where sysid.json exists.
    #[arg(long)]
    pub force: bool,
}

impl ProbeCommand for SysidArgs {
    fn run(self) -> Result<()> {
        let mut cfg = match &self.config {
            Some(p) => SysidProbeConfig::from_toml_file(p)?,
            None => SysidProbeConfig::default(),
        };
        if let Some(n) = self.episodes {
            cfg.episodes = n;
        }
        print!("{}", engram_agents::study::exec::probe_sysid(&self.run, self.env.as_deref(), &cfg, self.force)?);
        Ok(())
    }
}

/// The recording a probe uses.
#[derive(Args, Debug, Clone)]
pub struct RecordingArgs {
    /// Deterministic episodes to record per run (reused when already recorded).
    #[arg(long, default_value_t = 8)]
    pub episodes: usize,
    /// First episode seed.
    #[arg(long, default_value_t = 20_000)]
    pub episode_seed: u64,
}

/// Loads a run and records (or reuses) its rollouts in `<run>/probe/rollouts`.
fn load(run: &Path, rec: &RecordingArgs) -> Result<(ProbedAgent, Rollouts)> {
    let agent = ProbedAgent::load(run).with_context(|| format!("probing {}", run.display()))?;
    let rollouts =
        Rollouts::record_or_reuse(&agent, &run.join("probe").join("rollouts"), rec.episodes, rec.episode_seed)
            .with_context(|| format!("recording {}", run.display()))?;
    Ok((agent, rollouts))
}

/// The run a single-run probe looks at, where it writes, and its seed.
#[derive(Args, Debug)]
pub struct SingleRunArgs {
    /// Run directory (or checkpoint directory) of a recurrent policy.
    #[arg(long)]
    run: PathBuf,
    /// Seed of the probe's own randomness (initial states or frames).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output directory (default: `<run>/probe/<probe name>`).
    #[arg(long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    recording: RecordingArgs,
}

impl SingleRunArgs {
    /// The loaded run, its recording and the output directory.
    fn load(&self, probe: &str) -> Result<(ProbedAgent, Rollouts, PathBuf)> {
        let (agent, rollouts) = load(&self.run, &self.recording)?;
        let out = self.out.clone().unwrap_or_else(|| self.run.join("probe").join(probe));
        Ok((agent, rollouts, out))
    }
}

/// Arguments of `engram probe fixed-points`.
#[derive(Args, Debug)]
pub struct FixedPointsArgs {
    #[command(flatten)]
    target: SingleRunArgs,
    /// Constant input: zero (normalized observation 0), mean (mean recorded input) or prep
    /// (mean input of CurlReach's delay period).
    #[arg(long, value_enum, default_value = "zero")]
    input: ProbeInput,
    /// Initial states drawn from the recorded states.
    #[arg(long, default_value_t = 64)]
    n_initial: usize,
    /// Standard deviation of the noise added to the initial states.
    #[arg(long, default_value_t = 0.05)]
    noise: f64,
    /// Optimizer: lm (Levenberg–Marquardt) or adam (FixedPointFinder's).
    #[arg(long, value_enum, default_value = "lm")]
    method: FixedPointMethod,
}

impl ProbeCommand for FixedPointsArgs {
    fn run(self) -> Result<()> {
        let (input, method) = (self.input, self.method);
        let (agent, rollouts, out) = self.target.load("fixed-points")?;
        let mut cfg = FixedPointProbeConfig {
            input,
            n_initial: self.n_initial,
            init_noise_std: self.noise,
            seed: self.target.seed,
            ..Default::default()
        };
        cfg.search.method = method;
        let (report, states) = probe_fixed_points(&agent, &rollouts, &cfg)?;
        report.write(&states, &out)?;
        println!("{}", report.summary(&out));
        Ok(())
    }
}

/// Arguments of `engram probe lyapunov`.
#[derive(Args, Debug)]
pub struct LyapunovArgs {
    #[command(flatten)]
    target: SingleRunArgs,
    /// Exponents to compute (0 = all).
    #[arg(long, default_value_t = 0)]
    n_exponents: usize,
    /// Warm-up steps per episode.
    #[arg(long, default_value_t = 20)]
    warmup: usize,
}

impl ProbeCommand for LyapunovArgs {
    fn run(self) -> Result<()> {
        let (agent, rollouts, out) = self.target.load("lyapunov")?;
        let cfg = LyapunovProbeConfig { n_exponents: self.n_exponents, warmup: self.warmup, seed: self.target.seed };
        let report = probe_lyapunov(&agent, &rollouts, &cfg)?;
        report.write(&out)?;
        println!("{}", report.summary(&out));
        Ok(())
    }
}

/// Arguments of `engram probe similarity`.
#[derive(Args, Debug)]
pub struct SimilarityArgs {
    /// Two or more run directories trained on the same env.
    #[arg(long, num_args = 2.., required = true)]
    runs: Vec<PathBuf>,
    /// Output directory.
    #[arg(long)]
    out: PathBuf,
    /// At most this many pooled samples enter the scores.
    #[arg(long, default_value_t = 2000)]
    max_samples: usize,
    /// Row shuffles per pair for the baselines.
    #[arg(long, default_value_t = 10)]
    shuffles: usize,
    /// Partial-whitening parameter of the shape metric (0 whitened … 1 Procrustes).
    #[arg(long, default_value_t = 0.5)]
    alpha: f64,
    #[command(flatten)]
    recording: RecordingArgs,
}

impl ProbeCommand for SimilarityArgs {
    fn run(self) -> Result<()> {
        let mut agents = Vec::new();
        let mut rollouts = Vec::new();
        for r in &self.runs {
            let (a, ro) = load(r, &self.recording)?;
            agents.push(a);
            rollouts.push(ro);
        }
        let cfg = SimilarityConfig {
            max_samples: self.max_samples,
            n_shuffles: self.shuffles,
            shape_alpha: self.alpha,
            ..Default::default()
        };
        let report = probe_similarity(&agents, &rollouts, &cfg)?;
        report.write(&self.out)?;
        println!("{}", report.summary(&self.out));
        Ok(())
    }
}
