//! SoftMax and ReLU forward and backward against ndarray f64 references, on shapes around the
//! 256-wide workgroup and the vec4 packing, long rows, and adversarial values.

use crate::common::*;
use ndarray::{Array2, Axis};
use wgpu_backprop::nodes::{ReLU, SoftMax};
use wgpu_backprop::ops::{softmax_backward_with, softmax_forward_with, RowKernel};
use wgpu_backprop::rng::Rng;
use wgpu_backprop::{Gpu, Layer};

/// exp and the division carry a few ulps each; values that underflow are within `abs`.
const SOFTMAX_TOL: Tol = Tol {
    abs: 1e-12,
    rel: 1e-5,
};

/// Runs softmax forward and backward on x (rows, cols) — through the layer, and through each
/// row kernel — and checks both against the reference.
fn check_softmax(gpu: &Gpu, x: &[f64], g: &[f64], rows: usize, cols: usize) {
    let shape: Vec<usize> = if rows == 1 {
        vec![cols]
    } else {
        vec![rows, cols]
    };
    let mut sm = SoftMax::new();
    let y = sm.forward(&upload(gpu, x, &shape)).unwrap();
    let dx = sm.backward(&upload(gpu, g, &shape)).unwrap();
    check_results(&read(&y), &read(&dx), (x, g), [rows, cols], "layer");
    for kernel in [
        RowKernel::PerWorkgroup,
        RowKernel::PerInvocation,
        RowKernel::Registers,
    ] {
        let y = softmax_forward_with(kernel, &upload(gpu, x, &shape)).unwrap();
        let dx = softmax_backward_with(kernel, &y, &upload(gpu, g, &shape)).unwrap();
        check_results(
            &read(&y),
            &read(&dx),
            (x, g),
            [rows, cols],
            &format!("{kernel:?}"),
        );
    }
}

/// The backward error is bounded relative to y·(|g| + Σ|g·y|), the size of its terms.
fn check_results(
    y: &[f32],
    dx: &[f32],
    (x, g): (&[f64], &[f64]),
    [rows, cols]: [usize; 2],
    how: &str,
) {
    let want = softmax_ref(&mat(x, rows, cols));
    let what = format!("softmax forward {rows}x{cols} ({how})");
    assert_close(&what, y, &flat(&want), SOFTMAX_TOL);
    // Reference backward from the f64 y, so the check measures the backward kernel itself
    // plus the propagated forward error (covered by the scale).
    let ga = mat(g, rows, cols);
    let want_dx = softmax_backward_ref(&want, &ga);
    let dots = (&want * &ga)
        .mapv(f64::abs)
        .sum_axis(Axis(1))
        .insert_axis(Axis(1));
    let scale: Array2<f64> = &want * &(ga.mapv(f64::abs) + &dots);
    let what = format!("softmax backward {rows}x{cols} ({how})");
    assert_close_scaled(
        &what,
        dx,
        &flat(&want_dx),
        &flat(&scale),
        Tol {
            abs: 1e-12,
            rel: 3e-5,
        },
    );
}

#[test]
fn softmax_shape_sweep() {
    let gpu = gpu();
    let mut rng = Rng::new(10);
    let shapes = [
        (1, 1),
        (1, 2),
        (1, 5),
        (3, 7),
        (17, 13),
        (2, 255),
        (2, 256),
        (3, 257),
        (1000, 3),
        (3, 1000),
        (7, 4099),
        // Around the register kernel's segments (8 per lane, lanes a power of 2 up to 256).
        (300, 10),
        (5, 31),
        (9, 33),
        (129, 64),
        (4, 1024),
        (3, 2047),
        (2, 2048),
        (2, 2049),
    ];
    for (rows, cols) in shapes {
        for scale in [1.0, 100.0] {
            let x = rand_vec(&mut rng, rows * cols, -scale, scale);
            let g = rand_vec(&mut rng, rows * cols, -scale, scale);
            check_softmax(&gpu, &x, &g, rows, cols);
        }
    }
}

