//! Supervised training of recurrent networks on the task battery
//! ([`engram_envs::tasks::battery`]): BPTT with Adam, gradient-norm clipping, L2 penalties on
//! the weights and on the activity, for the vanilla RNN (tanh, ReLU), UGRNN, GRU and LSTM of
//! any width, with a linear readout ([`net::Net`]).
//!
//! A run directory holds `config.toml` (the resolved config), `metrics.jsonl` and
//! `metrics.csv` (one row per evaluation), `checkpoints/step_NNNNNNNN/` (`weights.safetensors`,
//! `optimizer.safetensors` with `adam.m.{key}` / `adam.v.{key}`, `meta.json`) with
//! `checkpoints/latest.json`, and `result.json` (whether the network reached the criterion).
//!
//! Determinism: the training batch of step `k` is trials `k·batch .. (k+1)·batch` of the
//! run's seed ([`TaskBatch::generate`]); held-out trials come from another seed; every product
//! is single-threaded ([`crate::nn::gemm`]). So a run is a pure function of its config, and a
//! resumed run is bit-identical to an uninterrupted one (the checkpoint holds the weights and
//! Adam's moments and step).
//!
//! The criterion: normalized MSE (masked MSE over the masked target variance,
//! [`engram_envs::tasks::battery::masked_nmse`]) ≤ `criterion` on `eval_batch` held-out
//! trials. A non-finite loss stops the run with an error naming the step; the last good
//! checkpoint is kept.

pub mod cells;
mod cli;
pub mod net;
mod store;

use crate::error::AgentError;
use crate::ppo::adam::{clip_grad_norm, Adam};
pub use cli::{run_cli, FitArgs};
use engram_envs::tasks::battery::{make_task, masked_nmse, Task, TaskBatch};
pub use net::{Arch, LossParts, Net, RecurrentInit, Workspace};
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use std::path::Path;
pub use store::{load_checkpoint, save_checkpoint, FitMeta, MetricsRow};

/// Seed offset of the held-out trials.
const EVAL_SEED_OFFSET: u64 = 0x5EED_E7A1;
/// Seed offset of the recurrent-noise stream (the ChaCha stream number is the step).
const NOISE_SEED_OFFSET: u64 = 0x5EED_0015;

/// The task to train on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskSection {
    /// A battery id: `FlipFlop-v0`, `ContextIntegration-v0`, `SineGen-v0`.
    pub id: String,
    /// The task's parameters (its config struct's fields; defaults when absent).
    #[serde(default = "empty_table")]
    pub config: serde_json::Value,
}

fn empty_table() -> serde_json::Value {
    serde_json::json!({})
}

/// The network.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetSection {
    /// Architecture.
    pub arch: Arch,
    /// Hidden units, ≥ 1.
    pub hidden: usize,
    /// Inputs, when stated: must equal the task's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n_in: Option<usize>,
    /// Outputs, when stated: must equal the task's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n_out: Option<usize>,
    /// Initial recurrent weights (default: identity for the ReLU RNN, Gaussian otherwise;
    /// see [`Net::init_with`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recurrent_init: Option<RecurrentInit>,
    /// Scale of the initial recurrent weights, > 0 (Gaussian: std `gain/√H`; identity:
    /// `gain · I`).
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub recurrent_gain: f32,
}

fn one() -> f32 {
    1.0
}

fn is_one(v: &f32) -> bool {
    *v == 1.0
}

