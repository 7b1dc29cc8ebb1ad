//! Cross-check of `engram_sim::muscle::MuscleArm` against MotorNet 0.3.0's `RigidTendonArm26`.
//!
//! The fixture `tests/data/motornet/arm26_rigid.json` was written by
//! `scripts/motornet_fixture.py` (MotorNet in float32, torch 2.15): six excitation sequences
//! (rest, co-contraction, single-muscle pulses, sines, flex-then-extend from a moving start,
//! out-of-range excitations) of 100 steps (1 s) from fixed joint states. engram's arm runs the
//! same equations in f64; the gap is MotorNet's float32 rounding, amplified by the dynamics.

use engram_sim::field::ForceField;
use engram_sim::muscle::{MuscleArm, MuscleArmParams, N_MUSCLES};
use serde_json::Value;

/// Joint angles may differ by this much over 1 s, rad (float32 vs f64; measured ≤ 1.3e-6).
const ANGLE_TOL_RAD: f64 = 1e-5;
/// Hand positions may differ by this much over 1 s, m.
const HAND_TOL_M: f64 = 5e-6;
/// Muscle forces may differ by this fraction of the muscle's maximum isometric force.
const FORCE_TOL_FRAC: f64 = 5e-6;
/// Activations may differ by this much.
const ACT_TOL: f64 = 1e-6;

fn nums(v: &Value) -> Vec<f64> {
    v.as_array().expect("array").iter().map(|x| x.as_f64().expect("number")).collect()
}

#[test]
fn muscle_arm_matches_motornet_rigid_tendon_arm26_over_one_second() {
    let path = format!("{}/data/motornet/arm26_rigid.json", env!("CARGO_MANIFEST_DIR"));
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("fixture")).expect("json");
    let params = MuscleArmParams::motornet_arm26();
    let cases = doc["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 6);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let j0 = nums(&case["joint0"]);
        let mut arm = MuscleArm::new(params.clone());
        arm.reset([j0[0], j0[1]], [j0[2], j0[3]]);
        let ex: Vec<Vec<f64>> = case["excitation"].as_array().unwrap().iter().map(nums).collect();
        let (joint, force, act, hand) = (&case["joint"], &case["force"], &case["activation"], &case["hand"]);
        let mut worst = [0.0f64; 4];
        for k in 0..=ex.len() {
            if k > 0 {
                let u: [f64; N_MUSCLES] = std::array::from_fn(|m| ex[k - 1][m] as f32 as f64);
                arm.step(&u, &ForceField::Null);
            }
            let s = arm.state();
            let (j, f, a, h) = (nums(&joint[k]), nums(&force[k]), nums(&act[k]), nums(&hand[k]));
            for i in 0..2 {
                worst[0] = worst[0].max((s.q[i] - j[i]).abs());
                worst[3] = worst[3].max((arm.hand_position()[i] - h[i]).abs());
            }
            for m in 0..N_MUSCLES {
                let fmax = params.muscles[m].max_isometric_force_n;
                worst[1] = worst[1].max((s.muscles[m].force_n - f[m]).abs() / fmax);
                worst[2] = worst[2].max((s.muscles[m].activation - a[m]).abs());
            }
        }
        eprintln!(
            "{name}: max |Δq| {:.2e} rad, |Δforce|/Fmax {:.2e}, |Δa| {:.2e}, |Δhand| {:.2e} m",
            worst[0], worst[1], worst[2], worst[3]
        );
        assert!(worst[0] < ANGLE_TOL_RAD, "{name}: joint angle off by {} rad", worst[0]);
        assert!(worst[1] < FORCE_TOL_FRAC, "{name}: force off by {} Fmax", worst[1]);
        assert!(worst[2] < ACT_TOL, "{name}: activation off by {}", worst[2]);
        assert!(worst[3] < HAND_TOL_M, "{name}: hand off by {} m", worst[3]);
        // The arm really moved in the driven cases.
        if name != "rest" {
            let j = nums(&joint[ex.len()]);
            assert!((j[0] - j0[0]).abs() + (j[1] - j0[1]).abs() > 0.05 || name == "cocontract", "{name}: no motion");
        }
    }
}
