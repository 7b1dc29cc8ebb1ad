//! The files of a `fit` run: metrics rows and checkpoints (safetensors + `meta.json`, written
//! atomically, `latest.json` replaced last).

use super::{FitConfig, Fitter};
use crate::error::AgentError;
use safetensors::{Dtype, SafeTensors};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Version of the `fit` checkpoint and metrics layout.
pub const FIT_SCHEMA_VERSION: u32 = 1;

/// One row of `metrics.jsonl` / `metrics.csv` (written at every evaluation).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricsRow {
    /// Adam steps taken.
    pub step: u64,
    /// Training loss of the last step (all terms).
    pub loss: f64,
    /// Its masked MSE term.
    pub mse: f64,
    /// Its activity-penalty term.
    pub l2_activity: f64,
    /// Its weight-penalty term.
    pub l2_weight: f64,
    /// Gradient norm before clipping.
    pub grad_norm: f64,
    /// Normalized MSE on the held-out trials.
    pub eval_nmse: f64,
    /// Sequence-steps per second since this invocation started.
    pub seq_steps_per_s: f64,
}

const CSV_HEADER: &str = "step,loss,mse,l2_activity,l2_weight,grad_norm,eval_nmse,seq_steps_per_s";

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> AgentError + '_ {
    move |source| AgentError::Io { path: path.display().to_string(), source }
}

/// The metrics files, open for appending.
pub(crate) struct Metrics {
    jsonl: std::fs::File,
    csv: std::fs::File,
    dir: PathBuf,
}

impl Metrics {
    /// Opens the files of `dir`; with `Some(step)`, rows after `step` (and a row cut short by a
    /// kill) are dropped first (a resumed run rewrites what followed its checkpoint).
    pub(crate) fn open(dir: &Path, truncate_after: Option<u64>) -> Result<Self, AgentError> {
        let (jp, cp) = (dir.join("metrics.jsonl"), dir.join("metrics.csv"));
        if let Some(s) = truncate_after {
            crate::io::keep_metrics_through(dir, "step", CSV_HEADER, s)?;
        }
        let new_csv = !cp.exists();
        let jsonl = std::fs::OpenOptions::new().create(true).append(true).open(&jp).map_err(io(&jp))?;
        let mut csv = std::fs::OpenOptions::new().create(true).append(true).open(&cp).map_err(io(&cp))?;
        if new_csv {
            writeln!(csv, "{CSV_HEADER}").map_err(io(&cp))?;
        }
        Ok(Self { jsonl, csv, dir: dir.to_path_buf() })
    }

    /// Appends one row to both files.
    pub(crate) fn write(&mut self, r: &MetricsRow) -> Result<(), AgentError> {
        let (jp, cp) = (self.dir.join("metrics.jsonl"), self.dir.join("metrics.csv"));
        let mut v = serde_json::to_value(r).map_err(|e| AgentError::Data(e.to_string()))?;
        v["schema_version"] = FIT_SCHEMA_VERSION.into();
        writeln!(self.jsonl, "{v}").map_err(io(&jp))?;
        let f = |x: f64| if x.is_finite() { x.to_string() } else { "nan".into() };
        writeln!(
            self.csv,
            "{},{},{},{},{},{},{},{}",
            r.step,
            f(r.loss),
            f(r.mse),
            f(r.l2_activity),
            f(r.l2_weight),
            f(r.grad_norm),
            f(r.eval_nmse),
            f(r.seq_steps_per_s)
        )
        .map_err(io(&cp))?;
        self.jsonl.flush().map_err(io(&jp))?;
        self.csv.flush().map_err(io(&cp))
    }
}

/// `meta.json` of a `fit` checkpoint.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FitMeta {
    /// Layout version.
    pub schema_version: u32,
    /// The resolved config.
    pub config: FitConfig,
    /// Adam steps taken.
    pub step: u64,
    /// First step whose evaluation met the criterion.
    pub reached_at: Option<u64>,
    /// The last evaluation's normalized MSE.
    pub last_eval: Option<f64>,
    /// Parameter keys in order, with shapes.
    pub params: Vec<(String, Vec<usize>)>,
}

