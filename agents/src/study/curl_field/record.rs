//! Deterministic centre-out evaluation of a recurrent policy on the reaching task, recording
//! what the preparatory-subspace probe needs: per target, the hidden state before the go cue,
//! the initial hand force (early-movement acceleration) and the behaviour metrics.

use crate::error::AgentError;
use crate::policy::{ActMode, HiddenState, Policy};
use crate::rollout::{self, EpisodeSpec, Observer, PolicyActor, StepView};
use engram_envs::prelude::*;
use engram_envs::tasks::reach::{info_keys as k, FieldKind, TrialMetrics, TrialRecorder};
use serde::{Deserialize, Serialize};

/// Steps averaged before the go cue for the preparatory state ("last 5 steps", 50 ms).
pub const PREP_STEPS: usize = 5;
/// Half-width in steps of the go-cue window (±50 ms at 10 ms steps).
pub const GO_WINDOW_STEPS: usize = 5;
/// Steps after the go cue over which the initial hand acceleration is averaged (100 ms).
pub const FORCE_STEPS: usize = 10;
/// Go-cue delay of recorded trials, s: fixed so that every recording compares.
pub const RECORD_DELAY_S: f64 = 0.5;
/// Safety cap on the steps of one trial.
const MAX_TRIAL_STEPS: usize = 2000;

/// Reset options of a recorded trial to `target`: the given field options, no catch trial,
/// and the fixed go-cue delay [`RECORD_DELAY_S`] (every recording and probe uses these).
fn recorded_trial(field: ResetOptions, target: usize) -> ResetOptions {
    field.with("target", target as f64).with("catch", 0.0).with("delay_s", RECORD_DELAY_S)
}

/// One recording of all targets at one checkpoint. Shapes in the field docs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrepRecord {
    /// PPO update at which the policy was recorded.
    pub update: usize,
    /// Protocol phase name (`baseline`, `learning`, ...).
    pub phase: String,
    /// Signed curl strength during the recorded trials, N·s/m.
    #[serde(with = "engram_envs::serde_nan::f64_or_null")]
    pub field_b: f64,
    /// Width of the recorded hidden state (the actor's last recurrent layer, `h`).
    pub hidden: usize,
    /// Mean hidden state over the last [`PREP_STEPS`] steps before the go cue, averaged over
    /// repeats: `[n_targets, hidden]`.
    #[serde(with = "engram_envs::serde_nan::vec_f64_or_null")]
    pub prep_last: Vec<f64>,
    /// Mean hidden state over go ± [`GO_WINDOW_STEPS`]: `[n_targets, hidden]`.
    #[serde(with = "engram_envs::serde_nan::vec_f64_or_null")]
    pub prep_go: Vec<f64>,
    /// Mean hand acceleration over the first [`FORCE_STEPS`] after the go cue (force per unit
    /// mass), m/s²: `[n_targets, 2]`.
    #[serde(with = "engram_envs::serde_nan::vec_f64_or_null")]
    pub init_force: Vec<f64>,
    /// Signed maximum lateral deviation per target (mean over repeats), m: `[n_targets]`.
    #[serde(with = "engram_envs::serde_nan::vec_f64_or_null")]
    pub max_lateral_deviation_m: Vec<f64>,
    /// Angular error at peak velocity per target, degrees: `[n_targets]`.
    #[serde(with = "engram_envs::serde_nan::vec_f64_or_null")]
    pub angular_error_deg: Vec<f64>,
    /// Endpoint error per target, m: `[n_targets]`.
    #[serde(with = "engram_envs::serde_nan::vec_f64_or_null")]
    pub endpoint_error_m: Vec<f64>,
    /// Success rate per target: `[n_targets]`.
    #[serde(with = "engram_envs::serde_nan::vec_f64_or_null")]
    pub success_rate: Vec<f64>,
    /// Hand paths of the first repeat from the go cue on, per target: `[n_targets][T][2]`.
    pub paths: Vec<Vec<[f64; 2]>>,
    /// Start position, m.
    pub start: [f64; 2],
    /// Target positions, m: `[n_targets][2]`.
    pub targets: Vec<[f64; 2]>,
    /// Metrics of the first repeat's trial per target (for figures).
    pub trials: Vec<TrialMetrics>,
    /// Metrics of every recorded trial (all repeats), for the kinematics per seed.
    #[serde(default)]
    pub kinematics: Vec<TrialMetrics>,
    /// Hand speed of the first repeat per target from the go cue on, m/s, one sample per
    /// control step: `[n_targets][T]`.
    #[serde(default)]
    pub speeds: Vec<Vec<f64>>,
    /// Force-channel adaptation index on the trained target (see
    /// [`TrialRecorder::adaptation_index`]; mean over repeats), or NaN if not recorded.
    #[serde(default = "nan", with = "engram_envs::serde_nan::f64_or_null")]
    pub adaptation_index: f64,
}

