//! The two recurrent cells the supervised battery needs beyond [`crate::nn::bptt`]'s: a
//! vanilla RNN with ReLU, and the UGRNN (update-gate RNN, Collins, Sohl-Dickstein & Sussillo
//! 2017). Same conventions as [`crate::nn::bptt`]: time-major rows `t·B + b`, weights
//! `w_ih [in, G·H]`, `w_hh [H, G·H]`, one bias `[G·H]`; input projections in one GEMM, one
//! recurrent GEMM per step, weight gradients in one GEMM each after the loop. Sequences start
//! from the given `h0` and have no resets inside. Their gradients (and the readout's and
//! penalties') are held to central finite differences by `fit::tests`
//! (`network_gradient_matches_finite_differences`), and the cells' gradients to dfdx's
//! autodiff of the same equations step by step (`tests::hand_bptt_equals_dfdx_autodiff`), as
//! [`crate::nn::bptt`]'s are.
//!
//! - ReLU RNN: `h' = max(0, x W_ih + h W_hh + b)`.
//! - UGRNN (gate blocks `c`, `g`): `c = tanh(x W_ic + h W_hc + b_c)`,
//!   `g = σ(x W_ig + h W_hg + b_g)`, `h' = g ⊙ h + (1 − g) ⊙ c`.

use crate::nn::act::{sigmoid_in_place, tanh_in_place};
use crate::nn::gemm::{self, Acc};

/// Which of the two cells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExtraKind {
    /// Vanilla RNN, ReLU.
    Relu,
    /// Update-gate RNN.
    Ugrnn,
}

impl ExtraKind {
    /// Gate blocks `G`.
    pub fn gates(self) -> usize {
        match self {
            ExtraKind::Relu => 1,
            ExtraKind::Ugrnn => 2,
        }
    }
}

/// Weights of one layer.
#[derive(Clone, Copy, Debug)]
pub struct ExtraWeights<'a> {
    /// Cell.
    pub kind: ExtraKind,
    /// Input width.
    pub inp: usize,
    /// Hidden width.
    pub hidden: usize,
    /// `[in, G·H]`.
    pub w_ih: &'a [f32],
    /// `[H, G·H]`.
    pub w_hh: &'a [f32],
    /// `[G·H]`.
    pub b: &'a [f32],
}

/// What the forward keeps for the backward.
#[derive(Clone, Debug, Default)]
pub struct ExtraTrace {
    /// Activations `[T·B, G·H]` (ReLU: pre-activations; UGRNN: `c`, `g`).
    act: Vec<f32>,
    /// State entering each step `[T·B, H]`.
    h_prev: Vec<f32>,
    /// Outputs `[T·B, H]`.
    pub out: Vec<f32>,
    da: Vec<f32>,
    dh_next: Vec<f32>,
    w_hh_t: Vec<f32>,
}

/// Runs the layer over `time × batch` rows of `x` (`[T·B, in]`) from `h0` (`[B, H]`), with
/// optional additive `noise [T·B, H]` on each unit's candidate pre-activation (ReLU: the
/// pre-activation; UGRNN: `c`'s), as [`crate::nn::bptt::SeqLayout::noise`].
pub fn forward(
    w: &ExtraWeights,
    x: &[f32],
    time: usize,
    batch: usize,
    h0: &[f32],
    noise: Option<&[f32]>,
    tr: &mut ExtraTrace,
) {
    let (hd, g, n) = (w.hidden, w.kind.gates() * w.hidden, time * batch);
    assert_eq!(x.len(), n * w.inp, "input length");
    tr.act.clear();
    for _ in 0..n {
        tr.act.extend_from_slice(w.b);
    }
    gemm::nn(&mut tr.act, Acc::Add, x, w.w_ih, n, w.inp, g);
    if let Some(noise) = noise {
        assert_eq!(noise.len(), n * hd, "noise length");
        crate::nn::bptt::add_to_block(&mut tr.act, noise, g, 0, hd);
    }
    tr.h_prev.resize(n * hd, 0.0);
    tr.out.resize(n * hd, 0.0);
    for t in 0..time {
        let r = t * batch * hd..(t + 1) * batch * hd;
        if t == 0 {
            tr.h_prev[r.clone()].copy_from_slice(h0);
        } else {
            let (done, rest) = tr.out.split_at(r.start);
            let _ = rest;
            tr.h_prev[r.clone()].copy_from_slice(&done[r.start - batch * hd..]);
        }
        let a = &mut tr.act[t * batch * g..(t + 1) * batch * g];
        gemm::nn(a, Acc::Add, &tr.h_prev[r.clone()], w.w_hh, batch, hd, g);
        let (hp, out) = (&tr.h_prev[r.clone()], &mut tr.out[r]);
        match w.kind {
            ExtraKind::Relu => {
                for (o, &v) in out.iter_mut().zip(a.iter()) {
                    *o = v.max(0.0);
                }
            }
            ExtraKind::Ugrnn => {
                for b in 0..batch {
                    let row = &mut a[b * g..(b + 1) * g];
                    let (c, gt) = row.split_at_mut(hd);
                    tanh_in_place(c);
                    sigmoid_in_place(gt);
                    let (hp, o) = (&hp[b * hd..(b + 1) * hd], &mut out[b * hd..(b + 1) * hd]);
                    for j in 0..hd {
                        o[j] = gt[j] * hp[j] + (1.0 - gt[j]) * c[j];
                    }
                }
            }
        }
    }
}

