//! The PPO training loop: rollout, GAE, clipped-surrogate epochs, metrics.
//!
//! References: CleanRL `ppo_continuous_action.py` (MLP) and `ppo_atari_lstm.py` (recurrent),
//! sb3-contrib `RecurrentPPO`. The policy runs on a private one-thread rayon pool, so dfdx's
//! matmul never threads and results do not depend on the machine or on `env_threads`.

use super::adam::{clip_grad_norm, Adam};
use super::config::TrainConfig;
use super::gae::{bootstrap_truncated, gae};
use super::kl_reg::{KlReg, PrevStep};
use super::loss::{LossInput, LossStats, ShardExec};
use super::normalize::{RewardScaler, RunningMeanStd};
use crate::error::AgentError;
use crate::policy::actor_critic::SeqInput;
use crate::policy::dist::ActionDist;
use crate::policy::{ActMode, ActOutput, ActorCritic, HiddenState, Policy};
use engram_envs::{make_with, Autoreset, BoxEnv, EnvCursor, Execution, Seeding, VectorEnv};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Episodes in the rolling mean return.
pub const RETURN_WINDOW: usize = 100;

/// One line of `metrics.jsonl`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UpdateMetrics {
    /// Updates done (1-based).
    pub update: usize,
    /// Env steps so far.
    pub global_step: u64,
    /// Episodes finished so far.
    pub episodes: u64,
    /// Mean return of the last (up to) 100 finished episodes (NaN before the first).
    pub return_mean: f64,
    /// Mean length of the episodes finished during this update (NaN if none).
    pub ep_len_mean: f64,
    /// Learning rate used.
    pub learning_rate: f32,
    /// Mean total loss over the minibatches.
    pub loss: f32,
    /// Mean policy-gradient loss.
    pub pg_loss: f32,
    /// Mean value loss.
    pub v_loss: f32,
    /// Mean entropy.
    pub entropy: f32,
    /// Mean approximate KL (`(r − 1) − ln r`).
    pub approx_kl: f32,
    /// Mean fraction of clipped ratios.
    pub clip_frac: f32,
    /// Mean gradient norm before clipping.
    pub grad_norm: f32,
    /// Explained variance of the value predictions.
    pub explained_variance: f32,
    /// Epochs run (fewer than `n_epochs` after a KL early stop).
    pub epochs: usize,
    /// Mean zeroness regularizer `KL(π(·|s) ‖ N(0, σ̄²))` (weight not applied; written only
    /// while its weight is > 0, see `ppo.kl_ramp`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kl_zeroness: Option<f32>,
    /// Mean smoothness regularizer `KL(π(·|s_t) ‖ sg[π(·|s_{t−1})])` (weight not applied;
    /// written only while its weight is > 0, see `ppo.kl_ramp`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kl_smoothness: Option<f32>,
    /// Wall-clock seconds of the rollout (not written: timings differ between runs).
    #[serde(skip)]
    pub rollout_s: f64,
    /// Wall-clock seconds of the optimization phase (not written).
    #[serde(skip)]
    pub optimize_s: f64,
    /// Samples passed through forward and backward in this update (all epochs).
    #[serde(skip)]
    pub samples_trained: usize,
}

/// The rollout of one update, time-major `[n_steps, n_envs, …]`.
struct Rollout {
    obs: Vec<f32>,
    actions: Vec<f32>,
    log_probs: Vec<f32>,
    values: Vec<f32>,
    rewards: Vec<f32>,
    dones: Vec<bool>,
    starts: Vec<bool>,
    states: Vec<f32>,
}

/// Everything that changes during training (what a checkpoint stores besides the config).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TrainerState {
    /// Updates done.
    pub update: usize,
    /// Env steps done.
    pub global_step: u64,
    /// Episodes finished.
    pub episodes: u64,
    /// Returns of the last finished episodes (oldest first).
    pub recent_returns: Vec<f64>,
    /// Observation statistics.
    pub obs_rms: Option<RunningMeanStd>,
    /// Reward scaler.
    pub reward_scaler: Option<RewardScaler>,
    /// RNG: seed (hex), stream, word position (decimal string).
    pub rng: RngState,
    /// Hidden state of the training envs.
    pub hidden: HiddenState,
    /// The envs' episode cursors.
    pub envs: Vec<EnvCursor>,
    /// Adam step count and hyperparameters (moments are in `optimizer.safetensors`).
    pub adam: Adam,
}