/// The optimization.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainSection {
    /// Adam steps, ≥ 1.
    pub steps: u64,
    /// Trials per step, ≥ 1.
    pub batch: usize,
    /// Adam learning rate, > 0 (at step 0).
    pub lr: f32,
    /// Learning rate at the last step, > 0, decaying exponentially from `lr` (absent:
    /// constant `lr`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lr_final: Option<f32>,
    /// Adam ε, > 0.
    pub adam_eps: f32,
    /// Global gradient-norm bound, > 0 (PyTorch's `clip_grad_norm_`).
    pub clip: f32,
    /// L2 on the weight matrices, ≥ 0.
    pub l2_weight: f32,
    /// L2 on the hidden activity (mean of `h²`), ≥ 0.
    pub l2_activity: f32,
    /// Steps between evaluations (and metrics rows), ≥ 1.
    pub eval_every: u64,
    /// Held-out trials per evaluation, ≥ 1.
    pub eval_batch: usize,
    /// Normalized-MSE criterion, > 0.
    pub criterion: f64,
    /// Stop at the first evaluation that meets the criterion.
    pub stop_at_criterion: bool,
    /// Steps between checkpoints, ≥ 1.
    pub checkpoint_every: u64,
    /// Leading Lyapunov exponents logged at each checkpoint into `lyapunov.jsonl` (0: off;
    /// needs the hook that `engram fit` passes, [`CheckpointHook`]).
    pub lyapunov_exponents: usize,
    /// Standard deviation of the Gaussian noise added to every unit's candidate
    /// pre-activation at every step of every training trial ([`Net::forward`]), ≥ 0 (0: none,
    /// and the run is bit-identical to one without the field). Held-out evaluation is
    /// noise-free. The draw of step `k` is a function of the seed and `k`, so a resumed run
    /// stays bit-identical.
    #[serde(skip_serializing_if = "is_zero")]
    pub recurrent_noise_std: f32,
}

fn is_zero(v: &f32) -> bool {
    *v == 0.0
}

impl Default for TrainSection {
    fn default() -> Self {
        Self {
            steps: 2000,
            batch: 64,
            lr: 1e-3,
            lr_final: None,
            adam_eps: 1e-8,
            clip: 1.0,
            l2_weight: 0.0,
            l2_activity: 0.0,
            eval_every: 50,
            eval_batch: 256,
            criterion: 0.01,
            stop_at_criterion: true,
            checkpoint_every: 500,
            lyapunov_exponents: 0,
            recurrent_noise_std: 0.0,
        }
    }
}

/// A `fit` config (TOML).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FitConfig {
    /// Seed of the initial weights and of the trials.
    #[serde(default)]
    pub seed: u64,
    /// Task.
    pub task: TaskSection,
    /// Network.
    pub net: NetSection,
    /// Optimization.
    #[serde(default)]
    pub train: TrainSection,
}

fn bad(field: &str, value: impl std::fmt::Display, bound: &str) -> AgentError {
    AgentError::Config(format!("{field} = {value}: must be {bound}"))
}

impl FitConfig {
    /// Parses a TOML config.
    pub fn from_toml(text: &str) -> Result<Self, AgentError> {
        toml::from_str(text).map_err(|e| AgentError::Config(format!("fit config: {e}")))
    }

    /// Reads and parses a TOML config file.
    pub fn load(path: &Path) -> Result<Self, AgentError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| AgentError::Io { path: path.display().to_string(), source })?;
        Self::from_toml(&text)
    }

    /// Checks every field against its bound and builds the task (whose own parameters are
    /// checked by the task).
    pub fn validate(&self) -> Result<Box<dyn Task>, AgentError> {
        let task = make_task(&self.task.id, &self.task.config)?;
        let (n, t) = (&self.net, &self.train);
        if n.hidden == 0 {
            return Err(bad("net.hidden", n.hidden, "≥ 1"));
        }
        if let Some(i) = n.n_in.filter(|&i| i != task.n_in()) {
            return Err(bad("net.n_in", i, &format!("the task's input channels ({} for {})", task.n_in(), task.id())));
        }
        if let Some(o) = n.n_out.filter(|&o| o != task.n_out()) {
            return Err(bad(
                "net.n_out",
                o,
                &format!("the task's output channels ({} for {})", task.n_out(), task.id()),
            ));
        }
        for (field, v) in [
            ("train.steps", t.steps),
            ("train.eval_every", t.eval_every),
            ("train.checkpoint_every", t.checkpoint_every),
        ] {
            if v == 0 {
                return Err(bad(field, v, "≥ 1"));
            }
        }
        for (field, v) in [("train.batch", t.batch), ("train.eval_batch", t.eval_batch)] {
            if v == 0 {
                return Err(bad(field, v, "≥ 1"));
            }
        }
        for (field, v) in [
            ("train.lr", t.lr),
            ("train.lr_final", t.lr_final.unwrap_or(t.lr)),
            ("train.adam_eps", t.adam_eps),
            ("train.clip", t.clip),
            ("net.recurrent_gain", n.recurrent_gain),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(bad(field, v, "finite and > 0"));
            }
        }
        for (field, v) in [
            ("train.l2_weight", t.l2_weight),
            ("train.l2_activity", t.l2_activity),
            ("train.recurrent_noise_std", t.recurrent_noise_std),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(bad(field, v, "finite and ≥ 0"));
            }
        }
        if !(t.criterion.is_finite() && t.criterion > 0.0) {
            return Err(bad("train.criterion", t.criterion, "finite and > 0"));
        }
        Ok(task)
    }
}

