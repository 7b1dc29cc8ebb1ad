//! The curl-field study's report: behaviour across phases (deviation, after-effects,
//! savings) per seed with CIs, figures, `report.json` and `report.md`.

use crate::curl_figures::{draw_ring, draw_shift_vs_distance, draw_washout_angle, png_and_svg, Drawn};
use anyhow::{Context, Result};
use engram_agents::experiment::curl_field::{CurlFieldJob, PHASES, RECORDS_FILE};
use engram_agents::experiment::prep_record::PrepRecord;
use engram_agents::plan::{Markers, Plan};
use engram_agents::probe::prep_shift::{report as prep_shift_report, PhaseStates, PrepShiftConfig, PrepShiftInput};
use engram_agents::probe::Matrix;
use engram_agents::render::chart::xy_chart;
use engram_agents::render::{draw_paths, CentreOutRun};
use plotters::prelude::*;
use rand::SeedableRng;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Criterion for "learned" in the savings measure: |deviation| at or below this fraction of
/// the first-exposure deviation.
const SAVINGS_CRITERION: f64 = 0.5;
/// Success rate the null-field reaches must reach (issue bar).
const SUCCESS_BAR: f64 = 0.9;

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

/// Mean and 95 % t-interval half-width.
fn mean_ci(v: &[f64]) -> (f64, f64) {
    let n = v.len();
    let m = mean(v);
    if n < 2 {
        return (m, f64::NAN);
    }
    let sd = (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt();
    (m, engram_agents::probe::stats::student_t_quantile(0.975, (n - 1) as f64) * sd / (n as f64).sqrt())
}

/// Subspace stability across seeds: the baseline force axes' decoding R² on baseline itself
/// and at the last recording of each later phase, and the mean principal angle between the
/// baseline axes and axes refitted there (mean ± 95 % t-interval over seeds).
fn stability_table(per_seed: &[engram_agents::probe::prep_shift::PrepShiftSeed]) -> String {
    let mut md = String::from(
        "Subspace stability (baseline force axes applied later; R² 1 = the same force code, principal angle 0° = the same plane):\n\n| checkpoint | force R² of the baseline axes | mean principal angle to refitted axes (°) |\n|---|---|---|\n",
    );
    let cell = |v: Vec<f64>| {
        let v: Vec<f64> = v.into_iter().filter(|x| x.is_finite()).collect();
        let (m, ci) = mean_ci(&v);
        format!("{m:.3} ± {ci:.3} (n = {})", v.len())
    };
    let baseline: Vec<f64> = per_seed.iter().map(|s| s.force_r2_baseline).collect();
    md.push_str(&format!("| end of baseline (fit) | {} | 0 |\n", cell(baseline)));
    for phase in ["learning", "washout", "relearning"] {
        let last = |s: &engram_agents::probe::prep_shift::PrepShiftSeed| {
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

/// Per-seed behaviour of one job.
struct SeedBehaviour {
    seed: u64,
    variant: String,
    b: f64,
    /// (update, phase, mean signed deviation m, success rate) per record.
    curve: Vec<(usize, String, f64, f64)>,
    records: Vec<PrepRecord>,
}

impl SeedBehaviour {
    fn phase(&self, name: &str) -> Vec<&(usize, String, f64, f64)> {
        self.curve.iter().filter(|c| c.1 == name).collect()
    }
    fn first(&self, name: &str) -> f64 {
        self.phase(name).first().map_or(f64::NAN, |c| c.2)
    }
    fn last(&self, name: &str) -> f64 {
        self.phase(name).last().map_or(f64::NAN, |c| c.2)
    }
    /// Mean success rate over the phase's records (one recording moves with every PPO
    /// update, so the phase's mean is the steadier figure).
    fn mean_success(&self, name: &str) -> f64 {
        mean(&self.phase(name).iter().map(|c| c.3).collect::<Vec<_>>())
    }
    /// Updates into the phase until |dev| ≤ criterion × |first exposure of learning|.
    fn updates_to_criterion(&self, name: &str, reference: f64) -> f64 {
        let pts = self.phase(name);
        let start = pts.first().map_or(0, |c| c.0);
        pts.iter().find(|c| c.2.abs() <= SAVINGS_CRITERION * reference.abs()).map_or(f64::NAN, |c| (c.0 - start) as f64)
    }
    /// Mean |deviation| over the phase's records (area under the error curve per record).
    fn error_area(&self, name: &str) -> f64 {
        mean(&self.phase(name).iter().map(|c| c.2.abs()).collect::<Vec<_>>())
    }
}

fn load(plan: &Plan, dir: &Path) -> Result<Vec<SeedBehaviour>> {
    let mut out = vec![];
    for j in &plan.jobs {
        let spec: CurlFieldJob = toml::from_str(&j.config).with_context(|| format!("job {}", j.id))?;
        let path = dir.join(&j.out_dir).join(RECORDS_FILE);
        let records: Vec<PrepRecord> = serde_json::from_str(
            &std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?,
        )
        .with_context(|| format!("parsing {}", path.display()))?;
        let curve = records
            .iter()
            .map(|r| (r.update, r.phase.clone(), mean(&r.max_lateral_deviation_m), mean(&r.success_rate)))
            .collect();
        out.push(SeedBehaviour {
            seed: spec.seed,
            variant: spec.variant.name().into(),
            b: spec.experiment.b_ns_m,
            curve,
            records,
        });
    }
    Ok(out)
}

fn stat(name: &str, per_seed: Vec<f64>, unit: &str) -> serde_json::Value {
    let finite: Vec<f64> = per_seed.iter().copied().filter(|x| x.is_finite()).collect();
    let (m, ci) = mean_ci(&finite);
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

fn draw_curve(seeds: &[&SeedBehaviour], out: &Path, phase_ends: &[usize]) -> Result<()> {
    png_and_svg!(out, (900, 500), draw_curve_on(seeds, phase_ends))
}

/// Seed of the bootstrap and shuffled nulls of the probe (fixed: reports are reproducible).
const PROBE_SEED: u64 = 20_221_217;

fn phase_states(r: &PrepRecord, label: String) -> Result<PhaseStates> {
    let n = r.targets.len();
    Ok(PhaseStates {
        label,
        states: Matrix::new(n, r.hidden, r.prep_last.clone())?,
        forces: Matrix::new(n, 2, r.init_force.clone())?,
    })
}

/// The probe's input for one seed: baseline = end of baseline, then end of learning and of
/// washout, and every other recording after pretraining as an extra checkpoint. The trained
/// target is target 0 (the field acts on every target in this protocol, so the angular
/// analysis asks whether the shift depends on the direction relative to target 0).
fn probe_input(s: &SeedBehaviour) -> Result<Option<PrepShiftInput>> {
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
        .collect::<Result<Vec<_>>>()?;
    Ok(Some(PrepShiftInput {
        trained_target_rad: angles[0],
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
pub fn prep_shift(run: &Path, min_success: Option<f64>) -> Result<PathBuf> {
    if let Some(m) = min_success.filter(|m| !(0.0..=1.0).contains(m)) {
        anyhow::bail!("--min-success {m}: must be a fraction in [0, 1]");
    }
    let (plan, dir) = Plan::load(run)?;
    if plan.study != "curl-field" {
        anyhow::bail!(
            "{} holds a `{}` study; prep-shift reads a curl-field study (`engram experiment curl-field`)",
            run.display(),
            plan.study
        );
    }
    crate::study::finished_jobs(&plan, &dir)?;
    write_report(&plan, &dir, min_success)
}

/// Writes the study's report into its directory; returns the path of `report.md`. With
/// `min_success`, seeds whose mean null-field success over the baseline recordings is below
/// it (agents that did not learn the task) are excluded from every statistic and listed.
pub fn write_report(plan: &Plan, dir: &Path, min_success: Option<f64>) -> Result<PathBuf> {
    let analysis_start = std::time::Instant::now();
    let (seeds, excluded): (Vec<SeedBehaviour>, Vec<SeedBehaviour>) =
        load(plan, dir)?.into_iter().partition(|s| min_success.is_none_or(|m| s.mean_success("baseline") >= m));
    if seeds.is_empty() {
        anyhow::bail!(
            "every seed has a mean baseline success below --min-success {}; nothing to report",
            min_success.unwrap_or(0.0)
        );
    }
    let fig_dir = dir.join("figures");
    std::fs::create_dir_all(&fig_dir)?;
    let mut variants: BTreeMap<String, Vec<&SeedBehaviour>> = BTreeMap::new();
    for s in &seeds {
        variants.entry(s.variant.clone()).or_default().push(s);
    }
    let spec: CurlFieldJob = toml::from_str(&plan.jobs[0].config)?;
    let ends = spec.experiment.updates.ends();
    let mut report_variants = serde_json::Map::new();
    let mut md = format!(
        "# Curl-field study\n\nPlan `{}` (engram {}), {} jobs. Curl b = {:+} N·s/m (+ = clockwise: pushes right of the motion). Phase updates: {:?}.\n\n",
        plan.config_hash, plan.engram_version, plan.jobs.len(), spec.experiment.b_ns_m, spec.experiment.updates
    );
    let excluded_json: Vec<serde_json::Value> = excluded
        .iter()
        .map(|s| serde_json::json!({"variant": s.variant, "seed": s.seed, "baseline_success": s.mean_success("baseline")}))
        .collect();
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
    for (variant, ss) in &variants {
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
        // A sign is "shown" only when its 95 % CI across seeds excludes zero, and the
        // deviation checks only mean something once the agent reaches in the null field.
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
        let caveat = if reaches {
            String::new()
        } else {
            format!(
                "**The agents do not reach the targets in the null field ({:.0} % success, bar {:.0} %): the deviation, after-effect and savings values below describe movements that are not reaches, so none of those behaviours is counted as shown.**\n\n",
                100.0 * g(&success),
                100.0 * SUCCESS_BAR
            )
        };
        md.push_str(&format!(
            "## Variant `{variant}` ({} seeds)\n\n| expected behaviour | appeared | value |\n|---|---|---|\n",
            ss.len()
        ));
        for (what, ok, val) in &checks {
            md.push_str(&format!("| {what} | {} | {val} |\n", if *ok { "yes" } else { "**no**" }));
        }
        md.push('\n');
        md.push_str(&caveat);
        md.push_str("\n| statistic | mean ± 95% CI | per seed |\n|---|---|---|\n");
        let stats =
            [&success, &first, &end, &after, &relearn_first, &utc_learn, &utc_relearn, &area_learn, &area_relearn];
        for s in stats {
            let scale = if s["unit"] == "m" { 1e3 } else { 1.0 };
            let unit = if s["unit"] == "m" { "mm" } else { s["unit"].as_str().unwrap_or("") };
            let per: Vec<String> = s["per_seed"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|x| format!("{:.2}", x.as_f64().unwrap_or(f64::NAN) * scale))
                .collect();
            md.push_str(&format!(
                "| {} ({unit}) | {:.2} ± {:.2} | {} |\n",
                s["name"].as_str().unwrap_or(""),
                g(s) * scale,
                s["ci95"].as_f64().unwrap_or(f64::NAN) * scale,
                per.join(", ")
            ));
        }
        let curve_path = fig_dir.join(format!("deviation_{variant}"));
        draw_curve(ss, &curve_path, &ends).context("drawing the deviation curve")?;
        md.push_str(&format!(
            "\n![deviation](figures/deviation_{variant}.png)\n\nHand paths of seed {} at the end of each phase:\n\n",
            ss[0].seed
        ));
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
        let inputs: Vec<(u64, PrepShiftInput)> = ss
            .iter()
            .filter_map(|s| probe_input(s).transpose().map(|i| i.map(|i| (s.seed, i))))
            .collect::<Result<_>>()?;
        let prep = if inputs.is_empty() {
            md.push_str("Preparatory-shift probe: no recurrent hidden state recorded.\n\n");
            serde_json::Value::Null
        } else {
            let cfg = PrepShiftConfig::default();
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(PROBE_SEED);
            match prep_shift_report(&inputs, &cfg, &mut rng) {
                Ok(rep) => {
                    md.push_str(&format!(
                        "### Preparatory-subspace shift ({} seeds; force subspace fitted at the end of baseline)\n\n| statistic | mean [{:.0}% CI] | shuffled null [interval] | p (two-sided) | per seed |\n|---|---|---|---|---|\n",
                        inputs.len(),
                        100.0 * cfg.level
                    ));
                    for st in &rep.statistics {
                        let per: Vec<String> = st.per_seed.iter().map(|x| format!("{x:.3}")).collect();
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
                    md.push('\n');
                    md.push_str(&stability_table(&rep.per_seed));
                    let per: Vec<(u64, _)> = rep.seeds.iter().copied().zip(&rep.per_seed).collect();
                    let ring = format!("ring_{variant}");
                    draw_ring(&fig_dir.join(&ring), inputs[0].0, &inputs[0].1, &rep.per_seed[0])?;
                    let shift = format!("shift_vs_distance_{variant}");
                    draw_shift_vs_distance(&fig_dir.join(&shift), &per)?;
                    let angle = format!("washout_angle_{variant}");
                    draw_washout_angle(&fig_dir.join(&angle), &per)?;
                    md.push_str(&format!(
                        "Preparatory states of the {} targets in the baseline force plane (the ring), per phase; the per-target shift along the uniform axis against angular distance from target 0; and the angle between the learning and washout shifts over washout:\n\n![ring](figures/{ring}.png) ![shift](figures/{shift}.png) ![angle](figures/{angle}.png)\n\n",
                        inputs[0].1.target_angles_rad.len()
                    ));
                    serde_json::to_value(&rep)?
                }
                Err(e) => {
                    md.push_str(&format!("Preparatory-shift probe could not run: {e}\n\n"));
                    serde_json::json!({"error": e.to_string()})
                }
            }
        };
        report_variants.insert(
            variant.clone(),
            serde_json::json!({
                "checks": checks.iter().map(|(w, ok, v)| serde_json::json!({"expected": w, "appeared": ok, "value": v})).collect::<Vec<_>>(),
                "statistics": stats.iter().map(|s| (*s).clone()).collect::<Vec<_>>(),
                "seeds": ss.iter().map(|s| s.seed).collect::<Vec<_>>(),
                "prep_shift": prep,
            }),
        );
    }
    // Where the time went: each job's training and recording (from its done marker; only the
    // last invocation's time if the job was resumed), and this analysis.
    let job_seconds: Vec<serde_json::Value> = plan
        .jobs
        .iter()
        .filter_map(|j| Markers::new(&dir.join(&j.out_dir)).done().map(|d| d["seconds"].clone()))
        .filter(|s| s.is_object())
        .collect();
    let total = |k: &str| job_seconds.iter().filter_map(|s| s[k].as_f64()).sum::<f64>() + 0.0;
    let analysis_s = analysis_start.elapsed().as_secs_f64();
    md.push_str(&format!(
        "## Time\n\nSummed over {} jobs (jobs run in parallel, so the wall time is less): training {:.0} s, recording {:.0} s; this report and probe: {:.1} s.\n",
        job_seconds.len(),
        total("train"),
        total("record"),
        analysis_s
    ));
    let report = serde_json::json!({
        "schema": "engram.report.curl-field/1",
        "seconds": {"train_summed": total("train"), "record_summed": total("record"), "analysis": analysis_s, "per_job": job_seconds},
        "engram_version": plan.engram_version,
        "plan_config_hash": plan.config_hash,
        "phases": PHASES,
        "phase_ends": ends,
        "variants": report_variants,
        "min_success": min_success,
        "excluded": excluded_json,
    });
    engram_agents::io::atomic_write(&dir.join("report.json"), serde_json::to_string_pretty(&report)?.as_bytes())?;
    let md_path = dir.join("report.md");
    engram_agents::io::atomic_write(&md_path, md.as_bytes())?;
    Ok(md_path)
}
