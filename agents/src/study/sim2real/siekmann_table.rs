//! The report's Siekmann Table II analogue: per group (policy × randomization) and decoded
//! parameter, the held-out percent error and R² of Siekmann's decoder from trained memory,
//! from the memory of an untrained network of the same architecture, from the observation
//! window, and of the training-mean prediction, as means over seeds with 95 % Student-t
//! intervals; then the comparisons the issue asks for (DR vs no-DR, trained vs untrained
//! memory, memory vs window) on the per-seed mean percent error over parameters.

use crate::inspect::siekmann::SiekmannReport;
use crate::stats::{self, finite, Ci, DEFAULT_LEVEL};
use serde_json::{json, Value};

/// Feature sets of the table in column order, with their labels; `mean` is the
/// predict-the-training-mean baseline.
pub const COLUMNS: [(&str, &str); 4] = [
    ("memory", "trained memory"),
    ("untrained", "untrained memory"),
    ("window", "observation window"),
    ("mean", "training mean"),
];

/// One finished job's decoder report with its group.
pub struct Decoded<'a> {
    /// Group name (`LSTM+DR`, ...).
    pub group: String,
    /// Policy kind (`lstm`, ...).
    pub kind: String,
    /// Trained with randomization.
    pub dr: bool,
    /// The job's seed.
    pub seed: u64,
    /// The report.
    pub report: &'a SiekmannReport,
}

fn ci(values: &[f64]) -> Ci {
    stats::t_interval(&finite(values), DEFAULT_LEVEL).unwrap_or(Ci::undefined(DEFAULT_LEVEL))
}

/// Percent errors (`r2 = false`) or R² of `feature` per target (NaN where absent).
fn values(r: &SiekmannReport, feature: &str, r2: bool) -> Vec<f64> {
    if feature == "mean" {
        return if r2 { vec![f64::NAN; r.targets.len()] } else { r.mean_baseline_percent_error.clone() };
    }
    match r.feature(feature) {
        Some(f) if r2 => f.r2.clone(),
        Some(f) => f.percent_error.clone(),
        None => vec![f64::NAN; r.targets.len()],
    }
}

/// Mean over the parameters of one report's percent errors of `feature` (NaN if none).
fn mean_over_targets(r: &SiekmannReport, feature: &str) -> f64 {
    let v = finite(&values(r, feature, false));
    if v.is_empty() {
        f64::NAN
    } else {
        stats::mean(&v)
    }
}

