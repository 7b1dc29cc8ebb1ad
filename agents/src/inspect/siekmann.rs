//! Siekmann's decoder (Siekmann et al., "Learning memory-based control for human-scale bipedal
//! locomotion", RSS 2020, section VI): does a walker's memory hold the dynamics parameters of
//! its episode? Writes `siekmann.json` into a run directory.
//!
//! Protocol: `episodes` episodes of PlanarBipedDR-v0 (the run's env config; for a run trained
//! without randomization too, since on its nominal env the parameters never vary), the trained
//! policy acting deterministically. In each episode one step `t` is drawn uniformly from
//! `steps` (seeded); an episode that ends before its `t` is dropped (the kept count `n` and
//! the fraction alive are reported, and a kept fraction under `min_alive_fraction` is flagged
//! as a biased sample). At `t` the probe takes
//! - `memory`: the actor's recurrent state entering step `t` (h, and c for an LSTM, concatenated);
//! - `untrained`: the same for a freshly initialized network of the same architecture (seeded,
//!   with the run's observation normalizer) fed the same observations;
//! - `window`: the last `window` observations and the actions between them (a memoryless
//!   policy has only this one).
//!
//! Targets: the episode's true physical parameters as `info` reports them (link masses kg,
//! torso CoM offsets m, joint damping N·m·s/rad, motor strengths N·m, foot friction, slope
//! rad). The episodes are split 80/20 by episode (seeded); a 256-256 ReLU MLP
//! ([`crate::probe::mlp_decoder`]) is fitted per feature set on the training episodes and
//! scored on the held-out ones: per parameter the mean absolute percent error and R². Percent
//! error is relative to the true value for parameters that are positive over the training
//! range, and to the half-width of the training range for signed ones (CoM offsets, slope),
//! whose true values can be 0. The predict-the-training-mean baseline's percent error is
//! reported beside them.

use crate::checkpoint::{self, LoadedPolicy};
use crate::error::AgentError;
use crate::inspect::sysid_report::{record_states, Recording, Sampling};
use crate::probe::mlp_decoder::{fit_predict, Activation, HiddenLayers, MlpDecoderConfig};
use crate::probe::sysid::split_by_group;
use crate::probe::Matrix;
use crate::rollout::EpisodeSpec;
use crate::stats::r_squared;
use engram_envs::registry::parse_config;
use engram_envs::tasks::biped::{self, keys, PlanarBipedConfig};
use engram_envs::Info;
use engram_sim::biped::{Support, PARAMS};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// File (in a run directory) holding the decoder's report.
pub const SIEKMANN_FILE: &str = "siekmann.json";
/// Schema of [`SIEKMANN_FILE`].
pub const SIEKMANN_SCHEMA: &str = "engram.siekmann/1";
/// Offset of the decoder's episode seeds from the run's seed: never a training, evaluation or
/// sysid-probe seed.
pub const SIEKMANN_SEED_OFFSET: u64 = 4_000_000;
/// Feature sets, in report order ([`FEATURE_ROW`] gives their place in the recorded rows).
pub const SIEKMANN_FEATURES: [&str; 3] = ["memory", "untrained", "window"];
/// Index of each of [`SIEKMANN_FEATURES`] in a recorded row ([`crate::inspect::sysid_report`]'s
/// feature order: policy, untrained, observation, window).
const FEATURE_ROW: [usize; 3] = [0, 1, 3];
/// Stream tags mixed into the seed: the sampled steps, the split, each decoder.
const STEP_STREAM: u64 = 0x57e9;
const SPLIT_STREAM: u64 = 0x5911;
const DECODER_STREAM: u64 = 0xdec0;

/// Settings of Siekmann's decoder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SiekmannConfig {
    /// Episodes rolled out (one sample each).
    pub episodes: usize,
    /// Inclusive range of the sampled control step `[first, last]` (Siekmann: 15–45).
    pub steps: [usize; 2],
    /// Fraction of the kept episodes held out for scoring.
    pub test_fraction: f64,
    /// Observations (with the actions between them) in the window baseline.
    pub window: usize,
    /// Smallest kept fraction of episodes for an unbiased sample (smaller ones are flagged).
    pub min_alive_fraction: f64,
    /// The decoder (Siekmann: 256-256).
    pub decoder: MlpDecoderConfig,
}

