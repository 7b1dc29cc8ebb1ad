//! Figures of the preparatory-shift probe in the curl-field report: the ring of the 8
//! targets' preparatory states in the force plane per phase with Sun et al.'s side view on
//! the uniform-shift axis, the shift against angular distance from the trained target, the
//! learning–washout angle over washout, and PCA of the preparatory trajectories over the delay.

use crate::error::AgentError;
use crate::probe::linalg::Pca;
use crate::probe::matrix::Matrix;
use crate::probe::prep_shift::{PrepShiftInput, PrepShiftSeed};
use crate::render::chart::{bounds, png_and_svg, xy_chart, Drawn};
use crate::render::COLOURS;
use plotters::prelude::*;
use std::path::Path;

/// A labelled ring: one point per target.
type Ring<P> = (String, Vec<P>);
/// Labelled per-target trajectories (`[target][step]` points).
type Trajectories<P> = (String, Vec<Vec<P>>);

/// Colour of seed (or series) `i`.
fn colour(i: usize) -> RGBColor {
    COLOURS[i % COLOURS.len()]
}

/// Coordinates of `states` `[n, hidden]` on the force axes and on the uniform-shift axis:
/// `(force 1, force 2, uniform)` per row (centred with the baseline centroid).
fn sun_coordinates(states: &Matrix, result: &PrepShiftSeed) -> Result<Vec<(f64, f64, f64)>, AgentError> {
    let xy = result.force_subspace.project(states)?;
    let c = &result.force_subspace.centroid;
    Ok((0..states.rows())
        .map(|i| {
            let u: f64 = states.row(i).iter().zip(c).zip(&result.uniform_axis).map(|((x, m), a)| (x - m) * a).sum();
            (xy.get(i, 0), xy.get(i, 1), u)
        })
        .collect())
}

/// One panel of the ring figure: the rings of `rings` drawn on coordinates `(pick(p))`.
fn ring_panel<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
    axes: (&str, &str),
    rings: &[Ring<(f64, f64)>],
) -> Drawn
where
    DB::ErrorType: 'static,
{
    let x = bounds(rings.iter().flat_map(|r| r.1.iter().map(|p| p.0)), 0.15);
    let y = bounds(rings.iter().flat_map(|r| r.1.iter().map(|p| p.1)), 0.15);
    let mut chart = xy_chart(root, title, x, y, axes)?;
    for (k, (label, ring)) in rings.iter().enumerate() {
        let c = colour(k);
        let closed: Vec<(f64, f64)> = ring.iter().chain(ring.first()).copied().collect();
        chart
            .draw_series(LineSeries::new(closed, c.stroke_width(2)))?
            .label(label.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2)));
        chart.draw_series(ring.iter().map(|&p| Circle::new(p, 4, c.filled())))?;
        if k == 0 {
            chart.draw_series(
                ring.iter().enumerate().map(|(i, &p)| Text::new(format!("T{i}"), p, ("sans-serif", 13).into_font())),
            )?;
        }
    }
    chart.configure_series_labels().background_style(WHITE.mix(0.8)).border_style(BLACK).draw()?;
    Ok(())
}

fn ring_on<DB: DrawingBackend>(
    root: DrawingArea<DB, plotters::coord::Shift>,
    seed: u64,
    input: &PrepShiftInput,
    result: &PrepShiftSeed,
) -> Drawn
where
    DB::ErrorType: 'static,
{
    let phases = [&input.baseline, &input.end_learning, &input.end_washout];
    let coords: Vec<Ring<(f64, f64, f64)>> = phases
        .iter()
        .map(|p| Ok((p.label.clone(), sun_coordinates(&p.states, result)?)))
        .collect::<Result<_, AgentError>>()?;
    let pick = |f: fn(&(f64, f64, f64)) -> (f64, f64)| -> Vec<Ring<(f64, f64)>> {
        coords.iter().map(|(l, c)| (l.clone(), c.iter().map(f).collect())).collect()
    };
    root.fill(&WHITE)?;
    let (left, right) = root.split_horizontally(root.dim_in_pixel().0 / 2);
    ring_panel(
        &left,
        &format!("Force plane (seed {seed})"),
        ("force axis 1 (a.u.)", "force axis 2 (a.u.)"),
        &pick(|p| (p.0, p.1)),
    )?;
    ring_panel(
        &right,
        "Side view: the uniform-shift axis",
        ("force axis 1 (a.u.)", "uniform-shift axis (a.u.)"),
        &pick(|p| (p.0, p.2)),
    )?;
    root.present()?;
    Ok(())
}

