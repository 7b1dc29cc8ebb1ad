//! `DynamicsDistribution`: the ranges dynamics randomization samples from, per episode.

use super::params::{DynamicsParams, ParamError, ParamGroup, N_PARAMS, PARAMS};
use rand::Rng;
use serde::{Deserialize, Serialize};

/// A closed interval `[low, high]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Range {
    /// Lower end.
    pub low: f64,
    /// Upper end (`>= low`).
    pub high: f64,
}

impl Range {
    /// `[low, high]`.
    pub const fn new(low: f64, high: f64) -> Self {
        Self { low, high }
    }

    /// `[-half_width, half_width]`.
    pub const fn symmetric(half_width: f64) -> Self {
        Self { low: -half_width, high: half_width }
    }

    /// The single value `v`.
    pub const fn fixed(v: f64) -> Self {
        Self { low: v, high: v }
    }
}

/// How one parameter is drawn, in absolute units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Support {
    /// Log-uniform on `[low, high]` (both > 0): factors on a nominal value.
    LogUniform(f64, f64),
    /// Uniform on `[low, high]`.
    Uniform(f64, f64),
    /// Uniform over the integers `low..=high`.
    Integers(u32, u32),
}

impl Support {
    /// Draws one value from one uniform draw in `[0, 1)`.
    fn value(&self, u: f64) -> f64 {
        match *self {
            Support::LogUniform(lo, hi) if lo == hi => lo,
            Support::LogUniform(lo, hi) => (lo.ln() + u * (hi.ln() - lo.ln())).exp().clamp(lo, hi),
            Support::Uniform(lo, hi) => (lo + u * (hi - lo)).clamp(lo, hi),
            Support::Integers(lo, hi) => (lo + ((u * (hi - lo + 1) as f64) as u32).min(hi - lo)) as f64,
        }
    }

    /// Maps the support onto `[-1, 1]` (log scale for log-uniform); a single-point support
    /// maps its point to 0. Values outside the support land outside `[-1, 1]`.
    pub fn normalize(&self, v: f64) -> f64 {
        let (lo, hi, x) = match *self {
            Support::LogUniform(lo, hi) => (lo.ln(), hi.ln(), v.max(f64::MIN_POSITIVE).ln()),
            Support::Uniform(lo, hi) => (lo, hi, v),
            Support::Integers(lo, hi) => (lo as f64, hi as f64, v),
        };
        if hi > lo {
            2.0 * (x - lo) / (hi - lo) - 1.0
        } else {
            x - lo
        }
    }

    /// Whether `v` is in the support (with a relative tolerance of 1e-9 for rounding).
    pub fn contains(&self, v: f64) -> bool {
        let (lo, hi) = match *self {
            Support::LogUniform(lo, hi) | Support::Uniform(lo, hi) => (lo, hi),
            Support::Integers(lo, hi) => {
                return v.fract() == 0.0 && v >= lo as f64 && v <= hi as f64;
            }
        };
        let tol = 1e-9 * lo.abs().max(hi.abs()).max(1e-12);
        v >= lo - tol && v <= hi + tol
    }
}