impl Default for SiekmannConfig {
    fn default() -> Self {
        Self {
            episodes: 128,
            steps: [15, 45],
            test_fraction: 0.2,
            window: 8,
            min_alive_fraction: 0.8,
            decoder: MlpDecoderConfig {
                hidden: HiddenLayers::Many(vec![256, 256]),
                activation: Activation::Relu,
                // The penalty was chosen among 0.1, 1, 3 and 10: on synthetic episodes (160, three
                // targets coded linearly, nonlinearly, not at all) 1 gave held-out R² 0.996 /
                // 0.958 on the coded ones; on a barely trained LSTM walker (nothing to decode)
                // 10 shrank every prediction to the mean and 0.1 overfitted (mean R² −0.59),
                // while 1 stayed near the mean baseline (mean R² −0.05).
                epochs: 300,
                learning_rate: 3e-3,
                weight_decay: 1.0,
                ..MlpDecoderConfig::default()
            },
        }
    }
}

impl SiekmannConfig {
    /// Whether this is the default (a study config that leaves it out keeps its plan hash).
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }

    /// Refuses settings that cannot give a result, naming the value and the bound; `episode_len`
    /// is the env's episode length in control steps.
    pub fn validate(&self, episode_len: Option<usize>) -> Result<(), AgentError> {
        let bad = |m: String| Err(AgentError::Config(format!("siekmann decoder: {m}")));
        if self.episodes < 2 {
            return bad(format!("episodes = {} (must be >= 2: a training and a test episode)", self.episodes));
        }
        let [first, last] = self.steps;
        if first > last {
            return bad(format!("steps = [{first}, {last}] (the first step must be <= the last)"));
        }
        if let Some(len) = episode_len.filter(|&len| last >= len) {
            return bad(format!(
                "steps = [{first}, {last}]: step {last} is beyond the episode length (must be < {len})"
            ));
        }
        if !(self.test_fraction > 0.0 && self.test_fraction < 1.0) {
            return bad(format!("test_fraction = {} (must be in (0, 1))", self.test_fraction));
        }
        if self.window == 0 {
            return bad("window = 0 (must be >= 1)".into());
        }
        if !(0.0..=1.0).contains(&self.min_alive_fraction) {
            return bad(format!("min_alive_fraction = {} (must be in [0, 1])", self.min_alive_fraction));
        }
        self.decoder.validate()
    }
}

/// The decoding from one feature set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiekmannFeature {
    /// One of [`SIEKMANN_FEATURES`].
    pub name: String,
    /// Feature dimension.
    pub dim: usize,
    /// Mean absolute percent error per target on the held-out episodes (null: not fitted).
    #[serde(with = "engram_envs::serde_nan::vec_f64_or_null")]
    pub percent_error: Vec<f64>,
    /// Held-out R² per target (can be < 0: worse than the held-out mean).
    #[serde(with = "engram_envs::serde_nan::vec_f64_or_null")]
    pub r2: Vec<f64>,
}

/// `siekmann.json`: Siekmann's decoder on one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiekmannReport {
    /// [`SIEKMANN_SCHEMA`].
    pub schema: String,
    /// Env the episodes ran in.
    pub env: String,
    /// The run's training env.
    pub train_env: String,
    /// The run's policy family.
    pub policy: String,
    /// The run's seed.
    pub run_seed: u64,
    /// Seed of the episodes, the sampled steps, the split and the decoders.
    pub seed: u64,
    /// Decoded parameters (`info` keys).
    pub targets: Vec<String>,
    /// What each target's percent error is relative to: `true value` or `training half-range`.
    pub percent_of: Vec<String>,
    /// Settings.
    pub config: SiekmannConfig,
    /// The sampled step of every episode.
    pub sampled_steps: Vec<usize>,
    /// Episodes kept (alive at their sampled step).
    pub n: usize,
    /// Episodes dropped (ended before their sampled step).
    pub dropped: usize,
    /// `n / episodes`.
    pub alive_fraction: f64,
    /// Fewer than `min_alive_fraction` of the episodes kept: the survivors may be a biased sample.
    pub biased: bool,
    /// Training and held-out episodes (0 when too few were kept to fit).
    pub n_train: usize,
    /// Held-out episodes.
    pub n_test: usize,
    /// Why nothing was fitted, if so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Per feature set ([`SIEKMANN_FEATURES`]; a memoryless policy has only `window`).
    pub features: Vec<SiekmannFeature>,
    /// Percent error per target of predicting the training episodes' mean.
    #[serde(with = "engram_envs::serde_nan::vec_f64_or_null")]
    pub mean_baseline_percent_error: Vec<f64>,
}

