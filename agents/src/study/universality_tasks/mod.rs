//! The universality study at population scale on the neuroscience task battery (issue 18,
//! item 4), after Maheswaranathan, Williams, Golub, Ganguli & Sussillo (2019), "Universality
//! and individuality in neural dynamics across large populations of recurrent networks",
//! NeurIPS: {vanilla tanh, vanilla ReLU, UGRNN, GRU, LSTM} × widths × seeds trained with
//! `fit` (supervised BPTT) on the 3-bit flip-flop, context-dependent integration and sine
//! generation; each trained network's hidden states on a fixed set of held-out trials (the
//! same inputs for every network of a task) and its fixed-point scaffold under each constant
//! input condition ([`crate::probe::topology`]) are saved; the report (`report.rs`) compares
//! geometry (SVCCA and CCA distances, MDS, clustering by architecture against the
//! label-permutation null) with topology (signatures: the modal signature's share per
//! architecture, clustering of the signature distance) and the linearization spectra.
//!
//! Pre-registered (the config states them and the report applies them): only networks that
//! reached the fit criterion (normalized MSE ≤ `criterion` on held-out trials) enter; the
//! paper's finding reproduces on a task when geometry clusters by architecture (SVCCA
//! silhouette, Holm-corrected permutation p < 0.05) and the topology is shared (the task's
//! modal signature held by ≥ `universal_share` of the included networks of every
//! architecture).
//!
//! One network is one job ([`JobKind::UniversalityTasks`]); a job resumes its `fit` run from
//! the last checkpoint and recomputes the probes.

mod report;

pub use report::write_report;

use super::{Plan, Progress, Study};
use crate::error::AgentError;
use crate::fit::{fit_new, fit_resume, load_checkpoint, Arch, FitConfig};
use crate::probe::fit_map::NetMap;
use crate::probe::topology::{condition_signature, scaffold, Scaffold, Signature, TopologyConfig};
use crate::probe::Matrix;
use crate::study::{Job, JobKind};
use engram_envs::tasks::battery::{make_task, sine::SineGenConfig, Task, TaskBatch};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Seed of the probe trials (the same inputs for every network of a task).
pub const PROBE_SEED: u64 = 0x0B5E_57A7;

/// One task of the study.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskStudy {
    /// Short name (job ids, report sections).
    pub name: String,
    /// Battery id.
    pub id: String,
    /// The task's parameters (defaults when empty).
    #[serde(default)]
    pub config: toml::Table,
    /// `fit`'s `[train]` section for this task (its defaults where absent).
    #[serde(default)]
    pub train: toml::Table,
    /// Extra `fit` `[net]` settings per architecture (config name → table), e.g.
    /// `[tasks.net.rnn_relu] recurrent_gain = 0.5`.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub net: std::collections::BTreeMap<String, toml::Table>,
}

/// The study's config (`scripts/configs/universality_tasks_*.toml`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UniversalityTasksConfig {
    /// Seeds per (task, architecture, width).
    pub seeds: u64,
    /// First seed.
    pub seed_base: u64,
    /// Architectures.
    pub architectures: Vec<Arch>,
    /// Hidden widths.
    pub widths: Vec<usize>,
    /// Held-out probe trials whose states feed the geometry (the same for every network).
    pub probe_trials: usize,
    /// Initial states of the fixed-point search per input condition.
    pub fp_inits: usize,
    /// Input conditions of the sine task (frequencies spread over its range).
    pub sine_conditions: usize,
    /// Topology settings.
    pub topology: TopologyConfig,
    /// SVCCA: leading singular directions kept per network.
    pub svcca_dims: usize,
    /// Label permutations of the clustering nulls (exact enumeration when fewer partitions).
    pub n_perm: usize,
    /// Share of an architecture's networks that must hold the modal signature for the
    /// topology to count as shared.
    pub universal_share: f64,
    /// The tasks.
    pub tasks: Vec<TaskStudy>,
}

