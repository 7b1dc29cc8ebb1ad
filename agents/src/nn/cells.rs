//! Recurrent cells (vanilla RNN, GRU, LSTM) with PyTorch's gate equations and ordering.
//!
//! dfdx 0.13 has no recurrent modules; these are written from its matmul and element-wise
//! ops with a runtime batch size. Weights are stored transposed with respect to PyTorch
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
