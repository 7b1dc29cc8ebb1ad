//! The universality study: vanilla RNN, GRU and LSTM agents × seeds × widths on a few envs,
//! each trained with PPO and then probed (fixed points at a constant input, Lyapunov
//! spectrum); the report (`report.rs`) puts representational geometry
//! (CCA / Procrustes distances under identical inputs) beside dynamical topology (fixed-point
//! count, stability pattern, leading eigenvalues) and asks in which of the two the agents
//! cluster by architecture.
//!
//! After Maheswaranathan, Williams, Golub, Ganguli & Sussillo (2019), "Universality and
//! individuality in neural dynamics across large populations of recurrent networks",
//! NeurIPS: networks of different architectures differ in geometry but share topology.
//! One agent is one job ([`JobKind::Universality`]); it is resumable (training resumes from
//! its last checkpoint, the probes are recomputed).

use crate::error::AgentError;
mod report;

pub use report::write_report;

use super::{Plan, Progress, Study};
use crate::inspect::agent::ProbedAgent;
use crate::inspect::fixed_points_report::{probe_fixed_points, FixedPointProbeConfig, ProbeInput};
use crate::inspect::lyapunov_report::{probe_lyapunov, LyapunovProbeConfig};
use crate::inspect::rollouts::Rollouts;
use crate::inspect::similarity_report::SimilarityConfig;
use crate::policy::PolicyKind;
use crate::ppo::TrainConfig;
use crate::study::{Job, JobKind};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// One env of the study.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EnvStudy {
    /// Short name (job ids, report sections).
    pub name: String,
    /// The constant input of the fixed-point search (`prep` falls back to `mean` when a
    /// recording has no preparatory steps).
    pub fixed_point_input: ProbeInput,
    /// A sentence the report prints for this env (e.g. that its agents do not learn yet).
    pub note: String,
    /// The training config (`engram train`'s TOML); `seed`, `policy.kind` and
    /// `policy.rnn_hidden` are set per job.
    pub train: toml::Table,
}

impl Default for EnvStudy {
    fn default() -> Self {
        let train: toml::Table =
            toml::from_str("env = \"PendulumNoVel-v1\"\ntotal_timesteps = 100000\n").expect("valid");
        Self { name: "pendulum".into(), fixed_point_input: ProbeInput::Zero, note: String::new(), train }
    }
}

/// The study's config (`scripts/configs/universality_*.toml`). Every field has a default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UniversalityConfig {
    /// Seeds per (env, architecture, width).
    pub seeds: u64,
    /// First seed.
    pub seed_base: u64,
    /// Recurrent architectures.
    pub architectures: Vec<PolicyKind>,
    /// Hidden widths.
    pub widths: Vec<usize>,
    /// Deterministic episodes recorded per agent (the probes' inputs; pooled across agents
    /// for the similarity analysis).
    pub episodes: usize,
    /// First episode seed of the recordings (the same for every agent).
    pub episode_seed: u64,
    /// Fixed-point search settings (`input` is taken from each env).
    pub fixed_points: FixedPointProbeConfig,
    /// Lyapunov settings.
    pub lyapunov: LyapunovProbeConfig,
    /// Similarity settings (used by the report).
    pub similarity: SimilarityConfig,
    /// The envs.
    pub envs: Vec<EnvStudy>,
}

impl Default for UniversalityConfig {
    fn default() -> Self {
        Self {
            seeds: 3,
            seed_base: 0,
            architectures: vec![PolicyKind::Rnn, PolicyKind::Gru, PolicyKind::Lstm],
            widths: vec![64],
            episodes: 8,
            episode_seed: 20_000,
            fixed_points: FixedPointProbeConfig::default(),
            lyapunov: LyapunovProbeConfig::default(),
            similarity: SimilarityConfig::default(),
            envs: vec![EnvStudy::default()],
        }
    }
}

