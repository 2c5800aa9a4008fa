//! ReLU forward and backward (`shaders/relu.wgsl`), element-wise on vec4s.

use crate::error::Result;
use crate::kernels::{kernels, uniform, Source, Work, PRELUDE};
use crate::ops::{expect_shape, same_gpu, u32_of};
use crate::tensor::Tensor;

static SOURCE: Source = Source::of("relu", &[PRELUDE, include_str!("../../shaders/relu.wgsl")]);

uniform! {
    /// `relu.wgsl`: `n4` vec4s.
    ReluParams { n4: u32, _pad0: u32, _pad1: u32, _pad2: u32 }
}

kernels! {
    /// y = ReLU(x), one vec4 per invocation: bindings x, g (unused), out.
    pub(crate) static RELU_FORWARD: ReluParams, () = SOURCE, "relu_forward", [R, R, RW], [256, 1, 1];
    /// dx = g where x > 0: bindings x, g, out.
    static RELU_BACKWARD: ReluParams, () = SOURCE, "relu_backward", [R, R, RW], [256, 1, 1];
}

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
    kernel: &'static crate::kernels::Decl<ReluParams, (), 3>,
    x: &Tensor,
    g: &Tensor,
) -> Result<Tensor> {
    let out = Tensor::empty(x.gpu(), op, x.shape())?;
    let n4 = x.len().div_ceil(4);
    let params = ReluParams {
        n4: u32_of(op, n4)?,
        ..Default::default()
    };
    let buffers = [x.buffer(), g.buffer(), out.buffer()];
    kernel.launch(x.gpu(), op, ((), params), buffers, Work::Items(n4))?;
    Ok(out)
}
