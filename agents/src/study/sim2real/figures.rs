//! The figures of the sim2real report (`figures/` in the study directory, each as PNG and
//! SVG): returns by condition, learning curves per group, return vs severity per held-out
//! family, decoding R² vs probe time per parameter, and stick-figure strips of one trained
//! policy per group on the training sim and on each held-out family.

use super::data::{ci, mean, r2_table, JobData, R2Table};
use super::{CONDITIONS, EVAL_SEED_OFFSET, HELD_OUT};
use crate::checkpoint;
use crate::controller::PolicyController;
use crate::error::AgentError;
use crate::render::biped::{frames_every, record_biped, render_biped_rows};
use crate::render::chart::{png_and_svg, Drawn};
use crate::render::COLOURS;
use crate::stats::Ci;
use engram_envs::registry::MAX_EPISODE_STEPS_KEY;
use engram_envs::tasks::biped;
use plotters::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;

/// Points per learning curve (seeds are interpolated onto a common grid of env steps).
const CURVE_POINTS: usize = 60;
/// Frames in a stick-figure strip and the control steps between them (32 × 8 ms = 0.256 s).
const STRIP_FRAMES: usize = 8;
const STRIP_EVERY_STEPS: usize = 32;
/// Columns of the per-parameter R² grid.
const R2_COLUMNS: usize = 6;

fn num(v: &serde_json::Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

fn ci_of(v: &serde_json::Value) -> Ci {
    Ci { estimate: num(&v["estimate"]), lo: num(&v["lo"]), hi: num(&v["hi"]), level: 0.95 }
}

/// Draws every figure into `figs`; a figure that fails is reported on stderr and left out.
/// Returns the names of the figures drawn (file stems under `figures/`).
pub(super) fn draw_all(
    jobs: &[JobData],
    groups: &[String],
    table: &[serde_json::Value],
    severity: &[serde_json::Value],
    figs: &Path,
) -> Vec<String> {
    let mut drawn = vec![];
    let mut keep = |name: &str, r: Result<(), AgentError>| match r {
        Ok(()) => drawn.push(name.to_string()),
        Err(e) => eprintln!("figure {name} not drawn: {e}"),
    };
    keep("returns", draw_returns(table, groups, &figs.join("returns")));
    keep("learning_curves", draw_learning_curves(jobs, groups, &figs.join("learning_curves")));
    if !severity.is_empty() {
        keep("return_vs_severity", draw_severity(table, severity, groups, &figs.join("return_vs_severity")));
    }
    if jobs.iter().any(|j| j.sysid.is_some()) {
        keep("sysid_r2", draw_r2(jobs, groups, &figs.join("sysid_r2")));
    }
    for (gi, g) in groups.iter().enumerate() {
        let name = format!("strips_{}", slug(g));
        keep(&name, draw_strips(jobs, g, gi, &figs.join(&name)));
    }
    drawn
}

fn slug(group: &str) -> String {
    group.to_lowercase().replace(['+', ' '], "_")
}

/// The report's figure section.
pub(super) fn markdown(drawn: &[String]) -> String {
    let caption = |name: &str| -> String {
        match name {
            "returns" => "Return by condition".into(),
            "learning_curves" => "Learning curves: mean return of the last 100 training episodes vs env steps, mean over seeds with the 95 % Student-t band".into(),
            "return_vs_severity" => "Return vs severity of each held-out family (0: robots drawn from the training distribution, 1: the full family), mean over seeds with 95 % intervals".into(),
            "sysid_r2" => "Ridge R² of each parameter vs probe time: memory (solid) and the observation-window baseline (thin) per group; a time with fewer than 80 % of the episodes alive is left out".into(),
            s => format!(
                "Stick figures of {} (the seed with the median training-sim return) every {STRIP_EVERY_STEPS} control steps on the training sim and each held-out family",
                s.trim_start_matches("strips_")
            ),
        }
    };
    let mut md = String::from("\n## Figures\n\n");
    for d in drawn.iter().filter(|d| d.as_str() != "returns") {
        md.push_str(&format!("{}:\n\n![{d}](figures/{d}.png)\n\n", caption(d)));
    }
    md
}

/// Mean and 95 % band over seeds of each group's learning curve on a common step grid.
fn draw_learning_curves_on<DB: DrawingBackend>(
    root: DrawingArea<DB, plotters::coord::Shift>,
    curves: &[(String, Vec<(f64, Ci)>)],
) -> Drawn
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let pts = curves.iter().flat_map(|c| c.1.iter());
    let xmax = pts.clone().map(|p| p.0).fold(1.0, f64::max);
    let ys: Vec<f64> = pts.flat_map(|p| [p.1.lo, p.1.hi, p.1.estimate]).filter(|v| v.is_finite()).collect();
    let (ymin, ymax) = crate::render::chart::bounds(ys.into_iter(), 0.05);
    let mut chart = ChartBuilder::on(&root)
        .caption("Learning curves (mean over seeds, 95% Student-t band)", ("sans-serif", 20))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..xmax, ymin..ymax)?;
    chart.configure_mesh().x_desc("env steps").y_desc("mean return (last 100 episodes)").draw()?;
    for (gi, (g, c)) in curves.iter().enumerate() {
        let color = COLOURS[gi % COLOURS.len()];
        let band: Vec<(f64, f64)> = c
            .iter()
            .filter(|p| p.1.lo.is_finite())
            .map(|p| (p.0, p.1.hi))
            .chain(c.iter().rev().filter(|p| p.1.lo.is_finite()).map(|p| (p.0, p.1.lo)))
            .collect();
        if band.len() > 2 {
            chart.draw_series(std::iter::once(Polygon::new(band, color.mix(0.2).filled())))?;
        }
        let line: Vec<(f64, f64)> =
            c.iter().filter(|p| p.1.estimate.is_finite()).map(|p| (p.0, p.1.estimate)).collect();
        chart
            .draw_series(LineSeries::new(line, color.stroke_width(2)))?
            .label(g.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 15, y)], color.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}

