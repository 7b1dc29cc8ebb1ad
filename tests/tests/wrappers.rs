//! Wrapper semantics against their definitions.

use engram_envs::prelude::*;
use engram_envs::tasks::cartpole::CartPole;
use engram_envs::tasks::pendulum::Pendulum;
use engram_envs::wrappers::*;

fn opts() -> ResetOptions {
    ResetOptions::default()
}

fn actions(t: usize) -> f32 {
    ((t as f32) * 0.37).sin() * 2.0
}

#[test]
fn record_episode_statistics_totals_the_episode() {
    let mut env = RecordEpisodeStatistics::new(TimeLimit::new(Pendulum::default(), 50));
    env.reset(Some(0), &opts()).unwrap();
    let mut total = 0.0;
    for t in 1..=50 {
        let s = env.step(&[actions(t)]).unwrap();
        total += s.reward;
        assert_eq!(s.info.get("episode_length"), Some(t as f64));
        assert_eq!(s.info.get("episode_return"), Some(total));
        assert_eq!(s.truncated, t == 50);
    }
}

#[test]
fn clip_action_clips_to_the_inner_bounds() {
    let mut clipped = ClipAction::new(Pendulum::default());
    let mut plain = Pendulum::default();
    clipped.reset(Some(1), &opts()).unwrap();
    plain.reset(Some(1), &opts()).unwrap();
    assert!(clipped.action_space().contains(&[100.0]));
    let a = clipped.step(&[100.0]).unwrap();
    let b = plain.step(&[2.0]).unwrap();
    assert_eq!(a.obs, b.obs);
}

#[test]
fn normalize_observation_learns_freezes_saves_and_loads() {
    let mut env = NormalizeObservation::new(TimeLimit::new(Pendulum::default(), 200));
    env.reset(Some(0), &opts()).unwrap();
    let mut seen = vec![];
    for t in 0..4000 {
        let s = env.step(&[actions(t)]).unwrap();
        if t > 2000 {
            seen.push(s.obs.clone());
        }
        if s.truncated {
            env.reset(None, &opts()).unwrap();
        }
    }
    for d in 0..3 {
        let mean = seen.iter().map(|o| o[d] as f64).sum::<f64>() / seen.len() as f64;
        let var = seen.iter().map(|o| (o[d] as f64 - mean).powi(2)).sum::<f64>() / seen.len() as f64;
        assert!(mean.abs() < 0.35 && (0.5..1.6).contains(&var), "dim {d}: mean {mean}, var {var}");
    }
    let saved = serde_json::to_string(env.stats()).unwrap();
    env.set_frozen(true);
    let before = env.stats().clone();
    env.reset(Some(3), &opts()).unwrap();
    for t in 0..10 {
        env.step(&[actions(t)]).unwrap();
    }
    assert_eq!(env.stats(), &before, "frozen statistics moved");
    let mut fresh = NormalizeObservation::new(TimeLimit::new(Pendulum::default(), 200));
    fresh.set_stats(serde_json::from_str(&saved).unwrap());
    fresh.set_frozen(true);
    let (a, _) = env.reset(Some(8), &opts()).unwrap();
    let (b, _) = fresh.reset(Some(8), &opts()).unwrap();
    assert_eq!(a, b);
}

#[test]
fn normalize_reward_divides_by_the_return_std() {
    let mut env = NormalizeReward::new(TimeLimit::new(Pendulum::default(), 200), 0.99);
    let mut raw = TimeLimit::new(Pendulum::default(), 200);
    env.reset(Some(0), &opts()).unwrap();
    raw.reset(Some(0), &opts()).unwrap();
    let mut g = 0.0;
    let mut stats = RunningMeanStd::new(1);
    for t in 0..300 {
        let a = env.step(&[actions(t)]).unwrap();
        let r = raw.step(&[actions(t)]).unwrap();
        g = g * 0.99 + r.reward;
        stats.update_one(&[g as f32]);
        let want = r.reward / (stats.var[0] + 1e-8).sqrt();
        assert!((a.reward - want).abs() <= 1e-12 * want.abs().max(1.0), "t={t}: {} vs {want}", a.reward);
        if r.truncated {
            break;
        }
    }
}

#[test]
fn observation_noise_is_seeded_and_has_the_given_std() {
    let std = 0.1f32;
    let run = |seed| {
        let mut env = ObservationNoise::uniform(Pendulum::default(), std).unwrap();
        let mut clean = Pendulum::default();
        env.reset(Some(seed), &opts()).unwrap();
        clean.reset(Some(seed), &opts()).unwrap();
        let mut diffs = vec![];
        for t in 0..150 {
            let a = env.step(&[actions(t)]).unwrap().obs;
            let b = clean.step(&[actions(t)]).unwrap().obs;
            diffs.extend(a.iter().zip(&b).map(|(x, y)| (x - y) as f64));
        }
        diffs
    };
    let d = run(4);
    assert_eq!(d, run(4));
    assert_ne!(d, run(5));
    let sd = (d.iter().map(|x| x * x).sum::<f64>() / d.len() as f64).sqrt();
    assert!((sd - std as f64).abs() < 0.015, "noise std {sd}");
    assert!(ObservationNoise::new(Pendulum::default(), vec![0.1; 2]).is_err());
    assert!(ObservationNoise::new(Pendulum::default(), vec![0.1, -1.0, 0.0]).is_err());
}

#[test]
fn observation_delay_shifts_by_exactly_d_steps() {
    for d in [0usize, 1, 3] {
        let mut delayed = ObservationDelay::new(Pendulum::default(), d);
        let mut clean = Pendulum::default();
        let (first, _) = delayed.reset(Some(2), &opts()).unwrap();
        clean.reset(Some(2), &opts()).unwrap();
        let mut history = vec![first];
        for t in 0..20 {
            history.push(clean.step(&[actions(t)]).unwrap().obs);
            let got = delayed.step(&[actions(t)]).unwrap().obs;
            let k = (t + 1).saturating_sub(d);
            assert_eq!(got, history[k], "delay {d}, step {t}");
        }
    }
}

#[test]
fn action_delay_applies_the_action_from_d_steps_ago() {
    let d = 2;
    let mut delayed = ActionDelay::new(Pendulum::default(), d);
    let mut clean = Pendulum::default();
    delayed.reset(Some(6), &opts()).unwrap();
    clean.reset(Some(6), &opts()).unwrap();
    for t in 0..30 {
        let applied = if t < d { 0.0 } else { actions(t - d) };
        assert_eq!(delayed.step(&[actions(t)]).unwrap().obs, clean.step(&[applied]).unwrap().obs, "step {t}");
    }
}

#[test]
fn frame_stack_holds_the_last_k_observations_oldest_first() {
    let k = 3;
    let mut stacked = FrameStack::new(CartPole::default(), k);
    let mut clean = CartPole::default();
    assert_eq!(stacked.observation_space().flat_dim(), 12);
    let (first, _) = stacked.reset(Some(0), &opts()).unwrap();
    let (c0, _) = clean.reset(Some(0), &opts()).unwrap();
    assert_eq!(first, c0.repeat(k));
    let mut hist = vec![c0.clone(), c0.clone(), c0];
    for t in 0..8 {
        let a = [(t % 2) as f32];
        hist.push(clean.step(&a).unwrap().obs);
        let got = stacked.step(&a).unwrap().obs;
        assert_eq!(got, hist[hist.len() - k..].concat(), "step {t}");
    }
}
