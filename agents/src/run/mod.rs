//! Run directories: resolved config, `metrics.jsonl` / `metrics.csv`, the training loop,
//! learning curves and recordings (`.npy` + manifest).

pub mod curves;
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
    /// resumed run rewrites what followed its checkpoint).
    pub fn open(dir: &Path, truncate_after: Option<usize>) -> Result<Self, AgentError> {
        let jp = dir.join("metrics.jsonl");
        let cp = dir.join("metrics.csv");
        if let Some(u) = truncate_after {
            for p in [&jp, &cp] {
                if let Ok(text) = std::fs::read_to_string(p) {
                    let kept: Vec<&str> = text.lines().filter(|l| update_of(l).is_none_or(|x| x <= u)).collect();
                    let mut s = kept.join("\n");
                    if !s.is_empty() {
                        s.push('\n');
                    }
                    std::fs::write(p, s).map_err(io(p))?;
                }
            }
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

fn update_of(line: &str) -> Option<usize> {
    if line.starts_with('{') {
        serde_json::from_str::<serde_json::Value>(line).ok()?["update"].as_u64().map(|u| u as usize)
    } else {
        line.split(',').next()?.parse().ok()
    }
}

/// Runs `trainer` until its budget is spent (or, with `max_updates`, until this call has done
/// that many updates): every update is appended to `log` and reported to `progress` with the
/// steps/s of this call, a checkpoint is written every `checkpoint_every` updates, and one at
/// the end. Returns the last checkpoint's path and whether the budget is spent.
pub fn train_loop(
    trainer: &mut crate::ppo::Trainer,
    dir: &Path,
    log: &mut MetricsLog,
    max_updates: Option<usize>,
    progress: &mut dyn FnMut(&UpdateMetrics, f64),
) -> Result<(PathBuf, bool), AgentError> {
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
            return Ok((crate::checkpoint::save(trainer, dir)?, trainer.finished()));
        }
        if every > 0 && m.update % every == 0 && !trainer.finished() {
            crate::checkpoint::save(trainer, dir)?;
        }
    }
    Ok((crate::checkpoint::save(trainer, dir)?, true))
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
    train_loop(&mut trainer, dir, &mut log, None, &mut |m, _| progress(m.global_step, total, m.return_mean))?;
    // The figure is a convenience; a plotting failure must not fail the job.
    let _ = curves::write_curves(dir, &format!("{} {}", trainer.cfg.env, trainer.cfg.policy.kind.as_str()));
    Ok(trainer)
}
