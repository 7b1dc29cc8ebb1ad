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

/// Seed of the held-out trials that drive the network for [`fit_lyapunov_hook`] (the same
/// at every checkpoint, so the spectra differ only by the weights).
pub const FIT_LYAPUNOV_SEED: u64 = 0x1A9_7E57;
/// Trials concatenated into one driven trajectory (no reset between them).
const FIT_LYAPUNOV_TRIALS: usize = 4;
/// Steps that only align the frame.
const FIT_LYAPUNOV_WARMUP: usize = 50;

/// One row of a run's `lyapunov.jsonl` (`engram fit`: Adam step; `engram train`: PPO update).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitLyapunovRow {
    /// Adam step (fit) or PPO update (train) of the checkpoint.
    pub step: u64,
    /// Leading exponents, natural log per step, decreasing.
    pub exponents: Vec<f64>,
}

/// The leading `train.lyapunov_exponents` Lyapunov exponents of a `fit` network driven by
/// [`FIT_LYAPUNOV_TRIALS`] held-out trials of its task (Vogt et al. 2022: the spectrum as a
/// readout of training stability).
pub fn fit_lyapunov(f: &crate::fit::Fitter) -> Result<Vec<f64>, AgentError> {
    let map = crate::probe::fit_map::NetMap::new(&f.net)?;
    let tb =
        engram_envs::tasks::battery::TaskBatch::generate(f.task.as_ref(), FIT_LYAPUNOV_SEED, 0, FIT_LYAPUNOV_TRIALS);
    let inputs = Matrix::new(tb.batch * tb.time, tb.n_in, tb.inputs.iter().map(|&v| v as f64).collect())?;
    let h0 = vec![0.0; map.state_dim()];
    let jacs = trajectory_jacobians(
        |s: &[f64], x: &[f64]| map.step(s, x),
        |s: &[f64], x: &[f64]| map.jacobian(s, x),
        &h0,
        &inputs,
    );
    let k = f.cfg.train.lyapunov_exponents.min(map.state_dim());
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(FIT_LYAPUNOV_SEED);
    let warmup = FIT_LYAPUNOV_WARMUP.min(inputs.rows() / 2);
    Ok(lyapunov_spectrum(jacs, k, warmup, &mut rng)?.exponents)
}

/// [`crate::fit::CheckpointHook`]: appends the checkpoint's spectrum to `dir/lyapunov.jsonl`
/// (replacing rows of this step or later, so a resumed run logs each checkpoint once) and
/// redraws `dir/lyapunov.png` / `.svg`, the exponents over training.
pub fn fit_lyapunov_hook(f: &crate::fit::Fitter, dir: &Path) -> Result<(), AgentError> {
    log_spectrum(dir, f.step, fit_lyapunov(f)?, "Adam step")
}

/// Deterministic episodes driving the PPO checkpoint's recurrent layer in
/// [`train_lyapunov_hook`] (the same seeds at every checkpoint).
const TRAIN_LYAPUNOV_EPISODES: usize = 4;
/// Seed of those episodes and of the random initial frames.
const TRAIN_LYAPUNOV_SEED: u64 = 7_001;

/// [`crate::run::TrainHook`]: the leading `lyapunov_exponents` exponents of the checkpoint's
/// actor recurrent layer, driven by the observations of [`TRAIN_LYAPUNOV_EPISODES`]
/// deterministic episodes of that checkpoint's own policy (recorded into
/// `dir/lyapunov_rollouts`; the probe of `engram probe lyapunov`), appended to
/// `dir/lyapunov.jsonl` with the PPO update and drawn in `dir/lyapunov.png`.
pub fn train_lyapunov_hook(t: &crate::ppo::Trainer, dir: &Path) -> Result<(), AgentError> {
    let agent = ProbedAgent::load(dir)?;
    let rollouts = Rollouts::record_or_reuse(
        &agent,
        &dir.join("lyapunov_rollouts"),
        TRAIN_LYAPUNOV_EPISODES,
        TRAIN_LYAPUNOV_SEED,
    )?;
    let cfg =
        LyapunovProbeConfig { n_exponents: t.cfg.lyapunov_exponents, seed: TRAIN_LYAPUNOV_SEED, ..Default::default() };
    let report = probe_lyapunov(&agent, &rollouts, &cfg)?;
    log_spectrum(dir, t.update as u64, report.mean_per_step, "PPO update")
}

