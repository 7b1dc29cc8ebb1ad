//! The MLP decoder: the nonlinear measure of implicit system identification, from the small
//! one-layer probe of the ridge protocol to Siekmann et al.'s 256-256 decoder (RSS 2020).
//!
//! Hidden layers of the given widths (tanh or ReLU), linear outputs, trained full-batch with
//! Adam on the squared error plus an L2 penalty on the weights, for a fixed number of epochs.
//! Features and targets are standardized with training-set statistics only. [`fit_predict`]
//! trains on one set and predicts another; [`mlp_decoder_cv`] splits by group (episode) as
//! [`super::sysid::ridge_cv`] does and scores R² on held-out groups against the held-out mean.

use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use super::sysid::{group_folds, MIN_FEATURE_STD};
use super::Matrix;
use crate::error::AgentError;
use crate::stats::{mean, r_squared};

/// Widths of the hidden layers: one number (one layer, the form older configs use) or a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum HiddenLayers {
    /// One hidden layer of this width.
    One(usize),
    /// Hidden layers of these widths, input side first.
    Many(Vec<usize>),
}

impl HiddenLayers {
    /// The widths, input side first.
    pub fn widths(&self) -> Vec<usize> {
        match self {
            Self::One(w) => vec![*w],
            Self::Many(v) => v.clone(),
        }
    }
}

/// Nonlinearity of the hidden layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// `tanh` (the default).
    #[default]
    Tanh,
    /// `max(0, x)`.
    Relu,
}

impl Activation {
    fn is_tanh(&self) -> bool {
        *self == Activation::Tanh
    }
    fn apply(self, x: f64) -> f64 {
        match self {
            Self::Tanh => x.tanh(),
            Self::Relu => x.max(0.0),
        }
    }
    /// Derivative expressed through the output `h = f(x)`.
    fn slope_at_output(self, h: f64) -> f64 {
        match self {
            Self::Tanh => 1.0 - h * h,
            Self::Relu => f64::from(u8::from(h > 0.0)),
        }
    }
    /// Standard deviation of the initial weights times sqrt(fan-in) (LeCun for tanh, He for
    /// ReLU).
    fn init_gain(self) -> f64 {
        match self {
            Self::Tanh => 1.0,
            Self::Relu => std::f64::consts::SQRT_2,
        }
    }
}

/// Settings of the MLP decoder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MlpDecoderConfig {
    /// Hidden layer widths: `32` (one layer) or `[256, 256]`.
    pub hidden: HiddenLayers,
    /// Nonlinearity of the hidden layers (`tanh` or `relu`; default tanh).
    #[serde(skip_serializing_if = "Activation::is_tanh")]
    pub activation: Activation,
    /// Full-batch Adam steps.
    pub epochs: usize,
    /// Adam learning rate.
    pub learning_rate: f64,
    /// L2 penalty on the weights (per sample of the mean squared error).
    pub weight_decay: f64,
    /// Outer folds (held-out R² of [`mlp_decoder_cv`]).
    pub n_folds: usize,
}

impl Default for MlpDecoderConfig {
    fn default() -> Self {
        Self {
            hidden: HiddenLayers::One(32),
            activation: Activation::Tanh,
            epochs: 400,
            learning_rate: 1e-2,
            weight_decay: 1e-2,
            n_folds: 5,
        }
    }
}

