//! Recurrent layers over whole sequences on plain buffers: a forward that keeps what the
//! backward needs, and a hand-written backpropagation through time with batched GEMMs.
//!
//! Same cells, gate order and weight layout as [`crate::nn::cells`] (whose dfdx versions are
//! the reference: a test holds these gradients to dfdx's autodiff). The work is arranged so
//! that per time step only the recurrent product remains:
//!
//! - forward: the input projections of all `T·B` rows in one GEMM (`x W_ih + b`), then per
//!   step `h_{t-1} W_hh` and the element-wise gate equations;
//! - backward: per step the element-wise gate derivatives and `dA_t W_hhᵀ` (the gradient
//!   flowing to `h_{t-1}`); after the loop one GEMM each for `dW_hh = Σ_t h_{t-1}ᵀ dA_t`
//!   (`[H, T·B] × [T·B, G·H]`), `dW_ih = xᵀ dA` and, for a stacked layer, `dx = dA W_ihᵀ`.
//!
//! Episode starts: the state entering step `t ≥ 1` of sequence `b` is zeroed when
//! `starts[t·B + b]`; no gradient flows through a reset. The state entering step 0 is data
//! (stored at collection), so it gets no gradient either: this is truncated BPTT over the
//! given sequences, as before.

use super::act::{sigmoid_in_place, tanh_in_place};
use super::cells::CellKind;
use super::gemm::{self, Acc};

/// The weights of one recurrent layer, row-major, laid out as [`crate::nn::cells::Cell`]'s.
#[derive(Clone, Copy, Debug)]
pub struct CellWeights<'a> {
    /// Cell type.
    pub kind: CellKind,
    /// Input width.
    pub inp: usize,
    /// Hidden width `H`.
    pub hidden: usize,
    /// `[in, G·H]`.
    pub w_ih: &'a [f32],
    /// `[H, G·H]`.
    pub w_hh: &'a [f32],
    /// `[G·H]`: `b_ih + b_hh` (RNN, LSTM) or `b_ih` (GRU).
    pub b_ih: &'a [f32],
    /// GRU only: `[3H]`.
    pub b_hh: Option<&'a [f32]>,
}

impl CellWeights<'_> {
    fn g(&self) -> usize {
        self.kind.gates() * self.hidden
    }
}

/// Shape and episode starts of a batch of sequences, time-major (`row = t·batch + b`).
#[derive(Clone, Copy, Debug)]
pub struct SeqLayout<'a> {
    /// Steps.
    pub time: usize,
    /// Sequences.
    pub batch: usize,
    /// Episode-start flags `[time, batch]` (None: no resets inside the sequences).
    pub starts: Option<&'a [bool]>,
    /// Additive noise on each unit's candidate pre-activation, `[T·B, H]` (None: none):
    /// the vanilla RNN's `a` in `h = tanh(a)`, the GRU's `n` and the LSTM's `g` (cell input)
    /// blocks. It enters the stored activations, so [`backward`] is the exact gradient of
    /// the loss under that draw (the noise is a constant of the graph, like the input).
    pub noise: Option<&'a [f32]>,
}

impl SeqLayout<'_> {
    /// Whether the state entering step `t` of sequence `b` is zeroed.
    #[inline]
    fn reset(&self, t: usize, b: usize) -> bool {
        t > 0 && self.starts.is_some_and(|s| s[t * self.batch + b])
    }
}

/// What the forward of one layer keeps for the backward (buffers are reused across calls).
#[derive(Clone, Debug, Default)]
pub struct LayerTrace {
    /// Gate activations `[T·B, G·H]`: LSTM `i f g o`, GRU `r z n` (RNN: unused pre-activations).
    act: Vec<f32>,
    /// GRU: `h_{t-1} W_hn + b_hn`, `[T·B, H]`.
    hn: Vec<f32>,
    /// State entering each step, after the reset mask, `[T·B, H]`.
    h_prev: Vec<f32>,
    /// LSTM: cell state entering each step, after the mask, `[T·B, H]`.
    c_prev: Vec<f32>,
    /// LSTM: `tanh(c_t)`, `[T·B, H]`.
    tanh_c: Vec<f32>,
    /// Outputs `h_t`, `[T·B, H]`.
    pub out: Vec<f32>,
    /// LSTM: the cell state after the last step, `[B, H]`.
    pub c_last: Vec<f32>,
    /// Scratch for the GRU's hidden projection of one step, `[B, 3H]`.
    gh: Vec<f32>,
}

