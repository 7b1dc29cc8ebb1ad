//! `engram probe lyapunov`: Lyapunov spectra of a run's recurrent cell driven by its recorded
//! observation sequences (input-driven exponents: the physics is not differentiable, so the
//! closed loop through the env is cut and the recorded inputs are replayed).
//!
//! One spectrum per recorded episode ([`crate::probe::lyapunov::lyapunov_spectrum`] with the
//! analytic Jacobians along the driven trajectory, from a zero state as at an episode
//! start), then the mean ± standard deviation over episodes, in natural-log units per step
//! and, when the env's step duration is known, per second.

use super::agent::ProbedAgent;
use super::rollouts::Rollouts;
use super::{fs_err, output, REPORT_SCHEMA_VERSION};
use crate::error::AgentError;
use crate::probe::lyapunov::{lyapunov_spectrum, trajectory_jacobians, LyapunovSpectrum};
use crate::probe::Matrix;
use crate::stats::{mean, std_dev};
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Settings of the Lyapunov probe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LyapunovProbeConfig {
    /// Exponents to compute (0 = the whole spectrum, one per state dimension).
    pub n_exponents: usize,
    /// Steps at the start of each episode that only align the frame.
    pub warmup: usize,
    /// Seed of the random initial frames.
    pub seed: u64,
}

impl Default for LyapunovProbeConfig {
    fn default() -> Self {
        Self { n_exponents: 0, warmup: 20, seed: 0 }
    }
}

/// `report.json` of the Lyapunov probe.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LyapunovReport {
    /// [`REPORT_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The run directory.
    pub run: String,
    /// The checkpoint probed.
    pub checkpoint: String,
    /// Env id.
    pub env: String,
    /// `rnn|gru|lstm`.
    pub architecture: String,
    /// State width.
    pub state_dim: usize,
    /// The settings.
    pub config: LyapunovProbeConfig,
    /// Env step, seconds (None when unknown).
    pub dt_s: Option<f64>,
    /// Spectrum of every episode long enough (natural log per step, decreasing).
    pub per_episode: Vec<LyapunovSpectrum>,
    /// Mean over episodes, per step.
    #[serde(with = "engram_envs::serde_nan::vec_f64_or_null")]
    pub mean_per_step: Vec<f64>,
    /// Standard deviation over episodes, per step.
    #[serde(with = "engram_envs::serde_nan::vec_f64_or_null")]
    pub std_per_step: Vec<f64>,
    /// Mean over episodes, per second (empty when `dt_s` is unknown).
    #[serde(with = "engram_envs::serde_nan::vec_f64_or_null")]
    pub mean_per_second: Vec<f64>,
    /// Mean Kaplan–Yorke dimension over episodes.
    #[serde(with = "engram_envs::serde_nan::f64_or_null")]
    pub kaplan_yorke_dimension: f64,
}

/// Runs the probe on `agent`'s recorded `rollouts`.
pub fn probe_lyapunov(
    agent: &ProbedAgent,
    rollouts: &Rollouts,
    cfg: &LyapunovProbeConfig,
) -> Result<LyapunovReport, AgentError> {
    let s = agent.map.state_dim();
    let k = if cfg.n_exponents == 0 { s } else { cfg.n_exponents.min(s) };
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(cfg.seed);
    let mut per_episode = Vec::new();
    for r in rollouts.episode_ranges() {
        if r.len() <= cfg.warmup {
            continue;
        }
        let x = agent.cell_inputs(rollouts.obs_rows(r.clone()), r.len());
        let map = &agent.map;
        let jacs = trajectory_jacobians(
            |h: &[f64], u: &[f64]| map.step(h, u),
            |h: &[f64], u: &[f64]| map.jacobian(h, u),
            &vec![0.0; s],
            &x,
        );
        per_episode.push(lyapunov_spectrum(jacs, k, cfg.warmup, &mut rng)?);
    }
    if per_episode.is_empty() {
        return Err(AgentError::Probe(format!(
            "no recorded episode is longer than the warm-up ({} steps)",
            cfg.warmup
        )));
    }
    let col = |i: usize| per_episode.iter().map(|p| p.exponents[i]).collect::<Vec<f64>>();
    let mean_per_step: Vec<f64> = (0..k).map(|i| mean(&col(i))).collect();
    let std_per_step: Vec<f64> =
        (0..k).map(|i| if per_episode.len() > 1 { std_dev(&col(i)) } else { f64::NAN }).collect();
    let dt_s = agent.dt_s();
    let mean_per_second = dt_s.map(|dt| mean_per_step.iter().map(|v| v / dt).collect()).unwrap_or_default();
    let ky = mean(&per_episode.iter().map(|p| p.kaplan_yorke_dimension()).collect::<Vec<_>>());
    Ok(LyapunovReport {
        schema_version: REPORT_SCHEMA_VERSION,
        run: agent.run.display().to_string(),
        checkpoint: agent.policy.dir.display().to_string(),
        env: agent.env().to_string(),
        architecture: agent.architecture(),
        state_dim: s,
        config: cfg.clone(),
        dt_s,
        per_episode,
        mean_per_step,
        std_per_step,
        mean_per_second,
        kaplan_yorke_dimension: ky,
    })
}

