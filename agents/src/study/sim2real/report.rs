//! `engram experiment sim2real` and its report (written by `engram collect`): the Siekmann
//! Table II analogue (return / fall rate by policy × randomization × condition, Student-t
//! intervals across seeds, Welch intervals for differences), the ordering RNN+DR > MLP+DR > no-DR on the held-out robots, and the
//! implicit system-identification probe (R² per parameter and time), with figures.

use super::data::{ci, late_gain_percent, load, r2_table, JobData, FLAT_WINDOW};
use super::siekmann_table::{self, Decoded};
use super::{dr_name, figures, severity_condition, Sim2RealConfig, CONDITIONS, HELD_OUT};
use crate::error::{AgentError, Context};
use crate::policy::PolicyKind;
use crate::stats::{self, finite, Ci, DEFAULT_LEVEL};
use crate::study::Plan;
use std::path::{Path, PathBuf};

/// R² a parameter must reach to count as decoded from memory (issue 7).
const DECODED_R2: f64 = 0.5;
/// Largest shuffled-label R² for the decoding to count (design/probes.md).
const SHUFFLED_R2_MAX: f64 = 0.05;
/// How much memory R² must exceed every baseline's to count as more than the baselines.
const BEYOND_MARGIN: f64 = 0.05;
/// Welch 95 % interval of `mean(a) − mean(b)` over two groups of seeds.
fn diff_ci(a: &[f64], b: &[f64]) -> Ci {
    stats::welch_diff(&finite(a), &finite(b), DEFAULT_LEVEL).map_or(Ci::undefined(DEFAULT_LEVEL), |w| w.ci)
}

fn verdict(d: &Ci) -> &'static str {
    if !d.lo.is_finite() {
        "undetermined"
    } else if d.lo > 0.0 {
        "shown"
    } else if d.hi < 0.0 {
        "reversed"
    } else {
        "not shown (CI includes 0)"
    }
}

fn fmt_ci(c: &Ci, digits: usize) -> String {
    format!("{:.d$} [{:.d$}, {:.d$}]", c.estimate, c.lo, c.hi, d = digits)
}

/// Per-seed values of `metric` for the jobs of `group` on `condition`.
fn per_seed(jobs: &[JobData], pick: impl Fn(&JobData) -> bool, condition: &str, metric: &str) -> Vec<f64> {
    jobs.iter()
        .filter(|j| pick(j))
        .filter_map(|j| j.eval.get(condition))
        .map(|c| match metric {
            "return" => c.return_mean,
            "fall_rate" => c.fall_rate,
            "speed" => c.forward_speed_mean_m_s,
            "step_length" => c.step_length_mean_m,
            "cadence" => c.cadence_mean_hz,
            _ => c.time_to_fall_s,
        })
        .collect()
}

