//! The sim-to-real study (Siekmann et al., RSS 2020, on the planar walker): memoryless vs
//! recurrent policies, trained with and without dynamics randomization, evaluated on the
//! training sim, on fixed parameter sets inside the training range, and on the held-out
//! robots R1–R4 and all of them together; then the implicit system-identification probe
//! ([`super::sysid_probe`]) on each trained policy.
//!
//! One policy × randomization × seed is one job of the study's plan. A job trains (resumable
//! from its last checkpoint), evaluates (`eval.json`, skipped when present) and probes
//! (`sysid.json`, skipped when present), so a killed job continues where it stopped.

use super::sysid_probe::{self, SysidProbeConfig};
use crate::checkpoint::{self, LoadedPolicy};
use crate::error::AgentError;
use crate::plan::exec::{train_to_end, Progress};
use crate::plan::{config_hash, Job, JobKind};
use crate::policy::{ActMode, ActorCritic, Policy, PolicyConfig, PolicyKind};
use crate::ppo::TrainConfig;
use crate::run::eval::run_episodes_with;
use engram_envs::registry::parse_config;
use engram_envs::tasks::biped::{self, PlanarBipedConfig};
use engram_envs::ResetOptions;
use engram_sim::biped::{DynamicsParams, PARAMS};
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// File (in a job directory) holding the evaluation.
pub const EVAL_FILE: &str = "eval.json";
/// Offset of the evaluation seeds from the job's seed (never a training episode's seed).
pub const EVAL_SEED_OFFSET: u64 = 2_000_000;
/// The training env with randomization on.
pub const DR_ENV: &str = biped::DR_ID;
/// The training env with randomization off.
pub const NOMINAL_ENV: &str = "PlanarBiped-v0";
/// Evaluation conditions in report order: in training distribution first, then held out.
pub const CONDITIONS: [&str; 7] = ["train", "fixed", "R1", "R2", "R3", "R4", "real"];
/// Conditions the policies never trained on (the Siekmann comparison).
pub const HELD_OUT: [&str; 5] = ["R1", "R2", "R3", "R4", "real"];

/// One policy architecture of the study, with optional PPO settings of its own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicySpec {
    /// The architecture (`kind` must be mlp, gru or lstm).
    pub policy: PolicyConfig,
    /// Overrides of the `train.ppo` table for this architecture (e.g. a larger minibatch of
    /// BPTT chunks for the recurrent policies).
    #[serde(default)]
    pub ppo: toml::Table,
}

/// Evaluation settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EvalSpec {
    /// Episodes in the training sim and in each held-out family R1–R4 (robots in turn).
    pub episodes: usize,
    /// Episodes on all twenty held-out robots together (robots in turn).
    pub real_episodes: usize,
    /// Fixed parameter sets drawn from the training distribution.
    pub fixed_sets: usize,
    /// Episodes per fixed set.
    pub episodes_per_fixed_set: usize,
    /// Seed of the draw of the fixed sets (the same sets for every job).
    pub fixed_set_seed: u64,
}

impl Default for EvalSpec {
    fn default() -> Self {
        Self { episodes: 10, real_episodes: 20, fixed_sets: 10, episodes_per_fixed_set: 2, fixed_set_seed: 20_200_712 }
    }
}

/// The study's config (`scripts/configs/sim2real_*.toml`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Sim2RealConfig {
    /// Seeds per condition.
    pub seeds: u64,
    /// First seed.
    pub seed_base: u64,
    /// Randomization settings to train with (`true`: PlanarBipedDR-v0, `false`: PlanarBiped-v0).
    pub dr: Vec<bool>,
    /// Env steps per training run.
    pub total_timesteps: u64,
    /// Largest relative difference of the policies' parameter counts (0.1: within 10 %).
    pub param_tolerance: f64,
    /// The architectures.
    pub policies: Vec<PolicySpec>,
    /// Evaluation.
    pub eval: EvalSpec,
    /// Run the sysid probe at the end of each job.
    pub probe_enabled: bool,
    /// Probe settings.
    pub probe: SysidProbeConfig,
    /// The training config shared by every job (`engram train`'s TOML: env_config, ppo);
    /// `env`, `seed`, `total_timesteps` and `policy` are set by the study.
    pub train: toml::Table,
}

