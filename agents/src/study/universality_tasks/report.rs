//! The universality-tasks report: per task, geometry (SVCCA and CCA distances between the
//! networks' probe states, MDS coloured by architecture, clustering by architecture against
//! the label-permutation null) beside topology (signatures: counts, the modal signature's
//! share per architecture, clustering of the signature distance), the linearization spectra
//! at the stable fixed points, one fixed-point figure per architecture, and the verdict by the
//! rule stated in the module docs of [`super`]. Holm correction over every p-value of the
//! report.

use super::{NetworkSummary, UniversalityTasksConfig};
use crate::error::AgentError;
use crate::inspect::figures;
use crate::probe::linalg::Pca;
use crate::probe::mds::{classical_mds, clustering, Clustering};
use crate::probe::similarity::{cca, svcca};
use crate::probe::topology::{signature_distance, PointKind, Scaffold};
use crate::probe::Matrix;
use crate::study::Plan;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Schema of `report.json`.
pub const SCHEMA: &str = "engram.universality-tasks/1";
/// Probe-state rows kept per network for CCA (evenly strided).
const MAX_ROWS: usize = 1200;
/// Significance level of the pre-registered rule (Holm-corrected).
const ALPHA: f64 = 0.05;
/// Seed of the permutation nulls.
const NULL_SEED: u64 = 18;

/// One clustering test.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Test {
    /// `geometry-svcca`, `geometry-cca` or `topology-signature`.
    pub space: String,
    /// Silhouette and nearest-neighbour statistics with their nulls.
    pub clustering: Clustering,
    /// Holm-corrected silhouette p (over every test of the report).
    pub p_holm: f64,
}

/// One architecture within a task.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ArchRow {
    /// Architecture.
    pub arch: String,
    /// Networks run.
    pub run: usize,
    /// Networks at criterion (included).
    pub included: usize,
    /// Included networks holding the task's modal signature.
    pub modal: usize,
    /// Mean of the leading three eigenvalue moduli at the stable fixed points (first
    /// condition), over included networks with any.
    pub stable_moduli: Vec<f64>,
    /// Mean number of fixed points per condition.
    pub mean_points: f64,
}

/// One task's section.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TaskReport {
    /// Task name.
    pub task: String,
    /// Condition labels.
    pub conditions: Vec<String>,
    /// Per architecture.
    pub archs: Vec<ArchRow>,
    /// The modal signature's key.
    pub modal_signature: String,
    /// Distinct signatures among included networks.
    pub n_signatures: usize,
    /// Clustering tests (empty with fewer than two architectures of ≥ 2 networks).
    pub tests: Vec<Test>,
    /// Geometry individual (SVCCA Holm p < α).
    pub geometry_individual: Option<bool>,
    /// Topology shared (every architecture's modal share ≥ the config's `universal_share`).
    pub topology_shared: Option<bool>,
    /// Both: the paper's finding on this task.
    pub reproduced: Option<bool>,
}

/// `report.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    /// [`SCHEMA`].
    pub schema: String,
    /// engram version.
    pub engram_version: String,
    /// Plan hash.
    pub plan_hash: String,
    /// Seeds.
    pub seeds: Vec<u64>,
    /// Jobs planned, and with a summary.
    pub jobs: (usize, usize),
    /// Time split: fitting and probing, summed over jobs, seconds.
    pub seconds: (f64, f64),
    /// Per task.
    pub tasks: Vec<TaskReport>,
}

fn load_states(dir: &Path, rows: usize) -> Result<Matrix, AgentError> {
    let path = dir.join("probe/states.f32");
    let bytes = std::fs::read(&path).map_err(|e| AgentError::io(&path, e))?;
    let vals: Vec<f64> = bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64).collect();
    let cols = vals.len() / rows.max(1);
    let stride = rows.div_ceil(MAX_ROWS).max(1);
    let keep: Vec<usize> = (0..rows).step_by(stride).collect();
    Matrix::new(rows, cols, vals).map(|m| m.select_rows(&keep))
}

fn pairwise(n: usize, mut f: impl FnMut(usize, usize) -> Result<f64, AgentError>) -> Result<Matrix, AgentError> {
    let mut d = Matrix::zeros(n, n);
    for i in 0..n {
        for j in i + 1..n {
            let v = f(i, j)?;
            d.set(i, j, v);
            d.set(j, i, v);
        }
    }
    Ok(d)
}

