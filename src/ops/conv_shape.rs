//! A convolution's geometry, checked once for the forward, the backward and the Jacobian
//! (`ops/conv.rs`): input [N, C, H, W] under weights [out, C, k, k], stride and padding, the
//! output size, the columns' padded width, the chunk of images whose columns fit, and the
//! kernels' uniform.

use super::conv::ConvParams;
use crate::error::{Error, Result};
use crate::ops::u32_of;

/// The most elements of one chunk's columns (2^26 floats = 256 MiB).
pub const MAX_COLUMN_ELEMENTS: usize = 1 << 26;

/// A convolution's geometry, checked: input [n, c, h, w], `out` filters of c×k×k, output
/// [n, out, ho, wo].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvShape {
    /// Images.
    pub n: usize,
    /// Input channels.
    pub c: usize,
    /// Input height.
    pub h: usize,
    /// Input width.
    pub w: usize,
    /// Output channels (filters).
    pub out: usize,
    /// Kernel side.
    pub k: usize,
    /// Stride.
    pub stride: usize,
    /// Zero padding on every side.
    pub pad: usize,
    /// Output height.
    pub ho: usize,
    /// Output width.
    pub wo: usize,
}

impl ConvShape {
    /// The geometry of x (`[N, C, H, W]`) under weights `[out, C, k, k]`; `Err` naming `op`
    /// and the shapes where they do not fit.
    pub fn of(
        op: &'static str,
        x: &[usize],
        w: &[usize],
        stride: usize,
        pad: usize,
    ) -> Result<Self> {
        let bad = |expected: String, got: &[usize]| Error::ShapeMismatch {
            op,
            expected,
            got: got.to_vec(),
        };
        let &[n, c, h, wd] = x else {
            return Err(bad("an input [N, C, H, W]".into(), x));
        };
        let &[out, cin, k, k2] = w else {
            return Err(bad("weights [out, in, k, k]".into(), w));
        };
        if cin != c {
            return Err(bad(
                format!("an input with {cin} channels [N, {cin}, H, W]"),
                x,
            ));
        }
        if k != k2 {
            return Err(bad("square kernels [out, in, k, k]".into(), w));
        }
        if stride == 0 {
            return Err(Error::InvalidArgument {
                op,
                message: "stride must be at least 1".into(),
            });
        }
        if k > h + 2 * pad || k > wd + 2 * pad {
            return Err(bad(
                format!("an input whose padded size (H + 2·{pad}, W + 2·{pad}) holds the {k}×{k} kernel"),
                x,
            ));
        }
        let (ho, wo) = (
            (h + 2 * pad - k) / stride + 1,
            (wd + 2 * pad - k) / stride + 1,
        );
        Ok(ConvShape {
            n,
            c,
            h,
            w: wd,
            out,
            k,
            stride,
            pad,
            ho,
            wo,
        })
    }

    /// The output's shape [N, out, Ho, Wo].
    pub fn output(&self) -> [usize; 4] {
        [self.n, self.out, self.ho, self.wo]
    }

    pub(crate) fn ckk(&self) -> usize {
        self.c * self.k * self.k
    }

    /// The columns' row length: CKK rounded up to whole vec4s, so that the products run on
    /// the kernels that read vec4s (on llvmpipe the tiled kernel, which takes any shape, ran
    /// the first layer's dW, 16×9 over a K of 2,048, in one workgroup at 47 ms a step).
    pub(crate) fn ckk4(&self) -> usize {
        self.ckk().next_multiple_of(4)
    }

    pub(crate) fn params(
        &self,
        op: &'static str,
        images: usize,
        first: usize,
    ) -> Result<ConvParams> {
        Ok(ConvParams {
            images: u32_of(op, images)?,
            first: u32_of(op, first)?,
            c: u32_of(op, self.c)?,
            h: u32_of(op, self.h)?,
            w: u32_of(op, self.w)?,
            k: u32_of(op, self.k)?,
            stride: u32_of(op, self.stride)?,
            pad: u32_of(op, self.pad)?,
        })
    }

    /// The layout kernels' parameters: `images` of [out, Ho, Wo] from image `first`.
    pub(crate) fn layout_params(
        &self,
        op: &'static str,
        images: usize,
        first: usize,
    ) -> Result<ConvParams> {
        Ok(ConvParams {
            images: u32_of(op, images)?,
            first: u32_of(op, first)?,
            c: u32_of(op, self.out)?,
            h: u32_of(op, self.ho)?,
            w: u32_of(op, self.wo)?,
            k: 1,
            stride: 1,
            pad: 0,
        })
    }

    /// Images per chunk: as many as keep the columns within the limits (at least one, or
    /// `Err` when one image's columns do not fit).
    pub(crate) fn chunk(&self, op: &'static str, binding_floats: usize) -> Result<usize> {
        let per_image = self.ho * self.wo * self.ckk4().max(self.out);
        let limit = MAX_COLUMN_ELEMENTS.min(binding_floats);
        if per_image > limit {
            return Err(Error::TooLarge {
                op,
                what: "elements in one image's im2col columns",
                requested: per_image as u64,
                limit: limit as u64,
            });
        }
        Ok((limit / per_image).clamp(1, self.n))
    }
}
