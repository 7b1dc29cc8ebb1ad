//! Behaviour tests of the reaching task.

use engram_envs::checker::{check_env_id, CheckOptions};
use engram_envs::env::{Env, ResetOptions};
use engram_envs::info::Info;
use engram_envs::tasks::reach::*;
use engram_sim::arm::PlantKind;

/// Noise-free config for exact checks.
fn quiet(plant: PlantKind) -> CurlReachConfig {
    let mut c = CurlReachConfig { plant, ..CurlReachConfig::default() };
    c.observation.hand_noise_m = 0.0;
    c.observation.joint_noise_rad = 0.0;
    c.observation.joint_vel_noise_rad_s = 0.0;
    c
}

/// Runs the scripted reacher on one target (no catch) and returns its metrics and the
/// infos of every step.
fn scripted_trial(env: &mut CurlReach, target: usize, field: (f64, f64)) -> (TrialMetrics, Vec<Info>) {
    let cfg = env.config().clone();
    let mut ctl = ScriptedReacher::new(&cfg, ScriptedGains::default());
    let opts = ResetOptions::new()
        .with("target", target as f64)
        .with("catch", 0.0)
        .with("delay_s", 0.5)
        .with("field", field.0)
        .with("field_b", field.1);
    let (mut obs, mut info) = env.reset(Some(7), &opts).unwrap();
    let mut rec = TrialRecorder::new(cfg.dt_s, cfg.target_radius_m);
    rec.push(&info);
    let mut infos = vec![info];
    let mut action = [0.0f32; 2];
    for _ in 0..400 {
        ctl.act(&info, &mut action);
        let o = env.step_into(&action, &mut obs, &mut info).unwrap();
        rec.push(&info);
        infos.push(info);
        if o.done() {
            break;
        }
    }
    (rec.metrics(), infos)
}

#[test]
fn scripted_reacher_succeeds_on_all_targets_in_the_null_field() {
    for plant in [PlantKind::Analytic, PlantKind::PointMass, PlantKind::Rapier] {
        let mut env = CurlReach::new(quiet(plant)).unwrap();
        for target in 0..8 {
            let (m, _) = scripted_trial(&mut env, target, (0.0, 0.0));
            assert!(m.success, "{plant:?} target {target}: {m:?}");
            // Near-straight and bell-shaped: small deviation, peak speed of a real reach.
            assert!(m.max_lateral_deviation_m.abs() < 0.005, "{plant:?} target {target}: {m:?}");
            assert!(m.peak_speed_m_s > 0.2 && m.peak_speed_m_s < 0.5, "{plant:?} target {target}: {m:?}");
        }
    }
}

#[test]
fn the_in_target_term_pays_every_step_inside_the_target_after_the_go_cue() {
    let mut cfg = quiet(PlantKind::Analytic);
    cfg.reward.in_target_reward = 0.25;
    let mut env = CurlReach::new(cfg).unwrap();
    let (m, infos) = scripted_trial(&mut env, 2, (0.0, 0.0));
    assert!(m.success, "{m:?}");
    let paid: Vec<f64> = infos.iter().map(|i| i.get("reward_in_target").unwrap()).collect();
    let inside = infos
        .iter()
        .filter(|i| {
            let (dx, dy) = (
                i.get("hand_x").unwrap() - i.get("target_x").unwrap(),
                i.get("hand_y").unwrap() - i.get("target_y").unwrap(),
            );
            i.get("step").unwrap() > i.get("go_step").unwrap() && dx.hypot(dy) <= 0.01
        })
        .count();
    // The hold lasts 200 ms (20 steps), each paid, and nothing is paid outside.
    assert!(inside >= 20, "{inside} steps inside");
    assert_eq!(paid.iter().filter(|&&r| r == 0.25).count(), inside);
    assert!(paid.iter().all(|&r| r == 0.0 || r == 0.25));
}

