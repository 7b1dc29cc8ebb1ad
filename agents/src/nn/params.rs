//! Named parameter tensors with runtime shapes, and the PPO initialization.

use super::{Dev, T2};
use dfdx::prelude::*;
use rand::Rng;
use rand_distr::StandardNormal;

/// One trainable tensor: a name (the safetensors key) and a `[rows, cols]` dfdx tensor.
///
/// Biases and the log-std are stored as `[1, n]` rows so every parameter has one type.
#[derive(Clone, Debug)]
pub struct Param {
    /// Safetensors key, for example `actor.l0.weight`.
    pub name: String,
    /// The values, `[rows, cols]`.
    pub tensor: T2,
}

impl Param {
    /// `[rows, cols]`.
    pub fn shape(&self) -> [usize; 2] {
        let (r, c) = *self.tensor.shape();
        [r, c]
    }
    /// Number of scalars.
    pub fn len(&self) -> usize {
        let [r, c] = self.shape();
        r * c
    }
    /// Whether the tensor is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Values, row-major.
    pub fn values(&self) -> Vec<f32> {
        self.tensor.as_vec()
    }
}

/// The parameters of a network, in a fixed order (the order of the optimizer state and of
/// the safetensors file).
#[derive(Clone, Debug)]
pub struct Params {
    dev: Dev,
    items: Vec<Param>,
    /// The same values as plain buffers (kept in sync by every mutation), read by the
    /// hand-written recurrent layers without copying out of dfdx.
    host: Vec<Vec<f32>>,
}

/// Index of a parameter inside its [`Params`].
pub type ParamId = usize;

impl Params {
    /// An empty store on `dev`.
    pub fn new(dev: Dev) -> Self {
        Self { dev, items: Vec::new(), host: Vec::new() }
    }

    /// The device.
    pub fn dev(&self) -> &Dev {
        &self.dev
    }

    /// Adds a zero tensor `[rows, cols]` named `name`.
    pub fn add_zeros(&mut self, name: String, rows: usize, cols: usize) -> ParamId {
        let tensor = self.dev.zeros_like(&(rows, cols));
        self.items.push(Param { name, tensor });
        self.host.push(vec![0.0; rows * cols]);
        self.items.len() - 1
    }

    /// Adds an orthogonal `[rows, cols]` matrix scaled by `gain` (PyTorch's
    /// `nn.init.orthogonal_`: a QR-orthonormalized Gaussian matrix).
    pub fn add_orthogonal<R: Rng>(
        &mut self,
        name: String,
        rows: usize,
        cols: usize,
        gain: f32,
        rng: &mut R,
    ) -> ParamId {
        let data = orthogonal(rows, cols, gain, rng);
        self.host.push(data.clone());
        let tensor = self.dev.tensor_from_vec(data, (rows, cols));
        self.items.push(Param { name, tensor });
        self.items.len() - 1
    }

    /// The tensor of parameter `id`.
    #[inline]
    pub fn get(&self, id: ParamId) -> &T2 {
        &self.items[id].tensor
    }

    /// The values of parameter `id`, row-major.
    #[inline]
    pub fn values(&self, id: ParamId) -> &[f32] {
        &self.host[id]
    }

    /// All parameters in order.
    pub fn items(&self) -> &[Param] {
        &self.items
    }

    /// Number of scalars over all parameters.
    pub fn num_scalars(&self) -> usize {
        self.items.iter().map(|p| p.tensor.shape().num_elements()).sum()
    }

    /// Every parameter's values, flattened row-major, in order.
    pub fn to_vecs(&self) -> Vec<Vec<f32>> {
        self.items.iter().map(|p| p.tensor.as_vec()).collect()
    }

    /// Overwrites parameter `id` with `values` (row-major, of the right length).
    pub fn set(&mut self, id: ParamId, values: &[f32]) {
        self.items[id].tensor.copy_from(values);
        self.host[id].copy_from_slice(values);
    }
}

/// A row-major `[rows, cols]` matrix with orthonormal rows or columns (whichever are fewer),
/// times `gain`.
pub fn orthogonal<R: Rng>(rows: usize, cols: usize, gain: f32, rng: &mut R) -> Vec<f32> {
    // Gram-Schmidt on the columns of a tall Gaussian matrix [big, small]; the result has
    // orthonormal columns with the sign convention of QR with positive diag(R).
    let (big, small) = (rows.max(cols), rows.min(cols));
    let mut q: Vec<Vec<f64>> =
        (0..small).map(|_| (0..big).map(|_| rng.sample::<f64, _>(StandardNormal)).collect()).collect();
    for j in 0..small {
        for k in 0..j {
            let d: f64 = (0..big).map(|i| q[j][i] * q[k][i]).sum();
            let (head, tail) = q.split_at_mut(j);
            for (x, y) in tail[0].iter_mut().zip(&head[k]) {
                *x -= d * y;
            }
        }
        let n: f64 = q[j].iter().map(|v| v * v).sum::<f64>().sqrt().max(1e-12);
        q[j].iter_mut().for_each(|v| *v /= n);
    }
    let mut out = vec![0.0f32; rows * cols];
    for r in 0..rows {
        for c in 0..cols {
            // Column j of the tall matrix is q[j]; place it so the small side is orthonormal.
            let v = if rows >= cols { q[c][r] } else { q[r][c] };
            out[r * cols + c] = gain * v as f32;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn orthogonal_is_orthonormal_times_gain() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        for &(r, c) in &[(5usize, 3usize), (3, 5), (4, 4)] {
            let w = orthogonal(r, c, 2.0, &mut rng);
            // Gram matrix of the smaller side equals gain² I.
            let (n, m) = (r.min(c), r.max(c));
            for a in 0..n {
                for b in 0..n {
                    let dot: f32 = (0..m)
                        .map(|k| if r >= c { w[k * c + a] * w[k * c + b] } else { w[a * c + k] * w[b * c + k] })
                        .sum();
                    let want = if a == b { 4.0 } else { 0.0 };
                    assert!((dot - want).abs() < 1e-4, "{r}x{c}: [{a},{b}] = {dot}");
                }
            }
        }
    }
}
