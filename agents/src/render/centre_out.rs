//! Running a policy on the eight centre-out targets and collecting the hand paths.

use crate::controller::Controller;
use crate::error::AgentError;
use crate::rollout::{self, ControllerActor, EpisodeSpec, Observer, StepView};
use engram_envs::tasks::reach::{TrialMetrics, TrialRecorder};
use engram_envs::{BoxEnv, Env, Info, ResetOptions};
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

/// Collects one trial's path and metrics as the engine runs it.
struct CentreOutObserver<'a> {
    run: &'a mut CentreOutRun,
    rec: TrialRecorder,
    field_b: f64,
}

impl Observer<dyn Env> for CentreOutObserver<'_> {
    fn reset(&mut self, _episode: usize, _obs: &[f32], info: &Info, _env: &dyn Env) {
        self.rec.clear();
        self.rec.push(info);
        self.field_b = 0.0;
    }
    fn step(&mut self, s: &StepView<'_, dyn Env>) {
        self.rec.push(s.info);
        self.field_b = s.info.get("field_b").unwrap_or(self.field_b);
        if s.terminated || s.truncated || s.t + 1 >= MAX_TRIAL_STEPS {
            let go = s.info.get("go_step").unwrap_or(0.0);
            let path = self.rec.path.iter().zip(&self.rec.steps).filter(|(_, &t)| t >= go).map(|(p, _)| *p).collect();
            self.run.start = self.rec.start();
            self.run.targets.push(self.rec.target());
            self.run.paths.push(path);
            self.run.metrics.push(self.rec.metrics());
            self.run.field_b = self.field_b;
        }
    }
}

/// Runs `controller` once to each of `n_targets` targets on the rollout engine. `options`
/// (the field, for instance) are passed to every reset together with `target` and
/// `catch = 0`; the go-cue delay is fixed at 0.5 s so that blocks compare. Trial `i` is
/// seeded with `seed + i`.
pub fn run_centre_out(
    env: BoxEnv,
    controller: &mut dyn Controller,
    options: &ResetOptions,
    n_targets: usize,
    seed: u64,
    dt_s: f64,
    target_radius_m: f64,
) -> Result<CentreOutRun, AgentError> {
    let mut run = CentreOutRun {
        env: env.id().to_string(),
        controller: controller.name().to_string(),
        field_b: 0.0,
        start: [0.0; 2],
        targets: vec![],
        paths: vec![],
        metrics: vec![],
    };
    let spec = EpisodeSpec::seeded(n_targets, seed)
        .with_options(|target| {
            let mut opts = options.clone();
            opts.values.insert("target".into(), target as f64);
            opts.values.insert("catch".into(), 0.0);
            opts.values.insert("delay_s".into(), 0.5);
            opts
        })
        .with_max_steps(Some(MAX_TRIAL_STEPS))
        .with_lanes(1);
    let mut observer =
        CentreOutObserver { run: &mut run, rec: TrialRecorder::new(dt_s, target_radius_m), field_b: 0.0 };
    rollout::run(&mut [env], &mut ControllerActor(controller), &spec, &mut observer)?;
    Ok(run)
}
