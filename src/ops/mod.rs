//! The functional layer: one launch function per kernel. Each checks its inputs (rank, shapes,
//! same `Gpu`), allocates the output and records one dispatch into the `Gpu`'s pending work.
//! Layers in `nodes` and `neurons` are built from these; users may call them directly.

pub(crate) mod activation;
mod arith;
mod attention;
mod conv;
mod conv_gemm;
mod conv_shape;
mod dropout;
mod embedding;
mod jacobian;
mod layernorm;
mod matmul;
mod matmul_batched;
mod matmul_blocked;
mod matmul_choice;
pub use matmul_choice::gpu_rules;
mod matmul_family;
mod matmul_plain;
mod matmul_texture;
mod permute;
mod pool;
mod reduce;
mod relu;
mod rows_subgroup;
pub(crate) use rows_subgroup::{spec as rows_spec, work as subgroup_work, CROSS_ENTROPY_SG};
mod softmax;
mod softmax_chunked;

pub use activation::{ActivationKind, ACTIVATIONS};
pub use arith::{add, broadcast_to, mul, reduce_to, scale, sub};
pub use attention::{
    attention, attention_backward, attention_backward_lse, attention_backward_with, attention_with,
    attention_with_lse, AttentionKernel, MAX_ATTENTION_HEAD,
};
pub(crate) use conv::conv2d_gradients;
pub use conv::{
    conv2d, conv2d_backward, conv2d_backward_with, conv2d_input_jacobian, conv2d_with, ConvKernel,
    ConvShape, MAX_COLUMN_ELEMENTS,
};
pub(crate) use dropout::check_p as check_dropout_p;
pub use dropout::{dropout, dropout_jacobian};
pub use embedding::{embedding, embedding_backward};
pub use jacobian::{
    identity_jacobian, linear_bias_jacobian, linear_input_jacobian, linear_weight_jacobian,
    relu_jacobian, softmax_jacobian, vjp, MAX_JACOBIAN_ELEMENTS,
};
pub use layernorm::{
    layer_norm, layer_norm_backward, layer_norm_backward_with, layer_norm_jacobian,
    layer_norm_with, LAYER_NORM_EPS, LAYER_NORM_STATS,
};
pub use matmul::{gemm, gemm_relu, gemm_relu_with, gemm_with, matmul, MatmulKernel, Transpose};
pub use permute::{permute, transpose};
pub use pool::{pool2d, pool2d_backward, pool2d_jacobian, Pool, PoolShape};
pub use reduce::{add_assign, column_sum, column_sum_with, sum_all, sum_all_with, SumKernel};
pub use relu::{relu_backward, relu_forward};
pub(crate) use softmax::{per_invocation, per_subgroup};
pub use softmax::{
    softmax_backward, softmax_backward_with, softmax_forward, softmax_forward_with, RowKernel,
};

use crate::error::{Error, Result};
use crate::kernels::Kernel;
use crate::tensor::Tensor;

/// Every kernel the crate declares, module by module (each module's `kernels!` lists its
/// own): what the translation and layout checks, the Tint inventory and the tune file's
/// identity go over.
pub(crate) fn inventory() -> Vec<&'static Kernel> {
    [
        matmul_plain::KERNELS,
        arith::KERNELS,
        attention::KERNELS,
        embedding::KERNELS,
        permute::KERNELS,
        conv::KERNELS,
        dropout::KERNELS,
        layernorm::KERNELS,
        pool::KERNELS,
        matmul_blocked::KERNELS,
        matmul_texture::KERNELS,
        reduce::KERNELS,
        softmax::KERNELS,
        softmax_chunked::KERNELS,
        rows_subgroup::KERNELS,
        jacobian::KERNELS,
        crate::loss::KERNELS,
        conv_gemm::KERNELS,
        crate::optim::KERNELS,
        crate::graph::KERNELS,
        crate::bench::calibrate::KERNELS,
    ]
    .into_iter()
    .flatten()
    .copied()
    .chain(activation::kernels())
    .collect()
}

/// `Err(BadRank)` unless `t` is a vector or a matrix: the ops that work on rows.
pub(crate) fn expect_matrix(op: &'static str, t: &Tensor) -> Result<()> {
    if t.shape().len() > 2 {
        return Err(Error::BadRank {
            op,
            shape: t.shape().to_vec(),
        });
    }
    Ok(())
}

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

/// A size for a kernel's uniform, or `Err(TooLarge)` naming `op` where it does not fit in a
/// `u32` (tensors hold at most 2^31 elements, so only a product of sizes can get there; a
/// saturated value would silently index the wrong elements).
pub(crate) fn u32_of(op: &'static str, n: usize) -> Result<u32> {
    u32::try_from(n).map_err(|_| Error::TooLarge {
        op,
        what: "a size passed to a kernel",
        requested: n as u64,
        limit: u64::from(u32::MAX),
    })
}

#[cfg(test)]
mod tests {
    /// A size past u32 is an error naming the op; it used to saturate to u32::MAX, which a
    /// kernel would read as a real (wrong) size.
    #[test]
    fn sizes_past_u32_are_an_error_not_saturated() {
        assert_eq!(super::u32_of("op", 5).ok(), Some(5));
        assert_eq!(super::u32_of("op", u32::MAX as usize).ok(), Some(u32::MAX));
        let e = super::u32_of("softmax_forward", u32::MAX as usize + 1);
        assert!(
            matches!(
                e,
                Err(crate::Error::TooLarge {
                    op: "softmax_forward",
                    ..
                })
            ),
            "{e:?}"
        );
    }
}
