//! Element-wise activations on slices, written so the compiler vectorizes them (no libm
//! call per element): an `exp` with Cephes' `expf` range reduction and polynomial, and the
//! sigmoid and tanh built on it (`tanh(x) = 2σ(2x) − 1`).
//!
//! Used by the hand-written recurrent layers ([`crate::nn::bptt`]), where glibc's `expf` and
//! `tanhf`, called once per element, had become a visible share of a training update.

/// `ln 2` split in a high part exact in f32 and a low correction (Cephes).
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;
/// Inputs are clamped so `2^k` stays a normal f32 (`e^88` ≈ 1.65e38, `e^-87` ≈ 1.6e-38).
const EXP_MAX: f32 = 88.0;
const EXP_MIN: f32 = -87.0;

/// `1.5 · 2^23`: adding it rounds an f32 of magnitude below `2^22` to an integer, which then
/// sits in the low mantissa bits (no float-to-int conversion, which would not vectorize).
const ROUND_MAGIC: f32 = 12_582_912.0;

/// `e^x` within about 2 ulp on `[−87, 88]`, saturating outside; NaN stays NaN.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    let x = x.clamp(EXP_MIN, EXP_MAX);
    // k = round(x / ln 2); r = x − k ln 2 in [−ln 2 / 2, ln 2 / 2].
    let tm = x * std::f32::consts::LOG2_E + ROUND_MAGIC;
    let k = tm - ROUND_MAGIC;
    let r = x - k * LN2_HI - k * LN2_LO;
    let z = r * r;
    let p = ((((1.987_569_1e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r + 0.166_666_65) * r
        + 0.5;
    let y = p * z + r + 1.0;
    // 2^k from the integer in tm's mantissa: exponent field k + 127.
    let bits = tm.to_bits().wrapping_sub(ROUND_MAGIC.to_bits()).wrapping_add(127) << 23;
    y * f32::from_bits(bits)
}

/// Runs `f` compiled for AVX2 + FMA where the CPU has them (pulp's run-time dispatch; the
/// baseline build otherwise).
///
/// Element-wise loops that run between faer products belong in here: faer's AVX-512
/// kernels leave the upper register state dirty, and on a CPU with AVX-512 glibc's EVEX
/// `memset` does not clear it, so [`crate::nn::gemm::clear_avx_state`] cannot help and
/// baseline SSE code pays a merge per instruction (measured: the tanh and bias loops of
/// the fused MLP took 65 % of a PPO update). VEX-encoded code pays nothing. Rust never
/// contracts `a · b + c` into an FMA, so the results are the same bits on either path.
#[inline(always)]
pub fn simd<R>(f: impl FnOnce() -> R) -> R {
    pulp::Arch::new().dispatch(f)
}

/// `σ(x) = 1 / (1 + e^{−x})`.
#[inline(always)]
pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

/// `tanh(x) = 2σ(2x) − 1`.
#[inline(always)]
pub fn tanh(x: f32) -> f32 {
    2.0 * sigmoid(2.0 * x) - 1.0
}

/// `σ` in place.
pub fn sigmoid_in_place(xs: &mut [f32]) {
    simd(
        #[inline(always)]
        || {
            for v in xs {
                *v = sigmoid(*v);
            }
        },
    )
}

/// `tanh` in place.
pub fn tanh_in_place(xs: &mut [f32]) {
    simd(
        #[inline(always)]
        || {
            for v in xs {
                *v = tanh(*v);
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_sigmoid_and_tanh_match_f64_references() {
        // Relative error of exp; absolute error of sigmoid and tanh (values in [−1, 1]).
        const EXP_REL: f64 = 4e-7;
        const ABS: f64 = 3e-7;
        let mut x = -87.0f32;
        while x < 88.0 {
            let want = (x as f64).exp();
            let rel = ((exp(x) as f64) - want).abs() / want;
            assert!(rel < EXP_REL, "exp({x}): {} vs {want}", exp(x));
            let s = 1.0 / (1.0 + (-(x as f64)).exp());
            assert!((sigmoid(x) as f64 - s).abs() < ABS, "sigmoid({x})");
            assert!((tanh(x) as f64 - (x as f64).tanh()).abs() < ABS, "tanh({x})");
            x += 0.013;
        }
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(sigmoid(200.0), 1.0);
        assert!(sigmoid(-200.0) < 1e-37);
        assert_eq!((tanh(50.0), tanh(-50.0)), (1.0, -1.0));
        assert!(exp(f32::NAN).is_nan() && sigmoid(f32::NAN).is_nan());
    }
}
