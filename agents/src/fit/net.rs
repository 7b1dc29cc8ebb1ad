//! A one-layer recurrent network with a linear readout, trained by hand BPTT: the vanilla
//! RNN (tanh), GRU and LSTM through [`crate::nn::bptt`], the ReLU RNN and UGRNN through
//! [`super::cells`].
//!
//! Parameters (safetensors keys, row-major, `[in, out]` as everywhere in engram):
//! `rnn.weight_ih [I, G·H]`, `rnn.weight_hh [H, G·H]`, `rnn.bias [G·H]` (GRU: `rnn.bias_ih`
//! and `rnn.bias_hh`), `readout.weight [H, O]`, `readout.bias [O]`. The state starts at 0
//! for every trial.

use super::cells::{self as extra, ExtraGrads, ExtraKind, ExtraTrace, ExtraWeights};
use crate::nn::bptt::{self, BackwardOut, BpttScratch, CellGrads, CellWeights, LayerTrace, SeqLayout};
use crate::nn::cells::CellKind;
use crate::nn::gemm::{self, Acc};
use rand::Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

/// The recurrent architecture.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Arch {
    /// Vanilla RNN, tanh.
    RnnTanh,
    /// Vanilla RNN, ReLU.
    RnnRelu,
    /// Update-gate RNN (Collins et al. 2017).
    Ugrnn,
    /// Gated recurrent unit.
    Gru,
    /// Long short-term memory.
    Lstm,
}

impl Arch {
    /// Every architecture.
    pub const ALL: [Arch; 5] = [Arch::RnnTanh, Arch::RnnRelu, Arch::Ugrnn, Arch::Gru, Arch::Lstm];

    /// Gate blocks `G`.
    pub fn gates(self) -> usize {
        match self {
            Arch::RnnTanh | Arch::RnnRelu => 1,
            Arch::Ugrnn => 2,
            Arch::Gru => 3,
            Arch::Lstm => 4,
        }
    }

    fn path(self) -> Path {
        match self {
            Arch::RnnTanh => Path::Bptt(CellKind::Rnn),
            Arch::Gru => Path::Bptt(CellKind::Gru),
            Arch::Lstm => Path::Bptt(CellKind::Lstm),
            Arch::RnnRelu => Path::Extra(ExtraKind::Relu),
            Arch::Ugrnn => Path::Extra(ExtraKind::Ugrnn),
        }
    }
}

/// How the recurrent weights start.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecurrentInit {
    /// `N(0, gain²/H)` entries.
    Normal,
    /// `gain · I` in the first gate block (Le, Jaitly & Hinton 2015, for ReLU RNNs), the
    /// other blocks Gaussian.
    Identity,
}

impl RecurrentInit {
    /// Identity for the ReLU RNN (Le et al. 2015), Gaussian for the others.
    pub fn default_for(arch: Arch) -> Self {
        if arch == Arch::RnnRelu {
            RecurrentInit::Identity
        } else {
            RecurrentInit::Normal
        }
    }
}

enum Path {
    Bptt(CellKind),
    Extra(ExtraKind),
}

/// Index of the readout weight in [`Net::params`] (`readout.bias` follows it).
fn readout_index(arch: Arch) -> usize {
    if arch == Arch::Gru {
        4
    } else {
        3
    }
}

/// The network's parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct Net {
    /// Architecture.
    pub arch: Arch,
    /// Inputs `I`.
    pub n_in: usize,
    /// Hidden units `H`.
    pub hidden: usize,
    /// Outputs `O`.
    pub n_out: usize,
    /// Parameter values in the order of [`Net::names`].
    pub params: Vec<Vec<f32>>,
}

/// Buffers of one forward/backward (reused across calls).
#[derive(Clone, Debug, Default)]
pub struct Workspace {
    trace: LayerTrace,
    extra: ExtraTrace,
    scratch: BpttScratch,
    /// Outputs `[T·B, O]`, time-major.
    pub y: Vec<f32>,
    dy: Vec<f32>,
    dh: Vec<f32>,
    h0: Vec<f32>,
}

/// Loss terms of one batch.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LossParts {
    /// Masked mean squared error.
    pub mse: f64,
    /// `l2_activity · mean(h²)`.
    pub activity: f64,
    /// `l2_weight · Σ W²` over the input, recurrent and readout weights (not biases).
    pub weight: f64,
}

impl LossParts {
    /// The total loss.
    pub fn total(&self) -> f64 {
        self.mse + self.activity + self.weight
    }
}

