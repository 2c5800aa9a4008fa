//! The non-finite rows of the self-check: every row op (softmax on each row kernel, LayerNorm,
//! cross-entropy, the pools) over rows of NaN, +inf, a -inf entry, -inf only, the largest
//! finite floats and both signs of them, beside ordinary rows that must come out untouched.
//! The f64 reference defines each answer (a NaN or +inf in a row makes its softmax NaN, -inf
//! gives 0, a row of -inf only is NaN; LayerNorm of a row with NaN or ±inf is NaN and of a
//! constant row near `f32::MAX` is β). On fast-math compilers (Metal, GL) these are the rows
//! that fail when a kernel carries such state in float values instead of integer flags.

use super::rows::{softmax_backward_case, softmax_forward_case, SoftmaxData, ROW_KERNELS};
use super::{floats, integers, Family, Options, Rows, Tol, EXACT};
use crate::error::Result;
use crate::gpu::Gpu;
use crate::loss::{Labels, SoftmaxCrossEntropy};
use crate::ops::{self, Pool, RowKernel, LAYER_NORM_EPS};
use crate::reference;
use crate::rng::Rng;
use crate::tensor::Tensor;

const BIG: f32 = f32::MAX;
const INF: f32 = f32::INFINITY;

/// The adversarial rows, `cols` each: what each row holds (element `at` of a random row is
/// replaced, or the whole row filled).
fn adversarial(rng: &mut Rng, cols: usize) -> Vec<f32> {
    let at = cols / 2;
    let (mut x, _) = floats(rng, 9 * cols, -4.0, 4.0);
    let mut row = |r: usize, f: &dyn Fn(usize, &mut f32)| {
        for (j, v) in x[r * cols..(r + 1) * cols].iter_mut().enumerate() {
            f(j, v);
        }
    };
    // Row 0 stays random: the rows around a bad one must be unaffected.
    row(1, &|j, v| *v = if j == at { f32::NAN } else { *v });
    row(2, &|j, v| *v = if j == at { INF } else { *v });
    row(3, &|j, v| *v = if j == at { -INF } else { *v });
    row(4, &|_, v| *v = -INF);
    row(5, &|_, v| *v = BIG);
    row(6, &|j, v| *v = if j % 2 == 0 { BIG } else { -BIG });
    row(7, &|j, v| *v *= if j % 3 == 0 { 1e37 } else { 1e-30 });
    row(8, &|j, v| *v = if j == at { -INF } else { -BIG });
    x
}

pub(super) async fn run(gpu: &Gpu, options: &Options, rows: &mut Rows<'_>) {
    let cols: &[usize] = if options.quick {
        &[1, 7, 300]
    } else {
        &[1, 7, 300, 2_500]
    };
    softmax(gpu, cols, rows).await;
    for kernel in [RowKernel::PerWorkgroup, RowKernel::Subgroup] {
        rows.push(layer_norm(gpu, kernel, cols).await);
    }
    rows.push(cross_entropy(gpu).await);
    rows.push(pools(gpu).await);
}

async fn softmax(gpu: &Gpu, cols: &[usize], out: &mut Rows<'_>) {
    let mut rng = Rng::new(71);
    let data: Vec<_> = cols
        .iter()
        .map(|&c| {
            let x = adversarial(&mut rng, c);
            SoftmaxData::new(&mut rng, x, c)
        })
        .collect();
    for kernel in ROW_KERNELS {
        let name = format!("softmax {kernel:?}").to_lowercase();
        let mut f = Family::new(&name, "non-finite: NaN, +-inf, -inf rows, +-f32::MAX");
        for d in &data {
            let c = d.shape[1];
            softmax_forward_case(gpu, kernel, d, &mut f, &format!("forward 9x{c}")).await;
            softmax_backward_case(gpu, kernel, d, &mut f, &format!("backward 9x{c}")).await;
        }
        out.push(f.done());
    }
}

/// f32 roundings of the terms of y = γ (x − μ) r + β, relative to their size.
const LAYER_NORM_TOL: Tol = Tol {
    abs: 1e-30,
    rel: 4e-6,
};

