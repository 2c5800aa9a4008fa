//! Losses that give the loss and its gradient in one pass (`shaders/loss.wgsl`), both staying
//! on the GPU: `SoftmaxCrossEntropy` for class labels and `MeanSquaredError` for targets.

use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::kernels::{
    Dispatch, Kernel, LossParams, Uniform, CROSS_ENTROPY, CROSS_ENTROPY_ROWS, MSE,
};
use crate::ops::{expect_shape, same_gpu, sum_all, u32_of};
use crate::ops::{per_invocation, RowKernel};
use crate::tensor::Tensor;

/// Integer class labels on the GPU, one per row of a batch.
#[derive(Debug, Clone)]
pub struct Labels {
    /// The u32 labels, stored bit for bit in a tensor's buffer.
    bits: Tensor,
    max: u32,
}

impl Labels {
    /// Uploads `labels` (class indices).
    pub fn new(gpu: &Gpu, labels: &[u32]) -> Result<Labels> {
        let bits = Tensor::from_slice(gpu, bytemuck::cast_slice(labels), &[labels.len()])?;
        Ok(Labels {
            bits,
            max: labels.iter().copied().max().unwrap_or(0),
        })
    }

    /// How many labels (rows).
    pub fn len(&self) -> usize {
        self.bits.len()
    }

    /// Always false: labels hold at least one entry.
    pub fn is_empty(&self) -> bool {
        self.bits.is_empty()
    }
}

/// Softmax followed by the negative log-likelihood, fused and numerically stable:
/// `loss = mean_i [logsumexp(z_i) − z_i[label_i]]`, `dL/dz = (softmax(z) − onehot) / B`.
#[derive(Debug, Default, Clone, Copy)]
pub struct SoftmaxCrossEntropy;

impl SoftmaxCrossEntropy {
    /// The loss (it has no state).
    pub fn new() -> Self {
        SoftmaxCrossEntropy
    }

    /// logits: (B, C), labels: `[B]` with values < C → (mean loss `[1]`, dL/dlogits (B, C)).
    pub fn forward_backward(&self, logits: &Tensor, labels: &Labels) -> Result<(Tensor, Tensor)> {
        const OP: &str = "SoftmaxCrossEntropy";
        same_gpu(OP, &[logits, &labels.bits])?;
        let (rows, classes) = match logits.shape() {
            [r, c] => (*r, *c),
            s => {
                return Err(Error::ShapeMismatch {
                    op: OP,
                    expected: "logits [batch, classes]".into(),
                    got: s.to_vec(),
                })
            }
        };
        expect_shape(OP, &labels.bits, &[rows])?;
        if labels.max as usize >= classes {
            return Err(Error::InvalidArgument {
                op: OP,
                message: format!("label {} is not below the {classes} classes", labels.max),
            });
        }
        let gpu = logits.gpu();
        // One invocation per row where the softmax kernels would do so (CPU devices, few classes).
        let (kernel, groups) = if per_invocation(gpu, RowKernel::Auto, classes) {
            (&CROSS_ENTROPY_ROWS, rows.div_ceil(16))
        } else {
            (&CROSS_ENTROPY, rows)
        };
        let grid = gpu.grid_1d(OP, groups as u64)?;
        let terms = Tensor::empty(gpu, OP, &[rows])?;
        loss_pass(
            OP,
            kernel,
            [logits, &labels.bits],
            &terms,
            [rows, classes, rows],
            grid,
        )
    }
}

/// mean((y − t)²) over all elements, with dL/dy = 2 (y − t) / N.
#[derive(Debug, Default, Clone, Copy)]
pub struct MeanSquaredError;

impl MeanSquaredError {
    /// The loss (it has no state).
    pub fn new() -> Self {
        MeanSquaredError
    }

    /// y, target: same shape → (mean loss `[1]`, dL/dy shaped like y).
    pub fn forward_backward(&self, y: &Tensor, target: &Tensor) -> Result<(Tensor, Tensor)> {
        const OP: &str = "MeanSquaredError";
        same_gpu(OP, &[y, target])?;
        expect_shape(OP, target, y.shape())?;
        let n = y.len();
        let grid = y.gpu().grid_1d(OP, n.div_ceil(256) as u64)?;
        let terms = Tensor::empty(y.gpu(), OP, y.shape())?;
        loss_pass(OP, &MSE, [y, target], &terms, [1, n, n], grid)
    }
}

/// Runs a loss kernel (terms and gradient, each divided by `count`), then the mean as the sum
/// of the terms.
fn loss_pass(
    op: &'static str,
    kernel: &'static Kernel,
    [input, target]: [&Tensor; 2],
    terms: &Tensor,
    [rows, cols, count]: [usize; 3],
    grid: [u32; 3],
) -> Result<(Tensor, Tensor)> {
    let gpu = input.gpu();
    let grad = Tensor::empty(gpu, op, input.shape())?;
    let inv = 1.0f32 / count as f32;
    gpu.launch(
        op,
        Dispatch {
            kernel,
            spec: 0,
            params: LossParams {
                rows: u32_of(op, rows)?,
                cols: u32_of(op, cols)?,
                inv_count: inv,
                _pad: 0,
            }
            .words(),
            buffers: &[
                input.buffer(),
                target.buffer(),
                grad.buffer(),
                terms.buffer(),
            ],
            grid,
        },
    )?;
    Ok((sum_all(terms)?, grad))
}
