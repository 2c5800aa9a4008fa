//! Conv2d, forward and backward, lowered to the tuned matmul through explicit columns
//! (`shaders/conv2d.wgsl`). NCHW, f32, square k×k kernels, stride s, zero padding p, dilation 1,
//! groups 1; Ho = (H + 2p − k)/s + 1 (PyTorch's rule), P = Ho·Wo, CKK = C·k·k.
//!
//! ```text
//! forward   cols [n·P, CKK4] = im2col(x)         rows = cols · W2ᵀ  [n·P, out]   (W2 = W as [out, CKK4])
//!           y [N, out, Ho, Wo] = to_nchw(rows) + b
//! backward  dyr [n·P, out], dyrᵀ = from_nchw(dy)  dW2 += dyrᵀ · cols   db += Σ_rows dyr
//!           dcols = dyr · W2  [n·P, CKK4]         dx = col2im(dcols)  (a gather: deterministic)
//! ```
//!
//! CKK4 is CKK rounded up to whole vec4s (zero columns in cols and W2), so the products run on
//! the kernels that read vec4s. Images go through in chunks whose columns stay within [`MAX_COLUMN_ELEMENTS`] and the
//! device's binding size; the backward recomputes the columns rather than keep them.

use crate::error::{Error, Result};
use crate::kernels::{kernels, spec, uniform, Source, Work, PRELUDE, WINDOWS};
use crate::ops::{
    add_assign, column_sum, gemm, same_gpu, u32_of, Transpose, MAX_JACOBIAN_ELEMENTS,
};
use crate::tensor::Tensor;

pub use super::conv_shape::{ConvShape, MAX_COLUMN_ELEMENTS};

static SOURCE: Source = Source::of(
    "conv2d",
    &[PRELUDE, WINDOWS, include_str!("../../shaders/conv2d.wgsl")],
);

uniform! {
    /// `conv2d.wgsl`: `images` images from image `first` of [N, c, h, w]; a k×k kernel,
    /// `stride`, zero padding `pad` (`conv_jacobian`: `first` is the output channels).
    ConvParams { images: u32, first: u32, c: u32, h: u32, w: u32, k: u32, stride: u32, pad: u32 }
}

spec! {
    /// `to_nchw` adds the bias; reads the rows transposed, [out, n·P].
    NchwSpec { has_bias: "HAS_BIAS", transposed: "TRANSPOSED" }
}

spec! {
    /// `im2col` writes the columns transposed, [CKK4, n·P]; `from_nchw` the rows, [out, n·P].
    LayoutSpec { transposed: "TRANSPOSED" }
}

kernels! {
    /// x → columns, one (row, input channel) per invocation.
    static IM2COL: ConvParams, LayoutSpec = SOURCE, "im2col", [R, RW], [256, 1, 1];
    /// Columns' gradient → dx, one input element per invocation (a gather over the kernel).
    static COL2IM: ConvParams, () = SOURCE, "col2im", [R, RW], [256, 1, 1];
    /// Matmul rows → NCHW (+ bias), a row per invocation: bindings rows, y, bias.
    static TO_NCHW: ConvParams, NchwSpec = SOURCE, "to_nchw", [R, RW, R], [256, 1, 1];
    /// NCHW → matmul rows (or their transpose), a row per invocation.
    static FROM_NCHW: ConvParams, LayoutSpec = SOURCE, "from_nchw", [R, RW], [256, 1, 1];
    /// ∂y/∂x, one element per invocation: bindings W, J.
    static JACOBIAN: ConvParams, () = SOURCE, "conv_jacobian", [R, RW], [256, 1, 1];
    /// W as [out, CKK4], zero columns past CKK.
    static PAD_WEIGHTS: ConvParams, () = SOURCE, "pad_weights", [R, RW], [256, 1, 1];
    /// dW from its padded rows.
    static UNPAD_WEIGHTS: ConvParams, () = SOURCE, "unpad_weights", [R, RW], [256, 1, 1];
}

/// The floats one storage binding holds on `x`'s device.
fn binding_floats(x: &Tensor) -> usize {
    (x.gpu().max_binding_bytes() / 4) as usize
}

