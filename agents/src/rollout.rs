//! The rollout engine: runs whole episodes of any env with any actor (a trained policy, a
//! scripted or baseline controller) and hands every reset and transition to an observer.
//! Evaluation, recording, preparatory-state recording, the centre-out and walker figures and
//! `engram rollout` all run on [`run`]; training steps [`engram_envs::VectorEnv`].
//!
//! Episodes run in waves of `lanes` envs (the whole batch by default): every env of a wave is
//! reset with its episode's seed and options, the actor is called once per step for the whole
//! wave (so a batched policy sees the same batch whatever the observer does), finished
//! episodes stop stepping, and the wave ends when all have finished or reached the step cap.
//! Given the same spec, the results do not depend on anything else.

use crate::controller::Controller;
use crate::error::AgentError;
use crate::policy::{ActMode, ActOutput, HiddenState, Policy};
use crate::stats;
use engram_envs::{make_with, BoxEnv, Env, Info, ResetOptions};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// The info key an env sets to 1 on a successful episode end.
pub const SUCCESS_KEY: &str = "success";

/// Which episodes to run: episode `i` is reset with `seed(i)` and `options(i)`.
pub struct EpisodeSpec<'a> {
    /// Number of episodes.
    pub n: usize,
    /// Seed of episode `i`.
    pub seed: Box<dyn Fn(usize) -> u64 + 'a>,
    /// Reset options of episode `i`.
    pub options: Box<dyn Fn(usize) -> ResetOptions + 'a>,
    /// Cap on the steps of every episode (a capped episode ends without a done flag).
    pub max_steps: Option<usize>,
    /// Episodes run together (one batched actor call per step); `None`: all `n`.
    pub lanes: Option<usize>,
}

impl<'a> EpisodeSpec<'a> {
    /// `n` episodes, episode `i` seeded `base + i`, default options, all at once.
    pub fn seeded(n: usize, base: u64) -> Self {
        Self {
            n,
            seed: Box::new(move |i| base.wrapping_add(i as u64)),
            options: Box::new(|_| ResetOptions::default()),
            max_steps: None,
            lanes: None,
        }
    }
    /// Per-episode seeds.
    pub fn with_seeds(mut self, seed: impl Fn(usize) -> u64 + 'a) -> Self {
        self.seed = Box::new(seed);
        self
    }
    /// Per-episode reset options.
    pub fn with_options(mut self, options: impl Fn(usize) -> ResetOptions + 'a) -> Self {
        self.options = Box::new(options);
        self
    }
    /// A cap on every episode's steps.
    pub fn with_max_steps(mut self, max_steps: Option<usize>) -> Self {
        self.max_steps = max_steps;
        self
    }
    /// At most `lanes` episodes at once (1: one after the other).
    pub fn with_lanes(mut self, lanes: usize) -> Self {
        self.lanes = Some(lanes);
        self
    }
}

/// Something that acts in a wave of `lanes` envs.
pub trait Actor {
    /// A new wave of `lanes` episodes starts (fresh hidden states).
    fn begin(&mut self, lanes: usize);
    /// Writes the actions `[lanes, act_dim]` for the observations `[lanes, obs_dim]` and the
    /// infos of the last step (or reset) of each lane.
    fn act(&mut self, obs: &[f32], infos: &[Info], actions: &mut [f32]);
    /// The hidden state `[lanes, width]` after the last [`Actor::act`] (empty when memoryless).
    fn state(&self) -> &[f32] {
        &[]
    }
    /// Width of one lane's hidden state.
    fn state_width(&self) -> usize {
        0
    }
    /// Value estimates `[lanes]` of the last [`Actor::act`] (empty when the actor has none).
    fn values(&self) -> &[f32] {
        &[]
    }
    /// Most lanes the actor can run at once.
    fn max_lanes(&self) -> usize {
        usize::MAX
    }
}

/// A [`Policy`] as an [`Actor`]: one batched call per step, hidden states zeroed at every
/// wave, one RNG (seeded once) for sampled actions across the whole run.
pub struct PolicyActor<'p> {
    policy: &'p dyn Policy,
    mode: ActMode,
    rng: ChaCha8Rng,
    state: HiddenState,
    out: ActOutput,
}

impl<'p> PolicyActor<'p> {
    /// `policy` acting in `mode`, sampling (if it does) from an RNG seeded with `rng_seed`.
    pub fn new(policy: &'p dyn Policy, mode: ActMode, rng_seed: u64) -> Self {
        Self {
            policy,
            mode,
            rng: ChaCha8Rng::seed_from_u64(rng_seed),
            state: policy.initial_state(1),
            out: ActOutput::default(),
        }
    }
    /// The full hidden state (with its named slots).
    pub fn hidden(&self) -> &HiddenState {
        &self.state
    }
}

