//! One job of the sim-to-real study: training (resumable), evaluation on every condition
//! (`eval.json`), the system-identification probe (`sysid.json`) and Siekmann's decoder
//! (`siekmann.json`), each skipped when done.

use super::gait::{finite_mean, GaitObserver};
use super::{Sim2RealJob, DR_ENV, EVAL_FILE, EVAL_SEED_OFFSET, HELD_OUT};
use crate::checkpoint::{self, LoadedPolicy};
use crate::error::AgentError;
use crate::inspect::siekmann;
use crate::inspect::sysid_report as sysid_probe;
use crate::policy::{ActMode, ActorCritic, Policy};
use crate::rollout::{run, EpisodeSpec, PolicyActor};
use crate::run::{train_to_end, Progress};
use crate::study::{Job, Plan};
use engram_envs::registry::{self, parse_config, MAX_EPISODE_STEPS_KEY};
use engram_envs::tasks::biped::{self, PlanarBipedConfig};
use engram_envs::ResetOptions;
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
    /// Mean forward speed of each episode (torso displacement over duration), m/s.
    #[serde(default)]
    pub forward_speed_m_s: Vec<f64>,
    /// Distance per foot touchdown of each episode, m (null without touchdowns).
    #[serde(default, with = "engram_envs::serde_nan::vec_f64_or_null")]
    pub step_length_m: Vec<f64>,
    /// Foot touchdowns per second of each episode.
    #[serde(default)]
    pub cadence_hz: Vec<f64>,
    /// Mean forward speed over the episodes, m/s.
    #[serde(default)]
    pub forward_speed_mean_m_s: f64,
    /// Mean step length over the episodes with touchdowns, m (NaN if none).
    #[serde(default, with = "engram_envs::serde_nan::f64_or_null")]
    pub step_length_mean_m: f64,
    /// Mean cadence over the episodes, touchdowns/s.
    #[serde(default)]
    pub cadence_mean_hz: f64,
}