#[test]
fn softmax_row_of_100k() {
    let gpu = gpu();
    let mut rng = Rng::new(11);
    let x = rand_vec(&mut rng, 100_000, -10.0, 10.0);
    let g = rand_vec(&mut rng, 100_000, -1.0, 1.0);
    check_softmax(&gpu, &x, &g, 1, 100_000);
}

#[test]
fn softmax_adversarial_rows() {
    let gpu = gpu();
    let rows: [&[f64]; 7] = [
        &[10000.0, 10001.0, 10002.0, 10003.0],
        &[-1e30, 0.0, -1e30, 0.0],
        &[0.0, 0.0, 1.0, 0.0],       // one-hot
        &[0.0, 0.0, 1e4, 0.0],       // one-hot, huge
        &[-1e30, -1e30, -1e30, 5.0], // one survivor
        &[3.0, 3.0, 3.0, 3.0],       // equal values
        &[1e30, -1e30, 1e30, 0.0],   // ±1e30
    ];
    let x: Vec<f64> = rows.concat();
    let g: Vec<f64> = (0..x.len()).map(|i| (i % 5) as f64 - 2.0).collect();
    check_softmax(&gpu, &x, &g, rows.len(), 4);
    // Each row on its own, too (vector path).
    for r in rows {
        check_softmax(&gpu, r, &g[..4], 1, 4);
    }
    let sm_sum: f32 = {
        let mut sm = SoftMax::new();
        read(&sm.forward(&upload(&gpu, rows[0], &[4])).unwrap())
            .iter()
            .sum()
    };
    assert!(
        (sm_sum - 1.0).abs() < 1e-6,
        "softmax of 10000..10003 sums to {sm_sum}"
    );
}

#[test]
fn relu_shape_sweep_is_exact() {
    let gpu = gpu();
    let mut rng = Rng::new(12);
    let shapes: [&[usize]; 9] = [
        &[1],
        &[2],
        &[3],
        &[5],
        &[1023],
        &[1025],
        &[3, 7],
        &[1000, 3],
        &[257, 65],
    ];
    for shape in shapes {
        let n: usize = shape.iter().product();
        let mut x = rand_vec(&mut rng, n, -100.0, 100.0);
        x[0] = 0.0; // the derivative at exactly 0 is 0
        let g = rand_vec(&mut rng, n, -1.0, 1.0);
        let mut relu = ReLU::new();
        let y = relu.forward(&upload(&gpu, &x, shape)).unwrap();
        assert_eq!(y.shape(), shape);
        // ReLU only selects values: the result is exact.
        let exact = Tol { abs: 0.0, rel: 0.0 };
        assert_close(
            &format!("relu forward {shape:?}"),
            &read(&y),
            &relu_ref(&x),
            exact,
        );
        let dx = relu.backward(&upload(&gpu, &g, shape)).unwrap();
        assert_close(
            &format!("relu backward {shape:?}"),
            &read(&dx),
            &relu_backward_ref(&x, &g),
            exact,
        );
    }
}

#[test]
fn relu_of_special_values() {
    let gpu = gpu();
    let x = [
        0.0,
        -0.0,
        f32::INFINITY,
        f32::NEG_INFINITY,
        1e-40,
        -1e-40,
        3.5,
    ];
    let t = wgpu_backprop::Tensor::from_slice(&gpu, &x, &[7]).unwrap();
    let mut relu = ReLU::new();
    let y = read(&relu.forward(&t).unwrap());
    assert_eq!(&y[..4], &[0.0, 0.0, f32::INFINITY, 0.0]);
    assert!(
        y[4] == 0.0 || y[4] == 1e-40,
        "denormal input may flush to zero, got {}",
        y[4]
    );
    assert_eq!(&y[5..], &[0.0, 3.5]);
    let ones = wgpu_backprop::Tensor::from_slice(&gpu, &[1.0; 7], &[7]).unwrap();
    let dx = read(&relu.backward(&ones).unwrap());
    assert_eq!(&dx[..4], &[0.0, 0.0, 1.0, 0.0]);
    assert_eq!(&dx[5..], &[0.0, 1.0]);
}