/// The training distribution of dynamics randomization (Siekmann et al. 2020's recipe on the
/// Walker2d body). Factor ranges multiply the values of [`DynamicsDistribution::nominal`] and
/// are drawn log-uniformly; the others are uniform in absolute units.
///
/// The default is the distribution of `PlanarBipedDR-v0`. Its nominal joint damping is
/// 1 N·m·s/rad rather than Walker2d's 0.1, which is too small to be identified from motion.
///
/// ```
/// use engram_sim::biped::DynamicsDistribution;
/// use rand::SeedableRng;
/// let dist = DynamicsDistribution::default();
/// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
/// let p = dist.sample(&mut rng);
/// assert!(dist.contains(&p));
/// assert!(dist.normalize(&p).iter().all(|v| v.abs() <= 1.0));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DynamicsDistribution {
    /// Centre of the factor ranges (masses, damping, motor strength).
    pub nominal: DynamicsParams,
    /// Factor on each link mass.
    pub link_mass_factor: Range,
    /// Torso centre-of-mass offset along x and z, m.
    pub torso_com_offset_m: [Range; 2],
    /// Factor on each joint's damping.
    pub joint_damping_factor: Range,
    /// Factor on each motor's strength.
    pub motor_strength_factor: Range,
    /// Foot–ground friction coefficient.
    pub foot_friction: Range,
    /// Ground slope, rad.
    pub slope_rad: Range,
    /// Each encoder's bias, rad.
    pub encoder_bias_rad: Range,
    /// Standard deviation of angle noise, rad.
    pub angle_noise_std_rad: Range,
    /// Standard deviation of angular-velocity noise, rad/s.
    pub velocity_noise_std_rad_s: Range,
    /// Action latency, control steps (inclusive integer range `[low, high]`).
    pub action_latency_steps: [u32; 2],
}

/// Nominal joint damping when damping is randomized, N·m·s/rad.
pub const RANDOMIZED_NOMINAL_DAMPING: f64 = 1.0;

impl Default for DynamicsDistribution {
    fn default() -> Self {
        let mut nominal = DynamicsParams::walker2d();
        nominal.joint_damping = [RANDOMIZED_NOMINAL_DAMPING; 6];
        Self {
            nominal,
            link_mass_factor: Range::new(0.7, 1.3),
            torso_com_offset_m: [Range::symmetric(0.05), Range::symmetric(0.05)],
            joint_damping_factor: Range::new(0.5, 1.5),
            motor_strength_factor: Range::new(0.8, 1.2),
            foot_friction: Range::new(0.4, 1.2),
            slope_rad: Range::symmetric(0.03),
            encoder_bias_rad: Range::symmetric(0.01),
            angle_noise_std_rad: Range::fixed(0.005),
            velocity_noise_std_rad_s: Range::fixed(0.05),
            action_latency_steps: [0, 1],
        }
    }
}

impl DynamicsDistribution {
    /// The support of parameter `i` (flat order of [`PARAMS`]).
    pub fn support(&self, i: usize) -> Support {
        let n = &self.nominal;
        let log = |nominal: f64, r: Range| Support::LogUniform(nominal * r.low, nominal * r.high);
        let uni = |r: Range| Support::Uniform(r.low, r.high);
        match PARAMS[i].1 {
            ParamGroup::LinkMass(k) => log(n.link_mass_kg[k], self.link_mass_factor),
            ParamGroup::TorsoComOffset(k) => uni(self.torso_com_offset_m[k]),
            ParamGroup::JointDamping(k) => log(n.joint_damping[k], self.joint_damping_factor),
            ParamGroup::MotorStrength(k) => log(n.motor_strength_nm[k], self.motor_strength_factor),
            ParamGroup::FootFriction => uni(self.foot_friction),
            ParamGroup::Slope => uni(self.slope_rad),
            ParamGroup::EncoderBias(_) => uni(self.encoder_bias_rad),
            ParamGroup::AngleNoise => uni(self.angle_noise_std_rad),
            ParamGroup::VelocityNoise => uni(self.velocity_noise_std_rad_s),
            ParamGroup::ActionLatency => Support::Integers(self.action_latency_steps[0], self.action_latency_steps[1]),
        }
    }

