//! The registry of WGSL sources (one file per kernel family under `shaders/`, pulled in with
//! `include_str!`) and of the kernels in them: entry point, storage bindings in WGSL binding
//! order (binding 0 is always the `Params` uniform), and boolean specialisation constants.

use std::borrow::Cow;

/// A WGSL source file: one kernel family.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(crate) enum Source {
    Matmul,
    /// The blocked family is one source per output tile: the tile's constants go in front.
    MatmulBlocked(Tile),
    MatmulSplit,
    MatmulRegister,
    MatmulVec4,
    /// The texture matmul (CPU devices): the packing kernel, and the product over textures.
    PackTexture,
    MatmulTexture,
    Reduce,
    /// Devices with `SUBGROUP` only (its module needs the feature).
    ReduceSubgroup,
    Softmax,
    /// Long rows in chunks over many workgroups.
    SoftmaxChunked,
    SoftmaxRegs,
    Relu,
    Jacobian,
    Loss,
    Optim,
}

/// The workgroup reductions the row kernels share, put in front of their own source.
const WORKGROUP_REDUCE: &str = include_str!("../../shaders/workgroup_reduce.wgsl");
/// +inf and NaN by their bits, put in front of the softmax sources.
const NONFINITE: &str = include_str!("../../shaders/nonfinite.wgsl");
/// The ReLU of the matmul epilogues, put in front of their source.
const RELU_EPILOGUE: &str = include_str!("../../shaders/relu_epilogue.wgsl");

impl Source {
    /// Every source file (the tests go over them all; the tuner hashes them).
    pub(crate) const ALL: [Source; 18] = [
        Source::Matmul,
        Source::MatmulBlocked(Tile::T128x128),
        Source::MatmulBlocked(Tile::T128x64),
        Source::MatmulBlocked(Tile::T64x64),
        Source::MatmulSplit,
        Source::MatmulRegister,
        Source::MatmulVec4,
        Source::PackTexture,
        Source::MatmulTexture,
        Source::Reduce,
        Source::ReduceSubgroup,
        Source::Softmax,
        Source::SoftmaxChunked,
        Source::SoftmaxRegs,
        Source::Relu,
        Source::Jacobian,
        Source::Loss,
        Source::Optim,
    ];

