//! The universality study's report: per env, geometry (CCA / Procrustes distances under
//! identical inputs, their MDS) beside topology (the fixed-point signature of
//! [`crate::probe::topology`] at the env's constant input: counts by type, limit cycles, the
//! stable-point transition graph up to isomorphism; compared by
//! [`crate::probe::topology::signature_distance`], the same language as the
//! universality-tasks study), and whether the agents cluster by architecture in one and not
//! the other (silhouette and nearest-neighbour agreement against label-permutation nulls).
//! The older feature summary (count, stable fraction, leading |λ|) is still saved as
//! `topology_features.npy`.

use super::UniversalityJob;
use crate::error::AgentError;
use crate::inspect::agent::ProbedAgent;
use crate::inspect::fixed_points_report::{FixedPointReport, N_LEADING};
use crate::inspect::lyapunov_report::LyapunovReport;
use crate::inspect::rollouts::Rollouts;
use crate::inspect::similarity_report::{probe_similarity, DistanceAnalysis, SimilarityReport};
use crate::inspect::{figures, io_err, output};
use crate::probe::topology::{signature_distance, Signature};
use crate::probe::Matrix;
use crate::stats::mean;
use crate::study::{Markers, Plan};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Schema tag of the report.
pub const UNIVERSALITY_REPORT_SCHEMA: &str = "engram.report.universality/1";

/// Names of the topology features ([`crate::inspect::fixed_points_report::TopologySummary::features`]).
pub fn topology_feature_names() -> Vec<String> {
    let mut v = vec!["ln(1 + fixed points)".into(), "stable fraction".into(), "mean unstable modes".into()];
    v.extend((1..=N_LEADING).map(|i| format!("|λ{i}| at operating point")));
    v
}

/// One agent's row.
#[derive(Debug, Clone, Serialize)]
pub struct AgentRow {
    /// Job id.
    pub id: String,
    /// Architecture.
    pub architecture: String,
    /// Hidden width.
    pub width: usize,
    /// Seed.
    pub seed: u64,
    /// Deterministic evaluation return at the end of training.
    #[serde(with = "crate::probe::json::f64_or_null")]
    pub eval_return: f64,
    /// Evaluation success rate, for envs that report success (CurlReach).
    pub eval_success: Option<f64>,
    /// Fixed points found.
    pub n_fixed_points: usize,
    /// Of which stable.
    pub n_stable: usize,
    /// Unstable modes per point.
    pub unstable_modes: Vec<usize>,
    /// Leading `|λ|` at the operating point.
    #[serde(with = "crate::probe::json::vec_f64_or_null")]
    pub leading_moduli: Vec<f64>,
    /// Constant input of the search.
    pub fixed_point_input: String,
    /// Largest Lyapunov exponent (per step, mean over episodes).
    #[serde(with = "crate::probe::json::f64_or_null")]
    pub largest_lyapunov: f64,
    /// The topological signature's key ([`crate::probe::topology::Signature::key`]).
    pub signature: String,
}

/// Mean distance within and between architectures.
#[derive(Debug, Clone, Serialize)]
pub struct WithinBetween {
    /// Mean over pairs of the same architecture.
    #[serde(with = "crate::probe::json::f64_or_null")]
    pub within: f64,
    /// Mean over pairs of different architectures.
    #[serde(with = "crate::probe::json::f64_or_null")]
    pub between: f64,
}

fn within_between(d: &Matrix, labels: &[String]) -> WithinBetween {
    let (mut w, mut b) = (vec![], vec![]);
    for i in 0..d.rows() {
        for j in i + 1..d.rows() {
            if labels[i] == labels[j] { &mut w } else { &mut b }.push(d.get(i, j));
        }
    }
    WithinBetween { within: mean(&w), between: mean(&b) }
}

