//! One job of the sim-to-real study: training (resumable), evaluation on every condition
//! (`eval.json`) and the system-identification probe (`sysid.json`), each skipped when done.

use super::{Sim2RealJob, DR_ENV, EVAL_FILE, EVAL_SEED_OFFSET, HELD_OUT};
use crate::checkpoint::{self, LoadedPolicy};
use crate::error::AgentError;
use crate::inspect::sysid_report as sysid_probe;
use crate::policy::{ActMode, ActorCritic, Policy};
use crate::rollout::{run_policy, EpisodeSpec, StepView};
use crate::run::{train_to_end, Progress};
use crate::study::Job;
use engram_envs::registry::parse_config;
use engram_envs::tasks::biped::{self, PlanarBipedConfig};
use engram_envs::{Env, ResetOptions};
use engram_sim::biped::{DynamicsParams, PARAMS};
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Returns, falls and times to fall of the episodes of one condition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConditionEval {
    /// One of [`super::CONDITIONS`].
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
    /// Per condition, in [`super::CONDITIONS`] order.
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
    let spec = EpisodeSpec::seeded(n, seed).with_options(options);
    let r = run_policy(policy, env, &cfg, &spec, ActMode::Deterministic, &mut |v: &StepView<'_, dyn Env>| {
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
        "policy": cfg.policy.kind.as_str(),
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
