//! The curl-field report's controls and tests: kinematics per seed against the subject
//! targets, savings as a paired per-seed test (and against the optimizer-reset control),
//! every preparatory-shift statistic as a difference from the drift control (`drift_input`
//! for the cells with the `b` input, when the plan has it), the off-plane
//! share against its chance level, the distance question as an equivalence test on the
//! per-seed slopes, the learning–washout angle between pretraining conditions; Holm over the
//! family.

use super::behaviour::SeedBehaviour;
use super::Variant;
use crate::error::AgentError;
use crate::probe::prep_shift::{slope_equivalence, PrepShiftReport, SCALAR_NAMES};
use crate::stats::{self, holm, mean, permutation_test, sign_flip_test, summarize, welch_diff};
use engram_envs::tasks::reach::{KinematicsSummary, TrialMetrics};
use rand::SeedableRng;
use std::collections::BTreeMap;

/// Sign patterns are enumerated (exact p) up to this many seeds; above, random patterns.
const MAX_EXACT_SEEDS: usize = 20;
/// Random sign patterns or relabellings when not exact (p with the +1 correction).
const N_RANDOM: usize = 9_999;
/// Washout counts as complete when the end-of-washout deviation is within this fraction of
/// the first-exposure deviation of the end-of-baseline deviation (set before any run).
pub const WASHOUT_COMPLETE_FRACTION: f64 = 0.2;
/// Margin of the distance TOST: the shift may change by at most this fraction of its mean
/// between the trained target and the opposite one (slope margin `fraction · |mean| / π`).
pub const DISTANCE_MARGIN_FRACTION: f64 = 0.5;
/// Seed of the random sign patterns and relabellings.
const TEST_SEED: u64 = 20_260_416;

/// One test of the family.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FamilyTest {
    /// What is tested (the statistic, the comparison, the null hypothesis).
    pub name: String,
    /// The estimate (mean over seeds, or a difference of means).
    #[serde(with = "engram_envs::serde_nan::f64_or_null")]
    pub estimate: f64,
    /// 95 % Student-t interval of the estimate.
    #[serde(with = "engram_envs::serde_nan::f64_or_null")]
    pub lo: f64,
    /// Upper end of the interval.
    #[serde(with = "engram_envs::serde_nan::f64_or_null")]
    pub hi: f64,
    /// Raw p-value.
    #[serde(with = "engram_envs::serde_nan::f64_or_null")]
    pub p: f64,
    /// Holm-corrected p-value over the report's family.
    #[serde(with = "engram_envs::serde_nan::f64_or_null")]
    pub p_holm: f64,
    /// How p was computed.
    pub test: String,
    /// Per-seed values behind the estimate.
    #[serde(with = "engram_envs::serde_nan::vec_f64_or_null")]
    pub per_seed: Vec<f64>,
}

fn t_ci(v: &[f64]) -> (f64, f64, f64) {
    let v = stats::finite(v);
    summarize(&v, stats::DEFAULT_LEVEL).map_or((f64::NAN, f64::NAN, f64::NAN), |s| (s.mean, s.ci.lo, s.ci.hi))
}

/// A one-sample (paired) test of `d` against 0 by sign flips.
fn paired(name: String, d: Vec<f64>, two_sided: bool, rng: &mut rand_chacha::ChaCha8Rng) -> FamilyTest {
    let (estimate, lo, hi) = t_ci(&d);
    let t = sign_flip_test(&d, two_sided, MAX_EXACT_SEEDS, N_RANDOM, rng).ok();
    let p = t.map_or(f64::NAN, |t| t.p_value);
    let how = match t {
        Some(t) if t.exact => format!("sign flip, exact over 2^{} patterns", stats::finite(&d).len()),
        Some(_) => format!("sign flip, {N_RANDOM} random patterns, (1 + k)/(1 + n)"),
        None => "n/a".into(),
    };
    let side = if two_sided { "two-sided" } else { "one-sided" };
    FamilyTest { name, estimate, lo, hi, p, p_holm: f64::NAN, test: format!("{how}, {side}"), per_seed: d }
}

/// Per-seed kinematics of the null-field reaches: every recorded trial of the baseline phase.
pub fn kinematics(s: &SeedBehaviour) -> KinematicsSummary {
    let trials: Vec<TrialMetrics> =
        s.records.iter().filter(|r| r.phase == "baseline").flat_map(|r| r.kinematics.iter().copied()).collect();
    KinematicsSummary::of(&trials)
}

