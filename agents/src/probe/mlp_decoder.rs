//! A small MLP decoder: the secondary (nonlinear) measure of implicit system identification.
//!
//! One tanh hidden layer, linear outputs, trained full-batch with Adam on the squared error
//! plus an L2 penalty on the weights, for a fixed number of epochs. Features and targets are
//! standardized with training-fold statistics only; folds split by group (episode) as in
//! [`super::sysid::ridge_cv`]; R² is scored on held-out groups against the held-out mean.

use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use super::sysid::{group_folds, MIN_FEATURE_STD};
use super::Matrix;
use crate::error::AgentError;
use crate::stats::{mean, r_squared};

/// Settings of the MLP decoder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MlpDecoderConfig {
    /// Hidden units.
    pub hidden: usize,
    /// Full-batch Adam steps.
    pub epochs: usize,
    /// Adam learning rate.
    pub learning_rate: f64,
    /// L2 penalty on the weights (per sample of the mean squared error).
    pub weight_decay: f64,
    /// Outer folds (held-out R²).
    pub n_folds: usize,
}

impl Default for MlpDecoderConfig {
    fn default() -> Self {
        Self { hidden: 32, epochs: 400, learning_rate: 1e-2, weight_decay: 1e-2, n_folds: 5 }
    }
}

/// Column means and standard deviations of the rows `idx` of `m` (std floored at 1 for
/// constant columns).
fn col_stats(m: &Matrix, idx: &[usize]) -> (Vec<f64>, Vec<f64>) {
    let c = m.cols();
    let n = idx.len().max(1) as f64;
    let mut mu = vec![0.0; c];
    for &i in idx {
        for (j, v) in m.row(i).iter().enumerate() {
            mu[j] += v / n;
        }
    }
    let mut sd = vec![0.0; c];
    for &i in idx {
        for (j, v) in m.row(i).iter().enumerate() {
            sd[j] += (v - mu[j]).powi(2) / n;
        }
    }
    let sd = sd.into_iter().map(|v| if v.sqrt() < MIN_FEATURE_STD { 1.0 } else { v.sqrt() }).collect();
    (mu, sd)
}

fn standardized(m: &Matrix, idx: &[usize], mu: &[f64], sd: &[f64]) -> Matrix {
    Matrix::from_fn(idx.len(), m.cols(), |r, j| (m.get(idx[r], j) - mu[j]) / sd[j])
}

/// A trained one-hidden-layer network.
struct Net {
    w1: Matrix, // [in, hidden]
    b1: Vec<f64>,
    w2: Matrix, // [hidden, out]
    b2: Vec<f64>,
}

/// `tanh(x W1 + b1)` and `h W2 + b2` for a batch `x` `[n, in]`.
impl Net {
    fn forward(&self, x: &Matrix) -> Result<(Matrix, Matrix), AgentError> {
        let mut h = x.matmul(&self.w1)?;
        for i in 0..h.rows() {
            for (k, b) in self.b1.iter().enumerate() {
                h.set(i, k, (h.get(i, k) + b).tanh());
            }
        }
        let mut y = h.matmul(&self.w2)?;
        for i in 0..y.rows() {
            for (o, b) in self.b2.iter().enumerate() {
                y.set(i, o, y.get(i, o) + b);
            }
        }
        Ok((h, y))
    }
}

/// Adam state of one parameter vector.
struct Adam {
    m: Vec<f64>,
    v: Vec<f64>,
}

impl Adam {
    fn new(n: usize) -> Self {
        Self { m: vec![0.0; n], v: vec![0.0; n] }
    }
    fn step(&mut self, p: &mut [f64], g: &[f64], lr: f64, t: i32) {
        const B1: f64 = 0.9;
        const B2: f64 = 0.999;
        const EPS: f64 = 1e-8;
        let (c1, c2) = (1.0 - B1.powi(t), 1.0 - B2.powi(t));
        for (((p, g), m), v) in p.iter_mut().zip(g).zip(&mut self.m).zip(&mut self.v) {
            *m = B1 * *m + (1.0 - B1) * g;
            *v = B2 * *v + (1.0 - B2) * g * g;
            *p -= lr * (*m / c1) / ((*v / c2).sqrt() + EPS);
        }
    }
}

fn col_sums(m: &Matrix) -> Vec<f64> {
    let mut s = vec![0.0; m.cols()];
    for i in 0..m.rows() {
        for (o, v) in s.iter_mut().zip(m.row(i)) {
            *o += v;
        }
    }
    s
}

