//! The behaviour of each seed of a curl-field study, read from its job's recordings: the
//! deviation and success curve over the protocol, with the per-phase summaries the report,
//! the controls and the figures use.

use super::{CurlFieldJob, PrepRecord, RECORDS_FILE};
use crate::error::{AgentError, Context};
use crate::stats::mean;
use crate::study::Plan;
use std::path::Path;

/// Criterion for "learned" in the savings measure: |deviation| at or below this fraction of
/// the first-exposure deviation.
pub(super) const SAVINGS_CRITERION: f64 = 0.5;

/// Per-seed behaviour of one job.
pub(super) struct SeedBehaviour {
    pub(super) seed: u64,
    pub(super) variant: String,
    pub(super) b: f64,
    /// (update, phase, signed deviation on the trained target (all targets' mean in the
    /// classic protocol) m, success rate) per record.
    pub(super) curve: Vec<(usize, String, f64, f64)>,
    pub(super) records: Vec<PrepRecord>,
    /// Index of the trained target.
    pub(super) trained: usize,
    /// The job's directory (its checkpoints are read for the delay-trajectory figure).
    pub(super) job_dir: std::path::PathBuf,
}

impl SeedBehaviour {
    pub(super) fn phase(&self, name: &str) -> Vec<&(usize, String, f64, f64)> {
        self.curve.iter().filter(|c| c.1 == name).collect()
    }
    pub(super) fn first(&self, name: &str) -> f64 {
        self.phase(name).first().map_or(f64::NAN, |c| c.2)
    }
    pub(super) fn last(&self, name: &str) -> f64 {
        self.phase(name).last().map_or(f64::NAN, |c| c.2)
    }
    /// Mean success rate over the phase's records (one recording moves with every PPO
    /// update, so the phase's mean is the steadier figure).
    pub(super) fn mean_success(&self, name: &str) -> f64 {
        mean(&self.phase(name).iter().map(|c| c.3).collect::<Vec<_>>())
    }
    /// Updates into the phase until |dev| ≤ criterion × |first exposure of learning|.
    pub(super) fn updates_to_criterion(&self, name: &str, reference: f64) -> f64 {
        let pts = self.phase(name);
        let start = pts.first().map_or(0, |c| c.0);
        pts.iter().find(|c| c.2.abs() <= SAVINGS_CRITERION * reference.abs()).map_or(f64::NAN, |c| (c.0 - start) as f64)
    }
    /// Mean |deviation| over the phase's records (area under the error curve per record).
    pub(super) fn error_area(&self, name: &str) -> f64 {
        mean(&self.phase(name).iter().map(|c| c.2.abs()).collect::<Vec<_>>())
    }
}

pub(super) fn load(plan: &Plan, dir: &Path) -> Result<Vec<SeedBehaviour>, AgentError> {
    let mut out = vec![];
    for j in &plan.jobs {
        let spec: CurlFieldJob = toml::from_str(&j.config).ctx(|| format!("job {}", j.id))?;
        let path = dir.join(&j.out_dir).join(RECORDS_FILE);
        let records: Vec<PrepRecord> =
            serde_json::from_str(&std::fs::read_to_string(&path).ctx(|| format!("reading {}", path.display()))?)
                .ctx(|| format!("parsing {}", path.display()))?;
        let e = &spec.experiment;
        let dev = |r: &PrepRecord| {
            if e.field_on_all_targets {
                mean(&r.max_lateral_deviation_m)
            } else {
                r.max_lateral_deviation_m.get(e.trained_target).copied().unwrap_or(f64::NAN)
            }
        };
        let curve = records.iter().map(|r| (r.update, r.phase.clone(), dev(r), mean(&r.success_rate))).collect();
        out.push(SeedBehaviour {
            seed: spec.seed,
            variant: spec.variant.name().into(),
            b: e.b_ns_m,
            curve,
            records,
            trained: e.trained_target,
            job_dir: dir.join(&j.out_dir),
        });
    }
    Ok(out)
}
