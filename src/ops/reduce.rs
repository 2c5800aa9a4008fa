//! Reductions (`shaders/reduce.wgsl`): the column sum that gives db, the total that gives a
//! mean loss, and the in-place accumulation (`shaders/optim.wgsl`) of running sums.

use crate::error::Result;
use crate::kernels::{kernels, uniform, Source, Work, PRELUDE, WORKGROUP_REDUCE};
use crate::ops::{expect_shape, same_gpu, u32_of};
use crate::optim::{OptimParams, ACCUMULATE};
use crate::tensor::Tensor;

static SOURCE: Source = Source::of(
    "reduce",
    &[
        PRELUDE,
        WORKGROUP_REDUCE,
        include_str!("../../shaders/reduce.wgsl"),
    ],
);
/// Devices with `SUBGROUP` only (its module needs the feature).
static SUBGROUP_SOURCE: Source = Source {
    needs_subgroups: true,
    ..Source::of(
        "reduce_subgroup",
        &[PRELUDE, include_str!("../../shaders/reduce_subgroup.wgsl")],
    )
};

uniform! {
    /// `reduce.wgsl`: column sums of (rows, cols), `chunk` rows per invocation.
    ReduceParams { rows: u32, cols: u32, chunk: u32, _pad: u32 }
}

uniform! {
    /// `reduce_subgroup.wgsl`: `n` elements.
    ReduceSubgroupParams { n: u32, _pad0: u32, _pad1: u32, _pad2: u32 }
}

kernels! {
    /// Partial column sums over chunks of rows (chunks along z): bindings x, out.
    static COLUMN_SUM: ReduceParams, () = SOURCE, "column_sum", [R, RW], [64, 1, 1];
    /// One block of 4,096 elements per workgroup, a tree in workgroup memory: bindings x, out.
    static SUM_TREE: ReduceParams, () = SOURCE, "sum_tree", [R, RW], [256, 1, 1];
    /// The same blocks summed through subgroups: bindings x, out.
    static SUM_SUBGROUP: ReduceSubgroupParams, () =
        SUBGROUP_SOURCE, "sum_subgroup", [R, RW], [256, 1, 1];
}

/// Rows one invocation of `column_sum` adds up; more rows are summed in partial chunks first.
/// Needed where the driver stops loops after 65,535 iterations (llvmpipe), and kept on every
/// device: the chunks run in parallel, one long loop would not.
const CHUNK_ROWS: usize = 16_384;

/// Rows one invocation adds in the tree form of the column sum: short chunks, many of them
/// in parallel, summed again (a GPU's shape: 1,024 × 4,096 is 1,024 workgroups of 64
/// loads each, then 64 of 16, where one invocation per column would be 64 of 1,024).
const TREE_CHUNK_ROWS: usize = 64;

/// `out[j] = Σ_i x[i, j]` for x (rows, cols); a vector is one row. Returns `[cols]`.
pub fn column_sum(x: &Tensor) -> Result<Tensor> {
    column_sum_with(SumKernel::Auto, x)
}

/// [`column_sum`] on a chosen form: `Columns`, one invocation per column and chunk of 16,384
/// rows; `Tree`, chunks of 64 rows, their partial sums summed the same way until one row is
/// left; `Auto`, the faster on this adapter for the shape class (measured by the autotuner
/// above 65,536 elements; untuned `Columns` on CPU devices, `Tree` on GPUs).
pub fn column_sum_with(kernel: SumKernel, x: &Tensor) -> Result<Tensor> {
    crate::ops::expect_matrix("column_sum", x)?;
    let (rows, cols) = x.rows_cols();
    let tunable = rows * cols >= 1 << 16 && rows > TREE_CHUNK_ROWS;
    let class = || {
        let (r, c) = (rows.next_power_of_two(), cols.next_power_of_two());
        format!("column_sum r<={r} c<={c}")
    };
    let tree = form(kernel, x, tunable.then(class), false, |k| {
        column_sum_with(k, x).map(drop)
    })? != SumKernel::Columns;
    let chunk = if tree { TREE_CHUNK_ROWS } else { CHUNK_ROWS };
    let mut partial = column_chunks(x, chunk)?;
    while partial.shape()[0] > 1 {
        partial = column_chunks(&partial, chunk)?;
    }
    partial.reshape(&[cols])
}

/// One pass: the sums of each chunk of `chunk` rows, (chunks, cols).
fn column_chunks(x: &Tensor, chunk: usize) -> Result<Tensor> {
    const OP: &str = "column_sum";
    let (rows, cols) = x.rows_cols();
    let gpu = x.gpu();
    // Chunks go along z: never more than the device's per-dimension limit.
    let max_z = gpu.limits().max_compute_workgroups_per_dimension.max(1) as usize;
    let chunk = chunk.max(rows.div_ceil(max_z));
    let chunks = rows.div_ceil(chunk).max(1);
    let out = Tensor::empty(gpu, OP, &[chunks, cols])?;
    let params = ReduceParams {
        rows: u32_of(OP, rows)?,
        cols: u32_of(OP, cols)?,
        chunk: u32_of(OP, chunk)?,
        _pad: 0,
    };
    let buffers = [x.buffer(), out.buffer()];
    COLUMN_SUM.launch(gpu, OP, ((), params), buffers, Work::Layers(cols, chunks))?;
    Ok(out)
}

