//! Running a policy on the eight centre-out targets and collecting the hand paths.

use super::controller::Controller;
use engram_envs::env::{Env, ResetOptions};
use engram_envs::error::EnvResult;
use engram_envs::tasks::reach::{TrialMetrics, TrialRecorder};
use serde::Serialize;

/// Safety cap on the steps of one trial (the task ends its trials well before).
const MAX_TRIAL_STEPS: usize = 1000;

/// One centre-out block: a trial per target, no catch trials.
#[derive(Debug, Clone, Serialize)]
pub struct CentreOutRun {
    /// Env id.
    pub env: String,
    /// Controller name.
    pub controller: String,
    /// Signed curl strength of the block (0 without a curl), N·s/m.
    pub field_b: f64,
    /// Start position, m.
    pub start: [f64; 2],
    /// Target positions, m.
    pub targets: Vec<[f64; 2]>,
    /// Hand path of each trial from the go cue on, m.
    pub paths: Vec<Vec<[f64; 2]>>,
    /// Metrics of each trial.
    pub metrics: Vec<TrialMetrics>,
}

/// Runs `controller` once to each of `n_targets` targets. `options` (the field, for instance)
/// are passed to every reset together with `target` and `catch = 0`; the go-cue delay is
/// fixed at 0.5 s so that blocks compare. Trial `i` is seeded with `seed + i`.
pub fn run_centre_out(
    env: &mut dyn Env,
    controller: &mut dyn Controller,
    options: &ResetOptions,
    n_targets: usize,
    seed: u64,
    dt_s: f64,
    target_radius_m: f64,
) -> EnvResult<CentreOutRun> {
    let mut run = CentreOutRun {
        env: env.id().to_string(),
        controller: controller.name().to_string(),
        field_b: 0.0,
        start: [0.0; 2],
        targets: vec![],
        paths: vec![],
        metrics: vec![],
    };
    let mut action = vec![0.0f32; env.action_space().flat_dim()];
    let mut rec = TrialRecorder::new(dt_s, target_radius_m);
    for target in 0..n_targets {
        let mut opts = options.clone();
        opts.values.insert("target".into(), target as f64);
        opts.values.insert("catch".into(), 0.0);
        opts.values.insert("delay_s".into(), 0.5);
        let (mut obs, mut info) = env.reset(Some(seed + target as u64), &opts)?;
        controller.reset();
        rec.clear();
        rec.push(&info);
        let mut field_b: f64 = 0.0;
        for _ in 0..MAX_TRIAL_STEPS {
            controller.act(&obs, &info, &mut action);
            let o = env.step_into(&action, &mut obs, &mut info)?;
            rec.push(&info);
            field_b = info.get("field_b").unwrap_or(field_b);
            if o.done() {
                break;
            }
        }
        let m = rec.metrics();
        let go = info.get("go_step").unwrap_or(0.0);
        let path = rec.path.iter().zip(&rec.steps).filter(|(_, &t)| t >= go).map(|(p, _)| *p).collect();
        run.start = rec.start();
        run.targets.push(rec.target());
        run.paths.push(path);
        run.metrics.push(m);
        run.field_b = field_b;
    }
    Ok(run)
}
