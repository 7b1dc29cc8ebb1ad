//! Studies as job plans: `engram sweep`, `run`, `run-job`, `submit`, `status`, `collect`.

use anyhow::{bail, Context, Result};
use clap::Args;
use engram_agents::plan::exec::{run_job, Outcome};
use engram_agents::plan::slurm::{self, SbatchOptions, Submission};
use engram_agents::plan::{config_hash, slug, Job, JobKind, JobState, Markers, Plan, PlanError};
use engram_agents::ppo::TrainConfig;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

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
    if a.seeds == 0 {
        bail!("--seeds must be >= 1 (got 0)");
    }
    let base = match &a.config {
        Some(p) => std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?,
        None => String::new(),
    };
    let mut axes: Vec<(String, Vec<String>)> = vec![];
    for g in &a.grid {
        let (key, values) = g.split_once('=').with_context(|| format!("--grid {g}: expected key=v1,v2,..."))?;
        let values: Vec<String> = values.split(',').map(|v| v.trim().to_string()).filter(|v| !v.is_empty()).collect();
        if values.is_empty() {
            bail!("--grid {g}: no values");
        }
        axes.push((key.trim().to_string(), values));
    }
    let mut points: Vec<Vec<String>> = vec![vec![]];
    for (key, values) in &axes {
        points = points
            .iter()
            .flat_map(|p| values.iter().map(move |v| [p.clone(), vec![format!("{key}={v}")]].concat()))
            .collect();
    }
    let mut jobs = vec![];
    for labels in &points {
        for seed in a.seed_base..a.seed_base + a.seeds {
            let mut sets = a.set.clone();
            sets.extend(labels.iter().cloned());
            sets.push(format!("seed={seed}"));
            let cfg = TrainConfig::from_toml_with(&base, &sets)
                .map_err(anyhow::Error::msg)
                .with_context(|| format!("grid point {labels:?}, seed {seed}"))?;
            let config = cfg.to_toml();
            let id = {
                let s = slug(labels);
                let n = jobs.len();
                if s.is_empty() {
                    format!("{n:03}-seed{seed}")
                } else {
                    format!("{n:03}-{s}-seed{seed}")
                }
            };
            jobs.push(Job {
                index: 0,
                out_dir: format!("jobs/{id}"),
                id,
                kind: JobKind::Train,
                seed,
                config_hash: config_hash(&config),
                config,
                labels: labels.clone(),
            });
        }
    }
    let plan = Plan::new("sweep", jobs);
    if a.out.join(engram_agents::plan::PLAN_FILE).exists() {
        let (old, _) = Plan::load(&a.out)?;
        if old.config_hash != plan.config_hash {
            bail!(
                "{} already holds a different plan (config hash {}); choose another --out",
                a.out.display(),
                old.config_hash
            );
        }
    }
    let path = plan.save(&a.out)?;
    println!(
        "{}: {} jobs ({} grid points x {} seeds), config hash {}",
        path.display(),
        plan.jobs.len(),
        points.len(),
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
pub fn run_one(a: RunJobArgs) -> Result<()> {
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
            println!("@progress {done} {total} {ret}");
        }
        bar.set_length(total);
        bar.set_position(done);
        if ret.is_finite() {
            bar.set_message(format!("return {ret:.1}"));
        }
    };
    match run_job(&plan, &dir, a.index, &mut progress).with_context(|| format!("job {} ({})", a.index, job.id))? {
        Outcome::AlreadyDone => println!("job {} ({}) is already done", a.index, job.id),
        Outcome::Finished(s) => {
            bar.finish_and_clear();
            println!(
                "job {} ({}) done: eval return {:.2}",
                a.index,
                job.id,
                s["eval_return_mean"].as_f64().unwrap_or(f64::NAN)
            );
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

/// Runs every unfinished job of a plan on this machine, `jobs` processes at a time.
pub fn run_local(a: RunArgs) -> Result<()> {
    if a.executor != "local" {
        bail!(
            "--executor {}: only `local` runs here; for Slurm use `engram submit --plan {} --slurm`",
            a.executor,
            a.plan.display()
        );
    }
    run_plan_local(&a.plan, a.jobs)?;
    println!("next: engram collect --plan {}", a.plan.display());
    Ok(())
}

/// The local executor: every unfinished job of the plan at `plan_path`, `jobs` at a time,
/// each in its own `engram run-job` process, with an overall and a per-job progress bar.
pub fn run_plan_local(plan_path: &Path, jobs: usize) -> Result<()> {
    let a = RunArgs { plan: plan_path.to_path_buf(), executor: "local".into(), jobs };
    if a.jobs == 0 {
        bail!("--jobs must be >= 1 (got 0)");
    }
    let (plan, dir) = Plan::load(&a.plan)?;
    let plan_file = dir.join(engram_agents::plan::PLAN_FILE);
    let todo: Vec<usize> = plan
        .jobs
        .iter()
        .filter(|j| Markers::new(&dir.join(&j.out_dir)).state() != JobState::Done)
        .map(|j| j.index)
        .collect();
    let multi = MultiProgress::new();
    let overall = multi.add(ProgressBar::new(plan.jobs.len() as u64));
    overall.set_style(ProgressStyle::with_template("{prefix:>12} {bar:30} {pos}/{len} jobs  {msg}").expect("template"));
    overall.set_prefix("overall");
    overall.set_position((plan.jobs.len() - todo.len()) as u64);
    let exe = std::env::current_exe().context("locating the engram binary")?;
    let queue = std::sync::Mutex::new(todo.into_iter());
    let failures = std::sync::Mutex::new(vec![]);
    std::thread::scope(|s| {
        for _ in 0..a.jobs {
            s.spawn(|| loop {
                let Some(index) = queue.lock().expect("queue").next() else { break };
                let job = &plan.jobs[index];
                let bar = multi.add(ProgressBar::new(1));
                bar.set_style(
                    ProgressStyle::with_template("{prefix:>12} {bar:30} {pos}/{len} steps {msg}").expect("template"),
                );
                bar.set_prefix(format!("job {index}"));
                let ok = spawn_job(&exe, &plan_file, index, &bar);
                bar.finish_and_clear();
                multi.remove(&bar);
                match ok {
                    Ok(()) => overall.inc(1),
                    Err(e) => failures.lock().expect("failures").push(format!("job {index} ({}): {e:#}", job.id)),
                }
            });
        }
    });
    overall.finish();
    let failures = failures.into_inner().expect("failures");
    if !failures.is_empty() {
        bail!(
            "{} of {} jobs failed:\n  {}\n(`engram status --plan {}` shows them; rerun `engram run` to retry)",
            failures.len(),
            plan.jobs.len(),
            failures.join("\n  "),
            plan_file.display()
        );
    }
    println!("all {} jobs of {} done", plan.jobs.len(), plan_file.display());
    Ok(())
}

fn spawn_job(exe: &Path, plan_file: &Path, index: usize, bar: &ProgressBar) -> Result<()> {
    let mut child = Command::new(exe)
        .args(["run-job", "--plan"])
        .arg(plan_file)
        .args(["--index", &index.to_string(), "--progress-lines"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("starting engram run-job")?;
    let stderr = child.stderr.take().expect("piped");
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            s.push_str(&line);
            s.push('\n');
        }
        s
    });
    for line in BufReader::new(child.stdout.take().expect("piped")).lines().map_while(Result::ok) {
        let mut it = line.split_whitespace();
        if it.next() == Some("@progress") {
            let nums: Vec<f64> = it.filter_map(|x| x.parse().ok()).collect();
            if let [done, total, ret] = nums[..] {
                bar.set_length(total as u64);
                bar.set_position(done as u64);
                if ret.is_finite() {
                    bar.set_message(format!("return {ret:.1}"));
                }
            }
        }
    }
    let status = child.wait().context("waiting for engram run-job")?;
    let err = err_reader.join().unwrap_or_default();
    if status.success() {
        Ok(())
    } else {
        bail!("{}", err.trim().lines().last().unwrap_or("exited with an error"))
    }
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
    /// `--partition`.
    #[arg(long)]
    partition: Option<String>,
    /// `--time` limit per job (e.g. 02:00:00).
    #[arg(long)]
    time: Option<String>,
    /// `--cpus-per-task`.
    #[arg(long)]
    cpus_per_task: Option<usize>,
    /// `--mem` per job (e.g. 4G).
    #[arg(long)]
    mem: Option<String>,
    /// Most array tasks running at once.
    #[arg(long)]
    max_parallel: Option<usize>,
    /// Extra sbatch argument, verbatim (repeatable), e.g. `--sbatch-arg=--account=lab`.
    #[arg(long = "sbatch-arg", allow_hyphen_values = true)]
    sbatch_arg: Vec<String>,
    /// Write the script but do not call sbatch.
    #[arg(long)]
    dry_run: bool,
}

/// Per-job state combining markers and the scheduler.
fn job_states(plan: &Plan, dir: &Path) -> Vec<(JobState, String)> {
    let subs = slurm::submissions(dir);
    let mut sched: BTreeMap<String, BTreeMap<usize, String>> = BTreeMap::new();
    if !subs.is_empty() && slurm::available() {
        for s in &subs {
            sched.insert(s.job_id.clone(), slurm::task_states(&s.job_id));
        }
    }
    plan.jobs
        .iter()
        .map(|j| {
            let m = Markers::new(&dir.join(&j.out_dir));
            let state = m.state();
            let last = subs.iter().rev().find(|s| s.indices.contains(&j.index));
            match (state, last) {
                (JobState::Done, _) => (JobState::Done, String::new()),
                (JobState::Failed, _) => (JobState::Failed, m.failure().unwrap_or_else(|| "killed".into())),
                (s, None) => (s, String::new()),
                (s, Some(sub)) => match sched.get(&sub.job_id).and_then(|t| t.get(&j.index)) {
                    Some(st) if ["PENDING", "CONFIGURING"].contains(&st.as_str()) => {
                        (JobState::Pending, format!("slurm {}_{} {st}", sub.job_id, j.index))
                    }
                    Some(st) if ["RUNNING", "COMPLETING"].contains(&st.as_str()) => {
                        (JobState::Running, format!("slurm {}_{} {st}", sub.job_id, j.index))
                    }
                    Some(st) => {
                        (JobState::Failed, format!("slurm {}_{} {st} without a done marker", sub.job_id, j.index))
                    }
                    None if s == JobState::Running => (s, String::new()),
                    None => (
                        JobState::Failed,
                        format!("lost: submitted as {}_{}, no record and no done marker", sub.job_id, j.index),
                    ),
                },
            }
        })
        .collect()
}

/// Writes the sbatch script and submits it.
pub fn submit(a: SubmitArgs) -> Result<()> {
    let (plan, dir) = Plan::load(&a.plan)?;
    let dir = std::fs::canonicalize(&dir).with_context(|| format!("resolving {}", dir.display()))?;
    let indices: Vec<usize> = if a.only_failed {
        job_states(&plan, &dir)
            .iter()
            .enumerate()
            .filter(|(_, (s, _))| *s == JobState::Failed)
            .map(|(i, _)| i)
            .collect()
    } else {
        plan.jobs
            .iter()
            .filter(|j| Markers::new(&dir.join(&j.out_dir)).state() != JobState::Done)
            .map(|j| j.index)
            .collect()
    };
    if indices.is_empty() {
        println!("nothing to submit: {}", if a.only_failed { "no job failed" } else { "every job is done" });
        return Ok(());
    }
    let log_dir = dir.join(slurm::SLURM_DIR);
    std::fs::create_dir_all(&log_dir)?;
    let opts = SbatchOptions {
        job_name: format!("engram-{}", plan.study),
        partition: a.partition,
        time: a.time,
        cpus_per_task: a.cpus_per_task,
        mem: a.mem,
        max_parallel: a.max_parallel,
        extra: a.sbatch_arg,
    };
    let exe = std::env::current_exe().context("locating the engram binary")?;
    let script = slurm::sbatch_script(&exe, &dir.join(engram_agents::plan::PLAN_FILE), &log_dir, &indices, &opts);
    let n = slurm::submissions(&dir).len();
    let script_path = log_dir.join(format!("submit-{n:03}.sbatch"));
    engram_agents::io::atomic_write(&script_path, script.as_bytes())?;
    if a.dry_run {
        println!("{}", script_path.display());
        return Ok(());
    }
    let job_id = slurm::submit(&script_path).map_err(anyhow::Error::msg)?;
    slurm::record_submission(&dir, &Submission { job_id: job_id.clone(), indices: indices.clone() })?;
    println!("{job_id}");
    eprintln!(
        "submitted {} jobs as array {job_id} ({}); `engram status --plan {}` follows them",
        indices.len(),
        script_path.display(),
        dir.display()
    );
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
    let states = job_states(&plan, &dir);
    let count = |s: JobState| states.iter().filter(|(x, _)| *x == s).count();
    if a.json {
        let rows: Vec<_> = plan
            .jobs
            .iter()
            .zip(&states)
            .map(|(j, (s, why))| serde_json::json!({"index": j.index, "id": j.id, "state": s, "detail": why}))
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({"plan": dir.display().to_string(), "jobs": rows}))?
        );
        return Ok(());
    }
    for (j, (s, why)) in plan.jobs.iter().zip(&states) {
        println!("{:>5}  {:<8} {}  {}", j.index, format!("{s:?}").to_lowercase(), j.id, why);
    }
    println!(
        "{} jobs: {} done, {} running, {} failed, {} pending",
        plan.jobs.len(),
        count(JobState::Done),
        count(JobState::Running),
        count(JobState::Failed),
        count(JobState::Pending)
    );
    Ok(())
}

