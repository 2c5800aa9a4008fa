//! SoftMax over long rows, in chunks (`shaders/softmax_chunked.wgsl`): each row cut into chunks
//! of `Profile::softmax_chunk` elements, a workgroup each, in three passes each way — partials
//! per chunk, combined per row, written one vec4 per invocation — so the work spreads over many
//! workgroups and no invocation's loop runs long.

use crate::error::Result;
use crate::kernels::{kernels, uniform, Decl, Source, Work, NONFINITE, PRELUDE, WORKGROUP_REDUCE};
use crate::ops::u32_of;
use crate::tensor::Tensor;

static SOURCE: Source = Source::of(
    "softmax_chunked",
    &[
        PRELUDE,
        WORKGROUP_REDUCE,
        NONFINITE,
        include_str!("../../shaders/softmax_chunked.wgsl"),
    ],
);

uniform! {
    /// `softmax_chunked.wgsl`: rows of `cols`, in chunks of `chunk` elements.
    SoftmaxChunkedParams { rows: u32, cols: u32, chunk: u32, _pad: u32 }
}

/// A pass: bindings x (backward: y), g, out, stats.
type Pass = Decl<SoftmaxChunkedParams, (), 4>;

kernels! {
    /// Forward: (max, Σexp) per chunk, a workgroup each.
    static PARTIALS: SoftmaxChunkedParams, () =
        SOURCE, "softmax_partials", [R, R, RW, RW], [256, 1, 1];
    /// Forward: the chunks' pairs combined per row, one invocation each.
    static COMBINE: SoftmaxChunkedParams, () =
        SOURCE, "softmax_combine", [R, R, RW, RW], [64, 1, 1];
    /// Forward: y, one vec4 per invocation.
    static WRITE: SoftmaxChunkedParams, () = SOURCE, "softmax_write", [R, R, RW, RW], [256, 1, 1];
    /// Backward: ⟨g, y⟩ per chunk.
    static DOT_PARTIALS: SoftmaxChunkedParams, () =
        SOURCE, "softmax_dot_partials", [R, R, RW, RW], [256, 1, 1];
    /// Backward: the chunks' dots summed per row.
    static DOT_COMBINE: SoftmaxChunkedParams, () =
        SOURCE, "softmax_dot_combine", [R, R, RW, RW], [64, 1, 1];
    /// Backward: dx, one vec4 per invocation.
    static BACKWARD_WRITE: SoftmaxChunkedParams, () =
        SOURCE, "softmax_backward_write", [R, R, RW, RW], [256, 1, 1];
}

/// The forward passes, in order.
pub(crate) static FORWARD_PASSES: [&Pass; 3] = [&PARTIALS, &COMBINE, &WRITE];
/// The backward passes, in order.
pub(crate) static BACKWARD_PASSES: [&Pass; 3] = [&DOT_PARTIALS, &DOT_COMBINE, &BACKWARD_WRITE];

/// The three chunked passes: partials per chunk, combined per row, written element-wise.
pub(crate) fn chunked_passes(
    op: &'static str,
    passes: &[&'static Pass; 3],
    x: &Tensor,
    g: &Tensor,
) -> Result<Tensor> {
    let (rows, cols) = x.rows_cols();
    let gpu = x.gpu();
    let chunk = gpu.profile().softmax_chunk;
    let chunks = cols.div_ceil(chunk);
    let out = Tensor::empty(gpu, op, x.shape())?;
    let stats = Tensor::empty(gpu, op, &[(rows * chunks + rows) * 3])?;
    let works = [
        Work::Tiles(chunks, rows),
        Work::Items(rows),
        Work::Items((rows * cols).div_ceil(4)),
    ];
    let params = SoftmaxChunkedParams {
        rows: u32_of(op, rows)?,
        cols: u32_of(op, cols)?,
        chunk: u32_of(op, chunk)?,
        ..Default::default()
    };
    for (pass, work) in passes.iter().zip(works) {
        let buffers = [x.buffer(), g.buffer(), out.buffer(), stats.buffer()];
        pass.launch(gpu, op, ((), params), buffers, work)?;
    }
    Ok(out)
}
