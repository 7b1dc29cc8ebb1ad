//! The PPO loss: clipped surrogate, optionally clipped value loss, entropy bonus, and the
//! approximate KL and clip fraction diagnostics.
//!
//! Reference: Schulman et al. 2017, "Proximal Policy Optimization Algorithms", eq. 7 and 9;
//! implementation as CleanRL's `ppo_continuous_action.py` (the value loss is
//! `½ · mean((V − R)²)`, clipped as `max((V − R)², (V_old + clip(V − V_old, ±c) − R)²)`;
//! approximate KL `(r − 1) − ln r`, Schulman's "k3" estimator). The policy evaluates the
//! actions and back-propagates ([`ActorCritic::grads_of`]); this module only builds the loss.

use crate::nn::{Dev, Scalar, Tp};
use crate::policy::actor_critic::{ActionEval, SeqInput};
use crate::policy::ActorCritic;
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
}

/// The PPO loss of a minibatch, the gradient of every parameter of `policy` (in parameter
/// order) and the loss statistics.
pub fn loss_and_grads(policy: &ActorCritic, li: &LossInput) -> (Vec<Vec<f32>>, LossStats) {
    let n = li.seq.time * li.seq.batch;
    let dev = policy.params().dev().clone();
    let (grads, (mut stats, lr_vals)) = policy.grads_of(&li.seq, li.actions, |ev| ppo_loss(&dev, ev, li, n));
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

/// The scalar loss on the tape, its terms, and the log-ratios `ln r` (for the diagnostics).
fn ppo_loss(dev: &Dev, ev: ActionEval, li: &LossInput, n: usize) -> (Scalar, (LossStats, Vec<f32>)) {
    let vec1 = |x: &[f32]| dev.tensor_from_vec(x.to_vec(), (n,));
    let ActionEval { log_prob, entropy, values: v } = ev;
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
    let stats = LossStats {
        loss: loss_val,
        pg_loss: stats_pg,
        v_loss: stats_v,
        entropy: stats_ent,
        approx_kl: 0.0,
        clip_frac: 0.0,
    };
    (loss, (stats, lr_vals))
}