/// The 8 targets' preparatory states at the end of baseline, learning and washout (one seed),
/// as Sun et al. 2022 show them: on the baseline force plane (left) and seen from the side,
/// force axis 1 against the uniform-shift axis (right, where a uniform shift moves the whole
/// ring up or down), as `out.png` / `out.svg`.
pub fn draw_ring(out: &Path, seed: u64, input: &PrepShiftInput, result: &PrepShiftSeed) -> Result<(), AgentError> {
    png_and_svg!(out, (1300, 620), ring_on(seed, input, result))
}

fn shift_on<DB: DrawingBackend>(root: DrawingArea<DB, plotters::coord::Shift>, seeds: &[(u64, &PrepShiftSeed)]) -> Drawn
where
    DB::ErrorType: 'static,
{
    let y = bounds(seeds.iter().flat_map(|(_, s)| s.shift_per_target.iter().copied()).chain([0.0]), 0.1);
    let mut chart = xy_chart(
        &root,
        "Shift along the uniform axis vs angular distance from target 0",
        (-5.0, 185.0),
        y,
        ("angular distance (degrees)", "shift (baseline → end of learning)"),
    )?;
    chart.draw_series(LineSeries::new([(-5.0, 0.0), (185.0, 0.0)], BLACK.mix(0.3)))?;
    for (i, (seed, s)) in seeds.iter().enumerate() {
        let c = colour(i);
        let pts = s.angular_distance_rad.iter().zip(&s.shift_per_target).map(|(a, y)| (a.to_degrees(), *y));
        chart
            .draw_series(pts.map(|p| Circle::new(p, 4, c.filled())))?
            .label(format!("seed {seed}: slope {:+.3}/rad", s.shift_slope.slope.estimate))
            .legend(move |(x, y)| Circle::new((x + 8, y), 4, c.filled()));
        let f = |deg: f64| s.shift_slope.intercept + s.shift_slope.slope.estimate * deg.to_radians();
        chart.draw_series(LineSeries::new([(0.0, f(0.0)), (180.0, f(180.0))], c.mix(0.6)))?;
    }
    chart.configure_series_labels().background_style(WHITE.mix(0.8)).border_style(BLACK).draw()?;
    root.present()?;
    Ok(())
}

/// Per-target shift against angular distance from the trained target, every seed with its
/// OLS line, as `out.png` / `out.svg`.
pub fn draw_shift_vs_distance(out: &Path, seeds: &[(u64, &PrepShiftSeed)]) -> Result<(), AgentError> {
    png_and_svg!(out, (800, 550), shift_on(seeds))
}

/// `(update, angle)` of the washout checkpoints (labels `washout_<update>`).
fn washout_angles(s: &PrepShiftSeed) -> Vec<(f64, f64)> {
    s.checkpoints
        .iter()
        .filter_map(|c| {
            let update: f64 = c.label.strip_prefix("washout_")?.parse().ok()?;
            c.angle_to_learning_deg.is_finite().then_some((update, c.angle_to_learning_deg))
        })
        .collect()
}

fn angle_on<DB: DrawingBackend>(root: DrawingArea<DB, plotters::coord::Shift>, seeds: &[(u64, &PrepShiftSeed)]) -> Drawn
where
    DB::ErrorType: 'static,
{
    let all: Vec<(f64, f64)> = seeds.iter().flat_map(|(_, s)| washout_angles(s)).collect();
    let (x0, x1) = bounds(all.iter().map(|p| p.0), 0.05);
    let mut chart = xy_chart(
        &root,
        "Angle between the learning shift and the washout shift so far",
        (x0, x1),
        (0.0, 180.0),
        ("PPO update (washout)", "angle (degrees)"),
    )?;
    chart.draw_series(LineSeries::new([(x0, 90.0), (x1, 90.0)], BLACK.mix(0.3)))?;
    for (i, (seed, s)) in seeds.iter().enumerate() {
        let c = colour(i);
        chart
            .draw_series(LineSeries::new(washout_angles(s), c.stroke_width(2)))?
            .label(format!("seed {seed}"))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2)));
    }
    chart.configure_series_labels().background_style(WHITE.mix(0.8)).border_style(BLACK).draw()?;
    root.present()?;
    Ok(())
}

/// The learning–washout angle at every washout recording, per seed, as `out.png` / `out.svg`.
pub fn draw_washout_angle(out: &Path, seeds: &[(u64, &PrepShiftSeed)]) -> Result<(), AgentError> {
    png_and_svg!(out, (800, 500), angle_on(seeds))
}

