//! A layer of your own, written with the crate's ops: a residual block y = x + Linear(ReLU(x)).
//! It implements `Layer` (forward, backward, the Jacobian path, parameters), so it trains in a
//! `Sequential` like the built-in ones, and `gradcheck` compares its analytic gradients with
//! finite differences.
//!
//!     cargo run --example custom_layer

use wgpu_backprop::neurons::Linear;
use wgpu_backprop::nodes::ReLU;
use wgpu_backprop::{gradcheck, ops, Gpu, Layer, Parameter, Result, Tensor};

/// y = x + Linear(ReLU(x)) with a square Linear (n → n).
struct Residual {
    relu: ReLU,
    linear: Linear,
}

impl Layer for Residual {
    fn name(&self) -> &'static str {
        "Residual"
    }

    // x: (B, n) → y: (B, n).
    fn forward(&mut self, x: &Tensor) -> Result<Tensor> {
        let y = self.linear.forward(&self.relu.forward(x)?)?;
        ops::add_assign(&y, x)?; // y is ours, fresh from the op: adding in place is safe
        Ok(y)
    }

    // dx = dy + ReLU'(x) ⊙ (dy · Wᵀ); the Linear keeps dW and db.
    fn backward(&mut self, dy: &Tensor) -> Result<Tensor> {
        let dx = self.relu.backward(&self.linear.backward(dy)?)?;
        ops::add_assign(&dx, dy)?;
        Ok(dx)
    }

    fn backward_jacobian(&mut self, dy: &Tensor) -> Result<Tensor> {
        let dx = self
            .relu
            .backward_jacobian(&self.linear.backward_jacobian(dy)?)?;
        ops::add_assign(&dx, dy)?;
        Ok(dx)
    }

    // J = I + J_linear · J_relu.
    fn jacobian(&self) -> Result<Tensor> {
        let j = ops::matmul(&self.linear.jacobian()?, &self.relu.jacobian()?)?;
        let n = j.shape()[0];
        let eye: Vec<f32> = (0..n * n)
            .map(|i| if i % (n + 1) == 0 { 1.0 } else { 0.0 })
            .collect();
        ops::add_assign(&j, &Tensor::from_slice(j.gpu(), &eye, &[n, n])?)?;
        Ok(j)
    }

    fn parameters(&self) -> Vec<Parameter<'_>> {
        self.linear.parameters()
    }
}

fn main() -> Result<()> {
    let gpu = Gpu::new()?;
    let mut block = Residual {
        relu: ReLU::new(),
        linear: Linear::with_seed(&gpu, 6, 6, 1)?,
    };
    let worst = gradcheck(&mut block, &[4, 6], 0)?;
    println!("Residual: worst relative gradient error vs finite differences {worst:.1e}");
    assert!(worst < 5e-3, "gradcheck failed: {worst}");

    let x = Tensor::from_slice(&gpu, &[0.5, -1.0, 2.0, 0.0, 1.5, -0.5], &[1, 6])?;
    let dy = Tensor::from_slice(&gpu, &[1.0, 0.0, -1.0, 2.0, 0.5, 1.0], &[1, 6])?;
    block.forward(&x)?;
    let fused = block.backward(&dy)?.to_vec()?;
    let via_j = block.backward_jacobian(&dy)?.to_vec()?;
    println!("dL/dx fused      {fused:?}\ndL/dx (Jacobian) {via_j:?}");
    Ok(())
}
