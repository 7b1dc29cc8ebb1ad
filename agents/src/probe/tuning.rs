//! Orientation tuning of recurrent units, the connectivity sorted by it, and the dynamic code
//! (Cueva, Ardalan, Tsodyks & Qian 2021, arXiv 2111.01275, the connectivity and
//! dynamic-code analyses).
//!
//! - A unit's tuning curve to an orientation (values on `n` grid points over 180°) is
//!   summarized by its first harmonic in `2θ`: the preferred orientation `arg(c)/2` and the
//!   share of the curve's variance in that harmonic (1 for a pure cosine tuning curve). A
//!   unit counts as tuned when that share is ≥ [`TUNED_SHARE`] and its amplitude is
//!   ≥ [`MIN_AMPLITUDE`].
//! - Connectivity: the mean recurrent weight from unit `j` to unit `i` against the
//!   difference of their preferred orientations, `wrap(pref_i − pref_j)`, over tuned units;
//!   "local excitation, global inhibition" is measured as the mean weight at
//!   `|Δ| ≤ 22.5°` minus the mean weight at `|Δ| ≥ 45°` (> 0 for the paper's pattern), with
//!   a permutation p-value over shuffled preferences (`p = (1 + #{null ≥ obs}) / (1 + n)`).
//! - The dynamic code: the fraction of units tuned to θ1 both before and after θ2 arrives
//!   whose preferred θ1 moves by more than [`PREF_CHANGE_DEG`].
//! - Cross-temporal decoding: a linear decoder of `(cos 2θ, sin 2θ)` fitted at one time and
//!   tested at every other on held-out trials; entries are the mean absolute orientation
//!   error in degrees (chance: 45°).

use super::linalg::pseudo_inverse;
use super::matrix::Matrix;
use crate::error::AgentError;
use rand::seq::SliceRandom;
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;

/// First-harmonic variance share a tuned unit needs.
pub const TUNED_SHARE: f64 = 0.5;
/// First-harmonic amplitude a tuned unit needs (activity units; tanh units are in [−1, 1]).
pub const MIN_AMPLITUDE: f64 = 0.01;
/// A change of preferred orientation larger than this counts as a changed code, degrees.
pub const PREF_CHANGE_DEG: f64 = 30.0;
/// `|Δ|` at or below this is "local", degrees.
pub const LOCAL_DEG: f64 = 22.5;
/// `|Δ|` at or above this is "far", degrees.
pub const FAR_DEG: f64 = 45.0;

/// `a − b` wrapped into (−90°, 90°] (radians).
pub fn wrap(a: f64, b: f64) -> f64 {
    let mut d = (a - b).rem_euclid(PI);
    if d > PI / 2.0 {
        d -= PI;
    }
    d
}

/// A tuning curve's summary.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Tuning {
    /// Preferred orientation, radians in [0, π).
    pub pref: f64,
    /// First-harmonic amplitude.
    pub amplitude: f64,
    /// Share of the curve's variance in the first harmonic, [0, 1].
    pub share: f64,
}

impl Tuning {
    /// Of a curve sampled at `θ_k = k·180°/n`.
    pub fn of(curve: &[f64]) -> Self {
        let n = curve.len() as f64;
        let mean = curve.iter().sum::<f64>() / n;
        let (mut re, mut im, mut var) = (0.0, 0.0, 0.0);
        for (k, &x) in curve.iter().enumerate() {
            let a = 2.0 * PI * k as f64 / n;
            re += 2.0 / n * (x - mean) * a.cos();
            im += 2.0 / n * (x - mean) * a.sin();
            var += (x - mean).powi(2) / n;
        }
        let amplitude = (re * re + im * im).sqrt();
        let share = if var > 0.0 { (amplitude * amplitude / 2.0 / var).min(1.0) } else { 0.0 };
        Self { pref: (im.atan2(re) / 2.0).rem_euclid(PI), amplitude, share }
    }

    /// Whether the unit counts as tuned.
    pub fn tuned(&self) -> bool {
        self.share >= TUNED_SHARE && self.amplitude >= MIN_AMPLITUDE
    }
}

