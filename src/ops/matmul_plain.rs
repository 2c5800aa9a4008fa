//! The matmul kernels without an epilogue of their own (`shaders/matmul.wgsl`,
//! `matmul_register.wgsl`, `matmul_vec4.wgsl`): one launch each, and the tiled kernel's K
//! chunks on drivers that cap loops.

use crate::error::Result;
use crate::gpu::Gpu;
use crate::kernels::{
    Dispatch, MatmulParams, MatmulRegisterParams, MatmulVec4Params, Uniform, ACCUMULATE, MATMUL,
    MATMUL_REGISTER, MATMUL_VEC4,
};
use crate::ops::matmul::MatmulKernel;
use crate::ops::u32_of;

/// On drivers that stop loops after 65,535 iterations (llvmpipe), the longest range of k one
/// tiled dispatch covers (~21 loop iterations per 16 k); a longer K is split into dispatches
/// that accumulate. Other devices take any K in one dispatch.
const TILED_K_CHUNK: usize = 16_384;
/// The kernels without a ReLU epilogue: register, vec4, tiled.
pub(crate) fn unfused(
    kernel: MatmulKernel,
    (gpu, buffers): (&Gpu, &[&wgpu::Buffer; 4]),
    spec: u32,
    (m, n, k): (usize, usize, usize),
) -> Result<()> {
    const OP: &str = "matmul";
    let (m32, n32, k32) = (u32_of(OP, m)?, u32_of(OP, n)?, u32_of(OP, k)?);
    let (which, rows, words) = match kernel {
        MatmulKernel::Register => {
            let p = MatmulRegisterParams {
                m: m32,
                n: n32,
                k: k32,
                _pad: 0,
            };
            (&MATMUL_REGISTER, 256, p.words())
        }
        MatmulKernel::Vec4 => {
            let p = MatmulVec4Params {
                m: m32,
                n: n32,
                k: k32,
                _pad: 0,
            };
            (&MATMUL_VEC4, 64, p.words())
        }
        _ => return launch_tiled((gpu, buffers), spec, (m, n, k)),
    };
    let grid = gpu.grid_2d(OP, n.div_ceil(64) as u64, m.div_ceil(rows) as u64)?;
    let dispatch = Dispatch {
        kernel: which,
        spec,
        params: words,
        buffers,
        grid,
    };
    gpu.launch(OP, dispatch)
}

/// The tiled kernel; on loop-capping drivers K in chunks of [`TILED_K_CHUNK`] that
/// accumulate.
fn launch_tiled(
    (gpu, buffers): (&Gpu, &[&wgpu::Buffer; 4]),
    spec: u32,
    (m, n, k): (usize, usize, usize),
) -> Result<()> {
    const OP: &str = "matmul";
    let grid = gpu.grid_2d(OP, n.div_ceil(64) as u64, m.div_ceil(64) as u64)?;
    // Only drivers that cap loops need K cut into accumulating dispatches.
    let chunk = if gpu.profile().caps_loops {
        TILED_K_CHUNK
    } else {
        k.max(1)
    };
    for (i, k0) in (0..k.max(1)).step_by(chunk).enumerate() {
        let k1 = (k0 + chunk).min(k);
        let spec = if i == 0 { spec } else { spec | ACCUMULATE };
        let words = MatmulParams {
            m: u32_of(OP, m)?,
            n: u32_of(OP, n)?,
            k: u32_of(OP, k)?,
            k0: u32_of(OP, k0)?,
            k1: u32_of(OP, k1)?,
            ..Default::default()
        };
        gpu.launch(
            OP,
            Dispatch {
                kernel: &MATMUL,
                spec,
                params: words.words(),
                buffers,
                grid,
            },
        )?;
    }
    Ok(())
}
