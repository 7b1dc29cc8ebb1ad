//! `engram probe fixed-points`: the fixed points of a run's recurrent cell at a constant
//! input, their linearization, and the figure of them over the recorded states' PCA.
//!
//! The map is the actor's cell `s' = F(s, u)` at a constant cell input `u` (see
//! [`ProbeInput`]); the search starts from recorded states (the cell driven by the run's own
//! deterministic rollouts) plus Gaussian noise, as FixedPointFinder samples its initial
//! states, and uses [`crate::probe::dynamics::find_fixed_points`] with the analytic Jacobian.

use super::agent::ProbedAgent;
use super::rollouts::{driven_states, Rollouts};
use super::{fs_err, output, REPORT_SCHEMA_VERSION};
use crate::error::AgentError;
use crate::probe::dynamics::{find_fixed_points, FixedPointConfig, FixedPointSet};
use crate::probe::linalg::{column_means, Pca};
use crate::probe::topology::{condition_signature, scaffold_from_set, Signature, TopologyConfig};
use crate::probe::Matrix;
use rand::seq::index::sample;
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Phase code of the delay (preparatory) period in CurlReach's `info["phase"]`.
const PREP_PHASE: f64 = 1.0;
/// Leading eigenvalue moduli kept in the topology summary.
pub const N_LEADING: usize = 5;

/// The constant input at which the fixed points are sought.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum ProbeInput {
    /// A zero cell input: the normalized observation 0, i.e. the training runs' mean
    /// observation when the run normalizes observations (default).
    #[default]
    Zero,
    /// The mean cell input over the recorded rollouts.
    Mean,
    /// The mean cell input over the preparatory (delay) period of CurlReach trials
    /// (`info["phase"] == 1`).
    Prep,
}

impl ProbeInput {
    /// `zero`, `mean` or `prep`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Zero => "zero",
            Self::Mean => "mean",
            Self::Prep => "prep",
        }
    }

    /// Parses `zero|mean|prep`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "zero" => Some(Self::Zero),
            "mean" => Some(Self::Mean),
            "prep" => Some(Self::Prep),
            _ => None,
        }
    }
}

/// Settings of the fixed-point probe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FixedPointProbeConfig {
    /// The constant input.
    pub input: ProbeInput,
    /// Initial states drawn from the recorded states.
    pub n_initial: usize,
    /// Standard deviation of the Gaussian noise added to each initial state.
    pub init_noise_std: f64,
    /// Seed of the initial-state draw.
    pub seed: u64,
    /// The search itself (FixedPointFinder's defaults; `dt` is set from the env).
    pub search: FixedPointConfig,
}

impl Default for FixedPointProbeConfig {
    fn default() -> Self {
        Self {
            input: ProbeInput::Zero,
            n_initial: 64,
            init_noise_std: 0.05,
            seed: 0,
            search: FixedPointConfig::default(),
        }
    }
}

/// What the study compares across agents: the count and stability pattern of the fixed
/// points and the spectrum at the operating point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopologySummary {
    /// Unique fixed points.
    pub n_points: usize,
    /// Of which stable (all `|λ| < 1`).
    pub n_stable: usize,
    /// Unstable-mode count of each point (the stability pattern), by increasing `q`.
    pub unstable_modes: Vec<usize>,
    /// Index (in the report's points) of the operating point: the one nearest the mean
    /// recorded state; `None` when there are no points.
    pub operating_point: Option<usize>,
    /// The `N_LEADING` largest `|λ|` at the operating point (NaN-padded).
    #[serde(with = "engram_envs::serde_nan::vec_f64_or_null")]
    pub leading_moduli: Vec<f64>,
    /// Distance of the operating point from the mean recorded state.
    #[serde(with = "engram_envs::serde_nan::f64_or_null")]
    pub operating_distance: f64,
}

impl TopologySummary {
    fn new(set: &FixedPointSet, centroid: &[f64]) -> Self {
        let dist = |p: &[f64]| crate::probe::matrix::norm(&crate::probe::matrix::sub(p, centroid));
        let op =
            (0..set.points.len()).min_by(|&a, &b| dist(&set.points[a].state).total_cmp(&dist(&set.points[b].state)));
        let mut leading = vec![f64::NAN; N_LEADING];
        if let Some(i) = op {
            for (l, e) in leading.iter_mut().zip(&set.points[i].eigenvalues) {
                *l = e.modulus();
            }
        }
        Self {
            n_points: set.points.len(),
            n_stable: set.points.iter().filter(|p| p.is_stable()).count(),
            unstable_modes: set.points.iter().map(|p| p.n_unstable).collect(),
            operating_point: op,
            leading_moduli: leading,
            operating_distance: op.map_or(f64::NAN, |i| dist(&set.points[i].state)),
        }
    }