/// Gradients of one layer's parameters (same layouts as [`CellWeights`]).
#[derive(Clone, Debug, Default)]
pub struct CellGrads {
    /// `[in, G·H]`.
    pub w_ih: Vec<f32>,
    /// `[H, G·H]`.
    pub w_hh: Vec<f32>,
    /// `[G·H]`.
    pub b_ih: Vec<f32>,
    /// GRU only (else empty): `[3H]`.
    pub b_hh: Vec<f32>,
}

/// Scratch buffers of the backward, reused across calls.
#[derive(Clone, Debug, Default)]
pub struct BpttScratch {
    /// Gradient of the gate pre-activations (GRU: of the input projection), `[T·B, G·H]`.
    da: Vec<f32>,
    /// GRU: gradient of the hidden projection, `[T·B, 3H]`.
    dgh: Vec<f32>,
    dh_next: Vec<f32>,
    dc_next: Vec<f32>,
    carry: Vec<f32>,
    w_hh_t: Vec<f32>,
}

/// Sets `v` to `n` zeros.
fn zeros(v: &mut Vec<f32>, n: usize) {
    v.clear();
    v.resize(n, 0.0);
}

/// Sets the length of `v` to `n` without clearing it (for buffers the caller overwrites).
fn resize(v: &mut Vec<f32>, n: usize) {
    v.resize(n, 0.0);
}

/// Batches of at most this many rows take the recurrent product row by row
/// ([`gemm::row_add`]); larger ones one faer GEMM.
const ROW_WISE_MAX: usize = 2;

/// `dst [m, g] += h [m, k] · w [k, g]`.
fn recurrent_mm(dst: &mut [f32], h: &[f32], w: &[f32], m: usize, k: usize, g: usize) {
    if m <= ROW_WISE_MAX {
        for r in 0..m {
            gemm::row_add(&mut dst[r * g..(r + 1) * g], &h[r * k..(r + 1) * k], w, k, g);
        }
    } else {
        gemm::nn(dst, Acc::Add, h, w, m, k, g);
    }
}