impl ConditionEval {
    /// One line: return, fall rate, time to fall and gait.
    pub fn summary(&self) -> String {
        format!(
            "{} on {}: {} episodes, mean return {:.1}, fall rate {:.3}, time to fall {:.2} s, forward speed {:.3} m/s, step length {:.3} m, cadence {:.2} steps/s",
            self.condition,
            self.env,
            self.returns.len(),
            self.return_mean,
            self.fall_rate,
            self.time_to_fall_s,
            self.forward_speed_mean_m_s,
            self.step_length_mean_m,
            self.cadence_mean_hz
        )
    }
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

/// Runs `policy` deterministically on `n` episodes of the walker `env` (any PlanarBiped id,
/// config `env_config`) seeded from `seed`, with reset options `options`: returns, falls,
/// times to fall and gait metrics.
pub fn walk_eval(
    policy: &LoadedPolicy,
    condition: &str,
    env: &str,
    env_config: &serde_json::Value,
    n: usize,
    seed: u64,
    options: impl Fn(usize) -> ResetOptions,
) -> Result<ConditionEval, AgentError> {
    let mut cfg = env_config.clone();
    // The registry's time limit (or the config's), applied by the rollout: the walker is
    // built without the TimeLimit wrapper so that the observer sees its link poses.
    let limit = match cfg.as_object_mut().and_then(|m| m.remove(MAX_EPISODE_STEPS_KEY)) {
        Some(v) => v.as_u64().map(|n| n as usize),
        None => registry::spec(env)?.max_episode_steps,
    };
    let spec = EpisodeSpec::seeded(n, seed).with_options(options).with_max_steps(limit);
    let lanes = spec.lanes.unwrap_or(spec.n).min(spec.n).max(1);
    let mut envs =
        (0..lanes).map(|_| biped::make_planar_biped(env, &cfg).map(Box::new)).collect::<Result<Vec<_>, _>>()?;
    let control_dt_s = envs[0].control_dt_s();
    let mut actor = PolicyActor::new(policy, ActMode::Deterministic, (spec.seed)(0));
    let mut obs = GaitObserver::new(n, control_dt_s);
    let r = run(&mut envs, &mut actor, &spec, &mut obs)?;
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let ttf: Vec<f64> = r.lengths.iter().map(|&l| l as f64 * control_dt_s).collect();
    let gaits = obs.gaits();
    let speed: Vec<f64> = gaits.iter().map(|g| g.forward_speed_m_s()).collect();
    let step: Vec<f64> = gaits.iter().map(|g| g.step_length_m()).collect();
    let cadence: Vec<f64> = gaits.iter().map(|g| g.cadence_hz()).collect();
    Ok(ConditionEval {
        condition: condition.into(),
        env: env.into(),
        return_mean: r.mean,
        fall_rate: obs.fell.iter().filter(|&&f| f).count() as f64 / n as f64,
        time_to_fall_s: mean(&ttf),
        returns: r.returns,
        fell: obs.fell,
        time_to_fall_steps: r.lengths,
        forward_speed_mean_m_s: mean(&speed),
        step_length_mean_m: finite_mean(&step),
        cadence_mean_hz: mean(&cadence),
        forward_speed_m_s: speed,
        step_length_m: step,
        cadence_hz: cadence,
    })
}

/// Evaluates the trained policy of a job on every condition: [`super::CONDITIONS`], then each
/// held-out family at each of `eval.severities` (conditions named by [`severity_condition`]).
pub fn evaluate(policy: &LoadedPolicy, spec: &Sim2RealJob) -> Result<JobEval, AgentError> {
    let e = &spec.experiment.eval;
    let env_cfg = policy.config.env_config_json();
    let bc: PlanarBipedConfig = parse_config(DR_ENV, &env_cfg)?;
    let seed = spec.seed + EVAL_SEED_OFFSET;
    let none = |_: usize| ResetOptions::new();
    let robot = |k: usize| move |i: usize| ResetOptions::new().with(biped::keys::ROBOT, (i % k) as f64);
    let sets = fixed_sets(&bc, e.fixed_sets, e.fixed_set_seed);
    let per = e.episodes_per_fixed_set;
    let c = &env_cfg;
    let mut out = vec![walk_eval(policy, "train", &policy.config.env, c, e.episodes, seed, none)?];
    out.push(walk_eval(policy, "fixed", DR_ENV, c, sets.len() * per, seed, |i| pin_all(&sets[i / per]))?);
    let per_family = engram_sim::biped::ROBOTS_PER_FAMILY;
    for (k, id) in biped::REAL_FAMILY_IDS.iter().enumerate() {
        out.push(walk_eval(policy, HELD_OUT[k], id, c, e.episodes, seed, robot(per_family))?);
    }
    out.push(walk_eval(policy, "real", biped::REAL_ID, c, e.real_episodes, seed, robot(4 * per_family))?);
    for (k, id) in biped::REAL_FAMILY_IDS.iter().enumerate() {
        for &sev in &e.severities {
            let mut graded = env_cfg.clone();
            if let Some(m) = graded.as_object_mut() {
                m.insert("real_severity".into(), sev.into());
            }
            let name = severity_condition(HELD_OUT[k], sev);
            out.push(walk_eval(policy, &name, id, &graded, e.episodes, seed, robot(per_family))?);
        }
    }
    Ok(JobEval { conditions: out })
}

/// Name of the condition "family `family` at severity `s`", e.g. `R1@0.50`.
pub fn severity_condition(family: &str, s: f64) -> String {
    format!("{family}@{s:.2}")
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
    let t3 = std::time::Instant::now();
    if spec.experiment.probe_enabled {
        siekmann::decode_or_reuse(dir, &spec.experiment.siekmann)?;
    }
    let siekmann_s = t3.elapsed().as_secs_f64();
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
        "wall_s": {"train": train_s, "eval": eval_s, "probe": probe_s, "siekmann": siekmann_s},
    }))
}

/// Writes the `siekmann.json` of every job of the plan that lacks one (a job finished by an
/// engram without the decoder): its trained policy is there, so nothing is retrained. Jobs of
/// a study with the probes off are left alone.
pub fn complete_outputs(plan: &Plan, dir: &Path) -> Result<(), AgentError> {
    for job in &plan.jobs {
        let spec: Sim2RealJob =
            toml::from_str(&job.config).map_err(|e| AgentError::Config(format!("job {}: {e}", job.id)))?;
        let jd = dir.join(&job.out_dir);
        if spec.experiment.probe_enabled && siekmann::read_report(&jd).is_none() {
            eprintln!("{}: Siekmann's decoder ({} episodes)", job.id, spec.experiment.siekmann.episodes);
            siekmann::decode_or_reuse(&jd, &spec.experiment.siekmann)
                .map_err(|e| AgentError::Study(format!("job {}: siekmann decoder: {e}", job.id)))?;
        }
    }
    Ok(())
}
