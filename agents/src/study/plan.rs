//! `plan.json`: the jobs of a study, each with its fully resolved config and seed.

use crate::error::AgentError;
use crate::io::atomic_write;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// File name of a plan inside its study directory.
pub const PLAN_FILE: &str = "plan.json";
/// Schema tag of `plan.json`.
pub const PLAN_SCHEMA: &str = "engram.plan/1";

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum JobKind {
    /// One PPO training run (`engram train` with the job's config), then a deterministic
    /// evaluation.
    Train,
    /// One seed × condition of the curl-field experiment (all phases, recordings included).
    CurlField,
    /// One agent of the universality study: training, then its fixed points and Lyapunov spectrum.
    Universality,
    /// One policy × randomization × seed of the sim-to-real study: training, evaluation on
    /// the training sim, fixed in-range dynamics and the held-out robots, and the sysid probe.
    Sim2Real,
    /// One network of the working-memory study: `engram fit` training, then the torus probe.
    WorkingMemory,
    /// Testing aid for the executors: does no learning; fails while the file named by its
    /// config's `fail_while_exists` exists.
    Probe,
    /// A network of the universality-tasks study (fit, then probe).
    UniversalityTasks,
}

/// One job of a plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// Position in the plan (the Slurm array index).
    pub index: usize,
    /// Stable id, unique in the plan; also the name of its output directory.
    pub id: String,
    /// What it does.
    pub kind: JobKind,
    /// Seed of the run.
    pub seed: u64,
    /// Fully resolved config (for `Train`: the TOML of `engram train`).
    pub config: String,
    /// Hash of `config` (FNV-1a 64, hex).
    pub config_hash: String,
    /// Output directory, relative to the plan's directory.
    pub out_dir: String,
    /// Grid values that distinguish this job (`key=value`), for reports.
    pub labels: Vec<String>,
}

impl Job {
    /// A job of `kind` whose output goes to `jobs/<id>`, its config hashed (the plan numbers
    /// it: `index` is set when the plan is built).
    pub fn new(id: String, kind: JobKind, seed: u64, config: String, labels: Vec<String>) -> Self {
        Self {
            index: 0,
            out_dir: format!("jobs/{id}"),
            config_hash: config_hash(&config),
            id,
            kind,
            seed,
            config,
            labels,
        }
    }
}

/// A study's list of jobs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// [`PLAN_SCHEMA`].
    pub schema: String,
    /// Which study made it (`sweep`, `curl-field`, `sim2real`, ...).
    pub study: String,
    /// engram version that wrote it; every job's results must come from the same version.
    pub engram_version: String,
    /// Hash over every job's config hash: identifies the plan's content.
    pub config_hash: String,
    /// The jobs, `index` = position.
    pub jobs: Vec<Job>,
}

/// FNV-1a 64-bit hash of a string, as 16 hex digits: stable across platforms and versions.
pub fn config_hash(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

impl Plan {
    /// A plan over `jobs` (their `index` fields are set to their positions).
    pub fn new(study: &str, mut jobs: Vec<Job>) -> Self {
        for (i, j) in jobs.iter_mut().enumerate() {
            j.index = i;
        }
        let all: Vec<&str> = jobs.iter().map(|j| j.config_hash.as_str()).collect();
        Self {
            schema: PLAN_SCHEMA.into(),
            study: study.into(),
            engram_version: env!("CARGO_PKG_VERSION").into(),
            config_hash: config_hash(&all.join(",")),
            jobs,
        }
    }

    /// Writes `plan.json` into `dir` atomically.
    pub fn save(&self, dir: &Path) -> Result<PathBuf, AgentError> {
        let path = dir.join(PLAN_FILE);
        let text = serde_json::to_string_pretty(self).expect("a plan serializes");
        atomic_write(&path, text.as_bytes()).map_err(|source| AgentError::io(&path, source))?;
        Ok(path)
    }

    /// Reads a plan from `plan.json` (or from a directory holding one).
    pub fn load(path: &Path) -> Result<(Self, PathBuf), AgentError> {
        let file = if path.is_dir() { path.join(PLAN_FILE) } else { path.to_path_buf() };
        let text = std::fs::read_to_string(&file).map_err(|source| AgentError::io(&file, source))?;
        let plan: Plan = serde_json::from_str(&text)
            .map_err(|e| AgentError::InvalidPlan { path: file.display().to_string(), message: e.to_string() })?;
        if plan.schema != PLAN_SCHEMA {
            return Err(AgentError::InvalidPlan {
                path: file.display().to_string(),
                message: format!("schema `{}`, expected `{PLAN_SCHEMA}`", plan.schema),
            });
        }
        if let Some((i, j)) = plan.jobs.iter().enumerate().find(|(i, j)| j.index != *i) {
            return Err(AgentError::InvalidPlan {
                path: file.display().to_string(),
                message: format!("job at position {i} has index {}", j.index),
            });
        }
        let dir = file.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf();
        Ok((plan, dir))
    }

    /// The job at `index`.
    pub fn job(&self, index: usize) -> Result<&Job, AgentError> {
        self.jobs.get(index).ok_or(AgentError::JobIndex { index, n: self.jobs.len() })
    }
}

/// A file-name-safe rendering of `key=value` labels.
pub fn slug(labels: &[String]) -> String {
    let s: String = labels
        .join("_")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '.' { c } else { '_' })
        .collect();
    s.trim_matches('_').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_fnv1a() {
        // FNV-1a 64 test vectors.
        assert_eq!(config_hash(""), "cbf29ce484222325");
        assert_eq!(config_hash("a"), "af63dc4c8601ec8c");
        assert_eq!(config_hash("foobar"), "85944171f73967e8");
    }

    #[test]
    fn slug_is_filename_safe() {
        assert_eq!(slug(&["ppo.lr=1e-3".into(), "policy.kind=\"gru\"".into()]), "ppo.lr_1e-3_policy.kind__gru");
    }
}
