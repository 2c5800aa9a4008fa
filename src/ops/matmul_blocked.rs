//! The blocked GPU matmul family (`shaders/matmul_blocked.wgsl`) on the host: which
//! specialisation a call takes (aligned vec4 loads, edge checks only when the shape does not
//! fit the tile, the ReLU epilogue) and split-K — partial products over ranges of K into a
//! workspace, summed by `shaders/matmul_split.wgsl` — for products with few output tiles and a
//! long K, and on drivers that cap loops (llvmpipe) for any K too long for one dispatch.

use crate::error::Result;
use crate::kernels::{
    kernels, spec, tile_header, uniform, Decl, Source, Tile, Work, PRELUDE, RELU_EPILOGUE,
};
use crate::ops::matmul::Product;
use crate::ops::u32_of;
use crate::tensor::Tensor;

const OP: &str = "matmul";

const BLOCKED: &str = include_str!("../../shaders/matmul_blocked.wgsl");
/// The tiles, their staging and the loop over K, shared with conv2d's implicit GEMM.
pub(crate) const BLOCKED_CORE: &str = include_str!("../../shaders/blocked_core.wgsl");

/// One source per tile: the tile's constants and unrolled steps (`kernels/blocked.rs`) in
/// front. Every access is guarded by the kernel (EDGE) or by the host's choice of
/// specialisation, so `WGPU_BACKPROP_UNCHECKED=1` may leave wgpu's checks out.
const fn blocked_source(name: &'static str, header: fn() -> String) -> Source {
    Source {
        header: Some(header),
        guards_itself: true,
        ..Source::of(name, &[PRELUDE, RELU_EPILOGUE, BLOCKED, BLOCKED_CORE])
    }
}
static SOURCE_128X128: Source =
    blocked_source("matmul_blocked_128x128", || tile_header(128, 128, 8));
static SOURCE_128X128K16: Source = Source {
    workgroup_bytes: Tile::T128x128K16.workgroup_bytes() as u32,
    ..blocked_source("matmul_blocked_128x128k16", || tile_header(128, 128, 16))
};
static SOURCE_128X64: Source = blocked_source("matmul_blocked_128x64", || tile_header(128, 64, 8));
static SOURCE_64X128: Source = blocked_source("matmul_blocked_64x128", || tile_header(64, 128, 8));
static SOURCE_64X64: Source = blocked_source("matmul_blocked_64x64", || tile_header(64, 64, 16));
static SPLIT_SOURCE: Source = Source {
    guards_itself: true,
    ..Source::of(
        "matmul_split",
        &[
            PRELUDE,
            RELU_EPILOGUE,
            include_str!("../../shaders/matmul_split.wgsl"),
        ],
    )
};

uniform! {
    /// `matmul_blocked.wgsl` (every tile): C (m, n), inner dimension k, cut into `splits`
    /// ranges of `k_split`; `row_tiles` tiles of rows.
    BlockedParams {
        m: u32, n: u32, k: u32, k_split: u32, row_tiles: u32, splits: u32, _pad0: u32, _pad1: u32,
    }
}

uniform! {
    /// `matmul_split.wgsl`: the `splits` partial products of `len` = M·N elements, rows of `n`.
    SplitParams { len: u32, n: u32, splits: u32, _pad: u32 }
}

spec! {
    /// The blocked kernel's flags: transposes, bias, the ReLU epilogue, vec4 loads (rows are
    /// whole vec4s), edge checks (the shape does not fit the tile).
    BlockedSpec {
        trans_a: "TRANS_A", trans_b: "TRANS_B", has_bias: "HAS_BIAS", relu: "RELU",
        vec4: "VEC4", edge: "EDGE",
    }
}

spec! {
    /// Split-K's sum (and the texture kernel's) epilogue: bias, ReLU.
    EpilogueSpec { has_bias: "HAS_BIAS", relu: "RELU" }
}

kernels! {
    /// C = op(A)·op(B) (+ bias) (ReLU), or one range of K's partial product, with 128×128
    /// tiles: bindings A, B, bias, C (or the workspace).
    static BLOCKED_128X128: BlockedParams, BlockedSpec =
        SOURCE_128X128, "matmul_blocked", [R, R, R, RW], [16, 16, 1];
    /// The same with 128×128 tiles and K slices of 16 (32 KiB of workgroup memory).
    static BLOCKED_128X128K16: BlockedParams, BlockedSpec =
        SOURCE_128X128K16, "matmul_blocked", [R, R, R, RW], [16, 16, 1];
    /// The same with 128×64 tiles.
    static BLOCKED_128X64: BlockedParams, BlockedSpec =
        SOURCE_128X64, "matmul_blocked", [R, R, R, RW], [16, 16, 1];
    /// The same with 64×128 tiles.
    static BLOCKED_64X128: BlockedParams, BlockedSpec =
        SOURCE_64X128, "matmul_blocked", [R, R, R, RW], [16, 16, 1];
    /// The same with 64×64 tiles.
    static BLOCKED_64X64: BlockedParams, BlockedSpec =
        SOURCE_64X64, "matmul_blocked", [R, R, R, RW], [16, 16, 1];
    /// Split-K's sum of partial products (+ bias, ReLU): bindings partials, bias, C.
    static SPLIT_SUM: SplitParams, EpilogueSpec =
        SPLIT_SOURCE, "matmul_split_sum", [R, R, RW], [256, 1, 1];
}

