//! The env checker (`gymnasium.utils.env_checker.check_env`, extended with determinism and
//! bad-input checks). Run on every registered env by the test suite and by
//! `engram check-env ID`.

use crate::env::{Env, ResetOptions};
use crate::error::EnvError;
use crate::info::Info;
use crate::registry::{self, BoxEnv};
use crate::space::Space;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use thiserror::Error;

/// How hard the checker works.
#[derive(Debug, Clone, Copy)]
pub struct CheckOptions {
    /// Random-action steps for the NaN/inf and space checks.
    pub steps: usize,
    /// Steps compared bit for bit between two envs with the same seed.
    pub determinism_steps: usize,
    /// Base seed.
    pub seed: u64,
}

impl Default for CheckOptions {
    fn default() -> Self {
        Self { steps: 10_000, determinism_steps: 1_000, seed: 0 }
    }
}

/// A check that failed, with what was seen.
#[derive(Debug, Error)]
#[error("{env}: check `{check}` failed: {detail}")]
pub struct CheckFailure {
    /// Env id.
    pub env: String,
    /// Name of the check.
    pub check: &'static str,
    /// What was wrong.
    pub detail: String,
}

/// What a passing check saw.
#[derive(Debug, Clone, Default)]
pub struct CheckReport {
    /// Names of the checks that passed, in order.
    pub passed: Vec<&'static str>,
    /// Random-action steps taken.
    pub steps: usize,
    /// Episodes finished during the random-action run.
    pub episodes: usize,
    /// Mean episode length of finished episodes.
    pub mean_episode_length: f64,
    /// Longest episode seen.
    pub max_episode_length: usize,
    /// Info keys reported on steps.
    pub info_keys: Vec<&'static str>,
}

struct Trace {
    obs: Vec<u32>,
    rewards: Vec<u64>,
    flags: Vec<(bool, bool)>,
    infos: Vec<Info>,
}

fn fail(env: &str, check: &'static str, detail: impl Into<String>) -> CheckFailure {
    CheckFailure { env: env.to_string(), check, detail: detail.into() }
}

fn run_trace(env: &mut dyn Env, seed: u64, steps: usize) -> Result<Trace, EnvError> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xac71);
    let space = env.action_space().clone();
    let mut action = vec![0.0; space.flat_dim()];
    let (mut obs, _) = env.reset(Some(seed), &ResetOptions::default())?;
    let mut info = Info::new();
    let mut t = Trace { obs: vec![], rewards: vec![], flags: vec![], infos: vec![] };
    t.obs.extend(obs.iter().map(|v| v.to_bits()));
    for _ in 0..steps {
        space.sample_into(&mut rng, &mut action);
        let o = env.step_into(&action, &mut obs, &mut info)?;
        t.obs.extend(obs.iter().map(|v| v.to_bits()));
        t.rewards.push(o.reward.to_bits());
        t.flags.push((o.terminated, o.truncated));
        t.infos.push(info);
        if o.done() {
            env.reset_into(None, &ResetOptions::default(), &mut obs, &mut info)?;
            t.obs.extend(obs.iter().map(|v| v.to_bits()));
        }
    }
    Ok(t)
}

