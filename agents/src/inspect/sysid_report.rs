//! The implicit system-identification probe applied to a trained run (design/probes.md):
//! does the policy's memory hold the dynamics parameters of the episode? The decoders are
//! in [`crate::probe::sysid`] and [`crate::probe::mlp_decoder`]; this file runs the episodes,
//! gathers the features and writes `sysid.json`.
//!
//! Held-out episodes with known parameters are run with the trained policy (deterministic
//! actions); at control steps `t ∈ times` (from the episode start on the biped, from the go
//! cue on CurlReach) the probe takes, per episode alive at `t`:
//! - `policy`: the actor's recurrent state entering step `t` (h, and c for an LSTM), or for a
//!   memoryless policy the activations of its tanh layers on the observation at `t`;
//! - `untrained`: the same for a freshly initialized network of the same architecture (and
//!   the run's observation normalizer) fed the same observations;
//! - `observation`: the observation at `t`;
//! - `window`: the last `window` observations and the actions taken between them.
//!
//! Targets: on PlanarBipedDR-v0 every randomized parameter (the normalized physical ones, log
//! scale for the factors, then the encoder biases and the latency, as `info` reports them); on
//! CurlReach the signed curl strength b, drawn per episode uniformly from `b_range_ns_m`.
//! Decoders: cross-validated ridge ([`crate::probe::sysid::ridge_cv`], with a shuffled-label
//! baseline on `policy`) and the small MLP decoder ([`crate::probe::mlp_decoder`]).

use super::{fs_err, io_err};
use crate::checkpoint::{self, LoadedPolicy};
use crate::error::AgentError;
use crate::policy::{ActMode, ActOutput, ActorCritic, HiddenState, Policy};
use crate::probe::mlp_decoder::{mlp_decoder_cv, MlpDecoderConfig};
use crate::probe::sysid::{ridge_cv, RidgeCvConfig};
use crate::probe::Matrix;
use crate::rollout::{run_policy, EpisodeSpec, StepView};
use engram_envs::tasks::biped::{self, keys};
use engram_envs::{Info, ResetOptions};
use engram_sim::biped::PARAMS;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// File (in a run directory) holding the probe's report.
pub const SYSID_FILE: &str = "sysid.json";
/// Offset of the probe's episode seeds from the run's seed: never a training or evaluation seed.
pub const PROBE_SEED_OFFSET: u64 = 3_000_000;
/// Info key of the reach task's go-cue step.
const GO_STEP: &str = "go_step";
/// Info key of the reach task's signed curl strength.
const FIELD_B: &str = "field_b";
/// Reset-option code of the curl field in the reach envs.
const FIELD_CURL: f64 = 1.0;

/// Settings of the probe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SysidProbeConfig {
    /// Held-out episodes.
    pub episodes: usize,
    /// Control steps at which states are taken.
    pub times: Vec<usize>,
    /// Length of the observation/action window baseline, steps.
    pub window: usize,
    /// Range of the curl strength b on CurlReach, N·s/m.
    pub b_range_ns_m: [f64; 2],
    /// Fewest episodes alive at a time for it to be decoded.
    pub min_episodes: usize,
    /// Fewest episodes alive at a time, as a fraction of `episodes`, for it to be decoded
    /// (survivors of a time most episodes do not reach are a biased sample). Default 0.8.
    pub min_alive_fraction: f64,
    /// Ridge settings.
    pub ridge: RidgeCvConfig,
    /// MLP decoder settings (`epochs = 0` skips it).
    pub mlp: MlpDecoderConfig,
}

impl SysidProbeConfig {
    /// Reads the settings from a TOML file (fields left out keep their defaults).
    pub fn from_toml_file(path: &Path) -> Result<Self, AgentError> {
        let text = std::fs::read_to_string(path).map_err(|e| fs_err(path, e))?;
        toml::from_str(&text).map_err(|e| AgentError::Config(format!("sysid probe config {}: {e}", path.display())))
    }
}

impl Default for SysidProbeConfig {
    fn default() -> Self {
        Self {
            episodes: 128,
            times: vec![5, 10, 25, 50, 100, 250],
            window: 8,
            b_range_ns_m: [-15.0, 15.0],
            min_episodes: 20,
            min_alive_fraction: 0.8,
            ridge: RidgeCvConfig::default(),
            mlp: MlpDecoderConfig::default(),
        }
    }
}

/// Names of the feature sets, in report order.
pub const FEATURES: [&str; 4] = ["policy", "untrained", "observation", "window"];