/// A ChaCha8 RNG position.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RngState {
    /// 32-byte seed, hex.
    pub seed: String,
    /// Stream id.
    pub stream: u64,
    /// Word position, decimal.
    pub word_pos: String,
}

impl RngState {
    fn of(rng: &ChaCha8Rng) -> Self {
        let seed = rng.get_seed().iter().map(|b| format!("{b:02x}")).collect();
        Self { seed, stream: rng.get_stream(), word_pos: rng.get_word_pos().to_string() }
    }
    fn restore(&self) -> Result<ChaCha8Rng, AgentError> {
        let bad = || AgentError::Checkpoint(format!("invalid RNG state {self:?}"));
        if self.seed.len() != 64 {
            return Err(bad());
        }
        let mut seed = [0u8; 32];
        for (i, b) in seed.iter_mut().enumerate() {
            *b = u8::from_str_radix(&self.seed[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
        }
        let mut rng = ChaCha8Rng::from_seed(seed);
        rng.set_stream(self.stream);
        rng.set_word_pos(self.word_pos.parse::<u128>().map_err(|_| bad())?);
        Ok(rng)
    }
}

pub use crate::policy::dist::dist_for;

/// The training envs of a config: `ppo.n_envs` envs of its env stepped by one [`VectorEnv`]
/// with SB3's same-step autoreset and the per-episode seeding schedule under the master seed,
/// on `env_threads` threads (0 or 1: the calling thread; more: rayon where a step costs more than
/// the fork-join, [`Execution::Auto`]); started at episode 0, or rebuilt at
/// `cursors` (an exact resume).
pub fn train_envs(cfg: &TrainConfig, cursors: Option<&[EnvCursor]>) -> Result<VectorEnv<BoxEnv>, AgentError> {
    let config = cfg.env_config_json();
    let exec = if cfg.env_threads > 1 { Execution::Auto } else { Execution::Sequential };
    let mut envs = VectorEnv::from_fn(cfg.ppo.n_envs, Autoreset::SameStep, exec, |_| make_with(&cfg.env, &config))?
        .with_seeding(Seeding::PerEpisode { seed: cfg.seed });
    if cfg.env_threads > 1 {
        envs = envs.with_threads(cfg.env_threads)?;
    }
    match cursors {
        Some(c) => envs.restore(c)?,
        None => {
            envs.reset(None)?;
        }
    }
    Ok(envs)
}

/// A PPO run in memory.
pub struct Trainer {
    /// The resolved configuration.
    pub cfg: TrainConfig,
    /// The network (dfdx is the training engine).
    pub policy: ActorCritic,
    adam: Adam,
    envs: VectorEnv<BoxEnv>,
    obs_rms: Option<RunningMeanStd>,
    reward_scaler: Option<RewardScaler>,
    rng: ChaCha8Rng,
    hidden: HiddenState,
    recent: VecDeque<f64>,
    /// Updates done.
    pub update: usize,
    /// Env steps done.
    pub global_step: u64,
    /// Episodes finished.
    pub episodes: u64,
    pool: std::sync::Arc<rayon::ThreadPool>,
    /// Where gradient shards run (workers: `update_threads − 1` threads, used where they pay).
    shards: ShardExec,
}

/// The observation normalizer with the config's pass-through components (the config rules,
/// also when a run is restored).
fn passthrough(rms: RunningMeanStd, cfg: &TrainConfig) -> Result<RunningMeanStd, AgentError> {
    rms.with_passthrough(&cfg.ppo.obs_norm_passthrough)
        .map_err(|e| AgentError::Config(format!("ppo.obs_norm_passthrough: {e}")))
}

impl Trainer {
    /// A fresh run.
    pub fn new(cfg: TrainConfig) -> Result<Self, AgentError> {
        cfg.validate()?;
        let envs = train_envs(&cfg, None)?;
        let dist = dist_for(envs.single_action_space())?;
        check_kl_head(&cfg, dist)?;
        let policy = ActorCritic::new(&cfg.policy, envs.obs_dim(), dist, cfg.seed);
        cfg.check_rollout_memory(envs.obs_dim(), policy.action_len(), policy.state_width())?;
        let sizes: Vec<usize> = policy.params().to_vecs().iter().map(|v| v.len()).collect();
        let adam = Adam::new(&sizes, cfg.ppo.adam_eps);
        let hidden = policy.initial_state(cfg.ppo.n_envs);
        let obs_rms =
            cfg.ppo.normalize_obs.then(|| passthrough(RunningMeanStd::new(envs.obs_dim()), &cfg)).transpose()?;
        let reward_scaler = cfg.ppo.normalize_reward.then(|| RewardScaler::new(cfg.ppo.n_envs, cfg.ppo.gamma as f64));
        // The sampling stream is separate from the init stream (seed + 1).
        let rng = ChaCha8Rng::seed_from_u64(cfg.seed.wrapping_add(1));
        Ok(Self {
            policy,
            adam,
            envs,
            obs_rms,
            reward_scaler,
            rng,
            hidden,
            recent: VecDeque::new(),
            update: 0,
            global_step: 0,
            episodes: 0,
            pool: std::sync::Arc::new(policy_pool()?),
            shards: ShardExec::new(shard_pool(&cfg)?),
            cfg,
        })
    }

    /// Rebuilds a run from its config, weights and saved state (see [`crate::checkpoint`]).
    pub fn restore(
        cfg: TrainConfig,
        weights: &[Vec<f32>],
        moments: (Vec<Vec<f32>>, Vec<Vec<f32>>),
        state: TrainerState,
    ) -> Result<Self, AgentError> {
        let envs = train_envs(&cfg, Some(&state.envs))?;
        let dist = dist_for(envs.single_action_space())?;
        check_kl_head(&cfg, dist)?;
        let mut policy = ActorCritic::new(&cfg.policy, envs.obs_dim(), dist, cfg.seed);
        policy.load_weights(weights)?;
        let mut adam = state.adam.clone();
        adam.m = moments.0;
        adam.v = moments.1;
        if state.hidden.width != policy.state_width() || state.hidden.n_envs != cfg.ppo.n_envs {
            return Err(AgentError::Checkpoint("hidden state does not match the policy".into()));
        }
        Ok(Self {
            policy,
            adam,
            envs,
            obs_rms: state.obs_rms.map(|r| passthrough(r, &cfg)).transpose()?,
            reward_scaler: state.reward_scaler,
            rng: state.rng.restore()?,
            hidden: state.hidden,
            recent: state.recent_returns.into_iter().collect(),
            update: state.update,
            global_step: state.global_step,
            episodes: state.episodes,
            pool: std::sync::Arc::new(policy_pool()?),
            shards: ShardExec::new(shard_pool(&cfg)?),
            cfg,
        })
    }

    /// The state a checkpoint stores.
    pub fn state(&self) -> TrainerState {
        TrainerState {
            update: self.update,
            global_step: self.global_step,
            episodes: self.episodes,
            recent_returns: self.recent.iter().copied().collect(),
            obs_rms: self.obs_rms.clone(),
            reward_scaler: self.reward_scaler.clone(),
            rng: RngState::of(&self.rng),
            hidden: self.hidden.clone(),
            envs: self.envs.cursors(),
            adam: self.adam.clone(),
        }
    }

    /// Adam moments `(m, v)`, in parameter order.
    pub fn moments(&self) -> (&[Vec<f32>], &[Vec<f32>]) {
        (&self.adam.m, &self.adam.v)
    }

    /// Observation statistics (None when not normalizing).
    pub fn obs_rms(&self) -> Option<&RunningMeanStd> {
        self.obs_rms.as_ref()
    }

    /// Whether all updates are done (or `stop_at_return` is reached).
    pub fn finished(&self) -> bool {
        self.update >= self.cfg.num_updates() || self.cfg.stop_at_return.is_some_and(|r| self.return_mean() >= r)
    }

    /// Mean return of the last finished episodes (NaN before the first).
    pub fn return_mean(&self) -> f64 {
        if self.recent.is_empty() {
            f64::NAN
        } else {
            self.recent.iter().sum::<f64>() / self.recent.len() as f64
        }
    }

    /// One rollout and one optimization phase.
    pub fn train_update(&mut self) -> Result<UpdateMetrics, AgentError> {
        let pool = std::sync::Arc::clone(&self.pool);
        pool.install(|| self.train_update_inner())
    }

    fn normalized(&self, raw: &[f32]) -> Vec<f32> {
        let mut x = raw.to_vec();
        if let Some(rms) = &self.obs_rms {
            rms.normalize_rows_clipped(&mut x, self.cfg.ppo.obs_clip);
        }
        x
    }

    fn collect(&mut self) -> Result<(Rollout, Vec<f32>, Vec<u64>), AgentError> {
        let (n, t_len, od) = (self.cfg.ppo.n_envs, self.cfg.ppo.n_steps, self.envs.obs_dim());
        let (al, w) = (self.policy.action_len(), self.policy.state_width());
        let gamma = self.cfg.ppo.gamma;
        let mut r = Rollout {
            obs: Vec::with_capacity(t_len * n * od),
            actions: Vec::with_capacity(t_len * n * al),
            log_probs: Vec::with_capacity(t_len * n),
            values: Vec::with_capacity(t_len * n),
            rewards: Vec::with_capacity(t_len * n),
            dones: Vec::with_capacity(t_len * n),
            starts: Vec::with_capacity(t_len * n),
            states: Vec::with_capacity(t_len * n * w),
        };
        let mut out = ActOutput::default();
        let mut ep_lens = Vec::new();
        let mut raw_r = vec![0.0f64; n];
        let mut rew = vec![0.0f32; n];
        let (mut term, mut trunc, mut done) = (vec![false; n], vec![false; n], vec![false; n]);
        for _ in 0..t_len {
            if let Some(rms) = &mut self.obs_rms {
                rms.update_batch(self.envs.obs(), n);
            }
            let obs = self.normalized(self.envs.obs());
            for i in 0..n {
                let s = self.envs.at_start(i);
                if s {
                    self.hidden.reset_row(i);
                }
                r.starts.push(s);
            }
            r.states.extend_from_slice(&self.hidden.data);
            self.policy.act(&obs, &mut self.hidden, ActMode::Sample, &mut self.rng, &mut out);
            r.obs.extend_from_slice(&obs);
            r.actions.extend_from_slice(&out.actions);
            r.log_probs.extend_from_slice(&out.log_probs);
            r.values.extend_from_slice(&out.values);
            self.envs.step_in_place(&out.actions)?;
            self.global_step += n as u64;
            for i in 0..n {
                let o = self.envs.outcome(i);
                raw_r[i] = o.reward;
                rew[i] = o.reward as f32;
                term[i] = o.terminated;
                trunc[i] = o.truncated;
                done[i] = o.done();
                if let Some((ret, len)) = self.envs.finished(i) {
                    self.episodes += 1;
                    self.recent.push_back(ret);
                    if self.recent.len() > RETURN_WINDOW {
                        self.recent.pop_front();
                    }
                    ep_lens.push(len);
                }
            }
            if let Some(sc) = &mut self.reward_scaler {
                sc.scale(&mut rew, &raw_r, &done, self.cfg.ppo.reward_clip);
            }
            if trunc.iter().zip(&term).any(|(&tr, &te)| tr && !te) {
                // V(final observation) with the state the episode would continue from.
                let fin = self.normalized(self.envs.final_obs());
                let s = SeqInput { obs: &fin, time: 1, batch: n, state0: &self.hidden.data, starts: None };
                let (_, v_fin) = self.policy.evaluate(&s, None);
                bootstrap_truncated(&mut rew, &term, &trunc, &v_fin, gamma);
            }
            r.rewards.extend_from_slice(&rew);
            r.dones.extend_from_slice(&done);
        }
        // Values of the observations after the last step.
        for i in 0..n {
            if self.envs.at_start(i) {
                self.hidden.reset_row(i);
            }
        }
        let obs = self.normalized(self.envs.obs());
        let s = SeqInput { obs: &obs, time: 1, batch: n, state0: &self.hidden.data, starts: None };
        let (_, last_values) = self.policy.evaluate(&s, None);
        Ok((r, last_values, ep_lens))
    }

    fn train_update_inner(&mut self) -> Result<UpdateMetrics, AgentError> {
        let p = self.cfg.ppo.clone();
        let num_updates = self.cfg.num_updates();
        let lr = if p.anneal_lr {
            p.learning_rate * (1.0 - self.update as f32 / num_updates as f32)
        } else {
            p.learning_rate
        };
        let t0 = std::time::Instant::now();
        let (roll, last_values, ep_lens) = self.collect()?;
        let rollout_s = t0.elapsed().as_secs_f64();
        let t1 = std::time::Instant::now();
        let mut samples_trained = 0usize;
        let (n, t_len, od) = (p.n_envs, p.n_steps, self.envs.obs_dim());
        let (al, w) = (self.policy.action_len(), self.policy.state_width());
        let (adv, ret) = gae(&roll.rewards, &roll.values, &roll.dones, &last_values, n, p.gamma, p.gae_lambda);

        // Sample units: single steps (MLP) or chunks (env, t0) of `l` steps (recurrent).
        let recurrent = self.policy.is_recurrent();
        let l = if recurrent {
            if p.bptt_len == 0 {
                t_len
            } else {
                p.bptt_len
            }
        } else {
            1
        };
        let kl_factor = p.kl_ramp_factor(self.update, num_updates);
        let units: Vec<(usize, usize)> = (0..t_len / l).flat_map(|c| (0..n).map(move |e| (e, c * l))).collect();
        let per_mb = (p.minibatch_size / l).max(1);
        let mut flat = self.policy.params().to_vecs();
        let mut sum = LossStats::default();
        let (mut count, mut grad_norm_sum, mut epochs) = (0usize, 0.0f32, 0usize);
        let mut order = units.clone();
        let mut grads = Vec::new();
        'epochs: for _ in 0..p.n_epochs {
            epochs += 1;
            order.shuffle(&mut self.rng);
            for mb in order.chunks(per_mb) {
                let cb = mb.len();
                let nn = cb * l;
                let mut b_obs = Vec::with_capacity(nn * od);
                let mut b_act = Vec::with_capacity(nn * al);
                let (mut b_lp, mut b_adv, mut b_ret, mut b_val) =
                    (Vec::with_capacity(nn), Vec::with_capacity(nn), Vec::with_capacity(nn), Vec::with_capacity(nn));
                let mut b_starts = Vec::with_capacity(nn);
                let mut b_state = Vec::with_capacity(cb * w);
                // Memoryless policies: each step's previous observation, for the smoothness term.
                let smooth_mlp = p.kl_smoothness * kl_factor > 0.0 && !recurrent;
                let (mut b_prev_obs, mut b_prev_valid) = (Vec::new(), Vec::new());
                for &(e, t0) in mb {
                    let k = t0 * n + e;
                    b_state.extend_from_slice(&roll.states[k * w..(k + 1) * w]);
                }
                for t in 0..l {
                    for &(e, t0) in mb {
                        let k = (t0 + t) * n + e;
                        b_obs.extend_from_slice(&roll.obs[k * od..(k + 1) * od]);
                        b_act.extend_from_slice(&roll.actions[k * al..(k + 1) * al]);
                        b_lp.push(roll.log_probs[k]);
                        b_adv.push(adv[k]);
                        b_ret.push(ret[k]);
                        b_val.push(roll.values[k]);
                        b_starts.push(roll.starts[k]);
                        if smooth_mlp {
                            let has_prev = t0 + t > 0 && !roll.starts[k];
                            let kp = if has_prev { k - n } else { k };
                            b_prev_obs.extend_from_slice(&roll.obs[kp * od..(kp + 1) * od]);
                            b_prev_valid.push(has_prev);
                        }
                    }
                }
                let b_prev_means = if smooth_mlp {
                    let s = SeqInput { obs: &b_prev_obs, time: 1, batch: nn, state0: &[], starts: None };
                    self.policy.evaluate(&s, None).0
                } else {
                    Vec::new()
                };
                if p.norm_adv && nn > 1 {
                    let mean = b_adv.iter().sum::<f32>() / nn as f32;
                    let var = b_adv.iter().map(|a| (a - mean) * (a - mean)).sum::<f32>() / (nn - 1) as f32;
                    let sd = var.sqrt() + 1e-8;
                    b_adv.iter_mut().for_each(|a| *a = (*a - mean) / sd);
                }
                let li = LossInput {
                    seq: SeqInput {
                        obs: &b_obs,
                        time: l,
                        batch: cb,
                        state0: &b_state,
                        starts: recurrent.then_some(&b_starts[..]),
                    },
                    actions: &b_act,
                    old_log_probs: &b_lp,
                    advantages: &b_adv,
                    returns: &b_ret,
                    old_values: &b_val,
                    clip_coef: p.clip_coef,
                    clip_vloss: p.clip_vloss,
                    ent_coef: p.ent_coef,
                    vf_coef: p.vf_coef,
                    kl: KlReg {
                        zeroness: p.kl_zeroness * kl_factor,
                        smoothness: p.kl_smoothness * kl_factor,
                        prev: if smooth_mlp {
                            PrevStep::Given { means: &b_prev_means, valid: &b_prev_valid }
                        } else {
                            PrevStep::InSequence
                        },
                    },
                };
                let st = self.shards.run(&self.policy, &li, &mut grads, p.grad_shards);
                samples_trained += nn;
                grad_norm_sum += clip_grad_norm(&mut grads, p.max_grad_norm);
                self.adam.update(&mut flat, &grads, lr);
                let params = self.policy.params_mut();
                for (i, v) in flat.iter().enumerate() {
                    params.set(i, v);
                }
                sum.loss += st.loss;
                sum.pg_loss += st.pg_loss;
                sum.v_loss += st.v_loss;
                sum.entropy += st.entropy;
                sum.approx_kl += st.approx_kl;
                sum.clip_frac += st.clip_frac;
                sum.kl_zeroness += st.kl_zeroness;
                sum.kl_smoothness += st.kl_smoothness;
                count += 1;
                if let Some(tk) = p.target_kl {
                    if st.approx_kl > 1.5 * tk {
                        break 'epochs;
                    }
                }
            }
        }
        self.update += 1;
        let c = count.max(1) as f32;
        let var_y = variance(&ret);
        let resid: Vec<f32> = ret.iter().zip(&roll.values).map(|(r, v)| r - v).collect();
        let ev = if var_y == 0.0 { f32::NAN } else { 1.0 - variance(&resid) / var_y };
        Ok(UpdateMetrics {
            update: self.update,
            global_step: self.global_step,
            episodes: self.episodes,
            return_mean: self.return_mean(),
            ep_len_mean: if ep_lens.is_empty() {
                f64::NAN
            } else {
                ep_lens.iter().sum::<u64>() as f64 / ep_lens.len() as f64
            },
            learning_rate: lr,
            loss: sum.loss / c,
            pg_loss: sum.pg_loss / c,
            v_loss: sum.v_loss / c,
            entropy: sum.entropy / c,
            approx_kl: sum.approx_kl / c,
            clip_frac: sum.clip_frac / c,
            grad_norm: grad_norm_sum / c,
            explained_variance: ev,
            epochs,
            kl_zeroness: (p.kl_zeroness * kl_factor > 0.0).then_some(sum.kl_zeroness / c),
            kl_smoothness: (p.kl_smoothness * kl_factor > 0.0).then_some(sum.kl_smoothness / c),
            rollout_s,
            optimize_s: t1.elapsed().as_secs_f64(),
            samples_trained,
        })
    }
}

/// Refuses the KL regularizers of the action distribution on a categorical head (they are
/// defined for the Gaussian one).
fn check_kl_head(cfg: &TrainConfig, dist: ActionDist) -> Result<(), AgentError> {
    let p = &cfg.ppo;
    if matches!(dist, ActionDist::Categorical { .. }) {
        for (name, w) in [("kl_zeroness", p.kl_zeroness), ("kl_smoothness", p.kl_smoothness)] {
            if w > 0.0 {
                return Err(AgentError::Config(format!(
                    "ppo.{name} = {w} needs a continuous (Gaussian) action space; {} has a discrete one (use 0)",
                    cfg.env
                )));
            }
        }
    }
    Ok(())
}

fn variance(x: &[f32]) -> f32 {
    let n = x.len().max(1) as f32;
    let m = x.iter().sum::<f32>() / n;
    x.iter().map(|v| (v - m) * (v - m)).sum::<f32>() / n
}

/// The workers for `ppo.grad_shards` beyond the calling thread: `min(update_threads,
/// grad_shards) − 1` threads (none when that is 0).
fn shard_pool(cfg: &TrainConfig) -> Result<Option<std::sync::Arc<rayon::ThreadPool>>, AgentError> {
    // Independent pieces of one minibatch's gradient: the shards of a fused MLP, or a
    // recurrent policy's actor and critic backwards (separate trunks).
    let recurrent_pair = cfg.policy.kind.cell().is_some() && !cfg.policy.shared_trunk;
    let pieces = if recurrent_pair { 2 } else { cfg.ppo.grad_shards };
    let workers = cfg.update_threads.min(pieces).saturating_sub(1);
    if workers == 0 {
        return Ok(None);
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(workers)
        .build()
        .map(|p| Some(std::sync::Arc::new(p)))
        .map_err(|e| AgentError::Config(format!("cannot start {workers} gradient-shard threads: {e}")))
}

fn policy_pool() -> Result<rayon::ThreadPool, AgentError> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .map_err(|e| AgentError::Config(format!("cannot start the policy thread: {e}")))
}

/// Protocol phases: switching the env config between updates.
impl Trainer {
    /// Switches to a new env config (a protocol phase: another force field, say) and a new
    /// total budget, between updates. Every env ends its current episode and starts its next
    /// one under the new config (episode counters continue, so episode seeds never repeat);
    /// hidden states restart from zero. The observation and action spaces must not change.
    pub fn set_env_config(&mut self, env_config: toml::Table, total_timesteps: u64) -> Result<(), AgentError> {
        let mut cfg = self.cfg.clone();
        cfg.env_config = env_config;
        cfg.total_timesteps = total_timesteps;
        cfg.validate()?;
        let cursors: Vec<EnvCursor> =
            self.envs.cursors().into_iter().map(|c| EnvCursor::start(c.episode + 1)).collect();
        let envs = train_envs(&cfg, Some(&cursors))?;
        if envs.obs_dim() != self.envs.obs_dim() || envs.single_action_space() != self.envs.single_action_space() {
            return Err(AgentError::Config(format!(
                "the new env config changes the spaces ({} / {} → {} / {})",
                self.envs.obs_dim(),
                self.envs.single_action_space(),
                envs.obs_dim(),
                envs.single_action_space()
            )));
        }
        self.envs = envs;
        self.hidden = self.policy.initial_state(cfg.ppo.n_envs);
        self.cfg = cfg;
        Ok(())
    }

    /// Forgets Adam's moments and step count (the optimizer-reset control at phase boundaries).
    pub fn reset_optimizer(&mut self) {
        let sizes: Vec<usize> = self.adam.m.iter().map(|m| m.len()).collect();
        self.adam = Adam::new(&sizes, self.cfg.ppo.adam_eps);
    }
}