/// Writes `report/report.{json,md}` and figures into the study directory; returns the
/// Markdown path.
pub fn write_report(plan: &Plan, dir: &Path) -> Result<PathBuf, AgentError> {
    // The report's settings travel in every job (identical across the plan).
    let cfg_text = plan.jobs.first().map(|j| j.config.clone()).unwrap_or_default();
    let d = UniversalityTasksConfig::default();
    let (universal_share, svcca_dims, n_perm) = match toml::from_str::<super::UniversalityTasksJob>(&cfg_text) {
        Ok(j) => (j.universal_share, j.svcca_dims, j.n_perm),
        Err(_) => (d.universal_share, d.svcca_dims, d.n_perm),
    };
    let out = dir.join("report");
    std::fs::create_dir_all(&out).map_err(|e| AgentError::io(&out, e))?;
    let mut nets: Vec<(PathBuf, NetworkSummary, f64, f64)> = Vec::new();
    for job in &plan.jobs {
        let jd = dir.join(&job.out_dir);
        if let Ok(s) = crate::io::read_json::<NetworkSummary>(&jd.join("probe/summary.json")) {
            let t = crate::io::read_json::<serde_json::Value>(&jd.join("probe/timing.json")).ok();
            let sec = |k: &str| t.as_ref().and_then(|t| t[k].as_f64()).unwrap_or(0.0);
            nets.push((jd, s, sec("fit_s"), sec("probe_s")));
        }
    }
    let mut task_names: Vec<String> = Vec::new();
    for (_, s, _, _) in &nets {
        if !task_names.contains(&s.task) {
            task_names.push(s.task.clone());
        }
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(NULL_SEED);
    let mut tasks = Vec::new();
    for name in &task_names {
        let all: Vec<&(PathBuf, NetworkSummary, f64, f64)> = nets.iter().filter(|n| &n.1.task == name).collect();
        let inc: Vec<&(PathBuf, NetworkSummary, f64, f64)> =
            all.iter().copied().filter(|n| n.1.reached_criterion).collect();
        let mut archs: Vec<String> = Vec::new();
        for n in &all {
            if !archs.contains(&n.1.arch) {
                archs.push(n.1.arch.clone());
            }
        }
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for n in &inc {
            *counts.entry(n.1.signature_key.as_str()).or_default() += 1;
        }
        let modal = counts.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0))).map(|(k, _)| k.to_string());
        let modal = modal.unwrap_or_default();
        let rows: Vec<ArchRow> = archs
            .iter()
            .map(|a| {
                let of: Vec<&NetworkSummary> = inc.iter().filter(|n| &n.1.arch == a).map(|n| &n.1).collect();
                let mut lead = vec![Vec::new(); 3];
                for s in &of {
                    for (k, m) in s.spectra.first().into_iter().flatten() {
                        if *k == 0 {
                            for (i, v) in m.iter().take(3).enumerate() {
                                lead[i].push(*v);
                            }
                        }
                    }
                }
                let points: Vec<f64> = of
                    .iter()
                    .map(|s| s.spectra.iter().map(Vec::len).sum::<usize>() as f64 / s.spectra.len().max(1) as f64)
                    .collect();
                ArchRow {
                    arch: a.clone(),
                    run: all.iter().filter(|n| &n.1.arch == a).count(),
                    included: of.len(),
                    modal: of.iter().filter(|s| s.signature_key == modal).count(),
                    stable_moduli: lead.iter().map(|v| crate::stats::mean(v)).collect(),
                    mean_points: crate::stats::mean(&points),
                }
            })
            .collect();
        // Geometry and topology distances among included networks.
        let labels: Vec<usize> = inc.iter().map(|n| archs.iter().position(|a| a == &n.1.arch).unwrap_or(0)).collect();
        let groups = rows.iter().filter(|r| r.included >= 2).count();
        let mut tests = Vec::new();
        let tdir = out.join(name);
        std::fs::create_dir_all(&tdir).map_err(|e| AgentError::io(&tdir, e))?;
        if groups >= 2 && inc.len() >= 4 {
            let states: Vec<Matrix> =
                inc.iter().map(|n| load_states(&n.0, n.1.state_rows)).collect::<Result<_, _>>()?;
            let k = |i: usize, j: usize| svcca_dims.min(states[i].cols()).min(states[j].cols());
            let d_svcca = pairwise(inc.len(), |i, j| Ok(1.0 - svcca(&states[i], &states[j], k(i, j))?.mean()))?;
            let d_cca = pairwise(inc.len(), |i, j| Ok(1.0 - cca(&states[i], &states[j])?.mean()))?;
            let d_sig = pairwise(inc.len(), |i, j| Ok(signature_distance(&inc[i].1.signature, &inc[j].1.signature)))?;
            let arch_labels: Vec<String> = inc.iter().map(|n| n.1.arch.clone()).collect();
            for (space, d, what) in [
                ("geometry-svcca", &d_svcca, "SVCCA distance (1 − mean canonical correlation)"),
                ("geometry-cca", &d_cca, "CCA distance (1 − mean canonical correlation)"),
                ("topology-signature", &d_sig, "signature distance"),
            ] {
                let emb = classical_mds(d, 2)?;
                figures::embedding(
                    &tdir.join(format!("mds_{space}")),
                    &emb.coords,
                    &arch_labels,
                    &format!("{name}: MDS of the {what}"),
                )?;
                tests.push(Test {
                    space: space.into(),
                    clustering: clustering(d, &labels, n_perm, &mut rng)?,
                    p_holm: f64::NAN,
                });
            }
        }
        // One fixed-point figure per architecture: its first included network.
        for a in &archs {
            if let Some(n) = inc.iter().find(|n| &n.1.arch == a) {
                fixed_point_figure(&n.0, &n.1, &tdir.join(format!("fixed_points_{a}")))?;
            }
        }
        tasks.push(TaskReport {
            task: name.clone(),
            conditions: all.first().map(|n| n.1.conditions.clone()).unwrap_or_default(),
            archs: rows,
            modal_signature: modal,
            n_signatures: counts.len(),
            tests,
            geometry_individual: None,
            topology_shared: None,
            reproduced: None,
        });
    }
    // Holm over every silhouette p of the report.
    let raw: Vec<f64> =
        tasks.iter().flat_map(|t| t.tests.iter().map(|x| x.clustering.silhouette_null.p_upper)).collect();
    let adj = crate::stats::holm(&raw);
    let mut k = 0;
    for t in &mut tasks {
        for x in &mut t.tests {
            x.p_holm = adj[k];
            k += 1;
        }
        if let Some(g) = t.tests.iter().find(|x| x.space == "geometry-svcca") {
            let geo = g.p_holm < ALPHA;
            let shared = t
                .archs
                .iter()
                .filter(|r| r.included > 0)
                .all(|r| r.modal as f64 >= universal_share * r.included as f64);
            t.geometry_individual = Some(geo);
            t.topology_shared = Some(shared);
            t.reproduced = Some(geo && shared);
        }
    }
    let mut seeds: Vec<u64> = plan.jobs.iter().map(|j| j.seed).collect();
    seeds.sort_unstable();
    seeds.dedup();
    let report = Report {
        schema: SCHEMA.into(),
        engram_version: plan.engram_version.clone(),
        plan_hash: plan.config_hash.clone(),
        seeds,
        jobs: (plan.jobs.len(), nets.len()),
        seconds: (nets.iter().map(|n| n.2).sum(), nets.iter().map(|n| n.3).sum()),
        tasks,
    };
    crate::io::write_json(&out.join("report.json"), &report)?;
    let md = out.join("report.md");
    crate::io::write_text(&md, &markdown(&report, universal_share))?;
    Ok(md)
}