    /// Feature vector for distances between agents: `[ln(1 + points), stable fraction,
    /// mean unstable modes, leading |λ| …]` (NaN → 0).
    pub fn features(&self) -> Vec<f64> {
        let n = self.n_points as f64;
        let mut f = vec![
            (1.0 + n).ln(),
            if n > 0.0 { self.n_stable as f64 / n } else { 0.0 },
            if n > 0.0 { self.unstable_modes.iter().sum::<usize>() as f64 / n } else { 0.0 },
        ];
        f.extend(self.leading_moduli.iter().map(|v| if v.is_finite() { *v } else { 0.0 }));
        f
    }
}

/// `report.json` of the fixed-point probe.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FixedPointReport {
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
    /// Hidden width `H`.
    pub hidden: usize,
    /// State width (`2H` for an LSTM: `[h, c]`).
    pub state_dim: usize,
    /// The settings.
    pub config: FixedPointProbeConfig,
    /// The constant cell input `u`.
    pub input_vector: Vec<f64>,
    /// Recorded states (rows of `states.npy`).
    pub n_states: usize,
    /// Mean return of the recorded episodes.
    #[serde(with = "engram_envs::serde_nan::f64_or_null")]
    pub rollout_return_mean: f64,
    /// Unit of the time constants (`s` when the env's step is known, else `steps`).
    pub time_constant_unit: String,
    /// Every unique fixed point with `q`, eigenvalues by modulus, unstable modes, time constants.
    pub result: FixedPointSet,
    /// Count, stability pattern and leading eigenvalues.
    pub topology: TopologySummary,
    /// The topological signature at this input ([`crate::probe::topology`]): counts by type,
    /// limit cycles, and the stable-point transition graph up to isomorphism (absent in
    /// reports written before it existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<Signature>,
}

/// The input vector for `choice` from the recorded cell inputs `x` `[N, in]`.
fn input_vector(choice: ProbeInput, x: &Matrix, rollouts: &Rollouts) -> Result<Vec<f64>, AgentError> {
    Ok(match choice {
        ProbeInput::Zero => vec![0.0; x.cols()],
        ProbeInput::Mean => column_means(x),
        ProbeInput::Prep => {
            let phase = rollouts.info_column("phase").ok_or_else(|| {
                AgentError::Probe("--input prep needs a reaching env (info key `phase`); use zero or mean".into())
            })?;
            let rows: Vec<usize> = (0..x.rows()).filter(|&i| phase[i] == PREP_PHASE).collect();
            if rows.is_empty() {
                return Err(AgentError::Probe("no preparatory-period steps in the recording".into()));
            }
            column_means(&x.select_rows(&rows))
        }
    })
}

/// Runs the probe on `agent` with its recorded `rollouts`; returns the report and the
/// driven states `[N, S]`.
pub fn probe_fixed_points(
    agent: &ProbedAgent,
    rollouts: &Rollouts,
    cfg: &FixedPointProbeConfig,
) -> Result<(FixedPointReport, Matrix), AgentError> {
    if cfg.n_initial == 0 {
        return Err(AgentError::Probe("n_initial = 0: draw at least one initial state".into()));
    }
    let ranges = rollouts.episode_ranges();
    let states = driven_states(agent, &rollouts.obs, rollouts.obs_dim, &ranges);
    let x = agent.cell_inputs(&rollouts.obs, rollouts.rows());
    let u = input_vector(cfg.input, &x, rollouts)?;
    let xp = agent.map.input_projection(&u);
    let map = |s: &[f64]| agent.map.step_projected(s, &xp);
    let jac = |s: &[f64]| agent.map.jacobian_projected(s, &xp);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(cfg.seed);
    let n = states.rows();
    let picks: Vec<usize> = if cfg.n_initial <= n {
        sample(&mut rng, n, cfg.n_initial).into_vec()
    } else {
        (0..cfg.n_initial).map(|i| i % n).collect()
    };
    let noise = Normal::new(0.0, cfg.init_noise_std.max(0.0)).map_err(|e| AgentError::Probe(e.to_string()))?;
    let inits = Matrix::from_fn(picks.len(), states.cols(), |i, j| states.get(picks[i], j) + noise.sample(&mut rng));
    let dt = agent.dt_s();
    let search = FixedPointConfig { dt: dt.unwrap_or(1.0), ..cfg.search.clone() };
    let set = find_fixed_points(&map, Some(&jac), &inits, &search)?;
    let topology = TopologySummary::new(&set, &column_means(&states));
    let topo_cfg = TopologyConfig { fixed_points: search.clone(), ..TopologyConfig::default() };
    let sc = scaffold_from_set(&map, Some(&jac), &set, &inits, &topo_cfg)?;
    let signature = Some(Signature { conditions: vec![condition_signature(&sc)] });
    let mean_return = crate::stats::mean(&rollouts.returns);
    let report = FixedPointReport {
        schema_version: REPORT_SCHEMA_VERSION,
        run: agent.run.display().to_string(),
        checkpoint: agent.policy.dir.display().to_string(),
        env: agent.env().to_string(),
        architecture: agent.architecture(),
        hidden: agent.map.hidden(),
        state_dim: agent.map.state_dim(),
        config: FixedPointProbeConfig { search, ..cfg.clone() },
        input_vector: u,
        n_states: n,
        rollout_return_mean: mean_return,
        time_constant_unit: if dt.is_some() { "s".into() } else { "steps".into() },
        result: set,
        topology,
        signature,
    };
    Ok((report, states))
}

