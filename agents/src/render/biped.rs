//! Stick-figure drawings of the planar biped: a strip of frames over time (PNG or SVG) or an
//! animated GIF, so that a gait or a fall can be seen.
//!
//! Frames are recorded link poses ([`BipedFrame`]); [`record_biped`] records them from an
//! env and a policy, [`render_biped_strip`] draws them. The output format follows the file
//! extension: `.png` and `.svg` draw a strip of up to [`STRIP_PANELS`] panels evenly spaced
//! in time (the last one is the final frame), `.gif` animates every frame.

use crate::controller::Controller;
use crate::error::AgentError;
use crate::render::chart::{png_and_svg, Drawn};
use crate::rollout::{self, ControllerActor, EpisodeSpec, Observer, StepView};
use engram_envs::tasks::biped::{make_planar_biped, PlanarBiped};
use engram_envs::Info;
use engram_sim::biped::geometry::SEGMENTS;
use engram_sim::biped::{LinkPose, N_LINKS};
use plotters::prelude::*;
use std::fmt::Write as _;
use std::path::Path;

/// Panels in a strip.
pub const STRIP_PANELS: usize = 10;
/// Pixels per metre.
const SCALE_PX_M: f64 = 110.0;
/// Panel size, px: 1.6 m wide, 2.1 m tall.
const PANEL_W: u32 = 176;
const PANEL_H: u32 = 231;
/// Height of the time label strip under the panels, px.
const LABEL_H: u32 = 26;
/// Ground line height in a panel, px from the bottom of the drawing area.
const GROUND_PX: f64 = 12.0;
/// Spacing of the ground ticks that show forward motion, m.
const TICK_SPACING_M: f64 = 0.25;
/// GIF frame delay, ms (the control period is 8 ms: a GIF of every step plays 5x slower).
const GIF_DELAY_MS: u32 = 40;

/// One recorded instant: time and the pose of every link.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BipedFrame {
    /// Time since the reset, s.
    pub t_s: f64,
    /// `[x_m, z_m, angle_rad]` of each link frame (torso, right thigh/shin/foot, left).
    pub links: [LinkPose; N_LINKS],
}

/// Runs one episode of `id` (any PlanarBiped id, config `cfg`) from `seed` with `policy`
/// for at most `max_steps` steps, recording the reset pose and every step's pose.
pub fn record_biped(
    id: &str,
    cfg: &serde_json::Value,
    seed: u64,
    max_steps: usize,
    policy: &mut dyn Controller,
) -> Result<Vec<BipedFrame>, AgentError> {
    let env = Box::new(make_planar_biped(id, cfg)?);
    let dt = env.control_dt_s();
    let mut frames = vec![];
    let mut observer = FrameObserver { frames: &mut frames, dt };
    let spec = EpisodeSpec::seeded(1, seed).with_max_steps(Some(max_steps));
    rollout::run(&mut [env], &mut ControllerActor(policy), &spec, &mut observer)?;
    Ok(frames)
}

/// Records the reset pose and every step's pose.
struct FrameObserver<'a> {
    frames: &'a mut Vec<BipedFrame>,
    dt: f64,
}

impl Observer<PlanarBiped> for FrameObserver<'_> {
    fn reset(&mut self, _episode: usize, _obs: &[f32], _info: &Info, env: &PlanarBiped) {
        self.frames.push(BipedFrame { t_s: 0.0, links: env.link_poses().expect("reset") });
    }
    fn step(&mut self, s: &StepView<'_, PlanarBiped>) {
        self.frames.push(BipedFrame { t_s: (s.t + 1) as f64 * self.dt, links: s.env.link_poses().expect("reset") });
    }
}

/// Holds the standing pose: in PD mode, targets at the standing pose (hip and knee at their
/// upper limit 0 rad, ankles mid-range 0 rad); in torque mode, zero torque.
#[derive(Debug, Clone, Copy)]
pub struct StandPolicy {
    /// Whether the env runs in PD mode.
    pub pd: bool,
}