    /// The module's WGSL: the family's file, after the shared parts it uses (reductions,
    /// non-finite helpers, the ReLU epilogue, a blocked tile's header): what naga reads; see
    /// [`Source::wgsl_for`] for Tint.
    pub(crate) fn wgsl(self) -> Cow<'static, str> {
        match self {
            Source::Softmax | Source::SoftmaxChunked => {
                Cow::Owned(format!("{WORKGROUP_REDUCE}\n{NONFINITE}\n{}", self.file()))
            }
            Source::SoftmaxRegs => Cow::Owned(format!("{NONFINITE}\n{}", self.file())),
            Source::Loss | Source::Reduce => {
                Cow::Owned(format!("{WORKGROUP_REDUCE}\n{}", self.file()))
            }
            Source::MatmulBlocked(tile) => {
                let (bm, bn, bk) = tile.dims();
                let header = super::blocked::tile_header(bm, bn, bk);
                Cow::Owned(format!("{header}\n{RELU_EPILOGUE}\n{}", self.file()))
            }
            Source::MatmulSplit | Source::MatmulTexture => {
                Cow::Owned(format!("{RELU_EPILOGUE}\n{}", self.file()))
            }
            _ => Cow::Borrowed(self.file()),
        }
    }

    /// The module's WGSL for the compiler that will read it: for Tint (a browser's WebGPU,
    /// Dawn) the subgroup source starts with `enable subgroups;`, which WGSL requires and
    /// naga 30 does not yet accept.
    pub(crate) fn wgsl_for(self, compiler: Compiler) -> Cow<'static, str> {
        match (self, compiler) {
            (Source::ReduceSubgroup, Compiler::Tint) => {
                Cow::Owned(format!("enable subgroups;\n{}", self.wgsl()))
            }
            _ => self.wgsl(),
        }
    }

    /// Whether every memory access of the source is guarded by its own code (or by the host's
    /// choice of specialisation), so that wgpu's runtime checks may be left out when asked.
    pub(crate) fn guards_itself(self) -> bool {
        matches!(self, Source::MatmulBlocked(_) | Source::MatmulSplit)
    }

    fn file(self) -> &'static str {
        match self {
            Source::Matmul => include_str!("../../shaders/matmul.wgsl"),
            Source::MatmulBlocked(_) => include_str!("../../shaders/matmul_blocked.wgsl"),
            Source::MatmulSplit => include_str!("../../shaders/matmul_split.wgsl"),
            Source::MatmulRegister => include_str!("../../shaders/matmul_register.wgsl"),
            Source::MatmulVec4 => include_str!("../../shaders/matmul_vec4.wgsl"),
            Source::PackTexture => include_str!("../../shaders/pack_texture.wgsl"),
            Source::MatmulTexture => include_str!("../../shaders/matmul_texture.wgsl"),
            Source::Reduce => include_str!("../../shaders/reduce.wgsl"),
            Source::ReduceSubgroup => include_str!("../../shaders/reduce_subgroup.wgsl"),
            Source::Softmax => include_str!("../../shaders/softmax.wgsl"),
            Source::SoftmaxChunked => include_str!("../../shaders/softmax_chunked.wgsl"),
            Source::SoftmaxRegs => include_str!("../../shaders/softmax_regs.wgsl"),
            Source::Relu => include_str!("../../shaders/relu.wgsl"),
            Source::Jacobian => include_str!("../../shaders/jacobian.wgsl"),
            Source::Loss => include_str!("../../shaders/loss.wgsl"),
            Source::Optim => include_str!("../../shaders/optim.wgsl"),
        }
    }
}

/// Which WGSL compiler reads the sources: naga (wgpu's native backends) or Tint (a browser's
/// WebGPU, through wgpu's WebGPU backend).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Compiler {
    Naga,
    Tint,
}

impl Compiler {
    /// The compiler behind `backend`.
    pub(crate) fn of(backend: wgpu::Backend) -> Compiler {
        if backend == wgpu::Backend::BrowserWebGpu {
            Compiler::Tint
        } else {
            Compiler::Naga
        }
    }
}

/// A hash of every kernel source as compiled (shared parts and generated headers included):
/// the autotuner's file is only valid for the kernels it timed.
pub(crate) fn sources_hash() -> u64 {
    Source::ALL.iter().fold(super::tune::FNV_SEED, |h, s| {
        super::tune::fnv1a(s.wgsl().bytes(), h)
    })
}

/// An output tile of the blocked matmul family (`matmul_blocked.wgsl`): BM × BN of C per
/// 16×16 workgroup, K in slices of BK. Each fits WebGPU's minimum 16 KiB of workgroup memory
/// with both tiles double-buffered (2 · BK · (BM + BN) · 4 bytes).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(crate) enum Tile {
    /// 8×8 per invocation: the most reuse per load, for big products (16 KiB).
    T128x128,
    /// 8×4 per invocation: half the workgroups' columns, for products with few tiles (12 KiB).
    T128x64,
    /// 4×4 per invocation, BK 16: small products and the split-K partials (16 KiB).
    T64x64,
}

impl Tile {
    /// (BM, BN, BK).
    pub(crate) const fn dims(self) -> (usize, usize, usize) {
        match self {
            Tile::T128x128 => (128, 128, 8),
            Tile::T128x64 => (128, 64, 8),
            Tile::T64x64 => (64, 64, 16),
        }
    }
}

/// How a kernel uses a binding after the uniform: a storage buffer, or a 2D texture of
/// `rgba32float` texels (read with `textureLoad`, or written as a storage texture).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Access {
    Read,
    ReadWrite,
    Texture,
    WriteTexture,
}
use Access::{Read, ReadWrite, Texture, WriteTexture};