impl Default for UniversalityTasksConfig {
    fn default() -> Self {
        Self {
            seeds: 2,
            seed_base: 0,
            architectures: Arch::ALL.to_vec(),
            widths: vec![16],
            probe_trials: 16,
            fp_inits: 48,
            sine_conditions: 3,
            topology: TopologyConfig::default(),
            svcca_dims: 8,
            n_perm: 999,
            universal_share: 0.5,
            tasks: vec![TaskStudy {
                name: "flipflop".into(),
                id: "FlipFlop-v0".into(),
                config: toml::Table::new(),
                train: toml::Table::new(),
                net: Default::default(),
            }],
        }
    }
}

/// One job: a network to fit and probe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UniversalityTasksJob {
    /// Task name (as in the config).
    pub task: String,
    /// The resolved `fit` config (TOML).
    pub fit: String,
    /// Probe trials.
    pub probe_trials: usize,
    /// Fixed-point initial states per condition.
    pub fp_inits: usize,
    /// Sine conditions.
    pub sine_conditions: usize,
    /// Topology settings.
    pub topology: TopologyConfig,
    /// The report's SVCCA dimensions.
    pub svcca_dims: usize,
    /// The report's permutations.
    pub n_perm: usize,
    /// The report's modal-share threshold.
    pub universal_share: f64,
}

fn cfg_err(m: String) -> AgentError {
    AgentError::Config(m)
}

impl UniversalityTasksConfig {
    /// Parses and validates a TOML document.
    pub fn from_toml(text: &str) -> Result<Self, AgentError> {
        let cfg: Self = toml::from_str(text).map_err(|e| cfg_err(format!("universality-tasks config: {e}")))?;
        cfg.jobs()?;
        Ok(cfg)
    }

    /// The plan's jobs: tasks × architectures × widths × seeds (each `fit` config validated).
    pub fn jobs(&self) -> Result<Vec<Job>, AgentError> {
        if self.seeds == 0 || self.probe_trials == 0 || self.fp_inits == 0 || self.sine_conditions == 0 {
            return Err(cfg_err(format!(
                "seeds = {}, probe_trials = {}, fp_inits = {}, sine_conditions = {}: each must be ≥ 1",
                self.seeds, self.probe_trials, self.fp_inits, self.sine_conditions
            )));
        }
        if self.tasks.is_empty() || self.widths.is_empty() || self.architectures.is_empty() {
            return Err(cfg_err("tasks, widths and architectures must each name at least one entry".into()));
        }
        if !(self.universal_share > 0.0 && self.universal_share <= 1.0) {
            return Err(cfg_err(format!("universal_share = {}: must be in (0, 1]", self.universal_share)));
        }
        let mut jobs = vec![];
        for t in &self.tasks {
            if let Some(k) = t.net.keys().find(|k| !Arch::ALL.iter().any(|&a| arch_name(a) == k.as_str())) {
                return Err(cfg_err(format!(
                    "tasks.{}.net.{k}: not an architecture (rnn_tanh, rnn_relu, ugrnn, gru, lstm)",
                    t.name
                )));
            }
            for &arch in &self.architectures {
                for &width in &self.widths {
                    for seed in self.seed_base..self.seed_base + self.seeds {
                        let mut doc = toml::Table::new();
                        doc.insert("seed".into(), (seed as i64).into());
                        let mut task = toml::Table::new();
                        task.insert("id".into(), t.id.clone().into());
                        task.insert("config".into(), toml::Value::Table(t.config.clone()));
                        doc.insert("task".into(), toml::Value::Table(task));
                        let mut net = t.net.get(arch_name(arch)).cloned().unwrap_or_default();
                        net.insert("arch".into(), arch_name(arch).into());
                        net.insert("hidden".into(), (width as i64).into());
                        doc.insert("net".into(), toml::Value::Table(net));
                        doc.insert("train".into(), toml::Value::Table(t.train.clone()));
                        let text = toml::to_string(&doc).map_err(|e| cfg_err(e.to_string()))?;
                        let fit = FitConfig::from_toml(&text).map_err(|e| cfg_err(format!("tasks.{}: {e}", t.name)))?;
                        fit.validate().map_err(|e| cfg_err(format!("tasks.{}: {e}", t.name)))?;
                        let job = UniversalityTasksJob {
                            task: t.name.clone(),
                            fit: toml::to_string(&fit).map_err(|e| cfg_err(e.to_string()))?,
                            probe_trials: self.probe_trials,
                            fp_inits: self.fp_inits,
                            sine_conditions: self.sine_conditions,
                            topology: self.topology.clone(),
                            svcca_dims: self.svcca_dims,
                            n_perm: self.n_perm,
                            universal_share: self.universal_share,
                        };
                        let config = toml::to_string(&job).map_err(|e| cfg_err(e.to_string()))?;
                        let id = format!("{}-{}-h{width}-seed{seed}", t.name, arch_name(arch));
                        jobs.push(Job::new(
                            id,
                            JobKind::UniversalityTasks,
                            seed,
                            config,
                            vec![
                                format!("task={}", t.name),
                                format!("arch={}", arch_name(arch)),
                                format!("width={width}"),
                            ],
                        ));
                    }
                }
            }
        }
        Ok(jobs)
    }
}

