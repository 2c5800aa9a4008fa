//! `gradcheck`: the analytic backward of a layer against central finite differences of its GPU
//! forward, for the input and for every parameter.
//!
//! With a fixed random r, L(x) = Σ_i r_i·y_i(x) is summed in f64 on the host from the GPU's
//! forward output. The analytic gradient is `backward(r)` (and the parameter gradients it
//! stores); the numeric one is (L(x + h·e_j) − L(x − h·e_j)) / 2h for every element j.

use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::layer::Layer;
use crate::rng::Rng;
use crate::tensor::{check_shape, Tensor};

/// Step of the central differences. Inputs are drawn with |x| ≥ 0.1, so ReLU's kink at 0 is
/// never straddled; f32 forwards make the differences accurate to roughly 1e-3 relative.
const H: f64 = 1e-2;

/// The worst relative error |numeric − analytic| / max(|numeric|, |analytic|, 1e-3) over every
/// element of dL/dx and of each parameter's gradient, for a random input of `input_shape`.
pub fn gradcheck(layer: &mut dyn Layer, input_shape: &[usize], seed: u64) -> Result<f64> {
    const OP: &str = "gradcheck";
    let n = check_shape(OP, input_shape)?;
    let gpu = match layer.parameters().first() {
        Some(p) => p.value.gpu().clone(),
        None => Gpu::new()?,
    };
    let mut rng = Rng::new(seed);
    let x: Vec<f32> = (0..n)
        .map(|_| {
            let v = rng.uniform(0.1, 1.0);
            if rng.next_u64().is_multiple_of(2) {
                v
            } else {
                -v
            }
        })
        .collect();
    let y = layer.forward(&Tensor::from_slice(&gpu, &x, input_shape)?)?;
    let r: Vec<f32> = (0..y.len()).map(|_| rng.uniform(-1.0, 1.0)).collect();
    let dx = layer
        .backward(&Tensor::from_slice(&gpu, &r, y.shape())?)?
        .to_vec()?;
    let grads: Vec<Vec<f32>> = layer
        .parameters()
        .iter()
        .map(|p| {
            p.grad
                .ok_or(Error::BackwardBeforeForward { op: OP })?
                .to_vec()
        })
        .collect::<Result<_>>()?;

    let loss = |layer: &mut dyn Layer, x: &[f32]| -> Result<f64> {
        let y = layer
            .forward(&Tensor::from_slice(&gpu, x, input_shape)?)?
            .to_vec()?;
        Ok(y.iter()
            .zip(&r)
            .map(|(&a, &b)| f64::from(a) * f64::from(b))
            .sum())
    };
    let mut worst = 0.0f64;
    let mut xp = x.clone();
    for j in 0..n {
        xp[j] = x[j] + H as f32;
        let up = loss(layer, &xp)?;
        xp[j] = x[j] - H as f32;
        let down = loss(layer, &xp)?;
        xp[j] = x[j];
        worst = worst.max(rel_error((up - down) / (2.0 * H), dx[j]));
    }
    for (i, grad) in grads.iter().enumerate() {
        worst = worst.max(check_parameter(&gpu, layer, i, grad, &|l| loss(l, &x))?);
    }
    Ok(worst)
}

/// Perturbs parameter `i` element by element (in place on the GPU), restoring it at the end.
fn check_parameter(
    gpu: &Gpu,
    layer: &mut dyn Layer,
    i: usize,
    grad: &[f32],
    loss: &dyn Fn(&mut dyn Layer) -> Result<f64>,
) -> Result<f64> {
    const OP: &str = "gradcheck";
    let (buffer, original) = {
        let params = layer.parameters();
        let p = params.get(i).ok_or(Error::InvalidArgument {
            op: OP,
            message: "parameters changed".into(),
        })?;
        (p.value.buffer().clone(), p.value.to_vec()?)
    };
    let mut worst = 0.0f64;
    let mut w = original.clone();
    let mut result = Ok(());
    for j in 0..original.len() {
        let mut at = |v: f32, w: &mut Vec<f32>| -> Result<f64> {
            w[j] = v;
            gpu.upload(OP, &buffer, bytemuck::cast_slice(w))?;
            loss(layer)
        };
        match (
            at(original[j] + H as f32, &mut w),
            at(original[j] - H as f32, &mut w),
        ) {
            (Ok(up), Ok(down)) => worst = worst.max(rel_error((up - down) / (2.0 * H), grad[j])),
            (Err(e), _) | (_, Err(e)) => {
                result = Err(e);
                break;
            }
        }
        w[j] = original[j];
    }
    gpu.upload(OP, &buffer, bytemuck::cast_slice(&original))?;
    result.map(|()| worst)
}

fn rel_error(numeric: f64, analytic: f32) -> f64 {
    let a = f64::from(analytic);
    (numeric - a).abs() / numeric.abs().max(a.abs()).max(1e-3)
}
