//! The curl-field study: a recurrent agent pretrained on centre-out reaching,
//! then taken through baseline (null field) → learning (curl) → washout (null) → relearning
//! (curl), continuing PPO across phases, with the preparatory states of the 8 targets recorded
//! at every checkpoint.
//!
//! Protocol after Sun et al. 2022 (Nature 602:274) and the RL curl-field study (LSTM agents
//! trained with PPO on a point-mass curl-field task); the plant here is the 2-link arm.
//! One seed × one variant is one job of the study's plan; the job is resumable at any
//! checkpoint.

mod behaviour;
mod controls;
mod figures;
mod job;
pub mod record;
mod report;

pub use job::{run_curl_field_job, RECORDS_FILE};
pub use record::PrepRecord;
pub use report::{prep_shift, write_report};

use super::{Plan, Progress, Study};
use crate::error::AgentError;
use crate::ppo::TrainConfig;
use crate::study::{Job, JobKind};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The protocol phases, in order.
pub const PHASES: [&str; 5] = ["pretrain", "baseline", "learning", "washout", "relearning"];

/// What is pretrained, and the controls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Variant {
    /// Pretrain in the null field (the main condition).
    Null,
    /// Pretrain with a random signed curl strength per trial, not observed.
    RandomB,
    /// Pretrain with a random curl strength per trial, observed through the `b` input (kept in
    /// every phase so the input dimension never changes).
    RandomBInput,
    /// Control: null field in every phase (drift of the representation under continued
    /// training of equal length).
    Drift,
    /// The 2×2's fourth cell: null-field pretraining with the `b` input present (it reads 0
    /// in pretraining and the curl strength in the field phases).
    NullInput,
    /// Savings control: as `null`, with the Adam moments reset at the end of washout, so that
    /// relearning cannot profit from optimizer state carried over from learning.
    ResetOptimizer,
    /// Drift control of the input cells: as `null_input`, but the field phases use a sham
    /// field (the `b` input reads the strength on the trained target, no force acts), so the
    /// input steps with the schedule while nothing is there to learn.
    DriftInput,
}

impl Variant {
    /// Lower-case name (as in configs and job ids).
    pub fn name(self) -> &'static str {
        match self {
            Variant::Null => "null",
            Variant::RandomB => "random_b",
            Variant::RandomBInput => "random_b_input",
            Variant::Drift => "drift",
            Variant::NullInput => "null_input",
            Variant::ResetOptimizer => "reset_optimizer",
            Variant::DriftInput => "drift_input",
        }
    }

    /// Whether the policy observes the field strength (the `b` input).
    pub fn b_input(self) -> bool {
        matches!(self, Variant::RandomBInput | Variant::NullInput | Variant::DriftInput)
    }

    /// Whether this is a drift control (no force in any phase).
    pub fn is_drift(self) -> bool {
        matches!(self, Variant::Drift | Variant::DriftInput)
    }

    /// Whether pretraining draws a random curl strength per trial.
    pub fn curl_pretraining(self) -> bool {
        matches!(self, Variant::RandomB | Variant::RandomBInput)
    }
}

/// PPO updates per phase.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PhaseUpdates {
    /// Pretraining (learning to reach).
    pub pretrain: usize,
    /// Baseline in the null field.
    pub baseline: usize,
    /// Learning in the curl field.
    pub learning: usize,
    /// Washout in the null field.
    pub washout: usize,
    /// Relearning in the curl field.
    pub relearning: usize,
}

impl Default for PhaseUpdates {
    fn default() -> Self {
        Self { pretrain: 300, baseline: 20, learning: 60, washout: 60, relearning: 60 }
    }
}

impl PhaseUpdates {
    /// Updates of phase `i` (in [`PHASES`] order).
    pub fn get(&self, i: usize) -> usize {
        [self.pretrain, self.baseline, self.learning, self.washout, self.relearning][i]
    }
    /// Cumulative update count at the end of each phase.
    pub fn ends(&self) -> [usize; 5] {
        let mut acc = 0;
        std::array::from_fn(|i| {
            acc += self.get(i);
            acc
        })
    }
}