/// The blocked kernel of `tile`.
fn blocked(tile: Tile) -> &'static Decl<BlockedParams, BlockedSpec, 4> {
    match tile {
        Tile::T128x128 => &BLOCKED_128X128,
        Tile::T128x128K16 => &BLOCKED_128X128K16,
        Tile::T128x64 => &BLOCKED_128X64,
        Tile::T64x128 => &BLOCKED_64X128,
        Tile::T64x64 => &BLOCKED_64X64,
    }
}

/// On drivers that stop an invocation after 65,535 loop iterations (all its loops together:
/// llvmpipe), the longest k range of one split. A slice of BK = 8 costs up to 25 iterations
/// (the slice, 8 k steps, 4 + 4 staging stores, 4 + 4 unaligned loads), so 16,384 k take
/// about 51,000 (BK = 16 with two quads staged per invocation: 16 + 16 + 16 per 16 k, fewer).
const CAPPED_K_SPLIT: usize = 16_384;

/// How many ranges of K split-K cuts this product into, when asked to: enough workgroups for
/// a big GPU (about 256 tiles of 64×64 in all), each range at least 512 long, at least 2.
pub(crate) fn split_count((m, n, k): (usize, usize, usize)) -> usize {
    let tiles = m.div_ceil(64) * n.div_ceil(64);
    (256 / tiles.max(1)).min(k / 512).max(2)
}

/// Whether every stored row of A, B and C is whole vec4s (K and N multiples of 4, and M when
/// A is stored transposed, (K, M)): then every quad the vec4-loading kernels read is aligned.
pub(crate) fn rows_are_vec4(trans_a: bool, (m, n, k): (usize, usize, usize)) -> bool {
    k % 4 == 0 && n % 4 == 0 && (!trans_a || m % 4 == 0)
}

/// Whether split-K is worth timing for this product: few output tiles and a long K.
pub(crate) fn split_useful((m, n, k): (usize, usize, usize)) -> bool {
    m.div_ceil(64) * n.div_ceil(64) < 64 && k >= 4096
}

/// Records C = op(A)·op(B) (+ bias) (ReLU) with `tile`, K cut into `splits` ranges (1: none;
/// more are added where the driver caps loops).
pub(crate) fn launch(p: &Product<'_>, tile: Tile, splits: usize) -> Result<()> {
    let (m, n, k) = p.mnk;
    let (bm, bn, bk) = tile.dims();
    let vec4 = rows_are_vec4(p.form.trans_a, p.mnk);
    let mut k_split = k.div_ceil(splits.max(1)).next_multiple_of(bk).max(bk);
    if p.gpu.profile().caps_loops {
        k_split = k_split.min(CAPPED_K_SPLIT);
    }
    let splits = k.div_ceil(k_split).max(1);
    let fits = vec4 && k > 0 && m % bm == 0 && n % bn == 0 && k % bk == 0;
    let row_tiles = m.div_ceil(bm);
    let params = BlockedParams {
        m: u32_of(OP, m)?,
        n: u32_of(OP, n)?,
        k: u32_of(OP, k)?,
        k_split: u32_of(OP, k_split)?,
        row_tiles: u32_of(OP, row_tiles)?,
        splits: u32_of(OP, splits)?,
        ..Default::default()
    };
    // Split: the partial products go to a workspace, bias and ReLU to the sum.
    let partials = if splits > 1 {
        Some(Tensor::empty(p.gpu, OP, &[splits, m * n])?)
    } else {
        None
    };
    let spec = BlockedSpec {
        trans_a: p.form.trans_a,
        trans_b: p.form.trans_b,
        has_bias: p.form.bias && partials.is_none(),
        relu: p.form.relu && partials.is_none(),
        vec4,
        edge: !fits,
    };
    let [a, b, bias, c] = p.buffers;
    let out = partials.as_ref().map_or(c, Tensor::buffer);
    let work = Work::Tiles(n.div_ceil(bn), row_tiles * splits);
    blocked(tile).launch(p.gpu, OP, (spec, params), [a, b, bias, out], work)?;
    match &partials {
        Some(partials) => sum_splits(p, partials.buffer(), splits),
        None => Ok(()),
    }
}

/// C = Σ of the `splits` partial products (+ bias) (ReLU).
fn sum_splits(p: &Product<'_>, partials: &wgpu::Buffer, splits: usize) -> Result<()> {
    let (m, n, _) = p.mnk;
    let spec = EpilogueSpec {
        has_bias: p.form.bias,
        relu: p.form.relu,
    };
    let params = SplitParams {
        len: u32_of(OP, m * n)?,
        n: u32_of(OP, n)?,
        splits: u32_of(OP, splits)?,
        _pad: 0,
    };
    let [_, _, bias, c] = p.buffers;
    let work = Work::Items(m * n);
    SPLIT_SUM.launch(p.gpu, OP, (spec, params), [partials, bias, c], work)
}
