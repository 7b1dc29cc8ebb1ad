//! The working-memory study: vanilla RNN, GRU and LSTM networks × seeds trained with
//! `engram fit` on `OrientationWM-v0` (two sequentially shown orientations, both reported),
//! each probed at the end of the second delay ([`crate::inspect::torus_report`]): is the
//! activity manifold a torus (persistent homology), is it a Clifford torus (PCA spectrum,
//! principal angles, radius ratio, Clifford index), is the vanilla RNN's connectivity
//! locally excitatory and globally inhibitory, and do units change their θ1 tuning when θ2
//! arrives (the dynamic code)?
//!
//! After Cueva, Ardalan, Tsodyks & Qian (2021), "Recurrent neural network models for working
//! memory of continuous variables: activity manifolds, connectivity patterns, and dynamic
//! codes", arXiv 2111.01275. One network is one job ([`JobKind::WorkingMemory`]): training
//! resumes from its last checkpoint, the probe is recomputed.

mod report;

use super::{Plan, Progress, Study};
use crate::error::AgentError;
use crate::fit::{fit_new, fit_resume, Arch, FitConfig, NetSection, TaskSection, TrainSection};
use crate::inspect::torus_report::{arch_name, probe_torus, TorusProbeConfig};
use crate::study::{Job, JobKind};
use engram_envs::tasks::battery::orientation_wm::{OrientationWm, OrientationWmConfig};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The study's config (`scripts/configs/wm_*.toml`). Every field has a default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkingMemoryConfig {
    /// Seeds per architecture, ≥ 1.
    pub seeds: u64,
    /// First seed.
    pub seed_base: u64,
    /// Architectures (the paper's is `rnn_tanh`).
    pub architectures: Vec<Arch>,
    /// Hidden units.
    pub hidden: usize,
    /// Exclusion rule, fixed before the run: a network whose mean absolute report error on
    /// noisy held-out trials exceeds this (degrees) does not enter the representational
    /// comparisons (it is listed).
    pub gate_mae_deg: f64,
    /// The task's parameters.
    pub task: OrientationWmConfig,
    /// The optimization (`engram fit`'s `[train]`).
    pub train: TrainSection,
    /// The probe.
    pub probe: TorusProbeConfig,
    /// Training conditions to compare (the paper's psychophysics manipulations: noise levels,
    /// the auxiliary ordinal output θ1 > θ2); each plans architectures × seeds of its own and
    /// gets its own summaries in the report. Empty: one condition, the `[task]` and `[train]`
    /// values as given (job ids without a condition prefix).
    pub conditions: Vec<Condition>,
}

/// One training condition: overrides of `[task]` / `[train]` (absent fields keep the study's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// Name, used in job ids and the report: non-empty, letters, digits, `_` or `.`.
    pub name: String,
    /// `train.recurrent_noise_std` (noise on every unit's pre-activation while training).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recurrent_noise_std: Option<f32>,
    /// `task.input_noise_std`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_noise_std: Option<f64>,
    /// `task.ordinal_output` (the auxiliary θ1 > θ2 output).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ordinal_output: Option<bool>,
}

impl Default for WorkingMemoryConfig {
    fn default() -> Self {
        Self {
            seeds: 3,
            seed_base: 0,
            architectures: vec![Arch::RnnTanh, Arch::Gru, Arch::Lstm],
            hidden: 100,
            gate_mae_deg: 10.0,
            task: OrientationWmConfig::default(),
            train: TrainSection {
                steps: 2000,
                lr: 3e-3,
                l2_activity: 1e-4,
                stop_at_criterion: false,
                ..Default::default()
            },
            probe: TorusProbeConfig::default(),
            conditions: vec![],
        }
    }
}

/// One job: a network to train and probe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkingMemoryJob {
    /// The `engram fit` config (TOML).
    pub fit: String,
    /// The probe.
    pub probe: TorusProbeConfig,
    /// The exclusion gate (the report's, identical in every job).
    pub gate_mae_deg: f64,
    /// The training condition's name (empty: the study has a single condition).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub condition: String,
}

impl WorkingMemoryConfig {
    /// Parses and validates a TOML document.
    pub fn from_toml(text: &str) -> Result<Self, AgentError> {
        let cfg: Self = toml::from_str(text).map_err(|e| AgentError::Config(format!("working-memory config: {e}")))?;
        cfg.jobs()?;
        Ok(cfg)
    }