/// One env's section.
#[derive(Debug, Clone, Serialize)]
pub struct EnvSection {
    /// Name in the config.
    pub name: String,
    /// Env id.
    pub env: String,
    /// The config's note.
    pub note: String,
    /// The agents.
    pub agents: Vec<AgentRow>,
    /// Geometry: the similarity report's clustering verdicts (full report in `similarity/`).
    pub geometry_procrustes: DistanceAnalysis,
    /// Geometry with `1 − mean CCA`.
    pub geometry_cca: DistanceAnalysis,
    /// Procrustes distance within vs between architectures.
    pub procrustes_within_between: WithinBetween,
    /// Mean CCA within vs between architectures.
    pub cca_within_between: WithinBetween,
    /// Topology: signature distances, MDS, clustering.
    pub topology: DistanceAnalysis,
    /// Agents holding the env's modal signature, per architecture `(arch, modal, agents)`.
    pub modal_signature_share: Vec<(String, usize, usize)>,
    /// The modal signature's key.
    pub modal_signature: String,
    /// Topology features `[agents, features]`.
    pub topology_features: Matrix,
    /// One sentence: where the agents cluster by architecture.
    pub conclusion: String,
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, AgentError> {
    let text = std::fs::read_to_string(path).map_err(|e| io_err(path, e))?;
    serde_json::from_str(&text).map_err(|e| io_err(path, e))
}

/// The verdict sentence; geometry means the Procrustes distance (the CCA verdict is listed
/// beside it in the report).
fn conclusion(geometry: Option<bool>, topology: Option<bool>) -> String {
    match (geometry, topology) {
        (Some(true), Some(false)) => {
            "Agents cluster by architecture in geometry (Procrustes) but not in topology (as Maheswaranathan et al. 2019 report)."
        }
        (Some(false), Some(true)) => "Agents cluster by architecture in topology but not in geometry (Procrustes).",
        (Some(true), Some(true)) => "Agents cluster by architecture in both geometry (Procrustes) and topology.",
        (Some(false), Some(false)) => {
            "Agents cluster by architecture in neither geometry (Procrustes) nor topology (beyond chance)."
        }
        _ => "Clustering not tested (needs two architectures and three agents).",
    }
    .into()
}

fn env_section(plan: &Plan, dir: &Path, name: &str, out: &Path) -> Result<EnvSection, AgentError> {
    let mut agents = vec![];
    let mut rollouts = vec![];
    let mut rows = vec![];
    let mut sim_cfg = None;
    let mut note_env = String::new();
    let mut feats: Vec<Vec<f64>> = vec![];
    let mut sigs: Vec<Signature> = vec![];
    for j in &plan.jobs {
        let spec: UniversalityJob = toml::from_str(&j.config).map_err(|e| io_err(Path::new(&j.id), e))?;
        if spec.env != name {
            continue;
        }
        let jd = dir.join(&j.out_dir);
        let fp: FixedPointReport = read_json(&jd.join("probe/fixed-points/report.json"))?;
        let ly: LyapunovReport = read_json(&jd.join("probe/lyapunov/report.json"))?;
        let done = Markers::new(&jd).done().unwrap_or_default();
        note_env = fp.env.clone();
        rows.push(AgentRow {
            id: j.id.clone(),
            architecture: spec.architecture.as_str().into(),
            width: spec.width,
            seed: j.seed,
            eval_return: done["eval_return_mean"].as_f64().unwrap_or(f64::NAN),
            eval_success: done["eval_success_rate"].as_f64(),
            n_fixed_points: fp.topology.n_points,
            n_stable: fp.topology.n_stable,
            unstable_modes: fp.topology.unstable_modes.clone(),
            leading_moduli: fp.topology.leading_moduli.clone(),
            fixed_point_input: fp.config.input.name().to_string(),
            largest_lyapunov: ly.mean_per_step.first().copied().unwrap_or(f64::NAN),
            signature: fp.signature.as_ref().map(|s| s.key()).unwrap_or_default(),
        });
        sigs.push(fp.signature.clone().unwrap_or(Signature { conditions: vec![] }));
        let agent = ProbedAgent::load(&jd)?;
        rollouts.push(Rollouts::load(&jd.join("probe/rollouts"))?);
        agents.push(agent);
        sim_cfg.get_or_insert(spec.similarity.clone());
        feats.push(fp.topology.features());
    }
    let sim_cfg = sim_cfg.ok_or_else(|| AgentError::Probe(format!("no jobs for env {name}")))?;
    let sim: SimilarityReport = probe_similarity(&agents, &rollouts, &sim_cfg)?;
    sim.write(&out.join("similarity"))?;
    let labels: Vec<String> = rows.iter().map(|r| r.architecture.clone()).collect();
    let features = Matrix::from_rows(&feats)?;
    let sig_d = Matrix::from_fn(sigs.len(), sigs.len(), |i, j| signature_distance(&sigs[i], &sigs[j]));
    let topo = DistanceAnalysis::new(
        "topology (fixed-point signature distance)",
        sig_d,
        &labels,
        sim_cfg.n_permutations,
        sim_cfg.seed + 2,
    )?;
    figures::embedding(
        &out.join("topology_mds"),
        &topo.mds.coords,
        &labels,
        &format!("{name}: MDS of topology distances"),
    )?;
    figures::heatmap(
        &out.join("topology_distances"),
        &topo.matrix,
        &rows.iter().map(|r| r.id.clone()).collect::<Vec<_>>(),
        &format!("{name}: topology distance"),
    )?;
    output::write_matrix(&out.join("topology_features.npy"), &features)?;
    let cca_sim = Matrix::from_fn(rows.len(), rows.len(), |i, j| 1.0 - sim.cca_distance.matrix.get(i, j));
    let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
    for r in &rows {
        *counts.entry(r.signature.as_str()).or_default() += 1;
    }
    let modal =
        counts.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0))).map(|(k, _)| k.to_string()).unwrap_or_default();
    let mut archs: Vec<String> = vec![];
    for r in &rows {
        if !archs.contains(&r.architecture) {
            archs.push(r.architecture.clone());
        }
    }
    let modal_signature_share = archs
        .iter()
        .map(|a| {
            let of: Vec<&AgentRow> = rows.iter().filter(|r| &r.architecture == a).collect();
            (a.clone(), of.iter().filter(|r| r.signature == modal).count(), of.len())
        })
        .collect();
    let section = EnvSection {
        modal_signature_share,
        modal_signature: modal,
        name: name.into(),
        env: note_env,
        note: String::new(),
        procrustes_within_between: within_between(&sim.procrustes.matrix, &labels),
        cca_within_between: within_between(&cca_sim, &labels),
        conclusion: conclusion(sim.procrustes.clusters(), topo.clusters()),
        geometry_procrustes: sim.procrustes,
        geometry_cca: sim.cca_distance,
        topology: topo,
        topology_features: features,
        agents: rows,
    };
    Ok(section)
}

