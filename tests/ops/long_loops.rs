//! Work that needs long loops inside a kernel: llvmpipe silently stops any invocation's loops
//! after 65,535 iterations, so kernels split such work (matmul K in chunks, column sums in
//! chunks of rows, long softmax rows on the workgroup kernel). Each result here is checked.

use crate::common::*;
use wgpu_backprop::ops::{
    column_sum, gemm_with, softmax_forward_with, sum_all, MatmulKernel, RowKernel, Transpose,
};
use wgpu_backprop::rng::Rng;

#[test]
fn column_sum_over_70000_rows() {
    let gpu = gpu();
    let mut rng = Rng::new(60);
    let (rows, cols) = (70_001, 3);
    let x = rand_vec(&mut rng, rows * cols, -1.0, 1.0);
    let got = read(&column_sum(&upload(&gpu, &x, &[rows, cols])).unwrap());
    let a = mat(&x, rows, cols);
    let want = a.sum_axis(ndarray::Axis(0)).to_vec();
    let scale = a.mapv(f64::abs).sum_axis(ndarray::Axis(0)).to_vec();
    assert_close_scaled(
        "column_sum 70001x3",
        &got,
        &want,
        &scale,
        Tol {
            abs: 0.0,
            rel: 1e-5,
        },
    );
    let total = read(&sum_all(&upload(&gpu, &x, &[rows * cols])).unwrap());
    let want_total: f64 = x.iter().sum();
    let scale_total: f64 = x.iter().map(|v| v.abs()).sum();
    assert_close_scaled(
        "sum_all 210003",
        &total,
        &[want_total],
        &[scale_total],
        Tol {
            abs: 0.0,
            rel: 1e-5,
        },
    );
}

#[test]
fn matmul_with_k_beyond_one_dispatch() {
    let gpu = gpu();
    let mut rng = Rng::new(61);
    // K = 40,001 on the tiled kernel (three accumulating dispatches), all transpose variants.
    let (m, k, n) = (3, 40_001, 2);
    let a = mat(&rand_vec(&mut rng, m * k, -1.0, 1.0), m, k);
    let b = mat(&rand_vec(&mut rng, k * n, -1.0, 1.0), k, n);
    let (want, scale) = matmul_ref(&a, &b);
    for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
        let sa = if ta { a.t().to_owned() } else { a.clone() };
        let sb = if tb { b.t().to_owned() } else { b.clone() };
        let tr = |t: bool| if t { Transpose::Yes } else { Transpose::No };
        let ga = upload(&gpu, &flat(&sa), &[sa.nrows(), sa.ncols()]);
        let gb = upload(&gpu, &flat(&sb), &[sb.nrows(), sb.ncols()]);
        let c = gemm_with(MatmulKernel::Tiled, (&ga, tr(ta)), (&gb, tr(tb)), None).unwrap();
        let what = format!("matmul K=40001 ta={ta} tb={tb}");
        assert_close_scaled(
            &what,
            &read(&c),
            &flat(&want),
            &flat(&scale),
            Tol {
                abs: 0.0,
                rel: 1e-5,
            },
        );
    }
}

/// The texture kernel loops K/4 times: K = 100,001 runs on it (25,001 iterations); K =
/// 300,001 (75,001, past llvmpipe's cap) is beyond what it takes and runs on the tiled kernel
/// in chunks. Taking it anyway would give wrong sums on llvmpipe.
#[test]
fn texture_matmul_with_long_k() {
    let gpu = gpu();
    let mut rng = Rng::new(64);
    for k in [100_001, 300_001] {
        let (m, n) = (3, 2);
        let a = rand_vec(&mut rng, m * k, -1.0, 1.0);
        let b = rand_vec(&mut rng, k * n, -1.0, 1.0);
        let (ga, gb) = (upload(&gpu, &a, &[m, k]), upload(&gpu, &b, &[k, n]));
        let no = Transpose::No;
        let c = gemm_with(MatmulKernel::Texture, (&ga, no), (&gb, no), None).unwrap();
        let what = format!("Texture K = {k}");
        assert_matmul_close(&what, &read(&c), &a, &b, [m, k, n]);
    }
}

