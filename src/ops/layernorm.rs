//! LayerNorm over the last dimension (`shaders/layernorm.wgsl`): per row of n features,
//! y = γ ⊙ (x − μ)/√(σ² + ε) + β with ε = 1e-5 (PyTorch's), one 256-wide workgroup per row; the
//! forward keeps (μ, 1/√(σ² + ε)) per row for the backward and the Jacobian, in the units of a
//! power-of-two scale that keeps rows near `f32::MAX` from overflowing their sums.

use crate::error::{Error, Result};
use crate::kernels::{kernels, uniform, Source, Work, NONFINITE, PRELUDE, WORKGROUP_REDUCE};
use crate::ops::rows_subgroup::{self as subgroup, SUBGROUP_MAX_COLS};
use crate::ops::{column_sum, same_gpu, u32_of, RowKernel, MAX_JACOBIAN_ELEMENTS};
use crate::tensor::Tensor;

/// The scaling both LayerNorm kernels share (`shaders/layernorm_scale.wgsl`).
pub(crate) const LAYERNORM_SCALE: &str = include_str!("../../shaders/layernorm_scale.wgsl");

/// PyTorch's ε.
pub const LAYER_NORM_EPS: f32 = 1e-5;

static SOURCE: Source = Source::of(
    "layernorm",
    &[
        PRELUDE,
        WORKGROUP_REDUCE,
        NONFINITE,
        LAYERNORM_SCALE,
        include_str!("../../shaders/layernorm.wgsl"),
    ],
);

uniform! {
    /// `layernorm.wgsl`: `rows` of `cols` features; ε.
    LayerNormParams { rows: u32, cols: u32, eps: f32, _pad: u32 }
}

kernels! {
    /// A workgroup per row: bindings x, γ, β, y, stats.
    static FORWARD: LayerNormParams, () = SOURCE, "forward", [R, R, R, RW, RW], [256, 1, 1];
    /// A workgroup per row: bindings x, γ, dy, dx, stats, dy ⊙ x̂.
    static BACKWARD: LayerNormParams, () = SOURCE, "backward", [R, R, R, RW, RW, RW], [256, 1, 1];
    /// One element of J per invocation: bindings x, γ, (unused), J, stats.
    static JACOBIAN: LayerNormParams, () = SOURCE, "jacobian", [R, R, R, RW, RW], [256, 1, 1];
}

/// (rows, features) of `x` for parameters of `features`: the last dimension must match.
fn rows(op: &'static str, x: &Tensor, features: usize) -> Result<(usize, usize)> {
    match x.shape().last() {
        Some(&n) if n == features => Ok((x.len() / n, n)),
        _ => Err(Error::ShapeMismatch {
            op,
            expected: format!("an input whose last dimension is {features} features"),
            got: x.shape().to_vec(),
        }),
    }
}

/// The statistics of `rows` rows, as [`layer_norm`] gives them.
fn expect_stats(op: &'static str, stats: &Tensor, rows: usize) -> Result<()> {
    if stats.shape() == [rows, LAYER_NORM_STATS] {
        return Ok(());
    }
    Err(Error::ShapeMismatch {
        op,
        expected: format!("the statistics [{rows}, {LAYER_NORM_STATS}] of layer_norm's forward"),
        got: stats.shape().to_vec(),
    })
}

fn params(op: &'static str, (r, n): (usize, usize)) -> Result<LayerNormParams> {
    Ok(LayerNormParams {
        rows: u32_of(op, r)?,
        cols: u32_of(op, n)?,
        eps: LAYER_NORM_EPS,
        _pad: 0,
    })
}

/// Statistics kept per row: (μ·s, r/s, s) with r = 1/√(σ² + ε) and s a power of two, 1 unless
/// the row's largest magnitude passes 2^40 (then the row is scaled to [1, 4) first).
pub const LAYER_NORM_STATS: usize = 3;

/// y = LayerNorm(x; γ, β) over the last dimension, and the per-row statistics
/// [rows, [`LAYER_NORM_STATS`]] that [`layer_norm_backward`] and [`layer_norm_jacobian`] take.
/// A row holding NaN or ±inf comes out NaN; rows of any finite values, up to `f32::MAX`, are
/// normalised without overflow.
pub fn layer_norm(x: &Tensor, gamma: &Tensor, beta: &Tensor) -> Result<(Tensor, Tensor)> {
    layer_norm_with(RowKernel::Auto, x, gamma, beta)
}

/// Whether rows of `cols` run one per subgroup: `Subgroup` asked for, or `Auto` on a device
/// with subgroups and rows of up to 1,024 (llvmpipe included: 4096×1024 forward and backward
/// took 173 ms there against 539 per workgroup, BENCHMARKS.md); a device without subgroups
/// runs the workgroup kernel.
fn per_subgroup(x: &Tensor, kernel: RowKernel, cols: usize) -> bool {
    let gpu = x.gpu();
    subgroup::available(gpu)
        && match kernel {
            RowKernel::Subgroup => true,
            RowKernel::Auto => cols <= SUBGROUP_MAX_COLS,
            _ => false,
        }
}