/// Decoding at one time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimeResult {
    /// Control step (from the start, or from the go cue on CurlReach).
    pub t: usize,
    /// Episodes alive at `t` (samples).
    pub n_episodes: usize,
    /// Ridge R² per target (NaN → null when too few episodes).
    #[serde(with = "engram_envs::serde_nan::vec_f64_or_null")]
    pub ridge_r2: Vec<f64>,
    /// Ridge R² per target with shuffled labels (only for `policy`).
    #[serde(with = "engram_envs::serde_nan::vec_f64_or_null")]
    pub shuffled_r2: Vec<f64>,
    /// MLP-decoder R² per target (empty when skipped).
    #[serde(with = "engram_envs::serde_nan::vec_f64_or_null")]
    pub mlp_r2: Vec<f64>,
}

/// Decoding from one feature set at every time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureResult {
    /// One of [`FEATURES`].
    pub name: String,
    /// Feature dimension.
    pub dim: usize,
    /// Per time.
    pub times: Vec<TimeResult>,
}

/// The probe's report on one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SysidReport {
    /// `engram.sysid/1`.
    pub schema: String,
    /// Env the episodes ran in.
    pub env: String,
    /// The run's policy family.
    pub policy: String,
    /// The run's training env.
    pub train_env: String,
    /// Decoded targets.
    pub targets: Vec<String>,
    /// Probe settings.
    pub config: SysidProbeConfig,
    /// Per feature set.
    pub features: Vec<FeatureResult>,
}

/// Feature sets in the order of the terminal summary: the policy's memory first, then the
/// baselines it must beat.
const SUMMARY_ORDER: [&str; 4] = ["policy", "observation", "window", "untrained"];

impl SysidReport {
    /// The result of feature set `name`.
    pub fn feature(&self, name: &str) -> Option<&FeatureResult> {
        self.features.iter().find(|f| f.name == name)
    }

    /// The best ridge R² over the probe times per target of feature set `feature`, as
    /// `target R², ...` text (empty for an unknown feature set).
    pub fn best_r2_text(&self, feature: &str) -> String {
        let Some(f) = self.feature(feature) else { return String::new() };
        let mut parts = vec![];
        for (k, name) in self.targets.iter().enumerate() {
            let best = f.times.iter().map(|t| t.ridge_r2.get(k).copied().unwrap_or(f64::NAN)).fold(f64::NAN, f64::max);
            parts.push(format!("{name} {best:.2}"));
        }
        parts.join(", ")
    }

    /// The terminal summary of the report on the run in `dir`: a header line, then the best
    /// ridge R² over time of every feature set, one line each (newline-terminated).
    pub fn summary(&self, dir: &Path) -> String {
        let mut text = format!(
            "{} ({} trained on {}, episodes on {}): best ridge R² over t\n",
            dir.display(),
            self.policy,
            self.train_env,
            self.env
        );
        for f in SUMMARY_ORDER {
            text.push_str(&format!("  {f:<12} {}\n", self.best_r2_text(f)));
        }
        text
    }
}

/// The probe env for a run trained on `train_env`, or an error naming the accepted ones.
pub fn probe_env(train_env: &str, asked: Option<&str>) -> Result<String, AgentError> {
    let is_reach = |e: &str| e.starts_with("CurlReach");
    let is_biped = |e: &str| e.starts_with("PlanarBiped");
    let default = if is_biped(train_env) {
        biped::DR_ID.to_string()
    } else if is_reach(train_env) {
        train_env.to_string()
    } else {
        return Err(AgentError::Probe(format!(
            "the sysid probe needs a run trained on a PlanarBiped or CurlReach env; this run trained on {train_env}"
        )));
    };
    match asked {
        None => Ok(default),
        Some(e) if is_biped(train_env) && e == biped::DR_ID => Ok(e.into()),
        Some(e) if is_reach(train_env) && is_reach(e) => Ok(e.into()),
        Some(e) => Err(AgentError::Probe(format!(
            "sysid env {e} does not fit a run trained on {train_env}: use {default} (episodes with known, varying dynamics)"
        ))),
    }
}

/// Decoded targets on `env` and their info keys.
fn target_keys(env: &str) -> Vec<&'static str> {
    if env.starts_with("CurlReach") {
        return vec![FIELD_B];
    }
    let mut k: Vec<&'static str> = keys::NORMALIZED_KEYS.to_vec();
    k.extend((0..PARAMS.len()).filter(|&i| keys::reported(i) && !keys::physical(i)).map(|i| PARAMS[i].0));
    k
}

