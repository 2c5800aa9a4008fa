//! The functional layer: one launch function per kernel. Each checks its inputs (rank, shapes,
//! same `Gpu`), allocates the output and records one dispatch into the `Gpu`'s pending work.
//! Layers in `nodes` and `neurons` are built from these; users may call them directly.

mod jacobian;
mod matmul;
mod matmul_blocked;
mod matmul_plain;
mod matmul_texture;
mod reduce;
mod relu;
mod softmax;

pub use jacobian::{
    linear_bias_jacobian, linear_input_jacobian, linear_weight_jacobian, relu_jacobian,
    softmax_jacobian, vjp, MAX_JACOBIAN_ELEMENTS,
};
pub use matmul::{gemm, gemm_relu, gemm_relu_with, gemm_with, matmul, MatmulKernel, Transpose};
pub use reduce::{add_assign, column_sum, column_sum_with, sum_all, sum_all_with, SumKernel};
pub use relu::{relu_backward, relu_forward};
pub(crate) use softmax::per_invocation;
pub use softmax::{
    softmax_backward, softmax_backward_with, softmax_forward, softmax_forward_with, RowKernel,
};

use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// `Err` unless `got` has exactly the shape `expected`.
pub(crate) fn expect_shape(op: &'static str, got: &Tensor, expected: &[usize]) -> Result<()> {
    if got.shape() == expected {
        Ok(())
    } else {
        Err(Error::ShapeMismatch {
            op,
            expected: format!("{expected:?}"),
            got: got.shape().to_vec(),
        })
    }
}

/// `Err` unless every tensor lives on the same `Gpu` as the first.
pub(crate) fn same_gpu(op: &'static str, tensors: &[&Tensor]) -> Result<()> {
    if let Some((first, rest)) = tensors.split_first() {
        for t in rest {
            t.check_gpu(op, first.gpu())?;
        }
    }
    Ok(())
}

/// Converts a size that fits in `u32` (tensor sizes are checked on creation).
pub(crate) fn u32_of(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