/// The kinematics table of one variant (Markdown) and its JSON.
pub fn kinematics_section(ss: &[&SeedBehaviour]) -> (String, serde_json::Value) {
    use engram_envs::tasks::reach::metrics::targets as tg;
    let mut md = format!(
        "Null-field kinematics per seed (every recorded baseline trial; medians over trials). Targets: success ≥ {:.0} %, peak speed {}–{} m/s, \
         movement duration {}–{} s (onset to offset at 10 % of peak speed), a single speed peak in the movement with the peak at {:.0}–{:.0} % of it in ≥ {:.0} % of trials, \
         straight (max perpendicular deviation ≤ {:.0} mm or path ratio ≤ {}). ✓ = met. \"single-peaked\" counts local maxima above 10 % of the peak speed \
         within the movement (onset to offset); \"whole trial\" counts them from the go cue to the end of the trial, so it also counts \
         corrective sub-movements and drift in the target during the hold.\n\n\
         | seed | trials | success | peak speed (m/s) | duration (s) | peak time (fraction) | single-peaked movement | single-peaked whole trial | bell (one peak, centred) | max deviation (mm) | path ratio | all met |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n",
        100.0 * tg::SUCCESS_MIN,
        tg::PEAK_SPEED_M_S[0],
        tg::PEAK_SPEED_M_S[1],
        tg::DURATION_S[0],
        tg::DURATION_S[1],
        100.0 * tg::PEAK_FRACTION[0],
        100.0 * tg::PEAK_FRACTION[1],
        100.0 * tg::BELL_SHARE_MIN,
        1e3 * tg::MAX_DEVIATION_M,
        tg::PATH_RATIO_MAX
    );
    let ok = |b: bool| if b { " ✓" } else { " ✗" };
    let mut rows = vec![];
    for s in ss {
        let k = kinematics(s);
        md.push_str(&format!(
            "| {} | {} | {:.0} %{} | {:.3}{} | {:.2}{} | {:.2} | {:.0} % | {:.0} % | {:.0} %{} | {:.1} | {:.3}{} | {} |\n",
            s.seed,
            k.trials,
            100.0 * k.success_rate,
            ok(k.ok_success),
            k.peak_speed_m_s,
            ok(k.ok_peak_speed),
            k.duration_s,
            ok(k.ok_duration),
            k.peak_time_fraction,
            100.0 * k.movement_single_peak_share,
            100.0 * k.single_peak_share,
            100.0 * k.bell_share,
            ok(k.ok_bell),
            1e3 * k.max_deviation_m,
            k.path_ratio,
            ok(k.ok_straight),
            if k.all_ok() { "yes" } else { "**no**" }
        ));
        rows.push(serde_json::json!({"seed": s.seed, "kinematics": k}));
    }
    md.push('\n');
    (md, serde_json::Value::Array(rows))
}

/// Updates of a phase's error curve: mean |deviation| over its recordings.
fn savings_diff(s: &SeedBehaviour) -> f64 {
    s.error_area("learning") - s.error_area("relearning")
}

/// Washout complete: the end-of-washout deviation within [`WASHOUT_COMPLETE_FRACTION`] of
/// the first exposure's magnitude from the end-of-baseline deviation.
pub fn washout_complete(s: &SeedBehaviour) -> bool {
    (s.last("washout") - s.last("baseline")).abs() <= WASHOUT_COMPLETE_FRACTION * s.first("learning").abs()
}

/// Values of `f` for the seeds present in both groups, in seed order: (seed, a, b).
fn matched<'a>(
    a: &[&'a SeedBehaviour],
    b: &[&'a SeedBehaviour],
    f: impl Fn(&SeedBehaviour) -> f64,
) -> Vec<(u64, f64, f64)> {
    a.iter().filter_map(|x| b.iter().find(|y| y.seed == x.seed).map(|y| (x.seed, f(x), f(y)))).collect()
}

fn scalar_of(rep: &PrepShiftReport, k: usize) -> BTreeMap<u64, f64> {
    rep.seeds.iter().zip(&rep.per_seed).map(|(s, p)| (*s, p.scalars()[k])).collect()
}

fn off_plane_chance(rep: &PrepShiftReport) -> f64 {
    let h = rep.per_seed.first().map_or(0, |s| s.uniform_axis.len()) as f64;
    1.0 - 2.0 / h
}

/// The variant named `name` (as in configs and reports), if it is one.
fn variant(name: &str) -> Option<Variant> {
    serde_json::from_value(serde_json::Value::String(name.into())).ok()
}

/// The drift control a variant's preparatory shift is measured against: `drift_input` for a
/// variant that reads the `b` input (its input steps with the schedule, as the sham field's
/// does), else `drift`.
fn drift_control(name: &str, preps: &BTreeMap<String, PrepShiftReport>) -> Option<&'static str> {
    let input = variant(name).is_some_and(|v| v.b_input());
    let control = if input && preps.contains_key("drift_input") { "drift_input" } else { "drift" };
    preps.contains_key(control).then_some(control)
}

