//! The sweep's report: evaluation return per grid point, mean ± Student-t 95 % interval over
//! seeds, with the per-seed values (`report.json`, `report.md`).

use super::EVAL_EPISODES;
use crate::error::AgentError;
use crate::io::write_json;
use crate::stats;
use crate::study::{Job, Plan};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// How the report's intervals are computed.
const INTERVAL: &str = "Student t over seeds, 95 %";

/// Writes `report.json` and `report.md` into `dir`; returns the Markdown's path.
pub fn write(plan: &Plan, dir: &Path, rows: &[(&Job, serde_json::Value)]) -> Result<PathBuf, AgentError> {
    let mut groups: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for (j, d) in rows {
        let key = if j.labels.is_empty() { "all".to_string() } else { j.labels.join(" ") };
        groups.entry(key).or_default().push(d["eval_return_mean"].as_f64().unwrap_or(f64::NAN));
    }
    let group_rows: Vec<serde_json::Value> = groups
        .iter()
        .map(|(k, v)| {
            let s = stats::summarize(v, stats::DEFAULT_LEVEL)?;
            Ok(serde_json::json!({
                "group": k, "n_seeds": v.len(), "eval_return_mean": s.mean, "eval_return_sd": s.std_dev,
                "ci95": s.half_width, "per_seed": v
            }))
        })
        .collect::<Result<_, AgentError>>()?;
    let job_rows: Vec<serde_json::Value> = rows
        .iter()
        .map(|(j, d)| {
            serde_json::json!({"index": j.index, "id": j.id, "labels": j.labels, "seed": j.seed, "config_hash": j.config_hash, "result": d})
        })
        .collect();
    let report = serde_json::json!({
        "schema": "engram.report.sweep/1",
        "study": plan.study,
        "engram_version": plan.engram_version,
        "plan_config_hash": plan.config_hash,
        "interval": INTERVAL,
        "groups": group_rows,
        "jobs": job_rows,
    });
    write_json(&dir.join("report.json"), &report)?;
    let mut md = format!(
        "# {} study report\n\nPlan config hash `{}`, engram {}, {} jobs. Deterministic evaluation: {} episodes per job. \
         Intervals: {INTERVAL}.\n\n| group | seeds | eval return (mean ± 95% CI) | per seed |\n|---|---:|---:|---|\n",
        plan.study,
        plan.config_hash,
        plan.engram_version,
        plan.jobs.len(),
        EVAL_EPISODES,
    );
    for (g, v) in group_rows.iter().zip(groups.values()) {
        let per_seed: Vec<String> = v.iter().map(|x| format!("{x:.2}")).collect();
        md.push_str(&format!(
            "| {} | {} | {:.2} ± {:.2} | {} |\n",
            g["group"].as_str().unwrap_or(""),
            v.len(),
            g["eval_return_mean"].as_f64().unwrap_or(f64::NAN),
            g["ci95"].as_f64().unwrap_or(f64::NAN),
            per_seed.join(", ")
        ));
    }
    let path = dir.join("report.md");
    crate::io::write_text(&path, &md)?;
    Ok(path)
}
