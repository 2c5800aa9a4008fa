//! burn's wgpu backend on the ResNet-like 3×3 layer of `wgpu-backprop bench` (32 images of 64
//! channels, 56×56, to 64 channels, padding 1): forward, and forward + backward with a given
//! dL/dy, each the median of `RUNS` timed runs after a warm-up, the wall clock around the
//! work and a readback that waits for it. Prints one line per case, as `bench` does.
//!
//! `burn-conv [IMAGES [RUNS]]`: another batch size (default 32) or number of timed runs
//! (default 5), for devices on which the whole layer takes too long (burn's forward + backward
//! on llvmpipe). `wgpu-backprop bench` runs 32 images; compare like with like.

use std::time::Instant;

use burn::backend::wgpu::WgpuDevice;
use burn::backend::{Autodiff, Wgpu};
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Distribution, Tensor};

type B = Autodiff<Wgpu>;

/// The positional argument `index` as a number, else `default`.
fn arg(index: usize, default: usize) -> usize {
    std::env::args()
        .nth(index)
        .map(|a| a.parse().expect("IMAGES and RUNS are whole numbers"))
        .unwrap_or(default)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let device = WgpuDevice::default();
    let (n, runs) = (arg(1, 32), arg(2, 5).max(1));
    let (c, hw, out): (usize, usize, usize) = (64, 56, 64);
    let x: Tensor<B, 4> = Tensor::random([n, c, hw, hw], Distribution::Uniform(-1.0, 1.0), &device);
    let w: Tensor<B, 4> =
        Tensor::random([out, c, 3, 3], Distribution::Uniform(-0.05, 0.05), &device).require_grad();
    let b: Tensor<B, 1> =
        Tensor::random([out], Distribution::Uniform(-0.1, 0.1), &device).require_grad();
    let dy: Tensor<B, 4> =
        Tensor::random([n, out, hw, hw], Distribution::Uniform(-1.0, 1.0), &device);
    let options = || ConvOptions::new([1, 1], [1, 1], [1, 1], 1);
    // In f64: the product passes i32 (the figure printed by the first run was negative).
    let pass = 2.0
        * [n, hw, hw, out, c, 9]
            .iter()
            .map(|&d| d as f64)
            .product::<f64>();
    for backward in [false, true] {
        let mut times = Vec::new();
        for run in 0..=runs {
            let x = if backward {
                x.clone().require_grad()
            } else {
                x.clone()
            };
            let start = Instant::now();
            let y = conv2d(x.clone(), w.clone(), Some(b.clone()), options());
            if backward {
                let grads = (y * dy.clone()).sum().backward();
                let dx = x.grad(&grads).expect("dx");
                let _ = dx.slice([0..1, 0..1, 0..1, 0..1]).into_data();
            } else {
                let _ = y.slice([0..1, 0..1, 0..1, 0..1]).into_data();
            }
            if run > 0 {
                times.push(start.elapsed().as_secs_f64());
            }
        }
        let s = median(times);
        let flops = if backward { 3.0 } else { 1.0 } * pass;
        println!(
            "burn wgpu {} {n}x{c}x{hw}x{hw}->{out} k3: {:.1} ms, {:.2} GFLOP/s",
            if backward {
                "conv2d_fwd_bwd"
            } else {
                "conv2d_fwd"
            },
            s * 1e3,
            flops / s * 1e-9
        );
    }
}