/// One entry point of a kernel family and the bind-group layout it expects.
#[derive(Debug)]
pub(crate) struct Kernel {
    pub source: Source,
    pub entry: &'static str,
    /// Bindings 1.. in order (binding 0 is the `Params` uniform).
    pub bindings: &'static [Access],
    /// Boolean `override` constants; bit `i` of a launch's `spec` sets `flags[i]`.
    pub flags: &'static [&'static str],
}

/// Specialisation bits of [`MATMUL`].
pub(crate) const TRANS_A: u32 = 1;
pub(crate) const TRANS_B: u32 = 2;
pub(crate) const HAS_BIAS: u32 = 4;
pub(crate) const ACCUMULATE: u32 = 8;

/// C = op(A)·op(B) (+ bias), or C += … over a range of k: bindings A, B, bias, C.
pub(crate) const MATMUL: Kernel = def(
    Source::Matmul,
    "matmul",
    &[Read, Read, Read, ReadWrite],
    &["TRANS_A", "TRANS_B", "HAS_BIAS", "ACCUMULATE"],
);
/// Specialisation bits of [`matmul_blocked`] (the transposes and bias as for [`MATMUL`]).
pub(crate) const BLOCKED_RELU: u32 = 8;
pub(crate) const BLOCKED_VEC4: u32 = 16;
pub(crate) const BLOCKED_EDGE: u32 = 32;
const BLOCKED_FLAGS: &[&str] = &["TRANS_A", "TRANS_B", "HAS_BIAS", "RELU", "VEC4", "EDGE"];
const MATMUL_BLOCKED: [Kernel; 3] = [
    blocked(Tile::T128x128),
    blocked(Tile::T128x64),
    blocked(Tile::T64x64),
];
const fn blocked(tile: Tile) -> Kernel {
    def(
        Source::MatmulBlocked(tile),
        "matmul_blocked",
        &[Read, Read, Read, ReadWrite],
        BLOCKED_FLAGS,
    )
}

/// The same product by the blocked kernel with `tile` (GPUs; any shape, optionally a split-K
/// partial, optionally with the ReLU epilogue): same bindings.
pub(crate) const fn matmul_blocked(tile: Tile) -> &'static Kernel {
    match tile {
        Tile::T128x128 => &MATMUL_BLOCKED[0],
        Tile::T128x64 => &MATMUL_BLOCKED[1],
        Tile::T64x64 => &MATMUL_BLOCKED[2],
    }
}

/// Split-K's sum of partial products (+ bias, ReLU): bindings partials, bias, C.
pub(crate) const MATMUL_SPLIT_SUM: Kernel = def(
    Source::MatmulSplit,
    "matmul_split_sum",
    &[Read, Read, ReadWrite],
    &["HAS_BIAS", "RELU"],
);
/// Specialisation bits of [`MATMUL_SPLIT_SUM`].
pub(crate) const SPLIT_HAS_BIAS: u32 = 1;
pub(crate) const SPLIT_RELU: u32 = 2;