fn nan() -> f64 {
    f64::NAN
}

/// Which part of the hidden state is the "preparatory state": the actor's last recurrent
/// layer's `h` (offset, width). Memoryless policies have none.
pub fn actor_h_slot(state: &HiddenState) -> Option<(usize, usize)> {
    state
        .slots
        .iter()
        .filter(|s| s.name.starts_with("actor.") && s.name.ends_with(".h"))
        .max_by(|a, b| a.name.cmp(&b.name))
        .map(|s| (s.offset, s.len))
}

/// What one recording collects while the engine runs its trials.
struct PrepObserver<'a> {
    rec: &'a mut PrepRecord,
    off: usize,
    width: usize,
    repeats: usize,
    scale: f64,
    dt_s: f64,
    go: usize,
    trace: Vec<Vec<f32>>,
    vel: Vec<[f64; 2]>,
    recorder: TrialRecorder,
}

impl PrepObserver<'_> {
    /// Folds the finished trial `episode` (target `episode / repeats`) into the record.
    fn finish(&mut self, episode: usize) {
        let (t, r) = (episode / self.repeats, episode % self.repeats);
        let (go, scale, width) = (self.go, self.scale, self.width);
        let trace = &self.trace;
        let avg_into = |dst: &mut [f64], lo: usize, hi: usize| {
            let hi = hi.min(trace.len());
            let lo = lo.min(hi.saturating_sub(1));
            let n = (hi - lo).max(1) as f64;
            for row in &trace[lo..hi] {
                for (d, &v) in dst.iter_mut().zip(row) {
                    *d += scale * v as f64 / n;
                }
            }
        };
        let rec = &mut *self.rec;
        avg_into(&mut rec.prep_last[t * width..(t + 1) * width], go.saturating_sub(PREP_STEPS), go);
        avg_into(
            &mut rec.prep_go[t * width..(t + 1) * width],
            go.saturating_sub(GO_WINDOW_STEPS),
            go + GO_WINDOW_STEPS,
        );
        // vel[s] is the velocity after step s; acceleration over the first FORCE_STEPS.
        let vel = &self.vel;
        if let (Some(v0), Some(v1)) =
            (vel.get(go.saturating_sub(1)), vel.get((go + FORCE_STEPS).min(vel.len().saturating_sub(1))))
        {
            let dt = FORCE_STEPS as f64 * self.dt_s;
            rec.init_force[2 * t] += scale * (v1[0] - v0[0]) / dt;
            rec.init_force[2 * t + 1] += scale * (v1[1] - v0[1]) / dt;
        }
        let m = self.recorder.metrics();
        rec.max_lateral_deviation_m[t] += scale * m.max_lateral_deviation_m;
        rec.angular_error_deg[t] += scale * m.angular_error_at_peak_velocity_deg;
        rec.endpoint_error_m[t] += scale * m.endpoint_error_m;
        rec.success_rate[t] += scale * (m.success as u8 as f64);
        rec.kinematics.push(m);
        if r == 0 {
            let go = self.recorder.steps.iter().position(|&s| s >= go as f64).unwrap_or(0);
            rec.speeds[t] = self.recorder.velocity[go..].iter().map(|v| v[0].hypot(v[1])).collect();
            rec.paths[t] = self.recorder.path.clone();
            rec.start = self.recorder.start();
            rec.targets[t] = self.recorder.target();
            rec.trials.push(m);
        }
    }
}

impl Observer<dyn Env> for PrepObserver<'_> {
    fn reset(&mut self, _episode: usize, _obs: &[f32], info: &Info, _env: &dyn Env) {
        self.go = info.get(k::GO_STEP).unwrap_or(0.0) as usize;
        self.trace.clear();
        self.vel.clear();
        self.recorder.clear();
    }
    fn step(&mut self, s: &StepView<'_, dyn Env>) {
        // The state after reading observation s is the state "at step s".
        self.trace.push(s.state_after[self.off..self.off + self.width].to_vec());
        self.recorder.push(s.info);
        self.vel.push([s.info.get(k::HAND_VX).unwrap_or(0.0), s.info.get(k::HAND_VY).unwrap_or(0.0)]);
        if s.terminated || s.truncated || s.t + 1 >= MAX_TRIAL_STEPS {
            self.finish(s.episode);
        }
    }
}

