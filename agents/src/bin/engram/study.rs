//! `engram study NAME` (alias `experiment`), `sweep`, `run`, `run-job`, `submit`, `status`,
//! `collect`: flags in, library calls out (`engram_agents::study`).

use anyhow::{bail, Context, Result};
use clap::builder::{PossibleValue, PossibleValuesParser};
use clap::Args;
use engram_agents::study::exec::{self, Outcome};
use engram_agents::study::slurm::{self, SbatchOptions, Submitted};
use engram_agents::study::sweep::SweepConfig;
use engram_agents::study::{self as lib, local, Plan, STUDIES};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};

fn study_names() -> PossibleValuesParser {
    PossibleValuesParser::new(STUDIES.iter().map(|s| PossibleValue::new(s.name()).help(s.about())))
}

/// Arguments of `engram study`.
#[derive(Args)]
pub struct StudyArgs {
    /// Which study.
    #[arg(value_parser = study_names())]
    pub name: String,
    /// Study config (TOML; see `scripts/configs/curl_field_quick.toml`).
    #[arg(long)]
    pub config: PathBuf,
    /// Study directory (plan.json, one directory per job, the report).
    #[arg(long)]
    pub out: PathBuf,
    /// Jobs at once on this machine.
    #[arg(long, default_value_t = 2)]
    pub jobs: usize,
    /// Only write plan.json (to run it with `engram run` or `engram submit --slurm`).
    #[arg(long)]
    pub plan_only: bool,
}

/// Plans a study, then (unless `--plan-only`) runs its unfinished jobs and writes the report.
pub fn study(a: StudyArgs) -> Result<()> {
    let text = crate::common::config_text(Some(&a.config))?;
    let resumed = a.out.join(lib::PLAN_FILE).exists();
    let (plan, path) =
        lib::plan_into(&a.name, &text, &a.out).with_context(|| format!("config {}", a.config.display()))?;
    for line in lib::find(&a.name)?.describe(&text)? {
        eprintln!("{line}");
    }
    if resumed {
        eprintln!("resuming the study in {}", a.out.display());
    }
    eprintln!("{}: {} jobs (config hash {})", path.display(), plan.jobs.len(), plan.config_hash);
    if a.plan_only {
        println!("{}", path.display());
        return Ok(());
    }
    run_and_collect(&path, a.jobs)
}

fn run_and_collect(plan: &Path, jobs: usize) -> Result<()> {
    local::run_plan(&std::env::current_exe()?, plan, jobs)?;
    println!("{}", exec::collect(plan)?.display());
    Ok(())
}

/// Arguments of `engram sweep`.
#[derive(Args)]
pub struct SweepArgs {
    /// Base training config (TOML, as for `engram train`).
    #[arg(long)]
    config: Option<PathBuf>,
    /// A grid axis `key=v1,v2,...` (dotted key, TOML values); repeat for a product grid.
    #[arg(long = "grid", value_name = "KEY=V1,V2")]
    grid: Vec<String>,
    /// Overrides `key=value` applied to every job before the grid.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Seeds per grid point (seeds seed_base .. seed_base + N).
    #[arg(long, default_value_t = 1)]
    seeds: u64,
    /// First seed.
    #[arg(long, default_value_t = 0)]
    seed_base: u64,
    /// Study directory to create; it receives plan.json and one directory per job.
    #[arg(long)]
    out: PathBuf,
}

/// Writes the plan of a sweep.
pub fn sweep(a: SweepArgs) -> Result<()> {
    let base = crate::common::config_text(a.config.as_deref())?;
    let cfg = SweepConfig::from_flags(&base, &a.grid, &a.set, a.seeds, a.seed_base)?;
    let plan = Plan::new("sweep", cfg.jobs()?);
    let path = lib::save_new_or_same(&plan, &a.out)?;
    println!(
        "{}: {} jobs ({} grid points x {} seeds), config hash {}",
        path.display(),
        plan.jobs.len(),
        cfg.points().len(),
        a.seeds,
        plan.config_hash
    );
    println!("run here:     engram run --plan {} --jobs 2", path.display());
    println!("or on Slurm:  engram submit --plan {} --slurm --max-parallel 50", path.display());
    println!("then:         engram collect --plan {}", path.display());
    Ok(())
}

/// Arguments of `engram run-job`.
#[derive(Args)]
pub struct RunJobArgs {
    /// The plan (plan.json or its directory).
    #[arg(long)]
    plan: PathBuf,
    /// Index of the job (the Slurm array task id).
    #[arg(long)]
    index: usize,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
    /// Print machine-readable progress lines (`@progress DONE TOTAL RETURN`) for the local executor.
    #[arg(long, hide = true)]
    progress_lines: bool,
}