/// Linear interpolation of a curve `(x, y)` (sorted by x) at `x` (NaN outside it).
fn interpolate(curve: &[(f64, f64)], x: f64) -> f64 {
    let i = curve.partition_point(|p| p.0 < x);
    match (i.checked_sub(1).and_then(|j| curve.get(j)), curve.get(i)) {
        (_, Some(b)) if b.0 == x => b.1,
        (Some(a), Some(b)) => a.1 + (b.1 - a.1) * (x - a.0) / (b.0 - a.0),
        _ => f64::NAN,
    }
}

/// Each group's learning curve: seed curves interpolated onto `CURVE_POINTS` steps up to the
/// shortest seed's last step, then mean and interval per step.
fn group_curves(jobs: &[JobData], groups: &[String]) -> Vec<(String, Vec<(f64, Ci)>)> {
    groups
        .iter()
        .map(|g| {
            let seeds: Vec<&[(f64, f64)]> =
                jobs.iter().filter(|j| &j.group() == g).map(|j| &j.curve[..]).filter(|c| !c.is_empty()).collect();
            let end = seeds.iter().map(|c| c[c.len() - 1].0).fold(f64::INFINITY, f64::min);
            let start = seeds.iter().map(|c| c[0].0).fold(0.0, f64::max);
            let pts = if end.is_finite() && end > start {
                (0..CURVE_POINTS)
                    .map(|k| {
                        let x = start + (end - start) * k as f64 / (CURVE_POINTS - 1) as f64;
                        let ys: Vec<f64> = seeds.iter().map(|c| interpolate(c, x)).collect();
                        let mut c = ci(&ys);
                        if !c.estimate.is_finite() {
                            c.estimate = mean(&ys);
                        }
                        (x, c)
                    })
                    .collect()
            } else {
                vec![]
            };
            (g.clone(), pts)
        })
        .collect()
}