/// The architecture's config name (`rnn_tanh`, …).
pub fn arch_name(a: Arch) -> &'static str {
    match a {
        Arch::RnnTanh => "rnn_tanh",
        Arch::RnnRelu => "rnn_relu",
        Arch::Ugrnn => "ugrnn",
        Arch::Gru => "gru",
        Arch::Lstm => "lstm",
    }
}

/// The constant input conditions of a task: `(label, input)`. Flip-flop: no pulse. CDI: each
/// context with no evidence. Sine: `n_sine` static inputs spread over the frequencies. Any
/// other task: zero input.
pub fn input_conditions(task: &dyn Task, config: &serde_json::Value, n_sine: usize) -> Vec<(String, Vec<f64>)> {
    let zero = vec![0.0; task.n_in()];
    match task.id() {
        "ContextIntegration-v0" if task.n_in() == 4 => vec![
            ("motion context".into(), vec![0.0, 0.0, 1.0, 0.0]),
            ("colour context".into(), vec![0.0, 0.0, 0.0, 1.0]),
        ],
        "SineGen-v0" => {
            let c: SineGenConfig = serde_json::from_value(config.clone()).unwrap_or_default();
            let n = c.n_freqs.max(1);
            (0..n_sine)
                .map(|k| {
                    let j = if n_sine == 1 { n / 2 } else { k * (n - 1) / (n_sine - 1) };
                    let omega = if n == 1 {
                        c.omega_min
                    } else {
                        c.omega_min + (c.omega_max - c.omega_min) * j as f64 / (n - 1) as f64
                    };
                    (format!("ω = {omega:.3} rad/step"), vec![j as f64 / n as f64 + c.input_offset])
                })
                .collect()
        }
        _ => vec![("no input".into(), zero)],
    }
}

/// What a job leaves for the report (`probe/summary.json`, also the job's result).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetworkSummary {
    /// Task name.
    pub task: String,
    /// Architecture (config name).
    pub arch: String,
    /// Width.
    pub width: usize,
    /// Seed.
    pub seed: u64,
    /// Whether the fit reached its criterion.
    pub reached_criterion: bool,
    /// Final held-out normalized MSE.
    pub final_eval_nmse: f64,
    /// Adam steps taken.
    pub steps: u64,
    /// Condition labels.
    pub conditions: Vec<String>,
    /// The topological signature.
    pub signature: Signature,
    /// Its text key.
    pub signature_key: String,
    /// Per condition: eigenvalue moduli (leading 10) at each fixed point, with its unstable
    /// count.
    pub spectra: Vec<Vec<(usize, Vec<f64>)>>,
    /// Probe states: `[rows, hidden]` in `probe/states.f32` (little-endian, row `t·B + b`).
    pub state_rows: usize,
}

