//! SoftMax forward and fused backward (`shaders/softmax.wgsl`, `softmax_regs.wgsl`), row by
//! row, on one of five kernels: an invocation per row (no barriers; CPU devices), a subgroup
//! per row (`rows_subgroup.rs`; any device with subgroups, rows up to 1,024), rows held in registers
//! by a segment of a workgroup (one read, one write; GPUs, rows up to 2,048), a workgroup per
//! row (tree reductions; longer rows), or chunks of a row over many workgroups (rows longer
//! than 16,384, of any length: `softmax_chunked.rs`).

use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::kernels::{kernels, uniform, Decl, Source, Work, NONFINITE, PRELUDE, WORKGROUP_REDUCE};
use crate::ops::rows_subgroup::{self as subgroup, RowsSpec, SUBGROUP_MAX_COLS};
use crate::ops::softmax_chunked::{chunked_passes, BACKWARD_PASSES, FORWARD_PASSES};
use crate::ops::{expect_matrix, expect_shape, same_gpu, u32_of};
use crate::tensor::Tensor;

/// Which row kernel runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowKernel {
    /// Chunked for rows longer than 16,384; otherwise the fastest on this adapter for the
    /// shape class, measured by the autotuner (untuned, and for work under 65,536 elements:
    /// per subgroup up to 1,024 where the device has subgroups; otherwise per invocation on
    /// CPU devices, and on GPUs in registers up to 2,048, else per workgroup).
    Auto,
    /// One 256-wide workgroup per row, tree reductions in workgroup memory.
    PerWorkgroup,
    /// One invocation per row, 16 rows per workgroup, no barriers.
    PerInvocation,
    /// Each row in the registers of a segment of a 256-wide workgroup (8 elements per
    /// invocation; short rows share a workgroup): one read and one write per element. Rows
    /// longer than 2,048 run per workgroup.
    Registers,
    /// Rows cut into chunks of 2,048 (two vec4s per invocation), a workgroup each, in three
    /// passes.
    Chunked,
    /// One subgroup per row (`subgroupMax`/`subgroupAdd`, no workgroup memory, no barrier),
    /// vec4 loads where rows are whole vec4s, on devices with `SUBGROUP`; elsewhere, and for
    /// rows longer than 16,384, `PerWorkgroup`.
    Subgroup,
}

/// Rows longer than this take the chunked kernels under `Auto`.
const CHUNKED_FROM: usize = 16_384;
/// The longest row the per-invocation kernels take (two loops over the row).
const PER_INVOCATION_MAX_COLS: usize = 16_384;
/// The longest row the register kernels hold (`PER` · 256 in `softmax_regs.wgsl`).
const REGS_MAX_COLS: usize = 2_048;
/// On drivers that cap loops at 65,535 iterations, the longest row of the per-workgroup kernel
/// (three loops of cols / 256 iterations).
const PER_WORKGROUP_MAX_COLS_CAPPED: usize = 5_000_000;

/// y = softmax(x) along the last axis: each row of a matrix, or the whole vector.
pub fn softmax_forward(x: &Tensor) -> Result<Tensor> {
    softmax_forward_with(RowKernel::Auto, x)
}

/// dL/dx = y ⊙ (g − ⟨g, y⟩) per row, from the forward output `y` and `g` = dL/dy.
pub fn softmax_backward(y: &Tensor, g: &Tensor) -> Result<Tensor> {
    softmax_backward_with(RowKernel::Auto, y, g)
}

/// [`softmax_forward`] on a chosen kernel, for tests and benchmarks.
pub fn softmax_forward_with(kernel: RowKernel, x: &Tensor) -> Result<Tensor> {
    const OP: &str = "softmax_forward";
    expect_matrix(OP, x)?;
    if chunked(kernel, x.rows_cols().1) {
        return chunked_passes(OP, &FORWARD_PASSES, x, x);
    }
    rowwise(OP, &FORWARD, kernel, x, x)
}

/// [`softmax_backward`] on a chosen kernel, for tests and benchmarks.
pub fn softmax_backward_with(kernel: RowKernel, y: &Tensor, g: &Tensor) -> Result<Tensor> {
    const OP: &str = "softmax_backward";
    expect_matrix(OP, y)?;
    same_gpu(OP, &[y, g])?;
    expect_shape(OP, g, y.shape())?;
    if chunked(kernel, y.rows_cols().1) {
        return chunked_passes(OP, &BACKWARD_PASSES, y, g);
    }
    rowwise(OP, &BACKWARD, kernel, y, g)
}

