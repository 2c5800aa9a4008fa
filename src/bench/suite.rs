//! The benchmark cases: matmul N³, Linear forward and forward+backward, Conv2d forward and
//! forward+backward (a ResNet-like 3×3 layer), ReLU and SoftMax forward and forward+backward, each with its inputs made once and the work it does counted
//! (FLOPs for products, bytes for memory-bound ops: each tensor read or written once), then
//! the transformer's (`transformer.rs`: attention, a GPT training step).

use crate::error::Result;
use crate::gpu::Gpu;
use crate::layer::Layer;
use crate::neurons::Linear;
use crate::ops::{self, MatmulKernel, RowKernel, Transpose};
use crate::rng::Rng;
use crate::tensor::Tensor;

/// The work one call does.
#[derive(Debug, Clone, Copy)]
pub enum Work {
    /// Floating-point operations (2 per multiply-add).
    Flops(f64),
    /// Bytes moved to or from memory.
    Bytes(f64),
    /// Tokens a training step consumes (language models).
    Tokens(f64),
}

/// One benchmark: what it is, how much work a call does, and the call (records, never reads).
pub struct Case {
    pub op: String,
    pub shape: String,
    pub work: Work,
    pub run: Box<dyn FnMut() -> Result<()>>,
}

fn random(gpu: &Gpu, rng: &mut Rng, shape: &[usize]) -> Result<Tensor> {
    let n: usize = shape.iter().product();
    let v: Vec<f32> = (0..n).map(|_| rng.uniform(-1.0, 1.0)).collect();
    Tensor::from_slice(gpu, &v, shape)
}

/// Builds the cases (inputs are uploaded here); `large` adds the big sizes.
/// A case whose inputs exceed the device's limits is returned as an `Err` in its place.
pub fn suite(gpu: &Gpu, large: bool) -> Vec<Result<Case>> {
    let mut rng = Rng::new(7);
    let mut cases = Vec::new();
    let mut sizes = vec![256, 512, 1024, 2048];
    if large {
        sizes.extend([4096, 8192]);
    }
    for n in sizes {
        cases.push(matmul_case(gpu, &mut rng, [n, n, n], MatmulKernel::Auto));
    }
    // The kernel variants side by side at 1024³ (and 4096³ with `large`), and split-K
    // against its plain tile on a small output with a long K.
    for n in if large { vec![1024, 4096] } else { vec![1024] } {
        for kernel in MatmulKernel::FORCED {
            if kernel != MatmulKernel::SplitK {
                cases.push(matmul_case(gpu, &mut rng, [n, n, n], kernel));
            }
        }
    }
    for kernel in [MatmulKernel::Blocked64, MatmulKernel::SplitK] {
        cases.push(matmul_case(gpu, &mut rng, [64, 65_536, 64], kernel));
    }
    // Linear's backward products forced onto each GPU kernel: dX = dY·Wᵀ (B transposed) and
    // dW = Xᵀ·dY (A transposed), at 1024³.
    for kernel in [
        MatmulKernel::Auto,
        MatmulKernel::Blocked128,
        MatmulKernel::Blocked128K16,
        MatmulKernel::Blocked128x64,
        MatmulKernel::Blocked64x128,
        MatmulKernel::Blocked64,
    ] {
        for trans in [
            (Transpose::No, Transpose::Yes),
            (Transpose::Yes, Transpose::No),
        ] {
            cases.push(transposed_case(gpu, &mut rng, 1024, kernel, trans));
        }
    }
    let mut linears = vec![(1024, 1024, 1024)];
    if large {
        linears.push((1024, 4096, 4096));
    }
    for (b, k, n) in linears {
        cases.push(linear_case(gpu, &mut rng, [b, k, n], false));
        cases.push(linear_case(gpu, &mut rng, [b, k, n], true));
    }
    cases.push(conv_case(gpu, &mut rng, false));
    cases.push(conv_case(gpu, &mut rng, true));
    for kernel in [ops::ConvKernel::Explicit, ops::ConvKernel::Implicit] {
        cases.push(conv_forward_case(gpu, &mut rng, [8, 64, 56, 64], kernel));
        cases.push(conv_forward_case(gpu, &mut rng, [64, 1, 28, 32], kernel));
        cases.push(conv_backward_case(gpu, &mut rng, [8, 64, 56, 64], kernel));
    }
    cases.push(relu_case(gpu, &mut rng, [4096, 4096], false));
    cases.push(relu_case(gpu, &mut rng, [4096, 4096], true));
    for shape in [[4096, 1024], [64, 65536]] {
        cases.push(softmax_case(gpu, &mut rng, shape, false, RowKernel::Auto));
        cases.push(softmax_case(gpu, &mut rng, shape, true, RowKernel::Auto));
    }
    // The row kernels side by side.
    for kernel in [
        RowKernel::PerWorkgroup,
        RowKernel::PerInvocation,
        RowKernel::Registers,
        RowKernel::Subgroup,
    ] {
        cases.push(softmax_case(gpu, &mut rng, [4096, 1024], false, kernel));
    }
    // LayerNorm and cross-entropy: the workgroup kernels against the subgroup ones.
    for kernel in [RowKernel::PerWorkgroup, RowKernel::Subgroup] {
        cases.push(layer_norm_case(gpu, &mut rng, [4096, 1024], kernel));
        cases.push(cross_entropy_case(gpu, &mut rng, [4096, 1000], kernel));
    }
    cases.extend(crate::bench::transformer::cases(gpu, &mut rng));
    cases
}