/// Writes `report.json`, `report.md` and per-env figures (`<env>/similarity/`,
/// `<env>/topology_mds.png`, ...) into the study directory `dir`; returns the Markdown path.
pub fn write_report(plan: &Plan, dir: &Path) -> Result<PathBuf, AgentError> {
    let mut names: Vec<String> = vec![];
    let mut notes: Vec<String> = vec![];
    for j in &plan.jobs {
        let spec: UniversalityJob = toml::from_str(&j.config).map_err(|e| io_err(Path::new(&j.id), e))?;
        if !names.contains(&spec.env) {
            names.push(spec.env.clone());
            notes.push(spec.note.clone());
        }
    }
    let mut sections = vec![];
    for (name, note) in names.iter().zip(&notes) {
        let mut s = env_section(plan, dir, name, &dir.join(name))?;
        s.note = note.clone();
        sections.push(s);
    }
    let report = serde_json::json!({
        "schema": UNIVERSALITY_REPORT_SCHEMA,
        "engram_version": plan.engram_version,
        "plan_config_hash": plan.config_hash,
        "topology_features": topology_feature_names(),
        "envs": sections,
    });
    output::write_json(&dir.join("report.json"), &report)?;
    let md = markdown(plan, &sections);
    let path = dir.join("report.md");
    output::write_text(&path, &md)?;
    Ok(path)
}

