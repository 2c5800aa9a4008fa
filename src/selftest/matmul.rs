//! The matmul rows of the self-check: every kernel forced, and `Auto`, over shapes that break
//! tiling (1, 3, 17, tile ± 1, primes, tall, wide, vec4-aligned), every transpose, the bias
//! and ReLU epilogues (the quick run: with NN and TT), a long K (the tiled kernel's accumulating chunks on drivers that cap
//! loops, split-K's ranges), and one product of 1024 on a side. Integer data: every case is
//! exact in f32, so the tolerance is zero; the 1024³ product uses floats.

use super::{floats, integers, Family, Options, Rows, Tol, EXACT};
use crate::gpu::Gpu;
use crate::ops::{self, MatmulKernel, Transpose};
use crate::reference;
use crate::rng::Rng;
use crate::tensor::Tensor;

/// (M, K, N): ones, odds, primes, the 64 and 128 tiles ± 1, tall, wide, vec4-aligned.
const SHAPES: [(usize, usize, usize); 12] = [
    (1, 1, 1),
    (3, 3, 3),
    (17, 17, 17),
    (1, 64, 3),
    (63, 65, 127),
    (129, 127, 65),
    (97, 101, 89),
    (1031, 13, 7),
    (7, 13, 1031),
    (64, 128, 64),
    (128, 64, 256),
    (8, 36, 132),
];
/// The quick run's subset.
const QUICK: [(usize, usize, usize); 4] = [(3, 3, 3), (63, 65, 127), (97, 101, 89), (64, 128, 64)];
/// Long K: past the tiled kernel's chunk (16,384) and split-K's range.
const LONG_K: (usize, usize, usize) = (5, 20_001, 6);
/// The large product (floats).
const LARGE: usize = 1024;
const TRANSPOSES: [(Transpose, Transpose); 4] = [
    (Transpose::No, Transpose::No),
    (Transpose::No, Transpose::Yes),
    (Transpose::Yes, Transpose::No),
    (Transpose::Yes, Transpose::Yes),
];

/// One product's operands: stored A and B, and the logical ones in f64.
struct Operands {
    a: Tensor,
    b: Tensor,
    bias: Tensor,
    /// op(A) (M×K), op(B) (K×N), bias, all f64.
    a64: Vec<f64>,
    b64: Vec<f64>,
    bias64: Vec<f64>,
}

fn operands(
    gpu: &Gpu,
    (m, k, n): (usize, usize, usize),
    (ta, tb): (Transpose, Transpose),
    data: &mut dyn FnMut(usize) -> (Vec<f32>, Vec<f64>),
) -> crate::Result<Operands> {
    let (a, a_stored) = data(m * k);
    let (b, b_stored) = data(k * n);
    let (bias, bias64) = data(n);
    let a_shape = if ta == Transpose::Yes { [k, m] } else { [m, k] };
    let b_shape = if tb == Transpose::Yes { [n, k] } else { [k, n] };
    let logical = |t: Transpose, v: Vec<f64>, s: [usize; 2]| {
        if t == Transpose::Yes {
            reference::transpose(&v, s[0], s[1])
        } else {
            v
        }
    };
    Ok(Operands {
        a: Tensor::from_slice(gpu, &a, &a_shape)?,
        b: Tensor::from_slice(gpu, &b, &b_shape)?,
        bias: Tensor::from_slice(gpu, &bias, &[n])?,
        a64: logical(ta, a_stored, a_shape),
        b64: logical(tb, b_stored, b_shape),
        bias64,
    })
}

/// Runs one product and checks it: C = op(A)·op(B) (+ bias) (ReLU).
async fn case(
    family: &mut Family,
    kernel: MatmulKernel,
    o: &Operands,
    (m, k, n): (usize, usize, usize),
    (ta, tb): (Transpose, Transpose),
    (bias, relu): (bool, bool),
    tol: Tol,
) {
    let b = bias.then_some(&o.bias);
    let got = family
        .time(async {
            if relu {
                ops::gemm_relu_with(kernel, (&o.a, ta), (&o.b, tb), b)
            } else {
                ops::gemm_with(kernel, (&o.a, ta), (&o.b, tb), b)
            }?
            .read()
            .await
        })
        .await;
    let mut want = reference::matmul(&o.a64, &o.b64, m, k, n);
    let abs = |v: &[f64]| v.iter().map(|x| x.abs()).collect::<Vec<_>>();
    let mut scale = reference::matmul(&abs(&o.a64), &abs(&o.b64), m, k, n);
    if bias {
        for (i, v) in want.iter_mut().enumerate() {
            *v += o.bias64[i % n];
            scale[i] += o.bias64[i % n].abs();
        }
    }
    if relu {
        want = reference::relu(&want);
    }
    let t = |t: Transpose| if t == Transpose::Yes { 'T' } else { 'N' };
    let name = format!(
        "{m}x{k}x{n} {}{}{}{}",
        t(ta),
        t(tb),
        if bias { " +bias" } else { "" },
        if relu { " relu" } else { "" }
    );
    family.check(&name, got, &want, Some(&scale), tol);
}

