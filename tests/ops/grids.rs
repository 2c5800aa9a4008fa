//! Folded grids: a device opened with a tiny per-dimension workgroup limit makes every op fold
//! its grid (matmul rows over y and z, 1-D work over x and y) and overshoot its work; results
//! must not change. And a matmul with 5,000,000 rows, past 65,535 tiles of 64.

use crate::common::*;
use wgpu_backprop::ops::{self, MatmulKernel, Transpose};
use wgpu_backprop::reference as cpu;
use wgpu_backprop::rng::Rng;
use wgpu_backprop::{Gpu, Tensor};

/// A Gpu on the test adapter whose dispatches may have at most `max` workgroups per dimension.
fn gpu_with_max_groups(max: u32) -> Gpu {
    let (info, device, queue) = own_device(|limits| wgpu::Limits {
        max_compute_workgroups_per_dimension: max,
        ..limits
    });
    Gpu::from_device(info, device, queue)
}

#[test]
fn folded_and_overshooting_grids_give_the_same_results() {
    let gpu = gpu_with_max_groups(3);
    let mut rng = Rng::new(11);
    // 7 row tiles of 64 on the tiled kernel fold into 3 × 3 (2 spare); 2 tiles of 256 rows on
    // the register kernel into 2 × 1; the 1-D ops into x · y with spare groups.
    for (kernel, m, k, n) in [
        (MatmulKernel::Tiled, 64 * 6 + 5, 9, 70),
        (MatmulKernel::Register, 256 + 8, 8, 128),
    ] {
        let a = rand_vec(&mut rng, m * k, -1.0, 1.0);
        let b = rand_vec(&mut rng, k * n, -1.0, 1.0);
        let at = upload(&gpu, &a, &[m, k]);
        let bt = upload(&gpu, &b, &[k, n]);
        let c = ops::gemm_with(kernel, (&at, Transpose::No), (&bt, Transpose::No), None).unwrap();
        let what = format!("{kernel:?} {m}x{k}x{n}");
        assert_matmul_close(&what, &read(&c), &a, &b, [m, k, n]);
    }
    let rows = 16 * 7 + 3; // 8 groups of 16 rows: folded into 3 × 3, one spare
    let x = rand_vec(&mut rng, rows * 5, -3.0, 3.0);
    let xt = upload(&gpu, &x, &[rows, 5]);
    let y = ops::softmax_forward(&xt).unwrap();
    assert_close("softmax", &read(&y), &cpu::softmax(&x, 5), F32_TOL);
    let v = rand_vec(&mut rng, 5000, -3.0, 3.0); // 5 groups of 256 vec4s: 3 × 2, one spare
    let r = ops::relu_forward(&upload(&gpu, &v, &[5000])).unwrap();
    assert_close("relu", &read(&r), &cpu::relu(&v), F32_TOL);
    let s = ops::column_sum(&xt).unwrap();
    let sums: Vec<f64> = (0..5).map(|j| x.iter().skip(j).step_by(5).sum()).collect();
    assert_close("column sum", &read(&s), &sums, F32_TOL);
}

#[test]
fn a_matmul_of_five_million_rows() {
    let gpu = gpu();
    let m = 5_000_000; // 78,125 row tiles of 64: more than 65,535 in one dimension
    let a: Vec<f32> = (0..m).map(|i| (i % 1000) as f32).collect();
    let at = Tensor::from_slice(&gpu, &a, &[m, 1]).unwrap();
    let bt = Tensor::from_slice(&gpu, &[2.0], &[1, 1]).unwrap();
    let c = read(&ops::matmul(&at, &bt).unwrap());
    let wrong = (0..m).find(|&i| c[i] != 2.0 * a[i]);
    assert_eq!(wrong, None, "first wrong row");
}