/// Time-major copies of a batch (`[T·B, C]`, row `t·B + b`).
#[derive(Clone, Debug, Default)]
struct TimeMajor {
    x: Vec<f32>,
    y: Vec<f32>,
    m: Vec<f32>,
}

fn to_time_major(src: &[f32], batch: usize, time: usize, c: usize, dst: &mut Vec<f32>) {
    dst.resize(src.len(), 0.0);
    for b in 0..batch {
        for t in 0..time {
            let s = (b * time + t) * c;
            let d = (t * batch + b) * c;
            dst[d..d + c].copy_from_slice(&src[s..s + c]);
        }
    }
}

impl TimeMajor {
    fn load(&mut self, tb: &TaskBatch) {
        to_time_major(&tb.inputs, tb.batch, tb.time, tb.n_in, &mut self.x);
        to_time_major(&tb.targets, tb.batch, tb.time, tb.n_out, &mut self.y);
        to_time_major(&tb.mask, tb.batch, tb.time, tb.n_out, &mut self.m);
    }
}

/// Fills `out` with `n` draws of `N(0, std²)` for training step `step` of the run seeded
/// `seed` (ChaCha8, stream = step: independent of every other step and of the thread count).
pub fn recurrent_noise(seed: u64, step: u64, std: f32, n: usize, out: &mut Vec<f32>) {
    use rand::Rng;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed.wrapping_add(NOISE_SEED_OFFSET));
    rng.set_stream(step);
    out.clear();
    out.extend((0..n).map(|_| std * rng.sample::<f32, _>(rand_distr::StandardNormal)));
}

/// One training step's numbers.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct StepStats {
    /// The loss terms.
    pub loss: LossParts,
    /// Gradient norm before clipping.
    pub grad_norm: f32,
}

/// A network, its optimizer and its task: the state of a supervised run.
pub struct Fitter {
    /// The resolved config.
    pub cfg: FitConfig,
    /// The task.
    pub task: Box<dyn Task>,
    /// The network.
    pub net: Net,
    /// Adam.
    pub adam: Adam,
    /// Steps taken.
    pub step: u64,
    /// First step whose evaluation met the criterion.
    pub reached_at: Option<u64>,
    /// The last evaluation's normalized MSE.
    pub last_eval: Option<f64>,
    ws: Workspace,
    grads: Vec<Vec<f32>>,
    batch: TaskBatch,
    tm: TimeMajor,
    eval: TimeMajor,
    noise: Vec<f32>,
}

