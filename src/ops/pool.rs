//! 2-D max and average pooling (`shaders/pool2d.wgsl`), forward, backward and Jacobian, over
//! NCHW planes: k×k windows, stride s, no padding, Ho = (H − k)/s + 1. Max pooling sends the
//! gradient to the first maximum of each window in row-major order (the first NaN where there
//! is one: a window with NaN gives NaN); its forward returns the winners' window indices for
//! the backward.

use crate::error::{Error, Result};
use crate::kernels::{kernels, uniform, Source, Work, PRELUDE, WINDOWS};
use crate::ops::{u32_of, MAX_JACOBIAN_ELEMENTS};
use crate::tensor::Tensor;

static SOURCE: Source = Source::of(
    "pool2d",
    &[PRELUDE, WINDOWS, include_str!("../../shaders/pool2d.wgsl")],
);

uniform! {
    /// `pool2d.wgsl`: `planes` planes of h × w, k×k windows every `stride`.
    PoolParams { planes: u32, h: u32, w: u32, k: u32, stride: u32, _pad0: u32, _pad1: u32, _pad2: u32 }
}

kernels! {
    /// One output per invocation: the maximum and where it is.
    static MAX_FORWARD: PoolParams, () = SOURCE, "max_forward", [R, RW, RW], [256, 1, 1];
    /// One input per invocation: the gradients of the windows it won.
    static MAX_BACKWARD: PoolParams, () = SOURCE, "max_backward", [R, RW, RW], [256, 1, 1];
    /// One element of J per invocation.
    static MAX_JACOBIAN: PoolParams, () = SOURCE, "max_jacobian", [R, RW, RW], [256, 1, 1];
    static AVG_FORWARD: PoolParams, () = SOURCE, "avg_forward", [R, RW], [256, 1, 1];
    static AVG_BACKWARD: PoolParams, () = SOURCE, "avg_backward", [R, RW], [256, 1, 1];
    static AVG_JACOBIAN: PoolParams, () = SOURCE, "avg_jacobian", [R, RW], [256, 1, 1];
}

/// Max or average.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pool {
    /// Each window's maximum.
    Max,
    /// Each window's mean.
    Avg,
}

impl Pool {
    fn name(self, pass: Pass) -> &'static str {
        match (self, pass) {
            (Pool::Max, Pass::Forward) => "MaxPool2d::forward",
            (Pool::Max, Pass::Backward) => "MaxPool2d::backward",
            (Pool::Max, Pass::Jacobian) => "MaxPool2d::jacobian",
            (Pool::Avg, Pass::Forward) => "AvgPool2d::forward",
            (Pool::Avg, Pass::Backward) => "AvgPool2d::backward",
            (Pool::Avg, Pass::Jacobian) => "AvgPool2d::jacobian",
        }
    }
}

/// Which of a pooling's ops runs: its name in errors.
#[derive(Clone, Copy, Debug)]
enum Pass {
    Forward,
    Backward,
    Jacobian,
}

/// A pooling's geometry, checked: input [N, C, H, W], output [N, C, Ho, Wo].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolShape {
    /// Images.
    pub n: usize,
    /// Channels.
    pub c: usize,
    /// Input height.
    pub h: usize,
    /// Input width.
    pub w: usize,
    /// Window side.
    pub k: usize,
    /// Stride.
    pub stride: usize,
    /// Output height.
    pub ho: usize,
    /// Output width.
    pub wo: usize,
}

impl PoolShape {
    /// The geometry of `x` under k×k windows every `stride`; `Err` naming `op` where the
    /// input is not [N, C, H, W] or smaller than a window.
    pub fn of(op: &'static str, x: &[usize], k: usize, stride: usize) -> Result<Self> {
        let &[n, c, h, w] = x else {
            return Err(Error::ShapeMismatch {
                op,
                expected: "an input [N, C, H, W]".into(),
                got: x.to_vec(),
            });
        };
        if k == 0 || stride == 0 {
            return Err(Error::InvalidArgument {
                op,
                message: format!("kernel size {k} and stride {stride} must be at least 1"),
            });
        }
        if k > h || k > w {
            return Err(Error::ShapeMismatch {
                op,
                expected: format!("an input of at least {k}×{k} per plane"),
                got: x.to_vec(),
            });
        }
        let (ho, wo) = ((h - k) / stride + 1, (w - k) / stride + 1);
        Ok(PoolShape {
            n,
            c,
            h,
            w,
            k,
            stride,
            ho,
            wo,
        })
    }

    /// The output's shape [N, C, Ho, Wo].
    pub fn output(&self) -> [usize; 4] {
        [self.n, self.c, self.ho, self.wo]
    }