/// The same product by the register kernel (CPU devices, aligned shapes): same bindings, flags.
pub(crate) const MATMUL_REGISTER: Kernel = def(
    Source::MatmulRegister,
    "matmul_register",
    &[Read, Read, Read, ReadWrite],
    &["TRANS_A", "TRANS_B", "HAS_BIAS"],
);
/// The same product by the vec4 kernel (4×4 per invocation, no workgroup memory; meant for
/// GPUs, aligned shapes): same bindings and flags as the register kernel.
pub(crate) const MATMUL_VEC4: Kernel = def(
    Source::MatmulVec4,
    "matmul_vec4",
    &[Read, Read, Read, ReadWrite],
    &["TRANS_A", "TRANS_B", "HAS_BIAS"],
);
/// One operand of the texture matmul packed into texels (transposed when `TRANS`, padded with
/// zeros): bindings the stored matrix, the texture.
pub(crate) const PACK_TEXTURE: Kernel = def(
    Source::PackTexture,
    "pack_texture",
    &[Read, WriteTexture],
    &["TRANS"],
);
/// Specialisation bit of [`PACK_TEXTURE`].
pub(crate) const PACK_TRANS: u32 = 1;
/// The product over the packed operands (CPU devices: `textureLoad` is a straight gather on
/// llvmpipe, where a storage-buffer load is a loop over lanes): bindings op(A), op(B)
/// textures, bias, C.
pub(crate) const MATMUL_TEXTURE: Kernel = def(
    Source::MatmulTexture,
    "matmul_texture",
    &[Texture, Texture, Read, ReadWrite],
    &["HAS_BIAS", "RELU"],
);
/// Specialisation bits of [`MATMUL_TEXTURE`].
pub(crate) const TEXTURE_HAS_BIAS: u32 = 1;
pub(crate) const TEXTURE_RELU: u32 = 2;
/// Partial column sums over chunks of rows: bindings x, out.
pub(crate) const COLUMN_SUM: Kernel = def(Source::Reduce, "column_sum", &[Read, ReadWrite], &[]);
pub(crate) const SUM_TREE: Kernel = def(Source::Reduce, "sum_tree", &[Read, ReadWrite], &[]);
/// The same blocks summed through subgroups (devices with `SUBGROUP`): bindings x, out.
pub(crate) const SUM_SUBGROUP: Kernel = def(
    Source::ReduceSubgroup,
    "sum_subgroup",
    &[Read, ReadWrite],
    &[],
);
const LOSS_LAYOUT: &[Access] = &[Read, Read, ReadWrite, ReadWrite];
/// Cross-entropy terms and gradient: bindings logits, labels, grad, terms.
pub(crate) const CROSS_ENTROPY: Kernel = def(Source::Loss, "cross_entropy", LOSS_LAYOUT, &[]);
/// The same, one invocation per row.
pub(crate) const CROSS_ENTROPY_ROWS: Kernel =
    def(Source::Loss, "cross_entropy_rows", LOSS_LAYOUT, &[]);
/// Squared-error terms and gradient: bindings y, target, grad, terms.
pub(crate) const MSE: Kernel = def(Source::Loss, "mse", LOSS_LAYOUT, &[]);
/// In-place SGD: bindings θ, g, velocity.
pub(crate) const SGD: Kernel = def(Source::Optim, "sgd", &[ReadWrite, Read, ReadWrite], &[]);
/// In-place Adam: bindings θ, g, m, v.
pub(crate) const ADAM: Kernel = def(
    Source::Optim,
    "adam",
    &[ReadWrite, Read, ReadWrite, ReadWrite],
    &[],
);
/// acc += x: bindings acc, x.
pub(crate) const ADD_ASSIGN: Kernel = def(Source::Optim, "accumulate", &[ReadWrite, Read], &[]);
const SOFTMAX_LAYOUT: &[Access] = &[Read, Read, ReadWrite];
pub(crate) const SOFTMAX_FORWARD: Kernel =
    def(Source::Softmax, "softmax_forward", SOFTMAX_LAYOUT, &[]);
pub(crate) const SOFTMAX_BACKWARD: Kernel =
    def(Source::Softmax, "softmax_backward", SOFTMAX_LAYOUT, &[]);
pub(crate) const SOFTMAX_FORWARD_ROWS: Kernel =
    def(Source::Softmax, "softmax_forward_rows", SOFTMAX_LAYOUT, &[]);
pub(crate) const SOFTMAX_BACKWARD_ROWS: Kernel = def(
    Source::Softmax,
    "softmax_backward_rows",
    SOFTMAX_LAYOUT,
    &[],
);
/// Rows held in registers (up to 2,048 long), `lanes` invocations per row.
pub(crate) const SOFTMAX_FORWARD_REGS: Kernel = def(
    Source::SoftmaxRegs,
    "softmax_forward_regs",
    SOFTMAX_LAYOUT,
    &[],
);
pub(crate) const SOFTMAX_BACKWARD_REGS: Kernel = def(
    Source::SoftmaxRegs,
    "softmax_backward_regs",
    SOFTMAX_LAYOUT,
    &[],
);
const CHUNKED_LAYOUT: &[Access] = &[Read, Read, ReadWrite, ReadWrite];
/// The three passes each way of the chunked softmax (long rows): bindings x or y, g, out, stats.
pub(crate) const SOFTMAX_CHUNKED_FORWARD: [Kernel; 3] = [
    chunked("softmax_partials"),
    chunked("softmax_combine"),
    chunked("softmax_write"),
];
pub(crate) const SOFTMAX_CHUNKED_BACKWARD: [Kernel; 3] = [
    chunked("softmax_dot_partials"),
    chunked("softmax_dot_combine"),
    chunked("softmax_backward_write"),
];