impl Fitter {
    /// A fresh network for `cfg`.
    pub fn new(cfg: FitConfig) -> Result<Self, AgentError> {
        let task = cfg.validate()?;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(cfg.seed);
        let (arch, hidden) = (cfg.net.arch, cfg.net.hidden);
        let init = cfg.net.recurrent_init.unwrap_or(RecurrentInit::default_for(arch));
        let net = Net::init_with(arch, task.n_in(), hidden, task.n_out(), (init, cfg.net.recurrent_gain), &mut rng);
        let sizes: Vec<usize> = net.params.iter().map(Vec::len).collect();
        let adam = Adam::new(&sizes, cfg.train.adam_eps);
        let mut eval = TimeMajor::default();
        let held_out =
            TaskBatch::generate(task.as_ref(), cfg.seed.wrapping_add(EVAL_SEED_OFFSET), 0, cfg.train.eval_batch);
        eval.load(&held_out);
        Ok(Self {
            cfg,
            task,
            net,
            adam,
            step: 0,
            reached_at: None,
            last_eval: None,
            ws: Workspace::default(),
            grads: Vec::new(),
            batch: TaskBatch::default(),
            tm: TimeMajor::default(),
            eval,
            noise: Vec::new(),
        })
    }

    /// One Adam step on the next training batch. A non-finite loss is an error (the
    /// parameters are left as they were).
    pub fn train_step(&mut self) -> Result<StepStats, AgentError> {
        let (b, t) = (self.cfg.train.batch, self.task.steps());
        self.batch.fill(self.task.as_ref(), self.cfg.seed, self.step * b as u64, b);
        self.tm.load(&self.batch);
        let std = self.cfg.train.recurrent_noise_std;
        let noise = if std > 0.0 {
            recurrent_noise(self.cfg.seed, self.step, std, t * b * self.net.hidden, &mut self.noise);
            Some(&self.noise[..])
        } else {
            None
        };
        self.net.forward(&self.tm.x, noise, t, b, &mut self.ws);
        let reg = (self.cfg.train.l2_weight, self.cfg.train.l2_activity);
        let loss =
            self.net.loss_and_grads(&self.tm.x, &self.tm.y, &self.tm.m, t, b, reg, &mut self.ws, Some(&mut self.grads));
        if !loss.total().is_finite() {
            return Err(AgentError::Data(format!(
                "fit diverged at step {}: the loss is {} (mse {}, activity {}, weight {})",
                self.step + 1,
                loss.total(),
                loss.mse,
                loss.activity,
                loss.weight
            )));
        }
        let grad_norm = clip_grad_norm(&mut self.grads, self.cfg.train.clip);
        if !grad_norm.is_finite() {
            return Err(AgentError::Data(format!(
                "fit diverged at step {}: the gradient norm is {grad_norm}",
                self.step + 1
            )));
        }
        let lr = self.lr_at(self.step);
        self.adam.update(&mut self.net.params, &self.grads, lr);
        self.step += 1;
        Ok(StepStats { loss, grad_norm })
    }

    /// The learning rate of step `step` (0-based): `lr · (lr_final / lr)^(step / (steps − 1))`,
    /// or `lr` without `lr_final`.
    pub fn lr_at(&self, step: u64) -> f32 {
        let t = &self.cfg.train;
        match t.lr_final {
            Some(end) if t.steps > 1 => {
                let frac = step.min(t.steps - 1) as f64 / (t.steps - 1) as f64;
                (t.lr as f64 * (end as f64 / t.lr as f64).powf(frac)) as f32
            }
            _ => t.lr,
        }
    }

    /// Normalized MSE on the held-out trials; records the first step that meets the
    /// criterion.
    pub fn evaluate(&mut self) -> f64 {
        let (b, t) = (self.cfg.train.eval_batch, self.task.steps());
        self.net.forward(&self.eval.x, None, t, b, &mut self.ws);
        let nmse = masked_nmse(&self.ws.y, &self.eval.y, &self.eval.m, self.net.n_out);
        self.last_eval = Some(nmse);
        if nmse <= self.cfg.train.criterion && self.reached_at.is_none() {
            self.reached_at = Some(self.step);
        }
        nmse
    }

