//! Recurrent cells (vanilla RNN, GRU, LSTM) with PyTorch's gate equations and ordering.
//!
//! dfdx 0.13 has no recurrent modules; these are written from its matmul and element-wise
//! ops with a runtime batch size. They define the parameters and serve as the autodiff
//! reference: the policy runs the same equations by hand over whole sequences
//! ([`crate::nn::bptt`], a test holds its gradients to these cells' dfdx backward). Weights are stored transposed with respect to PyTorch
//! (`weight_ih` is `[in, G·H]`, PyTorch's `weight_ih_l0` is `[G·H, in]`), gates in PyTorch's
//! order, so a PyTorch module loads them as `weight_ih_l0 = weight_ih.T`.
//!
//! - RNN (`torch.nn.RNN`, tanh): `h' = tanh(x W_ih + h W_hh + b)`, `b = b_ih + b_hh`.
//! - GRU (`torch.nn.GRU`, gate order r, z, n):
//!   `r = σ(x W_ir + b_ir + h W_hr + b_hr)`,
//!   `z = σ(x W_iz + b_iz + h W_hz + b_hz)`,
//!   `n = tanh(x W_in + b_in + r ⊙ (h W_hn + b_hn))`,
//!   `h' = (1 − z) ⊙ n + z ⊙ h`. Both biases are kept (`bias_ih`, `bias_hh`) because
//!   `b_hn` sits inside the reset gate.
//! - LSTM (`torch.nn.LSTM`, gate order i, f, g, o):
//!   `i = σ(x W_ii + h W_hi + b_i)`, `f = σ(x W_if + h W_hf + b_f)`,
//!   `g = tanh(x W_ig + h W_hg + b_g)`, `o = σ(x W_io + h W_ho + b_o)`,
//!   `c' = f ⊙ c + i ⊙ g`, `h' = o ⊙ tanh(c')`; one bias `b = b_ih + b_hh`
//!   (load into PyTorch as `bias_ih_l0 = bias`, `bias_hh_l0 = 0`).

use super::linear::bias;
use super::{ParamId, Params, T2T};
use dfdx::prelude::*;
use rand::Rng;
use serde::{Deserialize, Serialize};

/// Which recurrent cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CellKind {
    /// Elman RNN with tanh.
    Rnn,
    /// Gated recurrent unit.
    Gru,
    /// Long short-term memory.
    Lstm,
}

impl CellKind {
    /// Number of gate blocks `G` in the fused weights.
    pub fn gates(self) -> usize {
        match self {
            CellKind::Rnn => 1,
            CellKind::Gru => 3,
            CellKind::Lstm => 4,
        }
    }
    /// Number of `[batch, hidden]` state tensors (LSTM carries `h` and `c`).
    pub fn states(self) -> usize {
        match self {
            CellKind::Lstm => 2,
            _ => 1,
        }
    }
}

/// One recurrent layer.
#[derive(Clone, Copy, Debug)]
pub struct Cell {
    /// Cell type.
    pub kind: CellKind,
    /// Input width.
    pub inp: usize,
    /// Hidden width `H`.
    pub hidden: usize,
    /// `[in, G·H]`.
    pub w_ih: ParamId,
    /// `[H, G·H]`.
    pub w_hh: ParamId,
    /// `[1, G·H]`: `b_ih + b_hh` (RNN, LSTM) or `b_ih` (GRU).
    pub b_ih: ParamId,
    /// GRU only: `[1, 3H]`, `b_hh`.
    pub b_hh: Option<ParamId>,
}

/// The state of one layer for a batch: `h [batch, H]` and, for an LSTM, `c [batch, H]`.
pub struct CellState<T> {
    /// Hidden output.
    pub h: T2T<T>,
    /// LSTM cell state.
    pub c: Option<T2T<T>>,
}

