//! The fused MLP actor-critic engine ([`Engine::Fused`](super::config::Engine)): forward and
//! backward of the tanh trunks, both heads and the PPO loss on plain row-major buffers with
//! faer GEMMs ([`crate::nn::gemm`], single-threaded), no dfdx graph and no allocation once the
//! workspace has grown to the minibatch size.
//!
//! The loss itself (and its gradient with respect to the head outputs) belongs to the
//! algorithm ([`crate::ppo::loss::hand_loss`]); this module runs the network forward and
//! back-propagates what the loss hands it.
//!
//! The hand-written gradients are those of [`crate::ppo::loss`]'s dfdx graph (held to it by
//! the tests below); the arithmetic differs in rounding only (GEMM blocking, the vectorized
//! `tanh` of [`crate::nn::act`]), so a fused run is not bit-identical to a dfdx run, but is
//! bit-identical to itself at any thread count (every product runs on the calling thread).

use super::dist::ActionDist;
use crate::nn::gemm::{self, Acc};
use crate::nn::{act, Linear, ParamId, Params};

/// What a loss sees and writes in [`MlpNet::grads_of`].
pub struct HeadGrads<'a> {
    /// Head output (Gaussian mean or logits), `[N, head_width]`.
    pub head: &'a [f32],
    /// Values, `[N]`.
    pub value: &'a [f32],
    /// Gaussian log standard deviations (empty for a categorical head).
    pub log_std: &'a [f32],
    /// `∂L/∂head`, to be written.
    pub d_head: &'a mut [f32],
    /// `∂L/∂value`, to be written.
    pub d_value: &'a mut [f32],
    /// `∂L/∂ log σ`, to be written (empty for a categorical head).
    pub d_log_std: &'a mut [f32],
}

/// The layers of an MLP actor-critic, borrowed from an [`super::ActorCritic`].
pub(crate) struct MlpNet<'a> {
    pub params: &'a Params,
    pub actor: &'a [Linear],
    /// `None`: the value head reads the actor trunk (shared trunk).
    pub critic: Option<&'a [Linear]>,
    pub pi: Linear,
    pub v: Linear,
    pub log_std: Option<ParamId>,
    pub dist: ActionDist,
    pub obs_dim: usize,
}

/// Buffers of the fused engine, grown on demand and reused.
#[derive(Debug, Default)]
pub(crate) struct MlpWork {
    /// Actor trunk activations, one `[N, width]` buffer per layer.
    actor: Vec<Vec<f32>>,
    /// Critic trunk activations.
    critic: Vec<Vec<f32>>,
    /// Head output `[N, head_width]`.
    pub head: Vec<f32>,
    /// Values `[N]`.
    pub value: Vec<f32>,
    /// `∂L/∂head`, `[N, head_width]`.
    d_head: Vec<f32>,
    /// `∂L/∂value`, `[N]`.
    d_value: Vec<f32>,
    /// Two ping-pong buffers for `∂L/∂(layer output)`.
    d_a: Vec<f32>,
    d_b: Vec<f32>,
}

fn grow(v: &mut Vec<f32>, n: usize) {
    v.resize(n, 0.0);
}

/// `out = tanh(x W + b)` (or without the tanh for a head), `x [n, inp]`.
fn dense(p: &Params, lin: &Linear, x: &[f32], n: usize, out: &mut Vec<f32>, tanh: bool) {
    grow(out, n * lin.out);
    gemm::nn(out, Acc::Set, x, p.values(lin.w), n, lin.inp, lin.out);
    let b = p.values(lin.b);
    act::simd(
        #[inline(always)]
        || {
            for row in out.chunks_exact_mut(lin.out) {
                for (y, &bi) in row.iter_mut().zip(b) {
                    *y = if tanh { act::tanh(*y + bi) } else { *y + bi };
                }
            }
        },
    );
}

fn trunk_forward<'w>(p: &Params, layers: &[Linear], x: &'w [f32], n: usize, acts: &'w mut Vec<Vec<f32>>) -> &'w [f32] {
    acts.resize_with(layers.len(), Vec::new);
    for (k, lin) in layers.iter().enumerate() {
        let (done, rest) = acts.split_at_mut(k);
        let inp = if k == 0 { x } else { &done[k - 1][..] };
        dense(p, lin, inp, n, &mut rest[0], true);
    }
    match acts[..layers.len()].last() {
        Some(a) => a,
        None => x,
    }
}