    /// Whether the run is over: the step budget spent, or the criterion met with
    /// `stop_at_criterion`.
    pub fn done(&self) -> bool {
        self.step >= self.cfg.train.steps || (self.cfg.train.stop_at_criterion && self.reached_at.is_some())
    }
}

/// What a finished `fit` run reports (`result.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FitResult {
    /// Task id.
    pub task: String,
    /// Architecture.
    pub arch: Arch,
    /// Hidden units.
    pub hidden: usize,
    /// Steps taken.
    pub steps: u64,
    /// The criterion (normalized MSE on held-out trials).
    pub criterion: f64,
    /// Whether an evaluation met it.
    pub reached_criterion: bool,
    /// The first step whose evaluation met it.
    pub reached_at: Option<u64>,
    /// The last evaluation's normalized MSE.
    pub final_eval_nmse: f64,
    /// Training throughput of this invocation, sequence-steps (trial steps × trials) per second.
    pub seq_steps_per_s: f64,
}

/// Where [`fit_new`] reports progress.
pub type Progress<'a> = &'a mut dyn FnMut(&MetricsRow);

/// Called after each checkpoint (with the run directory) when `train.lyapunov_exponents`
/// is > 0: `engram fit` passes
/// [`crate::inspect::lyapunov_report::fit_lyapunov_hook`], which logs the spectrum.
pub type CheckpointHook = fn(&Fitter, &Path) -> Result<(), AgentError>;

/// Starts a run in `dir` (which must not hold a run yet) from `cfg`, trains it to the end and
/// returns its result.
pub fn fit_new(cfg: FitConfig, dir: &Path, progress: Progress) -> Result<FitResult, AgentError> {
    let fitter = Fitter::new(cfg)?;
    if dir.join("checkpoints").exists() {
        return Err(AgentError::Config(format!(
            "{} already holds a run; resume it (`engram fit --resume {0}`) or choose another directory",
            dir.display()
        )));
    }
    std::fs::create_dir_all(dir).map_err(|source| AgentError::Io { path: dir.display().to_string(), source })?;
    let text = toml::to_string(&fitter.cfg).map_err(|e| AgentError::Config(format!("serializing the config: {e}")))?;
    crate::io::write_text(&dir.join("config.toml"), &text)?;
    let log = store::Metrics::open(dir, None)?;
    run(fitter, dir, log, progress, None, None)
}

/// Resumes the run in `dir` from its latest checkpoint and trains it to the end; with
/// `max_steps`, stops after that many steps of this call (a checkpoint is written there).
pub fn fit_resume(dir: &Path, progress: Progress, max_steps: Option<u64>) -> Result<FitResult, AgentError> {
    fit_resume_hooked(dir, progress, max_steps, None)
}

/// [`fit_resume`] with a [`CheckpointHook`].
pub fn fit_resume_hooked(
    dir: &Path,
    progress: Progress,
    max_steps: Option<u64>,
    hook: Option<CheckpointHook>,
) -> Result<FitResult, AgentError> {
    let fitter = load_checkpoint(dir)?;
    let log = store::Metrics::open(dir, Some(fitter.step))?;
    run(fitter, dir, log, progress, max_steps, hook)
}

/// Starts a run in `dir` (see [`fit_new`]), optionally stopping after `max_steps` steps,
/// with a [`CheckpointHook`].
pub fn fit_new_hooked(
    cfg: FitConfig,
    dir: &Path,
    progress: Progress,
    max_steps: Option<u64>,
    hook: Option<CheckpointHook>,
) -> Result<FitResult, AgentError> {
    let fitter = Fitter::new(cfg)?;
    if dir.join("checkpoints").exists() {
        return Err(AgentError::Config(format!(
            "{} already holds a run; resume it (`engram fit --resume {0}`) or choose another directory",
            dir.display()
        )));
    }
    std::fs::create_dir_all(dir).map_err(|source| AgentError::Io { path: dir.display().to_string(), source })?;
    let text = toml::to_string(&fitter.cfg).map_err(|e| AgentError::Config(format!("serializing the config: {e}")))?;
    crate::io::write_text(&dir.join("config.toml"), &text)?;
    let log = store::Metrics::open(dir, None)?;
    run(fitter, dir, log, progress, max_steps, hook)
}

