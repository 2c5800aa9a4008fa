//! Matrix products: the public `gemm` family, shape checks, and the launch of the kernel that
//! runs (`matmul_choice.rs` decides which for `Auto`). The kernels: tiled
//! (`shaders/matmul.wgsl`), register and vec4 (no workgroup memory, `matmul_plain.rs`), the
//! blocked GPU family (`matmul_blocked.rs`) and the texture kernel (`matmul_texture.rs`).

use crate::error::{Error, Result};
use crate::ops::matmul_blocked as blocked;
use crate::ops::matmul_choice::choose;
use crate::ops::matmul_family::{self as family, Runs, FAMILY};
use crate::ops::matmul_plain::unfused;
use crate::ops::matmul_texture as texture;
use crate::ops::same_gpu;
use crate::tensor::Tensor;

/// Whether an operand of [`gemm`] is read as stored or transposed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transpose {
    /// As stored.
    No,
    /// Transposed.
    Yes,
}

/// What a product computes beyond A·B: the transposes, the bias, the ReLU epilogue.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Form {
    pub trans_a: bool,
    pub trans_b: bool,
    pub bias: bool,
    pub relu: bool,
}

/// One product as the kernels' launches take it: buffers A, B, bias (A's when there is none),
/// C; the transposes, bias and ReLU; (M, N, K).
pub(crate) struct Product<'a> {
    pub gpu: &'a crate::gpu::Gpu,
    pub buffers: [&'a wgpu::Buffer; 4],
    pub form: Form,
    pub mnk: (usize, usize, usize),
}

/// Which matmul kernel runs (see `shaders/matmul*.wgsl`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatmulKernel {
    /// The fastest on this adapter for this shape class, measured by the autotuner the first
    /// time the class comes up (see [`crate::Gpu::tuned`]); untuned (small products, tuning
    /// off or over budget): on CPU devices `Texture` from 2^23 multiply-adds, else `Register`
    /// (or `Tiled` where it cannot take the shape); on GPUs the first rule of a table that
    /// holds (ARCHITECTURE.md): few output tiles over a long K `SplitK`, big products
    /// `Blocked128`, aligned rows without a transposed B `Vec4`, else `Blocked64`.
    Auto,
    /// 64×64 tiles through workgroup memory, 4×4 per invocation.
    Tiled,
    /// No workgroup memory: a 32×8 block per invocation in 64 vec4 registers (built for CPU
    /// devices). Shapes it cannot take (see [`gemm_with`]) run on `Tiled`.
    Register,
    /// No workgroup memory: a 4×4 block per invocation, vec4 loads (built for GPUs). Shapes it
    /// cannot take run on `Tiled`.
    Vec4,
    /// The blocked GPU kernel: 128×128 tiles, 8×8 per invocation, double-buffered k-major
    /// staging; any shape (edge checks only where the shape does not fit the tile).
    Blocked128,
    /// `Blocked128` with K slices of 16 (half the barriers; 32 KiB of workgroup memory: on
    /// devices with less it runs on `Tiled`).
    Blocked128K16,
    /// The same with 128×64 tiles (8×4 per invocation).
    Blocked128x64,
    /// The same with 64×128 tiles (4×8 per invocation): products of few rows.
    Blocked64x128,
    /// The same with 64×64 tiles (4×4 per invocation, K slices of 16).
    Blocked64,
    /// `Blocked64` over ranges of K in parallel, then a sum of the partial products: for small
    /// outputs with a long K (the number of ranges follows the shape).
    SplitK,
    /// Both operands packed into textures, then a 16×16 block per invocation read through
    /// texel fetches (built for CPU devices, where a fetch costs an eighth of a storage-buffer
    /// load); any shape and transpose, with the ReLU epilogue. K over 131,072 on drivers that
    /// cap loops (llvmpipe), or operands over the device's texture size, run on `Tiled`.
    Texture,
}