/// One job: an agent to train and probe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UniversalityJob {
    /// Env name (as in the config).
    pub env: String,
    /// The env's note for the report.
    pub note: String,
    /// Architecture.
    pub architecture: PolicyKind,
    /// Hidden width.
    pub width: usize,
    /// The resolved training config (TOML of `engram train`).
    pub train: String,
    /// Episodes recorded for the probes.
    pub episodes: usize,
    /// Their first seed.
    pub episode_seed: u64,
    /// Fixed-point settings.
    pub fixed_points: FixedPointProbeConfig,
    /// Lyapunov settings.
    pub lyapunov: LyapunovProbeConfig,
    /// Similarity settings (the report's, identical in every job of the plan).
    pub similarity: SimilarityConfig,
}

impl UniversalityConfig {
    /// Parses and validates a TOML document.
    pub fn from_toml(text: &str) -> Result<Self, AgentError> {
        let cfg: Self = toml::from_str(text).map_err(|e| AgentError::Config(format!("universality config: {e}")))?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Checks bounds and that every training config parses.
    pub fn validate(&self) -> Result<(), AgentError> {
        let bad = |m: String| Err(AgentError::Config(m));
        if self.seeds == 0 || self.episodes == 0 {
            return bad(format!("seeds = {}, episodes = {} (both must be >= 1)", self.seeds, self.episodes));
        }
        if self.envs.is_empty() || self.widths.is_empty() || self.architectures.is_empty() {
            return bad("envs, widths and architectures must each name at least one entry".into());
        }
        if let Some(k) = self.architectures.iter().find(|k| k.cell().is_none()) {
            return bad(format!("architectures contains {} (only rnn, gru, lstm have dynamics to probe)", k.as_str()));
        }
        let mut names: Vec<&str> = self.envs.iter().map(|e| e.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        if names.len() != self.envs.len() {
            return bad("envs: names must be distinct".into());
        }
        self.jobs().map(|_| ())
    }

    /// The plan's jobs: envs × architectures × widths × seeds.
    pub fn jobs(&self) -> Result<Vec<Job>, AgentError> {
        let mut jobs = vec![];
        for e in &self.envs {
            for &arch in &self.architectures {
                for &width in &self.widths {
                    for seed in self.seed_base..self.seed_base + self.seeds {
                        let mut t = e.train.clone();
                        t.insert("seed".into(), (seed as i64).into());
                        let policy = t.entry("policy").or_insert_with(|| toml::Value::Table(Default::default()));
                        if let Some(p) = policy.as_table_mut() {
                            p.insert("kind".into(), arch.as_str().into());
                            p.insert("rnn_hidden".into(), (width as i64).into());
                            p.insert("rnn_layers".into(), 1.into());
                        }
                        let text = toml::to_string(&t).map_err(|e| AgentError::Config(e.to_string()))?;
                        let train = TrainConfig::from_toml_with(&text, &[])
                            .map_err(|m| AgentError::Config(format!("envs.{}.train: {m}", e.name)))?;
                        let job = UniversalityJob {
                            env: e.name.clone(),
                            note: e.note.clone(),
                            architecture: arch,
                            width,
                            train: train.to_toml(),
                            episodes: self.episodes,
                            episode_seed: self.episode_seed,
                            fixed_points: FixedPointProbeConfig {
                                input: e.fixed_point_input,
                                ..self.fixed_points.clone()
                            },
                            lyapunov: self.lyapunov.clone(),
                            similarity: self.similarity.clone(),
                        };
                        let config = toml::to_string(&job).map_err(|e| AgentError::Config(e.to_string()))?;
                        let id = format!("{}-{}-h{width}-seed{seed}", e.name, arch.as_str());
                        jobs.push(Job::new(
                            id,
                            JobKind::Universality,
                            seed,
                            config,
                            vec![
                                format!("env={}", e.name),
                                format!("arch={}", arch.as_str()),
                                format!("width={width}"),
                            ],
                        ));
                    }
                }
            }
        }
        Ok(jobs)
    }
}

/// Runs (or resumes) one job: trains the agent (as a training job does), then records its
/// rollouts and writes `probe/fixed-points/` and `probe/lyapunov/` in the job directory.
pub fn run_universality_job(job: &Job, dir: &Path, progress: Progress) -> Result<serde_json::Value, AgentError> {
    let spec: UniversalityJob =
        toml::from_str(&job.config).map_err(|e| AgentError::Config(format!("job {}: {e}", job.id)))?;
    let mut summary = super::sweep::train_job(&spec.train, dir, progress)?;
    let agent = ProbedAgent::load(dir)?;
    let probe = dir.join("probe");
    let rollouts = Rollouts::record_or_reuse(&agent, &probe.join("rollouts"), spec.episodes, spec.episode_seed)?;
    let fp = match probe_fixed_points(&agent, &rollouts, &spec.fixed_points) {
        Err(AgentError::Probe(_)) if spec.fixed_points.input == ProbeInput::Prep => {
            let cfg = FixedPointProbeConfig { input: ProbeInput::Mean, ..spec.fixed_points.clone() };
            probe_fixed_points(&agent, &rollouts, &cfg)
        }
        r => r,
    };
    let (fp, states) = fp?;
    fp.write(&states, &probe.join("fixed-points"))?;
    let ly = probe_lyapunov(&agent, &rollouts, &spec.lyapunov)?;
    ly.write(&probe.join("lyapunov"))?;
    summary["study_env"] = spec.env.into();
    summary["architecture"] = spec.architecture.as_str().into();
    summary["width"] = spec.width.into();
    summary["fixed_point_input"] = serde_json::to_value(fp.config.input).unwrap_or_default();
    summary["n_fixed_points"] = fp.topology.n_points.into();
    summary["n_stable"] = fp.topology.n_stable.into();
    summary["largest_lyapunov_per_step"] = ly.mean_per_step[0].into();
    Ok(summary)
}

/// The universality study (see the module docs).
pub struct Universality;

impl Study for Universality {
    fn name(&self) -> &'static str {
        "universality"
    }
    fn about(&self) -> &'static str {
        "RNN / GRU / LSTM agents x seeds x widths trained and probed; geometry vs topology by architecture"
    }
    fn job_kinds(&self) -> &'static [JobKind] {
        &[JobKind::Universality]
    }
    fn plan(&self, config: &str) -> Result<Vec<Job>, AgentError> {
        UniversalityConfig::from_toml(config)?.jobs()
    }
    fn run_job(&self, job: &Job, dir: &Path, progress: Progress) -> Result<serde_json::Value, AgentError> {
        run_universality_job(job, dir, progress)
    }
    fn report(&self, plan: &Plan, dir: &Path, _jobs: &[(&Job, serde_json::Value)]) -> Result<PathBuf, AgentError> {
        write_report(plan, dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quick() -> UniversalityConfig {
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/configs/universality_quick.toml"))
                .expect("quick config");
        UniversalityConfig::from_toml(&text).expect("valid")
    }

    #[test]
    fn quick_config_plans_envs_times_architectures_times_seeds() {
        let cfg = quick();
        let jobs = cfg.jobs().unwrap();
        assert_eq!(jobs.len(), 2 * 3 * 3);
        let mut ids: Vec<&str> = jobs.iter().map(|j| j.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), jobs.len());
        let j = jobs.iter().find(|j| j.id == "curlreach-lstm-h64-seed2").expect("job");
        assert_eq!(j.kind, JobKind::Universality);
        let spec: UniversalityJob = toml::from_str(&j.config).unwrap();
        let train = TrainConfig::from_toml_with(&spec.train, &[]).unwrap();
        assert_eq!(
            (train.env.as_str(), train.seed, train.policy.kind, train.policy.rnn_hidden),
            ("CurlReach-v0", 2, PolicyKind::Lstm, 64)
        );
        assert_eq!(spec.fixed_points.input, ProbeInput::Prep);
        assert!(!spec.note.is_empty());
    }

    #[test]
    fn memoryless_architectures_and_duplicate_envs_are_rejected() {
        let mut cfg = quick();
        cfg.architectures.push(PolicyKind::Mlp);
        assert!(cfg.validate().unwrap_err().to_string().contains("mlp"));
        let mut cfg = quick();
        cfg.envs[1].name = cfg.envs[0].name.clone();
        assert!(cfg.validate().is_err());
        assert!(UniversalityConfig::from_toml("seeds = 0").is_err());
    }
}