#[test]
fn a_speed_limit_on_the_hold_asks_the_hand_to_stop_in_the_target() {
    // No limit and a limit no hand reaches give the same trial, step for step; a limit no
    // hand can meet (1 µm/s) never completes the hold; a limit of 5 cm/s completes it only
    // after 20 steps in a row inside the target and that slow.
    const LIMIT_M_S: f64 = 0.05;
    let run = |limit: Option<f64>| {
        let mut cfg = quiet(PlantKind::Analytic);
        cfg.timing.hold_max_speed_m_s = limit;
        scripted_trial(&mut CurlReach::new(cfg).unwrap(), 3, (0.0, 0.0))
    };
    let (free, free_infos) = run(None);
    let (loose, loose_infos) = run(Some(100.0));
    assert!(free.success && loose.success);
    let trace = |infos: &[Info]| -> Vec<[f64; 3]> {
        infos.iter().map(|i| ["hand_x", "hand_y", "success"].map(|k| i.get(k).unwrap())).collect()
    };
    assert_eq!(trace(&free_infos), trace(&loose_infos));
    assert!(!run(Some(1e-6)).0.success, "a hand never that still never holds");
    let (m, infos) = run(Some(LIMIT_M_S));
    assert!(m.success, "{m:?}");
    let g = |i: &Info, k: &str| i.get(k).unwrap();
    let last = &infos[infos.len() - 20..];
    for i in last {
        let d = (g(i, "hand_x") - g(i, "target_x")).hypot(g(i, "hand_y") - g(i, "target_y"));
        assert!(d <= 0.01 && g(i, "hand_vx").hypot(g(i, "hand_vy")) <= LIMIT_M_S, "step {}", g(i, "step"));
    }
    let before = &infos[infos.len() - 21];
    let d = (g(before, "hand_x") - g(before, "target_x")).hypot(g(before, "hand_y") - g(before, "target_y"));
    assert!(d > 0.01 || g(before, "hand_vx").hypot(g(before, "hand_vy")) > LIMIT_M_S, "the hold is 20 steps");
    let mut bad = CurlReachConfig::default();
    bad.timing.hold_max_speed_m_s = Some(-0.1);
    let Err(err) = CurlReach::new(bad) else { panic!("a negative hold speed limit was accepted") };
    let err = err.to_string();
    assert!(err.contains("timing.hold_max_speed_m_s") && err.contains("-0.1") && err.contains("> 0"), "{err}");
}

#[test]
fn the_hold_speed_term_charges_hand_speed_inside_the_target_after_the_go_cue_only() {
    const W: f64 = 1.7;
    let mut cfg = quiet(PlantKind::Analytic);
    cfg.reward.hold_speed_weight = W;
    let (m, infos) = scripted_trial(&mut CurlReach::new(cfg).unwrap(), 5, (0.0, 0.0));
    assert!(m.success, "{m:?}");
    let g = |i: &Info, k: &str| i.get(k).unwrap();
    let mut charged = 0;
    for i in &infos {
        let d = (g(i, "hand_x") - g(i, "target_x")).hypot(g(i, "hand_y") - g(i, "target_y"));
        let inside = g(i, "step") > g(i, "go_step") && d <= 0.01;
        let want = if inside { -W * g(i, "hand_vx").hypot(g(i, "hand_vy")) } else { 0.0 };
        assert!((g(i, "reward_hold_speed") - want).abs() < 1e-12, "step {}", g(i, "step"));
        charged += (want < 0.0) as usize;
    }
    // The scripted hand enters still moving: the term charges part of the 20-step hold.
    assert!(charged > 0, "the hand moved inside the target");
    // Weight 0 (the default) gives the same trial and rewards as before the term existed.
    let (_, plain) = scripted_trial(&mut CurlReach::new(quiet(PlantKind::Analytic)).unwrap(), 5, (0.0, 0.0));
    assert!(plain.iter().all(|i| g(i, "reward_hold_speed") == 0.0));
}

#[test]
fn the_hand_jerk_term_is_the_squared_second_difference_of_hand_velocity_after_the_go_cue() {
    const W: f64 = 2e-5;
    let mut cfg = quiet(PlantKind::Analytic);
    cfg.reward.hand_jerk_weight = W;
    let dt = cfg.dt_s;
    let (m, infos) = scripted_trial(&mut CurlReach::new(cfg).unwrap(), 3, (0.0, 0.0));
    assert!(m.success, "{m:?}");
    let g = |i: &Info, k: &str| i.get(k).unwrap();
    // The hand is at rest at reset: the two velocities before the first step are 0.
    let v: Vec<[f64; 2]> =
        [[0.0; 2], [0.0; 2]].into_iter().chain(infos.iter().map(|i| [g(i, "hand_vx"), g(i, "hand_vy")])).collect();
    let mut total = 0.0;
    for (n, i) in infos.iter().enumerate() {
        let (a, b, c) = (v[n + 2], v[n + 1], v[n]);
        let j = [(a[0] - 2.0 * b[0] + c[0]) / (dt * dt), (a[1] - 2.0 * b[1] + c[1]) / (dt * dt)];
        let want = if g(i, "step") > g(i, "go_step") { -W * (j[0] * j[0] + j[1] * j[1]) } else { 0.0 };
        let got = g(i, "reward_hand_jerk");
        assert!((got - want).abs() <= 1e-9 * want.abs().max(1.0), "step {}: {got} vs {want}", g(i, "step"));
        total += got;
    }
    assert!(total < 0.0, "the reach has jerk");
    // Weight 0 (the default): the term is 0 and the trial is the one before the term existed.
    let (_, plain) = scripted_trial(&mut CurlReach::new(quiet(PlantKind::Analytic)).unwrap(), 3, (0.0, 0.0));
    assert!(plain.iter().all(|i| g(i, "reward_hand_jerk") == 0.0));
    assert_eq!(plain.len(), infos.len());
}

