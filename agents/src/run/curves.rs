//! Learning-curve figures (`curves.png`, `curves.svg`) from `metrics.jsonl`.

use crate::error::AgentError;
use crate::render::chart::{png_and_svg, xy_chart, Drawn};
use plotters::prelude::*;
use std::path::Path;

/// `(global_step, return_mean)` pairs of a run's `metrics.jsonl` (NaN returns skipped).
pub fn read_curve(run_dir: &Path) -> Vec<(f64, f64)> {
    let text = std::fs::read_to_string(run_dir.join("metrics.jsonl")).unwrap_or_default();
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| Some((v["global_step"].as_f64()?, v["return_mean"].as_f64()?)))
        .filter(|(_, r)| r.is_finite())
        .collect()
}

fn draw<DB: DrawingBackend>(root: DrawingArea<DB, plotters::coord::Shift>, title: &str, pts: &[(f64, f64)]) -> Drawn
where
    DB::ErrorType: 'static,
{
    let xmax = pts.iter().map(|p| p.0).fold(1.0, f64::max);
    let (mut ymin, mut ymax) = pts.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |a, p| (a.0.min(p.1), a.1.max(p.1)));
    if !ymin.is_finite() {
        (ymin, ymax) = (0.0, 1.0);
    }
    let pad = ((ymax - ymin) * 0.05).max(1e-3);
    let y = ((ymin - pad), (ymax + pad));
    let mut chart = xy_chart(&root, title, (0.0, xmax), y, ("env steps", "mean return (last 100 episodes)"))?;
    chart.draw_series(LineSeries::new(pts.iter().copied(), &BLUE))?;
    root.present()?;
    Ok(())
}

/// Writes `curves.png` and `curves.svg` into `run_dir` (labels in the embedded font).
pub fn write_curves(run_dir: &Path, title: &str) -> Result<(), AgentError> {
    let pts = read_curve(run_dir);
    png_and_svg!(&run_dir.join("curves"), (800, 500), draw(title, &pts))
}
