//! Run directories: resolved config, `metrics.jsonl` / `metrics.csv`, the training loop,
//! learning curves and recordings (`.npy` + manifest).

pub mod curves;
pub mod progress;
pub mod record;

use crate::error::AgentError;
use crate::ppo::UpdateMetrics;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Version of the metrics schema.
pub const METRICS_SCHEMA_VERSION: u32 = 1;

/// Columns of `metrics.csv`, in order.
pub const CSV_COLUMNS: &[&str] = &[
    "update",
    "global_step",
    "episodes",
    "return_mean",
    "ep_len_mean",
    "learning_rate",
    "loss",
    "pg_loss",
    "v_loss",
    "entropy",
    "approx_kl",
    "clip_frac",
    "grad_norm",
    "explained_variance",
    "epochs",
    "steps_per_s",
];

/// Appends metrics to `metrics.jsonl` and `metrics.csv` of a run directory.
pub struct MetricsLog {
    jsonl: std::fs::File,
    csv: std::fs::File,
    dir: PathBuf,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> AgentError + '_ {
    move |source| AgentError::Io { path: path.display().to_string(), source }
}

impl MetricsLog {
    /// Opens (appending) the metrics files of `dir`; writes the CSV header to a new file.
    /// With `truncate_after = Some(u)`, lines of updates after `u` are dropped first (a
    /// resumed run rewrites what followed its checkpoint), and so is a line cut short by a
    /// kill in the middle of a write.
    pub fn open(dir: &Path, truncate_after: Option<usize>) -> Result<Self, AgentError> {
        let jp = dir.join("metrics.jsonl");
        let cp = dir.join("metrics.csv");
        if let Some(u) = truncate_after {
            crate::io::keep_metrics_through(dir, "update", &CSV_COLUMNS.join(","), u as u64)?;
        }
        let new_csv = !cp.exists();
        let jsonl = std::fs::OpenOptions::new().create(true).append(true).open(&jp).map_err(io(&jp))?;
        let mut csv = std::fs::OpenOptions::new().create(true).append(true).open(&cp).map_err(io(&cp))?;
        if new_csv {
            writeln!(csv, "{}", CSV_COLUMNS.join(",")).map_err(io(&cp))?;
        }
        Ok(Self { jsonl, csv, dir: dir.to_path_buf() })
    }

    /// Appends one update.
    pub fn write(&mut self, m: &UpdateMetrics, steps_per_s: f64) -> Result<(), AgentError> {
        let mut v = serde_json::to_value(m).map_err(|e| AgentError::Config(e.to_string()))?;
        v["schema_version"] = METRICS_SCHEMA_VERSION.into();
        v["steps_per_s"] = steps_per_s.into();
        let jp = self.dir.join("metrics.jsonl");
        writeln!(self.jsonl, "{v}").map_err(io(&jp))?;
        let cells: Vec<String> = CSV_COLUMNS
            .iter()
            .map(|c| match &v[*c] {
                serde_json::Value::Null => "nan".to_string(),
                x => x.to_string(),
            })
            .collect();
        let cp = self.dir.join("metrics.csv");
        writeln!(self.csv, "{}", cells.join(",")).map_err(io(&cp))?;
        self.jsonl.flush().map_err(io(&jp))?;
        self.csv.flush().map_err(io(&cp))
    }
}

/// Called after each checkpoint of [`train_loop`] (with the run directory) when
/// `lyapunov_exponents` > 0: [`crate::inspect::lyapunov_report::train_lyapunov_hook`], which
/// logs the spectrum (passed in by `engram train`, as the probes sit above this layer).
pub type TrainHook = fn(&crate::ppo::Trainer, &Path) -> Result<(), AgentError>;