#[test]
fn a_post_success_window_pays_the_bonus_once_and_ends_the_trial_later() {
    const POST_S: f64 = 0.3;
    let run = |post_s: f64| {
        let mut cfg = quiet(PlantKind::Analytic);
        cfg.timing.post_success_s = post_s;
        cfg.reward.in_target_reward = 0.1;
        scripted_trial(&mut CurlReach::new(cfg).unwrap(), 1, (0.0, 0.0))
    };
    let (m0, base) = run(0.0);
    let (m, infos) = run(POST_S);
    assert!(m0.success && m.success, "{m0:?} {m:?}");
    let g = |i: &Info, k: &str| i.get(k).unwrap();
    // Identical up to the step the hold completes; then 30 more steps.
    let n = base.len();
    for (a, b) in base[..n - 1].iter().zip(&infos) {
        assert_eq!(a.values(), b.values());
    }
    assert_eq!(infos.len(), n + 30);
    let bonus: Vec<f64> = infos.iter().map(|i| g(i, "reward_success")).collect();
    assert_eq!(bonus.iter().filter(|&&r| r != 0.0).count(), 1);
    assert_eq!(bonus[n - 1], 5.0, "the bonus is paid when the hold completes");
    let success: Vec<f64> = infos.iter().map(|i| g(i, "success")).collect();
    assert_eq!(success.iter().sum::<f64>(), 1.0);
    assert_eq!(success[infos.len() - 1], 1.0, "success is reported on the last step");
    // The per-step terms go on through the window: the scripted hand stays in the target.
    assert!(infos[n..].iter().all(|i| g(i, "reward_in_target") == 0.1));
    assert_eq!(CurlReachConfig::default().timing.post_success_s, 0.0);
    // Not ending on success: the trial runs to the end of the reach window (go + 0.8 s +
    // 0.2 s), the bonus paid once at completion and success reported on the last step.
    let mut cfg = quiet(PlantKind::Analytic);
    cfg.timing.end_on_success = false;
    let (m, infos) = scripted_trial(&mut CurlReach::new(cfg).unwrap(), 1, (0.0, 0.0));
    assert!(m.success, "{m:?}");
    let last = infos.last().unwrap();
    assert_eq!(g(last, "step"), g(last, "go_step") + 100.0);
    assert_eq!(g(last, "success"), 1.0);
    assert_eq!(infos.iter().map(|i| g(i, "reward_success")).sum::<f64>(), 5.0);
    assert!(CurlReachConfig::default().timing.end_on_success);
    // Unset, the new options are not written: serialized defaults stay as they were.
    let json = serde_json::to_string(&CurlReachConfig::default()).unwrap();
    for key in ["post_success_s", "end_on_success", "hold_speed_weight", "progress_gamma", "hand_jerk_weight"] {
        assert!(!json.contains(key), "{key} in {json}");
    }
}

#[test]
fn a_discounted_progress_term_is_the_potential_difference_under_that_discount() {
    // progress_gamma = γ pays w · (d_prev − γ · d): F = γ Φ(s') − Φ(s) with Φ = −w d, so the
    // discounted sum over a trial telescopes to Φ-differences (Ng et al. 1999).
    const GAMMA: f64 = 0.99;
    let mut cfg = quiet(PlantKind::Analytic);
    cfg.reward.progress_gamma = GAMMA;
    let w = cfg.reward.progress_weight;
    let (m, infos) = scripted_trial(&mut CurlReach::new(cfg).unwrap(), 6, (0.0, 0.0));
    assert!(m.success, "{m:?}");
    let g = |i: &Info, k: &str| i.get(k).unwrap();
    let d = |i: &Info| (g(i, "hand_x") - g(i, "target_x")).hypot(g(i, "hand_y") - g(i, "target_y"));
    let after: Vec<&[Info]> = infos.windows(2).filter(|p| g(&p[1], "step") > g(&p[1], "go_step")).collect();
    assert!(after.len() > 20);
    let (mut discounted, mut k) = (0.0, 0);
    for p in &after {
        let expected = w * (d(&p[0]) - GAMMA * d(&p[1]));
        assert!((g(&p[1], "reward_progress") - expected).abs() < 1e-12);
        discounted += GAMMA.powi(k) * g(&p[1], "reward_progress");
        k += 1;
    }
    let (first, last) = (&after[0][0], &after[after.len() - 1][1]);
    let telescoped = w * (d(first) - GAMMA.powi(k) * d(last));
    assert!((discounted - telescoped).abs() < 1e-9, "{discounted} vs {telescoped}");
    for bad in [-0.1, 1.5, f64::NAN] {
        let mut c = CurlReachConfig::default();
        c.reward.progress_gamma = bad;
        let err = CurlReach::new(c).unwrap_err().to_string();
        assert!(err.contains("reward.progress_gamma") && err.contains("in [0, 1]"), "{err}");
    }
}

