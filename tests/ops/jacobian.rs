//! The explicit-Jacobian backward path equals the fused backward for all three layers, and the
//! Jacobian matrices themselves match their definitions.

use crate::common::*;
use wgpu_backprop::neurons::Linear;
use wgpu_backprop::nodes::{ReLU, SoftMax};
use wgpu_backprop::ops::MAX_JACOBIAN_ELEMENTS;
use wgpu_backprop::rng::Rng;
use wgpu_backprop::{Error, Gpu, Layer, Tensor};

/// The two paths sum the same terms in different orders: equal up to f32 rounding of sums of
/// at most a few hundred terms of size ≤ 1.
const PATHS_TOL: Tol = Tol {
    abs: 1e-5,
    rel: 1e-5,
};

fn agree(what: &str, a: &Tensor, b: &Tensor) {
    assert_eq!(a.shape(), b.shape(), "{what}: shapes");
    let b64: Vec<f64> = read(b).iter().map(|&v| f64::from(v)).collect();
    assert_close(what, &read(a), &b64, PATHS_TOL);
}

fn both_paths(
    gpu: &Gpu,
    layer: &mut dyn Layer,
    shape: &[usize],
    out_shape: &[usize],
    rng: &mut Rng,
) {
    let n: usize = shape.iter().product();
    let x = upload(gpu, &rand_vec(rng, n, -2.0, 2.0), shape);
    let dy_n: usize = out_shape.iter().product();
    let dy = upload(gpu, &rand_vec(rng, dy_n, -1.0, 1.0), out_shape);
    layer.forward(&x).unwrap();
    let fused = layer.backward(&dy).unwrap();
    let via_j = layer.backward_jacobian(&dy).unwrap();
    agree(&format!("{} {shape:?} dX", layer.name()), &via_j, &fused);
    let j = layer.jacobian().unwrap();
    assert_eq!(j.shape(), &[dy_n, n], "{} Jacobian shape", layer.name());
}

#[test]
fn softmax_and_relu_paths_agree() {
    let gpu = gpu();
    let mut rng = Rng::new(30);
    for shape in [
        vec![1],
        vec![5],
        vec![67],
        vec![2, 5],
        vec![7, 13],
        vec![3, 65],
    ] {
        both_paths(&gpu, &mut SoftMax::new(), &shape, &shape, &mut rng);
        both_paths(&gpu, &mut ReLU::new(), &shape, &shape, &mut rng);
    }
}

#[test]
fn linear_paths_agree_for_dx_dw_db() {
    let gpu = gpu();
    let mut rng = Rng::new(31);
    for (batch, k, n, vector) in [
        (1, 3, 5, true),
        (3, 2, 5, false),
        (4, 7, 3, false),
        (5, 17, 13, false),
    ] {
        let mut lin = Linear::with_seed(&gpu, k, n, 7).unwrap();
        let (xs, ys) = if vector {
            (vec![k], vec![n])
        } else {
            (vec![batch, k], vec![batch, n])
        };
        both_paths(&gpu, &mut lin, &xs, &ys, &mut rng);
        let (gw, gb) = (
            lin.weight_grad().unwrap().clone(),
            lin.bias_grad().unwrap().clone(),
        );
        // backward_jacobian ran last: recompute the fused gradients and compare.
        let dy = upload(&gpu, &rand_vec(&mut rng, batch * n, -1.0, 1.0), &ys);
        lin.backward_jacobian(&dy).unwrap();
        let (jw, jb) = (
            lin.weight_grad().unwrap().clone(),
            lin.bias_grad().unwrap().clone(),
        );
        lin.backward(&dy).unwrap();
        agree("Linear dW", &jw, lin.weight_grad().unwrap());
        agree("Linear db", &jb, lin.bias_grad().unwrap());
        assert_eq!((gw.shape(), gb.shape()), (&[k, n][..], &[n][..]));
        let jx = lin.jacobian().unwrap();
        assert_eq!(jx.shape(), &[batch * n, batch * k]);
        assert_eq!(lin.weight_jacobian().unwrap().shape(), &[batch * n, k * n]);
    }
}

