//! Learning-curve figures (`curves.png`, `curves.svg`) from `metrics.jsonl`.

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

fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
    pts: &[(f64, f64)],
) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let xmax = pts.iter().map(|p| p.0).fold(1.0, f64::max);
    let (mut ymin, mut ymax) = pts.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |a, p| (a.0.min(p.1), a.1.max(p.1)));
    if !ymin.is_finite() {
        (ymin, ymax) = (0.0, 1.0);
    }
    let pad = ((ymax - ymin) * 0.05).max(1e-3);
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..xmax, (ymin - pad)..(ymax + pad))
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc("env steps")
        .y_desc("mean return (last 100 episodes)")
        .draw()
        .map_err(|e| e.to_string())?;
    chart.draw_series(LineSeries::new(pts.iter().copied(), &BLUE)).map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())
}

/// Writes `curves.png` and `curves.svg` into `run_dir` (labels in the embedded font).
pub fn write_curves(run_dir: &Path, title: &str) -> Result<(), String> {
    crate::render::register_font();
    let pts = read_curve(run_dir);
    let png = run_dir.join("curves.png");
    draw(BitMapBackend::new(&png, (800, 500)).into_drawing_area(), title, &pts)?;
    let svg = run_dir.join("curves.svg");
    draw(SVGBackend::new(&svg, (800, 500)).into_drawing_area(), title, &pts)
}
