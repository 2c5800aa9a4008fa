//! The fused Linear + ReLU: the matmul's ReLU epilogue gives the ReLU kernel's bits (NaN kept,
//! −0 and negatives to +0), on every kernel and through split-K; a `Sequential` that fuses
//! gives the same outputs, input gradients and parameter gradients, bit for bit, as one that
//! does not.

use crate::common::*;
use wgpu_backprop::model::Sequential;
use wgpu_backprop::neurons::Linear;
use wgpu_backprop::nodes::ReLU;
use wgpu_backprop::ops::{self, gemm_relu_with, gemm_with, MatmulKernel, Transpose};
use wgpu_backprop::rng::Rng;
use wgpu_backprop::{Layer, Tensor};

fn bits(t: &Tensor) -> Vec<u32> {
    read(t).iter().map(|v| v.to_bits()).collect()
}

/// Columns 0..9 of the product are exactly +0 (B's columns are zero), so the bias alone
/// decides them: 1, −1, +0, −0, NaN, ±∞, ±1e30.
#[test]
fn relu_epilogue_matches_the_relu_kernel_bit_for_bit() {
    let gpu = gpu();
    let mut rng = Rng::new(11);
    let special = [
        1.0,
        -1.0,
        0.0,
        -0.0,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        1e30,
        -1e30,
    ];
    for (m, k, n) in [(33, 20, 37), (128, 8, 128), (5, 4100, 12)] {
        let a = upload(&gpu, &rand_vec(&mut rng, m * k, -1.0, 1.0), &[m, k]);
        let mut bv = rand_vec(&mut rng, k * n, -1.0, 1.0);
        for row in bv.chunks_mut(n) {
            row[..special.len()].fill(0.0);
        }
        let b = upload(&gpu, &bv, &[k, n]);
        let mut bias_v = rand_vec(&mut rng, n, -0.5, 0.5);
        bias_v[..special.len()].copy_from_slice(&special);
        let bias = upload(&gpu, &bias_v, &[n]);
        let no = Transpose::No;
        for kernel in MatmulKernel::FORCED {
            let fused = gemm_relu_with(kernel, (&a, no), (&b, no), Some(&bias)).unwrap();
            let plain = gemm_with(kernel, (&a, no), (&b, no), Some(&bias)).unwrap();
            let unfused = ops::relu_forward(&plain).unwrap();
            let (f, u) = (bits(&fused), bits(&unfused));
            let worst = f.iter().zip(&u).position(|(x, y)| x != y);
            assert!(
                worst.is_none(),
                "{kernel:?} {m}x{k}x{n}: fused and unfused ReLU differ first at {:?}: {:?}",
                worst,
                worst.map(|i| (f32::from_bits(f[i]), f32::from_bits(u[i])))
            );
            // The special columns of the first row: ReLU of the bias itself.
            let first = read(&fused);
            for (j, &s) in special.iter().enumerate() {
                let want = if s > 0.0 || s.is_nan() { s as f32 } else { 0.0 };
                let ok = first[j].to_bits() == want.to_bits() || (s.is_nan() && first[j].is_nan());
                assert!(ok, "{kernel:?}: ReLU({s}) gave {}", first[j]);
            }
        }
    }
}

/// A model of Linear, ReLU, Linear, ReLU, Linear with unaligned sizes.
fn model(kernel: MatmulKernel, fuse: bool) -> Sequential {
    let gpu = gpu();
    let mut layers = Vec::new();
    for (i, (inp, out)) in [(37, 50), (50, 23), (23, 10)].into_iter().enumerate() {
        let mut lin = Linear::with_seed(&gpu, inp, out, 40 + i as u64).unwrap();
        lin.set_kernel(kernel);
        layers.push(lin);
    }
    let mut layers = layers.into_iter();
    let mut m = Sequential::new();
    m.push(Box::new(layers.next().unwrap()));
    m.push(Box::new(ReLU::new()));
    m.push(Box::new(layers.next().unwrap()));
    m.push(Box::new(ReLU::new()));
    m.push(Box::new(layers.next().unwrap()));
    m.set_fusion(fuse);
    m
}

#[test]
fn fused_sequential_is_bit_identical_to_unfused() {
    let gpu = gpu();
    let mut rng = Rng::new(12);
    let x = upload(&gpu, &rand_vec(&mut rng, 33 * 37, -2.0, 2.0), &[33, 37]);
    let dy = upload(&gpu, &rand_vec(&mut rng, 33 * 10, -1.0, 1.0), &[33, 10]);
    for kernel in [
        MatmulKernel::Auto,
        MatmulKernel::Blocked64,
        MatmulKernel::Blocked128,
        MatmulKernel::SplitK,
        MatmulKernel::Tiled,
    ] {
        let (mut fused, mut plain) = (model(kernel, true), model(kernel, false));
        let (yf, yp) = (fused.forward(&x).unwrap(), plain.forward(&x).unwrap());
        assert_eq!(bits(&yf), bits(&yp), "{kernel:?}: forward");
        let (gf, gp) = (fused.backward(&dy).unwrap(), plain.backward(&dy).unwrap());
        assert_eq!(bits(&gf), bits(&gp), "{kernel:?}: dL/dx");
        for (pf, pp) in fused.parameters().iter().zip(plain.parameters()) {
            let (a, b) = (pf.grad.unwrap(), pp.grad.unwrap());
            assert_eq!(bits(a), bits(b), "{kernel:?}: gradient of {}", pf.name);
        }
        let jf = fused.backward_jacobian(&dy).unwrap();
        let jp = plain.backward_jacobian(&dy).unwrap();
        assert_eq!(
            bits(&jf),
            bits(&jp),
            "{kernel:?}: dL/dx through the Jacobians"
        );
    }
}