impl Actor for PolicyActor<'_> {
    fn begin(&mut self, lanes: usize) {
        self.state = self.policy.initial_state(lanes);
    }
    fn act(&mut self, obs: &[f32], _infos: &[Info], actions: &mut [f32]) {
        self.policy.act(obs, &mut self.state, self.mode, &mut self.rng, &mut self.out);
        actions.copy_from_slice(&self.out.actions[..actions.len()]);
    }
    fn state(&self) -> &[f32] {
        &self.state.data
    }
    fn state_width(&self) -> usize {
        self.state.width
    }
    fn values(&self) -> &[f32] {
        &self.out.values
    }
}

/// A one-env [`Controller`] as an [`Actor`] (one lane at a time).
pub struct ControllerActor<'c>(pub &'c mut dyn Controller);

impl Actor for ControllerActor<'_> {
    fn begin(&mut self, _lanes: usize) {
        self.0.reset();
    }
    fn act(&mut self, obs: &[f32], infos: &[Info], actions: &mut [f32]) {
        self.0.act(obs, &infos[0], actions);
    }
    fn max_lanes(&self) -> usize {
        1
    }
}

/// One transition as the engine hands it to an [`Observer`].
pub struct StepView<'a, E: ?Sized> {
    /// Episode index.
    pub episode: usize,
    /// Step index in the episode (0 for the first step).
    pub t: usize,
    /// Observation the action was taken on, `[obs_dim]`.
    pub obs: &'a [f32],
    /// Hidden-state row entering the step (empty when memoryless).
    pub state: &'a [f32],
    /// Hidden-state row after reading `obs` (the state "at" this step).
    pub state_after: &'a [f32],
    /// Action taken.
    pub action: &'a [f32],
    /// Value estimate (NaN when the actor has none).
    pub value: f32,
    /// Reward received.
    pub reward: f64,
    /// Terminal state reached.
    pub terminated: bool,
    /// Time limit reached.
    pub truncated: bool,
    /// Info after the step.
    pub info: &'a Info,
    /// The env after the step (for env-specific state, e.g. the walker's link poses).
    pub env: &'a E,
}

/// What the engine reports to: every reset, every transition, every episode end.
pub trait Observer<E: ?Sized> {
    /// Episode `episode` was reset to `obs` with `info`.
    fn reset(&mut self, _episode: usize, _obs: &[f32], _info: &Info, _env: &E) {}
    /// One transition.
    fn step(&mut self, _s: &StepView<'_, E>) {}
}

/// Any closure over transitions is an observer that ignores resets.
impl<E: ?Sized, F: FnMut(&StepView<'_, E>)> Observer<E> for F {
    fn step(&mut self, s: &StepView<'_, E>) {
        self(s)
    }
}

/// Returns, lengths and success of the episodes of a run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EvalResult {
    /// Episode returns, in episode order.
    pub returns: Vec<f64>,
    /// Episode lengths.
    pub lengths: Vec<u64>,
    /// Mean return.
    pub mean: f64,
    /// Sample standard deviation of the returns (NaN for one episode).
    #[serde(with = "engram_envs::serde_nan::f64_or_null")]
    pub std: f64,
    /// Half-width of the 95 % Student-t interval of the mean return over episodes (NaN for
    /// one episode).
    #[serde(with = "engram_envs::serde_nan::f64_or_null")]
    pub ci95: f64,
    /// Fraction of episodes whose last step reported `info["success"] = 1`, for envs that
    /// report success (the reaching task); `None` otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_rate: Option<f64>,
}

impl EvalResult {
    /// The text `engram eval` prints for the episodes seeded `seed..`: mean return with its
    /// interval, and the success rate where the env reports one.
    pub fn summary(&self, what: &str, seed: u64) -> String {
        let n = self.returns.len();
        let mut s = format!(
            "{what}: mean return {:.2} ± {:.2} (95% CI, {n} episodes, seeds {seed}..{})\n",
            self.mean,
            self.ci95,
            seed + n as u64
        );
        if let Some(rate) = self.success_rate {
            s.push_str(&format!(
                "success rate {:.1} % ({} of {n} episodes)\n",
                100.0 * rate,
                (rate * n as f64).round()
            ));
        }
        s
    }
}