impl Default for Sim2RealConfig {
    fn default() -> Self {
        // Parameter counts on the walker: 11085, 11063, 11120 (matched within 0.6 %).
        let spec = |kind, hidden: Vec<usize>, rnn_hidden| {
            let ppo = if kind == PolicyKind::Mlp {
                toml::Table::new()
            } else {
                toml::from_str("bptt_len = 32\nminibatch_size = 256").expect("valid table")
            };
            PolicySpec { policy: PolicyConfig { kind, hidden, rnn_hidden, ..PolicyConfig::default() }, ppo }
        };
        Self {
            seeds: 3,
            seed_base: 0,
            dr: vec![true, false],
            total_timesteps: 1_000_000,
            param_tolerance: 0.1,
            policies: vec![
                spec(PolicyKind::Mlp, vec![64, 64], 64),
                spec(PolicyKind::Gru, vec![], 34),
                spec(PolicyKind::Lstm, vec![], 29),
            ],
            eval: EvalSpec::default(),
            probe_enabled: true,
            probe: SysidProbeConfig::default(),
            train: toml::Table::new(),
        }
    }
}

/// One job's config: the study config pinned to an architecture, a randomization setting and
/// a seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sim2RealJob {
    /// Index into the study's `policies`.
    pub policy_index: usize,
    /// Randomization on.
    pub dr: bool,
    /// Seed.
    pub seed: u64,
    /// The study config.
    pub experiment: Sim2RealConfig,
}

/// A policy's parameter count as the study reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParamCount {
    /// `mlp`, `gru` or `lstm`.
    pub kind: String,
    /// Widths, e.g. `mlp [64, 64]` or `gru 40 → [32]`.
    pub widths: String,
    /// Trainable scalars (actor, critic, heads, log-std).
    pub params: usize,
}

/// Short lower-case name of a policy family.
pub fn kind_name(k: PolicyKind) -> String {
    format!("{k:?}").to_lowercase()
}

/// Label of a randomization setting.
pub fn dr_name(dr: bool) -> &'static str {
    if dr {
        "dr"
    } else {
        "nodr"
    }
}

