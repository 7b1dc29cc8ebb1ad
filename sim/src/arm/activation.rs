//! First-order activation dynamics: commands become smooth, muscle-like drive.

use super::params::ActuatorParams;

/// `ȧ = (u − a) / τ` per channel, with `τ = tau_activation` while `|u| > |a|` (the drive is
/// rising) and `tau_deactivation` otherwise. The command is constant over a control step,
/// so the solution is exact: `a(t) = u + (a₀ − u) e^{−t/τ}`; the decay factors for the
/// instants a plant needs are computed once, so stepping calls no `exp`.
#[derive(Debug, Clone, PartialEq)]
pub struct Activation {
    /// `[rising, falling]` decay factors `e^{−t_k/τ}` for each instant `t_k` of [`Self::new`].
    decay: Vec<[f64; 2]>,
}

impl Activation {
    /// Activation sampled at the instants `times_s` (seconds after the start of a step).
    pub fn new(p: &ActuatorParams, times_s: &[f64]) -> Self {
        let decay =
            times_s.iter().map(|&t| [(-t / p.tau_activation_s).exp(), (-t / p.tau_deactivation_s).exp()]).collect();
        Self { decay }
    }

    /// The per-channel decay factors for a step from activation `a0` under command `u`: pass
    /// them to [`Self::at`].
    #[inline]
    pub fn select(u: f64, a0: f64) -> usize {
        if u.abs() > a0.abs() {
            0
        } else {
            1
        }
    }

    /// Activation at instant `k` of a step that started at `a0` under command `u`.
    #[inline]
    pub fn at(&self, k: usize, u: f64, a0: f64) -> f64 {
        u + (a0 - u) * self.decay[k][Self::select(u, a0)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activation_rises_with_tau_act_and_falls_with_tau_deact() {
        let p = ActuatorParams::default();
        let act = Activation::new(&p, &[p.tau_activation_s, p.tau_deactivation_s]);
        // After one time constant the gap has shrunk by e.
        let e = (-1.0f64).exp();
        assert!((act.at(0, 1.0, 0.0) - (1.0 - e)).abs() < 1e-12);
        assert!((act.at(1, 0.0, 1.0) - e).abs() < 1e-12);
    }
}