/// Runs `trainer` until its budget is spent (or, with `max_updates`, until this call has done
/// that many updates): every update is appended to `log` and reported to `progress` with the
/// steps/s of this call, a checkpoint is written every `checkpoint_every` updates, and one at
/// the end. Returns the last checkpoint's path and whether the budget is spent.
pub fn train_loop(
    trainer: &mut crate::ppo::Trainer,
    dir: &Path,
    log: &mut MetricsLog,
    max_updates: Option<usize>,
    hook: Option<TrainHook>,
    progress: &mut dyn FnMut(&UpdateMetrics, f64),
) -> Result<(PathBuf, bool), AgentError> {
    let k = trainer.cfg.lyapunov_exponents;
    if k > 0 && hook.is_none() {
        return Err(AgentError::Config(format!(
            "lyapunov_exponents = {k}: logging the spectrum needs the checkpoint hook (`engram train` passes it; \
             studies and --seeds do not log it)"
        )));
    }
    let save = |trainer: &crate::ppo::Trainer| -> Result<PathBuf, AgentError> {
        let path = crate::checkpoint::save(trainer, dir)?;
        match hook {
            Some(h) if k > 0 => h(trainer, dir).map(|_| path),
            _ => Ok(path),
        }
    };
    let (start, start_step) = (std::time::Instant::now(), trainer.global_step);
    let every = trainer.cfg.checkpoint_every;
    let mut done_here = 0usize;
    while !trainer.finished() {
        let m = trainer.train_update()?;
        done_here += 1;
        let sps = (trainer.global_step - start_step) as f64 / start.elapsed().as_secs_f64().max(1e-9);
        log.write(&m, sps)?;
        progress(&m, sps);
        if max_updates.is_some_and(|s| done_here >= s) {
            return Ok((save(trainer)?, trainer.finished()));
        }
        if every > 0 && m.update % every == 0 && !trainer.finished() {
            save(trainer)?;
        }
    }
    Ok((save(trainer)?, true))
}

/// The line `engram train` prints at the end of a run: steps, the train mean return, the last
/// checkpoint, and whether `stop_at_return` ended it early.
pub fn run_summary(trainer: &crate::ppo::Trainer, dir: &Path, ckpt: &Path) -> String {
    let early = if trainer.update < trainer.cfg.num_updates() { " (stop_at_return reached)" } else { "" };
    format!(
        "{}: {} steps{early}, mean return (last {} episodes) {:.2}; checkpoint {}",
        dir.display(),
        trainer.global_step,
        crate::ppo::trainer::RETURN_WINDOW,
        trainer.return_mean(),
        ckpt.display()
    )
}

/// Progress callback of long work: `(done_steps, total_steps, mean_return)`; the mean return is
/// NaN until an episode has finished.
pub type Progress<'a> = &'a mut dyn FnMut(u64, u64, f64);

/// Starts a new run of `cfg` in `dir`: refuses a directory that already holds a run, builds
/// the trainer first (so a bad env id or config leaves no directory behind), then writes the
/// resolved `config.toml` and opens the metrics files.
pub fn create(cfg: crate::ppo::TrainConfig, dir: &Path) -> Result<(crate::ppo::Trainer, MetricsLog), AgentError> {
    if dir.join("checkpoints").exists() || dir.join("metrics.jsonl").exists() {
        return Err(AgentError::Config(format!(
            "{} already holds a run: use --resume {0} or another --out",
            dir.display()
        )));
    }
    start(cfg, dir)
}

/// [`create`] without the check for an existing run.
fn start(cfg: crate::ppo::TrainConfig, dir: &Path) -> Result<(crate::ppo::Trainer, MetricsLog), AgentError> {
    let trainer = crate::ppo::Trainer::new(cfg)?;
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    crate::checkpoint::write_atomic(&dir.join("config.toml"), trainer.cfg.to_toml().as_bytes())?;
    Ok((trainer, MetricsLog::open(dir, None)?))
}

/// Resumes the run in `dir` from its latest checkpoint, dropping metrics written after it.
pub fn resume(dir: &Path) -> Result<(crate::ppo::Trainer, MetricsLog), AgentError> {
    let trainer = crate::checkpoint::load_trainer(dir)?;
    let log = MetricsLog::open(dir, Some(trainer.update))?;
    Ok((trainer, log))
}

