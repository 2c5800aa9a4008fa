//! `Indices`: u32 values on the GPU (class labels, token ids), stored bit for bit in a tensor's
//! buffer, with the largest value kept on the host so ops can check them against a size
//! without reading the GPU.

use crate::error::Result;
use crate::gpu::Gpu;
use crate::tensor::Tensor;

/// Integer indices on the GPU: one class label per row of a batch (for
/// [`crate::loss::SoftmaxCrossEntropy`]), or token ids for [`crate::ops::embedding`].
#[derive(Debug, Clone)]
pub struct Indices {
    /// The u32 values, stored bit for bit in a tensor's buffer.
    bits: Tensor,
    max: u32,
}

impl Indices {
    /// Uploads `values` (at least one).
    pub fn new(gpu: &Gpu, values: &[u32]) -> Result<Indices> {
        let bits = Tensor::from_slice(gpu, bytemuck::cast_slice(values), &[values.len()])?;
        Ok(Indices {
            bits,
            max: values.iter().copied().max().unwrap_or(0),
        })
    }

    /// How many values.
    pub fn len(&self) -> usize {
        self.bits.len()
    }

    /// Always false: indices hold at least one value.
    pub fn is_empty(&self) -> bool {
        self.bits.is_empty()
    }

    /// The largest value.
    pub fn max(&self) -> u32 {
        self.max
    }

    /// The buffer's holder (its f32 view is meaningless: kernels read it as u32).
    pub(crate) fn bits(&self) -> &Tensor {
        &self.bits
    }
}
