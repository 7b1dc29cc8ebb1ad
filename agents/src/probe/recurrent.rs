//! A trained recurrent cell as an `f64` map `s' = F(s, x)` with its analytic Jacobian
//! `∂F/∂s`, for the fixed-point search and the Lyapunov spectrum.
//!
//! The equations are PyTorch's, as the dfdx cells of [`crate::nn::cells`] implement them
//! (same fused weight layout: `w_ih` `[in, G·H]`, `w_hh` `[H, G·H]`, gates in PyTorch order).
//! The state `s` is `h` `[H]` for the vanilla RNN and the GRU, and `[h, c]` `[2H]` for the
//! LSTM (the cell state is part of the dynamics: its fixed points and exponents count).
//! Working in `f64` keeps the Levenberg–Marquardt residuals meaningful below `1e-12`.

use super::matrix::Matrix;
use crate::error::AgentError;
use crate::nn::cells::CellKind;

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// One recurrent layer in `f64`.
#[derive(Debug, Clone, PartialEq)]
pub struct RecurrentMap {
    kind: CellKind,
    hidden: usize,
    /// `[in, G·H]`.
    w_ih: Matrix,
    /// `[H, G·H]`.
    w_hh: Matrix,
    /// `[G·H]`: `b_ih + b_hh` (RNN, LSTM) or `b_ih` (GRU).
    b_ih: Vec<f64>,
    /// GRU only: `b_hh` `[3H]` (it sits inside the reset gate).
    b_hh: Option<Vec<f64>>,
}

