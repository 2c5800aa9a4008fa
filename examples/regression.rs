//! Regression with mean squared error: an MLP (1→32→ReLU→32→ReLU→1) learns y = sin(x) on
//! [−π, π] from 256 points, a step at a time through the lower-level API (forward, loss,
//! backward, optimizer step), reading the loss back only every 200 steps.
//!
//!     cargo run --release --example regression

use wgpu_backprop::loss::MeanSquaredError;
use wgpu_backprop::model::Sequential;
use wgpu_backprop::optim::{Adam, Optimizer};
use wgpu_backprop::{Gpu, Layer, Result, Tensor};

fn main() -> Result<()> {
    let gpu = Gpu::new()?;
    let n = 256;
    let xs: Vec<f32> = (0..n)
        .map(|i| -std::f32::consts::PI + 2.0 * std::f32::consts::PI * i as f32 / (n - 1) as f32)
        .collect();
    let ys: Vec<f32> = xs.iter().map(|x| x.sin()).collect();
    let x = Tensor::from_slice(&gpu, &xs, &[n, 1])?;
    let y = Tensor::from_slice(&gpu, &ys, &[n, 1])?;

    let mut model = Sequential::mlp(&gpu, &[1, 32, 32, 1], 3)?;
    let mut adam = Adam::new(1e-2);
    let mut first = None;
    for step in 0..=1000 {
        let pred = model.forward(&x)?;
        let (loss, grad) = MeanSquaredError.forward_backward(&pred, &y)?;
        model.backward(&grad)?;
        adam.step(&mut model.parameters_mut())?;
        if step % 200 == 0 {
            let l = loss.to_vec()?[0];
            first.get_or_insert(l);
            println!("step {step:>4}: mse {l:.5}");
        }
    }
    let fit = model.forward(&x)?.to_vec()?;
    let worst = fit
        .iter()
        .zip(&ys)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    println!("largest |model(x) − sin(x)| over the 256 points: {worst:.3}");
    println!("mse fell from {:.4}", first.unwrap_or(f32::NAN));
    Ok(())
}
