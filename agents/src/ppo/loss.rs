//! The PPO loss: clipped surrogate, optionally clipped value loss, entropy bonus, and the
//! approximate KL and clip fraction diagnostics.
//!
//! Reference: Schulman et al. 2017, "Proximal Policy Optimization Algorithms", eq. 7 and 9;
//! implementation as CleanRL's `ppo_continuous_action.py` (the value loss is
//! `½ · mean((V − R)²)`, clipped as `max((V − R)², (V_old + clip(V − V_old, ±c) − R)²)`;
//! approximate KL `(r − 1) − ln r`, Schulman's "k3" estimator). The policy evaluates the
//! actions and back-propagates ([`ActorCritic::grads_of`]); this module only builds the loss,
//! plus the optional KL regularizers on the Gaussian action distribution ([`super::kl_reg`]).

use super::kl_reg::{self, KlReg, PrevStep};
use crate::nn::{Dev, Scalar, Tp, T2T};
use crate::policy::actor_critic::{ActionEval, SeqInput};
use crate::policy::dist::{ActionDist, HALF_LN_2PI};
use crate::policy::fused::{HeadGrads, MlpWork};
use crate::policy::{ActorCritic, Policy};
use dfdx::prelude::*;

/// A PPO minibatch on the flat `[time, batch]` sample order of a [`SeqInput`]
/// (`N = time · batch`).
pub struct LossInput<'a> {
    /// Observations, hidden states and episode starts.
    pub seq: SeqInput<'a>,
    /// Actions `[N, action_len]`.
    pub actions: &'a [f32],
    /// Log-probabilities at collection, `[N]`.
    pub old_log_probs: &'a [f32],
    /// Advantages (already normalized if asked), `[N]`.
    pub advantages: &'a [f32],
    /// Value targets, `[N]`.
    pub returns: &'a [f32],
    /// Values at collection, `[N]`.
    pub old_values: &'a [f32],
    /// Surrogate clipping coefficient ε.
    pub clip_coef: f32,
    /// Value clipping range around the old value (`None`: unclipped).
    pub clip_vloss: Option<f32>,
    /// Entropy bonus coefficient.
    pub ent_coef: f32,
    /// Value loss coefficient.
    pub vf_coef: f32,
    /// KL regularizers of the Gaussian action distribution ([`KlReg::OFF`]: none).
    pub kl: KlReg<'a>,
}

/// Loss terms and diagnostics of one minibatch.
#[derive(Clone, Copy, Debug, Default)]
pub struct LossStats {
    /// Total loss `pg − ent_coef · entropy + vf_coef · v`.
    pub loss: f32,
    /// Clipped-surrogate policy loss.
    pub pg_loss: f32,
    /// Value loss.
    pub v_loss: f32,
    /// Mean entropy.
    pub entropy: f32,
    /// Mean approximate KL `(r − 1) − ln r`.
    pub approx_kl: f32,
    /// Fraction of ratios with `|r − 1| > clip_coef`.
    pub clip_frac: f32,
    /// Zeroness `mean_i KL(π(·|s_i) ‖ N(0, σ̄²))` (weight not applied; 0 when its weight is 0).
    pub kl_zeroness: f32,
    /// Smoothness `(1/N) Σ_i KL(π(·|s_i) ‖ sg[π(·|s_{i−1})])` (weight not applied; 0 when its
    /// weight is 0).
    pub kl_smoothness: f32,
}

/// The PPO loss of a minibatch, the gradient of every parameter of `policy` (in parameter
/// order) and the loss statistics.
pub fn loss_and_grads(policy: &ActorCritic, li: &LossInput) -> (Vec<Vec<f32>>, LossStats) {
    loss_and_grads_on(policy, li, None)
}

/// [`loss_and_grads`] with a recurrent critic's backward on `pool` beside the actor's
/// ([`ActorCritic::grads_of_on`]): the same bits with or without the pool.
pub fn loss_and_grads_on(
    policy: &ActorCritic,
    li: &LossInput,
    pool: Option<&rayon::ThreadPool>,
) -> (Vec<Vec<f32>>, LossStats) {
    let n = li.seq.time * li.seq.batch;
    let dev = policy.params().dev().clone();
    let (grads, (mut stats, lr_vals)) = policy.grads_of_on(&li.seq, li.actions, |ev| ppo_loss(&dev, ev, li, n), pool);
    let (mut kl, mut clipped) = (0.0f64, 0usize);
    for &lr in &lr_vals {
        let r = lr.exp();
        kl += ((r - 1.0) - lr) as f64;
        if (r - 1.0).abs() > li.clip_coef {
            clipped += 1;
        }
    }
    stats.approx_kl = (kl / n as f64) as f32;
    stats.clip_frac = clipped as f32 / n as f32;
    (grads, stats)
}

/// [`loss_and_grads`] into a reused gradient buffer, on the policy's engine: the fused
/// hand-written path ([`crate::policy::fused`] with [`hand_loss`]) when its config asks for
/// it, else dfdx.
pub fn loss_and_grads_into(policy: &ActorCritic, li: &LossInput, grads: &mut Vec<Vec<f32>>) -> LossStats {
    loss_and_grads_into_on(policy, li, grads, None)
}

/// [`loss_and_grads_into`] with `pool` for a recurrent critic's backward ([`loss_and_grads_on`]).
fn loss_and_grads_into_on(
    policy: &ActorCritic,
    li: &LossInput,
    grads: &mut Vec<Vec<f32>>,
    pool: Option<&rayon::ThreadPool>,
) -> LossStats {
    let n = li.seq.time * li.seq.batch;
    let dist = policy.dist();
    if let Some(stats) = policy.fused_grads_of(li.seq.obs, n, grads, |h| hand_loss(dist, h, li)) {
        return stats;
    }
    let (g, stats) = loss_and_grads_on(policy, li, pool);
    *grads = g;
    stats
}

