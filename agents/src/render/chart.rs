//! Shared pieces of the 2-D figures: a white titled chart with labelled axes, and padded
//! axis bounds that ignore non-finite values.

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;

/// A chart on `f64` × `f64` axes.
pub type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// A white figure with a title, `x` × `y` axes and their labels (`desc` = x, y).
pub fn xy_chart<'a, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, Shift>,
    title: &str,
    x: (f64, f64),
    y: (f64, f64),
    desc: (&str, &str),
) -> Result<Chart<'a, DB>, Box<dyn std::error::Error>>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(x.0..x.1, y.0..y.1)?;
    chart.configure_mesh().x_desc(desc.0).y_desc(desc.1).draw()?;
    Ok(chart)
}

/// `[min, max]` of the finite values, widened by `pad` of the span on each side
/// (`(-1, 1)` when there is no finite value).
pub fn bounds(xs: impl Iterator<Item = f64>, pad: f64) -> (f64, f64) {
    let (lo, hi) =
        xs.filter(|v| v.is_finite()).fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
    if !lo.is_finite() {
        return (-1.0, 1.0);
    }
    let pad = ((hi - lo) * pad).max(1e-6);
    (lo - pad, hi + pad)
}

/// What a drawing function returns (plotters' errors are not `Send`).
pub type Drawn = Result<(), Box<dyn std::error::Error>>;

/// Draws one figure twice, as `out.png` and `out.svg`, with `$draw(root, args...)`; evaluates
/// to `Result<(), AgentError>` naming the file that failed.
macro_rules! png_and_svg {
    ($out:expr, $size:expr, $draw:ident ( $($arg:expr),* )) => {{
        $crate::render::register_font();
        let out: &std::path::Path = $out;
        let png = out.with_extension("png");
        $draw(BitMapBackend::new(&png, $size).into_drawing_area(), $($arg),*)
            .map_err(|e| $crate::error::AgentError::figure(&png, e))?;
        let svg = out.with_extension("svg");
        $draw(SVGBackend::new(&svg, $size).into_drawing_area(), $($arg),*)
            .map_err(|e| $crate::error::AgentError::figure(&svg, e))
    }};
}
pub(crate) use png_and_svg;
