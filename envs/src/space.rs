//! Observation and action spaces.

use rand::Rng;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A set of valid observations or actions, as in `gymnasium.spaces`.
///
/// Elements of every space are flat `f32` slices. A [`Space::Discrete`] element is a slice of
/// length 1 holding an integer value in `[0, n)` (so a vector env can keep all actions in one
/// contiguous `[n_envs, act_dim]` buffer).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Space {
    /// A box `[low, high]` per component; bounds may be infinite.
    Box {
        /// Lower bounds, one per component.
        low: Vec<f32>,
        /// Upper bounds, one per component.
        high: Vec<f32>,
        /// Logical shape; the product equals `low.len()`.
        shape: Vec<usize>,
    },
    /// The integers `0..n`.
    Discrete {
        /// Number of elements.
        n: usize,
    },
}

impl Space {
    /// A flat box with the given bounds.
    pub fn boxed(low: Vec<f32>, high: Vec<f32>) -> Self {
        assert_eq!(low.len(), high.len(), "Space::boxed: low and high lengths differ");
        let shape = vec![low.len()];
        Space::Box { low, high, shape }
    }

    /// A flat box of `dim` components, each in `[low, high]`.
    pub fn uniform_box(dim: usize, low: f32, high: f32) -> Self {
        Self::boxed(vec![low; dim], vec![high; dim])
    }

    /// Length of the flat `f32` slice that holds one element.
    pub fn flat_dim(&self) -> usize {
        match self {
            Space::Box { low, .. } => low.len(),
            Space::Discrete { .. } => 1,
        }
    }

    /// Whether `x` is an element of the space (right length, finite where bounded, inside
    /// the bounds; for `Discrete` an integer in range).
    pub fn contains(&self, x: &[f32]) -> bool {
        match self {
            Space::Box { low, high, .. } => {
                x.len() == low.len()
                    && x.iter().zip(low.iter().zip(high)).all(|(&v, (&lo, &hi))| !v.is_nan() && v >= lo && v <= hi)
            }
            Space::Discrete { n } => x.len() == 1 && x[0].fract() == 0.0 && x[0] >= 0.0 && (x[0] as usize) < *n,
        }
    }

    /// Writes a random element into `out` (`out.len() == flat_dim()`).
    ///
    /// As in Gymnasium: bounded components are uniform, half-bounded ones are exponential
    /// from the bound, unbounded ones standard normal; `Discrete` is uniform over `0..n`.
    pub fn sample_into<R: Rng + ?Sized>(&self, rng: &mut R, out: &mut [f32]) {
        assert_eq!(out.len(), self.flat_dim(), "Space::sample_into: output length");
        match self {
            Space::Box { low, high, .. } => {
                for ((o, &lo), &hi) in out.iter_mut().zip(low).zip(high) {
                    *o = match (lo.is_finite(), hi.is_finite()) {
                        (true, true) => lo + (hi - lo) * rng.gen::<f32>(),
                        (true, false) => lo + rng.sample::<f32, _>(rand_distr::Exp1),
                        (false, true) => hi - rng.sample::<f32, _>(rand_distr::Exp1),
                        (false, false) => rng.sample::<f32, _>(rand_distr::StandardNormal),
                    };
                    // lo + (hi - lo) * u can round up to exactly hi only if u == 1, which
                    // gen::<f32>() never returns; the clamp guards against rounding anyway.
                    *o = o.clamp(lo, hi);
                }
            }
            Space::Discrete { n } => out[0] = rng.gen_range(0..*n) as f32,
        }
    }

    /// A random element, allocated.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> Vec<f32> {
        let mut out = vec![0.0; self.flat_dim()];
        self.sample_into(rng, &mut out);
        out
    }

    /// `n` random elements, flat `[n, flat_dim]` (pre-generated actions for benchmarks and
    /// replays).
    pub fn sample_n<R: Rng + ?Sized>(&self, rng: &mut R, n: usize) -> Vec<f32> {
        let d = self.flat_dim();
        let mut out = vec![0.0; n * d];
        for row in out.chunks_exact_mut(d) {
            self.sample_into(rng, row);
        }
        out
    }

    /// Checks that bounds are ordered and not NaN, and the shape matches.
    pub fn is_valid(&self) -> bool {
        match self {
            Space::Box { low, high, shape } => {
                low.len() == high.len()
                    && shape.iter().product::<usize>() == low.len()
                    && low.iter().zip(high).all(|(l, h)| !l.is_nan() && !h.is_nan() && l <= h)
            }
            Space::Discrete { n } => *n > 0,
        }
    }
}

impl fmt::Display for Space {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Space::Discrete { n } => write!(f, "Discrete({n})"),
            Space::Box { low, high, shape } => {
                let same = |v: &[f32]| v.windows(2).all(|w| w[0] == w[1]);
                if !low.is_empty() && same(low) && same(high) {
                    write!(f, "Box({}, {}, {:?})", low[0], high[0], shape)
                } else {
                    write!(f, "Box({:?})", shape)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn samples_are_contained_and_seeded() {
        let spaces = [
            Space::uniform_box(3, -2.0, 2.0),
            Space::boxed(vec![0.0, f32::NEG_INFINITY, f32::NEG_INFINITY], vec![f32::INFINITY, 1.0, f32::INFINITY]),
            Space::Discrete { n: 5 },
        ];
        for space in &spaces {
            assert!(space.is_valid());
            let mut a = rand_chacha::ChaCha8Rng::seed_from_u64(7);
            let mut b = rand_chacha::ChaCha8Rng::seed_from_u64(7);
            for _ in 0..1000 {
                let x = space.sample(&mut a);
                assert!(space.contains(&x), "{space}: {x:?}");
                assert_eq!(x, space.sample(&mut b));
            }
        }
    }

    #[test]
    fn contains_rejects_bad_elements() {
        let b = Space::uniform_box(2, -1.0, 1.0);
        assert!(!b.contains(&[0.0]));
        assert!(!b.contains(&[0.0, 1.5]));
        assert!(!b.contains(&[f32::NAN, 0.0]));
        let d = Space::Discrete { n: 2 };
        assert!(!d.contains(&[2.0]));
        assert!(!d.contains(&[0.5]));
        assert!(!d.contains(&[-1.0]));
        assert!(d.contains(&[1.0]));
    }

    #[test]
    fn discrete_samples_cover_all_values() {
        let d = Space::Discrete { n: 4 };
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
        let mut seen = [false; 4];
        for _ in 0..200 {
            seen[d.sample(&mut rng)[0] as usize] = true;
        }
        assert!(seen.iter().all(|&s| s));
    }
}