/// The kernel's name in a case: `per_workgroup` or `subgroup`.
fn row_kernel_name(kernel: RowKernel) -> &'static str {
    if kernel == RowKernel::Subgroup {
        "subgroup"
    } else {
        "per_workgroup"
    }
}

/// LayerNorm forward and backward on `kernel` (subgroup only where the device has them).
fn layer_norm_case(
    gpu: &Gpu,
    rng: &mut Rng,
    [rows, n]: [usize; 2],
    kernel: RowKernel,
) -> Result<Case> {
    let x = random(gpu, rng, &[rows, n])?;
    let dy = random(gpu, rng, &[rows, n])?;
    let gamma = random(gpu, rng, &[n])?;
    let beta = random(gpu, rng, &[n])?;
    let bytes = (rows * n * 4) as f64;
    Ok(Case {
        op: format!("layernorm_fwd_bwd_{}", row_kernel_name(kernel)),
        shape: format!("{rows}x{n}"),
        // forward reads x twice (three times for rows past 2^40), writes y; backward reads x
        // and dy twice, writes dx and dy ⊙ x̂ (then their column sums).
        work: Work::Bytes(9.0 * bytes),
        run: Box::new(move || {
            let (_, stats) = ops::layer_norm_with(kernel, &x, &gamma, &beta)?;
            ops::layer_norm_backward_with(kernel, &x, &gamma, &dy, &stats).map(drop)
        }),
    })
}

/// Softmax cross-entropy (loss and gradient) on `kernel`.
fn cross_entropy_case(
    gpu: &Gpu,
    rng: &mut Rng,
    [rows, classes]: [usize; 2],
    kernel: RowKernel,
) -> Result<Case> {
    let z = random(gpu, rng, &[rows, classes])?;
    let labels: Vec<u32> = (0..rows).map(|i| (i % classes) as u32).collect();
    let labels = crate::loss::Labels::new(gpu, &labels)?;
    let bytes = (rows * classes * 4) as f64;
    Ok(Case {
        op: format!("cross_entropy_{}", row_kernel_name(kernel)),
        shape: format!("{rows}x{classes}"),
        // reads z three times, writes the gradient.
        work: Work::Bytes(4.0 * bytes),
        run: Box::new(move || {
            crate::loss::SoftmaxCrossEntropy::new()
                .forward_backward_with(kernel, &z, &labels)
                .map(drop)
        }),
    })
}

