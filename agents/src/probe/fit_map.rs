//! A supervised network ([`crate::fit::Net`]) as an `f64` map `F(s, x)` with its analytic
//! Jacobian `∂F/∂s`, for the fixed-point and topology probes: the vanilla tanh RNN, GRU and
//! LSTM through [`super::recurrent::RecurrentMap`] (state `[h, c]` for the LSTM), the ReLU RNN
//! and UGRNN with the equations of [`crate::fit::cells`].

use super::recurrent::RecurrentMap;
use super::Matrix;
use crate::error::AgentError;
use crate::fit::{Arch, Net};
use crate::nn::cells::CellKind;

enum Inner {
    Cell(RecurrentMap),
    /// ReLU RNN (`ugrnn = false`) or UGRNN: `w_ih [I, G·H]`, `w_hh [H, G·H]`, `b [G·H]`.
    Extra {
        ugrnn: bool,
        w_ih: Matrix,
        w_hh: Matrix,
        b: Vec<f64>,
    },
}

/// A trained network's recurrent map.
pub struct NetMap {
    hidden: usize,
    inner: Inner,
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

impl NetMap {
    /// The map of `net`'s recurrent layer.
    pub fn new(net: &Net) -> Result<Self, AgentError> {
        let p = &net.params;
        let (i, h) = (net.n_in, net.hidden);
        let to64 = |v: &[f32]| v.iter().map(|&x| x as f64).collect::<Vec<f64>>();
        let cell =
            |kind| RecurrentMap::new(kind, i, h, &p[0], &p[1], &p[2], (kind == CellKind::Gru).then(|| &p[3][..]));
        let inner = match net.arch {
            Arch::RnnTanh => Inner::Cell(cell(CellKind::Rnn)?),
            Arch::Gru => Inner::Cell(cell(CellKind::Gru)?),
            Arch::Lstm => Inner::Cell(cell(CellKind::Lstm)?),
            Arch::RnnRelu | Arch::Ugrnn => {
                let g = net.arch.gates() * h;
                Inner::Extra {
                    ugrnn: net.arch == Arch::Ugrnn,
                    w_ih: Matrix::new(i, g, to64(&p[0]))?,
                    w_hh: Matrix::new(h, g, to64(&p[1]))?,
                    b: to64(&p[2]),
                }
            }
        };
        Ok(Self { hidden: h, inner })
    }

    /// Width of the state: `H`, or `2H` for an LSTM (`[h, c]`).
    pub fn state_dim(&self) -> usize {
        match &self.inner {
            Inner::Cell(m) => m.state_dim(),
            Inner::Extra { .. } => self.hidden,
        }
    }

    /// Hidden units `H` (the first `H` entries of a state are `h`).
    pub fn hidden(&self) -> usize {
        self.hidden
    }

    fn pre(&self, s: &[f64], x: &[f64]) -> Vec<f64> {
        let Inner::Extra { w_ih, w_hh, b, .. } = &self.inner else { unreachable!("extra cells only") };
        let a = w_ih.t_mat_vec(x);
        let r = w_hh.t_mat_vec(&s[..self.hidden]);
        a.iter().zip(&r).zip(b).map(|((a, r), b)| a + r + b).collect()
    }

    /// `F(s, x)`.
    pub fn step(&self, s: &[f64], x: &[f64]) -> Vec<f64> {
        match &self.inner {
            Inner::Cell(m) => m.step(s, x),
            Inner::Extra { ugrnn, .. } => {
                let hd = self.hidden;
                let a = self.pre(s, x);
                if *ugrnn {
                    (0..hd)
                        .map(|j| {
                            let (c, g) = (a[j].tanh(), sigmoid(a[hd + j]));
                            g * s[j] + (1.0 - g) * c
                        })
                        .collect()
                } else {
                    a.iter().map(|v| v.max(0.0)).collect()
                }
            }
        }
    }

    /// `∂F/∂s` `[S, S]` (row = output unit, column = state unit).
    pub fn jacobian(&self, s: &[f64], x: &[f64]) -> Matrix {
        match &self.inner {
            Inner::Cell(m) => m.jacobian(s, x),
            Inner::Extra { ugrnn, w_hh, .. } => {
                let hd = self.hidden;
                let g = w_hh.cols();
                let a = self.pre(s, x);
                let w = w_hh.data();
                Matrix::from_fn(hd, hd, |j, i| {
                    // ∂h'_j/∂h_i; pre-activation column j of row i of W_hh.
                    if *ugrnn {
                        let (c, gt) = (a[j].tanh(), sigmoid(a[hd + j]));
                        let direct = if i == j { gt } else { 0.0 };
                        direct
                            + (s[j] - c) * gt * (1.0 - gt) * w[i * g + hd + j]
                            + (1.0 - gt) * (1.0 - c * c) * w[i * g + j]
                    } else if a[j] > 0.0 {
                        w[i * g + j]
                    } else {
                        0.0
                    }
                })
            }
        }
    }

    /// Drives the map from a zero state through `inputs` (one row per step) and returns the
    /// state after each step.
    pub fn drive(&self, inputs: &[Vec<f64>]) -> Vec<Vec<f64>> {
        let mut s = vec![0.0; self.state_dim()];
        inputs
            .iter()
            .map(|x| {
                s = self.step(&s, x);
                s.clone()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fit::Workspace;
    use crate::probe::dynamics::finite_difference_jacobian;
    use rand::{Rng, SeedableRng};

    /// Agreement with the `f32` training forward.
    const FWD_TOL: f64 = 1e-4;
    /// Analytic against central-difference Jacobians.
    const JAC_TOL: f64 = 1e-6;

    #[test]
    fn matches_the_training_forward_and_finite_differences() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
        for arch in Arch::ALL {
            let mut net = Net::init(arch, 2, 4, 1, &mut rng);
            for p in &mut net.params {
                for v in p.iter_mut() {
                    *v += rng.gen_range(-0.3..0.3);
                }
            }
            let map = NetMap::new(&net).unwrap();
            let inputs: Vec<Vec<f64>> =
                (0..6).map(|_| vec![rng.gen_range(-1.0..1.0), rng.gen_range(-1.0..1.0)]).collect();
            let x: Vec<f32> = inputs.iter().flatten().map(|&v| v as f32).collect();
            let mut ws = Workspace::default();
            net.forward(&x, None, 6, 1, &mut ws);
            let states = map.drive(&inputs);
            for (t, s) in states.iter().enumerate() {
                for (j, (&a, &f)) in s.iter().zip(&net.states(&ws)[t * 4..(t + 1) * 4]).enumerate() {
                    assert!((a - f as f64).abs() < FWD_TOL, "{arch:?} t {t} unit {j}: {a} vs {f}");
                }
            }
            let (s, u) = (&states[5], &inputs[0]);
            let jac = map.jacobian(s, u);
            let fd = finite_difference_jacobian(&|h: &[f64]| map.step(h, u), s, 1e-6);
            for (a, b) in jac.data().iter().zip(fd.data()) {
                assert!((a - b).abs() < JAC_TOL, "{arch:?}: {a} vs {b}");
            }
        }
    }
}
