//! The curl-field study's report: behaviour across phases (deviation, after-effects,
//! savings) per seed with CIs, figures, `report.json` and `report.md`.

use super::behaviour::{load, SeedBehaviour};
use super::figures::{draw_delay_pca, draw_ring, draw_shift_vs_distance, draw_washout_angle};
use super::record::record_delay_trajectories;
use super::{CurlFieldJob, PrepRecord, PHASES};
use crate::error::{AgentError, Context};
use crate::probe::prep_shift::{
    report as prep_shift_report, PhaseStates, PrepShiftConfig, PrepShiftInput, PrepShiftReport,
};
use crate::probe::Matrix;
use crate::render::chart::{png_and_svg, xy_chart, Drawn};
use crate::render::{draw_paths, CentreOutRun};
use crate::stats::{self, mean};
use crate::study::{Markers, Plan};
use plotters::prelude::*;
use rand::SeedableRng;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Success rate the null-field reaches must reach (issue bar).
const SUCCESS_BAR: f64 = 0.9;

/// Mean and 95 % Student-t half-width over the finite values (NaN, NaN when there are none).
fn mean_ci(v: &[f64]) -> (f64, f64) {
    let v = stats::finite(v);
    stats::summarize(&v, stats::DEFAULT_LEVEL).map_or((f64::NAN, f64::NAN), |s| (s.mean, s.half_width))
}

/// Subspace stability across seeds: the baseline force axes' decoding R² on baseline itself
/// and at the last recording of each later phase, and the mean principal angle between the
/// baseline axes and axes refitted there (mean ± 95 % t-interval over seeds).
fn stability_table(per_seed: &[crate::probe::prep_shift::PrepShiftSeed]) -> String {
    let mut md = String::from(
        "Subspace stability (baseline force axes applied later; R² 1 = the same force code, principal angle 0° = the same plane):\n\n| checkpoint | force R² of the baseline axes | mean principal angle to refitted axes (°) |\n|---|---|---|\n",
    );
    let cell = |v: Vec<f64>| {
        let (m, ci) = mean_ci(&v);
        format!("{m:.3} ± {ci:.3} (n = {})", stats::finite(&v).len())
    };
    let baseline: Vec<f64> = per_seed.iter().map(|s| s.force_r2_baseline).collect();
    md.push_str(&format!("| end of baseline (fit) | {} | 0 |\n", cell(baseline)));
    for phase in ["learning", "washout", "relearning"] {
        let last = |s: &crate::probe::prep_shift::PrepShiftSeed| {
            s.checkpoints
                .iter()
                .filter(|c| c.label.starts_with(&format!("{phase}_")))
                .max_by_key(|c| c.label.rsplit('_').next().and_then(|u| u.parse::<usize>().ok()).unwrap_or(0))
                .cloned()
        };
        let found: Vec<_> = per_seed.iter().filter_map(last).collect();
        if found.is_empty() {
            continue;
        }
        let r2 = found.iter().map(|c| c.force_r2_baseline_axes).collect();
        let angle = found.iter().map(|c| mean(&c.principal_angles_deg)).collect();
        md.push_str(&format!("| end of {phase} | {} | {} |\n", cell(r2), cell(angle)));
    }
    md.push('\n');
    md
}

fn stat(name: &str, per_seed: Vec<f64>, unit: &str) -> serde_json::Value {
    let (m, ci) = mean_ci(&per_seed);
    serde_json::json!({"name": name, "unit": unit, "mean": m, "ci95": ci, "per_seed": per_seed})
}