/// One stage of the pretraining curriculum: env-config overrides that hold for a number of
/// PPO updates at the start of pretraining (say, no delay period first, then a short one).
/// After the last stage, pretraining continues on the experiment's own task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CurriculumStage {
    /// PPO updates in this stage (>= 1).
    pub updates: usize,
    /// Overrides merged key by key (nested tables recursively) into `train.env_config`.
    #[serde(default)]
    pub env_config: toml::Table,
}

/// Merges `over` into `base`: nested tables recursively, any other value replaced.
pub fn merge_table(base: &mut toml::Table, over: &toml::Table) {
    for (k, v) in over {
        match (base.get_mut(k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge_table(b, o),
            _ => {
                base.insert(k.clone(), v.clone());
            }
        }
    }
}

/// The experiment's config (`scripts/configs/curl_field*.toml`). Every field has a default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CurlFieldConfig {
    /// Seeds per variant.
    pub seeds: u64,
    /// First seed.
    pub seed_base: u64,
    /// Conditions to run (each × seeds is a job).
    pub variants: Vec<Variant>,
    /// Signed curl strength of the learning phases, N·s/m (> 0 clockwise).
    pub b_ns_m: f64,
    /// Index of the trained target (Sun et al. 2022: the field acts on this target only, the
    /// others stay in the null field, interleaved at random); must be < the env's `n_targets`.
    pub trained_target: usize,
    /// Classic protocol instead: the field acts on every target.
    pub field_on_all_targets: bool,
    /// Exclusion rule, fixed before the run: seeds whose mean null-field success over the
    /// baseline recordings is below this fraction are listed and left out of every statistic
    /// (`engram probe prep-shift --min-success` overrides it for a re-analysis, and says so).
    pub gate_min_success: Option<f64>,
    /// Force-channel trials on the trained target at every recording (their mean adaptation
    /// index); 0 = none. They are probes: the policy is not trained on them.
    pub channel_repeats: usize,
    /// Range of the random curl strength in pretraining variants, N·s/m.
    pub random_b_range_ns_m: [f64; 2],
    /// PPO updates per phase.
    pub updates: PhaseUpdates,
    /// Stages at the start of pretraining that ease the task (their updates count toward
    /// `updates.pretrain`, and together must leave at least one update on the full task).
    pub curriculum: Vec<CurriculumStage>,
    /// Reset the Adam moments at every phase boundary (a control); otherwise kept.
    pub reset_optimizer: bool,
    /// Learning rate of the phases after pretraining. When set, pretraining anneals the
    /// rate linearly from `train.ppo.learning_rate` to it (so the policy settles before
    /// baseline), and baseline … relearning keep it. Unset: one constant rate throughout.
    pub phase_learning_rate: Option<f32>,
    /// Record (and checkpoint) every this many updates after pretraining, and at every phase end.
    pub record_every: usize,
    /// Noisy repeats per target in each recording (K).
    pub record_repeats: usize,
    /// The training config (`engram train`'s TOML: env, policy, ppo). The env must be a
    /// CurlReach variant; `seed` and `total_timesteps` are set by the experiment.
    pub train: toml::Table,
}

impl Default for CurlFieldConfig {
    fn default() -> Self {
        let train: toml::Table = toml::from_str(
            "env = \"CurlReach-v0\"\n[policy]\nkind = \"gru\"\n[ppo]\nn_envs = 8\nn_steps = 256\nbptt_len = 32\n",
        )
        .expect("valid default");
        Self {
            seeds: 4,
            seed_base: 0,
            variants: vec![Variant::Null],
            b_ns_m: 8.0,
            trained_target: 0,
            field_on_all_targets: false,
            channel_repeats: 4,
            gate_min_success: Some(0.9),
            random_b_range_ns_m: [-15.0, 15.0],
            updates: PhaseUpdates::default(),
            curriculum: vec![],
            reset_optimizer: false,
            phase_learning_rate: None,
            record_every: 10,
            record_repeats: 4,
            train,
        }
    }
}