/// Gradients of one layer: `w_ih`, `w_hh`, `b` (overwritten).
#[derive(Clone, Debug, Default)]
pub struct ExtraGrads {
    /// `[in, G·H]`.
    pub w_ih: Vec<f32>,
    /// `[H, G·H]`.
    pub w_hh: Vec<f32>,
    /// `[G·H]`.
    pub b: Vec<f32>,
}

/// Backpropagates `d_out = ∂L/∂h_t` (`[T·B, H]`) through the layer whose forward left `tr`.
pub fn backward(
    w: &ExtraWeights,
    x: &[f32],
    time: usize,
    batch: usize,
    tr: &mut ExtraTrace,
    d_out: &[f32],
    grads: &mut ExtraGrads,
) {
    let (hd, g, n) = (w.hidden, w.kind.gates() * w.hidden, time * batch);
    assert_eq!(d_out.len(), n * hd, "d_out length");
    let ExtraTrace { act, h_prev, out, da, dh_next, w_hh_t } = tr;
    da.resize(n * g, 0.0);
    dh_next.clear();
    dh_next.resize(batch * hd, 0.0);
    w_hh_t.resize(hd * g, 0.0);
    gemm::transpose(w.w_hh, hd, g, w_hh_t);
    let mut carry = vec![0.0f32; batch * hd];
    for t in (0..time).rev() {
        for b in 0..batch {
            let k = (t * batch + b) * hd;
            let a = &act[(t * batch + b) * g..(t * batch + b + 1) * g];
            let d = &mut da[(t * batch + b) * g..(t * batch + b + 1) * g];
            for j in 0..hd {
                let dh = d_out[k + j] + dh_next[b * hd + j];
                match w.kind {
                    ExtraKind::Relu => {
                        d[j] = if out[k + j] > 0.0 { dh } else { 0.0 };
                    }
                    ExtraKind::Ugrnn => {
                        let (c, gt) = (a[j], a[hd + j]);
                        d[j] = dh * (1.0 - gt) * (1.0 - c * c);
                        d[hd + j] = dh * (h_prev[k + j] - c) * gt * (1.0 - gt);
                        carry[b * hd + j] = dh * gt;
                    }
                }
            }
        }
        if t == 0 {
            break;
        }
        let rows = &da[t * batch * g..(t + 1) * batch * g];
        match w.kind {
            ExtraKind::Relu => gemm::nn(dh_next, Acc::Set, rows, w_hh_t, batch, g, hd),
            ExtraKind::Ugrnn => {
                dh_next.copy_from_slice(&carry);
                gemm::nn(dh_next, Acc::Add, rows, w_hh_t, batch, g, hd);
            }
        }
    }
    grads.w_ih.resize(w.inp * g, 0.0);
    grads.w_hh.resize(hd * g, 0.0);
    gemm::tn(&mut grads.w_hh, Acc::Set, h_prev, da, hd, n, g);
    gemm::tn(&mut grads.w_ih, Acc::Set, x, da, w.inp, n, g);
    grads.b.clear();
    grads.b.resize(g, 0.0);
    for row in da.chunks_exact(g) {
        for (o, v) in grads.b.iter_mut().zip(row) {
            *o += v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::{Dev, Tp, T2T};
    use dfdx::prelude::*;
    use rand::{Rng, SeedableRng};

    /// Hand BPTT against dfdx's autodiff: `‖Δ‖∞ ≤ REL_TOL · ‖dfdx‖∞` per gradient tensor.
    const REL_TOL: f32 = 1e-4;
    /// Forward outputs of the two paths.
    const FWD_TOL: f32 = 1e-5;

    struct Case {
        kind: ExtraKind,
        inp: usize,
        hd: usize,
        w_ih: Vec<f32>,
        w_hh: Vec<f32>,
        b: Vec<f32>,
        x: Vec<f32>,
        h0: Vec<f32>,
        /// Loss weights on the outputs: `L = Σ wts ⊙ h`.
        wts: Vec<f32>,
    }

    fn case(kind: ExtraKind, time: usize, batch: usize, seed: u64) -> Case {
        let (inp, hd) = (3, 5);
        let g = kind.gates() * hd;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut r = |n: usize, s: f32| -> Vec<f32> { (0..n).map(|_| rng.gen_range(-s..s)).collect() };
        Case {
            kind,
            inp,
            hd,
            w_ih: r(inp * g, 0.8),
            w_hh: r(hd * g, 0.6),
            b: r(g, 0.3),
            x: r(time * batch * inp, 1.0),
            h0: r(batch * hd, 1.0),
            wts: r(time * batch * hd, 1.0),
        }
    }

    /// dfdx: the cell written step by step from dfdx's matmul and element-wise ops; returns the
    /// outputs `[T·B, H]` and the gradients of `w_ih`, `w_hh`, `b`.
    fn dfdx_reference(c: &Case, time: usize, batch: usize) -> (Vec<f32>, [Vec<f32>; 3]) {
        let dev = Dev::default();
        let (hd, g) = (c.hd, c.kind.gates() * c.hd);
        let w_ih = dev.tensor_from_vec(c.w_ih.clone(), (c.inp, g));
        let w_hh = dev.tensor_from_vec(c.w_hh.clone(), (hd, g));
        let b = dev.tensor_from_vec(c.b.clone(), (g,));
        // Every op is recorded once: the recurrence reads an untaped copy of the state (on a
        // fresh tape), and each step's state carries its own ops into its loss term.
        let mut h: T2T<Tp> = dev.tensor_from_vec(c.h0.clone(), (batch, hd)).retaped::<Tp>();
        let mut outs = Vec::new();
        let mut loss_terms = Vec::new();
        for t in 0..time {
            let rows = t * batch * c.inp..(t + 1) * batch * c.inp;
            let xt = dev.tensor_from_vec(c.x[rows].to_vec(), (batch, c.inp)).retaped::<Tp>();
            let hp = h.retaped::<Tp>();
            let pre = xt.matmul(w_ih.clone())
                + hp.retaped::<Tp>().matmul(w_hh.clone())
                + b.retaped::<Tp>().broadcast_like::<_, Axis<0>>(&(batch, g));
            let next = match c.kind {
                ExtraKind::Relu => pre.relu(),
                ExtraKind::Ugrnn => {
                    let cand = pre.retaped::<Tp>().slice((.., 0..hd)).tanh();
                    let gate = pre.slice((.., hd..2 * hd)).sigmoid();
                    // h' = g h + (1 − g) c = c + g (h − c)
                    cand.retaped::<Tp>() + gate * (hp - cand)
                }
            };
            outs.extend(next.retaped::<NoneTape>().as_vec());
            let wt = dev.tensor_from_vec(c.wts[t * batch * hd..(t + 1) * batch * hd].to_vec(), (batch, hd));
            let keep = next.retaped::<Tp>();
            loss_terms.push((next * wt).sum::<(), _>());
            h = keep;
        }
        let loss = loss_terms.into_iter().reduce(|a, b| a + b).unwrap();
        let grads = loss.backward();
        (outs, [grads.get(&w_ih).as_vec(), grads.get(&w_hh).as_vec(), grads.get(&b).as_vec()])
    }

    fn max_abs(v: &[f32]) -> f32 {
        v.iter().fold(0.0f32, |m, x| m.max(x.abs()))
    }

    #[test]
    fn hand_bptt_equals_dfdx_autodiff() {
        for kind in [ExtraKind::Relu, ExtraKind::Ugrnn] {
            for (time, batch) in [(6, 1), (5, 3)] {
                let c = case(kind, time, batch, 3);
                let (out_ref, grads_ref) = dfdx_reference(&c, time, batch);
                let w = ExtraWeights { kind, inp: c.inp, hidden: c.hd, w_ih: &c.w_ih, w_hh: &c.w_hh, b: &c.b };
                let mut tr = ExtraTrace::default();
                forward(&w, &c.x, time, batch, &c.h0, None, &mut tr);
                assert_eq!(tr.out.len(), out_ref.len());
                for (a, b) in tr.out.iter().zip(&out_ref) {
                    assert!((a - b).abs() < FWD_TOL, "{kind:?} forward: {a} vs {b}");
                }
                let mut g = ExtraGrads::default();
                backward(&w, &c.x, time, batch, &mut tr, &c.wts, &mut g);
                for (name, h, r) in
                    [("w_ih", &g.w_ih, &grads_ref[0]), ("w_hh", &g.w_hh, &grads_ref[1]), ("b", &g.b, &grads_ref[2])]
                {
                    assert_eq!(h.len(), r.len(), "{kind:?} {name}");
                    let err = max_abs(&h.iter().zip(r).map(|(a, b)| a - b).collect::<Vec<_>>());
                    assert!(
                        err <= REL_TOL * max_abs(r) && max_abs(r) > 0.0,
                        "{kind:?} batch {batch} {name}: max |Δ| {err} vs max |g| {}",
                        max_abs(r)
                    );
                }
            }
        }
    }
}