/// The columns of `images` images from image `first`: [images·P, CKK4], or `transposed`
/// [CKK4, images·P].
fn im2col(
    op: &'static str,
    x: &Tensor,
    s: &ConvShape,
    (images, first): (usize, usize),
    transposed: bool,
) -> Result<Tensor> {
    let rows = images * s.ho * s.wo;
    let shape = if transposed {
        [s.ckk4(), rows]
    } else {
        [rows, s.ckk4()]
    };
    let cols = Tensor::empty(x.gpu(), op, &shape)?;
    let params = s.params(op, images, first)?;
    // One invocation per (row, input channel).
    let work = Work::Items(rows * s.c);
    let spec = LayoutSpec { transposed };
    IM2COL.launch(
        x.gpu(),
        op,
        (spec, params),
        [x.buffer(), cols.buffer()],
        work,
    )?;
    Ok(cols)
}

fn check_bias(op: &'static str, b: &Tensor, out: usize) -> Result<()> {
    if b.shape() != [out] {
        return Err(Error::ShapeMismatch {
            op,
            expected: format!("a bias [{out}]"),
            got: b.shape().to_vec(),
        });
    }
    Ok(())
}

/// How conv2d's forward runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConvKernel {
    /// `Implicit` on GPUs, `Explicit` on CPU devices (measured faster on llvmpipe, whose
    /// texture matmul outruns the blocked kernel the implicit GEMM is built on: BENCHMARKS.md).
    Auto,
    /// im2col into explicit columns (in chunks of images), the tuned matmul, then to NCHW.
    Explicit,
    /// One implicit GEMM (`conv_gemm.rs`): the columns are never written (and the backward's
    /// dx is a transposed convolution, no col2im). Geometries it cannot pack (sides or
    /// channels of 65,536 or more, kernels of 256, stride or padding of 16) run `Explicit`.
    Implicit,
}

/// Whether `kernel` means the implicit GEMM on `x`'s device.
fn implicit(kernel: ConvKernel, x: &Tensor) -> bool {
    match kernel {
        ConvKernel::Auto => !x.gpu().profile().cpu,
        ConvKernel::Explicit => false,
        ConvKernel::Implicit => true,
    }
}

/// y = conv2d(x, W) + b for x `[N, C, H, W]`, W `[out, C, k, k]`, b `[out]`: y `[N, out, Ho, Wo]`.
pub fn conv2d(
    x: &Tensor,
    w: &Tensor,
    b: Option<&Tensor>,
    stride: usize,
    pad: usize,
) -> Result<Tensor> {
    conv2d_with(ConvKernel::Auto, x, w, b, (stride, pad))
}

/// [`conv2d`] on a chosen kernel, for tests and benchmarks.
pub fn conv2d_with(
    kernel: ConvKernel,
    x: &Tensor,
    w: &Tensor,
    b: Option<&Tensor>,
    (stride, pad): (usize, usize),
) -> Result<Tensor> {
    const OP: &str = "Conv2d::forward";
    same_gpu(OP, &[x, w])?;
    let s = ConvShape::of(OP, x.shape(), w.shape(), stride, pad)?;
    if let Some(b) = b {
        same_gpu(OP, &[x, b])?;
        check_bias(OP, b, s.out)?;
    }
    let y = Tensor::empty(x.gpu(), OP, &s.output())?;
    if implicit(kernel, x) && super::conv_gemm::forward(OP, (x, w, b), &s, &y)? {
        return Ok(y);
    }
    let w2 = padded_weights(OP, w, &s)?;
    let chunk = s.chunk(OP, binding_floats(x))?;
    for first in (0..s.n).step_by(chunk) {
        let images = chunk.min(s.n - first);
        let cols_t = im2col(OP, x, &s, (images, first), true)?;
        let rows_t = gemm(&w2, Transpose::No, &cols_t, Transpose::No, None)?;
        let spec = NchwSpec {
            has_bias: b.is_some(),
            transposed: true,
        };
        let bias = b.unwrap_or(&rows_t);
        let params = s.layout_params(OP, images, first)?;
        let work = Work::Items(images * s.ho * s.wo);
        let buffers = [rows_t.buffer(), y.buffer(), bias.buffer()];
        TO_NCHW.launch(x.gpu(), OP, (spec, params), buffers, work)?;
    }
    Ok(y)
}