impl MlpNet<'_> {
    /// Forward pass of `n` observations: head output and values into `w.head`, `w.value`.
    pub fn forward(&self, obs: &[f32], n: usize, w: &mut MlpWork) {
        assert_eq!(obs.len(), n * self.obs_dim, "observation buffer length");
        let p = self.params;
        let MlpWork { actor, critic, head, value, .. } = w;
        let fa = trunk_forward(p, self.actor, obs, n, actor);
        dense(p, &self.pi, fa, n, head, false);
        let fc = match self.critic {
            Some(c) => trunk_forward(p, c, obs, n, critic),
            None => fa,
        };
        dense(p, &self.v, fc, n, value, false);
    }

    /// Forward, then the gradient of a loss of the outputs: `loss(head, value, d_head,
    /// d_value, d_log_std)` reads the head output `[N, head_width]` and values `[N]`, writes
    /// `∂L/∂head`, `∂L/∂value` and `∂L/∂ log σ` (Gaussian; empty otherwise) and returns
    /// anything. The gradient of every parameter goes into `grads` (parameter order; resized).
    pub fn grads_of<S>(
        &self,
        obs: &[f32],
        n: usize,
        grads: &mut Vec<Vec<f32>>,
        w: &mut MlpWork,
        loss: impl FnOnce(HeadGrads) -> S,
    ) -> S {
        self.forward(obs, n, w);
        let p = self.params;
        grads.resize_with(p.items().len(), Vec::new);
        for (g, it) in grads.iter_mut().zip(p.items()) {
            g.clear();
            g.resize(it.len(), 0.0);
        }
        let hw = self.dist.head_width();
        grow(&mut w.d_head, n * hw);
        grow(&mut w.d_value, n);
        let ls: &[f32] = self.log_std.map_or(&[], |id| self.params.values(id));
        let mut empty = [];
        let d_log_std = match self.log_std {
            Some(id) => &mut grads[id][..],
            None => &mut empty[..],
        };
        let out = loss(HeadGrads {
            head: &w.head,
            value: &w.value,
            log_std: ls,
            d_head: &mut w.d_head,
            d_value: &mut w.d_value,
            d_log_std,
        });
        self.backward_trunks(obs, n, grads, w);
        out
    }

    /// Gradients of a dense layer from `dy [n, out]`: weight `xᵀ dy`, bias the column sums;
    /// `dx = dy Wᵀ` into `dx` when given (`acc` decides whether it adds).
    fn dense_backward(
        &self,
        lin: &Linear,
        x: &[f32],
        dy: &[f32],
        n: usize,
        grads: &mut [Vec<f32>],
        dx: Option<(&mut Vec<f32>, Acc)>,
    ) {
        let p = self.params;
        gemm::tn(&mut grads[lin.w], Acc::Set, x, dy, lin.inp, n, lin.out);
        let gb = &mut grads[lin.b];
        act::simd(
            #[inline(always)]
            || {
                gb.iter_mut().for_each(|g| *g = 0.0);
                for row in dy.chunks_exact(lin.out) {
                    for (g, &d) in gb.iter_mut().zip(row) {
                        *g += d;
                    }
                }
            },
        );
        if let Some((dx, acc)) = dx {
            if acc == Acc::Set {
                grow(dx, n * lin.inp);
            }
            gemm::nt(dx, acc, dy, p.values(lin.w), n, lin.out, lin.inp);
        }
    }

    /// Backward through one trunk from `d_top` (`∂L/∂features`, in `w.d_a`).
    fn trunk_backward(
        &self,
        layers: &[Linear],
        acts: &[Vec<f32>],
        obs: &[f32],
        n: usize,
        grads: &mut [Vec<f32>],
        (d_a, d_b): (&mut Vec<f32>, &mut Vec<f32>),
    ) {
        for (k, lin) in layers.iter().enumerate().rev() {
            // Through the tanh: dz = dy (1 − y²).
            act::simd(
                #[inline(always)]
                || {
                    for (d, &y) in d_a.iter_mut().zip(&acts[k]) {
                        *d *= 1.0 - y * y;
                    }
                },
            );
            let x = if k == 0 { obs } else { &acts[k - 1][..] };
            let dx = (k > 0).then_some((&mut *d_b, Acc::Set));
            self.dense_backward(lin, x, &d_a[..n * lin.out], n, grads, dx);
            std::mem::swap(d_a, d_b);
        }
    }

    fn backward_trunks(&self, obs: &[f32], n: usize, grads: &mut [Vec<f32>], w: &mut MlpWork) {
        let MlpWork { actor, critic, d_head, d_value, d_a, d_b, .. } = w;
        let nl_a = self.actor.len();
        let feat_a: &[f32] = if nl_a == 0 { obs } else { &actor[nl_a - 1] };
        // Heads.
        let head_dx = (nl_a > 0).then_some((&mut *d_a, Acc::Set));
        self.dense_backward(&self.pi, feat_a, d_head, n, grads, head_dx);
        match self.critic {
            None => {
                let v_dx = (nl_a > 0).then_some((&mut *d_a, Acc::Add));
                self.dense_backward(&self.v, feat_a, d_value, n, grads, v_dx);
                self.trunk_backward(self.actor, actor, obs, n, grads, (d_a, d_b));
            }
            Some(c) => {
                self.trunk_backward(self.actor, actor, obs, n, grads, (d_a, d_b));
                let nl_c = c.len();
                let feat_c: &[f32] = if nl_c == 0 { obs } else { &critic[nl_c - 1] };
                let v_dx = (nl_c > 0).then_some((&mut *d_a, Acc::Set));
                self.dense_backward(&self.v, feat_c, d_value, n, grads, v_dx);
                self.trunk_backward(c, critic, obs, n, grads, (d_a, d_b));
            }
        }
    }
}
