//! Explicit Jacobians (`shaders/jacobian.wgsl`) and the vector–Jacobian product through the
//! matmul kernel. This is the lab's second backward path: slow and memory-hungry by nature
//! (the Jacobian of n outputs by m inputs holds n·m floats), kept to check the fused kernels.

use crate::error::{Error, Result};
use crate::kernels::{kernels, uniform, Decl, Source, Work, PRELUDE};
use crate::ops::{matmul, u32_of};
use crate::tensor::Tensor;

static SOURCE: Source = Source::of(
    "jacobian",
    &[PRELUDE, include_str!("../../shaders/jacobian.wgsl")],
);

uniform! {
    /// `jacobian.wgsl`: a Jacobian of (rows, cols); `a`, `b` depend on the kernel.
    JacobianParams { rows: u32, cols: u32, a: u32, b: u32 }
}

/// A Jacobian kernel: one element of J per invocation; bindings the source tensor, J.
type Jacobian = Decl<JacobianParams, (), 2>;

kernels! {
    static SOFTMAX_JACOBIAN: JacobianParams, () = SOURCE, "softmax_jacobian", [R, RW], [256, 1, 1];
    static LINEAR_DX_JACOBIAN: JacobianParams, () = SOURCE, "linear_dx_jacobian", [R, RW], [256, 1, 1];
    static LINEAR_DW_JACOBIAN: JacobianParams, () = SOURCE, "linear_dw_jacobian", [R, RW], [256, 1, 1];
    static LINEAR_DB_JACOBIAN: JacobianParams, () = SOURCE, "linear_db_jacobian", [R, RW], [256, 1, 1];
}

/// The largest Jacobian built, in elements (2^26 floats = 256 MiB).
pub const MAX_JACOBIAN_ELEMENTS: usize = 1 << 26;

/// J = ∂y/∂x of softmax from its output y: per row diag(y) − y·yᵀ, zero across rows.
/// Shape [n, n] with n = y.len().
pub fn softmax_jacobian(y: &Tensor) -> Result<Tensor> {
    let n = y.len();
    let (_, cols) = y.rows_cols();
    build("softmax_jacobian", &SOFTMAX_JACOBIAN, y, [n, n], [cols, 0])
}

/// J = ∂y/∂x of ReLU from its input x: diag(x > 0). Shape [n, n].
pub fn relu_jacobian(x: &Tensor) -> Result<Tensor> {
    crate::ops::activation::relu().jacobian(x, None)
}

/// The identity [n, n] for n = x.len(): the Jacobian of a reshape (ReLU's of an all-ones
/// tensor: diag(1 > 0)).
pub fn identity_jacobian(x: &Tensor) -> Result<Tensor> {
    let ones = Tensor::from_slice(x.gpu(), &vec![1.0; x.len()], &[x.len()])?;
    relu_jacobian(&ones)
}

fn weight_dims(op: &'static str, w: &Tensor) -> Result<(usize, usize)> {
    match w.shape() {
        [k, n] => Ok((*k, *n)),
        s => Err(Error::ShapeMismatch {
            op,
            expected: "weights [in, out]".into(),
            got: s.to_vec(),
        }),
    }
}

/// ∂Y/∂X of Y = X·W + b for a batch of `batch` rows: J[(i,j),(k,l)] = δ_ik·W[l, j].
/// Shape [batch·N, batch·K] for W (K, N).
pub fn linear_input_jacobian(w: &Tensor, batch: usize) -> Result<Tensor> {
    const OP: &str = "linear_input_jacobian";
    let (k, n) = weight_dims(OP, w)?;
    build(OP, &LINEAR_DX_JACOBIAN, w, [batch * n, batch * k], [n, k])
}

/// ∂Y/∂W of Y = X·W + b: J[(i,j),(k,l)] = X[i, k]·δ_jl. Shape [B·N, K·N] for X (B, K).
pub fn linear_weight_jacobian(x: &Tensor, out_features: usize) -> Result<Tensor> {
    let (b, k) = x.rows_cols();
    let n = out_features;
    build(
        "linear_weight_jacobian",
        &LINEAR_DW_JACOBIAN,
        x,
        [b * n, k * n],
        [n, k],
    )
}

/// ∂Y/∂b of Y = X·W + b: J[(i,j), l] = δ_jl. Shape [batch·N, N] for W (K, N).
pub fn linear_bias_jacobian(w: &Tensor, batch: usize) -> Result<Tensor> {
    const OP: &str = "linear_bias_jacobian";
    let (_, n) = weight_dims(OP, w)?;
    build(OP, &LINEAR_DB_JACOBIAN, w, [batch * n, n], [n, 0])
}

/// The vector–Jacobian product dL/din = g · J, with g = dL/dout flattened to one row;
/// the result takes `shape` (whose element count must be J's column count).
pub fn vjp(g: &Tensor, jac: &Tensor, shape: &[usize]) -> Result<Tensor> {
    const OP: &str = "vjp";
    let cols: usize = shape.iter().product();
    if jac.shape() != [g.len(), cols] {
        return Err(Error::ShapeMismatch {
            op: OP,
            expected: format!("a Jacobian [{}, {cols}]", g.len()),
            got: jac.shape().to_vec(),
        });
    }
    matmul(&g.reshape(&[1, g.len()])?, jac)?.reshape(shape)
}

fn build(
    op: &'static str,
    kernel: &'static Jacobian,
    src: &Tensor,
    [rows, cols]: [usize; 2],
    [a, b]: [usize; 2],
) -> Result<Tensor> {
    let total = rows.saturating_mul(cols);
    if total > MAX_JACOBIAN_ELEMENTS {
        return Err(Error::TooLarge {
            op,
            what: "elements in the explicit Jacobian",
            requested: total as u64,
            limit: MAX_JACOBIAN_ELEMENTS as u64,
        });
    }
    let jac = Tensor::empty(src.gpu(), op, &[rows, cols])?;
    let params = JacobianParams {
        rows: u32_of(op, rows)?,
        cols: u32_of(op, cols)?,
        a: u32_of(op, a)?,
        b: u32_of(op, b)?,
    };
    let buffers = [src.buffer(), jac.buffer()];
    kernel.launch(src.gpu(), op, ((), params), buffers, Work::Items(total))?;
    Ok(jac)
}
