//! `engram probe similarity`: representational similarity across agents under identical
//! inputs, the population's distance matrix and MDS embedding, and whether the agents
//! cluster by architecture.
//!
//! Identical inputs: every run contributes its recorded deterministic episodes; the pooled
//! observation sequences drive every agent's cell (from a zero state at each episode start),
//! so the rows of all agents' state matrices are matched samples. Each agent is represented
//! by its cell output `h` `[samples, H]`. Every score has a shuffled baseline beside it: the
//! same score with the rows of one agent's states permuted (pairing destroyed).

use super::agent::ProbedAgent;
use super::rollouts::{driven_states, Rollouts};
use super::{fs_err, output, REPORT_SCHEMA_VERSION};
use crate::error::AgentError;
use crate::policy::Policy;
use crate::probe::mds::{classical_mds, clustering, Clustering, Embedding};
use crate::probe::similarity::{cca, shape_distance, svcca};
use crate::probe::Matrix;
use crate::stats::NullSummary;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use std::ops::Range;
use std::path::Path;

/// Settings of the similarity probe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimilarityConfig {
    /// At most this many pooled samples (evenly spaced rows) enter the scores.
    pub max_samples: usize,
    /// Principal components kept by SVCCA.
    pub svcca_k: usize,
    /// Partial-whitening parameter of the generalized shape metric (0 whitened … 1 Procrustes).
    pub shape_alpha: f64,
    /// Row shuffles per pair for the baseline.
    pub n_shuffles: usize,
    /// Label permutations for the clustering nulls; when the partitions of the agents by
    /// architecture are at most this many, all of them are enumerated instead (exact p).
    pub n_permutations: usize,
    /// Seed of the shuffles and permutations.
    pub seed: u64,
}

impl Default for SimilarityConfig {
    fn default() -> Self {
        Self { max_samples: 2000, svcca_k: 10, shape_alpha: 0.5, n_shuffles: 10, n_permutations: 1000, seed: 0 }
    }
}

/// What a score measures, its range and which way is "more similar".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreInfo {
    /// Key.
    pub name: String,
    /// What it is.
    pub description: String,
    /// Its range.
    pub range: String,
    /// Which direction means more similar.
    pub direction: String,
}

/// The scores, in the order of [`PairScores::values`].
pub fn score_infos(cfg: &SimilarityConfig) -> Vec<ScoreInfo> {
    let s = |n: &str, d: String, r: &str, dir: &str| ScoreInfo {
        name: n.into(),
        description: d,
        range: r.into(),
        direction: dir.into(),
    };
    vec![
        s("cca", "mean canonical correlation (QR + SVD)".into(), "[0, 1]", "higher = more similar"),
        s(
            "svcca",
            format!("mean canonical correlation of the top {} PCs (SVCCA)", cfg.svcca_k),
            "[0, 1]",
            "higher = more similar",
        ),
        s(
            "procrustes",
            "angular Procrustes shape distance, rotation only (radians)".into(),
            "[0, π/2]",
            "lower = more similar",
        ),
        s(
            "shape",
            format!("generalized shape distance, partial whitening α = {} (radians)", cfg.shape_alpha),
            "[0, π/2]",
            "lower = more similar",
        ),
    ]
}

/// One score of one pair with its shuffled baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreValue {
    /// The score.
    #[serde(with = "engram_envs::serde_nan::f64_or_null")]
    pub value: f64,
    /// The same score with one agent's rows shuffled.
    pub shuffled: NullSummary,
}

/// The scores of a pair of agents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairScores {
    /// Index of the first agent.
    pub a: usize,
    /// Index of the second agent.
    pub b: usize,
    /// One value per [`score_infos`] entry.
    pub values: Vec<ScoreValue>,
}

/// An agent of the population.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentInfo {
    /// Short name.
    pub name: String,
    /// Run directory.
    pub run: String,
    /// `rnn|gru|lstm`.
    pub architecture: String,
    /// Hidden width.
    pub hidden: usize,
    /// Mean return of its recorded episodes.
    #[serde(with = "engram_envs::serde_nan::f64_or_null")]
    pub return_mean: f64,
}