    /// Draws one parameter set: exactly one `f64` draw per parameter, in flat order, so that
    /// pinning a parameter afterwards does not shift the others.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> DynamicsParams {
        let mut p = self.nominal.clone();
        for i in 0..N_PARAMS {
            let u: f64 = rng.gen();
            let v = self.support(i).value(u);
            p.set(i, v).expect("a validated distribution samples valid parameters");
        }
        p
    }

    /// Every parameter mapped onto `[-1, 1]` over its support (see [`Support::normalize`]).
    pub fn normalize(&self, p: &DynamicsParams) -> [f64; N_PARAMS] {
        std::array::from_fn(|i| self.support(i).normalize(p.get(i)))
    }

    /// Whether every parameter of `p` lies in its support: whether this distribution can
    /// sample `p`.
    pub fn contains(&self, p: &DynamicsParams) -> bool {
        (0..N_PARAMS).all(|i| self.support(i).contains(p.get(i)))
    }

    /// Checks that every range is ordered and every value it can produce is physical.
    pub fn validate(&self) -> Result<(), ParamError> {
        self.nominal.validate()?;
        for (i, (name, _)) in PARAMS.iter().enumerate() {
            let s = self.support(i);
            let (lo, hi) = match s {
                Support::LogUniform(lo, hi) | Support::Uniform(lo, hi) => (lo, hi),
                Support::Integers(lo, hi) => (lo as f64, hi as f64),
            };
            let bad = |bound: &str| ParamError { name: name.to_string(), value: lo, bound: bound.to_string() };
            if lo.partial_cmp(&hi).is_none_or(|o| o.is_gt()) {
                return Err(bad("a range with low <= high"));
            }
            if matches!(s, Support::LogUniform(..)) && lo.partial_cmp(&0.0).is_none_or(|o| o.is_le()) {
                return Err(bad("a factor range above 0"));
            }
            let mut probe = self.nominal.clone();
            probe.set(i, lo)?;
            probe.set(i, hi)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn samples_stay_inside_and_cover_every_range() {
        let dist = DynamicsDistribution::default();
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut lo = [f64::INFINITY; N_PARAMS];
        let mut hi = [f64::NEG_INFINITY; N_PARAMS];
        for _ in 0..2000 {
            let p = dist.sample(&mut rng);
            assert!(dist.contains(&p));
            for (i, v) in dist.normalize(&p).into_iter().enumerate() {
                lo[i] = lo[i].min(v);
                hi[i] = hi[i].max(v);
            }
        }
        for (i, (name, group)) in PARAMS.iter().enumerate() {
            if matches!(group, ParamGroup::AngleNoise | ParamGroup::VelocityNoise) {
                assert_eq!((lo[i], hi[i]), (0.0, 0.0), "{name}: fixed");
                continue;
            }
            // 2000 draws reach within 1 % of each end (the chance of missing is 2e-9 each).
            assert!(lo[i] >= -1.0 && hi[i] <= 1.0, "{name}: [{}, {}]", lo[i], hi[i]);
            assert!(lo[i] < -0.98 && hi[i] > 0.98, "{name}: covers only [{}, {}]", lo[i], hi[i]);
        }
    }

    #[test]
    fn log_uniform_median_is_the_geometric_mean() {
        let dist = DynamicsDistribution::default();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut torso: Vec<f64> = (0..4001).map(|_| dist.sample(&mut rng).link_mass_kg[0] / 3.665).collect();
        torso.sort_by(f64::total_cmp);
        let median = torso[2000];
        assert!((median - (0.7f64 * 1.3).sqrt()).abs() < 0.02, "median factor {median}");
    }

    #[test]
    fn walker2d_damping_is_outside_the_training_range() {
        let dist = DynamicsDistribution::default();
        assert!(!dist.contains(&DynamicsParams::walker2d()));
        let idx = DynamicsParams::index_of("damping_knee_left").unwrap();
        assert!(dist.normalize(&DynamicsParams::walker2d())[idx] < -1.0);
    }

    #[test]
    fn validate_refuses_reversed_and_unphysical_ranges() {
        let mut d = DynamicsDistribution::default();
        assert!(d.validate().is_ok());
        d.foot_friction = Range::new(1.0, 0.5);
        assert!(d.validate().is_err());
        let d = DynamicsDistribution { link_mass_factor: Range::new(-0.5, 1.0), ..Default::default() };
        assert!(d.validate().is_err());
    }
}