/// Workspaces of [`loss_and_grads_sharded`]: one network workspace and one gradient per
/// shard, grown on first use and reused.
#[derive(Debug, Default)]
pub struct ShardWork {
    shards: Vec<(MlpWork, Vec<Vec<f32>>, LossStats)>,
}

/// [`loss_and_grads_into`] with the minibatch cut into `shards` row blocks (fused MLP engine;
/// any other engine, or one shard, is the unsharded computation, with a recurrent critic's
/// backward on `pool` beside the actor's). Each block's gradient is
/// that of its own mean loss; the minibatch gradient is their sum weighted by row counts,
/// taken in shard order, and the statistics are weighted the same way. Blocks other than the
/// first run on `pool` while the calling thread computes the first, so the result depends on
/// `shards` and never on the pool's thread count (every block runs single-threaded).
pub fn loss_and_grads_sharded(
    policy: &ActorCritic,
    li: &LossInput,
    grads: &mut Vec<Vec<f32>>,
    shards: usize,
    pool: Option<&rayon::ThreadPool>,
    work: &mut ShardWork,
) -> LossStats {
    let n = li.seq.time * li.seq.batch;
    let s = shards.min(n);
    if s <= 1 || li.seq.time != 1 || !policy.trains_fused() {
        return loss_and_grads_into_on(policy, li, grads, pool);
    }
    let (od, al, dist) = (policy.obs_dim(), policy.action_len(), policy.dist());
    let bounds = |k: usize| (k * n / s, (k + 1) * n / s);
    let run = |k: usize, slot: &mut (MlpWork, Vec<Vec<f32>>, LossStats)| {
        let (lo, hi) = bounds(k);
        let sub = LossInput {
            seq: SeqInput { obs: &li.seq.obs[lo * od..hi * od], time: 1, batch: hi - lo, state0: &[], starts: None },
            actions: &li.actions[lo * al..hi * al],
            old_log_probs: &li.old_log_probs[lo..hi],
            advantages: &li.advantages[lo..hi],
            returns: &li.returns[lo..hi],
            old_values: &li.old_values[lo..hi],
            kl: KlReg {
                prev: match li.kl.prev {
                    PrevStep::Given { means, valid } => {
                        PrevStep::Given { means: &means[lo * al..hi * al], valid: &valid[lo..hi] }
                    }
                    PrevStep::InSequence => PrevStep::InSequence,
                },
                ..li.kl
            },
            ..*li
        };
        let (w, g, st) = slot;
        *st = policy
            .fused_grads_with(sub.seq.obs, hi - lo, g, w, |h| hand_loss(dist, h, &sub))
            .expect("fused engine checked above");
    };
    work.shards.resize_with(s, Default::default);
    let (first, rest) = work.shards.split_at_mut(1);
    match pool {
        Some(pool) => pool.in_place_scope(|scope| {
            for (k, slot) in rest.iter_mut().enumerate() {
                let run = &run;
                scope.spawn(move |_| run(k + 1, slot));
            }
            run(0, &mut first[0]);
        }),
        None => {
            run(0, &mut first[0]);
            for (k, slot) in rest.iter_mut().enumerate() {
                run(k + 1, slot);
            }
        }
    }
    let weight = |k: usize| {
        let (lo, hi) = bounds(k);
        (hi - lo) as f32 / n as f32
    };
    let template = &work.shards[0].1;
    grads.resize_with(template.len(), Vec::new);
    for (p, g) in grads.iter_mut().enumerate() {
        g.clear();
        g.resize(template[p].len(), 0.0);
        for (k, (_, gk, _)) in work.shards.iter().enumerate() {
            let wk = weight(k);
            for (a, &b) in g.iter_mut().zip(&gk[p]) {
                *a += wk * b;
            }
        }
    }
    let mut st = LossStats::default();
    for (k, (_, _, sk)) in work.shards.iter().enumerate() {
        let wk = weight(k);
        st.loss += wk * sk.loss;
        st.pg_loss += wk * sk.pg_loss;
        st.v_loss += wk * sk.v_loss;
        st.entropy += wk * sk.entropy;
        st.approx_kl += wk * sk.approx_kl;
        st.clip_frac += wk * sk.clip_frac;
        st.kl_zeroness += wk * sk.kl_zeroness;
        st.kl_smoothness += wk * sk.kl_smoothness;
    }
    st
}

/// Minibatches timed each way before [`ShardExec`] settles.
pub const SHARD_PROBES: usize = 8;

/// Minibatches after which [`ShardExec`] times both ways again (a machine's load changes
/// during a run, and one slow probe should not decide a whole run).
pub const SHARD_REPROBE_EVERY: usize = 256;

/// Where the gradient shards of [`loss_and_grads_sharded`] run: on the calling thread alone
/// or with the worker pool. The first `2 · SHARD_PROBES` minibatches alternate between the
/// two and are timed; afterwards the way with the faster best time is kept (the pool only if
/// it saves ≥ 20 %: on a loaded machine a worker's wake-up can cost more than the shard), and
/// every [`SHARD_REPROBE_EVERY`] minibatches the probes run again. Either way gives the same
/// bits, so the choice never changes results.
#[derive(Debug, Default)]
pub struct ShardExec {
    pool: Option<std::sync::Arc<rayon::ThreadPool>>,
    best: [f64; 2],
    calls: usize,
    work: ShardWork,
}

impl ShardExec {
    /// With `pool` as the workers (none: always the calling thread).
    pub fn new(pool: Option<std::sync::Arc<rayon::ThreadPool>>) -> Self {
        Self { pool, best: [f64::INFINITY; 2], calls: 0, work: ShardWork::default() }
    }