async fn layer_norm(gpu: &Gpu, kernel: RowKernel, cols: &[usize]) -> super::Row {
    let name = format!("layernorm {kernel:?}").to_lowercase();
    let mut f = Family::new(&name, "NaN, +-inf, f32::MAX rows, random (y, dx)");
    let mut rng = Rng::new(72);
    let eps = f64::from(LAYER_NORM_EPS);
    for &c in cols {
        let x = adversarial(&mut rng, c);
        let (gamma, gamma64) = floats(&mut rng, c, 0.5, 1.5);
        let (beta, beta64) = floats(&mut rng, c, -1.0, 1.0);
        let x64 = reference::to_f64(&x);
        let want = reference::layer_norm(&x64, &gamma64, &beta64, eps);
        let scale = layer_norm_scale(&x64, &gamma64, &beta64, eps);
        let (dy, dy64) = floats(&mut rng, x.len(), -1.0, 1.0);
        let (want_dx, _, _) = reference::layer_norm_backward(&x64, &gamma64, &dy64, eps);
        let dx_scale = layer_norm_dx_scale(&x64, &gamma64, &dy64, eps);
        let got = f
            .time(async {
                let t = Tensor::from_slice(gpu, &x, &[x.len() / c, c])?;
                let g = Tensor::from_slice(gpu, &gamma, &[c])?;
                let b = Tensor::from_slice(gpu, &beta, &[c])?;
                let (y, stats) = ops::layer_norm_with(kernel, &t, &g, &b)?;
                let d = Tensor::from_slice(gpu, &dy, &[x.len() / c, c])?;
                let (dx, _, _) = ops::layer_norm_backward_with(kernel, &t, &g, &d, &stats)?;
                Result::Ok([y.read().await?, dx.read().await?])
            })
            .await;
        let case = format!("9x{c}");
        match got {
            Ok([y, dx]) => {
                f.check(
                    &format!("{case} y"),
                    Ok(y),
                    &want,
                    Some(&scale),
                    LAYER_NORM_TOL,
                );
                let tol = LAYER_NORM_DX_TOL;
                f.check(
                    &format!("{case} dx"),
                    Ok(dx),
                    &want_dx,
                    Some(&dx_scale),
                    tol,
                );
            }
            Err(e) => f.check(&case, Err(e), &want, None, LAYER_NORM_TOL),
        }
    }
    f.done()
}

/// The backward's roundings, relative to the size of its terms (below); below the smallest
/// normal f32 anything goes, as WGSL lets a device flush subnormals to zero (SwiftShader does:
/// a dx of 1.16e-38 in a row of 1e37 came back 0 in Chromium).
const LAYER_NORM_DX_TOL: Tol = Tol {
    abs: f32::MIN_POSITIVE as f64,
    rel: 2e-5,
};

/// r (|g| + |mean g| + (|x̂| + r |μ| ulp-scale) |mean g x̂|) per element, g = dy ⊙ γ: the terms
/// of dx = r (g − mean g − x̂ mean(g x̂)), with x̂ carrying the rounding of x − μ.
fn layer_norm_dx_scale(x: &[f64], gamma: &[f64], dy: &[f64], eps: f64) -> Vec<f64> {
    let n = gamma.len();
    let mut scale = Vec::with_capacity(x.len());
    for (row, d) in x.chunks(n).zip(dy.chunks(n)) {
        let mean = row.iter().sum::<f64>() / n as f64;
        let var = row.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64;
        let r = 1.0 / (var + eps).sqrt();
        let g: Vec<f64> = (0..n).map(|j| (d[j] * gamma[j]).abs()).collect();
        let xhat = |j: usize| r * ((row[j] - mean).abs() + row[j].abs() + mean.abs());
        let mg = g.iter().sum::<f64>() / n as f64;
        let mgx = (0..n).map(|j| g[j] * xhat(j)).sum::<f64>() / n as f64;
        scale.extend((0..n).map(|j| r * (g[j] + mg + xhat(j) * mgx + mgx)));
    }
    scale
}

