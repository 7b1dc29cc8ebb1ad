//! The working-memory probe applied to an `engram fit` run on `OrientationWM-v0`: behaviour
//! (report errors on noisy held-out trials), states recorded over a (θ1, θ2) grid on
//! noise-free trials, and the analyses of [`crate::probe::torus`], [`crate::probe::homology`]
//! and [`crate::probe::tuning`] at the end of the second delay; an untrained network of the
//! same architecture and seed is the control. Maths lives in `probe`; this file loads,
//! records, serializes and draws.

use super::io_err;
use crate::error::AgentError;
use crate::fit::{load_checkpoint, recurrent_noise, Arch, Net, Workspace};
use crate::probe::homology::{cloud_homology, Homology, HomologyConfig};
use crate::probe::linalg::Pca;
use crate::probe::torus::{geometry, synthetic, TorusGeometry, TorusGrid};
use crate::probe::tuning::{
    connectivity_profile, cross_temporal_decoding, dynamic_code, unit_tuning, wrap, ConnectivityProfile, DynamicCode,
};
use crate::probe::Matrix;
use crate::render::chart::{bounds, xy_chart};
use engram_envs::tasks::battery::orientation_wm::{decode_orientation, OrientationWm, OrientationWmConfig};
use engram_envs::tasks::battery::{Task, TaskBatch};
use plotters::coord::Shift;
use plotters::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;
use std::path::Path;

/// Schema of `torus.json`.
pub const TORUS_SCHEMA: &str = "engram.torus/1";
/// Seed offset of the behavioural test trials (apart from training and held-out streams).
const BEHAVIOUR_SEED_OFFSET: u64 = 0x7E57_0001;

type Drawn = Result<(), Box<dyn std::error::Error>>;

/// Draws with `f(root, args..)` into `stem.png` and `stem.svg`.
macro_rules! draw_both {
    ($stem:expr, $size:expr, $f:ident ( $($arg:expr),* )) => {{
        crate::render::register_font();
        let png = $stem.with_extension("png");
        $f(BitMapBackend::new(&png, $size).into_drawing_area(), $($arg),*).map_err(|e| io_err(&png, e))?;
        let svg = $stem.with_extension("svg");
        $f(SVGBackend::new(&svg, $size).into_drawing_area(), $($arg),*).map_err(|e| io_err(&svg, e))?;
    }};
}

/// Settings of the probe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TorusProbeConfig {
    /// Orientation values per orientation on the recording grid, ≥ 8.
    pub grid: usize,
    /// Noisy trials for the report-error distributions, ≥ 1.
    pub trials: usize,
    /// Shuffles of the connectivity permutation test.
    pub n_perm: usize,
    /// Bins of the connectivity profile over (−90°, 90°].
    pub bins: usize,
    /// Persistent homology settings.
    pub homology: HomologyConfig,
}

impl Default for TorusProbeConfig {
    fn default() -> Self {
        Self { grid: 16, trials: 512, n_perm: 999, bins: 12, homology: HomologyConfig::default() }
    }
}

/// Report errors (decoded − true, wrapped into (−90°, 90°]) on noisy trials: the task's input
/// noise and the recurrent noise the network was trained with.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Behaviour {
    /// Trials.
    pub trials: usize,
    /// Recurrent noise (std on every unit's pre-activation) during these trials: the run's
    /// `train.recurrent_noise_std`.
    #[serde(default)]
    pub recurrent_noise_std: f32,
    /// Mean absolute error of θ1, degrees (chance 45°).
    pub mae1_deg: f64,
    /// Of θ2.
    pub mae2_deg: f64,
    /// Of both.
    pub mae_deg: f64,
    /// Histogram edges, degrees (the outer bins collect everything beyond).
    pub hist_edges_deg: Vec<f64>,
    /// Counts of θ1 errors per bin.
    pub hist1: Vec<usize>,
    /// Counts of θ2 errors per bin.
    pub hist2: Vec<usize>,
}

