//! The working-memory study's report: per-network numbers (behaviour, geometry, homology,
//! connectivity, dynamic code) beside per-architecture summaries (mean and Student-t 95 %
//! interval over seeds), the untrained-network control and the exact synthetic tori as
//! references, and links to every network's figures.

use super::WorkingMemoryJob;
use crate::error::AgentError;
use crate::inspect::torus_report::{arch_name, TorusReport};
use crate::probe::torus::{geometry, synthetic};
use crate::stats::summarize;
use crate::study::Plan;
use rand::SeedableRng;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Schema of `report.json`.
pub const REPORT_SCHEMA: &str = "engram.working-memory/1";
/// Clifford-like thresholds (stated in the quick config's header before the run).
const CLIFFORD_INDEX_MIN: f64 = 0.85;
/// Smaller principal angle a Clifford-like manifold needs, degrees.
const ANGLE_MIN_DEG: f64 = 70.0;
/// Radius ratio a Clifford-like manifold needs.
const RATIO_MIN: f64 = 0.8;

#[derive(Serialize)]
struct ArchSummary {
    condition: String,
    arch: String,
    n_networks: usize,
    n_included: usize,
    excluded: Vec<String>,
    rows: Vec<(String, String)>,
}

fn fmt_summary(v: &[f64]) -> String {
    let v: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    match v.len() {
        0 => "n/a".into(),
        1 => format!("{:.3} (n = 1)", v[0]),
        _ => match summarize(&v, 0.95) {
            Ok(s) => format!("{:.3} [{:.3}, {:.3}] (n = {})", s.mean, s.ci.lo, s.ci.hi, s.n),
            Err(_) => "n/a".into(),
        },
    }
}