/// Runs (or resumes) one job.
pub fn run_job(job: &Job, dir: &Path) -> Result<serde_json::Value, AgentError> {
    let spec: UniversalityTasksJob =
        toml::from_str(&job.config).map_err(|e| cfg_err(format!("job {}: {e}", job.id)))?;
    let fit = FitConfig::from_toml(&spec.fit)?;
    let t0 = std::time::Instant::now();
    let result = if dir.join("checkpoints").exists() {
        fit_resume(dir, &mut |_| {}, None)?
    } else {
        fit_new(fit.clone(), dir, &mut |_| {})?
    };
    let fit_s = t0.elapsed().as_secs_f64();
    let fitter = load_checkpoint(dir)?;
    let task = make_task(&fit.task.id, &fit.task.config)?;
    let (states, rows) = probe_states(&fitter.net, task.as_ref(), spec.probe_trials);
    let probe = dir.join("probe");
    std::fs::create_dir_all(&probe).map_err(|e| AgentError::io(&probe, e))?;
    let bytes: Vec<u8> = states.iter().flat_map(|v| v.to_le_bytes()).collect();
    crate::io::atomic_write(&probe.join("states.f32"), &bytes).map_err(|e| AgentError::io(&probe, e))?;
    let map = NetMap::new(&fitter.net)?;
    let conditions = input_conditions(task.as_ref(), &fit.task.config, spec.sine_conditions);
    let mut scaffolds: Vec<Scaffold> = Vec::new();
    for (_, u) in &conditions {
        let inits = initial_states(&map, task.as_ref(), u, spec.probe_trials, spec.fp_inits);
        let f = |h: &[f64]| map.step(h, u);
        let j = |h: &[f64]| map.jacobian(h, u);
        scaffolds.push(scaffold(&f, Some(&j), &inits, &spec.topology)?);
    }
    crate::io::write_json(&probe.join("topology.json"), &scaffolds)?;
    let signature = Signature { conditions: scaffolds.iter().map(condition_signature).collect() };
    let spectra = scaffolds
        .iter()
        .map(|s| {
            s.points
                .iter()
                .map(|p| {
                    let k = match p.kind {
                        crate::probe::topology::PointKind::Stable => 0,
                        crate::probe::topology::PointKind::Saddle(k) => k,
                        crate::probe::topology::PointKind::Source => p.moduli.len(),
                    };
                    (k, p.moduli.iter().take(10).copied().collect())
                })
                .collect()
        })
        .collect();
    let summary = NetworkSummary {
        task: spec.task.clone(),
        arch: arch_name(fit.net.arch).into(),
        width: fit.net.hidden,
        seed: fit.seed,
        reached_criterion: result.reached_criterion,
        final_eval_nmse: result.final_eval_nmse,
        steps: result.steps,
        conditions: conditions.iter().map(|c| c.0.clone()).collect(),
        signature_key: signature.key(),
        signature,
        spectra,
        state_rows: rows,
    };
    crate::io::write_json(&probe.join("summary.json"), &summary)?;
    let timing = serde_json::json!({"fit_s": fit_s, "probe_s": t0.elapsed().as_secs_f64() - fit_s});
    crate::io::write_json(&probe.join("timing.json"), &timing)?;
    serde_json::to_value(&summary).map_err(|e| AgentError::Data(format!("summary: {e}")))
}

/// Hidden states `h` of `net` on the probe trials, `[T·B, H]` row-major (time-major rows).
fn probe_states(net: &crate::fit::Net, task: &dyn Task, trials: usize) -> (Vec<f32>, usize) {
    let tb = TaskBatch::generate(task, PROBE_SEED, 0, trials);
    let (t, b) = (tb.time, tb.batch);
    let mut x = vec![0.0f32; tb.inputs.len()];
    for bi in 0..b {
        for ti in 0..t {
            let (s, d) = ((bi * t + ti) * tb.n_in, (ti * b + bi) * tb.n_in);
            x[d..d + tb.n_in].copy_from_slice(&tb.inputs[s..s + tb.n_in]);
        }
    }
    let mut ws = crate::fit::Workspace::default();
    net.forward(&x, None, t, b, &mut ws);
    (net.states(&ws).to_vec(), t * b)
}