#[test]
fn softmax_jacobian_is_diag_y_minus_yyt_per_row() {
    let gpu = gpu();
    let x = [0.5, -1.0, 2.0, 0.0, 1.0, 3.0];
    let mut sm = SoftMax::new();
    let y = read(&sm.forward(&upload(&gpu, &x, &[2, 3])).unwrap());
    let j = read(&sm.jacobian().unwrap());
    let mut want = vec![0.0f64; 36];
    for p in 0..6 {
        for q in 0..6 {
            if p / 3 == q / 3 {
                let (yp, yq) = (f64::from(y[p]), f64::from(y[q]));
                want[p * 6 + q] = if p == q { yp * (1.0 - yp) } else { -yp * yq };
            }
        }
    }
    assert_close(
        "softmax Jacobian",
        &j,
        &want,
        Tol {
            abs: 1e-7,
            rel: 1e-6,
        },
    );
}

#[test]
fn relu_and_linear_jacobians_match_definitions() {
    let gpu = gpu();
    let mut relu = ReLU::new();
    relu.forward(&upload(&gpu, &[1.0, 0.0, -2.0], &[3]))
        .unwrap();
    assert_eq!(
        read(&relu.jacobian().unwrap()),
        vec![1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    );

    // W (2, 3), X (2, 2): ∂Y_ij/∂X_kl = δ_ik W_lj and ∂Y_ij/∂W_kl = X_ik δ_jl.
    let w = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
    let x = [7.0, 8.0, 9.0, 10.0];
    let mut lin =
        Linear::from_parameters(upload(&gpu, &w, &[2, 3]), upload(&gpu, &[0.0; 3], &[3])).unwrap();
    lin.forward(&upload(&gpu, &x, &[2, 2])).unwrap();
    let (jx, jw) = (
        read(&lin.jacobian().unwrap()),
        read(&lin.weight_jacobian().unwrap()),
    );
    for (i, j, k, l) in itertools(2, 3, 2, 2) {
        let want = if i == k { w[l * 3 + j] } else { 0.0 };
        assert_eq!(
            f64::from(jx[(i * 3 + j) * 4 + k * 2 + l]),
            want,
            "dY{i}{j}/dX{k}{l}"
        );
    }
    for (i, j, k, l) in itertools(2, 3, 2, 3) {
        let want = if j == l { x[i * 2 + k] } else { 0.0 };
        assert_eq!(
            f64::from(jw[(i * 3 + j) * 6 + k * 3 + l]),
            want,
            "dY{i}{j}/dW{k}{l}"
        );
    }
}

fn itertools(a: usize, b: usize, c: usize, d: usize) -> Vec<(usize, usize, usize, usize)> {
    let mut v = Vec::new();
    for i in 0..a {
        for j in 0..b {
            for k in 0..c {
                for l in 0..d {
                    v.push((i, j, k, l));
                }
            }
        }
    }
    v
}

#[test]
fn too_large_jacobian_is_an_error_not_an_allocation_failure() {
    let gpu = gpu();
    let n = 1 << 14; // n² = 2^28 > 2^26
    let mut relu = ReLU::new();
    relu.forward(&Tensor::zeros(&gpu, &[n]).unwrap()).unwrap();
    match relu.jacobian() {
        Err(Error::TooLarge {
            requested, limit, ..
        }) => {
            assert_eq!(
                (requested, limit),
                ((n * n) as u64, MAX_JACOBIAN_ELEMENTS as u64)
            );
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
    let dy = Tensor::zeros(&gpu, &[n]).unwrap();
    assert!(matches!(
        relu.backward_jacobian(&dy),
        Err(Error::TooLarge { .. })
    ));
}