/// One job's config: the experiment config pinned to a variant and seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CurlFieldJob {
    /// The condition.
    pub variant: Variant,
    /// The seed.
    pub seed: u64,
    /// The experiment config.
    pub experiment: CurlFieldConfig,
}

impl CurlFieldConfig {
    /// Parses and validates a TOML document.
    pub fn from_toml(text: &str) -> Result<Self, AgentError> {
        let cfg: Self = toml::from_str(text).map_err(|e| AgentError::Config(format!("curl-field config: {e}")))?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Checks bounds, and that the training config parses for every variant.
    pub fn validate(&self) -> Result<(), AgentError> {
        let bad = |m: String| Err(AgentError::Config(m));
        if self.seeds == 0 {
            return bad("seeds = 0 (must be >= 1)".into());
        }
        if self.variants.is_empty() {
            return bad("variants is empty (use e.g. [\"null\"])".into());
        }
        if !(0.0..=20.0).contains(&self.b_ns_m.abs()) {
            return bad(format!("b_ns_m = {} (|b| must be in [0, 20])", self.b_ns_m));
        }
        for (i, phase) in PHASES.iter().enumerate() {
            if self.updates.get(i) == 0 {
                return bad(format!("updates.{phase} = 0 (must be >= 1)"));
            }
        }
        if let Some(i) = (1..self.variants.len()).find(|&i| self.variants[..i].contains(&self.variants[i])) {
            return bad(format!(
                "variants[{i}] = {} repeats an earlier variant (each condition runs once, on the shared seeds)",
                self.variants[i].name()
            ));
        }
        if let Some(g) = self.gate_min_success.filter(|g| !(0.0..=1.0).contains(g)) {
            return bad(format!("gate_min_success = {g} (must be a fraction in [0, 1])"));
        }
        if self.record_repeats == 0 {
            return bad("record_repeats = 0 (must be >= 1)".into());
        }
        if let Some(lr) = self.phase_learning_rate.filter(|lr| !(lr.is_finite() && *lr > 0.0)) {
            return bad(format!("phase_learning_rate = {lr} (must be finite and > 0)"));
        }
        if let Some(i) = self.curriculum.iter().position(|s| s.updates == 0) {
            return bad(format!("curriculum[{i}].updates = 0 (must be >= 1)"));
        }
        let staged: usize = self.curriculum.iter().map(|s| s.updates).sum();
        if !self.curriculum.is_empty() && staged >= self.updates.pretrain {
            return bad(format!(
                "curriculum stages take {staged} updates (must be < updates.pretrain = {})",
                self.updates.pretrain
            ));
        }
        for v in &self.variants {
            let job = CurlFieldJob { variant: *v, seed: self.seed_base, experiment: self.clone() };
            // Every env config the job will use must build (bounds are checked by the env).
            for update in self.stage_starts() {
                let cfg = job.train_config_at(0, update)?;
                engram_envs::make_with(&cfg.env, &cfg.env_config_json())?;
            }
            let cfg = job.train_config(0)?;
            if !cfg.env.starts_with("CurlReach") {
                return bad(format!("train.env = {} (must be a CurlReach variant)", cfg.env));
            }
            let reach = engram_envs::tasks::reach::task_config(&cfg.env, &cfg.env_config_json())?;
            if self.trained_target >= reach.n_targets {
                return bad(format!(
                    "trained_target = {} (must be < n_targets = {})",
                    self.trained_target, reach.n_targets
                ));
            }
        }
        Ok(())
    }

    /// The update at which each curriculum stage starts.
    pub fn stage_starts(&self) -> Vec<usize> {
        self.curriculum.iter().scan(0, |acc, s| Some(std::mem::replace(acc, *acc + s.updates))).collect()
    }

    /// The curriculum stage in force at pretraining update `update` (`None`: the full task).
    pub fn stage_at(&self, update: usize) -> Option<&CurriculumStage> {
        let mut end = 0;
        self.curriculum.iter().find(|s| {
            end += s.updates;
            update < end
        })
    }

    /// The plan's jobs: variants × seeds.
    pub fn jobs(&self) -> Result<Vec<Job>, AgentError> {
        let mut jobs = vec![];
        for v in &self.variants {
            for seed in self.seed_base..self.seed_base + self.seeds {
                let job = CurlFieldJob { variant: *v, seed, experiment: self.clone() };
                let config = toml::to_string(&job).map_err(|e| AgentError::Config(e.to_string()))?;
                let id = format!("{}-seed{seed}", v.name());
                jobs.push(Job::new(id, JobKind::CurlField, seed, config, vec![format!("variant={}", v.name())]));
            }
        }
        Ok(jobs)
    }
}

impl CurlFieldJob {
    /// The field of phase `phase` as the env's `field` config table.
    pub fn field_table(&self, phase: usize) -> toml::Table {
        let e = &self.experiment;
        let mut t = toml::Table::new();
        let curl = |t: &mut toml::Table, b: f64| {
            t.insert("kind".into(), "curl".into());
            t.insert("direction".into(), (if b >= 0.0 { "clockwise" } else { "counter_clockwise" }).into());
            t.insert("strength_ns_m".into(), b.abs().into());
        };
        match (PHASES[phase], self.variant) {
            ("pretrain", v) if v.curl_pretraining() => {
                curl(&mut t, 0.0);
                t.insert(
                    "random_b_range_ns_m".into(),
                    toml::Value::Array(e.random_b_range_ns_m.iter().map(|&x| x.into()).collect()),
                );
            }
            ("learning" | "relearning", v) if v != Variant::Drift => {
                curl(&mut t, e.b_ns_m);
                if !e.field_on_all_targets {
                    t.insert("targets".into(), toml::Value::Array(vec![(e.trained_target as i64).into()]));
                }
                if v == Variant::DriftInput {
                    t.insert("sham".into(), true.into());
                }
            }
            _ => {
                t.insert("kind".into(), "null".into());
            }
        }
        t
    }

