//! The two recurrent cells the supervised battery needs beyond [`crate::nn::bptt`]'s: a
//! vanilla RNN with ReLU, and the UGRNN (update-gate RNN, Collins, Sohl-Dickstein & Sussillo
//! 2017). Same conventions as [`crate::nn::bptt`]: time-major rows `t·B + b`, weights
//! `w_ih [in, G·H]`, `w_hh [H, G·H]`, one bias `[G·H]`; input projections in one GEMM, one
//! recurrent GEMM per step, weight gradients in one GEMM each after the loop. Sequences start
//! from the given `h0` and have no resets inside.
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

/// Runs the layer over `time × batch` rows of `x` (`[T·B, in]`) from `h0` (`[B, H]`).
pub fn forward(w: &ExtraWeights, x: &[f32], time: usize, batch: usize, h0: &[f32], tr: &mut ExtraTrace) {
    let (hd, g, n) = (w.hidden, w.kind.gates() * w.hidden, time * batch);
    assert_eq!(x.len(), n * w.inp, "input length");
    tr.act.clear();
    for _ in 0..n {
        tr.act.extend_from_slice(w.b);
    }
    gemm::nn(&mut tr.act, Acc::Add, x, w.w_ih, n, w.inp, g);
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

    /// Hand BPTT against dfdx's autodiff, as for the cells of [`crate::nn::bptt`]:
    /// `‖Δ‖∞ ≤ 1e-4 · ‖dfdx‖∞` per gradient tensor, forward outputs within 1e-5.
    #[test]
    fn extra_cells_match_dfdx_autodiff() {
        let (inp, hd, time, batch) = (3usize, 5usize, 6usize, 3usize);
        for kind in [ExtraKind::Relu, ExtraKind::Ugrnn] {
            let g = kind.gates() * hd;
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
            let mut r = |n: usize, s: f32| -> Vec<f32> { (0..n).map(|_| rng.gen_range(-s..s)).collect() };
            let (w_ih, w_hh, b) = (r(inp * g, 0.8), r(hd * g, 0.6), r(g, 0.3));
            let (x, h0, wts) = (r(time * batch * inp, 1.0), r(batch * hd, 1.0), r(time * batch * hd, 1.0));
            // dfdx reference, step by step, one weight tensor per gate block.
            let dev = Dev::default();
            let cols = |m: &[f32], rows: usize, blk: usize| -> Vec<f32> {
                (0..rows).flat_map(|i| m[i * g + blk * hd..i * g + (blk + 1) * hd].to_vec()).collect()
            };
            let blocks: Vec<_> = (0..kind.gates())
                .map(|k| {
                    (
                        dev.tensor_from_vec(cols(&w_ih, inp, k), (inp, hd)),
                        dev.tensor_from_vec(cols(&w_hh, hd, k), (hd, hd)),
                        dev.tensor_from_vec(b[k * hd..(k + 1) * hd].to_vec(), (hd,)),
                    )
                })
                .collect();
            let mut h: T2T<Tp> = dev.tensor_from_vec(h0.clone(), (batch, hd)).retaped::<Tp>();
            let mut loss_terms = Vec::new();
            let mut outs_ref = Vec::new();
            for t in 0..time {
                let xt = dev.tensor_from_vec(x[t * batch * inp..(t + 1) * batch * inp].to_vec(), (batch, inp));
                let pre = |k: usize, h: T2T<Tp>| -> T2T<Tp> {
                    let (wi, wh, bb) = &blocks[k];
                    h.matmul(wh.clone()) + xt.clone().matmul(wi.clone()) + bb.clone().broadcast_like(&(batch, hd))
                };
                h = match kind {
                    ExtraKind::Relu => pre(0, h).relu(),
                    ExtraKind::Ugrnn => {
                        let c = pre(0, h.retaped::<Tp>()).tanh();
                        let gt = pre(1, h.retaped::<Tp>()).sigmoid();
                        let one_minus = gt.retaped::<Tp>().negate() + 1.0;
                        gt * h + one_minus * c
                    }
                };
                outs_ref.push(h.retaped::<NoneTape>().as_vec());
                let wt = dev.tensor_from_vec(wts[t * batch * hd..(t + 1) * batch * hd].to_vec(), (batch, hd));
                loss_terms.push((h.retaped::<Tp>() * wt).sum::<(), _>());
            }
            let loss = loss_terms.into_iter().reduce(|a, b| a + b).unwrap();
            let gr = loss.backward();
            let mut want_ih = vec![0.0; inp * g];
            let mut want_hh = vec![0.0; hd * g];
            let mut want_b = vec![0.0; g];
            for (k, (wi, wh, bb)) in blocks.iter().enumerate() {
                let (gi, gh, gb) = (gr.get(wi).as_vec(), gr.get(wh).as_vec(), gr.get(bb).as_vec());
                for i in 0..inp {
                    want_ih[i * g + k * hd..i * g + (k + 1) * hd].copy_from_slice(&gi[i * hd..(i + 1) * hd]);
                }
                for i in 0..hd {
                    want_hh[i * g + k * hd..i * g + (k + 1) * hd].copy_from_slice(&gh[i * hd..(i + 1) * hd]);
                }
                want_b[k * hd..(k + 1) * hd].copy_from_slice(&gb);
            }
            // Hand path.
            let w = ExtraWeights { kind, inp, hidden: hd, w_ih: &w_ih, w_hh: &w_hh, b: &b };
            let mut tr = ExtraTrace::default();
            forward(&w, &x, time, batch, &h0, &mut tr);
            for (a, e) in tr.out.iter().zip(outs_ref.concat()) {
                assert!((a - e).abs() < 1e-5, "{kind:?} forward {a} vs {e}");
            }
            let mut grads = ExtraGrads::default();
            backward(&w, &x, time, batch, &mut tr, &wts, &mut grads);
            let max = |v: &[f32]| v.iter().fold(0.0f32, |m, x| m.max(x.abs()));
            for (name, hand, want) in
                [("w_ih", &grads.w_ih, &want_ih), ("w_hh", &grads.w_hh, &want_hh), ("b", &grads.b, &want_b)]
            {
                let err = max(&hand.iter().zip(want.iter()).map(|(a, b)| a - b).collect::<Vec<_>>());
                assert!(max(want) > 0.0 && err <= 1e-4 * max(want), "{kind:?} {name}: {err} vs {}", max(want));
            }
        }
    }
}