/// Runs one layer over the sequences. `x` is `[T·B, in]`, `h0` (and `c0` for an LSTM) the
/// state entering step 0, `[B, H]`. Outputs land in `tr.out` (and `tr.c_last`).
pub fn forward(w: &CellWeights, x: &[f32], seq: SeqLayout, h0: &[f32], c0: Option<&[f32]>, tr: &mut LayerTrace) {
    let (tn, bn, hd, g) = (seq.time, seq.batch, w.hidden, w.g());
    let n = tn * bn;
    assert_eq!(x.len(), n * w.inp, "input length");
    assert_eq!(h0.len(), bn * hd, "h0 length");
    // Input projections of every row at once.
    tr.act.clear();
    for _ in 0..n {
        tr.act.extend_from_slice(w.b_ih);
    }
    gemm::nn(&mut tr.act, Acc::Add, x, w.w_ih, n, w.inp, g);
    if let Some(noise) = seq.noise {
        assert_eq!(noise.len(), n * hd, "noise length");
        let block = match w.kind {
            CellKind::Rnn => 0,
            CellKind::Gru | CellKind::Lstm => 2,
        };
        add_to_block(&mut tr.act, noise, g, block * hd, hd);
    }
    resize(&mut tr.h_prev, n * hd);
    resize(&mut tr.out, n * hd);
    let lstm = w.kind == CellKind::Lstm;
    if lstm {
        resize(&mut tr.c_prev, n * hd);
        resize(&mut tr.tanh_c, n * hd);
        tr.c_last.clear();
        tr.c_last.extend_from_slice(c0.expect("an LSTM needs c0"));
    }
    if w.kind == CellKind::Gru {
        resize(&mut tr.hn, n * hd);
        resize(&mut tr.gh, bn * g);
    }
    for t in 0..tn {
        let r0 = t * bn;
        // The state entering step t, masked at episode starts.
        for b in 0..bn {
            let dst = (r0 + b) * hd..(r0 + b + 1) * hd;
            if seq.reset(t, b) {
                tr.h_prev[dst.clone()].fill(0.0);
                if lstm {
                    tr.c_last[b * hd..(b + 1) * hd].fill(0.0);
                }
            } else if t == 0 {
                tr.h_prev[dst.clone()].copy_from_slice(&h0[b * hd..(b + 1) * hd]);
            } else {
                let prev = dst.start - bn * hd..dst.end - bn * hd;
                tr.h_prev[dst.clone()].copy_from_slice(&tr.out[prev]);
            }
            if lstm {
                tr.c_prev[dst].copy_from_slice(&tr.c_last[b * hd..(b + 1) * hd]);
            }
        }
        let hp = &tr.h_prev[r0 * hd..(r0 + bn) * hd];
        match w.kind {
            CellKind::Rnn => {
                let a = &mut tr.act[r0 * g..(r0 + bn) * g];
                recurrent_mm(a, hp, w.w_hh, bn, hd, g);
                let out = &mut tr.out[r0 * hd..(r0 + bn) * hd];
                out.copy_from_slice(a);
                tanh_in_place(out);
            }
            CellKind::Lstm => {
                let a = &mut tr.act[r0 * g..(r0 + bn) * g];
                recurrent_mm(a, hp, w.w_hh, bn, hd, g);
                for b in 0..bn {
                    let row = &mut a[b * g..(b + 1) * g];
                    let (i, rest) = row.split_at_mut(hd);
                    let (f, rest) = rest.split_at_mut(hd);
                    let (gg, o) = rest.split_at_mut(hd);
                    let c = &mut tr.c_last[b * hd..(b + 1) * hd];
                    let k = (r0 + b) * hd..(r0 + b + 1) * hd;
                    let (tc, out) = (&mut tr.tanh_c[k.clone()], &mut tr.out[k]);
                    sigmoid_in_place(i);
                    sigmoid_in_place(f);
                    tanh_in_place(gg);
                    sigmoid_in_place(o);
                    for j in 0..hd {
                        c[j] = f[j] * c[j] + i[j] * gg[j];
                        tc[j] = c[j];
                    }
                    tanh_in_place(tc);
                    for j in 0..hd {
                        out[j] = o[j] * tc[j];
                    }
                }
            }
            CellKind::Gru => {
                let b_hh = w.b_hh.expect("a GRU has bias_hh");
                for row in tr.gh.chunks_exact_mut(g) {
                    row.copy_from_slice(b_hh);
                }
                recurrent_mm(&mut tr.gh, hp, w.w_hh, bn, hd, g);
                for b in 0..bn {
                    let row = &mut tr.act[(r0 + b) * g..(r0 + b + 1) * g];
                    let gh = &tr.gh[b * g..(b + 1) * g];
                    let k = (r0 + b) * hd..(r0 + b + 1) * hd;
                    let hp = &tr.h_prev[k.clone()];
                    let (hn, out) = (&mut tr.hn[k.clone()], &mut tr.out[k]);
                    for (x, &h) in row[..2 * hd].iter_mut().zip(&gh[..2 * hd]) {
                        *x += h;
                    }
                    sigmoid_in_place(&mut row[..2 * hd]);
                    hn.copy_from_slice(&gh[2 * hd..]);
                    let (rz, n) = row.split_at_mut(2 * hd);
                    for j in 0..hd {
                        n[j] += rz[j] * hn[j];
                    }
                    tanh_in_place(n);
                    for j in 0..hd {
                        out[j] = n[j] + rz[hd + j] * (hp[j] - n[j]);
                    }
                }
            }
        }
    }
}

/// Where [`backward`] writes.
#[derive(Debug)]
pub struct BackwardOut<'a> {
    /// The parameter gradients (overwritten).
    pub grads: &'a mut CellGrads,
    /// When given, `∂L/∂x`, `[T·B, in]` (overwritten): the gradient for the layer below.
    pub dx: Option<&'a mut [f32]>,
}