impl Cell {
    /// Registers `{prefix}.weight_ih`, `.weight_hh` (orthogonal, gain 1, as CleanRL's
    /// `ppo_atari_lstm.py`), `.bias` / `.bias_ih`, `.bias_hh` (zeros).
    pub fn new<R: Rng>(
        params: &mut Params,
        prefix: &str,
        kind: CellKind,
        inp: usize,
        hidden: usize,
        rng: &mut R,
    ) -> Self {
        let g = kind.gates() * hidden;
        let w_ih = params.add_orthogonal(format!("{prefix}.weight_ih"), inp, g, 1.0, rng);
        let w_hh = params.add_orthogonal(format!("{prefix}.weight_hh"), hidden, g, 1.0, rng);
        let (b_ih, b_hh) = if kind == CellKind::Gru {
            (
                params.add_zeros(format!("{prefix}.bias_ih"), 1, g),
                Some(params.add_zeros(format!("{prefix}.bias_hh"), 1, g)),
            )
        } else {
            (params.add_zeros(format!("{prefix}.bias"), 1, g), None)
        };
        Self { kind, inp, hidden, w_ih, w_hh, b_ih, b_hh }
    }

    /// Input projections of a whole sequence at once: `x [rows, in] -> [rows, G·H]`
    /// (`x W_ih + b_ih`).
    pub fn input_proj<T: Tape<f32, Cpu>>(&self, p: &Params, x: T2T<T>) -> T2T<T> {
        let rows = x.shape().0;
        x.matmul(p.get(self.w_ih).clone()) + bias(p, self.b_ih, rows)
    }