/// Tuning of every unit to θ1 (averaged over θ2) and to θ2 (averaged over θ1) from grid
/// states `[n1·n2, H]` (row `i·n2 + j`).
pub fn unit_tuning(states: &Matrix, n1: usize, n2: usize) -> (Vec<Tuning>, Vec<Tuning>) {
    let h = states.cols();
    let mut t1 = Vec::with_capacity(h);
    let mut t2 = Vec::with_capacity(h);
    for u in 0..h {
        let c1: Vec<f64> =
            (0..n1).map(|i| (0..n2).map(|j| states.get(i * n2 + j, u)).sum::<f64>() / n2 as f64).collect();
        let c2: Vec<f64> =
            (0..n2).map(|j| (0..n1).map(|i| states.get(i * n2 + j, u)).sum::<f64>() / n1 as f64).collect();
        t1.push(Tuning::of(&c1));
        t2.push(Tuning::of(&c2));
    }
    (t1, t2)
}

/// The connectivity profile of a set of units.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConnectivityProfile {
    /// Units in the set.
    pub n_units: usize,
    /// Bin centres of `Δ = pref_post − pref_pre`, degrees in (−90, 90).
    pub bin_centres_deg: Vec<f64>,
    /// Mean weight per bin (`null` when the bin is empty).
    #[serde(with = "super::json::vec_f64_or_null")]
    pub mean_weight: Vec<f64>,
    /// Mean weight at `|Δ| ≤ 22.5°` minus at `|Δ| ≥ 45°` (self-connections excluded).
    #[serde(with = "super::json::f64_or_null")]
    pub local_minus_far: f64,
    /// Mean weight at `|Δ| ≥ 45°` (< 0: far inhibition).
    #[serde(with = "super::json::f64_or_null")]
    pub far_mean: f64,
    /// Permutation p of `local_minus_far` under shuffled preferences (one-sided, > 0).
    #[serde(with = "super::json::f64_or_null")]
    pub p_value: f64,
    /// Units in order of preferred orientation (indices into the network's units).
    pub order: Vec<usize>,
}

fn local_minus_far(w: &Matrix, units: &[usize], pref: &[f64]) -> (f64, f64) {
    let (mut sl, mut nl, mut sf, mut nf) = (0.0, 0.0, 0.0, 0.0);
    for (a, &j) in units.iter().enumerate() {
        for (b, &i) in units.iter().enumerate() {
            if i == j {
                continue;
            }
            let d = wrap(pref[b], pref[a]).abs().to_degrees();
            let v = w.get(j, i);
            if d <= LOCAL_DEG {
                sl += v;
                nl += 1.0;
            } else if d >= FAR_DEG {
                sf += v;
                nf += 1.0;
            }
        }
    }
    if nl == 0.0 || nf == 0.0 {
        return (f64::NAN, f64::NAN);
    }
    (sl / nl - sf / nf, sf / nf)
}

/// The profile of `w` (`[H, H]`, `w[j, i]` from unit `j` to unit `i`, engram's `[in, out]`
/// layout) over `units` with preferences `pref` (radians, one per unit in `units`), in
/// `bins` bins, with `n_perm` shuffles for the p-value.
pub fn connectivity_profile<R: Rng>(
    w: &Matrix,
    units: &[usize],
    pref: &[f64],
    bins: usize,
    n_perm: usize,
    rng: &mut R,
) -> ConnectivityProfile {
    let mut sum = vec![0.0; bins];
    let mut cnt = vec![0.0; bins];
    for (a, &j) in units.iter().enumerate() {
        for (b, &i) in units.iter().enumerate() {
            if i == j {
                continue;
            }
            let d = wrap(pref[b], pref[a]) + PI / 2.0;
            let k = ((d / PI * bins as f64) as usize).min(bins - 1);
            sum[k] += w.get(j, i);
            cnt[k] += 1.0;
        }
    }
    let (obs, far_mean) = local_minus_far(w, units, pref);
    let mut shuffled = pref.to_vec();
    let mut ge = 0usize;
    for _ in 0..n_perm {
        shuffled.shuffle(rng);
        let (v, _) = local_minus_far(w, units, &shuffled);
        if v >= obs {
            ge += 1;
        }
    }
    let mut order: Vec<usize> = (0..units.len()).collect();
    order.sort_by(|&a, &b| pref[a].total_cmp(&pref[b]));
    ConnectivityProfile {
        n_units: units.len(),
        bin_centres_deg: (0..bins).map(|k| -90.0 + (k as f64 + 0.5) * 180.0 / bins as f64).collect(),
        mean_weight: sum.iter().zip(&cnt).map(|(s, c)| if *c > 0.0 { s / c } else { f64::NAN }).collect(),
        local_minus_far: obs,
        far_mean,
        p_value: if obs.is_finite() { (1 + ge) as f64 / (1 + n_perm) as f64 } else { f64::NAN },
        order: order.into_iter().map(|k| units[k]).collect(),
    }
}