fn draw_curve_on<DB: DrawingBackend>(
    root: DrawingArea<DB, plotters::coord::Shift>,
    seeds: &[&SeedBehaviour],
    phase_ends: &[usize],
) -> Drawn
where
    DB::ErrorType: 'static,
{
    let pts: Vec<&(usize, String, f64, f64)> = seeds.iter().flat_map(|s| s.curve.iter()).collect();
    let xmax = pts.iter().map(|c| c.0).max().unwrap_or(1) as f64;
    // From the start of baseline: pretraining is recorded only at its end.
    let xmin = (phase_ends[0] as f64 - 0.02 * (xmax - phase_ends[0] as f64)).min(xmax - 1.0).max(0.0);
    let ymax = pts.iter().map(|c| c.2.abs() * 1e3).fold(1.0, f64::max) * 1.1;
    let mut chart = xy_chart(
        &root,
        "Signed max lateral deviation across phases",
        (xmin, xmax),
        (-ymax, ymax),
        ("PPO update", "deviation (mm, + = right of the reach)"),
    )?;
    chart.draw_series(LineSeries::new([(xmin, 0.0), (xmax, 0.0)], BLACK.mix(0.5)))?;
    for (i, &e) in phase_ends.iter().enumerate().take(4) {
        let x = e as f64;
        chart.draw_series(LineSeries::new([(x, -ymax), (x, ymax)], BLACK.mix(0.3)))?;
        // Each phase's name near its start, inside its span.
        chart.draw_series([Text::new(PHASES[i + 1], (x + 0.01 * (xmax - xmin), ymax * 0.92), ("sans-serif", 14))])?;
    }
    for s in seeds {
        chart.draw_series(LineSeries::new(s.curve.iter().map(|c| (c.0 as f64, c.2 * 1e3)), BLUE.mix(0.35)))?;
    }
    // Mean over seeds at each recorded (update, phase).
    let mut by: BTreeMap<(usize, usize), Vec<f64>> = BTreeMap::new();
    for s in seeds {
        for c in &s.curve {
            let p = PHASES.iter().position(|x| *x == c.1).unwrap_or(0);
            by.entry((c.0, p)).or_default().push(c.2 * 1e3);
        }
    }
    chart.draw_series(LineSeries::new(by.iter().map(|((u, _), v)| (*u as f64, mean(v))), BLUE.stroke_width(3)))?;
    root.present()?;
    Ok(())
}

fn draw_curve(seeds: &[&SeedBehaviour], out: &Path, phase_ends: &[usize]) -> Result<(), AgentError> {
    png_and_svg!(out, (900, 500), draw_curve_on(seeds, phase_ends))
}

/// Seed of the bootstrap and shuffled nulls of the probe (fixed: reports are reproducible).
const PROBE_SEED: u64 = 20_221_217;

fn phase_states(r: &PrepRecord, label: String) -> Result<PhaseStates, AgentError> {
    let n = r.targets.len();
    Ok(PhaseStates {
        label,
        states: Matrix::new(n, r.hidden, r.prep_last.clone())?,
        forces: Matrix::new(n, 2, r.init_force.clone())?,
    })
}

/// The probe's input for one seed: baseline = end of baseline, then end of learning and of
/// washout, and every other recording after pretraining as an extra checkpoint. The angular
/// analysis measures distance from the trained target (Sun et al.: the field acts on it
/// alone; in the classic protocol it is a reference direction).
fn probe_input(s: &SeedBehaviour) -> Result<Option<PrepShiftInput>, AgentError> {
    let last = |p: &str| s.records.iter().rev().find(|r| r.phase == p);
    let (Some(b), Some(l), Some(w)) = (last("baseline"), last("learning"), last("washout")) else {
        return Ok(None);
    };
    if b.hidden == 0 {
        return Ok(None);
    }
    let angles: Vec<f64> = b.targets.iter().map(|t| (t[1] - b.start[1]).atan2(t[0] - b.start[0])).collect();
    let checkpoints = s
        .records
        .iter()
        .filter(|r| r.phase != "pretrain")
        .map(|r| phase_states(r, format!("{}_{}", r.phase, r.update)))
        .collect::<Result<Vec<_>, AgentError>>()?;
    Ok(Some(PrepShiftInput {
        trained_target_rad: angles[s.trained.min(angles.len() - 1)],
        target_angles_rad: angles,
        baseline: phase_states(b, "baseline_end".into())?,
        end_learning: phase_states(l, "learning_end".into())?,
        end_washout: phase_states(w, "washout_end".into())?,
        checkpoints,
    }))
}