/// Whether the population clusters by architecture under one distance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DistanceAnalysis {
    /// Which distance.
    pub distance: String,
    /// `[agents, agents]`.
    pub matrix: Matrix,
    /// 2-D classical MDS.
    pub mds: Embedding,
    /// Silhouette and nearest-neighbour agreement by architecture, with permutation nulls
    /// (None with fewer than two architectures or three agents).
    pub by_architecture: Option<Clustering>,
}

impl DistanceAnalysis {
    /// MDS and clustering of the distance matrix `d` with architecture `labels`.
    pub fn new(distance: &str, d: Matrix, labels: &[String], n_perm: usize, seed: u64) -> Result<Self, AgentError> {
        let mds = classical_mds(&d, 2)?;
        let ids = label_ids(labels);
        let distinct = ids.iter().max().map_or(0, |m| m + 1);
        let by_architecture = if distinct >= 2 && labels.len() >= 3 {
            Some(clustering(&d, &ids, n_perm, &mut rand_chacha::ChaCha8Rng::seed_from_u64(seed))?)
        } else {
            None
        };
        Ok(Self { distance: distance.into(), matrix: d, mds, by_architecture })
    }

    /// One sentence on whether the agents cluster by architecture.
    pub fn verdict(&self) -> String {
        match &self.by_architecture {
            None => "not tested (needs two architectures and three agents)".into(),
            Some(c) => {
                let yes = c.silhouette_null.p_upper < 0.05 || c.nn_agreement_null.p_upper < 0.05;
                format!(
                    "{}: silhouette {:.3} (null {:.3} [{:.3}, {:.3}], p = {:.3}); nearest-neighbour agreement {:.2} (null {:.2} [{:.2}, {:.2}], p = {:.3})",
                    if yes { "clusters by architecture" } else { "no clustering by architecture beyond chance" },
                    c.silhouette,
                    c.silhouette_null.mean,
                    c.silhouette_null.lo,
                    c.silhouette_null.hi,
                    c.silhouette_null.p_upper,
                    c.nn_agreement,
                    c.nn_agreement_null.mean,
                    c.nn_agreement_null.lo,
                    c.nn_agreement_null.hi,
                    c.nn_agreement_null.p_upper,
                )
            }
        }
    }

    /// Whether either clustering score beats its null at p < 0.05 (one-sided).
    pub fn clusters(&self) -> Option<bool> {
        self.by_architecture.as_ref().map(|c| c.silhouette_null.p_upper < 0.05 || c.nn_agreement_null.p_upper < 0.05)
    }
}

/// Label strings as indices (in sorted order of the distinct labels).
pub fn label_ids(labels: &[String]) -> Vec<usize> {
    let mut distinct: Vec<&String> = labels.iter().collect();
    distinct.sort();
    distinct.dedup();
    labels.iter().map(|l| distinct.iter().position(|d| *d == l).expect("present")).collect()
}

/// `report.json` of the similarity probe.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SimilarityReport {
    /// [`REPORT_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Env id shared by the agents.
    pub env: String,
    /// The settings.
    pub config: SimilarityConfig,
    /// The agents, in matrix order.
    pub agents: Vec<AgentInfo>,
    /// Pooled episodes (identical inputs) and samples used.
    pub n_episodes: usize,
    /// Samples (rows) entering the scores.
    pub n_samples: usize,
    /// What each score means.
    pub scores: Vec<ScoreInfo>,
    /// Every pair.
    pub pairs: Vec<PairScores>,
    /// Procrustes distance: matrix, MDS, clustering.
    pub procrustes: DistanceAnalysis,
    /// `1 − mean CCA`: matrix, MDS, clustering.
    pub cca_distance: DistanceAnalysis,
}

/// The pooled inputs: every recording's episodes, concatenated; returns (obs, ranges).
fn pool(rollouts: &[Rollouts]) -> (Vec<f32>, Vec<Range<usize>>) {
    let (mut obs, mut ranges, mut offset) = (Vec::new(), Vec::new(), 0);
    for r in rollouts {
        obs.extend_from_slice(&r.obs);
        ranges.extend(r.episode_ranges().into_iter().map(|e| e.start + offset..e.end + offset));
        offset += r.rows();
    }
    (obs, ranges)
}

