//! CPU kernels for the BERT forward pass on plain row-major `f32` buffers. Matrix products go
//! to the `gemm` crate (the one candle uses) so bias and residual are accumulated in place
//! instead of in extra passes; the element-wise work is fused into one pass per step and
//! split across the thread pool only when a batch is large enough to repay the hand-off.

use gemm::Parallelism;
use rayon::prelude::*;

/// Element-wise passes smaller than this run on the calling thread: handing a single
/// query's few thousand values to other threads costs more than the work.
const PARALLEL_MIN: usize = 64 * 1024;

/// Splits `data` into whole rows of `width` and runs `f` on each, in parallel when large.
/// `f` should be `#[inline(always)]` so it is compiled into [`wide`]'s SIMD copies.
pub fn for_rows(data: &mut [f32], width: usize, f: impl Fn(&mut [f32]) + Send + Sync) {
    if data.len() < PARALLEL_MIN {
        wide(
            #[inline(always)]
            || data.chunks_exact_mut(width).for_each(&f),
        );
    } else {
        data.par_chunks_exact_mut(width).with_min_len(8).for_each(|rows| {
            wide(
                #[inline(always)]
                || f(rows),
            )
        });
    }
}

/// Runs `f` inside a function compiled for AVX-512 (else AVX2 and FMA) when the CPU has it,
/// so the element-wise loops inlined into it vectorise 16 (or 8) lanes wide rather than the
/// baseline x86-64's 4. The features are checked at run time: the binary stays portable.
#[inline(always)]
fn wide<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has the features `avx512` is compiled for.
            return unsafe { avx512(f) };
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
            // SAFETY: as above, for `avx2`.
            return unsafe { avx2(f) };
        }
    }
    f()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
fn avx512<R>(f: impl FnOnce() -> R) -> R {
    f()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn avx2<R>(f: impl FnOnce() -> R) -> R {
    f()
}

/// `dst (m×n) += lhs (m×k) · rhs`, where `rhs` is k×n row-major (a weight stored transposed).
pub fn matmul_acc(dst: &mut [f32], lhs: &[f32], rhs: &[f32], m: usize, k: usize, n: usize) {
    assert!(dst.len() == m * n && lhs.len() == m * k && rhs.len() == k * n, "matmul shapes");
    // SAFETY: the three buffers hold exactly the row-major matrices the strides describe
    // (checked above), and `dst` is borrowed mutably so nothing else reads or writes it.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            true,
            lhs.as_ptr(),
            1,
            k as isize,
            rhs.as_ptr(),
            1,
            n as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            Parallelism::Rayon(0),
        )
    }
}

/// In-place layer normalisation of one row, statistics in f32 as PyTorch does on CPU.
#[inline(always)]
pub fn layer_norm(row: &mut [f32], weight: &[f32], bias: &[f32], eps: f32) {
    let n = row.len() as f32;
    let mean = row.iter().sum::<f32>() / n;
    let var = row.iter().map(|x| (x - mean) * (x - mean)).sum::<f32>() / n;
    let inv = 1.0 / (var + eps).sqrt();
    for ((x, w), b) in row.iter_mut().zip(weight).zip(bias) {
        *x = (*x - mean) * inv * w + b;
    }
}

/// The exact GELU, `x·Φ(x)`, through a rational erf approximation (the one Eigen and XLA use
/// for f32, a few ulp from libm) instead of libm's branchy scalar `erff`, so the loop
/// vectorises. The up-projection's output is the largest tensor of every layer.
#[inline(always)]
pub fn gelu_erf(xs: &mut [f32]) {
    for x in xs {
        *x = 0.5 * *x * (1.0 + erf(*x * std::f32::consts::FRAC_1_SQRT_2));
    }
}

/// The tanh approximation of GELU (`gelu_new` in transformers).
#[inline(always)]
pub fn gelu_tanh(xs: &mut [f32]) {
    const C: f32 = 0.797_884_6; // sqrt(2/π)
    for x in xs {
        *x = 0.5 * *x * (1.0 + (C * (*x + 0.044715 * *x * *x * *x)).tanh());
    }
}

#[inline(always)]
pub fn relu(xs: &mut [f32]) {
    for x in xs {
        *x = x.max(0.0);
    }
}

#[inline(always)]
fn erf(x: f32) -> f32 {
    // Beyond ±4 erf is ±1 in f32.
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let mut p = x2 * -2.726_142_3e-10 + 2.770_681_4e-8;
    p = x2 * p + -2.101_024e-6;
    p = x2 * p + -5.692_506_4e-5;
    p = x2 * p + -7.349_906_3e-4;
    p = x2 * p + -2.954_600_1e-3;
    p = x2 * p + -1.609_603_3e-2;
    let mut q = x2 * -1.456_607_2e-5 + -2.133_740_6e-4;
    q = x2 * q + -1.682_827e-3;
    q = x2 * q + -7.373_329e-3;
    q = x2 * q + -1.426_474e-2;
    x * p / q
}

/// In-place softmax of one row of attention scores.
#[inline(always)]
fn softmax(row: &mut [f32]) {
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    row.iter_mut().for_each(|x| *x = exp_nonpositive(*x - max));
    let inv = 1.0 / row.iter().sum::<f32>();
    row.iter_mut().for_each(|x| *x *= inv);
}

