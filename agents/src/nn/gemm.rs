//! Single-threaded matrix products on plain row-major `f32` buffers (faer's kernels, which
//! pick AVX2/FMA at run time), for the hand-written recurrent layers in [`crate::nn::bptt`].
//!
//! Every product is `dst (+)= a · b` with optional transposes of `a` and `b`, shapes given
//! as `[rows, cols]` of the stored (untransposed) buffers. `Par::Seq` always: the policy is
//! single-threaded so results do not depend on the machine's thread count.

use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};

/// Whether a product overwrites or accumulates into its destination.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Acc {
    /// `dst = a · b`.
    Set,
    /// `dst += a · b`.
    Add,
}

impl Acc {
    fn faer(self) -> Accum {
        match self {
            Acc::Set => Accum::Replace,
            Acc::Add => Accum::Add,
        }
    }
}

/// Leaves the CPU's AVX state clean after a faer product.
///
/// faer's x86 kernels return with the upper halves of the YMM registers dirty (no
/// `vzeroupper`). Code compiled for the x86-64 baseline (SSE), which is this crate and dfdx,
/// then pays a merge on every scalar SSE instruction, and calls into glibc's VEX-encoded
/// `expf` stall: measured on this machine, a sigmoid loop ran at 204 ns per element after a
/// faer product against 5.5–13 ns before it. glibc's AVX2 `memset` ends with `vzeroupper`,
/// so a small fill of runtime length (a `memset` call) clears the state without unsafe code.
#[inline(never)]
pub fn clear_avx_state() {
    let mut buf = [0.0f32; 32];
    let n = std::hint::black_box(buf.len());
    buf[..n].fill(0.0);
    std::hint::black_box(&mut buf);
}

/// `dst [m, n] (+)= a [m, k] · b [k, n]`.
pub fn nn(dst: &mut [f32], acc: Acc, a: &[f32], b: &[f32], m: usize, k: usize, n: usize) {
    let d = MatMut::from_row_major_slice_mut(&mut dst[..m * n], m, n);
    matmul(
        d,
        acc.faer(),
        MatRef::from_row_major_slice(&a[..m * k], m, k),
        MatRef::from_row_major_slice(&b[..k * n], k, n),
        1.0f32,
        Par::Seq,
    );
    clear_avx_state();
}

/// `dst [m, n] (+)= a [m, k] · bᵀ` with `b` stored `[n, k]`.
pub fn nt(dst: &mut [f32], acc: Acc, a: &[f32], b: &[f32], m: usize, k: usize, n: usize) {
    let d = MatMut::from_row_major_slice_mut(&mut dst[..m * n], m, n);
    let bt = MatRef::from_row_major_slice(&b[..n * k], n, k).transpose();
    matmul(d, acc.faer(), MatRef::from_row_major_slice(&a[..m * k], m, k), bt, 1.0f32, Par::Seq);
    clear_avx_state();
}

/// `dst [m, n] (+)= aᵀ · b` with `a` stored `[k, m]`, `b` `[k, n]`.
pub fn tn(dst: &mut [f32], acc: Acc, a: &[f32], b: &[f32], m: usize, k: usize, n: usize) {
    let d = MatMut::from_row_major_slice_mut(&mut dst[..m * n], m, n);
    let at = MatRef::from_row_major_slice(&a[..k * m], k, m).transpose();
    matmul(d, acc.faer(), at, MatRef::from_row_major_slice(&b[..k * n], k, n), 1.0f32, Par::Seq);
    clear_avx_state();
}

