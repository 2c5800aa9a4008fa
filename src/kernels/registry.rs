//! The WGSL parts several kernel families share (put in front of their own file by their
//! [`Source`] declarations), the blocked matmul's output tiles, and what goes over every
//! declared kernel: the sources they use and the hash of them all. The kernels themselves are
//! declared beside the ops that launch them (`ops/*.rs`, listed once in `ops::inventory`).

use super::decl::{Kernel, Source};

/// Shared by every kernel: the folded workgroup index and other small helpers.
pub(crate) const PRELUDE: &str = include_str!("../../shaders/prelude.wgsl");
/// The workgroup reductions the row kernels share.
pub(crate) const WORKGROUP_REDUCE: &str = include_str!("../../shaders/workgroup_reduce.wgsl");
/// +inf and NaN by their bits, for the softmax kernels.
pub(crate) const NONFINITE: &str = include_str!("../../shaders/nonfinite.wgsl");
/// The subgroup row kernels' shared part (`shaders/subgroup_rows.wgsl`).
pub(crate) const SUBGROUP_ROWS: &str = include_str!("../../shaders/subgroup_rows.wgsl");
/// Which sliding windows cover a position (`covering`), for conv2d's and pool2d's gathers.
pub(crate) const WINDOWS: &str = include_str!("../../shaders/windows.wgsl");
/// The ReLU of the matmul epilogues.
pub(crate) const RELU_EPILOGUE: &str = include_str!("../../shaders/relu_epilogue.wgsl");

/// An output tile of the blocked matmul family (`matmul_blocked.wgsl`): BM × BN of C per
/// 16×16 workgroup, K in slices of BK. Each fits WebGPU's minimum 16 KiB of workgroup memory
/// with both tiles double-buffered (2 · BK · (BM + BN) · 4 bytes).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(crate) enum Tile {
    /// 8×8 per invocation: the most reuse per load, for big products (16 KiB).
    T128x128,
    /// 128×128 with K slices of 16: half the barriers per K (32 KiB of workgroup memory).
    T128x128K16,
    /// 8×4 per invocation: half the workgroups' columns, for products with few tiles (12 KiB).
    T128x64,
    /// 4×8 per invocation: for products of few rows (M ≤ 64: conv's forward), no half-empty
    /// 128-row tiles (12 KiB).
    T64x128,
    /// 4×4 per invocation, BK 16: small products and the split-K partials (16 KiB).
    T64x64,
}

impl Tile {
    /// (BM, BN, BK).
    pub(crate) const fn dims(self) -> (usize, usize, usize) {
        match self {
            Tile::T128x128 => (128, 128, 8),
            Tile::T128x128K16 => (128, 128, 16),
            Tile::T128x64 => (128, 64, 8),
            Tile::T64x128 => (64, 128, 8),
            Tile::T64x64 => (64, 64, 16),
        }
    }

    /// Bytes of workgroup memory: both operands' slices, double-buffered.
    pub(crate) const fn workgroup_bytes(self) -> usize {
        let (bm, bn, bk) = self.dims();
        2 * (bm + bn) * bk * 4
    }
}

/// Every declared kernel.
pub(crate) fn kernels() -> Vec<&'static Kernel> {
    crate::ops::inventory()
}

/// Every source the declared kernels use, once each, in declaration order.
pub(crate) fn sources() -> Vec<&'static Source> {
    let mut sources: Vec<&'static Source> = Vec::new();
    for k in kernels() {
        if !sources.iter().any(|s| std::ptr::eq(*s, k.source)) {
            sources.push(k.source);
        }
    }
    sources
}

/// A hash of every kernel source as compiled (shared parts and generated headers included):
/// the autotuner's file is only valid for the kernels it timed.
pub(crate) fn sources_hash() -> u64 {
    sources().iter().fold(super::tune::FNV_SEED, |h, s| {
        super::tune::fnv1a(s.wgsl().bytes(), h)
    })
}