/// Runs the episodes of `spec` on `envs` (one env per lane; a wave uses the first `lanes` of
/// them) with `actor`, reporting to `observer`; returns the episodes' returns and lengths.
pub fn run<E: Env + ?Sized>(
    envs: &mut [Box<E>],
    actor: &mut dyn Actor,
    spec: &EpisodeSpec,
    observer: &mut dyn Observer<E>,
) -> Result<EvalResult, AgentError> {
    let (od, al) = match envs.first() {
        Some(e) => (e.observation_space().flat_dim(), e.action_space().flat_dim()),
        None => return Err(AgentError::Config("rollout: no envs (need at least 1)".into())),
    };
    let lanes = spec.lanes.unwrap_or(spec.n).min(envs.len()).min(actor.max_lanes()).max(1);
    let (mut returns, mut lengths) = (vec![0.0f64; spec.n], vec![0u64; spec.n]);
    let (mut successes, mut reports_success) = (0usize, false);
    let mut obs = vec![0.0f32; lanes * od];
    let mut obs_before = vec![0.0f32; lanes * od];
    let mut infos = vec![Info::new(); lanes];
    let mut actions = vec![0.0f32; lanes * al];
    let mut prev_state: Vec<f32> = vec![];
    let mut first = 0;
    while first < spec.n {
        let w = lanes.min(spec.n - first);
        for l in 0..w {
            let ep = first + l;
            let row = l * od..(l + 1) * od;
            envs[l].reset_into(Some((spec.seed)(ep)), &(spec.options)(ep), &mut obs[row.clone()], &mut infos[l])?;
            observer.reset(ep, &obs[row], &infos[l], &envs[l]);
        }
        actor.begin(w);
        let mut active = vec![spec.max_steps != Some(0); w];
        while active.iter().any(|&a| a) {
            prev_state.clear();
            prev_state.extend_from_slice(actor.state());
            obs_before[..w * od].copy_from_slice(&obs[..w * od]);
            actor.act(&obs_before[..w * od], &infos[..w], &mut actions[..w * al]);
            let width = actor.state_width();
            for l in 0..w {
                if !active[l] {
                    continue;
                }
                let ep = first + l;
                let a = &actions[l * al..(l + 1) * al];
                let o = envs[l].step_into(a, &mut obs[l * od..(l + 1) * od], &mut infos[l])?;
                observer.step(&StepView {
                    episode: ep,
                    t: lengths[ep] as usize,
                    obs: &obs_before[l * od..(l + 1) * od],
                    state: lane_row(&prev_state, l, width),
                    state_after: lane_row(actor.state(), l, width),
                    action: a,
                    value: actor.values().get(l).copied().unwrap_or(f32::NAN),
                    reward: o.reward,
                    terminated: o.terminated,
                    truncated: o.truncated,
                    info: &infos[l],
                    env: &envs[l],
                });
                returns[ep] += o.reward;
                lengths[ep] += 1;
                if o.done() || spec.max_steps.is_some_and(|m| lengths[ep] as usize >= m) {
                    active[l] = false;
                    if let Some(s) = infos[l].get(SUCCESS_KEY) {
                        reports_success = true;
                        successes += (s == 1.0) as usize;
                    }
                }
            }
        }
        first += w;
    }
    let s = stats::summarize(&returns, stats::DEFAULT_LEVEL)?;
    let success_rate = reports_success.then(|| successes as f64 / spec.n as f64);
    Ok(EvalResult { ci95: s.half_width, std: s.std_dev, mean: s.mean, returns, lengths, success_rate })
}

/// Lane `l`'s row of a `[lanes, width]` buffer (empty when the buffer has no such row).
fn lane_row(v: &[f32], l: usize, width: usize) -> &[f32] {
    v.get(l * width..(l + 1) * width).unwrap_or(&[])
}

/// Builds the envs for `spec` (`lanes` of them) of `env_id` with its config.
pub fn make_envs(env_id: &str, env_config: &serde_json::Value, spec: &EpisodeSpec) -> Result<Vec<BoxEnv>, AgentError> {
    let n = spec.lanes.unwrap_or(spec.n).min(spec.n).max(1);
    Ok((0..n).map(|_| make_with(env_id, env_config)).collect::<Result<_, _>>()?)
}

/// Runs `policy` on the episodes of `spec` of `env_id` in `mode` (sampling from an RNG seeded
/// with episode 0's seed), reporting every transition to `observer`.
pub fn run_policy(
    policy: &dyn Policy,
    env_id: &str,
    env_config: &serde_json::Value,
    spec: &EpisodeSpec,
    mode: ActMode,
    observer: &mut dyn Observer<dyn Env>,
) -> Result<EvalResult, AgentError> {
    let mut envs = make_envs(env_id, env_config, spec)?;
    let mut actor = PolicyActor::new(policy, mode, (spec.seed)(0));
    run(&mut envs, &mut actor, spec, observer)
}

/// [`run_policy`] without an observer: the evaluation of a policy.
pub fn evaluate(
    policy: &dyn Policy,
    env_id: &str,
    env_config: &serde_json::Value,
    spec: &EpisodeSpec,
    mode: ActMode,
) -> Result<EvalResult, AgentError> {
    run_policy(policy, env_id, env_config, spec, mode, &mut |_: &StepView<'_, dyn Env>| {})
}