impl Controller for StandPolicy {
    fn name(&self) -> &str {
        "stand"
    }
    fn reset(&mut self) {}
    fn act(&mut self, _obs: &[f32], _info: &engram_envs::info::Info, action: &mut [f32]) {
        if self.pd {
            action.copy_from_slice(&[1.0, 1.0, 0.0, 1.0, 1.0, 0.0]);
        } else {
            action.fill(0.0);
        }
    }
}

/// Endpoints of link `i`'s capsule core in the world, m.
fn segment(i: usize, pose: &LinkPose) -> [(f64, f64); 2] {
    let s = SEGMENTS[i];
    let (sin, cos) = pose[2].sin_cos();
    let (ax, ay) = if s.horizontal { (s.half_length_m, 0.0) } else { (0.0, s.half_length_m) };
    let (dx, dy) = (cos * ax - sin * ay, sin * ax + cos * ay);
    [(pose[0] - dx, pose[1] - dy), (pose[0] + dx, pose[1] + dy)]
}

/// A drawing primitive in panel pixels, shared by the bitmap and SVG writers.
enum Prim {
    Line { a: (i32, i32), b: (i32, i32), width: u32, rgb: (u8, u8, u8) },
    Dot { c: (i32, i32), r: u32, rgb: (u8, u8, u8) },
}

const RIGHT_RGB: (u8, u8, u8) = (31, 78, 161);
const LEFT_RGB: (u8, u8, u8) = (120, 165, 225);
const TORSO_RGB: (u8, u8, u8) = (40, 40, 40);
const GROUND_RGB: (u8, u8, u8) = (120, 120, 120);

/// The figure of `frame` in a panel whose top-left corner is `origin`, the camera following
/// the torso horizontally.
fn figure(frame: &BipedFrame, origin: (i32, i32)) -> Vec<Prim> {
    let cx = frame.links[0][0];
    let to_px = |(x, z): (f64, f64)| {
        let px = origin.0 as f64 + PANEL_W as f64 / 2.0 + (x - cx) * SCALE_PX_M;
        let py = origin.1 as f64 + PANEL_H as f64 - GROUND_PX - z * SCALE_PX_M;
        (px.round() as i32, py.round() as i32)
    };
    let mut out = vec![];
    let ground_y = to_px((0.0, 0.0)).1;
    out.push(Prim::Line {
        a: (origin.0, ground_y),
        b: (origin.0 + PANEL_W as i32, ground_y),
        width: 2,
        rgb: GROUND_RGB,
    });
    let half_w = PANEL_W as f64 / 2.0 / SCALE_PX_M;
    let mut tick = ((cx - half_w) / TICK_SPACING_M).ceil() * TICK_SPACING_M;
    while tick < cx + half_w {
        let (x, y) = to_px((tick, 0.0));
        out.push(Prim::Line { a: (x, y), b: (x - 5, y + 7), width: 1, rgb: GROUND_RGB });
        tick += TICK_SPACING_M;
    }
    // Left leg behind, torso, right leg in front.
    for i in [4, 5, 6, 0, 1, 2, 3] {
        let rgb = match i {
            0 => TORSO_RGB,
            1..=3 => RIGHT_RGB,
            _ => LEFT_RGB,
        };
        let [a, b] = segment(i, &frame.links[i]);
        let width = (2.0 * SEGMENTS[i].radius_m * SCALE_PX_M).round().max(2.0) as u32;
        out.push(Prim::Line { a: to_px(a), b: to_px(b), width, rgb });
        out.push(Prim::Dot { c: to_px(a), r: width / 2, rgb });
        out.push(Prim::Dot { c: to_px(b), r: width / 2, rgb });
    }
    out
}

/// One pen stroke from a point to a point, px.
type Stroke = ((i32, i32), (i32, i32));