/// Trains a network on standardized `x` `[n, in]` → `y` `[n, out]`.
fn train<R: Rng>(x: &Matrix, y: &Matrix, cfg: &MlpDecoderConfig, rng: &mut R) -> Result<Net, AgentError> {
    let (inp, hid, out) = (x.cols(), cfg.hidden, y.cols());
    let n = x.rows() as f64;
    let mut init = |rows: usize, cols: usize| {
        let s = (1.0 / rows.max(1) as f64).sqrt();
        Matrix::from_fn(rows, cols, |_, _| s * <StandardNormal as Distribution<f64>>::sample(&StandardNormal, rng))
    };
    let mut net = Net { w1: init(inp, hid), b1: vec![0.0; hid], w2: init(hid, out), b2: vec![0.0; out] };
    let mut opt = [Adam::new(inp * hid), Adam::new(hid), Adam::new(hid * out), Adam::new(out)];
    let scale = 2.0 / (n * out as f64);
    for epoch in 1..=cfg.epochs {
        let (h, yh) = net.forward(x)?;
        // dL/dŷ of the mean squared error over samples and outputs.
        let e = Matrix::from_fn(yh.rows(), out, |i, o| scale * (yh.get(i, o) - y.get(i, o)));
        let mut g2 = h.t_matmul(&e)?;
        let gb2 = col_sums(&e);
        let mut dh = e.matmul(&net.w2.transpose())?;
        for i in 0..dh.rows() {
            for k in 0..hid {
                let hv = h.get(i, k);
                dh.set(i, k, dh.get(i, k) * (1.0 - hv * hv));
            }
        }
        let mut g1 = x.t_matmul(&dh)?;
        let gb1 = col_sums(&dh);
        let decay = 2.0 * cfg.weight_decay / n;
        for (g, w) in g1.data_mut().iter_mut().zip(net.w1.data()) {
            *g += decay * w;
        }
        for (g, w) in g2.data_mut().iter_mut().zip(net.w2.data()) {
            *g += decay * w;
        }
        let t = epoch as i32;
        opt[0].step(net.w1.data_mut(), g1.data(), cfg.learning_rate, t);
        opt[1].step(&mut net.b1, &gb1, cfg.learning_rate, t);
        opt[2].step(net.w2.data_mut(), g2.data(), cfg.learning_rate, t);
        opt[3].step(&mut net.b2, &gb2, cfg.learning_rate, t);
    }
    Ok(net)
}

/// Held-out R² per target of the MLP decoder of `y` `[n, targets]` from `x` `[n, features]`,
/// averaged over group K-fold splits (`groups`: episode of each sample).
pub fn mlp_decoder_cv<R: Rng>(
    x: &Matrix,
    y: &Matrix,
    groups: &[u64],
    cfg: &MlpDecoderConfig,
    rng: &mut R,
) -> Result<Vec<f64>, AgentError> {
    if x.rows() != y.rows() || x.rows() != groups.len() {
        return Err(AgentError::ShapeMismatch {
            context: "mlp_decoder_cv",
            expected: format!("{} rows in x, y and groups", x.rows()),
            actual: format!("y {}, groups {}", y.rows(), groups.len()),
        });
    }
    if cfg.hidden == 0 || cfg.epochs == 0 || cfg.learning_rate.is_nan() || cfg.learning_rate <= 0.0 {
        return Err(AgentError::InvalidParameter {
            name: "mlp decoder",
            value: format!("hidden {}, epochs {}, lr {}", cfg.hidden, cfg.epochs, cfg.learning_rate),
            reason: "hidden and epochs must be >= 1 and the learning rate > 0",
        });
    }
    let folds = group_folds(groups, cfg.n_folds, rng)?;
    let mut r2 = vec![Vec::new(); y.cols()];
    for f in 0..cfg.n_folds {
        let train_idx: Vec<usize> = (0..x.rows()).filter(|&i| folds[i] != f).collect();
        let test_idx: Vec<usize> = (0..x.rows()).filter(|&i| folds[i] == f).collect();
        let (xm, xs) = col_stats(x, &train_idx);
        let (ym, ys) = col_stats(y, &train_idx);
        let net = train(&standardized(x, &train_idx, &xm, &xs), &standardized(y, &train_idx, &ym, &ys), cfg, rng)?;
        let (_, yh) = net.forward(&standardized(x, &test_idx, &xm, &xs))?;
        let pred: Vec<Vec<f64>> =
            (0..y.cols()).map(|k| yh.col(k).iter().map(|v| v * ys[k] + ym[k]).collect()).collect();
        for (k, r) in r2.iter_mut().enumerate() {
            let truth: Vec<f64> = test_idx.iter().map(|&i| y.get(i, k)).collect();
            r.push(r_squared(&truth, &pred[k]));
        }
    }
    Ok(r2.iter().map(|r| mean(r)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    /// One sample per episode: features carry a nonlinear code of the target (if planted).
    fn data(planted: bool, seed: u64) -> (Matrix, Matrix, Vec<u64>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let n = 120;
        let mut x = Matrix::zeros(n, 6);
        let mut y = Matrix::zeros(n, 1);
        for i in 0..n {
            let p: f64 = rng.gen_range(-1.0..1.0);
            y.set(i, 0, p);
            for j in 0..6 {
                let noise: f64 = StandardNormal.sample(&mut rng);
                let code = if planted { (1.5 * p + 0.3 * j as f64).tanh() } else { 0.0 };
                x.set(i, j, code + 0.05 * noise);
            }
        }
        (x, y, (0..n as u64).collect())
    }

    #[test]
    fn planted_nonlinear_code_is_decoded_and_noise_is_not() {
        let cfg = MlpDecoderConfig::default();
        let (x, y, g) = data(true, 1);
        let r2 = mlp_decoder_cv(&x, &y, &g, &cfg, &mut ChaCha8Rng::seed_from_u64(2)).unwrap();
        assert!(r2[0] > 0.9, "planted R² {}", r2[0]);
        let (x, y, g) = data(false, 3);
        let r2 = mlp_decoder_cv(&x, &y, &g, &cfg, &mut ChaCha8Rng::seed_from_u64(4)).unwrap();
        assert!(r2[0] < 0.05, "null R² {}", r2[0]);
    }
}