/// How θ1 tuning changes when θ2 arrives.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DynamicCode {
    /// Units tuned to θ1 both before θ2 (end of delay 1) and after (end of delay 2).
    pub n_tuned_both: usize,
    /// Units tuned to θ1 before θ2 only.
    pub n_tuned_before_only: usize,
    /// Units tuned to θ1 after θ2 only.
    pub n_tuned_after_only: usize,
    /// Of `n_tuned_both`, the share whose preferred θ1 moved by more than
    /// [`PREF_CHANGE_DEG`].
    #[serde(with = "super::json::f64_or_null")]
    pub changed_share: f64,
    /// Median absolute change of preferred θ1 over `n_tuned_both`, degrees.
    #[serde(with = "super::json::f64_or_null")]
    pub median_change_deg: f64,
}

/// The dynamic code from θ1 tuning before and after θ2 (one [`Tuning`] per unit each).
pub fn dynamic_code(before: &[Tuning], after: &[Tuning]) -> DynamicCode {
    let mut changes = vec![];
    let (mut b_only, mut a_only) = (0, 0);
    for (b, a) in before.iter().zip(after) {
        match (b.tuned(), a.tuned()) {
            (true, true) => changes.push(wrap(a.pref, b.pref).abs().to_degrees()),
            (true, false) => b_only += 1,
            (false, true) => a_only += 1,
            _ => {}
        }
    }
    changes.sort_by(f64::total_cmp);
    let n = changes.len();
    DynamicCode {
        n_tuned_both: n,
        n_tuned_before_only: b_only,
        n_tuned_after_only: a_only,
        changed_share: if n > 0 {
            changes.iter().filter(|&&c| c > PREF_CHANGE_DEG).count() as f64 / n as f64
        } else {
            f64::NAN
        },
        median_change_deg: if n > 0 { changes[n / 2] } else { f64::NAN },
    }
}

/// Mean absolute orientation error (degrees) of `(cos 2θ, sin 2θ)` predictions `[n, 2]`.
pub fn mean_abs_error_deg(pred: &Matrix, theta: &[f64]) -> f64 {
    let mut s = 0.0;
    for (k, &t) in theta.iter().enumerate() {
        let est = (pred.get(k, 1).atan2(pred.get(k, 0)) / 2.0).rem_euclid(PI);
        s += wrap(est, t).abs().to_degrees();
    }
    s / theta.len() as f64
}

fn with_bias(x: &Matrix) -> Matrix {
    Matrix::from_fn(x.rows(), x.cols() + 1, |i, j| if j < x.cols() { x.get(i, j) } else { 1.0 })
}