/// Everything the probe finds for one network.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TorusReport {
    /// [`TORUS_SCHEMA`].
    pub schema: String,
    /// Architecture.
    pub arch: Arch,
    /// Hidden units.
    pub hidden: usize,
    /// The run's seed.
    pub seed: u64,
    /// Settings.
    pub config: TorusProbeConfig,
    /// Behaviour on noisy trials.
    pub behaviour: Behaviour,
    /// Geometry at the end of the second delay.
    pub geometry: TorusGeometry,
    /// The same for the untrained network (control).
    pub geometry_untrained: TorusGeometry,
    /// Persistent homology at the end of the second delay.
    pub homology: Homology,
    /// Connectivity over units tuned more to θ1 than θ2, sorted by preferred θ1 (vanilla RNN
    /// only: gated cells have no single recurrent matrix).
    pub connectivity1: Option<ConnectivityProfile>,
    /// The same for θ2.
    pub connectivity2: Option<ConnectivityProfile>,
    /// θ1 tuning before (end of delay 1) vs after θ2 (end of delay 2).
    pub dynamic_code: DynamicCode,
    /// Steps of the trial (for the cross-temporal matrix).
    pub phase_starts: Vec<(String, usize)>,
    /// Cross-temporal decoding of θ1, `[T][T]` mean absolute errors, degrees.
    pub cross_temporal_deg: Vec<Vec<f64>>,
    /// The same, decoding θ2.
    pub cross_temporal2_deg: Vec<Vec<f64>>,
}

/// The run's task as [`OrientationWm`], or an error naming its task.
fn wm_task(id: &str, config: &serde_json::Value) -> Result<OrientationWm, AgentError> {
    if id != OrientationWm::ID {
        return Err(AgentError::Probe(format!("the run's task is {id}; the torus probe needs {}", OrientationWm::ID)));
    }
    let c: OrientationWmConfig = serde_json::from_value(config.clone())
        .map_err(|e| AgentError::Probe(format!("the run's task config does not parse: {e}")))?;
    Ok(OrientationWm::new(c)?)
}

/// Runs `net` on noise-free trials over the `n × n` grid: hidden states per step, each
/// `[n², H]` (row `i·n + j`).
pub fn record_grid(net: &Net, task: &OrientationWm, n: usize) -> Vec<Matrix> {
    let (t, ni, no, b) = (task.steps(), task.n_in(), task.n_out(), n * n);
    let mut x = vec![0.0f32; t * b * ni];
    let (mut xi, mut y, mut m) = (vec![0.0; t * ni], vec![0.0; t * no], vec![0.0; t * no]);
    for i in 0..n {
        for j in 0..n {
            let k = i * n + j;
            task.write_trial(i as f64 * PI / n as f64, j as f64 * PI / n as f64, None, &mut xi, &mut y, &mut m);
            for s in 0..t {
                x[(s * b + k) * ni..(s * b + k + 1) * ni].copy_from_slice(&xi[s * ni..(s + 1) * ni]);
            }
        }
    }
    let mut ws = Workspace::default();
    net.forward(&x, None, t, b, &mut ws);
    let h = net.states(&ws);
    let hd = net.hidden;
    (0..t).map(|s| Matrix::from_fn(b, hd, |r, u| h[(s * b + r) * hd + u] as f64)).collect()
}