/// Runs `repeats` trials to each of `n_targets` targets (no catch trials, go cue at
/// [`RECORD_DELAY_S`]) with deterministic actions, one trial at a time on the rollout engine;
/// observation noise still varies between repeats (repeat `r` of target `t` is seeded
/// `seed + 1000 r + t`). `field` holds the reset options of the phase (`field`, `field_b`).
#[allow(clippy::too_many_arguments)]
pub fn record_prep(
    policy: &dyn Policy,
    env: BoxEnv,
    field: &ResetOptions,
    n_targets: usize,
    repeats: usize,
    seed: u64,
    dt_s: f64,
    target_radius_m: f64,
) -> Result<PrepRecord, AgentError> {
    let probe = policy.initial_state(1);
    let (off, width) = actor_h_slot(&probe).unwrap_or((0, 0));
    let mut rec = PrepRecord {
        update: 0,
        phase: String::new(),
        field_b: field.get("field_b").unwrap_or(0.0),
        hidden: width,
        prep_last: vec![0.0; n_targets * width],
        prep_go: vec![0.0; n_targets * width],
        init_force: vec![0.0; n_targets * 2],
        max_lateral_deviation_m: vec![0.0; n_targets],
        angular_error_deg: vec![0.0; n_targets],
        endpoint_error_m: vec![0.0; n_targets],
        success_rate: vec![0.0; n_targets],
        paths: vec![vec![]; n_targets],
        start: [0.0; 2],
        targets: vec![[0.0; 2]; n_targets],
        trials: vec![],
        kinematics: vec![],
        speeds: vec![vec![]; n_targets],
        adaptation_index: f64::NAN,
    };
    let spec = EpisodeSpec::seeded(n_targets * repeats, seed)
        .with_seeds(|i| seed + 1000 * (i % repeats) as u64 + (i / repeats) as u64)
        .with_options(|i| recorded_trial(field.clone(), i / repeats))
        .with_max_steps(Some(MAX_TRIAL_STEPS))
        .with_lanes(1);
    let mut observer = PrepObserver {
        rec: &mut rec,
        off,
        width,
        repeats,
        scale: 1.0 / repeats as f64,
        dt_s,
        go: 0,
        trace: vec![],
        vel: vec![],
        recorder: TrialRecorder::new(dt_s, target_radius_m),
    };
    let mut actor = PolicyActor::new(policy, ActMode::Deterministic, seed);
    rollout::run(&mut [env], &mut actor, &spec, &mut observer)?;
    Ok(rec)
}

/// Force-channel (error-clamp) trials to target `target`: `repeats` deterministic trials with
/// the channel on (go cue at [`RECORD_DELAY_S`]), each seeded `seed + r`; returns the mean
/// adaptation index for a curl of signed strength `b_ns_m` (1 = the hand pushes against
/// the wall exactly as it would need to cancel that curl; 0 = no compensation).
#[allow(clippy::too_many_arguments)]
pub fn record_channel(
    policy: &dyn Policy,
    env: BoxEnv,
    target: usize,
    repeats: usize,
    seed: u64,
    b_ns_m: f64,
    dt_s: f64,
    target_radius_m: f64,
) -> Result<f64, AgentError> {
    struct Channel {
        rec: TrialRecorder,
        b: f64,
        index: Vec<f64>,
    }
    impl Observer<dyn Env> for Channel {
        fn reset(&mut self, _episode: usize, _obs: &[f32], info: &Info, _env: &dyn Env) {
            self.rec.clear();
            self.rec.push(info);
        }
        fn step(&mut self, s: &StepView<'_, dyn Env>) {
            self.rec.push(s.info);
            if s.terminated || s.truncated || s.t + 1 >= MAX_TRIAL_STEPS {
                self.index.push(self.rec.adaptation_index(self.b));
            }
        }
    }
    let spec = EpisodeSpec::seeded(repeats, seed)
        .with_options(move |_| recorded_trial(ResetOptions::new().with("field", FieldKind::Channel.code()), target))
        .with_max_steps(Some(MAX_TRIAL_STEPS))
        .with_lanes(1);
    let mut observer = Channel { rec: TrialRecorder::new(dt_s, target_radius_m), b: b_ns_m, index: vec![] };
    let mut actor = PolicyActor::new(policy, ActMode::Deterministic, seed);
    rollout::run(&mut [env], &mut actor, &spec, &mut observer)?;
    let finite: Vec<f64> = observer.index.into_iter().filter(|x| x.is_finite()).collect();
    Ok(if finite.is_empty() { f64::NAN } else { finite.iter().sum::<f64>() / finite.len() as f64 })
}