/// The gradients of [`conv2d`] from dL/dy: (dx `[N, C, H, W]`, dW `[out, C, k, k]`, db `[out]`).
pub fn conv2d_backward(
    x: &Tensor,
    w: &Tensor,
    dy: &Tensor,
    stride: usize,
    pad: usize,
) -> Result<(Tensor, Tensor, Tensor)> {
    conv2d_backward_with(ConvKernel::Auto, x, w, dy, (stride, pad))
}

/// [`conv2d_backward`] with dx on a chosen kernel (`Implicit`: a transposed convolution as one
/// implicit GEMM; `Explicit`: the columns' gradient, then col2im), for tests and benchmarks.
/// dW and db go through explicit columns either way.
pub fn conv2d_backward_with(
    kernel: ConvKernel,
    x: &Tensor,
    w: &Tensor,
    dy: &Tensor,
    (stride, pad): (usize, usize),
) -> Result<(Tensor, Tensor, Tensor)> {
    let (dx, dw, db) = conv2d_gradients(kernel, x, w, dy, (stride, pad), true)?;
    let dx = dx.ok_or(Error::InvalidArgument {
        op: "Conv2d::backward",
        message: "no dx".into(),
    })?;
    Ok((dx, dw, db))
}

/// (dx if `want_dx`, dW, db) of [`conv2d`]: without dx, the columns' gradient and col2im are
/// skipped (the first layer of a model being trained).
pub(crate) fn conv2d_gradients(
    kernel: ConvKernel,
    x: &Tensor,
    w: &Tensor,
    dy: &Tensor,
    (stride, pad): (usize, usize),
    want_dx: bool,
) -> Result<(Option<Tensor>, Tensor, Tensor)> {
    const OP: &str = "Conv2d::backward";
    same_gpu(OP, &[x, w, dy])?;
    let s = ConvShape::of(OP, x.shape(), w.shape(), stride, pad)?;
    if dy.shape() != s.output() {
        return Err(Error::ShapeMismatch {
            op: OP,
            expected: format!("dL/dy shaped like the output {:?}", s.output()),
            got: dy.shape().to_vec(),
        });
    }
    let gpu = x.gpu();
    let dx = if want_dx {
        Some(Tensor::empty(gpu, OP, x.shape())?)
    } else {
        None
    };
    // dx as one transposed convolution, where the implicit GEMM runs: no columns' gradient.
    let dx_done = match &dx {
        Some(dx) if implicit(kernel, x) => super::conv_gemm::input_gradient(OP, (dy, w), &s, dx)?,
        _ => false,
    };
    // Otherwise dx from the columns' gradient, which needs W as [out, CKK4] (nothing to pad
    // when there is no dx to make: the first layer of a model being trained).
    let explicit_dx = match &dx {
        Some(dx) if !dx_done => Some((dx, padded_weights(OP, w, &s)?)),
        _ => None,
    };
    let (mut dw, mut db): (Option<Tensor>, Option<Tensor>) = (None, None);
    let chunk = s.chunk(OP, binding_floats(x))?;
    for first in (0..s.n).step_by(chunk) {
        let images = chunk.min(s.n - first);
        let cols = im2col(OP, x, &s, (images, first), false)?;
        let dyr = rows_of(OP, dy, &s, (images, first), false)?;
        let dyt = rows_of(OP, dy, &s, (images, first), true)?;
        let dw_c = gemm(&dyt, Transpose::No, &cols, Transpose::No, None)?;
        let db_c = column_sum(&dyr)?;
        accumulate(&mut dw, dw_c)?;
        accumulate(&mut db, db_c)?;
        if let Some((dx, w2)) = &explicit_dx {
            let dcols = gemm(&dyr, Transpose::No, w2, Transpose::No, None)?;
            let params = s.params(OP, images, first)?;
            let work = Work::Items(images * s.c * s.h * s.w);
            COL2IM.launch(gpu, OP, ((), params), [dcols.buffer(), dx.buffer()], work)?;
        }
    }
    let missing = || Error::InvalidArgument {
        op: OP,
        message: "a batch of no images".into(),
    };
    let dw = unpadded_weights(OP, &dw.ok_or_else(missing)?, &s)?.reshape(w.shape())?;
    Ok((dx, dw, db.ok_or_else(missing)?))
}