/// Report errors of `net` on `trials` noisy trials of `task` drawn from `seed`, with recurrent
/// noise of std `recurrent_noise_std` (0: none) drawn from the same seed.
pub fn behaviour(net: &Net, task: &OrientationWm, trials: usize, seed: u64, recurrent_noise_std: f32) -> Behaviour {
    let tb = TaskBatch::generate(task, seed.wrapping_add(BEHAVIOUR_SEED_OFFSET), 0, trials);
    let (t, ni, no) = (tb.time, tb.n_in, tb.n_out);
    let mut x = vec![0.0f32; tb.inputs.len()];
    for b in 0..trials {
        for s in 0..t {
            x[(s * trials + b) * ni..(s * trials + b + 1) * ni]
                .copy_from_slice(&tb.inputs[(b * t + s) * ni..(b * t + s + 1) * ni]);
        }
    }
    let mut ws = Workspace::default();
    let mut draw = vec![];
    if recurrent_noise_std > 0.0 {
        let n = t * trials * net.hidden;
        recurrent_noise(seed.wrapping_add(BEHAVIOUR_SEED_OFFSET), 0, recurrent_noise_std, n, &mut draw);
    }
    net.forward(&x, (recurrent_noise_std > 0.0).then_some(&draw[..]), t, trials, &mut ws);
    let report = task.phases().report;
    let edges: Vec<f64> = (-6..=6).map(|k| k as f64 * 5.0).collect();
    let (mut e1, mut e2) = (vec![], vec![]);
    let (mut h1, mut h2) = (vec![0usize; edges.len() + 1], vec![0usize; edges.len() + 1]);
    for b in 0..trials {
        // Outputs summed over the report steps (the decoded angle ignores the scale); targets
        // are constant over the report phase.
        let mut out = [0.0f64; 4];
        for s in report.clone() {
            let row = (s * trials + b) * no;
            for (o, &y) in out.iter_mut().zip(&ws.y[row..row + 4]) {
                *o += f64::from(y);
            }
        }
        let row = (b * t + report.start) * no;
        let tgt: Vec<f64> = tb.targets[row..row + 4].iter().map(|&v| f64::from(v)).collect();
        for (k, (errs, hist)) in [(&mut e1, &mut h1), (&mut e2, &mut h2)].into_iter().enumerate() {
            let est = decode_orientation(out[2 * k], out[2 * k + 1]);
            let truth = decode_orientation(tgt[2 * k], tgt[2 * k + 1]);
            let e = wrap(est, truth).to_degrees();
            errs.push(e);
            hist[edges.iter().filter(|&&x| e >= x).count()] += 1;
        }
    }
    let mae = |v: &[f64]| v.iter().map(|e| e.abs()).sum::<f64>() / v.len() as f64;
    Behaviour {
        trials,
        recurrent_noise_std,
        mae1_deg: mae(&e1),
        mae2_deg: mae(&e2),
        mae_deg: (mae(&e1) + mae(&e2)) / 2.0,
        hist_edges_deg: edges,
        hist1: h1,
        hist2: h2,
    }
}

/// Probes the `engram fit` run in `dir` (its latest checkpoint).
pub fn probe_torus(dir: &Path, cfg: &TorusProbeConfig) -> Result<(TorusReport, Vec<Matrix>), AgentError> {
    let fitter = load_checkpoint(dir)?;
    let task = wm_task(&fitter.cfg.task.id, &fitter.cfg.task.config)?;
    let net = &fitter.net;
    let n = cfg.grid;
    let ph = task.phases();
    let states = record_grid(net, &task, n);
    let end2 = ph.delay2.end - 1;
    let grid = TorusGrid::new(n, n, states[end2].clone())?;
    let geo = geometry(&grid)?;
    let mut rng = ChaCha8Rng::seed_from_u64(fitter.cfg.seed);
    let untrained = Net::init(net.arch, net.n_in, net.hidden, net.n_out, &mut rng);
    let ustates = record_grid(&untrained, &task, n);
    let geometry_untrained = geometry(&TorusGrid::new(n, n, ustates[end2].clone())?)?;
    let homology = cloud_homology(&grid.states, &cfg.homology)?;
    let (t1, t2) = unit_tuning(&grid.states, n, n);
    let (mut c1, mut c2) = (None, None);
    if net.arch.gates() == 1 {
        let hd = net.hidden;
        let w = Matrix::from_fn(hd, hd, |j, i| net.params[1][j * hd + i] as f64);
        let set1: Vec<usize> = (0..hd).filter(|&u| t1[u].tuned() && t1[u].amplitude >= t2[u].amplitude).collect();
        let set2: Vec<usize> = (0..hd).filter(|&u| t2[u].tuned() && t2[u].amplitude > t1[u].amplitude).collect();
        let mut prng = ChaCha8Rng::seed_from_u64(fitter.cfg.seed ^ 0xC0DE);
        let p1: Vec<f64> = set1.iter().map(|&u| t1[u].pref).collect();
        let p2: Vec<f64> = set2.iter().map(|&u| t2[u].pref).collect();
        if set1.len() >= 4 {
            c1 = Some(connectivity_profile(&w, &set1, &p1, cfg.bins, cfg.n_perm, &mut prng));
        }
        if set2.len() >= 4 {
            c2 = Some(connectivity_profile(&w, &set2, &p2, cfg.bins, cfg.n_perm, &mut prng));
        }
    }
    let (before, _) = unit_tuning(&states[ph.delay1.end - 1], n, n);
    let dyn_code = dynamic_code(&before, &t1);
    let theta1: Vec<f64> = (0..n * n).map(|r| (r / n) as f64 * PI / n as f64).collect();
    let theta2: Vec<f64> = (0..n * n).map(|r| (r % n) as f64 * PI / n as f64).collect();
    let train: Vec<bool> = (0..n * n).map(|r| (r / n + r % n).is_multiple_of(2)).collect();
    let ct = cross_temporal_decoding(&states, &theta1, &train)?;
    let ct2 = cross_temporal_decoding(&states, &theta2, &train)?;
    let rows = |m: &Matrix| (0..m.rows()).map(|i| m.row(i).to_vec()).collect::<Vec<_>>();
    let report = TorusReport {
        schema: TORUS_SCHEMA.into(),
        arch: net.arch,
        hidden: net.hidden,
        seed: fitter.cfg.seed,
        config: cfg.clone(),
        behaviour: behaviour(net, &task, cfg.trials, fitter.cfg.seed, fitter.cfg.train.recurrent_noise_std),
        geometry: geo,
        geometry_untrained,
        homology,
        connectivity1: c1,
        connectivity2: c2,
        dynamic_code: dyn_code,
        phase_starts: vec![
            ("θ1".into(), ph.stim1.start),
            ("delay 1".into(), ph.delay1.start),
            ("θ2".into(), ph.stim2.start),
            ("delay 2".into(), ph.delay2.start),
            ("report".into(), ph.report.start),
        ],
        cross_temporal_deg: rows(&ct),
        cross_temporal2_deg: rows(&ct2),
    };
    Ok((report, states))
}

