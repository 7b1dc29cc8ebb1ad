//! NumPy's `default_rng` (SeedSequence + PCG64), reproduced so that seeded resets of the
//! reference envs draw exactly what Gymnasium draws.
//!
//! Gymnasium's `env.reset(seed=s)` builds `np.random.Generator(np.random.PCG64(np.random.
//! SeedSequence(s)))` and draws initial states with `uniform(low, high)`, which is
//! `low + (high - low) * next_double()` with `next_double = (next_u64 >> 11) * 2^-53`.
//! The algorithms below follow NumPy's `bit_generator.pyx` (SeedSequence) and `pcg64.h`
//! (PCG64 XSL-RR 128/64); the golden tests check the first draws against Gymnasium's
//! recorded initial states bit for bit.

use rand::{Error, RngCore};

const INIT_A: u32 = 0x43b0_d7e5;
const MULT_A: u32 = 0x931e_8875;
const INIT_B: u32 = 0x8b51_f9dd;
const MULT_B: u32 = 0x58f3_8ded;
const MIX_MULT_L: u32 = 0xca01_f9dd;
const MIX_MULT_R: u32 = 0x4973_f715;
const XSHIFT: u32 = 16;
const POOL_SIZE: usize = 4;
const PCG_MULT: u128 = (2_549_297_995_355_413_924u128 << 64) | 4_865_540_595_714_422_341u128;

fn hashmix(value: u32, hash_const: &mut u32) -> u32 {
    let mut v = value ^ *hash_const;
    *hash_const = hash_const.wrapping_mul(MULT_A);
    v = v.wrapping_mul(*hash_const);
    v ^ (v >> XSHIFT)
}

fn mix(x: u32, y: u32) -> u32 {
    let r = MIX_MULT_L.wrapping_mul(x).wrapping_sub(MIX_MULT_R.wrapping_mul(y));
    r ^ (r >> XSHIFT)
}

/// NumPy's `SeedSequence(seed).generate_state(n_words)` for a non-negative integer seed and
/// no spawn key, as `u32` words.
pub fn seed_sequence_state(seed: u64, n_words: usize) -> Vec<u32> {
    // _int_to_uint32_array: little-endian 32-bit words, at least one.
    let mut entropy = vec![seed as u32];
    if seed >> 32 != 0 {
        entropy.push((seed >> 32) as u32);
    }
    let mut pool = [0u32; POOL_SIZE];
    let mut hash_const = INIT_A;
    for (i, slot) in pool.iter_mut().enumerate() {
        *slot = hashmix(entropy.get(i).copied().unwrap_or(0), &mut hash_const);
    }
    for i_src in 0..POOL_SIZE {
        for i_dst in 0..POOL_SIZE {
            if i_src != i_dst {
                pool[i_dst] = mix(pool[i_dst], hashmix(pool[i_src], &mut hash_const));
            }
        }
    }
    // Entropy longer than the pool (never for a u64 seed) would be mixed in here.
    let mut hash_const = INIT_B;
    (0..n_words)
        .map(|i| {
            let mut v = pool[i % POOL_SIZE] ^ hash_const;
            hash_const = hash_const.wrapping_mul(MULT_B);
            v = v.wrapping_mul(hash_const);
            v ^ (v >> XSHIFT)
        })
        .collect()
}

/// NumPy's PCG64 bit generator seeded through `SeedSequence`, with `Generator.random` and
/// `Generator.uniform`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumpyPcg64 {
    state: u128,
    inc: u128,
}

impl NumpyPcg64 {
    /// `np.random.default_rng(seed)`.
    pub fn from_seed(seed: u64) -> Self {
        let w = seed_sequence_state(seed, 8);
        let word = |k: usize| (w[2 * k] as u64) | ((w[2 * k + 1] as u64) << 32);
        let initstate = ((word(0) as u128) << 64) | word(1) as u128;
        let initseq = ((word(2) as u128) << 64) | word(3) as u128;
        let mut rng = Self { state: 0, inc: (initseq << 1) | 1 };
        rng.step();
        rng.state = rng.state.wrapping_add(initstate);
        rng.step();
        rng
    }

    #[inline]
    fn step(&mut self) {
        self.state = self.state.wrapping_mul(PCG_MULT).wrapping_add(self.inc);
    }

    /// Next 64 random bits (`pcg64_next64`).
    #[inline]
    pub fn next_u64_np(&mut self) -> u64 {
        self.step();
        let hi = (self.state >> 64) as u64;
        let lo = self.state as u64;
        (hi ^ lo).rotate_right((self.state >> 122) as u32)
    }

    /// `Generator.random()`: a double in `[0, 1)`.
    #[inline]
    pub fn random(&mut self) -> f64 {
        (self.next_u64_np() >> 11) as f64 * (1.0 / 9_007_199_254_740_992.0)
    }

    /// `Generator.uniform(low, high)` for one value.
    #[inline]
    pub fn uniform(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.random()
    }
}

impl RngCore for NumpyPcg64 {
    fn next_u32(&mut self) -> u32 {
        // NumPy buffers the upper half for the next call; here each u32 costs one u64.
        (self.next_u64_np() >> 32) as u32
    }
    fn next_u64(&mut self) -> u64 {
        self.next_u64_np()
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(8) {
            let bytes = self.next_u64_np().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

/// Deterministic seed for env `index` of a vector env seeded with `base` (`base + index`, as
/// Gymnasium's vector envs do).
pub fn env_seed(base: u64, index: usize) -> u64 {
    base.wrapping_add(index as u64)
}

/// The seed of episode `episode` of env `env` under master seed `seed` (SplitMix64 of a mix):
/// the training schedule, where every episode of every env has its own seed, so an env's state
/// is fully described by its episode index and the actions taken since its reset.
pub fn episode_seed(seed: u64, env: usize, episode: u64) -> u64 {
    let mut z = seed ^ (env as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ episode.wrapping_mul(0xD1B5_4A32_D192_ED03);
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_numpy_default_rng_raw_draws() {
        // >>> numpy.random.default_rng(0).bit_generator.random_raw(3)   (NumPy 2.4)
        let mut g = NumpyPcg64::from_seed(0);
        assert_eq!(
            [g.next_u64_np(), g.next_u64_np(), g.next_u64_np()],
            [11749869230777074271, 4976686463289251617, 755828109848996024]
        );
        // A seed wider than 32 bits takes the two-word entropy path.
        // >>> numpy.random.default_rng(2**40 + 5).bit_generator.random_raw(2)
        let mut g = NumpyPcg64::from_seed((1 << 40) + 5);
        assert_eq!([g.next_u64_np(), g.next_u64_np()], [87427594128977387, 6872972437549564694]);
    }

    #[test]
    fn uniform_matches_numpy_generator_uniform() {
        // >>> [x.hex() for x in numpy.random.default_rng(12345).uniform(-0.05, 0.05, size=3)]
        // ['-0x1.bebb8fa85334dp-6', '-0x1.2c391f748d7b4p-6', '0x1.e7341cdae81f8p-6'], as bits:
        let want = [0xbf9bebb8fa85334d, 0xbf92c391f748d7b4, 0x3f9e7341cdae81f8];
        let mut g = NumpyPcg64::from_seed(12345);
        for w in want {
            assert_eq!(g.uniform(-0.05, 0.05).to_bits(), w);
        }
    }
}
