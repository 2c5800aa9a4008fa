//! SoftMax forward and fused backward (`shaders/softmax.wgsl`), row by row.

use crate::error::Result;
use crate::kernels::{params, Dispatch, Kernel, SOFTMAX_BACKWARD, SOFTMAX_FORWARD};
use crate::ops::{expect_shape, same_gpu, u32_of};
use crate::tensor::Tensor;

/// y = softmax(x) along the last axis: each row of a matrix, or the whole vector.
pub fn softmax_forward(x: &Tensor) -> Result<Tensor> {
    rowwise("softmax_forward", &SOFTMAX_FORWARD, x, x)
}

/// dL/dx = y ⊙ (g − ⟨g, y⟩) per row, from the forward output `y` and `g` = dL/dy.
pub fn softmax_backward(y: &Tensor, g: &Tensor) -> Result<Tensor> {
    const OP: &str = "softmax_backward";
    same_gpu(OP, &[y, g])?;
    expect_shape(OP, g, y.shape())?;
    rowwise(OP, &SOFTMAX_BACKWARD, y, g)
}

fn rowwise(op: &'static str, kernel: &'static Kernel, x: &Tensor, g: &Tensor) -> Result<Tensor> {
    let (rows, cols) = x.rows_cols();
    let gpu = x.gpu();
    let out = Tensor::empty(gpu, op, x.shape())?;
    let grid = gpu.grid_1d(op, rows as u64)?;
    gpu.launch(
        op,
        Dispatch {
            kernel,
            spec: 0,
            params: params(&[u32_of(rows), u32_of(cols)]),
            buffers: &[x.buffer(), g.buffer(), out.buffer()],
            grid,
        },
    )?;
    Ok(out)
}
