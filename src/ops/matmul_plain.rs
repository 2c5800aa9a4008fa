//! The matmul kernels without an epilogue of their own: tiled (`shaders/matmul.wgsl`, 64×64
//! tiles through workgroup memory; K in accumulating chunks on drivers that cap loops),
//! register (`matmul_register.wgsl`, CPU devices) and vec4 (`matmul_vec4.wgsl`, GPUs), one
//! launch each.

use crate::error::Result;
use crate::gpu::Gpu;
use crate::kernels::{kernels, spec, uniform, Source, Work, PRELUDE};
use crate::ops::matmul::{Form, MatmulKernel};
use crate::ops::u32_of;

const OP: &str = "matmul";

static TILED_SOURCE: Source = Source::of(
    "matmul",
    &[PRELUDE, include_str!("../../shaders/matmul.wgsl")],
);
static REGISTER_SOURCE: Source = Source::of(
    "matmul_register",
    &[PRELUDE, include_str!("../../shaders/matmul_register.wgsl")],
);
static VEC4_SOURCE: Source = Source::of(
    "matmul_vec4",
    &[PRELUDE, include_str!("../../shaders/matmul_vec4.wgsl")],
);

uniform! {
    /// `matmul.wgsl`: C (m, n) over the inner range k0..k1 of k; `batches` products, A and B
    /// `batch_a` and `batch_b` elements apart.
    MatmulParams { m: u32, n: u32, k: u32, k0: u32, k1: u32, batch_a: u32, batch_b: u32, batches: u32 }
}

uniform! {
    /// `matmul_register.wgsl` and `matmul_vec4.wgsl`: C (m, n), inner dimension k.
    PlainParams { m: u32, n: u32, k: u32, _pad: u32 }
}

spec! {
    /// The tiled kernel's flags: transposes, bias, and C += (a later chunk of K).
    TiledSpec { trans_a: "TRANS_A", trans_b: "TRANS_B", has_bias: "HAS_BIAS", accumulate: "ACCUMULATE" }
}

spec! {
    /// The register and vec4 kernels' flags.
    PlainSpec { trans_a: "TRANS_A", trans_b: "TRANS_B", has_bias: "HAS_BIAS" }
}

kernels! {
    /// C = op(A)·op(B) (+ bias), or C += … over a range of k: bindings A, B, bias, C.
    static TILED: MatmulParams, TiledSpec = TILED_SOURCE, "matmul", [R, R, R, RW], [16, 16, 1];
    /// 32×8 per invocation in 64 vec4 registers (CPU devices, aligned shapes).
    static REGISTER: PlainParams, PlainSpec =
        REGISTER_SOURCE, "matmul_register", [R, R, R, RW], [8, 8, 1];
    /// 4×4 per invocation, vec4 loads (GPUs, aligned shapes).
    static VEC4: PlainParams, PlainSpec = VEC4_SOURCE, "matmul_vec4", [R, R, R, RW], [16, 16, 1];
}

/// On drivers that stop loops after 65,535 iterations (llvmpipe), the longest range of k one
/// tiled dispatch covers (~21 loop iterations per 16 k); a longer K is split into dispatches
/// that accumulate. Other devices take any K in one dispatch.
const TILED_K_CHUNK: usize = 16_384;

/// The kernels without a ReLU epilogue: register, vec4, tiled.
pub(crate) fn unfused(
    kernel: MatmulKernel,
    (gpu, buffers): (&Gpu, [&wgpu::Buffer; 4]),
    form: Form,
    (m, n, k): (usize, usize, usize),
) -> Result<()> {
    let (decl, rows) = match kernel {
        MatmulKernel::Register => (&REGISTER, 256),
        MatmulKernel::Vec4 => (&VEC4, 64),
        _ => return launch_tiled((gpu, buffers), form, (m, n, k), Batch::ONE),
    };
    let spec = PlainSpec {
        trans_a: form.trans_a,
        trans_b: form.trans_b,
        has_bias: form.bias,
    };
    let params = PlainParams {
        m: u32_of(OP, m)?,
        n: u32_of(OP, n)?,
        k: u32_of(OP, k)?,
        _pad: 0,
    };
    let work = Work::Tiles(n.div_ceil(64), m.div_ceil(rows));
    decl.launch(gpu, OP, (spec, params), buffers, work)
}

/// How many products one launch makes and how far apart their operands are (elements; a
/// stride of 0 shares one operand). C's are M·N apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Batch {
    pub count: usize,
    pub a: usize,
    pub b: usize,
}

impl Batch {
    /// One product.
    pub const ONE: Batch = Batch {
        count: 1,
        a: 0,
        b: 0,
    };
}

/// The tiled kernel; on loop-capping drivers K in chunks of [`TILED_K_CHUNK`] that
/// accumulate. Batches fold into the row tiles.
pub(crate) fn launch_tiled(
    (gpu, buffers): (&Gpu, [&wgpu::Buffer; 4]),
    form: Form,
    (m, n, k): (usize, usize, usize),
    batch: Batch,
) -> Result<()> {
    let work = Work::Tiles(n.div_ceil(64), m.div_ceil(64).saturating_mul(batch.count));
    // Only drivers that cap loops need K cut into accumulating dispatches.
    let chunk = if gpu.profile().caps_loops {
        TILED_K_CHUNK
    } else {
        k.max(1)
    };
    for (i, k0) in (0..k.max(1)).step_by(chunk).enumerate() {
        let spec = TiledSpec {
            trans_a: form.trans_a,
            trans_b: form.trans_b,
            has_bias: form.bias,
            accumulate: i > 0,
        };
        let params = MatmulParams {
            m: u32_of(OP, m)?,
            n: u32_of(OP, n)?,
            k: u32_of(OP, k)?,
            k0: u32_of(OP, k0)?,
            k1: u32_of(OP, (k0 + chunk).min(k))?,
            batch_a: u32_of(OP, batch.a)?,
            batch_b: u32_of(OP, batch.b)?,
            batches: u32_of(OP, batch.count)?,
        };
        TILED.launch(gpu, OP, (spec, params), buffers, work)?;
    }
    Ok(())
}