/// `dst [n] += x [k] · w [k, n]` for one row `x`: the recurrent product of a batch of one.
///
/// Columns go in blocks of [`ROW_BLOCK`] held in registers while `k` runs, so `w` streams
/// through once (faer's matrix-vector path spends about twice as long at `k = 128`,
/// `n = 384`). Each element is summed in order of `k`, the same bits on any machine path.
pub fn row_add(dst: &mut [f32], x: &[f32], w: &[f32], k: usize, n: usize) {
    assert!(dst.len() >= n && x.len() >= k && w.len() >= k * n, "row_add buffer sizes");
    crate::nn::act::simd(
        #[inline(always)]
        || {
            let mut j0 = 0;
            while j0 + ROW_BLOCK <= n {
                let mut acc = [0.0f32; ROW_BLOCK];
                acc.copy_from_slice(&dst[j0..j0 + ROW_BLOCK]);
                for (kk, &xv) in x[..k].iter().enumerate() {
                    let row = &w[kk * n + j0..kk * n + j0 + ROW_BLOCK];
                    for (a, &wv) in acc.iter_mut().zip(row) {
                        *a += xv * wv;
                    }
                }
                dst[j0..j0 + ROW_BLOCK].copy_from_slice(&acc);
                j0 += ROW_BLOCK;
            }
            for j in j0..n {
                let mut a = dst[j];
                for (kk, &xv) in x[..k].iter().enumerate() {
                    a += xv * w[kk * n + j];
                }
                dst[j] = a;
            }
        },
    )
}

/// Columns per register block of [`row_add`] (eight AVX registers of eight lanes).
const ROW_BLOCK: usize = 64;

/// Writes the transpose of `src [rows, cols]` into `dst [cols, rows]`.
pub fn transpose(src: &[f32], rows: usize, cols: usize, dst: &mut [f32]) {
    /// Tile edge: a 16×16 tile of each side stays in L1.
    const TILE: usize = 16;
    assert!(src.len() >= rows * cols && dst.len() >= rows * cols, "transpose buffer sizes");
    for r0 in (0..rows).step_by(TILE) {
        for c0 in (0..cols).step_by(TILE) {
            for r in r0..(r0 + TILE).min(rows) {
                let row = &src[r * cols..(r + 1) * cols];
                for c in c0..(c0 + TILE).min(cols) {
                    dst[c * rows + r] = row[c];
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(a: &[f32], b: &[f32], m: usize, k: usize, n: usize) -> Vec<f32> {
        let mut out = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                out[i * n + j] = (0..k).map(|l| a[i * k + l] * b[l * n + j]).sum();
            }
        }
        out
    }

    #[test]
    fn products_and_transposes_match_the_naive_loops() {
        let (m, k, n) = (3, 5, 4);
        let a: Vec<f32> = (0..m * k).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i as f32 * 0.71).cos()).collect();
        let want = naive(&a, &b, m, k, n);
        let close = |x: &[f32]| x.iter().zip(&want).all(|(p, q)| (p - q).abs() < 1e-5);
        let mut d = vec![0.0; m * n];
        nn(&mut d, Acc::Set, &a, &b, m, k, n);
        assert!(close(&d));
        let (mut at, mut bt) = (vec![0.0; m * k], vec![0.0; k * n]);
        transpose(&a, m, k, &mut at);
        transpose(&b, k, n, &mut bt);
        assert_eq!(at[2 * m + 1], a[k + 2]);
        let mut d2 = vec![1.0; m * n];
        nt(&mut d2, Acc::Set, &a, &bt, m, k, n);
        assert!(close(&d2));
        let mut d3 = vec![0.0; m * n];
        tn(&mut d3, Acc::Set, &at, &b, m, k, n);
        assert!(close(&d3));
        // One row at a width that leaves a remainder after the register blocks.
        let (k2, n2) = (7, 150);
        let x: Vec<f32> = (0..k2).map(|i| (i as f32 * 0.3).cos()).collect();
        let w: Vec<f32> = (0..k2 * n2).map(|i| (i as f32 * 0.11).sin()).collect();
        let mut r = vec![0.5; n2];
        row_add(&mut r, &x, &w, k2, n2);
        let want_r = naive(&x, &w, 1, k2, n2);
        assert!(r.iter().zip(&want_r).all(|(p, q)| (p - 0.5 - q).abs() < 1e-5));
        // Add accumulates.
        tn(&mut d3, Acc::Add, &at, &b, m, k, n);
        assert!(d3.iter().zip(&want).all(|(p, q)| (p - 2.0 * q).abs() < 1e-5));
    }
}