/// C (M, N) = A (M, K) · B (K, N) on `kernel`.
fn matmul_case(
    gpu: &Gpu,
    rng: &mut Rng,
    [m, k, n]: [usize; 3],
    kernel: MatmulKernel,
) -> Result<Case> {
    let (a, b) = (random(gpu, rng, &[m, k])?, random(gpu, rng, &[k, n])?);
    let no = Transpose::No;
    Ok(Case {
        op: matmul_op(kernel),
        shape: format!("{m}x{k}x{n}"),
        work: Work::Flops(2.0 * (m * k * n) as f64),
        run: Box::new(move || ops::gemm_with(kernel, (&a, no), (&b, no), None).map(drop)),
    })
}

/// The case's name: `matmul` for `Auto`, else `matmul_` and the kernel's name.
/// An n³ product with `trans` on `kernel`: `matmul_nt_*` (dX's form) or `matmul_tn_*` (dW's).
fn transposed_case(
    gpu: &Gpu,
    rng: &mut Rng,
    n: usize,
    kernel: MatmulKernel,
    (ta, tb): (Transpose, Transpose),
) -> Result<Case> {
    let (a, b) = (random(gpu, rng, &[n, n])?, random(gpu, rng, &[n, n])?);
    let form = if ta == Transpose::Yes { "tn" } else { "nt" };
    Ok(Case {
        op: format!("matmul_{form}_{}", kernel.name()),
        shape: format!("{n}x{n}x{n}"),
        work: Work::Flops(2.0 * (n * n * n) as f64),
        run: Box::new(move || ops::gemm_with(kernel, (&a, ta), (&b, tb), None).map(drop)),
    })
}

fn matmul_op(kernel: MatmulKernel) -> String {
    match kernel {
        MatmulKernel::Auto => "matmul".into(),
        kernel => format!("matmul_{}", kernel.name()),
    }
}

fn linear_case(gpu: &Gpu, rng: &mut Rng, [b, k, n]: [usize; 3], backward: bool) -> Result<Case> {
    let mut lin = Linear::with_seed(gpu, k, n, 1)?;
    let x = random(gpu, rng, &[b, k])?;
    let dy = random(gpu, rng, &[b, n])?;
    let matmuls = if backward { 3.0 } else { 1.0 };
    Ok(Case {
        op: if backward {
            "linear_fwd_bwd"
        } else {
            "linear_fwd"
        }
        .into(),
        shape: format!("{b}x{k}x{n}"),
        work: Work::Flops(matmuls * 2.0 * (b * k * n) as f64),
        run: Box::new(move || {
            lin.forward(&x)?;
            if backward {
                lin.backward(&dy)?;
            }
            Ok(())
        }),
    })
}

/// A ResNet-like layer: 32 images of 64 channels, 56×56, 3×3 to 64 channels, padding 1;
/// 2·N·Ho·Wo·out·in·k² FLOP per pass (the backward's two products count twice that).
fn conv_case(gpu: &Gpu, rng: &mut Rng, backward: bool) -> Result<Case> {
    let (n, c, hw, out) = (32, 64, 56, 64);
    let mut conv = crate::neurons::Conv2d::with_seed(gpu, c, out, 3, 1, 1, 1)?;
    let x = random(gpu, rng, &[n, c, hw, hw])?;
    let dy = random(gpu, rng, &[n, out, hw, hw])?;
    let pass = 2.0 * (n * hw * hw * out * c * 9) as f64;
    Ok(Case {
        op: if backward {
            "conv2d_fwd_bwd"
        } else {
            "conv2d_fwd"
        }
        .into(),
        shape: format!("{n}x{c}x{hw}x{hw}->{out} k3"),
        work: Work::Flops(if backward { 3.0 } else { 1.0 } * pass),
        run: Box::new(move || {
            conv.forward(&x)?;
            if backward {
                conv.backward(&dy)?;
            }
            Ok(())
        }),
    })
}