impl TorusReport {
    /// Writes `torus.json` and the figures into `out`; `states` are [`probe_torus`]'s.
    pub fn write(&self, states: &[Matrix], w_hh: &[f32], out: &Path) -> Result<(), AgentError> {
        std::fs::create_dir_all(out).map_err(|e| AgentError::io(out, e))?;
        crate::io::write_json(&out.join("torus.json"), self)?;
        let n = self.config.grid;
        let end2 = self.phase_starts[4].1 - 1;
        let net_pts = pca3(&states[end2])?;
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let cliff = pca3(&synthetic::torus(true, 0.0, 1.0, n, n, 50, 0.0, &mut rng).states)?;
        let stand = pca3(&synthetic::torus(false, 2.0, 1.0, n, n, 50, 0.0, &mut rng).states)?;
        let theta1: Vec<f64> = (0..n * n).map(|r| (r / n) as f64 / n as f64).collect();
        let title = format!("{} {} seed {}: end of delay 2 (PC 1–3)", arch_name(self.arch), self.hidden, self.seed);
        let panels = [(title.as_str(), &net_pts), ("exact Clifford torus", &cliff), ("exact standard torus", &stand)];
        draw_both!(out.join("manifold"), (1500, 500), draw_manifolds(&panels, &theta1));
        if let Some(c) = &self.connectivity1 {
            let label = "Δ preferred orientation (post − pre), degrees";
            let mut series = vec![("θ1-tuned units (Δ preferred θ1)", &c.bin_centres_deg, &c.mean_weight)];
            if let Some(c2) = &self.connectivity2 {
                series.push(("θ2-tuned units (Δ preferred θ2)", &c2.bin_centres_deg, &c2.mean_weight));
            }
            let title = "recurrent weight vs preferred-orientation difference";
            draw_both!(out.join("connectivity_profile"), (800, 600), draw_lines(title, label, "mean weight", &series));
            let order = &c.order;
            let w: Vec<Vec<f64>> =
                order.iter().map(|&j| order.iter().map(|&i| self_weight(w_hh, self.hidden, j, i)).collect()).collect();
            let lim = w.iter().flatten().fold(1e-9f64, |a, v| a.max(v.abs()));
            let title = "recurrent weights, θ1-tuned units sorted by preferred θ1 (blue −, red +)";
            draw_both!(out.join("connectivity_sorted"), (700, 600), draw_diverging(&w, title, lim));
        }
        let ct = &self.cross_temporal_deg;
        let title = "cross-temporal decoding of θ1: mean |error| (°), 0 dark – 45 light";
        draw_both!(out.join("cross_temporal"), (700, 600), draw_matrix(ct, title, 0.0, 45.0));
        let b = &self.behaviour;
        let centres: Vec<f64> = (0..=b.hist_edges_deg.len()).map(|k| -32.5 + 5.0 * k as f64).collect();
        let f = |h: &[usize]| h.iter().map(|&c| c as f64 / b.trials as f64).collect::<Vec<_>>();
        let (h1, h2) = (f(&b.hist1), f(&b.hist2));
        let series = [("θ1", &centres, &h1), ("θ2", &centres, &h2)];
        let title = "report errors (outer bins: beyond ±30°)";
        draw_both!(
            out.join("errors"),
            (800, 600),
            draw_lines(title, "report error, degrees", "fraction of trials", &series)
        );
        Ok(())
    }
}