impl Sim2RealConfig {
    /// Parses and validates a TOML document.
    pub fn from_toml(text: &str) -> Result<Self, AgentError> {
        let cfg: Self = toml::from_str(text).map_err(|e| AgentError::Config(format!("sim2real config: {e}")))?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Parameter count of every architecture on the walker.
    pub fn param_counts(&self) -> Result<Vec<ParamCount>, AgentError> {
        let job = Sim2RealJob { policy_index: 0, dr: false, seed: 0, experiment: self.clone() };
        let cfg = job.train_config()?;
        let env = engram_envs::make_with(&cfg.env, &cfg.env_config_json())?;
        let dist = crate::ppo::trainer::dist_for(env.action_space())?;
        let obs_dim = env.observation_space().flat_dim();
        Ok(self
            .policies
            .iter()
            .map(|s| {
                let p = &s.policy;
                let widths = match p.kind {
                    PolicyKind::Mlp => format!("{:?}", p.hidden),
                    _ => format!("{}x{} -> {:?}", p.rnn_layers, p.rnn_hidden, p.hidden),
                };
                let params = ActorCritic::new(p, obs_dim, dist, 0).params().num_scalars();
                ParamCount { kind: kind_name(p.kind), widths, params }
            })
            .collect())
    }

    /// Checks bounds, the architectures, and that their parameter counts are matched.
    pub fn validate(&self) -> Result<(), AgentError> {
        let bad = |m: String| Err(AgentError::Config(m));
        if self.seeds == 0 {
            return bad("seeds = 0 (must be >= 1)".into());
        }
        if self.dr.is_empty() {
            return bad("dr is empty (use [true, false])".into());
        }
        if self.policies.is_empty() {
            return bad("policies is empty (add [[policies]] tables)".into());
        }
        if let Some(s) = self.policies.iter().find(|s| s.policy.kind == PolicyKind::Rnn) {
            return bad(format!("policies: kind {:?} is not part of the study (use mlp, gru or lstm)", s.policy.kind));
        }
        if self.param_tolerance.is_nan() || self.param_tolerance < 0.0 {
            return bad(format!("param_tolerance = {} (must be >= 0)", self.param_tolerance));
        }
        let e = &self.eval;
        if e.episodes == 0 || e.real_episodes == 0 || e.fixed_sets == 0 || e.episodes_per_fixed_set == 0 {
            return bad(
                "eval.episodes, eval.real_episodes, eval.fixed_sets and eval.episodes_per_fixed_set must be >= 1"
                    .into(),
            );
        }
        for i in 0..self.policies.len() {
            for &dr in &self.dr {
                Sim2RealJob { policy_index: i, dr, seed: self.seed_base, experiment: self.clone() }.train_config()?;
            }
        }
        let counts = self.param_counts()?;
        let (lo, hi) = counts.iter().fold((usize::MAX, 0), |(lo, hi), c| (lo.min(c.params), hi.max(c.params)));
        if hi as f64 > lo as f64 * (1.0 + self.param_tolerance) {
            let list: Vec<String> = counts.iter().map(|c| format!("{} {} = {}", c.kind, c.widths, c.params)).collect();
            return bad(format!(
                "policy parameter counts are not matched within {:.0} %: {} (largest/smallest = {:.3}); change the widths",
                100.0 * self.param_tolerance,
                list.join(", "),
                hi as f64 / lo as f64
            ));
        }
        Ok(())
    }

    /// The plan's jobs: policies × randomization × seeds.
    pub fn jobs(&self) -> Result<Vec<Job>, AgentError> {
        let mut jobs = vec![];
        for (pi, spec) in self.policies.iter().enumerate() {
            for &dr in &self.dr {
                for seed in self.seed_base..self.seed_base + self.seeds {
                    let job = Sim2RealJob { policy_index: pi, dr, seed, experiment: self.clone() };
                    let config = toml::to_string(&job).map_err(|e| AgentError::Config(e.to_string()))?;
                    let kind = kind_name(spec.policy.kind);
                    let id = format!("{kind}{pi}-{}-seed{seed}", dr_name(dr));
                    jobs.push(Job {
                        index: 0,
                        out_dir: format!("jobs/{id}"),
                        id,
                        kind: JobKind::Sim2Real,
                        seed,
                        config_hash: config_hash(&config),
                        config,
                        labels: vec![format!("policy={kind}"), format!("dr={dr}")],
                    });
                }
            }
        }
        Ok(jobs)
    }
}

impl Sim2RealJob {
    /// The job's training config.
    pub fn train_config(&self) -> Result<TrainConfig, AgentError> {
        let e = &self.experiment;
        let spec = e.policies.get(self.policy_index).ok_or_else(|| {
            AgentError::Config(format!(
                "policy_index {} out of range ({} policies)",
                self.policy_index,
                e.policies.len()
            ))
        })?;
        let mut t = e.train.clone();
        t.insert("env".into(), (if self.dr { DR_ENV } else { NOMINAL_ENV }).into());
        t.insert("seed".into(), (self.seed as i64).into());
        t.insert("total_timesteps".into(), (e.total_timesteps as i64).into());
        let policy = toml::Table::try_from(&spec.policy).map_err(|err| AgentError::Config(err.to_string()))?;
        t.insert("policy".into(), toml::Value::Table(policy));
        let ppo = t.entry("ppo").or_insert_with(|| toml::Value::Table(Default::default()));
        if let Some(ppo) = ppo.as_table_mut() {
            ppo.extend(spec.ppo.clone());
        }
        let cfg: TrainConfig = toml::Value::Table(t)
            .try_into()
            .map_err(|err| AgentError::Config(format!("sim2real train config: {err}")))?;
        cfg.validate()?;
        Ok(cfg)
    }
}

/// Returns, falls and times to fall of the episodes of one condition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConditionEval {
    /// One of [`CONDITIONS`].
    pub condition: String,
    /// Env id.
    pub env: String,
    /// Episode returns.
    pub returns: Vec<f64>,
    /// Whether each episode ended by falling (termination, not the time limit).
    pub fell: Vec<bool>,
    /// Control steps until the fall, or the episode length when it did not fall.
    pub time_to_fall_steps: Vec<u64>,
    /// Mean return.
    pub return_mean: f64,
    /// Fraction of episodes that fell.
    pub fall_rate: f64,
    /// Mean time to fall (capped at the episode length), s.
    pub time_to_fall_s: f64,
}

/// The evaluation of one trained policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobEval {
    /// Per condition, in [`CONDITIONS`] order.
    pub conditions: Vec<ConditionEval>,
}

impl JobEval {
    /// The condition named `name`.
    pub fn get(&self, name: &str) -> Option<&ConditionEval> {
        self.conditions.iter().find(|c| c.condition == name)
    }
}

/// The fixed parameter sets of the study: `n` draws from the training distribution of `cfg`.
pub fn fixed_sets(cfg: &PlanarBipedConfig, n: usize, seed: u64) -> Vec<DynamicsParams> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    (0..n).map(|_| cfg.distribution.sample(&mut rng)).collect()
}