impl MatmulKernel {
    /// Every kernel that can be forced, in the order the autotuner times them (the family's
    /// table, `ops/matmul_family.rs`).
    pub const FORCED: [MatmulKernel; FAMILY.len()] = family::forced();

    /// Its name in benchmarks, the self-check and the autotuner's file.
    pub fn name(self) -> &'static str {
        family::variant(self).map_or("auto", |v| v.name)
    }

    /// What it is built for and why it is in the family.
    pub fn why(self) -> &'static str {
        family::variant(self).map_or(
            "the autotuner's pick for the shape class, from the static choice",
            |v| v.why,
        )
    }
}

/// C = A·B for A (M, K) and B (K, N); batched for rank 3 and 4, `[.., M, K]·[.., K, N]` with
/// equal leading dimensions (or one side a plain matrix shared by every batch): C `[.., M, N]`.
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
/// bias: `[N]`, added to every row. Returns C: (M, N). Operands of rank 3 and 4 are batches
/// of matrices (see [`matmul`]); their products run in one dispatch of the tiled kernel,
/// whatever kernel is asked for.
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
    product(kernel, (a, ta), (b, tb), bias, false)
}

/// ReLU([`gemm`]): `relu_forward(gemm(..))` in one pass where the kernel that runs has the
/// ReLU epilogue (the blocked family), else in two. Bit for bit the same either way.
pub fn gemm_relu(
    a: &Tensor,
    ta: Transpose,
    b: &Tensor,
    tb: Transpose,
    bias: Option<&Tensor>,
) -> Result<Tensor> {
    gemm_relu_with(MatmulKernel::Auto, (a, ta), (b, tb), bias)
}

/// [`gemm_relu`] on a chosen kernel.
pub fn gemm_relu_with(
    kernel: MatmulKernel,
    (a, ta): (&Tensor, Transpose),
    (b, tb): (&Tensor, Transpose),
    bias: Option<&Tensor>,
) -> Result<Tensor> {
    product(kernel, (a, ta), (b, tb), bias, true)
}

fn product(
    kernel: MatmulKernel,
    (a, ta): (&Tensor, Transpose),
    (b, tb): (&Tensor, Transpose),
    bias: Option<&Tensor>,
    relu: bool,
) -> Result<Tensor> {
    const OP: &str = "matmul";
    if a.shape().len() > 2 || b.shape().len() > 2 {
        return crate::ops::matmul_batched::batched((a, ta), (b, tb), bias, relu);
    }
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
    let form = Form {
        trans_a: ta == Transpose::Yes,
        trans_b: tb == Transpose::Yes,
        bias: bias.is_some(),
        relu,
    };
    let bias_buffer = match bias {
        Some(bias) => {
            same_gpu(OP, &[a, bias])?;
            crate::ops::expect_shape("matmul bias", bias, &[n])?;
            bias.buffer()
        }
        None => a.buffer(),
    };
    let gpu = a.gpu();
    let kernel = choose(kernel, (a, ta), (b, tb), bias, (m, n, k))?;
    let c = Tensor::empty(gpu, OP, &[m, n])?;
    let buffers = [a.buffer(), b.buffer(), bias_buffer, c.buffer()];
    let p = Product {
        gpu,
        buffers,
        form,
        mnk: (m, n, k),
    };
    match family::variant(kernel).map(|v| v.runs) {
        Some(Runs::Blocked(tile)) => return blocked::launch(&p, tile, 1).map(|()| c),
        Some(Runs::SplitK(tile)) => {
            let splits = blocked::split_count((m, n, k));
            return blocked::launch(&p, tile, splits).map(|()| c);
        }
        Some(Runs::Texture) => return texture::launch(&p).map(|()| c),
        Some(Runs::Plain) | None => {}
    }
    let unepilogued = Form {
        relu: false,
        ..form
    };
    let c = unfused(kernel, (gpu, buffers), unepilogued, (m, n, k)).map(|()| c)?;
    if relu {
        return crate::ops::relu_forward(&c);
    }
    Ok(c)
}
