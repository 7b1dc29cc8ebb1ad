//! A dense layer `y = x W + b` with runtime sizes.

use super::{ParamId, Params, T2T};
use dfdx::prelude::*;
use rand::Rng;

/// A dense layer. `W` is stored `[in, out]` (the transpose of `torch.nn.Linear.weight`),
/// `b` as `[1, out]`.
#[derive(Clone, Copy, Debug)]
pub struct Linear {
    /// Weight id, `[in, out]`.
    pub w: ParamId,
    /// Bias id, `[1, out]`.
    pub b: ParamId,
    /// Input width.
    pub inp: usize,
    /// Output width.
    pub out: usize,
}

impl Linear {
    /// Registers `{prefix}.weight` (orthogonal, `gain`) and `{prefix}.bias` (zeros).
    pub fn new<R: Rng>(params: &mut Params, prefix: &str, inp: usize, out: usize, gain: f32, rng: &mut R) -> Self {
        let w = params.add_orthogonal(format!("{prefix}.weight"), inp, out, gain, rng);
        let b = params.add_zeros(format!("{prefix}.bias"), 1, out);
        Self { w, b, inp, out }
    }

    /// `x [batch, in] -> [batch, out]`.
    #[inline]
    pub fn forward<T: Tape<f32, Cpu>>(&self, p: &Params, x: T2T<T>) -> T2T<T> {
        let batch = x.shape().0;
        let y = x.matmul(p.get(self.w).clone());
        y + bias(p, self.b, batch)
    }

    /// `x W` without the bias, `x [batch, in] -> [batch, out]`.
    #[inline]
    pub fn forward_nobias<T: Tape<f32, Cpu>>(&self, p: &Params, x: T2T<T>) -> T2T<T> {
        x.matmul(p.get(self.w).clone())
    }
}

/// The `[1, n]` parameter `id` broadcast to `[batch, n]` (no tape).
#[inline]
pub fn bias(p: &Params, id: ParamId, batch: usize) -> Tensor<(usize, usize), f32, Cpu> {
    let t = p.get(id);
    let n = t.shape().1;
    t.clone().reshape_like(&(n,)).broadcast_like::<_, Axis<0>>(&(batch, n))
}

/// `tanh(x)` computed as `2 σ(2x) − 1`.
///
/// Same function; glibc's `tanhf` (through `expm1f`) took about half of an MLP update's time
/// in dfdx's element-wise kernels (forward, and again in the backward), `expf` in the
/// sigmoid is several times cheaper.
#[inline]
pub fn tanh<T: Tape<f32, Cpu>>(x: T2T<T>) -> T2T<T> {
    ((x * 2.0f32).sigmoid() * 2.0f32) - 1.0f32
}