/// Arguments of `engram collect`.
#[derive(Args)]
pub struct CollectArgs {
    /// The plan (plan.json or its directory).
    #[arg(long)]
    plan: PathBuf,
}

/// Two-sided 95 % Student-t quantile for `df` degrees of freedom.
fn t95(df: usize) -> f64 {
    if df == 0 {
        f64::NAN
    } else {
        engram_agents::probe::stats::student_t_quantile(0.975, df as f64)
    }
}

/// Builds `report.json` and `report.md` once every job is done.
pub fn collect(a: CollectArgs) -> Result<()> {
    collect_plan(&a.plan)
}

/// Every job of the plan with its done marker, once all are done with this plan's engram
/// version and config (otherwise an error naming the unfinished or mismatched jobs).
pub fn finished_jobs<'a>(plan: &'a Plan, dir: &Path) -> Result<Vec<(&'a Job, serde_json::Value)>> {
    let mut rows = vec![];
    let mut missing = vec![];
    for j in &plan.jobs {
        let Some(done) = Markers::new(&dir.join(&j.out_dir)).done() else {
            missing.push(format!("{} ({})", j.index, j.id));
            continue;
        };
        let version = done["engram_version"].as_str().unwrap_or("?");
        let hash = done["config_hash"].as_str().unwrap_or("?");
        if version != plan.engram_version || hash != j.config_hash {
            return Err(PlanError::Mismatch {
                job: j.id.clone(),
                found: format!("engram {version}, config {hash}"),
                expected: format!("engram {}, config {}", plan.engram_version, j.config_hash),
            }
            .into());
        }
        rows.push((j, done));
    }
    if !missing.is_empty() {
        bail!(
            "{} of {} jobs are not done: {}; run them first (`engram status --plan {}`)",
            missing.len(),
            plan.jobs.len(),
            missing.join(", "),
            dir.display()
        );
    }
    Ok(rows)
}