#[test]
fn the_progress_term_pays_the_approach_after_the_go_cue_and_telescopes() {
    let mut cfg = quiet(PlantKind::Analytic);
    cfg.reward.progress_weight = 50.0;
    let w = cfg.reward.progress_weight;
    let mut env = CurlReach::new(cfg).unwrap();
    let (m, infos) = scripted_trial(&mut env, 5, (0.0, 0.0));
    assert!(m.success, "{m:?}");
    let distance = |i: &Info| {
        (i.get("hand_x").unwrap() - i.get("target_x").unwrap())
            .hypot(i.get("hand_y").unwrap() - i.get("target_y").unwrap())
    };
    let after_go = |i: &Info| i.get("step").unwrap() > i.get("go_step").unwrap();
    // Nothing is paid before the go cue, however the hand moves.
    assert!(infos.iter().filter(|i| !after_go(i)).all(|i| i.get("reward_progress") == Some(0.0)));
    // Each step pays w · (d_prev − d) …
    for pair in infos.windows(2).filter(|p| after_go(&p[1])) {
        let expected = w * (distance(&pair[0]) - distance(&pair[1]));
        let paid = pair[1].get("reward_progress").unwrap();
        assert!((paid - expected).abs() < 1e-12, "paid {paid}, expected {expected}");
    }
    // … so the trial's sum is w · (d at the go cue − d at the end): a reach that ends in
    // the target earns about w · 10 cm whatever its path.
    let go = infos.iter().rposition(|i| !after_go(i)).unwrap();
    let total: f64 = infos.iter().map(|i| i.get("reward_progress").unwrap()).sum();
    let expected = w * (distance(&infos[go]) - distance(infos.last().unwrap()));
    assert!((total - expected).abs() < 1e-9, "sum {total}, expected {expected}");
    assert!(total > w * 0.09, "a successful reach earns about w · 0.1 m, got {total}");
}

#[test]
fn curl_field_bends_reaches_its_way_and_reversing_b_mirrors_it() {
    /// Deviation the default curl must cause at least, m.
    const MIN_DEVIATION_M: f64 = 0.003;
    for plant in [PlantKind::Analytic, PlantKind::PointMass] {
        let mut env = CurlReach::new(quiet(plant)).unwrap();
        for target in 0..8 {
            let (cw, _) = scripted_trial(&mut env, target, (1.0, 8.0));
            let (ccw, _) = scripted_trial(&mut env, target, (1.0, -8.0));
            assert!(cw.max_lateral_deviation_m > MIN_DEVIATION_M, "{plant:?} target {target} cw: {cw:?}");
            assert!(ccw.max_lateral_deviation_m < -MIN_DEVIATION_M, "{plant:?} target {target} ccw: {ccw:?}");
            if plant == PlantKind::PointMass {
                // The point mass is isotropic: the mirror image is exact up to rounding.
                let diff = cw.max_lateral_deviation_m + ccw.max_lateral_deviation_m;
                assert!(diff.abs() < 1e-9, "target {target}: {cw:?} vs {ccw:?}");
            }
        }
    }
}

#[test]
fn curl_field_does_no_work() {
    let mut env = CurlReach::new(quiet(PlantKind::Analytic)).unwrap();
    let (_, infos) = scripted_trial(&mut env, 3, (1.0, 12.0));
    let mut pushed = 0;
    for i in &infos {
        let f = [i.get("field_fx").unwrap(), i.get("field_fy").unwrap()];
        let v = [i.get("hand_vx").unwrap(), i.get("hand_vy").unwrap()];
        assert!((f[0] * v[0] + f[1] * v[1]).abs() < 1e-12, "{f:?} · {v:?}");
        pushed += (f[0].hypot(f[1]) > 0.5) as usize;
    }
    assert!(pushed > 10, "the field barely acted");
}

