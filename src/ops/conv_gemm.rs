//! Conv2d as implicit GEMMs (`shaders/conv_gemm.wgsl` on the blocked matmul's core, 64×128
//! tiles: few channels, many pixels). The forward: W2 [out, CKK] times columns that are never
//! written — the kernel computes each column element's address in x as it stages the tile —
//! stored straight into y's NCHW layout with the bias. The input's gradient: W gathered as
//! [C, out·k·k] times dy gathered through the windows (a transposed convolution), stored into
//! dx. One dispatch each for the whole batch, where the explicit path (`conv.rs`) writes the
//! 9×-sized columns, multiplies, then transposes (forward) or scatters back by col2im.

use crate::error::Result;
use crate::kernels::{kernels, spec, tile_header, uniform, Source, Work, PRELUDE};
use crate::ops::conv_shape::ConvShape;
use crate::ops::matmul_blocked::BLOCKED_CORE;
use crate::ops::u32_of;
use crate::tensor::Tensor;

/// The tile: BM output channels × BN pixels.
const BM: usize = 64;
const BN: usize = 128;
const BK: usize = 8;

static SOURCE: Source = Source {
    header: Some(|| tile_header(BM, BN, BK)),
    guards_itself: true,
    ..Source::of(
        "conv_gemm",
        &[
            PRELUDE,
            include_str!("../../shaders/conv_gemm.wgsl"),
            BLOCKED_CORE,
        ],
    )
};

uniform! {
    /// `conv_gemm.wgsl`: the product's m = out, n = N·P, k = CKK (one range), its row tiles;
    /// the geometry packed: h << 16 | w, c << 16 | ksize << 8 | stride << 4 | pad.
    ConvGemmParams {
        m: u32, n: u32, k: u32, k_split: u32, row_tiles: u32, splits: u32, hw: u32, geometry: u32,
    }
}

spec! {
    /// The input's gradient instead of the forward; the bias; W2's rows whole vec4s
    /// (CKK % 4 = 0); edge checks (the shape does not fit the tile).
    ConvGemmSpec { dx: "DX", has_bias: "HAS_BIAS", vec4: "VEC4", edge: "EDGE" }
}

kernels! {
    /// y = conv2d(x, W) + b, or dx from dy, in one dispatch: bindings W, x (dy), bias, y (dx).
    pub(crate) static CONV_GEMM: ConvGemmParams, ConvGemmSpec =
        SOURCE, "matmul_blocked", [R, R, R, RW], [16, 16, 1];
}

/// The packed geometry, where every field fits its bits (h, w, `other` channels < 65,536;
/// k < 256; stride, pad < 16): else `None`, and the explicit path runs.
fn packed(s: &ConvShape, other: usize) -> Option<(u32, u32)> {
    let fits = s.h < 1 << 16 && s.w < 1 << 16 && other < 1 << 16 && s.k < 256;
    (fits && s.stride < 16 && s.pad < 16).then(|| {
        let hw = ((s.h << 16) | s.w) as u32;
        let geometry = (other << 16) | (s.k << 8) | (s.stride << 4) | s.pad;
        (hw, geometry as u32)
    })
}

/// Records y = conv2d(x, W) + b into `y` on the implicit GEMM; `Ok(false)` where the geometry
/// does not pack (the caller runs the explicit path).
pub(crate) fn forward(
    op: &'static str,
    (x, w, b): (&Tensor, &Tensor, Option<&Tensor>),
    s: &ConvShape,
    y: &Tensor,
) -> Result<bool> {
    let mnk = (s.out, s.n * s.ho * s.wo, s.ckk());
    launch(op, [w, x, b.unwrap_or(w), y], s, mnk, (false, b.is_some()))
}

/// Records dx of conv2d from dy into `dx` (a transposed convolution) on the implicit GEMM;
/// `Ok(false)` where the geometry does not pack.
pub(crate) fn input_gradient(
    op: &'static str,
    (dy, w): (&Tensor, &Tensor),
    s: &ConvShape,
    dx: &Tensor,
) -> Result<bool> {
    let mnk = (s.c, s.n * s.h * s.w, s.out * s.k * s.k);
    launch(op, [w, dy, w, dx], s, mnk, (true, false))
}

/// One dispatch of the implicit GEMM over `buffers` (W, x or dy, bias, y or dx).
fn launch(
    op: &'static str,
    buffers: [&Tensor; 4],
    s: &ConvShape,
    (m, n, k): (usize, usize, usize),
    (dx, has_bias): (bool, bool),
) -> Result<bool> {
    let gpu = buffers[0].gpu();
    // On drivers that cap loops (llvmpipe), K in one range only while the blocked kernel's
    // loop stays under the cap (`matmul_blocked.rs`: 16,384).
    let capped = gpu.profile().caps_loops && k > 16_384;
    let other = if dx { s.out } else { s.c };
    let Some((hw, geometry)) = packed(s, other).filter(|_| !capped) else {
        return Ok(false);
    };
    let params = ConvGemmParams {
        m: u32_of(op, m)?,
        n: u32_of(op, n)?,
        k: u32_of(op, k)?,
        k_split: u32_of(op, k.next_multiple_of(BK))?,
        row_tiles: u32_of(op, m.div_ceil(BM))?,
        splits: 1,
        hw,
        geometry,
    };
    let vec4 = !dx && k.is_multiple_of(4);
    let spec = ConvGemmSpec {
        dx,
        has_bias,
        vec4,
        edge: !(m % BM == 0 && n % BN == 0 && k % BK == 0 && vec4),
    };
    let buffers = buffers.map(Tensor::buffer);
    let work = Work::Tiles(n.div_ceil(BN), m.div_ceil(BM));
    CONV_GEMM.launch(gpu, op, (spec, params), buffers, work)?;
    Ok(true)
}
