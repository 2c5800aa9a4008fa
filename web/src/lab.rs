//! The lab "Vector and Matrix Backpropagation" on the browser's GPU: SoftMax of [0, 1, 2, 3, 4]
//! with dL/dy = [1, 2, 3, 2, 1], ReLU of [0, -1, 2, -1, 4] (ReLU'(0) = 0), and Linear (2 → 5,
//! seeded weights) on a batch of 3, each forward, backward and backward through the explicit
//! Jacobian, beside the f64 reference; SoftMax also beside the numbers the lab printed.

use serde_json::{json, Value};
use wgpu_backprop::neurons::Linear;
use wgpu_backprop::nodes::{ReLU, SoftMax};
use wgpu_backprop::{reference, Gpu, Layer, Result, Tensor};

/// What the lab printed for SoftMax (eight decimals).
const LAB_Y: [f64; 5] = [0.01165623, 0.03168492, 0.08612854, 0.23412166, 0.63640865];
const LAB_DX: [f64; 5] = [-0.00510617, 0.01780491, 0.1345273, 0.13156147, -0.27878751];
/// What the lab printed for ReLU.
const LAB_RELU_Y: [f64; 5] = [0.0, 0.0, 2.0, 0.0, 4.0];
const LAB_RELU_DX: [f64; 5] = [0.0, 0.0, 3.0, 0.0, 1.0];

/// One printed quantity: the GPU's values, the f64 reference, the lab's (if it printed them),
/// and the largest difference from the reference.
fn entry(name: &str, gpu: &[f32], reference: &[f64], lab: Option<&[f64]>) -> Value {
    let max_diff = gpu
        .iter()
        .zip(reference)
        .map(|(&g, &r)| (f64::from(g) - r).abs())
        .fold(0.0, f64::max);
    json!({ "name": name, "gpu": gpu, "reference": reference, "lab": lab, "max_diff": max_diff })
}

fn to_f64(v: &[f32]) -> Vec<f64> {
    v.iter().map(|&x| f64::from(x)).collect()
}

/// The three parts as JSON: `{ "adapter", "parts": [{ "layer", "entries": [...] }] }`.
pub(crate) async fn run(gpu: &Gpu) -> Result<String> {
    let parts = vec![softmax(gpu).await?, relu(gpu).await?, linear(gpu).await?];
    Ok(json!({ "adapter": gpu.adapter_name(), "parts": parts }).to_string())
}

async fn softmax(gpu: &Gpu) -> Result<Value> {
    let (x, g) = ([0.0, 1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 2.0, 1.0]);
    let mut sm = SoftMax::new();
    let y = sm.forward(&Tensor::from_slice(gpu, &x, &[5])?)?;
    let dy = Tensor::from_slice(gpu, &g, &[5])?;
    let dx = sm.backward(&dy)?;
    let dxj = sm.backward_jacobian(&dy)?;
    let y64 = reference::softmax(&to_f64(&x), 5);
    let dx64 = reference::softmax_backward(&y64, &to_f64(&g), 5);
    Ok(json!({ "layer": "SoftMax", "entries": [
        entry("y", &y.to_vec_async().await?, &y64, Some(&LAB_Y)),
        entry("dL/dx", &dx.to_vec_async().await?, &dx64, Some(&LAB_DX)),
        entry("dL/dx (Jacobian)", &dxj.to_vec_async().await?, &dx64, Some(&LAB_DX)),
    ]}))
}

async fn relu(gpu: &Gpu) -> Result<Value> {
    let (x, g) = ([0.0, -1.0, 2.0, -1.0, 4.0], [1.0, 2.0, 3.0, 2.0, 1.0]);
    let mut relu = ReLU::new();
    let y = relu.forward(&Tensor::from_slice(gpu, &x, &[5])?)?;
    let dy = Tensor::from_slice(gpu, &g, &[5])?;
    let dx = relu.backward(&dy)?;
    let dxj = relu.backward_jacobian(&dy)?;
    let y64 = reference::relu(&to_f64(&x));
    let dx64 = reference::relu_backward(&to_f64(&x), &to_f64(&g));
    Ok(json!({ "layer": "ReLU", "entries": [
        entry("y", &y.to_vec_async().await?, &y64, Some(&LAB_RELU_Y)),
        entry("dL/dx", &dx.to_vec_async().await?, &dx64, Some(&LAB_RELU_DX)),
        entry("dL/dx (Jacobian)", &dxj.to_vec_async().await?, &dx64, Some(&LAB_RELU_DX)),
    ]}))
}

async fn linear(gpu: &Gpu) -> Result<Value> {
    let (k, n) = (2, 5);
    let x = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6];
    let g: Vec<f32> = (0..15).map(|i| 0.1 * (i % 4) as f32 + 0.25).collect();
    let mut layer = Linear::with_seed(gpu, k, n, 7)?;
    let w = layer.weight().to_vec_async().await?;
    let b = layer.bias().to_vec_async().await?;
    let y = layer.forward(&Tensor::from_slice(gpu, &x, &[3, k])?)?;
    let dy = Tensor::from_slice(gpu, &g, &[3, n])?;
    let dx = layer.backward(&dy)?.to_vec_async().await?;
    let missing = || wgpu_backprop::Error::BackwardBeforeForward { op: "Linear" };
    let dw = layer
        .weight_grad()
        .ok_or_else(missing)?
        .to_vec_async()
        .await?;
    let db = layer
        .bias_grad()
        .ok_or_else(missing)?
        .to_vec_async()
        .await?;
    let dxj = layer.backward_jacobian(&dy)?.to_vec_async().await?;
    let dwj = layer
        .weight_grad()
        .ok_or_else(missing)?
        .to_vec_async()
        .await?;
    let (x64, w64, g64) = (to_f64(&x), to_f64(&w), to_f64(&g));
    let y64 = reference::linear(&x64, &w64, &to_f64(&b), k, n);
    let (dx64, dw64, db64) = reference::linear_backward(&x64, &w64, &g64, k, n);
    Ok(json!({ "layer": "Linear (2 → 5, batch 3)", "entries": [
        entry("Y", &y.to_vec_async().await?, &y64, None),
        entry("dL/dX", &dx, &dx64, None),
        entry("dL/dW", &dw, &dw64, None),
        entry("dL/db", &db, &db64, None),
        entry("dL/dX (Jacobian)", &dxj, &dx64, None),
        entry("dL/dW (Jacobian)", &dwj, &dw64, None),
    ]}))
}