/// Reset options pinning every parameter of `p`.
pub fn pin_all(p: &DynamicsParams) -> ResetOptions {
    PARAMS.iter().enumerate().fold(ResetOptions::new(), |o, (i, (name, _))| o.with(name, p.get(i)))
}

fn eval_condition(
    policy: &LoadedPolicy,
    condition: &str,
    env: &str,
    n: usize,
    seed: u64,
    options: impl Fn(usize) -> ResetOptions,
    control_dt_s: f64,
) -> Result<ConditionEval, AgentError> {
    let cfg = policy.config.env_config_json();
    let mut fell = vec![false; n];
    let r = run_episodes_with(policy, env, &cfg, n, seed, ActMode::Deterministic, options, None, |v| {
        if v.terminated && !v.truncated {
            fell[v.episode] = true;
        }
    })?;
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let ttf: Vec<f64> = r.lengths.iter().map(|&l| l as f64 * control_dt_s).collect();
    Ok(ConditionEval {
        condition: condition.into(),
        env: env.into(),
        return_mean: r.mean,
        fall_rate: fell.iter().filter(|&&f| f).count() as f64 / n as f64,
        time_to_fall_s: mean(&ttf),
        returns: r.returns,
        fell,
        time_to_fall_steps: r.lengths,
    })
}

/// Evaluates the trained policy of a job on every condition.
pub fn evaluate(policy: &LoadedPolicy, spec: &Sim2RealJob) -> Result<JobEval, AgentError> {
    let e = &spec.experiment.eval;
    let env_cfg = policy.config.env_config_json();
    let bc: PlanarBipedConfig = parse_config(DR_ENV, &env_cfg)?;
    let dt = bc.frame_skip as f64 * bc.sim.dt_s;
    let seed = spec.seed + EVAL_SEED_OFFSET;
    let none = |_: usize| ResetOptions::new();
    let robot = |k: usize| move |i: usize| ResetOptions::new().with(biped::keys::ROBOT, (i % k) as f64);
    let sets = fixed_sets(&bc, e.fixed_sets, e.fixed_set_seed);
    let per = e.episodes_per_fixed_set;
    let mut out = vec![eval_condition(policy, "train", &policy.config.env, e.episodes, seed, none, dt)?];
    out.push(eval_condition(policy, "fixed", DR_ENV, sets.len() * per, seed, |i| pin_all(&sets[i / per]), dt)?);
    let per_family = engram_sim::biped::ROBOTS_PER_FAMILY;
    for (k, id) in biped::REAL_FAMILY_IDS.iter().enumerate() {
        out.push(eval_condition(policy, HELD_OUT[k], id, e.episodes, seed, robot(per_family), dt)?);
    }
    out.push(eval_condition(policy, "real", biped::REAL_ID, e.real_episodes, seed, robot(4 * per_family), dt)?);
    Ok(JobEval { conditions: out })
}