/// [`layer_norm`] on a chosen kernel (`Subgroup`: a subgroup per row where the device has
/// them; any other: a workgroup per row), for tests and benchmarks.
pub fn layer_norm_with(
    kernel: RowKernel,
    x: &Tensor,
    gamma: &Tensor,
    beta: &Tensor,
) -> Result<(Tensor, Tensor)> {
    const OP: &str = "LayerNorm::forward";
    same_gpu(OP, &[x, gamma, beta])?;
    let (r, n) = rows(OP, x, gamma.len())?;
    let y = Tensor::empty(x.gpu(), OP, x.shape())?;
    let stats = Tensor::empty(x.gpu(), OP, &[r, LAYER_NORM_STATS])?;
    let buffers = [
        x.buffer(),
        gamma.buffer(),
        beta.buffer(),
        y.buffer(),
        stats.buffer(),
    ];
    let gpu = x.gpu();
    if per_subgroup(x, kernel, n) {
        let spec = subgroup::spec(n);
        let work = subgroup::work(gpu, r);
        let buffers = [
            buffers[0], buffers[1], buffers[2], buffers[3], buffers[4], buffers[4],
        ];
        subgroup::LAYERNORM_FORWARD_SG.launch(
            gpu,
            OP,
            (spec, params(OP, (r, n))?),
            buffers,
            work,
        )?;
    } else {
        let p = params(OP, (r, n))?;
        FORWARD.launch(gpu, OP, ((), p), buffers, Work::Groups(r))?;
    }
    Ok((y, stats))
}

/// (dx, dγ, dβ) of [`layer_norm`] from dy.
pub fn layer_norm_backward(
    x: &Tensor,
    gamma: &Tensor,
    dy: &Tensor,
    stats: &Tensor,
) -> Result<(Tensor, Tensor, Tensor)> {
    layer_norm_backward_with(RowKernel::Auto, x, gamma, dy, stats)
}

/// [`layer_norm_backward`] on a chosen kernel, as [`layer_norm_with`].
pub fn layer_norm_backward_with(
    kernel: RowKernel,
    x: &Tensor,
    gamma: &Tensor,
    dy: &Tensor,
    stats: &Tensor,
) -> Result<(Tensor, Tensor, Tensor)> {
    const OP: &str = "LayerNorm::backward";
    same_gpu(OP, &[x, gamma, dy, stats])?;
    let (r, n) = rows(OP, x, gamma.len())?;
    if dy.shape() != x.shape() {
        return Err(Error::ShapeMismatch {
            op: OP,
            expected: format!("dL/dy shaped like the input {:?}", x.shape()),
            got: dy.shape().to_vec(),
        });
    }
    expect_stats(OP, stats, r)?;
    let gpu = x.gpu();
    let dx = Tensor::empty(gpu, OP, x.shape())?;
    let dyxhat = Tensor::empty(gpu, OP, &[r, n])?;
    let buffers = [
        x.buffer(),
        gamma.buffer(),
        dy.buffer(),
        dx.buffer(),
        stats.buffer(),
        dyxhat.buffer(),
    ];
    let p = params(OP, (r, n))?;
    if per_subgroup(x, kernel, n) {
        let work = subgroup::work(gpu, r);
        subgroup::LAYERNORM_BACKWARD_SG.launch(gpu, OP, (subgroup::spec(n), p), buffers, work)?;
    } else {
        BACKWARD.launch(gpu, OP, ((), p), buffers, Work::Groups(r))?;
    }
    let dgamma = column_sum(&dyxhat)?;
    let dbeta = column_sum(&dy.reshape(&[r, n])?)?;
    Ok((dx, dgamma, dbeta))
}

/// ∂y/∂x of [`layer_norm`]: [x.len(), x.len()], block-diagonal by row; refused above
/// [`MAX_JACOBIAN_ELEMENTS`].
pub fn layer_norm_jacobian(x: &Tensor, gamma: &Tensor, stats: &Tensor) -> Result<Tensor> {
    const OP: &str = "LayerNorm::jacobian";
    same_gpu(OP, &[x, gamma, stats])?;
    let (r, n) = rows(OP, x, gamma.len())?;
    expect_stats(OP, stats, r)?;
    let total = x.len().saturating_mul(x.len());
    if total > MAX_JACOBIAN_ELEMENTS {
        return Err(Error::TooLarge {
            op: OP,
            what: "elements in the explicit Jacobian",
            requested: total as u64,
            limit: MAX_JACOBIAN_ELEMENTS as u64,
        });
    }
    let jac = Tensor::empty(x.gpu(), OP, &[x.len(), x.len()])?;
    let buffers = [
        x.buffer(),
        gamma.buffer(),
        x.buffer(),
        jac.buffer(),
        stats.buffer(),
    ];
    JACOBIAN.launch(
        x.gpu(),
        OP,
        ((), params(OP, (r, n))?),
        buffers,
        Work::Items(total),
    )?;
    Ok(jac)
}