/// Checks every job is done with this plan's version and config, then writes the study's
/// report (dispatching on the study kind).
pub fn collect_plan(plan_path: &Path) -> Result<()> {
    let (plan, dir) = Plan::load(plan_path)?;
    let rows = finished_jobs(&plan, &dir)?;
    if plan.study == "universality" {
        println!("{}", engram_agents::experiment::universality_report::write_report(&plan, &dir)?.display());
        return Ok(());
    }
    if plan.study == "curl-field" {
        let path = crate::curl_report::write_report(&plan, &dir, None)?;
        println!("{}", path.display());
        return Ok(());
    }
    if plan.study == crate::sim2real_report::STUDY {
        println!("{}", crate::sim2real_report::write_report(&plan, &dir)?.display());
        return Ok(());
    }
    let mut groups: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for (j, d) in &rows {
        let key = if j.labels.is_empty() { "all".to_string() } else { j.labels.join(" ") };
        groups.entry(key).or_default().push(d["eval_return_mean"].as_f64().unwrap_or(f64::NAN));
    }
    let group_rows: Vec<serde_json::Value> = groups
        .iter()
        .map(|(k, v)| {
            let n = v.len();
            let mean = v.iter().sum::<f64>() / n as f64;
            let sd = if n > 1 { (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt() } else { f64::NAN };
            let ci = t95(n.saturating_sub(1)) * sd / (n as f64).sqrt();
            serde_json::json!({"group": k, "n_seeds": n, "eval_return_mean": mean, "eval_return_sd": sd, "ci95": ci, "per_seed": v})
        })
        .collect();
    let job_rows: Vec<serde_json::Value> = rows
        .iter()
        .map(|(j, d)| serde_json::json!({"index": j.index, "id": j.id, "labels": j.labels, "seed": j.seed, "config_hash": j.config_hash, "result": d}))
        .collect();
    let report = serde_json::json!({
        "schema": "engram.report.sweep/1",
        "study": plan.study,
        "engram_version": plan.engram_version,
        "plan_config_hash": plan.config_hash,
        "groups": group_rows,
        "jobs": job_rows,
    });
    let json = serde_json::to_string_pretty(&report)?;
    engram_agents::io::atomic_write(&dir.join("report.json"), json.as_bytes())?;
    let mut md = format!(
        "# {} study report\n\nPlan config hash `{}`, engram {}, {} jobs. Deterministic evaluation: {} episodes per job.\n\n| group | seeds | eval return (mean ± 95% CI) |\n|---|---:|---:|\n",
        plan.study, plan.config_hash, plan.engram_version, plan.jobs.len(), engram_agents::plan::exec::EVAL_EPISODES
    );
    for g in &group_rows {
        md.push_str(&format!(
            "| {} | {} | {:.2} ± {:.2} |\n",
            g["group"].as_str().unwrap_or(""),
            g["n_seeds"],
            g["eval_return_mean"].as_f64().unwrap_or(f64::NAN),
            g["ci95"].as_f64().unwrap_or(f64::NAN)
        ));
    }
    engram_agents::io::atomic_write(&dir.join("report.md"), md.as_bytes())?;
    println!("{}", dir.join("report.md").display());
    Ok(())
}
