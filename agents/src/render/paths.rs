//! The classic centre-out picture: hand paths to the eight targets, with the targets, the
//! start and the field's direction.

use super::centre_out::CentreOutRun;
use crate::error::AgentError;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;
use std::sync::Once;

/// The embedded font (DejaVu Sans Mono, Bitstream Vera license: assets/fonts/), so figures
/// have text on machines without system fonts.
static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSansMono.ttf");
/// Figure size, px.
const SIZE_PX: u32 = 800;
/// Half-width of the plotted workspace around the start, m.
const HALF_WIDTH_M: f64 = 0.15;
/// Radius drawn for targets and start, m.
const MARKER_RADIUS_M: f64 = 0.01;
/// Length of the scale bar, m.
const SCALE_BAR_M: f64 = 0.05;

/// Registers the embedded font as `sans-serif` for every plotters figure (idempotent).
pub fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bytes are a valid TTF shipped with the crate; a failure would only lose text.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// Eight distinguishable colours (Okabe–Ito plus grey).
pub const COLOURS: [RGBColor; 8] = [
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(0, 158, 115),
    RGBColor(213, 94, 0),
    RGBColor(0, 114, 178),
    RGBColor(204, 121, 167),
    RGBColor(120, 120, 120),
    RGBColor(160, 140, 0),
];

fn circle(c: [f64; 2], r: f64) -> Vec<(f64, f64)> {
    (0..=48)
        .map(|i| {
            let a = i as f64 / 48.0 * std::f64::consts::TAU;
            (c[0] + r * a.cos(), c[1] + r * a.sin())
        })
        .collect()
}

/// Draws `run` into `out` (`.png` or `.svg`) with the title `title`.
pub fn draw_paths(run: &CentreOutRun, title: &str, out: &Path) -> Result<(), AgentError> {
    register_font();
    let ext = out.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "png" => draw(BitMapBackend::new(out, (SIZE_PX, SIZE_PX)).into_drawing_area(), run, title),
        "svg" => draw(SVGBackend::new(out, (SIZE_PX, SIZE_PX)).into_drawing_area(), run, title),
        other => Err(format!("unsupported figure format `{other}`: use .png or .svg")),
    }
    .map_err(|m| AgentError::figure(out, m))
}

