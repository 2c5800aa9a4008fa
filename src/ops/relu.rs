//! ReLU forward and backward (`shaders/relu.wgsl`), element-wise on vec4s.

use crate::error::Result;
use crate::kernels::{Dispatch, Kernel, ReluParams, Uniform, RELU_BACKWARD, RELU_FORWARD};
use crate::ops::{expect_shape, same_gpu, u32_of};
use crate::tensor::Tensor;

/// y = max(x, 0) element-wise (NaN stays NaN).
pub fn relu_forward(x: &Tensor) -> Result<Tensor> {
    elementwise("relu_forward", &RELU_FORWARD, x, x)
}

/// dL/dx = g where x > 0, else 0 (so ReLU'(0) = 0), from the forward input `x` and `g` = dL/dy.
pub fn relu_backward(x: &Tensor, g: &Tensor) -> Result<Tensor> {
    const OP: &str = "relu_backward";
    same_gpu(OP, &[x, g])?;
    expect_shape(OP, g, x.shape())?;
    elementwise(OP, &RELU_BACKWARD, x, g)
}

fn elementwise(
    op: &'static str,
    kernel: &'static Kernel,
    x: &Tensor,
    g: &Tensor,
) -> Result<Tensor> {
    let gpu = x.gpu();
    let out = Tensor::empty(gpu, op, x.shape())?;
    let n4 = x.len().div_ceil(4);
    let grid = gpu.grid_1d(op, n4.div_ceil(256) as u64)?;
    gpu.launch(
        op,
        Dispatch {
            kernel,
            spec: 0,
            params: ReluParams {
                n4: u32_of(op, n4)?,
                ..Default::default()
            }
            .words(),
            buffers: &[x.buffer(), g.buffer(), out.buffer()],
            grid,
        },
    )?;
    Ok(out)
}