/// `engram probe prep-shift --run DIR`: the report of the curl-field study in `DIR` (or its
/// `plan.json`) from its jobs' recordings, once every job has finished; seeds whose mean
/// baseline success is below `min_success` are left out of the statistics and listed.
pub fn prep_shift(run: &Path, min_success: Option<f64>) -> Result<PathBuf, AgentError> {
    if let Some(m) = min_success.filter(|m| !(0.0..=1.0).contains(m)) {
        return Err(AgentError::Study(format!("--min-success {m}: must be a fraction in [0, 1]")));
    }
    let (plan, dir) = Plan::load(run)?;
    if plan.study != "curl-field" {
        return Err(AgentError::Study(format!(
            "{} holds a `{}` study; prep-shift reads a curl-field study (`engram experiment curl-field`)",
            run.display(),
            plan.study
        )));
    }
    crate::study::exec::finished_jobs(&plan, &dir)?;
    write_report(&plan, &dir, min_success)
}

/// Writes the study's report into its directory; returns the path of `report.md`. With
/// `min_success`, seeds whose mean null-field success over the baseline recordings is below
/// it (agents that did not learn the task) are excluded from every statistic and listed.
pub fn write_report(plan: &Plan, dir: &Path, min_success: Option<f64>) -> Result<PathBuf, AgentError> {
    let analysis_start = std::time::Instant::now();
    let spec: CurlFieldJob = toml::from_str(&plan.jobs[0].config).ctx(|| format!("job {}", plan.jobs[0].id))?;
    // The exclusion rule is the config's (fixed before the run, in the plan hash) unless the
    // command line overrides it.
    let min_success = min_success.or(spec.experiment.gate_min_success);
    let (seeds, excluded): (Vec<SeedBehaviour>, Vec<SeedBehaviour>) =
        load(plan, dir)?.into_iter().partition(|s| min_success.is_none_or(|m| s.mean_success("baseline") >= m));
    if seeds.is_empty() {
        return Err(AgentError::Study(format!(
            "every seed has a mean baseline success below --min-success {}; nothing to report",
            min_success.unwrap_or(0.0)
        )));
    }
    let fig_dir = dir.join("figures");
    std::fs::create_dir_all(&fig_dir).map_err(|e| AgentError::io(&fig_dir, e))?;
    let mut variants: BTreeMap<String, Vec<&SeedBehaviour>> = BTreeMap::new();
    for s in &seeds {
        variants.entry(s.variant.clone()).or_default().push(s);
    }
    let ends = spec.experiment.updates.ends();
    let mut md = header(plan, &spec, min_success, &excluded);
    let mut report_variants = serde_json::Map::new();
    let mut preps = BTreeMap::new();
    for (variant, ss) in &variants {
        let (section, json, prep) = variant_section(variant, ss, &ends, &fig_dir)?;
        md.push_str(&section);
        report_variants.insert(variant.clone(), json);
        if let Some(p) = prep {
            preps.insert(variant.clone(), p);
        }
    }
    let (controls_md, controls) = super::controls::controls_section(&variants, &preps)?;
    md.push_str(&controls_md);
    let (time_md, seconds) = time_section(plan, dir, analysis_start.elapsed().as_secs_f64());
    md.push_str(&time_md);
    let excluded_json: Vec<serde_json::Value> = excluded
        .iter()
        .map(|s| serde_json::json!({"variant": s.variant, "seed": s.seed, "baseline_success": s.mean_success("baseline")}))
        .collect();
    let report = serde_json::json!({
        "schema": "engram.report.curl-field/1",
        "seconds": seconds,
        "engram_version": plan.engram_version,
        "plan_config_hash": plan.config_hash,
        "phases": PHASES,
        "phase_ends": ends,
        "variants": report_variants,
        "min_success": min_success,
        "excluded": excluded_json,
        "controls": controls,
    });
    crate::io::write_json(&dir.join("report.json"), &report)?;
    let md_path = dir.join("report.md");
    crate::io::write_text(&md_path, &md)?;
    Ok(md_path)
}

