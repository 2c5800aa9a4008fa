//! Calibration for the GPU report: a vec4 copy (memory bandwidth) and a loop of independent
//! FMAs (f32 peak), measured on this device before anything else, so that every benchmark can
//! be printed as a fraction of what the device itself reaches, beside its published peak
//! (`gpu::cards`). Kernels in `shaders/calibrate.wgsl`.

use super::suite::{Case, Work};
use crate::error::Result;
use crate::gpu::Gpu;
use crate::kernels::{kernels, uniform, Source, Work as Grid, PRELUDE};
use crate::tensor::Tensor;

static SOURCE: Source = Source::of(
    "calibrate",
    &[PRELUDE, include_str!("../../shaders/calibrate.wgsl")],
);

uniform! {
    /// `calibrate.wgsl`: vec4s to copy, or invocations of the FMA loop and its iterations.
    CalibrateParams { n: u32, iters: u32, _pad0: u32, _pad1: u32 }
}

kernels! {
    /// One vec4 per invocation: bindings src, dst.
    static COPY: CalibrateParams, () = SOURCE, "copy", [R, RW], [256, 1, 1];
    /// 8 vec4 FMA chains of `iters` per invocation: bindings (unused), dst.
    static FMA: CalibrateParams, () = SOURCE, "fma_peak", [R, RW], [256, 1, 1];
}

/// FMAs per chain lane: long enough that the loop, not the launch, is timed (and under
/// llvmpipe's 65,535-iteration cap).
const ITERS: u32 = 4_096;

/// The two calibration cases: `calibrate_copy` (GB/s, read + write) and `calibrate_fma`
/// (GFLOP/s), sized for the device (a CPU device gets a 64th of the work).
pub fn cases(gpu: &Gpu) -> Vec<Result<Case>> {
    let cpu = gpu.profile().cpu;
    let quads: usize = if cpu { 1 << 20 } else { 1 << 24 }; // 16 or 256 MiB
    let threads: usize = if cpu { 1 << 14 } else { 1 << 20 };
    vec![copy_case(gpu, quads), fma_case(gpu, threads)]
}

fn copy_case(gpu: &Gpu, quads: usize) -> Result<Case> {
    const OP: &str = "calibrate_copy";
    let src = Tensor::zeros(gpu, &[quads * 4])?;
    let dst = Tensor::zeros(gpu, &[quads * 4])?;
    let g = gpu.clone();
    let params = CalibrateParams {
        n: u32::try_from(quads).unwrap_or(u32::MAX),
        ..Default::default()
    };
    Ok(Case {
        op: OP.into(),
        shape: format!("{} MiB", (quads * 16) >> 20),
        work: Work::Bytes(2.0 * (quads * 16) as f64),
        run: Box::new(move || {
            let buffers = [src.buffer(), dst.buffer()];
            COPY.launch(&g, OP, ((), params), buffers, Grid::Items(quads))
        }),
    })
}

fn fma_case(gpu: &Gpu, threads: usize) -> Result<Case> {
    const OP: &str = "calibrate_fma";
    let src = Tensor::zeros(gpu, &[4])?;
    let dst = Tensor::zeros(gpu, &[threads * 4])?;
    let g = gpu.clone();
    let params = CalibrateParams {
        n: u32::try_from(threads).unwrap_or(u32::MAX),
        iters: ITERS,
        ..Default::default()
    };
    // 8 chains × 4 lanes × 2 flops per FMA.
    let flops = threads as f64 * f64::from(ITERS) * 64.0;
    Ok(Case {
        op: OP.into(),
        shape: format!("{threads}x{ITERS}"),
        work: Work::Flops(flops),
        run: Box::new(move || {
            let buffers = [src.buffer(), dst.buffer()];
            FMA.launch(&g, OP, ((), params), buffers, Grid::Items(threads))
        }),
    })
}
