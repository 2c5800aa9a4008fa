//! Shared test helpers: the one `Gpu` of a test binary, the tolerance check that names the worst
//! element, seeded random data, and ndarray adapters of the library's f64 references.
#![allow(dead_code)]

use std::sync::OnceLock;

use ndarray::Array2;
use wgpu_backprop::reference;
use wgpu_backprop::rng::Rng;
use wgpu_backprop::{Gpu, Tensor};

/// The GPU shared by all tests of one binary. With no adapter the test fails, saying how to
/// install one — it never skips.
pub fn gpu() -> Gpu {
    static GPU: OnceLock<Result<Gpu, String>> = OnceLock::new();
    match GPU.get_or_init(|| Gpu::new().map_err(|e| e.to_string())) {
        Ok(gpu) => gpu.clone(),
        Err(e) => panic!("these tests need a GPU adapter: {e}"),
    }
}

/// A device of our own on the adapter the tests use (as a renderer would own one), with the
/// limits `limits` makes of the adapter's: for `Gpu::from_device`.
pub fn own_device(
    limits: impl FnOnce(wgpu::Limits) -> wgpu::Limits,
) -> (wgpu::AdapterInfo, wgpu::Device, wgpu::Queue) {
    pollster::block_on(async {
        let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
        desc.backends = wgpu::Backends::from_env().unwrap_or(wgpu::Backends::PRIMARY);
        let instance = wgpu::Instance::new(desc);
        let adapter = instance
            .request_adapter(&wgpu::RequestAdapterOptions::default())
            .await
            .unwrap_or_else(|e| panic!("these tests need a GPU adapter: {e}"));
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                required_limits: limits(adapter.limits()),
                ..Default::default()
            })
            .await
            .expect("a device on the test adapter");
        (adapter.get_info(), device, queue)
    })
}

/// A `Gpu` of its own on the test adapter, with the adapter's limits: for tests whose
/// settings, errors or memory counts must not touch the shared one.
pub fn own_gpu() -> Gpu {
    let (info, device, queue) = own_device(|limits| limits);
    Gpu::from_device(info, device, queue)
}

/// Tolerance: |got − expected| ≤ abs + rel·scale, where scale is |expected| unless given.
#[derive(Clone, Copy, Debug)]
pub struct Tol {
    pub abs: f64,
    pub rel: f64,
}

/// Tight enough to catch any indexing or reduction bug, loose enough for f32 rounding.
pub const F32_TOL: Tol = Tol {
    abs: 1e-6,
    rel: 1e-5,
};

/// Asserts got ≈ expected elementwise; on failure names the worst element (index, got,
/// expected, error, allowed). NaN must meet NaN.
pub fn assert_close(what: &str, got: &[f32], expected: &[f64], tol: Tol) {
    let scale: Vec<f64> = expected.iter().map(|e| e.abs()).collect();
    assert_close_scaled(what, got, expected, &scale, tol);
}

/// Like [`assert_close`] with an explicit per-element scale (e.g. Σ|a||b| for a dot product,
/// the quantity that bounds its rounding error).
pub fn assert_close_scaled(what: &str, got: &[f32], expected: &[f64], scale: &[f64], tol: Tol) {
    assert_eq!(got.len(), expected.len(), "{what}: length differs");
    let mut worst: Option<(usize, f64, f64)> = None; // (index, error, allowed)
    for (i, (&g, &e)) in got.iter().zip(expected).enumerate() {
        let g = f64::from(g);
        // A NaN scale (where NaN is expected) allows nothing beyond `abs`: NaN must meet NaN.
        let allowed = tol.abs + tol.rel * if scale[i].is_nan() { 0.0 } else { scale[i] };
        let err = if e.is_nan() || g.is_nan() {
            if e.is_nan() && g.is_nan() {
                0.0
            } else {
                f64::INFINITY
            }
        } else if e.is_infinite() || g.is_infinite() {
            if e == g {
                0.0
            } else {
                f64::INFINITY
            }
        } else {
            (g - e).abs()
        };
        let ratio = if err == 0.0 {
            0.0
        } else if allowed > 0.0 {
            err / allowed
        } else {
            f64::INFINITY
        };
        if worst.is_none_or(|(_, we, wa)| ratio > we / wa) {
            worst = Some((i, err, allowed));
        }
    }
    if let Some((i, err, allowed)) = worst {
        assert!(
            err <= allowed,
            "{what}: worst element {i}: got {}, expected {}, |error| {err:e} > allowed {allowed:e} \
             ({} elements)",
            got[i],
            expected[i],
            got.len()
        );
    }
}