fn draw_learning_curves(jobs: &[JobData], groups: &[String], out: &Path) -> Result<(), AgentError> {
    let curves = group_curves(jobs, groups);
    if curves.iter().all(|c| c.1.is_empty()) {
        return Err(AgentError::figure(out, "no job has a learning curve (metrics.jsonl)"));
    }
    png_and_svg!(out, (1000, 600), draw_learning_curves_on(&curves))
}

/// Return vs severity: one panel per family R1–R4, a line per group with interval whiskers;
/// the family's own column (severity 1) is added when the severities leave 1 out.
fn draw_severity_on<DB: DrawingBackend>(
    root: DrawingArea<DB, plotters::coord::Shift>,
    table: &[serde_json::Value],
    severity: &[serde_json::Value],
    groups: &[String],
) -> Drawn
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let panels = root.split_evenly((1, 4));
    let points = |g: &str, family: &str| -> Vec<(f64, Ci)> {
        let mut p: Vec<(f64, Ci)> = severity
            .iter()
            .filter(|x| x["group"] == g && x["family"] == family)
            .map(|x| (num(&x["severity"]), ci_of(&x["return"])))
            .collect();
        if !p.iter().any(|x| x.0 == 1.0) {
            if let Some(x) = table.iter().find(|x| x["group"] == g && x["condition"] == family) {
                p.push((1.0, ci_of(&x["return"])));
            }
        }
        p.sort_by(|a, b| a.0.total_cmp(&b.0));
        p
    };
    let all: Vec<f64> = groups
        .iter()
        .flat_map(|g| HELD_OUT[..4].iter().flat_map(move |f| points(g, f)))
        .flat_map(|p| [p.1.lo, p.1.hi, p.1.estimate])
        .collect();
    let (ymin, ymax) = crate::render::chart::bounds(all.into_iter(), 0.05);
    for (panel, family) in panels.iter().zip(&HELD_OUT[..4]) {
        let mut chart = ChartBuilder::on(panel)
            .caption(*family, ("sans-serif", 18))
            .margin(8)
            .x_label_area_size(35)
            .y_label_area_size(55)
            .build_cartesian_2d(-0.05..1.05, ymin..ymax)?;
        chart.configure_mesh().x_desc("severity").y_desc("return").draw()?;
        for (gi, g) in groups.iter().enumerate() {
            let color = COLOURS[gi % COLOURS.len()];
            let p = points(g, family);
            let line: Vec<(f64, f64)> =
                p.iter().filter(|x| x.1.estimate.is_finite()).map(|x| (x.0, x.1.estimate)).collect();
            let s = chart.draw_series(LineSeries::new(line.clone(), color.stroke_width(2)))?;
            if *family == HELD_OUT[0] {
                s.label(g.as_str())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 15, y)], color.stroke_width(2)));
            }
            chart.draw_series(line.iter().map(|&(x, y)| Circle::new((x, y), 3, color.filled())))?;
            chart.draw_series(
                p.iter()
                    .filter(|x| x.1.lo.is_finite())
                    .map(|x| PathElement::new(vec![(x.0, x.1.lo), (x.0, x.1.hi)], color.stroke_width(1))),
            )?;
        }
        if *family == HELD_OUT[0] {
            chart.configure_series_labels().background_style(WHITE.mix(0.8)).border_style(BLACK).draw()?;
        }
    }
    root.present()?;
    Ok(())
}

fn draw_severity(
    table: &[serde_json::Value],
    severity: &[serde_json::Value],
    groups: &[String],
    out: &Path,
) -> Result<(), AgentError> {
    png_and_svg!(out, (1600, 450), draw_severity_on(table, severity, groups))
}

