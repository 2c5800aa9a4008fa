//! The texture matmul, for CPU devices: both operands packed into `rgba32float` textures by
//! `shaders/pack_texture.wgsl` (transposed and padded with zeros there), then
//! `shaders/matmul_texture.wgsl` over the textures. Three dispatches and two operand textures
//! from the pool (in `memory_stats`) a product; on llvmpipe a texel fetch costs an eighth of a storage-buffer load.

use crate::error::Result;
use crate::gpu::{texture_rows_class, Gpu};
use crate::kernels::{kernels, spec, uniform, Source, Work, PRELUDE, RELU_EPILOGUE};
use crate::ops::matmul::Product;
use crate::ops::matmul_blocked::EpilogueSpec;
use crate::ops::u32_of;
use crate::pool::Pooled;

static PACK_SOURCE: Source = Source::of(
    "pack_texture",
    &[PRELUDE, include_str!("../../shaders/pack_texture.wgsl")],
);
static SOURCE: Source = Source::of(
    "matmul_texture",
    &[
        PRELUDE,
        RELU_EPILOGUE,
        include_str!("../../shaders/matmul_texture.wgsl"),
    ],
);

uniform! {
    /// `pack_texture.wgsl`: the packed matrix L (`rows`, `cols`) (stored transposed when
    /// TRANS), `quads` texels per row of L, rows up to `padded_rows` (zeros past `rows`).
    PackParams { rows: u32, cols: u32, quads: u32, padded_rows: u32 }
}

uniform! {
    /// `matmul_texture.wgsl`: C (m, n), inner dimension k; `kq` texels per row of op(A),
    /// `nq` per row of op(B).
    TextureParams { m: u32, n: u32, k: u32, kq: u32, nq: u32, _pad0: u32, _pad1: u32, _pad2: u32 }
}

spec! {
    /// Whether the packed operand is the stored matrix transposed.
    PackSpec { trans: "TRANS" }
}

kernels! {
    /// One operand packed into texels (transposed when TRANS, padded with zeros), one texel per
    /// invocation: bindings the stored matrix, the texture.
    static PACK: PackParams, PackSpec = PACK_SOURCE, "pack_texture", [R, WT], [64, 1, 1];
    /// The product over the packed operands, 16×16 per invocation: bindings op(A), op(B)
    /// textures, bias, C.
    static PRODUCT: TextureParams, EpilogueSpec =
        SOURCE, "matmul_texture", [T, T, R, RW], [8, 8, 1];
}

const OP: &str = "matmul";
/// Texels per texture row (`WIDTH_SHIFT` in both shaders).
const WIDTH: usize = 4096;
/// The longest K on drivers that cap loops (the product's loop runs K/4 times; llvmpipe stops
/// an invocation's loops after 65,535 iterations).
const MAX_K: usize = 131_072;

/// Whether the texture kernel takes (M, N, K) on `gpu`: K up to [`MAX_K`] where the driver
/// caps loops, both packed operands within the device's texture height, and (under a memory
/// budget) the two textures within what the buffers held leave of it: they are the product's
/// workspace, freed when it has run.
pub(crate) fn takes(gpu: &Gpu, (m, n, k): (usize, usize, usize)) -> bool {
    let (rows_a, rows_b) = (height(m, k), height(4 * k.div_ceil(4), n));
    let limit = gpu.limits().max_texture_dimension_2d as usize;
    let fits_budget = gpu.memory_budget().is_none_or(|budget| {
        let class = |rows: usize| texture_rows_class(rows.min(limit) as u32, limit as u32) as usize;
        let texels = (class(rows_a) + class(rows_b)) * WIDTH;
        let stats = gpu.memory_stats();
        stats.live_bytes + stats.pooled_bytes + (texels * 16) as u64 <= budget
    });
    (k <= MAX_K || !gpu.profile().caps_loops) && rows_a <= limit && rows_b <= limit && fits_budget
}

/// Texture rows holding `rows` rows of `cols` floats, ⌈cols/4⌉ texels each (at least one).
fn height(rows: usize, cols: usize) -> usize {
    (rows * cols.div_ceil(4)).div_ceil(WIDTH).max(1)
}

/// C = op(A)·op(B) (+ bias) (then ReLU): packs op(A) (M rows of ⌈K/4⌉ texels) and op(B)
/// (4⌈K/4⌉ rows of ⌈N/4⌉ texels), then the product; the caller has checked [`takes`].
pub(crate) fn launch(p: &Product<'_>) -> Result<()> {
    let (m, n, k) = p.mnk;
    let [a, b, bias, c] = p.buffers;
    let (kq, nq) = (k.div_ceil(4), n.div_ceil(4));
    // The textures go back to the pool when this returns; work recorded later runs later.
    let (_a, a_view) = pack(p.gpu, a, p.form.trans_a, (m, k, m))?;
    let (_b, b_view) = pack(p.gpu, b, p.form.trans_b, (k, n, 4 * kq))?;
    let spec = EpilogueSpec {
        has_bias: p.form.bias,
        relu: p.form.relu,
    };
    let params = TextureParams {
        m: u32_of(OP, m)?,
        n: u32_of(OP, n)?,
        k: u32_of(OP, k)?,
        kq: u32_of(OP, kq)?,
        nq: u32_of(OP, nq)?,
        ..Default::default()
    };
    let resources = [
        wgpu::BindingResource::TextureView(&a_view),
        wgpu::BindingResource::TextureView(&b_view),
        bias.as_entire_binding(),
        c.as_entire_binding(),
    ];
    let work = Work::Tiles(nq.div_ceil(32), m.div_ceil(128));
    PRODUCT.launch_bound(p.gpu, OP, (spec, params), resources, work)
}

/// A texture holding L = S (`rows` × `cols`) or Sᵀ (`trans`), ⌈cols/4⌉ texels a row, rows up
/// to `padded_rows` (zeros past `rows`), texel t at (t % [`WIDTH`], t / [`WIDTH`]).
fn pack(
    gpu: &Gpu,
    src: &wgpu::Buffer,
    trans: bool,
    (rows, cols, padded_rows): (usize, usize, usize),
) -> Result<(Pooled<wgpu::Texture>, wgpu::TextureView)> {
    let quads = cols.div_ceil(4);
    let texels = padded_rows * quads;
    let rows_high = u32_of(OP, height(padded_rows, cols))?;
    let texture = gpu.operand_texture(OP, WIDTH as u32, rows_high)?;
    let view = texture.resource().create_view(&Default::default());
    let params = PackParams {
        rows: u32_of(OP, rows)?,
        cols: u32_of(OP, cols)?,
        quads: u32_of(OP, quads)?,
        padded_rows: u32_of(OP, padded_rows)?,
    };
    let resources = [
        src.as_entire_binding(),
        wgpu::BindingResource::TextureView(&view),
    ];
    let spec = PackSpec { trans };
    PACK.launch_bound(gpu, OP, (spec, params), resources, Work::Items(texels))?;
    Ok((texture, view))
}
