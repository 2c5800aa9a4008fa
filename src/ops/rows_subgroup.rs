//! The subgroup row kernels on the host (`shaders/softmax_subgroup.wgsl`,
//! `layernorm_subgroup.wgsl`, `loss_subgroup.wgsl`): one subgroup per row, for devices with
//! `SUBGROUP` and rows of up to [`SUBGROUP_MAX_COLS`] under `Auto`. A 256-wide workgroup holds
//! as many rows as it has subgroups; the grid is sized for the device's largest subgroup, so
//! any size the device picks (4 to 128) covers every row.

use crate::gpu::Gpu;
use crate::kernels::{kernels, spec, Source, Work, NONFINITE, PRELUDE, SUBGROUP_ROWS};
use crate::loss::LossParams;
use crate::ops::layernorm::{LayerNormParams, LAYERNORM_SCALE};
use crate::ops::softmax::SoftmaxParams;

/// The longest row `Auto` gives a subgroup (a lane then walks 32 elements at size 32).
pub(crate) const SUBGROUP_MAX_COLS: usize = 1_024;

/// Sources for devices with `SUBGROUP` only (their modules need the feature).
const fn subgroup_source(name: &'static str, parts: &'static [&'static str]) -> Source {
    Source {
        needs_subgroups: true,
        ..Source::of(name, parts)
    }
}
static SOFTMAX_SOURCE: Source = subgroup_source(
    "softmax_subgroup",
    &[
        PRELUDE,
        NONFINITE,
        SUBGROUP_ROWS,
        include_str!("../../shaders/softmax_subgroup.wgsl"),
    ],
);
static LAYERNORM_SOURCE: Source = subgroup_source(
    "layernorm_subgroup",
    &[
        PRELUDE,
        NONFINITE,
        SUBGROUP_ROWS,
        LAYERNORM_SCALE,
        include_str!("../../shaders/layernorm_subgroup.wgsl"),
    ],
);
static LOSS_SOURCE: Source = subgroup_source(
    "loss_subgroup",
    &[
        PRELUDE,
        NONFINITE,
        SUBGROUP_ROWS,
        include_str!("../../shaders/loss_subgroup.wgsl"),
    ],
);

spec! {
    /// Rows read as vec4s (`cols` a multiple of 4).
    RowsSpec { vec4: "VEC4" }
}

kernels! {
    /// A subgroup per row: bindings x (backward: y), g, out.
    pub(crate) static SOFTMAX_FORWARD_SG: SoftmaxParams, RowsSpec =
        SOFTMAX_SOURCE, "softmax_forward_subgroup", [R, R, RW], [256, 1, 1];
    pub(crate) static SOFTMAX_BACKWARD_SG: SoftmaxParams, RowsSpec =
        SOFTMAX_SOURCE, "softmax_backward_subgroup", [R, R, RW], [256, 1, 1];
    /// A subgroup per row: bindings x, γ, β, y, stats, (unused).
    pub(crate) static LAYERNORM_FORWARD_SG: LayerNormParams, RowsSpec =
        LAYERNORM_SOURCE, "forward_subgroup", [R, R, R, RW, RW, RW], [256, 1, 1];
    /// A subgroup per row: bindings x, γ, dy, dx, stats, dy ⊙ x̂.
    pub(crate) static LAYERNORM_BACKWARD_SG: LayerNormParams, RowsSpec =
        LAYERNORM_SOURCE, "backward_subgroup", [R, R, R, RW, RW, RW], [256, 1, 1];
    /// A subgroup per row: bindings logits, labels, grad, terms.
    pub(crate) static CROSS_ENTROPY_SG: LossParams, RowsSpec =
        LOSS_SOURCE, "cross_entropy_subgroup", [R, R, RW, RW], [256, 1, 1];
}

/// Whether this device runs the subgroup row kernels.
pub(crate) fn available(gpu: &Gpu) -> bool {
    gpu.profile().subgroups.is_some()
}

/// The grid for `rows` rows: workgroups of 256 / (the largest subgroup) rows each.
pub(crate) fn work(gpu: &Gpu, rows: usize) -> Work {
    let largest = gpu
        .profile()
        .subgroups
        .map_or(256, |(_, max)| max)
        .clamp(1, 256) as usize;
    Work::Groups(rows.div_ceil(256 / largest))
}

/// The specialisation for rows of `cols`.
pub(crate) fn spec(cols: usize) -> RowsSpec {
    RowsSpec {
        vec4: cols.is_multiple_of(4),
    }
}