/// The table and comparisons as JSON (`groups` in report order).
pub fn table(decoded: &[Decoded<'_>], groups: &[String]) -> Value {
    let Some(first) = decoded.first() else { return json!({"groups": []}) };
    let targets = &first.report.targets;
    let mut rows = vec![];
    for g in groups {
        let members: Vec<&Decoded<'_>> = decoded.iter().filter(|d| &d.group == g).collect();
        if members.is_empty() {
            continue;
        }
        let n: Vec<f64> = members.iter().map(|d| d.report.n as f64).collect();
        let alive: Vec<f64> = members.iter().map(|d| d.report.alive_fraction).collect();
        let mut per_feature = serde_json::Map::new();
        for (f, _) in COLUMNS {
            if f != "mean" && members.iter().all(|d| d.report.feature(f).is_none()) {
                continue;
            }
            let per_target: Vec<Value> = (0..targets.len())
                .map(|k| {
                    let pe: Vec<f64> = members.iter().map(|d| values(d.report, f, false)[k]).collect();
                    let r2: Vec<f64> = members.iter().map(|d| values(d.report, f, true)[k]).collect();
                    json!({"target": targets[k], "percent_error": ci(&pe), "r2": ci(&r2),
                           "percent_error_per_seed": nan_null(&pe), "r2_per_seed": nan_null(&r2)})
                })
                .collect();
            let overall: Vec<f64> = members.iter().map(|d| mean_over_targets(d.report, f)).collect();
            per_feature.insert(
                f.into(),
                json!({"per_target": per_target, "mean_percent_error": ci(&overall),
                       "mean_percent_error_per_seed": nan_null(&overall)}),
            );
        }
        rows.push(json!({
            "group": g, "n_seeds": members.len(),
            "seeds": members.iter().map(|d| d.seed).collect::<Vec<_>>(),
            "n_kept": ci(&n), "alive_fraction": ci(&alive),
            "biased_seeds": members.iter().filter(|d| d.report.biased).count(),
            "env": first.report.env, "features": per_feature,
        }));
    }
    // Comparisons on the per-seed mean percent error over parameters (lower is better).
    let overall = |pick: &dyn Fn(&Decoded<'_>) -> bool, f: &str| -> Vec<(u64, f64)> {
        decoded.iter().filter(|d| pick(d)).map(|d| (d.seed, mean_over_targets(d.report, f))).collect()
    };
    let mut comparisons = vec![];
    let mut kinds: Vec<&str> = vec![];
    for d in decoded {
        if !kinds.contains(&d.kind.as_str()) {
            kinds.push(&d.kind);
        }
    }
    for kind in kinds {
        let memory = if kind == "mlp" { "window" } else { "memory" };
        let dr = overall(&|d| d.kind == kind && d.dr, memory);
        let nodr = overall(&|d| d.kind == kind && !d.dr, memory);
        if !dr.is_empty() && !nodr.is_empty() {
            let (a, b): (Vec<f64>, Vec<f64>) = (dr.iter().map(|x| x.1).collect(), nodr.iter().map(|x| x.1).collect());
            let d = stats::welch_diff(&finite(&a), &finite(&b), DEFAULT_LEVEL)
                .map_or(Ci::undefined(DEFAULT_LEVEL), |w| w.ci);
            comparisons.push(json!({"policy": kind, "feature": memory, "comparison": "DR − no-DR", "difference": d}));
        }
        if kind == "mlp" {
            continue;
        }
        for dr_flag in [true, false] {
            for baseline in ["untrained", "window"] {
                let a = overall(&|d| d.kind == kind && d.dr == dr_flag, "memory");
                let b = overall(&|d| d.kind == kind && d.dr == dr_flag, baseline);
                if a.is_empty() {
                    continue;
                }
                // Paired by seed: the same episodes, split and decoder seed.
                let diffs: Vec<f64> = a.iter().zip(&b).map(|(x, y)| x.1 - y.1).collect();
                comparisons.push(json!({
                    "policy": kind, "dr": dr_flag, "feature": "memory",
                    "comparison": format!("trained memory − {baseline}"), "difference": ci(&diffs),
                }));
            }
        }
    }
    json!({"targets": targets, "percent_of": first.report.percent_of, "groups": rows, "comparisons": comparisons})
}

fn nan_null(v: &[f64]) -> Value {
    Value::Array(v.iter().map(|&x| if x.is_finite() { x.into() } else { Value::Null }).collect())
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

fn cell(v: &Value, digits: usize) -> String {
    let (e, lo, hi) = (num(&v["estimate"]), num(&v["lo"]), num(&v["hi"]));
    if !e.is_finite() {
        "–".into()
    } else if lo.is_finite() {
        format!("{e:.d$} [{lo:.d$}, {hi:.d$}]", d = digits)
    } else {
        format!("{e:.d$}", d = digits)
    }
}

/// The Markdown section.
pub fn markdown(t: &Value, episodes: usize, steps: [usize; 2]) -> String {
    let groups = t["groups"].as_array().cloned().unwrap_or_default();
    if groups.is_empty() {
        return "\n## Siekmann Table II analogue\n\nNo job has a `siekmann.json` (the probes are off).\n".into();
    }
    let env = groups[0]["env"].as_str().unwrap_or("");
    let mut md = format!(
        "\n## Siekmann Table II analogue: dynamics parameters decoded from memory\n\n\
         Siekmann et al. (2020)'s decoder: {episodes} episodes per policy on {env} (also for the policies trained without \
         randomization, whose own env never varies the parameters), the state at one step drawn uniformly from \
         {}–{} per episode (episodes that ended before it are dropped), a 256-256 ReLU MLP fitted on 80 % of the \
         episodes and scored on the other 20 % (split by episode). Features: the trained policy's memory (GRU h; \
         LSTM h and c), the memory of an untrained network of the same architecture fed the same observations, \
         and the window of the last observations and actions (a memoryless policy has only this); the training-mean \
         prediction is the floor. Mean absolute percent error on the held-out episodes (lower is better; relative to \
         the true value, or to the half-width of the training range for the signed parameters marked ±), mean over \
         seeds with 95 % Student-t intervals.\n\n\
         | group | seeds | episodes kept (of {episodes}) | seeds with < 80 % kept |\n|---|---:|---:|---:|\n",
        steps[0], steps[1]
    );
    for g in &groups {
        md.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            g["group"].as_str().unwrap_or(""),
            g["n_seeds"],
            cell(&g["n_kept"], 0),
            g["biased_seeds"]
        ));
    }
    let targets: Vec<String> =
        t["targets"].as_array().into_iter().flatten().filter_map(|v| v.as_str().map(String::from)).collect();
    let signed: Vec<bool> =
        t["percent_of"].as_array().into_iter().flatten().map(|v| v.as_str() != Some("true value")).collect();
    for (f, label) in COLUMNS {
        let cols: Vec<&Value> = groups.iter().filter(|g| g["features"].get(f).is_some()).collect();
        if cols.is_empty() {
            continue;
        }
        md.push_str(&format!("\n**Percent error, {label}**\n\n| parameter |"));
        for g in &cols {
            md.push_str(&format!(" {} |", g["group"].as_str().unwrap_or("")));
        }
        md.push_str("\n|---|");
        md.push_str(&"---:|".repeat(cols.len()));
        md.push('\n');
        for (k, name) in targets.iter().enumerate() {
            let mark = if signed.get(k).copied().unwrap_or(false) { " ±" } else { "" };
            md.push_str(&format!("| {name}{mark} |"));
            for g in &cols {
                md.push_str(&format!(" {} |", cell(&g["features"][f]["per_target"][k]["percent_error"], 1)));
            }
            md.push('\n');
        }
        md.push_str("| **mean over parameters** |");
        for g in &cols {
            md.push_str(&format!(" {} |", cell(&g["features"][f]["mean_percent_error"], 1)));
        }
        md.push('\n');
    }
    md.push_str("\nHeld-out R² of the decoder from trained memory (1 perfect, 0 the held-out mean, < 0 worse):\n\n| parameter |");
    let mem: Vec<&Value> = groups.iter().filter(|g| g["features"].get("memory").is_some()).collect();
    for g in &mem {
        md.push_str(&format!(" {} |", g["group"].as_str().unwrap_or("")));
    }
    md.push_str("\n|---|");
    md.push_str(&"---:|".repeat(mem.len()));
    md.push('\n');
    for (k, name) in targets.iter().enumerate() {
        md.push_str(&format!("| {name} |"));
        for g in &mem {
            md.push_str(&format!(" {} |", cell(&g["features"]["memory"]["per_target"][k]["r2"], 2)));
        }
        md.push('\n');
    }
    md.push_str(
        "\nComparisons of the mean percent error over parameters (negative: the first is decoded better). \
         DR − no-DR: Welch 95 % interval across seeds; trained memory − baseline: paired by seed, Student-t.\n\n\
         | policy | trained with | comparison | difference, percentage points |\n|---|---|---|---:|\n",
    );
    for c in t["comparisons"].as_array().into_iter().flatten() {
        let dr = match c["dr"].as_bool() {
            Some(true) => "DR",
            Some(false) => "no DR",
            None => "–",
        };
        md.push_str(&format!(
            "| {} | {dr} | {} | {} |\n",
            c["policy"].as_str().unwrap_or(""),
            c["comparison"].as_str().unwrap_or(""),
            cell(&c["difference"], 1)
        ));
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::siekmann::{SiekmannConfig, SiekmannFeature, SIEKMANN_SCHEMA};

    fn report(memory_pe: f64, seed: u64, recurrent: bool) -> SiekmannReport {
        let f = |name: &str, pe: f64| SiekmannFeature {
            name: name.into(),
            dim: 4,
            percent_error: vec![pe, pe + 2.0],
            r2: vec![0.5, f64::NAN],
        };
        let mut features = vec![f("window", 20.0)];
        if recurrent {
            features.insert(0, f("memory", memory_pe));
            features.insert(1, f("untrained", 25.0));
        }
        SiekmannReport {
            schema: SIEKMANN_SCHEMA.into(),
            env: "PlanarBipedDR-v0".into(),
            train_env: "PlanarBipedDR-v0".into(),
            policy: "gru".into(),
            run_seed: seed,
            seed,
            targets: vec!["mass_torso_kg".into(), "torso_com_x_m".into()],
            percent_of: vec!["true value".into(), "training half-range".into()],
            config: SiekmannConfig::default(),
            sampled_steps: vec![],
            n: 100,
            dropped: 28,
            alive_fraction: 100.0 / 128.0,
            biased: true,
            n_train: 80,
            n_test: 20,
            note: None,
            features,
            mean_baseline_percent_error: vec![30.0, 40.0],
        }
    }

    #[test]
    fn table_summarizes_over_seeds_and_pairs_memory_with_its_baselines() {
        let reps = [report(10.0, 0, true), report(12.0, 1, true), report(0.0, 0, false)];
        let d = |i: usize, group: &str, kind: &str| Decoded {
            group: group.into(),
            kind: kind.into(),
            dr: true,
            seed: reps[i].run_seed,
            report: &reps[i],
        };
        let decoded = vec![d(0, "GRU+DR", "gru"), d(1, "GRU+DR", "gru"), d(2, "MLP+DR", "mlp")];
        let t = table(&decoded, &["GRU+DR".into(), "MLP+DR".into()]);
        let gru = &t["groups"][0];
        assert_eq!(gru["n_seeds"], 2);
        // Memory percent error of the torso mass over seeds 10 and 12: mean 11.
        assert_eq!(gru["features"]["memory"]["per_target"][0]["percent_error"]["estimate"], 11.0);
        // Mean over the two parameters per seed: 11 and 13 → 12.
        assert_eq!(gru["features"]["memory"]["mean_percent_error"]["estimate"], 12.0);
        // The memoryless policy has only the window and the mean baseline.
        let mlp = &t["groups"][1]["features"];
        assert!(mlp.get("memory").is_none() && mlp.get("window").is_some() && mlp.get("mean").is_some());
        // Trained − untrained memory, paired: (11 − 26) and (13 − 26) → −14.
        let c = t["comparisons"].as_array().unwrap();
        let vs_untrained = c.iter().find(|c| c["comparison"] == "trained memory − untrained" && c["dr"] == true);
        assert_eq!(vs_untrained.unwrap()["difference"]["estimate"], -14.0);
        let md = markdown(&t, 128, [15, 45]);
        assert!(md.contains("Siekmann Table II analogue") && md.contains("torso_com_x_m ±"), "{md}");
        assert!(md.contains("| mass_torso_kg | 11.0 [") && !md.contains("NaN"), "{md}");
    }
}