impl SiekmannReport {
    /// The result of feature set `name`.
    pub fn feature(&self, name: &str) -> Option<&SiekmannFeature> {
        self.features.iter().find(|f| f.name == name)
    }
}

/// Indices into [`PARAMS`] of the decoded parameters: the physical ones.
fn target_params() -> Vec<usize> {
    (0..PARAMS.len()).filter(|&i| keys::physical(i)).collect()
}

/// The scale a target's absolute error is divided by: `None` for the true value (a parameter
/// positive over its support), else the support's half-width.
fn percent_basis(support: Support) -> Option<f64> {
    match support {
        Support::LogUniform(lo, _) | Support::Uniform(lo, _) if lo > 0.0 => None,
        Support::LogUniform(lo, hi) | Support::Uniform(lo, hi) => Some(((hi - lo) / 2.0).max(f64::MIN_POSITIVE)),
        Support::Integers(lo, hi) => Some(((hi - lo) as f64 / 2.0).max(1.0)),
    }
}

/// Mean absolute percent error of `pred` against `truth`, relative to `basis` or, when it is
/// `None`, to each true value.
pub fn percent_error(truth: &[f64], pred: &[f64], basis: Option<f64>) -> f64 {
    let n = truth.len().min(pred.len());
    if n == 0 {
        return f64::NAN;
    }
    let sum: f64 = truth.iter().zip(pred).map(|(y, p)| 100.0 * (p - y).abs() / basis.unwrap_or(y.abs())).sum();
    sum / n as f64
}

/// Fits the decoder on rows `train` of `x` → `y` and scores it on rows `test`: percent error
/// (against `bases`) and R² per target.
pub fn decode_and_score(
    x: &Matrix,
    y: &Matrix,
    (train, test): (&[usize], &[usize]),
    bases: &[Option<f64>],
    cfg: &MlpDecoderConfig,
    seed: u64,
) -> Result<(Vec<f64>, Vec<f64>), AgentError> {
    let pred = fit_predict(x, y, train, test, cfg, &mut ChaCha8Rng::seed_from_u64(seed))?;
    let mut pe = vec![];
    let mut r2 = vec![];
    for (k, basis) in bases.iter().enumerate().take(y.cols()) {
        let truth: Vec<f64> = test.iter().map(|&i| y.get(i, k)).collect();
        let p = pred.col(k);
        pe.push(percent_error(&truth, &p, *basis));
        r2.push(r_squared(&truth, &p));
    }
    Ok((pe, r2))
}

/// Runs Siekmann's decoder on the run in `run_dir` (a PlanarBiped run).
pub fn decode_run(run_dir: &Path, cfg: &SiekmannConfig) -> Result<SiekmannReport, AgentError> {
    let policy = checkpoint::load_policy(run_dir)?;
    let train_env = policy.config.env.clone();
    if !train_env.starts_with("PlanarBiped") {
        return Err(AgentError::Probe(format!(
            "siekmann decoder: needs a run trained on a PlanarBiped env; this run trained on {train_env}"
        )));
    }
    let env = biped::DR_ID;
    cfg.validate(engram_envs::registry::spec(env)?.max_episode_steps)?;
    decode_policy(&policy, env, cfg)
}