    /// Whether the pool is in use (after the probes; `None` while probing or without a pool).
    pub fn uses_pool(&self) -> Option<bool> {
        (self.pool.is_some() && self.calls >= 2 * SHARD_PROBES).then(|| self.best[1] < 0.8 * self.best[0])
    }

    /// [`loss_and_grads_sharded`] on the chosen threads.
    pub fn run(&mut self, policy: &ActorCritic, li: &LossInput, grads: &mut Vec<Vec<f32>>, shards: usize) -> LossStats {
        if self.calls >= 2 * SHARD_PROBES + SHARD_REPROBE_EVERY {
            self.best = [f64::INFINITY; 2];
            self.calls = 0;
        }
        let settled = self.uses_pool();
        let Self { pool, best, calls, work } = self;
        let Some(pool) = pool.as_deref() else {
            return loss_and_grads_sharded(policy, li, grads, shards, None, work);
        };
        if let Some(with_pool) = settled {
            *calls += 1;
            return loss_and_grads_sharded(policy, li, grads, shards, with_pool.then_some(pool), work);
        }
        let way = *calls % 2;
        *calls += 1;
        let t = std::time::Instant::now();
        let st = loss_and_grads_sharded(policy, li, grads, shards, (way == 1).then_some(pool), work);
        best[way] = best[way].min(t.elapsed().as_secs_f64());
        st
    }
}

/// The scalar loss on the tape, its terms, and the log-ratios `ln r` (for the diagnostics).
fn ppo_loss(dev: &Dev, ev: ActionEval, li: &LossInput, n: usize) -> (Scalar, (LossStats, Vec<f32>)) {
    let vec1 = |x: &[f32]| dev.tensor_from_vec(x.to_vec(), (n,));
    let ActionEval { log_prob, entropy, values: v, gaussian } = ev;
    let logratio = log_prob - vec1(li.old_log_probs);
    let lr_vals = logratio.retaped::<NoneTape>().as_vec();
    let ratio = logratio.exp();
    let adv = vec1(li.advantages);
    let surr1 = ratio.retaped::<Tp>() * adv.clone();
    let surr2 = ratio.clamp(1.0 - li.clip_coef, 1.0 + li.clip_coef) * adv;
    let pg_loss = surr1.minimum(surr2).mean::<(), _>().negate();
    let v = v.reshape_like(&(n,));
    let ret = vec1(li.returns);
    let v_loss = match li.clip_vloss {
        None => (v - ret).square().mean::<(), _>() * 0.5,
        Some(c) => {
            let old = vec1(li.old_values);
            let unclipped = (v.retaped::<Tp>() - ret.clone()).square();
            let clipped = ((v - old.clone()).clamp(-c, c) + old - ret).square();
            unclipped.maximum(clipped).mean::<(), _>() * 0.5
        }
    };
    let stats_pg = pg_loss.retaped::<NoneTape>().array();
    let stats_v = v_loss.retaped::<NoneTape>().array();
    let stats_ent = entropy.retaped::<NoneTape>().array();
    let loss = pg_loss - entropy * li.ent_coef + v_loss * li.vf_coef;
    let loss_val = loss.retaped::<NoneTape>().array();
    let mut stats =
        LossStats { loss: loss_val, pg_loss: stats_pg, v_loss: stats_v, entropy: stats_ent, ..Default::default() };
    let loss = match gaussian.filter(|_| li.kl.active()) {
        None => loss,
        Some((mean, ls_row)) => {
            let (reg, z, s) = kl_on_tape(dev, li, mean, ls_row, n);
            stats.kl_zeroness = z;
            stats.kl_smoothness = s;
            stats.loss += li.kl.zeroness * z + li.kl.smoothness * s;
            loss + reg
        }
    };
    (loss, (stats, lr_vals))
}

/// The KL regularizers ([`kl_reg`]) on the tape, from the Gaussian means `[N, dim]` and the
/// log-std row `[1, dim]`: the weighted penalty (its constant terms left out: they carry no
/// gradient) and the two values.
fn kl_on_tape(dev: &Dev, li: &LossInput, mean: T2T<Tp>, ls_row: T2T<Tp>, n: usize) -> (Scalar, f32, f32) {
    let head = mean.retaped::<NoneTape>().as_vec();
    let ls = ls_row.retaped::<NoneTape>().as_vec();
    let dim = ls.len();
    let reference = if li.kl.smoothness > 0.0 {
        kl_reg::smoothness_reference(&head, dim, &li.seq, li.kl.prev)
    } else {
        (vec![0.0; n * dim], vec![false; n])
    };
    let (z, s) = kl_reg::values(&head, &ls, &reference);
    // 1/(2σ̄²) with the reference σ̄ = sg[σ] (see the module docs of kl_reg).
    let half_inv_var: Vec<f32> = ls.iter().map(|l| 0.5 * (-2.0 * l).exp()).collect();
    let pairs = reference.1.iter().filter(|&&v| v).count() as f32 / n as f32;
    let per_row = |w: &dyn Fn(usize) -> f32| {
        let c: Vec<f32> = (0..n * dim).map(|k| w(k / dim) * half_inv_var[k % dim] / n as f32).collect();
        dev.tensor_from_vec(c, (n, dim))
    };
    // −ln σ + σ²/(2σ̄²) per component, once per sample with a term.
    let ls_part =
        ls_row.retaped::<Tp>().negate() + (ls_row * 2.0).exp() * dev.tensor_from_vec(half_inv_var.clone(), (1, dim));
    let mut reg = ls_part.sum::<(), _>() * (li.kl.zeroness + li.kl.smoothness * pairs);
    if li.kl.zeroness > 0.0 {
        let c = per_row(&|_| li.kl.zeroness);
        reg = reg + (mean.retaped::<Tp>().square() * c).sum::<(), _>();
    }
    if li.kl.smoothness > 0.0 {
        let c = per_row(&|i| if reference.1[i] { li.kl.smoothness } else { 0.0 });
        let m = dev.tensor_from_vec(reference.0, (n, dim));
        reg = reg + ((mean - m).square() * c).sum::<(), _>();
    }
    (reg, z, s)
}

