//! ReLU forward and backward: the `relu` entry of the activation table (`activation.rs`,
//! `shaders/activations/relu.wgsl`), decided on the bits.

use crate::error::Result;
use crate::ops::activation::relu;
use crate::tensor::Tensor;

/// y = max(x, 0) element-wise (NaN stays NaN).
pub fn relu_forward(x: &Tensor) -> Result<Tensor> {
    relu().forward(x, None)
}

/// dL/dx = g where x > 0, else 0 (so ReLU'(0) = 0), from the forward input `x` and `g` = dL/dy.
pub fn relu_backward(x: &Tensor, g: &Tensor) -> Result<Tensor> {
    relu().backward(x, g, None)
}