/// Trains the run in `dir` to the end of its budget: from its last checkpoint if it has one,
/// otherwise a fresh run of `config` (a training TOML, written resolved to `config.toml`);
/// then draws its learning curves.
pub fn train_to_end(config: &str, dir: &Path, progress: Progress) -> Result<crate::ppo::Trainer, AgentError> {
    let (mut trainer, mut log) = if crate::checkpoint::resolve(dir).is_ok() {
        resume(dir)?
    } else {
        let cfg = crate::ppo::TrainConfig::from_toml_with(config, &[])?;
        // A job killed before its first checkpoint starts again from scratch.
        for f in ["metrics.jsonl", "metrics.csv"] {
            let _ = std::fs::remove_file(dir.join(f));
        }
        start(cfg, dir)?
    };
    let total = trainer.cfg.num_updates() as u64 * (trainer.cfg.ppo.n_envs * trainer.cfg.ppo.n_steps) as u64;
    progress(trainer.global_step, total, f64::NAN);
    train_loop(&mut trainer, dir, &mut log, None, None, &mut |m, _| progress(m.global_step, total, m.return_mean))?;
    // The figure is a convenience; a plotting failure must not fail the job.
    let _ = curves::write_curves(dir, &format!("{} {}", trainer.cfg.env, trainer.cfg.policy.kind.as_str()));
    Ok(trainer)
}

/// One seed of [`train_seeds`]: its seed, run directory, env steps and final mean return.
#[derive(Clone, Debug)]
pub struct SeedRun {
    /// The master seed of this run.
    pub seed: u64,
    /// Its run directory, `<out>/seed-<seed>`.
    pub dir: PathBuf,
    /// Env steps done.
    pub global_step: u64,
    /// Mean return of its last finished episodes.
    pub return_mean: f64,
    /// Whether its budget is spent.
    pub finished: bool,
}

/// Trains `n` independent seeds of `cfg` (`cfg.seed`, `cfg.seed + 1`, …) in one process,
/// interleaved on `threads` worker threads (each run keeps its own one-thread policy pool and
/// env threads, so every seed trains exactly as `engram train --set seed=K` alone would: same
/// metrics, same checkpoints). Seed `K` writes `<out>/seed-K`; a directory that already holds a
/// checkpoint resumes from it, so a killed population continues where it stopped. With
/// `max_updates`, each seed stops after that many updates in this call.
///
/// Refused, naming the value and the bound: `n` = 0, `threads` = 0, and a population whose
/// rollout buffers together exceed the machine's memory bound.
pub fn train_seeds(
    cfg: &crate::ppo::TrainConfig,
    out: &Path,
    n: usize,
    threads: usize,
    max_updates: Option<usize>,
    quiet: bool,
) -> Result<Vec<SeedRun>, AgentError> {
    if n == 0 {
        return Err(AgentError::Config("--seeds 0: the number of seeds must be >= 1".into()));
    }
    if threads == 0 {
        return Err(AgentError::Config("--threads 0: the number of worker threads must be >= 1".into()));
    }
    cfg.validate()?;
    if cfg.lyapunov_exponents > 0 {
        // Refused before any seed's directory is created (train_loop would refuse it per seed).
        return Err(AgentError::Config(format!(
            "lyapunov_exponents = {}: --seeds does not log the spectrum (bound: 0 here; train each seed with              `engram train` to log it)",
            cfg.lyapunov_exponents
        )));
    }
    let env = engram_envs::make_with(&cfg.env, &cfg.env_config_json())?;
    let obs_dim = env.observation_space().flat_dim();
    let dist = crate::policy::dist::dist_for(env.action_space())?;
    let width = crate::policy::ActorCritic::new(&cfg.policy, obs_dim, dist, cfg.seed).state_width();
    let action_len = dist.action_len();
    let bytes = cfg.rollout_bytes(obs_dim, action_len, width).saturating_mul(n as u128);
    let value = format!("{n} (each {} envs x {} steps)", cfg.ppo.n_envs, cfg.ppo.n_steps);
    engram_envs::limits::require_memory("rollout buffers of all seeds", "--seeds", &value, bytes)
        .map_err(AgentError::ResourceLimit)?;
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<std::sync::Mutex<Option<Result<SeedRun, AgentError>>>> =
        (0..n).map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..threads.min(n) {
            s.spawn(|| loop {
                let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if k >= n {
                    break;
                }
                let r = train_one_seed(cfg, out, k, max_updates, quiet);
                *results[k].lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
            });
        }
    });
    results.into_iter().map(|m| m.into_inner().unwrap_or_else(|e| e.into_inner()).expect("every seed ran")).collect()
}