fn fixed_point_figure(dir: &Path, s: &NetworkSummary, stem: &Path) -> Result<(), AgentError> {
    let scaffolds: Vec<Scaffold> = crate::io::read_json(&dir.join("probe/topology.json"))?;
    let states = load_states(dir, s.state_rows)?;
    let Some(sc) = scaffolds.first() else { return Ok(()) };
    if states.rows() < 3 || states.cols() < 2 {
        return Ok(());
    }
    let pca = Pca::fit(&states)?;
    let h = states.cols();
    let mut pts: Vec<Vec<f64>> = sc.points.iter().map(|p| p.state[..h].to_vec()).collect();
    let mut unstable: Vec<usize> = sc
        .points
        .iter()
        .map(|p| match p.kind {
            PointKind::Stable => 0,
            PointKind::Saddle(k) => k,
            PointKind::Source => p.moduli.len(),
        })
        .collect();
    for c in &sc.cycles {
        pts.push(c.state[..h].to_vec());
        unstable.push(0);
    }
    let pts = if pts.is_empty() { Matrix::zeros(0, h) } else { Matrix::from_rows(&pts)? };
    let title = format!("{} {} h{} seed {}: fixed points ({})", s.task, s.arch, s.width, s.seed, s.conditions[0]);
    figures::fixed_points(stem, &pca.transform(&states, 2)?, &pca.transform(&pts, 2)?, &unstable, &title)
}