    fn params(&self, op: &'static str) -> Result<PoolParams> {
        Ok(PoolParams {
            planes: u32_of(op, self.n * self.c)?,
            h: u32_of(op, self.h)?,
            w: u32_of(op, self.w)?,
            k: u32_of(op, self.k)?,
            stride: u32_of(op, self.stride)?,
            ..Default::default()
        })
    }
}

/// y = pool(x) for x [N, C, H, W]: ([N, C, Ho, Wo], and for max pooling the winners' window
/// indices, shaped like y, which [`pool2d_backward`] and [`pool2d_jacobian`] take).
pub fn pool2d(kind: Pool, x: &Tensor, k: usize, stride: usize) -> Result<(Tensor, Option<Tensor>)> {
    let op = kind.name(Pass::Forward);
    let s = PoolShape::of(op, x.shape(), k, stride)?;
    let gpu = x.gpu();
    let y = Tensor::empty(gpu, op, &s.output())?;
    let params = s.params(op)?;
    let work = Work::Items(y.len());
    match kind {
        Pool::Max => {
            let arg = Tensor::empty(gpu, op, &s.output())?;
            let buffers = [x.buffer(), y.buffer(), arg.buffer()];
            MAX_FORWARD.launch(gpu, op, ((), params), buffers, work)?;
            Ok((y, Some(arg)))
        }
        Pool::Avg => {
            AVG_FORWARD.launch(gpu, op, ((), params), [x.buffer(), y.buffer()], work)?;
            Ok((y, None))
        }
    }
}

fn winners<'a>(op: &'static str, arg: Option<&'a Tensor>, out: &[usize]) -> Result<&'a Tensor> {
    match arg {
        Some(a) if a.shape() == out => Ok(a),
        other => Err(Error::ShapeMismatch {
            op,
            expected: format!("the forward's window indices {out:?}"),
            got: other.map(|a| a.shape().to_vec()).unwrap_or_default(),
        }),
    }
}

/// dL/dx of [`pool2d`] for an input of `x_shape` from dL/dy (and, for max pooling, the
/// forward's window indices).
pub fn pool2d_backward(
    kind: Pool,
    x_shape: &[usize],
    dy: &Tensor,
    arg: Option<&Tensor>,
    k: usize,
    stride: usize,
) -> Result<Tensor> {
    let op = kind.name(Pass::Backward);
    let s = PoolShape::of(op, x_shape, k, stride)?;
    if dy.shape() != s.output() {
        return Err(Error::ShapeMismatch {
            op,
            expected: format!("dL/dy shaped like the output {:?}", s.output()),
            got: dy.shape().to_vec(),
        });
    }
    let gpu = dy.gpu();
    let dx = Tensor::empty(gpu, op, x_shape)?;
    let params = s.params(op)?;
    let work = Work::Items(dx.len());
    match kind {
        Pool::Max => {
            let arg = winners(op, arg, &s.output())?;
            let buffers = [dy.buffer(), dx.buffer(), arg.buffer()];
            MAX_BACKWARD.launch(gpu, op, ((), params), buffers, work)?;
        }
        Pool::Avg => {
            AVG_BACKWARD.launch(gpu, op, ((), params), [dy.buffer(), dx.buffer()], work)?
        }
    }
    Ok(dx)
}

/// ∂y/∂x of [`pool2d`] for `x`: [N·C·Ho·Wo, N·C·H·W], refused above
/// [`MAX_JACOBIAN_ELEMENTS`].
pub fn pool2d_jacobian(
    kind: Pool,
    x: &Tensor,
    arg: Option<&Tensor>,
    k: usize,
    stride: usize,
) -> Result<Tensor> {
    let op = kind.name(Pass::Jacobian);
    let s = PoolShape::of(op, x.shape(), k, stride)?;
    let rows = s.n * s.c * s.ho * s.wo;
    let total = rows.saturating_mul(x.len());
    if total > MAX_JACOBIAN_ELEMENTS {
        return Err(Error::TooLarge {
            op,
            what: "elements in the explicit Jacobian",
            requested: total as u64,
            limit: MAX_JACOBIAN_ELEMENTS as u64,
        });
    }
    let gpu = x.gpu();
    let jac = Tensor::empty(gpu, op, &[rows, x.len()])?;
    let params = s.params(op)?;
    let work = Work::Items(total);
    match kind {
        Pool::Max => {
            let arg = winners(op, arg, &s.output())?;
            let buffers = [x.buffer(), jac.buffer(), arg.buffer()];
            MAX_JACOBIAN.launch(gpu, op, ((), params), buffers, work)?;
        }
        Pool::Avg => {
            AVG_JACOBIAN.launch(gpu, op, ((), params), [x.buffer(), jac.buffer()], work)?
        }
    }
    Ok(jac)
}
