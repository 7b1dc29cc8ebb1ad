//! Figures of the dynamical-systems probes (PNG and SVG, labels in the embedded font):
//! fixed points over the PCA of recorded states, a distance-matrix heat map, a 2-D embedding
//! coloured by architecture, and a Lyapunov spectrum with error bars.

use super::io_err;
use crate::error::AgentError;
use crate::probe::Matrix;
use crate::render::chart::{bounds, xy_chart};
use crate::render::paths::COLOURS;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// Padding of the axis bounds, fraction of the span.
const PAD: f64 = 0.08;
/// Figure size, px.
const SIZE: (u32, u32) = (800, 600);
/// Colour of stable fixed points, of points with one unstable mode, and with more.
const STABILITY_COLOURS: [RGBColor; 3] = [COLOURS[4], COLOURS[0], COLOURS[3]];

type Area<DB> = DrawingArea<DB, Shift>;
type Drawn = Result<(), Box<dyn std::error::Error>>;
/// Draws with `f` into `stem.png` and `stem.svg`.
macro_rules! both {
    ($stem:expr, $f:ident, $($arg:expr),*) => {{
        crate::render::register_font();
        let png = $stem.with_extension("png");
        $f(BitMapBackend::new(&png, SIZE).into_drawing_area(), $($arg),*).map_err(|e| io_err(&png, e))?;
        let svg = $stem.with_extension("svg");
        $f(SVGBackend::new(&svg, SIZE).into_drawing_area(), $($arg),*).map_err(|e| io_err(&svg, e))
    }};
}

fn draw_fixed_points<DB: DrawingBackend>(
    root: Area<DB>,
    states: &Matrix,
    points: &Matrix,
    unstable: &[usize],
    title: &str,
) -> Drawn
where
    DB::ErrorType: 'static,
{
    let all = || (0..states.rows()).map(|i| states.row(i)).chain((0..points.rows()).map(|i| points.row(i)));
    let (x, y) = (bounds(all().map(|r| r[0]), PAD), bounds(all().map(|r| r[1]), PAD));
    let mut chart = xy_chart(&root, title, x, y, ("PC 1 of recorded states", "PC 2"))?;
    // At most a few thousand background dots keep the SVG small.
    let stride = states.rows().div_ceil(4000).max(1);
    chart.draw_series(
        (0..states.rows())
            .step_by(stride)
            .map(|i| Circle::new((states.get(i, 0), states.get(i, 1)), 1, RGBColor(170, 170, 170).filled())),
    )?;
    for (k, label) in ["stable", "1 unstable mode", "2+ unstable modes"].iter().enumerate() {
        let c = STABILITY_COLOURS[k];
        chart
            .draw_series(
                (0..points.rows())
                    .filter(|&i| unstable[i].min(2) == k)
                    .map(|i| Circle::new((points.get(i, 0), points.get(i, 1)), 7, c.filled())),
            )?
            .label(*label)
            .legend(move |(x, y)| Circle::new((x, y), 5, c.filled()));
    }
    chart.configure_series_labels().background_style(WHITE.mix(0.8)).border_style(BLACK).draw()?;
    root.present()?;
    Ok(())
}

/// Fixed points `points` `[k, 2]` (coloured by their unstable-mode count) over the recorded
/// states `states` `[N, 2]`, both in the states' first two principal components.
pub fn fixed_points(
    stem: &Path,
    states: &Matrix,
    points: &Matrix,
    unstable: &[usize],
    title: &str,
) -> Result<(), AgentError> {
    both!(stem, draw_fixed_points, states, points, unstable, title)
}

fn draw_heatmap<DB: DrawingBackend>(root: Area<DB>, d: &Matrix, names: &[String], title: &str) -> Drawn
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let n = d.rows();
    let max = d.data().iter().copied().filter(|v| v.is_finite()).fold(1e-12, f64::max);
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(40)
        .build_cartesian_2d(0.0..n as f64, 0.0..n as f64)?;
    chart.configure_mesh().disable_mesh().x_desc("agent").y_desc("agent").draw()?;
    chart.draw_series((0..n * n).map(|k| {
        let (i, j) = (k / n, k % n);
        let t = (d.get(i, j) / max).clamp(0.0, 1.0);
        // Dark blue (similar) to pale yellow (far).
        let c = RGBColor((20.0 + 230.0 * t) as u8, (40.0 + 190.0 * t) as u8, (120.0 - 20.0 * t) as u8);
        Rectangle::new([(j as f64, (n - 1 - i) as f64), (j as f64 + 1.0, (n - i) as f64)], c.filled())
    }))?;
    if n <= 20 {
        chart.draw_series(names.iter().enumerate().map(|(i, name)| {
            Text::new(
                format!("{i}: {name}"),
                (0.05, (n - 1 - i) as f64 + 0.4),
                ("sans-serif", 11).into_font().color(&WHITE),
            )
        }))?;
    }
    root.present()?;
    Ok(())
}