/// `eˣ` for x ≤ 0 (softmax after subtracting the row's maximum), in a form that vectorises,
/// unlike libm's `expf` call: Cephes' expf, x = n·ln2 + r with |r| ≤ ln2/2, eʳ by a degree-5
/// polynomial (within 2e-7 relative), 2ⁿ put straight into the exponent bits.
#[inline(always)]
fn exp_nonpositive(x: f32) -> f32 {
    // Below -87 the result underflows to ~0 anyway, and 2ⁿ stays a normal float.
    let x = x.max(-87.0);
    let n = (x * std::f32::consts::LOG2_E + 0.5).floor();
    // ln2 split in two so n·ln2 is subtracted without losing r's low bits.
    let r = x - n * 0.693_359_4 - n * -2.121_944_4e-4;
    let mut p = 1.987_569_1e-4;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 0.166_666_65;
    p = p * r + 0.5;
    let e_r = p * r * r + r + 1.0;
    f32::from_bits(((n as i32 + 127) as u32) << 23) * e_r
}

/// Multi-head self-attention of one sequence. `qkv` holds its `len` rows of
/// `[query | key | value]` (3·hidden wide, heads side by side in each); `out` receives the
/// `len` rows of context (hidden wide). `scores` is scratch of at least len².
pub fn attention(qkv: &[f32], out: &mut [f32], scores: &mut Vec<f32>, len: usize, heads: usize) {
    let hidden = out.len() / len.max(1);
    let head_dim = hidden / heads;
    let stride = 3 * hidden;
    assert!(qkv.len() == len * stride && out.len() == len * hidden, "attention shapes");
    scores.resize(len * len, 0.0);
    let scale = 1.0 / (head_dim as f32).sqrt();
    for h in 0..heads {
        let q = h * head_dim;
        let k = hidden + h * head_dim;
        let v = 2 * hidden + h * head_dim;
        // SAFETY: every index the strides reach lies inside `qkv` (len rows of `stride`, the
        // head's columns below `stride`), `scores` (len×len) or `out` (len rows of `hidden`,
        // the head's columns below `hidden`); `scores` and `out` are exclusive borrows.
        unsafe {
            // scores = scale · Q_h · K_hᵀ, reading Kᵀ through swapped strides.
            gemm::gemm(
                len,
                len,
                head_dim,
                scores.as_mut_ptr(),
                1,
                len as isize,
                false,
                qkv.as_ptr().add(q),
                1,
                stride as isize,
                qkv.as_ptr().add(k),
                stride as isize,
                1,
                0.0,
                scale,
                false,
                false,
                false,
                Parallelism::None,
            );
        }
        wide(
            #[inline(always)]
            || scores.chunks_exact_mut(len).for_each(softmax),
        );
        // SAFETY: as above.
        unsafe {
            // out_h = P · V_h, written straight into the head's columns of the context rows.
            gemm::gemm(
                len,
                head_dim,
                len,
                out.as_mut_ptr().add(q),
                1,
                hidden as isize,
                false,
                scores.as_ptr(),
                1,
                len as isize,
                qkv.as_ptr().add(v),
                1,
                stride as isize,
                0.0,
                1.0,
                false,
                false,
                false,
                Parallelism::None,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erf_matches_libm_closely() {
        let worst = (-6000..=6000)
            .map(|i| i as f32 / 1000.0)
            .map(|x| (erf(x) as f64 - libm_erf(x as f64)).abs())
            .fold(0.0, f64::max);
        assert!(worst < 1e-6, "worst error {worst}");
    }

    /// erf in f64 by its Taylor series (|x| ≤ 3) and continued fraction beyond: a reference
    /// independent of the approximation under test.
    fn libm_erf(x: f64) -> f64 {
        let a = x.abs();
        let value = if a <= 3.0 {
            let (mut term, mut sum, mut n) = (a, a, 0.0);
            while term.abs() > 1e-17 {
                n += 1.0;
                term *= -a * a / n;
                sum += term / (2.0 * n + 1.0);
            }
            sum * 2.0 / std::f64::consts::PI.sqrt()
        } else {
            let mut f = 0.0;
            for k in (1..60).rev() {
                f = k as f64 / 2.0 / (a + f);
            }
            1.0 - (-a * a).exp() / std::f64::consts::PI.sqrt() / (a + f)
        };
        value.copysign(x)
    }

    #[test]
    fn exp_matches_std_closely() {
        let worst = (0..=87_000)
            .map(|i| -(i as f32) / 1000.0)
            .map(|x| ((exp_nonpositive(x) as f64 - (x as f64).exp()) / (x as f64).exp()).abs())
            .fold(0.0, f64::max);
        assert!(worst < 1e-6, "worst relative error {worst}");
        assert!(exp_nonpositive(-1000.0) < 1e-37);
    }

    #[test]
    fn attention_of_one_token_is_its_value() {
        let (hidden, heads) = (4, 2);
        let qkv: Vec<f32> = (0..3 * hidden).map(|i| i as f32).collect();
        let mut out = vec![0.0; hidden];
        attention(&qkv, &mut out, &mut Vec::new(), 1, heads);
        assert_eq!(out, qkv[2 * hidden..]);
    }

    #[test]
    fn attention_weights_sum_to_one() {
        let (len, hidden, heads) = (3, 4, 2);
        let mut qkv: Vec<f32> = (0..len * 3 * hidden).map(|i| (i % 7) as f32 * 0.1).collect();
        // Every value row the same: any convex combination returns it.
        for row in qkv.chunks_exact_mut(3 * hidden) {
            row[2 * hidden..].copy_from_slice(&[1.0, 2.0, 3.0, 4.0]);
        }
        let mut out = vec![0.0; len * hidden];
        attention(&qkv, &mut out, &mut Vec::new(), len, heads);
        for row in out.chunks_exact(hidden) {
            for (got, want) in row.iter().zip([1.0, 2.0, 3.0, 4.0]) {
                assert!((got - want).abs() < 1e-5, "{row:?}");
            }
        }
    }
}