/// Which form [`sum_all_with`] and [`column_sum_with`] take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SumKernel {
    /// The faster on this adapter, measured by the autotuner for sums of 65,536 elements or
    /// more; otherwise (and untuned) `Columns` on CPU devices, `Tree` on GPUs.
    Auto,
    /// One invocation per column and chunk of 16,384 rows (`sum_all`: a column sum of one
    /// column).
    Columns,
    /// `sum_all`: 256-wide workgroups, each adding 4,096 elements and then its lanes through
    /// workgroup memory; `column_sum`: chunks of 64 rows. Repeated over the partial sums.
    Tree,
    /// `sum_all`: the same blocks, each subgroup adding its lanes with `subgroupAdd` (any
    /// subgroup size the device has) and the workgroup its subgroups' sums, on devices with
    /// `SUBGROUP`; elsewhere, and for `column_sum`, `Tree`.
    Subgroup,
}

/// The form `kernel` means: `Auto` is the static choice (`Columns` on CPU devices, `Tree` on
/// GPUs) without a tuning `class`, else the autotuner's, timing `run` over columns, tree and
/// (where `subgroups` and the device has them) subgroup; `Subgroup` without them is `Tree`.
fn form(
    kernel: SumKernel,
    x: &Tensor,
    class: Option<String>,
    subgroups: bool,
    run: impl Fn(SumKernel) -> Result<()>,
) -> Result<SumKernel> {
    let gpu = x.gpu();
    let subgroups = subgroups && gpu.profile().subgroups.is_some();
    let fallback = !gpu.profile().cpu;
    Ok(match (kernel, class) {
        (SumKernel::Subgroup, _) if !subgroups => SumKernel::Tree,
        (SumKernel::Auto, None) if fallback => SumKernel::Tree,
        (SumKernel::Auto, None) => SumKernel::Columns,
        (SumKernel::Auto, Some(class)) => {
            let forced = [SumKernel::Columns, SumKernel::Tree, SumKernel::Subgroup];
            let names = ["columns", "tree", "subgroup"];
            let count = if subgroups { 3 } else { 2 };
            let run = |i: usize| run(forced[i]);
            forced[gpu.pick(&class, &names[..count], usize::from(fallback), run)]
        }
        (kernel, _) => kernel,
    })
}

/// Elements one workgroup of the tree sum adds (`WG * TREE_PER_LANE` in the shader).
const TREE_BLOCK: usize = 4096;

/// The sum of all elements, as a tensor of shape `[1]`.
pub fn sum_all(x: &Tensor) -> Result<Tensor> {
    sum_all_with(SumKernel::Auto, x)
}

/// [`sum_all`] on a chosen kernel, for tests and benchmarks.
pub fn sum_all_with(kernel: SumKernel, x: &Tensor) -> Result<Tensor> {
    let n = x.len();
    let gpu = x.gpu();
    let class = (n >= 1 << 16).then(|| format!("sum_all n<={}", n.next_power_of_two()));
    let form = form(kernel, x, class, true, |k| sum_all_with(k, x).map(drop))?;
    if form == SumKernel::Columns {
        return column_sum_with(SumKernel::Columns, &x.reshape(&[n, 1])?);
    }
    const OP: &str = "sum_all";
    let mut partial = x.reshape(&[n])?;
    loop {
        let len = partial.len();
        let blocks = len.div_ceil(TREE_BLOCK);
        let out = Tensor::empty(gpu, OP, &[blocks])?;
        let buffers = [partial.buffer(), out.buffer()];
        let work = Work::Groups(blocks);
        if form == SumKernel::Subgroup {
            let p = ReduceSubgroupParams {
                n: u32_of(OP, len)?,
                ..Default::default()
            };
            SUM_SUBGROUP.launch(gpu, OP, ((), p), buffers, work)?;
        } else {
            let p = ReduceParams {
                rows: u32_of(OP, len)?,
                cols: 1,
                ..Default::default()
            };
            SUM_TREE.launch(gpu, OP, ((), p), buffers, work)?;
        }
        if blocks == 1 {
            return Ok(out);
        }
        partial = out;
    }
}

/// acc += x, in place on `acc` (same shape). For running sums kept on the GPU, such as an
/// epoch's loss. Clones of `acc` taken before keep their value (copy-on-write).
pub fn add_assign(acc: &mut Tensor, x: &Tensor) -> Result<()> {
    const OP: &str = "add_assign";
    same_gpu(OP, &[acc, x])?;
    expect_shape(OP, x, acc.shape())?;
    acc.make_unique(OP)?; // x may be a view of acc: it keeps the old value

    let params = OptimParams {
        n: u32_of(OP, acc.len())?,
        ..Default::default()
    };
    let buffers = [acc.buffer(), x.buffer()];
    ACCUMULATE.launch(acc.gpu(), OP, ((), params), buffers, Work::Items(acc.len()))
}