/// Builds `report.json`, `report.md` and the figures of a finished sim2real study.
pub fn write_report(plan: &Plan, dir: &Path) -> Result<PathBuf, AgentError> {
    let jobs = load(plan, dir)?;
    let cfg = jobs.first().map(|j| j.spec.experiment.clone()).ctx(|| "the plan has no jobs".to_string())?;
    let counts = cfg.param_counts()?;
    let mut groups: Vec<String> = vec![];
    for j in &jobs {
        if !groups.contains(&j.group()) {
            groups.push(j.group());
        }
    }
    // Table II analogue.
    let mut table = vec![];
    for g in &groups {
        for c in CONDITIONS {
            let pick = |j: &JobData| &j.group() == g;
            let r = per_seed(&jobs, pick, c, "return");
            let f = per_seed(&jobs, pick, c, "fall_rate");
            let t = per_seed(&jobs, pick, c, "time_to_fall");
            let gait = |m| ci(&per_seed(&jobs, pick, c, m));
            table.push(serde_json::json!({
                "group": g, "condition": c, "n_seeds": r.len(),
                "return": ci(&r), "fall_rate": ci(&f), "time_to_fall_s": ci(&t),
                "forward_speed_m_s": gait("speed"), "step_length_m": gait("step_length"), "cadence_hz": gait("cadence"),
                "return_per_seed": r, "fall_rate_per_seed": f,
            }));
        }
    }
    // Has every group's training return flattened by the end of the budget?
    let budget_check: Vec<serde_json::Value> = groups
        .iter()
        .map(|g| {
            let gains: Vec<f64> = jobs
                .iter()
                .filter(|j| &j.group() == g)
                .map(|j| late_gain_percent(&j.curve, cfg.total_timesteps as f64))
                .collect();
            serde_json::json!({ "group": g, "late_gain_percent": ci(&gains), "late_gain_percent_per_seed": gains })
        })
        .collect();
    // Return vs severity per held-out family.
    let mut severity = vec![];
    for g in &groups {
        for family in &HELD_OUT[..4] {
            for &s in &cfg.eval.severities {
                let c = severity_condition(family, s);
                let pick = |j: &JobData| &j.group() == g;
                let (r, f) = (per_seed(&jobs, pick, &c, "return"), per_seed(&jobs, pick, &c, "fall_rate"));
                severity.push(serde_json::json!({
                    "group": g, "family": family, "severity": s, "n_seeds": r.len(),
                    "return": ci(&r), "fall_rate": ci(&f), "return_per_seed": r,
                }));
            }
        }
    }
    // Randomization vs none, per architecture, on each held-out condition.
    let mut dr_effect = vec![];
    for (pi, p) in cfg.policies.iter().enumerate() {
        for c in HELD_OUT {
            let of = |dr: bool| per_seed(&jobs, |j| j.spec.policy_index == pi && j.spec.dr == dr, c, "return");
            let d = diff_ci(&of(true), &of(false));
            dr_effect.push(serde_json::json!({
                "policy": p.policy.kind.as_str(), "policy_index": pi, "condition": c,
                "dr_minus_no_dr": d, "verdict": verdict(&d),
            }));
        }
    }
    // The Siekmann ordering on each held-out condition.
    let mut claims = vec![];
    let kinds: Vec<PolicyKind> = {
        let mut k: Vec<PolicyKind> = cfg.policies.iter().map(|p| p.policy.kind).collect();
        k.dedup();
        k
    };
    for c in HELD_OUT {
        let of = |kind: PolicyKind, dr: bool| {
            per_seed(&jobs, |j| j.spec.dr == dr && cfg.policies[j.spec.policy_index].policy.kind == kind, c, "return")
        };
        let mlp_dr = of(PolicyKind::Mlp, true);
        let no_dr = per_seed(&jobs, |j| !j.spec.dr, c, "return");
        let mlp_vs_nodr = diff_ci(&mlp_dr, &no_dr);
        for &k in kinds.iter().filter(|k| **k != PolicyKind::Mlp) {
            let rnn_dr = of(k, true);
            let rnn_vs_mlp = diff_ci(&rnn_dr, &mlp_dr);
            let rnn_vs_nodr = diff_ci(&rnn_dr, &no_dr);
            let holds = verdict(&rnn_vs_mlp) == "shown" && verdict(&mlp_vs_nodr) == "shown";
            claims.push(serde_json::json!({
                "condition": c, "rnn": k.as_str(),
                "rnn_dr_minus_mlp_dr": rnn_vs_mlp, "rnn_dr_minus_mlp_dr_verdict": verdict(&rnn_vs_mlp),
                "mlp_dr_minus_no_dr": mlp_vs_nodr, "mlp_dr_minus_no_dr_verdict": verdict(&mlp_vs_nodr),
                "rnn_dr_minus_no_dr": rnn_vs_nodr, "rnn_dr_minus_no_dr_verdict": verdict(&rnn_vs_nodr),
                "ordering_holds": holds,
            }));
        }
    }
    // Sysid: seed-mean R² per group, feature, time and target.
    let features = ["policy", "untrained", "observation", "window"];
    let mut sysid = serde_json::Map::new();
    let mut decoded = vec![];
    for g in &groups {
        let members: Vec<&JobData> = jobs.iter().filter(|j| &j.group() == g).collect();
        let mut gj = serde_json::Map::new();
        for f in features {
            if let Some((times, targets, r2)) = r2_table(&members, f, false) {
                gj.insert(f.into(), serde_json::json!({"times": times, "targets": targets, "ridge_r2": nan_null(&r2)}));
            }
        }
        if let Some((times, targets, sh)) = r2_table(&members, "policy", true) {
            gj.insert("shuffled".into(), serde_json::json!({"times": times, "ridge_r2": nan_null(&sh)}));
            let (_, _, r2) = r2_table(&members, "policy", false).unwrap_or_default();
            let (_, _, obs) = r2_table(&members, "observation", false).unwrap_or_default();
            let (_, _, win) = r2_table(&members, "window", false).unwrap_or_default();
            let (_, _, unt) = r2_table(&members, "untrained", false).unwrap_or_default();
            let at =
                |m: &Vec<Vec<f64>>, t: usize, k: usize| m.get(t).and_then(|r| r.get(k)).copied().unwrap_or(f64::NAN);
            if members.first().is_some_and(|m| m.recurrent() && m.spec.dr) {
                for (k, name) in targets.iter().enumerate() {
                    let best = (0..times.len())
                        .filter(|&t| r2[t][k].is_finite())
                        .max_by(|&a, &b| r2[a][k].total_cmp(&r2[b][k]));
                    if let Some(t) = best {
                        if r2[t][k] >= DECODED_R2 && sh[t][k] <= SHUFFLED_R2_MAX {
                            // NaN baselines (too few episodes) do not block.
                            let beyond = [&obs, &win, &unt]
                                .iter()
                                .all(|b| at(b, t, k).is_nan() || at(b, t, k) + BEYOND_MARGIN <= r2[t][k]);
                            decoded.push(serde_json::json!({
                                "group": g, "target": name, "t": times[t], "r2": r2[t][k], "shuffled_r2": sh[t][k],
                                "observation_r2": at(&obs, t, k), "window_r2": at(&win, t, k), "untrained_r2": at(&unt, t, k),
                                "beyond_baselines": beyond,
                            }));
                        }
                    }
                }
            }
        }
        sysid.insert(g.clone(), serde_json::Value::Object(gj));
    }
    // Siekmann's decoder.
    let decoder_reports: Vec<Decoded<'_>> = jobs
        .iter()
        .filter_map(|j| {
            Some(Decoded {
                group: j.group(),
                kind: j.kind().as_str().into(),
                dr: j.spec.dr,
                seed: j.spec.seed,
                report: j.siekmann.as_ref()?,
            })
        })
        .collect();
    let siekmann = siekmann_table::table(&decoder_reports, &groups);
    let figs = dir.join("figures");
    std::fs::create_dir_all(&figs).map_err(|e| AgentError::io(&figs, e))?;
    let drawn = figures::draw_all(&jobs, &groups, &table, &severity, &figs);
    let report = serde_json::json!({
        "schema": "engram.report.sim2real/1",
        "study": plan.study,
        "engram_version": plan.engram_version,
        "plan_config_hash": plan.config_hash,
        "param_counts": counts,
        "total_timesteps": cfg.total_timesteps,
        "seeds": cfg.seeds,
        "table": table,
        "budget_check": budget_check,
        "severity": severity,
        "dr_effect": dr_effect,
        "claims": claims,
        "decoded": decoded,
        "sysid": sysid,
        "siekmann": siekmann,
        "figures": drawn,
    });
    crate::io::write_json(&dir.join("report.json"), &report)?;
    let mut md = markdown(plan, &cfg, &report, &groups);
    md.push_str(&siekmann_table::markdown(&report["siekmann"], cfg.siekmann.episodes, cfg.siekmann.steps));
    md.push_str(&figures::markdown(&drawn));
    let path = dir.join("report.md");
    crate::io::write_text(&path, &md)?;
    Ok(path)
}

