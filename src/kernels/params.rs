//! The uniform of every kernel family (binding 0) as a typed `#[repr(C)]` struct that mirrors
//! the `Params` struct of its WGSL source field by field. `kernels::translate` checks each
//! against naga's layout of the shader (names, offsets, size), so the two cannot drift apart.

use super::registry::{Source, Tile};

/// A kernel family's uniform: plain 4-byte fields, at most eight.
pub(crate) trait Uniform: bytemuck::Pod {
    /// The WGSL source whose `Params` this mirrors.
    #[cfg_attr(not(test), allow(dead_code))]
    const SOURCE: Source;
    /// Its field names, in order.
    #[cfg_attr(not(test), allow(dead_code))]
    const FIELDS: &'static [&'static str];

    /// The eight words a dispatch carries (zero past the struct's end).
    fn words(&self) -> [u32; 8] {
        let mut words = [0u32; 8];
        let bytes = bytemuck::bytes_of(self);
        bytemuck::cast_slice_mut::<u32, u8>(&mut words)[..bytes.len()].copy_from_slice(bytes);
        words
    }
}

macro_rules! uniform {
    ($(#[$doc:meta])* $name:ident for $source:expr => { $($field:ident: $ty:ty),* $(,)? }) => {
        $(#[$doc])*
        #[repr(C)]
        #[derive(Clone, Copy, Debug, Default, bytemuck::Pod, bytemuck::Zeroable)]
        pub(crate) struct $name {
            $(pub $field: $ty),*
        }

        impl Uniform for $name {
            const SOURCE: Source = $source;
            const FIELDS: &'static [&'static str] = &[$(stringify!($field)),*];
        }
    };
}

uniform! {
    /// `matmul.wgsl`: C (m, n) over the inner range k0..k1 of k.
    MatmulParams for Source::Matmul => { m: u32, n: u32, k: u32, k0: u32, k1: u32, _pad0: u32, _pad1: u32, _pad2: u32 }
}

uniform! {
    /// `matmul_blocked.wgsl` (every tile): C (m, n), inner dimension k, cut into `splits`
    /// ranges of `k_split`; `row_tiles` tiles of rows.
    MatmulBlockedParams for Source::MatmulBlocked(Tile::T64x64) => {
        m: u32, n: u32, k: u32, k_split: u32, row_tiles: u32, splits: u32, _pad0: u32, _pad1: u32,
    }
}

uniform! {
    /// `matmul_split.wgsl`: the `splits` partial products of `len` = M·N elements, rows of `n`.
    MatmulSplitParams for Source::MatmulSplit => { len: u32, n: u32, splits: u32, _pad: u32 }
}

uniform! {
    /// `matmul_register.wgsl`: C (m, n), inner dimension k.
    MatmulRegisterParams for Source::MatmulRegister => { m: u32, n: u32, k: u32, _pad: u32 }
}

uniform! {
    /// `matmul_vec4.wgsl`: C (m, n), inner dimension k.
    MatmulVec4Params for Source::MatmulVec4 => { m: u32, n: u32, k: u32, _pad: u32 }
}

uniform! {
    /// `pack_texture.wgsl`: the packed matrix L (`rows`, `cols`) (stored transposed when
    /// TRANS), `quads` texels per row of L, rows up to `padded_rows` (zeros past `rows`).
    PackTextureParams for Source::PackTexture => { rows: u32, cols: u32, quads: u32, padded_rows: u32 }
}

uniform! {
    /// `matmul_texture.wgsl`: C (m, n), inner dimension k; `kq` texels per row of op(A),
    /// `nq` per row of op(B).
    MatmulTextureParams for Source::MatmulTexture => { m: u32, n: u32, k: u32, kq: u32, nq: u32, _pad0: u32, _pad1: u32, _pad2: u32 }
}

uniform! {
    /// `reduce.wgsl`: column sums of (rows, cols), `chunk` rows per invocation.
    ReduceParams for Source::Reduce => { rows: u32, cols: u32, chunk: u32, _pad: u32 }
}

uniform! {
    /// `reduce_subgroup.wgsl`: `n` elements.
    ReduceSubgroupParams for Source::ReduceSubgroup => { n: u32, _pad0: u32, _pad1: u32, _pad2: u32 }
}

uniform! {
    /// `softmax.wgsl`: rows of `cols`.
    SoftmaxParams for Source::Softmax => { rows: u32, cols: u32, _pad0: u32, _pad1: u32 }
}

uniform! {
    /// `softmax_chunked.wgsl`: rows of `cols`, in chunks of `chunk` elements.
    SoftmaxChunkedParams for Source::SoftmaxChunked => { rows: u32, cols: u32, chunk: u32, _pad: u32 }
}

uniform! {
    /// `softmax_regs.wgsl`: rows of `cols`, `lanes` invocations per row.
    SoftmaxRegsParams for Source::SoftmaxRegs => { rows: u32, cols: u32, lanes: u32, _pad: u32 }
}

uniform! {
    /// `relu.wgsl`: `n4` vec4s.
    ReluParams for Source::Relu => { n4: u32, _pad0: u32, _pad1: u32, _pad2: u32 }
}

uniform! {
    /// `jacobian.wgsl`: a Jacobian of (rows, cols); `a`, `b` depend on the kernel.
    JacobianParams for Source::Jacobian => { rows: u32, cols: u32, a: u32, b: u32 }
}

uniform! {
    /// `loss.wgsl`: (rows, cols) and 1 / count.
    LossParams for Source::Loss => { rows: u32, cols: u32, inv_count: f32, _pad: u32 }
}

uniform! {
    /// `optim.wgsl`: `n` elements; the optimizer's hyperparameters (SGD: `beta1` = momentum).
    OptimParams for Source::Optim => {
        n: u32, lr: f32, beta1: f32, beta2: f32, eps: f32,
        correction1: f32, correction2: f32, weight_decay: f32,
    }
}