/// Activations of the tanh layers of a memoryless actor on one normalized observation.
fn mlp_activations(net: &ActorCritic, x: &[f32]) -> Vec<f64> {
    let items = net.params().items();
    let mut h: Vec<f32> = x.to_vec();
    let mut out = Vec::new();
    for k in 0.. {
        let find = |suffix: &str| items.iter().find(|p| p.name == format!("actor.mlp{k}.{suffix}"));
        let (Some(w), Some(b)) = (find("weight"), find("bias")) else { break };
        let [rows, cols] = w.shape();
        let (wv, bv) = (w.values(), b.values());
        let y: Vec<f32> =
            (0..cols).map(|j| (bv[j] + (0..rows).map(|i| h[i] * wv[i * cols + j]).sum::<f32>()).tanh()).collect();
        out.extend(y.iter().map(|&v| v as f64));
        h = y;
    }
    out
}

/// What a network remembers at a step: its actor state (recurrent) or its activations.
fn features_of(p: &LoadedPolicy, state: &[f32], obs: &[f32]) -> Vec<f64> {
    if p.net.is_recurrent() {
        let w: usize = p.net.state_width();
        let slots = p.net.initial_state(1).slots;
        let actor: Vec<f64> = slots
            .iter()
            .filter(|s| s.name.starts_with("actor."))
            .flat_map(|s| state[s.offset..s.offset + s.len].iter().map(|&v| v as f64))
            .collect();
        debug_assert!(state.len() == w);
        actor
    } else {
        let mut x = obs.to_vec();
        if let Some(rms) = &p.obs_rms {
            rms.normalize_rows_clipped(&mut x, p.config.ppo.obs_clip);
        }
        mlp_activations(&p.net, &x)
    }
}

/// One sample row of every feature set for one episode and time.
pub(crate) type Row = [Vec<f64>; 4];