/// Runs (or resumes) one job of the study; returns its summary.
pub fn run_sim2real_job(job: &Job, dir: &Path, progress: Progress) -> Result<serde_json::Value, AgentError> {
    let spec: Sim2RealJob =
        toml::from_str(&job.config).map_err(|e| AgentError::Config(format!("job {}: {e}", job.id)))?;
    let cfg = spec.train_config()?;
    let t0 = std::time::Instant::now();
    let trainer = train_to_end(&cfg.to_toml(), dir, progress)?;
    let train_s = t0.elapsed().as_secs_f64();
    let policy = checkpoint::load_policy(dir)?;
    let t1 = std::time::Instant::now();
    let eval = match std::fs::read_to_string(dir.join(EVAL_FILE)).ok().and_then(|t| serde_json::from_str(&t).ok()) {
        Some(e) => e,
        None => {
            let e = evaluate(&policy, &spec)?;
            let json = serde_json::to_string_pretty(&e).map_err(|err| AgentError::Config(err.to_string()))?;
            checkpoint::write_atomic(&dir.join(EVAL_FILE), json.as_bytes())?;
            e
        }
    };
    let eval_s = t1.elapsed().as_secs_f64();
    let t2 = std::time::Instant::now();
    if spec.experiment.probe_enabled && sysid_probe::read_report(dir).is_none() {
        sysid_probe::probe_and_write(dir, None, &spec.experiment.probe)?;
    }
    let probe_s = t2.elapsed().as_secs_f64();
    let params = ActorCritic::new(&cfg.policy, policy.obs_dim(), policy.net.dist(), 0).params().num_scalars();
    let per_condition: serde_json::Map<String, serde_json::Value> = eval
        .conditions
        .iter()
        .map(|c| {
            let v = serde_json::json!({"return_mean": c.return_mean, "fall_rate": c.fall_rate, "time_to_fall_s": c.time_to_fall_s});
            (c.condition.clone(), v)
        })
        .collect();
    Ok(serde_json::json!({
        "policy": kind_name(cfg.policy.kind),
        "policy_index": spec.policy_index,
        "dr": spec.dr,
        "env": cfg.env,
        "params": params,
        "global_step": trainer.global_step,
        "updates": trainer.update,
        "train_return_mean": trainer.return_mean(),
        "eval": per_condition,
        "wall_s": {"train": train_s, "eval": eval_s, "probe": probe_s},
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_is_policies_by_randomization_by_seeds() {
        let cfg = Sim2RealConfig { seeds: 2, seed_base: 5, ..Sim2RealConfig::default() };
        cfg.validate().unwrap();
        let jobs = cfg.jobs().unwrap();
        assert_eq!(jobs.len(), 3 * 2 * 2);
        let ids: std::collections::BTreeSet<&str> = jobs.iter().map(|j| j.id.as_str()).collect();
        assert_eq!(ids.len(), jobs.len(), "ids are unique");
        assert!(jobs.iter().all(|j| j.kind == JobKind::Sim2Real && (5..7).contains(&j.seed)));
        assert_eq!(jobs[0].id, "mlp0-dr-seed5");
        assert_eq!(jobs[3].id, "mlp0-nodr-seed6");
        assert_eq!(jobs[4].labels, vec!["policy=gru".to_string(), "dr=true".into()]);
        // Each job's training config: the env follows the randomization setting, the policy
        // its index, the per-policy PPO overrides apply.
        let spec: Sim2RealJob = toml::from_str(&jobs[6].config).unwrap();
        let tc = spec.train_config().unwrap();
        assert_eq!((tc.env.as_str(), tc.policy.kind, tc.seed), (NOMINAL_ENV, PolicyKind::Gru, 5));
        let mut cfg2 = cfg.clone();
        cfg2.policies[1].ppo.insert("bptt_len".into(), 16.into());
        let s = Sim2RealJob { policy_index: 1, dr: true, seed: 0, experiment: cfg2 };
        let tc = s.train_config().unwrap();
        assert_eq!((tc.env.as_str(), tc.ppo.bptt_len), (DR_ENV, 16));
    }

    #[test]
    fn default_widths_are_matched_and_mismatched_widths_are_refused() {
        let cfg = Sim2RealConfig::default();
        let counts = cfg.param_counts().unwrap();
        // MLP 64x64 on obs 17, action 6: two trunks of 17·64+64 + 64·64+64, heads 64·6+6 and
        // 64+1, log-std 6.
        assert_eq!(counts[0].params, 2 * (17 * 64 + 64 + 64 * 64 + 64) + 64 * 6 + 6 + 65 + 6);
        let (lo, hi) = counts.iter().fold((usize::MAX, 0), |(l, h), c| (l.min(c.params), h.max(c.params)));
        assert!(hi as f64 <= lo as f64 * 1.1, "{counts:?}");
        let mut bad = cfg.clone();
        bad.policies[1].policy.rnn_hidden = 128;
        let err = bad.validate().unwrap_err().to_string();
        assert!(err.contains("not matched within 10 %") && err.contains("gru"), "{err}");
        bad.param_tolerance = 100.0;
        bad.validate().unwrap();
        let mut rnn = cfg.clone();
        rnn.policies[1].policy.kind = PolicyKind::Rnn;
        assert!(rnn.validate().unwrap_err().to_string().contains("not part of the study"));
    }

    #[test]
    fn fixed_sets_are_inside_the_training_range_and_pinned() {
        let bc: PlanarBipedConfig = parse_config(DR_ENV, &serde_json::json!({})).unwrap();
        let sets = fixed_sets(&bc, 10, 1);
        assert_eq!(sets.len(), 10);
        assert!(sets.iter().all(|p| bc.distribution.contains(p)));
        assert_ne!(sets[0], sets[1]);
        assert_eq!(sets, fixed_sets(&bc, 10, 1), "same seed, same sets");
        let o = pin_all(&sets[3]);
        assert_eq!(o.values.len(), PARAMS.len());
        assert_eq!(o.get("foot_friction"), Some(sets[3].foot_friction));
    }
}