/// The report's title, protocol line and exclusion rule.
fn header(plan: &Plan, spec: &CurlFieldJob, min_success: Option<f64>, excluded: &[SeedBehaviour]) -> String {
    let u = &spec.experiment.updates;
    let mut md = format!(
        "# Curl-field study\n\nPlan `{}` (engram {}), {} jobs. Curl b = {:+} N·s/m (+ = clockwise: pushes right of the motion). \
         PPO updates per phase: pretrain {}, baseline {}, learning {}, washout {}, relearning {}. \
         Intervals: mean ± 95 % Student-t interval over seeds.\n\n",
        plan.config_hash,
        plan.engram_version,
        plan.jobs.len(),
        spec.experiment.b_ns_m,
        u.pretrain,
        u.baseline,
        u.learning,
        u.washout,
        u.relearning
    );
    if let Some(m) = min_success {
        let list: Vec<String> = excluded
            .iter()
            .map(|s| format!("{} seed {} ({:.0} %)", s.variant, s.seed, 100.0 * s.mean_success("baseline")))
            .collect();
        md.push_str(&format!(
            "Seeds whose mean null-field success over the baseline recordings is below {:.0} % are left out of every statistic below: {}.\n\n",
            100.0 * m,
            if list.is_empty() { "none".to_string() } else { list.join(", ") }
        ));
    }
    md
}