static SOURCE: Source = Source::of(
    "softmax",
    &[
        PRELUDE,
        WORKGROUP_REDUCE,
        NONFINITE,
        include_str!("../../shaders/softmax.wgsl"),
    ],
);
static REGS_SOURCE: Source = Source::of(
    "softmax_regs",
    &[
        PRELUDE,
        NONFINITE,
        include_str!("../../shaders/softmax_regs.wgsl"),
    ],
);

uniform! {
    /// `softmax.wgsl`: rows of `cols`.
    SoftmaxParams { rows: u32, cols: u32, _pad0: u32, _pad1: u32 }
}

uniform! {
    /// `softmax_regs.wgsl`: rows of `cols`, `lanes` invocations per row.
    SoftmaxRegsParams { rows: u32, cols: u32, lanes: u32, _pad: u32 }
}

kernels! {
    /// A 256-wide workgroup per row: bindings x (backward: y), g, out.
    static SOFTMAX_FORWARD: SoftmaxParams, () = SOURCE, "softmax_forward", [R, R, RW], [256, 1, 1];
    static SOFTMAX_BACKWARD: SoftmaxParams, () =
        SOURCE, "softmax_backward", [R, R, RW], [256, 1, 1];
    /// One invocation per row, 16 rows per workgroup.
    static SOFTMAX_FORWARD_ROWS: SoftmaxParams, () =
        SOURCE, "softmax_forward_rows", [R, R, RW], [16, 1, 1];
    static SOFTMAX_BACKWARD_ROWS: SoftmaxParams, () =
        SOURCE, "softmax_backward_rows", [R, R, RW], [16, 1, 1];
    /// Rows held in registers (up to 2,048 long), `lanes` invocations per row.
    static SOFTMAX_FORWARD_REGS: SoftmaxRegsParams, () =
        REGS_SOURCE, "softmax_forward_regs", [R, R, RW], [256, 1, 1];
    static SOFTMAX_BACKWARD_REGS: SoftmaxRegsParams, () =
        REGS_SOURCE, "softmax_backward_regs", [R, R, RW], [256, 1, 1];
}

/// One direction's kernels: per workgroup, per invocation, in registers, per subgroup.
struct Family {
    per_wg: &'static Decl<SoftmaxParams, (), 3>,
    per_inv: &'static Decl<SoftmaxParams, (), 3>,
    regs: &'static Decl<SoftmaxRegsParams, (), 3>,
    sg: &'static Decl<SoftmaxParams, RowsSpec, 3>,
}
static FORWARD: Family = Family {
    per_wg: &SOFTMAX_FORWARD,
    per_inv: &SOFTMAX_FORWARD_ROWS,
    regs: &SOFTMAX_FORWARD_REGS,
    sg: &subgroup::SOFTMAX_FORWARD_SG,
};
static BACKWARD: Family = Family {
    per_wg: &SOFTMAX_BACKWARD,
    per_inv: &SOFTMAX_BACKWARD_ROWS,
    regs: &SOFTMAX_BACKWARD_REGS,
    sg: &subgroup::SOFTMAX_BACKWARD_SG,
};

/// Whether rows of `cols` run one per subgroup: asked for (and the device has subgroups), or
/// under `Auto` on any device with subgroups for rows of up to [`SUBGROUP_MAX_COLS`] (on
/// llvmpipe too: a 4096×1024 forward took 12.9 ms there against 31.5 per invocation,
/// BENCHMARKS.md).
pub(crate) fn per_subgroup(gpu: &Gpu, kernel: RowKernel, cols: usize) -> bool {
    subgroup::available(gpu)
        && cols <= PER_INVOCATION_MAX_COLS
        && match kernel {
            RowKernel::Subgroup => true,
            RowKernel::Auto => cols <= SUBGROUP_MAX_COLS,
            _ => false,
        }
}

/// Whether rows of `cols` take the chunked kernels.
fn chunked(kernel: RowKernel, cols: usize) -> bool {
    kernel == RowKernel::Chunked || (kernel == RowKernel::Auto && cols > CHUNKED_FROM)
}