/// Siekmann's decoder on a loaded policy, episodes on `env` (a PlanarBiped id whose
/// parameters vary per episode).
pub fn decode_policy(policy: &LoadedPolicy, env: &str, cfg: &SiekmannConfig) -> Result<SiekmannReport, AgentError> {
    let env_cfg = policy.config.env_config_json();
    let bc: PlanarBipedConfig = parse_config(env, &env_cfg)?;
    let params = target_params();
    let names: Vec<&'static str> = params.iter().map(|&i| PARAMS[i].0).collect();
    let bases: Vec<Option<f64>> = params.iter().map(|&i| percent_basis(bc.distribution.support(i))).collect();
    let seed = policy.config.seed + SIEKMANN_SEED_OFFSET;
    let n = cfg.episodes;
    let mut step_rng = ChaCha8Rng::seed_from_u64(seed ^ STEP_STREAM);
    let steps: Vec<usize> = (0..n).map(|_| step_rng.gen_range(cfg.steps[0]..=cfg.steps[1])).collect();
    let spec = EpisodeSpec::seeded(n, seed).with_max_steps(Some(cfg.steps[1] + 1));
    let sampling = Sampling { env, window: cfg.window, names: &names, n_slots: 1, seed };
    let slot_of = |i: usize, t: usize, _: &Info| (t == steps[i]).then_some(0);
    let Recording { rows, targets } = record_states(policy, &sampling, &spec, slot_of)?;
    let kept: Vec<usize> = (0..n).filter(|&i| rows[i][0].is_some()).collect();
    let alive_fraction = kept.len() as f64 / n as f64;
    let recurrent = policy.net.is_recurrent();
    let feature_names: Vec<&str> = SIEKMANN_FEATURES.iter().copied().filter(|f| recurrent || *f == "window").collect();
    let nan = vec![f64::NAN; names.len()];
    let mut report = SiekmannReport {
        schema: SIEKMANN_SCHEMA.into(),
        env: env.into(),
        train_env: policy.config.env.clone(),
        policy: policy.config.policy.kind.as_str().into(),
        run_seed: policy.config.seed,
        seed,
        targets: names.iter().map(|s| s.to_string()).collect(),
        percent_of: bases
            .iter()
            .map(|b| if b.is_some() { "training half-range" } else { "true value" }.to_string())
            .collect(),
        config: cfg.clone(),
        sampled_steps: steps.clone(),
        n: kept.len(),
        dropped: n - kept.len(),
        alive_fraction,
        biased: alive_fraction < cfg.min_alive_fraction,
        n_train: 0,
        n_test: 0,
        note: None,
        features: feature_names
            .iter()
            .map(|f| SiekmannFeature { name: f.to_string(), dim: 0, percent_error: nan.clone(), r2: nan.clone() })
            .collect(),
        mean_baseline_percent_error: nan,
    };
    if kept.len() < 2 {
        report.note =
            Some(format!("{} of {n} episodes reached their sampled step (need >= 2 to split and fit)", kept.len()));
        return Ok(report);
    }
    let groups: Vec<u64> = kept.iter().map(|&i| i as u64).collect();
    let (train, test) =
        split_by_group(&groups, cfg.test_fraction, &mut ChaCha8Rng::seed_from_u64(seed ^ SPLIT_STREAM))?;
    (report.n_train, report.n_test) = (train.len(), test.len());
    let y = Matrix::from_rows(&kept.iter().map(|&i| targets[i].clone()).collect::<Vec<_>>())?;
    report.mean_baseline_percent_error = (0..y.cols())
        .map(|k| {
            let m = train.iter().map(|&i| y.get(i, k)).sum::<f64>() / train.len() as f64;
            let truth: Vec<f64> = test.iter().map(|&i| y.get(i, k)).collect();
            percent_error(&truth, &vec![m; truth.len()], bases[k])
        })
        .collect();
    for fr in report.features.iter_mut() {
        let f = SIEKMANN_FEATURES.iter().position(|s| *s == fr.name).unwrap_or(2);
        let x_rows: Vec<Vec<f64>> =
            kept.iter().map(|&i| rows[i][0].as_ref().map(|r| r[FEATURE_ROW[f]].clone()).unwrap_or_default()).collect();
        let x = Matrix::from_rows(&x_rows)?;
        fr.dim = x.cols();
        let (pe, r2) =
            decode_and_score(&x, &y, (&train, &test), &bases, &cfg.decoder, seed ^ DECODER_STREAM ^ f as u64)?;
        (fr.percent_error, fr.r2) = (pe, r2);
    }
    Ok(report)
}

/// The run's [`SIEKMANN_FILE`] if present and readable, otherwise runs [`decode_run`] and
/// writes it (atomically).
pub fn decode_or_reuse(run_dir: &Path, cfg: &SiekmannConfig) -> Result<SiekmannReport, AgentError> {
    if let Some(r) = read_report(run_dir) {
        return Ok(r);
    }
    let report = decode_run(run_dir, cfg)?;
    crate::io::write_json(&run_dir.join(SIEKMANN_FILE), &report)?;
    Ok(report)
}

