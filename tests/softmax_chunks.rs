//! The chunked softmax at the GPUs' chunk size (2,048 elements per workgroup), here where the
//! device would pick 16,384: chunk edges inside rows and quads straddling rows, forward and
//! backward, against f64. Its own binary: the chunk size is read from the environment when a
//! `Gpu` opens.

mod common;
use common::*;
use wgpu_backprop::ops::{softmax_backward_with, softmax_forward_with, RowKernel};
use wgpu_backprop::reference;
use wgpu_backprop::rng::Rng;

#[test]
fn chunked_softmax_at_the_gpu_chunk_size_matches_f64() {
    std::env::set_var("WGPU_BACKPROP_SOFTMAX_CHUNK", "2048");
    let gpu = own_gpu();
    let mut rng = Rng::new(71);
    for (rows, cols) in [(3, 2047), (2, 2049), (5, 6151), (1, 20_001), (7, 4)] {
        let x = rand_vec(&mut rng, rows * cols, -8.0, 8.0);
        let g = rand_vec(&mut rng, rows * cols, -1.0, 1.0);
        let y = softmax_forward_with(RowKernel::Chunked, &upload(&gpu, &x, &[rows, cols])).unwrap();
        let want = reference::softmax(&x, cols);
        let tol = Tol {
            abs: 1e-12,
            rel: 1e-5,
        };
        assert_close(&format!("forward {rows}x{cols}"), &read(&y), &want, tol);
        let y32 = upload(&gpu, &want, &[rows, cols]);
        let dx = softmax_backward_with(RowKernel::Chunked, &y32, &upload(&gpu, &g, &[rows, cols]));
        let want_dx = reference::softmax_backward(&want, &g, cols);
        // Relative to y·(|g| + Σ|g·y|), the size of the backward's terms (as tests/softmax_relu).
        let mut scale = Vec::with_capacity(want.len());
        for (yr, gr) in want.chunks(cols).zip(g.chunks(cols)) {
            let dot: f64 = yr.iter().zip(gr).map(|(a, b)| (a * b).abs()).sum();
            scale.extend(yr.iter().zip(gr).map(|(yv, gv)| yv * (gv.abs() + dot)));
        }
        let tol = Tol {
            abs: 1e-12,
            rel: 3e-5,
        };
        let what = format!("backward {rows}x{cols}");
        assert_close_scaled(&what, &read(&dx.unwrap()), &want_dx, &scale, tol);
    }
    std::env::remove_var("WGPU_BACKPROP_SOFTMAX_CHUNK");
}