/// Seven-segment strokes of a digit or '.', in a 6×10 cell (the bitmap writer has no fonts).
fn glyph(c: char) -> &'static [Stroke] {
    const A: Stroke = ((0, 0), (6, 0));
    const B: Stroke = ((6, 0), (6, 5));
    const C: Stroke = ((6, 5), (6, 10));
    const D: Stroke = ((0, 10), (6, 10));
    const E: Stroke = ((0, 5), (0, 10));
    const F: Stroke = ((0, 0), (0, 5));
    const G: Stroke = ((0, 5), (6, 5));
    const DOT: Stroke = ((3, 10), (3, 9));
    const S: Stroke = ((6, 0), (0, 0));
    match c {
        '0' => &[A, B, C, D, E, F],
        '1' => &[B, C],
        '2' => &[A, B, G, E, D],
        '3' => &[A, B, G, C, D],
        '4' => &[F, G, B, C],
        '5' => &[A, F, G, C, D],
        '6' => &[A, F, G, E, C, D],
        '7' => &[A, B, C],
        '8' => &[A, B, C, D, E, F, G],
        '9' => &[A, B, C, D, F, G],
        '.' => &[DOT],
        's' => &[S, F, G, C, D],
        _ => &[],
    }
}

fn label(text: &str, origin: (i32, i32)) -> Vec<Prim> {
    let mut out = vec![];
    let mut x = origin.0;
    for c in text.chars() {
        for &((x0, y0), (x1, y1)) in glyph(c) {
            out.push(Prim::Line { a: (x + x0, origin.1 + y0), b: (x + x1, origin.1 + y1), width: 2, rgb: TORSO_RGB });
        }
        x += if c == '.' { 6 } else { 10 };
    }
    out
}

/// Indices of the frames shown in a strip: evenly spaced, first and last included.
pub fn strip_indices(n_frames: usize, panels: usize) -> Vec<usize> {
    if n_frames <= panels {
        return (0..n_frames).collect();
    }
    (0..panels).map(|k| (k * (n_frames - 1) + (panels - 1) / 2) / (panels - 1)).collect()
}

fn strip(frames: &[BipedFrame]) -> (Vec<Prim>, u32, u32, Vec<(i32, String)>) {
    let idx = strip_indices(frames.len(), STRIP_PANELS);
    let mut prims = vec![];
    let mut labels = vec![];
    for (k, &i) in idx.iter().enumerate() {
        let origin = (k as i32 * PANEL_W as i32, 0);
        prims.extend(figure(&frames[i], origin));
        let text = format!("{:.2}", frames[i].t_s);
        prims.extend(label(&text, (origin.0 + PANEL_W as i32 / 2 - 22, PANEL_H as i32 + 8)));
        labels.push((origin.0 + PANEL_W as i32 / 2, text));
    }
    (prims, idx.len() as u32 * PANEL_W, PANEL_H + LABEL_H, labels)
}

fn draw_prims<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    prims: &[Prim],
) -> Result<(), String> {
    for p in prims {
        match *p {
            Prim::Line { a, b, width, rgb } => {
                let style =
                    ShapeStyle { color: RGBColor(rgb.0, rgb.1, rgb.2).to_rgba(), filled: false, stroke_width: width };
                area.draw(&PathElement::new(vec![a, b], style)).map_err(|e| e.to_string())?;
            }
            Prim::Dot { c, r, rgb } => {
                area.draw(&Circle::new(c, r, RGBColor(rgb.0, rgb.1, rgb.2).filled())).map_err(|e| e.to_string())?;
            }
        }
    }
    Ok(())
}