impl LyapunovReport {
    /// One line for the terminal: the largest exponent and where the report is.
    pub fn summary(&self, out: &Path) -> String {
        format!(
            "{} {}: largest exponent {:.4} ± {:.4} per step over {} episodes; {}",
            self.env,
            self.architecture,
            self.mean_per_step[0],
            self.std_per_step[0],
            self.per_episode.len(),
            out.join("report.md").display()
        )
    }

    /// The Markdown summary.
    pub fn to_markdown(&self) -> String {
        let lead = |i: usize| {
            format!(
                "{:.4} ± {:.4}{}",
                self.mean_per_step[i],
                self.std_per_step[i],
                self.mean_per_second.get(i).map(|v| format!(" ({v:.3} /s)")).unwrap_or_default()
            )
        };
        let mut md = format!(
            "# Lyapunov spectrum: {} ({} {})\n\n\
             Checkpoint `{}`. Benettin QR method on the cell driven by {} recorded episodes \
             (input-driven exponents), {} warm-up steps, {} exponents of {}; natural log per step \
             (per second with dt = {}). Mean ± std over episodes. Negative exponents: \
             perturbations of the state die out (the network forgets); a positive one means \
             chaotic sensitivity to the state.\n\n\
             Largest exponent: **{}**; Kaplan–Yorke dimension {:.2}.\n\n| i | λ_i (per step, mean ± std) |\n|---:|---|\n",
            self.run,
            self.env,
            self.architecture,
            self.checkpoint,
            self.per_episode.len(),
            self.config.warmup,
            self.mean_per_step.len(),
            self.state_dim,
            self.dt_s.map_or("unknown".into(), |d| format!("{d} s")),
            lead(0),
            self.kaplan_yorke_dimension,
        );
        for i in 0..self.mean_per_step.len().min(10) {
            md.push_str(&format!("| {} | {} |\n", i + 1, lead(i)));
        }
        md.push_str("\nFiles: `report.json`, `exponents.npy` [episodes, exponents] (per step), `spectrum.png/svg`.\n");
        md
    }

    /// Writes `report.json`, `report.md`, `exponents.npy` and the figure into `out`.
    pub fn write(&self, out: &Path) -> Result<(), AgentError> {
        std::fs::create_dir_all(out).map_err(|e| fs_err(out, e))?;
        output::write_json(&out.join("report.json"), self)?;
        output::write_text(&out.join("report.md"), &self.to_markdown())?;
        let k = self.mean_per_step.len();
        let m = Matrix::from_fn(self.per_episode.len(), k, |i, j| self.per_episode[i].exponents[j]);
        output::write_matrix(&out.join("exponents.npy"), &m)?;
        super::figures::spectrum(
            &out.join("spectrum"),
            &self.mean_per_step,
            &self.std_per_step,
            &format!("{} {} Lyapunov spectrum ({} episodes)", self.env, self.architecture, self.per_episode.len()),
        )
    }
}