/// [`fit_new`] that stops after `max_steps` steps of this call, with a checkpoint.
pub fn fit_new_partial(
    cfg: FitConfig,
    dir: &Path,
    progress: Progress,
    max_steps: u64,
) -> Result<FitResult, AgentError> {
    let fitter = Fitter::new(cfg)?;
    std::fs::create_dir_all(dir).map_err(|source| AgentError::Io { path: dir.display().to_string(), source })?;
    let text = toml::to_string(&fitter.cfg).map_err(|e| AgentError::Config(format!("serializing the config: {e}")))?;
    crate::io::write_text(&dir.join("config.toml"), &text)?;
    let log = store::Metrics::open(dir, None)?;
    run(fitter, dir, log, progress, Some(max_steps), None)
}

fn run(
    mut f: Fitter,
    dir: &Path,
    mut log: store::Metrics,
    progress: Progress,
    max_steps: Option<u64>,
    hook: Option<CheckpointHook>,
) -> Result<FitResult, AgentError> {
    let k = f.cfg.train.lyapunov_exponents;
    if k > 0 && hook.is_none() {
        return Err(AgentError::Config(format!(
            "train.lyapunov_exponents = {k}: logging the spectrum needs the checkpoint hook (`engram fit` passes it; \
             library callers use fit_new_hooked)"
        )));
    }
    let checkpoint = |f: &Fitter| -> Result<(), AgentError> {
        save_checkpoint(f, dir)?;
        match hook {
            Some(h) if k > 0 => h(f, dir),
            _ => Ok(()),
        }
    };
    let start_step = f.step;
    let t0 = std::time::Instant::now();
    let seq_per_step = (f.cfg.train.batch * f.task.steps()) as f64;
    let rate = |f: &Fitter| seq_per_step * (f.step - start_step) as f64 / t0.elapsed().as_secs_f64().max(1e-9);
    while !f.done() && max_steps.is_none_or(|m| f.step - start_step < m) {
        let stats = match f.train_step() {
            Ok(s) => s,
            Err(e) => {
                let kept = store::latest(dir).map(|p| p.display().to_string()).unwrap_or_else(|| "none".into());
                return Err(AgentError::Data(format!("{e}; the run stopped, last good checkpoint: {kept}")));
            }
        };
        let (every, ck) = (f.cfg.train.eval_every, f.cfg.train.checkpoint_every);
        if f.step.is_multiple_of(every) || f.step == f.cfg.train.steps {
            let nmse = f.evaluate();
            let row = MetricsRow {
                step: f.step,
                loss: stats.loss.total(),
                mse: stats.loss.mse,
                l2_activity: stats.loss.activity,
                l2_weight: stats.loss.weight,
                grad_norm: stats.grad_norm as f64,
                eval_nmse: nmse,
                seq_steps_per_s: rate(&f),
            };
            log.write(&row)?;
            progress(&row);
        }
        if f.step.is_multiple_of(ck) || f.done() {
            checkpoint(&f)?;
        }
    }
    if store::latest(dir).is_none_or(|_| store::latest_step(dir) != Some(f.step)) {
        checkpoint(&f)?;
    }
    let final_eval = match f.last_eval {
        Some(v) => v,
        None => f.evaluate(),
    };
    let result = FitResult {
        task: f.task.id().to_string(),
        arch: f.net.arch,
        hidden: f.net.hidden,
        steps: f.step,
        criterion: f.cfg.train.criterion,
        reached_criterion: f.reached_at.is_some(),
        reached_at: f.reached_at,
        final_eval_nmse: final_eval,
        seq_steps_per_s: rate(&f),
    };
    crate::io::write_json(&dir.join("result.json"), &result)?;
    Ok(result)
}

#[cfg(test)]
mod tests;