/// Runs one job in this process.
pub fn run_job(a: RunJobArgs) -> Result<()> {
    let (plan, dir) = Plan::load(&a.plan)?;
    let job = plan.job(a.index)?.clone();
    let bar = if a.quiet || a.progress_lines { ProgressBar::hidden() } else { ProgressBar::new(0) };
    bar.set_style(
        ProgressStyle::with_template("{prefix} {bar:30} {pos}/{len} steps {msg} ETA {eta}").expect("template"),
    );
    bar.set_prefix(job.id.clone());
    let lines = a.progress_lines;
    let mut progress = |done: u64, total: u64, ret: f64| {
        if lines {
            println!("{} {done} {total} {ret}", local::PROGRESS_PREFIX);
        }
        bar.set_length(total);
        bar.set_position(done);
        if ret.is_finite() {
            bar.set_message(format!("return {ret:.1}"));
        }
    };
    match exec::run_job(&plan, &dir, a.index, &mut progress).with_context(|| format!("job {} ({})", a.index, job.id))? {
        Outcome::AlreadyDone => println!("job {} ({}) is already done", a.index, job.id),
        Outcome::Finished(s) => {
            bar.finish_and_clear();
            let ret = s["eval_return_mean"].as_f64().map(|r| format!(": eval return {r:.2}")).unwrap_or_default();
            println!("job {} ({}) done{ret}", a.index, job.id);
        }
    }
    Ok(())
}

/// Arguments of `engram run`.
#[derive(Args)]
pub struct RunArgs {
    /// The plan (plan.json or its directory).
    #[arg(long)]
    plan: PathBuf,
    /// Where to run: `local` (this machine). For a cluster use `engram submit --slurm`.
    #[arg(long, default_value = "local")]
    executor: String,
    /// Jobs at once (each a separate process).
    #[arg(long, default_value_t = 1)]
    jobs: usize,
}

/// Runs every unfinished job of a plan on this machine.
pub fn run(a: RunArgs) -> Result<()> {
    if a.executor != "local" {
        bail!(
            "--executor {}: only `local` runs here; for Slurm use `engram submit --plan {} --slurm`",
            a.executor,
            a.plan.display()
        );
    }
    local::run_plan(&std::env::current_exe()?, &a.plan, a.jobs)?;
    println!("all jobs of {} done", a.plan.display());
    println!("next: engram collect --plan {}", a.plan.display());
    Ok(())
}

/// Arguments of `engram submit`.
#[derive(Args)]
pub struct SubmitArgs {
    /// The plan (plan.json or its directory) on a filesystem the compute nodes share.
    #[arg(long)]
    plan: PathBuf,
    /// Submit to Slurm as a job array (the only scheduler supported).
    #[arg(long, required = true)]
    slurm: bool,
    /// Only the jobs that failed or were lost (not done, not running, not pending).
    #[arg(long)]
    only_failed: bool,
    #[command(flatten)]
    sbatch: SbatchOptions,
    /// Write the script but do not call sbatch.
    #[arg(long)]
    dry_run: bool,
}

/// Writes the sbatch script and submits it.
pub fn submit(a: SubmitArgs) -> Result<()> {
    match slurm::submit_plan(&std::env::current_exe()?, &a.plan, a.only_failed, a.sbatch, a.dry_run)? {
        Submitted::Nothing => {
            println!("nothing to submit: {}", if a.only_failed { "no job failed" } else { "every job is done" })
        }
        Submitted::Script(path) => println!("{}", path.display()),
        Submitted::Array { job_id, indices, script } => {
            println!("{job_id}");
            eprintln!(
                "submitted {} jobs as array {job_id} ({}); `engram status --plan {}` follows them",
                indices.len(),
                script.display(),
                a.plan.display()
            );
        }
    }
    Ok(())
}

/// Arguments of `engram status`.
#[derive(Args)]
pub struct StatusArgs {
    /// The plan (plan.json or its directory).
    #[arg(long)]
    plan: PathBuf,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Prints done / running / failed / pending per job.
pub fn status(a: StatusArgs) -> Result<()> {
    let (plan, dir) = Plan::load(&a.plan)?;
    let states = slurm::job_states(&plan, &dir);
    if a.json {
        println!("{}", serde_json::to_string_pretty(&slurm::status_json(&plan, &dir, &states))?);
    } else {
        print!("{}", slurm::status_text(&plan, &states));
    }
    Ok(())
}

/// Arguments of `engram collect`.
#[derive(Args)]
pub struct CollectArgs {
    /// The plan (plan.json or its directory).
    #[arg(long)]
    plan: PathBuf,
}

/// Builds the study's report once every job is done.
pub fn collect(a: CollectArgs) -> Result<()> {
    println!("{}", exec::collect(&a.plan)?.display());
    Ok(())
}
