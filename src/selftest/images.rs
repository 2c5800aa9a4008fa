//! The image rows of the self-check: Conv2d forward and backward (dx, dW, db) over shapes that
//! break the lowering (1, primes, stride > kernel, padding ≥ kernel, 1×1, kernel = image), and
//! max and average pooling forward and backward (2×2 and overlapping 3×3 windows). Integer
//! data, so every sum is exact in f32: the rows must agree to the bit (average pooling divides
//! by 4, also exact).

use super::{integers, Family, Options, Row, Rows, EXACT};
use crate::error::Result;
use crate::gpu::Gpu;
use crate::ops::{self, ConvKernel, Pool};
use crate::reference::{self, Conv};
use crate::rng::Rng;
use crate::tensor::Tensor;

pub(super) async fn run(gpu: &Gpu, options: &Options, rows: &mut Rows<'_>) {
    rows.push(conv2d(gpu, options).await);
    for kernel in [ConvKernel::Explicit, ConvKernel::Implicit] {
        rows.push(conv2d_forward(gpu, options, kernel).await);
    }
    rows.push(pools(gpu).await);
}

/// The forward on a forced kernel, over the shapes above and two that fill the implicit GEMM's
/// 64×128 tiles exactly (no edge checks) or pass one row of tiles (130 output channels).
async fn conv2d_forward(gpu: &Gpu, options: &Options, kernel: ConvKernel) -> Row {
    let name = format!("conv2d {kernel:?}").to_lowercase();
    let mut f = Family::new(&name, "forward, dx; whole tiles, 3 row tiles (exact)");
    let mut rng = Rng::new(63);
    let mut shapes = conv_shapes(options.quick);
    shapes.extend([[2, 16, 16, 16, 64, 3, 1, 1], [1, 4, 9, 9, 130, 3, 2, 2]]);
    for [n, c, h, w, out, k, stride, pad] in shapes {
        let g = Conv {
            n,
            c,
            h,
            w,
            out,
            k,
            stride,
            pad,
        };
        let (x, x64) = integers(&mut rng, n * c * h * w, 3);
        let (wt, w64) = integers(&mut rng, out * c * k * k, 3);
        let (b, b64) = integers(&mut rng, out, 3);
        let (ho, wo) = g.out_hw();
        let (dy, dy64) = integers(&mut rng, n * out * ho * wo, 3);
        let got = f
            .time(async {
                let tx = Tensor::from_slice(gpu, &x, &[n, c, h, w])?;
                let tw = Tensor::from_slice(gpu, &wt, &[out, c, k, k])?;
                let tb = Tensor::from_slice(gpu, &b, &[out])?;
                let y = ops::conv2d_with(kernel, &tx, &tw, Some(&tb), (stride, pad))?;
                let tdy = Tensor::from_slice(gpu, &dy, &[n, out, ho, wo])?;
                let (dx, _, _) = ops::conv2d_backward_with(kernel, &tx, &tw, &tdy, (stride, pad))?;
                Result::Ok([y.read().await?, dx.read().await?])
            })
            .await;
        let (want, _) = reference::conv2d(&g, &x64, &w64, &b64);
        let ((want_dx, _), _, _) = reference::conv2d_backward(&g, &x64, &w64, &dy64);
        let case = format!("{n}x{c}x{h}x{w}->{out} k{k} s{stride} p{pad}");
        match got {
            Ok([y, dx]) => {
                f.check(&format!("{case} y"), Ok(y), &want, None, EXACT);
                f.check(&format!("{case} dx"), Ok(dx), &want_dx, None, EXACT);
            }
            Err(e) => f.check(&case, Err(e), &want, None, EXACT),
        }
    }
    f.done()
}

/// (n, c, h, w, out, k, stride, pad).
fn conv_shapes(quick: bool) -> Vec<[usize; 8]> {
    let mut shapes = vec![
        [1, 1, 1, 1, 1, 1, 1, 0],
        [2, 3, 5, 7, 4, 3, 1, 1],
        [3, 2, 8, 8, 5, 3, 2, 1],
        [1, 3, 7, 5, 2, 2, 3, 0],
        [2, 1, 4, 4, 3, 2, 1, 3],
        [3, 2, 5, 5, 4, 5, 1, 0],
    ];
    if !quick {
        shapes.extend([
            [2, 5, 6, 6, 7, 1, 1, 0],
            [4, 16, 9, 9, 32, 3, 1, 1],
            [1, 32, 14, 14, 32, 3, 1, 1],
        ]);
    }
    shapes
}