/// Runs the probe on the run in `run_dir`; `env` defaults to the fitting probe env.
pub fn probe_run(run_dir: &Path, env: Option<&str>, cfg: &SysidProbeConfig) -> Result<SysidReport, AgentError> {
    let policy = checkpoint::load_policy(run_dir)?;
    let train_env = policy.config.env.clone();
    let env = probe_env(&train_env, env)?;
    let reach = env.starts_with("CurlReach");
    if cfg.times.is_empty() || cfg.episodes < cfg.ridge.n_folds.max(cfg.min_episodes) {
        return Err(AgentError::Config(format!(
            "sysid probe: {} episodes and {} times (need times and at least max(n_folds, min_episodes) = {} episodes)",
            cfg.episodes,
            cfg.times.len(),
            cfg.ridge.n_folds.max(cfg.min_episodes)
        )));
    }
    if !(cfg.min_alive_fraction.is_finite() && (0.0..=1.0).contains(&cfg.min_alive_fraction)) {
        return Err(AgentError::Config(format!(
            "sysid probe: min_alive_fraction = {} (must be in [0, 1])",
            cfg.min_alive_fraction
        )));
    }
    let limit = engram_envs::registry::spec(&env)?.max_episode_steps;
    if let (Some(limit), Some(&t)) = (limit, cfg.times.iter().find(|&&t| limit.is_some_and(|l| t >= l))) {
        return Err(AgentError::Config(format!(
            "sysid probe: time {t} is beyond the episode length of {env} (times must be < {limit})"
        )));
    }
    let min_alive =
        cfg.min_episodes.max(cfg.ridge.n_folds).max((cfg.min_alive_fraction * cfg.episodes as f64).ceil() as usize);
    let seed = policy.config.seed + PROBE_SEED_OFFSET;
    let n = cfg.episodes;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let b: Vec<f64> = (0..n).map(|_| rng.gen_range(cfg.b_range_ns_m[0]..=cfg.b_range_ns_m[1])).collect();
    let options = |i: usize| {
        if reach {
            ResetOptions::new().with("field", FIELD_CURL).with("field_b", b[i])
        } else {
            ResetOptions::new()
        }
    };
    let t_max = *cfg.times.iter().max().unwrap_or(&0);
    let names = target_keys(&env);
    let spec = EpisodeSpec::seeded(n, seed).with_options(options).with_max_steps((!reach).then_some(t_max + 1));
    let slot_of = |_: usize, t: usize, info: &Info| {
        let offset = if reach { info.get(GO_STEP).unwrap_or(0.0).max(0.0) as usize } else { 0 };
        t.checked_sub(offset).and_then(|rel| cfg.times.iter().position(|&x| x == rel))
    };
    let sampling = Sampling { env: &env, window: cfg.window, names: &names, n_slots: cfg.times.len(), seed };
    let Recording { rows, targets } = record_states(&policy, &sampling, &spec, slot_of)?;
    let mut features: Vec<FeatureResult> =
        FEATURES.iter().map(|f| FeatureResult { name: f.to_string(), dim: 0, times: vec![] }).collect();
    let mut dec_rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
    for (k, &t) in cfg.times.iter().enumerate() {
        let alive: Vec<usize> = (0..n).filter(|&i| rows[i][k].is_some()).collect();
        let y_rows: Vec<Vec<f64>> = alive.iter().map(|&i| targets[i].clone()).collect();
        let groups: Vec<u64> = alive.iter().map(|&i| i as u64).collect();
        for (f, fr) in features.iter_mut().enumerate() {
            let nan = vec![f64::NAN; names.len()];
            let mut tr =
                TimeResult { t, n_episodes: alive.len(), ridge_r2: nan.clone(), shuffled_r2: vec![], mlp_r2: vec![] };
            let x = Matrix::from_rows(
                &alive
                    .iter()
                    .map(|&i| rows[i][k].as_ref().map(|r| r[f].clone()).unwrap_or_default())
                    .collect::<Vec<_>>(),
            );
            if let Ok(x) = &x {
                fr.dim = fr.dim.max(x.cols());
            }
            if alive.len() >= min_alive {
                let (x, y) = (x?, Matrix::from_rows(&y_rows)?);
                let mut rc = cfg.ridge.clone();
                if f != 0 {
                    rc.n_shuffles = 0;
                }
                let r = ridge_cv(&x, &y, &groups, &rc, &mut dec_rng)?;
                tr.ridge_r2 = r.r2_per_target;
                tr.shuffled_r2 = r.shuffled_r2_per_target;
                if cfg.mlp.epochs > 0 && (f == 0 || f == 3) {
                    tr.mlp_r2 = mlp_decoder_cv(&x, &y, &groups, &cfg.mlp, &mut dec_rng)?;
                }
            } else if f == 0 {
                tr.shuffled_r2 = nan;
            }
            fr.times.push(tr);
        }
    }
    Ok(SysidReport {
        schema: "engram.sysid/1".into(),
        env,
        policy: format!("{:?}", policy.config.policy.kind).to_lowercase(),
        train_env,
        targets: names.iter().map(|s| s.to_string()).collect(),
        config: cfg.clone(),
        features,
    })
}

/// A freshly initialized network of `policy`'s architecture (seeded with `seed`), with the
/// run's observation normalizer: the untrained-memory baseline.
pub(crate) fn untrained_twin(policy: &LoadedPolicy, seed: u64) -> LoadedPolicy {
    let mut twin = LoadedPolicy {
        net: ActorCritic::new(&policy.config.policy, policy.obs_dim(), policy.net.dist(), seed),
        config: policy.config.clone(),
        obs_rms: policy.obs_rms.clone(),
        dir: policy.dir.clone(),
    };
    twin.config.seed = seed;
    twin
}

/// What [`record_states`] gathered.
pub(crate) struct Recording {
    /// Per episode and slot: the feature rows ([`FEATURES`] order), `None` when the episode
    /// ended before the slot's step.
    pub rows: Vec<Vec<Option<Row>>>,
    /// Per episode: the values of the target keys in `info` (NaN before the first step).
    pub targets: Vec<Vec<f64>>,
}

/// What [`record_states`] records and where.
pub(crate) struct Sampling<'a> {
    /// Env id the episodes run in (with the run's env config).
    pub env: &'a str,
    /// Observations (with the actions between them) in the window feature.
    pub window: usize,
    /// Info keys of the targets; every one must be reported.
    pub names: &'a [&'static str],
    /// Rows recorded per episode at most.
    pub n_slots: usize,
    /// Seed of the untrained twin's initialization ([`untrained_twin`]) and of its noise.
    pub seed: u64,
}