/// One behaviour check: what is expected, whether it appeared, the value behind it.
type Check = (&'static str, bool, String);

/// The behaviour statistics of one variant (per seed, with intervals) and the checks on them.
fn behaviour(ss: &[&SeedBehaviour]) -> (Vec<serde_json::Value>, Vec<Check>, Option<String>) {
    let b_sign = ss[0].b.signum();
    let per = |f: &dyn Fn(&SeedBehaviour) -> f64| ss.iter().map(|s| f(s)).collect::<Vec<f64>>();
    let success = stat(
        "null-field success rate (baseline, mean of its recordings)",
        per(&|s| s.mean_success("baseline")),
        "fraction",
    );
    let first = stat("deviation, first exposure (start of learning)", per(&|s| s.first("learning")), "m");
    let end = stat("deviation, end of learning", per(&|s| s.last("learning")), "m");
    let after = stat("after-effect (start of washout)", per(&|s| s.first("washout")), "m");
    let relearn_first = stat("deviation, start of relearning", per(&|s| s.first("relearning")), "m");
    let utc_learn = stat(
        "updates to criterion, learning",
        per(&|s| s.updates_to_criterion("learning", s.first("learning"))),
        "updates",
    );
    let utc_relearn = stat(
        "updates to criterion, relearning",
        per(&|s| s.updates_to_criterion("relearning", s.first("learning"))),
        "updates",
    );
    let area_learn = stat("mean abs deviation, learning", per(&|s| s.error_area("learning")), "m");
    let area_relearn = stat("mean abs deviation, relearning", per(&|s| s.error_area("relearning")), "m");
    let g = |v: &serde_json::Value| v["mean"].as_f64().unwrap_or(f64::NAN);
    // A sign is "shown" only when its 95 % CI across seeds excludes zero, and the deviation
    // checks only mean something once the agent reaches in the null field.
    let ci = |v: &serde_json::Value| v["ci95"].as_f64().unwrap_or(f64::NAN);
    let signed = |v: &serde_json::Value, sign: f64| g(v) * sign > 0.0 && g(v).abs() > ci(v);
    let reaches = g(&success) >= SUCCESS_BAR;
    let first_shown = signed(&first, b_sign);
    let checks = vec![
        ("null-field reaches succeed (≥ 90 %)", reaches, format!("{:.0} %", 100.0 * g(&success))),
        (
            "first-exposure deviation in the field's direction (CI excludes 0)",
            reaches && first_shown,
            format!("{:+.1} ± {:.1} mm", 1e3 * g(&first), 1e3 * ci(&first)),
        ),
        (
            "deviation shrinks with learning",
            reaches && first_shown && g(&end).abs() < g(&first).abs(),
            format!("{:+.1} → {:+.1} mm", 1e3 * g(&first), 1e3 * g(&end)),
        ),
        (
            "mirror-image after-effect in washout (CI excludes 0)",
            reaches && first_shown && signed(&after, -b_sign),
            format!("{:+.1} ± {:.1} mm", 1e3 * g(&after), 1e3 * ci(&after)),
        ),
        (
            "relearning faster than learning (savings)",
            reaches && first_shown && g(&area_relearn) < g(&area_learn),
            format!("mean abs deviation {:.1} vs {:.1} mm", 1e3 * g(&area_relearn), 1e3 * g(&area_learn)),
        ),
    ];
    let caveat = (!reaches).then(|| {
        format!(
            "**The agents do not reach the targets in the null field ({:.0} % success, bar {:.0} %): the deviation, after-effect and savings values below describe movements that are not reaches, so none of those behaviours is counted as shown.**\n\n",
            100.0 * g(&success),
            100.0 * SUCCESS_BAR
        )
    });
    let stats = vec![success, first, end, after, relearn_first, utc_learn, utc_relearn, area_learn, area_relearn];
    (stats, checks, caveat)
}

/// The statistics as a Markdown table (millimetres for lengths), per-seed values beside.
fn stats_table(stats: &[serde_json::Value]) -> String {
    let mut md = String::from("\n| statistic | mean ± 95% CI | per seed |\n|---|---|---|\n");
    for s in stats {
        let scale = if s["unit"] == "m" { 1e3 } else { 1.0 };
        let unit = if s["unit"] == "m" { "mm" } else { s["unit"].as_str().unwrap_or("") };
        let num = |v: &serde_json::Value| v.as_f64().map_or("n/a".to_string(), |x| format!("{:.2}", x * scale));
        let per: Vec<String> = s["per_seed"].as_array().into_iter().flatten().map(num).collect();
        md.push_str(&format!(
            "| {} ({unit}) | {} ± {} | {} |\n",
            s["name"].as_str().unwrap_or(""),
            num(&s["mean"]),
            num(&s["ci95"]),
            per.join(", ")
        ));
    }
    md
}

/// The deviation curve and the first seed's hand paths at the end of each phase.
fn behaviour_figures(
    variant: &str,
    ss: &[&SeedBehaviour],
    ends: &[usize],
    fig_dir: &Path,
) -> Result<String, AgentError> {
    draw_curve(ss, &fig_dir.join(format!("deviation_{variant}")), ends)?;
    let mut md = format!(
        "\n![deviation](figures/deviation_{variant}.png)\n\nHand paths of seed {} at the end of each phase:\n\n",
        ss[0].seed
    );
    for phase in &PHASES[1..] {
        if let Some(r) = ss[0].records.iter().rev().find(|r| r.phase == *phase) {
            let run = CentreOutRun {
                env: "CurlReach".into(),
                controller: format!("{variant} seed {}", ss[0].seed),
                field_b: r.field_b,
                start: r.start,
                targets: r.targets.clone(),
                paths: r.paths.clone(),
                metrics: r.trials.clone(),
            };
            let file = format!("paths_{variant}_{phase}.png");
            draw_paths(&run, &format!("{phase} (update {})", r.update), &fig_dir.join(&file))?;
            md.push_str(&format!("![{phase}](figures/{file}) "));
        }
    }
    md.push_str("\n\n");
    Ok(md)
}

/// The preparatory-subspace shift section of one variant (Markdown, JSON).
fn prep_shift_section(
    variant: &str,
    ss: &[&SeedBehaviour],
    fig_dir: &Path,
) -> Result<(String, serde_json::Value, Option<PrepShiftReport>), AgentError> {
    let inputs: Vec<(u64, PrepShiftInput)> = ss
        .iter()
        .filter_map(|s| probe_input(s).transpose().map(|i| i.map(|i| (s.seed, i))))
        .collect::<Result<_, AgentError>>()?;
    if inputs.is_empty() {
        return Ok((
            "Preparatory-shift probe: no recurrent hidden state recorded.\n\n".into(),
            serde_json::Value::Null,
            None,
        ));
    }
    let cfg = PrepShiftConfig::default();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(PROBE_SEED);
    let rep = match prep_shift_report(&inputs, &cfg, &mut rng) {
        Ok(rep) => rep,
        Err(e) => {
            let md = format!("Preparatory-shift probe could not run: {e}\n\n");
            return Ok((md, serde_json::json!({"error": e.to_string()}), None));
        }
    };
    let mut md = format!(
        "### Preparatory-subspace shift ({} seeds; force subspace fitted at the end of baseline)\n\nEach statistic against its shuffled-checkpoint null; these are descriptive within the variant. The claims rest on the differences from the drift control and the tests in **Controls and tests** below.\n\n| statistic | mean [{:.0}% CI] | shuffled null [interval] | p (two-sided) | per seed |\n|---|---|---|---|---|\n",
        inputs.len(),
        100.0 * cfg.level
    );
    // A statistic the protocol cannot define (e.g. a near/far comparison when the field acts
    // on every target) has no row; it is named below the table instead.
    let mut untestable = vec![];
    for st in &rep.statistics {
        if !st.mean_ci.estimate.is_finite() {
            untestable.push(st.name.clone());
            continue;
        }
        let per: Vec<String> =
            st.per_seed.iter().map(|x| if x.is_finite() { format!("{x:.3}") } else { "n/a".into() }).collect();
        md.push_str(&format!(
            "| {} | {:.3} [{:.3}, {:.3}] | {:.3} [{:.3}, {:.3}] | {:.3} | {} |\n",
            st.name,
            st.mean_ci.estimate,
            st.mean_ci.lo,
            st.mean_ci.hi,
            st.null.mean,
            st.null.lo,
            st.null.hi,
            st.null.p_two_sided,
            per.join(", ")
        ));
    }
    if !untestable.is_empty() {
        md.push_str(&format!(
            "\nNot testable in this protocol (undefined for these recordings): {}.\n",
            untestable.join(", ")
        ));
    }
    md.push('\n');
    md.push_str(&stability_table(&rep.per_seed));
    let per: Vec<(u64, _)> = rep.seeds.iter().copied().zip(&rep.per_seed).collect();
    let (ring, shift, angle) =
        (format!("ring_{variant}"), format!("shift_vs_distance_{variant}"), format!("washout_angle_{variant}"));
    draw_ring(&fig_dir.join(&ring), inputs[0].0, &inputs[0].1, &rep.per_seed[0])?;
    draw_shift_vs_distance(&fig_dir.join(&shift), &per)?;
    draw_washout_angle(&fig_dir.join(&angle), &per)?;
    md.push_str(&format!(
        "Preparatory states of the {} targets in the baseline force plane (the ring), per phase; the per-target shift along the uniform axis against angular distance from target 0; and the angle between the learning and washout shifts over washout:\n\n![ring](figures/{ring}.png) ![shift](figures/{shift}.png) ![angle](figures/{angle}.png)\n\n",
        inputs[0].1.target_angles_rad.len()
    ));
    let json = serde_json::to_value(&rep).map_err(|e| AgentError::Data(format!("prep-shift report: {e}")))?;
    Ok((md, json, Some(rep)))
}

/// One variant's section: checks, kinematics, statistics, figures and the prep-shift probe.
fn variant_section(
    variant: &str,
    ss: &[&SeedBehaviour],
    ends: &[usize],
    fig_dir: &Path,
) -> Result<(String, serde_json::Value, Option<PrepShiftReport>), AgentError> {
    let (stats, checks, caveat) = behaviour(ss);
    let mut md = format!(
        "## Variant `{variant}` ({} seeds)\n\n| expected behaviour | appeared | value |\n|---|---|---|\n",
        ss.len()
    );
    for (what, ok, val) in &checks {
        md.push_str(&format!("| {what} | {} | {val} |\n", if *ok { "yes" } else { "**no**" }));
    }
    md.push('\n');
    md.push_str(caveat.as_deref().unwrap_or(""));
    let (kin_md, kin) = super::controls::kinematics_section(ss);
    md.push_str(&kin_md);
    md.push_str(&stats_table(&stats));
    md.push_str(&behaviour_figures(variant, ss, ends, fig_dir)?);
    md.push_str(&super::figures::kinematics_figures(variant, ss, fig_dir)?);
    let (prep_md, prep, rep) = prep_shift_section(variant, ss, fig_dir)?;
    md.push_str(&prep_md);
    if let Some(first) = ss.first() {
        md.push_str(&delay_section(variant, first, ends, fig_dir)?);
    }
    let json = serde_json::json!({
        "checks": checks.iter().map(|(w, ok, v)| serde_json::json!({"expected": w, "appeared": ok, "value": v})).collect::<Vec<_>>(),
        "statistics": stats,
        "seeds": ss.iter().map(|s| s.seed).collect::<Vec<_>>(),
        "prep_shift": prep,
        "kinematics": kin,
    });
    Ok((md, json, rep))
}

/// PCA of one seed's preparatory trajectories over the delay at the end of baseline and of
/// learning, re-run from the job's checkpoints of those updates (Markdown; a line saying why
/// when a checkpoint is missing or the policy has no recurrent state).
fn delay_section(variant: &str, s: &SeedBehaviour, ends: &[usize], fig_dir: &Path) -> Result<String, AgentError> {
    let mut phases = vec![];
    for (label, update) in [("end of baseline", ends[1]), ("end of learning", ends[2])] {
        let ckpt = s.job_dir.join("checkpoints").join(format!("update_{update:06}"));
        if !ckpt.join("meta.json").exists() {
            return Ok(format!("Delay trajectories: no checkpoint `{}`; figure skipped.\n\n", ckpt.display()));
        }
        let policy = crate::checkpoint::load_policy(&ckpt)?;
        let (id, env_config) = (&policy.config.env, policy.config.env_config_json());
        let env = engram_envs::make_with(id, &env_config)?;
        let reach = engram_envs::tasks::reach::task_config(id, &env_config)?;
        let seed = s.seed.wrapping_mul(7919).wrapping_add(777);
        match record_delay_trajectories(&policy, env, reach.n_targets, seed) {
            Ok(t) => phases.push((label.to_string(), t)),
            Err(AgentError::Study(why)) => return Ok(format!("Delay trajectories: {why}; figure skipped.\n\n")),
            Err(e) => return Err(e),
        }
    }
    let name = format!("delay_pca_{variant}");
    // Too few states for PCA (a policy that ends its trials before the go cue) is reported, not fatal.
    if let Err(e) = draw_delay_pca(&fig_dir.join(&name), s.seed, &phases) {
        return Ok(format!("Delay trajectories of seed {}: {e}; figure skipped.\n\n", s.seed));
    }
    Ok(format!(
        "Preparatory trajectories over the delay (target onset to go cue, one deterministic trial per target, null field) of seed {}, on the first two principal components of its end-of-baseline trajectories:\n\n![delay PCA](figures/{name}.png)\n\n",
        s.seed
    ))
}

/// Where the time went: each job's training and recording (from its done marker; only the
/// last invocation's time if the job was resumed), and this analysis.
fn time_section(plan: &Plan, dir: &Path, analysis_s: f64) -> (String, serde_json::Value) {
    let job_seconds: Vec<serde_json::Value> = plan
        .jobs
        .iter()
        .filter_map(|j| Markers::new(&dir.join(&j.out_dir)).done().map(|d| d["seconds"].clone()))
        .filter(|s| s.is_object())
        .collect();
    let total = |k: &str| job_seconds.iter().filter_map(|s| s[k].as_f64()).sum::<f64>() + 0.0;
    let md = format!(
        "## Time\n\nSummed over {} jobs (jobs run in parallel, so the wall time is less): training {:.0} s, recording {:.0} s; this report and probe: {:.1} s.\n",
        job_seconds.len(),
        total("train"),
        total("record"),
        analysis_s
    );
    let json = serde_json::json!({"train_summed": total("train"), "record_summed": total("record"), "analysis": analysis_s, "per_job": job_seconds});
    (md, json)
}