fn fmt_p(p: f64) -> String {
    if p.is_finite() {
        format!("{p:.4}")
    } else {
        "–".into()
    }
}

fn markdown(r: &Report, share: f64) -> String {
    let mut m = String::new();
    m += "# Universality on the task battery (issue 18)\n\n";
    m += &format!(
        "engram {}, plan {}, seeds {:?}; {} of {} jobs have results; time: {:.0} s fitting, {:.0} s probing \
         (summed over jobs).\n\n",
        r.engram_version, r.plan_hash, r.seeds, r.jobs.1, r.jobs.0, r.seconds.0, r.seconds.1
    );
    m += &format!(
        "Rule (stated before the run): only networks at criterion enter. Geometry is \
         *individual* when the SVCCA silhouette by architecture beats its label-permutation \
         null (Holm-corrected p < {ALPHA}); topology is *shared* when the task's modal \
         signature is held by ≥ {:.0} % of every architecture's networks; the paper's finding \
         reproduces on a task when both hold. Silhouette in [−1, 1] (higher: closer to own \
         architecture); distances: SVCCA/CCA 1 − mean canonical correlation in [0, 1], \
         signature distance ≥ 0 (0: same signature).\n\n",
        share * 100.0
    );
    for t in &r.tasks {
        m += &format!("## {}\n\nConditions: {}.\n\n", t.task, t.conditions.join("; "));
        m += "| architecture | networks | at criterion | modal signature | share | stable-point |λ| (leading 3) | fixed points / condition |\n|---|---|---|---|---|---|---|\n";
        for a in &t.archs {
            let lead: Vec<String> =
                a.stable_moduli.iter().map(|v| if v.is_finite() { format!("{v:.3}") } else { "–".into() }).collect();
            m += &format!(
                "| {} | {} | {} | {} | {} | {} | {:.1} |\n",
                a.arch,
                a.run,
                a.included,
                a.modal,
                if a.included > 0 {
                    format!("{:.0} %", 100.0 * a.modal as f64 / a.included as f64)
                } else {
                    "–".into()
                },
                lead.join(", "),
                a.mean_points
            );
        }
        m += &format!(
            "\nModal signature ({} distinct among included networks): `{}`\n\n",
            t.n_signatures, t.modal_signature
        );
        if t.tests.is_empty() {
            m += "Too few included networks per architecture for the clustering tests.\n\n";
        } else {
            m += "| space | silhouette | null mean [95 %] | p | p (Holm) | NN agreement | null mean | p |\n|---|---|---|---|---|---|---|---|\n";
            for x in &t.tests {
                let c = &x.clustering;
                m += &format!(
                    "| {} | {:.3} | {:.3} [{:.3}, {:.3}] | {} | {} | {:.3} | {:.3} | {} |\n",
                    x.space,
                    c.silhouette,
                    c.silhouette_null.mean,
                    c.silhouette_null.lo,
                    c.silhouette_null.hi,
                    fmt_p(c.silhouette_null.p_upper),
                    fmt_p(x.p_holm),
                    c.nn_agreement,
                    c.nn_agreement_null.mean,
                    fmt_p(c.nn_agreement_null.p_upper)
                );
            }
            let yn = |b: Option<bool>| match b {
                Some(true) => "yes",
                Some(false) => "no",
                None => "not tested",
            };
            m += &format!(
                "\nGeometry individual: **{}**. Topology shared: **{}**. Paper's finding reproduced: **{}**.\n\n",
                yn(t.geometry_individual),
                yn(t.topology_shared),
                yn(t.reproduced)
            );
        }
        m += &format!(
            "Figures: `{0}/mds_geometry-svcca.png`, `{0}/mds_geometry-cca.png`, `{0}/mds_topology-signature.png`, \
             `{0}/fixed_points_<arch>.png`.\n\n",
            t.task
        );
    }
    m
}
