//! Linear forward and backward (dX, dW, db) against ndarray in f64, matrix and vector inputs,
//! on shapes that break the tiling.

use crate::common::*;
use ndarray::{Array1, Axis};
use wgpu_backprop::neurons::Linear;
use wgpu_backprop::rng::Rng;
use wgpu_backprop::{Gpu, Layer, Tensor};

const DOT_TOL: Tol = Tol {
    abs: 1e-30,
    rel: 1e-5,
};

/// Builds a seeded layer, runs forward and backward on x (batch, k) and checks every result.
fn check_linear(gpu: &Gpu, rng: &mut Rng, batch: usize, k: usize, n: usize, vector: bool) {
    let mut lin = Linear::with_seed(gpu, k, n, rng.next_u64()).unwrap();
    let w = mat(&to_f64(&read(lin.weight())), k, n);
    let b = Array1::from(to_f64(&read(lin.bias())));
    let x = mat(&rand_vec(rng, batch * k, -1.0, 1.0), batch, k);
    let dy = mat(&rand_vec(rng, batch * n, -1.0, 1.0), batch, n);
    let (xs, ys) = if vector {
        (vec![k], vec![n])
    } else {
        (vec![batch, k], vec![batch, n])
    };
    let what = format!("linear {batch}x{k}->{n} vector={vector}");

    let y = lin.forward(&upload(gpu, &flat(&x), &xs)).unwrap();
    assert_eq!(y.shape(), &ys[..], "{what}: output shape");
    let (xw, xw_scale) = matmul_ref(&x, &w);
    let want_y = &xw + &b;
    let y_scale = &xw_scale + &b.mapv(f64::abs);
    assert_close_scaled(
        &format!("{what} Y"),
        &read(&y),
        &flat(&want_y),
        &flat(&y_scale),
        DOT_TOL,
    );

    let dx = lin.backward(&upload(gpu, &flat(&dy), &ys)).unwrap();
    assert_eq!(dx.shape(), &xs[..], "{what}: dX shape");
    let (want_dx, dx_scale) = matmul_ref(&dy, &w.t().to_owned());
    assert_close_scaled(
        &format!("{what} dX"),
        &read(&dx),
        &flat(&want_dx),
        &flat(&dx_scale),
        DOT_TOL,
    );
    let (want_dw, dw_scale) = matmul_ref(&x.t().to_owned(), &dy);
    let gw = lin.weight_grad().expect("dW after backward");
    assert_eq!(gw.shape(), &[k, n]);
    assert_close_scaled(
        &format!("{what} dW"),
        &read(gw),
        &flat(&want_dw),
        &flat(&dw_scale),
        DOT_TOL,
    );
    let want_db = dy.sum_axis(Axis(0));
    let db_scale = dy.mapv(f64::abs).sum_axis(Axis(0));
    let gb = lin.bias_grad().expect("db after backward");
    assert_close_scaled(
        &format!("{what} db"),
        &read(gb),
        &want_db.to_vec(),
        &db_scale.to_vec(),
        DOT_TOL,
    );
}

fn to_f64(v: &[f32]) -> Vec<f64> {
    v.iter().map(|&x| f64::from(x)).collect()
}

#[test]
fn matrix_inputs_across_tile_edges() {
    let gpu = gpu();
    let mut rng = Rng::new(20);
    for (batch, k, n) in [
        (1, 1, 1),
        (3, 2, 5),
        (2, 3, 5),
        (17, 13, 11),
        (63, 65, 64),
        (65, 17, 129),
        (1000, 3, 2),
        (3, 1000, 7),
        (97, 89, 101),
    ] {
        check_linear(&gpu, &mut rng, batch, k, n, false);
    }
}

#[test]
fn vector_inputs_come_back_as_vectors() {
    let gpu = gpu();
    let mut rng = Rng::new(21);
    for (k, n) in [(1, 1), (3, 5), (64, 65), (257, 3)] {
        check_linear(&gpu, &mut rng, 1, k, n, true);
    }
}