#[test]
fn sensory_delays_shift_the_signals_by_exactly_70_and_20_ms() {
    let cfg = quiet(PlantKind::Analytic);
    let (hand_lag, joint_lag) = (cfg.steps(0.07), cfg.steps(0.02));
    assert_eq!((hand_lag, joint_lag), (7, 2));
    let mut env = CurlReach::new(cfg).unwrap();
    let opts = ResetOptions::new().with("catch", 1.0);
    let (mut obs, mut info) = env.reset(Some(1), &opts).unwrap();
    let start = env.start_hand();
    let (mut hand, mut q, mut seen_hand, mut seen_q) = (vec![], vec![], vec![], vec![]);
    let mut record = |obs: &[f32], info: &Info| {
        hand.push([(info.get("hand_x").unwrap() - start[0]) as f32, (info.get("hand_y").unwrap() - start[1]) as f32]);
        q.push([info.get("q_shoulder").unwrap() as f32, info.get("q_elbow").unwrap() as f32]);
        seen_hand.push([obs[3], obs[4]]);
        seen_q.push([obs[5], obs[6]]);
    };
    record(&obs, &info);
    for t in 0..20 {
        if t == 5 {
            // A step change of the posture: the observation must follow exactly 7 / 2 steps later.
            env.set_state(&[61f64.to_radians(), 90f64.to_radians(), 0.0, 0.0, 0.0, 0.0]).unwrap();
        }
        env.step_into(&[0.0, 0.0], &mut obs, &mut info).unwrap();
        record(&obs, &info);
    }
    for t in 0..hand.len() {
        let want_hand = if t >= hand_lag { hand[t - hand_lag] } else { hand[0] };
        let want_q = if t >= joint_lag { q[t - joint_lag] } else { q[0] };
        assert_eq!(seen_hand[t], want_hand, "hand at step {t}");
        assert_eq!(seen_q[t], want_q, "joints at step {t}");
    }
    let first_change = seen_hand.iter().position(|h| *h != seen_hand[0]).unwrap();
    assert_eq!(first_change, 6 + hand_lag, "the jump happened on step 6");
}

#[test]
fn moving_before_the_go_cue_ends_the_trial_with_a_penalty() {
    let mut env = CurlReach::new(quiet(PlantKind::Analytic)).unwrap();
    env.reset(Some(3), &ResetOptions::new().with("catch", 0.0)).unwrap();
    let mut steps = 0;
    loop {
        let s = env.step(&[1.0, 1.0]).unwrap();
        steps += 1;
        if s.terminated {
            assert_eq!(s.info.get("early_move"), Some(1.0));
            assert_eq!(s.info.get("reward_early_move"), Some(-env.config().reward.early_move_penalty));
            break;
        }
    }
    assert!(steps < 20, "full torque should leave the start within 200 ms, took {steps} steps");
}

#[test]
fn the_hold_term_charges_displacement_before_the_go_cue_only() {
    let mut cfg = quiet(PlantKind::Analytic);
    cfg.reward.hold_weight = 10.0;
    cfg.early_move_tolerance_m = 1.0;
    let mut env = CurlReach::new(cfg).unwrap();
    let (_, info) = env.reset(Some(3), &ResetOptions::new().with("catch", 0.0)).unwrap();
    let go = info.get("go_step").unwrap() as usize;
    let start = (info.get("hand_x").unwrap(), info.get("hand_y").unwrap());
    for t in 1..=go + 5 {
        let s = env.step(&[0.01, 0.0]).unwrap();
        let d = (s.info.get("hand_x").unwrap() - start.0).hypot(s.info.get("hand_y").unwrap() - start.1);
        let hold = s.info.get("reward_hold").unwrap();
        if t <= go {
            assert!((hold + 10.0 * d).abs() < 1e-12, "step {t}: {hold} vs displacement {d}");
        } else {
            assert_eq!(hold, 0.0, "step {t} is after the go cue");
        }
        let terms: f64 = [
            "reward_distance",
            "reward_success",
            "reward_effort",
            "reward_early_move",
            "reward_jerk",
            "reward_hold",
            "reward_in_target",
            "reward_progress",
            "reward_speed",
            "reward_hold_speed",
            "reward_hand_jerk",
        ]
        .iter()
        .map(|k| s.info.get(k).unwrap())
        .sum();
        assert!((terms - s.reward).abs() < 1e-12, "the reward is the sum of its named terms");
    }
}