    /// The plan's jobs: architectures × seeds (each fit config validated).
    pub fn jobs(&self) -> Result<Vec<Job>, AgentError> {
        if self.seeds == 0 || self.architectures.is_empty() {
            return Err(AgentError::Config(format!(
                "working-memory: seeds = {}, architectures = {} (both must be ≥ 1)",
                self.seeds,
                self.architectures.len()
            )));
        }
        if self.gate_mae_deg.is_nan() || self.gate_mae_deg <= 0.0 {
            return Err(AgentError::Config(format!(
                "working-memory: gate_mae_deg = {} (must be > 0)",
                self.gate_mae_deg
            )));
        }
        let mut names = std::collections::BTreeSet::new();
        for c in &self.conditions {
            let ok =
                !c.name.is_empty() && c.name.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '.');
            if !ok || !names.insert(c.name.as_str()) {
                return Err(AgentError::Config(format!(
                    "working-memory: condition name {:?} (must be unique, non-empty, letters, digits, '_' or '.')",
                    c.name
                )));
            }
        }
        let single =
            [Condition { name: String::new(), recurrent_noise_std: None, input_noise_std: None, ordinal_output: None }];
        let conditions = if self.conditions.is_empty() { &single[..] } else { &self.conditions[..] };
        let mut jobs = vec![];
        for cond in conditions {
            let mut task = self.task.clone();
            let mut train = self.train.clone();
            if let Some(v) = cond.recurrent_noise_std {
                train.recurrent_noise_std = v;
            }
            if let Some(v) = cond.input_noise_std {
                task.input_noise_std = v;
            }
            if let Some(v) = cond.ordinal_output {
                task.ordinal_output = v;
            }
            OrientationWm::new(task.clone())?;
            let task_json = serde_json::to_value(&task).map_err(|e| AgentError::Config(e.to_string()))?;
            for &arch in &self.architectures {
                for seed in self.seed_base..self.seed_base + self.seeds {
                    let fit = FitConfig {
                        seed,
                        task: TaskSection { id: OrientationWm::ID.into(), config: task_json.clone() },
                        net: NetSection {
                            arch,
                            hidden: self.hidden,
                            n_in: None,
                            n_out: None,
                            recurrent_init: None,
                            recurrent_gain: 1.0,
                        },
                        train: train.clone(),
                    };
                    fit.validate()?;
                    let fit = toml::to_string(&fit).map_err(|e| AgentError::Config(e.to_string()))?;
                    let job = WorkingMemoryJob {
                        fit,
                        probe: self.probe.clone(),
                        gate_mae_deg: self.gate_mae_deg,
                        condition: cond.name.clone(),
                    };
                    let config = toml::to_string(&job).map_err(|e| AgentError::Config(e.to_string()))?;
                    let net_id = format!("{}-h{}-seed{seed}", arch_name(arch), self.hidden);
                    let id = if cond.name.is_empty() { net_id } else { format!("{}-{net_id}", cond.name) };
                    let mut labels = vec![format!("arch={}", arch_name(arch)), format!("hidden={}", self.hidden)];
                    if !cond.name.is_empty() {
                        labels.push(format!("condition={}", cond.name));
                    }
                    jobs.push(Job::new(id, JobKind::WorkingMemory, seed, config, labels));
                }
            }
        }
        Ok(jobs)
    }
}

/// Runs (or resumes) one job: trains the network, then writes `torus/` (report JSON and
/// figures) in the job directory.
pub fn run_working_memory_job(job: &Job, dir: &Path, _progress: Progress) -> Result<serde_json::Value, AgentError> {
    let spec: WorkingMemoryJob =
        toml::from_str(&job.config).map_err(|e| AgentError::Config(format!("job {}: {e}", job.id)))?;
    let fit = FitConfig::from_toml(&spec.fit)?;
    let mut quiet = |_: &crate::fit::MetricsRow| {};
    let result = if dir.join("checkpoints").exists() {
        fit_resume(dir, &mut quiet, None)?
    } else {
        fit_new(fit, dir, &mut quiet)?
    };
    let (report, states) = probe_torus(dir, &spec.probe)?;
    let fitter = crate::fit::load_checkpoint(dir)?;
    report.write(&states, &fitter.net.params[1], &dir.join("torus"))?;
    Ok(serde_json::json!({
        "arch": arch_name(report.arch),
        "final_eval_nmse": result.final_eval_nmse,
        "mae_deg": report.behaviour.mae_deg,
        "clifford_index": report.geometry.clifford_index,
        "betti": report.homology.betti,
    }))
}