/// Backpropagates `d_out = ∂L/∂h_t` (`[T·B, H]`, the gradient reaching each output from
/// above) through the layer whose forward left `tr`, into `out`.
pub fn backward(
    w: &CellWeights,
    x: &[f32],
    seq: SeqLayout,
    tr: &LayerTrace,
    d_out: &[f32],
    out: BackwardOut,
    ws: &mut BpttScratch,
) {
    let BackwardOut { grads, dx } = out;
    let (tn, bn, hd, g) = (seq.time, seq.batch, w.hidden, w.g());
    let n = tn * bn;
    assert_eq!(d_out.len(), n * hd, "d_out length");
    resize(&mut ws.da, n * g);
    zeros(&mut ws.dh_next, bn * hd);
    resize(&mut ws.carry, bn * hd);
    if w.kind == CellKind::Lstm {
        zeros(&mut ws.dc_next, bn * hd);
    }
    if w.kind == CellKind::Gru {
        resize(&mut ws.dgh, n * g);
    }
    // dA_t W_hhᵀ on a transposed copy of W_hh (a row-major right operand).
    resize(&mut ws.w_hh_t, hd * g);
    gemm::transpose(w.w_hh, hd, g, &mut ws.w_hh_t);
    let BpttScratch { da, dgh, dh_next, dc_next, carry, w_hh_t } = ws;
    let back_mm = |dst: &mut [f32], acc: Acc, d: &[f32]| {
        if acc == Acc::Set {
            dst.fill(0.0);
        }
        recurrent_mm(dst, d, w_hh_t, bn, g, hd);
    };
    for t in (0..tn).rev() {
        let r0 = t * bn;
        for b in 0..bn {
            let k = (r0 + b) * hd..(r0 + b + 1) * hd;
            let dout = &d_out[k.clone()];
            let dhn = &mut dh_next[b * hd..(b + 1) * hd];
            let a = &tr.act[(r0 + b) * g..(r0 + b + 1) * g];
            let d = &mut da[(r0 + b) * g..(r0 + b + 1) * g];
            match w.kind {
                CellKind::Rnn => {
                    let h = &tr.out[k];
                    for j in 0..hd {
                        let dh = dout[j] + dhn[j];
                        d[j] = dh * (1.0 - h[j] * h[j]);
                    }
                }
                CellKind::Lstm => {
                    let (tc, cp) = (&tr.tanh_c[k.clone()], &tr.c_prev[k]);
                    let dcn = &mut dc_next[b * hd..(b + 1) * hd];
                    for j in 0..hd {
                        let dh = dout[j] + dhn[j];
                        let (i, f, gg, o) = (a[j], a[hd + j], a[2 * hd + j], a[3 * hd + j]);
                        let dc = dcn[j] + dh * o * (1.0 - tc[j] * tc[j]);
                        d[j] = dc * gg * i * (1.0 - i);
                        d[hd + j] = dc * cp[j] * f * (1.0 - f);
                        d[2 * hd + j] = dc * i * (1.0 - gg * gg);
                        d[3 * hd + j] = dh * tc[j] * o * (1.0 - o);
                        dcn[j] = dc * f;
                    }
                }
                CellKind::Gru => {
                    let (hp, hn) = (&tr.h_prev[k.clone()], &tr.hn[k]);
                    let dg = &mut dgh[(r0 + b) * g..(r0 + b + 1) * g];
                    let cr = &mut carry[b * hd..(b + 1) * hd];
                    for j in 0..hd {
                        let dh = dout[j] + dhn[j];
                        let (r, z, nn) = (a[j], a[hd + j], a[2 * hd + j]);
                        let dan = dh * (1.0 - z) * (1.0 - nn * nn);
                        let dar = dan * hn[j] * r * (1.0 - r);
                        let daz = dh * (hp[j] - nn) * z * (1.0 - z);
                        d[j] = dar;
                        d[hd + j] = daz;
                        d[2 * hd + j] = dan;
                        dg[j] = dar;
                        dg[hd + j] = daz;
                        dg[2 * hd + j] = dan * r;
                        cr[j] = dh * z;
                    }
                }
            }
        }
        if t == 0 {
            break;
        }
        // Gradient reaching the state that entered step t.
        match w.kind {
            CellKind::Gru => {
                dh_next.copy_from_slice(carry);
                back_mm(dh_next, Acc::Add, &dgh[r0 * g..(r0 + bn) * g]);
            }
            _ => back_mm(dh_next, Acc::Set, &da[r0 * g..(r0 + bn) * g]),
        }
        for b in 0..bn {
            if seq.reset(t, b) {
                dh_next[b * hd..(b + 1) * hd].fill(0.0);
                if w.kind == CellKind::Lstm {
                    dc_next[b * hd..(b + 1) * hd].fill(0.0);
                }
            }
        }
    }
    // Weight gradients: one GEMM each over all T·B rows.
    resize(&mut grads.w_ih, w.inp * g);
    resize(&mut grads.w_hh, hd * g);
    let d_hidden: &[f32] = if w.kind == CellKind::Gru { dgh } else { da };
    gemm::tn(&mut grads.w_hh, Acc::Set, &tr.h_prev, d_hidden, hd, n, g);
    gemm::tn(&mut grads.w_ih, Acc::Set, x, da, w.inp, n, g);
    col_sums(da, g, &mut grads.b_ih);
    if w.kind == CellKind::Gru {
        col_sums(dgh, g, &mut grads.b_hh);
    } else {
        grads.b_hh.clear();
    }
    if let Some(dx) = dx {
        gemm::nt(dx, Acc::Set, da, w.w_ih, n, g, w.inp);
    }
}

