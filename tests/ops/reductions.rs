//! `sum_all` on both kernels (forced) and on `Auto`, against an f64 sum, over lengths that
//! break the tree's blocks (1, 31, 33, 255..257, 4,095..4,097, 65,537, 1,000,000) and values
//! that cancel or dwarf each other; and `column_sum` (both forms) on rows of 1, 31, 33, 1,024, 16,385 and
//! 1,000,000.

use crate::common::*;
use wgpu_backprop::ops::{column_sum_with, sum_all_with, SumKernel};
use wgpu_backprop::rng::Rng;

/// The classical bound for f32 summation: a sum built from `depth` additions in sequence
/// errs by at most depth · 2⁻²⁴ · Σ|x| (plus a little for the last rounding).
fn check_sum(what: &str, got: f32, x: &[f64], depth: usize) {
    let want: f64 = x.iter().sum();
    let scale: f64 = x.iter().map(|v| v.abs()).sum();
    let tol = Tol {
        abs: 1e-30,
        rel: (depth + 1) as f64 * f64::powi(2.0, -24),
    };
    assert_close_scaled(what, &[got], &[want], &[scale], tol);
}

/// Additions in sequence behind one result: the column kernel adds up to 16,384 terms per
/// chunk, then the chunk sums; the tree adds 16 per lane and 8 levels per pass of 4,096; the
/// subgroup form 16 per lane, then at most 256 in a row between a subgroup's lanes (in
/// whatever order the device adds them) and the subgroups' sums (in order).
fn depth(kernel: SumKernel, n: usize) -> usize {
    let passes = (n as f64).log(4096.0).ceil().max(1.0) as usize;
    match kernel {
        SumKernel::Tree => 24 * passes,
        SumKernel::Subgroup => (16 + 256) * passes,
        _ => n.min(16_384) + n.div_ceil(16_384),
    }
}

#[test]
fn sum_all_on_every_kernel_over_awkward_lengths() {
    let gpu = gpu();
    let mut rng = Rng::new(21);
    for n in [
        1, 31, 33, 255, 256, 257, 4095, 4096, 4097, 65_537, 1_000_000,
    ] {
        let x = rand_vec(&mut rng, n, -1.0, 1.0);
        let t = upload(&gpu, &x, &[n]);
        for kernel in [
            SumKernel::Columns,
            SumKernel::Tree,
            SumKernel::Subgroup,
            SumKernel::Auto,
        ] {
            let s = sum_all_with(kernel, &t).unwrap();
            assert_eq!(s.shape(), &[1]);
            let d = depth(kernel, n).max(depth(SumKernel::Columns, n)); // Auto: either
            check_sum(&format!("{kernel:?} n={n}"), read(&s)[0], &x, d);
        }
    }
}

#[test]
fn sum_all_of_values_that_cancel_or_dwarf() {
    let gpu = gpu();
    let n = 10_000;
    let cases: Vec<(&str, Vec<f64>)> = vec![
        (
            "±1e30 pairs",
            (0..n)
                .map(|i| if i % 2 == 0 { 1e30 } else { -1e30 })
                .collect(),
        ),
        (
            "one huge among ones",
            (0..n).map(|i| if i == 5000 { 1e30 } else { 1.0 }).collect(),
        ),
        (
            "rows like 10000..10003",
            (0..n).map(|i| 10_000.0 + (i % 4) as f64).collect(),
        ),
        (
            "one-hot",
            (0..n).map(|i| f64::from(u8::from(i == 7777))).collect(),
        ),
    ];
    for (what, x) in cases {
        let t = upload(&gpu, &x, &[100, 100]);
        for kernel in [SumKernel::Columns, SumKernel::Tree, SumKernel::Subgroup] {
            let got = read(&sum_all_with(kernel, &t).unwrap())[0];
            check_sum(&format!("{what}, {kernel:?}"), got, &x, depth(kernel, n));
        }
    }
}

#[test]
fn column_sums_over_rows_of_every_awkward_length() {
    let gpu = gpu();
    let mut rng = Rng::new(22);
    for (rows, cols) in [
        (1, 7),
        (31, 5),
        (33, 65),
        (1024, 3),
        (16_385, 2),
        (1_000_000, 1),
    ] {
        let x = rand_vec(&mut rng, rows * cols, -1.0, 1.0);
        let t = upload(&gpu, &x, &[rows, cols]);
        for kernel in [SumKernel::Columns, SumKernel::Tree, SumKernel::Auto] {
            let got = read(&column_sum_with(kernel, &t).unwrap());
            assert_eq!(got.len(), cols);
            for (j, &g) in got.iter().enumerate() {
                let col: Vec<f64> = (0..rows).map(|i| x[i * cols + j]).collect();
                // Tree: chunks of 64, summed again: 64 additions per pass.
                let d = match kernel {
                    SumKernel::Tree => 64 * (rows as f64).log(64.0).ceil().max(1.0) as usize,
                    _ => depth(SumKernel::Columns, rows),
                };
                let what = format!("column {j} of ({rows}, {cols}), {kernel:?}");
                check_sum(&what, g, &col, d);
            }
        }
    }
}