fn speeds_on<DB: DrawingBackend>(
    root: DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
    traces: &[(usize, bool, Vec<f64>)],
    dt_s: f64,
) -> Drawn
where
    DB::ErrorType: 'static,
{
    let tmax = traces.iter().map(|t| t.2.len()).max().unwrap_or(1).max(2) as f64 * dt_s;
    let vmax = traces.iter().flat_map(|t| t.2.iter().copied()).fold(0.1, f64::max) * 1.1;
    let mut chart = xy_chart(&root, title, (0.0, tmax), (0.0, vmax), ("time from the go cue (s)", "hand speed (m/s)"))?;
    for (seed_index, trained, v) in traces {
        let c = colour(*seed_index);
        let style = if *trained { c.stroke_width(3) } else { c.mix(0.35).stroke_width(1) };
        chart.draw_series(LineSeries::new(v.iter().enumerate().map(|(i, &s)| (i as f64 * dt_s, s)), style))?;
    }
    root.present()?;
    Ok(())
}

fn adaptation_on<DB: DrawingBackend>(
    root: DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
    series: &[Vec<(f64, f64)>],
) -> Drawn
where
    DB::ErrorType: 'static,
{
    let x = bounds(series.iter().flatten().map(|p| p.0), 0.02);
    let y = bounds(series.iter().flatten().map(|p| p.1).chain([0.0, 1.0]), 0.1);
    let mut chart = xy_chart(&root, title, x, y, ("PPO update", "force-channel adaptation index"))?;
    chart.draw_series(LineSeries::new([(x.0, 0.0), (x.1, 0.0)], BLACK.mix(0.5)))?;
    chart.draw_series(LineSeries::new([(x.0, 1.0), (x.1, 1.0)], BLACK.mix(0.2)))?;
    for (i, s) in series.iter().enumerate() {
        chart.draw_series(LineSeries::new(s.iter().copied(), colour(i).stroke_width(2)))?;
    }
    root.present()?;
    Ok(())
}

/// Speed profiles per phase (every seed's recorded reaches at the end of the phase: thin,
/// the trained target thick; colour = seed), the force-channel adaptation index over updates
/// per seed, and the hand paths of every seed at the end of baseline and at first exposure
/// (small multiples). Returns the Markdown that shows them.
pub(super) fn kinematics_figures(
    variant: &str,
    ss: &[&super::behaviour::SeedBehaviour],
    fig_dir: &Path,
) -> Result<String, AgentError> {
    const DT_S: f64 = 0.01;
    let mut md =
        String::from("Speed profiles at the end of each phase (colour = seed; thick = the trained target):\n\n");
    for phase in &super::PHASES[1..] {
        let mut traces = vec![];
        for (i, s) in ss.iter().enumerate() {
            if let Some(r) = s.records.iter().rev().find(|r| r.phase == *phase) {
                for (t, v) in r.speeds.iter().enumerate() {
                    traces.push((i, t == s.trained, v.clone()));
                }
            }
        }
        if traces.iter().all(|t| t.2.is_empty()) {
            continue;
        }
        let file = format!("speed_{variant}_{phase}");
        let title = format!("Hand speed, end of {phase} ({variant})");
        png_and_svg!(&fig_dir.join(&file), (640, 420), speeds_on(&title, &traces, DT_S))?;
        md.push_str(&format!("![speed {phase}](figures/{file}.png) "));
    }
    let series: Vec<Vec<(f64, f64)>> = ss
        .iter()
        .map(|s| {
            s.records
                .iter()
                .filter(|r| r.phase != "pretrain" && r.adaptation_index.is_finite())
                .map(|r| (r.update as f64, r.adaptation_index))
                .collect()
        })
        .collect();
    if series.iter().any(|s| !s.is_empty()) {
        let file = format!("adaptation_{variant}");
        let title = format!("Force-channel adaptation index, trained target ({variant})");
        png_and_svg!(&fig_dir.join(&file), (900, 420), adaptation_on(&title, &series))?;
        md.push_str(&format!(
            "\n\nForce-channel trials on the trained target at every recording (not trained on): lateral force against the channel regressed on b·v_parallel, 1 = full compensation of the expected curl (colour = seed):\n\n![adaptation](figures/{file}.png)\n"
        ));
    }
    for (phase, pick_first, what) in [("baseline", false, "end of baseline"), ("learning", true, "first exposure")] {
        md.push_str(&format!("\n\nHand paths of every seed, {what}:\n\n"));
        for s in ss {
            let mut it = s.records.iter().filter(|r| r.phase == phase);
            let r = if pick_first { it.next() } else { it.next_back() };
            let Some(r) = r else { continue };
            let run = crate::render::CentreOutRun {
                env: "CurlReach".into(),
                controller: format!("{variant} seed {}", s.seed),
                field_b: r.field_b,
                start: r.start,
                targets: r.targets.clone(),
                paths: r.paths.clone(),
                metrics: r.trials.clone(),
            };
            let file = format!("paths_{variant}_{phase}_seed{}.png", s.seed);
            crate::render::draw_paths(&run, &format!("seed {} ({what})", s.seed), &fig_dir.join(&file))?;
            md.push_str(&format!("<img src=\"figures/{file}\" width=\"180\"> "));
        }
    }
    md.push_str("\n\n");
    Ok(md)
}