async fn conv2d(gpu: &Gpu, options: &Options) -> Row {
    let mut f = Family::new("conv2d", "forward, dx, dW, db (exact)");
    let mut rng = Rng::new(61);
    for [n, c, h, w, out, k, stride, pad] in conv_shapes(options.quick) {
        let g = Conv {
            n,
            c,
            h,
            w,
            out,
            k,
            stride,
            pad,
        };
        let (ho, wo) = g.out_hw();
        let (x, x64) = integers(&mut rng, n * c * h * w, 3);
        let (wt, w64) = integers(&mut rng, out * c * k * k, 3);
        let (b, b64) = integers(&mut rng, out, 3);
        let (dy, dy64) = integers(&mut rng, n * out * ho * wo, 3);
        let case = format!("{n}x{c}x{h}x{w}->{out} k{k} s{stride} p{pad}");
        let run = async || -> Result<[Vec<f32>; 4]> {
            let tx = Tensor::from_slice(gpu, &x, &[n, c, h, w])?;
            let tw = Tensor::from_slice(gpu, &wt, &[out, c, k, k])?;
            let tb = Tensor::from_slice(gpu, &b, &[out])?;
            let y = ops::conv2d(&tx, &tw, Some(&tb), stride, pad)?;
            let tdy = Tensor::from_slice(gpu, &dy, &[n, out, ho, wo])?;
            let (dx, dw, db) = ops::conv2d_backward(&tx, &tw, &tdy, stride, pad)?;
            Ok([
                y.read().await?,
                dx.read().await?,
                dw.read().await?,
                db.read().await?,
            ])
        };
        let got = f.time(run()).await;
        let (want_y, _) = reference::conv2d(&g, &x64, &w64, &b64);
        let ((wx, _), (ww, _), (wb, _)) = reference::conv2d_backward(&g, &x64, &w64, &dy64);
        let wants = [want_y, wx, ww, wb];
        match got {
            Ok(parts) => {
                for ((part, want), what) in
                    parts.into_iter().zip(&wants).zip(["y", "dx", "dW", "db"])
                {
                    f.check(&format!("{case} {what}"), Ok(part), want, None, EXACT);
                }
            }
            Err(e) => f.check(&case, Err(e), &wants[0], None, EXACT),
        }
    }
    f.done()
}

async fn pools(gpu: &Gpu) -> Row {
    let mut f = Family::new("maxpool2d, avgpool2d", "forward, backward, NaN (exact)");
    let mut rng = Rng::new(62);
    // (n, c, h, w, k, stride): tiling windows, overlapping ones, a prime-sized plane.
    for [n, c, h, w, k, stride] in [[2, 3, 8, 8, 2, 2], [1, 2, 7, 5, 3, 1], [3, 1, 13, 11, 2, 2]] {
        let (mut x, mut x64) = integers(&mut rng, n * c * h * w, 4);
        (x[5], x64[5]) = (f32::NAN, f64::NAN);
        let (ho, wo) = ((h - k) / stride + 1, (w - k) / stride + 1);
        let (dy, dy64) = integers(&mut rng, n * c * ho * wo, 4);
        let shape = (n * c, h, w);
        for (kind, max) in [(Pool::Max, true), (Pool::Avg, false)] {
            if !max && k != 2 {
                continue; // 1/9 is not exact in f32
            }
            let case = format!("{kind:?} {n}x{c}x{h}x{w} k{k} s{stride}");
            let (want_y, arg) = reference::pool2d(max, &x64, shape, (k, stride));
            let want_dx = reference::pool2d_backward(max, &dy64, &arg, shape, (k, stride));
            let run = async || -> Result<[Vec<f32>; 2]> {
                let tx = Tensor::from_slice(gpu, &x, &[n, c, h, w])?;
                let (y, arg) = ops::pool2d(kind, &tx, k, stride)?;
                let tdy = Tensor::from_slice(gpu, &dy, &[n, c, ho, wo])?;
                let dx = ops::pool2d_backward(kind, &[n, c, h, w], &tdy, arg.as_ref(), k, stride)?;
                Ok([y.read().await?, dx.read().await?])
            };
            match f.time(run()).await {
                Ok([y, dx]) => {
                    f.check(&format!("{case} y"), Ok(y), &want_y, None, EXACT);
                    f.check(&format!("{case} dx"), Ok(dx), &want_dx, None, EXACT);
                }
                Err(e) => f.check(&case, Err(e), &want_y, None, EXACT),
            }
        }
    }
    f.done()
}