    /// One step from precomputed input projections `xp [batch, G·H]`.
    pub fn step<T: Tape<f32, Cpu> + Merge<T>>(&self, p: &Params, xp: T2T<T>, s: CellState<T>) -> CellState<T> {
        let hd = self.hidden;
        let batch = xp.shape().0;
        match self.kind {
            CellKind::Rnn => {
                let hw = s.h.matmul(p.get(self.w_hh).clone());
                CellState { h: (xp + hw).tanh(), c: None }
            }
            CellKind::Gru => {
                let b_hh = self.b_hh.expect("GRU has bias_hh");
                let h_keep = s.h.retaped::<T>();
                let gh = s.h.matmul(p.get(self.w_hh).clone()) + bias(p, b_hh, batch);
                let xr = xp.retaped::<T>().slice((.., 0..hd));
                let xz = xp.retaped::<T>().slice((.., hd..2 * hd));
                let xn = xp.slice((.., 2 * hd..3 * hd));
                let hr = gh.retaped::<T>().slice((.., 0..hd));
                let hz = gh.retaped::<T>().slice((.., hd..2 * hd));
                let hn = gh.slice((.., 2 * hd..3 * hd));
                let r = (xr + hr).sigmoid();
                let z = (xz + hz).sigmoid();
                let n = (xn + r * hn).tanh();
                // h' = (1 - z) n + z h = n + z (h - n)
                let n2 = n.retaped::<T>();
                let h = n + z * (h_keep - n2);
                CellState { h, c: None }
            }
            CellKind::Lstm => {
                let c = s.c.expect("LSTM state has c");
                let g = xp + s.h.matmul(p.get(self.w_hh).clone());
                let i = g.retaped::<T>().slice((.., 0..hd)).sigmoid();
                let f = g.retaped::<T>().slice((.., hd..2 * hd)).sigmoid();
                let gg = g.retaped::<T>().slice((.., 2 * hd..3 * hd)).tanh();
                let o = g.slice((.., 3 * hd..4 * hd)).sigmoid();
                let c = f * c + i * gg;
                let h = o * c.retaped::<T>().tanh();
                CellState { h, c: Some(c) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::{Dev, T2};
    use rand::{Rng, SeedableRng};

    /// Agreement of the dfdx cells with the scalar references.
    const TOL: f32 = 1e-5;

    fn sigmoid(x: f32) -> f32 {
        1.0 / (1.0 + (-x).exp())
    }

    /// Builds a cell whose parameters are overwritten with `w_ih`, `w_hh`, `b_ih`, `b_hh`.
    fn cell_with(kind: CellKind, inp: usize, hd: usize, w: [&[f32]; 4]) -> (Params, Cell) {
        let mut p = Params::new(Dev::default());
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
        let c = Cell::new(&mut p, "c", kind, inp, hd, &mut rng);
        p.set(c.w_ih, w[0]);
        p.set(c.w_hh, w[1]);
        p.set(c.b_ih, w[2]);
        if let Some(b) = c.b_hh {
            p.set(b, w[3]);
        }
        (p, c)
    }

    fn step(
        p: &Params,
        c: &Cell,
        x: &[f32],
        h: &[f32],
        cs: Option<&[f32]>,
        batch: usize,
    ) -> (Vec<f32>, Option<Vec<f32>>) {
        let dev = p.dev();
        let x: T2 = dev.tensor_from_vec(x.to_vec(), (batch, c.inp));
        let st = CellState {
            h: dev.tensor_from_vec(h.to_vec(), (batch, c.hidden)),
            c: cs.map(|v| dev.tensor_from_vec(v.to_vec(), (batch, c.hidden))),
        };
        let out = c.step(p, c.input_proj(p, x), st);
        (out.h.as_vec(), out.c.map(|t| t.as_vec()))
    }

    #[test]
    fn rnn_matches_hand_computation() {
        // x = 1, h = 0.5, W_ih = 0.5, W_hh = 1, b = 0.1: h' = tanh(0.5 + 0.5 + 0.1) = tanh(1.1).
        let (p, c) = cell_with(CellKind::Rnn, 1, 1, [&[0.5], &[1.0], &[0.1], &[]]);
        let (h, _) = step(&p, &c, &[1.0], &[0.5], None, 1);
        assert!((h[0] - 0.800_499).abs() < TOL, "{h:?}");
    }

    #[test]
    fn gru_matches_hand_computation() {
        // Gate order r, z, n. x = 1, h = 0.5.
        // r = σ(0.5·1 + (−1)·0.5) = σ(0) = 0.5; z = σ(0) = 0.5;
        // n = tanh(1·1 + r·(2·0.5)) = tanh(1.5) = 0.905148;
        // h' = (1 − z)·n + z·h = 0.5·0.905148 + 0.25 = 0.702574.
        let (p, c) = cell_with(CellKind::Gru, 1, 1, [&[0.5, 0.0, 1.0], &[-1.0, 0.0, 2.0], &[0.0; 3], &[0.0; 3]]);
        let (h, _) = step(&p, &c, &[1.0], &[0.5], None, 1);
        assert!((h[0] - 0.702_574_1).abs() < TOL, "{h:?}");
        // b_hn sits inside the reset gate: with b_hn = 2 and h = 0,
        // n = tanh(1 + r·2), r = σ(0.5) = 0.622459, z = 0.5 → h' = 0.5·tanh(2.244919).
        let (p, c) = cell_with(CellKind::Gru, 1, 1, [&[0.5, 0.0, 1.0], &[-1.0, 0.0, 2.0], &[0.0; 3], &[0.0, 0.0, 2.0]]);
        let (h, _) = step(&p, &c, &[1.0], &[0.0], None, 1);
        let want = 0.5 * (1.0f32 + sigmoid(0.5) * 2.0).tanh();
        assert!((h[0] - want).abs() < TOL, "{h:?} vs {want}");
    }

    #[test]
    fn lstm_matches_hand_computation() {
        // Gate order i, f, g, o. x = 1, h = 0, c = 1.
        // i = σ(0) = 0.5, f = σ(ln 3) = 0.75, g = tanh(1) = 0.761594, o = σ(0) = 0.5;
        // c' = 0.75·1 + 0.5·0.761594 = 1.130797; h' = 0.5·tanh(1.130797) = 0.405646.
        let (p, c) = cell_with(CellKind::Lstm, 1, 1, [&[0.0, 3f32.ln(), 1.0, 0.0], &[0.0; 4], &[0.0; 4], &[]]);
        let (h, cs) = step(&p, &c, &[1.0], &[0.0], Some(&[1.0]), 1);
        assert!((cs.unwrap()[0] - 1.130_797_1).abs() < TOL);
        assert!((h[0] - 0.405_645_9).abs() < TOL, "{h:?}");
    }

    /// PyTorch's equations on scalars, reading gate `k`'s block of the fused `[in, G·H]`
    /// weights (the transpose of PyTorch's `weight_ih_l0`).
    fn reference(
        kind: CellKind,
        inp: usize,
        hd: usize,
        w: &[Vec<f32>; 4],
        x: &[f32],
        h: &[f32],
        c: &[f32],
    ) -> (Vec<f32>, Vec<f32>) {
        let g = kind.gates() * hd;
        let pre = |k: usize, j: usize, with_hh_bias: bool| -> (f32, f32) {
            let col = k * hd + j;
            let xi: f32 = (0..inp).map(|i| x[i] * w[0][i * g + col]).sum::<f32>() + w[2][col];
            let mut hi: f32 = (0..hd).map(|i| h[i] * w[1][i * g + col]).sum();
            if with_hh_bias {
                hi += w[3][col];
            }
            (xi, hi)
        };
        let (mut h2, mut c2) = (vec![0.0; hd], vec![0.0; hd]);
        for j in 0..hd {
            match kind {
                CellKind::Rnn => {
                    let (a, b) = pre(0, j, false);
                    h2[j] = (a + b).tanh();
                }
                CellKind::Gru => {
                    let (xr, hr) = pre(0, j, true);
                    let (xz, hz) = pre(1, j, true);
                    let (xn, hn) = pre(2, j, true);
                    let r = sigmoid(xr + hr);
                    let z = sigmoid(xz + hz);
                    let n = (xn + r * hn).tanh();
                    h2[j] = (1.0 - z) * n + z * h[j];
                }
                CellKind::Lstm => {
                    let s = |k| {
                        let (a, b) = pre(k, j, false);
                        a + b
                    };
                    let (i, f, gg, o) = (sigmoid(s(0)), sigmoid(s(1)), s(2).tanh(), sigmoid(s(3)));
                    c2[j] = f * c[j] + i * gg;
                    h2[j] = o * c2[j].tanh();
                }
            }
        }
        (h2, c2)
    }

    #[test]
    fn cells_match_pytorch_equations_on_random_batches() {
        let (inp, hd, batch) = (4, 5, 3);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        for kind in [CellKind::Rnn, CellKind::Gru, CellKind::Lstm] {
            let g = kind.gates() * hd;
            let mut r = |n: usize| -> Vec<f32> { (0..n).map(|_| rng.gen_range(-1.0..1.0)).collect() };
            let w = [r(inp * g), r(hd * g), r(g), r(g)];
            let (x, h, c) = (r(batch * inp), r(batch * hd), r(batch * hd));
            let (p, cell) = cell_with(kind, inp, hd, [&w[0], &w[1], &w[2], &w[3]]);
            let (hh, cc) = step(&p, &cell, &x, &h, (kind == CellKind::Lstm).then_some(&c[..]), batch);
            for b in 0..batch {
                let (hr, cr) = reference(
                    kind,
                    inp,
                    hd,
                    &w,
                    &x[b * inp..(b + 1) * inp],
                    &h[b * hd..(b + 1) * hd],
                    &c[b * hd..(b + 1) * hd],
                );
                for j in 0..hd {
                    assert!((hh[b * hd + j] - hr[j]).abs() < TOL, "{kind:?} h[{b},{j}]");
                    if let Some(cc) = &cc {
                        assert!((cc[b * hd + j] - cr[j]).abs() < TOL, "{kind:?} c[{b},{j}]");
                    }
                }
            }
        }
    }
}