/// Reads a run's [`SIEKMANN_FILE`], if any.
pub fn read_report(run_dir: &Path) -> Option<SiekmannReport> {
    serde_json::from_str(&std::fs::read_to_string(run_dir.join(SIEKMANN_FILE)).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_distr::{Distribution, StandardNormal};

    /// One sample per episode: 3 parameters, 24 features; parameter 0 is coded linearly,
    /// parameter 1 nonlinearly, parameter 2 not at all.
    fn data(seed: u64) -> (Matrix, Matrix) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let n = 160;
        let mut x = Matrix::zeros(n, 24);
        let mut y = Matrix::zeros(n, 3);
        for i in 0..n {
            let p: [f64; 3] = [rng.gen_range(0.7..1.3), rng.gen_range(0.5..1.5), rng.gen_range(0.5..1.5)];
            for (k, v) in p.iter().enumerate() {
                y.set(i, k, *v);
            }
            for j in 0..24 {
                let noise: f64 = StandardNormal.sample(&mut rng);
                let code = match j % 3 {
                    0 => (j as f64 * 0.1 + 1.0) * (p[0] - 1.0),
                    1 => (3.0 * (p[1] - 1.0) + 0.2 * j as f64).tanh(),
                    _ => 0.0,
                };
                x.set(i, j, code + 0.02 * noise);
            }
        }
        (x, y)
    }

    fn small() -> MlpDecoderConfig {
        MlpDecoderConfig { hidden: HiddenLayers::Many(vec![32, 32]), ..SiekmannConfig::default().decoder }
    }

    #[test]
    fn decoder_recovers_coded_parameters_and_not_shuffled_ones() {
        let (x, y) = data(1);
        let groups: Vec<u64> = (0..x.rows() as u64).collect();
        let (train, test) = split_by_group(&groups, 0.2, &mut ChaCha8Rng::seed_from_u64(2)).unwrap();
        let bases = [None, None, None];
        let (pe, r2) = decode_and_score(&x, &y, (&train, &test), &bases, &small(), 3).unwrap();
        assert!(r2[0] > 0.9 && r2[1] > 0.8, "coded R² {r2:?}");
        assert!(r2[2] < 0.1, "uncoded R² {}", r2[2]);
        // Factor 0.7–1.3 coded linearly: within a few percent; uncoded: about the spread.
        assert!(pe[0] < 5.0 && pe[2] > 15.0, "percent errors {pe:?}");
        // Shuffling the parameters across episodes destroys the code.
        let mut order: Vec<usize> = (0..y.rows()).collect();
        rand::seq::SliceRandom::shuffle(&mut order[..], &mut ChaCha8Rng::seed_from_u64(4));
        let ys = Matrix::from_fn(y.rows(), y.cols(), |i, k| y.get(order[i], k));
        let (_, r2s) = decode_and_score(&x, &ys, (&train, &test), &bases, &small(), 3).unwrap();
        assert!(r2s.iter().all(|&r| r < 0.2), "shuffled R² {r2s:?}");
        // Deterministic: the same seed gives the same numbers.
        assert_eq!(decode_and_score(&x, &y, (&train, &test), &bases, &small(), 3).unwrap(), (pe, r2));
    }

    #[test]
    fn percent_error_is_relative_to_the_truth_or_the_range() {
        const TOL: f64 = 1e-9;
        assert!((percent_error(&[2.0, 4.0], &[2.2, 3.0], None) - 0.5 * (10.0 + 25.0)).abs() < TOL);
        assert!((percent_error(&[0.0, 0.01], &[0.01, 0.01], Some(0.05)) - 10.0).abs() < TOL);
        assert!(percent_error(&[], &[], None).is_nan());
        assert_eq!(percent_basis(Support::LogUniform(0.5, 1.5)), None);
        assert_eq!(percent_basis(Support::Uniform(-0.05, 0.05)), Some(0.05));
        assert_eq!(percent_basis(Support::Uniform(0.4, 1.2)), None);
    }

    #[test]
    fn bad_settings_are_refused_naming_the_value_and_the_bound() {
        let ok = SiekmannConfig::default();
        ok.validate(Some(1000)).unwrap();
        let err = |c: SiekmannConfig| c.validate(Some(1000)).unwrap_err().to_string();
        let e = err(SiekmannConfig { steps: [15, 1000], ..ok.clone() });
        assert!(e.contains("1000") && e.contains("must be < 1000"), "{e}");
        let e = err(SiekmannConfig { steps: [45, 15], ..ok.clone() });
        assert!(e.contains("[45, 15]"), "{e}");
        let e = err(SiekmannConfig { episodes: 0, ..ok.clone() });
        assert!(e.contains("episodes = 0") && e.contains(">= 2"), "{e}");
        let e = err(SiekmannConfig { test_fraction: 0.0, ..ok.clone() });
        assert!(e.contains("test_fraction = 0") && e.contains("(0, 1)"), "{e}");
        let e = err(SiekmannConfig { window: 0, ..ok.clone() });
        assert!(e.contains("window = 0"), "{e}");
        assert!(ok.is_default());
        // The sampled steps of the default are Siekmann's 15–45.
        assert_eq!(ok.steps, [15, 45]);
        assert_eq!(target_params().len(), keys::NORMALIZED_KEYS.len());
    }
}