fn train_one_seed(
    cfg: &crate::ppo::TrainConfig,
    out: &Path,
    k: usize,
    max_updates: Option<usize>,
    quiet: bool,
) -> Result<SeedRun, AgentError> {
    let mut cfg = cfg.clone();
    cfg.seed = cfg.seed.wrapping_add(k as u64);
    let dir = out.join(format!("seed-{}", cfg.seed));
    let (mut trainer, mut log) =
        if crate::checkpoint::resolve(&dir).is_ok() { resume(&dir)? } else { create(cfg, &dir)? };
    let total = trainer.cfg.num_updates() as u64 * (trainer.cfg.ppo.n_envs * trainer.cfg.ppo.n_steps) as u64;
    // Several seeds share stderr: plain lines (one per seed every 30 s), never interleaved bars.
    let mut bar = progress::StepProgress::new(&dir.display().to_string(), total, trainer.global_step, quiet, true);
    let (_, finished) = train_loop(&mut trainer, &dir, &mut log, max_updates, None, &mut |m, sps| {
        bar.update(m.global_step, sps, m.return_mean)
    })?;
    bar.finish(finished);
    if finished {
        let _ = curves::write_curves(&dir, &format!("{} {}", trainer.cfg.env, trainer.cfg.policy.kind.as_str()));
    }
    Ok(SeedRun {
        seed: trainer.cfg.seed,
        dir,
        global_step: trainer.global_step,
        return_mean: trainer.return_mean(),
        finished,
    })
}

/// The lines `engram train --seeds` prints: one per seed, then the mean over seeds.
pub fn seeds_summary(runs: &[SeedRun]) -> String {
    let mut s = String::new();
    for r in runs {
        let state = if r.finished { "" } else { " (stopped early)" };
        s.push_str(&format!(
            "{}: seed {}, {} steps, mean return {:.2}{state}\n",
            r.dir.display(),
            r.seed,
            r.global_step,
            r.return_mean
        ));
    }
    let mean = runs.iter().map(|r| r.return_mean).sum::<f64>() / runs.len().max(1) as f64;
    s.push_str(&format!("{} seeds: mean of the final mean returns {mean:.2}", runs.len()));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resuming_drops_later_updates_and_a_line_cut_by_a_kill() {
        let dir = std::env::temp_dir().join(format!("engram-metrics-log-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut log = MetricsLog::open(&dir, None).unwrap();
        for u in 1..=3 {
            log.write(&UpdateMetrics { update: u, ..Default::default() }, 1.0).unwrap();
        }
        drop(log);
        // A kill in the middle of writing update 4 leaves half a line in each file.
        for (f, cut) in [("metrics.jsonl", "{\"update\":4,\"glob"), ("metrics.csv", "4,0,")] {
            let p = dir.join(f);
            let text = std::fs::read_to_string(&p).unwrap() + cut;
            std::fs::write(&p, text).unwrap();
        }
        MetricsLog::open(&dir, Some(2)).unwrap();
        let jsonl = std::fs::read_to_string(dir.join("metrics.jsonl")).unwrap();
        let updates: Vec<u64> = jsonl
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["update"].as_u64().unwrap())
            .collect();
        assert_eq!(updates, [1, 2]);
        let csv = std::fs::read_to_string(dir.join("metrics.csv")).unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 3, "{csv}");
        assert_eq!(lines[0], CSV_COLUMNS.join(","));
        assert!(lines[1].starts_with("1,") && lines[2].starts_with("2,"), "{csv}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