fn nan_null(m: &[Vec<f64>]) -> serde_json::Value {
    serde_json::Value::Array(
        m.iter()
            .map(|r| {
                serde_json::Value::Array(
                    r.iter().map(|&v| if v.is_finite() { v.into() } else { serde_json::Value::Null }).collect(),
                )
            })
            .collect(),
    )
}

fn num(v: &serde_json::Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

fn ci_of(v: &serde_json::Value) -> Ci {
    Ci { estimate: num(&v["estimate"]), lo: num(&v["lo"]), hi: num(&v["hi"]), level: 0.95 }
}

fn markdown(plan: &Plan, cfg: &Sim2RealConfig, r: &serde_json::Value, groups: &[String]) -> String {
    let mut md = format!(
        "# Sim-to-real study\n\nPlan config hash `{}`, engram {}, {} jobs: {} seeds × {} randomization × {} policies, {} env steps each (PlanarBipedDR-v0 with randomization, PlanarBiped-v0 without).\nDeterministic evaluation; intervals are 95 % Student-t intervals across seeds (Welch for differences between groups); the per-seed values are in report.json.\n\n## Policies (parameter counts matched within {:.0} %)\n\n| policy | widths | parameters |\n|---|---|---:|\n",
        plan.config_hash, plan.engram_version, plan.jobs.len(), cfg.seeds, cfg.dr.iter().map(|d| dr_name(*d)).collect::<Vec<_>>().join("/"), cfg.policies.len(), cfg.total_timesteps, 100.0 * cfg.param_tolerance
    );
    for c in r["param_counts"].as_array().into_iter().flatten() {
        md.push_str(&format!(
            "| {} | {} | {} |\n",
            c["kind"].as_str().unwrap_or(""),
            c["widths"].as_str().unwrap_or(""),
            c["params"]
        ));
    }
    md.push_str(
        "\n## Return / fall rate by policy × randomization × condition (Siekmann et al. 2020, Table II analogue)\n\n",
    );
    md.push_str("Conditions: `train` = the training sim; `fixed` = 10 fixed parameter sets inside the training range (pinned); R1 extrapolated parameters, R2 unmodelled actuator, R3 sensors, R4 simulator mismatch; `real` = all twenty held-out robots.\n\n| group |");
    for c in CONDITIONS {
        md.push_str(&format!(" {c} |"));
    }
    md.push_str("\n|---|");
    md.push_str(&"---:|".repeat(CONDITIONS.len()));
    md.push('\n');
    let rows = r["table"].as_array().cloned().unwrap_or_default();
    for g in groups {
        md.push_str(&format!("| {g} |"));
        for c in CONDITIONS {
            let row = rows.iter().find(|x| x["group"] == g.as_str() && x["condition"] == c);
            match row {
                Some(x) => {
                    let (ret, fall) = (ci_of(&x["return"]), ci_of(&x["fall_rate"]));
                    md.push_str(&format!(" {} <br> fall {} |", fmt_ci(&ret, 0), fmt_ci(&fall, 2)));
                }
                None => md.push_str(" – |"),
            }
        }
        md.push('\n');
    }
    md.push_str("\nGait and time to fall (means over seeds of the per-policy means, 95 % intervals in report.json):\n\n| group | condition | time to fall s | forward speed m/s | step length m | cadence steps/s |\n|---|---|---:|---:|---:|---:|\n");
    for g in groups {
        for c in ["train", "real"] {
            if let Some(x) = rows.iter().find(|x| x["group"] == g.as_str() && x["condition"] == c) {
                md.push_str(&format!(
                    "| {g} | {c} | {:.2} | {:.2} | {:.3} | {:.2} |\n",
                    num(&x["time_to_fall_s"]["estimate"]),
                    num(&x["forward_speed_m_s"]["estimate"]),
                    num(&x["step_length_m"]["estimate"]),
                    num(&x["cadence_hz"]["estimate"])
                ));
            }
        }
    }
    let sev = r["severity"].as_array().cloned().unwrap_or_default();
    md.push_str(&format!(
        "\n## Has training flattened by the end of the budget?\n\nMean training return (last 100 episodes, stochastic policy) over the last {:.0} % of the {} env steps minus that over the {:.0} % before, in percent of the earlier window (learning rate annealed to 0 at the end of the budget; the learning curves are in the figures).\n\n| group | late gain, % | per seed |\n|---|---:|---|\n",
        100.0 * FLAT_WINDOW, cfg.total_timesteps, 100.0 * FLAT_WINDOW
    ));
    for b in r["budget_check"].as_array().into_iter().flatten() {
        let seeds: Vec<String> = b["late_gain_percent_per_seed"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|v| v.as_f64().map_or("–".into(), |x| format!("{x:+.1}")))
            .collect();
        md.push_str(&format!(
            "| {} | {} | {} |\n",
            b["group"].as_str().unwrap_or(""),
            fmt_ci(&ci_of(&b["late_gain_percent"]), 1),
            seeds.join(", ")
        ));
    }
    if !sev.is_empty() {
        md.push_str("\n## Return vs severity of each held-out family\n\nSeverity 0: the family's robots as drawn from the training distribution; 1: the full family (the R columns above).\n\n| group | family |");
        for s in &cfg.eval.severities {
            md.push_str(&format!(" {s:.2} |"));
        }
        md.push_str("\n|---|---|");
        md.push_str(&"---:|".repeat(cfg.eval.severities.len()));
        md.push('\n');
        for g in groups {
            for family in &HELD_OUT[..4] {
                md.push_str(&format!("| {g} | {family} |"));
                for x in sev.iter().filter(|x| x["group"] == g.as_str() && x["family"] == *family) {
                    md.push_str(&format!(" {} |", fmt_ci(&ci_of(&x["return"]), 0)));
                }
                md.push('\n');
            }
        }
    }
    md.push_str("\n## Randomization vs none, per architecture\n\n| policy | condition | DR − no-DR | verdict |\n|---|---|---:|---|\n");
    for d in r["dr_effect"].as_array().into_iter().flatten() {
        md.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            d["policy"].as_str().unwrap_or(""),
            d["condition"].as_str().unwrap_or(""),
            fmt_ci(&ci_of(&d["dr_minus_no_dr"]), 0),
            d["verdict"].as_str().unwrap_or("")
        ));
    }
    md.push_str("\n![returns](figures/returns.png)\n\n## Is RNN+DR > MLP+DR > no-DR on the held-out robots?\n\nDifferences of mean return with Welch 95 % intervals; `shown` when the CI excludes 0. No-DR pools every policy trained without randomization.\n\n| condition | RNN | RNN+DR − MLP+DR | MLP+DR − no-DR | ordering holds |\n|---|---|---|---|---|\n");
    for c in r["claims"].as_array().into_iter().flatten() {
        md.push_str(&format!(
            "| {} | {} | {} ({}) | {} ({}) | {} |\n",
            c["condition"].as_str().unwrap_or(""),
            c["rnn"].as_str().unwrap_or(""),
            fmt_ci(&ci_of(&c["rnn_dr_minus_mlp_dr"]), 0),
            c["rnn_dr_minus_mlp_dr_verdict"].as_str().unwrap_or(""),
            fmt_ci(&ci_of(&c["mlp_dr_minus_no_dr"]), 0),
            c["mlp_dr_minus_no_dr_verdict"].as_str().unwrap_or(""),
            if c["ordering_holds"].as_bool().unwrap_or(false) { "yes" } else { "no" }
        ));
    }
    let real: Vec<&serde_json::Value> =
        r["claims"].as_array().into_iter().flatten().filter(|c| c["condition"] == "real").collect();
    let holds: Vec<&str> = real
        .iter()
        .filter(|c| c["ordering_holds"].as_bool().unwrap_or(false))
        .filter_map(|c| c["rnn"].as_str())
        .collect();
    md.push_str(&format!(
        "\n**On all held-out robots together (`real`), RNN+DR > MLP+DR > no-DR is {}.**\n",
        if holds.is_empty() {
            "not shown for any recurrent policy".to_string()
        } else {
            format!("shown for {}", holds.join(", "))
        }
    ));
    md.push_str(&format!(
        "\n## Implicit system identification\n\nRidge decoders (λ by nested group CV, split by episode) of each randomized parameter from the policy's memory (recurrent state entering step t; for the MLP, its hidden activations) over {} held-out PlanarBipedDR-v0 episodes per policy; R² is the seed mean. A parameter counts as decoded when memory R² ≥ {DECODED_R2} with shuffled-label R² ≤ {SHUFFLED_R2_MAX} at the same t.\n\n",
        cfg.probe.episodes
    ));
    let decoded = r["decoded"].as_array().cloned().unwrap_or_default();
    if decoded.is_empty() {
        md.push_str("**No parameter is decoded from memory at R² ≥ 0.5 by any recurrent policy trained with randomization.**\n\n");
    } else {
        let names = |beyond: bool| {
            let mut v: Vec<String> = decoded
                .iter()
                .filter(|d| !beyond || d["beyond_baselines"].as_bool().unwrap_or(false))
                .map(|d| format!("{} ({})", d["target"].as_str().unwrap_or(""), d["group"].as_str().unwrap_or("")))
                .collect();
            v.dedup();
            if v.is_empty() {
                "none".to_string()
            } else {
                v.join(", ")
            }
        };
        md.push_str(&format!(
            "**Decoded from memory (R² ≥ {DECODED_R2}, shuffled ≤ {SHUFFLED_R2_MAX}) by a recurrent policy trained with randomization: {}.** Of these, at least {BEYOND_MARGIN} above every baseline at the same t (observation, window of observations and actions, untrained network of the same size): {}. A parameter the baselines decode as well is visible in the recent sensor stream (encoder biases shift the measured angles; latency shows in the first steps' response), so decoding it is not evidence of identification by memory.\n\n",
            names(false),
            names(true)
        ));
        md.push_str("| group | parameter | t | memory R² | shuffled R² | observation R² | window R² | untrained R² |\n|---|---|---:|---:|---:|---:|---:|---:|\n");
        for d in &decoded {
            md.push_str(&format!(
                "| {} | {} | {} | {:.2} | {:.3} | {:.2} | {:.2} | {:.2} |\n",
                d["group"].as_str().unwrap_or(""),
                d["target"].as_str().unwrap_or(""),
                d["t"],
                num(&d["r2"]),
                num(&d["shuffled_r2"]),
                num(&d["observation_r2"]),
                num(&d["window_r2"]),
                num(&d["untrained_r2"])
            ));
        }
    }
    // Per-target table at the last time with data, memory vs baselines, for each group.
    md.push_str(
        "\nR² at t = 250 control steps (or the last time with enough episodes alive), memory vs baselines:\n\n",
    );
    for g in groups {
        let gj = &r["sysid"][g.as_str()];
        let Some(targets) = gj["policy"]["targets"].as_array() else { continue };
        let times: Vec<u64> =
            gj["policy"]["times"].as_array().into_iter().flatten().filter_map(|t| t.as_u64()).collect();
        let at = |f: &str, ti: usize, k: usize| num(&gj[f]["ridge_r2"][ti][k]);
        let Some(ti) = (0..times.len()).rev().find(|&ti| (0..targets.len()).any(|k| at("policy", ti, k).is_finite()))
        else {
            md.push_str(&format!("{g}: too few episodes alive at every probe time.\n\n"));
            continue;
        };
        md.push_str(&format!(
            "**{g}** (t = {}):\n\n| parameter | memory | shuffled | observation | window | untrained |\n|---|---:|---:|---:|---:|---:|\n",
            times[ti]
        ));
        for (k, name) in targets.iter().enumerate() {
            md.push_str(&format!(
                "| {} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |\n",
                name.as_str().unwrap_or(""),
                at("policy", ti, k),
                num(&gj["shuffled"]["ridge_r2"][ti][k]),
                at("observation", ti, k),
                at("window", ti, k),
                at("untrained", ti, k)
            ));
        }
        md.push('\n');
    }
    md.push_str("![R² vs time](figures/sysid_r2.png)\n");
    md
}