/// Whether rows of `cols` run one per invocation on this device (rows too long for it always
/// run per workgroup).
pub(crate) fn per_invocation(gpu: &Gpu, kernel: RowKernel, cols: usize) -> bool {
    cols <= PER_INVOCATION_MAX_COLS
        && match kernel {
            RowKernel::Auto => gpu.profile().cpu || cols <= 32,
            RowKernel::PerWorkgroup
            | RowKernel::Chunked
            | RowKernel::Registers
            | RowKernel::Subgroup => false,
            RowKernel::PerInvocation => true,
        }
}

/// `Auto` resolved: by the autotuner for rows of up to 16,384 in work of 65,536 elements or
/// more, else the static choice for the device; other choices as given.
fn tuned(
    op: &'static str,
    f: &Family,
    choice: RowKernel,
    x: &Tensor,
    g: &Tensor,
) -> Result<RowKernel> {
    let (rows, cols) = x.rows_cols();
    let gpu = x.gpu();
    if choice != RowKernel::Auto || cols > PER_INVOCATION_MAX_COLS {
        return Ok(choice);
    }
    let cpu = gpu.profile().cpu;
    let mut forced = vec![RowKernel::PerInvocation, RowKernel::PerWorkgroup];
    let mut names = vec!["per_invocation", "per_workgroup"];
    if cols <= REGS_MAX_COLS {
        forced.push(RowKernel::Registers);
        names.push("registers");
    }
    let sg = subgroup::available(gpu) && cols <= SUBGROUP_MAX_COLS;
    if sg {
        forced.push(RowKernel::Subgroup);
        names.push("subgroup");
    }
    let fallback = match (cpu, sg, cols <= REGS_MAX_COLS) {
        (_, true, _) => forced.len() - 1,
        (true, false, _) => 0,
        (false, false, true) => 2,
        (false, false, false) => 1,
    };
    if rows * cols < 1 << 16 {
        return Ok(forced[fallback]);
    }
    let class = format!(
        "{op} r<={} c<={}",
        rows.next_power_of_two(),
        cols.next_power_of_two()
    );
    let run = |i: usize| rowwise(op, f, forced[i], x, g).map(drop);
    Ok(forced[gpu.pick(&class, &names, fallback, run)])
}

fn rowwise(
    op: &'static str,
    f: &Family,
    choice: RowKernel,
    x: &Tensor,
    g: &Tensor,
) -> Result<Tensor> {
    let (rows, cols) = x.rows_cols();
    let gpu = x.gpu();
    let choice = tuned(op, f, choice, x, g)?;
    let out = Tensor::empty(gpu, op, x.shape())?;
    let buffers = [x.buffer(), g.buffer(), out.buffer()];
    let params = SoftmaxParams {
        rows: u32_of(op, rows)?,
        cols: u32_of(op, cols)?,
        ..Default::default()
    };
    if per_subgroup(gpu, choice, cols) {
        let spec = subgroup::spec(cols);
        f.sg.launch(gpu, op, (spec, params), buffers, subgroup::work(gpu, rows))?;
    } else if choice == RowKernel::Registers && cols <= REGS_MAX_COLS {
        // The fewest lanes (a power of 2) that hold the row at 8 per lane.
        let lanes = cols.div_ceil(8).next_power_of_two().clamp(1, 256);
        let regs = SoftmaxRegsParams {
            rows: u32_of(op, rows)?,
            cols: u32_of(op, cols)?,
            lanes: u32_of(op, lanes)?,
            _pad: 0,
        };
        let work = Work::Groups(rows.div_ceil(256 / lanes));
        f.regs.launch(gpu, op, ((), regs), buffers, work)?;
    } else if per_invocation(gpu, choice, cols) {
        f.per_inv
            .launch(gpu, op, ((), params), buffers, Work::Items(rows))?;
    } else if gpu.profile().caps_loops && cols > PER_WORKGROUP_MAX_COLS_CAPPED {
        return Err(Error::TooLarge {
            op,
            what: "row length on this driver (it stops loops after 65,535 iterations)",
            requested: cols as u64,
            limit: PER_WORKGROUP_MAX_COLS_CAPPED as u64,
        });
    } else {
        f.per_wg
            .launch(gpu, op, ((), params), buffers, Work::Groups(rows))?;
    }
    Ok(out)
}