/// K = 100,001 on the blocked kernels: one dispatch would loop about 300,000 times (12,501
/// slices of 8, ~25 loop iterations each), past llvmpipe's cap, so there K is split into
/// ranges of 16,384 (summed by the split-K kernel). Without the split this gives wrong sums.
#[test]
fn blocked_matmul_with_k_beyond_the_loop_cap() {
    let gpu = gpu();
    let mut rng = Rng::new(63);
    let (m, k, n) = (3, 100_001, 2);
    let a = rand_vec(&mut rng, m * k, -1.0, 1.0);
    let b = rand_vec(&mut rng, k * n, -1.0, 1.0);
    let (ga, gb) = (upload(&gpu, &a, &[m, k]), upload(&gpu, &b, &[k, n]));
    for kernel in [
        MatmulKernel::Blocked128,
        MatmulKernel::Blocked64,
        MatmulKernel::SplitK,
    ] {
        let no = Transpose::No;
        let c = gemm_with(kernel, (&ga, no), (&gb, no), None).unwrap();
        let what = format!("{kernel:?} K = 100,001");
        assert_matmul_close(&what, &read(&c), &a, &b, [m, k, n]);
    }
}

#[test]
fn long_softmax_rows_on_every_kernel_choice() {
    let gpu = gpu();
    let mut rng = Rng::new(62);
    for cols in [16_384, 16_385, 100_000] {
        let x = rand_vec(&mut rng, cols, -5.0, 5.0);
        let want = flat(&softmax_ref(&mat(&x, 1, cols)));
        for kernel in [
            RowKernel::Auto,
            RowKernel::PerInvocation,
            RowKernel::PerWorkgroup,
        ] {
            let y = softmax_forward_with(kernel, &upload(&gpu, &x, &[cols])).unwrap();
            let what = format!("softmax row {cols} {kernel:?}");
            assert_close(
                &what,
                &read(&y),
                &want,
                Tol {
                    abs: 1e-12,
                    rel: 1e-5,
                },
            );
        }
    }
}

#[test]
fn softmax_of_one_row_of_ten_million() {
    let gpu = gpu();
    let n = 10_000_000;
    let x: Vec<f32> = (0..n).map(|i| ((i % 1000) as f32) * 0.01).collect();
    let y = read(
        &softmax_forward_with(
            RowKernel::Auto,
            &wgpu_backprop::Tensor::from_slice(&gpu, &x, &[n]).unwrap(),
        )
        .unwrap(),
    );
    // 10,000 copies of exp(0.01·j) for j in 0..1000: y_j = exp(0.01·j) / (10⁴ · Σ_k exp(0.01·k)).
    let s: f64 = (0..1000).map(|k| (0.01 * k as f64).exp()).sum::<f64>() * 10_000.0;
    for i in [0, 1, 999, 1000, 4_567_891, n - 1] {
        let want = (0.01 * (i % 1000) as f64).exp() / s;
        let err = (f64::from(y[i]) - want).abs() / want;
        assert!(err < 1e-4, "y[{i}] = {}, expected {want}", y[i]);
    }
    let total: f64 = y.iter().map(|&v| f64::from(v)).sum();
    assert!((total - 1.0).abs() < 1e-3, "sum {total}");
}

/// On a device that does not cap loops (the same adapter, under another name), a K beyond one
/// llvmpipe chunk runs as one tiled dispatch; the result is the same.
#[test]
fn matmul_k_in_one_dispatch_where_loops_are_not_capped() {
    let (mut info, device, queue) = own_device(|limits| limits);
    info.name = "a device without a loop cap".into();
    let gpu = wgpu_backprop::Gpu::from_device(info, device, queue);
    let mut rng = Rng::new(31);
    let (m, k, n) = (3, 20_001, 5);
    let a = rand_vec(&mut rng, m * k, -1.0, 1.0);
    let b = rand_vec(&mut rng, k * n, -1.0, 1.0);
    let c = gemm_with(
        MatmulKernel::Tiled,
        (&upload(&gpu, &a, &[m, k]), Transpose::No),
        (&upload(&gpu, &b, &[k, n]), Transpose::No),
        None,
    )
    .unwrap();
    assert_matmul_close("K = 20,001 in one dispatch", &read(&c), &a, &b, [m, k, n]);
}