/// Runs every check on envs built by `make`.
pub fn check_env(
    make: &dyn Fn() -> Result<BoxEnv, EnvError>,
    opts: &CheckOptions,
) -> Result<CheckReport, CheckFailure> {
    let mut env = make().map_err(|e| fail("?", "make", e.to_string()))?;
    let id = env.id().to_string();
    let err = |check: &'static str| {
        let id = id.clone();
        move |e: EnvError| fail(&id, check, e.to_string())
    };
    let mut report = CheckReport::default();

    // Spaces.
    let (os, as_) = (env.observation_space().clone(), env.action_space().clone());
    if !os.is_valid() || !as_.is_valid() {
        return Err(fail(&id, "spaces", format!("invalid space: observation {os}, action {as_}")));
    }
    report.passed.push("spaces");

    // Stepping before reset is refused.
    let probe = as_.sample(&mut ChaCha8Rng::seed_from_u64(opts.seed));
    match env.step(&probe) {
        Err(EnvError::StepBeforeReset { .. }) => report.passed.push("step before reset refused"),
        other => return Err(fail(&id, "step before reset refused", format!("got {other:?}"))),
    }

    // Random run: observations in space, no NaN/inf, info keys stable, episode lengths.
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let mut action = vec![0.0; as_.flat_dim()];
    let (mut obs, _) = env.reset(Some(opts.seed), &ResetOptions::default()).map_err(err("reset"))?;
    if !os.contains(&obs) {
        return Err(fail(&id, "reset observation in space", format!("{obs:?} not in {os}")));
    }
    let mut info = Info::new();
    let mut keys: Option<Vec<&'static str>> = None;
    let (mut len, mut lengths) = (0usize, vec![]);
    let limit = env.max_episode_steps();
    for step in 0..opts.steps {
        as_.sample_into(&mut rng, &mut action);
        let o = env.step_into(&action, &mut obs, &mut info).map_err(err("random steps"))?;
        len += 1;
        if !obs.iter().all(|v| v.is_finite()) || !o.reward.is_finite() {
            return Err(fail(&id, "finite values", format!("step {step}: obs {obs:?}, reward {}", o.reward)));
        }
        if !os.contains(&obs) {
            return Err(fail(&id, "observations in space", format!("step {step}: {obs:?} not in {os}")));
        }
        if let Some((k, v)) = info.iter().find(|(_, v)| !v.is_finite()) {
            return Err(fail(&id, "finite values", format!("step {step}: info {k} = {v}")));
        }
        match &keys {
            None => keys = Some(info.keys().to_vec()),
            Some(k) if k.as_slice() != info.keys() => {
                return Err(fail(&id, "info keys stable", format!("step {step}: {:?} then {:?}", k, info.keys())))
            }
            _ => {}
        }
        if let Some(m) = limit {
            if len > m || (len == m && !o.truncated) {
                return Err(fail(
                    &id,
                    "truncation at the limit",
                    format!("episode reached step {len} of {m} without truncation"),
                ));
            }
        }
        if o.done() {
            // Stepping after a done is refused (checked on the first episode end).
            if lengths.is_empty() {
                match env.step(&action) {
                    Err(EnvError::StepAfterDone { .. }) => {}
                    other => return Err(fail(&id, "step after done refused", format!("got {other:?}"))),
                }
            }
            lengths.push(len);
            len = 0;
            env.reset_into(None, &ResetOptions::default(), &mut obs, &mut info).map_err(err("reset"))?;
            if !os.contains(&obs) {
                return Err(fail(&id, "reset observation in space", format!("{obs:?} not in {os}")));
            }
        }
    }
    report.passed.extend(["observations in space", "finite values", "info keys stable", "truncation at the limit"]);
    if !lengths.is_empty() {
        report.passed.push("step after done refused");
    }
    report.steps = opts.steps;
    report.episodes = lengths.len();
    report.max_episode_length = lengths.iter().copied().max().unwrap_or(len);
    report.mean_episode_length =
        if lengths.is_empty() { len as f64 } else { lengths.iter().sum::<usize>() as f64 / lengths.len() as f64 };
    report.info_keys = keys.unwrap_or_default();

    // Bad actions are refused.
    env.reset(Some(opts.seed), &ResetOptions::default()).map_err(err("reset"))?;
    let n = as_.flat_dim();
    let mut bad: Vec<(&'static str, Vec<f32>)> = vec![
        ("too long", vec![0.0; n + 1]),
        ("empty", vec![]),
        ("NaN", vec![f32::NAN; n]),
        ("inf", vec![f32::INFINITY; n]),
    ];
    if let Space::Discrete { n: k } = as_ {
        bad.push(("out of range", vec![k as f32]));
        bad.push(("negative", vec![-1.0]));
        bad.push(("fractional", vec![0.5]));
    }
    for (what, a) in bad {
        if env.step(&a).is_ok() {
            return Err(fail(&id, "bad actions refused", format!("a {what} action {a:?} was accepted")));
        }
    }
    // A refused action must not end or corrupt the episode.
    let good = as_.sample(&mut rng);
    env.step(&good).map_err(err("bad actions refused"))?;
    report.passed.push("bad actions refused");

    // Determinism: two fresh envs, same seed, bit-identical; a different seed differs.
    let steps = opts.determinism_steps;
    let mut a = make().map_err(err("make"))?;
    let mut b = make().map_err(err("make"))?;
    let ta = run_trace(a.as_mut(), opts.seed, steps).map_err(err("determinism"))?;
    let tb = run_trace(b.as_mut(), opts.seed, steps).map_err(err("determinism"))?;
    if ta.obs != tb.obs || ta.rewards != tb.rewards || ta.flags != tb.flags || ta.infos != tb.infos {
        return Err(fail(&id, "same seed, same trajectory", "two envs with the same seed and actions diverged"));
    }
    // Reseeding the same env reproduces the trajectory too.
    let tc = run_trace(a.as_mut(), opts.seed, steps).map_err(err("determinism"))?;
    if ta.obs != tc.obs || ta.rewards != tc.rewards {
        return Err(fail(
            &id,
            "same seed, same trajectory",
            "reset(seed) on a used env did not reproduce the trajectory",
        ));
    }
    report.passed.push("same seed, same trajectory");
    let mut c = make().map_err(err("make"))?;
    let td = run_trace(c.as_mut(), opts.seed.wrapping_add(1), steps.min(50)).map_err(err("determinism"))?;
    let te = run_trace(a.as_mut(), opts.seed, steps.min(50)).map_err(err("determinism"))?;
    if td.obs == te.obs {
        return Err(fail(&id, "different seeds differ", "seeds s and s+1 gave identical trajectories"));
    }
    report.passed.push("different seeds differ");
    Ok(report)
}

/// [`check_env`] on a registered id.
pub fn check_env_id(id: &str, opts: &CheckOptions) -> Result<CheckReport, CheckFailure> {
    registry::spec(id).map_err(|e| fail(id, "make", e.to_string()))?;
    let id = id.to_string();
    check_env(&move || registry::make(&id), opts)
}
