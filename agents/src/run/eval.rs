//! Evaluation: mean return ± 95% confidence interval over seeded episodes.

use crate::error::AgentError;
use crate::policy::{ActMode, ActOutput, Policy};
use engram_envs::{make_with, BoxEnv, Info, ResetOptions};
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

/// The normal 97.5% quantile (95% two-sided confidence interval).
const Z_95: f64 = 1.959_963_985;

/// The info key an env sets to 1 on a successful episode end.
const SUCCESS_KEY: &str = "success";

/// Returns of `n` episodes and their summary.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EvalResult {
    /// Episode returns, episode `i` reset with seed `seed + i`.
    pub returns: Vec<f64>,
    /// Episode lengths.
    pub lengths: Vec<u64>,
    /// Mean return.
    pub mean: f64,
    /// Sample standard deviation.
    pub std: f64,
    /// Half-width of the normal 95% confidence interval of the mean.
    pub ci95: f64,
    /// Fraction of episodes whose last step reported `info["success"] = 1`, for envs that
    /// report success (the reaching task); `None` otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_rate: Option<f64>,
}

/// One transition as [`run_episodes`] hands it to its callback.
pub struct StepView<'a> {
    /// Episode index.
    pub episode: usize,
    /// Step index in the episode.
    pub t: usize,
    /// Observation the action was taken on.
    pub obs: &'a [f32],
    /// Hidden-state row entering the step.
    pub state: &'a [f32],
    /// Action taken.
    pub action: &'a [f32],
    /// Value estimate.
    pub value: f32,
    /// Reward received.
    pub reward: f64,
    /// Terminated / truncated.
    pub terminated: bool,
    /// Truncated.
    pub truncated: bool,
    /// Info after the step.
    pub info: &'a Info,
}

/// Runs `n` episodes (episode `i` reset with seed `seed + i`) with one batched policy call
/// per step, calling `on_step` for every transition in order of (step, episode).
pub fn run_episodes(
    policy: &dyn Policy,
    env_id: &str,
    env_config: &serde_json::Value,
    n: usize,
    seed: u64,
    mode: ActMode,
    on_step: impl FnMut(&StepView),
) -> Result<EvalResult, AgentError> {
    run_episodes_with(policy, env_id, env_config, n, seed, mode, |_| ResetOptions::default(), None, on_step)
}

/// [`run_episodes`] with reset options per episode (`options(i)` for episode `i`, e.g. pinned
/// dynamics parameters) and an optional cap on the steps of every episode (a capped episode
/// ends without a done flag; its length is the cap).
#[allow(clippy::too_many_arguments)]
pub fn run_episodes_with(
    policy: &dyn Policy,
    env_id: &str,
    env_config: &serde_json::Value,
    n: usize,
    seed: u64,
    mode: ActMode,
    options: impl Fn(usize) -> ResetOptions,
    max_steps: Option<usize>,
    mut on_step: impl FnMut(&StepView),
) -> Result<EvalResult, AgentError> {
    let mut envs: Vec<BoxEnv> = (0..n).map(|_| make_with(env_id, env_config)).collect::<Result<_, _>>()?;
    let od = policy.obs_dim();
    let al = policy.action_len();
    let mut obs = vec![0.0f32; n * od];
    let mut info = Info::new();
    for (i, env) in envs.iter_mut().enumerate() {
        env.reset_into(Some(seed + i as u64), &options(i), &mut obs[i * od..(i + 1) * od], &mut info)?;
    }
    let mut state = policy.initial_state(n);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut out = ActOutput::default();
    let mut active = vec![true; n];
    let (mut returns, mut lengths) = (vec![0.0f64; n], vec![0u64; n]);
    let (mut successes, mut reports_success) = (0usize, false);
    let mut prev_state = state.data.clone();
    while active.iter().any(|&a| a) {
        prev_state.copy_from_slice(&state.data);
        let obs_before = obs.clone();
        policy.act(&obs_before, &mut state, mode, &mut rng, &mut out);
        for i in 0..n {
            if !active[i] {
                continue;
            }
            let a = &out.actions[i * al..(i + 1) * al];
            let o = envs[i].step_into(a, &mut obs[i * od..(i + 1) * od], &mut info)?;
            on_step(&StepView {
                episode: i,
                t: lengths[i] as usize,
                obs: &obs_before[i * od..(i + 1) * od],
                state: &prev_state[i * state.width..(i + 1) * state.width],
                action: a,
                value: out.values[i],
                reward: o.reward,
                terminated: o.terminated,
                truncated: o.truncated,
                info: &info,
            });
            returns[i] += o.reward;
            lengths[i] += 1;
            if o.done() || max_steps.is_some_and(|m| lengths[i] as usize >= m) {
                active[i] = false;
                if let Some(s) = info.get(SUCCESS_KEY) {
                    reports_success = true;
                    successes += (s == 1.0) as usize;
                }
            }
        }
    }
    let mean = returns.iter().sum::<f64>() / n as f64;
    let std =
        if n > 1 { (returns.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt() } else { 0.0 };
    let success_rate = reports_success.then(|| successes as f64 / n as f64);
    Ok(EvalResult { ci95: Z_95 * std / (n as f64).sqrt(), returns, lengths, mean, std, success_rate })
}