    /// The signed curl strength of phase `phase` during recordings (0 in null phases).
    pub fn record_b(&self, phase: usize) -> f64 {
        match (PHASES[phase], self.variant) {
            ("learning" | "relearning", v) if v != Variant::Drift => self.experiment.b_ns_m,
            _ => 0.0,
        }
    }

    /// The training config of phase `phase` after its curriculum (see [`Self::train_config_at`]).
    pub fn train_config(&self, phase: usize) -> Result<TrainConfig, AgentError> {
        self.train_config_at(phase, usize::MAX)
    }

    /// The training config in force at update `update` of phase `phase`: the experiment's
    /// `train` table with the seed, the curriculum stage's overrides (pretraining only), the
    /// phase's field, the `b` input for that variant, the total budget up to the end of the
    /// phase, and the learning rate at that update (see [`CurlFieldConfig::phase_learning_rate`];
    /// PPO's own annealing is off, since phases continue one run).
    pub fn train_config_at(&self, phase: usize, update: usize) -> Result<TrainConfig, AgentError> {
        let mut t = self.experiment.train.clone();
        t.insert("seed".into(), (self.seed as i64).into());
        let mut cfg: TrainConfig = toml::Value::Table(t)
            .try_into()
            .map_err(|e| AgentError::Config(format!("curl-field train config: {e}")))?;
        let batch = (cfg.ppo.n_envs * cfg.ppo.n_steps) as u64;
        cfg.total_timesteps = self.experiment.updates.ends()[phase] as u64 * batch;
        cfg.ppo.anneal_lr = false;
        if let Some(to) = self.experiment.phase_learning_rate {
            let frac = if phase == 0 {
                update.min(self.experiment.updates.pretrain) as f32 / self.experiment.updates.pretrain as f32
            } else {
                1.0
            };
            cfg.ppo.learning_rate += (to - cfg.ppo.learning_rate) * frac;
        }
        cfg.checkpoint_every = 0;
        if let Some(stage) = self.experiment.stage_at(update).filter(|_| PHASES[phase] == "pretrain") {
            merge_table(&mut cfg.env_config, &stage.env_config);
        }
        cfg.env_config.insert("field".into(), toml::Value::Table(self.field_table(phase)));
        if self.variant.b_input() {
            let obs = cfg.env_config.entry("observation").or_insert_with(|| toml::Value::Table(Default::default()));
            if let Some(o) = obs.as_table_mut() {
                o.insert("field_strength_input".into(), true.into());
            }
            // The strength input (the last component) is 0 through null-field pretraining: the
            // running normalizer would see no variance and clip any later field to ±obs_clip,
            // so it passes through unnormalized (it is already scaled, b / 10 N·s/m).
            let dim = engram_envs::make_with(&cfg.env, &cfg.env_config_json())?.observation_space().flat_dim();
            cfg.ppo.obs_norm_passthrough = vec![dim - 1];
        }
        cfg.validate()?;
        Ok(cfg)
    }
}

/// The curl-field study (see the module docs).
pub struct CurlField;

impl Study for CurlField {
    fn name(&self) -> &'static str {
        "curl-field"
    }
    fn about(&self) -> &'static str {
        "curl-field learning on CurlReach: pretrain, baseline, learning, washout, relearning; prep-shift report"
    }
    fn job_kinds(&self) -> &'static [JobKind] {
        &[JobKind::CurlField]
    }
    fn plan(&self, config: &str) -> Result<Vec<Job>, AgentError> {
        CurlFieldConfig::from_toml(config)?.jobs()
    }
    fn run_job(&self, job: &Job, dir: &Path, progress: Progress) -> Result<serde_json::Value, AgentError> {
        run_curl_field_job(job, dir, progress)
    }
    fn report(&self, plan: &Plan, dir: &Path, _jobs: &[(&Job, serde_json::Value)]) -> Result<PathBuf, AgentError> {
        write_report(plan, dir, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(extra: &str) -> Result<CurlFieldConfig, AgentError> {
        CurlFieldConfig::from_toml(&format!(
            "seeds = 1\n[updates]\npretrain = 10\n{extra}\n[train]\nenv = \"CurlReach-v0\"\n\
             [train.env_config]\ncatch_probability = 0.3\n[train.env_config.timing]\nhold_s = 0.1\n"
        ))
    }

    const STAGES: &str = "[[curriculum]]\nupdates = 3\n[curriculum.env_config]\ncatch_probability = 0.0\n\
                          timing = { delay_s = [0.0, 0.0] }\n[[curriculum]]\nupdates = 4\n";

    #[test]
    fn curriculum_stages_override_pretraining_only_and_merge_nested_tables() {
        let cfg = config(STAGES).unwrap();
        assert_eq!(cfg.stage_starts(), vec![0, 3]);
        assert_eq!(cfg.stage_at(2).map(|s| s.updates), Some(3));
        assert_eq!(cfg.stage_at(3).map(|s| s.updates), Some(4));
        assert!(cfg.stage_at(7).is_none());
        let job = CurlFieldJob { variant: Variant::Null, seed: 1, experiment: cfg };
        let env = |phase, update| job.train_config_at(phase, update).unwrap().env_config;
        let stage0 = env(0, 0);
        assert_eq!(stage0["catch_probability"].as_float(), Some(0.0));
        let timing = stage0["timing"].as_table().unwrap();
        // The stage's delay replaces the task's; the task's other timing keys survive.
        assert_eq!(timing["delay_s"].as_array().unwrap().len(), 2);
        assert_eq!(timing["hold_s"].as_float(), Some(0.1));
        for (phase, update) in [(0, 3), (0, 9), (1, 0), (2, 0)] {
            assert_eq!(env(phase, update)["catch_probability"].as_float(), Some(0.3), "phase {phase} update {update}");
        }
    }

    #[test]
    fn the_field_strength_input_passes_through_the_normalizer() {
        let job = |variant| CurlFieldJob { variant, seed: 1, experiment: config("").unwrap() };
        for v in [Variant::NullInput, Variant::RandomBInput, Variant::DriftInput] {
            let cfg = job(v).train_config_at(2, 0).unwrap();
            let dim = engram_envs::make_with(&cfg.env, &cfg.env_config_json()).unwrap().observation_space().flat_dim();
            assert_eq!(cfg.ppo.obs_norm_passthrough, vec![dim - 1], "{v:?}");
        }
        assert!(job(Variant::Null).train_config_at(2, 0).unwrap().ppo.obs_norm_passthrough.is_empty());
        // The sham drift control: the learning phases' field is the real one marked sham, and
        // recordings show the strength; in washout the field is null.
        let (sham, real) = (job(Variant::DriftInput), job(Variant::NullInput));
        let (mut s2, r2) = (sham.field_table(2), real.field_table(2));
        assert_eq!(s2.remove("sham"), Some(true.into()));
        assert_eq!(s2, r2);
        assert_eq!(sham.record_b(2), real.record_b(2));
        assert_eq!(sham.field_table(3), real.field_table(3));
    }

    #[test]
    fn pretraining_anneals_the_learning_rate_to_the_phase_rate() {
        let text = "phase_learning_rate = 1e-4\n[updates]\npretrain = 10\n[train]\nenv = \"CurlReach-v0\"\n\
                    [train.ppo]\nlearning_rate = 5e-4\n";
        let job =
            CurlFieldJob { variant: Variant::Null, seed: 1, experiment: CurlFieldConfig::from_toml(text).unwrap() };
        let lr = |phase, update| job.train_config_at(phase, update).unwrap().ppo.learning_rate;
        assert!((lr(0, 0) - 5e-4).abs() < 1e-9);
        assert!((lr(0, 5) - 3e-4).abs() < 1e-9, "halfway: {}", lr(0, 5));
        for (phase, update) in [(0, 10), (1, 10), (2, 40), (4, 200)] {
            assert!((lr(phase, update) - 1e-4).abs() < 1e-9, "phase {phase} update {update}: {}", lr(phase, update));
        }
        // Without it the rate is constant.
        let job = CurlFieldJob { experiment: config("").unwrap(), ..job };
        let lr = |phase, update| job.train_config_at(phase, update).unwrap().ppo.learning_rate;
        assert_eq!(lr(0, 0), lr(3, 100));
        let err = CurlFieldConfig::from_toml("phase_learning_rate = -1.0\n").unwrap_err().to_string();
        assert!(err.contains("phase_learning_rate = -1") && err.contains("> 0"), "{err}");
    }

    #[test]
    fn curriculum_must_leave_pretraining_on_the_full_task() {
        let err = config("[[curriculum]]\nupdates = 10\n").unwrap_err().to_string();
        assert!(err.contains("10") && err.contains("updates.pretrain"), "{err}");
        let err = config("[[curriculum]]\nupdates = 0\n").unwrap_err().to_string();
        assert!(err.contains("curriculum[0].updates = 0"), "{err}");
        let err = config("[[curriculum]]\nupdates = 2\n[curriculum.env_config]\ncatch_probability = 2.0\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("catch_probability"), "{err}");
    }
}