/// |γ| r (|x| + |μ| + mean |x|) + |β| per element: x − μ cancels, so its rounding is relative
/// to the size of the terms, and μ's to the row's mean magnitude.
fn layer_norm_scale(x: &[f64], gamma: &[f64], beta: &[f64], eps: f64) -> Vec<f64> {
    let n = gamma.len();
    x.chunks(n)
        .flat_map(|row| {
            let mean = row.iter().sum::<f64>() / n as f64;
            let var = row.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64;
            let r = 1.0 / (var + eps).sqrt();
            // μ's own rounding is relative to the row's mean magnitude, not to |μ|.
            let size = row.iter().map(|v| v.abs()).sum::<f64>() / n as f64 + mean.abs();
            (0..n).map(move |j| gamma[j].abs() * r * (row[j].abs() + size) + beta[j].abs())
        })
        .collect()
}

async fn cross_entropy(gpu: &Gpu) -> super::Row {
    let mut f = Family::new(
        "cross_entropy",
        "non-finite logits, each kernel (loss, dL/dz)",
    );
    let mut rng = Rng::new(73);
    let tol = Tol {
        abs: 1e-12,
        rel: 1e-5,
    };
    for kernel in [
        RowKernel::PerWorkgroup,
        RowKernel::PerInvocation,
        RowKernel::Subgroup,
    ] {
        for c in [1, 10, 300] {
            let x = adversarial(&mut rng, c);
            // One batch per adversarial row, between two ordinary ones: the loss of each batch
            // and the gradient of all three rows.
            for bad in 1..9 {
                let mut z = x[..c].to_vec();
                z.extend_from_slice(&x[bad * c..(bad + 1) * c]);
                z.extend_from_slice(&x[..c]);
                let labels = [0, (c - 1) as u32, (c / 3) as u32];
                let (loss64, grad64) = reference::cross_entropy(&reference::to_f64(&z), &labels, c);
                let got = f
                    .time(async {
                        let t = Tensor::from_slice(gpu, &z, &[3, c])?;
                        let l = Labels::new(gpu, &labels)?;
                        let (loss, grad) =
                            SoftmaxCrossEntropy::new().forward_backward_with(kernel, &t, &l)?;
                        Result::Ok([loss.read().await?, grad.read().await?])
                    })
                    .await;
                let case = format!("{kernel:?} 3x{c} row {bad}");
                match got {
                    Ok([loss, grad]) => {
                        f.check(&format!("{case} loss"), Ok(loss), &[loss64], None, tol);
                        f.check(&format!("{case} grad"), Ok(grad), &grad64, None, tol);
                    }
                    Err(e) => f.check(&case, Err(e), &grad64, None, tol),
                }
            }
        }
    }
    f.done()
}

/// Pools over windows of +inf, -inf only, both infinities (average: NaN), NaN beside +inf, and
/// four f32::MAX (whose average must not overflow).
async fn pools(gpu: &Gpu) -> super::Row {
    let mut f = Family::new("maxpool2d, avgpool2d", "non-finite: +-inf windows (exact)");
    let mut rng = Rng::new(74);
    let (n, c, h, w) = (1, 2, 6, 6);
    let (mut x, _) = integers(&mut rng, n * c * h * w, 4);
    for (i, v) in [
        (0, INF),
        (7, -INF),
        (2, -INF),
        (3, -INF),
        (8, -INF),
        (9, -INF),
    ] {
        x[i] = v;
    }
    (x[14], x[15]) = (INF, -INF);
    (x[26], x[27], x[32], x[33]) = (BIG, BIG, BIG, BIG);
    (x[40], x[41]) = (f32::NAN, INF);
    let x64 = reference::to_f64(&x);
    for (kind, max, k, stride) in [
        (Pool::Max, true, 2, 2),
        (Pool::Avg, false, 2, 2),
        (Pool::Max, true, 3, 1),
    ] {
        let shape = (n * c, h, w);
        let (want, _) = reference::pool2d(max, &x64, shape, (k, stride));
        let y = f
            .time(async {
                let t = Tensor::from_slice(gpu, &x, &[n, c, h, w])?;
                ops::pool2d(kind, &t, k, stride)?.0.read().await
            })
            .await;
        let case = format!("{kind:?} {n}x{c}x{h}x{w} k{k} s{stride}");
        f.check(&case, y, &want, None, EXACT);
    }
    f.done()
}
