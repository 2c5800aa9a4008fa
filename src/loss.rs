//! Losses that give the loss and its gradient in one pass (`shaders/loss.wgsl`), both staying
//! on the GPU: `SoftmaxCrossEntropy` for class labels and `MeanSquaredError` for targets.

use crate::error::{Error, Result};
use crate::kernels::{kernels, uniform, Decl, Source, Work, NONFINITE, PRELUDE, WORKGROUP_REDUCE};
use crate::ops::{expect_shape, same_gpu, sum_all, u32_of};
use crate::ops::{per_invocation, per_subgroup, RowKernel, CROSS_ENTROPY_SG};
use crate::tensor::Tensor;

static SOURCE: Source = Source::of(
    "loss",
    &[
        PRELUDE,
        WORKGROUP_REDUCE,
        NONFINITE,
        include_str!("../shaders/loss.wgsl"),
    ],
);

uniform! {
    /// `loss.wgsl`: (rows, cols) and 1 / count.
    LossParams { rows: u32, cols: u32, inv_count: f32, _pad: u32 }
}

/// A loss kernel: bindings input, target, grad, terms.
type Loss = Decl<LossParams, (), 4>;

kernels! {
    /// Cross-entropy terms and gradient, a workgroup per row.
    static CROSS_ENTROPY: LossParams, () = SOURCE, "cross_entropy", [R, R, RW, RW], [256, 1, 1];
    /// The same, one invocation per row (16 rows per workgroup).
    static CROSS_ENTROPY_ROWS: LossParams, () =
        SOURCE, "cross_entropy_rows", [R, R, RW, RW], [16, 1, 1];
    /// Squared-error terms and gradient, one element per invocation.
    static MSE: LossParams, () = SOURCE, "mse", [R, R, RW, RW], [256, 1, 1];
}

/// Integer class labels on the GPU, one per row of a batch.
pub type Labels = crate::indices::Indices;

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
    /// A row with a NaN or +inf logit, or of -inf only, makes the loss and that row's gradient
    /// NaN; a label whose logit is -inf makes the loss +inf.
    pub fn forward_backward(&self, logits: &Tensor, labels: &Labels) -> Result<(Tensor, Tensor)> {
        self.forward_backward_with(RowKernel::Auto, logits, labels)
    }

    /// [`forward_backward`](Self::forward_backward) on a chosen row kernel (`PerInvocation`: an
    /// invocation per row; `Subgroup`: a subgroup per row where the device has them; the others
    /// a workgroup per row), for tests and benchmarks.
    pub fn forward_backward_with(
        &self,
        kernel: RowKernel,
        logits: &Tensor,
        labels: &Labels,
    ) -> Result<(Tensor, Tensor)> {
        const OP: &str = "SoftmaxCrossEntropy";
        same_gpu(OP, &[logits, labels.bits()])?;
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
        expect_shape(OP, labels.bits(), &[rows])?;
        if labels.max() as usize >= classes {
            return Err(Error::InvalidArgument {
                op: OP,
                message: format!("label {} is not below the {classes} classes", labels.max()),
            });
        }
        let gpu = logits.gpu();
        // One invocation per row where the softmax kernels would do so (CPU devices, few classes).
        let terms = Tensor::empty(gpu, OP, &[rows])?;
        if per_subgroup(gpu, kernel, classes) {
            let params = loss_params(OP, [rows, classes, rows])?;
            let grad = Tensor::empty(gpu, OP, logits.shape())?;
            let buffers = [
                logits.buffer(),
                labels.bits().buffer(),
                grad.buffer(),
                terms.buffer(),
            ];
            let spec = crate::ops::rows_spec(classes);
            let work = crate::ops::subgroup_work(gpu, rows);
            CROSS_ENTROPY_SG.launch(gpu, OP, (spec, params), buffers, work)?;
            return Ok((sum_all(&terms)?, grad));
        }
        let (kernel, work) = if per_invocation(gpu, kernel, classes) {
            (&CROSS_ENTROPY_ROWS, Work::Items(rows))
        } else {
            (&CROSS_ENTROPY, Work::Groups(rows))
        };
        loss_pass(
            OP,
            kernel,
            [logits, labels.bits()],
            &terms,
            [rows, classes, rows],
            work,
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
        let terms = Tensor::empty(y.gpu(), OP, y.shape())?;
        loss_pass(OP, &MSE, [y, target], &terms, [1, n, n], Work::Items(n))
    }
}

/// Runs a loss kernel (terms and gradient, each divided by `count`), then the mean as the sum
/// of the terms.
/// The uniform of a loss over (rows, cols) with mean over `count`.
fn loss_params(op: &'static str, [rows, cols, count]: [usize; 3]) -> Result<LossParams> {
    Ok(LossParams {
        rows: u32_of(op, rows)?,
        cols: u32_of(op, cols)?,
        inv_count: 1.0f32 / count as f32,
        _pad: 0,
    })
}

fn loss_pass(
    op: &'static str,
    kernel: &'static Loss,
    [input, target]: [&Tensor; 2],
    terms: &Tensor,
    [rows, cols, count]: [usize; 3],
    work: Work,
) -> Result<(Tensor, Tensor)> {
    let gpu = input.gpu();
    let grad = Tensor::empty(gpu, op, input.shape())?;
    let params = loss_params(op, [rows, cols, count])?;
    let buffers = [
        input.buffer(),
        target.buffer(),
        grad.buffer(),
        terms.buffer(),
    ];
    kernel.launch(gpu, op, ((), params), buffers, work)?;
    Ok((sum_all(terms)?, grad))
}
