//! Conv2d's forward as an implicit GEMM (`shaders/conv_gemm.wgsl` on the blocked matmul's core,
//! 64×128 tiles: few output channels, many pixels): W2 [out, CKK] times columns that are never
//! written — the kernel computes each column element's address in x as it stages the tile —
//! stored straight into y's NCHW layout with the bias. One dispatch for the whole batch, where
//! the explicit path (`conv.rs`) writes the 9×-sized columns, multiplies, then transposes.

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
    /// The bias; W2's rows whole vec4s (CKK % 4 = 0); edge checks (the shape does not fit).
    ConvGemmSpec { has_bias: "HAS_BIAS", vec4: "VEC4", edge: "EDGE" }
}

kernels! {
    /// y = conv2d(x, W) + b in one dispatch: bindings W, x, bias, y.
    pub(crate) static CONV_GEMM: ConvGemmParams, ConvGemmSpec =
        SOURCE, "matmul_blocked", [R, R, R, RW], [16, 16, 1];
}

/// The packed geometry, where every field fits its bits (h, w, c < 65,536; k < 256; stride,
/// pad < 16): else `None`, and the explicit path runs.
fn packed(s: &ConvShape) -> Option<(u32, u32)> {
    let fits = s.h < 1 << 16 && s.w < 1 << 16 && s.c < 1 << 16 && s.k < 256;
    (fits && s.stride < 16 && s.pad < 16).then(|| {
        let hw = ((s.h << 16) | s.w) as u32;
        (
            hw,
            ((s.c << 16) | (s.k << 8) | (s.stride << 4) | s.pad) as u32,
        )
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
    let (m, n, k) = (s.out, s.n * s.ho * s.wo, s.ckk());
    // On drivers that cap loops (llvmpipe), K in one range only while the blocked kernel's
    // loop stays under the cap (`matmul_blocked.rs`: 16,384).
    let capped = x.gpu().profile().caps_loops && k > 16_384;
    let Some((hw, geometry)) = packed(s).filter(|_| !capped) else {
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
    let spec = ConvGemmSpec {
        has_bias: b.is_some(),
        vec4: k.is_multiple_of(4),
        edge: !(m % BM == 0 && n % BN == 0 && k % BK == 0 && k.is_multiple_of(4)),
    };
    let bias = b.unwrap_or(w);
    let buffers = [w.buffer(), x.buffer(), bias.buffer(), y.buffer()];
    let work = Work::Tiles(n.div_ceil(BN), m.div_ceil(BM));
    CONV_GEMM.launch(x.gpu(), op, (spec, params), buffers, work)?;
    Ok(true)
}