/// `w[j → i]` of a vanilla RNN's `weight_hh` `[H, H]`.
fn self_weight(w_hh: &[f32], h: usize, j: usize, i: usize) -> f64 {
    w_hh[j * h + i] as f64
}

fn draw_diverging<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, m: &[Vec<f64>], title: &str, lim: f64) -> Drawn
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let n = m.len();
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 13))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(0.0..n as f64, 0.0..n as f64)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc("postsynaptic unit (sorted)")
        .y_desc("presynaptic unit (sorted)")
        .draw()?;
    chart.draw_series((0..n * n).map(|k| {
        let (i, j) = (k / n, k % n);
        let t = (m[i][j] / lim).clamp(-1.0, 1.0);
        let c = if t >= 0.0 {
            RGBColor(255, (255.0 * (1.0 - t)) as u8, (255.0 * (1.0 - t)) as u8)
        } else {
            RGBColor((255.0 * (1.0 + t)) as u8, (255.0 * (1.0 + t)) as u8, 255)
        };
        Rectangle::new([(j as f64, (n - 1 - i) as f64), (j as f64 + 1.0, (n - i) as f64)], c.filled())
    }))?;
    root.present()?;
    Ok(())
}

/// Architecture name as in configs.
pub fn arch_name(a: Arch) -> &'static str {
    match a {
        Arch::RnnTanh => "rnn_tanh",
        Arch::RnnRelu => "rnn_relu",
        Arch::Ugrnn => "ugrnn",
        Arch::Gru => "gru",
        Arch::Lstm => "lstm",
    }
}

/// Scores on the first three principal components, `[n, 3]`.
pub fn pca3(x: &Matrix) -> Result<Matrix, AgentError> {
    let p = Pca::fit(x)?;
    let k = 3.min(p.components.cols());
    let s = p.transform(x, k)?;
    Ok(Matrix::from_fn(x.rows(), 3, |i, j| if j < k { s.get(i, j) } else { 0.0 }))
}

fn hue(t: f64) -> RGBColor {
    let h = (t.rem_euclid(1.0)) * 6.0;
    let x = 1.0 - (h % 2.0 - 1.0).abs();
    let (r, g, b) = match h as u32 {
        0 => (1.0, x, 0.0),
        1 => (x, 1.0, 0.0),
        2 => (0.0, 1.0, x),
        3 => (0.0, x, 1.0),
        4 => (x, 0.0, 1.0),
        _ => (1.0, 0.0, x),
    };
    RGBColor((40.0 + 200.0 * r) as u8, (40.0 + 200.0 * g) as u8, (40.0 + 200.0 * b) as u8)
}

fn draw_manifolds<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    panels: &[(&str, &Matrix); 3],
    colour: &[f64],
) -> Drawn
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    for (area, (title, pts)) in root.split_evenly((1, 3)).iter().zip(panels) {
        let b = |j: usize| bounds((0..pts.rows()).map(|i| pts.get(i, j)), 0.05);
        let (x, y, z) = (b(0), b(1), b(2));
        let mut chart = ChartBuilder::on(area).caption(*title, ("sans-serif", 14)).margin(10).build_cartesian_3d(
            x.0..x.1,
            y.0..y.1,
            z.0..z.1,
        )?;
        chart.with_projection(|mut p| {
            p.pitch = 0.5;
            p.yaw = 0.7;
            p.scale = 0.8;
            p.into_matrix()
        });
        chart.configure_axes().draw()?;
        chart.draw_series(
            (0..pts.rows())
                .map(|i| Circle::new((pts.get(i, 0), pts.get(i, 1), pts.get(i, 2)), 2, hue(colour[i]).filled())),
        )?;
    }
    root.present()?;
    Ok(())
}