/// Cross-temporal decoding of `theta` from `states[t]` (`[n_trials, H]` per time): a
/// least-squares (minimum-norm) linear decoder with bias of `(cos 2θ, sin 2θ)` fitted on
/// trials where `train[k]` at time `t`, tested on the others at time `t'`. Returns
/// `[T, T]` (row: training time, column: testing time) of mean absolute errors, degrees.
pub fn cross_temporal_decoding(states: &[Matrix], theta: &[f64], train: &[bool]) -> Result<Matrix, AgentError> {
    let tr: Vec<usize> = (0..theta.len()).filter(|&k| train[k]).collect();
    let te: Vec<usize> = (0..theta.len()).filter(|&k| !train[k]).collect();
    if tr.len() < 4 || te.len() < 4 {
        return Err(AgentError::Probe(format!(
            "cross-temporal decoding: {} training and {} test trials (needs ≥ 4 each)",
            tr.len(),
            te.len()
        )));
    }
    let y = Matrix::from_fn(
        tr.len(),
        2,
        |r, c| if c == 0 { (2.0 * theta[tr[r]]).cos() } else { (2.0 * theta[tr[r]]).sin() },
    );
    let th_te: Vec<f64> = te.iter().map(|&k| theta[k]).collect();
    let tests: Vec<Matrix> = states.iter().map(|s| with_bias(&s.select_rows(&te))).collect();
    let n = states.len();
    let mut out = Matrix::zeros(n, n);
    for (t, s) in states.iter().enumerate() {
        let w = pseudo_inverse(&with_bias(&s.select_rows(&tr)))?.matmul(&y)?;
        for (t2, x) in tests.iter().enumerate() {
            out.set(t, t2, mean_abs_error_deg(&x.matmul(&w)?, &th_te));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn tuning_recovers_preference_and_pure_cosines_have_share_one() {
        let curve: Vec<f64> = (0..16).map(|k| 0.3 + 0.5 * (2.0 * (k as f64 * PI / 16.0 - 0.7)).cos()).collect();
        let t = Tuning::of(&curve);
        assert!((t.pref - 0.7).abs() < 1e-12 && (t.amplitude - 0.5).abs() < 1e-12 && (t.share - 1.0).abs() < 1e-12);
        assert!(t.tuned());
        assert!(!Tuning::of(&[1.0; 16]).tuned());
        assert!((wrap(170f64.to_radians(), 10f64.to_radians()).to_degrees() + 20.0).abs() < 1e-9);
    }

    #[test]
    fn a_ring_network_shows_local_excitation_and_global_inhibition() {
        // w[j, i] = cos 2(pref_i − pref_j) − 0.2: excitatory near, inhibitory far.
        let h = 36;
        let pref: Vec<f64> = (0..h).map(|k| ((k * 7) % h) as f64 * PI / h as f64).collect();
        let w = Matrix::from_fn(h, h, |j, i| (2.0 * (pref[i] - pref[j])).cos() - 0.2);
        let units: Vec<usize> = (0..h).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let p = connectivity_profile(&w, &units, &pref, 12, 199, &mut rng);
        assert!(p.local_minus_far > 1.0 && p.far_mean < 0.0, "{p:?}");
        assert!((p.p_value - 1.0 / 200.0).abs() < 1e-12);
        // The profile peaks at Δ = 0 and the order sorts by preference.
        let peak = p.mean_weight.iter().cloned().fold(f64::MIN, f64::max);
        assert!(peak == p.mean_weight[5] || peak == p.mean_weight[6]);
        assert!(p.order.windows(2).all(|w| pref[w[0]] <= pref[w[1]]));
        // Random weights: no pattern.
        let w = Matrix::from_fn(h, h, |j, i| ((i * 31 + j * 17) % 13) as f64 / 13.0 - 0.5);
        let q = connectivity_profile(&w, &units, &pref, 12, 199, &mut rng);
        assert!(q.p_value > 0.01, "{q:?}");
    }

    #[test]
    fn dynamic_code_counts_units_whose_preference_moves() {
        let mk = |pref_deg: f64| Tuning { pref: pref_deg.to_radians(), amplitude: 0.5, share: 0.9 };
        let before = vec![mk(10.0), mk(10.0), mk(170.0), mk(90.0), Tuning { share: 0.1, ..mk(0.0) }];
        let after = vec![mk(15.0), mk(80.0), mk(5.0), mk(40.0), mk(0.0)];
        let d = dynamic_code(&before, &after);
        // Changes: 5°, 70°, 15° (wrapping through 0°), 50°; the fifth is tuned after only.
        assert_eq!((d.n_tuned_both, d.n_tuned_after_only), (4, 1));
        assert!((d.changed_share - 0.5).abs() < 1e-12 && (d.median_change_deg - 50.0).abs() < 1e-9, "{d:?}");
    }

    #[test]
    fn cross_temporal_decoding_is_exact_where_the_code_is_stable() {
        // Time 0: no information; times 1–2: the same linear code; time 3: a rotated code.
        let n = 32;
        let theta: Vec<f64> = (0..n).map(|k| k as f64 * PI / n as f64).collect();
        let code = |t: usize, th: f64| -> Vec<f64> {
            let (c, s) = ((2.0 * th).cos(), (2.0 * th).sin());
            match t {
                0 => vec![0.0, 0.0, 0.0],
                1 | 2 => vec![c, s, 0.0],
                _ => vec![s, 0.0, c],
            }
        };
        let states: Vec<Matrix> = (0..4)
            .map(|t| Matrix::from_rows(&theta.iter().map(|&th| code(t, th)).collect::<Vec<_>>()).unwrap())
            .collect();
        let train: Vec<bool> = (0..n).map(|k| k % 2 == 0).collect();
        let m = cross_temporal_decoding(&states, &theta, &train).unwrap();
        assert!(m.get(1, 2) < 1e-6 && m.get(2, 1) < 1e-6 && m.get(3, 3) < 1e-6);
        assert!(m.get(1, 3) > 20.0, "a code that moved does not transfer: {}", m.get(1, 3));
        assert!((m.get(0, 0) - 45.0).abs() < 5.0, "chance at time 0: {}", m.get(0, 0));
    }
}