impl MlpDecoderConfig {
    /// Refuses empty or zero-width layers, zero epochs and a non-positive learning rate.
    pub fn validate(&self) -> Result<(), AgentError> {
        let widths = self.hidden.widths();
        if widths.is_empty()
            || widths.contains(&0)
            || self.epochs == 0
            || self.learning_rate.is_nan()
            || self.learning_rate <= 0.0
        {
            return Err(AgentError::InvalidParameter {
                name: "mlp decoder",
                value: format!("hidden {widths:?}, epochs {}, learning_rate {}", self.epochs, self.learning_rate),
                reason: "needs at least one hidden layer, every width >= 1, epochs >= 1 and learning_rate > 0",
            });
        }
        if self.weight_decay.is_nan() || self.weight_decay < 0.0 {
            return Err(AgentError::InvalidParameter {
                name: "mlp decoder weight_decay",
                value: self.weight_decay.to_string(),
                reason: "must be >= 0",
            });
        }
        Ok(())
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

/// A network: hidden layers then a linear output layer, each `(W [in, out], b [out])`.
struct Net {
    layers: Vec<(Matrix, Vec<f64>)>,
    activation: Activation,
}

impl Net {
    /// The input and the output of every layer for a batch `x` `[n, in]`: `[x, h1, …, ŷ]`.
    fn forward(&self, x: &Matrix) -> Result<Vec<Matrix>, AgentError> {
        let mut acts = vec![x.clone()];
        let last = self.layers.len() - 1;
        for (l, (w, b)) in self.layers.iter().enumerate() {
            let mut h = acts[l].matmul(w)?;
            for i in 0..h.rows() {
                for (k, bk) in b.iter().enumerate() {
                    let z = h.get(i, k) + bk;
                    h.set(i, k, if l == last { z } else { self.activation.apply(z) });
                }
            }
            acts.push(h);
        }
        Ok(acts)
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
    let mut sizes = vec![x.cols()];
    sizes.extend(cfg.hidden.widths());
    sizes.push(y.cols());
    let n = x.rows() as f64;
    let gain = cfg.activation.init_gain();
    let mut layers = vec![];
    for w in sizes.windows(2) {
        let s = gain * (1.0 / w[0].max(1) as f64).sqrt();
        let m =
            Matrix::from_fn(w[0], w[1], |_, _| s * <StandardNormal as Distribution<f64>>::sample(&StandardNormal, rng));
        layers.push((m, vec![0.0; w[1]]));
    }
    let mut net = Net { layers, activation: cfg.activation };
    let mut opt: Vec<(Adam, Adam)> = sizes.windows(2).map(|w| (Adam::new(w[0] * w[1]), Adam::new(w[1]))).collect();
    let scale = 2.0 / (n * y.cols() as f64);
    let decay = 2.0 * cfg.weight_decay / n;
    for epoch in 1..=cfg.epochs {
        let acts = net.forward(x)?;
        let yh = &acts[acts.len() - 1];
        // dL/dŷ of the mean squared error over samples and outputs, then back layer by layer.
        let mut delta = Matrix::from_fn(yh.rows(), yh.cols(), |i, o| scale * (yh.get(i, o) - y.get(i, o)));
        let mut grads = Vec::with_capacity(net.layers.len());
        for l in (0..net.layers.len()).rev() {
            let mut gw = acts[l].t_matmul(&delta)?;
            for (g, w) in gw.data_mut().iter_mut().zip(net.layers[l].0.data()) {
                *g += decay * w;
            }
            let gb = col_sums(&delta);
            if l > 0 {
                let mut dh = delta.matmul(&net.layers[l].0.transpose())?;
                let h = &acts[l];
                for i in 0..dh.rows() {
                    for k in 0..dh.cols() {
                        dh.set(i, k, dh.get(i, k) * net.activation.slope_at_output(h.get(i, k)));
                    }
                }
                delta = dh;
            }
            grads.push((gw, gb));
        }
        grads.reverse();
        let t = epoch as i32;
        for (((w, b), (aw, ab)), (gw, gb)) in net.layers.iter_mut().zip(&mut opt).zip(&grads) {
            aw.step(w.data_mut(), gw.data(), cfg.learning_rate, t);
            ab.step(b, gb, cfg.learning_rate, t);
        }
    }
    Ok(net)
}

/// Trains the decoder on rows `train` of `x` `[n, features]` → `y` `[n, targets]` and returns
/// its predictions for rows `test`, `[test.len(), targets]`, in the units of `y`
/// (standardization uses the training rows' statistics only).
pub fn fit_predict<R: Rng>(
    x: &Matrix,
    y: &Matrix,
    train_rows: &[usize],
    test_rows: &[usize],
    cfg: &MlpDecoderConfig,
    rng: &mut R,
) -> Result<Matrix, AgentError> {
    cfg.validate()?;
    if x.rows() != y.rows() {
        return Err(AgentError::ShapeMismatch {
            context: "mlp decoder fit_predict",
            expected: format!("{} rows in y", x.rows()),
            actual: format!("{} rows", y.rows()),
        });
    }
    if let Some(&i) = train_rows.iter().chain(test_rows).find(|&&i| i >= x.rows()) {
        return Err(AgentError::InvalidParameter {
            name: "mlp decoder row",
            value: i.to_string(),
            reason: "row index beyond the data",
        });
    }
    if train_rows.is_empty() {
        return Err(AgentError::TooFew {
            context: "mlp decoder fit_predict",
            what: "training rows",
            needed: 1,
            got: 0,
        });
    }
    let (xm, xs) = col_stats(x, train_rows);
    let (ym, ys) = col_stats(y, train_rows);
    let net = train(&standardized(x, train_rows, &xm, &xs), &standardized(y, train_rows, &ym, &ys), cfg, rng)?;
    let acts = net.forward(&standardized(x, test_rows, &xm, &xs))?;
    let yh = &acts[acts.len() - 1];
    Ok(Matrix::from_fn(yh.rows(), yh.cols(), |i, k| yh.get(i, k) * ys[k] + ym[k]))
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
    cfg.validate()?;
    let folds = group_folds(groups, cfg.n_folds, rng)?;
    let mut r2 = vec![Vec::new(); y.cols()];
    for f in 0..cfg.n_folds {
        let train_idx: Vec<usize> = (0..x.rows()).filter(|&i| folds[i] != f).collect();
        let test_idx: Vec<usize> = (0..x.rows()).filter(|&i| folds[i] == f).collect();
        let pred = fit_predict(x, y, &train_idx, &test_idx, cfg, rng)?;
        for (k, r) in r2.iter_mut().enumerate() {
            let truth: Vec<f64> = test_idx.iter().map(|&i| y.get(i, k)).collect();
            r.push(r_squared(&truth, &pred.col(k)));
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

    #[test]
    fn two_relu_layers_decode_the_planted_code_and_fit_predict_is_deterministic() {
        let cfg = MlpDecoderConfig {
            hidden: HiddenLayers::Many(vec![24, 24]),
            activation: Activation::Relu,
            epochs: 300,
            learning_rate: 3e-3,
            ..MlpDecoderConfig::default()
        };
        let (x, y, g) = data(true, 5);
        let r2 = mlp_decoder_cv(&x, &y, &g, &cfg, &mut ChaCha8Rng::seed_from_u64(6)).unwrap();
        assert!(r2[0] > 0.9, "planted R² {}", r2[0]);
        let (train, test): (Vec<usize>, Vec<usize>) = (0..x.rows()).partition(|i| i % 5 != 0);
        let a = fit_predict(&x, &y, &train, &test, &cfg, &mut ChaCha8Rng::seed_from_u64(7)).unwrap();
        let b = fit_predict(&x, &y, &train, &test, &cfg, &mut ChaCha8Rng::seed_from_u64(7)).unwrap();
        assert_eq!(a, b, "same seed, same predictions");
        assert_eq!(a.shape(), (test.len(), 1));
    }

    #[test]
    fn hidden_reads_a_number_or_a_list_and_writes_the_old_form_back() {
        let old: MlpDecoderConfig = toml::from_str("hidden = 32\nepochs = 300").unwrap();
        assert_eq!((old.hidden.widths(), old.activation), (vec![32], Activation::Tanh));
        // A config of the old form serializes as before (plans hash their jobs' configs).
        let text = toml::to_string(&old).unwrap();
        assert!(text.contains("hidden = 32\n") && !text.contains("activation"), "{text}");
        let new: MlpDecoderConfig = toml::from_str("hidden = [256, 256]\nactivation = \"relu\"").unwrap();
        assert_eq!((new.hidden.widths(), new.activation), (vec![256, 256], Activation::Relu));
        let back: MlpDecoderConfig = toml::from_str(&toml::to_string(&new).unwrap()).unwrap();
        assert_eq!(back, new);
        for bad in ["hidden = []", "hidden = [8, 0]", "epochs = 0", "learning_rate = -1.0"] {
            let c: MlpDecoderConfig = toml::from_str(bad).unwrap();
            let e = c.validate().unwrap_err().to_string();
            assert!(e.contains("hidden") && e.contains("learning_rate"), "{bad}: {e}");
        }
    }
}