type Series<'a> = (&'a str, &'a Vec<f64>, &'a Vec<f64>);

fn draw_lines<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    title: &str,
    xl: &str,
    yl: &str,
    series: &[Series<'_>],
) -> Drawn
where
    DB::ErrorType: 'static,
{
    let x = bounds(series.iter().flat_map(|s| s.1.iter().copied()), 0.05);
    let y = bounds(series.iter().flat_map(|s| s.2.iter().copied()).chain([0.0]), 0.08);
    let mut chart = xy_chart(&root, title, x, y, (xl, yl))?;
    for (k, (name, xs, ys)) in series.iter().enumerate() {
        let c = crate::render::paths::COLOURS[k % crate::render::paths::COLOURS.len()];
        let pts: Vec<(f64, f64)> =
            xs.iter().zip(ys.iter()).filter(|p| p.1.is_finite()).map(|(a, b)| (*a, *b)).collect();
        chart
            .draw_series(LineSeries::new(pts.clone(), c.stroke_width(2)))?
            .label(*name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 15, y)], c));
        chart.draw_series(pts.iter().map(|p| Circle::new(*p, 3, c.filled())))?;
    }
    chart.configure_series_labels().background_style(WHITE.mix(0.8)).border_style(BLACK).draw()?;
    root.present()?;
    Ok(())
}

fn draw_matrix<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, m: &[Vec<f64>], title: &str, lo: f64, hi: f64) -> Drawn
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let n = m.len();
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 14))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(0.0..n as f64, 0.0..n as f64)?;
    chart.configure_mesh().disable_mesh().x_desc("testing step").y_desc("training step").draw()?;
    chart.draw_series((0..n * n).map(|k| {
        let (i, j) = (k / n, k % n);
        let t = ((m[i][j] - lo) / (hi - lo)).clamp(0.0, 1.0);
        let c = RGBColor((20.0 + 230.0 * t) as u8, (40.0 + 190.0 * t) as u8, (120.0 - 20.0 * t) as u8);
        Rectangle::new([(j as f64, i as f64), (j as f64 + 1.0, i as f64 + 1.0)], c.filled())
    }))?;
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_of_another_task_is_refused_by_name() {
        let e = wm_task("FlipFlop-v0", &serde_json::json!({})).unwrap_err().to_string();
        assert!(e.contains("FlipFlop-v0") && e.contains("OrientationWM-v0"), "{e}");
    }

    #[test]
    fn grid_recording_has_one_state_per_orientation_pair_and_step() {
        let task = OrientationWm::new(OrientationWmConfig::default()).unwrap();
        let net = Net::init(Arch::RnnTanh, task.n_in(), 12, task.n_out(), &mut ChaCha8Rng::seed_from_u64(0));
        let s = record_grid(&net, &task, 8);
        assert_eq!((s.len(), s[0].rows(), s[0].cols()), (35, 64, 12));
        // Before θ2 arrives the state cannot depend on θ2.
        let t = task.phases().delay1.end - 1;
        assert_eq!(s[t].row(3 * 8), s[t].row(3 * 8 + 5));
        assert_ne!(s[t].row(0), s[t].row(3 * 8));
        let b = behaviour(&net, &task, 64, 1, 0.0);
        assert_eq!(b.hist1.iter().sum::<usize>(), 64);
        assert!(b.mae_deg > 20.0, "an untrained network is near chance (45°): {}", b.mae_deg);
        let noisy = behaviour(&net, &task, 64, 1, 0.5);
        assert_ne!(noisy.mae_deg, b.mae_deg, "recurrent noise enters the behavioural trials");
        assert_eq!(noisy.mae_deg.to_bits(), behaviour(&net, &task, 64, 1, 0.5).mae_deg.to_bits());
    }
}
