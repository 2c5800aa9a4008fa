//! The matmul family as data: every forced variant once — its name, how it runs, which shapes it
//! takes, when the autotuner times it, and why it exists. `MatmulKernel::FORCED` and `name()`,
//! the forced kernels' fallbacks and the autotuner's candidates (`matmul_choice.rs`), the
//! launch (`matmul.rs`), `bench`, the self-check and the tests all read [`FAMILY`]: adding or
//! parking a variant is one entry here (plus its launch, if it is a new design).

use crate::kernels::Tile;
use crate::ops::matmul::MatmulKernel;
use crate::ops::matmul_blocked::split_useful;
use crate::ops::matmul_choice::texture_pays;

/// How a variant runs.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Runs {
    /// A kernel without workgroup tiles of its own (`matmul_plain.rs`: tiled, register, vec4);
    /// a ReLU epilogue runs after it.
    Plain,
    /// The blocked kernel on this tile, K in one range (more on loop-capping drivers).
    Blocked(Tile),
    /// The blocked kernel on this tile over ranges of K in parallel, then their sum.
    SplitK(Tile),
    /// Both operands packed into textures, then the texture kernel.
    Texture,
}

/// Which shapes a variant takes; a forced variant runs `Tiled` on the others.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Takes {
    /// Any shape.
    Any,
    /// Rows of whole vec4s (K, N, and M when A is transposed, multiples of 4; K up to 131,072).
    Vec4Rows,
    /// Operands that fit the device's textures (and the memory budget), K within the loop cap.
    Textures,
    /// Devices whose workgroup memory holds 32 KiB (WebGPU's default is 16).
    Storage32K,
}

/// What decides whether the autotuner times a variant for a product.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Setting {
    /// A CPU device (llvmpipe).
    pub cpu: bool,
    /// A discrete GPU.
    pub discrete: bool,
    /// The product's rows are whole vec4s.
    pub aligned: bool,
    /// The texture kernel takes the product.
    pub textured: bool,
    /// The device's workgroup memory holds 32 KiB.
    pub storage_32k: bool,
    /// B is transposed (Linear's dX = dY·Wᵀ).
    pub trans_b: bool,
    /// (M, N, K).
    pub mnk: (usize, usize, usize),
}

/// One member of the family.
#[derive(Debug)]
pub(crate) struct Variant {
    pub kernel: MatmulKernel,
    /// Its name in benchmarks, the self-check and the autotuner's file.
    pub name: &'static str,
    pub runs: Runs,
    pub takes: Takes,
    /// Whether the autotuner times it (after the static choice; in this table's order).
    pub timed: fn(&Setting) -> bool,
    /// Why it exists: what it is built for and what measured it.
    pub why: &'static str,
}

