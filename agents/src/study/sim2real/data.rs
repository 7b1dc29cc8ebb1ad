//! The finished jobs of a sim2real study as the report and its figures read them.

use super::{JobEval, Sim2RealJob, EVAL_FILE};
use crate::error::{AgentError, Context};
use crate::inspect::siekmann::{self, SiekmannReport};
use crate::inspect::sysid_report::{read_report, SysidReport};
use crate::policy::PolicyKind;
use crate::run::curves::read_curve;
use crate::stats::{self, finite, Ci, DEFAULT_LEVEL};
use crate::study::Plan;
use std::path::{Path, PathBuf};

/// One finished job.
pub(super) struct JobData {
    /// Its config.
    pub spec: Sim2RealJob,
    /// `eval.json`.
    pub eval: JobEval,
    /// `sysid.json`, if the probe ran.
    pub sysid: Option<SysidReport>,
    /// `siekmann.json`, if the decoder ran.
    pub siekmann: Option<SiekmannReport>,
    /// The job's directory.
    pub dir: PathBuf,
    /// Its learning curve, `(env step, training return)` from `metrics.jsonl` (read once for
    /// the figure and the budget check).
    pub curve: Vec<(f64, f64)>,
}

impl JobData {
    /// `LSTM+DR`, `MLP no-DR`, ...
    pub fn group(&self) -> String {
        group_name(self.kind(), self.spec.dr)
    }
    /// The policy's architecture.
    pub fn kind(&self) -> PolicyKind {
        self.spec.experiment.policies[self.spec.policy_index].policy.kind
    }
    /// Whether the policy has memory.
    pub fn recurrent(&self) -> bool {
        self.spec.experiment.policies[self.spec.policy_index].policy.kind != PolicyKind::Mlp
    }
}

pub(super) fn group_name(kind: PolicyKind, dr: bool) -> String {
    format!("{}{}", kind.as_str().to_uppercase(), if dr { "+DR" } else { " no-DR" })
}

/// The plan's jobs with their outputs (every job must have its `eval.json`).
pub(super) fn load(plan: &Plan, dir: &Path) -> Result<Vec<JobData>, AgentError> {
    plan.jobs
        .iter()
        .map(|j| {
            let jd = dir.join(&j.out_dir);
            let spec: Sim2RealJob = toml::from_str(&j.config).ctx(|| format!("job {}", j.id))?;
            let path = jd.join(EVAL_FILE);
            let eval: JobEval =
                serde_json::from_str(&std::fs::read_to_string(&path).ctx(|| format!("reading {}", path.display()))?)
                    .ctx(|| format!("parsing {}", path.display()))?;
            let curve = read_curve(&jd);
            Ok(JobData { spec, eval, sysid: read_report(&jd), siekmann: siekmann::read_report(&jd), dir: jd, curve })
        })
        .collect()
}

/// Mean of the finite values (NaN when there are none).
pub(super) fn mean(v: &[f64]) -> f64 {
    let f = finite(v);
    if f.is_empty() {
        f64::NAN
    } else {
        stats::mean(&f)
    }
}

/// Mean across seeds with its 95 % Student-t interval (over the finite values).
pub(super) fn ci(values: &[f64]) -> Ci {
    stats::t_interval(&finite(values), DEFAULT_LEVEL).unwrap_or(Ci::undefined(DEFAULT_LEVEL))
}

/// Probe times, target names, and R² `[times][targets]`.
pub(super) type R2Table = (Vec<usize>, Vec<String>, Vec<Vec<f64>>);

/// Seed-mean R² per time and target of feature `feature` for `group`: `[times][targets]`,
/// with the times and targets of the first report.
pub(super) fn r2_table(jobs: &[&JobData], feature: &str, shuffled: bool) -> Option<R2Table> {
    let first = jobs.iter().find_map(|j| j.sysid.as_ref())?;
    let times: Vec<usize> = first.config.times.clone();
    let targets = first.targets.clone();
    let mut out = vec![vec![f64::NAN; targets.len()]; times.len()];
    for (ti, row) in out.iter_mut().enumerate() {
        for (k, cell) in row.iter_mut().enumerate() {
            let vals: Vec<f64> = jobs
                .iter()
                .filter_map(|j| j.sysid.as_ref()?.feature(feature)?.times.get(ti).cloned())
                .map(|t| if shuffled { t.shuffled_r2.get(k).copied() } else { t.ridge_r2.get(k).copied() })
                .map(|v| v.unwrap_or(f64::NAN))
                .collect();
            *cell = mean(&vals);
        }
    }
    Some((times, targets, out))
}

/// Fraction of the budget in each of the two windows the flatness check compares.
pub(super) const FLAT_WINDOW: f64 = 1.0 / 6.0;

/// Whether the training return has flattened by the end of the budget, per seed: the mean
/// training return (`return_mean` of `metrics.jsonl`) over the last [`FLAT_WINDOW`] of
/// `budget` env steps minus that over the window before it, in percent of the earlier
/// window's mean (NaN for a seed without points in both windows).
pub(super) fn late_gain_percent(curve: &[(f64, f64)], budget: f64) -> f64 {
    let window =
        |lo: f64, hi: f64| mean(&curve.iter().filter(|p| p.0 > lo && p.0 <= hi).map(|p| p.1).collect::<Vec<_>>());
    let w = FLAT_WINDOW * budget;
    let (before, last) = (window(budget - 2.0 * w, budget - w), window(budget - w, f64::INFINITY));
    100.0 * (last - before) / before.abs()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn late_gain_compares_the_last_sixth_with_the_sixth_before() {
        // A curve rising linearly to 3,000 at 6M steps, a point every 10k steps: the last
        // sixth (5,010k..6,000k) averages 2,752.5, the one before (4,010k..5,000k) 2,252.5.
        let curve: Vec<(f64, f64)> = (1..=600).map(|i| (i as f64 * 1e4, i as f64 * 5.0)).collect();
        let g = late_gain_percent(&curve, 6e6);
        assert!((g - 100.0 * 500.0 / 2252.5).abs() < 1e-9, "{g}");
        // A flat curve has no gain; a curve without points late in the budget has none defined.
        assert_eq!(late_gain_percent(&[(1e6, 5.0), (4.5e6, 5.0), (5.5e6, 5.0), (6e6, 5.0)], 6e6), 0.0);
        assert!(late_gain_percent(&[(1e6, 5.0)], 6e6).is_nan());
    }
}