/// Per-checkpoint trajectories on two PCs and the two PCs' variance shares.
type Projected = (Vec<Trajectories<(f64, f64)>>, [f64; 2]);

/// Delay trajectories `[target][step][hidden]` of each labelled checkpoint projected on the
/// first two principal components of the first checkpoint's trajectories, with the variance
/// shares of the two components (of the first checkpoint's data).
fn delay_pcs(phases: &[Trajectories<Vec<f64>>]) -> Result<Projected, AgentError> {
    let rows = |t: &Vec<Vec<Vec<f64>>>| t.iter().flatten().cloned().collect::<Vec<_>>();
    let first = phases.first().ok_or_else(|| AgentError::Study("no delay trajectories to draw".into()))?;
    let pca = Pca::fit(&Matrix::from_rows(&rows(&first.1))?)?;
    let share = |i: usize| pca.explained_variance_ratio.get(i).copied().unwrap_or(f64::NAN);
    let projected = phases
        .iter()
        .map(|(label, trajs)| {
            let scores = pca.transform(&Matrix::from_rows(&rows(trajs))?, 2)?;
            let mut i = 0;
            let per_target = trajs
                .iter()
                .map(|tr| {
                    let pts = (i..i + tr.len()).map(|r| (scores.get(r, 0), scores.get(r, 1))).collect();
                    i += tr.len();
                    pts
                })
                .collect();
            Ok((label.clone(), per_target))
        })
        .collect::<Result<_, AgentError>>()?;
    Ok((projected, [share(0), share(1)]))
}

fn delay_pca_on<DB: DrawingBackend>(
    root: DrawingArea<DB, plotters::coord::Shift>,
    seed: u64,
    phases: &[Trajectories<(f64, f64)>],
    share: [f64; 2],
) -> Drawn
where
    DB::ErrorType: 'static,
{
    let all = || phases.iter().flat_map(|p| p.1.iter().flatten());
    let (x, y) = (bounds(all().map(|p| p.0), 0.1), bounds(all().map(|p| p.1), 0.1));
    root.fill(&WHITE)?;
    let panels = root.split_evenly((1, phases.len().max(1)));
    for (panel, (label, trajs)) in panels.iter().zip(phases) {
        let title = format!("Delay period, {label} (seed {seed})");
        let (xl, yl) = (
            format!("PC 1 of end-of-baseline states ({:.0} % of variance)", 100.0 * share[0]),
            format!("PC 2 ({:.0} %)", 100.0 * share[1]),
        );
        let mut chart = xy_chart(panel, &title, x, y, (&xl, &yl))?;
        for (t, tr) in trajs.iter().enumerate() {
            let c = colour(t);
            chart
                .draw_series(LineSeries::new(tr.iter().copied(), c.stroke_width(2)))?
                .label(format!("T{t}"))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2)));
            chart.draw_series(tr.first().map(|&p| Circle::new(p, 3, c.stroke_width(1))))?;
            chart.draw_series(tr.last().map(|&p| Circle::new(p, 5, c.filled())))?;
        }
        chart.configure_series_labels().background_style(WHITE.mix(0.8)).border_style(BLACK).draw()?;
    }
    root.present()?;
    Ok(())
}

/// Preparatory trajectories over the delay (target onset to go cue; open circle = first step,
/// filled = the step before the go cue) of one seed at each labelled checkpoint, on the first two principal components
/// of the first checkpoint's trajectories, as `out.png` / `out.svg`.
pub fn draw_delay_pca(out: &Path, seed: u64, phases: &[Trajectories<Vec<f64>>]) -> Result<(), AgentError> {
    let (pcs, share) = delay_pcs(phases)?;
    png_and_svg!(out, (650 * pcs.len().max(1) as u32, 600), delay_pca_on(seed, &pcs, share))
}