/// The family of tests over every variant present (Markdown, JSON).
pub fn controls_section(
    variants: &BTreeMap<String, Vec<&SeedBehaviour>>,
    preps: &BTreeMap<String, PrepShiftReport>,
) -> Result<(String, serde_json::Value), AgentError> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(TEST_SEED);
    let mut tests: Vec<FamilyTest> = vec![];
    let mut notes: Vec<String> = vec![];
    let is_drift = |v: &str| variant(v).is_some_and(|v| v.is_drift());
    let field_variants: Vec<&String> = variants.keys().filter(|v| !is_drift(v)).collect();
    // Savings per variant, paired per seed; and the optimizer-reset control.
    for v in &field_variants {
        let ss = &variants[*v];
        let complete = ss.iter().filter(|s| washout_complete(s)).count();
        notes.push(format!(
            "`{v}`: washout complete (end-of-washout deviation within {:.0} % of the first-exposure deviation of baseline) in {complete} of {} seeds.",
            100.0 * WASHOUT_COMPLETE_FRACTION,
            ss.len()
        ));
        let d: Vec<f64> = ss.iter().map(|s| savings_diff(s)).collect();
        tests.push(paired(
            format!("savings `{v}`: mean |deviation| learning − relearning (m; H1 > 0)"),
            d,
            false,
            &mut rng,
        ));
    }
    if let (Some(a), Some(b)) = (variants.get("null"), variants.get("reset_optimizer")) {
        let m = matched(a, b, savings_diff);
        tests.push(paired(
            "savings `null` − savings `reset_optimizer` (m; 0 = no optimizer-state contribution)".into(),
            m.iter().map(|x| x.1 - x.2).collect(),
            true,
            &mut rng,
        ));
    }
    // Every prep-shift statistic as a difference from its drift control, paired per seed.
    for v in field_variants.iter().filter(|v| preps.contains_key(v.as_str())) {
        let Some(control) = drift_control(v, preps) else {
            notes.push(format!("No drift control for `{v}` in this plan: its preparatory-shift statistics are not learning-specific claims."));
            continue;
        };
        if control == "drift" && variant(v).is_some_and(|x| x.b_input()) {
            notes.push(format!("`{v}` reads the `b` input but the plan has no `drift_input`: its difference from `drift` also holds the input's own step between phases."));
        }
        let (rep, drift) = (&preps[v.as_str()], &preps[control]);
        for (k, name) in SCALAR_NAMES.iter().enumerate() {
            let (a, b) = (scalar_of(rep, k), scalar_of(drift, k));
            let d: Vec<f64> = a.iter().filter_map(|(s, x)| b.get(s).map(|y| x - y)).collect();
            tests.push(paired(format!("`{v}` − `{control}`: {name}"), d, true, &mut rng));
        }
    }
    // Off-plane share against its chance level 1 − 2/N.
    for (v, rep) in preps {
        let chance = off_plane_chance(rep);
        let k = SCALAR_NAMES.iter().position(|n| *n == "fraction_outside_force").unwrap_or(0);
        let d: Vec<f64> = rep.per_seed.iter().map(|s| s.scalars()[k] - chance).collect();
        tests.push(paired(
            format!("`{v}`: off-force-plane share − chance level {chance:.4} (1 − 2/N)"),
            d,
            true,
            &mut rng,
        ));
    }
    // The distance question: per-seed slope of shift on angular distance, TOST against 0.
    for (v, rep) in preps.iter().filter(|(v, _)| !is_drift(v)) {
        let slopes: Vec<f64> = rep.per_seed.iter().map(|s| s.shift_slope.slope.estimate).collect();
        let (estimate, lo, hi) = t_ci(&slopes);
        let (margin, p) = slope_equivalence(&rep.per_seed, DISTANCE_MARGIN_FRACTION)
            .map_or((f64::NAN, f64::NAN), |(m, t)| (m, t.p_value));
        tests.push(FamilyTest {
            name: format!("`{v}`: shift slope on angular distance from the trained target (per rad), equivalent to 0 within ±{margin:.4}"),
            estimate,
            lo,
            hi,
            p,
            p_holm: f64::NAN,
            test: format!(
                "one-sample TOST, margin = {DISTANCE_MARGIN_FRACTION} · |mean shift| / π (p < 0.05 = equivalence shown)"
            ),
            per_seed: slopes,
        });
    }
    // Learning–washout angle between pretraining conditions (independent networks).
    let k = SCALAR_NAMES.iter().position(|n| *n == "learn_wash_angle_deg").unwrap_or(0);
    for (a, b) in [("random_b", "null"), ("random_b_input", "null_input")] {
        let (Some(ra), Some(rb)) = (preps.get(a), preps.get(b)) else { continue };
        let xa: Vec<f64> = stats::finite(&ra.per_seed.iter().map(|s| s.scalars()[k]).collect::<Vec<_>>());
        let xb: Vec<f64> = stats::finite(&rb.per_seed.iter().map(|s| s.scalars()[k]).collect::<Vec<_>>());
        if xa.len() < 2 || xb.len() < 2 {
            continue;
        }
        let w = welch_diff(&xa, &xb, stats::DEFAULT_LEVEL)?;
        let all: Vec<f64> = xa.iter().chain(&xb).copied().collect();
        let labels: Vec<usize> = (0..all.len()).map(|i| usize::from(i >= xa.len())).collect();
        let diff = |l: &[usize]| {
            let g = |c: usize| mean(&all.iter().zip(l).filter(|(_, &x)| x == c).map(|(v, _)| *v).collect::<Vec<_>>());
            (g(0) - g(1)).abs()
        };
        let t = permutation_test(&labels, 100_000, &mut rng, diff)?;
        tests.push(FamilyTest {
            name: format!("learning–washout angle (°): `{a}` − `{b}` pretraining"),
            estimate: w.ci.estimate,
            lo: w.ci.lo,
            hi: w.ci.hi,
            p: t.p_value,
            p_holm: f64::NAN,
            test: format!(
                "permutation of condition labels, {}, two-sided (Welch interval)",
                if t.exact { "exact" } else { "random, (1 + k)/(1 + n)" }
            ),
            per_seed: xa.into_iter().chain(xb).collect(),
        });
    }
    let raw: Vec<f64> = tests.iter().map(|t| if t.p.is_finite() { t.p } else { 1.0 }).collect();
    for (t, p) in tests.iter_mut().zip(holm(&raw)) {
        t.p_holm = if t.p.is_finite() { p } else { f64::NAN };
    }
    let mut md = format!(
        "## Controls and tests ({} tests, Holm-corrected as one family)\n\nIntervals: 95 % Student-t over seeds. Paired comparisons match seeds (every variant runs the same seeds). \
         p-values: sign-flip or label permutations, exact when enumerable, otherwise (1 + k)/(1 + n); both raw and Holm-corrected p are shown.\n\n\
         | test | estimate [95 % CI] | p | p (Holm) | how | per seed |\n|---|---|---|---|---|---|\n",
        tests.len()
    );
    let f = |x: f64| if x.is_finite() { format!("{x:.4}") } else { "n/a".into() };
    for t in &tests {
        let per: Vec<String> = t.per_seed.iter().map(|x| f(*x)).collect();
        md.push_str(&format!(
            "| {} | {} [{}, {}] | {} | {} | {} | {} |\n",
            t.name,
            f(t.estimate),
            f(t.lo),
            f(t.hi),
            f(t.p),
            f(t.p_holm),
            t.test,
            per.join(", ")
        ));
    }
    md.push('\n');
    for n in &notes {
        md.push_str(&format!("- {n}\n"));
    }
    md.push('\n');
    let json = serde_json::json!({"tests": tests, "notes": notes});
    Ok((md, json))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::prep_shift::{PrepShiftConfig, PREP_SHIFT_SCHEMA_VERSION};

    #[test]
    fn input_cells_are_measured_against_the_sham_drift_when_the_plan_has_it() {
        let empty = PrepShiftReport {
            schema_version: PREP_SHIFT_SCHEMA_VERSION,
            config: PrepShiftConfig::default(),
            seeds: vec![],
            per_seed: vec![],
            statistics: vec![],
        };
        let plan = |names: &[&str]| -> BTreeMap<String, PrepShiftReport> {
            names.iter().map(|n| (n.to_string(), empty.clone())).collect()
        };
        let both = plan(&["null", "null_input", "random_b_input", "drift", "drift_input"]);
        assert_eq!(drift_control("null", &both), Some("drift"));
        assert_eq!(drift_control("null_input", &both), Some("drift_input"));
        assert_eq!(drift_control("random_b_input", &both), Some("drift_input"));
        let old = plan(&["null", "null_input", "drift"]);
        assert_eq!(drift_control("null_input", &old), Some("drift"));
        assert_eq!(drift_control("null", &plan(&["null"])), None);
        assert!(variant("drift_input").is_some_and(|v| v.is_drift() && v.b_input()));
    }
}