/// The PPO loss of [`ppo_loss`] by hand on plain buffers, writing its gradient with respect to
/// the head outputs, the values and the log-std into `h` (the fused engine's loss).
///
/// Per sample `i` of `N`, with `g = ∂L/∂ log π(aᵢ)`:
/// - surrogate: `g = −Aᵢ rᵢ / N` where `rᵢ Aᵢ ≤ clip(rᵢ) Aᵢ` (the unclipped term is the
///   minimum), else 0;
/// - categorical logits `z`: `∂ log π / ∂z_j = 1[j = a] − p_j`, entropy
///   `∂H/∂z_j = −p_j (ln p_j + H)`;
/// - Gaussian mean `μ`: `∂ log π / ∂μ_d = (a_d − μ_d) / σ_d²`, log-std
///   `∂ log π / ∂ ln σ_d = z_d² − 1`, entropy `∂H / ∂ ln σ_d = 1`;
/// - value: `½ (V − R)²` (or the clipped maximum) times `vf_coef / N`.
pub fn hand_loss(dist: ActionDist, h: HeadGrads, li: &LossInput) -> LossStats {
    /// Log-softmax scratch (categorical heads up to this many actions stay on the stack).
    const MAX_STACK: usize = 64;
    let n = h.value.len();
    let hw = dist.head_width();
    let inv_n = 1.0 / n as f32;
    let (lo, hi) = (1.0 - li.clip_coef, 1.0 + li.clip_coef);
    let (mut pg_sum, mut v_sum, mut ent_sum, mut kl, mut clipped) = (0.0f32, 0.0f32, 0.0f32, 0.0f64, 0usize);
    let ls = h.log_std;
    h.d_log_std.iter_mut().for_each(|d| *d = 0.0);
    let mut stack = [0.0f32; MAX_STACK];
    let mut heap = Vec::new();
    let lsm: &mut [f32] = if hw <= MAX_STACK {
        &mut stack[..hw]
    } else {
        heap.resize(hw, 0.0);
        &mut heap[..]
    };
    for i in 0..n {
        let head = &h.head[i * hw..(i + 1) * hw];
        let (lp, ent) = match dist {
            ActionDist::Categorical { .. } => {
                let max = head.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let lse = max + head.iter().map(|&l| (l - max).exp()).sum::<f32>().ln();
                let mut ent = 0.0;
                for (o, &l) in lsm.iter_mut().zip(head) {
                    *o = l - lse;
                    ent -= o.exp() * *o;
                }
                ent_sum += ent;
                (lsm[li.actions[i] as usize], ent)
            }
            ActionDist::Gaussian { dim } => {
                let a = &li.actions[i * dim..(i + 1) * dim];
                let lp = head
                    .iter()
                    .zip(a)
                    .zip(ls)
                    .map(|((&m, &a), &s)| {
                        let z = (m - a) * (-s).exp();
                        -0.5 * z * z - s - HALF_LN_2PI
                    })
                    .sum();
                (lp, 0.0)
            }
        };
        let lr = lp - li.old_log_probs[i];
        let r = lr.exp();
        kl += ((r - 1.0) - lr) as f64;
        if (r - 1.0).abs() > li.clip_coef {
            clipped += 1;
        }
        let adv = li.advantages[i];
        let (s1, s2) = (r * adv, r.clamp(lo, hi) * adv);
        pg_sum += s1.min(s2);
        let g_lp = if s1 <= s2 { -adv * r * inv_n } else { 0.0 };
        let dh = &mut h.d_head[i * hw..(i + 1) * hw];
        match dist {
            ActionDist::Categorical { .. } => {
                let a = li.actions[i] as usize;
                for (j, (d, &l)) in dh.iter_mut().zip(lsm.iter()).enumerate() {
                    let pj = l.exp();
                    let onehot = if j == a { 1.0 } else { 0.0 };
                    *d = g_lp * (onehot - pj) + li.ent_coef * inv_n * pj * (l + ent);
                }
            }
            ActionDist::Gaussian { dim } => {
                let a = &li.actions[i * dim..(i + 1) * dim];
                for d in 0..dim {
                    let inv_std = (-ls[d]).exp();
                    let z = (head[d] - a[d]) * inv_std;
                    dh[d] = -g_lp * z * inv_std;
                    h.d_log_std[d] += g_lp * (z * z - 1.0);
                }
            }
        }
        let (v, ret) = (h.value[i], li.returns[i]);
        let unclipped = (v - ret) * (v - ret);
        let (term, dv) = match li.clip_vloss {
            None => (unclipped, v - ret),
            Some(c) => {
                let old = li.old_values[i];
                let vc = old + (v - old).clamp(-c, c);
                let cl = (vc - ret) * (vc - ret);
                if unclipped >= cl {
                    (unclipped, v - ret)
                } else {
                    (cl, if (v - old).abs() <= c { vc - ret } else { 0.0 })
                }
            }
        };
        v_sum += term;
        h.d_value[i] = li.vf_coef * dv * inv_n;
    }
    let entropy = match dist {
        ActionDist::Categorical { .. } => ent_sum * inv_n,
        ActionDist::Gaussian { .. } => ls.iter().sum::<f32>() + ls.len() as f32 * (0.5 + HALF_LN_2PI),
    };
    h.d_log_std.iter_mut().for_each(|d| *d -= li.ent_coef);
    let pg_loss = -pg_sum * inv_n;
    let v_loss = 0.5 * v_sum * inv_n;
    let (mut kl_z, mut kl_s) = (0.0, 0.0);
    if let (ActionDist::Gaussian { dim }, true) = (dist, li.kl.active()) {
        let reference = if li.kl.smoothness > 0.0 {
            kl_reg::smoothness_reference(h.head, dim, &li.seq, li.kl.prev)
        } else {
            (vec![0.0; n * dim], vec![false; n])
        };
        (kl_z, kl_s) = kl_reg::add_hand_grads(&li.kl, h.head, ls, &reference, h.d_head, h.d_log_std);
    }
    LossStats {
        loss: pg_loss - li.ent_coef * entropy + li.vf_coef * v_loss + li.kl.zeroness * kl_z + li.kl.smoothness * kl_s,
        pg_loss,
        v_loss,
        entropy,
        approx_kl: (kl / n as f64) as f32,
        clip_frac: clipped as f32 / n as f32,
        kl_zeroness: kl_z,
        kl_smoothness: kl_s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{Engine, Policy, PolicyConfig, PolicyKind};
    use crate::ppo::kl_reg::{KlReg, PrevStep};
    use rand::{Rng, SeedableRng};

    /// A minibatch of `n` random samples for `net`, with log-probabilities at collection
    /// scattered around the current ones so some ratios are clipped and some are not.
    struct Batch {
        obs: Vec<f32>,
        actions: Vec<f32>,
        old_lp: Vec<f32>,
        adv: Vec<f32>,
        ret: Vec<f32>,
        old_v: Vec<f32>,
    }

    fn batch(net: &ActorCritic, n: usize, seed: u64) -> Batch {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let od = net.obs_dim();
        let obs: Vec<f32> = (0..n * od).map(|_| rng.gen_range(-1.5..1.5)).collect();
        let actions: Vec<f32> = match net.dist() {
            ActionDist::Gaussian { dim } => (0..n * dim).map(|_| rng.gen_range(-1.0..1.0)).collect(),
            ActionDist::Categorical { n: k } => (0..n).map(|_| rng.gen_range(0..k) as f32).collect(),
        };
        let s = SeqInput { obs: &obs, time: 1, batch: n, state0: &[], starts: None };
        let (lp, _, v) = net.evaluate_actions(&s, &actions);
        let old_lp = lp.iter().map(|l| l + rng.gen_range(-0.4..0.4)).collect();
        let adv = (0..n).map(|_| rng.gen_range(-1.0..1.0)).collect();
        let ret = (0..n).map(|_| rng.gen_range(-1.0..1.0)).collect();
        let old_v = v.iter().map(|v| v + rng.gen_range(-0.3..0.3)).collect();
        Batch { obs, actions, old_lp, adv, ret, old_v }
    }

    fn input<'a>(b: &'a Batch, n: usize, clip_vloss: Option<f32>) -> LossInput<'a> {
        input_kl(b, n, clip_vloss, KlReg::OFF)
    }

    fn input_kl<'a>(b: &'a Batch, n: usize, clip_vloss: Option<f32>, kl: KlReg<'a>) -> LossInput<'a> {
        LossInput {
            seq: SeqInput { obs: &b.obs, time: 1, batch: n, state0: &[], starts: None },
            actions: &b.actions,
            old_log_probs: &b.old_lp,
            advantages: &b.adv,
            returns: &b.ret,
            old_values: &b.old_v,
            clip_coef: 0.2,
            clip_vloss,
            ent_coef: 0.05,
            vf_coef: 0.5,
            kl,
        }
    }

    /// Previous-step means `[n, dim]` and a validity mask (about one sample in four has no
    /// previous step) for the smoothness term of memoryless policies.
    fn prev_steps(n: usize, dim: usize, seed: u64) -> (Vec<f32>, Vec<bool>) {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let means = (0..n * dim).map(|_| rng.gen_range(-0.6..0.6)).collect();
        let valid = (0..n).map(|_| rng.gen_range(0.0..1.0) > 0.25).collect();
        (means, valid)
    }

    fn nets(hidden: Vec<usize>, shared: bool, dist: ActionDist) -> (ActorCritic, ActorCritic) {
        let cfg = PolicyConfig {
            kind: PolicyKind::Mlp,
            hidden,
            shared_trunk: shared,
            log_std_init: -0.4,
            ..Default::default()
        };
        let fused = PolicyConfig { engine: Engine::Fused, ..cfg.clone() };
        (ActorCritic::new(&cfg, 5, dist, 3), ActorCritic::new(&fused, 5, dist, 3))
    }

    #[test]
    fn fused_gradients_match_dfdx_autodiff() {
        // Every parameter's gradient and every loss statistic of the hand-written engine
        // against dfdx's autodiff of the same loss. They differ by rounding only (GEMM
        // blocking, the vectorized tanh): tolerance 1e-4 of the largest gradient entry of
        // the parameter (plus 1e-6 absolute), 1e-5 relative on the statistics.
        const REL: f32 = 1e-4;
        const ABS: f32 = 1e-6;
        let n = 37;
        let cases = [
            (vec![16, 8], false, ActionDist::Categorical { n: 3 }, None),
            (vec![16, 8], false, ActionDist::Gaussian { dim: 2 }, Some(0.2)),
            (vec![12], true, ActionDist::Gaussian { dim: 3 }, None),
            (vec![12, 12, 6], true, ActionDist::Categorical { n: 4 }, Some(0.1)),
            (vec![], false, ActionDist::Categorical { n: 2 }, None),
        ];
        for (hidden, shared, dist, clip_v) in cases {
            let (reference, fused) = nets(hidden.clone(), shared, dist);
            let b = batch(&reference, n, 9);
            // Gaussian heads also carry both KL regularizers (previous steps given).
            let prev = prev_steps(n, dist.action_len(), 3);
            let kl = match dist {
                ActionDist::Gaussian { .. } => {
                    KlReg { zeroness: 0.3, smoothness: 0.7, prev: PrevStep::Given { means: &prev.0, valid: &prev.1 } }
                }
                ActionDist::Categorical { .. } => KlReg::OFF,
            };
            let li = input_kl(&b, n, clip_v, kl);
            let (want, ws) = loss_and_grads(&reference, &li);
            let mut got = Vec::new();
            let gs = loss_and_grads_into(&fused, &li, &mut got);
            assert_eq!(got.len(), want.len());
            for ((g, w), p) in got.iter().zip(&want).zip(fused.params().items()) {
                let scale = w.iter().fold(0.0f32, |m, x| m.max(x.abs()));
                for (j, (x, y)) in g.iter().zip(w).enumerate() {
                    assert!(
                        (x - y).abs() <= REL * scale + ABS,
                        "{hidden:?} shared={shared} {dist:?}: {}[{j}] fused {x} vs dfdx {y}",
                        p.name
                    );
                }
            }
            let close = |a: f32, b: f32| (a - b).abs() <= 1e-5 * a.abs().max(b.abs()) + 1e-7;
            for (a, b) in [
                (gs.loss, ws.loss),
                (gs.pg_loss, ws.pg_loss),
                (gs.v_loss, ws.v_loss),
                (gs.entropy, ws.entropy),
                (gs.approx_kl, ws.approx_kl),
                (gs.kl_zeroness, ws.kl_zeroness),
                (gs.kl_smoothness, ws.kl_smoothness),
            ] {
                assert!(close(a, b), "{hidden:?} {dist:?}: statistic {a} vs {b}");
            }
            assert_eq!(gs.clip_frac, ws.clip_frac);
            assert!(gs.clip_frac > 0.0 && gs.clip_frac < 1.0, "the batch mixes clipped and unclipped ratios");
            // The rollout forward agrees too.
            let s = li.seq;
            let ((h0, v0), (h1, v1)) = (reference.evaluate(&s, None), fused.evaluate(&s, None));
            assert!(h0.iter().zip(&h1).chain(v0.iter().zip(&v1)).all(|(a, b)| (a - b).abs() < 1e-5));
        }
    }

    #[test]
    fn fused_gradients_are_bit_identical_at_any_thread_count() {
        let (_, fused) = nets(vec![64, 64], false, ActionDist::Gaussian { dim: 1 });
        let b = batch(&fused, 256, 4);
        let li = input(&b, 256, None);
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| {
                let mut g = Vec::new();
                let st = loss_and_grads_into(&fused, &li, &mut g);
                (g, st.loss.to_bits())
            })
        };
        let one = run(1);
        assert_eq!(one, run(2));
        assert_eq!(one, run(1));
    }

    #[test]
    fn sharded_gradients_equal_the_whole_minibatch_at_any_thread_count() {
        // Row blocks weighted by their sizes give the minibatch gradient (rounding only:
        // 1e-5 of the parameter's largest entry); for a fixed shard count the bits do not
        // depend on how many threads compute the blocks. 37 rows: uneven blocks.
        let n = 37;
        for dist in [ActionDist::Categorical { n: 3 }, ActionDist::Gaussian { dim: 2 }] {
            let (_, fused) = nets(vec![16, 8], false, dist);
            let b = batch(&fused, n, 5);
            let prev = prev_steps(n, dist.action_len(), 6);
            let kl = match dist {
                ActionDist::Gaussian { .. } => {
                    KlReg { zeroness: 0.2, smoothness: 0.5, prev: PrevStep::Given { means: &prev.0, valid: &prev.1 } }
                }
                ActionDist::Categorical { .. } => KlReg::OFF,
            };
            let li = input_kl(&b, n, Some(0.2), kl);
            let mut whole = Vec::new();
            let ws = loss_and_grads_into(&fused, &li, &mut whole);
            for shards in [2, 3, 5] {
                let run = |workers: usize| {
                    let pool =
                        (workers > 0).then(|| rayon::ThreadPoolBuilder::new().num_threads(workers).build().unwrap());
                    let mut g = Vec::new();
                    let st =
                        loss_and_grads_sharded(&fused, &li, &mut g, shards, pool.as_ref(), &mut ShardWork::default());
                    let stats =
                        [st.loss, st.pg_loss, st.v_loss, st.entropy, st.approx_kl, st.clip_frac, st.kl_smoothness];
                    (g, stats.map(f32::to_bits))
                };
                let (g, st) = run(0);
                assert_eq!((g.clone(), st), run(1), "{shards} shards: one worker");
                assert_eq!((g.clone(), st), run(4), "{shards} shards: four workers");
                // The timed choice between the calling thread and the workers keeps the bits.
                let pool = std::sync::Arc::new(rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap());
                let mut exec = ShardExec::new(Some(pool));
                for call in 0..2 * SHARD_PROBES + SHARD_REPROBE_EVERY + 3 {
                    let mut ge = Vec::new();
                    let se = exec.run(&fused, &li, &mut ge, shards);
                    assert!(ge == g && se.loss.to_bits() == st[0], "{shards} shards, call {call}");
                    if call == 2 * SHARD_PROBES {
                        assert!(exec.uses_pool().is_some(), "settled after the probes");
                    }
                }
                assert!(exec.uses_pool().is_none(), "probing again after {SHARD_REPROBE_EVERY} minibatches");
                for ((x, w), p) in g.iter().zip(&whole).zip(fused.params().items()) {
                    let scale = w.iter().fold(0.0f32, |m, v| m.max(v.abs()));
                    for (a, b) in x.iter().zip(w) {
                        assert!(
                            (a - b).abs() <= 1e-5 * scale + 1e-7,
                            "{shards} shards {dist:?} {}: {a} vs {b}",
                            p.name
                        );
                    }
                }
                let loss = f32::from_bits(st[0]);
                assert!((loss - ws.loss).abs() <= 1e-5 * ws.loss.abs() + 1e-7, "{loss} vs {}", ws.loss);
                assert!((f32::from_bits(st[5]) - ws.clip_frac).abs() < 1e-6, "clip fraction is a count");
                let smooth = f32::from_bits(st[6]);
                assert!(
                    (smooth - ws.kl_smoothness).abs() <= 1e-5 * ws.kl_smoothness,
                    "{smooth} vs {}",
                    ws.kl_smoothness
                );
            }
        }
    }

    /// A Gaussian policy of `kind` (recurrent: GRU of 5 units) with a policy head scaled up
    /// so the means are of order 0.5 (the PPO init gives 0.01), and a batch of `time` ×
    /// `batch` samples with episode starts at (t=2, b=0) and (t=3, b=1).
    fn kl_case(kind: PolicyKind, engine: Engine, time: usize, batch: usize) -> (ActorCritic, Batch, Vec<bool>) {
        let cfg = PolicyConfig {
            kind,
            hidden: vec![6],
            rnn_hidden: 5,
            rnn_layers: 1,
            log_std_init: -0.4,
            engine,
            ..Default::default()
        };
        let mut net = ActorCritic::new(&cfg, 5, ActionDist::Gaussian { dim: 2 }, 11);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(12);
        let pi = net.params().items().iter().position(|p| p.name == "pi.weight").expect("policy head");
        let w: Vec<f32> = (0..net.params().items()[pi].len()).map(|_| rng.gen_range(-0.6..0.6)).collect();
        net.params_mut().set(pi, &w);
        let n = time * batch;
        let mut starts = vec![false; n];
        if time > 3 {
            starts[2 * batch] = true;
            starts[3 * batch + 1] = true;
        }
        let state0: Vec<f32> = (0..batch * net.state_width()).map(|_| rng.gen_range(-0.5..0.5)).collect();
        let b = Batch {
            obs: (0..n * 5).map(|_| rng.gen_range(-1.5..1.5)).collect(),
            actions: (0..n * 2).map(|_| rng.gen_range(-1.0..1.0)).collect(),
            old_lp: vec![-1.0; n],
            adv: vec![0.0; n],
            ret: vec![0.0; n],
            // The initial state `[batch, width]` (empty for an MLP) rides in old_v's place.
            old_v: state0,
        };
        (net, b, starts)
    }

    /// The loss input of a [`kl_case`] with only the KL regularizers active (advantages zero,
    /// no value or entropy term).
    fn kl_input<'a>(
        b: &'a Batch,
        time: usize,
        batch: usize,
        starts: Option<&'a [bool]>,
        kl: KlReg<'a>,
    ) -> LossInput<'a> {
        LossInput {
            seq: SeqInput { obs: &b.obs, time, batch, state0: &b.old_v, starts },
            actions: &b.actions,
            old_log_probs: &b.old_lp,
            advantages: &b.adv,
            returns: &b.ret,
            old_values: &b.ret,
            clip_coef: 0.2,
            clip_vloss: None,
            ent_coef: 0.0,
            vf_coef: 0.0,
            kl,
        }
    }

    #[test]
    fn kl_regularizers_equal_their_closed_form_and_their_finite_difference_gradients() {
        // Three paths: the recurrent policy (dfdx head over the hand BPTT; previous steps
        // inside the chunk, across episode starts), the MLP on dfdx and the MLP on the fused
        // engine (previous steps given).
        // Values: Z = mean_i Σ_d μ_id² / (2σ_d²) and S = (1/N) Σ_{i with a previous step}
        // Σ_d (μ_id − μ_prev,d)² / (2σ_d²), computed here from the policy's means (f64), to
        // 1e-5 relative; the total loss moves by exactly w_z·Z + w_s·S.
        // Gradients: central differences (step 1e-2) of the closed-form KL with its
        // stop-gradient references (σ̄ and the previous means) frozen at the current
        // parameters, a few entries of every parameter: within 2 % of the larger of the two
        // or 2e-4 absolute (f32 forward passes).
        const EPS: f32 = 1e-2;
        const REL_TOL: f32 = 0.02;
        const ABS_TOL: f32 = 2e-4;
        let (wz, ws) = (0.4f32, 1.3f32);
        let cases = [
            (PolicyKind::Gru, Engine::Dfdx, 5, 3),
            (PolicyKind::Mlp, Engine::Dfdx, 1, 12),
            (PolicyKind::Mlp, Engine::Fused, 1, 12),
        ];
        for (kind, engine, time, batch) in cases {
            let (mut net, b, starts) = kl_case(kind, engine, time, batch);
            let n = time * batch;
            let recurrent = kind != PolicyKind::Mlp;
            let seq_starts = recurrent.then_some(&starts[..]);
            let seq = SeqInput { obs: &b.obs, time, batch, state0: &b.old_v, starts: seq_starts };
            let (head0, _) = net.evaluate(&seq, None);
            let ls0 = net.log_std();
            // Previous steps: inside the sequence (recurrent) or given (an arbitrary set).
            let given = prev_steps(n, 2, 21);
            let (prev_means, prev_valid): (Vec<f32>, Vec<bool>) = if recurrent {
                let mut m = vec![0.0; n * 2];
                let mut v = vec![false; n];
                for i in batch..n {
                    if !starts[i] {
                        v[i] = true;
                        m[i * 2..i * 2 + 2].copy_from_slice(&head0[(i - batch) * 2..(i - batch) * 2 + 2]);
                    }
                }
                (m, v)
            } else {
                given.clone()
            };
            let prev =
                if recurrent { PrevStep::InSequence } else { PrevStep::Given { means: &given.0, valid: &given.1 } };
            let li = kl_input(&b, time, batch, seq_starts, KlReg { zeroness: wz, smoothness: ws, prev });
            let off = kl_input(&b, time, batch, seq_starts, KlReg::OFF);
            let mut grads = Vec::new();
            let st = loss_and_grads_into(&net, &li, &mut grads);
            let st_off = loss_and_grads_into(&net, &off, &mut Vec::new());
            // Closed form with the references frozen at the current parameters.
            let closed = |head: &[f32], ls: &[f32]| {
                let (mut z, mut s) = (0.0f64, 0.0f64);
                for i in 0..n {
                    for d in 0..2 {
                        let (mu, l, l0) = (head[i * 2 + d] as f64, ls[d] as f64, ls0[d] as f64);
                        let kl_to =
                            |m: f64| l0 - l + ((2.0 * l).exp() + (mu - m).powi(2)) / (2.0 * (2.0 * l0).exp()) - 0.5;
                        z += kl_to(0.0);
                        if prev_valid[i] {
                            s += kl_to(prev_means[i * 2 + d] as f64);
                        }
                    }
                }
                (z / n as f64, s / n as f64)
            };
            let (z, s) = closed(&head0, &ls0);
            let close = |a: f32, b: f64| (a as f64 - b).abs() <= 1e-5 * b.abs() + 1e-7;
            assert!(close(st.kl_zeroness, z), "{kind:?} {engine:?}: zeroness {} vs {z}", st.kl_zeroness);
            assert!(close(st.kl_smoothness, s), "{kind:?} {engine:?}: smoothness {} vs {s}", st.kl_smoothness);
            assert!(s > 0.0 && z > 0.0, "both terms are exercised");
            let added = (st.loss - st_off.loss) as f64;
            let want = wz as f64 * z + ws as f64 * s;
            assert!((added - want).abs() <= 1e-5 * want, "{kind:?} {engine:?}: loss moves by {added}, want {want}");
            let f = |net: &ActorCritic| {
                let (head, _) = net.evaluate(&seq, None);
                let (z, s) = closed(&head, &net.log_std());
                (wz as f64 * z + ws as f64 * s) as f32
            };
            let vals = net.params().to_vecs();
            for (pi, g) in grads.iter().enumerate() {
                let name = net.params().items()[pi].name.clone();
                if name.starts_with("v.") || name.starts_with("critic.") {
                    assert!(g.iter().all(|&x| x == 0.0), "{kind:?} {engine:?} {name}: the critic has no KL gradient");
                    continue;
                }
                for &j in &[0, g.len() / 2, g.len() - 1] {
                    let mut v = vals[pi].clone();
                    v[j] += EPS;
                    net.params_mut().set(pi, &v);
                    let up = f(&net);
                    v[j] -= 2.0 * EPS;
                    net.params_mut().set(pi, &v);
                    let down = f(&net);
                    net.params_mut().set(pi, &vals[pi]);
                    let fd = (up - down) / (2.0 * EPS);
                    let err = (fd - g[j]).abs();
                    assert!(
                        err < ABS_TOL || err < REL_TOL * g[j].abs().max(fd.abs()),
                        "{kind:?} {engine:?} {name}[{j}]: gradient {} vs finite difference {fd}",
                        g[j]
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod recurrent_pair_tests {
    use super::*;
    use crate::policy::actor_critic::SeqInput;
    use crate::policy::config::PolicyConfig;
    use crate::policy::dist::ActionDist;
    use crate::policy::PolicyKind;
    use rand::{Rng, SeedableRng};

    #[test]
    fn a_recurrent_critic_on_its_own_thread_gives_the_same_gradients() {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        for kind in [PolicyKind::Gru, PolicyKind::Lstm] {
            let cfg = PolicyConfig { kind, rnn_hidden: 12, hidden: vec![8], log_std_init: -0.5, ..Default::default() };
            let net = ActorCritic::new(&cfg, 3, ActionDist::Gaussian { dim: 2 }, 7);
            let (time, batch) = (9, 4);
            let n = time * batch;
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
            let mut r = |len: usize, a: f32| -> Vec<f32> { (0..len).map(|_| rng.gen_range(-a..a)).collect() };
            let (obs, state0, actions) = (r(n * 3, 1.5), r(batch * net.state_width(), 0.5), r(n * 2, 1.0));
            let (old_lp, adv, ret, old_v) = (r(n, 1.0), r(n, 1.0), r(n, 1.0), r(n, 1.0));
            let starts: Vec<bool> = (0..n).map(|i| i % 7 == 5).collect();
            let li = LossInput {
                seq: SeqInput { obs: &obs, time, batch, state0: &state0, starts: Some(&starts) },
                actions: &actions,
                old_log_probs: &old_lp,
                advantages: &adv,
                returns: &ret,
                old_values: &old_v,
                clip_coef: 0.2,
                clip_vloss: None,
                ent_coef: 0.01,
                vf_coef: 0.5,
                kl: KlReg::OFF,
            };
            let (alone, st_alone) = loss_and_grads_on(&net, &li, None);
            let (paired, st_paired) = loss_and_grads_on(&net, &li, Some(&pool));
            assert_eq!(alone.len(), paired.len());
            for (a, p) in alone.iter().zip(&paired) {
                assert!(!a.is_empty());
                assert_eq!(
                    a.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                    p.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
                );
            }
            assert_eq!(st_alone.loss.to_bits(), st_paired.loss.to_bits());
            // Both trunks have gradients (the critic's came from the worker).
            assert!(alone.iter().filter(|g| g.iter().any(|&x| x != 0.0)).count() >= alone.len() - 1, "{kind:?}");
        }
    }
}