/// Runs the episodes of `spec` with `policy` acting deterministically, feeding the same
/// observations to its untrained twin; at every step for which `slot_of(episode, t, info)`
/// names a slot records one [`Row`] there: both networks' memory entering step `t`, the
/// observation at `t`, and the window of the last observations with the actions between them.
pub(crate) fn record_states(
    policy: &LoadedPolicy,
    s: &Sampling<'_>,
    spec: &EpisodeSpec,
    slot_of: impl Fn(usize, usize, &Info) -> Option<usize>,
) -> Result<Recording, AgentError> {
    let (env, window, names, n_slots) = (s.env, s.window, s.names, s.n_slots);
    let untrained = untrained_twin(policy, s.seed);
    let seed = s.seed;
    let n = spec.n;
    let (od, al) = (policy.obs_dim(), policy.action_len());
    // Per episode: the untrained net's state, the history of (obs, action), targets.
    let mut u_states: Vec<HiddenState> = (0..n).map(|_| untrained.initial_state(1)).collect();
    let mut history: Vec<Vec<(Vec<f32>, Vec<f32>)>> = vec![Vec::new(); n];
    let mut targets: Vec<Option<Vec<f64>>> = vec![None; n];
    let mut rows: Vec<Vec<Option<Row>>> = vec![vec![None; n_slots]; n];
    let mut out = ActOutput::default();
    let mut u_rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut missing_key = None;
    run_policy(policy, env, &policy.config.env_config_json(), spec, ActMode::Deterministic, &mut |v: &StepView<
        '_,
        dyn engram_envs::Env,
    >| {
        let i = v.episode;
        if targets[i].is_none() {
            let t: Vec<Option<f64>> = names.iter().map(|k| v.info.get(k)).collect();
            if t.iter().any(Option::is_none) {
                missing_key = Some(names[t.iter().position(Option::is_none).unwrap_or(0)]);
            }
            targets[i] = Some(t.into_iter().map(|x| x.unwrap_or(f64::NAN)).collect());
        }
        let u_state = u_states[i].data.clone();
        if let Some(k) = slot_of(i, v.t, v.info) {
            let mut win = Vec::with_capacity(window * (od + al));
            for w in 0..window {
                // Observation t−w and the action taken just before it (zeros before the start).
                let (o, a) = match v.t.checked_sub(w) {
                    Some(s) if s == v.t => (v.obs.to_vec(), history[i].last().map(|h| h.1.clone())),
                    Some(s) => (history[i][s].0.clone(), s.checked_sub(1).map(|p| history[i][p].1.clone())),
                    None => (vec![0.0; od], None),
                };
                win.extend(o.iter().map(|&x| x as f64));
                win.extend(a.unwrap_or_else(|| vec![0.0; al]).iter().map(|&x| x as f64));
            }
            rows[i][k] = Some([
                features_of(policy, v.state, v.obs),
                features_of(&untrained, &u_state, v.obs),
                v.obs.iter().map(|&x| x as f64).collect(),
                win,
            ]);
        }
        history[i].push((v.obs.to_vec(), v.action.to_vec()));
        untrained.act(v.obs, &mut u_states[i], ActMode::Deterministic, &mut u_rng, &mut out);
    })?;
    if let Some(k) = missing_key {
        return Err(AgentError::Probe(format!("sysid: {env} does not report `{k}` in info")));
    }
    let nan = vec![f64::NAN; names.len()];
    Ok(Recording { rows, targets: targets.into_iter().map(|t| t.unwrap_or_else(|| nan.clone())).collect() })
}

/// Runs the probe and writes [`SYSID_FILE`] into the run directory; returns the report.
pub fn probe_and_write(run_dir: &Path, env: Option<&str>, cfg: &SysidProbeConfig) -> Result<SysidReport, AgentError> {
    let report = probe_run(run_dir, env, cfg)?;
    let path = run_dir.join(SYSID_FILE);
    let json = serde_json::to_string_pretty(&report).map_err(|e| io_err(&path, e))?;
    checkpoint::write_atomic(&path, json.as_bytes())?;
    Ok(report)
}

/// The run's [`SYSID_FILE`] if present, unless `force` or an explicit `env` asks for a new
/// probe; otherwise runs [`probe_and_write`].
pub fn probe_or_reuse(
    run_dir: &Path,
    env: Option<&str>,
    cfg: &SysidProbeConfig,
    force: bool,
) -> Result<SysidReport, AgentError> {
    match read_report(run_dir) {
        Some(r) if !force && env.is_none() => Ok(r),
        _ => probe_and_write(run_dir, env, cfg),
    }
}

/// Reads a run's [`SYSID_FILE`], if any.
pub fn read_report(run_dir: &Path) -> Option<SysidReport> {
    serde_json::from_str(&std::fs::read_to_string(run_dir.join(SYSID_FILE)).ok()?).ok()
}