impl RecurrentMap {
    /// Builds the map from the stored `f32` weights (row-major, shapes as in
    /// [`crate::nn::cells`]); `b_hh` must be given for a GRU and only for a GRU.
    pub fn new(
        kind: CellKind,
        n_inputs: usize,
        hidden: usize,
        w_ih: &[f32],
        w_hh: &[f32],
        b_ih: &[f32],
        b_hh: Option<&[f32]>,
    ) -> Result<Self, AgentError> {
        let g = kind.gates() * hidden;
        let check = |what: &'static str, got: usize, want: usize| {
            if got == want {
                Ok(())
            } else {
                Err(AgentError::ShapeMismatch {
                    context: "RecurrentMap::new",
                    expected: format!("{want} values in {what}"),
                    actual: got.to_string(),
                })
            }
        };
        check("w_ih", w_ih.len(), n_inputs * g)?;
        check("w_hh", w_hh.len(), hidden * g)?;
        check("b_ih", b_ih.len(), g)?;
        if (kind == CellKind::Gru) != b_hh.is_some() {
            return Err(AgentError::InvalidParameter {
                name: "b_hh",
                value: format!("{:?}", b_hh.map(|b| b.len())),
                reason: "a GRU needs bias_hh and other cells have none",
            });
        }
        if let Some(b) = b_hh {
            check("b_hh", b.len(), g)?;
        }
        let to64 = |v: &[f32]| v.iter().map(|&x| x as f64).collect::<Vec<f64>>();
        Ok(Self {
            kind,
            hidden,
            w_ih: Matrix::new(n_inputs, g, to64(w_ih))?,
            w_hh: Matrix::new(hidden, g, to64(w_hh))?,
            b_ih: to64(b_ih),
            b_hh: b_hh.map(to64),
        })
    }

    /// The cell type.
    pub fn kind(&self) -> CellKind {
        self.kind
    }
    /// Hidden width `H`.
    pub fn hidden(&self) -> usize {
        self.hidden
    }
    /// Input width.
    pub fn n_inputs(&self) -> usize {
        self.w_ih.rows()
    }
    /// Width of the state `s`: `H`, or `2H` for an LSTM (`[h, c]`).
    pub fn state_dim(&self) -> usize {
        self.kind.states() * self.hidden
    }

    /// Input projection `x W_ih + b_ih` `[G·H]` (constant for a constant input).
    pub fn input_projection(&self, x: &[f64]) -> Vec<f64> {
        self.w_ih.t_mat_vec(x).iter().zip(&self.b_ih).map(|(a, b)| a + b).collect()
    }

    /// Recurrent projection `h W_hh (+ b_hh)` `[G·H]`.
    fn recurrent_projection(&self, h: &[f64]) -> Vec<f64> {
        let mut gh = self.w_hh.t_mat_vec(h);
        if let Some(b) = &self.b_hh {
            gh.iter_mut().zip(b).for_each(|(g, b)| *g += b);
        }
        gh
    }

    /// `F(s)` for a precomputed input projection `xp` `[G·H]`.
    pub fn step_projected(&self, s: &[f64], xp: &[f64]) -> Vec<f64> {
        let hd = self.hidden;
        let h = &s[..hd];
        let gh = self.recurrent_projection(h);
        match self.kind {
            CellKind::Rnn => (0..hd).map(|j| (xp[j] + gh[j]).tanh()).collect(),
            CellKind::Gru => (0..hd)
                .map(|j| {
                    let r = sigmoid(xp[j] + gh[j]);
                    let z = sigmoid(xp[hd + j] + gh[hd + j]);
                    let n = (xp[2 * hd + j] + r * gh[2 * hd + j]).tanh();
                    (1.0 - z) * n + z * h[j]
                })
                .collect(),
            CellKind::Lstm => {
                let c = &s[hd..];
                let mut out = vec![0.0; 2 * hd];
                for j in 0..hd {
                    let a = |k: usize| xp[k * hd + j] + gh[k * hd + j];
                    let (i, f, g, o) = (sigmoid(a(0)), sigmoid(a(1)), a(2).tanh(), sigmoid(a(3)));
                    let c2 = f * c[j] + i * g;
                    out[j] = o * c2.tanh();
                    out[hd + j] = c2;
                }
                out
            }
        }
    }

    /// `F(s, x)`.
    pub fn step(&self, s: &[f64], x: &[f64]) -> Vec<f64> {
        self.step_projected(s, &self.input_projection(x))
    }

    /// `∂F/∂s` `[S, S]` (row = output unit, column = state unit) for a precomputed input
    /// projection.
    ///
    /// Built as its transpose, row by row of `W_hh` (contiguous reads), then transposed once.
    pub fn jacobian_projected(&self, s: &[f64], xp: &[f64]) -> Matrix {
        let hd = self.hidden;
        let h = &s[..hd];
        let gh = self.recurrent_projection(h);
        let w = &self.w_hh;
        let sd = self.state_dim();
        // jt[k, j] = ∂F_j/∂s_k.
        let mut jt = Matrix::zeros(sd, sd);
        match self.kind {
            CellKind::Rnn => {
                let d: Vec<f64> = (0..hd).map(|j| 1.0 - (xp[j] + gh[j]).tanh().powi(2)).collect();
                for k in 0..hd {
                    let (wr, out) = (w.row(k), &mut jt.data_mut()[k * sd..(k + 1) * sd]);
                    for j in 0..hd {
                        out[j] = d[j] * wr[j];
                    }
                }
            }
            CellKind::Gru => {
                let mut coef = vec![[0.0; 4]; hd];
                for (j, cj) in coef.iter_mut().enumerate() {
                    let r = sigmoid(xp[j] + gh[j]);
                    let z = sigmoid(xp[hd + j] + gh[hd + j]);
                    let hn = gh[2 * hd + j];
                    let n = (xp[2 * hd + j] + r * hn).tanh();
                    let dn = 1.0 - n * n;
                    // ∂h'/∂h_k = (h − n) z(1−z) W_z + (1−z) dn [hn r(1−r) W_r + r W_n] + z δ.
                    *cj = [(h[j] - n) * z * (1.0 - z), (1.0 - z) * dn * hn * r * (1.0 - r), (1.0 - z) * dn * r, z];
                }
                for k in 0..hd {
                    let (wr, out) = (w.row(k), &mut jt.data_mut()[k * sd..(k + 1) * sd]);
                    for (j, c) in coef.iter().enumerate() {
                        out[j] = c[0] * wr[hd + j] + c[1] * wr[j] + c[2] * wr[2 * hd + j];
                    }
                    out[k] += coef[k][3];
                }
            }
            CellKind::Lstm => {
                let c = &s[hd..];
                // Per unit j: (∂c'/∂pre_i, ∂c'/∂pre_f, ∂c'/∂pre_g, ∂h'/∂pre_o, o·tanh'(c'), f).
                let mut coef = vec![[0.0; 6]; hd];
                for (j, cj) in coef.iter_mut().enumerate() {
                    let a = |k: usize| xp[k * hd + j] + gh[k * hd + j];
                    let (ig, f, g, o) = (sigmoid(a(0)), sigmoid(a(1)), a(2).tanh(), sigmoid(a(3)));
                    let tc = (f * c[j] + ig * g).tanh();
                    // ∂c'/∂h_k = c f(1−f) W_f + g i(1−i) W_i + i (1−g²) W_g; ∂c'/∂c = f δ.
                    *cj = [
                        g * ig * (1.0 - ig),
                        c[j] * f * (1.0 - f),
                        ig * (1.0 - g * g),
                        tc * o * (1.0 - o),
                        o * (1.0 - tc * tc),
                        f,
                    ];
                }
                for k in 0..hd {
                    let (wr, out) = (w.row(k), &mut jt.data_mut()[k * sd..(k + 1) * sd]);
                    for (j, q) in coef.iter().enumerate() {
                        let dc = q[0] * wr[j] + q[1] * wr[hd + j] + q[2] * wr[2 * hd + j];
                        out[hd + j] = dc;
                        out[j] = q[3] * wr[3 * hd + j] + q[4] * dc;
                    }
                }
                for (j, q) in coef.iter().enumerate() {
                    let row = &mut jt.data_mut()[(hd + j) * sd..(hd + j + 1) * sd];
                    row[hd + j] = q[5];
                    row[j] = q[4] * q[5];
                }
            }
        }
        jt.transpose()
    }

    /// `∂F/∂s` at `(s, x)`.
    pub fn jacobian(&self, s: &[f64], x: &[f64]) -> Matrix {
        self.jacobian_projected(s, &self.input_projection(x))
    }

    /// Drives the map from a zero state through `inputs` `[T, in]` and returns the states
    /// after each step `[T, S]`.
    pub fn drive(&self, inputs: &Matrix) -> Matrix {
        let mut s = vec![0.0; self.state_dim()];
        let mut out = Matrix::zeros(inputs.rows(), self.state_dim());
        for t in 0..inputs.rows() {
            s = self.step(&s, inputs.row(t));
            out.data_mut()[t * s.len()..(t + 1) * s.len()].copy_from_slice(&s);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::cells::{Cell, CellState};
    use crate::nn::{Dev, Params, T2};
    use crate::probe::dynamics::finite_difference_jacobian;
    use dfdx::prelude::*;
    use rand::{Rng, SeedableRng};

    /// Agreement with the `f32` dfdx cells.
    const CELL_TOL: f64 = 1e-5;
    /// Agreement of the analytic Jacobian with central differences.
    const JAC_TOL: f64 = 1e-7;

    #[test]
    fn matches_the_dfdx_cells_and_finite_differences() {
        let (inp, hd) = (3, 5);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for kind in [CellKind::Rnn, CellKind::Gru, CellKind::Lstm] {
            let g = kind.gates() * hd;
            let mut r = |n: usize, scale: f32| -> Vec<f32> { (0..n).map(|_| rng.gen_range(-scale..scale)).collect() };
            let (w_ih, w_hh, b_ih, b_hh) = (r(inp * g, 1.0), r(hd * g, 1.0), r(g, 0.5), r(g, 0.5));
            let (x, h, c) = (r(inp, 1.0), r(hd, 0.8), r(hd, 0.8));
            let mut p = Params::new(Dev::default());
            let cell = Cell::new(&mut p, "c", kind, inp, hd, &mut rand_chacha::ChaCha8Rng::seed_from_u64(0));
            p.set(cell.w_ih, &w_ih);
            p.set(cell.w_hh, &w_hh);
            p.set(cell.b_ih, &b_ih);
            let gru = kind == CellKind::Gru;
            if let Some(b) = cell.b_hh {
                p.set(b, &b_hh);
            }
            let dev = p.dev().clone();
            let xt: T2 = dev.tensor_from_vec(x.clone(), (1, inp));
            let st = CellState {
                h: dev.tensor_from_vec(h.clone(), (1, hd)),
                c: (kind == CellKind::Lstm).then(|| dev.tensor_from_vec(c.clone(), (1, hd))),
            };
            let out = cell.step(&p, cell.input_proj(&p, xt), st);
            let mut want: Vec<f32> = out.h.as_vec();
            if let Some(c2) = out.c {
                want.extend(c2.as_vec());
            }
            let map = RecurrentMap::new(kind, inp, hd, &w_ih, &w_hh, &b_ih, gru.then_some(&b_hh[..])).unwrap();
            let x64: Vec<f64> = x.iter().map(|&v| v as f64).collect();
            let mut s: Vec<f64> = h.iter().map(|&v| v as f64).collect();
            if kind == CellKind::Lstm {
                s.extend(c.iter().map(|&v| v as f64));
            }
            let got = map.step(&s, &x64);
            assert_eq!(got.len(), map.state_dim());
            for (a, b) in got.iter().zip(&want) {
                assert!((a - *b as f64).abs() < CELL_TOL, "{kind:?}: {got:?} vs {want:?}");
            }
            let f = |s: &[f64]| map.step(s, &x64);
            let fd = finite_difference_jacobian(&f, &s, 1e-6);
            let an = map.jacobian(&s, &x64);
            for (a, b) in an.data().iter().zip(fd.data()) {
                assert!((a - b).abs() < JAC_TOL, "{kind:?} Jacobian: {a} vs {b}");
            }
        }
    }

    #[test]
    fn rejects_wrong_shapes() {
        let w = vec![0.0f32; 6];
        assert!(RecurrentMap::new(CellKind::Rnn, 2, 3, &w, &w, &[0.0; 3], None).is_err());
        assert!(RecurrentMap::new(CellKind::Gru, 1, 1, &[0.0; 3], &[0.0; 3], &[0.0; 3], None).is_err());
    }
}