/// Ridge R² vs probe time, one panel per decoded parameter: per group the memory (solid) and
/// the observation-window baseline (thin).
fn draw_r2_on<DB: DrawingBackend>(
    root: DrawingArea<DB, plotters::coord::Shift>,
    jobs: &[JobData],
    groups: &[String],
) -> Drawn
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let tables = |feature: &str| -> BTreeMap<&String, R2Table> {
        groups
            .iter()
            .filter_map(|g| {
                let m: Vec<&JobData> = jobs.iter().filter(|j| &j.group() == g).collect();
                Some((g, r2_table(&m, feature, false)?))
            })
            .collect()
    };
    let (memory, window) = (tables("policy"), tables("window"));
    let targets: Vec<String> = memory.values().next().map(|t| t.1.clone()).unwrap_or_default();
    let rows = targets.len().div_ceil(R2_COLUMNS).max(1);
    let panels = root.split_evenly((rows, R2_COLUMNS));
    let tmax = memory.values().flat_map(|t| t.0.iter().copied()).max().unwrap_or(250).max(2) as f64;
    for (pi, (p, name)) in panels.iter().zip(&targets).enumerate() {
        let mut chart = ChartBuilder::on(p)
            .caption(name, ("sans-serif", 13))
            .margin(6)
            .x_label_area_size(28)
            .y_label_area_size(36)
            .build_cartesian_2d((1.0..tmax * 1.2).log_scale(), -0.2..1.0)?;
        chart.configure_mesh().x_desc("t (control steps)").y_desc("R²").draw()?;
        for (gi, g) in groups.iter().enumerate() {
            let color = COLOURS[gi % COLOURS.len()];
            for (source, width) in [(&memory, 2), (&window, 1)] {
                let Some((times, names, r2)) = source.get(g) else { continue };
                let Some(k) = names.iter().position(|t| t == name) else { continue };
                let pts: Vec<(f64, f64)> =
                    times.iter().zip(r2).map(|(&t, row)| (t as f64, row[k])).filter(|p| p.1.is_finite()).collect();
                let s = chart.draw_series(LineSeries::new(pts, color.stroke_width(width)))?;
                if pi == 0 && width == 2 {
                    s.label(g.as_str())
                        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 15, y)], color.stroke_width(2)));
                }
            }
        }
        if pi == 0 {
            chart.configure_series_labels().background_style(WHITE.mix(0.8)).border_style(BLACK).draw()?;
        }
    }
    root.present()?;
    Ok(())
}

fn draw_r2(jobs: &[JobData], groups: &[String], out: &Path) -> Result<(), AgentError> {
    let rows = jobs.iter().find_map(|j| j.sysid.as_ref()).map_or(1, |s| s.targets.len().div_ceil(R2_COLUMNS));
    png_and_svg!(out, (1800, 260 * rows.max(1) as u32), draw_r2_on(jobs, groups))
}