#[test]
fn seeded_init_is_reproducible_and_bounded() {
    let gpu = gpu();
    let a = Linear::with_seed(&gpu, 30, 7, 42).unwrap();
    let b = Linear::with_seed(&gpu, 30, 7, 42).unwrap();
    let c = Linear::with_seed(&gpu, 30, 7, 43).unwrap();
    assert_eq!(read(a.weight()), read(b.weight()));
    assert_eq!(read(a.bias()), read(b.bias()));
    assert_ne!(read(a.weight()), read(c.weight()));
    let bound = 1.0 / 30f32.sqrt();
    assert!(
        read(a.weight()).iter().all(|v| v.abs() <= bound),
        "init outside ±1/sqrt(in)"
    );
    assert_eq!((a.in_features(), a.out_features()), (30, 7));
}

#[test]
fn from_parameters_uses_the_given_weights() {
    let gpu = gpu();
    let w = Tensor::from_slice(&gpu, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[3, 2]).unwrap();
    let b = Tensor::from_slice(&gpu, &[0.5, -0.5], &[2]).unwrap();
    let mut lin = Linear::from_parameters(w, b).unwrap();
    let x = Tensor::from_slice(&gpu, &[1.0, 1.0, 1.0], &[3]).unwrap();
    assert_eq!(read(&lin.forward(&x).unwrap()), vec![9.5, 11.5]);
}

#[test]
fn from_parts_takes_host_data_and_checks_it() {
    let gpu = gpu();
    let w = [
        1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0, 1.0, 2.0, 0.0, 0.0, 0.0, 0.0, 1.0,
    ];
    let b = [0.0, 0.0, 0.0, 0.0, 10.0];
    let mut lin = Linear::from_parts(&gpu, 3, 5, &w, &b).unwrap();
    let x = Tensor::from_slice(&gpu, &[1.0, 2.0, 3.0], &[3]).unwrap();
    // y_j = Σ_i x_i W[i, j] + b_j
    assert_eq!(
        read(&lin.forward(&x).unwrap()),
        vec![3.0, 0.0, 0.0, 3.0, 18.0]
    );
    let e = Linear::from_parts(&gpu, 3, 5, &w[..14], &b).unwrap_err();
    assert!(
        matches!(
            e,
            wgpu_backprop::Error::DataLength {
                len: 14,
                expected: 15,
                ..
            }
        ),
        "{e}"
    );
    assert!(Linear::from_parts(&gpu, 3, 5, &w, &b[..4]).is_err());
}

#[test]
fn set_parameters_replaces_weights_and_keeps_the_saved_input() {
    let gpu = gpu();
    let mut lin = Linear::from_parts(&gpu, 2, 1, &[1.0, 1.0], &[0.0]).unwrap();
    let x = Tensor::from_slice(&gpu, &[1.0, 2.0], &[2]).unwrap();
    assert_eq!(read(&lin.forward(&x).unwrap()), vec![3.0]);
    let w = Tensor::from_slice(&gpu, &[2.0, -1.0], &[2, 1]).unwrap();
    let b = Tensor::from_slice(&gpu, &[0.5], &[1]).unwrap();
    lin.set_parameters(w, b).unwrap();
    assert_eq!(read(lin.weight()), vec![2.0, -1.0]);
    // backward still has the forward's input: dX = dy·Wᵀ with the new W, dW = xᵀ·dy.
    let dy = Tensor::from_slice(&gpu, &[1.0], &[1]).unwrap();
    assert_eq!(read(&lin.backward(&dy).unwrap()), vec![2.0, -1.0]);
    assert_eq!(read(lin.weight_grad().unwrap()), vec![1.0, 2.0]);
    assert_eq!(read(&lin.forward(&x).unwrap()), vec![0.5]);
    // Other shapes are refused and nothing changes.
    let wrong = Tensor::from_slice(&gpu, &[1.0, 2.0, 3.0], &[3, 1]).unwrap();
    let b = Tensor::from_slice(&gpu, &[0.0], &[1]).unwrap();
    let e = lin.set_parameters(wrong, b).unwrap_err();
    assert!(e.to_string().contains("Linear::set_parameters"), "{e}");
    assert_eq!(read(lin.weight()), vec![2.0, -1.0]);
}