/// Uploads f64 data (rounded to f32) with a shape.
pub fn upload(gpu: &Gpu, data: &[f64], shape: &[usize]) -> Tensor {
    let v: Vec<f32> = data.iter().map(|&x| x as f32).collect();
    Tensor::from_slice(gpu, &v, shape).expect("upload")
}

/// `n` values uniform in [lo, hi), already rounded to f32 and widened back, so the reference
/// sees exactly what the GPU sees.
pub fn rand_vec(rng: &mut Rng, n: usize, lo: f32, hi: f32) -> Vec<f64> {
    (0..n).map(|_| f64::from(rng.uniform(lo, hi))).collect()
}

pub fn read(t: &Tensor) -> Vec<f32> {
    t.to_vec().expect("readback")
}

pub fn mat(data: &[f64], rows: usize, cols: usize) -> Array2<f64> {
    Array2::from_shape_vec((rows, cols), data.to_vec()).expect("shape")
}

pub fn flat(a: &Array2<f64>) -> Vec<f64> {
    a.iter().copied().collect()
}

// The f64 references are the library's (`wgpu_backprop::reference`, one module for the
// self-check, the demo and every test); these adapt them to ndarray.

/// Row-wise softmax in f64.
pub fn softmax_ref(x: &Array2<f64>) -> Array2<f64> {
    let y = reference::softmax(&flat(x), x.ncols());
    mat(&y, x.nrows(), x.ncols())
}

/// dx = y ⊙ (g − ⟨g, y⟩) per row, in f64.
pub fn softmax_backward_ref(y: &Array2<f64>, g: &Array2<f64>) -> Array2<f64> {
    let dx = reference::softmax_backward(&flat(y), &flat(g), y.ncols());
    mat(&dx, y.nrows(), y.ncols())
}

pub fn relu_ref(x: &[f64]) -> Vec<f64> {
    reference::relu(x)
}

pub fn relu_backward_ref(x: &[f64], g: &[f64]) -> Vec<f64> {
    reference::relu_backward(x, g)
}

/// A·B and the error scale |A|·|B| (bounds the rounding error of each dot product), through
/// ndarray's `dot`: the same maths as `reference::matmul` (a test holds them equal), but built
/// optimised in debug builds, where the property sweeps' thousands of products would take
/// minutes through the plain loop.
pub fn matmul_ref(a: &Array2<f64>, b: &Array2<f64>) -> (Array2<f64>, Array2<f64>) {
    (a.dot(b), a.mapv(f64::abs).dot(&b.mapv(f64::abs)))
}

/// Asserts a product C = A·B (A: m×k, B: k×n, row-major, values exact in f32) against f64,
/// each element within 1e-5 of Σ|a||b| — the quantity that bounds a dot product's rounding (a
/// tolerance relative to |c| fails wherever the terms cancel).
pub fn assert_matmul_close(what: &str, got: &[f32], a: &[f64], b: &[f64], mkn: [usize; 3]) {
    let [m, k, n] = mkn;
    let abs = |v: &[f64]| -> Vec<f64> { v.iter().map(|x| x.abs()).collect() };
    let want = reference::matmul(a, b, m, k, n);
    let scale = reference::matmul(&abs(a), &abs(b), m, k, n);
    let tol = Tol {
        abs: 1e-30,
        rel: 1e-5,
    };
    assert_close_scaled(what, got, &want, &scale, tol);
}