/// `act[r, off..off + h] += noise[r, ..]` for every row `r` of `act` (`[n, g]`, `noise [n, h]`).
pub(crate) fn add_to_block(act: &mut [f32], noise: &[f32], g: usize, off: usize, h: usize) {
    for (row, nz) in act.chunks_exact_mut(g).zip(noise.chunks_exact(h)) {
        for (a, &v) in row[off..off + h].iter_mut().zip(nz) {
            *a += v;
        }
    }
}

fn col_sums(m: &[f32], cols: usize, out: &mut Vec<f32>) {
    zeros(out, cols);
    for row in m.chunks_exact(cols) {
        for (o, v) in out.iter_mut().zip(row) {
            *o += v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::cells::{Cell, CellState};
    use crate::nn::{Dev, Params, Tp, T2T};
    use dfdx::prelude::*;
    use rand::{Rng, SeedableRng};

    /// Hand BPTT against dfdx's autodiff: `‖Δ‖∞ ≤ REL_TOL · ‖dfdx‖∞` per gradient tensor.
    const REL_TOL: f32 = 1e-4;
    /// Forward outputs of the two paths.
    const FWD_TOL: f32 = 1e-5;

    struct Case {
        params: Params,
        cells: Vec<Cell>,
        x: Vec<f32>,
        /// Per layer: `h0`, `c0`.
        state0: Vec<(Vec<f32>, Vec<f32>)>,
        starts: Vec<bool>,
        /// Loss weights on the top layer's outputs.
        wts: Vec<f32>,
    }

    fn case(kind: CellKind, layers: usize, time: usize, batch: usize, seed: u64) -> Case {
        let (inp, hd) = (3, 5);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut params = Params::new(Dev::default());
        let mut cells = Vec::new();
        let mut width = inp;
        for l in 0..layers {
            cells.push(Cell::new(&mut params, &format!("l{l}"), kind, width, hd, &mut rng));
            width = hd;
        }
        // Non-zero biases so every term of the gradient is exercised.
        for id in 0..params.items().len() {
            let v: Vec<f32> = params.items()[id].values().iter().map(|w| w + rng.gen_range(-0.3..0.3)).collect();
            params.set(id, &v);
        }
        let mut r = |n: usize| -> Vec<f32> { (0..n).map(|_| rng.gen_range(-1.0..1.0)).collect() };
        let x = r(time * batch * inp);
        let state0 = (0..layers).map(|_| (r(batch * hd), r(batch * hd))).collect();
        let wts = r(time * batch * hd);
        let mut starts = vec![false; time * batch];
        starts[2 * batch] = true;
        starts[3 * batch + batch - 1] = true;
        Case { params, cells, x, state0, starts, wts }
    }

    /// dfdx: the step-by-step cells with masks, loss `Σ wts ⊙ h_top`; returns the top
    /// outputs and every parameter's gradient.
    fn dfdx_reference(c: &Case, time: usize, batch: usize) -> (Vec<f32>, Vec<Vec<f32>>) {
        let p = &c.params;
        let dev = p.dev().clone();
        let n = time * batch;
        let mut x: T2T<Tp> = dev.tensor_from_vec(c.x.clone(), (n, c.cells[0].inp)).retaped::<Tp>();
        for (cell, (h0, c0)) in c.cells.iter().zip(&c.state0) {
            let hd = cell.hidden;
            let mut st = CellState {
                h: dev.tensor_from_vec(h0.clone(), (batch, hd)).retaped::<Tp>(),
                c: (cell.kind == CellKind::Lstm).then(|| dev.tensor_from_vec(c0.clone(), (batch, hd)).retaped::<Tp>()),
            };
            let mut xp = Some(cell.input_proj(p, x));
            let mut outs = Vec::new();
            for t in 0..time {
                let rows = t * batch..(t + 1) * batch;
                let xt = if t + 1 < time {
                    xp.as_ref().unwrap().retaped::<Tp>().slice((rows, ..))
                } else {
                    xp.take().unwrap().slice((rows, ..))
                };
                let row = &c.starts[t * batch..(t + 1) * batch];
                if t > 0 && row.iter().any(|&f| f) {
                    let keep: Vec<f32> =
                        row.iter().flat_map(|&f| std::iter::repeat_n(if f { 0.0 } else { 1.0 }, hd)).collect();
                    let keep = dev.tensor_from_vec(keep, (batch, hd));
                    st.h = st.h * keep.clone();
                    st.c = st.c.map(|c| c * keep);
                }
                st = cell.step(p, xt, st);
                outs.push(st.h.retaped::<Tp>());
            }
            outs.pop();
            let h = match st.c {
                Some(cc) => {
                    let (_, ct) = cc.split_tape();
                    let (hv, ht) = st.h.split_tape();
                    hv.put_tape(ht.merge(ct))
                }
                None => st.h,
            };
            outs.push(h);
            x = outs.stack().reshape_like(&(n, hd));
        }
        let out = x.retaped::<NoneTape>().as_vec();
        let hd = c.cells.last().unwrap().hidden;
        let loss = (x * dev.tensor_from_vec(c.wts.clone(), (n, hd))).sum::<(), _>();
        let grads = loss.backward();
        (out, p.items().iter().map(|it| grads.get(&it.tensor).as_vec()).collect())
    }

    fn max_abs(v: &[f32]) -> f32 {
        v.iter().fold(0.0f32, |m, x| m.max(x.abs()))
    }

    #[test]
    fn hand_bptt_equals_dfdx_autodiff() {
        for kind in [CellKind::Rnn, CellKind::Gru, CellKind::Lstm] {
            // One sequence (the matrix-vector path) and three (the transposed-copy path).
            for (layers, time, batch) in [(1, 6, 1), (2, 5, 3)] {
                let c = case(kind, layers, time, batch, 3);
                let (out_ref, grads_ref) = dfdx_reference(&c, time, batch);
                let vals = c.params.to_vecs();
                let weights: Vec<CellWeights> = c
                    .cells
                    .iter()
                    .map(|cell| CellWeights {
                        kind,
                        inp: cell.inp,
                        hidden: cell.hidden,
                        w_ih: &vals[cell.w_ih],
                        w_hh: &vals[cell.w_hh],
                        b_ih: &vals[cell.b_ih],
                        b_hh: cell.b_hh.map(|id| &vals[id][..]),
                    })
                    .collect();
                let seq = SeqLayout { time, batch, starts: Some(&c.starts), noise: None };
                let mut traces = vec![LayerTrace::default(); layers];
                for l in 0..layers {
                    let (done, rest) = traces.split_at_mut(l);
                    let x = if l == 0 { &c.x[..] } else { &done[l - 1].out[..] };
                    let (h0, c0) = &c.state0[l];
                    forward(&weights[l], x, seq, h0, Some(c0), &mut rest[0]);
                }
                let out = &traces[layers - 1].out;
                for (a, b) in out.iter().zip(&out_ref) {
                    assert!((a - b).abs() < FWD_TOL, "{kind:?} forward: {a} vs {b}");
                }
                let mut ws = BpttScratch::default();
                let mut d_out = c.wts.clone();
                let mut hand = vec![Vec::new(); vals.len()];
                for l in (0..layers).rev() {
                    let x = if l == 0 { &c.x[..] } else { &traces[l - 1].out[..] };
                    let mut g = CellGrads::default();
                    let mut dx = vec![0.0; time * batch * weights[l].inp];
                    let out = BackwardOut { grads: &mut g, dx: Some(&mut dx) };
                    backward(&weights[l], x, seq, &traces[l], &d_out, out, &mut ws);
                    let cell = &c.cells[l];
                    hand[cell.w_ih] = g.w_ih;
                    hand[cell.w_hh] = g.w_hh;
                    hand[cell.b_ih] = g.b_ih;
                    if let Some(id) = cell.b_hh {
                        hand[id] = g.b_hh;
                    }
                    d_out = dx;
                }
                for (i, (h, r)) in hand.iter().zip(&grads_ref).enumerate() {
                    let name = &c.params.items()[i].name;
                    assert_eq!(h.len(), r.len(), "{kind:?} {name}");
                    let err = max_abs(&h.iter().zip(r).map(|(a, b)| a - b).collect::<Vec<_>>());
                    assert!(
                        err <= REL_TOL * max_abs(r) && max_abs(r) > 0.0,
                        "{kind:?} layers {layers} batch {batch} {name}: max |Δ| {err} vs max |g| {}",
                        max_abs(r)
                    );
                }
            }
        }
    }
}
