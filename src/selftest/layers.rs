//! The layer rows of the self-check: the lab's SoftMax numbers, and Linear, SoftMax and ReLU
//! forward and backward through the fused kernels and through the explicit Jacobian, against
//! the f64 reference (Linear also its weight and bias gradients).

use super::{floats, Family, Options, Row, Rows, Tol};
use crate::error::Result;
use crate::gpu::Gpu;
use crate::layer::Layer;
use crate::neurons::Linear;
use crate::nodes::{ReLU, SoftMax};
use crate::reference;
use crate::rng::Rng;
use crate::tensor::Tensor;

/// What the lab printed for softmax([0, 1, 2, 3, 4]) and its backward from [1, 2, 3, 2, 1].
const LAB_Y: [f64; 5] = [0.01165623, 0.03168492, 0.08612854, 0.23412166, 0.63640865];
const LAB_DX: [f64; 5] = [-0.00510617, 0.01780491, 0.1345273, 0.13156147, -0.27878751];
/// Eight printed decimals, plus f32's spacing near 0.64.
const PRINTED: Tol = Tol {
    abs: 5e-9 + 1e-7,
    rel: 0.0,
};
/// f32 products of short rows against f64, relative to Σ|a||b|.
const LINEAR_TOL: Tol = Tol {
    abs: 1e-30,
    rel: 1e-5,
};

pub(super) async fn run(gpu: &Gpu, options: &Options, rows: &mut Rows<'_>) {
    rows.push(lab(gpu).await);
    rows.push(linear(gpu, options).await);
    rows.push(nodes_jacobian(gpu).await);
}

async fn lab(gpu: &Gpu) -> Row {
    let mut f = Family::new("SoftMax layer", "the lab's numbers (direct, Jacobian)");
    let run = async || -> Result<[Vec<f32>; 3]> {
        let x = Tensor::from_slice(gpu, &[0.0, 1.0, 2.0, 3.0, 4.0], &[5])?;
        let dy = Tensor::from_slice(gpu, &[1.0, 2.0, 3.0, 2.0, 1.0], &[5])?;
        let mut sm = SoftMax::new();
        let y = sm.forward(&x)?.read().await?;
        let dx = sm.backward(&dy)?.read().await?;
        Ok([y, dx, sm.backward_jacobian(&dy)?.read().await?])
    };
    match f.time(run()).await {
        Ok([y, dx, dxj]) => {
            f.check("y", Ok(y), &LAB_Y, None, PRINTED);
            f.check("dL/dx", Ok(dx), &LAB_DX, None, PRINTED);
            f.check("dL/dx (Jacobian)", Ok(dxj), &LAB_DX, None, PRINTED);
        }
        Err(e) => f.fail("lab", &e),
    }
    f.done()
}

/// Linear on shapes around the tiles: y, dX, dW, db, and dX, dW, db through Jacobians.
async fn linear(gpu: &Gpu, options: &Options) -> Row {
    let mut f = Family::new("Linear layer", "forward, backward, Jacobian path");
    let mut shapes = vec![(1, 1, 1), (3, 5, 7), (17, 64, 10), (33, 65, 63)];
    if !options.quick {
        // Its Jacobians stay under the 2^26-element cap and within WebGPU's 128 MiB binding.
        shapes.push((48, 96, 80));
    }
    let mut rng = Rng::new(41);
    for (batch, k, n) in shapes {
        let (x, x64) = floats(&mut rng, batch * k, -1.0, 1.0);
        let (w, w64) = floats(&mut rng, k * n, -1.0, 1.0);
        let (b, b64) = floats(&mut rng, n, -1.0, 1.0);
        let (dy, dy64) = floats(&mut rng, batch * n, -1.0, 1.0);
        let case = format!("{batch}x{k}->{n}");
        let got = f
            .time(linear_case(gpu, (batch, k, n), [&x, &w, &b, &dy]))
            .await;
        let (got, jac) = match got {
            Ok(g) => g,
            Err(e) => {
                f.fail(&case, &e);
                continue;
            }
        };
        let abs = |v: &[f64]| v.iter().map(|a| a.abs()).collect::<Vec<_>>();
        let y = reference::linear(&x64, &w64, &b64, k, n);
        let y_scale = reference::linear(&abs(&x64), &abs(&w64), &abs(&b64), k, n);
        let (dx, dw, db) = reference::linear_backward(&x64, &w64, &dy64, k, n);
        let (sx, sw, sb) = reference::linear_backward(&abs(&x64), &abs(&w64), &abs(&dy64), k, n);
        let wants = [(&y, &y_scale), (&dx, &sx), (&dw, &sw), (&db, &sb)];
        for (what, (g, (want, scale))) in ["y", "dX", "dW", "db"]
            .iter()
            .zip(got.into_iter().zip(wants))
        {
            f.check(
                &format!("{case} {what}"),
                Ok(g),
                want,
                Some(scale),
                LINEAR_TOL,
            );
        }
        let wants = [(&dx, &sx), (&dw, &sw), (&db, &sb)];
        for (what, (g, (want, scale))) in ["dX", "dW", "db"].iter().zip(jac.into_iter().zip(wants))
        {
            let name = format!("{case} {what} (Jacobian)");
            f.check(&name, Ok(g), want, Some(scale), LINEAR_TOL);
        }
    }
    f.done()
}

