//! Simulator settings of the biped: step, solver, contact model, friction combination.

use serde::{Deserialize, Serialize};

/// How the friction coefficients of two touching colliders combine (rapier's
/// `CoefficientCombineRule`, restated so that configs do not depend on rapier's types).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum FrictionCombine {
    /// The larger coefficient wins: MuJoCo's rule, and the default.
    #[default]
    Max,
    /// The mean of the two (rapier's own default).
    Average,
    /// The smaller coefficient wins.
    Min,
    /// The product of the two.
    Multiply,
}

/// Settings of the physics engine, fixed for an env (the held-out variant R4 changes them).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimSettings {
    /// Physics step, s (Walker2d: 0.002).
    pub dt_s: f64,
    /// Constraint solver iterations per step (rapier's `num_solver_iterations`, which are
    /// substeps of its soft-TGS solver). Measured on this body at 2 ms: 1 iteration keeps the
    /// joints within 2 mm of closed in a passive fall and 9 mm under full random torques, and
    /// costs 20 % less per step than 2 (0.5 / 5 mm) and 40 % less than rapier's default 4.
    pub solver_iterations: usize,
    /// Natural frequency of the contact spring against the ground, Hz (rapier's static
    /// contact softness; higher is stiffer).
    pub contact_natural_frequency_hz: f64,
    /// Damping ratio of the contact spring against the ground.
    pub contact_damping_ratio: f64,
    /// How foot and ground friction combine.
    pub friction_combine: FrictionCombine,
    /// Friction coefficient of the ground itself. With [`FrictionCombine::Max`] and a ground
    /// coefficient of 0 every link's own coefficient is the effective one.
    pub ground_friction: f64,
}

impl Default for SimSettings {
    fn default() -> Self {
        Self {
            dt_s: 0.002,
            solver_iterations: 1,
            contact_natural_frequency_hz: 60.0,
            contact_damping_ratio: 10.0,
            friction_combine: FrictionCombine::Max,
            ground_friction: 0.0,
        }
    }
}

impl SimSettings {
    /// Checks every field; returns the name of the first bad one and its bound.
    pub fn validate(&self) -> Result<(), (&'static str, String, &'static str)> {
        let checks: [(&'static str, f64, bool, &'static str); 5] = [
            ("dt_s", self.dt_s, self.dt_s > 0.0 && self.dt_s <= 0.02, "in (0, 0.02]"),
            (
                "solver_iterations",
                self.solver_iterations as f64,
                (1..=64).contains(&self.solver_iterations),
                "in [1, 64]",
            ),
            (
                "contact_natural_frequency_hz",
                self.contact_natural_frequency_hz,
                self.contact_natural_frequency_hz > 0.0,
                "> 0",
            ),
            ("contact_damping_ratio", self.contact_damping_ratio, self.contact_damping_ratio >= 0.0, ">= 0"),
            ("ground_friction", self.ground_friction, self.ground_friction >= 0.0, ">= 0"),
        ];
        for (name, value, ok, bound) in checks {
            if !(ok && value.is_finite()) {
                return Err((name, value.to_string(), bound));
            }
        }
        Ok(())
    }
}