fn scores(x: &Matrix, y: &Matrix, cfg: &SimilarityConfig) -> Result<[f64; 4], AgentError> {
    Ok([
        cca(x, y)?.mean(),
        svcca(x, y, cfg.svcca_k)?.mean(),
        shape_distance(x, y, 1.0)?,
        shape_distance(x, y, cfg.shape_alpha)?,
    ])
}

/// Cell outputs `h` of every agent under the pooled inputs, `[samples, H]` each.
pub fn matched_states(
    agents: &[ProbedAgent],
    rollouts: &[Rollouts],
    max_samples: usize,
) -> Result<Vec<Matrix>, AgentError> {
    let first = agents.first().ok_or_else(|| AgentError::Probe("no runs given".into()))?;
    for a in agents {
        if a.env() != first.env() || a.policy.net.obs_dim() != first.policy.net.obs_dim() {
            return Err(AgentError::Probe(format!(
                "{} is trained on {} and {} on {}: similarity needs identical inputs (one env)",
                first.run.display(),
                first.env(),
                a.run.display(),
                a.env()
            )));
        }
    }
    let (obs, ranges) = pool(rollouts);
    let n = ranges.last().map_or(0, |r| r.end);
    let stride = n.div_ceil(max_samples.max(1)).max(1);
    let rows: Vec<usize> = (0..n).step_by(stride).collect();
    Ok(agents
        .iter()
        .map(|a| {
            let s = driven_states(a, &obs, rollouts[0].obs_dim, &ranges);
            let h = a.map.hidden();
            Matrix::from_fn(rows.len(), h, |i, j| s.get(rows[i], j))
        })
        .collect())
}

/// Runs the probe over `agents` with their recordings (`rollouts[i]` from `agents[i]`).
pub fn probe_similarity(
    agents: &[ProbedAgent],
    rollouts: &[Rollouts],
    cfg: &SimilarityConfig,
) -> Result<SimilarityReport, AgentError> {
    if agents.len() < 2 || agents.len() != rollouts.len() {
        return Err(AgentError::Probe(format!("similarity needs two or more runs, got {}", agents.len())));
    }
    let states = matched_states(agents, rollouts, cfg.max_samples)?;
    let n_samples = states[0].rows();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(cfg.seed);
    let n = agents.len();
    let mut pairs = Vec::new();
    let mut proc = Matrix::zeros(n, n);
    let mut ccad = Matrix::zeros(n, n);
    for a in 0..n {
        for b in a + 1..n {
            let observed = scores(&states[a], &states[b], cfg)?;
            let mut nulls = vec![Vec::new(); 4];
            let mut perm: Vec<usize> = (0..n_samples).collect();
            for _ in 0..cfg.n_shuffles {
                perm.shuffle(&mut rng);
                let s = scores(&states[a], &states[b].select_rows(&perm), cfg)?;
                for (k, v) in s.iter().enumerate() {
                    nulls[k].push(*v);
                }
            }
            let values = observed
                .iter()
                .zip(&nulls)
                .map(|(v, nl)| ScoreValue { value: *v, shuffled: NullSummary::new(*v, nl) })
                .collect();
            pairs.push(PairScores { a, b, values });
            for (i, j) in [(a, b), (b, a)] {
                proc.set(i, j, observed[2]);
                ccad.set(i, j, 1.0 - observed[0]);
            }
        }
    }
    let labels: Vec<String> = agents.iter().map(|a| a.architecture()).collect();
    let infos = agents
        .iter()
        .zip(rollouts)
        .map(|(a, r)| AgentInfo {
            name: a.name(),
            run: a.run.display().to_string(),
            architecture: a.architecture(),
            hidden: a.map.hidden(),
            return_mean: crate::stats::mean(&r.returns),
        })
        .collect();
    Ok(SimilarityReport {
        schema_version: REPORT_SCHEMA_VERSION,
        env: agents[0].env().to_string(),
        config: cfg.clone(),
        agents: infos,
        n_episodes: rollouts.iter().map(|r| r.episode_ranges().len()).sum(),
        n_samples,
        scores: score_infos(cfg),
        pairs,
        procrustes: DistanceAnalysis::new("procrustes", proc, &labels, cfg.n_permutations, cfg.seed)?,
        cca_distance: DistanceAnalysis::new("1 - mean CCA", ccad, &labels, cfg.n_permutations, cfg.seed + 1)?,
    })
}