#[test]
fn a_still_catch_trial_succeeds() {
    let mut env = CurlReach::new(quiet(PlantKind::Analytic)).unwrap();
    env.reset(Some(3), &ResetOptions::new().with("catch", 1.0)).unwrap();
    let mut total = 0.0;
    for _ in 0..300 {
        let s = env.step(&[0.0, 0.0]).unwrap();
        total += s.reward;
        assert_eq!(s.obs[2], 0.0, "no go cue on a catch trial");
        if s.terminated {
            assert_eq!(s.info.get("success"), Some(1.0));
            assert_eq!(total, env.config().reward.success_bonus);
            return;
        }
    }
    panic!("catch trial never ended");
}

#[test]
fn field_options_persist_and_bad_options_are_refused() {
    let mut env = CurlReach::new(quiet(PlantKind::Analytic)).unwrap();
    env.reset(Some(0), &ResetOptions::new().with("field", 0.0)).unwrap();
    env.reset(None, &ResetOptions::new()).unwrap();
    assert_eq!(env.session_field().0, FieldKind::Null);
    for (k, v) in [("field", 5.0), ("field_b", 30.0), ("target", 8.0), ("target", 1.5), ("catch", 2.0), ("foo", 1.0)] {
        assert!(env.reset(None, &ResetOptions::new().with(k, v)).is_err(), "{k} = {v} accepted");
    }
}

#[test]
fn same_seed_gives_bit_identical_trials() {
    for id in [CurlReach::ID, CurlReach::POINT_MASS_ID, CurlReach::RAPIER_ID] {
        let run = || {
            let mut env = engram_envs::registry::make(id).unwrap();
            let mut out = vec![];
            let (obs, _) = env.reset(Some(42), &ResetOptions::default()).unwrap();
            out.extend(obs.iter().map(|v| v.to_bits() as u64));
            for k in 0..300 {
                let a = [((k as f32) * 0.37).sin() * 0.1, ((k as f32) * 0.23).cos() * 0.1];
                let s = env.step(&a).unwrap();
                out.extend(s.obs.iter().map(|v| v.to_bits() as u64));
                out.extend(s.info.values().iter().map(|v| v.to_bits()));
                out.push(s.reward.to_bits());
                if s.terminated || s.truncated {
                    env.reset(None, &ResetOptions::default()).unwrap();
                }
            }
            out
        };
        assert_eq!(run(), run(), "{id}");
    }
}

#[test]
fn env_checker_passes_on_every_plant() {
    for id in [CurlReach::ID, CurlReach::POINT_MASS_ID, CurlReach::RAPIER_ID] {
        let opts = CheckOptions { steps: 3000, determinism_steps: 500, seed: 0 };
        let report = check_env_id(id, &opts).unwrap_or_else(|e| panic!("{e}"));
        assert!(report.episodes > 5, "{id}: {report:?}");
    }
}

#[test]
fn field_mask_spares_untrained_targets_and_the_channel_clamps_the_path() {
    let mut cfg = quiet(PlantKind::Analytic);
    cfg.field.targets = Some(vec![2]);
    let mut env = CurlReach::new(cfg).unwrap();
    let (on, _) = scripted_trial(&mut env, 2, (1.0, 8.0));
    let (off, infos) = scripted_trial(&mut env, 5, (1.0, 8.0));
    assert!(on.max_lateral_deviation_m > 0.003, "{on:?}");
    assert!(infos.iter().all(|i| i.get("field_active") == Some(0.0)), "field acted on a masked target");
    assert!(off.max_lateral_deviation_m.abs() < 0.003, "{off:?}");

    let mut env = CurlReach::new(quiet(PlantKind::Analytic)).unwrap();
    let (ch, infos) = scripted_trial(&mut env, 1, (3.0, 0.0));
    assert!(ch.success && ch.max_lateral_deviation_m.abs() < 0.001, "{ch:?}");
    let peak_force = infos.iter().map(|i| i.get("channel_force").unwrap().abs()).fold(0.0, f64::max);
    assert!(peak_force > 0.0 && peak_force < 5.0, "channel force {peak_force} N");
    // The scripted reacher never learned the curl: its index is far from the 1 of full
    // compensation (measured −0.23: the arm's own dynamics press on the wall a little).
    let mut rec = TrialRecorder::new(0.01, 0.01);
    infos.iter().for_each(|i| rec.push(i));
    let index = rec.adaptation_index(8.0);
    assert!(index.abs() < 0.5, "adaptation index {index}");
}