/// Stick-figure strips of one policy of `group` (the seed with the median training-sim
/// return): the training sim and each held-out family R1–R4, one row each.
fn draw_strips(jobs: &[JobData], group: &str, _gi: usize, out: &Path) -> Result<(), AgentError> {
    let mut members: Vec<&JobData> = jobs.iter().filter(|j| j.group() == group).collect();
    members.sort_by(|a, b| {
        let r = |j: &JobData| j.eval.get("train").map_or(f64::NAN, |c| c.return_mean);
        r(a).total_cmp(&r(b))
    });
    let Some(job) = members.get(members.len().saturating_sub(1) / 2) else {
        return Err(AgentError::figure(out, format!("group {group} has no job")));
    };
    let policy = checkpoint::load_policy(&job.dir)?;
    let mut env_cfg = policy.config.env_config_json();
    // The strips' episodes are cut by their own step count: the walker is built without the
    // time-limit wrapper, which the key would ask for.
    if let Some(m) = env_cfg.as_object_mut() {
        m.remove(MAX_EPISODE_STEPS_KEY);
    }
    let mut conditions = vec![(CONDITIONS[0].to_string(), policy.config.env.clone())];
    conditions.extend(HELD_OUT[..4].iter().zip(biped::REAL_FAMILY_IDS).map(|(c, id)| (c.to_string(), id.to_string())));
    let steps = STRIP_EVERY_STEPS * (STRIP_FRAMES - 1);
    let seed = job.spec.seed + EVAL_SEED_OFFSET;
    let mut rows = vec![];
    for (name, env) in conditions {
        let mut controller = PolicyController::new(checkpoint::load_policy(&job.dir)?, group);
        let frames = record_biped(&env, &env_cfg, seed, steps, &mut controller)?;
        let shown = frames_every(&frames, STRIP_EVERY_STEPS, STRIP_FRAMES);
        let fell = if frames.len() <= steps {
            format!(", fell at {:.2} s", frames[frames.len() - 1].t_s)
        } else {
            String::new()
        };
        rows.push((format!("{name}{fell}"), shown));
    }
    let title = format!("{group}, seed {} ({} control steps apart)", job.spec.seed, STRIP_EVERY_STEPS);
    render_biped_rows(&title, &rows, out)
}

fn draw_returns_on<DB: DrawingBackend>(
    root: DrawingArea<DB, plotters::coord::Shift>,
    table: &[serde_json::Value],
    groups: &[String],
) -> Drawn
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let cell =
        |g: &str, c: &str| table.iter().find(|x| x["group"] == g && x["condition"] == c).map(|x| ci_of(&x["return"]));
    let vals: Vec<f64> = table
        .iter()
        .flat_map(|x| [num(&x["return"]["hi"]), num(&x["return"]["lo"])])
        .filter(|v| v.is_finite())
        .collect();
    let ymax = vals.iter().copied().fold(100.0, f64::max) * 1.1;
    let ymin = vals.iter().copied().fold(0.0, f64::min) * 1.1;
    let mut chart = ChartBuilder::on(&root)
        .caption("Return by condition (mean over seeds, 95% Student-t CI)", ("sans-serif", 20))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..CONDITIONS.len() as f64, ymin..ymax)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(CONDITIONS.len() * 2 + 1)
        .x_label_formatter(&|x| {
            let i = (x - 0.5).round();
            if (x - 0.5 - i).abs() < 1e-6 && i >= 0.0 {
                CONDITIONS.get(i as usize).map(|s| s.to_string()).unwrap_or_default()
            } else {
                String::new()
            }
        })
        .y_desc("return")
        .draw()?;
    let w = 0.8 / groups.len().max(1) as f64;
    for (gi, g) in groups.iter().enumerate() {
        let color = COLOURS[gi % COLOURS.len()];
        let mut bars = vec![];
        let mut whiskers = vec![];
        for (ci_, c) in CONDITIONS.iter().enumerate() {
            let Some(v) = cell(g, c) else { continue };
            let x0 = ci_ as f64 + 0.1 + gi as f64 * w;
            if v.estimate.is_finite() {
                bars.push(Rectangle::new([(x0, 0.0), (x0 + w * 0.9, v.estimate)], color.filled()));
            }
            if v.lo.is_finite() {
                let xm = x0 + w * 0.45;
                whiskers.push(PathElement::new(vec![(xm, v.lo), (xm, v.hi)], BLACK.stroke_width(1)));
            }
        }
        chart
            .draw_series(bars)?
            .label(g.as_str())
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], color.filled()));
        chart.draw_series(whiskers)?;
    }
    chart.configure_series_labels().background_style(WHITE.mix(0.8)).border_style(BLACK).draw()?;
    root.present()?;
    Ok(())
}

fn draw_returns(table: &[serde_json::Value], groups: &[String], out: &Path) -> Result<(), AgentError> {
    png_and_svg!(out, (1100, 500), draw_returns_on(table, groups))
}