/// [y, dX, dW, db] directly and [dX, dW, db] through Jacobians.
#[allow(clippy::type_complexity)]
async fn linear_case(
    gpu: &Gpu,
    (batch, k, n): (usize, usize, usize),
    [x, w, b, dy]: [&[f32]; 4],
) -> Result<([Vec<f32>; 4], [Vec<f32>; 3])> {
    let mut layer = Linear::from_parts(gpu, k, n, w, b)?;
    let xt = Tensor::from_slice(gpu, x, &[batch, k])?;
    let dyt = Tensor::from_slice(gpu, dy, &[batch, n])?;
    let y = layer.forward(&xt)?.read().await?;
    let dx = layer.backward(&dyt)?.read().await?;
    let [dw, db] = linear_grads(&layer).await?;
    let dxj = layer.backward_jacobian(&dyt)?.read().await?;
    let [dwj, dbj] = linear_grads(&layer).await?;
    Ok(([y, dx, dw, db], [dxj, dwj, dbj]))
}

/// Linear's weight and bias gradients, read back.
async fn linear_grads(l: &Linear) -> Result<[Vec<f32>; 2]> {
    let missing = || crate::Error::BackwardBeforeForward { op: "Linear" };
    Ok([
        l.weight_grad().ok_or_else(missing)?.read().await?,
        l.bias_grad().ok_or_else(missing)?.read().await?,
    ])
}

/// SoftMax and ReLU: the Jacobian path against the f64 backward.
async fn nodes_jacobian(gpu: &Gpu) -> Row {
    let mut f = Family::new("SoftMax, ReLU layers", "backward through the Jacobian");
    let mut rng = Rng::new(43);
    for (rows, cols) in [(1, 1), (3, 7), (4, 33)] {
        let (x, x64) = floats(&mut rng, rows * cols, -3.0, 3.0);
        let (g, g64) = floats(&mut rng, rows * cols, -1.0, 1.0);
        let shape = [rows, cols];
        let run = async |layer: &mut dyn Layer| -> Result<Vec<f32>> {
            layer.forward(&Tensor::from_slice(gpu, &x, &shape)?)?;
            layer
                .backward_jacobian(&Tensor::from_slice(gpu, &g, &shape)?)?
                .read()
                .await
        };
        let y64 = reference::softmax(&x64, cols);
        let want = reference::softmax_backward(&y64, &g64, cols);
        let tol = Tol {
            abs: 1e-7,
            rel: 3e-5,
        };
        let got = f.time(run(&mut SoftMax::new())).await;
        f.check(&format!("softmax {rows}x{cols}"), got, &want, None, tol);
        let want = reference::relu_backward(&x64, &g64);
        let got = f.time(run(&mut ReLU::new())).await;
        f.check(
            &format!("relu {rows}x{cols}"),
            got,
            &want,
            None,
            super::EXACT,
        );
    }
    f.done()
}