/// Heat map of a distance matrix `d` `[n, n]` (row 0 at the top).
pub fn heatmap(stem: &Path, d: &Matrix, names: &[String], title: &str) -> Result<(), AgentError> {
    both!(stem, draw_heatmap, d, names, title)
}

fn draw_embedding<DB: DrawingBackend>(root: Area<DB>, coords: &Matrix, labels: &[String], title: &str) -> Drawn
where
    DB::ErrorType: 'static,
{
    let x = bounds((0..coords.rows()).map(|i| coords.get(i, 0)), PAD);
    let y = bounds((0..coords.rows()).map(|i| coords.get(i, 1)), PAD);
    let mut chart = xy_chart(&root, title, x, y, ("MDS 1", "MDS 2"))?;
    let mut groups: Vec<&String> = labels.iter().collect();
    groups.sort();
    groups.dedup();
    for (g, name) in groups.iter().enumerate() {
        let c = COLOURS[g % COLOURS.len()];
        chart
            .draw_series(
                (0..coords.rows())
                    .filter(|&i| &&labels[i] == name)
                    .map(|i| Circle::new((coords.get(i, 0), coords.get(i, 1)), 7, c.filled())),
            )?
            .label(name.as_str())
            .legend(move |(x, y)| Circle::new((x, y), 5, c.filled()));
    }
    chart.configure_series_labels().background_style(WHITE.mix(0.8)).border_style(BLACK).draw()?;
    root.present()?;
    Ok(())
}

/// A 2-D embedding `coords` `[n, 2]`, one colour per distinct label.
pub fn embedding(stem: &Path, coords: &Matrix, labels: &[String], title: &str) -> Result<(), AgentError> {
    both!(stem, draw_embedding, coords, labels, title)
}

fn draw_spectrum<DB: DrawingBackend>(root: Area<DB>, mean: &[f64], std: &[f64], title: &str) -> Drawn
where
    DB::ErrorType: 'static,
{
    let sd = |i: usize| if std[i].is_finite() { std[i] } else { 0.0 };
    let y = bounds((0..mean.len()).flat_map(|i| [mean[i] - sd(i), mean[i] + sd(i), 0.0]), PAD);
    let x = (0.0, mean.len() as f64 + 1.0);
    let mut chart = xy_chart(&root, title, x, y, ("exponent index", "λ (natural log per step), mean ± std"))?;
    chart.draw_series(LineSeries::new([(0.0, 0.0), (mean.len() as f64 + 1.0, 0.0)], BLACK.mix(0.4)))?;
    // Error bars: a vertical segment with caps, ± one standard deviation.
    let cap = 0.2;
    chart.draw_series((0..mean.len()).flat_map(|i| {
        let (x, lo, hi) = (i as f64 + 1.0, mean[i] - sd(i), mean[i] + sd(i));
        [
            PathElement::new(vec![(x, lo), (x, hi)], STABILITY_COLOURS[0]),
            PathElement::new(vec![(x - cap, lo), (x + cap, lo)], STABILITY_COLOURS[0]),
            PathElement::new(vec![(x - cap, hi), (x + cap, hi)], STABILITY_COLOURS[0]),
        ]
    }))?;
    chart.draw_series(
        (0..mean.len()).map(|i| Circle::new((i as f64 + 1.0, mean[i]), 3, STABILITY_COLOURS[0].filled())),
    )?;
    root.present()?;
    Ok(())
}

/// A Lyapunov spectrum: mean ± std per exponent index.
pub fn spectrum(stem: &Path, mean: &[f64], std: &[f64], title: &str) -> Result<(), AgentError> {
    both!(stem, draw_spectrum, mean, std, title)
}