impl FixedPointReport {
    /// One line for the terminal: counts, unstable modes and where the report is.
    pub fn summary(&self, out: &Path) -> String {
        let t = &self.topology;
        let modes: Vec<String> = t.unstable_modes.iter().map(|m| m.to_string()).collect();
        format!(
            "{} {}: {} fixed points ({} stable), unstable modes [{}]; {}",
            self.env,
            self.architecture,
            t.n_points,
            t.n_stable,
            modes.join(", "),
            out.join("report.md").display()
        )
    }

    /// The Markdown summary.
    pub fn to_markdown(&self) -> String {
        let t = &self.topology;
        let mut md = format!(
            "# Fixed points: {} ({} {}, {} units)\n\n\
             Checkpoint `{}`, env {}, input `{}`, {} recorded states (rollout return {:.1}).\n\
             Search: {} on q(h) = ½‖F(h, u) − h‖² from {} initial states \
             (recorded states + N(0, {}²)), tol_q {:e}, unique within L2 {:e}, outliers beyond {}× \
             the initial spread dropped, points with q > {:e} dropped as slow points.\n\n\
             **{} fixed points, {} stable** ({} not converged, {} duplicates, {} outliers). \
             Stability: |λ|max < 1 is stable; time constants −dt/ln|λ| in {}.\n\n\
             | # | q | unstable modes | leading \\|λ\\| | slowest time constant |\n|---:|---:|---:|---|---:|\n",
            self.run,
            self.env,
            self.architecture,
            self.hidden,
            self.checkpoint,
            self.env,
            self.config.input.name(),
            self.n_states,
            self.rollout_return_mean,
            match self.config.search.method {
                crate::probe::dynamics::FixedPointMethod::LevenbergMarquardt => "Levenberg–Marquardt",
                crate::probe::dynamics::FixedPointMethod::Adam => "Adam (FixedPointFinder's adaptive rate)",
            },
            self.result.n_initial,
            self.config.init_noise_std,
            self.config.search.tol_q,
            self.config.search.tol_unique,
            self.config.search.outlier_distance_scale,
            self.config.search.max_q,
            t.n_points,
            t.n_stable,
            self.result.n_not_converged,
            self.result.n_duplicates,
            self.result.n_outliers,
            self.time_constant_unit,
        );
        for (i, p) in self.result.points.iter().enumerate() {
            let lead: Vec<String> = p.eigenvalues.iter().take(3).map(|e| format!("{:.4}", e.modulus())).collect();
            let slow = p.time_constants.iter().copied().filter(|v| *v > 0.0 && v.is_finite()).fold(0.0, f64::max);
            md.push_str(&format!(
                "| {i}{} | {:.2e} | {} | {} | {:.4} |\n",
                if Some(i) == t.operating_point { " (operating)" } else { "" },
                p.q,
                p.n_unstable,
                lead.join(", "),
                slow
            ));
        }
        md.push_str(
            "\nFiles: `report.json` (every point with its eigenvalues and time constants), \
             `fixed_points.npy` [points, state], `states.npy` [recorded steps, state], \
             `fixed_points.png/svg` (points over the first two PCs of the recorded states; \
             blue stable, orange one unstable mode, red more).\n",
        );
        md
    }

    /// Writes `report.json`, `report.md`, `fixed_points.npy`, `states.npy` and the figure
    /// into `out`.
    pub fn write(&self, states: &Matrix, out: &Path) -> Result<(), AgentError> {
        std::fs::create_dir_all(out).map_err(|e| fs_err(out, e))?;
        output::write_json(&out.join("report.json"), self)?;
        output::write_text(&out.join("report.md"), &self.to_markdown())?;
        let pts = Matrix::from_fn(self.result.points.len(), self.state_dim, |i, j| self.result.points[i].state[j]);
        output::write_matrix(&out.join("fixed_points.npy"), &pts)?;
        output::write_matrix(&out.join("states.npy"), states)?;
        let pca = Pca::fit(states)?;
        let k = pca.components.cols().min(2);
        let project = |m: &Matrix| -> Result<Matrix, AgentError> {
            let s = pca.transform(m, k)?;
            Ok(Matrix::from_fn(m.rows(), 2, |i, j| if j < k { s.get(i, j) } else { 0.0 }))
        };
        let pts2 = if pts.rows() > 0 { project(&pts)? } else { Matrix::zeros(0, 2) };
        let unstable: Vec<usize> = self.result.points.iter().map(|p| p.n_unstable).collect();
        super::figures::fixed_points(
            &out.join("fixed_points"),
            &project(states)?,
            &pts2,
            &unstable,
            &format!("{} {} fixed points (input {})", self.env, self.architecture, self.config.input.name()),
        )
    }
}