/// Initial states of the search under input `u`: the states of the first probe trials
/// (driven by their own inputs) and of a run from zero under `u` itself, interleaved so that
/// the first rows (the limit-cycle starts) come from the constant-input run; `count` rows.
fn initial_states(map: &NetMap, task: &dyn Task, u: &[f64], trials: usize, count: usize) -> Matrix {
    let tb = TaskBatch::generate(task, PROBE_SEED, 0, trials.min(8));
    let mut pool: Vec<Vec<f64>> = Vec::new();
    for b in 0..tb.batch {
        let inputs: Vec<Vec<f64>> = (0..tb.time)
            .map(|t| tb.inputs[(b * tb.time + t) * tb.n_in..][..tb.n_in].iter().map(|&v| v as f64).collect())
            .collect();
        pool.extend(map.drive(&inputs));
    }
    let constant = map.drive(&vec![u.to_vec(); tb.time.max(2)]);
    let half = count.div_ceil(2);
    let mut rows: Vec<Vec<f64>> = Vec::with_capacity(count);
    let pick = |v: &[Vec<f64>], n: usize, out: &mut Vec<Vec<f64>>| {
        for k in 0..n.min(v.len()) {
            out.push(v[v.len() - 1 - k * v.len() / n.min(v.len())].clone());
        }
    };
    pick(&constant, half, &mut rows);
    pick(&pool, count - rows.len(), &mut rows);
    Matrix::from_rows(&rows).unwrap_or_else(|_| Matrix::zeros(1, map.state_dim()))
}

/// The universality-tasks study (see the module docs).
pub struct UniversalityTasks;

