//! The blocked GPU matmul family (`shaders/matmul_blocked.wgsl`) on the host: which
//! specialisation a call takes (aligned vec4 loads, edge checks only when the shape does not
//! fit the tile, the ReLU epilogue) and split-K — partial products over ranges of K into a
//! workspace, summed by `shaders/matmul_split.wgsl` — for products with few output tiles and a
//! long K, and on drivers that cap loops (llvmpipe) for any K too long for one dispatch.

use crate::error::Result;
use crate::gpu::Gpu;
use crate::kernels::{
    matmul_blocked, Dispatch, MatmulBlockedParams, MatmulSplitParams, Tile, Uniform, BLOCKED_EDGE,
    BLOCKED_RELU, BLOCKED_VEC4, HAS_BIAS, MATMUL_SPLIT_SUM, SPLIT_HAS_BIAS, SPLIT_RELU, TRANS_A,
};
use crate::ops::u32_of;
use crate::tensor::Tensor;

const OP: &str = "matmul";

/// On drivers that stop an invocation after 65,535 loop iterations (all its loops together:
/// llvmpipe), the longest k range of one split. A slice of BK = 8 costs up to 25 iterations
/// (the slice, 8 k steps, 4 + 4 staging stores, 4 + 4 unaligned loads), so 16,384 k take
/// about 51,000.
const CAPPED_K_SPLIT: usize = 16_384;

/// One product for the blocked kernel: buffers A, B, bias (A's when there is none), C; the
/// transpose and bias bits of `spec` as for the tiled kernel; the shape.
pub(crate) struct Product<'a> {
    pub gpu: &'a Gpu,
    pub buffers: [&'a wgpu::Buffer; 4],
    pub spec: u32,
    pub mnk: (usize, usize, usize),
    pub relu: bool,
}

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
    let vec4 = rows_are_vec4(p.spec & TRANS_A != 0, p.mnk);
    let mut k_split = k.div_ceil(splits.max(1)).next_multiple_of(bk).max(bk);
    if p.gpu.profile().caps_loops {
        k_split = k_split.min(CAPPED_K_SPLIT);
    }
    let splits = k.div_ceil(k_split).max(1);
    let fits = vec4 && k > 0 && m % bm == 0 && n % bn == 0 && k % bk == 0;
    let mut spec = p.spec & !HAS_BIAS;
    if vec4 {
        spec |= BLOCKED_VEC4;
    }
    if !fits {
        spec |= BLOCKED_EDGE;
    }
    let row_tiles = m.div_ceil(bm);
    let params = MatmulBlockedParams {
        m: u32_of(OP, m)?,
        n: u32_of(OP, n)?,
        k: u32_of(OP, k)?,
        k_split: u32_of(OP, k_split)?,
        row_tiles: u32_of(OP, row_tiles)?,
        splits: u32_of(OP, splits)?,
        ..Default::default()
    };
    let grid = p
        .gpu
        .grid_2d(OP, n.div_ceil(bn) as u64, (row_tiles * splits) as u64)?;
    // Split: the partial products go to a workspace, bias and ReLU to the sum.
    let partials = if splits > 1 {
        Some(Tensor::empty(p.gpu, OP, &[splits, m * n])?)
    } else {
        spec |= p.spec & HAS_BIAS;
        if p.relu {
            spec |= BLOCKED_RELU;
        }
        None
    };
    let [a, b, bias, c] = p.buffers;
    let out = partials.as_ref().map_or(c, Tensor::buffer);
    let dispatch = Dispatch {
        kernel: matmul_blocked(tile),
        spec,
        params: params.words(),
        buffers: &[a, b, bias, out],
        grid,
    };
    p.gpu.launch(OP, dispatch)?;
    match &partials {
        Some(partials) => sum_splits(p, partials.buffer(), splits),
        None => Ok(()),
    }
}

/// C = Σ of the `splits` partial products (+ bias) (ReLU).
fn sum_splits(p: &Product<'_>, partials: &wgpu::Buffer, splits: usize) -> Result<()> {
    let (m, n, _) = p.mnk;
    let mut spec = 0;
    if p.spec & HAS_BIAS != 0 {
        spec |= SPLIT_HAS_BIAS;
    }
    if p.relu {
        spec |= SPLIT_RELU;
    }
    let params = MatmulSplitParams {
        len: u32_of(OP, m * n)?,
        n: u32_of(OP, n)?,
        splits: u32_of(OP, splits)?,
        _pad: 0,
    };
    let [_, _, bias, c] = p.buffers;
    let dispatch = Dispatch {
        kernel: &MATMUL_SPLIT_SUM,
        spec,
        params: params.words(),
        buffers: &[partials, bias, c],
        grid: p.gpu.grid_1d(OP, (m * n).div_ceil(256) as u64)?,
    };
    p.gpu.launch(OP, dispatch)
}