/// The family, in the order the autotuner times it.
pub(crate) const FAMILY: &[Variant] = &[
    Variant {
        kernel: MatmulKernel::Blocked128,
        name: "blocked128",
        runs: Runs::Blocked(Tile::T128x128),
        takes: Takes::Any,
        timed: |s| !s.cpu,
        why: "GPUs, big products: the most reuse per load (8×8 per invocation)",
    },
    Variant {
        kernel: MatmulKernel::Blocked128K16,
        name: "blocked128k16",
        runs: Runs::Blocked(Tile::T128x128K16),
        takes: Takes::Storage32K,
        timed: |s| !s.cpu && s.storage_32k,
        why: "GPUs with 32 KiB of workgroup memory, big products: 128×128 with K slices of \
              16, half the barriers per K",
    },
    Variant {
        kernel: MatmulKernel::Blocked128x64,
        name: "blocked128x64",
        runs: Runs::Blocked(Tile::T128x64),
        takes: Takes::Any,
        timed: |s| !s.cpu,
        why: "GPUs: twice the workgroups of 128×128 for mid-sized outputs",
    },
    Variant {
        kernel: MatmulKernel::Blocked64x128,
        name: "blocked64x128",
        runs: Runs::Blocked(Tile::T64x128),
        takes: Takes::Any,
        timed: |s| !s.cpu && s.mnk.0 <= 64,
        why: "GPUs, products of few rows (M <= 64: conv's forward): no half-empty 128-row tiles",
    },
    Variant {
        kernel: MatmulKernel::Blocked64,
        name: "blocked64",
        runs: Runs::Blocked(Tile::T64x64),
        takes: Takes::Any,
        timed: |s| !s.cpu,
        why: "GPUs, any shape and transpose: the static choice's last rule",
    },
    Variant {
        kernel: MatmulKernel::SplitK,
        name: "splitk",
        runs: Runs::SplitK(Tile::T64x64),
        takes: Takes::Any,
        timed: |s| !s.cpu && split_useful(s.mnk),
        why: "GPUs, few output tiles over a long K: K's ranges keep the GPU busy",
    },
    Variant {
        kernel: MatmulKernel::Tiled,
        name: "tiled",
        runs: Runs::Plain,
        takes: Takes::Any,
        timed: |s| !s.discrete,
        why: "any device and shape: the forced kernels' fallback; scalar loads through \
              workgroup memory, so discrete GPUs do not time it",
    },
    Variant {
        kernel: MatmulKernel::Register,
        name: "register",
        runs: Runs::Plain,
        takes: Takes::Vec4Rows,
        timed: |s| s.aligned && !s.discrete,
        why: "CPU devices: 32×8 per invocation in registers, no barriers (each one costs a \
              pass over every SIMD lane there); spills on GPUs",
    },
    Variant {
        kernel: MatmulKernel::Vec4,
        name: "vec4",
        runs: Runs::Plain,
        takes: Takes::Vec4Rows,
        timed: |s| s.aligned && !s.trans_b,
        why: "GPUs, aligned rows without a transposed B (it reads Bᵀ 16 rows apart per warp, so \
              the tuner does not time it there): vec4 loads, no workgroup memory",
    },
    Variant {
        kernel: MatmulKernel::Texture,
        name: "texture",
        runs: Runs::Texture,
        takes: Takes::Textures,
        timed: |s| s.cpu && s.textured && texture_pays(s.aligned, s.mnk.0 * s.mnk.1 * s.mnk.2),
        why: "CPU devices, big products and unaligned ones (N = 10 classes): on llvmpipe a \
              texel fetch is a gather where a storage-buffer load loops over the SIMD lanes",
    },
];

/// `FAMILY`'s kernels, in its order (for `MatmulKernel::FORCED`).
pub(crate) const fn forced() -> [MatmulKernel; FAMILY.len()] {
    let mut out = [MatmulKernel::Auto; FAMILY.len()];
    let mut i = 0;
    while i < FAMILY.len() {
        out[i] = FAMILY[i].kernel;
        i += 1;
    }
    out
}

/// The family's entry for a forced kernel; `None` for `Auto`.
pub(crate) fn variant(kernel: MatmulKernel) -> Option<&'static Variant> {
    FAMILY.iter().find(|v| v.kernel == kernel)
}

/// The kernels the autotuner times for a product, in the family's order.
pub(crate) fn candidates(setting: &Setting) -> Vec<MatmulKernel> {
    FAMILY
        .iter()
        .filter(|v| (v.timed)(setting))
        .map(|v| v.kernel)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_forced_kernel_appears_once_with_its_own_name() {
        let names: std::collections::HashSet<_> = FAMILY.iter().map(|v| v.name).collect();
        assert_eq!(names.len(), FAMILY.len());
        for kernel in forced() {
            assert_eq!(FAMILY.iter().filter(|v| v.kernel == kernel).count(), 1);
            assert!(variant(kernel).is_some_and(|v| !v.why.is_empty()));
        }
        assert!(variant(MatmulKernel::Auto).is_none());
    }
}