impl SimilarityReport {
    /// One line for the terminal: the agents, the Procrustes verdict and where the report is.
    pub fn summary(&self, out: &Path) -> String {
        format!(
            "{} agents on {}: Procrustes {}; {}",
            self.agents.len(),
            self.env,
            self.procrustes.verdict(),
            out.join("report.md").display()
        )
    }

    /// The Markdown summary.
    pub fn to_markdown(&self) -> String {
        let mut md = format!(
            "# Representational similarity across {} agents ({})\n\n\
             Identical inputs: {} recorded episodes pooled from all runs drive every agent's cell \
             from a zero state; {} evenly spaced samples of the cell output h. Beside every value, \
             the shuffled baseline: mean [95% interval] of the same score with one agent's rows \
             permuted ({} shuffles).\n\n| score | meaning | range | direction |\n|---|---|---|---|\n",
            self.agents.len(),
            self.env,
            self.n_episodes,
            self.n_samples,
            self.config.n_shuffles
        );
        for s in &self.scores {
            md.push_str(&format!("| {} | {} | {} | {} |\n", s.name, s.description, s.range, s.direction));
        }
        md.push_str("\n| agent | architecture | H | return |\n|---|---|---:|---:|\n");
        for a in &self.agents {
            md.push_str(&format!("| {} | {} | {} | {:.1} |\n", a.name, a.architecture, a.hidden, a.return_mean));
        }
        md.push_str("\n| pair |");
        for s in &self.scores {
            md.push_str(&format!(" {} (shuffled) |", s.name));
        }
        md.push_str(&format!("\n|---|{}\n", "---|".repeat(self.scores.len())));
        for p in &self.pairs {
            md.push_str(&format!("| {} – {} |", self.agents[p.a].name, self.agents[p.b].name));
            for v in &p.values {
                md.push_str(&format!(
                    " {:.3} ({:.3} [{:.3}, {:.3}]) |",
                    v.value, v.shuffled.mean, v.shuffled.lo, v.shuffled.hi
                ));
            }
            md.push('\n');
        }
        md.push_str(&format!(
            "\n**Clustering by architecture.** Procrustes distance: {}. CCA distance: {}.\n\n\
             Files: `report.json`, `distance_procrustes.npy`, `distance_cca.npy` [agents, agents], \
             `mds.npy` [agents, 2], `distances.png/svg` (heat map), `mds.png/svg` (2-D MDS of the \
             Procrustes distances coloured by architecture).\n",
            self.procrustes.verdict(),
            self.cca_distance.verdict()
        ));
        md
    }

    /// Writes `report.json`, `report.md`, the matrices and the figures into `out`.
    pub fn write(&self, out: &Path) -> Result<(), AgentError> {
        std::fs::create_dir_all(out).map_err(|e| fs_err(out, e))?;
        output::write_json(&out.join("report.json"), self)?;
        output::write_text(&out.join("report.md"), &self.to_markdown())?;
        output::write_matrix(&out.join("distance_procrustes.npy"), &self.procrustes.matrix)?;
        output::write_matrix(&out.join("distance_cca.npy"), &self.cca_distance.matrix)?;
        output::write_matrix(&out.join("mds.npy"), &self.procrustes.mds.coords)?;
        let names: Vec<String> = self.agents.iter().map(|a| a.name.clone()).collect();
        let labels: Vec<String> = self.agents.iter().map(|a| a.architecture.clone()).collect();
        super::figures::heatmap(
            &out.join("distances"),
            &self.procrustes.matrix,
            &names,
            &format!("{}: Procrustes distance (rad)", self.env),
        )?;
        super::figures::embedding(
            &out.join("mds"),
            &self.procrustes.mds.coords,
            &labels,
            &format!("{}: MDS of Procrustes distances", self.env),
        )
    }
}