const fn chunked(entry: &'static str) -> Kernel {
    def(Source::SoftmaxChunked, entry, CHUNKED_LAYOUT, &[])
}
pub(crate) const RELU_FORWARD: Kernel = def(Source::Relu, "relu_forward", SOFTMAX_LAYOUT, &[]);
pub(crate) const RELU_BACKWARD: Kernel = def(Source::Relu, "relu_backward", SOFTMAX_LAYOUT, &[]);
const JACOBIAN_LAYOUT: &[Access] = &[Read, ReadWrite];
pub(crate) const SOFTMAX_JACOBIAN: Kernel = jacobian("softmax_jacobian");
pub(crate) const RELU_JACOBIAN: Kernel = jacobian("relu_jacobian");
pub(crate) const LINEAR_DX_JACOBIAN: Kernel = jacobian("linear_dx_jacobian");
pub(crate) const LINEAR_DW_JACOBIAN: Kernel = jacobian("linear_dw_jacobian");
pub(crate) const LINEAR_DB_JACOBIAN: Kernel = jacobian("linear_db_jacobian");

const fn jacobian(entry: &'static str) -> Kernel {
    def(Source::Jacobian, entry, JACOBIAN_LAYOUT, &[])
}

/// Every kernel above, for what goes over them all: the translation test (which checks that
/// each entry point of every source is listed here) and the inventory for other compilers.
pub(crate) const ALL: [&Kernel; 37] = [
    &MATMUL,
    &MATMUL_BLOCKED[0],
    &MATMUL_BLOCKED[1],
    &MATMUL_BLOCKED[2],
    &MATMUL_SPLIT_SUM,
    &MATMUL_REGISTER,
    &MATMUL_VEC4,
    &PACK_TEXTURE,
    &MATMUL_TEXTURE,
    &COLUMN_SUM,
    &SUM_TREE,
    &SUM_SUBGROUP,
    &CROSS_ENTROPY,
    &CROSS_ENTROPY_ROWS,
    &MSE,
    &SGD,
    &ADAM,
    &ADD_ASSIGN,
    &SOFTMAX_FORWARD,
    &SOFTMAX_BACKWARD,
    &SOFTMAX_FORWARD_ROWS,
    &SOFTMAX_BACKWARD_ROWS,
    &SOFTMAX_FORWARD_REGS,
    &SOFTMAX_BACKWARD_REGS,
    &SOFTMAX_CHUNKED_FORWARD[0],
    &SOFTMAX_CHUNKED_FORWARD[1],
    &SOFTMAX_CHUNKED_FORWARD[2],
    &SOFTMAX_CHUNKED_BACKWARD[0],
    &SOFTMAX_CHUNKED_BACKWARD[1],
    &SOFTMAX_CHUNKED_BACKWARD[2],
    &RELU_FORWARD,
    &RELU_BACKWARD,
    &SOFTMAX_JACOBIAN,
    &RELU_JACOBIAN,
    &LINEAR_DX_JACOBIAN,
    &LINEAR_DW_JACOBIAN,
    &LINEAR_DB_JACOBIAN,
];

/// A kernel definition, one line each above.
const fn def(
    source: Source,
    entry: &'static str,
    bindings: &'static [Access],
    flags: &'static [&'static str],
) -> Kernel {
    Kernel {
        source,
        entry,
        bindings,
        flags,
    }
}
