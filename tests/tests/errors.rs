//! Each kind of bad input to an env is a typed error that names the env, field and bound.

use engram_envs::prelude::*;
use engram_envs::tasks::pendulum::Pendulum;
use engram_envs::wrappers::{ActionDelay, ClipAction, FrameStack, NormalizeObservation, TimeLimit};

#[test]
fn wrong_action_length() {
    let mut env = make("Pendulum-v1").unwrap();
    env.reset(Some(0), &ResetOptions::default()).unwrap();
    let err = env.step(&[0.0, 0.0]).err().unwrap();
    assert_eq!(
        err,
        EnvError::ActionLength { env: "Pendulum-v1".into(), expected: 1, got: 2, space: "Box(-2, 2, [1])".into() }
    );
    assert_eq!(err.to_string(), "Pendulum-v1: action has length 2, expected 1 (action space Box(-2, 2, [1]))");
}

#[test]
fn nan_and_inf_actions() {
    let mut env = make("Pendulum-v1").unwrap();
    env.reset(Some(0), &ResetOptions::default()).unwrap();
    for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        let err = env.step(&[bad]).err().unwrap();
        assert!(matches!(err, EnvError::NonFiniteAction { index: 0, .. }), "{err}");
        assert!(err.to_string().contains("Pendulum-v1"));
    }
    // The refused actions did not advance the episode.
    let before = env.state().unwrap();
    env.step(&[0.0]).unwrap();
    assert_ne!(env.state().unwrap(), before);
}

#[test]
fn out_of_range_discrete_action() {
    let mut env = make("CartPoleNoVel-v1").unwrap();
    env.reset(Some(0), &ResetOptions::default()).unwrap();
    for bad in [2.0, -1.0, 0.5] {
        let err = env.step(&[bad]).err().unwrap();
        assert_eq!(err, EnvError::DiscreteActionOutOfRange { env: "CartPoleNoVel-v1".into(), value: bad, n: 2 });
    }
}

#[test]
fn step_before_reset_and_after_done() {
    let mut env = make("CartPole-v1").unwrap();
    assert!(matches!(env.step(&[0.0]), Err(EnvError::StepBeforeReset { .. })));
    env.reset(Some(0), &ResetOptions::default()).unwrap();
    let mut done = false;
    for _ in 0..500 {
        if env.step(&[1.0]).unwrap().terminated {
            done = true;
            break;
        }
    }
    assert!(done, "always pushing right must topple the pole");
    let err = env.step(&[1.0]).err().unwrap();
    assert_eq!(err, EnvError::StepAfterDone { env: "CartPole-v1".into() });
    env.reset(None, &ResetOptions::default()).unwrap();
    env.step(&[1.0]).unwrap();
}

#[test]
fn wrappers_keep_refusing_bad_input() {
    let p = || Pendulum::default();
    let mut envs: Vec<Box<dyn Env>> = vec![
        Box::new(ClipAction::new(p())),
        Box::new(NormalizeObservation::new(p())),
        Box::new(FrameStack::new(p(), 3)),
        Box::new(ActionDelay::new(p(), 2)),
        Box::new(TimeLimit::new(p(), 5)),
    ];
    for env in &mut envs {
        assert!(matches!(env.step(&[0.0]), Err(EnvError::StepBeforeReset { .. })), "{}", env.id());
        env.reset(Some(0), &ResetOptions::default()).unwrap();
        assert!(matches!(env.step(&[f32::NAN]), Err(EnvError::NonFiniteAction { .. })));
        assert!(matches!(env.step(&[]), Err(EnvError::ActionLength { .. })));
    }
}

#[test]
fn invalid_state_is_refused() {
    let mut env = make("CartPole-v1").unwrap();
    env.reset(Some(0), &ResetOptions::default()).unwrap();
    assert!(matches!(env.set_state(&[0.0; 3]), Err(EnvError::InvalidState { .. })));
    assert!(matches!(env.set_state(&[0.0, f64::NAN, 0.0, 0.0]), Err(EnvError::InvalidState { .. })));
}
