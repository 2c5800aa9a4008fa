//! Property tests: random shapes 1..=300 and values drawn from a mix of ordinary, huge, tiny
//! and zero, every op forward and backward, GPU against the f64 reference (256 cases per op).

use crate::common::*;
use ndarray::Axis;
use proptest::prelude::*;
use wgpu_backprop::neurons::Linear;
use wgpu_backprop::nodes::{ReLU, SoftMax};
use wgpu_backprop::ops::matmul;
use wgpu_backprop::rng::Rng;
use wgpu_backprop::Layer;

/// Relative to Σ|a||b|; the absolute part covers products of tiny values that underflow f32.
const DOT_TOL: Tol = Tol {
    abs: 1e-30,
    rel: 1e-5,
};

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        ..ProptestConfig::default()
    }
}

/// `n` values from a mix: mostly uniform in ±`spread`, some huge (±1e4…1e6), some tiny
/// (±1e-30…1e-20, still normal f32) and some exact zeros. Rounded to f32.
fn mixed(rng: &mut Rng, n: usize, spread: f32) -> Vec<f64> {
    (0..n)
        .map(|_| {
            let sign = if rng.below(2) == 0 { 1.0 } else { -1.0 };
            let v = match rng.below(20) {
                0 => sign * 10f32.powf(rng.uniform(4.0, 6.0)),
                1 => sign * 10f32.powf(rng.uniform(-30.0, -20.0)),
                2 => 0.0,
                _ => rng.uniform(-spread, spread),
            };
            f64::from(v)
        })
        .collect()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn matmul_matches(m in 1usize..=300, k in 1usize..=300, n in 1usize..=300, seed: u64) {
        let gpu = gpu();
        let mut rng = Rng::new(seed);
        let a = mat(&mixed(&mut rng, m * k, 3.0), m, k);
        let b = mat(&mixed(&mut rng, k * n, 3.0), k, n);
        let c = matmul(&upload(&gpu, &flat(&a), &[m, k]), &upload(&gpu, &flat(&b), &[k, n])).unwrap();
        let (want, scale) = matmul_ref(&a, &b);
        assert_close_scaled("matmul", &read(&c), &flat(&want), &flat(&scale), DOT_TOL);
    }

    #[test]
    fn softmax_matches(rows in 1usize..=300, cols in 1usize..=300, spread in 0.1f32..50.0, seed: u64) {
        let gpu = gpu();
        let mut rng = Rng::new(seed);
        let x = mat(&mixed(&mut rng, rows * cols, spread), rows, cols);
        let g = mat(&mixed(&mut rng, rows * cols, 1.0), rows, cols);
        let mut sm = SoftMax::new();
        let y = sm.forward(&upload(&gpu, &flat(&x), &[rows, cols])).unwrap();
        let want = softmax_ref(&x);
        assert_close("softmax", &read(&y), &flat(&want), Tol { abs: 1e-12, rel: 1e-5 });
        let dx = sm.backward(&upload(&gpu, &flat(&g), &[rows, cols])).unwrap();
        let dots = (&want * &g).mapv(f64::abs).sum_axis(Axis(1)).insert_axis(Axis(1));
        let scale = &want * &(g.mapv(f64::abs) + &dots);
        let want_dx = softmax_backward_ref(&want, &g);
        assert_close_scaled("softmax backward", &read(&dx), &flat(&want_dx), &flat(&scale), Tol { abs: 1e-12, rel: 3e-5 });
    }

    #[test]
    fn relu_matches(rows in 1usize..=300, cols in 1usize..=300, seed: u64) {
        let gpu = gpu();
        let mut rng = Rng::new(seed);
        let x = mixed(&mut rng, rows * cols, 5.0);
        let g = mixed(&mut rng, rows * cols, 1.0);
        let mut relu = ReLU::new();
        let exact = Tol { abs: 0.0, rel: 0.0 };
        assert_close("relu", &read(&relu.forward(&upload(&gpu, &x, &[rows, cols])).unwrap()), &relu_ref(&x), exact);
        let dx = relu.backward(&upload(&gpu, &g, &[rows, cols])).unwrap();
        assert_close("relu backward", &read(&dx), &relu_backward_ref(&x, &g), exact);
    }

    #[test]
    fn linear_matches(batch in 1usize..=300, k in 1usize..=300, n in 1usize..=300, seed: u64) {
        let gpu = gpu();
        let mut rng = Rng::new(seed);
        let mut lin = Linear::with_seed(&gpu, k, n, seed).unwrap();
        let w = mat(&read(lin.weight()).iter().map(|&v| f64::from(v)).collect::<Vec<_>>(), k, n);
        let b = ndarray::Array1::from(read(lin.bias()).iter().map(|&v| f64::from(v)).collect::<Vec<_>>());
        let x = mat(&mixed(&mut rng, batch * k, 1.0), batch, k);
        let dy = mat(&mixed(&mut rng, batch * n, 1.0), batch, n);
        let y = lin.forward(&upload(&gpu, &flat(&x), &[batch, k])).unwrap();
        let (xw, s) = matmul_ref(&x, &w);
        assert_close_scaled("linear Y", &read(&y), &flat(&(&xw + &b)), &flat(&(&s + &b.mapv(f64::abs))), DOT_TOL);
        let dx = lin.backward(&upload(&gpu, &flat(&dy), &[batch, n])).unwrap();
        let (want_dx, s) = matmul_ref(&dy, &w.t().to_owned());
        assert_close_scaled("linear dX", &read(&dx), &flat(&want_dx), &flat(&s), DOT_TOL);
        let (want_dw, s) = matmul_ref(&x.t().to_owned(), &dy);
        assert_close_scaled("linear dW", &read(lin.weight_grad().unwrap()), &flat(&want_dw), &flat(&s), DOT_TOL);
        let db = dy.sum_axis(Axis(0)).to_vec();
        let s = dy.mapv(f64::abs).sum_axis(Axis(0)).to_vec();
        assert_close_scaled("linear db", &read(lin.bias_grad().unwrap()), &db, &s, DOT_TOL);
    }
}
