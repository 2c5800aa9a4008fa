//! The tiled matmul, in all four transpose variants and with bias, against ndarray in f64 on
//! shapes that break the 64×64×16 tiling: every M, N in 1..=17 with K in {1, 2, 3, 16, 17},
//! tile ± 1, primes, tall and wide.

use crate::common::*;
use ndarray::Array2;
use wgpu_backprop::ops::{column_sum, gemm_relu_with, gemm_with, matmul, MatmulKernel, Transpose};
use wgpu_backprop::rng::Rng;
use wgpu_backprop::Gpu;

/// Dot products of length K in f32 against exact f64, relative to Σ|a||b|.
const DOT_TOL: Tol = Tol {
    abs: 1e-30,
    rel: 1e-5,
};

/// Variant bits: 1 = A transposed, 2 = B transposed, 4 = with bias, 8 = ReLU epilogue
/// (`gemm_relu`). Runs every kernel (forced; shapes the vec4 kernels cannot take run tiled)
/// and `Auto`.
fn check_gemm(gpu: &Gpu, rng: &mut Rng, mkn: [usize; 3], scale: f32, variant: usize) {
    for kernel in MatmulKernel::FORCED.into_iter().chain([MatmulKernel::Auto]) {
        check_gemm_on(gpu, rng, kernel, mkn, scale, variant);
    }
}

fn check_gemm_on(
    gpu: &Gpu,
    rng: &mut Rng,
    kernel: MatmulKernel,
    [m, k, n]: [usize; 3],
    scale: f32,
    variant: usize,
) {
    let (ta, tb, bias) = (variant & 1 == 1, variant & 2 == 2, variant & 4 == 4);
    let relu = variant & 8 == 8;
    let a = mat(&rand_vec(rng, m * k, -scale, scale), m, k);
    let b = mat(&rand_vec(rng, k * n, -scale, scale), k, n);
    let bias_v = rand_vec(rng, n, -scale, scale);
    // Store the operands the way the variant reads them.
    let stored = |x: &Array2<f64>, t: bool| if t { x.t().to_owned() } else { x.clone() };
    let (sa, sb) = (stored(&a, ta), stored(&b, tb));
    let ga = upload(gpu, &flat(&sa), &[sa.nrows(), sa.ncols()]);
    let gb = upload(gpu, &flat(&sb), &[sb.nrows(), sb.ncols()]);
    let gbias = upload(gpu, &bias_v, &[n]);
    let tr = |t: bool| if t { Transpose::Yes } else { Transpose::No };
    let product = if relu { gemm_relu_with } else { gemm_with };
    let c = product(kernel, (&ga, tr(ta)), (&gb, tr(tb)), bias.then_some(&gbias)).unwrap();
    assert_eq!(c.shape(), &[m, n]);
    let (mut want, mut err_scale) = matmul_ref(&a, &b);
    if bias {
        let bv = ndarray::Array1::from(bias_v.clone());
        want += &bv;
        err_scale += &bv.mapv(f64::abs);
    }
    if relu {
        want.mapv_inplace(|v| v.max(0.0));
    }
    let what = format!(
        "gemm {kernel:?} {m}x{k}x{n} ta={ta} tb={tb} bias={bias} relu={relu} scale={scale}"
    );
    assert_close_scaled(&what, &read(&c), &flat(&want), &flat(&err_scale), DOT_TOL);
}

#[test]
fn every_small_shape_all_variants() {
    let gpu = gpu();
    let mut rng = Rng::new(1);
    for k in [1, 2, 3, 16, 17] {
        for m in 1..=17 {
            for n in 1..=17 {
                let v = (m + n + k) % 4;
                let extra = 4 * ((m + n) % 2) + 8 * ((m * n + k) % 3 == 0) as usize;
                check_gemm(&gpu, &mut rng, [m, k, n], 1.0, v + extra);
            }
        }
    }
}

#[test]
fn tile_edges_and_primes_all_variants() {
    let gpu = gpu();
    let mut rng = Rng::new(2);
    let sizes = [
        (63, 15, 65),
        (64, 16, 64),
        (65, 17, 63),
        (127, 33, 129),
        (128, 31, 1),
        (97, 101, 89),
    ];
    for (m, k, n) in sizes {
        for v in 0..16 {
            check_gemm(&gpu, &mut rng, [m, k, n], 1.0, v);
        }
    }
}

/// Shapes the vec4-loading kernels take (K, N and M multiples of 4) around the register
/// kernel's 256×64 block and 32×8 per-invocation block and the vec4 kernel's 64×64 block.
#[test]
fn register_kernel_aligned_edges_all_variants() {
    let gpu = gpu();
    let mut rng = Rng::new(5);
    let shapes = [
        (4, 4, 4),
        (4, 8, 60),
        (8, 12, 68),
        (32, 4, 8),
        (36, 20, 64),
        (252, 16, 124),
        (256, 8, 64),
        (260, 36, 132),
        (516, 12, 4),
    ];
    for (m, k, n) in shapes {
        for v in 0..8 {
            for kernel in [MatmulKernel::Register, MatmulKernel::Vec4] {
                check_gemm_on(&gpu, &mut rng, kernel, [m, k, n], 1.0, v);
            }
        }
    }
}