impl Study for UniversalityTasks {
    fn name(&self) -> &'static str {
        "universality-tasks"
    }
    fn about(&self) -> &'static str {
        "tanh/ReLU RNN, UGRNN, GRU, LSTM x widths x seeds fitted on flip-flop, CDI, sine; SVCCA geometry vs fixed-point topology"
    }
    fn job_kinds(&self) -> &'static [JobKind] {
        &[JobKind::UniversalityTasks]
    }
    fn plan(&self, config: &str) -> Result<Vec<Job>, AgentError> {
        UniversalityTasksConfig::from_toml(config)?.jobs()
    }
    fn run_job(&self, job: &Job, dir: &Path, _progress: Progress) -> Result<serde_json::Value, AgentError> {
        run_job(job, dir)
    }
    fn report(&self, plan: &Plan, dir: &Path, _jobs: &[(&Job, serde_json::Value)]) -> Result<PathBuf, AgentError> {
        write_report(plan, dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quick() -> UniversalityTasksConfig {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../scripts/configs/universality_tasks_quick.toml"
        ))
        .expect("quick config");
        UniversalityTasksConfig::from_toml(&text).expect("valid")
    }

    #[test]
    fn quick_config_plans_at_least_100_networks_on_three_tasks() {
        let cfg = quick();
        let jobs = cfg.jobs().unwrap();
        assert!(jobs.len() >= 100, "{}", jobs.len());
        assert_eq!(cfg.tasks.len(), 3);
        let mut ids: Vec<&str> = jobs.iter().map(|j| j.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), jobs.len());
        let spec: UniversalityTasksJob = toml::from_str(&jobs[0].config).unwrap();
        assert!(FitConfig::from_toml(&spec.fit).unwrap().validate().is_ok());
    }

    #[test]
    fn bad_configs_are_rejected_with_the_value() {
        let e = UniversalityTasksConfig::from_toml("seeds = 0").unwrap_err().to_string();
        assert!(e.contains("seeds = 0"), "{e}");
        let e = UniversalityTasksConfig::from_toml(
            "[[tasks]]\nname = \"ff\"\nid = \"FlipFlop-v0\"\n[tasks.config]\npulse_prob = 1.5\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("1.5"), "{e}");
    }

    #[test]
    fn conditions_follow_the_task() {
        let sine = make_task("SineGen-v0", &serde_json::json!({})).unwrap();
        let c = input_conditions(sine.as_ref(), &serde_json::json!({}), 3);
        assert_eq!(c.len(), 3);
        assert!((c[0].1[0] - 0.25).abs() < 1e-12 && (c[2].1[0] - (50.0 / 51.0 + 0.25)).abs() < 1e-12);
        let cdi = make_task("ContextIntegration-v0", &serde_json::json!({})).unwrap();
        assert_eq!(input_conditions(cdi.as_ref(), &serde_json::json!({}), 3).len(), 2);
    }

    /// A flip-flop GRU fitted to criterion has the 3-bit scaffold: 8 stable points (one per
    /// memory state) and index-1 saddles whose unstable manifolds join them.
    #[test]
    fn a_fitted_flip_flop_gru_has_eight_stable_points_joined_through_saddles() {
        let text = "seed = 0\n[task]\nid = \"FlipFlop-v0\"\n[net]\narch = \"gru\"\nhidden = 16\n\
                    [train]\nsteps = 5000\nbatch = 32\nlr = 0.01\nlr_final = 0.0005\neval_every = 50\n";
        let mut fitter = crate::fit::Fitter::new(FitConfig::from_toml(text).unwrap()).unwrap();
        while !fitter.done() {
            fitter.train_step().unwrap();
            if fitter.step.is_multiple_of(fitter.cfg.train.eval_every) {
                fitter.evaluate();
            }
        }
        assert!(fitter.reached_at.is_some(), "fit missed the criterion: {:?}", fitter.last_eval);
        let map = NetMap::new(&fitter.net).unwrap();
        let u = [0.0; 3];
        let inits = initial_states(&map, fitter.task.as_ref(), &u, 16, 48);
        let f = |h: &[f64]| map.step(h, &u);
        let j = |h: &[f64]| map.jacobian(h, &u);
        let sc = scaffold(&f, Some(&j), &inits, &TopologyConfig::default()).unwrap();
        let sig = condition_signature(&sc);
        assert_eq!(sig.stable, 8, "{}", Signature { conditions: vec![sig.clone()] }.key());
        assert!(sig.saddles.first().copied().unwrap_or(0) >= 1 && sig.graph.edges >= 1, "{sig:?}");
    }

    #[test]
    fn a_tiny_job_fits_and_probes() {
        let text = "seeds = 1\nwidths = [6]\narchitectures = [\"gru\"]\nprobe_trials = 4\nfp_inits = 8\n\
                    [[tasks]]\nname = \"ff\"\nid = \"FlipFlop-v0\"\n[tasks.config]\nsteps = 20\n\
                    [tasks.train]\nsteps = 4\nbatch = 4\neval_every = 2\neval_batch = 8\n";
        let jobs = UniversalityTasksConfig::from_toml(text).unwrap().jobs().unwrap();
        let dir = std::env::temp_dir().join(format!("engram-ut-job-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let v = run_job(&jobs[0], &dir).unwrap();
        let s: NetworkSummary = serde_json::from_value(v).unwrap();
        assert_eq!((s.arch.as_str(), s.width, s.state_rows), ("gru", 6, 80));
        assert_eq!(s.signature.conditions.len(), 1);
        assert_eq!(std::fs::metadata(dir.join("probe/states.f32")).unwrap().len(), 80 * 6 * 4);
        // Resuming a finished job gives the same summary.
        let again: NetworkSummary = serde_json::from_value(run_job(&jobs[0], &dir).unwrap()).unwrap();
        assert_eq!(again, s);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