/// Conv2d's forward, 3×3, stride 1, padding 1, on a forced kernel: `[n, c, hw, out]`.
fn conv_forward_case(
    gpu: &Gpu,
    rng: &mut Rng,
    [n, c, hw, out]: [usize; 4],
    kernel: ops::ConvKernel,
) -> Result<Case> {
    let x = random(gpu, rng, &[n, c, hw, hw])?;
    let w = random(gpu, rng, &[out, c, 3, 3])?;
    let b = random(gpu, rng, &[out])?;
    let name = format!("{kernel:?}").to_lowercase();
    Ok(Case {
        op: format!("conv2d_fwd_{name}"),
        shape: format!("{n}x{c}x{hw}x{hw}->{out} k3"),
        work: Work::Flops(2.0 * (n * hw * hw * out * c * 9) as f64),
        run: Box::new(move || ops::conv2d_with(kernel, &x, &w, Some(&b), (1, 1)).map(drop)),
    })
}

/// Conv2d's backward (dx on `kernel`; dW and db through explicit columns either way).
fn conv_backward_case(
    gpu: &Gpu,
    rng: &mut Rng,
    [n, c, hw, out]: [usize; 4],
    kernel: ops::ConvKernel,
) -> Result<Case> {
    let x = random(gpu, rng, &[n, c, hw, hw])?;
    let w = random(gpu, rng, &[out, c, 3, 3])?;
    let dy = random(gpu, rng, &[n, out, hw, hw])?;
    let name = format!("{kernel:?}").to_lowercase();
    Ok(Case {
        op: format!("conv2d_bwd_{name}"),
        shape: format!("{n}x{c}x{hw}x{hw}->{out} k3"),
        work: Work::Flops(4.0 * (n * hw * hw * out * c * 9) as f64),
        run: Box::new(move || ops::conv2d_backward_with(kernel, &x, &w, &dy, (1, 1)).map(drop)),
    })
}

fn relu_case(gpu: &Gpu, rng: &mut Rng, shape: [usize; 2], backward: bool) -> Result<Case> {
    let x = random(gpu, rng, &shape)?;
    let dy = random(gpu, rng, &shape)?;
    let bytes = (shape[0] * shape[1] * 4) as f64;
    Ok(Case {
        op: if backward { "relu_fwd_bwd" } else { "relu_fwd" }.into(),
        shape: format!("{}x{}", shape[0], shape[1]),
        // forward reads x, writes y; backward reads x and dy, writes dx.
        work: Work::Bytes(if backward { 5.0 } else { 2.0 } * bytes),
        run: Box::new(move || {
            ops::relu_forward(&x)?;
            if backward {
                ops::relu_backward(&x, &dy)?;
            }
            Ok(())
        }),
    })
}

fn softmax_case(
    gpu: &Gpu,
    rng: &mut Rng,
    shape: [usize; 2],
    backward: bool,
    kernel: RowKernel,
) -> Result<Case> {
    let x = random(gpu, rng, &shape)?;
    let dy = random(gpu, rng, &shape)?;
    let bytes = (shape[0] * shape[1] * 4) as f64;
    Ok(Case {
        op: match (backward, kernel) {
            (true, _) => "softmax_fwd_bwd",
            (false, RowKernel::Auto) => "softmax_fwd",
            (false, RowKernel::PerWorkgroup) => "softmax_fwd_per_workgroup",
            (false, RowKernel::PerInvocation) => "softmax_fwd_per_invocation",
            (false, RowKernel::Chunked) => "softmax_fwd_chunked",
            (false, RowKernel::Registers) => "softmax_fwd_registers",
            (false, RowKernel::Subgroup) => "softmax_fwd_subgroup",
        }
        .into(),
        shape: format!("{}x{}", shape[0], shape[1]),
        // forward reads x, writes y; backward reads y and dy, writes dx.
        work: Work::Bytes(if backward { 5.0 } else { 2.0 } * bytes),
        run: Box::new(move || {
            let y = ops::softmax_forward_with(kernel, &x)?;
            if backward {
                ops::softmax_backward_with(kernel, &y, &dy)?;
            }
            Ok(())
        }),
    })
}