fn markdown(plan: &Plan, sections: &[EnvSection]) -> String {
    let mut md = format!(
        "# Universality study report\n\nPlan config hash `{}`, engram {}, {} agents. Geometry: \
         representational distances between agents under identical inputs (pooled recorded \
         episodes drive every cell; Procrustes angle in [0, π/2], lower = more similar; mean CCA \
         in [0, 1], higher = more similar; shuffled baselines in `<env>/similarity/report.md`). \
         Topology: fixed points of each cell at a constant input (count, stability pattern, \
         leading |λ| at the operating point nearest the mean state) and their signature (counts \
         of stable points, saddles by index, sources and limit cycles, and the graph of \
         transitions between stable points through index-1 saddles, up to isomorphism), \
         compared by the signature distance (0 = same signature). Clustering by architecture: silhouette ([−1, 1]) and \
         nearest-neighbour agreement ([0, 1]), each against 1-sided label-permutation nulls \
         (p < 0.05 on either counts as clustering).\n",
        plan.config_hash,
        plan.engram_version,
        plan.jobs.len()
    );
    for s in sections {
        md.push_str(&format!("\n## {} ({})\n\n", s.name, s.env));
        if !s.note.is_empty() {
            md.push_str(&format!("**Note.** {}\n\n", s.note));
        }
        md.push_str("| agent | arch | H | eval return | input | fixed points (stable) | unstable modes | leading \\|λ\\| | λ₁ Lyapunov /step |\n|---|---|---:|---:|---|---:|---|---|---:|\n");
        for a in &s.agents {
            let lead: Vec<String> = a.leading_moduli.iter().take(3).map(|v| format!("{v:.3}")).collect();
            let success = a.eval_success.map_or(String::new(), |s| format!(" ({:.0} % success)", 100.0 * s));
            md.push_str(&format!(
                "| {} | {} | {} | {:.1}{success} | {} | {} ({}) | {} | {} | {:.3} |\n",
                a.id,
                a.architecture,
                a.width,
                a.eval_return,
                a.fixed_point_input,
                a.n_fixed_points,
                a.n_stable,
                a.unstable_modes.iter().map(|m| m.to_string()).collect::<Vec<_>>().join(", "),
                lead.join(", "),
                a.largest_lyapunov
            ));
        }
        md.push_str(&format!(
            "\n- Geometry, Procrustes distance: within architecture {:.3}, between {:.3}; {}.\n\
             - Geometry, CCA: mean CCA within architecture {:.3}, between {:.3}; (1 − CCA) {}.\n\
             - Topology: {}; modal signature `{}` held by {}.\n\n**{}**\n\nFigures: `{n}/similarity/mds.png` (geometry MDS), \
             `{n}/similarity/distances.png`, `{n}/topology_mds.png`, `{n}/topology_distances.png`; \
             per agent `jobs/<id>/probe/fixed-points/fixed_points.png` and `.../lyapunov/spectrum.png`.\n",
            s.procrustes_within_between.within,
            s.procrustes_within_between.between,
            s.geometry_procrustes.verdict(),
            s.cca_within_between.within,
            s.cca_within_between.between,
            s.geometry_cca.verdict(),
            s.topology.verdict(),
            s.modal_signature,
            s.modal_signature_share
                .iter()
                .map(|(a, m, n)| format!("{m}/{n} {a}"))
                .collect::<Vec<_>>()
                .join(", "),
            s.conclusion,
            n = s.name
        ));
    }
    md
}
