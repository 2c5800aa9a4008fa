//! LayerNorm against the f64 reference: rows of 1, primes, 256 ± 1 (the workgroup) and long;
//! constant rows (σ² = 0), huge offsets; forward, backward (dx, dγ, dβ); the Jacobian path;
//! gradcheck; rank 4 input; errors.

use crate::common::*;
use wgpu_backprop::neurons::LayerNorm;
use wgpu_backprop::reference;
use wgpu_backprop::rng::Rng;
use wgpu_backprop::{gradcheck, Error, Layer, Tensor};

const EPS: f64 = 1e-5;

/// A few f32 roundings of the terms that make y (see the scale below).
const TOL: Tol = Tol {
    abs: 1e-6,
    rel: 4e-6,
};

#[test]
fn layer_norm_matches_f64_on_rows_that_break_the_workgroup() {
    let gpu = gpu();
    let mut rng = Rng::new(101);
    for (rows, n) in [
        (1, 1),
        (3, 7),
        (5, 255),
        (2, 256),
        (4, 257),
        (2, 1000),
        (1, 4099),
    ] {
        let mut x = rand_vec(&mut rng, rows * n, -3.0, 3.0);
        // A row far from 0 (the two-pass variance keeps it exact), and a constant row.
        for v in &mut x[..n] {
            *v += 1000.0;
        }
        if rows > 2 {
            x[2 * n..3 * n].fill(0.75);
        }
        // The reference sees what the GPU sees: the inputs as f32.
        let x: Vec<f64> = x.iter().map(|&v| f64::from(v as f32)).collect();
        let gamma = rand_vec(&mut rng, n, 0.5, 1.5);
        let beta = rand_vec(&mut rng, n, -1.0, 1.0);
        let dy = rand_vec(&mut rng, rows * n, -1.0, 1.0);
        let mut norm =
            LayerNorm::from_parameters(upload(&gpu, &gamma, &[n]), upload(&gpu, &beta, &[n]))
                .unwrap();
        let y = norm.forward(&upload(&gpu, &x, &[rows, n])).unwrap();
        let what = format!("LayerNorm {rows}x{n}");
        let want = reference::layer_norm(&x, &gamma, &beta, EPS);
        // x − μ cancels: the error is relative to |x| + |μ| (a row near 1000 carries the f32
        // rounding of its mean), times γ/σ.
        let scale: Vec<f64> = x
            .chunks(n)
            .flat_map(|row| {
                let mean = row.iter().sum::<f64>() / n as f64;
                let var = row.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64;
                let r = 1.0 / (var + EPS).sqrt();
                let (gamma, beta) = (&gamma, &beta);
                row.iter()
                    .enumerate()
                    .map(move |(j, v)| gamma[j].abs() * r * (v.abs() + mean.abs()) + beta[j].abs())
            })
            .collect();
        assert_close_scaled(&format!("{what} y"), &read(&y), &want, &scale, TOL);
        let dx = norm.backward(&upload(&gpu, &dy, &[rows, n])).unwrap();
        let (wx, wg, wb) = reference::layer_norm_backward(&x, &gamma, &dy, EPS);
        // dx carries 1/σ (for the constant row 1/√ε ≈ 316) times terms that cancel; and the
        // offset row's x̂ the f32 rounding of its mean.
        let scale: Vec<f64> = wx.iter().map(|v| v.abs() + 1.0).collect();
        assert_close_scaled(
            &format!("{what} dx"),
            &read(&dx),
            &wx,
            &scale,
            Tol {
                abs: 0.0,
                rel: 2e-5,
            },
        );
        let params = norm.parameters();
        assert_close(
            &format!("{what} dγ"),
            &read(params[0].grad.unwrap()),
            &wg,
            Tol {
                abs: 1e-4,
                rel: 1e-4,
            },
        );
        assert_close(
            &format!("{what} dβ"),
            &read(params[1].grad.unwrap()),
            &wb,
            Tol {
                abs: 1e-5,
                rel: 1e-5,
            },
        );
    }
}

#[test]
fn layer_norm_takes_any_rank_and_its_jacobian_path_agrees() {
    let gpu = gpu();
    let mut rng = Rng::new(102);
    let mut norm = LayerNorm::new(&gpu, 5).unwrap();
    let x = upload(
        &gpu,
        &rand_vec(&mut rng, 2 * 3 * 4 * 5, -2.0, 2.0),
        &[2, 3, 4, 5],
    );
    let y = norm.forward(&x).unwrap();
    assert_eq!(y.shape(), &[2, 3, 4, 5]);
    let dy = upload(&gpu, &rand_vec(&mut rng, 120, -1.0, 1.0), &[2, 3, 4, 5]);
    let direct = read(&norm.backward(&dy).unwrap());
    let via_j = read(&norm.backward_jacobian(&dy).unwrap());
    let want: Vec<f64> = direct.iter().map(|&v| f64::from(v)).collect();
    assert_close(
        "LayerNorm Jacobian path",
        &via_j,
        &want,
        Tol {
            abs: 1e-5,
            rel: 1e-4,
        },
    );
    assert_eq!(norm.jacobian().unwrap().shape(), &[120, 120]);
    let worst = gradcheck(&mut LayerNorm::new(&gpu, 6).unwrap(), &[3, 6], 9).unwrap();
    assert!(worst < 2e-2, "LayerNorm gradcheck error {worst}");
}

#[test]
fn layer_norm_misuse_is_an_error() {
    let gpu = gpu();
    let mut norm = LayerNorm::new(&gpu, 4).unwrap();
    let e = norm
        .forward(&Tensor::zeros(&gpu, &[2, 5]).unwrap())
        .unwrap_err();
    assert!(
        e.to_string().contains("LayerNorm") && e.to_string().contains("[2, 5]"),
        "{e}"
    );
    assert!(matches!(
        norm.backward(&Tensor::zeros(&gpu, &[2, 4]).unwrap()),
        Err(Error::BackwardBeforeForward { .. })
    ));
    assert!(matches!(
        LayerNorm::new(&gpu, 0),
        Err(Error::ZeroSize { .. })
    ));
}