#[test]
fn adaptation_index_is_one_for_a_hand_that_cancels_the_expected_curl() {
    // A synthetic channel trial along +x: the hand pushes b·v_x along +y (the CCW normal).
    let b = 8.0;
    let mut rec = TrialRecorder::new(0.01, 0.01);
    for t in 0..50 {
        let mut info = Info::new();
        let v = 0.3 * (t as f64 * 0.06).sin();
        for (k, val) in [
            ("hand_x", 0.001 * t as f64),
            ("hand_y", 0.0),
            ("hand_vx", v),
            ("hand_vy", 0.0),
            ("target_x", 0.1),
            ("target_y", 0.0),
            ("go_step", 0.0),
            ("step", t as f64),
            ("channel_force", b * v),
        ] {
            info.set(k, val);
        }
        rec.push(&info);
    }
    assert!((rec.adaptation_index(b) - 1.0).abs() < 1e-12);
    assert!((rec.adaptation_index(2.0 * b) - 0.5).abs() < 1e-12);
}

#[test]
fn random_b_pretraining_draws_signed_strengths_and_can_be_observed() {
    let mut cfg = quiet(PlantKind::PointMass);
    cfg.field.random_b_range_ns_m = Some([-15.0, 15.0]);
    cfg.observation.field_strength_input = true;
    cfg.observation.previous_action = true;
    cfg.field.targets = None;
    let mut env = CurlReach::new(cfg).unwrap();
    assert_eq!(env.observation_space().flat_dim(), 12);
    let mut seen = vec![];
    for s in 0..20 {
        let (obs, info) = env.reset(Some(s), &ResetOptions::new()).unwrap();
        let b = info.get("field_b").unwrap();
        assert!((-15.0..=15.0).contains(&b));
        assert_eq!(obs[11], (b / 10.0) as f32);
        seen.push(b);
    }
    assert!(seen.iter().any(|&b| b > 1.0) && seen.iter().any(|&b| b < -1.0), "{seen:?}");
}

#[test]
fn effort_smoothness_and_speed_terms_match_their_definitions() {
    let mut cfg = quiet(PlantKind::Analytic);
    cfg.reward.effort_weight = 0.7;
    cfg.reward.jerk_weight = 1.3;
    cfg.reward.speed_weight = 2.9;
    cfg.catch_probability = 0.0;
    let mut env = CurlReach::new(cfg).unwrap();
    let opts = ResetOptions::new().with("target", 2.0).with("delay_s", 0.1).with("field", 0.0);
    let (mut obs, mut info) = env.reset(Some(3), &opts).unwrap();
    let go = info.get("go_step").unwrap() as usize;
    let mut prev = [0.0f64; 2];
    for t in 0..go + 30 {
        // Zero before the go cue (no movement), then a varying command toward the target.
        let u = if t < go { [0.0, 0.0] } else { [0.3 * ((t % 7) as f64 / 7.0), -0.2 + 0.05 * (t % 3) as f64] };
        let a = [u[0] as f32, u[1] as f32];
        let o = env.step_into(&a, &mut obs, &mut info).unwrap();
        let u = [a[0] as f64, a[1] as f64];
        let effort = -0.7 * (u[0] * u[0] + u[1] * u[1]);
        let smooth = -1.3 * ((u[0] - prev[0]).powi(2) + (u[1] - prev[1]).powi(2));
        prev = u;
        let after_go = t + 1 > go;
        let (vx, vy) = (info.get("hand_vx").unwrap(), info.get("hand_vy").unwrap());
        let speed = if after_go { -2.9 * (vx * vx + vy * vy) } else { 0.0 };
        assert!((info.get("reward_effort").unwrap() - effort).abs() < 1e-12, "step {t}");
        assert!((info.get("reward_jerk").unwrap() - smooth).abs() < 1e-12, "step {t}");
        assert!((info.get("reward_speed").unwrap() - speed).abs() < 1e-12, "step {t}");
        if after_go {
            assert!(speed < 0.0, "step {t}: the hand moves after the go cue");
        }
        if o.done() {
            break;
        }
    }
}

#[test]
fn negative_regularizer_weights_are_refused_with_field_value_and_bound() {
    for (field, set) in [
        ("reward.effort_weight", (|c: &mut CurlReachConfig| c.reward.effort_weight = -0.5) as fn(&mut CurlReachConfig)),
        ("reward.jerk_weight", |c| c.reward.jerk_weight = -0.5),
        ("reward.speed_weight", |c| c.reward.speed_weight = -0.5),
        ("reward.hold_speed_weight", |c| c.reward.hold_speed_weight = -0.5),
        ("reward.hand_jerk_weight", |c| c.reward.hand_jerk_weight = -0.5),
        ("timing.post_success_s", |c| c.timing.post_success_s = -0.5),
    ] {
        let mut c = CurlReachConfig::default();
        set(&mut c);
        let err = CurlReach::new(c).unwrap_err().to_string();
        assert!(err.contains(field) && err.contains("-0.5") && err.contains(">= 0"), "{err}");
    }
}