/// Hidden-state trajectories over the delay: one deterministic trial per target in the null
/// field (delay [`RECORD_DELAY_S`]; trial `t` seeded `seed + t`), the actor's last recurrent
/// `h` after each observation that shows the target before the go cue (from target onset to
/// the step before the go cue): `[n_targets][steps][hidden]`.
pub fn record_delay_trajectories(
    policy: &dyn Policy,
    env: BoxEnv,
    n_targets: usize,
    seed: u64,
) -> Result<Vec<Vec<Vec<f64>>>, AgentError> {
    use engram_envs::tasks::reach::env::phase;
    struct Delay {
        off: usize,
        width: usize,
        /// Trial phase of the observation the next step reads.
        obs_phase: f64,
        out: Vec<Vec<Vec<f64>>>,
    }
    impl Observer<dyn Env> for Delay {
        fn reset(&mut self, _episode: usize, _obs: &[f32], info: &Info, _env: &dyn Env) {
            self.obs_phase = info.get(k::PHASE).unwrap_or(f64::NAN);
            self.out.push(vec![]);
        }
        fn step(&mut self, s: &StepView<'_, dyn Env>) {
            if self.obs_phase == phase::DELAY {
                let h = &s.state_after[self.off..self.off + self.width];
                if let Some(tr) = self.out.last_mut() {
                    tr.push(h.iter().map(|&v| v as f64).collect());
                }
            }
            self.obs_phase = s.info.get(k::PHASE).unwrap_or(f64::NAN);
        }
    }
    let (off, width) = actor_h_slot(&policy.initial_state(1))
        .ok_or_else(|| AgentError::Study("delay trajectories need a recurrent policy".into()))?;
    let spec = EpisodeSpec::seeded(n_targets, seed)
        .with_options(|i| recorded_trial(ResetOptions::new().with("field", 0.0), i))
        .with_max_steps(Some(MAX_TRIAL_STEPS))
        .with_lanes(1);
    let mut observer = Delay { off, width, obs_phase: f64::NAN, out: vec![] };
    let mut actor = PolicyActor::new(policy, ActMode::Deterministic, seed);
    rollout::run(&mut [env], &mut actor, &spec, &mut observer)?;
    Ok(observer.out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{ActorCritic, PolicyConfig, PolicyKind};

    #[test]
    fn delay_trajectories_run_from_the_first_step_to_the_go_cue_and_depend_on_the_target() {
        // An untrained policy moves before the go cue; a wide tolerance keeps the trial going.
        let loose = serde_json::json!({"early_move_tolerance_m": 1.0});
        let make = || engram_envs::make_with("CurlReach-v0", &loose).unwrap();
        let env = make();
        let obs_dim = env.observation_space().flat_dim();
        let dist = crate::policy::dist::dist_for(env.action_space()).unwrap();
        let cfg = PolicyConfig { kind: PolicyKind::Gru, rnn_hidden: 6, hidden: vec![], ..Default::default() };
        let net = ActorCritic::new(&cfg, obs_dim, dist, 3);
        let reach = engram_envs::tasks::reach::task_config("CurlReach-v0", &loose).unwrap();
        let trajs = record_delay_trajectories(&net, env, 8, 11).unwrap();
        assert_eq!(trajs.len(), 8);
        let go_steps = (RECORD_DELAY_S / reach.dt_s).round() as usize;
        for tr in &trajs {
            // Target onset to go: within one step of the delay the env was asked for.
            assert!(tr.len().abs_diff(go_steps) <= 1, "{} steps for a {go_steps}-step delay", tr.len());
            assert!(tr.iter().all(|h| h.len() == 6 && h.iter().all(|v| v.is_finite())));
        }
        // The target is in the observation, so the states at the go cue differ between targets.
        let d: f64 = trajs[0].last().unwrap().iter().zip(trajs[4].last().unwrap()).map(|(a, b)| (a - b).abs()).sum();
        assert!(d > 1e-6, "targets 0 and 4 end the delay in the same state");
        // A memoryless policy has no state to record, and says so.
        let mlp = ActorCritic::new(
            &PolicyConfig { kind: PolicyKind::Mlp, hidden: vec![4], ..Default::default() },
            obs_dim,
            crate::policy::dist::dist_for(make().action_space()).unwrap(),
            3,
        );
        let err = record_delay_trajectories(&mlp, make(), 8, 11).unwrap_err();
        assert!(err.to_string().contains("recurrent"), "{err}");
    }
}