impl Net {
    /// Parameter names (safetensors keys).
    pub fn names(&self) -> Vec<&'static str> {
        let mut v = vec!["rnn.weight_ih", "rnn.weight_hh"];
        if self.arch == Arch::Gru {
            v.extend(["rnn.bias_ih", "rnn.bias_hh"]);
        } else {
            v.push("rnn.bias");
        }
        v.extend(["readout.weight", "readout.bias"]);
        v
    }

    /// Parameter shapes.
    pub fn shapes(&self) -> Vec<Vec<usize>> {
        let g = self.arch.gates() * self.hidden;
        let mut v = vec![vec![self.n_in, g], vec![self.hidden, g], vec![g]];
        if self.arch == Arch::Gru {
            v.push(vec![g]);
        }
        v.extend([vec![self.hidden, self.n_out], vec![self.n_out]]);
        v
    }

    /// Whether parameter `i` is a weight matrix (under the L2 penalty).
    pub fn is_weight(&self, i: usize) -> bool {
        i < 2 || i == readout_index(self.arch)
    }

    /// Initial parameters: input and readout weights `N(0, 1/fan_in)`, recurrent weights
    /// `N(0, 1/H)` (ReLU RNN: the identity, Le et al. 2015), biases 0 except the LSTM forget
    /// gate (+1) and the UGRNN update gate (+1, Collins et al.).
    pub fn init<R: Rng>(arch: Arch, n_in: usize, hidden: usize, n_out: usize, rng: &mut R) -> Self {
        Self::init_with(arch, n_in, hidden, n_out, (RecurrentInit::default_for(arch), 1.0), rng)
    }

    /// [`Net::init`] with the recurrent weights drawn as `recurrent = (init, gain)` says.
    pub fn init_with<R: Rng>(
        arch: Arch,
        n_in: usize,
        hidden: usize,
        n_out: usize,
        recurrent: (RecurrentInit, f32),
        rng: &mut R,
    ) -> Self {
        let (init, gain) = recurrent;
        let g = arch.gates() * hidden;
        let mut normal = |n: usize, fan_in: usize| -> Vec<f32> {
            let s = 1.0 / (fan_in as f64).sqrt();
            (0..n).map(|_| (s * rng.sample::<f64, _>(StandardNormal)) as f32).collect()
        };
        let w_ih = normal(n_in * g, n_in);
        let mut w_hh: Vec<f32> = normal(hidden * g, hidden).iter().map(|w| gain * w).collect();
        if init == RecurrentInit::Identity {
            for j in 0..hidden {
                w_hh[j * g..j * g + hidden].fill(0.0);
                w_hh[j * g + j] = gain;
            }
        }
        let w_out = normal(hidden * n_out, hidden);
        let mut b = vec![0.0f32; g];
        match arch {
            Arch::Lstm => b[hidden..2 * hidden].fill(1.0),
            Arch::Ugrnn => b[hidden..].fill(1.0),
            _ => {}
        }
        let mut params = vec![w_ih, w_hh, b];
        if arch == Arch::Gru {
            params.push(vec![0.0; g]);
        }
        params.extend([w_out, vec![0.0; n_out]]);
        Self { arch, n_in, hidden, n_out, params }
    }

    #[allow(clippy::type_complexity)]
    fn layer(&self) -> (&[f32], &[f32], &[f32], Option<&[f32]>) {
        let p = &self.params;
        (&p[0], &p[1], &p[2], (self.arch == Arch::Gru).then(|| &p[3][..]))
    }

    /// Hidden states `[T·B, H]` of the last forward.
    pub fn states<'a>(&self, ws: &'a Workspace) -> &'a [f32] {
        match self.arch.path() {
            Path::Bptt(_) => &ws.trace.out,
            Path::Extra(_) => &ws.extra.out,
        }
    }

    /// Runs the network over time-major inputs `x [T·B, I]`; outputs land in `ws.y`. With
    /// `noise [T·B, H]`, it is added to each unit's candidate pre-activation at every step
    /// ([`crate::nn::bptt::SeqLayout::noise`]); [`Net::loss_and_grads`] after such a forward
    /// is the gradient under that draw.
    pub fn forward(&self, x: &[f32], noise: Option<&[f32]>, time: usize, batch: usize, ws: &mut Workspace) {
        let (hd, o) = (self.hidden, self.n_out);
        let (w_ih, w_hh, b, b_hh) = self.layer();
        ws.h0.clear();
        ws.h0.resize(batch * hd, 0.0);
        match self.arch.path() {
            Path::Bptt(kind) => {
                let w = CellWeights { kind, inp: self.n_in, hidden: hd, w_ih, w_hh, b_ih: b, b_hh };
                let seq = SeqLayout { time, batch, starts: None, noise };
                bptt::forward(&w, x, seq, &ws.h0, Some(&ws.h0), &mut ws.trace);
            }
            Path::Extra(kind) => {
                let w = ExtraWeights { kind, inp: self.n_in, hidden: hd, w_ih, w_hh, b };
                extra::forward(&w, x, time, batch, &ws.h0, noise, &mut ws.extra);
            }
        }
        let n = time * batch;
        let ri = readout_index(self.arch);
        ws.y.clear();
        for _ in 0..n {
            ws.y.extend_from_slice(&self.params[ri + 1]);
        }
        let h = match self.arch.path() {
            Path::Bptt(_) => &ws.trace.out,
            Path::Extra(_) => &ws.extra.out,
        };
        gemm::nn(&mut ws.y, Acc::Add, h, &self.params[ri], n, hd, o);
    }

    /// The loss of the last forward against time-major `targets` and `mask` (`[T·B, O]`), and,
    /// when `grads` is given, its gradient (overwritten, one vector per parameter).
    #[allow(clippy::too_many_arguments)]
    pub fn loss_and_grads(
        &self,
        x: &[f32],
        targets: &[f32],
        mask: &[f32],
        time: usize,
        batch: usize,
        reg: (f32, f32),
        ws: &mut Workspace,
        grads: Option<&mut Vec<Vec<f32>>>,
    ) -> LossParts {
        let (l2_weight, l2_act) = reg;
        let (hd, o, n) = (self.hidden, self.n_out, time * batch);
        let n_mask: f64 = mask.iter().map(|&m| m as f64).sum::<f64>().max(1.0);
        let mut se = 0.0f64;
        ws.dy.clear();
        ws.dy.resize(n * o, 0.0);
        let inv = (2.0 / n_mask) as f32;
        for (((d, &y), &t), &m) in ws.dy.iter_mut().zip(&ws.y).zip(targets).zip(mask) {
            let e = y - t;
            se += (m * e * e) as f64;
            *d = inv * m * e;
        }
        let h = match self.arch.path() {
            Path::Bptt(_) => &ws.trace.out,
            Path::Extra(_) => &ws.extra.out,
        };
        let act_sq: f64 = h.iter().map(|&v| (v * v) as f64).sum();
        let weight_sq: f64 = (0..self.params.len())
            .filter(|&i| self.is_weight(i))
            .map(|i| self.params[i].iter().map(|&v| (v * v) as f64).sum::<f64>())
            .sum();
        let parts = LossParts {
            mse: se / n_mask,
            activity: l2_act as f64 * act_sq / (n * hd) as f64,
            weight: l2_weight as f64 * weight_sq,
        };
        let Some(grads) = grads else { return parts };
        grads.resize(self.params.len(), Vec::new());
        let ri = readout_index(self.arch);
        // Readout.
        grads[ri].resize(hd * o, 0.0);
        gemm::tn(&mut grads[ri], Acc::Set, h, &ws.dy, hd, n, o);
        let gb = &mut grads[ri + 1];
        gb.clear();
        gb.resize(o, 0.0);
        for row in ws.dy.chunks_exact(o) {
            for (g, v) in gb.iter_mut().zip(row) {
                *g += v;
            }
        }
        // ∂L/∂h: through the readout, plus the activity penalty.
        ws.dh.clear();
        ws.dh.resize(n * hd, 0.0);
        gemm::nt(&mut ws.dh, Acc::Set, &ws.dy, &self.params[ri], n, o, hd);
        let ka = 2.0 * l2_act / (n * hd) as f32;
        if ka != 0.0 {
            for (d, &v) in ws.dh.iter_mut().zip(h) {
                *d += ka * v;
            }
        }
        let (w_ih, w_hh, b, b_hh) = self.layer();
        match self.arch.path() {
            Path::Bptt(kind) => {
                let w = CellWeights { kind, inp: self.n_in, hidden: hd, w_ih, w_hh, b_ih: b, b_hh };
                let seq = SeqLayout { time, batch, starts: None, noise: None };
                let mut cg = CellGrads {
                    w_ih: std::mem::take(&mut grads[0]),
                    w_hh: std::mem::take(&mut grads[1]),
                    b_ih: std::mem::take(&mut grads[2]),
                    b_hh: Vec::new(),
                };
                if self.arch == Arch::Gru {
                    cg.b_hh = std::mem::take(&mut grads[3]);
                }
                let out = BackwardOut { grads: &mut cg, dx: None };
                bptt::backward(&w, x, seq, &ws.trace, &ws.dh, out, &mut ws.scratch);
                grads[0] = cg.w_ih;
                grads[1] = cg.w_hh;
                grads[2] = cg.b_ih;
                if self.arch == Arch::Gru {
                    grads[3] = cg.b_hh;
                }
            }
            Path::Extra(kind) => {
                let w = ExtraWeights { kind, inp: self.n_in, hidden: hd, w_ih, w_hh, b };
                let mut eg = ExtraGrads {
                    w_ih: std::mem::take(&mut grads[0]),
                    w_hh: std::mem::take(&mut grads[1]),
                    b: std::mem::take(&mut grads[2]),
                };
                extra::backward(&w, x, time, batch, &mut ws.extra, &ws.dh, &mut eg);
                grads[0] = eg.w_ih;
                grads[1] = eg.w_hh;
                grads[2] = eg.b;
            }
        }
        if l2_weight != 0.0 {
            for (i, (g, p)) in grads.iter_mut().zip(&self.params).enumerate() {
                if self.is_weight(i) {
                    for (g, &p) in g.iter_mut().zip(p) {
                        *g += 2.0 * l2_weight * p;
                    }
                }
            }
        }
        parts
    }
}