fn draw<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, run: &CentreOutRun, title: &str) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(err)?;
    let s = run.start;
    let (x0, x1) = (s[0] - HALF_WIDTH_M, s[0] + HALF_WIDTH_M);
    let (y0, y1) = (s[1] - HALF_WIDTH_M, s[1] + HALF_WIDTH_M);
    let mut chart = ChartBuilder::on(&root).margin(20).build_cartesian_2d(x0..x1, y0..y1).map_err(err)?;
    let font = |size: f64| ("sans-serif", size).into_font().color(&BLACK);

    // Straight start–target lines, targets, start.
    for t in &run.targets {
        let line = vec![(s[0], s[1]), (t[0], t[1])];
        chart.draw_series(LineSeries::new(line, RGBColor(220, 220, 220).stroke_width(1))).map_err(err)?;
        chart
            .draw_series(std::iter::once(Polygon::new(circle(*t, MARKER_RADIUS_M), RGBColor(200, 200, 200).filled())))
            .map_err(err)?;
    }
    chart.draw_series(std::iter::once(Polygon::new(circle(s, MARKER_RADIUS_M * 0.5), BLACK.filled()))).map_err(err)?;

    // Hand paths.
    for (i, path) in run.paths.iter().enumerate() {
        let pts: Vec<(f64, f64)> = path.iter().map(|p| (p[0], p[1])).collect();
        let colour = COLOURS[i % COLOURS.len()];
        chart.draw_series(LineSeries::new(pts, colour.stroke_width(3))).map_err(err)?;
    }

    // Field direction: a three-quarter arc with an arrowhead, top right.
    let (cx, cy, r) = (x1 - 0.035, y1 - 0.035, 0.018);
    if run.field_b != 0.0 {
        let sign = run.field_b.signum(); // > 0 clockwise: angles decrease
        let arc: Vec<(f64, f64)> = (0..=40)
            .map(|i| {
                let a = std::f64::consts::FRAC_PI_2 - sign * (i as f64 / 40.0) * 1.5 * std::f64::consts::PI;
                (cx + r * a.cos(), cy + r * a.sin())
            })
            .collect();
        let end = arc[arc.len() - 1];
        let prev = arc[arc.len() - 4];
        let (dx, dy) = (end.0 - prev.0, end.1 - prev.1);
        let n = dx.hypot(dy);
        let (ux, uy) = (dx / n * 0.008, dy / n * 0.008);
        let head =
            vec![(end.0 - ux - uy * 0.6, end.1 - uy + ux * 0.6), end, (end.0 - ux + uy * 0.6, end.1 - uy - ux * 0.6)];
        chart.draw_series(LineSeries::new(arc, BLACK.stroke_width(2))).map_err(err)?;
        chart.draw_series(LineSeries::new(head, BLACK.stroke_width(2))).map_err(err)?;
        let label = format!("curl b={:+.0} N·s/m ({})", run.field_b, if sign > 0.0 { "CW" } else { "CCW" });
        chart.draw_series(std::iter::once(Text::new(label, (x1 - 0.12, y1 - 0.065), font(16.0)))).map_err(err)?;
    } else {
        chart
            .draw_series(std::iter::once(Text::new("null field".to_string(), (x1 - 0.08, y1 - 0.02), font(16.0))))
            .map_err(err)?;
    }

    // Scale bar, bottom left.
    let (bx, by) = (x0 + 0.01, y0 + 0.012);
    chart.draw_series(LineSeries::new(vec![(bx, by), (bx + SCALE_BAR_M, by)], BLACK.stroke_width(3))).map_err(err)?;
    chart
        .draw_series(std::iter::once(Text::new("5 cm".to_string(), (bx + 0.012, by + 0.018), font(16.0))))
        .map_err(err)?;

    // Title and summary.
    let n = run.metrics.len().max(1) as f64;
    let successes = run.metrics.iter().filter(|m| m.success).count();
    let mean_dev_mm = run.metrics.iter().map(|m| m.max_lateral_deviation_m).sum::<f64>() / n * 1e3;
    chart
        .draw_series(std::iter::once(Text::new(title.to_string(), (x0 + 0.005, y1 - 0.005), font(20.0))))
        .map_err(err)?;
    let summary = format!("success {successes}/{}  mean signed max deviation {mean_dev_mm:+.1} mm", run.metrics.len());
    chart.draw_series(std::iter::once(Text::new(summary, (x0 + 0.005, y1 - 0.02), font(15.0)))).map_err(err)?;
    root.present().map_err(err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::run_centre_out;
    use super::*;
    use crate::controller::{ScriptedController, ZeroController};
    use engram_envs::env::ResetOptions;
    use engram_envs::registry::make;
    use engram_envs::tasks::reach::CurlReachConfig;

    #[test]
    fn centre_out_figure_is_written_for_scripted_and_zero_policies() {
        let cfg = CurlReachConfig::default();
        let dir = std::env::temp_dir().join(format!("engram-render-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let opts = ResetOptions::new().with("field", 1.0).with("field_b", 8.0);
        let run = run_centre_out(
            make("CurlReach-v0").unwrap(),
            &mut ScriptedController::new(&cfg),
            &opts,
            8,
            0,
            cfg.dt_s,
            0.01,
        )
        .unwrap();
        assert_eq!(run.paths.len(), 8);
        assert!(run.metrics.iter().all(|m| m.success && m.max_lateral_deviation_m > 0.0), "{:?}", run.metrics);
        assert_eq!(run.field_b, 8.0);
        for name in ["paths.png", "paths.svg"] {
            let out = dir.join(name);
            draw_paths(&run, "test", &out).unwrap();
            assert!(std::fs::metadata(&out).unwrap().len() > 1000, "{name} is empty");
        }
        let png = std::fs::read(dir.join("paths.png")).unwrap();
        assert_eq!(&png[1..4], b"PNG");
        assert!(std::fs::read_to_string(dir.join("paths.svg")).unwrap().contains("curl b=+8"));
        let zero =
            run_centre_out(make("CurlReach-v0").unwrap(), &mut ZeroController, &opts, 8, 0, cfg.dt_s, 0.01).unwrap();
        assert!(zero.metrics.iter().all(|m| !m.success));
        assert!(draw_paths(&zero, "zero", &dir.join("paths.gif")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