#[test]
fn speed_profile_measures_a_minimum_jerk_reach_as_single_peaked_and_centred() {
    use engram_envs::tasks::reach::metrics::speed_profile;
    // Minimum-jerk speed over 0.5 s at 10 ms steps, padded with rest: bell-shaped, peak at
    // half the movement, 1.875 · D / T at the peak.
    let (d, t) = (0.1, 0.5);
    let mut speed = vec![0.0; 10];
    speed.extend((0..=50).map(|i| {
        let s = i as f64 / 50.0;
        30.0 * d / t * s * s * (1.0 - s) * (1.0 - s)
    }));
    speed.extend(vec![0.0; 10]);
    let peak = speed.iter().cloned().fold(0.0, f64::max);
    assert!((peak - 1.875 * d / t).abs() < 1e-12);
    let prof = speed_profile(&speed);
    let (dur, frac) = (prof.duration, prof.peak_fraction);
    assert_eq!((prof.peaks, prof.movement_peaks), (1, 1));
    assert!((frac - 0.5).abs() < 0.03, "{frac}");
    // 10 % of the peak is reached at s ≈ 0.0817 and left at s ≈ 0.9183: 0.837 T.
    assert!((dur * 0.01 - 0.837 * t).abs() < 0.02, "{dur}");
    // A corrective submovement after the offset is a second peak of the trial, not of the
    // movement; a skewed profile puts the peak early.
    let mut two = speed.clone();
    two.extend([0.1, 0.2, 0.1, 0.0]);
    let p2 = speed_profile(&two);
    assert_eq!((p2.peak_fraction, p2.peaks, p2.movement_peaks), (frac, 2, 1));
    // Two overlapping sub-movements (the speed never falls below 10 % between them) are two
    // peaks of the movement, and the movement lasts through both.
    let bump = |i: usize, c: f64| (-(i as f64 - c).powi(2) / 32.0).exp();
    let overlap: Vec<f64> = (0..40).map(|i| bump(i, 10.0) + 0.8 * bump(i, 22.0)).collect();
    let p3 = speed_profile(&overlap);
    assert_eq!((p3.peaks, p3.movement_peaks), (2, 2), "{p3:?}");
    let skewed: Vec<f64> =
        (0..60).map(|i| if i < 10 { i as f64 } else { 10.0 * (-(i as f64 - 10.0) / 12.0).exp() }).collect();
    assert!(speed_profile(&skewed).peak_fraction < 0.35);
}

#[test]
fn a_sham_field_shows_its_strength_on_the_input_but_exerts_no_force() {
    let make = |sham: bool| {
        let mut cfg = quiet(PlantKind::Analytic);
        cfg.observation.field_strength_input = true;
        cfg.field.targets = Some(vec![0]);
        cfg.field.sham = sham;
        CurlReach::new(cfg).unwrap()
    };
    let (m_null, i_null) = scripted_trial(&mut make(false), 0, (0.0, 0.0));
    let (m_curl, _) = scripted_trial(&mut make(false), 0, (1.0, 8.0));
    let (m_sham, i_sham) = scripted_trial(&mut make(true), 0, (1.0, 8.0));
    // The sham trial moves exactly as the null-field one; the real field pushes the hand.
    assert_eq!(m_sham.max_lateral_deviation_m, m_null.max_lateral_deviation_m);
    assert_eq!(i_sham.len(), i_null.len());
    assert!((m_curl.max_lateral_deviation_m - m_null.max_lateral_deviation_m).abs() > 1e-3);
    assert!(i_sham.iter().all(|i| i.get("field_active") == Some(0.0)));
    // ... but the b input and `info` show the strength on the field's target, 0 elsewhere.
    let mut env = make(true);
    let dim = env.observation_space().flat_dim();
    let on = ResetOptions::new().with("target", 0.0).with("field", 1.0).with("field_b", 8.0);
    let (obs, info) = env.reset(Some(1), &on).unwrap();
    assert_eq!((obs[dim - 1], info.get("field_b")), (0.8, Some(8.0)));
    let (obs, _) = env.reset(Some(1), &on.clone().with("target", 3.0)).unwrap();
    assert_eq!(obs[dim - 1], 0.0);
}
