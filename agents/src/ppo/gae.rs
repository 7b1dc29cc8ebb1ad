//! Generalized advantage estimation (Schulman et al. 2016, "High-Dimensional Continuous
//! Control Using Generalized Advantage Estimation"), with SB3's handling of time limits.

/// Adds `γ V(final_obs)` to the reward of every truncated step, as SB3's
/// `OnPolicyAlgorithm.collect_rollouts` does: a time limit is not a terminal state, so its
/// value is bootstrapped from the final observation. Terminated steps get nothing.
///
/// Shapes: `rewards`, `truncated`, `final_values`, `[n_envs]` for one step.
pub fn bootstrap_truncated(
    rewards: &mut [f32],
    terminated: &[bool],
    truncated: &[bool],
    final_values: &[f32],
    gamma: f32,
) {
    for i in 0..rewards.len() {
        if truncated[i] && !terminated[i] {
            rewards[i] += gamma * final_values[i];
        }
    }
}

/// GAE(γ, λ) over a `[time, n_envs]` rollout (time-major).
///
/// `dones[t, i]` says that env `i`'s episode ended at step `t` (terminated or truncated; a
/// truncation's bootstrap is already in its reward, see [`bootstrap_truncated`]), so the
/// next row belongs to a new episode and nothing flows across. `last_values` is `V` of the
/// observation after the last step. Returns `(advantages, returns)` with
/// `returns = advantages + values`.
pub fn gae(
    rewards: &[f32],
    values: &[f32],
    dones: &[bool],
    last_values: &[f32],
    n_envs: usize,
    gamma: f32,
    lambda: f32,
) -> (Vec<f32>, Vec<f32>) {
    let n = rewards.len();
    assert!((n / n_envs) * n_envs == n && values.len() == n && dones.len() == n && last_values.len() == n_envs);
    let time = n / n_envs;
    let mut adv = vec![0.0f32; n];
    let mut last_gae = vec![0.0f32; n_envs];
    for t in (0..time).rev() {
        for i in 0..n_envs {
            let k = t * n_envs + i;
            let next_value = if t + 1 < time { values[k + n_envs] } else { last_values[i] };
            let not_done = if dones[k] { 0.0 } else { 1.0 };
            let delta = rewards[k] + gamma * next_value * not_done - values[k];
            last_gae[i] = delta + gamma * lambda * not_done * last_gae[i];
            adv[k] = last_gae[i];
        }
    }
    let returns = adv.iter().zip(values).map(|(a, v)| a + v).collect();
    (adv, returns)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOL: f32 = 1e-6;

    #[test]
    fn gae_matches_hand_computed_example() {
        // One env, three steps, γ = 0.9, λ = 0.8, episode ends at step 1 (terminal).
        // rewards 1, 2, 3; values 0.5, 1.0, 1.5; V(next after step 2) = 2.0.
        // δ2 = 3 + 0.9·2.0 − 1.5 = 3.3                 A2 = 3.3
        // δ1 = 2 + 0 − 1.0 = 1.0 (done)                A1 = 1.0
        // δ0 = 1 + 0.9·1.0 − 0.5 = 1.4                 A0 = 1.4 + 0.72·1.0 = 2.12
        let (adv, ret) = gae(&[1.0, 2.0, 3.0], &[0.5, 1.0, 1.5], &[false, true, false], &[2.0], 1, 0.9, 0.8);
        let want = [2.12, 1.0, 3.3];
        for (a, w) in adv.iter().zip(want) {
            assert!((a - w).abs() < TOL, "{adv:?}");
        }
        assert!((ret[0] - 2.62).abs() < TOL && (ret[1] - 2.0).abs() < TOL && (ret[2] - 4.8).abs() < TOL);
    }

    #[test]
    fn gae_keeps_envs_apart_time_major() {
        // Two envs interleaved [t0e0, t0e1, t1e0, t1e1]; λ = 1, γ = 1, values 0: the
        // advantage is the sum of future rewards of the same env.
        let (adv, _) = gae(&[1.0, 10.0, 2.0, 20.0], &[0.0; 4], &[false; 4], &[0.0, 0.0], 2, 1.0, 1.0);
        assert_eq!(adv, vec![3.0, 30.0, 2.0, 20.0]);
    }

    #[test]
    fn truncation_bootstraps_and_termination_does_not() {
        // Env 0 truncated, env 1 terminated, env 2 truncated and terminated (terminal wins),
        // env 3 runs on. Final values are 10 each; γ = 0.5.
        let mut r = [1.0f32; 4];
        bootstrap_truncated(&mut r, &[false, true, true, false], &[true, false, true, false], &[10.0; 4], 0.5);
        assert_eq!(r, [6.0, 1.0, 1.0, 1.0]);
        // Through GAE (one step, all done for envs 0-2): the truncated env's advantage holds
        // γ V(final), the terminated one's does not.
        let (adv, _) = gae(&r, &[0.0; 4], &[true, true, true, false], &[10.0; 4], 4, 0.5, 0.95);
        assert_eq!(adv, vec![6.0, 1.0, 1.0, 6.0]);
    }
}