/// The working-memory study (see the module docs).
pub struct WorkingMemory;

impl Study for WorkingMemory {
    fn name(&self) -> &'static str {
        "working-memory"
    }
    fn about(&self) -> &'static str {
        "RNN / GRU / LSTM x seeds on two-orientation working memory: torus, Clifford index, connectivity, dynamic code"
    }
    fn job_kinds(&self) -> &'static [JobKind] {
        &[JobKind::WorkingMemory]
    }
    fn plan(&self, config: &str) -> Result<Vec<Job>, AgentError> {
        WorkingMemoryConfig::from_toml(config)?.jobs()
    }
    fn run_job(&self, job: &Job, dir: &Path, progress: Progress) -> Result<serde_json::Value, AgentError> {
        run_working_memory_job(job, dir, progress)
    }
    fn report(&self, plan: &Plan, dir: &Path, _jobs: &[(&Job, serde_json::Value)]) -> Result<PathBuf, AgentError> {
        report::write_report(plan, dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quick() -> WorkingMemoryConfig {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/configs/wm_quick.toml"))
            .expect("quick config");
        WorkingMemoryConfig::from_toml(&text).expect("valid")
    }

    #[test]
    fn quick_config_plans_architectures_times_seeds() {
        let cfg = quick();
        let jobs = cfg.jobs().unwrap();
        assert_eq!(jobs.len(), cfg.architectures.len() * cfg.seeds as usize);
        let j = jobs.iter().find(|j| j.id == "gru-h100-seed1").expect("job");
        let spec: WorkingMemoryJob = toml::from_str(&j.config).unwrap();
        let fit = FitConfig::from_toml(&spec.fit).unwrap();
        assert_eq!((fit.seed, fit.net.arch, fit.task.id.as_str()), (1, Arch::Gru, "OrientationWM-v0"));
    }

    #[test]
    fn conditions_plan_their_own_jobs_with_their_overrides() {
        let text = "seeds = 2\narchitectures = [\"rnn_tanh\"]\n[train]\nsteps = 10\n\
                    [[conditions]]\nname = \"quiet\"\n\
                    [[conditions]]\nname = \"noisy_ordinal\"\nrecurrent_noise_std = 0.1\nordinal_output = true\n";
        let cfg = WorkingMemoryConfig::from_toml(text).unwrap();
        let jobs = cfg.jobs().unwrap();
        let ids: Vec<&str> = jobs.iter().map(|j| j.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "quiet-rnn_tanh-h100-seed0",
                "quiet-rnn_tanh-h100-seed1",
                "noisy_ordinal-rnn_tanh-h100-seed0",
                "noisy_ordinal-rnn_tanh-h100-seed1"
            ]
        );
        let fit_of = |j: &Job| {
            let spec: WorkingMemoryJob = toml::from_str(&j.config).unwrap();
            (spec.condition.clone(), FitConfig::from_toml(&spec.fit).unwrap())
        };
        let (c0, f0) = fit_of(&jobs[0]);
        let (c2, f2) = fit_of(&jobs[2]);
        assert_eq!(
            (c0.as_str(), f0.train.recurrent_noise_std, f0.task.config["ordinal_output"].as_bool()),
            ("quiet", 0.0, Some(false))
        );
        assert_eq!(
            (c2.as_str(), f2.train.recurrent_noise_std, f2.task.config["ordinal_output"].as_bool()),
            ("noisy_ordinal", 0.1, Some(true))
        );
        // Without conditions the plan is the single-condition one (ids and configs unchanged).
        assert!(!quick().jobs().unwrap()[0].config.contains("condition"));
        let e = WorkingMemoryConfig::from_toml("[[conditions]]\nname = \"a b\"\n").unwrap_err().to_string();
        assert!(e.contains("\"a b\""), "{e}");
        let e = WorkingMemoryConfig::from_toml("[[conditions]]\nname = \"n\"\nrecurrent_noise_std = -1.0\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("recurrent_noise_std = -1"), "{e}");
    }

    #[test]
    fn zero_delays_and_coarse_grids_are_refused() {
        let e = WorkingMemoryConfig::from_toml("[task]\ndelay2_steps = 0\n").unwrap_err().to_string();
        assert!(e.contains("delay2_steps"), "{e}");
        let e = WorkingMemoryConfig::from_toml("seeds = 0").unwrap_err().to_string();
        assert!(e.contains("seeds = 0"), "{e}");
    }
}