fn svg(prims: &[Prim], w: u32, h: u32, labels: &[(i32, String)]) -> String {
    let mut s =
        format!("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\">\n");
    s.push_str("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
    for p in prims {
        match *p {
            Prim::Line { a, b, width, rgb } if width > 2 || rgb != TORSO_RGB => {
                let _ = writeln!(
                    s,
                    "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"rgb({},{},{})\" stroke-width=\"{width}\" stroke-linecap=\"round\"/>",
                    a.0, a.1, b.0, b.1, rgb.0, rgb.1, rgb.2
                );
            }
            Prim::Line { .. } | Prim::Dot { .. } => {} // SVG has real text and round caps
        }
    }
    for (x, text) in labels {
        let _ = writeln!(
            s,
            "<text x=\"{x}\" y=\"{}\" font-family=\"sans-serif\" font-size=\"14\" text-anchor=\"middle\">{text} s</text>",
            PANEL_H + 19
        );
    }
    s.push_str("</svg>\n");
    s
}

/// Draws `frames` to `out_path` (`.png` or `.svg`: a strip of panels over time; `.gif`: an
/// animation of every frame).
pub fn render_biped_strip(frames: &[BipedFrame], out_path: &Path) -> Result<(), AgentError> {
    if frames.is_empty() {
        return Err(AgentError::figure(out_path, "nothing to draw: no frames were recorded"));
    }
    let path = out_path.display().to_string();
    let draw_err = |message: String| AgentError::Figure { path: path.clone(), message };
    let ext = out_path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "png" => {
            let (prims, w, h, _) = strip(frames);
            let root = BitMapBackend::new(out_path, (w, h)).into_drawing_area();
            root.fill(&WHITE).map_err(|e| draw_err(e.to_string()))?;
            draw_prims(&root, &prims).map_err(draw_err)?;
            root.present().map_err(|e| draw_err(e.to_string()))?;
        }
        "svg" => {
            let (prims, w, h, labels) = strip(frames);
            std::fs::write(out_path, svg(&prims, w, h, &labels)).map_err(|source| AgentError::io(out_path, source))?;
        }
        "gif" => {
            let root = BitMapBackend::gif(out_path, (PANEL_W * 2, PANEL_H + LABEL_H), GIF_DELAY_MS)
                .map_err(|e| draw_err(e.to_string()))?
                .into_drawing_area();
            for f in frames {
                root.fill(&WHITE).map_err(|e| draw_err(e.to_string()))?;
                // A double-width panel: the figure in the middle.
                let mut prims = figure(f, (PANEL_W as i32 / 2, 0));
                prims.extend(label(&format!("{:.2}", f.t_s), (PANEL_W as i32 - 22, PANEL_H as i32 + 8)));
                draw_prims(&root, &prims).map_err(draw_err)?;
                root.present().map_err(|e| draw_err(e.to_string()))?;
            }
        }
        _ => {
            return Err(AgentError::Figure {
                path,
                message: "unsupported output: use a .png, .svg or .gif file".into(),
            })
        }
    }
    Ok(())
}

/// Frames `0, every, 2·every, …` of `frames` (fixed intervals), at most `panels` of them.
pub fn frames_every(frames: &[BipedFrame], every: usize, panels: usize) -> Vec<BipedFrame> {
    frames.iter().step_by(every.max(1)).take(panels).copied().collect()
}

/// Width of the row-label column of [`render_biped_rows`], px.
const ROW_LABEL_W: u32 = 150;

fn draw_rows_on<DB: DrawingBackend>(
    root: DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
    rows: &[(String, Vec<BipedFrame>)],
) -> Drawn
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let font = ("sans-serif", 15).into_font();
    root.draw(&Text::new(title.to_string(), (8, 6), font.clone().resize(18.0)))?;
    for (r, (label, frames)) in rows.iter().enumerate() {
        let top = TITLE_H as i32 + r as i32 * (PANEL_H + LABEL_H) as i32;
        root.draw(&Text::new(label.clone(), (8, top + PANEL_H as i32 / 2), font.clone()))?;
        for (k, f) in frames.iter().enumerate() {
            let origin = (ROW_LABEL_W as i32 + k as i32 * PANEL_W as i32, top);
            draw_prims(&root, &figure(f, origin))?;
            let x = origin.0 + PANEL_W as i32 / 2 - 20;
            root.draw(&Text::new(format!("{:.2} s", f.t_s), (x, top + PANEL_H as i32 + 4), font.clone()))?;
        }
    }
    root.present()?;
    Ok(())
}