/// W [out, C, k, k] as the matmul's [out, CKK4] (a copy with zero columns where CKK is not
/// whole vec4s, else the same buffer).
fn padded_weights(op: &'static str, w: &Tensor, s: &ConvShape) -> Result<Tensor> {
    if s.ckk4() == s.ckk() {
        return w.reshape(&[s.out, s.ckk()]);
    }
    let w4 = Tensor::empty(w.gpu(), op, &[s.out, s.ckk4()])?;
    let mut params = s.params(op, 0, 0)?;
    params.first = u32_of(op, s.out)?;
    let work = Work::Items(w4.len());
    PAD_WEIGHTS.launch(w.gpu(), op, ((), params), [w.buffer(), w4.buffer()], work)?;
    Ok(w4)
}

/// dW [out, CKK] from the matmul's [out, CKK4].
fn unpadded_weights(op: &'static str, dw4: &Tensor, s: &ConvShape) -> Result<Tensor> {
    if s.ckk4() == s.ckk() {
        return Ok(dw4.clone());
    }
    let dw = Tensor::empty(dw4.gpu(), op, &[s.out, s.ckk()])?;
    let mut params = s.params(op, 0, 0)?;
    params.first = u32_of(op, s.out)?;
    let work = Work::Items(dw.len());
    UNPAD_WEIGHTS.launch(
        dw4.gpu(),
        op,
        ((), params),
        [dw4.buffer(), dw.buffer()],
        work,
    )?;
    Ok(dw)
}

/// dy of `images` images from image `first` as matmul rows [images·P, out], or transposed
/// [out, images·P].
fn rows_of(
    op: &'static str,
    dy: &Tensor,
    s: &ConvShape,
    (images, first): (usize, usize),
    transposed: bool,
) -> Result<Tensor> {
    let rows = images * s.ho * s.wo;
    let shape = if transposed {
        [s.out, rows]
    } else {
        [rows, s.out]
    };
    let out = Tensor::empty(dy.gpu(), op, &shape)?;
    let params = s.layout_params(op, images, first)?;
    let spec = LayoutSpec { transposed };
    let work = Work::Items(rows);
    FROM_NCHW.launch(
        dy.gpu(),
        op,
        (spec, params),
        [dy.buffer(), out.buffer()],
        work,
    )?;
    Ok(out)
}

fn accumulate(acc: &mut Option<Tensor>, x: Tensor) -> Result<()> {
    match acc {
        Some(a) => add_assign(a, &x),
        None => {
            *acc = Some(x);
            Ok(())
        }
    }
}

/// ∂y/∂x of [`conv2d`] for an input of `x_shape` under W: [N·out·Ho·Wo, N·C·H·W], refused
/// above [`MAX_JACOBIAN_ELEMENTS`].
pub fn conv2d_input_jacobian(
    w: &Tensor,
    x_shape: &[usize],
    stride: usize,
    pad: usize,
) -> Result<Tensor> {
    const OP: &str = "conv2d_input_jacobian";
    let s = ConvShape::of(OP, x_shape, w.shape(), stride, pad)?;
    let rows = s.n * s.out * s.ho * s.wo;
    let cols = s.n * s.c * s.h * s.w;
    let total = rows.saturating_mul(cols);
    if total > MAX_JACOBIAN_ELEMENTS {
        return Err(Error::TooLarge {
            op: OP,
            what: "elements in the explicit Jacobian",
            requested: total as u64,
            limit: MAX_JACOBIAN_ELEMENTS as u64,
        });
    }
    let jac = Tensor::empty(w.gpu(), OP, &[rows, cols])?;
    let mut params = s.params(OP, s.n, 0)?;
    params.first = u32_of(OP, s.out)?;
    JACOBIAN.launch(
        w.gpu(),
        OP,
        ((), params),
        [w.buffer(), jac.buffer()],
        Work::Items(total),
    )?;
    Ok(jac)
}