/// Writes `report.md` and `report.json` into `dir` from every job's `torus/torus.json`.
pub fn write_report(plan: &Plan, dir: &Path) -> Result<PathBuf, AgentError> {
    // (job id, gate, condition, report)
    let mut nets: Vec<(String, f64, String, TorusReport)> = vec![];
    for job in &plan.jobs {
        let spec: WorkingMemoryJob =
            toml::from_str(&job.config).map_err(|e| AgentError::Config(format!("job {}: {e}", job.id)))?;
        let path = dir.join(&job.out_dir).join("torus").join("torus.json");
        let text = std::fs::read_to_string(&path).map_err(|e| AgentError::io(&path, e))?;
        let r: TorusReport = serde_json::from_str(&text)
            .map_err(|e| AgentError::ProbeFile { path: path.display().to_string(), message: e.to_string() })?;
        nets.push((job.id.clone(), spec.gate_mae_deg, spec.condition, r));
    }
    let mut md = String::new();
    let _ = writeln!(md, "# Working memory of two orientations: manifold, connectivity, dynamic code\n");
    let _ = writeln!(
        md,
        "After Cueva, Ardalan, Tsodyks & Qian (2021), arXiv 2111.01275. Plan hash `{}`, engram {}, seeds {:?}.\n",
        plan.config_hash,
        plan.engram_version,
        plan.jobs.iter().map(|j| j.seed).collect::<std::collections::BTreeSet<_>>()
    );
    let _ = writeln!(
        md,
        "Every number is measured on the hidden state at the end of the second delay, over a {g} × {g} grid of \
         (θ1, θ2) on noise-free trials, unless stated. Intervals: mean and Student-t 95 % interval over seeds. \
         Clifford index in [0, 1] (1: exact Clifford torus; an exact standard torus with R = 2r scores 0.67); \
         principal angles in [0°, 90°] (Clifford: 90°, 90°; standard: 0°, 90°); radius ratio in (0, 1]; \
         report error in degrees (chance 45°), on held-out trials with the task's input noise and the recurrent \
         noise the network was trained with. Clifford-like (stated before the run): index ≥ {CLIFFORD_INDEX_MIN}, \
         smaller angle ≥ {ANGLE_MIN_DEG}°, ratio ≥ {RATIO_MIN}.\n",
        g = nets.first().map_or(0, |n| n.3.config.grid)
    );
    // References.
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let g = nets.first().map_or(16, |n| n.3.config.grid);
    let c = geometry(&synthetic::torus(true, 0.0, 1.0, g, g, 100, 0.0, &mut rng))?;
    let s = geometry(&synthetic::torus(false, 2.0, 1.0, g, g, 100, 0.0, &mut rng))?;
    let _ = writeln!(md, "## References (exact tori in R^100)\n");
    let _ = writeln!(md, "| torus | dims (95 %) | PC4 share | angles (°) | radius ratio | Clifford index |");
    let _ = writeln!(md, "|---|---|---|---|---|---|");
    for (name, x) in [("Clifford", &c), ("standard R = 2, r = 1", &s)] {
        let _ = writeln!(
            md,
            "| {name} | {} | {:.3} | {:.1}, {:.1} | {:.3} | {:.3} |",
            x.dims_95, x.pc4_share, x.angle_small_deg, x.angle_large_deg, x.radius_ratio, x.clifford_index
        );
    }
    let _ = writeln!(md, "\n## Per network\n");
    let _ = writeln!(
        md,
        "| network | MAE θ1 / θ2 (°) | Betti | dims (95 %) | PC4 share | angles (°) | radius ratio | Clifford index \
         (untrained) | local − far weight (p) | θ1 pref. changed (> 30°) |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|---|---|---|---|---|");
    for (id, gate, _, r) in &nets {
        let gm = &r.geometry;
        let conn = r.connectivity1.as_ref().map_or("n/a (gated)".to_string(), |c| {
            format!("{:+.4} (p = {:.3}, {} units)", c.local_minus_far, c.p_value, c.n_units)
        });
        let _ = writeln!(
            md,
            "| {id}{} | {:.2} / {:.2} | {:?} | {} | {:.3} | {:.1}, {:.1} | {:.3} | {:.3} ({:.3}) | {conn} | {:.2} of {} |",
            if r.behaviour.mae_deg > *gate { " (excluded)" } else { "" },
            r.behaviour.mae1_deg,
            r.behaviour.mae2_deg,
            r.homology.betti,
            gm.dims_95,
            gm.pc4_share,
            gm.angle_small_deg,
            gm.angle_large_deg,
            gm.radius_ratio,
            gm.clifford_index,
            r.geometry_untrained.clifford_index,
            r.dynamic_code.changed_share,
            r.dynamic_code.n_tuned_both
        );
    }
    let _ = writeln!(md, "\n## Per architecture (networks passing the gate)\n");
    // Groups in plan order: (condition, architecture).
    let mut groups: Vec<(String, String)> =
        nets.iter().map(|n| (n.2.clone(), arch_name(n.3.arch).to_string())).collect();
    groups.dedup();
    let mut summaries = vec![];
    for (cond, a) in &groups {
        let all: Vec<&(String, f64, String, TorusReport)> =
            nets.iter().filter(|n| &n.2 == cond && arch_name(n.3.arch) == a).collect();
        let inc: Vec<&TorusReport> = all.iter().filter(|n| n.3.behaviour.mae_deg <= n.1).map(|n| &n.3).collect();
        let excluded: Vec<String> = all.iter().filter(|n| n.3.behaviour.mae_deg > n.1).map(|n| n.0.clone()).collect();
        let col = |f: &dyn Fn(&TorusReport) -> f64| fmt_summary(&inc.iter().map(|r| f(r)).collect::<Vec<_>>());
        let torus_share = inc.iter().filter(|r| r.homology.betti == [1, 2, 1]).count();
        let cliff = inc
            .iter()
            .filter(|r| {
                r.geometry.clifford_index >= CLIFFORD_INDEX_MIN
                    && r.geometry.angle_small_deg >= ANGLE_MIN_DEG
                    && r.geometry.radius_ratio >= RATIO_MIN
            })
            .count();
        let rows = vec![
            ("report MAE (°)".to_string(), fmt_summary(&all.iter().map(|n| n.3.behaviour.mae_deg).collect::<Vec<_>>())),
            ("Betti (1, 2, 1)".into(), format!("{torus_share} of {}", inc.len())),
            ("Clifford-like".into(), format!("{cliff} of {}", inc.len())),
            ("Clifford index".into(), col(&|r| r.geometry.clifford_index)),
            ("Clifford index, untrained".into(), col(&|r| r.geometry_untrained.clifford_index)),
            ("smaller principal angle (°)".into(), col(&|r| r.geometry.angle_small_deg)),
            ("larger principal angle (°)".into(), col(&|r| r.geometry.angle_large_deg)),
            ("radius ratio".into(), col(&|r| r.geometry.radius_ratio)),
            ("PC4 variance share".into(), col(&|r| r.geometry.pc4_share)),
            ("dims for 95 % variance".into(), col(&|r| r.geometry.dims_95 as f64)),
            ("first-harmonic share".into(), col(&|r| r.geometry.harmonic_share)),
            (
                "local − far weight (θ1 units)".into(),
                col(&|r| r.connectivity1.as_ref().map_or(f64::NAN, |c| c.local_minus_far)),
            ),
            ("far weight (θ1 units)".into(), col(&|r| r.connectivity1.as_ref().map_or(f64::NAN, |c| c.far_mean))),
            (
                "local − far weight (θ2 units)".into(),
                col(&|r| r.connectivity2.as_ref().map_or(f64::NAN, |c| c.local_minus_far)),
            ),
            ("θ1 preference changed > 30°".into(), col(&|r| r.dynamic_code.changed_share)),
            ("median |Δ preferred θ1| (°)".into(), col(&|r| r.dynamic_code.median_change_deg)),
            (
                "θ1 decoding, delay-1 decoder at end of delay 2 (°)".into(),
                col(&|r| {
                    let (d1, d2) = (r.phase_starts[2].1 - 1, r.phase_starts[4].1 - 1);
                    r.cross_temporal_deg[d1][d2]
                }),
            ),
            (
                "θ1 decoding, same-time decoder at end of delay 2 (°)".into(),
                col(&|r| {
                    let d2 = r.phase_starts[4].1 - 1;
                    r.cross_temporal_deg[d2][d2]
                }),
            ),
        ];
        let title = if cond.is_empty() { a.clone() } else { format!("{cond} / {a}") };
        let _ = writeln!(md, "### {title}: {} networks, {} pass the gate\n", all.len(), inc.len());
        if !excluded.is_empty() {
            let _ = writeln!(md, "Excluded by the gate: {}.\n", excluded.join(", "));
        }
        let _ = writeln!(md, "| measure | value |\n|---|---|");
        for (k, v) in &rows {
            let _ = writeln!(md, "| {k} | {v} |");
        }
        let _ = writeln!(md);
        summaries.push(ArchSummary {
            condition: cond.clone(),
            arch: a.clone(),
            n_networks: all.len(),
            n_included: inc.len(),
            excluded,
            rows,
        });
    }
    let _ = writeln!(md, "## Figures\n");
    for job in &plan.jobs {
        let t = format!("{}/torus", job.out_dir);
        let _ = writeln!(
            md,
            "- {}: [manifold]({t}/manifold.png), [errors]({t}/errors.png), [cross-temporal]({t}/cross_temporal.png){}",
            job.id,
            if job.labels.iter().any(|l| l == "arch=rnn_tanh") {
                format!(", [connectivity profile]({t}/connectivity_profile.png), [sorted weights]({t}/connectivity_sorted.png)")
            } else {
                String::new()
            }
        );
    }
    let json = serde_json::json!({
        "schema": REPORT_SCHEMA,
        "plan_hash": plan.config_hash,
        "engram_version": plan.engram_version,
        "references": { "clifford": c, "standard": s },
        "architectures": summaries,
        "networks": nets
            .iter()
            .map(|n| serde_json::json!({"id": n.0, "condition": n.2, "report": n.3}))
            .collect::<Vec<_>>(),
    });
    crate::io::write_json(&dir.join("report.json"), &json)?;
    let out = dir.join("report.md");
    crate::io::write_text(&out, &md)?;
    Ok(out)
}