/// Height of the title line of [`render_biped_rows`], px.
const TITLE_H: u32 = 30;

/// Draws labelled rows of stick figures (each row's frames side by side, as given) into
/// `out.png` and `out.svg`, titled `title`.
pub fn render_biped_rows(title: &str, rows: &[(String, Vec<BipedFrame>)], out: &Path) -> Result<(), AgentError> {
    let panels = rows.iter().map(|r| r.1.len()).max().unwrap_or(0);
    if panels == 0 {
        return Err(AgentError::figure(out, "nothing to draw: no frames were recorded"));
    }
    let size = (ROW_LABEL_W + panels as u32 * PANEL_W, TITLE_H + rows.len() as u32 * (PANEL_H + LABEL_H));
    png_and_svg!(out, size, draw_rows_on(title, rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(n: usize) -> Vec<BipedFrame> {
        record_biped("PlanarBiped-v0", &serde_json::json!({}), 0, n, &mut crate::controller::ZeroController).unwrap()
    }

    #[test]
    fn rows_of_frames_at_fixed_intervals_are_drawn() {
        let f = frames(40);
        let picked = frames_every(&f, 10, 8);
        assert_eq!(picked.iter().map(|p| p.t_s).collect::<Vec<_>>(), [0, 10, 20, 30, 40].map(|k| f[k].t_s));
        assert_eq!(frames_every(&f, 1, 8).len(), 8);
        let dir = std::env::temp_dir().join(format!("engram-biped-rows-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join("strips");
        render_biped_rows("zero torque", &[("train".into(), picked.clone()), ("R1".into(), picked)], &out).unwrap();
        assert!(std::fs::read(out.with_extension("png")).unwrap().starts_with(b"\x89PNG"));
        assert!(std::fs::read_to_string(out.with_extension("svg")).unwrap().contains("R1"));
        let e = render_biped_rows("none", &[("train".into(), vec![])], &out).unwrap_err().to_string();
        assert!(e.contains("nothing to draw"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn strip_picks_first_and_last() {
        assert_eq!(strip_indices(5, 10), vec![0, 1, 2, 3, 4]);
        let idx = strip_indices(118, 10);
        assert_eq!((idx[0], idx[9], idx.len()), (0, 117, 10));
        assert!(idx.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn the_figure_stands_on_the_ground_at_reset() {
        let f = frames(0);
        assert_eq!(f.len(), 1);
        // Feet: capsule cores at 0.10 m with radius 0.06 → 4 cm above the ground line.
        let [a, b] = segment(3, &f[0].links[3]);
        assert!((a.1 - 0.10).abs() < 0.01 && (b.0 - a.0 - 0.2).abs() < 0.01, "{a:?} {b:?}");
        let [t0, t1] = segment(0, &f[0].links[0]);
        assert!((t0.1 - 1.05).abs() < 0.01 && (t1.1 - 1.45).abs() < 0.01);
    }

    #[test]
    fn writes_png_svg_and_gif() {
        let f = frames(150);
        let dir = std::env::temp_dir().join(format!("engram-biped-render-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for ext in ["png", "svg", "gif"] {
            let p = dir.join(format!("walk.{ext}"));
            render_biped_strip(&f[..20], &p).unwrap();
            let bytes = std::fs::read(&p).unwrap();
            assert!(bytes.len() > 500, "{ext}: {} bytes", bytes.len());
            let magic: &[u8] = match ext {
                "png" => b"\x89PNG",
                "gif" => b"GIF8",
                _ => b"<svg",
            };
            assert!(bytes.starts_with(magic), "{ext}");
        }
        assert!(render_biped_strip(&f, &dir.join("walk.bmpx")).unwrap_err().to_string().contains("unsupported output"));
        assert!(render_biped_strip(&[], &dir.join("walk.png")).unwrap_err().to_string().contains("nothing to draw"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