pub(super) async fn run(gpu: &Gpu, options: &Options, rows: &mut Rows<'_>) {
    let mut kernels = vec![MatmulKernel::Auto];
    kernels.extend(MatmulKernel::FORCED);
    let shapes: &[(usize, usize, usize)] = if options.quick { &QUICK } else { &SHAPES };
    let mut rng = Rng::new(17);
    let mut ints = |n: usize| integers(&mut rng, n, 3);
    for kernel in kernels {
        let name = format!("matmul {}", kernel.name());
        let mut sweep = Family::new(&name, "shapes x transposes (exact)");
        let mut epilogue = Family::new(&name, "bias, relu, bias+relu (exact)");
        for &shape in shapes {
            for trans in TRANSPOSES {
                let o = match operands(gpu, shape, trans, &mut ints) {
                    Ok(o) => o,
                    Err(e) => {
                        sweep.fail("upload", &e);
                        continue;
                    }
                };
                case(&mut sweep, kernel, &o, shape, trans, (false, false), EXACT).await;
                // The quick run checks the epilogues with neither and with both operands
                // transposed (each combination is a pipeline to compile; the epilogue's code
                // does not depend on the transposes), the full run with all four.
                if options.quick && trans.0 != trans.1 {
                    continue;
                }
                for epi in [(true, false), (false, true), (true, true)] {
                    case(&mut epilogue, kernel, &o, shape, trans, epi, EXACT).await;
                }
            }
        }
        rows.extend([sweep.done(), epilogue.done()]);
        let mut long = Family::new(&name, "long K: accumulate, split ranges");
        for trans in [TRANSPOSES[0], TRANSPOSES[3]] {
            match operands(gpu, LONG_K, trans, &mut ints) {
                Ok(o) => case(&mut long, kernel, &o, LONG_K, trans, (true, false), EXACT).await,
                Err(e) => long.fail("upload", &e),
            }
        }
        rows.push(long.done());
    }
    if !options.quick {
        large(gpu, rows).await;
    }
}

/// Every kernel on one 1024³ product of floats (one f64 reference for all).
async fn large(gpu: &Gpu, rows: &mut Rows<'_>) {
    let mut rng = Rng::new(29);
    let shape = (LARGE, LARGE, LARGE);
    let trans = TRANSPOSES[0];
    let mut data = |n: usize| floats(&mut rng, n, -1.0, 1.0);
    let o = operands(gpu, shape, trans, &mut data);
    // f32 accumulation of 1,024 terms: within 1e-5 of Σ|a||b| (the tests' bound).
    let tol = Tol {
        abs: 1e-30,
        rel: 1e-5,
    };
    let mut kernels = vec![MatmulKernel::Auto];
    kernels.extend(MatmulKernel::FORCED);
    let want = o.as_ref().ok().map(|o| {
        let abs = |v: &[f64]| v.iter().map(|x| x.abs()).collect::<Vec<_>>();
        let scale = reference::matmul(&abs(&o.a64), &abs(&o.b64), LARGE, LARGE, LARGE);
        (
            reference::matmul(&o.a64, &o.b64, LARGE, LARGE, LARGE),
            scale,
        )
    });
    for kernel in kernels {
        let mut f = Family::new(format!("matmul {}", kernel.name()), "1024^3 floats");
        match (&o, &want) {
            (Ok(o), Some((want, scale))) => {
                let got = f
                    .time(async {
                        ops::gemm_with(kernel, (&o.a, trans.0), (&o.b, trans.1), None)?
                            .read()
                            .await
                    })
                    .await;
                f.check("1024x1024x1024 NN", got, want, Some(scale), tol);
            }
            (Err(e), _) => f.fail("upload", e),
            (Ok(_), None) => {}
        }
        rows.push(f.done());
    }
}
