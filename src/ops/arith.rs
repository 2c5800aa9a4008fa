//! Element-wise arithmetic on one kernel family (`shaders/arith.wgsl`): `add`, `sub`, `mul` of
//! two tensors with the smaller broadcast over the larger's leading dimensions (its shape a
//! suffix of the other's, as numpy broadcasts a bias over rows), and `scale` by a constant.
//! [`reduce_to`] is the broadcast's backward: a gradient summed over the repeated dimensions.

use crate::error::{Error, Result};
use crate::kernels::{kernels, spec, uniform, Source, Work, PRELUDE};
use crate::ops::{column_sum, same_gpu, u32_of};
use crate::tensor::Tensor;

static SOURCE: Source = Source::of(
    "arith",
    &[PRELUDE, include_str!("../../shaders/arith.wgsl")],
);

uniform! {
    /// `arith.wgsl`: `n` elements of a, `nb` of b (a divisor of n), scale's factor.
    ArithParams { n: u32, nb: u32, alpha: f32, _pad: u32 }
}

spec! {
    /// Which binary operation: add unless one flag is set (`copy`: b repeated, a unread).
    ArithSpec { sub: "SUB", mul: "MUL", copy: "COPY" }
}

kernels! {
    /// a ∘ b[i % nb]: bindings a, b, out.
    static BINARY: ArithParams, ArithSpec = SOURCE, "binary", [R, R, RW], [256, 1, 1];
    /// alpha · a: bindings a, b (unused), out.
    static SCALE: ArithParams, ArithSpec = SOURCE, "scale", [R, R, RW], [256, 1, 1];
    /// alpha · a, −inf above the diagonal of each T × T block: bindings a, b (unused), out.
    static CAUSAL_SCALE: ArithParams, ArithSpec =
        SOURCE, "causal_scale", [R, R, RW], [256, 1, 1];
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Binary {
    Add,
    Sub,
    Mul,
}

/// Whether `small` broadcasts over `big`: its shape, less leading 1s, ends `big`'s.
pub(crate) fn broadcasts(small: &[usize], big: &[usize]) -> bool {
    let first = small.iter().position(|&d| d != 1).unwrap_or(small.len());
    let s = &small[first..];
    s.len() <= big.len() && big.ends_with(s)
}

fn binary(op: &'static str, kind: Binary, a: &Tensor, b: &Tensor) -> Result<Tensor> {
    same_gpu(op, &[a, b])?;
    let (big, small, swapped) = if broadcasts(b.shape(), a.shape()) {
        (a, b, false)
    } else if broadcasts(a.shape(), b.shape()) {
        (b, a, true)
    } else {
        return Err(Error::ShapeMismatch {
            op,
            expected: format!(
                "shapes where one ends the other (broadcast over leading dimensions): {:?} and",
                a.shape()
            ),
            got: b.shape().to_vec(),
        });
    };
    let out = Tensor::empty(a.gpu(), op, big.shape())?;
    let params = ArithParams {
        n: u32_of(op, big.len())?,
        nb: u32_of(op, small.len())?,
        ..Default::default()
    };
    let spec = ArithSpec {
        sub: kind == Binary::Sub,
        mul: kind == Binary::Mul,
        copy: false,
    };
    let buffers = [big.buffer(), small.buffer(), out.buffer()];
    BINARY.launch(a.gpu(), op, (spec, params), buffers, Work::Items(big.len()))?;
    if swapped && kind == Binary::Sub {
        // small − big = −(big − small)
        return scale(&out, -1.0);
    }
    Ok(out)
}

/// a + b element-wise; the smaller operand (its shape a suffix of the other's, leading 1s
/// aside) repeats over the larger's leading dimensions. The result has the larger's shape.
pub fn add(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    binary("add", Binary::Add, a, b)
}

/// a − b element-wise, broadcast as [`add`].
pub fn sub(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    binary("sub", Binary::Sub, a, b)
}

/// a · b element-wise, broadcast as [`add`].
pub fn mul(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    binary("mul", Binary::Mul, a, b)
}

/// alpha · x element-wise.
pub fn scale(x: &Tensor, alpha: f32) -> Result<Tensor> {
    scale_launch("scale", &SCALE, x, alpha, 1)
}

/// Attention scores `[.., T, T]` scaled by alpha, −inf where key j > query i: the unfused
/// causal attention's mask.
pub(crate) fn causal_scale(x: &Tensor, alpha: f32) -> Result<Tensor> {
    let t = x.shape().last().copied().unwrap_or(1);
    scale_launch("attention (unfused)", &CAUSAL_SCALE, x, alpha, t)
}

fn scale_launch(
    op: &'static str,
    kernel: &'static crate::kernels::Decl<ArithParams, ArithSpec, 3>,
    x: &Tensor,
    alpha: f32,
    nb: usize,
) -> Result<Tensor> {
    let out = Tensor::empty(x.gpu(), op, x.shape())?;
    let params = ArithParams {
        n: u32_of(op, x.len())?,
        nb: u32_of(op, nb)?,
        alpha,
        _pad: 0,
    };
    let buffers = [x.buffer(), x.buffer(), out.buffer()];
    kernel.launch(
        x.gpu(),
        op,
        (ArithSpec::default(), params),
        buffers,
        Work::Items(x.len()),
    )?;
    Ok(out)
}

/// `x` repeated over leading dimensions to `shape` (which must end with `x`'s shape, leading
/// 1s aside): the backward of a sum, a bias's forward.
pub fn broadcast_to(x: &Tensor, shape: &[usize]) -> Result<Tensor> {
    const OP: &str = "broadcast_to";
    if !broadcasts(x.shape(), shape) {
        return Err(Error::ShapeMismatch {
            op: OP,
            expected: format!("a target shape ending with {:?}", x.shape()),
            got: shape.to_vec(),
        });
    }
    let out = Tensor::empty(x.gpu(), OP, shape)?;
    let params = ArithParams {
        n: u32_of(OP, out.len())?,
        nb: u32_of(OP, x.len())?,
        ..Default::default()
    };
    let spec = ArithSpec {
        copy: true,
        ..Default::default()
    };
    let buffers = [x.buffer(), x.buffer(), out.buffer()];
    BINARY.launch(x.gpu(), OP, (spec, params), buffers, Work::Items(out.len()))?;
    Ok(out)
}

/// The backward of a broadcast: `g` (shaped like the larger operand) summed over the leading
/// dimensions the operand of shape `shape` was repeated over. `g` itself where nothing was.
pub fn reduce_to(g: &Tensor, shape: &[usize]) -> Result<Tensor> {
    const OP: &str = "reduce_to";
    if !broadcasts(shape, g.shape()) {
        return Err(Error::ShapeMismatch {
            op: OP,
            expected: format!("a gradient whose shape ends {shape:?}"),
            got: g.shape().to_vec(),
        });
    }
    let n: usize = shape.iter().product();
    if n == g.len() {
        return g.reshape(shape);
    }
    column_sum(&g.reshape(&[g.len() / n, n])?)?.reshape(shape)
}
