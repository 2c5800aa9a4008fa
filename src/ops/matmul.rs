//! Matrix products on the tiled kernel of `shaders/matmul.wgsl`.

use crate::error::{Error, Result};
use crate::kernels::{params, Dispatch, HAS_BIAS, MATMUL, MATMUL_REGISTER, TRANS_A, TRANS_B};
use crate::ops::{same_gpu, u32_of};
use crate::tensor::Tensor;

/// Whether an operand of [`gemm`] is read as stored or transposed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transpose {
    No,
    Yes,
}

/// Which matmul kernel runs (see `shaders/matmul.wgsl`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatmulKernel {
    /// The one suited to the adapter: `Register` on CPU devices, `Tiled` on GPUs.
    Auto,
    /// 64×64 tiles through workgroup memory, 4×4 per invocation.
    Tiled,
    /// No workgroup memory: an 8×8 block per invocation read straight from memory.
    Register,
}

/// C = A·B for A (M, K) and B (K, N).
pub fn matmul(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    gemm(a, Transpose::No, b, Transpose::No, None)
}

fn as_matrix(op: &'static str, t: &Tensor) -> Result<(usize, usize)> {
    match t.shape() {
        [r, c] => Ok((*r, *c)),
        s => Err(Error::ShapeMismatch {
            op,
            expected: "a matrix [rows, cols]".into(),
            got: s.to_vec(),
        }),
    }
}

/// C = op(A)·op(B) (+ bias), where op transposes when asked:
/// A: (M, K) or, transposed, stored (K, M); B: (K, N) or, transposed, stored (N, K);
/// bias: [N], added to every row. Returns C: (M, N).
pub fn gemm(
    a: &Tensor,
    ta: Transpose,
    b: &Tensor,
    tb: Transpose,
    bias: Option<&Tensor>,
) -> Result<Tensor> {
    gemm_with(MatmulKernel::Auto, (a, ta), (b, tb), bias)
}

/// [`gemm`] on a chosen kernel, for benchmarks and tests that compare them.
pub fn gemm_with(
    kernel: MatmulKernel,
    (a, ta): (&Tensor, Transpose),
    (b, tb): (&Tensor, Transpose),
    bias: Option<&Tensor>,
) -> Result<Tensor> {
    const OP: &str = "matmul";
    same_gpu(OP, &[a, b])?;
    let (m, k) = match (as_matrix(OP, a)?, ta) {
        ((r, c), Transpose::No) => (r, c),
        ((r, c), Transpose::Yes) => (c, r),
    };
    let (k2, n) = match (as_matrix(OP, b)?, tb) {
        ((r, c), Transpose::No) => (r, c),
        ((r, c), Transpose::Yes) => (c, r),
    };
    if k != k2 {
        let stored = if tb == Transpose::Yes {
            format!("[N, {k}]")
        } else {
            format!("[{k}, N]")
        };
        return Err(Error::ShapeMismatch {
            op: OP,
            expected: format!(
                "B of shape {stored} to match A {:?} (inner dimension {k})",
                a.shape()
            ),
            got: b.shape().to_vec(),
        });
    }
    let mut spec = 0;
    if ta == Transpose::Yes {
        spec |= TRANS_A;
    }
    if tb == Transpose::Yes {
        spec |= TRANS_B;
    }
    let bias_buffer = match bias {
        Some(bias) => {
            same_gpu(OP, &[a, bias])?;
            crate::ops::expect_shape("matmul bias", bias, &[n])?;
            spec |= HAS_BIAS;
            bias.buffer()
        }
        None => a.buffer(),
    };
    let gpu = a.gpu();
    let c = Tensor::empty(gpu, OP, &[m, n])?;
    // The register kernel reads whole vec4s: K, N and (transposed A) M must be multiples of 4.
    let aligned = k % 4 == 0 && n % 4 == 0 && (ta == Transpose::No || m % 4 == 0);
    let register = aligned
        && match kernel {
            MatmulKernel::Auto => gpu.adapter_info().device_type == wgpu::DeviceType::Cpu,
            MatmulKernel::Tiled => false,
            MatmulKernel::Register => true,
        };
    let (kernel, grid) = if register {
        (&MATMUL_REGISTER, [n.div_ceil(64), m.div_ceil(256)])
    } else {
        (&MATMUL, [n.div_ceil(64), m.div_ceil(64)])
    };
    let max = gpu.limits().max_compute_workgroups_per_dimension as usize;
    if grid[0] > max || grid[1] > max {
        return Err(Error::TooLarge {
            op: OP,
            what: "workgroups along one side of the output",
            requested: grid[0].max(grid[1]) as u64,
            limit: max as u64,
        });
    }
    gpu.launch(
        OP,
        Dispatch {
            kernel,
            spec,
            params: params(&[u32_of(m), u32_of(n), u32_of(k)]),
            buffers: &[a.buffer(), b.buffer(), bias_buffer, c.buffer()],
            grid: [grid[0] as u32, grid[1] as u32, 1],
        },
    )?;
    Ok(c)
}