/// Appends `(step, exponents)` to `dir/lyapunov.jsonl` (replacing rows of this step or later,
/// so a resumed run logs each checkpoint once) and redraws `dir/lyapunov.png` / `.svg`, the
/// exponents over training.
fn log_spectrum(dir: &Path, step: u64, exponents: Vec<f64>, x_label: &str) -> Result<(), AgentError> {
    let path = dir.join("lyapunov.jsonl");
    let mut rows: Vec<FitLyapunovRow> = match std::fs::read_to_string(&path) {
        Ok(text) => text
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .filter(|r: &FitLyapunovRow| r.step < step)
            .collect(),
        Err(_) => Vec::new(),
    };
    rows.push(FitLyapunovRow { step, exponents });
    let text: String = rows.iter().map(|r| serde_json::to_string(r).unwrap_or_default() + "\n").collect();
    crate::io::write_text(&path, &text)?;
    use plotters::drawing::IntoDrawingArea;
    crate::render::register_font();
    let png = dir.join("lyapunov.png");
    draw_fit_lyapunov(plotters::prelude::BitMapBackend::new(&png, (800, 600)).into_drawing_area(), &rows, x_label)
        .map_err(|e| AgentError::figure(&png, e))?;
    let svg = dir.join("lyapunov.svg");
    draw_fit_lyapunov(plotters::prelude::SVGBackend::new(&svg, (800, 600)).into_drawing_area(), &rows, x_label)
        .map_err(|e| AgentError::figure(&svg, e))
}

fn draw_fit_lyapunov<DB: plotters::prelude::DrawingBackend>(
    root: plotters::prelude::DrawingArea<DB, plotters::coord::Shift>,
    rows: &[FitLyapunovRow],
    x_label: &str,
) -> crate::render::chart::Drawn
where
    DB::ErrorType: 'static,
{
    use crate::render::chart::{bounds, xy_chart};
    use plotters::prelude::*;
    let x = bounds(rows.iter().map(|r| r.step as f64), 0.05);
    let y = bounds(rows.iter().flat_map(|r| r.exponents.iter().copied()).chain([0.0]), 0.08);
    let mut chart = xy_chart(&root, "Lyapunov spectrum over training", x, y, (x_label, "λ_i (natural log per step)"))?;
    chart.draw_series(LineSeries::new([(x.0, 0.0), (x.1, 0.0)], BLACK.mix(0.4)))?;
    let k = rows.iter().map(|r| r.exponents.len()).max().unwrap_or(0);
    for i in 0..k {
        let c = crate::render::paths::COLOURS[i % crate::render::paths::COLOURS.len()];
        let pts: Vec<(f64, f64)> =
            rows.iter().filter_map(|r| r.exponents.get(i).map(|&v| (r.step as f64, v))).collect();
        chart
            .draw_series(LineSeries::new(pts.clone(), c))?
            .label(format!("λ{}", i + 1))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 15, y)], c));
        chart.draw_series(pts.into_iter().map(|p| Circle::new(p, 3, c.filled())))?;
    }
    chart.configure_series_labels().background_style(WHITE.mix(0.8)).border_style(BLACK).draw()?;
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod fit_hook_tests {
    use super::*;
    use crate::fit::{fit_new, fit_new_hooked, FitConfig};

    fn cfg(k: usize) -> FitConfig {
        FitConfig::from_toml(&format!(
            "seed = 1\n[task]\nid = \"FlipFlop-v0\"\n[task.config]\nsteps = 30\n[net]\narch = \"gru\"\nhidden = 6\n\
             [train]\nsteps = 30\nbatch = 8\nlr = 0.01\neval_every = 10\neval_batch = 16\ncheckpoint_every = 10\n\
             stop_at_criterion = false\nlyapunov_exponents = {k}\n"
        ))
        .unwrap()
    }

    #[test]
    fn fit_logs_the_spectrum_at_each_checkpoint() {
        let dir = std::env::temp_dir().join(format!("engram-fit-lyap-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        fit_new_hooked(cfg(3), &dir, &mut |_| {}, None, Some(fit_lyapunov_hook)).unwrap();
        let text = std::fs::read_to_string(dir.join("lyapunov.jsonl")).unwrap();
        let rows: Vec<FitLyapunovRow> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(rows.iter().map(|r| r.step).collect::<Vec<_>>(), vec![10, 20, 30]);
        for r in &rows {
            assert_eq!(r.exponents.len(), 3);
            assert!(r.exponents.iter().all(|v| v.is_finite()));
            assert!(r.exponents.windows(2).all(|w| w[0] >= w[1] - 1e-12), "{:?}", r.exponents);
        }
        assert!(dir.join("lyapunov.png").exists() && dir.join("lyapunov.svg").exists());
        std::fs::remove_dir_all(&dir).unwrap();
        // Without the hook the option is refused, naming the value.
        let e = fit_new(cfg(2), &dir, &mut |_| {}).unwrap_err().to_string();
        assert!(e.contains("lyapunov_exponents = 2"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