/// The blocked family where the shape fits its tiles exactly (no edge checks: 128×128×8,
/// 128×64×8, 64×64×16 and multiples) and one off, and split-K with 2 to 9 ranges of K, the
/// last one short, with bias and the ReLU epilogue.
#[test]
fn blocked_exact_tiles_and_split_k_all_variants() {
    let gpu = gpu();
    let mut rng = Rng::new(6);
    let blocked = [
        MatmulKernel::Blocked128,
        MatmulKernel::Blocked128x64,
        MatmulKernel::Blocked64,
        MatmulKernel::SplitK,
    ];
    let shapes = [
        (128, 8, 128),
        (256, 16, 128),
        (128, 32, 64),
        (64, 16, 64),
        (192, 48, 192),
        (128, 9, 128),
        (129, 8, 128),
        (128, 8, 127),
        (4, 5000, 4),
        (3, 1031, 5),
        (64, 4096, 68),
    ];
    for (m, k, n) in shapes {
        for v in 0..16 {
            for kernel in blocked {
                check_gemm_on(&gpu, &mut rng, kernel, [m, k, n], 1.0, v);
            }
        }
    }
}

#[test]
fn tall_wide_and_large_values() {
    let gpu = gpu();
    let mut rng = Rng::new(3);
    check_gemm(&gpu, &mut rng, [1000, 3, 1000], 1.0, 4); // tall × wide
    check_gemm(&gpu, &mut rng, [1000, 4, 1000], 1.0, 7);
    check_gemm(&gpu, &mut rng, [4, 1000, 4], 100.0, 5);
    check_gemm(&gpu, &mut rng, [3, 1000, 3], 1.0, 0); // wide × tall, long K
    check_gemm(&gpu, &mut rng, [3, 1000, 3], 100.0, 7);
    check_gemm(&gpu, &mut rng, [200, 130, 70], 100.0, 6);
    check_gemm(&gpu, &mut rng, [1, 300, 257], 100.0, 1);
}

#[test]
fn matmul_is_plain_gemm() {
    let gpu = gpu();
    let a = upload(&gpu, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]);
    let b = upload(&gpu, &[1.0, 0.0, 0.0, 1.0, 1.0, 1.0], &[3, 2]);
    assert_eq!(read(&matmul(&a, &b).unwrap()), vec![4.0, 5.0, 10.0, 11.0]);
}

#[test]
fn column_sum_matches_reference() {
    let gpu = gpu();
    let mut rng = Rng::new(4);
    for (rows, cols) in [(1, 1), (1, 70), (1000, 3), (3, 1000), (129, 65)] {
        let x = rand_vec(&mut rng, rows * cols, -100.0, 100.0);
        let a = mat(&x, rows, cols);
        let want = a.sum_axis(ndarray::Axis(0));
        let scale = a.mapv(f64::abs).sum_axis(ndarray::Axis(0));
        let got = read(&column_sum(&upload(&gpu, &x, &[rows, cols])).unwrap());
        let what = format!("column_sum {rows}x{cols}");
        assert_close_scaled(&what, &got, &want.to_vec(), &scale.to_vec(), DOT_TOL);
    }
}

/// The texture kernel's operand textures come from the pool: they show in `memory_stats`, go
/// back when the product has run, and the next product of their size class takes them again,
/// with the last product's contents (NaN here) left past its own operands, which it must
/// never read.
#[test]
fn texture_operands_are_pooled_and_stale_texels_are_never_read() {
    let gpu = own_gpu();
    let nan = upload(&gpu, &vec![f64::NAN; 40 * 40], &[40, 40]);
    let no = Transpose::No;
    let c = gemm_with(MatmulKernel::Texture, (&nan, no), (&nan, no), None).unwrap();
    assert!(read(&c).iter().all(|v| v.is_nan()));
    drop(c);
    let held = gpu.memory_stats();
    assert_eq!(
        (held.live_textures, held.pooled_textures),
        (0, 2),
        "two operand textures, back in the pool: {held:?}"
    );
    let mut rng = Rng::new(11);
    for variant in 0..4 {
        check_gemm_on(
            &gpu,
            &mut rng,
            MatmulKernel::Texture,
            [37, 29, 33],
            1.0,
            variant,
        );
    }
    let after = gpu.memory_stats();
    assert_eq!(after.pooled_textures, 2, "the same two reused: {after:?}");
    gpu.trim_pool();
    assert_eq!(gpu.memory_stats().pooled_textures, 0);
}

/// The tests' `matmul_ref` (ndarray) and the library's `reference::matmul` (what the self-check
/// compares against) are the same function.
#[test]
fn the_ndarray_product_is_the_reference_product() {
    let mut rng = Rng::new(12);
    for [m, k, n] in [[1, 1, 1], [7, 13, 5], [31, 64, 17]] {
        let (a, b) = (
            rand_vec(&mut rng, m * k, -9.0, 9.0),
            rand_vec(&mut rng, k * n, -9.0, 9.0),
        );
        let (want, _) = matmul_ref(&mat(&a, m, k), &mat(&b, k, n));
        let got = wgpu_backprop::reference::matmul(&a, &b, m, k, n);
        for (i, (g, w)) in got.iter().zip(want.iter()).enumerate() {
            assert!(
                (g - w).abs() <= 1e-12 * w.abs().max(1.0),
                "{m}x{k}x{n} [{i}]: {g} vs {w}"
            );
        }
    }
}