/// Writes a checkpoint of `f` under `dir/checkpoints/step_NNNNNNNN/` and returns it.
pub fn save_checkpoint(f: &Fitter, dir: &Path) -> Result<PathBuf, AgentError> {
    let params: Vec<(String, Vec<usize>)> = f.net.names().iter().map(|n| n.to_string()).zip(f.net.shapes()).collect();
    let meta = FitMeta {
        schema_version: FIT_SCHEMA_VERSION,
        config: f.cfg.clone(),
        step: f.step,
        reached_at: f.reached_at,
        last_eval: f.last_eval,
        params: params.clone(),
    };
    let mut meta_json = serde_json::to_value(&meta).map_err(|e| AgentError::Checkpoint(e.to_string()))?;
    meta_json["adam_step"] = f.adam.step.into();
    let name = format!("step_{:08}", f.step);
    crate::checkpoint::write_dir(dir, &name, &params, &f.net.params, (&f.adam.m, &f.adam.v), &meta_json)
}

/// The latest checkpoint directory of the run in `dir`, if any.
pub fn latest(dir: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(dir.join("checkpoints/latest.json")).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    Some(dir.join("checkpoints").join(v["dir"].as_str()?))
}

/// The step of the latest checkpoint.
pub(crate) fn latest_step(dir: &Path) -> Option<u64> {
    latest(dir)?.file_name()?.to_str()?.strip_prefix("step_")?.parse().ok()
}

fn read_tensors(path: &Path, keys: &[String], shapes: &[Vec<usize>]) -> Result<Vec<Vec<f32>>, AgentError> {
    let data = std::fs::read(path).map_err(io(path))?;
    let st = SafeTensors::deserialize(&data).map_err(|e| AgentError::Checkpoint(format!("{}: {e}", path.display())))?;
    keys.iter()
        .zip(shapes)
        .map(|(k, s)| {
            let t = st.tensor(k).map_err(|e| AgentError::Checkpoint(format!("{}: {k}: {e}", path.display())))?;
            if t.shape() != s.as_slice() || t.dtype() != Dtype::F32 {
                return Err(AgentError::Checkpoint(format!(
                    "{}: {k} has shape {:?} ({:?}), the network needs {s:?} (F32)",
                    path.display(),
                    t.shape(),
                    t.dtype()
                )));
            }
            Ok(t.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect())
        })
        .collect()
}

/// Rebuilds the [`Fitter`] of the run in `dir` (a run directory) from its latest checkpoint.
pub fn load_checkpoint(dir: &Path) -> Result<Fitter, AgentError> {
    let ck = latest(dir).ok_or_else(|| {
        AgentError::Checkpoint(format!(
            "{}: no checkpoints/latest.json (not a fit run, or no checkpoint yet)",
            dir.display()
        ))
    })?;
    let mp = ck.join("meta.json");
    let text = std::fs::read_to_string(&mp).map_err(io(&mp))?;
    let raw: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| AgentError::Checkpoint(format!("{}: {e}", mp.display())))?;
    let meta: FitMeta =
        serde_json::from_value(raw.clone()).map_err(|e| AgentError::Checkpoint(format!("{}: {e}", mp.display())))?;
    if meta.schema_version != FIT_SCHEMA_VERSION {
        return Err(AgentError::Checkpoint(format!(
            "{}: schema_version {} (this engram reads {FIT_SCHEMA_VERSION})",
            mp.display(),
            meta.schema_version
        )));
    }
    let mut f = Fitter::new(meta.config)?;
    let names = f.net.names();
    let shapes = f.net.shapes();
    let keys: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    f.net.params = read_tensors(&ck.join("weights.safetensors"), &keys, &shapes)?;
    let mk: Vec<String> = names.iter().map(|n| format!("adam.m.{n}")).collect();
    let vk: Vec<String> = names.iter().map(|n| format!("adam.v.{n}")).collect();
    f.adam.m = read_tensors(&ck.join("optimizer.safetensors"), &mk, &shapes)?;
    f.adam.v = read_tensors(&ck.join("optimizer.safetensors"), &vk, &shapes)?;
    f.adam.step = raw["adam_step"].as_u64().unwrap_or(meta.step);
    f.step = meta.step;
    f.reached_at = meta.reached_at;
    f.last_eval = meta.last_eval;
    Ok(f)
}
